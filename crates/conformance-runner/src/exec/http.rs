//! One request: its templates rendered ([`prepare`]), sent, its body read
//! in chunks up to the profile's `max_body_bytes`, and its secrets
//! remembered and redacted before anything quotes it.

use std::collections::BTreeMap;

use http::HeaderValue;
use http::header::CONTENT_TYPE;
use serde_json::Value;

use crate::check::Observed;
use crate::exec::cleanup::lock;
use crate::exec::shared::Shared;
use crate::model::scenario::{Body, Request};
use crate::model::template::{RenderError, Vars};
use crate::redact::{REDACTED_HEADER_NAME, SENSITIVE_HEADERS};
use crate::report::{RequestRecord, ResponseRecord};

/// Longest body excerpt in a setup finding.
pub(crate) const EXCERPT: usize = 300;
/// Largest body kept whole in a report; a larger one is kept as an excerpt.
pub(crate) const REPORT_BODY_MAX: usize = 64 * 1024;
/// Length of that excerpt, in characters.
pub(crate) const REPORT_EXCERPT: usize = 4096;

/// The status and a body excerpt, redacted before it is cut.
pub(crate) fn describe_response(shared: &Shared, observed: &Observed) -> String {
    let body = {
        let mut redactor = lock(&shared.redactor);
        redactor.sync();
        redactor.text(&String::from_utf8_lossy(&observed.body))
    };
    format!("{} {}", observed.status, excerpt(body.trim(), EXCERPT))
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// The response as reports and checks see it: every secret redacted in the
/// body, header values and header names.
pub(crate) fn redacted(shared: &Shared, observed: &Observed) -> Observed {
    let mut redactor = lock(&shared.redactor);
    redactor.sync();
    // One scan of everything at once finds most responses clean; a secret
    // inside any part is inside the whole (a match across two parts only
    // costs the part-by-part pass below, which then finds nothing).
    let mut whole = String::from_utf8_lossy(&observed.body).into_owned();
    for (name, value) in &observed.headers {
        whole.push('\n');
        whole.push_str(name.as_str());
        whole.push('\n');
        whole.push_str(&String::from_utf8_lossy(value.as_bytes()));
    }
    if !redactor.contains_secret(&whole) {
        return observed.clone();
    }
    let body = String::from_utf8_lossy(&observed.body);
    let body = if redactor.contains_secret(&body) {
        redactor.text(&body).into_bytes()
    } else {
        observed.body.clone()
    };
    let mut headers = http::HeaderMap::new();
    for (name, value) in &observed.headers {
        let name = if redactor.contains_secret(name.as_str()) {
            http::HeaderName::from_static(REDACTED_HEADER_NAME)
        } else {
            name.clone()
        };
        let text = String::from_utf8_lossy(value.as_bytes());
        let value = if redactor.contains_secret(&text) {
            // "[REDACTED]" is visible ASCII, valid in a header value.
            HeaderValue::from_bytes(redactor.text(&text).as_bytes())
                .unwrap_or_else(|_| HeaderValue::from_static(crate::redact::REDACTED))
        } else {
            value.clone()
        };
        headers.append(name, value);
    }
    Observed {
        status: observed.status,
        headers,
        body,
    }
}

/// A request with every template rendered.
pub(crate) struct Prepared {
    pub(crate) method: http::Method,
    pub(crate) url: String,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Option<Vec<u8>>,
}

impl Prepared {
    pub(crate) fn record(&self) -> RequestRecord {
        RequestRecord {
            method: self.method.to_string(),
            url: self.url.clone(),
            headers: header_map(&self.headers),
            replay: None,
        }
    }
}

/// Why a request could not be built.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PrepareError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("header `{0}` has a value that is not valid in a header")]
    HeaderValue(String),
}

