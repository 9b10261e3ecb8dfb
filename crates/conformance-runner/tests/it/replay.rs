//! A failure reproduced in one paste: the curl commands the human report
//! prints for each failed scenario, run in a real shell with the named
//! environment variables set, get the same status and code as the run did;
//! and no secret value is ever printed.

use std::collections::BTreeMap;
use std::process::Command;

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::servers::{Fault, app, problem, respond_json, serve};
use crate::{fixture, scratch};

const ADMIN: &str = "adm-s3cret-value";
const STEP_UP: &str = "su-s3cret-token";
const NOTE: &str = "it's \"quoted\" & $HOME";

/// Wrong on purpose, and strict: every answer depends on the credential,
/// the captured id and token, the query and the body being exactly right.
fn replay_server() -> Router {
    let authorized = |h: &HeaderMap| {
        h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {ADMIN}"))
    };
    let unauthorized = || {
        let body = problem("Unauthorized", "unauthorized", "Unauthorized", 401);
        respond_json(
            401,
            &body,
            &[("www-authenticate", "Bearer realm=\"t\"".into())],
        )
    };
    Router::new()
        .route(
            "/v1/users",
            post(move |h: HeaderMap, body: String| async move {
                let note = serde_json::from_str::<Value>(&body)
                    .ok()
                    .map(|b| b["note"].clone());
                if !authorized(&h) {
                    unauthorized()
                } else if note != Some(json!(NOTE)) {
                    respond_json(422, &json!({ "body": body }), &[])
                } else {
                    respond_json(
                        201,
                        &json!({ "id": "usr_42", "step_up_token": STEP_UP }),
                        &[],
                    )
                }
            }),
        )
        .route(
            "/v1/users/{id}",
            get(move |h: HeaderMap| async move {
                if authorized(&h) {
                    respond_json(200, &json!({ "id": "nobody" }), &[])
                } else {
                    unauthorized()
                }
            })
            .delete(
                move |h: HeaderMap,
                      Path(id): Path<String>,
                      Query(q): Query<BTreeMap<String, String>>| async move {
                    let step_up = h.get("x-step-up-token").and_then(|v| v.to_str().ok());
                    if !authorized(&h) {
                        unauthorized()
                    } else if id != "usr_42" || q.get("reason").map(String::as_str) != Some("it's")
                    {
                        respond_json(
                            404,
                            &problem("NotFound", "not-found", "Not found", 404),
                            &[],
                        )
                    } else if step_up != Some(STEP_UP) {
                        respond_json(
                            403,
                            &problem("Forbidden", "forbidden", "Forbidden", 403),
                            &[],
                        )
                    } else {
                        let mut body = problem(
                            "ValidationError",
                            "validation-error",
                            "Validation error",
                            400,
                        );
                        body["errors"] = json!([{ "pointer": "/id", "detail": "no" }]);
                        respond_json(400, &body, &[])
                    }
                },
            ),
        )
}

/// Each failed scenario's printed commands: (comment line, command), in order.
fn commands(stdout: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut current = None;
    let mut lines = stdout.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("FAIL") {
            current = rest.split_whitespace().next().map(str::to_owned);
        } else if let (Some(id), Some(what)) = (&current, trimmed.strip_prefix("# ")) {
            let mut command = String::new();
            for next in lines.by_ref() {
                command.push_str(next);
                command.push('\n');
                if !next.ends_with('\\') {
                    break;
                }
            }
            out.entry(id.clone())
                .or_default()
                .push((what.to_owned(), command));
        }
    }
    out
}

/// Runs a command in bash with `env`; returns the status and the body.
fn sh(command: &str, env: &[(&str, &str)]) -> (u16, Value, String) {
    let out = Command::new("bash")
        .arg("-c")
        .arg(command)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .expect("bash runs");
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status from {command}: {text}"));
    let header_code = head
        .lines()
        .find_map(|l| l.strip_prefix("x-error-code: "))
        .unwrap_or("")
        .to_owned();
    (
        status,
        serde_json::from_str(body).unwrap_or(Value::Null),
        header_code,
    )
}

fn run_binary(
    target: &str,
    profile: &str,
    scenarios: &str,
    env: &[(&str, &str)],
) -> (String, Value) {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = scratch(&format!("replay-{n}"));
    let json = dir.join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_conformance-runner"))
        .args([
            "--target",
            target,
            "--profile",
            profile,
            "--scenarios",
            scenarios,
        ])
        .args(["--progress", "none", "--partial", "--json"])
        .arg(&json)
        .env_remove("CONFORMANCE_TARGET")
        .env_remove("GITHUB_ACTIONS")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let report = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    (stdout, report)
}

