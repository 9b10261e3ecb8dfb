//! Running scenarios: setup, the asserted request, checks, cleanup.
//!
//! Scenarios run concurrently (at most `jobs` at once), each with its own
//! slug (`<run id>-<index>`) so the resources it creates and its receiver
//! slot are its own. Setup steps retry on 429 honouring `Retry-After`
//! (bounded per wait and in total by the profile); the asserted request is
//! sent exactly once. Each scenario's cleanup steps run after it, whatever its
//! outcome.
//!
//! Every byte from the target is hostile: bodies are read in chunks up to the
//! profile's `max_body_bytes` (a larger one fails the scenario, "body larger
//! than N"), and a response is redacted as soon as it arrives, before checks
//! quote excerpts of it; only captures see the raw value.
//!
//! On an interruption (Ctrl-C, SIGTERM, `--deadline`) no new step starts, but
//! a request in flight is let finish, so what it created is captured and
//! cleaned up; every scenario cleans up concurrently, all within the
//! profile's `cleanup_budget_secs`. What could not be cleaned up is named in
//! a warning, and [`left_behind`] names it while the run goes on (the binary
//! prints it when a second Ctrl-C aborts at once).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http::HeaderValue;
use http::header::CONTENT_TYPE;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::check::{self, Finding, Observed, PLATFORM, RULE_SETUP, RULE_TRANSPORT, render_json};
use crate::profile::{Credential, Profile};
use crate::receiver::{Behaviour, Receiver};
use crate::redact::{REDACTED_HEADER_NAME, Redactor, SENSITIVE_HEADERS};
use crate::report::progress::Progress;
use crate::report::{
    EnvRef, Outcome, Replay, RequestRecord, ResponseRecord, ScenarioReport, StepRecord,
};
use crate::scenario::{Body, CaptureFrom, HttpStep, ReceiverStep, Request, Scenario, Step};
use crate::template::{RenderError, Var, Vars};

mod webauthn;

/// Retries of a setup step answered 429.
pub const SETUP_RETRIES: u32 = 3;
/// Longest `Retry-After` a setup step waits for; a longer one fails the step.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Longest body excerpt in a setup finding.
const EXCERPT: usize = 300;
/// Largest body kept whole in a report; a larger one is kept as an excerpt.
pub const REPORT_BODY_MAX: usize = 64 * 1024;
/// Length of that excerpt, in characters.
const REPORT_EXCERPT: usize = 4096;

/// Scenarios of every run in this process whose cleanup has not run yet,
/// by slug: what a second Ctrl-C leaves behind.
static OPEN: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

/// What the runs in this process have created and not cleaned up yet, one
/// line per scenario (its id, the step in flight, the captured values).
pub fn left_behind() -> Vec<String> {
    lock(&OPEN).values().cloned().collect()
}

/// Everything scenarios share during a run.
pub(crate) struct Shared {
    pub client: reqwest::Client,
    pub base_url: String,
    pub profile: Profile,
    pub credentials: BTreeMap<String, String>,
    pub receiver: Option<Receiver>,
    pub run_id: String,
    pub redactor: Mutex<Redactor>,
    /// Stop starting scenarios after this many failed (`--max-fail`).
    pub max_fail: Option<usize>,
    failures: AtomicUsize,
    /// `${VAR}` for each credential, for replays: never a value.
    replay_credentials: BTreeMap<String, String>,
    /// Where each credential's variable gets its value, by credential name.
    credential_env: BTreeMap<String, EnvRef>,
    pending: Mutex<BTreeMap<usize, Pending>>,
    warnings: Mutex<Vec<String>>,
    stop: tokio::sync::watch::Sender<bool>,
    retry_waited_ms: AtomicU64,
    retry_budget_warned: AtomicBool,
}

/// A scenario whose cleanup has not run yet, with what it has captured.
struct Pending {
    scenario: Arc<Scenario>,
    captures: BTreeMap<String, String>,
    in_flight: Option<String>,
}

