//! The OpenAPI 3.1 document (`schemas/openapi.json`) and the request-body validators compiled
//! from it.
//!
//! The document is the single source of truth for request bodies: a handler names the
//! component schema its body must match (`"InviteUserRequest"`) and the `JsonBody` extractor
//! validates against the compiled schema, so the published contract and the mock's
//! ValidationErrors cannot drift apart. Schemas are compiled once per process.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::body::Bytes;
use serde_json::{Value, json};

/// `schemas/openapi.json`, embedded.
pub(crate) const OPENAPI_JSON: &str = include_str!("../../../schemas/openapi.json");

/// Compiled validators of the document's component schemas, by component name.
pub(crate) struct RequestSchemas {
    validators: HashMap<String, jsonschema::Validator>,
}

impl std::fmt::Debug for RequestSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.validators.keys().collect();
        names.sort();
        f.debug_struct("RequestSchemas")
            .field("components", &names)
            .finish()
    }
}

impl RequestSchemas {
    pub(crate) fn get(&self, name: &str) -> Option<&jsonschema::Validator> {
        self.validators.get(name)
    }
}

/// The document as JSON.
pub fn document() -> Result<Value, String> {
    serde_json::from_str(OPENAPI_JSON).map_err(|e| format!("not JSON: {e}"))
}

/// The compiled validators, built on first use.
pub(crate) fn request_schemas() -> Result<&'static RequestSchemas, String> {
    static SCHEMAS: OnceLock<Result<RequestSchemas, String>> = OnceLock::new();
    SCHEMAS.get_or_init(compile).as_ref().map_err(Clone::clone)
}

fn compile() -> Result<RequestSchemas, String> {
    let doc = document()?;
    let components = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or("no components.schemas")?;
    // The error-body schemas are references to sibling files (`./problem.schema.json`); they
    // describe responses, and leaving them out keeps compilation free of file look-ups.
    let local: serde_json::Map<String, Value> = components
        .iter()
        .filter(|(_, schema)| {
            schema
                .get("$ref")
                .and_then(Value::as_str)
                .is_none_or(|r| r.starts_with('#'))
        })
        .map(|(name, schema)| (name.clone(), schema.clone()))
        .collect();
    let mut validators = HashMap::new();
    for name in local.keys() {
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": format!("#/components/schemas/{name}"),
            "components": { "schemas": local },
        });
        let validator =
            jsonschema::draft202012::new(&root).map_err(|e| format!("schema {name}: {e}"))?;
        validators.insert(name.clone(), validator);
    }
    Ok(RequestSchemas { validators })
}

/// The document as the mock serves it: `servers` names the mock's own public URL.
///
/// The `servers` array is replaced in the text rather than by re-serializing the parsed
/// document, so the served document keeps the file's member order (serde_json's map would
/// sort it).
pub(crate) fn served_document(public_url: &str) -> Result<Bytes, String> {
    const KEY: &str = "\"servers\": [";
    let start = OPENAPI_JSON.find(KEY).ok_or("no servers array")?;
    let end = OPENAPI_JSON[start..]
        .find(']')
        .map(|i| start + i + 1)
        .ok_or("unterminated servers array")?;
    let servers = json!([{ "url": public_url, "description": "This mock" }]);
    let text = format!(
        "{}\"servers\": {servers}{}",
        &OPENAPI_JSON[..start],
        &OPENAPI_JSON[end..]
    );
    // The splice relies on the servers array holding no nested array; check the result.
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("served document: {e}"))?;
    if doc["servers"] != servers {
        return Err("served document: servers were not replaced".into());
    }
    Ok(Bytes::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_component_compiles() {
        let schemas = request_schemas().unwrap();
        for name in [
            "SignInRequest",
            "InviteUserRequest",
            "EnrolFactorRequest",
            "StepUpRequest",
            "NetworkPolicy",
        ] {
            assert!(schemas.get(name).is_some(), "{name}");
        }
    }

    #[test]
    fn served_document_names_the_mock() {
        let bytes = served_document("http://127.0.0.1:9").unwrap();
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:9");
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..4]), Some("3.1."));
    }
}
