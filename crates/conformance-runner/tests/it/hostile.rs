//! A hostile target: a raw HTTP server that does each row of issue 9's
//! table (echoes secrets as keys, header names, inside long texts and
//! encoded; huge, endless and 20 MB bodies; control characters and workflow
//! commands; a path-climbing id; duplicate keys; endless 429s), and the
//! runner binary run against it with every output format. Asserted: no
//! secret or 8-character piece of one in any output, peak RSS and report size
//! bounded, the right finding for each row, no raw control character or
//! workflow command in standard output or the step summary. Other tests
//! send SIGTERM mid-run and check that everything created was deleted, stop
//! a run at its `--deadline`, refuse credentials over plain HTTP, and reach
//! a TLS server whose certificate comes from a private CA (trusted through
//! `SSL_CERT_FILE` or the profile's `ca_file`, refused otherwise).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::{fixture, scratch};

/// Planted credentials, of the form `SECRET_<NAME>_<16 hex>`.
const ADMIN: &str = "SECRET_ADMIN_3f9a1c0b7d2e4f68";
const MEMBER: &str = "SECRET_MEMBER_a1b2c3d4e5f60718";
const SCIM: &str = "SECRET_SCIM_0f1e2d3c4b5a6978";
const SECRETS: [&str; 3] = [ADMIN, MEMBER, SCIM];

const GIB: usize = 1 << 30;

/// Every request line the server saw.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A parsed request head.
struct Head {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

async fn read_head(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> Option<Head> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut byte).await.ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Head {
        method,
        path,
        headers,
    })
}

fn problem(detail: &str) -> String {
    serde_json::json!({
        "type": "https://docs.platform.example/docs/errors#not-found",
        "title": "Not found",
        "status": 404,
        "code": "NotFound",
        "request_id": "req_1",
        "detail": detail,
    })
    .to_string()
}

async fn respond(
    stream: &mut (impl tokio::io::AsyncWrite + Unpin),
    status: &str,
    headers: &[(String, String)],
    body: &str,
) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\nx-request-id: req_1\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
}

/// Writes `total` bytes (or forever) of a JSON-looking body in 64 KiB chunks.
async fn stream_body(stream: &mut TcpStream, total: Option<usize>, announce: bool) {
    let mut head = String::from(
        "HTTP/1.1 404 Not Found\r\ncontent-type: application/problem+json\r\nconnection: close\r\n",
    );
    match (total, announce) {
        (Some(n), true) => head.push_str(&format!("content-length: {n}\r\n\r\n")),
        _ => head.push_str("transfer-encoding: chunked\r\n\r\n"),
    }
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while total.is_none_or(|t| sent < t) {
        let n = total.map_or(chunk.len(), |t| chunk.len().min(t - sent));
        let ok = if announce {
            stream.write_all(&chunk[..n]).await
        } else {
            let mut framed = format!("{n:x}\r\n").into_bytes();
            framed.extend_from_slice(&chunk[..n]);
            framed.extend_from_slice(b"\r\n");
            stream.write_all(&framed).await
        };
        if ok.is_err() {
            return;
        }
        sent += n;
    }
    if !announce {
        let _ = stream.write_all(b"0\r\n\r\n").await;
    }
}

