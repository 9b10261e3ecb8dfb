//! The hasher of the maps every request reads (workspaces, users, tokens, rate-limit windows):
//! foldhash, seeded at random per map like std's `RandomState` but several times faster than
//! std's SipHash on short string keys. A request to `/v1` hashes seven or so keys on its way.

use std::collections::HashMap;

/// A per-map random seed for foldhash.
pub(crate) type FastState = foldhash::fast::RandomState;

/// A `HashMap` hashed with [`FastState`]; build one with `FastMap::default()`.
pub(crate) type FastMap<K, V> = HashMap<K, V, FastState>;
