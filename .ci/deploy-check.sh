#!/usr/bin/env bash
# Validates the deployment files with tools that can run here (no container engine, no cluster):
# the compose file against the Compose Specification schema (check-jsonschema's vendored copy),
# the Kubernetes manifests against the Kubernetes 1.30 schemas (kubernetes-validate, strict:
# unknown fields fail), and the Dockerfile parsed (dockerfile-parse) with a non-root USER and the
# release binary as entrypoint. Tools are installed into target/ci-tools/deploy-check.
set -euo pipefail
tools="$(pwd)/target/ci-tools"
venv="$tools/deploy-check"
if [ ! -x "$venv/bin/kubernetes-validate" ] || [ ! -x "$venv/bin/check-jsonschema" ]; then
    echo "installing check-jsonschema, kubernetes-validate, dockerfile-parse"
    mkdir -p "$tools"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        check-jsonschema kubernetes-validate dockerfile-parse
fi
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml
"$venv/bin/kubernetes-validate" --strict --kubernetes-version 1.30.0 deploy/k8s/*.yaml
"$venv/bin/python" - <<'PY'
from dockerfile_parse import DockerfileParser

parser = DockerfileParser(path="deploy/Dockerfile")
instructions = [i["instruction"] for i in parser.structure]
users = [i["value"] for i in parser.structure if i["instruction"] == "USER"]
assert instructions.count("FROM") >= 2, "a multi-stage build"
assert users and users[-1].split(":")[0] not in ("root", "0"), f"runs as root: {users}"
assert any(
    i["instruction"] == "ENTRYPOINT" and "picture-server" in i["value"] for i in parser.structure
), "the entrypoint is the server binary"
print(f"ok: deploy/Dockerfile, {len(instructions)} instructions, user {users[-1]}")
PY
