//! The in-memory platform: workspaces, users, factors and tokens, built from the seed.
//!
//! [`AppState`] is what every handler gets: an `Arc` around the configuration, the
//! [`Store`] behind a `std::sync::RwLock`, the step-up tokens and the rate limiter. Locks are
//! only taken in short synchronous sections (the guards are `!Send`, so holding one across an
//! `.await` does not compile). [`AppState::reset`] rebuilds everything from the seed.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;

use crate::model::{FactorType, Role, SignInMethod, StepUpPolicy, WorkspaceStatus};
use crate::network::{Allowlist, TrustedProxies};
use crate::openapi::{self, RequestSchemas};
use crate::ratelimit::RateLimiter;
use crate::scim::store::ScimStore;
use crate::seed::{QuotaSeed, RateLimits, Seed, SeedError};
use crate::stepup::StepUps;
use crate::sweep::Sweeper;
use crate::webauthn::Aaguid;
use crate::webhooks::store::Webhooks;

/// How long a session token issued by sign-in lives.
pub const SESSION_TTL: Duration = Duration::from_secs(3600);

/// What the mock is started with.
#[derive(Clone, Debug)]
pub struct Config {
    /// The mock's public base URL (`http://127.0.0.1:8080`): the base of every problem `type`
    /// link and of the OpenAPI `servers` entry. `None` until the listen address is known;
    /// [`crate::serve()`] fills it in, and a state built without one uses `http://127.0.0.1`.
    pub public_url: Option<String>,
    /// The starting state.
    pub seed: Seed,
}

impl Config {
    /// A configuration over `seed` with no public URL yet.
    pub fn new(seed: Seed) -> Config {
        Config {
            public_url: None,
            seed,
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
    /// Binding or serving failed.
    #[error("failed to serve: {0}")]
    Io(#[from] std::io::Error),
}

/// The shared state; cloning is cheap.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What [`AppState`] holds.
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
    limiter: RateLimiter,
    ids: AtomicU64,
    // Plug-in point for the SCIM and webhook stores: add their fields here, build them from
    // `seed.scim` / `seed.webhooks` in `AppState::new`, and rebuild them in `AppState::reset`.
    scim: ScimStore,
    webhooks: Webhooks,
}

/// Workspaces, users and bearer tokens.
///
/// Users are indexed by workspace (ids in order, for paging without a sort) and by
/// lower-cased email within the workspace (sign-in, invitations and SCIM `userName`
/// uniqueness in O(1)). The indexes are private and kept in step by the only methods that
/// add, remove or rename a user.
#[derive(Debug, Default)]
pub struct Store {
    /// Workspaces by id.
    pub workspaces: HashMap<String, Workspace>,
    /// Users by id, across workspaces.
    users: HashMap<String, User>,
    /// Per workspace: user ids in order and ids by lower-cased email.
    by_workspace: HashMap<String, WorkspaceUsers>,
    /// Bearer tokens (long-lived and sessions) by token.
    pub tokens: HashMap<String, Token>,
    /// Lower-cased emails in order, per workspace (SCIM `userName` ranges and scans).
    names: crate::names::NameIndex,
    /// When to drop expired sessions.
    session_sweeper: Option<Sweeper>,
}

/// The user indexes of one workspace.
#[derive(Debug, Default)]
struct WorkspaceUsers {
    ids: BTreeSet<String>,
    by_email: HashMap<String, String>,
}

/// A workspace and its policies.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The id, also the path segment.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Active, suspended or cancelled.
    pub status: WorkspaceStatus,
    /// Accepted sign-in methods.
    pub sign_in: Vec<SignInMethod>,
    /// Whether users need an enrolled factor.
    pub mfa_required: bool,
    /// Which factors a step-up may use.
    pub step_up: StepUpPolicy,
    /// The network allowlist, parsed.
    pub allowlist: Allowlist,
    /// The allowlist as configured, for `GET network-policy`.
    pub allowlist_text: Vec<String>,
    /// Accepted authenticator models; empty means any.
    pub aaguid_allowlist: Vec<Aaguid>,
    /// Quota for session tokens, instead of the default per-token quota.
    pub session_rate_limit: Option<QuotaSeed>,
}

/// A workspace user.
#[derive(Clone, Debug)]
pub struct User {
    /// The id.
    pub id: String,
    /// The workspace id.
    pub workspace: String,
    /// Sign-in email.
    pub email: String,
    /// Password, if password sign-in can succeed.
    pub password: Option<String>,
    /// Admin or member.
    pub role: Role,
    /// Disabled by the identity provider.
    pub disabled: bool,
    /// Enrolled factors.
    pub factors: Vec<Factor>,
}

/// The fields of a [`User`] that may change without touching the store's indexes.
#[derive(Debug)]
pub struct UserMut<'a> {
    /// Password, if password sign-in can succeed.
    pub password: &'a mut Option<String>,
    /// Admin or member.
    pub role: &'a mut Role,
    /// Disabled by the identity provider.
    pub disabled: &'a mut bool,
    /// Enrolled factors.
    pub factors: &'a mut Vec<Factor>,
}

