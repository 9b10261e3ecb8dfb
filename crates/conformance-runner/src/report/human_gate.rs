//! The human report's lines for drift and waivers (issue 11), kept apart
//! from `human.rs` so the table's layout stays in one place.

use std::fmt::Write as _;

use super::color::Color;
use super::{Outcome, Report, ScenarioReport};
use crate::report::gating::WaiverState;

/// Under a scenario's row: its waiver, and each drift with its diff.
pub(crate) fn scenario_lines(out: &mut String, s: &ScenarioReport, color: Color) {
    if let (Outcome::Waived, Some(w)) = (s.outcome, &s.waiver) {
        let _ = writeln!(
            out,
            "        waived by {}:{} (owner {}, until {}): {}",
            w.file, w.line, w.owner, w.expires, w.reason
        );
        for f in &s.findings {
            let _ = writeln!(out, "          {f}");
        }
    }
    for d in &s.drift {
        let _ = writeln!(out, "        {}", color.paint("33", &format!("drift: {d}")));
        for line in d.diff.lines() {
            let _ = writeln!(out, "          {line}");
        }
    }
}

/// After the coverage table: snapshots and waivers.
pub(crate) fn closing_sections(out: &mut String, report: &Report, color: Color) {
    if let Some(snap) = &report.snapshots {
        let _ = writeln!(out, "\n{}", color.paint("1", "Snapshots"));
        let policy = if snap.drift_fails {
            "drift fails the run"
        } else {
            "drift is reported only"
        };
        let _ = writeln!(
            out,
            "  {}: {} matched, {} drifted ({policy})",
            snap.dir, snap.matched, report.summary.drifted
        );
        let accepted = snap.written.iter().filter(|n| !n.ends_with(".new")).count();
        if accepted > 0 {
            let _ = writeln!(out, "  recorded {accepted} snapshots");
        }
        for name in snap.written.iter().filter(|n| n.ends_with(".new")) {
            let _ = writeln!(out, "  wrote {name}");
        }
        if snap.written.iter().any(|n| n.ends_with(".new")) {
            let _ = writeln!(
                out,
                "  review with `cargo insta review --workspace-root {}`, or rerun with --accept-snapshots",
                snap.dir
            );
        }
    }
    if !report.waivers.is_empty() {
        let _ = writeln!(out, "\n{}", color.paint("1", "Waivers"));
        for w in &report.waivers {
            let text = w.to_string();
            let line = match w.state {
                WaiverState::Live => text,
                WaiverState::Expired => color.paint("31", &text),
                WaiverState::Stale => color.paint("33", &text),
            };
            let _ = writeln!(out, "  {line}");
        }
    }
}

/// Before the closing line: waived and drifted counts.
pub(crate) fn counts(out: &mut String, report: &Report) {
    if report.summary.waived > 0 {
        let _ = writeln!(out, "{} waived", report.summary.waived);
    }
    if report.summary.drifted > 0 {
        let _ = writeln!(out, "{} drifted", report.summary.drifted);
    }
    let expired = report
        .waivers
        .iter()
        .filter(|w| w.state == WaiverState::Expired)
        .count();
    if expired > 0 {
        let _ = writeln!(out, "{expired} expired waivers");
    }
}
