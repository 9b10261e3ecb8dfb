//! Tidy checks of the prose docs: README.md stays what a newcomer needs (the reference
//! lives in `docs/`), and measured figures live in one place, `docs/benchmarks.md`, where
//! each benchmark keeps only its latest result.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::workspace_root;

/// README.md's budget, in lines (issue 23: "at most about 250").
const README_MAX_LINES: usize = 250;

/// The one file that may hold benchmark figures.
const BENCHMARKS: &str = "docs/benchmarks.md";

/// What a measured figure looks like in prose: a time with decimals (`1.51 s`, `16.1 ms`),
/// a per-request time or a throughput (`19.7 µs`, `49 999 req/s`), a size in megabytes, a
/// speed-up (`6.1x slower`, `16% less`). A whole number of milliseconds or seconds is left
/// alone: docs state conditions that way ("behind 50 ms of latency", "`--seconds 3`").
static FIGURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b\d+(?:[ \x{202F},]\d{3})*(?:\.\d+)?\s?(?:µs|ns|req/s)|\b\d+\.\d+\s?(?:ms|s|KB|GB)\b|\b\d+(?:\.\d+)?\s?MB\b|\b\d+(?:\.\d+)?x (?:faster|slower)|\b\d+% (?:less|more|faster|slower)",
    )
    .expect("the figure pattern compiles")
});

/// Every figure in `text` outside fenced code blocks, as (line number, figure).
fn figures(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.extend(
                FIGURE
                    .find_iter(line)
                    .map(|m| (i + 1, m.as_str().to_owned())),
            );
        }
    }
    out
}

/// The prose docs a reader meets: README.md, ARCHITECTURE.md and `docs/*.md`.
fn prose_docs(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    out.extend(docs);
    out
}

#[test]
fn readme_stays_short() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines (at most {README_MAX_LINES}): move reference material to docs/"
    );
}

#[test]
fn benchmark_figures_live_only_in_docs_benchmarks_md() {
    let root = workspace_root();
    assert!(
        !figures(&std::fs::read_to_string(root.join(BENCHMARKS)).unwrap()).is_empty(),
        "{BENCHMARKS} holds no figure the check recognises"
    );
    let mut found = Vec::new();
    for path in prose_docs(&root) {
        let relative = path.strip_prefix(&root).unwrap().display().to_string();
        if relative == BENCHMARKS {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        found.extend(
            figures(&text)
                .into_iter()
                .map(|(line, figure)| format!("{relative}:{line}: {figure}")),
        );
    }
    assert!(
        found.is_empty(),
        "benchmark figures outside {BENCHMARKS} (move them there, latest result only):\n{}",
        found.join("\n")
    );
}

#[test]
fn figures_are_found_in_prose_and_conditions_are_not() {
    let text = "Behind 50 ms of latency the suite took 1.51 s at `--jobs 8`.\n\
                The mock answers 49 999 req/s, 19.7 µs of CPU each, 16% less than before.\n\
                ```sh\n\
                cargo xtask bench-mock --seconds 3   # 0.88 in 2.5 s\n\
                ```\n\
                Redaction was 6.1x slower; RSS 19.7 MB; `--timeout SECS` (default 10).\n";
    assert_eq!(
        figures(text),
        [
            (1, "1.51 s".to_owned()),
            (2, "49 999 req/s".to_owned()),
            (2, "19.7 µs".to_owned()),
            (2, "16% less".to_owned()),
            (6, "6.1x slower".to_owned()),
            (6, "19.7 MB".to_owned()),
        ]
    );
}
