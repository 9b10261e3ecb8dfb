//! The commands `cargo xtask` and `conformance-runner catalog` share.
//!
//! Exit codes: 0 compatible / no finding, 1 a breaking change without a new
//! major version / a finding, 2 an input that cannot be read.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use crate::{ContractError, diff, export, lint, parse_catalog, read_bounded};

/// `conformance-runner catalog ...`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare this build's catalog (or `--head FILE`) with an older
    /// `catalog.json` and classify every change; exit 1 on a breaking change
    /// without a new major version.
    Diff {
        /// The older catalog: a `catalog.json` file (the platform serves it at `/docs/errors.json`).
        #[arg(long, value_name = "FILE")]
        base: PathBuf,
        /// Where the head comes from and what to print.
        #[command(flatten)]
        report: DiffArgs,
    },
    /// Check an OpenAPI 3.x document against the catalog; exit 1 on any finding.
    OpenapiLint(LintArgs),
    /// Print this build's catalog as JSON (what `/docs/errors.json` serves).
    Export,
}

/// Output options of a comparison.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The newer catalog; this build's catalog when absent.
    #[arg(long, value_name = "FILE")]
    pub head: Option<PathBuf>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// `openapi-lint` options.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// The OpenAPI 3.x document (JSON).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The catalog to hold it against; this build's catalog when absent.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A Markdown table (diff) or one line per finding (lint), for people.
    Table,
    /// Pretty-printed JSON, for tools (the diff follows `schemas/diff.schema.json`).
    Json,
}

/// Runs a command; errors are printed to standard error and give exit code 2.
pub fn run(command: &Command, out: &mut dyn Write) -> u8 {
    let result = match command {
        Command::Diff { base, report } => read_catalog(base)
            .and_then(|catalog| diff_command(&catalog, &base.display().to_string(), report, out)),
        Command::OpenapiLint(args) => lint_command(args, out),
        Command::Export => {
            let _ = out.write_all(export::catalog_json().as_bytes());
            Ok(0)
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        2
    })
}

/// Reads and validates a `catalog.json`.
pub fn read_catalog(path: &Path) -> Result<crate::Catalog, ContractError> {
    parse_catalog(&read_bounded(path)?, &path.display().to_string())
}

/// Compares `base` with the head named by `args` (or this build's catalog), prints, decides.
pub fn diff_command(
    base: &crate::Catalog,
    base_label: &str,
    args: &DiffArgs,
    out: &mut dyn Write,
) -> Result<u8, ContractError> {
    let head = match &args.head {
        Some(path) => read_catalog(path)?,
        None => export::catalog(),
    };
    let report = diff::compare(base, &head, base_label)?;
    let json = serde_json::to_string_pretty(&report).expect("a report serializes");
    if let Some(path) = &args.json {
        let write_error = |source| ContractError::Read {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(write_error)?;
        }
        std::fs::write(path, format!("{json}\n")).map_err(write_error)?;
    }
    let text = match args.format {
        Format::Table => diff::table(&report),
        Format::Json => format!("{json}\n"),
    };
    let _ = out.write_all(text.as_bytes());
    Ok(if report.passed { 0 } else { 1 })
}

/// Lints the document named by `args`, prints the findings, decides.
pub fn lint_command(args: &LintArgs, out: &mut dyn Write) -> Result<u8, ContractError> {
    let origin = args.file.display().to_string();
    let text = read_bounded(&args.file)?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| ContractError::Parse {
        origin: origin.clone(),
        message: e.to_string(),
    })?;
    let catalog = match &args.catalog {
        Some(path) => read_catalog(path)?,
        None => export::catalog(),
    };
    let findings = lint::lint(&doc, &catalog, &origin)?;
    let text = match args.format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&findings).expect("findings serialize")
        ),
        Format::Table => {
            let mut text = String::new();
            for finding in &findings {
                text.push_str(&finding.line());
                text.push_str("\n  fix: ");
                text.push_str(&crate::printable(&finding.hint));
                if let Some(anchor) = &finding.anchor {
                    text.push_str(&format!(" (docs/errors.html#{anchor})"));
                }
                text.push('\n');
            }
            text.push_str(&format!(
                "{origin}: {} finding(s) against catalog {}\n",
                findings.len(),
                catalog.version
            ));
            text
        }
    };
    let _ = out.write_all(text.as_bytes());
    Ok(if findings.is_empty() { 0 } else { 1 })
}
