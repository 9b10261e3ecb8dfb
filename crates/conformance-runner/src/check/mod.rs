//! Judging one response: the catalog contract plus the scenario's expectations.
//!
//! The body and header contract is `response_schema::check`, reused as is:
//! exact status, exact code (an undocumented code is reported by name),
//! media type, the envelope's schema, the `type` link's anchor, and the
//! `WWW-Authenticate` and `Retry-After` headers. On top of it come the
//! scenario's own expectations (headers, body members). Every finding is
//! data with the catalog's end-user fix, the documented row of the code, the
//! rule it rests on (`basis`: a standard with its section, or `platform`)
//! and what the server must do (`hint`). A scenario expectation that a
//! contract rule already reported at the same place is not repeated.

use catalog::{Challenge, Code, Envelope};
use http::HeaderMap;
use response_schema::{Expect, Rule, Violation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::profile::Profile;
use crate::model::scenario::{HeaderMatch, Scenario};
use crate::model::template::Vars;

/// Compiles the body schemas on another thread when this process may use
/// more than one CPU, so their millisecond overlaps loading the scenarios
/// and the profile. Detached: it ends once they are compiled, and a check
/// that comes sooner waits for them. On one CPU they are compiled at the
/// first check, as a thread would only take turns with the loader.
pub(crate) fn prepare_in_background() {
    if std::thread::available_parallelism().is_ok_and(|n| n.get() > 1) {
        // A thread that cannot be spawned leaves them to the first check.
        let _ = std::thread::Builder::new()
            .name("body-schemas".into())
            .spawn(response_schema::prepare);
    }
}

/// Rule name of a failed scenario header expectation.
pub(crate) const RULE_HEADER: &str = "header";
/// Rule name of a failed scenario body expectation.
pub(crate) const RULE_BODY: &str = "body";
/// Rule name of a setup step that did not succeed.
pub(crate) const RULE_SETUP: &str = "setup";
/// Rule name of an asserted request that got no response.
pub(crate) const RULE_TRANSPORT: &str = "transport";
/// Rule name of the request-id contract: every error response carries the
/// profile's request id header once, and a problem body's `request_id`
/// equals it.
pub(crate) const RULE_REQUEST_ID: &str = "request-id";

/// One way a response failed its scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "finding", deny_unknown_fields)]
pub struct Finding {
    /// The rule the response broke: one of the error-body contract
    /// (`status`, `code`, `media-type`, `schema`, ...) or of the runner
    /// (`header`, `body`, `setup`, `transport`, `request-id`); what a
    /// waiver's `rule` names.
    pub rule: String,
    /// Where: `status`, `header:<name>`, `body:<json-pointer>`, `setup:<step>`, `request`.
    pub at: String,
    /// What the contract or scenario wants.
    pub expected: String,
    /// What the response has.
    pub actual: String,
    /// How to fix it, from the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The documented row: the reference page at the code's anchor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
    /// What the rule rests on: a standard and its section (`RFC 7644
    /// §3.12`), or `platform` (the platform's catalog and conventions).
    #[serde(default = "platform")]
    pub basis: String,
    /// What the server must do, for its developers (the `fix` is the
    /// catalog's advice to end users).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The basis of a rule that no standard states.
pub(crate) const PLATFORM: &str = "platform";

fn platform() -> String {
    PLATFORM.to_owned()
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at {}: expected {}, found {}",
            self.rule, self.at, self.expected, self.actual
        )
    }
}

impl Finding {
    /// A finding about `code`'s documented row.
    pub(crate) fn new(
        rule: &str,
        at: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
        code: Code,
        profile: &Profile,
    ) -> Finding {
        Finding {
            rule: rule.to_owned(),
            at: at.into(),
            expected: expected.into(),
            actual: actual.into(),
            fix: Some(code.info().fix.to_owned()),
            docs: Some(code.type_url(&profile.report_docs_base)),
            basis: platform(),
            hint: None,
        }
    }

