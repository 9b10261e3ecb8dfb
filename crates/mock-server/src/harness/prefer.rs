//! The `Prefer` request header (RFC 7240) as far as the mock honours it: `error=CODE` and
//! `retry-after=SECONDS`.
//!
//! A header holds comma-separated preferences, each `name[=value]` with optional
//! `;parameters` (ignored here); a value may be quoted. Names are case-insensitive, and only
//! the first instance of a preference counts (RFC 7240 section 2). Preferences the mock does
//! not know (`respond-async`, `return=minimal`) are ignored, as the RFC asks.

use http::{HeaderMap, HeaderName};

/// `Prefer`.
pub(crate) const PREFER: HeaderName = HeaderName::from_static("prefer");

/// `Preference-Applied` (RFC 7240 section 3): on an answer that honoured `error=`.
pub(crate) const PREFERENCE_APPLIED: HeaderName = HeaderName::from_static("preference-applied");

/// The longest `error=` value looked at (the longest catalog name is far shorter).
const MAX_VALUE: usize = 64;

/// What a request prefers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Preferences {
    /// `error=CODE`: the value as sent (not yet checked against the catalog).
    pub(crate) error: Option<String>,
    /// `retry-after=SECONDS`: `Err` holds a value that is not a whole number of seconds.
    pub(crate) retry_after: Option<Result<u32, String>>,
}

/// The preferences of every `Prefer` field of `headers`.
pub(crate) fn parse(headers: &HeaderMap) -> Preferences {
    let mut out = Preferences::default();
    for value in headers.get_all(PREFER) {
        let Ok(text) = value.to_str() else { continue };
        for preference in split_unquoted(text, ',') {
            // Parameters after `;` do not matter to either preference.
            let head = split_unquoted(preference, ';').next().unwrap_or_default();
            let (name, value) = match head.split_once('=') {
                Some((name, value)) => (name.trim(), unquote(value.trim())),
                None => (head.trim(), String::new()),
            };
            if name.eq_ignore_ascii_case("error") && out.error.is_none() {
                out.error = Some(value.chars().take(MAX_VALUE).collect());
            } else if name.eq_ignore_ascii_case("retry-after") && out.retry_after.is_none() {
                let seconds = value
                    .parse::<u32>()
                    .ok()
                    .filter(|_| value.bytes().all(|b| b.is_ascii_digit()));
                out.retry_after = Some(seconds.ok_or(value));
            }
        }
    }
    out
}

/// `text` split at `separator` outside double quotes.
fn split_unquoted(text: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    let mut escaped = false;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty())
}

/// A quoted-string's content (backslash escapes undone), or a token as it is.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefs(values: &[&str]) -> Preferences {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(PREFER, v.parse().unwrap());
        }
        parse(&headers)
    }

    #[test]
    fn error_and_retry_after_are_read_wherever_they_sit() {
        let want = |error: &str, retry: Option<Result<u32, String>>| Preferences {
            error: Some(error.to_owned()),
            retry_after: retry,
        };
        assert_eq!(prefs(&["error=RateLimited"]), want("RateLimited", None));
        assert_eq!(
            prefs(&["error=RateLimited, retry-after=30"]),
            want("RateLimited", Some(Ok(30)))
        );
        assert_eq!(
            prefs(&[
                "respond-async, ERROR = \"CIRCUIT_OPEN\" ;x=1",
                "Retry-After=5"
            ]),
            want("CIRCUIT_OPEN", Some(Ok(5)))
        );
        // The first instance counts.
        assert_eq!(
            prefs(&[
                "error=NotFound",
                "error=Forbidden, retry-after=1, retry-after=2"
            ]),
            want("NotFound", Some(Ok(1)))
        );
        // A comma inside quotes does not split.
        assert_eq!(prefs(&["error=\"a,b\""]), want("a,b", None));
        assert_eq!(
            prefs(&["error=RateLimited, retry-after=-3"]),
            want("RateLimited", Some(Err("-3".to_owned())))
        );
        assert_eq!(
            prefs(&["error=RateLimited, retry-after=+3"]),
            want("RateLimited", Some(Err("+3".to_owned())))
        );
    }

    #[test]
    fn other_preferences_and_empty_headers_prefer_nothing() {
        assert_eq!(prefs(&[]), Preferences::default());
        assert_eq!(
            prefs(&["return=minimal, respond-async, wait=10", ",,"]),
            Preferences::default()
        );
        assert_eq!(prefs(&["errors=NotFound"]), Preferences::default());
    }
}
