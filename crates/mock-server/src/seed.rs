//! The seed: the state the mock starts with and returns to on `POST /admin/reset`.
//!
//! The format is TOML (`fixtures/seed.toml` is the default, embedded in the binary). It
//! describes the same conformance fixtures a staging environment is asked to provide:
//! workspaces with their policies, users with their factors, long-lived bearer tokens and a
//! few prepared step-up tokens, so scenarios need no sign-in ceremony. [`Seed::parse`] checks
//! every cross-reference, so a bad seed fails at start-up, never on a request.

use std::collections::{BTreeMap, HashSet};
use std::num::{NonZeroU32, NonZeroU64};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::model::{
    FactorType, Purpose, Role, SignInMethod, StepUpPolicy, UserVerification, WorkspaceStatus,
    is_b64token,
};
use crate::network::{Allowlist, TrustedProxies};
use crate::webauthn::Aaguid;

/// The embedded default seed, `fixtures/seed.toml`.
pub const DEFAULT_SEED: &str = include_str!("../../../fixtures/seed.toml");

/// Why a seed was rejected.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file is not valid TOML or does not have the seed's shape.
    ///
    /// Not a `#[source]`: the message already holds the TOML error, and a report that walks
    /// the source chain would print it twice.
    #[error("seed is not valid: {0}")]
    Syntax(toml::de::Error),
    /// A cross-reference or value is wrong; the message names the entry.
    #[error("seed is inconsistent: {0}")]
    Invalid(String),
}

impl From<toml::de::Error> for SeedError {
    fn from(error: toml::de::Error) -> SeedError {
        SeedError::Syntax(error)
    }
}

/// The whole seed file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Peers whose `Forwarded` / `X-Forwarded-For` headers are believed (CIDRs or addresses).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Default rate limits.
    #[serde(default)]
    pub rate_limits: RateLimits,
    /// Workspaces by id (the `{workspace}` path segment).
    pub(crate) workspaces: BTreeMap<String, WorkspaceSeed>,
    /// Users of every workspace.
    #[serde(default)]
    pub(crate) users: Vec<UserSeed>,
    /// Long-lived bearer tokens.
    #[serde(default)]
    pub(crate) tokens: Vec<TokenSeed>,
    /// Prepared step-up tokens, so scenarios can show STEP_UP_REUSED and
    /// PHISHING_RESISTANT_REQUIRED without a ceremony.
    #[serde(default)]
    pub(crate) step_up_tokens: Vec<StepUpSeed>,
    /// SCIM fixtures (`[scim]`).
    #[serde(default)]
    pub(crate) scim: ScimSeed,
    /// Webhook settings (`[webhooks]`).
    #[serde(default)]
    pub webhooks: WebhookSettings,
    /// The WebAuthn relying party and attestation trust roots (`[webauthn]`).
    #[serde(default)]
    pub(crate) webauthn: WebauthnSeed,
}

/// The `[webauthn]` section of the seed: the relying party every workspace's ceremonies use.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct WebauthnSeed {
    /// The RP id (a registrable domain); authenticators scope credentials to it.
    pub rp_id: String,
    /// The RP name shown by authenticators.
    pub rp_name: String,
    /// The origins `clientDataJSON.origin` may name, unless a workspace lists its own.
    pub origins: Vec<String>,
    /// Attestation trust anchors per authenticator model.
    pub trust_roots: Vec<TrustRootSeed>,
}

impl Default for WebauthnSeed {
    fn default() -> WebauthnSeed {
        WebauthnSeed {
            rp_id: "platform.example".to_owned(),
            rp_name: "Platform".to_owned(),
            origins: vec!["https://platform.example".to_owned()],
            trust_roots: Vec::new(),
        }
    }
}

/// One attestation trust anchor: a root certificate for one authenticator model.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrustRootSeed {
    /// The authenticator model the root vouches for.
    pub aaguid: Aaguid,
    /// The root certificate, DER, base64url.
    pub certificate: String,
}

/// The `[scim]` section of the seed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScimSeed {
    /// SCIM bearer tokens, each good for one workspace.
    #[serde(default)]
    pub tokens: Vec<ScimTokenSeed>,
}

/// One SCIM bearer token; the spans let a cross-reference error name its line.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScimTokenSeed {
    /// The token (`scim_acme`).
    pub token: Spanned<String>,
    /// The workspace it provisions.
    pub workspace: Spanned<String>,
}

