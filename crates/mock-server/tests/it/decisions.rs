//! The readings docs/api.md settles where the catalog and the RFCs leave a choice: each test
//! is one decision, asserting the exact answer (code, challenge, pointer or `scimType`).

use catalog::Code;
use http::Method;
use serde_json::{Value, json};

use crate::support::{Client, Req, Resp};

const SCIM_JSON: &str = "application/scim+json";
const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BARE: &str = "Bearer realm=\"platform\"";

fn scim(method: Method, path: &str) -> Req {
    Req::new(method, &format!("/scim/v2{path}")).token("scim_acme")
}

fn scim_body(req: Req, value: &Value) -> Req {
    req.raw(Some(SCIM_JSON), serde_json::to_vec(value).unwrap())
}

#[track_caller]
fn assert_scim_type(resp: &Resp, code: Code, scim_type: &str) {
    assert_eq!(resp.code(), Some(code.name()), "{}", resp.json);
    assert_eq!(resp.status, code.status());
    assert_eq!(resp.json["scimType"], scim_type, "{}", resp.json);
}

/// The `error` attribute of a challenge, if any.
fn bearer_error(resp: &Resp) -> Option<&str> {
    let challenge = resp.challenge();
    let start = challenge.find("error=\"")? + "error=\"".len();
    challenge[start..].split('"').next()
}

#[tokio::test]
async fn another_scheme_is_no_credentials_and_a_bad_bearer_is_invalid_request() {
    let client = Client::new();
    // (Authorization value, expected `error` attribute)
    let cases: &[(&str, Option<&str>)] = &[
        ("Basic YWRtaW46aHVudGVyMg==", None),
        ("Digest username=\"admin\", realm=\"platform\"", None),
        ("Negotiate", None),
        ("tok_acme_admin", None),
        ("Bearer", Some("invalid_request")),
        ("Bearer tok,acme", Some("invalid_request")),
        ("Bearer tok acme", Some("invalid_request")),
        ("Bea:rer tok_acme_admin", Some("invalid_request")),
        ("Bearer tok_never_issued", Some("invalid_token")),
    ];
    for &(value, error) in cases {
        for path in ["/v1/workspaces/acme/users", "/scim/v2/Users"] {
            let resp = client
                .send(Req::get(path).header("authorization", value))
                .await;
            assert_eq!(resp.status, 401, "{value:?} on {path}");
            assert_eq!(resp.code(), Some("Unauthorized"), "{value:?} on {path}");
            assert_eq!(bearer_error(&resp), error, "{value:?} on {path}");
            if error.is_none() {
                assert_eq!(resp.challenge(), BARE, "{value:?} on {path}");
            }
        }
    }
    // The problem body passes the contract either way.
    client
        .send(Req::get("/v1/workspaces/acme/users").header("authorization", "Basic eDp5"))
        .await
        .assert_error(Code::Unauthorized);
}

#[tokio::test]
async fn workspace_inactive_never_carries_an_error_attribute() {
    let client = Client::new();
    let requests = [
        Req::get("/v1/workspaces/dormant/users"),
        Req::get("/v1/workspaces/dormant/users").token("tok_dormant_admin"),
        Req::get("/v1/workspaces/dormant/users").token("tok_never_issued"),
        Req::get("/v1/workspaces/dormant/users").header("authorization", "Bearer"),
        Req::get("/scim/v2/Users").token("scim_dormant"),
    ];
    for req in requests {
        let path = req.path.clone();
        let resp = client.send(req).await;
        assert_eq!(resp.code(), Some("WORKSPACE_INACTIVE"), "{path}");
        assert_eq!(resp.challenge(), BARE, "{path}");
    }
}

