//! A small HTTP/1.1 load generator for the benchmarks.
//!
//! Hand-written over tokio's `TcpStream` rather than a client library: on two
//! cores the load generator competes with the server it measures, so it must
//! cost as little as possible per request (one pre-rendered request, one
//! read of the response head and body, keep-alive connections).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request to send over and over.
#[derive(Clone, Debug)]
pub struct Target {
    /// A label for the report.
    pub name: &'static str,
    /// The method token written into the request line (`GET`).
    pub method: String,
    /// The request target written into the request line: the path and any
    /// query, unencoded.
    pub path: String,
    /// The header fields besides `host`, `content-type` and `content-length`.
    pub headers: Vec<(String, String)>,
    /// The JSON body, if any.
    pub json: Option<String>,
    /// The request, rendered as HTTP/1.1 bytes.
    pub request: Vec<u8>,
    /// The status every response must have.
    pub status: u16,
}

impl Target {
    /// Renders a keep-alive request with an optional JSON body.
    pub fn new(
        name: &'static str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        json: Option<&str>,
        status: u16,
    ) -> Target {
        let mut request = format!("{method} {path} HTTP/1.1\r\nhost: bench\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = json.unwrap_or_default();
        if json.is_some() {
            request.push_str("content-type: application/json\r\n");
        }
        request.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
        Target {
            name,
            method: method.to_owned(),
            path: path.to_owned(),
            headers: headers
                .iter()
                .map(|&(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            json: json.map(str::to_owned),
            request: request.into_bytes(),
            status,
        }
    }
}

/// What a run (or several, merged) measured.
#[derive(Debug, Default)]
pub struct Stats {
    /// Responses whose status was not the expected one.
    pub unexpected: u64,
    /// Wall time of the run(s).
    pub elapsed: Duration,
    /// Every response's latency, sorted.
    latencies: Vec<Duration>,
}

impl Stats {
    /// Requests per second.
    pub fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// Responses received.
    pub fn requests(&self) -> u64 {
        self.latencies.len() as u64
    }

    /// Adds another run's figures.
    pub fn merge(&mut self, other: Stats) {
        self.unexpected += other.unexpected;
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
        self.latencies.sort_unstable();
    }

    /// The latency at quantile `q` (0.0 to 1.0).
    pub fn percentile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            Duration::ZERO
        } else {
            self.latencies[((self.latencies.len() - 1) as f64 * q).round() as usize]
        }
    }
}

/// Sends `target` once and returns the status and body.
pub async fn once(addr: SocketAddr, target: &Target) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&target.request).await?;
    let mut buf = vec![0u8; 64 * 1024];
    let (status, _, body) = read_response_body(&mut stream, &mut buf).await?;
    Ok((status, body))
}

/// One keep-alive connection for sequential requests.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to `addr`.
    pub async fn open(addr: SocketAddr) -> Result<Conn> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: vec![0u8; 64 * 1024],
        })
    }

    /// Sends `target` and returns the status and (up to 64 KiB of) the body.
    pub async fn send(&mut self, target: &Target) -> Result<(u16, String)> {
        self.stream.write_all(&target.request).await?;
        let (status, _, body) = read_response_body(&mut self.stream, &mut self.buf).await?;
        Ok((status, body))
    }
}

/// Drives `connections` keep-alive connections against `addr` for `duration`.
pub async fn run(
    addr: SocketAddr,
    target: &Target,
    connections: usize,
    duration: Duration,
) -> Result<Stats> {
    let deadline = Instant::now() + duration;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            connection(addr, &target, deadline).await
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut unexpected = 0;
    for task in tasks {
        let (lat, bad) = task.await.context("load task panicked")??;
        latencies.extend(lat);
        unexpected += bad;
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    Ok(Stats {
        unexpected,
        elapsed,
        latencies,
    })
}

/// Sends `target` once and returns the status, the header fields (without those the server
/// sets per connection or per response: `date`, `content-length`, `connection`,
/// `transfer-encoding`) and the body: what a server answering the same bytes must send.
pub async fn capture(
    addr: SocketAddr,
    target: &Target,
) -> Result<(u16, Vec<(String, String)>, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&target.request).await?;
    let mut buf = vec![0u8; 64 * 1024];
    let (status, head, body) = read_response_body(&mut stream, &mut buf).await?;
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            let name = name.trim().to_ascii_lowercase();
            let skip = ["date", "content-length", "connection", "transfer-encoding"];
            (!skip.contains(&name.as_str())).then(|| (name, value.trim().to_owned()))
        })
        .collect();
    Ok((status, headers, body))
}

/// Sends `target` once and returns the response head (status line and header fields, as
/// sent) and the body, for comparing two servers' bytes.
pub async fn capture_raw(addr: SocketAddr, target: &Target) -> Result<(String, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&target.request).await?;
    let mut buf = vec![0u8; 64 * 1024];
    let (_, head, body) = read_response_body(&mut stream, &mut buf).await?;
    Ok((head, body))
}

async fn connection(
    addr: SocketAddr,
    target: &Target,
    deadline: Instant,
) -> Result<(Vec<Duration>, u64)> {
    let mut stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let mut latencies = Vec::with_capacity(4096);
    let mut unexpected = 0;
    let mut buf = vec![0u8; 16 * 1024];
    while Instant::now() < deadline {
        let sent = Instant::now();
        stream.write_all(&target.request).await?;
        let status = read_response(&mut stream, &mut buf).await?;
        latencies.push(sent.elapsed());
        if status != target.status {
            unexpected += 1;
        }
    }
    Ok((latencies, unexpected))
}

/// Reads one response and returns its status.
async fn read_response(stream: &mut TcpStream, buf: &mut [u8]) -> Result<u16> {
    read_response_body(stream, buf)
        .await
        .map(|(status, _, _)| status)
}

/// Reads one response (head plus `content-length` body); returns the status, the head
/// and as much of the body as fits the buffer.
async fn read_response_body(
    stream: &mut TcpStream,
    buf: &mut [u8],
) -> Result<(u16, String, String)> {
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            bail!("response head larger than {} bytes", buf.len());
        }
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            bail!("server closed the connection");
        }
        filled += n;
        let Some(head_end) = find(&buf[..filled], b"\r\n\r\n") else {
            continue;
        };
        let head = std::str::from_utf8(&buf[..head_end])
            .context("response head is not text")?
            .to_owned();
        let status: u16 = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .context("no status in the response head")?;
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .context("the mock always sends content-length")?;
        let body_start = head_end + 4;
        let mut body: Vec<u8> = buf[body_start.min(filled)..filled].to_vec();
        let mut remaining = (body_start + length).saturating_sub(filled);
        while remaining > 0 {
            let chunk = remaining.min(buf.len());
            let n = stream.read(&mut buf[..chunk]).await?;
            if n == 0 {
                bail!("server closed the connection mid-body");
            }
            if body.len() < 64 * 1024 {
                body.extend_from_slice(&buf[..n]);
            }
            remaining -= n;
        }
        return Ok((status, head, String::from_utf8_lossy(&body).into_owned()));
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
