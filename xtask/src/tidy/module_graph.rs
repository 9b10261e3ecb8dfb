//! The module graph of a crate's `src/`, read from its sources, and the cycles in it.
//!
//! A file's module path comes from where it lies (`src/scim/store.rs` is `crate::scim::store`,
//! `src/scim/mod.rs` is `crate::scim`). Its imports are every `crate::`, `super::` and `self::`
//! path it names outside comments and string literals: `use` trees (braces and all) and paths
//! written inline (`crate::state::Error::Io(..)`), in inline modules too (`super` inside
//! `mod tests` is the file's own module). A path resolves to the longest module prefix that is
//! a file, so `crate::scim::store::ScimStore` is an import of `crate::scim::store`; naming a
//! module's own items or a parent merely declaring `mod child` is no edge.
//!
//! A cycle is a set of files that import each other, directly or through others; each is
//! reported once, as the shortest path from its smallest module back to itself, with the
//! file and line of each step.
//!
//! Hand-written rather than built on `syn`: the check needs paths, not a syntax tree, and
//! xtask keeps few dependencies.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// One import: the module named, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// The imported module (`crate::state`).
    pub module: String,
    /// 1-based line of the path in the importing file.
    pub line: usize,
}

/// The files of a crate by module path, with their file names and imports.
#[derive(Debug, Default)]
pub struct Graph {
    /// Module path → (file name relative to the crate, imports of other modules).
    pub modules: BTreeMap<String, (String, Vec<Import>)>,
}

impl Graph {
    /// Builds the graph from `(path relative to src/, source)` pairs (`lib.rs`, `scim/store.rs`).
    pub fn from_sources<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Graph {
        let files: Vec<(&str, &str)> = files.into_iter().collect();
        let known: BTreeSet<String> = files.iter().map(|(p, _)| module_of(p)).collect();
        let mut graph = Graph::default();
        for (path, source) in files {
            let module = module_of(path);
            let mut imports: Vec<Import> = Vec::new();
            for (segments, line) in paths(&module, source) {
                let Some(target) = resolve(&segments, &known) else {
                    continue;
                };
                if target != module && !imports.iter().any(|i| i.module == target) {
                    imports.push(Import {
                        module: target,
                        line,
                    });
                }
            }
            graph
                .modules
                .insert(module, (format!("src/{path}"), imports));
        }
        graph
    }

    /// Every cycle, one line each: `crate::a (src/a.rs:3) -> crate::b (src/b.rs:7) -> crate::a`,
    /// naming the other modules of its strongly connected component.
    pub fn cycles(&self) -> Vec<String> {
        let mut reported: BTreeSet<String> = BTreeSet::new();
        let mut out = Vec::new();
        for start in self.modules.keys() {
            if reported.contains(start) {
                continue;
            }
            let Some(cycle) = self.shortest_cycle(start) else {
                continue;
            };
            // The other members of the cycle's strongly connected component (modules on other
            // cycles through it) are named with it rather than reported again.
            let mut others = Vec::new();
            for member in self.modules.keys() {
                if member == start || self.reaches(start, member) && self.reaches(member, start) {
                    reported.insert(member.clone());
                    if !cycle.iter().any(|(m, _)| m == member) {
                        others.push(member.as_str());
                    }
                }
            }
            let mut text = String::new();
            for (module, line) in &cycle {
                let file = &self.modules[module].0;
                text.push_str(&format!("{module} ({file}:{line}) -> "));
            }
            text.push_str(start);
            if !others.is_empty() {
                text.push_str(&format!(
                    " (also on cycles with them: {})",
                    others.join(", ")
                ));
            }
            out.push(text);
        }
        out
    }

    fn imports(&self, module: &str) -> &[Import] {
        self.modules.get(module).map_or(&[], |(_, i)| i.as_slice())
    }

    fn reaches(&self, from: &str, to: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([from]);
        while let Some(m) = queue.pop_front() {
            for import in self.imports(m) {
                if import.module == to {
                    return true;
                }
                if seen.insert(import.module.as_str()) {
                    queue.push_back(&import.module);
                }
            }
        }
        false
    }

    /// The shortest path `start -> ... -> start`, as (module, line of its import of the next).
    fn shortest_cycle(&self, start: &str) -> Option<Vec<(String, usize)>> {
        // Breadth-first from `start`, remembering how each module was reached.
        let mut parent: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(m) = queue.pop_front() {
            for import in self.imports(m) {
                if import.module == start {
                    let mut steps = vec![(m.to_owned(), import.line)];
                    let mut at = m;
                    while at != start {
                        let (prev, line) = parent[at];
                        steps.push((prev.to_owned(), line));
                        at = prev;
                    }
                    steps.reverse();
                    return Some(steps);
                }
                if import.module != start && !parent.contains_key(import.module.as_str()) {
                    parent.insert(&import.module, (m, import.line));
                    queue.push_back(&import.module);
                }
            }
        }
        None
    }
}

