//! Loading scenario files: every `*.toml` below a folder, in path order,
//! each validated, every problem of every file reported at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::model::scenario::validate::Cx;
use crate::model::scenario::{Diagnostic, LoadError, Scenario, SourceFile};

/// Loads and validates every `*.toml` file below `dir`, in path order.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, LoadError> {
    let mut paths = Vec::new();
    collect_toml(dir, &mut paths)?;
    paths.sort();
    if paths.is_empty() {
        return Err(LoadError::Empty(dir.display().to_string()));
    }
    let mut files = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        files.push(SourceFile {
            name: path.display().to_string(),
            text,
        });
    }
    load(&files)
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_toml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Parses and validates `files`; reports every problem in every file.
pub fn load(files: &[SourceFile]) -> Result<Vec<Scenario>, LoadError> {
    let mut scenarios = Vec::new();
    let mut diagnostics = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for file in files {
        let mut cx = Cx {
            file,
            diagnostics: Vec::new(),
            line_starts: std::cell::OnceCell::new(),
        };
        for scenario in cx.parse_file() {
            match seen.get(&scenario.id) {
                Some(first) => cx.diagnostics.push(Diagnostic {
                    file: file.name.clone(),
                    line: scenario.source.line,
                    column: 1,
                    message: format!("scenario id `{}` is already used at {first}", scenario.id),
                }),
                None => {
                    seen.insert(
                        scenario.id.clone(),
                        format!("{}:{}", file.name, scenario.source.line),
                    );
                    scenarios.push(scenario);
                }
            }
        }
        diagnostics.extend(cx.diagnostics);
    }
    if diagnostics.is_empty() {
        Ok(scenarios)
    } else {
        Err(LoadError::Invalid(diagnostics))
    }
}
