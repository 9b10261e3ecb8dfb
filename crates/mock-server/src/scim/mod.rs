//! SCIM 2.0 (RFC 7643 / RFC 7644): filter grammar, PATCH semantics, the User schema.

pub mod filter;
pub mod patch;
pub mod schema;
