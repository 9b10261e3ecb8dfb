//! `webauthn` steps: a ceremony the runner's software authenticator
//! performs, whose answer later steps capture like a response body.
//!
//! ```toml
//! [[scenario.setup]]
//! name = "the security key signs the challenge"
//! webauthn = { ceremony = "get", challenge = "{{capture.challenge}}", credential_id = "{{credential.vault_admin_key_id}}", private_key = "{{credential.vault_admin_key}}" }
//! capture = { client_data = "/clientDataJSON", auth_data = "/authenticatorData", sig = "/signature" }
//! ```
//!
//! `ceremony = "create"` takes `challenge`, `attestation` (`none`, `packed`
//! for self attestation, `packed-x5c`), `aaguid`, and for `packed-x5c`
//! `attestation_key` and `attestation_cert`; it answers `/credentialId`,
//! `/clientDataJSON`, `/attestationObject`, `/privateKey` (capture it under
//! a secret name) and `/fmt`. `ceremony = "get"` takes `challenge`,
//! `credential_id` and `private_key`, and answers `/credentialId`,
//! `/clientDataJSON`, `/authenticatorData` and `/signature`.
//!
//! What a hostile or broken client would claim instead of the profile's
//! `[webauthn]` origin and RP id: `origin`, `rp_id`, `type` (the client data
//! type), `user_present = false`, `user_verified = false`, `counter`, and
//! `tamper = "signature"` (one bit flipped after signing).
//!
//! A `totp` step is the authenticator app: it shows the current code of a
//! base32 secret once, so a scenario can send the same code twice (a
//! replay) where `{{totp(...)}}` would compute it afresh:
//!
//! ```toml
//! [[scenario.setup]]
//! totp = "{{capture.totp_secret}}"
//! capture = { code = "/code" }
//! ```

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::CaptureFrom;
use super::raw::RawWebAuthn;
use super::validate::Cx;
use crate::model::template::Template;
use crate::redact::Redactor;

/// A ceremony of the runner's software authenticator.
#[derive(Clone, Debug)]
pub(crate) struct WebAuthnStep {
    /// A name for reports.
    pub name: String,
    /// Registration or assertion, with its inputs.
    pub ceremony: Ceremony,
    /// The origin the client claims; `None`: the profile's.
    pub origin: Option<Template>,
    /// The RP id the authenticator hashes; `None`: the profile's.
    pub rp_id: Option<Template>,
    /// `clientDataJSON.type`; `None`: the ceremony's own.
    pub client_data_type: Option<String>,
    /// The UP (user present) flag of the authenticator data; true unless
    /// the scenario sets `user_present = false`.
    pub user_present: bool,
    /// The UV (user verified) flag; true unless `user_verified = false`.
    pub user_verified: bool,
    /// The signature counter written into the authenticator data (0 unless
    /// the scenario sets `counter`); a value at or below the last one seen
    /// is a cloned authenticator to the server.
    pub counter: u32,
    /// Flip a bit of the signature.
    pub tamper_signature: bool,
    /// Values to capture from the answer (JSON Pointers).
    pub captures: Vec<(String, CaptureFrom)>,
    /// Line of the step in its file.
    pub line: usize,
}

/// What the authenticator is asked to do.
#[derive(Clone, Debug)]
pub(crate) enum Ceremony {
    /// `navigator.credentials.create()`: a new credential, attested.
    Create {
        /// The challenge the target answered, base64url.
        challenge: Template,
        /// The attestation statement format.
        attestation: AttestationFormat,
        /// The AAGUID the authenticator claims.
        aaguid: Template,
        /// For `packed-x5c`: the attestation key (PKCS#8, base64url).
        attestation_key: Option<Template>,
        /// For `packed-x5c`: the attestation certificate (DER, base64url).
        attestation_cert: Option<Template>,
    },
    /// `navigator.credentials.get()`: an assertion with a credential.
    Get {
        /// The challenge the target answered, base64url.
        challenge: Template,
        /// The credential id, base64url.
        credential_id: Template,
        /// The credential's private key (PKCS#8, base64url).
        private_key: Template,
    },
}

