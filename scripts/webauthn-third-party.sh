#!/usr/bin/env bash
# Checks the mock's MFA ceremonies with clients written by others (issue 21):
#   1. PyPI `soft-webauthn` (a software authenticator built on Yubico's `fido2`
#      and `cryptography`) registers a passkey in `pwonly` (no AAGUID
#      allowlist: soft-webauthn only does `none` attestation and sets UP, not
#      UV) and steps up with an assertion; the step-up token deletes nothing
#      but is spent on a network-policy change;
#   2. tampered registrations (another challenge, another origin, another RP
#      id) are ValidationErrors at the documented pointer, and tampered
#      assertions (a flipped signature byte, another challenge, another
#      origin, another RP id) are 401 STEP_UP_REQUIRED with `purpose`;
#   3. PyPI `pyotp` computes the current code of the acme admin's seeded TOTP
#      secret (fixtures/seed.toml) and the mock accepts it once: the same code
#      again is STEP_UP_REQUIRED (replay).
#
# Needs PyPI (the tools are installed in a venv under $VENV, default
# /tmp/webauthn-third-party-venv); builds the mock when missing (under
# $CARGO_TARGET_DIR, default target/). The mock listens on 127.0.0.1 only and
# is stopped on exit. Exit 0 when all pass, 1 otherwise, 0 with "skipped"
# when the tools cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-/tmp/webauthn-third-party-venv}
BIN=${CARGO_TARGET_DIR:-target}/debug
MOCK=${MOCK:-$BIN/mock-server}
# shellcheck source=scripts/lib/scratch.sh
. scripts/lib/scratch.sh

if ! { "$VENV/bin/python" -c 'import pyotp, soft_webauthn' 2>/dev/null || { python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet 'pyotp>=2.9' 'soft-webauthn>=0.1.4'; }; } >/dev/null 2>&1; then
  echo "skipped: could not install pyotp and soft-webauthn from PyPI"
  exit 0
fi
[ -x "$MOCK" ] || cargo build --quiet -p mock-server

RUST_LOG=warn "$MOCK" --listen 127.0.0.1:0 >"$work/mock.out" 2>"$work/mock.err" &
pids+=($!)
base=""
for _ in $(seq 100); do
  base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/mock.out" 2>/dev/null | head -1 || true)
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { echo "the mock did not start"; cat "$work/mock.err"; exit 1; }

"$VENV/bin/python" - "$base" <<'PY'
import base64, copy, json, os, sys, tomllib, urllib.error, urllib.request

import pyotp
from soft_webauthn import SoftWebauthnDevice

