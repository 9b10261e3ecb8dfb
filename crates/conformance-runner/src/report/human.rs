//! The report for people: a table grouped by category, failures with
//! expected vs actual, fix hint and documented row, the requests as `curl`
//! commands and the response, the coverage table, the wall time and the
//! slowest scenarios, and `N passed, N failed` as the last line.

use std::fmt::Write as _;

use catalog::Category;

pub use super::color::Color;
use super::{Outcome, Report, ScenarioReport, curl, escape_text, timing};

/// How many of the slowest scenarios the summary names.
pub const SLOWEST: usize = 5;
/// Longest body excerpt shown, in characters.
const BODY_EXCERPT: usize = 600;

/// Which scenarios show their requests and response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Failed scenarios only.
    Failures,
    /// Every scenario that ran (`--verbose`).
    All,
}

/// Renders the report, with requests and responses of failures only.
pub fn render(report: &Report, color: Color) -> String {
    render_with(report, color, Detail::Failures)
}

/// Renders the report; `detail` says which scenarios show their exchange.
pub fn render_with(report: &Report, color: Color, detail: Detail) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "conformance run {} against {} (profile {})",
        report.run_id,
        escape_text(&report.target),
        escape_text(&report.profile)
    );
    let id_width = report
        .scenarios
        .iter()
        .map(|s| s.id.len())
        .max()
        .unwrap_or(0)
        .max(20);
    for &category in Category::ALL {
        let mut scenarios = report.by_category(category).peekable();
        if scenarios.peek().is_none() {
            continue;
        }
        let _ = writeln!(out, "\n{}", color.paint("1", category.title()));
        for s in scenarios {
            let tag = match s.outcome {
                Outcome::Passed => color.paint("32", "PASS"),
                Outcome::Failed => color.paint("31", "FAIL"),
                Outcome::Skipped => color.paint("33", "SKIP"),
                Outcome::Waived => color.paint("33", "WAIV"),
            };
            let _ = write!(out, "  {tag}  {:<id_width$}  {:<28}", s.id, s.code);
            match (&s.outcome, &s.skip_reason) {
                (Outcome::Skipped, Some(reason)) => {
                    let _ = writeln!(out, "  {}", escape_text(reason));
                }
                _ => {
                    let _ = writeln!(out, "  {:>5} ms", s.duration_ms);
                }
            }
            crate::report::human_gate::scenario_lines(&mut out, s, color);
            let show_exchange = match detail {
                Detail::Failures => s.outcome == Outcome::Failed,
                Detail::All => s.outcome != Outcome::Skipped,
            };
            if s.outcome != Outcome::Failed {
                if show_exchange {
                    exchange(&mut out, s);
                }
                continue;
            }
            if s.built_in {
                // The installed binary's users have no such file: name the
                // scenario, and where its source lives in the runner's.
                let _ = writeln!(
                    out,
                    "        at {}, built into the runner ({}:{} of its source) ({})",
                    s.id, s.file, s.line, s.basis
                );
            } else {
                let _ = writeln!(out, "        at {}:{} ({})", s.file, s.line, s.basis);
            }
            // The scenario's description states the rule it proves.
            let _ = writeln!(out, "        what: {}", escape_text(&s.description));
            for f in s.findings.iter().map(super::escaped) {
                let _ = writeln!(
                    out,
                    "        {}  [{}]",
                    color.paint("31", &format!("{} at {}", f.rule, f.at)),
                    f.basis
                );
                let _ = writeln!(out, "          expected: {}", f.expected);
                let _ = writeln!(out, "          actual:   {}", f.actual);
            }
            let mut servers: Vec<&str> = Vec::new();
            for f in &s.findings {
                if let Some(hint) = &f.hint
                    && !servers.contains(&hint.as_str())
                {
                    servers.push(hint);
                }
            }
            for hint in servers {
                let _ = writeln!(out, "        server: {hint}");
            }
            let mut hints: Vec<(&str, &str)> = Vec::new();
            for f in &s.findings {
                if let (Some(fix), Some(docs)) = (&f.fix, &f.docs)
                    && !hints.contains(&(fix.as_str(), docs.as_str()))
                {
                    hints.push((fix, docs));
                }
            }
            for (fix, docs) in hints {
                let _ = writeln!(out, "        fix:  {fix}");
                let _ = writeln!(out, "        docs: {docs}");
            }
            exchange(&mut out, s);
        }
    }

    let _ = writeln!(out, "\n{}", color.paint("1", "Coverage"));
    let _ = writeln!(
        out,
        "  {:<28} {:>9} {:>6} {:>6} {:>7}",
        "code", "scenarios", "passed", "failed", "skipped"
    );
    for row in &report.coverage {
        let mark = if row.passed > 0 {
            color.paint("32", "ok")
        } else if let Some(reason) = &row.skip_reason {
            color.paint("33", &format!("skipped by the profile: {reason}"))
        } else if row.waived > 0 {
            color.paint("33", &format!("{} waived, not passing", row.waived))
        } else if report.coverage_enforced {
            color.paint("31", "NO PASSING SCENARIO")
        } else if row.scenarios == 0 {
            "not selected".to_owned()
        } else {
            color.paint("31", "none passed")
        };
        let _ = writeln!(
            out,
            "  {:<28} {:>9} {:>6} {:>6} {:>7}  {mark}",
            row.code, row.scenarios, row.passed, row.failed, row.skipped
        );
    }
    if !report.coverage_enforced {
        let _ = writeln!(
            out,
            "  (a filtered or sharded run does not enforce coverage)"
        );
    }

    crate::report::human_gate::closing_sections(&mut out, report, color);
    if !report.warnings.is_empty() {
        let _ = writeln!(out, "\n{}", color.paint("33", "Warnings"));
        for w in &report.warnings {
            let _ = writeln!(out, "  {}", escape_text(w));
        }
    }
    out.push('\n');
    if report.interrupted {
        let _ = writeln!(
            out,
            "{}",
            color.paint(
                "31",
                "interrupted: cleanup ran, remaining scenarios skipped"
            )
        );
    }
    if !report.summary.uncovered.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            color.paint(
                "31",
                &format!(
                    "codes with no passing scenario: {} (pass --partial when the scenarios cover only some codes)",
                    report.summary.uncovered.join(", ")
                )
            )
        );
    }
    let slowest = report.slowest(SLOWEST);
    if !slowest.is_empty() {
        let _ = writeln!(out, "slowest:");
        for s in slowest {
            let _ = writeln!(out, "  {:>7} ms  {}", s.duration_ms, s.id);
        }
    }
    let _ = writeln!(out, "wall time: {} s", timing::seconds(report.wall_ms));
    if report.summary.skipped > 0 {
        let _ = writeln!(out, "{} skipped", report.summary.skipped);
    }
    crate::report::human_gate::counts(&mut out, report);
    let _ = writeln!(out, "{}", report.closing_line());
    out
}