#[tokio::test]
async fn account_disabled_is_invalid_token_with_a_token_and_bare_at_sign_in() {
    let client = Client::new();
    let token = client.sign_in("acme", "member@acme.example").await;
    let resp = client
        .send(Req::get("/v1/workspaces/acme/users").token(&token))
        .await;
    resp.assert_status(200);

    // The identity provider disables the member (SCIM `active: false`).
    let list = client
        .send(scim(
            Method::GET,
            "/Users?filter=userName%20eq%20%22member@acme.example%22",
        ))
        .await;
    let id = list.json["Resources"][0]["id"].as_str().unwrap().to_owned();
    let off = client
        .send(scim_body(
            scim(Method::PATCH, &format!("/Users/{id}")),
            &json!({ "schemas": [PATCH_OP], "Operations": [{ "op": "replace", "path": "active", "value": false }] }),
        ))
        .await;
    off.assert_status(200);

    let resp = client
        .send(Req::get("/v1/workspaces/acme/users").token(&token))
        .await;
    resp.assert_error(Code::AccountDisabled);
    assert_eq!(bearer_error(&resp), Some("invalid_token"));
    assert!(
        resp.challenge().contains("error_uri=\""),
        "{}",
        resp.challenge()
    );

    let resp = client
        .send(
            Req::post("/v1/workspaces/acme/sessions")
                .json(json!({ "method": "sso", "email": "member@acme.example" })),
        )
        .await;
    resp.assert_error(Code::AccountDisabled);
    assert_eq!(resp.challenge(), BARE);
}

#[tokio::test]
async fn a_step_up_token_of_another_user_counts_as_none_spent_or_not() {
    let client = Client::new();
    let delete = |user: &str| format!("/v1/workspaces/acme/users/{user}");

    // The acme admin's spent token, presented by another user (vault admin, on vault's
    // network policy): STEP_UP_REQUIRED with the purpose, not STEP_UP_REUSED.
    let resp = client
        .send(
            Req::put("/v1/workspaces/vault/network-policy")
                .token("tok_vault_admin")
                .step_up("su_acme_spent")
                .json(json!({ "allowlist": [] })),
        )
        .await;
    resp.assert_error(Code::StepUpRequired);
    assert_eq!(resp.json["purpose"], "change_network_policy");

    // Another user's fresh token is refused the same way, and is not spent by the refusal.
    let invited = client
        .send(
            Req::post("/v1/workspaces/acme/users")
                .token("tok_acme_admin")
                .json(json!({ "email": "stepup-owner@acme.example", "role": "member" })),
        )
        .await;
    invited.assert_status(201);
    let user = invited.json["id"].as_str().unwrap().to_owned();
    let member_token = client
        .step_up("acme", "tok_acme_member", "delete_user", "totp")
        .await;
    let resp = client
        .send(
            Req::delete(&delete(&user))
                .token("tok_acme_admin")
                .step_up(&member_token),
        )
        .await;
    resp.assert_error(Code::StepUpRequired);
    assert_eq!(resp.json["purpose"], "delete_user");

    // The caller's own spent token, for another purpose: STEP_UP_REUSED (precedence).
    let resp = client
        .send(
            Req::delete(&delete(&user))
                .token("tok_acme_admin")
                .step_up("su_acme_spent"),
        )
        .await;
    resp.assert_error(Code::StepUpReused);

    // The caller's own token, used twice: the second use is STEP_UP_REUSED.
    let own = client
        .step_up("acme", "tok_acme_admin", "delete_user", "totp")
        .await;
    let first = client
        .send(
            Req::delete(&delete(&user))
                .token("tok_acme_admin")
                .step_up(&own),
        )
        .await;
    first.assert_status(204);
    let again = client
        .send(
            Req::delete(&delete(&user))
                .token("tok_acme_admin")
                .step_up(&own),
        )
        .await;
    // The user is gone: NotFound precedes the step-up check.
    again.assert_error(Code::NotFound);
}

