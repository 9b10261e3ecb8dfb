//! Tiny axum servers for the runner's tests: correct answers to the mini
//! suite (`tests/fixtures/mini-suite`), each fault breaking exactly one.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

/// One deliberate defect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Everything right.
    None,
    /// NotFound answered with 400.
    WrongStatus,
    /// STEP_UP_REQUIRED renamed MFA_REQUIRED (documented, same status).
    RenamedCode,
    /// RateLimited without `Retry-After`.
    DroppedRetryAfter,
    /// ValidationError without its `errors` list.
    InvalidBody,
    /// Unauthorized with a code the catalog does not have.
    UndocumentedCode,
    /// STEP_UP_REQUIRED names another ceremony in `purpose`.
    ChangedBodyText,
    /// INVALID_FILTER as `application/json`.
    WrongMediaType,
    /// INVALID_FILTER (a SCIM error, where the header is the request id's
    /// only place) without `x-request-id`.
    NoRequestId,
    /// Unauthorized with a body `request_id` other than `x-request-id`.
    OtherRequestId,
}

/// The request id every answer carries, in `x-request-id` and a problem body.
pub const REQUEST_ID: &str = "req_test";

const DOCS: &str = "https://docs.platform.example/docs/errors";

/// A problem body with every common member right.
pub fn problem(code: &str, anchor: &str, title: &str, status: u16) -> Value {
    json!({
        "type": format!("{DOCS}#{anchor}"),
        "title": title,
        "status": status,
        "detail": format!("{title}."),
        "code": code,
        "request_id": REQUEST_ID,
    })
}

