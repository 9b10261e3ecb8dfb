//! Step-up tokens: issued by `POST /v1/workspaces/{workspace}/step-up`, spent by sensitive
//! actions through `crate::api::step_up::require_step_up`, which turns a [`StepUpError`] into
//! the catalog's error.
//!
//! A token is good for one purpose, one user and one use. Spending is a check-and-mark under
//! one mutex, so of many concurrent requests carrying the same token exactly one gets through
//! and every other one sees it spent (STEP_UP_REUSED). A spent token is remembered until well
//! after it would have expired, which is what lets a second use be told from a made-up token.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use http::HeaderName;

use crate::expiring::ExpiringMap;
use crate::model::{FactorType, Purpose, StepUpPolicy};
use crate::seed::Seed;
use crate::store::random_token;

/// The request header carrying the step-up token.
pub(crate) const X_STEP_UP_TOKEN: HeaderName = HeaderName::from_static("x-step-up-token");

/// How long an issued step-up token is good for.
pub(crate) const STEP_UP_TTL: Duration = Duration::from_secs(300);

/// RFC 9470 `acr_values` for a step-up with any factor.
pub(crate) const ACR_MFA: &str = "mfa";
/// RFC 9470 `acr_values` for a phishing-resistant step-up (OpenID Connect EAP ACR values:
/// hardware-bound first, then any phishing-resistant authenticator).
pub(crate) const ACR_PHISHING_RESISTANT: &str = "phrh phr";

/// Tokens are swept of long-expired entries once there are this many.
const SWEEP_AT: usize = 10_000;

/// One issued step-up token.
#[derive(Clone, Debug)]
pub(crate) struct StepUpEntry {
    /// The user it was issued to.
    pub user: String,
    /// The ceremony it is good for.
    pub purpose: Purpose,
    pub factor: FactorType,
    /// When it stops working; `None` for seeded tokens.
    pub expires_at: Option<Instant>,
    /// Whether it has been used.
    pub spent: bool,
}

/// Every step-up token, spent or not. An issued token is dropped one [`STEP_UP_TTL`] after it
/// expires (kept that long so a reuse is still reported as reuse), swept at most once per
/// [`STEP_UP_TTL`] (see [`crate::expiring`]); seeded tokens stay.
#[derive(Debug)]
pub(crate) struct StepUps {
    tokens: Mutex<ExpiringMap<String, StepUpEntry>>,
}

/// Why a step-up token was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StepUpError {
    /// No token, an unknown one, another user's, an expired one, or one for another purpose.
    #[error("no valid step-up token for this action")]
    Required,
    /// Already spent.
    #[error("the step-up token has already been used")]
    Reused,
    /// Done with a factor the workspace does not accept for step-up.
    #[error("the step-up was not done with a phishing-resistant factor")]
    PhishingResistantRequired,
}

impl Default for StepUps {
    fn default() -> StepUps {
        StepUps {
            tokens: Mutex::new(ExpiringMap::new(SWEEP_AT, STEP_UP_TTL)),
        }
    }
}

impl StepUps {
    /// The seed's prepared tokens.
    pub(crate) fn from_seed(seed: &Seed) -> StepUps {
        StepUps {
            tokens: Mutex::new(seeded(seed)),
        }
    }

    /// Forgets every issued token and restores the seed's.
    pub(crate) fn reset(&self, seed: &Seed) {
        *self.lock() = seeded(seed);
    }

    pub(crate) fn issue(&self, user: &str, purpose: Purpose, factor: FactorType) -> String {
        self.issue_at(user, purpose, factor, Instant::now())
    }

    /// Issues a fresh token at `now`.
    fn issue_at(&self, user: &str, purpose: Purpose, factor: FactorType, now: Instant) -> String {
        let token = random_token("su_");
        let expires_at = now + STEP_UP_TTL;
        self.lock().insert_at(
            token.clone(),
            StepUpEntry {
                user: user.to_owned(),
                purpose,
                factor,
                expires_at: Some(expires_at),
                spent: false,
            },
            // Kept for a while after expiry so a reuse is still reported as reuse.
            Some(expires_at + STEP_UP_TTL),
            now,
        );
        token
    }

    /// How many tokens are held, spent, expired or not, and how many sweeps have run.
    #[cfg(test)]
    fn held(&self) -> (usize, u64) {
        let tokens = self.lock();
        (tokens.len(), tokens.sweeps())
    }

