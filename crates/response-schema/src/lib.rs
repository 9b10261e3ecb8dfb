//! The error-body contract: every platform error, checked.
//!
//! [`check`] takes a response (status, headers, body bytes) and what was
//! expected of it, and returns every [`Violation`] found: status, media type,
//! body (against the JSON Schemas in `schemas/`, derived from the catalog by
//! [`schema`]), the `type` link and the header contract. It never panics,
//! whatever bytes it is given.
//!
//! ```
//! use catalog::Code;
//! use response_schema::{Expect, Response, check};
//!
//! let headers = http::HeaderMap::new();
//! let found = check(
//!     &Response { status: 404, headers: &headers, body: b"not json" },
//!     &Expect::code(Code::NotFound),
//! );
//! let rules: Vec<&str> = found.iter().map(|v| v.rule.as_str()).collect();
//! assert_eq!(rules, ["media-type", "not-json"]);
//! ```

pub mod body;
pub mod challenge;
pub mod duplicate;
pub mod schema;
mod scim_type;
mod violation;

use std::sync::OnceLock;

use catalog::{Challenge, Code, DOCS_PATH, Envelope, Extra};
use http::HeaderMap;
use serde_json::Value;

pub use body::{ERROR_CODE_HEADER, FieldError, PROBLEM_JSON, Problem, SCIM_JSON, ScimError};
pub use scim_type::ScimType;
pub use violation::{Location, Rule, Violation};

/// A response to check.
#[derive(Clone, Copy, Debug)]
pub struct Response<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: &'a HeaderMap,
    /// The raw body.
    pub body: &'a [u8],
}

/// What the response is judged against.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    /// The code the response must carry; `None` accepts any documented code
    /// whose documented status is the response's status.
    pub code: Option<Code>,
    /// The envelope; `None` takes the code's catalog envelope, or with no
    /// code, whatever the `Content-Type` says.
    pub envelope: Option<Envelope>,
    /// Where the reference page lives; `None` accepts any absolute base as
    /// long as the path and anchor are right.
    pub docs_base: Option<String>,
    /// Where the response carries the platform's code; `None` takes the
    /// envelope's own place (a problem's `/code` member, a SCIM error's
    /// `x-error-code` header). [`CodeAt::Nowhere`] checks no code at all: a
    /// third-party SCIM server knows nothing of the platform's catalog.
    pub code_at: Option<CodeAt>,
}

/// Where a response carries the platform's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeAt {
    /// A body member, by JSON Pointer (`/code`).
    Body(String),
    /// A response header, by lowercase name (`x-error-code`).
    Header(String),
    /// Not at all: the code is not checked.
    Nowhere,
}

impl CodeAt {
    /// The envelope's own place for the code.
    pub fn default_for(envelope: Envelope) -> CodeAt {
        match envelope {
            Envelope::Problem => CodeAt::Body("/code".into()),
            Envelope::Scim => CodeAt::Header(ERROR_CODE_HEADER.into()),
        }
    }

    /// Parses `/pointer`, `header:NAME` or `none`.
    pub fn parse(text: &str) -> Option<CodeAt> {
        if text == "none" {
            return Some(CodeAt::Nowhere);
        }
        if let Some(name) = text.strip_prefix("header:") {
            let name = name.to_ascii_lowercase();
            return http::HeaderName::try_from(name.as_str())
                .ok()
                .map(|_| CodeAt::Header(name));
        }
        let pointer_ok = text.starts_with('/') && {
            let b = text.as_bytes();
            b.iter()
                .enumerate()
                .all(|(i, &c)| c != b'~' || matches!(b.get(i + 1), Some(b'0' | b'1')))
        };
        pointer_ok.then(|| CodeAt::Body(text.to_owned()))
    }
}

impl std::fmt::Display for CodeAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodeAt::Body(pointer) => f.write_str(pointer),
            CodeAt::Header(name) => write!(f, "header:{name}"),
            CodeAt::Nowhere => f.write_str("none"),
        }
    }
}

impl Expect {
    /// Expects `code` in its catalog envelope.
    pub fn code(code: Code) -> Expect {
        Expect {
            code: Some(code),
            ..Expect::default()
        }
    }

    /// Expects any documented error.
    pub fn any() -> Expect {
        Expect::default()
    }

