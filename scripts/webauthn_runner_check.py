"""py_webauthn and pyotp against the runner's authenticator (see webauthn-runner-check.sh)."""
import json
import os
import secrets
import subprocess
import sys
import time
import tomllib

import base64

import pyotp
from webauthn import verify_authentication_response, verify_registration_response
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import AttestationFormat

RUNNER = os.environ["RUNNER"]
RP_ID = "platform.example"
ORIGIN = "https://platform.example"
profile = tomllib.load(open("fixtures/profiles/mock.toml", "rb"))
cred = {k: v.get("value") for k, v in profile["credentials"].items()}
ALLOWED = profile["fixtures"]["allowed_aaguid"]
# The seed's trust root for the allowlisted model: py_webauthn checks the
# runner's x5c chain against it, as the mock does.
seed = tomllib.load(open("fixtures/seed.toml", "rb"))
root_der = base64url_to_bytes(next(
    r["certificate"] for r in seed["webauthn"]["trust_roots"] if r["aaguid"] == ALLOWED))
ROOT_PEM = (b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(root_der)
            + b"-----END CERTIFICATE-----\n")
failures = []


def runner(*args):
    out = subprocess.run([RUNNER, "authenticator", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"runner failed: {out.stderr}")
    return out.stdout


def check(name, ok):
    print(("ok   " if ok else "FAIL ") + name)
    if not ok:
        failures.append(name)


def refused(name, fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - py_webauthn raises its own exception types
        check(f"{name} is refused ({type(e).__name__})", True)
        return
    check(f"{name} is refused", False)


def create(challenge, attestation, *extra, vendor="attestation"):
    args = ["create", f"--challenge={challenge}", "--attestation", attestation,
            "--aaguid", ALLOWED, *extra]
    if attestation == "packed-x5c":
        args += [f"--attestation-key={cred[f'{vendor}_key']}",
                 f"--attestation-cert={cred[f'{vendor}_cert']}"]
    reg = json.loads(runner(*args))
    key = reg.pop("privateKey")
    return reg, key


def verify_reg(reg, challenge, origin=ORIGIN, rp_id=RP_ID):
    return verify_registration_response(
        credential=reg, expected_challenge=base64url_to_bytes(challenge),
        expected_origin=origin, expected_rp_id=rp_id, require_user_verification=True,
        pem_root_certs_bytes_by_fmt={AttestationFormat.PACKED: [ROOT_PEM]})


for fmt in ["none", "packed", "packed-x5c"]:
    challenge = bytes_to_base64url(secrets.token_bytes(32))
    reg, key = create(challenge, fmt)
    verified = verify_reg(reg, challenge)
    check(f"registration ({fmt}) verifies: fmt {verified.fmt}, aaguid {verified.aaguid}",
          verified.aaguid == ALLOWED)
    if fmt == "packed-x5c":
        refused("registration (packed-x5c) by a vendor whose root is not the seed's",
                lambda: verify_reg(create(challenge, fmt, vendor="untrusted_attestation")[0], challenge))
    refused(f"registration ({fmt}) for another challenge",
            lambda: verify_reg(reg, bytes_to_base64url(secrets.token_bytes(32))))
    refused(f"registration ({fmt}) from another origin",
            lambda: verify_reg(create(challenge, fmt, "--origin", "https://evil.test")[0], challenge))
    refused(f"registration ({fmt}) for another RP id",
            lambda: verify_reg(create(challenge, fmt, "--rp-id", "evil.test")[0], challenge))
    if fmt != "none":
        refused(f"registration ({fmt}) with a flipped signature byte",
                lambda: verify_reg(create(challenge, fmt, "--tamper-signature")[0], challenge))

    # Assertions with the new credential.
    public_key = verified.credential_public_key
    cred_id = reg["id"]

    def assertion(challenge, *extra):
        return json.loads(runner("get", f"--challenge={challenge}", f"--credential-id={cred_id}",
                                 f"--private-key={key}", *extra))

    def verify_auth(a, challenge, origin=ORIGIN, rp_id=RP_ID, count=0):
        return verify_authentication_response(
            credential=a, expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id, expected_origin=origin, credential_public_key=public_key,
            credential_current_sign_count=count, require_user_verification=True)

    challenge = bytes_to_base64url(secrets.token_bytes(32))
    ok = verify_auth(assertion(challenge, "--counter", "7"), challenge)
    check(f"assertion ({fmt} credential) verifies, counter {ok.new_sign_count}", ok.new_sign_count == 7)
    refused("assertion with a flipped signature byte",
            lambda: verify_auth(assertion(challenge, "--tamper-signature"), challenge))
    refused("assertion for another challenge",
            lambda: verify_auth(assertion(challenge), bytes_to_base64url(secrets.token_bytes(32))))
    refused("assertion from another origin",
            lambda: verify_auth(assertion(challenge, "--origin", "https://evil.test"), challenge))
    refused("assertion for another RP id",
            lambda: verify_auth(assertion(challenge, "--rp-id", "evil.test"), challenge))
    refused("assertion whose counter went back",
            lambda: verify_auth(assertion(challenge, "--counter", "3"), challenge, count=7))

# TOTP: the same code as pyotp (retry once if a 30 s step turned in between).
secret = pyotp.random_base32(32)
for _ in range(2):
    ours = runner("totp", secret).strip()
    theirs = pyotp.TOTP(secret).now()
    if ours == theirs:
        break
    time.sleep(1)
check(f"TOTP code matches pyotp ({ours})", ours == theirs)

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("all py_webauthn and pyotp checks passed")
