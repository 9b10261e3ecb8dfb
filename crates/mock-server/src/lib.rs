//! The mock platform: an axum app over in-memory state that produces every
//! documented error because of what a request really does.
//!
//! Start it with [`serve()`] on a bound listener or [`spawn()`] in the background; build the
//! router alone with [`app()`] (tests drive it with `tower::ServiceExt::oneshot`). The pieces
//! other routers reuse are public: [`AppState`], [`ApiError`], the [`auth::Caller`]
//! extractor, [`guard::check_workspace_request`], [`api::step_up::require_step_up`] and
//! [`extract::JsonBody`]. `ARCHITECTURE.md` has the map.

pub mod api;
pub mod app;
pub mod auth;
pub mod conn;
pub mod context;
pub mod error;
pub mod expiring;
pub mod extract;
pub mod guard;
pub mod model;
pub mod names;
pub mod network;
pub mod openapi;
pub mod ratelimit;
pub mod routes;
pub mod scim;
pub mod seed;
pub mod serve;
pub mod state;
pub mod stepup;
pub mod store;
pub mod webauthn;
pub mod webhooks;

pub use app::app;
pub use conn::Connections;
pub use error::ApiError;
pub use serve::{Running, serve, serve_state, serve_state_with, spawn};
pub use state::{AppState, Config, Error};
