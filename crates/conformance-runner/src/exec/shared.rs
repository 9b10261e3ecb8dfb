//! What every scenario of one run shares: the client, the target, the
//! credentials, the redactor that learns secrets as they arrive, the
//! pending cleanups and the warnings.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};

use crate::exec::cleanup::{OPEN, Pending, lock};
use crate::exec::receiver::Receiver;
use crate::model::profile::{Credential, Profile, credential_env_var};
use crate::model::template::Vars;
use crate::redact::Redactor;
use crate::report::{EnvRef, ScenarioReport};

/// Everything scenarios share during a run.
pub(crate) struct Shared {
    pub(crate) client: reqwest::Client,
    /// The client bound to the profile's untrusted source address, for the
    /// asserted request of an `untrusted-peer` scenario.
    pub(crate) untrusted_client: Option<reqwest::Client>,
    pub(crate) base_url: String,
    pub(crate) profile: Profile,
    pub(crate) credentials: BTreeMap<String, String>,
    pub(crate) receiver: Option<Receiver>,
    pub(crate) run_id: String,
    pub(crate) redactor: Mutex<Redactor>,
    /// Stop starting scenarios after this many failed (`--max-fail`).
    pub(crate) max_fail: Option<usize>,
    pub(crate) failures: AtomicUsize,
    /// `${VAR}` for each credential, for replays: never a value.
    pub(crate) replay_credentials: BTreeMap<String, String>,
    /// Where each credential's variable gets its value, by credential name.
    pub(crate) credential_env: BTreeMap<String, EnvRef>,
    pub(crate) pending: Mutex<BTreeMap<usize, Pending>>,
    pub(crate) warnings: Mutex<Vec<String>>,
    pub(crate) stop: tokio::sync::watch::Sender<bool>,
    pub(crate) retry_waited_ms: AtomicU64,
    pub(crate) retry_budget_warned: AtomicBool,
}

/// What a run produced before it is assembled into a report.
pub(crate) struct Outcomes {
    pub(crate) reports: Vec<ScenarioReport>,
    pub(crate) warnings: Vec<String>,
    pub(crate) interrupted: bool,
}

impl Shared {
    pub(crate) fn new(
        client: reqwest::Client,
        base_url: String,
        profile: Profile,
        credentials: BTreeMap<String, String>,
        receiver: Option<Receiver>,
        run_id: String,
        redactor: Redactor,
    ) -> Shared {
        let mut replay_credentials = BTreeMap::new();
        let mut credential_env = BTreeMap::new();
        for (name, source) in &profile.credentials {
            let (var, source) = match source {
                Credential::Env(var) => (var.clone(), format!("credential `{name}`")),
                Credential::Literal(_) => (
                    credential_env_var(name),
                    if profile.file == crate::model::profile::MOCK_PROFILE_NAME {
                        format!(
                            "credential `{name}` of the embedded mock profile (the mock's seed)"
                        )
                    } else {
                        format!("credential `{name}`, written in {}", profile.file)
                    },
                ),
            };
            replay_credentials.insert(name.clone(), format!("${{{var}}}"));
            credential_env.insert(name.clone(), EnvRef { name: var, source });
        }
        Shared {
            max_fail: None,
            failures: AtomicUsize::new(0),
            replay_credentials,
            credential_env,
            client,
            untrusted_client: None,
            base_url: base_url.trim_end_matches('/').to_owned(),
            profile,
            credentials,
            receiver,
            run_id,
            redactor: Mutex::new(redactor),
            pending: Mutex::new(BTreeMap::new()),
            warnings: Mutex::new(Vec::new()),
            stop: tokio::sync::watch::Sender::new(false),
            retry_waited_ms: AtomicU64::new(0),
            retry_budget_warned: AtomicBool::new(false),
        }
    }

    pub(crate) fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Completes once the run is interrupted.
    pub(crate) async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Updates a scenario's pending entry (and the process-wide list).
    pub(crate) fn track(&self, index: usize, slug: &str, update: impl FnOnce(&mut Pending)) {
        let mut pending = lock(&self.pending);
        if let Some(p) = pending.get_mut(&index) {
            update(p);
            lock(&OPEN).insert(slug.to_owned(), p.describe(slug));
        }
    }

    pub(crate) fn untrack(&self, index: usize, slug: &str) {
        lock(&self.pending).remove(&index);
        lock(&OPEN).remove(slug);
    }

    /// Variables common to every scenario; the caller sets slug and receiver URL.
    pub(crate) fn vars(&self) -> Vars<'_> {
        Vars {
            run_id: &self.run_id,
            slug: "",
            receiver_url: "",
            credentials: Some(&self.credentials),
            fixtures: Some(&self.profile.fixtures),
            paths: Some(&self.profile.paths),
            captures: BTreeMap::new(),
        }
    }

    pub(crate) fn warn(&self, text: String) {
        lock(&self.warnings).push(text);
    }

    pub(crate) fn add_secret(&self, value: &str) {
        lock(&self.redactor).add(value);
    }
}
