//! The slower path of a request when the harness is armed or the request sends `Prefer`
//! (`crate::harness`): after routing and before any other check, it decides whether a fault
//! rule fires and whether `Prefer: error=CODE` is honoured, builds the error to answer, and
//! prepares the journal entry. It changes no state but the rules' counters and the journal.
//!
//! An injected error is an [`ApiError`] built as the real check that produces the code builds
//! it (the same challenge, `acr_values`, `purpose`, `retry_after`), and the request-context
//! layer renders it as every other error (envelope, `type` anchor, `x-error-code`,
//! `x-request-id`).
//!
//! `error=CODE` is honoured only when the matched operation lists CODE in its
//! `x-error-codes`. Otherwise the preference is ignored, as RFC 7240 lets a server do, the
//! request is answered as if it had not been sent, and `x-mock-preference-ignored` says why.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::Request;
use axum::response::Response;
use catalog::Code;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::auth::{Bearer, bearer, path_workspace};
use crate::dispatch::RouteTable;
use crate::error::ApiError;
use crate::extract::peer_addr;
use crate::harness::faults::{Facts, takes_retry_after};
use crate::harness::journal::{self, Entry};
use crate::harness::operations::{Declared, operations};
use crate::harness::prefer::{self, PREFER, PREFERENCE_APPLIED};
use crate::harness::{Disconnect, Harness};
use crate::network::client_ip;
use crate::state::AppState;
use crate::stepup::{ACR_MFA, ACR_PHISHING_RESISTANT, STEP_UP_TTL};

/// `x-mock-fault`: the id of the fault rule that decided the answer.
pub(crate) const X_MOCK_FAULT: HeaderName = HeaderName::from_static("x-mock-fault");

/// `x-mock-preference-ignored`: why `Prefer: error=` was not honoured.
pub(crate) const X_MOCK_PREFERENCE_IGNORED: HeaderName =
    HeaderName::from_static("x-mock-preference-ignored");

/// `Retry-After` of an injected RateLimited or CIRCUIT_OPEN without `retry-after=`.
pub(crate) const DEFAULT_RETRY_AFTER: u32 = 1;

/// Whether `request` needs [`plan`]: the one check on every request.
#[inline]
pub(crate) fn wanted(harness: &Harness, request: &Request) -> bool {
    harness.armed() || request.headers().contains_key(PREFER)
}

/// What to do with a request on the slower path.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Wait this long first.
    pub(crate) delay: Option<Duration>,
    /// Answer this instead of routing.
    pub(crate) error: Option<ApiError>,
    /// What is added to whatever is answered.
    pub(crate) after: After,
}

/// What [`Plan`] adds to the answer: header fields, a broken connection, the journal entry.
#[derive(Debug, Default)]
pub(crate) struct After {
    headers: HeaderMap,
    disconnect: Option<Disconnect>,
    entry: Option<(Entry, Instant, AppState)>,
}

impl After {
    /// Adds the header fields and the connection break to `response` and writes the journal
    /// entry.
    pub(crate) fn apply(self, response: &mut Response) {
        for (name, value) in &self.headers {
            response.headers_mut().insert(name, value.clone());
        }
        if let Some(disconnect) = self.disconnect {
            response.extensions_mut().insert(disconnect);
        }
        if let Some((mut entry, started, state)) = self.entry {
            entry.status = response.status().as_u16();
            entry.micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            state.harness().journal().push(entry);
        }
    }
}

