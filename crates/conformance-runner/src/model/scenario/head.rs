//! What `--filter` looks at in a scenario, read from a built-in file without
//! parsing it, so a filtered run parses only the scenarios it can select.
//!
//! Parsing and validating the 143 built-in scenarios took 3.5 ms, a fifth of
//! a short filtered run. A built-in file is split at its `[[scenario]]`
//! lines, and each table's `id`, `code`, `tags` and `standard` are read from
//! its one-line `key = "value"` entries. Whatever this cannot read for
//! certain (an escape, a multi-line array, a missing key) gives no head, and
//! such a table is parsed like any other: a head only ever leaves out a
//! table that no filter selects. A test holds every built-in head to the
//! parsed scenario; files from a user's folder are always parsed whole, so
//! every error in them is reported.

use std::ops::Range;

use catalog::Code;

/// The facts a filter selects on, of a parsed scenario or of one not parsed yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Head<'a> {
    pub(crate) id: &'a str,
    pub(crate) code: Code,
    pub(crate) tags: &'a [String],
    /// Whether the scenario proves a standard rule (`basis=standard`).
    pub(crate) standard: bool,
}

/// A head read from a file's text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ScannedHead {
    id: String,
    code: Code,
    tags: Vec<String>,
    standard: bool,
}

impl ScannedHead {
    pub(crate) fn head(&self) -> Head<'_> {
        Head {
            id: &self.id,
            code: self.code,
            tags: &self.tags,
            standard: self.standard,
        }
    }
}

/// The byte ranges of the `[[scenario]]` tables of `text`, each from its
/// header line to the next one (or the end).
pub(crate) fn tables(text: &str) -> Vec<Range<usize>> {
    let mut starts = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == "[[scenario]]" {
            starts.push(at);
        }
        at += line.len();
    }
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    starts.iter().zip(ends).map(|(&s, e)| s..e).collect()
}

/// The head of one `[[scenario]]` table, when every fact of it can be read
/// for certain from its top-level one-line entries.
pub(crate) fn scan(table: &str) -> Option<ScannedHead> {
    let (mut id, mut code, mut tags, mut standard) = (None, None, None, false);
    for line in table.lines().skip(1) {
        let line = line.trim();
        if line.starts_with('[') {
            // A sub-table: the scenario's own keys are behind.
            break;
        }
        if line.contains("\"\"\"") || line.contains("'''") {
            // A multi-line string: its lines could read like keys.
            return None;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        // A key twice is no TOML the parser accepts; it is certain of nothing.
        match key.trim() {
            "id" if id.is_none() => id = Some(string(value)?),
            "code" if code.is_none() => code = Some(Code::from_name(&string(value)?).ok()?),
            "tags" if tags.is_none() => tags = Some(array(value)?),
            "standard" if !standard => standard = true,
            "id" | "code" | "tags" | "standard" => return None,
            _ => {}
        }
    }
    Some(ScannedHead {
        id: id?,
        code: code?,
        tags: tags.unwrap_or_default(),
        standard,
    })
}

/// A basic string with no escape, alone on its line (a comment may follow).
fn string(value: &str) -> Option<String> {
    let rest = value.trim().strip_prefix('"')?;
    let (text, after) = rest.split_once('"')?;
    let after = after.trim();
    (!text.contains('\\') && (after.is_empty() || after.starts_with('#'))).then(|| text.to_owned())
}

/// A one-line array of such strings.
fn array(value: &str) -> Option<Vec<String>> {
    let value = value.trim();
    let (inner, after) = value.strip_prefix('[')?.split_once(']')?;
    let after = after.trim();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    inner
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_gives_its_head_and_anything_uncertain_gives_none() {
        let text = "# preamble\n[[scenario]]\nid = \"a/b\" # why\ncode = \"Forbidden\"\ntags = [\"x\", \"y\"]\n\
                    [scenario.request]\nid = \"not/this\"\n\n[[scenario]]\nid = \"c/d\"\ncode = \"NotFound\"\nstandard = \"RFC 9110\"\n";
        let ranges = tables(text);
        assert_eq!(ranges.len(), 2);
        assert!(text[ranges[0].clone()].starts_with("[[scenario]]\nid = \"a/b\""));
        assert_eq!(ranges[1].end, text.len());
        let first = scan(&text[ranges[0].clone()]).unwrap();
        assert_eq!(
            first.head(),
            Head {
                id: "a/b",
                code: Code::Forbidden,
                tags: &["x".to_owned(), "y".to_owned()],
                standard: false,
            }
        );
        assert!(scan(&text[ranges[1].clone()]).unwrap().standard);
        for uncertain in [
            "[[scenario]]\nid = \"a\\u0041\"\ncode = \"Forbidden\"\n",
            "[[scenario]]\nid = \"a/b\"\ncode = \"Forbidden\"\ntags = [\n\"x\",\n]\n",
            "[[scenario]]\nid = \"a/b\"\ncode = \"NO_SUCH_CODE\"\n",
            "[[scenario]]\ncode = \"Forbidden\"\n",
            "[[scenario]]\nid = 'a/b'\ncode = \"Forbidden\"\n",
            "[[scenario]]\nid = \"a/b\" trailing\ncode = \"Forbidden\"\n",
            "[[scenario]]\ncode = \"Forbidden\"\nid = \"a/b\"\ncode = \"NotFound\"\n",
            "[[scenario]]\nid = \"a/b\"\ncode = \"Forbidden\"\ndescription = \"\"\"\ncode = \"NotFound\"\n\"\"\"\n",
        ] {
            assert_eq!(scan(uncertain), None, "{uncertain}");
        }
    }
}
