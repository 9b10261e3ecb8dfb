#!/usr/bin/env bash
# docs/catalog.json (and every catalog fixture) against
# schemas/catalog.schema.json with a second validator, check-jsonschema
# (Python jsonschema underneath), so the schema is not only ever read by the
# Rust `jsonschema` crate that the tests use. A broken copy must be rejected,
# so the step cannot pass by validating nothing.
# Installs check-jsonschema into a virtualenv under $VENV (default /tmp/catalog-schema-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-/tmp/catalog-schema-venv}
if [ ! -x "$VENV/bin/check-jsonschema" ]; then
  python3 -m venv "$VENV" >/dev/null
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'check-jsonschema>=0.29' >/dev/null
fi
check() { "$VENV/bin/check-jsonschema" --schemafile schemas/catalog.schema.json "$@"; }

check docs/catalog.json
mapfile -t fixtures < <(find fixtures/catalog-diff -name '*.json' | sort)
check "${fixtures[@]}"

broken=$(mktemp --suffix=.json)
trap 'rm -f "$broken"' EXIT
sed '0,/"status": 401/s//"status": "401"/' docs/catalog.json > "$broken"
if check "$broken" >/dev/null 2>&1; then
  echo "FAIL: a catalog whose status is a string passed the schema"
  exit 1
fi
echo "ok -- a catalog with a string status is rejected"
