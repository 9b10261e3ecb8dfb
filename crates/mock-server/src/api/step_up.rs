//! The step-up ceremony: `POST /v1/workspaces/{workspace}/step-up` issues a single-use token
//! for one purpose. The mock accepts any six-digit TOTP code and does not verify WebAuthn
//! assertions; the factor must be enrolled.
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
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::{FactorType, Purpose, StepUpPolicy};
use crate::state::AppState;
use crate::stepup::{ACR_MFA, ACR_PHISHING_RESISTANT, STEP_UP_TTL, StepUpError, X_STEP_UP_TOKEN};

/// The members of the request body (`StepUpRequest`) the handler reads; the schema checks
/// the `code`.
#[derive(Debug, Deserialize)]
pub(crate) struct StepUp {
    /// The action the token will be good for.
    pub purpose: Purpose,
    pub factor: FactorType,
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
    let policy = state
        .read()
        .workspaces
        .get(&*caller.workspace)
        .map(|w| w.step_up)
        .unwrap_or_default();
    let acr = match policy {
        StepUpPolicy::Any => ACR_MFA,
        StepUpPolicy::PhishingResistant => ACR_PHISHING_RESISTANT,
    };
    let max_age = Some(STEP_UP_TTL.as_secs());
    let required = |detail: String| {
        ApiError::new(Code::StepUpRequired, detail)
            .with_purpose(purpose)
            .with_acr(acr, max_age)
    };
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
