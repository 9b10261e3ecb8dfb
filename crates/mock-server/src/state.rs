//! [`AppState`]: the in-memory platform every handler gets, and the one module that knows
//! every feature.
//!
//! An `Arc` around the configuration, the core [`Store`] (`crate::store`: workspaces, users,
//! factors, tokens) behind a `std::sync::RwLock`, the step-up tokens, the WebAuthn relying
//! party and its challenges, the rate limiter, the
//! SCIM store and the webhooks. Features import the core store, never this module (a tidy
//! test keeps the module graph one-way); handlers take `AppState`. Locks are only taken in
//! short synchronous sections (the guards are `!Send`, so holding one across an `.await` does
//! not compile). [`AppState::reset`] rebuilds everything from the seed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::body::Bytes;

use crate::ceremony::Challenges;
use crate::harness::Harness;
use crate::model::UserVerification;
use crate::network::TrustedProxies;
use crate::openapi::{self, RequestSchemas};
use crate::ratelimit::RateLimiter;
use crate::scim::store::ScimStore;
use crate::seed::{RateLimits, Seed, SeedError};
use crate::stepup::StepUps;
use crate::store::Store;
use crate::webauthn::verify::RelyingParty;
use crate::webhooks::store::{WebhookError, Webhooks};

/// What the mock is started with.
#[derive(Clone, Debug)]
pub struct Config {
    /// The mock's public base URL (`http://127.0.0.1:8080`): the base of every problem `type`
    /// link and of the OpenAPI `servers` entry. `None` until the listen address is known;
    /// [`crate::serve()`] fills it in, and a state built without one uses `http://127.0.0.1`.
    pub public_url: Option<String>,
    /// The starting state (workspaces, users, tokens, quotas), restored
    /// by every reset.
    pub seed: Seed,
    /// Timeouts and the limit for client connections.
    pub connections: crate::conn::activity::Connections,
    /// Fault rules in force from the start (`--faults`), and again after each reset.
    pub faults: crate::harness::FaultRules,
    /// How many requests the journal keeps (`--journal`); 0 keeps none.
    pub journal: usize,
}

impl Config {
    /// A configuration over `seed` with no public URL yet.
    pub fn new(seed: Seed) -> Config {
        Config {
            public_url: None,
            seed,
            connections: crate::conn::activity::Connections::default(),
            faults: crate::harness::FaultRules::none(),
            journal: 0,
        }
    }

    /// The embedded default seed.
    pub fn embedded() -> Result<Config, Error> {
        Ok(Config::new(Seed::embedded()?))
    }
}

/// Why the mock could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The seed is invalid.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// The embedded OpenAPI document does not compile; a bug in `schemas/openapi.json`.
    #[error("schemas/openapi.json: {0}")]
    OpenApi(String),
    /// `--public-url` is not an absolute http(s) URL.
    #[error("public URL {0:?} is not an absolute http:// or https:// URL")]
    PublicUrl(String),
    /// The webhook store could not be built.
    #[error(transparent)]
    Webhooks(#[from] WebhookError),
    /// Binding or serving failed.
    #[error("failed to serve: {0}")]
    Io(#[from] std::io::Error),
}

/// The shared state; cloning is cheap.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    public_url: String,
    seed: Seed,
    trusted_proxies: TrustedProxies,
    rate_limits: RateLimits,
    schemas: &'static RequestSchemas,
    /// `schemas/openapi.json` with `servers` pointing at this mock, rendered once.
    openapi: Bytes,
    store: RwLock<Store>,
    step_ups: StepUps,
    relying_party: RelyingParty,
    challenges: Challenges,
    limiter: RateLimiter,
    ids: AtomicU64,
    scim: ScimStore,
    webhooks: Webhooks,
    /// Fault rules and the request journal (`crate::harness`).
    harness: Harness,
}

impl AppState {
    /// Builds the state from `config`.
    pub fn new(config: Config) -> Result<AppState, Error> {
        let public_url = match config.public_url {
            Some(url) => normalize_public_url(&url)?,
            None => "http://127.0.0.1".to_owned(),
        };
        let seed = config.seed;
        let schemas = openapi::request_schemas().map_err(Error::OpenApi)?;
        let openapi = openapi::served_document(&public_url).map_err(Error::OpenApi)?;
        let store = Store::from_seed(&seed)?;
        let step_ups = StepUps::from_seed(&seed);
        let webauthn = &seed.webauthn;
        let roots: Vec<_> = webauthn
            .trust_roots
            .iter()
            .map(|r| (r.aaguid, r.certificate.as_str()))
            .collect();
        let relying_party = RelyingParty::new(
            &webauthn.rp_id,
            &webauthn.rp_name,
            webauthn.origins.clone(),
            &roots,
        )
        .map_err(SeedError::Invalid)?;
        let scim = ScimStore::from_seed(&seed);
        let webhooks = Webhooks::from_seed(&seed)?;
        Ok(AppState(Arc::new(Inner {
            trusted_proxies: seed.trusted_proxies()?,
            rate_limits: seed.rate_limits,
            limiter: RateLimiter::new(),
            public_url,
            schemas,
            openapi,
            store: RwLock::new(store),
            step_ups,
            relying_party,
            challenges: Challenges::default(),
            ids: AtomicU64::new(1),
            scim,
            webhooks,
            harness: Harness::new(&config.faults, config.journal),
            seed,
        })))
    }

