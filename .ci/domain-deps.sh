#!/usr/bin/env bash
# The domain crate must not depend on any adapter or framework (architecture.md): fail if any of
# these appear among its normal or build dependencies, with every feature on.
set -euo pipefail
forbidden='^(actix-[a-z-]+|actix|diesel|diesel-async|diesel_migrations|reqwest|rust-s3|hyper|tokio-postgres|libsqlite3-sys|deadpool|jsonwebtoken|config|tracing-subscriber|picture-persistence|picture-server) v'
tree=$(cargo tree -p picture-domain -e normal,build --all-features --prefix none)
if found=$(grep -E "$forbidden" <<<"$tree"); then
    echo "picture-domain depends on forbidden crates:" >&2
    sort -u <<<"$found" >&2
    exit 1
fi
for crate in diesel actix-web reqwest; do
    # `cargo tree -i` lists who depends on a crate; from picture-domain it must find nothing.
    if cargo tree -p picture-domain -e normal,build --all-features -i "$crate" 2>/dev/null | grep -q .; then
        echo "picture-domain reaches $crate" >&2
        exit 1
    fi
done
echo "ok: $(sort -u <<<"$tree" | wc -l) crates, none of them an adapter or framework"
