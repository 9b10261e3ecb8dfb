//! What each fixture and credential must be on a target, in words: the one
//! table `requirements` prints from, so a staging owner can prepare the
//! world the scenarios count on without reading the mock's seed.
//!
//! A row's text may name other values as `{{fixture.NAME}}` or
//! `{{credential.NAME}}`; [`render`] shows a fixture with the profile's value
//! and a credential by name only. A test holds the table complete: every
//! fixture and credential the embedded suite uses under the mock profile has
//! a row.

use std::collections::BTreeMap;

/// Which kind of profile value a row describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// `[fixtures]`.
    Fixture,
    /// `[credentials]`.
    Credential,
}

/// What one fixture or credential must be on the target.
pub(crate) struct Policy {
    pub(crate) kind: Kind,
    pub(crate) name: &'static str,
    pub(crate) text: &'static str,
    /// For a credential, the environment variable `init` reads it from:
    /// named after its role on the target, not after the mock's names.
    pub(crate) env: Option<&'static str>,
}

const fn fixture(name: &'static str, text: &'static str) -> Policy {
    Policy {
        kind: Kind::Fixture,
        name,
        text,
        env: None,
    }
}

const fn credential(name: &'static str, env: &'static str, text: &'static str) -> Policy {
    Policy {
        kind: Kind::Credential,
        name,
        text,
        env: Some(env),
    }
}

