//! Just enough of the RFC 9110 `WWW-Authenticate` grammar to read a Bearer challenge.

/// A parsed challenge: its scheme and auth-params (names lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The auth-scheme, as sent.
    pub scheme: String,
    /// `name=value` parameters, quotes removed.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a header value into its challenges. A header may hold several
/// (`Basic realm="a", Bearer error="invalid_token"`); a comma separates both
/// challenges and parameters, so a new challenge starts at a token that is
/// not followed by `=`. Malformed input yields what could be read.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        let token_len = rest.find([' ', '\t', ',', '=']).unwrap_or(rest.len());
        let token = &rest[..token_len];
        if token.is_empty() {
            break;
        }
        let after = rest[token_len..].trim_start_matches([' ', '\t']);
        if let Some(value_part) = after.strip_prefix('=') {
            // A parameter of the current challenge.
            let value_part = value_part.trim_start_matches([' ', '\t']);
            let (value, remainder) = read_value(value_part);
            if let Some(current) = out.last_mut() {
                current.params.push((token.to_ascii_lowercase(), value));
            }
            rest = remainder;
        } else {
            out.push(Challenge {
                scheme: token.to_owned(),
                params: Vec::new(),
            });
            rest = after;
        }
    }
    out
}

/// Reads a token or quoted-string value; returns it and the rest of the input.
fn read_value(input: &str) -> (String, &str) {
    if let Some(quoted) = input.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '"' => return (value, &quoted[i + 1..]),
                c => value.push(c),
            }
        }
        (value, "")
    } else {
        let end = input.find([',', ' ', '\t']).unwrap_or(input.len());
        (input[..end].to_owned(), &input[end..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_with_quoted_params() {
        let c = parse(
            r#"Bearer realm="platform", error="insufficient_user_authentication", error_description="a \"fresh\" proof""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "Bearer");
        assert_eq!(
            c[0].param("error"),
            Some("insufficient_user_authentication")
        );
        assert_eq!(c[0].param("ERROR_DESCRIPTION"), Some("a \"fresh\" proof"));
    }

    #[test]
    fn reads_several_challenges() {
        let c = parse(r#"Basic realm="x", Bearer error=invalid_token, scope="a b""#);
        let schemes: Vec<&str> = c.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Basic", "Bearer"]);
        assert_eq!(c[1].param("error"), Some("invalid_token"));
        assert_eq!(c[1].param("scope"), Some("a b"));
    }

    #[test]
    fn survives_garbage() {
        assert!(parse("").is_empty());
        assert_eq!(parse("=\"").len(), 0);
        assert_eq!(
            parse("Bearer error=\"unterminated")[0].param("error"),
            Some("unterminated")
        );
    }
}
