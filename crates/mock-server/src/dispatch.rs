//! Routing: the route table [`ROUTES`] in a `matchit` tree (the matcher axum's own router
//! uses), each request handed to its route's axum handler.
//!
//! The handlers and their extractors are axum's, called through [`axum::handler::Handler`];
//! only the routing around them is the mock's own. `axum::Router` was measured on the mock's
//! hottest path (`cargo xtask bench-mock`, STEP_UP_REQUIRED, README "Benchmarks"): its
//! per-route boxed services, its method routers and the path parameters it copies into an
//! `Arc<str>` per name and value cost the server more than the mock's own checks and
//! rendering together (the mock served about 0.82 of a bare axum handler's requests through
//! it and about 0.92 with the same handler called directly). Here a match costs one lookup in
//! the tree and one small extension holding where each parameter sits in the path;
//! [`crate::extract::PathParams`] reads them from there.
//!
//! What `axum::Router` did that the table does too: HEAD is answered by the GET route (the
//! request-context layer drops the body and keeps its length), a path or method no route
//! serves is NotFound (the catalog has no 405), and the SCIM routes run their own guard
//! ([`crate::scim::routes::admit`]) first, whose rate-limit fields go on whatever is answered.

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::Method;

use crate::error::ApiError;
use crate::extract::{MAX_PARAMS, RouteMatch};
use crate::ratelimit::RateLimitStatus;
use crate::routes::{HandlerFuture, ROUTES, Route, Scope};
use crate::scim;
use crate::state::AppState;

/// The parameter names of a path template, in order (unused ones empty).
type Names = [&'static str; MAX_PARAMS];

/// [`ROUTES`] ready to route, with the state every handler gets.
#[derive(Clone)]
pub(crate) struct RouteTable(Arc<Table>);

struct Table {
    /// Each path template with the routes (one per method) that serve it and its parameter
    /// names.
    tree: matchit::Router<(Vec<&'static Route>, Names)>,
    state: AppState,
}

impl std::fmt::Debug for RouteTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteTable").finish_non_exhaustive()
    }
}

impl RouteTable {
    /// The table of [`ROUTES`] over `state`. Two templates that overlap (which matchit
    /// refuses, as axum's router does) are a bug in the static table, which every test that
    /// builds the app would show at once.
    pub(crate) fn new(state: AppState) -> RouteTable {
        let mut by_path: BTreeMap<&'static str, Vec<&'static Route>> = BTreeMap::new();
        for route in ROUTES {
            by_path.entry(route.path).or_default().push(route);
        }
        let mut tree = matchit::Router::new();
        for (path, routes) in by_path {
            let mut names = Names::default();
            for (slot, name) in names.iter_mut().zip(param_names(path)) {
                *slot = name;
            }
            if let Err(e) = tree.insert(path, (routes, names)) {
                panic!("the route table has overlapping paths at {path}: {e}");
            }
        }
        RouteTable(Arc::new(Table { tree, state }))
    }

    /// The route serving `method` on `path`, and where its parameters sit in `path`.
    pub(crate) fn find(&self, method: &Method, path: &str) -> Option<(&'static Route, RouteMatch)> {
        let matched = self.0.tree.at(path).ok()?;
        // HEAD is answered as GET; the request-context layer drops the body.
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let (routes, names) = matched.value;
        let route = routes
            .iter()
            .copied()
            .find(|route| route.verb.method() == *method)?;
        let mut found = RouteMatch::default();
        for (name, (_, value)) in names.iter().zip(matched.params.iter()) {
            found.push(name, within(path, value)?);
        }
        // A template with more parameters than `MAX_PARAMS` (a test rules it out) is no match.
        (found.params().len() == matched.params.len()).then_some((route, found))
    }

    /// The state every handler gets.
    pub(crate) fn state(&self) -> &AppState {
        &self.0.state
    }

    /// Routes `request` to its handler (NotFound when no route serves it).
    pub(crate) fn route(&self, mut request: Request) -> RouteFuture {
        let Some((route, found)) = self.find(request.method(), request.uri().path()) else {
            return RouteFuture::answered(ApiError::unknown_route().into_response(), None);
        };
        request.extensions_mut().insert(found);
        let state = &self.0.state;
        let limits = match route.scope {
            Scope::Public | Scope::Workspace => None,
            Scope::Scim => match scim::routes::admit(state, &mut request) {
                (limits, Ok(())) => Some(limits),
                (limits, Err(error)) => {
                    return RouteFuture::answered(error.into_response(), Some(limits));
                }
            },
        };
        RouteFuture {
            inner: Inner::Running((route.handler)(request, state.clone())),
            limits,
        }
    }
}

