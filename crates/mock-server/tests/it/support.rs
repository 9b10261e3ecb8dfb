//! Test helpers: a client over the router, requests with a pretended peer, and assertions
//! that run the response-schema checker on every error.

use std::net::{IpAddr, SocketAddr};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use catalog::Code;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use mock_server::seed::Seed;
use mock_server::webauthn::Aaguid;
use mock_server::webauthn::authenticator::{Assertion, Attest, Ceremony, SoftAuthenticator};
use mock_server::{App, AppState, Config, app};
use response_schema::{Expect, Response, check};
use serde_json::Value;
use tower::ServiceExt;

/// The public URL the test states use; every `type` link must start with it.
pub const BASE: &str = "http://mock.test";

/// The mock with `config`, serving on a free loopback port until shut down.
pub async fn loopback(config: Config) -> mock_server::Running {
    mock_server::spawn(SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .unwrap()
}

/// The seeded password.
pub const PASSWORD: &str = "correct horse battery staple";

/// A state over the embedded seed.
pub fn state() -> AppState {
    state_with(|_| {})
}

/// A state over the embedded seed changed by `edit`.
pub fn state_with(edit: impl FnOnce(&mut Seed)) -> AppState {
    let mut seed = Seed::embedded().unwrap();
    edit(&mut seed);
    let mut config = Config::new(seed);
    config.public_url = Some(BASE.to_owned());
    AppState::new(config).unwrap()
}

/// The router over a state.
#[derive(Clone)]
pub struct Client {
    pub app: App,
}

impl Client {
    pub fn new() -> Client {
        Client::over(state())
    }

    pub fn over(state: AppState) -> Client {
        Client { app: app(state) }
    }

    pub async fn send(&self, req: Req) -> Resp {
        let mut builder = Request::builder().method(req.method).uri(req.path);
        for (name, value) in &req.headers {
            builder = builder.header(name, value);
        }
        let mut request = builder
            .body(req.body.map_or_else(Body::empty, Body::from))
            .unwrap();
        if let Some(peer) = req.peer {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            bytes,
            json,
        }
    }

    /// Signs in with a password and returns the session token.
    pub async fn sign_in(&self, workspace: &str, email: &str) -> String {
        let resp = self
            .send(Req::post(&format!("/v1/workspaces/{workspace}/sessions")).json(
                serde_json::json!({ "method": "password", "email": email, "password": PASSWORD }),
            ))
            .await;
        resp.assert_status(201);
        resp.json["token"].as_str().unwrap().to_owned()
    }

    /// Performs a step-up and returns the token. TOTP: enrols a fresh TOTP factor first and
    /// sends its current code (each factor's replay guard allows one code per time step, and a
    /// test may step up more often than that). Passkey or security key: registers a fresh
    /// credential (`none` attestation, so not in a workspace with an AAGUID allowlist) and
    /// asserts with it.
    pub async fn step_up(
        &self,
        workspace: &str,
        token: &str,
        purpose: &str,
        factor: &str,
    ) -> String {
        let body = if factor == "totp" {
            let secret = self.enrol_totp(workspace, token).await;
            serde_json::json!({ "purpose": purpose, "factor": factor, "code": current_code(&secret) })
        } else {
            let mut authenticator = self.register(workspace, token, factor).await;
            let assertion = self
                .assertion(workspace, token, factor, &mut authenticator)
                .await;
            let mut body = assertion;
            body["purpose"] = purpose.into();
            body
        };
        let resp = self
            .send(
                Req::post(&format!("/v1/workspaces/{workspace}/step-up"))
                    .token(token)
                    .json(body),
            )
            .await;
        resp.assert_status(201);
        resp.json["step_up_token"].as_str().unwrap().to_owned()
    }

    /// Enrols a TOTP factor and returns its secret.
    pub async fn enrol_totp(&self, workspace: &str, token: &str) -> Vec<u8> {
        let resp = self
            .send(
                Req::post(&format!("/v1/workspaces/{workspace}/factors"))
                    .token(token)
                    .json(serde_json::json!({ "type": "totp" })),
            )
            .await;
        resp.assert_status(201);
        mock_server::totp::decode_secret(resp.json["secret"].as_str().unwrap()).unwrap()
    }

    /// Asks for registration options and returns the decoded challenge.
    pub async fn registration_challenge(
        &self,
        workspace: &str,
        token: &str,
        kind: &str,
    ) -> Vec<u8> {
        let resp = self
            .send(
                Req::post(&format!(
                    "/v1/workspaces/{workspace}/factors/webauthn/options"
                ))
                .token(token)
                .json(serde_json::json!({ "type": kind })),
            )
            .await;
        resp.assert_status(200);
        b64(resp.json["challenge"].as_str().unwrap())
    }

    /// Registers a fresh credential of `kind` with `none` attestation and returns it.
    pub async fn register(&self, workspace: &str, token: &str, kind: &str) -> SoftAuthenticator {
        let challenge = self.registration_challenge(workspace, token, kind).await;
        let id: [u8; 16] = rand_bytes();
        let authenticator = SoftAuthenticator::generate(Aaguid::ZERO, &id);
        let registration =
            authenticator.register(&Ceremony::new(challenge, ORIGIN, RP_ID), &Attest::None);
        let resp = self
            .send(
                Req::post(&format!("/v1/workspaces/{workspace}/factors"))
                    .token(token)
                    .json(serde_json::json!({
                        "type": kind,
                        "clientDataJSON": registration.client_data_json,
                        "attestationObject": registration.attestation_object,
                    })),
            )
            .await;
        resp.assert_status(201);
        authenticator
    }

    /// Asks for step-up options and returns the decoded challenge.
    pub async fn assertion_challenge(&self, workspace: &str, token: &str, factor: &str) -> Vec<u8> {
        let resp = self
            .send(
                Req::post(&format!("/v1/workspaces/{workspace}/step-up/options"))
                    .token(token)
                    .json(serde_json::json!({ "factor": factor })),
            )
            .await;
        resp.assert_status(200);
        b64(resp.json["challenge"].as_str().unwrap())
    }

    /// A step-up body (without `purpose`) asserting with `authenticator` over a fresh challenge.
    pub async fn assertion(
        &self,
        workspace: &str,
        token: &str,
        factor: &str,
        authenticator: &mut SoftAuthenticator,
    ) -> Value {
        let challenge = self.assertion_challenge(workspace, token, factor).await;
        let a = authenticator.assert(&Ceremony::new(challenge, ORIGIN, RP_ID));
        assertion_body(factor, &a)
    }
}

/// The seed's relying party.
pub const RP_ID: &str = "platform.example";
pub const ORIGIN: &str = "https://platform.example";

/// The step-up body members of an assertion.
pub fn assertion_body(factor: &str, a: &Assertion) -> Value {
    serde_json::json!({
        "factor": factor,
        "credentialId": a.credential_id,
        "clientDataJSON": a.client_data_json,
        "authenticatorData": a.authenticator_data,
        "signature": a.signature,
    })
}

/// The current TOTP code of `secret`.
pub fn current_code(secret: &[u8]) -> String {
    let step = mock_server::totp::step_of(mock_server::totp::unix_now());
    mock_server::totp::code_at(secret, step)
}

/// Decodes base64url without padding.
pub fn b64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

/// Random bytes from uuid's generator.
pub fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(16) {
        let id = uuid::Uuid::new_v4();
        chunk.copy_from_slice(&id.as_bytes()[..chunk.len()]);
    }
    out
}

