//! The whole suite against the embedded mock: every scenario passes, and
//! every error body matches its insta snapshot (`tests/snapshots/`). Behind a
//! proxy that corrupts some responses, exactly the affected scenarios fail.
//!
//! Request ids, `Retry-After` values, delivery ids, the mock's ephemeral
//! address and the run's generated names are redacted, so a snapshot only
//! changes when a body really does. Accept a deliberate change with
//! `cargo insta review`, or `INSTA_UPDATE=always cargo test -p xtask --test conformance`.

use std::net::SocketAddr;
use std::sync::LazyLock;

use conformance_runner::report::progress::Progress;
use conformance_runner::report::{Outcome, Report};
use conformance_runner::{Options, Plan};
use regex::Regex;
use serde_json::{Value, json};

const RUN_ID: &str = "snapshot";

/// The mock as `cargo xtask conformance` starts it (loopback is a trusted proxy).
async fn spawn_mock() -> mock_server::Running {
    let mut config = mock_server::Config::embedded().expect("the seed loads");
    config.seed.trusted_proxies.push("127.0.0.1/32".into());
    mock_server::spawn(SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .expect("the mock starts")
}

async fn run_suite() -> (Report, String) {
    let mock = spawn_mock().await;
    let base = mock.base_url();
    (run_against(base.clone()).await, base)
}

async fn run_against(target: String) -> Report {
    let options = Options {
        target: Some(target),
        run_id: Some(RUN_ID.into()),
        ..Options::new(
            conformance_runner::profile::Profile::mock(),
            conformance_runner::embedded_scenarios().expect("the scenarios load"),
        )
    };
    let plan = Plan::new(options, &|_| None).expect("the mock profile is complete");
    plan.run(&Progress::quiet(), std::future::pending())
        .await
        .expect("the mock answers")
}

static VOLATILE: LazyLock<[(Regex, &'static str); 3]> = LazyLock::new(|| {
    [
        (Regex::new(r"msg_[A-Za-z0-9]+").unwrap(), "[message_id]"),
        (Regex::new(&format!(r"{RUN_ID}-\d+")).unwrap(), "[slug]"),
        // Seconds left in a rate-limit window or a circuit's cool-down.
        (Regex::new(r"\b\d+ s\b").unwrap(), "[n] s"),
    ]
});

/// Replaces the mock's address and per-run values in every string.
fn stabilise(value: &mut Value, base: &str) {
    match value {
        Value::String(s) => {
            let mut text = s.replace(base, "http://mock");
            for (regex, with) in VOLATILE.iter() {
                text = regex.replace_all(&text, *with).into_owned();
            }
            *s = text;
        }
        Value::Array(items) => items.iter_mut().for_each(|v| stabilise(v, base)),
        Value::Object(map) => map.values_mut().for_each(|v| stabilise(v, base)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_passes_against_the_embedded_mock_and_every_error_body_is_snapshotted() {
    let (report, base) = run_suite().await;

    let failures: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.outcome != Outcome::Passed)
        .map(|s| {
            let findings: Vec<String> = s.findings.iter().map(|f| format!("    {f}")).collect();
            format!("{} ({}:{})\n{}", s.id, s.file, s.line, findings.join("\n"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "scenarios failed against the mock:\n{}",
        failures.join("\n")
    );
    assert!(
        report.passed(),
        "uncovered codes: {:?}",
        report.summary.uncovered
    );
    assert!(
        report.warnings.is_empty(),
        "cleanup warnings: {:#?}",
        report.warnings
    );

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for s in &report.scenarios {
            let response = s.response.as_ref().expect("every scenario got a response");
            let header = |name: &str| response.headers.get(name).map_or(Value::Null, |v| json!(v));
            let mut snapshot = json!({
                "scenario": s.id,
                "status": response.status,
                "content-type": header("content-type"),
                "www-authenticate": header("www-authenticate"),
                "retry-after": header("retry-after"),
                "x-error-code": header("x-error-code"),
                "body": response.body,
            });
            stabilise(&mut snapshot, &base);
            if snapshot["retry-after"].is_string() {
                snapshot["retry-after"] = json!("[seconds]");
            }
            insta::assert_json_snapshot!(s.id.replace('/', "__"), snapshot, {
                ".body.request_id" => "[request_id]",
                ".body.retry_after" => "[seconds]",
            });
        }
    });
}

#[test]
fn the_runners_attestation_objects_parse_as_the_mock_reads_them() {
    for (fmt, aaguid) in [
        ("packed", "ee882879-721c-4913-9775-3dfcce97072a"),
        ("none", "00000000-0000-0000-0000-000000000000"),
        ("fido-u2f", "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"),
    ] {
        let encoded = conformance_runner::attestation::build(fmt, aaguid).unwrap();
        let parsed = mock_server::webauthn::parse_attestation_object(&encoded)
            .unwrap_or_else(|e| panic!("{fmt} {aaguid}: {e}"));
        assert_eq!(parsed.fmt.as_str(), fmt);
        assert_eq!(parsed.aaguid.to_string(), aaguid);
    }
}

/// How the proxy corrupts a response of the mock, chosen by its code.
fn corrupt(status: &mut u16, headers: &mut http::HeaderMap, body: &mut Vec<u8>) {
    let code = headers
        .get("x-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    match code.as_str() {
        // A dropped header.
        "RateLimited" => {
            headers.remove("retry-after");
        }
        // A renamed code, in the body and the header.
        "SSO_NOT_ALLOWED" => {
            let mut json: Value = serde_json::from_slice(body).unwrap();
            json["code"] = json!("SSO_DISABLED");
            *body = serde_json::to_vec(&json).unwrap();
            headers.insert(
                "x-error-code",
                http::HeaderValue::from_static("SSO_DISABLED"),
            );
        }
        // A wrong status.
        "MUTABILITY_VIOLATION" => *status = 409,
        // A wrong media type.
        "ATTESTATION_BLOCKED" => {
            headers.insert(
                "content-type",
                http::HeaderValue::from_static("application/json"),
            );
        }
        _ => {}
    }
}

/// A reverse proxy to `upstream` on 127.0.0.1:0 that passes every request on
/// and applies [`corrupt`] to every response.
async fn corrupting_proxy(upstream: String) -> SocketAddr {
    use axum::body::{Body, to_bytes};
    use axum::extract::Request;
    use axum::response::Response;

    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |request: Request| {
        let (client, upstream) = (client.clone(), upstream.clone());
        async move {
            let (parts, body) = request.into_parts();
            let bytes = to_bytes(body, usize::MAX).await.unwrap();
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let mut forward = client
                .request(parts.method, format!("{upstream}{path}"))
                .body(bytes);
            for (name, value) in &parts.headers {
                if name != http::header::HOST && name != http::header::CONTENT_LENGTH {
                    forward = forward.header(name, value);
                }
            }
            let answer = forward.send().await.unwrap();
            let mut status = answer.status().as_u16();
            let mut headers = answer.headers().clone();
            let mut body = answer.bytes().await.unwrap().to_vec();
            corrupt(&mut status, &mut headers, &mut body);
            headers.remove(http::header::CONTENT_LENGTH);
            headers.remove(http::header::TRANSFER_ENCODING);
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
            *response.headers_mut() = headers;
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_corrupting_proxy_exactly_the_affected_scenarios_fail() {
    let mock = spawn_mock().await;
    let proxy = corrupting_proxy(mock.base_url()).await;
    let report = run_against(format!("http://{proxy}")).await;

    let corrupted = [
        "RateLimited",
        "SSO_NOT_ALLOWED",
        "MUTABILITY_VIOLATION",
        "ATTESTATION_BLOCKED",
    ];
    let mut failed: Vec<&str> = Vec::new();
    for s in &report.scenarios {
        let shown: Vec<String> = s.findings.iter().map(ToString::to_string).collect();
        if !corrupted.contains(&s.code.as_str()) {
            assert_eq!(
                s.outcome,
                Outcome::Passed,
                "{} is not affected: {shown:#?}",
                s.id
            );
            continue;
        }
        assert_eq!(s.outcome, Outcome::Failed, "{} is affected", s.id);
        failed.push(s.id.as_str());
        let expected: &[&str] = match s.code.as_str() {
            "RateLimited" => {
                &["retry-after at header:retry-after: expected delay-seconds, found absent"]
            }
            "SSO_NOT_ALLOWED" => &[
                "undocumented-code at body:/code: expected a code documented in the catalog, found SSO_DISABLED",
            ],
            "MUTABILITY_VIOLATION" => &[
                "status at status: expected 400 (MUTABILITY_VIOLATION), found 409",
                "status-member at body:/status: expected \"409\" (a JSON string equal to the HTTP status), found \"400\" (a string)",
            ],
            _ => &[
                "media-type at header:content-type: expected application/problem+json, found application/json",
            ],
        };
        assert_eq!(shown, expected, "{}", s.id);
    }
    // Every scenario of the four codes failed, and nothing else did.
    for code in corrupted {
        assert!(
            failed.iter().any(|id| report
                .scenarios
                .iter()
                .any(|s| s.id == *id && s.code == code)),
            "{code}"
        );
    }
    assert_eq!(report.summary.failed, failed.len());
    assert!(!report.passed());
}

/// The suite's verdict per scenario, to compare two runs.
fn verdicts(report: &Report) -> Vec<(String, Outcome, Vec<String>)> {
    report
        .scenarios
        .iter()
        .map(|s| {
            let findings = s.findings.iter().map(ToString::to_string).collect();
            (s.id.clone(), s.outcome, findings)
        })
        .collect()
}

async fn run_with(
    profile: conformance_runner::profile::Profile,
    target: String,
    run_id: &str,
) -> Report {
    let options = Options {
        target: Some(target),
        run_id: Some(run_id.into()),
        ..Options::new(
            profile,
            conformance_runner::embedded_scenarios().expect("the scenarios load"),
        )
    };
    let plan = Plan::new(options, &|_| None).expect("the profile is complete");
    plan.run(&Progress::quiet(), std::future::pending())
        .await
        .expect("the mock answers")
}

fn assert_all_passed(report: &Report, what: &str) {
    let failed: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.outcome != Outcome::Passed)
        .map(|s| format!("{}: {:?}", s.id, s.findings))
        .collect();
    assert!(failed.is_empty(), "{what}: {failed:#?}");
    assert!(
        report.passed(),
        "{what}: uncovered {:?}",
        report.summary.uncovered
    );
    assert!(report.warnings.is_empty(), "{what}: {:#?}", report.warnings);
}

#[tokio::test]
async fn the_suite_passes_twice_against_one_mock_without_a_reset() {
    let mock = spawn_mock().await;
    let first = run_with(
        conformance_runner::profile::Profile::mock(),
        mock.base_url(),
        "first",
    )
    .await;
    let second = run_with(
        conformance_runner::profile::Profile::mock(),
        mock.base_url(),
        "second",
    )
    .await;
    assert_all_passed(&first, "first run");
    assert_all_passed(&second, "second run, no /admin/reset between");
    assert_eq!(verdicts(&first), verdicts(&second));
}

/// Every workspace, user, email, id, token and password of the seed renamed
/// (`fixtures/seeds/renamed.toml`) and named in a profile
/// (`fixtures/profiles/renamed.toml`): the full suite passes, twice, so no
/// scenario depends on a literal name of the default seed.
#[tokio::test]
async fn the_suite_passes_in_a_renamed_world_twice() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("fixtures/seeds/renamed.toml"))
        .expect("the renamed seed");
    let profile_text = std::fs::read_to_string(root.join("fixtures/profiles/renamed.toml"))
        .expect("the renamed profile");
    for name in [
        "acme",
        "pwonly",
        "dormant",
        "fortress",
        "vault",
        "throttled",
        "usr_",
        "tok_",
        "\"scim_",
        "su_",
        "correct horse",
    ] {
        assert!(!text.contains(name), "the renamed seed still says {name}");
        let values: String = profile_text
            .lines()
            .filter(|l| !l.contains("{{"))
            .filter_map(|l| l.split_once('=').map(|(_, v)| v))
            .collect();
        assert!(
            !values.contains(name),
            "the renamed profile still says {name}"
        );
    }
    let mut seed = mock_server::seed::Seed::parse(&text).expect("the renamed seed parses");
    seed.trusted_proxies.push("127.0.0.1/32".into());
    let mock = mock_server::spawn(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        mock_server::Config::new(seed),
    )
    .await
    .expect("the mock starts");
    let profile =
        conformance_runner::profile::Profile::load(&root.join("fixtures/profiles/renamed.toml"))
            .expect("the renamed profile loads");
    let first = run_with(profile.clone(), mock.base_url(), "renamed1").await;
    let second = run_with(profile.clone(), mock.base_url(), "renamed2").await;
    assert_all_passed(&first, "renamed world");
    assert_all_passed(&second, "renamed world, second run");
    assert_eq!(verdicts(&first), verdicts(&second));

    // The default seed's names are nowhere in the renamed world: the mock
    // profile against it fails (its tokens and workspaces do not exist).
    let default_names = run_with(
        conformance_runner::profile::Profile::mock(),
        mock.base_url(),
        "defaultnames",
    )
    .await;
    assert!(
        default_names.summary.failed > 50,
        "{}",
        default_names.closing_line()
    );
}
