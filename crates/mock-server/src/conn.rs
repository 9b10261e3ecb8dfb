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

mod reject;
mod tracked;

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

use self::reject::Rejects;
use self::tracked::Tracked;

/// The largest request head (request line and headers) the mock reads; a larger one is
/// answered 400 ValidationError (hyper's 431, see `docs/api.md`). nginx allows 32 KiB.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Timeouts and the limit for client connections (part of [`crate::Config`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connections {
    /// How long a client may take from the first byte of a request head to its end.
    pub header_read_timeout: Duration,
    /// How long a connection may sit with no request in flight and no byte moving.
    pub idle_timeout: Duration,
    /// How many connections may be open at once; at the limit the longest-idle one is closed
    /// for each new one. At least 1.
    pub max_connections: usize,
}

impl Default for Connections {
    /// 10 s to send a head, 30 s idle, 4,096 connections (the binary derives its default
    /// limit from the descriptor limit instead).
    fn default() -> Connections {
        Connections {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_connections: 4096,
        }
    }
}

/// Milliseconds since the first call, plus one (0 means "never" in the atomics below).
fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
}

/// How long a connection asked to close may take to write out what it owes.
const CLOSE_GRACE_MS: u64 = 2000;

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX / 2)
}

/// What the accept loop and a connection's watchdog know about one connection. The IO
/// wrapper ([`Tracked`]) and the service update it; the connection task reads it.
#[derive(Debug)]
pub(crate) struct ConnState {
    /// When a byte last moved, or a request last started or finished ([`now_ms`]).
    last_activity: AtomicU64,
    /// When the first byte of the request head being read arrived; 0 when none is.
    head_started: AtomicU64,
    /// Requests whose handler is running.
    in_flight: AtomicU32,
    /// The accept loop asked this connection to close (once it is idle).
    evicting: AtomicBool,
    /// Wakes the connection task to look at its deadlines again.
    wake: Notify,
}

impl ConnState {
    fn new() -> ConnState {
        ConnState {
            last_activity: AtomicU64::new(now_ms()),
            head_started: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
            evicting: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    /// A byte moved.
    pub(crate) fn touch(&self) {
        self.last_activity.store(now_ms(), Ordering::Relaxed);
    }

    /// Bytes were read; true when they start a request head (no request in flight and none
    /// being read), which starts the header-read clock.
    pub(crate) fn on_read(&self) -> bool {
        let now = now_ms();
        self.last_activity.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_started.load(Ordering::Relaxed) == 0
        {
            self.head_started.store(now, Ordering::Relaxed);
            self.wake.notify_one();
            return true;
        }
        false
    }

    /// Whether a request head is being read.
    pub(crate) fn reading_head(&self) -> bool {
        self.head_started.load(Ordering::Relaxed) != 0
    }

    /// A request reached the app; the returned guard ends it.
    fn enter(self: &Arc<ConnState>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.head_started.store(0, Ordering::Relaxed);
        self.touch();
        Busy(Arc::clone(self))
    }

    fn idle(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
    }

    /// When this connection is to be closed if nothing happens first ([`now_ms`]); `None`
    /// while a request is in flight.
    fn due(&self, limits: &Connections) -> Option<u64> {
        if !self.idle() {
            return None;
        }
        let idle = self
            .last_activity
            .load(Ordering::Relaxed)
            .saturating_add(millis(limits.idle_timeout));
        match self.head_started.load(Ordering::Relaxed) {
            0 => Some(idle),
            started => Some(idle.min(started.saturating_add(millis(limits.header_read_timeout)))),
        }
    }
}

/// A request in flight; dropping it (the handler finished) restarts the idle clock.
struct Busy(Arc<ConnState>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.wake.notify_one();
    }
}

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
    router: Router,
    http: http1::Builder,
    limits: Connections,
    registry: Arc<Registry>,
    rejects: Arc<Rejects>,
}

/// Serves `router` on `listener` under `limits` until `shutdown` completes, then lets every
/// connection finish the request it is serving and waits for all of them. `public_url` is the
/// base of the `type` links in the bodies of hyper's rejections.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    router: Router,
    public_url: &str,
    limits: Connections,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut http = http1::Builder::new();
    // The connection task keeps the header-read timeout itself (hyper's also runs while a
    // keep-alive connection waits for its next request, which is the idle timeout's job).
    http.header_read_timeout(None)
        .max_header_size(MAX_HEAD_BYTES);
    let max = limits.max_connections.max(1);
    let shared = Arc::new(Shared {
        router,
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
    let io = TokioIo::new(Tracked::new(
        stream,
        Arc::clone(&state),
        Arc::clone(&shared.rejects),
    ));
    let router = shared.router.clone();
    let service_state = Arc::clone(&state);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let busy = service_state.enter();
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await;
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
        let sleep = async {
            match due {
                Some(due) => {
                    tokio::time::sleep(Duration::from_millis(due.saturating_sub(now))).await
                }
                // A request in flight: its guard wakes us when it ends.
                None => std::future::pending().await,
            }
        };
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
