//! The network policy: IPv4 and IPv6 allowlists, IPv4-mapped addresses, forwarding headers
//! believed only from trusted proxies, and changing the policy.

use catalog::Code;
use serde_json::json;

use crate::support::{Client, Req, state_with};

const FORTRESS: &str = "/v1/workspaces/fortress/users";

#[tokio::test]
async fn addresses_inside_the_allowlist_get_in() {
    let client = Client::new();
    for ip in ["203.0.113.9", "2001:db8::5", "::ffff:203.0.113.9"] {
        client
            .send(Req::get(FORTRESS).token("tok_fortress_admin").peer(ip))
            .await
            .assert_status(200);
    }
}

#[tokio::test]
async fn addresses_outside_the_allowlist_are_ip_blocked() {
    let client = Client::new();
    for ip in [
        "127.0.0.1",
        "198.51.100.7",
        "2001:db9::1",
        "::ffff:198.51.100.7",
    ] {
        let resp = client
            .send(Req::get(FORTRESS).token("tok_fortress_admin").peer(ip))
            .await;
        resp.assert_error(Code::IpBlocked);
        assert!(
            resp.detail_mentions(ip.trim_start_matches("::ffff:")),
            "{ip}"
        );
    }
    // Sign-in too.
    client
        .send(
            Req::post("/v1/workspaces/fortress/sessions")
                .peer("198.51.100.7")
                .json(json!({ "method": "sso", "email": "admin@fortress.example" })),
        )
        .await
        .assert_error(Code::IpBlocked);
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    let client = Client::over(state_with(|seed| {
        seed.trusted_proxies = vec!["10.0.0.0/8".into()];
    }));
    let req = |peer: &str| Req::get(FORTRESS).token("tok_fortress_admin").peer(peer);

    // From a trusted proxy, the forwarded client address decides.
    client
        .send(req("10.0.0.1").header("x-forwarded-for", "203.0.113.9"))
        .await
        .assert_status(200);
    client
        .send(req("10.0.0.1").header("x-forwarded-for", "203.0.113.9, 10.0.0.2"))
        .await
        .assert_status(200);
    client
        .send(req("10.0.0.1").header("forwarded", "for=\"[2001:db8::1]:443\""))
        .await
        .assert_status(200);
    client
        .send(req("10.0.0.1").header("x-forwarded-for", "198.51.100.7"))
        .await
        .assert_error(Code::IpBlocked);
    // A client cannot smuggle an allowed address to the left of its own.
    client
        .send(req("10.0.0.1").header("x-forwarded-for", "203.0.113.9, 198.51.100.7"))
        .await
        .assert_error(Code::IpBlocked);

    // From anyone else, the header is never believed, in either direction.
    client
        .send(req("198.51.100.7").header("x-forwarded-for", "203.0.113.9"))
        .await
        .assert_error(Code::IpBlocked);
    client
        .send(req("198.51.100.7").header("forwarded", "for=203.0.113.9"))
        .await
        .assert_error(Code::IpBlocked);
    client
        .send(req("203.0.113.5").header("x-forwarded-for", "198.51.100.7"))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn the_policy_can_be_read_and_changed() {
    let client = Client::new();
    let resp = client
        .send(
            Req::get("/v1/workspaces/fortress/network-policy")
                .token("tok_fortress_admin")
                .peer("203.0.113.1"),
        )
        .await;
    resp.assert_status(200);
    assert_eq!(
        resp.json,
        json!({ "allowlist": ["203.0.113.0/24", "2001:db8::/32"] })
    );

    let token = client
        .step_up("acme", "tok_acme_admin", "change_network_policy", "totp")
        .await;
    let put = |allowlist: serde_json::Value| {
        Req::put("/v1/workspaces/acme/network-policy")
            .token("tok_acme_admin")
            .step_up(&token)
            .json(json!({ "allowlist": allowlist }))
    };
    // Every bad entry is listed, and the step-up token is not spent on a bad request.
    let resp = client
        .send(put(json!(["10.0.0.0/8", "nope", "2001:db8::/129", 5])))
        .await;
    resp.assert_error(Code::ValidationError);
    assert_eq!(resp.pointers(), ["/allowlist/3"]);
    let resp = client
        .send(put(json!(["10.0.0.0/8", "nope", "2001:db8::/129"])))
        .await;
    resp.assert_error(Code::ValidationError);
    assert_eq!(resp.pointers(), ["/allowlist/1", "/allowlist/2"]);

    let resp = client
        .send(put(json!(["192.0.2.0/24", "2001:db8::/32"])))
        .await;
    resp.assert_status(200);
    assert_eq!(
        resp.json["allowlist"],
        json!(["192.0.2.0/24", "2001:db8::/32"])
    );

    // Now enforced: loopback is outside.
    client
        .send(Req::get("/v1/workspaces/acme/users").token("tok_acme_admin"))
        .await
        .assert_error(Code::IpBlocked);
    client
        .send(
            Req::get("/v1/workspaces/acme/users")
                .token("tok_acme_admin")
                .peer("192.0.2.44"),
        )
        .await
        .assert_status(200);
}
