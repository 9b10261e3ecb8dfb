//! A recorded request as a `curl` command a person pastes into a shell.
//!
//! The [`Replay`] holds the exact request with secrets as `${VAR}`
//! references; here each word is quoted for a POSIX-style shell: literal
//! text in single quotes (or bash's `$'...'` when it holds a control
//! character, so nothing a target echoed back can drive the terminal), and
//! each reference in double quotes so the shell expands it. Only the names
//! listed in [`Replay::env`] are treated as references: any other `$` is text.

use std::fmt::Write as _;

use super::Replay;

/// The command: `curl -sS -i -X METHOD 'URL' -H '...' --data-binary '...'`,
/// one option per line joined with ` \`, indented by `indent`.
pub(crate) fn command(method: &str, replay: &Replay, indent: &str) -> String {
    let names: Vec<&str> = replay.env.iter().map(|e| e.name.as_str()).collect();
    let mut words = vec!["curl -sS -i".to_owned()];
    if method.eq_ignore_ascii_case("HEAD") {
        // `-X HEAD` would wait for a body that never comes.
        words[0].push_str(" -I");
    } else {
        words[0].push_str(" -X ");
        words[0].push_str(&quote(method, &names));
    }
    words[0].push(' ');
    words[0].push_str(&quote(&replay.url, &names));
    for (name, value) in &replay.headers {
        words.push(format!("-H {}", quote(&format!("{name}: {value}"), &names)));
    }
    if let Some(body) = &replay.body {
        words.push(format!("--data-binary {}", quote(body, &names)));
    }
    let mut out = String::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push_str(" \\\n");
            out.push_str(indent);
            out.push_str("  ");
        } else {
            out.push_str(indent);
        }
        out.push_str(word);
    }
    out
}

/// One shell word: literal text quoted, `${NAME}` for each name in `names` expanded.
pub(crate) fn quote(text: &str, names: &[&str]) -> String {
    let mut out = String::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let reference = after
            .find('}')
            .map(|end| &after[..end])
            .filter(|name| names.contains(name));
        match reference {
            Some(name) => {
                literal.push_str(&rest[..start]);
                if !literal.is_empty() {
                    out.push_str(&quote_literal(&literal));
                    literal.clear();
                }
                let _ = write!(out, "\"${{{name}}}\"");
                rest = &after[name.len() + 1..];
            }
            None => {
                literal.push_str(&rest[..start + 2]);
                rest = after;
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() || out.is_empty() {
        out.push_str(&quote_literal(&literal));
    }
    out
}

fn quote_literal(text: &str) -> String {
    if text.chars().any(char::is_control) {
        let mut out = String::from("$'");
        for c in text.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\'' => out.push_str("\\'"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        let _ = write!(out, "\\x{b:02x}");
                    }
                }
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::EnvRef;

    #[test]
    fn quotes_literals_and_expands_only_named_references() {
        let names = ["TOKEN"];
        assert_eq!(quote("plain", &names), "'plain'");
        assert_eq!(quote("", &names), "''");
        assert_eq!(quote("it's", &names), r"'it'\''s'");
        assert_eq!(quote("Bearer ${TOKEN}", &names), r#"'Bearer '"${TOKEN}""#);
        assert_eq!(quote("${TOKEN}", &names), r#""${TOKEN}""#);
        assert_eq!(quote("${OTHER} $x", &names), "'${OTHER} $x'");
        assert_eq!(quote("a\u{1b}[31m\n", &names), r"$'a\x1b[31m\n'");
    }

    #[test]
    fn builds_one_command_with_continuations() {
        let replay = Replay {
            url: "http://127.0.0.1:1/v1/x?a=1&b=2".into(),
            headers: vec![("authorization".into(), "Bearer ${T}".into())],
            body: Some(r#"{"a":"b"}"#.into()),
            env: vec![EnvRef {
                name: "T".into(),
                source: "credential `t`".into(),
            }],
        };
        assert_eq!(
            command("POST", &replay, "  "),
            "  curl -sS -i -X 'POST' 'http://127.0.0.1:1/v1/x?a=1&b=2' \\\n    \
             -H 'authorization: Bearer '\"${T}\" \\\n    \
             --data-binary '{\"a\":\"b\"}'"
        );
        assert!(command("HEAD", &replay, "").starts_with("curl -sS -i -I 'http"));
    }
}
