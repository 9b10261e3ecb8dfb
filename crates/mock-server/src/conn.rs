//! The mock's own accept loop: every connection gets a header-read timeout and an idle
//! timeout, the number of open connections is capped, and hyper's own rejections (a request
//! line or header it cannot parse, a head over [`MAX_HEAD_BYTES`]) carry a catalog code in a
//! problem-details body instead of an empty one.
//!
//! `axum::serve` has none of these: it keeps an idle or slowloris connection open for as long
//! as the client likes, so a few thousand of them exhaust the descriptor limit and every other
//! client times out.
//!
//! - **Header-read timeout**: from the first byte of a request head to its end. A client that
//!   trickles its headers is cut off when it runs out.
//! - **Idle timeout**: a connection with no request in flight and no byte moving in either
//!   direction for this long is closed (a fresh connection that sends nothing, too). A request
//!   in flight (the handler running) is never cut off.
//! - **Connection limit**: when [`Connections::max_connections`] are open, the next accept
//!   first closes the connection that has been idle longest (as nginx reuses keep-alive
//!   connections), so a flood of idle connections cannot lock out other clients; only when
//!   every connection has a request in flight does the listener wait for one to finish. Running
//!   out of descriptors (`EMFILE`) is handled the same way.
//!
//! Each connection task watches its own deadlines ([`ConnState::due`]) next to the hyper
//! connection future, so a timeout or an eviction closes the socket at once (the client reads
//! EOF). Shutdown stops accepting, lets every connection finish the request it is serving, and
//! waits for all of them.

pub(crate) mod activity;
mod reject;
mod tracked;

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

pub use self::activity::Connections;
pub(crate) use self::activity::MAX_HEAD_BYTES;
use self::activity::{CLOSE_GRACE_MS, ConnState, millis, now_ms};
use self::reject::Rejects;
use self::tracked::{Breaking, Tracked};
use crate::app::App;
use crate::harness::Disconnect;

