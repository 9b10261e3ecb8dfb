//! `cargo xtask bench-mock`: loads the mock's release binary over loopback on
//! representative error paths, side by side with a bare axum server answering
//! the same bytes (`crates/mock-server/examples/bench_baseline.rs`), and prints
//! each path's requests/s and the mock's ratio to the baseline.
//!
//! Both servers run at once; measurements alternate between them in
//! interleaved rounds (the order flips every round), so a change in machine
//! load hits both alike. With `taskset` available the servers share one core
//! and the load generator gets another, as in the issue's measurements.
//!
//! Before measuring it checks that both servers answer every path with the same bytes. Beside
//! the requests/s it prints each server's CPU time per request (all its threads' run time
//! from `/proc/<pid>/task/*/schedstat` over the runs, divided by the responses): on a loaded
//! machine the req/s ratio swings with the scheduler, and the CPU ratio tells what the
//! throughput ratio would be were the server's core the bottleneck.

mod masking;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use self::masking::same_bytes;
use crate::bench_server::{Server, build, reexec_in_release};
use crate::load::{self, Target};

/// Settings of a run.
pub struct Options {
    /// Connection counts to measure at.
    pub connections: Vec<usize>,
    /// Seconds of load per path, server and connection count (split across the rounds).
    pub seconds: f64,
    /// Interleaved rounds.
    pub rounds: usize,
    /// Pin the servers to CPU 0 and the load generator to CPU 1 with `taskset`.
    pub pin: bool,
    /// The paths to measure, by name (case-insensitive); empty for all.
    pub paths: Vec<String>,
}

/// The names of the measured paths, in order.
pub const PATHS: [&str; 4] = [
    "Unauthorized",
    "NotFound",
    "STEP_UP_REQUIRED",
    "RateLimited",
];

/// `wanted` checked against [`PATHS`]: an unknown name is an error that lists the known ones.
fn selected(wanted: &[String]) -> Result<Vec<&'static str>> {
    if wanted.is_empty() {
        return Ok(PATHS.to_vec());
    }
    wanted
        .iter()
        .map(|name| {
            PATHS
                .iter()
                .copied()
                .find(|p| p.eq_ignore_ascii_case(name.trim()))
                .with_context(|| {
                    format!("no path named {name:?}; the paths are {}", PATHS.join(", "))
                })
        })
        .collect()
}

