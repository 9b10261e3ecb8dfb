//! Fault rules: what a request that matches a rule gets instead of (or before) its real
//! answer, for clients that cannot send a `Prefer` header.
//!
//! A rule matches on method, route template or path, workspace, bearer token and client
//! address (every criterion given must hold). It answers a documented code, adds latency, or
//! breaks the connection ([`Disconnect`]); latency combines with either of the others. It
//! fires always, on every Nth match, on the first N matches, after N matches, or with a
//! probability drawn from a seeded sequence indexed by the match count, so a run with the
//! same requests fires on the same ones.
//!
//! A rule is checked on entry: its shape against the `FaultRule` schema of
//! `schemas/openapi.json` (one source for the API and the `--faults` file), then what a
//! schema cannot say (a known code, declared by the rule's route; one action at most of each
//! kind; one firing mode). Every finding names a JSON Pointer into the rule. At most
//! [`MAX_RULES`] rules are kept.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use catalog::Code;
use http::Method;
use ipnet::IpNet;
use response_schema::FieldError;
use serde_json::{Map, Value, json};

use super::operations::operations;
use crate::extract::field_errors;
use crate::openapi;

/// The most rules kept at once.
pub(crate) const MAX_RULES: usize = 100;

/// How a rule breaks the connection, at the socket (`crate::conn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Disconnect {
    /// The connection is reset (`SO_LINGER` 0, then closed): the client reads `ECONNRESET`.
    Reset,
    /// The connection is closed before the response head: the client reads end of file.
    Close,
    /// The head and half of the body are sent, then the connection is closed.
    Truncate,
}

impl Disconnect {
    /// The name used in rules and the journal.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Disconnect::Reset => "reset",
            Disconnect::Close => "close",
            Disconnect::Truncate => "truncate",
        }
    }

    fn parse(name: &str) -> Option<Disconnect> {
        [Disconnect::Reset, Disconnect::Close, Disconnect::Truncate]
            .into_iter()
            .find(|d| d.as_str() == name)
    }
}

/// What a fired rule does.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Action {
    pub(crate) error: Option<Code>,
    pub(crate) retry_after: Option<u32>,
    pub(crate) latency: Option<Duration>,
    pub(crate) disconnect: Option<Disconnect>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Firing {
    Always,
    Every(u64),
    First(u64),
    After(u64),
    Probability { p: f64, seed: u64 },
}

impl Firing {
    /// Whether the `n`th match (from 1) fires.
    fn fires(self, n: u64) -> bool {
        match self {
            Firing::Always => true,
            Firing::Every(k) => n.is_multiple_of(k),
            Firing::First(k) => n <= k,
            Firing::After(k) => n > k,
            Firing::Probability { p, seed } => unit(seed, n) < p,
        }
    }
}

/// A number in [0, 1) drawn from `seed` for the `n`th match: SplitMix64 of the pair, so the
/// sequence depends only on the seed and the match count.
fn unit(seed: u64, n: u64) -> f64 {
    let mut z = seed
        .wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    // The top 53 bits as a fraction: exact in an f64.
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// A checked rule with its counters.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) id: String,
    /// The rule as entered, with its id.
    spec: Map<String, Value>,
    method: Option<Method>,
    route: Option<String>,
    path: Option<String>,
    workspace: Option<String>,
    token: Option<String>,
    client: Option<IpNet>,
    pub(crate) action: Action,
    firing: Firing,
    matched: AtomicU64,
    fired: AtomicU64,
}

/// What a rule can match on, for one request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Facts<'a> {
    pub(crate) method: &'a Method,
    /// The path, without the query.
    pub(crate) path: &'a str,
    /// The matched route: (template, `operationId`).
    pub(crate) route: Option<(&'static str, &'static str)>,
    /// The `{workspace}` segment of the path.
    pub(crate) workspace: Option<&'a str>,
    /// The `Authorization: Bearer` token, without the scheme; `None` when
    /// the header is absent, malformed or of another scheme.
    pub(crate) token: Option<&'a str>,
    /// The client address (as the network policy sees it).
    pub(crate) client: Option<IpAddr>,
}