/// The attestation statement a `create` ceremony writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AttestationFormat {
    /// `fmt: none`.
    None,
    /// `fmt: packed`, self attestation.
    Packed,
    /// `fmt: packed` with an `x5c` chain.
    PackedX5c,
}

impl WebAuthnStep {
    /// Every template of the step.
    pub(crate) fn templates(&self) -> Vec<&Template> {
        let mut out: Vec<&Template> = match &self.ceremony {
            Ceremony::Create {
                challenge,
                aaguid,
                attestation_key,
                attestation_cert,
                ..
            } => [
                Some(challenge),
                Some(aaguid),
                attestation_key.as_ref(),
                attestation_cert.as_ref(),
            ]
            .into_iter()
            .flatten()
            .collect(),
            Ceremony::Get {
                challenge,
                credential_id,
                private_key,
                ..
            } => vec![challenge, credential_id, private_key],
        };
        out.extend(self.origin.iter().chain(&self.rp_id));
        out
    }
}

/// The authenticator app showing the current code of a secret.
#[derive(Clone, Debug)]
pub(crate) struct TotpStep {
    /// A name for reports.
    pub name: String,
    /// The base32 secret.
    pub secret: Template,
    /// Values to capture from the answer (`/code`).
    pub captures: Vec<(String, CaptureFrom)>,
    /// Line of the step in its file.
    pub line: usize,
}

/// Members a `create` answer has.
const CREATE_OUTPUTS: &[&str] = &[
    "/credentialId",
    "/clientDataJSON",
    "/attestationObject",
    "/privateKey",
    "/fmt",
];
/// Members a `get` answer has.
const GET_OUTPUTS: &[&str] = &[
    "/credentialId",
    "/clientDataJSON",
    "/authenticatorData",
    "/signature",
];

