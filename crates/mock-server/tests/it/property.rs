//! Random requests (methods, paths, headers, bodies) never get a 5xx, an undocumented code or
//! an error body that breaks the contract; every error code is one the matched operation
//! documents in `x-error-codes` (NotFound for unrouted requests).
//!
//! Every (operation, code) pair the document declares is answered on request
//! (`Prefer: error=CODE`) with that code, held to the same checker, in process and over HTTP
//! ([`every_declared_pair_answers_its_code_on_request`]); the random requests carry random
//! `Prefer` values too.
//!
//! Success is held to the document too: every 2xx answer must be a documented (operation,
//! status, media type) of `schemas/openapi.json` whose response schema accepts the body
//! ([`SuccessSchemas`]). A tour of well-formed request sequences ([`Op`]) first drives every
//! operation to each of its documented 2xx answers, and such sequences stay mixed into the
//! random cases so success is judged on whatever state the random requests left.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use catalog::{Code, Envelope};
use http::Method;
use mock_server::openapi;
use mock_server::routes::ROUTES;
use mock_server::webauthn::authenticator::{Attest, Ceremony, SoftAuthenticator};
use mock_server::webauthn::{Aaguid, build_attestation_object};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use response_schema::{Expect, Response, check};
use serde_json::{Value, json};

use crate::support::{
    BASE, Client, ORIGIN, RP_ID, Req, Resp, assertion_body, b64, current_code, profile_credential,
};

const TOKENS: &[&str] = &[
    "tok_acme_admin",
    "tok_acme_member",
    "tok_acme_newbie",
    "tok_acme_expired",
    "tok_pwonly_admin",
    "tok_dormant_admin",
    "tok_fortress_admin",
    "tok_vault_admin",
    "tok_unknown",
];

const SEGMENTS: &[&str] = &["nowhere", "usr_nobody", "%FF%FE", "%2F", "..", "", "Users"];

const WORDS: &[&str] = &[
    "password",
    "sso",
    "admin@acme.example",
    "member@acme.example",
    "admin@pwonly.example",
    "nobody@acme.example",
    "correct horse battery staple",
    "admin",
    "member",
    "totp",
    "passkey",
    "security_key",
    "delete_user",
    "change_network_policy",
    "rotate_webhook_secret",
    "remove_factor",
    "123456",
    "203.0.113.0/24",
    "2001:db8::/32",
    "not a range",
    "",
];

const KEYS: &[&str] = &[
    "method",
    "email",
    "password",
    "role",
    "type",
    "attestationObject",
    "clientDataJSON",
    "credentialId",
    "authenticatorData",
    "signature",
    "purpose",
    "factor",
    "code",
    "allowlist",
];

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(SEGMENTS).prop_map(str::to_owned),
        "[A-Za-z0-9._~-]{1,12}",
    ]
}

const WORKSPACES: &[&str] = &[
    "acme",
    "pwonly",
    "dormant",
    "fortress",
    "vault",
    "throttled",
];
const USERS: &[&str] = &[
    "usr_acme_admin",
    "usr_acme_member",
    "usr_acme_newbie",
    "usr_vault_admin",
];

/// A path parameter: usually a seeded id, sometimes anything.
fn param(known: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(known).prop_map(str::to_owned),
        1 => segment(),
    ]
}

/// A method and path: mostly a route's own method on its template with seeded ids, sometimes
/// another method, a garbage path or a SCIM path; plus a query string.
fn method_and_path() -> impl Strategy<Value = (Method, String)> {
    let routed = (
        0..ROUTES.len(),
        param(WORKSPACES),
        param(USERS),
        prop_oneof![3 => Just(None), 1 => method().prop_map(Some)],
    )
        .prop_map(|(i, workspace, user, other_method)| {
            let route = &ROUTES[i];
            let path = route
                .path
                .split('/')
                .map(|s| match s {
                    "{workspace}" => workspace.as_str(),
                    "{user_id}" => user.as_str(),
                    s if s.starts_with('{') => "x",
                    s => s,
                })
                .collect::<Vec<_>>()
                .join("/");
            let own = Method::from_bytes(route.verb.as_str().as_bytes()).unwrap();
            (other_method.unwrap_or(own), path)
        });
    let garbage = (method(), prop::collection::vec(segment(), 0..5))
        .prop_map(|(m, segments)| (m, format!("/{}", segments.join("/"))));
    let scim = (method(), segment()).prop_map(|(m, s)| (m, format!("/scim/v2/{s}")));
    let query = prop_oneof![
        Just(String::new()),
        Just("?limit=2".to_owned()),
        "\\?limit=[-0-9a-z.]{0,4}",
        "\\?[a-z=&%0-9]{0,12}",
    ];
    (prop_oneof![6 => routed, 1 => garbage, 1 => scim], query)
        .prop_map(|((m, path), query)| (m, format!("{path}{query}")))
        .prop_filter("a valid URI", |(_, p)| p.parse::<http::Uri>().is_ok())
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        4 => prop::sample::select(vec![Method::GET, Method::POST, Method::PUT, Method::DELETE]),
        1 => prop::sample::select(vec![Method::PATCH, Method::HEAD, Method::OPTIONS, Method::TRACE]),
        1 => "[A-Z]{3,8}".prop_map(|m| Method::from_bytes(m.as_bytes()).unwrap()),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let attestation = (
        prop::sample::select(vec!["packed", "none", "tpm"]),
        prop::sample::select(vec![
            Aaguid::ZERO,
            "ee882879-721c-4913-9775-3dfcce97072a".parse().unwrap(),
        ]),
    )
        .prop_map(|(fmt, aaguid)| Value::from(build_attestation_object(fmt, aaguid, b"cred")));
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => "\\PC{0,16}".prop_map(Value::from),
        3 => prop::sample::select(WORDS).prop_map(Value::from),
        1 => attestation,
    ];
    let key =
        prop_oneof![4 => prop::sample::select(KEYS).prop_map(str::to_owned), 1 => "[a-z/~]{1,6}"];
    leaf.prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        1 => Just(None),
        3 => json().prop_map(|v| Some(serde_json::to_vec(&v).unwrap())),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Some),
    ]
}

#[derive(Clone, Debug)]
enum Token {
    None,
    Header(String),
    Matching,
}

