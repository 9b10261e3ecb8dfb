//! [`Sweeper`]: when a map of expiring entries (session tokens, step-up tokens, rate-limit
//! windows) drops its dead entries.
//!
//! A sweep walks the whole map, so it must not run on every insert once the map is large:
//! a map that holds many live entries would then cost a full scan per request. A sweeper
//! allows one sweep once the map holds at least `threshold` entries and then no other until
//! `period` (the entries' lifetime or window) has passed, so each sweep is paid for by at
//! least a period's worth of inserts and the map holds at most what one period inserts plus
//! what lives longer.

use std::time::{Duration, Instant};

/// Decides when to sweep; see the module docs.
#[derive(Debug)]
pub struct Sweeper {
    threshold: usize,
    period: Duration,
    last: Option<Instant>,
}

impl Sweeper {
    /// Sweeps at `threshold` entries or more, at most once per `period`.
    pub fn new(threshold: usize, period: Duration) -> Sweeper {
        Sweeper {
            threshold,
            period,
            last: None,
        }
    }

    /// Whether a map of `len` entries should be swept `now`; records the sweep when it
    /// should.
    pub fn due(&mut self, len: usize, now: Instant) -> bool {
        if len < self.threshold {
            return false;
        }
        if self
            .last
            .is_some_and(|last| now.saturating_duration_since(last) < self.period)
        {
            return false;
        }
        self.last = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_at_the_threshold_at_most_once_per_period() {
        let start = Instant::now();
        let mut sweeper = Sweeper::new(10, Duration::from_secs(60));
        assert!(!sweeper.due(9, start));
        assert!(sweeper.due(10, start));
        // A map still full of live entries is not scanned again on the next inserts.
        assert!(!sweeper.due(11, start + Duration::from_secs(1)));
        assert!(!sweeper.due(5000, start + Duration::from_secs(59)));
        assert!(sweeper.due(5000, start + Duration::from_secs(60)));
        assert!(!sweeper.due(5001, start + Duration::from_secs(61)));
    }
}
