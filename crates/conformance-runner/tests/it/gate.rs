//! Waivers, baselines and snapshots through the binary: a live waiver turns
//! a failure into "waived" and exit 0, an expired one fails naming its
//! owner, a stale one is reported, a baseline written from a failing run
//! makes the same run pass and the next new failure fail; every rendering
//! shows waived results distinctly; no secret reaches a snapshot.

use std::path::Path;
use std::process::Output;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::servers::{Fault, app, serve};
use crate::{fixture, run_binary as runner, scratch};

fn mini(target: &str, extra: &[&str]) -> Vec<String> {
    // NotFound, RateLimited, Unauthorized and ValidationError.
    let mut args = crate::mini_args(target, &["--filter", "category=generic"]);
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn waiver(matcher: &str, expires: &str) -> String {
    format!(
        "[[waiver]]\n{matcher}\nreason = \"the edge rewrites 404s\"\nowner = \"team-edge\"\nexpires = {expires}\n"
    )
}

fn validate(report: &Value) {
    let schema = conformance_runner::schema::report();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path().as_str()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[tokio::test]
async fn a_live_waiver_turns_the_failure_into_waived_and_exit_0_in_every_rendering() {
    let addr = serve(app(Fault::WrongStatus)).await;
    let dir = scratch("waiver-live");
    let waivers = write(
        &dir,
        "waivers.toml",
        &waiver("scenario = \"not-found/missing-user\"", "2999-12-31"),
    );
    let (json, junit) = (dir.join("r.json"), dir.join("r.xml"));
    let out = runner(mini(
        &format!("http://{addr}"),
        &[
            "--waivers",
            &waivers,
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
            "--github",
        ],
    ))
    .await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("  WAIV  not-found/missing-user"),
        "the human table marks it: {text}"
    );
    assert!(text.contains(&format!(
        "        waived by {waivers}:1 (owner team-edge, until 2999-12-31): the edge rewrites 404s\n          status at status: expected 404 (NotFound), found 400\n"
    )), "{text}");
    assert!(
        text.contains("  NotFound                             1      0      0       0  1 waived, not passing\n"),
        "coverage does not count it as passing: {text}"
    );
    assert!(text.contains("\n1 waived\n3 passed, 0 failed\n"), "{text}");
    let suite = fixture("mini-suite/scenarios/suite.toml");
    assert!(text.contains(&format!(
        "::notice file={},line=5,title=not-found/missing-user (NotFound)::waived: the edge rewrites 404s (owner team-edge, until 2999-12-31; {waivers}:1)\n",
        suite.display()
    )), "{text}");

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    validate(&report);
    let s = &report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "not-found/missing-user")
        .unwrap();
    assert_eq!(s["outcome"], "waived");
    assert_eq!(
        s["waiver"],
        json!({ "file": waivers, "line": 1, "reason": "the edge rewrites 404s", "owner": "team-edge", "expires": "2999-12-31" })
    );
    assert_eq!(report["summary"]["waived"], 1);
    assert_eq!(report["summary"]["passed"], 3);
    assert_eq!(report["summary"]["ok"], true);
    assert_eq!(report["waivers"][0]["state"], "live");
    assert_eq!(
        report["waivers"][0]["matched"],
        json!(["not-found/missing-user"])
    );
    let row = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "NotFound")
        .unwrap();
    assert_eq!(
        (row["passed"].as_u64(), row["waived"].as_u64()),
        (Some(0), Some(1))
    );
    assert!(
        !report["summary"]["uncovered"]
            .as_array()
            .unwrap()
            .contains(&json!("NotFound"))
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(
        "<testcase name=\"not-found/missing-user\" classname=\"generic.NotFound\" time="
    ));
    assert!(xml.contains("<skipped message=\"waived: the edge rewrites 404s (owner team-edge, until 2999-12-31)\">"), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
}

