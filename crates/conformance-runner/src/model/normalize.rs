//! Normalisation as data: what in a response changes from run to run, and
//! the stable placeholder it becomes before a snapshot is written or two
//! targets are compared.
//!
//! A [`Normalizer`] is an ordered list of [`NormalRule`]s. The built-in ones
//! ([`DEFAULT_RULES`]) cover what every target has: request ids, `Retry-After`
//! values (header and `retry_after` member) and RFC 3339 timestamps and
//! HTTP-dates anywhere. A profile adds its own under `[snapshots]`
//! (`[[snapshots.normalize]]` with a JSON `pointer`, a `header` or neither,
//! an optional `pattern` and a `placeholder`), parsed here with file:line
//! errors. The values of one run (the target's base URL, the run id and
//! scenario slugs, captured values) are replaced first, by
//! [`Normalizer::with_run`]. Secrets are not this module's business: a
//! snapshot is built from a report that has been through `Report::redact`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use crate::model::scenario::is_json_pointer;

/// Whether drift from the recorded snapshots fails the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DriftPolicy {
    /// Drift fails the run (exit 1).
    #[default]
    Fail,
    /// Drift is reported; the verdict is the contract's alone.
    Report,
}

/// Where a rule applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The body member at this JSON Pointer.
    Pointer(String),
    /// This response header (lowercase).
    Header(String),
    /// Every string of the body and every header value.
    Anywhere,
}

/// One normalisation: at `scope`, what matches `pattern` (or the whole value
/// when there is none) becomes `placeholder`.
#[derive(Clone, Debug)]
pub struct NormalRule {
    /// The part of the response the rule rewrites.
    pub scope: Scope,
    /// What; `None` replaces the whole value.
    pub pattern: Option<Regex>,
    /// The stable text that replaces it.
    pub placeholder: String,
}