/// `scim/store.rs` → `crate::scim::store`; `lib.rs` → `crate`; `scim/mod.rs` → `crate::scim`.
fn module_of(path: &str) -> String {
    let stem = path.strip_suffix(".rs").unwrap_or(path);
    let stem = stem
        .strip_suffix("/mod")
        .unwrap_or(if stem == "lib" || stem == "main" {
            ""
        } else {
            stem
        });
    if stem.is_empty() {
        "crate".to_owned()
    } else {
        format!("crate::{}", stem.replace('/', "::"))
    }
}

/// The longest prefix of `segments` that is a known module.
fn resolve(segments: &[String], known: &BTreeSet<String>) -> Option<String> {
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|m| known.contains(m))
}

/// Every absolute path (`crate::…` segments) the source names, with its line.
fn paths(module: &str, source: &str) -> Vec<(Vec<String>, usize)> {
    let code = strip(source);
    let tokens = tokenize(&code);
    let base: Vec<String> = module.split("::").map(str::to_owned).collect();
    let mut out = Vec::new();
    // Inline modules open at the brace depth they were opened at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let (tok, line) = (&tokens[i].0, tokens[i].1);
        match tok.as_str() {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            "mod" if tokens.get(i + 2).is_some_and(|t| t.0 == "{") => {
                inline.push((tokens[i + 1].0.clone(), depth));
            }
            _ => {}
        }
        let here: Vec<String> = base
            .iter()
            .cloned()
            .chain(inline.iter().map(|(name, _)| name.clone()))
            .collect();
        if tok == "use" {
            let end = tokens[i..]
                .iter()
                .position(|t| t.0 == ";")
                .map_or(tokens.len(), |p| i + p);
            let tree: Vec<(String, usize)> = tokens[i + 1..end].to_vec();
            for (segments, line) in use_tree(&tree) {
                if let Some(abs) = absolute(&segments, &here) {
                    out.push((abs, line));
                }
            }
            i = end;
            continue;
        }
        if matches!(tok.as_str(), "crate" | "super" | "self")
            && tokens.get(i + 1).is_some_and(|t| t.0 == "::")
            && !(i > 0 && tokens[i - 1].0 == "::")
        {
            let mut segments = vec![tok.clone()];
            let mut j = i + 1;
            while tokens.get(j).is_some_and(|t| t.0 == "::")
                && tokens.get(j + 1).is_some_and(|t| is_ident(&t.0))
            {
                segments.push(tokens[j + 1].0.clone());
                j += 2;
            }
            if let Some(abs) = absolute(&segments, &here) {
                out.push((abs, line));
            }
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

/// `crate::a::b`, `super::b`, `self::c` → absolute segments from `crate`.
fn absolute(segments: &[String], here: &[String]) -> Option<Vec<String>> {
    let mut at: Vec<String> = here.to_vec();
    let mut rest = segments;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            at = vec!["crate".to_owned()];
            rest = &rest[1..];
        }
        Some("super" | "self") => {
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "super" => {
                        at.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
            if at.is_empty() {
                return None;
            }
        }
        _ => return None,
    }
    at.extend(rest.iter().cloned());
    Some(at)
}

/// The paths a `use` tree names (tokens after `use`, before `;`), each with its line.
fn use_tree(tokens: &[(String, usize)]) -> Vec<(Vec<String>, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    walk(tokens, &mut pos, &[], &mut out);
    out
}

fn walk(
    tokens: &[(String, usize)],
    pos: &mut usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, usize)>,
) {
    let mut path: Vec<String> = prefix.to_vec();
    let mut line = tokens.get(*pos).map_or(0, |t| t.1);
    while *pos < tokens.len() {
        let tok = tokens[*pos].0.as_str();
        match tok {
            "{" => {
                *pos += 1;
                loop {
                    walk(tokens, pos, &path, out);
                    match tokens.get(*pos).map(|t| t.0.as_str()) {
                        Some(",") => *pos += 1,
                        Some("}") => {
                            *pos += 1;
                            break;
                        }
                        _ => break,
                    }
                    if tokens.get(*pos).is_some_and(|t| t.0 == "}") {
                        *pos += 1;
                        break;
                    }
                }
                return;
            }
            "," | "}" => break,
            "::" => *pos += 1,
            "as" => *pos += 2,
            "*" => *pos += 1,
            _ => {
                if path.len() == prefix.len() {
                    line = tokens[*pos].1;
                }
                // `self` inside braces names the prefix itself.
                if tok != "self" || prefix.is_empty() {
                    path.push(tok.to_owned());
                }
                *pos += 1;
            }
        }
    }
    if path.len() > prefix.len() || (!prefix.is_empty() && path.len() == prefix.len()) {
        out.push((path, line));
    }
}

