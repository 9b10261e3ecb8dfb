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

use std::io::Write as _;

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use catalog::{Challenge, Code, Envelope};
use http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use response_schema::{
    ERROR_CODE_HEADER, FieldError, PROBLEM_JSON, SCIM_JSON, ScimError, ScimType,
};

use crate::model::Purpose;

pub(crate) const X_REQUEST_ID: &str = "x-request-id";

/// [`X_REQUEST_ID`] as a header name, so setting it does not parse the name per request.
pub(crate) const X_REQUEST_ID_NAME: HeaderName = HeaderName::from_static(X_REQUEST_ID);

/// `x-error-code` as a header name.
const ERROR_CODE_NAME: HeaderName = HeaderName::from_static(ERROR_CODE_HEADER);

/// The `detail` of NotFound for a path or method no route serves. Resources that are missing
/// or hidden get another detail instead, so a test can tell an unrouted request from a
/// routed one, while a hidden resource still cannot be told from a missing one.
pub const UNKNOWN_ROUTE_DETAIL: &str =
    "No route serves this method and path; see /openapi.json for the API.";

/// The `detail` of NotFound for every missing or hidden resource.
pub(crate) const NOT_FOUND_DETAIL: &str =
    "The resource does not exist or is not visible to the caller.";

/// A documented failure, rendered as a problem-details or SCIM error body.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{code}: {detail}")]
pub(crate) struct ApiError {
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
pub(crate) struct BearerChallenge {
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
    pub(crate) fn new(code: Code, detail: impl Into<Cow<'static, str>>) -> ApiError {
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
    pub(crate) fn not_found() -> ApiError {
        ApiError::new(Code::NotFound, NOT_FOUND_DETAIL)
    }

    /// NotFound for a method and path no route serves.
    pub(crate) fn unknown_route() -> ApiError {
        ApiError::new(Code::NotFound, UNKNOWN_ROUTE_DETAIL)
    }

    /// ValidationError listing `errors` (at least one).
    pub(crate) fn validation(errors: Vec<FieldError>) -> ApiError {
        let detail = match errors.len() {
            1 => "The request has 1 invalid field.".to_owned(),
            n => format!("The request has {n} invalid fields."),
        };
        ApiError::new(Code::ValidationError, detail).with_errors(errors)
    }

    /// ValidationError for one place in the body (`""` is the whole body).
    pub(crate) fn invalid_body(pointer: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError::validation(vec![FieldError::pointer(pointer, detail)])
    }

    /// ValidationError for one query parameter.
    pub(crate) fn invalid_parameter(
        name: impl Into<String>,
        detail: impl Into<String>,
    ) -> ApiError {
        ApiError::validation(vec![FieldError::parameter(name, detail)])
    }

    /// Sets `purpose` (STEP_UP_REQUIRED).
    pub(crate) fn with_purpose(mut self, purpose: Purpose) -> ApiError {
        self.purpose = Some(purpose);
        self
    }

    /// Sets `errors` (ValidationError).
    pub(crate) fn with_errors(mut self, errors: Vec<FieldError>) -> ApiError {
        self.errors = errors;
        self
    }

    /// Sets `retry_after` and the `Retry-After` header.
    pub(crate) fn with_retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(u32::try_from(seconds).unwrap_or(u32::MAX));
        self
    }

    /// Sets the bearer challenge's `error` (only meaningful for 401s).
    pub(crate) fn with_bearer_error(mut self, error: &'static str) -> ApiError {
        if let Some(challenge) = &mut self.www_authenticate {
            challenge.error = Some(error);
        }
        self
    }

    /// Sets RFC 9470 `acr_values` and `max_age` (only meaningful for 401s).
    pub(crate) fn with_acr(mut self, acr_values: &'static str, max_age: Option<u64>) -> ApiError {
        if let Some(challenge) = &mut self.www_authenticate {
            challenge.acr_values = Some(acr_values);
            challenge.max_age = max_age.map(|s| u32::try_from(s).unwrap_or(u32::MAX));
        }
        self
    }

    /// Sends the error in the SCIM envelope (generic codes on `/scim/v2`).
    pub(crate) fn scim(mut self) -> ApiError {
        self.envelope = Envelope::Scim;
        self
    }

    /// Sets the SCIM `scimType` (SCIM envelope only).
    pub(crate) fn with_scim_type(mut self, scim_type: ScimType) -> ApiError {
        self.scim_type = Some(scim_type);
        self
    }

