//! MFA enrolment, step-up tokens (single use, purpose-bound, phishing-resistant policy), the
//! race on one token, and WebAuthn attestation.

use std::net::SocketAddr;

use catalog::Code;
use mock_server::seed::Seed;
use mock_server::webauthn::{Aaguid, build_attestation_object};
use mock_server::{Config, spawn};
use serde_json::json;

use crate::support::{Client, Req};

const YUBIKEY_5: &str = "ee882879-721c-4913-9775-3dfcce97072a";
const OTHER_MODEL: &str = "adce0002-35bc-c60a-648b-0b25f1f05503";

fn enrol(token: &str, body: serde_json::Value) -> Req {
    Req::post("/v1/workspaces/acme/factors")
        .token(token)
        .json(body)
}

fn passkey(fmt: &str, aaguid: &str) -> serde_json::Value {
    let object = build_attestation_object(fmt, aaguid.parse::<Aaguid>().unwrap(), b"credential-1");
    json!({ "type": "passkey", "attestationObject": object })
}

#[tokio::test]
async fn a_user_without_a_factor_must_enrol_one() {
    let client = Client::new();
    let resp = client
        .send(Req::get("/v1/workspaces/acme/users").token("tok_acme_newbie"))
        .await;
    resp.assert_error(Code::MfaRequired);
    assert!(
        resp.challenge()
            .contains("error=\"insufficient_user_authentication\"")
    );
    assert!(resp.detail_mentions("/factors"));

    let enrolled = client
        .send(enrol("tok_acme_newbie", json!({ "type": "totp" })))
        .await;
    enrolled.assert_status(201);
    assert_eq!(enrolled.json["type"], "totp");
    assert!(enrolled.json["secret"].is_string());

    client
        .send(Req::get("/v1/workspaces/acme/users").token("tok_acme_newbie"))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_passkey_from_an_allowlisted_model_enrols() {
    let resp = Client::new()
        .send(enrol("tok_acme_newbie", passkey("packed", YUBIKEY_5)))
        .await;
    resp.assert_status(201);
    assert_eq!(resp.json["fmt"], "packed");
    assert_eq!(resp.json["aaguid"], YUBIKEY_5);
}

#[tokio::test]
async fn other_models_and_undisclosed_ones_are_attestation_blocked() {
    let client = Client::new();
    for (fmt, aaguid) in [
        ("packed", OTHER_MODEL),
        ("none", "00000000-0000-0000-0000-000000000000"),
    ] {
        let resp = client
            .send(enrol("tok_acme_member", passkey(fmt, aaguid)))
            .await;
        resp.assert_error(Code::AttestationBlocked);
    }
    // A workspace without an allowlist takes any model.
    let resp = client
        .send(
            Req::post("/v1/workspaces/pwonly/factors")
                .token("tok_pwonly_admin")
                .json(passkey("none", "00000000-0000-0000-0000-000000000000")),
        )
        .await;
    resp.assert_status(201);
}

#[tokio::test]
async fn malformed_attestation_objects_are_validation_errors_at_the_field() {
    let client = Client::new();
    for object in ["not base64!", "_w", "oWNmbXRkbm9uZQ"] {
        let resp = client
            .send(enrol(
                "tok_acme_member",
                json!({ "type": "security_key", "attestationObject": object }),
            ))
            .await;
        resp.assert_error(Code::ValidationError);
        assert_eq!(resp.pointers(), ["/attestationObject"], "{object}");
    }
    let resp = client
        .send(enrol("tok_acme_member", json!({ "type": "passkey" })))
        .await;
    resp.assert_error(Code::ValidationError);
    assert_eq!(resp.pointers(), ["/attestationObject"]);
}

#[tokio::test]
async fn a_step_up_token_is_single_use() {
    let client = Client::new();
    let token = client
        .step_up("acme", "tok_acme_admin", "change_network_policy", "totp")
        .await;
    let put = || {
        Req::put("/v1/workspaces/acme/network-policy")
            .token("tok_acme_admin")
            .step_up(&token)
            .json(json!({ "allowlist": [] }))
    };
    client.send(put()).await.assert_status(200);
    let again = client.send(put()).await;
    again.assert_error(Code::StepUpReused);
    assert!(again.challenge().contains("error=\"invalid_token\""));

    // The seed's spent token needs no ceremony to show the same.
    client
        .send(
            Req::put("/v1/workspaces/acme/network-policy")
                .token("tok_acme_admin")
                .step_up("su_acme_spent")
                .json(json!({ "allowlist": [] })),
        )
        .await
        .assert_error(Code::StepUpReused);
}

#[tokio::test]
async fn a_step_up_needs_an_enrolled_factor() {
    let resp = Client::new()
        .send(
            Req::post("/v1/workspaces/acme/step-up")
                .token("tok_acme_admin")
                .json(json!({ "purpose": "delete_user", "factor": "passkey" })),
        )
        .await;
    resp.assert_error(Code::ValidationError);
    assert_eq!(resp.pointers(), ["/factor"]);

    let resp = Client::new()
        .send(
            Req::post("/v1/workspaces/acme/step-up")
                .token("tok_acme_admin")
                .json(json!({ "purpose": "sudo", "factor": "totp", "code": "12" })),
        )
        .await;
    resp.assert_error(Code::ValidationError);
    let mut pointers = resp.pointers();
    pointers.sort_unstable();
    assert_eq!(pointers, ["/code", "/purpose"]);
}

#[tokio::test]
async fn a_totp_step_up_is_not_enough_where_phishing_resistance_is_required() {
    let client = Client::new();
    let put = |token: &str| {
        Req::put("/v1/workspaces/vault/network-policy")
            .token("tok_vault_admin")
            .step_up(token)
            .json(json!({ "allowlist": [] }))
    };
    let totp = client
        .step_up("vault", "tok_vault_admin", "change_network_policy", "totp")
        .await;
    let resp = client.send(put(&totp)).await;
    resp.assert_error(Code::PhishingResistantRequired);
    assert!(
        resp.challenge().contains("acr_values=\"phrh phr\""),
        "{}",
        resp.challenge()
    );
    // Not spent: the same token gets the same answer, as does the seed's.
    client
        .send(put(&totp))
        .await
        .assert_error(Code::PhishingResistantRequired);
    client
        .send(put("su_vault_totp"))
        .await
        .assert_error(Code::PhishingResistantRequired);

    // Without any token, the challenge already asks for a phishing-resistant factor.
    let resp = client
        .send(
            Req::put("/v1/workspaces/vault/network-policy")
                .token("tok_vault_admin")
                .json(json!({ "allowlist": [] })),
        )
        .await;
    resp.assert_error(Code::StepUpRequired);
    assert!(resp.challenge().contains("acr_values=\"phrh phr\""));

    let key = client
        .step_up(
            "vault",
            "tok_vault_admin",
            "change_network_policy",
            "security_key",
        )
        .await;
    client.send(put(&key)).await.assert_status(200);
}

/// 32 requests race over real loopback HTTP with one step-up token: exactly one succeeds and
/// every other one sees the token spent. The action (replacing the network policy) leaves its
/// resource in place, so no loser can fail for another reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_step_up_token_let_exactly_one_through() {
    let running = spawn(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        Config::new(Seed::embedded().unwrap()),
    )
    .await
    .unwrap();
    let base = running.base_url();
    let http = reqwest::Client::new();

    let step_up: serde_json::Value = http
        .post(format!("{base}/v1/workspaces/acme/step-up"))
        .bearer_auth("tok_acme_admin")
        .json(&json!({ "purpose": "change_network_policy", "factor": "totp", "code": "000000" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = step_up["step_up_token"].as_str().unwrap().to_owned();

    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(32));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (http, base, token, barrier) =
                (http.clone(), base.clone(), token.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let resp = http
                    .put(format!("{base}/v1/workspaces/acme/network-policy"))
                    .bearer_auth("tok_acme_admin")
                    .header("x-step-up-token", token)
                    .json(&json!({ "allowlist": ["127.0.0.0/8"] }))
                    .send()
                    .await
                    .unwrap();
                let status = resp.status().as_u16();
                let body: serde_json::Value = resp.json().await.unwrap();
                (status, body["code"].as_str().map(str::to_owned))
            })
        })
        .collect();
    let mut ok = 0;
    let mut reused = 0;
    for task in tasks {
        match task.await.unwrap() {
            (200, None) => ok += 1,
            (401, Some(code)) if code == "STEP_UP_REUSED" => reused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((ok, reused), (1, 31));
    running.shutdown().await.unwrap();
}
