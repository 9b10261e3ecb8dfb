//! SCIM 2.0 (RFC 7643 / RFC 7644): filter grammar, PATCH semantics, the User schema, and the
//! `/scim/v2` API over the workspace user store.

mod columns;
pub mod filter;
pub mod members;
pub mod patch;
pub mod projection;
pub mod record;
pub mod routes;
pub mod schema;
mod search;
pub mod store;
mod table;
