//! The mock platform: an axum app over in-memory state that produces every
//! documented error because of what a request really does.
//!
//! Start it with [`serve()`] on a bound listener or [`spawn()`] in the background; build the
//! app alone with [`app()`] over an [`AppState`]: an [`App`], a tower service that tests drive
//! with `tower::ServiceExt::oneshot`. The public API is what the binary, the tests and `xtask`
//! use: the [`Config`] (a [`seed::Seed`] plus [`Connections`] limits), the handles
//! [`Running`] and [`AppState`], the route table ([`routes::ROUTES`]), the OpenAPI document
//! ([`openapi::document()`]), the WebAuthn relying party and its test authenticator ([`webauthn`]), RFC 6238 codes
//! ([`totp`]), [`TrustedProxies`] for checking flags, [`FaultRules`] (the `--faults` file,
//! checked) and [`UNKNOWN_ROUTE_DETAIL`]. Everything else is
//! crate-private, and `unreachable_pub` keeps it so: `missing_docs` covers the public API
//! only. `ARCHITECTURE.md` has the map.

#![warn(unreachable_pub)]

mod api;
mod app;
mod auth;
mod ceremony;
mod conn;
mod context;
mod dispatch;
mod error;
mod expiring;
mod extract;
mod fast_map;
mod guard;
mod harness;
mod intercept;
mod model;
mod names;
mod network;
pub mod openapi;
mod ratelimit;
pub mod routes;
mod scim;
pub mod seed;
mod serve;
mod state;
mod stepup;
mod store;
pub mod totp;
pub mod webauthn;
mod webhooks;

pub use app::{App, AppFuture, app};
pub use conn::Connections;
pub use error::UNKNOWN_ROUTE_DETAIL;
pub use harness::{FaultRules, FaultsError};
pub use network::{NetworkError, TrustedProxies};
pub use serve::{Running, serve, spawn};
pub use state::{AppState, Config, Error};
