//! JSON Schemas (2020-12) of the JSON report, of the waivers file and of a
//! snapshot. Generated into `schemas/` by `cargo xtask codegen`; the code
//! lists come from the catalog, so none can drift from it.

use catalog::{Category, Code};
use serde_json::{Value, json};

use crate::report::waiver::known_rules;

/// The JSON Schema dialect of every generated schema.
pub(crate) const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The schema of the JSON report (`--format json`, `--json FILE`).
pub fn report() -> Value {
    let mut schema = report_core();
    extend_report_schema(&mut schema);
    schema
}

fn report_core() -> Value {
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.slug()).collect();
    let count = json!({ "type": "integer", "minimum": 0 });
    let string_map = json!({ "type": "object", "additionalProperties": { "type": "string" } });
    json!({
        "$schema": DRAFT,
        "$id": "https://docs.platform.example/schemas/report.schema.json",
        "title": "Conformance report",
        "description": "What `conformance-runner --format json` prints. Secrets are redacted. Stable: incompatible changes bump `schema_version`.",
        "type": "object",
        "additionalProperties": false,
        "required": ["schema_version", "run_id", "target", "profile", "summary", "coverage_enforced", "coverage", "scenarios", "warnings", "interrupted"],
        "properties": {
            "schema_version": { "const": crate::report::SCHEMA_VERSION },
            "run_id": { "type": "string", "description": "Tags every resource the run created." },
            "target": { "type": "string", "description": "The target's base URL." },
            "profile": { "type": "string" },
            "summary": {
                "type": "object",
                "additionalProperties": false,
                "required": ["passed", "failed", "skipped", "total", "uncovered", "ok"],
                "properties": {
                    "passed": count,
                    "failed": count,
                    "skipped": count,
                    "total": count,
                    "uncovered": {
                        "type": "array",
                        "items": { "enum": codes },
                        "description": "Codes with no passing scenario (when coverage is enforced)."
                    },
                    "ok": { "type": "boolean", "description": "No failure, no uncovered code, not interrupted." }
                }
            },
            "coverage_enforced": {
                "type": "boolean",
                "description": "True when the whole suite ran (no filter, no shard): then a code without a passing scenario fails the run."
            },
            "coverage": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["code", "category", "scenarios", "passed", "failed", "skipped"],
                    "properties": {
                        "code": { "enum": codes },
                        "category": { "enum": categories },
                        "scenarios": count,
                        "passed": count,
                        "failed": count,
                        "skipped": count,
                        "skip_reason": { "type": "string", "description": "Why, when the profile skips every scenario of the code; such a code is not counted as uncovered." }
                    }
                }
            },
            "scenarios": { "type": "array", "items": { "$ref": "#/$defs/scenario" } },
            "warnings": { "type": "array", "items": { "type": "string" } },
            "interrupted": { "type": "boolean" },
            "started_at": { "type": "string", "description": "When the run started, RFC 3339 in UTC." },
            "wall_ms": { "type": "integer", "minimum": 0, "description": "Wall time of the whole run, in milliseconds." },
            "hostname": { "type": "string", "description": "The machine the runner ran on." }
        },
        "$defs": {
            "scenario": {
                "type": "object",
                "additionalProperties": false,
                "required": ["id", "code", "category", "tags", "description", "file", "line", "outcome", "duration_ms", "findings"],
                "properties": {
                    "id": { "type": "string" },
                    "code": { "enum": codes },
                    "category": { "enum": categories },
                    "tags": { "type": "array", "items": { "type": "string" } },
                    "description": { "type": "string" },
                    "basis": { "type": "string", "description": "The standard rule it proves (`RFC 7644 §3.4.2.2`), or `platform`." },
                    "file": { "type": "string" },
                    "built_in": { "type": "boolean", "description": "The scenario is compiled into the runner: `file` is a path in the runner's source, not on disk. Absent when false." },
                    "line": { "type": "integer", "minimum": 1 },
                    "outcome": { "enum": ["passed", "failed", "skipped"] },
                    "skip_reason": { "type": "string" },
                    "duration_ms": count,
                    "findings": { "type": "array", "items": { "$ref": "#/$defs/finding" } },
                    "steps": {
                        "type": "array",
                        "description": "The setup steps that were sent, in order.",
                        "items": {
                            "type": "object",
                            "additionalProperties": false,
                            "required": ["name", "request"],
                            "properties": {
                                "name": { "type": "string" },
                                "request": { "$ref": "#/$defs/request" },
                                "status": { "type": "integer", "minimum": 100, "maximum": 999 }
                            }
                        }
                    },
                    "request": { "$ref": "#/$defs/request" },
                    "response": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["status", "headers", "body"],
                        "properties": {
                            "status": { "type": "integer", "minimum": 100, "maximum": 999 },
                            "headers": string_map,
                            "body": { "description": "JSON when the body parses, a string otherwise." }
                        }
                    }
                },
                "if": { "properties": { "outcome": { "const": "failed" } } },
                "then": { "properties": { "findings": { "minItems": 1 } } },
                "else": { "properties": { "findings": { "maxItems": 0 } } }
            },
            "request": {
                "type": "object",
                "additionalProperties": false,
                "required": ["method", "url", "headers"],
                "properties": {
                    "method": { "type": "string" },
                    "url": { "type": "string" },
                    "headers": string_map,
                    "replay": {
                        "type": "object",
                        "description": "The exact request with every variable filled in, except secrets: each is a `${VAR}` reference to an environment variable listed in `env`, never a value.",
                        "additionalProperties": false,
                        "required": ["url", "headers"],
                        "properties": {
                            "url": { "type": "string" },
                            "headers": {
                                "type": "array",
                                "items": { "type": "array", "prefixItems": [{ "type": "string" }, { "type": "string" }], "minItems": 2, "maxItems": 2 }
                            },
                            "body": { "type": "string" },
                            "env": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "additionalProperties": false,
                                    "required": ["name", "source"],
                                    "properties": {
                                        "name": { "type": "string" },
                                        "source": { "type": "string", "description": "What to set it to." }
                                    }
                                }
                            }
                        }
                    }
                }
            },
            "finding": {
                "type": "object",
                "additionalProperties": false,
                "required": ["rule", "at", "expected", "actual"],
                "properties": {
                    "rule": {
                        "type": "string",
                        "description": "A response-schema rule (status, code, undocumented-code, media-type, not-json, duplicate-member, status-member, type-link, schema, www-authenticate, retry-after, status-code-mismatch) or a runner rule (header, body, setup, transport, request-id)."
                    },
                    "at": { "type": "string", "description": "status, header:<name>, body:<json-pointer>, setup:<step>, or request." },
                    "expected": { "type": "string" },
                    "actual": { "type": "string" },
                    "fix": { "type": "string", "description": "The catalog's fix for the code." },
                    "docs": { "type": "string", "description": "The code's row on the reference page." },
                    "basis": { "type": "string", "description": "What the rule rests on: a standard and its section (`RFC 7644 §3.12`), or `platform`." },
                    "hint": { "type": "string", "description": "What the server must do, for its developers." }
                }
            }
        }
    })
}

