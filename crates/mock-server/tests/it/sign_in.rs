//! Sign-in with a password or SSO: the success path and every authentication code.

use catalog::Code;
use serde_json::json;

use crate::support::{Client, PASSWORD, Req};

fn sign_in(workspace: &str, body: serde_json::Value) -> Req {
    Req::post(&format!("/v1/workspaces/{workspace}/sessions")).json(body)
}

#[tokio::test]
async fn password_sign_in_issues_a_working_session_token() {
    let client = Client::new();
    let resp = client
        .send(sign_in(
            "pwonly",
            json!({ "method": "password", "email": "ADMIN@pwonly.example", "password": PASSWORD }),
        ))
        .await;
    resp.assert_status(201);
    assert_eq!(resp.json["user_id"], "usr_pwonly_admin");
    assert_eq!(resp.json["workspace"], "pwonly");
    assert_eq!(resp.json["expires_in"], 3600);
    let token = resp.json["token"].as_str().unwrap();
    assert!(token.starts_with("ses_"));

    let me = client
        .send(Req::get("/v1/workspaces/pwonly/users/usr_pwonly_admin").token(token))
        .await;
    me.assert_status(200);
    assert_eq!(me.json["email"], "admin@pwonly.example");
}

#[tokio::test]
async fn sso_sign_in_where_sso_is_enabled() {
    let resp = Client::new()
        .send(sign_in(
            "acme",
            json!({ "method": "sso", "email": "member@acme.example" }),
        ))
        .await;
    resp.assert_status(201);
    assert_eq!(resp.json["user_id"], "usr_acme_member");
}

#[tokio::test]
async fn sso_on_a_password_only_workspace_is_sso_not_allowed() {
    let resp = Client::new()
        .send(sign_in(
            "pwonly",
            json!({ "method": "sso", "email": "admin@pwonly.example" }),
        ))
        .await;
    resp.assert_error(Code::SsoNotAllowed);
    // Sign-in carries no bearer credentials: the challenge has no error attribute.
    assert_eq!(resp.challenge(), "Bearer realm=\"platform\"");
}

#[tokio::test]
async fn an_unknown_email_is_not_provisioned() {
    Client::new()
        .send(sign_in(
            "acme",
            json!({ "method": "password", "email": "stranger@acme.example", "password": PASSWORD }),
        ))
        .await
        .assert_error(Code::NotProvisioned);
    // A user of another workspace is not provisioned here either.
    Client::new()
        .send(sign_in(
            "acme",
            json!({ "method": "sso", "email": "admin@vault.example" }),
        ))
        .await
        .assert_error(Code::NotProvisioned);
}

#[tokio::test]
async fn a_disabled_account_is_account_disabled() {
    let client = Client::new();
    for method in ["password", "sso"] {
        client
            .send(sign_in(
                "acme",
                json!({ "method": method, "email": "disabled@acme.example", "password": PASSWORD }),
            ))
            .await
            .assert_error(Code::AccountDisabled);
    }
}

#[tokio::test]
async fn a_suspended_workspace_is_workspace_inactive() {
    Client::new()
        .send(sign_in(
            "dormant",
            json!({ "method": "password", "email": "admin@dormant.example", "password": PASSWORD }),
        ))
        .await
        .assert_error(Code::WorkspaceInactive);
}

#[tokio::test]
async fn a_wrong_password_is_unauthorized() {
    let resp = Client::new()
        .send(sign_in(
            "acme",
            json!({ "method": "password", "email": "admin@acme.example", "password": "hunter2" }),
        ))
        .await;
    resp.assert_error(Code::Unauthorized);
    assert!(!resp.challenge().contains("error="));
}

#[tokio::test]
async fn an_unknown_workspace_is_not_found() {
    Client::new()
        .send(sign_in(
            "nope",
            json!({ "method": "sso", "email": "a@b.example" }),
        ))
        .await
        .assert_error(Code::NotFound);
}

#[tokio::test]
async fn a_bad_body_lists_every_field() {
    let resp = Client::new()
        .send(sign_in(
            "acme",
            json!({ "method": "magic", "email": 7, "extra": true }),
        ))
        .await;
    resp.assert_error(Code::ValidationError);
    let mut pointers = resp.pointers();
    pointers.sort_unstable();
    assert_eq!(pointers, ["/email", "/extra", "/method"]);

    let resp = Client::new()
        .send(sign_in(
            "acme",
            json!({ "method": "password", "email": "admin@acme.example" }),
        ))
        .await;
    resp.assert_error(Code::ValidationError);
    assert_eq!(resp.pointers(), ["/password"]);
}
