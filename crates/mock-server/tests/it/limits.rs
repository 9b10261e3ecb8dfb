//! Rate limits per token and per address, with Retry-After and the draft-09 header fields.

use catalog::Code;

use crate::support::{Client, Req, state_with};

#[tokio::test]
async fn session_tokens_of_throttled_run_out_after_three_requests() {
    let client = Client::new();
    let token = client.sign_in("throttled", "admin@throttled.example").await;
    let path = "/v1/workspaces/throttled/users";
    for remaining in [2, 1, 0] {
        let resp = client.send(Req::get(path).token(&token)).await;
        resp.assert_status(200);
        assert_eq!(
            resp.header("ratelimit-policy").unwrap().split(", ").next(),
            Some("\"token\";q=3;w=60")
        );
        let current = resp.header("ratelimit").unwrap();
        assert!(
            current.starts_with(&format!("\"token\";r={remaining};t=")),
            "{current}"
        );
    }
    let resp = client.send(Req::get(path).token(&token)).await;
    resp.assert_error(Code::RateLimited);
    let retry_after: u64 = resp.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(resp.json["retry_after"], retry_after);
    assert!(
        resp.header("ratelimit")
            .unwrap()
            .starts_with("\"token\";r=0;t=")
    );

    // Another fresh token has its own quota.
    let other = client.sign_in("throttled", "admin@throttled.example").await;
    client
        .send(Req::get(path).token(&other))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn addresses_have_their_own_quota() {
    let client = Client::over(state_with(|seed| seed.rate_limits.per_address = 2));
    let path = "/v1/workspaces/acme/users";
    for _ in 0..2 {
        client
            .send(Req::get(path).token("tok_acme_member"))
            .await
            .assert_status(200);
    }
    let resp = client.send(Req::get(path).token("tok_acme_member")).await;
    resp.assert_error(Code::RateLimited);
    assert!(resp.detail_mentions("address"));
    // Even without a token (RateLimited precedes Unauthorized), but not from elsewhere.
    client
        .send(Req::get(path))
        .await
        .assert_error(Code::RateLimited);
    client
        .send(Req::get(path).token("tok_acme_member").peer("192.0.2.1"))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn responses_carry_both_policies() {
    let resp = Client::new()
        .send(Req::get("/v1/workspaces/acme/users").token("tok_acme_member"))
        .await;
    resp.assert_status(200);
    assert_eq!(
        resp.header("ratelimit-policy"),
        Some("\"token\";q=1000;w=60, \"address\";q=10000;w=60")
    );
    let current = resp.header("ratelimit").unwrap();
    assert!(current.starts_with("\"token\";r=999;t="), "{current}");
    assert!(current.contains(", \"address\";r=9999;t="), "{current}");
}

#[tokio::test]
async fn zero_means_unlimited() {
    let client = Client::over(state_with(|seed| {
        seed.rate_limits.per_address = 0;
        seed.rate_limits.per_token = 0;
    }));
    let resp = client
        .send(Req::get("/v1/workspaces/acme/users").token("tok_acme_member"))
        .await;
    resp.assert_status(200);
    assert_eq!(resp.header("ratelimit"), None);
}
