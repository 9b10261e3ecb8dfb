//! The discovery endpoints (RFC 7644 section 4): `ServiceProviderConfig`, `ResourceTypes`
//! (the one type, `User`, with the enterprise extension) and `Schemas` (served from
//! `scim::schema`'s tables). They need no token and say the same for every workspace.

use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use serde_json::{Value, json};

use super::respond::{ID_PARAM, MAX_RESULTS, base_url, scim_json};
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::scim::schema::{self, CORE_USER, ENTERPRISE_USER, LIST_RESPONSE};
use crate::state::AppState;

const SERVICE_PROVIDER_CONFIG: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

/// `GET /scim/v2/ServiceProviderConfig` (RFC 7643 section 5).
pub(crate) async fn service_provider_config(State(state): State<AppState>) -> Response {
    let base = base_url(&state);
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [SERVICE_PROVIDER_CONFIG],
            "documentationUri": format!("{}/openapi.json", state.public_url()),
            "patch": { "supported": true },
            "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
            "filter": { "supported": true, "maxResults": MAX_RESULTS },
            // Passwords are set through PUT and PATCH of `password` (writeOnly).
            "changePassword": { "supported": true },
            "sort": { "supported": false },
            "etag": { "supported": true },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "The workspace's SCIM bearer token in `Authorization: Bearer <token>` (RFC 6750).",
                "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
                "primary": true,
            }],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": format!("{base}/ServiceProviderConfig"),
            },
        }),
    )
}

/// `GET /scim/v2/ResourceTypes`.
pub(crate) async fn resource_types(State(state): State<AppState>) -> Response {
    let user = user_resource_type(&base_url(&state));
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_RESPONSE],
            "totalResults": 1,
            "startIndex": 1,
            "itemsPerPage": 1,
            "Resources": [user],
        }),
    )
}

/// `GET /scim/v2/ResourceTypes/{id}`: only `User`.
pub(crate) async fn resource_type(
    State(state): State<AppState>,
    params: PathParams,
) -> Result<Response, ApiError> {
    if params.get(ID_PARAM) == "User" {
        Ok(scim_json(
            StatusCode::OK,
            &user_resource_type(&base_url(&state)),
        ))
    } else {
        Err(ApiError::not_found().scim())
    }
}

/// `GET /scim/v2/Schemas`: the User schema and the enterprise extension.
pub(crate) async fn schemas(State(state): State<AppState>) -> Response {
    scim_json(StatusCode::OK, &schema::schemas_resource(&base_url(&state)))
}

/// `GET /scim/v2/Schemas/{id}`.
pub(crate) async fn schema(
    State(state): State<AppState>,
    params: PathParams,
) -> Result<Response, ApiError> {
    schema::schema_resource(params.get(ID_PARAM), &base_url(&state))
        .map(|s| scim_json(StatusCode::OK, &s))
        .ok_or_else(|| ApiError::not_found().scim())
}

fn user_resource_type(base: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "User Account",
        "schema": CORE_USER,
        "schemaExtensions": [{ "schema": ENTERPRISE_USER, "required": false }],
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/User"),
        },
    })
}
