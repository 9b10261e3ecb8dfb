//! Sign-in: `POST /v1/workspaces/{workspace}/sessions` issues a bearer session token.
//!
//! The workspace guard has already answered IP_BLOCKED, RateLimited and WORKSPACE_INACTIVE.
//! The sign-in codes come next in precedence order, each decided as soon as the body lets it
//! be decided (an email is enough to know NOT_PROVISIONED), and schema validation only after
//! them, as `catalog::PRECEDENCE` puts ValidationError after every authentication code.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use catalog::Code;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::WORKSPACE_PARAM;
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParams};
use crate::model::SignInMethod;
use crate::state::AppState;
use crate::store::{SESSION_TTL, Token, TokenKind, random_token};

/// The members of the request body (`SignInRequest`) the handler reads once the schema has
/// checked it; the password is compared on the raw body.
#[derive(Debug, Deserialize)]
pub(crate) struct SignIn {
    /// Password or SSO.
    pub method: SignInMethod,
    pub email: String,
}

/// The response body (`Session`).
#[derive(Debug, Serialize)]
pub(crate) struct Session {
    pub token: String,
    pub user_id: String,
    pub workspace: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// `POST /v1/workspaces/{workspace}/sessions`.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    params: PathParams,
    body: JsonBody,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let workspace = params.get(WORKSPACE_PARAM);
    // The body is needed to decide anything past the workspace; if it is not JSON at all, the
    // ValidationError is the only error that can be known.
    let value = {
        if !state.read().workspaces.contains_key(workspace) {
            return Err(ApiError::not_found());
        }
        body.value()?
    };
    check_credentials(&state, workspace, &value)?;
    let request: SignIn = body.parse(state.schemas(), "SignInRequest")?;
    // Validation passed, so the email is a string and `check_credentials` has vouched for it.
    let (user_id, method_allowed) = {
        let store = state.read();
        let user_id = store
            .user_by_email(workspace, &request.email)
            .map(|u| u.id.clone())
            .ok_or_else(not_provisioned)?;
        let allowed = store
            .workspaces
            .get(workspace)
            .is_some_and(|w| w.sign_in.contains(&request.method));
        (user_id, allowed)
    };
    if !method_allowed {
        // Only reachable for a password-less (SSO-only) workspace; the seed has none, but a
        // custom seed may.
        return Err(ApiError::new(
            Code::Unauthorized,
            "The workspace does not accept this sign-in method.",
        ));
    }

    let token = random_token("ses_");
    state.write().insert_session(
        token.clone(),
        Token {
            user: user_id.as_str().into(),
            workspace: workspace.into(),
            kind: TokenKind::Session,
            expires_at: Some(Instant::now() + SESSION_TTL),
            expired: false,
        },
    );
    Ok((
        StatusCode::CREATED,
        Json(Session {
            token,
            user_id,
            workspace: workspace.to_owned(),
            expires_in: SESSION_TTL.as_secs(),
        }),
    ))
}

fn not_provisioned() -> ApiError {
    ApiError::new(
        Code::NotProvisioned,
        "The email is not provisioned as a user of this workspace.",
    )
}

/// NOT_PROVISIONED, ACCOUNT_DISABLED, SSO_NOT_ALLOWED and a wrong password, in that order, as
/// far as the (not yet validated) body allows.
fn check_credentials(state: &AppState, workspace: &str, body: &Value) -> Result<(), ApiError> {
    let Some(email) = body.get("email").and_then(Value::as_str) else {
        // Nothing to check yet; validation will report the missing email.
        return Ok(());
    };
    let method = body.get("method").and_then(Value::as_str);
    let store = state.read();
    let Some(user) = store.user_by_email(workspace, email) else {
        return Err(not_provisioned());
    };
    if user.disabled {
        return Err(ApiError::new(
            Code::AccountDisabled,
            "The identity provider has the account marked as disabled.",
        ));
    }
    let sso_allowed = store
        .workspaces
        .get(workspace)
        .is_some_and(|w| w.sign_in.contains(&SignInMethod::Sso));
    if method == Some("sso") && !sso_allowed {
        return Err(ApiError::new(
            Code::SsoNotAllowed,
            "The workspace is configured for password-only sign-in; SSO is blocked.",
        ));
    }
    if method == Some("password")
        && let Some(password) = body.get("password").and_then(Value::as_str)
        && user.password.as_deref() != Some(password)
    {
        // Sign-in carries no bearer credentials, so the challenge has no `error` (RFC 6750).
        return Err(ApiError::new(
            Code::Unauthorized,
            "The email and password do not match.",
        ));
    }
    Ok(())
}
