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
async fn a_scim_error_without_a_request_id() {
    let report = run_with(Fault::NoRequestId).await;
    assert_eq!(
        findings(&report),
        expect(
            "invalid-filter/missing-operator",
            &[[
                "request-id",
                "header:x-request-id",
                "a request id (every error response carries one)",
                "absent"
            ]]
        )
    );
    let finding = &report
        .scenarios
        .iter()
        .find(|s| s.outcome == Outcome::Failed)
        .unwrap()
        .findings[0];
    assert_eq!(finding.basis, "platform");
    assert_eq!(
        finding.hint.as_deref(),
        Some(
            "send `x-request-id` once on every response, with the same value as a problem body's `request_id`: the platform's catalog"
        )
    );
    assert_eq!(
        finding.docs.as_deref(),
        Some("https://docs.platform.example/docs/errors#invalid-filter")
    );
}

#[tokio::test]
async fn a_body_request_id_other_than_the_header() {
    let report = run_with(Fault::OtherRequestId).await;
    assert_eq!(
        findings(&report),
        expect(
            "unauthorized/no-credentials",
            &[[
                "request-id",
                "body:/request_id",
                "\"req_test\" (the `x-request-id` header)",
                "\"req_other\""
            ]]
        )
    );
}

#[tokio::test]
async fn a_profile_without_a_request_id_header_checks_none() {
    let addr = serve(app(Fault::NoRequestId)).await;
    let mut profile = mini_profile();
    profile.request_id_header = None;
    let report = run(mini_suite(), profile, format!("http://{addr}")).await;
    assert_eq!(findings(&report), BTreeMap::new());
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

#[tokio::test]
async fn a_third_party_server_gets_one_finding_per_fault_with_its_rfc_section() {
    use axum::extract::Query;
    let app = axum::Router::new().route(
        "/v2/Users",
        axum::routing::get(|Query(q): Query<BTreeMap<String, String>>| async move {
            let scim = [("content-type", "application/scim+json")];
            let error = |scim_type: &str| {
                format!(
                    r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"{scim_type}","detail":"bad filter"}}"#
                )
            };
            match q.get("filter").map(String::as_str) {
                Some("wrong") => (http::StatusCode::BAD_REQUEST, scim, error("invalidValue")),
                Some("right") => (http::StatusCode::BAD_REQUEST, scim, error("invalidFilter")),
                _ => (
                    http::StatusCode::OK,
                    scim,
                    r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}"#.to_owned(),
                ),
            }
        }),
    );
    let addr = serve(app).await;
    let dir = crate::fixture("standard");
    let profile = conformance_runner::profile::Profile::load(&dir.join("profile.toml")).unwrap();
    let scenarios = conformance_runner::scenario::load_dir(&dir.join("scenarios"))
        .unwrap_or_else(|e| panic!("{e}"));
    let report = run(scenarios, profile, format!("http://{addr}")).await;

    let ids: Vec<&str> = report.scenarios.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "invalid-filter/answered-200",
            "invalid-filter/right",
            "invalid-filter/wrong-scim-type"
        ],
        "the platform-only scenario is not selected"
    );
    let shown = |id: &str| -> Vec<[String; 6]> {
        report
            .scenarios
            .iter()
            .find(|s| s.id == id)
            .unwrap()
            .findings
            .iter()
            .map(|f| {
                [
                    f.rule.clone(),
                    f.at.clone(),
                    f.expected.clone(),
                    f.actual.clone(),
                    f.basis.clone(),
                    f.hint.clone().unwrap_or_default(),
                ]
            })
            .collect()
    };
    // One finding for the wrong scimType: the contract's rule, not repeated
    // by the scenario's own `/scimType` expectation.
    assert_eq!(
        shown("invalid-filter/wrong-scim-type"),
        [[
            "scim-type".to_owned(),
            "body:/scimType".to_owned(),
            "\"invalidFilter\"".to_owned(),
            "\"invalidValue\" (a string)".to_owned(),
            "RFC 7644 §3.4.2.2".to_owned(),
            "answer 400 with scimType invalidFilter: RFC 7644 §3.4.2.2".to_owned(),
        ]]
    );
    // One finding for an unexpected 2xx, with the status and a body excerpt.
    assert_eq!(
        shown("invalid-filter/answered-200"),
        [[
            "status".to_owned(),
            "status".to_owned(),
            "400 (INVALID_FILTER)".to_owned(),
            "200 (body: \"{\\\"schemas\\\":[\\\"urn:ietf:params:scim:api:messages:2.0:ListResponse\\\"],\\\"totalResults\\\"…\")".to_owned(),
            "RFC 7644 §3.4.2.2".to_owned(),
            "answer 400 with scimType invalidFilter: RFC 7644 §3.4.2.2".to_owned(),
        ]]
    );
    // Right by the RFC with no x-error-code: passes under `scim_code = "none"`.
    assert!(shown("invalid-filter/right").is_empty());
    let basis: Vec<&str> = report.scenarios.iter().map(|s| s.basis.as_str()).collect();
    assert_eq!(basis, ["RFC 7644 §3.4.2.2"; 3]);
}