fn request() -> impl Strategy<Value = Req> {
    // `Matching` becomes the admin token of the path's workspace, so requests get past
    // authentication often enough to reach the deeper checks.
    let token = prop_oneof![
        1 => Just(Token::None),
        2 => prop::sample::select(TOKENS).prop_map(|t| Token::Header(format!("Bearer {t}"))),
        3 => Just(Token::Matching),
        1 => "[ -~]{0,24}".prop_map(Token::Header),
    ];
    let content_type = prop::sample::select(vec![
        None,
        Some("application/json"),
        Some("application/json"),
        Some("text/plain"),
        Some("application/scim+json"),
    ]);
    let step_up = prop::sample::select(vec![
        None,
        Some("su_acme_spent"),
        Some("su_vault_totp"),
        Some("su_x"),
    ]);
    let peer = prop::sample::select(vec![
        "127.0.0.1",
        "203.0.113.9",
        "198.51.100.7",
        "::1",
        "2001:db8::1",
    ]);
    let forwarded = prop::sample::select(vec![None, Some("203.0.113.9"), Some("garbage, ,")]);
    // `Prefer: error=CODE` with any catalog code (declared by the operation or not), a
    // made-up one, or garbage: whatever is answered must still be a code the operation
    // declares.
    let prefer = prop_oneof![
        4 => Just(None),
        2 => prop::sample::select(Code::ALL).prop_map(|c| Some(format!("error={c}, retry-after=2"))),
        1 => "[ -~]{0,24}".prop_map(Some),
    ];
    (
        method_and_path(),
        token,
        content_type,
        step_up,
        peer,
        forwarded,
        body(),
        prefer,
    )
        .prop_map(
            |((method, path), token, content_type, step_up, peer, forwarded, body, prefer)| {
                let token = match token {
                    Token::None => None,
                    Token::Header(value) => Some(value),
                    Token::Matching => path
                        .strip_prefix("/v1/workspaces/")
                        .and_then(|rest| rest.split('/').next())
                        .map(|ws| format!("Bearer tok_{ws}_admin")),
                };
                let mut req = Req::new(method, &path).peer(peer);
                req.body = body;
                if let Some(value) = token
                    && http::HeaderValue::from_str(&value).is_ok()
                {
                    req = req.header("authorization", &value);
                }
                if let Some(ct) = content_type {
                    req = req.header("content-type", ct);
                }
                if let Some(token) = step_up {
                    req = req.step_up(token);
                }
                if let Some(xff) = forwarded {
                    req = req.header("x-forwarded-for", xff);
                }
                if let Some(value) = prefer {
                    req = req.header("prefer", &value);
                }
                req
            },
        )
}

/// The codes a (method, path) may answer: its operation's `x-error-codes`, or for a path with
/// no such method or no route at all, NotFound (after the workspace guard, which sits in front
/// of every method of a workspace path and comes first in precedence).
fn allowed_codes(doc: &Value, method: &Method, path: &str) -> BTreeSet<String> {
    let path = path.split('?').next().unwrap_or_default();
    let mut allowed = BTreeSet::from([Code::NotFound.name().to_owned()]);
    let matches = |template: &str| {
        let (t, p): (Vec<&str>, Vec<&str>) =
            (template.split('/').collect(), path.split('/').collect());
        t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t == p || t.starts_with('{'))
    };
    for route in ROUTES.iter().filter(|r| matches(r.path)) {
        let op = &doc["paths"][route.path][route.verb.as_str().to_lowercase()];
        let same_method = route.verb.as_str() == method.as_str()
            || (route.verb.as_str() == "GET" && method == Method::HEAD);
        if same_method {
            allowed.extend(
                op["x-error-codes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_owned()),
            );
        } else if route.scope == mock_server::routes::Scope::Workspace {
            for code in [Code::IpBlocked, Code::RateLimited, Code::WorkspaceInactive] {
                allowed.insert(code.name().to_owned());
            }
        }
    }
    allowed
}

/// One case: a random request, or a sequence of well-formed ones.
#[derive(Clone, Debug)]
enum Case {
    Random(Req),
    Valid(Op),
}

/// The oracle of every answer: no 5xx, a request id; a 2xx answer is a documented (operation,
/// status, media type) whose body its schema accepts; an error answer satisfies the error
/// contract with a code its operation documents. Returns the (operation, status) a valid 2xx
/// answer covered.
fn judge(
    doc: &Value,
    success: &SuccessSchemas,
    req: &Req,
    resp: &Resp,
) -> Result<Option<(&'static str, u16)>, TestCaseError> {
    // The one documented 5xx is CIRCUIT_OPEN (503), which `Prefer: error=CIRCUIT_OPEN`
    // may ask for on any operation that declares it.
    prop_assert!(
        resp.status < 500
            || (resp.status == 503 && resp.header("x-error-code") == Some("CIRCUIT_OPEN")),
        "{req:?} -> {}",
        resp.status
    );
    prop_assert!(resp.header("x-request-id").is_some());
    if (200..300).contains(&resp.status) {
        let findings = success.check(
            &req.method,
            &req.path,
            resp.status,
            &resp.headers,
            &resp.bytes,
        );
        let shown: Vec<String> = findings.iter().map(ToString::to_string).collect();
        prop_assert!(
            shown.is_empty(),
            "{req:?}\n{shown:#?}\n{}",
            String::from_utf8_lossy(&resp.bytes)
        );
        let route = route_of(&req.method, &req.path).unwrap();
        return Ok(Some((route.operation_id, resp.status)));
    }
    if resp.status < 400 {
        return Ok(None);
    }
    let allowed = allowed_codes(doc, &req.method, &req.path);
    if req.method == Method::HEAD {
        // HEAD responses have no body (axum strips it, as HTTP requires): judge what
        // there is, the status and the media type.
        prop_assert!(
            allowed
                .iter()
                .any(|c| Code::from_name(c).is_ok_and(|c| c.status() == resp.status)),
            "{req:?} -> {}",
            resp.status
        );
        prop_assert!(
            resp.header("content-type")
                .is_some_and(|ct| ct.ends_with("+json"))
        );
        return Ok(None);
    }
    let scim = req.path.starts_with("/scim/v2/");
    let expect = Expect {
        docs_base: Some(BASE.to_owned()),
        ..if scim {
            Expect::any().in_envelope(Envelope::Scim)
        } else {
            Expect::any()
        }
    };
    let violations = check(
        &Response {
            status: resp.status,
            headers: &resp.headers,
            body: &resp.bytes,
        },
        &expect,
    );
    let shown: Vec<String> = violations.iter().map(ToString::to_string).collect();
    prop_assert!(shown.is_empty(), "{req:?}\n{shown:#?}\n{}", resp.json);
    let code = resp.code().unwrap_or_default().to_owned();
    prop_assert!(
        allowed.contains(&code),
        "{req:?} answered {code}, documented: {allowed:?}"
    );
    Ok(None)
}

