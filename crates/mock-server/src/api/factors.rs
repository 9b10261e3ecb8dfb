//! Second factors of the caller: `POST /v1/workspaces/{workspace}/factors` (enrol),
//! `POST .../factors/webauthn/options` (registration options), `GET .../factors` (list) and
//! `DELETE .../users/{user_id}/factors/{factor_id}` (remove, behind a `remove_factor` step-up).
//!
//! Enrolment, the options and the list are the `/v1` calls a user without a factor may make in
//! a workspace that requires MFA (the [`Enrolling`] extractor skips MFA_REQUIRED). TOTP
//! enrolment answers a fresh 160-bit secret and its `otpauth://` URI. WebAuthn enrolment is a
//! relying party's registration (`crate::webauthn::verify`): the challenge of the options call,
//! the origin, the authenticator data, the credential key and the attestation statement;
//! anything that does not verify is a ValidationError at `/clientDataJSON` or
//! `/attestationObject`. The workspace's AAGUID allowlist then decides ATTESTATION_BLOCKED: the
//! AAGUID must be on it and proven by an `x5c` chain to a trust root the seed configures for it.

use axum::Json;
use axum::extract::State;
use catalog::Code;
use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::api::step_up::{StepUpHeader, require_step_up};
use crate::auth::{Caller, Enrolling};
use crate::ceremony::{CHALLENGE_TTL, Kind};
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParams};
use crate::model::{FactorType, Purpose, Role};
use crate::state::AppState;
use crate::store::{Credential, Factor, TotpState};
use crate::totp;
use crate::webauthn::verify::{CeremonyError, Trust, parse_client_data, unix_now};
use crate::webauthn::{Aaguid, b64url, b64url_decode, parse_attestation_object};

/// The request body (`EnrolFactorRequest`).
#[derive(Debug, Deserialize)]
pub(crate) struct Enrol {
    #[serde(rename = "type")]
    pub kind: FactorType,
    /// WebAuthn: the registration's `clientDataJSON`, base64url.
    #[serde(rename = "clientDataJSON", default)]
    pub client_data_json: Option<String>,
    /// WebAuthn: the registration's attestation object, base64url CBOR.
    #[serde(rename = "attestationObject", default)]
    pub attestation_object: Option<String>,
}

/// The response body of enrolment and the items of the list (`Factor`).
#[derive(Debug, Serialize)]
pub(crate) struct FactorView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: FactorType,
    /// When it was enrolled (the list only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// WebAuthn: the attestation format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fmt: Option<String>,
    /// WebAuthn: the authenticator model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aaguid: Option<Aaguid>,
    /// WebAuthn: the credential id, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    /// TOTP, at enrolment only: the shared secret (base32).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// TOTP, at enrolment only: the secret as an `otpauth://` URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otpauth_uri: Option<String>,
}

impl FactorView {
    fn of(factor: &Factor) -> FactorView {
        FactorView {
            id: factor.id.clone(),
            kind: factor.kind,
            created_at: None,
            fmt: factor.fmt.clone(),
            aaguid: factor.aaguid,
            credential_id: factor.credential.as_ref().map(|c| b64url(&c.id)),
            secret: None,
            otpauth_uri: None,
        }
    }
}

/// `POST /v1/workspaces/{workspace}/factors`.
pub(crate) async fn enrol(
    State(state): State<AppState>,
    Enrolling(caller): Enrolling,
    body: JsonBody,
) -> Result<(StatusCode, Json<FactorView>), ApiError> {
    let request: Enrol = body.parse(state.schemas(), "EnrolFactorRequest")?;
    let mut factor = Factor {
        id: state.next_id("fac_"),
        kind: request.kind,
        created_at: std::time::SystemTime::now(),
        aaguid: None,
        fmt: None,
        totp: None,
        credential: None,
    };
    let mut response;
    if request.kind.is_webauthn() {
        register(&state, &caller, &request, &mut factor)?;
        response = FactorView::of(&factor);
    } else {
        let secret = totp::new_secret();
        let email = state
            .read()
            .user(&caller.user)
            .map(|u| u.email.clone())
            .ok_or_else(ApiError::not_found)?;
        response = FactorView::of(&factor);
        response.secret = Some(totp::encode_secret(&secret));
        response.otpauth_uri = Some(totp::otpauth_uri(
            &state.relying_party().rp_name,
            &email,
            &secret,
        ));
        factor.totp = Some(TotpState {
            secret,
            last_step: None,
        });
    }
    let mut store = state.write();
    if let Some(credential) = &factor.credential {
        // Checked again under the write lock: two registrations of one id may race.
        if store.credential_registered(&credential.id) {
            return Err(registration_error(&CeremonyError::CredentialIdTaken));
        }
    }
    match store.user_mut(&caller.user) {
        Some(user) => user.factors.push(factor),
        // Deleted between authentication and now: as if the token had been revoked.
        None => return Err(ApiError::not_found()),
    }
    Ok((StatusCode::CREATED, Json(response)))
}