    /// The public base URL, without a trailing slash.
    pub fn public_url(&self) -> &str {
        &self.0.public_url
    }

    /// Proxies whose forwarding headers are believed.
    pub(crate) fn trusted_proxies(&self) -> &TrustedProxies {
        &self.0.trusted_proxies
    }

    /// The default rate limits.
    pub(crate) fn rate_limits(&self) -> RateLimits {
        self.0.rate_limits
    }

    pub(crate) fn limiter(&self) -> &RateLimiter {
        &self.0.limiter
    }

    pub(crate) fn step_ups(&self) -> &StepUps {
        &self.0.step_ups
    }

    /// The WebAuthn relying party: RP id, origins, attestation trust roots.
    pub(crate) fn relying_party(&self) -> &RelyingParty {
        &self.0.relying_party
    }

    /// The WebAuthn origins of `workspace` (its own, else the relying party's) and whether it
    /// requires user verification.
    pub(crate) fn webauthn_policy(&self, workspace: &str) -> (Vec<String>, bool) {
        let store = self.read();
        let ws = store.workspaces.get(workspace);
        let origins = ws
            .map(|w| w.webauthn_origins.clone())
            .filter(|o| !o.is_empty())
            .unwrap_or_else(|| self.0.relying_party.origins.clone());
        let uv = ws.is_some_and(|w| w.user_verification == UserVerification::Required);
        (origins, uv)
    }

    /// Live WebAuthn challenges (`crate::ceremony`).
    pub(crate) fn challenges(&self) -> &Challenges {
        &self.0.challenges
    }

    /// SCIM tokens and the SCIM attributes of users (`crate::scim::store`).
    pub(crate) fn scim(&self) -> &ScimStore {
        &self.0.scim
    }

    /// Webhook endpoints and their circuits (`crate::webhooks::store`).
    pub(crate) fn webhooks(&self) -> &Webhooks {
        &self.0.webhooks
    }

    /// Fault rules and the request journal.
    pub(crate) fn harness(&self) -> &Harness {
        &self.0.harness
    }

    /// The compiled request-body schemas.
    pub(crate) fn schemas(&self) -> &'static RequestSchemas {
        self.0.schemas
    }

    /// The OpenAPI document as served.
    pub(crate) fn openapi_document(&self) -> Bytes {
        self.0.openapi.clone()
    }

    /// Reads the store. Do not hold the guard across an `.await` (it does not compile anyway).
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Store> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters to a mock, so a poisoned lock is used as is rather than failing every request.
        self.0.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.0.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh identifier with `prefix` (`usr_`, `fac_`). Ids are names, not secrets, so a
    /// counter will do; credentials use [`crate::store::random_token`].
    pub(crate) fn next_id(&self, prefix: &str) -> String {
        let n = self.0.ids.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}{n:06}")
    }

    /// Restores the seed: store, step-up tokens, rate-limit windows, SCIM records, webhook
    /// endpoints, the fault rules (to `--faults`), the journal (emptied) and the id counter (the first id handed out after a reset is the first one
    /// handed out after start-up).
    ///
    /// Atomic for requests: everything is rebuilt while the core store's write lock is held,
    /// and every request reads the core store first (the lock order is core store, then a
    /// feature's own lock), so no request sees a half-reset mock.
    pub(crate) fn reset(&self) {
        let mut store = self.write();
        // The seed was validated when the state was built, so rebuilding cannot fail; keep the
        // current store rather than panic if it somehow does.
        if let Ok(fresh) = Store::from_seed(&self.0.seed) {
            *store = fresh;
        }
        self.0.step_ups.reset(&self.0.seed);
        self.0.challenges.reset();
        self.0.limiter.clear();
        self.0.scim.reset();
        self.0.webhooks.reset();
        self.0.ids.store(1, Ordering::Relaxed);
        self.0.harness.reset();
        drop(store);
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("public_url", &self.public_url())
            .finish_non_exhaustive()
    }
}

/// Checks and normalizes `--public-url`: absolute http(s), no trailing slash.
fn normalize_public_url(url: &str) -> Result<String, Error> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['#', '?', ' ']) => Ok(trimmed.to_owned()),
        _ => Err(Error::PublicUrl(url.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_normalized_and_checked() {
        assert_eq!(
            normalize_public_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_public_url("https://mock.example/base").unwrap(),
            "https://mock.example/base"
        );
        for bad in ["127.0.0.1:8080", "ftp://x", "http://", "http://a#b"] {
            assert!(normalize_public_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reset_restores_the_seed() {
        let state = AppState::new(Config::embedded().unwrap()).unwrap();
        state.write().remove_user("usr_acme_member");
        assert!(state.read().user("usr_acme_member").is_none());
        state.reset();
        assert!(state.read().user("usr_acme_member").is_some());
    }
}
