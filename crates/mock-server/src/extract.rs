//! Extractors that never answer with axum's plain-text rejections.
//!
//! [`JsonBody`] collects the body (at most [`BODY_LIMIT`] bytes) without judging it; the
//! handler parses it at the point the precedence order says validation happens, and every
//! problem (wrong content type, too large, not JSON, not matching the OpenAPI request schema)
//! becomes a ValidationError listing each offending place by JSON Pointer. [`PathParams`] turns
//! an undecodable path segment into NotFound, since such a segment names nothing.

use std::borrow::Cow;
use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::ops::Range;

use axum::body::Bytes;
use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::request::Parts;
use http::{Extensions, Uri};
use response_schema::FieldError;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;
use crate::openapi::RequestSchemas;

/// The largest request body accepted, in bytes.
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// Details longer than this are cut, so a huge value in a body does not echo back whole.
const MAX_DETAIL: usize = 200;

/// The request body, collected but not yet judged.
#[derive(Clone, Debug)]
pub(crate) struct JsonBody {
    content_type: ContentType,
    bytes: Result<Bytes, BodyProblem>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ContentType {
    Absent,
    Json,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyProblem {
    TooLarge,
    Unreadable,
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Infallible;

    async fn from_request(req: Request, _state: &S) -> Result<JsonBody, Infallible> {
        let headers = req.headers();
        let content_type = match headers.get(CONTENT_TYPE).map(|v| v.to_str()) {
            None => ContentType::Absent,
            Some(Ok(text)) if is_json_media_type(text) => ContentType::Json,
            Some(_) => ContentType::Other,
        };
        let declared_too_large = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > BODY_LIMIT as u64);
        let bytes = if declared_too_large {
            Err(BodyProblem::TooLarge)
        } else {
            match axum::body::to_bytes(req.into_body(), BODY_LIMIT).await {
                Ok(bytes) => Ok(bytes),
                Err(e) if is_length_limit(&e) => Err(BodyProblem::TooLarge),
                Err(_) => Err(BodyProblem::Unreadable),
            }
        };
        Ok(JsonBody {
            content_type,
            bytes,
        })
    }
}

/// Whether `to_bytes` failed on the length limit rather than on a broken stream.
///
/// The limit error's type (`http_body_util::LengthLimitError`) is not re-exported by axum,
/// so it is recognised by its message; a test sends an oversized body to keep this honest.
fn is_length_limit(error: &axum::Error) -> bool {
    error.to_string().contains("length limit exceeded")
}

/// `application/json` or any `+json` type, parameters ignored.
fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence
            .rsplit_once('+')
            .is_some_and(|(_, suffix)| suffix.eq_ignore_ascii_case("json"))
}

impl JsonBody {
    /// The body as JSON: content type, size and syntax checked.
    pub(crate) fn value(&self) -> Result<Value, ApiError> {
        let bytes = match &self.bytes {
            Ok(bytes) => bytes,
            Err(BodyProblem::TooLarge) => {
                return Err(ApiError::invalid_body(
                    "",
                    format!("The body is larger than {BODY_LIMIT} bytes."),
                ));
            }
            Err(BodyProblem::Unreadable) => {
                return Err(ApiError::invalid_body("", "The body could not be read."));
            }
        };
        match self.content_type {
            ContentType::Json => {}
            ContentType::Absent if bytes.is_empty() => {
                return Err(ApiError::invalid_body(
                    "",
                    "A JSON body is required (Content-Type: application/json).",
                ));
            }
            ContentType::Absent | ContentType::Other => {
                return Err(ApiError::invalid_body(
                    "",
                    "The body must be sent as Content-Type: application/json.",
                ));
            }
        }
        serde_json::from_slice(bytes).map_err(|e| {
            ApiError::invalid_body("", truncate(&format!("The body is not valid JSON: {e}.")))
        })
    }

    /// The body checked against the OpenAPI component schema `component`, then deserialized.
    pub(crate) fn parse<T: DeserializeOwned>(
        &self,
        schemas: &RequestSchemas,
        component: &str,
    ) -> Result<T, ApiError> {
        let value = self.value()?;
        validate(schemas, component, &value)?;
        serde_json::from_value(value).map_err(|e| {
            ApiError::invalid_body("", truncate(&format!("The body is invalid: {e}.")))
        })
    }
}

