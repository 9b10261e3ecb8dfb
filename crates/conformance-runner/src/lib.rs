//! The conformance runner: proves a server answers every documented error
//! exactly as the catalog says.
//!
//! The engine behind `cargo xtask conformance` and the `conformance-runner`
//! binary. It loads scenarios ([`scenario`]) and a profile ([`profile`]),
//! selects them ([`select`]), runs them concurrently against a target over
//! HTTP ([`exec`]), judges every response with `response_schema::check` plus
//! the scenario's own expectations ([`check`]), and reports ([`report`]) with
//! every secret redacted ([`redact`]). It never depends on the mock: they
//! meet only over HTTP and through the catalog.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use conformance_runner::{Options, Plan, profile::Profile, report::progress::Progress};
//!
//! let options = Options {
//!     target: Some("http://127.0.0.1:8080".into()),
//!     ..Options::new(Profile::mock(), conformance_runner::embedded_scenarios()?)
//! };
//! let plan = Plan::new(options, &|name| std::env::var(name).ok())?;
//! let report = plan.run(&Progress::quiet(), std::future::pending()).await?;
//! println!("{}", report.closing_line());
//! # Ok(()) }
//! ```

// The report schema is one large `json!` literal (src/schema.rs).
#![recursion_limit = "256"]

mod ceremony;
pub mod check;
pub mod cli;
pub mod diff;
mod exec;
pub mod gate;
pub mod init;
pub mod normalize;
pub mod profile;
pub mod receiver;
pub mod redact;
pub mod report;
pub mod requirements;
pub mod scenario;
pub mod schema;
pub mod select;
pub mod snapshot;
pub mod suggest;
pub mod template;
pub mod waiver;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use profile::{Credential, Profile, ProfileError, is_loopback};
use redact::Redactor;
use report::Report;
use report::progress::Progress;
use scenario::{LoadError, Scenario, SourceFile, Step};
use select::{Filter, Shard};
use template::Var;

pub use ceremony::cli::{AuthenticatorCommand, run_authenticator};
pub use exec::left_behind;

/// Default number of scenarios in flight: requests are I/O-bound.
pub const DEFAULT_JOBS: usize = 8;
/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The documented exit codes.
pub mod exit {
    /// Every selected scenario passed and every code is covered.
    pub const PASSED: u8 = 0;
    /// At least one conformance failure (or an uncovered code).
    pub const FAILED: u8 = 1;
    /// A usage or configuration error: nothing was run.
    pub const CONFIG: u8 = 2;
    /// The target did not answer.
    pub const UNREACHABLE: u8 = 3;
    /// Interrupted (Ctrl-C); cleanup ran.
    pub const INTERRUPTED: u8 = 130;
}

static EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/embedded_scenarios.rs"));

/// The scenarios compiled into the runner (`fixtures/scenarios`).
pub fn embedded_scenarios() -> Result<Vec<Scenario>, LoadError> {
    let files: Vec<SourceFile> = EMBEDDED
        .iter()
        .map(|(name, text)| SourceFile {
            name: (*name).to_owned(),
            text: (*text).to_owned(),
        })
        .collect();
    scenario::load(&files)
}

/// Scenarios from `dir`, or the embedded ones.
pub fn load_scenarios(dir: Option<&Path>) -> Result<Vec<Scenario>, LoadError> {
    match dir {
        Some(dir) => scenario::load_dir(dir),
        None => embedded_scenarios(),
    }
}