/// Where `part`, a slice of `whole`, sits in it.
fn within(whole: &str, part: &str) -> Option<Range<usize>> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = start + part.len();
    (end <= whole.len()).then_some(start..end)
}

/// The parameter names of a path template, in order: `{workspace}` gives `workspace`.
fn param_names(template: &'static str) -> impl Iterator<Item = &'static str> {
    template
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

/// The response future of [`RouteTable::route`].
pub(crate) struct RouteFuture {
    inner: Inner,
    /// Rate-limit fields to add to the response (the SCIM guard's).
    limits: Option<RateLimitStatus>,
}

enum Inner {
    Running(HandlerFuture),
    Answered(Option<Response>),
}

impl RouteFuture {
    fn answered(response: Response, limits: Option<RateLimitStatus>) -> RouteFuture {
        RouteFuture {
            inner: Inner::Answered(Some(response)),
            limits,
        }
    }
}

impl std::fmt::Debug for RouteFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteFuture").finish_non_exhaustive()
    }
}

impl Future for RouteFuture {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut response = match &mut this.inner {
            Inner::Running(handler) => ready!(handler.as_mut().poll(cx)),
            Inner::Answered(response) => response.take().unwrap_or_default(),
        };
        if let Some(limits) = &this.limits {
            limits.apply(response.headers_mut());
        }
        Poll::Ready(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        RouteTable::new(AppState::new(crate::Config::embedded().unwrap()).unwrap())
    }

    /// The parameters of `method path` as the table reads them.
    fn params(table: &RouteTable, method: Method, path: &str) -> Option<Vec<(String, String)>> {
        let (route, found) = table.find(&method, path)?;
        Some(
            param_names(route.path)
                .map(|name| {
                    let range = found.param(name).unwrap();
                    (name.to_owned(), path[range].to_owned())
                })
                .collect(),
        )
    }

    #[test]
    fn every_route_is_found_by_its_own_method_and_template() {
        let table = table();
        for route in ROUTES {
            let path = route.path.replace('{', "x").replace('}', "");
            let found = table.find(&route.verb.method(), &path);
            let (served, found) = found.unwrap_or_else(|| panic!("{route:?} not found at {path}"));
            assert_eq!(served.operation_id, route.operation_id, "{path}");
            assert!(param_names(route.path).count() <= MAX_PARAMS, "{route:?}");
            assert_eq!(found.params().len(), param_names(route.path).count());
        }
    }

    #[test]
    fn parameters_are_read_where_they_sit() {
        let table = table();
        assert_eq!(
            params(&table, Method::DELETE, "/v1/workspaces/acme/users/usr_1"),
            Some(vec![
                ("workspace".to_owned(), "acme".to_owned()),
                ("user_id".to_owned(), "usr_1".to_owned()),
            ])
        );
        // An empty segment inside the path is an empty parameter (as `auth::path_workspace`
        // reads it: a workspace that exists nowhere).
        assert_eq!(
            params(&table, Method::GET, "/v1/workspaces//users"),
            Some(vec![("workspace".to_owned(), String::new())])
        );
        // Escapes are left as they are; `PathParams` decodes them.
        assert_eq!(
            params(&table, Method::GET, "/scim/v2/Users/a%20b"),
            Some(vec![("id".to_owned(), "a%20b".to_owned())])
        );
        // A static segment wins over a parameter.
        let (served, _) = table.find(&Method::POST, "/scim/v2/Users/.search").unwrap();
        assert_eq!(served.operation_id, "scimSearchUsers");
    }

    #[test]
    fn head_is_answered_by_get_and_other_misses_are_none() {
        let table = table();
        let (head, _) = table.find(&Method::HEAD, "/healthz").unwrap();
        assert_eq!(head.operation_id, "getHealth");
        // A method the path does not serve, an unknown path, a trailing slash, an empty
        // parameter.
        assert!(table.find(&Method::POST, "/healthz").is_none());
        assert!(table.find(&Method::OPTIONS, "/healthz").is_none());
        assert!(table.find(&Method::GET, "/v1/no/such/route").is_none());
        assert!(table.find(&Method::GET, "/healthz/").is_none());
        assert!(table.find(&Method::GET, "/scim/v2/Users/").is_none());
        assert!(
            table
                .find(&Method::DELETE, "/v1/workspaces/acme/users/usr_1/extra")
                .is_none()
        );
    }

    #[test]
    fn within_gives_a_slice_s_place() {
        let whole = "/a/bc/d";
        assert_eq!(within(whole, &whole[3..5]), Some(3..5));
        assert_eq!(within(whole, &whole[7..]), Some(7..7));
        assert_eq!(within(&whole[3..], whole), None);
    }
}
