//! `cargo xtask`: the project's automation, thin over the library crates.

mod bench_mock;
mod bench_redact;
mod codegen;
mod conformance;
mod load;
mod tidy;

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
    /// Run every conformance scenario against the embedded mock (started on
    /// 127.0.0.1:0), or against `--target URL` / `--profile FILE`.
    Conformance(Box<conformance_runner::cli::Args>),
    /// Time the full conformance suite against the embedded mock (release
    /// build, start-up included) and behind 50 ms of latency, with `--jobs 1`
    /// and the default.
    BenchConformance,
    /// Time the redaction of a whole report at 1k, 10k and 100k scenarios
    /// (one captured secret each) against the former quadratic algorithm,
    /// and print the time per scenario. Run it in release:
    /// `cargo run --release -p xtask -- bench-redact`.
    BenchRedact {
        /// Scenario counts, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [1000, 10000, 100000])]
        sizes: Vec<usize>,
        /// Largest size the former algorithm is timed at.
        #[arg(long, default_value_t = 10000)]
        baseline_max: usize,
        /// Interleaved rounds (the median is printed).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Load the mock's release binary over loopback on representative error
    /// paths (Unauthorized, NotFound, STEP_UP_REQUIRED, RateLimited) and print
    /// requests/s and p50/p99 latency.
    BenchMock {
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Seconds of load per path.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
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
        Command::Conformance(args) => conformance::run(*args),
        Command::BenchConformance => conformance::bench(),
        Command::BenchRedact {
            sizes,
            baseline_max,
            rounds,
        } => bench_redact::run(&bench_redact::Options {
            sizes,
            baseline_max,
            rounds: rounds.max(1),
        })
        .map(|()| ExitCode::SUCCESS),
        Command::BenchMock {
            connections,
            seconds,
        } => bench_mock::run(&bench_mock::Options {
            connections,
            seconds,
        })
        .map(|()| ExitCode::SUCCESS),
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
