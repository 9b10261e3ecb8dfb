//! MFA: TOTP enrolment and step-up (RFC 6238, replay), WebAuthn registration (challenge,
//! origin, RP id, flags, attestation and the AAGUID allowlist), WebAuthn step-up assertions
//! (signature, challenge, counter), listing and removing factors, step-up tokens (single use,
//! purpose-bound, phishing-resistant policy) and the races on a code, a challenge and a token.

use catalog::Code;
use mock_server::Config;
use mock_server::seed::Seed;
use mock_server::totp;
use mock_server::webauthn::authenticator::{Attest, Ceremony, SoftAuthenticator};
use mock_server::webauthn::{Aaguid, build_attestation_object};
use serde_json::{Value, json};

use crate::support::{
    Client, ORIGIN, RP_ID, Req, Resp, assertion_body, b64, current_code, profile_credential,
    rand_bytes,
};

const YUBIKEY_5: &str = "ee882879-721c-4913-9775-3dfcce97072a";
const OTHER_MODEL: &str = "adce0002-35bc-c60a-648b-0b25f1f05503";
/// The seeded TOTP secret of the acme admin (fixtures/seed.toml).
fn acme_admin_secret() -> Vec<u8> {
    totp::decode_secret(&profile_credential("acme_admin_totp")).unwrap()
}

fn enrol(workspace: &str, token: &str, body: Value) -> Req {
    Req::post(&format!("/v1/workspaces/{workspace}/factors"))
        .token(token)
        .json(body)
}

fn step_up(workspace: &str, token: &str, body: Value) -> Req {
    Req::post(&format!("/v1/workspaces/{workspace}/step-up"))
        .token(token)
        .json(body)
}

/// The profile's test attestation leaf for the allowlisted model.
fn yubikey_x5c() -> Attest {
    Attest::X5c {
        leaf_key: b64(&profile_credential("attestation_key")),
        chain: vec![b64(&profile_credential("attestation_cert"))],
    }
}

/// The renamed world's attestation leaf: a valid chain, to a root the default seed does not
/// trust.
fn untrusted_x5c() -> Attest {
    let text = include_str!("../../../../fixtures/profiles/renamed.toml");
    let profile: toml::Value = toml::from_str(text).unwrap();
    let get = |name: &str| b64(profile["credentials"][name]["value"].as_str().unwrap());
    Attest::X5c {
        leaf_key: get("attestation_key"),
        chain: vec![get("attestation_cert")],
    }
}

fn registration_body(kind: &str, r: &mock_server::webauthn::authenticator::Registration) -> Value {
    json!({
        "type": kind,
        "clientDataJSON": r.client_data_json,
        "attestationObject": r.attestation_object,
    })
}

/// The vault admin's seeded security key (profile credentials `vault_admin_key*`).
fn vault_key() -> SoftAuthenticator {
    SoftAuthenticator::from_pkcs8(
        &b64(&profile_credential("vault_admin_key")),
        &b64(&profile_credential("vault_admin_key_id")),
        YUBIKEY_5.parse().unwrap(),
    )
    .unwrap()
}

fn assert_step_up_required(resp: &Resp, purpose: &str, reason: &str) {
    resp.assert_error(Code::StepUpRequired);
    assert_eq!(resp.json["purpose"], purpose, "{}", resp.json);
    assert!(
        resp.json["detail"].as_str().unwrap().contains(reason),
        "{reason:?} not in {}",
        resp.json["detail"]
    );
}

fn assert_invalid_at(resp: &Resp, pointer: &str, reason: &str) {
    resp.assert_error(Code::ValidationError);
    assert_eq!(resp.pointers(), [pointer], "{}", resp.json);
    assert!(
        resp.json.to_string().contains(reason),
        "{reason:?} not in {}",
        resp.json
    );
}

#[tokio::test]
async fn a_user_without_a_factor_must_enrol_one_and_gets_a_fresh_totp_secret() {
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
    // Listing is allowed under MFA_REQUIRED.
    let list = client
        .send(Req::get("/v1/workspaces/acme/factors").token("tok_acme_newbie"))
        .await;
    list.assert_status(200);
    assert_eq!(list.json, json!({ "factors": [] }));

    let enrolled = client
        .send(enrol("acme", "tok_acme_newbie", json!({ "type": "totp" })))
        .await;
    enrolled.assert_status(201);
    assert_eq!(enrolled.json["type"], "totp");
    let secret = enrolled.json["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits of base32");
    assert_eq!(
        enrolled.json["otpauth_uri"],
        format!(
            "otpauth://totp/Platform:newbie@acme.example?secret={secret}&issuer=Platform&algorithm=SHA1&digits=6&period=30"
        )
    );
    let again = client
        .send(enrol("acme", "tok_acme_newbie", json!({ "type": "totp" })))
        .await;
    assert_ne!(again.json["secret"], secret, "a fresh secret every time");

    client
        .send(Req::get("/v1/workspaces/acme/users").token("tok_acme_newbie"))
        .await
        .assert_status(200);
    // The enrolled secret's current code steps up.
    let code = current_code(&totp::decode_secret(secret).unwrap());
    client
        .send(step_up(
            "acme",
            "tok_acme_newbie",
            json!({ "purpose": "delete_user", "factor": "totp", "code": code }),
        ))
        .await
        .assert_status(201);
}

