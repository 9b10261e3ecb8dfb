//! Redaction of secrets in everything the runner writes.
//!
//! A run against staging handles real credentials, step-up tokens and
//! webhook secrets. Every report (human, JSON, JUnit, GitHub) is built from a
//! [`crate::report::Report`] that passes through [`Redactor`] first, so no
//! output path can forget it. Redacted: the values of sensitive headers, every
//! credential value of the profile, every captured value whose name says it
//! is a token or a secret, anything shaped like a Standard Webhooks secret
//! (`whsec_...`) and the token of any `Bearer` credential in text.

use std::sync::LazyLock;

use regex::Regex;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Headers whose values are always redacted.
pub const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-step-up-token",
    "webhook-signature",
];

/// Shortest value redacted by exact match; shorter ones would mangle reports.
const MIN_SECRET_LEN: usize = 4;

// The regexes are literals, exercised by the tests below.
static WEBHOOK_SECRET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"whsec_[A-Za-z0-9+/=_-]+").expect("valid regex"));

/// `Bearer <token68>`; the last two groups tell a credential (`Bearer abc=`)
/// from a challenge's auth-param (`Bearer realm="x"`, `Bearer error=invalid_token`).
static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(bearer)\s+([A-Za-z0-9._~+/-]+)(=*)([A-Za-z0-9"]?)"#).expect("valid regex")
});

/// Replaces known secrets in text.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Longest first, so a secret containing another is replaced whole.
    secrets: Vec<String>,
}

impl Redactor {
    /// Adds a secret value.
    pub fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < MIN_SECRET_LEN || self.secrets.iter().any(|s| s == secret) {
            return;
        }
        self.secrets.push(secret.to_owned());
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// Whether a captured value of this name is a secret.
    pub fn is_secret_name(name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        ["token", "secret", "password", "cookie", "key"]
            .iter()
            .any(|w| name.contains(w))
    }

    /// `text` with every secret replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        if WEBHOOK_SECRET.is_match(&out) {
            out = WEBHOOK_SECRET.replace_all(&out, REDACTED).into_owned();
        }
        if BEARER.is_match(&out) {
            out = BEARER
                .replace_all(&out, |c: &regex::Captures<'_>| {
                    let auth_param = !c[3].is_empty() && !c[4].is_empty();
                    if auth_param {
                        c[0].to_owned()
                    } else {
                        format!("{} {REDACTED}{}", &c[1], &c[4])
                    }
                })
                .into_owned();
        }
        out
    }

    /// A header value for a report: redacted whole when the header is sensitive.
    pub fn header(&self, name: &str, value: &str) -> String {
        if SENSITIVE_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            REDACTED.to_owned()
        } else {
            self.text(value)
        }
    }

    /// Redacts every string in a JSON value, in place.
    pub fn json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.text(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.json(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_known_values_patterns_and_headers() {
        let mut r = Redactor::default();
        r.add("tok_acme_admin");
        r.add("abc"); // too short to redact by value
        assert_eq!(r.text("token tok_acme_admin, abc"), "token [REDACTED], abc");
        assert_eq!(
            r.text(r#"{"secret":"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"}"#),
            r#"{"secret":"[REDACTED]"}"#
        );
        assert_eq!(
            r.text("Authorization: Bearer eyJ.abc-def"),
            "Authorization: Bearer [REDACTED]"
        );
        assert_eq!(r.text("bearer abc== x"), "bearer [REDACTED] x");
        let challenge = r#"Bearer realm="platform", error="invalid_token""#;
        assert_eq!(r.text(challenge), challenge);
        assert_eq!(
            r.text("Bearer error=invalid_token"),
            "Bearer error=invalid_token"
        );
        assert_eq!(r.header("Authorization", "Basic x"), REDACTED);
        assert_eq!(r.header("X-Step-Up-Token", "su_1"), REDACTED);
        assert_eq!(r.header("content-type", "a/b"), "a/b");
    }

    #[test]
    fn longer_secrets_are_replaced_first() {
        let mut r = Redactor::default();
        r.add("secret");
        r.add("secret-and-more");
        assert_eq!(r.text("secret-and-more"), REDACTED);
    }

    #[test]
    fn secret_names() {
        assert!(Redactor::is_secret_name("step_up_token"));
        assert!(Redactor::is_secret_name("hook_secret"));
        assert!(!Redactor::is_secret_name("user_id"));
    }
}
