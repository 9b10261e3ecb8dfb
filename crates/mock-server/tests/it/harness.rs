//! The tools for client teams: `Prefer: error=CODE` (every declared (operation, code) pair
//! is in `property.rs`; here what is not applied and what does not change), fault rules
//! (firing modes, latency, broken connections seen by a raw socket), the request journal,
//! and their caps.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use catalog::Code;
use mock_server::seed::Seed;
use mock_server::{AppState, Config, Running};
use serde_json::{Value, json};

use crate::support::{BASE, Client, Req, Resp};

/// A state over the embedded seed keeping the last `journal` requests.
fn state_with_journal(journal: usize) -> AppState {
    let mut config = Config::new(Seed::embedded().unwrap());
    config.public_url = Some(BASE.to_owned());
    config.journal = journal;
    AppState::new(config).unwrap()
}

/// The injected error equals the real one where the real check can be provoked: the same
/// status, challenge, `purpose` and `type`; only the detail and the request id differ.
#[tokio::test]
async fn an_injected_error_looks_like_the_real_one() {
    let client = Client::new();
    let path = "/v1/workspaces/acme/users/usr_acme_member";
    let real = client.send(Req::delete(path).token("tok_acme_admin")).await;
    let injected = client
        .send(
            Req::delete(path)
                .token("tok_acme_admin")
                .header("prefer", "error=STEP_UP_REQUIRED"),
        )
        .await;
    assert_eq!(real.status, injected.status);
    for member in ["type", "title", "status", "code", "purpose"] {
        assert_eq!(real.json[member], injected.json[member], "{member}");
    }
    let strip = |c: &str| {
        c.split(", error_description").next().unwrap().to_owned()
            + c.split("error_uri").nth(1).unwrap_or_default()
    };
    assert_eq!(strip(real.challenge()), strip(injected.challenge()));
    assert_eq!(injected.header("x-error-code"), Some("STEP_UP_REQUIRED"));
}

/// A code the operation does not declare, an unknown one or garbage is ignored (RFC 7240):
/// the request is answered as without the preference, with `x-mock-preference-ignored`
/// saying why and no `Preference-Applied`.
#[tokio::test]
async fn undeclared_and_unknown_codes_are_ignored_and_said_so() {
    let client = Client::new();
    let cases = [
        (
            Req::get("/v1/workspaces/acme/users").token("tok_acme_admin"),
            "error=CIRCUIT_OPEN",
            200,
            "error=CIRCUIT_OPEN; CIRCUIT_OPEN is not in the x-error-codes of listUsers",
        ),
        (
            Req::get("/v1/workspaces/acme/users").token("tok_acme_admin"),
            "error=Nope",
            200,
            "error=Nope; not a documented code",
        ),
        (
            Req::get("/v1/workspaces/acme/users").token("tok_acme_admin"),
            "error=\"<script>\"",
            200,
            "error=?; not a documented code",
        ),
        (
            Req::get("/healthz"),
            "error=NotFound",
            200,
            "error=NotFound; NotFound is not in the x-error-codes of getHealth",
        ),
        (
            Req::get("/v1/no/such/route"),
            "error=Forbidden",
            404,
            "error=Forbidden; no operation serves this method and path",
        ),
    ];
    for (req, prefer, status, ignored) in cases {
        let resp = client.send(req.header("prefer", prefer)).await;
        assert_eq!(resp.status, status, "{prefer}");
        assert_eq!(resp.header("x-mock-preference-ignored"), Some(ignored));
        assert_eq!(resp.header("preference-applied"), None);
    }
    // Other preferences are not the mock's business and are not mentioned.
    let resp = client
        .send(Req::get("/healthz").header("prefer", "return=minimal"))
        .await;
    assert_eq!(resp.header("x-mock-preference-ignored"), None);
}

