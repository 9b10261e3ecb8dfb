//! Proving the checker: the mini suite against deliberately wrong servers.
//!
//! Each fault breaks one scenario; the test asserts the exact findings of
//! exactly that scenario, and that every other scenario passes.

use std::collections::BTreeMap;

use conformance_runner::report::{Outcome, Report};
use response_schema::CodeAt;

use crate::servers::{Fault, app, serve};
use crate::{mini_profile, mini_suite, run};

/// (rule, at, expected, actual) of every finding, by scenario id; passing scenarios are absent.
fn findings(report: &Report) -> BTreeMap<String, Vec<[String; 4]>> {
    report
        .scenarios
        .iter()
        .filter(|s| s.outcome != Outcome::Passed)
        .map(|s| {
            let f = s
                .findings
                .iter()
                .map(|f| {
                    [
                        f.rule.clone(),
                        f.at.clone(),
                        f.expected.clone(),
                        f.actual.clone(),
                    ]
                })
                .collect();
            (s.id.clone(), f)
        })
        .collect()
}

async fn run_with(fault: Fault) -> Report {
    let addr = serve(app(fault)).await;
    run(mini_suite(), mini_profile(), format!("http://{addr}")).await
}

fn expect(id: &str, findings: &[[&str; 4]]) -> BTreeMap<String, Vec<[String; 4]>> {
    BTreeMap::from([(
        id.to_owned(),
        findings.iter().map(|f| f.map(str::to_owned)).collect(),
    )])
}

#[tokio::test]
async fn a_correct_server_passes_every_scenario() {
    let report = run_with(Fault::None).await;
    assert_eq!(findings(&report), BTreeMap::new());
    assert_eq!(report.summary.passed, 6);
    // The mini suite covers 6 of 20 codes: an unfiltered run is not ok.
    assert!(!report.passed());
    assert_eq!(report.summary.uncovered.len(), 14);
    assert_eq!(report.closing_line(), "6 passed, 0 failed");
}

#[tokio::test]
async fn a_wrong_status() {
    let report = run_with(Fault::WrongStatus).await;
    assert_eq!(
        findings(&report),
        expect(
            "not-found/missing-user",
            &[["status", "status", "404 (NotFound)", "400"]]
        )
    );
    let finding = &report
        .scenarios
        .iter()
        .find(|s| s.id == "not-found/missing-user")
        .unwrap()
        .findings[0];
    assert_eq!(
        finding.fix.as_deref(),
        Some(catalog::Code::NotFound.info().fix)
    );
    assert_eq!(
        finding.docs.as_deref(),
        Some("https://docs.platform.example/docs/errors#not-found")
    );
}

#[tokio::test]
async fn a_renamed_code() {
    let report = run_with(Fault::RenamedCode).await;
    assert_eq!(
        findings(&report),
        expect(
            "step-up-required/delete-user",
            &[["code", "body:/code", "STEP_UP_REQUIRED", "MFA_REQUIRED"]]
        )
    );
}

#[tokio::test]
async fn a_dropped_retry_after() {
    let report = run_with(Fault::DroppedRetryAfter).await;
    assert_eq!(
        findings(&report),
        expect(
            "rate-limited/quota",
            &[[
                "retry-after",
                "header:retry-after",
                "delay-seconds",
                "absent"
            ]]
        )
    );
}

#[tokio::test]
async fn an_invalid_body() {
    let report = run_with(Fault::InvalidBody).await;
    assert_eq!(
        findings(&report),
        expect(
            "validation-error/missing-email",
            &[
                ["schema", "body:/errors", "member `errors`", "absent"],
                ["body", "body:/errors/0/pointer", "\"/email\"", "absent"],
            ]
        )
    );
}

#[tokio::test]
async fn an_undocumented_code_is_reported_by_name() {
    let report = run_with(Fault::UndocumentedCode).await;
    assert_eq!(
        findings(&report),
        expect(
            "unauthorized/no-credentials",
            &[[
                "undocumented-code",
                "body:/code",
                "a code documented in the catalog",
                "TOKEN_MISSING"
            ]]
        )
    );
}

#[tokio::test]
async fn a_changed_body_member() {
    let report = run_with(Fault::ChangedBodyText).await;
    assert_eq!(
        findings(&report),
        expect(
            "step-up-required/delete-user",
            &[[
                "body",
                "body:/purpose",
                "\"delete_user\"",
                "\"remove_user\""
            ]]
        )
    );
}

#[tokio::test]
async fn a_wrong_media_type() {
    let report = run_with(Fault::WrongMediaType).await;
    assert_eq!(
        findings(&report),
        expect(
            "invalid-filter/missing-operator",
            &[[
                "media-type",
                "header:content-type",
                "application/scim+json",
                "application/json"
            ]]
        )
    );
}

#[tokio::test]
async fn a_code_at_another_pointer_is_checked_there() {
    // A target whose envelope nests the code: with `code_pointer` the exact
    // code is read there, and `body_contract = false` drops the envelope schema.
    let addr = serve(app(Fault::RenamedCode)).await;
    let mut profile = mini_profile();
    profile.problem_code = CodeAt::Body("/code".into());
    let strict = run(mini_suite(), profile.clone(), format!("http://{addr}")).await;
    assert_eq!(findings(&strict).len(), 1);

    profile.problem_code = CodeAt::Body("/detail".into());
    profile.body_contract = false;
    let relaxed = run(mini_suite(), profile, format!("http://{addr}")).await;
    let step_up = &findings(&relaxed)["step-up-required/delete-user"];
    assert_eq!(
        step_up,
        &vec![[
            "undocumented-code".to_owned(),
            "body:/detail".to_owned(),
            "a code documented in the catalog".to_owned(),
            "Step-up required.".to_owned()
        ]]
    );
}
