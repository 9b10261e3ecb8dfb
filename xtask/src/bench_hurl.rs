//! `cargo xtask bench-hurl`: the runner beside Hurl 8 on the same requests.
//!
//! The suite's single-request scenarios (no setup, no cleanup, no repeat, a
//! request a person can replay: no one-time code in it, not sent from the
//! untrusted address) are run once by the release runner against one warm
//! release mock, and each recorded request becomes a Hurl file asserting what
//! a hand-written Hurl suite would: the status, the media type and the code
//! (`$.code` of a problem body, else the `x-error-code` header). Then both
//! tools run as whole processes in interleaved rounds (the order flips every
//! round), pinned to CPU 1 with the mock on CPU 0 when `taskset` is present,
//! and the medians are printed with the ratio runner / Hurl. The runner does
//! every contract check (schema, challenge, links, request id, headers) and
//! writes its human report; Hurl only its three assertions.
//!
//! Hurl is not built here (10 minutes of a 2-core build, and not part of
//! CI); the command says how to install it when it is missing.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench_server::{Server, executables, release_executables};
use base64::Engine as _;
use serde_json::Value;

/// Settings of a run.
pub struct Options {
    /// Interleaved rounds; the median of each tool is printed.
    pub rounds: usize,
    /// Pin the mock to CPU 0 and both tools to CPU 1 with `taskset`.
    pub pin: bool,
    /// Where to keep the Hurl files and `commands.sh`; none: a scratch folder, removed.
    pub keep: Option<PathBuf>,
    /// The Cargo profile the runner is built in (`dist`: what a release ships).
    pub profile: String,
}

/// How to get the Hurl this benchmark compares against.
const INSTALL_HURL: &str = "apt-get install libcurl4-openssl-dev libclang-dev && cargo install hurl --version 8.0.1 --locked";

/// A timed command.
struct Tool {
    name: &'static str,
    program: PathBuf,
    args: Vec<OsString>,
}

/// A scenario both tools run: its id and its Hurl entry.
struct Case {
    id: String,
    hurl: String,
}

/// Builds the release runner and mock, writes the Hurl files, times both tools, prints the
/// table.
pub fn run(options: &Options) -> Result<()> {
    let hurl_version = Command::new("hurl")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .with_context(|| format!("hurl is not on PATH; install Hurl 8 with: {INSTALL_HURL}"))?;
    if !hurl_version.starts_with("hurl 8.") {
        bail!("found {hurl_version:?}; this comparison is against Hurl 8 ({INSTALL_HURL})");
    }
    // The runner as a release ships it (`--profile dist` unless told
    // otherwise); the mock, both tools' target, in plain release.
    let [runner_bin] = executables(
        &options.profile,
        &["-p", "conformance-runner", "--bin", "conformance-runner"],
        ["conformance-runner"],
    )?;
    let [mock_bin] = release_executables(
        &["-p", "mock-server", "--bin", "mock-server"],
        ["mock-server"],
    )?;
    let pin = options.pin && crate::bench_server::taskset_present();
    // Loopback is a trusted proxy, as for the embedded mock (the allowlist
    // scenarios send X-Forwarded-For); no global rate limits, so a hundred
    // runs in a row meet none.
    let mock = Server::start(
        &mock_bin,
        &[
            "--listen",
            "127.0.0.1:0",
            "--trusted-proxy",
            "127.0.0.1",
            "--rate-limit-per-token",
            "0",
            "--rate-limit-per-address",
            "0",
        ],
        pin,
    )?;
    let work = options
        .keep
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("bench-hurl-{}", std::process::id())));
    std::fs::create_dir_all(&work)?;
    let url = format!("http://{}", mock.addr);
    let result = compare(&runner_bin, &mock, &url, &work, &hurl_version, pin, options);
    if options.keep.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    } else if result.is_ok() {
        println!("kept in {}: commands.sh runs both tools", work.display());
    }
    result
}