/// Checks `value` against the component schema `component`, listing every offending place.
pub(crate) fn validate(
    schemas: &RequestSchemas,
    component: &str,
    value: &Value,
) -> Result<(), ApiError> {
    let Some(validator) = schemas.get(component) else {
        // A handler naming a schema the document lacks is a bug that the handler's tests catch;
        // failing closed keeps unvalidated input out.
        tracing::error!(component, "no such schema in schemas/openapi.json");
        return Err(ApiError::invalid_body("", "The body cannot be validated."));
    };
    let errors = field_errors(validator, value);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Every schema violation as a `FieldError` with a JSON Pointer, deduplicated (first
/// occurrence kept, in order) through a hash set, so a body with many unknown members costs
/// linear time, not a scan of the findings so far per finding.
pub(crate) fn field_errors(validator: &jsonschema::Validator, value: &Value) -> Vec<FieldError> {
    use jsonschema::error::ValidationErrorKind as Kind;
    let mut out: Vec<FieldError> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut push = |pointer: String, detail: String| {
        if seen.insert((pointer.clone(), detail.clone())) {
            out.push(FieldError::pointer(pointer, detail));
        }
    };
    for error in validator.iter_errors(value) {
        let at = error.instance_path().as_str().to_owned();
        match error.kind() {
            Kind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                push(
                    format!("{at}/{}", response_schema::pointer::escape_token(name)),
                    "is required".to_owned(),
                );
            }
            Kind::AdditionalProperties { unexpected } => {
                for name in unexpected {
                    push(
                        format!("{at}/{}", response_schema::pointer::escape_token(name)),
                        "is not allowed".to_owned(),
                    );
                }
            }
            _ => push(at, truncate(&error.to_string())),
        }
    }
    out
}

fn truncate(text: &str) -> String {
    if text.len() <= MAX_DETAIL {
        return text.to_owned();
    }
    let mut end = MAX_DETAIL;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The most path parameters a route has (a test of the route table holds every route to it).
pub(crate) const MAX_PARAMS: usize = 3;

/// Where the matched route's path parameters sit in the request's path: put in the request by
/// the route table (`crate::dispatch`), read by [`PathParams`].
#[derive(Clone, Debug, Default)]
pub(crate) struct RouteMatch {
    names: [&'static str; MAX_PARAMS],
    params: [Range<usize>; MAX_PARAMS],
    len: usize,
}

impl RouteMatch {
    /// Adds the parameter `name`, at `range` in the path; ignored past [`MAX_PARAMS`].
    pub(crate) fn push(&mut self, name: &'static str, range: Range<usize>) {
        if let (Some(n), Some(r)) = (self.names.get_mut(self.len), self.params.get_mut(self.len)) {
            (*n, *r) = (name, range);
            self.len += 1;
        }
    }

    /// Where the parameter `name` sits in the path.
    pub(crate) fn param(&self, name: &str) -> Option<Range<usize>> {
        let index = self.names[..self.len].iter().position(|n| *n == name)?;
        self.params.get(index).cloned()
    }

    /// Where every parameter sits in the path, in the template's order.
    pub(crate) fn params(&self) -> &[Range<usize>] {
        &self.params[..self.len]
    }
}

/// The path parameters of the matched route, percent-decoded, read where the route table
/// found them ([`RouteMatch`]): a parameter without escapes is a slice of the request's path.
#[derive(Debug)]
pub(crate) struct PathParams {
    uri: Uri,
    matched: RouteMatch,
    /// The decoded values of the parameters that had escapes (rare), by position.
    decoded: Vec<(usize, String)>,
}

impl PathParams {
    /// The parameter `name`, or `""` if the route has none (a bug the route's tests catch).
    pub(crate) fn get(&self, name: &str) -> &str {
        let Some(range) = self.matched.param(name) else {
            return "";
        };
        match self.decoded.iter().find(|(start, _)| *start == range.start) {
            Some((_, value)) => value,
            None => self.uri.path().get(range).unwrap_or(""),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<PathParams, ApiError> {
        // Every routed request has a match; without one there is nothing to name.
        let matched = parts
            .extensions
            .get::<RouteMatch>()
            .cloned()
            .ok_or_else(ApiError::not_found)?;
        let path = parts.uri.path();
        let mut decoded = Vec::new();
        for range in matched.params() {
            // A segment that is not UTF-8 once decoded names nothing.
            let value = decode_segment(path.get(range.clone()).unwrap_or(""))
                .ok_or_else(ApiError::not_found)?;
            if let Cow::Owned(value) = value {
                decoded.push((range.start, value));
            }
        }
        Ok(PathParams {
            uri: parts.uri.clone(),
            matched,
            decoded,
        })
    }
}

/// A path segment percent-decoded, as the route's parameter it fills: borrowed as it is when
/// it has no escapes; `None` when it is not UTF-8 once decoded.
pub(crate) fn decode_segment(segment: &str) -> Option<Cow<'_, str>> {
    if !segment.contains('%') {
        return Some(Cow::Borrowed(segment));
    }
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()
}

/// The raw value of query parameter `name` (first occurrence), not percent-decoded.
pub(crate) fn query_param<'a>(uri: &'a Uri, name: &str) -> Option<&'a str> {
    uri.query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then_some(value)
    })
}

