//! `MAJOR.MINOR.PATCH`, all the check needs of semver (no pre-release or
//! build metadata: the catalog's version is a release number).

use std::fmt;

/// A catalog version, `MAJOR.MINOR.PATCH`; ordered as semver orders
/// releases (major, then minor, then patch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Bumped for a breaking change.
    pub major: u64,
    /// Bumped for an additive change.
    pub minor: u64,
    /// Bumped for wording.
    pub patch: u64,
}

impl Version {
    /// Parses `1.2.3`; `None` for anything else (leading zeros, missing parts, suffixes).
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.split('.').map(|part| {
            let digits = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
            let no_leading_zero = part == "0" || !part.starts_with('0');
            if digits && no_leading_zero {
                part.parse::<u64>().ok()
            } else {
                None
            }
        });
        let version = Version {
            major: parts.next()??,
            minor: parts.next()??,
            patch: parts.next()??,
        };
        parts.next().is_none().then_some(version)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_releases_only() {
        assert_eq!(
            Version::parse("2.10.0"),
            Some(Version {
                major: 2,
                minor: 10,
                patch: 0
            })
        );
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.2.x",
            "1.2.3-rc.1",
            "v1.2.3",
            " 1.2.3",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad:?}");
        }
        assert!(Version::parse("1.9.9") < Version::parse("1.10.0"));
    }
}
