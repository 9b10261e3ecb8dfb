//! The run's report: one data model, several renderings.
//!
//! [`Report`] is what a run produces. It is redacted once ([`Report::redact`])
//! before any rendering, so every output path (the human table, the JSON
//! report whose schema is `schemas/report.schema.json`, JUnit, GitHub
//! annotations and step summary) sees only redacted text.

mod color;
pub(crate) mod curl;
pub(crate) mod derived;
pub(crate) mod gating;
pub mod github;
pub mod html;
pub mod human;
mod human_gate;
pub mod junit;
pub mod progress;
pub(crate) mod schema;
pub mod snapshot;
pub(crate) mod timing;
pub mod waiver;

use std::collections::BTreeMap;

use catalog::{Category, Code};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::check::Finding;
use crate::redact::Redactor;
use crate::report::derived::{CategorySlug, CodeName};

/// Version of the JSON report format; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything a run found: what `conformance-runner --format json` prints
/// and `--json FILE` writes. Secrets are redacted. Members may be added in a
/// compatible release; an incompatible change bumps `schema_version`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Report {
    /// The JSON report format's version: 1. A consumer refuses a report
    /// whose version it does not know.
    #[schemars(extend("const" = SCHEMA_VERSION))]
    pub schema_version: u32,
    /// The run's id; every resource the run created on the target carries it,
    /// so a failed cleanup can be finished by hand.
    pub run_id: String,
    /// The target's base URL, redacted.
    pub target: String,
    /// The name of the profile the run used (`mock` for the embedded one).
    pub profile: String,
    /// How many scenarios passed, failed, were skipped or waived, and
    /// whether the run passed (`ok`).
    pub summary: Summary,
    /// Whether a code without a passing scenario fails the run (the whole,
    /// unfiltered, unsharded suite was selected).
    pub coverage_enforced: bool,
    /// One row per catalog code, in documented order.
    pub coverage: Vec<CoverageRow>,
    /// One entry per selected scenario, in id order.
    pub scenarios: Vec<ScenarioReport>,
    /// Problems that do not fail a scenario (a cleanup step that failed).
    pub warnings: Vec<String>,
    /// Whether the run was interrupted (Ctrl-C) before every scenario finished.
    pub interrupted: bool,
    /// The comparison with recorded snapshots, when `--snapshots` was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<gating::SnapshotRun>,
    /// Every waiver of `--waivers`, with what it matched and its state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<gating::WaiverStatus>,
    /// When the run started, RFC 3339 in UTC.
    #[serde(default)]
    pub started_at: String,
    /// Wall time of the whole run (probe, scenarios, cleanups), in milliseconds.
    #[serde(default)]
    pub wall_ms: u64,
    /// The machine the runner ran on.
    #[serde(default)]
    pub hostname: String,
}

/// Counts of scenario outcomes, and the run's verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "summary", deny_unknown_fields)]
pub struct Summary {
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios that failed.
    pub failed: usize,
    /// Scenarios the profile skips, or that an interruption left unrun.
    pub skipped: usize,
    /// Failed scenarios a live waiver covers (not counted as passed).
    #[serde(default)]
    pub waived: usize,
    /// Scenarios whose response drifted from its recorded snapshot.
    #[serde(default)]
    pub drifted: usize,
    /// Selected scenarios.
    pub total: usize,
    /// Codes with no passing or waived scenario, when coverage is enforced
    /// (empty otherwise); each fails the run.
    #[schemars(with = "Vec<CodeName>")]
    pub uncovered: Vec<String>,
    /// Whether the run passed (exit status 0): no failure, no uncovered
    /// code, not interrupted, no expired waiver, and no drift when drift
    /// fails the run.
    pub ok: bool,
}

/// One catalog code's scenarios.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "coverage_row", deny_unknown_fields)]
pub struct CoverageRow {
    /// The catalog code this row counts.
    #[schemars(with = "CodeName")]
    pub code: String,
    /// The code's category, as in the reference page's sections.
    #[schemars(with = "CategorySlug")]
    pub category: String,
    /// Selected scenarios proving it.
    pub scenarios: usize,
    /// Of those, passed.
    pub passed: usize,
    /// Of those, failed.
    pub failed: usize,
    /// Of those, skipped.
    pub skipped: usize,
    /// Why, when the profile skips every scenario of the code (a target
    /// without a reachable webhook receiver): the code is then not counted
    /// as uncovered, and the table says why instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// Of those, failed but waived.
    #[serde(default)]
    pub waived: usize,
}

