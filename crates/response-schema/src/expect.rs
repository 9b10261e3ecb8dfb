//! What a response is, and what it is judged against: [`Response`],
//! [`Expect`] and where the code is carried ([`CodeAt`]).

use catalog::{Code, Envelope};
use http::HeaderMap;

use crate::body::ERROR_CODE_HEADER;

/// A response to check.
#[derive(Clone, Copy, Debug)]
pub struct Response<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The response headers, as received, repeated ones kept.
    pub headers: &'a HeaderMap,
    /// The body's bytes, undecoded (not required to be UTF-8 or JSON).
    pub body: &'a [u8],
}

/// What the response is judged against.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    /// The code the response must carry; `None` accepts any documented code
    /// whose documented status is the response's status.
    pub code: Option<Code>,
    /// The envelope; `None` takes the code's catalog envelope, or with no
    /// code, whatever the `Content-Type` says.
    pub envelope: Option<Envelope>,
    /// Where the reference page lives; `None` accepts any absolute base as
    /// long as the path and anchor are right.
    pub docs_base: Option<String>,
    /// Where the response carries the platform's code; `None` takes the
    /// envelope's own place (a problem's `/code` member, a SCIM error's
    /// `x-error-code` header). [`CodeAt::Nowhere`] checks no code at all: a
    /// third-party SCIM server knows nothing of the platform's catalog.
    pub code_at: Option<CodeAt>,
}

/// Where a response carries the platform's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeAt {
    /// A body member, by JSON Pointer (`/code`).
    Body(String),
    /// A response header, by lowercase name (`x-error-code`).
    Header(String),
    /// Not at all: the code is not checked.
    Nowhere,
}

impl CodeAt {
    /// The envelope's own place for the code.
    pub fn default_for(envelope: Envelope) -> CodeAt {
        match envelope {
            Envelope::Problem => CodeAt::Body("/code".into()),
            Envelope::Scim => CodeAt::Header(ERROR_CODE_HEADER.into()),
        }
    }

    /// Parses `/pointer`, `header:NAME` or `none`.
    pub fn parse(text: &str) -> Option<CodeAt> {
        if text == "none" {
            return Some(CodeAt::Nowhere);
        }
        if let Some(name) = text.strip_prefix("header:") {
            let name = name.to_ascii_lowercase();
            return http::HeaderName::try_from(name.as_str())
                .ok()
                .map(|_| CodeAt::Header(name));
        }
        let pointer_ok = text.starts_with('/') && {
            let b = text.as_bytes();
            b.iter()
                .enumerate()
                .all(|(i, &c)| c != b'~' || matches!(b.get(i + 1), Some(b'0' | b'1')))
        };
        pointer_ok.then(|| CodeAt::Body(text.to_owned()))
    }
}

impl std::fmt::Display for CodeAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodeAt::Body(pointer) => f.write_str(pointer),
            CodeAt::Header(name) => write!(f, "header:{name}"),
            CodeAt::Nowhere => f.write_str("none"),
        }
    }
}

impl Expect {
    /// Expects `code` in its catalog envelope.
    pub fn code(code: Code) -> Expect {
        Expect {
            code: Some(code),
            ..Expect::default()
        }
    }

    /// Expects any documented error.
    pub fn any() -> Expect {
        Expect::default()
    }

    /// The same expectation in another envelope (a generic code on a SCIM endpoint).
    pub fn in_envelope(mut self, envelope: Envelope) -> Expect {
        self.envelope = Some(envelope);
        self
    }
}