/// The table, in the order a staging owner prepares things: workspaces,
/// users, world facts, credentials.
pub(crate) const POLICIES: &[Policy] = &[
    // Workspaces.
    fixture(
        "acme",
        "an active workspace: password and SSO sign-in; MFA required of every member; step-up with any factor (TOTP will do); a WebAuthn attestation allowlist holding {{fixture.allowed_aaguid}} and none of {{fixture.blocked_aaguid}}, {{fixture.other_model_aaguid}} or {{fixture.synced_passkey_aaguid}}",
    ),
    fixture(
        "pwonly",
        "an active workspace with password sign-in only (SSO refused: SSO_NOT_ALLOWED); MFA not required; webhooks allowed (the circuit scenarios register endpoints here)",
    ),
    fixture(
        "dormant",
        "a suspended workspace: every request to it, SCIM included, is WORKSPACE_INACTIVE",
    ),
    fixture(
        "fortress",
        "an active workspace with password and SSO sign-in and an IP allowlist that contains {{fixture.fortress_allowed_ipv4}} and {{fixture.fortress_allowed_ipv6}} and not {{fixture.fortress_blocked_ipv4}}, {{fixture.fortress_blocked_ipv6}} nor the address the runner connects from; proxies the target trusts are believed (X-Forwarded-For, Forwarded), any other peer is not",
    ),
    fixture(
        "vault",
        "an active workspace: MFA required; step-up only with a phishing-resistant factor (a security key), so a step-up done with TOTP is PHISHING_RESISTANT_REQUIRED",
    ),
    fixture(
        "throttled",
        "an active workspace with password sign-in whose session tokens may send {{fixture.throttled_session_quota}} requests per window, the next one RateLimited with Retry-After and a RateLimit-Policy naming q={{fixture.throttled_session_quota}}; the window lasts long enough for a scenario to exceed it (60 s in the mock)",
    ),
    fixture(
        "acme_domain",
        "an email domain acme accepts for new users: scenarios invite `<run id>-<n>@` it and delete them",
    ),
    fixture(
        "pwonly_domain",
        "an email domain pwonly accepts for new users",
    ),
    fixture(
        "dormant_domain",
        "an email domain of dormant (never reached: the workspace is suspended)",
    ),
    fixture(
        "fortress_domain",
        "an email domain of fortress (never reached from outside its allowlist)",
    ),
    fixture(
        "throttled_domain",
        "an email domain throttled accepts for new users",
    ),
    // Users.
    fixture(
        "acme_admin_id",
        "the id of acme's admin: role admin, a TOTP factor and a security key ({{credential.acme_admin_key_id}}), signs in with {{credential.password}}",
    ),
    fixture(
        "acme_admin_email",
        "the email of acme's admin ({{fixture.acme_admin_id}})",
    ),
    fixture(
        "acme_member_id",
        "the id of an acme member (role member, not admin) with a TOTP factor",
    ),
    fixture(
        "acme_member_email",
        "the email of that member ({{fixture.acme_member_id}})",
    ),
    fixture(
        "acme_newbie_email",
        "an acme member with no factor enrolled, so every request needing MFA is MFA_REQUIRED; no scenario leaves it a factor",
    ),
    fixture(
        "acme_disabled_email",
        "an acme member disabled by the identity provider (sign-in with {{credential.password}} or SSO is ACCOUNT_DISABLED)",
    ),
    fixture(
        "acme_newbie_id",
        "the id of acme's member with no factor ({{fixture.acme_newbie_email}})",
    ),
    fixture(
        "vault_admin_id",
        "the id of vault's admin, who holds a TOTP factor and a security key of model {{fixture.allowed_aaguid}}",
    ),
    fixture(
        "pwonly_admin_id",
        "the id of pwonly's admin (role admin, no factor)",
    ),
    fixture(
        "pwonly_admin_email",
        "the email of pwonly's admin, who signs in with {{credential.password}}",
    ),
    fixture(
        "dormant_admin_email",
        "the email of dormant's admin, who signs in with {{credential.password}}",
    ),
    fixture(
        "fortress_admin_email",
        "the email of fortress's admin, who signs in with {{credential.password}}",
    ),
    fixture(
        "throttled_admin_email",
        "the email of throttled's admin, who signs in with {{credential.password}} (no MFA)",
    ),
    // World facts.
    fixture(
        "allowed_aaguid",
        "the one authenticator model (AAGUID) on acme's attestation allowlist",
    ),
    fixture(
        "fortress_allowed_ipv4",
        "an IPv4 address inside fortress's IP allowlist",
    ),
    fixture(
        "fortress_blocked_ipv4",
        "an IPv4 address outside fortress's IP allowlist",
    ),
    fixture(
        "fortress_allowed_ipv6",
        "an IPv6 address inside fortress's IP allowlist",
    ),
    fixture(
        "fortress_blocked_ipv6",
        "an IPv6 address outside fortress's IP allowlist",
    ),
    fixture(
        "blocked_aaguid",
        "an authenticator model (AAGUID) that is not on acme's attestation allowlist",
    ),
    fixture(
        "other_model_aaguid",
        "another security-key model (AAGUID), not on acme's attestation allowlist (where the staging allows a whole family, a model outside it)",
    ),
    fixture(
        "synced_passkey_aaguid",
        "the AAGUID a synced passkey sends (all zeros), not on acme's attestation allowlist",
    ),
    fixture(
        "spent_step_up_purpose",
        "the purpose {{credential.spent_step_up}} was issued for (a sensitive action like change_network_policy); scenarios present that token for another purpose too",
    ),
    fixture(
        "throttled_session_quota",
        "how many requests a fresh session token of throttled may send in one window (1 to 100)",
    ),
    fixture(
        "webhook_circuit_threshold",
        "how many consecutive failed deliveries open a webhook endpoint's circuit (1 to 100); while open, test sends are CIRCUIT_OPEN with Retry-After",
    ),
    // Credentials.
    credential(
        "acme_admin",
        "CONFORMANCE_ADMIN_TOKEN",
        "a long-lived API token of acme's admin ({{fixture.acme_admin_email}})",
    ),
    credential(
        "acme_member",
        "CONFORMANCE_MEMBER_TOKEN",
        "a long-lived API token of acme's member ({{fixture.acme_member_email}})",
    ),
    credential(
        "acme_newbie",
        "CONFORMANCE_NO_FACTOR_MEMBER_TOKEN",
        "a long-lived API token of acme's member without a factor ({{fixture.acme_newbie_email}})",
    ),
    credential(
        "acme_expired",
        "CONFORMANCE_EXPIRED_ADMIN_TOKEN",
        "an expired API token of acme's admin (Unauthorized, invalid_token)",
    ),
    credential(
        "pwonly_admin",
        "CONFORMANCE_PASSWORD_ONLY_ADMIN_TOKEN",
        "a long-lived API token of pwonly's admin",
    ),
    credential(
        "dormant_admin",
        "CONFORMANCE_SUSPENDED_ADMIN_TOKEN",
        "a long-lived API token of dormant's admin",
    ),
    credential(
        "fortress_admin",
        "CONFORMANCE_IP_ALLOWLIST_ADMIN_TOKEN",
        "a long-lived API token of fortress's admin",
    ),
    credential(
        "vault_admin",
        "CONFORMANCE_PHISHING_RESISTANT_ADMIN_TOKEN",
        "a long-lived API token of vault's admin, who holds a TOTP factor and a security key of model {{fixture.allowed_aaguid}}",
    ),
    credential(
        "password",
        "CONFORMANCE_USER_PASSWORD",
        "the password of every user the scenarios sign in as (the admins of acme, pwonly, dormant, fortress and throttled, and acme's disabled member)",
    ),
    credential(
        "spent_step_up",
        "CONFORMANCE_SPENT_STEP_UP_TOKEN",
        "a step-up token of acme's admin for {{fixture.spent_step_up_purpose}}, already used once (STEP_UP_REUSED)",
    ),
    credential(
        "vault_totp_step_up",
        "CONFORMANCE_TOTP_STEP_UP_TOKEN",
        "a step-up token of vault's admin for change_network_policy, done with TOTP and never used",
    ),
    credential(
        "acme_admin_totp",
        "CONFORMANCE_ADMIN_TOTP_SECRET",
        "the TOTP secret (base32) of the factor of acme's admin",
    ),
    credential(
        "acme_member_totp",
        "CONFORMANCE_MEMBER_TOTP_SECRET",
        "the TOTP secret (base32) of the factor of acme's member",
    ),
    credential(
        "acme_admin_key",
        "CONFORMANCE_ADMIN_SECURITY_KEY",
        "the private key (PKCS#8, base64url) of a security key registered to acme's admin, whose credential id is {{credential.acme_admin_key_id}}",
    ),
    credential(
        "acme_admin_key_id",
        "CONFORMANCE_ADMIN_SECURITY_KEY_ID",
        "the credential id (base64url) of that security key of acme's admin",
    ),
    credential(
        "vault_admin_totp",
        "CONFORMANCE_PHISHING_RESISTANT_ADMIN_TOTP_SECRET",
        "the TOTP secret (base32) of the factor of vault's admin",
    ),
    credential(
        "vault_admin_key",
        "CONFORMANCE_PHISHING_RESISTANT_ADMIN_SECURITY_KEY",
        "the private key (PKCS#8, base64url) of the security key of vault's admin, whose credential id is {{credential.vault_admin_key_id}}",
    ),
    credential(
        "vault_admin_key_id",
        "CONFORMANCE_PHISHING_RESISTANT_ADMIN_SECURITY_KEY_ID",
        "the credential id (base64url) of that security key of vault's admin",
    ),
    credential(
        "attestation_key",
        "CONFORMANCE_ATTESTATION_KEY",
        "the private key (PKCS#8, base64url) of an attestation certificate for model {{fixture.allowed_aaguid}} that the target's attestation trust accepts",
    ),
    credential(
        "attestation_cert",
        "CONFORMANCE_ATTESTATION_CERT",
        "that attestation certificate (DER, base64url), chaining to a root the target trusts for {{fixture.allowed_aaguid}}",
    ),
    credential(
        "untrusted_attestation_key",
        "CONFORMANCE_UNTRUSTED_ATTESTATION_KEY",
        "the private key (PKCS#8, base64url) of an attestation certificate from a vendor no workspace trusts",
    ),
    credential(
        "untrusted_attestation_cert",
        "CONFORMANCE_UNTRUSTED_ATTESTATION_CERT",
        "that certificate (DER, base64url), chaining to no root the target trusts",
    ),
    credential(
        "acme_scim",
        "CONFORMANCE_SCIM_TOKEN",
        "a SCIM bearer token of acme",
    ),
    credential(
        "pwonly_scim",
        "CONFORMANCE_PASSWORD_ONLY_SCIM_TOKEN",
        "a SCIM bearer token of pwonly",
    ),
    credential(
        "dormant_scim",
        "CONFORMANCE_SUSPENDED_SCIM_TOKEN",
        "a SCIM bearer token of dormant (every SCIM call WORKSPACE_INACTIVE)",
    ),
    credential(
        "fortress_scim",
        "CONFORMANCE_IP_ALLOWLIST_SCIM_TOKEN",
        "a SCIM bearer token of fortress (IP_BLOCKED from outside its allowlist)",
    ),
];

