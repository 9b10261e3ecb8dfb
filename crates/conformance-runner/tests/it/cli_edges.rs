//! The rough edges a new user hit, each fixed and shown: report paths
//! checked before any request, a closed pipe, stopping early, partial runs
//! and stale skips (the same answer in --list and a run), `init` and
//! `completions`.

use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::StatusCode;

use crate::servers::{Fault, app, serve};
use crate::{fixture, scratch};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_conformance-runner"));
    c.env_remove("CONFORMANCE_TARGET")
        .env_remove("GITHUB_ACTIONS");
    c
}

async fn output(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .unwrap()
}

fn mini(target: &str) -> Command {
    let mut c = bin();
    c.args(["--target", target, "--progress", "none", "--profile"])
        .arg(fixture("mini-suite/profile.toml"))
        .arg("--scenarios")
        .arg(fixture("mini-suite/scenarios"));
    c
}

/// The mini suite's server, counting the requests it gets.
async fn counting(fault: Fault) -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let router: Router = app(fault).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            seen.fetch_add(1, Ordering::SeqCst);
            next.run(req)
        },
    ));
    (format!("http://{}", serve(router).await), count)
}

#[tokio::test]
async fn a_bad_report_path_fails_before_any_request() {
    let (target, count) = counting(Fault::None).await;
    let dir = scratch("bad-report-path");
    let file = dir.join("a-file");
    std::fs::write(&file, "").unwrap();
    for flag in ["--json", "--junit", "--html"] {
        let mut c = mini(&target);
        c.arg(flag).arg(file.join("report"));
        let out = output(c).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: failed to write {}", file.display())),
            "{flag}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{flag}: a report was printed");
    }
    assert_eq!(count.load(Ordering::SeqCst), 0, "a request was sent");
}

#[tokio::test]
async fn a_closed_pipe_ends_quietly() {
    let (target, _) = counting(Fault::WrongStatus).await;
    // The reader is gone before the runner writes: `sleep` holds the runner
    // back until `true` has exited and closed the pipe.
    let runner = env!("CARGO_BIN_EXE_conformance-runner");
    let mini_args = format!(
        "--target {target} --progress none --profile {} --scenarios {}",
        fixture("mini-suite/profile.toml").display(),
        fixture("mini-suite/scenarios").display()
    );
    for (args, expected) in [
        ("--list".to_owned(), 0),
        (mini_args, 1),
        ("completions bash".to_owned(), 0),
    ] {
        let mut c = Command::new("bash");
        c.arg("-c")
            .arg(format!(
                "{{ sleep 0.3; '{runner}' {args}; echo \"status $?\" >&2; }} | true"
            ))
            .env_remove("CONFORMANCE_TARGET")
            .env_remove("GITHUB_ACTIONS")
            .stdin(Stdio::null());
        let out = output(c).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr, format!("status {expected}\n"), "{args}");
    }
}

#[tokio::test]
async fn max_fail_stops_starting_scenarios_and_reports_the_rest_skipped() {
    // Every answer is wrong, so whichever scenario runs first fails; with one
    // job at a time nothing else starts after it.
    let wrong = Router::new().fallback(|| async { (StatusCode::IM_A_TEAPOT, "no") });
    let target = format!("http://{}", serve(wrong).await);
    for (flags, reason) in [
        (
            &["--fail-fast"][..],
            "not run: 1 failed already (--max-fail 1)",
        ),
        (
            &["--max-fail", "2"][..],
            "not run: 2 failed already (--max-fail 2)",
        ),
    ] {
        let mut c = mini(&target);
        c.args(["--jobs", "1", "--format", "json", "--partial"])
            .args(flags);
        let out = output(c).await;
        assert_eq!(out.status.code(), Some(1), "{flags:?}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let failed = if flags[0] == "--fail-fast" { 1 } else { 2 };
        let summary = &report["summary"];
        assert_eq!(summary["failed"], failed, "{flags:?}: {summary}");
        assert_eq!(summary["passed"], 0, "{flags:?}: {summary}");
        assert_eq!(summary["skipped"], 6 - failed, "{flags:?}: {summary}");
        let reasons: Vec<&str> = report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["skip_reason"].as_str())
            .collect();
        assert_eq!(reasons, vec![reason; 6 - failed]);
    }
}

#[tokio::test]
async fn a_partial_run_passes_when_its_scenarios_pass() {
    let (target, _) = counting(Fault::None).await;
    let out = output(mini(&target)).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("pass --partial when the scenarios cover only some codes"),
        "{stdout}"
    );
    let mut c = mini(&target);
    c.arg("--partial");
    let out = output(c).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.ends_with("6 passed, 0 failed\n"), "{stdout}");
}

#[tokio::test]
async fn a_stale_skip_gets_the_same_answer_in_list_and_in_a_run() {
    let (target, _) = counting(Fault::None).await;
    let dir = scratch("stale-skip");
    let profile = dir.join("profile.toml");
    let text = std::fs::read_to_string(fixture("mini-suite/profile.toml")).unwrap()
        + "\n[[skip]]\nscenario = \"no-such/scenario\"\nreason = \"gone\"\n";
    std::fs::write(&profile, text).unwrap();
    let line = text_line(&profile, "[[skip]]");
    let message = format!(
        "{}:{line}: skip `no-such/scenario` matches no scenario (remove it, or pass --partial when the scenarios are only a part of the suite)",
        profile.display()
    );
    for (extra, code) in [(&[][..], 2), (&["--partial"][..], 0)] {
        for list in [true, false] {
            let mut c = bin();
            c.args(["--target", &target, "--progress", "none", "--profile"])
                .arg(&profile)
                .arg("--scenarios")
                .arg(fixture("mini-suite/scenarios"))
                .args(extra);
            if list {
                c.arg("--list");
            }
            let out = output(c).await;
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                out.status.code(),
                Some(code),
                "{extra:?} list={list}: {stderr}"
            );
            if code == 2 {
                assert_eq!(stderr, format!("error: {message}\n"), "list={list}");
            } else if list {
                assert_eq!(stderr, format!("warning: {message}\n"));
            } else {
                assert!(stdout.contains(&message), "{stdout}");
            }
        }
    }
}