    pub(crate) fn status(&self) -> StatusCode {
        // Catalog statuses are all valid 4xx/5xx numbers; the fallback is unreachable.
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::BAD_REQUEST)
    }

    /// The full response: body, `content-type`, `x-request-id`, `WWW-Authenticate`,
    /// `Retry-After`. `docs_base` is the base of the `type` URLs (the mock's public URL).
    ///
    /// The request path renders through [`ErrorTemplates`] instead ([`ApiError::render_with`]),
    /// which does the per-code part once per process; both give the same bytes.
    pub(crate) fn render(&self, request_id: &str, docs_base: &str) -> Response {
        self.render_in(&CodeTemplate::new(self.code, docs_base), request_id)
    }

    /// [`ApiError::render`] with the per-code parts taken from `templates`.
    pub(crate) fn render_with(&self, templates: &ErrorTemplates, request_id: &str) -> Response {
        self.render_in(templates.get(self.code), request_id)
    }

    fn render_in(&self, template: &CodeTemplate, request_id: &str) -> Response {
        let (media_type, body) = match self.envelope {
            Envelope::Problem => (PROBLEM_JSON_VALUE, self.problem_body(template, request_id)),
            Envelope::Scim => {
                let scim = ScimError::new(self.code, self.scim_type, self.detail.as_ref());
                // Serializing this plain struct cannot fail; an empty body would still carry
                // the status and headers.
                (
                    SCIM_JSON_VALUE,
                    serde_json::to_vec(&scim).unwrap_or_default(),
                )
            }
        };
        let mut headers = HeaderMap::with_capacity(6);
        headers.insert(CONTENT_TYPE, media_type);
        // The code in a header on every error: its only place in a SCIM error.
        headers.insert(ERROR_CODE_NAME, template.code_header.clone());
        if let Ok(value) = HeaderValue::from_str(request_id) {
            headers.insert(X_REQUEST_ID_NAME, value);
        }
        if let Some(challenge) = &self.www_authenticate {
            let value = if *challenge == BearerChallenge::default() {
                Ok(BARE_CHALLENGE_VALUE)
            } else {
                // `from_maybe_shared` takes the rendered bytes over without a copy.
                HeaderValue::from_maybe_shared(Bytes::from(
                    challenge.render(&template.type_url, &self.detail),
                ))
            };
            if let Ok(value) = value {
                headers.insert(WWW_AUTHENTICATE, value);
            }
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = template.status;
        *response.headers_mut() = headers;
        response
    }

    /// The problem-details body: the template's head, then the members that vary, written
    /// in the order of [`response_schema::Problem`] with serde_json's own string escaping (a
    /// test holds the two to the same bytes for every code).
    fn problem_body(&self, template: &CodeTemplate, request_id: &str) -> Vec<u8> {
        const PURPOSE: &[u8] = b",\"purpose\":";
        const ERRORS: &[u8] = b",\"errors\":";
        const RETRY_AFTER: &[u8] = b",\"retry_after\":";
        let purpose = self.purpose.map(Purpose::as_str);
        let mut digits = itoa::Buffer::new();
        let retry_after = self.retry_after.map(|s| digits.format(s));
        // The exact length, so that the buffer becomes the body's `Bytes` as it is (a buffer
        // with spare room costs `Bytes` an allocation of its own); only `errors` is guessed.
        let length = template.problem_head.len()
            + json_len(&self.detail)
            + template.problem_code.len()
            + json_len(request_id)
            + purpose.map_or(0, |p| PURPOSE.len() + json_len(p))
            + if self.errors.is_empty() {
                0
            } else {
                ERRORS.len() + 128 * self.errors.len()
            }
            + retry_after.map_or(0, |r| RETRY_AFTER.len() + r.len())
            + 1;
        let mut body = Vec::with_capacity(length);
        body.extend_from_slice(&template.problem_head);
        json_string(&mut body, &self.detail);
        body.extend_from_slice(&template.problem_code);
        json_string(&mut body, request_id);
        if let Some(purpose) = purpose {
            body.extend_from_slice(PURPOSE);
            json_string(&mut body, purpose);
        }
        if !self.errors.is_empty() {
            body.extend_from_slice(ERRORS);
            // Writing into a `Vec` cannot fail, nor can serializing these plain structs.
            let _ = serde_json::to_writer(&mut body, &self.errors);
        }
        if let Some(retry_after) = retry_after {
            body.extend_from_slice(RETRY_AFTER);
            body.extend_from_slice(retry_after.as_bytes());
        }
        body.push(b'}');
        body
    }
}

/// `WWW-Authenticate` of a 401 without error information (no credentials were sent): the
/// start of every challenge.
const BARE_CHALLENGE: &str = "Bearer realm=\"platform\"";

// Header values checked once, at compile time (`from_static` on a value only known at run
// time checks it byte by byte on every call).
const BARE_CHALLENGE_VALUE: HeaderValue = HeaderValue::from_static(BARE_CHALLENGE);
const PROBLEM_JSON_VALUE: HeaderValue = HeaderValue::from_static(PROBLEM_JSON);
const SCIM_JSON_VALUE: HeaderValue = HeaderValue::from_static(SCIM_JSON);

/// Whether `text` is printable ASCII other than `"` and `\`: what JSON strings and RFC 6750
/// `error_description` values carry as it is.
fn is_plain(text: &str) -> bool {
    // A fold without an early exit, which the compiler turns into vector instructions.
    text.bytes().fold(true, |plain, b| {
        plain & (0x20..0x7f).contains(&b) & (b != b'"') & (b != b'\\')
    })
}

/// The length of `text` as a JSON string, quotes included, escaped as serde_json escapes it:
/// `"`, `\` and the five named control characters take two bytes, other control characters
/// six (`\u00XX`), everything else (DEL and non-ASCII too) is copied.
fn json_len(text: &str) -> usize {
    if is_plain(text) {
        return text.len() + 2;
    }
    let escaped: usize = text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..0x20 => 6,
            _ => 1,
        })
        .sum();
    escaped + 2
}

