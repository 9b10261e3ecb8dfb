//! JSON Schemas (2020-12) of the JSON report and the waivers file, derived
//! from their types with `schemars` (`derived::published`), and the
//! hand-written schema of a snapshot, whose content is built as a JSON value
//! rather than a type. Generated into `schemas/` by `cargo xtask codegen`;
//! the code, category and rule lists come from the catalog and the checker,
//! so none can drift from them.

use catalog::Code;
use serde_json::{Value, json};

pub(crate) use crate::report::derived::DRAFT;
use crate::report::derived::published;
use crate::report::{Report, waiver};

/// The schema of the JSON report (`--format json`, `--json FILE`), derived
/// from [`Report`].
pub fn report() -> Value {
    published::<Report>("report.schema.json", "Conformance report")
}

/// The schema of a waivers file (TOML, validated as its JSON form), derived
/// from the types the file is parsed into.
pub fn waivers_schema() -> Value {
    waiver::schema()
}

/// The schema of a snapshot's content (the JSON after an insta `.snap` header).
pub(crate) fn snapshot_schema() -> Value {
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://docs.platform.example/schemas/snapshot.schema.json",
        "title": "Conformance snapshot",
        "description": "The content of `<dir>/<scenario id with / as __>.snap` written by `--snapshots DIR`: an insta snapshot whose header (`---`, `source`, `description`, `expression`, `---`) precedes this JSON. Values are normalised (placeholders like [request_id], [seconds], [timestamp], [docs], [target], [slug], [capture.NAME]) and redacted.",
        "type": "object",
        "additionalProperties": false,
        "required": ["scenario", "code", "status", "headers", "body"],
        "properties": {
            "scenario": { "type": "string" },
            "code": { "enum": codes },
            "status": { "type": "integer", "minimum": 100, "maximum": 999 },
            "headers": {
                "type": "object",
                "description": "The contract's headers (content-type, www-authenticate, retry-after, x-error-code, x-request-id) and the profile's `[snapshots] headers`, when present.",
                "propertyNames": { "pattern": "^[a-z0-9!#$%&'*+.^_`|~-]+$" },
                "additionalProperties": { "type": "string" }
            },
            "body": { "description": "The body: JSON when it parses, a string otherwise." }
        }
    })
}