impl Cx<'_> {
    /// Validates a `totp` step.
    pub(super) fn totp_step(
        &mut self,
        name: Option<String>,
        secret: Spanned<String>,
        capture: BTreeMap<Spanned<String>, Spanned<String>>,
        captures: &mut BTreeSet<String>,
        line: usize,
    ) -> Option<super::Step> {
        let secret = self.template(&secret, captures);
        let mut step_captures = Vec::new();
        for (name, from) in capture {
            if from.get_ref() != "/code" {
                self.error(
                    from.span(),
                    format!(
                        "capture `{}`: a `totp` step answers /code, not `{}`",
                        name.get_ref(),
                        from.get_ref()
                    ),
                );
                return None;
            }
            captures.insert(name.get_ref().clone());
            step_captures.push((name.into_inner(), CaptureFrom::Body("/code".into())));
        }
        Some(super::Step::Totp(TotpStep {
            name: name.unwrap_or_else(|| "the authenticator app shows a code".into()),
            secret: secret?,
            captures: step_captures,
            line,
        }))
    }

    /// Validates a `webauthn` step; `capture` is the step's capture table.
    pub(super) fn webauthn_step(
        &mut self,
        name: Option<String>,
        raw: Spanned<RawWebAuthn>,
        capture: BTreeMap<Spanned<String>, Spanned<String>>,
        captures: &mut BTreeSet<String>,
        line: usize,
    ) -> Option<super::Step> {
        let span = raw.span();
        let raw = raw.into_inner();
        let before = self.diagnostics.len();
        let challenge = self.template(&raw.challenge, captures);
        let required = |cx: &mut Self, value: Option<Spanned<String>>, member: &str| {
            let Some(value) = value else {
                cx.error(
                    span.clone(),
                    format!("a `{}` ceremony needs `{member}`", raw.ceremony.get_ref()),
                );
                return None;
            };
            cx.template(&value, captures)
        };
        let (ceremony, outputs) = match raw.ceremony.get_ref().as_str() {
            "create" => {
                for (member, given) in [
                    ("credential_id", raw.credential_id.as_ref()),
                    ("private_key", raw.private_key.as_ref()),
                ] {
                    if let Some(v) = given {
                        self.error(v.span(), format!("`{member}` belongs to a `get` ceremony"));
                    }
                }
                let attestation = match raw.attestation.as_ref().map(|a| a.get_ref().as_str()) {
                    Some("none") => Some(AttestationFormat::None),
                    Some("packed") => Some(AttestationFormat::Packed),
                    Some("packed-x5c") => Some(AttestationFormat::PackedX5c),
                    Some(other) => {
                        let at = raw.attestation.as_ref().map_or(span.clone(), Spanned::span);
                        self.error(
                            at,
                            format!("attestation `{other}` is not one of none, packed, packed-x5c"),
                        );
                        None
                    }
                    None => {
                        self.error(span.clone(), "a `create` ceremony needs `attestation`");
                        None
                    }
                };
                let x5c = attestation == Some(AttestationFormat::PackedX5c);
                let (key, cert) = (raw.attestation_key, raw.attestation_cert);
                let (attestation_key, attestation_cert) = if x5c {
                    (
                        required(self, key, "attestation_key"),
                        required(self, cert, "attestation_cert"),
                    )
                } else {
                    for v in key.iter().chain(&cert) {
                        self.error(v.span(), "only `packed-x5c` attestation takes an attestation key and certificate");
                    }
                    (None, None)
                };
                let aaguid = required(self, raw.aaguid, "aaguid");
                (
                    Some(Ceremony::Create {
                        challenge: challenge?,
                        attestation: attestation?,
                        aaguid: aaguid?,
                        attestation_key,
                        attestation_cert,
                    }),
                    CREATE_OUTPUTS,
                )
            }
            "get" => {
                for (member, given) in [
                    ("attestation", raw.attestation.as_ref()),
                    ("aaguid", raw.aaguid.as_ref()),
                    ("attestation_key", raw.attestation_key.as_ref()),
                    ("attestation_cert", raw.attestation_cert.as_ref()),
                ] {
                    if let Some(v) = given {
                        self.error(
                            v.span(),
                            format!("`{member}` belongs to a `create` ceremony"),
                        );
                    }
                }
                let credential_id = required(self, raw.credential_id, "credential_id");
                let private_key = required(self, raw.private_key, "private_key");
                (
                    challenge.zip(credential_id).zip(private_key).map(
                        |((challenge, credential_id), private_key)| Ceremony::Get {
                            challenge,
                            credential_id,
                            private_key,
                        },
                    ),
                    GET_OUTPUTS,
                )
            }
            other => {
                self.error(
                    raw.ceremony.span(),
                    format!("ceremony `{other}` is not `create` or `get`"),
                );
                (None, &[][..])
            }
        };
        let origin = raw.origin.and_then(|o| self.template(&o, captures));
        let rp_id = raw.rp_id.and_then(|r| self.template(&r, captures));
        let tamper_signature = match raw.tamper {
            Some(t) if t.get_ref() == "signature" => true,
            Some(t) => {
                self.error(
                    t.span(),
                    format!("tamper `{}` is not `signature`", t.get_ref()),
                );
                false
            }
            None => false,
        };
        let mut step_captures = Vec::new();
        for (name, from) in capture {
            let (n, pointer) = (name.get_ref(), from.get_ref());
            if !outputs.is_empty() && !outputs.contains(&pointer.as_str()) {
                self.error(
                    from.span(),
                    format!(
                        "capture `{n}`: the authenticator answers {}, not `{pointer}`",
                        outputs.join(", ")
                    ),
                );
                continue;
            }
            if pointer == "/privateKey" && !Redactor::is_secret_name(n) {
                self.error(
                    name.span(),
                    format!("capture `{n}` holds a private key: give it a name with `key` or `secret` in it, so every output redacts it"),
                );
                continue;
            }
            captures.insert(n.clone());
            step_captures.push((n.clone(), CaptureFrom::Body(pointer.clone())));
        }
        if self.diagnostics.len() > before {
            return None;
        }
        Some(super::Step::WebAuthn(WebAuthnStep {
            name: name.unwrap_or_else(|| format!("webauthn {}", raw.ceremony.get_ref())),
            ceremony: ceremony?,
            origin,
            rp_id,
            client_data_type: raw.client_data_type.map(Spanned::into_inner),
            user_present: raw.user_present.unwrap_or(true),
            user_verified: raw.user_verified.unwrap_or(true),
            counter: raw.counter.unwrap_or(0),
            tamper_signature,
            captures: step_captures,
            line,
        }))
    }
}
