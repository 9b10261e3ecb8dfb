//! What a target must provide for a selection of scenarios, before anything
//! is sent: `conformance-runner requirements --profile P`.
//!
//! A staging owner reads it to know what to prepare: the credentials (and the
//! environment variable of each), the fixtures and base paths the scenarios
//! name, the reachability check, and the capabilities some scenarios need
//! (a webhook receiver the target can reach, a client address the target
//! believes from `X-Forwarded-For` / `Forwarded`), with the profile's skips.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use crate::model::profile::{Credential, Profile};
use crate::model::scenario::{Scenario, Step};
use crate::model::template::Var;
use crate::plan::policy::{self, Kind, POLICIES};
use crate::plan::select::{self, Filter, Shard};

/// Everything the selected scenarios need from a target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Requirements {
    /// The profile's file, as given (the embedded profile's name for the mock).
    pub profile: String,
    /// The profile's `base_url`, if any.
    pub base_url: Option<String>,
    /// The reachability check, in words.
    pub reachability: String,
    /// Scenarios selected, and how many of them prove a standard rule.
    pub selected: usize,
    /// Of those, standard.
    pub standard: usize,
    /// Credential name to (where its value comes from, scenarios using it).
    pub credentials: BTreeMap<String, (String, Vec<String>)>,
    /// Fixture name to (its value, scenarios using it).
    pub fixtures: BTreeMap<String, (String, Vec<String>)>,
    /// Base path name to (its value, scenarios using it).
    pub paths: BTreeMap<String, (String, Vec<String>)>,
    /// A capability in words to the scenarios needing it.
    pub capabilities: BTreeMap<String, Vec<String>>,
    /// Scenarios the profile skips, with the reason.
    pub skipped: Vec<(String, String)>,
    /// What each used fixture and credential must be on the target, in the
    /// policy table's order: (label, the policy in words).
    pub policies: Vec<(String, String)>,
    /// Used fixtures and credentials the policy table has no row for.
    pub unexplained: Vec<String>,
}

/// A webhook receiver capability.
pub(crate) const RECEIVER: &str = "a webhook receiver the target can reach ([receiver] public_url or public_url_env, or a loopback target)";
/// A believed client address capability.
pub(crate) const CLIENT_ADDRESS: &str = "the target believes the runner's X-Forwarded-For / Forwarded (the runner is a trusted proxy), so a scenario can name its client address";

/// A source address the target does not trust as a proxy.
pub(crate) const UNTRUSTED_SOURCE: &str = "a local address the runner can send from that the target does not trust as a proxy ([network] untrusted_source; 0.0.0.0 for the host's own when the runner reaches the target directly)";