    /// The same expectation in another envelope (a generic code on a SCIM endpoint).
    pub fn in_envelope(mut self, envelope: Envelope) -> Expect {
        self.envelope = Some(envelope);
        self
    }
}

/// Checks `response` against the contract and returns every violation, in a
/// stable order: status, headers, body.
pub fn check(response: &Response<'_>, expect: &Expect) -> Vec<Violation> {
    let mut out = Checker {
        violations: Vec::new(),
        anchor: expect.code.map(|c| c.anchor().to_owned()),
    };
    out.run(response, expect);
    out.violations
}

/// Compiled schemas, built once per process.
struct Validators {
    problem: jsonschema::Validator,
    scim: jsonschema::Validator,
}

fn validators() -> &'static Validators {
    static VALIDATORS: OnceLock<Validators> = OnceLock::new();
    VALIDATORS.get_or_init(|| Validators {
        // The schemas are generated by this crate and tested to compile; a
        // failure here is a bug in `schema`, not bad input.
        problem: jsonschema::draft202012::new(&schema::problem())
            .expect("generated problem schema compiles"),
        scim: jsonschema::draft202012::new(&schema::scim_error())
            .expect("generated SCIM schema compiles"),
    })
}

struct Checker {
    violations: Vec<Violation>,
    anchor: Option<String>,
}

impl Checker {
    fn push(
        &mut self,
        rule: Rule,
        at: Location,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) {
        self.violations.push(Violation {
            rule,
            at,
            expected: expected.into(),
            actual: actual.into(),
            anchor: self.anchor.clone(),
        });
    }

    fn run(&mut self, response: &Response<'_>, expect: &Expect) {
        // An error was expected and the request succeeded: that one fact says
        // it all; a success body held against the error schema would only
        // bury it under findings that follow from it.
        if let Some(code) = expect.code
            && (200..300).contains(&response.status)
        {
            let excerpt = if response.body.is_empty() {
                "an empty body".to_owned()
            } else {
                let text = String::from_utf8_lossy(&response.body[..response.body.len().min(120)]);
                format!("{:?}", truncate(&text, 80))
            };
            self.push(
                Rule::Status,
                Location::Status,
                format!("{} ({code})", code.status()),
                format!("{} (body: {excerpt})", response.status),
            );
            return;
        }
        if let Some(code) = expect.code
            && response.status != code.status()
        {
            self.push(
                Rule::Status,
                Location::Status,
                format!("{} ({code})", code.status()),
                response.status.to_string(),
            );
        }

        let media_type = media_type(response.headers);
        let envelope = expect
            .envelope
            .or(expect.code.map(|c| c.info().envelope))
            .unwrap_or(if media_type.as_deref() == Some(SCIM_JSON) {
                Envelope::Scim
            } else {
                Envelope::Problem
            });
        let wanted_media = match envelope {
            Envelope::Problem => PROBLEM_JSON,
            Envelope::Scim => SCIM_JSON,
        };
        if media_type.as_deref() != Some(wanted_media) {
            self.push(
                Rule::MediaType,
                Location::Header("content-type".into()),
                wanted_media,
                media_type.unwrap_or_else(|| "absent".into()),
            );
        }

        let body: Option<Value> = match serde_json::from_slice::<Value>(response.body) {
            Ok(value @ Value::Object(_)) => {
                for pointer in duplicate::duplicate_members(response.body) {
                    self.push(
                        Rule::DuplicateMember,
                        Location::Body(pointer),
                        "unique member names (RFC 8259 §4)",
                        "the name more than once: a client cannot know which value wins",
                    );
                }
                Some(value)
            }
            Ok(other) => {
                self.push(
                    Rule::NotJson,
                    Location::Body(String::new()),
                    "a JSON object",
                    json_kind(&other),
                );
                None
            }
            Err(e) => {
                self.push(
                    Rule::NotJson,
                    Location::Body(String::new()),
                    "a JSON object",
                    not_json(response.body, &e),
                );
                None
            }
        };

        // Where the platform's code is: by default the body's `code` member
        // in a problem, the `x-error-code` header in a SCIM error (whose body
        // holds only the RFC's members); the caller may name another place,
        // or none at all.
        let code_at = expect
            .code_at
            .clone()
            .unwrap_or_else(|| CodeAt::default_for(envelope));
        let (sent_name, location) = match &code_at {
            CodeAt::Body(pointer) => (
                body.as_ref()
                    .and_then(|b| b.pointer(pointer))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                Some(Location::Body(pointer.clone())),
            ),
            CodeAt::Header(name) => (
                response
                    .headers
                    .get(name.as_str())
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
                Some(Location::Header(name.clone())),
            ),
            CodeAt::Nowhere => (None, None),
        };
        let sent_code = sent_name.as_deref().and_then(|n| Code::from_name(n).ok());
        // The code the rest of the checks judge by: the expected one, or the
        // response's own when nothing was expected.
        let code = expect.code.or(sent_code);
        if self.anchor.is_none() {
            self.anchor = code.map(|c| c.anchor().to_owned());
        }

        if let Some(at) = location
            && (body.is_some() || matches!(code_at, CodeAt::Header(_)))
        {
            self.check_code(response, expect, at, sent_name.as_deref(), sent_code);
        }
        // A problem's `x-error-code` header is optional, but when sent it
        // must name the same code as the body.
        if envelope == Envelope::Problem
            && matches!(code_at, CodeAt::Body(_))
            && let (Some(body_name), Some(header)) = (
                sent_name.as_deref(),
                response.headers.get(ERROR_CODE_HEADER),
            )
            && header.as_bytes() != body_name.as_bytes()
        {
            self.push(
                Rule::Code,
                Location::Header(ERROR_CODE_HEADER.into()),
                format!("{body_name} (the body's code)"),
                String::from_utf8_lossy(header.as_bytes()).into_owned(),
            );
        }
        if let Some(body) = &body {
            self.check_status_member(response, body, envelope);
            match envelope {
                Envelope::Problem => self.check_type_link(body, code, expect.docs_base.as_deref()),
                Envelope::Scim => self.check_scim_type(body, code),
            }
            self.check_schema(body, envelope);
        }
        if let Some(code) = code {
            self.check_headers(response, body.as_ref(), code, envelope);
        }
    }

