//! The filter grammar's lexical level, below `parse.rs`: the [`Parser`] cursor over the input
//! bytes (position, look-ahead, the token at a position, how to show it in an error) and the
//! tokens themselves: JSON values (strings with every escape, numbers by RFC 8259's grammar,
//! `true` / `false` / `null`), attribute names and schema URIs.
//!
//! **Invariant:** every position the cursor stops on, and so every error position, is a char
//! boundary: it only steps over ASCII bytes or whole characters.

use serde_json::Number;

use super::{CompValue, FilterError};

/// Recursive-descent parser over the input bytes; every position it reports
/// is a char boundary because it only stops on ASCII bytes or at the end.
pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    pub(super) pos: usize,
    pub(super) expressions: usize,
}

/// Bytes that end a token: they have a meaning of their own in the grammar.
fn is_delimiter(b: u8) -> bool {
    matches!(b, b' ' | b'(' | b')' | b'[' | b']' | b'"')
}

impl<'a> Parser<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Self {
            src,
            pos: 0,
            expressions: 0,
        }
    }

    pub(super) fn error(&self, position: usize, message: String) -> FilterError {
        FilterError {
            position: position.min(self.src.len()),
            message,
        }
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    /// Skips spaces and says how many there were.
    pub(super) fn skip_spaces(&mut self) -> usize {
        let start = self.pos;
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        self.pos - start
    }

    /// The run of non-delimiter text starting at `at`.
    pub(super) fn token(&self, at: usize) -> &'a str {
        let rest = self.src.get(at..).unwrap_or("");
        let end = rest.bytes().position(is_delimiter).unwrap_or(rest.len());
        &rest[..end]
    }

    /// Describes what sits at `at`, for error messages.
    pub(super) fn found(&self, at: usize) -> String {
        let Some(rest) = self.src.get(at..).filter(|r| !r.is_empty()) else {
            return "end of input".to_owned();
        };
        let token = self.token(at);
        let shown = if token.is_empty() {
            // A delimiter: show just that character.
            &rest[..1]
        } else {
            // Long tokens are cut so that messages stay readable.
            match token.char_indices().nth(24) {
                Some((cut, _)) => &token[..cut],
                None => token,
            }
        };
        format!("{shown:?}")
    }

    pub(super) fn comp_value(&mut self) -> Result<CompValue, FilterError> {
        let start = self.pos;
        match self.peek() {
            Some(b'"') => self.string().map(CompValue::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(CompValue::Number),
            _ => {
                let value = match self.token(start) {
                    "true" => CompValue::Bool(true),
                    "false" => CompValue::Bool(false),
                    "null" => CompValue::Null,
                    _ => {
                        return Err(self.error(
                            start,
                            format!(
                                "expected a value (a string, number, true, false or null), found {}",
                                self.found(start)
                            ),
                        ));
                    }
                };
                self.pos += self.token(start).len();
                Ok(value)
            }
        }
    }

    /// A JSON number (RFC 8259 section 6); a leading zero, a bare `-` or a
    /// trailing `.` are not numbers.
    fn number(&mut self) -> Result<Number, FilterError> {
        let start = self.pos;
        let rest = &self.src[start..];
        let len = rest
            .bytes()
            .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .unwrap_or(rest.len());
        let text = &rest[..len];
        if !is_json_number(text) {
            return Err(self.error(start, format!("invalid number {text:?}")));
        }
        let number = text
            .parse::<Number>()
            .map_err(|_| self.error(start, format!("number {text:?} is out of range")))?;
        self.pos += len;
        Ok(number)
    }

    /// A JSON string with escapes; the position is on the opening quote.
    fn string(&mut self) -> Result<String, FilterError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.src[self.pos..].chars().next() else {
                return Err(self.error(start, "unterminated string".to_owned()));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                '\\' => {
                    let escape = self.pos;
                    let Some(&kind) = self.src.as_bytes().get(escape + 1) else {
                        return Err(self.error(start, "unterminated string".to_owned()));
                    };
                    self.pos += 2;
                    match kind {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape(escape)?),
                        _ => {
                            let shown = self.src[escape..].chars().take(2).collect::<String>();
                            return Err(self.error(escape, format!("invalid escape {shown:?}")));
                        }
                    }
                }
                c if (c as u32) < 0x20 => {
                    return Err(self.error(
                        self.pos,
                        format!("control character {c:?} in a string must be escaped"),
                    ));
                }
                c => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// The four hex digits after `\u` (and a low surrogate escape after a high
    /// one); `escape` is the position of the backslash, the position is after `u`.
    fn unicode_escape(&mut self, escape: usize) -> Result<char, FilterError> {
        let high = self.hex4(escape)?;
        let code = match high {
            0xD800..=0xDBFF => {
                let bytes = self.src.as_bytes();
                if bytes.get(self.pos) != Some(&b'\\') || bytes.get(self.pos + 1) != Some(&b'u') {
                    return Err(self.error(escape, "unpaired surrogate in \\u escape".to_owned()));
                }
                let low_escape = self.pos;
                self.pos += 2;
                let low = self.hex4(low_escape)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.error(escape, "unpaired surrogate in \\u escape".to_owned()));
                }
                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => {
                return Err(self.error(escape, "unpaired surrogate in \\u escape".to_owned()));
            }
            code => code,
        };
        char::from_u32(code).ok_or_else(|| self.error(escape, "invalid \\u escape".to_owned()))
    }

    fn hex4(&mut self, escape: usize) -> Result<u32, FilterError> {
        let digits = self
            .src
            .as_bytes()
            .get(self.pos..self.pos + 4)
            .filter(|d| d.iter().all(u8::is_ascii_hexdigit))
            .ok_or_else(|| {
                self.error(
                    escape,
                    "\\u escape needs four hexadecimal digits".to_owned(),
                )
            })?;
        let value = digits.iter().fold(0u32, |acc, d| {
            // Each byte is a hex digit, checked above.
            acc * 16 + (*d as char).to_digit(16).unwrap_or(0)
        });
        self.pos += 4;
        Ok(value)
    }
}