/// The row for `name`, if the table has one.
pub(crate) fn policy(kind: Kind, name: &str) -> Option<&'static Policy> {
    POLICIES.iter().find(|p| p.kind == kind && p.name == name)
}

/// `text` with each `{{fixture.NAME}}` shown as `` `NAME` ("value") `` (or
/// `(not in the profile)`) and each `{{credential.NAME}}` as `` credential
/// `NAME` ``: a credential's value is never printed.
pub(crate) fn render(text: &str, fixtures: &BTreeMap<String, String>) -> String {
    each_var(text, |var| match var.split_once('.') {
        Some(("fixture", name)) => Some(match fixtures.get(name) {
            Some(value) => format!("`{name}` ({value:?})"),
            None => format!("`{name}` (not in the profile)"),
        }),
        Some(("credential", name)) => Some(format!("credential `{name}`")),
        _ => None,
    })
}

/// `text` with each `{{kind.NAME}}` shown as `` `NAME` `` (a profile's
/// comments, before any value is known).
pub(crate) fn render_names(text: &str) -> String {
    each_var(text, |var| {
        Some(match var.split_once('.') {
            Some(("credential", name)) => format!("credential `{name}`"),
            Some((_, name)) => format!("`{name}`"),
            None => var.to_owned(),
        })
    })
}

