//! The `conformance-runner` binary's documented exit codes.

use std::process::{Command, Output};

use crate::servers::{Fault, app, serve};
use crate::{fixture, scratch};

async fn runner(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_conformance-runner"))
            .args(args)
            .env_remove("CONFORMANCE_TARGET")
            .env_remove("GITHUB_ACTIONS")
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap()
}

fn mini(target: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--target".into(),
        target.into(),
        "--profile".into(),
        fixture("mini-suite/profile.toml").display().to_string(),
        "--scenarios".into(),
        fixture("mini-suite/scenarios").display().to_string(),
        "--progress".into(),
        "none".into(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

#[tokio::test]
async fn exit_0_when_every_selected_scenario_passes() {
    let addr = serve(app(Fault::None)).await;
    let out = runner(mini(
        &format!("http://{addr}"),
        &["--filter", "category=generic"],
    ))
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.ends_with("4 passed, 0 failed\n"), "{stdout}");
}

#[tokio::test]
async fn exit_1_on_a_conformance_failure_and_json_on_request() {
    let addr = serve(app(Fault::WrongStatus)).await;
    let out = runner(mini(
        &format!("http://{addr}"),
        &["--filter", "code=NotFound", "--format", "json"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(report["scenarios"][0]["findings"][0]["rule"], "status");
}

#[tokio::test]
async fn exit_1_when_a_code_has_no_passing_scenario() {
    // Every scenario passes, but the unfiltered mini suite covers 6 of 20 codes.
    let addr = serve(app(Fault::None)).await;
    let out = runner(mini(&format!("http://{addr}"), &[])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("codes with no passing scenario: NOT_PROVISIONED, "),
        "{stdout}"
    );
    assert!(stdout.ends_with("6 passed, 0 failed\n"), "{stdout}");
}

#[tokio::test]
async fn exit_2_on_configuration_errors() {
    let bad_profile = scratch("bad-profile").join("p.toml");
    std::fs::write(&bad_profile, "name = \"x\"\ncolour = \"red\"\n").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "--target".into(),
                "http://127.0.0.1:9".into(),
                "--profile".into(),
                bad_profile.display().to_string(),
            ],
            "p.toml:2:1: unknown field `colour`",
        ),
        (
            vec!["--filter".into(), "code=NOPE".into()],
            "`NOPE` is not a documented error code",
        ),
        (vec!["--shard".into(), "3/2".into()], "is not a shard"),
        (
            vec![],
            "no target: pass --target URL or set `base_url` in a profile of your own (the embedded mock profile has none; `conformance-runner init --target URL` writes one)",
        ),
        (
            vec!["--target".into(), "https://staging.example.net".into()],
            "credential `acme_admin` is written in the embedded mock profile (`conformance-runner init --target URL` writes one for your target), but target https://staging.example.net/ is not loopback",
        ),
    ];
    for (args, message) in cases {
        let out = runner(args.clone()).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn exit_3_when_the_target_is_unreachable() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = runner(mini(&format!("http://127.0.0.1:{port}"), &[])).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "target http://127.0.0.1:{port}/healthz is unreachable"
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn list_shows_the_selected_shard_without_a_target() {
    let out = runner(vec!["--list".into(), "--shard".into(), "1/40".into()]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!((2..=3).contains(&lines.len()), "{stdout}");
    assert!(lines[0].contains("fixtures/scenarios/"), "{stdout}");
}
