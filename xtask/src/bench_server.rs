//! The benchmarks' server processes (`bench-mock`, `bench-scale`, `bench-idle`): the release
//! build of the mock, the baseline and xtask itself, re-running xtask from that build, and a
//! spawned [`Server`] that is killed when dropped, however the benchmark ends, with its CPU
//! time and resident size read from `/proc`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Kills a server when the benchmark ends, however it ends.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `program` (pinned to CPU 0 when `pin`) and reads the address from the
    /// first line it prints.
    pub(crate) fn start(program: &Path, args: &[&str], pin: bool) -> Result<Server> {
        let mut command = if pin {
            let mut c = Command::new("taskset");
            c.args(["-c", "0"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        let mut child = command
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .and_then(|a| a.parse().ok());
        let mut server = Server {
            child,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        };
        // Dropping `server` on the error path kills the child.
        server.addr = addr.with_context(|| {
            format!("unexpected first line from {}: {line:?}", program.display())
        })?;
        Ok(server)
    }

    /// CPU time all the server's threads have run so far (Linux `schedstat`, nanoseconds);
    /// `None` where the kernel does not tell.
    pub(crate) fn cpu_time(&self) -> Option<Duration> {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id())).ok()?;
        let mut nanos = 0u64;
        for task in tasks.flatten() {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            nanos += stat.split_whitespace().next()?.parse::<u64>().ok()?;
        }
        Some(Duration::from_nanos(nanos))
    }

    /// Waits until the server has used no CPU for two samples 2 ms apart
    /// (100 ms at most), so a timed run does not start while the server still
    /// winds down the previous one's connections. Returns at once where the
    /// kernel does not tell the CPU time.
    pub(crate) fn settle(&self) {
        let deadline = std::time::Instant::now() + Duration::from_millis(100);
        let mut last = self.cpu_time();
        let mut quiet = 0;
        while quiet < 2 && last.is_some() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
            let now = self.cpu_time();
            quiet = if now == last { quiet + 1 } else { 0 };
            last = now;
        }
    }

    /// Resident set size in KiB (Linux), for the report.
    pub(crate) fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

/// `cargo xtask` is a debug build; an unoptimised load generator would be the bottleneck and
/// hide the difference between the servers. Runs the same command from the release build of
/// xtask instead.
pub(crate) fn reexec_in_release(xtask_bin: &Path) -> Result<()> {
    let status = Command::new(xtask_bin)
        .args(std::env::args_os().skip(1))
        .status()
        .with_context(|| format!("running {}", xtask_bin.display()))?;
    if !status.success() {
        bail!("the release build of xtask failed: {status}");
    }
    Ok(())
}

/// `cargo build --release` of the mock, the baseline and xtask (the load generator); returns
/// the executables as cargo reports them (so `CARGO_TARGET_DIR` and `--target-dir` are
/// honoured).
pub(crate) fn build() -> Result<(PathBuf, PathBuf, PathBuf)> {
    let [mock, baseline, xtask] = release_executables(
        &[
            "-p",
            "mock-server",
            "--bin",
            "mock-server",
            "--example",
            "bench_baseline",
            "-p",
            "xtask",
            "--bin",
            "xtask",
        ],
        ["mock-server", "bench_baseline", "xtask"],
    )?;
    Ok((mock, baseline, xtask))
}

/// Whether `taskset` is there to pin the benchmarks' processes to CPUs.
pub(crate) fn taskset_present() -> bool {
    Command::new("taskset").arg("-V").output().is_ok()
}

/// `cargo build --release` with `selection` (`-p`, `--bin`, `--example` flags); returns the
/// executables of the targets `names`, in that order, as cargo reports them.
pub(crate) fn release_executables<const N: usize>(
    selection: &[&str],
    names: [&str; N],
) -> Result<[PathBuf; N]> {
    executables("release", selection, names)
}

/// [`release_executables`] in the Cargo profile `profile` (`dist` is what a
/// release ships: `release` with fat LTO and one codegen unit).
pub(crate) fn executables<const N: usize>(
    profile: &str,
    selection: &[&str],
    names: [&str; N],
) -> Result<[PathBuf; N]> {
    let output = Command::new(env!("CARGO"))
        .args(["build", "--profile", profile, "--quiet"])
        .args(selection)
        .arg("--message-format=json-render-diagnostics")
        .current_dir(crate::workspace_root())
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo build")?;
    if !output.status.success() {
        bail!(
            "cargo build --profile {profile} {} failed",
            selection.join(" ")
        );
    }
    let mut found: [Option<PathBuf>; N] = std::array::from_fn(|_| None);
    for line in output.stdout.split(|&b| b == b'\n') {
        let Ok(message) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        let name = message.pointer("/target/name").and_then(|v| v.as_str());
        let exe = message.get("executable").and_then(|v| v.as_str());
        if let (Some(name), Some(exe)) = (name, exe)
            && let Some(i) = names.iter().position(|n| *n == name)
        {
            found[i] = Some(PathBuf::from(exe));
        }
    }
    let mut out: [PathBuf; N] = std::array::from_fn(|_| PathBuf::new());
    for (i, path) in found.into_iter().enumerate() {
        out[i] = path.with_context(|| format!("cargo reported no {} executable", names[i]))?;
    }
    Ok(out)
}
