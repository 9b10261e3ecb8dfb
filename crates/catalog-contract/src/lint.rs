//! An OpenAPI 3.x document held against the catalog.
//!
//! Rules (each [`Finding`] names one, with a JSON Pointer into the document):
//!
//! - `undocumented-status`: an error response (4xx/5xx) whose status no
//!   catalog code has (a 409, a 500);
//! - `status-without-code`: an operation that declares codes answers an error
//!   status none of its declared codes has;
//! - `code-without-response`: an operation declares a code but no response
//!   with the code's status;
//! - `wrong-envelope`: an error response without a body, with a media type
//!   other than `application/problem+json` / `application/scim+json`, or
//!   whose schema is not the problem (RFC 9457) or SCIM error (RFC 7644)
//!   schema for that media type;
//! - `unknown-code`: a code the catalog does not document, named in
//!   `x-error-codes`, in a `code` property's `enum` / `const` / examples, in an
//!   `x-error-code` header's schema or example, or in an example outside
//!   request bodies and parameters;
//! - `undeclared-code`: a documented code no operation declares;
//! - `missing-www-authenticate`: a 401 response without a `WWW-Authenticate`
//!   header.
//!
//! An operation declares a code by listing it in its `x-error-codes`
//! extension or by showing it in one of its responses' examples. Local
//! `$ref`s (`#/...`) are followed; a `$ref` to a file named
//! `problem.schema.json` or `scim-error.schema.json` counts as that schema,
//! and any other schema is recognised by its properties.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::ContractError;
use crate::model::Catalog;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const PROBLEM_MEDIA_TYPE: &str = "application/problem+json";
const SCIM_MEDIA_TYPE: &str = "application/scim+json";

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable kebab-case rule name.
    pub rule: &'static str,
    /// JSON Pointer (RFC 6901) to the offending place in the document.
    pub at: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
    /// The catalog code's anchor on the reference page, when one code is concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
}

impl Finding {
    /// `rule at: message`, one line, control characters escaped.
    pub fn line(&self) -> String {
        crate::printable(&format!("{} {}: {}", self.rule, self.at, self.message))
    }
}

/// Lints a parsed document. `origin` names it in errors.
pub fn lint(doc: &Value, catalog: &Catalog, origin: &str) -> Result<Vec<Finding>, ContractError> {
    let not_openapi = |message: &str| ContractError::NotOpenApi {
        origin: origin.to_owned(),
        message: message.to_owned(),
    };
    let version = doc
        .get("openapi")
        .and_then(Value::as_str)
        .ok_or_else(|| not_openapi("no `openapi` version string"))?;
    if !version.starts_with("3.") {
        return Err(not_openapi(&format!("`openapi` is {version}, not 3.x")));
    }
    let paths = match doc.get("paths") {
        Some(Value::Object(paths)) => paths,
        None => &Map::new(),
        Some(_) => return Err(not_openapi("`paths` is not an object")),
    };
    let mut linter = Linter {
        doc,
        catalog,
        findings: Vec::new(),
        declared: BTreeSet::new(),
    };
    for (path, item) in paths {
        let item = linter.resolve(item);
        for method in METHODS {
            if let Some(op) = item.get(method) {
                let at = format!("/paths/{}/{method}", escape(path));
                let label = format!("{} {path}", method.to_ascii_uppercase());
                linter.operation(op, &at, &label);
            }
        }
    }
    linter.walk_codes(doc, String::new(), false);
    for code in &catalog.codes {
        if !linter.declared.contains(&code.code) {
            linter.findings.push(Finding {
                rule: "undeclared-code",
                at: "/paths".to_owned(),
                message: format!(
                    "the catalog documents `{}` ({}), but no operation declares it",
                    code.code, code.status
                ),
                hint: "list the code in `x-error-codes` of every operation that returns it"
                    .to_owned(),
                anchor: Some(code.anchor.clone()),
            });
        }
    }
    Ok(linter.findings)
}

struct Linter<'a> {
    doc: &'a Value,
    catalog: &'a Catalog,
    findings: Vec<Finding>,
    /// Codes some operation declares.
    declared: BTreeSet<String>,
}

