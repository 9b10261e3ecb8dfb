//! The outermost layer: request ids, logging, and rendering every error.
//!
//! [`RequestContext`] wraps the route table (see `crate::app::App`). It gives each request a
//! fresh [`RequestId`] (kept in the response future; no handler needs it), runs the rest of
//! the app inside a debug-level `tracing` span carrying that id, and then finishes the
//! response: an [`ApiError`] parked in the response by `IntoResponse` is rendered with the id
//! and the public base URL, and any other error response (axum's own 404/405 or an extractor
//! rejection that slipped through) is turned into the catalog code it stands for, so nothing
//! leaves the mock as plain text. Before routing it runs the workspace guard
//! ([`guard::admit`]) on `/v1/workspaces/{workspace}/...` paths, renders its refusal without
//! routing, and adds the rate-limit header fields to whatever is answered. Under `/scim/v2`
//! every error is sent in the SCIM envelope. Before the guard, one check
//! ([`intercept::wanted`]: a fault rule or the journal is in use, or the request sends
//! `Prefer`) sends a request down the harness's slower path (`crate::intercept`), whose
//! injected error, latency, connection break and journal entry are applied here. Every
//! response carries `x-request-id`. At `info`
//! it logs one access line per request (`served`, with the request id, method, path, status
//! and microseconds).
//!
//! It is a plain struct around the table rather than `axum::middleware::from_fn`, which boxes
//! the next service and the response future on every request, and it serves through `&self`,
//! so a connection needs no copy of the app per request: error responses are the mock's
//! hottest path, and `cargo xtask bench-mock` holds them to a bare axum handler's speed.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;
use catalog::Code;
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Method, StatusCode, Uri};
use tracing::Span;

use crate::dispatch::{RouteFuture, RouteTable};
use crate::error::{ApiError, ErrorTemplates, X_REQUEST_ID_NAME};
use crate::guard;
use crate::intercept::{self, After};
use crate::ratelimit::RateLimitStatus;
use crate::scim::is_scim_path;

/// A request's id, `req_` and 16 hex digits: a per-process random prefix and a counter, so ids
/// are unique without a random draw per request. Kept inline (no allocation per request).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct RequestId([u8; 20]);

