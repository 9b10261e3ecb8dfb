//! Scenarios: the validated model of the hand-written TOML format.
//!
//! A file under `fixtures/scenarios/` holds `[[scenario]]` tables (schema:
//! `schemas/scenario.schema.json`). Each names the catalog code it proves,
//! optional setup steps, the request, extra expectations and cleanup steps:
//!
//! ```toml
//! [[scenario]]
//! id = "step-up-required/delete-user"
//! code = "STEP_UP_REQUIRED"
//! description = "Deleting a user without a step-up token names the ceremony."
//! tags = ["sensitive-action"]
//!
//! [scenario.request]
//! method = "DELETE"
//! path = "/v1/workspaces/acme/users/{{fixture.acme_member_id}}"
//! headers = { authorization = "Bearer {{credential.acme_admin}}" }
//!
//! [scenario.expect]
//! body = { "/purpose" = "delete_user" }
//! ```
//!
//! There is deliberately no `status`: the expected status is the catalog's,
//! so a scenario cannot disagree with the documentation. Every error names its
//! file, line and column ([`Diagnostic`]); loading never panics.
//!
//! [`raw`] is the format as written (serde types that deny unknown fields),
//! [`validate`] turns it into this model, [`load`] reads files and folders.
//! Everything below the loader sees only validated [`Scenario`]s.

mod expect;
pub(crate) mod head;
pub(crate) mod load;
pub(crate) mod raw;
pub(crate) mod validate;
pub(crate) mod webauthn;

use std::fmt;
use std::path::{Path, PathBuf};

use catalog::{Category, Code, Envelope};
use http::{HeaderName, Method};
use regex::Regex;
use serde::de::DeserializeOwned;

use crate::model::template::{JsonTemplate, Template};

pub(crate) use webauthn::{AttestationFormat, Ceremony, TotpStep, WebAuthnStep};

/// One validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Unique id, `<code-anchor>/<variant>` by convention.
    pub id: String,
    /// The catalog code the scenario proves.
    pub code: Code,
    /// What the scenario shows, for people.
    pub description: String,
    /// Free-form tags, selectable with `--filter tag=...`.
    pub tags: Vec<String>,
    /// The standard rule the scenario proves (`RFC 7644 §3.4.2.2`), so any
    /// server of that standard must pass it; `None`: a rule of the platform
    /// (its catalog, its precedence, its tenancy).
    pub standard: Option<String>,
    /// The envelope the error comes in when it is not the code's own (a
    /// generic code on a SCIM endpoint).
    pub(crate) envelope: Option<Envelope>,
    /// Steps run before the request, in order.
    pub(crate) setup: Vec<Step>,
    /// The asserted request: sent once, never retried.
    pub(crate) request: Request,
    /// Expectations beyond the catalog contract.
    pub(crate) expect: Expectations,
    /// What the asserted request would leave behind on a target that wrongly
    /// succeeds (a factor it should have refused), captured only then, for
    /// cleanup steps to remove.
    pub(crate) request_captures: Vec<(String, CaptureFrom)>,
    /// Steps that remove what setup created; run after the scenario, whatever its outcome.
    pub(crate) cleanup: Vec<Step>,
    /// Values that must differ under the profile, or the scenario would not
    /// prove what it is named after (a spent token presented for "another"
    /// purpose that is its own). Only `fixture.` and `path.` variables.
    pub(crate) distinct: Vec<Template>,
    /// Where the scenario is written.
    pub source: SourceLocation,
}

/// A file and line, for reports and annotations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLocation {
    /// The file, as given to the loader.
    pub file: String,
    /// 1-based line of the scenario's `id`.
    pub line: usize,
    /// Compiled into the runner (its `file` is in the runner's source, not
    /// on the user's disk), rather than loaded from a directory.
    pub built_in: bool,
}

/// A setup or cleanup step.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    /// Send a request.
    Http(HttpStep),
    /// Configure how the webhook receiver answers this scenario's deliveries.
    Receiver(ReceiverStep),
    /// A WebAuthn ceremony of the runner's software authenticator.
    WebAuthn(WebAuthnStep),
    /// The current code of a TOTP secret, captured once.
    Totp(TotpStep),
}

