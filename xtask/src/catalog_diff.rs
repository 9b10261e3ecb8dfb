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
