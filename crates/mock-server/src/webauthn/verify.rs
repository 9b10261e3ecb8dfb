//! The relying party's checks (WebAuthn Level 3, sections 7.1 and 7.2): `clientDataJSON`, the
//! authenticator data, the COSE credential key, the attestation statement and the assertion
//! signature. Every check that fails names what failed in a [`CeremonyError`].
//!
//! Cryptography is ring's: SHA-256, ECDSA P-256 verification (ASN.1 DER signatures, as
//! WebAuthn and X.509 carry them), and P-256 point validation (an ECDH agreement with an
//! ephemeral key, which ring refuses for a point that is not on the curve). X.509 certificates
//! are decoded with RustCrypto's `x509-cert`; their signatures are verified with ring.

use std::time::{SystemTime, UNIX_EPOCH};

use ciborium::Value;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::der::Decode;

pub use super::keys::{COSE_ALG_ES256, KeyError, PublicKey};
use super::keys::{check_leaf, check_validity, ec_public_key, is_ca, signed_by, validity_ok};
use super::{Aaguid, Attestation, AttestationFormat, FLAG_USER_PRESENT, FLAG_USER_VERIFIED};

/// The longest credential id WebAuthn allows (section 5.8.3 and step 23 of 7.1).
pub const MAX_CREDENTIAL_ID_LEN: usize = 1023;

/// Why a ceremony was refused; the message says what failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CeremonyError {
    /// `clientDataJSON` is not a JSON object.
    #[error("clientDataJSON is not a JSON object")]
    ClientDataNotJson,
    /// A required member is missing or not a string.
    #[error("clientDataJSON.{0} is missing or not a string")]
    ClientDataMember(&'static str),
    /// `type` is not the ceremony's.
    #[error("clientDataJSON.type is {got:?}, expected {expected:?}")]
    WrongType {
        /// `webauthn.create` or `webauthn.get`.
        expected: &'static str,
        /// What the client sent.
        got: String,
    },
    /// `challenge` is not base64url.
    #[error("clientDataJSON.challenge is not base64url")]
    ChallengeNotBase64,
    /// `challenge` is not a live challenge of this caller for this ceremony.
    #[error(
        "clientDataJSON.challenge is not a challenge this server issued to the caller for this ceremony, or it was already used or has expired"
    )]
    UnknownChallenge,
    /// `origin` is not allowed.
    #[error("clientDataJSON.origin {0:?} is not an allowed origin")]
    OriginNotAllowed(String),
    /// `crossOrigin` is true.
    #[error("clientDataJSON.crossOrigin is true; ceremonies in cross-origin frames are refused")]
    CrossOrigin,
    /// The authenticator data is too short.
    #[error("authenticatorData is {0} bytes long; at least 37 are needed")]
    AuthDataTooShort(usize),
    /// `rpIdHash` is not SHA-256 of the RP id.
    #[error("authenticator data: rpIdHash is not the SHA-256 of the RP id {0:?}")]
    RpIdHash(String),
    /// UP is clear.
    #[error("authenticator data: the user-present flag (UP) is clear")]
    UserNotPresent,
    /// UV is clear where it is required.
    #[error(
        "authenticator data: the user-verified flag (UV) is clear and this workspace requires user verification"
    )]
    UserNotVerified,
    /// The credential id is too long.
    #[error("authenticator data: the credential id is {0} bytes long; at most 1023 are allowed")]
    CredentialIdTooLong(usize),
    /// The credential id is registered already.
    #[error("authenticator data: the credential id is already registered")]
    CredentialIdTaken,
    /// The credential public key is refused.
    #[error("authenticator data: credentialPublicKey: {0}")]
    BadKey(KeyError),
    /// Not `none` or `packed`.
    #[error("attestation format `{0}` is not supported; use `none` or `packed`")]
    UnsupportedFormat(String),
    /// The statement's shape is wrong.
    #[error("attStmt: {0}")]
    BadStatement(&'static str),
    /// The attestation signature does not verify.
    #[error(
        "attStmt.sig does not verify with {0} over authenticatorData and the clientDataJSON hash"
    )]
    BadAttestationSignature(&'static str),
    /// A certificate of `x5c` is refused.
    #[error("attStmt.x5c[{index}]: {reason}")]
    BadCertificate {
        /// The position in `x5c`.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The assertion signature does not verify.
    #[error(
        "the signature does not verify with the credential's public key over authenticatorData and the clientDataJSON hash"
    )]
    BadSignature,
    /// The counter did not increase.
    #[error(
        "signCount {got} is not greater than the stored {stored}; the authenticator may have been cloned"
    )]
    CounterNotIncreasing {
        /// The counter stored at the last ceremony.
        stored: u32,
        /// The counter in this assertion.
        got: u32,
    },
    /// `userHandle` is not the caller's.
    #[error("userHandle is not the caller's user handle")]
    UserHandleMismatch,
}

