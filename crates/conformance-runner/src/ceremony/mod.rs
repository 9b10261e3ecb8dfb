//! The client half of the platform's MFA ceremonies: TOTP codes
//! ([`totp`]) and a software WebAuthn authenticator ([`authenticator`]).
//!
//! A leaf module: it imports nothing else of the runner, so the template
//! layer (`{{totp(...)}}`) and the executor (`webauthn` steps) both use it.

pub(crate) mod authenticator;
pub mod cli;
pub(crate) mod totp;