BASE = sys.argv[1]
ORIGIN = "https://platform.example"
failures = []


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def call(method, path, token, body=None, step_up=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if step_up:
        req.add_header("X-Step-Up-Token", step_up)
    try:
        with urllib.request.urlopen(req) as resp:
            text = resp.read()
            return resp.status, json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def check(name, got, status, code=None, pointer=None, purpose=None, detail=None):
    st, body = got
    ok = st == status
    if detail is not None:
        ok = ok and detail in json.dumps(body)
    if code is not None:
        ok = ok and body.get("code") == code
    if pointer is not None:
        ok = ok and [e.get("pointer") for e in body.get("errors", [])] == [pointer]
    if purpose is not None:
        ok = ok and body.get("purpose") == purpose
    print(("ok   " if ok else "FAIL ") + name + f": {st} {body.get('code') if isinstance(body, dict) else ''}")
    if not ok:
        failures.append(name)
        print("     " + json.dumps(body)[:400])
    return body


def creation_options(token, kind="passkey"):
    st, opts = call("POST", "/v1/workspaces/pwonly/factors/webauthn/options", token, {"type": kind})
    assert st == 200, opts
    pk = copy.deepcopy(opts)
    pk["challenge"] = unb64(pk["challenge"])
    pk["user"]["id"] = unb64(pk["user"]["id"])
    # soft-webauthn only does `none` attestation; a browser may downgrade "direct" the same way.
    pk["attestation"] = "none"
    return {"publicKey": pk}


def enrol_body(cred):
    return {
        "type": "passkey",
        "clientDataJSON": b64(cred["response"]["clientDataJSON"]),
        "attestationObject": b64(cred["response"]["attestationObject"]),
    }


TOKEN = "tok_pwonly_admin"

# 1. Registration with soft-webauthn.
device = SoftWebauthnDevice()
created = device.create(creation_options(TOKEN), ORIGIN)
body = check("soft-webauthn registration", call("POST", "/v1/workspaces/pwonly/factors", TOKEN, enrol_body(created)), 201)
if body.get("credential_id") != b64(created["rawId"]):
    failures.append("credential id")
    print("FAIL the answered credential_id is not soft-webauthn's rawId")

# 2. Tampered registrations.
for name, tamper, pointer, detail in [
    ("registration over another challenge", lambda o: o["publicKey"].__setitem__("challenge", os.urandom(32)), "/clientDataJSON", "clientDataJSON.challenge is not a challenge"),
    ("registration from another origin", "https://evil.example", "/clientDataJSON", "is not an allowed origin"),
    ("registration for another RP id", lambda o: o["publicKey"]["rp"].__setitem__("id", "evil.example"), "/attestationObject", "rpIdHash is not the SHA-256"),
]:
    other = SoftWebauthnDevice()
    opts = creation_options(TOKEN)
    origin = ORIGIN
    if isinstance(tamper, str):
        origin = tamper
    else:
        tamper(opts)
    cred = other.create(opts, origin)
    check(name, call("POST", "/v1/workspaces/pwonly/factors", TOKEN, enrol_body(cred)), 400, "ValidationError", pointer, detail=detail)


def request_options():
    st, opts = call("POST", "/v1/workspaces/pwonly/step-up/options", TOKEN, {"factor": "passkey"})
    assert st == 200, opts
    pk = copy.deepcopy(opts)
    pk["challenge"] = unb64(pk["challenge"])
    return {"publicKey": pk}


def assertion_body(assertion, purpose="change_network_policy"):
    r = assertion["response"]
    return {
        "purpose": purpose,
        "factor": "passkey",
        "credentialId": b64(assertion["rawId"]),
        "clientDataJSON": b64(r["clientDataJSON"]),
        "authenticatorData": b64(r["authenticatorData"]),
        "signature": b64(r["signature"]),
        "userHandle": b64(r["userHandle"]),
    }


# 3. Assertion step-up with soft-webauthn, and the token spent on a sensitive action.
assertion = device.get(request_options(), ORIGIN)
body = check("soft-webauthn assertion step-up", call("POST", "/v1/workspaces/pwonly/step-up", TOKEN, assertion_body(assertion)), 201)
token = body.get("step_up_token")
check("the assertion's step-up token", call("PUT", "/v1/workspaces/pwonly/network-policy", TOKEN, {"allowlist": []}, token), 200)


# 4. Tampered assertions.
def flipped_signature():
    a = device.get(request_options(), ORIGIN)
    body = assertion_body(a, "delete_user")
    sig = bytearray(a["response"]["signature"])
    sig[-1] ^= 1
    body["signature"] = b64(bytes(sig))
    return body


def other_challenge():
    request_options()  # a live challenge exists, but not the one signed
    opts = {"publicKey": {"rpId": "platform.example", "challenge": os.urandom(32)}}
    return assertion_body(device.get(opts, ORIGIN), "delete_user")


def other_origin():
    return assertion_body(device.get(request_options(), "https://evil.example"), "delete_user")


def other_rp_id():
    opts = request_options()
    device.rp_id = "evil.example"
    opts["publicKey"]["rpId"] = "evil.example"
    try:
        return assertion_body(device.get(opts, ORIGIN), "delete_user")
    finally:
        device.rp_id = "platform.example"


for name, make, detail in [
    ("assertion with a flipped signature byte", flipped_signature, "the signature does not verify"),
    ("assertion over another challenge", other_challenge, "clientDataJSON.challenge is not a challenge"),
    ("assertion from another origin", other_origin, "is not an allowed origin"),
    ("assertion for another RP id", other_rp_id, "rpIdHash is not the SHA-256"),
]:
    check(name, call("POST", "/v1/workspaces/pwonly/step-up", TOKEN, make()), 401, "STEP_UP_REQUIRED", purpose="delete_user", detail=detail)

# 5. TOTP with pyotp from the seeded secret, and its replay.
with open("fixtures/seed.toml", "rb") as f:
    seed = tomllib.load(f)
admin = next(u for u in seed["users"] if u["id"] == "usr_acme_admin")
secret = next(f["secret"] for f in admin["factors"] if f["type"] == "totp")
code = pyotp.TOTP(secret).now()
step = {"purpose": "delete_user", "factor": "totp", "code": code}
check("pyotp code from the seeded secret", call("POST", "/v1/workspaces/acme/step-up", "tok_acme_admin", step), 201)
check("the same pyotp code again (replay)", call("POST", "/v1/workspaces/acme/step-up", "tok_acme_admin", step), 401, "STEP_UP_REQUIRED", purpose="delete_user", detail="already used")

if failures:
    print(f"{len(failures)} check(s) failed: {', '.join(failures)}")
    sys.exit(1)
print("all WebAuthn and TOTP third-party checks passed")
PY