fn text_line(path: &std::path::Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[tokio::test]
async fn init_writes_a_profile_that_loads_and_names_its_variables() {
    let dir = scratch("init");
    let path = dir.join("sub/staging.toml");
    let mut c = bin();
    c.args([
        "init",
        "--target",
        "https://staging.example.net/base",
        "--output",
    ])
    .arg(&path);
    let out = output(c).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let profile = conformance_runner::profile::Profile::load(&path).expect("the profile loads");
    assert_eq!(
        profile.base_url.as_deref(),
        Some("https://staging.example.net/base")
    );
    assert_eq!(profile.name, "staging.example.net");
    for (name, source) in &profile.credentials {
        let conformance_runner::profile::Credential::Env(var) = source else {
            panic!("credential {name} is not read from the environment");
        };
        assert!(
            stdout.contains(&format!("  export {var}=...    # credential `{name}`\n")),
            "{stdout}"
        );
    }
    assert!(!profile.credentials.is_empty());
    // Named by role, never after the mock's workspaces.
    for (name, source) in &profile.credentials {
        let conformance_runner::profile::Credential::Env(var) = source else {
            unreachable!()
        };
        for world in [
            "ACME",
            "PWONLY",
            "DORMANT",
            "FORTRESS",
            "VAULT",
            "THROTTLED",
        ] {
            assert!(!var.contains(world), "{name}: {var}");
        }
    }
    // Every fixture is left empty under what it must be, and a run refuses
    // the profile listing them, before anything is sent.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!profile.fixtures.is_empty());
    for (name, value) in &profile.fixtures {
        assert_eq!(value, "", "{name}");
        let at = text.find(&format!("\n{name} = \"\"\n")).unwrap();
        assert!(
            text[..at].ends_with(|c: char| c != '\n'),
            "{name} has a comment above"
        );
    }
    assert!(!text.contains("acme.example"), "{text}");
    assert!(
        !text.contains("\n[[skip]]"),
        "no skip written, only commented examples"
    );
    assert!(
        stdout.contains("  export CONFORMANCE_RECEIVER_URL=..."),
        "{stdout}"
    );
    assert!(
        stdout.contains("  CONFORMANCE_TARGET    # overrides base_url"),
        "{stdout}"
    );
    let mut run = bin();
    run.arg("--profile").arg(&path);
    let out = output(run).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: ")
            && stderr.contains(&format!(
                " fixture(s) empty in {}; set each",
                path.display()
            ))
            && stderr.contains("\n  acme (used by ")
            && stderr.contains("\n  throttled_session_quota (used by rate-limited/"),
        "{stderr}"
    );

    // A loopback target reaches the runner's receiver on loopback.
    let local = dir.join("local.toml");
    let mut c = bin();
    c.args(["init", "--target", "http://127.0.0.1:8080", "--output"])
        .arg(&local);
    let out = output(c).await;
    assert_eq!(out.status.code(), Some(0));
    let profile = conformance_runner::profile::Profile::load(&local).unwrap();
    assert_eq!(profile.receiver_public_url_env, None);
    assert_eq!(profile.receiver_bind.ip().to_string(), "127.0.0.1");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("CONFORMANCE_RECEIVER_URL"));

    // Never over a file by accident.
    let mut again = bin();
    again
        .args(["init", "--target", "https://x.example", "--output"])
        .arg(&path);
    let out = output(again).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {} exists; pass --force to replace it\n",
            path.display()
        )
    );
    let mut bad = bin();
    bad.args(["init", "--target", "ftp://x", "--output"])
        .arg(dir.join("x.toml"));
    let out = output(bad).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: target `ftp://x` is not an http(s) URL\n"
    );
}

#[tokio::test]
async fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _conformance__runner"),
        ("zsh", "#compdef conformance-runner"),
        ("fish", "complete -c conformance-runner"),
    ] {
        let mut c = bin();
        c.args(["completions", shell]);
        let out = output(c).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(stdout.contains(marker), "{shell}: {stdout}");
        assert!(stdout.contains("max-fail"), "{shell}");
    }
}

#[tokio::test]
async fn verbose_shows_the_exchange_of_passing_scenarios_too() {
    let (target, _) = counting(Fault::None).await;
    for (verbose, shown) in [(false, 0), (true, 6)] {
        let mut c = mini(&target);
        c.arg("--partial");
        if verbose {
            c.arg("--verbose");
        }
        let out = output(c).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        assert_eq!(
            stdout.matches("# the asserted request").count(),
            shown,
            "{stdout}"
        );
        assert_eq!(
            stdout.matches("        response: ").count(),
            shown,
            "{stdout}"
        );
        assert!(
            stdout.contains("slowest:\n") && stdout.contains("wall time: "),
            "{stdout}"
        );
        assert!(!stdout.contains("tok_test_admin"), "{stdout}");
    }
}