impl RequestId {
    /// A fresh id: the process's prefix and the next count (no two calls in
    /// a process return the same id until the counter wraps at 2^32).
    pub(crate) fn generate() -> RequestId {
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

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII is ever written into the array.
        std::str::from_utf8(&self.0).unwrap_or("req_")
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The request-context layer around the route table; see the module docs.
#[derive(Clone, Debug)]
pub(crate) struct RequestContext {
    /// The table, and through it the state the guard reads.
    routes: RouteTable,
    templates: Arc<ErrorTemplates>,
}

impl RequestContext {
    /// The layer around `routes` (error `type` URLs under its state's public URL).
    pub(crate) fn new(routes: RouteTable) -> RequestContext {
        let templates = Arc::new(ErrorTemplates::new(routes.state().public_url()));
        RequestContext { routes, templates }
    }

    /// Serves `req` (through `&self`: a connection serves each request without a copy of
    /// the app).
    pub(crate) fn serve(&self, req: Request) -> RequestContextFuture {
        let id = RequestId::generate();
        let scim = is_scim_path(req.uri().path());
        let head = req.method() == Method::HEAD;
        // Debug level: at the default `info` a span per request costs more than the request.
        let span = tracing::debug_span!(
            "request",
            request_id = %id,
            method = %req.method(),
            path = %req.uri().path(),
        );
        // What the access line needs, kept only when it will be written.
        let access = tracing::enabled!(tracing::Level::INFO).then(|| Access {
            method: req.method().clone(),
            uri: req.uri().clone(),
            started: Instant::now(),
        });
        // The harness (fault rules, the journal, `Prefer: error=`): one check when none is in
        // use. Its decision comes after routing and before every other check.
        let mut after = None;
        let (limits, inner) = if intercept::wanted(self.routes.state().harness(), &req) {
            let plan = span.in_scope(|| intercept::plan(&self.routes, &req));
            after = Some(Box::new(plan.after));
            match (plan.delay, plan.error) {
                (Some(delay), error) => (
                    RateLimitStatus::default(),
                    Inner::Delayed(Box::new(Delayed {
                        sleep: Box::pin(tokio::time::sleep(delay)),
                        request: Some(req),
                        error,
                        routes: self.routes.clone(),
                    })),
                ),
                (None, Some(error)) => (RateLimitStatus::default(), Inner::Refused(Some(error))),
                (None, None) => admit_and_route(&self.routes, &span, req),
            }
        } else {
            admit_and_route(&self.routes, &span, req)
        };
        RequestContextFuture {
            inner,
            after,
            limits,
            span,
            id,
            scim,
            head,
            access,
            templates: Arc::clone(&self.templates),
        }
    }
}

/// The workspace guard, then the route table: a request the guard refuses is never routed.
fn admit_and_route(routes: &RouteTable, span: &Span, req: Request) -> (RateLimitStatus, Inner) {
    let (limits, verdict) = span.in_scope(|| guard::admit(routes.state(), &req));
    let inner = match verdict {
        Ok(()) => Inner::Running(span.in_scope(|| routes.route(req))),
        Err(error) => Inner::Refused(Some(error)),
    };
    (limits, inner)
}

/// The access line's fields that outlive the request.
#[derive(Debug)]
struct Access {
    method: Method,
    uri: Uri,
    started: Instant,
}

/// The response future of [`RequestContext::serve`].
#[derive(Debug)]
pub(crate) struct RequestContextFuture {
    inner: Inner,
    /// What the harness adds to the answer (slower path only).
    after: Option<Box<After>>,
    /// The rate-limit header fields for whatever is answered.
    limits: RateLimitStatus,
    span: Span,
    id: RequestId,
    scim: bool,
    /// A HEAD request: the body of a rendered error is dropped (its length is kept).
    head: bool,
    access: Option<Access>,
    templates: Arc<ErrorTemplates>,
}

/// The app's response future, or the guard's refusal, or a fault rule's latency first.
#[derive(Debug)]
enum Inner {
    Running(RouteFuture),
    Refused(Option<ApiError>),
    Delayed(Box<Delayed>),
}

/// A request held back by a fault rule's latency; then answered `error`, or admitted and
/// routed as usual.
#[derive(Debug)]
struct Delayed {
    sleep: Pin<Box<tokio::time::Sleep>>,
    request: Option<Request>,
    error: Option<ApiError>,
    routes: RouteTable,
}

impl Future for RequestContextFuture {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let _entered = this.span.enter();
        // The guard's refusal is rendered as it is, without a round trip through a response.
        let (response, error) = loop {
            match &mut this.inner {
                Inner::Running(inner) => {
                    let mut response = ready!(Pin::new(inner).poll(cx));
                    let error = parked(&mut response);
                    break (response, error);
                }
                Inner::Refused(error) => break (Response::default(), error.take()),
                Inner::Delayed(delayed) => {
                    ready!(delayed.sleep.as_mut().poll(cx));
                    let next = match (delayed.error.take(), delayed.request.take()) {
                        (Some(error), _) => Inner::Refused(Some(error)),
                        (None, Some(request)) => {
                            let (limits, inner) =
                                admit_and_route(&delayed.routes, &this.span, request);
                            this.limits = limits;
                            inner
                        }
                        (None, None) => Inner::Refused(None),
                    };
                    this.inner = next;
                }
            }
        };
        let mut response = finish(
            response,
            error,
            &this.id,
            &this.templates,
            this.scim,
            &this.limits,
        );
        if this.head {
            strip_body(&mut response);
        }
        if let Some(after) = this.after.take() {
            after.apply(&mut response);
        }
        if let Some(access) = this.access.take() {
            tracing::info!(
                request_id = %this.id,
                method = %access.method,
                path = access.uri.path(),
                status = response.status().as_u16(),
                micros = u64::try_from(access.started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "served"
            );
        }
        Poll::Ready(response)
    }
}

/// The [`ApiError`] parked in `response`, or the catalog code a stray error response stands
/// for.
fn parked(response: &mut Response) -> Option<ApiError> {
    response
        .extensions_mut()
        .remove::<ApiError>()
        .or_else(|| stray(response.status()))
}

/// Renders `error` in place of `response` (what [`parked`] found, or the guard's refusal);
/// adds the rate-limit fields `limits` and sets `x-request-id`.
///
/// Header order: a rendered error's own fields, then what inner layers put on the response it
/// replaces, then the rate-limit fields; any other response keeps its fields, then gets the
/// rate-limit fields and the request id.
fn finish(
    mut response: Response,
    error: Option<ApiError>,
    id: &RequestId,
    templates: &ErrorTemplates,
    scim: bool,
    limits: &RateLimitStatus,
) -> Response {
    // Everything under /scim/v2 answers in the SCIM envelope (RFC 7644 section 3.12), whichever
    // shared extractor or guard produced the error.
    let error = error.map(|error| if scim { error.scim() } else { error });
    let mut response = match error {
        Some(error) => {
            let mut rendered = error.render_with(templates, id.as_str());
            // Keep what inner layers added (the SCIM layer's rate-limit fields), but not the
            // description of the body that is being replaced. Most parked errors carry none.
            for (name, value) in response.headers() {
                if ![CONTENT_TYPE, CONTENT_LENGTH, ALLOW].contains(name)
                    && !rendered.headers().contains_key(name)
                {
                    rendered.headers_mut().append(name.clone(), value.clone());
                }
            }
            limits.apply(rendered.headers_mut());
            rendered
        }
        None => {
            limits.apply(response.headers_mut());
            response
        }
    };
    if !response.headers().contains_key(&X_REQUEST_ID_NAME)
        && let Ok(value) = HeaderValue::from_str(id.as_str())
    {
        response.headers_mut().insert(X_REQUEST_ID_NAME, value);
    }
    response
}

/// What HTTP asks of a response to HEAD (RFC 9110 section 9.3.2): the header fields of the GET
/// response, `Content-Length` included, and no content. The route table answers HEAD with
/// the GET route; this drops the body of whatever it answered, rendered errors included.
fn strip_body(response: &mut Response) {
    let length = axum::body::HttpBody::size_hint(response.body()).exact();
    if let Some(length) = length.filter(|&n| n > 0) {
        if !response.headers().contains_key(CONTENT_LENGTH) {
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
        *response.body_mut() = axum::body::Body::empty();
    }
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
}
