//! Who is calling: bearer tokens resolved to a [`Caller`].
//!
//! The extractors here run the authentication part of the precedence order (see
//! [`crate::guard`] for the whole pipeline): ACCOUNT_DISABLED, Unauthorized, MFA_REQUIRED, and
//! then NotFound for a workspace the caller does not belong to, which is hidden exactly like a
//! missing one. Role checks (Forbidden) are left to the handler through [`Caller::require`],
//! because only the handler knows what the action needs.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use catalog::Code;
use http::HeaderMap;
use http::header::AUTHORIZATION;
use http::request::Parts;

use crate::error::ApiError;
use crate::extract::decode_segment;
use crate::model::{Role, is_b64token};
use crate::state::AppState;
use crate::stepup::ACR_MFA;

/// The path parameter naming the workspace in `/v1/workspaces/{workspace}/...`.
pub(crate) const WORKSPACE_PARAM: &str = "workspace";

/// The user a valid bearer token names, once the path's workspace (if any)
/// was found to be theirs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The caller's workspace (equal to the path's, where the path names one); shared with
    /// the token's entry in the store.
    pub workspace: Arc<str>,
    /// The caller's user id, shared likewise.
    pub user: Arc<str>,
    pub role: Role,
}

/// A caller who may still be missing the factor their workspace requires: only factor
/// enrolment accepts one, since it is how MFA_REQUIRED is resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Enrolling(pub Caller);

/// Whether to enforce the workspace's MFA requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MfaCheck {
    /// MFA_REQUIRED for a user without a factor in a workspace that requires one.
    Enforce,
    /// Let such a user through (factor enrolment).
    Skip,
}

impl Caller {
    /// Forbidden unless the caller has `role` (admins can do everything members can).
    pub(crate) fn require(&self, role: Role) -> Result<(), ApiError> {
        match (role, self.role) {
            (Role::Member, _) | (Role::Admin, Role::Admin) => Ok(()),
            (Role::Admin, Role::Member) => Err(ApiError::new(
                Code::Forbidden,
                "This action needs the admin role in the workspace.",
            )),
        }
    }
}

/// Where a request's bearer token stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bearer<'a> {
    /// No `Authorization` header.
    Absent,
    /// Credentials of another scheme (`Basic ...`, `Digest ...`, a bare word): to this API,
    /// which supports only `Bearer`, no credentials at all (RFC 6750 section 3.1: no error
    /// code for a request without bearer authentication information).
    OtherScheme,
    /// A `Bearer` header whose token is missing or is not a b64token, or a value that is not
    /// HTTP credentials at all (RFC 9110 section 11.4), or more than one `Authorization` field:
    /// RFC 6750 `invalid_request`.
    Malformed,
    Token(&'a str),
}

/// Reads `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 section 2.1).
///
/// Byte by byte: every character a scheme or a token may hold is ASCII, so a value that is not
/// visible ASCII cannot pass either check, and no text validation runs first.
pub(crate) fn bearer(headers: &HeaderMap) -> Bearer<'_> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Bearer::Absent;
    };
    if values.next().is_some() {
        return Bearer::Malformed;
    }
    let text = value.as_bytes().trim_ascii();
    // `credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`: the scheme ends at the
    // first space, or is the whole value.
    let space = text.iter().position(|&b| b == b' ');
    let scheme = &text[..space.unwrap_or(text.len())];
    if !is_http_token(scheme) {
        return Bearer::Malformed;
    }
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        // Another scheme's credentials are that scheme's business; they are not read.
        return Bearer::OtherScheme;
    }
    let token = space.map_or(&b""[..], |at| text[at + 1..].trim_ascii());
    if !is_b64token(token) {
        return Bearer::Malformed;
    }
    // A b64token is ASCII, hence UTF-8.
    std::str::from_utf8(token).map_or(Bearer::Malformed, Bearer::Token)
}

