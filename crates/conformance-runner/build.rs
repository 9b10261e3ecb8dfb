//! Embeds `fixtures/scenarios/**/*.toml` so the installed binary carries the suite.
//!
//! Writes `$OUT_DIR/embedded_scenarios.rs`: a slice of (repository-relative
//! name, contents) pairs built with `include_str!`. Cargo re-runs this
//! script when anything under the directory changes.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("../..");
    let dir = root.join("fixtures/scenarios");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();
    let mut out = String::from("&[\n");
    for path in files {
        let relative = path.strip_prefix(&root).unwrap_or(&path);
        let name = relative.to_string_lossy().replace('\\', "/");
        let absolute = path.canonicalize().unwrap_or(path);
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            absolute.display().to_string()
        ));
    }
    out.push_str("]\n");
    let target = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(target.join("embedded_scenarios.rs"), out).expect("OUT_DIR is writable");
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}
