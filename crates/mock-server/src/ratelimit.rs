//! Fixed-window rate limits per bearer token and per client address.
//!
//! Windows are aligned to the limiter's start (window `n` covers seconds `[n*w, (n+1)*w)`), so
//! every key's window resets at the same moment and `reset` is simply the time to the next
//! boundary. Counters live in a few mutex-guarded shards chosen by the key's hash, so
//! concurrent requests for different keys rarely meet on one lock, and no lock is held across
//! an `.await`.
//!
//! The headers follow draft-ietf-httpapi-ratelimit-headers-09: `RateLimit-Policy` lists each
//! policy as `"name";q=<quota>;w=<window>` and `RateLimit` as `"name";r=<remaining>;t=<reset>`.
//! The policies are named `"token"` and `"address"`. The older `X-RateLimit-*` fields are not
//! sent.

use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::expiring::ExpiringMap;
use crate::fast_map::FastState;

/// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers-09).
pub(crate) const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `RateLimit` (draft-ietf-httpapi-ratelimit-headers-09).
pub(crate) const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

const SHARDS: usize = 16;
/// A shard is swept of past windows once it holds this many keys, at most once a second
/// (windows last at most a minute by default; sweeping each second at most keeps even short
/// windows from piling up).
const SWEEP_AT: usize = 4096;
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// What is being counted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum RateKey {
    Token(String),
    Address(IpAddr),
}

impl RateKey {
    /// The policy name in the headers.
    pub(crate) fn policy(&self) -> &'static str {
        match self {
            RateKey::Token(_) => "token",
            RateKey::Address(_) => "address",
        }
    }
}

/// A quota: `limit` requests per `window_secs`; a limit of 0 means unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Quota {
    /// Requests per window.
    pub limit: u32,
    /// Window length in seconds (at least 1).
    pub window_secs: u64,
}

/// The state of one policy after counting a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Usage {
    /// `"token"` or `"address"`.
    pub policy: &'static str,
    pub quota: Quota,
    /// Requests left in the window.
    pub remaining: u32,
    /// Seconds until the window resets (at least 1).
    pub reset_secs: u64,
    /// Whether this request went over the quota.
    pub exceeded: bool,
}

/// The usages of every policy that applied to one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RateLimitStatus(pub Vec<Usage>);

/// One shard's windows (per token and per client address), each dropped once it has ended.
type Shard = ExpiringMap<RateKey, Window>;

fn shard() -> Shard {
    ExpiringMap::new(SWEEP_AT, SWEEP_EVERY)
}

#[derive(Debug)]
struct Window {
    index: u64,
    window_secs: u64,
    count: u32,
}

#[derive(Debug)]
pub(crate) struct RateLimiter {
    epoch: Instant,
    hasher: FastState,
    shards: Vec<Mutex<Shard>>,
}

impl Default for RateLimiter {
    fn default() -> RateLimiter {
        RateLimiter::new()
    }
}

impl RateLimiter {
    /// Empty counters; windows start now.
    pub(crate) fn new() -> RateLimiter {
        RateLimiter {
            epoch: Instant::now(),
            hasher: FastState::default(),
            shards: (0..SHARDS).map(|_| Mutex::new(shard())).collect(),
        }
    }

    /// Counts one request for the key `key` builds; `None` when the quota is unlimited, which
    /// neither builds the key (a token key allocates) nor reads the clock.
    pub(crate) fn hit(&self, key: impl FnOnce() -> RateKey, quota: Quota) -> Option<Usage> {
        if quota.limit == 0 {
            return None;
        }
        Some(self.hit_at(key(), quota, Instant::now()))
    }

    /// Counts one request for `key` at `now` against a limited quota (`quota.limit > 0`).
    fn hit_at(&self, key: RateKey, quota: Quota, now: Instant) -> Usage {
        let window_secs = quota.window_secs.max(1);
        let since_epoch = now.saturating_duration_since(self.epoch);
        let now_ms = u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX);
        let window_ms = window_secs.saturating_mul(1000);
        let index = now_ms / window_ms;
        let end_ms = index.saturating_add(1).saturating_mul(window_ms);
        let reset_secs = (end_ms - now_ms).div_ceil(1000).max(1);

        let policy = key.policy();
        // `SHARDS` is a small constant, so the modulo fits `usize` whatever the hash.
        let shard = (self.hasher.hash_one(&key) % SHARDS as u64) as usize;
        let mut windows = self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = match windows.get_mut(&key) {
            Some(window) if window.index == index && window.window_secs == window_secs => {
                window.count = window.count.saturating_add(1);
                window.count
            }
            _ => {
                let ends = now + Duration::from_millis(end_ms - now_ms);
                let window = Window {
                    index,
                    window_secs,
                    count: 1,
                };
                windows.insert_at(key, window, Some(ends), now);
                1
            }
        };
        Usage {
            policy,
            quota: Quota {
                limit: quota.limit,
                window_secs,
            },
            remaining: quota.limit.saturating_sub(count),
            reset_secs,
            exceeded: count > quota.limit,
        }
    }

    /// Forgets every counter (`POST /admin/reset`).
    pub(crate) fn clear(&self) {
        for shard in &self.shards {
            *shard.lock().unwrap_or_else(PoisonError::into_inner) = self::shard();
        }
    }
}

impl RateLimitStatus {
    /// Seconds until every exceeded policy has reset; `None` when none is exceeded.
    pub(crate) fn retry_after(&self) -> Option<u64> {
        self.0
            .iter()
            .filter(|u| u.exceeded)
            .map(|u| u.reset_secs)
            .max()
    }

