//! The webhook API: `/v1/workspaces/{workspace}/webhooks...` (register, list, disable,
//! enable, rotate the secret, test send, delete).
//!
//! Every handler runs its checks in `catalog::PRECEDENCE` order after the workspace guard and
//! the `Caller` extractor: Forbidden (admin only, except listing), NotFound (an endpoint of
//! another workspace is hidden like a missing one), ValidationError, then the step-up for a
//! rotation, then CIRCUIT_OPEN and SIGNATURE_FAILED for a test send. A test send awaits its own
//! delivery, bounded by the delivery timeout, holding no lock meanwhile.

use std::time::{Duration, Instant, SystemTime};

use axum::Json;
use axum::extract::State;
use catalog::Code;
use http::StatusCode;
use response_schema::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::delivery::{self, Message, Outcome};
use super::signing::Secret;
use super::store::{CircuitState, Endpoint, Refusal, TEST_EVENT};
use crate::api::step_up::{StepUpHeader, require_step_up};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParams};
use crate::guard::ClientIp;
use crate::model::{Purpose, Role};
use crate::scim::store::rfc3339;
use crate::state::AppState;

/// The path parameter naming an endpoint.
pub(crate) const WEBHOOK_PARAM: &str = "webhook_id";

/// The shortest and longest signing key a caller may supply, in bytes (the Standard Webhooks
/// specification recommends 24 to 64).
const SECRET_KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// `POST webhooks` body (`CreateWebhookRequest`).
#[derive(Debug, Deserialize)]
pub(crate) struct CreateWebhook {
    /// Where to deliver.
    pub url: String,
    /// Event types to subscribe to.
    pub events: Vec<String>,
    /// A `whsec_` secret of the caller's; one is generated when absent.
    #[serde(default)]
    pub secret: Option<String>,
}

/// An endpoint as the API shows it (`Webhook`); the secret only on creation and rotation.
#[derive(Debug, Serialize)]
pub(crate) struct WebhookView {
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// Subscribed event types.
    pub events: Vec<String>,
    /// Whether deliveries are on.
    pub enabled: bool,
    pub circuit: CircuitView,
    /// When it was registered (RFC 3339).
    pub created_at: String,
    /// The signing secret (creation and rotation only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Rotation only: seconds the previous secret keeps signing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_in: Option<u64>,
}

