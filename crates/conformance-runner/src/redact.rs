//! Redaction of secrets in everything the runner writes.
//!
//! A run against staging handles real credentials, step-up tokens and
//! webhook secrets, and a staging server may echo any of them back: in a
//! body, a JSON key, a header name or value, encoded or not. Only real secret
//! values are replaced, never ordinary words ("a Bearer challenge" stays as it
//! is): every credential value of the profile, the values of sensitive
//! headers the runner sent or received, every captured value whose name says
//! it is a token or a secret, and anything shaped like a Standard Webhooks
//! secret (`whsec_...`).
//!
//! Each secret is matched in its common encodings too: any letter case (so
//! lowercased and upper-case hex), base64 and base64url (at each of the three
//! byte alignments, so a secret inside a longer encoded text such as
//! `Basic base64(user:secret)` is found), percent-encoding, hex and JSON's
//! `\/`. All of them are one Aho-Corasick automaton, so redacting a string is
//! one pass over it, however many secrets a run has learned: the cost of a
//! run's redaction grows linearly with its size (`cargo xtask bench-redact`).
//!
//! Secrets are learned during the run (a captured token), so the automaton
//! grows. A new secret's patterns are first searched for one by one (a
//! `memchr` for the first byte in either case, then a comparison): building
//! even a small automaton costs 50 to 100 µs, and a run learns a secret every
//! few scenarios. Once [`PENDING_BUILD_AT`] patterns wait, `Redactor::sync`
//! (called before each response is redacted) puts them in an automaton of
//! their own, and automatons of similar size are merged (a binary counter),
//! so building costs O(n log n) in total and a string is scanned by O(log n)
//! automatons at most while the run goes on; [`Redactor::compact`] merges
//! everything into one before the report is redacted.
//!
//! Redaction happens before anything is cut: the runner redacts a response as
//! soon as it arrives, before checks quote excerpts of it, and the report is
//! redacted again as a whole (including JSON keys and header names).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// What a redacted value is replaced with.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// What a header name that held a secret becomes (a valid header name).
pub(crate) const REDACTED_HEADER_NAME: &str = "x-redacted";

/// Headers whose values are always redacted.
pub(crate) const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-step-up-token",
    "webhook-signature",
];

/// Shortest value redacted by exact match; shorter ones would mangle reports.
const MIN_SECRET_LEN: usize = 4;
/// Shortest secret whose encodings are redacted too: the encodings of a
/// shorter one are a few characters that ordinary text may hold.
const MIN_ENCODED_LEN: usize = 8;
/// Longest pattern put in an automaton. A key or certificate is hundreds of
/// characters, and its hex and `%XX` forms two and three times that: whole,
/// the patterns of a profile's secrets took 2 to 3 ms to build, most of a
/// short run's redaction. Matching their first bytes and then comparing the
/// rest finds the same secrets.
const MAX_PATTERN_LEN: usize = 64;
/// Shortest encoded form matched (a base64 core of a short secret is shorter).
const MIN_PATTERN_LEN: usize = 6;
/// Patterns searched for one by one before `Redactor::sync` builds them an
/// automaton: a run's few learned secrets (a handful of encodings each) are
/// found sooner by a byte search than an automaton is built for them.
const PENDING_BUILD_AT: usize = 64;
/// The prefix of a Standard Webhooks secret.
const WHSEC: &str = "whsec_";

/// Replaces known secrets in text.
#[derive(Clone, Debug)]
pub struct Redactor {
    /// Every secret as given, to skip duplicates and to rebuild.
    secrets: std::collections::HashSet<String>,
    /// Every pattern; pattern 0 is `whsec_`. An encoding longer than
    /// [`MAX_PATTERN_LEN`] is matched by its first bytes alone, and `long`
    /// holds the whole encodings that start with them.
    patterns: Vec<String>,
    /// The whole encodings behind each cut pattern, by its text in lower case
    /// (patterns match in any case): a match
    /// of the cut pattern is extended over the longest one the text holds.
    long: std::collections::HashMap<String, Vec<String>>,
    /// Automatons over consecutive ranges of `patterns`, oldest (largest) first.
    levels: Vec<Level>,
    /// Patterns from here on are in no automaton yet ([`Redactor::sync`]).
    pending_from: usize,
}