/// The TCP peer: the real connection's, or the one a test pretends with `MockConnectInfo`.
pub(crate) fn peer_addr(extensions: &Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .or_else(|| extensions.get::<MockConnectInfo<SocketAddr>>().map(|m| m.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog::Code;

    /// `PathParams` of `path`, whose parameters sit at `params` (as the route table finds them).
    fn path_params(
        path: &str,
        params: &[(&'static str, Range<usize>)],
    ) -> Result<PathParams, ApiError> {
        let mut matched = RouteMatch::default();
        for (name, range) in params {
            matched.push(name, range.clone());
        }
        let (mut parts, ()) = Request::get(path).body(()).unwrap().into_parts();
        parts.extensions.insert(matched);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(PathParams::from_request_parts(&mut parts, &()))
    }

    #[test]
    fn path_params_are_read_in_place_and_decoded_where_escaped() {
        let path = "/v1/workspaces/acme/users/usr%5F1";
        let params = path_params(path, &[("workspace", 15..19), ("user_id", 26..33)]).unwrap();
        assert_eq!(params.get("workspace"), "acme");
        assert_eq!(params.get("user_id"), "usr_1");
        assert_eq!(params.get("webhook_id"), "");
        // Past `MAX_PARAMS`, a parameter is not kept.
        let mut matched = RouteMatch::default();
        for name in ["a", "b", "c", "d"] {
            matched.push(name, 0..1);
        }
        assert_eq!(matched.params().len(), MAX_PARAMS);
        assert_eq!(matched.param("d"), None);
    }

    #[test]
    fn a_parameter_that_is_not_utf8_once_decoded_is_not_found() {
        let error = path_params("/scim/v2/Users/%FF%FE", &[("id", 15..21)]).unwrap_err();
        assert_eq!(error.code, Code::NotFound);
        // A request the route table did not match has no parameters to name.
        let (mut parts, ()) = Request::get("/x").body(()).unwrap().into_parts();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let error = runtime
            .block_on(PathParams::from_request_parts(&mut parts, &()))
            .unwrap_err();
        assert_eq!(error.code, Code::NotFound);
    }

    #[test]
    fn json_media_types() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/merge-patch+json",
        ] {
            assert!(is_json_media_type(ok), "{ok}");
        }
        for bad in ["text/plain", "application/jsonx", "json", ""] {
            assert!(!is_json_media_type(bad), "{bad}");
        }
    }

    #[test]
    fn query_params() {
        let uri: Uri = "/x?a=1&limit=20&limit=3&flag".parse().unwrap();
        assert_eq!(query_param(&uri, "limit"), Some("20"));
        assert_eq!(query_param(&uri, "flag"), Some(""));
        assert_eq!(query_param(&uri, "nope"), None);
    }

    #[test]
    fn long_details_are_cut_on_a_char_boundary() {
        let text = "é".repeat(300);
        let cut = truncate(&text);
        assert!(cut.len() <= MAX_DETAIL + '…'.len_utf8());
    }

    #[test]
    fn unknown_members_are_reported_once_each_in_order() {
        // Two branches that both reject unknown members report each of them twice.
        let closed = serde_json::json!({
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "additionalProperties": false
        });
        let schema = serde_json::json!({"allOf": [closed, closed]});
        let validator = jsonschema::validator_for(&schema).unwrap();
        let n = 20_000;
        let body: serde_json::Map<String, Value> = (0..n)
            .map(|i| (format!("m{i:05}"), Value::Null))
            .chain([("name".to_owned(), Value::from(1))])
            .collect();
        let errors = field_errors(&validator, &Value::Object(body));
        let pointers: Vec<&str> = errors.iter().filter_map(|e| e.pointer.as_deref()).collect();
        assert_eq!(errors.len(), n + 1);
        let members: Vec<&str> = pointers
            .iter()
            .copied()
            .filter(|p| p.starts_with("/m"))
            .collect();
        assert_eq!(members.len(), n);
        assert_eq!(&members[..2], ["/m00000", "/m00001"]);
        assert_eq!(pointers.iter().filter(|p| **p == "/name").count(), 1);
        assert_eq!(
            errors
                .iter()
                .filter(|e| e.detail == "is not allowed")
                .count(),
            n
        );
    }
}