/// The `[webhooks]` section of the seed; every member has a default. Zero is refused by the
/// types (with the line, as any other type error of the seed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// Consecutive failed deliveries that open an endpoint's circuit.
    pub circuit_threshold: NonZeroU32,
    /// How long one delivery may take, connection included, in milliseconds.
    pub delivery_timeout_ms: NonZeroU64,
    /// How long an open circuit refuses deliveries before a trial, in seconds.
    pub circuit_cooldown_secs: NonZeroU64,
    /// How long the previous secret still signs after a rotation, in seconds.
    pub rotation_grace_secs: u64,
}

impl Default for WebhookSettings {
    fn default() -> WebhookSettings {
        WebhookSettings {
            circuit_threshold: NonZeroU32::new(3).unwrap_or(NonZeroU32::MIN),
            delivery_timeout_ms: NonZeroU64::new(2000).unwrap_or(NonZeroU64::MIN),
            circuit_cooldown_secs: NonZeroU64::new(60).unwrap_or(NonZeroU64::MIN),
            rotation_grace_secs: 24 * 60 * 60,
        }
    }
}

impl WebhookSettings {
    pub(crate) fn delivery_timeout(&self) -> Duration {
        Duration::from_millis(self.delivery_timeout_ms.get())
    }
}

/// Fixed-window limits; a quota of 0 means unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Requests per window per bearer token.
    pub per_token: u32,
    /// Requests per window per client address.
    pub per_address: u32,
    /// The window length in seconds.
    pub window_secs: u64,
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits {
            per_token: 1000,
            per_address: 10_000,
            window_secs: 60,
        }
    }
}

/// A rate limit that replaces the default for some tokens (a workspace's
/// `session_rate_limit`): `quota` requests per `window_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuotaSeed {
    /// Requests per window.
    pub quota: u32,
    /// The window length in seconds.
    pub window_secs: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkspaceSeed {
    /// Display name; required, though nothing shows it yet.
    #[expect(dead_code, reason = "part of the seed format (`deny_unknown_fields`)")]
    pub name: String,
    /// Active, suspended or cancelled.
    #[serde(default)]
    pub status: WorkspaceStatus,
    /// Accepted sign-in methods.
    #[serde(default = "default_sign_in")]
    pub sign_in: Vec<SignInMethod>,
    /// Whether every user needs an enrolled factor (MFA_REQUIRED otherwise).
    #[serde(default)]
    pub mfa_required: bool,
    /// Which factors a step-up may use.
    #[serde(default)]
    pub step_up: StepUpPolicy,
    /// Network allowlist; empty means no restriction.
    #[serde(default)]
    pub allowlist: Vec<String>,
    /// Accepted authenticator models; empty means any.
    #[serde(default)]
    pub aaguid_allowlist: Vec<Aaguid>,
    /// Per-token quota for session tokens issued by sign-in (long-lived tokens keep the default).
    #[serde(default)]
    pub session_rate_limit: Option<QuotaSeed>,
    /// Whether WebAuthn ceremonies must verify the user (UV) or only their presence.
    #[serde(default)]
    pub user_verification: UserVerification,
    /// Origins for this workspace's WebAuthn ceremonies; empty means `[webauthn] origins`.
    #[serde(default)]
    pub webauthn_origins: Vec<String>,
}

fn default_sign_in() -> Vec<SignInMethod> {
    vec![SignInMethod::Password, SignInMethod::Sso]
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserSeed {
    /// Fixed id (`usr_acme_member`), so scenarios can name it.
    pub id: String,
    pub workspace: String,
    /// Sign-in email, unique within the workspace.
    pub email: String,
    /// Password for `password` sign-in; absent means password sign-in always fails.
    #[serde(default)]
    pub password: Option<String>,
    /// Admin or member.
    pub role: Role,
    /// Marked disabled by the identity provider (ACCOUNT_DISABLED).
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub factors: Vec<FactorSeed>,
}

/// One enrolled factor.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FactorSeed {
    #[serde(rename = "type")]
    pub kind: FactorType,
    /// TOTP: the shared secret, base32 (RFC 4648); required.
    #[serde(default)]
    pub secret: Option<String>,
    /// WebAuthn: the authenticator model.
    #[serde(default)]
    pub aaguid: Option<Aaguid>,
    /// WebAuthn: the attestation format it was registered with (default `packed`).
    #[serde(default)]
    pub fmt: Option<String>,
    /// WebAuthn: the credential id, base64url; required.
    #[serde(default)]
    pub credential_id: Option<String>,
    /// WebAuthn: the credential public key, a COSE_Key (EC2, P-256, ES256), base64url; required.
    #[serde(default)]
    pub public_key: Option<String>,
    /// WebAuthn: the signature counter last seen.
    #[serde(default)]
    pub sign_count: u32,
}

