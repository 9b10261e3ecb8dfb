//! The whole suite against the embedded mock: every scenario passes, and
//! every error body matches its insta snapshot (`tests/snapshots/`). Behind a
//! proxy that corrupts some responses, exactly the affected scenarios fail.
//!
//! Request ids, `Retry-After` values, delivery ids, the mock's ephemeral
//! address and the run's generated names are redacted, so a snapshot only
//! changes when a body really does. Accept a deliberate change with
//! `cargo insta review`, or `INSTA_UPDATE=always cargo test -p xtask --test conformance`.

use std::net::SocketAddr;
use std::sync::LazyLock;

use conformance_runner::report::progress::Progress;
use conformance_runner::report::{Outcome, Report};
use conformance_runner::{Options, Plan};
use regex::Regex;
use serde_json::{Value, json};

const RUN_ID: &str = "snapshot";

/// The mock as `cargo xtask conformance` starts it (loopback is a trusted proxy).
async fn spawn_mock() -> mock_server::Running {
    let mut config = mock_server::Config::embedded().expect("the seed loads");
    config.seed.trusted_proxies.push("127.0.0.1/32".into());
    mock_server::spawn(SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .expect("the mock starts")
}

async fn run_suite() -> (Report, String) {
    let mock = spawn_mock().await;
    let base = mock.base_url();
    (run_against(base.clone()).await, base)
}

async fn run_against(target: String) -> Report {
    let options = Options {
        target: Some(target),
        run_id: Some(RUN_ID.into()),
        ..Options::new(
            conformance_runner::profile::Profile::mock(),
            conformance_runner::embedded_scenarios().expect("the scenarios load"),
        )
    };
    let plan = Plan::new(options, &|_| None).expect("the mock profile is complete");
    plan.run(&Progress::quiet(), std::future::pending())
        .await
        .expect("the mock answers")
}

static VOLATILE: LazyLock<[(Regex, &'static str); 3]> = LazyLock::new(|| {
    [
        (Regex::new(r"msg_[A-Za-z0-9]+").unwrap(), "[message_id]"),
        (Regex::new(&format!(r"{RUN_ID}-\d+")).unwrap(), "[slug]"),
        // Seconds left in a rate-limit window or a circuit's cool-down.
        (Regex::new(r"\b\d+ s\b").unwrap(), "[n] s"),
    ]
});

/// Replaces the mock's address and per-run values in every string.
fn stabilise(value: &mut Value, base: &str) {
    match value {
        Value::String(s) => {
            let mut text = s.replace(base, "http://mock");
            for (regex, with) in VOLATILE.iter() {
                text = regex.replace_all(&text, *with).into_owned();
            }
            *s = text;
        }
        Value::Array(items) => items.iter_mut().for_each(|v| stabilise(v, base)),
        Value::Object(map) => map.values_mut().for_each(|v| stabilise(v, base)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_passes_against_the_embedded_mock_and_every_error_body_is_snapshotted() {
    let (report, base) = run_suite().await;

    let failures: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.outcome != Outcome::Passed)
        .map(|s| {
            let findings: Vec<String> = s.findings.iter().map(|f| format!("    {f}")).collect();
            format!("{} ({}:{})\n{}", s.id, s.file, s.line, findings.join("\n"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "scenarios failed against the mock:\n{}",
        failures.join("\n")
    );
    assert!(
        report.passed(),
        "uncovered codes: {:?}",
        report.summary.uncovered
    );
    assert!(
        report.warnings.is_empty(),
        "cleanup warnings: {:#?}",
        report.warnings
    );

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for s in &report.scenarios {
            let response = s.response.as_ref().expect("every scenario got a response");
            let header = |name: &str| response.headers.get(name).map_or(Value::Null, |v| json!(v));
            let mut snapshot = json!({
                "scenario": s.id,
                "status": response.status,
                "content-type": header("content-type"),
                "www-authenticate": header("www-authenticate"),
                "retry-after": header("retry-after"),
                "x-error-code": header("x-error-code"),
                "body": response.body,
            });
            stabilise(&mut snapshot, &base);
            if snapshot["retry-after"].is_string() {
                snapshot["retry-after"] = json!("[seconds]");
            }
            insta::assert_json_snapshot!(s.id.replace('/', "__"), snapshot, {
                ".body.request_id" => "[request_id]",
                ".body.retry_after" => "[seconds]",
            });
        }
    });
}

/// How the proxy corrupts a response of the mock, chosen by its code.
fn corrupt(status: &mut u16, headers: &mut http::HeaderMap, body: &mut Vec<u8>) {
    let code = headers
        .get("x-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    match code.as_str() {
        // A dropped header.
        "RateLimited" => {
            headers.remove("retry-after");
        }
        // A renamed code, in the body and the header.
        "SSO_NOT_ALLOWED" => {
            let mut json: Value = serde_json::from_slice(body).unwrap();
            json["code"] = json!("SSO_DISABLED");
            *body = serde_json::to_vec(&json).unwrap();
            headers.insert(
                "x-error-code",
                http::HeaderValue::from_static("SSO_DISABLED"),
            );
        }
        // A wrong status.
        "MUTABILITY_VIOLATION" => *status = 409,
        // A wrong media type.
        "ATTESTATION_BLOCKED" => {
            headers.insert(
                "content-type",
                http::HeaderValue::from_static("application/json"),
            );
        }
        // No request id: for a SCIM error the header is its only place.
        "USER_NOT_FOUND" => {
            headers.remove("x-request-id");
        }
        // A body `request_id` other than the header's.
        "ACCOUNT_DISABLED" => {
            let mut json: Value = serde_json::from_slice(body).unwrap();
            json["request_id"] = json!(PLANTED_REQUEST_ID);
            *body = serde_json::to_vec(&json).unwrap();
        }
        _ => {}
    }
}

/// The body `request_id` the corrupting proxy plants.
const PLANTED_REQUEST_ID: &str = "req_planted";

/// A reverse proxy to `upstream` on 127.0.0.1:0 that passes every request on
/// and applies [`corrupt`] to every response.
async fn corrupting_proxy(upstream: String) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    proxy(listener, upstream, corrupt)
}

/// How a proxy changes a response: status, headers, body.
type Rewrite = fn(&mut u16, &mut http::HeaderMap, &mut Vec<u8>);

/// A reverse proxy to `upstream` on `listener` that passes every request on,
/// naming its peer in the forwarding headers as a proxy must, and applies
/// `rewrite` to every response.
fn proxy(listener: tokio::net::TcpListener, upstream: String, rewrite: Rewrite) -> SocketAddr {
    proxy_with(listener, upstream, rewrite, Forwarding::Append)
}

/// What a proxy does with the forwarding headers of a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Forwarding {
    /// Appends its peer to `X-Forwarded-For` (and to `Forwarded` when the
    /// request has one), as a proxy the target trusts must.
    Append,
    /// Passes them on as the client wrote them: behind it, a target that
    /// trusts the proxy believes the headers from anyone.
    PassThrough,
}

fn proxy_with(
    listener: tokio::net::TcpListener,
    upstream: String,
    rewrite: Rewrite,
    forwarding: Forwarding,
) -> SocketAddr {
    use axum::body::{Body, to_bytes};
    use axum::extract::{ConnectInfo, Request};
    use axum::response::Response;

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let app = axum::Router::new().fallback(
        move |ConnectInfo(peer): ConnectInfo<SocketAddr>, request: Request| {
            let (client, upstream) = (client.clone(), upstream.clone());
            async move {
                let (mut parts, body) = request.into_parts();
                if forwarding == Forwarding::Append {
                    append_hop(&mut parts.headers, peer.ip());
                }
                let bytes = to_bytes(body, usize::MAX).await.unwrap();
                let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let mut forward = client
                    .request(parts.method, format!("{upstream}{path}"))
                    .body(bytes);
                for (name, value) in &parts.headers {
                    if name != http::header::HOST && name != http::header::CONTENT_LENGTH {
                        forward = forward.header(name, value);
                    }
                }
                let answer = forward.send().await.unwrap();
                let mut status = answer.status().as_u16();
                let mut headers = answer.headers().clone();
                let mut body = answer.bytes().await.unwrap().to_vec();
                rewrite(&mut status, &mut headers, &mut body);
                headers.remove(http::header::CONTENT_LENGTH);
                headers.remove(http::header::TRANSFER_ENCODING);
                let mut response = Response::new(Body::from(body));
                *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
                *response.headers_mut() = headers;
                response
            }
        },
    );
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// Names `peer` as the last hop: appended to `X-Forwarded-For`, and to
/// `Forwarded` when the request has one (the mock prefers it).
fn append_hop(headers: &mut http::HeaderMap, peer: std::net::IpAddr) {
    let append = |headers: &mut http::HeaderMap, name: http::HeaderName, hop: String| {
        let joined: Vec<String> = headers
            .get_all(&name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .chain([hop])
            .collect();
        headers.insert(name, joined.join(", ").parse().unwrap());
    };
    append(
        headers,
        http::HeaderName::from_static("x-forwarded-for"),
        peer.to_string(),
    );
    if headers.contains_key(http::header::FORWARDED) {
        let node = match peer {
            std::net::IpAddr::V4(ip) => ip.to_string(),
            std::net::IpAddr::V6(ip) => format!("\"[{ip}]\""),
        };
        append(headers, http::header::FORWARDED, format!("for={node}"));
    }
}

/// Behind a proxy that passes `X-Forwarded-For` on without naming its peer,
/// the mock (which trusts the proxy) believes the header from anyone: the
/// untrusted-peer scenario fails, and only it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_believing_forwarded_for_from_anyone_fails_exactly_the_untrusted_peer_scenario() {
    let mock = spawn_mock().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = proxy_with(
        listener,
        mock.base_url(),
        unchanged,
        Forwarding::PassThrough,
    );
    let report = run_against(format!("http://{addr}")).await;
    let failed: Vec<(String, Vec<String>)> = report
        .scenarios
        .iter()
        .filter(|s| s.outcome != Outcome::Passed)
        .map(|s| {
            (
                s.id.clone(),
                s.findings.iter().map(ToString::to_string).collect(),
            )
        })
        .collect();
    let ids: Vec<&str> = failed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        ["ip-blocked/forwarded-for-from-untrusted-peer"],
        "{failed:#?}"
    );
    let findings = &failed[0].1;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(
        findings[0].starts_with("status at status: expected 403 (IP_BLOCKED), found 200 (body: "),
        "{findings:#?}"
    );

    // The same mock behind a proxy that names its peer: everything passes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = proxy(listener, mock.base_url(), unchanged);
    let report = run_against(format!("http://{addr}")).await;
    assert_all_passed(&report, "behind a proxy that names its peer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_corrupting_proxy_exactly_the_affected_scenarios_fail() {
    let mock = spawn_mock().await;
    let proxy = corrupting_proxy(mock.base_url()).await;
    let report = run_against(format!("http://{proxy}")).await;

    let corrupted = [
        "RateLimited",
        "SSO_NOT_ALLOWED",
        "MUTABILITY_VIOLATION",
        "ATTESTATION_BLOCKED",
        "USER_NOT_FOUND",
        "ACCOUNT_DISABLED",
    ];
    let mut failed: Vec<&str> = Vec::new();
    for s in &report.scenarios {
        let shown: Vec<String> = s.findings.iter().map(ToString::to_string).collect();
        if !corrupted.contains(&s.code.as_str()) {
            assert_eq!(
                s.outcome,
                Outcome::Passed,
                "{} is not affected: {shown:#?}",
                s.id
            );
            continue;
        }
        assert_eq!(s.outcome, Outcome::Failed, "{} is affected", s.id);
        failed.push(s.id.as_str());
        let header_id = s
            .response
            .as_ref()
            .and_then(|r| r.headers.get("x-request-id"))
            .cloned()
            .unwrap_or_default();
        let mismatch = format!(
            "request-id at body:/request_id: expected {header_id:?} (the `x-request-id` header), found {PLANTED_REQUEST_ID:?}"
        );
        let expected: &[&str] = match s.code.as_str() {
            "USER_NOT_FOUND" => &[
                "request-id at header:x-request-id: expected a request id (every error response carries one), found absent",
            ],
            "ACCOUNT_DISABLED" => &[mismatch.as_str()],
            "RateLimited" => {
                &["retry-after at header:retry-after: expected delay-seconds, found absent"]
            }
            "SSO_NOT_ALLOWED" => &[
                "undocumented-code at body:/code: expected a code documented in the catalog, found SSO_DISABLED",
            ],
            "MUTABILITY_VIOLATION" => &[
                "status at status: expected 400 (MUTABILITY_VIOLATION), found 409",
                "status-member at body:/status: expected \"409\" (a JSON string equal to the HTTP status), found \"400\" (a string)",
            ],
            _ => &[
                "media-type at header:content-type: expected application/problem+json, found application/json",
            ],
        };
        assert_eq!(shown, expected, "{}", s.id);
    }
    // Every scenario of the four codes failed, and nothing else did.
    for code in corrupted {
        assert!(
            failed.iter().any(|id| report
                .scenarios
                .iter()
                .any(|s| s.id == *id && s.code == code)),
            "{code}"
        );
    }
    assert_eq!(report.summary.failed, failed.len());
    assert!(!report.passed());
}

/// The suite's verdict per scenario, to compare two runs.
fn verdicts(report: &Report) -> Vec<(String, Outcome, Vec<String>)> {
    report
        .scenarios
        .iter()
        .map(|s| {
            let findings = s.findings.iter().map(ToString::to_string).collect();
            (s.id.clone(), s.outcome, findings)
        })
        .collect()
}

async fn run_with(
    profile: conformance_runner::profile::Profile,
    target: String,
    run_id: &str,
) -> Report {
    let options = Options {
        target: Some(target),
        run_id: Some(run_id.into()),
        ..Options::new(
            profile,
            conformance_runner::embedded_scenarios().expect("the scenarios load"),
        )
    };
    let plan = Plan::new(options, &|_| None).expect("the profile is complete");
    plan.run(&Progress::quiet(), std::future::pending())
        .await
        .expect("the mock answers")
}

fn assert_all_passed(report: &Report, what: &str) {
    let failed: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.outcome != Outcome::Passed)
        .map(|s| format!("{}: {:?}", s.id, s.findings))
        .collect();
    assert!(failed.is_empty(), "{what}: {failed:#?}");
    assert!(
        report.passed(),
        "{what}: uncovered {:?}",
        report.summary.uncovered
    );
    assert!(report.warnings.is_empty(), "{what}: {:#?}", report.warnings);
}

#[tokio::test]
async fn the_suite_passes_twice_against_one_mock_without_a_reset() {
    let mock = spawn_mock().await;
    let first = run_with(
        conformance_runner::profile::Profile::mock(),
        mock.base_url(),
        "first",
    )
    .await;
    let second = run_with(
        conformance_runner::profile::Profile::mock(),
        mock.base_url(),
        "second",
    )
    .await;
    assert_all_passed(&first, "first run");
    assert_all_passed(&second, "second run, no /admin/reset between");
    assert_eq!(verdicts(&first), verdicts(&second));
}

/// Every workspace, user, email, id, token and password of the seed renamed
/// (`fixtures/seeds/renamed.toml`) and named in a profile
/// (`fixtures/profiles/renamed.toml`): the full suite passes, twice, so no
/// scenario depends on a literal name of the default seed.
#[tokio::test]
async fn the_suite_passes_in_a_renamed_world_twice() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("fixtures/seeds/renamed.toml"))
        .expect("the renamed seed");
    let profile_text = std::fs::read_to_string(root.join("fixtures/profiles/renamed.toml"))
        .expect("the renamed profile");
    for name in [
        "acme",
        "pwonly",
        "dormant",
        "fortress",
        "vault",
        "throttled",
        "usr_",
        "tok_",
        "\"scim_",
        "su_",
        "correct horse",
    ] {
        assert!(!text.contains(name), "the renamed seed still says {name}");
        let values: String = profile_text
            .lines()
            .filter(|l| !l.contains("{{"))
            .filter_map(|l| l.split_once('=').map(|(_, v)| v))
            .collect();
        assert!(
            !values.contains(name),
            "the renamed profile still says {name}"
        );
    }
    let mut seed = mock_server::seed::Seed::parse(&text).expect("the renamed seed parses");
    seed.trusted_proxies.push("127.0.0.1/32".into());
    let mock = mock_server::spawn(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        mock_server::Config::new(seed),
    )
    .await
    .expect("the mock starts");
    let profile =
        conformance_runner::profile::Profile::load(&root.join("fixtures/profiles/renamed.toml"))
            .expect("the renamed profile loads");
    let first = run_with(profile.clone(), mock.base_url(), "renamed1").await;
    let second = run_with(profile.clone(), mock.base_url(), "renamed2").await;
    assert_all_passed(&first, "renamed world");
    assert_all_passed(&second, "renamed world, second run");
    assert_eq!(verdicts(&first), verdicts(&second));

    // The default seed's names are nowhere in the renamed world: the mock
    // profile against it fails (its tokens and workspaces do not exist).
    let default_names = run_with(
        conformance_runner::profile::Profile::mock(),
        mock.base_url(),
        "defaultnames",
    )
    .await;
    assert!(
        default_names.summary.failed > 50,
        "{}",
        default_names.closing_line()
    );
}