/// Adds what snapshots and waivers put in the JSON report to its schema.
pub(crate) fn extend_report_schema(schema: &mut Value) {
    let count = json!({ "type": "integer", "minimum": 0 });
    let set = |schema: &mut Value, pointer: &str, key: &str, value: Value| {
        if let Some(Value::Object(map)) = schema.pointer_mut(pointer) {
            map.insert(key.to_owned(), value);
        }
    };
    set(
        schema,
        "/properties/summary/properties",
        "waived",
        json!({
            "type": "integer", "minimum": 0,
            "description": "Failed scenarios a live waiver covers; not counted as passed."
        }),
    );
    set(
        schema,
        "/properties/summary/properties",
        "drifted",
        json!({
            "type": "integer", "minimum": 0,
            "description": "Scenarios whose response drifted from its recorded snapshot."
        }),
    );
    set(
        schema,
        "/properties/coverage/items/properties",
        "waived",
        count,
    );
    set(
        schema,
        "/properties",
        "snapshots",
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["dir", "drift_fails", "matched", "written"],
            "description": "The comparison with recorded snapshots (`--snapshots DIR`).",
            "properties": {
                "dir": { "type": "string" },
                "drift_fails": { "type": "boolean", "description": "The profile's `[snapshots] drift` is `fail`." },
                "matched": { "type": "integer", "minimum": 0 },
                "written": {
                    "type": "array",
                    "items": { "type": "string" },
                    "description": "Files written: `<id>.snap.new` pending review, or `<id>.snap` when accepted."
                }
            }
        }),
    );
    set(
        schema,
        "/properties",
        "waivers",
        json!({
            "type": "array",
            "items": { "$ref": "#/$defs/waiver_status" },
            "description": "Every waiver of `--waivers FILE`, with its state after the run."
        }),
    );
    set(
        schema,
        "/$defs/scenario/properties",
        "outcome",
        json!({ "enum": ["passed", "failed", "skipped", "waived"] }),
    );
    set(
        schema,
        "/$defs/scenario/properties",
        "drift",
        json!({
            "type": "array", "items": { "$ref": "#/$defs/drift" }
        }),
    );
    set(
        schema,
        "/$defs/scenario/properties",
        "waiver",
        json!({ "$ref": "#/$defs/waiver_note" }),
    );
    // A waived scenario keeps the findings its waiver covers.
    set(
        schema,
        "/$defs/scenario",
        "if",
        json!({
            "properties": { "outcome": { "enum": ["failed", "waived"] } }
        }),
    );
    set(
        schema,
        "/$defs",
        "drift",
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["kind", "title", "at", "diff"],
            "description": "One way a response differs from its recorded snapshot: not a contract violation.",
            "properties": {
                "kind": { "enum": ["changed", "added", "removed", "new"] },
                "title": { "type": "string", "description": "`detail changed`, ``member `x` added``, ``header `y` removed``." },
                "at": { "type": "string", "description": "status, header:<name>, body:<json-pointer>, or snapshot." },
                "recorded": { "description": "The recorded value." },
                "observed": { "description": "The value this run observed." },
                "diff": { "type": "string", "description": "`- recorded` and `+ observed` lines." }
            }
        }),
    );
    let note = json!({
        "file": { "type": "string" },
        "line": { "type": "integer", "minimum": 1 },
        "reason": { "type": "string", "minLength": 1 },
        "owner": { "type": "string", "minLength": 1 },
        "expires": { "type": "string", "format": "date" }
    });
    set(
        schema,
        "/$defs",
        "waiver_note",
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["file", "line", "reason", "owner", "expires"],
            "properties": note
        }),
    );
    let mut status = note;
    if let Value::Object(map) = &mut status {
        map.insert(
            "matches".into(),
            json!({ "type": "string", "description": "What it matches: scenario, code, rule." }),
        );
        map.insert("state".into(), json!({ "enum": ["live", "expired", "stale"], "description": "Expired fails the run; stale matched no failure." }));
        map.insert("matched".into(), json!({ "type": "array", "items": { "type": "string" }, "description": "Failed scenarios it matched." }));
    }
    set(
        schema,
        "/$defs",
        "waiver_status",
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["file", "line", "matches", "reason", "owner", "expires", "state", "matched"],
            "properties": status
        }),
    );
}