#[tokio::test]
async fn a_totp_code_is_verified_and_never_accepted_twice() {
    let client = Client::new();
    let secret = acme_admin_secret();
    let code = current_code(&secret);
    let body = |code: &str| json!({ "purpose": "delete_user", "factor": "totp", "code": code });
    let resp = client
        .send(step_up("acme", "tok_acme_admin", body(&code)))
        .await;
    resp.assert_status(201);
    assert_eq!(resp.json["factor"], "totp");

    let replay = client
        .send(step_up("acme", "tok_acme_admin", body(&code)))
        .await;
    assert_step_up_required(&replay, "delete_user", "already used");

    // A wrong code, and the old shortcut unless it happens to be a current code.
    let step = totp::step_of(totp::unix_now());
    let current: Vec<String> = (step - 1..=step + 1)
        .map(|s| totp::code_at(&secret, s))
        .collect();
    for wrong in ["123456", "000000", "999999"] {
        if current.iter().any(|c| c == wrong) {
            continue;
        }
        let resp = client
            .send(step_up("acme", "tok_acme_admin", body(wrong)))
            .await;
        assert_step_up_required(&resp, "delete_user", "not the current code");
    }
    // Another user's secret is not this user's.
    let member = totp::decode_secret(&profile_credential("acme_member_totp")).unwrap();
    let resp = client
        .send(step_up(
            "acme",
            "tok_acme_admin",
            body(&current_code(&member)),
        ))
        .await;
    resp.assert_error(Code::StepUpRequired);
}

#[tokio::test]
async fn the_old_shortcuts_are_refused() {
    let client = Client::new();
    for (token, workspace, factor) in [
        ("tok_vault_admin", "vault", "security_key"),
        ("tok_acme_admin", "acme", "passkey"),
    ] {
        let resp = client
            .send(step_up(
                workspace,
                token,
                json!({ "purpose": "delete_user", "factor": factor }),
            ))
            .await;
        resp.assert_error(Code::ValidationError);
        let mut pointers = resp.pointers();
        pointers.sort_unstable();
        assert_eq!(
            pointers,
            [
                "/authenticatorData",
                "/clientDataJSON",
                "/credentialId",
                "/signature"
            ]
        );
    }
    let resp = client
        .send(step_up(
            "acme",
            "tok_acme_admin",
            json!({ "purpose": "sudo", "factor": "totp", "code": "12" }),
        ))
        .await;
    resp.assert_error(Code::ValidationError);
    let mut pointers = resp.pointers();
    pointers.sort_unstable();
    assert_eq!(pointers, ["/code", "/purpose"]);
    // An assertion for a factor type the caller has not enrolled.
    let resp = client
        .send(
            Req::post("/v1/workspaces/acme/step-up/options")
                .token("tok_acme_admin")
                .json(json!({ "factor": "passkey" })),
        )
        .await;
    assert_invalid_at(&resp, "/factor", "no passkey factor is enrolled");
    // Enrolment without a registration.
    let resp = client
        .send(enrol(
            "acme",
            "tok_acme_member",
            json!({ "type": "passkey" }),
        ))
        .await;
    resp.assert_error(Code::ValidationError);
    let mut pointers = resp.pointers();
    pointers.sort_unstable();
    assert_eq!(pointers, ["/attestationObject", "/clientDataJSON"]);
}

