//! What the accept loop and a connection's watchdog share: the limits ([`Connections`],
//! [`MAX_HEAD_BYTES`]) and one connection's activity ([`ConnState`]). It imports nothing of the
//! crate, so `crate::state` can hold [`Connections`] in its `Config` without a module cycle.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The largest request head (request line and headers) the mock reads; a larger one is
/// answered 400 ValidationError (hyper's 431, see `docs/api.md`). nginx allows 32 KiB.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;

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
pub(super) fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
}

/// How long a connection asked to close may take to write out what it owes.
pub(super) const CLOSE_GRACE_MS: u64 = 2000;

pub(super) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX / 2)
}

/// What the accept loop and a connection's watchdog know about one connection. The IO
/// wrapper ([`super::tracked::Tracked`]) and the service update it; the connection task reads it.
#[derive(Debug)]
pub(crate) struct ConnState {
    /// When a byte last moved, or a request last started or finished ([`now_ms`]).
    pub(super) last_activity: AtomicU64,
    /// When the first byte of the request head being read arrived; 0 when none is.
    pub(super) head_started: AtomicU64,
    /// Requests whose handler is running.
    pub(super) in_flight: AtomicU32,
    /// The accept loop asked this connection to close (once it is idle).
    pub(super) evicting: AtomicBool,
    /// Wakes the connection task to look at its deadlines again (eviction only; see the loop).
    pub(super) wake: Notify,
}

impl ConnState {
    pub(super) fn new() -> ConnState {
        ConnState {
            last_activity: AtomicU64::new(now_ms()),
            head_started: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
            evicting: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    /// Records that a byte moved now, which restarts the idle timeout.
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
            // No wake-up: the watchdog looks again at least once per header-read timeout,
            // and this head's deadline is no earlier than the one it is sleeping towards.
            self.head_started.store(now, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// Whether a request head is being read.
    pub(crate) fn reading_head(&self) -> bool {
        self.head_started.load(Ordering::Relaxed) != 0
    }

    /// A request reached the app; the returned guard ends it.
    pub(super) fn enter(self: &Arc<ConnState>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.head_started.store(0, Ordering::Relaxed);
        self.touch();
        Busy(Arc::clone(self))
    }

    pub(super) fn idle(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
    }

    /// When this connection is to be closed if nothing happens first ([`now_ms`]); `None`
    /// while a request is in flight.
    pub(super) fn due(&self, limits: &Connections) -> Option<u64> {
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

/// A request in flight; dropping it (the handler finished) restarts the idle clock (the
/// watchdog sees it on its next look, at most a header-read timeout away).
pub(super) struct Busy(Arc<ConnState>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
