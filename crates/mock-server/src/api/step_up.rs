//! The step-up ceremony: `POST /v1/workspaces/{workspace}/step-up` issues a single-use token
//! for one purpose. The mock accepts any six-digit TOTP code and does not verify WebAuthn
//! assertions; the factor must be enrolled.

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::{FactorType, Purpose};
use crate::state::AppState;
use crate::stepup::STEP_UP_TTL;

/// The request body (`StepUpRequest`).
#[derive(Debug, Deserialize)]
pub struct StepUp {
    /// The action the token will be good for.
    pub purpose: Purpose,
    /// The factor used.
    pub factor: FactorType,
    /// TOTP: six digits (any).
    #[serde(default)]
    pub code: Option<String>,
}

/// The response body (`StepUpToken`).
#[derive(Debug, Serialize)]
pub struct StepUpToken {
    /// Send it as `X-Step-Up-Token`.
    pub step_up_token: String,
    /// The action it is good for.
    pub purpose: Purpose,
    /// The factor used.
    pub factor: FactorType,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// `POST /v1/workspaces/{workspace}/step-up`.
pub async fn create(
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