/// A request sent during setup or cleanup.
#[derive(Clone, Debug)]
pub(crate) struct HttpStep {
    /// A name for reports (defaults to `METHOD path`).
    pub name: String,
    /// The request to send, its templates rendered when the step runs.
    pub request: Request,
    /// Values to capture from the response, by name.
    pub captures: Vec<(String, CaptureFrom)>,
    /// Statuses accepted besides 2xx.
    pub allow_status: Vec<u16>,
    /// How many times to send it (to exhaust a quota or trip a circuit).
    pub repeat: Repeat,
    /// A capture that must exist for the step to run (`if_captured`).
    pub if_captured: Option<String>,
    /// Line of the step in its file.
    pub line: usize,
}

/// How many times a step is sent.
#[derive(Clone, Debug)]
pub(crate) enum Repeat {
    /// A count written in the scenario, 1 to 100.
    Times(u32),
    /// `{{fixture.NAME}}`: a count the profile names (a quota, a threshold
    /// of the target's world), checked to be 1 to 100 when the run is planned.
    Fixture(Template),
}

/// The most times a step may be sent.
pub(crate) const MAX_REPEAT: u32 = 100;

impl Repeat {
    /// The count under `fixtures` (a plan has checked a fixture's value).
    pub(crate) fn count(
        &self,
        fixtures: Option<&std::collections::BTreeMap<String, String>>,
    ) -> Result<u32, String> {
        match self {
            Repeat::Times(n) => Ok(*n),
            Repeat::Fixture(t) => {
                let vars = crate::model::template::Vars {
                    fixtures,
                    ..crate::model::template::Vars::default()
                };
                let text = t.render(&vars).map_err(|e| e.to_string())?;
                parse_count(&text).ok_or_else(|| {
                    format!("`repeat` is `{text}`, not a count from 1 to {MAX_REPEAT}")
                })
            }
        }
    }
}

/// A count from 1 to [`MAX_REPEAT`].
pub(crate) fn parse_count(text: &str) -> Option<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_REPEAT).contains(n))
}

/// Where a capture reads its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CaptureFrom {
    /// A JSON Pointer into the response body.
    Body(String),
    /// A response header, by lowercase name.
    Header(HeaderName),
}

/// How the receiver answers deliveries for this scenario.
#[derive(Clone, Debug)]
pub(crate) enum ReceiverStep {
    /// Verify Standard Webhooks signatures with this secret; 204 when valid, 401 otherwise.
    Verify(Template),
    /// Answer every delivery with this status.
    Respond(u16),
}

/// A request, with templates not yet rendered.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    /// One of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS (the loader
    /// rejects any other).
    pub method: Method,
    /// The path and query, relative to the target's base URL.
    pub path: Template,
    /// Headers, by lowercase name.
    pub headers: Vec<(HeaderName, Template)>,
    /// The body; `None` sends none, and the runner adds no `Content-Type`.
    pub body: Option<Body>,
}

/// A request body: a step's `json` or `body` (the loader rejects both).
#[derive(Clone, Debug)]
pub(crate) enum Body {
    /// JSON; string values are templates, parsed at load. Sent with
    /// `Content-Type: application/json` unless the request sets its own.
    Json(JsonTemplate),
    /// Raw text (malformed JSON, a wrong media type).
    Raw(Template),
}

/// Expectations beyond the catalog contract.
#[derive(Clone, Debug, Default)]
pub(crate) struct Expectations {
    /// Header expectations, by lowercase name.
    pub headers: Vec<(HeaderName, HeaderMatch)>,
    /// Body members that must equal a JSON value (its templates rendered), by JSON Pointer.
    pub body: Vec<(String, JsonTemplate)>,
    /// Body members (strings) that must match a regular expression, by JSON Pointer.
    pub body_matches: Vec<(String, MatchRegex)>,
}

/// A regular expression with its source text (for reports).
#[derive(Clone, Debug)]
pub(crate) struct MatchRegex(pub Regex);

