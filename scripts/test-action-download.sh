#!/usr/bin/env bash
# Tests the action's release download offline: scripts/fetch-release-asset.sh
# and action.yml's "get the runner" step, against a fake release served from
# a temporary directory by python3 -m http.server on 127.0.0.1 (port 0) and
# through file://. Each case states the exit code and the message expected:
# a good checksum installs the binary, a tampered binary or a malformed
# checksum is refused (and the action does not fall back to a build), and a
# missing release or platform falls back to building from source.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# A fake release v9.9.9: a runner "binary" (a script that prints a version)
# for linux x86_64, a mock-server binary, and SHA256SUMS over both.
asset=conformance-runner-x86_64-unknown-linux-gnu
release="$work/site/v9.9.9"
mkdir -p "$release"
printf '#!/bin/sh\necho "conformance-runner 9.9.9 (from the release)"\n' >"$release/$asset"
printf 'not a real mock server\n' >"$release/mock-server-x86_64-unknown-linux-gnu"
(cd "$release" && sha256sum "$asset" mock-server-x86_64-unknown-linux-gnu >SHA256SUMS)

# The same release with the runner tampered with after its checksum was taken.
tampered="$work/site/v9.9.8"
cp -r "$release" "$tampered"
printf 'echo pwned\n' >>"$tampered/$asset"

# A release whose checksum line is not a digest.
malformed="$work/site/v9.9.7"
cp -r "$release" "$malformed"
printf 'xyz  %s\n' "$asset" >"$malformed/SHA256SUMS"

# A release that lists the runner but does not serve it.
missing="$work/site/v9.9.6"
cp -r "$release" "$missing"
rm "$missing/$asset"

# Serve $work/site on 127.0.0.1, on a port the system picks.
python3 - "$work/site" "$work/port" >"$work/server.log" 2>&1 <<'PY' &
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
PY
server_pid=$!
for _ in $(seq 50); do
  [ -s "$work/port" ] && break
  sleep 0.1
done
[ -s "$work/port" ] || { cat "$work/server.log"; echo "the test server did not start"; exit 1; }
http="http://127.0.0.1:$(cat "$work/port")"

# fetch CASE BASE ASSET WANT_STATUS WANT_MESSAGE: runs the script into a fresh
# destination and checks its exit code and message, and that a refused or
# missing binary leaves no file behind.
fetch_case() {
  local name=$1 base=$2 file=$3 want_status=$4 want_message=$5
  local dest="$work/out/$name/conformance-runner" status=0
  bash scripts/fetch-release-asset.sh "$base" "$file" "$dest" >"$work/out.log" 2>&1 || status=$?
  if [ "$status" -ne "$want_status" ]; then
    fail "$name: exit $status, expected $want_status"
    sed 's/^/    /' "$work/out.log"
  elif ! grep -qF -- "$want_message" "$work/out.log"; then
    fail "$name: expected the message '$want_message', got:"
    sed 's/^/    /' "$work/out.log"
  elif [ "$want_status" -eq 0 ]; then
    if ! cmp -s "$dest" "$release/$asset" || [ ! -x "$dest" ]; then
      fail "$name: the installed binary is not the release's, or not executable"
    else
      echo "ok   $name"
    fi
  elif [ -e "$dest" ]; then
    fail "$name: a refused binary was installed at $dest"
  else
    echo "ok   $name"
  fi
}

echo "== scripts/fetch-release-asset.sh"
fetch_case good-checksum-http "$http/v9.9.9" "$asset" 0 "verified $asset (sha256 $(sha "$release/$asset"))"
fetch_case good-checksum-file "file://$work/site/v9.9.9" "$asset" 0 "verified $asset"
fetch_case trailing-slash "$http/v9.9.9/" "$asset" 0 "verified $asset"
fetch_case tampered-binary "$http/v9.9.8" "$asset" 1 \
  "error: refusing $asset: SHA-256 checksum mismatch (SHA256SUMS says $(sha "$release/$asset"), the download is $(sha "$tampered/$asset"))"
fetch_case tampered-binary-file "file://$work/site/v9.9.8" "$asset" 1 "SHA-256 checksum mismatch"
fetch_case malformed-checksum "$http/v9.9.7" "$asset" 1 "its SHA256SUMS line does not hold a SHA-256 digest"
fetch_case listed-not-served "$http/v9.9.6" "$asset" 1 "SHA256SUMS lists it but it cannot be downloaded"
fetch_case no-such-release "$http/v0.0.0" "$asset" 3 "no release checksums at $http/v0.0.0/SHA256SUMS"
fetch_case no-such-platform "$http/v9.9.9" conformance-runner-riscv64gc-unknown-linux-gnu 3 \
  "has no checksum for conformance-runner-riscv64gc-unknown-linux-gnu"