/// An injected error changes no state: the user is not deleted, no rate-limit window is
/// charged, and the same request without the header behaves as before.
#[tokio::test]
async fn an_injected_error_changes_no_state() {
    let client = Client::over(crate::support::state_with(|seed| {
        seed.rate_limits.per_token = 3;
    }));
    let path = "/v1/workspaces/acme/users/usr_acme_member";
    for _ in 0..10 {
        let resp = client
            .send(
                Req::get(path)
                    .token("tok_acme_admin")
                    .header("prefer", "error=NotFound"),
            )
            .await;
        resp.assert_error(Code::NotFound);
    }
    // The three requests the token's window allows are all still there.
    for _ in 0..3 {
        client
            .send(Req::get(path).token("tok_acme_admin"))
            .await
            .assert_status(200);
    }
    client
        .send(Req::get(path).token("tok_acme_admin"))
        .await
        .assert_error(Code::RateLimited);

    let client = Client::new();
    let token = client
        .step_up("acme", "tok_acme_admin", "delete_user", "totp")
        .await;
    client
        .send(
            Req::delete(path)
                .token("tok_acme_admin")
                .step_up(&token)
                .header("prefer", "error=Forbidden"),
        )
        .await
        .assert_error(Code::Forbidden);
    // The step-up token was not spent, the user not deleted.
    client
        .send(Req::delete(path).token("tok_acme_admin").step_up(&token))
        .await
        .assert_status(204);
}

// ------------------------------------------------------------------ fault rules

async fn add_rule(client: &Client, rule: Value) -> Resp {
    client.send(Req::post("/admin/faults").json(rule)).await
}

#[tokio::test]
async fn an_every_3_rule_answers_on_exactly_every_third_match() {
    let client = Client::new();
    let added = add_rule(
        &client,
        json!({ "id": "third", "route": "/v1/workspaces/{workspace}/users", "method": "GET",
                "error": "RateLimited", "retry_after": 7, "every": 3 }),
    )
    .await;
    added.assert_status(201);
    assert_eq!(added.json["rule"]["every"], 3);
    let mut answered = Vec::new();
    for i in 1..=9 {
        // Requests the rule does not match do not count.
        client
            .send(Req::get("/v1/workspaces/acme/users/usr_acme_admin").token("tok_acme_admin"))
            .await
            .assert_status(200);
        let resp = client
            .send(Req::get("/v1/workspaces/acme/users").token("tok_acme_admin"))
            .await;
        if resp.status == 429 {
            resp.assert_error(Code::RateLimited);
            assert_eq!(resp.header("x-mock-fault"), Some("third"));
            assert_eq!(resp.header("retry-after"), Some("7"));
            answered.push(i);
        } else {
            resp.assert_status(200);
            assert_eq!(resp.header("x-mock-fault"), None);
        }
    }
    assert_eq!(answered, [3, 6, 9]);
    let listed = client.send(Req::get("/admin/faults")).await;
    assert_eq!(listed.json["rules"][0]["matched"], 9);
    assert_eq!(listed.json["rules"][0]["fired"], 3);
}

#[tokio::test]
async fn a_seeded_probability_rule_fires_the_same_way_in_two_runs() {
    async fn run(seed: u64) -> Vec<bool> {
        let client = Client::new();
        add_rule(
            &client,
            json!({ "path": "/healthz", "latency_ms": 1, "probability": 0.5, "seed": seed }),
        )
        .await
        .assert_status(201);
        let mut fired = Vec::new();
        for _ in 0..40 {
            let resp = client.send(Req::get("/healthz")).await;
            fired.push(resp.header("x-mock-fault").is_some());
        }
        fired
    }
    let first = run(42).await;
    assert_eq!(first, run(42).await);
    assert!(first.contains(&true) && first.contains(&false), "{first:?}");
    assert_ne!(first, run(43).await);
}

