//! A software WebAuthn authenticator (ES256), the client half of the
//! ceremonies a scenario drives.
//!
//! [`create`] answers a registration challenge with `clientDataJSON` and an
//! `attestationObject` (`none`, `packed` self attestation, or `packed` with
//! an `x5c` chain for a chosen AAGUID) and hands back the new credential's
//! private key (PKCS#8) so later steps can sign with it. [`get`] signs an
//! assertion for a challenge with a credential's private key.
//!
//! Both follow WebAuthn Level 3 §6.1 (authenticator data), §8.2 (packed
//! attestation) and §5.8.1 (client data); what a relying party verifies is
//! checked by py_webauthn in CI (`scripts/webauthn-runner-check.sh`). The
//! knobs in [`Claims`] let a scenario send what a broken or hostile client
//! would (another origin or RP id, no user presence, a counter going back, a
//! flipped signature byte), so the target's refusals can be proven.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::Value;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

/// COSE algorithm identifier of ES256.
const COSE_ES256: i64 = -7;
/// Authenticator data flag: user present.
const FLAG_UP: u8 = 0x01;
/// Authenticator data flag: user verified.
const FLAG_UV: u8 = 0x04;
/// Authenticator data flag: attested credential data included.
const FLAG_AT: u8 = 0x40;

