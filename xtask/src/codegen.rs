//! `cargo xtask codegen`: writes every file derived from the catalog.
//!
//! Generated files are committed; the test below regenerates them in check
//! mode and fails with "run `cargo xtask codegen`" when one is stale, so CI
//! needs no special step (rust-analyzer's `ensure_file_contents`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Whether to write files or only report stale ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Write every file whose contents changed.
    Write,
    /// Write nothing; fail when a file is stale.
    Check,
}

/// Every generated file: path relative to the workspace root, and contents.
pub fn files() -> Vec<(PathBuf, String)> {
    let mut out = vec![
        (PathBuf::from("docs/errors.md"), catalog::render::markdown()),
        (PathBuf::from("docs/errors.html"), catalog::render::html()),
        (
            PathBuf::from("docs/catalog.json"),
            catalog_contract::export::catalog_json(),
        ),
    ];
    let schemas = response_schema::schema::all()
        .into_iter()
        .chain(conformance_runner::schema::all())
        .chain([("catalog.schema.json", catalog_contract::export::schema())]);
    for (name, schema) in schemas {
        let mut text = serde_json::to_string_pretty(&schema).expect("a JSON value serializes");
        text.push('\n');
        out.push((Path::new("schemas").join(name), text));
    }
    out
}

/// Regenerates (or checks) every file under `root`; returns the stale ones.
pub fn run(root: &Path, mode: Mode) -> Result<Vec<PathBuf>> {
    let mut stale = Vec::new();
    for (relative, contents) in files() {
        let path = root.join(&relative);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(contents.as_str()) {
            continue;
        }
        stale.push(relative.clone());
        if mode == Mode::Write {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&path, contents)
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("updated {}", relative.display());
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_are_fresh() {
        let stale = run(&crate::workspace_root(), Mode::Check).unwrap();
        assert!(
            stale.is_empty(),
            "generated files are stale: {stale:?}; run `cargo xtask codegen` and commit the result"
        );
    }
}
