#!/usr/bin/env bash
# Peak memory of one upload: starts the server (SQLite and the local store in a temporary
# directory), warms it up with small uploads, then uploads FILE and reports how much the server
# process's peak resident set (VmHWM in /proc/PID/status) grew. Then a few more uploads of FILE,
# one after another and four at once, to show the peak does not add up per request.
#
#   bench/upload_rss.sh FILE.jpg [SERVER_BINARY]     (default target/release/picture-server)
set -euo pipefail

file=${1:?usage: bench/upload_rss.sh FILE.jpg [SERVER_BINARY]}
binary=${2:-target/release/picture-server}
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
export HOST=127.0.0.1 PORT=$port DATA_DIR=$work DATABASE_URL="sqlite://$work/picture.db" \
    HTTP_WORKERS=1 RUST_LOG=warn LOG_FORMAT=json
server=
cleanup() {
    [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

token=$("$binary" token bench-user | tail -n 1)
"$binary" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/health" >/dev/null && break
    sleep 0.1
done

kib() { awk -v key="$1:" '$1 == key { print $2 }' "/proc/$server/status"; }
upload() {
    curl -fs -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
        -F "file=@$1;type=image/jpeg" "http://127.0.0.1:$port/api/v1/upload"
}

# Warm-up: small uploads, so what start-up and the first request set up is not counted.
small="$work/small.jpg"
python3 - "$file" "$small" <<'EOF'
import sys
src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
# The header of FILE and a few KB of its data, closed: a small valid-looking JPEG.
start = data.index(b"\xff\xda")
open(dst, "wb").write(data[: start + 4096] + b"\xff\xd9")
EOF
for _ in 1 2 3; do upload "$small" >/dev/null; done

size=$(stat -c %s "$file")
before_hwm=$(kib VmHWM)
before_rss=$(kib VmRSS)
code=$(upload "$file")
after_hwm=$(kib VmHWM)
after_rss=$(kib VmRSS)
echo "file: $file, $size bytes; answer: $code"
echo "before: VmHWM ${before_hwm} KiB, VmRSS ${before_rss} KiB"
echo "after one upload: VmHWM ${after_hwm} KiB (+$(( (after_hwm - before_hwm) / 1024 )) MiB), VmRSS ${after_rss} KiB"
for _ in 1 2 3 4 5; do upload "$file" >/dev/null; done
echo "after 5 more, one after another: VmHWM $(kib VmHWM) KiB (+$(( ($(kib VmHWM) - before_hwm) / 1024 )) MiB)"
pids=()
for _ in 1 2 3 4; do upload "$file" >/dev/null & pids+=($!); done
wait "${pids[@]}"
echo "after 4 at once: VmHWM $(kib VmHWM) KiB (+$(( ($(kib VmHWM) - before_hwm) / 1024 )) MiB), VmRSS $(kib VmRSS) KiB"
