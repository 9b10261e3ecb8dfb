//! The whole suite against the embedded mock: every scenario passes, and
//! every error body matches its insta snapshot (`tests/snapshots/`).
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
    let options = Options {
        target: Some(base.clone()),
        run_id: Some(RUN_ID.into()),
        ..Options::new(
            conformance_runner::profile::Profile::mock(),
            conformance_runner::embedded_scenarios().expect("the scenarios load"),
        )
    };
    let plan = Plan::new(options, &|_| None).expect("the mock profile is complete");
    let report = plan
        .run(&Progress::quiet(), std::future::pending())
        .await
        .expect("the mock answers");
    (report, base)
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
