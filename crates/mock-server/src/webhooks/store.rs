//! Webhook endpoints: registration, enabling, secret rotation and the circuit breaker.
//!
//! The circuit breaker is a small state machine per endpoint, driven by [`Endpoint::admit`]
//! before a delivery and [`Endpoint::record`] after it:
//!
//! - **closed**: deliveries go out; each failure adds one to `consecutive_failures`, a success
//!   resets it; reaching `circuit_threshold` opens the circuit for `circuit_cooldown_secs`.
//! - **open**: nothing is sent; a test send answers CIRCUIT_OPEN with the seconds left.
//! - **half-open** (the cooldown has passed): the next delivery is a trial; success closes the
//!   circuit, failure opens it again for another cooldown.
//!
//! Enabling an endpoint closes its circuit and forgets its failures. Outcomes of deliveries
//! that were in flight across an enable are dropped (the `generation` check), so a stale
//! failure cannot count against the freshly reset circuit.
//!
//! Deliveries in flight are bounded per workspace: at most [`MAX_IN_FLIGHT`] at once. When an
//! event would start one more (a client creating users in a loop while its receiver hangs
//! until the delivery timeout), the workspace's oldest delivery is abandoned (its task aborted,
//! its outcome not recorded, a warning logged) rather than letting tasks and their messages
//! pile up. `POST /admin/reset` abandons every delivery in flight, so none records its outcome
//! on an endpoint registered after the reset under a reused id.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use tokio::task::AbortHandle;

use super::signing::Secret;
pub(crate) use crate::seed::WebhookSettings;
use crate::seed::{Seed, SeedError};

/// The event type of a test send; every endpoint receives it, subscribed or not.
pub(crate) const TEST_EVENT: &str = "webhook.test";

/// Deliveries in flight per workspace; one more abandons the oldest (see the module docs).
pub(crate) const MAX_IN_FLIGHT: usize = 64;

/// One registered endpoint.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    /// The id (`whk_000012`).
    pub id: String,
    /// The id of the workspace that registered it; only that workspace
    /// sees it or gets its events.
    pub workspace: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Subscribed event types.
    pub events: Vec<String>,
    /// Whether the owner has it enabled.
    pub enabled: bool,
    /// The current signing secret.
    pub secret: Secret,
    /// The secret before the last rotation, and until when it still signs.
    pub previous: Option<(Secret, Instant)>,
    /// Failed deliveries since the last success or reset.
    pub consecutive_failures: u32,
    /// Set while the circuit is open or half-open: when the cooldown ends.
    pub open_until: Option<Instant>,
    /// Bumped by every enable, so outcomes of older deliveries are ignored.
    pub generation: u64,
    /// When it was registered.
    pub created: SystemTime,
}

/// Where an endpoint's circuit stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CircuitState {
    /// Deliveries go out.
    Closed,
    /// Deliveries are refused until the cooldown ends.
    Open,
    /// The cooldown has ended; the next delivery is a trial.
    HalfOpen,
}

/// Why a delivery was not attempted (the routes turn it into WEBHOOK_DISABLED or
/// CIRCUIT_OPEN).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    /// The owner disabled the endpoint.
    #[error("the endpoint is disabled")]
    Disabled,
    /// The circuit is open; retry after this many seconds.
    #[error("the endpoint's circuit is open for {retry_after} s more")]
    CircuitOpen {
        /// Whole seconds until the cooldown ends, at least 1.
        retry_after: u64,
    },
}

/// What a delivery attempt needs, copied out so no lock is held while it runs.
#[derive(Clone, Debug)]
pub(crate) struct Admitted {
    pub id: String,
    pub url: String,
    /// Secrets to sign with: the current one, then the previous one during its grace period.
    pub secrets: Vec<Secret>,
    /// The endpoint's generation when the attempt was admitted.
    pub generation: u64,
}

impl Endpoint {
    /// The circuit at `now`.
    pub(crate) fn circuit(&self, now: Instant) -> CircuitState {
        match self.open_until {
            None => CircuitState::Closed,
            Some(until) if now < until => CircuitState::Open,
            Some(_) => CircuitState::HalfOpen,
        }
    }

    /// Whether a delivery may go out at `now`, and what it needs.
    pub(crate) fn admit(&self, now: Instant) -> Result<Admitted, Refusal> {
        if !self.enabled {
            return Err(Refusal::Disabled);
        }
        if let Some(retry_after) = self.open_for(now) {
            return Err(Refusal::CircuitOpen { retry_after });
        }
        let mut secrets = vec![self.secret.clone()];
        if let Some((previous, until)) = &self.previous
            && now < *until
        {
            secrets.push(previous.clone());
        }
        Ok(Admitted {
            id: self.id.clone(),
            url: self.url.clone(),
            secrets,
            generation: self.generation,
        })
    }