/// The scenario's requests as `curl` commands (setup steps first, in order)
/// and the asserted request's response: status, headers, a body excerpt.
fn exchange(out: &mut String, s: &ScenarioReport) {
    let requests: Vec<(String, &super::RequestRecord)> = s
        .steps
        .iter()
        .map(|step| {
            let status = step.status.map_or_else(
                || "did not succeed (see the findings)".to_owned(),
                |c| c.to_string(),
            );
            (
                format!("setup step `{}`: {status}", step.name),
                &step.request,
            )
        })
        .chain(
            s.request
                .iter()
                .map(|r| ("the asserted request".to_owned(), r)),
        )
        .filter(|(_, r)| r.replay.is_some())
        .collect();
    if requests.is_empty() {
        return;
    }
    let mut env = Vec::new();
    for (_, r) in &requests {
        for e in r.replay.iter().flat_map(|p| &p.env) {
            if !env.contains(e) {
                env.push(e.clone());
            }
        }
    }
    if env.is_empty() {
        let _ = writeln!(out, "        reproduce:");
    } else {
        let _ = writeln!(
            out,
            "        reproduce, with these environment variables set:"
        );
        for e in &env {
            let _ = writeln!(out, "          {}: {}", e.name, printable(&e.source));
        }
    }
    for (what, r) in &requests {
        if let Some(replay) = &r.replay {
            let _ = writeln!(out, "          # {}", printable(what));
            let _ = writeln!(out, "{}", curl::command(&r.method, replay, "          "));
        }
    }
    if let Some(resp) = &s.response {
        let _ = writeln!(out, "        response: {}", resp.status);
        for (name, value) in &resp.headers {
            let _ = writeln!(out, "          {}: {}", printable(name), printable(value));
        }
        let body = match &resp.body {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        if !body.is_empty() {
            let excerpt: String = body.chars().take(BODY_EXCERPT).collect();
            let more = if excerpt.len() < body.len() {
                " ..."
            } else {
                ""
            };
            let _ = writeln!(out, "          body: {}{more}", printable(&excerpt));
        }
    }
}

/// Text from a target with control characters escaped, so it cannot move
/// the cursor or recolour the terminal.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