#[test]
fn random_requests_get_documented_conforming_answers() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // With the journal on, every request takes the harness's slower path, and what
    // `GET /admin/requests` answers (random headers and paths included) is held to the
    // `Journal` schema like every other 2xx body.
    let mut config = mock_server::Config::new(mock_server::seed::Seed::embedded().unwrap());
    config.public_url = Some(BASE.to_owned());
    config.journal = 64;
    let client = Client::over(mock_server::AppState::new(config).unwrap());
    let doc = openapi::document().unwrap();
    let success = SuccessSchemas::new(&doc);
    let receiver = runtime.block_on(receiver());
    let fresh = AtomicU64::new(0);
    let covered = Mutex::new(BTreeSet::new());
    let run = |case: &Case| -> Result<(), TestCaseError> {
        let exchanges = match case {
            Case::Random(req) => vec![(req.clone(), runtime.block_on(client.send(req.clone())))],
            Case::Valid(op) => runtime.block_on(perform(
                &client,
                op,
                &receiver,
                fresh.fetch_add(1, Ordering::Relaxed),
            )),
        };
        for (req, resp) in &exchanges {
            if let Some(key) = judge(&doc, &success, req, resp)? {
                covered.lock().unwrap().insert(key);
            }
        }
        Ok(())
    };

    // The tour first: every documented 2xx answer of every operation, sent and judged.
    for op in tour() {
        if let Err(e) = run(&Case::Valid(op.clone())) {
            panic!("{op:?}: {e}");
        }
    }
    let missed: Vec<_> = success
        .documented()
        .difference(&covered.lock().unwrap())
        .copied()
        .collect();
    assert!(
        missed.is_empty(),
        "the tour never got these answers: {missed:?}"
    );

    // Then random requests mixed with well-formed sequences, on the state they leave.
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let case = prop_oneof![
        3 => request().prop_map(Case::Random),
        1 => op().prop_map(Case::Valid),
    ];
    runner.run(&case, |case| run(&case)).unwrap();
}

// ------------------------------------------------------------------ errors on request

/// A concrete path for a template: seeded ids where they exist, `x` for any other parameter
/// (an operation added later is injected into just the same).
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            "{workspace}" => "acme",
            "{user_id}" => "usr_acme_member",
            "{webhook_id}" => "whk_000001",
            s if s.starts_with('{') => "x",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// One operation of the document: method, template, `operationId`, `x-error-codes`,
/// `x-step-up-purpose`.
struct Declared {
    method: Method,
    template: String,
    op: String,
    codes: Vec<Code>,
    purpose: Option<String>,
}

/// Every operation of the document.
fn declared_pairs() -> Vec<Declared> {
    let doc = openapi::document().unwrap();
    let mut out = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(id) = op["operationId"].as_str() else {
                continue;
            };
            let codes = op["x-error-codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| Code::from_name(c.as_str().unwrap()).unwrap())
                .collect();
            let purpose = op["x-step-up-purpose"].as_str().map(str::to_owned);
            out.push(Declared {
                method: Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                template: template.clone(),
                op: id.to_owned(),
                codes,
                purpose,
            });
        }
    }
    out
}

/// What an injected answer must be.
struct Wanted<'a> {
    code: Code,
    path: &'a str,
    purpose: Option<&'a str>,
    retry_after: Option<u32>,
    docs_base: &'a str,
}

/// What is wrong with an injected answer (`status`, `headers`, `body`): the response-schema
/// checker's findings plus the harness's own promises.
fn judge_injected(
    wanted: &Wanted<'_>,
    status: u16,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Vec<String> {
    let Wanted {
        code,
        path,
        purpose,
        retry_after,
        docs_base,
    } = *wanted;
    let scim = path.starts_with("/scim/v2");
    let mut expect = Expect::code(code);
    expect.docs_base = Some(docs_base.to_owned());
    if scim {
        expect = expect.in_envelope(Envelope::Scim);
    }
    let mut findings: Vec<String> = check(
        &Response {
            status,
            headers,
            body,
        },
        &expect,
    )
    .iter()
    .map(ToString::to_string)
    .collect();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut applied = format!("error={code}");
    if let Some(seconds) = retry_after.filter(|_| code.requires(catalog::Extra::RetryAfter)) {
        applied.push_str(&format!(", retry-after={seconds}"));
    }
    if header("preference-applied") != Some(applied.as_str()) {
        findings.push(format!(
            "Preference-Applied {:?}",
            header("preference-applied")
        ));
    }
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if code == Code::StepUpRequired && json["purpose"].as_str() != purpose {
        findings.push(format!(
            "purpose {} (declared {purpose:?})",
            json["purpose"]
        ));
    }
    if let Some(seconds) = retry_after
        && code.requires(catalog::Extra::RetryAfter)
    {
        if header("retry-after") != Some(seconds.to_string().as_str()) {
            findings.push(format!("Retry-After {:?}", header("retry-after")));
        }
        if !scim && json["retry_after"] != seconds {
            findings.push(format!("retry_after {}", json["retry_after"]));
        }
    }
    findings
}

/// Every (operation, code) pair the document declares, with `Prefer: error=CODE`: in
/// process and over real HTTP from outside, the catalog's status and code, a response the
/// response-schema checker passes for that code (envelope, headers, `type` link), the
/// route's own `purpose`, and `Retry-After` from `retry-after=`.
#[tokio::test]
async fn every_declared_pair_answers_its_code_on_request() {
    let client = Client::new();
    let running = crate::support::loopback(mock_server::Config::embedded().unwrap()).await;
    let base = running.base_url();
    let http = reqwest::Client::new();
    let mut pairs = 0;
    let mut failures = Vec::new();
    for Declared {
        method,
        template,
        op,
        codes,
        purpose,
    } in declared_pairs()
    {
        let path = concrete(&template);
        for code in codes {
            let retry_after = code.requires(catalog::Extra::RetryAfter).then_some(30);
            let prefer = match retry_after {
                Some(s) => format!("error={code}, retry-after={s}"),
                None => format!("error={code}"),
            };
            // In process.
            let resp = client
                .send(
                    Req::new(method.clone(), &path)
                        .token("tok_acme_admin")
                        .header("prefer", &prefer),
                )
                .await;
            let wanted = Wanted {
                code,
                path: &path,
                purpose: purpose.as_deref(),
                retry_after,
                docs_base: BASE,
            };
            let found = judge_injected(&wanted, resp.status, &resp.headers, &resp.bytes);
            if !found.is_empty() {
                failures.push(format!("{op} {code} (in process): {found:?}"));
            }
            // From outside.
            let sent = http
                .request(method.clone(), format!("{base}{path}"))
                .bearer_auth("tok_acme_admin")
                .header("prefer", &prefer)
                .send()
                .await
                .unwrap();
            let status = sent.status().as_u16();
            let headers = sent.headers().clone();
            let body = sent.bytes().await.unwrap();
            let wanted = Wanted {
                docs_base: &base,
                ..wanted
            };
            let found = judge_injected(&wanted, status, &headers, &body);
            if !found.is_empty() {
                failures.push(format!("{op} {code} (over HTTP): {found:?}"));
            }
            pairs += 1;
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(pairs > 200, "only {pairs} pairs");
    running.shutdown().await.unwrap();
}

/// The judge above can fail: a real answer is not an injected one, and a wrong purpose or
/// `Retry-After` is reported.
#[tokio::test]
async fn the_injection_judge_rejects_wrong_answers() {
    let client = Client::new();
    let real = client
        .send(Req::delete("/v1/workspaces/acme/users/usr_acme_member").token("tok_acme_admin"))
        .await;
    real.assert_error(Code::StepUpRequired);
    let found = |code, purpose, retry_after, resp: &Resp| {
        let wanted = Wanted {
            code,
            path: "/v1/workspaces/acme/users/usr_acme_member",
            purpose,
            retry_after,
            docs_base: BASE,
        };
        judge_injected(&wanted, resp.status, &resp.headers, &resp.bytes)
    };
    assert_eq!(
        found(Code::StepUpRequired, Some("delete_user"), None, &real),
        ["Preference-Applied None"]
    );
    let injected = client
        .send(
            Req::delete("/v1/workspaces/acme/users/usr_acme_member")
                .token("tok_acme_admin")
                .header("prefer", "error=STEP_UP_REQUIRED"),
        )
        .await;
    assert_eq!(
        found(Code::StepUpRequired, Some("delete_user"), None, &injected),
        Vec::<String>::new()
    );
    assert_eq!(
        found(
            Code::StepUpRequired,
            Some("change_network_policy"),
            None,
            &injected
        ),
        ["purpose \"delete_user\" (declared Some(\"change_network_policy\"))"]
    );
    let limited = client
        .send(
            Req::get("/v1/workspaces/acme/users")
                .token("tok_acme_admin")
                .header("prefer", "error=RateLimited"),
        )
        .await;
    let wrong = found(Code::RateLimited, None, Some(30), &limited);
    assert_eq!(
        wrong,
        [
            "Preference-Applied Some(\"error=RateLimited\")",
            "Retry-After Some(\"1\")",
            "retry_after 1"
        ]
    );
}

// ------------------------------------------------------------------ success bodies

/// What a 2xx answer breaks in `schemas/openapi.json`: the operation (`-` for an undocumented
/// method and path), the status, a JSON Pointer into the body (empty for the whole answer)
/// and what is wrong there.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Finding {
    operation: String,
    status: u16,
    pointer: String,
    message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} at `{}`: {}",
            self.operation, self.status, self.pointer, self.message
        )
    }
}

