//! The catalog itself: every documented category and code, declared once.
//!
//! This is the one place a code is written down. The `Code` enum, the
//! reference pages, the JSON Schemas, the mock's responses and the coverage
//! check are all derived from these tables. Text in `meaning` and `fix` is the
//! user's own wording from `shared/seed/error-codes.md`; `title` is ours (RFC
//! 9457 wants a short title that is the same for every occurrence).

use crate::{Category, Challenge, CodeInfo, Envelope, Extra};

macro_rules! codes {
    ($(
        $variant:ident {
            status: $status:literal,
            code: $code:literal,
            anchor: $anchor:literal,
            category: $category:ident,
            title: $title:literal,
            meaning: $meaning:literal,
            fix: $fix:literal,
            envelope: $envelope:ident,
            challenge: $challenge:expr,
            scim_type: $scim_type:expr,
            extra: [$($extra:ident),*],
        }
    )*) => {
        /// A documented error code.
        ///
        /// Variants are in documented order; `Code::ALL` iterates them in that order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(
                #[doc = $meaning]
                $variant,
            )*
        }

        impl Code {
            /// Every documented code, in the order of the reference page.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];
        }

        pub(crate) static INFOS: &[CodeInfo] = &[$(
            CodeInfo {
                code: Code::$variant,
                status: $status,
                name: $code,
                anchor: $anchor,
                category: Category::$category,
                title: $title,
                meaning: $meaning,
                fix: $fix,
                envelope: Envelope::$envelope,
                challenge: $challenge,
                scim_type: $scim_type,
                extra: &[$(Extra::$extra),*],
            },
        )*];
    };
}

