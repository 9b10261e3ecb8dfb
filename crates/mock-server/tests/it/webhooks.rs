//! Webhooks against real receivers on loopback: registration and its errors, Standard
//! Webhooks signatures checked by an HMAC computed here (not by the mock's signing module),
//! secret rotation behind step-up, SIGNATURE_FAILED, the circuit breaker's transitions,
//! timeouts, and a slow receiver not holding up other requests.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use catalog::Code;
use hmac::{Hmac, Mac};
use http::{HeaderMap, StatusCode};
use mock_server::Config;
use mock_server::seed::Seed;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::{Client, Req, Resp, state_with};

const HOOKS: &str = "/v1/workspaces/acme/webhooks";
const ADMIN: &str = "tok_acme_admin";

// ------------------------------------------------------------------------- the receiver

/// How the test receiver answers.
#[derive(Clone, Debug)]
enum Answer {
    /// This status, at once.
    Status(u16),
    /// 204 when a `v1` signature verifies with this `whsec_` secret, 401 otherwise.
    Verify(String),
    /// 204 after sleeping this long.
    Slow(Duration),
}

/// One delivery the receiver saw.
#[derive(Clone, Debug)]
struct Seen {
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone)]
struct Receiver {
    url: String,
    answer: Arc<Mutex<Answer>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Receiver {
    async fn start(answer: Answer) -> Receiver {
        let answer = Arc::new(Mutex::new(answer));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state((answer.clone(), seen.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{addr}/hook"),
            answer,
            seen,
        }
    }

    fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

type ReceiverState = (Arc<Mutex<Answer>>, Arc<Mutex<Vec<Seen>>>);

async fn receive(
    State((answer, seen)): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    seen.lock().unwrap().push(Seen {
        headers: headers.clone(),
        body: body.clone(),
    });
    let answer = answer.lock().unwrap().clone();
    match answer {
        Answer::Status(status) => StatusCode::from_u16(status).unwrap(),
        Answer::Verify(secret) => {
            if verifies(&secret, &headers, &body) {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::UNAUTHORIZED
            }
        }
        Answer::Slow(delay) => {
            tokio::time::sleep(delay).await;
            StatusCode::NO_CONTENT
        }
    }
}

/// The Standard Webhooks signature of `id.timestamp.body`, computed from the specification
/// with `hmac` and `sha2` directly.
fn independent_signature(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn signatures(headers: &HeaderMap) -> Vec<&str> {
    header(headers, "webhook-signature").split(' ').collect()
}

fn verifies(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let expected = independent_signature(
        secret,
        header(headers, "webhook-id"),
        header(headers, "webhook-timestamp"),
        body,
    );
    signatures(headers).contains(&expected.as_str())
}

// ------------------------------------------------------------------------------ helpers

async fn register(client: &Client, url: &str, events: Value) -> Value {
    let resp = client
        .send(
            Req::post(HOOKS)
                .token(ADMIN)
                .json(json!({ "url": url, "events": events })),
        )
        .await;
    resp.assert_status(201);
    resp.json
}

async fn test_send(client: &Client, id: &str) -> Resp {
    client
        .send(Req::post(&format!("{HOOKS}/{id}/test")).token(ADMIN))
        .await
}

async fn action(client: &Client, id: &str, what: &str) -> Resp {
    let resp = client
        .send(Req::post(&format!("{HOOKS}/{id}/{what}")).token(ADMIN))
        .await;
    resp.assert_status(200);
    resp
}

fn id_of(endpoint: &Value) -> String {
    endpoint["id"].as_str().unwrap().to_owned()
}

// -------------------------------------------------------------------------------- tests

#[test]
fn the_independent_hmac_matches_the_published_vector() {
    assert_eq!(
        independent_signature(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            "1649367553",
            br#"{"email":"test@example.com","username":"test_user"}"#,
        ),
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
    );
}

#[tokio::test]
async fn endpoints_are_registered_listed_disabled_enabled_and_deleted() {
    let client = Client::new();
    let created = register(
        &client,
        "http://127.0.0.1:9/hook",
        json!(["user.created", "user.created"]),
    )
    .await;
    let id = id_of(&created);
    assert!(id.starts_with("whk_"));
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(created["events"], json!(["user.created"]));
    assert_eq!(created["enabled"], true);
    assert_eq!(
        created["circuit"],
        json!({ "state": "closed", "consecutive_failures": 0 })
    );

    // Members can list, without secrets; another workspace sees nothing.
    let list = client.send(Req::get(HOOKS).token("tok_acme_member")).await;
    list.assert_status(200);
    let listed = &list.json["webhooks"][0];
    assert_eq!(listed["id"], id.as_str());
    assert!(listed.get("secret").is_none());
    assert!(!list.bytes.windows(6).any(|w| w == b"whsec_"));
    let other = client
        .send(Req::get("/v1/workspaces/pwonly/webhooks").token("tok_pwonly_admin"))
        .await;
    assert_eq!(other.json["webhooks"], json!([]));

    let disabled = action(&client, &id, "disable").await;
    assert_eq!(disabled.json["enabled"], false);
    let resp = test_send(&client, &id).await;
    resp.assert_error(Code::ValidationError);
    assert_eq!(resp.pointers(), [""]);
    let enabled = action(&client, &id, "enable").await;
    assert_eq!(enabled.json["enabled"], true);

    // A caller-chosen secret is kept.
    let mine = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let resp = client
        .send(Req::post(HOOKS).token(ADMIN).json(
            json!({ "url": "https://hooks.example/x", "events": ["user.deleted"], "secret": mine }),
        ))
        .await;
    resp.assert_status(201);
    assert_eq!(resp.json["secret"], mine);

    let resp = client
        .send(Req::delete(&format!("{HOOKS}/{id}")).token(ADMIN))
        .await;
    resp.assert_status(204);
    let resp = client
        .send(Req::delete(&format!("{HOOKS}/{id}")).token(ADMIN))
        .await;
    resp.assert_error(Code::NotFound);
}

#[tokio::test]
async fn registration_errors() {
    let client = Client::new();
    let create = |token: &str, body: Value| Req::post(HOOKS).token(token).json(body);
    let ok = json!({ "url": "http://127.0.0.1:9/", "events": ["user.created"] });
    client
        .send(create("tok_acme_member", ok.clone()))
        .await
        .assert_error(Code::Forbidden);
    client
        .send(Req::post(HOOKS).json(ok))
        .await
        .assert_error(Code::Unauthorized);
    for (body, pointer) in [
        (
            json!({ "url": "ftp://x/", "events": ["user.created"] }),
            "/url",
        ),
        (
            json!({ "url": "not a url", "events": ["user.created"] }),
            "/url",
        ),
        (
            json!({ "url": "http://u:p@h/", "events": ["user.created"] }),
            "/url",
        ),
        (
            json!({ "url": "http://h/", "events": ["user.exploded"] }),
            "/events/0",
        ),
        (json!({ "url": "http://h/", "events": [] }), "/events"),
        (json!({ "events": ["user.created"] }), "/url"),
        (
            json!({ "url": "http://h/", "events": ["user.created"], "secret": "nope" }),
            "/secret",
        ),
        (
            json!({ "url": "http://h/", "events": ["user.created"], "secret": "whsec_c2hvcnQ=" }),
            "/secret",
        ),
        (
            json!({ "url": "http://h/", "events": ["user.created"], "colour": 1 }),
            "/colour",
        ),
    ] {
        let resp = client.send(create(ADMIN, body.clone())).await;
        resp.assert_error(Code::ValidationError);
        assert!(
            resp.pointers().contains(&pointer),
            "{body}: {:?}",
            resp.pointers()
        );
    }
    // Another workspace's endpoint is hidden like a missing one.
    let created = register(&client, "http://127.0.0.1:9/", json!(["user.created"])).await;
    for what in ["test", "enable", "disable", "rotate-secret"] {
        client
            .send(
                Req::post(&format!(
                    "/v1/workspaces/pwonly/webhooks/{}/{what}",
                    id_of(&created)
                ))
                .token("tok_pwonly_admin"),
            )
            .await
            .assert_error(Code::NotFound);
        client
            .send(Req::post(&format!("{HOOKS}/whk_nope/{what}")).token(ADMIN))
            .await
            .assert_error(Code::NotFound);
    }
}

#[tokio::test]
async fn test_sends_are_signed_as_standard_webhooks() {
    let client = Client::new();
    let receiver = Receiver::start(Answer::Status(204)).await;
    let created = register(&client, &receiver.url, json!(["user.created"])).await;
    let secret = created["secret"].as_str().unwrap();
    receiver.answer(Answer::Verify(secret.to_owned()));

    let resp = test_send(&client, &id_of(&created)).await;
    resp.assert_status(200);
    assert_eq!(resp.json["delivered"], true);
    assert_eq!(resp.json["status"], 204);

    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    let delivery = &seen[0];
    let id = header(&delivery.headers, "webhook-id");
    assert_eq!(resp.json["webhook_id"], id);
    assert!(id.starts_with("msg_"));
    let timestamp: i64 = header(&delivery.headers, "webhook-timestamp")
        .parse()
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - timestamp).abs() < 60);
    assert_eq!(
        header(&delivery.headers, "content-type"),
        "application/json"
    );
    assert_eq!(
        signatures(&delivery.headers),
        [independent_signature(
            secret,
            id,
            &timestamp.to_string(),
            &delivery.body
        )]
    );
    let payload: Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(payload["type"], "webhook.test");
    assert_eq!(payload["data"]["webhook_id"], created["id"]);
    assert!(payload["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a_receiver_that_cannot_verify_is_signature_failed() {
    let client = Client::new();
    let receiver = Receiver::start(Answer::Verify(
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".into(),
    ))
    .await;
    let created = register(&client, &receiver.url, json!(["user.created"])).await;
    let resp = test_send(&client, &id_of(&created)).await;
    resp.assert_error(Code::SignatureFailed);
    assert!(resp.detail_mentions("401"));
    receiver.answer(Answer::Status(403));
    let resp = test_send(&client, &id_of(&created)).await;
    resp.assert_error(Code::SignatureFailed);
    assert_eq!(receiver.seen().len(), 2);
}

#[tokio::test]
async fn rotation_needs_a_step_up_and_signs_with_both_secrets() {
    let client = Client::new();
    let receiver = Receiver::start(Answer::Status(204)).await;
    let created = register(&client, &receiver.url, json!(["user.created"])).await;
    let id = id_of(&created);
    let old = created["secret"].as_str().unwrap().to_owned();
    let rotate = format!("{HOOKS}/{id}/rotate-secret");

    let resp = client.send(Req::post(&rotate).token(ADMIN)).await;
    resp.assert_error(Code::StepUpRequired);
    assert_eq!(resp.json["purpose"], "rotate_webhook_secret");
    client
        .send(Req::post(&rotate).token("tok_acme_member"))
        .await
        .assert_error(Code::Forbidden);
    let wrong = client.step_up("acme", ADMIN, "delete_user", "totp").await;
    client
        .send(Req::post(&rotate).token(ADMIN).step_up(&wrong))
        .await
        .assert_error(Code::StepUpRequired);

    let step_up = client
        .step_up("acme", ADMIN, "rotate_webhook_secret", "totp")
        .await;
    let resp = client
        .send(Req::post(&rotate).token(ADMIN).step_up(&step_up))
        .await;
    resp.assert_status(200);
    let new = resp.json["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old);
    assert_eq!(resp.json["previous_secret_expires_in"], 86_400);
    client
        .send(Req::post(&rotate).token(ADMIN).step_up(&step_up))
        .await
        .assert_error(Code::StepUpReused);

    // During the grace period both secrets sign: receivers on either one verify.
    receiver.answer(Answer::Verify(old.clone()));
    test_send(&client, &id).await.assert_status(200);
    receiver.answer(Answer::Verify(new.clone()));
    test_send(&client, &id).await.assert_status(200);
    let last = receiver.seen().pop().unwrap();
    let sigs = signatures(&last.headers);
    assert_eq!(sigs.len(), 2);
    let (msg, ts) = (
        header(&last.headers, "webhook-id"),
        header(&last.headers, "webhook-timestamp"),
    );
    assert_eq!(sigs[0], independent_signature(&new, msg, ts, &last.body));
    assert_eq!(sigs[1], independent_signature(&old, msg, ts, &last.body));
}

#[tokio::test]
async fn the_circuit_opens_stays_open_and_closes_on_enable() {
    let client = Client::new();
    let receiver = Receiver::start(Answer::Status(500)).await;
    let created = register(&client, &receiver.url, json!(["user.created"])).await;
    let id = id_of(&created);

    for (n, state) in [(1, "closed"), (2, "closed"), (3, "open")] {
        let resp = test_send(&client, &id).await;
        resp.assert_status(200);
        assert_eq!(resp.json["delivered"], false);
        assert_eq!(resp.json["status"], 500);
        assert_eq!(resp.json["error"], "the receiver answered 500");
        assert_eq!(resp.json["circuit"]["consecutive_failures"], n);
        assert_eq!(resp.json["circuit"]["state"], state);
    }
    // Open: refused without a delivery, as long as the cooldown lasts.
    for _ in 0..2 {
        let resp = test_send(&client, &id).await;
        resp.assert_error(Code::CircuitOpen);
        assert_eq!(resp.header("retry-after"), Some("60"));
        assert_eq!(resp.json["retry_after"], 60);
    }
    assert_eq!(receiver.seen().len(), 3);
    let list = client.send(Req::get(HOOKS).token(ADMIN)).await;
    assert_eq!(list.json["webhooks"][0]["circuit"]["state"], "open");
    assert_eq!(list.json["webhooks"][0]["circuit"]["retry_after"], 60);

    // Disabling and enabling resets it; the receiver is fixed meanwhile.
    action(&client, &id, "disable").await;
    let enabled = action(&client, &id, "enable").await;
    assert_eq!(
        enabled.json["circuit"],
        json!({ "state": "closed", "consecutive_failures": 0 })
    );
    receiver.answer(Answer::Status(200));
    let resp = test_send(&client, &id).await;
    assert_eq!(resp.json["delivered"], true);
    assert_eq!(receiver.seen().len(), 4);
}

#[tokio::test]
async fn after_the_cooldown_one_trial_goes_out() {
    let client = Client::over(state_with(|seed| {
        seed.webhooks = toml::from_str("circuit_threshold = 1\ncircuit_cooldown_secs = 1").unwrap();
    }));
    let receiver = Receiver::start(Answer::Status(502)).await;
    let id = id_of(&register(&client, &receiver.url, json!(["user.created"])).await);
    assert_eq!(
        test_send(&client, &id).await.json["circuit"]["state"],
        "open"
    );
    let resp = test_send(&client, &id).await;
    resp.assert_error(Code::CircuitOpen);
    assert_eq!(resp.header("retry-after"), Some("1"));

    // Half-open: a failed trial opens it again at once.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let trial = test_send(&client, &id).await;
    assert_eq!(trial.json["delivered"], false);
    assert_eq!(trial.json["circuit"]["state"], "open");
    test_send(&client, &id)
        .await
        .assert_error(Code::CircuitOpen);

    // A successful trial closes it.
    receiver.answer(Answer::Status(204));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let trial = test_send(&client, &id).await;
    assert_eq!(trial.json["delivered"], true);
    assert_eq!(
        trial.json["circuit"],
        json!({ "state": "closed", "consecutive_failures": 0 })
    );
    assert_eq!(receiver.seen().len(), 3);
}

#[tokio::test]
async fn timeouts_and_unreachable_receivers_are_failed_deliveries() {
    let client = Client::over(state_with(|seed| {
        seed.webhooks = toml::from_str("delivery_timeout_ms = 300").unwrap();
    }));
    let slow = Receiver::start(Answer::Slow(Duration::from_secs(5))).await;
    let id = id_of(&register(&client, &slow.url, json!(["user.created"])).await);
    let started = Instant::now();
    let resp = test_send(&client, &id).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(resp.json["delivered"], false);
    assert_eq!(resp.json["status"], Value::Null);
    assert_eq!(
        resp.json["error"],
        "the receiver did not answer within the delivery timeout"
    );

    // A port nobody listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let id = id_of(
        &register(
            &client,
            &format!("http://{closed}/hook"),
            json!(["user.created"]),
        )
        .await,
    );
    let resp = test_send(&client, &id).await;
    assert_eq!(resp.json["delivered"], false);
    assert_eq!(resp.json["error"], "the receiver could not be reached");
    assert_eq!(resp.json["circuit"]["consecutive_failures"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_does_not_hold_up_other_requests() {
    let mut seed = Seed::embedded().unwrap();
    seed.webhooks = toml::from_str("delivery_timeout_ms = 1500").unwrap();
    let running = crate::support::loopback(Config::new(seed)).await;
    let base = running.base_url();
    let http = reqwest::Client::new();
    let slow = Receiver::start(Answer::Slow(Duration::from_secs(10))).await;
    let fast = Receiver::start(Answer::Status(204)).await;
    let mut ids = Vec::new();
    for url in [&slow.url, &fast.url] {
        let created: Value = http
            .post(format!("{base}{HOOKS}"))
            .bearer_auth(ADMIN)
            .json(&json!({ "url": url, "events": ["user.created"] }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(id_of(&created));
    }

    let slow_send = tokio::spawn({
        let (http, url) = (http.clone(), format!("{base}{HOOKS}/{}/test", ids[0]));
        async move {
            let resp = http.post(url).bearer_auth(ADMIN).send().await.unwrap();
            resp.json::<Value>().await.unwrap()
        }
    });
    // Wait until the slow delivery is in flight.
    while slow.seen().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let fast_send: Value = http
        .post(format!("{base}{HOOKS}/{}/test", ids[1]))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fast_send["delivered"], true);
    let list = http
        .get(format!("{base}{HOOKS}"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    assert!(
        !slow_send.is_finished(),
        "the other requests were answered while the slow delivery was still in flight"
    );

    let slow_result = slow_send.await.unwrap();
    assert_eq!(slow_result["delivered"], false);
    assert_eq!(
        slow_result["error"],
        "the receiver did not answer within the delivery timeout"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn scim_changes_are_delivered_to_subscribed_endpoints() {
    let client = Client::new();
    let subscribed = Receiver::start(Answer::Status(204)).await;
    let other = Receiver::start(Answer::Status(204)).await;
    let created = register(
        &client,
        &subscribed.url,
        json!(["user.created", "user.deleted"]),
    )
    .await;
    register(&client, &other.url, json!(["user.updated"])).await;

    let resp = client
        .send(
            Req::post("/scim/v2/Users")
                .token("scim_acme")
                .json(json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "event@acme.example" })),
        )
        .await;
    resp.assert_status(201);
    let deadline = Instant::now() + Duration::from_secs(5);
    while subscribed.seen().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seen = subscribed.seen();
    assert_eq!(seen.len(), 1);
    let payload: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(payload["type"], "user.created");
    assert_eq!(payload["data"]["id"], resp.json["id"]);
    assert_eq!(payload["data"]["userName"], "event@acme.example");
    assert!(verifies(
        created["secret"].as_str().unwrap(),
        &seen[0].headers,
        &seen[0].body
    ));
    assert!(other.seen().is_empty());
}

/// `POST /admin/reset` also restarts the id counter: the first webhook after a reset gets
/// the id the first webhook after start-up got, and the one registered before is gone.
#[tokio::test]
async fn reset_restarts_ids_and_forgets_endpoints() {
    let client = Client::new();
    let events = json!(["user.created"]);
    let first = register(&client, "http://127.0.0.1:9/a", events.clone()).await;
    let second = register(&client, "http://127.0.0.1:9/b", events.clone()).await;
    assert_ne!(first["id"], second["id"]);
    client
        .send(Req::post("/admin/reset"))
        .await
        .assert_status(204);
    let listed = client.send(Req::get(HOOKS).token(ADMIN)).await;
    listed.assert_status(200);
    assert!(
        !listed
            .json
            .to_string()
            .contains(second["id"].as_str().unwrap())
    );
    let again = register(&client, "http://127.0.0.1:9/c", events).await;
    assert_eq!(again["id"], first["id"]);
}

/// A caller off loopback cannot make the mock deliver to itself or to loopback (where
/// `/admin/reset` would trust the delivery); a loopback caller still can.
#[tokio::test]
async fn remote_callers_cannot_register_loopback_or_own_urls() {
    let client = Client::new();
    for url in [
        "http://127.0.0.1:8080/admin/reset",
        "http://localhost:9/x",
        "http://[::1]:9/x",
    ] {
        let resp = client
            .send(
                Req::post(HOOKS)
                    .token(ADMIN)
                    .peer("198.51.100.7")
                    .json(json!({ "url": url, "events": ["user.created"] })),
            )
            .await;
        resp.assert_error(Code::ValidationError);
        assert_eq!(resp.pointers(), vec!["/url"], "{url}");
    }
    let resp = client
        .send(
            Req::post(HOOKS)
                .token(ADMIN)
                .peer("198.51.100.7")
                .json(json!({ "url": "https://hooks.example/x", "events": ["user.created"] })),
        )
        .await;
    resp.assert_status(201);
    register(
        &client,
        "http://127.0.0.1:9/admin/reset",
        json!(["user.created"]),
    )
    .await;
}