fetch_case path-in-asset "$http/v9.9.9" "../v9.9.8/$asset" 2 "must be a plain file name"

# action.yml's "get the runner" step, run as the runner would run it: the
# step's script from action.yml, its env, and a `cargo` on PATH that records
# a build instead of doing one.
echo "== action.yml: get the runner"
python3 - action.yml "$work/get-the-runner.sh" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
step = re.search(r"^    - name: get the runner\n((?:      .*\n|\n)*)", text, re.M)
assert step, "action.yml has no step 'get the runner'"
run = re.search(r"^      run: \|\n((?:        .*\n|\n)*)", step.group(1), re.M)
assert run, "the step 'get the runner' has no run block"
script = "\n".join(line[8:] for line in run.group(1).splitlines())
assert "fetch-release-asset.sh" in script, "the step does not use scripts/fetch-release-asset.sh"
open(sys.argv[2], "w").write(script + "\n")
PY
mkdir -p "$work/fakebin"
cat >"$work/fakebin/cargo" <<'SH'
#!/bin/sh
# Records the call and "builds" a runner where `cargo install --root R` puts it.
echo "cargo $*" >>"$FAKE_CARGO_LOG"
while [ "$#" -gt 0 ]; do
  [ "$1" = --root ] && root=$2
  shift
done
mkdir -p "$root/bin"
printf '#!/bin/sh\necho "conformance-runner 0.0.0 (built from source)"\n' >"$root/bin/conformance-runner"
chmod +x "$root/bin/conformance-runner"
SH
chmod +x "$work/fakebin/cargo"

# action_case NAME WANT_STATUS WANT_MESSAGE WANT_BUILD [VAR=VALUE...]
action_case() {
  local name=$1 want_status=$2 want_message=$3 want_build=$4 status=0
  shift 4
  local temp="$work/action/$name"
  mkdir -p "$temp"
  : >"$temp/cargo.log"
  env -i PATH="$work/fakebin:$PATH" HOME="$HOME" \
    RUNNER_TEMP="$temp" RUNNER_OS=Linux RUNNER_ARCH=X64 GITHUB_OUTPUT="$temp/output" \
    GITHUB_ACTION_PATH="$root" FAKE_CARGO_LOG="$temp/cargo.log" \
    RUNNER_PATH="" RELEASE="" RELEASE_ASSET="" RELEASE_BASE_URL="$http" \
    ACTION_REF="" ACTION_REPOSITORY="example/error-contract" \
    "$@" bash "$work/get-the-runner.sh" >"$temp/log" 2>&1 || status=$?
  local built=no
  [ -s "$temp/cargo.log" ] && built=yes
  if [ "$status" -ne "$want_status" ]; then
    fail "action $name: exit $status, expected $want_status"
    sed 's/^/    /' "$temp/log"
  elif ! grep -qF -- "$want_message" "$temp/log"; then
    fail "action $name: expected the message '$want_message', got:"
    sed 's/^/    /' "$temp/log"
  elif [ "$built" != "$want_build" ]; then
    fail "action $name: built from source: $built, expected $want_build"
  elif [ "$want_status" -eq 0 ] && ! grep -qx "path=$temp/conformance-runner-bin/conformance-runner" "$temp/output"; then
    fail "action $name: no path= output"
  else
    echo "ok   action $name"
  fi
}

action_case release-of-the-action-ref 0 "conformance-runner 9.9.9 (from the release)" no ACTION_REF=v9.9.9
action_case release-input-wins 0 "conformance-runner 9.9.9 (from the release)" no ACTION_REF=v9.9.8 RELEASE=v9.9.9
action_case tampered-release-fails 1 "::error::the release binary $asset of v9.9.8 was refused" no ACTION_REF=v9.9.8
action_case tampered-release-says-why 1 "SHA-256 checksum mismatch" no ACTION_REF=v9.9.8
action_case branch-ref-builds 0 "conformance-runner 0.0.0 (built from source)" yes ACTION_REF=main
action_case local-action-builds 0 "no release tag (the action is used from a path)" yes
action_case release-none-builds 0 "release: none: building the runner from source" yes ACTION_REF=v9.9.9 RELEASE=none
action_case platform-without-binary-builds 0 "no release binary for FreeBSD/X64" yes ACTION_REF=v9.9.9 RUNNER_OS=FreeBSD
action_case runner-path-wins 0 "conformance-runner 9.9.9 (from the release)" no \
  ACTION_REF=v9.9.8 RUNNER_PATH="$release/$asset"

if [ "$failures" -ne 0 ]; then
  echo "$failures case(s) failed"
  exit 1
fi
echo "all download cases passed"