    fn check_code(
        &mut self,
        response: &Response<'_>,
        expect: &Expect,
        at: Location,
        name: Option<&str>,
        documented: Option<Code>,
    ) {
        match (name, documented, expect.code) {
            (None, _, expected) => {
                let want = expected.map_or("a documented code".to_owned(), |c| c.name().to_owned());
                self.push(Rule::Code, at, want, "absent");
            }
            (Some(name), None, _) => {
                let shown = if name.is_empty() {
                    "\"\" (empty)"
                } else {
                    name
                };
                self.push(
                    Rule::UndocumentedCode,
                    at,
                    "a code documented in the catalog",
                    shown,
                );
            }
            (Some(_), Some(found), Some(expected)) if found != expected => {
                self.push(Rule::Code, at, expected.name(), found.name());
            }
            (Some(_), Some(found), None) if found.status() != response.status => {
                self.push(
                    Rule::StatusCodeMismatch,
                    Location::Status,
                    format!("{} (documented for {found})", found.status()),
                    response.status.to_string(),
                );
            }
            _ => {}
        }
    }

    /// The `scimType` a SCIM error must carry for its code: the catalog's
    /// keyword where it has one, none on a 404 (RFC 7644 section 3.12).
    fn check_scim_type(&mut self, body: &Value, code: Option<Code>) {
        let Some(code) = code else { return };
        let at = Location::Body("/scimType".into());
        let found = body.get("scimType");
        match (ScimType::of(code), found) {
            (Some(want), Some(Value::String(got))) if ScimType::parse(got) == Some(want) => {}
            (Some(want), other) => {
                let actual = other.map_or("absent".to_owned(), describe);
                self.push(Rule::ScimType, at, format!("\"{want}\""), actual);
            }
            (None, Some(other)) if code.status() == 404 => {
                self.push(
                    Rule::ScimType,
                    at,
                    "absent (a 404 carries no scimType)",
                    describe(other),
                );
            }
            (None, _) => {}
        }
    }

    fn check_status_member(&mut self, response: &Response<'_>, body: &Value, envelope: Envelope) {
        let at = Location::Body("/status".into());
        let found = body.get("status");
        let http = response.status;
        match (envelope, found) {
            (_, None) => self.push(
                Rule::StatusMember,
                at,
                expected_status(envelope, http),
                "absent",
            ),
            (Envelope::Problem, Some(Value::Number(n))) if n.as_u64() == Some(u64::from(http)) => {}
            (Envelope::Scim, Some(Value::String(s))) if *s == http.to_string() => {}
            (_, Some(other)) => {
                self.push(
                    Rule::StatusMember,
                    at,
                    expected_status(envelope, http),
                    describe(other),
                );
            }
        }
    }

