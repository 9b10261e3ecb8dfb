//! Reports: real JSON reports validate against the generated schema; the
//! human, JUnit and GitHub renderings of a known report are exact.

use conformance_runner::check::Finding;
use conformance_runner::report::human::{self, Color};
use conformance_runner::report::{Outcome, Report, ScenarioReport, github, junit};

use crate::servers::{Fault, app, serve};
use crate::{mini_profile, mini_suite, run};

fn validate(report: &Report) {
    let schema = conformance_runner::schema::report();
    let validator = jsonschema::draft202012::new(&schema).expect("the report schema compiles");
    let value: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path().as_str()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[tokio::test]
async fn real_reports_validate_against_the_report_schema() {
    for fault in [Fault::None, Fault::InvalidBody, Fault::WrongMediaType] {
        let addr = serve(app(fault)).await;
        validate(&run(mini_suite(), mini_profile(), format!("http://{addr}")).await);
    }
}

fn scenario(
    id: &str,
    code: &str,
    category: &str,
    outcome: Outcome,
    findings: Vec<Finding>,
) -> ScenarioReport {
    ScenarioReport {
        id: id.into(),
        code: code.into(),
        category: category.into(),
        tags: vec![],
        description: "d".into(),
        basis: "platform".into(),
        file: "fixtures/scenarios/x.toml".into(),
        line: 3,
        built_in: false,
        outcome,
        skip_reason: (outcome == Outcome::Skipped).then(|| "no IPv6 at the edge".into()),
        duration_ms: 12,
        findings,
        steps: vec![],
        request: None,
        response: None,
        drift: vec![],
        waiver: None,
        captures: Default::default(),
    }
}

fn known_report() -> Report {
    let finding = Finding {
        rule: "status".into(),
        at: "status".into(),
        expected: "404 (NotFound)".into(),
        actual: "400".into(),
        fix: Some("Check the URL.".into()),
        docs: Some("https://docs.platform.example/docs/errors#not-found".into()),
        basis: "platform".into(),
        hint: Some(
            "answer 404 application/problem+json with code NotFound: the platform's catalog".into(),
        ),
    };
    let mut report = Report::new(
        "run1".into(),
        "http://127.0.0.1:1".into(),
        "test".into(),
        false,
        vec![
            scenario(
                "not-found/a",
                "NotFound",
                "generic",
                Outcome::Failed,
                vec![finding],
            ),
            scenario(
                "ip-blocked/b",
                "IP_BLOCKED",
                "network-policy",
                Outcome::Passed,
                vec![],
            ),
            scenario(
                "ip-blocked/c",
                "IP_BLOCKED",
                "network-policy",
                Outcome::Skipped,
                vec![],
            ),
        ],
        vec![],
        false,
    );
    report.started_at = "2026-11-29T18:00:00Z".into();
    report.wall_ms = 1234;
    report.hostname = "ci-host".into();
    report
}

#[test]
fn the_human_report_groups_by_category_and_ends_with_the_counts() {
    let text = human::render(&known_report(), Color::Never);
    let not_selected: String = [
        "NOT_PROVISIONED",
        "SSO_NOT_ALLOWED",
        "ACCOUNT_DISABLED",
        "WORKSPACE_INACTIVE",
        "MFA_REQUIRED",
        "STEP_UP_REQUIRED",
        "STEP_UP_REUSED",
        "PHISHING_RESISTANT_REQUIRED",
        "INVALID_FILTER",
        "USER_NOT_FOUND",
        "MUTABILITY_VIOLATION",
        "CIRCUIT_OPEN",
        "SIGNATURE_FAILED",
    ]
    .iter()
    .map(|c| format!("  {c:<28}         0      0      0       0  not selected\n"))
    .collect();
    let expected = format!(
        "\
conformance run run1 against http://127.0.0.1:1 (profile test)

Network policy
  PASS  ip-blocked/b          IP_BLOCKED                       12 ms
  SKIP  ip-blocked/c          IP_BLOCKED                    no IPv6 at the edge

Generic
  FAIL  not-found/a           NotFound                         12 ms
        at fixtures/scenarios/x.toml:3 (platform)
        what: d
        status at status  [platform]
          expected: 404 (NotFound)
          actual:   400
        server: answer 404 application/problem+json with code NotFound: the platform's catalog
        fix:  Check the URL.
        docs: https://docs.platform.example/docs/errors#not-found

Coverage
  code                         scenarios passed failed skipped
{not_selected}  IP_BLOCKED                           2      1      0       1  ok
  ATTESTATION_BLOCKED                  0      0      0       0  not selected
  Unauthorized                         0      0      0       0  not selected
  Forbidden                            0      0      0       0  not selected
  NotFound                             1      0      1       0  none passed
  ValidationError                      0      0      0       0  not selected
  RateLimited                          0      0      0       0  not selected
  (a filtered or sharded run does not enforce coverage)

slowest:
       12 ms  ip-blocked/b
       12 ms  not-found/a
wall time: 1.234 s
1 skipped
1 passed, 1 failed
"
    );
    assert_eq!(text, expected);
    assert!(human::render(&known_report(), Color::Always).contains("\x1b[31mFAIL\x1b[0m"));
}

#[test]
fn colour_only_on_a_terminal_without_no_color() {
    assert_eq!(Color::detect(true, None), Color::Always);
    assert_eq!(Color::detect(true, Some("")), Color::Always);
    assert_eq!(Color::detect(true, Some("1")), Color::Never);
    assert_eq!(Color::detect(false, None), Color::Never);
}

#[test]
fn junit_has_one_testcase_per_scenario() {
    let xml = junit::render(&known_report());
    assert_eq!(
        xml,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="conformance" tests="3" failures="1" errors="0" time="1.234">
  <testsuite name="network-policy" tests="2" failures="0" skipped="1" errors="0" time="0.024" timestamp="2026-11-29T18:00:00" hostname="ci-host">
    <testcase name="ip-blocked/b" classname="network-policy.IP_BLOCKED" time="0.012"/>
    <testcase name="ip-blocked/c" classname="network-policy.IP_BLOCKED" time="0.012">
      <skipped message="no IPv6 at the edge">fixtures/scenarios/x.toml:3</skipped>
    </testcase>
  </testsuite>
  <testsuite name="generic" tests="1" failures="1" skipped="0" errors="0" time="0.012" timestamp="2026-11-29T18:00:00" hostname="ci-host">
    <testcase name="not-found/a" classname="generic.NotFound" time="0.012">
      <failure message="status at status: expected 404 (NotFound), found 400" type="status">at fixtures/scenarios/x.toml:3
status at status: expected 404 (NotFound), found 400
  fix: Check the URL.
  docs: https://docs.platform.example/docs/errors#not-found
</failure>
    </testcase>
  </testsuite>
</testsuites>
"#
    );
}

#[test]
fn junit_counts_a_failed_setup_as_an_error() {
    let mut report = known_report();
    let failed = report
        .scenarios
        .iter_mut()
        .find(|s| s.id == "not-found/a")
        .unwrap();
    failed.findings[0].rule = "setup".into();
    failed.findings[0].at = "setup:create a user".into();
    let xml = junit::render(&report);
    assert!(
        xml.contains(r#"<testsuites name="conformance" tests="3" failures="0" errors="1""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testsuite name="generic" tests="1" failures="0" skipped="0" errors="1""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<error message="setup at setup:create a user: expected 404 (NotFound), found 400" type="setup">"#),
        "{xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");
}

#[test]
fn github_annotations_point_at_the_scenario_file() {
    assert_eq!(
        github::annotations(&known_report()),
        "::error file=fixtures/scenarios/x.toml,line=3,title=not-found/a (NotFound)::status at status%3A expected 404 (NotFound), found 400%0Afix: Check the URL.%0Adocs: https://docs.platform.example/docs/errors#not-found\n"
            .replace("status%3A", "status:")
    );
    let summary = github::summary(&known_report());
    assert!(summary.starts_with("## Conformance failed\n"), "{summary}");
    assert!(summary.contains("| `not-found/a` | [NotFound](https://docs.platform.example/docs/errors#not-found) | status at `status` | 404 (NotFound) | 400 |"), "{summary}");
}

#[test]
fn a_code_the_profile_skips_entirely_shows_why_and_is_not_uncovered() {
    let mut skipped = scenario(
        "signature-failed/a",
        "SIGNATURE_FAILED",
        "webhooks",
        Outcome::Skipped,
        vec![],
    );
    skipped.skip_reason = Some("no webhook receiver the staging can reach".into());
    let report = Report::new(
        "run1".into(),
        "http://127.0.0.1:1".into(),
        "test".into(),
        true,
        vec![skipped],
        vec![],
        false,
    );
    let row = report
        .coverage
        .iter()
        .find(|r| r.code == "SIGNATURE_FAILED")
        .unwrap();
    assert_eq!(
        row.skip_reason.as_deref(),
        Some("no webhook receiver the staging can reach")
    );
    assert!(
        !report
            .summary
            .uncovered
            .contains(&"SIGNATURE_FAILED".to_owned())
    );
    assert!(report.summary.uncovered.contains(&"NotFound".to_owned()));
    let text = human::render(&report, Color::Never);
    assert!(
        text.contains("SIGNATURE_FAILED                     1      0      0       1  skipped by the profile: no webhook receiver the staging can reach\n"),
        "{text}"
    );
}

/// A scenario compiled into the runner is located by its id and its place
/// in the runner's source, since the installed binary's users have no file;
/// one loaded from a directory keeps its file and line.
#[test]
fn a_built_in_scenario_is_located_by_its_id() {
    let mut report = known_report();
    let failed = report
        .scenarios
        .iter_mut()
        .find(|s| s.outcome == Outcome::Failed)
        .unwrap();
    failed.built_in = true;
    let text = human::render(&report, Color::Never);
    assert!(
        text.contains("\n        at not-found/a, built into the runner (fixtures/scenarios/x.toml:3 of its source) (platform)\n        what: d\n"),
        "{text}"
    );
    let json = serde_json::to_value(&report.scenarios).unwrap();
    assert_eq!(
        json.as_array()
            .unwrap()
            .iter()
            .filter(|s| s["built_in"] == true)
            .count(),
        1
    );
    assert!(
        conformance_runner::embedded_scenarios()
            .unwrap()
            .iter()
            .all(|s| s.source.built_in)
    );
}
