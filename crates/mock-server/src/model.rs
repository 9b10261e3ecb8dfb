//! The small vocabularies the mock's state, seed and API share: roles, factor types,
//! step-up purposes, workspace status and policies.
//!
//! They are plain enums with their wire names given once here (serde and `as_str` agree), so
//! the seed file, the request schemas in `schemas/openapi.json` and the responses spell them
//! the same way.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a workspace user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Role {
    /// Manages users, the network policy and webhooks.
    Admin,
    /// Reads; cannot change workspace settings.
    Member,
}

/// A second factor a user can enrol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FactorType {
    /// An authenticator app (RFC 6238 one-time codes).
    Totp,
    /// A WebAuthn platform or synced credential.
    Passkey,
    /// A WebAuthn roaming hardware key.
    SecurityKey,
}

impl FactorType {
    /// The factor's `type` in request and response bodies (`totp`,
    /// `passkey`, `security_key`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FactorType::Totp => "totp",
            FactorType::Passkey => "passkey",
            FactorType::SecurityKey => "security_key",
        }
    }

    /// Whether the factor is bound to the origin (NIST SP 800-63B AAL3 sense): WebAuthn
    /// credentials are, one-time codes are not.
    pub(crate) fn is_phishing_resistant(self) -> bool {
        matches!(self, FactorType::Passkey | FactorType::SecurityKey)
    }

    /// Whether enrolment carries a WebAuthn attestation object.
    pub(crate) fn is_webauthn(self) -> bool {
        self.is_phishing_resistant()
    }
}

impl fmt::Display for FactorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The ceremony a sensitive action needs; a step-up token is issued for exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Purpose {
    /// `DELETE /v1/workspaces/{workspace}/users/{user_id}`.
    DeleteUser,
    /// `POST /v1/workspaces/{workspace}/webhooks/{id}/rotate-secret`.
    RotateWebhookSecret,
    /// `PUT /v1/workspaces/{workspace}/network-policy`.
    ChangeNetworkPolicy,
    /// `DELETE /v1/workspaces/{workspace}/users/{user_id}/factors/{factor_id}`.
    RemoveFactor,
}

impl Purpose {
    /// The wire name, as sent in the problem's `purpose` member.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Purpose::DeleteUser => "delete_user",
            Purpose::RotateWebhookSecret => "rotate_webhook_secret",
            Purpose::ChangeNetworkPolicy => "change_network_policy",
            Purpose::RemoveFactor => "remove_factor",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a workspace can be used at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WorkspaceStatus {
    /// In use.
    #[default]
    Active,
    /// Temporarily blocked, e.g. for an unpaid invoice.
    Suspended,
    /// Closed for good.
    Cancelled,
}

/// How a user proves who they are at sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SignInMethod {
    /// Email and password.
    Password,
    /// The workspace's identity provider.
    Sso,
}

/// Which factors a step-up may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StepUpPolicy {
    /// Any enrolled factor.
    #[default]
    Any,
    /// Only passkeys and hardware keys (PHISHING_RESISTANT_REQUIRED otherwise).
    PhishingResistant,
}

/// Whether a WebAuthn ceremony must verify the user (WebAuthn `UserVerificationRequirement`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum UserVerification {
    /// The UV flag must be set.
    Required,
    /// Asked for, not checked: the UP flag is enough.
    #[default]
    Preferred,
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
pub(crate) fn is_b64token(token: impl AsRef<[u8]>) -> bool {
    let token = token.as_ref();
    let body = &token[..token.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1)];
    !body.is_empty()
        && body.iter().all(|&b| {
            matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use super::is_b64token;

    #[test]
    fn b64tokens_are_rfc_6750_b64tokens() {
        for token in ["tok_acme_admin", "A-Z.a_z~0+9/", "abc==", "x="] {
            assert!(is_b64token(token), "{token:?}");
        }
        for token in [
            "", "==", "a b", "a=b", "tok,1", "tök", "a\"", "a\\b", "a:b", "a%20",
        ] {
            assert!(!is_b64token(token), "{token:?}");
        }
    }
}
