//! Setup retries, the asserted request's single attempt, timeouts, and
//! cleanup after a failure and after an interruption.

use std::time::Duration;

use conformance_runner::profile::Profile;
use conformance_runner::report::Outcome;
use conformance_runner::report::progress::Progress;
use conformance_runner::scenario::{SourceFile, load};
use conformance_runner::{Options, Plan};

use crate::servers::{Asserted, Seen, resources, serve};

const SCENARIO: &str = r#"
[[scenario]]
id = "not-found/thing"
code = "NotFound"
description = "A thing the setup created, then asked for."

[[scenario.setup]]
name = "create a thing"
method = "POST"
path = "/v1/things"
json = { name = "{{run_id}}" }
capture = { thing = "/id", secret_token = "/secret_token" }

[scenario.request]
method = "GET"
path = "/v1/things/{{capture.thing}}"

[[scenario.cleanup]]
name = "delete the thing"
method = "DELETE"
path = "/v1/things/{{capture.thing}}"
headers = { x-cleanup-token = "{{capture.secret_token}}" }
"#;

fn plan(target: String, timeout: Duration) -> Plan {
    let scenarios = load(&[SourceFile {
        name: "things.toml".into(),
        text: SCENARIO.into(),
    }])
    .expect("valid scenario");
    let profile = Profile::parse(&SourceFile {
        name: "p.toml".into(),
        text: "name = \"things\"\n".into(),
    })
    .expect("valid profile");
    let options = Options {
        target: Some(target),
        timeout,
        run_id: Some("cleanuptest".into()),
        ..Options::new(profile, scenarios)
    };
    Plan::new(options, &|_| None).expect("valid plan")
}

#[tokio::test]
async fn setup_retries_on_429_the_request_does_not_and_cleanup_runs_after_a_failure() {
    let seen = Seen::default();
    let addr = serve(resources(seen.clone(), Asserted::RateLimited)).await;
    let report = plan(format!("http://{addr}"), Duration::from_secs(5))
        .run(&Progress::quiet(), std::future::pending())
        .await
        .unwrap();
    assert_eq!(
        seen.lines(),
        [
            "POST /v1/things",
            "POST /v1/things",
            "GET /v1/things/thing_1",
            "DELETE /v1/things/thing_1 with st_planted_capture",
        ]
    );
    let s = &report.scenarios[0];
    assert_eq!(s.outcome, Outcome::Failed);
    let rules: Vec<&str> = s.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["status", "code", "type-link"]);
    // The captured token is redacted wherever it appears.
    assert!(!report.to_json().contains("st_planted_capture"));
}

#[tokio::test]
async fn a_request_that_times_out_is_a_transport_finding_and_cleanup_still_runs() {
    let seen = Seen::default();
    let addr = serve(resources(seen.clone(), Asserted::Hang)).await;
    let report = plan(format!("http://{addr}"), Duration::from_secs(1))
        .run(&Progress::quiet(), std::future::pending())
        .await
        .unwrap();
    let f = &report.scenarios[0].findings;
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].rule.as_str(), f[0].at.as_str()),
        ("transport", "request")
    );
    assert!(
        f[0].actual.starts_with("the request timed out"),
        "{}",
        f[0].actual
    );
    assert_eq!(
        seen.lines().last().unwrap(),
        "DELETE /v1/things/thing_1 with st_planted_capture"
    );
}

#[tokio::test]
async fn an_interrupted_run_cleans_up_what_it_created() {
    let seen = Seen::default();
    let addr = serve(resources(seen.clone(), Asserted::Hang)).await;
    let report = plan(format!("http://{addr}"), Duration::from_secs(20))
        .run(&Progress::quiet(), async {
            // Interrupt once the asserted request is in flight (after the
            // setup's 1 s Retry-After).
            tokio::time::sleep(Duration::from_millis(1500)).await;
        })
        .await
        .unwrap();
    assert!(report.interrupted);
    assert!(!report.passed());
    let s = &report.scenarios[0];
    assert_eq!(s.outcome, Outcome::Skipped);
    assert_eq!(s.skip_reason.as_deref(), Some("interrupted"));
    assert_eq!(
        seen.lines(),
        [
            "POST /v1/things",
            "POST /v1/things",
            "GET /v1/things/thing_1",
            "DELETE /v1/things/thing_1 with st_planted_capture",
        ]
    );
}
