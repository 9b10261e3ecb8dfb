#!/usr/bin/env bash
# Checks the mock with tools written by others, not by this project:
#   1. python-scim2's compliance checker (scim2-tester, through scim2-cli)
#      against /scim/v2: every check must pass except the documented choice
#      that unsupported methods on the discovery endpoints answer 404
#      NotFound (the catalog documents no 405);
#   2. a receiver built on the Standard Webhooks reference library
#      (scripts/standardwebhooks_receiver.py) verifies a test delivery, and one
#      holding another secret makes the test send answer SIGNATURE_FAILED;
#   3. the runner's generic SCIM profile (fixtures/profiles/scim-rfc.toml)
#      against a third-party SCIM server, python-scim2's scim2-server: every
#      scenario passes, twice in a row, and the server holds no user after;
#   4. the same profile against a second third-party server built on SCIMMY
#      (npm scimmy 1.3.5, scimmy-routers 1.3.2, scripts/scimmy_server.mjs):
#      exactly the scenarios whose RFC rule SCIMMY breaks fail (listed below,
#      each finding naming its RFC section), twice, and no user is left.
#      Skipped with a message when npm cannot install it.
#
# Needs PyPI (the tools are installed in a venv under $VENV, default
# /tmp/error-contract-venv); builds the mock and the runner when missing
# (under $CARGO_TARGET_DIR, default target/). Everything listens on
# 127.0.0.1 only, and every process started here is stopped on exit. Exit 0
# when all pass, 1 otherwise, 0 with "skipped" when the tools cannot be
# installed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-/tmp/error-contract-venv}
BIN=${CARGO_TARGET_DIR:-target}/debug
MOCK=${MOCK:-$BIN/mock-server}
RUNNER=${RUNNER:-$BIN/conformance-runner}
# shellcheck source=scripts/lib/scratch.sh
. scripts/lib/scratch.sh

if ! { { [ -x "$VENV/bin/scim2" ] && [ -x "$VENV/bin/scim2-server" ]; } || { python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet scim2-cli scim2-tester scim2-server standardwebhooks; }; } >/dev/null 2>&1; then
  echo "skipped: could not install scim2-cli, scim2-tester, scim2-server and standardwebhooks from PyPI"
  exit 0
fi
[ -x "$MOCK" ] || cargo build --quiet -p mock-server
[ -x "$RUNNER" ] || cargo build --quiet -p conformance-runner

# Waits for the first line of $1 and prints its http://host:port.
address() {
  for _ in $(seq 100); do
    if grep -qo 'http://127.0.0.1:[0-9]*' "$1" 2>/dev/null; then
      grep -o 'http://127.0.0.1:[0-9]*' "$1" | head -1
      return 0
    fi
    sleep 0.1
  done
  echo "no address in $1" >&2
  return 1
}

RUST_LOG=warn "$MOCK" --listen 127.0.0.1:0 >"$work/mock.out" 2>"$work/mock.err" &
pids+=($!)
base=$(address "$work/mock.out")

echo "== SCIM compliance (scim2-tester) against $base/scim/v2"
"$VENV/bin/scim2" --url "$base/scim/v2" -h 'Authorization: Bearer scim_acme' test >"$work/scim.txt" 2>&1 || true
passed=$(grep -c '^SUCCESS' "$work/scim.txt" || true)
errors=$(grep '^ERROR' "$work/scim.txt" || true)
unexpected=$(printf '%s\n' "$errors" | grep -v '_endpoint_methods$' | grep -v '^$' || true)
echo "$passed checks succeeded; $(printf '%s\n' "$errors" | grep -c . || true) errors, all on discovery-endpoint methods (404, the catalog has no 405) unless listed below"
scim_ok=1
if [ -z "$passed" ] || [ "$passed" -lt 50 ] || [ -n "$unexpected" ]; then
  scim_ok=0
  echo "UNEXPECTED scim2-tester result:"
  printf '%s\n' "$unexpected"
  tail -20 "$work/scim.txt"
fi

echo "== Standard Webhooks reference library verifies the mock's deliveries"
secret='whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD'
send_test() { # $1: the receiver's secret, $2: a file for the test send's answer
  # Not in a $(...) subshell: the receiver's pid must reach `pids` so the
  # exit trap stops it.
  local out="$work/receiver-$RANDOM.out"
  WEBHOOK_SECRET=$1 "$VENV/bin/python" scripts/standardwebhooks_receiver.py --port 0 >"$out" 2>&1 &
  pids+=($!)
  local receiver
  receiver=$(address "$out")
  local id
  id=$(curl -sf -X POST "$base/v1/workspaces/acme/webhooks" -H 'Authorization: Bearer tok_acme_admin' \
    -H 'Content-Type: application/json' \
    -d "{\"url\":\"$receiver/\",\"events\":[\"user.created\"],\"secret\":\"$secret\"}" |
    sed 's/.*"id":"\([^"]*\)".*/\1/')
  curl -s -X POST "$base/v1/workspaces/acme/webhooks/$id/test" -H 'Authorization: Bearer tok_acme_admin' >"$2"
}
webhooks_ok=1
send_test "$secret" "$work/same.json"
same=$(cat "$work/same.json")
echo "receiver with the endpoint's secret: $same"
case "$same" in *'"delivered":true'*) ;; *) webhooks_ok=0 ;; esac
send_test 'whsec_b3RoZXItc2VjcmV0LW9mLXRoZS1yZWNlaXZlcg==' "$work/other.json"
other=$(cat "$work/other.json")
echo "receiver with another secret:       $other"
case "$other" in *'"code":"SIGNATURE_FAILED"'*) ;; *) webhooks_ok=0 ;; esac

