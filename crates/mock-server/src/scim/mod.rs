//! SCIM 2.0 (RFC 7643 / RFC 7644): filter grammar, PATCH semantics, the User schema, and the
//! `/scim/v2` API over the workspace user store.

mod columns;
pub(crate) mod filter;
pub(crate) mod members;
pub(crate) mod patch;
pub(crate) mod projection;
pub(crate) mod record;
pub(crate) mod routes;
pub(crate) mod schema;
mod search;
pub(crate) mod store;
mod table;