/// Builds both release binaries, runs every path on both servers, prints a table.
pub fn run(options: &Options) -> Result<()> {
    selected(&options.paths)?;
    let (mock_bin, baseline_bin, xtask_bin) = build()?;
    if cfg!(debug_assertions) {
        return reexec_in_release(&xtask_bin);
    }
    let pin = options.pin && crate::bench_server::taskset_present();
    // No global rate limits, so only the RateLimited path meets one (the
    // `throttled` workspace's own session quota of 3 per 60 s).
    let mock = Server::start(
        &mock_bin,
        &[
            "--listen",
            "127.0.0.1:0",
            "--rate-limit-per-token",
            "0",
            "--rate-limit-per-address",
            "0",
        ],
        pin,
    )?;
    if pin {
        // Threads the runtime spawns later inherit the affinity.
        let status = Command::new("taskset")
            .args(["-a", "-cp", "1", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("taskset could not pin the load generator");
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(&mock, &mock_bin, &baseline_bin, pin, options))
}

async fn bench(
    mock: &Server,
    mock_bin: &Path,
    baseline_bin: &Path,
    pin: bool,
    options: &Options,
) -> Result<()> {
    let throttled = throttled_token(mock.addr).await?;
    let throttled_auth = format!("Bearer {throttled}");
    let targets = [
        Target::new(
            "Unauthorized",
            "GET",
            "/v1/workspaces/acme/users",
            &[],
            None,
            401,
        ),
        Target::new("NotFound", "GET", "/v1/no/such/route", &[], None, 404),
        Target::new(
            "STEP_UP_REQUIRED",
            "DELETE",
            "/v1/workspaces/acme/users/usr_acme_member",
            &[("authorization", "Bearer tok_acme_admin")],
            None,
            401,
        ),
        Target::new(
            "RateLimited",
            "GET",
            "/v1/workspaces/throttled/users",
            &[("authorization", throttled_auth.as_str())],
            None,
            429,
        ),
    ];

    let wanted = selected(&options.paths)?;
    let targets: Vec<Target> = targets
        .into_iter()
        .filter(|t| wanted.contains(&t.name))
        .collect();

    // The baseline answers each path with the mock's own bytes.
    let mut canned = Vec::new();
    for target in &targets {
        let (status, headers, body) = load::capture(mock.addr, target).await?;
        if status != target.status {
            bail!(
                "{} answered {status}, expected {}",
                target.name,
                target.status
            );
        }
        canned.push(serde_json::json!({
            "method": target.method,
            "path": target.path,
            "status": status,
            "headers": headers,
            "body": body,
        }));
    }
    let file = std::env::temp_dir().join(format!("bench-mock-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_vec(&canned)?)?;
    let baseline = Server::start(baseline_bin, &[&file.to_string_lossy()], pin);
    let _ = std::fs::remove_file(&file);
    let baseline = baseline?;
    for target in &targets {
        same_bytes(mock.addr, baseline.addr, target).await?;
    }

    let per_round = Duration::from_secs_f64(options.seconds / options.rounds.max(1) as f64);
    println!(
        "mock-server (release, RUST_LOG=warn) on {} vs bare axum (same bytes) on {}",
        mock.addr, baseline.addr
    );
    println!("  mock:     {}", mock_bin.display());
    println!("  baseline: {}", baseline_bin.display());
    println!(
        "every path answered byte for byte alike by both (status line, header fields in order, body; \
         date, request id and rate-limit countdown masked)"
    );
    println!(
        "{} rounds x {:.2} s per path, server and connection count, interleaved (ratio: the median \
         of the rounds' mock/axum req/s); {}",
        options.rounds,
        per_round.as_secs_f64(),
        if pin {
            "servers pinned to CPU 0, load generator to CPU 1"
        } else {
            "not pinned"
        }
    );
    println!(
        "{:<18} {:>5} {:>12} {:>12} {:>7} {:>10} {:>10} {:>9} {:>10} {:>11}",
        "path",
        "conns",
        "mock req/s",
        "axum req/s",
        "ratio",
        "mock p50",
        "mock p99",
        "mock CPU",
        "CPU ratio",
        "unexpected"
    );
    let mut worst: Option<f64> = None;
    let mut worst_cpu: Option<f64> = None;
    for &connections in &options.connections {
        for target in &targets {
            // A short warm-up so connection set-up is not measured.
            for server in [mock, &baseline] {
                load::run(server.addr, target, connections, Duration::from_millis(200)).await?;
            }
            let mut mock_total = load::Stats::default();
            let mut base_total = load::Stats::default();
            let (mut mock_cpu, mut base_cpu) = (CpuUse::default(), CpuUse::default());
            // Each round's mock/axum ratio: their median is what load bursts move least (a
            // burst hits one server's run of one round, not the whole total).
            let mut round_ratios = Vec::new();
            for round in 0..options.rounds.max(1) {
                let (mut mock_rps, mut base_rps) = (0.0, 0.0);
                let order: [(&Server, bool); 2] = if round % 2 == 0 {
                    [(mock, true), (&baseline, false)]
                } else {
                    [(&baseline, false), (mock, true)]
                };
                for (server, is_mock) in order {
                    let before = server.cpu_time();
                    let stats = load::run(server.addr, target, connections, per_round).await?;
                    let used = before
                        .zip(server.cpu_time())
                        .map(|(b, a)| a.saturating_sub(b));
                    let (total, cpu, rps) = if is_mock {
                        (&mut mock_total, &mut mock_cpu, &mut mock_rps)
                    } else {
                        (&mut base_total, &mut base_cpu, &mut base_rps)
                    };
                    *rps = stats.rps();
                    cpu.add(used, stats.requests());
                    total.merge(stats);
                }
                round_ratios.push(mock_rps / base_rps);
            }
            let ratio = median(&mut round_ratios);
            worst = Some(worst.map_or(ratio, |w: f64| w.min(ratio)));
            let cpu_ratio = base_cpu
                .per_request()
                .zip(mock_cpu.per_request())
                .map(|(b, m)| b / m);
            worst_cpu = match (worst_cpu, cpu_ratio) {
                (Some(w), Some(r)) => Some(r.min(w)),
                (w, r) => w.or(r),
            };
            println!(
                "{:<18} {:>5} {:>12.0} {:>12.0} {:>7.2} {:>10} {:>10} {:>9} {:>10} {:>11}",
                target.name,
                connections,
                mock_total.rps(),
                base_total.rps(),
                ratio,
                micros(mock_total.percentile(0.50)),
                micros(mock_total.percentile(0.99)),
                mock_cpu
                    .per_request()
                    .map_or("?".to_owned(), |us| format!("{us:.1} µs")),
                cpu_ratio.map_or("?".to_owned(), |r| format!("{r:.2}")),
                mock_total.unexpected + base_total.unexpected,
            );
        }
    }
    let rss = |s: &Server| {
        s.rss_kib()
            .map_or("?".to_owned(), |k| format!("{:.1} MB", k as f64 / 1024.0))
    };
    println!(
        "RSS after load: mock {}, bare axum {}",
        rss(mock),
        rss(&baseline)
    );
    if let Some(worst) = worst {
        println!("lowest ratio: {worst:.2} (target 0.85)");
    }
    if let Some(worst) = worst_cpu {
        println!(
            "lowest CPU ratio: {worst:.2} (axum's server CPU time per request / the mock's: \
             the throughput ratio when the server's core is the bottleneck)"
        );
    }
    // The app alone: what the mock's own code costs, apart from the loopback.
    let app_ns = in_process(&targets, 60, 5_000).await?;
    println!(
        "the mock's own work per request, in process (no socket, no hyper; the best of 60 rounds \
         of 5000 requests, paths interleaved, including building each request):"
    );
    for (target, ns) in targets.iter().zip(app_ns) {
        println!("  {:<18} {:>6.2} µs", target.name, ns / 1000.0);
    }
    Ok(())
}

/// The median of `values` (the mean of the middle two for an even count); NaN when empty.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// A server's CPU time over some runs and the requests it served in them.
#[derive(Default)]
struct CpuUse {
    time: Option<Duration>,
    requests: u64,
}

impl CpuUse {
    fn add(&mut self, used: Option<Duration>, requests: u64) {
        if let Some(used) = used {
            self.time = Some(self.time.unwrap_or_default() + used);
            self.requests += requests;
        }
    }

    /// Microseconds of server CPU per request.
    fn per_request(&self) -> Option<f64> {
        let time = self.time?;
        (self.requests > 0).then(|| time.as_secs_f64() * 1e6 / self.requests as f64)
    }
}

/// Signs in to `throttled` and spends the session's quota, so every further
/// request with the token is RateLimited.
async fn throttled_token(addr: SocketAddr) -> Result<String> {
    spend_throttled(async |target: &Target| load::once(addr, target).await).await
}

/// [`throttled_token`] over any way of sending a request.
async fn spend_throttled(send: impl AsyncFn(&Target) -> Result<(u16, String)>) -> Result<String> {
    let sign_in = Target::new(
        "sign-in",
        "POST",
        "/v1/workspaces/throttled/sessions",
        &[],
        Some(
            r#"{"method":"password","email":"admin@throttled.example","password":"correct horse battery staple"}"#,
        ),
        201,
    );
    let (status, body) = send(&sign_in).await?;
    if status != 201 {
        bail!("sign-in to throttled answered {status}: {body}");
    }
    let token = body
        .split("\"token\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("no token in the sign-in response")?
        .to_owned();
    let auth = format!("Bearer {token}");
    let spend = Target::new(
        "spend",
        "GET",
        "/v1/workspaces/throttled/users",
        &[("authorization", auth.as_str())],
        None,
        200,
    );
    for _ in 0..3 {
        send(&spend).await?;
    }
    Ok(token)
}

/// The mock's own work per request: each target sent through the app in this process, with
/// no socket, no HTTP parsing and no load generator, so neither the kernel nor the scheduler
/// is in the figure. The best of `rounds` runs of `per_round` requests per target, in
/// nanoseconds (a burst of machine load only ever slows a run down).
async fn in_process(targets: &[Target], rounds: usize, per_round: u32) -> Result<Vec<f64>> {
    use tower::{Service, ServiceExt};

    let mut seed = mock_server::seed::Seed::embedded()?;
    // As the benchmarked server runs: no global rate limits.
    seed.rate_limits.per_token = 0;
    seed.rate_limits.per_address = 0;
    let mut app = mock_server::app(mock_server::AppState::new(mock_server::Config::new(seed))?);
    let peer = axum::extract::ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000)));
    let request = |target: &Target| -> Result<axum::extract::Request> {
        let mut builder = axum::extract::Request::builder()
            .method(target.method.as_str())
            .uri(target.path.as_str());
        for (name, value) in &target.headers {
            builder = builder.header(name, value);
        }
        if target.json.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let body = target
            .json
            .clone()
            .map_or_else(axum::body::Body::empty, axum::body::Body::from);
        let mut request = builder.body(body)?;
        request.extensions_mut().insert(peer);
        Ok(request)
    };
    // The RateLimited target carries the loopback server's token: spend one here too.
    let token = spend_throttled(async |target: &Target| {
        let response = app.clone().oneshot(request(target)?).await?;
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    })
    .await?;
    let targets: Vec<Target> = targets
        .iter()
        .map(|target| {
            let mut target = target.clone();
            for (name, value) in &mut target.headers {
                if name == "authorization" && target.path.contains("/throttled/") {
                    *value = format!("Bearer {token}");
                }
            }
            target
        })
        .collect();
    // Round by round over all targets, so a burst of machine load hits them alike.
    let mut best = vec![f64::INFINITY; targets.len()];
    for _ in 0..rounds.max(1) {
        for (target, best) in targets.iter().zip(&mut best) {
            let started = std::time::Instant::now();
            for _ in 0..per_round {
                let response = app.ready().await?.call(request(target)?).await?;
                if response.status().as_u16() != target.status {
                    bail!("{} answered {} in process", target.name, response.status());
                }
            }
            *best = best.min(started.elapsed().as_nanos() as f64 / f64::from(per_round));
        }
    }
    Ok(best)
}

fn micros(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{PATHS, median, selected};

    #[test]
    fn paths_are_chosen_by_name() {
        assert_eq!(selected(&[]).unwrap(), PATHS.to_vec());
        assert_eq!(
            selected(&["step_up_required".into(), " NotFound".into()]).unwrap(),
            ["STEP_UP_REQUIRED", "NotFound"]
        );
        assert_eq!(
            selected(&["Forbidden".into()]).unwrap_err().to_string(),
            "no path named \"Forbidden\"; the paths are Unauthorized, NotFound, STEP_UP_REQUIRED, RateLimited"
        );
    }

    #[test]
    fn the_median_of_round_ratios() {
        assert_eq!(median(&mut [0.9, 0.2, 0.8]), 0.8);
        assert_eq!(median(&mut [1.0, 0.5, 0.7, 0.9]), 0.8);
        assert!(median(&mut []).is_nan());
    }
}
