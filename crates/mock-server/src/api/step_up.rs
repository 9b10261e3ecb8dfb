//! The step-up ceremony: `POST /v1/workspaces/{workspace}/step-up` issues a single-use token
//! for one purpose after a verified second factor: the current RFC 6238 code of one of the
//! caller's TOTP factors (a code of a time step already accepted is a replay), or a WebAuthn
//! assertion over a challenge from `POST .../step-up/options` (`crate::webauthn::verify`),
//! with the signature counter checked. A code or an assertion that does not verify is
//! STEP_UP_REQUIRED with the requested `purpose`; a body that cannot be decoded is a
//! ValidationError at the member.
//!
//! [`require_step_up`] is how a sensitive action spends one: the edge where a
//! [`StepUpError`] of `crate::stepup` becomes the catalog's error.

use axum::Json;
use axum::extract::State;
use catalog::Code;
use std::convert::Infallible;

use axum::extract::FromRequestParts;
use http::request::Parts;
use http::{HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::ceremony::{CHALLENGE_TTL, Kind};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::{FactorType, Purpose, StepUpPolicy};
use crate::state::AppState;
use crate::stepup::{ACR_MFA, ACR_PHISHING_RESISTANT, STEP_UP_TTL, StepUpError, X_STEP_UP_TOKEN};
use crate::totp;
use crate::webauthn::verify::{CeremonyError, check_counter, parse_client_data};
use crate::webauthn::{b64url, b64url_decode};

/// The request body (`StepUpRequest`); the schema requires `code` for TOTP and the assertion
/// members for WebAuthn factors.
#[derive(Debug, Deserialize)]
pub(crate) struct StepUp {
    /// The action the token will be good for.
    pub purpose: Purpose,
    pub factor: FactorType,
    /// TOTP: the current code.
    #[serde(default)]
    pub code: Option<String>,
    /// WebAuthn: the credential id (`rawId`), base64url.
    #[serde(rename = "credentialId", default)]
    pub credential_id: Option<String>,
    /// WebAuthn: `response.clientDataJSON`, base64url.
    #[serde(rename = "clientDataJSON", default)]
    pub client_data_json: Option<String>,
    /// WebAuthn: `response.authenticatorData`, base64url.
    #[serde(rename = "authenticatorData", default)]
    pub authenticator_data: Option<String>,
    /// WebAuthn: `response.signature` (ASN.1 DER ECDSA), base64url.
    #[serde(default)]
    pub signature: Option<String>,
    /// WebAuthn: `response.userHandle`, base64url; checked when present.
    #[serde(rename = "userHandle", default)]
    pub user_handle: Option<String>,
}

/// The response body (`StepUpToken`).
#[derive(Debug, Serialize)]
pub(crate) struct StepUpToken {
    /// Send it as `X-Step-Up-Token`.
    pub step_up_token: String,
    /// The action it is good for.
    pub purpose: Purpose,
    pub factor: FactorType,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// STEP_UP_REQUIRED for `purpose`, with the workspace's RFC 9470 challenge parameters.
fn step_up_required(
    state: &AppState,
    caller: &Caller,
    purpose: Purpose,
    detail: String,
) -> ApiError {
    required_for(step_up_policy(state, caller), purpose, detail)
}

/// The caller's workspace's step-up policy.
fn step_up_policy(state: &AppState, caller: &Caller) -> StepUpPolicy {
    state
        .read()
        .workspaces
        .get(&*caller.workspace)
        .map(|w| w.step_up)
        .unwrap_or_default()
}

/// STEP_UP_REQUIRED for `purpose` under `policy`: the acr values it asks for
/// and `max_age`.
fn required_for(policy: StepUpPolicy, purpose: Purpose, detail: String) -> ApiError {
    let acr = match policy {
        StepUpPolicy::Any => ACR_MFA,
        StepUpPolicy::PhishingResistant => ACR_PHISHING_RESISTANT,
    };
    ApiError::new(Code::StepUpRequired, detail)
        .with_purpose(purpose)
        .with_acr(acr, Some(STEP_UP_TTL.as_secs()))
}

/// `POST /v1/workspaces/{workspace}/step-up`.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result<(StatusCode, Json<StepUpToken>), ApiError> {
    let request: StepUp = body.parse(state.schemas(), "StepUpRequest")?;
    let enrolled = state
        .read()
        .user(&caller.user)
        .is_some_and(|u| u.factors.iter().any(|f| f.kind == request.factor));
    if !enrolled {
        return Err(ApiError::invalid_body(
            "/factor",
            format!("no {} factor is enrolled for the caller", request.factor),
        ));
    }
    if request.factor.is_webauthn() {
        verify_assertion(&state, &caller, &request)?;
    } else {
        verify_code(&state, &caller, &request)?;
    }
    let token = state
        .step_ups()
        .issue(&caller.user, request.purpose, request.factor);
    Ok((
        StatusCode::CREATED,
        Json(StepUpToken {
            step_up_token: token,
            purpose: request.purpose,
            factor: request.factor,
            expires_in: STEP_UP_TTL.as_secs(),
        }),
    ))
}

/// Checks the TOTP code against every TOTP factor of the caller and records the accepted
/// step, under the store's write lock: of concurrent step-ups with one code, one wins.
fn verify_code(state: &AppState, caller: &Caller, request: &StepUp) -> Result<(), ApiError> {
    let code = request.code.as_deref().unwrap_or_default();
    let now = totp::unix_now();
    let mut replayed = false;
    {
        let mut store = state.write();
        let Some(user) = store.user_mut(&caller.user) else {
            return Err(ApiError::not_found());
        };
        for factor in user.factors.iter_mut() {
            let Some(t) = factor.totp.as_mut() else {
                continue;
            };
            if let Some(step) = totp::verify(&t.secret, code, now, t.last_step) {
                t.last_step = Some(step);
                return Ok(());
            }
            replayed |= totp::verify(&t.secret, code, now, None).is_some();
        }
    }
    let detail = if replayed {
        "The TOTP code was already used; wait for the next code."
    } else {
        "The TOTP code is not the current code of any of the caller's TOTP factors."
    };
    Err(step_up_required(
        state,
        caller,
        request.purpose,
        detail.to_owned(),
    ))
}

/// Decodes a base64url member of the assertion, or a ValidationError at it.
fn member(value: Option<&str>, pointer: &'static str) -> Result<Vec<u8>, ApiError> {
    b64url_decode(value.unwrap_or_default())
        .filter(|bytes| !bytes.is_empty())
        .ok_or_else(|| {
            ApiError::invalid_body(pointer, format!("{} is not base64url", &pointer[1..]))
        })
}

/// Verifies a WebAuthn assertion (WebAuthn section 7.2) and stores the new counter.
fn verify_assertion(state: &AppState, caller: &Caller, request: &StepUp) -> Result<(), ApiError> {
    let credential_id = member(request.credential_id.as_deref(), "/credentialId")?;
    let client_data_raw = member(request.client_data_json.as_deref(), "/clientDataJSON")?;
    let auth_data = member(request.authenticator_data.as_deref(), "/authenticatorData")?;
    let signature = member(request.signature.as_deref(), "/signature")?;
    let user_handle =
        match request.user_handle.as_deref() {
            Some(handle) => Some(b64url_decode(handle).ok_or_else(|| {
                ApiError::invalid_body("/userHandle", "userHandle is not base64url")
            })?),
            None => None,
        };
    if auth_data.len() < 37 {
        return Err(ApiError::invalid_body(
            "/authenticatorData",
            CeremonyError::AuthDataTooShort(auth_data.len()).to_string(),
        ));
    }
    let refused = |e: CeremonyError| {
        step_up_required(
            state,
            caller,
            request.purpose,
            format!("The assertion was refused: {e}."),
        )
    };
    let client_data = match parse_client_data(&client_data_raw, "webauthn.get") {
        Err(CeremonyError::ClientDataNotJson) => {
            return Err(ApiError::invalid_body(
                "/clientDataJSON",
                CeremonyError::ClientDataNotJson.to_string(),
            ));
        }
        other => other.map_err(refused)?,
    };
    let key = state.read().user(&caller.user).and_then(|u| {
        u.factors
            .iter()
            .filter(|f| f.kind == request.factor)
            .filter_map(|f| f.credential.as_ref())
            .find(|c| c.id == credential_id)
            .map(|c| c.public_key.clone())
    });
    let Some(key) = key else {
        return Err(step_up_required(
            state,
            caller,
            request.purpose,
            format!(
                "The assertion was refused: credential {} is not one of the caller's {} credentials.",
                b64url(&credential_id),
                request.factor
            ),
        ));
    };
    if !state.challenges().take(
        &client_data.challenge,
        &caller.user,
        &caller.workspace,
        Kind::Assertion,
        request.factor,
    ) {
        return Err(refused(CeremonyError::UnknownChallenge));
    }
    let (origins, uv_required) = state.webauthn_policy(&caller.workspace);
    client_data.check_origin(&origins).map_err(refused)?;
    let count = state
        .relying_party()
        .verify_assertion(&auth_data, &client_data.hash, &signature, &key, uv_required)
        .map_err(refused)?;
    if user_handle.is_some_and(|h| h != caller.user.as_bytes()) {
        return Err(refused(CeremonyError::UserHandleMismatch));
    }
    // The refusal is built after the write guard is dropped: it reads the store.
    let counted = {
        let mut store = state.write();
        let credential = store.user_mut(&caller.user).and_then(|u| {
            u.factors
                .iter_mut()
                .filter_map(|f| f.credential.as_mut())
                .find(|c| c.id == credential_id)
        });
        match credential {
            // Removed since it was read: as if it had never been the caller's.
            None => Err(CeremonyError::BadSignature),
            Some(credential) => check_counter(credential.sign_count, count).map(|()| {
                credential.sign_count = count;
            }),
        }
    };
    counted.map_err(refused)
}

/// The request body of the assertion options (`StepUpOptionsRequest`).
#[derive(Debug, Deserialize)]
pub(crate) struct OptionsRequest {
    pub factor: FactorType,
}

/// `POST /v1/workspaces/{workspace}/step-up/options`: PublicKeyCredentialRequestOptionsJSON
/// for the caller's credentials of one factor type.
pub(crate) async fn options(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request: OptionsRequest = body.parse(state.schemas(), "StepUpOptionsRequest")?;
    let allow: Vec<serde_json::Value> = state
        .read()
        .user(&caller.user)
        .map(|u| {
            u.factors
                .iter()
                .filter(|f| f.kind == request.factor)
                .filter_map(|f| f.credential.as_ref())
                .map(|c| serde_json::json!({ "type": "public-key", "id": b64url(&c.id) }))
                .collect()
        })
        .unwrap_or_default();
    if allow.is_empty() {
        return Err(ApiError::invalid_body(
            "/factor",
            format!("no {} factor is enrolled for the caller", request.factor),
        ));
    }
    let (_, uv_required) = state.webauthn_policy(&caller.workspace);
    let challenge = state.challenges().issue(
        &caller.user,
        &caller.workspace,
        Kind::Assertion,
        request.factor,
    );
    Ok(Json(serde_json::json!({
        "challenge": b64url(&challenge),
        "rpId": state.relying_party().rp_id,
        "allowCredentials": allow,
        "userVerification": if uv_required { "required" } else { "preferred" },
        "timeout": CHALLENGE_TTL.as_millis() as u64,
    })))
}

/// The request's `X-Step-Up-Token` field, taken alone rather than with a copy of every header.
#[derive(Clone, Debug, Default)]
pub(crate) struct StepUpHeader(Option<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for StepUpHeader {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<StepUpHeader, Infallible> {
        Ok(StepUpHeader(parts.headers.get(&X_STEP_UP_TOKEN).cloned()))
    }
}

/// Spends the request's step-up token (`X-Step-Up-Token`) for `purpose`, or fails with
/// STEP_UP_REUSED, STEP_UP_REQUIRED (with `purpose`) or PHISHING_RESISTANT_REQUIRED.
///
/// Call it last, after every other check of the request has passed (it comes last in
/// `catalog::PRECEDENCE`), and only then perform the action: a token spent on a request that
/// then fails for another reason would be lost to the caller.
pub(crate) fn require_step_up(
    state: &AppState,
    caller: &Caller,
    header: &StepUpHeader,
    purpose: Purpose,
) -> Result<(), ApiError> {
    let policy = step_up_policy(state, caller);
    let max_age = Some(STEP_UP_TTL.as_secs());
    let required = |detail: String| required_for(policy, purpose, detail);
    let Some(token) = header
        .0
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        // One allocation, no formatting machinery: this is the error a client meets first.
        return Err(required(
            [
                "This action needs a fresh step-up for `",
                purpose.as_str(),
                "`: call POST /v1/workspaces/",
                &caller.workspace,
                "/step-up and send the token in X-Step-Up-Token.",
            ]
            .concat(),
        ));
    };
    match state.step_ups().spend(token, &caller.user, purpose, policy) {
        Ok(()) => Ok(()),
        Err(StepUpError::Reused) => Err(ApiError::new(
            Code::StepUpReused,
            "The step-up token has already been used; request a fresh one.",
        )),
        Err(StepUpError::Required) => Err(required(format!(
            "The step-up token is not valid for `{purpose}` (unknown, expired, or issued for another action or user)."
        ))),
        Err(StepUpError::PhishingResistantRequired) => Err(ApiError::new(
            Code::PhishingResistantRequired,
            "The workspace requires a passkey or hardware key for step-up; this token was obtained with TOTP.",
        )
        .with_acr(ACR_PHISHING_RESISTANT, max_age)),
    }
}