    fn check_type_link(&mut self, body: &Value, code: Option<Code>, docs_base: Option<&str>) {
        let Some(code) = code else { return };
        let at = Location::Body("/type".into());
        let found = body.get("type");
        let expected = match docs_base {
            Some(base) => code.type_url(base),
            None => format!("an absolute URL ending in {DOCS_PATH}#{}", code.anchor()),
        };
        let ok = match found.and_then(Value::as_str) {
            Some(url) => match docs_base {
                Some(_) => url == expected,
                None => {
                    let absolute = url.starts_with("https://") || url.starts_with("http://");
                    let suffix = format!("{DOCS_PATH}#{}", code.anchor());
                    absolute && url.ends_with(&suffix) && url.matches('#').count() == 1
                }
            },
            None => false,
        };
        if !ok {
            let actual = found.map_or("absent".to_owned(), describe);
            self.push(Rule::TypeLink, at, expected, actual);
        }
    }

    fn check_schema(&mut self, body: &Value, envelope: Envelope) {
        // Members with their own rule above are reported there, not twice.
        const OWN_RULES: [&str; 4] = ["/code", "/status", "/type", "/scimType"];
        let validators = validators();
        let validator = match envelope {
            Envelope::Problem => &validators.problem,
            Envelope::Scim => &validators.scim,
        };
        let mut found: Vec<Violation> = Vec::new();
        for error in validator.iter_errors(body) {
            if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
                error.kind()
            {
                // One finding per member a strict client would reject.
                for name in unexpected {
                    let member = body.get(name.as_str()).map_or("?".to_owned(), describe);
                    found.push(Violation {
                        rule: Rule::Schema,
                        at: Location::Body(format!(
                            "{}/{}",
                            error.instance_path().as_str(),
                            escape_pointer(name)
                        )),
                        expected:
                            "no such member (RFC 7644 defines schemas, status, scimType, detail)"
                                .to_owned(),
                        actual: member,
                        anchor: self.anchor.clone(),
                    });
                }
                continue;
            }
            let mut pointer = error.instance_path().as_str().to_owned();
            let (expected, actual) = match error.kind() {
                jsonschema::error::ValidationErrorKind::Required { property } => {
                    let name = property.as_str().unwrap_or_default();
                    pointer = format!("{pointer}/{}", escape_pointer(name));
                    (format!("member `{name}`"), "absent".to_owned())
                }
                jsonschema::error::ValidationErrorKind::MinItems { limit } => (
                    format!("at least {limit} item(s)"),
                    describe(error.instance()),
                ),
                jsonschema::error::ValidationErrorKind::Constant { expected_value } => {
                    (expected_value.to_string(), describe(error.instance()))
                }
                _ => (schema_expectation(&error), describe(error.instance())),
            };
            if OWN_RULES.contains(&pointer.as_str()) {
                continue;
            }
            let violation = Violation {
                rule: Rule::Schema,
                at: Location::Body(pointer),
                expected,
                actual,
                anchor: self.anchor.clone(),
            };
            if !found.contains(&violation) {
                found.push(violation);
            }
        }
        found.sort_by(|a, b| a.at.cmp(&b.at));
        self.violations.extend(found);
    }

    fn check_headers(
        &mut self,
        response: &Response<'_>,
        body: Option<&Value>,
        code: Code,
        envelope: Envelope,
    ) {
        if let Some(challenge) = code.info().challenge {
            self.check_challenge(response.headers, challenge);
        }
        if code.requires(Extra::RetryAfter) {
            let at = Location::Header("retry-after".into());
            let header = response
                .headers
                .get(http::header::RETRY_AFTER)
                .map(|v| v.to_str().unwrap_or("(not text)"));
            let seconds = match header {
                None => {
                    self.push(Rule::RetryAfter, at, "delay-seconds", "absent");
                    return;
                }
                Some(value) => match value.trim().parse::<u64>() {
                    Ok(seconds) if value.trim().bytes().all(|b| b.is_ascii_digit()) => seconds,
                    _ => {
                        self.push(Rule::RetryAfter, at, "delay-seconds", value);
                        return;
                    }
                },
            };
            if envelope == Envelope::Problem
                && let Some(body_value) = body
                    .and_then(|b| b.get("retry_after"))
                    .and_then(Value::as_u64)
                && body_value != seconds
            {
                self.push(
                    Rule::RetryAfter,
                    Location::Body("/retry_after".into()),
                    format!("{seconds} (the Retry-After header)"),
                    body_value.to_string(),
                );
            }
        }
    }

