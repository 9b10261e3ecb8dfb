//! Typed error bodies, as a server builds them.
//!
//! The mock builds every error from these types so its bodies follow the
//! same catalog as the checker; the checker itself reads raw bytes and never
//! trusts these types to describe what a live server sent.

use catalog::Code;
use serde::{Deserialize, Serialize};

use crate::ScimType;
use crate::schema::SCIM_ERROR_URN;

/// Media type of problem details (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Media type of SCIM messages (RFC 7644).
pub const SCIM_JSON: &str = "application/scim+json";

/// The response header that carries the platform's code on every error.
///
/// It is the code's only place in a SCIM error: RFC 7644 section 3.12 defines
/// four members (`schemas`, `status`, `scimType`, `detail`) and strict SCIM
/// clients (python-scim2's models, for one) reject a body with any other, so
/// the platform's `code` and `request_id` travel in headers there. Problem
/// bodies carry the code in `code` as well.
pub const ERROR_CODE_HEADER: &str = "x-error-code";

/// An RFC 9457 problem-details body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// The reference page URL at the code's anchor.
    #[serde(rename = "type")]
    pub type_url: String,
    /// The code's title, the same for every occurrence.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened this time.
    pub detail: String,
    /// The catalog code's wire name (`STEP_UP_REQUIRED`).
    pub code: String,
    /// The request id, also in the `x-request-id` header.
    pub request_id: String,
    /// STEP_UP_REQUIRED: the ceremony.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// ValidationError: every offending field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// RateLimited and CIRCUIT_OPEN: seconds to wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// One offending field of a ValidationError.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// RFC 6901 JSON Pointer into the request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The offending query parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// What is wrong with it.
    pub detail: String,
}

impl FieldError {
    /// An error in the request body at `pointer`.
    pub fn pointer(pointer: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError {
            pointer: Some(pointer.into()),
            parameter: None,
            detail: detail.into(),
        }
    }

    /// An error in the query parameter `name`.
    pub fn parameter(name: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError {
            pointer: None,
            parameter: Some(name.into()),
            detail: detail.into(),
        }
    }
}

impl Problem {
    /// A problem for `code` whose `type` links into the reference page at `docs_base`.
    pub fn new(
        code: Code,
        docs_base: &str,
        detail: impl Into<String>,
        request_id: impl Into<String>,
    ) -> Problem {
        let info = code.info();
        Problem {
            type_url: code.type_url(docs_base),
            title: info.title.to_owned(),
            status: info.status,
            detail: detail.into(),
            code: info.name.to_owned(),
            request_id: request_id.into(),
            purpose: None,
            errors: None,
            retry_after: None,
        }
    }
}

/// An RFC 7644 section 3.12 SCIM error: exactly the four members the RFC
/// defines, so strict SCIM clients accept it. The platform's code goes in the
/// [`ERROR_CODE_HEADER`] header, the request id in `x-request-id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScimError {
    /// Always `[urn:ietf:params:scim:api:messages:2.0:Error]`.
    pub schemas: Vec<String>,
    /// The HTTP status as a string, as RFC 7644 has it.
    pub status: String,
    /// The RFC 7644 error keyword, where one applies.
    #[serde(rename = "scimType", default, skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<ScimType>,
    /// What happened this time.
    pub detail: String,
}

impl ScimError {
    /// A SCIM error for `code`; `scim_type` overrides the catalog's keyword
    /// (a ValidationError on a SCIM endpoint is `invalidValue` or `invalidSyntax`).
    pub fn new(code: Code, scim_type: Option<ScimType>, detail: impl Into<String>) -> ScimError {
        let info = code.info();
        ScimError {
            schemas: vec![SCIM_ERROR_URN.to_owned()],
            status: info.status.to_string(),
            scim_type: scim_type.or_else(|| ScimType::of(code)),
            detail: detail.into(),
        }
    }
}
