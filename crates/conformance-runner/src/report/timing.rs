//! When and where a run happened: an RFC 3339 timestamp and the host name.
//!
//! The timestamp is the `time` crate's (already built); the host name is a
//! few lines over the standard library (a libc call would not pay for itself).

use std::time::SystemTime;

/// `time` as RFC 3339 in UTC, to the second: `2026-11-29T18:55:17Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let at = time::OffsetDateTime::from(time);
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&time::format_description::well_known::Rfc3339)
        // Only a year past 9999 cannot be written in RFC 3339.
        .unwrap_or_else(|_| "9999-12-31T23:59:59Z".to_owned())
}

/// The machine's host name: `/proc/sys/kernel/hostname`, `/etc/hostname`,
/// `HOSTNAME` or `COMPUTERNAME`, else `localhost`. Control characters are
/// dropped: the name goes into XML attributes.
pub(crate) fn hostname() -> String {
    let from_file = |path: &str| std::fs::read_to_string(path).ok();
    let name = from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_default();
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    if name.is_empty() {
        "localhost".to_owned()
    } else {
        name
    }
}

/// Milliseconds as seconds with three decimals, for JUnit and summaries.
pub(crate) fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn formats_known_instants() {
        let at = |secs| rfc3339(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_796_000_117), "2026-11-30T00:55:17Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn seconds_keep_three_decimals() {
        assert_eq!(seconds(0), "0.000");
        assert_eq!(seconds(1234), "1.234");
        assert_eq!(seconds(61_005), "61.005");
    }
}
