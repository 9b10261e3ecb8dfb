//! The server over real loopback HTTP: in-process with `spawn`, and the binary as README
//! starts it (prints its address, serves, shuts down gracefully on SIGTERM).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use catalog::Code;
use mock_server::Config;
use mock_server::seed::Seed;
use response_schema::{Expect, Response, check};

async fn get(url: &str) -> (u16, http::HeaderMap, Vec<u8>) {
    let resp = reqwest::get(url).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

/// Checks a 401 against the contract with the type links at `base`.
fn assert_conforming_unauthorized(base: &str, status: u16, headers: &http::HeaderMap, body: &[u8]) {
    let violations = check(
        &Response {
            status,
            headers,
            body,
        },
        &Expect {
            docs_base: Some(base.to_owned()),
            ..Expect::code(Code::Unauthorized)
        },
    );
    assert!(violations.is_empty(), "{violations:?}");
}

#[tokio::test]
async fn spawned_mock_serves_its_own_links() {
    let running = crate::support::loopback(Config::new(Seed::embedded().unwrap())).await;
    let base = running.base_url();

    let (status, _, body) = get(&format!("{base}/openapi.json")).await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["servers"][0]["url"], base.as_str());

    let (status, headers, body) = get(&format!("{base}/v1/workspaces/acme/users")).await;
    assert_conforming_unauthorized(&base, status, &headers, &body);
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let type_url = problem["type"].as_str().unwrap();
    assert_eq!(type_url, format!("{base}/docs/errors#unauthorized"));
    let (status, _, page) = get(type_url).await;
    assert_eq!(status, 200);
    assert!(
        String::from_utf8(page)
            .unwrap()
            .contains("id=\"unauthorized\"")
    );

    // Reset over real loopback.
    let resp = reqwest::Client::new()
        .post(format!("{base}/admin/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn public_url_sets_the_type_base() {
    let mut config = Config::new(Seed::embedded().unwrap());
    config.public_url = Some("https://mock.example/".into());
    let running = crate::support::loopback(config).await;
    let (status, headers, body) =
        get(&format!("{}/v1/workspaces/acme/users", running.base_url())).await;
    assert_conforming_unauthorized("https://mock.example", status, &headers, &body);
    running.shutdown().await.unwrap();
}

/// Kills the child on drop so a failing assertion does not leave it running.
pub(crate) struct Child(pub(crate) std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary with `args` (and `RUST_LOG=warn`) and returns it with the base URL
/// from its first line, `mock-server listening on <base>`.
pub(crate) fn start_binary(args: &[&str]) -> (Child, String) {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_mock-server"))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("mock-server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, base)
}

#[cfg(unix)]
#[tokio::test]
async fn the_binary_prints_its_address_serves_and_stops_on_sigterm() {
    let (child, base) = start_binary(&["--listen", "127.0.0.1:0"]);

    let (status, headers, body) = get(&format!("{base}/openapi.json")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let (status, headers, body) = get(&format!("{base}/v1/workspaces/acme/users")).await;
    assert_conforming_unauthorized(&base, status, &headers, &body);

    let mut child = child;
    let pid = child.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let exit = child.0.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// `--listen localhost:0` resolves the name instead of refusing it.
#[cfg(unix)]
#[tokio::test]
async fn the_binary_listens_on_a_host_name() {
    let (_child, base) = start_binary(&["--listen", "localhost:0"]);
    let (status, headers, body) = get(&format!("{base}/v1/workspaces/acme/users")).await;
    assert_conforming_unauthorized(&base, status, &headers, &body);
}

/// Runs the binary with `args` until it exits; returns its exit code and stderr.
fn run_to_exit(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mock-server"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_flags_and_seeds_get_one_clear_message() {
    let (code, stderr) =
        run_to_exit(&["--listen", "127.0.0.1:0", "--trusted-proxy", "10.0.0.0/33"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("bad --trusted-proxy"), "{stderr}");
    assert!(stderr.contains("10.0.0.0/33"), "{stderr}");
    assert!(!stderr.contains("seed"), "{stderr}");

    let (code, stderr) = run_to_exit(&["--listen", "nonsense"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("is not HOST:PORT"), "{stderr}");

    let dir = std::env::temp_dir().join(format!("mock-bad-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.toml");
    std::fs::write(&seed, "[workspaces.a]\nname = 1\n").unwrap();
    let (code, stderr) =
        run_to_exit(&["--listen", "127.0.0.1:0", "--seed", seed.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(seed.to_str().unwrap()), "{stderr}");
    assert_eq!(stderr.matches("invalid type").count(), 1, "{stderr}");
}

#[test]
fn bad_scim_and_webhook_sections_name_the_file_and_line() {
    let dir = std::env::temp_dir().join(format!("mock-bad-sections-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "scim.toml",
            "[workspaces.a]\nname = \"A\"\n\n[scim]\ntokens = [\n  { token = \"scim_a\", workspace = \"b\" },\n]\n",
            "seed is inconsistent: line 6: SCIM token scim_a names unknown workspace \"b\"",
        ),
        (
            "webhooks.toml",
            "[workspaces.a]\nname = \"A\"\n\n[webhooks]\ncircuit_cooldown_secs = 0\n",
            "seed is not valid: TOML parse error at line 5, column 25",
        ),
    ];
    for (name, text, message) in cases {
        let seed = dir.join(name);
        std::fs::write(&seed, text).unwrap();
        let (code, stderr) =
            run_to_exit(&["--listen", "127.0.0.1:0", "--seed", seed.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{stderr}");
        let file = format!("bad seed {}", seed.display());
        assert!(stderr.contains(&file), "{stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.trim() == message).count(),
            1,
            "{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