impl CeremonyError {
    /// Whether the error is about `clientDataJSON` (else about the attestation object or the
    /// assertion), for a registration's error pointer.
    pub fn is_client_data(&self) -> bool {
        matches!(
            self,
            CeremonyError::ClientDataNotJson
                | CeremonyError::ClientDataMember(_)
                | CeremonyError::WrongType { .. }
                | CeremonyError::ChallengeNotBase64
                | CeremonyError::UnknownChallenge
                | CeremonyError::OriginNotAllowed(_)
                | CeremonyError::CrossOrigin
        )
    }
}

/// What the relying party reads from `clientDataJSON`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientData {
    /// The challenge, base64url-decoded: the server's bytes when the client
    /// is honest, compared with the live challenges of the caller.
    pub challenge: Vec<u8>,
    /// The origin the client claims.
    pub origin: String,
    /// SHA-256 of the raw bytes, which the signatures cover.
    pub hash: [u8; 32],
}

/// Reads `clientDataJSON` and checks its `type` (steps 5-8 of 7.1, 8-11 of 7.2).
pub fn parse_client_data(
    raw: &[u8],
    expected_type: &'static str,
) -> Result<ClientData, CeremonyError> {
    let Ok(serde_json::Value::Object(members)) = serde_json::from_slice(raw) else {
        return Err(CeremonyError::ClientDataNotJson);
    };
    let text = |name: &'static str| {
        members
            .get(name)
            .and_then(serde_json::Value::as_str)
            .ok_or(CeremonyError::ClientDataMember(name))
    };
    let kind = text("type")?;
    if kind != expected_type {
        return Err(CeremonyError::WrongType {
            expected: expected_type,
            got: kind.to_owned(),
        });
    }
    let challenge =
        super::b64url_decode(text("challenge")?).ok_or(CeremonyError::ChallengeNotBase64)?;
    let origin = text("origin")?.to_owned();
    if members.get("crossOrigin") == Some(&serde_json::Value::Bool(true)) {
        return Err(CeremonyError::CrossOrigin);
    }
    Ok(ClientData {
        challenge,
        origin,
        hash: Sha256::digest(raw).into(),
    })
}

impl ClientData {
    /// Checks the origin against the allowed ones (exact match, as browsers serialise it).
    pub fn check_origin(&self, allowed: &[String]) -> Result<(), CeremonyError> {
        if allowed.contains(&self.origin) {
            Ok(())
        } else {
            Err(CeremonyError::OriginNotAllowed(self.origin.clone()))
        }
    }
}

/// The relying party: RP id and name, default origins and attestation trust roots.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    /// The RP id.
    pub rp_id: String,
    /// The RP name.
    pub rp_name: String,
    /// SHA-256 of the RP id.
    pub rp_id_hash: [u8; 32],
    /// Origins allowed unless a workspace lists its own.
    pub origins: Vec<String>,
    roots: Vec<TrustRoot>,
}

#[derive(Debug, Clone)]
struct TrustRoot {
    aaguid: Aaguid,
    der: Vec<u8>,
    certificate: Certificate,
}

impl RelyingParty {
    /// Builds the relying party (the seed's `[webauthn]`): `roots` are (AAGUID, base64url DER
    /// certificate) pairs; an unreadable root is an error.
    pub fn new(
        rp_id: &str,
        rp_name: &str,
        origins: Vec<String>,
        roots: &[(Aaguid, &str)],
    ) -> Result<RelyingParty, String> {
        if rp_id.is_empty() {
            return Err("webauthn.rp_id is empty".into());
        }
        let mut trust_roots = Vec::new();
        for (i, (aaguid, certificate)) in roots.iter().enumerate() {
            let der = super::b64url_decode(certificate)
                .ok_or_else(|| format!("webauthn.trust_roots[{i}].certificate is not base64url"))?;
            let certificate = Certificate::from_der(&der).map_err(|e| {
                format!("webauthn.trust_roots[{i}].certificate is not an X.509 certificate: {e}")
            })?;
            trust_roots.push(TrustRoot {
                aaguid: *aaguid,
                der,
                certificate,
            });
        }
        Ok(RelyingParty {
            rp_id_hash: Sha256::digest(rp_id.as_bytes()).into(),
            rp_id: rp_id.to_owned(),
            rp_name: rp_name.to_owned(),
            origins,
            roots: trust_roots,
        })
    }

