//! A software ES256 authenticator for the mock's own tests: it answers the options the mock
//! issues with a registration (`none`, `packed` self or `packed` x5c attestation) or an
//! assertion, as a browser's `PublicKeyCredential.toJSON()` would send them. Every input a
//! test may want to tamper with (origin, RP id, flags, counter, type) is a field of
//! [`Ceremony`].

use ciborium::Value;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use sha2::{Digest, Sha256};

use super::{Aaguid, FLAG_ATTESTED_CREDENTIAL_DATA, FLAG_USER_PRESENT, FLAG_USER_VERIFIED, b64url};

/// How a registration is attested.
#[derive(Clone, Debug)]
pub enum Attest {
    /// `none`, with an empty statement.
    None,
    /// `packed` self attestation: the credential key signs.
    SelfSigned,
    /// `packed` with `x5c`: the leaf key (PKCS#8) signs; `chain` is the leaf certificate
    /// first, then any intermediates (DER).
    X5c {
        /// The leaf private key, PKCS#8 DER.
        leaf_key: Vec<u8>,
        /// The certificates, leaf first.
        chain: Vec<Vec<u8>>,
    },
}

/// What the client and the authenticator claim in one ceremony.
#[derive(Clone, Debug)]
pub struct Ceremony {
    /// The challenge from the options, decoded.
    pub challenge: Vec<u8>,
    /// `clientDataJSON.origin`.
    pub origin: String,
    /// The RP id whose hash goes into the authenticator data.
    pub rp_id: String,
    /// `clientDataJSON.type`; `None` for the ceremony's own.
    pub type_override: Option<String>,
    /// The flags byte (AT is added for registrations).
    pub flags: u8,
}

impl Ceremony {
    /// A ceremony for `challenge` at `origin` and `rp_id`, with UP and UV set.
    pub fn new(challenge: Vec<u8>, origin: &str, rp_id: &str) -> Ceremony {
        Ceremony {
            challenge,
            origin: origin.to_owned(),
            rp_id: rp_id.to_owned(),
            type_override: None,
            flags: FLAG_USER_PRESENT | FLAG_USER_VERIFIED,
        }
    }

    fn client_data(&self, kind: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "type": self.type_override.as_deref().unwrap_or(kind),
            "challenge": b64url(&self.challenge),
            "origin": self.origin,
            "crossOrigin": false,
        }))
        .unwrap_or_default()
    }
}

/// A registration response's members, base64url.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// `response.clientDataJSON`.
    pub client_data_json: String,
    /// `response.attestationObject`.
    pub attestation_object: String,
}

/// An assertion response's members, base64url.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assertion {
    /// `rawId`.
    pub credential_id: String,
    /// `response.clientDataJSON`.
    pub client_data_json: String,
    /// `response.authenticatorData`.
    pub authenticator_data: String,
    /// `response.signature` (ASN.1 DER).
    pub signature: String,
}

/// One credential on a software authenticator.
#[derive(Debug)]
pub struct SoftAuthenticator {
    key: EcdsaKeyPair,
    /// The credential id this authenticator made: raw bytes, base64url on
    /// the wire.
    pub credential_id: Vec<u8>,
    /// The authenticator model it reports.
    pub aaguid: Aaguid,
    /// The signature counter; incremented before each assertion unless it is zero, as
    /// authenticators without a counter keep it at zero.
    pub counter: u32,
}

/// Why a key could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a PKCS#8 P-256 private key: {0}")]
pub struct KeyLoadError(String);

impl SoftAuthenticator {
    /// A fresh credential with a random key.
    ///
    /// # Panics
    ///
    /// If the OS random generator fails.
    pub fn generate(aaguid: Aaguid, credential_id: &[u8]) -> SoftAuthenticator {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .expect("the OS random generator works");
        SoftAuthenticator::from_pkcs8(pkcs8.as_ref(), credential_id, aaguid)
            .expect("ring reads the PKCS#8 it wrote")
    }

