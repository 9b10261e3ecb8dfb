//! The Users endpoints: list and search (a filter, a page, a projection), create, get (with
//! `If-None-Match`), replace, patch and delete, each over the client's workspace only. A
//! write announces itself as a `user.*` webhook event. Store errors map onto catalog codes
//! in `store_error`; USER_NOT_FOUND comes before anything about the body.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::Response;
use catalog::Code;
use http::header::{ETAG, IF_NONE_MATCH, LOCATION};
use http::{HeaderMap, HeaderValue, StatusCode, Uri};
use response_schema::{FieldError, ScimType};
use serde_json::{Value, json};

use super::admit::ScimClient;
use super::respond::{ID_PARAM, MAX_RESULTS, base_url, scim_json};
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParams};
use crate::scim::filter;
use crate::scim::projection::Projection;
use crate::scim::schema::LIST_RESPONSE;
use crate::scim::store::{ScimStore, ScimStoreError};
use crate::state::AppState;
use crate::store::Store;
use crate::webhooks::delivery::emit;

/// What a list or search asks for, from the query string or a SearchRequest body.
#[derive(Debug, Default)]
struct Search {
    filter: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
    projection: Projection,
}

/// The message URI of a `/.search` body.
const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// `GET /scim/v2/Users` with `filter`, `startIndex`, `count`, `attributes`,
/// `excludedAttributes`.
pub(crate) async fn list_users(
    State(state): State<AppState>,
    client: ScimClient,
    uri: Uri,
) -> Result<Response, ApiError> {
    let params = query(&uri)?;
    let search = Search {
        filter: param(&params, "filter").map(str::to_owned),
        start_index: param(&params, "startIndex")
            .map(|raw| integer(raw, "startIndex"))
            .transpose()?,
        count: param(&params, "count")
            .map(|raw| integer(raw, "count"))
            .transpose()?,
        projection: projection(&params)?,
    };
    search_users(&state, &client, &search)
}

/// `POST /scim/v2/Users/.search` and `POST /scim/v2/.search` (RFC 7644 section 3.4.3): the
/// list with its parameters in a SearchRequest body. Users are the only resource type, so a
/// search at the root searches users.
pub(crate) async fn search(
    State(state): State<AppState>,
    client: ScimClient,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let value = body.value().map_err(invalid_syntax)?;
    let search = search_request(&value)?;
    search_users(&state, &client, &search)
}

/// Reads a SearchRequest body.
fn search_request(body: &Value) -> Result<Search, ApiError> {
    let syntax = |detail: &str| {
        ApiError::new(Code::ValidationError, detail.to_owned())
            .with_errors(vec![FieldError::pointer("", detail.to_owned())])
            .scim()
            .with_scim_type(ScimType::InvalidSyntax)
    };
    let value_error = |name: &str, detail: &str| {
        ApiError::new(Code::ValidationError, format!("{name} {detail}"))
            .with_errors(vec![FieldError::pointer(
                format!("/{name}"),
                detail.to_owned(),
            )])
            .scim()
            .with_scim_type(ScimType::InvalidValue)
    };
    if !body.is_object() {
        return Err(syntax("a SearchRequest must be a JSON object"));
    }
    let lists_search = filter::member(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|uris| {
            uris.iter().any(|u| {
                u.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(SEARCH_REQUEST))
            })
        });
    if !lists_search {
        return Err(syntax(&format!(
            "\"schemas\" must be an array containing \"{SEARCH_REQUEST}\""
        )));
    }
    let text = |name: &str| match filter::member(body, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(value_error(name, "must be a string")),
    };
    // RFC 7644 has `attributes` as a list of strings; a comma-separated string is accepted too.
    let list = |name: &str| match filter::member(body, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .ok_or_else(|| value_error(name, "must be a list of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|names| (!names.is_empty()).then(|| names.join(","))),
        Some(_) => Err(value_error(name, "must be a list of strings")),
    };
    let number = |name: &str| match filter::member(body, name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| value_error(name, "must be an integer")),
    };
    let attributes = list("attributes")?;
    let excluded = list("excludedAttributes")?;
    Ok(Search {
        filter: text("filter")?,
        start_index: number("startIndex")?,
        count: number("count")?,
        projection: Projection::parse(attributes.as_deref(), excluded.as_deref())
            .map_err(|e| value_error(e.parameter, &e.detail))?,
    })
}

