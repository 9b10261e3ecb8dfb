//! The data-driven test: every file in `fixtures/responses/conforming` must
//! pass the contract, every file in `fixtures/responses/violating` must
//! produce exactly the violations it lists.

use std::path::{Path, PathBuf};

use catalog::{Code, Envelope};
use http::{HeaderMap, HeaderName, HeaderValue};
use response_schema::{CodeAt, Expect, Location, Response, Rule, check};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    #[expect(dead_code, reason = "documentation for the reader of the fixture")]
    description: String,
    expect: ExpectSpec,
    response: ResponseSpec,
    #[serde(default)]
    violations: Vec<ExpectedViolation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectSpec {
    code: Option<String>,
    envelope: Option<String>,
    /// `/pointer`, `header:NAME` or `none` (default: the envelope's place).
    code_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseSpec {
    status: u16,
    #[serde(default)]
    headers: serde_json::Map<String, Value>,
    body: Option<Value>,
    body_text: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct ExpectedViolation {
    rule: Rule,
    at: Location,
    expected: String,
    actual: String,
}

fn cases(verdict: &str) -> Vec<(PathBuf, Case)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/responses")
        .join(verdict);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let case =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, case)
        })
        .collect()
}

fn run(case: &Case) -> Vec<ExpectedViolation> {
    let mut headers = HeaderMap::new();
    for (name, value) in &case.response.headers {
        let values: Vec<&str> = match value {
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            other => vec![other.as_str().expect("header values are strings")],
        };
        for v in values {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
    }
    let body = match (&case.response.body, &case.response.body_text) {
        (Some(json), None) => serde_json::to_vec(json).unwrap(),
        (None, Some(text)) => text.clone().into_bytes(),
        (None, None) => Vec::new(),
        (Some(_), Some(_)) => panic!("a fixture has `body` or `body_text`, not both"),
    };
    let expect = Expect {
        code: case
            .expect
            .code
            .as_deref()
            .map(|c| Code::from_name(c).unwrap()),
        envelope: case.expect.envelope.as_deref().map(|e| match e {
            "problem" => Envelope::Problem,
            "scim" => Envelope::Scim,
            other => panic!("unknown envelope {other}"),
        }),
        docs_base: None,
        code_at: case
            .expect
            .code_at
            .as_deref()
            .map(|c| CodeAt::parse(c).expect("a valid code_at")),
    };
    let response = Response {
        status: case.response.status,
        headers: &headers,
        body: &body,
    };
    check(&response, &expect)
        .into_iter()
        .map(|v| ExpectedViolation {
            rule: v.rule,
            at: v.at,
            expected: v.expected,
            actual: v.actual,
        })
        .collect()
}

#[test]
fn conforming_responses_pass() {
    let cases = cases("conforming");
    let mut covered: Vec<String> = Vec::new();
    for (path, case) in &cases {
        assert!(
            case.violations.is_empty(),
            "{}: a conforming case lists no violations",
            path.display()
        );
        let found = run(case);
        assert!(found.is_empty(), "{}: {found:#?}", path.display());
        covered.extend(case.expect.code.clone());
    }
    for code in Code::ALL {
        assert!(
            covered.iter().any(|c| c == code.name()),
            "no conforming example for {code}"
        );
    }
}

#[test]
fn violating_responses_produce_exactly_their_violations() {
    let cases = cases("violating");
    assert!(cases.len() >= 10);
    let mut failures = Vec::new();
    for (path, case) in &cases {
        assert!(
            !case.violations.is_empty(),
            "{}: a violating case lists its violations",
            path.display()
        );
        let found = run(case);
        if found != case.violations {
            failures.push(format!(
                "{}:\n  expected {:#?}\n  found {:#?}",
                path.display(),
                case.violations,
                found
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
