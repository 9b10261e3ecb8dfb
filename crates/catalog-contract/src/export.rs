//! `docs/catalog.json` and `schemas/catalog.schema.json`, built from the
//! Rust catalog.

use catalog::{Category, Challenge, Code, Envelope, Extra};
use serde_json::{Value, json};

use crate::model::{Catalog, CategoryDoc, ChallengeDoc, CodeDoc, EnvelopeDoc, MemberDoc};

/// This build's catalog, as the JSON model.
pub fn catalog() -> Catalog {
    Catalog {
        version: catalog::VERSION.to_owned(),
        docs_path: catalog::DOCS_PATH.to_owned(),
        categories: Category::ALL
            .iter()
            .map(|c| CategoryDoc {
                slug: c.slug().to_owned(),
                title: c.title().to_owned(),
                description: c.description().to_owned(),
            })
            .collect(),
        codes: Code::ALL.iter().map(|&code| code_doc(code)).collect(),
        precedence: catalog::PRECEDENCE
            .iter()
            .map(|c| c.name().to_owned())
            .collect(),
    }
}

fn code_doc(code: Code) -> CodeDoc {
    let info = code.info();
    CodeDoc {
        code: info.name.to_owned(),
        status: info.status,
        anchor: info.anchor.to_owned(),
        anchor_aliases: code.anchor_aliases().map(str::to_owned).collect(),
        category: info.category.slug().to_owned(),
        title: info.title.to_owned(),
        meaning: info.meaning.to_owned(),
        fix: info.fix.to_owned(),
        envelope: match info.envelope {
            Envelope::Problem => EnvelopeDoc::Problem,
            Envelope::Scim => EnvelopeDoc::Scim,
        },
        challenge: info.challenge.map(|challenge| {
            let (rule, error) = match challenge {
                Challenge::None => ("unconstrained", None),
                Challenge::Any => ("absent-or-invalid", None),
                Challenge::Error(error) => ("exact", Some(error.to_owned())),
            };
            ChallengeDoc {
                scheme: "Bearer".to_owned(),
                rule: rule.to_owned(),
                error,
            }
        }),
        scim_type: info.scim_type.map(str::to_owned),
        extra: info
            .extra
            .iter()
            .flat_map(|&extra| members(extra))
            .collect(),
    }
}

fn members(extra: Extra) -> Vec<MemberDoc> {
    let member = |name: &str, location: &str, description: &str| MemberDoc {
        name: name.to_owned(),
        location: location.to_owned(),
        required: true,
        description: description.to_owned(),
    };
    match extra {
        Extra::Purpose => vec![member(
            "purpose",
            "body",
            "A non-empty string naming the step-up ceremony.",
        )],
        Extra::Errors => vec![member(
            "errors",
            "body",
            "A non-empty list of {pointer | parameter, detail}, one per offending place.",
        )],
        Extra::RetryAfter => vec![
            member("Retry-After", "header", "Seconds to wait (delay-seconds)."),
            member(
                "retry_after",
                "body",
                "Seconds to wait, equal to the Retry-After header.",
            ),
        ],
    }
}

/// `docs/catalog.json`: pretty-printed, newline-terminated.
pub fn catalog_json() -> String {
    to_pretty(&catalog())
}

/// A catalog as the committed files spell it: pretty-printed, newline-terminated.
pub fn to_pretty(catalog: &Catalog) -> String {
    let mut text = serde_json::to_string_pretty(catalog).expect("the catalog serializes");
    text.push('\n');
    text
}

/// `schemas/catalog.schema.json`: JSON Schema 2020-12 of `docs/catalog.json`.
pub fn schema() -> Value {
    let text = json!({ "type": "string", "minLength": 1 });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://docs.platform.example/schemas/catalog.schema.json",
        "title": "Error catalog",
        "description": "The platform's documented error codes as data: every category and code with its status, anchor, texts, envelope, challenge, scimType and extra members, the precedence order and the catalog's semver version.",
        "type": "object",
        "required": ["version", "docs_path", "categories", "codes", "precedence"],
        "additionalProperties": false,
        "properties": {
            "version": {
                "description": "Semver: a new major number for a breaking change.",
                "type": "string",
                "pattern": "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$"
            },
            "docs_path": { "type": "string", "pattern": "^/" },
            "categories": { "type": "array", "minItems": 1, "items": { "$ref": "#/$defs/category" } },
            "codes": { "type": "array", "minItems": 1, "items": { "$ref": "#/$defs/code" } },
            "precedence": {
                "description": "Code names, first wins when several apply.",
                "type": "array",
                "uniqueItems": true,
                "items": { "$ref": "#/$defs/code_name" }
            }
        },
        "$defs": {
            "code_name": { "type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$" },
            "anchor": { "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$" },
            "category": {
                "type": "object",
                "required": ["slug", "title", "description"],
                "additionalProperties": false,
                "properties": {
                    "slug": { "$ref": "#/$defs/anchor" },
                    "title": text,
                    "description": text
                }
            },
            "code": code_schema(),
        }
    })
}

/// The schema of one code (split out of [`schema`] for `json!`'s recursion limit).
fn code_schema() -> Value {
    let text = json!({ "type": "string", "minLength": 1 });
    json!({
        "type": "object",
        "required": ["code", "status", "anchor", "category", "title", "meaning", "fix", "envelope", "challenge", "scimType"],
        "additionalProperties": false,
        "properties": {
            "code": { "$ref": "#/$defs/code_name" },
            "status": { "type": "integer", "minimum": 400, "maximum": 599 },
            "anchor": { "$ref": "#/$defs/anchor" },
            "anchor_aliases": { "type": "array", "uniqueItems": true, "items": { "$ref": "#/$defs/anchor" } },
            "category": { "$ref": "#/$defs/anchor" },
            "title": text,
            "meaning": text,
            "fix": text,
            "envelope": { "enum": ["problem", "scim"] },
            "challenge": {
                "oneOf": [
                    { "type": "null" },
                    {
                        "type": "object",
                        "required": ["scheme", "rule"],
                        "additionalProperties": false,
                        "properties": {
                            "scheme": text,
                            "rule": { "enum": ["unconstrained", "absent-or-invalid", "exact"] },
                            "error": { "type": "string", "pattern": "^[a-z_]+$" }
                        },
                        "if": { "properties": { "rule": { "const": "exact" } } },
                        "then": { "required": ["error"] },
                        "else": { "not": { "required": ["error"] } }
                    }
                ]
            },
            "scimType": { "type": ["string", "null"], "minLength": 1 },
            "extra": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "in", "required", "description"],
                    "additionalProperties": false,
                    "properties": {
                        "name": text,
                        "in": { "enum": ["body", "header"] },
                        "required": { "type": "boolean" },
                        "description": text
                    }
                }
            }
        },
        "if": { "properties": { "status": { "const": 401 } } },
        "then": { "properties": { "challenge": { "type": "object" } } },
        "else": { "properties": { "challenge": { "type": "null" } } }
    })
}
