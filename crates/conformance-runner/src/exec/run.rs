//! A run of a [`Plan`]: the HTTP client, the reachability probe, the
//! webhook receiver, then every runnable scenario through
//! [`schedule::run_all`], assembled into one
//! redacted [`Report`].

use std::future::Future;
use std::sync::Arc;

use crate::exec::receiver;
use crate::exec::{schedule, shared, steps};
use crate::model::profile::{Profile, is_loopback};
use crate::model::scenario::Scenario;
use crate::plan::{Plan, UNTRUSTED_PEER_TAG, uses_receiver};
use crate::report::progress::Progress;
use crate::report::{self, Report};

/// Why a run could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The target did not answer (exit code 3).
    #[error("target {url} is unreachable: {reason}")]
    Unreachable {
        /// The probed URL.
        url: String,
        /// The innermost cause in the client error's source chain (e.g.
        /// "Connection refused (os error 111)"), the most specific one.
        reason: String,
    },
    /// The target answered, but not as the expected API does (exit code 3).
    #[error("target {url} is not the expected server: {found} (expected {expected})")]
    WrongServer {
        /// The probed URL.
        url: String,
        /// What the profile's `[reachability]` expects.
        expected: String,
        /// What answered instead.
        found: String,
    },
    /// The webhook receiver could not listen (exit code 2).
    #[error("failed to start the webhook receiver on {addr}: {source}")]
    Receiver {
        /// The profile's `receiver_bind` address that could not be bound.
        addr: std::net::SocketAddr,
        /// The bind (or local-address) error from the operating system.
        source: std::io::Error,
    },
    /// The HTTP client could not be built (exit code 2).
    #[error("failed to build the HTTP client: {0}")]
    Client(String),
}

