//! Discovery: the OpenAPI document, the reference page, the error-body schemas, health.

use std::sync::OnceLock;

use axum::Json;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use http::HeaderValue;
use http::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::state::AppState;

/// `GET /openapi.json`: the document, with `servers` naming this mock.
pub(crate) async fn openapi(State(state): State<AppState>) -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        state.openapi_document(),
    )
        .into_response()
}

/// `GET /docs/errors`: the reference page every problem `type` points at; each code's row has
/// `id="<anchor>"`, so `type` URLs open the right row.
pub(crate) async fn error_reference() -> Html<&'static str> {
    static PAGE: OnceLock<String> = OnceLock::new();
    Html(PAGE.get_or_init(catalog::render::html))
}

/// `GET /docs/errors.json`: the catalog as JSON (`docs/catalog.json`), for other languages'
/// clients and docs sites.
pub(crate) async fn error_catalog() -> Response {
    static CATALOG: OnceLock<String> = OnceLock::new();
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        CATALOG
            .get_or_init(catalog_contract::export::catalog_json)
            .as_str(),
    )
        .into_response()
}

/// `GET /problem.schema.json`, the target of the document's `./problem.schema.json` references.
pub(crate) async fn problem_schema() -> Response {
    static SCHEMA: OnceLock<String> = OnceLock::new();
    schema_response(SCHEMA.get_or_init(|| pretty(&response_schema::schema::problem())))
}

/// `GET /scim-error.schema.json`.
pub(crate) async fn scim_error_schema() -> Response {
    static SCHEMA: OnceLock<String> = OnceLock::new();
    schema_response(SCHEMA.get_or_init(|| pretty(&response_schema::schema::scim_error())))
}

/// `GET /catalog.schema.json`, the target of the document's `./catalog.schema.json` reference
/// (the schema of `GET /docs/errors.json`): served so that the document read from this mock
/// resolves every reference.
pub(crate) async fn catalog_schema() -> Response {
    static SCHEMA: OnceLock<String> = OnceLock::new();
    schema_response(SCHEMA.get_or_init(|| pretty(&catalog_contract::export::schema())))
}

/// `GET /healthz`.
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Pretty-printed like the committed files in `schemas/`.
fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn schema_response(text: &'static str) -> Response {
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/schema+json"),
        )],
        text,
    )
        .into_response()
}
