//! The report for people: a table grouped by category, failures with
//! expected vs actual, fix hint and documented row, the coverage table, and
//! `N passed, N failed` as the last line.

use std::fmt::Write as _;

use catalog::Category;

use super::{Outcome, Report, escape_text};

/// Whether to use ANSI colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    /// Plain text.
    Never,
    /// ANSI colours.
    Always,
}

impl Color {
    /// Colours on a terminal, unless `NO_COLOR` is set (to anything non-empty).
    pub fn detect(is_terminal: bool, no_color: Option<&str>) -> Color {
        if is_terminal && no_color.is_none_or(str::is_empty) {
            Color::Always
        } else {
            Color::Never
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        match self {
            Color::Never => text.to_owned(),
            Color::Always => format!("\x1b[{code}m{text}\x1b[0m"),
        }
    }
}

/// Renders the report.
pub fn render(report: &Report, color: Color) -> String {
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
            if s.outcome != Outcome::Failed {
                continue;
            }
            let _ = writeln!(out, "        at {}:{}", s.file, s.line);
            for f in s.findings.iter().map(super::escaped) {
                let _ = writeln!(
                    out,
                    "        {}",
                    color.paint("31", &format!("{} at {}", f.rule, f.at))
                );
                let _ = writeln!(out, "          expected: {}", f.expected);
                let _ = writeln!(out, "          actual:   {}", f.actual);
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
                    "codes with no passing scenario: {}",
                    report.summary.uncovered.join(", ")
                )
            )
        );
    }
    if report.summary.skipped > 0 {
        let _ = writeln!(out, "{} skipped", report.summary.skipped);
    }
    let _ = writeln!(out, "{}", report.closing_line());
    out
}