    /// The same finding with its basis and server-side hint.
    pub(crate) fn with_basis(
        mut self,
        basis: impl Into<String>,
        hint: impl Into<String>,
    ) -> Finding {
        self.basis = basis.into();
        self.hint = Some(hint.into());
        self
    }

    fn from_violation(v: Violation, scenario: &Scenario, profile: &Profile) -> Finding {
        let code = v
            .anchor
            .as_deref()
            .and_then(Code::from_anchor)
            .unwrap_or(scenario.code);
        let (basis, hint) = if v.rule == Rule::WwwAuthenticate && v.actual == "absent" {
            // No challenge at all breaks HTTP itself, whatever the scheme.
            let basis = "RFC 9110 §11.6.1";
            (
                basis.to_owned(),
                format!("send a WWW-Authenticate challenge with every 401: {basis}"),
            )
        } else {
            basis_of(v.rule, scenario)
        };
        Finding::new(
            v.rule.as_str(),
            v.at.to_string(),
            v.expected,
            v.actual,
            code,
            profile,
        )
        .with_basis(basis, hint)
    }
}

/// What `scenario` as a whole asks of the server: `answer 400 with scimType
/// invalidFilter`, and the rule it rests on.
pub(crate) fn scenario_hint(scenario: &Scenario) -> (String, String) {
    let code = scenario.code;
    let basis = scenario.standard.clone().unwrap_or_else(platform);
    let what = match (scenario.envelope(), response_schema::ScimType::of(code)) {
        (Envelope::Scim, Some(t)) => format!("answer {} with scimType {t}", code.status()),
        (Envelope::Scim, None) => format!("answer {} in the SCIM error envelope", code.status()),
        (Envelope::Problem, _) => format!(
            "answer {} application/problem+json with code {}",
            code.status(),
            code.name()
        ),
    };
    (basis, what)
}

/// The basis of a contract rule for this scenario, and what the server must do.
fn basis_of(rule: Rule, scenario: &Scenario) -> (String, String) {
    let envelope = scenario.envelope();
    let scim = envelope == Envelope::Scim;
    let (basis, what): (String, String) = match rule {
        Rule::Status | Rule::StatusCodeMismatch => return with_rule(scenario_hint(scenario)),
        Rule::MediaType if scim => ("RFC 7644 §3.1".into(), "send Content-Type: application/scim+json".into()),
        Rule::MediaType => ("RFC 9457 §3".into(), "send Content-Type: application/problem+json".into()),
        Rule::NotJson | Rule::Schema | Rule::StatusMember if scim => (
            "RFC 7644 §3.12".into(),
            "send the SCIM error body: schemas [urn:ietf:params:scim:api:messages:2.0:Error], status as a string, scimType, detail".into(),
        ),
        Rule::NotJson | Rule::StatusMember => (
            "RFC 9457 §3".into(),
            "send a problem details object whose `status` equals the HTTP status".into(),
        ),
        Rule::ScimType => {
            let (_, what) = scenario_hint(scenario);
            let basis = scenario
                .standard
                .clone()
                .unwrap_or_else(|| "RFC 7644 §3.12".into());
            (basis, what)
        }
        Rule::Schema | Rule::TypeLink | Rule::Code | Rule::UndocumentedCode => {
            let (_, what) = scenario_hint(scenario);
            (platform(), what)
        }
        Rule::WwwAuthenticate => match scenario.code.info().challenge {
            Some(Challenge::Error("insufficient_user_authentication")) => (
                "RFC 9470 §3".into(),
                "send WWW-Authenticate: Bearer error=\"insufficient_user_authentication\"".into(),
            ),
            _ => (
                "RFC 6750 §3".into(),
                "send a WWW-Authenticate: Bearer challenge with every 401".into(),
            ),
        },
        Rule::RetryAfter => (
            "RFC 9110 §10.2.3".into(),
            "send Retry-After in delay-seconds".into(),
        ),
        Rule::DuplicateMember => (
            "RFC 8259 §4".into(),
            "send each member name once in an object".into(),
        ),
    };
    let hint = format!("{what}: {}", rule_name(&basis));
    (basis, hint)
}