    /// A credential whose private key is `pkcs8` (DER).
    pub fn from_pkcs8(
        pkcs8: &[u8],
        credential_id: &[u8],
        aaguid: Aaguid,
    ) -> Result<SoftAuthenticator, KeyLoadError> {
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &SystemRandom::new())
                .map_err(|e| KeyLoadError(e.to_string()))?;
        Ok(SoftAuthenticator {
            key,
            credential_id: credential_id.to_vec(),
            aaguid,
            counter: 0,
        })
    }

    /// The credential public key as a COSE_Key (EC2, ES256, P-256).
    pub fn cose_key(&self) -> Vec<u8> {
        let point = self.key.public_key().as_ref();
        let key = Value::Map(vec![
            (Value::from(1), Value::from(2)),
            (Value::from(3), Value::from(-7)),
            (Value::from(-1), Value::from(1)),
            (Value::from(-2), Value::Bytes(point[1..33].to_vec())),
            (Value::from(-3), Value::Bytes(point[33..65].to_vec())),
        ]);
        cbor(&key)
    }

    /// Signs `message` with the credential key (ASN.1 DER).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        sign_with(&self.key, message)
    }

    /// A registration response for `ceremony`, attested as `attest`.
    ///
    /// # Panics
    ///
    /// If an [`Attest::X5c`] leaf key is not a PKCS#8 P-256 key.
    pub fn register(&self, ceremony: &Ceremony, attest: &Attest) -> Registration {
        let client_data = ceremony.client_data("webauthn.create");
        let mut auth_data = Vec::new();
        auth_data.extend_from_slice(&Sha256::digest(ceremony.rp_id.as_bytes()));
        auth_data.push(ceremony.flags | FLAG_ATTESTED_CREDENTIAL_DATA);
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        auth_data.extend_from_slice(self.aaguid.as_bytes());
        let id_len = u16::try_from(self.credential_id.len()).unwrap_or(u16::MAX);
        auth_data.extend_from_slice(&id_len.to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&self.cose_key());

        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let (fmt, att_stmt) = match attest {
            Attest::None => ("none", Vec::new()),
            Attest::SelfSigned => (
                "packed",
                vec![
                    (Value::from("alg"), Value::from(-7)),
                    (Value::from("sig"), Value::Bytes(self.sign(&signed))),
                ],
            ),
            Attest::X5c { leaf_key, chain } => {
                let leaf = EcdsaKeyPair::from_pkcs8(
                    &ECDSA_P256_SHA256_ASN1_SIGNING,
                    leaf_key,
                    &SystemRandom::new(),
                )
                .expect("the attestation key is PKCS#8 P-256");
                (
                    "packed",
                    vec![
                        (Value::from("alg"), Value::from(-7)),
                        (Value::from("sig"), Value::Bytes(sign_with(&leaf, &signed))),
                        (
                            Value::from("x5c"),
                            Value::Array(chain.iter().cloned().map(Value::Bytes).collect()),
                        ),
                    ],
                )
            }
        };
        let object = Value::Map(vec![
            (Value::from("fmt"), Value::from(fmt)),
            (Value::from("attStmt"), Value::Map(att_stmt)),
            (Value::from("authData"), Value::Bytes(auth_data)),
        ]);
        Registration {
            client_data_json: b64url(&client_data),
            attestation_object: b64url(&cbor(&object)),
        }
    }

    /// An assertion for `ceremony`; the counter goes up by one first unless it is zero.
    pub fn assert(&mut self, ceremony: &Ceremony) -> Assertion {
        if self.counter != 0 {
            self.counter += 1;
        }
        let client_data = ceremony.client_data("webauthn.get");
        let mut auth_data = Vec::new();
        auth_data.extend_from_slice(&Sha256::digest(ceremony.rp_id.as_bytes()));
        auth_data.push(ceremony.flags);
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        Assertion {
            credential_id: b64url(&self.credential_id),
            client_data_json: b64url(&client_data),
            authenticator_data: b64url(&auth_data),
            signature: b64url(&self.sign(&signed)),
        }
    }
}

fn sign_with(key: &EcdsaKeyPair, message: &[u8]) -> Vec<u8> {
    key.sign(&SystemRandom::new(), message)
        .expect("ECDSA signing with the OS generator works")
        .as_ref()
        .to_vec()
}

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("writing CBOR into a Vec cannot fail");
    out
}
