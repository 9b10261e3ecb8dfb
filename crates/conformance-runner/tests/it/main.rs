//! The runner's integration tests: one binary, a module per concern.
//!
//! Everything talks to tiny axum servers on 127.0.0.1:0 (`servers`): the
//! runner never depends on the mock, so these servers answer the mini suite
//! in `tests/fixtures/mini-suite` correctly, or wrongly on purpose.

mod bad_files;
mod binary;
mod cleanup;
mod cli_edges;
mod gate;
mod hostile;
mod html;
mod redaction;
mod replay;
mod reports;
mod scenario_files;
mod servers;
mod wrong_servers;

use std::path::PathBuf;

use conformance_runner::profile::Profile;
use conformance_runner::report::Report;
use conformance_runner::report::progress::Progress;
use conformance_runner::scenario::Scenario;
use conformance_runner::{Options, Plan};

/// A path under `tests/fixtures`.
pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// Runs the binary with `args`, away from the CI environment.
pub async fn run_binary(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_conformance-runner"))
            .args(args)
            .env_remove("CONFORMANCE_TARGET")
            .env_remove("GITHUB_ACTIONS")
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap()
}

/// The arguments that run the mini suite against `target`, then `extra`.
pub fn mini_args(target: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--target".into(),
        target.into(),
        "--profile".into(),
        fixture("mini-suite/profile.toml").display().to_string(),
        "--scenarios".into(),
        fixture("mini-suite/scenarios").display().to_string(),
        "--progress".into(),
        "none".into(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The mini suite's scenarios.
pub fn mini_suite() -> Vec<Scenario> {
    conformance_runner::scenario::load_dir(&fixture("mini-suite/scenarios"))
        .expect("the mini suite loads")
}

/// The mini suite's profile.
pub fn mini_profile() -> Profile {
    Profile::load(&fixture("mini-suite/profile.toml")).expect("the mini profile loads")
}

/// Runs `scenarios` against `target` with `profile`, no environment.
pub async fn run(scenarios: Vec<Scenario>, profile: Profile, target: String) -> Report {
    let options = Options {
        target: Some(target),
        run_id: Some("testrun".into()),
        ..Options::new(profile, scenarios)
    };
    let plan = Plan::new(options, &|_| None).expect("a valid plan");
    plan.run(&Progress::quiet(), std::future::pending())
        .await
        .expect("the target answers")
}

/// A unique scratch directory under the system's temp dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("conformance-runner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir
}
