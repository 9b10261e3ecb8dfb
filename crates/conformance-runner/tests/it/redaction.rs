//! A secret planted in the environment appears in no output: human, JSON,
//! JUnit, GitHub annotations, step summary or progress.

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::json;

use crate::servers::serve;
use crate::{fixture, scratch};

const PLANTED: &str = "planted-credential-4f7d1c";
const STEP_UP: &str = "su_planted_step_up_91a2";
const WEBHOOK_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// Answers with every secret it was sent, in headers and body.
fn echo() -> Router {
    Router::new()
        .route(
            "/v1/secrets",
            post(|| async { axum::Json(json!({ "step_up_token": STEP_UP })) }),
        )
        .route(
            "/v1/echo",
            get(|headers: HeaderMap| async move {
                let text = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let body = json!({
                    "type": "https://docs.platform.example/docs/errors#unauthorized",
                    "title": "Unauthorized",
                    "status": 400,
                    "code": "Unauthorized",
                    "request_id": "req_1",
                    "detail": format!("you sent {} and {} and {}; your secret is {WEBHOOK_SECRET}",
                        text("authorization"), text("x-step-up-token"), text("cookie")),
                });
                (
                    StatusCode::BAD_REQUEST,
                    [
                        ("content-type", "application/problem+json".to_owned()),
                        ("x-echo", text("authorization")),
                        ("set-cookie", format!("session={PLANTED}")),
                    ],
                    body.to_string(),
                )
                    .into_response()
            }),
        )
}

#[tokio::test]
async fn planted_secrets_appear_in_no_output() {
    let addr = serve(echo()).await;
    let dir = scratch("redaction");
    let (json, junit, summary) = (
        dir.join("r.json"),
        dir.join("r.xml"),
        dir.join("summary.md"),
    );
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_conformance-runner"));
    command
        .arg("--target")
        .arg(format!("http://{addr}"))
        .arg("--profile")
        .arg(fixture("redaction/profile.toml"))
        .arg("--scenarios")
        .arg(fixture("redaction/scenarios"))
        .args(["--progress", "lines", "--github"])
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .env("CR_PLANTED_SECRET", PLANTED)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("CONFORMANCE_TARGET");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the binary runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let outputs = [
        (
            "stdout",
            String::from_utf8_lossy(&output.stdout).into_owned(),
        ),
        (
            "stderr",
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ),
        ("json", std::fs::read_to_string(&json).unwrap()),
        ("junit", std::fs::read_to_string(&junit).unwrap()),
        ("summary", std::fs::read_to_string(&summary).unwrap()),
    ];
    for (name, text) in &outputs {
        for secret in [PLANTED, STEP_UP, WEBHOOK_SECRET, "planted-cookie-value"] {
            assert!(!text.contains(secret), "{name} contains {secret}:\n{text}");
        }
    }
    // The report still says what happened, with the secrets replaced.
    let report: serde_json::Value = serde_json::from_str(&outputs[2].1).unwrap();
    let scenario = &report["scenarios"][0];
    assert_eq!(
        scenario["request"]["headers"]["authorization"],
        "[REDACTED]"
    );
    assert_eq!(
        scenario["request"]["headers"]["x-step-up-token"],
        "[REDACTED]"
    );
    assert_eq!(scenario["response"]["headers"]["set-cookie"], "[REDACTED]");
    assert_eq!(
        scenario["response"]["body"]["detail"],
        "you sent Bearer [REDACTED] and [REDACTED] and [REDACTED]; your secret is [REDACTED]"
    );
    let header_finding = scenario["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "header")
        .unwrap();
    assert_eq!(header_finding["actual"], "Bearer [REDACTED]");
}