#[tokio::test]
async fn registration_options_carry_a_fresh_challenge_and_the_relying_party() {
    let client = Client::new();
    let resp = client
        .send(
            Req::post("/v1/workspaces/vault/factors/webauthn/options")
                .token("tok_vault_admin")
                .json(json!({ "type": "security_key" })),
        )
        .await;
    resp.assert_status(200);
    let options = &resp.json;
    assert_eq!(b64(options["challenge"].as_str().unwrap()).len(), 32);
    assert_eq!(
        options["rp"],
        json!({ "id": "platform.example", "name": "Platform" })
    );
    assert_eq!(
        b64(options["user"]["id"].as_str().unwrap()),
        b"usr_vault_admin"
    );
    assert_eq!(options["user"]["name"], "admin@vault.example");
    assert_eq!(
        options["pubKeyCredParams"],
        json!([{ "type": "public-key", "alg": -7 }])
    );
    assert_eq!(options["timeout"], 300_000);
    assert_eq!(options["attestation"], "direct");
    assert_eq!(
        options["authenticatorSelection"],
        json!({ "residentKey": "discouraged", "userVerification": "required" })
    );
    assert_eq!(
        options["excludeCredentials"],
        json!([{ "type": "public-key", "id": profile_credential("vault_admin_key_id") }])
    );
    // Allowed under MFA_REQUIRED, for a passkey.
    let resp = client
        .send(
            Req::post("/v1/workspaces/acme/factors/webauthn/options")
                .token("tok_acme_newbie")
                .json(json!({ "type": "passkey" })),
        )
        .await;
    resp.assert_status(200);
    assert_eq!(
        resp.json["authenticatorSelection"]["residentKey"],
        "required"
    );
    assert_eq!(
        resp.json["authenticatorSelection"]["userVerification"],
        "preferred"
    );
    assert_eq!(resp.json["excludeCredentials"], json!([]));
}

#[tokio::test]
async fn an_attested_security_key_of_the_allowlisted_model_enrols_and_is_listed() {
    let client = Client::new();
    let challenge = client
        .registration_challenge("acme", "tok_acme_newbie", "security_key")
        .await;
    let key = SoftAuthenticator::generate(YUBIKEY_5.parse().unwrap(), &rand_bytes::<32>());
    let registration = key.register(&Ceremony::new(challenge, ORIGIN, RP_ID), &yubikey_x5c());
    let resp = client
        .send(enrol(
            "acme",
            "tok_acme_newbie",
            registration_body("security_key", &registration),
        ))
        .await;
    resp.assert_status(201);
    assert_eq!(resp.json["fmt"], "packed");
    assert_eq!(resp.json["aaguid"], YUBIKEY_5);
    assert_eq!(
        b64(resp.json["credential_id"].as_str().unwrap()),
        key.credential_id
    );
    assert!(resp.json.get("secret").is_none());

    let list = client
        .send(Req::get("/v1/workspaces/acme/factors").token("tok_acme_newbie"))
        .await;
    list.assert_status(200);
    let factors = list.json["factors"].as_array().unwrap();
    assert_eq!(factors.len(), 1);
    assert_eq!(factors[0]["id"], resp.json["id"]);
    assert!(factors[0]["created_at"].as_str().unwrap().ends_with('Z'));

    // The same credential again: refused, and its challenge was spent.
    let challenge = client
        .registration_challenge("acme", "tok_acme_newbie", "security_key")
        .await;
    let again = key.register(&Ceremony::new(challenge, ORIGIN, RP_ID), &yubikey_x5c());
    let resp = client
        .send(enrol(
            "acme",
            "tok_acme_newbie",
            registration_body("security_key", &again),
        ))
        .await;
    assert_invalid_at(&resp, "/attestationObject", "already registered");
}

#[tokio::test]
async fn attestation_that_does_not_prove_an_allowlisted_model_is_blocked() {
    let client = Client::new();
    let yubikey: Aaguid = YUBIKEY_5.parse().unwrap();
    let cases = [
        (
            OTHER_MODEL.parse().unwrap(),
            Attest::None,
            "is not on the workspace allowlist",
        ),
        (Aaguid::ZERO, Attest::None, "all-zero AAGUID"),
        (yubikey, Attest::None, "format `none` does not prove"),
        (yubikey, Attest::SelfSigned, "Self attestation"),
        (yubikey, untrusted_x5c(), "does not end in a trust root"),
    ];
    for (aaguid, attest, reason) in cases {
        let challenge = client
            .registration_challenge("acme", "tok_acme_member", "passkey")
            .await;
        let key = SoftAuthenticator::generate(aaguid, &rand_bytes::<16>());
        let registration = key.register(&Ceremony::new(challenge, ORIGIN, RP_ID), &attest);
        let resp = client
            .send(enrol(
                "acme",
                "tok_acme_member",
                registration_body("passkey", &registration),
            ))
            .await;
        resp.assert_error(Code::AttestationBlocked);
        assert!(
            resp.json["detail"].as_str().unwrap().contains(reason),
            "{reason}: {}",
            resp.json
        );
    }
    // A workspace without an allowlist takes any model, attested or not.
    for attest in [Attest::None, Attest::SelfSigned, untrusted_x5c()] {
        let challenge = client
            .registration_challenge("pwonly", "tok_pwonly_admin", "passkey")
            .await;
        let key = SoftAuthenticator::generate(yubikey, &rand_bytes::<16>());
        let registration = key.register(&Ceremony::new(challenge, ORIGIN, RP_ID), &attest);
        client
            .send(enrol(
                "pwonly",
                "tok_pwonly_admin",
                registration_body("passkey", &registration),
            ))
            .await
            .assert_status(201);
    }
}

