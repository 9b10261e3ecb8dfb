//! [`ExpiringMap`]: a map whose entries carry a deadline, for everything the mock keeps that
//! would otherwise grow for as long as a client keeps calling: session tokens, step-up tokens,
//! rate-limit windows (per token and per client address).
//!
//! Dead entries are dropped by a sweep, and a sweep walks the whole map, so it must not run on
//! every insert once the map is large: a map full of live entries would then cost a full scan
//! per request. A sweep runs on an insert only once the map holds at least `threshold` entries
//! and then no other until `window` (the entries' lifetime or window) has passed, so each sweep
//! is paid for by at least a window's worth of inserts, and the map holds at most what one
//! window inserts plus what lives longer (entries without a deadline, like seeded tokens).
//!
//! Time is passed in (`now`) rather than read inside, so tests can drive the cadence without
//! sleeping; [`ExpiringMap::sweeps`] counts the sweeps that ran.
//!
//! Reads do not hide an entry whose deadline has passed but which has not been swept yet: what
//! "expired" means is the caller's (a session token checks its own expiry, a spent step-up
//! token is kept past its expiry on purpose).

use std::borrow::Borrow;
use std::hash::Hash;
use std::time::{Duration, Instant};

use crate::fast_map::FastMap;

/// A map with a deadline per entry, swept at most once per window; see the module docs.
#[derive(Debug)]
pub(crate) struct ExpiringMap<K, V> {
    entries: FastMap<K, Entry<V>>,
    threshold: usize,
    window: Duration,
    last_sweep: Option<Instant>,
    sweeps: u64,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    /// When the entry may be dropped; `None` never.
    deadline: Option<Instant>,
}

impl<K: Eq + Hash, V> ExpiringMap<K, V> {
    /// An empty map that sweeps at `threshold` entries or more, at most once per `window`.
    pub(crate) fn new(threshold: usize, window: Duration) -> ExpiringMap<K, V> {
        ExpiringMap {
            entries: FastMap::default(),
            threshold,
            window,
            last_sweep: None,
            sweeps: 0,
        }
    }

    /// Inserts `value` under `key`, to be dropped after `deadline` (`None`: kept until removed);
    /// sweeps first when a sweep is due at `now`. Returns the value it replaced.
    pub(crate) fn insert_at(
        &mut self,
        key: K,
        value: V,
        deadline: Option<Instant>,
        now: Instant,
    ) -> Option<V> {
        self.sweep_if_due(now);
        self.entries
            .insert(key, Entry { value, deadline })
            .map(|e| e.value)
    }

    /// [`ExpiringMap::insert_at`] now.
    pub(crate) fn insert(&mut self, key: K, value: V, deadline: Option<Instant>) -> Option<V> {
        self.insert_at(key, value, deadline, Instant::now())
    }

    /// The value under `key`, swept or not (see the module docs).
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries.get(key).map(|e| &e.value)
    }

    /// The value under `key`, to change it (its deadline stays).
    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries.get_mut(key).map(|e| &mut e.value)
    }

    /// Removes and returns the value under `key`.
    pub(crate) fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries.remove(key).map(|e| e.value)
    }

    /// Keeps only the entries for which `keep` is true.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain(|k, e| keep(k, &mut e.value));
    }

    /// The number of entries, swept or not.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[cfg(test)]
    pub(crate) fn sweeps(&self) -> u64 {
        self.sweeps
    }

    fn sweep_if_due(&mut self, now: Instant) {
        if self.entries.len() < self.threshold {
            return;
        }
        if self
            .last_sweep
            .is_some_and(|last| now.saturating_duration_since(last) < self.window)
        {
            return;
        }
        self.last_sweep = Some(now);
        self.sweeps += 1;
        self.entries
            .retain(|_, e| e.deadline.is_none_or(|deadline| deadline > now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(60);

    #[test]
    fn no_sweep_below_the_threshold() {
        let t0 = Instant::now();
        let mut map = ExpiringMap::new(3, WINDOW);
        map.insert_at(1, "a", Some(t0), t0);
        map.insert_at(2, "b", Some(t0), t0 + WINDOW * 10);
        map.insert_at(3, "c", Some(t0), t0 + WINDOW * 20);
        assert_eq!((map.sweeps(), map.len()), (0, 3));
    }

    #[test]
    fn sweeps_at_the_threshold_at_most_once_per_window() {
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        let mut map = ExpiringMap::new(10, WINDOW);
        // Ten entries that die at once and ten that live for ever.
        for i in 0..10 {
            map.insert_at(i, (), Some(t0 + second), t0);
        }
        assert_eq!(map.sweeps(), 0);
        for i in 10..20 {
            map.insert_at(i, (), None, t0 + second * 2);
        }
        // The first insert at the threshold swept the ten dead entries, once.
        assert_eq!((map.sweeps(), map.len()), (1, 10));
        // A map still full of live entries is not scanned again on the next inserts.
        for i in 20..5000 {
            map.insert_at(i, (), Some(t0 + second * 3), t0 + second * 3);
        }
        assert_eq!((map.sweeps(), map.len()), (1, 4990));
        map.insert_at(5000, (), None, t0 + second * 2 + WINDOW - second);
        assert_eq!(map.sweeps(), 1);
        // A window after the last sweep, the next insert sweeps again.
        map.insert_at(5001, (), None, t0 + second * 2 + WINDOW);
        assert_eq!((map.sweeps(), map.len()), (2, 12));
        map.insert_at(5002, (), None, t0 + second * 3 + WINDOW);
        assert_eq!(map.sweeps(), 2);
    }

    #[test]
    fn an_entry_lives_until_its_deadline_and_reads_do_not_sweep() {
        let t0 = Instant::now();
        let mut map = ExpiringMap::new(1, WINDOW);
        map.insert_at("k", 1, Some(t0 + WINDOW), t0);
        *map.get_mut("k").unwrap() += 1;
        assert_eq!(map.get("k"), Some(&2));
        // A sweep before the deadline keeps the entry.
        map.insert_at("other", 0, None, t0 + WINDOW - Duration::from_millis(1));
        assert_eq!((map.sweeps(), map.get("k")), (1, Some(&2)));
        // Past its deadline but not swept yet (the last sweep was less than a window ago):
        // still readable, and reading does not sweep.
        assert_eq!(map.get("k"), Some(&2));
        map.insert_at("third", 0, None, t0 + WINDOW + Duration::from_secs(1));
        assert_eq!((map.sweeps(), map.get("k")), (1, Some(&2)));
        // Dropped by the first insert a window after the last sweep.
        map.insert_at("fourth", 0, None, t0 + WINDOW * 2);
        assert_eq!((map.sweeps(), map.get("k"), map.len()), (2, None, 3));
        assert_eq!(map.remove("other"), Some(0));
        map.retain(|k, _| *k == "k");
        assert!(map.is_empty());
    }
}
