//! The catalog as JSON (`docs/catalog.json`): the types both sides of a
//! comparison are read into, whichever version of the tool wrote them.

use serde::{Deserialize, Serialize};

/// A whole catalog: what `docs/catalog.json` holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// The catalog's semver version (`1.0.0`).
    pub version: String,
    /// Path of the reference page; a code's problem `type` is `{base}{docs_path}#{anchor}`.
    pub docs_path: String,
    /// Every category, in documented order.
    pub categories: Vec<CategoryDoc>,
    /// Every code, in documented order.
    pub codes: Vec<CodeDoc>,
    /// Code names in precedence order: when several errors apply, the first wins.
    pub precedence: Vec<String>,
}

/// One category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryDoc {
    /// Stable machine name, also the heading's anchor (`mfa-step-up`).
    pub slug: String,
    /// The heading's text on the reference page (`Multi-factor + step-up`).
    pub title: String,
    /// The one-line description under the heading.
    pub description: String,
}

/// One code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeDoc {
    /// The code on the wire (`STEP_UP_REQUIRED`).
    pub code: String,
    /// The HTTP status sent with it.
    pub status: u16,
    /// The anchor of its row on the reference page.
    pub anchor: String,
    /// Old anchors the page still carries for this row.
    #[serde(default)]
    pub anchor_aliases: Vec<String>,
    /// The slug of its category.
    pub category: String,
    /// Short human title (RFC 9457 `title`).
    pub title: String,
    /// What it means.
    pub meaning: String,
    /// How to fix it.
    pub fix: String,
    /// The body format: `problem` (RFC 9457) or `scim` (RFC 7644).
    pub envelope: EnvelopeDoc,
    /// For 401 codes, what the `WWW-Authenticate` challenge must say.
    pub challenge: Option<ChallengeDoc>,
    /// For SCIM errors, the RFC 7644 `scimType`.
    #[serde(rename = "scimType")]
    pub scim_type: Option<String>,
    /// Members and headers beyond the envelope's common ones.
    #[serde(default)]
    pub extra: Vec<MemberDoc>,
}

/// The body format of a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvelopeDoc {
    /// `application/problem+json`.
    Problem,
    /// `application/scim+json`.
    Scim,
}

impl EnvelopeDoc {
    /// The name used in the JSON and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            EnvelopeDoc::Problem => "problem",
            EnvelopeDoc::Scim => "scim",
        }
    }
}

/// The `WWW-Authenticate` challenge a 401 must carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeDoc {
    /// The auth scheme (`Bearer`).
    pub scheme: String,
    /// What the `error` attribute must be: `unconstrained`, `absent-or-invalid` (absent,
    /// `invalid_request` or `invalid_token`), or `exact` with [`ChallengeDoc::error`].
    pub rule: String,
    /// The exact `error` attribute, when `rule` is `exact`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ChallengeDoc {
    /// A one-line description for reports (`Bearer error="invalid_token"`).
    pub fn describe(&self) -> String {
        match &self.error {
            Some(error) => format!("{} error=\"{error}\"", self.scheme),
            None => format!("{} ({})", self.scheme, self.rule),
        }
    }
}

/// A member or header a code carries beyond the envelope's common ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberDoc {
    /// The body member or header name (`retry_after`, `Retry-After`).
    pub name: String,
    /// Where it is: `body` or `header`.
    #[serde(rename = "in")]
    pub location: String,
    /// Whether every response with the code carries it.
    pub required: bool,
    /// What it holds.
    pub description: String,
}

impl MemberDoc {
    /// `body member purpose` or `header Retry-After`, for reports.
    pub fn describe(&self) -> String {
        if self.location == "header" {
            format!("header {}", self.name)
        } else {
            format!("body member {}", self.name)
        }
    }
}