/// The ListResponse for a search over the client's workspace.
fn search_users(
    state: &AppState,
    client: &ScimClient,
    search: &Search,
) -> Result<Response, ApiError> {
    let start_index = search.start_index.unwrap_or(1).max(1);
    // RFC 7644 section 3.4.2.4: a negative count is 0; more than `maxResults` is capped.
    let count = search.count.map_or(MAX_RESULTS, |n| {
        usize::try_from(n.max(0))
            .unwrap_or(MAX_RESULTS)
            .min(MAX_RESULTS)
    });
    let filter = match &search.filter {
        None => None,
        Some(text) => Some(filter::parse(text).map_err(|e| {
            ApiError::new(Code::InvalidFilter, format!("The filter is not valid {e}."))
        })?),
    };
    let skip = usize::try_from(start_index - 1).unwrap_or(usize::MAX);
    let (total, users) = {
        let store = state.read();
        state.scim().search(
            &store,
            &client.workspace,
            &base_url(state),
            filter.as_ref(),
            skip,
            count,
        )
    };
    let page: Vec<Value> = users.iter().map(|u| search.projection.apply(u)).collect();
    Ok(scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "startIndex": start_index,
            "itemsPerPage": page.len(),
            "Resources": page,
        }),
    ))
}

/// `POST /scim/v2/Users`.
pub(crate) async fn create_user(
    State(state): State<AppState>,
    client: ScimClient,
    uri: Uri,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let projection = projection(&query(&uri)?)?;
    let value = body.value().map_err(invalid_syntax)?;
    let id = state.next_id("usr_");
    let user = {
        let mut store = state.write();
        state
            .scim()
            .create(
                &mut store,
                &client.workspace,
                &id,
                &value,
                &base_url(&state),
            )
            .map_err(store_error)?
    };
    emit(&state, &client.workspace, "user.created", event_data(&user));
    let mut response = resource_response(StatusCode::CREATED, &user, &projection);
    if let Some(location) = user["meta"]["location"].as_str()
        && let Ok(value) = HeaderValue::from_str(location)
    {
        response.headers_mut().insert(LOCATION, value);
    }
    Ok(response)
}

/// `GET /scim/v2/Users/{id}`; `If-None-Match` with the current ETag answers 304.
pub(crate) async fn get_user(
    State(state): State<AppState>,
    client: ScimClient,
    params: PathParams,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = {
        let store = state.read();
        state
            .scim()
            .get(
                &store,
                &client.workspace,
                params.get(ID_PARAM),
                &base_url(&state),
            )
            .map_err(store_error)?
    };
    let projection = projection(&query(&uri)?)?;
    let version = user["meta"]["version"].as_str().unwrap_or_default();
    let unchanged = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag == version
        });
    if unchanged {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        if let Ok(value) = HeaderValue::from_str(version) {
            response.headers_mut().insert(ETAG, value);
        }
        return Ok(response);
    }
    Ok(resource_response(StatusCode::OK, &user, &projection))
}

/// `PUT /scim/v2/Users/{id}`.
pub(crate) async fn replace_user(
    State(state): State<AppState>,
    client: ScimClient,
    params: PathParams,
    uri: Uri,
    body: JsonBody,
) -> Result<Response, ApiError> {
    update_user(&state, &client, &params, &uri, &body, ScimStore::replace)
}

/// `PATCH /scim/v2/Users/{id}`: a PatchOp message, applied atomically; answers the resource.
pub(crate) async fn patch_user(
    State(state): State<AppState>,
    client: ScimClient,
    params: PathParams,
    uri: Uri,
    body: JsonBody,
) -> Result<Response, ApiError> {
    update_user(&state, &client, &params, &uri, &body, ScimStore::patch)
}

/// A [`ScimStore`] operation that rewrites an existing user from a request body
/// (`store, workspace, id, body, base_url`).
type UserUpdate =
    fn(&ScimStore, &mut Store, &str, &str, &Value, &str) -> Result<Value, ScimStoreError>;

/// PUT and PATCH of a user: `update` applies the body, the user is announced as
/// `user.updated` and answered projected as the query asks.
fn update_user(
    state: &AppState,
    client: &ScimClient,
    params: &PathParams,
    uri: &Uri,
    body: &JsonBody,
    update: UserUpdate,
) -> Result<Response, ApiError> {
    let id = params.get(ID_PARAM);
    ensure_exists(state, client, id)?;
    let projection = projection(&query(uri)?)?;
    let value = body.value().map_err(invalid_syntax)?;
    let user = {
        let mut store = state.write();
        update(
            state.scim(),
            &mut store,
            &client.workspace,
            id,
            &value,
            &base_url(state),
        )
        .map_err(store_error)?
    };
    emit(state, &client.workspace, "user.updated", event_data(&user));
    Ok(resource_response(StatusCode::OK, &user, &projection))
}