#[tokio::test]
async fn a_registration_that_does_not_verify_is_a_validation_error_at_its_member() {
    let client = Client::new();
    let yubikey: Aaguid = YUBIKEY_5.parse().unwrap();
    // (tamper, pointer, reason), each on a fresh challenge in pwonly (no allowlist).
    type Tamper = fn(&mut Ceremony, &mut Vec<u8>);
    let cases: [(Tamper, &str, &str); 6] = [
        (
            |c, _| c.challenge = vec![7; 32],
            "/clientDataJSON",
            "clientDataJSON.challenge is not a challenge",
        ),
        (
            |c, _| c.origin = "https://evil.example".into(),
            "/clientDataJSON",
            "origin \\\"https://evil.example\\\" is not an allowed origin",
        ),
        (
            |c, _| c.type_override = Some("webauthn.get".into()),
            "/clientDataJSON",
            "clientDataJSON.type is",
        ),
        (
            |c, _| c.rp_id = "evil.example".into(),
            "/attestationObject",
            "rpIdHash is not the SHA-256",
        ),
        (
            |c, _| c.flags = 0,
            "/attestationObject",
            "user-present flag (UP) is clear",
        ),
        (
            |_, flip| flip.push(1),
            "/attestationObject",
            "attStmt.sig does not verify",
        ),
    ];
    for (tamper, pointer, reason) in cases {
        let challenge = client
            .registration_challenge("pwonly", "tok_pwonly_admin", "passkey")
            .await;
        let mut ceremony = Ceremony::new(challenge, ORIGIN, RP_ID);
        let mut flip = Vec::new();
        tamper(&mut ceremony, &mut flip);
        let key = SoftAuthenticator::generate(yubikey, &rand_bytes::<16>());
        let mut registration = key.register(&ceremony, &Attest::SelfSigned);
        if !flip.is_empty() {
            registration.attestation_object = flip_signature(&registration.attestation_object);
        }
        let resp = client
            .send(enrol(
                "pwonly",
                "tok_pwonly_admin",
                registration_body("passkey", &registration),
            ))
            .await;
        assert_invalid_at(&resp, pointer, reason);
    }

    // The challenge is spent by a failed attempt: the corrected response is refused too.
    let challenge = client
        .registration_challenge("pwonly", "tok_pwonly_admin", "passkey")
        .await;
    let key = SoftAuthenticator::generate(yubikey, &rand_bytes::<16>());
    let mut bad = Ceremony::new(challenge.clone(), "https://evil.example", RP_ID);
    let resp = client
        .send(enrol(
            "pwonly",
            "tok_pwonly_admin",
            registration_body("passkey", &key.register(&bad, &Attest::None)),
        ))
        .await;
    resp.assert_error(Code::ValidationError);
    bad.origin = ORIGIN.into();
    let resp = client
        .send(enrol(
            "pwonly",
            "tok_pwonly_admin",
            registration_body("passkey", &key.register(&bad, &Attest::None)),
        ))
        .await;
    assert_invalid_at(&resp, "/clientDataJSON", "already used or has expired");

    // Another user's challenge, and a challenge for the other WebAuthn type.
    let theirs = client
        .registration_challenge("acme", "tok_acme_member", "passkey")
        .await;
    let resp = client
        .send(enrol(
            "pwonly",
            "tok_pwonly_admin",
            registration_body(
                "passkey",
                &key.register(&Ceremony::new(theirs, ORIGIN, RP_ID), &Attest::None),
            ),
        ))
        .await;
    assert_invalid_at(
        &resp,
        "/clientDataJSON",
        "clientDataJSON.challenge is not a challenge",
    );
    let other_type = client
        .registration_challenge("pwonly", "tok_pwonly_admin", "security_key")
        .await;
    let resp = client
        .send(enrol(
            "pwonly",
            "tok_pwonly_admin",
            registration_body(
                "passkey",
                &key.register(&Ceremony::new(other_type, ORIGIN, RP_ID), &Attest::None),
            ),
        ))
        .await;
    assert_invalid_at(
        &resp,
        "/clientDataJSON",
        "clientDataJSON.challenge is not a challenge",
    );

    // UV is required in vault.
    let challenge = client
        .registration_challenge("vault", "tok_vault_admin", "passkey")
        .await;
    let mut ceremony = Ceremony::new(challenge, ORIGIN, RP_ID);
    ceremony.flags = 1;
    let resp = client
        .send(enrol(
            "vault",
            "tok_vault_admin",
            registration_body("passkey", &key.register(&ceremony, &Attest::None)),
        ))
        .await;
    assert_invalid_at(
        &resp,
        "/attestationObject",
        "user-verified flag (UV) is clear",
    );

    // Malformed members.
    for (cdj, object, pointer) in [
        ("not base64!", "oA", "/clientDataJSON"),
        ("bm90IGpzb24", "oA", "/clientDataJSON"),
    ] {
        let resp = client
            .send(enrol(
                "pwonly",
                "tok_pwonly_admin",
                json!({ "type": "passkey", "clientDataJSON": cdj, "attestationObject": object }),
            ))
            .await;
        assert_invalid_at(&resp, pointer, "clientDataJSON");
    }
    for object in ["not base64!", "_w", "oWNmbXRkbm9uZQ"] {
        let challenge = client
            .registration_challenge("pwonly", "tok_pwonly_admin", "passkey")
            .await;
        let r = key.register(&Ceremony::new(challenge, ORIGIN, RP_ID), &Attest::None);
        let resp = client
            .send(enrol("pwonly", "tok_pwonly_admin", json!({ "type": "passkey", "clientDataJSON": r.client_data_json, "attestationObject": object })))
            .await;
        assert_invalid_at(&resp, "/attestationObject", "attestationObject");
    }
    // A structurally valid object whose key is not a point on P-256.
    let challenge = client
        .registration_challenge("pwonly", "tok_pwonly_admin", "passkey")
        .await;
    let r = key.register(&Ceremony::new(challenge, ORIGIN, RP_ID), &Attest::None);
    let resp = client
        .send(enrol(
            "pwonly",
            "tok_pwonly_admin",
            json!({
                "type": "passkey",
                "clientDataJSON": r.client_data_json,
                "attestationObject": build_attestation_object("none", Aaguid::ZERO, b"id"),
            }),
        ))
        .await;
    // RP id `localhost` in the built object: the first check that fails is the hash.
    assert_invalid_at(&resp, "/attestationObject", "rpIdHash");
}