// Live snapshots, drift and target-to-target diffs (issue 11).

/// The runner's command line, as the binary parses it.
#[derive(clap::Parser)]
struct RunnerCli {
    #[command(flatten)]
    args: conformance_runner::cli::run::Args,
}

/// Runs the runner's command line in-process: exit code, report, stdout.
async fn runner(args: &[&str]) -> (u8, Report, String) {
    use clap::Parser as _;
    use conformance_runner::cli;
    let argv = [
        "conformance-runner",
        "--progress",
        "none",
        "--run-id",
        "snap",
    ];
    let parsed = RunnerCli::try_parse_from(argv.iter().chain(args)).expect("valid flags");
    let mut out = Vec::new();
    let result = cli::run::run(&parsed.args, &mut out, std::future::pending()).await;
    let code = cli::exit::exit_code(&result);
    match result {
        Ok(cli::exit::Done::Ran(report)) => (code, *report, String::from_utf8(out).unwrap()),
        other => panic!("the run did not produce a report: {other:?}"),
    }
}

/// Leaves every response as the mock sent it.
fn unchanged(_: &mut u16, _: &mut http::HeaderMap, _: &mut Vec<u8>) {}

/// The three drifts: WORKSPACE_INACTIVE's `detail` rewritten, a member
/// added to ACCOUNT_DISABLED, `x-error-code` dropped from Forbidden. None of
/// them breaks the contract.
fn drifting(_: &mut u16, headers: &mut http::HeaderMap, body: &mut Vec<u8>) {
    let code = headers
        .get("x-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut edit = |f: &dyn Fn(&mut Value)| {
        let mut json: Value = serde_json::from_slice(body).unwrap();
        f(&mut json);
        *body = serde_json::to_vec(&json).unwrap();
    };
    match code.as_str() {
        "WORKSPACE_INACTIVE" => edit(&|j| j["detail"] = json!("This workspace is on hold.")),
        "ACCOUNT_DISABLED" => edit(&|j| j["support_url"] = json!("https://support.example/")),
        "Forbidden" => {
            headers.remove("x-error-code");
        }
        _ => {}
    }
}