/// An enrolled factor.
#[derive(Clone, Debug)]
pub struct Factor {
    /// The id (`fac_...`).
    pub id: String,
    /// The type.
    pub kind: FactorType,
    /// WebAuthn factors: the authenticator model.
    pub aaguid: Option<Aaguid>,
    /// WebAuthn factors: the attestation format seen at enrolment.
    pub fmt: Option<String>,
}

/// Where a bearer token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Defined by the seed; never expires unless marked expired.
    LongLived,
    /// Issued by sign-in.
    Session,
}

/// A bearer token.
#[derive(Clone, Debug)]
pub struct Token {
    /// The user it authenticates.
    pub user: String,
    /// That user's workspace.
    pub workspace: String,
    /// Long-lived or session.
    pub kind: TokenKind,
    /// When it stops working; `None` never.
    pub expires_at: Option<Instant>,
    /// Marked expired by the seed.
    pub expired: bool,
}

impl Token {
    /// Whether the token has expired at `now`.
    pub fn is_expired(&self, now: Instant) -> bool {
        self.expired || self.expires_at.is_some_and(|at| at <= now)
    }
}

impl Workspace {
    /// Whether the workspace accepts requests at all.
    pub fn is_active(&self) -> bool {
        self.status == WorkspaceStatus::Active
    }
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
        let scim = ScimStore::from_seed(&seed)?;
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
            ids: AtomicU64::new(1),
            scim,
            webhooks,
            seed,
        })))
    }

    /// The public base URL, without a trailing slash.
    pub fn public_url(&self) -> &str {
        &self.0.public_url
    }

    /// The seed the state was built from.
    pub fn seed(&self) -> &Seed {
        &self.0.seed
    }

    /// Proxies whose forwarding headers are believed.
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.0.trusted_proxies
    }

    /// The default rate limits.
    pub fn rate_limits(&self) -> RateLimits {
        self.0.rate_limits
    }

    /// The rate limiter.
    pub fn limiter(&self) -> &RateLimiter {
        &self.0.limiter
    }

    /// The step-up tokens.
    pub fn step_ups(&self) -> &StepUps {
        &self.0.step_ups
    }

    /// SCIM tokens and the SCIM attributes of users (`crate::scim::store`).
    pub fn scim(&self) -> &ScimStore {
        &self.0.scim
    }

    /// Webhook endpoints and their circuits (`crate::webhooks::store`).
    pub fn webhooks(&self) -> &Webhooks {
        &self.0.webhooks
    }

    /// The compiled request-body schemas.
    pub fn schemas(&self) -> &'static RequestSchemas {
        self.0.schemas
    }

    /// The OpenAPI document as served.
    pub fn openapi_document(&self) -> Bytes {
        self.0.openapi.clone()
    }

    /// Reads the store. Do not hold the guard across an `.await` (it does not compile anyway).
    pub fn read(&self) -> RwLockReadGuard<'_, Store> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters to a mock, so a poisoned lock is used as is rather than failing every request.
        self.0.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes the store.
    pub fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.0.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh identifier with `prefix` (`usr_`, `fac_`). Ids are names, not secrets, so a
    /// counter will do; credentials use [`random_token`].
    pub fn next_id(&self, prefix: &str) -> String {
        let n = self.0.ids.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}{n:06}")
    }

    /// Restores the seed: store, step-up tokens, rate-limit windows, SCIM records, webhook
    /// endpoints and the id counter (the first id handed out after a reset is the first one
    /// handed out after start-up).
    ///
    /// Atomic for requests: everything is rebuilt while the core store's write lock is held,
    /// and every request reads the core store first (the lock order is core store, then a
    /// feature's own lock), so no request sees a half-reset mock.
    pub fn reset(&self) {
        let mut store = self.write();
        // The seed was validated when the state was built, so rebuilding cannot fail; keep the
        // current store rather than panic if it somehow does.
        if let Ok(fresh) = Store::from_seed(&self.0.seed) {
            *store = fresh;
        }
        self.0.step_ups.reset(&self.0.seed);
        self.0.limiter.clear();
        self.0.scim.reset();
        self.0.webhooks.reset();
        self.0.ids.store(1, Ordering::Relaxed);
        drop(store);
    }

    /// Whether `ip` may reach `workspace` (true for unknown workspaces: they have no policy).
    pub fn ip_allowed(&self, workspace: &str, ip: IpAddr) -> bool {
        self.read()
            .workspaces
            .get(workspace)
            .is_none_or(|ws| ws.allowlist.contains(ip))
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("public_url", &self.public_url())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Builds the store a seed describes.
    pub fn from_seed(seed: &Seed) -> Result<Store, SeedError> {
        let mut store = Store::default();
        for (id, ws) in &seed.workspaces {
            let allowlist = Allowlist::parse(&ws.allowlist)
                .map_err(|e| SeedError::Invalid(format!("workspaces.{id}.allowlist: {e}")))?;
            store.workspaces.insert(
                id.clone(),
                Workspace {
                    id: id.clone(),
                    name: ws.name.clone(),
                    status: ws.status,
                    sign_in: ws.sign_in.clone(),
                    mfa_required: ws.mfa_required,
                    step_up: ws.step_up,
                    allowlist,
                    allowlist_text: ws.allowlist.clone(),
                    aaguid_allowlist: ws.aaguid_allowlist.clone(),
                    session_rate_limit: ws.session_rate_limit,
                },
            );
        }
        for user in &seed.users {
            let factors = user
                .factors
                .iter()
                .enumerate()
                .map(|(i, f)| Factor {
                    id: format!("fac_{}_{}", user.id.trim_start_matches("usr_"), i + 1),
                    kind: f.kind,
                    aaguid: f.aaguid,
                    fmt: f.kind.is_webauthn().then(|| "packed".to_owned()),
                })
                .collect();
            store.insert_user(User {
                id: user.id.clone(),
                workspace: user.workspace.clone(),
                email: user.email.clone(),
                password: user.password.clone(),
                role: user.role,
                disabled: user.disabled,
                factors,
            });
        }
        for token in &seed.tokens {
            let workspace = store
                .users
                .get(&token.user)
                .map(|u| u.workspace.clone())
                .ok_or_else(|| SeedError::Invalid(format!("token {} has no user", token.token)))?;
            store.tokens.insert(
                token.token.clone(),
                Token {
                    user: token.user.clone(),
                    workspace,
                    kind: TokenKind::LongLived,
                    expires_at: None,
                    expired: token.expired,
                },
            );
        }
        Ok(store)
    }

    /// The user of `workspace` with `email` (ASCII case-insensitive), in O(1).
    pub fn user_by_email(&self, workspace: &str, email: &str) -> Option<&User> {
        let id = self
            .by_workspace
            .get(workspace)?
            .by_email
            .get(&email.to_ascii_lowercase())?;
        self.users.get(id)
    }

    /// Every user, by id.
    pub fn users(&self) -> &HashMap<String, User> {
        &self.users
    }

    /// The user `id`, in any workspace.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.get(id)
    }

    /// The user `id` to update its password, role or disabled flag (not its email: see
    /// [`Store::set_email`]).
    pub fn user_mut(&mut self, id: &str) -> Option<UserMut<'_>> {
        self.users.get_mut(id).map(|user| UserMut {
            password: &mut user.password,
            role: &mut user.role,
            disabled: &mut user.disabled,
            factors: &mut user.factors,
        })
    }

    /// The ids of `workspace`'s users in order, from the first id after `after` (all when
    /// `None`): paging without materialising the workspace.
    pub fn user_ids_in<'a>(
        &'a self,
        workspace: &str,
        after: Option<&str>,
    ) -> impl Iterator<Item = &'a str> + 'a {
        let ids = self.by_workspace.get(workspace).map(|w| &w.ids);
        let after = after.map(str::to_owned);
        ids.into_iter().flat_map(move |ids| {
            let range = match &after {
                Some(after) => ids.range::<String, _>((
                    std::ops::Bound::Excluded(after.clone()),
                    std::ops::Bound::Unbounded,
                )),
                None => ids.range::<String, _>(..),
            };
            range.map(String::as_str)
        })
    }

    /// The ordered index of lower-cased emails.
    pub fn names(&self) -> &crate::names::NameIndex {
        &self.names
    }

    /// The number of users in `workspace`.
    pub fn user_count(&self, workspace: &str) -> usize {
        self.by_workspace.get(workspace).map_or(0, |w| w.ids.len())
    }

    /// Adds (or replaces) a user, keeping the indexes in step.
    pub fn insert_user(&mut self, user: User) {
        self.remove_user(&user.id);
        let index = self.by_workspace.entry(user.workspace.clone()).or_default();
        index.ids.insert(user.id.clone());
        index
            .by_email
            .insert(user.email.to_ascii_lowercase(), user.id.clone());
        self.names.insert(&user.workspace, &user.id, &user.email);
        self.users.insert(user.id.clone(), user);
    }

    /// Removes a user, keeping the indexes in step.
    pub fn remove_user(&mut self, id: &str) -> Option<User> {
        let user = self.users.remove(id)?;
        self.names.remove(&user.workspace, id);
        if let Some(index) = self.by_workspace.get_mut(&user.workspace) {
            index.ids.remove(id);
            let key = user.email.to_ascii_lowercase();
            if index.by_email.get(&key).is_some_and(|owner| owner == id) {
                index.by_email.remove(&key);
            }
        }
        Some(user)
    }

    /// Changes a user's email (SCIM `userName`), keeping the index in step.
    pub fn set_email(&mut self, id: &str, email: String) {
        let Some(user) = self.users.get_mut(id) else {
            return;
        };
        let old = std::mem::replace(&mut user.email, email);
        let new_key = user.email.to_ascii_lowercase();
        let workspace = user.workspace.clone();
        self.names.insert(&workspace, id, &user.email);
        let index = self.by_workspace.entry(workspace).or_default();
        let old_key = old.to_ascii_lowercase();
        if index
            .by_email
            .get(&old_key)
            .is_some_and(|owner| owner == id)
        {
            index.by_email.remove(&old_key);
        }
        index.by_email.insert(new_key, id.to_owned());
    }

    /// Adds a session token, dropping expired sessions at most once per session lifetime
    /// (see [`crate::sweep`]) so a client that signs in in a loop does not grow the map for
    /// ever and a map full of live sessions is not scanned on every sign-in.
    pub fn insert_session(&mut self, token: String, entry: Token) {
        const SWEEP_AT: usize = 4096;
        let now = Instant::now();
        let sweeper = self
            .session_sweeper
            .get_or_insert_with(|| Sweeper::new(SWEEP_AT, SESSION_TTL));
        if sweeper.due(self.tokens.len(), now) {
            self.tokens
                .retain(|_, t| t.kind == TokenKind::LongLived || !t.is_expired(now));
        }
        self.tokens.insert(token, entry);
    }

    /// The user `id` if it belongs to `workspace`; a user of another workspace is as absent as
    /// a missing one.
    pub fn user_in(&self, workspace: &str, id: &str) -> Option<&User> {
        self.users.get(id).filter(|u| u.workspace == workspace)
    }
}

/// A fresh credential (`ses_...`, `su_...`): 128 random bits, so tokens cannot be guessed.
pub fn random_token(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
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