#[derive(Clone, Debug)]
struct Level {
    start: usize,
    end: usize,
    automaton: AhoCorasick,
}

impl Default for Redactor {
    fn default() -> Redactor {
        let mut r = Redactor {
            secrets: std::collections::HashSet::new(),
            patterns: vec![WHSEC.to_owned()],
            long: std::collections::HashMap::new(),
            levels: Vec::new(),
            pending_from: 1,
        };
        r.push_level(0);
        r
    }
}

impl Redactor {
    /// Adds a secret value (and its encodings).
    pub fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < MIN_SECRET_LEN || self.secrets.contains(secret) {
            return;
        }
        self.secrets.insert(secret.to_owned());
        for encoding in encodings(secret) {
            if encoding.len() <= MAX_PATTERN_LEN {
                self.patterns.push(encoding);
                continue;
            }
            let mut cut = MAX_PATTERN_LEN;
            while !encoding.is_char_boundary(cut) {
                cut -= 1;
            }
            let prefix = encoding[..cut].to_owned();
            let wholes = self.long.entry(prefix.to_ascii_lowercase()).or_default();
            if wholes.is_empty() {
                self.patterns.push(prefix);
            }
            wholes.push(encoding);
        }
    }

    /// Builds an automaton for the secrets added since the last build once
    /// [`PENDING_BUILD_AT`] patterns wait, so later redactions scan them in
    /// one pass with the rest. Adding many secrets and syncing once costs one
    /// build.
    pub(crate) fn sync(&mut self) {
        if self.patterns.len() - self.pending_from < PENDING_BUILD_AT {
            return;
        }
        self.push_level(self.pending_from);
        self.pending_from = self.patterns.len();
        // Merge while the newest level is at least half the size of the one
        // before it: level sizes then roughly double from newest to oldest.
        while self.levels.len() >= 2 {
            let n = self.levels.len();
            let (older, newer) = (&self.levels[n - 2], &self.levels[n - 1]);
            if 2 * (newer.end - newer.start) < older.end - older.start {
                break;
            }
            let start = older.start;
            self.levels.truncate(n - 2);
            self.push_level(start);
        }
    }

    /// Merges every automaton into one, so each string is scanned once
    /// (the plan does it for the profile's secrets).
    pub fn compact(&mut self) {
        if self.levels.len() > 1 || self.pending_from < self.patterns.len() {
            self.levels.clear();
            let level = self.level(0);
            self.levels.push(level);
            self.pending_from = self.patterns.len();
        }
    }

    /// Merges the automatons of the secrets learned since the first one was
    /// built into one, leaving at most two: what a run does before the
    /// report is redacted. The first, with the profile's few hundred
    /// patterns, took longer to rebuild than the rest of a short run.
    pub(crate) fn compact_learned(&mut self) {
        if self.levels.len() > 2 || self.pending_from < self.patterns.len() {
            let Some(first) = self.levels.first().map(|l| l.end) else {
                self.compact();
                return;
            };
            self.levels.truncate(1);
            if first < self.patterns.len() {
                let level = self.level(first);
                self.levels.push(level);
            }
            self.pending_from = self.patterns.len();
        }
    }

    fn push_level(&mut self, start: usize) {
        let level = self.level(start);
        self.levels.push(level);
    }

    /// An automaton over the patterns from `start`. The levels built during a
    /// run are contiguous NFAs: a DFA (what the crate picks for few patterns)
    /// costs far more to build, and building was a fifth of the runner's CPU
    /// in a profile of the suite against the mock, while each level scans
    /// only a few responses. The compacted one the report is redacted with is
    /// one too: with a profile's few hundred patterns (each secret in every
    /// encoding) the DFA took longer to build than the whole report took to
    /// scan with the NFA (a tenth of a run of the single-request scenarios).
    fn level(&self, start: usize) -> Level {
        let end = self.patterns.len();
        // The patterns are plain strings of bounded number; building cannot fail.
        let automaton = AhoCorasickBuilder::new()
            // Every match, overlapping ones too (`find_overlapping_iter`):
            // leftmost-longest skips a secret that begins inside another's
            // match and would leave its tail in clear.
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&self.patterns[start..end])
            .expect("the secret patterns build an automaton");
        Level {
            start,
            end,
            automaton,
        }
    }

    /// The patterns in no automaton yet, searched for one by one.
    fn pending(&self) -> &[String] {
        &self.patterns[self.pending_from..]
    }

    /// Whether a captured value of this name is a secret.
    pub(crate) fn is_secret_name(name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        ["token", "secret", "password", "cookie", "key"]
            .iter()
            .any(|w| name.contains(w))
    }

    /// `text` with every secret replaced. Every automaton's matches are
    /// collected first and overlapping ones replaced as one, so a secret is
    /// hidden whole even when a shorter one in another automaton matches
    /// inside it (replacing automaton by automaton would leave its tail).
    pub(crate) fn text(&self, text: &str) -> String {
        let mut spans = Vec::new();
        for level in &self.levels {
            level.spans(text, level.start == 0, &mut spans);
        }
        for pattern in self.pending() {
            find_ignoring_ascii_case(text.as_bytes(), pattern.as_bytes(), |start| {
                spans.push((start, start + pattern.len()));
                true
            });
        }
        if !self.long.is_empty() {
            for span in &mut spans {
                span.1 = span.1.max(self.whole_end(text, *span));
            }
        }
        if spans.is_empty() {
            return text.to_owned();
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (start, end) in spans {
            if start < last {
                last = last.max(end);
                continue;
            }
            out.push_str(&text[last..start]);
            out.push_str(REDACTED);
            last = end;
        }
        out.push_str(&text[last..]);
        out
    }

    /// Where the longest whole encoding starting at `span` ends, when the
    /// match is a cut pattern and the text goes on with the rest of one.
    fn whole_end(&self, text: &str, (start, end): (usize, usize)) -> usize {
        let Some(wholes) = text
            .get(start..end)
            .and_then(|m| self.long.get(&m.to_ascii_lowercase()))
        else {
            return end;
        };
        let rest = &text.as_bytes()[start..];
        wholes
            .iter()
            .filter(|w| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w.as_bytes()))
            .map(|w| start + w.len())
            .max()
            .unwrap_or(end)
    }

    /// Whether `text` holds a secret.
    pub(crate) fn contains_secret(&self, text: &str) -> bool {
        self.levels.iter().any(|l| l.automaton.find(text).is_some())
            || self.pending().iter().any(|pattern| {
                let mut found = false;
                find_ignoring_ascii_case(text.as_bytes(), pattern.as_bytes(), |_| {
                    found = true;
                    false
                });
                found
            })
    }

    /// A header value for a report: redacted whole when the header is sensitive.
    pub(crate) fn header(&self, name: &str, value: &str) -> String {
        if SENSITIVE_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            REDACTED.to_owned()
        } else {
            self.text(value)
        }
    }

    /// Redacts every string in a JSON value, object keys included, in place.
    pub(crate) fn json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) if self.contains_secret(s) => *s = self.text(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            serde_json::Value::Object(map) => {
                if map.keys().any(|k| self.contains_secret(k)) {
                    let old = std::mem::take(map);
                    for (k, v) in old {
                        map.insert(self.text(&k), v);
                    }
                }
                map.values_mut().for_each(|v| self.json(v));
            }
            _ => {}
        }
    }
}

