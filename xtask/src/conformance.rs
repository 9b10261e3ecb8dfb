//! `cargo xtask conformance` and `cargo xtask bench-conformance`.
//!
//! Thin over the two libraries: start the mock in-process on `127.0.0.1:0`
//! (unless a target or profile is given), hand the runner's own flags to
//! `conformance_runner::cli::run`, exit with its documented code. The
//! benchmark times the full suite against the embedded mock, directly and
//! behind a proxy that delays every response by 50 ms, with `--jobs 1` and
//! the default.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use conformance_runner::cli::exit::exit_code;
use conformance_runner::cli::run::{self as cli, Args};
use conformance_runner::report::Outcome;
use conformance_runner::report::progress::Progress;
use conformance_runner::{DEFAULT_JOBS, Options, Plan};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// `cargo xtask conformance`: the runner's flags, and the mock's seed.
#[derive(clap::Args, Clone, Debug)]
pub struct ConformanceArgs {
    /// Every flag of `conformance-runner run` (profile, selection, reports),
    /// handed to the runner as they are.
    #[command(flatten)]
    pub runner: Args,
    /// Start the embedded mock from this seed instead of fixtures/seed.toml
    /// (with the matching `--profile`, e.g. fixtures/seeds/renamed.toml and
    /// fixtures/profiles/renamed.toml).
    #[arg(long, value_name = "FILE")]
    pub seed: Option<std::path::PathBuf>,
}

/// The latency the benchmark's proxy adds to every response.
pub const BENCH_LATENCY: Duration = Duration::from_millis(50);

/// Starts the embedded mock for the suite.
///
/// Loopback is a trusted proxy here so the IPv6 and IPv4-mapped network
/// policy scenarios can name their client address in `X-Forwarded-For`; a
/// request without those headers is still judged by its loopback peer.
pub async fn spawn_mock(seed: Option<&std::path::Path>) -> Result<mock_server::Running> {
    let mut config = match seed {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the seed {}", path.display()))?;
            let seed = mock_server::seed::Seed::parse(&text)
                .with_context(|| format!("loading the seed {}", path.display()))?;
            mock_server::Config::new(seed)
        }
        None => mock_server::Config::embedded().context("loading the mock's seed")?,
    };
    config.seed.trusted_proxies.push("127.0.0.1/32".into());
    let listen = SocketAddr::from(([127, 0, 0, 1], 0));
    mock_server::spawn(listen, config)
        .await
        .context("starting the mock on 127.0.0.1:0")
}

/// `cargo xtask conformance [runner flags]`.
pub fn run(args: ConformanceArgs) -> Result<ExitCode> {
    let ConformanceArgs {
        runner: mut args,
        seed,
    } = args;
    let runtime = runtime()?;
    runtime.block_on(async {
        // With neither a target nor a profile (or with a seed), the suite
        // runs against the embedded mock.
        let wants_mock = args.profile.is_none() || seed.is_some();
        let mock = if args.target.is_none() && wants_mock && !args.list {
            let mock = spawn_mock(seed.as_deref()).await?;
            args.target = Some(mock.base_url());
            Some(mock)
        } else {
            None
        };
        let interrupt = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            eprintln!("\ninterrupted: cleaning up");
        };
        let result = cli::run(&args, &mut std::io::stdout(), interrupt).await;
        if let Err(e) = &result {
            eprintln!("error: {e}");
        }
        if let Some(mock) = mock {
            // The report is out; a failing shutdown changes nothing about it.
            let _ = mock.shutdown().await;
        }
        Ok(ExitCode::from(exit_code(&result)))
    })
}

