//! The HTML report (`--html FILE`): one self-contained page.
//!
//! No network and no external asset: the style sheet and the small filter
//! script are inline, and the only links are to the documented rows of the
//! reference page. It shows the summary (counts, wall time, slowest
//! scenarios, every failure linked), the coverage table, and every scenario
//! with its findings, requests as `curl` commands and response; filters by
//! outcome and category; and reads on a phone (one column, wrapped code).
//! Written by hand like the JUnit output: a page of our own structure needs
//! escaping (below) rather than a template engine. Every string comes from
//! the redacted [`Report`].

use std::fmt::Write as _;

use catalog::{Category, Code};

/// The workspace's one HTML/XML escaper (`catalog::markup`).
pub use catalog::markup::escape as esc;

use super::{Outcome, Report, ScenarioReport, curl, timing};

/// Longest response body excerpt shown, in characters.
const BODY_EXCERPT: usize = 4000;

const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #57606a; --line: #d0d7de;
  --pass: #1a7f37; --fail: #cf222e; --skip: #9a6700; --code-bg: #f6f8fa; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #30363d;
    --pass: #3fb950; --fail: #f85149; --skip: #d29922; --code-bg: #161b22; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header, main { max-width: 72rem; margin: 0 auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 1rem 0 0.25rem; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 0.5rem; }
h3 { font-size: 1rem; margin: 0; overflow-wrap: anywhere; }
.meta, .muted { color: var(--muted); overflow-wrap: anywhere; }
.counts { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; margin: 0; }
.counts div { min-width: 5rem; }
.counts dt { color: var(--muted); font-size: 0.875rem; }
.counts dd { margin: 0; font-size: 1.25rem; font-weight: 600; }
.verdict { font-weight: 600; }
.ok { color: var(--pass); }
.failed, .bad { color: var(--fail); }
.skipped, .waived { color: var(--skip); }
.passed { color: var(--pass); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid var(--line); }
td.n, th.n { text-align: right; }
td.n, td.status { white-space: nowrap; }
@media (max-width: 40rem) { .wide { display: none; } th, td { padding: 0.25rem; } table { font-size: 0.8125rem; } }
.filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; margin: 0.5rem 0; }
select { font: inherit; }
article { border: 1px solid var(--line); border-left-width: 4px; border-radius: 6px; padding: 0.5rem 0.75rem; margin: 0.5rem 0; }
article.outcome-failed { border-left-color: var(--fail); }
article.outcome-passed { border-left-color: var(--pass); }
article.outcome-skipped { border-left-color: var(--skip); }
.badge { font-size: 0.75rem; font-weight: 700; margin-right: 0.5rem; }
article p { margin: 0.25rem 0; }
ul.findings { padding-left: 1.25rem; margin: 0.25rem 0; }
ul.findings li { margin: 0.25rem 0; overflow-wrap: anywhere; }
pre { background: var(--code-bg); padding: 0.5rem; border-radius: 4px; overflow-x: auto;
  white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.8125rem; margin: 0.25rem 0; }
code { font-family: ui-monospace, monospace; }
details { margin: 0.25rem 0; }
summary { cursor: pointer; }
a { color: inherit; }
"#;

const SCRIPT: &str = r#"
(function () {
  var outcome = document.getElementById("filter-outcome");
  var category = document.getElementById("filter-category");
  var shown = document.getElementById("shown");
  var items = document.querySelectorAll("article.scenario");
  function apply() {
    var n = 0;
    items.forEach(function (item) {
      var visible = (!outcome.value || item.dataset.outcome === outcome.value) &&
        (!category.value || item.dataset.category === category.value);
      item.hidden = !visible;
      if (visible) { n += 1; }
    });
    shown.textContent = n + " of " + items.length + " scenarios shown";
  }
  outcome.addEventListener("change", apply);
  category.addEventListener("change", apply);
  apply();
})();
"#;

/// Renders the report as one HTML page.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let verdict = if report.passed() { "passed" } else { "failed" };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Conformance {verdict}: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&report.closing_line())
    );
    let _ = writeln!(
        out,
        "<header>\n<h1>Conformance report</h1>\n<p class=\"meta\">Run <code>{}</code> against <code>{}</code>, profile <code>{}</code>{}{}</p>\n</header>\n<main>",
        esc(&report.run_id),
        esc(&report.target),
        esc(&report.profile),
        if report.started_at.is_empty() {
            String::new()
        } else {
            format!(", started {}", esc(&report.started_at))
        },
        if report.hostname.is_empty() {
            String::new()
        } else {
            format!(" on {}", esc(&report.hostname))
        },
    );
    summary(&mut out, report);
    coverage(&mut out, report);
    scenarios(&mut out, report);
    let _ = write!(
        out,
        "</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    );
    out
}