/// The schema of a waivers file (TOML, validated as its JSON form).
pub fn waivers_schema() -> Value {
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://docs.platform.example/schemas/waivers.schema.json",
        "title": "Conformance waivers file",
        "description": "`--waivers FILE`: known failures, each with a reason, an owner and an expiry date. A failure every finding of which a live waiver covers is reported as waived and does not fail the run; an expired waiver fails the run; one that matches no failure is reported as stale.",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "waiver": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["reason", "owner", "expires"],
                    "anyOf": [
                        { "required": ["scenario"] },
                        { "required": ["code"] },
                        { "required": ["rule"] }
                    ],
                    "description": "Matches findings of failed scenarios; every field given must match.",
                    "properties": {
                        "scenario": { "type": "string", "pattern": "^[a-z0-9_/-]+\\*?$", "description": "A scenario id, or a prefix ending in `*`." },
                        "code": { "enum": codes },
                        "rule": { "enum": known_rules() },
                        "reason": { "type": "string", "pattern": "\\S", "description": "Why the failure is accepted for now." },
                        "owner": { "type": "string", "pattern": "\\S", "description": "The person or team who answers for it." },
                        "expires": { "type": "string", "format": "date", "description": "A TOML local date (unquoted, like 2026-12-31): the last day the waiver holds." }
                    }
                }
            }
        }
    })
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
