//! A loopback webhook receiver that verifies Standard Webhooks signatures.
//!
//! The SIGNATURE_FAILED and CIRCUIT_OPEN scenarios need a receiver the
//! target delivers to. Each scenario gets its own slot, `POST /hooks/<slug>`,
//! so concurrent scenarios cannot see each other's deliveries. A slot either
//! verifies signatures with a secret a setup step gave it (204 when one of the
//! `v1,` signatures matches and the timestamp is within five minutes, 401
//! otherwise, as the API documents for "could not verify"), or answers every
//! delivery with a fixed status (500 to trip a circuit). A slot with neither
//! has no secret to verify with and answers 401.
//!
//! Against staging, the target cannot reach loopback: the profile's
//! `receiver.public_url` names a tunnel or proxy that forwards to
//! `receiver.bind`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a `webhook-timestamp` may be from now, in seconds.
pub(crate) const TOLERANCE_SECS: i64 = 5 * 60;

/// How a slot answers deliveries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Behaviour {
    /// Verify signatures with this `whsec_` secret.
    Verify(String),
    /// Answer every delivery with this status.
    Respond(u16),
}

/// One delivery the receiver saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// What the receiver answered.
    pub status: u16,
    /// Why verification failed, when it did.
    pub failure: Option<VerifyError>,
}

/// Why a signature did not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum VerifyError {
    /// The slot has no secret.
    #[error("no secret to verify with")]
    NoSecret,
    /// The secret is not `whsec_<base64>`.
    #[error("the secret is not `whsec_<base64>`")]
    BadSecret,
    /// A required header is missing.
    #[error("header `{0}` is missing")]
    MissingHeader(&'static str),
    /// The timestamp is not a number or too far from now.
    #[error("webhook-timestamp is outside the tolerance")]
    Timestamp,
    /// No `v1,` signature matched.
    #[error("no signature matches")]
    Mismatch,
}

#[derive(Default)]
struct Slots {
    behaviour: HashMap<String, Behaviour>,
    deliveries: HashMap<String, Vec<Delivery>>,
}

/// A running receiver.
#[derive(Clone)]
pub(crate) struct Receiver {
    slots: Arc<Mutex<Slots>>,
    base_url: String,
}

impl Receiver {
    /// Binds `bind` and serves until the runtime shuts down. `public_url`
    /// replaces the local address in the URLs handed to scenarios.
    pub(crate) async fn start(
        bind: SocketAddr,
        public_url: Option<&str>,
    ) -> std::io::Result<Receiver> {
        let slots = Arc::new(Mutex::new(Slots::default()));
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let local = listener.local_addr()?;
        let app = Router::new()
            .route("/hooks/{slot}", post(deliver))
            .with_state(slots.clone());
        tokio::spawn(async move {
            // The receiver lives as long as the run; a serve error ends it and
            // the scenarios relying on it fail with their own findings.
            let _ = axum::serve(listener, app).await;
        });
        let base_url = public_url.map_or_else(|| format!("http://{local}"), str::to_owned);
        Ok(Receiver { slots, base_url })
    }

    /// The URL of a scenario's slot.
    pub(crate) fn url(&self, slot: &str) -> String {
        format!("{}/hooks/{slot}", self.base_url)
    }

    /// Sets how a slot answers.
    pub(crate) fn set(&self, slot: &str, behaviour: Behaviour) {
        self.lock().behaviour.insert(slot.to_owned(), behaviour);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn deliver(
    State(slots): State<Arc<Mutex<Slots>>>,
    Path(slot): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut slots = slots.lock().unwrap_or_else(PoisonError::into_inner);
    let delivery = match slots.behaviour.get(&slot) {
        Some(Behaviour::Respond(status)) => Delivery {
            status: *status,
            failure: None,
        },
        Some(Behaviour::Verify(secret)) => match verify(secret, &headers, &body, now()) {
            Ok(()) => Delivery {
                status: 204,
                failure: None,
            },
            Err(e) => Delivery {
                status: 401,
                failure: Some(e),
            },
        },
        None => Delivery {
            status: 401,
            failure: Some(VerifyError::NoSecret),
        },
    };
    let status = StatusCode::from_u16(delivery.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    slots.deliveries.entry(slot).or_default().push(delivery);
    status
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Verifies a Standard Webhooks delivery: `webhook-signature` holds one or
/// more space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
/// keyed with the base64-decoded part of `whsec_<base64>`.
pub(crate) fn verify(
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|b64| STANDARD.decode(b64).ok())
        .ok_or(VerifyError::BadSecret)?;
    let header = |name: &'static str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or(VerifyError::MissingHeader(name))
    };
    let id = header("webhook-id")?;
    let timestamp = header("webhook-timestamp")?;
    let signatures = header("webhook-signature")?;
    let ts: i64 = timestamp.parse().map_err(|_| VerifyError::Timestamp)?;
    if (now - ts).abs() > TOLERANCE_SECS {
        return Err(VerifyError::Timestamp);
    }
    for candidate in signatures.split(' ') {
        let Some(b64) = candidate.strip_prefix("v1,") else {
            continue;
        };
        let Ok(signature) = STANDARD.decode(b64) else {
            continue;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| VerifyError::BadSecret)?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        // `verify_slice` compares in constant time.
        if mac.verify_slice(&signature).is_ok() {
            return Ok(());
        }
    }
    Err(VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;

    fn headers(signature: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "webhook-id",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk".parse().unwrap(),
        );
        h.insert("webhook-timestamp", "1649367553".parse().unwrap());
        h.insert("webhook-signature", signature.parse().unwrap());
        h
    }

    #[test]
    fn verifies_the_published_cross_check_vector() {
        let good = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
        assert_eq!(verify(SECRET, &headers(good), BODY, 1649367553), Ok(()));
        // Several signatures during a rotation: any one may match.
        let rotated = format!("v1,AAAA {good}");
        assert_eq!(verify(SECRET, &headers(&rotated), BODY, 1649367553), Ok(()));
    }

    #[test]
    fn rejects_what_does_not_verify() {
        let good = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
        let other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assert_eq!(
            verify(other, &headers(good), BODY, 1649367553),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, &headers(good), b"{}", 1649367553),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(
                SECRET,
                &headers(good),
                BODY,
                1649367553 + TOLERANCE_SECS + 1
            ),
            Err(VerifyError::Timestamp)
        );
        assert_eq!(
            verify("nope", &headers(good), BODY, 0),
            Err(VerifyError::BadSecret)
        );
        let mut missing = headers(good);
        missing.remove("webhook-id");
        assert_eq!(
            verify(SECRET, &missing, BODY, 1649367553),
            Err(VerifyError::MissingHeader("webhook-id"))
        );
    }
}
