//! A contract violation: data, not an error.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which rule of the contract a response broke. The kebab-case names are
/// stable: reports, fixtures and snapshots use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// The HTTP status is not the documented status of the expected code.
    Status,
    /// No code was expected, and the body's code is documented with another status.
    StatusCodeMismatch,
    /// `Content-Type` is not the envelope's media type.
    MediaType,
    /// The body is not a JSON object.
    NotJson,
    /// An object in the body repeats a member name.
    DuplicateMember,
    /// The body's code is documented but is not the expected one.
    Code,
    /// The body's code is not in the catalog at all.
    UndocumentedCode,
    /// The body's `status` member does not equal the HTTP status (or has the wrong JSON type).
    StatusMember,
    /// The problem `type` does not link to the code's row on the reference page.
    TypeLink,
    /// A SCIM error lacks the `scimType` its code requires, or has one it must not.
    ScimType,
    /// The body breaks the envelope's JSON Schema.
    Schema,
    /// A 401 lacks the `WWW-Authenticate` Bearer challenge the code needs.
    WwwAuthenticate,
    /// `Retry-After` is missing, not delay-seconds, or disagrees with the body.
    RetryAfter,
}

impl Rule {
    /// The stable kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Status => "status",
            Rule::StatusCodeMismatch => "status-code-mismatch",
            Rule::MediaType => "media-type",
            Rule::NotJson => "not-json",
            Rule::DuplicateMember => "duplicate-member",
            Rule::Code => "code",
            Rule::UndocumentedCode => "undocumented-code",
            Rule::StatusMember => "status-member",
            Rule::TypeLink => "type-link",
            Rule::ScimType => "scim-type",
            Rule::Schema => "schema",
            Rule::WwwAuthenticate => "www-authenticate",
            Rule::RetryAfter => "retry-after",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the response a violation is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// The HTTP status line.
    Status,
    /// A header, by lowercase name.
    Header(String),
    /// A member of the body, by JSON Pointer (`""` is the whole body).
    Body(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Status => f.write_str("status"),
            Location::Header(name) => write!(f, "header:{name}"),
            Location::Body(pointer) => write!(f, "body:{pointer}"),
        }
    }
}

impl std::str::FromStr for Location {
    type Err = String;

    fn from_str(s: &str) -> Result<Location, String> {
        if s == "status" {
            Ok(Location::Status)
        } else if let Some(name) = s.strip_prefix("header:") {
            Ok(Location::Header(name.to_ascii_lowercase()))
        } else if let Some(pointer) = s.strip_prefix("body:") {
            Ok(Location::Body(pointer.to_owned()))
        } else {
            Err(format!(
                "`{s}` is not a location (status, header:<name>, body:<json-pointer>)"
            ))
        }
    }
}

impl Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Location {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Location, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One way a response breaks the contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The rule broken; its kebab-case name is stable in reports.
    pub rule: Rule,
    /// The status line, header or body member that breaks it.
    pub at: Location,
    /// What the contract wants.
    pub expected: String,
    /// What the response has.
    pub actual: String,
    /// The reference-page anchor of the code the response is judged against,
    /// when one is known: the row that documents the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}: expected {}, found {}",
            self.rule, self.at, self.expected, self.actual
        )
    }
}
