//! WebAuthn (Level 3) for the mock's relying party: decoding, then verifying, registrations
//! and assertions.
//!
//! [`parse_attestation_object`] decodes the `attestationObject` of a registration (CBOR map,
//! authenticator data, attested credential data, the credential public key, the extensions
//! block, and that nothing follows). [`verify`] holds the ceremonies: `clientDataJSON` (type,
//! challenge, origin), the authenticator data (RP id hash, UP, UV, counter), the COSE key (EC2,
//! P-256, ES256, a point on the curve), the attestation statement (`none`, `packed` self,
//! `packed` with an `x5c` chain to a trust root configured for the AAGUID) and the ES256
//! assertion signature. [`authenticator`] is a software authenticator for tests.
//!
//! What is NOT verified, as a relying party without these features also leaves it out:
//! - the authenticator's status in the FIDO Metadata Service (revoked or compromised models):
//!   the mock's trust roots come from the seed, not from MDS, and it runs offline;
//! - certificate revocation (CRL/OCSP) of attestation certificates: offline again, and the
//!   seeded test roots publish no revocation data;
//! - attestation formats other than `none` and `packed` (`tpm`, `android-key`,
//!   `android-safetynet`, `fido-u2f`, `apple`, `compound`): refused as a ValidationError rather
//!   than accepted unverified;
//! - algorithms other than ES256 (COSE -7): refused likewise;
//! - `tokenBinding` and `topOrigin` in `clientDataJSON` (token binding is gone from browsers;
//!   cross-origin iframes are refused through `crossOrigin`), and the content of client
//!   extension outputs (the extensions block is decoded, not interpreted);
//! - the backup flags (BE/BS), which the mock's policies do not use.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ciborium::Value;
use sha2::{Digest, Sha256};

/// Flag bit 0: the user was present (UP).
pub(crate) const FLAG_USER_PRESENT: u8 = 1 << 0;
/// Flag bit 2: the user was verified (UV).
pub(crate) const FLAG_USER_VERIFIED: u8 = 1 << 2;
/// Flag bit 6: attested credential data follows the counter (AT).
pub(crate) const FLAG_ATTESTED_CREDENTIAL_DATA: u8 = 1 << 6;
/// Flag bit 7: an extensions map ends the authenticator data (ED).
pub(crate) const FLAG_EXTENSION_DATA: u8 = 1 << 7;

pub mod authenticator;
mod keys;
pub mod verify;

pub use verify::{PublicKey, SeededCredential};

/// The request field every [`AttestationError`] points at.
pub(crate) const ATTESTATION_OBJECT_FIELD: &str = "attestationObject";

/// rpIdHash (32) + flags (1) + signCount (4).
const AUTH_DATA_HEADER_LEN: usize = 37;
/// The header, then the AAGUID (16) and the credential id length (2).
const ATTESTED_HEADER_LEN: usize = AUTH_DATA_HEADER_LEN + 16 + 2;

/// Decodes base64url with or without padding, because `PublicKeyCredential.toJSON()` omits
/// padding while some client libraries add it.
pub(crate) const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes base64url, padded or not (surrounding whitespace ignored).
pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_LENIENT.decode(text.trim()).ok()
}

