//! Tidy checks of the repository itself, run as tests (rust-analyzer's `tidy.rs`).

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

    /// The module graph of a crate's library (`src/` without the binary's own `main.rs`, which
    /// reaches the library by its name), as `module_graph` reads it.
    fn module_graph(krate: &str) -> super::module_graph::Graph {
        let src = workspace_root().join(krate).join("src");
        let sources: Vec<(String, String)> = with_extension(&src, "rs")
            .into_iter()
            .filter(|path| path != &src.join("main.rs"))
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

    fn assert_one_way(krate: &str) {
        let cycles = module_graph(krate).cycles();
        assert!(
            cycles.is_empty(),
            "module cycles in {krate}/src (split the shared part into a lower module):\n{}",
            cycles.join("\n")
        );
    }

    /// No file of the mock imports a module that imports it back, directly or through others
    /// (`module_graph` says how imports are read).
    #[test]
    fn the_mock_modules_import_one_way() {
        assert!(
            module_graph("crates/mock-server")
                .modules
                .contains_key("crate::state")
        );
        assert_one_way("crates/mock-server");
    }

    /// The runner's layers (model, plan, check, report, exec, cli) import only downward.
    #[test]
    fn the_runner_modules_import_one_way() {
        assert!(
            module_graph("crates/conformance-runner")
                .modules
                .contains_key("crate::exec::steps")
        );
        assert_one_way("crates/conformance-runner");
    }
}