/// Why the authenticator cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthenticatorError {
    /// A key is not a PKCS#8 P-256 private key.
    #[error("{0} is not a PKCS#8 P-256 private key (base64url of its DER)")]
    BadKey(&'static str),
    /// A value is not base64url.
    #[error("{0} is not base64url")]
    NotBase64Url(&'static str),
    /// The AAGUID is not a UUID.
    #[error("`{0}` is not an AAGUID (a UUID such as ee882879-721c-4913-9775-3dfcce97072a)")]
    BadAaguid(String),
    /// `packed` with `x5c` needs the attestation key and certificate.
    #[error("`packed-x5c` attestation needs `attestation_key` and `attestation_cert`")]
    MissingAttestationMaterial,
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// What the client claims in `clientDataJSON` and the authenticator in its
/// data. The defaults are an honest client: the profile's origin and RP id,
/// user present and verified, counter 0, the ceremony's own type.
#[derive(Debug, Clone)]
pub(crate) struct Claims {
    /// `clientDataJSON.origin`.
    pub(crate) origin: String,
    /// The RP id whose SHA-256 starts the authenticator data.
    pub(crate) rp_id: String,
    /// `clientDataJSON.type`; `None` is the ceremony's own.
    pub(crate) client_data_type: Option<String>,
    /// The UP flag.
    pub(crate) user_present: bool,
    /// The UV flag.
    pub(crate) user_verified: bool,
    /// The signature counter, written big-endian into the authenticator
    /// data.
    pub(crate) counter: u32,
    /// Flip the last byte of the signature after signing.
    pub(crate) tamper_signature: bool,
}

impl Claims {
    /// An honest client of `rp_id` at `origin`.
    pub(crate) fn honest(origin: &str, rp_id: &str) -> Claims {
        Claims {
            origin: origin.to_owned(),
            rp_id: rp_id.to_owned(),
            client_data_type: None,
            user_present: true,
            user_verified: true,
            counter: 0,
            tamper_signature: false,
        }
    }

    fn flags(&self) -> u8 {
        let mut flags = 0;
        if self.user_present {
            flags |= FLAG_UP;
        }
        if self.user_verified {
            flags |= FLAG_UV;
        }
        flags
    }

    fn client_data(&self, ceremony: &str, challenge: &str) -> Vec<u8> {
        let kind = self.client_data_type.as_deref().unwrap_or(ceremony);
        // Member order as browsers write it (§5.8.1.1).
        let text = format!(
            "{{\"type\":{},\"challenge\":{},\"origin\":{},\"crossOrigin\":false}}",
            Json::from(kind),
            Json::from(challenge),
            Json::from(self.origin.as_str()),
        );
        text.into_bytes()
    }

    fn auth_data_header(&self, extra_flags: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(37 + 200);
        out.extend_from_slice(&Sha256::digest(self.rp_id.as_bytes()));
        out.push(self.flags() | extra_flags);
        out.extend_from_slice(&self.counter.to_be_bytes());
        out
    }
}

/// The attestation a registration carries.
#[derive(Debug, Clone)]
pub(crate) enum Attestation {
    /// `fmt: none`, an empty statement.
    None,
    /// `fmt: packed`, signed by the credential key itself.
    PackedSelf,
    /// `fmt: packed` with `x5c`: signed by an attestation key whose
    /// certificate (DER) goes first in the chain.
    PackedX5c {
        /// PKCS#8 DER of the attestation private key.
        key: Vec<u8>,
        /// The certificates, leaf first, DER.
        chain: Vec<Vec<u8>>,
    },
}

/// A registration response and the new credential's private key.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub(crate) credential_id: Vec<u8>,
    pub(crate) client_data_json: Vec<u8>,
    pub(crate) attestation_object: Vec<u8>,
    pub(crate) private_key: Vec<u8>,
    pub(crate) fmt: &'static str,
}

impl Registration {
    /// The response as JSON, base64url members, for captures:
    /// `/credentialId`, `/clientDataJSON`, `/attestationObject`,
    /// `/privateKey`, `/fmt`.
    pub(crate) fn to_json(&self) -> Json {
        json!({
            "credentialId": b64(&self.credential_id),
            "clientDataJSON": b64(&self.client_data_json),
            "attestationObject": b64(&self.attestation_object),
            "privateKey": b64(&self.private_key),
            "fmt": self.fmt,
        })
    }
}

/// An assertion response: the raw bytes a browser would hand the relying
/// party, base64url-encoded only by [`Assertion::to_json`].
#[derive(Debug, Clone)]
pub(crate) struct Assertion {
    pub(crate) credential_id: Vec<u8>,
    pub(crate) client_data_json: Vec<u8>,
    pub(crate) authenticator_data: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

impl Assertion {
    /// The response as JSON, base64url members, for captures:
    /// `/credentialId`, `/clientDataJSON`, `/authenticatorData`, `/signature`.
    pub(crate) fn to_json(&self) -> Json {
        json!({
            "credentialId": b64(&self.credential_id),
            "clientDataJSON": b64(&self.client_data_json),
            "authenticatorData": b64(&self.authenticator_data),
            "signature": b64(&self.signature),
        })
    }
}

/// Makes a new ES256 credential for the registration `challenge` (base64url,
/// as the target answered it) and attests it for `aaguid`.
pub(crate) fn create(
    challenge: &str,
    aaguid: &str,
    attestation: &Attestation,
    claims: &Claims,
) -> Result<Registration, AuthenticatorError> {
    let rng = SystemRandom::new();
    let aaguid = parse_aaguid(aaguid)?;
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| AuthenticatorError::Random)?;
    let key = key_pair(pkcs8.as_ref(), "the new credential key")?;
    let mut credential_id = [0u8; 32];
    ring::rand::SecureRandom::fill(&rng, &mut credential_id)
        .map_err(|_| AuthenticatorError::Random)?;

    let client_data_json = claims.client_data("webauthn.create", challenge);
    let mut auth_data = claims.auth_data_header(FLAG_AT);
    auth_data.extend_from_slice(&aaguid);
    auth_data.extend_from_slice(&(credential_id.len() as u16).to_be_bytes());
    auth_data.extend_from_slice(&credential_id);
    auth_data.extend_from_slice(&cose_key(key.public_key().as_ref()));

    let signed = signed_data(&auth_data, &client_data_json);
    let (fmt, statement) = match attestation {
        Attestation::None => ("none", Vec::new()),
        Attestation::PackedSelf => {
            let sig = sign(&key, &signed, claims.tamper_signature)?;
            (
                "packed",
                vec![
                    (text("alg"), Value::Integer(COSE_ES256.into())),
                    (text("sig"), Value::Bytes(sig)),
                ],
            )
        }
        Attestation::PackedX5c {
            key: att_key,
            chain,
        } => {
            if chain.is_empty() {
                return Err(AuthenticatorError::MissingAttestationMaterial);
            }
            let att_key = key_pair(att_key, "attestation_key")?;
            let sig = sign(&att_key, &signed, claims.tamper_signature)?;
            (
                "packed",
                vec![
                    (text("alg"), Value::Integer(COSE_ES256.into())),
                    (text("sig"), Value::Bytes(sig)),
                    (
                        text("x5c"),
                        Value::Array(chain.iter().cloned().map(Value::Bytes).collect()),
                    ),
                ],
            )
        }
    };
    let object = Value::Map(vec![
        (text("fmt"), text(fmt)),
        (text("attStmt"), Value::Map(statement)),
        (text("authData"), Value::Bytes(auth_data)),
    ]);
    let mut attestation_object = Vec::new();
    ciborium::into_writer(&object, &mut attestation_object)
        .expect("writing CBOR to a Vec cannot fail");
    Ok(Registration {
        credential_id: credential_id.to_vec(),
        client_data_json,
        attestation_object,
        private_key: pkcs8.as_ref().to_vec(),
        fmt,
    })
}

/// Signs an assertion for the authentication `challenge` with the credential
/// `credential_id` whose PKCS#8 private key is `private_key`.
pub(crate) fn get(
    challenge: &str,
    credential_id: &[u8],
    private_key: &[u8],
    claims: &Claims,
) -> Result<Assertion, AuthenticatorError> {
    let key = key_pair(private_key, "the credential's private key")?;
    let client_data_json = claims.client_data("webauthn.get", challenge);
    let authenticator_data = claims.auth_data_header(0);
    let signed = signed_data(&authenticator_data, &client_data_json);
    let signature = sign(&key, &signed, claims.tamper_signature)?;
    Ok(Assertion {
        credential_id: credential_id.to_vec(),
        client_data_json,
        authenticator_data,
        signature,
    })
}

/// Decodes base64url, padded or not, naming `what` on failure.
pub(crate) fn decode_b64url(
    value: &str,
    what: &'static str,
) -> Result<Vec<u8>, AuthenticatorError> {
    URL_SAFE_NO_PAD
        .decode(value.trim().trim_end_matches('='))
        .map_err(|_| AuthenticatorError::NotBase64Url(what))
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn key_pair(pkcs8: &[u8], what: &'static str) -> Result<EcdsaKeyPair, AuthenticatorError> {
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &SystemRandom::new())
        .map_err(|_| AuthenticatorError::BadKey(what))
}

/// authenticatorData || SHA-256(clientDataJSON), what both signatures cover.
fn signed_data(auth_data: &[u8], client_data_json: &[u8]) -> Vec<u8> {
    let mut out = auth_data.to_vec();
    out.extend_from_slice(&Sha256::digest(client_data_json));
    out
}

fn sign(key: &EcdsaKeyPair, data: &[u8], tamper: bool) -> Result<Vec<u8>, AuthenticatorError> {
    let mut sig = key
        .sign(&SystemRandom::new(), data)
        .map_err(|_| AuthenticatorError::Random)?
        .as_ref()
        .to_vec();
    if tamper && let Some(last) = sig.last_mut() {
        *last ^= 0x01;
    }
    Ok(sig)
}

/// The COSE_Key (RFC 9053 §7.1.1) of an uncompressed P-256 point.
fn cose_key(point: &[u8]) -> Vec<u8> {
    debug_assert_eq!(point.len(), 65);
    let key = Value::Map(vec![
        (Value::Integer(1.into()), Value::Integer(2.into())),
        (Value::Integer(3.into()), Value::Integer(COSE_ES256.into())),
        (Value::Integer((-1).into()), Value::Integer(1.into())),
        (
            Value::Integer((-2).into()),
            Value::Bytes(point[1..33].to_vec()),
        ),
        (
            Value::Integer((-3).into()),
            Value::Bytes(point[33..65].to_vec()),
        ),
    ]);
    let mut out = Vec::new();
    ciborium::into_writer(&key, &mut out).expect("writing CBOR to a Vec cannot fail");
    out
}

fn parse_aaguid(text: &str) -> Result<[u8; 16], AuthenticatorError> {
    let hex: String = text.chars().filter(|&c| c != '-').collect();
    let bad = || AuthenticatorError::BadAaguid(text.to_owned());
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};

    use super::*;

    const AAGUID: &str = "ee882879-721c-4913-9775-3dfcce97072a";

    fn claims() -> Claims {
        Claims::honest("https://platform.example", "platform.example")
    }

    fn decode(object: &[u8]) -> Vec<(Value, Value)> {
        match ciborium::from_reader::<Value, _>(object).unwrap() {
            Value::Map(m) => m,
            other => panic!("not a map: {other:?}"),
        }
    }

    fn member<'a>(map: &'a [(Value, Value)], name: &str) -> &'a Value {
        &map.iter()
            .find(|(k, _)| k.as_text() == Some(name))
            .unwrap()
            .1
    }

    /// The credential's public key as ring reads it, from the COSE key in
    /// the authenticator data.
    fn public_key(auth_data: &[u8]) -> Vec<u8> {
        let id_len = u16::from_be_bytes([auth_data[53], auth_data[54]]) as usize;
        let cose = &auth_data[55 + id_len..];
        let Value::Map(map) = ciborium::from_reader::<Value, _>(cose).unwrap() else {
            panic!()
        };
        let coord = |label: i64| {
            map.iter()
                .find(|(k, _)| k.as_integer() == Some(label.into()))
                .and_then(|(_, v)| v.as_bytes().cloned())
                .unwrap()
        };
        [vec![0x04], coord(-2), coord(-3)].concat()
    }

    #[test]
    fn a_packed_self_attestation_verifies_with_the_credential_key() {
        let reg = create("Y2hhbGxlbmdl", AAGUID, &Attestation::PackedSelf, &claims()).unwrap();
        let object = decode(&reg.attestation_object);
        assert_eq!(member(&object, "fmt").as_text(), Some("packed"));
        let auth_data = member(&object, "authData").as_bytes().unwrap().clone();
        assert_eq!(
            &auth_data[..32],
            Sha256::digest(b"platform.example").as_slice()
        );
        assert_eq!(auth_data[32], FLAG_UP | FLAG_UV | FLAG_AT);
        assert_eq!(&auth_data[37..53], &parse_aaguid(AAGUID).unwrap());
        let Value::Map(stmt) = member(&object, "attStmt") else {
            panic!()
        };
        let sig = member(stmt, "sig").as_bytes().unwrap();
        let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, public_key(&auth_data));
        key.verify(&signed_data(&auth_data, &reg.client_data_json), sig)
            .expect("the self attestation verifies");

        let client: Json = serde_json::from_slice(&reg.client_data_json).unwrap();
        assert_eq!(client["type"], "webauthn.create");
        assert_eq!(client["challenge"], "Y2hhbGxlbmdl");
        assert_eq!(client["origin"], "https://platform.example");
    }

    #[test]
    fn an_assertion_verifies_and_a_tampered_one_does_not() {
        let reg = create("Y2g", AAGUID, &Attestation::None, &claims()).unwrap();
        let object = decode(&reg.attestation_object);
        assert_eq!(member(&object, "attStmt"), &Value::Map(vec![]));
        let auth_data = member(&object, "authData").as_bytes().unwrap().clone();
        let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, public_key(&auth_data));

        let mut honest = claims();
        honest.counter = 7;
        let a = get("c2lnbg", &reg.credential_id, &reg.private_key, &honest).unwrap();
        assert_eq!(a.authenticator_data.len(), 37);
        assert_eq!(&a.authenticator_data[33..37], &7u32.to_be_bytes());
        key.verify(
            &signed_data(&a.authenticator_data, &a.client_data_json),
            &a.signature,
        )
        .expect("the assertion verifies");

        let mut tampered = claims();
        tampered.tamper_signature = true;
        let t = get("c2lnbg", &reg.credential_id, &reg.private_key, &tampered).unwrap();
        assert!(
            key.verify(
                &signed_data(&t.authenticator_data, &t.client_data_json),
                &t.signature
            )
            .is_err()
        );
    }

    #[test]
    fn claims_change_what_the_client_and_authenticator_say() {
        let mut c = claims();
        c.origin = "https://evil.example".into();
        c.rp_id = "evil.example".into();
        c.user_present = false;
        c.user_verified = false;
        c.client_data_type = Some("webauthn.create".into());
        let reg = create("Y2g", AAGUID, &Attestation::None, &claims()).unwrap();
        let a = get("Y2g", &reg.credential_id, &reg.private_key, &c).unwrap();
        let client: Json = serde_json::from_slice(&a.client_data_json).unwrap();
        assert_eq!(client["origin"], "https://evil.example");
        assert_eq!(client["type"], "webauthn.create");
        assert_eq!(
            &a.authenticator_data[..32],
            Sha256::digest(b"evil.example").as_slice()
        );
        assert_eq!(a.authenticator_data[32], 0);
    }

    #[test]
    fn refuses_bad_material_with_what_is_wrong() {
        assert_eq!(
            create("Y2g", "yubikey", &Attestation::None, &claims()).unwrap_err(),
            AuthenticatorError::BadAaguid("yubikey".into())
        );
        assert_eq!(
            get("Y2g", b"id", b"not a key", &claims()).unwrap_err(),
            AuthenticatorError::BadKey("the credential's private key")
        );
        let x5c = Attestation::PackedX5c {
            key: vec![],
            chain: vec![],
        };
        assert_eq!(
            create("Y2g", AAGUID, &x5c, &claims()).unwrap_err(),
            AuthenticatorError::MissingAttestationMaterial
        );
        assert_eq!(
            decode_b64url("not base64!", "signature").unwrap_err(),
            AuthenticatorError::NotBase64Url("signature")
        );
    }
}
