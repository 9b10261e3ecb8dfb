//! `cargo xtask openapi-lint FILE`: an OpenAPI 3.x document held against the
//! catalog (see `catalog_contract::lint`); exit 1 on any finding.

use std::process::ExitCode;

use anyhow::Result;
use catalog_contract::cli::LintArgs;

/// Runs the lint and prints the findings.
pub fn run(args: &LintArgs) -> Result<ExitCode> {
    let code = catalog_contract::cli::lint_command(args, &mut std::io::stdout())?;
    Ok(ExitCode::from(code))
}
