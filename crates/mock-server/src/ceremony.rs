//! WebAuthn challenges: issued by the options calls (`POST .../factors/webauthn/options`,
//! `POST .../step-up/options`), spent by the registration or assertion that follows.
//!
//! A challenge is 32 random bytes from the OS generator, bound to the user, the workspace, the
//! ceremony (registration or assertion) and the factor type, single use and good for
//! [`CHALLENGE_TTL`]. [`Challenges::take`] removes it under the map's lock, so of any number
//! of concurrent ceremonies over one challenge exactly one gets it. A challenge is spent by
//! the first ceremony of its user that names it, whether or not the rest of that ceremony
//! verifies, so a refused response cannot be retried with the same challenge.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use ring::rand::{SecureRandom, SystemRandom};

use crate::expiring::ExpiringMap;
use crate::model::FactorType;

/// How long a challenge is good for (the options' `timeout`).
pub(crate) const CHALLENGE_TTL: Duration = Duration::from_secs(300);
/// Bytes of a challenge.
pub(crate) const CHALLENGE_LEN: usize = 32;
/// Sweep expired challenges once this many are held.
const SWEEP_AT: usize = 10_000;

/// Which ceremony a challenge is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `navigator.credentials.create()`.
    Registration,
    /// `navigator.credentials.get()`.
    Assertion,
}

#[derive(Debug)]
struct Pending {
    user: String,
    workspace: String,
    kind: Kind,
    factor: FactorType,
    expires_at: Instant,
}

/// Every live challenge.
#[derive(Debug)]
pub(crate) struct Challenges {
    pending: Mutex<ExpiringMap<Vec<u8>, Pending>>,
}

impl Default for Challenges {
    fn default() -> Challenges {
        Challenges {
            pending: Mutex::new(ExpiringMap::new(SWEEP_AT, CHALLENGE_TTL)),
        }
    }
}

impl Challenges {
    /// A fresh challenge for `user` in `workspace`.
    pub(crate) fn issue(
        &self,
        user: &str,
        workspace: &str,
        kind: Kind,
        factor: FactorType,
    ) -> Vec<u8> {
        let mut challenge = vec![0u8; CHALLENGE_LEN];
        if SystemRandom::new().fill(&mut challenge).is_err() {
            // Without randomness there is no safe challenge; uuid's generator is the fallback
            // (also the OS's, through getrandom).
            challenge[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
            challenge[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        }
        let now = Instant::now();
        self.lock().insert_at(
            challenge.clone(),
            Pending {
                user: user.to_owned(),
                workspace: workspace.to_owned(),
                kind,
                factor,
                expires_at: now + CHALLENGE_TTL,
            },
            Some(now + CHALLENGE_TTL),
            now,
        );
        challenge
    }

    /// Spends `challenge` if it is `user`'s: true when it was issued to `user` in `workspace`
    /// for `kind` and `factor` and has not expired. A challenge of `user` is removed even when
    /// it does not match otherwise; another user's is left alone.
    pub(crate) fn take(
        &self,
        challenge: &[u8],
        user: &str,
        workspace: &str,
        kind: Kind,
        factor: FactorType,
    ) -> bool {
        let mut pending = self.lock();
        if pending.get(challenge).is_none_or(|p| p.user != user) {
            return false;
        }
        let Some(entry) = pending.remove(challenge) else {
            return false;
        };
        entry.workspace == workspace
            && entry.kind == kind
            && entry.factor == factor
            && entry.expires_at > Instant::now()
    }

    /// Forgets every challenge.
    pub(crate) fn reset(&self) {
        *self.lock() = ExpiringMap::new(SWEEP_AT, CHALLENGE_TTL);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ExpiringMap<Vec<u8>, Pending>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_is_single_use_and_bound_to_its_ceremony() {
        let challenges = Challenges::default();
        let c = challenges.issue("u", "w", Kind::Assertion, FactorType::Passkey);
        assert_eq!(c.len(), 32);
        assert_ne!(
            c,
            challenges.issue("u", "w", Kind::Assertion, FactorType::Passkey)
        );
        // Another user's attempt neither succeeds nor spends it.
        assert!(!challenges.take(&c, "v", "w", Kind::Assertion, FactorType::Passkey));
        assert!(challenges.take(&c, "u", "w", Kind::Assertion, FactorType::Passkey));
        assert!(!challenges.take(&c, "u", "w", Kind::Assertion, FactorType::Passkey));
        assert!(!challenges.take(b"unknown", "u", "w", Kind::Assertion, FactorType::Passkey));

        // A mismatch spends the user's challenge.
        for (workspace, kind, factor) in [
            ("x", Kind::Assertion, FactorType::Passkey),
            ("w", Kind::Registration, FactorType::Passkey),
            ("w", Kind::Assertion, FactorType::SecurityKey),
        ] {
            let c = challenges.issue("u", "w", Kind::Assertion, FactorType::Passkey);
            assert!(!challenges.take(&c, "u", workspace, kind, factor));
            assert!(!challenges.take(&c, "u", "w", Kind::Assertion, FactorType::Passkey));
        }
    }

    #[test]
    fn concurrent_takes_let_exactly_one_through() {
        let challenges = std::sync::Arc::new(Challenges::default());
        let c = challenges.issue("u", "w", Kind::Assertion, FactorType::Passkey);
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (challenges, c) = (challenges.clone(), c.clone());
                std::thread::spawn(move || {
                    challenges.take(&c, "u", "w", Kind::Assertion, FactorType::Passkey)
                })
            })
            .collect();
        let won = threads
            .into_iter()
            .filter(|_| true)
            .map(|t| t.join().unwrap())
            .filter(|&won| won)
            .count();
        assert_eq!(won, 1);
    }
}
