//! The command line, shared by `conformance-runner` and `cargo xtask conformance`.
//!
//! [`Args`] is the flag set (xtask flattens it into its own subcommand);
//! [`run`] turns it into a validated [`Options`], runs the [`Plan`] and writes
//! every requested report; [`exit_code`](crate::cli::exit::exit_code) is the one place that maps the
//! result to the documented exit codes.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::args::{Format, OutputArgs, RequestArgs, SelectionArgs};
use crate::cli::exit::{Done, Failure};
use crate::cli::gate::{Gate, GateArgs};
use crate::model::profile::Profile;
use crate::plan::{ConfigError, Options, Plan, load_scenarios};
use crate::report;
use crate::report::human::{self, Color};
use crate::report::progress::{Progress, Style};

/// Runs the conformance scenarios against a target and reports every finding.
///
/// Exit codes: 0 all passed, 1 conformance failures, 2 usage or configuration
/// error, 3 target unreachable, 130 interrupted (after cleanup).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Base URL of the server under test (overrides the profile's `base_url`).
    #[arg(long, value_name = "URL", env = "CONFORMANCE_TARGET")]
    pub target: Option<String>,

    /// Profile file (fixture ids, credentials, skips); default: the embedded mock profile.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,

    /// The scenarios to take (`--scenarios`, `--filter`, `--shard`); all the
    /// embedded ones when none is given.
    #[command(flatten)]
    pub(crate) selection: SelectionArgs,

    /// How requests go to the target.
    #[command(flatten)]
    pub(crate) requests: RequestArgs,

    /// The report on standard output and as JSON.
    #[command(flatten)]
    pub(crate) output: OutputArgs,

    /// Also write a JUnit XML report (one testcase per scenario) to FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) junit: Option<PathBuf>,

    /// Also write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) html: Option<PathBuf>,

    /// Show the requests (as curl commands) and the response of passing
    /// scenarios too, not only of failed ones.
    #[arg(long, short = 'v')]
    pub(crate) verbose: bool,

    /// Stop starting scenarios after the first failure (running ones finish,
    /// cleanups run); the rest are reported as skipped.
    #[arg(long, conflicts_with = "max_fail")]
    pub(crate) fail_fast: bool,

    /// Stop starting scenarios after N failures (running ones finish,
    /// cleanups run).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_fail: Option<u64>,

    /// The scenarios cover only some codes on purpose (a custom --scenarios
    /// folder): do not fail on codes without a passing scenario, and warn
    /// rather than fail on a profile `[[skip]]` that matches no scenario.
    #[arg(long)]
    pub(crate) partial: bool,

    /// Print GitHub `::error` annotations and append a step summary to
    /// $GITHUB_STEP_SUMMARY.
    #[arg(long, env = "GITHUB_ACTIONS", value_parser = clap::builder::FalseyValueParser::new())]
    pub(crate) github: bool,

    /// The run id that tags every resource the run creates (default: random).
    #[arg(long, value_name = "ID", value_parser = parse_run_id)]
    pub(crate) run_id: Option<String>,

    /// Stop the run after SECS seconds as on Ctrl-C (cleanup runs, the rest
    /// is skipped, exit code 130).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) deadline: Option<u64>,

    /// Progress display on standard error.
    #[arg(long, value_enum, default_value_t = ProgressArg::Auto)]
    pub(crate) progress: ProgressArg,

    /// List the selected scenarios and exit without sending a request.
    #[arg(long)]
    pub list: bool,

    /// Snapshots, waivers and the baseline.
    #[command(flatten)]
    pub(crate) gate: GateArgs,
}

/// `conformance-runner requirements`: what a target must provide for a
/// selection (credentials with their environment variables, fixtures, base
/// paths, capabilities), without sending anything.
#[derive(clap::Args, Clone, Debug)]
pub struct RequirementsArgs {
    /// Profile file; default: the embedded mock profile.
    #[arg(long, value_name = "FILE")]
    pub(crate) profile: Option<PathBuf>,

    /// The scenarios to take (`--scenarios`, `--filter`, `--shard`); all the
    /// embedded ones when none is given.
    #[command(flatten)]
    pub(crate) selection: SelectionArgs,
}

/// Prints the requirements of a selection to `stdout`.
pub fn requirements(args: &RequirementsArgs, stdout: &mut dyn Write) -> Result<Done, Failure> {
    let profile = match &args.profile {
        Some(path) => Profile::load(path).map_err(ConfigError::from)?,
        None => Profile::mock(),
    };
    let scenarios = load_scenarios(
        args.selection.scenarios.as_deref(),
        &args.selection.filter,
        &[&profile],
    )
    .map_err(ConfigError::from)?;
    let needs = crate::plan::requirements::requirements(
        &profile,
        scenarios,
        &args.selection.filter,
        args.selection.shard,
    );
    write_out(stdout, &needs.to_string(), "standard output")?;
    Ok(Done::Listed)
}

/// `--progress`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressArg {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    /// A bar, even when standard error is not a terminal.
    Bar,
    /// One line per scenario.
    Lines,
    /// No progress output; the report is still printed.
    None,
}