/// Encodes base64url without padding, as WebAuthn's JSON forms do.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Why an `attestationObject` was rejected.
///
/// Every variant concerns the `attestationObject` request field, which the error response
/// points at; the message names the location inside it, JSON-pointer style.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    /// The field is not base64url.
    #[error("attestationObject is not base64url")]
    NotBase64Url,
    /// The decoded bytes are not a CBOR map.
    #[error("attestationObject is not a CBOR map")]
    NotCbor,
    /// A required member of the CBOR map is absent; the value names the member.
    #[error("attestationObject/{0} is missing")]
    MissingMember(&'static str),
    /// A member has the wrong CBOR type; the value names the member.
    #[error("attestationObject/{0} is not {expected}", expected = expected_type(.0))]
    WrongType(&'static str),
    /// The authenticator data ends before a field it must contain.
    #[error("attestationObject/authData is {got} bytes long but needs at least {needed}")]
    AuthDataTooShort {
        /// The length needed to read the next field.
        needed: usize,
        /// The authenticator data's length in bytes.
        got: usize,
    },
    /// The AT flag is clear, so there is no credential to register.
    #[error("attestationObject/authData has no attested credential data (flag AT is clear)")]
    NoAttestedCredentialData,
    /// The credential public key is not a CBOR map.
    #[error("attestationObject/authData/credentialPublicKey is not a CBOR map")]
    BadCredentialPublicKey,
    /// The ED flag is set but no extensions map follows, or bytes follow the last item.
    #[error("attestationObject/authData has {0} bytes after its last item")]
    TrailingBytes(usize),
    /// The ED flag is set but what follows the credential is not a CBOR map.
    #[error("attestationObject/authData/extensions is not a CBOR map")]
    BadExtensions,
}

impl AttestationError {
    /// The request field at fault, for error responses that point at a field.
    pub(crate) fn field(&self) -> &'static str {
        ATTESTATION_OBJECT_FIELD
    }
}

/// The CBOR type a member of the attestation object must have, for error messages.
fn expected_type(member: &str) -> &'static str {
    match member {
        "fmt" => "a text string",
        "attStmt" => "a map",
        "authData" => "a byte string",
        _ => "of the expected type",
    }
}

/// The attestation statement format, from the `fmt` member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttestationFormat {
    /// `packed`
    Packed,
    /// `tpm`
    Tpm,
    /// `android-key`
    AndroidKey,
    /// `android-safetynet`
    AndroidSafetynet,
    /// `fido-u2f`
    FidoU2f,
    /// `apple`
    Apple,
    /// `none`
    None,
    /// Any identifier not registered when this was written, kept verbatim.
    Other(String),
}

impl AttestationFormat {
    /// The registered identifier, as it appears in `fmt`.
    pub fn as_str(&self) -> &str {
        match self {
            AttestationFormat::Packed => "packed",
            AttestationFormat::Tpm => "tpm",
            AttestationFormat::AndroidKey => "android-key",
            AttestationFormat::AndroidSafetynet => "android-safetynet",
            AttestationFormat::FidoU2f => "fido-u2f",
            AttestationFormat::Apple => "apple",
            AttestationFormat::None => "none",
            AttestationFormat::Other(other) => other,
        }
    }
}

