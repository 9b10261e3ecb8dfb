//! The harness's admin endpoints, for loopback peers only (like `POST /admin/reset`):
//! `POST`, `GET` and `DELETE /admin/faults`, `DELETE /admin/faults/{rule_id}` and
//! `GET /admin/requests` (`crate::harness`).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use catalog::Code;
use http::{Extensions, StatusCode, Uri};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::extract::{JsonBody, PathParams, peer_addr, query_param};
use crate::harness::faults::MAX_RULES;
use crate::harness::journal::Filter;
use crate::state::AppState;

/// The path parameter of `DELETE /admin/faults/{rule_id}`.
const RULE_PARAM: &str = "rule_id";

/// Forbidden unless the TCP peer is on this machine (a forwarded address never counts).
fn loopback_only(extensions: &Extensions) -> Result<(), ApiError> {
    let loopback = peer_addr(extensions).is_some_and(|a| a.ip().to_canonical().is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Forbidden,
            "The mock's admin endpoints only answer the machine the mock runs on.",
        ))
    }
}

/// `POST /admin/faults`: adds a rule; 201 with the rule, or ValidationError naming each
/// offending member.
pub(crate) async fn add_fault(
    State(state): State<AppState>,
    extensions: Extensions,
    body: JsonBody,
) -> Result<Response, ApiError> {
    loopback_only(&extensions)?;
    let spec = body.value()?;
    let rule = state
        .harness()
        .add_rule(&spec)
        .map_err(ApiError::validation)?;
    tracing::info!(rule = %rule.id, "fault rule added");
    Ok((StatusCode::CREATED, Json(rule.view())).into_response())
}

/// `GET /admin/faults`: every rule, in the order they are tried, with its counters.
pub(crate) async fn list_faults(
    State(state): State<AppState>,
    extensions: Extensions,
) -> Result<Json<Value>, ApiError> {
    loopback_only(&extensions)?;
    let rules: Vec<Value> = state
        .harness()
        .faults()
        .list()
        .iter()
        .map(|r| r.view())
        .collect();
    Ok(Json(json!({ "rules": rules, "max_rules": MAX_RULES })))
}

/// `DELETE /admin/faults`: removes every rule.
pub(crate) async fn clear_faults(
    State(state): State<AppState>,
    extensions: Extensions,
) -> Result<StatusCode, ApiError> {
    loopback_only(&extensions)?;
    state.harness().clear_rules();
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /admin/faults/{rule_id}`: removes one rule; NotFound when there is none.
pub(crate) async fn remove_fault(
    State(state): State<AppState>,
    params: PathParams,
    extensions: Extensions,
) -> Result<StatusCode, ApiError> {
    loopback_only(&extensions)?;
    if state.harness().remove_rule(params.get(RULE_PARAM)) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

/// `GET /admin/requests`: the journal, oldest first, filtered by `route` (a template or a
/// path), `method`, `since` and `until` (milliseconds since the Unix epoch).
pub(crate) async fn list_requests(
    State(state): State<AppState>,
    uri: Uri,
    extensions: Extensions,
) -> Result<Json<Value>, ApiError> {
    loopback_only(&extensions)?;
    let text = |name: &str| {
        query_param(&uri, name).map(|raw| {
            percent_encoding::percent_decode_str(&raw.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    };
    let millis = |name: &str| -> Result<Option<u64>, ApiError> {
        match query_param(&uri, name) {
            None => Ok(None),
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|_| raw.bytes().all(|b| b.is_ascii_digit()))
                .map(Some)
                .ok_or_else(|| {
                    ApiError::invalid_parameter(
                        name,
                        "must be milliseconds since the Unix epoch (a whole number)",
                    )
                }),
        }
    };
    let filter = Filter {
        route: text("route"),
        method: text("method"),
        since: millis("since")?,
        until: millis("until")?,
    };
    let journal = state.harness().journal();
    Ok(Json(json!({
        "capacity": journal.capacity(),
        "requests": journal.entries(&filter),
    })))
}
