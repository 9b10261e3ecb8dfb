//! The documented exit codes, and the one map from a command's result to
//! its code.

use std::path::PathBuf;

use crate::exec::run::RunError;
use crate::model::profile::ProfileError;
use crate::plan::ConfigError;
use crate::report::Report;

/// Every selected scenario passed and every code is covered.
pub const PASSED: u8 = 0;
/// At least one conformance failure (or an uncovered code).
pub const FAILED: u8 = 1;
/// A usage or configuration error: nothing was run.
pub const CONFIG: u8 = 2;
/// The target did not answer.
pub const UNREACHABLE: u8 = 3;
/// Interrupted (Ctrl-C); cleanup ran.
pub const INTERRUPTED: u8 = 130;

/// Why the command did not produce a verdict.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Usage or configuration (exit 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The run could not happen.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Snapshots could not be read or written (exit 2).
    #[error(transparent)]
    Snapshots(#[from] crate::report::snapshot::SnapshotError),
    /// The waivers file is invalid, or a baseline's expiry has passed (exit 2).
    #[error(transparent)]
    Waivers(#[from] crate::report::waiver::WaiverError),
    /// A report file could not be written (exit 2).
    #[error("failed to write {}: {source}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What the command did.
#[derive(Debug)]
pub enum Done {
    /// `--list`: nothing was run.
    Listed,
    /// A run, with its report.
    Ran(Box<Report>),
}

/// The documented exit code of a result: the only place they are decided.
pub fn exit_code(result: &Result<Done, Failure>) -> u8 {
    match result {
        Ok(Done::Listed) => PASSED,
        Ok(Done::Ran(report)) if report.interrupted => INTERRUPTED,
        Ok(Done::Ran(report)) if report.passed() => PASSED,
        Ok(Done::Ran(_)) => FAILED,
        Err(Failure::Run(RunError::Unreachable { .. } | RunError::WrongServer { .. })) => {
            UNREACHABLE
        }
        Err(
            Failure::Config(_)
            | Failure::Run(_)
            | Failure::Output { .. }
            | Failure::Snapshots(_)
            | Failure::Waivers(_),
        ) => CONFIG,
    }
}

impl From<ProfileError> for Failure {
    fn from(e: ProfileError) -> Failure {
        Failure::Config(e.into())
    }
}