/// The outcome of one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "outcome")]
pub enum Outcome {
    /// Every check passed.
    Passed,
    /// At least one finding; fails the run.
    Failed,
    /// Not run: the profile skips it (`skip_reason` says why), or an
    /// interruption left it unrun.
    Skipped,
    /// Failed, but every finding is covered by a live waiver.
    Waived,
}

/// One scenario's result. A failed or waived scenario has at least one
/// finding; any other has none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(
    rename = "scenario",
    deny_unknown_fields,
    extend(
        "if" = { "properties": { "outcome": { "enum": ["failed", "waived"] } } },
        "then" = { "properties": { "findings": { "type": "array", "minItems": 1 } } },
        "else" = { "properties": { "findings": { "type": "array", "maxItems": 0 } } },
    )
)]
pub struct ScenarioReport {
    /// The scenario's id (`<code-anchor>/<variant>`), unique in the suite:
    /// what `--filter` and a waiver's `scenario` match.
    pub id: String,
    /// The catalog code the scenario proves.
    #[schemars(with = "CodeName")]
    pub code: String,
    /// The code's category.
    #[schemars(with = "CategorySlug")]
    pub category: String,
    /// The scenario's tags, as written in its file.
    pub tags: Vec<String>,
    /// What the scenario shows, as written in its file.
    pub description: String,
    /// The standard rule it proves (`RFC 7644 §3.4.2.2`), or `platform`.
    #[serde(default = "platform_basis")]
    pub basis: String,
    /// The scenario file, relative to the working directory.
    pub file: String,
    /// The line of the scenario's `id` in `file`.
    #[schemars(range(min = 1))]
    pub line: usize,
    /// Compiled into the runner: `file` is in the runner's source, which a
    /// user of the installed binary does not have.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub built_in: bool,
    /// Passed, failed, skipped or waived.
    pub outcome: Outcome,
    /// Why it was skipped, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// Wall time of setup, request and checks, in milliseconds.
    pub duration_ms: u64,
    /// Every way the response failed the contract or the scenario: empty
    /// unless the outcome is failed or waived.
    pub findings: Vec<Finding>,
    /// The setup steps that were sent, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepRecord>,
    /// The asserted request, when it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestRecord>,
    /// The asserted response, when one came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseRecord>,
    /// How the response differs from its recorded snapshot.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<gating::Drift>,
    /// The waiver that covers this scenario's findings, when waived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<gating::WaiverNote>,
    /// Captured values whose names do not say secret, for normalisation;
    /// never written out.
    #[serde(skip)]
    pub captures: BTreeMap<String, String>,
}

fn platform_basis() -> String {
    crate::check::PLATFORM.to_owned()
}

/// The asserted request, redacted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "request", deny_unknown_fields)]
pub struct RequestRecord {
    /// The HTTP method, as sent (`GET`, `POST`).
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Headers sent by the scenario.
    pub headers: BTreeMap<String, String>,
    /// The request as a person can send it again, secrets as `${VAR}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<Replay>,
}

/// A setup step as it was sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "step", deny_unknown_fields)]
pub struct StepRecord {
    /// The step's name: its `name` in the scenario file, or `METHOD path`.
    pub name: String,
    /// The request (its last sending, for a repeated step).
    pub request: RequestRecord,
    /// The status it got, when it got an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 100, max = 999))]
    pub status: Option<u16>,
}

/// The exact request of a step with every variable filled in, except secrets:
/// each credential and each captured secret is a `${VAR}` reference to an
/// environment variable named in `env`, never a value. The human and HTML
/// reports print it as a curl command (`curl::command`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "replay", deny_unknown_fields)]
pub struct Replay {
    /// The full URL.
    pub url: String,
    /// Headers in the order they are sent, as `[name, value]`.
    pub headers: Vec<(String, String)>,
    /// The body, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The environment variables referenced, each with where its value comes from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvRef>,
}

