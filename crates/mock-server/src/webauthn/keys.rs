//! Keys and certificates: the COSE (and SEC1) P-256 credential key, checked on the curve,
//! and the attestation certificates of `packed` x5c: their validity, the leaf profile of
//! WebAuthn section 8.2.1, the CA flag, the public key and each link's signature. X.509 is
//! decoded with RustCrypto's `x509-cert`; signatures are verified with ring.

use ciborium::Value;
use ring::agreement;
use ring::rand::SystemRandom;
use ring::signature::{self, UnparsedPublicKey};
use x509_cert::Certificate;
use x509_cert::der::asn1::{ObjectIdentifier, OctetString};
use x509_cert::der::{Decode, Encode, Tag, Tagged};
use x509_cert::ext::pkix::BasicConstraints;

use super::Aaguid;

/// COSE algorithm ES256 (ECDSA with SHA-256 on P-256).
pub const COSE_ALG_ES256: i64 = -7;

const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
/// id-fido-gen-ce-aaguid: the authenticator model in an attestation certificate.
const OID_FIDO_AAGUID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4");

/// Why a credential public key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not a CBOR map.
    #[error("not a COSE_Key (CBOR map)")]
    NotCose,
    /// `kty` is not 2 (EC2).
    #[error("kty is not EC2 (2)")]
    NotEc2,
    /// `alg` is not -7.
    #[error("alg is not ES256 (-7), the only algorithm accepted")]
    NotEs256,
    /// `crv` is not 1.
    #[error("crv is not P-256 (1)")]
    NotP256,
    /// `x` or `y` is missing or not 32 bytes.
    #[error("x and y must be 32-byte strings")]
    BadCoordinates,
    /// The coordinates are not a point on P-256.
    #[error("(x, y) is not a point on P-256")]
    NotOnCurve,
}

/// A validated ES256 public key: an uncompressed SEC1 P-256 point.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(pub(super) [u8; 65]);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", super::b64url(&self.0))
    }
}

impl PublicKey {
    /// Reads a COSE_Key (RFC 9053 EC2: kty 2, alg -7, crv 1, x, y) and checks the point.
    pub fn from_cose(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        let Ok(Value::Map(members)) = ciborium::from_reader::<Value, _>(bytes) else {
            return Err(KeyError::NotCose);
        };
        let get = |label: i64| {
            members
                .iter()
                .find(|(k, _)| {
                    k.as_integer()
                        .is_some_and(|i| i128::from(i) == i128::from(label))
                })
                .map(|(_, v)| v)
        };
        let int = |label: i64| get(label).and_then(Value::as_integer).map(i128::from);
        if int(1) != Some(2) {
            return Err(KeyError::NotEc2);
        }
        if int(3) != Some(i128::from(COSE_ALG_ES256)) {
            return Err(KeyError::NotEs256);
        }
        if int(-1) != Some(1) {
            return Err(KeyError::NotP256);
        }
        let coordinate = |label| match get(label) {
            Some(Value::Bytes(b)) if b.len() == 32 => Ok(b.as_slice()),
            _ => Err(KeyError::BadCoordinates),
        };
        let mut point = [0u8; 65];
        point[0] = 0x04;
        point[1..33].copy_from_slice(coordinate(-2)?);
        point[33..].copy_from_slice(coordinate(-3)?);
        PublicKey::from_sec1(&point)
    }

    /// Reads an uncompressed SEC1 point and checks that it is on P-256.
    pub fn from_sec1(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        let point: [u8; 65] = bytes.try_into().map_err(|_| KeyError::BadCoordinates)?;
        if point[0] != 0x04 || !is_p256_point(&point) {
            return Err(KeyError::NotOnCurve);
        }
        Ok(PublicKey(point))
    }

    /// The uncompressed SEC1 point.
    pub fn as_sec1(&self) -> &[u8; 65] {
        &self.0
    }

    /// Whether `signature` (ASN.1 DER ECDSA) signs `message` with SHA-256 under this key.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, &self.0)
            .verify(message, signature)
            .is_ok()
    }
}