pub(crate) fn prepare(
    shared: &Shared,
    request: &Request,
    vars: &Vars<'_>,
) -> Result<Prepared, PrepareError> {
    let url = format!("{}{}", shared.base_url, request.path.render_path(vars)?);
    let mut headers = http::HeaderMap::new();
    for (name, t) in &request.headers {
        let value = t.render(vars)?;
        let value = HeaderValue::from_str(&value)
            .map_err(|_| PrepareError::HeaderValue(name.to_string()))?;
        headers.append(name.clone(), value);
    }
    let body = match &request.body {
        None => None,
        Some(Body::Raw(t)) => Some(t.render(vars)?.into_bytes()),
        Some(Body::Json(v)) => {
            if !headers.contains_key(CONTENT_TYPE) {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Some(v.render(vars)?.to_string().into_bytes())
        }
    };
    Ok(Prepared {
        method: request.method.clone(),
        url,
        headers,
        body,
    })
}

pub(crate) async fn send(shared: &Shared, prepared: Prepared) -> Result<Observed, String> {
    send_via(shared, &shared.client, prepared).await
}

/// [`send`] through `client` (the untrusted source's, for one scenario).
pub(crate) async fn send_via(
    shared: &Shared,
    client: &reqwest::Client,
    prepared: Prepared,
) -> Result<Observed, String> {
    remember_secrets(shared, &prepared.headers);
    let mut builder = client
        .request(prepared.method, &prepared.url)
        .headers(prepared.headers);
    if let Some(body) = prepared.body {
        builder = builder.body(body);
    }
    let mut response = builder.send().await.map_err(|e| transport_error(&e))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    remember_secrets(shared, &headers);
    let max = shared.profile.limits.max_body_bytes;
    let too_large = || {
        format!(
            "status {status}, body larger than {max} bytes (the profile's `[limits] max_body_bytes`)"
        )
    };
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    // Read in chunks, so an endless or huge body costs at most `max` bytes.
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e))? {
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Observed {
        status,
        headers,
        body,
    })
}

/// Values of sensitive headers become secrets, so an echo of them anywhere
/// (a body, another header) is redacted too. For `Authorization` the
/// credentials after the scheme are the secret, so reports keep `Bearer`.
pub(crate) fn remember_secrets(shared: &Shared, headers: &http::HeaderMap) {
    for (name, value) in headers {
        if !SENSITIVE_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        let secret = if name == http::header::AUTHORIZATION {
            authorization_secret(&value)
        } else {
            Some(&*value)
        };
        if let Some(secret) = secret {
            shared.add_secret(secret);
        }
    }
}

/// The secret part of an `Authorization` value: the credentials after the
/// scheme, or the whole value when it is not `scheme credentials`; `None`
/// for a scheme name alone (`Bearer` with no token holds no secret, and
/// redacting the word would hide it in every later response).
fn authorization_secret(value: &str) -> Option<&str> {
    const SCHEMES: [&str; 6] = ["bearer", "basic", "digest", "negotiate", "dpop", "hoba"];
    match value.trim().split_once(' ') {
        Some((_, credentials)) if !credentials.trim().is_empty() => Some(credentials.trim()),
        Some((scheme, _)) if SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()) => None,
        _ if SCHEMES.contains(&value.trim().to_ascii_lowercase().as_str()) => None,
        _ if value.trim().is_empty() => None,
        _ => Some(value.trim()),
    }
}

pub(crate) fn transport_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    // The source chain says why (refused, reset); the URL is in the report already.
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        format!("the request {kind}")
    } else {
        format!("the request {kind}: {cause}")
    }
}

pub(crate) fn header_map(headers: &http::HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        out.entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

pub(crate) fn record(observed: &Observed) -> ResponseRecord {
    let body = if observed.body.is_empty() {
        Value::String(String::new())
    } else if observed.body.len() > REPORT_BODY_MAX {
        let text = String::from_utf8_lossy(&observed.body);
        Value::String(format!(
            "{} ({} bytes in all)",
            excerpt(&text, REPORT_EXCERPT),
            observed.body.len()
        ))
    } else {
        serde_json::from_slice(&observed.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&observed.body).into_owned()))
    };
    ResponseRecord {
        status: observed.status,
        headers: header_map(&observed.headers),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::authorization_secret;

    #[test]
    fn a_scheme_alone_is_no_secret_and_credentials_are() {
        assert_eq!(authorization_secret("Bearer tok_1"), Some("tok_1"));
        assert_eq!(
            authorization_secret("Basic dXNlcjpwYXNz"),
            Some("dXNlcjpwYXNz")
        );
        assert_eq!(authorization_secret("tok_bare"), Some("tok_bare"));
        assert_eq!(authorization_secret("Bearer"), None);
        assert_eq!(authorization_secret("bearer "), None);
        assert_eq!(authorization_secret(""), None);
    }
}