/// An environment variable a replayed request needs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "env_ref", deny_unknown_fields)]
pub struct EnvRef {
    /// The variable's name.
    pub name: String,
    /// What to set it to (a profile credential, a value captured by a step).
    pub source: String,
}

/// The asserted response, redacted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "response", deny_unknown_fields)]
pub struct ResponseRecord {
    /// The HTTP status code the target answered.
    #[schemars(range(min = 100, max = 999))]
    pub status: u16,
    /// Headers, lowercase names; repeated headers joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The body: JSON when it parses, a string otherwise.
    pub body: serde_json::Value,
}

impl Report {
    /// Builds the summary and coverage from scenario results.
    pub fn new(
        run_id: String,
        target: String,
        profile: String,
        coverage_enforced: bool,
        mut scenarios: Vec<ScenarioReport>,
        warnings: Vec<String>,
        interrupted: bool,
    ) -> Report {
        scenarios.sort_by(|a, b| a.id.cmp(&b.id));
        let count = |o: Outcome| scenarios.iter().filter(|s| s.outcome == o).count();
        let coverage: Vec<CoverageRow> = Code::ALL
            .iter()
            .map(|&code| {
                let of_code = || scenarios.iter().filter(move |s| s.code == code.name());
                let n = |o: Outcome| of_code().filter(|s| s.outcome == o).count();
                CoverageRow {
                    code: code.name().to_owned(),
                    category: code.category().slug().to_owned(),
                    scenarios: of_code().count(),
                    passed: n(Outcome::Passed),
                    failed: n(Outcome::Failed),
                    skipped: n(Outcome::Skipped),
                    skip_reason: if of_code().count() > 0
                        && of_code().all(|s| s.skip_reason.is_some())
                    {
                        of_code().find_map(|s| s.skip_reason.clone())
                    } else {
                        None
                    },
                    waived: n(Outcome::Waived),
                }
            })
            .collect();
        let uncovered: Vec<String> = if coverage_enforced {
            coverage
                .iter()
                .filter(|row| row.passed == 0 && row.waived == 0 && row.skip_reason.is_none())
                .map(|row| row.code.clone())
                .collect()
        } else {
            Vec::new()
        };
        let failed = count(Outcome::Failed);
        let summary = Summary {
            passed: count(Outcome::Passed),
            failed,
            skipped: count(Outcome::Skipped),
            waived: count(Outcome::Waived),
            drifted: scenarios.iter().filter(|s| !s.drift.is_empty()).count(),
            total: scenarios.len(),
            ok: failed == 0 && uncovered.is_empty() && !interrupted,
            uncovered,
        };
        Report {
            schema_version: SCHEMA_VERSION,
            run_id,
            target,
            profile,
            summary,
            coverage_enforced,
            coverage,
            scenarios,
            warnings,
            interrupted,
            snapshots: None,
            waivers: Vec::new(),
            started_at: String::new(),
            wall_ms: 0,
            hostname: String::new(),
        }
    }

    /// Recomputes summary and coverage after outcomes, drift or waivers changed.
    pub fn recount(&mut self) {
        let fresh = Report::new(
            self.run_id.clone(),
            self.target.clone(),
            self.profile.clone(),
            self.coverage_enforced,
            std::mem::take(&mut self.scenarios),
            Vec::new(),
            self.interrupted,
        );
        self.scenarios = fresh.scenarios;
        self.coverage = fresh.coverage;
        self.summary = fresh.summary;
        let drift_fails = self
            .snapshots
            .as_ref()
            .is_some_and(|s| s.drift_fails && self.summary.drifted > 0);
        let expired = self
            .waivers
            .iter()
            .any(|w| w.state == gating::WaiverState::Expired);
        self.summary.ok = self.summary.ok && !drift_fails && !expired;
    }

    /// Whether the run passed.
    pub fn passed(&self) -> bool {
        self.summary.ok
    }