/// Every documented 2xx response of every operation, its schemas compiled: (operationId,
/// status) to media type to validator. No media type means no body (a 204).
struct SuccessSchemas {
    responses: HashMap<(&'static str, u16), BTreeMap<String, jsonschema::Validator>>,
}

/// Hands the files of `schemas/` to the validator for the document's relative `$ref`s
/// (`./catalog.schema.json`), and nothing else: no network.
struct SchemaFiles;

impl jsonschema::Retrieve for SchemaFiles {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri
            .as_str()
            .strip_prefix("json-schema:///")
            .filter(|n| !n.contains('/'))
            .ok_or_else(|| format!("{uri}: only files of schemas/ are resolved"))?;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../schemas")
            .join(name);
        Ok(serde_json::from_slice(&std::fs::read(path)?)?)
    }
}

impl SuccessSchemas {
    fn new(doc: &Value) -> SuccessSchemas {
        // The document's component schemas, for the `#/components/schemas/...` references.
        let components = json!({ "schemas": doc["components"]["schemas"] });
        let mut responses = HashMap::new();
        for route in ROUTES {
            let op = &doc["paths"][route.path][route.verb.as_str().to_lowercase()];
            for (status, response) in op["responses"].as_object().unwrap() {
                if !status.starts_with('2') {
                    continue;
                }
                let response = resolve(doc, response);
                let mut media = BTreeMap::new();
                for (media_type, content) in response["content"].as_object().into_iter().flatten() {
                    let root = json!({
                        "$schema": "https://json-schema.org/draft/2020-12/schema",
                        "$ref": "#/$defs/response",
                        "$defs": { "response": content["schema"] },
                        "components": components,
                    });
                    let validator = jsonschema::options()
                        .with_draft(jsonschema::Draft::Draft202012)
                        .with_retriever(SchemaFiles)
                        .build(&root)
                        .unwrap_or_else(|e| {
                            panic!("{} {status} {media_type}: {e}", route.operation_id)
                        });
                    media.insert(media_type.clone(), validator);
                }
                responses.insert((route.operation_id, status.parse().unwrap()), media);
            }
        }
        SuccessSchemas { responses }
    }

    /// Every documented (operationId, 2xx status).
    fn documented(&self) -> BTreeSet<(&'static str, u16)> {
        self.responses.keys().copied().collect()
    }

    /// Judges a 2xx answer to `method path` against the document.
    fn check(
        &self,
        method: &Method,
        path: &str,
        status: u16,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Vec<Finding> {
        let finding = |operation: &str, pointer: &str, message: String| Finding {
            operation: operation.to_owned(),
            status,
            pointer: pointer.to_owned(),
            message,
        };
        let Some(route) = route_of(method, path) else {
            return vec![finding(
                "-",
                "",
                format!("{method} {path} is no documented operation"),
            )];
        };
        let operation = route.operation_id;
        let Some(media) = self.responses.get(&(operation, status)) else {
            return vec![finding(operation, "", "status not documented".to_owned())];
        };
        if media.is_empty() {
            return if body.is_empty() {
                Vec::new()
            } else {
                vec![finding(
                    operation,
                    "",
                    format!("{} body bytes where none is documented", body.len()),
                )]
            };
        }
        let media_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let Some(validator) = media.get(&media_type) else {
            return vec![finding(
                operation,
                "",
                format!(
                    "media type `{media_type}` not documented (documented: {:?})",
                    media.keys().collect::<Vec<_>>()
                ),
            )];
        };
        if *method == Method::HEAD {
            // No body to judge (HTTP strips it); the status and media type are documented.
            return Vec::new();
        }
        let value = if media_type.ends_with("json") {
            match serde_json::from_slice::<Value>(body) {
                Ok(value) => value,
                Err(e) => return vec![finding(operation, "", format!("not JSON: {e}"))],
            }
        } else {
            match std::str::from_utf8(body) {
                Ok(text) => Value::from(text),
                Err(e) => return vec![finding(operation, "", format!("not UTF-8: {e}"))],
            }
        };
        schema_findings(validator, &value)
            .into_iter()
            .map(|(pointer, message)| finding(operation, &pointer, message))
            .collect()
    }
}

/// Every schema violation as (JSON Pointer, message): a missing or unexpected member is
/// pointed at by its own name, as the mock's ValidationErrors do.
fn schema_findings(validator: &jsonschema::Validator, value: &Value) -> Vec<(String, String)> {
    use jsonschema::error::ValidationErrorKind as Kind;
    let escape = |name: &str| name.replace('~', "~0").replace('/', "~1");
    let mut out = Vec::new();
    for error in validator.iter_errors(value) {
        let at = error.instance_path().as_str().to_owned();
        match error.kind() {
            Kind::Required { property } => out.push((
                format!("{at}/{}", escape(property.as_str().unwrap_or_default())),
                "is required".to_owned(),
            )),
            Kind::AdditionalProperties { unexpected } => {
                out.extend(unexpected.iter().map(|name| {
                    (
                        format!("{at}/{}", escape(name)),
                        "is not allowed".to_owned(),
                    )
                }))
            }
            Kind::FalseSchema => out.push((at, "is not allowed".to_owned())),
            _ => {
                let mut message = error.to_string();
                if message.len() > 200 {
                    let cut = (0..=200).rev().find(|&i| message.is_char_boundary(i));
                    message.truncate(cut.unwrap_or(0));
                    message.push('…');
                }
                out.push((at, message));
            }
        }
    }
    out.dedup();
    out
}

/// A local `$ref` (`#/components/responses/...`) resolved in `doc`.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) if r.starts_with('#') => doc.pointer(&r[1..]).unwrap(),
        _ => value,
    }
}