/// Appends `text` as a JSON string, escaped exactly as serde_json escapes it.
fn json_string(out: &mut Vec<u8>, text: &str) {
    // Most details and every request id need no escape: plain text is copied as it is, which
    // is what serde_json writes for it.
    if is_plain(text) {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
        return;
    }
    // Writing a string into a `Vec` cannot fail.
    let _ = serde_json::to_writer(out, text);
}

/// The parts of every code's error response that depend only on the code and the public base
/// URL, rendered once: the problem body's head up to `"detail":`, the members between
/// `detail` and `request_id`, the `type` URL for bearer challenges, the status and the
/// `x-error-code` value. The request-context layer builds them when the app is assembled.
#[derive(Clone, Debug)]
pub(crate) struct ErrorTemplates {
    /// Indexed by `Code as usize` (the order of `Code::ALL`).
    codes: Vec<CodeTemplate>,
}

impl ErrorTemplates {
    /// Templates for every catalog code, with `type` URLs under `docs_base`.
    pub(crate) fn new(docs_base: &str) -> ErrorTemplates {
        ErrorTemplates {
            codes: Code::ALL
                .iter()
                .map(|&code| CodeTemplate::new(code, docs_base))
                .collect(),
        }
    }

    fn get(&self, code: Code) -> &CodeTemplate {
        &self.codes[code as usize]
    }
}

#[derive(Clone, Debug)]
struct CodeTemplate {
    type_url: Box<str>,
    /// `{"type":"…","title":"…","status":401,"detail":`
    problem_head: Box<[u8]>,
    /// `,"code":"…","request_id":`
    problem_code: Box<[u8]>,
    status: StatusCode,
    code_header: HeaderValue,
}

impl CodeTemplate {
    fn new(code: Code, docs_base: &str) -> CodeTemplate {
        let info = code.info();
        let type_url = code.type_url(docs_base);
        let mut problem_head = b"{\"type\":".to_vec();
        json_string(&mut problem_head, &type_url);
        problem_head.extend_from_slice(b",\"title\":");
        json_string(&mut problem_head, info.title);
        let _ = write!(problem_head, ",\"status\":{},\"detail\":", info.status);
        let mut problem_code = b",\"code\":".to_vec();
        json_string(&mut problem_code, info.name);
        problem_code.extend_from_slice(b",\"request_id\":");
        CodeTemplate {
            type_url: type_url.into_boxed_str(),
            problem_head: problem_head.into_boxed_slice(),
            problem_code: problem_code.into_boxed_slice(),
            // Catalog statuses are all valid 4xx/5xx numbers; the fallback is unreachable.
            status: StatusCode::from_u16(info.status).unwrap_or(StatusCode::BAD_REQUEST),
            code_header: HeaderValue::from_static(info.name),
        }
    }
}