impl From<&str> for AttestationFormat {
    fn from(s: &str) -> AttestationFormat {
        match s {
            "packed" => AttestationFormat::Packed,
            "tpm" => AttestationFormat::Tpm,
            "android-key" => AttestationFormat::AndroidKey,
            "android-safetynet" => AttestationFormat::AndroidSafetynet,
            "fido-u2f" => AttestationFormat::FidoU2f,
            "apple" => AttestationFormat::Apple,
            "none" => AttestationFormat::None,
            other => AttestationFormat::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for AttestationFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authenticator model identifier (AAGUID).
///
/// `Display` and `FromStr` use the canonical `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` form in
/// lowercase hex; parsing also accepts uppercase digits. Serde uses the same string form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Aaguid(pub(crate) [u8; 16]);

impl Aaguid {
    /// The all-zero AAGUID that `none` attestation and privacy-preserving authenticators report.
    pub const ZERO: Aaguid = Aaguid([0; 16]);

    /// Whether every byte is zero, meaning the authenticator model is not disclosed.
    pub(crate) fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for Aaguid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// Why a string is not a canonical AAGUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an AAGUID in the 8-4-4-4-12 hex form")]
pub struct AaguidParseError(pub String);

impl FromStr for Aaguid {
    type Err = AaguidParseError;

    fn from_str(s: &str) -> Result<Aaguid, AaguidParseError> {
        let err = || AaguidParseError(s.to_owned());
        let bytes = s.as_bytes();
        if bytes.len() != 36 {
            return Err(err());
        }
        let mut out = [0u8; 16];
        let mut digits = Vec::with_capacity(32);
        for (i, &c) in bytes.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if c != b'-' {
                    return Err(err());
                }
                continue;
            }
            let digit = (c as char).to_digit(16).ok_or_else(err)?;
            // `to_digit(16)` returns values below 16, so the narrowing is lossless.
            digits.push(digit as u8);
        }
        for (slot, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
            *slot = (pair[0] << 4) | pair[1];
        }
        Ok(Aaguid(out))
    }
}

impl serde::Serialize for Aaguid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Aaguid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Aaguid, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What the mock learns from a registration's attestation object.
#[derive(Debug, Clone, PartialEq)]
pub struct Attestation {
    /// The attestation statement format.
    pub fmt: AttestationFormat,
    /// The authenticator model the attested credential data claims (all
    /// zeros when it claims none); only a certified attestation proves it.
    pub aaguid: Aaguid,
    /// The credential id the authenticator chose.
    pub credential_id: Vec<u8>,
    /// The authenticator data flags byte; see the `FLAG_*` constants.
    pub flags: u8,
    /// The signature counter the authenticator data carries (0 when the
    /// authenticator keeps none).
    pub sign_count: u32,
    /// The SHA-256 of the RP id the authenticator used (not compared against anything).
    pub rp_id_hash: [u8; 32],
    /// The length in bytes of the CBOR-encoded credential public key.
    pub credential_public_key_len: usize,
    /// The CBOR-encoded credential public key (a COSE_Key).
    pub credential_public_key: Vec<u8>,
    /// The attestation statement (`attStmt`), a CBOR map.
    pub att_stmt: Vec<(Value, Value)>,
    /// The authenticator data as sent, which attestation signatures cover.
    pub auth_data: Vec<u8>,
}

impl Attestation {
    /// Whether the UP flag is set.
    pub fn user_present(&self) -> bool {
        self.flags & FLAG_USER_PRESENT != 0
    }

    /// Whether the UV flag is set.
    pub fn user_verified(&self) -> bool {
        self.flags & FLAG_USER_VERIFIED != 0
    }
}

/// Decodes an `attestationObject` as sent by a browser; see the module docs for what is and is
/// not checked.
pub fn parse_attestation_object(b64url: &str) -> Result<Attestation, AttestationError> {
    let raw = URL_SAFE_LENIENT
        .decode(b64url.trim())
        .map_err(|_| AttestationError::NotBase64Url)?;
    let value: Value =
        ciborium::from_reader(raw.as_slice()).map_err(|_| AttestationError::NotCbor)?;
    let Value::Map(members) = value else {
        return Err(AttestationError::NotCbor);
    };

    let fmt = match member(&members, "fmt")? {
        Value::Text(text) => AttestationFormat::from(text.as_str()),
        _ => return Err(AttestationError::WrongType("fmt")),
    };
    let Value::Map(att_stmt) = member(&members, "attStmt")? else {
        return Err(AttestationError::WrongType("attStmt"));
    };
    let Value::Bytes(auth_data) = member(&members, "authData")? else {
        return Err(AttestationError::WrongType("authData"));
    };

    let mut attestation = parse_auth_data(fmt, auth_data)?;
    attestation.att_stmt = att_stmt.clone();
    Ok(attestation)
}

/// The value of a text-keyed member; the first occurrence wins if a key repeats.
fn member<'a>(
    members: &'a [(Value, Value)],
    name: &'static str,
) -> Result<&'a Value, AttestationError> {
    members
        .iter()
        .find(|(key, _)| matches!(key, Value::Text(k) if k == name))
        .map(|(_, value)| value)
        .ok_or(AttestationError::MissingMember(name))
}

