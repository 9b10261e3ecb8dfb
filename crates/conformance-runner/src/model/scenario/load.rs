//! Loading scenario files: every `*.toml` below a folder, in path order,
//! each validated, every problem of every file reported at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::model::scenario::head::{self, Head};
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
///
/// Files are parsed on every CPU at once: consecutive runs of files of about
/// equal size, the first on this thread and each other on a thread of its
/// own, then joined in order, so ids, diagnostics and their order do not
/// depend on the threads. Parsing the built-in suite was a third of a short
/// run's start-up.
pub fn load(files: &[SourceFile]) -> Result<Vec<Scenario>, LoadError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(files.len())
        .max(1);
    let parts = split_by_size(files, threads);
    let parsed: Vec<(Vec<Scenario>, Vec<Diagnostic>)> = std::thread::scope(|scope| {
        let (first, rest) = parts.split_first().unwrap_or((&files, &[]));
        let handles: Vec<_> = rest
            .iter()
            .map(|part| scope.spawn(move || part.iter().map(parse_one).collect::<Vec<_>>()))
            .collect();
        let mut parsed: Vec<_> = first.iter().map(parse_one).collect();
        for handle in handles {
            match handle.join() {
                Ok(part) => parsed.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        parsed
    });
    let mut scenarios = Vec::new();
    let mut diagnostics = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for (file, (parsed, file_diagnostics)) in files.iter().zip(parsed) {
        diagnostics.extend(file_diagnostics);
        for scenario in parsed {
            match seen.get(&scenario.id) {
                Some(first) => diagnostics.push(Diagnostic {
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
    }
    if diagnostics.is_empty() {
        Ok(scenarios)
    } else {
        Err(LoadError::Invalid(diagnostics))
    }
}

/// Parses the `[[scenario]]` tables of `files` that `keep` may select, as
/// [`load`] parses them all. A table whose head cannot be read for certain
/// is parsed. The others become blank lines, so every line keeps its number
/// and a file whose tables all go is not parsed at all. For the built-in
/// files, which are known to load (a test); a user's are loaded whole.
pub(crate) fn load_where(
    files: &[SourceFile],
    keep: &dyn Fn(&Head<'_>) -> bool,
) -> Result<Vec<Scenario>, LoadError> {
    let mut kept = Vec::new();
    for file in files {
        let tables = head::tables(&file.text);
        let mut text = String::with_capacity(file.text.len());
        text.push_str(&file.text[..tables.first().map_or(file.text.len(), |t| t.start)]);
        let mut any = false;
        for table in tables {
            let part = &file.text[table];
            if head::scan(part).is_none_or(|h| keep(&h.head())) {
                text.push_str(part);
                any = true;
            } else {
                text.extend(std::iter::repeat_n('\n', part.matches('\n').count()));
            }
        }
        if any {
            kept.push(SourceFile {
                name: file.name.clone(),
                text,
            });
        }
    }
    load(&kept)
}

/// `files` cut into at most `parts` consecutive runs of about equal size.
fn split_by_size(files: &[SourceFile], parts: usize) -> Vec<&[SourceFile]> {
    let total: usize = files.iter().map(|f| f.text.len()).sum();
    let per_part = total.div_ceil(parts.max(1)).max(1);
    let mut out = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, file) in files.iter().enumerate() {
        size += file.text.len();
        if size >= per_part && out.len() + 1 < parts {
            out.push(&files[start..=i]);
            (start, size) = (i + 1, 0);
        }
    }
    if start < files.len() {
        out.push(&files[start..]);
    }
    out
}

/// One file's scenarios and the problems found in it.
fn parse_one(file: &SourceFile) -> (Vec<Scenario>, Vec<Diagnostic>) {
    let mut cx = Cx {
        file,
        diagnostics: Vec::new(),
        line_starts: std::cell::OnceCell::new(),
    };
    let scenarios = cx.parse_file();
    (scenarios, cx.diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_split_into_consecutive_runs_of_about_equal_size() {
        let files: Vec<SourceFile> = [30, 5, 5, 10, 10, 40]
            .iter()
            .enumerate()
            .map(|(i, &n)| SourceFile {
                name: i.to_string(),
                text: "x".repeat(n),
            })
            .collect();
        let names = |parts: Vec<&[SourceFile]>| -> Vec<Vec<String>> {
            parts
                .iter()
                .map(|p| p.iter().map(|f| f.name.clone()).collect())
                .collect()
        };
        assert_eq!(
            names(split_by_size(&files, 2)),
            [vec!["0", "1", "2", "3"], vec!["4", "5"]]
        );
        assert_eq!(
            names(split_by_size(&files, 1)),
            [vec!["0", "1", "2", "3", "4", "5"]]
        );
        let three = names(split_by_size(&files, 3));
        assert!(three.len() <= 3);
        assert_eq!(three.concat(), ["0", "1", "2", "3", "4", "5"]);
        assert!(split_by_size(&[], 2).is_empty());
    }
}
