//! The SCIM 2.0 API (RFC 7644) under `/scim/v2`: Users (`users.rs`), and the discovery
//! endpoints `ServiceProviderConfig`, `ResourceTypes` and `Schemas` (`discovery.rs`), all
//! behind [`admit`] (`admit.rs`: the SCIM token and the workspace checks). `respond.rs` is
//! what every answer shares: the media type, the base URL, the list limit.
//!
//! Every response, success or error, is `application/scim+json`. Errors are RFC 7644 section
//! 3.12 bodies with the platform's `code`: USER_NOT_FOUND, INVALID_FILTER (`invalidFilter`,
//! the detail names the byte position), MUTABILITY_VIOLATION (`mutability`), and
//! ValidationError with the `scimType` that says what is wrong (`invalidSyntax`,
//! `invalidValue`, `invalidPath`, `noTarget`, and `uniqueness` for a taken `userName`: the
//! catalog documents no 409, so the conflict is a 400 ValidationError; see `docs/api.md`).
//!
//! This file only declares and re-exports: its submodules import each other (never this
//! file), so the module graph stays one way.

mod admit;
mod discovery;
mod respond;
mod users;

pub(crate) use admit::admit;
pub(crate) use discovery::{
    resource_type, resource_types, schema, schemas, service_provider_config,
};
pub(crate) use users::{
    create_user, delete_user, get_user, list_users, patch_user, replace_user, search,
};
