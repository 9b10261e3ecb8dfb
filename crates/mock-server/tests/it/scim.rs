//! SCIM 2.0 over the router: CRUD, lists with filters, paging and projections, PATCH
//! semantics, every error in the SCIM envelope, discovery, and SCIM users being workspace
//! users. Every response is checked for `application/scim+json`, every error body against
//! the contract.

use catalog::{Code, Envelope};
use http::Method;
use response_schema::{Expect, Response, SCIM_JSON, check};
use serde_json::{Value, json};

use crate::support::{BASE, Client, PASSWORD, Req, Resp};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// A request to `/scim/v2{path}` with the acme SCIM token.
fn scim(method: Method, path: &str) -> Req {
    scim_as("scim_acme", method, path)
}

/// A request to `/scim/v2{path}` with another SCIM token.
fn scim_as(token: &str, method: Method, path: &str) -> Req {
    Req::new(method, &format!("/scim/v2{path}")).token(token)
}

/// A SCIM JSON body, sent as `application/scim+json` as SCIM clients do.
fn body(req: Req, value: Value) -> Req {
    req.raw(Some(SCIM_JSON), serde_json::to_vec(&value).unwrap())
}

fn patch_ops(ops: Value) -> Value {
    json!({ "schemas": [PATCH_OP], "Operations": ops })
}

#[track_caller]
fn assert_scim_ok(resp: &Resp, status: u16) {
    resp.assert_status(status);
    if status != 204 && status != 304 {
        assert_eq!(resp.header("content-type"), Some(SCIM_JSON));
    }
}

/// The response is `code` in the SCIM envelope with `scim_type`, and passes the checker.
#[track_caller]
fn assert_scim_error(resp: &Resp, code: Code, scim_type: Option<&str>) {
    assert_eq!(
        resp.header("content-type"),
        Some(SCIM_JSON),
        "{:?}",
        resp.json
    );
    let violations = check(
        &Response {
            status: resp.status,
            headers: &resp.headers,
            body: &resp.bytes,
        },
        &Expect {
            docs_base: Some(BASE.to_owned()),
            ..Expect::code(code).in_envelope(Envelope::Scim)
        },
    );
    let shown: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(shown.is_empty(), "{code}: {shown:#?}\n{}", resp.json);
    assert_eq!(
        resp.json["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(resp.json["status"], resp.status.to_string());
    assert_eq!(resp.json["scimType"].as_str(), scim_type, "{}", resp.json);
    // Exactly RFC 7644's members, so strict SCIM clients accept the body; the
    // code and the request id travel in headers.
    let members: Vec<&str> = resp
        .json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        members
            .iter()
            .all(|m| ["schemas", "status", "scimType", "detail"].contains(m)),
        "{members:?}"
    );
    assert_eq!(resp.header("x-error-code"), Some(code.name()));
    assert!(resp.header("x-request-id").is_some());
}

async fn create(client: &Client, user: Value) -> Value {
    let resp = client.send(body(scim(Method::POST, "/Users"), user)).await;
    assert_scim_ok(&resp, 201);
    resp.json
}

fn user(name: &str) -> Value {
    json!({
        "schemas": [CORE],
        "userName": name,
        "name": { "givenName": "Barbara", "familyName": "Jensen" },
        "emails": [{ "value": name, "type": "work", "primary": true }],
        "password": PASSWORD,
    })
}

#[tokio::test]
async fn users_are_created_read_replaced_patched_and_deleted() {
    let client = Client::new();
    let created = create(&client, user("bjensen@acme.example")).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["schemas"], json!([CORE]));
    assert_eq!(created["userName"], "bjensen@acme.example");
    assert!(
        created.get("password").is_none(),
        "password is never returned"
    );
    let meta = &created["meta"];
    assert_eq!(meta["resourceType"], "User");
    assert_eq!(meta["version"], "W/\"1\"");
    assert_eq!(meta["created"], meta["lastModified"]);
    assert_eq!(meta["location"], format!("{BASE}/scim/v2/Users/{id}"));

    let read = client
        .send(scim(Method::GET, &format!("/Users/{id}")))
        .await;
    assert_scim_ok(&read, 200);
    assert_eq!(read.json, created);
    assert_eq!(read.header("etag"), Some("W/\"1\""));

    let mut replacement = read.json.clone();
    replacement["displayName"] = json!("Babs");
    replacement.as_object_mut().unwrap().remove("name");
    let put = client
        .send(body(
            scim(Method::PUT, &format!("/Users/{id}")),
            replacement,
        ))
        .await;
    assert_scim_ok(&put, 200);
    assert_eq!(put.json["displayName"], "Babs");
    assert!(
        put.json.get("name").is_none(),
        "PUT clears omitted attributes"
    );
    assert_eq!(put.json["meta"]["version"], "W/\"2\"");
    assert_eq!(put.header("etag"), Some("W/\"2\""));
    assert_eq!(put.json["meta"]["created"], meta["created"]);

    let patched = client
        .send(body(
            scim(Method::PATCH, &format!("/Users/{id}")),
            patch_ops(json!([
                { "op": "replace", "path": "displayName", "value": "Barbara" },
                { "op": "add", "path": "title", "value": "Tour Guide" },
            ])),
        ))
        .await;
    assert_scim_ok(&patched, 200);
    assert_eq!(patched.json["displayName"], "Barbara");
    assert_eq!(patched.json["title"], "Tour Guide");
    assert_eq!(patched.json["meta"]["version"], "W/\"3\"");

    let deleted = client
        .send(scim(Method::DELETE, &format!("/Users/{id}")))
        .await;
    assert_scim_ok(&deleted, 204);
    assert!(deleted.bytes.is_empty());
    let gone = client
        .send(scim(Method::GET, &format!("/Users/{id}")))
        .await;
    assert_scim_error(&gone, Code::UserNotFound, None);
}