impl Rule {
    fn matches(&self, facts: &Facts<'_>) -> bool {
        // HEAD is served by the GET route, and matches a GET rule.
        let method = if facts.method == Method::HEAD {
            &Method::GET
        } else {
            facts.method
        };
        self.method.as_ref().is_none_or(|m| m == method || m == facts.method)
            && self
                .route
                .as_deref()
                .is_none_or(|r| facts.route.is_some_and(|(t, _)| t == r))
            && self.path.as_deref().is_none_or(|p| p == facts.path)
            && self
                .workspace
                .as_deref()
                .is_none_or(|w| facts.workspace == Some(w))
            && self.token.as_deref().is_none_or(|t| facts.token == Some(t))
            && self
                .client
                .is_none_or(|net| facts.client.is_some_and(|ip| net.contains(&ip)))
            // An error rule only answers on operations that declare its code, so the mock
            // never answers an undocumented one.
            && self.action.error.is_none_or(|code| {
                facts
                    .route
                    .and_then(|(_, op)| operations().get(op))
                    .is_some_and(|d| d.declares(code))
            })
    }

    /// The rule as `GET /admin/faults` shows it.
    pub(crate) fn view(&self) -> Value {
        json!({
            "id": self.id,
            "rule": self.spec,
            "matched": self.matched.load(Ordering::Relaxed),
            "fired": self.fired.load(Ordering::Relaxed),
        })
    }
}

/// The rules, in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: RwLock<Vec<Arc<Rule>>>,
    next_id: AtomicU64,
}

impl Faults {
    /// Checks `spec` and adds it; every finding otherwise.
    pub(crate) fn add(&self, spec: &Value) -> Result<Arc<Rule>, Vec<FieldError>> {
        let mut rules = self.rules.write().unwrap_or_else(PoisonError::into_inner);
        if rules.len() >= MAX_RULES {
            return Err(vec![FieldError::pointer(
                "",
                format!("At most {MAX_RULES} rules are kept; delete some first."),
            )]);
        }
        let n = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let rule = check(spec, &format!("flt_{n}"))?;
        if rules.iter().any(|r| r.id == rule.id) {
            return Err(vec![FieldError::pointer(
                "/id",
                "A rule with this id exists.",
            )]);
        }
        let rule = Arc::new(rule);
        rules.push(Arc::clone(&rule));
        Ok(rule)
    }

    /// Every rule, in order.
    pub(crate) fn list(&self) -> Vec<Arc<Rule>> {
        self.read().clone()
    }

    /// Removes rule `id`; false when there is none.
    pub(crate) fn remove(&self, id: &str) -> bool {
        let mut rules = self.rules.write().unwrap_or_else(PoisonError::into_inner);
        let before = rules.len();
        rules.retain(|r| r.id != id);
        rules.len() != before
    }

    /// Removes every rule.
    pub(crate) fn clear(&self) {
        self.rules
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.read().len()
    }

