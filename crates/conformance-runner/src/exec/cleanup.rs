//! The process-wide registry of scenarios whose cleanup has not run yet:
//! what a second Ctrl-C leaves behind ([`left_behind`]). A scenario is in it
//! from its first setup step until its cleanup has run.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::model::scenario::Scenario;
use crate::redact::Redactor;

/// Scenarios of every run in this process whose cleanup has not run yet,
/// by slug: what a second Ctrl-C leaves behind.
pub(crate) static OPEN: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

/// What the runs in this process have created and not cleaned up yet, one
/// line per scenario (its id, the step in flight, the captured values).
pub fn left_behind() -> Vec<String> {
    lock(&OPEN).values().cloned().collect()
}

/// A scenario whose cleanup has not run yet, with what it has captured.
pub(crate) struct Pending {
    pub(crate) scenario: Arc<Scenario>,
    pub(crate) captures: BTreeMap<String, String>,
    pub(crate) in_flight: Option<String>,
}

impl Pending {
    /// One line for a person: the scenario, the step in flight, the ids it
    /// captured (secret ones redacted).
    pub(crate) fn describe(&self, slug: &str) -> String {
        let mut line = format!("{} (slug {slug})", self.scenario.id);
        if let Some(step) = &self.in_flight {
            line.push_str(&format!(", step `{step}` in flight"));
        }
        let captures: Vec<String> = self
            .captures
            .iter()
            .map(|(k, v)| {
                let v = if Redactor::is_secret_name(k) {
                    crate::redact::REDACTED
                } else {
                    v.as_str()
                };
                format!("{k}={v}")
            })
            .collect();
        if !captures.is_empty() {
            line.push_str(&format!(", captured {}", captures.join(" ")));
        }
        line
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
