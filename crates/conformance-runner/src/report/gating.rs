//! What snapshots and waivers add to a report, as data: the drift of a
//! response from its recorded snapshot and the state of each waiver. The
//! report holds these; [`snapshot`](super::snapshot) and
//! [`waiver`](super::waiver) compute them.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One way a response differs from its recorded snapshot (in a diff, the
/// right target's response from the left's): not a contract violation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "drift", deny_unknown_fields)]
pub struct Drift {
    /// Changed, added, removed, or no snapshot yet.
    pub kind: DriftKind,
    /// For people: `detail changed`, ``member `x` added``, ``header `y` removed``.
    pub title: String,
    /// Where: `status`, `header:<name>`, `body:<json-pointer>`, or `snapshot`.
    pub at: String,
    /// The recorded value (in a diff, the left target's), absent when
    /// there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<Value>,
    /// The value this run observed (in a diff, the right target's), absent
    /// when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Value>,
    /// The change as text: `- recorded` and `+ observed` lines.
    pub diff: String,
}

/// What kind of drift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "drift_kind")]
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

/// What the comparison with recorded snapshots (`--snapshots DIR`) did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "snapshot_run", deny_unknown_fields)]
pub struct SnapshotRun {
    /// The snapshot directory, as given to `--snapshots`.
    pub dir: String,
    /// Whether drift fails the run (the profile's `[snapshots] drift`).
    pub drift_fails: bool,
    /// Scenarios whose response matched its snapshot.
    pub matched: usize,
    /// Files written: `.snap.new` (pending review) or `.snap` (accepted).
    pub written: Vec<String>,
}

/// The waiver that covers a waived scenario, in its report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "waiver_note", deny_unknown_fields)]
pub struct WaiverNote {
    /// The waivers file, as given to `--waivers`.
    pub file: String,
    /// The line of the waiver's `[[waiver]]` header in `file`.
    #[schemars(range(min = 1))]
    pub line: usize,
    /// Why the failure is accepted for now, as the waiver says.
    #[schemars(length(min = 1))]
    pub reason: String,
    /// The person or team who answers for the failure.
    #[schemars(length(min = 1))]
    pub owner: String,
    /// The last day the waiver holds, `YYYY-MM-DD`.
    #[schemars(extend("format" = "date"))]
    pub expires: String,
}

/// A waiver's state after a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "waiver_state")]
pub enum WaiverState {
    /// Not expired, and it matched a failure.
    Live,
    /// Past its date: fails the run.
    Expired,
    /// Not expired, but it matched no failure: remove it.
    Stale,
}

/// A waiver and what it did in a run, for the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "waiver_status", deny_unknown_fields)]
pub struct WaiverStatus {
    /// The waivers file, as given to `--waivers`.
    pub file: String,
    /// The line of the waiver's `[[waiver]]` header in `file`.
    #[schemars(range(min = 1))]
    pub line: usize,
    /// What it matches, for people: ``scenario `x`, rule `y` ``.
    pub matches: String,
    /// Why the failure is accepted for now, as the waiver says.
    #[schemars(length(min = 1))]
    pub reason: String,
    /// The person or team who answers for the failure.
    #[schemars(length(min = 1))]
    pub owner: String,
    /// The last day the waiver holds, `YYYY-MM-DD`.
    #[schemars(extend("format" = "date"))]
    pub expires: String,
    /// Live, expired (fails the run) or stale (matched no failure: remove it).
    pub state: WaiverState,
    /// The ids of the failed scenarios it matched.
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