    /// Counts the match on every rule that matches `facts` and returns the first (in order)
    /// that fires.
    pub(crate) fn fire(&self, facts: &Facts<'_>) -> Option<Arc<Rule>> {
        let mut fired = None;
        for rule in self.read().iter().filter(|r| r.matches(facts)) {
            let n = rule.matched.fetch_add(1, Ordering::Relaxed) + 1;
            if fired.is_none() && rule.firing.fires(n) {
                rule.fired.fetch_add(1, Ordering::Relaxed);
                fired = Some(Arc::clone(rule));
            }
        }
        fired
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<Rule>>> {
        self.rules.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Checks one rule: the `FaultRule` schema, then what a schema cannot say. `default_id` is
/// used when the rule names none.
pub(crate) fn check(spec: &Value, default_id: &str) -> Result<Rule, Vec<FieldError>> {
    let schema = openapi::request_schemas()
        .ok()
        .and_then(|s| s.get("FaultRule"))
        .ok_or_else(|| vec![FieldError::pointer("", "The FaultRule schema is missing.")])?;
    let findings = field_errors(schema, spec);
    if !findings.is_empty() {
        return Err(findings);
    }
    // The schema holds it to an object of known members with the right types.
    let obj = spec.as_object().cloned().unwrap_or_default();
    let text = |name: &str| obj.get(name).and_then(Value::as_str).map(str::to_owned);
    let int = |name: &str| obj.get(name).and_then(Value::as_u64);
    let mut errors = Vec::new();

    let method = text("method").and_then(|m| Method::from_bytes(m.as_bytes()).ok());
    let route = text("route");
    if let Some(route) = &route
        && operations().on_template(route).is_empty()
    {
        errors.push(FieldError::pointer(
            "/route",
            "No route has this template; see GET /openapi.json for the paths.",
        ));
    }
    if route.is_some() && obj.contains_key("path") {
        errors.push(FieldError::pointer(
            "/path",
            "Give `route` or `path`, not both.",
        ));
    }
    let client = match text("client") {
        None => None,
        Some(text) => match parse_client(&text) {
            Some(net) => Some(net),
            None => {
                errors.push(FieldError::pointer(
                    "/client",
                    "Is not an IP address or a CIDR range.",
                ));
                None
            }
        },
    };

    let error = match text("error") {
        None => None,
        Some(name) => match Code::from_name(&name) {
            Ok(code) => {
                check_declared(code, route.as_deref(), method.as_ref(), &mut errors);
                Some(code)
            }
            Err(e) => {
                errors.push(FieldError::pointer("/error", e.to_string()));
                None
            }
        },
    };
    let retry_after = int("retry_after").map(|s| u32::try_from(s).unwrap_or(u32::MAX));
    if retry_after.is_some() && !error.is_some_and(takes_retry_after) {
        errors.push(FieldError::pointer(
            "/retry_after",
            "Only RateLimited and CIRCUIT_OPEN carry retry_after.",
        ));
    }
    let disconnect = text("connection").and_then(|c| Disconnect::parse(&c));
    if error.is_some() && disconnect.is_some() {
        errors.push(FieldError::pointer(
            "/connection",
            "A rule answers an error or breaks the connection, not both.",
        ));
    }
    let latency = int("latency_ms").map(Duration::from_millis);
    if !obj.contains_key("error") && latency.is_none() && disconnect.is_none() {
        errors.push(FieldError::pointer(
            "",
            "A rule needs an action: `error`, `latency_ms` or `connection`.",
        ));
    }

    let modes: Vec<&str> = ["every", "first", "after", "probability"]
        .into_iter()
        .filter(|m| obj.contains_key(*m))
        .collect();
    if let Some(extra) = modes.get(1) {
        errors.push(FieldError::pointer(
            format!("/{extra}"),
            format!("A rule fires one way: `{}` is given already.", modes[0]),
        ));
    }
    if obj.contains_key("seed") && !obj.contains_key("probability") {
        errors.push(FieldError::pointer(
            "/seed",
            "Only a probability rule takes a seed.",
        ));
    }
    let firing = match modes.first().copied() {
        Some("every") => Firing::Every(int("every").unwrap_or(1).max(1)),
        Some("first") => Firing::First(int("first").unwrap_or(1)),
        Some("after") => Firing::After(int("after").unwrap_or(0)),
        Some(_) => Firing::Probability {
            p: obj
                .get("probability")
                .and_then(Value::as_f64)
                .unwrap_or(0.0),
            seed: int("seed").unwrap_or(0),
        },
        None => Firing::Always,
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let id = text("id").unwrap_or_else(|| default_id.to_owned());
    let mut spec = obj.clone();
    spec.insert("id".to_owned(), Value::String(id.clone()));
    Ok(Rule {
        id,
        spec,
        method,
        route,
        path: text("path"),
        workspace: text("workspace"),
        token: text("token"),
        client,
        action: Action {
            error,
            retry_after,
            latency,
            disconnect,
        },
        firing,
        matched: AtomicU64::new(0),
        fired: AtomicU64::new(0),
    })
}

/// RateLimited and CIRCUIT_OPEN tell the client when to retry.
pub(crate) fn takes_retry_after(code: Code) -> bool {
    code.requires(catalog::Extra::RetryAfter)
}

/// An error rule with a route must name a code that route declares (for its method, or for
/// one of its methods).
fn check_declared(
    code: Code,
    route: Option<&str>,
    method: Option<&Method>,
    errors: &mut Vec<FieldError>,
) {
    let Some(route) = route else { return };
    let on = operations().on_template(route);
    let ops: Vec<&str> = on
        .iter()
        .filter(|(m, _)| {
            method.is_none_or(|want| want.as_str() == m || (want == Method::HEAD && m == "GET"))
        })
        .map(|(_, id)| id.as_str())
        .collect();
    if on.is_empty() {
        return; // Reported at /route.
    }
    if ops.is_empty() {
        errors.push(FieldError::pointer(
            "/method",
            "No operation of this route has this method.",
        ));
        return;
    }
    let declared = ops
        .iter()
        .any(|op| operations().get(op).is_some_and(|d| d.declares(code)));
    if !declared {
        errors.push(FieldError::pointer(
            "/error",
            format!(
                "{code} is not in the x-error-codes of {}.",
                ops.join(" or ")
            ),
        ));
    }
}

/// An IP address (a /32 or /128) or a CIDR range.
fn parse_client(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
        .map(|net| match net {
            IpNet::V6(v6) => match v6.addr().to_ipv4_mapped() {
                Some(v4) => IpNet::new(IpAddr::V4(v4), v6.prefix_len().saturating_sub(96))
                    .unwrap_or(IpNet::V6(v6)),
                None => IpNet::V6(v6),
            },
            v4 => v4,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(spec: Value) -> Vec<(String, String)> {
        match check(&spec, "flt_x") {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .into_iter()
                .map(|e| (e.pointer.unwrap_or_default(), e.detail))
                .collect(),
        }
    }

    fn one(pointer: &str, detail: &str) -> Vec<(String, String)> {
        vec![(pointer.to_owned(), detail.to_owned())]
    }

    #[test]
    fn good_rules_pass() {
        for spec in [
            json!({ "error": "RateLimited" }),
            json!({ "error": "RateLimited", "retry_after": 30, "route": "/v1/workspaces/{workspace}/users", "method": "GET", "every": 3 }),
            json!({ "latency_ms": 200, "path": "/healthz", "first": 2 }),
            json!({ "connection": "reset", "client": "127.0.0.0/8", "after": 0 }),
            json!({ "connection": "truncate", "latency_ms": 5, "probability": 0.5, "seed": 7 }),
            json!({ "id": "slow.users-1", "latency_ms": 1, "workspace": "acme", "token": "tok_acme_admin" }),
            json!({ "error": "STEP_UP_REQUIRED", "route": "/v1/workspaces/{workspace}/users/{user_id}" }),
        ] {
            assert_eq!(findings(spec.clone()), Vec::new(), "{spec}");
        }
    }

    #[test]
    fn each_bad_rule_gets_its_exact_finding() {
        let cases = [
            (json!([]), "", "[] is not of type \"object\""),
            (
                json!({ "latency_ms": 1, "colour": "red" }),
                "/colour",
                "is not allowed",
            ),
            (
                json!({ "latency_ms": 0 }),
                "/latency_ms",
                "0 is less than the minimum of 1",
            ),
            (
                json!({ "error": "Nope" }),
                "/error",
                "`Nope` is not a documented error code",
            ),
            (
                json!({ "error": "CIRCUIT_OPEN", "route": "/v1/workspaces/{workspace}/users" }),
                "/error",
                "CIRCUIT_OPEN is not in the x-error-codes of listUsers or inviteUser.",
            ),
            (
                json!({ "error": "Forbidden", "route": "/v1/workspaces/{workspace}/users", "method": "GET" }),
                "/error",
                "Forbidden is not in the x-error-codes of listUsers.",
            ),
            (
                json!({ "error": "NotFound", "route": "/healthz", "method": "POST" }),
                "/method",
                "No operation of this route has this method.",
            ),
            (
                json!({ "latency_ms": 1, "route": "/v1/nowhere" }),
                "/route",
                "No route has this template; see GET /openapi.json for the paths.",
            ),
            (
                json!({ "latency_ms": 1, "route": "/healthz", "path": "/healthz" }),
                "/path",
                "Give `route` or `path`, not both.",
            ),
            (
                json!({ "latency_ms": 1, "client": "10.0.0.300" }),
                "/client",
                "Is not an IP address or a CIDR range.",
            ),
            (
                json!({ "error": "NotFound", "retry_after": 3 }),
                "/retry_after",
                "Only RateLimited and CIRCUIT_OPEN carry retry_after.",
            ),
            (
                json!({ "error": "NotFound", "connection": "close" }),
                "/connection",
                "A rule answers an error or breaks the connection, not both.",
            ),
            (
                json!({ "path": "/healthz" }),
                "",
                "A rule needs an action: `error`, `latency_ms` or `connection`.",
            ),
            (
                json!({ "latency_ms": 1, "every": 2, "first": 3 }),
                "/first",
                "A rule fires one way: `every` is given already.",
            ),
            (
                json!({ "latency_ms": 1, "seed": 3 }),
                "/seed",
                "Only a probability rule takes a seed.",
            ),
            (
                json!({ "latency_ms": 1, "connection": "explode" }),
                "/connection",
                "\"explode\" is not one of \"reset\", \"close\" or \"truncate\"",
            ),
        ];
        for (spec, pointer, detail) in cases {
            assert_eq!(findings(spec.clone()), one(pointer, detail), "{spec}");
        }
    }

    #[test]
    fn firing_modes_fire_on_the_right_matches() {
        let fired = |f: Firing| -> Vec<u64> { (1..=9).filter(|&n| f.fires(n)).collect() };
        assert_eq!(fired(Firing::Always), (1..=9).collect::<Vec<_>>());
        assert_eq!(fired(Firing::Every(3)), [3, 6, 9]);
        assert_eq!(fired(Firing::First(2)), [1, 2]);
        assert_eq!(fired(Firing::After(7)), [8, 9]);
        let p = |seed| Firing::Probability { p: 0.5, seed };
        assert_eq!(fired(p(1)), fired(p(1)));
        assert_ne!(
            (1..=64).map(|n| p(1).fires(n)).collect::<Vec<_>>(),
            (1..=64).map(|n| p(2).fires(n)).collect::<Vec<_>>()
        );
        // About half of many draws.
        let hits = (1..=10_000).filter(|&n| p(9).fires(n)).count();
        assert!((4_500..5_500).contains(&hits), "{hits}");
        assert!(!(1..=1000).any(|n| Firing::Probability { p: 0.0, seed: 1 }.fires(n)));
        assert!((1..=1000).all(|n| Firing::Probability { p: 1.0, seed: 1 }.fires(n)));
    }

    #[test]
    fn rules_are_capped_and_ids_unique() {
        let faults = Faults::default();
        for _ in 0..MAX_RULES {
            faults.add(&json!({ "latency_ms": 1 })).unwrap();
        }
        let refused = faults.add(&json!({ "latency_ms": 1 })).unwrap_err();
        assert_eq!(refused[0].pointer.as_deref(), Some(""));
        assert_eq!(faults.len(), MAX_RULES);
        faults.clear();
        faults.add(&json!({ "id": "a", "latency_ms": 1 })).unwrap();
        let dup = faults
            .add(&json!({ "id": "a", "latency_ms": 1 }))
            .unwrap_err();
        assert_eq!(
            dup,
            vec![FieldError::pointer("/id", "A rule with this id exists.")]
        );
        assert!(faults.remove("a"));
        assert!(!faults.remove("a"));
    }
}