/// `text` with each `{{VAR}}` replaced by what `show` makes of the trimmed
/// `VAR`, or left as it is where `show` gives `None`; an unclosed `{{` ends
/// the replacing.
fn each_var(text: &str, show: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let whole = &rest[start..start + len + 2];
        match show(rest[start + 2..start + len].trim()) {
            Some(shown) => out.push_str(&shown),
            None => out.push_str(whole),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixture_shows_its_value_a_credential_only_its_name() {
        let fixtures =
            BTreeMap::from([("fortress_allowed_ipv4".to_owned(), "192.0.2.1".to_owned())]);
        assert_eq!(
            render(
                "inside {{fixture.fortress_allowed_ipv4}}, not {{fixture.fortress_blocked_ipv4}}; {{credential.password}}",
                &fixtures
            ),
            "inside `fortress_allowed_ipv4` (\"192.0.2.1\"), not `fortress_blocked_ipv4` (not in the profile); credential `password`"
        );
    }

    #[test]
    fn every_name_has_one_row_and_every_reference_names_a_row() {
        let mut seen = std::collections::BTreeSet::new();
        for p in POLICIES {
            assert!(seen.insert((p.kind, p.name)), "{} twice", p.name);
        }
        for p in POLICIES {
            let mut rest = p.text;
            while let Some(start) = rest.find("{{") {
                let end = rest[start..].find("}}").expect("closed") + start;
                let (kind, name) = rest[start + 2..end].split_once('.').expect("kind.name");
                let kind = if kind == "fixture" {
                    Kind::Fixture
                } else {
                    Kind::Credential
                };
                assert!(
                    policy(kind, name).is_some(),
                    "{}: {name} has no row",
                    p.name
                );
                rest = &rest[end + 2..];
            }
        }
    }
}