/// A built-in rule: scope, pattern, placeholder.
pub(crate) type BuiltIn = (&'static str, Option<&'static str>, &'static str);

/// The built-in rules, as data. A scope is `/pointer`, `header:NAME` or `*`.
pub(crate) const DEFAULT_RULES: &[BuiltIn] = &[
    ("/request_id", None, "[request_id]"),
    ("header:x-request-id", None, "[request_id]"),
    ("/retry_after", None, "[seconds]"),
    ("header:retry-after", None, "[seconds]"),
    // Where the reference page lives differs between targets (the mock's own
    // address, a staging docs host); the anchor is what names the code, and
    // the contract check holds the base against the profile's `docs_base`.
    ("/type", Some(r"^[^#]*#"), "[docs]#"),
    (
        "*",
        Some(r"\b\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"),
        "[timestamp]",
    ),
    (
        "*",
        Some(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT"),
        "[http-date]",
    ),
];

/// The `[snapshots]` table of a profile.
#[derive(Clone, Debug, Default)]
pub struct SnapshotSettings {
    /// Whether drift fails the run.
    pub drift: DriftPolicy,
    /// Headers recorded besides [`crate::report::snapshot::CONTRACT_HEADERS`] (lowercase).
    pub headers: Vec<String>,
    /// The profile's own rules, applied after the built-in ones.
    pub rules: Vec<NormalRule>,
}

/// `[snapshots]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSnapshots {
    drift: Option<Spanned<String>>,
    #[serde(default)]
    headers: Vec<Spanned<String>>,
    #[serde(default)]
    normalize: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    pointer: Option<Spanned<String>>,
    header: Option<Spanned<String>>,
    pattern: Option<Spanned<String>>,
    placeholder: Spanned<String>,
}

impl SnapshotSettings {
    /// Validates a profile's `[snapshots]`; `error` receives (span, message).
    pub(crate) fn from_raw(
        raw: RawSnapshots,
        error: &mut dyn FnMut(std::ops::Range<usize>, String),
    ) -> SnapshotSettings {
        let drift = match raw.drift {
            None => DriftPolicy::Fail,
            Some(d) => match d.get_ref().as_str() {
                "fail" => DriftPolicy::Fail,
                "report" => DriftPolicy::Report,
                other => {
                    error(
                        d.span(),
                        format!("drift is `fail` or `report`, not `{other}`"),
                    );
                    DriftPolicy::Fail
                }
            },
        };
        let mut headers = Vec::new();
        for h in raw.headers {
            if http::HeaderName::from_bytes(h.get_ref().as_bytes()).is_err() {
                error(h.span(), format!("`{}` is not a header name", h.get_ref()));
            } else {
                headers.push(h.get_ref().to_ascii_lowercase());
            }
        }
        let mut rules = Vec::new();
        for rule in raw.normalize {
            let span = rule.span();
            let r = rule.into_inner();
            let scope = match (r.pointer, r.header) {
                (Some(_), Some(h)) => {
                    error(
                        h.span(),
                        "a rule has a `pointer` or a `header`, not both".into(),
                    );
                    continue;
                }
                (Some(p), None) => {
                    if !is_json_pointer(p.get_ref()) || p.get_ref().is_empty() {
                        error(
                            p.span(),
                            format!(
                                "`{}` is not a JSON Pointer to a member (like `/trace_id`)",
                                p.get_ref()
                            ),
                        );
                        continue;
                    }
                    Scope::Pointer(p.into_inner())
                }
                (None, Some(h)) => {
                    if http::HeaderName::from_bytes(h.get_ref().as_bytes()).is_err() {
                        error(h.span(), format!("`{}` is not a header name", h.get_ref()));
                        continue;
                    }
                    Scope::Header(h.get_ref().to_ascii_lowercase())
                }
                (None, None) => Scope::Anywhere,
            };
            let pattern = match r.pattern {
                Some(p) => match Regex::new(p.get_ref()) {
                    Ok(regex) => Some(regex),
                    Err(e) => {
                        let why = e.to_string();
                        let last = why.lines().last().unwrap_or_default().trim();
                        let last = last.strip_prefix("error: ").unwrap_or(last).to_owned();
                        error(
                            p.span(),
                            format!("`{}` is not a regex: {last}", p.get_ref()),
                        );
                        continue;
                    }
                },
                None if scope == Scope::Anywhere => {
                    error(
                        span,
                        "a rule without `pointer` or `header` needs a `pattern`".into(),
                    );
                    continue;
                }
                None => None,
            };
            if r.placeholder.get_ref().is_empty() {
                error(r.placeholder.span(), "a placeholder cannot be empty".into());
                continue;
            }
            rules.push(NormalRule {
                scope,
                pattern,
                placeholder: r.placeholder.into_inner(),
            });
        }
        SnapshotSettings {
            drift,
            headers,
            rules,
        }
    }
}

/// The rules of one comparison, in order.
#[derive(Clone, Debug)]
pub struct Normalizer {
    /// Literal values of one run and their placeholders, longest first.
    literals: Vec<(String, String)>,
    /// The run id: `<run id>-<n>` is a slug.
    run_id: String,
    rules: Vec<NormalRule>,
}

/// [`DEFAULT_RULES`], compiled once: a snapshot comparison builds a
/// normaliser per scenario.
static DEFAULTS: LazyLock<Vec<NormalRule>> = LazyLock::new(|| {
    DEFAULT_RULES
        .iter()
        .map(|&(scope, pattern, placeholder)| NormalRule {
            scope: match scope {
                "*" => Scope::Anywhere,
                s => match s.strip_prefix("header:") {
                    Some(h) => Scope::Header(h.to_owned()),
                    None => Scope::Pointer(s.to_owned()),
                },
            },
            // The built-in patterns are literals, exercised by the tests below.
            pattern: pattern.map(|p| Regex::new(p).expect("a valid built-in pattern")),
            placeholder: placeholder.to_owned(),
        })
        .collect()
});

impl Normalizer {
    /// The built-in rules followed by the profile's.
    pub fn new(settings: &SnapshotSettings) -> Normalizer {
        let mut rules = DEFAULTS.clone();
        rules.extend(settings.rules.iter().cloned());
        Normalizer {
            literals: Vec::new(),
            run_id: String::new(),
            rules,
        }
    }

    /// Adds the values of one run: the target's base URL becomes `[target]`,
    /// scenario slugs `[slug]`, the run id `[run_id]`, and each captured
    /// value `[capture.NAME]`.
    pub fn with_run(
        mut self,
        target: &str,
        run_id: &str,
        captures: &BTreeMap<String, String>,
    ) -> Normalizer {
        let target = target.trim_end_matches('/');
        if !target.is_empty() {
            self.literals.push((target.to_owned(), "[target]".into()));
        }
        for (name, value) in captures {
            // Short values (a `1`, a `true`) would mangle unrelated text.
            if value.len() >= 4 {
                self.literals
                    .push((value.clone(), format!("[capture.{name}]")));
            }
        }
        self.literals
            .sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        if !run_id.is_empty() {
            self.run_id = run_id.to_owned();
            self.literals.push((run_id.to_owned(), "[run_id]".into()));
        }
        self
    }

    /// Normalises a header value.
    pub fn header(&self, name: &str, value: &str) -> String {
        let mut text = self.run_values(value);
        for rule in &self.rules {
            let applies = match &rule.scope {
                Scope::Header(h) => h.eq_ignore_ascii_case(name),
                Scope::Anywhere => true,
                Scope::Pointer(_) => false,
            };
            if applies {
                text = apply(rule, &text);
            }
        }
        text
    }

    /// Normalises a body in place.
    pub fn body(&self, body: &mut Value) {
        strings(body, &mut |s| *s = self.run_values(s));
        for rule in &self.rules {
            match &rule.scope {
                Scope::Pointer(p) => {
                    if let Some(v) = body.pointer_mut(p) {
                        match (v, &rule.pattern) {
                            (Value::String(s), Some(_)) => *s = apply(rule, s),
                            (v, _) => *v = Value::String(rule.placeholder.clone()),
                        }
                    }
                }
                Scope::Anywhere => strings(body, &mut |s| *s = apply(rule, s)),
                Scope::Header(_) => {}
            }
        }
    }

    fn run_values(&self, text: &str) -> String {
        let mut out = slugs(text, &self.run_id);
        for (value, placeholder) in &self.literals {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), placeholder);
            }
        }
        out
    }
}