codes! {
    NotProvisioned {
        status: 401,
        code: "NOT_PROVISIONED",
        anchor: "not-provisioned",
        category: Authentication,
        title: "Not provisioned",
        meaning: "The caller's email is not provisioned as a workspace user.",
        fix: "Have your workspace administrator invite the email address before signing in.",
        envelope: Problem,
        challenge: Some(Challenge::None),
        scim_type: None,
        extra: [],
    }
    SsoNotAllowed {
        status: 401,
        code: "SSO_NOT_ALLOWED",
        anchor: "sso-not-allowed",
        category: Authentication,
        title: "SSO not allowed",
        meaning: "The workspace is configured for password-only sign-in; SSO is blocked.",
        fix: "Sign in with email and password, or ask an administrator to enable SSO on the workspace.",
        envelope: Problem,
        challenge: Some(Challenge::None),
        scim_type: None,
        extra: [],
    }
    AccountDisabled {
        status: 401,
        code: "ACCOUNT_DISABLED",
        anchor: "account-disabled",
        category: Authentication,
        title: "Account disabled",
        meaning: "The identity provider has the account marked as disabled.",
        fix: "Have your IT administrator re-enable the account, then retry.",
        envelope: Problem,
        challenge: Some(Challenge::None),
        scim_type: None,
        extra: [],
    }
    WorkspaceInactive {
        status: 401,
        code: "WORKSPACE_INACTIVE",
        anchor: "workspace-inactive",
        category: Authentication,
        title: "Workspace inactive",
        meaning: "The workspace itself is suspended or cancelled.",
        fix: "Contact your account executive or the workspace owner.",
        envelope: Problem,
        challenge: Some(Challenge::None),
        scim_type: None,
        extra: [],
    }
    MfaRequired {
        status: 401,
        code: "MFA_REQUIRED",
        anchor: "mfa-required",
        category: MfaStepUp,
        title: "MFA enrolment required",
        meaning: "The workspace requires a second factor and the caller hasn't enrolled one yet.",
        fix: "Open /account/security and enrol an authenticator app, hardware key, or passkey.",
        envelope: Problem,
        challenge: Some(Challenge::Error("insufficient_user_authentication")),
        scim_type: None,
        extra: [],
    }
    StepUpRequired {
        status: 401,
        code: "STEP_UP_REQUIRED",
        anchor: "step-up-required",
        category: MfaStepUp,
        title: "Step-up required",
        meaning: "The action needs a fresh proof of MFA. The response carries a `purpose` field that names the ceremony.",
        fix: "Use the step-up modal in the product, or call the matching step-up endpoint and re-issue the request.",
        envelope: Problem,
        challenge: Some(Challenge::Error("insufficient_user_authentication")),
        scim_type: None,
        extra: [Purpose],
    }
    StepUpReused {
        status: 401,
        code: "STEP_UP_REUSED",
        anchor: "step-up-reused",
        category: MfaStepUp,
        title: "Step-up token reused",
        meaning: "The step-up token has already been spent.",
        fix: "Request a fresh step-up token before retrying.",
        envelope: Problem,
        challenge: Some(Challenge::Error("invalid_token")),
        scim_type: None,
        extra: [],
    }
    PhishingResistantRequired {
        status: 401,
        code: "PHISHING_RESISTANT_REQUIRED",
        anchor: "phishing-resistant-required",
        category: MfaStepUp,
        title: "Phishing-resistant factor required",
        meaning: "The workspace policy requires a phishing-resistant factor (passkey or hardware key) for this action.",
        fix: "Complete the step-up with a passkey or hardware authenticator instead of a TOTP app.",
        envelope: Problem,
        challenge: Some(Challenge::Error("insufficient_user_authentication")),
        scim_type: None,
        extra: [],
    }
    InvalidFilter {
        status: 400,
        code: "INVALID_FILTER",
        anchor: "invalid-filter",
        category: Scim,
        title: "Invalid SCIM filter",
        meaning: "The SCIM filter expression couldn't be parsed.",
        fix: "Check the filter syntax against the SCIM 2.0 specification, then retry.",
        envelope: Scim,
        challenge: None,
        scim_type: Some("invalidFilter"),
        extra: [],
    }
    UserNotFound {
        status: 404,
        code: "USER_NOT_FOUND",
        anchor: "user-not-found",
        category: Scim,
        title: "SCIM user not found",
        meaning: "The SCIM user id doesn't exist.",
        fix: "Resync the source-of-truth before retrying.",
        envelope: Scim,
        challenge: None,
        scim_type: None,
        extra: [],
    }
    MutabilityViolation {
        status: 400,
        code: "MUTABILITY_VIOLATION",
        anchor: "mutability-violation",
        category: Scim,
        title: "Read-only attribute",
        meaning: "A request tried to update a read-only attribute.",
        fix: "Drop the read-only field from the PATCH/PUT body.",
        envelope: Scim,
        challenge: None,
        scim_type: Some("mutability"),
        extra: [],
    }
    CircuitOpen {
        status: 503,
        code: "CIRCUIT_OPEN",
        anchor: "circuit-open",
        category: Webhooks,
        title: "Webhook circuit open",
        meaning: "The webhook endpoint has tripped the circuit breaker after consecutive failures.",
        fix: "Fix the receiver, then enable the endpoint to reset the circuit.",
        envelope: Problem,
        challenge: None,
        scim_type: None,
        extra: [RetryAfter],
    }
    SignatureFailed {
        status: 400,
        code: "SIGNATURE_FAILED",
        anchor: "signature-failed",
        category: Webhooks,
        title: "Webhook signature not verified",
        meaning: "The HMAC signature on a delivery couldn't be verified by your receiver during a test send.",
        fix: "Recompute the signature using the documented HMAC scheme; check the secret has not been rotated.",
        envelope: Problem,
        challenge: None,
        scim_type: None,
        extra: [],
    }
    IpBlocked {
        status: 403,
        code: "IP_BLOCKED",
        anchor: "ip-blocked",
        category: NetworkPolicy,
        title: "Source IP blocked",
        meaning: "The source IP is denied by the workspace network policy.",
        fix: "Add the IP to the workspace allowlist, or move the request to a permitted network range.",
        envelope: Problem,
        challenge: None,
        scim_type: None,
        extra: [],
    }
    AttestationBlocked {
        status: 403,
        code: "ATTESTATION_BLOCKED",
        anchor: "attestation-blocked",
        category: Attestation,
        title: "Authenticator attestation blocked",
        meaning: "The authenticator's attestation doesn't match the workspace's allowlist.",
        fix: "Enroll a device whose attestation is permitted by the workspace policy, or ask an administrator to relax the allowlist.",
        envelope: Problem,
        challenge: None,
        scim_type: None,
        extra: [],
    }
    Unauthorized {
        status: 401,
        code: "Unauthorized",
        anchor: "unauthorized",
        category: Generic,
        title: "Unauthorized",
        meaning: "The caller is not authenticated.",
        fix: "Sign in via the UI or attach a valid bearer token to the request.",
        envelope: Problem,
        challenge: Some(Challenge::Any),
        scim_type: None,
        extra: [],
    }
    Forbidden {
        status: 403,
        code: "Forbidden",
        anchor: "forbidden",
        category: Generic,
        title: "Forbidden",
        meaning: "The caller is authenticated but lacks permission for this resource.",
        fix: "Have an administrator grant the required role, then retry.",
        envelope: Problem,
        challenge: None,
        scim_type: None,
        extra: [],
    }
    NotFound {
        status: 404,
        code: "NotFound",
        anchor: "not-found",
        category: Generic,
        title: "Not found",
        meaning: "The requested resource doesn't exist or is invisible to the caller.",
        fix: "Check the URL or resource id. The response intentionally hides the difference between \"doesn't exist\" and \"hidden by access control\".",
        envelope: Problem,
        challenge: None,
        scim_type: None,
        extra: [],
    }
    ValidationError {
        status: 400,
        code: "ValidationError",
        anchor: "validation-error",
        category: Generic,
        title: "Validation failed",
        meaning: "Request body or parameters failed schema validation.",
        fix: "Fix the offending field listed in the response body, then retry.",
        envelope: Problem,
        challenge: None,
        scim_type: None,
        extra: [Errors],
    }
    RateLimited {
        status: 429,
        code: "RateLimited",
        anchor: "rate-limited",
        category: Generic,
        title: "Rate limited",
        meaning: "Too many requests in the current window.",
        fix: "Honour the Retry-After response header and back off.",
        envelope: Problem,
        challenge: None,
        scim_type: None,
        extra: [RetryAfter],
    }
}