fn parse_run_id(s: &str) -> Result<String, String> {
    let ok = (2..=32).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(s.to_owned())
    } else {
        Err(
            "a run id is 2 to 32 lowercase letters and digits (it goes into emails and names)"
                .into(),
        )
    }
}

/// Loads, validates, runs and reports; `stdout` receives the report.
pub async fn run(
    args: &Args,
    stdout: &mut dyn Write,
    interrupt: impl Future<Output = ()>,
) -> Result<Done, Failure> {
    if !args.list {
        crate::check::prepare_in_background();
    }
    let profile = match &args.profile {
        Some(path) => Profile::load(path).map_err(ConfigError::from)?,
        None => Profile::mock(),
    };
    let scenarios = load_scenarios(
        args.selection.scenarios.as_deref(),
        &args.selection.filter,
        &[&profile],
    )
    .map_err(ConfigError::from)?;
    let options = Options {
        target: args.target.clone(),
        filters: args.selection.filter.clone(),
        shard: args.selection.shard,
        jobs: args.requests.jobs,
        timeout: Duration::from_secs(args.requests.timeout),
        run_id: args.run_id.clone(),
        max_fail: if args.fail_fast {
            Some(1)
        } else {
            args.max_fail
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        },
        partial: args.partial,
        deadline: args.deadline.map(Duration::from_secs),
        ..Options::new(profile, scenarios)
    };
    if args.list {
        // The plan's own selection: listing needs no target or credentials.
        let selection = crate::plan::selection(
            &options.profile,
            options.scenarios,
            &options.filters,
            options.shard,
            options.partial,
        )?;
        for w in &selection.warnings {
            eprintln!("warning: {w}");
        }
        for s in &selection.scenarios {
            let skip = options
                .profile
                .skip_for(&s.id)
                .map(|k| format!("  (skipped: {})", k.reason))
                .unwrap_or_default();
            let line = format!(
                "{:<48} {:<28} {}:{}{skip}\n",
                s.id, s.code, s.source.file, s.source.line
            );
            if !write_out(stdout, &line, "standard output")? {
                break;
            }
        }
        return Ok(Done::Listed);
    }
    let plan = Plan::new(options, &|name| std::env::var(name).ok())?;
    let gate = Gate::load(&args.gate)?;
    // A report file that cannot be written fails now, before any request,
    // rather than after the whole run.
    for path in [
        &args.output.json,
        &args.junit,
        &args.html,
        &args.gate.write_baseline,
    ]
    .into_iter()
    .flatten()
    {
        check_writable(path)?;
    }
    for w in plan.warnings() {
        eprintln!("warning: {w}");
    }

    let stderr_tty = std::io::stderr().is_terminal();
    let style = match args.progress {
        ProgressArg::Auto if stderr_tty => Style::Bar,
        ProgressArg::Auto | ProgressArg::Lines => Style::Lines,
        ProgressArg::Bar => Style::Bar,
        ProgressArg::None => Style::Quiet,
    };
    let progress = Progress::new(style, Box::new(std::io::stderr()));
    let mut report = plan.run(&progress, interrupt).await?;
    gate.apply(&plan, &mut report)?;

    let text = match args.output.format {
        Format::Human => {
            let no_color = std::env::var("NO_COLOR").ok();
            let color = Color::detect(std::io::stdout().is_terminal(), no_color.as_deref());
            let detail = if args.verbose {
                human::Detail::All
            } else {
                human::Detail::Failures
            };
            human::render_with(&report, color, detail)
        }
        Format::Json => report.to_json(),
    };
    write_out(stdout, &text, "standard output")?;
    if let Some(path) = &args.output.json {
        write_file(path, &report.to_json())?;
    }
    if let Some(path) = &args.junit {
        write_file(path, &report::junit::render(&report))?;
    }
    if let Some(path) = &args.html {
        write_file(path, &report::html::render(&report))?;
    }
    if args.github {
        write_out(
            stdout,
            &report::github::annotations(&report),
            "standard output",
        )?;
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
            let path = PathBuf::from(path);
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|source| Failure::Output {
                    path: path.clone(),
                    source,
                })?;
            file.write_all(report::github::summary(&report).as_bytes())
                .map_err(|source| Failure::Output { path, source })?;
        }
    }
    Ok(Done::Ran(Box::new(report)))
}

/// Writes to standard output; `Ok(false)` when the reader has gone (a closed
/// pipe, as in `| head -1`), which ends the output quietly.
fn write_out(out: &mut dyn Write, text: &str, name: &str) -> Result<bool, Failure> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(source) => Err(Failure::Output {
            path: PathBuf::from(name),
            source,
        }),
    }
}

/// Writes `bytes` to standard output; a closed pipe ends quietly.
pub fn print(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Creates the file's folder and opens the file for writing without
/// truncating it, so a bad path is an error before the run.
fn check_writable(path: &std::path::Path) -> Result<(), Failure> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Failure::Output {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map(drop)
        .map_err(|source| Failure::Output {
            path: path.to_path_buf(),
            source,
        })
}

fn write_file(path: &std::path::Path, text: &str) -> Result<(), Failure> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Failure::Output {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(|source| Failure::Output {
        path: path.to_path_buf(),
        source,
    })
}
