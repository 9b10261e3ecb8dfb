//! Live snapshots: the normalised response of every scenario, recorded as an
//! insta `.snap` file, for any target.
//!
//! `--snapshots DIR` compares each response with `DIR/<id>.snap` (the id's
//! `/` written `__`). A difference is `Drift`, a finding of its own kind
//! ("detail changed", "member `x` added", "header `y` removed", with a
//! diff), distinct from a contract violation; the profile's
//! `[snapshots] drift` says whether it fails the run. A drifted or new
//! snapshot is written next to the old one as `<id>.snap.new`, insta's
//! pending-snapshot file, so `cargo insta review` (or `cargo insta accept`)
//! works on it; `--accept-snapshots` writes the `.snap` files directly.
//!
//! A snapshot holds the scenario, the code, the status, the headers of
//! [`CONTRACT_HEADERS`] (plus the profile's) and the body, normalised by
//! the profile's normalisation and passed through the run's [`Redactor`] after
//! `Report::redact`, so secrets never reach a file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::model::normalize::{DriftPolicy, Normalizer, SnapshotSettings};
use crate::model::scenario::Diagnostic;
use crate::redact::Redactor;
use crate::report::gating::{Drift, DriftKind, SnapshotRun};
use crate::report::{Report, ScenarioReport};

/// Headers every snapshot records when the response has them.
pub const CONTRACT_HEADERS: &[&str] = &[
    "content-type",
    "www-authenticate",
    "retry-after",
    "x-error-code",
    "x-request-id",
];

/// The `source` written into a snapshot's insta header.
const SOURCE: &str = "conformance-runner";

/// Why snapshots could not be read or written (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The directory or a file could not be read or written.
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        /// Read or write.
        action: &'static str,
        /// The snapshot directory or file that failed, as given on the command line.
        path: PathBuf,
        /// The operating system's error (missing, permission denied, ...).
        source: std::io::Error,
    },
    /// A snapshot file is not a valid snapshot.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
}

/// Recorded snapshots of a directory, by file name.
#[derive(Clone, Debug, Default)]
pub struct Store {
    dir: PathBuf,
    snaps: BTreeMap<String, Value>,
}

/// Whether to leave drift pending or accept it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Compare; write `.snap.new` for new or drifted snapshots.
    Compare,
    /// Write every snapshot as `.snap`; nothing is drift.
    Accept,
}

impl Store {
    /// Reads every `*.snap` of `dir` (a missing directory is empty).
    pub fn load(dir: &Path) -> Result<Store, SnapshotError> {
        let mut store = Store {
            dir: dir.to_path_buf(),
            snaps: BTreeMap::new(),
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(store),
            Err(source) => {
                return Err(SnapshotError::Io {
                    action: "read",
                    path: dir.to_path_buf(),
                    source,
                });
            }
        };
        let mut errors = Vec::new();
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "snap"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| SnapshotError::Io {
                action: "read",
                path: path.clone(),
                source,
            })?;
            match parse(&path.display().to_string(), &text) {
                Ok(value) => {
                    let name = path
                        .file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                    store.snaps.insert(name, value);
                }
                Err(d) => errors.push(d),
            }
        }
        if errors.is_empty() {
            Ok(store)
        } else {
            Err(SnapshotError::Invalid(errors))
        }
    }

    /// The recorded snapshot of a scenario.
    pub fn get(&self, id: &str) -> Option<&Value> {
        self.snaps.get(&file_name(id))
    }
}

/// The snapshot file name of a scenario id.
pub fn file_name(id: &str) -> String {
    format!("{}.snap", id.replace('/', "__"))
}

/// Parses an insta `.snap` file: a `---` header, `---`, then the JSON content.
pub fn parse(file: &str, text: &str) -> Result<Value, Diagnostic> {
    let error = |line: usize, message: String| Diagnostic {
        file: file.to_owned(),
        line,
        column: 1,
        message,
    };
    let mut lines = text.lines();
    if lines.next() != Some("---") {
        return Err(error(1, "a snapshot starts with a `---` line".into()));
    }
    let mut header_lines = 1;
    let mut closed = false;
    for line in lines.by_ref() {
        header_lines += 1;
        if line == "---" {
            closed = true;
            break;
        }
        if !line.is_empty() && !line.starts_with(' ') && !line.contains(':') {
            return Err(error(
                header_lines,
                format!("`{line}` is not a `key: value` header line"),
            ));
        }
    }
    if !closed {
        return Err(error(
            header_lines,
            "the snapshot header has no closing `---` line".into(),
        ));
    }
    let content: String = lines.collect::<Vec<_>>().join("\n");
    let value: Value = serde_json::from_str(&content).map_err(|e| {
        let text = e.to_string();
        let what = text
            .rsplit_once(" at line ")
            .map_or(text.as_str(), |(w, _)| w);
        Diagnostic {
            column: e.column().max(1),
            ..error(
                header_lines + e.line(),
                format!("the snapshot is not JSON: {what}"),
            )
        }
    })?;
    for member in ["scenario", "status", "headers", "body"] {
        if value.get(member).is_none() {
            return Err(error(
                header_lines + 1,
                format!("the snapshot has no `{member}` member"),
            ));
        }
    }
    Ok(value)
}

