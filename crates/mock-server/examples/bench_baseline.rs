//! The baseline of `cargo xtask bench-mock`: a bare axum server that answers each
//! `(method, path)` with bytes captured from the mock (status, headers, body) and does
//! nothing else, so the benchmark can print the mock's throughput as a ratio of what axum
//! itself reaches on the same machine in the same run.
//!
//! Usage: `bench_baseline RESPONSES.json` where the file is a JSON array of
//! `{"method", "path", "status", "headers": [[name, value], ...], "body"}`. Prints
//! `listening on http://ADDR` on stdout, like the mock.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::Deserialize;

#[derive(Deserialize)]
struct Canned {
    method: String,
    path: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

/// A handful of entries: a linear scan without allocation is the cheapest look-up.
type Table = Arc<Vec<(Method, String, StatusCode, HeaderMap, Bytes)>>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::args()
        .nth(1)
        .ok_or("usage: bench_baseline RESPONSES.json")?;
    let canned: Vec<Canned> = serde_json::from_slice(&std::fs::read(&file)?)?;
    let mut table = Vec::new();
    for c in canned {
        let mut headers = HeaderMap::new();
        for (name, value) in &c.headers {
            headers.append(
                HeaderName::from_bytes(name.as_bytes())?,
                HeaderValue::from_str(value)?,
            );
        }
        table.push((
            Method::from_bytes(c.method.as_bytes())?,
            c.path,
            StatusCode::from_u16(c.status)?,
            headers,
            Bytes::from(c.body),
        ));
    }
    let table: Table = Arc::new(table);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        println!("listening on http://{}", listener.local_addr()?);
        let app = Router::new().fallback(canned_response).with_state(table);
        axum::serve(listener, app).await?;
        Ok(())
    })
}

/// The captured response for the request's method and path, or an empty 404.
async fn canned_response(State(table): State<Table>, request: Request) -> Response {
    let found = table
        .iter()
        .find(|(method, path, ..)| method == request.method() && path == request.uri().path());
    match found {
        Some((_, _, status, headers, body)) => {
            (*status, headers.clone(), body.clone()).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