    /// Spends `token` for `user` and `purpose`, atomically. Refusals are ordered as
    /// `catalog::PRECEDENCE` orders their codes: reuse, then a missing proof, then the factor.
    /// A refused token is not spent.
    pub(crate) fn spend(
        &self,
        token: &str,
        user: &str,
        purpose: Purpose,
        policy: StepUpPolicy,
    ) -> Result<(), StepUpError> {
        let mut tokens = self.lock();
        let Some(entry) = tokens.get_mut(token).filter(|e| e.user == user) else {
            return Err(StepUpError::Required);
        };
        if entry.spent {
            return Err(StepUpError::Reused);
        }
        if entry.expires_at.is_some_and(|at| at <= Instant::now()) || entry.purpose != purpose {
            return Err(StepUpError::Required);
        }
        if policy == StepUpPolicy::PhishingResistant && !entry.factor.is_phishing_resistant() {
            return Err(StepUpError::PhishingResistantRequired);
        }
        entry.spent = true;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ExpiringMap<String, StepUpEntry>> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn seeded(seed: &Seed) -> ExpiringMap<String, StepUpEntry> {
    let mut tokens = ExpiringMap::new(SWEEP_AT, STEP_UP_TTL);
    for s in &seed.step_up_tokens {
        tokens.insert(
            s.token.clone(),
            StepUpEntry {
                user: s.user.clone(),
                purpose: s.purpose,
                factor: s.factor,
                expires_at: None,
                spent: s.spent,
            },
            None,
        );
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_spent_once_and_only_for_its_purpose_and_user() {
        let step_ups = StepUps::default();
        let token = step_ups.issue("u", Purpose::DeleteUser, FactorType::Totp);
        let any = StepUpPolicy::Any;
        assert_eq!(
            step_ups.spend(&token, "other", Purpose::DeleteUser, any),
            Err(StepUpError::Required)
        );
        assert_eq!(
            step_ups.spend(&token, "u", Purpose::ChangeNetworkPolicy, any),
            Err(StepUpError::Required)
        );
        assert_eq!(
            step_ups.spend(
                &token,
                "u",
                Purpose::DeleteUser,
                StepUpPolicy::PhishingResistant
            ),
            Err(StepUpError::PhishingResistantRequired)
        );
        assert_eq!(
            step_ups.spend(&token, "u", Purpose::DeleteUser, any),
            Ok(())
        );
        assert_eq!(
            step_ups.spend(&token, "u", Purpose::DeleteUser, any),
            Err(StepUpError::Reused)
        );
        assert_eq!(
            step_ups.spend("su_unknown", "u", Purpose::DeleteUser, any),
            Err(StepUpError::Required)
        );
    }

    #[test]
    fn concurrent_spends_let_exactly_one_through() {
        let step_ups = std::sync::Arc::new(StepUps::default());
        let token = step_ups.issue("u", Purpose::DeleteUser, FactorType::Passkey);
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let step_ups = step_ups.clone();
                let token = token.clone();
                std::thread::spawn(move || {
                    step_ups.spend(&token, "u", Purpose::DeleteUser, StepUpPolicy::Any)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        assert!(
            results
                .iter()
                .all(|r| matches!(r, Ok(()) | Err(StepUpError::Reused)))
        );
    }

    #[test]
    fn expired_tokens_are_swept_once_per_lifetime_after_a_grace_period() {
        let step_ups = StepUps::default();
        let t0 = Instant::now();
        for _ in 0..SWEEP_AT {
            step_ups.issue_at("u", Purpose::DeleteUser, FactorType::Totp, t0);
        }
        assert_eq!(step_ups.held(), (SWEEP_AT, 0));
        // Expired but within the grace period: swept, yet kept (reuse still reads as reuse).
        let expired = t0 + STEP_UP_TTL + Duration::from_secs(1);
        let late = step_ups.issue_at("u", Purpose::DeleteUser, FactorType::Totp, expired);
        assert_eq!(step_ups.held(), (SWEEP_AT + 1, 1));
        // Past the grace period, but less than a lifetime after the last sweep: no scan.
        let gone = t0 + STEP_UP_TTL * 2;
        step_ups.issue_at("u", Purpose::DeleteUser, FactorType::Totp, gone);
        assert_eq!(step_ups.held(), (SWEEP_AT + 2, 1));
        // A lifetime after the last sweep: the first batch is dropped, the later two stay.
        step_ups.issue_at(
            "u",
            Purpose::DeleteUser,
            FactorType::Totp,
            expired + STEP_UP_TTL,
        );
        assert_eq!(step_ups.held(), (3, 2));
        assert!(step_ups.lock().get(&late).is_some());
    }
}
