//! Serving the app: on a listener the caller bound ([`serve`]), or in the background on an
//! address of the caller's choice ([`spawn`], for `cargo xtask conformance` and tests that
//! start the mock in-process on `127.0.0.1:0`). Connections are accepted and timed by
//! [`crate::conn`], under the config's [`Connections`].

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::app;
use crate::conn::{Connections, serve_connections};
use crate::state::{AppState, Config, Error};

/// Serves the mock on `listener` until `shutdown` completes, then finishes the requests in
/// flight. A config without a public URL gets `http://<bound address>`.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let connections = config.connections.clone();
    let state = state_for(&listener, config)?;
    serve_state_with(listener, state, connections, shutdown).await
}

/// Serves an existing state under `connections`' timeouts and limit.
pub(crate) async fn serve_state_with(
    listener: TcpListener,
    state: AppState,
    connections: Connections,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let public_url = state.public_url().to_owned();
    serve_connections(listener, app(state), &public_url, connections, shutdown).await?;
    Ok(())
}

/// A mock running in the background; dropping it shuts it down too.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), Error>>>,
}

/// Binds `listen` (use `127.0.0.1:0` for a free port) and serves the mock in a background task.
pub async fn spawn(listen: SocketAddr, config: Config) -> Result<Running, Error> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let connections = config.connections.clone();
    let state = state_for(&listener, config)?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_state_with(listener, state, connections, async move {
        // A dropped sender means the `Running` is gone: shut down as well.
        let _ = rx.await;
    }));
    Ok(Running {
        addr,
        shutdown: Some(tx),
        task: Some(task),
    })
}

impl Running {
    /// The address the listener was bound to, with the actual port when
    /// `listen` asked for port 0.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL requests go to, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, waits for requests in flight, and returns how serving
    /// ended.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task
                .await
                .map_err(|e| Error::Io(std::io::Error::other(e)))?,
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn state_for(listener: &TcpListener, mut config: Config) -> Result<AppState, Error> {
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{}", listener.local_addr()?));
    }
    AppState::new(config)
}