fn compare(
    runner_bin: &Path,
    mock: &Server,
    mock_url: &str,
    work: &Path,
    hurl_version: &str,
    pin: bool,
    options: &Options,
) -> Result<()> {
    let candidates = single_request_ids()?;
    let recorded = work.join("recorded.json");
    let status = client(runner_bin, pin)
        .args(["--target", mock_url, "--json"])
        .arg(&recorded)
        .args(filters(&candidates))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("the runner failed on the single-request scenarios against the mock ({status})");
    }
    let report: Value = serde_json::from_slice(&std::fs::read(&recorded)?)?;
    let (cases, left_out) = cases(&report, mock_url)?;
    let ids: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
    let mut files = Vec::new();
    for case in &cases {
        let path = work.join(format!("{}.hurl", case.id.replace('/', "__")));
        std::fs::write(&path, &case.hurl)?;
        files.push(path);
    }

    let mut runner_args: Vec<OsString> = vec!["--target".into(), mock_url.into()];
    runner_args.extend(filters(&ids).into_iter().map(OsString::from));
    let hurl_args = |jobs: Option<&str>| {
        let mut args: Vec<OsString> = vec![
            "--test".into(),
            "--variable".into(),
            format!("target={mock_url}").into(),
        ];
        if let Some(jobs) = jobs {
            args.extend(["--jobs".into(), jobs.into()]);
        }
        args.extend(files.iter().map(|f| f.as_os_str().to_owned()));
        args
    };
    if options.keep.is_some() {
        write_commands(work, runner_bin, &ids, &files)?;
    }
    let tools = [
        Tool {
            name: "conformance-runner",
            program: runner_bin.to_owned(),
            args: runner_args,
        },
        Tool {
            name: "hurl --test",
            program: PathBuf::from("hurl"),
            args: hurl_args(None),
        },
        Tool {
            name: "hurl --test --jobs 64",
            program: PathBuf::from("hurl"),
            args: hurl_args(Some("64")),
        },
    ];
    // Both must pass before anything is timed: a tool that fails fast is not fast.
    for tool in &tools {
        let out = client(&tool.program, pin).args(&tool.args).output()?;
        if !out.status.success() {
            bail!(
                "{} failed against the mock ({}):\n{}",
                tool.name,
                out.status,
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .rev()
                    .take(20)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }

    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); tools.len()];
    let mut cpu = vec![Duration::ZERO; tools.len()];
    for round in 0..options.rounds.max(1) {
        let mut order: Vec<usize> = (0..tools.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let mut c = client(&tools[i].program, pin);
            c.args(&tools[i].args)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // Every run starts against an idle mock: the previous one's 64
            // connections are wound down on the mock's threads, which, not
            // pinned, share the CPUs with the next tool.
            mock.settle();
            let cpu_before = children_cpu();
            let started = Instant::now();
            let status = c.status()?;
            times[i].push(started.elapsed());
            if let (Some(before), Some(after)) = (cpu_before, children_cpu()) {
                cpu[i] += after.saturating_sub(before);
            }
            if !status.success() {
                bail!("{} failed in round {round} ({status})", tools[i].name);
            }
        }
    }

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "{} single-request scenarios, one request each, against one warm release mock",
        cases.len()
    );
    if !left_out.is_empty() {
        println!(
            "left out (Hurl cannot replay them): {}",
            left_out.join(", ")
        );
    }
    println!(
        "{} interleaved rounds, whole process, {}; load average {}",
        options.rounds.max(1),
        if pin {
            "mock on CPU 0, tools on CPU 1"
        } else {
            "not pinned"
        },
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "{hurl_version}: status, media type and code; the runner (cargo profile {}): every contract check",
        options.profile
    );
    println!(
        "{:<24} {:>10} {:>10} {:>10} {:>12} {:>14}",
        "tool", "median", "min", "max", "CPU per run", "CPU/scenario"
    );
    let rounds = u32::try_from(options.rounds.max(1)).unwrap_or(u32::MAX);
    let scenarios = u32::try_from(cases.len().max(1)).unwrap_or(u32::MAX);
    let medians: Vec<Duration> = times.iter_mut().map(|t| median(t)).collect();
    for ((tool, (t, m)), cpu) in tools.iter().zip(times.iter().zip(&medians)).zip(&cpu) {
        let per_run = *cpu / rounds;
        println!(
            "{:<24} {:>7.1} ms {:>7.1} ms {:>7.1} ms {:>9.1} ms {:>11.0} µs",
            tool.name,
            ms(*m),
            ms(*t.iter().min().unwrap_or(m)),
            ms(*t.iter().max().unwrap_or(m)),
            ms(per_run),
            per_run.as_secs_f64() * 1e6 / f64::from(scenarios)
        );
    }
    println!(
        "(CPU: user + system time of the finished child processes, in clock ticks of the kernel's \
         /proc/self/stat, averaged over the rounds)"
    );
    let fastest_hurl = medians[1..].iter().min().copied().unwrap_or_default();
    println!(
        "runner / fastest Hurl: {:.2} (the issue's target: at most 0.50)",
        medians[0].as_secs_f64() / fastest_hurl.as_secs_f64()
    );
    Ok(())
}

