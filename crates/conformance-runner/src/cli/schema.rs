//! Every generated JSON Schema ([`all`]), and the schema of the scenario
//! format.
//!
//! Generated into `schemas/` by `cargo xtask codegen`; the code lists come
//! from the catalog, so none can drift from it. Tests validate every
//! scenario file and real reports against them.

use catalog::Code;
use serde_json::{Value, json};

use crate::cli::diff;
use crate::report::schema::{self as report_schema, DRAFT};

/// An RFC 6901 JSON Pointer.
const POINTER_PATTERN: &str = "^(/([^~]|~[01])*)*$";

/// The schema of a scenario file, as JSON (the files are TOML).
pub fn scenario() -> Value {
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
    let request_props = json!({
        "method": { "enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] },
        "path": {
            "type": "string",
            "pattern": "^(/|\\{\\{ ?path\\.)",
            "description": "Path and query, relative to the target's base URL (a template); it starts with `/` or a profile base path such as `{{path.api}}`."
        },
        "headers": {
            "type": "object",
            "description": "Header name to value (a template).",
            "additionalProperties": { "type": "string" }
        },
        "json": {
            "description": "A JSON body; string values are templates. Sent with Content-Type: application/json unless `headers` sets one."
        },
        "body": {
            "type": "string",
            "description": "A raw body (a template), for malformed JSON or another media type."
        }
    });
    let mut step_props = request_props.clone();
    let mut request_props = request_props;
    if let Value::Object(map) = &mut request_props {
        map.insert(
            "capture".into(),
            json!({
                "type": "object",
                "description": "Values to capture from a 2xx answer to the asserted request (a target that wrongly succeeded), for cleanup steps to remove what it made. Missing values are not an error.",
                "propertyNames": { "pattern": "^[A-Za-z0-9_-]+$" },
                "additionalProperties": { "type": "string", "pattern": "^(header:.+|(/([^~]|~[01])*)*)$" }
            }),
        );
    }
    if let Value::Object(map) = &mut step_props {
        map.insert(
            "if_captured".into(),
            json!({ "type": "string", "description": "Run this request step only when this capture exists (a cleanup of what a wrong target made)." }),
        );
        map.insert("name".into(), json!({ "type": "string", "description": "A name for reports (default: METHOD path)." }));
        map.insert(
            "capture".into(),
            json!({
                "type": "object",
                "description": "Capture name to a JSON Pointer into the response body, or `header:<name>`. Values of names containing token, secret, password, cookie or key are redacted.",
                "propertyNames": { "pattern": "^[A-Za-z0-9_-]+$" },
                "additionalProperties": { "type": "string", "pattern": "^(header:.+|(/([^~]|~[01])*)*)$" }
            }),
        );
        map.insert(
            "allow_status".into(),
            json!({
                "type": "array",
                "items": { "type": "integer", "minimum": 100, "maximum": 599 },
                "description": "Statuses accepted besides 2xx."
            }),
        );
        map.insert(
            "repeat".into(),
            json!({
                "oneOf": [
                    { "type": "integer", "minimum": 1, "maximum": 100 },
                    { "type": "string", "pattern": "^\\{\\{fixture\\.[A-Za-z0-9_-]+\\}\\}$" }
                ],
                "description": "How many times to send the request: 1 to 100, or `{{fixture.NAME}}`, a count the profile names (a quota or threshold of the target's world, 1 to 100)."
            }),
        );
        map.insert(
            "receiver".into(),
            json!({
                "type": "object",
                "additionalProperties": false,
                "minProperties": 1,
                "maxProperties": 1,
                "description": "How the webhook receiver answers this scenario's deliveries.",
                "properties": {
                    "secret": {
                        "type": "string",
                        "description": "Verify Standard Webhooks signatures with this `whsec_` secret (a template): 204 when valid, 401 otherwise."
                    },
                    "respond": {
                        "type": "integer",
                        "minimum": 100,
                        "maximum": 599,
                        "description": "Answer every delivery with this status."
                    }
                }
            }),
        );
        let template = |d: &str| json!({ "type": "string", "description": d });
        map.insert(
            "webauthn".into(),
            json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["ceremony", "challenge"],
                "description": "A ceremony of the runner's software authenticator (ES256); capture from its answer with JSON Pointers. `create` answers /credentialId, /clientDataJSON, /attestationObject, /privateKey, /fmt; `get` answers /credentialId, /clientDataJSON, /authenticatorData, /signature.",
                "properties": {
                    "ceremony": { "enum": ["create", "get"], "description": "Registration (`create`) or assertion (`get`)." },
                    "challenge": template("The challenge the target answered, base64url (a template)."),
                    "attestation": { "enum": ["none", "packed", "packed-x5c"], "description": "`create`: the attestation statement (`packed` is self attestation)." },
                    "aaguid": template("`create`: the AAGUID the authenticator claims (a template)."),
                    "attestation_key": template("`packed-x5c`: the attestation private key, PKCS#8 DER in base64url (a template)."),
                    "attestation_cert": template("`packed-x5c`: the attestation certificate, DER in base64url (a template)."),
                    "credential_id": template("`get`: the credential id, base64url (a template)."),
                    "private_key": template("`get`: the credential's private key, PKCS#8 DER in base64url (a template)."),
                    "origin": template("The origin the client claims instead of the profile's `[webauthn] origin`."),
                    "rp_id": template("The RP id the authenticator hashes instead of the profile's `[webauthn] rp_id`."),
                    "type": { "type": "string", "description": "The clientDataJSON type instead of the ceremony's own." },
                    "user_present": { "type": "boolean", "description": "The UP flag (default true)." },
                    "user_verified": { "type": "boolean", "description": "The UV flag (default true)." },
                    "counter": { "type": "integer", "minimum": 0, "maximum": 4294967295_u64, "description": "The signature counter (default 0)." },
                    "tamper": { "const": "signature", "description": "Flip a bit of the signature after signing." }
                }
            }),
        );
        map.insert(
            "totp".into(),
            template("The authenticator app: the current RFC 6238 code of this base32 secret (a template), answered as /code for a capture."),
        );
    }
    let request_only = [
        "method",
        "path",
        "headers",
        "json",
        "body",
        "capture",
        "allow_status",
        "repeat",
        "if_captured",
    ];
    let not_json_and_body = json!({ "not": { "required": ["json", "body"] } });
    json!({
        "$schema": DRAFT,
        "$id": "https://docs.platform.example/schemas/scenario.schema.json",
        "title": "Conformance scenario file",
        "description": "A file under fixtures/scenarios/ (TOML, validated as its JSON form). A scenario has no `status`: the expected status is the catalog's.",
        "type": "object",
        "additionalProperties": false,
        "required": ["scenario"],
        "properties": {
            "scenario": { "type": "array", "minItems": 1, "items": { "$ref": "#/$defs/scenario" } }
        },
        "$defs": {
            "scenario": {
                "type": "object",
                "additionalProperties": false,
                "required": ["id", "code", "description", "request"],
                "properties": {
                    "id": {
                        "type": "string",
                        "pattern": "^[a-z0-9_/-]+$",
                        "description": "Unique; `<code-anchor>/<variant>` by convention."
                    },
                    "code": {
                        "enum": codes,
                        "description": "The catalog code the scenario proves, as on the wire."
                    },
                    "description": { "type": "string", "minLength": 1 },
                    "tags": { "type": "array", "items": { "type": "string", "pattern": "^[a-z0-9-]+$" } },
                    "standard": {
                        "type": "string",
                        "pattern": "^RFC (6585|6750|7643|7644|9110|9457|9470) §[0-9]+(\\.[0-9]+)*$",
                        "description": "The standard rule the scenario proves, like `RFC 7644 §3.4.2.2`; absent for a rule of the platform. A profile with `standard_only = true` runs only these."
                    },
                    "envelope": {
                        "enum": ["problem", "scim"],
                        "description": "The envelope when it is not the code's own (a generic code on a SCIM endpoint)."
                    },
                    "setup": { "type": "array", "items": { "$ref": "#/$defs/step" } },
                    "request": { "$ref": "#/$defs/request" },
                    "expect": { "$ref": "#/$defs/expect" },
                    "cleanup": { "type": "array", "items": { "$ref": "#/$defs/step" } },
                    "distinct": {
                        "type": "array",
                        "minItems": 2,
                        "items": { "type": "string" },
                        "description": "Values (templates of `fixture.` and `path.` only) that must differ under the profile, or the scenario would not prove what it is named after; a profile that makes two equal is refused before anything is sent."
                    }
                }
            },
            "request": {
                "type": "object",
                "additionalProperties": false,
                "required": ["method", "path"],
                "properties": request_props,
                "allOf": [not_json_and_body]
            },
            "step": {
                "type": "object",
                "additionalProperties": false,
                "description": "A request, a setting of the webhook receiver for this scenario, a WebAuthn ceremony of the runner's authenticator, or a TOTP code.",
                "properties": step_props,
                "oneOf": [
                    { "required": ["method", "path"], "not": { "anyOf": [{ "required": ["receiver"] }, { "required": ["webauthn"] }, { "required": ["totp"] }] } },
                    {
                        "required": ["receiver"],
                        "not": { "anyOf": request_only.iter().chain(&["webauthn", "totp"]).map(|k| json!({ "required": [k] })).collect::<Vec<_>>() }
                    },
                    {
                        "required": ["webauthn"],
                        "not": { "anyOf": request_only.iter().filter(|k| **k != "capture").chain(&["receiver", "totp"]).map(|k| json!({ "required": [k] })).collect::<Vec<_>>() }
                    },
                    {
                        "required": ["totp"],
                        "not": { "anyOf": request_only.iter().filter(|k| **k != "capture").chain(&["receiver", "webauthn"]).map(|k| json!({ "required": [k] })).collect::<Vec<_>>() }
                    }
                ],
                "allOf": [not_json_and_body]
            },
            "expect": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "headers": {
                        "type": "object",
                        "description": "Header name to expectation.",
                        "additionalProperties": { "$ref": "#/$defs/header_match" }
                    },
                    "body": {
                        "type": "object",
                        "description": "JSON Pointer to the exact JSON value found there.",
                        "propertyNames": { "pattern": POINTER_PATTERN }
                    },
                    "body_matches": {
                        "type": "object",
                        "description": "JSON Pointer to a regular expression its string must match.",
                        "propertyNames": { "pattern": POINTER_PATTERN },
                        "additionalProperties": { "type": "string" }
                    }
                }
            },
            "header_match": {
                "description": "An exact value (a template), or a table with exactly one matcher.",
                "oneOf": [
                    { "type": "string" },
                    {
                        "type": "object",
                        "additionalProperties": false,
                        "minProperties": 1,
                        "maxProperties": 1,
                        "properties": {
                            "equals": { "type": "string", "description": "Exactly this value (a template)." },
                            "contains": { "type": "string", "description": "A value containing this text." },
                            "excludes": { "type": "string", "description": "No value containing this text (an absent header passes)." },
                            "matches": { "type": "string", "description": "A value matching this regular expression (Rust `regex` syntax)." },
                            "present": { "const": true, "description": "Present, any value." },
                            "absent": { "const": true, "description": "Absent." }
                        }
                    }
                ]
            }
        }
    })
}

/// Every generated schema: file name under `schemas/` and contents.
pub fn all() -> Vec<(&'static str, Value)> {
    vec![
        ("scenario.schema.json", scenario()),
        ("report.schema.json", report_schema::report()),
        ("waivers.schema.json", report_schema::waivers_schema()),
        ("snapshot.schema.json", report_schema::snapshot_schema()),
        ("diff.schema.json", diff::schema()),
    ]
}
