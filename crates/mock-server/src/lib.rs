//! The mock platform: an axum app over in-memory state that produces every
//! documented error because of what a request really does.

pub mod network;
pub mod scim;
pub mod webauthn;
pub mod webhooks;
