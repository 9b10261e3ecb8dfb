//! The `mock-server` binary: parses flags into a [`Config`], binds, prints the address and
//! serves until Ctrl-C or SIGTERM. Everything else lives in the library.
//!
//! Exit codes: 0 after a graceful shutdown, 1 when the seed, the flags or the listener fail,
//! 2 for a usage error (from clap).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use mock_server::seed::Seed;
use mock_server::{Config, serve};
use mock_server::{FaultRules, TrustedProxies};
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

    /// Seconds a client may take to send a request line and headers, from its first byte.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    header_read_timeout: u64,

    /// Seconds a connection may sit with no request in flight and nothing sent before the
    /// mock closes it.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,

    /// Connections open at once; at the limit the longest-idle one is closed for each new
    /// one [default: the descriptor limit, raised to its hard maximum, less 64].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: Option<u64>,

    /// Fault rules (TOML, `[[rule]]` tables; see docs/api.md) in force from the start and
    /// again after each `POST /admin/reset`.
    #[arg(long, value_name = "FILE")]
    faults: Option<PathBuf>,

    /// Keep the last N requests in the journal (`GET /admin/requests`); 0 keeps none, and
    /// requests cost nothing extra.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    journal: u64,
}

/// Descriptors kept free for everything but client connections (listener, logs, outbound
/// webhook test sends).
const RESERVED_DESCRIPTORS: u64 = 64;

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
    let mut config = config(&args)?;
    config.connections.max_connections = match args.max_connections {
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        None => default_max_connections(),
    };

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
    let mut config = Config::new(seed);
    if let Some(path) = &args.faults {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read faults {}", path.display()))?;
        config.faults = FaultRules::parse_toml(&text, &path.display().to_string())
            .context("bad --faults file")?;
    }
    config.journal = usize::try_from(args.journal).unwrap_or(usize::MAX);
    config.public_url.clone_from(&args.public_url);
    config.connections.header_read_timeout = Duration::from_secs(args.header_read_timeout);
    config.connections.idle_timeout = Duration::from_secs(args.idle_timeout);
    Ok(config)
}

/// Raises the descriptor limit to its hard maximum and leaves [`RESERVED_DESCRIPTORS`] of it
/// for everything but client connections.
fn default_max_connections() -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!("cannot raise the descriptor limit: {e}");
            current_nofile_limit()
        }
    };
    let max = limit.saturating_sub(RESERVED_DESCRIPTORS).max(16);
    tracing::debug!(
        descriptors = limit,
        max_connections = max,
        "connection limit"
    );
    usize::try_from(max).unwrap_or(usize::MAX)
}

/// The soft descriptor limit as it stands, 1024 when it cannot be read.
#[cfg(unix)]
fn current_nofile_limit() -> u64 {
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
}

/// Windows has no `RLIMIT_NOFILE` (`rlimit` has no `getrlimit` there, and
/// `increase_nofile_limit` does nothing and succeeds): only the fallback.
#[cfg(not(unix))]
fn current_nofile_limit() -> u64 {
    1024
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