/// The circuit breaker as the API shows it.
#[derive(Debug, Serialize)]
pub(crate) struct CircuitView {
    /// Closed, open or half-open.
    pub state: CircuitState,
    /// Failed deliveries since the last success or reset.
    pub consecutive_failures: u32,
    /// Open only: seconds until a trial delivery is allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// `GET webhooks` response (`WebhookList`).
#[derive(Debug, Serialize)]
pub(crate) struct WebhookList {
    /// Endpoints ordered by id, without secrets.
    pub webhooks: Vec<WebhookView>,
}

/// Test-send response (`WebhookTestResult`).
#[derive(Debug, Serialize)]
pub(crate) struct TestResult {
    /// Whether the receiver answered 2xx.
    pub delivered: bool,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// The message's `webhook-id`.
    pub webhook_id: String,
    /// Failures only: what went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The endpoint's circuit after this delivery.
    pub circuit: CircuitView,
}

impl WebhookView {
    fn of(endpoint: &Endpoint, now: Instant) -> WebhookView {
        WebhookView {
            id: endpoint.id.clone(),
            url: endpoint.url.clone(),
            events: endpoint.events.clone(),
            enabled: endpoint.enabled,
            circuit: CircuitView::of(endpoint, now),
            created_at: rfc3339(endpoint.created),
            secret: None,
            previous_secret_expires_in: None,
        }
    }
}

impl CircuitView {
    fn of(endpoint: &Endpoint, now: Instant) -> CircuitView {
        let state = endpoint.circuit(now);
        // Read from the circuit itself, not from `admit`, which answers "disabled" first.
        let retry_after = endpoint.open_for(now);
        CircuitView {
            state,
            consecutive_failures: endpoint.consecutive_failures,
            retry_after,
        }
    }
}

/// `POST /v1/workspaces/{workspace}/webhooks` (admin): registers an endpoint.
///
/// A caller that is not on loopback may not register a URL on loopback or on the mock's own
/// address: deliveries leave the mock from loopback, where `/admin/reset` trusts them.
pub(crate) async fn create(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    caller: Caller,
    body: JsonBody,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    caller.require(Role::Admin)?;
    let request: CreateWebhook = body.parse(state.schemas(), "CreateWebhookRequest")?;
    let url = check_url(&request.url)?;
    let loopback_caller = client_ip.to_canonical().is_loopback();
    if !loopback_caller && targets_this_host(&url, state.public_url()) {
        return Err(ApiError::invalid_body(
            "/url",
            "must not point at loopback or at this mock (only loopback callers may register such URLs)",
        ));
    }
    let secret = match &request.secret {
        None => Secret::generate(),
        Some(text) => parse_secret(text)?,
    };
    let mut events: Vec<String> = Vec::new();
    for event in request.events {
        if !events.contains(&event) {
            events.push(event);
        }
    }
    let endpoint = Endpoint {
        id: state.next_id("whk_"),
        workspace: caller.workspace.to_string(),
        url,
        events,
        enabled: true,
        secret: secret.clone(),
        previous: None,
        consecutive_failures: 0,
        open_until: None,
        generation: 0,
        created: SystemTime::now(),
    };
    let mut view = WebhookView::of(&endpoint, Instant::now());
    view.secret = Some(secret.to_string());
    state.webhooks().insert(endpoint);
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /v1/workspaces/{workspace}/webhooks`: every endpoint, without secrets.
pub(crate) async fn list(State(state): State<AppState>, caller: Caller) -> Json<WebhookList> {
    let now = Instant::now();
    Json(WebhookList {
        webhooks: state
            .webhooks()
            .list(&caller.workspace)
            .iter()
            .map(|e| WebhookView::of(e, now))
            .collect(),
    })
}

/// `POST .../webhooks/{webhook_id}/disable` (admin).
pub(crate) async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<Json<WebhookView>, ApiError> {
    change_endpoint(&state, &caller, &params, |e| e.enabled = false)
}

/// `POST .../webhooks/{webhook_id}/enable` (admin): enables it and closes its circuit.
pub(crate) async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<Json<WebhookView>, ApiError> {
    change_endpoint(&state, &caller, &params, Endpoint::enable)
}

/// Applies `change` to the endpoint the path names (admin only) and answers it as changed.
fn change_endpoint(
    state: &AppState,
    caller: &Caller,
    params: &PathParams,
    change: impl FnOnce(&mut Endpoint),
) -> Result<Json<WebhookView>, ApiError> {
    caller.require(Role::Admin)?;
    let endpoint = state
        .webhooks()
        .update(&caller.workspace, params.get(WEBHOOK_PARAM), change)
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(WebhookView::of(&endpoint, Instant::now())))
}

/// `POST .../webhooks/{webhook_id}/rotate-secret` (admin, step-up `rotate_webhook_secret`):
/// a new secret; the old one keeps signing, next to the new one, for the grace period.
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    step_up: StepUpHeader,
) -> Result<Json<WebhookView>, ApiError> {
    caller.require(Role::Admin)?;
    let id = params.get(WEBHOOK_PARAM);
    if state.webhooks().get(&caller.workspace, id).is_none() {
        return Err(ApiError::not_found());
    }
    require_step_up(&state, &caller, &step_up, Purpose::RotateWebhookSecret)?;
    let grace = Duration::from_secs(state.webhooks().settings().rotation_grace_secs);
    let secret = Secret::generate();
    let now = Instant::now();
    let endpoint = state
        .webhooks()
        .update(&caller.workspace, id, |e| {
            let old = std::mem::replace(&mut e.secret, secret.clone());
            e.previous = Some((old, now + grace));
        })
        // Removed between the look-up and now; the step-up token is spent, as for any
        // request that reached its action.
        .ok_or_else(ApiError::not_found)?;
    let mut view = WebhookView::of(&endpoint, now);
    view.secret = Some(secret.to_string());
    view.previous_secret_expires_in = Some(grace.as_secs());
    Ok(Json(view))
}

/// `DELETE .../webhooks/{webhook_id}` (admin).
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<StatusCode, ApiError> {
    caller.require(Role::Admin)?;
    if state
        .webhooks()
        .remove(&caller.workspace, params.get(WEBHOOK_PARAM))
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

/// `POST .../webhooks/{webhook_id}/test` (admin): a signed `webhook.test` delivery, awaited.
///
/// 2xx from the receiver: `200 {"delivered": true}`. 401 or 403: SIGNATURE_FAILED. Anything
/// else (another status, a timeout, no connection): `200 {"delivered": false, "error"}`, and
/// the failure counts toward the circuit. A disabled endpoint is a ValidationError; an open
/// circuit is CIRCUIT_OPEN and nothing is sent.
pub(crate) async fn test(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<Json<TestResult>, ApiError> {
    caller.require(Role::Admin)?;
    let id = params.get(WEBHOOK_PARAM);
    let admitted = match state
        .webhooks()
        .admit(&caller.workspace, id, Instant::now())
    {
        None => return Err(ApiError::not_found()),
        Some(Err(Refusal::Disabled)) => {
            return Err(ApiError::new(
                Code::ValidationError,
                "The endpoint is disabled; enable it (POST .../enable) before a test send.",
            )
            .with_errors(vec![FieldError::pointer(
                "",
                "the endpoint is disabled, so nothing can be sent to it",
            )]));
        }
        Some(Err(Refusal::CircuitOpen { retry_after })) => {
            return Err(ApiError::new(
                Code::CircuitOpen,
                format!(
                    "The endpoint's circuit is open after {} consecutive failed deliveries; a trial delivery is allowed in {retry_after} s, or enable the endpoint to reset it now.",
                    state.webhooks().settings().circuit_threshold
                ),
            )
            .with_retry_after(retry_after));
        }
        Some(Ok(admitted)) => admitted,
    };
    let message = Message::new(
        TEST_EVENT,
        json!({ "webhook_id": admitted.id, "workspace": &*caller.workspace }),
    );
    let outcome = delivery::deliver(state.webhooks(), &admitted, &message).await;
    let now = Instant::now();
    let circuit = state
        .webhooks()
        .get(&caller.workspace, &admitted.id)
        .map(|e| CircuitView::of(&e, now))
        .unwrap_or(CircuitView {
            state: CircuitState::Closed,
            consecutive_failures: 0,
            retry_after: None,
        });
    match outcome {
        Outcome::Delivered { status } => Ok(Json(TestResult {
            delivered: true,
            status: Some(status),
            webhook_id: message.id,
            error: None,
            circuit,
        })),
        Outcome::SignatureRejected { status } => Err(ApiError::new(
            Code::SignatureFailed,
            format!(
                "The receiver answered {status} to test delivery {}: it could not verify the signature. Check that it verifies with the endpoint's current secret and the Standard Webhooks scheme.",
                message.id
            ),
        )),
        Outcome::Failed { status, reason } => Ok(Json(TestResult {
            delivered: false,
            status,
            webhook_id: message.id,
            error: Some(reason),
            circuit,
        })),
    }
}

/// Whether deliveries to `url` would reach this machine's loopback interface or the mock
/// itself (`public_url`). Host names are not resolved: `localhost` and `*.localhost` count,
/// other names are taken to be elsewhere.
fn targets_this_host(url: &str, public_url: &str) -> bool {
    use reqwest::Url;
    let Ok(url) = Url::parse(url) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let local = match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => {
            let ip = ip.to_canonical();
            ip.is_loopback() || ip.is_unspecified()
        }
        Err(_) => {
            let name = bare.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    };
    let own = Url::parse(public_url).is_ok_and(|own| {
        own.host_str() == url.host_str()
            && own.port_or_known_default() == url.port_or_known_default()
    });
    local || own
}

/// The URL, if it is an absolute `http` or `https` URL with a host.
fn check_url(text: &str) -> Result<String, ApiError> {
    let bad = |detail: &str| ApiError::invalid_body("/url", detail.to_owned());
    let url = reqwest::Url::parse(text.trim()).map_err(|_| bad("is not an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must be an http:// or https:// URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in a URL end up in logs and listings; receivers verify signatures.
        return Err(bad("must not carry credentials"));
    }
    Ok(url.to_string())
}

/// A caller-supplied secret: `whsec_` and 24 to 64 key bytes in base64.
fn parse_secret(text: &str) -> Result<Secret, ApiError> {
    let secret =
        Secret::parse(text).map_err(|e| ApiError::invalid_body("/secret", e.to_string()))?;
    if !SECRET_KEY_BYTES.contains(&secret.as_bytes().len()) {
        return Err(ApiError::invalid_body(
            "/secret",
            format!(
                "the key must be {} to {} bytes long",
                SECRET_KEY_BYTES.start(),
                SECRET_KEY_BYTES.end()
            ),
        ));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_own_urls_are_recognised() {
        let own = "https://mock.example:8443";
        for url in [
            "http://127.0.0.1:8080/admin/reset",
            "http://127.1.2.3/",
            "http://[::1]:9/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://0.0.0.0:8080/",
            "http://localhost/x",
            "http://LOCALHOST./x",
            "http://api.localhost:1/",
            "https://mock.example:8443/admin/reset",
        ] {
            assert!(targets_this_host(url, own), "{url}");
        }
        for url in [
            "https://hooks.example/x",
            "http://198.51.100.7/",
            "https://mock.example/other-port",
            "http://localhost.example/",
        ] {
            assert!(!targets_this_host(url, own), "{url}");
        }
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert_eq!(
            check_url("http://127.0.0.1:8080/hook").unwrap(),
            "http://127.0.0.1:8080/hook"
        );
        assert!(check_url("https://hooks.example/x?y=1").is_ok());
        for bad in [
            "ftp://x/y",
            "/relative",
            "http://",
            "http://u:p@host/",
            "nonsense",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn supplied_secrets_are_checked() {
        assert!(parse_secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").is_ok());
        assert!(parse_secret("whsec_c2hvcnQ=").is_err());
        assert!(parse_secret("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").is_err());
    }
}