impl Level {
    /// Appends the byte ranges of this level's matches in `text`. Pattern 0
    /// of level 0 is the `whsec_` prefix, which extends over the base64
    /// characters after it.
    fn spans(&self, text: &str, has_whsec: bool, out: &mut Vec<(usize, usize)>) {
        let bytes = text.as_bytes();
        for m in self.automaton.find_overlapping_iter(text) {
            let mut end = m.end();
            if has_whsec && m.pattern().as_usize() == 0 {
                end += bytes[end..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || b"+/=_-".contains(b))
                    .count();
            }
            out.push((m.start(), end));
        }
    }
}

/// Calls `found` with the start of every occurrence of `pattern` in `text`,
/// ASCII letters in either case (as the automatons match), while it returns
/// true. A match of a UTF-8 pattern in UTF-8 text starts and ends on
/// character boundaries: its first byte is ASCII or a leading byte, matched
/// exactly.
fn find_ignoring_ascii_case(text: &[u8], pattern: &[u8], mut found: impl FnMut(usize) -> bool) {
    let Some(&first) = pattern.first() else {
        return;
    };
    let Some(last_start) = text.len().checked_sub(pattern.len()) else {
        return;
    };
    let candidates = memchr::memchr2_iter(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        &text[..=last_start],
    );
    for start in candidates {
        if text[start..start + pattern.len()].eq_ignore_ascii_case(pattern) && !found(start) {
            return;
        }
    }
}

