//! Random requests (methods, paths, headers, bodies) never get a 5xx, an undocumented code or
//! an error body that breaks the contract; every error code is one the matched operation
//! documents in `x-error-codes` (NotFound for unrouted requests).

use std::collections::BTreeSet;

use catalog::{Code, Envelope};
use http::Method;
use mock_server::openapi;
use mock_server::routes::ROUTES;
use mock_server::webauthn::{Aaguid, build_attestation_object};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use response_schema::{Expect, Response, check};
use serde_json::Value;

use crate::support::{BASE, Client, Req};

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
    (
        method_and_path(),
        token,
        content_type,
        step_up,
        peer,
        forwarded,
        body(),
    )
        .prop_map(
            |((method, path), token, content_type, step_up, peer, forwarded, body)| {
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

#[test]
fn random_requests_get_documented_conforming_answers() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = Client::new();
    let doc = openapi::document().unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&request(), |req| {
            let resp = runtime.block_on(client.send(req.clone()));
            prop_assert!(resp.status < 500, "{req:?} -> {}", resp.status);
            prop_assert!(resp.header("x-request-id").is_some());
            if resp.status < 400 {
                return Ok(());
            }
            let allowed = allowed_codes(&doc, &req.method, &req.path);
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
                return Ok(());
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
            Ok(())
        })
        .unwrap();
}