impl FactorSeed {
    /// Checks that the factor has what its type needs (a TOTP secret; a WebAuthn credential).
    fn check(&self) -> Result<(), String> {
        match self.kind {
            FactorType::Totp => {
                let secret = self
                    .secret
                    .as_deref()
                    .ok_or("a TOTP factor needs its `secret`")?;
                crate::totp::decode_secret(secret).map_err(|e| e.to_string())?;
            }
            FactorType::Passkey | FactorType::SecurityKey => {
                if self.secret.is_some() {
                    return Err("a WebAuthn factor has no `secret`".into());
                }
                crate::webauthn::SeededCredential::decode(
                    self.credential_id.as_deref(),
                    self.public_key.as_deref(),
                )?;
            }
        }
        Ok(())
    }
}

/// One long-lived bearer token.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenSeed {
    /// The token itself (`tok_acme_admin`).
    pub token: String,
    /// The user id it authenticates.
    pub user: String,
    /// Already expired (Unauthorized with `invalid_token`).
    #[serde(default)]
    pub expired: bool,
}

/// One prepared step-up token; it never expires.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepUpSeed {
    /// The token itself (`su_acme_spent`).
    pub token: String,
    /// The user id it was issued to.
    pub user: String,
    /// The ceremony it is good for.
    pub purpose: Purpose,
    /// The factor the step-up was done with.
    pub factor: FactorType,
    /// Already used (STEP_UP_REUSED).
    #[serde(default)]
    pub spent: bool,
}

impl Seed {
    /// Parses and checks a seed.
    pub fn parse(text: &str) -> Result<Seed, SeedError> {
        let seed: Seed = toml::from_str(text)?;
        seed.validate(text)?;
        Ok(seed)
    }

    /// The embedded `fixtures/seed.toml`.
    pub fn embedded() -> Result<Seed, SeedError> {
        Seed::parse(DEFAULT_SEED)
    }