impl Pending {
    /// One line for a person: the scenario, the step in flight, the ids it
    /// captured (secret ones redacted).
    fn describe(&self, slug: &str) -> String {
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

/// What a run produced before it is assembled into a report.
pub(crate) struct Outcomes {
    pub reports: Vec<ScenarioReport>,
    pub warnings: Vec<String>,
    pub interrupted: bool,
}

impl Shared {
    pub fn new(
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
                    format!("CONFORMANCE_{}", env_name(name)),
                    if profile.file == crate::profile::MOCK_PROFILE_NAME {
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

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Completes once the run is interrupted.
    async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Updates a scenario's pending entry (and the process-wide list).
    fn track(&self, index: usize, slug: &str, update: impl FnOnce(&mut Pending)) {
        let mut pending = lock(&self.pending);
        if let Some(p) = pending.get_mut(&index) {
            update(p);
            lock(&OPEN).insert(slug.to_owned(), p.describe(slug));
        }
    }

    fn untrack(&self, index: usize, slug: &str) {
        lock(&self.pending).remove(&index);
        lock(&OPEN).remove(slug);
    }

    /// Variables common to every scenario; the caller sets slug and receiver URL.
    fn vars(&self) -> Vars<'_> {
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

    fn warn(&self, text: String) {
        lock(&self.warnings).push(text);
    }

    fn add_secret(&self, value: &str) {
        lock(&self.redactor).add(value);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `scenarios` (index, scenario) with at most `jobs` at once, until all
/// finish or `interrupt` completes.
pub(crate) async fn run_all(
    shared: Arc<Shared>,
    scenarios: Vec<(usize, Arc<Scenario>)>,
    jobs: usize,
    progress: &Progress,
    interrupt: impl Future<Output = ()>,
) -> Outcomes {
    let semaphore = Arc::new(Semaphore::new(jobs.max(1)));
    let mut set = JoinSet::new();
    let mut task_ids = BTreeMap::new();
    for (index, scenario) in &scenarios {
        let (shared, semaphore, scenario, index) =
            (shared.clone(), semaphore.clone(), scenario.clone(), *index);
        let handle = set.spawn(async move {
            // The semaphore is never closed, so acquiring cannot fail.
            let _permit = semaphore.acquire_owned().await;
            if let Some(max) = shared.max_fail
                && shared.failures.load(Ordering::SeqCst) >= max
            {
                let mut r = skeleton(&scenario, Outcome::Skipped);
                r.skip_reason = Some(format!("not run: {max} failed already (--max-fail {max})"));
                return (r, index);
            }
            let report = run_one(&shared, index, scenario).await;
            if report.0.outcome == Outcome::Failed {
                shared.failures.fetch_add(1, Ordering::SeqCst);
            }
            report
        });
        task_ids.insert(handle.id(), index);
    }
    let mut reports: BTreeMap<usize, ScenarioReport> = BTreeMap::new();
    let mut interrupt = std::pin::pin!(interrupt);
    let interrupted = loop {
        tokio::select! {
            next = set.join_next_with_id() => match next {
                Some(Ok((_, report))) => {
                    progress.finished(&report.0.id, report.0.outcome, report.0.duration_ms);
                    reports.insert(report.1, report.0);
                }
                Some(Err(e)) => {
                    // A panicking scenario task is a runner bug; report it on its scenario.
                    if let Some(&index) = task_ids.get(&e.id())
                        && let Some((_, scenario)) = scenarios.iter().find(|(i, _)| *i == index)
                    {
                        let mut r = skeleton(scenario, Outcome::Failed);
                        r.findings.push(Finding {
                            rule: RULE_TRANSPORT.into(),
                            at: "request".into(),
                            expected: "the scenario to run".into(),
                            actual: format!("the runner failed: {e}"),
                            fix: None,
                            docs: None,
                            basis: PLATFORM.into(),
                            hint: None,
                        });
                        progress.finished(&r.id, r.outcome, 0);
                        reports.insert(index, r);
                    }
                }
                None => break false,
            },
            () = &mut interrupt => break true,
        }
    };
    if interrupted {
        // No new step starts; steps in flight finish, so what they create is
        // captured, and every scenario runs its own cleanup, concurrently.
        shared.stop.send_replace(true);
        let budget = shared.profile.limits.cleanup_budget;
        let drain = async {
            while let Some(next) = set.join_next().await {
                if let Ok((report, index)) = next {
                    progress.finished(&report.id, report.outcome, report.duration_ms);
                    reports.insert(index, report);
                }
            }
        };
        if tokio::time::timeout(budget, drain).await.is_err() {
            set.abort_all();
            while set.join_next().await.is_some() {}
            let pending = std::mem::take(&mut *lock(&shared.pending));
            let mut open = lock(&OPEN);
            let left: Vec<String> = pending
                .iter()
                .map(|(index, p)| {
                    let slug = format!("{}-{index}", shared.run_id);
                    open.remove(&slug);
                    p.describe(&slug)
                })
                .collect();
            drop(open);
            shared.warn(format!(
                "cleanup after the interruption did not finish within {} s; left behind: {}",
                budget.as_secs(),
                left.join("; ")
            ));
        }
        for (index, scenario) in &scenarios {
            reports.entry(*index).or_insert_with(|| {
                let mut r = skeleton(scenario, Outcome::Skipped);
                r.skip_reason = Some("interrupted".into());
                r
            });
        }
    }
    Outcomes {
        reports: reports.into_values().collect(),
        warnings: std::mem::take(&mut *lock(&shared.warnings)),
        interrupted,
    }
}

/// A report for `scenario` with no result yet.
pub(crate) fn skeleton(scenario: &Scenario, outcome: Outcome) -> ScenarioReport {
    ScenarioReport {
        id: scenario.id.clone(),
        code: scenario.code.name().to_owned(),
        category: scenario.category().slug().to_owned(),
        tags: scenario.tags.clone(),
        description: scenario.description.clone(),
        basis: scenario
            .standard
            .clone()
            .unwrap_or_else(|| PLATFORM.to_owned()),
        file: scenario.source.file.clone(),
        line: scenario.source.line,
        outcome,
        skip_reason: None,
        duration_ms: 0,
        findings: Vec::new(),
        steps: Vec::new(),
        request: None,
        response: None,
        drift: Vec::new(),
        waiver: None,
        captures: BTreeMap::new(),
    }
}

async fn run_one(
    shared: &Shared,
    index: usize,
    scenario: Arc<Scenario>,
) -> (ScenarioReport, usize) {
    let started = Instant::now();
    let slug = format!("{}-{index}", shared.run_id);
    let receiver_url = shared
        .receiver
        .as_ref()
        .map(|r| r.url(&slug))
        .unwrap_or_default();
    let mut vars = shared.vars();
    vars.slug = &slug;
    vars.receiver_url = &receiver_url;
    let mut report = skeleton(&scenario, Outcome::Passed);
    if shared.stopping() {
        report.outcome = Outcome::Skipped;
        report.skip_reason = Some("interrupted".into());
        return (report, index);
    }
    lock(&shared.pending).insert(
        index,
        Pending {
            scenario: scenario.clone(),
            captures: BTreeMap::new(),
            in_flight: None,
        },
    );

    let mut report = skeleton(&scenario, Outcome::Passed);
    match run_setup(
        shared,
        index,
        &scenario,
        &slug,
        &mut vars,
        &mut report.steps,
    )
    .await
    {
        Err(finding) => report.findings.push(finding),
        Ok(()) if shared.stopping() => {
            report.outcome = Outcome::Skipped;
            report.skip_reason = Some("interrupted".into());
        }
        Ok(()) => assert_request(shared, &scenario, &mut vars, &mut report).await,
    }
    // Non-secret captures let snapshots name generated values; secret ones
    // are redacted in the report already and never leave memory.
    report.captures = vars
        .captures
        .iter()
        .filter(|(name, _)| !Redactor::is_secret_name(name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    shared.track(index, &slug, |p| p.in_flight = Some("cleanup".into()));
    run_cleanup(shared, &scenario, &mut vars).await;
    shared.untrack(index, &slug);

    if !report.findings.is_empty() {
        report.outcome = Outcome::Failed;
    }
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    (report, index)
}

async fn run_setup(
    shared: &Shared,
    index: usize,
    scenario: &Scenario,
    slug: &str,
    vars: &mut Vars<'_>,
    records: &mut Vec<StepRecord>,
) -> Result<(), Finding> {
    let setup_finding = |at: &str, expected: String, actual: String| {
        // A standard scenario's setup is standard too (creating a user):
        // its failure rests on the scenario's rule.
        let basis = scenario
            .standard
            .clone()
            .unwrap_or_else(|| PLATFORM.to_owned());
        Finding::new(
            RULE_SETUP,
            format!("setup:{at}"),
            expected,
            actual,
            scenario.code,
            &shared.profile,
        )
        .with_basis(basis, format!("let the setup step {at} succeed"))
    };
    for step in &scenario.setup {
        if shared.stopping() {
            return Ok(());
        }
        match step {
            Step::Receiver(r) => configure_receiver(shared, slug, r, vars)
                .map_err(|e| setup_finding("receiver", "a receiver setting".into(), e))?,
            Step::WebAuthn(step) => webauthn::run(shared, step, vars)
                .map_err(|(expected, actual)| setup_finding(&step.name, expected, actual))?,
            Step::Totp(step) => webauthn::run_totp(shared, step, vars)
                .map_err(|(expected, actual)| setup_finding(&step.name, expected, actual))?,
            Step::Http(step) => {
                // Recorded before the request is sent: if the run stops now,
                // the list of what was left names this step.
                shared.track(index, slug, |p| p.in_flight = Some(step.name.clone()));
                if let Ok(prepared) = prepare(shared, &step.request, vars) {
                    let mut request = prepared.record();
                    request.replay = replay(shared, scenario, &step.request, vars);
                    records.push(StepRecord {
                        name: step.name.clone(),
                        request,
                        status: None,
                    });
                }
                let result = run_step(shared, step, vars, true).await;
                if let (Some(record), Ok(observed)) = (records.last_mut(), &result) {
                    record.status = Some(observed.status);
                }
                let observed = result
                    .map_err(|(expected, actual)| setup_finding(&step.name, expected, actual))?;
                capture(shared, step, &observed, vars)
                    .map_err(|(expected, actual)| setup_finding(&step.name, expected, actual))?;
                let captures = vars.captures.clone();
                shared.track(index, slug, |p| {
                    p.captures = captures;
                    p.in_flight = None;
                });
            }
        }
    }
    Ok(())
}

fn configure_receiver(
    shared: &Shared,
    slug: &str,
    step: &ReceiverStep,
    vars: &Vars<'_>,
) -> Result<(), String> {
    let receiver = shared
        .receiver
        .as_ref()
        .ok_or("the webhook receiver is not running")?;
    let behaviour = match step {
        ReceiverStep::Respond(status) => Behaviour::Respond(*status),
        ReceiverStep::Verify(t) => {
            let secret = t.render(vars).map_err(|e| e.to_string())?;
            shared.add_secret(&secret);
            Behaviour::Verify(secret)
        }
    };
    receiver.set(slug, behaviour);
    Ok(())
}

/// Sends a setup or cleanup step `repeat` times; every answer must be 2xx or
/// allowed. Errors are (expected, actual).
async fn run_step(
    shared: &Shared,
    step: &HttpStep,
    vars: &Vars<'_>,
    retry: bool,
) -> Result<Observed, (String, String)> {
    let expected = if step.allow_status.is_empty() {
        "a 2xx status".to_owned()
    } else {
        let allowed: Vec<String> = step.allow_status.iter().map(u16::to_string).collect();
        format!("a 2xx status or {}", allowed.join(", "))
    };
    let mut last = None;
    for _ in 0..step.repeat {
        let observed = send_retrying(
            shared,
            &step.request,
            vars,
            retry && !step.allow_status.contains(&429),
        )
        .await
        .map_err(|e| (expected.clone(), e))?;
        let ok =
            (200..300).contains(&observed.status) || step.allow_status.contains(&observed.status);
        if !ok {
            return Err((expected, describe_response(shared, &observed)));
        }
        last = Some(observed);
    }
    // `repeat` is at least 1 (validated at load).
    last.ok_or_else(|| (expected, "no request sent".to_owned()))
}

/// The status and a body excerpt, redacted before it is cut.
fn describe_response(shared: &Shared, observed: &Observed) -> String {
    let body = {
        let mut redactor = lock(&shared.redactor);
        redactor.sync();
        redactor.text(&String::from_utf8_lossy(&observed.body))
    };
    format!("{} {}", observed.status, excerpt(body.trim(), EXCERPT))
}

/// At most `max` characters of `text`, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// The response as reports and checks see it: every secret redacted in the
/// body, header values and header names.
fn redacted(shared: &Shared, observed: &Observed) -> Observed {
    let mut redactor = lock(&shared.redactor);
    redactor.sync();
    let body = String::from_utf8_lossy(&observed.body);
    let body = if redactor.contains_secret(&body) {
        redactor.text(&body).into_bytes()
    } else {
        observed.body.clone()
    };
    let mut headers = http::HeaderMap::new();
    for (name, value) in &observed.headers {
        let name = if redactor.contains_secret(name.as_str()) {
            http::HeaderName::from_static(REDACTED_HEADER_NAME)
        } else {
            name.clone()
        };
        let text = String::from_utf8_lossy(value.as_bytes());
        let value = if redactor.contains_secret(&text) {
            // "[REDACTED]" is visible ASCII, valid in a header value.
            HeaderValue::from_bytes(redactor.text(&text).as_bytes())
                .unwrap_or_else(|_| HeaderValue::from_static(crate::redact::REDACTED))
        } else {
            value.clone()
        };
        headers.append(name, value);
    }
    Observed {
        status: observed.status,
        headers,
        body,
    }
}

fn capture(
    shared: &Shared,
    step: &HttpStep,
    observed: &Observed,
    vars: &mut Vars<'_>,
) -> Result<(), (String, String)> {
    capture_values(shared, &step.captures, observed, vars)
}

fn capture_values(
    shared: &Shared,
    captures: &[(String, CaptureFrom)],
    observed: &Observed,
    vars: &mut Vars<'_>,
) -> Result<(), (String, String)> {
    if captures.is_empty() {
        return Ok(());
    }
    let body: Option<Value> = serde_json::from_slice(&observed.body).ok();
    for (name, from) in captures {
        let value = match from {
            CaptureFrom::Body(pointer) => {
                body.as_ref()
                    .and_then(|b| b.pointer(pointer))
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
            }
            CaptureFrom::Header(h) => observed
                .headers
                .get(h)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        };
        let Some(value) = value else {
            let at = match from {
                CaptureFrom::Body(p) => format!("body:{p}"),
                CaptureFrom::Header(h) => format!("header:{h}"),
            };
            return Err((
                format!("a value at {at} to capture as `{name}`"),
                describe_response(shared, observed),
            ));
        };
        if Redactor::is_secret_name(name) {
            shared.add_secret(&value);
        }
        vars.captures.insert(name.clone(), value);
    }
    Ok(())
}

async fn assert_request(
    shared: &Shared,
    scenario: &Scenario,
    vars: &mut Vars<'_>,
    report: &mut ScenarioReport,
) {
    let prepared = match prepare(shared, &scenario.request, vars) {
        Ok(p) => p,
        Err(e) => {
            report.findings.push(Finding::new(
                RULE_SETUP,
                "request",
                "a request built from the scenario",
                e.to_string(),
                scenario.code,
                &shared.profile,
            ));
            return;
        }
    };
    let mut request = prepared.record();
    request.replay = replay(shared, scenario, &scenario.request, vars);
    report.request = Some(request);
    // The asserted request is sent exactly once: a retry could hide the very
    // error the scenario proves (a 429, a spent token).
    // Stopping cancels it: an asserted request exists to be refused, and
    // waiting for a hanging one would spend the cleanup budget.
    let sent = tokio::select! {
        sent = send(shared, prepared) => sent,
        () = shared.stopped() => {
            report.outcome = Outcome::Skipped;
            report.skip_reason = Some("interrupted".into());
            return;
        }
    };
    match sent {
        Err(e) => report.findings.push(Finding::new(
            RULE_TRANSPORT,
            "request",
            "a response",
            e,
            scenario.code,
            &shared.profile,
        )),
        Ok(observed) => {
            let shown = redacted(shared, &observed);
            report.findings = check::check(scenario, &shown, &shared.profile, vars);
            report.response = Some(record(&shown));
            // A target that wrongly succeeded may have made something the
            // cleanup must remove; what is not there is simply not captured.
            if (200..300).contains(&observed.status) {
                for capture in &scenario.request_captures {
                    let _ = capture_values(shared, std::slice::from_ref(capture), &observed, vars);
                }
            }
        }
    }
}

async fn run_cleanup(shared: &Shared, scenario: &Scenario, vars: &mut Vars<'_>) {
    for step in &scenario.cleanup {
        let local = match step {
            Step::WebAuthn(w) => Some((w.name.as_str(), w.templates())),
            Step::Totp(t) => Some((t.name.as_str(), vec![&t.secret])),
            Step::Http(_) | Step::Receiver(_) => None,
        };
        if let Some((name, templates)) = local {
            let missing = templates
                .iter()
                .flat_map(|t| t.vars())
                .any(|v| matches!(v, Var::Capture(n) if !vars.captures.contains_key(n)));
            if missing {
                continue;
            }
            let result = match step {
                Step::WebAuthn(w) => webauthn::run(shared, w, vars),
                Step::Totp(t) => webauthn::run_totp(shared, t, vars),
                Step::Http(_) | Step::Receiver(_) => Ok(()),
            };
            if let Err((_, actual)) = result {
                shared.warn(format!(
                    "{}: cleanup step `{name}` failed: {actual}",
                    scenario.id
                ));
                return;
            }
            continue;
        }
        let Step::Http(step) = step else { continue };
        // A step whose captures never happened has nothing to clean up.
        let missing = step_vars(&step.request)
            .any(|v| matches!(v, Var::Capture(n) if !vars.captures.contains_key(&n)))
            || step
                .if_captured
                .as_ref()
                .is_some_and(|n| !vars.captures.contains_key(n));
        if missing {
            continue;
        }
        let result = match run_step(shared, step, vars, true).await {
            Ok(observed) => capture(shared, step, &observed, vars),
            Err(e) => Err(e),
        };
        if let Err((expected, actual)) = result {
            shared.warn(format!(
                "{}: cleanup step `{}` failed: expected {expected}, found {actual}",
                scenario.id, step.name
            ));
            return;
        }
    }
}

fn step_vars(request: &Request) -> impl Iterator<Item = Var> + '_ {
    let mut vars: Vec<Var> = request.path.vars().cloned().collect();
    for (_, t) in &request.headers {
        vars.extend(t.vars().cloned());
    }
    match &request.body {
        Some(Body::Raw(t)) => vars.extend(t.vars().cloned()),
        Some(Body::Json(v)) => json_vars(v, &mut vars),
        None => {}
    }
    vars.into_iter()
}

fn json_vars(value: &Value, out: &mut Vec<Var>) {
    match value {
        Value::String(s) => {
            if let Ok(t) = crate::template::Template::parse(s) {
                out.extend(t.vars().cloned());
            }
        }
        Value::Array(items) => items.iter().for_each(|v| json_vars(v, out)),
        Value::Object(map) => map.values().for_each(|v| json_vars(v, out)),
        _ => {}
    }
}

/// A request with every template rendered.
struct Prepared {
    method: http::Method,
    url: String,
    headers: http::HeaderMap,
    body: Option<Vec<u8>>,
}

impl Prepared {
    fn record(&self) -> RequestRecord {
        RequestRecord {
            method: self.method.to_string(),
            url: self.url.clone(),
            headers: header_map(&self.headers),
            replay: None,
        }
    }
}

/// `request` as a person can send it again: rendered like the real one,
/// except that credentials and captured secrets become `${VAR}` references.
fn replay(
    shared: &Shared,
    scenario: &Scenario,
    request: &Request,
    vars: &Vars<'_>,
) -> Option<Replay> {
    let mut env = std::collections::BTreeSet::new();
    let mut display = vars.clone();
    display.credentials = Some(&shared.replay_credentials);
    for (name, value) in &mut display.captures {
        if Redactor::is_secret_name(name) {
            let var = env_name(name);
            *value = format!("${{{var}}}");
            env.insert(EnvRef {
                source: capture_source(scenario, name),
                name: var,
            });
        }
    }
    for var in step_vars(request) {
        if let Var::Credential(name) = var {
            env.extend(shared.credential_env.get(&name).cloned());
        }
    }
    let prepared = prepare(shared, request, &display).ok()?;
    let body = prepared
        .body
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let headers: Vec<(String, String)> = prepared
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let used = |name: &str| {
        let reference = format!("${{{name}}}");
        prepared.url.contains(&reference)
            || headers.iter().any(|(_, v)| v.contains(&reference))
            || body.as_ref().is_some_and(|b| b.contains(&reference))
    };
    // Only the references this request makes (a secret capture may be unused).
    Some(Replay {
        env: env.into_iter().filter(|e| used(&e.name)).collect(),
        url: prepared.url,
        headers,
        body,
    })
}

/// An environment variable name for a credential or capture name.
fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Where a captured secret comes from, for the person replaying a request.
fn capture_source(scenario: &Scenario, name: &str) -> String {
    let from = scenario.setup.iter().find_map(|step| match step {
        Step::Http(h) => h
            .captures
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, from)| (h.name.as_str(), from)),
        Step::WebAuthn(w) => w
            .captures
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, from)| (w.name.as_str(), from)),
        Step::Totp(t) => t
            .captures
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, from)| (t.name.as_str(), from)),
        Step::Receiver(_) => None,
    });
    match from {
        Some((step, CaptureFrom::Body(pointer))) => {
            format!("`{name}`: the value at {pointer} of the answer to setup step `{step}`")
        }
        Some((step, CaptureFrom::Header(header))) => {
            format!("`{name}`: the {header} header of the answer to setup step `{step}`")
        }
        None => format!("the captured `{name}`"),
    }
}

/// Why a request could not be built.
#[derive(Debug, thiserror::Error)]
enum PrepareError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("header `{0}` has a value that is not valid in a header")]
    HeaderValue(String),
}

