//! `ApiError`: the one way the mock fails a request.
//!
//! A handler, extractor or middleware returns an [`ApiError`] naming a [`catalog::Code`]
//! plus whatever the code needs (`purpose`, `errors`, `retry_after`, a bearer challenge).
//! Turning it into a response only parks it in the response's extensions; the request-context
//! middleware ([`crate::context`]) then calls [`ApiError::render`] with the request id and the
//! public base URL, so the body's `request_id` always equals the `x-request-id` header and the
//! `type` link always points at this mock's reference page. Status, title, media type and the
//! `WWW-Authenticate` shape are all derived from the catalog; nothing here spells a code.

use std::borrow::Cow;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use catalog::{Challenge, Code, Envelope};
use http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use response_schema::{
    ERROR_CODE_HEADER, FieldError, PROBLEM_JSON, SCIM_JSON, ScimError, ScimType,
};

use crate::model::Purpose;

/// The response header carrying the request id.
pub const X_REQUEST_ID: &str = "x-request-id";

/// The `detail` of NotFound for a path or method no route serves. Resources that are missing
/// or hidden get [`NOT_FOUND_DETAIL`] instead, so a test can tell an unrouted request from a
/// routed one, while a hidden resource still cannot be told from a missing one.
pub const UNKNOWN_ROUTE_DETAIL: &str =
    "No route serves this method and path; see /openapi.json for the API.";

/// The `detail` of NotFound for every missing or hidden resource.
pub const NOT_FOUND_DETAIL: &str = "The resource does not exist or is not visible to the caller.";

/// The `realm` of every bearer challenge.
pub const REALM: &str = "platform";

/// A documented failure, rendered as a problem-details or SCIM error body.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct ApiError {
    /// The catalog code; the HTTP status is its documented status.
    pub code: Code,
    /// What happened this time (the body's `detail`). Never internals.
    pub detail: Cow<'static, str>,
    /// STEP_UP_REQUIRED: the ceremony the action needs.
    pub purpose: Option<Purpose>,
    /// ValidationError: every offending field or parameter.
    pub errors: Vec<FieldError>,
    /// RateLimited and CIRCUIT_OPEN: seconds to wait (header and body). `u32` keeps the
    /// error small enough to return by value everywhere; that is 136 years.
    pub retry_after: Option<u32>,
    /// For 401s: the `Bearer` challenge's parameters.
    pub www_authenticate: Option<BearerChallenge>,
    /// Problem details, or the SCIM error envelope on `/scim/v2`.
    pub envelope: Envelope,
    /// SCIM envelope only: overrides the catalog's `scimType` (ValidationError is
    /// `invalidValue` or `invalidSyntax`).
    pub scim_type: Option<ScimType>,
}

/// Parameters of a `WWW-Authenticate: Bearer realm="platform", ...` challenge.
///
/// `error_uri` is always the problem's `type` URL when `error` is present; RFC 6750 section 3
/// wants no error information at all when the request carried no credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    /// RFC 6750 / RFC 9470 `error` (`invalid_token`, `insufficient_user_authentication`).
    pub error: Option<&'static str>,
    /// RFC 9470 `acr_values`, space-separated in order of preference.
    pub acr_values: Option<&'static str>,
    /// RFC 9470 `max_age` in seconds.
    pub max_age: Option<u32>,
}

impl ApiError {
    /// An error for `code`, in the code's catalog envelope, with the challenge the catalog
    /// requires for 401s.
    pub fn new(code: Code, detail: impl Into<Cow<'static, str>>) -> ApiError {
        let info = code.info();
        let www_authenticate = info.challenge.map(|challenge| match challenge {
            Challenge::Error(error) => BearerChallenge {
                error: Some(error),
                ..BearerChallenge::default()
            },
            Challenge::None | Challenge::Any => BearerChallenge::default(),
        });
        ApiError {
            code,
            detail: detail.into(),
            purpose: None,
            errors: Vec::new(),
            retry_after: None,
            www_authenticate,
            envelope: info.envelope,
            scim_type: None,
        }
    }

    /// NotFound with the one detail every missing or hidden resource gets, so the two cannot be
    /// told apart.
    pub fn not_found() -> ApiError {
        ApiError::new(Code::NotFound, NOT_FOUND_DETAIL)
    }

