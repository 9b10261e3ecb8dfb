//! Request bodies that fail: malformed JSON, wrong or missing content type, too large, and
//! schema violations listed field by field.

use catalog::Code;
use serde_json::json;

use crate::support::{Client, Req};

fn invite() -> Req {
    Req::post("/v1/workspaces/acme/users").token("tok_acme_admin")
}

#[tokio::test]
async fn malformed_json_points_at_the_whole_body() {
    let resp = Client::new()
        .send(invite().raw(Some("application/json"), "{\"email\": "))
        .await;
    resp.assert_error(Code::ValidationError);
    assert_eq!(resp.pointers(), [""]);
    assert!(
        resp.json["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("JSON")
    );
}

#[tokio::test]
async fn the_content_type_must_be_json() {
    let client = Client::new();
    for (content_type, body) in [
        (
            Some("text/plain"),
            "{\"email\": \"a@b.c\", \"role\": \"member\"}",
        ),
        (None, "{\"email\": \"a@b.c\", \"role\": \"member\"}"),
        (None, ""),
        (Some("application/x-www-form-urlencoded"), "email=a"),
    ] {
        let resp = client.send(invite().raw(content_type, body)).await;
        resp.assert_error(Code::ValidationError);
        assert_eq!(resp.pointers(), [""], "{content_type:?}");
    }
    // `+json` types and parameters are fine.
    client
        .send(invite().raw(
            Some("application/vnd.api+json; charset=utf-8"),
            "{\"email\": \"ok@acme.example\", \"role\": \"member\"}",
        ))
        .await
        .assert_status(201);
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused() {
    let big = format!(
        "{{\"email\": \"{}@acme.example\", \"role\": \"member\"}}",
        "a".repeat(70_000)
    );
    let resp = Client::new()
        .send(invite().raw(Some("application/json"), big))
        .await;
    resp.assert_error(Code::ValidationError);
    assert_eq!(resp.pointers(), [""]);
    assert!(
        resp.json["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("65536")
    );
    // A declared length over the limit is refused without reading the body.
    let resp = Client::new()
        .send(
            invite()
                .raw(Some("application/json"), "{}")
                .header("content-length", "1000000"),
        )
        .await;
    resp.assert_error(Code::ValidationError);
    assert_eq!(resp.pointers(), [""]);
    // A body just under the limit is judged on its content instead.
    let under = format!(
        "{{\"email\": \"{}\", \"role\": \"member\"}}",
        "a".repeat(60_000)
    );
    let resp = Client::new()
        .send(invite().raw(Some("application/json"), under))
        .await;
    resp.assert_error(Code::ValidationError);
    assert_eq!(resp.pointers(), ["/email"]);
    assert!(resp.bytes.len() < 4096, "details are cut, not echoed whole");
}

#[tokio::test]
async fn every_offending_field_is_listed() {
    let resp = Client::new()
        .send(
            invite()
                .json(json!({ "email": "not-an-email", "role": "owner", "name": "x", "a/b~c": 1 })),
        )
        .await;
    resp.assert_error(Code::ValidationError);
    let mut pointers = resp.pointers();
    pointers.sort_unstable();
    assert_eq!(pointers, ["/a~1b~0c", "/email", "/name", "/role"]);

    let resp = Client::new().send(invite().json(json!({}))).await;
    resp.assert_error(Code::ValidationError);
    let mut pointers = resp.pointers();
    pointers.sort_unstable();
    assert_eq!(pointers, ["/email", "/role"]);

    let resp = Client::new().send(invite().json(json!([1, 2]))).await;
    resp.assert_error(Code::ValidationError);
    assert_eq!(resp.pointers(), [""]);
}
