//! The handlers, one module per area of `docs/api.md`.
//!
//! Each handler is a short list of checks in `catalog::PRECEDENCE` order (see
//! [`crate::guard`] for the full table) followed by the action. Response bodies are typed
//! structs whose shapes `schemas/openapi.json` documents.

pub(crate) mod admin;
pub(crate) mod discovery;
pub(crate) mod factors;
pub(crate) mod harness;
pub(crate) mod network_policy;
pub(crate) mod sessions;
pub(crate) mod step_up;
pub(crate) mod users;