async fn hostile(mut stream: TcpStream, seen: Seen) {
    let Some(head) = read_head(&mut stream).await else {
        return;
    };
    seen.0
        .lock()
        .unwrap()
        .push(format!("{} {}", head.method, head.path));
    let sent: Vec<String> = head
        .headers
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "authorization" | "x-member" | "x-scim"))
        .map(|(_, v)| v.trim_start_matches("Bearer ").to_owned())
        .collect();
    let problem_json = (
        "content-type".to_owned(),
        "application/problem+json".to_owned(),
    );
    match (head.method.as_str(), head.path.as_str()) {
        (_, "/healthz") => respond(&mut stream, "200 OK", &[], "ok").await,
        (_, "/v1/echo-keys") => {
            let mut body: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&problem("echo")).unwrap();
            let mut headers = vec![problem_json];
            for (name, value) in &head.headers {
                body.insert(value.clone(), serde_json::json!({ name.clone(): value }));
            }
            for s in &sent {
                headers.push((s.clone(), "1".to_owned()));
                headers.push(("x-echo".to_owned(), s.clone()));
            }
            let body = serde_json::Value::Object(body).to_string();
            respond(&mut stream, "404 Not Found", &headers, &body).await;
        }
        (_, "/v1/long-text") => {
            let pad = "x".repeat(290);
            let detail = format!("{pad} {} {pad}", sent.join(" "));
            // The code is long too, so every excerpt length cuts a secret.
            let body = problem(&detail).replace(
                "\"code\":\"NotFound\"",
                &format!("\"code\":\"{}{}\"", "N".repeat(30), sent[0]),
            );
            let headers = [problem_json, ("x-long".to_owned(), detail)];
            respond(&mut stream, "404 Not Found", &headers, &body).await;
        }
        (_, "/v1/encoded") => {
            let b64 = base64::engine::general_purpose::STANDARD;
            let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let mut parts = Vec::new();
            for s in &sent {
                parts.push(b64.encode(format!("user:{s}")));
                parts.push(url.encode(s));
                parts.push(s.bytes().map(|b| format!("%{b:02X}")).collect());
                parts.push(s.bytes().map(|b| format!("{b:02x}")).collect());
                parts.push(s.to_lowercase());
            }
            let body = problem(&parts.join(" "));
            respond(&mut stream, "404 Not Found", &[problem_json], &body).await;
        }
        (_, "/v1/huge-length") => stream_body(&mut stream, Some(GIB), true).await,
        (_, "/v1/huge-chunked") => stream_body(&mut stream, Some(GIB), false).await,
        (_, "/v1/twenty-mb") => stream_body(&mut stream, Some(20 << 20), false).await,
        (_, "/v1/endless") => stream_body(&mut stream, None, false).await,
        (_, "/v1/markup") => {
            let body = format!(
                "not json\n::error file=README.md,line=1::pwned\n::add-mask::everything\n\x1b[2J\x1b]0;title\x07\r::warning::{}\n",
                sent[0]
            );
            let headers = [("content-type".to_owned(), "text/plain".to_owned())];
            respond(&mut stream, "404 Not Found", &headers, &body).await;
        }
        (_, "/v1/duplicate-keys") => {
            let body = problem("dup").replace(
                "\"code\":\"NotFound\"",
                "\"code\":\"BOGUS\",\"code\":\"NotFound\"",
            );
            respond(&mut stream, "404 Not Found", &[problem_json], &body).await;
        }
        ("POST", "/v1/things") => {
            let id = "../../../pwonly/users/usr_pwonly_admin?x=";
            let body = serde_json::json!({ "id": id }).to_string();
            respond(&mut stream, "201 Created", &[], &body).await;
        }
        (_, "/v1/throttled") => {
            let headers = [("retry-after".to_owned(), "1".to_owned())];
            respond(&mut stream, "429 Too Many Requests", &headers, "{}").await;
        }
        _ => {
            respond(
                &mut stream,
                "404 Not Found",
                &[problem_json],
                &problem("no"),
            )
            .await
        }
    }
}

async fn serve_hostile(seen: Seen) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(hostile(stream, seen.clone()));
        }
    });
    addr
}

