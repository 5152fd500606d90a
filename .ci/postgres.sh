#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 with trust auth for `postgres` and a
# database `test`: installs it from Debian's packages if missing, starts the cluster if down.
set -euo pipefail

ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "installing PostgreSQL"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
if [ -z "$version" ]; then
    echo "no PostgreSQL cluster under /etc/postgresql" >&2
    exit 1
fi
hba="/etc/postgresql/$version/main/pg_hba.conf"
if ! grep -Eq '^host +all +all +127\.0\.0\.1/32 +trust' "$hba"; then
    echo "allowing trust authentication from 127.0.0.1 (a CI-only cluster)"
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    if ready; then pg_ctlcluster --skip-systemctl-redirect "$version" main reload; fi
fi
if ! ready; then
    echo "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
for _ in $(seq 1 30); do
    ready && break
    sleep 1
done
ready || { echo "PostgreSQL did not come up" >&2; exit 1; }

if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE test'
fi
psql -h 127.0.0.1 -U postgres -d test -Atc 'SELECT version()'
