#!/usr/bin/env bash
# Checks the runner's HTML report (`--html FILE`) of a deliberately failing
# run in a real browser and with a real validator:
#   1. html-validate (npm) finds no error in the page;
#   2. headless Chromium (Debian's `chromium`) loads it with no console
#      error, and after its script has run every failed scenario of the JSON
#      report is in the page and not hidden;
#   3. a screenshot at phone width (390 px) and one at 1280 px are written
#      for a person to look at ($OUT, default target/html-report-check).
#
# The failing run: the runner's mini suite (crates/conformance-runner/tests/
# fixtures/mini-suite) against the mock, whose paths it does not know.
# Installs chromium and html-validate when missing (apt, npm: needs root and
# the registries; exits 0 with "skipped" when they cannot be installed).
# Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

NPM_PREFIX=${NPM_PREFIX:-/tmp/error-contract-npm}
# shellcheck source=scripts/lib/scratch.sh
. scripts/lib/scratch.sh

if ! command -v chromium >/dev/null 2>&1; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 || true
fi
if [ ! -x "$NPM_PREFIX/node_modules/.bin/html-validate" ]; then
  mkdir -p "$NPM_PREFIX"
  npm install --prefix "$NPM_PREFIX" --silent --no-audit --no-fund html-validate >/dev/null 2>&1 || true
fi
if ! command -v chromium >/dev/null 2>&1 || [ ! -x "$NPM_PREFIX/node_modules/.bin/html-validate" ]; then
  echo "skipped: could not install chromium (apt) and html-validate (npm)"
  exit 0
fi

cargo build --quiet -p mock-server -p conformance-runner
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
OUT=${OUT:-$target_dir/html-report-check}
mkdir -p "$OUT"

"$target_dir/debug/mock-server" --listen 127.0.0.1:0 >"$work/mock.log" 2>/dev/null &
pids+=($!)
base=
for _ in $(seq 100); do
  base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/mock.log" | head -1 || true)
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { echo "the mock did not start"; exit 1; }

status=0
"$target_dir/debug/conformance-runner" --target "$base" \
  --profile crates/conformance-runner/tests/fixtures/mini-suite/profile.toml \
  --scenarios crates/conformance-runner/tests/fixtures/mini-suite/scenarios \
  --partial --progress none --html "$OUT/report.html" --json "$OUT/report.json" >/dev/null || status=$?
[ "$status" -eq 1 ] || { echo "expected a failing run (exit 1), got $status"; exit 1; }
failed=$(python3 -c 'import json,sys; print(" ".join(s["id"] for s in json.load(open(sys.argv[1]))["scenarios"] if s["outcome"] == "failed"))' "$OUT/report.json")
[ -n "$failed" ] || { echo "the run has no failure to show"; exit 1; }

echo "html-validate:"
"$NPM_PREFIX/node_modules/.bin/html-validate" "$OUT/report.html"
echo "  no error"

chrome() {
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --disable-sync \
    --user-data-dir="$(mktemp -d -p "$work")" "$@"
}
page="file://$(cd "$OUT" && pwd)/report.html"
chrome --enable-logging=stderr --v=0 --virtual-time-budget=2000 --dump-dom "$page" \
  >"$OUT/dom.html" 2>"$OUT/chromium.log"
# Chromium logs each console message as `CONSOLE(line)` or "Uncaught ...".
if grep -E 'CONSOLE|Uncaught|:ERROR:CONSOLE' "$OUT/chromium.log"; then
  echo "console messages in the page (above)"; exit 1
fi
python3 - "$OUT/dom.html" $failed <<'PY'
import re, sys
dom, failed = open(sys.argv[1]).read(), sys.argv[2:]
shown = re.search(r'id="shown"[^>]*>([^<]*)<', dom)
assert shown and "scenarios shown" in shown.group(1), "the filter script did not run"
for id in failed:
    anchor = "scenario-" + re.sub(r"[^a-z0-9]", "-", id.lower())
    tag = re.search(r'<article[^>]*id="%s"[^>]*>' % re.escape(anchor), dom)
    assert tag, f"{id} is not in the page"
    assert "hidden" not in tag.group(0), f"{id} is hidden"
    assert 'data-outcome="failed"' in tag.group(0), f"{id} is not shown as failed"
print(f"chromium: no console error; {len(failed)} failure(s) shown; {shown.group(1)}")
PY
chrome --window-size=390,1600 --hide-scrollbars --screenshot="$OUT/phone.png" "$page" 2>/dev/null
chrome --window-size=1280,1200 --hide-scrollbars --screenshot="$OUT/desktop.png" "$page" 2>/dev/null
echo "screenshots: $OUT/phone.png (390 px), $OUT/desktop.png (1280 px)"