    fn check_flags(&self, data: &[u8], uv_required: bool) -> Result<u8, CeremonyError> {
        if data.len() < 37 {
            return Err(CeremonyError::AuthDataTooShort(data.len()));
        }
        if data[..32] != self.rp_id_hash {
            return Err(CeremonyError::RpIdHash(self.rp_id.clone()));
        }
        let flags = data[32];
        if flags & FLAG_USER_PRESENT == 0 {
            return Err(CeremonyError::UserNotPresent);
        }
        if uv_required && flags & FLAG_USER_VERIFIED == 0 {
            return Err(CeremonyError::UserNotVerified);
        }
        Ok(flags)
    }

    /// Verifies a decoded registration after its `clientDataJSON` passed (steps 12-21 of
    /// 7.1): the authenticator data, the credential key and the attestation statement. The
    /// caller checks that the credential id is new and applies the AAGUID allowlist to the
    /// [`Trust`] this returns.
    pub fn verify_registration(
        &self,
        attestation: &Attestation,
        client_data_hash: &[u8; 32],
        uv_required: bool,
        now_unix: u64,
    ) -> Result<Registered, CeremonyError> {
        self.check_flags(&attestation.auth_data, uv_required)?;
        if attestation.credential_id.len() > MAX_CREDENTIAL_ID_LEN {
            return Err(CeremonyError::CredentialIdTooLong(
                attestation.credential_id.len(),
            ));
        }
        let public_key = PublicKey::from_cose(&attestation.credential_public_key)
            .map_err(CeremonyError::BadKey)?;
        let mut signed = attestation.auth_data.clone();
        signed.extend_from_slice(client_data_hash);
        let trust = match &attestation.fmt {
            AttestationFormat::None => {
                if !attestation.att_stmt.is_empty() {
                    return Err(CeremonyError::BadStatement(
                        "the `none` format takes an empty attStmt",
                    ));
                }
                Trust::None
            }
            AttestationFormat::Packed => {
                self.verify_packed(attestation, &public_key, &signed, now_unix)?
            }
            other => return Err(CeremonyError::UnsupportedFormat(other.to_string())),
        };
        Ok(Registered { public_key, trust })
    }

