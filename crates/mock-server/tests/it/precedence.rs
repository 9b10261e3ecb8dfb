//! When several errors apply, the first in `catalog::PRECEDENCE` wins. Each case is a request
//! to which both codes apply (the loser is shown to apply on its own where that is not
//! obvious); the test checks the winner is answered and that the catalog agrees on the order.

use catalog::Code;
use mock_server::webauthn::Aaguid;
use mock_server::webauthn::authenticator::{Attest, Ceremony, SoftAuthenticator};
use serde_json::json;

use crate::support::{Client, ORIGIN, PASSWORD, RP_ID, Req, state_with};

struct Case {
    winner: Code,
    loser: Code,
    client: Client,
    request: Req,
}

fn case(winner: Code, loser: Code, request: Req) -> Case {
    Case {
        winner,
        loser,
        client: Client::new(),
        request,
    }
}

fn blocked_address_limited_to_one() -> Client {
    Client::over(state_with(|seed| seed.rate_limits.per_address = 1))
}

#[tokio::test]
async fn the_first_applicable_code_in_precedence_order_wins() {
    let mut cases = vec![
        case(
            Code::IpBlocked,
            Code::Unauthorized,
            Req::get("/v1/workspaces/fortress/users").peer("198.51.100.7"),
        ),
        case(
            Code::WorkspaceInactive,
            Code::NotProvisioned,
            Req::post("/v1/workspaces/dormant/sessions")
                .json(json!({ "method": "password", "email": "nobody@dormant.example", "password": PASSWORD })),
        ),
        case(
            Code::WorkspaceInactive,
            Code::Unauthorized,
            Req::get("/v1/workspaces/dormant/users"),
        ),
        // The guard comes first on unknown routes and methods of a workspace too.
        case(
            Code::IpBlocked,
            Code::NotFound,
            Req::get("/v1/workspaces/fortress/no-such-route").peer("198.51.100.7"),
        ),
        case(
            Code::IpBlocked,
            Code::NotFound,
            Req::new(http::Method::PATCH, "/v1/workspaces/fortress/users").peer("198.51.100.7"),
        ),
        case(
            Code::WorkspaceInactive,
            Code::NotFound,
            Req::get("/v1/workspaces/dormant/no-such-route"),
        ),
        // The guard reads the workspace percent-decoded, as the router does.
        case(
            Code::IpBlocked,
            Code::Unauthorized,
            Req::get("/v1/workspaces/fort%72ess/users").peer("198.51.100.7"),
        ),
        case(
            Code::NotProvisioned,
            Code::ValidationError,
            Req::post("/v1/workspaces/acme/sessions")
                .json(json!({ "email": "nobody@acme.example", "colour": "red" })),
        ),
        case(
            Code::AccountDisabled,
            Code::Unauthorized,
            Req::post("/v1/workspaces/acme/sessions")
                .json(json!({ "method": "password", "email": "disabled@acme.example", "password": "wrong" })),
        ),
        case(
            Code::SsoNotAllowed,
            Code::ValidationError,
            Req::post("/v1/workspaces/pwonly/sessions")
                .json(json!({ "method": "sso", "email": "admin@pwonly.example", "colour": "red" })),
        ),
        case(
            Code::Unauthorized,
            Code::ValidationError,
            Req::post("/v1/workspaces/acme/users").json(json!({ "email": 5 })),
        ),
        case(
            Code::Unauthorized,
            Code::NotFound,
            Req::get("/v1/workspaces/nowhere/users"),
        ),
        case(
            Code::MfaRequired,
            Code::Forbidden,
            Req::post("/v1/workspaces/acme/users")
                .token("tok_acme_newbie")
                .json(json!({ "email": "x@acme.example", "role": "member" })),
        ),
        case(
            Code::MfaRequired,
            Code::NotFound,
            Req::get("/v1/workspaces/vault/users").token("tok_acme_newbie"),
        ),
        case(
            Code::Forbidden,
            Code::NotFound,
            Req::delete("/v1/workspaces/acme/users/usr_nobody").token("tok_acme_member"),
        ),
        case(
            Code::Forbidden,
            Code::StepUpRequired,
            Req::delete("/v1/workspaces/acme/users/usr_acme_admin").token("tok_acme_member"),
        ),
        case(
            Code::NotFound,
            Code::StepUpRequired,
            Req::delete("/v1/workspaces/acme/users/usr_nobody").token("tok_acme_admin"),
        ),
        case(
            Code::ValidationError,
            Code::StepUpRequired,
            Req::put("/v1/workspaces/acme/network-policy")
                .token("tok_acme_admin")
                .json(json!({ "allowlist": ["not a range"] })),
        ),
        case(
            Code::StepUpReused,
            Code::StepUpRequired,
            // Spent, and issued for another purpose.
            Req::delete("/v1/workspaces/acme/users/usr_acme_member")
                .token("tok_acme_admin")
                .step_up("su_acme_spent"),
        ),
        case(
            Code::StepUpRequired,
            Code::PhishingResistantRequired,
            // A TOTP token, and for another purpose.
            Req::delete("/v1/workspaces/vault/users/usr_vault_admin")
                .token("tok_vault_admin")
                .step_up("su_vault_totp"),
        ),
        case(
            Code::ValidationError,
            Code::AttestationBlocked,
            Req::post("/v1/workspaces/acme/factors")
                .token("tok_acme_member")
                .json(json!({
                    "type": "passkey",
                    "clientDataJSON": "e30",
                    "attestationObject": mock_server::webauthn::build_attestation_object(
                        "none", Aaguid::ZERO, b"id"),
                    "nickname": "phone",
                })),
        ),
    ];
    // Rate limits: the second request from one address goes over a quota of one.
    let limited = blocked_address_limited_to_one();
    limited.send(Req::get("/v1/workspaces/dormant/users")).await;
    cases.push(Case {
        winner: Code::RateLimited,
        loser: Code::WorkspaceInactive,
        client: limited,
        request: Req::get("/v1/workspaces/dormant/users"),
    });
    // A blocked address never gets as far as being counted.
    let limited = blocked_address_limited_to_one();
    limited
        .send(Req::get("/v1/workspaces/fortress/users").peer("198.51.100.7"))
        .await;
    cases.push(Case {
        winner: Code::IpBlocked,
        loser: Code::RateLimited,
        client: limited,
        request: Req::get("/v1/workspaces/fortress/users").peer("198.51.100.7"),
    });

    for Case {
        winner,
        loser,
        client,
        request,
    } in cases
    {
        assert!(
            winner.precedence() < loser.precedence(),
            "catalog::PRECEDENCE puts {loser} before {winner}"
        );
        let resp = client.send(request.clone()).await;
        assert_eq!(
            resp.code(),
            Some(winner.name()),
            "{winner} over {loser}: {request:?}\n{}",
            resp.json
        );
        resp.assert_error(winner);
    }
}