#[tokio::test]
async fn create_answers_location_and_etag_and_ignores_read_only_attributes() {
    let client = Client::new();
    let mut sent = user("loc@acme.example");
    sent["id"] = json!("chosen-by-client");
    sent["meta"] = json!({ "version": "W/\"99\"" });
    sent["groups"] = json!([{ "value": "g1" }]);
    sent[ENTERPRISE] =
        json!({ "employeeNumber": "701984", "manager": { "value": "usr_acme_admin" } });
    let resp = client.send(body(scim(Method::POST, "/Users"), sent)).await;
    assert_scim_ok(&resp, 201);
    assert_ne!(resp.json["id"], "chosen-by-client");
    assert!(resp.json.get("groups").is_none());
    assert_eq!(resp.json["meta"]["version"], "W/\"1\"");
    assert_eq!(
        resp.header("location"),
        resp.json["meta"]["location"].as_str()
    );
    assert_eq!(resp.header("etag"), Some("W/\"1\""));
    assert_eq!(resp.json[ENTERPRISE]["employeeNumber"], "701984");
    let schemas = resp.json["schemas"].as_array().unwrap();
    assert!(schemas.contains(&json!(ENTERPRISE)), "{schemas:?}");
}

#[tokio::test]
async fn scim_users_are_workspace_users() {
    let client = Client::new();
    // pwonly needs no MFA, so a provisioned user can sign in straight away.
    let sign_in = |email: &str| {
        Req::post("/v1/workspaces/pwonly/sessions")
            .json(json!({ "method": "password", "email": email, "password": PASSWORD }))
    };
    client
        .send(sign_in("kim@pwonly.example"))
        .await
        .assert_error(Code::NotProvisioned);

    let resp = client
        .send(body(
            scim_as("scim_pwonly", Method::POST, "/Users"),
            user("kim@pwonly.example"),
        ))
        .await;
    assert_scim_ok(&resp, 201);
    let id = resp.json["id"].as_str().unwrap().to_owned();
    let session = client.send(sign_in("KIM@pwonly.example")).await;
    session.assert_status(201);
    assert_eq!(session.json["user_id"], id.as_str());
    let token = session.json["token"].as_str().unwrap().to_owned();
    let listed = client
        .send(Req::get("/v1/workspaces/pwonly/users").token("tok_pwonly_admin"))
        .await;
    assert!(
        listed.json["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == id.as_str() && u["role"] == "member")
    );

    // Deactivation is the identity provider disabling the account.
    let off = client
        .send(body(
            scim_as("scim_pwonly", Method::PATCH, &format!("/Users/{id}")),
            patch_ops(json!([{ "op": "replace", "value": { "active": false } }])),
        ))
        .await;
    assert_scim_ok(&off, 200);
    assert_eq!(off.json["active"], false);
    client
        .send(sign_in("kim@pwonly.example"))
        .await
        .assert_error(Code::AccountDisabled);

    // Deleting the user revokes their session.
    let deleted = client
        .send(scim_as(
            "scim_pwonly",
            Method::DELETE,
            &format!("/Users/{id}"),
        ))
        .await;
    assert_scim_ok(&deleted, 204);
    client
        .send(Req::get("/v1/workspaces/pwonly/users").token(&token))
        .await
        .assert_error(Code::Unauthorized);
    client
        .send(sign_in("kim@pwonly.example"))
        .await
        .assert_error(Code::NotProvisioned);

    // Seeded users are SCIM users too.
    let admin = client
        .send(scim_as(
            "scim_pwonly",
            Method::GET,
            "/Users/usr_pwonly_admin",
        ))
        .await;
    assert_scim_ok(&admin, 200);
    assert_eq!(admin.json["userName"], "admin@pwonly.example");
    assert_eq!(admin.json["active"], true);
}

async fn seed_users(client: &Client) {
    for name in [
        "pat@acme.example",
        "paula@acme.example",
        "quinn@acme.example",
    ] {
        create(client, user(name)).await;
    }
}

fn user_names(resp: &Resp) -> Vec<&str> {
    resp.json["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap_or("-"))
        .collect()
}

#[tokio::test]
async fn lists_filter_page_and_project() {
    let client = Client::new();
    seed_users(&client).await;

    let all = client.send(scim(Method::GET, "/Users")).await;
    assert_scim_ok(&all, 200);
    assert_eq!(all.json["schemas"], json!([LIST]));
    // Four seeded acme users and three new ones; no other workspace's.
    assert_eq!(all.json["totalResults"], 7);
    assert_eq!(all.json["itemsPerPage"], 7);
    assert_eq!(all.json["startIndex"], 1);

    let filtered = client
        .send(scim(Method::GET, "/Users?filter=userName%20sw%20%22PA%22"))
        .await;
    assert_scim_ok(&filtered, 200);
    assert_eq!(
        user_names(&filtered),
        ["pat@acme.example", "paula@acme.example"]
    );

    // `+` is a space in a query string; value filters and `and` / `not` work over HTTP.
    let complex = client
        .send(scim(
            Method::GET,
            "/Users?filter=emails%5Btype+eq+%22work%22+and+value+ew+%22acme.example%22%5D+and+not+(userName+eq+%22quinn@acme.example%22)+and+meta.resourceType+eq+%22User%22+and+name.givenName+pr",
        ))
        .await;
    assert_scim_ok(&complex, 200);
    assert_eq!(
        user_names(&complex),
        ["pat@acme.example", "paula@acme.example"]
    );

    let page = client
        .send(scim(
            Method::GET,
            "/Users?filter=name.familyName+eq+%22jensen%22&startIndex=2&count=1",
        ))
        .await;
    assert_eq!(page.json["totalResults"], 3);
    assert_eq!(page.json["startIndex"], 2);
    assert_eq!(page.json["itemsPerPage"], 1);
    assert_eq!(user_names(&page), ["paula@acme.example"]);

    let counted = client.send(scim(Method::GET, "/Users?count=0")).await;
    assert_eq!(counted.json["totalResults"], 7);
    assert_eq!(counted.json["itemsPerPage"], 0);
    assert_eq!(counted.json["Resources"], json!([]));

    let low = client
        .send(scim(Method::GET, "/Users?startIndex=-5&count=-1"))
        .await;
    assert_eq!(
        (
            low.json["startIndex"].clone(),
            low.json["itemsPerPage"].clone()
        ),
        (json!(1), json!(0))
    );
    let beyond = client
        .send(scim(Method::GET, "/Users?startIndex=100"))
        .await;
    assert_eq!(beyond.json["itemsPerPage"], 0);
    assert_eq!(beyond.json["totalResults"], 7);

    let projected = client
        .send(scim(
            Method::GET,
            "/Users?filter=userName+eq+%22pat@acme.example%22&attributes=userName,name.givenName",
        ))
        .await;
    let only = &projected.json["Resources"][0];
    let mut keys: Vec<&str> = only
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["id", "meta", "name", "schemas", "userName"]);
    assert_eq!(only["name"], json!({ "givenName": "Barbara" }));

    let excluded = client
        .send(scim(
            Method::GET,
            "/Users?excludedAttributes=emails,name&count=1",
        ))
        .await;
    let first = &excluded.json["Resources"][0];
    assert!(first.get("emails").is_none() && first.get("name").is_none());
    assert!(first.get("userName").is_some() && first.get("id").is_some());

    // A parseable filter on an attribute nobody has matches nothing.
    let none = client
        .send(scim(Method::GET, "/Users?filter=nickName+pr"))
        .await;
    assert_eq!(none.json["totalResults"], 0);
    // Filtering on the password never reveals it.
    let probe = client
        .send(scim(Method::GET, "/Users?filter=password+pr"))
        .await;
    assert_eq!(probe.json["totalResults"], 0);
}

#[tokio::test]
async fn searches_take_the_parameters_in_the_body() {
    let client = Client::new();
    seed_users(&client).await;
    let request = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName sw \"pa\"",
        "attributes": ["userName"],
        "startIndex": 1,
        "count": 5,
    });
    for path in ["/Users/.search", "/.search"] {
        let resp = client
            .send(body(scim(Method::POST, path), request.clone()))
            .await;
        assert_scim_ok(&resp, 200);
        assert_eq!(resp.json["schemas"], json!([LIST]));
        assert_eq!(
            user_names(&resp),
            ["pat@acme.example", "paula@acme.example"]
        );
        assert!(resp.json["Resources"][0].get("emails").is_none());
    }
    for (bad, scim_type) in [
        (json!({ "filter": "userName pr" }), "invalidSyntax"),
        (
            json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "count": "2" }),
            "invalidValue",
        ),
        (
            json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "attributes": [1] }),
            "invalidValue",
        ),
    ] {
        let resp = client.send(body(scim(Method::POST, "/.search"), bad)).await;
        assert_scim_error(&resp, Code::ValidationError, Some(scim_type));
    }
    let resp = client
        .send(body(
            scim(Method::POST, "/Users/.search"),
            json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName eq" }),
        ))
        .await;
    assert_scim_error(&resp, Code::InvalidFilter, Some("invalidFilter"));
}

