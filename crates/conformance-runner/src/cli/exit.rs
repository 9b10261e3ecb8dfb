//! The documented exit codes, and the one map from a command's result to
//! its code.

use std::path::PathBuf;

use crate::cli::init::InitError;
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
    /// `init` could not write the profile (exit 2).
    #[error(transparent)]
    Init(#[from] InitError),
    /// `authenticator` could not answer: a bad key, challenge or option (exit 2).
    #[error("{0}")]
    Authenticator(String),
    /// A report file could not be written (exit 2).
    #[error("failed to write {}: {source}", path.display())]
    Output {
        /// The report file, or `standard output` when printing failed.
        path: PathBuf,
        /// The write error.
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

/// What a command produced, as far as its exit code is concerned.
pub trait Verdict {
    /// Stopped early by Ctrl-C, SIGTERM or `--deadline` (after cleanup).
    fn interrupted(&self) -> bool;
    /// Nothing to fail on: every check passed, or the targets agree.
    fn passed(&self) -> bool;
}

impl Verdict for Done {
    fn interrupted(&self) -> bool {
        matches!(self, Done::Ran(report) if report.interrupted)
    }

    fn passed(&self) -> bool {
        match self {
            Done::Listed => true,
            Done::Ran(report) => report.passed(),
        }
    }
}

/// A command that writes something and has no verdict (`init`, completions).
impl Verdict for () {
    fn interrupted(&self) -> bool {
        false
    }

    fn passed(&self) -> bool {
        true
    }
}

/// The documented exit code of every subcommand's result, run and `diff`
/// alike: the only place they are decided.
pub fn exit_code<V: Verdict>(result: &Result<V, Failure>) -> u8 {
    match result {
        Ok(v) if v.interrupted() => INTERRUPTED,
        Ok(v) if v.passed() => PASSED,
        Ok(_) => FAILED,
        Err(Failure::Run(RunError::Unreachable { .. } | RunError::WrongServer { .. })) => {
            UNREACHABLE
        }
        Err(
            Failure::Config(_)
            | Failure::Run(_)
            | Failure::Output { .. }
            | Failure::Init(_)
            | Failure::Authenticator(_)
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
