//! `cargo xtask`: the project's automation, thin over the library crates.

mod bench_hurl;
mod bench_idle;
mod bench_mock;
mod bench_redact;
mod bench_scale;
mod bench_server;
mod catalog_diff;
mod codegen;
mod conformance;
mod load;
mod openapi_lint;
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
    Conformance(Box<conformance::ConformanceArgs>),
    /// Time the full conformance suite against the embedded mock (release
    /// build, start-up included) and behind 50 ms of latency, with `--jobs 1`
    /// and the default.
    BenchConformance,
    /// The runner beside Hurl 8 (`hurl` on PATH) on the suite's
    /// single-request scenarios against one warm release mock: whole
    /// processes, interleaved rounds, medians and the ratio.
    BenchHurl {
        /// Interleaved rounds (the median of each tool is printed).
        #[arg(long, default_value_t = 30)]
        rounds: usize,
        /// Do not pin the mock to CPU 0 and the tools to CPU 1.
        #[arg(long)]
        no_pin: bool,
        /// Keep the Hurl files and a `commands.sh` that runs both tools in
        /// DIR, to repeat or profile the comparison by hand.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
        /// The Cargo profile the runner is built in: `dist` (fat LTO, what a
        /// release ships) or `release`.
        #[arg(long, default_value = "dist")]
        cargo_profile: String,
    },
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
    /// paths (Unauthorized, NotFound, STEP_UP_REQUIRED, RateLimited), beside a
    /// bare axum server answering the same bytes in the same run, and print
    /// requests/s, the mock's ratio to the baseline and its p50/p99 latency.
    BenchMock {
        /// Concurrent keep-alive connections (comma-separated: each is measured).
        #[arg(long, value_delimiter = ',', default_value = "8,64")]
        connections: Vec<usize>,
        /// Seconds of load per path, server and connection count.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Interleaved rounds the seconds are split into.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Do not pin the servers and the load generator to separate CPUs.
        #[arg(long)]
        no_pin: bool,
        /// Only these paths (comma-separated names, e.g. `STEP_UP_REQUIRED`; default: all).
        #[arg(long, value_delimiter = ',')]
        paths: Vec<String>,
    },
    /// Hold thousands of idle connections to the mock's release binary (default limit, and
    /// under 1,024 descriptors) and print other clients' p50/p99/max latency beside the same
    /// requests without the flood; then time how long idle and slowloris connections stay
    /// open against the configured timeouts.
    BenchIdle {
        /// Idle connections in the flood.
        #[arg(long, default_value_t = 4000)]
        idle: usize,
        /// Requests from other clients per case.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Interleaved rounds the requests are split into.
        #[arg(long, default_value_t = 4)]
        rounds: usize,
        /// The mock's --idle-timeout, seconds.
        #[arg(long, default_value_t = 5)]
        idle_timeout: u64,
        /// The mock's --header-read-timeout, seconds.
        #[arg(long, default_value_t = 3)]
        header_read_timeout: u64,
    },
    /// Provision N users into one workspace of the mock's release binary over SCIM and
    /// print create, filtered-list, paging and GET latencies and RSS per user.
    BenchScale {
        /// Workspace sizes (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
        users: Vec<usize>,
        /// Repetitions per measured request (the median is printed).
        #[arg(long, default_value_t = 21)]
        repeat: usize,
    },
    /// Compare this tree's catalog with an older one (a git ref's
    /// docs/catalog.json, or a file) and classify every change; exit 1 on a
    /// breaking change without a new major version.
    CatalogDiff {
        /// A git ref (`origin/main`, `v1.2.0`) or a catalog.json file.
        #[arg(long, value_name = "REF|FILE")]
        base: String,
        /// Where the head comes from and what to print.
        #[command(flatten)]
        report: catalog_contract::cli::DiffArgs,
    },
    /// Check an OpenAPI 3.x document against the catalog; exit 1 on any finding.
    OpenapiLint(catalog_contract::cli::LintArgs),
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
        Command::BenchHurl {
            rounds,
            no_pin,
            keep,
            cargo_profile,
        } => bench_hurl::run(&bench_hurl::Options {
            rounds,
            pin: !no_pin,
            keep,
            profile: cargo_profile,
        })
        .map(|()| ExitCode::SUCCESS),
        Command::CatalogDiff { base, report } => {
            catalog_diff::run(&workspace_root(), &base, &report, &mut std::io::stdout())
        }
        Command::OpenapiLint(args) => openapi_lint::run(&args),
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
            rounds,
            no_pin,
            paths,
        } => bench_mock::run(&bench_mock::Options {
            connections,
            seconds,
            rounds,
            pin: !no_pin,
            paths,
        })
        .map(|()| ExitCode::SUCCESS),
        Command::BenchIdle {
            idle,
            requests,
            rounds,
            idle_timeout,
            header_read_timeout,
        } => bench_idle::run(&bench_idle::Options {
            idle,
            requests,
            rounds,
            idle_timeout,
            header_read_timeout,
        })
        .map(|()| ExitCode::SUCCESS),
        Command::BenchScale { users, repeat } => {
            bench_scale::run(&bench_scale::Options { users, repeat }).map(|()| ExitCode::SUCCESS)
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
