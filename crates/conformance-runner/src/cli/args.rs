//! The flag groups the subcommands share, each written once and flattened
//! into a run, `requirements` and `diff`, so their help cannot drift apart.

use std::path::PathBuf;

use crate::plan::DEFAULT_JOBS;
use crate::plan::select::{Filter, Shard};

/// Which scenarios: `--scenarios`, `--filter`, `--shard`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct SelectionArgs {
    /// Directory of scenario files; default: the scenarios compiled into the runner.
    #[arg(long, value_name = "DIR")]
    pub(crate) scenarios: Option<PathBuf>,

    /// Select scenarios: code=NAME, category=SLUG, tag=NAME, id=PREFIX,
    /// basis=standard|platform, or a bare word matching any of them. Repeat
    /// for a union.
    #[arg(long, value_name = "EXPR")]
    pub(crate) filter: Vec<Filter>,

    /// Run only the K-th of N slices of the suite (for a CI job matrix), like 2/4.
    #[arg(long, value_name = "K/N")]
    pub(crate) shard: Option<Shard>,
}

/// How requests go to a target: `--jobs`, `--timeout`.
#[derive(clap::Args, Clone, Debug)]
pub struct RequestArgs {
    /// Scenarios in flight at once (on each target).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_JOBS, value_parser = parse_jobs)]
    pub(crate) jobs: usize,

    /// Per-request timeout, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub(crate) timeout: u64,
}

/// What goes to standard output and beside it: `--format`, `--json`.
#[derive(clap::Args, Clone, Debug)]
pub struct OutputArgs {
    /// Report format on standard output.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub(crate) format: Format,

    /// Also write the JSON form to FILE (its schema is in schemas/: the
    /// report's for a run, the diff's for `diff`).
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
}

/// `--format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Tables for people.
    Human,
    /// The JSON report.
    Json,
}

fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err("jobs is a number from 1 to 256".into()),
    }
}
