//! The `mock-server` binary: parses flags into a [`Config`], binds, prints the address and
//! serves until Ctrl-C or SIGTERM. Everything else lives in the library.
//!
//! Exit codes: 0 after a graceful shutdown, 1 when the seed, the flags or the listener fail,
//! 2 for a usage error (from clap).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use mock_server::network::TrustedProxies;
use mock_server::seed::Seed;
use mock_server::{Config, serve};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// An HTTP mock of the platform that answers every documented error code for real requests.
///
/// Logs go to stderr (filter with RUST_LOG, default `info`); the one line on stdout is the
/// address served.
#[derive(Debug, Parser)]
#[command(name = "mock-server", version)]
struct Args {
    /// Address to listen on, `HOST:PORT` (a name such as `localhost` is resolved; use port 0
    /// for any free port).
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_listen)]
    listen: String,

    /// Public base URL of the mock, the base of every problem `type` link
    /// [default: http://<listen address>].
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,

    /// Seed file (TOML) describing the starting state [default: the embedded fixtures/seed.toml].
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,

    /// A proxy whose Forwarded / X-Forwarded-For headers are believed (CIDR or address;
    /// repeatable; added to the seed's `trusted_proxies`).
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    trusted_proxies: Vec<String>,

    /// Requests per window per bearer token (0: unlimited) [default: the seed's].
    #[arg(long, value_name = "N")]
    rate_limit_per_token: Option<u32>,

    /// Requests per window per client address (0: unlimited) [default: the seed's].
    #[arg(long, value_name = "N")]
    rate_limit_per_address: Option<u32>,

    /// Rate-limit window in seconds [default: the seed's].
    #[arg(long, value_name = "SECS")]
    rate_limit_window: Option<u64>,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = Args::parse();
    let config = config(&args)?;

    let listener = TcpListener::bind(args.listen.as_str())
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("mock-server listening on http://{addr}");
    serve(listener, config, shutdown_signal()).await?;
    tracing::info!("shut down");
    Ok(())
}

/// The flags as a validated [`Config`]: the seed with the overrides applied, so
/// `POST /admin/reset` keeps them.
fn config(args: &Args) -> Result<Config> {
    // The flags first, so an error names the flag rather than the seed.
    TrustedProxies::parse(&args.trusted_proxies).context("bad --trusted-proxy")?;
    let (text, name) = match &args.seed {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read seed {}", path.display()))?,
            path.display().to_string(),
        ),
        None => (
            mock_server::seed::DEFAULT_SEED.to_owned(),
            "(embedded fixtures/seed.toml)".to_owned(),
        ),
    };
    let mut seed = Seed::parse(&text).with_context(|| format!("bad seed {name}"))?;
    seed.trusted_proxies
        .extend(args.trusted_proxies.iter().cloned());
    if let Some(n) = args.rate_limit_per_token {
        seed.rate_limits.per_token = n;
    }
    if let Some(n) = args.rate_limit_per_address {
        seed.rate_limits.per_address = n;
    }
    if let Some(secs) = args.rate_limit_window {
        anyhow::ensure!(secs > 0, "--rate-limit-window must be at least 1");
        seed.rate_limits.window_secs = secs;
    }
    Ok(Config {
        public_url: args.public_url.clone(),
        seed,
    })
}

/// `--listen`: `HOST:PORT` with a port; a host name is resolved when binding.
fn parse_listen(text: &str) -> Result<String, String> {
    if text.parse::<SocketAddr>().is_ok() {
        return Ok(text.to_owned());
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(text.to_owned())
        }
        _ => Err(format!(
            "{text:?} is not HOST:PORT (e.g. 127.0.0.1:8080, localhost:8081, [::1]:0)"
        )),
    }
}

/// Completes on Ctrl-C, or on SIGTERM where there are signals.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
