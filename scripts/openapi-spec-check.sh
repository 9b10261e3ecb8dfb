#!/usr/bin/env bash
# schemas/openapi.json against the OpenAPI 3.1 specification with a second,
# independent checker, openapi-spec-validator (Python), which also resolves
# every `$ref` (the local ones and ./problem.schema.json and its siblings).
# The Rust tests read the document with their own code; this is the check
# that does not share it. A broken copy must be rejected, so the step cannot
# pass by validating nothing.
# Then the document as the running mock serves it, by URL, so that every reference must
# resolve over HTTP against the mock (a client generator or Swagger UI pointed at the mock
# reads it that way); a copy served where one sibling is missing must be refused.
# Installs openapi-spec-validator into a virtualenv under $VENV (default /tmp/openapi-spec-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-/tmp/openapi-spec-venv}
if [ ! -x "$VENV/bin/openapi-spec-validator" ]; then
  python3 -m venv "$VENV" >/dev/null
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'openapi-spec-validator>=0.7,<0.10' >/dev/null
fi
check() { "$VENV/bin/openapi-spec-validator" --schema 3.1 "$@"; }
# The command line reads files only; by URL goes through the library's own `validate_url`,
# which fetches the document and every reference relative to its URL.
check_url() {
  "$VENV/bin/python" - "$1" <<'PY'
import sys
from openapi_spec_validator import OpenAPIV31SpecValidator, validate_url
validate_url(sys.argv[1], cls=OpenAPIV31SpecValidator)
print(f"{sys.argv[1]}: OK")
PY
}

check schemas/openapi.json

# The broken copy sits beside copies of the sibling schemas its references name.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp schemas/*.json "$dir/"
"$VENV/bin/python" - "$dir/openapi.json" <<'PY'
import json, sys
path = sys.argv[1]
doc = json.load(open(path))
del doc["paths"]["/healthz"]["get"]["responses"]["200"]["description"]
json.dump(doc, open(path, "w"))
PY
if check "$dir/openapi.json" >/dev/null 2>&1; then
  echo "FAIL: a document with a response without description passed"
  exit 1
fi
echo "ok -- a response without description is rejected"

# By URL: the document as the running mock serves it, with every `$ref` fetched from the mock
# itself (`./catalog.schema.json` and the other siblings). Reading the file from disk, where
# the siblings sit beside it, did not notice when the mock did not serve one.
cargo build --quiet --locked -p mock-server
bin=$(cargo metadata --format-version 1 --no-deps | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/mock-server
out=$(mktemp)
"$bin" --listen 127.0.0.1:0 >"$out" 2>/dev/null &
mock=$!
trap 'kill "$mock" 2>/dev/null || true; rm -rf "$dir" "$out"' EXIT
for _ in $(seq 100); do
  grep -q 'listening on' "$out" && break
  sleep 0.1
done
url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$out" | head -n1)
[ -n "$url" ] || { echo "FAIL: the mock did not start"; exit 1; }
check_url "$url/openapi.json"

# The same document served from a directory without catalog.schema.json must be refused:
# that is the regression this check is for.
served=$(mktemp -d)
curl --silent --fail "$url/openapi.json" >"$served/openapi.json"
cp schemas/problem.schema.json schemas/scim-error.schema.json "$served/"
"$VENV/bin/python" -u -m http.server --bind 127.0.0.1 0 --directory "$served" >"$out.http" 2>&1 &
static=$!
trap 'kill "$mock" "$static" 2>/dev/null || true; rm -rf "$dir" "$out" "$out.http" "$served"' EXIT
for _ in $(seq 100); do
  grep -q 'Serving HTTP' "$out.http" && break
  sleep 0.1
done
port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$out.http" | head -n1)
if check_url "http://127.0.0.1:$port/openapi.json" >/dev/null 2>&1; then
  echo "FAIL: a served document whose ./catalog.schema.json answers 404 passed"
  exit 1
fi
echo "ok -- a served document with an unresolvable reference is rejected"