    /// Seconds until an open circuit lets a trial delivery through; `None` unless open.
    pub(crate) fn open_for(&self, now: Instant) -> Option<u64> {
        match (self.circuit(now), self.open_until) {
            (CircuitState::Open, Some(until)) => Some(ceil_secs(until - now)),
            _ => None,
        }
    }

    /// Counts a delivery's outcome: a success closes the circuit, a failure counts toward
    /// opening it (and reopens a half-open one).
    pub(crate) fn record(&mut self, success: bool, now: Instant, settings: &WebhookSettings) {
        if success {
            self.consecutive_failures = 0;
            self.open_until = None;
            return;
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        if self.consecutive_failures >= settings.circuit_threshold.get() {
            self.open_until = Some(now + Duration::from_secs(settings.circuit_cooldown_secs.get()));
        }
    }

    /// Enables the endpoint and closes its circuit.
    pub(crate) fn enable(&mut self) {
        self.enabled = true;
        self.consecutive_failures = 0;
        self.open_until = None;
        self.generation += 1;
    }
}

/// Seconds, rounded up, and at least 1 so that a client told to wait does wait.
fn ceil_secs(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

/// Why the webhook store could not be built.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The seed's `[webhooks]` section is invalid.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// The HTTP client could not be built (no TLS backend, ...).
    #[error("failed to build the webhook HTTP client: {0}")]
    Client(String),
}

/// Every endpoint, the settings, and the HTTP client deliveries go out on.
#[derive(Debug)]
pub(crate) struct Webhooks {
    settings: WebhookSettings,
    client: reqwest::Client,
    endpoints: Mutex<HashMap<String, Endpoint>>,
    in_flight: Mutex<InFlight>,
}

/// The delivery tasks in flight, per workspace, oldest first, each with its ticket.
#[derive(Debug, Default)]
struct InFlight {
    next_ticket: u64,
    by_workspace: HashMap<String, VecDeque<(u64, AbortHandle)>>,
}

impl Webhooks {
    /// Builds the store from the seed's `[webhooks]` section.
    ///
    /// The client follows no redirects (a redirected delivery is a failed one, as with common
    /// webhook senders, and the signature was made for the registered URL), ignores proxy
    /// environment variables (a mock delivering to loopback must not be routed elsewhere),
    /// and times out after `delivery_timeout_ms`, connection included.
    pub(crate) fn from_seed(seed: &Seed) -> Result<Webhooks, WebhookError> {
        let settings = seed.webhooks;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(settings.delivery_timeout())
            .connect_timeout(settings.delivery_timeout())
            .user_agent(concat!("mock-server-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WebhookError::Client(e.to_string()))?;
        Ok(Webhooks {
            settings,
            client,
            endpoints: Mutex::new(HashMap::new()),
            in_flight: Mutex::default(),
        })
    }

    pub(crate) fn settings(&self) -> &WebhookSettings {
        &self.settings
    }

    /// The client deliveries use.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Forgets every endpoint and abandons every delivery in flight.
    pub(crate) fn reset(&self) {
        self.lock().clear();
        let mut in_flight = self.lock_in_flight();
        for (_, task) in in_flight.by_workspace.drain().flat_map(|(_, tasks)| tasks) {
            task.abort();
        }
    }

    /// Starts a delivery task for `workspace` with `spawn` (given the ticket to pass to
    /// [`Webhooks::finished`] when it ends), abandoning the workspace's oldest delivery when
    /// [`MAX_IN_FLIGHT`] are already in flight.
    ///
    /// The task is spawned while the bookkeeping is locked, so it cannot report itself
    /// finished before it is recorded as started.
    pub(crate) fn track(&self, workspace: &str, spawn: impl FnOnce(u64) -> AbortHandle) {
        let mut in_flight = self.lock_in_flight();
        let ticket = in_flight.next_ticket;
        in_flight.next_ticket += 1;
        let task = spawn(ticket);
        let tasks = in_flight
            .by_workspace
            .entry(workspace.to_owned())
            .or_default();
        tasks.push_back((ticket, task));
        if tasks.len() > MAX_IN_FLIGHT
            && let Some((_, oldest)) = tasks.pop_front()
        {
            oldest.abort();
            tracing::warn!(
                workspace,
                max_in_flight = MAX_IN_FLIGHT,
                "webhook delivery abandoned: too many deliveries in flight for the workspace"
            );
        }
    }

    /// Forgets delivery `ticket` of `workspace`, which has ended.
    pub(crate) fn finished(&self, workspace: &str, ticket: u64) {
        let mut in_flight = self.lock_in_flight();
        if let Some(tasks) = in_flight.by_workspace.get_mut(workspace) {
            // At most `MAX_IN_FLIGHT` entries, and usually the first.
            if let Some(at) = tasks.iter().position(|(t, _)| *t == ticket) {
                tasks.remove(at);
            }
            if tasks.is_empty() {
                in_flight.by_workspace.remove(workspace);
            }
        }
    }

    /// How many deliveries of `workspace` are in flight.
    #[cfg(test)]
    pub(crate) fn in_flight(&self, workspace: &str) -> usize {
        self.lock_in_flight()
            .by_workspace
            .get(workspace)
            .map_or(0, VecDeque::len)
    }

    /// Registers an endpoint.
    pub(crate) fn insert(&self, endpoint: Endpoint) {
        self.lock().insert(endpoint.id.clone(), endpoint);
    }

    /// The workspace's endpoints, ordered by id.
    pub(crate) fn list(&self, workspace: &str) -> Vec<Endpoint> {
        let mut out: Vec<Endpoint> = self
            .lock()
            .values()
            .filter(|e| e.workspace == workspace)
            .cloned()
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Endpoint `id` of `workspace` (another workspace's is as absent as a missing one).
    pub(crate) fn get(&self, workspace: &str, id: &str) -> Option<Endpoint> {
        self.lock()
            .get(id)
            .filter(|e| e.workspace == workspace)
            .cloned()
    }

    /// Changes endpoint `id` of `workspace` and returns it as changed.
    pub(crate) fn update(
        &self,
        workspace: &str,
        id: &str,
        change: impl FnOnce(&mut Endpoint),
    ) -> Option<Endpoint> {
        let mut endpoints = self.lock();
        let endpoint = endpoints.get_mut(id).filter(|e| e.workspace == workspace)?;
        change(endpoint);
        Some(endpoint.clone())
    }

    /// Removes endpoint `id` of `workspace`; whether it was there.
    pub(crate) fn remove(&self, workspace: &str, id: &str) -> bool {
        let mut endpoints = self.lock();
        if endpoints.get(id).is_some_and(|e| e.workspace == workspace) {
            endpoints.remove(id);
            true
        } else {
            false
        }
    }

    /// Admits a delivery to endpoint `id` (see [`Endpoint::admit`]); `None` if it is gone.
    pub(crate) fn admit(
        &self,
        workspace: &str,
        id: &str,
        now: Instant,
    ) -> Option<Result<Admitted, Refusal>> {
        self.lock()
            .get(id)
            .filter(|e| e.workspace == workspace)
            .map(|e| e.admit(now))
    }

    /// Endpoints of `workspace` subscribed to `event_type` that admit a delivery now.
    pub(crate) fn admit_subscribers(
        &self,
        workspace: &str,
        event_type: &str,
        now: Instant,
    ) -> Vec<Admitted> {
        let mut out: Vec<Admitted> = self
            .lock()
            .values()
            .filter(|e| e.workspace == workspace && e.events.iter().any(|t| t == event_type))
            .filter_map(|e| e.admit(now).ok())
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Records the outcome of an admitted delivery, unless the endpoint was reset or removed
    /// meanwhile; returns the endpoint as it now stands.
    pub(crate) fn record(
        &self,
        admitted: &Admitted,
        success: bool,
        now: Instant,
    ) -> Option<Endpoint> {
        let mut endpoints = self.lock();
        let endpoint = endpoints.get_mut(&admitted.id)?;
        if endpoint.generation == admitted.generation {
            endpoint.record(success, now, &self.settings);
        }
        Some(endpoint.clone())
    }

    fn lock_in_flight(&self) -> MutexGuard<'_, InFlight> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Endpoint>> {
        self.endpoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint {
            id: "whk_1".into(),
            workspace: "acme".into(),
            url: "http://127.0.0.1:9/hook".into(),
            events: vec!["user.created".into()],
            enabled: true,
            secret: Secret::generate(),
            previous: None,
            consecutive_failures: 0,
            open_until: None,
            generation: 0,
            created: SystemTime::now(),
        }
    }

    #[test]
    fn a_disabled_endpoint_still_reports_how_long_its_circuit_stays_open() {
        let settings = WebhookSettings::default();
        let mut e = endpoint();
        let t0 = Instant::now();
        assert_eq!(e.open_for(t0), None);
        for _ in 0..settings.circuit_threshold.get() {
            e.record(false, t0, &settings);
        }
        e.enabled = false;
        assert_eq!(e.admit(t0).unwrap_err(), Refusal::Disabled);
        assert_eq!(e.open_for(t0 + Duration::from_secs(10)), Some(50));
    }

    #[test]
    fn the_circuit_opens_stays_open_goes_half_open_and_resets() {
        let settings = WebhookSettings::default();
        let mut e = endpoint();
        let t0 = Instant::now();
        for _ in 0..2 {
            e.record(false, t0, &settings);
            assert_eq!(e.circuit(t0), CircuitState::Closed);
        }
        e.record(false, t0, &settings);
        assert_eq!(e.circuit(t0), CircuitState::Open);
        assert_eq!(
            e.admit(t0 + Duration::from_millis(500)).unwrap_err(),
            Refusal::CircuitOpen { retry_after: 60 }
        );
        assert_eq!(
            e.admit(t0 + Duration::from_secs(59)).unwrap_err(),
            Refusal::CircuitOpen { retry_after: 1 }
        );
        // Half-open: one trial goes out; its failure reopens the circuit at once.
        let t1 = t0 + Duration::from_secs(60);
        assert_eq!(e.circuit(t1), CircuitState::HalfOpen);
        assert!(e.admit(t1).is_ok());
        e.record(false, t1, &settings);
        assert_eq!(e.circuit(t1), CircuitState::Open);
        // A successful trial closes it.
        let t2 = t1 + Duration::from_secs(60);
        e.record(true, t2, &settings);
        assert_eq!(
            (e.circuit(t2), e.consecutive_failures),
            (CircuitState::Closed, 0)
        );
        // Enable resets an open circuit.
        for _ in 0..3 {
            e.record(false, t2, &settings);
        }
        e.enabled = false;
        assert_eq!(e.admit(t2).unwrap_err(), Refusal::Disabled);
        e.enable();
        assert!(e.admit(t2).is_ok());
        assert_eq!(e.consecutive_failures, 0);
    }

    #[test]
    fn outcomes_from_before_an_enable_are_dropped() {
        let seed = Seed::embedded().unwrap();
        let hooks = Webhooks::from_seed(&seed).unwrap();
        hooks.insert(endpoint());
        let now = Instant::now();
        let admitted = hooks.admit("acme", "whk_1", now).unwrap().unwrap();
        hooks.update("acme", "whk_1", Endpoint::enable);
        let after = hooks.record(&admitted, false, now).unwrap();
        assert_eq!(after.consecutive_failures, 0);
        assert!(hooks.admit("pwonly", "whk_1", now).is_none());
    }

    #[test]
    fn rotation_signs_with_both_secrets_during_the_grace_period() {
        let mut e = endpoint();
        let now = Instant::now();
        e.previous = Some((Secret::generate(), now + Duration::from_secs(10)));
        assert_eq!(e.admit(now).unwrap().secrets.len(), 2);
        assert_eq!(
            e.admit(now + Duration::from_secs(10))
                .unwrap()
                .secrets
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn deliveries_in_flight_are_capped_per_workspace_dropping_the_oldest() {
        let hooks = Webhooks::from_seed(&Seed::embedded().unwrap()).unwrap();
        let mut tasks = Vec::new();
        let mut spawn_hanging = |workspace: &str| {
            hooks.track(workspace, |_| {
                let task = tokio::spawn(std::future::pending::<()>());
                let abort = task.abort_handle();
                tasks.push(task);
                abort
            });
        };
        for _ in 0..MAX_IN_FLIGHT + 1 {
            spawn_hanging("acme");
        }
        spawn_hanging("globex");
        assert_eq!(
            (hooks.in_flight("acme"), hooks.in_flight("globex")),
            (MAX_IN_FLIGHT, 1)
        );
        // The oldest was abandoned; the next one still runs.
        let mut tasks = tasks.into_iter();
        assert!(tasks.next().unwrap().await.unwrap_err().is_cancelled());
        let second = tasks.next().unwrap();
        assert!(!second.is_finished());
        // A finished delivery is forgotten; a reset abandons the rest.
        hooks.finished("acme", 2);
        assert_eq!(hooks.in_flight("acme"), MAX_IN_FLIGHT - 1);
        hooks.reset();
        assert_eq!((hooks.in_flight("acme"), hooks.in_flight("globex")), (0, 0));
        assert!(second.await.unwrap_err().is_cancelled());
    }
}