fn with_rule((basis, what): (String, String)) -> (String, String) {
    let hint = format!("{what}: {}", rule_name(&basis));
    (basis, hint)
}

fn rule_name(basis: &str) -> &str {
    if basis == PLATFORM {
        "the platform's catalog"
    } else {
        basis
    }
}

/// A response as the runner saw it.
#[derive(Clone, Debug)]
pub(crate) struct Observed {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers, as received (repeated ones kept).
    pub headers: HeaderMap,
    /// The body's bytes, undecoded; at most the profile's
    /// `[limits] max_body_bytes` (a larger answer is an error, not cut).
    pub body: Vec<u8>,
}

/// Every finding for `observed` as the answer to `scenario`'s request.
pub(crate) fn check(
    scenario: &Scenario,
    observed: &Observed,
    profile: &Profile,
    vars: &Vars<'_>,
) -> Vec<Finding> {
    let code = scenario.code;
    let envelope = scenario.envelope();
    let mut code_at = profile.code_at(envelope).clone();
    if !profile.body_contract
        && matches!(&code_at, response_schema::CodeAt::Body(p) if p == "/code")
    {
        // A non-standard envelope without a named place for the code.
        code_at = response_schema::CodeAt::Nowhere;
    }
    let expect = Expect {
        code: Some(code),
        envelope: scenario.envelope,
        docs_base: profile.docs_base.clone(),
        code_at: Some(code_at.clone()),
    };
    let response = response_schema::Response {
        status: observed.status,
        headers: &observed.headers,
        body: &observed.body,
    };
    let mut findings: Vec<Finding> = response_schema::check(&response, &expect)
        .into_iter()
        .filter(|v| keep(v, profile, &code_at))
        .map(|v| Finding::from_violation(v, scenario, profile))
        .collect();
    // An unexpected success is one finding; the scenario's expectations of
    // an error body would only repeat it.
    if (200..300).contains(&observed.status) {
        return findings;
    }

    let body: Option<Value> = serde_json::from_slice(&observed.body).ok();
    findings.extend(request_id(scenario, observed, body.as_ref(), profile));
    let (basis, what) = scenario_hint(scenario);
    let hint = format!("{what}: {}", rule_name(&basis));
    let own = expected_headers(scenario, observed, profile, vars)
        .into_iter()
        .chain(expected_body(scenario, body.as_ref(), profile, vars))
        .map(|f| f.with_basis(basis.clone(), hint.clone()));
    for finding in own {
        // `scimType` is both a contract rule and, often, a scenario
        // expectation: one finding where one is true.
        if !findings.iter().any(|f| f.at == finding.at) {
            findings.push(finding);
        }
    }
    findings
}

/// The request-id contract (docs/api.md, "Every response carries
/// `x-request-id`"): the header is there once and not empty, and a problem
/// body's `request_id` is the same id. For a SCIM error the header is the
/// request id's only place.
fn request_id(
    scenario: &Scenario,
    observed: &Observed,
    body: Option<&Value>,
    profile: &Profile,
) -> Vec<Finding> {
    let Some(name) = profile.request_id_header.as_deref() else {
        return Vec::new();
    };
    let at = format!("header:{name}");
    let hint = format!(
        "send `{name}` once on every response, with the same value as a problem body's `request_id`: {}",
        rule_name(PLATFORM)
    );
    let finding = |at: &str, expected: String, actual: String| {
        Finding::new(
            RULE_REQUEST_ID,
            at,
            expected,
            actual,
            scenario.code,
            profile,
        )
        .with_basis(PLATFORM, hint.clone())
    };
    let values = header_values(observed, name);
    let header = match values.as_slice() {
        [one] if !one.trim().is_empty() => one,
        [] => {
            let expected = "a request id (every error response carries one)".to_owned();
            return vec![finding(&at, expected, "absent".into())];
        }
        [_] => return vec![finding(&at, "a request id".into(), "an empty value".into())],
        many => {
            let actual = format!("{} values: {}", many.len(), many.join(", "));
            return vec![finding(&at, "one request id".into(), actual)];
        }
    };
    if scenario.envelope() != Envelope::Problem || !profile.body_contract {
        return Vec::new();
    }
    // A missing or non-string `request_id` is the envelope schema's finding.
    match body
        .and_then(|b| b.pointer("/request_id"))
        .and_then(Value::as_str)
    {
        Some(id) if id != header => vec![finding(
            "body:/request_id",
            format!("{header:?} (the `{name}` header)"),
            format!("{id:?}"),
        )],
        _ => Vec::new(),
    }
}