#[tokio::test]
async fn a_latency_rule_delays_by_at_least_its_value() {
    let client = Client::new();
    add_rule(&client, json!({ "path": "/healthz", "latency_ms": 150 }))
        .await
        .assert_status(201);
    let started = Instant::now();
    let resp = client.send(Req::get("/healthz")).await;
    resp.assert_status(200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(resp.header("x-mock-fault"), Some("flt_1"));
    // Latency then an error.
    add_rule(
        &client,
        json!({ "route": "/v1/workspaces/{workspace}/users", "latency_ms": 100, "error": "Unauthorized" }),
    )
    .await
    .assert_status(201);
    let started = Instant::now();
    let resp = client
        .send(Req::get("/v1/workspaces/acme/users").token("tok_acme_admin"))
        .await;
    assert!(started.elapsed() >= Duration::from_millis(100));
    resp.assert_error(Code::Unauthorized);
    assert_eq!(resp.header("x-mock-fault"), Some("flt_2"));
}

#[tokio::test]
async fn rules_are_checked_on_entry_capped_loopback_only_and_cleared_by_reset() {
    let client = Client::new();
    let bad = add_rule(
        &client,
        json!({ "error": "CIRCUIT_OPEN", "route": "/v1/workspaces/{workspace}/users", "colour": 1 }),
    )
    .await;
    bad.assert_error(Code::ValidationError);
    assert_eq!(bad.pointers(), ["/colour"]);
    let bad = add_rule(
        &client,
        json!({ "error": "CIRCUIT_OPEN", "route": "/v1/workspaces/{workspace}/users" }),
    )
    .await;
    bad.assert_error(Code::ValidationError);
    assert_eq!(bad.pointers(), ["/error"]);
    assert_eq!(
        bad.json["errors"][0]["detail"],
        "CIRCUIT_OPEN is not in the x-error-codes of listUsers or inviteUser."
    );
    client
        .send(
            Req::post("/admin/faults")
                .json(json!({ "latency_ms": 1 }))
                .peer("203.0.113.9"),
        )
        .await
        .assert_error(Code::Forbidden);
    client
        .send(Req::get("/admin/requests").peer("203.0.113.9"))
        .await
        .assert_error(Code::Forbidden);
    for _ in 0..100 {
        add_rule(&client, json!({ "path": "/nowhere", "latency_ms": 1 }))
            .await
            .assert_status(201);
    }
    let full = add_rule(&client, json!({ "path": "/nowhere", "latency_ms": 1 })).await;
    full.assert_error(Code::ValidationError);
    assert!(
        full.json["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("At most 100")
    );
    client
        .send(Req::post("/admin/reset"))
        .await
        .assert_status(204);
    let listed = client.send(Req::get("/admin/faults")).await;
    assert_eq!(listed.json["rules"], json!([]));
    client
        .send(Req::delete("/admin/faults/flt_1"))
        .await
        .assert_error(Code::NotFound);
}

/// A fault rule with a code the request's operation does not declare does not match it.
#[tokio::test]
async fn an_error_rule_only_answers_where_its_code_is_declared() {
    let client = Client::new();
    add_rule(&client, json!({ "error": "CIRCUIT_OPEN" }))
        .await
        .assert_status(201);
    let resp = client
        .send(Req::get("/v1/workspaces/acme/users").token("tok_acme_admin"))
        .await;
    resp.assert_status(200);
    let resp = client
        .send(Req::post("/v1/workspaces/acme/webhooks/whk_nope/test").token("tok_acme_admin"))
        .await;
    resp.assert_error(Code::CircuitOpen);
    assert_eq!(resp.header("retry-after"), Some("1"));
}

async fn spawn_mock() -> Running {
    crate::support::loopback(Config::embedded().unwrap()).await
}

/// Sends one raw request on a fresh socket and reads until the peer closes or fails.
fn raw_get(addr: SocketAddr, path: &str) -> (Vec<u8>, std::io::Result<()>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: mock\r\n\r\n").as_bytes())
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (got, Ok(())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return (got, Err(e)),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_rules_break_the_socket() {
    let running = spawn_mock().await;
    let base = running.base_url();
    let http = reqwest::Client::new();
    for (path, connection) in [
        ("/healthz", "reset"),
        ("/docs/errors.json", "close"),
        ("/openapi.json", "truncate"),
    ] {
        let added = http
            .post(format!("{base}/admin/faults"))
            .json(&json!({ "path": path, "connection": connection }))
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), 201);
    }
    let addr = running.addr();

    // Reset: the client reads ECONNRESET and no byte of a response.
    let (got, result) = tokio::task::spawn_blocking(move || raw_get(addr, "/healthz"))
        .await
        .unwrap();
    assert_eq!(got, b"");
    assert_eq!(
        result.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::ConnectionReset)
    );

    // Close before the head: end of file, nothing read.
    let (got, result) = tokio::task::spawn_blocking(move || raw_get(addr, "/docs/errors.json"))
        .await
        .unwrap();
    assert_eq!((got.as_slice(), result.is_ok()), (&b""[..], true));

    // Truncated: a complete head announcing N bytes, fewer than N bytes, then end of file.
    let (got, result) = tokio::task::spawn_blocking(move || raw_get(addr, "/openapi.json"))
        .await
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    let text = String::from_utf8_lossy(&got);
    let end = text.find("\r\n\r\n").expect("a complete head");
    let head = text[..end].to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let body = got.len() - end - 4;
    assert!(body > 0 && body < length, "{body} of {length}");
    assert!(head.contains("x-mock-fault: flt_3"), "{head}");

    // Other paths are unharmed, on the same server.
    let ok = http
        .get(format!("{base}/problem.schema.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    running.shutdown().await.unwrap();
}

// ------------------------------------------------------------------ the journal

#[tokio::test]
async fn the_journal_shows_what_the_client_did_with_secrets_redacted() {
    let client = Client::over(state_with_journal(10));
    let started_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // A client's retry-on-429 loop against an injected RateLimited.
    let first = client
        .send(
            Req::get("/v1/workspaces/acme/users")
                .token("tok_acme_admin")
                .header("prefer", "error=RateLimited, retry-after=1"),
        )
        .await;
    first.assert_error(Code::RateLimited);
    let wait: u64 = first.header("retry-after").unwrap().parse().unwrap();
    tokio::time::sleep(Duration::from_secs(wait)).await;
    client
        .send(
            Req::get("/v1/workspaces/acme/users")
                .token("tok_acme_admin")
                .step_up("su_secret_value"),
        )
        .await
        .assert_status(200);
    client.send(Req::get("/healthz")).await.assert_status(200);

    let all = client.send(Req::get("/admin/requests")).await;
    all.assert_status(200);
    assert_eq!(all.json["capacity"], 10);
    // The admin request itself is not journaled.
    assert_eq!(all.json["requests"].as_array().unwrap().len(), 3);
    let users = client
        .send(Req::get(
            "/admin/requests?route=/v1/workspaces/{workspace}/users",
        ))
        .await;
    let entries = users.json["requests"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let (a, b) = (&entries[0], &entries[1]);
    assert_eq!(a["status"], 429);
    assert_eq!(a["operation"], "listUsers");
    assert_eq!(a["preference_applied"], "error=RateLimited, retry-after=1");
    assert_eq!(b["status"], 200);
    assert!(b["at_ms"].as_u64().unwrap() - a["at_ms"].as_u64().unwrap() >= 1000);
    let headers = b["headers"].to_string();
    assert!(
        headers.contains("[\"authorization\",\"Bearer [redacted]\"]"),
        "{headers}"
    );
    assert!(
        headers.contains("[\"x-step-up-token\",\"[redacted]\"]"),
        "{headers}"
    );
    assert!(!headers.contains("tok_acme_admin") && !headers.contains("su_secret_value"));

    // Filters by time and method.
    let later = client
        .send(Req::get(&format!(
            "/admin/requests?since={}",
            b["at_ms"].as_u64().unwrap()
        )))
        .await;
    assert_eq!(later.json["requests"].as_array().unwrap().len(), 2);
    let none = client
        .send(Req::get(&format!("/admin/requests?until={started_ms}")))
        .await;
    assert_eq!(none.json["requests"], json!([]));
    let bad = client
        .send(Req::get("/admin/requests?since=yesterday"))
        .await;
    bad.assert_error(Code::ValidationError);
    assert_eq!(bad.json["errors"][0]["parameter"], "since");

    // Off by default.
    let off = Client::new();
    off.send(Req::get("/healthz")).await;
    let journal = off.send(Req::get("/admin/requests")).await;
    assert_eq!(journal.json, json!({ "capacity": 0, "requests": [] }));
}

/// 100k requests in process: the journal keeps its last N, the rule list its cap.
#[tokio::test]
async fn rules_and_the_journal_stay_within_their_caps_under_100k_requests() {
    let client = Client::over(state_with_journal(50));
    add_rule(
        &client,
        json!({ "path": "/healthz", "latency_ms": 1, "every": 1_000_000 }),
    )
    .await
    .assert_status(201);
    use tower::ServiceExt;
    for i in 0..100_000u32 {
        let request = http::Request::get(if i % 2 == 0 { "/healthz" } else { "/nowhere" })
            .body(axum::body::Body::empty())
            .unwrap();
        let response = client.app.clone().oneshot(request).await.unwrap();
        assert!(response.status().as_u16() < 500);
    }
    let journal = client.send(Req::get("/admin/requests")).await;
    assert_eq!(journal.json["requests"].as_array().unwrap().len(), 50);
    let rules = client.send(Req::get("/admin/faults")).await;
    assert_eq!(rules.json["rules"][0]["matched"], 50_000);
    assert_eq!(rules.json["rules"].as_array().unwrap().len(), 1);
}