echo "== The generic SCIM profile against python-scim2's scim2-server"
port=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token="scim-rfc-$RANDOM$RANDOM"
"$VENV/bin/scim2-server" --hostname 127.0.0.1 --port "$port" --bearer-token "$token" >"$work/scim2-server.log" 2>&1 &
pids+=($!)
scim_root="http://127.0.0.1:$port/v2"
for _ in $(seq 100); do
  curl -sf "$scim_root/ServiceProviderConfig" >/dev/null 2>&1 && break
  sleep 0.1
done
third_party_ok=1
for run in 1 2; do
  if CONFORMANCE_SCIM_TOKEN=$token "$RUNNER" --profile fixtures/profiles/scim-rfc.toml \
    --target "$scim_root" --progress none >"$work/scim-rfc-$run.txt" 2>&1; then
    echo "run $run: $(tail -1 "$work/scim-rfc-$run.txt")"
  else
    third_party_ok=0
    echo "run $run FAILED against scim2-server:"
    grep -v '^  PASS' "$work/scim-rfc-$run.txt" | head -60
  fi
done
left=$(curl -s "$scim_root/Users" -H "Authorization: Bearer $token")
case "$left" in
  *'"totalResults": 0'* | *'"totalResults":0'*) echo "scim2-server holds no user after both runs" ;;
  *) third_party_ok=0; echo "users left behind on scim2-server: $left" ;;
esac

echo "== The generic SCIM profile against a SCIMMY server (npm)"
# What SCIMMY 1.3.5 gets wrong, each by the RFC section its finding names:
# filters RFC 7644 §3.4.2.2 does not allow are accepted (200); PATCH of the
# readOnly meta.created and groups is accepted (§3.5.2: SHALL be refused);
# a 401 has no WWW-Authenticate (RFC 9110 §11.6.1); a body that is not JSON
# gets Express's application/json error without scimType (§3.1, §3.12); a
# non-integer count or startIndex is ignored (§3.4.2.4).
expected_scimmy='invalid-filter/dangling-logical-operator
invalid-filter/missing-operator
invalid-filter/not-without-parentheses
invalid-filter/presence-with-value
mutability-violation/patch-add-groups
mutability-violation/patch-meta-created
unauthorized/scim-no-token
unauthorized/scim-wrong-token
validation-error/scim-count-not-a-number
validation-error/scim-not-json
validation-error/scim-start-index-not-a-number'
NODE_DIR=${NODE_DIR:-/tmp/error-contract-scimmy}
scimmy_ok=1
if { [ -d "$NODE_DIR/node_modules/scimmy-routers" ] || { mkdir -p "$NODE_DIR" && (cd "$NODE_DIR" && npm init -y && npm install --silent scimmy@1.3.5 scimmy-routers@1.3.2 express@5); }; } >/dev/null 2>&1; then
  cp scripts/scimmy_server.mjs "$NODE_DIR/server.mjs"
  scimmy_token="scimmy-$RANDOM$RANDOM"
  TOKEN=$scimmy_token node "$NODE_DIR/server.mjs" >"$work/scimmy.out" 2>"$work/scimmy.err" &
  pids+=($!)
  scimmy_root="$(address "$work/scimmy.out")/scim/v2"
  for run in 1 2; do
    CONFORMANCE_SCIM_TOKEN=$scimmy_token "$RUNNER" --profile fixtures/profiles/scim-rfc.toml \
      --target "$scimmy_root" --progress none >"$work/scimmy-$run.txt" 2>&1 || true
    failed=$(grep -oE '^  FAIL  [a-z0-9/_-]+' "$work/scimmy-$run.txt" | awk '{print $2}' | sort)
    if [ "$failed" = "$expected_scimmy" ] && grep -q '^14 passed, 11 failed$' "$work/scimmy-$run.txt"; then
      echo "run $run: $(tail -1 "$work/scimmy-$run.txt"), exactly the expected RFC deviations"
    else
      scimmy_ok=0
      echo "run $run: UNEXPECTED result against SCIMMY:"
      grep -v '^  PASS' "$work/scimmy-$run.txt" | head -80
    fi
  done
  left=$(curl -s "$scimmy_root/Users" -H "Authorization: Bearer $scimmy_token")
  case "$left" in
    *'"totalResults":0'*) echo "the SCIMMY server holds no user after both runs" ;;
    *) scimmy_ok=0; echo "users left behind on the SCIMMY server: $left" ;;
  esac
else
  echo "skipped: could not install scimmy, scimmy-routers and express from npm"
fi

if [ "$scim_ok" = 1 ] && [ "$webhooks_ok" = 1 ] && [ "$third_party_ok" = 1 ] && [ "$scimmy_ok" = 1 ]; then
  echo "external checks passed"
else
  echo "external checks FAILED"
  exit 1
fi
