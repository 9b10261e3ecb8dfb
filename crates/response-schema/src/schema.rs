//! The JSON Schemas of the two error envelopes, derived from the catalog.
//!
//! `cargo xtask codegen` writes them to `schemas/`; a test fails when the
//! committed files are stale, so a code added to the catalog cannot be
//! forgotten in the schemas.

use catalog::{Code, DOCS_PATH, Envelope, Extra};
use serde_json::{Value, json};

use crate::ScimType;

/// The base of the schemas' `$id`s.
pub const SCHEMA_BASE: &str = "https://docs.platform.example/schemas";

/// The SCIM error message schema URN (RFC 7644 section 3.12).
pub const SCIM_ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The JSON Pointer grammar of RFC 6901 as a regular expression.
pub const JSON_POINTER_PATTERN: &str = "^(/([^~/]|~[01])*)*$";

/// File names and contents of every generated schema.
pub fn all() -> Vec<(&'static str, Value)> {
    vec![
        ("problem.schema.json", problem()),
        ("scim-error.schema.json", scim_error()),
    ]
}

/// Pattern a `type` URL must match for `code`: any base, then the reference
/// page path and the code's anchor.
pub fn type_pattern(code: Code) -> String {
    format!("^https?://[^#]*{DOCS_PATH}#{}$", code.anchor())
}

/// RFC 9457 problem details as the platform sends them.
pub fn problem() -> Value {
    let codes: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| c.info().envelope == Envelope::Problem)
        .map(|c| c.name())
        .collect();
    let rules: Vec<Value> = Code::ALL
        .iter()
        .filter(|c| c.info().envelope == Envelope::Problem)
        .map(|&code| {
            let mut then = json!({
                "properties": {
                    "status": { "const": code.status() },
                    "type": { "pattern": type_pattern(code) },
                },
            });
            let mut required = Vec::new();
            if code.requires(Extra::Purpose) {
                required.push("purpose");
            }
            if code.requires(Extra::Errors) {
                required.push("errors");
                then["properties"]["errors"] = json!({ "minItems": 1 });
            }
            if code.requires(Extra::RetryAfter) {
                required.push("retry_after");
            }
            if !required.is_empty() {
                then["required"] = json!(required);
            }
            rule(code, then)
        })
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{SCHEMA_BASE}/problem.schema.json"),
        "title": "Platform error (RFC 9457 problem details)",
        "description": "Body of every non-SCIM platform error, sent as application/problem+json. Generated from crates/catalog by `cargo xtask codegen`.",
        "type": "object",
        "required": ["type", "title", "status", "detail", "code", "request_id"],
        "properties": {
            "type": {
                "description": "The reference page URL at the code's anchor.",
                "type": "string",
                "pattern": "^https?://",
            },
            "title": { "type": "string", "minLength": 1 },
            "status": { "type": "integer", "minimum": 400, "maximum": 599 },
            "detail": { "type": "string", "minLength": 1 },
            "instance": { "type": "string" },
            "code": { "enum": codes },
            "request_id": { "type": "string", "minLength": 1 },
            "purpose": {
                "description": "The step-up ceremony the action needs (STEP_UP_REQUIRED).",
                "type": "string",
                "minLength": 1,
            },
            "errors": {
                "description": "Every offending field (ValidationError).",
                "type": "array",
                "items": { "$ref": "#/$defs/fieldError" },
            },
            "retry_after": {
                "description": "Seconds to wait, equal to the Retry-After header.",
                "type": "integer",
                "minimum": 0,
            },
        },
        "allOf": rules,
        "$defs": {
            "fieldError": {
                "type": "object",
                "required": ["detail"],
                "properties": {
                    "pointer": {
                        "description": "RFC 6901 JSON Pointer into the request body.",
                        "type": "string",
                        "pattern": JSON_POINTER_PATTERN,
                    },
                    "parameter": {
                        "description": "Name of the offending query parameter.",
                        "type": "string",
                        "minLength": 1,
                    },
                    "detail": { "type": "string", "minLength": 1 },
                },
                "anyOf": [{ "required": ["pointer"] }, { "required": ["parameter"] }],
            },
        },
    })
}

/// RFC 7644 section 3.12 SCIM errors: the four members the RFC defines and
/// no other, since strict SCIM clients reject unknown members. The platform's
/// code travels in the `x-error-code` header; `$defs` lists its values and the
/// `scimType` each code requires, both generated from the catalog.
pub fn scim_error() -> Value {
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
    let scim_types: serde_json::Map<String, Value> = Code::ALL
        .iter()
        .filter_map(|c| c.info().scim_type.map(|t| (c.name().to_owned(), json!(t))))
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{SCHEMA_BASE}/scim-error.schema.json"),
        "title": "Platform SCIM error (RFC 7644 section 3.12)",
        "description": "Body of every error from /scim/v2, sent as application/scim+json. The platform's code is in the x-error-code response header, the request id in x-request-id. Generated from crates/catalog by `cargo xtask codegen`.",
        "type": "object",
        "required": ["schemas", "status", "detail"],
        "additionalProperties": false,
        "properties": {
            "schemas": {
                "type": "array",
                "items": { "type": "string" },
                "contains": { "const": SCIM_ERROR_URN },
                "minItems": 1,
            },
            "status": {
                "description": "The HTTP status as a JSON string.",
                "type": "string",
                "pattern": "^[45][0-9][0-9]$",
            },
            "scimType": {
                "enum": ScimType::ALL,
            },
            "detail": { "type": "string", "minLength": 1 },
        },
        "$defs": {
            "errorCodeHeader": {
                "description": "Values of the x-error-code response header.",
                "enum": codes,
            },
            "scimTypeByCode": {
                "description": "The scimType each code requires; a 404 carries none.",
                "type": "object",
                "const": scim_types,
            },
        },
    })
}

fn rule(code: Code, then: Value) -> Value {
    json!({
        "if": {
            "properties": { "code": { "const": code.name() } },
            "required": ["code"],
        },
        "then": then,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_is_a_valid_2020_12_document() {
        for (name, schema) in all() {
            assert_eq!(
                schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
                "{name}"
            );
            let errors: Vec<String> = jsonschema::draft202012::meta::validator()
                .iter_errors(&schema)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{name}: {errors:?}");
            assert!(
                jsonschema::draft202012::new(&schema).is_ok(),
                "{name} compiles"
            );
        }
    }

    #[test]
    fn every_code_is_in_its_envelope_schemas() {
        let problem = problem().to_string();
        let scim = scim_error();
        let header_values = scim["$defs"]["errorCodeHeader"]["enum"]
            .as_array()
            .expect("an enum");
        for &code in Code::ALL {
            assert!(
                header_values.contains(&json!(code.name())),
                "{code} missing from the SCIM schema"
            );
            if let Some(t) = code.info().scim_type {
                assert!(
                    ScimType::parse(t).is_some(),
                    "{code}: {t} is not an RFC 7644 scimType"
                );
                assert_eq!(scim["$defs"]["scimTypeByCode"]["const"][code.name()], t);
            }
            let rule = format!("\"const\":\"{}\"", code.name());
            assert_eq!(
                problem.contains(&rule),
                code.info().envelope == Envelope::Problem,
                "{code} in the problem schema"
            );
        }
    }
}
