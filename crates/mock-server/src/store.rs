//! The core store: workspaces, users, factors and bearer tokens, built from the seed.
//!
//! It knows no feature: step-ups, SCIM, webhooks and rate limits keep their own stores and
//! import this one, and `crate::state::AppState` (the one module that knows every feature)
//! holds it behind a `std::sync::RwLock`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::expiring::ExpiringMap;
use crate::fast_map::FastMap;
use crate::model::{
    FactorType, Role, SignInMethod, StepUpPolicy, UserVerification, WorkspaceStatus,
};
use crate::names::NameIndex;
use crate::network::Allowlist;
use crate::seed::{FactorSeed, QuotaSeed, Seed, SeedError};
use crate::webauthn::{Aaguid, PublicKey, SeededCredential};

/// How long a session token issued by sign-in lives.
pub(crate) const SESSION_TTL: Duration = Duration::from_secs(3600);

/// Workspaces, users and bearer tokens.
///
/// Users are indexed by workspace (ids in order, for paging without a sort) and by
/// lower-cased email within the workspace (sign-in, invitations and SCIM `userName`
/// uniqueness in O(1)). The indexes are private and kept in step by the only methods that
/// add, remove or rename a user.
#[derive(Debug)]
pub(crate) struct Store {
    /// Workspaces by id.
    pub workspaces: FastMap<String, Workspace>,
    /// Users by id, across workspaces.
    users: FastMap<String, User>,
    /// Per workspace: user ids in order and ids by lower-cased email.
    by_workspace: FastMap<String, WorkspaceUsers>,
    /// Bearer tokens (long-lived and sessions) by token; sessions are dropped after they
    /// expire (see [`Store::insert_session`]).
    pub tokens: ExpiringMap<String, Token>,
    /// Lower-cased emails in order, per workspace (SCIM `userName` ranges and scans).
    names: NameIndex,
}

impl Default for Store {
    fn default() -> Store {
        Store {
            workspaces: FastMap::default(),
            users: FastMap::default(),
            by_workspace: FastMap::default(),
            tokens: ExpiringMap::new(SESSION_SWEEP_AT, SESSION_TTL),
            names: NameIndex::default(),
        }
    }
}

/// Expired sessions are swept once there are this many tokens, at most once per
/// [`SESSION_TTL`].
const SESSION_SWEEP_AT: usize = 4096;

/// The user indexes of one workspace.
#[derive(Debug, Default)]
struct WorkspaceUsers {
    ids: BTreeSet<String>,
    by_email: FastMap<String, String>,
    /// The stamp of the last change of the workspace's users (see [`Store::users_changed`]).
    changed: u64,
}

impl WorkspaceUsers {
    fn touch(&mut self) {
        // Process-wide, so a stamp is never handed out twice, not even across a reset that
        // rebuilds the store: a feature store that remembers one can trust it.
        static STAMPS: AtomicU64 = AtomicU64::new(1);
        self.changed = STAMPS.fetch_add(1, Ordering::Relaxed);
    }
}

/// A workspace and its policies.
#[derive(Clone, Debug)]
pub(crate) struct Workspace {
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
    /// Whether WebAuthn ceremonies must verify the user.
    pub user_verification: UserVerification,
    /// WebAuthn origins of this workspace; empty means the relying party's.
    pub webauthn_origins: Vec<String>,
}

/// A workspace user.
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub id: String,
    pub workspace: String,
    /// Sign-in email.
    pub email: String,
    /// Password, if password sign-in can succeed.
    pub password: Option<String>,
    /// Admin or member.
    pub role: Role,
    /// Disabled by the identity provider.
    pub disabled: bool,
    pub factors: Vec<Factor>,
}

/// The fields of a [`User`] that may change without touching the store's indexes.
#[derive(Debug)]
pub(crate) struct UserMut<'a> {
    /// Password, if password sign-in can succeed.
    pub password: &'a mut Option<String>,
    /// Disabled by the identity provider.
    pub disabled: &'a mut bool,
    pub factors: &'a mut Vec<Factor>,
}

/// An enrolled factor.
#[derive(Clone, Debug)]
pub(crate) struct Factor {
    /// The id (`fac_...`).
    pub id: String,
    pub kind: FactorType,
    /// When it was enrolled.
    pub created_at: SystemTime,
    /// WebAuthn factors: the authenticator model.
    pub aaguid: Option<Aaguid>,
    /// WebAuthn factors: the attestation format seen at enrolment.
    pub fmt: Option<String>,
    /// TOTP factors: the secret and the replay guard.
    pub totp: Option<TotpState>,
    /// WebAuthn factors: the credential.
    pub credential: Option<Credential>,
}

/// A TOTP factor's secret and the last time step accepted (a code of that step or an older
/// one is a replay).
#[derive(Clone, Debug)]
pub(crate) struct TotpState {
    pub secret: Vec<u8>,
    pub last_step: Option<u64>,
}

/// A WebAuthn credential.
#[derive(Clone, Debug)]
pub(crate) struct Credential {
    /// The credential id the authenticator chose: raw bytes, base64url on
    /// the wire.
    pub id: Vec<u8>,
    /// Its ES256 public key.
    pub public_key: PublicKey,
    /// The signature counter last accepted.
    pub sign_count: u32,
}