impl BearerChallenge {
    /// The `WWW-Authenticate` header value: the bare challenge, then
    /// `error`, `error_description` and `error_uri` when there is an error,
    /// then `acr_values` and `max_age` when set. The description loses the
    /// characters RFC 6750 forbids in it.
    pub(crate) fn render(&self, error_uri: &str, description: &str) -> String {
        // Catalog details are plain and go in as they are; others lose the characters
        // `error_description` cannot carry.
        let description: Cow<'_, str> = if is_plain(description) {
            Cow::Borrowed(description)
        } else {
            Cow::Owned(
                description
                    .chars()
                    .filter(|&c| is_description_char(c))
                    .collect(),
            )
        };
        let error = self.error.map_or([""; 7], |error| {
            [
                ", error=\"",
                error,
                "\", error_description=\"",
                &description,
                "\", error_uri=\"",
                error_uri,
                "\"",
            ]
        });
        let acr = self
            .acr_values
            .map_or([""; 3], |acr| [", acr_values=\"", acr, "\""]);
        let mut digits = itoa::Buffer::new();
        let max_age = self
            .max_age
            .map_or(["", ""], |s| [", max_age=", digits.format(s)]);
        // `concat` sizes the string exactly, so its buffer becomes the header value's `Bytes`
        // as it is.
        [
            BARE_CHALLENGE,
            error[0],
            error[1],
            error[2],
            error[3],
            error[4],
            error[5],
            error[6],
            acr[0],
            acr[1],
            acr[2],
            max_age[0],
            max_age[1],
        ]
        .concat()
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
    async fn templates_render_what_render_renders() {
        let templates = ErrorTemplates::new("http://127.0.0.1:8080/");
        for &code in Code::ALL {
            for error in [
                ApiError::new(code, "Some \"thing\"\n\u{1}."),
                ApiError::new(code, "x").with_retry_after(3).scim(),
            ] {
                let a = error.render("req_1", "http://127.0.0.1:8080/");
                let b = error.render_with(&templates, "req_1");
                assert_eq!(a.status(), b.status(), "{code}");
                assert_eq!(a.headers(), b.headers(), "{code}");
                let a = axum::body::to_bytes(a.into_body(), usize::MAX)
                    .await
                    .unwrap();
                let b = axum::body::to_bytes(b.into_body(), usize::MAX)
                    .await
                    .unwrap();
                assert_eq!(a, b, "{code}");
            }
        }
    }

    #[tokio::test]
    async fn problem_bodies_are_exactly_response_schema_problems() {
        for &code in Code::ALL {
            let error = ApiError::new(code, "Something \"happened\"\n\u{1}\u{e9}\\.")
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

    /// Bodies and challenges fill their buffers exactly, so each becomes a `Bytes` without an
    /// allocation of its own (only a body listing `errors` is sized by a guess).
    #[test]
    fn bodies_and_challenges_are_sized_exactly() {
        let templates = ErrorTemplates::new("http://127.0.0.1:8080");
        for &code in Code::ALL {
            for detail in ["Plain detail.", "Not \"plain\"\n\u{1}\u{e9}\\."] {
                let error = ApiError::new(code, detail)
                    .with_purpose(Purpose::DeleteUser)
                    .with_retry_after(7)
                    .with_acr("mfa", Some(300));
                let body = error.problem_body(templates.get(code), "req_1");
                assert_eq!(body.len(), body.capacity(), "{code} {detail:?}");
                if let Some(challenge) = &error.www_authenticate {
                    let value = challenge.render("http://x/#a", detail);
                    assert_eq!(value.len(), value.capacity(), "{code} {detail:?}");
                }
            }
        }
    }

    #[test]
    fn json_strings_are_escaped_as_serde_json_escapes_them() {
        for text in [
            "",
            "plain ASCII, with `ticks` and /slashes/",
            "req_00ff00ff00000001",
            "a \"quoted\" word",
            "back\\slash",
            "new\nline\ttab\u{7}bell\r\u{8}\u{c}\u{1f}",
            "\u{7f} delete",
            "caf\u{e9} \u{1f600}",
        ] {
            let mut ours = Vec::new();
            json_string(&mut ours, text);
            assert_eq!(ours, serde_json::to_vec(text).unwrap(), "{text:?}");
            assert_eq!(json_len(text), ours.len(), "{text:?}");
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
        assert_eq!(BearerChallenge::default().render("u", "d"), BARE_CHALLENGE);
    }
}