    /// `packed` (section 8.2): self attestation, or `x5c` with the leaf's checks and the chain.
    fn verify_packed(
        &self,
        attestation: &Attestation,
        credential_key: &PublicKey,
        signed: &[u8],
        now_unix: u64,
    ) -> Result<Trust, CeremonyError> {
        let member = |name: &str| {
            attestation
                .att_stmt
                .iter()
                .find(|(k, _)| k.as_text() == Some(name))
                .map(|(_, v)| v)
        };
        if member("ecdaaKeyId").is_some() {
            return Err(CeremonyError::BadStatement("ECDAA is not supported"));
        }
        let alg = member("alg")
            .and_then(Value::as_integer)
            .map(i128::from)
            .ok_or(CeremonyError::BadStatement(
                "alg is missing or not an integer",
            ))?;
        if alg != i128::from(COSE_ALG_ES256) {
            return Err(CeremonyError::BadStatement(
                "alg is not ES256 (-7), the only algorithm accepted",
            ));
        }
        let Some(Value::Bytes(sig)) = member("sig") else {
            return Err(CeremonyError::BadStatement(
                "sig is missing or not a byte string",
            ));
        };
        let Some(x5c) = member("x5c") else {
            // Self attestation: the credential key signs.
            if !credential_key.verifies(signed, sig) {
                return Err(CeremonyError::BadAttestationSignature("the credential key"));
            }
            return Ok(Trust::SelfAttestation);
        };
        let Value::Array(items) = x5c else {
            return Err(CeremonyError::BadStatement("x5c is not an array"));
        };
        if items.is_empty() {
            return Err(CeremonyError::BadStatement("x5c is empty"));
        }
        let mut certs = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let Value::Bytes(der) = item else {
                return Err(bad_cert(index, "not a byte string"));
            };
            let cert = Certificate::from_der(der)
                .map_err(|e| bad_cert(index, &format!("not an X.509 certificate: {e}")))?;
            check_validity(&cert, now_unix).map_err(|r| bad_cert(index, &r))?;
            certs.push((der.as_slice(), cert));
        }
        let leaf = &certs[0].1;
        check_leaf(leaf, attestation.aaguid).map_err(|r| bad_cert(0, &r))?;
        let leaf_key = ec_public_key(leaf).map_err(|r| bad_cert(0, &r))?;
        if !leaf_key.verifies(signed, sig) {
            return Err(CeremonyError::BadAttestationSignature("the x5c leaf key"));
        }
        for index in 1..certs.len() {
            let issuer = &certs[index].1;
            if !is_ca(issuer) {
                return Err(bad_cert(index, "is not a CA certificate"));
            }
            signed_by(&certs[index - 1].1, issuer)
                .map_err(|r| bad_cert(index - 1, &format!("is not signed by x5c[{index}]: {r}")))?;
        }
        let (last_der, last) = &certs[certs.len() - 1];
        let trusted = self
            .roots
            .iter()
            .filter(|root| root.aaguid == attestation.aaguid)
            .any(|root| {
                root.der.as_slice() == *last_der
                    || (validity_ok(&root.certificate, now_unix)
                        && signed_by(last, &root.certificate).is_ok())
            });
        Ok(Trust::Certified { trusted })
    }

    /// Verifies an assertion's authenticator data and signature for `key` (steps 13-21 of
    /// 7.2), after its `clientDataJSON` passed; returns the new signature counter, which the
    /// caller compares with the stored one.
    pub fn verify_assertion(
        &self,
        auth_data: &[u8],
        client_data_hash: &[u8; 32],
        signature: &[u8],
        key: &PublicKey,
        uv_required: bool,
    ) -> Result<u32, CeremonyError> {
        self.check_flags(auth_data, uv_required)?;
        let mut signed = auth_data.to_vec();
        signed.extend_from_slice(client_data_hash);
        if !key.verifies(&signed, signature) {
            return Err(CeremonyError::BadSignature);
        }
        Ok(u32::from_be_bytes([
            auth_data[33],
            auth_data[34],
            auth_data[35],
            auth_data[36],
        ]))
    }
}

/// The counter rule of step 22 of 7.2: if either counter is non-zero, the new one must be
/// greater than the stored one.
pub fn check_counter(stored: u32, got: u32) -> Result<(), CeremonyError> {
    if (stored != 0 || got != 0) && got <= stored {
        return Err(CeremonyError::CounterNotIncreasing { stored, got });
    }
    Ok(())
}

/// A verified registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The credential public key.
    pub public_key: PublicKey,
    /// What the attestation proves about the authenticator model.
    pub trust: Trust,
}

/// What a verified attestation proves about the AAGUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// `none`: nothing.
    None,
    /// `packed` self attestation: that the credential key signed, not the model.
    SelfAttestation,
    /// `packed` with `x5c`: the model, if the chain ends in a root configured for the AAGUID.
    Certified {
        /// Whether it does.
        trusted: bool,
    },
}

fn bad_cert(index: usize, reason: &str) -> CeremonyError {
    CeremonyError::BadCertificate {
        index,
        reason: reason.to_owned(),
    }
}

/// A seeded WebAuthn credential, decoded.
#[derive(Debug, Clone)]
pub struct SeededCredential {
    /// The credential id, decoded from the seed's base64url: 1 to 1023
    /// bytes.
    pub id: Vec<u8>,
    /// Its public key.
    pub public_key: PublicKey,
}

impl SeededCredential {
    /// Reads `credential_id` (base64url) and `public_key` (COSE_Key, base64url) of a seeded
    /// WebAuthn factor.
    pub fn decode(
        credential_id: Option<&str>,
        public_key: Option<&str>,
    ) -> Result<SeededCredential, String> {
        let id = credential_id.ok_or("a WebAuthn factor needs its `credential_id`")?;
        let id = super::b64url_decode(id).ok_or("`credential_id` is not base64url")?;
        if id.is_empty() || id.len() > MAX_CREDENTIAL_ID_LEN {
            return Err("`credential_id` must be 1 to 1023 bytes".into());
        }
        let key =
            public_key.ok_or("a WebAuthn factor needs its `public_key` (COSE_Key, base64url)")?;
        let key = super::b64url_decode(key).ok_or("`public_key` is not base64url")?;
        let public_key = PublicKey::from_cose(&key).map_err(|e| format!("`public_key`: {e}"))?;
        Ok(SeededCredential { id, public_key })
    }
}

