//! The plan: scenarios selected and validated against a profile and a target
//! before anything is sent ([`Plan::new`]). Every credential a selected
//! scenario needs is resolved here, or the run stops with a [`ConfigError`]
//! naming all that is missing; nothing below this layer reads the
//! environment.

mod error;
mod load;
pub(crate) mod policy;
pub(crate) mod requirements;
pub(crate) mod select;

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use crate::model::profile::{self, Credential, Profile, is_loopback};
use crate::model::scenario::{Scenario, Step};
use crate::model::template::{Var, Vars};
use crate::plan::select::{Filter, Shard};
use crate::redact::Redactor;

pub use error::{ConfigError, MissingEnv, MissingValue};
pub use load::embedded_scenarios;
pub(crate) use load::load_scenarios;

/// Default number of scenarios in flight. Requests are I/O-bound and each
/// scenario has its own resources: behind 50 ms per response, 64 brings the
/// suite within about 1.3x of its critical path, where 8 took 2.6x
/// (`cargo xtask bench-conformance`). `--jobs` lowers it for a target that
/// rate-limits.
pub const DEFAULT_JOBS: usize = 64;
/// Default per-request timeout.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What to run, before validation.
#[derive(Clone, Debug)]
pub struct Options {
    /// The target's profile: credentials, fixtures, paths, skips and the
    /// reachability check.
    pub profile: Profile,
    /// Every scenario loaded.
    pub scenarios: Vec<Scenario>,
    /// The target's base URL; overrides the profile's.
    pub target: Option<String>,
    /// `--filter` values (union); empty selects all.
    pub filters: Vec<Filter>,
    /// `--shard K/N`.
    pub shard: Option<Shard>,
    /// Scenarios in flight at once.
    pub jobs: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// The run id; generated when `None`.
    pub run_id: Option<String>,
    /// Stop starting scenarios once this many have failed (running ones
    /// finish, every cleanup runs); `None` runs everything.
    pub max_fail: Option<usize>,
    /// The scenarios cover only some codes on purpose: coverage is not
    /// enforced and a stale `[[skip]]` is a warning (see `stale_skips`).
    pub partial: bool,
    /// How long the whole run may take; then it stops as on Ctrl-C.
    pub deadline: Option<Duration>,
}

impl Options {
    /// Every scenario, default jobs and timeout, the profile's target.
    pub fn new(profile: Profile, scenarios: Vec<Scenario>) -> Options {
        Options {
            profile,
            scenarios,
            target: None,
            filters: Vec::new(),
            shard: None,
            jobs: DEFAULT_JOBS,
            timeout: DEFAULT_TIMEOUT,
            run_id: None,
            max_fail: None,
            partial: false,
            deadline: None,
        }
    }
}

/// A validated run: target, credentials resolved, scenarios selected.
#[derive(Debug)]
pub struct Plan {
    pub(crate) profile: Profile,
    pub(crate) target: reqwest::Url,
    pub(crate) selected: Vec<Arc<Scenario>>,
    pub(crate) skipped: BTreeMap<String, String>,
    pub(crate) credentials: BTreeMap<String, String>,
    pub(crate) redactor: Redactor,
    pub(crate) jobs: usize,
    pub(crate) timeout: Duration,
    pub(crate) run_id: String,
    /// The path the reachability probe asks for: the profile's rendered
    /// `[reachability] path`, or `/healthz` without that section.
    pub(crate) probe_path: String,
    pub(crate) coverage_enforced: bool,
    pub(crate) max_fail: Option<usize>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) warnings: Vec<String>,
}

