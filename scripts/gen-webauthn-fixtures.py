#!/usr/bin/env python3
"""Generates the MFA test material of one seed world, ONCE (issue 21).

Prints TOML snippets to paste: the TOTP secrets and the vault admin's
security-key credential for the seed, the attestation trust root for the
seed's [webauthn] section, and the private parts for the profile's
[credentials]. Every run draws new keys, so the committed fixtures are the
output of one run per world (fixtures/seed.toml + fixtures/profiles/mock.toml,
fixtures/seeds/renamed.toml + fixtures/profiles/renamed.toml); nothing runs
this in CI. Needs PyPI `cryptography`:

    python3 -m venv /tmp/gen && /tmp/gen/bin/pip install cryptography
    /tmp/gen/bin/python scripts/gen-webauthn-fixtures.py "Acme" > /tmp/acme.txt
"""
import base64
import datetime
import os
import sys
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

AAGUID = uuid.UUID("ee882879-721c-4913-9775-3dfcce97072a")  # YubiKey 5 NFC
FIDO_GEN_CE_AAGUID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def totp_secret() -> str:
    return base64.b32encode(os.urandom(20)).decode().rstrip("=")


def cose_es256(public_key: ec.EllipticCurvePublicKey) -> bytes:
    numbers = public_key.public_numbers()
    x = numbers.x.to_bytes(32, "big")
    y = numbers.y.to_bytes(32, "big")
    # {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}, CTAP2 canonical order.
    return b"\xa5\x01\x02\x03\x26\x20\x01\x21\x58\x20" + x + b"\x22\x58\x20" + y


def pkcs8(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def main() -> None:
    world = sys.argv[1] if len(sys.argv) > 1 else "Acme"
    not_before = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    not_after = datetime.datetime(2075, 1, 1, tzinfo=datetime.timezone.utc)

    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Error Contract Test"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{world} Test Attestation Root"),
    ])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )

    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Error Contract Test"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{world} Test YubiKey 5 NFC Attestation"),
        ]))
        .issuer_name(root_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # extnValue holds an OCTET STRING of the 16 AAGUID bytes (WebAuthn section 8.2.1).
        .add_extension(
            x509.UnrecognizedExtension(FIDO_GEN_CE_AAGUID, b"\x04\x10" + AAGUID.bytes),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )

    cred_key = ec.generate_private_key(ec.SECP256R1())
    cred_id = os.urandom(32)

    print("# seed: TOTP secrets (admin, member, disabled, vault admin)")
    for name in ["admin", "member", "disabled", "vault_admin"]:
        print(f'{name} = "{totp_secret()}"')
    print("# seed: [[webauthn.trust_roots]]")
    print(f'aaguid = "{AAGUID}"')
    print(f'certificate = "{b64url(root.public_bytes(serialization.Encoding.DER))}"')
    print("# seed: the vault admin's security key")
    print(f'credential_id = "{b64url(cred_id)}"')
    print(f'public_key = "{b64url(cose_es256(cred_key.public_key()))}"')
    print("# profile [credentials]")
    print(f'vault_admin_key = {{ value = "{b64url(pkcs8(cred_key))}" }}')
    print(f'vault_admin_key_id = {{ value = "{b64url(cred_id)}" }}')
    print(f'attestation_key = {{ value = "{b64url(pkcs8(leaf_key))}" }}')
    print(f'attestation_cert = {{ value = "{b64url(leaf.public_bytes(serialization.Encoding.DER))}" }}')


if __name__ == "__main__":
    main()