/// Where a bearer token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// Defined by the seed; never expires unless marked expired.
    LongLived,
    /// Issued by sign-in.
    Session,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    /// The user it authenticates (shared with every [`crate::auth::Caller`] it resolves to,
    /// so authenticating copies no string).
    pub user: Arc<str>,
    /// That user's workspace (shared likewise).
    pub workspace: Arc<str>,
    /// Long-lived or session.
    pub kind: TokenKind,
    /// When it stops working; `None` never.
    pub expires_at: Option<Instant>,
    /// Marked expired by the seed.
    pub expired: bool,
}

impl Token {
    /// Whether the token has expired. The clock is read only for a token that can expire
    /// (a session), not for the long-lived ones.
    pub(crate) fn is_expired(&self) -> bool {
        self.expired || self.expires_at.is_some_and(|at| at <= Instant::now())
    }
}

impl Workspace {
    /// Whether the workspace accepts requests at all.
    pub(crate) fn is_active(&self) -> bool {
        self.status == WorkspaceStatus::Active
    }
}

impl Store {
    /// Builds the store a seed describes.
    pub(crate) fn from_seed(seed: &Seed) -> Result<Store, SeedError> {
        let mut store = Store::default();
        let created_at = SystemTime::now();
        for (id, ws) in &seed.workspaces {
            let allowlist = Allowlist::parse(&ws.allowlist)
                .map_err(|e| SeedError::Invalid(format!("workspaces.{id}.allowlist: {e}")))?;
            store.workspaces.insert(
                id.clone(),
                Workspace {
                    status: ws.status,
                    sign_in: ws.sign_in.clone(),
                    mfa_required: ws.mfa_required,
                    step_up: ws.step_up,
                    allowlist,
                    allowlist_text: ws.allowlist.clone(),
                    aaguid_allowlist: ws.aaguid_allowlist.clone(),
                    session_rate_limit: ws.session_rate_limit,
                    user_verification: ws.user_verification,
                    webauthn_origins: ws.webauthn_origins.clone(),
                },
            );
        }
        for user in &seed.users {
            let factors = user
                .factors
                .iter()
                .enumerate()
                .map(|(i, f)| factor_from_seed(&user.id, i, f, created_at))
                .collect::<Result<Vec<_>, _>>()?;
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
                    user: token.user.as_str().into(),
                    workspace: workspace.into(),
                    kind: TokenKind::LongLived,
                    expires_at: None,
                    expired: token.expired,
                },
                None,
            );
        }
        Ok(store)
    }

    /// The user of `workspace` with `email` (ASCII case-insensitive), in O(1).
    pub(crate) fn user_by_email(&self, workspace: &str, email: &str) -> Option<&User> {
        let id = self
            .by_workspace
            .get(workspace)?
            .by_email
            .get(&email.to_ascii_lowercase())?;
        self.users.get(id)
    }

    /// The user `id`, in any workspace.
    pub(crate) fn user(&self, id: &str) -> Option<&User> {
        self.users.get(id)
    }

    /// The user `id` to update its password, disabled flag or factors (not its email: see
    /// [`Store::set_email`]).
    pub(crate) fn user_mut(&mut self, id: &str) -> Option<UserMut<'_>> {
        self.users.get_mut(id).map(|user| UserMut {
            password: &mut user.password,
            disabled: &mut user.disabled,
            factors: &mut user.factors,
        })
    }

    /// The ids of `workspace`'s users in order, from the first id after `after` (all when
    /// `None`): paging without materialising the workspace.
    pub(crate) fn user_ids_in<'a>(
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
    pub(crate) fn names(&self) -> &NameIndex {
        &self.names
    }

    /// A stamp that changes whenever a user is added to or removed from `workspace`, and
    /// never comes back (0: no user was ever added): a feature store that keeps something per
    /// user knows it is still in step when the stamp is the one it last saw.
    pub(crate) fn users_changed(&self, workspace: &str) -> u64 {
        self.by_workspace.get(workspace).map_or(0, |w| w.changed)
    }

    /// The number of users in `workspace`.
    pub(crate) fn user_count(&self, workspace: &str) -> usize {
        self.by_workspace.get(workspace).map_or(0, |w| w.ids.len())
    }

    /// Adds (or replaces) a user, keeping the indexes in step.
    pub(crate) fn insert_user(&mut self, user: User) {
        self.remove_user(&user.id);
        let index = self.by_workspace.entry(user.workspace.clone()).or_default();
        index.touch();
        index.ids.insert(user.id.clone());
        index
            .by_email
            .insert(user.email.to_ascii_lowercase(), user.id.clone());
        self.names.insert(&user.workspace, &user.id, &user.email);
        self.users.insert(user.id.clone(), user);
    }

    /// Removes a user, keeping the indexes in step.
    pub(crate) fn remove_user(&mut self, id: &str) -> Option<User> {
        let user = self.users.remove(id)?;
        self.names.remove(&user.workspace, id);
        if let Some(index) = self.by_workspace.get_mut(&user.workspace) {
            index.touch();
            index.ids.remove(id);
            let key = user.email.to_ascii_lowercase();
            if index.by_email.get(&key).is_some_and(|owner| owner == id) {
                index.by_email.remove(&key);
            }
        }
        Some(user)
    }

    /// Changes a user's email (SCIM `userName`), keeping the index in step.
    pub(crate) fn set_email(&mut self, id: &str, email: String) {
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

    /// Adds a session token, to be dropped once it expires: expired sessions are swept at
    /// most once per session lifetime (see [`crate::expiring`]), so a client that signs in in
    /// a loop does not grow the map for ever and a map full of live sessions is not scanned
    /// on every sign-in.
    pub(crate) fn insert_session(&mut self, token: String, entry: Token) {
        let deadline = entry.expires_at;
        self.tokens.insert(token, entry, deadline);
    }

    /// The user `id` if it belongs to `workspace`; a user of another workspace is as absent as
    /// a missing one.
    pub(crate) fn user_in(&self, workspace: &str, id: &str) -> Option<&User> {
        self.users.get(id).filter(|u| u.workspace == workspace)
    }
}