impl fmt::Display for MatchRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a match for /{}/", self.0.as_str())
    }
}

/// What a header must look like.
#[derive(Clone, Debug)]
pub(crate) enum HeaderMatch {
    /// Exactly this value (a template).
    Equals(Template),
    /// Contains this text (a template).
    Contains(Template),
    /// Does not contain this text (a template; absent counts as not containing it).
    Excludes(Template),
    /// Matches this regular expression.
    Matches(MatchRegex),
    /// Present, any value.
    Present,
    /// Not in the response at all (`absent = true`).
    Absent,
}

/// A problem in a scenario or profile file, at a file, line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as given to the loader.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Why scenarios could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error("failed to read {}: {source}", path.display())]
    Io {
        /// The file or directory that could not be read.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// One or more files are invalid; every problem found is listed.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
    /// No scenario files were found.
    #[error("no scenario files (*.toml) in {0}")]
    Empty(String),
}

/// A scenario file's name and text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Name used in diagnostics (a path relative to the workspace, usually).
    pub name: String,
    /// The TOML text.
    pub text: String,
}

impl SourceFile {
    /// Reads a file, named in diagnostics by its path as given.
    pub(crate) fn read(path: &Path) -> std::io::Result<SourceFile> {
        Ok(SourceFile {
            name: path.display().to_string(),
            text: std::fs::read_to_string(path)?,
        })
    }

    /// A diagnostic at byte `offset` of the file.
    pub(crate) fn diagnostic(&self, offset: usize, message: impl Into<String>) -> Diagnostic {
        let (line, column) = line_column(&self.text, offset);
        Diagnostic {
            file: self.name.clone(),
            line,
            column,
            message: message.into(),
        }
    }

    /// The file parsed as TOML into `T`, or where and why it is not.
    pub(crate) fn parse_toml<T: DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        toml::from_str(&self.text)
            .map_err(|e| self.diagnostic(e.span().map_or(0, |s| s.start), e.message().trim_end()))
    }
}

impl Scenario {
    /// The requests it sends when every step answers: (setup steps, each as
    /// often as it repeats under the profile's `fixtures`, and the asserted
    /// request; cleanup steps). Receiver, WebAuthn and TOTP steps send none.
    pub fn round_trips(
        &self,
        fixtures: &std::collections::BTreeMap<String, String>,
    ) -> (usize, usize) {
        let count = |steps: &[Step]| -> usize {
            steps
                .iter()
                .map(|step| match step {
                    Step::Http(h) => {
                        let n = h.repeat.count(Some(fixtures)).unwrap_or(1);
                        usize::try_from(n).unwrap_or(usize::MAX)
                    }
                    Step::Receiver(_) | Step::WebAuthn(_) | Step::Totp(_) => 0,
                })
                .sum()
        };
        (count(&self.setup) + 1, count(&self.cleanup))
    }

    /// The category of the scenario's code.
    pub(crate) fn category(&self) -> Category {
        self.code.category()
    }

    /// What `--filter` selects on.
    pub(crate) fn head(&self) -> head::Head<'_> {
        head::Head {
            id: &self.id,
            code: self.code,
            tags: &self.tags,
            standard: self.standard.is_some(),
        }
    }

    /// The envelope the error must come in.
    pub(crate) fn envelope(&self) -> Envelope {
        self.envelope.unwrap_or(self.code.info().envelope)
    }

    /// Every template in the scenario, with the line it is on.
    pub(crate) fn templates(&self) -> Vec<(&Template, usize)> {
        let mut out = Vec::new();
        let line = self.source.line;
        for step in self.setup.iter().chain(&self.cleanup) {
            match step {
                Step::Http(s) => {
                    request_templates(&s.request, s.line, &mut out);
                    if let Repeat::Fixture(t) = &s.repeat {
                        out.push((t, s.line));
                    }
                }
                Step::Receiver(ReceiverStep::Verify(t)) => out.push((t, line)),
                Step::Receiver(ReceiverStep::Respond(_)) => {}
                Step::WebAuthn(w) => out.extend(w.templates().into_iter().map(|t| (t, w.line))),
                Step::Totp(t) => out.push((&t.secret, t.line)),
            }
        }
        request_templates(&self.request, line, &mut out);
        for (_, m) in &self.expect.headers {
            if let HeaderMatch::Equals(t) | HeaderMatch::Contains(t) | HeaderMatch::Excludes(t) = m
            {
                out.push((t, line));
            }
        }
        for (_, value) in &self.expect.body {
            out.extend(value.templates().into_iter().map(|t| (t, line)));
        }
        for t in &self.distinct {
            out.push((t, line));
        }
        out
    }
}

