//! The compatibility check over `fixtures/catalog-diff/`: each case folder
//! holds `head.json` (and `base.json`, else the shared `base.json`) and
//! `expected.txt`, the exact classification: one line per change, then the
//! verdict. Every fixture catalog is also valid against
//! `schemas/catalog.schema.json`.

use std::path::{Path, PathBuf};

use catalog_contract::{diff, parse_catalog};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schemas/catalog.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn load(path: &Path, validator: &jsonschema::Validator) -> catalog_contract::Catalog {
    let text = std::fs::read_to_string(path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    parse_catalog(&text, &path.display().to_string()).unwrap()
}

/// The lines `expected.txt` holds for a report.
fn lines(report: &diff::Report) -> String {
    let mut out: Vec<String> = report.changes.iter().map(diff::describe).collect();
    out.push(format!(
        "{}: {}",
        if report.passed { "PASS" } else { "FAIL" },
        report.reason
    ));
    out.join("\n") + "\n"
}

#[test]
fn every_fixture_pair_is_classified_exactly() {
    let validator = schema();
    let dir = root().join("fixtures/catalog-diff");
    let shared_base = load(&dir.join("base.json"), &validator);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut rules_seen = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for case in &cases {
        let base = match case.join("base.json") {
            own if own.exists() => load(&own, &validator),
            _ => shared_base.clone(),
        };
        let head = load(&case.join("head.json"), &validator);
        let report = diff::compare(&base, &head, "base.json").unwrap();
        rules_seen.extend(report.changes.iter().map(|c| c.rule));
        let actual = lines(&report);
        let expected = std::fs::read_to_string(case.join("expected.txt")).unwrap();
        if actual != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                case.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for rule in [
        "code-removed",
        "code-renamed",
        "status-changed",
        "anchor-changed",
        "anchor-changed-with-alias",
        "anchor-alias-removed",
        "anchor-alias-added",
        "envelope-changed",
        "category-changed",
        "challenge-changed",
        "scim-type-changed",
        "member-added-required",
        "member-added-optional",
        "member-removed",
        "member-made-optional",
        "precedence-changed",
        "code-added",
        "category-added",
        "title-reworded",
        "meaning-reworded",
        "fix-reworded",
        "fix-extended",
    ] {
        assert!(rules_seen.contains(rule), "no fixture shows {rule}");
    }
}

#[test]
fn the_exported_catalog_matches_its_schema_and_the_committed_file() {
    let validator = schema();
    let committed = load(&root().join("docs/catalog.json"), &validator);
    assert_eq!(committed, catalog_contract::export::catalog());
}

/// The branch that changes a status: the check fails naming the code, the
/// old and the new status; with the major version bumped it passes and says why.
#[test]
fn a_changed_status_fails_naming_the_code_and_passes_with_a_major_bump() {
    let base = catalog_contract::export::catalog();
    let mut head = base.clone();
    let code = head
        .codes
        .iter_mut()
        .find(|c| c.code == "ValidationError")
        .unwrap();
    code.status = 422;
    let report = diff::compare(&base, &head, "main").unwrap();
    assert!(!report.passed);
    assert_eq!(
        report.reason,
        "1 breaking change(s) without a new major version (1.0.0 -> 1.0.0), first: breaking status-changed ValidationError: 400 -> 422; bump the major number of catalog::VERSION or undo the change"
    );
    let table = diff::table(&report);
    assert!(
        table.contains("| breaking | status-changed | `ValidationError` | 400 | 422 |"),
        "{table}"
    );

    head.version = "2.0.0".to_owned();
    let report = diff::compare(&base, &head, "main").unwrap();
    assert!(report.passed);
    assert_eq!(
        report.reason,
        "1 breaking change(s) accepted: the major version went from 1 to 2 (1.0.0 -> 2.0.0)"
    );
}

#[test]
fn inconsistent_or_malformed_catalogs_are_refused_with_the_place() {
    let base = std::fs::read_to_string(root().join("fixtures/catalog-diff/base.json")).unwrap();
    let cases = [
        (
            base.replace("\"version\": \"1.4.2\"", "\"version\": \"1.4\""),
            "x.json: version `1.4` is not semver MAJOR.MINOR.PATCH",
        ),
        (
            base.replace(
                "\"anchor\": \"invalid-filter\"",
                "\"anchor\": \"not-provisioned\"",
            ),
            "x.json: anchor `not-provisioned` is used twice",
        ),
        (
            base.replace(
                "\"INVALID_FILTER\"\n  ]",
                "\"INVALID_FILTER\", \"Nope\"\n  ]",
            ),
            "x.json: precedence names `Nope`, which is not a code",
        ),
        (
            base.replace("\"docs_path\"", "\"docs_url\""),
            "x.json: unknown field `docs_url`, expected one of `version`, `docs_path`, `categories`, `codes`, `precedence` at line 3 column 12",
        ),
        (
            "{".to_owned(),
            "x.json: EOF while parsing an object at line 1 column 1",
        ),
    ];
    for (text, expected) in cases {
        let error = parse_catalog(&text, "x.json").unwrap_err();
        assert_eq!(error.to_string(), expected);
    }
}
