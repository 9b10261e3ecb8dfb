//! The workspace guard, and where each check of the precedence order lives.
//!
//! When several errors apply, the first in `catalog::PRECEDENCE` wins. Every
//! `/v1/workspaces/{workspace}/...` request passes these checks in this order; each returns
//! early, so the order of the code is the order of precedence:
//!
//! | # | Code | Where |
//! |---|---|---|
//! | 1 | IP_BLOCKED | [`check_workspace_request`] (this module, run by [`admit`] in the request-context layer) |
//! | 2 | RateLimited | [`check_workspace_request`] |
//! | 3 | WORKSPACE_INACTIVE | [`check_workspace_request`] |
//! | 4–6 | NOT_PROVISIONED, ACCOUNT_DISABLED, SSO_NOT_ALLOWED | the sign-in handler (`api::sessions`); ACCOUNT_DISABLED also in [`crate::auth::authenticate`] |
//! | 7 | Unauthorized | [`crate::auth::authenticate`] (the `Caller` extractor) |
//! | 8 | MFA_REQUIRED | [`crate::auth::authenticate`] |
//! | 9 | Forbidden | [`crate::auth::Caller::require`], first thing in a handler |
//! | 10 | NotFound | the handler's resource look-up (a workspace the caller is not in is already NotFound in `authenticate`: it is hidden, so there is no role in it to be refused) |
//! | 12 | ValidationError | [`crate::extract::JsonBody::parse`] in the handler, after the look-up |
//! | 15–17 | STEP_UP_REUSED, STEP_UP_REQUIRED, PHISHING_RESISTANT_REQUIRED | [`crate::api::step_up::require_step_up`], last before acting; STEP_UP_REQUIRED also in the step-up call (`api::step_up::create`) for a code or assertion that does not verify, after validation |
//! | 18 | ATTESTATION_BLOCKED | the factor-enrolment handler, after validation and after the registration verified |
//!
//! The guard also attaches the rate-limit header fields to every response it lets through.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr};

use axum::extract::{FromRef, FromRequestParts, Request};
use catalog::Code;
use http::request::Parts;
use http::{Extensions, HeaderMap};

use crate::auth::{self, Bearer};
use crate::error::ApiError;
use crate::extract::peer_addr;
use crate::network::client_ip;
use crate::ratelimit::{Quota, RateKey, RateLimitStatus};
use crate::state::AppState;
use crate::store::TokenKind;

/// The client address of a request, as the guard resolves it ([`client_addr`]); an extractor
/// for the one handler that needs it, so the guard leaves nothing in the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClientIp(pub IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<ClientIp, Infallible> {
        let state = AppState::from_ref(state);
        Ok(ClientIp(client_addr(
            &state,
            &parts.extensions,
            &parts.headers,
        )))
    }
}

/// The client address: the TCP peer, or what a trusted proxy forwarded.
///
/// A request without connection info (a test that set none) counts as coming from `0.0.0.0`,
/// which no allowlist holds and which is not loopback.
pub(crate) fn client_addr(
    state: &AppState,
    extensions: &Extensions,
    headers: &HeaderMap,
) -> IpAddr {
    let peer = peer_addr(extensions).map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    client_ip(peer, headers, state.trusted_proxies())
}

/// The guard for a request to `/v1/workspaces/{workspace}/...`, routed or not: the checks
/// above for the request's client address and bearer token, run by the request-context layer
/// before routing. Returns the rate-limit status to report on whatever is answered (nothing
/// for other paths) and the verdict.
///
/// It runs in front of the route table rather than per route: one pass for matched routes,
/// unknown routes and wrong methods alike.
pub(crate) fn admit(
    state: &AppState,
    request: &Request,
) -> (RateLimitStatus, Result<(), ApiError>) {
    let Some(workspace) = auth::path_workspace(request.uri().path()) else {
        return (RateLimitStatus::default(), Ok(()));
    };
    let ip = client_addr(state, request.extensions(), request.headers());
    let token = match auth::bearer(request.headers()) {
        Bearer::Token(token) => Some(token),
        Bearer::Absent | Bearer::OtherScheme | Bearer::Malformed => None,
    };
    check_workspace_request(state, Some(&workspace), ip, token)
}

/// IP_BLOCKED, RateLimited and WORKSPACE_INACTIVE, in that (`catalog::PRECEDENCE`) order, for
/// a request to `workspace` from `ip` with bearer `token`.
///
/// Returns the rate-limit status to report (whatever the verdict) and the verdict. An unknown workspace has no
/// policy; the handler answers NotFound for it. Reusable by routers whose workspace comes
/// from the token rather than the path (SCIM).
pub(crate) fn check_workspace_request(
    state: &AppState,
    workspace: Option<&str>,
    ip: IpAddr,
    token: Option<&str>,
) -> (RateLimitStatus, Result<(), ApiError>) {
    let limits = state.rate_limits();
    // One short read of the store for everything the three checks need.
    let (allowed, active, token_quota) = {
        let store = state.read();
        let ws = workspace.and_then(|id| store.workspaces.get(id));
        let token_quota = token
            .and_then(|t| store.tokens.get(t))
            .filter(|t| !t.is_expired())
            .map(|t| {
                let session_override = (t.kind == TokenKind::Session)
                    .then(|| store.workspaces.get(&*t.workspace))
                    .flatten()
                    .and_then(|w| w.session_rate_limit);
                match session_override {
                    Some(q) => Quota {
                        limit: q.quota,
                        window_secs: q.window_secs,
                    },
                    None => Quota {
                        limit: limits.per_token,
                        window_secs: limits.window_secs,
                    },
                }
            });
        (
            ws.is_none_or(|w| w.allowlist.contains(ip)),
            ws.is_none_or(|w| w.is_active()),
            token_quota,
        )
    };

    // 1. IP_BLOCKED: before anything else, so a foreign network learns nothing more.
    if !allowed {
        return (
            RateLimitStatus::default(),
            Err(ApiError::new(
                Code::IpBlocked,
                format!("Requests from {ip} are not allowed by the workspace network policy."),
            )),
        );
    }

    // 2. RateLimited: per token (valid tokens only, so made-up tokens cannot fill memory) and
    // per address.
    let mut status = RateLimitStatus::default();
    if let (Some(token), Some(quota)) = (token, token_quota) {
        status.0.extend(
            state
                .limiter()
                .hit(|| RateKey::Token(token.to_owned()), quota),
        );
    }
    let address_quota = Quota {
        limit: limits.per_address,
        window_secs: limits.window_secs,
    };
    status
        .0
        .extend(state.limiter().hit(|| RateKey::Address(ip), address_quota));
    if let Some(retry_after) = status.retry_after() {
        let which: Vec<&str> = status
            .0
            .iter()
            .filter(|u| u.exceeded)
            .map(|u| u.policy)
            .collect();
        let error = ApiError::new(
            Code::RateLimited,
            format!(
                "Too many requests for this {} in the current window; retry in {retry_after} s.",
                which.join(" and ")
            ),
        )
        .with_retry_after(retry_after);
        return (status, Err(error));
    }

    // 3. WORKSPACE_INACTIVE.
    if !active {
        let error = ApiError::new(
            Code::WorkspaceInactive,
            "The workspace is suspended or cancelled.",
        );
        return (status, Err(error));
    }
    (status, Ok(()))
}
