//! How snapshots and waivers gate a run: [`Gate`] holds what
//! `--snapshots`, `--accept-snapshots`, `--waivers` and `--write-baseline`
//! ask for, loaded and validated before anything is sent and applied to the
//! redacted report; and the JSON Schemas of the files they read and of the
//! report members they add.

use serde_json::{Value, json};

use crate::report::Report;
use crate::waiver::Date;

/// What `--snapshots`, `--waivers` and `--write-baseline` ask of a run,
/// loaded and validated before anything is sent.
#[derive(Debug)]
pub struct Gate {
    snapshots: Option<(crate::snapshot::Store, crate::snapshot::Mode)>,
    waivers: Option<crate::waiver::Waivers>,
    baseline: Option<(std::path::PathBuf, String, Date)>,
    today: Date,
}

impl Gate {
    /// Reads the snapshot directory and the waivers file the flags name.
    pub fn load(args: &crate::cli::Args) -> Result<Gate, crate::cli::Failure> {
        let today = Date::today();
        let snapshots = match &args.snapshots {
            Some(dir) => Some((
                crate::snapshot::Store::load(dir)?,
                if args.accept_snapshots {
                    crate::snapshot::Mode::Accept
                } else {
                    crate::snapshot::Mode::Compare
                },
            )),
            None => None,
        };
        let waivers = args
            .waivers
            .as_deref()
            .map(crate::waiver::Waivers::load)
            .transpose()?;
        let baseline = match (&args.write_baseline, &args.owner, args.expires) {
            (Some(path), Some(owner), Some(expires)) => {
                if owner.trim().is_empty() {
                    return Err(crate::waiver::WaiverError::EmptyOwner.into());
                }
                if expires < today {
                    return Err(crate::waiver::WaiverError::PastExpiry { expires, today }.into());
                }
                Some((path.clone(), owner.clone(), expires))
            }
            _ => None,
        };
        Ok(Gate {
            snapshots,
            waivers,
            baseline,
            today,
        })
    }

    /// Compares snapshots, applies waivers and writes the baseline.
    pub fn apply(
        &self,
        plan: &crate::Plan,
        report: &mut Report,
    ) -> Result<(), crate::cli::Failure> {
        if let Some((store, mode)) = &self.snapshots {
            crate::snapshot::apply(
                report,
                store,
                &plan.profile().snapshots,
                plan.redactor(),
                *mode,
            )?;
        }
        if let Some(waivers) = &self.waivers {
            waivers.apply(report, self.today);
        }
        if let Some((path, owner, expires)) = &self.baseline {
            let text = crate::waiver::baseline(report, owner, *expires);
            std::fs::write(path, text).map_err(|source| crate::cli::Failure::Output {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }
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
    let codes: Vec<&str> = catalog::Code::ALL.iter().map(|c| c.name()).collect();
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
                        "rule": { "enum": crate::waiver::known_rules() },
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
pub fn snapshot_schema() -> Value {
    let codes: Vec<&str> = catalog::Code::ALL.iter().map(|c| c.name()).collect();
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