/// Flips the last byte of `attStmt.sig` in a base64url attestation object.
fn flip_signature(object: &str) -> String {
    let raw = b64(object);
    let mut value: ciborium::Value = ciborium::from_reader(raw.as_slice()).unwrap();
    let ciborium::Value::Map(members) = &mut value else {
        panic!()
    };
    for (k, v) in members.iter_mut() {
        if k.as_text() == Some("attStmt") {
            let ciborium::Value::Map(stmt) = v else {
                panic!()
            };
            for (k, v) in stmt.iter_mut() {
                if k.as_text() == Some("sig") {
                    let ciborium::Value::Bytes(sig) = v else {
                        panic!()
                    };
                    *sig.last_mut().unwrap() ^= 1;
                }
            }
        }
    }
    let mut out = Vec::new();
    ciborium::into_writer(&value, &mut out).unwrap();
    mock_server::webauthn::b64url(&out)
}

#[tokio::test]
async fn a_security_key_assertion_steps_up_and_satisfies_phishing_resistance() {
    let client = Client::new();
    let options = client
        .send(
            Req::post("/v1/workspaces/vault/step-up/options")
                .token("tok_vault_admin")
                .json(json!({ "factor": "security_key" })),
        )
        .await;
    options.assert_status(200);
    assert_eq!(options.json["rpId"], "platform.example");
    assert_eq!(options.json["userVerification"], "required");
    assert_eq!(options.json["timeout"], 300_000);
    assert_eq!(
        options.json["allowCredentials"],
        json!([{ "type": "public-key", "id": profile_credential("vault_admin_key_id") }])
    );
    let mut key = vault_key();
    let challenge = b64(options.json["challenge"].as_str().unwrap());
    let mut body = assertion_body(
        "security_key",
        &key.assert(&Ceremony::new(challenge, ORIGIN, RP_ID)),
    );
    body["purpose"] = "change_network_policy".into();
    body["userHandle"] = mock_server::webauthn::b64url(b"usr_vault_admin").into();
    let resp = client
        .send(step_up("vault", "tok_vault_admin", body.clone()))
        .await;
    resp.assert_status(201);
    assert_eq!(resp.json["factor"], "security_key");
    let token = resp.json["step_up_token"].as_str().unwrap();
    client
        .send(
            Req::put("/v1/workspaces/vault/network-policy")
                .token("tok_vault_admin")
                .step_up(token)
                .json(json!({ "allowlist": [] })),
        )
        .await
        .assert_status(200);
    // The same assertion again: its challenge is spent.
    let resp = client.send(step_up("vault", "tok_vault_admin", body)).await;
    assert_step_up_required(
        &resp,
        "change_network_policy",
        "already used or has expired",
    );
}

