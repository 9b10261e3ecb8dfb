//! `cargo xtask bench-idle`: the mock's release binary under a flood of idle connections.
//!
//! Opens `--idle` connections that send nothing and holds them while other clients send
//! requests (each on a new connection, as a client arriving during the flood would), and
//! prints those requests' p50/p99/max latency beside the same requests with no flood, in
//! interleaved rounds on the same servers. Two servers: one with the default connection limit
//! (from its raised descriptor limit), and one started under a 1,024-descriptor limit
//! (`prlimit`), where the flood is four times what it can hold, so the limit's
//! "close the longest-idle connection" policy is what keeps it answering. Then it opens the
//! flood again, half of it idle and half slowloris (a request line and no end of head), and
//! prints how long the mock took to close them against `--idle-timeout` and
//! `--header-read-timeout`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::bench_server::{Server, build, reexec_in_release};
use crate::load::{self, Target};

/// Settings of a run.
pub struct Options {
    /// Idle connections in the flood.
    pub idle: usize,
    /// Requests from other clients per case (split across the rounds).
    pub requests: usize,
    /// Interleaved rounds.
    pub rounds: usize,
    /// The mock's `--idle-timeout`, seconds.
    pub idle_timeout: u64,
    /// The mock's `--header-read-timeout`, seconds.
    pub header_read_timeout: u64,
}

/// The descriptor limit of the second server.
const SMALL_NOFILE: u64 = 1024;

/// Builds the release binaries and runs the cases.
pub fn run(options: &Options) -> Result<()> {
    let (mock_bin, _, xtask_bin) = build()?;
    if cfg!(debug_assertions) {
        return reexec_in_release(&xtask_bin);
    }
    // The flood's sockets are ours too.
    let wanted = options.idle as u64 + 256;
    let limit = rlimit::increase_nofile_limit(wanted).context("raising RLIMIT_NOFILE")?;
    if limit < wanted {
        bail!(
            "the descriptor limit is {limit} (hard); {wanted} are needed for --idle {}",
            options.idle
        );
    }
    let idle = options.idle_timeout.to_string();
    let header = options.header_read_timeout.to_string();
    let common = [
        "--listen",
        "127.0.0.1:0",
        "--idle-timeout",
        idle.as_str(),
        "--header-read-timeout",
        header.as_str(),
    ];
    let roomy = Server::start(&mock_bin, &common, false)?;
    let prlimit = Command::new("prlimit").arg("--version").output().is_ok();
    let small = if prlimit {
        let nofile = format!("--nofile={SMALL_NOFILE}:{SMALL_NOFILE}");
        let mut args = vec![nofile.as_str(), "--"];
        let bin = mock_bin.to_string_lossy();
        args.push(&bin);
        args.extend(common);
        Server::start(Path::new("prlimit"), &args, false)?
    } else {
        // Without prlimit: the limit the binary would derive from 1,024 descriptors.
        let mut args = common.to_vec();
        args.extend(["--max-connections", "960"]);
        Server::start(&mock_bin, &args, false)?
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(&roomy, &small, prlimit, options))
}

/// One measured case.
struct Case {
    name: String,
    addr: SocketAddr,
    flood: bool,
    latencies: Vec<Duration>,
    failed: usize,
    held: Vec<usize>,
}

async fn bench(roomy: &Server, small: &Server, prlimit: bool, options: &Options) -> Result<()> {
    let target = Target::new(
        "Unauthorized",
        "GET",
        "/v1/workspaces/acme/users",
        &[],
        None,
        401,
    );
    let small_name = if prlimit {
        format!("{} idle, {SMALL_NOFILE} descriptors", options.idle)
    } else {
        format!("{} idle, --max-connections 960", options.idle)
    };
    let mut cases = [
        Case::new("no flood (baseline)".to_owned(), roomy.addr, false),
        Case::new(
            format!("{} idle, default limit", options.idle),
            roomy.addr,
            true,
        ),
        Case::new(small_name, small.addr, true),
    ];
    let rounds = options.rounds.max(1);
    let per_round = options.requests.div_ceil(rounds);
    // Warm-up: connection set-up paths and the allocator.
    for case in &cases {
        for _ in 0..20 {
            load::once(case.addr, &target).await?;
        }
    }
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..cases.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let case = &mut cases[i];
            let flood = if case.flood {
                open_flood(case.addr, options.idle, false).await?
            } else {
                Vec::new()
            };
            for _ in 0..per_round {
                let sent = Instant::now();
                match tokio::time::timeout(Duration::from_secs(10), load::once(case.addr, &target))
                    .await
                {
                    Ok(Ok((status, _))) if status == target.status => {
                        case.latencies.push(sent.elapsed());
                    }
                    _ => case.failed += 1,
                }
            }
            if case.flood {
                case.held.push(still_open(&flood));
            }
            drop(flood);
            // Let the server see the flood go before the next case.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    println!(
        "mock-server (release, RUST_LOG=warn), --idle-timeout {} s, --header-read-timeout {} s",
        options.idle_timeout, options.header_read_timeout
    );
    println!(
        "{} requests per case from other clients (new connection each, sequential), {} interleaved rounds",
        per_round * rounds,
        rounds
    );
    println!(
        "{:<36} {:>12} {:>10} {:>10} {:>10} {:>7}",
        "case", "flood open", "p50", "p99", "max", "failed"
    );
    for case in &mut cases {
        case.latencies.sort_unstable();
        let held = if case.flood {
            let min = case.held.iter().min().copied().unwrap_or(0);
            format!("{min}/{}", options.idle)
        } else {
            "-".to_owned()
        };
        println!(
            "{:<36} {:>12} {:>10} {:>10} {:>10} {:>7}",
            case.name,
            held,
            millis(percentile(&case.latencies, 0.50)),
            millis(percentile(&case.latencies, 0.99)),
            millis(case.latencies.last().copied().unwrap_or_default()),
            case.failed
        );
    }
    println!(
        "(flood open: the flood's connections the server had not closed after the requests, lowest round)"
    );

    closing(roomy.addr, options).await
}

