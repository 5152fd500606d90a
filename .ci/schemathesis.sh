#!/usr/bin/env bash
# Contract fuzzing: schemathesis (from PyPI, installed into target/ci-tools/schemathesis) runs
# against the OpenAPI document of a live server (the debug build, SQLite, limits off) with a
# valid token and the admin key. It fails on any 5xx and any answer that breaks its documented
# schema. Generation is deterministic so CI is repeatable. The hooks (.ci/schemathesis_hooks.py)
# sign webhook requests with the server's test secret, give most generate requests a model that
# exists and most id paths an id that exists, and print per operation how many cases reached a
# 2xx. Batches are queued but not run (BATCH_WORKERS=0): the fuzzer creates hundreds of items,
# and rendering them would only slow the run down.
set -euo pipefail
tools="$(pwd)/target/ci-tools"
venv="$tools/schemathesis"
if [ ! -x "$venv/bin/st" ]; then
    echo "installing schemathesis"
    mkdir -p "$tools"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis
fi
# CI passes PICTURE_SERVER_PREBUILT=1 right after `cargo test`, which built target/debug/picture-server.
if [ -z "${PICTURE_SERVER_PREBUILT:-}" ] || [ ! -x target/debug/picture-server ]; then
    cargo build --quiet -p picture-server
fi
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATA_DIR="$work/data" HOST=127.0.0.1 PORT="$port" RUST_LOG=warn \
    RATE_LIMIT_IP_PER_MINUTE=0 RATE_LIMIT_GENERATIONS_PER_MINUTE=0 \
    RATE_LIMIT_GENERATIONS_PER_DAY=0 ADMIN_SERVICE_KEY=schemathesis-admin BATCH_WORKERS=0 \
    REPLICATE_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
target/debug/picture-server serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break
    sleep 0.2
done
token=$(target/debug/picture-server token schemathesis | tail -n 1)
"$venv/bin/st" --version
# The hooks module is imported from .ci/; it reads the server's address, the token and the
# webhook secret. The caller's event stream (`GET /generate/events`) never ends by itself, so
# every case would wait out the request timeout: it is left out (tests/tests/api/events*.rs
# cover it); one generation's stream ends with its generation and is fuzzed.
PYTHONPATH="$(pwd)/.ci" SCHEMATHESIS_HOOKS=schemathesis_hooks \
PICTURE_BASE_URL="http://127.0.0.1:$port" PICTURE_TOKEN="$token" PICTURE_WEBHOOK_SECRET="$REPLICATE_WEBHOOK_SECRET" \
"$venv/bin/st" run "http://127.0.0.1:$port/api/docs/openapi.json" \
    --header "Authorization: Bearer $token" \
    --header "X-Service-Key: schemathesis-admin" \
    --checks not_a_server_error,response_schema_conformance \
    --exclude-path /api/v1/generate/events \
    --max-examples 30 --generation-deterministic --request-timeout 30
