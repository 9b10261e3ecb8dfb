//! The handlers, one module per area of `docs/api.md`.
//!
//! Each handler is a short list of checks in `catalog::PRECEDENCE` order (see
//! [`crate::guard`] for the full table) followed by the action. Response bodies are typed
//! structs whose shapes `schemas/openapi.json` documents.

pub mod admin;
pub mod discovery;
pub mod factors;
pub mod network_policy;
pub mod sessions;
pub mod step_up;
pub mod users;