#[tokio::test]
async fn an_assertion_that_does_not_verify_is_step_up_required() {
    let client = Client::new();
    type Tamper = fn(&mut Ceremony, &mut Value);
    let flip = |body: &mut Value, member: &str| {
        let mut bytes = b64(body[member].as_str().unwrap());
        *bytes.last_mut().unwrap() ^= 1;
        body[member] = mock_server::webauthn::b64url(&bytes).into();
    };
    let cases: Vec<(Tamper, &str)> = vec![
        (
            |c, _| c.challenge = vec![7; 32],
            "clientDataJSON.challenge is not a challenge",
        ),
        (
            |c, _| c.origin = "https://evil.example".into(),
            "is not an allowed origin",
        ),
        (
            |c, _| c.rp_id = "evil.example".into(),
            "rpIdHash is not the SHA-256",
        ),
        (
            |c, _| c.type_override = Some("webauthn.create".into()),
            "clientDataJSON.type is",
        ),
        (|c, _| c.flags = 0, "user-present flag (UP) is clear"),
        (|c, _| c.flags = 1, "user-verified flag (UV) is clear"),
        (
            |_, b| b["userHandle"] = mock_server::webauthn::b64url(b"usr_acme_admin").into(),
            "userHandle is not the caller's",
        ),
        (
            |_, b| b["credentialId"] = mock_server::webauthn::b64url(b"someone else").into(),
            "is not one of the caller's security_key credentials",
        ),
    ];
    for (tamper, reason) in cases {
        let challenge = client
            .assertion_challenge("vault", "tok_vault_admin", "security_key")
            .await;
        let mut ceremony = Ceremony::new(challenge, ORIGIN, RP_ID);
        let mut extra = json!({});
        tamper(&mut ceremony, &mut extra);
        let mut body = assertion_body("security_key", &vault_key().assert(&ceremony));
        body["purpose"] = "delete_user".into();
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let resp = client.send(step_up("vault", "tok_vault_admin", body)).await;
        assert_step_up_required(&resp, "delete_user", reason);
    }
    // A flipped signature byte.
    let challenge = client
        .assertion_challenge("vault", "tok_vault_admin", "security_key")
        .await;
    let mut body = assertion_body(
        "security_key",
        &vault_key().assert(&Ceremony::new(challenge, ORIGIN, RP_ID)),
    );
    body["purpose"] = "delete_user".into();
    flip(&mut body, "signature");
    let resp = client.send(step_up("vault", "tok_vault_admin", body)).await;
    assert_step_up_required(&resp, "delete_user", "the signature does not verify");

    // Members that cannot be decoded are ValidationErrors at the member.
    let challenge = client
        .assertion_challenge("vault", "tok_vault_admin", "security_key")
        .await;
    let good = assertion_body(
        "security_key",
        &vault_key().assert(&Ceremony::new(challenge, ORIGIN, RP_ID)),
    );
    for (member, value, reason) in [
        (
            "credentialId",
            "not base64!",
            "credentialId is not base64url",
        ),
        (
            "clientDataJSON",
            "bm90IGpzb24",
            "clientDataJSON is not a JSON object",
        ),
        ("authenticatorData", "AAAA", "at least 37 are needed"),
        ("signature", "***", "signature is not base64url"),
    ] {
        let mut body = good.clone();
        body["purpose"] = "delete_user".into();
        body[member] = value.into();
        let resp = client.send(step_up("vault", "tok_vault_admin", body)).await;
        assert_invalid_at(&resp, &format!("/{member}"), reason);
    }
}

#[tokio::test]
async fn a_signature_counter_that_goes_back_is_refused() {
    let client = Client::new();
    let mut key = client.register("vault", "tok_vault_admin", "passkey").await;
    key.counter = 10;
    for expected in [201, 201] {
        let mut body = client
            .assertion("vault", "tok_vault_admin", "passkey", &mut key)
            .await;
        body["purpose"] = "delete_user".into();
        client
            .send(step_up("vault", "tok_vault_admin", body))
            .await
            .assert_status(expected);
    }
    // 12 was stored; 11 (a cloned authenticator lagging behind) and 12 again are refused.
    for counter in [10, 11] {
        key.counter = counter;
        let mut body = client
            .assertion("vault", "tok_vault_admin", "passkey", &mut key)
            .await;
        body["purpose"] = "delete_user".into();
        let resp = client.send(step_up("vault", "tok_vault_admin", body)).await;
        assert_step_up_required(&resp, "delete_user", "is not greater than the stored 12");
    }
}

