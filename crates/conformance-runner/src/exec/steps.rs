//! One scenario: its setup steps, the asserted request sent exactly once
//! and checked, and its cleanup steps whatever the outcome.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;

use crate::check::{self, Finding, Observed, PLATFORM, RULE_SETUP, RULE_TRANSPORT};
use crate::exec::ceremony;
use crate::exec::cleanup::{Pending, lock};
use crate::exec::http::{describe_response, prepare, record, redacted, send_via};
use crate::exec::receiver::Behaviour;
use crate::exec::replay::{replay, step_vars};
use crate::exec::retry::send_retrying;
use crate::exec::shared::Shared;
use crate::model::scenario::{CaptureFrom, HttpStep, ReceiverStep, Scenario, Step};
use crate::model::template::{Var, Vars};
use crate::redact::Redactor;
use crate::report::{Outcome, ScenarioReport, StepRecord};

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
        built_in: scenario.source.built_in,
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

pub(crate) async fn run_one(
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
        // A delivery the runner's receiver refused explains the failure:
        // say why next to what the server must do.
        let rejected = shared
            .receiver
            .as_ref()
            .map(|r| r.rejections(&slug))
            .unwrap_or_default();
        if !rejected.is_empty() {
            let note = format!(
                "The runner's webhook receiver rejected a delivery: {}.",
                rejected.join("; ")
            );
            for f in &mut report.findings {
                f.hint = Some(match f.hint.take() {
                    Some(hint) => format!("{hint} {note}"),
                    None => note.clone(),
                });
            }
        }
    }
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    (report, index)
}

pub(crate) async fn run_setup(
    shared: &Shared,
    index: usize,
    scenario: &Scenario,
    slug: &str,
    vars: &mut Vars<'_>,
    records: &mut Vec<StepRecord>,
) -> Result<(), Finding> {
    let setup_finding = |at: &str, expected: String, actual: String| {
        // A standard scenario's setup is standard too (creating a user):
        // its failure rests on the scenario's rule, which its description
        // states (a control step fails where the target breaks that rule).
        let basis = scenario
            .standard
            .clone()
            .unwrap_or_else(|| PLATFORM.to_owned());
        let hint = format!(
            "{} The setup step `{at}` prepares or controls this and must succeed first.",
            scenario.description.trim_end()
        );
        Finding::new(
            RULE_SETUP,
            format!("setup:{at}"),
            expected,
            actual,
            scenario.code,
            &shared.profile,
        )
        .with_basis(basis, hint)
    };
    for step in &scenario.setup {
        if shared.stopping() {
            return Ok(());
        }
        match step {
            Step::Receiver(r) => configure_receiver(shared, slug, r, vars)
                .map_err(|e| setup_finding("receiver", "a receiver setting".into(), e))?,
            Step::WebAuthn(step) => ceremony::run(shared, step, vars)
                .map_err(|(expected, actual)| setup_finding(&step.name, expected, actual))?,
            Step::Totp(step) => ceremony::run_totp(shared, step, vars)
                .map_err(|(expected, actual)| setup_finding(&step.name, expected, actual))?,
            Step::Http(step) => {
                let name = shown_name(&step.name, vars);
                // Recorded before the request is sent: if the run stops now,
                // the list of what was left names this step.
                shared.track(index, slug, |p| p.in_flight = Some(name.clone()));
                if let Ok(prepared) = prepare(shared, &step.request, vars) {
                    let mut request = prepared.record();
                    request.replay = replay(shared, scenario, &step.request, vars);
                    records.push(StepRecord {
                        name: name.clone(),
                        request,
                        status: None,
                    });
                }
                let result = run_step(shared, step, vars, true).await;
                if let (Some(record), Ok(observed)) = (records.last_mut(), &result) {
                    record.status = Some(observed.status);
                }
                let observed =
                    result.map_err(|(expected, actual)| setup_finding(&name, expected, actual))?;
                capture(shared, step, &observed, vars)
                    .map_err(|(expected, actual)| setup_finding(&name, expected, actual))?;
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

/// A step's name as people read it: its `fixture.`, `path.` and `capture.`
/// variables filled in (an unnamed step is named `METHOD path`). A name
/// naming a credential stays as written, so no secret reaches a report.
pub(crate) fn shown_name(name: &str, vars: &Vars<'_>) -> String {
    if !name.contains("{{") {
        return name.to_owned();
    }
    let without_secrets = Vars {
        credentials: None,
        ..vars.clone()
    };
    crate::model::template::Template::parse(name)
        .ok()
        .and_then(|t| t.render(&without_secrets).ok())
        .unwrap_or_else(|| name.to_owned())
}

pub(crate) fn configure_receiver(
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
pub(crate) async fn run_step(
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
    // A fixture's count was checked when the run was planned.
    let times = step
        .repeat
        .count(vars.fixtures)
        .map_err(|e| (expected.clone(), e))?;
    let mut last = None;
    for _ in 0..times {
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

pub(crate) fn capture(
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

pub(crate) async fn assert_request(
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
    // An `untrusted-peer` scenario's request leaves from the untrusted
    // source (the plan skipped it if there is none).
    let client = if scenario
        .tags
        .iter()
        .any(|t| t == crate::plan::UNTRUSTED_PEER_TAG)
    {
        shared.untrusted_client.as_ref().unwrap_or(&shared.client)
    } else {
        &shared.client
    };
    let sent = tokio::select! {
        sent = send_via(shared, client, prepared) => sent,
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

pub(crate) async fn run_cleanup(shared: &Shared, scenario: &Scenario, vars: &mut Vars<'_>) {
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
                Step::WebAuthn(w) => ceremony::run(shared, w, vars),
                Step::Totp(t) => ceremony::run_totp(shared, t, vars),
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
                scenario.id,
                shown_name(&step.name, vars)
            ));
            return;
        }
    }
}