    /// NotFound for a method and path no route serves.
    pub fn unknown_route() -> ApiError {
        ApiError::new(Code::NotFound, UNKNOWN_ROUTE_DETAIL)
    }

    /// ValidationError listing `errors` (at least one).
    pub fn validation(errors: Vec<FieldError>) -> ApiError {
        let detail = match errors.len() {
            1 => "The request has 1 invalid field.".to_owned(),
            n => format!("The request has {n} invalid fields."),
        };
        ApiError::new(Code::ValidationError, detail).with_errors(errors)
    }

    /// ValidationError for one place in the body (`""` is the whole body).
    pub fn invalid_body(pointer: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError::validation(vec![FieldError::pointer(pointer, detail)])
    }

    /// ValidationError for one query parameter.
    pub fn invalid_parameter(name: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError::validation(vec![FieldError::parameter(name, detail)])
    }

    /// Sets `purpose` (STEP_UP_REQUIRED).
    pub fn with_purpose(mut self, purpose: Purpose) -> ApiError {
        self.purpose = Some(purpose);
        self
    }

    /// Sets `errors` (ValidationError).
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> ApiError {
        self.errors = errors;
        self
    }

    /// Sets `retry_after` and the `Retry-After` header.
    pub fn with_retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(u32::try_from(seconds).unwrap_or(u32::MAX));
        self
    }

    /// Sets the bearer challenge's `error` (only meaningful for 401s).
    pub fn with_bearer_error(mut self, error: &'static str) -> ApiError {
        if let Some(challenge) = &mut self.www_authenticate {
            challenge.error = Some(error);
        }
        self
    }

    /// Sets RFC 9470 `acr_values` and `max_age` (only meaningful for 401s).
    pub fn with_acr(mut self, acr_values: &'static str, max_age: Option<u64>) -> ApiError {
        if let Some(challenge) = &mut self.www_authenticate {
            challenge.acr_values = Some(acr_values);
            challenge.max_age = max_age.map(|s| u32::try_from(s).unwrap_or(u32::MAX));
        }
        self
    }

    /// Sends the error in the SCIM envelope (generic codes on `/scim/v2`).
    pub fn scim(mut self) -> ApiError {
        self.envelope = Envelope::Scim;
        self
    }

    /// Sets the SCIM `scimType` (SCIM envelope only).
    pub fn with_scim_type(mut self, scim_type: ScimType) -> ApiError {
        self.scim_type = Some(scim_type);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        // Catalog statuses are all valid 4xx/5xx numbers; the fallback is unreachable.
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::BAD_REQUEST)
    }

    /// The full response: body, `content-type`, `x-request-id`, `WWW-Authenticate`,
    /// `Retry-After`. `docs_base` is the base of the `type` URLs (the mock's public URL).
    pub fn render(&self, request_id: &str, docs_base: &str) -> Response {
        let type_url = self.code.type_url(docs_base);
        let (media_type, body) = match self.envelope {
            Envelope::Problem => {
                let info = self.code.info();
                let problem = ProblemRef {
                    type_url: &type_url,
                    title: info.title,
                    status: info.status,
                    detail: &self.detail,
                    code: info.name,
                    request_id,
                    purpose: self.purpose.map(Purpose::as_str),
                    errors: (!self.errors.is_empty()).then_some(self.errors.as_slice()),
                    retry_after: self.retry_after.map(u64::from),
                };
                (PROBLEM_JSON, serde_json::to_vec(&problem))
            }
            Envelope::Scim => {
                let scim = ScimError::new(self.code, self.scim_type, self.detail.as_ref());
                (SCIM_JSON, serde_json::to_vec(&scim))
            }
        };
        // Serializing these plain structs cannot fail; an empty body would still carry the
        // status and headers.
        let mut response = Response::new(Body::from(body.unwrap_or_default()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(media_type));
        // The code in a header on every error: its only place in a SCIM error.
        headers.insert(
            ERROR_CODE_HEADER,
            HeaderValue::from_static(self.code.name()),
        );
        if let Ok(value) = HeaderValue::from_str(request_id) {
            headers.insert(X_REQUEST_ID, value);
        }
        if let Some(challenge) = &self.www_authenticate
            && let Ok(value) = HeaderValue::from_str(&challenge.render(&type_url, &self.detail))
        {
            headers.insert(WWW_AUTHENTICATE, value);
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// [`response_schema::Problem`] by reference: the same members in the same order, serialized without copying
/// every string into a fresh `Problem` first (error bodies are the mock's hottest path). A
/// test holds the two to the same JSON for every code.
#[derive(serde::Serialize)]
struct ProblemRef<'a> {
    #[serde(rename = "type")]
    type_url: &'a str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    purpose: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

impl BearerChallenge {
    /// The header value.
    pub fn render(&self, error_uri: &str, description: &str) -> String {
        let mut out = format!("Bearer realm=\"{REALM}\"");
        if let Some(error) = self.error {
            out.push_str(", error=\"");
            out.push_str(error);
            out.push_str("\", error_description=\"");
            out.extend(description.chars().filter(|&c| is_description_char(c)));
            out.push_str("\", error_uri=\"");
            out.push_str(error_uri);
            out.push('"');
        }
        if let Some(acr) = self.acr_values {
            out.push_str(", acr_values=\"");
            out.push_str(acr);
            out.push('"');
        }
        if let Some(max_age) = self.max_age {
            out.push_str(&format!(", max_age={max_age}"));
        }
        out
    }
}

/// RFC 6750 section 3: `error_description` is `%x20-21 / %x23-5B / %x5D-7E`.
fn is_description_char(c: char) -> bool {
    matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e')
}

impl IntoResponse for ApiError {
    /// Parks the error in the response; the request-context middleware renders it with the
    /// request id. The status is set already so layers in between see the right one.
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self.status();
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use response_schema::{Expect, Problem, Response as Checked, check};

    async fn checked(error: ApiError) -> Vec<String> {
        let response = error.render("req_test", "http://127.0.0.1:8080");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        check(
            &Checked {
                status,
                headers: &headers,
                body: &body,
            },
            &Expect::code(error.code).in_envelope(error.envelope),
        )
        .iter()
        .map(ToString::to_string)
        .collect()
    }

    #[tokio::test]
    async fn every_code_renders_a_conforming_body() {
        for &code in Code::ALL {
            let mut error = ApiError::new(code, "Something happened.");
            if code.requires(catalog::Extra::Purpose) {
                error = error.with_purpose(Purpose::DeleteUser);
            }
            if code.requires(catalog::Extra::Errors) {
                error = error.with_errors(vec![FieldError::pointer("/email", "is required")]);
            }
            if code.requires(catalog::Extra::RetryAfter) {
                error = error.with_retry_after(7);
            }
            assert_eq!(checked(error).await, Vec::<String>::new(), "{code}");
        }
    }

    #[tokio::test]
    async fn generic_codes_render_in_the_scim_envelope() {
        for code in [Code::Unauthorized, Code::NotFound, Code::RateLimited] {
            let error = ApiError::new(code, "Nope.").with_retry_after(1).scim();
            assert_eq!(checked(error).await, Vec::<String>::new(), "{code}");
        }
    }

    #[tokio::test]
    async fn problem_bodies_are_exactly_response_schema_problems() {
        for &code in Code::ALL {
            let error = ApiError::new(code, "Something \"happened\".")
                .with_purpose(Purpose::DeleteUser)
                .with_errors(vec![FieldError::pointer("/email", "is required")])
                .with_retry_after(7);
            if error.envelope != Envelope::Problem {
                continue;
            }
            let response = error.render("req_test", "http://127.0.0.1:8080");
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            let mut expected = Problem::new(
                code,
                "http://127.0.0.1:8080",
                error.detail.as_ref(),
                "req_test",
            );
            expected.purpose = Some(Purpose::DeleteUser.as_str().to_owned());
            expected.errors = Some(error.errors.clone());
            expected.retry_after = Some(7);
            assert_eq!(body, serde_json::to_vec(&expected).unwrap(), "{code}");
        }
    }

    #[test]
    fn challenges_follow_the_catalog() {
        let render = |e: ApiError| e.www_authenticate.map(|c| c.render("u", "d\"x"));
        assert_eq!(
            render(ApiError::new(Code::Unauthorized, "x")).as_deref(),
            Some("Bearer realm=\"platform\"")
        );
        assert_eq!(
            render(ApiError::new(Code::StepUpReused, "x")).as_deref(),
            Some(
                "Bearer realm=\"platform\", error=\"invalid_token\", error_description=\"dx\", error_uri=\"u\""
            )
        );
        assert_eq!(render(ApiError::new(Code::Forbidden, "x")), None);
    }
}