/// The insta `.snap` text of a snapshot.
pub fn render(id: &str, description: &str, value: &Value) -> String {
    // The header is YAML to insta; JSON strings are valid YAML scalars.
    let quote = |s: &str| Value::String(s.to_owned()).to_string();
    let content = serde_json::to_string_pretty(value).expect("a JSON value serializes");
    format!(
        "---\nsource: {}\ndescription: {}\nexpression: {}\n---\n{content}\n",
        quote(SOURCE),
        quote(description),
        quote(id),
    )
}

/// The normalised snapshot of a scenario's response; `None` without one.
pub fn build(
    scenario: &ScenarioReport,
    normalizer: &Normalizer,
    settings: &SnapshotSettings,
    redactor: &Redactor,
) -> Option<Value> {
    let response = scenario.response.as_ref()?;
    let mut headers = Map::new();
    let wanted = CONTRACT_HEADERS
        .iter()
        .copied()
        .chain(settings.headers.iter().map(String::as_str));
    for name in wanted {
        if let Some(value) = response.headers.get(name) {
            let value = redactor.header(name, &normalizer.header(name, value));
            headers.insert(name.to_owned(), Value::String(value));
        }
    }
    let mut body = response.body.clone();
    normalizer.body(&mut body);
    redactor.json(&mut body);
    Some(json!({
        "scenario": scenario.id,
        "code": scenario.code,
        "status": response.status,
        "headers": headers,
        "body": body,
    }))
}

/// Every difference between a recorded and an observed snapshot.
pub fn compare(recorded: &Value, observed: &Value) -> Vec<Drift> {
    let mut out = Vec::new();
    let status = (recorded.get("status"), observed.get("status"));
    if status.0 != status.1 {
        out.push(drift(
            DriftKind::Changed,
            "status changed".into(),
            "status".into(),
            status.0.cloned(),
            status.1.cloned(),
        ));
    }
    let empty = Map::new();
    let headers = |v: &Value| {
        v.get("headers")
            .and_then(Value::as_object)
            .unwrap_or(&empty)
            .clone()
    };
    let (before, after) = (headers(recorded), headers(observed));
    let names: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for name in names {
        let (b, a) = (before.get(name), after.get(name));
        let kind = match (b, a) {
            (Some(b), Some(a)) if b == a => continue,
            (Some(_), Some(_)) => DriftKind::Changed,
            (None, _) => DriftKind::Added,
            (_, None) => DriftKind::Removed,
        };
        out.push(drift(
            kind,
            format!("header `{name}` {}", verb(kind)),
            format!("header:{name}"),
            b.cloned(),
            a.cloned(),
        ));
    }
    let null = Value::Null;
    body_diff(
        "",
        recorded.get("body").unwrap_or(&null),
        observed.get("body").unwrap_or(&null),
        &mut out,
    );
    out
}

fn body_diff(pointer: &str, before: &Value, after: &Value, out: &mut Vec<Drift>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for key in keys {
                let at = format!("{pointer}/{}", response_schema::pointer::escape_token(key));
                match (b.get(key), a.get(key)) {
                    (Some(b), Some(a)) => body_diff(&at, b, a, out),
                    (Some(b), None) => out.push(drift(
                        DriftKind::Removed,
                        format!("member `{key}` removed"),
                        format!("body:{at}"),
                        Some(b.clone()),
                        None,
                    )),
                    (None, a) => out.push(drift(
                        DriftKind::Added,
                        format!("member `{key}` added"),
                        format!("body:{at}"),
                        None,
                        a.cloned(),
                    )),
                }
            }
        }
        (Value::Array(b), Value::Array(a)) if b.len() == a.len() => {
            for (i, (b, a)) in b.iter().zip(a).enumerate() {
                body_diff(&format!("{pointer}/{i}"), b, a, out);
            }
        }
        (b, a) if b == a => {}
        (b, a) => {
            let name = pointer
                .rsplit('/')
                .next()
                .filter(|n| !n.is_empty())
                .unwrap_or("body");
            out.push(drift(
                DriftKind::Changed,
                format!("{name} changed"),
                format!("body:{pointer}"),
                Some(b.clone()),
                Some(a.clone()),
            ));
        }
    }
}