/// Runs `command`, polling its peak RSS (`VmHWM`, kB) until it exits.
fn run_measured(mut command: Command) -> (std::process::Output, u64) {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let status_file = format!("/proc/{}/status", child.id());
    let peak = Arc::new(Mutex::new(0u64));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(text) = std::fs::read_to_string(&status_file)
                    && let Some(kb) = text
                        .lines()
                        .find_map(|l| l.strip_prefix("VmHWM:"))
                        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                {
                    let mut p = peak.lock().unwrap();
                    *p = (*p).max(kb);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let output = child.wait_with_output().expect("the binary exits");
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    poller.join().unwrap();
    let kb = *peak.lock().unwrap();
    (output, kb)
}

/// Every 8-character piece of a secret found in `text`, in any letter case.
/// Pieces wholly inside the planted form `SECRET_<NAME>_` are not the
/// secret's value, so each piece holds at least one of its hex digits.
fn leaks(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    for s in SECRETS {
        let s = s.to_ascii_lowercase();
        let form = s.rfind('_').unwrap() + 1;
        for i in form.saturating_sub(7)..=s.len() - 8 {
            let piece = &s[i..i + 8];
            if lower.contains(piece) {
                found.push(piece.to_owned());
            }
        }
    }
    found
}

#[tokio::test]
async fn a_hostile_target_gets_every_secret_redacted_bounded_memory_and_inert_text() {
    let seen = Seen::default();
    let addr = serve_hostile(seen.clone()).await;
    let dir = scratch("hostile");
    let (json, junit, summary) = (dir.join("r.json"), dir.join("r.xml"), dir.join("s.md"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_conformance-runner"));
    command
        .arg("--target")
        .arg(format!("http://{addr}"))
        .arg("--profile")
        .arg(fixture("hostile/profile.toml"))
        .arg("--scenarios")
        .arg(fixture("hostile/scenarios"))
        .args(["--progress", "lines", "--github", "--timeout", "30"])
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .env("CR_HOSTILE_ADMIN", ADMIN)
        .env("CR_HOSTILE_MEMBER", MEMBER)
        .env("CR_HOSTILE_SCIM", SCIM)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("CONFORMANCE_TARGET");
    let started = Instant::now();
    let (output, peak_kb) = tokio::task::spawn_blocking(move || run_measured(command))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    let json_text = std::fs::read_to_string(&json).unwrap();
    let outputs = [
        ("stdout", stdout.clone()),
        ("stderr", stderr),
        ("json", json_text.clone()),
        ("junit", std::fs::read_to_string(&junit).unwrap()),
        ("summary", std::fs::read_to_string(&summary).unwrap()),
    ];
    for (name, text) in &outputs {
        assert_eq!(leaks(text), Vec::<String>::new(), "{name} leaks:\n{text}");
    }

    // Bounded: the figures are printed for the record (`--nocapture`).
    let report_bytes = json_text.len();
    eprintln!(
        "hostile target: peak RSS {} MB, JSON report {} kB, run {:.1} s",
        peak_kb / 1024,
        report_bytes / 1024,
        elapsed.as_secs_f64()
    );
    assert!(peak_kb < 200 * 1024, "peak RSS {peak_kb} kB");
    assert!(report_bytes < 10 << 20, "report {report_bytes} bytes");

    // Target text is data: no raw control character, and no line that a
    // body starts, in standard output or the step summary.
    for (name, text) in [("stdout", &outputs[0].1), ("summary", &outputs[4].1)] {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{name} holds a raw control character"
        );
        for line in text.lines() {
            let line = line.trim_start();
            assert!(
                !line.starts_with("::add-mask")
                    && !line.starts_with("::warning")
                    && !line.starts_with("::error file=README.md"),
                "{name}: {line}"
            );
        }
    }

    // The right finding for each row.
    let report: serde_json::Value = serde_json::from_str(&json_text).unwrap();
    let findings = |id: &str| -> Vec<(String, String, String)> {
        let s = report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == format!("not-found/hostile-{id}"))
            .unwrap_or_else(|| panic!("no scenario {id}"));
        s["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_owned(),
                    f["at"].as_str().unwrap().to_owned(),
                    f["actual"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let too_large = |status: u16| {
        vec![(
            "transport".to_owned(),
            "request".to_owned(),
            format!(
                "status {status}, body larger than 1048576 bytes (the profile's `[limits] max_body_bytes`)"
            ),
        )]
    };
    for id in ["huge-length", "huge-chunked", "twenty-mb", "endless"] {
        assert_eq!(findings(id), too_large(404), "{id}");
    }
    assert_eq!(
        findings("duplicate-keys"),
        [(
            "duplicate-member".to_owned(),
            "body:/code".to_owned(),
            "the name more than once: a client cannot know which value wins".to_owned()
        )]
    );
    let traversal = findings("traversal");
    assert_eq!(traversal.len(), 1);
    assert_eq!(
        (traversal[0].0.as_str(), traversal[0].1.as_str()),
        ("setup", "request")
    );
    assert!(
        traversal[0]
            .2
            .contains("would change the request path's structure"),
        "{}",
        traversal[0].2
    );
    // Neither the asserted request nor the cleanup climbed out of the path.
    assert!(
        !seen.lines().iter().any(|l| l.contains("pwonly")),
        "{:?}",
        seen.lines()
    );
    // Retry-After waiting stopped at the profile's budget, with a warning.
    assert!(
        report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("Retry-After budget (2 s")),
        "{}",
        report["warnings"]
    );
    // The echoed secrets are replaced, the report still says what happened.
    let echo = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "not-found/hostile-echo-keys")
        .unwrap();
    assert_eq!(
        echo["response"]["headers"]["x-echo"],
        "[REDACTED], [REDACTED], [REDACTED]"
    );
    assert!(echo["response"]["body"]["[REDACTED]"].is_object());
}

/// Whether every thing the shutdown server created was deleted.
#[derive(Clone, Default)]
struct Things(
    Arc<Mutex<BTreeMap<String, bool>>>,
    Arc<std::sync::atomic::AtomicUsize>,
    /// Whether DELETE hangs (a cleanup that never finishes).
    Arc<std::sync::atomic::AtomicBool>,
);

async fn serve_things(things: Things) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            n += 1;
            let things = things.clone();
            tokio::spawn(async move {
                let Some(head) = read_head(&mut stream).await else {
                    return;
                };
                match (head.method.as_str(), head.path.as_str()) {
                    (_, "/healthz") => respond(&mut stream, "200 OK", &[], "ok").await,
                    ("POST", "/v1/things") => {
                        things.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        // Slow, so the signal arrives while creations are in flight.
                        tokio::time::sleep(Duration::from_millis(800)).await;
                        let id = format!("thing_{n}");
                        things.0.lock().unwrap().insert(id.clone(), false);
                        let body = serde_json::json!({ "id": id }).to_string();
                        respond(&mut stream, "201 Created", &[], &body).await;
                    }
                    ("DELETE", _) if things.2.load(std::sync::atomic::Ordering::SeqCst) => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    ("DELETE", path) => {
                        let id = path.trim_start_matches("/v1/things/").to_owned();
                        things.0.lock().unwrap().insert(id, true);
                        respond(&mut stream, "204 No Content", &[], "").await;
                    }
                    // The asserted request never answers.
                    _ => tokio::time::sleep(Duration::from_secs(3600)).await,
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn sigterm_mid_run_cleans_up_everything_even_creations_in_flight() {
    let things = Things::default();
    let addr = serve_things(things.clone()).await;
    let dir = scratch("sigterm");
    let json = dir.join("r.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_conformance-runner"));
    command
        .arg("--target")
        .arg(format!("http://{addr}"))
        .arg("--profile")
        .arg(fixture("hostile/profile.toml"))
        .arg("--scenarios")
        .arg(fixture("hostile/shutdown"))
        .args(["--progress", "none", "--jobs", "4", "--timeout", "60"])
        .arg("--json")
        .arg(&json)
        .env_remove("CONFORMANCE_TARGET");
    terminate_with_four_creations_in_flight(command, &things).await;
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["summary"]["skipped"], 6);
}

#[tokio::test]
async fn sigterm_mid_diff_cleans_up_everything_and_exits_130() {
    let things = Things::default();
    let addr = serve_things(things.clone()).await;
    let target = format!("http://{addr}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_conformance-runner"));
    command
        .arg("diff")
        .args(["--left", &target, "--right", &target])
        .arg("--left-profile")
        .arg(fixture("hostile/profile.toml"))
        .arg("--scenarios")
        .arg(fixture("hostile/shutdown"))
        .args(["--jobs", "4", "--timeout", "60"]);
    let output = terminate_with_four_creations_in_flight(command, &things).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("the diff is partial"), "{stdout}");
}

/// Spawns `command` with the hostile profile's credentials, sends it SIGTERM once four
/// creations (800 ms each) are in flight, and asserts that it exits 130 having deleted all
/// four.
async fn terminate_with_four_creations_in_flight(
    mut command: Command,
    things: &Things,
) -> std::process::Output {
    command
        .env("CR_HOSTILE_ADMIN", ADMIN)
        .env("CR_HOSTILE_MEMBER", MEMBER)
        .env("CR_HOSTILE_SCIM", SCIM)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("the binary runs");
    while things.1.load(std::sync::atomic::Ordering::SeqCst) < 4 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: cleaning up"), "{stderr}");
    let things = things.0.lock().unwrap().clone();
    assert_eq!(things.len(), 4, "{things:?}");
    assert!(things.values().all(|deleted| *deleted), "{things:?}");
    output
}

fn plan_for(
    target: &str,
    transport: &str,
) -> Result<conformance_runner::Plan, conformance_runner::ConfigError> {
    use conformance_runner::profile::Profile;
    use conformance_runner::scenario::SourceFile;
    let profile = Profile::parse(&SourceFile {
        name: "p.toml".into(),
        text: format!("name = \"p\"\n[credentials]\nadmin = {{ env = \"A\" }}\n{transport}"),
    })
    .expect("valid profile");
    let scenarios = conformance_runner::scenario::load_dir(&fixture("hostile/shutdown")).unwrap();
    let options = conformance_runner::Options {
        target: Some(target.into()),
        ..conformance_runner::Options::new(profile, scenarios)
    };
    conformance_runner::Plan::new(options, &|_| Some(ADMIN.to_owned()))
}

#[test]
fn credentials_to_a_plain_http_host_need_the_profile_to_say_so_and_warn() {
    let err = plan_for("http://staging.example", "").unwrap_err();
    assert_eq!(
        err.to_string(),
        "target http://staging.example/ is plain http:// and not loopback: credentials would travel unencrypted; use https://, or set `[transport] credentials_over_http = true` in p.toml if you mean it"
    );
    let plan = plan_for(
        "http://staging.example",
        "[transport]\ncredentials_over_http = true\n",
    )
    .unwrap();
    assert_eq!(
        plan.warnings(),
        [
            "credentials are sent unencrypted to http://staging.example/ (plain http://, allowed by `[transport] credentials_over_http` in p.toml)"
        ]
    );
    for fine in [
        "https://staging.example",
        "http://127.0.0.1:1",
        "http://localhost:1",
    ] {
        assert!(plan_for(fine, "").unwrap().warnings().is_empty(), "{fine}");
    }
}

#[tokio::test]
async fn the_deadline_stops_the_run_and_cleanup_still_runs() {
    let things = Things::default();
    let addr = serve_things(things.clone()).await;
    let profile_text = "name = \"p\"\n[credentials]\nadmin = { env = \"A\" }\n";
    let profile =
        conformance_runner::profile::Profile::parse(&conformance_runner::scenario::SourceFile {
            name: "p.toml".into(),
            text: profile_text.into(),
        })
        .unwrap();
    let options = conformance_runner::Options {
        target: Some(format!("http://{addr}")),
        deadline: Some(Duration::from_secs(2)),
        timeout: Duration::from_secs(60),
        ..conformance_runner::Options::new(
            profile,
            conformance_runner::scenario::load_dir(&fixture("hostile/shutdown")).unwrap(),
        )
    };
    let plan = conformance_runner::Plan::new(options, &|_| Some(ADMIN.to_owned())).unwrap();
    let report = plan
        .run(
            &conformance_runner::report::progress::Progress::quiet(),
            std::future::pending(),
        )
        .await
        .unwrap();
    assert!(report.interrupted);
    assert_eq!(report.summary.skipped, 6);
    assert!(
        report.warnings[0].starts_with("the run's deadline (2 s, --deadline) passed"),
        "{:?}",
        report.warnings
    );
    let things = things.0.lock().unwrap().clone();
    assert!(
        !things.is_empty() && things.values().all(|d| *d),
        "{things:?}"
    );
}

/// A TLS server on 127.0.0.1 whose certificate a fresh private CA signed;
/// returns its address and the CA's PEM.
async fn serve_private_tls() -> (SocketAddr, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf_params.subject_alt_names = vec![SanType::IpAddress([127, 0, 0, 1].into())];
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();

    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Some(head) = read_head(&mut tls).await else {
                    return;
                };
                let ct = (
                    "content-type".to_owned(),
                    "application/problem+json".to_owned(),
                );
                if head.path == "/healthz" {
                    respond(&mut tls, "200 OK", &[], "ok").await;
                } else {
                    respond(&mut tls, "404 Not Found", &[ct], &problem("no such thing")).await;
                }
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, ca.pem())
}

