#!/usr/bin/env bash
# The runner's software authenticator and TOTP generator, checked by
# verifiers written by others:
#   1. py_webauthn (PyPI `webauthn`, Duo Labs) verifies the runner's
#      registrations (`none`, `packed` self, `packed` with `x5c`) and
#      assertions with verify_registration_response and
#      verify_authentication_response, and refuses tampered ones: a flipped
#      signature byte, another challenge, another origin, another RP id;
#   2. pyotp computes the same TOTP code as `conformance-runner authenticator
#      totp` for the same secret.
#
# Needs PyPI (installed in a venv under $VENV, default /tmp/error-contract-venv);
# builds the runner when missing. Nothing listens: the authenticator is a
# command. Exit 0 when all pass, 1 otherwise, 0 with "skipped" when the tools
# cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-/tmp/error-contract-venv}
BIN=${CARGO_TARGET_DIR:-target}/debug
RUNNER=${RUNNER:-$BIN/conformance-runner}

if ! { [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" >/dev/null 2>&1; } \
  || ! "$VENV/bin/pip" install --quiet 'webauthn>=2.5,<3' 'pyotp>=2.9,<3' >/dev/null 2>&1; then
  echo "skipped: PyPI not reachable (webauthn, pyotp)"
  exit 0
fi
[ -x "$RUNNER" ] || cargo build --quiet -p conformance-runner

RUNNER="$RUNNER" "$VENV/bin/python" scripts/webauthn_runner_check.py