    /// The trusted proxies, parsed.
    pub(crate) fn trusted_proxies(&self) -> Result<TrustedProxies, SeedError> {
        TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| SeedError::Invalid(format!("trusted_proxies: {e}")))
    }

    fn validate(&self, text: &str) -> Result<(), SeedError> {
        let invalid = |msg: String| Err(SeedError::Invalid(msg));
        self.trusted_proxies()?;
        if self.rate_limits.window_secs == 0 {
            return invalid("rate_limits.window_secs must be at least 1".into());
        }
        for (id, ws) in &self.workspaces {
            if !is_path_segment(id) {
                return invalid(format!("workspace id {id:?} is not a plain path segment"));
            }
            Allowlist::parse(&ws.allowlist)
                .map_err(|e| SeedError::Invalid(format!("workspaces.{id}.allowlist: {e}")))?;
            if ws.session_rate_limit.is_some_and(|q| q.window_secs == 0) {
                return invalid(format!(
                    "workspaces.{id}.session_rate_limit.window_secs must be at least 1"
                ));
            }
        }
        let mut user_ids = HashSet::new();
        let mut emails = HashSet::new();
        for user in &self.users {
            if !is_path_segment(&user.id) {
                return invalid(format!("user id {:?} is not a plain path segment", user.id));
            }
            if !self.workspaces.contains_key(&user.workspace) {
                return invalid(format!(
                    "user {} names unknown workspace {:?}",
                    user.id, user.workspace
                ));
            }
            if !user_ids.insert(user.id.as_str()) {
                return invalid(format!("user id {} is used twice", user.id));
            }
            if !emails.insert((user.workspace.as_str(), user.email.to_ascii_lowercase())) {
                return invalid(format!(
                    "email {} is used twice in workspace {}",
                    user.email, user.workspace
                ));
            }
            for (i, factor) in user.factors.iter().enumerate() {
                factor.check().map_err(|e| {
                    SeedError::Invalid(format!("user {} factor {}: {e}", user.id, i + 1))
                })?;
            }
        }
        let mut tokens = HashSet::new();
        for token in &self.tokens {
            if !user_ids.contains(token.user.as_str()) {
                return invalid(format!(
                    "token {} names unknown user {:?}",
                    token.token, token.user
                ));
            }
            if !tokens.insert(token.token.as_str()) {
                return invalid(format!("token {} is used twice", token.token));
            }
        }
        let mut step_ups = HashSet::new();
        for step_up in &self.step_up_tokens {
            if !user_ids.contains(step_up.user.as_str()) {
                return invalid(format!(
                    "step-up token {} names unknown user {:?}",
                    step_up.token, step_up.user
                ));
            }
            if !step_ups.insert(step_up.token.as_str()) {
                return invalid(format!("step-up token {} is used twice", step_up.token));
            }
        }
        self.validate_scim(text, &tokens)
    }

    /// Checks `[scim]`; `user_tokens` are the long-lived tokens, which SCIM tokens must not
    /// reuse (one namespace for bearer tokens keeps "which credential is this" unambiguous).
    fn validate_scim(&self, text: &str, user_tokens: &HashSet<&str>) -> Result<(), SeedError> {
        let mut seen = HashSet::new();
        for entry in &self.scim.tokens {
            let (token, workspace) = (entry.token.get_ref(), entry.workspace.get_ref());
            let at = |spanned: &Spanned<String>, message: String| {
                Err(SeedError::Invalid(format!(
                    "line {}: {message}",
                    line_of(text, spanned.span().start)
                )))
            };
            if !self.workspaces.contains_key(workspace) {
                return at(
                    &entry.workspace,
                    format!("SCIM token {token} names unknown workspace {workspace:?}"),
                );
            }
            if !is_b64token(token) {
                return at(
                    &entry.token,
                    format!("SCIM token {token:?} is not an RFC 6750 bearer token"),
                );
            }
            if user_tokens.contains(token.as_str()) {
                return at(
                    &entry.token,
                    format!("SCIM token {token} is also a user token"),
                );
            }
            if !seen.insert(token.as_str()) {
                return at(&entry.token, format!("SCIM token {token} is used twice"));
            }
        }
        Ok(())
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |head| head.matches('\n').count())
        + 1
}