    fn check_challenge(&mut self, headers: &HeaderMap, want: Challenge) {
        let at = Location::Header("www-authenticate".into());
        let challenges: Vec<challenge::Challenge> = headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .flat_map(|v| challenge::parse(v.to_str().unwrap_or_default()))
            .collect();
        let Some(bearer) = challenges
            .iter()
            .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
        else {
            let actual = if challenges.is_empty() {
                "absent".to_owned()
            } else {
                challenges
                    .iter()
                    .map(|c| c.scheme.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            self.push(Rule::WwwAuthenticate, at, "a Bearer challenge", actual);
            return;
        };
        let error = bearer.param("error");
        match want {
            Challenge::None => {}
            Challenge::Any => {
                if let Some(e) = error
                    && e != "invalid_token"
                    && e != "invalid_request"
                {
                    self.push(
                        Rule::WwwAuthenticate,
                        at,
                        "error absent, \"invalid_token\" or \"invalid_request\"",
                        format!("error=\"{e}\""),
                    );
                }
            }
            Challenge::Error(wanted) => {
                if error != Some(wanted) {
                    let actual = error.map_or("no error attribute".to_owned(), |e| {
                        format!("error=\"{e}\"")
                    });
                    self.push(
                        Rule::WwwAuthenticate,
                        at,
                        format!("error=\"{wanted}\""),
                        actual,
                    );
                }
            }
        }
    }
}

/// The media type's essence (`application/problem+json`), lowercased, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(http::header::CONTENT_TYPE)?;
    let text = value.to_str().ok()?;
    Some(
        text.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase(),
    )
}

fn expected_status(envelope: Envelope, http: u16) -> String {
    match envelope {
        Envelope::Problem => format!("{http} (a JSON number equal to the HTTP status)"),
        Envelope::Scim => format!("\"{http}\" (a JSON string equal to the HTTP status)"),
    }
}

fn json_kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a JSON boolean".into(),
        Value::Number(_) => "a JSON number".into(),
        Value::String(_) => "a JSON string".into(),
        Value::Array(_) => "a JSON array".into(),
        Value::Object(_) => "a JSON object".into(),
    }
}

/// A short rendering of a JSON value for a finding.
fn describe(value: &Value) -> String {
    let text = value.to_string();
    let kind = match value {
        Value::Number(_) => " (a number)",
        Value::String(_) => " (a string)",
        _ => "",
    };
    format!("{}{kind}", truncate(&text, 80))
}

fn not_json(body: &[u8], error: &serde_json::Error) -> String {
    if body.is_empty() {
        return "an empty body".into();
    }
    let preview = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
    format!(
        "{:?} (line {} column {}: {})",
        truncate(&preview, 40),
        error.line(),
        error.column(),
        error.classify_name()
    )
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "i/o error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "data error",
            serde_json::error::Category::Eof => "unexpected end",
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

fn escape_pointer(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// What a schema keyword wanted, in words.
fn schema_expectation(error: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::ValidationErrorKind as K;
    match error.kind() {
        K::Type { kind } => format!("type {kind:?}")
            .replace("Single(", "")
            .replace(')', "")
            .to_lowercase(),
        K::Enum { options } => format!("one of {options}"),
        K::MinLength { limit } => format!("at least {limit} character(s)"),
        K::Pattern { pattern } => format!("a match for /{pattern}/"),
        K::Minimum { limit } => format!("at least {limit}"),
        K::Maximum { limit } => format!("at most {limit}"),
        K::AnyOf { .. } => "one of the allowed shapes (e.g. `pointer` or `parameter`)".into(),
        // `contains` is only used for the SCIM `schemas` member.
        K::Contains => format!("an item \"{}\"", schema::SCIM_ERROR_URN),
        _ => {
            let message = error.to_string();
            truncate(&message, 120)
        }
    }
}
