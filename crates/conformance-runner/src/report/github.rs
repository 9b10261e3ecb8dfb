//! GitHub Actions output: `::error` annotations on the scenario files and a
//! Markdown step summary (appended to `$GITHUB_STEP_SUMMARY`).

use std::fmt::Write as _;

use catalog::Category;

use super::{Outcome, Report, escape_text, escaped};

/// One `::error` workflow command per failed scenario.
pub fn annotations(report: &Report) -> String {
    let mut out = String::new();
    for s in report
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Failed)
    {
        let mut message = String::new();
        for f in s.findings.iter().map(escaped) {
            let _ = writeln!(message, "{f}");
        }
        if let Some(f) = s.findings.iter().find(|f| f.docs.is_some()) {
            let _ = write!(
                message,
                "fix: {}\ndocs: {}",
                f.fix.as_deref().unwrap_or_default(),
                f.docs.as_deref().unwrap_or_default()
            );
        }
        let _ = writeln!(
            out,
            "::error file={},line={},title={}::{}",
            property(&s.file),
            s.line,
            property(&format!("{} ({})", s.id, s.code)),
            data(message.trim_end())
        );
    }
    for code in &report.summary.uncovered {
        let _ = writeln!(
            out,
            "::error title={}::{}",
            property(&format!("uncovered {code}")),
            data(&format!("{code} has no passing scenario"))
        );
    }
    gate_annotations(report, &mut out);
    out
}

/// Waived scenarios (`::notice`), drift (`::error` when it fails the run,
/// `::warning` otherwise), expired (`::error`) and stale (`::warning`) waivers.
fn gate_annotations(report: &Report, out: &mut String) {
    for s in &report.scenarios {
        let title = property(&format!("{} ({})", s.id, s.code));
        if let (Outcome::Waived, Some(w)) = (s.outcome, &s.waiver) {
            let message = format!(
                "waived: {} (owner {}, until {}; {}:{})",
                w.reason, w.owner, w.expires, w.file, w.line
            );
            let _ = writeln!(
                out,
                "::notice file={},line={},title={title}::{}",
                property(&s.file),
                s.line,
                data(&message)
            );
        }
        if !s.drift.is_empty() {
            let level = if report.snapshots.as_ref().is_some_and(|x| x.drift_fails) {
                "error"
            } else {
                "warning"
            };
            let mut message = String::new();
            for d in &s.drift {
                let _ = writeln!(message, "drift: {d}\n{}", d.diff);
            }
            let _ = writeln!(
                out,
                "::{level} file={},line={},title={title}::{}",
                property(&s.file),
                s.line,
                data(message.trim_end())
            );
        }
    }
    for w in &report.waivers {
        let level = match w.state {
            crate::report::gating::WaiverState::Live => continue,
            crate::report::gating::WaiverState::Expired => "error",
            crate::report::gating::WaiverState::Stale => "warning",
        };
        let _ = writeln!(
            out,
            "::{level} file={},line={},title={}::{}",
            property(&w.file),
            w.line,
            property(&format!("waiver {:?}", w.state).to_lowercase()),
            data(&w.to_string())
        );
    }
}

/// The step summary, as Markdown.
pub fn summary(report: &Report) -> String {
    let mut out = String::new();
    let verdict = if report.passed() { "passed" } else { "failed" };
    let _ = writeln!(out, "## Conformance {verdict}\n");
    let _ = writeln!(
        out,
        "Run `{}` against `{}` (profile `{}`): **{}**.\n",
        report.run_id,
        cell(&report.target).replace('`', "'"),
        cell(&report.profile).replace('`', "'"),
        report.closing_line()
    );
    let failed: Vec<_> = report
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Failed)
        .collect();
    if !failed.is_empty() {
        out.push_str("### Failures\n\n| Scenario | Code | Finding | Expected | Actual |\n|---|---|---|---|---|\n");
        for s in failed {
            for f in &s.findings {
                let docs = f.docs.as_deref().unwrap_or_default();
                let _ = writeln!(
                    out,
                    "| `{}` | [{}]({docs}) | {} at `{}` | {} | {} |",
                    s.id,
                    s.code,
                    f.rule,
                    cell(&f.at),
                    cell(&f.expected),
                    cell(&f.actual)
                );
            }
        }
        out.push('\n');
    }
    let waived: Vec<_> = report
        .scenarios
        .iter()
        .filter_map(|s| s.waiver.as_ref().map(|w| (s, w)))
        .collect();
    if !waived.is_empty() {
        out.push_str(
            "### Waived\n\n| Scenario | Code | Reason | Owner | Until |\n|---|---|---|---|---|\n",
        );
        for (s, w) in waived {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                s.id,
                s.code,
                cell(&w.reason),
                cell(&w.owner),
                w.expires
            );
        }
        out.push('\n');
    }
    out.push_str(
        "### By category\n\n| Category | Passed | Failed | Skipped | Waived |\n|---|---|---|---|---|\n",
    );
    for &category in Category::ALL {
        let all: Vec<_> = report.by_category(category).collect();
        if all.is_empty() {
            continue;
        }
        let n = |o: Outcome| all.iter().filter(|s| s.outcome == o).count();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            category.title(),
            n(Outcome::Passed),
            n(Outcome::Failed),
            n(Outcome::Skipped),
            n(Outcome::Waived)
        );
    }
    out.push_str("\n### Coverage\n\n| Code | Scenarios | Passed | Failed | Skipped | Waived |\n|---|---|---|---|---|---|\n");
    for row in &report.coverage {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            row.code, row.scenarios, row.passed, row.failed, row.skipped, row.waived
        );
    }
    out
}

/// Escapes a workflow command's message.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Makes target text inert inside a Markdown table cell: control
/// characters escaped ([`escape_text`]), and every character that could
/// open a link, an image, HTML, emphasis or code, or end the cell,
/// backslash-escaped (`(`, `_` and `#` are inert without those).
fn cell(text: &str) -> String {
    let text = escape_text(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '|' | '<' | '>' | '[' | ']' | '`' | '*' | '~') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_workflow_commands() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(cell("a|b\nc"), "a\\|b\\\\nc");
        assert_eq!(
            cell("<img src=x>[a](http://e)"),
            "\\<img src=x\\>\\[a\\](http://e)"
        );
    }
}
