//! WebAuthn attestation objects: the format and AAGUID.