#[tokio::test]
async fn factors_are_removed_by_their_user_or_an_admin_after_a_step_up() {
    let client = Client::new();
    let list = |token: &'static str| {
        let client = client.clone();
        async move {
            let resp = client
                .send(Req::get("/v1/workspaces/acme/factors").token(token))
                .await;
            resp.assert_status(200);
            resp.json["factors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let member_factors = list("tok_acme_member").await;
    assert_eq!(member_factors, ["fac_acme_member_1"]);
    let path = "/v1/workspaces/acme/users/usr_acme_member/factors/fac_acme_member_1";
    // Not a member's business.
    client
        .send(
            Req::delete("/v1/workspaces/acme/users/usr_acme_admin/factors/fac_acme_admin_1")
                .token("tok_acme_member"),
        )
        .await
        .assert_error(Code::Forbidden);
    for missing in [
        "/v1/workspaces/acme/users/usr_acme_member/factors/fac_nope",
        "/v1/workspaces/acme/users/usr_nobody/factors/fac_acme_member_1",
        "/v1/workspaces/acme/users/usr_vault_admin/factors/fac_vault_admin_1",
    ] {
        client
            .send(Req::delete(missing).token("tok_acme_admin"))
            .await
            .assert_error(Code::NotFound);
    }
    let resp = client.send(Req::delete(path).token("tok_acme_admin")).await;
    assert_step_up_required(&resp, "remove_factor", "remove_factor");
    let wrong = client
        .step_up("acme", "tok_acme_admin", "delete_user", "totp")
        .await;
    client
        .send(Req::delete(path).token("tok_acme_admin").step_up(&wrong))
        .await
        .assert_error(Code::StepUpRequired);
    let token = client
        .step_up("acme", "tok_acme_admin", "remove_factor", "totp")
        .await;
    client
        .send(Req::delete(path).token("tok_acme_admin").step_up(&token))
        .await
        .assert_status(204);
    assert!(list("tok_acme_member").await.is_empty());
    // Without a factor, the member is back to MFA_REQUIRED.
    client
        .send(Req::get("/v1/workspaces/acme/users").token("tok_acme_member"))
        .await
        .assert_error(Code::MfaRequired);

    // A user removes their own factor.
    let own = list("tok_acme_admin").await;
    let token = client
        .step_up("acme", "tok_acme_admin", "remove_factor", "totp")
        .await;
    client
        .send(
            Req::delete(&format!(
                "/v1/workspaces/acme/users/usr_acme_admin/factors/{}",
                own[0]
            ))
            .token("tok_acme_admin")
            .step_up(&token),
        )
        .await
        .assert_status(204);
    assert!(!list("tok_acme_admin").await.contains(&own[0]));
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
async fn a_totp_step_up_is_not_enough_where_phishing_resistance_is_required() {
    let client = Client::new();
    let put = |token: &str| {
        Req::put("/v1/workspaces/vault/network-policy")
            .token("tok_vault_admin")
            .step_up(token)
            .json(json!({ "allowlist": [] }))
    };
    // The vault admin's seeded secret steps up, but with a factor the policy does not take.
    let code = current_code(&totp::decode_secret(&profile_credential("vault_admin_totp")).unwrap());
    let resp = client
        .send(step_up(
            "vault",
            "tok_vault_admin",
            json!({ "purpose": "change_network_policy", "factor": "totp", "code": code }),
        ))
        .await;
    resp.assert_status(201);
    let totp_token = resp.json["step_up_token"].as_str().unwrap().to_owned();
    let resp = client.send(put(&totp_token)).await;
    resp.assert_error(Code::PhishingResistantRequired);
    assert!(
        resp.challenge().contains("acr_values=\"phrh phr\""),
        "{}",
        resp.challenge()
    );
    // Not spent: the same token gets the same answer, as does the seed's.
    client
        .send(put(&totp_token))
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

/// Sends `bodies` concurrently (behind a barrier) as POST `path` over real loopback HTTP and
/// returns (status, code) per request.
async fn race(
    base: &str,
    path: &str,
    token: &str,
    bodies: Vec<Value>,
) -> Vec<(u16, Option<String>)> {
    let http = reqwest::Client::new();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(bodies.len()));
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (http, url, token, barrier) = (
                http.clone(),
                format!("{base}{path}"),
                token.to_owned(),
                barrier.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                let resp = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = resp.status().as_u16();
                let body: Value = resp.json().await.unwrap();
                (status, body["code"].as_str().map(str::to_owned))
            })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

fn tally(results: &[(u16, Option<String>)]) -> (usize, usize) {
    let won = results.iter().filter(|(s, _)| *s == 201).count();
    let refused = results
        .iter()
        .filter(|(s, c)| *s == 401 && c.as_deref() == Some("STEP_UP_REQUIRED"))
        .count();
    (won, refused)
}

/// 100 concurrent step-ups with one valid TOTP code: exactly one token.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_step_ups_with_one_totp_code_give_exactly_one_token() {
    let running = crate::support::loopback(Config::new(Seed::embedded().unwrap())).await;
    let code = current_code(&acme_admin_secret());
    let body = json!({ "purpose": "delete_user", "factor": "totp", "code": code });
    let results = race(
        &running.base_url(),
        "/v1/workspaces/acme/step-up",
        "tok_acme_admin",
        vec![body; 100],
    )
    .await;
    assert_eq!(tally(&results), (1, 99), "{results:?}");
    running.shutdown().await.unwrap();
}

/// 100 concurrent step-ups with one assertion (one challenge): exactly one token.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_assertions_over_one_challenge_give_exactly_one_token() {
    let running = crate::support::loopback(Config::new(Seed::embedded().unwrap())).await;
    let base = running.base_url();
    let options: Value = reqwest::Client::new()
        .post(format!("{base}/v1/workspaces/vault/step-up/options"))
        .bearer_auth("tok_vault_admin")
        .json(&json!({ "factor": "security_key" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let challenge = b64(options["challenge"].as_str().unwrap());
    let mut body = assertion_body(
        "security_key",
        &vault_key().assert(&Ceremony::new(challenge, ORIGIN, RP_ID)),
    );
    body["purpose"] = "delete_user".into();
    let results = race(
        &base,
        "/v1/workspaces/vault/step-up",
        "tok_vault_admin",
        vec![body; 100],
    )
    .await;
    assert_eq!(tally(&results), (1, 99), "{results:?}");
    running.shutdown().await.unwrap();
}

/// 100 requests race over real loopback HTTP with one step-up token: exactly one succeeds and
/// every other one sees the token spent. The action (replacing the network policy) leaves its
/// resource in place, so no loser can fail for another reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_step_up_token_let_exactly_one_through() {
    let running = crate::support::loopback(Config::new(Seed::embedded().unwrap())).await;
    let base = running.base_url();
    let http = reqwest::Client::new();

    let code = current_code(&acme_admin_secret());
    let step_up: Value = http
        .post(format!("{base}/v1/workspaces/acme/step-up"))
        .bearer_auth("tok_acme_admin")
        .json(&json!({ "purpose": "change_network_policy", "factor": "totp", "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = step_up["step_up_token"].as_str().unwrap().to_owned();

    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(100));
    let tasks: Vec<_> = (0..100)
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
                let body: Value = resp.json().await.unwrap();
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
    assert_eq!((ok, reused), (1, 99));
    running.shutdown().await.unwrap();
}

/// The renamed world's material works there and only there: its TOTP secret, its security key
/// under its own RP id, and its attestation leaf (the default world's leaf chains to a root it
/// does not trust).
#[tokio::test]
async fn the_renamed_world_has_its_own_secrets_keys_and_relying_party() {
    let seed = Seed::parse(include_str!("../../../../fixtures/seeds/renamed.toml")).unwrap();
    let mut config = Config::new(seed);
    config.public_url = Some(crate::support::BASE.to_owned());
    let client = Client::over(mock_server::AppState::new(config).unwrap());
    let text = include_str!("../../../../fixtures/profiles/renamed.toml");
    let profile: toml::Value = toml::from_str(text).unwrap();
    let cred = |name: &str| {
        profile["credentials"][name]["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (rp_id, origin) = ("login.globex.test", "https://login.globex.test");

    let code = current_code(&totp::decode_secret(&cred("acme_admin_totp")).unwrap());
    client
        .send(step_up(
            "globex",
            "key-globex_admin",
            json!({ "purpose": "delete_user", "factor": "totp", "code": code }),
        ))
        .await
        .assert_status(201);

    let mut key = SoftAuthenticator::from_pkcs8(
        &b64(&cred("vault_admin_key")),
        &b64(&cred("vault_admin_key_id")),
        YUBIKEY_5.parse().unwrap(),
    )
    .unwrap();
    for (claimed_rp, status) in [(RP_ID, 401), (rp_id, 201)] {
        let challenge = client
            .assertion_challenge("bunker", "key-bunker_admin", "security_key")
            .await;
        let mut body = assertion_body(
            "security_key",
            &key.assert(&Ceremony::new(challenge, origin, claimed_rp)),
        );
        body["purpose"] = "delete_user".into();
        client
            .send(step_up("bunker", "key-bunker_admin", body))
            .await
            .assert_status(status);
    }

    let renamed_x5c = Attest::X5c {
        leaf_key: b64(&cred("attestation_key")),
        chain: vec![b64(&cred("attestation_cert"))],
    };
    for (attest, status) in [(yubikey_x5c(), 403), (renamed_x5c, 201)] {
        let challenge = client
            .registration_challenge("globex", "key-globex_newbie", "security_key")
            .await;
        let authenticator =
            SoftAuthenticator::generate(YUBIKEY_5.parse().unwrap(), &rand_bytes::<16>());
        let registration =
            authenticator.register(&Ceremony::new(challenge, origin, rp_id), &attest);
        client
            .send(enrol(
                "globex",
                "key-globex_newbie",
                registration_body("security_key", &registration),
            ))
            .await
            .assert_status(status);
    }
}