#[tokio::test]
async fn unparseable_filters_are_invalid_filter_with_the_position() {
    let client = Client::new();
    let cases: &[(&str, usize)] = &[
        ("userName eq", 11),
        ("userName xx \"a\"", 9),
        ("userName eq \"a\" and", 19),
        ("(userName eq \"a\"", 16),
        ("emails[type eq \"work\"", 21),
        ("userName eq 'a'", 12),
        ("", 0),
    ];
    for &(text, position) in cases {
        let encoded: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
        let resp = client
            .send(scim(Method::GET, &format!("/Users?filter={encoded}")))
            .await;
        assert_scim_error(&resp, Code::InvalidFilter, Some("invalidFilter"));
        let detail = resp.json["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("at position {position}:")),
            "{text:?}: {detail}"
        );
    }
}

#[tokio::test]
async fn unknown_ids_are_user_not_found_for_every_operation() {
    let client = Client::new();
    // Missing, and another workspace's user: the same answer.
    for id in ["usr_nope", "usr_pwonly_admin"] {
        let path = format!("/Users/{id}");
        let put = json!({ "schemas": [CORE], "userName": "x" });
        for req in [
            scim(Method::GET, &path),
            body(scim(Method::PUT, &path), put),
            body(
                scim(Method::PATCH, &path),
                patch_ops(json!([{ "op": "replace", "path": "title", "value": "x" }])),
            ),
            scim(Method::DELETE, &path),
            // USER_NOT_FOUND comes before anything about the body.
            scim(Method::PUT, &path).raw(Some(SCIM_JSON), "{not json"),
            scim(Method::PATCH, &path).raw(Some("text/plain"), "x"),
        ] {
            let resp = client.send(req.clone()).await;
            assert_scim_error(&resp, Code::UserNotFound, None);
            assert_eq!(resp.status, 404, "{req:?}");
        }
    }
    let resp = client
        .send(scim_as(
            "scim_pwonly",
            Method::GET,
            "/Users/usr_pwonly_admin",
        ))
        .await;
    assert_scim_ok(&resp, 200);
}

