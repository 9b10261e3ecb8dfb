//! What SCIM keeps of a user beyond the core user ([`Record`]) and how its server-owned parts
//! are written (`meta`, timestamps, ETags, `location`). Below both the SCIM store and the
//! search over it, which each import this module and not each other's internals.

use std::time::{SystemTime, UNIX_EPOCH};

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
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`),
/// so the crate needs no date library for one format.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1..=31, 1..=12).
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
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
