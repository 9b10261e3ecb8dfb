//! Users: listing, inviting, reading, deleting; Unauthorized and Forbidden; hidden-vs-missing.

use catalog::Code;
use serde_json::json;

use crate::support::{Client, Req, state_with};

#[tokio::test]
async fn members_list_their_workspace_only() {
    let client = Client::new();
    let resp = client
        .send(Req::get("/v1/workspaces/acme/users").token("tok_acme_member"))
        .await;
    resp.assert_status(200);
    let ids: Vec<&str> = resp.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "usr_acme_admin",
            "usr_acme_disabled",
            "usr_acme_member",
            "usr_acme_newbie"
        ]
    );
    assert!(resp.header("ratelimit").is_some() && resp.header("ratelimit-policy").is_some());

    let page = client
        .send(Req::get("/v1/workspaces/acme/users?limit=2").token("tok_acme_member"))
        .await;
    assert_eq!(page.json["users"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_bad_limit_names_the_parameter() {
    let client = Client::new();
    for limit in ["0", "101", "ten", "-1", "1.5", ""] {
        let resp = client
            .send(
                Req::get(&format!("/v1/workspaces/acme/users?limit={limit}"))
                    .token("tok_acme_member"),
            )
            .await;
        resp.assert_error(Code::ValidationError);
        assert_eq!(resp.json["errors"][0]["parameter"], "limit", "{limit}");
    }
}

#[tokio::test]
async fn unauthorized_says_why_in_the_challenge() {
    let client = Client::new();
    let path = "/v1/workspaces/acme/users";

    let none = client.send(Req::get(path)).await;
    none.assert_error(Code::Unauthorized);
    assert_eq!(none.challenge(), "Bearer realm=\"platform\"");

    // Another scheme is no bearer credentials: no `error` (RFC 6750 section 3.1).
    let basic = client
        .send(Req::get(path).header("authorization", "Basic YTpi"))
        .await;
    basic.assert_error(Code::Unauthorized);
    assert_eq!(basic.challenge(), "Bearer realm=\"platform\"");

    for malformed in ["Bearer", "Bearer a b", "Bearer a,b"] {
        let resp = client
            .send(Req::get(path).header("authorization", malformed))
            .await;
        resp.assert_error(Code::Unauthorized);
        assert!(
            resp.challenge().contains("error=\"invalid_request\""),
            "{malformed}"
        );
    }

    for token in ["tok_nope", "tok_acme_expired"] {
        let resp = client.send(Req::get(path).token(token)).await;
        resp.assert_error(Code::Unauthorized);
        let challenge = resp.challenge();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        assert!(
            challenge.contains("error_uri=\"http://mock.test/docs/errors#unauthorized\""),
            "{challenge}"
        );
    }
}

#[tokio::test]
async fn invite_then_read() {
    let client = Client::new();
    let resp = client
        .send(
            Req::post("/v1/workspaces/acme/users")
                .token("tok_acme_admin")
                .json(json!({ "email": "new@acme.example", "role": "member" })),
        )
        .await;
    resp.assert_status(201);
    let id = resp.json["id"].as_str().unwrap();
    let read = client
        .send(Req::get(&format!("/v1/workspaces/acme/users/{id}")).token("tok_acme_member"))
        .await;
    read.assert_status(200);
    assert_eq!(read.json["email"], "new@acme.example");

    let again = client
        .send(
            Req::post("/v1/workspaces/acme/users")
                .token("tok_acme_admin")
                .json(json!({ "email": "NEW@acme.example", "role": "admin" })),
        )
        .await;
    again.assert_error(Code::ValidationError);
    assert_eq!(again.pointers(), ["/email"]);
}

#[tokio::test]
async fn members_cannot_invite() {
    Client::new()
        .send(
            Req::post("/v1/workspaces/acme/users")
                .token("tok_acme_member")
                .json(json!({ "email": "new@acme.example", "role": "member" })),
        )
        .await
        .assert_error(Code::Forbidden);
}

#[tokio::test]
async fn hidden_and_missing_resources_answer_the_same_not_found() {
    // The rate-limit fields count the caller's requests, so they differ between any two
    // responses; with limits off, the whole responses can be compared.
    let client = Client::over(state_with(|seed| {
        seed.rate_limits.per_token = 0;
        seed.rate_limits.per_address = 0;
    }));
    let pairs = [
        // A user of another workspace vs. no such user.
        (
            "/v1/workspaces/acme/users/usr_vault_admin",
            "/v1/workspaces/acme/users/usr_nobody",
        ),
        // A workspace the caller is not in vs. no such workspace.
        ("/v1/workspaces/vault/users", "/v1/workspaces/nowhere/users"),
        // A segment that does not even decode names no workspace either.
        ("/v1/workspaces/vault/users", "/v1/workspaces/%FF%FE/users"),
        // Nor does an empty one, which the router still matches as `{workspace}`.
        ("/v1/workspaces/vault/users", "/v1/workspaces//users"),
        (
            "/v1/workspaces/vault/users/usr_vault_admin",
            "/v1/workspaces/nowhere/users/usr_vault_admin",
        ),
    ];
    for (hidden, missing) in pairs {
        let a = client.send(Req::get(hidden).token("tok_acme_admin")).await;
        let b = client.send(Req::get(missing).token("tok_acme_admin")).await;
        a.assert_error(Code::NotFound);
        b.assert_error(Code::NotFound);
        assert_ne!(a.json["request_id"], b.json["request_id"]);

        let strip = |resp: &crate::support::Resp| {
            let mut body = resp.json.clone();
            body["request_id"] = serde_json::Value::Null;
            let mut headers = resp.headers.clone();
            headers.remove("x-request-id");
            (resp.status, body, headers)
        };
        assert_eq!(strip(&a), strip(&b), "{hidden} vs {missing}");
    }
}

#[tokio::test]
async fn deleting_a_user_needs_a_step_up_for_delete_user() {
    let client = Client::new();
    let path = "/v1/workspaces/acme/users/usr_acme_member";

    let resp = client.send(Req::delete(path).token("tok_acme_admin")).await;
    resp.assert_error(Code::StepUpRequired);
    assert_eq!(resp.json["purpose"], "delete_user");
    let challenge = resp.challenge();
    assert!(
        challenge.contains("error=\"insufficient_user_authentication\""),
        "{challenge}"
    );
    assert!(challenge.contains("acr_values=\"mfa\""), "{challenge}");
    assert!(challenge.contains("max_age=300"), "{challenge}");

    // A token for another purpose is no proof for this one.
    let wrong = client
        .step_up("acme", "tok_acme_admin", "change_network_policy", "totp")
        .await;
    let resp = client
        .send(Req::delete(path).token("tok_acme_admin").step_up(&wrong))
        .await;
    resp.assert_error(Code::StepUpRequired);

    let token = client
        .step_up("acme", "tok_acme_admin", "delete_user", "totp")
        .await;
    client
        .send(Req::delete(path).token("tok_acme_admin").step_up(&token))
        .await
        .assert_status(204);
    client
        .send(Req::get(path).token("tok_acme_admin"))
        .await
        .assert_error(Code::NotFound);
    // The deleted user's token stops working.
    client
        .send(Req::get("/v1/workspaces/acme/users").token("tok_acme_member"))
        .await
        .assert_error(Code::Unauthorized);
}

/// HEAD answers what GET answers, without the content: the error is rendered after the
/// router, so the request-context layer drops the body itself (as axum does for routes).
#[tokio::test]
async fn head_gets_the_error_head_without_the_body() {
    let client = Client::new();
    for path in ["/v1/workspaces/acme/users", "/v1/no/such/route"] {
        let get = client.send(Req::get(path)).await;
        let head = client.send(Req::new(http::Method::HEAD, path)).await;
        assert!(get.status >= 400, "{path}: {}", get.status);
        assert_eq!(head.status, get.status, "{path}");
        assert_eq!(head.header("x-error-code"), get.header("x-error-code"));
        assert!(head.bytes.is_empty(), "{path}: {:?}", head.bytes);
        assert!(!get.bytes.is_empty(), "{path}");
        assert_eq!(
            head.header("content-length"),
            Some(get.bytes.len().to_string().as_str()),
            "{path}"
        );
    }
}
