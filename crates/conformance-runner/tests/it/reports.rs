//! Reports: real JSON reports validate against the generated schema; the
//! human, JUnit and GitHub renderings of a known report are exact.

use conformance_runner::check::Finding;
use conformance_runner::report::human::{self, Color};
use conformance_runner::report::{Outcome, Report, ScenarioReport, github, junit};

use serde_json::json;

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

/// Sets the member at `pointer` (its parent must exist) to `value`.
fn set(document: &mut serde_json::Value, pointer: &str, value: serde_json::Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    document
        .pointer_mut(parent)
        .and_then(serde_json::Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {parent}"))
        .insert(key.to_owned(), value);
}

/// Every error of `document` against `schema`: where in the document, which
/// keyword of the schema, and the message's first 60 characters.
fn errors(
    schema: &serde_json::Value,
    document: &serde_json::Value,
) -> Vec<(String, String, String)> {
    let validator = jsonschema::draft202012::new(schema).expect("the schema compiles");
    validator
        .iter_errors(document)
        .map(|e| {
            (
                e.instance_path().as_str().to_owned(),
                e.schema_path().as_str().to_owned(),
                e.to_string().chars().take(60).collect(),
            )
        })
        .collect()
}

#[test]
fn the_derived_report_schema_rejects_unknown_members_and_bad_values_where_they_are() {
    let schema = conformance_runner::schema::report();
    let known: serde_json::Value = serde_json::from_str(&known_report().to_json()).unwrap();
    assert_eq!(errors(&schema, &known), []);
    // Scenarios are in id order: 0 is ip-blocked/b (passed), 2 not-found/a (failed).
    let cases = [
        (
            "/colour",
            json!("red"),
            [
                "",
                "/additionalProperties",
                "Additional properties are not allowed ('colour' was unexpect",
            ],
        ),
        (
            "/scenarios/2/findings/0/severity",
            json!("high"),
            [
                "/scenarios/2/findings/0",
                "/$defs/finding/additionalProperties",
                "Additional properties are not allowed ('severity' was unexpe",
            ],
        ),
        (
            "/scenarios/0/code",
            json!("NOT_A_CODE"),
            [
                "/scenarios/0/code",
                "/$defs/code/enum",
                "\"NOT_A_CODE\" is not one of \"NOT_PROVISIONED\", \"SSO_NOT_ALLOW",
            ],
        ),
        (
            "/scenarios/0/outcome",
            json!("flaky"),
            [
                "/scenarios/0/outcome",
                "/$defs/outcome/oneOf",
                "\"flaky\" is not valid under any of the schemas listed in the ",
            ],
        ),
        (
            "/summary/uncovered",
            json!(["NotFound", "Teapot"]),
            [
                "/summary/uncovered/1",
                "/$defs/code/enum",
                "\"Teapot\" is not one of \"NOT_PROVISIONED\", \"SSO_NOT_ALLOWED\" ",
            ],
        ),
        // An absent member is never null.
        (
            "/scenarios/1/skip_reason",
            json!(null),
            [
                "/scenarios/1/skip_reason",
                "/$defs/scenario/properties/skip_reason/type",
                "null is not of type \"string\"",
            ],
        ),
        // A failed scenario has a finding.
        (
            "/scenarios/2/findings",
            json!([]),
            [
                "/scenarios/2/findings",
                "/$defs/scenario/then/properties/findings/minItems",
                "[] has less than 1 item",
            ],
        ),
        (
            "/scenarios/0/line",
            json!(0),
            [
                "/scenarios/0/line",
                "/$defs/scenario/properties/line/minimum",
                "0 is less than the minimum of 1",
            ],
        ),
        (
            "/schema_version",
            json!(2),
            [
                "/schema_version",
                "/properties/schema_version/const",
                "1 was expected",
            ],
        ),
    ];
    check_cases(&schema, &known, cases);
}

#[test]
fn the_derived_waivers_and_diff_schemas_reject_what_their_types_refuse() {
    let schema = conformance_runner::schema::waivers_schema();
    let waivers = json!({ "waiver": [{
        "scenario": "not-found/*", "reason": "the edge rewrites 404s",
        "owner": "team-edge", "expires": "2026-12-31"
    }]});
    let cases = [
        (
            "/waiver/0/scenario",
            json!("Not Found"),
            [
                "/waiver/0/scenario",
                "/$defs/waiver/properties/scenario/pattern",
                "\"Not Found\" does not match \"^[a-z0-9_/-]+\\*?$\"",
            ],
        ),
        (
            "/waiver/0/rule",
            json!("flaky"),
            [
                "/waiver/0/rule",
                "/$defs/rule/enum",
                "\"flaky\" is not one of \"status\", \"status-code-mismatch\" or 16",
            ],
        ),
        (
            "/waiver/0/owner",
            json!("  "),
            [
                "/waiver/0/owner",
                "/$defs/waiver/properties/owner/pattern",
                "\"  \" does not match \"\\S\"",
            ],
        ),
        (
            "/waiver/0/team",
            json!("edge"),
            [
                "/waiver/0",
                "/$defs/waiver/additionalProperties",
                "Additional properties are not allowed ('team' was unexpected",
            ],
        ),
    ];
    check_cases(&schema, &waivers, cases);
    let mut no_matcher = waivers.clone();
    no_matcher["waiver"][0]
        .as_object_mut()
        .unwrap()
        .remove("scenario");
    let [(at, keyword, _)] = &errors(&schema, &no_matcher)[..] else {
        panic!("one error expected for a waiver without scenario, code or rule");
    };
    assert_eq!(
        (at.as_str(), keyword.as_str()),
        ("/waiver/0", "/$defs/waiver/anyOf")
    );

    let schema = conformance_runner::cli::diff::schema();
    let diff = json!({
        "left": "http://127.0.0.1:1", "right": "http://127.0.0.1:2",
        "summary": { "compared": 1, "same": 0, "differ": 1, "agree": false },
        "codes": [{ "code": "NotFound", "compared": 1, "same": 0, "differ": 1 }],
        "differences": [{ "id": "not-found/a", "code": "NotFound", "changes": [{
            "kind": "changed", "title": "status changed", "at": "status",
            "recorded": 404, "observed": 400, "diff": "- 404\n+ 400"
        }]}],
        "interrupted": false
    });
    let cases = [
        (
            "/differences/0/changes/0/kind",
            json!("moved"),
            [
                "/differences/0/changes/0/kind",
                "/$defs/drift_kind/oneOf",
                "\"moved\" is not valid under any of the schemas listed in the ",
            ],
        ),
        (
            "/codes/0/code",
            json!("Teapot"),
            [
                "/codes/0/code",
                "/$defs/code/enum",
                "\"Teapot\" is not one of \"NOT_PROVISIONED\", \"SSO_NOT_ALLOWED\" ",
            ],
        ),
        (
            "/summary/verdict",
            json!("agree"),
            [
                "/summary",
                "/$defs/diff_summary/additionalProperties",
                "Additional properties are not allowed ('verdict' was unexpec",
            ],
        ),
    ];
    check_cases(&schema, &diff, cases);
}

/// Each case sets one member of `valid` and expects exactly one error.
fn check_cases<const N: usize>(
    schema: &serde_json::Value,
    valid: &serde_json::Value,
    cases: [(&str, serde_json::Value, [&str; 3]); N],
) {
    assert_eq!(errors(schema, valid), []);
    for (pointer, value, [at, keyword, message]) in cases {
        let mut document = valid.clone();
        set(&mut document, pointer, value);
        assert_eq!(
            errors(schema, &document),
            [(at.to_owned(), keyword.to_owned(), message.to_owned())],
            "{pointer}"
        );
    }
}