#[tokio::test]
async fn changing_read_only_attributes_is_a_mutability_violation() {
    let client = Client::new();
    let created = create(&client, user("ro@acme.example")).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/Users/{id}");

    let mut other_id = created.clone();
    other_id["id"] = json!("usr_other");
    let resp = client.send(body(scim(Method::PUT, &path), other_id)).await;
    assert_scim_error(&resp, Code::MutabilityViolation, Some("mutability"));

    let mut new_meta = created.clone();
    new_meta["meta"]["created"] = json!("2001-01-01T00:00:00Z");
    let resp = client.send(body(scim(Method::PUT, &path), new_meta)).await;
    assert_scim_error(&resp, Code::MutabilityViolation, Some("mutability"));

    // Echoing the stored id and meta is fine (RFC 7644 section 3.5.1).
    let resp = client
        .send(body(scim(Method::PUT, &path), created.clone()))
        .await;
    assert_scim_ok(&resp, 200);

    for op in [
        json!({ "op": "replace", "path": "id", "value": "usr_other" }),
        json!({ "op": "replace", "path": "meta.lastModified", "value": "2001-01-01T00:00:00Z" }),
        json!({ "op": "remove", "path": "meta" }),
        json!({ "op": "add", "path": "groups", "value": [{ "value": "g1" }] }),
        json!({ "op": "replace", "value": { "id": "usr_other" } }),
    ] {
        let resp = client
            .send(body(
                scim(Method::PATCH, &path),
                patch_ops(json!([op.clone()])),
            ))
            .await;
        assert_scim_error(&resp, Code::MutabilityViolation, Some("mutability"));
    }

    // PATCH is atomic: a failing operation leaves the earlier ones undone.
    let resp = client
        .send(body(
            scim(Method::PATCH, &path),
            patch_ops(json!([
                { "op": "replace", "path": "displayName", "value": "Changed" },
                { "op": "replace", "path": "id", "value": "usr_other" },
            ])),
        ))
        .await;
    assert_scim_error(&resp, Code::MutabilityViolation, Some("mutability"));
    let read = client.send(scim(Method::GET, &path)).await;
    assert!(read.json.get("displayName").is_none());
    assert_eq!(read.json["meta"]["version"], "W/\"2\"");
}