fn response_of<'a>(report: &'a Value, id: &str) -> &'a Value {
    let s = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("{id} in the report"));
    &s["response"]
}

#[tokio::test]
async fn each_failure_prints_curl_that_reproduces_it_with_secrets_from_the_environment() {
    let addr = serve(replay_server()).await;
    let (stdout, report) = tokio::task::spawn_blocking(move || {
        run_binary(
            &format!("http://{addr}"),
            &fixture("replay/profile.toml").display().to_string(),
            &fixture("replay/scenarios").display().to_string(),
            &[("REPLAY_ADMIN_TOKEN", ADMIN)],
        )
    })
    .await
    .unwrap();
    assert!(
        !stdout.contains(ADMIN) && !stdout.contains(STEP_UP),
        "{stdout}"
    );
    assert!(
        stdout.contains("REPLAY_ADMIN_TOKEN: credential `admin`"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "STEP_UP_TOKEN: `step_up_token`: the value at /step_up_token of the answer to setup step `create a user`"
        ),
        "{stdout}"
    );
    let commands = commands(&stdout);
    assert_eq!(
        commands.keys().collect::<Vec<_>>(),
        ["not-found/replayed", "step-up-required/replayed"]
    );

    // The setup step, pasted: its answer holds the token the next one needs.
    let steps = &commands["step-up-required/replayed"];
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert_eq!(steps[0].0, "setup step `create a user`: 201");
    assert_eq!(steps[1].0, "the asserted request");
    let env = [("REPLAY_ADMIN_TOKEN", ADMIN)];
    let (status, body, _) = tokio::task::spawn_blocking({
        let c = steps[0].1.clone();
        move || sh(&c, &env)
    })
    .await
    .unwrap();
    assert_eq!(status, 201);
    let token = body["step_up_token"].as_str().unwrap().to_owned();

    for (id, env) in [
        (
            "step-up-required/replayed",
            vec![
                ("REPLAY_ADMIN_TOKEN", ADMIN),
                ("STEP_UP_TOKEN", token.as_str()),
            ],
        ),
        ("not-found/replayed", vec![("REPLAY_ADMIN_TOKEN", ADMIN)]),
    ] {
        let command = commands[id].last().unwrap().1.clone();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let (status, body, _) = tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            sh(&command, &env)
        })
        .await
        .unwrap();
        let recorded = response_of(&report, id);
        assert_eq!(
            u64::from(status),
            recorded["status"].as_u64().unwrap(),
            "{id}"
        );
        assert_eq!(body.get("code"), recorded["body"].get("code"), "{id}");
    }
    // The run's answers were the wrong ones the server gives only to exact requests.
    assert_eq!(
        response_of(&report, "step-up-required/replayed")["status"],
        400
    );
    assert_eq!(response_of(&report, "not-found/replayed")["status"], 200);
}

#[tokio::test]
async fn the_mini_suite_failures_reproduce_with_the_literal_credential_named() {
    for fault in [
        Fault::WrongStatus,
        Fault::RenamedCode,
        Fault::UndocumentedCode,
        Fault::WrongMediaType,
    ] {
        let addr = serve(app(fault)).await;
        let (stdout, report) = tokio::task::spawn_blocking(move || {
            run_binary(
                &format!("http://{addr}"),
                &fixture("mini-suite/profile.toml").display().to_string(),
                &fixture("mini-suite/scenarios").display().to_string(),
                &[],
            )
        })
        .await
        .unwrap();
        let commands = commands(&stdout);
        assert_eq!(commands.len(), 1, "{fault:?}: {stdout}");
        for (id, steps) in commands {
            let command = steps.last().unwrap().1.clone();
            if command.contains("CONFORMANCE_TOKEN") {
                assert!(stdout.contains("CONFORMANCE_TOKEN: credential `token`, written in"));
            }
            let (status, body, header_code) = tokio::task::spawn_blocking(move || {
                sh(&command, &[("CONFORMANCE_TOKEN", "tok_test_admin")])
            })
            .await
            .unwrap();
            let recorded = response_of(&report, &id);
            assert_eq!(
                u64::from(status),
                recorded["status"].as_u64().unwrap(),
                "{id}"
            );
            let code = body.get("code").cloned().unwrap_or(json!(header_code));
            let recorded_code = recorded["body"]
                .get("code")
                .cloned()
                .unwrap_or_else(|| recorded["headers"]["x-error-code"].clone());
            assert_eq!(code, recorded_code, "{fault:?} {id}");
        }
    }
}