fn summary(out: &mut String, report: &Report) {
    let s = &report.summary;
    let _ = writeln!(out, "<section id=\"summary\">\n<h2>Summary</h2>");
    let (class, text) = if report.passed() {
        ("ok", "Passed".to_owned())
    } else if report.interrupted {
        (
            "bad",
            "Interrupted: cleanup ran, remaining scenarios skipped".to_owned(),
        )
    } else {
        ("bad", "Failed".to_owned())
    };
    let _ = writeln!(out, "<p class=\"verdict {class}\">{}</p>", esc(&text));
    let _ = writeln!(out, "<dl class=\"counts\">");
    for (label, value, class) in [
        ("passed", s.passed.to_string(), "passed"),
        ("failed", s.failed.to_string(), "failed"),
        ("skipped", s.skipped.to_string(), "skipped"),
        ("waived", s.waived.to_string(), "waived"),
        ("total", s.total.to_string(), ""),
        (
            "wall time",
            format!("{} s", timing::seconds(report.wall_ms)),
            "",
        ),
    ] {
        let _ = writeln!(
            out,
            "<div><dt>{label}</dt><dd class=\"{class}\">{}</dd></div>",
            esc(&value)
        );
    }
    let _ = writeln!(out, "</dl>");
    if !s.uncovered.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"bad\">Codes with no passing scenario: {}</p>",
            esc(&s.uncovered.join(", "))
        );
    }
    let failed: Vec<&ScenarioReport> = report
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Failed)
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "<h3>Failures</h3>\n<ul class=\"failure-list\">");
        for f in failed {
            let _ = writeln!(
                out,
                "<li><a href=\"#{}\">{}</a> <span class=\"muted\">{}</span></li>",
                anchor(&f.id),
                esc(&f.id),
                esc(&f.code)
            );
        }
        let _ = writeln!(out, "</ul>");
    }
    let slowest = report.slowest(super::human::SLOWEST);
    if !slowest.is_empty() {
        let _ = writeln!(out, "<h3>Slowest scenarios</h3>\n<ol>");
        for s in slowest {
            let _ = writeln!(
                out,
                "<li><a href=\"#{}\">{}</a> <span class=\"muted\">{} ms</span></li>",
                anchor(&s.id),
                esc(&s.id),
                s.duration_ms
            );
        }
        let _ = writeln!(out, "</ol>");
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(out, "<h3>Warnings</h3>\n<ul>");
        for w in &report.warnings {
            let _ = writeln!(out, "<li>{}</li>", esc(w));
        }
        let _ = writeln!(out, "</ul>");
    }
    let _ = writeln!(out, "</section>");
}

fn coverage(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "<section id=\"coverage\">\n<h2>Coverage</h2>\n<div class=\"scroll\">\n<table>\n<thead>\n<tr><th scope=\"col\">Code</th><th scope=\"col\" class=\"wide\">Category</th><th scope=\"col\" class=\"n wide\">Scenarios</th><th scope=\"col\" class=\"n\">Passed</th><th scope=\"col\" class=\"n\">Failed</th><th scope=\"col\" class=\"n wide\">Skipped</th><th scope=\"col\">Status</th></tr>\n</thead>\n<tbody>"
    );
    for row in &report.coverage {
        let (class, mark) = if row.passed > 0 {
            ("ok", "ok")
        } else if report.coverage_enforced {
            ("bad", "no passing scenario")
        } else if row.scenarios == 0 {
            ("muted", "not selected")
        } else {
            ("bad", "none passed")
        };
        let _ = writeln!(
            out,
            "<tr><td><a href=\"{}\">{}</a></td><td class=\"wide\">{}</td><td class=\"n wide\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n wide\">{}</td><td class=\"status {class}\">{mark}</td></tr>",
            esc(&docs_link(report, &row.code)),
            esc(&row.code),
            esc(&row.category),
            row.scenarios,
            row.passed,
            row.failed,
            row.skipped
        );
    }
    let _ = writeln!(out, "</tbody>\n</table>\n</div>");
    if !report.coverage_enforced {
        let _ = writeln!(
            out,
            "<p class=\"muted\">A filtered, sharded or partial run does not enforce coverage.</p>"
        );
    }
    let _ = writeln!(out, "</section>");
}

fn scenarios(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "<section id=\"scenarios\">\n<h2>Scenarios</h2>\n<div class=\"filters\">\n\
         <label>Outcome <select id=\"filter-outcome\"><option value=\"\">all</option>\
         <option value=\"failed\">failed</option><option value=\"passed\">passed</option>\
         <option value=\"skipped\">skipped</option><option value=\"waived\">waived</option></select></label>\n\
         <label>Category <select id=\"filter-category\"><option value=\"\">all</option>"
    );
    for &category in Category::ALL {
        if report.by_category(category).next().is_some() {
            let _ = write!(
                out,
                "<option value=\"{}\">{}</option>",
                esc(category.slug()),
                esc(category.title())
            );
        }
    }
    let _ = writeln!(
        out,
        "</select></label>\n</div>\n<p id=\"shown\" class=\"muted\" aria-live=\"polite\">{} scenarios</p>",
        report.scenarios.len()
    );
    for &category in Category::ALL {
        for s in report.by_category(category) {
            scenario(out, report, s);
        }
    }
    let _ = writeln!(out, "</section>");
}

