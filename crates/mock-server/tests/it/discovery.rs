//! Discovery: the OpenAPI document (valid, served, in step with the router), the reference
//! page the `type` links open, the error-body schemas.

use std::collections::BTreeSet;
use std::path::PathBuf;

use catalog::Code;
use http::Method;
use mock_server::UNKNOWN_ROUTE_DETAIL;
use mock_server::openapi;
use mock_server::routes::ROUTES;
use serde_json::Value;

use crate::support::{BASE, Client, Req};

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// Resolves a local `$ref` (`#/components/...`) in `doc`.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) if r.starts_with('#') => doc
            .pointer(&r[1..])
            .unwrap_or_else(|| panic!("dangling {r}")),
        _ => value,
    }
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if HTTP_METHODS.contains(&method.as_str()) {
                out.push((method.to_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

#[tokio::test]
async fn document_and_router_in_step() {
    let doc = openapi::document().unwrap();
    let documented: BTreeSet<(String, String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, op)| (method, path, op["operationId"].as_str().unwrap().to_owned()))
        .collect();
    let routed: BTreeSet<(String, String, String)> = ROUTES
        .iter()
        .map(|r| {
            (
                r.verb.as_str().to_owned(),
                r.path.to_owned(),
                r.operation_id.to_owned(),
            )
        })
        .collect();
    assert_eq!(
        documented, routed,
        "schemas/openapi.json and routes::ROUTES differ"
    );

    // The router really serves every row: none answers the unknown-route NotFound.
    let client = Client::new();
    for route in ROUTES {
        let path: String = route
            .path
            .split('/')
            .map(|segment| match segment {
                "{workspace}" => "acme",
                s if s.starts_with('{') => "x",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(route.verb.as_str().as_bytes()).unwrap();
        let resp = client.send(Req::new(method, &path)).await;
        assert_ne!(
            resp.json["detail"].as_str(),
            Some(UNKNOWN_ROUTE_DETAIL),
            "{route:?} is not routed"
        );
    }
    // And the check can fail: an undocumented path is unrouted.
    let resp = client.send(Req::get("/v1/workspaces/acme/nope")).await;
    resp.assert_error(Code::NotFound);
    assert_eq!(resp.json["detail"], UNKNOWN_ROUTE_DETAIL);
}

#[test]
fn document_is_a_well_formed_openapi_3_1() {
    let doc = openapi::document().unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    assert!(!doc["info"]["title"].as_str().unwrap().is_empty());
    assert!(!doc["info"]["version"].as_str().unwrap().is_empty());

    // Every reference resolves: local ones in the document, relative ones to a file in schemas/.
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in &all {
        if let Some(pointer) = r.strip_prefix('#') {
            assert!(doc.pointer(pointer).is_some(), "dangling {r}");
        } else {
            let file = r
                .strip_prefix("./")
                .unwrap_or_else(|| panic!("unexpected ref {r}"));
            assert!(
                schemas_dir().join(file).is_file(),
                "{r} names no file in schemas/"
            );
        }
    }
    assert!(all.contains(&"./problem.schema.json"));

    // Every component schema is a valid JSON Schema 2020-12 document.
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        let errors: Vec<String> = jsonschema::draft202012::meta::validator()
            .iter_errors(schema)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }

    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let at = format!("{method} {path}");
        assert!(
            ids.insert(op["operationId"].as_str().unwrap()),
            "{at}: duplicate operationId"
        );

        // Every path template parameter is declared as a required path parameter.
        let declared: Vec<String> = doc["paths"][&path]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(op["parameters"].as_array().into_iter().flatten())
            .map(|p| resolve(&doc, p))
            .filter(|p| p["in"] == "path" && p["required"] == true)
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            assert!(
                declared.iter().any(|d| d == name),
                "{at}: `{name}` undeclared"
            );
        }

        // `x-error-codes` are catalog codes, each status has a response, and every error
        // response's body is a problem (or SCIM error) by reference.
        let responses = op["responses"].as_object().unwrap();
        for code in op["x-error-codes"].as_array().unwrap() {
            let code = Code::from_name(code.as_str().unwrap()).unwrap();
            assert!(
                responses.contains_key(&code.status().to_string()),
                "{at}: no {} response for {code}",
                code.status()
            );
        }
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let response = resolve(&doc, response);
                let content = response["content"].as_object().unwrap();
                assert_eq!(content.len(), 1, "{at} {status}: one media type");
                let (media_type, body) = content.iter().next().unwrap();
                let expected = match media_type.as_str() {
                    response_schema::PROBLEM_JSON => "./problem.schema.json",
                    response_schema::SCIM_JSON => "./scim-error.schema.json",
                    other => panic!("{at} {status}: error media type {other}"),
                };
                let schema = resolve(&doc, &body["schema"]);
                assert_eq!(schema["$ref"], expected, "{at} {status}");
                assert!(
                    response["headers"]["x-request-id"].is_object(),
                    "{at} {status}"
                );
            } else {
                assert!(
                    response["headers"]["x-request-id"].is_object(),
                    "{at} {status}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_served_document_is_the_file_with_this_mock_as_server() {
    let resp = Client::new().send(Req::get("/openapi.json")).await;
    resp.assert_status(200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let mut expected = openapi::document().unwrap();
    expected["servers"] = serde_json::json!([{ "url": BASE, "description": "This mock" }]);
    assert_eq!(resp.json, expected);
}

#[tokio::test]
async fn type_links_open_the_right_row_of_the_reference_page() {
    let client = Client::new();
    let error = client.send(Req::get("/v1/workspaces/acme/users")).await;
    error.assert_error(Code::Unauthorized);
    let type_url = error.json["type"].as_str().unwrap();
    let (page, anchor) = type_url
        .strip_prefix(BASE)
        .unwrap()
        .split_once('#')
        .unwrap();
    assert_eq!(page, catalog::DOCS_PATH);

    let resp = client.send(Req::get(page)).await;
    resp.assert_status(200);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let html = String::from_utf8(resp.bytes.to_vec()).unwrap();
    let ids = catalog::render::html_ids(&html);
    assert!(ids.contains(&anchor));
    for code in Code::ALL {
        assert!(ids.contains(&code.anchor()), "{code}");
    }
    assert!(
        ids.contains(&"precedence"),
        "the precedence order is on the page"
    );
}

#[tokio::test]
async fn error_body_schemas_are_served_as_committed() {
    let client = Client::new();
    for name in [
        "problem.schema.json",
        "scim-error.schema.json",
        "catalog.schema.json",
    ] {
        let resp = client.send(Req::get(&format!("/{name}"))).await;
        resp.assert_status(200);
        assert_eq!(resp.header("content-type"), Some("application/schema+json"));
        let committed = std::fs::read(schemas_dir().join(name)).unwrap();
        assert_eq!(resp.bytes.as_ref(), committed.as_slice(), "{name}");
    }
}

#[tokio::test]
async fn healthz_and_request_ids() {
    let client = Client::new();
    let a = client.send(Req::get("/healthz")).await;
    a.assert_status(200);
    assert_eq!(a.json, serde_json::json!({ "status": "ok" }));
    let b = client.send(Req::get("/healthz")).await;
    let (a, b) = (
        a.header("x-request-id").unwrap(),
        b.header("x-request-id").unwrap(),
    );
    assert!(a.starts_with("req_"));
    assert_ne!(a, b);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_not_found_in_the_right_envelope() {
    let client = Client::new();
    for req in [
        Req::get("/nope"),
        Req::get("/v1/workspaces/acme/users/"),
        Req::new(Method::PATCH, "/v1/workspaces/acme/users"),
        Req::new(Method::DELETE, "/healthz"),
        Req::new(Method::from_bytes(b"BREW").unwrap(), "/openapi.json"),
        Req::post("/openapi.json"),
    ] {
        let resp = client.send(req.clone()).await;
        resp.assert_error(Code::NotFound);
        assert_eq!(resp.json["detail"], UNKNOWN_ROUTE_DETAIL, "{req:?}");
    }
    let resp = client.send(Req::get("/scim/v2/Nope")).await;
    resp.assert_status(404);
    assert_eq!(
        resp.header("content-type"),
        Some(response_schema::SCIM_JSON)
    );
    let violations = response_schema::check(
        &response_schema::Response {
            status: resp.status,
            headers: &resp.headers,
            body: &resp.bytes,
        },
        &response_schema::Expect::code(Code::NotFound).in_envelope(catalog::Envelope::Scim),
    );
    assert!(violations.is_empty(), "{violations:?}");
}

#[tokio::test]
async fn reset_restores_the_seed_and_is_loopback_only() {
    let client = Client::new();
    let member = || Req::get("/scim/v2/Users/usr_acme_member").token("scim_acme");
    client
        .send(Req::delete("/scim/v2/Users/usr_acme_member").token("scim_acme"))
        .await
        .assert_status(204);
    client
        .send(Req::post("/admin/reset").peer("198.51.100.7"))
        .await
        .assert_error(Code::Forbidden);
    client
        .send(Req::post("/admin/reset").no_peer())
        .await
        .assert_error(Code::Forbidden);
    client.send(member()).await.assert_status(404);
    client
        .send(Req::post("/admin/reset"))
        .await
        .assert_status(204);
    client.send(member()).await.assert_status(200);
    client
        .send(Req::post("/admin/reset").peer("::1"))
        .await
        .assert_status(204);
}

#[tokio::test]
async fn the_catalog_json_is_served_as_committed() {
    let resp = Client::new().send(Req::get("/docs/errors.json")).await;
    resp.assert_status(200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let committed = std::fs::read(schemas_dir().join("../docs/catalog.json")).unwrap();
    assert_eq!(resp.bytes.as_ref(), committed.as_slice());
    assert_eq!(resp.json["version"], catalog::VERSION);
}

/// Every `$ref` in the document the running mock serves resolves over HTTP against the mock
/// itself, as Swagger UI, Redocly or a client generator pointed at `/openapi.json` resolves
/// it: relative references are fetched from the document's URL (each answers 200 with JSON),
/// fragments are JSON Pointers into the document they name, and the fetched schemas' own
/// references resolve too. The `$id` of a sibling schema names its published home, so its
/// internal references (`#/$defs/...`) are looked up in the fetched document itself.
#[tokio::test]
async fn every_reference_of_the_served_document_resolves_over_http() {
    let running = crate::support::loopback(mock_server::Config::embedded().unwrap()).await;
    let base = running.base_url();
    let http = reqwest::Client::new();
    let fetch = |url: String| {
        let http = http.clone();
        async move {
            let resp = http.get(&url).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{url}");
            resp.json::<Value>()
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"))
        }
    };
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    // Documents by URL (without fragment), each fetched once and scanned once.
    let mut docs: std::collections::BTreeMap<String, Value> = std::collections::BTreeMap::new();
    let mut scanned = BTreeSet::new();
    let mut queue = vec![format!("{base}/openapi.json")];
    let mut resolved = 0;
    while let Some(url) = queue.pop() {
        if !scanned.insert(url.clone()) {
            continue;
        }
        if !docs.contains_key(&url) {
            let doc = fetch(url.clone()).await;
            docs.insert(url.clone(), doc);
        }
        let mut found = Vec::new();
        refs(&docs[&url], &mut found);
        for r in found {
            let (target, fragment) = r.split_once('#').unwrap_or((r.as_str(), ""));
            let target_url = if target.is_empty() {
                url.clone()
            } else {
                let relative = target
                    .strip_prefix("./")
                    .unwrap_or_else(|| panic!("{url}: unexpected reference {r}"));
                format!("{}/{relative}", &url[..url.rfind('/').unwrap()])
            };
            if !docs.contains_key(&target_url) {
                let doc = fetch(target_url.clone()).await;
                docs.insert(target_url.clone(), doc);
            }
            queue.push(target_url.clone());
            assert!(
                docs[&target_url].pointer(fragment).is_some(),
                "{url}: {r} does not resolve"
            );
            resolved += 1;
        }
    }
    for sibling in [
        "problem.schema.json",
        "scim-error.schema.json",
        "catalog.schema.json",
    ] {
        assert!(
            docs.contains_key(&format!("{base}/{sibling}")),
            "{sibling} was not reached"
        );
    }
    assert!(resolved > 100, "only {resolved} references");
    running.shutdown().await.unwrap();
}

/// Every operation takes `Prefer` (`error=CODE`, docs/api.md), so a client generator offers
/// it everywhere; an operation added without it is named here.
#[test]
fn every_operation_documents_the_prefer_header() {
    let doc = openapi::document().unwrap();
    let prefer = serde_json::json!({ "$ref": "#/components/parameters/Prefer" });
    let missing: Vec<String> = operations(&doc)
        .into_iter()
        .filter(|(_, _, op)| {
            !op["parameters"]
                .as_array()
                .is_some_and(|params| params.contains(&prefer))
        })
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    assert!(
        missing.is_empty(),
        "add {{\"$ref\": \"#/components/parameters/Prefer\"}} to: {missing:?}"
    );
    assert_eq!(
        doc["components"]["parameters"]["Prefer"]["in"], "header",
        "the Prefer parameter"
    );
}
