//! The request journal: the last N requests, bounded, for a client test to assert what its
//! client did (that it waited `Retry-After` before retrying, say).
//!
//! Each entry holds the method, path and query, the matched route and operation, the header
//! fields with secrets redacted, the status answered (and a broken connection), the fault
//! rule that fired, the preference applied, when it arrived and how long it took. Everything
//! taken from the request is bounded and has control characters escaped: the journal is read
//! back by people and tools, and a request is hostile input.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use http::HeaderMap;
use serde::Serialize;

/// The largest journal `--journal` may ask for.
pub(crate) const MAX_JOURNAL: usize = 100_000;

/// Header fields kept per entry; the rest are counted in `headers_dropped`.
const MAX_HEADERS: usize = 32;

/// Bytes kept of a path or a header value (then `…`).
const MAX_TEXT: usize = 512;

/// What replaces a secret.
const REDACTED: &str = "[redacted]";

/// One request.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Entry {
    /// When it arrived, in milliseconds since the Unix epoch.
    pub(crate) at_ms: u64,
    pub(crate) method: String,
    /// Path and query, as sent.
    pub(crate) path: String,
    /// The matched route's template; `None` for an unrouted request.
    pub(crate) route: Option<&'static str>,
    pub(crate) operation: Option<&'static str>,
    /// (name, value) pairs in the order sent, secrets redacted.
    pub(crate) headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) headers_dropped: usize,
    /// The status answered (what was about to be sent when the connection was broken).
    pub(crate) status: u16,
    /// How a fault rule broke the connection, if one did.
    pub(crate) connection: Option<&'static str>,
    /// The id of the fault rule that fired.
    pub(crate) rule: Option<String>,
    /// The `Preference-Applied` value, when `Prefer: error=` was honoured.
    pub(crate) preference_applied: Option<String>,
    /// From arrival to the response (added latency included), in microseconds.
    pub(crate) micros: u64,
}

// serde's `skip_serializing_if` passes a reference.
#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes a reference"
)]
fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Which entries `GET /admin/requests` returns.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filter {
    /// A route template or a path (without query).
    pub(crate) route: Option<String>,
    pub(crate) method: Option<String>,
    /// At or after (ms since the epoch).
    pub(crate) since: Option<u64>,
    /// Before (ms since the epoch).
    pub(crate) until: Option<u64>,
}

impl Filter {
    fn accepts(&self, entry: &Entry) -> bool {
        let path = entry.path.split('?').next().unwrap_or_default();
        self.route
            .as_deref()
            .is_none_or(|r| entry.route == Some(r) || path == r)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(&entry.method))
            && self.since.is_none_or(|t| entry.at_ms >= t)
            && self.until.is_none_or(|t| entry.at_ms < t)
    }
}

/// The last `capacity` requests (none when 0).
#[derive(Debug, Default)]
pub(crate) struct Journal {
    capacity: usize,
    entries: Mutex<VecDeque<Entry>>,
}