/// `DELETE /scim/v2/Users/{id}`: the user and their bearer tokens are gone.
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    client: ScimClient,
    params: PathParams,
) -> Result<StatusCode, ApiError> {
    let id = params.get(ID_PARAM);
    {
        let mut store = state.write();
        state
            .scim()
            .delete(&mut store, &client.workspace, id)
            .map_err(store_error)?;
    }
    emit(
        &state,
        &client.workspace,
        "user.deleted",
        json!({ "id": id }),
    );
    Ok(StatusCode::NO_CONTENT)
}

/// A single User response with its `ETag` (RFC 7644 section 3.14).
fn resource_response(status: StatusCode, user: &Value, projection: &Projection) -> Response {
    let mut response = scim_json(status, &projection.apply(user));
    if let Some(version) = user["meta"]["version"].as_str()
        && let Ok(value) = HeaderValue::from_str(version)
    {
        response.headers_mut().insert(ETAG, value);
    }
    response
}

/// What events about a user carry: enough to look the user up, nothing secret.
fn event_data(user: &Value) -> Value {
    json!({
        "id": user["id"],
        "userName": user["userName"],
        "active": user.get("active").cloned().unwrap_or(Value::Bool(true)),
    })
}

/// USER_NOT_FOUND before anything about the body, as `catalog::PRECEDENCE` orders them.
fn ensure_exists(state: &AppState, client: &ScimClient, id: &str) -> Result<(), ApiError> {
    if state.read().user_in(&client.workspace, id).is_some() {
        Ok(())
    } else {
        Err(store_error(ScimStoreError::NotFound(id.to_owned())))
    }
}

fn store_error(error: ScimStoreError) -> ApiError {
    match error {
        ScimStoreError::NotFound(id) => ApiError::new(
            Code::UserNotFound,
            format!("No SCIM user has id {id:?} in this workspace."),
        ),
        ScimStoreError::Uniqueness(name) => ApiError::new(
            Code::ValidationError,
            format!("userName {name:?} is already taken in this workspace."),
        )
        .with_errors(vec![FieldError::pointer("/userName", "is already taken")])
        .scim()
        .with_scim_type(ScimType::Uniqueness),
        ScimStoreError::Invalid(e) if e.scim_type == ScimType::Mutability => {
            ApiError::new(Code::MutabilityViolation, e.detail)
        }
        ScimStoreError::Invalid(e) => ApiError::new(Code::ValidationError, e.detail.clone())
            .with_errors(vec![FieldError::pointer("", e.detail)])
            .scim()
            .with_scim_type(e.scim_type),
    }
}

/// A body that is not JSON (or not sent as JSON) is `invalidSyntax`, with the extractor's
/// own explanation as the detail (the SCIM envelope has no `errors` list to carry it).
fn invalid_syntax(error: ApiError) -> ApiError {
    let detail = error
        .errors
        .first()
        .map_or_else(|| error.detail.to_string(), |e| e.detail.clone());
    ApiError::new(Code::ValidationError, detail)
        .with_errors(error.errors)
        .scim()
        .with_scim_type(ScimType::InvalidSyntax)
}

/// ValidationError (`invalidValue`) for one query parameter.
fn invalid_parameter(name: &str, detail: impl Into<String>) -> ApiError {
    let detail = detail.into();
    ApiError::new(Code::ValidationError, format!("{name}: {detail}"))
        .with_errors(vec![FieldError::parameter(name, detail)])
        .scim()
        .with_scim_type(ScimType::InvalidValue)
}

/// The query string, percent- and `+`-decoded.
fn query(uri: &Uri) -> Result<Vec<(String, String)>, ApiError> {
    Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|_| {
            ApiError::new(Code::ValidationError, "The query string cannot be decoded.")
                .with_errors(vec![FieldError::parameter("query", "cannot be decoded")])
                .scim()
                .with_scim_type(ScimType::InvalidSyntax)
        })
}

/// A query parameter by name, ignoring case (clients differ on `startindex`).
fn param<'q>(params: &'q [(String, String)], name: &str) -> Option<&'q str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn integer(raw: &str, name: &str) -> Result<i64, ApiError> {
    raw.trim()
        .parse::<i64>()
        .map_err(|_| invalid_parameter(name, "must be an integer"))
}

fn projection(params: &[(String, String)]) -> Result<Projection, ApiError> {
    Projection::parse(
        param(params, "attributes"),
        param(params, "excludedAttributes"),
    )
    .map_err(|e| invalid_parameter(e.parameter, e.detail))
}
