//! Connections over raw loopback sockets: the header-read and idle timeouts, the connection
//! limit, hyper's rejections as problem bodies, and graceful shutdown of a request in flight.
//!
//! Timeouts are configured small (1 s); nothing asserts how fast anything happens, only what
//! happens. Reads have a generous bound so a regression fails instead of hanging.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use catalog::Code;
use catalog::Envelope;
use http::{HeaderMap, HeaderName, HeaderValue};
use mock_server::seed::Seed;
use mock_server::{Config, Connections, Running};
use response_schema::{Expect, Response, check};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::PASSWORD;

/// Long enough that only a broken server reaches it.
const PATIENCE: Duration = Duration::from_secs(30);

async fn mock(connections: Connections) -> Running {
    let mut config = Config::new(Seed::embedded().unwrap());
    config.connections = connections;
    crate::support::loopback(config).await
}

fn limits(header_read: u64, idle: u64, max: usize) -> Connections {
    Connections {
        header_read_timeout: Duration::from_secs(header_read),
        idle_timeout: Duration::from_secs(idle),
        max_connections: max,
    }
}

/// How a connection ended for a reader.
#[derive(Debug, PartialEq)]
enum End {
    /// The server closed it (read returned 0).
    Eof,
    /// It was reset.
    Reset,
}

/// Reads until the server closes; returns what was read and how it ended.
async fn read_to_close(stream: &mut TcpStream) -> (Vec<u8>, End) {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await {
            Err(_) => panic!("the server kept the connection open; read so far: {out:?}"),
            Ok(Ok(0)) => return (out, End::Eof),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(_)) => return (out, End::Reset),
        }
    }
}

/// One parsed response.
struct Parsed {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// Reads one response with a `content-length` from a keep-alive connection.
async fn read_response(stream: &mut TcpStream) -> Parsed {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(parsed) = parse(&data) {
            return parsed;
        }
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut buf))
            .await
            .expect("no response")
            .unwrap();
        assert!(n > 0, "closed before a full response: {data:?}");
        data.extend_from_slice(&buf[..n]);
    }
}

/// A complete response at the start of `data`, if there is one.
fn parse(data: &[u8]) -> Option<Parsed> {
    let end = data.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&data[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().unwrap();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            HeaderValue::from_str(value.trim()).unwrap(),
        );
    }
    let length: usize = headers.get("content-length")?.to_str().ok()?.parse().ok()?;
    let body = data.get(end + 4..end + 4 + length)?.to_vec();
    Some(Parsed {
        status,
        headers,
        body,
    })
}

/// Asserts a rejection: exactly 400, the envelope's media type, ValidationError, a conforming
/// body whose request id is the header's, and the connection closed.
fn assert_rejected(raw: &[u8], envelope: Envelope) {
    let parsed = parse(raw).unwrap_or_else(|| panic!("no full response: {raw:?}"));
    assert_eq!(parsed.status, 400, "{raw:?}");
    let media = match envelope {
        Envelope::Problem => "application/problem+json",
        Envelope::Scim => "application/scim+json",
    };
    assert_eq!(parsed.headers["content-type"], media);
    assert_eq!(parsed.headers["x-error-code"], "ValidationError");
    assert_eq!(parsed.headers["connection"], "close");
    let violations = check(
        &Response {
            status: parsed.status,
            headers: &parsed.headers,
            body: &parsed.body,
        },
        &Expect::code(Code::ValidationError).in_envelope(envelope),
    );
    assert!(violations.is_empty(), "{violations:?}");
    if envelope == Envelope::Problem {
        let json: serde_json::Value = serde_json::from_slice(&parsed.body).unwrap();
        assert_eq!(json["code"], "ValidationError");
        assert_eq!(
            json["request_id"],
            parsed.headers["x-request-id"].to_str().unwrap()
        );
    }
}

