//! The outermost middleware: request ids, logging, and rendering every error.
//!
//! [`request_context`] gives each request a fresh [`RequestId`] (a request extension, for
//! handlers that want it), runs the rest of the app inside a `tracing` span carrying that id,
//! and then finishes the response: an [`ApiError`] parked in the response by
//! `IntoResponse` is rendered with the id and the public base URL, and any other error
//! response (axum's own 404/405 or an extractor rejection that slipped through) is turned into
//! the catalog code it stands for, so nothing leaves the mock as plain text. Under
//! `/scim/v2` every error is sent in the SCIM envelope. Every response carries `x-request-id`.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use catalog::Code;
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use tracing::Instrument;

use crate::error::{ApiError, X_REQUEST_ID};
use crate::state::AppState;

/// The path prefix of the SCIM API, whose errors use the SCIM envelope.
pub const SCIM_PREFIX: &str = "/scim/v2";

/// A request's id, `req_` and 16 hex digits: a per-process random prefix and a counter, so ids
/// are unique without a random draw per request. Kept inline (no allocation per request).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestId([u8; 20]);

impl RequestId {
    /// The next id.
    pub fn generate() -> RequestId {
        static PREFIX: OnceLock<u32> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        const HEX: &[u8; 16] = b"0123456789abcdef";
        // Truncating the random UUID to 32 bits is the point: it is only a prefix.
        let prefix = *PREFIX.get_or_init(|| uuid::Uuid::new_v4().as_u128() as u32);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed) & 0xffff_ffff;
        let value = (u64::from(prefix) << 32) | n;
        let mut out = *b"req_0000000000000000";
        for (i, byte) in out[4..].iter_mut().enumerate() {
            // Each nibble, most significant first; the index is below 16.
            *byte = HEX[((value >> (60 - 4 * i)) & 0xf) as usize];
        }
        RequestId(out)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever written into the array.
        std::str::from_utf8(&self.0).unwrap_or("req_")
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a path belongs to the SCIM API.
pub fn is_scim_path(path: &str) -> bool {
    path == SCIM_PREFIX
        || path
            .strip_prefix(SCIM_PREFIX)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The request-context middleware; see the module docs.
pub async fn request_context(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = RequestId::generate();
    req.extensions_mut().insert(id);
    let scim = is_scim_path(req.uri().path());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    );
    let started = Instant::now();
    let response = next.run(req).instrument(span.clone()).await;
    let response = finish(response, &id, &state, scim);
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "served"
        );
    });
    response
}

/// Renders a parked [`ApiError`] or converts a stray error response; sets `x-request-id`.
fn finish(mut response: Response, id: &RequestId, state: &AppState, scim: bool) -> Response {
    let error = response
        .extensions_mut()
        .remove::<ApiError>()
        .or_else(|| stray(response.status()))
        // Everything under /scim/v2 answers in the SCIM envelope (RFC 7644 section 3.12),
        // whichever shared extractor or guard produced the error.
        .map(|error| if scim { error.scim() } else { error });
    let mut response = match error {
        Some(error) => {
            let mut rendered = error.render(id.as_str(), state.public_url());
            // Keep what inner layers added (the rate-limit fields), but not the description of
            // the body that is being replaced.
            for (name, value) in response.headers() {
                if ![CONTENT_TYPE, CONTENT_LENGTH, ALLOW].contains(name)
                    && !rendered.headers().contains_key(name)
                {
                    rendered.headers_mut().append(name.clone(), value.clone());
                }
            }
            rendered
        }
        None => response,
    };
    if !response.headers().contains_key(X_REQUEST_ID)
        && let Ok(value) = HeaderValue::from_str(id.as_str())
    {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    response
}

/// The catalog code for an error response nobody built from an [`ApiError`].
fn stray(status: StatusCode) -> Option<ApiError> {
    let error = match status.as_u16() {
        // The catalog has no 405: a route that does not exist for a method does not exist.
        404 | 405 => ApiError::unknown_route(),
        413 => ApiError::invalid_body("", "The body is too large."),
        400 | 411 | 415 | 422 => ApiError::invalid_body("", "The request could not be parsed."),
        401 => ApiError::new(Code::Unauthorized, "The caller is not authenticated."),
        403 => ApiError::new(Code::Forbidden, "The caller may not do this."),
        _ => return None,
    };
    Some(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_unique_and_well_formed() {
        let a = RequestId::generate();
        let b = RequestId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 20);
        assert!(a.as_str().starts_with("req_"));
        assert!(a.as_str()[4..].bytes().all(|b| b.is_ascii_hexdigit()));
        // Same process, same prefix.
        assert_eq!(a.as_str()[..12], b.as_str()[..12]);
    }

    #[test]
    fn scim_paths() {
        assert!(is_scim_path("/scim/v2"));
        assert!(is_scim_path("/scim/v2/Users"));
        assert!(!is_scim_path("/scim/v20"));
        assert!(!is_scim_path("/v1/scim/v2"));
    }
}