/// What to run, before validation.
#[derive(Clone, Debug)]
pub struct Options {
    /// The profile.
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
    /// enforced and a stale `[[skip]]` is a warning (see [`stale_skips`]).
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

/// A usage or configuration error (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Scenario files are invalid.
    #[error(transparent)]
    Scenarios(#[from] LoadError),
    /// The profile is invalid.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Neither `--target` nor the profile's `base_url`.
    #[error("no target: pass --target URL or set `base_url` in {0}")]
    NoTarget(String),
    /// The target is not an http(s) URL.
    #[error("target `{0}` is not an http(s) URL")]
    BadTarget(String),
    /// A skip in the profile matches no scenario.
    #[error(
        "{file}:{line}: skip `{pattern}` matches no scenario (remove it, or pass --partial when the scenarios are only a part of the suite)"
    )]
    StaleSkip {
        /// The profile.
        file: String,
        /// The skip's line.
        line: usize,
        /// The pattern.
        pattern: String,
    },
    /// A scenario refers to a credential or fixture the profile lacks.
    #[error(transparent)]
    MissingProfileValue(Box<MissingValue>),
    /// Credentials whose environment variable is unset or empty, all of them.
    #[error(
        "{} credential(s) missing; set {}:\n{}",
        .0.len(),
        if .0.len() == 1 { "this environment variable" } else { "these environment variables" },
        .0.iter().map(|m| format!("  {m}")).collect::<Vec<_>>().join("\n")
    )]
    MissingEnv(Vec<MissingEnv>),
    /// A literal credential with a non-loopback target.
    #[error(
        "credential `{name}` is written in {profile}, but target {target} is not loopback: read it from the environment with `{name} = {{ env = \"...\" }}`"
    )]
    LiteralCredential {
        /// The credential.
        name: String,
        /// The profile file.
        profile: String,
        /// The target.
        target: String,
    },
    /// The filters select nothing.
    #[error("the filters select no scenario")]
    NothingSelected,
    /// Credentials would go over plain HTTP to a non-loopback host.
    #[error(
        "target {target} is plain http:// and not loopback: credentials would travel unencrypted; use https://, or set `[transport] credentials_over_http = true` in {profile} if you mean it"
    )]
    CredentialsOverHttp {
        /// The target.
        target: String,
        /// The profile file.
        profile: String,
    },
}

/// A credential whose environment variable is unset or empty.
#[derive(Debug, thiserror::Error)]
#[error("{var} ({state}): credential `{name}`, needed by `{scenario}`")]
pub struct MissingEnv {
    /// The credential.
    pub name: String,
    /// The variable.
    pub var: String,
    /// `unset` or `empty`.
    pub state: &'static str,
    /// A scenario that uses it.
    pub scenario: String,
}

/// A variable a scenario uses that the profile does not define.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: scenario `{id}` uses `{var}`, but {profile} defines no {kind} `{name}`")]
pub struct MissingValue {
    /// The scenario's file.
    pub file: String,
    /// The line.
    pub line: usize,
    /// The scenario.
    pub id: String,
    /// The variable as written.
    pub var: String,
    /// The profile file.
    pub profile: String,
    /// `credential` or `fixture`.
    pub kind: &'static str,
    /// The missing name.
    pub name: String,
}

