//! A request as a person can send it again: rendered like the real one,
//! with credentials and captured secrets as `${VAR}` references, never
//! their values.

use crate::exec::http::prepare;
use crate::exec::shared::Shared;
use crate::model::profile::env_name;
use crate::model::scenario::{Body, CaptureFrom, Request, Scenario, Step};
use crate::model::template::{Var, Vars};
use crate::redact::Redactor;
use crate::report::{EnvRef, Replay};

/// `request` as a person can send it again: rendered like the real one,
/// except that credentials and captured secrets become `${VAR}` references.
pub(crate) fn replay(
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

/// Where a captured secret comes from, for the person replaying a request.
pub(crate) fn capture_source(scenario: &Scenario, name: &str) -> String {
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

pub(crate) fn step_vars(request: &Request) -> impl Iterator<Item = Var> + '_ {
    let mut vars: Vec<Var> = request.path.vars().cloned().collect();
    for (_, t) in &request.headers {
        vars.extend(t.vars().cloned());
    }
    match &request.body {
        Some(Body::Raw(t)) => vars.extend(t.vars().cloned()),
        Some(Body::Json(v)) => {
            vars.extend(v.templates().into_iter().flat_map(|t| t.vars().cloned()))
        }
        None => {}
    }
    vars.into_iter()
}