/// JSON number grammar: `-? (0 / [1-9] DIGIT*) ("." DIGIT+)? ([eE] [+-]? DIGIT+)?`.
fn is_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `ATTRNAME = ALPHA *(ALPHA / DIGIT / "-" / "_")`, plus `$ref` for sub-attributes.
pub(super) fn validate_name(
    name: &str,
    at: usize,
    is_sub: bool,
    parser: &Parser<'_>,
) -> Result<(), FilterError> {
    if name.is_empty() {
        let what = if is_sub {
            "a sub-attribute name"
        } else {
            "an attribute name"
        };
        return Err(parser.error(at, format!("expected {what}, found {}", parser.found(at))));
    }
    if is_sub && name == "$ref" {
        return Ok(());
    }
    let mut chars = name.char_indices();
    if let Some((_, first)) = chars.next()
        && !first.is_ascii_alphabetic()
    {
        let what = if is_sub {
            "a sub-attribute"
        } else {
            "an attribute"
        };
        return Err(parser.error(
            at,
            format!("{what} name must start with a letter, found {name:?}"),
        ));
    }
    for (offset, c) in chars {
        if c == '.' {
            return Err(parser.error(
                at + offset,
                "an attribute path has at most one sub-attribute".to_owned(),
            ));
        }
        if !(c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(parser.error(
                at + offset,
                format!("invalid character {c:?} in attribute name {name:?}"),
            ));
        }
    }
    Ok(())
}

/// A schema URI: an RFC 3986 scheme, a colon, then URI characters.
pub(super) fn validate_uri(uri: &str, at: usize, parser: &Parser<'_>) -> Result<(), FilterError> {
    let scheme_ok = uri.split_once(':').is_some_and(|(scheme, _)| {
        let mut chars = scheme.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if !scheme_ok {
        return Err(parser.error(
            at,
            format!("expected a schema URI before the attribute name, found {uri:?}"),
        ));
    }
    for (offset, c) in uri.char_indices() {
        let allowed = c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.'
                    | '_'
                    | '~'
                    | ':'
                    | '/'
                    | '?'
                    | '#'
                    | '@'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '%'
            );
        if !allowed {
            return Err(parser.error(
                at + offset,
                format!("invalid character {c:?} in schema URI"),
            ));
        }
    }
    Ok(())
}