/// A fresh credential (`ses_...`, `su_...`): 128 random bits, so tokens cannot be guessed.
/// A seeded factor, with its TOTP secret or WebAuthn credential decoded (the seed was checked,
/// so a failure here is reported like any other inconsistent seed).
fn factor_from_seed(
    user: &str,
    index: usize,
    seed: &FactorSeed,
    created_at: SystemTime,
) -> Result<Factor, SeedError> {
    let invalid = |e: String| SeedError::Invalid(format!("user {user} factor {}: {e}", index + 1));
    let mut factor = Factor {
        id: format!("fac_{}_{}", user.trim_start_matches("usr_"), index + 1),
        kind: seed.kind,
        created_at,
        aaguid: None,
        fmt: None,
        totp: None,
        credential: None,
    };
    if seed.kind.is_webauthn() {
        let credential =
            SeededCredential::decode(seed.credential_id.as_deref(), seed.public_key.as_deref())
                .map_err(invalid)?;
        factor.aaguid = Some(seed.aaguid.unwrap_or(Aaguid::ZERO));
        factor.fmt = Some(seed.fmt.clone().unwrap_or_else(|| "packed".to_owned()));
        factor.credential = Some(Credential {
            id: credential.id,
            public_key: credential.public_key,
            sign_count: seed.sign_count,
        });
    } else {
        let secret = seed.secret.as_deref().unwrap_or_default();
        let secret = crate::totp::decode_secret(secret).map_err(|e| invalid(e.to_string()))?;
        factor.totp = Some(TotpState {
            secret,
            last_step: None,
        });
    }
    Ok(factor)
}

impl Store {
    /// Whether any user holds a WebAuthn credential with this id.
    pub(crate) fn credential_registered(&self, id: &[u8]) -> bool {
        self.users.values().any(|u| {
            u.factors
                .iter()
                .any(|f| f.credential.as_ref().is_some_and(|c| c.id == id))
        })
    }
}

pub(crate) fn random_token(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_expires_at_its_deadline_or_when_seeded_expired() {
        let token = |expires_at, expired| Token {
            user: "usr_acme_admin".into(),
            workspace: "acme".into(),
            kind: TokenKind::Session,
            expires_at,
            expired,
        };
        let now = Instant::now();
        assert!(token(Some(now), false).is_expired());
        assert!(!token(Some(now + SESSION_TTL), false).is_expired());
        assert!(!token(None, false).is_expired());
        assert!(token(None, true).is_expired());
        assert!(token(Some(now + SESSION_TTL), true).is_expired());
    }

    #[test]
    fn expired_sessions_are_swept_once_per_session_lifetime() {
        let mut store = Store::from_seed(&Seed::embedded().unwrap()).unwrap();
        let long_lived = store.tokens.len();
        let session = |expires_at| Token {
            user: "usr_acme_admin".into(),
            workspace: "acme".into(),
            kind: TokenKind::Session,
            expires_at: Some(expires_at),
            expired: false,
        };
        let now = Instant::now();
        // Sessions that have already expired, up to the threshold: no sweep yet.
        for i in long_lived..SESSION_SWEEP_AT {
            store.insert_session(format!("ses_old{i}"), session(now));
        }
        assert_eq!(
            (store.tokens.len(), store.tokens.sweeps()),
            (SESSION_SWEEP_AT, 0)
        );
        // The next sign-in sweeps the expired sessions, keeping the seed's tokens.
        store.insert_session("ses_live".into(), session(now + SESSION_TTL));
        assert_eq!(
            (store.tokens.len(), store.tokens.sweeps()),
            (long_lived + 1, 1)
        );
        // However many sessions follow within a lifetime, the map is not scanned again.
        for i in 0..SESSION_SWEEP_AT * 2 {
            store.insert_session(format!("ses_new{i}"), session(now));
        }
        assert_eq!(store.tokens.sweeps(), 1);
    }
}