#[tokio::test]
async fn the_losers_apply_on_their_own() {
    // The colliding requests above, with the winner's cause removed.
    let client = Client::new();
    client
        .send(
            Req::post("/v1/workspaces/acme/sessions").json(
                json!({ "method": "password", "email": "admin@acme.example", "colour": "red" }),
            ),
        )
        .await
        .assert_error(Code::ValidationError);
    client
        .send(Req::delete("/v1/workspaces/acme/users/usr_acme_admin").token("tok_acme_admin"))
        .await
        .assert_error(Code::StepUpRequired);
    client
        .send(
            Req::put("/v1/workspaces/vault/network-policy")
                .token("tok_vault_admin")
                .step_up("su_vault_totp")
                .json(json!({ "allowlist": [] })),
        )
        .await
        .assert_error(Code::PhishingResistantRequired);
    // A registration that verifies, with `none` attestation under acme's AAGUID allowlist.
    let challenge = client
        .registration_challenge("acme", "tok_acme_member", "passkey")
        .await;
    let registration = SoftAuthenticator::generate(Aaguid::ZERO, b"id")
        .register(&Ceremony::new(challenge, ORIGIN, RP_ID), &Attest::None);
    client
        .send(
            Req::post("/v1/workspaces/acme/factors")
                .token("tok_acme_member")
                .json(json!({
                    "type": "passkey",
                    "clientDataJSON": registration.client_data_json,
                    "attestationObject": registration.attestation_object,
                })),
        )
        .await
        .assert_error(Code::AttestationBlocked);
    client
        .send(Req::get("/v1/workspaces/fortress/users").peer("203.0.113.1"))
        .await
        .assert_error(Code::Unauthorized);
}
