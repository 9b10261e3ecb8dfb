//! What snapshots and waivers add to a report, as data: the drift of a
//! response from its recorded snapshot and the state of each waiver. The
//! report holds these; [`snapshot`](super::snapshot) and
//! [`waiver`](super::waiver) compute them.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One way a response differs from its recorded snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// Changed, added, removed, or no snapshot yet.
    pub kind: DriftKind,
    /// For people: `detail changed`, `member \`x\` added`, `header \`y\` removed`.
    pub title: String,
    /// Where: `status`, `header:<name>`, `body:<json-pointer>`, or `snapshot`.
    pub at: String,
    /// The recorded value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<Value>,
    /// The value this run observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Value>,
    /// `- recorded` / `+ observed` lines.
    pub diff: String,
}

/// What kind of drift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftKind {
    /// A value changed.
    Changed,
    /// A member or header appeared.
    Added,
    /// A member or header disappeared.
    Removed,
    /// No snapshot was recorded for this scenario.
    New,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.title, self.at)
    }
}

/// What the comparison did, for the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRun {
    /// The snapshot directory.
    pub dir: String,
    /// Whether drift fails the run (the profile's `[snapshots] drift`).
    pub drift_fails: bool,
    /// Scenarios whose response matched its snapshot.
    pub matched: usize,
    /// Files written: `.snap.new` (pending review) or `.snap` (accepted).
    pub written: Vec<String>,
}

/// The waiver that covers a waived scenario, in its report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverNote {
    /// The waivers file.
    pub file: String,
    /// The waiver's line.
    pub line: usize,
    /// Why.
    pub reason: String,
    /// Who owns it.
    pub owner: String,
    /// The last day it holds, `YYYY-MM-DD`.
    pub expires: String,
}

/// A waiver's state after a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WaiverState {
    /// Not expired, and it matched a failure.
    Live,
    /// Past its date: fails the run.
    Expired,
    /// Not expired, but it matched no failure: remove it.
    Stale,
}

/// A waiver and what it did in a run, for the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverStatus {
    /// The waivers file.
    pub file: String,
    /// The waiver's line.
    pub line: usize,
    /// What it matches: `scenario \`x\`, rule \`y\``.
    pub matches: String,
    /// Why.
    pub reason: String,
    /// Who owns it.
    pub owner: String,
    /// The last day it holds, `YYYY-MM-DD`.
    pub expires: String,
    /// Live, expired or stale.
    pub state: WaiverState,
    /// Failed scenarios it matched.
    pub matched: Vec<String>,
}

impl fmt::Display for WaiverStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = format!("{}:{}", self.file, self.line);
        match self.state {
            WaiverState::Live => write!(
                f,
                "{at}: waiver for {} (owner {}) holds until {}",
                self.matches, self.owner, self.expires
            ),
            WaiverState::Expired => write!(
                f,
                "{at}: waiver for {} expired on {}: its owner {} must fix the failure or extend the waiver",
                self.matches, self.expires, self.owner
            ),
            WaiverState::Stale => write!(
                f,
                "{at}: waiver for {} (owner {}) matches no failure any more: remove it",
                self.matches, self.owner
            ),
        }
    }
}