fn scenario(out: &mut String, report: &Report, s: &ScenarioReport) {
    let outcome = match s.outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
        Outcome::Waived => "waived",
    };
    let _ = writeln!(
        out,
        "<article class=\"scenario outcome-{outcome}\" id=\"{}\" data-outcome=\"{outcome}\" data-category=\"{}\">\n\
         <h3><span class=\"badge {outcome}\">{}</span>{}</h3>\n\
         <p class=\"meta\"><a href=\"{}\">{}</a> · {} · {}:{} · {} ms</p>\n<p>{}</p>",
        anchor(&s.id),
        esc(&s.category),
        outcome.to_ascii_uppercase(),
        esc(&s.id),
        esc(&docs_link(report, &s.code)),
        esc(&s.code),
        esc(&s.category),
        esc(&s.file),
        s.line,
        s.duration_ms,
        esc(&s.description)
    );
    if let Some(reason) = &s.skip_reason {
        let _ = writeln!(out, "<p class=\"skipped\">Skipped: {}</p>", esc(reason));
    }
    if !s.findings.is_empty() {
        let _ = writeln!(out, "<ul class=\"findings\">");
        for f in &s.findings {
            let _ = write!(
                out,
                "<li><strong>{} at {}</strong><br>expected: <code>{}</code><br>actual: <code>{}</code>",
                esc(&f.rule),
                esc(&f.at),
                esc(&f.expected),
                esc(&f.actual)
            );
            if let Some(fix) = &f.fix {
                let _ = write!(out, "<br>fix: {}", esc(fix));
            }
            if let Some(docs) = &f.docs {
                let _ = write!(out, " <a href=\"{}\">documented row</a>", esc(docs));
            }
            let _ = writeln!(out, "</li>");
        }
        let _ = writeln!(out, "</ul>");
    }
    exchange(out, s);
    let _ = writeln!(out, "</article>");
}

fn exchange(out: &mut String, s: &ScenarioReport) {
    let requests: Vec<(String, &super::RequestRecord)> = s
        .steps
        .iter()
        .map(|step| {
            let status = step.status.map_or_else(
                || "did not succeed (see the findings)".to_owned(),
                |c| c.to_string(),
            );
            (format!("Setup step {}: {status}", step.name), &step.request)
        })
        .chain(
            s.request
                .iter()
                .map(|r| ("The asserted request".to_owned(), r)),
        )
        .collect();
    if requests.is_empty() && s.response.is_none() {
        return;
    }
    let open = if s.outcome == Outcome::Failed {
        " open"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<details{open}>\n<summary>Requests as curl, and the response</summary>"
    );
    let mut env = Vec::new();
    for (_, r) in &requests {
        for e in r.replay.iter().flat_map(|p| &p.env) {
            if !env.contains(e) {
                env.push(e.clone());
            }
        }
    }
    if !env.is_empty() {
        let _ = writeln!(out, "<p>Set these environment variables first:</p>\n<ul>");
        for e in &env {
            let _ = writeln!(
                out,
                "<li><code>{}</code>: {}</li>",
                esc(&e.name),
                esc(&e.source)
            );
        }
        let _ = writeln!(out, "</ul>");
    }
    for (what, r) in &requests {
        let _ = writeln!(out, "<p>{}</p>", esc(what));
        let text = match &r.replay {
            Some(replay) => curl::command(&r.method, replay, ""),
            None => format!("{} {}", r.method, r.url),
        };
        let _ = writeln!(out, "<pre><code>{}</code></pre>", esc(&text));
    }
    if let Some(resp) = &s.response {
        let mut text = format!("{}\n", resp.status);
        for (name, value) in &resp.headers {
            let _ = writeln!(text, "{name}: {value}");
        }
        let body = match &resp.body {
            serde_json::Value::String(b) => b.clone(),
            other => serde_json::to_string_pretty(other).unwrap_or_default(),
        };
        if !body.is_empty() {
            text.push('\n');
            text.extend(body.chars().take(BODY_EXCERPT));
            if body.chars().count() > BODY_EXCERPT {
                text.push_str("\n...");
            }
        }
        let _ = writeln!(
            out,
            "<p>Response</p>\n<pre><code>{}</code></pre>",
            esc(&text)
        );
    }
    let _ = writeln!(out, "</details>");
}

/// The documented row of `code`: the link a finding carries (it follows the
/// profile's reference page), else the catalog's published page.
fn docs_link(report: &Report, code: &str) -> String {
    report
        .scenarios
        .iter()
        .filter(|s| s.code == code)
        .flat_map(|s| &s.findings)
        .find_map(|f| f.docs.clone())
        .or_else(|| {
            Code::from_name(code)
                .ok()
                .map(|c| c.type_url(catalog::DEFAULT_DOCS_BASE))
        })
        .unwrap_or_default()
}

/// An element id for a scenario id: letters, digits and `-` only.
pub fn anchor(id: &str) -> String {
    let mut out = String::from("scenario-");
    for c in id.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push('-');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_valid_ids() {
        assert_eq!(
            anchor("step-up-required/Delete_user"),
            "scenario-step-up-required-delete-user"
        );
    }
}