#[tokio::test]
async fn an_expired_waiver_fails_naming_its_owner_and_a_stale_one_is_reported() {
    let addr = serve(app(Fault::WrongStatus)).await;
    let dir = scratch("waiver-expired");
    let waivers = write(
        &dir,
        "waivers.toml",
        &format!(
            "{}\n{}",
            waiver("scenario = \"not-found/missing-user\"", "2001-02-03"),
            waiver("code = \"RateLimited\"", "2999-12-31"),
        ),
    );
    let out = runner(mini(
        &format!("http://{addr}"),
        &["--waivers", &waivers, "--format", "json"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    validate(&report);
    assert_eq!(
        report["summary"]["failed"], 1,
        "an expired waiver waives nothing"
    );
    assert_eq!(report["summary"]["ok"], false);
    let states: Vec<(&str, &str)> = report["waivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["state"].as_str().unwrap(), w["matches"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("expired", "scenario `not-found/missing-user`"),
            ("stale", "code `RateLimited`")
        ]
    );

    let junit = dir.join("r.xml");
    let out = runner(mini(
        &format!("http://{addr}"),
        &["--waivers", &waivers, "--junit", junit.to_str().unwrap()],
    ))
    .await;
    let text = stdout(&out);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(&format!(
        "<testsuite name=\"waivers\" tests=\"2\" failures=\"1\" skipped=\"1\" errors=\"0\" time=\"0.000\">\n    <testcase name=\"{waivers}:1\" classname=\"waivers\" time=\"0.000\">\n      <failure message=\"{waivers}:1: waiver for scenario `not-found/missing-user` expired on 2001-02-03: its owner team-edge must fix the failure or extend the waiver\"/>"
    )), "{xml}");
    assert!(text.contains(&format!(
        "\nWaivers\n  {waivers}:1: waiver for scenario `not-found/missing-user` expired on 2001-02-03: its owner team-edge must fix the failure or extend the waiver\n  {waivers}:7: waiver for code `RateLimited` (owner team-edge) matches no failure any more: remove it\n"
    )), "{text}");

    // A stale waiver alone does not fail the run; it is reported.
    let fine = serve(app(Fault::None)).await;
    let stale = write(
        &dir,
        "stale.toml",
        &waiver("code = \"RateLimited\"", "2999-12-31"),
    );
    let out = runner(mini(
        &format!("http://{fine}"),
        &["--waivers", &stale, "--github"],
    ))
    .await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("matches no failure any more: remove it"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "::warning file={},line=1,title=waiver stale::",
            stale.replace(':', "%3A")
        )),
        "{text}"
    );
}