/// The ValidationError of a registration that does not verify.
fn registration_error(error: &CeremonyError) -> ApiError {
    let pointer = if error.is_client_data() {
        "/clientDataJSON"
    } else {
        "/attestationObject"
    };
    ApiError::invalid_body(pointer, error.to_string())
}

/// Verifies a WebAuthn registration (WebAuthn section 7.1) and fills in `factor`.
fn register(
    state: &AppState,
    caller: &Caller,
    request: &Enrol,
    factor: &mut Factor,
) -> Result<(), ApiError> {
    // The schema requires both members for WebAuthn types; absent ones read as empty and fail
    // to decode below rather than panicking.
    let client_data_raw = b64url_decode(request.client_data_json.as_deref().unwrap_or_default())
        .filter(|raw| !raw.is_empty())
        .ok_or_else(|| {
            ApiError::invalid_body("/clientDataJSON", "clientDataJSON is not base64url")
        })?;
    let client_data = parse_client_data(&client_data_raw, "webauthn.create")
        .map_err(|e| registration_error(&e))?;
    if !state.challenges().take(
        &client_data.challenge,
        &caller.user,
        &caller.workspace,
        Kind::Registration,
        request.kind,
    ) {
        return Err(registration_error(&CeremonyError::UnknownChallenge));
    }
    let (origins, uv_required) = state.webauthn_policy(&caller.workspace);
    client_data
        .check_origin(&origins)
        .map_err(|e| registration_error(&e))?;

    let encoded = request.attestation_object.as_deref().unwrap_or_default();
    let attestation = parse_attestation_object(encoded)
        .map_err(|e| ApiError::invalid_body(format!("/{}", e.field()), e.to_string()))?;
    let registered = state
        .relying_party()
        .verify_registration(&attestation, &client_data.hash, uv_required, unix_now())
        .map_err(|e| registration_error(&e))?;
    if state
        .read()
        .credential_registered(&attestation.credential_id)
    {
        return Err(registration_error(&CeremonyError::CredentialIdTaken));
    }
    check_allowlist(
        state,
        &caller.workspace,
        attestation.fmt.as_str(),
        attestation.aaguid,
        registered.trust,
    )?;
    factor.aaguid = Some(attestation.aaguid);
    factor.fmt = Some(attestation.fmt.as_str().to_owned());
    factor.credential = Some(Credential {
        id: attestation.credential_id,
        public_key: registered.public_key,
        sign_count: attestation.sign_count,
    });
    Ok(())
}

/// ATTESTATION_BLOCKED unless the workspace accepts the authenticator model and the
/// attestation proves it.
fn check_allowlist(
    state: &AppState,
    workspace: &str,
    fmt: &str,
    aaguid: Aaguid,
    trust: Trust,
) -> Result<(), ApiError> {
    let allowlist = state
        .read()
        .workspaces
        .get(workspace)
        .map(|w| w.aaguid_allowlist.clone())
        .unwrap_or_default();
    if allowlist.is_empty() {
        return Ok(());
    }
    let detail = if !allowlist.contains(&aaguid) {
        if aaguid.is_zero() {
            format!(
                "The attestation (format `{fmt}`) has the all-zero AAGUID, so it does not identify the authenticator model the workspace allowlist requires."
            )
        } else {
            format!(
                "The authenticator model {aaguid} (format `{fmt}`) is not on the workspace allowlist."
            )
        }
    } else {
        match trust {
            Trust::Certified { trusted: true } => return Ok(()),
            Trust::Certified { trusted: false } => format!(
                "The attestation certificate chain does not end in a trust root configured for the authenticator model {aaguid}, so the model is not proven."
            ),
            Trust::SelfAttestation => format!(
                "Self attestation (format `packed` without x5c) does not prove the authenticator model {aaguid} the workspace allowlist requires."
            ),
            Trust::None => format!(
                "Attestation format `none` does not prove the authenticator model {aaguid} the workspace allowlist requires."
            ),
        }
    };
    Err(ApiError::new(Code::AttestationBlocked, detail))
}