fn prepare(shared: &Shared, request: &Request, vars: &Vars<'_>) -> Result<Prepared, PrepareError> {
    let url = format!("{}{}", shared.base_url, request.path.render_path(vars)?);
    let mut headers = http::HeaderMap::new();
    for (name, t) in &request.headers {
        let value = t.render(vars)?;
        let value = HeaderValue::from_str(&value)
            .map_err(|_| PrepareError::HeaderValue(name.to_string()))?;
        headers.append(name.clone(), value);
    }
    let body = match &request.body {
        None => None,
        Some(Body::Raw(t)) => Some(t.render(vars)?.into_bytes()),
        Some(Body::Json(v)) => {
            if !headers.contains_key(CONTENT_TYPE) {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Some(render_json(v, vars)?.to_string().into_bytes())
        }
    };
    Ok(Prepared {
        method: request.method.clone(),
        url,
        headers,
        body,
    })
}

async fn send(shared: &Shared, prepared: Prepared) -> Result<Observed, String> {
    remember_secrets(shared, &prepared.headers);
    let mut builder = shared
        .client
        .request(prepared.method, &prepared.url)
        .headers(prepared.headers);
    if let Some(body) = prepared.body {
        builder = builder.body(body);
    }
    let mut response = builder.send().await.map_err(|e| transport_error(&e))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    remember_secrets(shared, &headers);
    let max = shared.profile.limits.max_body_bytes;
    let too_large = || {
        format!(
            "status {status}, body larger than {max} bytes (the profile's `[limits] max_body_bytes`)"
        )
    };
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    // Read in chunks, so an endless or huge body costs at most `max` bytes.
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e))? {
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Observed {
        status,
        headers,
        body,
    })
}

