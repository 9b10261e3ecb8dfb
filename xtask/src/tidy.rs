//! Tidy checks of the repository itself, run as tests (rust-analyzer's `tidy.rs`).

#[cfg(test)]
mod docs;
#[cfg(test)]
mod length;
#[cfg(test)]
mod module_graph;

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use catalog::Code;

    use crate::workspace_root;

    /// Files git would track: everything below the root except build output,
    /// VCS metadata and ignored folders.
    fn files(root: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if path.is_dir() {
                    if !matches!(
                        name.as_ref(),
                        "target" | ".git" | "reports" | "node_modules"
                    ) {
                        stack.push(path);
                    }
                } else {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }

    fn with_extension(root: &Path, ext: &str) -> Vec<PathBuf> {
        files(root)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect()
    }

    #[test]
    fn every_rust_file_starts_with_a_module_doc() {
        let root = workspace_root();
        let missing: Vec<String> = with_extension(&root, "rs")
            .into_iter()
            .filter(|p| {
                let text = std::fs::read_to_string(p).unwrap_or_default();
                !text.trim_start().starts_with("//!")
            })
            .map(|p| p.strip_prefix(&root).unwrap_or(&p).display().to_string())
            .collect();
        assert!(
            missing.is_empty(),
            "start these files with a `//!` line: {missing:?}"
        );
    }

    #[test]
    fn no_ignored_or_should_panic_tests() {
        let root = workspace_root();
        let this_file = root.join("xtask/src/tidy.rs");
        let ignore = ["#[", "ignore]"].concat();
        let should_panic = ["#[", "should_panic"].concat();
        let offenders: Vec<String> = with_extension(&root, "rs")
            .into_iter()
            .filter(|p| *p != this_file)
            .filter(|p| {
                let text = std::fs::read_to_string(p).unwrap_or_default();
                text.contains(&ignore) || text.contains(&should_panic)
            })
            .map(|p| p.display().to_string())
            .collect();
        assert!(
            offenders.is_empty(),
            "assert today's behaviour instead: {offenders:?}"
        );
    }

    #[test]
    fn no_trailing_whitespace() {
        let root = workspace_root();
        let mut offenders = Vec::new();
        for path in files(&root) {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default();
            if !matches!(ext, "rs" | "toml" | "md" | "json" | "yml" | "yaml" | "html") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for (i, line) in text.lines().enumerate() {
                if line.ends_with(' ') || line.ends_with('\t') {
                    offenders.push(format!(
                        "{}:{}",
                        path.strip_prefix(&root).unwrap_or(&path).display(),
                        i + 1
                    ));
                }
            }
        }
        assert!(offenders.is_empty(), "trailing whitespace at {offenders:?}");
    }

    #[test]
    fn every_code_has_a_row_on_the_reference_page_and_a_scenario() {
        let root = workspace_root();
        let page = std::fs::read_to_string(root.join("docs/errors.md")).unwrap_or_default();
        let scenarios: String = files(&root.join("fixtures/scenarios"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect();
        for &code in Code::ALL {
            assert!(
                page.contains(&format!("<a id=\"{}\"></a>", code.anchor())),
                "{code} has no row in docs/errors.md"
            );
            assert!(
                scenarios.contains(&format!("code = \"{}\"", code.name())),
                "{code} has no scenario in fixtures/scenarios"
            );
        }
    }

    /// The workspace's crates: the root manifest's `members`, a trailing `/*` expanded.
    fn workspace_crates() -> Vec<PathBuf> {
        let root = workspace_root();
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let members = manifest
            .lines()
            .find_map(|l| l.trim().strip_prefix("members = "))
            .expect("the root manifest lists its members on one line");
        let mut out = Vec::new();
        for member in members
            .trim_matches(['[', ']'])
            .split(',')
            .map(|m| m.trim().trim_matches('"'))
            .filter(|m| !m.is_empty())
        {
            match member.strip_suffix("/*") {
                Some(dir) => {
                    let mut found: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
                        .unwrap()
                        .flatten()
                        .map(|e| e.path())
                        .filter(|p| p.join("Cargo.toml").is_file())
                        .collect();
                    found.sort();
                    out.extend(found);
                }
                None => out.push(root.join(member)),
            }
        }
        out
    }

    /// The module graph of a crate's `src/`, as `module_graph` reads it. Beside a `lib.rs`,
    /// `main.rs` is a crate of its own that reaches the library by name, so it is left out;
    /// without one, `main.rs` is the root.
    fn crate_graph(dir: &Path) -> super::module_graph::Graph {
        let src = dir.join("src");
        let has_lib = src.join("lib.rs").is_file();
        let sources: Vec<(String, String)> = with_extension(&src, "rs")
            .into_iter()
            .filter(|path| !(has_lib && path == &src.join("main.rs")))
            .map(|path| {
                let relative = path
                    .strip_prefix(&src)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                let text = std::fs::read_to_string(&path).unwrap();
                (relative, text)
            })
            .collect();
        super::module_graph::Graph::from_sources(
            sources.iter().map(|(p, s)| (p.as_str(), s.as_str())),
        )
    }

    /// No file of any crate imports a module that imports it back, directly or through others
    /// (`module_graph` says how imports are read).
    #[test]
    fn every_crate_imports_one_way() {
        let crates = workspace_crates();
        let names: Vec<String> = crates
            .iter()
            .map(|c| c.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for expected in ["catalog", "conformance-runner", "mock-server", "xtask"] {
            assert!(names.iter().any(|n| n == expected), "{names:?}");
        }
        let mut findings = Vec::new();
        for dir in &crates {
            let graph = crate_graph(dir);
            assert!(graph.modules.contains_key("crate"), "{}", dir.display());
            let name = dir.strip_prefix(workspace_root()).unwrap().display();
            findings.extend(graph.cycles().into_iter().map(|c| format!("{name}: {c}")));
        }
        assert!(
            findings.is_empty(),
            "module cycles (split the shared part into a lower module):\n{}",
            findings.join("\n")
        );
    }

    /// The check reads a crate from disk as the test above does: `main.rs` beside a `lib.rs`
    /// is left out, and a cycle through a folder module is reported with files and lines.
    #[test]
    fn a_crate_with_a_cycle_is_rejected() {
        let dir = std::env::temp_dir().join(format!("tidy-cycle-{}", std::process::id()));
        let write = |path: &str, text: &str| {
            let path = dir.join("src").join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "lib.rs",
            "//! L.\npub mod report;\npub mod waiver;\npub const VERSION: &str = \"1\";\n",
        );
        write("main.rs", "//! M.\nuse crate::waiver::W;\nfn main() {}\n");
        write(
            "report/mod.rs",
            "//! R.\npub mod human;\n\npub struct Report(Vec<crate::waiver::Note>);\n",
        );
        write("report/human.rs", "//! H.\nuse super::Report;\n");
        // Were `main.rs` read as the root, `crate -> waiver -> crate` would be a second cycle.
        write(
            "waiver.rs",
            "//! W.\nuse crate::report::Report;\npub struct Note;\nconst V: &str = crate::VERSION;\n",
        );
        let cycles = crate_graph(&dir).cycles();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            cycles,
            [
                "crate::report (src/report/mod.rs:4) -> crate::waiver (src/waiver.rs:2) -> crate::report"
            ]
        );
    }

    /// No source file of any crate (`src/` of every workspace member) holds more than
    /// `length::MAX_LINES` lines before its tests, data files in `length::DATA_FILES` aside.
    #[test]
    fn no_source_file_is_too_long() {
        let root = workspace_root();
        let sources: Vec<(String, String)> = workspace_crates()
            .iter()
            .flat_map(|dir| with_extension(&dir.join("src"), "rs"))
            .map(|path| {
                let relative = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                (relative, std::fs::read_to_string(&path).unwrap())
            })
            .collect();
        assert!(
            sources.iter().any(|(p, _)| p == "xtask/src/tidy.rs"),
            "{} files read",
            sources.len()
        );
        let findings = super::length::findings(
            sources.iter().map(|(p, s)| (p.as_str(), s.as_str())),
            super::length::DATA_FILES,
        );
        assert!(findings.is_empty(), "{}", findings.join("\n"));
    }
}