#[tokio::test]
async fn a_baseline_makes_the_same_run_pass_and_the_next_new_failure_fail() {
    let dir = scratch("baseline");
    let baseline = dir.join("baseline.toml").display().to_string();
    let wrong = serve(app(Fault::WrongStatus)).await;
    let out = runner(mini(
        &format!("http://{wrong}"),
        &[
            "--write-baseline",
            &baseline,
            "--owner",
            "team-edge",
            "--expires",
            "2999-12-31",
        ],
    ))
    .await;
    assert_eq!(out.status.code(), Some(1), "the run itself still fails");
    let written = std::fs::read_to_string(&baseline).unwrap();
    assert!(written.ends_with(
        "\n[[waiver]]\nscenario = \"not-found/missing-user\"\nrule = \"status\"\nreason = \"baseline: status at status: expected 404 (NotFound), found 400\"\nowner = \"team-edge\"\nexpires = 2999-12-31\n"
    ), "{written}");
    // The written file is a valid waivers file, and valid against its schema.
    let parsed = conformance_runner::waiver::Waivers::load(Path::new(&baseline)).unwrap();
    assert_eq!(parsed.waivers.len(), 1);
    let as_json = toml_to_json(toml::from_str(&written).unwrap());
    let schema = conformance_runner::schema::waivers_schema();
    assert!(
        jsonschema::draft202012::new(&schema)
            .unwrap()
            .is_valid(&as_json),
        "{as_json}"
    );

    let out = runner(mini(&format!("http://{wrong}"), &["--waivers", &baseline])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // A new failure elsewhere is not covered.
    let other = serve(app(Fault::DroppedRetryAfter)).await;
    let out = runner(mini(
        &format!("http://{other}"),
        &["--waivers", &baseline, "--format", "json"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed: Vec<&str> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["outcome"] == "failed")
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["rate-limited/quota"]);
    assert_eq!(report["waivers"][0]["state"], "stale");

    // A baseline must hold for a while, and needs an owner.
    let out = runner(mini(
        &format!("http://{wrong}"),
        &[
            "--write-baseline",
            &baseline,
            "--owner",
            "team-edge",
            "--expires",
            "2001-01-01",
        ],
    ))
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("error: --expires 2001-01-01 is in the past (today is ")
    );
}

/// Dates become strings, as any TOML-to-JSON converter writes them.
pub(crate) fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => json!(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

const PLANTED: &str = "planted-credential-4f7d1c";
const STEP_UP: &str = "su_planted_step_up_91a2";

/// Echoes the bearer token it was sent in `detail` and a header.
fn echo() -> Router {
    Router::new()
        .route(
            "/v1/secrets",
            post(|| async { axum::Json(json!({ "step_up_token": STEP_UP })) }),
        )
        .route(
        "/v1/echo",
        get(|headers: HeaderMap| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body = json!({
                "type": "https://docs.platform.example/docs/errors#unauthorized",
                "title": "Unauthorized",
                "status": 400,
                "code": "Unauthorized",
                "request_id": "req_1",
                "detail": format!("you sent {auth} and {STEP_UP}; the webhook secret is whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"),
            });
            (
                StatusCode::BAD_REQUEST,
                [
                    ("content-type", "application/problem+json".to_owned()),
                    ("x-error-code", format!("Unauthorized {auth}")),
                ],
                body.to_string(),
            )
                .into_response()
        }),
    )
}

#[tokio::test]
async fn no_secret_reaches_a_snapshot() {
    let addr = serve(echo()).await;
    let dir = scratch("snapshot-secrets");
    let snaps = dir.join("snaps");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_conformance-runner"));
    command
        .arg("--target")
        .arg(format!("http://{addr}"))
        .arg("--profile")
        .arg(fixture("redaction/profile.toml"))
        .arg("--scenarios")
        .arg(fixture("redaction/scenarios"))
        .args(["--progress", "none"])
        .arg("--snapshots")
        .arg(&snaps)
        .env("CR_PLANTED_SECRET", PLANTED)
        .env_remove("CONFORMANCE_TARGET")
        .env_remove("GITHUB_ACTIONS");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let pending: Vec<_> = std::fs::read_dir(&snaps)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(pending.len(), 1, "{text}");
    let snap = std::fs::read_to_string(&pending[0]).unwrap();
    assert!(!snap.contains(PLANTED), "{snap}");
    assert!(!snap.contains("whsec_"), "{snap}");
    assert!(!snap.contains(STEP_UP), "{snap}");
    let value = conformance_runner::snapshot::parse("s", &snap).unwrap();
    assert_eq!(
        value["body"]["detail"],
        "you sent Bearer [REDACTED] and [REDACTED]; the webhook secret is [REDACTED]"
    );
    assert_eq!(
        value["headers"]["x-error-code"],
        "Unauthorized Bearer [REDACTED]"
    );
    assert_eq!(value["body"]["request_id"], "[request_id]");
}

#[test]
fn in_a_full_run_a_waived_code_is_neither_passing_nor_uncovered_and_an_unwaived_one_is() {
    use conformance_runner::check::Finding;
    use conformance_runner::report::{Outcome, Report, ScenarioReport};
    use conformance_runner::scenario::SourceFile;
    use conformance_runner::waiver::{Date, Waivers};

    let failing = |id: &str, code: &str| ScenarioReport {
        id: id.into(),
        code: code.into(),
        category: "generic".into(),
        tags: vec![],
        description: "d".into(),
        basis: "platform".into(),
        file: "f.toml".into(),
        line: 1,
        built_in: false,
        outcome: Outcome::Failed,
        skip_reason: None,
        duration_ms: 1,
        findings: vec![Finding {
            rule: "status".into(),
            at: "status".into(),
            expected: "404".into(),
            actual: "400".into(),
            fix: None,
            docs: None,
            basis: "platform".into(),
            hint: None,
        }],
        request: None,
        response: None,
        steps: vec![],
        drift: vec![],
        waiver: None,
        captures: Default::default(),
    };
    let mut report = Report::new(
        "r1".into(),
        "http://127.0.0.1:1".into(),
        "p".into(),
        true,
        vec![
            failing("not-found/a", "NotFound"),
            failing("forbidden/a", "Forbidden"),
        ],
        vec![],
        false,
    );
    let waivers = Waivers::parse(&SourceFile {
        name: "w.toml".into(),
        text: waiver("code = \"NotFound\"", "2030-06-30"),
    })
    .unwrap();
    // The waiver holds through its last day, and not a day longer.
    waivers.apply(&mut report, "2030-06-30".parse::<Date>().unwrap());
    let row = |code: &str| {
        report
            .coverage
            .iter()
            .find(|r| r.code == code)
            .unwrap()
            .clone()
    };
    assert_eq!((row("NotFound").passed, row("NotFound").waived), (0, 1));
    assert!(!report.summary.uncovered.contains(&"NotFound".to_owned()));
    assert!(report.summary.uncovered.contains(&"Forbidden".to_owned()));
    assert_eq!((report.summary.failed, report.summary.waived), (1, 1));

    let mut later = report.clone();
    for s in &mut later.scenarios {
        s.outcome = Outcome::Failed;
        s.waiver = None;
    }
    waivers.apply(&mut later, "2030-07-01".parse::<Date>().unwrap());
    assert_eq!((later.summary.failed, later.summary.waived), (2, 0));
    assert!(later.waivers[0].to_string().ends_with(
        "expired on 2030-06-30: its owner team-edge must fix the failure or extend the waiver"
    ));
}

#[tokio::test]
async fn drift_fails_or_only_reports_as_the_profile_says_in_every_rendering() {
    let addr = serve(app(Fault::None)).await;
    let target = format!("http://{addr}");
    let dir = scratch("drift");
    let snaps = dir.join("snaps");
    let s = snaps.to_str().unwrap();
    let out = runner(mini(&target, &["--snapshots", s, "--accept-snapshots"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // Change the recorded detail of one scenario: the next run drifts there.
    let file = snaps.join("not-found__missing-user.snap");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut value = conformance_runner::snapshot::parse("f", &text).unwrap();
    let observed = value["body"]["detail"].clone();
    value["body"]["detail"] = json!("An older text.");
    std::fs::write(
        &file,
        conformance_runner::snapshot::render("not-found/missing-user", "d", &value),
    )
    .unwrap();

    let junit = dir.join("r.xml");
    let out = runner(mini(
        &target,
        &[
            "--snapshots",
            s,
            "--junit",
            junit.to_str().unwrap(),
            "--github",
        ],
    ))
    .await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "drift fails by default: {text}");
    assert!(text.contains("  PASS  not-found/missing-user "), "{text}");
    assert!(text.contains(&format!(
        "        drift: detail changed at body:/detail\n          - \"An older text.\"\n          + {observed}\n"
    )), "{text}");
    assert!(text.contains("\n1 drifted\n"), "{text}");
    assert!(text.contains("::error file="), "{text}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<failure message=\"detail changed at body:/detail\" type=\"drift\">"),
        "{xml}"
    );
    assert!(snaps.join("not-found__missing-user.snap.new").exists());

    // A profile that only reports drift: exit 0, a warning.
    let profile = dir.join("report-drift.toml");
    let mini_profile = std::fs::read_to_string(fixture("mini-suite/profile.toml")).unwrap();
    std::fs::write(
        &profile,
        format!("{mini_profile}\n[snapshots]\ndrift = \"report\"\n"),
    )
    .unwrap();
    let mut args = mini(&target, &["--snapshots", s, "--github", "--format", "json"]);
    args[3] = profile.display().to_string();
    let out = runner(args).await;
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let json_end = text.find("::warning").expect("a drift warning");
    let report: Value = serde_json::from_str(&text[..json_end]).unwrap();
    validate(&report);
    assert_eq!(report["summary"]["drifted"], 1);
    assert_eq!(report["snapshots"]["drift_fails"], false);
    let drift = &report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "not-found/missing-user")
        .unwrap()["drift"];
    assert_eq!(drift[0]["kind"], "changed");
    assert_eq!(drift[0]["recorded"], "An older text.");
}

#[tokio::test]
async fn the_diff_subcommand_exits_0_when_targets_agree_and_1_with_the_differences() {
    let a = serve(app(Fault::None)).await;
    let b = serve(app(Fault::None)).await;
    let c = serve(app(Fault::WrongStatus)).await;
    let diff = |left: std::net::SocketAddr, right: std::net::SocketAddr| {
        vec![
            "diff".to_owned(),
            "--left".into(),
            format!("http://{left}"),
            "--right".into(),
            format!("http://{right}"),
            "--left-profile".into(),
            fixture("mini-suite/profile.toml").display().to_string(),
            "--scenarios".into(),
            fixture("mini-suite/scenarios").display().to_string(),
            "--format".into(),
            "json".into(),
        ]
    };
    let out = runner(diff(a, b)).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let same: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        same["summary"],
        json!({ "compared": 6, "same": 6, "differ": 0, "agree": true })
    );

    let out = runner(diff(a, c)).await;
    assert_eq!(out.status.code(), Some(1));
    let differ: Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema = conformance_runner::cli::diff::schema();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    assert!(validator.is_valid(&differ), "{differ:#}");
    let changes: Vec<(&str, &str)> = differ["differences"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["title"].as_str().unwrap(), c["diff"].as_str().unwrap()))
        .collect();
    assert_eq!(differ["differences"][0]["id"], "not-found/missing-user");
    assert_eq!(
        changes,
        [
            ("status changed", "- 404\n+ 400"),
            ("status changed", "- 404\n+ 400")
        ]
    );
}
