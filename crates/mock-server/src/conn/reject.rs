//! The response that replaces hyper's bodyless rejection of a request it cannot parse.
//!
//! The catalog has no 414 or 431; like the app's own 413, every such rejection is
//! **400 ValidationError** with one `errors` entry at pointer `""` (the whole request) and a
//! `detail` (the body's, and the entry's) saying what was wrong. It is rendered by [`ApiError::render`], as every other
//! error, with a fresh request id (header and body) and `connection: close`. When the
//! request line could be read far enough to show a path under `/scim/v2`, the SCIM envelope
//! is used (`scimType` `invalidSyntax`), as the app would.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use axum::body::HttpBody;
use response_schema::ScimType;

use super::activity::MAX_HEAD_BYTES;
use crate::context::RequestId;
use crate::error::ApiError;
use crate::scim::is_scim_path;

/// Renders rejections for one server.
pub(crate) struct Rejects {
    public_url: String,
}

impl Rejects {
    pub(crate) fn new(public_url: &str) -> Rejects {
        Rejects {
            public_url: public_url.to_owned(),
        }
    }

    /// The full HTTP/1.1 response replacing hyper's rejection `status`; `head` is the start of
    /// the rejected request as read.
    pub(crate) fn render(&self, status: u16, head: &[u8]) -> Vec<u8> {
        let detail = detail(status);
        let mut error = ApiError::invalid_body("", detail);
        error.detail = detail.into();
        let path = request_path(head);
        if path.is_some_and(is_scim_path) {
            error = error.scim().with_scim_type(ScimType::InvalidSyntax);
        }
        let id = RequestId::generate();
        tracing::info!(
            request_id = %id,
            hyper_status = status,
            path = path.unwrap_or("?"),
            "rejected an unparsable request: {detail}"
        );
        let response = error.render(id.as_str(), &self.public_url);
        let (parts, mut body) = response.into_parts();
        let mut bytes = Vec::new();
        // The body is in memory: one poll yields all of it.
        let mut cx = Context::from_waker(Waker::noop());
        while let Poll::Ready(Some(Ok(frame))) = Pin::new(&mut body).poll_frame(&mut cx) {
            if let Ok(data) = frame.into_data() {
                bytes.extend_from_slice(&data);
            }
        }
        let mut out = format!(
            "HTTP/1.1 {} {}\r\n",
            parts.status.as_u16(),
            parts.status.canonical_reason().unwrap_or("")
        )
        .into_bytes();
        for (name, value) in &parts.headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(
            format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                bytes.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&bytes);
        out
    }
}

/// The `detail` for each of hyper's rejections.
fn detail(status: u16) -> &'static str {
    match status {
        431 => {
            const _: () = assert!(MAX_HEAD_BYTES == 65536, "update the message");
            "The request line and headers are larger than 65536 bytes."
        }
        414 => "The request target is too long.",
        _ => "The request line or a header could not be parsed as HTTP/1.1.",
    }
}

/// The path of a request line's target, if the start of the head shows one.
fn request_path(head: &[u8]) -> Option<&str> {
    let line = head.split(|&b| b == b'\n').next()?;
    let mut parts = line.split(|&b| b == b' ');
    let _method = parts.next()?;
    let target = std::str::from_utf8(parts.next()?).ok()?;
    let path = target.split(['?', '#']).next()?;
    path.starts_with('/').then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths() {
        assert_eq!(
            request_path(b"GET /scim/v2/Users?x HTTP/1.1\r\n"),
            Some("/scim/v2/Users")
        );
        assert_eq!(request_path(b"GET /scim/v2/Us"), Some("/scim/v2/Us"));
        assert_eq!(request_path(b"GARBAGE"), None);
        assert_eq!(request_path(b"GET http://x/scim/v2 HTTP/1.1"), None);
        assert_eq!(request_path(b""), None);
    }

    #[test]
    fn renders_a_complete_problem_response() {
        let rejects = Rejects::new("http://127.0.0.1:1");
        let text = String::from_utf8(rejects.render(431, b"GET / HTTP/1.1\r\n")).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(
            head.contains("\r\ncontent-type: application/problem+json\r\n"),
            "{head}"
        );
        assert!(
            head.contains("\r\nx-error-code: ValidationError\r\n"),
            "{head}"
        );
        assert!(head.contains("\r\nconnection: close"), "{head}");
        assert!(
            head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())),
            "{head}"
        );
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], "ValidationError");
        assert_eq!(json["status"], 400);
        assert_eq!(json["detail"], detail(431));
        assert_eq!(json["errors"][0]["pointer"], "");
        let id = head
            .lines()
            .find_map(|l| l.strip_prefix("x-request-id: "))
            .unwrap();
        assert_eq!(json["request_id"], id);

        let scim = String::from_utf8(rejects.render(400, b"GET /scim/v2/Users\x01 HTTP")).unwrap();
        assert!(
            scim.contains("content-type: application/scim+json"),
            "{scim}"
        );
        assert!(scim.contains(r#""scimType":"invalidSyntax""#), "{scim}");
    }
}
