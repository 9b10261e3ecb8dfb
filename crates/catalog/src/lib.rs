//! The platform's documented error codes, declared once as data.
//!
//! Everything else in the workspace derives from this crate: the reference
//! pages (`render`), the JSON Schemas (in `response-schema`), the mock's
//! responses and the conformance coverage check. The crate is pure data and
//! pure functions: no I/O, no HTTP stack.
//!
//! ```
//! use catalog::Code;
//!
//! let code = Code::from_name("STEP_UP_REQUIRED").unwrap();
//! assert_eq!(code.status(), 401);
//! assert_eq!(code.anchor(), "step-up-required");
//! assert_eq!(code.type_url("https://docs.example.com"), "https://docs.example.com/docs/errors#step-up-required");
//! ```

mod data;
pub mod markup;
pub mod render;

use std::fmt;

pub use data::{ANCHOR_ALIASES, Code, PRECEDENCE, VERSION};

/// Path of the reference page on the platform (and on the mock).
///
/// Every problem `type` URL is `{base}{DOCS_PATH}#{anchor}`.
pub const DOCS_PATH: &str = "/docs/errors";

/// Where the published reference page lives when no other base is configured.
pub const DEFAULT_DOCS_BASE: &str = "https://docs.platform.example";

/// A documented category, in documented order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Sign-in, identity-provider, and tenant resolution errors.
    Authentication,
    /// Codes returned when an additional proof of identity is needed.
    MfaStepUp,
    /// Codes returned by the SCIM 2.0 user-management API.
    Scim,
    /// Codes returned when configuring or delivering webhook events.
    Webhooks,
    /// Codes returned when a request is rejected by the workspace network policy.
    NetworkPolicy,
    /// Codes returned when a WebAuthn enrolment is blocked by tenant attestation rules.
    Attestation,
    /// Cross-cutting codes used across the platform.
    Generic,
}

/// Which error-body format a code is sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Envelope {
    /// RFC 9457 problem details, `application/problem+json`.
    Problem,
    /// RFC 7644 section 3.12 SCIM error, `application/scim+json`.
    Scim,
}

/// What the `WWW-Authenticate` challenge of a 401 must say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Challenge {
    /// A `Bearer` challenge with no `error` attribute requirement (sign-in failures).
    None,
    /// A `Bearer` challenge whose `error` attribute is absent (no credentials sent)
    /// or one of RFC 6750's `invalid_request` / `invalid_token`.
    Any,
    /// A `Bearer` challenge carrying exactly this `error` attribute (RFC 6750 / RFC 9470).
    Error(&'static str),
}

/// A code-specific member or header the contract requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extra {
    /// Body member `purpose`: a non-empty string naming the step-up ceremony.
    Purpose,
    /// Body member `errors`: a non-empty list of `{pointer | parameter, detail}`.
    Errors,
    /// Header `Retry-After` (delay-seconds) and body member `retry_after` with the same value.
    RetryAfter,
}

/// Everything documented about one code.
#[derive(Debug)]
pub struct CodeInfo {
    /// The code this row describes; `code.info()` is this row.
    pub code: Code,
    /// The HTTP status the platform returns with it.
    pub status: u16,
    /// The code as it appears on the wire (`STEP_UP_REQUIRED`, `NotFound`).
    pub name: &'static str,
    /// URL-safe anchor of the code's row on the reference page.
    pub anchor: &'static str,
    /// The category the code is documented under.
    pub category: Category,
    /// Short human title, the same for every occurrence (RFC 9457 `title`).
    pub title: &'static str,
    /// What it means (the user's wording).
    pub meaning: &'static str,
    /// How to fix it (the user's wording).
    pub fix: &'static str,
    /// The body format the code is sent in on its own endpoints.
    pub envelope: Envelope,
    /// For 401 codes, what the `WWW-Authenticate` challenge must say.
    pub challenge: Option<Challenge>,
    /// For SCIM errors, the RFC 7644 `scimType`.
    pub scim_type: Option<&'static str>,
    /// Members and headers the code requires beyond the common ones.
    pub extra: &'static [Extra],
}

