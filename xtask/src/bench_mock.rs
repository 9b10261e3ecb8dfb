//! `cargo xtask bench-mock`: loads the running release binary of the mock over
//! loopback on representative error paths and prints requests/s and latency.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::load::{self, Target};

/// Settings of a run.
pub struct Options {
    /// Concurrent keep-alive connections per path.
    pub connections: usize,
    /// Seconds per path.
    pub seconds: u64,
}

/// Kills the mock when the benchmark ends, however it ends.
struct Mock(Child);

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Builds and starts the release binary, runs every path, prints a table.
pub fn run(options: &Options) -> Result<()> {
    let root = crate::workspace_root();
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "-p", "mock-server"])
        .current_dir(&root)
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p mock-server failed");
    }
    // No global rate limits, so only the RateLimited path meets one (the
    // `throttled` workspace's own session quota of 3 per 60 s).
    let mut child = Command::new(root.join("target/release/mock-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--rate-limit-per-token",
            "0",
            "--rate-limit-per-address",
            "0",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting target/release/mock-server")?;
    let stdout = child.stdout.take().context("mock stdout")?;
    let mock = Mock(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr: SocketAddr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .with_context(|| format!("unexpected first line from the mock: {line:?}"))?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(addr, options))?;
    drop(mock);
    Ok(())
}

async fn bench(addr: SocketAddr, options: &Options) -> Result<()> {
    let throttled = throttled_token(addr).await?;
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
    println!(
        "mock-server (release) on {addr}: {} connections, {} s per path, load generator in the same machine",
        options.connections, options.seconds
    );
    println!(
        "{:<18} {:>10} {:>12} {:>10} {:>10} {:>10} {:>11}",
        "path", "requests", "requests/s", "p50", "p99", "max", "unexpected"
    );
    for target in &targets {
        // A short warm-up so connection set-up is not measured.
        load::run(
            addr,
            target,
            options.connections,
            Duration::from_millis(300),
        )
        .await?;
        let stats = load::run(
            addr,
            target,
            options.connections,
            Duration::from_secs(options.seconds),
        )
        .await?;
        println!(
            "{:<18} {:>10} {:>12.0} {:>10} {:>10} {:>10} {:>11}",
            target.name,
            stats.requests,
            stats.rps(),
            micros(stats.p50),
            micros(stats.p99),
            micros(stats.max),
            stats.unexpected
        );
    }
    Ok(())
}

/// Signs in to `throttled` and spends the session's quota, so every further
/// request with the token is RateLimited.
async fn throttled_token(addr: SocketAddr) -> Result<String> {
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
    let (status, body) = load::once(addr, &sign_in).await?;
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
        load::once(addr, &spend).await?;
    }
    Ok(token)
}

fn micros(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1000.0)
    }
}
