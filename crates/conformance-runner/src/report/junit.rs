//! JUnit XML: one `testsuite` per category, one `testcase` per scenario.
//!
//! Written by hand: the format is a few elements, and the only subtlety is
//! escaping text and dropping characters XML 1.0 cannot hold, both below.
//! Only the elements and attributes of the common JUnit schema (Jenkins'
//! `junit-10.xsd`) are written, so strict consumers accept the file; the
//! scenario's `file:line` goes into the failure or skip text instead of
//! non-standard attributes. The `testsuites` time is the run's wall time;
//! each `testsuite` carries the run's `timestamp` and `hostname`. A scenario
//! whose setup failed is an `error` (the target could not be put in the
//! state the scenario needs), not a `failure` of the asserted response.

use std::fmt::Write as _;

use catalog::Category;
use catalog::markup::escape;

use super::{Outcome, Report, ScenarioReport};
use crate::check::RULE_SETUP;

/// Whether a failed scenario is an `error`: a setup step failed.
fn is_error(s: &ScenarioReport) -> bool {
    s.outcome == Outcome::Failed && s.findings.iter().any(|f| f.rule == RULE_SETUP)
}

/// Renders the report as JUnit XML.
pub fn render(report: &Report) -> String {
    let secs = super::timing::seconds;
    let errors = report.scenarios.iter().filter(|s| is_error(s)).count();
    // Drift is a failure when the profile says it fails the run.
    let drift_fails = report.snapshots.as_ref().is_some_and(|s| s.drift_fails);
    let drift_failed =
        |s: &ScenarioReport| drift_fails && s.outcome != Outcome::Failed && !s.drift.is_empty();
    let drift_failures = report.scenarios.iter().filter(|s| drift_failed(s)).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"conformance\" tests=\"{}\" failures=\"{}\" errors=\"{errors}\" time=\"{}\">",
        report.summary.total,
        report.summary.failed - errors + drift_failures,
        secs(report.wall_ms)
    );
    // junit-10.xsd wants a timestamp without a zone designator.
    let timestamp = report.started_at.trim_end_matches('Z');
    let stamp = if timestamp.is_empty() {
        String::new()
    } else {
        format!(" timestamp=\"{}\"", escape(timestamp))
    };
    let host = if report.hostname.is_empty() {
        String::new()
    } else {
        format!(" hostname=\"{}\"", escape(&report.hostname))
    };
    for &category in Category::ALL {
        let scenarios: Vec<_> = report.by_category(category).collect();
        if scenarios.is_empty() {
            continue;
        }
        let count = |o: Outcome| scenarios.iter().filter(|s| s.outcome == o).count();
        let errors = scenarios.iter().filter(|s| is_error(s)).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"{errors}\" time=\"{}\"{stamp}{host}>",
            escape(category.slug()),
            scenarios.len(),
            count(Outcome::Failed) - errors + scenarios.iter().filter(|s| drift_failed(s)).count(),
            count(Outcome::Skipped) + count(Outcome::Waived),
            secs(scenarios.iter().map(|s| s.duration_ms).sum())
        );
        for s in scenarios {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}.{}\" time=\"{}\"",
                escape(&s.id),
                escape(category.slug()),
                escape(&s.code),
                secs(s.duration_ms)
            );
            match s.outcome {
                _ if drift_failed(s) => {
                    let first = s.drift.first().map(ToString::to_string).unwrap_or_default();
                    let mut text = format!("at {}:{}\n", s.file, s.line);
                    for d in &s.drift {
                        let _ = writeln!(text, "drift: {d}\n{}", d.diff);
                    }
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"drift\">{}</failure>\n    </testcase>",
                        escape(&first),
                        escape(&text)
                    );
                }
                Outcome::Passed => out.push_str("/>\n"),
                Outcome::Waived => {
                    let (reason, text) = match &s.waiver {
                        Some(w) => (
                            format!(
                                "waived: {} (owner {}, until {})",
                                w.reason, w.owner, w.expires
                            ),
                            format!("waiver {}:{}", w.file, w.line),
                        ),
                        None => ("waived".to_owned(), String::new()),
                    };
                    let mut text = format!("at {}:{}; {text}\n", s.file, s.line);
                    for f in &s.findings {
                        let _ = writeln!(text, "{f}");
                    }
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\">{}</skipped>\n    </testcase>",
                        escape(&reason),
                        escape(&text)
                    );
                }
                Outcome::Skipped => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\">{}:{}</skipped>\n    </testcase>",
                        escape(s.skip_reason.as_deref().unwrap_or("")),
                        escape(&s.file),
                        s.line
                    );
                }
                Outcome::Failed => {
                    let first = s
                        .findings
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    let rule = s.findings.first().map_or("", |f| f.rule.as_str());
                    let mut text = format!("at {}:{}\n", s.file, s.line);
                    for f in &s.findings {
                        let _ = writeln!(text, "{f}");
                        if let Some(fix) = &f.fix {
                            let _ = writeln!(text, "  fix: {fix}");
                        }
                        if let Some(docs) = &f.docs {
                            let _ = writeln!(text, "  docs: {docs}");
                        }
                    }
                    let element = if is_error(s) { "error" } else { "failure" };
                    let _ = writeln!(
                        out,
                        ">\n      <{element} message=\"{}\" type=\"{}\">{}</{element}>\n    </testcase>",
                        escape(&first),
                        escape(rule),
                        escape(&text)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    waiver_suite(report, &mut out);
    out.push_str("</testsuites>\n");
    out
}

/// A `waivers` suite: a failing testcase per expired waiver (they fail the
/// run), a skipped one per stale waiver (to be removed).
fn waiver_suite(report: &Report, out: &mut String) {
    use crate::report::gating::WaiverState;
    let listed: Vec<_> = report
        .waivers
        .iter()
        .filter(|w| w.state != WaiverState::Live)
        .collect();
    if listed.is_empty() {
        return;
    }
    let expired = listed
        .iter()
        .filter(|w| w.state == WaiverState::Expired)
        .count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"waivers\" tests=\"{}\" failures=\"{expired}\" skipped=\"{}\" errors=\"0\" time=\"0.000\">",
        listed.len(),
        listed.len() - expired
    );
    for w in listed {
        let element = if w.state == WaiverState::Expired {
            "failure"
        } else {
            "skipped"
        };
        let _ = writeln!(
            out,
            "    <testcase name=\"{}:{}\" classname=\"waivers\" time=\"0.000\">\n      <{element} message=\"{}\"/>\n    </testcase>",
            escape(&w.file),
            w.line,
            escape(&w.to_string())
        );
    }
    out.push_str("  </testsuite>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_shows_forbidden_characters() {
        // XML 1.0 has no form for U+0001, so it is written visibly, as in the HTML report.
        assert_eq!(
            escape("a<b>&\"c'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;c&#39;\\u{1}\n"
        );
    }
}