/// RFC 9110 section 5.6.2 `token` (`1*tchar`), which an auth-scheme is.
fn is_http_token(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// Resolves the request's bearer token to a caller, in precedence order, and checks that the
/// caller belongs to `path_workspace` when the path names one.
pub(crate) fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    path_workspace: Option<&str>,
    mfa: MfaCheck,
) -> Result<Caller, ApiError> {
    let token = match bearer(headers) {
        Bearer::Token(token) => token,
        Bearer::Absent => {
            return Err(ApiError::new(
                Code::Unauthorized,
                "No bearer token was sent: sign in, then send `Authorization: Bearer <token>`.",
            ));
        }
        Bearer::OtherScheme => {
            return Err(ApiError::new(
                Code::Unauthorized,
                "The Authorization header uses a scheme other than Bearer, which this API does not accept: sign in, then send `Authorization: Bearer <token>`.",
            ));
        }
        Bearer::Malformed => {
            return Err(ApiError::new(
                Code::Unauthorized,
                "The Authorization header is not a single `Bearer <token>`.",
            )
            .with_bearer_error("invalid_request"));
        }
    };
    let invalid_token = |detail: &'static str| {
        ApiError::new(Code::Unauthorized, detail).with_bearer_error("invalid_token")
    };

    let store = state.read();
    let Some(entry) = store.tokens.get(token) else {
        return Err(invalid_token("The bearer token is not valid."));
    };
    if entry.is_expired() {
        return Err(invalid_token(
            "The bearer token has expired; sign in again.",
        ));
    }
    let Some(user) = store.user(&entry.user) else {
        return Err(invalid_token("The bearer token is not valid."));
    };
    if user.disabled {
        // The token was sent and no longer authenticates anyone: RFC 6750 `invalid_token`
        // ("revoked ... or invalid for other reasons"), as for a revoked token. Signing in
        // again answers ACCOUNT_DISABLED too, so a client that retries does not loop.
        return Err(ApiError::new(
            Code::AccountDisabled,
            "The identity provider has the account marked as disabled.",
        )
        .with_bearer_error("invalid_token"));
    }
    if mfa == MfaCheck::Enforce
        && user.factors.is_empty()
        && store
            .workspaces
            .get(&user.workspace)
            .is_some_and(|w| w.mfa_required)
    {
        return Err(ApiError::new(
            Code::MfaRequired,
            format!(
                "The workspace requires a second factor: enrol one with POST /v1/workspaces/{}/factors (TOTP, passkey or security key).",
                user.workspace
            ),
        )
        .with_acr(ACR_MFA, None));
    }
    if path_workspace.is_some_and(|ws| ws != user.workspace) {
        return Err(ApiError::not_found());
    }
    Ok(Caller {
        workspace: Arc::clone(&entry.workspace),
        user: Arc::clone(&entry.user),
        role: user.role,
    })
}

/// The `{workspace}` segment of a `/v1/workspaces/{workspace}/...` path, percent-decoded as
/// `PathParams` decodes path parameters ([`decode_segment`]); `""` when it is not UTF-8 once decoded (it names a workspace,
/// just not one that exists). `None` for every other path.
///
/// Every route with a `{workspace}` parameter starts with that prefix, so this is the path
/// parameter of whichever route matches, read without routing and without an allocation
/// when the segment has no escapes.
pub(crate) fn path_workspace(path: &str) -> Option<Cow<'_, str>> {
    let rest = path.strip_prefix("/v1/workspaces/")?;
    // An empty segment (`/v1/workspaces//users`, which the route table matches too) names no
    // workspace that exists, like one that is not UTF-8.
    let end = rest.bytes().position(|b| b == b'/').unwrap_or(rest.len());
    Some(decode_segment(&rest[..end]).unwrap_or(Cow::Borrowed("")))
}

impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Caller, ApiError> {
        let workspace = path_workspace(parts.uri.path());
        authenticate(
            &AppState::from_ref(state),
            &parts.headers,
            workspace.as_deref(),
            MfaCheck::Enforce,
        )
    }
}

