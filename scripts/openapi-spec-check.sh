#!/usr/bin/env bash
# schemas/openapi.json against the OpenAPI 3.1 specification with a second,
# independent checker, openapi-spec-validator (Python), which also resolves
# every `$ref` (the local ones and ./problem.schema.json and its siblings).
# The Rust tests read the document with their own code; this is the check
# that does not share it. A broken copy must be rejected, so the step cannot
# pass by validating nothing.
# Installs openapi-spec-validator into a virtualenv under $VENV (default /tmp/openapi-spec-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-/tmp/openapi-spec-venv}
if [ ! -x "$VENV/bin/openapi-spec-validator" ]; then
  python3 -m venv "$VENV" >/dev/null
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'openapi-spec-validator>=0.7,<0.10' >/dev/null
fi
check() { "$VENV/bin/openapi-spec-validator" --schema 3.1 "$@"; }

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