impl Journal {
    /// A journal of the last `capacity` requests, at most [`MAX_JOURNAL`].
    pub(crate) fn new(capacity: usize) -> Journal {
        Journal {
            capacity: capacity.min(MAX_JOURNAL),
            entries: Mutex::new(VecDeque::new()),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// Adds `entry`, dropping the oldest at capacity.
    pub(crate) fn push(&self, entry: Entry) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        while entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The entries `filter` accepts, oldest first.
    pub(crate) fn entries(&self, filter: &Filter) -> Vec<Entry> {
        self.lock()
            .iter()
            .filter(|e| filter.accepts(e))
            .cloned()
            .collect()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The header fields of a request as the journal keeps them: at most [`MAX_HEADERS`], each
/// value cut and escaped, secrets redacted; and how many were left out.
pub(crate) fn headers(headers: &HeaderMap) -> (Vec<(String, String)>, usize) {
    let kept = headers
        .iter()
        .take(MAX_HEADERS)
        .map(|(name, value)| {
            let name = name.as_str();
            let value = if is_secret(name) {
                redact(name, value.as_bytes())
            } else {
                text(value.as_bytes())
            };
            (name.to_owned(), value)
        })
        .collect();
    (kept, headers.len().saturating_sub(MAX_HEADERS))
}

/// A path and query as the journal keeps them: the values of query parameters whose names
/// look like credentials (`?access_token=...`) redacted, then cut and escaped as [`text`].
pub(crate) fn path(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return text(path_and_query.as_bytes());
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret(&name.to_ascii_lowercase()) => {
                format!("{name}={REDACTED}")
            }
            _ => pair.to_owned(),
        })
        .collect();
    text(format!("{path}?{}", query.join("&")).as_bytes())
}

/// Header fields that carry credentials: bearer tokens, step-up tokens, cookies, API keys,
/// webhook secrets and signatures.
fn is_secret(name: &str) -> bool {
    // Names are lower case in a `HeaderMap`.
    matches!(
        name,
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "x-step-up-token"
    ) || [
        "token",
        "secret",
        "signature",
        "api-key",
        "apikey",
        "password",
        "session",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// A secret's value as kept: the scheme of an `Authorization` value (`Bearer`) stays, so a
/// test can still see which kind of credential was sent.
fn redact(name: &str, value: &[u8]) -> String {
    if name.ends_with("authorization")
        && let Some(space) = value.iter().position(|&b| b == b' ')
        && value[..space].iter().all(u8::is_ascii_alphanumeric)
        && space > 0
    {
        return format!("{} {REDACTED}", text(&value[..space]));
    }
    REDACTED.to_owned()
}

/// `bytes` as text: cut at [`MAX_TEXT`] bytes, invalid UTF-8 replaced, control characters
/// escaped as `\u{..}`.
pub(crate) fn text(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(MAX_TEXT)];
    let mut out = String::with_capacity(cut.len());
    for c in String::from_utf8_lossy(cut).chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    if bytes.len() > MAX_TEXT {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderName, HeaderValue};

    fn entry(at_ms: u64, path: &str) -> Entry {
        Entry {
            at_ms,
            method: "GET".to_owned(),
            path: path.to_owned(),
            route: None,
            operation: None,
            headers: Vec::new(),
            headers_dropped: 0,
            status: 200,
            connection: None,
            rule: None,
            preference_applied: None,
            micros: 1,
        }
    }

    #[test]
    fn secrets_are_redacted_and_the_rest_kept_escaped() {
        let mut map = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer tok_acme_admin"),
            ("x-step-up-token", "su_secret"),
            ("cookie", "session=abc"),
            ("webhook-signature", "v1,abc="),
            ("x-webhook-secret", "whsec_abc"),
            ("x-api-key", "k"),
            ("proxy-authorization", "Basic dXNlcjpwdw=="),
            ("user-agent", "client/1"),
            ("prefer", "error=RateLimited"),
        ] {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_bytes(value.as_bytes()).unwrap(),
            );
        }
        map.append(
            HeaderName::from_static("x-odd"),
            HeaderValue::from_bytes(b"a\tb\xff").unwrap(),
        );
        let (kept, dropped) = headers(&map);
        assert_eq!(dropped, 0);
        let kept: Vec<(&str, &str)> = kept.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        assert_eq!(
            kept,
            [
                ("authorization", "Bearer [redacted]"),
                ("x-step-up-token", "[redacted]"),
                ("cookie", "[redacted]"),
                ("webhook-signature", "[redacted]"),
                ("x-webhook-secret", "[redacted]"),
                ("x-api-key", "[redacted]"),
                ("proxy-authorization", "Basic [redacted]"),
                ("user-agent", "client/1"),
                ("prefer", "error=RateLimited"),
                ("x-odd", "a\\u{9}b\u{fffd}"),
            ]
        );
    }

    #[test]
    fn secret_query_parameters_are_redacted() {
        assert_eq!(
            path("/v1/x?limit=2&access_token=abc&Api-Key=k&q"),
            "/v1/x?limit=2&access_token=[redacted]&Api-Key=[redacted]&q"
        );
        assert_eq!(path("/healthz"), "/healthz");
    }

    #[test]
    fn long_values_and_many_headers_are_bounded() {
        let mut map = HeaderMap::new();
        for i in 0..40 {
            map.append(
                HeaderName::from_bytes(format!("x-h{i}").as_bytes()).unwrap(),
                HeaderValue::from_str(&"v".repeat(2000)).unwrap(),
            );
        }
        let (kept, dropped) = headers(&map);
        assert_eq!((kept.len(), dropped), (MAX_HEADERS, 8));
        assert!(kept.iter().all(|(_, v)| v.chars().count() == MAX_TEXT + 1));
    }

    #[test]
    fn the_journal_keeps_the_last_n_and_filters() {
        let journal = Journal::new(3);
        for i in 0..10 {
            journal.push(entry(i, &format!("/p{}?q=1", i % 2)));
        }
        assert_eq!(journal.len(), 3);
        let all: Vec<u64> = journal
            .entries(&Filter::default())
            .iter()
            .map(|e| e.at_ms)
            .collect();
        assert_eq!(all, [7, 8, 9]);
        let odd = Filter {
            route: Some("/p1".to_owned()),
            ..Filter::default()
        };
        assert_eq!(journal.entries(&odd).len(), 2);
        let window = Filter {
            since: Some(8),
            until: Some(9),
            ..Filter::default()
        };
        assert_eq!(journal.entries(&window)[0].at_ms, 8);
        assert_eq!(journal.entries(&window).len(), 1);
        let off = Journal::new(0);
        off.push(entry(1, "/"));
        assert_eq!(off.len(), 0);
        assert_eq!(Journal::new(usize::MAX).capacity(), MAX_JOURNAL);
    }
}