impl<S> FromRequestParts<S> for Enrolling
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Enrolling, ApiError> {
        let workspace = path_workspace(parts.uri.path());
        authenticate(
            &AppState::from_ref(state),
            &parts.headers,
            workspace.as_deref(),
            MfaCheck::Skip,
        )
        .map(Enrolling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_path_names_the_workspace_as_the_router_decodes_it() {
        let ws = |path| path_workspace(path).map(|w| w.into_owned());
        assert_eq!(ws("/v1/workspaces/acme/users").as_deref(), Some("acme"));
        assert_eq!(ws("/v1/workspaces/acme").as_deref(), Some("acme"));
        assert_eq!(ws("/v1/workspaces/ac%6De/users/x").as_deref(), Some("acme"));
        assert_eq!(ws("/v1/workspaces/a%2Fb/users").as_deref(), Some("a/b"));
        // Not UTF-8 once decoded: a workspace, just not one that exists.
        assert_eq!(ws("/v1/workspaces/%FF/users").as_deref(), Some(""));
        // Empty: the route table matches it as a `{workspace}` of "", which exists nowhere.
        assert_eq!(ws("/v1/workspaces//users").as_deref(), Some(""));
        assert_eq!(ws("/v1/workspaces/").as_deref(), Some(""));
        assert_eq!(ws("/v1/workspacesacme/users"), None);
        assert_eq!(ws("/scim/v2/Users"), None);
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer(&HeaderMap::new()), Bearer::Absent);
        assert_eq!(bearer(&with("Bearer tok_a")), Bearer::Token("tok_a"));
        assert_eq!(bearer(&with("bearer  tok_a ")), Bearer::Token("tok_a"));
        // Another scheme: no bearer credentials at all.
        assert_eq!(bearer(&with("Basic dXNlcjpwdw==")), Bearer::OtherScheme);
        assert_eq!(bearer(&with("Basic")), Bearer::OtherScheme);
        assert_eq!(
            bearer(&with("Digest username=\"a\", realm=\"b\"")),
            Bearer::OtherScheme
        );
        assert_eq!(bearer(&with("Bearers tok_a")), Bearer::OtherScheme);
        // A bare word is an auth-scheme without credentials (RFC 9110 section 11.4).
        assert_eq!(bearer(&with("tok_a")), Bearer::OtherScheme);
        // Bearer without a b64token, or not credentials at all: malformed.
        assert_eq!(bearer(&with("Bearer")), Bearer::Malformed);
        assert_eq!(bearer(&with("bearer   ")), Bearer::Malformed);
        assert_eq!(bearer(&with("Bearer a b")), Bearer::Malformed);
        assert_eq!(bearer(&with("Bearer ===")), Bearer::Malformed);
        assert_eq!(bearer(&with("Bearer tok,en")), Bearer::Malformed);
        assert_eq!(bearer(&with("Bearer tok\"en")), Bearer::Malformed);
        assert_eq!(bearer(&with("BEARER tok_a==")), Bearer::Token("tok_a=="));
        assert_eq!(bearer(&with("Bearer\ttok_a")), Bearer::Malformed);
        assert_eq!(bearer(&with("Bea(rer tok_a")), Bearer::Malformed);
        assert_eq!(bearer(&with("")), Bearer::Malformed);
        // Bytes beyond ASCII (obs-text) are in no scheme and no token.
        let mut headers = HeaderMap::new();
        let value = http::HeaderValue::from_bytes(b"Bearer t\xc3\xb6k").unwrap();
        headers.insert(AUTHORIZATION, value);
        assert_eq!(bearer(&headers), Bearer::Malformed);
        // Two fields are not one token.
        let mut headers = with("Bearer tok_a");
        headers.append(AUTHORIZATION, "Bearer tok_b".parse().unwrap());
        assert_eq!(bearer(&headers), Bearer::Malformed);
    }
}