/// Walks the authenticator data layout from WebAuthn level 3, section 6.1.
fn parse_auth_data(fmt: AttestationFormat, data: &[u8]) -> Result<Attestation, AttestationError> {
    let too_short = |needed: usize| AttestationError::AuthDataTooShort {
        needed,
        got: data.len(),
    };
    let header = data
        .get(..AUTH_DATA_HEADER_LEN)
        .ok_or(too_short(AUTH_DATA_HEADER_LEN))?;
    let mut rp_id_hash = [0u8; 32];
    rp_id_hash.copy_from_slice(&header[..32]);
    let flags = header[32];
    let sign_count = u32::from_be_bytes([header[33], header[34], header[35], header[36]]);

    if flags & FLAG_ATTESTED_CREDENTIAL_DATA == 0 {
        return Err(AttestationError::NoAttestedCredentialData);
    }
    let attested = data
        .get(AUTH_DATA_HEADER_LEN..ATTESTED_HEADER_LEN)
        .ok_or(too_short(ATTESTED_HEADER_LEN))?;
    let mut aaguid = [0u8; 16];
    aaguid.copy_from_slice(&attested[..16]);
    let id_len = usize::from(u16::from_be_bytes([attested[16], attested[17]]));
    let key_start = ATTESTED_HEADER_LEN + id_len;
    let credential_id = data
        .get(ATTESTED_HEADER_LEN..key_start)
        .ok_or(too_short(key_start))?
        .to_vec();

    let key_bytes = &data[key_start..];
    if key_bytes.is_empty() {
        return Err(too_short(key_start + 1));
    }
    // Reading from a shrinking slice tells how many bytes the key occupied, since ciborium
    // reads exactly one item and does not read ahead.
    let mut rest = key_bytes;
    match ciborium::from_reader::<Value, _>(&mut rest) {
        Ok(Value::Map(_)) => {}
        _ => return Err(AttestationError::BadCredentialPublicKey),
    }
    let credential_public_key_len = key_bytes.len() - rest.len();
    if flags & FLAG_EXTENSION_DATA != 0 {
        match ciborium::from_reader::<Value, _>(&mut rest) {
            Ok(Value::Map(_)) => {}
            _ => return Err(AttestationError::BadExtensions),
        }
    }
    if !rest.is_empty() {
        return Err(AttestationError::TrailingBytes(rest.len()));
    }

    Ok(Attestation {
        fmt,
        aaguid: Aaguid(aaguid),
        credential_id,
        flags,
        sign_count,
        rp_id_hash,
        credential_public_key_len,
        credential_public_key: key_bytes[..credential_public_key_len].to_vec(),
        att_stmt: Vec::new(),
        auth_data: data.to_vec(),
    })
}

/// Builds a structurally valid `attestationObject` for decoding tests; the mock's enrolment
/// refuses it (use [`authenticator::SoftAuthenticator`] for one that verifies).
///
/// The result is base64url without padding, like `PublicKeyCredential.toJSON()`. It carries an
/// empty `attStmt` whatever `fmt` says, authenticator data for RP id `localhost` with the UP,
/// UV and AT flags and a zero counter, and an ES256 COSE EC2 key whose coordinates are derived
/// from the credential id. Those coordinates are not a point on P-256, so the COSE key check
/// of [`verify`] refuses it.
///
/// # Panics
///
/// Panics if `credential_id` is longer than 65535 bytes, which the two-byte length field
/// cannot express (WebAuthn itself caps credential ids at 1023 bytes).
pub fn build_attestation_object(fmt: &str, aaguid: Aaguid, credential_id: &[u8]) -> String {
    let id_len = u16::try_from(credential_id.len())
        .expect("a credential id longer than 65535 bytes cannot be encoded");

    let x = Sha256::new()
        .chain_update(b"x")
        .chain_update(credential_id)
        .finalize();
    let y = Sha256::new()
        .chain_update(b"y")
        .chain_update(credential_id)
        .finalize();
    // COSE key parameters in CTAP2 canonical order: kty = EC2, alg = ES256, crv = P-256, x, y.
    let cose_key = Value::Map(vec![
        (Value::from(1), Value::from(2)),
        (Value::from(3), Value::from(-7)),
        (Value::from(-1), Value::from(1)),
        (Value::from(-2), Value::Bytes(x.to_vec())),
        (Value::from(-3), Value::Bytes(y.to_vec())),
    ]);

    let mut auth_data = Vec::with_capacity(ATTESTED_HEADER_LEN + credential_id.len() + 80);
    auth_data.extend_from_slice(&Sha256::digest(b"localhost"));
    auth_data.push(FLAG_USER_PRESENT | FLAG_USER_VERIFIED | FLAG_ATTESTED_CREDENTIAL_DATA);
    auth_data.extend_from_slice(&0u32.to_be_bytes());
    auth_data.extend_from_slice(aaguid.as_bytes());
    auth_data.extend_from_slice(&id_len.to_be_bytes());
    auth_data.extend_from_slice(credential_id);
    write_cbor(&cose_key, &mut auth_data);

    let object = Value::Map(vec![
        (Value::from("fmt"), Value::from(fmt)),
        (Value::from("attStmt"), Value::Map(Vec::new())),
        (Value::from("authData"), Value::Bytes(auth_data)),
    ]);
    let mut out = Vec::new();
    write_cbor(&object, &mut out);
    URL_SAFE_NO_PAD.encode(out)
}

