//! The model: what the hand-written files say, validated. Scenarios
//! ([`scenario`]), the profile of a target ([`profile`]), the `{{…}}`
//! templates inside both ([`template`]), the snapshot normalisation a profile
//! asks for ([`normalize`]) and the messages that help with an unknown code
//! ([`diagnostics`]).
//!
//! Architecture invariant: nothing here sends a request or reads the
//! environment; every file error is a `Diagnostic` with file, line and
//! column, never a panic.

pub(crate) mod diagnostics;
pub(crate) mod normalize;
pub(crate) mod profile;
pub(crate) mod scenario;
pub(crate) mod template;