/// The route serving `method path` (HEAD as GET); where templates overlap
/// (`/scim/v2/Users/.search` and `/scim/v2/Users/{id}`) the one with more literal segments.
fn route_of(method: &Method, path: &str) -> Option<&'static mock_server::routes::Route> {
    let path = path.split('?').next().unwrap_or_default();
    let method = if *method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    let segments: Vec<&str> = path.split('/').collect();
    ROUTES
        .iter()
        .filter(|r| r.verb.as_str() == method)
        .filter(|r| {
            let template: Vec<&str> = r.path.split('/').collect();
            template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
        })
        .max_by_key(|r| r.path.split('/').filter(|t| !t.starts_with('{')).count())
}

// ----------------------------------------------------------- well-formed operations

const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const YUBIKEY: &str = "ee882879-721c-4913-9775-3dfcce97072a";

/// What a SCIM operation does with the user it provisions (and deletes) around it.
#[derive(Clone, Copy, Debug)]
enum ScimStep {
    Get,
    GetProjected,
    Replace,
    Patch,
    ListByName,
    ListPage,
    SearchUsers,
    SearchRoot,
}

/// What a webhook operation does with the endpoint it registers (and deletes) around it.
#[derive(Clone, Copy, Debug)]
enum HookStep {
    List,
    DisableEnable,
    Rotate,
    Test,
    /// Test sends to a receiver that answers 500 until the circuit opens, then the list.
    Failing,
}

