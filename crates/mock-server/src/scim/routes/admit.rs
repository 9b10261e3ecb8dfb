//! [`admit`] runs in front of every SCIM route (the route table calls it for `Scope::Scim`). It
//! authenticates the workspace's SCIM bearer token (from the seed's `[scim]` section) and runs
//! the workspace checks in `catalog::PRECEDENCE` order: IP_BLOCKED, RateLimited and
//! WORKSPACE_INACTIVE for the workspace the token names, then Unauthorized. Discovery needs no
//! token (its content is the same for every workspace, and RFC 7644 lets providers serve it
//! anonymously). A request that passes carries its [`ScimClient`], which handlers extract.

use axum::extract::{FromRequestParts, Request};
use catalog::Code;
use http::request::Parts;

use crate::auth::{self, Bearer};
use crate::error::ApiError;
use crate::guard::{check_workspace_request, client_addr};
use crate::ratelimit::RateLimitStatus;
use crate::state::AppState;

/// Paths (as routed) served without a token.
const DISCOVERY: [&str; 3] = [
    "/scim/v2/ServiceProviderConfig",
    "/scim/v2/ResourceTypes",
    "/scim/v2/Schemas",
];

/// The workspace a request's SCIM token provisions; [`admit`] puts it in the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScimClient {
    pub workspace: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ScimClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<ScimClient, ApiError> {
        // Only reachable on a route the guard does not cover; the route table runs it for
        // every `Scope::Scim` route, and it inserts a client for every non-discovery one.
        parts
            .extensions
            .get::<ScimClient>()
            .cloned()
            .ok_or_else(|| {
                ApiError::new(Code::Unauthorized, "No SCIM bearer token was sent.").scim()
            })
    }
}

/// The guard of every SCIM route (see the module docs), run by the route table once the
/// request matched one: on success it puts the [`ScimClient`] in the request. Returns the
/// rate-limit status to report on whatever is answered, and the verdict.
pub(crate) fn admit(
    state: &AppState,
    req: &mut Request,
) -> (RateLimitStatus, Result<(), ApiError>) {
    // Only matched requests get here, and the table matches the path's bytes as they are: a
    // request under a discovery route's static prefix was routed to it.
    let path = req.uri().path();
    let discovery = DISCOVERY.iter().any(|d| path.starts_with(d));
    let ip = client_addr(state, req.extensions(), req.headers());
    let bearer = auth::bearer(req.headers());
    let workspace = match bearer {
        Bearer::Token(token) if !discovery => state.scim().workspace_of(token).map(str::to_owned),
        _ => None,
    };
    let (limits, verdict) = check_workspace_request(state, workspace.as_deref(), ip, None);
    let verdict = verdict
        .map_err(ApiError::scim)
        .and_then(|()| match workspace {
            Some(workspace) => Ok(Some(ScimClient { workspace })),
            None if discovery => Ok(None),
            None => Err(unauthorized(bearer)),
        })
        .map(|client| {
            if let Some(client) = client {
                req.extensions_mut().insert(client);
            }
        });
    (limits, verdict)
}

fn unauthorized(bearer: Bearer<'_>) -> ApiError {
    let error = match bearer {
        Bearer::Absent => ApiError::new(
            Code::Unauthorized,
            "No bearer token was sent: send `Authorization: Bearer <SCIM token>`.",
        ),
        Bearer::OtherScheme => ApiError::new(
            Code::Unauthorized,
            "The Authorization header uses a scheme other than Bearer: send `Authorization: Bearer <SCIM token>`.",
        ),
        Bearer::Malformed => ApiError::new(
            Code::Unauthorized,
            "The Authorization header is not a single `Bearer <token>`.",
        )
        .with_bearer_error("invalid_request"),
        Bearer::Token(_) => {
            ApiError::new(Code::Unauthorized, "The SCIM bearer token is not valid.")
                .with_bearer_error("invalid_token")
        }
    };
    error.scim()
}