/// `text` with every `<run id>-<digits>` replaced by `[slug]`.
fn slugs(text: &str, run_id: &str) -> String {
    if run_id.is_empty() || !text.contains(run_id) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(run_id) {
        let after = &rest[at + run_id.len()..];
        let digits = after
            .strip_prefix('-')
            .map_or(0, |d| d.bytes().take_while(u8::is_ascii_digit).count());
        out.push_str(&rest[..at]);
        if digits > 0 {
            out.push_str("[slug]");
            rest = &after[1 + digits..];
        } else {
            out.push_str(run_id);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn apply(rule: &NormalRule, text: &str) -> String {
    match &rule.pattern {
        Some(p) => p
            .replace_all(text, regex::NoExpand(&rule.placeholder))
            .into_owned(),
        None => rule.placeholder.clone(),
    }
}

/// Calls `f` on every string in `value`, keys excepted.
fn strings(value: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|v| strings(v, f)),
        Value::Object(map) => map.values_mut().for_each(|v| strings(v, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn built_in_rules_replace_volatile_values() {
        let n = Normalizer::new(&SnapshotSettings::default()).with_run(
            "http://127.0.0.1:4000/",
            "cr1",
            &BTreeMap::from([("user_id".into(), "usr_000042".into())]),
        );
        let mut body = json!({
            "request_id": "req_01J9",
            "retry_after": 17,
            "type": "http://127.0.0.1:4000/docs/errors#not-found",
            "detail": "User usr_000042 (cr1-3@acme.example) at 2026-11-29T18:55:17.5Z, Sun, 29 Nov 2026 18:55:17 GMT",
        });
        n.body(&mut body);
        assert_eq!(
            body,
            json!({
                "request_id": "[request_id]",
                "retry_after": "[seconds]",
                "type": "[docs]#not-found",
                "detail": "User [capture.user_id] ([slug]@acme.example) at [timestamp], [http-date]",
            })
        );
        assert_eq!(n.header("Retry-After", "30"), "[seconds]");
        assert_eq!(n.header("x-request-id", "req_1"), "[request_id]");
        assert_eq!(n.header("content-type", "a/b"), "a/b");
    }

    #[test]
    fn profile_rules_apply_by_pointer_header_or_pattern() {
        let settings = SnapshotSettings {
            drift: DriftPolicy::Report,
            headers: vec![],
            rules: vec![
                NormalRule {
                    scope: Scope::Pointer("/trace/id".into()),
                    pattern: None,
                    placeholder: "[trace]".into(),
                },
                NormalRule {
                    scope: Scope::Header("ratelimit".into()),
                    pattern: Some(Regex::new(r"t=\d+").unwrap()),
                    placeholder: "t=[n]".into(),
                },
                NormalRule {
                    scope: Scope::Anywhere,
                    pattern: Some(Regex::new(r"\b\d+ s\b").unwrap()),
                    placeholder: "[n] s".into(),
                },
            ],
        };
        let n = Normalizer::new(&settings);
        let mut body = json!({ "trace": { "id": 7 }, "detail": "again in 30 s" });
        n.body(&mut body);
        assert_eq!(
            body,
            json!({ "trace": { "id": "[trace]" }, "detail": "again in [n] s" })
        );
        assert_eq!(
            n.header("RateLimit", "\"default\";r=0;t=12"),
            "\"default\";r=0;t=[n]"
        );
    }
}