/// Seconds since the Unix epoch, for certificate validity.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webauthn::authenticator::{Attest, Ceremony, SoftAuthenticator};
    use crate::webauthn::{b64url, parse_attestation_object};

    const YUBIKEY: &str = "ee882879-721c-4913-9775-3dfcce97072a";
    const ORIGIN: &str = "https://platform.example";
    /// 2026-12-06, inside the test certificates' validity (2025 to 2075).
    const NOW: u64 = 1_796_515_200;

    fn toml_of(text: &str) -> toml::Value {
        toml::from_str(text).unwrap()
    }

    fn profile(name: &str, world: &str) -> Vec<u8> {
        let text = match world {
            "mock" => include_str!("../../../../fixtures/profiles/mock.toml"),
            _ => include_str!("../../../../fixtures/profiles/renamed.toml"),
        };
        let value = toml_of(text)["credentials"][name]["value"]
            .as_str()
            .unwrap()
            .to_owned();
        super::super::b64url_decode(&value).unwrap()
    }

    /// The relying party of the default seed, with its trust root.
    fn rp() -> RelyingParty {
        let seed = toml_of(include_str!("../../../../fixtures/seed.toml"));
        let root = &seed["webauthn"]["trust_roots"][0];
        let aaguid: Aaguid = root["aaguid"].as_str().unwrap().parse().unwrap();
        let cert = root["certificate"].as_str().unwrap();
        RelyingParty::new(
            "platform.example",
            "Platform",
            vec![ORIGIN.to_owned()],
            &[(aaguid, cert)],
        )
        .unwrap()
    }

    fn x5c(world: &str) -> Attest {
        Attest::X5c {
            leaf_key: profile("attestation_key", world),
            chain: vec![profile("attestation_cert", world)],
        }
    }

    fn ceremony() -> Ceremony {
        Ceremony::new(vec![1; 32], ORIGIN, "platform.example")
    }

    fn key(aaguid: &str) -> SoftAuthenticator {
        SoftAuthenticator::generate(aaguid.parse().unwrap(), b"credential")
    }

    /// Registers with `attest` under `c` and verifies it.
    fn register(
        authenticator: &SoftAuthenticator,
        c: &Ceremony,
        attest: &Attest,
        uv_required: bool,
    ) -> Result<Registered, CeremonyError> {
        let r = authenticator.register(c, attest);
        let raw = super::super::b64url_decode(&r.client_data_json).unwrap();
        let client_data = parse_client_data(&raw, "webauthn.create")?;
        client_data.check_origin(&[ORIGIN.to_owned()])?;
        let attestation = parse_attestation_object(&r.attestation_object).unwrap();
        rp().verify_registration(&attestation, &client_data.hash, uv_required, NOW)
    }

    #[test]
    fn every_attestation_kind_verifies_with_what_it_proves() {
        let k = key(YUBIKEY);
        let c = ceremony();
        let registered = register(&k, &c, &Attest::None, true).unwrap();
        assert_eq!(registered.trust, Trust::None);
        assert_eq!(
            registered.public_key.as_sec1(),
            &PublicKey::from_cose(&k.cose_key()).unwrap().0
        );
        assert_eq!(
            register(&k, &c, &Attest::SelfSigned, true).unwrap().trust,
            Trust::SelfAttestation
        );
        assert_eq!(
            register(&k, &c, &x5c("mock"), true).unwrap().trust,
            Trust::Certified { trusted: true }
        );
        // The renamed world's leaf chains to its own root, which this seed does not trust.
        assert_eq!(
            register(&k, &c, &x5c("renamed"), true).unwrap().trust,
            Trust::Certified { trusted: false }
        );
        // A model the root is not configured for: verified, not trusted.
        let other = key("adce0002-35bc-c60a-648b-0b25f1f05503");
        let Attest::X5c { leaf_key, chain } = x5c("mock") else {
            unreachable!()
        };
        let err = register(&other, &c, &Attest::X5c { leaf_key, chain }, true).unwrap_err();
        assert_eq!(
            err,
            CeremonyError::BadCertificate {
                index: 0,
                reason: "the AAGUID extension does not match the authenticator data's AAGUID adce0002-35bc-c60a-648b-0b25f1f05503".into()
            }
        );
    }

    #[test]
    fn registrations_that_must_be_rejected_name_the_failed_check() {
        let k = key(YUBIKEY);
        let with = |edit: fn(&mut Ceremony)| {
            let mut c = ceremony();
            edit(&mut c);
            c
        };
        assert_eq!(
            register(
                &k,
                &with(|c| c.rp_id = "evil.example".into()),
                &Attest::SelfSigned,
                false
            ),
            Err(CeremonyError::RpIdHash("platform.example".into()))
        );
        assert_eq!(
            register(
                &k,
                &with(|c| c.flags = FLAG_USER_VERIFIED),
                &Attest::None,
                false
            ),
            Err(CeremonyError::UserNotPresent)
        );
        assert_eq!(
            register(
                &k,
                &with(|c| c.flags = FLAG_USER_PRESENT),
                &Attest::None,
                true
            ),
            Err(CeremonyError::UserNotVerified)
        );
        assert!(
            register(
                &k,
                &with(|c| c.flags = FLAG_USER_PRESENT),
                &Attest::None,
                false
            )
            .is_ok()
        );
        assert_eq!(
            register(
                &k,
                &with(|c| c.origin = "https://evil.example".into()),
                &Attest::None,
                false
            ),
            Err(CeremonyError::OriginNotAllowed(
                "https://evil.example".into()
            ))
        );
        assert_eq!(
            register(
                &k,
                &with(|c| c.type_override = Some("webauthn.get".into())),
                &Attest::None,
                false
            ),
            Err(CeremonyError::WrongType {
                expected: "webauthn.create",
                got: "webauthn.get".into()
            })
        );
    }

    /// Verifies `object` (changed by `edit` on its CBOR map) against a self-attested registration.
    fn verify_edited(
        edit: impl FnOnce(&mut Vec<(Value, Value)>),
    ) -> Result<Registered, CeremonyError> {
        let k = key(YUBIKEY);
        let r = k.register(&ceremony(), &Attest::SelfSigned);
        let raw = super::super::b64url_decode(&r.client_data_json).unwrap();
        let hash: [u8; 32] = Sha256::digest(&raw).into();
        let bytes = super::super::b64url_decode(&r.attestation_object).unwrap();
        let Value::Map(mut members) = ciborium::from_reader::<Value, _>(bytes.as_slice()).unwrap()
        else {
            unreachable!()
        };
        edit(&mut members);
        let mut out = Vec::new();
        ciborium::into_writer(&Value::Map(members), &mut out).unwrap();
        let attestation = parse_attestation_object(&b64url(&out)).unwrap();
        rp().verify_registration(&attestation, &hash, false, NOW)
    }

    fn stmt(members: &mut [(Value, Value)]) -> &mut Vec<(Value, Value)> {
        members
            .iter_mut()
            .find(|(k, _)| k.as_text() == Some("attStmt"))
            .and_then(|(_, v)| v.as_map_mut())
            .unwrap()
    }

    #[test]
    fn attestation_statements_that_must_be_rejected() {
        assert!(verify_edited(|_| {}).is_ok());
        // A flipped signature byte.
        assert_eq!(
            verify_edited(|m| {
                for (k, v) in stmt(m).iter_mut() {
                    if k.as_text() == Some("sig") {
                        let Value::Bytes(sig) = v else { unreachable!() };
                        *sig.last_mut().unwrap() ^= 1;
                    }
                }
            }),
            Err(CeremonyError::BadAttestationSignature("the credential key"))
        );
        assert_eq!(
            verify_edited(|m| stmt(m).retain(|(k, _)| k.as_text() != Some("alg"))),
            Err(CeremonyError::BadStatement(
                "alg is missing or not an integer"
            ))
        );
        assert_eq!(
            verify_edited(|m| {
                for (k, v) in stmt(m).iter_mut() {
                    if k.as_text() == Some("alg") {
                        *v = Value::from(-257);
                    }
                }
            }),
            Err(CeremonyError::BadStatement(
                "alg is not ES256 (-7), the only algorithm accepted"
            ))
        );
        assert_eq!(
            verify_edited(|m| stmt(m).push((Value::from("x5c"), Value::Array(Vec::new())))),
            Err(CeremonyError::BadStatement("x5c is empty"))
        );
        let garbage = verify_edited(|m| {
            stmt(m).push((
                Value::from("x5c"),
                Value::Array(vec![Value::Bytes(vec![0x30, 0])]),
            ))
        });
        assert!(
            matches!(&garbage, Err(CeremonyError::BadCertificate { index: 0, reason }) if reason.starts_with("not an X.509 certificate")),
            "{garbage:?}"
        );
        for (fmt, expected) in [
            ("tpm", CeremonyError::UnsupportedFormat("tpm".into())),
            (
                "none",
                CeremonyError::BadStatement("the `none` format takes an empty attStmt"),
            ),
        ] {
            let result = verify_edited(|m| {
                for (k, v) in m.iter_mut() {
                    if k.as_text() == Some("fmt") {
                        *v = Value::from(fmt);
                    }
                }
            });
            assert_eq!(result, Err(expected), "{fmt}");
        }
    }

    #[test]
    fn certificates_are_checked_for_role_validity_and_chain() {
        let k = key(YUBIKEY);
        let c = ceremony();
        let leaf_key = profile("attestation_key", "mock");
        let leaf = profile("attestation_cert", "mock");
        let seed = toml_of(include_str!("../../../../fixtures/seed.toml"));
        let root = super::super::b64url_decode(
            seed["webauthn"]["trust_roots"][0]["certificate"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        // The full chain, root included, is trusted.
        let full = Attest::X5c {
            leaf_key: leaf_key.clone(),
            chain: vec![leaf.clone(), root.clone()],
        };
        assert_eq!(
            register(&k, &c, &full, false).unwrap().trust,
            Trust::Certified { trusted: true }
        );
        // The leaf is not a CA, so it cannot sign another leaf.
        let bad_chain = Attest::X5c {
            leaf_key: leaf_key.clone(),
            chain: vec![leaf.clone(), leaf.clone()],
        };
        assert_eq!(
            register(&k, &c, &bad_chain, false),
            Err(bad_cert(1, "is not a CA certificate"))
        );
        // The renamed leaf under this world's root: names and signature do not chain.
        let foreign = Attest::X5c {
            leaf_key: profile("attestation_key", "renamed"),
            chain: vec![profile("attestation_cert", "renamed"), root.clone()],
        };
        assert_eq!(
            register(&k, &c, &foreign, false),
            Err(bad_cert(
                0,
                "is not signed by x5c[1]: the issuer name is not the next certificate's subject"
            ))
        );
        // The root as a leaf: wrong OU first.
        let root_leaf = Attest::X5c {
            leaf_key: leaf_key.clone(),
            chain: vec![root],
        };
        assert_eq!(
            register(&k, &c, &root_leaf, false),
            Err(bad_cert(
                0,
                "subject OU is not \"Authenticator Attestation\""
            ))
        );
        // Outside the validity period.
        let r = k.register(&c, &x5c("mock"));
        let raw = super::super::b64url_decode(&r.client_data_json).unwrap();
        let attestation = parse_attestation_object(&r.attestation_object).unwrap();
        let hash: [u8; 32] = Sha256::digest(&raw).into();
        assert_eq!(
            rp().verify_registration(&attestation, &hash, false, 4_000_000_000),
            Err(bad_cert(0, "has expired (notAfter)"))
        );
        assert_eq!(
            rp().verify_registration(&attestation, &hash, false, 1_000_000_000),
            Err(bad_cert(0, "is not valid yet (notBefore)"))
        );
        // Another key signs than the leaf's.
        let wrong_key = Attest::X5c {
            leaf_key: profile("attestation_key", "renamed"),
            chain: vec![leaf],
        };
        assert_eq!(
            register(&k, &c, &wrong_key, false),
            Err(CeremonyError::BadAttestationSignature("the x5c leaf key"))
        );
    }

    #[test]
    fn cose_keys_must_be_es256_points_on_p256() {
        let good = key(YUBIKEY).cose_key();
        assert!(PublicKey::from_cose(&good).is_ok());
        let Value::Map(members) = ciborium::from_reader::<Value, _>(good.as_slice()).unwrap()
        else {
            unreachable!()
        };
        let edited = |label: i64, value: Value| {
            let members: Vec<_> = members
                .iter()
                .map(|(k, v)| {
                    if k.as_integer().map(i128::from) == Some(i128::from(label)) {
                        (k.clone(), value.clone())
                    } else {
                        (k.clone(), v.clone())
                    }
                })
                .collect();
            let mut out = Vec::new();
            ciborium::into_writer(&Value::Map(members), &mut out).unwrap();
            PublicKey::from_cose(&out)
        };
        assert_eq!(edited(1, Value::from(1)), Err(KeyError::NotEc2));
        assert_eq!(edited(3, Value::from(-8)), Err(KeyError::NotEs256));
        assert_eq!(edited(-1, Value::from(2)), Err(KeyError::NotP256));
        assert_eq!(
            edited(-2, Value::Bytes(vec![1; 31])),
            Err(KeyError::BadCoordinates)
        );
        assert_eq!(
            edited(-3, Value::Bytes(vec![1; 32])),
            Err(KeyError::NotOnCurve)
        );
        assert_eq!(PublicKey::from_cose(&[0x01]), Err(KeyError::NotCose));
    }

    #[test]
    fn client_data_that_must_be_rejected() {
        let ok =
            br#"{"type":"webauthn.get","challenge":"AQID","origin":"https://platform.example"}"#;
        let parsed = parse_client_data(ok, "webauthn.get").unwrap();
        assert_eq!(parsed.challenge, [1, 2, 3]);
        assert_eq!(parsed.hash, <[u8; 32]>::from(Sha256::digest(ok)));
        for (raw, expected) in [
            (&b"[]"[..], CeremonyError::ClientDataNotJson),
            (b"not json", CeremonyError::ClientDataNotJson),
            (
                br#"{"challenge":"AQID","origin":"o"}"#,
                CeremonyError::ClientDataMember("type"),
            ),
            (
                br#"{"type":"webauthn.get","origin":"o"}"#,
                CeremonyError::ClientDataMember("challenge"),
            ),
            (
                br#"{"type":"webauthn.get","challenge":"AQID"}"#,
                CeremonyError::ClientDataMember("origin"),
            ),
            (
                br#"{"type":"webauthn.get","challenge":"!!","origin":"o"}"#,
                CeremonyError::ChallengeNotBase64,
            ),
            (
                br#"{"type":"webauthn.get","challenge":"AQID","origin":"o","crossOrigin":true}"#,
                CeremonyError::CrossOrigin,
            ),
        ] {
            assert_eq!(parse_client_data(raw, "webauthn.get"), Err(expected));
        }
    }

    #[test]
    fn assertions_that_must_be_rejected() {
        let mut k = key(YUBIKEY);
        let public_key = PublicKey::from_cose(&k.cose_key()).unwrap();
        let verify = |a: &crate::webauthn::authenticator::Assertion, uv: bool| {
            let data = super::super::b64url_decode(&a.client_data_json).unwrap();
            let hash: [u8; 32] = Sha256::digest(&data).into();
            rp().verify_assertion(
                &super::super::b64url_decode(&a.authenticator_data).unwrap(),
                &hash,
                &super::super::b64url_decode(&a.signature).unwrap(),
                &public_key,
                uv,
            )
        };
        k.counter = 41;
        assert_eq!(verify(&k.assert(&ceremony()), true), Ok(42));
        let mut a = k.assert(&ceremony());
        let mut sig = super::super::b64url_decode(&a.signature).unwrap();
        *sig.last_mut().unwrap() ^= 1;
        a.signature = b64url(&sig);
        assert_eq!(verify(&a, false), Err(CeremonyError::BadSignature));
        let mut c = ceremony();
        c.rp_id = "evil.example".into();
        assert_eq!(
            verify(&k.assert(&c), false),
            Err(CeremonyError::RpIdHash("platform.example".into()))
        );
        let mut c = ceremony();
        c.flags = FLAG_USER_VERIFIED;
        assert_eq!(
            verify(&k.assert(&c), false),
            Err(CeremonyError::UserNotPresent)
        );
        c.flags = FLAG_USER_PRESENT;
        assert_eq!(
            verify(&k.assert(&c), true),
            Err(CeremonyError::UserNotVerified)
        );
        // Another key's signature.
        let other = key(YUBIKEY);
        let mut a = k.assert(&ceremony());
        a.signature = b64url(&other.sign(b"anything"));
        assert_eq!(verify(&a, false), Err(CeremonyError::BadSignature));
        assert_eq!(
            rp().verify_assertion(&[0; 36], &[0; 32], &[], &public_key, false),
            Err(CeremonyError::AuthDataTooShort(36))
        );
    }

    #[test]
    fn the_counter_must_go_up_unless_both_are_zero() {
        assert_eq!(check_counter(0, 0), Ok(()));
        assert_eq!(check_counter(0, 1), Ok(()));
        assert_eq!(check_counter(5, 6), Ok(()));
        assert_eq!(
            check_counter(5, 5),
            Err(CeremonyError::CounterNotIncreasing { stored: 5, got: 5 })
        );
        assert_eq!(
            check_counter(5, 4),
            Err(CeremonyError::CounterNotIncreasing { stored: 5, got: 4 })
        );
        assert_eq!(
            check_counter(5, 0),
            Err(CeremonyError::CounterNotIncreasing { stored: 5, got: 0 })
        );
    }
}
