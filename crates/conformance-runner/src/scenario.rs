//! Scenario files: the hand-written TOML format, its validation and loading.
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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use catalog::{Category, Code, Envelope};
use http::{HeaderName, Method};
use regex::Regex;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde::de::{self, MapAccess, Visitor};
use toml::Spanned;

use crate::template::{Template, Var};

mod webauthn;

pub use webauthn::{AttestationFormat, Ceremony, TotpStep, WebAuthnStep};

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
    pub envelope: Option<Envelope>,
    /// Steps run before the request, in order.
    pub setup: Vec<Step>,
    /// The asserted request: sent once, never retried.
    pub request: Request,
    /// Expectations beyond the catalog contract.
    pub expect: Expectations,
    /// What the asserted request would leave behind on a target that wrongly
    /// succeeds (a factor it should have refused), captured only then, for
    /// cleanup steps to remove.
    pub request_captures: Vec<(String, CaptureFrom)>,
    /// Steps that remove what setup created; run after the scenario, whatever its outcome.
    pub cleanup: Vec<Step>,
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
}

/// A setup or cleanup step.
#[derive(Clone, Debug)]
pub enum Step {
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
pub struct HttpStep {
    /// A name for reports (defaults to `METHOD path`).
    pub name: String,
    /// The request.
    pub request: Request,
    /// Values to capture from the response, by name.
    pub captures: Vec<(String, CaptureFrom)>,
    /// Statuses accepted besides 2xx.
    pub allow_status: Vec<u16>,
    /// How many times to send it (to exhaust a quota or trip a circuit).
    pub repeat: u32,
    /// A capture that must exist for the step to run (`if_captured`).
    pub if_captured: Option<String>,
    /// Line of the step in its file.
    pub line: usize,
}

/// Where a capture reads its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureFrom {
    /// A JSON Pointer into the response body.
    Body(String),
    /// A response header, by lowercase name.
    Header(HeaderName),
}

/// How the receiver answers deliveries for this scenario.
#[derive(Clone, Debug)]
pub enum ReceiverStep {
    /// Verify Standard Webhooks signatures with this secret; 204 when valid, 401 otherwise.
    Verify(Template),
    /// Answer every delivery with this status.
    Respond(u16),
}

/// A request, with templates not yet rendered.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path and query, relative to the target's base URL.
    pub path: Template,
    /// Headers, by lowercase name.
    pub headers: Vec<(HeaderName, Template)>,
    /// The body.
    pub body: Option<Body>,
}

/// A request body.
#[derive(Clone, Debug)]
pub enum Body {
    /// JSON; string values are templates. Sent with `Content-Type: application/json`
    /// unless the request sets its own.
    Json(serde_json::Value),
    /// Raw text (malformed JSON, a wrong media type).
    Raw(Template),
}

/// Expectations beyond the catalog contract.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    /// Header expectations, by lowercase name.
    pub headers: Vec<(HeaderName, HeaderMatch)>,
    /// Body members that must equal a JSON value, by JSON Pointer.
    pub body: Vec<(String, serde_json::Value)>,
    /// Body members (strings) that must match a regular expression, by JSON Pointer.
    pub body_matches: Vec<(String, MatchRegex)>,
}

/// A regular expression with its source text (for reports).
#[derive(Clone, Debug)]
pub struct MatchRegex(pub Regex);

impl fmt::Display for MatchRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a match for /{}/", self.0.as_str())
    }
}

/// What a header must look like.
#[derive(Clone, Debug)]
pub enum HeaderMatch {
    /// Exactly this value (a template).
    Equals(Template),
    /// Contains this text.
    Contains(String),
    /// Does not contain this text (absent counts as not containing it).
    Excludes(String),
    /// Matches this regular expression.
    Matches(MatchRegex),
    /// Present, any value.
    Present,
    /// Absent.
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
        /// The path.
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
    pub fn read(path: &Path) -> std::io::Result<SourceFile> {
        Ok(SourceFile {
            name: path.display().to_string(),
            text: std::fs::read_to_string(path)?,
        })
    }

