//! The `conformance-runner` binary's documented exit codes.

use std::process::Command;

use crate::servers::{Fault, app, serve};
use crate::{mini_args as mini, run_binary as runner, scratch};

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
            // An empty --target (an unset CI variable) is no target: the
            // profile's base_url would be used, and the mock profile has none.
            vec!["--target".into(), String::new()],
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
    let all = runner(vec!["--list".into()]).await;
    let total = String::from_utf8_lossy(&all.stdout).lines().count();
    let out = runner(vec!["--list".into(), "--shard".into(), "1/40".into()]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<&str> = stdout.lines().collect();
    // Shards split the suite evenly: one of 40 holds a fortieth of it.
    assert!(total > 100, "{total}");
    assert!(
        (total / 40..=total.div_ceil(40)).contains(&lines.len()),
        "{} of {total}: {stdout}",
        lines.len()
    );
    assert!(lines[0].contains("fixtures/scenarios/"), "{stdout}");
}

#[tokio::test]
async fn exit_3_with_one_line_when_the_target_answers_404_to_everything() {
    // A server, but not the platform: every path answers 404. A run and
    // `diff` share one exit-code map, so both say so with 3 and one line.
    let addr = serve(
        axum::Router::new()
            .fallback(|| async { (http::StatusCode::NOT_FOUND, "<h1>Not Found</h1>") }),
    )
    .await;
    let target = format!("http://{addr}");
    let commands: [Vec<String>; 2] = [
        vec![
            "--target".into(),
            target.clone(),
            "--progress".into(),
            "none".into(),
        ],
        vec![
            "diff".into(),
            "--left".into(),
            target.clone(),
            "--right".into(),
            target.clone(),
        ],
    ];
    for args in commands {
        let out = runner(args.clone()).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert_eq!(
            stderr,
            format!(
                "error: target http://{addr}/v1/workspaces/acme/users is not the expected server: \
                 404 text/plain \"<h1>Not Found</h1>\" (expected 401 application/problem+json with /code = \"Unauthorized\")\n"
            ),
            "{args:?}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[tokio::test]
async fn exit_2_listing_every_unset_and_empty_credential_at_once() {
    let dir = scratch("credentials");
    let profile = dir.join("p.toml");
    std::fs::write(
        &profile,
        r#"name = "needs-four"
[credentials]
token = { env = "CR_TEST_TOKEN_UNSET_1" }
admin = { env = "CR_TEST_TOKEN_UNSET_2" }
member = { env = "CR_TEST_TOKEN_EMPTY" }
other = { env = "CR_TEST_TOKEN_UNSET_3" }
[fixtures]
user_id = "usr_1"
"#,
    )
    .unwrap();
    let scenarios = dir.join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    let uses = |name: &str, id: &str| {
        format!(
            "[[scenario]]\nid = \"{id}\"\ncode = \"NotFound\"\ndescription = \"d\"\n\n[scenario.request]\nmethod = \"GET\"\npath = \"/x\"\nheaders = {{ authorization = \"Bearer {{{{credential.{name}}}}}\" }}\n\n"
        )
    };
    let text: String = [
        ("token", "not-found/a"),
        ("admin", "not-found/b"),
        ("member", "not-found/c"),
        ("other", "not-found/d"),
    ]
    .iter()
    .map(|(n, id)| uses(n, id))
    .collect();
    std::fs::write(scenarios.join("s.toml"), text).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_conformance-runner"))
            .args(["--target", "https://staging.example.net", "--profile"])
            .arg(&profile)
            .arg("--scenarios")
            .arg(&scenarios)
            .env_remove("CR_TEST_TOKEN_UNSET_1")
            .env_remove("CR_TEST_TOKEN_UNSET_2")
            .env_remove("CR_TEST_TOKEN_UNSET_3")
            .env("CR_TEST_TOKEN_EMPTY", "")
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "error: 4 credential(s) missing; set these environment variables:\n\
         \x20 CR_TEST_TOKEN_UNSET_2 (unset): credential `admin`, needed by `not-found/b`\n\
         \x20 CR_TEST_TOKEN_EMPTY (empty): credential `member`, needed by `not-found/c`\n\
         \x20 CR_TEST_TOKEN_UNSET_3 (unset): credential `other`, needed by `not-found/d`\n\
         \x20 CR_TEST_TOKEN_UNSET_1 (unset): credential `token`, needed by `not-found/a`\n"
    );
}

#[tokio::test]
async fn requirements_lists_what_a_target_must_provide() {
    let out = runner(vec![
        "requirements".into(),
        "--profile".into(),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/profiles/scim-rfc.toml"
        )
        .into(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("What a target needs for 25 scenario(s) (25 standard)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  acme_scim              environment variable CONFORMANCE_SCIM_TOKEN"),
        "{stdout}"
    );
    assert!(
        stdout.contains("reachability: GET /ServiceProviderConfig answers 200 with /schemas/0 = \"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig\""),
        "{stdout}"
    );
    assert!(stdout.contains("Capabilities\n  none\n"), "{stdout}");

    let staging = runner(vec![
        "requirements".into(),
        "--profile".into(),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/profiles/staging.example.toml"
        )
        .into(),
        "--filter".into(),
        "category=webhooks".into(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&staging.stdout);
    assert!(
        stdout.contains("  a webhook receiver the target can reach ([receiver] public_url or public_url_env, or a loopback target)\n    5 scenario(s): circuit-open/after-consecutive-failures,"),
        "{stdout}"
    );
    assert!(
        stdout.contains("environment variable CONFORMANCE_PWONLY_ADMIN_TOKEN"),
        "{stdout}"
    );
}

/// `requirements` says what each fixture and credential of the whole suite
/// must be on the target, from the one policy table, with nothing left
/// unexplained (`tests/it/snapshots/`).
#[tokio::test]
async fn requirements_says_what_each_fixture_and_credential_must_be() {
    let out = runner(vec!["requirements".into()]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let start = stdout
        .find("What each must be on the target")
        .expect("the policy section");
    let end = stdout.find("\nCapabilities").expect("the capabilities");
    let section = &stdout[start..end];
    assert!(!section.contains("no policy written"), "{section}");
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("requirements_policies_of_the_mock_profile", section);
    });
}