/// The request body of the registration options (`WebauthnRegistrationOptionsRequest`).
#[derive(Debug, Deserialize)]
pub(crate) struct OptionsRequest {
    #[serde(rename = "type")]
    pub kind: FactorType,
}

/// `POST /v1/workspaces/{workspace}/factors/webauthn/options`:
/// PublicKeyCredentialCreationOptionsJSON.
pub(crate) async fn registration_options(
    State(state): State<AppState>,
    Enrolling(caller): Enrolling,
    body: JsonBody,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request: OptionsRequest =
        body.parse(state.schemas(), "WebauthnRegistrationOptionsRequest")?;
    let (email, exclude) = {
        let store = state.read();
        let user = store.user(&caller.user).ok_or_else(ApiError::not_found)?;
        let exclude: Vec<serde_json::Value> = user
            .factors
            .iter()
            .filter_map(|f| f.credential.as_ref())
            .map(|c| serde_json::json!({ "type": "public-key", "id": b64url(&c.id) }))
            .collect();
        (user.email.clone(), exclude)
    };
    let (_, uv_required) = state.webauthn_policy(&caller.workspace);
    let challenge = state.challenges().issue(
        &caller.user,
        &caller.workspace,
        Kind::Registration,
        request.kind,
    );
    let rp = state.relying_party();
    let resident_key = if request.kind == FactorType::Passkey {
        "required"
    } else {
        "discouraged"
    };
    Ok(Json(serde_json::json!({
        "challenge": b64url(&challenge),
        "rp": { "id": rp.rp_id, "name": rp.rp_name },
        "user": {
            "id": b64url(caller.user.as_bytes()),
            "name": email,
            "displayName": email,
        },
        "pubKeyCredParams": [{ "type": "public-key", "alg": -7 }],
        "timeout": CHALLENGE_TTL.as_millis() as u64,
        "attestation": "direct",
        "authenticatorSelection": {
            "residentKey": resident_key,
            "userVerification": if uv_required { "required" } else { "preferred" },
        },
        "excludeCredentials": exclude,
    })))
}

/// The list (`FactorList`).
#[derive(Debug, Serialize)]
pub(crate) struct FactorList {
    pub factors: Vec<FactorView>,
}

/// `GET /v1/workspaces/{workspace}/factors`: the caller's own factors.
pub(crate) async fn list(
    State(state): State<AppState>,
    Enrolling(caller): Enrolling,
) -> Result<Json<FactorList>, ApiError> {
    let store = state.read();
    let user = store.user(&caller.user).ok_or_else(ApiError::not_found)?;
    let factors = user
        .factors
        .iter()
        .map(|f| FactorView {
            created_at: Some(crate::scim::record::rfc3339(f.created_at)),
            ..FactorView::of(f)
        })
        .collect();
    Ok(Json(FactorList { factors }))
}

/// `DELETE /v1/workspaces/{workspace}/users/{user_id}/factors/{factor_id}`: the user themself or
/// an admin, after a `remove_factor` step-up.
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    step_up: StepUpHeader,
) -> Result<StatusCode, ApiError> {
    let user_id = params.get("user_id");
    let factor_id = params.get("factor_id");
    if *caller.user != *user_id {
        caller.require(Role::Admin)?;
    }
    let exists = state
        .read()
        .user_in(&caller.workspace, user_id)
        .is_some_and(|u| u.factors.iter().any(|f| f.id == factor_id));
    if !exists {
        return Err(ApiError::not_found());
    }
    require_step_up(&state, &caller, &step_up, Purpose::RemoveFactor)?;
    let mut store = state.write();
    if let Some(user) = store.user_mut(user_id) {
        user.factors.retain(|f| f.id != factor_id);
    }
    Ok(StatusCode::NO_CONTENT)
}
