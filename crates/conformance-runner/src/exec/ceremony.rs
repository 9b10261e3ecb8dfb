//! Runs the local steps: a `webauthn` ceremony of the software
//! authenticator, and a `totp` code. Each renders its inputs, answers, and
//! captures from the answer like from a response body.

use serde_json::Value;

use super::shared::Shared;
use crate::ceremony::authenticator::{self, Attestation, Claims, decode_b64url};
use crate::ceremony::totp;
use crate::model::scenario::{AttestationFormat, CaptureFrom, Ceremony, TotpStep, WebAuthnStep};
use crate::model::template::Vars;
use crate::redact::Redactor;

/// Performs the ceremony; errors are (expected, actual) like a failed step.
pub(crate) fn run(
    shared: &Shared,
    step: &WebAuthnStep,
    vars: &mut Vars<'_>,
) -> Result<(), (String, String)> {
    let fail = |actual: String| ("the authenticator's answer".to_owned(), actual);
    let render =
        |t: &crate::model::template::Template| t.render(vars).map_err(|e| fail(e.to_string()));
    let client = shared.profile.webauthn.as_ref();
    let origin = match (&step.origin, client) {
        (Some(t), _) => render(t)?,
        (None, Some(c)) => c.origin.clone(),
        (None, None) => return Err(fail(NO_CLIENT.into())),
    };
    let rp_id = match (&step.rp_id, client) {
        (Some(t), _) => render(t)?,
        (None, Some(c)) => c.rp_id.clone(),
        (None, None) => return Err(fail(NO_CLIENT.into())),
    };
    let claims = Claims {
        client_data_type: step.client_data_type.clone(),
        user_present: step.user_present,
        user_verified: step.user_verified,
        counter: step.counter,
        tamper_signature: step.tamper_signature,
        ..Claims::honest(&origin, &rp_id)
    };
    let answer = match &step.ceremony {
        Ceremony::Create {
            challenge,
            attestation,
            aaguid,
            attestation_key,
            attestation_cert,
        } => {
            let attestation = match attestation {
                AttestationFormat::None => Attestation::None,
                AttestationFormat::Packed => Attestation::PackedSelf,
                AttestationFormat::PackedX5c => {
                    let (Some(key), Some(cert)) = (attestation_key, attestation_cert) else {
                        return Err(fail("no attestation key or certificate".into()));
                    };
                    Attestation::PackedX5c {
                        key: decode_b64url(&render(key)?, "attestation_key")
                            .map_err(|e| fail(e.to_string()))?,
                        chain: vec![
                            decode_b64url(&render(cert)?, "attestation_cert")
                                .map_err(|e| fail(e.to_string()))?,
                        ],
                    }
                }
            };
            let registration =
                authenticator::create(&render(challenge)?, &render(aaguid)?, &attestation, &claims)
                    .map_err(|e| fail(e.to_string()))?;
            let json = registration.to_json();
            if let Some(key) = json["privateKey"].as_str() {
                shared.add_secret(key);
            }
            json
        }
        Ceremony::Get {
            challenge,
            credential_id,
            private_key,
        } => {
            let id = decode_b64url(&render(credential_id)?, "credential_id")
                .map_err(|e| fail(e.to_string()))?;
            let key = decode_b64url(&render(private_key)?, "private_key")
                .map_err(|e| fail(e.to_string()))?;
            authenticator::get(&render(challenge)?, &id, &key, &claims)
                .map_err(|e| fail(e.to_string()))?
                .to_json()
        }
    };
    capture(shared, &step.captures, &answer, vars).map_err(fail)
}

/// Shows the current code of the step's secret, for its captures.
pub(crate) fn run_totp(
    shared: &Shared,
    step: &TotpStep,
    vars: &mut Vars<'_>,
) -> Result<(), (String, String)> {
    let fail = |actual: String| ("the authenticator app's code".to_owned(), actual);
    let secret = step.secret.render(vars).map_err(|e| fail(e.to_string()))?;
    let code = totp::current_code(&secret).map_err(|e| fail(e.to_string()))?;
    capture(
        shared,
        &step.captures,
        &serde_json::json!({ "code": code }),
        vars,
    )
    .map_err(fail)
}

fn capture(
    shared: &Shared,
    captures: &[(String, CaptureFrom)],
    answer: &Value,
    vars: &mut Vars<'_>,
) -> Result<(), String> {
    for (name, from) in captures {
        let CaptureFrom::Body(pointer) = from else {
            continue;
        };
        let Some(Value::String(value)) = answer.pointer(pointer) else {
            return Err(format!("no {pointer} in the authenticator's answer"));
        };
        if Redactor::is_secret_name(name) {
            shared.add_secret(value);
        }
        vars.captures.insert(name.clone(), value.clone());
    }
    Ok(())
}

const NO_CLIENT: &str =
    "the profile sets no `[webauthn]` `rp_id` and `origin` for the software authenticator";