/// Why a run could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The target did not answer (exit code 3).
    #[error("target {url} is unreachable: {reason}")]
    Unreachable {
        /// The probed URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The target answered, but not as the expected API does (exit code 3).
    #[error("target {url} is not the expected server: {found} (expected {expected})")]
    WrongServer {
        /// The probed URL.
        url: String,
        /// What the profile's `[reachability]` expects.
        expected: String,
        /// What answered instead.
        found: String,
    },
    /// The webhook receiver could not listen (exit code 2).
    #[error("failed to start the webhook receiver on {addr}: {source}")]
    Receiver {
        /// The bind address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP client could not be built (exit code 2).
    #[error("failed to build the HTTP client: {0}")]
    Client(String),
}

/// A validated run: target, credentials resolved, scenarios selected.
#[derive(Debug)]
pub struct Plan {
    profile: Profile,
    target: reqwest::Url,
    selected: Vec<Arc<Scenario>>,
    skipped: BTreeMap<String, String>,
    credentials: BTreeMap<String, String>,
    redactor: Redactor,
    jobs: usize,
    timeout: Duration,
    run_id: String,
    coverage_enforced: bool,
    max_fail: Option<usize>,
    deadline: Option<Duration>,
    warnings: Vec<String>,
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

        let mut warnings = Vec::new();
        for stale in stale_skips(&profile, &scenarios) {
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
        let any_filter = !filters.is_empty();
        let scenarios: Vec<Scenario> = if profile.standard_only {
            scenarios
                .into_iter()
                .filter(|s| s.standard.is_some())
                .collect()
        } else {
            scenarios
        };
        let selected = select::select(scenarios, &filters, shard);
        if selected.is_empty() && any_filter {
            return Err(ConfigError::NothingSelected);
        }

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
        for s in &selected {
            if let Some(skip) = profile.skip_for(&s.id) {
                skipped.insert(s.id.clone(), skip.reason.clone());
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
                }
            }
            for var in json_body_vars(s) {
                check_var(&profile, s, &var, s.source.line, &mut needed)?;
            }
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
        // One automaton for the profile's secrets, built once: a redactor with
        // pending secrets builds one on every call.
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

    /// The run id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Warnings about the plan itself (plain HTTP with credentials), also
    /// in the report.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The target's base URL.
    pub fn target(&self) -> &reqwest::Url {
        &self.target
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The redactor of the profile's credentials.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Runs the selected scenarios until done or until `interrupt` completes
    /// (cleanups still run), and returns the redacted report.
    pub async fn run(
        &self,
        progress: &Progress,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Report, RunError> {
        let started = std::time::Instant::now();
        let started_at = std::time::SystemTime::now();
        let mut builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("conformance-runner/", env!("CARGO_PKG_VERSION")));
        if is_loopback(&self.target) {
            // A proxy from the environment must not capture loopback traffic.
            builder = builder.no_proxy();
        }
        // The system store (and `SSL_CERT_FILE`) is trusted through reqwest's
        // native roots; a profile may add its own CA. There is no way to turn
        // verification off.
        if let Some(path) = &self.profile.transport.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                RunError::Client(format!("failed to read CA file {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                RunError::Client(format!(
                    "CA file {} holds no PEM certificate: {e}",
                    path.display()
                ))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }

        let client = builder
            .build()
            .map_err(|e| RunError::Client(e.to_string()))?;
        let base = self.target.as_str().trim_end_matches('/').to_owned();
        let token = self
            .profile
            .reachability
            .as_ref()
            .and_then(|r| r.credential.as_ref())
            .and_then(|name| self.credentials.get(name));
        probe(&client, &base, &self.profile, token.map(String::as_str)).await?;

        let runnable: Vec<(usize, Arc<Scenario>)> = self
            .selected
            .iter()
            .enumerate()
            .filter(|(_, s)| !self.skipped.contains_key(&s.id))
            .map(|(i, s)| (i, s.clone()))
            .collect();
        let receiver = if runnable.iter().any(|(_, s)| uses_receiver(s)) {
            let addr = self.profile.receiver_bind;
            Some(
                receiver::Receiver::start(addr, self.profile.receiver_public_url.as_deref())
                    .await
                    .map_err(|source| RunError::Receiver { addr, source })?,
            )
        } else {
            None
        };
        let mut shared = exec::Shared::new(
            client,
            base.clone(),
            self.profile.clone(),
            self.credentials.clone(),
            receiver,
            self.run_id.clone(),
            self.redactor.clone(),
        );
        shared.max_fail = self.max_fail;
        let shared = Arc::new(shared);
        progress.start(runnable.len());
        let deadline_passed = std::sync::atomic::AtomicBool::new(false);
        let stop = async {
            match self.deadline {
                None => interrupt.await,
                Some(deadline) => tokio::select! {
                    () = interrupt => {}
                    () = tokio::time::sleep(deadline) => {
                        deadline_passed.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                },
            }
        };
        let mut outcomes = exec::run_all(shared.clone(), runnable, self.jobs, progress, stop).await;
        progress.finish();
        let mut warnings = self.warnings.clone();
        if deadline_passed.load(std::sync::atomic::Ordering::Relaxed) {
            warnings.push(format!(
                "the run's deadline ({} s, --deadline) passed: cleanup ran, remaining scenarios skipped",
                self.deadline.unwrap_or_default().as_secs()
            ));
        }
        warnings.append(&mut outcomes.warnings);

        let mut reports = outcomes.reports;
        for s in &self.selected {
            if let Some(reason) = self.skipped.get(&s.id) {
                let mut r = exec::skeleton(s, report::Outcome::Skipped);
                r.skip_reason = Some(reason.clone());
                reports.push(r);
            }
        }
        let mut report = Report::new(
            self.run_id.clone(),
            base,
            self.profile.name.clone(),
            self.coverage_enforced,
            reports,
            warnings,
            outcomes.interrupted,
        );
        report.started_at = report::timing::rfc3339(started_at);
        report.wall_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        report.hostname = report::timing::hostname();
        let mut redactor = shared
            .redactor
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        redactor.compact();
        report.redact(&redactor);
        Ok(report)
    }
}

/// The profile's `[[skip]]` entries that match no loaded scenario, as
/// [`ConfigError::StaleSkip`]. `--list` and a run apply the same rule: an
/// error, or a warning with `--partial`.
pub fn stale_skips(profile: &Profile, scenarios: &[Scenario]) -> Vec<ConfigError> {
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

/// Variables inside JSON bodies (their templates are parsed at render time).
fn json_body_vars(scenario: &Scenario) -> Vec<Var> {
    fn walk(value: &serde_json::Value, out: &mut BTreeSet<Var>) {
        match value {
            serde_json::Value::String(s) => {
                if let Ok(t) = template::Template::parse(s) {
                    out.extend(t.vars().cloned());
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(map) => map.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    let requests = scenario
        .setup
        .iter()
        .chain(&scenario.cleanup)
        .filter_map(|s| match s {
            Step::Http(h) => Some(&h.request),
            Step::Receiver(_) | Step::WebAuthn(_) | Step::Totp(_) => None,
        })
        .chain([&scenario.request]);
    for request in requests {
        if let Some(scenario::Body::Json(v)) = &request.body {
            walk(v, &mut out);
        }
    }
    for (_, v) in &scenario.expect.body {
        walk(v, &mut out);
    }
    out.into_iter().collect()
}

fn uses_receiver(scenario: &Scenario) -> bool {
    let steps = scenario.setup.iter().chain(&scenario.cleanup);
    steps.clone().any(|s| matches!(s, Step::Receiver(_)))
        || scenario
            .templates()
            .iter()
            .any(|(t, _)| t.vars().any(|v| *v == Var::ReceiverUrl))
        || json_body_vars(scenario).contains(&Var::ReceiverUrl)
}

/// Whether the target answers, and answers as the profile's
/// `[reachability]` says the expected API does. Without that section any
/// HTTP answer from `/healthz` will do.
async fn probe(
    client: &reqwest::Client,
    base: &str,
    profile: &Profile,
    token: Option<&str>,
) -> Result<(), RunError> {
    let path = match &profile.reachability {
        Some(r) => {
            let vars = template::Vars {
                fixtures: Some(&profile.fixtures),
                paths: Some(&profile.paths),
                ..template::Vars::default()
            };
            // The profile loader checked every variable of this path.
            r.path.render(&vars).unwrap_or_default()
        }
        None => "/healthz".to_owned(),
    };
    let url = format!("{base}{path}");
    let mut request = client.get(&url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => {
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                reason = s.to_string();
                source = s.source();
            }
            return Err(RunError::Unreachable { url, reason });
        }
    };
    let Some(want) = &profile.reachability else {
        return Ok(());
    };
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    // A bounded read: the probe needs only the start of a small document.
    let mut body = Vec::new();
    let mut response = response;
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > 64 * 1024 {
            break;
        }
    }
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let body_ok = want
        .body
        .iter()
        .all(|(pointer, value)| json.as_ref().and_then(|j| j.pointer(pointer)) == Some(value));
    let media_ok = want.media_type.is_none() || want.media_type == media;
    if status == want.status && media_ok && body_ok {
        return Ok(());
    }
    let mut expected = want.status.to_string();
    if let Some(m) = &want.media_type {
        expected.push_str(&format!(" {m}"));
    }
    for (pointer, value) in &want.body {
        expected.push_str(&format!(" with {pointer} = {value}"));
    }
    let excerpt: String = String::from_utf8_lossy(&body[..body.len().min(200)])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(60)
        .collect();
    let found = format!(
        "{status} {} {:?}",
        media.unwrap_or_else(|| "(no content-type)".into()),
        excerpt.trim()
    );
    Err(RunError::WrongServer {
        url,
        expected,
        found,
    })
}

/// A fresh run id: `cr` and ten hex digits, from the process's random hasher seed.
pub(crate) fn new_run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let hash = RandomState::new().hash_one((nanos, std::process::id()));
    format!("cr{:010x}", hash & 0xff_ffff_ffff)
}