/// `cargo xtask bench-conformance`: re-runs itself in release, then prints
/// the wall time of the full suite in four configurations.
pub fn bench() -> Result<ExitCode> {
    if cfg!(debug_assertions) {
        eprintln!("building xtask in release for the benchmark...");
        let status =
            std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args([
                    "run",
                    "--release",
                    "--quiet",
                    "--package",
                    "xtask",
                    "--",
                    "bench-conformance",
                ])
                .status()
                .context("running cargo")?;
        return Ok(ExitCode::from(
            u8::try_from(status.code().unwrap_or(1)).unwrap_or(1),
        ));
    }
    let runtime = runtime()?;
    runtime.block_on(async {
        println!("full conformance suite, release build");
        println!(
            "(start-up: a fresh mock and the plan; run: client, probe, every scenario and cleanup)"
        );
        println!(
            "(critical path: the probe's round trip, then the round trips of the scenario with the"
        );
        println!(
            " most, one response latency each: no concurrency makes the suite faster than that)"
        );
        println!(
            "{:<28} {:>5} {:>12} {:>12} {:>12} {:>17} {:>8}",
            "target", "jobs", "start-up", "run", "wall time", "critical path", "result"
        );
        let jobs_list: Vec<usize> = match std::env::var("BENCH_JOBS") {
            Ok(list) => list
                .split(',')
                .map(|j| j.trim().parse().context("BENCH_JOBS is N,N,..."))
                .collect::<Result<_>>()?,
            Err(_) => vec![1, DEFAULT_JOBS],
        };
        let mut all_passed = true;
        let mut longest = None;
        for latency in [Duration::ZERO, BENCH_LATENCY] {
            for &jobs in &jobs_list {
                let timed = time_suite(latency, jobs).await?;
                all_passed &= timed.passed;
                let target = if latency.is_zero() {
                    "embedded mock".to_owned()
                } else {
                    format!("mock + {} ms per response", latency.as_millis())
                };
                let ms = |d: Duration| d.as_secs_f64() * 1000.0;
                let wall = timed.start_up + timed.run;
                let critical = if latency.is_zero() {
                    "-".to_owned()
                } else {
                    format!(
                        "{:.0} ms ({:.2}x)",
                        ms(timed.critical),
                        wall.as_secs_f64() / timed.critical.as_secs_f64()
                    )
                };
                println!(
                    "{target:<28} {jobs:>5} {:>9.1} ms {:>9.1} ms {:>9.1} ms {critical:>17} {:>8}",
                    ms(timed.start_up),
                    ms(timed.run),
                    ms(wall),
                    timed.closing
                );
                longest = Some(timed.longest);
                if !latency.is_zero() {
                    println!("{:>28} slowest: {}", "", timed.slowest);
                }
            }
        }
        if let Some(longest) = longest {
            println!("the scenario with the most round trips: {longest}");
        }
        Ok(if all_passed {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

/// One timed run of the suite.
struct Timed {
    start_up: Duration,
    run: Duration,
    /// The probe's round trip, then the longest scenario's, at one response
    /// latency each.
    critical: Duration,
    /// That scenario and its round trips.
    longest: String,
    passed: bool,
    closing: String,
    /// The three scenarios that took longest, with their durations.
    slowest: String,
}

/// Starts a fresh mock (and the delaying proxy when `latency` is not zero),
/// runs every scenario, and returns the times, whether it passed and the
/// closing line.
async fn time_suite(latency: Duration, jobs: usize) -> Result<Timed> {
    let started = Instant::now();
    let mock = spawn_mock(None).await?;
    let target = if latency.is_zero() {
        mock.base_url()
    } else {
        let proxy = delaying_proxy(mock.addr(), latency).await?;
        format!("http://{proxy}")
    };
    let scenarios = conformance_runner::embedded_scenarios()?;
    let mut profile = conformance_runner::profile::Profile::mock();
    if !latency.is_zero() {
        // The delaying proxy relays bytes from its own loopback address, which
        // the mock trusts, so no request reaches it from an untrusted peer:
        // the untrusted-peer scenario is skipped there, saying so.
        profile.untrusted_source = None;
    }
    let options = Options {
        target: Some(target),
        jobs,
        ..Options::new(profile, scenarios.clone())
    };
    let plan = Plan::new(options, &|_| None)?;
    let start_up = started.elapsed();
    let ran = Instant::now();
    let report = plan.run(&Progress::quiet(), std::future::pending()).await?;
    let run = ran.elapsed();
    let _ = mock.shutdown().await;
    // The critical path: the probe's round trip, then the runnable scenario
    // with the most round trips (setup, the asserted request, cleanup), each
    // one response latency. No concurrency can beat it.
    let fixtures = conformance_runner::profile::Profile::mock().fixtures;
    let (round_trips, longest) = report
        .scenarios
        .iter()
        .filter(|r| r.outcome != Outcome::Skipped)
        .filter_map(|r| {
            let s = scenarios.iter().find(|s| s.id == r.id)?;
            let (requests, cleanup) = s.round_trips(&fixtures);
            Some((
                requests + cleanup,
                format!("{} ({requests} + {cleanup} cleanup round trips)", r.id),
            ))
        })
        .max_by_key(|(n, _)| *n)
        .unwrap_or_default();
    let critical = latency * u32::try_from(1 + round_trips).unwrap_or(u32::MAX);
    let mut durations: Vec<(u64, &str)> = report
        .scenarios
        .iter()
        .map(|r| (r.duration_ms, r.id.as_str()))
        .collect();
    durations.sort_unstable_by(|a, b| b.cmp(a));
    let slowest = durations
        .iter()
        .take(3)
        .map(|(ms, id)| format!("{id} {ms} ms"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Timed {
        start_up,
        run,
        critical,
        longest,
        passed: report.passed(),
        closing: format!("{}/{}", report.summary.passed, report.summary.total),
        slowest,
    })
}

/// A TCP proxy to `upstream` that holds every chunk of every response for
/// `latency` before passing it on. Responses of the suite fit in one chunk,
/// so each response arrives `latency` late. Runs until the process ends.
pub async fn delaying_proxy(upstream: SocketAddr, latency: Duration) -> Result<SocketAddr> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                    let _ = server_write.shutdown().await;
                });
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = server_read.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    tokio::time::sleep(latency).await;
                    if client_write.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                let _ = client_write.shutdown().await;
                up.abort();
            });
        }
    });
    Ok(addr)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