/// Appends the CBOR encoding of `value`.
fn write_cbor(value: &Value, out: &mut Vec<u8>) {
    // Serializing a `Value` into a `Vec` can only fail on an I/O error, and writing to a `Vec`
    // never fails.
    ciborium::into_writer(value, out).expect("writing CBOR into a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const YUBIKEY_AAGUID: &str = "ee882879-721c-4913-9775-3dfcce97072a";

    fn encode(value: &Value) -> String {
        let mut out = Vec::new();
        write_cbor(value, &mut out);
        URL_SAFE_NO_PAD.encode(out)
    }

    fn object_with_auth_data(auth_data: Vec<u8>) -> String {
        encode(&Value::Map(vec![
            (Value::from("fmt"), Value::from("none")),
            (Value::from("attStmt"), Value::Map(Vec::new())),
            (Value::from("authData"), Value::Bytes(auth_data)),
        ]))
    }

    /// The authenticator data inside a built object, for tests that damage it.
    fn built_auth_data(credential_id: &[u8]) -> Vec<u8> {
        let raw = URL_SAFE_NO_PAD
            .decode(build_attestation_object(
                "none",
                Aaguid::ZERO,
                credential_id,
            ))
            .unwrap();
        let Value::Map(members) = ciborium::from_reader::<Value, _>(raw.as_slice()).unwrap() else {
            panic!("built object is not a map");
        };
        match member(&members, "authData").unwrap() {
            Value::Bytes(bytes) => bytes.clone(),
            other => panic!("authData is {other:?}"),
        }
    }

    #[test]
    fn build_then_parse_round_trips() {
        let aaguid: Aaguid = YUBIKEY_AAGUID.parse().unwrap();
        let credential_id = b"credential-0123456789";
        let object = build_attestation_object("packed", aaguid, credential_id);
        assert!(!object.contains('='));
        let parsed = parse_attestation_object(&object).unwrap();
        assert_eq!(parsed.fmt, AttestationFormat::Packed);
        assert_eq!(parsed.aaguid, aaguid);
        assert_eq!(parsed.credential_id, credential_id);
        assert_eq!(parsed.flags, 0x45);
        assert!(parsed.user_present());
        assert!(parsed.user_verified());
        assert_eq!(parsed.sign_count, 0);
        assert_eq!(
            parsed.rp_id_hash.as_slice(),
            Sha256::digest(b"localhost").as_slice()
        );
        // A five-entry map header, three one-byte keys with one-byte values, two one-byte keys
        // each with a 32-byte string behind a two-byte header.
        assert_eq!(
            parsed.credential_public_key_len,
            1 + 3 * 2 + 2 * (1 + 2 + 32)
        );
    }

    #[test]
    fn fmt_none_with_zero_aaguid() {
        let parsed =
            parse_attestation_object(&build_attestation_object("none", Aaguid::ZERO, &[9; 16]))
                .unwrap();
        assert_eq!(parsed.fmt, AttestationFormat::None);
        assert!(parsed.aaguid.is_zero());
        assert_eq!(
            parsed.aaguid.to_string(),
            "00000000-0000-0000-0000-000000000000"
        );
    }

    #[test]
    fn padded_input_is_accepted() {
        let object = build_attestation_object("none", Aaguid::ZERO, b"abcd");
        let padding = "=".repeat((4 - object.len() % 4) % 4);
        assert!(!padding.is_empty(), "pick an id whose object needs padding");
        let padded = format!("{object}{padding}");
        assert_eq!(
            parse_attestation_object(&padded),
            parse_attestation_object(&object)
        );
    }

    #[test]
    fn all_formats_are_recognised() {
        for (name, expected) in [
            ("packed", AttestationFormat::Packed),
            ("tpm", AttestationFormat::Tpm),
            ("android-key", AttestationFormat::AndroidKey),
            ("android-safetynet", AttestationFormat::AndroidSafetynet),
            ("fido-u2f", AttestationFormat::FidoU2f),
            ("apple", AttestationFormat::Apple),
            ("none", AttestationFormat::None),
            ("compound", AttestationFormat::Other("compound".to_owned())),
        ] {
            let parsed =
                parse_attestation_object(&build_attestation_object(name, Aaguid::ZERO, b"id"))
                    .unwrap();
            assert_eq!(parsed.fmt, expected);
            assert_eq!(parsed.fmt.to_string(), name);
        }
    }

    #[test]
    fn not_base64url() {
        for bad in ["not base64!", "abc+def/", "a"] {
            assert_eq!(
                parse_attestation_object(bad),
                Err(AttestationError::NotBase64Url),
                "{bad}"
            );
        }
    }

    #[test]
    fn not_cbor() {
        // 0xff is a lone "break" code, and 0x5f... is an unterminated byte string.
        for bytes in [&[0xff_u8][..], &[0x5f, 0x41], &[]] {
            let input = URL_SAFE_NO_PAD.encode(bytes);
            assert_eq!(
                parse_attestation_object(&input),
                Err(AttestationError::NotCbor)
            );
        }
        // Valid CBOR that is not a map.
        assert_eq!(
            parse_attestation_object(&encode(&Value::from("fmt"))),
            Err(AttestationError::NotCbor)
        );
    }

    #[test]
    fn missing_members() {
        let without = |skip: &str| {
            let members = [
                ("fmt", Value::from("none")),
                ("attStmt", Value::Map(Vec::new())),
                ("authData", Value::Bytes(built_auth_data(b"id"))),
            ]
            .into_iter()
            .filter(|(name, _)| *name != skip)
            .map(|(name, value)| (Value::from(name), value))
            .collect();
            encode(&Value::Map(members))
        };
        for name in ["fmt", "attStmt", "authData"] {
            assert_eq!(
                parse_attestation_object(&without(name)),
                Err(AttestationError::MissingMember(name))
            );
        }
        assert_eq!(
            AttestationError::MissingMember("fmt").to_string(),
            "attestationObject/fmt is missing"
        );
    }

    #[test]
    fn wrong_types() {
        let cases = [
            ("fmt", Value::from(1)),
            ("attStmt", Value::Array(Vec::new())),
            ("authData", Value::from("text, not bytes")),
        ];
        for (name, wrong) in cases {
            let members = [
                ("fmt", Value::from("none")),
                ("attStmt", Value::Map(Vec::new())),
                ("authData", Value::Bytes(built_auth_data(b"id"))),
            ]
            .into_iter()
            .map(|(n, v)| (Value::from(n), if n == name { wrong.clone() } else { v }))
            .collect();
            assert_eq!(
                parse_attestation_object(&encode(&Value::Map(members))),
                Err(AttestationError::WrongType(name))
            );
        }
        assert_eq!(
            AttestationError::WrongType("authData").to_string(),
            "attestationObject/authData is not a byte string"
        );
    }

    #[test]
    fn truncated_auth_data() {
        let full = built_auth_data(b"0123456789");
        let key_start = ATTESTED_HEADER_LEN + 10;
        let cases = [
            (0, AUTH_DATA_HEADER_LEN),
            (36, AUTH_DATA_HEADER_LEN),
            (37, ATTESTED_HEADER_LEN),
            (54, ATTESTED_HEADER_LEN),
            (55, key_start),
            (key_start - 1, key_start),
            (key_start, key_start + 1),
        ];
        for (len, needed) in cases {
            let truncated = full[..len].to_vec();
            assert_eq!(
                parse_attestation_object(&object_with_auth_data(truncated)),
                Err(AttestationError::AuthDataTooShort { needed, got: len }),
                "len {len}"
            );
        }
        assert_eq!(
            AttestationError::AuthDataTooShort { needed: 37, got: 5 }.to_string(),
            "attestationObject/authData is 5 bytes long but needs at least 37"
        );
    }

    #[test]
    fn truncated_public_key() {
        let full = built_auth_data(b"0123456789");
        let truncated = full[..full.len() - 1].to_vec();
        assert_eq!(
            parse_attestation_object(&object_with_auth_data(truncated)),
            Err(AttestationError::BadCredentialPublicKey)
        );
    }

    #[test]
    fn public_key_that_is_not_a_map() {
        let mut auth_data = built_auth_data(b"id");
        auth_data.truncate(ATTESTED_HEADER_LEN + 2);
        auth_data.push(0x01); // The CBOR unsigned integer 1.
        assert_eq!(
            parse_attestation_object(&object_with_auth_data(auth_data)),
            Err(AttestationError::BadCredentialPublicKey)
        );
    }

    #[test]
    fn at_flag_clear() {
        let mut auth_data = built_auth_data(b"id");
        auth_data[32] &= !FLAG_ATTESTED_CREDENTIAL_DATA;
        assert_eq!(
            parse_attestation_object(&object_with_auth_data(auth_data.clone())),
            Err(AttestationError::NoAttestedCredentialData)
        );
        // An assertion-style authData of just the 37-byte header hits the same error.
        auth_data.truncate(AUTH_DATA_HEADER_LEN);
        assert_eq!(
            parse_attestation_object(&object_with_auth_data(auth_data)),
            Err(AttestationError::NoAttestedCredentialData)
        );
    }

    #[test]
    fn extensions_are_read_and_nothing_may_follow() {
        let mut auth_data = built_auth_data(b"id");
        auth_data.push(0x00);
        assert_eq!(
            parse_attestation_object(&object_with_auth_data(auth_data.clone())),
            Err(AttestationError::TrailingBytes(1))
        );
        // With ED set, one CBOR map may follow, and then nothing.
        auth_data.pop();
        auth_data[32] |= FLAG_EXTENSION_DATA;
        assert_eq!(
            parse_attestation_object(&object_with_auth_data(auth_data.clone())),
            Err(AttestationError::BadExtensions)
        );
        let mut with_map = auth_data.clone();
        with_map.push(0xa0);
        assert!(parse_attestation_object(&object_with_auth_data(with_map.clone())).is_ok());
        with_map.push(0x00);
        assert_eq!(
            parse_attestation_object(&object_with_auth_data(with_map)),
            Err(AttestationError::TrailingBytes(1))
        );
        auth_data.push(0x01);
        assert_eq!(
            parse_attestation_object(&object_with_auth_data(auth_data)),
            Err(AttestationError::BadExtensions)
        );
    }

    #[test]
    fn sign_count_is_big_endian() {
        let mut auth_data = built_auth_data(b"id");
        auth_data[33..37].copy_from_slice(&[0x01, 0x02, 0x03, 0x04]);
        let parsed = parse_attestation_object(&object_with_auth_data(auth_data)).unwrap();
        assert_eq!(parsed.sign_count, 0x0102_0304);
    }

    #[test]
    fn every_error_points_at_the_field() {
        let errors = [
            AttestationError::NotBase64Url,
            AttestationError::NotCbor,
            AttestationError::MissingMember("fmt"),
            AttestationError::WrongType("attStmt"),
            AttestationError::AuthDataTooShort { needed: 1, got: 0 },
            AttestationError::NoAttestedCredentialData,
            AttestationError::BadCredentialPublicKey,
            AttestationError::TrailingBytes(1),
            AttestationError::BadExtensions,
        ];
        for error in errors {
            assert_eq!(error.field(), "attestationObject");
            assert!(
                error.to_string().starts_with("attestationObject"),
                "{error}"
            );
        }
    }

    #[test]
    fn aaguid_text_form() {
        let aaguid: Aaguid = YUBIKEY_AAGUID.parse().unwrap();
        assert_eq!(aaguid.to_string(), YUBIKEY_AAGUID);
        assert_eq!(aaguid.as_bytes()[0], 0xee);
        assert_eq!(aaguid.as_bytes()[15], 0x2a);
        assert!(!aaguid.is_zero());
        assert_eq!(YUBIKEY_AAGUID.to_uppercase().parse::<Aaguid>(), Ok(aaguid));
        for bad in [
            "",
            "ee8828797-21c-4913-9775-3dfcce97072a",
            "ee882879721c491397753dfcce97072a",
            "ee882879-721c-4913-9775-3dfcce97072g",
            "ee882879-721c-4913-9775-3dfcce97072a0",
            "ee882879-721c-4913-9775-3dfcce9707+a",
        ] {
            assert_eq!(
                bad.parse::<Aaguid>(),
                Err(AaguidParseError(bad.to_owned())),
                "{bad}"
            );
        }
        // A multi-byte character must not be mistaken for a digit or split a code point.
        assert!(
            "ee882879-721c-4913-9775-3dfcce9707é"
                .parse::<Aaguid>()
                .is_err()
        );
    }

    #[test]
    fn aaguid_serde_uses_the_text_form() {
        let aaguid: Aaguid = YUBIKEY_AAGUID.parse().unwrap();
        let json = serde_json::to_string(&aaguid).unwrap();
        assert_eq!(json, format!("\"{YUBIKEY_AAGUID}\""));
        assert_eq!(serde_json::from_str::<Aaguid>(&json).unwrap(), aaguid);
        assert!(serde_json::from_str::<Aaguid>("\"nope\"").is_err());
    }

    #[test]
    fn huge_declared_lengths_are_rejected_without_allocating() {
        // A byte string and an array that each claim 2^63 elements but end immediately.
        for bytes in [
            &[0x5b, 0x80, 0, 0, 0, 0, 0, 0, 0][..],
            &[0x9b, 0x80, 0, 0, 0, 0, 0, 0, 0],
        ] {
            assert_eq!(
                parse_attestation_object(&URL_SAFE_NO_PAD.encode(bytes)),
                Err(AttestationError::NotCbor)
            );
        }
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_attestation_object(&URL_SAFE_NO_PAD.encode(&bytes));
        }

        #[test]
        fn random_auth_data_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_attestation_object(&object_with_auth_data(bytes));
        }

        #[test]
        fn random_strings_never_panic(s in "\\PC{0,128}") {
            let _ = parse_attestation_object(&s);
        }

        #[test]
        fn built_objects_parse(
            fmt in "[a-z-]{1,20}",
            aaguid in any::<[u8; 16]>(),
            credential_id in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let object = build_attestation_object(&fmt, Aaguid(aaguid), &credential_id);
            let parsed = parse_attestation_object(&object).unwrap();
            prop_assert_eq!(parsed.fmt.as_str(), fmt.as_str());
            prop_assert_eq!(parsed.aaguid, Aaguid(aaguid));
            prop_assert_eq!(parsed.credential_id, credential_id);
        }

        #[test]
        fn aaguid_text_round_trips(bytes in any::<[u8; 16]>()) {
            let aaguid = Aaguid(bytes);
            prop_assert_eq!(aaguid.to_string().parse::<Aaguid>(), Ok(aaguid));
        }
    }
}