/// Whether ring accepts `point` as an ECDH peer key on P-256: it checks the encoding, the
/// range of the coordinates and the curve equation (and refuses the point at infinity).
pub(super) fn is_p256_point(point: &[u8]) -> bool {
    let rng = SystemRandom::new();
    let Ok(ephemeral) = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng)
    else {
        return false;
    };
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, point);
    agreement::agree_ephemeral(ephemeral, &peer, |_| ()).is_ok()
}

pub(super) fn validity_ok(cert: &Certificate, now_unix: u64) -> bool {
    check_validity(cert, now_unix).is_ok()
}

pub(super) fn check_validity(cert: &Certificate, now_unix: u64) -> Result<(), String> {
    let validity = &cert.tbs_certificate.validity;
    if validity.not_before.to_unix_duration().as_secs() > now_unix {
        return Err("is not valid yet (notBefore)".into());
    }
    if validity.not_after.to_unix_duration().as_secs() < now_unix {
        return Err("has expired (notAfter)".into());
    }
    Ok(())
}

/// The leaf requirements of section 8.2.1: version 3, OU "Authenticator Attestation", not a
/// CA, and the AAGUID extension, if present, not critical and equal to the AAGUID.
pub(super) fn check_leaf(leaf: &Certificate, aaguid: Aaguid) -> Result<(), String> {
    if leaf.tbs_certificate.version != x509_cert::Version::V3 {
        return Err("is not an X.509 version 3 certificate".into());
    }
    let ou_ok = leaf.tbs_certificate.subject.0.iter().any(|rdn| {
        rdn.0.iter().any(|atv| {
            atv.oid == OID_OU
                && matches!(atv.value.tag(), Tag::Utf8String | Tag::PrintableString)
                && atv.value.value() == b"Authenticator Attestation"
        })
    });
    if !ou_ok {
        return Err("subject OU is not \"Authenticator Attestation\"".into());
    }
    let extensions = leaf
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default();
    let basic = extensions
        .iter()
        .find(|e| e.extn_id == OID_BASIC_CONSTRAINTS)
        .ok_or("has no basic constraints extension")?;
    let basic = BasicConstraints::from_der(basic.extn_value.as_bytes())
        .map_err(|e| format!("basic constraints are not readable: {e}"))?;
    if basic.ca {
        return Err("is a CA certificate; an attestation leaf must not be".into());
    }
    if let Some(ext) = extensions.iter().find(|e| e.extn_id == OID_FIDO_AAGUID) {
        if ext.critical {
            return Err("marks the AAGUID extension critical".into());
        }
        let value = OctetString::from_der(ext.extn_value.as_bytes())
            .map_err(|_| "the AAGUID extension is not an OCTET STRING")?;
        if value.as_bytes() != aaguid.as_bytes() {
            return Err(format!(
                "the AAGUID extension does not match the authenticator data's AAGUID {aaguid}"
            ));
        }
    }
    Ok(())
}

pub(super) fn is_ca(cert: &Certificate) -> bool {
    cert.tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|e| e.extn_id == OID_BASIC_CONSTRAINTS)
        .and_then(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|b| b.ca)
}

/// The certificate's P-256 public key.
pub(super) fn ec_public_key(cert: &Certificate) -> Result<PublicKey, String> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != OID_EC_PUBLIC_KEY
        || spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            != Some(OID_P256)
    {
        return Err("the public key is not an EC P-256 key".into());
    }
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or("the public key bit string is not whole bytes")?;
    PublicKey::from_sec1(bits).map_err(|e| format!("the public key: {e}"))
}

/// Whether `issuer` signed `cert` (ECDSA with SHA-256, names chained).
pub(super) fn signed_by(cert: &Certificate, issuer: &Certificate) -> Result<(), String> {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Err("the issuer name is not the next certificate's subject".into());
    }
    if cert.signature_algorithm.oid != OID_ECDSA_SHA256 {
        return Err("the signature algorithm is not ecdsa-with-SHA256".into());
    }
    let key = ec_public_key(issuer)?;
    let tbs = cert
        .tbs_certificate
        .to_der()
        .map_err(|e| format!("cannot re-encode: {e}"))?;
    let sig = cert
        .signature
        .as_bytes()
        .ok_or("the signature bit string is not whole bytes")?;
    if key.verifies(&tbs, sig) {
        Ok(())
    } else {
        Err("the signature does not verify".into())
    }
}