    /// Adds `RateLimit-Policy` and `RateLimit` to `headers` (nothing when no policy applied).
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        if self.0.is_empty() {
            return;
        }
        // Written straight into each field's bytes: no string per policy, no join, and
        // numbers through `itoa` rather than the formatting machinery.
        let mut policy = String::with_capacity(48 * self.0.len());
        let mut current = String::with_capacity(40 * self.0.len());
        let mut digits = itoa::Buffer::new();
        for (i, u) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            for (out, (a, b), (x, y)) in [
                (
                    &mut policy,
                    ("q", "w"),
                    (u64::from(u.quota.limit), u.quota.window_secs),
                ),
                (
                    &mut current,
                    ("r", "t"),
                    (u64::from(u.remaining), u.reset_secs),
                ),
            ] {
                out.push_str(sep);
                out.push('"');
                out.push_str(u.policy);
                out.push_str("\";");
                out.push_str(a);
                out.push('=');
                out.push_str(digits.format(x));
                out.push(';');
                out.push_str(b);
                out.push('=');
                out.push_str(digits.format(y));
            }
        }
        // `from_maybe_shared` takes the bytes over without a copy.
        if let Ok(value) = HeaderValue::from_maybe_shared(Bytes::from(policy)) {
            headers.insert(RATELIMIT_POLICY, value);
        }
        if let Ok(value) = HeaderValue::from_maybe_shared(Bytes::from(current)) {
            headers.insert(RATELIMIT, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_then_exceeds() {
        let limiter = RateLimiter::new();
        let quota = Quota {
            limit: 2,
            window_secs: 60,
        };
        let key = || RateKey::Token("t".into());
        let first = limiter.hit(key, quota).unwrap();
        assert_eq!((first.remaining, first.exceeded), (1, false));
        assert!((1..=60).contains(&first.reset_secs));
        assert_eq!(limiter.hit(key, quota).unwrap().remaining, 0);
        let third = limiter.hit(key, quota).unwrap();
        assert_eq!((third.remaining, third.exceeded), (0, true));
        // Another key has its own counter.
        assert!(
            !limiter
                .hit(|| RateKey::Token("u".into()), quota)
                .unwrap()
                .exceeded
        );
        limiter.clear();
        assert!(!limiter.hit(key, quota).unwrap().exceeded);
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::new();
        let quota = Quota {
            limit: 0,
            window_secs: 1,
        };
        assert_eq!(
            limiter.hit(|| unreachable!("an unlimited quota builds no key"), quota),
            None
        );
    }

    #[test]
    fn headers_use_the_draft_09_syntax() {
        let status = RateLimitStatus(vec![
            Usage {
                policy: "token",
                quota: Quota {
                    limit: 3,
                    window_secs: 60,
                },
                remaining: 0,
                reset_secs: 42,
                exceeded: true,
            },
            Usage {
                policy: "address",
                quota: Quota {
                    limit: 100,
                    window_secs: 60,
                },
                remaining: 90,
                reset_secs: 42,
                exceeded: false,
            },
        ]);
        let mut headers = HeaderMap::new();
        status.apply(&mut headers);
        assert_eq!(
            headers[RATELIMIT_POLICY],
            "\"token\";q=3;w=60, \"address\";q=100;w=60"
        );
        assert_eq!(
            headers[RATELIMIT],
            "\"token\";r=0;t=42, \"address\";r=90;t=42"
        );
        assert_eq!(status.retry_after(), Some(42));
    }

    /// The keys held and the sweeps run, over every shard.
    fn held(limiter: &RateLimiter) -> (usize, u64) {
        limiter.shards.iter().fold((0, 0), |(len, sweeps), shard| {
            let shard = shard.lock().unwrap();
            (len + shard.len(), sweeps + shard.sweeps())
        })
    }

    #[test]
    fn ended_windows_of_tokens_and_addresses_are_swept_at_most_once_a_second() {
        let limiter = RateLimiter::new();
        let quota = Quota {
            limit: 5,
            window_secs: 1,
        };
        let t0 = limiter.epoch;
        // Enough one-request clients (half tokens, half addresses) to fill every shard.
        let keys = SHARDS * SWEEP_AT * 2;
        for i in 0..keys {
            let key = if i % 2 == 0 {
                RateKey::Token(format!("t{i}"))
            } else {
                RateKey::Address(IpAddr::from((i as u128).to_be_bytes()))
            };
            limiter.hit_at(key, quota, t0);
        }
        // Every shard reached the threshold and swept once, dropping nothing: all are live.
        let (held_before, sweeps_before) = held(&limiter);
        assert_eq!((held_before, sweeps_before), (keys, SHARDS as u64));
        // A second later every window has ended: the next hit in each full shard sweeps it.
        let later = t0 + Duration::from_secs(1);
        for i in 0..SHARDS * 64 {
            limiter.hit_at(RateKey::Token(format!("late{i}")), quota, later);
        }
        let (held_after, sweeps_after) = held(&limiter);
        assert_eq!(sweeps_after - sweeps_before, SHARDS as u64);
        assert_eq!(held_after, SHARDS * 64);
        // Within that second no shard is scanned again, however full.
        for i in 0..SHARDS * SWEEP_AT * 2 {
            limiter.hit_at(RateKey::Token(format!("more{i}")), quota, later);
        }
        assert_eq!(held(&limiter).1, sweeps_after);
    }
}