impl Plan {
    /// The HTTP client's settings: timeout, no redirects, the profile's CA.
    fn client_builder(&self) -> Result<reqwest::ClientBuilder, RunError> {
        let mut builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("conformance-runner/", env!("CARGO_PKG_VERSION")));
        if is_loopback(&self.target) {
            // A proxy from the environment must not capture loopback traffic.
            builder = builder.no_proxy();
        }
        // Every request goes to the target, so a plain-http target never needs
        // TLS: its client loads no root store (13-18 ms of a run, measured).
        // For an https target the system store (and `SSL_CERT_FILE`) is
        // trusted through reqwest's native roots; a profile may add its own
        // CA. There is no way to turn verification off.
        if self.target.scheme() == "http" {
            builder = builder.tls_built_in_root_certs(false);
        } else if let Some(path) = &self.profile.transport.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                RunError::Client(format!("failed to read CA file {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                RunError::Client(format!(
                    "CA file {} holds no PEM certificate: {e}",
                    path.display()
                ))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        Ok(builder)
    }

    /// Runs the selected scenarios until done or until `interrupt` completes
    /// (cleanups still run), and returns the redacted report.
    pub async fn run(
        &self,
        progress: &Progress,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Report, RunError> {
        let started = std::time::Instant::now();
        let started_at = std::time::SystemTime::now();
        let client = self
            .client_builder()?
            .build()
            .map_err(|e| RunError::Client(e.to_string()))?;
        // The asserted request of an `untrusted-peer` scenario leaves from
        // the profile's untrusted source address (the plan skips those
        // scenarios when there is none, or it cannot be bound).
        let untrusted_client = match self.profile.untrusted_source {
            Some(ip)
                if self
                    .selected
                    .iter()
                    .any(|s| s.tags.iter().any(|t| t == UNTRUSTED_PEER_TAG)) =>
            {
                Some(
                    self.client_builder()?
                        .local_address(ip)
                        .build()
                        .map_err(|e| RunError::Client(e.to_string()))?,
                )
            }
            _ => None,
        };
        let base = self.target.as_str().trim_end_matches('/').to_owned();
        let token = self
            .profile
            .reachability
            .as_ref()
            .and_then(|r| r.credential.as_ref())
            .and_then(|name| self.credentials.get(name));
        let probed = std::time::Instant::now();
        probe(
            &client,
            &base,
            &self.probe_path,
            &self.profile,
            token.map(String::as_str),
        )
        .await?;
        let probe_rtt = probed.elapsed();

        let runnable: Vec<(usize, Arc<Scenario>)> = self
            .selected
            .iter()
            .enumerate()
            .filter(|(_, s)| !self.skipped.contains_key(&s.id))
            .map(|(i, s)| (i, s.clone()))
            .collect();
        let receiver = if runnable.iter().any(|(_, s)| uses_receiver(s)) {
            let addr = self.profile.receiver_bind;
            Some(
                receiver::Receiver::start(addr, self.profile.receiver_public_url.as_deref())
                    .await
                    .map_err(|source| RunError::Receiver { addr, source })?,
            )
        } else {
            None
        };
        let mut shared = shared::Shared::new(
            client,
            base.clone(),
            self.profile.clone(),
            self.credentials.clone(),
            receiver,
            self.run_id.clone(),
            self.redactor.clone(),
        );
        shared.max_fail = self.max_fail;
        shared.untrusted_client = untrusted_client;
        let shared = Arc::new(shared);
        progress.start(runnable.len());
        let deadline_passed = std::sync::atomic::AtomicBool::new(false);
        let stop = async {
            match self.deadline {
                None => interrupt.await,
                Some(deadline) => tokio::select! {
                    () = interrupt => {}
                    () = tokio::time::sleep(deadline) => {
                        deadline_passed.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                },
            }
        };
        let mut outcomes = schedule::run_all(
            shared.clone(),
            runnable,
            self.jobs,
            probe_rtt,
            progress,
            stop,
        )
        .await;
        progress.finish();
        let mut warnings = self.warnings.clone();
        if deadline_passed.load(std::sync::atomic::Ordering::Relaxed) {
            warnings.push(format!(
                "the run's deadline ({} s, --deadline) passed: cleanup ran, remaining scenarios skipped",
                self.deadline.unwrap_or_default().as_secs()
            ));
        }
        warnings.append(&mut outcomes.warnings);

        let mut reports = outcomes.reports;
        for s in &self.selected {
            if let Some(reason) = self.skipped.get(&s.id) {
                let mut r = steps::skeleton(s, report::Outcome::Skipped);
                r.skip_reason = Some(reason.clone());
                reports.push(r);
            }
        }
        let mut report = Report::new(
            self.run_id.clone(),
            base,
            self.profile.name.clone(),
            self.coverage_enforced,
            reports,
            warnings,
            outcomes.interrupted,
        );
        report.started_at = report::timing::rfc3339(started_at);
        report.wall_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        report.hostname = report::timing::hostname();
        let mut redactor = shared
            .redactor
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        redactor.compact_learned();
        report.redact(&redactor);
        Ok(report)
    }
}

/// Whether the target answers at `path` (the plan's rendered
/// `[reachability] path`), and answers as the profile's `[reachability]` says
/// the expected API does. Without that section any HTTP answer from
/// `/healthz` will do.
async fn probe(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    profile: &Profile,
    token: Option<&str>,
) -> Result<(), RunError> {
    let url = format!("{base}{path}");
    let mut request = client.get(&url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => {
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                reason = s.to_string();
                source = s.source();
            }
            return Err(RunError::Unreachable { url, reason });
        }
    };
    let Some(want) = &profile.reachability else {
        return Ok(());
    };
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    // A bounded read: the probe needs only the start of a small document.
    let mut body = Vec::new();
    let mut response = response;
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > 64 * 1024 {
            break;
        }
    }
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let body_ok = want
        .body
        .iter()
        .all(|(pointer, value)| json.as_ref().and_then(|j| j.pointer(pointer)) == Some(value));
    let media_ok = want.media_type.is_none() || want.media_type == media;
    if status == want.status && media_ok && body_ok {
        return Ok(());
    }
    let mut expected = want.status.to_string();
    if let Some(m) = &want.media_type {
        expected.push_str(&format!(" {m}"));
    }
    for (pointer, value) in &want.body {
        expected.push_str(&format!(" with {pointer} = {value}"));
    }
    let excerpt: String = String::from_utf8_lossy(&body[..body.len().min(200)])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(60)
        .collect();
    let found = format!(
        "{status} {} {:?}",
        media.unwrap_or_else(|| "(no content-type)".into()),
        excerpt.trim()
    );
    Err(RunError::WrongServer {
        url,
        expected,
        found,
    })
}