#[tokio::test]
async fn malformed_bodies_are_invalid_syntax_or_invalid_value() {
    let client = Client::new();
    let cases: Vec<(Req, &str)> = vec![
        (
            scim(Method::POST, "/Users").raw(Some(SCIM_JSON), "{\"userName\":"),
            "invalidSyntax",
        ),
        (
            scim(Method::POST, "/Users").raw(Some("text/plain"), "hello"),
            "invalidSyntax",
        ),
        (scim(Method::POST, "/Users"), "invalidSyntax"),
        (
            body(scim(Method::POST, "/Users"), json!([1, 2])),
            "invalidSyntax",
        ),
        (
            body(scim(Method::POST, "/Users"), json!({ "userName": "x" })),
            "invalidSyntax",
        ),
        (
            body(scim(Method::POST, "/Users"), json!({ "schemas": [CORE] })),
            "invalidValue",
        ),
        (
            body(
                scim(Method::POST, "/Users"),
                json!({ "schemas": [CORE], "userName": "x", "active": "yes" }),
            ),
            "invalidValue",
        ),
        (
            body(
                scim(Method::POST, "/Users"),
                json!({ "schemas": [CORE], "userName": "x", "favourite": 1 }),
            ),
            "invalidValue",
        ),
        (
            body(
                scim(Method::PATCH, "/Users/usr_acme_member"),
                json!({ "Operations": [] }),
            ),
            "invalidSyntax",
        ),
        (
            body(
                scim(Method::PATCH, "/Users/usr_acme_member"),
                patch_ops(json!([{ "op": "jump", "path": "title" }])),
            ),
            "invalidSyntax",
        ),
        (
            body(
                scim(Method::PATCH, "/Users/usr_acme_member"),
                patch_ops(json!([{ "op": "add", "path": "emails[type eq", "value": "x" }])),
            ),
            "invalidPath",
        ),
        (
            body(
                scim(Method::PATCH, "/Users/usr_acme_member"),
                patch_ops(
                    json!([{ "op": "replace", "path": "emails[type eq \"home\"].value", "value": "x" }]),
                ),
            ),
            "noTarget",
        ),
        (
            body(
                scim(Method::PATCH, "/Users/usr_acme_member"),
                patch_ops(json!([{ "op": "remove", "path": "userName" }])),
            ),
            "invalidValue",
        ),
        (
            body(
                scim(Method::PUT, "/Users/usr_acme_member"),
                json!({ "schemas": [CORE] }),
            ),
            "invalidValue",
        ),
        (scim(Method::GET, "/Users?count=ten"), "invalidValue"),
        (scim(Method::GET, "/Users?startIndex=1.5"), "invalidValue"),
        (
            scim(
                Method::GET,
                "/Users?attributes=emails[type%20eq%20%22work%22]",
            ),
            "invalidValue",
        ),
        (
            scim(
                Method::GET,
                "/Users/usr_acme_member?excludedAttributes=a,,b",
            ),
            "invalidValue",
        ),
        // userName is unique in the workspace, ignoring case: a ValidationError, since the
        // catalog documents no 409.
        (
            body(
                scim(Method::POST, "/Users"),
                json!({ "schemas": [CORE], "userName": "MEMBER@acme.example" }),
            ),
            "uniqueness",
        ),
        (
            body(
                scim(Method::PATCH, "/Users/usr_acme_member"),
                patch_ops(
                    json!([{ "op": "replace", "path": "userName", "value": "admin@acme.example" }]),
                ),
            ),
            "uniqueness",
        ),
    ];
    for (req, scim_type) in cases {
        let resp = client.send(req.clone()).await;
        assert_eq!(resp.status, 400, "{req:?}: {}", resp.json);
        assert_scim_error(&resp, Code::ValidationError, Some(scim_type));
    }
    let member = client
        .send(scim(Method::GET, "/Users/usr_acme_member"))
        .await;
    assert_eq!(
        member.json["meta"]["version"], "W/\"1\"",
        "nothing was written"
    );
}