/// The suite's scenarios with one round trip (the asserted request alone), not sent from
/// the untrusted address, whose id is no other scenario's prefix (`--filter id=` selects
/// by prefix, and both tools must run the same requests).
fn single_request_ids() -> Result<Vec<String>> {
    let scenarios = conformance_runner::embedded_scenarios()?;
    let fixtures = conformance_runner::profile::Profile::mock().fixtures;
    let ids: Vec<&str> = scenarios.iter().map(|s| s.id.as_str()).collect();
    Ok(scenarios
        .iter()
        .filter(|s| s.round_trips(&fixtures) == (1, 0))
        .filter(|s| {
            !s.tags
                .iter()
                .any(|t| t == conformance_runner::UNTRUSTED_PEER_TAG)
        })
        .filter(|s| {
            !ids.iter()
                .any(|other| *other != s.id && other.starts_with(s.id.as_str()))
        })
        .map(|s| s.id.clone())
        .collect())
}

fn filters(ids: &[String]) -> Vec<String> {
    ids.iter()
        .flat_map(|id| ["--filter".to_owned(), format!("id={id}")])
        .collect()
}

/// `commands.sh` in `work`: both timed commands against `$TARGET`, and how to start a mock.
fn write_commands(work: &Path, runner_bin: &Path, ids: &[String], files: &[PathBuf]) -> Result<()> {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut script = String::from(
        "#!/bin/sh\n# The two commands `cargo xtask bench-hurl` times. Start a mock first:\n\
         #   mock-server --listen 127.0.0.1:8080 --trusted-proxy 127.0.0.1 \\\n\
         #     --rate-limit-per-token 0 --rate-limit-per-address 0\n\
         set -e\nTARGET=${TARGET:-http://127.0.0.1:8080}\ncd \"$(dirname \"$0\")\"\n",
    );
    script.push_str(&quote(&runner_bin.display().to_string()));
    script.push_str(" --target \"$TARGET\"");
    for filter in filters(ids) {
        script.push(' ');
        script.push_str(&quote(&filter));
    }
    script.push_str("\nhurl --test --variable \"target=$TARGET\"");
    for file in files {
        let name = file.file_name().context("a Hurl file without a name")?;
        script.push(' ');
        script.push_str(&quote(&name.to_string_lossy()));
    }
    script.push('\n');
    std::fs::write(work.join("commands.sh"), script)?;
    Ok(())
}

/// The Hurl entry of every passed scenario of `report` whose request can be replayed, and
/// the ids of those that cannot (a one-time code is never recorded for replay). The target's
/// URL `base` is written `{{target}}`, a Hurl variable, so the files serve any mock.
fn cases(report: &Value, base: &str) -> Result<(Vec<Case>, Vec<String>)> {
    let credentials = credential_values();
    let mut cases = Vec::new();
    let mut left_out = Vec::new();
    let scenarios = report["scenarios"]
        .as_array()
        .context("report without scenarios")?;
    for s in scenarios {
        let id = s["id"].as_str().context("scenario without id")?.to_owned();
        if s["outcome"] != "passed" {
            bail!("{id} did not pass against the mock: {}", s["findings"]);
        }
        let Some(replay) = s.pointer("/request/replay") else {
            left_out.push(id);
            continue;
        };
        let method = s
            .pointer("/request/method")
            .and_then(Value::as_str)
            .context("no method")?;
        let fill = |text: &str| -> Result<String> { fill_env(text, &credentials) };
        let url = fill(replay["url"].as_str().context("no url")?)?;
        let url = match url.strip_prefix(base) {
            Some(path) => format!("{{{{target}}}}{path}"),
            None => url,
        };
        let mut hurl = format!("{method} {url}\n");
        for pair in replay["headers"].as_array().into_iter().flatten() {
            let (Some(name), Some(value)) = (pair[0].as_str(), pair[1].as_str()) else {
                bail!("{id}: a recorded header is not a [name, value] pair");
            };
            hurl.push_str(&format!("{name}: {}\n", fill(value)?));
        }
        if let Some(body) = replay.get("body").and_then(Value::as_str) {
            // The exact bytes, whatever they are (malformed JSON included).
            let bytes = fill(body)?;
            hurl.push_str(&format!(
                "base64,{};\n",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            ));
        }
        let status = s
            .pointer("/response/status")
            .and_then(Value::as_u64)
            .context("no status")?;
        let media = s
            .pointer("/response/headers/content-type")
            .and_then(Value::as_str)
            .and_then(|v| v.split(';').next())
            .context("no content-type")?
            .trim();
        let code = s["code"].as_str().context("no code")?;
        hurl.push_str(&format!(
            "HTTP {status}\n[Asserts]\nheader \"Content-Type\" startsWith \"{media}\"\n"
        ));
        if s.pointer("/response/body/code").is_some() {
            hurl.push_str(&format!("jsonpath \"$.code\" == \"{code}\"\n"));
        } else {
            hurl.push_str(&format!("header \"x-error-code\" == \"{code}\"\n"));
        }
        cases.push(Case { id, hurl });
    }
    Ok((cases, left_out))
}

