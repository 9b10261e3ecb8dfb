//! The client half of the platform's MFA ceremonies: TOTP codes
//! ([`totp`]) and a software WebAuthn authenticator ([`authenticator`]).
//!
//! A leaf module: it imports nothing else of the runner, so the template
//! layer (`{{totp(...)}}`), the executor (`webauthn` and `totp` steps) and
//! `conformance-runner authenticator` ([`crate::cli::authenticator`]) use it.

pub(crate) mod authenticator;
pub(crate) mod totp;