#[tokio::test]
async fn a_cidr_with_host_bits_set_is_refused_at_its_index() {
    let client = Client::new();
    let token = client
        .step_up("acme", "tok_acme_admin", "change_network_policy", "totp")
        .await;
    let put = |allowlist: Value| {
        Req::put("/v1/workspaces/acme/network-policy")
            .token("tok_acme_admin")
            .step_up(&token)
            .json(json!({ "allowlist": allowlist }))
    };
    let resp = client
        .send(put(json!([
            "203.0.113.0/24",
            "198.51.100.7/24",
            "2001:db8::1/32"
        ])))
        .await;
    resp.assert_error(Code::ValidationError);
    assert_eq!(resp.pointers(), ["/allowlist/1", "/allowlist/2"]);
    assert_eq!(
        resp.json["errors"][0]["detail"],
        "has host bits set below its /24 prefix: write 198.51.100.0/24 for the range, or 198.51.100.7 for the single address"
    );
    assert_eq!(
        resp.json["errors"][1]["detail"],
        "has host bits set below its /32 prefix: write 2001:db8::/32 for the range, or 2001:db8::1 for the single address"
    );
    // Nothing changed, and the step-up token was not spent on the refusal.
    let resp = client
        .send(put(json!([
            "198.51.100.0/24",
            "198.51.100.7",
            "198.51.100.7/32"
        ])))
        .await;
    resp.assert_status(200);
    assert_eq!(
        resp.json["allowlist"],
        json!(["198.51.100.0/24", "198.51.100.7", "198.51.100.7/32"])
    );
}

#[tokio::test]
async fn an_empty_scim_filter_is_invalid_filter() {
    let client = Client::new();
    for path in ["/Users?filter=", "/Users?filter=%20%20", "/Users?filter"] {
        let resp = client.send(scim(Method::GET, path)).await;
        assert_scim_type(&resp, Code::InvalidFilter, "invalidFilter");
    }
    let resp = client
        .send(scim_body(
            scim(Method::POST, "/Users/.search"),
            &json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "" }),
        ))
        .await;
    assert_scim_type(&resp, Code::InvalidFilter, "invalidFilter");
}

#[tokio::test]
async fn patch_unknown_attributes_and_filters_that_match_nothing() {
    let client = Client::new();
    let created = client
        .send(scim_body(
            scim(Method::POST, "/Users"),
            &json!({ "schemas": [CORE], "userName": "decisions@acme.example" }),
        ))
        .await;
    created.assert_status(201);
    let path = format!("/Users/{}", created.json["id"].as_str().unwrap());
    let patch = |ops: Value| {
        scim_body(
            scim(Method::PATCH, &path),
            &json!({ "schemas": [PATCH_OP], "Operations": ops }),
        )
    };

    // (operations, scimType)
    let refused = [
        // A path naming an attribute the schema does not have: the path is wrong.
        (
            json!([{ "op": "replace", "path": "shoeSize", "value": "44" }]),
            "invalidPath",
        ),
        (
            json!([{ "op": "add", "path": "name.shoeSize", "value": "44" }]),
            "invalidPath",
        ),
        // The same name inside a value object is a wrong value, as in POST and PUT.
        (
            json!([{ "op": "replace", "value": { "shoeSize": "44" } }]),
            "invalidValue",
        ),
        // Value filters that match nothing: noTarget for replace and remove, and for add
        // when the filter pins no value with `eq`.
        (
            json!([{ "op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@acme.example" }]),
            "noTarget",
        ),
        (
            json!([{ "op": "remove", "path": "emails[type eq \"work\"]" }]),
            "noTarget",
        ),
        (
            json!([{ "op": "add", "path": "emails[value co \"@nowhere.invalid\"].display", "value": "Work" }]),
            "noTarget",
        ),
    ];
    for (ops, scim_type) in refused {
        let resp = client.send(patch(ops)).await;
        assert_scim_type(&resp, Code::ValidationError, scim_type);
    }

    // An `add` whose filter pins the value with `eq` creates it.
    let resp = client
        .send(patch(json!([
            { "op": "add", "path": "emails[type eq \"work\"].value", "value": "decisions@acme.example" }
        ])))
        .await;
    resp.assert_status(200);
    assert_eq!(
        resp.json["emails"],
        json!([{ "type": "work", "value": "decisions@acme.example" }])
    );
}