    /// A diagnostic at byte `offset` of the file.
    pub fn diagnostic(&self, offset: usize, message: impl Into<String>) -> Diagnostic {
        let (line, column) = line_column(&self.text, offset);
        Diagnostic {
            file: self.name.clone(),
            line,
            column,
            message: message.into(),
        }
    }

    /// The file parsed as TOML into `T`, or where and why it is not.
    pub fn parse_toml<T: DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        toml::from_str(&self.text)
            .map_err(|e| self.diagnostic(e.span().map_or(0, |s| s.start), e.message().trim_end()))
    }
}

impl Scenario {
    /// The category of the scenario's code.
    pub fn category(&self) -> Category {
        self.code.category()
    }

    /// The envelope the error must come in.
    pub fn envelope(&self) -> Envelope {
        self.envelope.unwrap_or(self.code.info().envelope)
    }

    /// Every template in the scenario, with the line it is on.
    pub fn templates(&self) -> Vec<(&Template, usize)> {
        let mut out = Vec::new();
        let line = self.source.line;
        for step in self.setup.iter().chain(&self.cleanup) {
            match step {
                Step::Http(s) => request_templates(&s.request, s.line, &mut out),
                Step::Receiver(ReceiverStep::Verify(t)) => out.push((t, line)),
                Step::Receiver(ReceiverStep::Respond(_)) => {}
                Step::WebAuthn(w) => out.extend(w.templates().into_iter().map(|t| (t, w.line))),
                Step::Totp(t) => out.push((&t.secret, t.line)),
            }
        }
        request_templates(&self.request, line, &mut out);
        for (_, m) in &self.expect.headers {
            if let HeaderMatch::Equals(t) = m {
                out.push((t, line));
            }
        }
        out
    }
}

/// Templates inside JSON string values are parsed again at render time; this
/// collects the ones the loader has already validated.
fn request_templates<'a>(request: &'a Request, line: usize, out: &mut Vec<(&'a Template, usize)>) {
    out.push((&request.path, line));
    for (_, t) in &request.headers {
        out.push((t, line));
    }
    if let Some(Body::Raw(t)) = &request.body {
        out.push((t, line));
    }
}

