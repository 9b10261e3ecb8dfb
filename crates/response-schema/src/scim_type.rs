//! [`ScimType`]: the `scimType` keywords of RFC 7644 section 3.12 (table 9), as one enum that
//! servers answer with and the checker compares against.
//!
//! The catalog (`catalog`, dependency-free data) names each code's keyword as text;
//! [`ScimType::of`] reads it, and a test holds every keyword the catalog names to this list.

use std::fmt;

use catalog::Code;
use serde::{Deserialize, Serialize};

/// One RFC 7644 section 3.12 `scimType` keyword; serialized as the RFC spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ScimType {
    /// The filter syntax is invalid or the filter names an unknown attribute (400).
    InvalidFilter,
    /// The filter yields more results than the server will process (400).
    TooMany,
    /// A unique attribute's value is already taken (409).
    Uniqueness,
    /// The request would change an immutable or read-only attribute (400).
    Mutability,
    /// The request body is not valid per the protocol (400).
    InvalidSyntax,
    /// A `path` is malformed or names no attribute (400).
    InvalidPath,
    /// A `path` or value filter matched nothing (400).
    NoTarget,
    /// A value is missing or of the wrong type (400).
    InvalidValue,
    /// The protocol version is not supported (400).
    InvalidVers,
    /// The request carries sensitive data in its URI (403).
    Sensitive,
}

impl ScimType {
    /// Every keyword, in the RFC's order.
    pub const ALL: [ScimType; 10] = [
        ScimType::InvalidFilter,
        ScimType::TooMany,
        ScimType::Uniqueness,
        ScimType::Mutability,
        ScimType::InvalidSyntax,
        ScimType::InvalidPath,
        ScimType::NoTarget,
        ScimType::InvalidValue,
        ScimType::InvalidVers,
        ScimType::Sensitive,
    ];

    /// The keyword as the RFC spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }

    /// The keyword spelled `text`, exactly (the RFC's keywords are case-sensitive strings).
    pub fn parse(text: &str) -> Option<ScimType> {
        ScimType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The keyword the catalog gives `code`, if any.
    pub fn of(code: Code) -> Option<ScimType> {
        code.info().scim_type.and_then(ScimType::parse)
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_keywords_in_order() {
        let spelled: Vec<&str> = ScimType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(
            spelled,
            [
                "invalidFilter",
                "tooMany",
                "uniqueness",
                "mutability",
                "invalidSyntax",
                "invalidPath",
                "noTarget",
                "invalidValue",
                "invalidVers",
                "sensitive",
            ]
        );
        for t in ScimType::ALL {
            assert_eq!(ScimType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
            assert_eq!(
                serde_json::from_value::<ScimType>(t.as_str().into()).unwrap(),
                t
            );
        }
        for bad in ["InvalidFilter", "invalidfilter", "invalid_filter", ""] {
            assert_eq!(ScimType::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_keyword_the_catalog_names_is_one_of_them() {
        for &code in Code::ALL {
            assert_eq!(
                ScimType::of(code).map(ScimType::as_str),
                code.info().scim_type,
                "{code}"
            );
        }
    }
}
