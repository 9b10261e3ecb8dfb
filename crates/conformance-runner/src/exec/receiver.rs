//! A loopback webhook receiver that verifies Standard Webhooks signatures.
//!
//! The SIGNATURE_FAILED and CIRCUIT_OPEN scenarios need a receiver the
//! target delivers to. Each scenario gets its own slot, `POST /hooks/<slug>`,
//! so concurrent scenarios cannot see each other's deliveries. A slot either
//! verifies signatures with a secret a setup step gave it (204 when one of the
//! `v1,` signatures matches and the timestamp is within five minutes, 401
//! otherwise, as the API documents for "could not verify"), or answers every
//! delivery with a fixed status (500 to trip a circuit). A slot with neither
//! has no secret to verify with and answers 401. A rejection says why, in
//! its answer and in the failing scenario's findings, naming the common
//! mistake that made the signature when one did (the body alone signed, the
//! `whsec_` string as the key, hex instead of base64, ...).
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
    /// No `v1,` signature matched, and no common mistake explains it.
    #[error(
        "no `v1,` signature matches HMAC-SHA256 of `webhook-id.webhook-timestamp.body` under the scenario's secret (another secret, or another body than the one sent)"
    )]
    Mismatch,
    /// No `v1,` signature matched, but one is what a common mistake makes.
    #[error("{0}")]
    Misdone(&'static str),
}

/// Common ways to get a Standard Webhooks signature wrong, each with what
/// the receiver says: the signed content, the key, the encoding.
const MISTAKES: &[(Mistake, &str)] = &[
    (
        Mistake::Content(Content::Body),
        "signature computed over the body only; expected `webhook-id.webhook-timestamp.body`",
    ),
    (
        Mistake::Content(Content::TimestampBody),
        "signature computed over `webhook-timestamp.body`; expected `webhook-id.webhook-timestamp.body`",
    ),
    (
        Mistake::Content(Content::IdBody),
        "signature computed over `webhook-id.body`; expected `webhook-id.webhook-timestamp.body`",
    ),
    (
        Mistake::Key(Key::WholeSecret),
        "signature keyed with the whole `whsec_...` string; expected the base64-decoded bytes after `whsec_`",
    ),
    (
        Mistake::Key(Key::Base64Text),
        "signature keyed with the base64 text after `whsec_`; expected its decoded bytes",
    ),
    (
        Mistake::Hex,
        "signature hex-encoded; expected `v1,` and the base64 of the HMAC-SHA256",
    ),
    (
        Mistake::NoPrefix,
        "signature without the `v1,` prefix; expected `v1,<base64>`",
    ),
];

#[derive(Clone, Copy)]
enum Content {
    Standard,
    Body,
    TimestampBody,
    IdBody,
}

#[derive(Clone, Copy)]
enum Key {
    Decoded,
    WholeSecret,
    Base64Text,
}

#[derive(Clone, Copy)]
enum Mistake {
    Content(Content),
    Key(Key),
    Hex,
    NoPrefix,
}

#[derive(Default)]
struct Slots {
    behaviour: HashMap<String, Behaviour>,
    deliveries: HashMap<String, Vec<Delivery>>,
}

/// The webhook receiver, serving `/hooks/{slot}` on a local port: each
/// scenario gets its own slot, with the answer it should give and the
/// deliveries recorded so far. Clones share the same slots.
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

    /// Why the receiver rejected deliveries to `slot`, each reason once.
    pub(crate) fn rejections(&self, slot: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in self.lock().deliveries.get(slot).into_iter().flatten() {
            if let Some(e) = &d.failure {
                let reason = e.to_string();
                if !out.contains(&reason) {
                    out.push(reason);
                }
            }
        }
        out
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
) -> (StatusCode, String) {
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
    // The sender learns why too (a target may log the answer).
    let text = delivery
        .failure
        .as_ref()
        .map_or_else(String::new, |e| format!("rejected: {e}\n"));
    slots.deliveries.entry(slot).or_default().push(delivery);
    (status, text)
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
    let signed = Signed {
        secret,
        key: &key,
        id,
        timestamp,
        body,
    };
    for candidate in signatures.split(' ') {
        let Some(b64) = candidate.strip_prefix("v1,") else {
            continue;
        };
        let Ok(signature) = STANDARD.decode(b64) else {
            continue;
        };
        // `verify_slice` compares in constant time.
        if signed
            .mac(Key::Decoded, Content::Standard)
            .verify_slice(&signature)
            .is_ok()
        {
            return Ok(());
        }
    }
    // Say why, when a common mistake explains it: the target's developers
    // read this in the finding.
    for (mistake, message) in MISTAKES {
        if signatures
            .split(' ')
            .any(|candidate| signed.made_by(*mistake, candidate))
        {
            return Err(VerifyError::Misdone(message));
        }
    }
    Err(VerifyError::Mismatch)
}

/// What a delivery's signature is over, to check it and its mistakes.
struct Signed<'a> {
    secret: &'a str,
    key: &'a [u8],
    id: &'a str,
    timestamp: &'a str,
    body: &'a [u8],
}