/// Loads and validates every `*.toml` file below `dir`, in path order.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, LoadError> {
    let mut paths = Vec::new();
    collect_toml(dir, &mut paths)?;
    paths.sort();
    if paths.is_empty() {
        return Err(LoadError::Empty(dir.display().to_string()));
    }
    let mut files = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        files.push(SourceFile {
            name: path.display().to_string(),
            text,
        });
    }
    load(&files)
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_toml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Parses and validates `files`; reports every problem in every file.
pub fn load(files: &[SourceFile]) -> Result<Vec<Scenario>, LoadError> {
    let mut scenarios = Vec::new();
    let mut diagnostics = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for file in files {
        let mut cx = Cx {
            file,
            diagnostics: Vec::new(),
        };
        for scenario in cx.parse_file() {
            match seen.get(&scenario.id) {
                Some(first) => cx.diagnostics.push(Diagnostic {
                    file: file.name.clone(),
                    line: scenario.source.line,
                    column: 1,
                    message: format!("scenario id `{}` is already used at {first}", scenario.id),
                }),
                None => {
                    seen.insert(
                        scenario.id.clone(),
                        format!("{}:{}", file.name, scenario.source.line),
                    );
                    scenarios.push(scenario);
                }
            }
        }
        diagnostics.extend(cx.diagnostics);
    }
    if diagnostics.is_empty() {
        Ok(scenarios)
    } else {
        Err(LoadError::Invalid(diagnostics))
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
pub fn is_json_pointer(pointer: &str) -> bool {
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
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
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

// ---------------------------------------------------------------------------
// The raw, hand-written format. Every user-facing struct denies unknown
// fields; no untagged enums or flatten, whose error messages are poor.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    scenario: Vec<Spanned<RawScenario>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    id: Spanned<String>,
    code: Spanned<String>,
    description: Spanned<String>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    standard: Option<Spanned<String>>,
    envelope: Option<Spanned<String>>,
    /// Accepted only to reject it with a clear message.
    status: Option<Spanned<toml::Value>>,
    #[serde(default)]
    setup: Vec<Spanned<RawStep>>,
    request: Spanned<RawRequest>,
    expect: Option<Spanned<RawExpect>>,
    #[serde(default)]
    cleanup: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    method: Spanned<String>,
    path: Spanned<String>,
    #[serde(default)]
    headers: BTreeMap<Spanned<String>, Spanned<String>>,
    json: Option<Spanned<toml::Value>>,
    body: Option<Spanned<String>>,
    status: Option<Spanned<toml::Value>>,
    #[serde(default)]
    capture: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: Option<Spanned<String>>,
    method: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    #[serde(default)]
    headers: BTreeMap<Spanned<String>, Spanned<String>>,
    json: Option<Spanned<toml::Value>>,
    body: Option<Spanned<String>>,
    #[serde(default)]
    capture: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    allow_status: Vec<Spanned<u16>>,
    repeat: Option<Spanned<u32>>,
    receiver: Option<Spanned<RawReceiver>>,
    webauthn: Option<Spanned<webauthn::RawWebAuthn>>,
    totp: Option<Spanned<String>>,
    if_captured: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReceiver {
    secret: Option<Spanned<String>>,
    respond: Option<Spanned<u16>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    #[serde(default)]
    headers: BTreeMap<Spanned<String>, Spanned<RawHeaderMatch>>,
    #[serde(default)]
    body: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    body_matches: BTreeMap<Spanned<String>, Spanned<String>>,
    status: Option<Spanned<toml::Value>>,
}

/// A header expectation: a string (exact value) or a table with exactly one
/// of `equals`, `contains`, `matches`, `present = true`, `absent = true`.
enum RawHeaderMatch {
    Equals(String),
    Contains(String),
    Excludes(String),
    Matches(String),
    Present,
    Absent,
}

const HEADER_MATCH_SHAPE: &str = "a string, or a table with exactly one of `equals`, `contains`, `excludes`, `matches`, `present = true`, `absent = true`";

impl<'de> Deserialize<'de> for RawHeaderMatch {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawHeaderMatch;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(HEADER_MATCH_SHAPE)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawHeaderMatch, E> {
                Ok(RawHeaderMatch::Equals(v.to_owned()))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawHeaderMatch, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<String>()? {
                    let value = match key.as_str() {
                        "equals" => RawHeaderMatch::Equals(map.next_value()?),
                        "contains" => RawHeaderMatch::Contains(map.next_value()?),
                        "excludes" => RawHeaderMatch::Excludes(map.next_value()?),
                        "matches" => RawHeaderMatch::Matches(map.next_value()?),
                        "present" | "absent" => {
                            if !map.next_value::<bool>()? {
                                return Err(de::Error::custom(format!(
                                    "write `{key} = true`; `false` says nothing"
                                )));
                            }
                            if key == "present" {
                                RawHeaderMatch::Present
                            } else {
                                RawHeaderMatch::Absent
                            }
                        }
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &[
                                    "equals", "contains", "excludes", "matches", "present",
                                    "absent",
                                ],
                            ));
                        }
                    };
                    if found.replace(value).is_some() {
                        return Err(de::Error::custom(format!("expected {HEADER_MATCH_SHAPE}")));
                    }
                }
                found.ok_or_else(|| de::Error::custom(format!("expected {HEADER_MATCH_SHAPE}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Validation context for one file.
struct Cx<'a> {
    file: &'a SourceFile,
    diagnostics: Vec<Diagnostic>,
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

impl Cx<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let diagnostic = self.file.diagnostic(span.start, message);
        self.diagnostics.push(diagnostic);
    }

    fn line(&self, span: &Range<usize>) -> usize {
        line_column(&self.file.text, span.start).0
    }

    fn parse_file(&mut self) -> Vec<Scenario> {
        let raw: RawFile = match toml::from_str(&self.file.text) {
            Ok(raw) => raw,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                // `status` is a field only so that it can be refused with a
                // clear message; it is no suggestion for a misspelt member.
                let message = e.message().trim_end().replace(", `status`", "");
                self.error(span, message);
                return Vec::new();
            }
        };
        if raw.scenario.is_empty() {
            self.error(0..0, "no `[[scenario]]` table in this file");
        }
        raw.scenario
            .into_iter()
            .filter_map(|s| self.scenario(s))
            .collect()
    }

    fn scenario(&mut self, raw: Spanned<RawScenario>) -> Option<Scenario> {
        let before = self.diagnostics.len();
        let raw = raw.into_inner();
        let id = raw.id.get_ref().clone();
        let id_ok = !id.is_empty()
            && id.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '/' | '_')
            });
        if !id_ok {
            self.error(
                raw.id.span(),
                format!("scenario id `{id}` must be non-empty lowercase letters, digits, `-`, `_` and `/`"),
            );
        }
        let code = match Code::from_name(raw.code.get_ref()) {
            Ok(code) => Some(code),
            Err(_) => {
                let message = crate::suggest::unknown_code(raw.code.get_ref());
                self.error(raw.code.span(), message);
                None
            }
        };
        for status in [
            raw.status.as_ref().map(Spanned::span),
            raw.request.get_ref().status.as_ref().map(Spanned::span),
            raw.expect
                .as_ref()
                .and_then(|e| e.get_ref().status.as_ref())
                .map(Spanned::span),
        ]
        .into_iter()
        .flatten()
        {
            let documented = code.map_or(String::new(), |c| {
                format!(" ({c} is documented as {})", c.status())
            });
            self.error(
                status,
                format!(
                    "`status` is not allowed in a scenario: the expected status comes from the catalog{documented}"
                ),
            );
        }
        if raw.description.get_ref().trim().is_empty() {
            self.error(raw.description.span(), "`description` is empty");
        }
        let mut tags = Vec::new();
        for tag in &raw.tags {
            let t = tag.get_ref();
            if t.is_empty()
                || !t
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                self.error(
                    tag.span(),
                    format!("tag `{t}` must be lowercase letters, digits and `-`"),
                );
            }
            tags.push(t.clone());
        }
        let envelope = raw
            .envelope
            .as_ref()
            .and_then(|e| match e.get_ref().as_str() {
                "problem" => Some(Envelope::Problem),
                "scim" => Some(Envelope::Scim),
                other => {
                    self.error(
                        e.span(),
                        format!("envelope `{other}` is not one of `problem`, `scim`"),
                    );
                    None
                }
            });

        let standard = raw.standard.and_then(|s| {
            if is_standard_reference(s.get_ref()) {
                Some(s.into_inner())
            } else {
                self.error(
                    s.span(),
                    format!(
                        "standard `{}` must name an RFC and a section, like `RFC 7644 §3.4.2.2` ({})",
                        s.get_ref(),
                        STANDARDS.join(", ")
                    ),
                );
                None
            }
        });

        let mut captures = BTreeSet::new();
        let setup: Vec<Step> = raw
            .setup
            .into_iter()
            .filter_map(|s| self.step(s, &mut captures, "setup"))
            .collect();
        let mut raw_request = raw.request.into_inner();
        let request_capture = std::mem::take(&mut raw_request.capture);
        let request = self.request(raw_request, &captures);
        let expect = raw
            .expect
            .map(|e| self.expect(e.into_inner(), &captures))
            .unwrap_or_default();
        // Cleanup may use any capture: its steps run only when their captures exist.
        let mut cleanup_captures = captures.clone();
        let request_captures = self.captures(request_capture, &mut cleanup_captures);
        let cleanup: Vec<Step> = raw
            .cleanup
            .into_iter()
            .filter_map(|s| self.step(s, &mut cleanup_captures, "cleanup"))
            .collect();

        if self.diagnostics.len() > before {
            return None;
        }
        Some(Scenario {
            id,
            code: code?,
            description: raw.description.into_inner().trim().to_owned(),
            tags,
            standard,
            envelope,
            setup,
            request: request?,
            expect,
            request_captures,
            cleanup,
            source: SourceLocation {
                file: self.file.name.clone(),
                line: self.line(&raw.id.span()),
            },
        })
    }

    fn step(
        &mut self,
        raw: Spanned<RawStep>,
        captures: &mut BTreeSet<String>,
        section: &str,
    ) -> Option<Step> {
        let span = raw.span();
        let line = self.line(&span);
        let raw = raw.into_inner();
        let local = raw.webauthn.is_some() || raw.totp.is_some();
        if let (true, Some(c)) = (local, &raw.if_captured) {
            self.error(c.span(), "`if_captured` applies to a request step");
            return None;
        }
        if local {
            let has_request = raw.method.is_some()
                || raw.path.is_some()
                || !raw.headers.is_empty()
                || raw.json.is_some()
                || raw.body.is_some()
                || !raw.allow_status.is_empty()
                || raw.repeat.is_some()
                || raw.receiver.is_some()
                || (raw.webauthn.is_some() && raw.totp.is_some());
            if has_request {
                self.error(
                    span,
                    format!("a {section} step is one of a request, a `receiver` setting, a `webauthn` ceremony or a `totp` code"),
                );
                return None;
            }
            let name = raw.name.map(Spanned::into_inner);
            return match (raw.webauthn, raw.totp) {
                (Some(w), _) => self.webauthn_step(name, w, raw.capture, captures, line),
                (_, Some(t)) => self.totp_step(name, t, raw.capture, captures, line),
                (None, None) => None,
            };
        }
        if let Some(receiver) = raw.receiver {
            let has_request = raw.method.is_some()
                || raw.path.is_some()
                || !raw.headers.is_empty()
                || raw.json.is_some()
                || raw.body.is_some()
                || !raw.capture.is_empty()
                || !raw.allow_status.is_empty()
                || raw.repeat.is_some();
            if has_request {
                self.error(
                    span,
                    format!(
                        "a {section} step is either a request or a `receiver` setting, not both"
                    ),
                );
                return None;
            }
            let rspan = receiver.span();
            let receiver = receiver.into_inner();
            return match (receiver.secret, receiver.respond) {
                (Some(secret), None) => {
                    let t = self.template(&secret, captures)?;
                    Some(Step::Receiver(ReceiverStep::Verify(t)))
                }
                (None, Some(status)) if (100..=599).contains(status.get_ref()) => {
                    Some(Step::Receiver(ReceiverStep::Respond(*status.get_ref())))
                }
                (None, Some(status)) => {
                    self.error(
                        status.span(),
                        format!("{} is not an HTTP status", status.get_ref()),
                    );
                    None
                }
                _ => {
                    self.error(
                        rspan,
                        "`receiver` takes exactly one of `secret` (verify signatures with it) or `respond` (answer every delivery with this status)",
                    );
                    None
                }
            };
        }
        let if_captured = raw.if_captured.and_then(|c| {
            if captures.contains(c.get_ref()) {
                Some(c.into_inner())
            } else {
                self.error(
                    c.span(),
                    format!(
                        "`if_captured`: no earlier step or request captures `{}`",
                        c.get_ref()
                    ),
                );
                None
            }
        });
        let (Some(method), Some(path)) = (raw.method, raw.path) else {
            self.error(
                span,
                format!("a {section} step needs `method` and `path` (or is a `receiver` setting)"),
            );
            return None;
        };
        let name = raw
            .name
            .map(Spanned::into_inner)
            .unwrap_or_else(|| format!("{} {}", method.get_ref(), path.get_ref()));
        let request = self.request(
            RawRequest {
                method,
                path,
                headers: raw.headers,
                json: raw.json,
                body: raw.body,
                status: None,
                capture: BTreeMap::new(),
            },
            captures,
        );
        let mut allow_status = Vec::new();
        for status in raw.allow_status {
            if !(100..=599).contains(status.get_ref()) {
                self.error(
                    status.span(),
                    format!("{} is not an HTTP status", status.get_ref()),
                );
            }
            allow_status.push(status.into_inner());
        }
        let repeat = match raw.repeat {
            Some(r) if !(1..=100).contains(r.get_ref()) => {
                self.error(r.span(), "`repeat` must be between 1 and 100");
                1
            }
            Some(r) => r.into_inner(),
            None => 1,
        };
        let step_captures = self.captures(raw.capture, captures);
        Some(Step::Http(HttpStep {
            name,
            request: request?,
            captures: step_captures,
            allow_status,
            repeat,
            if_captured,
            line,
        }))
    }

    /// Validates a capture table; the names become known to later templates.
    fn captures(
        &mut self,
        raw: BTreeMap<Spanned<String>, Spanned<String>>,
        captures: &mut BTreeSet<String>,
    ) -> Vec<(String, CaptureFrom)> {
        let mut out = Vec::new();
        for (name, from) in raw {
            let n = name.get_ref();
            if n.is_empty()
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                self.error(
                    name.span(),
                    format!("capture name `{n}` must be letters, digits, `_` and `-`"),
                );
                continue;
            }
            let source = from.get_ref();
            let parsed = if let Some(header) = source.strip_prefix("header:") {
                match HeaderName::try_from(header.to_ascii_lowercase()) {
                    Ok(h) => Some(CaptureFrom::Header(h)),
                    Err(_) => None,
                }
            } else if is_json_pointer(source) {
                Some(CaptureFrom::Body(source.clone()))
            } else {
                None
            };
            match parsed {
                Some(p) => {
                    captures.insert(n.clone());
                    out.push((n.clone(), p));
                }
                None => self.error(
                    from.span(),
                    format!("capture `{n}`: `{source}` is neither a JSON Pointer (`/token`) nor `header:<name>`"),
                ),
            }
        }
        out
    }

    fn request(&mut self, raw: RawRequest, captures: &BTreeSet<String>) -> Option<Request> {
        let method_text = raw.method.get_ref();
        let method = if METHODS.contains(&method_text.as_str()) {
            Method::from_bytes(method_text.as_bytes()).ok()
        } else {
            None
        };
        if method.is_none() {
            self.error(
                raw.method.span(),
                format!(
                    "method `{method_text}` is not one of {}",
                    METHODS.join(", ")
                ),
            );
        }
        let p = raw.path.get_ref();
        if !(p.starts_with('/') || p.starts_with("{{path.") || p.starts_with("{{ path.")) {
            self.error(
                raw.path.span(),
                format!(
                    "path `{}` must start with `/` or a profile's base path like `{{{{path.api}}}}` (it is relative to the target's base URL)",
                    raw.path.get_ref()
                ),
            );
        }
        let path = self.template(&raw.path, captures);
        let mut headers = Vec::new();
        for (name, value) in &raw.headers {
            match HeaderName::try_from(name.get_ref().to_ascii_lowercase()) {
                Ok(h) => {
                    if let Some(t) = self.template(value, captures) {
                        headers.push((h, t));
                    }
                }
                Err(_) => self.error(
                    name.span(),
                    format!("`{}` is not a header name", name.get_ref()),
                ),
            }
        }
        let body = match (raw.json, raw.body) {
            (Some(_), Some(body)) => {
                self.error(body.span(), "a request has `json` or `body`, not both");
                None
            }
            (Some(json), None) => match toml_to_json(json.get_ref()) {
                Ok(value) => {
                    self.json_templates(&value, json.span(), captures);
                    Some(Body::Json(value))
                }
                Err(e) => {
                    self.error(json.span(), e);
                    None
                }
            },
            (None, Some(body)) => self.template(&body, captures).map(Body::Raw),
            (None, None) => None,
        };
        Some(Request {
            method: method?,
            path: path?,
            headers,
            body,
        })
    }

    fn json_templates(
        &mut self,
        value: &serde_json::Value,
        span: Range<usize>,
        captures: &BTreeSet<String>,
    ) {
        match value {
            serde_json::Value::String(s) => {
                let spanned = Spanned::new(span, s.clone());
                self.template(&spanned, captures);
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    self.json_templates(item, span.clone(), captures);
                }
            }
            serde_json::Value::Object(map) => {
                for item in map.values() {
                    self.json_templates(item, span.clone(), captures);
                }
            }
            _ => {}
        }
    }

    fn template(
        &mut self,
        text: &Spanned<String>,
        captures: &BTreeSet<String>,
    ) -> Option<Template> {
        match Template::parse(text.get_ref()) {
            Ok(t) => {
                for var in t.vars() {
                    if let Var::Capture(name) = var
                        && !captures.contains(name)
                    {
                        self.error(
                            text.span(),
                            format!("`{var}` is not captured by an earlier step"),
                        );
                        return None;
                    }
                }
                Some(t)
            }
            Err(e) => {
                self.error(text.span(), e.to_string());
                None
            }
        }
    }

    fn expect(&mut self, raw: RawExpect, captures: &BTreeSet<String>) -> Expectations {
        let mut out = Expectations::default();
        for (name, matcher) in raw.headers {
            let Ok(header) = HeaderName::try_from(name.get_ref().to_ascii_lowercase()) else {
                self.error(
                    name.span(),
                    format!("`{}` is not a header name", name.get_ref()),
                );
                continue;
            };
            let span = matcher.span();
            let m = match matcher.into_inner() {
                RawHeaderMatch::Equals(v) => {
                    match self.template(&Spanned::new(span, v), captures) {
                        Some(t) => HeaderMatch::Equals(t),
                        None => continue,
                    }
                }
                RawHeaderMatch::Contains(v) => HeaderMatch::Contains(v),
                RawHeaderMatch::Excludes(v) => HeaderMatch::Excludes(v),
                RawHeaderMatch::Matches(v) => match Regex::new(&v) {
                    Ok(r) => HeaderMatch::Matches(MatchRegex(r)),
                    Err(e) => {
                        self.error(
                            span,
                            format!("`{v}` is not a regular expression: {}", regex_error(&e)),
                        );
                        continue;
                    }
                },
                RawHeaderMatch::Present => HeaderMatch::Present,
                RawHeaderMatch::Absent => HeaderMatch::Absent,
            };
            out.headers.push((header, m));
        }
        for (pointer, value) in raw.body {
            if !self.pointer(&pointer) {
                continue;
            }
            match toml_to_json(value.get_ref()) {
                Ok(v) => out.body.push((pointer.into_inner(), v)),
                Err(e) => self.error(value.span(), e),
            }
        }
        for (pointer, regex) in raw.body_matches {
            if !self.pointer(&pointer) {
                continue;
            }
            match Regex::new(regex.get_ref()) {
                Ok(r) => out.body_matches.push((pointer.into_inner(), MatchRegex(r))),
                Err(e) => self.error(
                    regex.span(),
                    format!(
                        "`{}` is not a regular expression: {}",
                        regex.get_ref(),
                        regex_error(&e)
                    ),
                ),
            }
        }
        out
    }

    fn pointer(&mut self, pointer: &Spanned<String>) -> bool {
        let ok = is_json_pointer(pointer.get_ref());
        if !ok {
            self.error(
                pointer.span(),
                format!(
                    "`{}` is not a JSON Pointer (RFC 6901: empty, or `/` then segments, `~` escaped as `~0` or `~1`)",
                    pointer.get_ref()
                ),
            );
        }
        ok
    }
}

/// The standards a scenario may name (`RFC N §section`).
pub const STANDARDS: [&str; 7] = [
    "RFC 6585", "RFC 6750", "RFC 7643", "RFC 7644", "RFC 9110", "RFC 9457", "RFC 9470",
];

/// Whether `text` is `RFC N §S` with a known RFC and a dotted numeric section.
pub fn is_standard_reference(text: &str) -> bool {
    let Some((rfc, section)) = text.split_once(" §") else {
        return false;
    };
    STANDARDS.contains(&rfc)
        && !section.is_empty()
        && section
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The last line of a regex error (its first lines draw the pattern and a caret).
fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .last()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned()
}

/// The documented code nearest to a misspelt one, compared without case and `_`.
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
            crate::suggest::nearest_code("not_found"),
            Some(Code::NotFound)
        );
        assert_eq!(
            crate::suggest::nearest_code("step-up-required"),
            Some(Code::StepUpRequired)
        );
        assert_eq!(crate::suggest::nearest_code("nope"), None);
    }
}
