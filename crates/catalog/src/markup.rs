//! Text into HTML and XML: the one escaper of the workspace (the reference
//! page here, the runner's HTML and JUnit reports).

/// `text` safe in HTML or XML content and in a quoted attribute: the five
/// markup characters as entities, and every control character but newline
/// and tab, and the XML non-characters U+FFFE and U+FFFF, written visibly as
/// a Rust escape (`\u{1b}`), so a hostile byte neither breaks the document
/// nor disappears.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.extend(c.escape_default());
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_shows_control_characters() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>\u{1b}[0m\r\n\t\u{FFFE}é"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;\\u{1b}[0m\\r\n\t\\u{fffe}é"
        );
    }
}