impl Signed<'_> {
    fn mac(&self, key: Key, content: Content) -> Hmac<Sha256> {
        let key: &[u8] = match key {
            Key::Decoded => self.key,
            Key::WholeSecret => self.secret.as_bytes(),
            Key::Base64Text => self.secret.trim_start_matches("whsec_").as_bytes(),
        };
        // HMAC takes a key of any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        let (id, ts) = match content {
            Content::Standard => (Some(self.id), Some(self.timestamp)),
            Content::Body => (None, None),
            Content::TimestampBody => (None, Some(self.timestamp)),
            Content::IdBody => (Some(self.id), None),
        };
        for part in [id, ts].into_iter().flatten() {
            mac.update(part.as_bytes());
            mac.update(b".");
        }
        mac.update(self.body);
        mac
    }

    /// Whether `candidate` is the signature `mistake` makes.
    fn made_by(&self, mistake: Mistake, candidate: &str) -> bool {
        let b64 = |c: &str| c.strip_prefix("v1,").and_then(|b| STANDARD.decode(b).ok());
        let matches = |key, content, signature: Option<Vec<u8>>| {
            signature.is_some_and(|s| self.mac(key, content).verify_slice(&s).is_ok())
        };
        match mistake {
            Mistake::Content(content) => matches(Key::Decoded, content, b64(candidate)),
            Mistake::Key(key) => matches(key, Content::Standard, b64(candidate)),
            Mistake::Hex => {
                let hex = candidate.strip_prefix("v1,").unwrap_or(candidate);
                matches(Key::Decoded, Content::Standard, decode_hex(hex))
            }
            Mistake::NoPrefix => {
                !candidate.starts_with("v1,")
                    && matches(
                        Key::Decoded,
                        Content::Standard,
                        STANDARD.decode(candidate).ok(),
                    )
            }
        }
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
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

    /// An HMAC-SHA256 computed here, independently of the receiver.
    fn hmac(key: &[u8], content: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(content);
        mac.finalize().into_bytes().to_vec()
    }

    #[test]
    fn a_rejection_says_which_common_mistake_made_the_signature() {
        let key = STANDARD.decode(&SECRET["whsec_".len()..]).unwrap();
        let id = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
        let ts = "1649367553";
        let standard = [id.as_bytes(), b".", ts.as_bytes(), b".", BODY].concat();
        let v1 = |sig: Vec<u8>| format!("v1,{}", STANDARD.encode(sig));
        let hex: String = hmac(&key, &standard)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let cases = [
            (
                v1(hmac(&key, BODY)),
                "signature computed over the body only; expected `webhook-id.webhook-timestamp.body`",
            ),
            (
                v1(hmac(&key, &[ts.as_bytes(), b".", BODY].concat())),
                "signature computed over `webhook-timestamp.body`; expected `webhook-id.webhook-timestamp.body`",
            ),
            (
                v1(hmac(&key, &[id.as_bytes(), b".", BODY].concat())),
                "signature computed over `webhook-id.body`; expected `webhook-id.webhook-timestamp.body`",
            ),
            (
                v1(hmac(SECRET.as_bytes(), &standard)),
                "signature keyed with the whole `whsec_...` string; expected the base64-decoded bytes after `whsec_`",
            ),
            (
                v1(hmac(&SECRET.as_bytes()["whsec_".len()..], &standard)),
                "signature keyed with the base64 text after `whsec_`; expected its decoded bytes",
            ),
            (
                format!("v1,{hex}"),
                "signature hex-encoded; expected `v1,` and the base64 of the HMAC-SHA256",
            ),
            (
                STANDARD.encode(hmac(&key, &standard)),
                "signature without the `v1,` prefix; expected `v1,<base64>`",
            ),
        ];
        for (signature, said) in cases {
            let err = verify(SECRET, &headers(&signature), BODY, 1649367553).unwrap_err();
            assert_eq!(err.to_string(), said, "{signature}");
        }
        // Nothing recognisable: the general reason.
        let err = verify(SECRET, &headers("v1,AAAA"), BODY, 1649367553).unwrap_err();
        assert_eq!(err, VerifyError::Mismatch);
        assert!(err.to_string().starts_with(
            "no `v1,` signature matches HMAC-SHA256 of `webhook-id.webhook-timestamp.body`"
        ));
    }

    #[tokio::test]
    async fn the_receiver_answers_why_and_remembers_it_for_the_report() {
        let receiver = Receiver::start(SocketAddr::from(([127, 0, 0, 1], 0)), None)
            .await
            .unwrap();
        receiver.set("s", Behaviour::Verify(SECRET.to_owned()));
        let key = STANDARD.decode(&SECRET["whsec_".len()..]).unwrap();
        let body_only = format!("v1,{}", STANDARD.encode(hmac(&key, BODY)));
        let ts = now().to_string();
        let answer = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(receiver.url("s"))
            .header("webhook-id", "msg_1")
            .header("webhook-timestamp", &ts)
            .header("webhook-signature", &body_only)
            .body(BODY)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 401);
        let said =
            "signature computed over the body only; expected `webhook-id.webhook-timestamp.body`";
        assert_eq!(answer.text().await.unwrap(), format!("rejected: {said}\n"));
        assert_eq!(receiver.rejections("s"), [said]);
        assert!(receiver.rejections("other").is_empty());
    }
}
