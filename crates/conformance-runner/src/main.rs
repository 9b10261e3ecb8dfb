//! `conformance-runner`: the suite against a live server, for teams that
//! install it outside this repository.
//!
//! Thin over the library: clap parses [`cli::run::Args`], the library validates
//! and runs them, and [`exit::exit_code`] maps every subcommand's result to
//! the documented exit codes (0 passed, 1 failures, 2 usage or configuration, 3 target
//! unreachable, 130 interrupted). Ctrl-C and SIGTERM stop the run with
//! cleanup; a second one aborts at once and names what was left.

use std::process::ExitCode;

/// mimalloc rather than the system allocator: parsing the scenarios, the
/// checks and the report allocate many small values, and a run of the
/// single-request scenarios spent a sixth of its CPU in glibc's `malloc` and
/// `free` (`cargo xtask bench-hurl` measures the difference).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, Parser, Subcommand};
use conformance_runner::cli::exit::{Failure, Verdict, exit_code};
use conformance_runner::cli::{self, diff, exit, init};

/// Runs the error-contract conformance suite against a server.
#[derive(Parser)]
#[command(
    name = "conformance-runner",
    version,
    after_help = "Exit codes: 0 all passed, 1 conformance failures, 2 usage or configuration error, 3 target unreachable, 130 interrupted (after cleanup).",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    args: cli::run::Args,
}

/// Commands besides the run itself.
#[derive(Subcommand)]
enum Command {
    /// Print what a target must provide for the selected scenarios
    /// (credentials and their environment variables, fixtures, base paths,
    /// capabilities), without sending anything.
    Requirements(cli::run::RequirementsArgs),
    /// The error catalog as a contract: `diff --base FILE` (compatibility
    /// check), `openapi-lint FILE`, `export` (this build's catalog.json).
    #[command(subcommand)]
    Catalog(catalog_contract::cli::Command),
    /// Run the same scenarios against two targets and report what differs
    /// (exit 0 when they agree, 1 when they differ).
    Diff(diff::DiffArgs),
    /// Write a commented profile for a target and print the environment
    /// variables it reads.
    Init(init::InitArgs),
    /// The runner's software authenticator and TOTP generator, by hand:
    /// `create` and `get` print WebAuthn JSON for a challenge, `totp` the
    /// current code of a secret.
    #[command(subcommand)]
    Authenticator(cli::authenticator::AuthenticatorCommand),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to write the completion script for.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Catalog(command)) => {
            return ExitCode::from(catalog_contract::cli::run(command, &mut std::io::stdout()));
        }
        Some(Command::Requirements(args)) => {
            return finish(&cli::run::requirements(args, &mut std::io::stdout()));
        }
        Some(Command::Init(args)) => {
            return finish(&init::run(args, &mut std::io::stdout()).map_err(Failure::from));
        }
        Some(Command::Authenticator(command)) => {
            let result = cli::authenticator::run_authenticator(command, &mut std::io::stdout());
            return finish(&result.map_err(Failure::Authenticator));
        }
        Some(Command::Completions { shell }) => {
            let mut text = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "conformance-runner", &mut text);
            return finish(&cli::run::print(&text).map_err(|source| Failure::Output {
                path: "standard output".into(),
                source,
            }));
        }
        Some(Command::Diff(_)) | None => {}
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    // Installed before anything runs, so a signal that comes early is not lost.
    let signals = {
        let _context = runtime.enter();
        Signals::install()
    };
    if let Some(Command::Diff(args)) = &cli.command {
        // Both sides of a diff listen on the same handlers: Ctrl-C or SIGTERM cleans up.
        let signals = std::sync::Arc::new(tokio::sync::Mutex::new(signals));
        let interrupt = || {
            let signals = std::sync::Arc::clone(&signals);
            async move {
                match signals.lock().await.as_mut() {
                    Some(signals) => signals.recv().await,
                    None => std::future::pending::<()>().await,
                }
                eprintln!("\ninterrupted: cleaning up");
            }
        };
        return finish(&runtime.block_on(diff::run(args, &mut std::io::stdout(), interrupt)));
    }
    let interrupt = async move {
        // Without signal handlers, wait forever: the run ends on its own.
        let Some(mut signals) = signals else {
            return std::future::pending::<()>().await;
        };
        signals.recv().await;
        eprintln!("\ninterrupted: cleaning up (interrupt again to abort at once)");
        // A second signal aborts at once, naming what was not cleaned up.
        tokio::spawn(async move {
            signals.recv().await;
            let left = conformance_runner::left_behind();
            if left.is_empty() {
                eprintln!("aborted: nothing was left behind");
            } else {
                eprintln!("aborted: cleanup did not run for:");
                for line in left {
                    eprintln!("  {line}");
                }
            }
            std::process::exit(i32::from(exit::INTERRUPTED));
        });
    };
    let result = runtime.block_on(cli::run::run(&cli.args, &mut std::io::stdout(), interrupt));
    let code = finish(&result);
    // Everything is written: the scenarios, the report and the runtime are
    // left to the operating system, which takes a process's memory and
    // sockets back at once. Dropping them piece by piece was about 2% of a
    // short run's CPU in a profile.
    std::mem::forget(result);
    std::mem::forget(runtime);
    code
}

/// Prints the error, if any, and exits with the code every subcommand shares.
fn finish<V: Verdict>(result: &Result<V, Failure>) -> ExitCode {
    if let Err(e) = result {
        eprintln!("error: {e}");
    }
    ExitCode::from(exit_code(result))
}

/// Ctrl-C and SIGTERM (what CI sends when a job is cancelled).
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers; `None` when the system refuses.
    fn install() -> Option<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Some(Signals {
                interrupt: signal(SignalKind::interrupt()).ok()?,
                terminate: signal(SignalKind::terminate()).ok()?,
            })
        }
        #[cfg(not(unix))]
        Some(Signals {})
    }

    /// Completes on the next signal.
    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
