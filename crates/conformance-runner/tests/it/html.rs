//! The HTML report without a browser: one self-contained page (no external
//! resource, no script or style from elsewhere), every failure present with
//! its findings, request and response, and every byte from the target escaped.
//! `scripts/check-html-report.sh` adds the browser and html-validate checks.

use conformance_runner::report::html::{anchor, esc, render};
use conformance_runner::report::{Outcome, Report};
use regex::Regex;

use crate::servers::{Fault, app, serve};
use crate::{mini_profile, mini_suite, run};

async fn failing_report() -> Report {
    let addr = serve(app(Fault::WrongStatus)).await;
    run(mini_suite(), mini_profile(), format!("http://{addr}")).await
}

async fn hostile_report() -> Report {
    let mut report = failing_report().await;
    // A hostile target: markup and a terminal escape in what it answered.
    let s = report
        .scenarios
        .iter_mut()
        .find(|s| s.outcome == Outcome::Failed)
        .unwrap();
    s.findings[0].actual = "<img src=x onerror=alert(1)>\u{1b}[2J".into();
    report
}

#[tokio::test]
async fn the_page_is_self_contained() {
    let page = render(&failing_report().await);
    assert!(
        page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
        "{page}"
    );
    assert!(page.ends_with("</html>\n"));
    for external in ["<link", " src=", "url(", "@import", "<iframe", "<object"] {
        assert!(!page.contains(external), "`{external}` in the page");
    }
    // Every link is to a place in the page or to a documented row.
    let href = Regex::new(r#"href="([^"]*)""#).unwrap();
    let links: Vec<&str> = href
        .captures_iter(&page)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert!(!links.is_empty());
    for link in links {
        assert!(
            link.starts_with("#scenario-")
                || link.starts_with("https://docs.platform.example/docs/errors#"),
            "link {link}"
        );
    }
    assert_eq!(page.matches("<script>").count(), 1);
    assert_eq!(page.matches("<style>").count(), 1);
    assert!(
        page.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
    );
}

#[tokio::test]
async fn every_failure_is_shown_with_its_findings_request_and_response() {
    let report = failing_report().await;
    let page = render(&report);
    let failed: Vec<_> = report
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Failed)
        .collect();
    assert_eq!(failed.len(), 1);
    for s in failed {
        let id = anchor(&s.id);
        assert!(
            page.contains(&format!("<li><a href=\"#{id}\">{}</a>", esc(&s.id))),
            "{page}"
        );
        let article_start = page
            .find(&format!("id=\"{id}\" data-outcome=\"failed\""))
            .expect("the failure's article");
        let article = &page[article_start..];
        let article = &article[..article.find("</article>").unwrap()];
        for f in &s.findings {
            assert!(article.contains(&esc(&f.expected)), "{article}");
            assert!(article.contains(&esc(&f.actual)), "{article}");
        }
        assert!(article.contains("<details open>"), "{article}");
        assert!(
            article.contains("curl -sS -i -X &#39;GET&#39;"),
            "{article}"
        );
        assert!(article.contains("CONFORMANCE_TOKEN"), "{article}");
        assert!(
            article.contains("<p>Response</p>\n<pre><code>400\n"),
            "{article}"
        );
    }
    // Passing scenarios are there too, with their exchange folded.
    assert_eq!(page.matches("data-outcome=\"passed\"").count(), 5);
    assert!(page.contains("<details>\n<summary>"));
    // The counts, the coverage table and the filters.
    assert!(
        page.contains("<dt>failed</dt><dd class=\"failed\">1</dd>"),
        "{page}"
    );
    assert!(page.contains("<table>") && page.contains("<td><a href=\"https://docs.platform.example/docs/errors#not-found\">NotFound</a></td>"));
    assert!(page.contains("<select id=\"filter-outcome\">"));
    assert!(page.contains("<option value=\"generic\">"));
}

#[tokio::test]
async fn what_the_target_sent_is_escaped_and_no_secret_is_written() {
    let page = render(&hostile_report().await);
    assert!(!page.contains("<img"), "raw markup from the target");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;\\u{1b}[2J"));
    assert!(!page.contains('\u{1b}'));
    assert!(
        !page.contains("tok_test_admin"),
        "a credential value in the page"
    );
}