fn respond(
    status: u16,
    media: &'static str,
    body: &Value,
    headers: &[(&'static str, String)],
) -> Response {
    let mut response = (
        StatusCode::from_u16(status).expect("a valid status"),
        [("content-type", media)],
        body.to_string(),
    )
        .into_response();
    response
        .headers_mut()
        .insert("x-request-id", HeaderValue::from_static(REQUEST_ID));
    for (name, value) in headers {
        response
            .headers_mut()
            .append(*name, HeaderValue::from_str(value).expect("a valid header"));
    }
    response
}

const PROBLEM: &str = "application/problem+json";

/// A JSON answer: `application/problem+json` when the body has a `code`.
pub fn respond_json(status: u16, body: &Value, headers: &[(&'static str, String)]) -> Response {
    let media = if body.get("code").is_some() {
        PROBLEM
    } else {
        "application/json"
    };
    respond(status, media, body, headers)
}

/// The mini suite's server with `fault`.
pub fn app(fault: Fault) -> Router {
    Router::new()
        .route(
            "/v1/users/missing",
            get(move || async move {
                let status = if fault == Fault::WrongStatus {
                    400
                } else {
                    404
                };
                let mut body = problem("NotFound", "not-found", "Not found", 404);
                body["status"] = json!(status);
                respond(status, PROBLEM, &body, &[])
            }),
        )
        .route(
            "/v1/limited",
            get(move || async move {
                let mut body = problem("RateLimited", "rate-limited", "Rate limited", 429);
                body["retry_after"] = json!(30);
                let headers = if fault == Fault::DroppedRetryAfter {
                    vec![]
                } else {
                    vec![("retry-after", "30".to_owned())]
                };
                respond(429, PROBLEM, &body, &headers)
            }),
        )
        .route(
            "/v1/users/{id}",
            delete(move || async move {
                let code = if fault == Fault::RenamedCode {
                    "MFA_REQUIRED"
                } else {
                    "STEP_UP_REQUIRED"
                };
                let mut body = problem(code, "step-up-required", "Step-up required", 401);
                body["purpose"] = json!(if fault == Fault::ChangedBodyText {
                    "remove_user"
                } else {
                    "delete_user"
                });
                let challenge =
                    r#"Bearer realm="test", error="insufficient_user_authentication""#.to_owned();
                respond(401, PROBLEM, &body, &[("www-authenticate", challenge)])
            }),
        )
        .route(
            "/v1/private",
            get(move || async move {
                let code = if fault == Fault::UndocumentedCode {
                    "TOKEN_MISSING"
                } else {
                    "Unauthorized"
                };
                let mut body = problem(code, "unauthorized", "Unauthorized", 401);
                if fault == Fault::OtherRequestId {
                    body["request_id"] = json!("req_other");
                }
                respond(
                    401,
                    PROBLEM,
                    &body,
                    &[("www-authenticate", r#"Bearer realm="test""#.to_owned())],
                )
            }),
        )
        .route(
            "/v1/users",
            post(move || async move {
                let mut body = problem(
                    "ValidationError",
                    "validation-error",
                    "Validation failed",
                    400,
                );
                if fault != Fault::InvalidBody {
                    body["errors"] = json!([{ "pointer": "/email", "detail": "is required" }]);
                }
                respond(400, PROBLEM, &body, &[])
            }),
        )
        .route(
            "/scim/v2/Users",
            get(move || async move {
                let body = json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                    "status": "400",
                    "scimType": "invalidFilter",
                    "detail": "at position 9: expected a comparison operator",
                });
                let media = if fault == Fault::WrongMediaType {
                    "application/json"
                } else {
                    "application/scim+json"
                };
                // The code's only place in a SCIM error is this header.
                let mut response = respond(
                    400,
                    media,
                    &body,
                    &[("x-error-code", "INVALID_FILTER".to_owned())],
                );
                if fault == Fault::NoRequestId {
                    response.headers_mut().remove("x-request-id");
                }
                response
            }),
        )
}

/// Serves `router` on 127.0.0.1:0 until the test's runtime ends.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// What the resources server saw.
#[derive(Clone, Default)]
pub struct Seen(pub Arc<Mutex<Vec<String>>>);

impl Seen {
    /// Records a request line.
    pub fn push(&self, line: String) {
        self.0.lock().expect("not poisoned").push(line);
    }

    /// Everything recorded so far.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().expect("not poisoned").clone()
    }
}

/// How the resources server answers the asserted `GET /v1/things/{id}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asserted {
    /// Never answers (for timeouts and interruptions).
    Hang,
    /// 429 with `Retry-After: 1`.
    RateLimited,
}

/// A server whose setup creates a thing (`POST /v1/things`, the first call
/// answered 429 with `Retry-After: 1`), and whose cleanup deletes it; every
/// request is recorded in `seen`.
pub fn resources(seen: Seen, asserted: Asserted) -> Router {
    let attempts = Arc::new(Mutex::new(0u32));
    Router::new()
        .route(
            "/v1/things",
            post(move |State(seen): State<Seen>| {
                let attempts = attempts.clone();
                async move {
                    seen.push("POST /v1/things".into());
                    let first = {
                        let mut n = attempts.lock().expect("not poisoned");
                        *n += 1;
                        *n == 1
                    };
                    if first {
                        let body = json!({ "code": "RateLimited" });
                        return respond(429, PROBLEM, &body, &[("retry-after", "1".to_owned())]);
                    }
                    respond(
                        201,
                        "application/json",
                        &json!({ "id": "thing_1", "secret_token": "st_planted_capture" }),
                        &[],
                    )
                }
            }),
        )
        .route(
            "/v1/things/{id}",
            get(move |State(seen): State<Seen>| async move {
                seen.push("GET /v1/things/thing_1".into());
                match asserted {
                    Asserted::Hang => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        respond(200, "application/json", &json!({}), &[])
                    }
                    Asserted::RateLimited => {
                        let mut body = problem("RateLimited", "rate-limited", "Rate limited", 429);
                        body["retry_after"] = json!(1);
                        respond(429, PROBLEM, &body, &[("retry-after", "1".to_owned())])
                    }
                }
            })
            .delete(|State(seen): State<Seen>, headers: HeaderMap| async move {
                let token = headers
                    .get("x-cleanup-token")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none")
                    .to_owned();
                seen.push(format!("DELETE /v1/things/thing_1 with {token}"));
                StatusCode::NO_CONTENT
            }),
        )
        .with_state(seen)
}
