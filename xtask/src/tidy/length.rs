//! The length budget of a source file: at most [`MAX_LINES`] lines of non-test code (issue 23:
//! "no non-test source file in any crate goes over about 600 lines unless it is data").
//!
//! A file's non-test code is every line before its inline test module: the first top-level
//! `#[cfg(test)]` whose item (after any further attributes) opens an inline `mod NAME {`.
//! A `#[cfg(test)] mod testing;` declaration is no test module: the count goes on past it.
//! A file with no test module counts whole.
//!
//! Data files (tables a reader looks things up in, not logic to follow) are exempt by name in
//! [`DATA_FILES`], each with the reason; an exemption for a file that is gone or back under
//! the budget is itself a finding, so the list cannot go stale.

/// The most non-test lines a source file may hold.
pub const MAX_LINES: usize = 600;

/// Files exempt from [`MAX_LINES`] because they are data, relative to the workspace root.
/// None today: the SCIM schema tables, the last, live in `scim/schema/tables.rs`, apart from
/// the model they fill, and both are under the budget.
pub const DATA_FILES: &[&str] = &[];

/// The lines of `text` before its inline test module.
pub fn code_lines(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim_end() != "#[cfg(test)]" {
            continue;
        }
        let item = lines[i + 1..]
            .iter()
            .map(|l| l.trim_end())
            .find(|l| !l.starts_with("#["));
        if item.is_some_and(|l| {
            // Any visibility: `pub mod`, `pub(super) mod`, `pub(crate) mod`.
            let l = match l.strip_prefix("pub") {
                Some(rest) if rest.starts_with('(') => {
                    rest.split_once(") ").map_or(l, |(_, after)| after)
                }
                Some(rest) => rest.trim_start(),
                None => l,
            };
            l.starts_with("mod ") && l.ends_with('{')
        }) {
            return i;
        }
    }
    lines.len()
}

/// Every file of `files` (path relative to the workspace root, text) over the budget and not
/// exempt in `exempt`, then every exemption that names no file over the budget; one line each.
pub fn findings<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
    exempt: &[&str],
) -> Vec<String> {
    let mut out = Vec::new();
    let mut long_exempt = Vec::new();
    for (path, text) in files {
        let lines = code_lines(text);
        if lines <= MAX_LINES {
            continue;
        }
        if exempt.contains(&path) {
            long_exempt.push(path);
        } else {
            out.push(format!(
                "{path}: {lines} lines before its tests (at most {MAX_LINES}): split it along a seam, or list it in DATA_FILES if it is data"
            ));
        }
    }
    for path in exempt {
        if !long_exempt.contains(path) {
            out.push(format!(
                "{path}: listed in DATA_FILES but not a file over {MAX_LINES} lines: drop the exemption"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` numbered lines of code.
    fn code(n: usize) -> String {
        (1..=n).map(|i| format!("const C{i}: u8 = 0;\n")).collect()
    }

    #[test]
    fn counts_the_lines_before_the_inline_test_module() {
        assert_eq!(code_lines(""), 0);
        assert_eq!(code_lines(&code(3)), 3);
        let with_tests = format!(
            "{}#[cfg(test)]\nmod tests {{\n    fn t() {{}}\n}}\n",
            code(3)
        );
        assert_eq!(code_lines(&with_tests), 3);
        // Further attributes between `cfg(test)` and the module, and a visible module.
        let attributed = format!(
            "{}#[cfg(test)]\n#[expect(clippy::unwrap_used, reason = \"tests\")]\npub(crate) mod testing {{\n}}\n",
            code(4)
        );
        assert_eq!(code_lines(&attributed), 4);
        for visibility in ["pub ", "pub(super) ", "pub(in crate::a) "] {
            let visible = format!("{}#[cfg(test)]\n{visibility}mod tests {{\n}}\n", code(2));
            assert_eq!(code_lines(&visible), 2, "{visibility}");
        }
        // A test-only module declared in another file, or a test-only item, is not the end.
        let declared = format!(
            "//! D.\n#[cfg(test)]\nmod testing;\n#[cfg(test)]\nfn helper() {{}}\n{}",
            code(5)
        );
        assert_eq!(code_lines(&declared), 10);
        // An indented `#[cfg(test)]` (inside an impl or a module) is not the file's tests.
        let nested = format!(
            "mod inner {{\n    #[cfg(test)]\n    mod tests {{\n    }}\n}}\n{}",
            code(2)
        );
        assert_eq!(code_lines(&nested), 7);
    }

    #[test]
    fn a_long_file_is_reported_and_a_data_file_is_not() {
        let long = format!("{}#[cfg(test)]\nmod tests {{\n{}}}\n", code(601), code(900));
        let at_budget = format!("{}#[cfg(test)]\nmod tests {{\n{}}}\n", code(600), code(900));
        let data = code(700);
        let files = [
            ("crates/a/src/long.rs", long.as_str()),
            ("crates/a/src/fits.rs", at_budget.as_str()),
            ("crates/a/src/table.rs", data.as_str()),
        ];
        assert_eq!(
            findings(files, &["crates/a/src/table.rs"]),
            [
                "crates/a/src/long.rs: 601 lines before its tests (at most 600): split it along a seam, or list it in DATA_FILES if it is data"
            ]
        );
    }

    #[test]
    fn a_stale_exemption_is_reported() {
        let short = code(10);
        let files = [("crates/a/src/table.rs", short.as_str())];
        assert_eq!(
            findings(files, &["crates/a/src/table.rs", "crates/a/src/gone.rs"]),
            [
                "crates/a/src/table.rs: listed in DATA_FILES but not a file over 600 lines: drop the exemption",
                "crates/a/src/gone.rs: listed in DATA_FILES but not a file over 600 lines: drop the exemption",
            ]
        );
    }
}