/// The embedded mock profile's credentials under the names a replay gives them
/// (`CONFORMANCE_` and the credential's name in capitals).
fn credential_values() -> Vec<(String, String)> {
    conformance_runner::profile::Profile::mock()
        .credentials
        .into_iter()
        .filter_map(|(name, credential)| match credential {
            conformance_runner::profile::Credential::Literal(value) => Some((
                conformance_runner::profile::credential_env_var(&name),
                value,
            )),
            conformance_runner::profile::Credential::Env(_) => None,
        })
        .collect()
}

/// `text` with every `${NAME}` of a replay replaced by the credential's value.
fn fill_env(text: &str, credentials: &[(String, String)]) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').context("unclosed ${ in a replay")? + start;
        let name = &rest[start + 2..end];
        let value = credentials
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .with_context(|| {
                format!("the replay names ${{{name}}}, no credential of the mock profile")
            })?;
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn client(bin: &Path, pin: bool) -> Command {
    if pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "1"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

/// User and system time of this process's waited-for children so far (Linux
/// `/proc/self/stat` `cutime` + `cstime`, in ticks of 1/100 s); `None` elsewhere. Ticks are
/// coarse next to one run, so the figures are totals over every round divided by the rounds.
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; the fields after it are space-separated.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the name: state is field 3, so cutime (16) and cstime (17) are at 13 and 14.
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_gets_the_mock_profiles_values_and_an_unknown_name_is_refused() {
        let credentials = vec![("CONFORMANCE_ACME_ADMIN".to_owned(), "tok_a".to_owned())];
        assert_eq!(
            fill_env("Bearer ${CONFORMANCE_ACME_ADMIN}!", &credentials).unwrap(),
            "Bearer tok_a!"
        );
        let err = fill_env("${CONFORMANCE_NOPE}", &credentials).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the replay names ${CONFORMANCE_NOPE}, no credential of the mock profile"
        );
        assert!(fill_env("${OPEN", &credentials).is_err());
    }

    #[test]
    fn a_recorded_problem_becomes_a_hurl_entry_and_an_unreplayable_one_is_left_out() {
        let report = serde_json::json!({ "scenarios": [
            {
                "id": "validation-error/not-json", "code": "ValidationError", "outcome": "passed",
                "request": { "method": "POST", "replay": {
                    "url": "http://127.0.0.1:1/v1/x",
                    "headers": [["authorization", "Bearer ${CONFORMANCE_ACME_ADMIN}"]],
                    "body": "{not json"
                }},
                "response": { "status": 400,
                    "headers": { "content-type": "application/problem+json; charset=utf-8" },
                    "body": { "code": "ValidationError" } }
            },
            {
                "id": "step-up-required/wrong-totp-code", "code": "STEP_UP_REQUIRED",
                "outcome": "passed", "request": { "method": "POST" }
            }
        ]});
        let (entries, left_out) = cases(&report, "http://127.0.0.1:1").unwrap();
        assert_eq!(left_out, ["step-up-required/wrong-totp-code"]);
        assert_eq!(
            entries[0].hurl,
            "POST {{target}}/v1/x\nauthorization: Bearer tok_acme_admin\nbase64,e25vdCBqc29u;\n\
             HTTP 400\n[Asserts]\nheader \"Content-Type\" startsWith \"application/problem+json\"\n\
             jsonpath \"$.code\" == \"ValidationError\"\n"
        );
        let failed = serde_json::json!({ "scenarios": [
            { "id": "a/b", "outcome": "failed", "findings": [] }
        ]});
        assert!(cases(&failed, "http://127.0.0.1:1").is_err());
    }
}
