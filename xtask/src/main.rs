//! `cargo xtask`: the project's automation, thin over the library crates.

mod codegen;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Project automation for the error-contract toolkit.
#[derive(Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate every file derived from the catalog (reference pages, JSON Schemas).
    Codegen {
        /// Write nothing; exit 1 when a generated file is stale.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Codegen { check } => {
            let mode = if check {
                codegen::Mode::Check
            } else {
                codegen::Mode::Write
            };
            codegen::run(&workspace_root(), mode).map(|stale| {
                if check && !stale.is_empty() {
                    eprintln!("stale generated files: {stale:?}; run `cargo xtask codegen`");
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                }
            })
        }
    };
    result.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::from(2)
    })
}

/// The workspace root: xtask lives one level below it.
pub(crate) fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}