/// The open connections.
#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Arc<ConnState>>>,
    next_id: AtomicU64,
    /// Notified whenever a connection ends (`notify_waiters`: wait on a `Notified` created
    /// before looking at the count).
    freed: Notify,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ConnState>>> {
        // The map stays consistent whatever panicked while holding it.
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    fn register(self: &Arc<Registry>, state: Arc<ConnState>) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, state);
        Registration {
            registry: Arc::clone(self),
            id,
        }
    }

    /// Asks the connection idle longest (no request in flight, not already asked) to close;
    /// false when there is none.
    fn evict_idlest(&self) -> bool {
        let conns = self.lock();
        let idlest = conns
            .values()
            .filter(|c| c.idle() && !c.evicting.load(Ordering::Relaxed))
            .min_by_key(|c| c.last_activity.load(Ordering::Relaxed));
        match idlest {
            Some(conn) => {
                conn.evicting.store(true, Ordering::Relaxed);
                conn.wake.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Removes a connection from the registry when its task ends.
struct Registration {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
        // Only waiters that exist now: a stored permit would let the accept loop evict a
        // second connection before the first one is gone.
        self.registry.freed.notify_waiters();
    }
}

/// What every connection task shares.
struct Shared {
    app: App,
    http: http1::Builder,
    limits: Connections,
    registry: Arc<Registry>,
    rejects: Arc<Rejects>,
}

/// Serves `app` on `listener` under `limits` until `shutdown` completes, then lets every
/// connection finish the request it is serving and waits for all of them. `public_url` is the
/// base of the `type` links in the bodies of hyper's rejections.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    app: App,
    public_url: &str,
    limits: Connections,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut http = http1::Builder::new();
    // The connection task keeps the header-read timeout itself (hyper's also runs while a
    // keep-alive connection waits for its next request, which is the idle timeout's job).
    // Head and body are copied into one buffer and sent with one plain `send` rather than a
    // two-part `writev`: for the mock's small responses that costs the server 7-16% less CPU
    // per request on loopback (`cargo xtask bench-mock`; README "Benchmarks").
    http.header_read_timeout(None)
        .max_header_size(MAX_HEAD_BYTES)
        .writev(false);
    let max = limits.max_connections.max(1);
    let shared = Arc::new(Shared {
        app,
        http,
        limits,
        registry: Arc::default(),
        rejects: Arc::new(Rejects::new(public_url)),
    });
    let (stop_tx, stop_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);

    'accept: loop {
        // Room for one more: close the longest-idle connection, or wait for one to end.
        while shared.registry.len() >= max {
            let freed = shared.registry.freed.notified();
            let evicted = shared.registry.evict_idlest();
            let pause = if evicted { 1000 } else { 20 };
            tokio::select! {
                biased;
                () = &mut shutdown => break 'accept,
                () = freed => {}
                () = tokio::time::sleep(Duration::from_millis(pause)) => {}
            }
        }
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break 'accept,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of descriptors (EMFILE/ENFILE) or memory: make room as at the limit.
                tracing::warn!("accept failed: {e}; closing the longest-idle connection");
                let freed = shared.registry.freed.notified();
                let pause = if shared.registry.evict_idlest() {
                    1000
                } else {
                    50
                };
                tokio::select! {
                    biased;
                    () = &mut shutdown => break 'accept,
                    () = freed => {}
                    () = tokio::time::sleep(Duration::from_millis(pause)) => {}
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        // Registered before the task runs, so a burst of accepts cannot overshoot the limit.
        let state = Arc::new(ConnState::new());
        let registration = shared.registry.register(Arc::clone(&state));
        tokio::spawn(connection(
            stream,
            peer,
            state,
            registration,
            Arc::clone(&shared),
            stop_rx.clone(),
        ));
    }

    drop(listener);
    drop(stop_rx);
    let _ = stop_tx.send(());
    loop {
        let freed = shared.registry.freed.notified();
        if shared.registry.len() == 0 {
            break;
        }
        freed.await;
    }
    Ok(())
}

/// Errors that concern one connection only (the client went away before the accept).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves one connection until it ends, times out, is evicted, or the server shuts down.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    state: Arc<ConnState>,
    _registration: Registration,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<()>,
) {
    // How a fault rule asks this connection to break (`crate::harness::Disconnect`): set by
    // the service when the response carries one, acted on by the socket wrapper when hyper
    // writes that response.
    let breaking = Arc::new(Breaking::default());
    let io = TokioIo::new(Tracked::new(
        stream,
        Arc::clone(&state),
        Arc::clone(&shared.rejects),
        Arc::clone(&breaking),
    ));
    let app = shared.app.clone();
    let service_state = Arc::clone(&state);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let busy = service_state.enter();
        let response = app.serve(request.map(Body::new));
        let breaking = Arc::clone(&breaking);
        async move {
            let response = response.await;
            if let Ok(response) = &response
                && let Some(&disconnect) = response.extensions().get::<Disconnect>()
            {
                breaking.set(disconnect);
            }
            drop(busy);
            response
        }
    });
    let mut conn = pin!(shared.http.serve_connection(io, service));
    let limits = &shared.limits;
    let mut stopping = false;
    // Once closing: the time by which the connection is dropped if hyper has not closed it.
    let mut closing: Option<u64> = None;
    loop {
        // Created before the state is read, so a wake in between is not lost.
        let wake = state.wake.notified();
        let now = now_ms();
        let due = match closing {
            Some(hard) if hard <= now => return,
            Some(hard) => Some(hard),
            None => {
                let expired = state.due(limits).is_some_and(|due| due <= now);
                let asked = stopping || state.evicting.load(Ordering::Relaxed);
                if expired || (asked && state.idle()) {
                    if state.reading_head() {
                        // No response is owed for a head still being read: close at once.
                        tracing::debug!(%peer, "closing a connection in the middle of a head");
                        return;
                    }
                    // hyper closes an idle connection at once, and one still writing a
                    // response when that is out.
                    conn.as_mut().graceful_shutdown();
                    closing = Some(now + CLOSE_GRACE_MS);
                    continue;
                }
                state.due(limits)
            }
        };
        // Look again at the deadline, or after one header-read timeout at the latest: a head
        // that starts later, or a request that ends, moves the deadline no earlier than that,
        // so neither needs to wake this task (two wake-ups per request saved). Only an
        // eviction or shutdown does.
        let next_look = now.saturating_add(millis(limits.header_read_timeout).max(1));
        let until = due.map_or(next_look, |due| due.min(next_look));
        let sleep = tokio::time::sleep(Duration::from_millis(until.saturating_sub(now)));
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, "connection ended: {e}");
                }
                return;
            }
            _ = stop.changed(), if !stopping => {
                // Keep-alive off: a request being served is finished, then the connection
                // closes; idle ones close on the next turn.
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = wake => {}
            () = sleep => {}
        }
    }
}