#[tokio::test]
async fn patch_paths_and_value_filters() {
    let client = Client::new();
    let created = create(&client, user("paths@acme.example")).await;
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    let resp = client
        .send(body(
            scim(Method::PATCH, &path),
            patch_ops(json!([
                { "op": "add", "path": "emails", "value": [{ "value": "home@example.com", "type": "home" }] },
                { "op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@acme.example" },
                { "op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100" },
                { "op": "replace", "path": "name.familyName", "value": "Jensen-Smith" },
                { "op": "add", "path": format!("{ENTERPRISE}:department"), "value": "Tours" },
                { "op": "Remove", "path": "emails[type eq \"home\"]" },
            ])),
        ))
        .await;
    assert_scim_ok(&resp, 200);
    let u = &resp.json;
    assert_eq!(
        u["emails"],
        json!([{ "value": "new@acme.example", "type": "work", "primary": true }])
    );
    assert_eq!(
        u["phoneNumbers"],
        json!([{ "value": "+1 555 0100", "type": "mobile" }])
    );
    assert_eq!(u["name"]["familyName"], "Jensen-Smith");
    assert_eq!(u[ENTERPRISE]["department"], "Tours");
    assert!(
        u["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(ENTERPRISE))
    );

    let filtered = client
        .send(scim(
            Method::GET,
            &format!("/Users?filter={ENTERPRISE}:department+eq+%22tours%22"),
        ))
        .await;
    assert_eq!(filtered.json["totalResults"], 1);
}

#[tokio::test]
async fn if_none_match_with_the_current_etag_is_not_modified() {
    let client = Client::new();
    let resp = client
        .send(scim(Method::GET, "/Users/usr_acme_admin").header("if-none-match", "W/\"1\""))
        .await;
    assert_scim_ok(&resp, 304);
    assert_eq!(resp.header("etag"), Some("W/\"1\""));
    let resp = client
        .send(scim(Method::GET, "/Users/usr_acme_admin").header("if-none-match", "W/\"7\""))
        .await;
    assert_scim_ok(&resp, 200);
}

#[tokio::test]
async fn authentication_errors_are_scim_errors() {
    let client = Client::new();
    let resp = client.send(Req::get("/scim/v2/Users")).await;
    assert_scim_error(&resp, Code::Unauthorized, None);
    assert_eq!(resp.challenge(), "Bearer realm=\"platform\"");

    for token in ["nope", "tok_acme_admin"] {
        let resp = client.send(Req::get("/scim/v2/Users").token(token)).await;
        assert_scim_error(&resp, Code::Unauthorized, None);
        assert!(
            resp.challenge().contains("error=\"invalid_token\""),
            "{token}"
        );
    }
    // Another scheme is no bearer credentials (no `error`); a bad Bearer header is
    // `invalid_request`.
    let resp = client
        .send(Req::get("/scim/v2/Users").header("authorization", "Basic eDp5"))
        .await;
    assert_scim_error(&resp, Code::Unauthorized, None);
    assert_eq!(resp.challenge(), "Bearer realm=\"platform\"");
    let resp = client
        .send(Req::get("/scim/v2/Users").header("authorization", "Bearer a,b"))
        .await;
    assert_scim_error(&resp, Code::Unauthorized, None);
    assert!(resp.challenge().contains("error=\"invalid_request\""));

    let resp = client
        .send(Req::get("/scim/v2/Users").token("scim_dormant"))
        .await;
    assert_scim_error(&resp, Code::WorkspaceInactive, None);
    let resp = client
        .send(Req::get("/scim/v2/Users").token("scim_fortress"))
        .await;
    assert_scim_error(&resp, Code::IpBlocked, None);
    let resp = client
        .send(
            Req::get("/scim/v2/Users")
                .token("scim_fortress")
                .peer("203.0.113.9"),
        )
        .await;
    assert_scim_ok(&resp, 200);

    // Unrouted SCIM paths are NotFound in the SCIM envelope, token or not.
    for path in ["/scim/v2/Groups", "/scim/v2/Bulk", "/scim/v2/Users/x/y"] {
        let resp = client.send(Req::get(path).token("scim_acme")).await;
        assert_scim_error(&resp, Code::NotFound, None);
    }
}

#[tokio::test]
async fn discovery_describes_what_is_supported() {
    let client = Client::new();
    // No token needed.
    let config = client
        .send(Req::get("/scim/v2/ServiceProviderConfig"))
        .await;
    assert_scim_ok(&config, 200);
    let c = &config.json;
    assert_eq!(
        c["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    assert_eq!(c["patch"]["supported"], true);
    assert_eq!(c["bulk"]["supported"], false);
    assert_eq!(c["filter"], json!({ "supported": true, "maxResults": 200 }));
    assert_eq!(c["sort"]["supported"], false);
    assert_eq!(c["etag"]["supported"], true);
    assert_eq!(c["authenticationSchemes"][0]["type"], "oauthbearertoken");

    let types = client
        .send(Req::get("/scim/v2/ResourceTypes").token("scim_acme"))
        .await;
    assert_scim_ok(&types, 200);
    assert_eq!(types.json["totalResults"], 1);
    let user_type = &types.json["Resources"][0];
    assert_eq!(user_type["endpoint"], "/Users");
    assert_eq!(user_type["schema"], CORE);
    assert_eq!(
        user_type["schemaExtensions"],
        json!([{ "schema": ENTERPRISE, "required": false }])
    );
    let one = client.send(Req::get("/scim/v2/ResourceTypes/User")).await;
    assert_scim_ok(&one, 200);
    assert_eq!(&one.json, user_type);
    let missing = client.send(Req::get("/scim/v2/ResourceTypes/Group")).await;
    assert_scim_error(&missing, Code::NotFound, None);

    let schemas = client.send(Req::get("/scim/v2/Schemas")).await;
    assert_scim_ok(&schemas, 200);
    let ids: Vec<&str> = schemas.json["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [CORE, ENTERPRISE]);
    let core = client
        .send(Req::get(&format!("/scim/v2/Schemas/{CORE}")))
        .await;
    assert_scim_ok(&core, 200);
    assert_eq!(core.json["name"], "User");
    assert_eq!(
        core.json["meta"]["location"],
        format!("{BASE}/scim/v2/Schemas/{CORE}")
    );
    let missing = client.send(Req::get("/scim/v2/Schemas/urn:nope")).await;
    assert_scim_error(&missing, Code::NotFound, None);
}

/// The index paths of a list (`userName eq` by the email index, other `userName`
/// comparisons on the email, pages built alone) agree with the general evaluator.
#[tokio::test]
async fn user_name_filters_over_the_index_agree_with_the_evaluator() {
    let client = Client::new();
    for name in [
        "zz-a@acme.example",
        "zz-b@acme.example",
        "zz-c@acme.example",
    ] {
        create(&client, user(name)).await;
    }
    let list = |query: &'static str| {
        let client = &client;
        async move {
            let resp = client
                .send(scim(Method::GET, &format!("/Users?{query}")))
                .await;
            assert_scim_ok(&resp, 200);
            let names: Vec<String> = resp.json["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["userName"].as_str().unwrap().to_owned())
                .collect();
            (resp.json["totalResults"].as_u64().unwrap(), names)
        }
    };
    // Case-insensitive, through the index.
    assert_eq!(
        list("filter=userName+eq+%22ZZ-B@ACME.EXAMPLE%22").await,
        (1, vec!["zz-b@acme.example".to_owned()])
    );
    // With the schema URN, and past the only match.
    assert_eq!(
        list("filter=urn:ietf:params:scim:schemas:core:2.0:User:userName+eq+%22zz-b@acme.example%22&startIndex=2").await,
        (1, vec![])
    );
    assert_eq!(
        list("filter=userName+eq+%22nobody@acme.example%22").await,
        (0, vec![])
    );
    // `sw` on the email; a page from the middle.
    assert_eq!(
        list("filter=userName+sw+%22ZZ-%22&startIndex=2&count=1").await,
        (3, vec!["zz-b@acme.example".to_owned()])
    );
    // A compound filter still goes through the evaluator.
    assert_eq!(
        list("filter=userName+sw+%22zz-%22+and+not+(userName+ew+%22c@acme.example%22)").await,
        (
            2,
            vec![
                "zz-a@acme.example".to_owned(),
                "zz-b@acme.example".to_owned()
            ]
        )
    );
}