/// The requirements of the scenarios `filters` and `shard` select under `profile`.
pub(crate) fn requirements(
    profile: &Profile,
    scenarios: Vec<Scenario>,
    filters: &[Filter],
    shard: Option<Shard>,
) -> Requirements {
    let scenarios: Vec<Scenario> = scenarios
        .into_iter()
        .filter(|s| !profile.standard_only || s.standard.is_some())
        .collect();
    let selected = select::select(scenarios, filters, shard);
    let mut out = Requirements {
        profile: profile.file.clone(),
        base_url: profile.base_url.clone(),
        reachability: match (&profile.reachability, profile.reachability_path()) {
            (Some(r), Some(path)) => {
                let mut text = format!("GET {path} answers {}", r.status);
                if let Some(m) = &r.media_type {
                    let _ = write!(text, " {m}");
                }
                for (pointer, value) in &r.body {
                    let _ = write!(text, " with {pointer} = {value}");
                }
                text
            }
            _ => "GET /healthz answers anything (no [reachability] in the profile)".into(),
        },
        selected: selected.len(),
        standard: selected.iter().filter(|s| s.standard.is_some()).count(),
        ..Requirements::default()
    };
    for s in &selected {
        if let Some(skip) = profile.skip_for(&s.id) {
            out.skipped.push((s.id.clone(), skip.reason.clone()));
            continue;
        }
        let vars: Vec<Var> = s
            .templates()
            .into_iter()
            .flat_map(|(t, _)| t.vars().cloned().collect::<Vec<_>>())
            .collect();
        for var in vars {
            let id = s.id.clone();
            let add =
                |map: &mut BTreeMap<String, (String, Vec<String>)>, name: &str, value: String| {
                    let entry = map.entry(name.to_owned()).or_insert((value, Vec::new()));
                    if !entry.1.contains(&id) {
                        entry.1.push(id.clone());
                    }
                };
            match &var {
                Var::Credential(name) => {
                    let source = match profile.credentials.get(name) {
                        Some(Credential::Env(var)) => format!("environment variable {var}"),
                        Some(Credential::Literal(_)) => {
                            "written in the profile (loopback targets only)".into()
                        }
                        None => "MISSING from the profile".into(),
                    };
                    add(&mut out.credentials, name, source);
                }
                Var::Fixture(name) => {
                    let value = profile
                        .fixtures
                        .get(name)
                        .map_or_else(|| "MISSING from the profile".into(), |v| format!("{v:?}"));
                    add(&mut out.fixtures, name, value);
                }
                Var::Path(name) => {
                    let value = profile
                        .paths
                        .get(name)
                        .map_or_else(|| "MISSING from the profile".into(), |v| format!("{v:?}"));
                    add(&mut out.paths, name, value);
                }
                _ => {}
            }
        }
        let mut need = |what: &str| {
            let list = out.capabilities.entry(what.to_owned()).or_default();
            if !list.contains(&s.id) {
                list.push(s.id.clone());
            }
        };
        if crate::plan::uses_receiver(s) {
            need(RECEIVER);
        }
        let requests = s
            .setup
            .iter()
            .filter_map(|step| match step {
                Step::Http(h) => Some(&h.request),
                Step::Receiver(_) | Step::WebAuthn(_) | Step::Totp(_) => None,
            })
            .chain([&s.request]);
        let names_client = requests
            .flat_map(|r| r.headers.iter())
            .any(|(h, _)| h == "x-forwarded-for" || h == "forwarded");
        if names_client {
            need(CLIENT_ADDRESS);
        }
        if s.tags.iter().any(|t| t == crate::plan::UNTRUSTED_PEER_TAG) {
            need(UNTRUSTED_SOURCE);
        }
    }
    for p in POLICIES {
        let used = match p.kind {
            Kind::Fixture => out
                .fixtures
                .get(p.name)
                .map(|(v, _)| format!("fixture `{}` = {v}", p.name)),
            Kind::Credential => out
                .credentials
                .contains_key(p.name)
                .then(|| format!("credential `{}`", p.name)),
        };
        if let Some(label) = used {
            out.policies
                .push((label, policy::render(p.text, &profile.fixtures)));
        }
    }
    let unexplained_fixtures = out
        .fixtures
        .keys()
        .filter(|n| policy::policy(Kind::Fixture, n).is_none())
        .map(|n| format!("fixture `{n}`"));
    let unexplained_credentials = out
        .credentials
        .keys()
        .filter(|n| policy::policy(Kind::Credential, n).is_none())
        .map(|n| format!("credential `{n}`"));
    out.unexplained = unexplained_fixtures
        .chain(unexplained_credentials)
        .collect();
    out
}

impl fmt::Display for Requirements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |ids: &[String]| -> String {
            match ids {
                [one] => one.clone(),
                [first, rest @ ..] => format!("{first} and {} more", rest.len()),
                [] => String::new(),
            }
        };
        writeln!(
            f,
            "What a target needs for {} scenario(s) ({} standard) under {}",
            self.selected, self.standard, self.profile
        )?;
        writeln!(f, "\nTarget")?;
        match &self.base_url {
            Some(url) => writeln!(f, "  {url} (or --target URL)")?,
            None => writeln!(f, "  --target URL (the profile has no base_url)")?,
        }
        writeln!(f, "  reachability: {}", self.reachability)?;
        writeln!(f, "\nCredentials (each must be set and non-empty)")?;
        if self.credentials.is_empty() {
            writeln!(f, "  none")?;
        }
        for (name, (source, ids)) in &self.credentials {
            writeln!(f, "  {name:<22} {source:<44} {}", list(ids))?;
        }
        writeln!(f, "\nBase paths")?;
        if self.paths.is_empty() {
            writeln!(f, "  none")?;
        }
        for (name, (value, ids)) in &self.paths {
            writeln!(f, "  {name:<22} {value:<44} {}", list(ids))?;
        }
        writeln!(
            f,
            "\nFixtures (things the target must already hold, by name)"
        )?;
        if self.fixtures.is_empty() {
            writeln!(f, "  none")?;
        }
        for (name, (value, ids)) in &self.fixtures {
            writeln!(f, "  {name:<22} {value:<44} {}", list(ids))?;
        }
        writeln!(
            f,
            "\nWhat each must be on the target (prepare it from this list)"
        )?;
        if self.policies.is_empty() && self.unexplained.is_empty() {
            writeln!(f, "  nothing")?;
        }
        for (label, text) in &self.policies {
            writeln!(f, "  {label}\n    {text}")?;
        }
        for label in &self.unexplained {
            writeln!(
                f,
                "  {label}\n    (no policy written: the scenarios that use it say what they need)"
            )?;
        }
        writeln!(f, "\nCapabilities")?;
        if self.capabilities.is_empty() {
            writeln!(f, "  none")?;
        }
        for (what, ids) in &self.capabilities {
            writeln!(
                f,
                "  {what}\n    {} scenario(s): {}",
                ids.len(),
                ids.join(", ")
            )?;
        }
        if !self.skipped.is_empty() {
            writeln!(f, "\nSkipped by the profile")?;
            for (id, reason) in &self.skipped {
                writeln!(f, "  {id}: {reason}")?;
            }
        }
        Ok(())
    }
}