/// A fresh mock behind a proxy applying `rewrite`; the mock's public URL is
/// the proxy's, so its `type` links name the target the runner sees.
async fn mock_behind(rewrite: Rewrite) -> (mock_server::Running, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = mock_server::Config::embedded().expect("the seed loads");
    config.seed.trusted_proxies.push("127.0.0.1/32".into());
    config.public_url = Some(url.clone());
    let mock = mock_server::spawn(SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .expect("the mock starts");
    proxy(listener, mock.base_url(), rewrite);
    (mock, url)
}

fn snapshot_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn files_ending(dir: &std::path::Path, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_from_the_mock_show_exactly_the_three_drifts_and_accepting_them_cleans_the_next_run()
 {
    let dir = snapshot_dir("snapshots");
    let d = dir.to_str().unwrap();

    // Record every response of a fresh mock.
    let (_mock, target) = mock_behind(unchanged).await;
    let (code, report, _) =
        runner(&["--target", &target, "--snapshots", d, "--accept-snapshots"]).await;
    assert_eq!(code, 0, "{:?}", report.summary);
    let recorded = files_ending(&dir, ".snap");
    assert_eq!(recorded.len(), report.scenarios.len());
    assert!(files_ending(&dir, ".snap.new").is_empty());

    // Another fresh mock: normalisation makes every snapshot match.
    let (_mock, target) = mock_behind(unchanged).await;
    let (code, report, _) = runner(&["--target", &target, "--snapshots", d]).await;
    let drifted: Vec<_> = report
        .scenarios
        .iter()
        .filter(|s| !s.drift.is_empty())
        .collect();
    assert!(drifted.is_empty(), "{drifted:#?}");
    assert_eq!(code, 0);

    // Behind the drifting proxy: exactly the three drifts, each as drift
    // with a diff, and no contract failure.
    let (_mock, target) = mock_behind(drifting).await;
    let (code, report, human) = runner(&["--target", &target, "--snapshots", d]).await;
    assert_eq!(report.summary.failed, 0, "{human}");
    assert_eq!(code, 1, "drift fails the run by default");
    let mut expected_pending = Vec::new();
    for s in &report.scenarios {
        let shown: Vec<String> = s.drift.iter().map(|d| format!("{d}\n{}", d.diff)).collect();
        let expected: Vec<String> = match s.code.as_str() {
            "WORKSPACE_INACTIVE" => {
                let recorded = std::fs::read_to_string(
                    dir.join(conformance_runner::snapshot::file_name(&s.id)),
                )
                .unwrap();
                let recorded = conformance_runner::snapshot::parse("r", &recorded).unwrap();
                vec![format!(
                    "detail changed at body:/detail\n- {}\n+ \"This workspace is on hold.\"",
                    recorded["body"]["detail"]
                )]
            }
            "ACCOUNT_DISABLED" => vec![
                "member `support_url` added at body:/support_url\n+ \"https://support.example/\""
                    .into(),
            ],
            "Forbidden" => {
                vec!["header `x-error-code` removed at header:x-error-code\n- \"Forbidden\"".into()]
            }
            _ => vec![],
        };
        assert_eq!(shown, expected, "{}", s.id);
        if !expected.is_empty() {
            expected_pending.push(format!(
                "{}.new",
                conformance_runner::snapshot::file_name(&s.id)
            ));
        }
    }
    expected_pending.sort();
    assert!(expected_pending.len() >= 3);
    assert_eq!(report.summary.drifted, expected_pending.len());
    assert!(
        human.contains("drift: detail changed at body:/detail"),
        "{human}"
    );

    // Pending snapshots are insta's: insta itself reads them.
    assert_eq!(files_ending(&dir, ".snap.new"), expected_pending);
    for name in &expected_pending {
        let snap = insta::Snapshot::from_file(&dir.join(name)).expect("insta reads it");
        assert_eq!(snap.metadata().source(), Some("conformance-runner"));
    }

    // Accept as `cargo insta accept` does (rename), and the next run is clean.
    for name in &expected_pending {
        std::fs::rename(dir.join(name), dir.join(name.trim_end_matches(".new"))).unwrap();
    }
    let (_mock, target) = mock_behind(drifting).await;
    let (code, report, human) = runner(&["--target", &target, "--snapshots", d]).await;
    assert_eq!(report.summary.drifted, 0, "{human}");
    assert_eq!(code, 0);

    // No credential of the profile reaches a snapshot.
    let profile = conformance_runner::profile::Profile::mock();
    for name in files_ending(&dir, ".snap") {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        for credential in profile.credentials.values() {
            if let conformance_runner::profile::Credential::Literal(secret) = credential {
                assert!(!text.contains(secret.as_str()), "{name} holds {secret}");
            }
        }
        assert!(!text.contains("whsec_"), "{name} holds a webhook secret");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `conformance-runner diff` as the binary parses it.
#[derive(clap::Parser)]
struct DiffCli {
    #[command(flatten)]
    args: conformance_runner::cli::diff::DiffArgs,
}

async fn diff(left: &str, right: &str) -> (u8, conformance_runner::cli::diff::DiffReport) {
    use clap::Parser as _;
    use conformance_runner::cli::diff;
    let argv = ["diff", "--left", left, "--right", right, "--format", "json"];
    let parsed = DiffCli::try_parse_from(argv).expect("valid flags");
    let mut out = Vec::new();
    let result = diff::run(&parsed.args, &mut out, std::future::pending).await;
    let code = conformance_runner::cli::exit::exit_code(&result);
    let report = result.expect("both targets answer");
    let printed: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(printed, serde_json::to_value(&report).unwrap());
    (code, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_diff_of_the_mock_against_itself_is_empty_and_against_the_rewriting_proxy_lists_exactly_the_changed_scenarios()
 {
    let (_a, left) = mock_behind(unchanged).await;
    let (_b, right) = mock_behind(unchanged).await;
    let (code, report) = diff(&left, &right).await;
    assert!(report.differences.is_empty(), "{}", report.to_human());
    assert!(report.summary.agree);
    assert!(report.summary.compared > 100, "{:?}", report.summary);
    assert_eq!(code, 0);

    let (_c, left) = mock_behind(unchanged).await;
    let (_d, right) = mock_behind(drifting).await;
    let (code, report) = diff(&left, &right).await;
    assert_eq!(code, 1);
    assert!(!report.summary.agree);
    let scenarios = conformance_runner::embedded_scenarios().unwrap();
    let changed = ["WORKSPACE_INACTIVE", "ACCOUNT_DISABLED", "Forbidden"];
    let mut expected: Vec<(String, String)> = scenarios
        .iter()
        .filter(|s| changed.contains(&s.code.name()))
        .map(|s| (s.code.name().to_owned(), s.id.clone()))
        .collect();
    let order = |code: &str| changed.iter().position(|c| *c == code);
    expected.sort_by(|a, b| (order(&a.0), &a.1).cmp(&(order(&b.0), &b.1)));
    let mut listed: Vec<(String, String)> = report
        .differences
        .iter()
        .map(|d| (d.code.clone(), d.id.clone()))
        .collect();
    listed.sort_by(|a, b| (order(&a.0), &a.1).cmp(&(order(&b.0), &b.1)));
    assert_eq!(listed, expected, "{}", report.to_human());
    for d in &report.differences {
        let titles: Vec<&str> = d.changes.iter().map(|c| c.title.as_str()).collect();
        let want = match d.code.as_str() {
            "WORKSPACE_INACTIVE" => "detail changed",
            "ACCOUNT_DISABLED" => "member `support_url` added",
            _ => "header `x-error-code` removed",
        };
        assert_eq!(titles, [want], "{}", d.id);
    }
    // The summary table has a row per code, the differing ones counted.
    let forbidden = report.codes.iter().find(|r| r.code == "Forbidden").unwrap();
    assert_eq!(forbidden.differ, forbidden.compared);
    let not_found = report.codes.iter().find(|r| r.code == "NotFound").unwrap();
    assert_eq!((not_found.differ, not_found.same), (0, not_found.compared));
    let human = report.to_human();
    assert!(human.contains("\nForbidden\n  forbidden/"), "{human}");
    assert!(human.ends_with(": the targets differ\n"), "{human}");
}

/// A fault seen only through a setup step: against a mock that trusts no
/// proxy, the control step of a forwarding scenario fails. The finding names
/// the step as sent (its variables filled in) and, as the server hint, the
/// rule the scenario proves.
#[tokio::test]
async fn a_failed_control_step_is_named_as_sent_and_says_the_rule_it_prepares() {
    let mock = mock_server::spawn(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        mock_server::Config::embedded().expect("the seed loads"),
    )
    .await
    .expect("the mock starts");
    let scenarios: Vec<_> = conformance_runner::embedded_scenarios()
        .unwrap()
        .into_iter()
        .filter(|s| s.id == "ip-blocked/ipv6-forwarded-for")
        .collect();
    let description = scenarios[0].description.clone();
    let options = Options {
        target: Some(mock.base_url()),
        run_id: Some("control".into()),
        partial: true,
        ..Options::new(conformance_runner::profile::Profile::mock(), scenarios)
    };
    let plan = Plan::new(options, &|_| None).expect("the mock profile is complete");
    let report = plan
        .run(&Progress::quiet(), std::future::pending())
        .await
        .expect("the mock answers");
    let s = &report.scenarios[0];
    assert_eq!(s.outcome, Outcome::Failed);
    let f = &s.findings[0];
    assert_eq!(f.rule, "setup");
    assert_eq!(f.at, "setup:GET /v1/workspaces/fortress/users");
    assert_eq!(
        f.hint.as_deref(),
        Some(
            format!(
                "{description} The setup step `GET /v1/workspaces/fortress/users` prepares or controls this and must succeed first."
            )
            .as_str()
        )
    );
    assert!(f.actual.starts_with("403 "), "{}", f.actual);
    assert_eq!(s.steps[0].name, "GET /v1/workspaces/fortress/users");
}

/// Another world passes: the mock started from a seed whose IP allowlist,
/// AAGUID allowlist, spent step-up token's purpose, session quota and
/// circuit threshold differ from the default's, and a profile written by `init` with its empty
/// fixtures filled in from that world (as a staging owner fills them from
/// `init` and `requirements`), credentials from variables named by role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_world_passes_with_a_profile_written_by_init() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let default_seed = std::fs::read_to_string(root.join("fixtures/seed.toml")).unwrap();
    let mut text = default_seed.clone();
    for (from, to) in [
        (
            r#"allowlist = ["203.0.113.0/24", "2001:db8::/32"]"#,
            r#"allowlist = ["192.0.2.0/24", "2001:db8:1::/48"]"#,
        ),
        // Another model allowed besides the one the runner's attestation
        // material is for (that one must stay: its certificate names it).
        (
            r#"aaguid_allowlist = ["ee882879-721c-4913-9775-3dfcce97072a"]"#,
            r#"aaguid_allowlist = ["ee882879-721c-4913-9775-3dfcce97072a", "c5ef55ff-ad9a-4b9f-b580-adebafe026d0"]"#,
        ),
        (
            "session_rate_limit = { quota = 3, window_secs = 60 }",
            "session_rate_limit = { quota = 5, window_secs = 60 }",
        ),
        ("circuit_threshold = 3", "circuit_threshold = 4"),
        (
            "token = \"su_acme_spent\"\nuser = \"usr_acme_admin\"\npurpose = \"change_network_policy\"",
            "token = \"su_acme_spent\"\nuser = \"usr_acme_admin\"\npurpose = \"rotate_webhook_secret\"",
        ),
    ] {
        assert!(text.contains(from), "the default seed says {from}");
        text = text.replace(from, to);
    }
    let mut seed = mock_server::seed::Seed::parse(&text).expect("the other world parses");
    seed.trusted_proxies.push("127.0.0.1/32".into());
    let mock = mock_server::spawn(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        mock_server::Config::new(seed),
    )
    .await
    .expect("the mock starts");
    let base = mock.base_url();

    // What `init` writes, filled in.
    let mut profile_text = conformance_runner::cli::init::profile_text(&base).unwrap();
    let mock_profile = conformance_runner::profile::Profile::mock();
    let mut world = mock_profile.fixtures.clone();
    for (name, value) in [
        ("fortress_allowed_ipv4", "192.0.2.10"),
        ("fortress_blocked_ipv4", "203.0.113.5"),
        ("fortress_allowed_ipv6", "2001:db8:1::7"),
        ("fortress_blocked_ipv6", "2001:db8:2::7"),
        ("spent_step_up_purpose", "rotate_webhook_secret"),
        ("throttled_session_quota", "5"),
        ("webhook_circuit_threshold", "4"),
    ] {
        world.insert(name.into(), value.into());
    }
    let empty = profile_text.matches(" = \"\"\n").count();
    for (name, value) in &world {
        profile_text = profile_text.replace(
            &format!("\n{name} = \"\"\n"),
            &format!("\n{name} = {value:?}\n"),
        );
    }
    assert!(
        empty > 10 && !profile_text.contains(" = \"\"\n"),
        "{profile_text}"
    );
    profile_text = profile_text
        .replace(
            "docs_base = \"https://docs.platform.example\"",
            &format!("docs_base = \"{base}\""),
        )
        .replace(
            "# [network]\n# untrusted_source = \"0.0.0.0\"",
            "[network]\nuntrusted_source = \"127.0.0.2\"",
        )
        .replace(
            "# [webauthn]\n# rp_id = \"platform.example\"\n# origin = \"https://platform.example\"",
            "[webauthn]\nrp_id = \"platform.example\"\norigin = \"https://platform.example\"",
        );
    let profile =
        conformance_runner::profile::Profile::parse(&conformance_runner::scenario::SourceFile {
            name: "other-world.toml".into(),
            text: profile_text,
        })
        .expect("the filled-in profile loads");
    // The credentials' values, by the variables init named by role.
    let mut env = std::collections::BTreeMap::new();
    for (name, source) in &profile.credentials {
        let conformance_runner::profile::Credential::Env(var) = source else {
            panic!("{name} is not read from the environment");
        };
        let Some(conformance_runner::profile::Credential::Literal(value)) =
            mock_profile.credentials.get(name)
        else {
            panic!("the mock has no {name}");
        };
        env.insert(var.clone(), value.clone());
    }
    let options = Options {
        target: Some(base.clone()),
        run_id: Some("otherworld".into()),
        ..Options::new(
            profile,
            conformance_runner::embedded_scenarios().expect("the scenarios load"),
        )
    };
    let plan = Plan::new(options, &|var| env.get(var).cloned()).expect("the profile is complete");
    let report = plan
        .run(&Progress::quiet(), std::future::pending())
        .await
        .expect("the mock answers");
    assert_all_passed(&report, "another world");
    assert!(
        report
            .scenarios
            .iter()
            .all(|s| s.outcome == Outcome::Passed),
        "nothing skipped"
    );

    // The default world's counts are wrong here: the mock profile fails
    // exactly the scenarios that count to them.
    let default_counts = run_with(mock_profile, base, "defaultcounts").await;
    let mut failed: Vec<&str> = default_counts
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Failed)
        .map(|s| s.id.as_str())
        .collect();
    failed.sort_unstable();
    assert!(
        failed.contains(&"rate-limited/session-quota")
            && failed.contains(&"circuit-open/after-consecutive-failures"),
        "{failed:?}"
    );
}