/// Ids appear in paths, so they must need no percent-encoding.
fn is_path_segment(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_seed_is_valid_and_has_the_documented_workspaces() {
        let seed = Seed::embedded().unwrap();
        let ids: Vec<&str> = seed.workspaces.keys().map(String::as_str).collect();
        assert_eq!(
            ids,
            [
                "acme",
                "dormant",
                "fortress",
                "pwonly",
                "throttled",
                "vault"
            ]
        );
    }

    #[test]
    fn dangling_references_are_rejected() {
        let text = r#"
            [workspaces.a]
            name = "A"
            [[users]]
            id = "u1"
            workspace = "b"
            email = "x@example.com"
            role = "admin"
        "#;
        let err = Seed::parse(text).unwrap_err().to_string();
        assert!(err.contains("unknown workspace"), "{err}");
    }

    #[test]
    fn unknown_keys_and_bad_ranges_are_rejected() {
        assert!(Seed::parse("[workspaces.a]\nname = \"A\"\ncolour = 1\n").is_err());
        let err = Seed::parse("[workspaces.a]\nname = \"A\"\nallowlist = [\"nope\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("allowlist"), "{err}");
    }

    #[test]
    fn factors_must_carry_their_secret_or_credential() {
        let text = |factor: &str| {
            format!(
                "[workspaces.a]\nname = \"A\"\n[[users]]\nid = \"u1\"\nworkspace = \"a\"\nemail = \"x@a.example\"\nrole = \"admin\"\nfactors = [{factor}]\n"
            )
        };
        let seed = Seed::embedded().unwrap();
        let vault_key = seed
            .users
            .iter()
            .flat_map(|u| &u.factors)
            .find(|f| f.kind == FactorType::SecurityKey)
            .unwrap();
        let (id, key) = (
            vault_key.credential_id.clone().unwrap(),
            vault_key.public_key.clone().unwrap(),
        );
        for (factor, expected) in [
            (
                r#"{ type = "totp" }"#.to_owned(),
                "user u1 factor 1: a TOTP factor needs its `secret`",
            ),
            (
                r#"{ type = "totp", secret = "JBSWY3DPEHPK3PXP" }"#.to_owned(),
                "user u1 factor 1: the TOTP secret is 10 bytes long; at least 16 (128 bits) are required",
            ),
            (
                r#"{ type = "totp", secret = "not base32!" }"#.to_owned(),
                "user u1 factor 1: the TOTP secret is not base32 (RFC 4648, A-Z and 2-7)",
            ),
            (
                r#"{ type = "passkey" }"#.to_owned(),
                "user u1 factor 1: a WebAuthn factor needs its `credential_id`",
            ),
            (
                format!(r#"{{ type = "passkey", credential_id = "{id}" }}"#),
                "user u1 factor 1: a WebAuthn factor needs its `public_key` (COSE_Key, base64url)",
            ),
            (
                format!(
                    r#"{{ type = "passkey", credential_id = "{id}", public_key = "{}" }}"#,
                    &key[..20]
                ),
                "user u1 factor 1: `public_key`: not a COSE_Key (CBOR map)",
            ),
        ] {
            let err = Seed::parse(&text(&factor)).unwrap_err().to_string();
            assert_eq!(err, format!("seed is inconsistent: {expected}"), "{factor}");
        }
        let ok = format!(r#"{{ type = "passkey", credential_id = "{id}", public_key = "{key}" }}"#);
        Seed::parse(&text(&ok)).unwrap();
    }

    #[test]
    fn bad_scim_tokens_are_refused_with_their_line() {
        let seed = DEFAULT_SEED.replace(
            "[scim]\ntokens = [",
            "[scim]\ntokens = [\n  { token = \"scim_x\", workspace = \"nope\" },",
        );
        let err = Seed::parse(&seed).unwrap_err().to_string();
        let line = line_of(&seed, seed.find("\"nope\"").unwrap());
        assert_eq!(
            err,
            format!(
                "seed is inconsistent: line {line}: SCIM token scim_x names unknown workspace \"nope\""
            )
        );
        for (entry, message) in [
            (
                "{ token = \"tok_acme_admin\", workspace = \"acme\" }",
                "SCIM token tok_acme_admin is also a user token",
            ),
            (
                "{ token = \"not a token\", workspace = \"acme\" }",
                "SCIM token \"not a token\" is not an RFC 6750 bearer token",
            ),
            (
                "{ token = \"scim_acme\", workspace = \"acme\" }",
                "SCIM token scim_acme is used twice",
            ),
        ] {
            let seed = DEFAULT_SEED.replace(
                "[scim]\ntokens = [",
                &format!("[scim]\ntokens = [\n  {entry},"),
            );
            let err = Seed::parse(&seed).unwrap_err().to_string();
            let token_at = seed.find(entry).unwrap();
            // A duplicate is reported at its second occurrence.
            let token_at = if message.ends_with("twice") {
                seed.rfind("token = \"scim_acme\"").unwrap()
            } else {
                token_at
            };
            assert_eq!(
                err,
                format!(
                    "seed is inconsistent: line {}: {message}",
                    line_of(&seed, token_at)
                ),
                "{entry}"
            );
        }
    }

    #[test]
    fn webhook_settings_default_and_bad_ones_name_their_line() {
        assert_eq!(
            toml::from_str::<WebhookSettings>("").unwrap(),
            WebhookSettings::default()
        );
        for (from, to, column, why) in [
            (
                "circuit_threshold = 3",
                "circuit_threshold = 0",
                21,
                "nonzero",
            ),
            (
                "circuit_threshold = 3",
                "threshold = 3",
                1,
                "unknown field `threshold`",
            ),
            (
                "delivery_timeout_ms = 2000",
                "delivery_timeout_ms = \"2s\"",
                23,
                "invalid type",
            ),
        ] {
            let text = DEFAULT_SEED.replace(from, to);
            let err = Seed::parse(&text).unwrap_err().to_string();
            let line = line_of(&text, text.find(to).unwrap());
            let head =
                format!("seed is not valid: TOML parse error at line {line}, column {column}\n");
            assert!(err.starts_with(&head), "{to}: {err}");
            assert!(err.contains(why), "{to}: {err}");
        }
    }
}
