//! Deliveries: Standard Webhooks messages POSTed to endpoints over real HTTP.
//!
//! A [`Message`] is the JSON payload (`{"type", "timestamp", "data"}`, the shape the Standard
//! Webhooks specification recommends) with its `webhook-id` and `webhook-timestamp`; [`post`]
//! signs it with every secret the endpoint currently signs with and sends it with the
//! configured timeout. [`emit`] fans an event out to subscribed endpoints in spawned tasks, so
//! the request that caused the event never waits for a receiver. No lock is held while a
//! delivery is in flight: [`crate::webhooks::store::Webhooks::admit_subscribers`] copies out
//! what a delivery needs first.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use http::header::CONTENT_TYPE;
use serde_json::{Value, json};

use super::signing::{self, Secret, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP};
use super::store::{Admitted, Webhooks};
use crate::scim::store::rfc3339;
use crate::state::AppState;

/// One message, ready to sign and send.
#[derive(Clone, Debug)]
pub(crate) struct Message {
    /// `webhook-id`: unique per message (`msg_` and 32 hex digits).
    pub id: String,
    /// `webhook-timestamp`: Unix seconds.
    pub timestamp: i64,
    /// The exact bytes that are signed and sent.
    pub body: Bytes,
}

/// What came of one delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The receiver answered 2xx.
    Delivered { status: u16 },
    /// The receiver answered 401 or 403: by the documented convention, it could not verify
    /// the signature.
    SignatureRejected { status: u16 },
    /// Anything else: another status, a timeout, a connection failure.
    Failed {
        /// The receiver's status, when it answered at all.
        status: Option<u16>,
        /// What went wrong, for the caller.
        reason: String,
    },
}

impl Outcome {
    /// Whether the delivery counts as a success for the circuit breaker.
    pub(crate) fn is_success(&self) -> bool {
        matches!(self, Outcome::Delivered { .. })
    }

    /// The receiver's status, if it answered.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Outcome::Delivered { status } | Outcome::SignatureRejected { status } => Some(*status),
            Outcome::Failed { status, .. } => *status,
        }
    }
}

impl Message {
    /// A message of `event_type` carrying `data`, stamped now.
    pub(crate) fn new(event_type: &str, data: Value) -> Message {
        let now = SystemTime::now();
        let timestamp = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let payload = json!({
            "type": event_type,
            "timestamp": rfc3339(now),
            "data": data,
        });
        Message {
            id: format!("msg_{}", uuid::Uuid::new_v4().simple()),
            timestamp,
            // Serializing a `Value` cannot fail.
            body: Bytes::from(serde_json::to_vec(&payload).unwrap_or_default()),
        }
    }
}

/// The `webhook-signature` value: one `v1,<base64>` per secret, space-separated.
pub(crate) fn signature_header(secrets: &[Secret], message: &Message) -> String {
    secrets
        .iter()
        .map(|s| signing::sign(s, &message.id, message.timestamp, &message.body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// POSTs `message` to `url`, signed with `secrets`, and classifies the answer. The client's
/// timeout bounds the whole attempt.
pub(crate) async fn post(
    client: &reqwest::Client,
    url: &str,
    secrets: &[Secret],
    message: &Message,
) -> Outcome {
    let request = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(WEBHOOK_ID, &message.id)
        .header(WEBHOOK_TIMESTAMP, message.timestamp.to_string())
        .header(WEBHOOK_SIGNATURE, signature_header(secrets, message))
        .body(message.body.clone());
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            match status {
                200..=299 => Outcome::Delivered { status },
                401 | 403 => Outcome::SignatureRejected { status },
                _ => Outcome::Failed {
                    status: Some(status),
                    reason: format!("the receiver answered {status}"),
                },
            }
        }
        Err(e) if e.is_timeout() => Outcome::Failed {
            status: None,
            reason: "the receiver did not answer within the delivery timeout".to_owned(),
        },
        Err(e) if e.is_connect() => Outcome::Failed {
            status: None,
            reason: "the receiver could not be reached".to_owned(),
        },
        Err(_) => Outcome::Failed {
            status: None,
            reason: "the delivery failed before the receiver answered".to_owned(),
        },
    }
}

/// Delivers an admitted message and records the outcome on the endpoint's circuit.
pub(crate) async fn deliver(
    webhooks: &Webhooks,
    admitted: &Admitted,
    message: &Message,
) -> Outcome {
    let outcome = post(webhooks.client(), &admitted.url, &admitted.secrets, message).await;
    webhooks.record(admitted, outcome.is_success(), Instant::now());
    tracing::info!(
        endpoint = %admitted.id,
        webhook_id = %message.id,
        status = outcome.status(),
        delivered = outcome.is_success(),
        "webhook delivery"
    );
    outcome
}

/// Sends event `event_type` to every endpoint of `workspace` subscribed to it whose circuit
/// admits a delivery, each in its own task (at most [`super::store::MAX_IN_FLIGHT`] per
/// workspace); returns at once.
///
/// Outside a Tokio runtime (a synchronous test calling a handler's logic) nothing is sent.
pub(crate) fn emit(state: &AppState, workspace: &str, event_type: &str, data: Value) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let admitted = state
        .webhooks()
        .admit_subscribers(workspace, event_type, Instant::now());
    if admitted.is_empty() {
        return;
    }
    // One message id for the event: receivers deduplicate on it.
    let message = Message::new(event_type, data);
    for endpoint in admitted {
        let task_state = state.clone();
        let message = message.clone();
        let owner = workspace.to_owned();
        state.webhooks().track(workspace, |ticket| {
            runtime
                .spawn(async move {
                    let webhooks = task_state.webhooks();
                    deliver(webhooks, &endpoint, &message).await;
                    webhooks.finished(&owner, ticket);
                })
                .abort_handle()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_standard_webhooks_payloads() {
        let message = Message::new("user.created", json!({"id": "usr_1"}));
        assert!(message.id.starts_with("msg_") && message.id.len() == 36);
        let payload: Value = serde_json::from_slice(&message.body).unwrap();
        assert_eq!(payload["type"], "user.created");
        assert_eq!(payload["data"]["id"], "usr_1");
        assert!(payload["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn one_signature_per_secret() {
        let message = Message::new("webhook.test", json!({}));
        let (a, b) = (Secret::generate(), Secret::generate());
        let header = signature_header(&[a.clone(), b.clone()], &message);
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0],
            signing::sign(&a, &message.id, message.timestamp, &message.body)
        );
        assert_eq!(
            parts[1],
            signing::sign(&b, &message.id, message.timestamp, &message.body)
        );
    }
}
