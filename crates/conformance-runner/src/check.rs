//! Judging one response: the catalog contract plus the scenario's expectations.
//!
//! The body and header contract is `response_schema::check`, reused as is:
//! exact status, exact code (an undocumented code is reported by name),
//! media type, the envelope's schema, the `type` link's anchor, and the
//! `WWW-Authenticate` and `Retry-After` headers. On top of it come the
//! scenario's own expectations (headers, body members). Every finding is
//! data with the fix hint and the documented row of the code.

use catalog::Code;
use http::HeaderMap;
use response_schema::{Expect, Location, Rule, Violation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::profile::Profile;
use crate::scenario::{HeaderMatch, Scenario};
use crate::template::{RenderError, Template, Vars};

/// Rule name of a failed scenario header expectation.
pub const RULE_HEADER: &str = "header";
/// Rule name of a failed scenario body expectation.
pub const RULE_BODY: &str = "body";
/// Rule name of a setup step that did not succeed.
pub const RULE_SETUP: &str = "setup";
/// Rule name of an asserted request that got no response.
pub const RULE_TRANSPORT: &str = "transport";

/// One way a response failed its scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule: a `response_schema::Rule` name, or `header`, `body`,
    /// `setup`, `transport`.
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
    pub fn new(
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
        }
    }

    fn from_violation(v: Violation, fallback: Code, profile: &Profile) -> Finding {
        let code = v
            .anchor
            .as_deref()
            .and_then(Code::from_anchor)
            .unwrap_or(fallback);
        Finding::new(
            v.rule.as_str(),
            v.at.to_string(),
            v.expected,
            v.actual,
            code,
            profile,
        )
    }
}

/// A response as the runner saw it.
#[derive(Clone, Debug)]
pub struct Observed {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Vec<u8>,
}

/// Every finding for `observed` as the answer to `scenario`'s request.
pub fn check(
    scenario: &Scenario,
    observed: &Observed,
    profile: &Profile,
    vars: &Vars<'_>,
) -> Vec<Finding> {
    let code = scenario.code;
    let expect = Expect {
        code: Some(code),
        envelope: scenario.envelope,
        docs_base: profile.docs_base.clone(),
    };
    let response = response_schema::Response {
        status: observed.status,
        headers: &observed.headers,
        body: &observed.body,
    };
    let custom_pointer = profile.code_pointer != "/code";
    let mut findings: Vec<Finding> = response_schema::check(&response, &expect)
        .into_iter()
        .filter(|v| keep(v, profile, custom_pointer))
        .map(|v| Finding::from_violation(v, code, profile))
        .collect();

    let body: Option<Value> = serde_json::from_slice(&observed.body).ok();
    if custom_pointer && let Some(body) = &body {
        findings.extend(code_at_pointer(body, code, profile));
    }
    findings.extend(expected_headers(scenario, observed, profile, vars));
    findings.extend(expected_body(scenario, body.as_ref(), profile, vars));
    findings
}

/// Whether a contract violation applies under this profile.
fn keep(v: &Violation, profile: &Profile, custom_pointer: bool) -> bool {
    let at_code = v.at == Location::Body("/code".into());
    if custom_pointer && at_code {
        // The code is elsewhere in this target's body; checked separately.
        return false;
    }
    if !profile.body_contract {
        return !matches!(v.rule, Rule::Schema | Rule::StatusMember | Rule::TypeLink) && !at_code;
    }
    true
}

/// The exact-code check at the profile's `code_pointer`.
fn code_at_pointer(body: &Value, code: Code, profile: &Profile) -> Option<Finding> {
    let at = format!("body:{}", profile.code_pointer);
    let found = body.pointer(&profile.code_pointer);
    let (rule, expected, actual) = match found.and_then(Value::as_str) {
        Some(name) if name == code.name() => return None,
        Some(name) => match Code::from_name(name) {
            Ok(other) => (Rule::Code, code.name().to_owned(), other.name().to_owned()),
            Err(_) => (
                Rule::UndocumentedCode,
                "a code documented in the catalog".to_owned(),
                name.to_owned(),
            ),
        },
        None => (
            Rule::Code,
            code.name().to_owned(),
            found.map_or("absent".to_owned(), Value::to_string),
        ),
    };
    Some(Finding::new(
        rule.as_str(),
        at,
        expected,
        actual,
        code,
        profile,
    ))
}

fn expected_headers(
    scenario: &Scenario,
    observed: &Observed,
    profile: &Profile,
    vars: &Vars<'_>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, matcher) in &scenario.expect.headers {
        let values: Vec<String> = observed
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
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
            HeaderMatch::Contains(text) => (
                values.iter().any(|v| v.contains(text.as_str())),
                format!("a value containing {text:?}"),
            ),
            HeaderMatch::Excludes(text) => (
                !values.iter().any(|v| v.contains(text.as_str())),
                format!("no value containing {text:?}"),
            ),
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
        let want = match render_json(want, vars) {
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

/// Renders templates in JSON string values (the loader has validated them).
pub fn render_json(value: &Value, vars: &Vars<'_>) -> Result<Value, RenderError> {
    Ok(match value {
        Value::String(s) if s.contains("{{") => match Template::parse(s) {
            Ok(t) => Value::String(t.render(vars)?),
            Err(_) => value.clone(),
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_json(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_json(v, vars)?)))
                .collect::<Result<_, RenderError>>()?,
        ),
        other => other.clone(),
    })
}