/// The templates of a request: path, headers and body (JSON strings included).
fn request_templates<'a>(request: &'a Request, line: usize, out: &mut Vec<(&'a Template, usize)>) {
    out.push((&request.path, line));
    for (_, t) in &request.headers {
        out.push((t, line));
    }
    match &request.body {
        Some(Body::Raw(t)) => out.push((t, line)),
        Some(Body::Json(value)) => out.extend(value.templates().into_iter().map(|t| (t, line))),
        None => {}
    }
}

/// Converts a TOML value to JSON. TOML dates and times have no JSON form.
pub fn toml_to_json(value: &toml::Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match value {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or_else(|| format!("{f} has no JSON form"))?,
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => {
            return Err(format!(
                "{d} is a TOML date-time, which has no JSON form; quote it"
            ));
        }
        toml::Value::Array(items) => {
            J::Array(items.iter().map(toml_to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(table) => J::Object(
            table
                .iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// Whether `pointer` is an RFC 6901 JSON Pointer.
pub(crate) fn is_json_pointer(pointer: &str) -> bool {
    if pointer.is_empty() {
        return true;
    }
    if !pointer.starts_with('/') {
        return false;
    }
    let bytes = pointer.as_bytes();
    bytes
        .iter()
        .enumerate()
        .all(|(i, &b)| b != b'~' || matches!(bytes.get(i + 1), Some(b'0' | b'1')))
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// The standards a scenario may name (`RFC N §section`).
pub(crate) const STANDARDS: [&str; 7] = [
    "RFC 6585", "RFC 6750", "RFC 7643", "RFC 7644", "RFC 9110", "RFC 9457", "RFC 9470",
];

/// Whether `text` is `RFC N §S` with a known RFC and a dotted numeric section.
pub(crate) fn is_standard_reference(text: &str) -> bool {
    let Some((rfc, section)) = text.split_once(" §") else {
        return false;
    };
    STANDARDS.contains(&rfc)
        && !section.is_empty()
        && section
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        assert_eq!(line_column(text, 7), (2, 4));
        assert_eq!(line_column(text, 8), (3, 1));
        assert_eq!(line_column(text, 999), (3, 2));
    }

    #[test]
    fn json_pointers_follow_rfc_6901() {
        for ok in ["", "/", "/a", "/errors/0/pointer", "/a~0b", "/a~1b"] {
            assert!(is_json_pointer(ok), "{ok}");
        }
        for bad in ["a", "errors/0", "/a~", "/a~2"] {
            assert!(!is_json_pointer(bad), "{bad}");
        }
    }

    #[test]
    fn standard_references_name_a_known_rfc_and_a_section() {
        for ok in ["RFC 7644 §3.4.2.2", "RFC 6750 §3", "RFC 9110 §15.5.2"] {
            assert!(is_standard_reference(ok), "{ok}");
        }
        for bad in [
            "RFC 7644",
            "RFC 1234 §3",
            "RFC 7644 §",
            "RFC 7644 §3.",
            "rfc 7644 §3",
            "RFC 7644 section 3",
        ] {
            assert!(!is_standard_reference(bad), "{bad}");
        }
    }

    #[test]
    fn a_misspelt_code_gets_a_suggestion() {
        assert_eq!(
            crate::model::diagnostics::nearest_code("not_found"),
            Some(Code::NotFound)
        );
        assert_eq!(
            crate::model::diagnostics::nearest_code("step-up-required"),
            Some(Code::StepUpRequired)
        );
        assert_eq!(crate::model::diagnostics::nearest_code("nope"), None);
    }
}
