//! What SCIM keeps of a user beyond the core user ([`Record`]) and how its server-owned parts
//! are written (`meta`, timestamps, ETags, `location`). Below both the SCIM store and the
//! search over it, which each import this module and not each other's internals.

use std::time::SystemTime;

use serde_json::{Value, json};

use super::schema::CORE_USER;
use crate::store::User;

/// The `meta.resourceType` of users.
pub(crate) const USER_RESOURCE_TYPE: &str = "User";

/// What SCIM knows of one user beyond the core user.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    /// The attributes as last written, without `id`, `meta` and `password`.
    pub attributes: Value,
    /// `meta.created`.
    pub created: SystemTime,
    /// `meta.lastModified`.
    pub last_modified: SystemTime,
    /// The number in `meta.version` (`W/"3"`), bumped by every write.
    pub version: u64,
}

/// A user's `meta` attribute.
pub(crate) fn meta(
    id: &str,
    created: SystemTime,
    last_modified: SystemTime,
    version: u64,
    base_url: &str,
) -> Value {
    json!({
        "resourceType": USER_RESOURCE_TYPE,
        "created": rfc3339(created),
        "lastModified": rfc3339(last_modified),
        "location": location(base_url, id),
        "version": etag(version),
    })
}

/// A user's `meta.location`.
pub(crate) fn location(base_url: &str, id: &str) -> String {
    format!("{}/Users/{id}", base_url.trim_end_matches('/'))
}

/// The attributes of a user SCIM has no record of: what the core user knows.
pub(crate) fn derived(user: &User) -> Value {
    json!({
        "schemas": [CORE_USER],
        "userName": user.email,
        "active": !user.disabled,
        "emails": [{ "value": user.email, "type": "work", "primary": true }],
    })
}

/// A weak ETag for a version number, as `meta.version` and the `ETag` header carry it.
pub(crate) fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// `time` as an RFC 3339 UTC timestamp with whole seconds (`2026-11-25T14:24:52Z`).
///
/// Whole seconds, always in UTC, so that the code-point ordering the filter evaluator uses
/// for `gt` / `lt` orders timestamps correctly.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let at = time::OffsetDateTime::from(time);
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&time::format_description::well_known::Rfc3339)
        // Only a year past 9999 cannot be written in RFC 3339.
        .unwrap_or_else(|_| "9999-12-31T23:59:59Z".to_owned())
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + std::time::Duration::from_secs(951_782_400 + 3_723);
        assert_eq!(rfc3339(t), "2000-02-29T01:02:03Z");
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_649_367_553);
        assert_eq!(rfc3339(t), "2022-04-07T21:39:13Z");
    }
}