impl Case {
    fn new(name: String, addr: SocketAddr, flood: bool) -> Case {
        Case {
            name,
            addr,
            flood,
            latencies: Vec::new(),
            failed: 0,
            held: Vec::new(),
        }
    }
}

/// Opens `n` connections; `slow` ones send a request line and never end the head.
async fn open_flood(addr: SocketAddr, n: usize, slow: bool) -> Result<Vec<TcpStream>> {
    Ok(open_timed(addr, n, slow)
        .await?
        .into_iter()
        .map(|(stream, _)| stream)
        .collect())
}

/// [`open_flood`], with when each connection was opened (for slowloris, when its last byte
/// was sent).
async fn open_timed(addr: SocketAddr, n: usize, slow: bool) -> Result<Vec<(TcpStream, Instant)>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("opening idle connection {i}"))?;
        if slow {
            stream
                .write_all(b"GET /v1/workspaces/acme/users HTTP/1.1\r\nhost: flood\r\n")
                .await?;
        }
        out.push((stream, Instant::now()));
    }
    Ok(out)
}

/// How many of `flood` the server has not closed.
fn still_open(flood: &[TcpStream]) -> usize {
    let mut buf = [0u8; 1];
    flood
        .iter()
        .filter(|s| matches!(s.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock))
        .count()
}

/// Opens half the flood idle and half slowloris and times how long each takes to be closed.
async fn closing(addr: SocketAddr, options: &Options) -> Result<()> {
    let half = options.idle / 2;
    let mut results = Vec::new();
    for slow in [false, true] {
        let started = Instant::now();
        let flood = open_timed(addr, half, slow).await?;
        let opening = started.elapsed();
        let patience =
            Duration::from_secs(options.idle_timeout.max(options.header_read_timeout) * 3);
        let mut tasks = Vec::with_capacity(flood.len());
        for (mut stream, opened) in flood {
            tasks.push(tokio::spawn(async move {
                let mut buf = [0u8; 64];
                let closed = tokio::time::timeout(patience, async {
                    loop {
                        match tokio::io::AsyncReadExt::read(&mut stream, &mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                    }
                })
                .await;
                closed.ok().map(|()| opened.elapsed())
            }));
        }
        let mut times = Vec::with_capacity(tasks.len());
        let mut open = 0;
        for task in tasks {
            match task.await? {
                Some(t) => times.push(t),
                None => open += 1,
            }
        }
        times.sort_unstable();
        results.push((slow, opening, times, open));
    }
    println!();
    println!(
        "closing: {half} connections each; time from each one's own connect (and request line) to its close"
    );
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>9} {:>10} {:>9}",
        "flood", "timeout", "opening", "first", "p50", "last", "not closed"
    );
    for (slow, opening, times, open) in results {
        let (name, timeout) = if slow {
            (
                "slowloris (request line, no end)",
                options.header_read_timeout,
            )
        } else {
            ("idle (sent nothing)", options.idle_timeout)
        };
        println!(
            "{:<34} {:>9} {:>9} {:>9} {:>9} {:>10} {:>9}",
            name,
            format!("{timeout} s"),
            secs(opening),
            secs(times.first().copied().unwrap_or_default()),
            secs(percentile(&times, 0.5)),
            secs(times.last().copied().unwrap_or_default()),
            open
        );
    }
    Ok(())
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
