//! The OpenAPI lint over `fixtures/openapi-lint/`: `NAME.json` is a document
//! with one kind of mistake (named by the file; `good.json` has none) and
//! `NAME.expected.txt` its exact findings, one `rule pointer: message` line
//! each. The mock's own `schemas/openapi.json` has no finding.

use std::path::{Path, PathBuf};

use catalog_contract::{ContractError, export, lint};
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn findings(path: &Path) -> Vec<lint::Finding> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    lint::lint(&doc, &export::catalog(), &path.display().to_string()).unwrap()
}

#[test]
fn the_mocks_own_document_has_no_finding() {
    let found = findings(&root().join("schemas/openapi.json"));
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn every_fixture_document_gives_exactly_its_findings() {
    let dir = root().join("fixtures/openapi-lint");
    let mut docs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    docs.sort();
    let mut rules_seen = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for doc in &docs {
        let name = doc.file_stem().unwrap().to_str().unwrap();
        let found = findings(doc);
        for finding in &found {
            // Each document shows one kind of mistake, named by its file.
            assert_eq!(finding.rule, name, "{}: {}", doc.display(), finding.line());
            rules_seen.insert(finding.rule);
        }
        let actual: String = found.iter().map(|f| f.line() + "\n").collect();
        let expected = std::fs::read_to_string(dir.join(format!("{name}.expected.txt"))).unwrap();
        if actual != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                doc.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let all = [
        "undocumented-status",
        "status-without-code",
        "code-without-response",
        "wrong-envelope",
        "unknown-code",
        "undeclared-code",
        "missing-www-authenticate",
    ];
    assert_eq!(rules_seen, all.into_iter().collect());
}

#[test]
fn an_unknown_code_near_a_documented_one_gets_a_suggestion_and_its_anchor() {
    let found = findings(&root().join("fixtures/openapi-lint/unknown-code.json"));
    let near = found
        .iter()
        .find(|f| f.message.contains("NOT_FOUND"))
        .unwrap();
    assert_eq!(
        near.hint,
        "did you mean `NotFound`? Codes are case-sensitive"
    );
    assert_eq!(near.anchor.as_deref(), Some("not-found"));
    let far = found
        .iter()
        .find(|f| f.message.contains("CONFLICT"))
        .unwrap();
    assert_eq!(far.anchor, None);
}

#[test]
fn a_document_that_is_not_openapi_3_is_refused() {
    let catalog = export::catalog();
    let cases = [
        (
            json!({"swagger": "2.0", "paths": {}}),
            "x.json: not an OpenAPI 3.x document: no `openapi` version string",
        ),
        (
            json!({"openapi": "2.0"}),
            "x.json: not an OpenAPI 3.x document: `openapi` is 2.0, not 3.x",
        ),
        (
            json!({"openapi": "3.0.3", "paths": []}),
            "x.json: not an OpenAPI 3.x document: `paths` is not an object",
        ),
    ];
    for (doc, expected) in cases {
        let error: ContractError = lint::lint(&doc, &catalog, "x.json").unwrap_err();
        assert_eq!(error.to_string(), expected);
    }
}

#[test]
fn reference_cycles_and_hostile_text_do_not_hang_or_leak_control_characters() {
    let doc = json!({
        "openapi": "3.1.0",
        "paths": {"/x": {"get": {"responses": {"418": {"$ref": "#/components/responses/A"}}, "x-error-codes": ["BAD\u{1b}[31m"]}}},
        "components": {"responses": {"A": {"$ref": "#/components/responses/B"}, "B": {"$ref": "#/components/responses/A"}}}
    });
    let found = lint::lint(&doc, &export::catalog(), "x.json").unwrap();
    let lines: Vec<String> = found.iter().map(lint::Finding::line).collect();
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "{lines:?}");
    assert!(lines.contains(&"unknown-code /paths/~1x/get/x-error-codes/0: `BAD\\u{1b}[31m` is not a documented code".to_owned()), "{lines:?}");
    assert!(lines.contains(&"undocumented-status /paths/~1x/get/responses/418: GET /x answers 418, a status no catalog code has".to_owned()), "{lines:?}");
}

#[test]
fn a_code_in_a_request_example_is_not_an_error_code() {
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/openapi-lint/good.json")).unwrap(),
    )
    .unwrap();
    doc["paths"]["/v1/things"]["get"]["requestBody"] = json!({
        "content": {"application/json": {"example": {"code": "123456"}}}
    });
    doc["components"]["requestBodies"] = json!({"Otp": {"content": {"application/json": {"examples": {"a": {"value": {"code": "654321"}}}}}}});
    let found = lint::lint(&doc, &export::catalog(), "x.json").unwrap();
    assert!(found.is_empty(), "{found:#?}");
    doc["components"]["examples"] = json!({"Teapot": {"value": {"code": "TEAPOT"}}});
    let found = lint::lint(&doc, &export::catalog(), "x.json").unwrap();
    let lines: Vec<String> = found.iter().map(lint::Finding::line).collect();
    assert_eq!(
        lines,
        ["unknown-code /components/examples/Teapot/value/code: `TEAPOT` is not a documented code"]
    );
}