#[tokio::test]
async fn a_slowloris_head_is_cut_off_after_the_header_read_timeout() {
    let running = mock(limits(1, 60, 100)).await;
    let mut stream = TcpStream::connect(running.addr()).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(b"GET /openapi.json HTTP/1.1\r\n")
        .await
        .unwrap();
    // One header byte every 100 ms: never idle, never a complete head.
    let mut sent = 0;
    let closed_on_write = loop {
        assert!(
            started.elapsed() < PATIENCE,
            "still open after {sent} bytes"
        );
        if stream.write_all(b"x").await.is_err() {
            break true;
        }
        sent += 1;
        let mut byte = [0u8; 1];
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut byte)).await {
            Err(_) => {}
            Ok(Ok(0)) | Ok(Err(_)) => break false,
            Ok(Ok(_)) => panic!("the server answered a head that never ended"),
        }
    };
    // Not long before the timeout (the server's clock starts a little later and counts
    // whole milliseconds), and not because of the (60 s) idle timeout.
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(started.elapsed() < Duration::from_secs(60));
    if !closed_on_write {
        let (rest, _) = read_to_close(&mut stream).await;
        assert!(rest.is_empty(), "{rest:?}");
    }
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let running = mock(limits(60, 1, 100)).await;
    let mut stream = TcpStream::connect(running.addr()).await.unwrap();
    stream
        .write_all(b"GET /openapi.json HTTP/1.1\r\nhost: mock\r\n\r\n")
        .await
        .unwrap();
    let first = read_response(&mut stream).await;
    assert_eq!(first.status, 200);
    assert!(!first.headers.contains_key("connection"), "kept alive");
    let idle_since = Instant::now();
    // Nothing more arrives, and the server closes it cleanly.
    let (rest, end) = read_to_close(&mut stream).await;
    assert_eq!((rest.as_slice(), end), (&b""[..], End::Eof));
    // The server's idle clock started at its last write, a little before this one.
    assert!(idle_since.elapsed() >= Duration::from_millis(900));
    assert!(idle_since.elapsed() < Duration::from_secs(60));

    // A connection that never sends anything is idle from the start.
    let mut silent = TcpStream::connect(running.addr()).await.unwrap();
    let (rest, end) = read_to_close(&mut silent).await;
    assert_eq!((rest.as_slice(), end), (&b""[..], End::Eof));
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn at_the_limit_the_longest_idle_connection_makes_room_for_a_new_client() {
    const MAX: usize = 4;
    let running = mock(limits(60, 60, MAX)).await;
    let addr = running.addr();
    // Twice the limit of idle connections, opened one after another.
    let mut idle = Vec::new();
    for _ in 0..2 * MAX {
        idle.push(TcpStream::connect(addr).await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A fresh client is still answered.
    let mut fresh = TcpStream::connect(addr).await.unwrap();
    fresh
        .write_all(b"GET /openapi.json HTTP/1.1\r\nhost: mock\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let (raw, end) = read_to_close(&mut fresh).await;
    assert_eq!(end, End::Eof);
    assert_eq!(parse(&raw).map(|p| p.status), Some(200));
    // The oldest idle connection was the one closed for it ...
    let (rest, end) = read_to_close(&mut idle[0]).await;
    assert_eq!((rest.as_slice(), end), (&b""[..], End::Eof));
    // ... and the newest is still served.
    let newest = idle.last_mut().unwrap();
    newest
        .write_all(b"GET /openapi.json HTTP/1.1\r\nhost: mock\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(newest).await.status, 200);
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_malformed_request_line_gets_a_validation_error_body() {
    let running = mock(Connections::default()).await;
    for request in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /openapi.json HTTP/1.1\r\nno colon here\r\n\r\n",
        b"G\x01T / HTTP/1.1\r\n\r\n",
    ] {
        let mut stream = TcpStream::connect(running.addr()).await.unwrap();
        stream.write_all(request).await.unwrap();
        let (raw, end) = read_to_close(&mut stream).await;
        assert_eq!(end, End::Eof, "{request:?}");
        assert_rejected(&raw, Envelope::Problem);
    }
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_100_kb_header_gets_a_validation_error_body() {
    let running = mock(Connections::default()).await;
    let mut stream = TcpStream::connect(running.addr()).await.unwrap();
    let mut request = b"GET /openapi.json HTTP/1.1\r\nhost: mock\r\nx-big: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 100 * 1024));
    request.extend_from_slice(b"\r\n\r\n");
    stream.write_all(&request).await.unwrap();
    let (raw, end) = read_to_close(&mut stream).await;
    assert_eq!(end, End::Eof);
    assert_rejected(&raw, Envelope::Problem);
    let body = String::from_utf8_lossy(&raw);
    assert!(body.contains("larger than 65536 bytes"), "{body}");
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_rejection_under_scim_is_in_the_scim_envelope() {
    let running = mock(Connections::default()).await;
    let mut stream = TcpStream::connect(running.addr()).await.unwrap();
    stream
        .write_all(b"GET /scim/v2/Users HTTP/1.1\r\nno colon here\r\n\r\n")
        .await
        .unwrap();
    let (raw, _) = read_to_close(&mut stream).await;
    assert_rejected(&raw, Envelope::Scim);
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_finishes_a_request_in_flight() {
    // Short timeouts: shutdown must still wait for the request, not for them.
    let running = mock(limits(1, 1, 100)).await;
    let addr = running.addr();
    let body = format!(
        r#"{{"method":"password","email":"admin@pwonly.example","password":"{PASSWORD}"}}"#
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /v1/workspaces/pwonly/sessions HTTP/1.1\r\nhost: mock\r\n\
                 content-type: application/json\r\ncontent-length: {}\r\n\
                 expect: 100-continue\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // hyper sends 100 Continue when the handler starts reading the body: it is in flight.
    let mut continue_line = [0u8; 25];
    tokio::time::timeout(PATIENCE, stream.read_exact(&mut continue_line))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&continue_line, b"HTTP/1.1 100 Continue\r\n\r\n");
    let (half, rest) = body.split_at(body.len() / 2);
    stream.write_all(half.as_bytes()).await.unwrap();

    let shutdown = tokio::spawn(running.shutdown());
    // The listener goes first: new connections are refused.
    let started = Instant::now();
    while TcpStream::connect(addr).await.is_ok() {
        assert!(started.elapsed() < PATIENCE, "still accepting");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Past both timeouts, the request is still being waited for.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!shutdown.is_finished());
    stream.write_all(rest.as_bytes()).await.unwrap();
    let (raw, end) = read_to_close(&mut stream).await;
    assert_eq!(end, End::Eof);
    let parsed = parse(&raw).unwrap_or_else(|| panic!("{raw:?}"));
    assert_eq!(
        parsed.status,
        201,
        "{}",
        String::from_utf8_lossy(&parsed.body)
    );
    assert_eq!(parsed.headers["connection"], "close");
    tokio::time::timeout(PATIENCE, shutdown)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// The binary's flags reach the config: a 1 s idle timeout closes a silent connection, and
/// zero is refused as a usage error.
#[tokio::test]
async fn the_binary_takes_the_connection_flags() {
    use std::process::{Command, Stdio};

    let refused = Command::new(env!("CARGO_BIN_EXE_mock-server"))
        .args(["--listen", "127.0.0.1:0", "--idle-timeout", "0"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--idle-timeout"), "{stderr}");

    let (child, base) = crate::server::start_binary(&[
        "--listen",
        "127.0.0.1:0",
        "--idle-timeout",
        "1",
        "--header-read-timeout",
        "60",
        "--max-connections",
        "8",
    ]);
    let addr: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let (rest, end) = read_to_close(&mut silent).await;
    drop(child);
    assert_eq!((rest.as_slice(), end), (&b""[..], End::Eof));
}