/// Values of sensitive headers become secrets, so an echo of them anywhere
/// (a body, another header) is redacted too. For `Authorization` the
/// credentials after the scheme are the secret, so reports keep `Bearer`.
fn remember_secrets(shared: &Shared, headers: &http::HeaderMap) {
    for (name, value) in headers {
        if !SENSITIVE_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        let secret = match value.split_once(' ') {
            Some((_, credentials)) if name == http::header::AUTHORIZATION => credentials,
            _ => &value,
        };
        shared.add_secret(secret);
    }
}

/// Sends a setup request; on 429 waits `Retry-After` (at most
/// [`MAX_RETRY_AFTER`]) and tries again, [`SETUP_RETRIES`] times.
async fn send_retrying(
    shared: &Shared,
    request: &Request,
    vars: &Vars<'_>,
    retry: bool,
) -> Result<Observed, String> {
    let mut attempt = 0;
    loop {
        let prepared = prepare(shared, request, vars).map_err(|e| e.to_string())?;
        let observed = send(shared, prepared).await?;
        if !retry || observed.status != 429 || attempt >= SETUP_RETRIES {
            return Ok(observed);
        }
        let wait = retry_after(&observed.headers).unwrap_or(Duration::from_secs(1));
        if wait > MAX_RETRY_AFTER || !spend_retry_budget(shared, wait) {
            return Ok(observed);
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shared.stopped() => return Ok(observed),
        }
        attempt += 1;
    }
}

