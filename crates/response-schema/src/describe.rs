//! Findings in words: a JSON value, a media type, a parse error or a schema
//! keyword described briefly for a person reading a violation.

use catalog::Envelope;
use http::HeaderMap;
use serde_json::Value;

use crate::schema;

/// The media type's essence (`application/problem+json`), lowercased, without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
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

pub(crate) fn expected_status(envelope: Envelope, http: u16) -> String {
    match envelope {
        Envelope::Problem => format!("{http} (a JSON number equal to the HTTP status)"),
        Envelope::Scim => format!("\"{http}\" (a JSON string equal to the HTTP status)"),
    }
}

pub(crate) fn json_kind(value: &Value) -> String {
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
pub(crate) fn describe(value: &Value) -> String {
    let text = value.to_string();
    let kind = match value {
        Value::Number(_) => " (a number)",
        Value::String(_) => " (a string)",
        _ => "",
    };
    format!("{}{kind}", truncate(&text, 80))
}

pub(crate) fn not_json(body: &[u8], error: &serde_json::Error) -> String {
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

pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// What a schema keyword wanted, in words.
pub(crate) fn schema_expectation(error: &jsonschema::ValidationError<'_>) -> String {
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
