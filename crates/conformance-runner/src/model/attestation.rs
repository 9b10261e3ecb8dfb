//! WebAuthn attestation objects for enrolment scenarios.
//!
//! Scenarios need an `attestationObject` with a chosen format and AAGUID
//! (an allowlisted YubiKey, an unknown authenticator, a synced passkey with
//! `fmt: none` and the all-zero AAGUID). Writing base64url CBOR by hand is
//! unreadable, so `{{attestation(packed, <aaguid>)}}` builds one here.
//!
//! The object is structurally valid (CBOR map with `fmt`, an empty `attStmt`
//! and `authData` with attested credential data and a COSE EC2 key), but its
//! attestation statement is empty: it proves nothing, which is fine for a
//! policy check on the AAGUID. The CBOR is written by hand: the structure is
//! fixed and tiny, and a CBOR library would be a dependency for ten lines.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Flags: user present, user verified, attested credential data.
const FLAGS: u8 = 0x01 | 0x04 | 0x40;

/// Builds a base64url (unpadded) attestation object with format `fmt` and
/// AAGUID `aaguid` (a UUID with or without hyphens).
pub fn build(fmt: &str, aaguid: &str) -> Result<String, String> {
    let aaguid = parse_aaguid(aaguid)?;
    let mut auth_data = Vec::with_capacity(200);
    auth_data.extend_from_slice(&Sha256::digest(b"platform.example"));
    auth_data.push(FLAGS);
    auth_data.extend_from_slice(&0u32.to_be_bytes());
    auth_data.extend_from_slice(&aaguid);
    // A credential id derived from the AAGUID keeps the output deterministic.
    let credential_id = &Sha256::digest(aaguid)[..16];
    auth_data.extend_from_slice(&(credential_id.len() as u16).to_be_bytes());
    auth_data.extend_from_slice(credential_id);
    auth_data.extend_from_slice(&cose_ec2_key(&aaguid));

    let mut out = Vec::with_capacity(auth_data.len() + 32);
    out.push(0xa3); // map of 3
    text(&mut out, "fmt");
    text(&mut out, fmt);
    text(&mut out, "attStmt");
    out.push(0xa0); // empty map
    text(&mut out, "authData");
    bytes(&mut out, &auth_data);
    Ok(URL_SAFE_NO_PAD.encode(out))
}

fn parse_aaguid(text: &str) -> Result<[u8; 16], String> {
    let hex: String = text.chars().filter(|&c| c != '-').collect();
    let bad = || {
        format!("`{text}` is not an AAGUID (a UUID such as cb69481e-8ff7-4039-93ec-0a2729a154a8)")
    };
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// A COSE_Key map: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
fn cose_ec2_key(seed: &[u8]) -> Vec<u8> {
    let x = Sha256::digest([seed, b"x"].concat());
    let y = Sha256::digest([seed, b"y"].concat());
    let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
    bytes(&mut out, &x);
    out.push(0x22);
    bytes(&mut out, &y);
    out
}

fn header(out: &mut Vec<u8>, major: u8, len: usize) {
    let major = major << 5;
    match len {
        0..=23 => out.push(major | len as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, len as u8]),
        _ => {
            out.push(major | 25);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
    }
}

fn text(out: &mut Vec<u8>, s: &str) {
    header(out, 3, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    header(out, 2, b.len());
    out.extend_from_slice(b);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_cbor_map_with_the_aaguid_at_its_documented_offset() {
        let encoded = build("packed", "cb69481e-8ff7-4039-93ec-0a2729a154a8").unwrap();
        let raw = URL_SAFE_NO_PAD.decode(encoded).unwrap();
        assert_eq!(raw[0], 0xa3);
        assert_eq!(&raw[1..5], b"\x63fmt");
        assert_eq!(&raw[5..12], b"\x66packed");
        // "authData" key, then a byte string header (0x58, length).
        let at = raw.windows(9).position(|w| w == b"\x68authData").unwrap() + 9;
        assert_eq!(raw[at], 0x58);
        let auth_data = &raw[at + 2..];
        assert_eq!(auth_data.len(), raw[at + 1] as usize);
        assert_eq!(auth_data[32], FLAGS);
        assert_eq!(
            &auth_data[37..53],
            &[
                0xcb, 0x69, 0x48, 0x1e, 0x8f, 0xf7, 0x40, 0x39, 0x93, 0xec, 0x0a, 0x27, 0x29, 0xa1,
                0x54, 0xa8
            ]
        );
    }

    #[test]
    fn rejects_a_bad_aaguid() {
        assert_eq!(
            build("none", "yubikey").unwrap_err(),
            "`yubikey` is not an AAGUID (a UUID such as cb69481e-8ff7-4039-93ec-0a2729a154a8)"
        );
        assert!(build("none", "00000000-0000-0000-0000-000000000000").is_ok());
    }
}
