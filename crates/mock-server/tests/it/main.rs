//! Integration tests of the mock server over its public surface: the router driven with
//! `oneshot` (peers pretended with `ConnectInfo`), and the server on `127.0.0.1:0` over real
//! HTTP where concurrency or the wire matters.

mod connections;
mod decisions;
mod discovery;
mod harness;
mod limits;
mod mfa;
mod network;
mod precedence;
mod property;
mod scim;
mod server;
mod sign_in;
mod support;
mod users;
mod validation;
mod webhooks;