/// A credential of the profile `fixtures/profiles/mock.toml` (`[credentials] name.value`).
pub fn profile_credential(name: &str) -> String {
    let text = include_str!("../../../../fixtures/profiles/mock.toml");
    let profile: toml::Value = toml::from_str(text).unwrap();
    profile["credentials"][name]["value"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A request to build.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Option<Vec<u8>>,
    pub peer: Option<SocketAddr>,
}

impl Req {
    pub fn new(method: Method, path: &str) -> Req {
        Req {
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: None,
            peer: Some(SocketAddr::from(([127, 0, 0, 1], 40000))),
        }
    }

    pub fn get(path: &str) -> Req {
        Req::new(Method::GET, path)
    }

    pub fn post(path: &str) -> Req {
        Req::new(Method::POST, path)
    }

    pub fn put(path: &str) -> Req {
        Req::new(Method::PUT, path)
    }

    pub fn delete(path: &str) -> Req {
        Req::new(Method::DELETE, path)
    }

    /// Sets a header, replacing an earlier value of the same name.
    pub fn header(mut self, name: &str, value: &str) -> Req {
        let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
        self.headers.retain(|(n, _)| *n != name);
        self.headers
            .push((name, HeaderValue::from_str(value).unwrap()));
        self
    }

    pub fn token(self, token: &str) -> Req {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn step_up(self, token: &str) -> Req {
        self.header("x-step-up-token", token)
    }

    pub fn json(mut self, value: Value) -> Req {
        self.body = Some(serde_json::to_vec(&value).unwrap());
        self.header("content-type", "application/json")
    }

    pub fn raw(mut self, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Req {
        self.body = Some(body.into());
        match content_type {
            Some(ct) => self.header("content-type", ct),
            None => self,
        }
    }

    pub fn peer(mut self, ip: &str) -> Req {
        let ip: IpAddr = ip.parse().unwrap();
        self.peer = Some(SocketAddr::new(ip, 40000));
        self
    }

    pub fn no_peer(mut self) -> Req {
        self.peer = None;
        self
    }
}

/// A response, read whole.
#[derive(Clone, Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Bytes,
    pub json: Value,
}

impl Resp {
    /// The platform code: the `x-error-code` header (its only place in a
    /// SCIM error), else the problem body's `code`.
    pub fn code(&self) -> Option<&str> {
        self.header("x-error-code").or(self.json["code"].as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Resp {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.bytes)
        );
        self
    }

    /// Asserts the response is `code` and satisfies the whole contract (status, media type,
    /// body schema, `type` link at [`BASE`], headers).
    #[track_caller]
    pub fn assert_error(&self, code: Code) -> &Resp {
        let violations = check(
            &Response {
                status: self.status,
                headers: &self.headers,
                body: &self.bytes,
            },
            &Expect {
                docs_base: Some(BASE.to_owned()),
                ..Expect::code(code)
            },
        );
        let shown: Vec<String> = violations.iter().map(ToString::to_string).collect();
        assert!(
            shown.is_empty(),
            "{code}: {shown:#?}\nstatus {} body {}",
            self.status,
            String::from_utf8_lossy(&self.bytes)
        );
        assert_eq!(
            self.json["request_id"].as_str(),
            self.header("x-request-id"),
            "request_id equals x-request-id"
        );
        self
    }

    /// The `WWW-Authenticate` header.
    pub fn challenge(&self) -> &str {
        self.header("www-authenticate").unwrap_or_default()
    }

    /// The `errors[].pointer` values.
    pub fn pointers(&self) -> Vec<&str> {
        self.json["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["pointer"].as_str()).collect())
            .unwrap_or_default()
    }
}

impl Resp {
    /// Whether the body's `detail` mentions `text`.
    pub fn detail_mentions(&self, text: &str) -> bool {
        self.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains(text))
    }
}