/// A response key: a status, a range (`4XX`) or `default`.
#[derive(Clone, Copy)]
enum StatusKey {
    Exact(u16),
    Range(u16),
    Default,
}

impl StatusKey {
    fn parse(key: &str) -> Option<StatusKey> {
        if key == "default" {
            return Some(StatusKey::Default);
        }
        if let [d, b'X' | b'x', b'X' | b'x'] = key.as_bytes()
            && (b'1'..=b'5').contains(d)
        {
            return Some(StatusKey::Range(u16::from(d - b'0')));
        }
        key.parse().ok().map(StatusKey::Exact)
    }

    fn covers(self, status: u16) -> bool {
        match self {
            StatusKey::Exact(s) => s == status,
            StatusKey::Range(class) => status / 100 == class,
            StatusKey::Default => true,
        }
    }

    fn is_error(self) -> bool {
        match self {
            StatusKey::Exact(s) => s >= 400,
            StatusKey::Range(class) => class >= 4,
            StatusKey::Default => false,
        }
    }
}

impl<'a> Linter<'a> {
    /// Follows local `$ref`s (at most 32 hops); anything else is returned as is.
    fn resolve(&self, mut value: &'a Value) -> &'a Value {
        for _ in 0..32 {
            let Some(pointer) = value
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
            else {
                return value;
            };
            match self.doc.pointer(pointer) {
                Some(target) => value = target,
                None => return value,
            }
        }
        value
    }

    fn push(
        &mut self,
        rule: &'static str,
        at: &str,
        message: String,
        hint: &str,
        anchor: Option<&str>,
    ) {
        self.findings.push(Finding {
            rule,
            at: at.to_owned(),
            message,
            hint: hint.to_owned(),
            anchor: anchor.map(str::to_owned),
        });
    }

    fn operation(&mut self, op: &'a Value, at: &str, label: &str) {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        let empty = EMPTY.get_or_init(Map::new);
        let responses = op
            .get("responses")
            .map(|r| self.resolve(r))
            .and_then(Value::as_object)
            .unwrap_or(empty);
        // The codes this operation declares: x-error-codes and response examples.
        let mut declared: Vec<String> = op
            .get("x-error-codes")
            .and_then(Value::as_array)
            .map(|codes| {
                codes
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        for response in responses.values() {
            let mut found = Vec::new();
            self.example_codes(self.resolve(response), false, &mut found);
            declared.extend(found);
        }
        declared.sort();
        declared.dedup();
        let known: Vec<(&str, u16, &str)> = declared
            .iter()
            .filter_map(|name| {
                self.catalog
                    .codes
                    .iter()
                    .find(|c| &c.code == name)
                    .map(|c| (c.code.as_str(), c.status, c.anchor.as_str()))
            })
            .collect();
        self.declared
            .extend(known.iter().map(|(name, _, _)| (*name).to_owned()));

        let keys: Vec<(String, StatusKey)> = responses
            .keys()
            .filter_map(|k| StatusKey::parse(k).map(|s| (k.clone(), s)))
            .collect();
        for (key, status) in &keys {
            let response = self.resolve(&responses[key]);
            let at = format!("{at}/responses/{}", escape(key));
            if !status.is_error() {
                continue;
            }
            let documented: Vec<&str> = self
                .catalog
                .codes
                .iter()
                .filter(|c| status.covers(c.status))
                .map(|c| c.code.as_str())
                .collect();
            if documented.is_empty() {
                self.push(
                    "undocumented-status",
                    &at,
                    format!("{label} answers {key}, a status no catalog code has"),
                    "remove the response, or document a code with this status in the catalog",
                    None,
                );
            } else if !known.is_empty() && !known.iter().any(|&(_, s, _)| status.covers(s)) {
                self.push(
                    "status-without-code",
                    &at,
                    format!(
                        "{label} answers {key} but declares none of its codes ({})",
                        documented.join(", ")
                    ),
                    "add the codes it returns with this status to `x-error-codes`, or remove the response",
                    None,
                );
            }
            self.envelope(response, &at, label, key);
            if matches!(status, StatusKey::Exact(401)) {
                let has_challenge = response
                    .get("headers")
                    .and_then(Value::as_object)
                    .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("WWW-Authenticate")));
                if !has_challenge {
                    self.push(
                        "missing-www-authenticate",
                        &at,
                        format!("{label} answers 401 without a `WWW-Authenticate` header declared"),
                        "declare `WWW-Authenticate` in the response's headers (RFC 9110 section 11.6.1 requires it on every 401)",
                        None,
                    );
                }
            }
        }
        if let Some(codes) = op.get("x-error-codes").and_then(Value::as_array) {
            for (i, name) in codes.iter().enumerate() {
                let Some(&(name, status, anchor)) =
                    known.iter().find(|k| Some(k.0) == name.as_str())
                else {
                    continue;
                };
                if !keys.iter().any(|(_, key)| key.covers(status)) {
                    self.push(
                        "code-without-response",
                        &format!("{at}/x-error-codes/{i}"),
                        format!("{label} declares `{name}` but no {status} response"),
                        "add the response with the code's status, or remove the code from `x-error-codes`",
                        Some(anchor),
                    );
                }
            }
        }
    }

    fn envelope(&mut self, response: &'a Value, at: &str, label: &str, key: &str) {
        const HINT: &str = "answer errors as `application/problem+json` with the problem schema (RFC 9457), or `application/scim+json` with the SCIM error schema (RFC 7644) on SCIM endpoints";
        let content = response.get("content").and_then(Value::as_object);
        let Some(content) = content.filter(|c| !c.is_empty()) else {
            self.push(
                "wrong-envelope",
                at,
                format!("{label} {key} declares no body"),
                HINT,
                None,
            );
            return;
        };
        for (media_type, media) in content {
            let at = format!("{at}/content/{}", escape(media_type));
            let expected = match media_type.as_str() {
                PROBLEM_MEDIA_TYPE => Envelope::Problem,
                SCIM_MEDIA_TYPE => Envelope::Scim,
                other => {
                    self.push(
                        "wrong-envelope",
                        &at,
                        format!("{label} {key} is sent as `{other}`"),
                        HINT,
                        None,
                    );
                    continue;
                }
            };
            let actual = media.get("schema").and_then(|s| self.envelope_of(s));
            if actual != Some(expected) {
                self.push(
                    "wrong-envelope",
                    &format!("{at}/schema"),
                    format!(
                        "{label} {key}: the `{media_type}` schema is not the {} schema",
                        expected.name()
                    ),
                    HINT,
                    None,
                );
            }
        }
    }

    /// Which error schema a schema is: by file name for external `$ref`s,
    /// else by its properties (through local `$ref`s and `allOf`).
    fn envelope_of(&self, schema: &'a Value) -> Option<Envelope> {
        let schema = self.resolve(schema);
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let file = reference.split('#').next().unwrap_or_default();
            return if file.ends_with("problem.schema.json") {
                Some(Envelope::Problem)
            } else if file.ends_with("scim-error.schema.json") {
                Some(Envelope::Scim)
            } else {
                None
            };
        }
        let mut properties = BTreeSet::new();
        self.properties(schema, &mut properties, 0);
        let has = |names: &[&str]| names.iter().all(|n| properties.contains(*n));
        if has(&["type", "title", "status", "code"]) {
            Some(Envelope::Problem)
        } else if has(&["schemas", "status", "detail"]) {
            Some(Envelope::Scim)
        } else {
            None
        }
    }