fn is_ident(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Identifiers, `::` and single punctuation characters, each with its line.
fn tokenize(code: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut line = 1;
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((chars[start..i].iter().collect(), line));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push(("::".to_owned(), line));
            i += 2;
        } else {
            out.push((c.to_string(), line));
            i += 1;
        }
    }
    out
}

/// The source with comments, string and character literals blanked (newlines kept, so lines
/// still count right).
fn strip(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut nesting = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    nesting += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    nesting -= 1;
                    out.push_str("  ");
                    i += 2;
                    if nesting == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !(i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'))
        {
            // A raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                match chars.get(j) {
                    None => break,
                    Some('"') if (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    Some(_) => j += 1,
                }
            }
            out.extend(chars[i..j.min(chars.len())].iter().map(|&c| blank(c)));
            i = j;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a): blank only the former.
            let close = if next == Some('\\') {
                (i + 2..chars.len().min(i + 12)).find(|&j| chars[j] == '\'')
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match close {
                Some(end) => {
                    out.extend(std::iter::repeat_n(' ', end + 1 - i));
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths_follow_the_file_layout() {
        assert_eq!(module_of("lib.rs"), "crate");
        assert_eq!(module_of("state.rs"), "crate::state");
        assert_eq!(module_of("scim/mod.rs"), "crate::scim");
        assert_eq!(module_of("scim/store.rs"), "crate::scim::store");
    }

    #[test]
    fn a_planted_cycle_is_reported_with_files_and_lines() {
        let graph = Graph::from_sources([
            (
                "lib.rs",
                "pub mod a;\npub mod b;\npub mod c;\npub mod feat;\n",
            ),
            (
                "a.rs",
                "//! A.\nuse crate::b::{self, Thing as Other};\nuse std::fmt;\n",
            ),
            // Inline path, no `use`: still an import.
            (
                "b.rs",
                "//! B.\n\nfn f() -> crate::c::C {\n    todo!()\n}\n",
            ),
            // Through a nested use tree; `super::*` in `mod tests` is the file itself.
            (
                "c.rs",
                "//! C: crate::d in a comment is no import.\nuse crate::{\n    feat::store,\n    a::X,\n};\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
            ),
            ("feat/mod.rs", "//! Feat.\npub mod store;\n"),
            (
                "feat/store.rs",
                "//! Store.\nuse super::super::a::Y;\nconst S: &str = \"crate::b::Z\";\n",
            ),
        ]);
        assert_eq!(
            graph.cycles(),
            [
                "crate::a (src/a.rs:2) -> crate::b (src/b.rs:3) -> crate::c (src/c.rs:4) -> crate::a (also on cycles with them: crate::feat::store)"
            ]
        );
        assert_eq!(
            graph.modules["crate::c"].1,
            [
                Import {
                    module: "crate::feat::store".into(),
                    line: 3
                },
                Import {
                    module: "crate::a".into(),
                    line: 4
                },
            ]
        );
        // A parent declaring `mod store` is no edge; a grandparent path is resolved.
        assert!(graph.modules["crate::feat"].1.is_empty());
        assert_eq!(
            graph.modules["crate::feat::store"].1,
            [Import {
                module: "crate::a".into(),
                line: 2
            }]
        );
    }

    #[test]
    fn a_two_file_cycle_through_super_in_a_sibling() {
        let graph = Graph::from_sources([
            ("lib.rs", "pub mod scim;\npub mod state;\n"),
            ("scim/mod.rs", "pub mod store;\n"),
            (
                "scim/store.rs",
                "use crate::state::Store;\n#[cfg(test)]\nmod tests {\n    use super::super::store::X;\n}\n",
            ),
            ("state.rs", "\n\nuse crate::scim::store::ScimStore;\n"),
        ]);
        assert_eq!(
            graph.cycles(),
            [
                "crate::scim::store (src/scim/store.rs:1) -> crate::state (src/state.rs:3) -> crate::scim::store"
            ]
        );
    }

    #[test]
    fn no_cycle_no_finding() {
        let graph = Graph::from_sources([
            ("lib.rs", "pub mod a;\npub mod b;\n"),
            (
                "a.rs",
                "use crate::b::B;\nfn f<'a>(x: &'a str) -> char { '}' }\n",
            ),
            (
                "b.rs",
                "use std::fmt;\nconst X: &str = r#\"use crate::a;\"#;\n",
            ),
        ]);
        assert!(graph.cycles().is_empty());
        assert_eq!(
            graph.modules["crate::a"].1,
            [Import {
                module: "crate::b".into(),
                line: 1
            }]
        );
    }
}
