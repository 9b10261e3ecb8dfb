//! Users: list, invite, read, delete (a sensitive action: step-up `delete_user`).
//!
//! A user of another workspace is looked up with [`crate::store::Store::user_in`], which
//! treats it exactly like a missing one, and both answer [`ApiError::not_found`], so the two
//! responses are identical apart from the request id.

use axum::Json;
use axum::extract::State;
use http::{StatusCode, Uri};
use response_schema::FieldError;
use serde::{Deserialize, Serialize};

use crate::api::step_up::{StepUpHeader, require_step_up};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParams, query_param};
use crate::model::{FactorType, Purpose, Role};
use crate::state::AppState;
use crate::store::User;

/// The default and largest page size of `GET users`.
pub(crate) const DEFAULT_LIMIT: usize = 50;
/// The largest `limit`.
pub(crate) const MAX_LIMIT: usize = 100;

/// A user as the API shows it (`User`).
#[derive(Debug, Serialize)]
pub(crate) struct UserView {
    pub id: String,
    pub workspace: String,
    pub email: String,
    /// Admin or member.
    pub role: Role,
    /// Disabled by the identity provider.
    pub disabled: bool,
    pub factors: Vec<FactorView>,
}

/// An enrolled factor as the API shows it (`Factor`, without enrolment-only members).
#[derive(Debug, Serialize)]
pub(crate) struct FactorView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: FactorType,
}

/// `GET users` response (`UserList`).
#[derive(Debug, Serialize)]
pub(crate) struct UserList {
    /// Users ordered by id.
    pub users: Vec<UserView>,
}

/// `POST users` request body (`InviteUserRequest`).
#[derive(Debug, Deserialize)]
pub(crate) struct Invite {
    pub email: String,
    pub role: Role,
}

impl From<&User> for UserView {
    fn from(user: &User) -> UserView {
        UserView {
            id: user.id.clone(),
            workspace: user.workspace.clone(),
            email: user.email.clone(),
            role: user.role,
            disabled: user.disabled,
            factors: user
                .factors
                .iter()
                .map(|f| FactorView {
                    id: f.id.clone(),
                    kind: f.kind,
                })
                .collect(),
        }
    }
}

/// `GET /v1/workspaces/{workspace}/users?limit=1..100`.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Json<UserList>, ApiError> {
    let limit = match query_param(&uri, "limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) && raw.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => {
                return Err(ApiError::invalid_parameter(
                    "limit",
                    format!("must be an integer from 1 to {MAX_LIMIT}"),
                ));
            }
        },
    };
    let store = state.read();
    // The index keeps ids in order: the first page costs `limit` look-ups, not a sort of the
    // workspace.
    let users = store
        .user_ids_in(&caller.workspace, None)
        .take(limit)
        .filter_map(|id| store.user(id))
        .map(UserView::from)
        .collect();
    Ok(Json(UserList { users }))
}

/// `POST /v1/workspaces/{workspace}/users` (admin): invites a user.
pub(crate) async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    caller.require(Role::Admin)?;
    let invite: Invite = body.parse(state.schemas(), "InviteUserRequest")?;
    let mut store = state.write();
    if store
        .user_by_email(&caller.workspace, &invite.email)
        .is_some()
    {
        return Err(ApiError::validation(vec![FieldError::pointer(
            "/email",
            "is already a user of the workspace",
        )]));
    }
    let user = User {
        id: state.next_id("usr_"),
        workspace: caller.workspace.to_string(),
        email: invite.email,
        password: None,
        role: invite.role,
        disabled: false,
        factors: Vec::new(),
    };
    let view = UserView::from(&user);
    store.insert_user(user);
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /v1/workspaces/{workspace}/users/{user_id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<Json<UserView>, ApiError> {
    let store = state.read();
    store
        .user_in(&caller.workspace, params.get("user_id"))
        .map(|u| Json(UserView::from(u)))
        .ok_or_else(ApiError::not_found)
}

/// `DELETE /v1/workspaces/{workspace}/users/{user_id}` (admin, step-up `delete_user`).
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    step_up: StepUpHeader,
) -> Result<StatusCode, ApiError> {
    caller.require(Role::Admin)?;
    let id = params.get("user_id");
    if state.read().user_in(&caller.workspace, id).is_none() {
        return Err(ApiError::not_found());
    }
    require_step_up(&state, &caller, &step_up, Purpose::DeleteUser)?;
    let mut store = state.write();
    store.remove_user(id);
    store.tokens.retain(|_, t| *t.user != *id);
    Ok(StatusCode::NO_CONTENT)
}
