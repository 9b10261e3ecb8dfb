//! `conformance-runner catalog ...`: the compatibility check and the OpenAPI
//! lint for users outside this repository, through the installed binary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn runner(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_conformance-runner"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn diff_fails_on_a_changed_status_and_passes_with_a_major_bump() {
    let (code, out, _) = runner(&[
        "catalog",
        "diff",
        "--base",
        "fixtures/catalog-diff/base.json",
        "--head",
        "fixtures/catalog-diff/status-changed/head.json",
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("| breaking | status-changed | `NOT_PROVISIONED` | 401 | 403 |"),
        "{out}"
    );
    let (code, out, _) = runner(&[
        "catalog",
        "diff",
        "--base",
        "fixtures/catalog-diff/base.json",
        "--head",
        "fixtures/catalog-diff/status-changed-major-bump/head.json",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("**PASS**: 2 breaking change(s) accepted: the major version went from 1 to 2"),
        "{out}"
    );
}

#[test]
fn export_is_the_committed_catalog_and_diff_against_it_passes() {
    let (code, out, _) = runner(&["catalog", "export"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        std::fs::read_to_string(root().join("docs/catalog.json")).unwrap()
    );
    let (code, out, _) = runner(&["catalog", "diff", "--base", "docs/catalog.json"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("No change."), "{out}");
}

#[test]
fn openapi_lint_reports_findings_and_bad_input_exits_2() {
    let (code, out, _) = runner(&["catalog", "openapi-lint", "schemas/openapi.json"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out, _) = runner(&[
        "catalog",
        "openapi-lint",
        "fixtures/openapi-lint/missing-www-authenticate.json",
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("2 finding(s)"), "{out}");
    let (code, _, err) = runner(&["catalog", "diff", "--base", "Cargo.toml"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        "error: Cargo.toml: expected value at line 1 column 2\n"
    );
}