fn verb(kind: DriftKind) -> &'static str {
    match kind {
        DriftKind::Changed => "changed",
        DriftKind::Added => "added",
        DriftKind::Removed => "removed",
        DriftKind::New => "recorded",
    }
}

fn drift(
    kind: DriftKind,
    title: String,
    at: String,
    recorded: Option<Value>,
    observed: Option<Value>,
) -> Drift {
    let mut diff = String::new();
    if let Some(b) = &recorded {
        let _ = writeln!(diff, "- {b}");
    }
    if let Some(a) = &observed {
        let _ = writeln!(diff, "+ {a}");
    }
    Drift {
        kind,
        title,
        at,
        recorded,
        observed,
        diff: diff.trim_end().to_owned(),
    }
}

/// Compares every scenario's response with `store`, records drift in the
/// report, writes pending (or, in [`Mode::Accept`], accepted) snapshot files,
/// and recounts the verdict.
pub fn apply(
    report: &mut Report,
    store: &Store,
    settings: &SnapshotSettings,
    redactor: &Redactor,
    mode: Mode,
) -> Result<(), SnapshotError> {
    let base = Normalizer::new(settings);
    let mut run = SnapshotRun {
        dir: store.dir.display().to_string(),
        drift_fails: settings.drift == DriftPolicy::Fail,
        matched: 0,
        written: Vec::new(),
    };
    let write = |path: PathBuf, text: &str| {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| SnapshotError::Io {
                action: "write",
                path: dir.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, text).map_err(|source| SnapshotError::Io {
            action: "write",
            path: path.clone(),
            source,
        })
    };
    for s in &mut report.scenarios {
        let normalizer = base
            .clone()
            .with_run(&report.target, &report.run_id, &s.captures);
        let Some(observed) = build(s, &normalizer, settings, redactor) else {
            continue;
        };
        let name = file_name(&s.id);
        let snap = store.dir.join(&name);
        let pending = store.dir.join(format!("{name}.new"));
        let drift = match store.get(&s.id) {
            Some(recorded) => compare(recorded, &observed),
            None => vec![drift(
                DriftKind::New,
                "no snapshot recorded".into(),
                "snapshot".into(),
                None,
                None,
            )],
        };
        let text = render(&s.id, &s.description, &observed);
        if mode == Mode::Accept {
            if drift.is_empty() {
                run.matched += 1;
            } else {
                write(snap, &text)?;
                run.written.push(name.clone());
            }
            remove_pending(&pending)?;
        } else if drift.is_empty() {
            remove_pending(&pending)?;
            run.matched += 1;
        } else {
            write(pending, &text)?;
            run.written.push(format!("{name}.new"));
            s.drift = drift;
        }
    }
    report.snapshots = Some(run);
    report.recount();
    Ok(())
}

fn remove_pending(path: &Path) -> Result<(), SnapshotError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(SnapshotError::Io {
            action: "write",
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_names_each_change() {
        let recorded = json!({
            "scenario": "x/y", "code": "NotFound", "status": 404,
            "headers": { "content-type": "application/problem+json", "x-error-code": "NotFound" },
            "body": { "detail": "old", "errors": [{ "pointer": "/a" }] },
        });
        let observed = json!({
            "scenario": "x/y", "code": "NotFound", "status": 404,
            "headers": { "content-type": "application/problem+json" },
            "body": { "detail": "new", "hint": "h", "errors": [{ "pointer": "/b" }] },
        });
        let shown: Vec<String> = compare(&recorded, &observed)
            .iter()
            .map(|d| format!("{d}\n{}", d.diff))
            .collect();
        assert_eq!(
            shown,
            [
                "header `x-error-code` removed at header:x-error-code\n- \"NotFound\"",
                "detail changed at body:/detail\n- \"old\"\n+ \"new\"",
                "pointer changed at body:/errors/0/pointer\n- \"/a\"\n+ \"/b\"",
                "member `hint` added at body:/hint\n+ \"h\"",
            ]
        );
        assert!(compare(&recorded, &recorded).is_empty());
    }

    #[test]
    fn a_rendered_snapshot_parses_back() {
        let value = json!({ "scenario": "a/b", "code": "C", "status": 400, "headers": {}, "body": { "k": "v" } });
        let text = render("a/b", "says \"hi\"", &value);
        assert!(text.starts_with("---\nsource: \"conformance-runner\"\ndescription: \"says \\\"hi\\\"\"\nexpression: \"a/b\"\n---\n{\n"));
        assert_eq!(parse("f.snap", &text).unwrap(), value);
    }
}
