//! What every SCIM answer shares: the `application/scim+json` response, the SCIM root URL
//! resources name in `meta.location`, the list limit and the path parameter naming a resource.

use axum::body::Body;
use axum::response::Response;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use response_schema::SCIM_JSON;
use serde_json::Value;

use crate::scim::SCIM_PREFIX;
use crate::state::AppState;

/// The most resources one list response holds (`filter.maxResults`).
pub(crate) const MAX_RESULTS: usize = 200;

/// The path parameter naming a resource.
pub(crate) const ID_PARAM: &str = "id";

/// The SCIM root as clients see it: `http://127.0.0.1:8080/scim/v2`.
pub(super) fn base_url(state: &AppState) -> String {
    format!("{}{SCIM_PREFIX}", state.public_url())
}

pub(super) fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(serde_json::to_vec(body).unwrap_or_default()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    response
}