    fn properties(&self, schema: &'a Value, out: &mut BTreeSet<String>, depth: usize) {
        if depth > 8 {
            return;
        }
        let schema = self.resolve(schema);
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            out.extend(props.keys().cloned());
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for part in all {
                self.properties(part, out, depth + 1);
            }
        }
    }

    /// Codes shown in examples under `value` (`code` members of example
    /// objects, `x-error-code` header examples), following local `$ref`s.
    fn example_codes(&self, value: &'a Value, in_example: bool, out: &mut Vec<String>) {
        let value = self.resolve(value);
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let child_in_example = in_example || key == "example" || key == "examples";
                    if in_example
                        && key == "code"
                        && let Some(code) = child.as_str()
                    {
                        out.push(code.to_owned());
                    }
                    if key.eq_ignore_ascii_case("x-error-code") {
                        let header = self.resolve(child);
                        for example in ["example", "examples"] {
                            strings(header.get(example), out);
                        }
                    }
                    self.example_codes(child, child_in_example, out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.example_codes(item, in_example, out);
                }
            }
            _ => {}
        }
    }

    /// The whole document: every place a code is named, checked against the catalog.
    fn walk_codes(&mut self, value: &'a Value, at: String, in_example: bool) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    // Requests are not errors: a `code` there is something else
                    // (a one-time password, a coupon).
                    if matches!(key.as_str(), "requestBody" | "requestBodies" | "parameters") {
                        continue;
                    }
                    let child_at = format!("{at}/{}", escape(key));
                    if key == "x-error-codes" {
                        if let Some(items) = child.as_array() {
                            for (i, item) in items.iter().enumerate() {
                                self.check_code(item, &format!("{child_at}/{i}"));
                            }
                        }
                        continue;
                    }
                    if in_example && key == "code" && child.is_string() {
                        self.check_code(child, &child_at);
                    }
                    if key == "properties"
                        && let Some(code_schema) = child.get("code")
                    {
                        self.check_named_values(code_schema, &format!("{child_at}/code"));
                    }
                    if key.eq_ignore_ascii_case("x-error-code") {
                        self.check_named_values(child, &child_at);
                        if let Some(schema) = child.get("schema") {
                            self.check_named_values(schema, &format!("{child_at}/schema"));
                        }
                        if let Some(example) = child.get("example") {
                            self.check_code(example, &format!("{child_at}/example"));
                        }
                        if let Some(examples) = child.get("examples").and_then(Value::as_object) {
                            for (name, example) in examples {
                                if let Some(value) = example.get("value") {
                                    let at = format!("{child_at}/examples/{}/value", escape(name));
                                    self.check_code(value, &at);
                                }
                            }
                        }
                        continue;
                    }
                    let child_in_example = in_example || key == "example" || key == "examples";
                    self.walk_codes(child, child_at, child_in_example);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk_codes(item, format!("{at}/{i}"), in_example);
                }
            }
            _ => {}
        }
    }

    /// `enum` and `const` of a schema naming codes (examples are found by the walk).
    fn check_named_values(&mut self, schema: &'a Value, at: &str) {
        if let Some(items) = schema.get("enum").and_then(Value::as_array) {
            for (i, item) in items.iter().enumerate() {
                self.check_code(item, &format!("{at}/enum/{i}"));
            }
        }
        if let Some(item) = schema.get("const") {
            self.check_code(item, &format!("{at}/const"));
        }
    }

    fn check_code(&mut self, value: &Value, at: &str) {
        let Some(name) = value.as_str() else {
            return;
        };
        if self.catalog.codes.iter().any(|c| c.code == name) {
            return;
        }
        let squash = |s: &str| s.replace(['_', '-'], "").to_ascii_lowercase();
        let near = self
            .catalog
            .codes
            .iter()
            .find(|c| squash(&c.code) == squash(name));
        let hint = match near {
            Some(code) => format!("did you mean `{}`? Codes are case-sensitive", code.code),
            None => "use a documented code, or document this one in the catalog first".to_owned(),
        };
        self.findings.push(Finding {
            rule: "unknown-code",
            at: at.to_owned(),
            message: format!("`{name}` is not a documented code"),
            hint,
            anchor: near.map(|c| c.anchor.clone()),
        });
    }
}

fn strings(value: Option<&Value>, out: &mut Vec<String>) {
    match value {
        Some(Value::String(s)) => out.push(s.clone()),
        Some(Value::Array(items)) => {
            out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        Some(Value::Object(map)) => {
            out.extend(
                map.values()
                    .filter_map(|e| e.get("value"))
                    .filter_map(Value::as_str)
                    .map(str::to_owned),
            );
        }
        _ => {}
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Envelope {
    Problem,
    Scim,
}

impl Envelope {
    fn name(self) -> &'static str {
        match self {
            Envelope::Problem => "problem (RFC 9457)",
            Envelope::Scim => "SCIM error (RFC 7644)",
        }
    }
}

/// RFC 6901 escaping of one reference token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