/// Takes `wait` from the run's `Retry-After` budget; false (and one warning)
/// once it is spent.
fn spend_retry_budget(shared: &Shared, wait: Duration) -> bool {
    let budget =
        u64::try_from(shared.profile.limits.retry_after_budget.as_millis()).unwrap_or(u64::MAX);
    let wait = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    let before = shared.retry_waited_ms.fetch_add(wait, Ordering::Relaxed);
    if before.saturating_add(wait) <= budget {
        return true;
    }
    shared.retry_waited_ms.fetch_sub(wait, Ordering::Relaxed);
    if !shared.retry_budget_warned.swap(true, Ordering::Relaxed) {
        shared.warn(format!(
            "the run's Retry-After budget ({} s, the profile's `[limits] retry_after_budget_secs`) is spent: later 429 answers to setup steps are not retried",
            budget / 1000
        ));
    }
    false
}

/// `Retry-After` in delay-seconds.
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let text = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn transport_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    // The source chain says why (refused, reset); the URL is in the report already.
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        format!("the request {kind}")
    } else {
        format!("the request {kind}: {cause}")
    }
}

fn header_map(headers: &http::HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        out.entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

fn record(observed: &Observed) -> ResponseRecord {
    let body = if observed.body.is_empty() {
        Value::String(String::new())
    } else if observed.body.len() > REPORT_BODY_MAX {
        let text = String::from_utf8_lossy(&observed.body);
        Value::String(format!(
            "{} ({} bytes in all)",
            excerpt(&text, REPORT_EXCERPT),
            observed.body.len()
        ))
    } else {
        serde_json::from_slice(&observed.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&observed.body).into_owned()))
    };
    ResponseRecord {
        status: observed.status,
        headers: header_map(&observed.headers),
        body,
    }
}
