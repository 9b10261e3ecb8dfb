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

/// The path prefix of the SCIM API, whose errors use the SCIM envelope.
pub(crate) const SCIM_PREFIX: &str = "/scim/v2";

/// Whether `path` is under [`SCIM_PREFIX`].
pub(crate) fn is_scim_path(path: &str) -> bool {
    path == SCIM_PREFIX
        || path
            .strip_prefix(SCIM_PREFIX)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scim_paths() {
        assert!(is_scim_path("/scim/v2"));
        assert!(is_scim_path("/scim/v2/Users"));
        assert!(!is_scim_path("/scim/v20"));
        assert!(!is_scim_path("/v1/scim/v2"));
    }
}