/// The order in which the platform reports errors when several apply.
///
/// RFC 9457 asks a server to send the most urgent problem when several
/// apply; this is that order, first wins. The network policy is checked
/// before anything else (an unknown network learns nothing), rate limits
/// before any work, then who the caller is, what they may do, whether the
/// request is well-formed, and last the proofs a sensitive action needs, so
/// nobody performs a ceremony for a request that would fail anyway.
pub const PRECEDENCE: &[Code] = &[
    Code::IpBlocked,
    Code::RateLimited,
    Code::WorkspaceInactive,
    Code::NotProvisioned,
    Code::AccountDisabled,
    Code::SsoNotAllowed,
    Code::Unauthorized,
    Code::MfaRequired,
    Code::Forbidden,
    Code::NotFound,
    Code::UserNotFound,
    Code::ValidationError,
    Code::InvalidFilter,
    Code::MutabilityViolation,
    Code::StepUpReused,
    Code::StepUpRequired,
    Code::PhishingResistantRequired,
    Code::AttestationBlocked,
    Code::CircuitOpen,
    Code::SignatureFailed,
];

/// The catalog's version, [semver](https://semver.org/): the published contract's version.
///
/// Bump the major number for a breaking change (a code removed or renamed, a status, anchor,
/// envelope, challenge or `scimType` changed, a member or header added, made optional or
/// removed, precedence changed between two codes), the minor number for an additive one (a new
/// code, an optional member, an anchor alias) and the patch number for wording. `cargo xtask
/// catalog-diff` classifies the changes and refuses breaking ones without a new major number.
pub const VERSION: &str = "1.0.0";

/// Old anchors the reference page still carries, each pointing at the code's row.
///
/// When an anchor changes, add the old one here: links already shared in bug reports keep
/// opening the right row, and the compatibility check accepts the change as non-breaking. An
/// alias is never removed (that breaks those links).
pub const ANCHOR_ALIASES: &[(&str, Code)] = &[];
