//! The workspace network policy: `GET` and `PUT /v1/workspaces/{workspace}/network-policy`.
//!
//! Changing it is a sensitive action (step-up `change_network_policy`); every entry is checked
//! before the step-up token is spent, so a typo does not cost the caller a ceremony.

use axum::Json;
use axum::extract::State;
use response_schema::FieldError;
use serde::{Deserialize, Serialize};

use crate::api::step_up::{StepUpHeader, require_step_up};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::{Purpose, Role};
use crate::network::{Allowlist, NetworkError};
use crate::state::AppState;

/// Request and response body (`NetworkPolicy`).
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct NetworkPolicy {
    /// CIDR ranges or single addresses, IPv4 or IPv6; empty means no restriction.
    pub allowlist: Vec<String>,
}

/// `GET /v1/workspaces/{workspace}/network-policy`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<NetworkPolicy>, ApiError> {
    let store = state.read();
    let workspace = store
        .workspaces
        .get(&*caller.workspace)
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(NetworkPolicy {
        allowlist: workspace.allowlist_text.clone(),
    }))
}

/// `PUT /v1/workspaces/{workspace}/network-policy` (admin, step-up `change_network_policy`).
pub(crate) async fn put(
    State(state): State<AppState>,
    caller: Caller,
    step_up: StepUpHeader,
    body: JsonBody,
) -> Result<Json<NetworkPolicy>, ApiError> {
    caller.require(Role::Admin)?;
    let policy: NetworkPolicy = body.parse(state.schemas(), "NetworkPolicy")?;
    let errors: Vec<FieldError> = policy
        .allowlist
        .iter()
        .enumerate()
        .filter_map(|(i, entry)| {
            Allowlist::parse([entry]).err().map(|e| {
                let detail = match e {
                    NetworkError::InvalidRange(_) => "is not an IP address or CIDR range".to_owned(),
                    NetworkError::HostBitsSet {
                        network,
                        address,
                        prefix,
                        ..
                    } => format!(
                        "has host bits set below its /{prefix} prefix: write {network} for the range, or {address} for the single address"
                    ),
                };
                FieldError::pointer(format!("/allowlist/{i}"), detail)
            })
        })
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let allowlist = Allowlist::parse(&policy.allowlist)
        .map_err(|e| ApiError::invalid_body("/allowlist", e.to_string()))?;
    require_step_up(&state, &caller, &step_up, Purpose::ChangeNetworkPolicy)?;
    let mut store = state.write();
    let workspace = store
        .workspaces
        .get_mut(&*caller.workspace)
        .ok_or_else(ApiError::not_found)?;
    workspace.allowlist = allowlist;
    workspace.allowlist_text = policy
        .allowlist
        .iter()
        .map(|e| e.trim().to_owned())
        .collect();
    Ok(Json(NetworkPolicy {
        allowlist: workspace.allowlist_text.clone(),
    }))
}