/// The error returned when a string is not a documented code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCode(pub String);

impl fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a documented error code", self.0)
    }
}

impl std::error::Error for UnknownCode {}

impl Code {
    /// Looks a code up by its wire name (case-sensitive, as documented).
    pub fn from_name(name: &str) -> Result<Code, UnknownCode> {
        data::INFOS
            .iter()
            .find(|info| info.name == name)
            .map(|info| info.code)
            .ok_or_else(|| UnknownCode(name.to_owned()))
    }

    /// Looks a code up by its reference-page anchor (or an old anchor kept as an alias).
    pub fn from_anchor(anchor: &str) -> Option<Code> {
        data::INFOS
            .iter()
            .find(|info| info.anchor == anchor)
            .map(|info| info.code)
            .or_else(|| {
                ANCHOR_ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == anchor)
                    .map(|&(_, code)| code)
            })
    }

    /// The old anchors the reference page keeps for this code ([`ANCHOR_ALIASES`]).
    pub fn anchor_aliases(self) -> impl Iterator<Item = &'static str> {
        ANCHOR_ALIASES
            .iter()
            .filter(move |&&(_, code)| code == self)
            .map(|&(alias, _)| alias)
    }

    /// Everything documented about this code.
    pub fn info(self) -> &'static CodeInfo {
        &data::INFOS[self as usize]
    }

    /// The documented HTTP status.
    pub fn status(self) -> u16 {
        self.info().status
    }

    /// The code as it appears on the wire and on the reference page
    /// (`STEP_UP_REQUIRED`, `NotFound`); also its `Display`.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The anchor of the code's row on the reference page (`step-up-required`),
    /// the fragment of every problem `type` URL.
    pub fn anchor(self) -> &'static str {
        self.info().anchor
    }

    /// The category the code is documented under on the reference page.
    pub fn category(self) -> Category {
        self.info().category
    }

    /// Whether the contract requires this extra member or header.
    pub fn requires(self, extra: Extra) -> bool {
        self.info().extra.contains(&extra)
    }

    /// The problem `type` URL: the reference page at `base`, at this code's row.
    pub fn type_url(self, base: &str) -> String {
        format!(
            "{}{DOCS_PATH}#{}",
            base.trim_end_matches('/'),
            self.anchor()
        )
    }

    /// Position in the precedence order (0 wins over everything).
    pub fn precedence(self) -> usize {
        PRECEDENCE
            .iter()
            .position(|&c| c == self)
            .unwrap_or(PRECEDENCE.len())
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Code {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Code, UnknownCode> {
        Code::from_name(s)
    }
}

impl Category {
    /// Every category, in documented order.
    pub const ALL: &'static [Category] = &[
        Category::Authentication,
        Category::MfaStepUp,
        Category::Scim,
        Category::Webhooks,
        Category::NetworkPolicy,
        Category::Attestation,
        Category::Generic,
    ];

    /// The heading on the reference page.
    pub fn title(self) -> &'static str {
        match self {
            Category::Authentication => "Authentication",
            Category::MfaStepUp => "Multi-factor + step-up",
            Category::Scim => "SCIM provisioning",
            Category::Webhooks => "Event webhooks",
            Category::NetworkPolicy => "Network policy",
            Category::Attestation => "Attestation policy",
            Category::Generic => "Generic",
        }
    }

    /// The one-line description under the heading.
    pub fn description(self) -> &'static str {
        match self {
            Category::Authentication => "Sign-in, identity-provider, and tenant resolution errors.",
            Category::MfaStepUp => "Codes returned when an additional proof of identity is needed.",
            Category::Scim => "Codes returned by the SCIM 2.0 user-management API.",
            Category::Webhooks => "Codes returned when configuring or delivering webhook events.",
            Category::NetworkPolicy => {
                "Codes returned when a request is rejected by the workspace network policy."
            }
            Category::Attestation => {
                "Codes returned when a WebAuthn enrolment is blocked by tenant attestation rules."
            }
            Category::Generic => "Cross-cutting codes used across the platform.",
        }
    }

    /// A stable machine name (`mfa-step-up`), used by filters and reports.
    pub fn slug(self) -> &'static str {
        match self {
            Category::Authentication => "authentication",
            Category::MfaStepUp => "mfa-step-up",
            Category::Scim => "scim",
            Category::Webhooks => "webhooks",
            Category::NetworkPolicy => "network-policy",
            Category::Attestation => "attestation",
            Category::Generic => "generic",
        }
    }

    /// Looks a category up by its slug.
    pub fn from_slug(slug: &str) -> Option<Category> {
        Category::ALL.iter().copied().find(|c| c.slug() == slug)
    }

    /// The codes of this category, in documented order.
    pub fn codes(self) -> impl Iterator<Item = Code> {
        Code::ALL
            .iter()
            .copied()
            .filter(move |c| c.category() == self)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infos_are_indexed_by_variant() {
        for (i, &code) in Code::ALL.iter().enumerate() {
            assert_eq!(code as usize, i);
            assert_eq!(code.info().code, code);
        }
    }

    #[test]
    fn anchors_are_url_safe_kebab_case_of_the_name_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for &code in Code::ALL {
            let anchor = code.anchor();
            assert!(seen.insert(anchor), "duplicate anchor {anchor}");
            assert_eq!(anchor, kebab(code.name()), "anchor of {code}");
            assert!(anchor.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
            assert_eq!(Code::from_anchor(anchor), Some(code));
        }
    }

    fn kebab(name: &str) -> String {
        if name.contains('_') {
            return name.to_ascii_lowercase().replace('_', "-");
        }
        let mut out = String::new();
        for (i, c) in name.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    #[test]
    fn version_is_semver_and_aliases_are_unique_url_safe_and_not_current_anchors() {
        let parts: Vec<&str> = VERSION.split('.').collect();
        assert_eq!(parts.len(), 3, "{VERSION}");
        assert!(parts.iter().all(|p| p.parse::<u64>().is_ok()), "{VERSION}");
        let mut seen = std::collections::HashSet::new();
        for &(alias, code) in ANCHOR_ALIASES {
            assert!(seen.insert(alias), "duplicate alias {alias}");
            assert!(alias.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
            assert!(Code::ALL.iter().all(|c| c.anchor() != alias), "{alias}");
            assert!(Category::ALL.iter().all(|c| c.slug() != alias), "{alias}");
            assert_eq!(Code::from_anchor(alias), Some(code));
        }
    }

    #[test]
    fn lookup_rejects_unknown_and_wrong_case() {
        assert_eq!(
            Code::from_name("NOT_A_CODE"),
            Err(UnknownCode("NOT_A_CODE".into()))
        );
        assert!(Code::from_name("notfound").is_err());
        assert_eq!("RateLimited".parse::<Code>().map(Code::status), Ok(429));
    }

    #[test]
    fn precedence_is_a_permutation_of_all_codes() {
        let mut sorted = PRECEDENCE.to_vec();
        sorted.sort();
        assert_eq!(sorted, Code::ALL);
        assert!(Code::IpBlocked.precedence() < Code::Unauthorized.precedence());
        assert!(Code::WorkspaceInactive.precedence() < Code::NotProvisioned.precedence());
    }

    #[test]
    fn every_401_has_a_challenge_and_only_401s_do() {
        for &code in Code::ALL {
            assert_eq!(
                code.status() == 401,
                code.info().challenge.is_some(),
                "{code}"
            );
        }
    }

    #[test]
    fn categories_are_contiguous_in_documented_order() {
        let order: Vec<Category> = Code::ALL.iter().map(|c| c.category()).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
        for &cat in Category::ALL {
            assert!(cat.codes().next().is_some());
            assert_eq!(Category::from_slug(cat.slug()), Some(cat));
        }
    }
}