#[tokio::test]
async fn a_target_with_a_private_ca_passes_with_ssl_cert_file_or_the_profile_ca() {
    let (addr, ca_pem) = serve_private_tls().await;
    let dir = scratch("tls");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let profile_with_ca = dir.join("profile.toml");
    std::fs::write(
        &profile_with_ca,
        "name = \"tls\"\n[transport]\nca_file = \"ca.pem\"\n",
    )
    .unwrap();
    let profile_plain = dir.join("plain.toml");
    std::fs::write(&profile_plain, "name = \"tls\"\n").unwrap();
    let run = |profile: &std::path::Path, cert_file: Option<&std::path::Path>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_conformance-runner"));
        command
            .arg("--target")
            .arg(format!("https://{addr}"))
            .arg("--profile")
            .arg(profile)
            .arg("--scenarios")
            .arg(fixture("hostile/tls"))
            .args(["--progress", "none", "--filter", "id=not-found/over-tls"])
            .env_remove("CONFORMANCE_TARGET")
            .env_remove("SSL_CERT_DIR");
        match cert_file {
            Some(f) => command.env("SSL_CERT_FILE", f),
            None => command.env_remove("SSL_CERT_FILE"),
        };
        command
    };
    let cases = [
        ("SSL_CERT_FILE", run(&profile_plain, Some(&ca_file)), 0),
        ("the profile's ca_file", run(&profile_with_ca, None), 0),
        ("no trust", run(&profile_plain, None), 3),
    ];
    for (name, mut command, code) in cases {
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .unwrap()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{name}: {stdout}\n{stderr}"
        );
        if code == 3 {
            assert!(stderr.contains("certificate"), "{name}: {stderr}");
        } else {
            assert!(stdout.ends_with("1 passed, 0 failed\n"), "{name}: {stdout}");
        }
    }
}