/// Decides what happens to `request` (see the module docs).
pub(crate) fn plan(routes: &RouteTable, request: &Request) -> Plan {
    let state = routes.state();
    let harness = state.harness();
    let started = Instant::now();
    let path = request.uri().path();
    // The admin endpoints are the test's own: no rule breaks them, the journal leaves them out.
    let admin = path.starts_with("/admin/");
    let route = routes
        .find(request.method(), path)
        .map(|(route, _)| (route.path, route.operation_id));
    let declared = route.and_then(|(_, op)| operations().get(op));
    let mut plan = Plan::default();
    let mut rule_id = None;

    if !admin && harness.faults().len() > 0 {
        let token = match bearer(request.headers()) {
            Bearer::Token(token) => Some(token),
            Bearer::Absent | Bearer::OtherScheme | Bearer::Malformed => None,
        };
        let workspace = path_workspace(path);
        let client = peer_addr(request.extensions())
            .map(|peer| client_ip(peer.ip(), request.headers(), state.trusted_proxies()));
        let facts = Facts {
            method: request.method(),
            path,
            route,
            workspace: workspace.as_deref(),
            token,
            client,
        };
        if let Some(rule) = harness.faults().fire(&facts) {
            if let Ok(value) = HeaderValue::from_str(&rule.id) {
                plan.after.headers.insert(X_MOCK_FAULT, value);
            }
            plan.delay = rule.action.latency;
            plan.after.disconnect = rule.action.disconnect;
            if let (Some(code), Some(declared)) = (rule.action.error, declared) {
                plan.error = Some(injected(
                    state,
                    request,
                    code,
                    rule.action.retry_after,
                    declared,
                ));
            }
            rule_id = Some(rule.id.clone());
        }
    }

    let mut applied = None;
    if request.headers().contains_key(PREFER) {
        let prefs = prefer::parse(request.headers());
        if let Some(name) = prefs.error {
            let ignored = if plan.error.is_some() || plan.after.disconnect.is_some() {
                Some("a fault rule decided the answer".to_owned())
            } else {
                match (Code::from_name(&name), route, declared) {
                    (Err(_), _, _) => Some("not a documented code".to_owned()),
                    (Ok(_), None, _) | (Ok(_), _, None) => {
                        Some("no operation serves this method and path".to_owned())
                    }
                    (Ok(code), Some((_, op)), Some(declared)) if !declared.declares(code) => {
                        Some(format!("{code} is not in the x-error-codes of {op}"))
                    }
                    (Ok(code), _, Some(declared)) => {
                        let retry_after = prefs
                            .retry_after
                            .and_then(Result::ok)
                            .filter(|_| takes_retry_after(code));
                        let mut value = format!("error={code}");
                        if let Some(seconds) = retry_after {
                            value.push_str(&format!(", retry-after={seconds}"));
                        }
                        plan.error = Some(injected(state, request, code, retry_after, declared));
                        applied = Some(value);
                        None
                    }
                }
            };
            if let Some(value) = &applied
                && let Ok(value) = HeaderValue::from_str(value)
            {
                plan.after.headers.insert(PREFERENCE_APPLIED, value);
            }
            if let Some(reason) = ignored {
                // The value as sent is echoed only when it is plain (it is hostile input).
                let shown = if !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    name.as_str()
                } else {
                    "?"
                };
                if let Ok(value) = HeaderValue::from_str(&format!("error={shown}; {reason}")) {
                    plan.after.headers.insert(X_MOCK_PREFERENCE_IGNORED, value);
                }
            }
        }
    }

    if !admin && harness.journal().enabled() {
        let (headers, headers_dropped) = journal::headers(request.headers());
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let path_and_query = request
            .uri()
            .path_and_query()
            .map_or(path, |pq| pq.as_str());
        let entry = Entry {
            at_ms,
            method: journal::text(request.method().as_str().as_bytes()),
            path: journal::path(path_and_query),
            route: route.map(|(template, _)| template),
            operation: route.map(|(_, op)| op),
            headers,
            headers_dropped,
            status: 0,
            connection: plan.after.disconnect.map(Disconnect::as_str),
            rule: rule_id,
            preference_applied: applied,
            micros: 0,
        };
        plan.after.entry = Some((entry, started, state.clone()));
    }
    plan
}

/// `code` as the mock's own check for it answers at this operation, with the catalog's
/// meaning as `detail`.
fn injected(
    state: &AppState,
    request: &Request,
    code: Code,
    retry_after: Option<u32>,
    declared: &Declared,
) -> ApiError {
    let meaning = code.info().meaning;
    let max_age = Some(STEP_UP_TTL.as_secs());
    let error = match code {
        Code::ValidationError => ApiError::validation(declared.field.clone().into_iter().collect()),
        // Without credentials the challenge carries no error (RFC 6750 section 3), as the real
        // check answers.
        Code::Unauthorized => match bearer(request.headers()) {
            // Another scheme is no bearer credentials at all: no error code (RFC 6750 section 3.1).
            Bearer::Absent | Bearer::OtherScheme => ApiError::new(code, meaning),
            Bearer::Malformed => ApiError::new(code, meaning).with_bearer_error("invalid_request"),
            Bearer::Token(_) => ApiError::new(code, meaning).with_bearer_error("invalid_token"),
        },
        Code::MfaRequired => ApiError::new(code, meaning).with_acr(ACR_MFA, None),
        Code::StepUpRequired => {
            // The acr the workspace's step-up policy asks for.
            let strict = path_workspace(request.uri().path()).is_some_and(|ws| {
                state
                    .read()
                    .workspaces
                    .get(&*ws)
                    .is_some_and(|w| w.step_up == crate::model::StepUpPolicy::PhishingResistant)
            });
            let acr = if strict {
                ACR_PHISHING_RESISTANT
            } else {
                ACR_MFA
            };
            let error = ApiError::new(code, meaning).with_acr(acr, max_age);
            match declared.purpose {
                Some(purpose) => error.with_purpose(purpose),
                None => error,
            }
        }
        Code::PhishingResistantRequired => {
            ApiError::new(code, meaning).with_acr(ACR_PHISHING_RESISTANT, max_age)
        }
        _ => ApiError::new(code, meaning),
    };
    if takes_retry_after(code) {
        error.with_retry_after(u64::from(retry_after.unwrap_or(DEFAULT_RETRY_AFTER)))
    } else {
        error
    }
}
