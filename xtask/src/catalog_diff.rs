//! `cargo xtask catalog-diff --base <git ref or file>`: the compatibility
//! check of this tree's catalog against an older one (see
//! `catalog_contract::diff`). A base that names an existing file is read as a
//! `catalog.json`; anything else is a git ref whose `docs/catalog.json` is
//! read with `git show`. A ref from before the catalog was exported has
//! nothing to compare against, and passes saying so.

use std::io::Write;
use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use catalog_contract::cli::DiffArgs;

/// Where the committed catalog lives, relative to the workspace root.
pub const CATALOG_PATH: &str = "docs/catalog.json";

/// The base's text and a label for reports; `None` when the ref predates `docs/catalog.json`.
pub fn load_base(root: &Path, base: &str) -> Result<Option<(String, String)>> {
    let as_file = Path::new(base);
    if as_file.is_file() {
        let text = catalog_contract::read_bounded(as_file)?;
        return Ok(Some((text, base.to_owned())));
    }
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .context("running git")
    };
    let commit = git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{base}^{{commit}}"),
    ])?;
    if !commit.status.success() {
        bail!(
            "--base {base}: neither a file nor a git ref (fetch the branch first, e.g. `git fetch origin main`)"
        );
    }
    let object = format!("{base}:{CATALOG_PATH}");
    if !git(&["cat-file", "-e", &object])?.status.success() {
        return Ok(None);
    }
    let shown = git(&["show", &object])?;
    if !shown.status.success() {
        bail!(
            "git show {object}: {}",
            String::from_utf8_lossy(&shown.stderr).trim()
        );
    }
    if shown.stdout.len() as u64 > catalog_contract::MAX_INPUT_BYTES {
        bail!(
            "git show {object}: larger than {} bytes",
            catalog_contract::MAX_INPUT_BYTES
        );
    }
    let text = String::from_utf8(shown.stdout).with_context(|| format!("{object} is not UTF-8"))?;
    Ok(Some((text, format!("git show {object}"))))
}

/// Runs the check; the exit code is the decision (0 pass, 1 breaking, 2 bad input).
pub fn run(root: &Path, base: &str, args: &DiffArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let Some((text, label)) = load_base(root, base)? else {
        writeln!(
            out,
            "### Error catalog compatibility\n\n**PASS**: `{base}` has no {CATALOG_PATH}; nothing to compare against yet.",
        )?;
        return Ok(ExitCode::SUCCESS);
    };
    let catalog = catalog_contract::parse_catalog(&text, &label)?;
    let code = catalog_contract::cli::diff_command(&catalog, &label, args, out)?;
    Ok(ExitCode::from(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog_contract::cli::Format;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(status.status.success(), "git {args:?}: {status:?}");
    }

    /// A repository whose `main` has this tree's catalog and whose branch
    /// `change-status` changes ValidationError's status, bumped or not.
    fn repository(version: &str) -> tempdir::Dir {
        let dir = tempdir::Dir::new();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        std::fs::write(dir.path().join("README"), "no catalog yet\n").unwrap();
        git(dir.path(), &["add", "."]);
        git(dir.path(), &["commit", "-qm", "before the export"]);
        git(dir.path(), &["tag", "v0"]);
        std::fs::create_dir(dir.path().join("docs")).unwrap();
        let catalog = catalog_contract::export::catalog();
        std::fs::write(
            dir.path().join(CATALOG_PATH),
            catalog_contract::export::to_pretty(&catalog),
        )
        .unwrap();
        git(dir.path(), &["add", "."]);
        git(dir.path(), &["commit", "-qm", "export"]);
        git(dir.path(), &["checkout", "-qb", "change-status"]);
        let mut changed = catalog.clone();
        changed.version = version.to_owned();
        let code = changed
            .codes
            .iter_mut()
            .find(|c| c.code == "ValidationError")
            .unwrap();
        code.status = 422;
        std::fs::write(
            dir.path().join(CATALOG_PATH),
            catalog_contract::export::to_pretty(&changed),
        )
        .unwrap();
        git(dir.path(), &["commit", "-qam", "ValidationError is a 422"]);
        dir
    }

    fn check(dir: &Path, base: &str) -> (ExitCode, String) {
        let args = DiffArgs {
            head: Some(dir.join(CATALOG_PATH)),
            format: Format::Table,
            json: None,
        };
        let mut out = Vec::new();
        let code = run(dir, base, &args, &mut out).unwrap();
        (code, String::from_utf8(out).unwrap())
    }

    #[test]
    fn a_branch_that_changes_a_status_fails_against_main_naming_the_code() {
        let repo = repository("1.0.1");
        let (code, out) = check(repo.path(), "main");
        assert_eq!(code, ExitCode::from(1), "{out}");
        assert!(
            out.contains("**FAIL**: 1 breaking change(s) without a new major version (1.0.0 -> 1.0.1), first: breaking status-changed ValidationError: 400 -> 422"),
            "{out}"
        );
        assert!(
            out.contains("| breaking | status-changed | `ValidationError` | 400 | 422 |"),
            "{out}"
        );
    }

    #[test]
    fn the_same_branch_with_the_major_bumped_passes_and_says_why() {
        let repo = repository("2.0.0");
        let (code, out) = check(repo.path(), "main");
        assert_eq!(code, ExitCode::SUCCESS, "{out}");
        assert!(
            out.contains("**PASS**: 1 breaking change(s) accepted: the major version went from 1 to 2 (1.0.0 -> 2.0.0)"),
            "{out}"
        );
    }

    #[test]
    fn a_ref_before_the_export_passes_and_an_unknown_ref_is_an_error() {
        let repo = repository("1.0.1");
        let (code, out) = check(repo.path(), "v0");
        assert_eq!(code, ExitCode::SUCCESS);
        assert!(out.contains("`v0` has no docs/catalog.json"), "{out}");
        let args = DiffArgs {
            head: None,
            format: Format::Table,
            json: None,
        };
        let error = run(repo.path(), "no-such-branch", &args, &mut Vec::new()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "--base no-such-branch: neither a file nor a git ref (fetch the branch first, e.g. `git fetch origin main`)"
        );
    }

    /// A temporary directory removed on drop (no extra crate for three tests).
    mod tempdir {
        use std::path::{Path, PathBuf};

        pub struct Dir(PathBuf);

        impl Dir {
            pub fn new() -> Dir {
                static NEXT: std::sync::atomic::AtomicUsize =
                    std::sync::atomic::AtomicUsize::new(0);
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let path = std::env::temp_dir()
                    .join(format!("xtask-catalog-diff-{}-{n}", std::process::id()));
                let _ = std::fs::remove_dir_all(&path);
                std::fs::create_dir_all(&path).unwrap();
                Dir(path)
            }

            pub fn path(&self) -> &Path {
                &self.0
            }
        }

        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }
}