#[tokio::test]
async fn a_second_signal_aborts_at_once_and_names_what_was_left() {
    let things = Things::default();
    things.2.store(true, std::sync::atomic::Ordering::SeqCst);
    let addr = serve_things(things.clone()).await;
    let mut command = Command::new(env!("CARGO_BIN_EXE_conformance-runner"));
    command
        .arg("--target")
        .arg(format!("http://{addr}"))
        .arg("--profile")
        .arg(fixture("hostile/profile.toml"))
        .arg("--scenarios")
        .arg(fixture("hostile/shutdown"))
        .args(["--progress", "none", "--jobs", "2", "--timeout", "60"])
        .env("CR_HOSTILE_ADMIN", ADMIN)
        .env_remove("CONFORMANCE_TARGET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("the binary runs");
    let pid = child.id().to_string();
    while things.1.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let term = || Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(term().success());
    // Both creations finish (800 ms), then their cleanups hang.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let started = Instant::now();
    assert!(term().success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    // Well before the 20 s cleanup budget of the profile.
    assert!(started.elapsed() < Duration::from_secs(10), "{stderr}");
    assert!(
        stderr.contains("aborted: cleanup did not run for:"),
        "{stderr}"
    );
    let left: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("  not-found/shutdown-"))
        .collect();
    assert_eq!(left.len(), 2, "{stderr}");
    for line in left {
        assert!(
            line.contains(", step `cleanup` in flight, captured thing=thing_"),
            "{line}"
        );
    }
}