    /// Replaces every secret in every string of the report.
    pub fn redact(&mut self, redactor: &Redactor) {
        self.target = redactor.text(&self.target);
        for w in &mut self.warnings {
            *w = redactor.text(w);
        }
        for row in &mut self.coverage {
            if let Some(reason) = &mut row.skip_reason {
                *reason = redactor.text(reason);
            }
        }
        for s in &mut self.scenarios {
            if let Some(reason) = &mut s.skip_reason {
                *reason = redactor.text(reason);
            }
            for f in &mut s.findings {
                f.expected = redactor.text(&f.expected);
                f.actual = redactor.text(&f.actual);
                f.at = redactor.text(&f.at);
            }
            for req in s
                .steps
                .iter_mut()
                .map(|step| &mut step.request)
                .chain(s.request.as_mut())
            {
                req.url = redactor.text(&req.url);
                redact_headers(redactor, &mut req.headers);
                // A replay holds `${VAR}` references, not secrets; this pass
                // is the safety net for a value that should have been one.
                if let Some(replay) = &mut req.replay {
                    replay.url = redactor.text(&replay.url);
                    for (_, v) in &mut replay.headers {
                        *v = redactor.text(v);
                    }
                    if let Some(body) = &mut replay.body {
                        *body = redactor.text(body);
                    }
                }
            }
            if let Some(resp) = &mut s.response {
                redact_headers(redactor, &mut resp.headers);
                redactor.json(&mut resp.body);
            }
        }
    }

    /// The report as pretty JSON (the format of `schemas/report.schema.json`).
    pub fn to_json(&self) -> String {
        // A report holds only strings, numbers and maps with string keys.
        let mut text = serde_json::to_string_pretty(self).expect("a report serializes");
        text.push('\n');
        text
    }

    /// The scenarios of a category, in id order.
    pub fn by_category(&self, category: Category) -> impl Iterator<Item = &ScenarioReport> {
        self.scenarios
            .iter()
            .filter(move |s| s.category == category.slug())
    }

    /// The `n` slowest scenarios that ran, slowest first.
    pub fn slowest(&self, n: usize) -> Vec<&ScenarioReport> {
        let mut ran: Vec<&ScenarioReport> = self
            .scenarios
            .iter()
            .filter(|s| s.outcome != Outcome::Skipped)
            .collect();
        ran.sort_by(|a, b| b.duration_ms.cmp(&a.duration_ms).then(a.id.cmp(&b.id)));
        ran.truncate(n);
        ran
    }

    /// The last line of every human report: `N passed, N failed`.
    pub fn closing_line(&self) -> String {
        format!(
            "{} passed, {} failed",
            self.summary.passed, self.summary.failed
        )
    }
}

/// Redacts header values, and names: a target may echo a secret as a header name.
fn redact_headers(redactor: &Redactor, headers: &mut BTreeMap<String, String>) {
    *headers = std::mem::take(headers)
        .into_iter()
        .map(|(k, v)| {
            let v = redactor.header(&k, &v);
            (redactor.text(&k), v)
        })
        .collect();
}

/// Target text made inert for a terminal or a CI log: newlines, tabs and
/// every other control character (C0, DEL, C1) become visible escapes
/// (`\n`, `\u{1b}`), and so do the invisible characters that reorder text
/// (bidirectional overrides and isolates). A body can then never start a line
/// of its own, move the cursor or colour the terminal, so it can never start
/// a workflow command such as `::error` or `::add-mask::`.
pub fn escape_text(text: &str) -> std::borrow::Cow<'_, str> {
    let special = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(special) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if special(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A finding with every target-provided field escaped ([`escape_text`]).
pub fn escaped(f: &Finding) -> Finding {
    Finding {
        rule: escape_text(&f.rule).into_owned(),
        at: escape_text(&f.at).into_owned(),
        expected: escape_text(&f.expected).into_owned(),
        actual: escape_text(&f.actual).into_owned(),
        fix: f.fix.clone(),
        docs: f.docs.clone(),
        basis: f.basis.clone(),
        hint: f.hint.as_deref().map(|h| escape_text(h).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_text_cannot_start_a_line_or_move_the_cursor() {
        assert_eq!(
            escape_text("ok\n::error file=README.md,line=1::pwned\r\x1b[2J\t\u{202e}x\u{85}"),
            "ok\\n::error file=README.md,line=1::pwned\\r\\u{1b}[2J\\t\\u{202e}x\\u{85}"
        );
        assert!(matches!(
            escape_text("plain: text"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
