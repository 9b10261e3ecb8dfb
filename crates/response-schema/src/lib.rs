//! The error-body contract: every platform error, checked.
//!
//! [`check`] takes a response (status, headers, body bytes) and what was
//! expected of it, and returns every [`Violation`] found: status, media type,
//! body (against the JSON Schemas in `schemas/`, derived from the catalog by
//! [`schema`]), the `type` link and the header contract. It never panics,
//! whatever bytes it is given.
//!
//! ```
//! use catalog::Code;
//! use response_schema::{Expect, Response, check};
//!
//! let headers = http::HeaderMap::new();
//! let found = check(
//!     &Response { status: 404, headers: &headers, body: b"not json" },
//!     &Expect::code(Code::NotFound),
//! );
//! let rules: Vec<&str> = found.iter().map(|v| v.rule.as_str()).collect();
//! assert_eq!(rules, ["media-type", "not-json"]);
//! ```

pub mod body;
pub mod challenge;
mod checker;
mod describe;
pub mod duplicate;
mod expect;
pub mod pointer;
pub mod schema;
mod scim_type;
mod violation;

pub use body::{ERROR_CODE_HEADER, FieldError, PROBLEM_JSON, Problem, SCIM_JSON, ScimError};
pub use checker::{check, prepare};
pub use expect::{CodeAt, Expect, Response};
pub use scim_type::ScimType;
pub use violation::{Location, Rule, Violation};
