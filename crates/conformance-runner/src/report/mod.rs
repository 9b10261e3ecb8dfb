//! The run's report: one data model, several renderings.
//!
//! [`Report`] is what a run produces. It is redacted once ([`Report::redact`])
//! before any rendering, so every output path (the human table, the JSON
//! report whose schema is `schemas/report.schema.json`, JUnit, GitHub
//! annotations and step summary) sees only redacted text.

pub mod github;
pub mod human;
pub mod junit;
pub mod progress;

use std::collections::BTreeMap;

use catalog::{Category, Code};
use serde::{Deserialize, Serialize};

use crate::check::Finding;
use crate::redact::Redactor;

/// Version of the JSON report format; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything a run found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The JSON report format's version.
    pub schema_version: u32,
    /// The run's id; every resource the run created carries it.
    pub run_id: String,
    /// The target's base URL.
    pub target: String,
    /// The profile's name.
    pub profile: String,
    /// Counts.
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
}

/// Counts of scenario outcomes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios that failed.
    pub failed: usize,
    /// Scenarios the profile skips, or that an interruption left unrun.
    pub skipped: usize,
    /// Selected scenarios.
    pub total: usize,
    /// Codes with no passing scenario, when coverage is enforced.
    pub uncovered: Vec<String>,
    /// Whether the run passed: no failure, no uncovered code, not interrupted.
    pub ok: bool,
}

/// One catalog code's scenarios.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageRow {
    /// The code.
    pub code: String,
    /// Its category slug.
    pub category: String,
    /// Selected scenarios proving it.
    pub scenarios: usize,
    /// Of those, passed.
    pub passed: usize,
    /// Of those, failed.
    pub failed: usize,
    /// Of those, skipped.
    pub skipped: usize,
}

/// The outcome of one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every check passed.
    Passed,
    /// At least one finding.
    Failed,
    /// Not run.
    Skipped,
}

/// One scenario's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// The scenario id.
    pub id: String,
    /// The code it proves.
    pub code: String,
    /// The code's category slug.
    pub category: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// What it shows.
    pub description: String,
    /// The file it is written in.
    pub file: String,
    /// The line of its `id`.
    pub line: usize,
    /// Passed, failed or skipped.
    pub outcome: Outcome,
    /// Why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// Wall time of setup, request and checks, in milliseconds.
    pub duration_ms: u64,
    /// Every finding, empty when it passed.
    pub findings: Vec<Finding>,
    /// The asserted request, when it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestRecord>,
    /// The asserted response, when one came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseRecord>,
}

/// The asserted request, redacted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// The method.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Headers sent by the scenario.
    pub headers: BTreeMap<String, String>,
}

/// The asserted response, redacted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseRecord {
    /// The status.
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
                }
            })
            .collect();
        let uncovered: Vec<String> = if coverage_enforced {
            coverage
                .iter()
                .filter(|row| row.passed == 0)
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
        }
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
        for s in &mut self.scenarios {
            if let Some(reason) = &mut s.skip_reason {
                *reason = redactor.text(reason);
            }
            for f in &mut s.findings {
                f.expected = redactor.text(&f.expected);
                f.actual = redactor.text(&f.actual);
                f.at = redactor.text(&f.at);
            }
            if let Some(req) = &mut s.request {
                req.url = redactor.text(&req.url);
                redact_headers(redactor, &mut req.headers);
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