/// A request sequence that should succeed: every operation of the document, with the
/// preparation it needs (a fresh user, a step-up, an endpoint) done by requests too.
#[derive(Clone, Debug)]
enum Op {
    Public(&'static str),
    Reset,
    SignIn {
        email: &'static str,
        sso: bool,
    },
    ListUsers {
        limit: Option<u8>,
    },
    GetUser(&'static str),
    /// Invite, read, step up for `delete_user`, delete.
    InviteAndDelete {
        role: &'static str,
    },
    Enrol {
        token: &'static str,
        kind: &'static str,
    },
    StepUp {
        purpose: &'static str,
    },
    /// List the admin's factors, step up for `remove_factor` and remove one.
    Factors,
    /// Step up with the vault admin's seeded security key.
    KeyStepUp,
    /// Read the policy; with `Some`, step up and replace it (with ranges that keep every
    /// peer this test uses allowed).
    NetworkPolicy(Option<usize>),
    Webhook {
        step: HookStep,
        events: Vec<&'static str>,
    },
    Scim {
        step: ScimStep,
        enterprise: bool,
    },
    ScimDiscovery(&'static str),
    /// Add a fault rule that matches no request of this test, list the rules and the
    /// journal, remove the rule, clear the rules.
    Faults,
}

const PUBLIC_PATHS: &[&str] = &[
    "/openapi.json",
    "/docs/errors",
    "/docs/errors.json",
    "/problem.schema.json",
    "/scim-error.schema.json",
    "/catalog.schema.json",
    "/healthz",
];
const SCIM_DISCOVERY: &[&str] = &[
    "/ServiceProviderConfig",
    "/ResourceTypes",
    "/ResourceTypes/User",
    "/Schemas",
    "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
    "/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
];
const ALLOWLISTS: &[&[&str]] = &[
    &[],
    &["0.0.0.0/0", "::/0"],
    &[
        "127.0.0.0/8",
        "::1",
        "203.0.113.0/24",
        "198.51.100.7",
        "2001:db8::/32",
    ],
];
const EVENTS: &[&str] = &["user.created", "user.updated", "user.deleted"];

/// Every operation at least once, in a fixed order: the tour that opens the property test.
fn tour() -> Vec<Op> {
    let mut ops: Vec<Op> = PUBLIC_PATHS.iter().map(|p| Op::Public(p)).collect();
    ops.extend([
        Op::SignIn {
            email: "admin@acme.example",
            sso: false,
        },
        Op::SignIn {
            email: "member@acme.example",
            sso: true,
        },
        Op::ListUsers { limit: None },
        Op::ListUsers { limit: Some(1) },
        Op::GetUser("usr_acme_admin"),
        Op::InviteAndDelete { role: "member" },
        Op::Enrol {
            token: "tok_acme_newbie",
            kind: "totp",
        },
        Op::Enrol {
            token: "tok_acme_member",
            kind: "security_key",
        },
        Op::StepUp {
            purpose: "delete_user",
        },
        Op::Factors,
        Op::KeyStepUp,
        Op::NetworkPolicy(None),
        Op::NetworkPolicy(Some(0)),
    ]);
    for step in [
        HookStep::List,
        HookStep::DisableEnable,
        HookStep::Rotate,
        HookStep::Test,
        HookStep::Failing,
    ] {
        ops.push(Op::Webhook {
            step,
            events: vec!["user.created"],
        });
    }
    for step in [
        ScimStep::Get,
        ScimStep::GetProjected,
        ScimStep::Replace,
        ScimStep::Patch,
        ScimStep::ListByName,
        ScimStep::ListPage,
        ScimStep::SearchUsers,
        ScimStep::SearchRoot,
    ] {
        ops.push(Op::Scim {
            step,
            enterprise: true,
        });
    }
    ops.extend(SCIM_DISCOVERY.iter().map(|p| Op::ScimDiscovery(p)));
    ops.push(Op::Faults);
    ops.push(Op::Reset);
    ops
}

fn op() -> impl Strategy<Value = Op> {
    let sign_in = (
        prop::sample::select(vec![
            "admin@acme.example",
            "member@acme.example",
            "admin@pwonly.example",
        ]),
        any::<bool>(),
    )
        .prop_map(|(email, sso)| Op::SignIn {
            email,
            sso: sso && email.ends_with("acme.example"),
        });
    let hook_step = prop::sample::select(vec![
        HookStep::List,
        HookStep::DisableEnable,
        HookStep::Rotate,
        HookStep::Test,
        HookStep::Failing,
    ]);
    let scim_step = prop::sample::select(vec![
        ScimStep::Get,
        ScimStep::GetProjected,
        ScimStep::Replace,
        ScimStep::Patch,
        ScimStep::ListByName,
        ScimStep::ListPage,
        ScimStep::SearchUsers,
        ScimStep::SearchRoot,
    ]);
    prop_oneof![
        prop::sample::select(PUBLIC_PATHS).prop_map(Op::Public),
        sign_in,
        prop::option::of(1..=100u8).prop_map(|limit| Op::ListUsers { limit }),
        prop::sample::select(vec!["usr_acme_admin", "usr_acme_member", "usr_acme_newbie"])
            .prop_map(Op::GetUser),
        prop::sample::select(vec!["admin", "member"]).prop_map(|role| Op::InviteAndDelete { role }),
        (
            prop::sample::select(vec!["tok_acme_newbie", "tok_acme_member"]),
            prop::sample::select(vec!["totp", "passkey", "security_key"])
        )
            .prop_map(|(token, kind)| Op::Enrol { token, kind }),
        prop::sample::select(vec![
            "delete_user",
            "change_network_policy",
            "rotate_webhook_secret"
        ])
        .prop_map(|purpose| Op::StepUp { purpose }),
        Just(Op::Factors),
        Just(Op::KeyStepUp),
        prop::option::of(0..ALLOWLISTS.len()).prop_map(Op::NetworkPolicy),
        (hook_step, prop::sample::subsequence(EVENTS, 1..=3))
            .prop_map(|(step, events)| Op::Webhook { step, events }),
        (scim_step, any::<bool>()).prop_map(|(step, enterprise)| Op::Scim { step, enterprise }),
        prop::sample::select(SCIM_DISCOVERY).prop_map(Op::ScimDiscovery),
        Just(Op::Reset),
        Just(Op::Faults),
    ]
}

/// The admin of `acme`, the workspace every workspace operation runs in.
const ADMIN: &str = "tok_acme_admin";
const USERS_PATH: &str = "/v1/workspaces/acme/users";
const HOOKS_PATH: &str = "/v1/workspaces/acme/webhooks";

/// Runs an operation's requests in order and returns every exchange; a step that needs an
/// earlier answer (an id, a token) stops the sequence when that answer is missing.
async fn perform(client: &Client, op: &Op, receiver: &str, fresh: u64) -> Vec<(Req, Resp)> {
    let mut s = Exchanges {
        client,
        done: Vec::new(),
        last_factor: None,
    };
    let scim = |method: Method, path: &str| {
        Req::new(method, &format!("/scim/v2{path}")).token("scim_acme")
    };
    let scim_body = |req: Req, body: Value| {
        req.raw(
            Some(response_schema::SCIM_JSON),
            serde_json::to_vec(&body).unwrap(),
        )
    };
    match op {
        Op::Public(path) => {
            s.send(Req::get(path)).await;
        }
        Op::Reset => {
            s.send(Req::post("/admin/reset")).await;
        }
        Op::Faults => {
            let rule = s
                .send(
                    Req::post("/admin/faults")
                        .json(json!({ "path": "/nowhere/at/all", "latency_ms": 1, "every": 2 })),
                )
                .await;
            s.send(Req::get("/admin/faults")).await;
            s.send(Req::get("/admin/requests?route=/healthz&since=0"))
                .await;
            if let Some(id) = rule["id"].as_str() {
                s.send(Req::delete(&format!("/admin/faults/{id}"))).await;
            }
            s.send(Req::delete("/admin/faults")).await;
        }
        Op::SignIn { email, sso } => {
            let workspace = email.split(['@', '.']).nth(1).unwrap();
            let body = if *sso {
                json!({ "method": "sso", "email": email })
            } else {
                json!({ "method": "password", "email": email, "password": crate::support::PASSWORD })
            };
            s.send(Req::post(&format!("/v1/workspaces/{workspace}/sessions")).json(body))
                .await;
        }
        Op::ListUsers { limit } => {
            let query = limit.map(|l| format!("?limit={l}")).unwrap_or_default();
            s.send(Req::get(&format!("{USERS_PATH}{query}")).token(ADMIN))
                .await;
        }
        Op::GetUser(id) => {
            s.send(Req::get(&format!("{USERS_PATH}/{id}")).token(ADMIN))
                .await;
        }
        Op::InviteAndDelete { role } => {
            let invited =
                s.send(Req::post(USERS_PATH).token(ADMIN).json(
                    json!({ "email": format!("invitee{fresh}@acme.example"), "role": role }),
                ))
                .await;
            let Some(id) = invited["id"].as_str() else {
                return s.done;
            };
            let path = format!("{USERS_PATH}/{id}");
            s.send(Req::get(&path).token(ADMIN)).await;
            let token = s.step_up("delete_user").await;
            if let Some(token) = token["step_up_token"].as_str() {
                s.send(Req::delete(&path).token(ADMIN).step_up(token)).await;
            }
        }
        Op::Enrol { token, kind } => {
            let mut body = json!({ "type": kind });
            if *kind != "totp" {
                // A registration attested by the profile's test leaf for the allowlisted model.
                let options = s
                    .send(
                        Req::post("/v1/workspaces/acme/factors/webauthn/options")
                            .token(token)
                            .json(json!({ "type": kind })),
                    )
                    .await;
                let Some(challenge) = options["challenge"].as_str() else {
                    return s.done;
                };
                let authenticator = SoftAuthenticator::generate(
                    YUBIKEY.parse().unwrap(),
                    format!("cred{fresh}").as_bytes(),
                );
                let registration = authenticator.register(
                    &Ceremony::new(b64(challenge), ORIGIN, RP_ID),
                    &Attest::X5c {
                        leaf_key: b64(&profile_credential("attestation_key")),
                        chain: vec![b64(&profile_credential("attestation_cert"))],
                    },
                );
                body["clientDataJSON"] = registration.client_data_json.into();
                body["attestationObject"] = registration.attestation_object.into();
            }
            s.send(
                Req::post("/v1/workspaces/acme/factors")
                    .token(token)
                    .json(body),
            )
            .await;
        }
        Op::Factors => {
            s.send(Req::get("/v1/workspaces/acme/factors").token(ADMIN))
                .await;
            // The step-up enrols a fresh TOTP factor; remove that one.
            let token = s.step_up("remove_factor").await;
            let (Some(token), Some(factor)) =
                (token["step_up_token"].as_str(), s.last_factor.clone())
            else {
                return s.done;
            };
            s.send(
                Req::delete(&format!("{USERS_PATH}/usr_acme_admin/factors/{factor}"))
                    .token(ADMIN)
                    .step_up(token),
            )
            .await;
        }
        Op::KeyStepUp => {
            let options = s
                .send(
                    Req::post("/v1/workspaces/vault/step-up/options")
                        .token("tok_vault_admin")
                        .json(json!({ "factor": "security_key" })),
                )
                .await;
            let Some(challenge) = options["challenge"].as_str() else {
                return s.done;
            };
            let mut key = SoftAuthenticator::from_pkcs8(
                &b64(&profile_credential("vault_admin_key")),
                &b64(&profile_credential("vault_admin_key_id")),
                Aaguid::ZERO,
            )
            .unwrap();
            let assertion = key.assert(&Ceremony::new(b64(challenge), ORIGIN, RP_ID));
            let mut body = assertion_body("security_key", &assertion);
            body["purpose"] = "change_network_policy".into();
            s.send(
                Req::post("/v1/workspaces/vault/step-up")
                    .token("tok_vault_admin")
                    .json(body),
            )
            .await;
        }
        Op::StepUp { purpose } => {
            s.step_up(purpose).await;
        }
        Op::NetworkPolicy(put) => {
            let path = "/v1/workspaces/acme/network-policy";
            s.send(Req::get(path).token(ADMIN)).await;
            if let Some(i) = put {
                let token = s.step_up("change_network_policy").await;
                if let Some(token) = token["step_up_token"].as_str() {
                    s.send(
                        Req::put(path)
                            .token(ADMIN)
                            .step_up(token)
                            .json(json!({ "allowlist": ALLOWLISTS[*i] })),
                    )
                    .await;
                }
            }
        }
        Op::Webhook { step, events } => {
            let url = if matches!(step, HookStep::Failing) {
                receiver.replace("/hook", "/fail")
            } else {
                receiver.to_owned()
            };
            let created = s
                .send(
                    Req::post(HOOKS_PATH)
                        .token(ADMIN)
                        .json(json!({ "url": url, "events": events })),
                )
                .await;
            let Some(id) = created["id"].as_str() else {
                return s.done;
            };
            let path = format!("{HOOKS_PATH}/{id}");
            match step {
                HookStep::List => {
                    s.send(Req::get(HOOKS_PATH).token(ADMIN)).await;
                }
                HookStep::DisableEnable => {
                    s.send(Req::post(&format!("{path}/disable")).token(ADMIN))
                        .await;
                    s.send(Req::post(&format!("{path}/enable")).token(ADMIN))
                        .await;
                }
                HookStep::Rotate => {
                    let token = s.step_up("rotate_webhook_secret").await;
                    if let Some(token) = token["step_up_token"].as_str() {
                        s.send(
                            Req::post(&format!("{path}/rotate-secret"))
                                .token(ADMIN)
                                .step_up(token),
                        )
                        .await;
                    }
                }
                HookStep::Test => {
                    s.send(Req::post(&format!("{path}/test")).token(ADMIN))
                        .await;
                }
                HookStep::Failing => {
                    // The seed's circuit threshold is 3: the third failure opens it.
                    for _ in 0..3 {
                        s.send(Req::post(&format!("{path}/test")).token(ADMIN))
                            .await;
                    }
                    s.send(Req::get(HOOKS_PATH).token(ADMIN)).await;
                }
            }
            s.send(Req::delete(&path).token(ADMIN)).await;
        }
        Op::Scim { step, enterprise } => {
            let user_name = format!("scim{fresh}@acme.example");
            let mut user = json!({
                "schemas": [CORE_USER],
                "userName": user_name,
                "name": { "givenName": "Pat", "familyName": format!("Doe{fresh}") },
                "emails": [{ "value": user_name, "type": "work", "primary": true }],
                "active": true,
            });
            if *enterprise {
                user["schemas"] = json!([CORE_USER, ENTERPRISE_USER]);
                user[ENTERPRISE_USER] =
                    json!({ "department": "Tours", "employeeNumber": fresh.to_string() });
            }
            let created = s
                .send(scim_body(scim(Method::POST, "/Users"), user.clone()))
                .await;
            let Some(id) = created["id"].as_str() else {
                return s.done;
            };
            let path = format!("/Users/{id}");
            match step {
                ScimStep::Get => {
                    s.send(scim(Method::GET, &path)).await;
                }
                ScimStep::GetProjected => {
                    s.send(scim(
                        Method::GET,
                        &format!("{path}?attributes=emails,name.givenName"),
                    ))
                    .await;
                    s.send(scim(
                        Method::GET,
                        &format!("{path}?excludedAttributes=userName,meta.version"),
                    ))
                    .await;
                }
                ScimStep::Replace => {
                    user["active"] = false.into();
                    s.send(scim_body(scim(Method::PUT, &path), user)).await;
                }
                ScimStep::Patch => {
                    let ops = json!({
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [
                            { "op": "replace", "path": "active", "value": false },
                            { "op": "add", "path": "nickName", "value": "pat" },
                            { "op": "remove", "path": "name.familyName" },
                        ],
                    });
                    s.send(scim_body(scim(Method::PATCH, &path), ops)).await;
                }
                ScimStep::ListByName => {
                    s.send(scim(
                        Method::GET,
                        &format!("/Users?filter=userName+eq+%22{user_name}%22"),
                    ))
                    .await;
                }
                ScimStep::ListPage => {
                    s.send(scim(
                        Method::GET,
                        "/Users?filter=userName+sw+%22scim%22&startIndex=2&count=3&attributes=userName",
                    ))
                    .await;
                }
                ScimStep::SearchUsers | ScimStep::SearchRoot => {
                    let at = if matches!(step, ScimStep::SearchUsers) {
                        "/Users/.search"
                    } else {
                        "/.search"
                    };
                    let search = json!({
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                        "filter": format!("userName eq \"{user_name}\""),
                        "excludedAttributes": ["emails"],
                        "count": 10,
                    });
                    s.send(scim_body(scim(Method::POST, at), search)).await;
                }
            }
            s.send(scim(Method::DELETE, &path)).await;
        }
        Op::ScimDiscovery(path) => {
            s.send(scim(Method::GET, path)).await;
        }
    }
    s.done
}

/// The exchanges of one operation, in order.
struct Exchanges<'a> {
    client: &'a Client,
    done: Vec<(Req, Resp)>,
    /// The factor the last [`Exchanges::step_up`] enrolled.
    last_factor: Option<String>,
}

impl Exchanges<'_> {
    /// Sends `req`; returns the JSON body of a 2xx answer, else `null`.
    async fn send(&mut self, req: Req) -> Value {
        let resp = self.client.send(req.clone()).await;
        let json = if resp.status < 300 {
            resp.json.clone()
        } else {
            Value::Null
        };
        self.done.push((req, resp));
        json
    }

    /// A TOTP step-up of the acme admin for `purpose`: enrols a fresh TOTP factor (each
    /// factor accepts one code per time step) and sends its current code.
    async fn step_up(&mut self, purpose: &str) -> Value {
        let enrolled = self
            .send(
                Req::post("/v1/workspaces/acme/factors")
                    .token(ADMIN)
                    .json(json!({ "type": "totp" })),
            )
            .await;
        let Some(secret) = enrolled["secret"].as_str() else {
            return Value::Null;
        };
        self.last_factor = enrolled["id"].as_str().map(str::to_owned);
        let code = current_code(&mock_server::totp::decode_secret(secret).unwrap());
        self.send(
            Req::post("/v1/workspaces/acme/step-up")
                .token(ADMIN)
                .json(json!({ "purpose": purpose, "factor": "totp", "code": code })),
        )
        .await
    }
}

/// A webhook receiver on loopback: `/hook` answers 204 to every delivery, `/fail` 500.
async fn receiver() -> String {
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(|| async { http::StatusCode::NO_CONTENT }),
        )
        .route(
            "/fail",
            axum::routing::post(|| async { http::StatusCode::INTERNAL_SERVER_ERROR }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/hook")
}

/// A 2xx answer to judge (method, path, status, media type, body) and its expected findings
/// (operation, pointer, message).
type WrongAnswer<'a> = (
    Method,
    &'a str,
    u16,
    &'a str,
    Vec<u8>,
    Vec<(&'a str, &'a str, &'a str)>,
);

/// The 2xx oracle can fail: each wrong answer gives exactly its findings (operation, status,
/// JSON Pointer, message), and a right one none.
#[test]
fn wrong_success_bodies_are_found_where_they_are_wrong() {
    let success = SuccessSchemas::new(&openapi::document().unwrap());
    let user = json!({
        "id": "usr_1", "workspace": "acme", "email": "a@acme.example",
        "role": "member", "disabled": false, "factors": [],
    });
    let without = |value: &Value, member: &str| {
        let mut value = value.clone();
        value.as_object_mut().unwrap().remove(member);
        value
    };
    let with = |value: &Value, member: &str, v: Value| {
        let mut value = value.clone();
        value[member] = v;
        value
    };
    let scim_user = json!({
        "schemas": [CORE_USER], "id": "usr_1", "userName": "a@acme.example",
        "meta": {
            "resourceType": "User", "created": "2026-01-01T00:00:00Z",
            "lastModified": "2026-01-01T00:00:00Z",
            "location": "http://mock.test/scim/v2/Users/usr_1", "version": "W/\"1\"",
        },
    });
    let list = |resource: Value| {
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 1, "startIndex": 1, "itemsPerPage": 1, "Resources": [resource],
        })
    };
    let webhook = json!({
        "id": "whk_000001", "url": "http://127.0.0.1:9/hook", "events": ["user.created"],
        "enabled": true, "circuit": { "state": "broken", "consecutive_failures": 0 },
        "created_at": "2026-01-01T00:00:00Z", "secret": "whsec_AAAA",
    });
    let catalog: Value = serde_json::from_str(&catalog_contract::export::catalog_json()).unwrap();
    let users_page = "/v1/workspaces/acme/users?limit=1";
    let scim = response_schema::SCIM_JSON;
    let cases: Vec<WrongAnswer> = vec![
        (
            Method::GET,
            "/healthz",
            200,
            "application/json",
            br#"{"status":"ok"}"#.to_vec(),
            vec![],
        ),
        (
            Method::GET,
            "/v1/workspaces/acme/users/usr_1",
            200,
            "application/json",
            bytes_of(&without(&user, "id")),
            vec![("getUser", "/id", "is required")],
        ),
        (
            Method::GET,
            "/v1/workspaces/acme/users/usr_1",
            200,
            "application/json",
            bytes_of(&with(&user, "disabled", json!("no"))),
            vec![("getUser", "/disabled", r#""no" is not of type "boolean""#)],
        ),
        (
            Method::GET,
            users_page,
            200,
            "application/json",
            bytes_of(
                &json!({ "users": [with(&user, "factors", json!([{ "id": "f", "type": "sms" }]))] }),
            ),
            vec![(
                "listUsers",
                "/users/0/factors/0/type",
                r#""sms" is not one of "totp", "passkey" or "security_key""#,
            )],
        ),
        (
            Method::POST,
            "/v1/workspaces/acme/sessions",
            201,
            "application/json",
            bytes_of(
                &json!({ "token": "ses_1", "user_id": "usr_1", "workspace": "acme", "expires_in": 3600, "password": "x" }),
            ),
            vec![("signIn", "/password", "is not allowed")],
        ),
        (
            Method::POST,
            "/v1/workspaces/acme/factors",
            201,
            "application/json",
            bytes_of(&json!({ "id": "fac_1", "type": "totp" })),
            vec![
                ("enrolFactor", "/secret", "is required"),
                ("enrolFactor", "/otpauth_uri", "is required"),
            ],
        ),
        (
            Method::POST,
            "/v1/workspaces/acme/factors",
            201,
            "application/json",
            bytes_of(
                &json!({ "id": "fac_1", "type": "passkey", "fmt": "packed", "secret": "JBSWY3DP" }),
            ),
            vec![
                (
                    "enrolFactor",
                    "/secret",
                    "\"JBSWY3DP\" does not match \"^[A-Z2-7]{32}$\"",
                ),
                ("enrolFactor", "/aaguid", "is required"),
                ("enrolFactor", "/credential_id", "is required"),
                ("enrolFactor", "/secret", "is not allowed"),
            ],
        ),
        (
            Method::POST,
            "/v1/workspaces/acme/webhooks",
            201,
            "application/json; charset=utf-8",
            bytes_of(&webhook),
            vec![(
                "createWebhook",
                "/circuit/state",
                r#""broken" is not one of "closed", "open" or "half_open""#,
            )],
        ),
        (
            Method::GET,
            "/scim/v2/Users/usr_1",
            200,
            scim,
            bytes_of(&with(&scim_user, "password", json!("hunter2"))),
            vec![("scimGetUser", "/password", "is not allowed")],
        ),
        (
            Method::GET,
            "/scim/v2/Users?filter=userName+pr",
            200,
            scim,
            bytes_of(&list(without(&scim_user, "id"))),
            vec![("scimListUsers", "/Resources/0/id", "is required")],
        ),
        (
            Method::GET,
            "/scim/v2/Users/usr_1",
            200,
            "application/json",
            bytes_of(&scim_user),
            vec![(
                "scimGetUser",
                "",
                r#"media type `application/json` not documented (documented: ["application/scim+json"])"#,
            )],
        ),
        (
            Method::DELETE,
            "/v1/workspaces/acme/users/usr_1",
            204,
            "",
            b"{}".to_vec(),
            vec![("deleteUser", "", "2 body bytes where none is documented")],
        ),
        (
            Method::GET,
            "/v1/workspaces/acme/users/usr_1",
            201,
            "application/json",
            bytes_of(&user),
            vec![("getUser", "", "status not documented")],
        ),
        (
            Method::GET,
            "/v1/nowhere",
            200,
            "application/json",
            b"{}".to_vec(),
            vec![("-", "", "GET /v1/nowhere is no documented operation")],
        ),
        (
            Method::POST,
            "/v1/workspaces/acme/webhooks/whk_000001/test",
            200,
            "application/json",
            bytes_of(&json!({
                "delivered": false, "status": 500, "webhook_id": "msg_1",
                "circuit": { "state": "open", "consecutive_failures": 3 },
            })),
            vec![
                ("testWebhook", "/circuit/retry_after", "is required"),
                ("testWebhook", "/error", "is required"),
            ],
        ),
        // HEAD: the status and media type are judged, the (stripped) body is not.
        (
            Method::HEAD,
            "/healthz",
            200,
            "application/json",
            Vec::new(),
            vec![],
        ),
        // The catalog is held to `./catalog.schema.json`, a file beside the document.
        (
            Method::GET,
            "/docs/errors.json",
            200,
            "application/json",
            bytes_of(&without(&catalog, "docs_path")),
            vec![("getErrorCatalog", "/docs_path", "is required")],
        ),
    ];
    for (method, path, status, content_type, bytes, expected) in cases {
        let mut headers = http::HeaderMap::new();
        if !content_type.is_empty() {
            headers.insert("content-type", content_type.parse().unwrap());
        }
        let found = success.check(&method, path, status, &headers, &bytes);
        let expected: Vec<Finding> = expected
            .into_iter()
            .map(|(operation, pointer, message)| Finding {
                operation: operation.to_owned(),
                status,
                pointer: pointer.to_owned(),
                message: message.to_owned(),
            })
            .collect();
        assert_eq!(found, expected, "{method} {path} {status}");
    }
}

fn bytes_of(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}