impl Plan {
    /// Validates `options`; `env` reads environment variables (credentials).
    pub fn new(
        options: Options,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Plan, ConfigError> {
        let Options {
            profile,
            scenarios,
            target,
            filters,
            shard,
            jobs,
            timeout,
            run_id,
            max_fail,
            partial,
            deadline,
        } = options;
        // An empty --target (an unset CI variable) means "not given".
        let target_text = target
            .filter(|t| !t.trim().is_empty())
            .or_else(|| profile.base_url.clone())
            .ok_or_else(|| {
                ConfigError::NoTarget(if profile.file == profile::MOCK_PROFILE_NAME {
                    // The installed binary's users do not have that file.
                    "a profile of your own (the embedded mock profile has none; `conformance-runner init --target URL` writes one)".into()
                } else {
                    profile.file.clone()
                })
            })?;
        let target = reqwest::Url::parse(&target_text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| ConfigError::BadTarget(target_text.clone()))?;

        let Selection {
            scenarios: selected,
            mut warnings,
            coverage_enforced,
        } = selection(&profile, scenarios, &filters, shard, partial)?;

        // The receiver's public URL from the environment: when it is not
        // there, the scenarios that need a receiver are skipped, visibly.
        let mut profile = profile;
        let mut no_receiver = None;
        if let Some(var) = profile.receiver_public_url_env.clone() {
            match env(&var).map(|v| v.trim().trim_end_matches('/').to_owned()) {
                Some(url) if !url.is_empty() => profile.receiver_public_url = Some(url),
                _ => {
                    no_receiver = Some(format!(
                        "no webhook receiver the target can reach: set {var} to its public URL"
                    ));
                }
            }
        }
        let mut skipped = BTreeMap::new();
        let mut needed: BTreeMap<String, String> = BTreeMap::new();
        let no_untrusted_source = untrusted_source_problem(&profile);
        // Fixtures left empty (as `init` writes them), with a first use.
        let mut empty: BTreeMap<String, String> = BTreeMap::new();
        let mut to_check = Vec::new();
        for s in &selected {
            if let Some(skip) = profile.skip_for(&s.id) {
                skipped.insert(s.id.clone(), skip.reason.clone());
                continue;
            }
            if let Some(reason) = &no_untrusted_source
                && s.tags.iter().any(|t| t == UNTRUSTED_PEER_TAG)
            {
                skipped.insert(s.id.clone(), reason.clone());
                continue;
            }
            if let Some(reason) = &no_receiver
                && uses_receiver(s)
            {
                skipped.insert(s.id.clone(), reason.clone());
                continue;
            }
            for (template, line) in s.templates() {
                for var in template.vars() {
                    check_var(&profile, s, var, line, &mut needed)?;
                    note_empty(&profile, s, var, line, &mut empty);
                }
            }
            to_check.push(s);
        }
        if !empty.is_empty() {
            return Err(ConfigError::EmptyFixtures {
                profile: profile.file.clone(),
                fixtures: empty
                    .into_iter()
                    .map(|(name, used)| format!("{name} (used by {used})"))
                    .collect(),
            });
        }
        if profile.webauthn.is_none() {
            let ceremonies: Vec<&Scenario> = to_check
                .iter()
                .copied()
                .filter(|s| {
                    s.setup
                        .iter()
                        .chain(&s.cleanup)
                        .any(|step| matches!(step, Step::WebAuthn(_)))
                })
                .collect();
            if let Some(first) = ceremonies.first() {
                return Err(ConfigError::NoWebAuthnClient {
                    profile: profile.file.clone(),
                    count: ceremonies.len(),
                    first: first.id.clone(),
                });
            }
        }
        for s in to_check {
            check_world_facts(&profile, s)?;
        }

        if let Some(name) = profile
            .reachability
            .as_ref()
            .and_then(|r| r.credential.clone())
        {
            needed
                .entry(name)
                .or_insert_with(|| "the reachability check".to_owned());
        }
        let mut redactor = Redactor::default();
        let mut credentials = BTreeMap::new();
        let mut missing = Vec::new();
        let loopback = is_loopback(&target);
        for (name, scenario) in needed {
            // `needed` only holds names `check_var` found in the profile.
            let Some(source) = profile.credentials.get(&name) else {
                continue;
            };
            let value = match source {
                // An unset GitHub secret arrives as an empty variable: both
                // are missing, and every one is listed before anything is sent.
                Credential::Env(var) => match env(var) {
                    Some(v) if !v.trim().is_empty() => v,
                    found => {
                        missing.push(MissingEnv {
                            name: name.clone(),
                            var: var.clone(),
                            state: if found.is_some() { "empty" } else { "unset" },
                            scenario,
                        });
                        continue;
                    }
                },
                Credential::Literal(value) if loopback => value.clone(),
                Credential::Literal(_) => {
                    return Err(ConfigError::LiteralCredential {
                        name,
                        profile: if profile.file == profile::MOCK_PROFILE_NAME {
                            "the embedded mock profile (`conformance-runner init --target URL` writes one for your target)".into()
                        } else {
                            profile.file.clone()
                        },
                        target: target.to_string(),
                    });
                }
            };
            redactor.add(&value);
            credentials.insert(name, value);
        }
        if !missing.is_empty() {
            return Err(ConfigError::MissingEnv(missing));
        }
        // One automaton for the profile's secrets, built once: secrets not in
        // an automaton are searched for pattern by pattern at every scan.
        redactor.compact();
        if target.scheme() == "http" && !loopback && !credentials.is_empty() {
            if !profile.transport.credentials_over_http {
                return Err(ConfigError::CredentialsOverHttp {
                    target: target.to_string(),
                    profile: profile.file.clone(),
                });
            }
            warnings.push(format!(
                "credentials are sent unencrypted to {target} (plain http://, allowed by `[transport] credentials_over_http` in {})",
                profile.file
            ));
        }
        let probe_path = profile
            .reachability_path()
            .unwrap_or_else(|| "/healthz".to_owned());
        Ok(Plan {
            profile,
            target,
            selected: selected.into_iter().map(Arc::new).collect(),
            skipped,
            credentials,
            redactor,
            jobs: jobs.max(1),
            timeout,
            run_id: run_id.unwrap_or_else(new_run_id),
            probe_path,
            coverage_enforced,
            max_fail,
            deadline,
            warnings,
        })
    }

    /// The selected scenarios, in id order (skipped ones included).
    pub fn scenarios(&self) -> impl Iterator<Item = &Scenario> {
        self.selected.iter().map(|s| s.as_ref())
    }

    /// Scenarios that will not run, with the reason (profile skips, and
    /// receiver scenarios when the receiver's public URL is not given).
    pub fn skipped(&self) -> &BTreeMap<String, String> {
        &self.skipped
    }

    /// The run id that tags every resource the run creates: `--run-id`, or
    /// `cr` and ten random hex digits.
    pub(crate) fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Warnings about the plan itself (plain HTTP with credentials), also
    /// in the report.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The profile the plan was validated against, as loaded (credentials
    /// are resolved separately and never stored in it).
    pub(crate) fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The redactor of the profile's credentials.
    pub(crate) fn redactor(&self) -> &Redactor {
        &self.redactor
    }
}

/// The scenarios a run (and `--list`) would take, before any target or
/// credential is looked at.
#[derive(Debug)]
pub(crate) struct Selection {
    /// The selected scenarios, in id order (profile skips included).
    pub(crate) scenarios: Vec<Scenario>,
    /// Stale skips, as warnings (with `--partial`).
    pub(crate) warnings: Vec<String>,
    /// Whether every documented code must have a passing scenario.
    pub(crate) coverage_enforced: bool,
}

/// Selects from `scenarios` as a run does: a profile `[[skip]]` matching no
/// scenario is an error (a warning when `partial`), a standards-only profile
/// keeps the scenarios that prove a standard rule, then the filters (a
/// union) and the shard apply; filters that select nothing are an error.
pub(crate) fn selection(
    profile: &Profile,
    scenarios: Vec<Scenario>,
    filters: &[Filter],
    shard: Option<Shard>,
    partial: bool,
) -> Result<Selection, ConfigError> {
    let mut warnings = Vec::new();
    for stale in stale_skips(profile, &scenarios) {
        if partial {
            warnings.push(stale.to_string());
        } else {
            return Err(stale);
        }
    }
    // A profile for a server of the standards alone (a third-party SCIM
    // server) selects the scenarios that prove a standard rule; the
    // platform's catalog coverage cannot apply to it.
    let coverage_enforced =
        !partial && filters.is_empty() && shard.is_none() && !profile.standard_only;
    let scenarios: Vec<Scenario> = if profile.standard_only {
        scenarios
            .into_iter()
            .filter(|s| s.standard.is_some())
            .collect()
    } else {
        scenarios
    };
    let selected = select::select(scenarios, filters, shard);
    if selected.is_empty() && !filters.is_empty() {
        return Err(ConfigError::NothingSelected);
    }
    Ok(Selection {
        scenarios: selected,
        warnings,
        coverage_enforced,
    })
}

/// The tag of scenarios whose asserted request must come from a peer the
/// target does not trust as a proxy: it is sent from the profile's
/// `[network] untrusted_source`.
pub const UNTRUSTED_PEER_TAG: &str = "untrusted-peer";

/// Why `untrusted-peer` scenarios cannot run under `profile`, if they cannot:
/// it names no untrusted source, or this host cannot send from it.
fn untrusted_source_problem(profile: &Profile) -> Option<String> {
    let Some(ip) = profile.untrusted_source else {
        return Some(
            "the profile names no `[network] untrusted_source` (a local address the target does not trust as a proxy)"
                .into(),
        );
    };
    match std::net::TcpListener::bind((ip, 0)) {
        Ok(_) => None,
        // macOS routes only 127.0.0.1 on lo0 until an alias is added.
        Err(e) => Some(format!(
            "cannot send from `[network] untrusted_source` {ip} on this host ({e}); on macOS add it with `sudo ifconfig lo0 alias {ip}`"
        )),
    }
}

/// The profile's `[[skip]]` entries that match no loaded scenario, as
/// [`ConfigError::StaleSkip`]. `--list` and a run apply the same rule: an
/// error, or a warning with `--partial`.
pub(crate) fn stale_skips(profile: &Profile, scenarios: &[Scenario]) -> Vec<ConfigError> {
    profile
        .skips
        .iter()
        .filter(|skip| !scenarios.iter().any(|s| skip.matches(&s.id)))
        .map(|skip| ConfigError::StaleSkip {
            file: profile.file.clone(),
            line: skip.line,
            pattern: skip.pattern.clone(),
        })
        .collect()
}

/// Checks a variable against the profile; records credentials a scenario needs.
/// The profile's world facts suit `scenario`: every `repeat` a fixture
/// names is a count from 1 to 100, and its `distinct` values differ.
/// (Every variable is known to be in the profile.)
fn check_world_facts(profile: &Profile, scenario: &Scenario) -> Result<(), ConfigError> {
    let unsuited = |line: usize, problem: String| ConfigError::UnsuitedFixture {
        file: scenario.source.file.clone(),
        line,
        id: scenario.id.clone(),
        problem,
    };
    for step in scenario.setup.iter().chain(&scenario.cleanup) {
        if let Step::Http(h) = step
            && let Err(e) = h.repeat.count(Some(&profile.fixtures))
        {
            return Err(unsuited(h.line, format!("{e} (in {})", profile.file)));
        }
    }
    let vars = Vars {
        fixtures: Some(&profile.fixtures),
        paths: Some(&profile.paths),
        ..Vars::default()
    };
    let mut seen: Vec<String> = Vec::new();
    for t in &scenario.distinct {
        let value = t
            .render(&vars)
            .map_err(|e| unsuited(scenario.source.line, e.to_string()))?;
        if seen.contains(&value) {
            let names: Vec<String> = scenario
                .distinct
                .iter()
                .flat_map(|t| t.vars().map(ToString::to_string).collect::<Vec<_>>())
                .collect();
            return Err(unsuited(
                scenario.source.line,
                format!(
                    "its `distinct` values must differ, but {} make two of them `{value}` (in {}): the scenario would not prove what it is named after",
                    names.join(", "),
                    profile.file
                ),
            ));
        }
        seen.push(value);
    }
    Ok(())
}

/// Remembers a fixture `var` names that the profile leaves empty.
fn note_empty(
    profile: &Profile,
    scenario: &Scenario,
    var: &Var,
    line: usize,
    empty: &mut BTreeMap<String, String>,
) {
    if let Var::Fixture(name) = var
        && profile
            .fixtures
            .get(name)
            .is_some_and(|v| v.trim().is_empty())
    {
        empty
            .entry(name.clone())
            .or_insert_with(|| format!("{} at {}:{line}", scenario.id, scenario.source.file));
    }
}

fn check_var(
    profile: &Profile,
    scenario: &Scenario,
    var: &Var,
    line: usize,
    needed: &mut BTreeMap<String, String>,
) -> Result<(), ConfigError> {
    let missing = |kind, name: &str| {
        ConfigError::MissingProfileValue(Box::new(MissingValue {
            file: scenario.source.file.clone(),
            line,
            id: scenario.id.clone(),
            var: var.to_string(),
            profile: profile.file.clone(),
            kind,
            name: name.to_owned(),
        }))
    };
    match var {
        Var::Credential(name) if !profile.credentials.contains_key(name) => {
            return Err(missing("credential", name));
        }
        Var::Credential(name) => {
            needed
                .entry(name.clone())
                .or_insert_with(|| scenario.id.clone());
        }
        Var::Fixture(name) if !profile.fixtures.contains_key(name) => {
            return Err(missing("fixture", name));
        }
        Var::Path(name) if !profile.paths.contains_key(name) => {
            return Err(missing("path", name));
        }
        _ => {}
    }
    Ok(())
}

pub(crate) fn uses_receiver(scenario: &Scenario) -> bool {
    let steps = scenario.setup.iter().chain(&scenario.cleanup);
    steps.clone().any(|s| matches!(s, Step::Receiver(_)))
        || scenario
            .templates()
            .iter()
            .any(|(t, _)| t.vars().any(|v| *v == Var::ReceiverUrl))
}

/// A fresh run id: `cr` and ten hex digits, from the process's random hasher seed.
pub(crate) fn new_run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let hash = RandomState::new().hash_one((nanos, std::process::id()));
    format!("cr{:010x}", hash & 0xff_ffff_ffff)
}