/// Whether a contract violation applies under this profile.
fn keep(v: &Violation, profile: &Profile, code_at: &response_schema::CodeAt) -> bool {
    if !profile.body_contract {
        let at_code = matches!(code_at, response_schema::CodeAt::Body(p) if v.at.to_string() == format!("body:{p}"));
        return !matches!(v.rule, Rule::Schema | Rule::StatusMember | Rule::TypeLink) || at_code;
    }
    true
}

/// Every value of header `name`, as text.
fn header_values(observed: &Observed, name: impl http::header::AsHeaderName) -> Vec<String> {
    observed
        .headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

fn expected_headers(
    scenario: &Scenario,
    observed: &Observed,
    profile: &Profile,
    vars: &Vars<'_>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, matcher) in &scenario.expect.headers {
        let values = header_values(observed, name);
        let actual = if values.is_empty() {
            "absent".to_owned()
        } else {
            values.join(", ")
        };
        let (ok, expected) = match matcher {
            HeaderMatch::Present => (!values.is_empty(), "present".to_owned()),
            HeaderMatch::Absent => (values.is_empty(), "absent".to_owned()),
            HeaderMatch::Equals(t) => match t.render(vars) {
                Ok(want) => (values.contains(&want), format!("{want:?}")),
                Err(e) => (false, format!("a value ({e})")),
            },
            HeaderMatch::Contains(t) => match t.render(vars) {
                Ok(text) => (
                    values.iter().any(|v| v.contains(text.as_str())),
                    format!("a value containing {text:?}"),
                ),
                Err(e) => (false, format!("a value ({e})")),
            },
            HeaderMatch::Excludes(t) => match t.render(vars) {
                Ok(text) => (
                    !values.iter().any(|v| v.contains(text.as_str())),
                    format!("no value containing {text:?}"),
                ),
                Err(e) => (false, format!("no such value ({e})")),
            },
            HeaderMatch::Matches(regex) => (
                values.iter().any(|v| regex.0.is_match(v)),
                regex.to_string(),
            ),
        };
        if !ok {
            out.push(Finding::new(
                RULE_HEADER,
                format!("header:{name}"),
                expected,
                actual,
                scenario.code,
                profile,
            ));
        }
    }
    out
}

fn expected_body(
    scenario: &Scenario,
    body: Option<&Value>,
    profile: &Profile,
    vars: &Vars<'_>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let describe = |v: Option<&Value>| v.map_or("absent".to_owned(), Value::to_string);
    for (pointer, want) in &scenario.expect.body {
        let want = match want.render(vars) {
            Ok(want) => want,
            Err(e) => {
                out.push(Finding::new(
                    RULE_BODY,
                    format!("body:{pointer}"),
                    format!("a value ({e})"),
                    describe(body.and_then(|b| b.pointer(pointer))),
                    scenario.code,
                    profile,
                ));
                continue;
            }
        };
        let found = body.and_then(|b| b.pointer(pointer));
        if found != Some(&want) {
            out.push(Finding::new(
                RULE_BODY,
                format!("body:{pointer}"),
                want.to_string(),
                describe(found),
                scenario.code,
                profile,
            ));
        }
    }
    for (pointer, regex) in &scenario.expect.body_matches {
        let found = body.and_then(|b| b.pointer(pointer));
        let ok = found
            .and_then(Value::as_str)
            .is_some_and(|s| regex.0.is_match(s));
        if !ok {
            out.push(Finding::new(
                RULE_BODY,
                format!("body:{pointer}"),
                regex.to_string(),
                describe(found),
                scenario.code,
                profile,
            ));
        }
    }
    out
}
