//! The app: the route table ([`crate::dispatch::RouteTable`] over [`crate::routes::ROUTES`],
//! NotFound for unknown routes and methods) inside the request-context layer, which also runs
//! the workspace guard before the table sees the request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use tower::Service;

use crate::context::{RequestContext, RequestContextFuture};
use crate::dispatch::RouteTable;
use crate::state::AppState;

/// The whole mock as a tower service, what [`app()`] returns: the request-context layer
/// around the route table. Cheap to clone (it shares the state); drive it with
/// `tower::ServiceExt::oneshot` or serve it with [`crate::serve()`].
///
/// The layer wraps the table from the outside: a request the workspace guard refuses is
/// never routed.
#[derive(Clone, Debug)]
pub struct App(RequestContext);

/// The response future of [`App`].
pub struct AppFuture(RequestContextFuture);

impl std::fmt::Debug for AppFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppFuture").finish_non_exhaustive()
    }
}

impl Service<Request> for App {
    type Response = Response;
    type Error = Infallible;
    type Future = AppFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> AppFuture {
        self.serve(request)
    }
}

impl App {
    /// Serves `request`, as `Service::call` does but through `&self`, so a connection needs
    /// no copy of the app per request.
    pub(crate) fn serve(&self, request: Request) -> AppFuture {
        AppFuture(self.0.serve(request))
    }
}

impl Future for AppFuture {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.get_mut().0).poll(cx).map(Ok)
    }
}

/// The whole app over `state`.
pub fn app(state: AppState) -> App {
    App(RequestContext::new(RouteTable::new(state)))
}

/// The context layer's log lines, seen through the whole app.
#[cfg(test)]
mod tests {
    use super::*;

    /// A `fmt` subscriber at `level` writing into a buffer.
    fn capture(
        level: tracing::Level,
    ) -> (
        impl tracing::Subscriber,
        std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    ) {
        #[derive(Clone)]
        struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = Buffer(std::sync::Arc::clone(&buffer));
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (subscriber, buffer)
    }

    /// Sends one unauthenticated request through the whole app under `level`; returns the
    /// response's request id and the log.
    fn logged(level: tracing::Level) -> (String, String) {
        use tower::ServiceExt;
        let (subscriber, buffer) = capture(level);
        let state = AppState::new(crate::Config::embedded().unwrap()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let response = tracing::subscriber::with_default(subscriber, || {
            runtime.block_on(
                app(state).oneshot(
                    Request::get("/v1/workspaces/acme/users")
                        .body(axum::body::Body::empty())
                        .unwrap(),
                ),
            )
        })
        .unwrap();
        let id = response.headers()[crate::error::X_REQUEST_ID]
            .to_str()
            .unwrap()
            .to_owned();
        let log = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
        (id, log)
    }

    #[test]
    fn one_access_line_per_request_at_info() {
        let (id, log) = logged(tracing::Level::INFO);
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 1, "{log}");
        let line = lines[0];
        assert!(line.contains(" INFO "), "{line}");
        assert!(line.contains("served"), "{line}");
        for field in [
            format!("request_id={id}"),
            "method=GET".to_owned(),
            "path=\"/v1/workspaces/acme/users\"".to_owned(),
            "status=401".to_owned(),
            "micros=".to_owned(),
        ] {
            assert!(line.contains(&field), "{field} missing in {line}");
        }
    }

    #[test]
    fn the_request_span_carries_the_id_at_debug_only() {
        let (id, log) = logged(tracing::Level::DEBUG);
        assert!(
            log.lines()
                .any(|l| l.contains("served") && l.contains(&format!("request{{request_id={id}"))),
            "{log}"
        );
        let (_, log) = logged(tracing::Level::WARN);
        assert_eq!(log, "");
    }
}