/// A secret and the encodings under which a server may echo it.
fn encodings(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_owned()];
    if secret.contains('/') {
        out.push(secret.replace('/', "\\/"));
    }
    if secret.len() >= MIN_ENCODED_LEN {
        let bytes = secret.as_bytes();
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            for offset in 0..3 {
                out.push(base64_core(engine, bytes, offset));
            }
        }
        out.push(percent_encode(bytes));
        // Some encoders escape every byte, unreserved ones too.
        out.push(bytes.iter().map(|b| format!("%{b:02X}")).collect());
        out.push(bytes.iter().map(|b| format!("{b:02x}")).collect());
    }
    out.retain(|p| p.len() >= MIN_PATTERN_LEN.min(secret.len()));
    out.sort();
    out.dedup();
    out
}

/// The base64 characters that depend only on `secret` when it follows
/// `offset` other bytes in an encoded text.
fn base64_core(engine: &base64::engine::GeneralPurpose, secret: &[u8], offset: usize) -> String {
    let mut input = vec![0u8; offset];
    input.extend_from_slice(secret);
    let encoded = engine.encode(&input);
    // Characters covering any prefix bit are dropped; at offset 0 the last,
    // partial character is kept (a secret encoded alone ends with it).
    let first = (offset * 8).div_ceil(6);
    let last = if offset == 0 {
        encoded.len()
    } else {
        (input.len() * 8) / 6
    };
    encoded[first..last].to_owned()
}

/// Every byte outside RFC 3986's unreserved set as `%XX`.
fn percent_encode(bytes: &[u8]) -> String {
    percent_encoding::percent_encode(bytes, crate::model::template::NOT_UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_known_values_and_webhook_secrets_only() {
        let mut r = Redactor::default();
        r.add("tok_acme_admin");
        r.add("abc"); // too short to redact by value
        assert_eq!(r.text("token tok_acme_admin, abc"), "token [REDACTED], abc");
        assert_eq!(
            r.text(r#"{"secret":"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"}"#),
            r#"{"secret":"[REDACTED]"}"#
        );
        assert_eq!(
            r.text("Authorization: Bearer tok_acme_admin"),
            "Authorization: Bearer [REDACTED]"
        );
        // Ordinary words are never secrets.
        for text in [
            "No bearer token was sent",
            "a Bearer challenge",
            r#"Bearer realm="platform", error="invalid_token""#,
            "Bearer eyJ.abc-def",
        ] {
            assert_eq!(r.text(text), text);
        }
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
    fn encodings_and_keys_are_redacted() {
        let secret = "SECRET_ADMIN_0123456789abcdef";
        let mut r = Redactor::default();
        r.add(secret);
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("user:{secret}"));
        for text in [
            secret.to_lowercase(),
            secret.to_uppercase(),
            b64.clone(),
            URL_SAFE_NO_PAD.encode(secret),
            percent_encode(secret.as_bytes()),
            secret.bytes().map(|b| format!("{b:02X}")).collect(),
        ] {
            let out = r.text(&format!("x {text} y"));
            assert!(out.contains(REDACTED), "{text} -> {out}");
        }
        let mut value = serde_json::json!({ secret: { "k": [secret] } });
        r.json(&mut value);
        assert_eq!(value, serde_json::json!({ REDACTED: { "k": [REDACTED] } }));
    }

    #[test]
    fn many_secrets_stay_few_automatons_and_compact_to_one() {
        let mut r = Redactor::default();
        for i in 0..200 {
            r.add(&format!("captured_token_{i:06}"));
            r.sync();
        }
        assert!(r.levels.len() <= 10, "{} levels", r.levels.len());
        assert_eq!(r.text("a captured_token_000199 b"), "a [REDACTED] b");
        r.add("added_after_the_last_sync");
        assert_eq!(r.text("added_after_the_last_sync"), REDACTED);
        r.compact_learned();
        assert_eq!(r.levels.len(), 2);
        assert_eq!(r.text("added_after_the_last_sync"), REDACTED);
        r.compact();
        assert_eq!(r.levels.len(), 1);
        assert_eq!(
            r.text("captured_token_000000 whsec_abc="),
            "[REDACTED] [REDACTED]"
        );
    }

    #[test]
    fn a_long_secret_is_matched_by_its_first_bytes_and_hidden_whole() {
        let key_a = format!(
            "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg{}",
            "a".repeat(150)
        );
        let key_b = format!(
            "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg{}",
            "a".repeat(90)
        );
        let mut r = Redactor::default();
        r.add(&key_a);
        r.add(&key_b);
        r.compact();
        assert!(r.patterns.iter().all(|p| p.len() <= MAX_PATTERN_LEN));
        // Both keys share their first 64 characters: each is hidden whole.
        assert_eq!(r.text(&format!("<{key_a}>")), "<[REDACTED]>");
        assert_eq!(r.text(&format!("<{key_b}>")), "<[REDACTED]>");
        // In another case and in hex, whole too.
        assert_eq!(
            r.text(&format!("<{}>", key_a.to_ascii_lowercase())),
            "<[REDACTED]>"
        );
        let hex: String = key_a.bytes().map(|b| format!("{b:02x}")).collect();
        assert_eq!(r.text(&format!("<{hex}>")), "<[REDACTED]>");
        // A cut-off echo is hidden as far as the pattern goes, not left whole.
        let cut = &key_a[..70];
        assert_eq!(r.text(cut), format!("{REDACTED}{}", &key_a[64..70]));
    }

    #[test]
    fn a_secret_is_hidden_whole_when_a_shorter_one_in_another_automaton_matches_inside_it() {
        let mut r = Redactor::default();
        r.add("tok_short_1");
        r.compact();
        r.add("xtok_short_1_and_longer");
        r.add("nger_overlap");
        // First searched for one by one, then in an automaton of their own.
        for built in [false, true] {
            if built {
                r.compact_learned();
                assert_eq!(r.levels.len(), 2);
            } else {
                assert!(!r.pending().is_empty());
            }
            assert_eq!(r.text("a xtok_short_1_and_longer b"), "a [REDACTED] b");
            // Overlapping matches of different secrets become one replacement;
            // adjacent ones stay two.
            assert_eq!(r.text("xtok_short_1_and_longer_overlap!"), "[REDACTED]!");
            assert_eq!(r.text("tok_short_1tok_short_1"), "[REDACTED][REDACTED]");
        }
    }

    #[test]
    fn a_pending_secret_is_found_in_any_case_beside_any_text_and_built_in_at_the_threshold() {
        let mut r = Redactor::default();
        r.compact();
        r.add("su_never_issued_42");
        r.sync();
        assert_eq!(r.levels.len(), 1, "a few patterns wait for more");
        let before = r.levels[0].end;
        assert!(r.contains_secret("é SU_NEVER_ISSUED_42"));
        assert!(!r.contains_secret("su_never_issued_4"));
        assert_eq!(
            r.text("ünï Su_Never_Issued_42, su_never_issued_42su_never_issued_42"),
            "ünï [REDACTED], [REDACTED][REDACTED]"
        );
        // Its base64 form, pending too.
        let encoded = STANDARD_NO_PAD.encode("su_never_issued_42");
        assert_eq!(r.text(&format!("Basic {encoded}")), "Basic [REDACTED]");
        let mut i = 0;
        while r.pending().len() < PENDING_BUILD_AT {
            r.add(&format!("learned_secret_{i:04}"));
            i += 1;
        }
        r.sync();
        assert!(r.pending().is_empty());
        assert!(r.levels.last().is_some_and(|l| l.end > before));
        assert_eq!(r.text("<su_never_issued_42>"), "<[REDACTED]>");
    }

    #[test]
    fn secret_names() {
        assert!(Redactor::is_secret_name("step_up_token"));
        assert!(Redactor::is_secret_name("hook_secret"));
        assert!(!Redactor::is_secret_name("user_id"));
    }
}
