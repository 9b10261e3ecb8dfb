//! Standard Webhooks signatures: `whsec_` secrets, `v1` HMAC-SHA256 signing and verification.
//!
//! The scheme signs the string `{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256 under
//! the secret's key bytes and sends `v1,<base64 of the MAC>` in the `webhook-signature` header.
//! During secret rotation the header carries several space-separated signatures, one per
//! secret, and a receiver accepts the message when any of them matches any of its secrets.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The header that carries the message id, which stays the same across delivery attempts.
pub(crate) const WEBHOOK_ID: &str = "webhook-id";
/// The header that carries the signing time in whole seconds since the Unix epoch.
pub(crate) const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// The header that carries one or more space-separated `v1,<base64>` signatures.
pub(crate) const WEBHOOK_SIGNATURE: &str = "webhook-signature";
/// The prefix of a serialized secret.
pub(crate) const SECRET_PREFIX: &str = "whsec_";
/// The signature version this module produces and accepts.
pub(crate) const SIGNATURE_VERSION: &str = "v1";
/// The tolerance the Standard Webhooks reference libraries use: five minutes either way.
#[cfg(test)]
pub(crate) const DEFAULT_TOLERANCE_SECS: i64 = 5 * 60;

/// The key length [`Secret::generate`] produces; the specification recommends 24 to 64 bytes.
const GENERATED_KEY_LEN: usize = 32;

/// Decodes standard base64 with or without padding, because secrets copied from other
/// dashboards are not always padded, while output is always padded as the specification shows.
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

type HmacSha256 = Hmac<Sha256>;

/// The three signature headers as received, in the order id, timestamp, signature.
///
/// `None` (or an empty value) means the header was absent.
#[cfg(test)]
pub(crate) type SignatureHeaders<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// Why a serialized secret was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SigningError {
    /// The secret does not start with `whsec_`.
    #[error("secret does not start with {SECRET_PREFIX}")]
    MissingPrefix,
    /// The part after the prefix is not standard base64.
    #[error("secret after {SECRET_PREFIX} is not valid base64")]
    BadBase64,
    /// The key decodes to zero bytes.
    #[error("secret key is empty")]
    EmptyKey,
}

/// Why a received webhook failed verification.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum VerifyError {
    /// A required header is absent or empty; the value names the header.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// The timestamp header is not a whole number of seconds.
    #[error("{WEBHOOK_TIMESTAMP} header {0:?} is not a whole number of seconds")]
    BadTimestamp(String),
    /// The timestamp is further from `now` than the tolerance allows.
    #[error(
        "{WEBHOOK_TIMESTAMP} {timestamp} is more than {tolerance_secs} seconds away from now ({now})"
    )]
    TimestampOutOfTolerance {
        /// The timestamp from the header.
        timestamp: i64,
        /// The verifier's current time.
        now: i64,
        /// The tolerance that was exceeded.
        tolerance_secs: i64,
    },
    /// No `v1` signature in the header matches any of the secrets.
    #[error("no signature in the {WEBHOOK_SIGNATURE} header matches")]
    NoMatchingSignature,
}

/// A webhook signing secret: the raw HMAC key bytes.
///
/// `Debug` hides the key so secrets do not leak into logs; `Display` renders the
/// `whsec_<base64>` form meant to be shown to the endpoint owner once.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret {
    key: Vec<u8>,
}

impl Secret {
    /// Parses the serialized `whsec_<base64>` form.
    pub(crate) fn parse(s: &str) -> Result<Secret, SigningError> {
        let encoded = s
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SigningError::MissingPrefix)?;
        let key = STANDARD_LENIENT
            .decode(encoded)
            .map_err(|_| SigningError::BadBase64)?;
        Secret::from_bytes(&key)
    }

    /// Wraps raw key bytes, rejecting an empty key.
    pub(crate) fn from_bytes(key: &[u8]) -> Result<Secret, SigningError> {
        if key.is_empty() {
            return Err(SigningError::EmptyKey);
        }
        Ok(Secret { key: key.to_vec() })
    }

    /// Creates a fresh 32-byte secret.
    ///
    /// The crate has no `rand` or `getrandom` dependency, so the entropy comes from two
    /// version 4 UUIDs (which the `uuid` crate draws from the operating system) hashed with
    /// SHA-256 together with a process-wide counter. The counter keeps two secrets from the
    /// same process distinct even if the entropy source misbehaved. This is good enough for a
    /// mock; a production service should draw key bytes from a dedicated CSPRNG.
    pub(crate) fn generate() -> Secret {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut hasher = Sha256::new();
        hasher.update(b"mock-server webhook secret");
        hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        hasher.update(uuid::Uuid::new_v4().as_bytes());
        hasher.update(uuid::Uuid::new_v4().as_bytes());
        let digest = hasher.finalize();
        debug_assert_eq!(digest.len(), GENERATED_KEY_LEN);
        Secret {
            key: digest.to_vec(),
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.key
    }

    /// An HMAC instance keyed with this secret.
    fn mac(&self) -> HmacSha256 {
        // HMAC hashes keys longer than the block size and pads shorter ones, so every key
        // length is accepted and this cannot fail.
        HmacSha256::new_from_slice(&self.key).expect("HMAC accepts keys of any length")
    }

    /// An HMAC instance that has already absorbed the signed content.
    fn mac_over(&self, msg_id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
        let mut mac = self.mac();
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes, redacted)", self.key.len())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }
}

impl FromStr for Secret {
    type Err = SigningError;

    fn from_str(s: &str) -> Result<Secret, SigningError> {
        Secret::parse(s)
    }
}

/// Signs a message and returns the `webhook-signature` header value `v1,<base64>`.
pub(crate) fn sign(secret: &Secret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = secret
        .mac_over(msg_id, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!("{SIGNATURE_VERSION},{}", STANDARD.encode(tag))
}

/// Reads the three signature headers from a header map.
///
/// A header whose value is not visible ASCII is reported as absent, because it cannot hold a
/// valid id, timestamp or signature list anyway.
#[cfg(test)]
pub(crate) fn headers_from_map(headers: &http::HeaderMap) -> SignatureHeaders<'_> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    (
        get(WEBHOOK_ID),
        get(WEBHOOK_TIMESTAMP),
        get(WEBHOOK_SIGNATURE),
    )
}

/// Verifies a received webhook against any of `secrets`.
///
/// Checks run in this order: all three headers present, the timestamp is a canonical decimal
/// integer (no `+`, leading zeros or fraction), the timestamp is within `tolerance_secs` of
/// `now` in either direction (which bounds replays), and finally at least one `v1` entry in the signature header matches one of the secrets. Entries with other
/// versions (such as the asymmetric `v1a`) are skipped. MAC comparison is constant-time.
#[cfg(test)]
pub(crate) fn verify(
    secrets: &[Secret],
    headers: SignatureHeaders<'_>,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let (msg_id, timestamp, signatures) = headers;
    fn present<'a>(value: Option<&'a str>, name: &'static str) -> Result<&'a str, VerifyError> {
        value
            .filter(|v| !v.trim().is_empty())
            .ok_or(VerifyError::MissingHeader(name))
    }
    let msg_id = present(msg_id, WEBHOOK_ID)?;
    let timestamp_str = present(timestamp, WEBHOOK_TIMESTAMP)?;
    let signatures = present(signatures, WEBHOOK_SIGNATURE)?;

    // The signed content uses the header text verbatim, so only a canonical decimal integer is
    // accepted; otherwise "+5" and "5" would parse the same but sign differently.
    let timestamp: i64 = timestamp_str
        .parse()
        .ok()
        .filter(|t: &i64| t.to_string() == timestamp_str)
        .ok_or_else(|| VerifyError::BadTimestamp(timestamp_str.to_owned()))?;
    let tolerance = u64::try_from(tolerance_secs).unwrap_or(0);
    if now.abs_diff(timestamp) > tolerance {
        return Err(VerifyError::TimestampOutOfTolerance {
            timestamp,
            now,
            tolerance_secs,
        });
    }

    let candidates: Vec<Vec<u8>> = signatures
        .split_ascii_whitespace()
        .filter_map(|entry| {
            let (version, encoded) = entry.split_once(',')?;
            if version != SIGNATURE_VERSION {
                return None;
            }
            STANDARD_LENIENT.decode(encoded).ok()
        })
        .collect();

    for secret in secrets {
        let mac = secret.mac_over(msg_id, timestamp_str, body);
        for candidate in &candidates {
            // `verify_slice` compares in constant time, so response timing does not reveal
            // how many leading bytes of a forged signature were right.
            if mac.clone().verify_slice(candidate).is_ok() {
                return Ok(());
            }
        }
    }
    Err(VerifyError::NoMatchingSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VECTOR_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const VECTOR_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const VECTOR_TS: i64 = 1_649_367_553;
    const VECTOR_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const VECTOR_SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
    const VECTOR_TS_STR: &str = "1649367553";

    fn vector_secret() -> Secret {
        Secret::parse(VECTOR_SECRET).unwrap()
    }

    fn vector_headers(sig: &str) -> SignatureHeaders<'_> {
        (Some(VECTOR_ID), Some(VECTOR_TS_STR), Some(sig))
    }

    #[test]
    fn published_vector_signs() {
        assert_eq!(
            sign(&vector_secret(), VECTOR_ID, VECTOR_TS, VECTOR_BODY),
            VECTOR_SIG
        );
    }

    #[test]
    fn published_vector_verifies() {
        let result = verify(
            &[vector_secret()],
            vector_headers(VECTOR_SIG),
            VECTOR_BODY,
            VECTOR_TS,
            DEFAULT_TOLERANCE_SECS,
        );
        assert_eq!(result, Ok(()));
    }

    #[test]
    fn changed_body_is_rejected() {
        let body = br#"{"email":"test@example.com","username":"test_user2"}"#;
        let result = verify(
            &[vector_secret()],
            vector_headers(VECTOR_SIG),
            body,
            VECTOR_TS,
            DEFAULT_TOLERANCE_SECS,
        );
        assert_eq!(result, Err(VerifyError::NoMatchingSignature));
    }

    #[test]
    fn changed_id_is_rejected() {
        let result = verify(
            &[vector_secret()],
            (Some("msg_other"), Some(VECTOR_TS_STR), Some(VECTOR_SIG)),
            VECTOR_BODY,
            VECTOR_TS,
            DEFAULT_TOLERANCE_SECS,
        );
        assert_eq!(result, Err(VerifyError::NoMatchingSignature));
    }

    #[test]
    fn wrong_secret_is_rejected() {
        let other = Secret::from_bytes(&[7; 24]).unwrap();
        let result = verify(
            &[other],
            vector_headers(VECTOR_SIG),
            VECTOR_BODY,
            VECTOR_TS,
            DEFAULT_TOLERANCE_SECS,
        );
        assert_eq!(result, Err(VerifyError::NoMatchingSignature));
    }

    #[test]
    fn no_secrets_means_no_match() {
        let result = verify(
            &[],
            vector_headers(VECTOR_SIG),
            VECTOR_BODY,
            VECTOR_TS,
            DEFAULT_TOLERANCE_SECS,
        );
        assert_eq!(result, Err(VerifyError::NoMatchingSignature));
    }

    #[test]
    fn old_timestamp_is_rejected() {
        let now = VECTOR_TS + DEFAULT_TOLERANCE_SECS + 1;
        let result = verify(
            &[vector_secret()],
            vector_headers(VECTOR_SIG),
            VECTOR_BODY,
            now,
            DEFAULT_TOLERANCE_SECS,
        );
        assert_eq!(
            result,
            Err(VerifyError::TimestampOutOfTolerance {
                timestamp: VECTOR_TS,
                now,
                tolerance_secs: DEFAULT_TOLERANCE_SECS,
            })
        );
    }

    #[test]
    fn future_timestamp_is_rejected() {
        let now = VECTOR_TS - DEFAULT_TOLERANCE_SECS - 1;
        let result = verify(
            &[vector_secret()],
            vector_headers(VECTOR_SIG),
            VECTOR_BODY,
            now,
            DEFAULT_TOLERANCE_SECS,
        );
        assert!(matches!(
            result,
            Err(VerifyError::TimestampOutOfTolerance { .. })
        ));
    }

    #[test]
    fn timestamp_at_the_tolerance_edge_is_accepted() {
        for now in [
            VECTOR_TS - DEFAULT_TOLERANCE_SECS,
            VECTOR_TS + DEFAULT_TOLERANCE_SECS,
        ] {
            let result = verify(
                &[vector_secret()],
                vector_headers(VECTOR_SIG),
                VECTOR_BODY,
                now,
                DEFAULT_TOLERANCE_SECS,
            );
            assert_eq!(result, Ok(()), "now = {now}");
        }
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let result = verify(
            &[vector_secret()],
            (
                Some(VECTOR_ID),
                Some("-9223372036854775808"),
                Some(VECTOR_SIG),
            ),
            VECTOR_BODY,
            i64::MAX,
            i64::MAX,
        );
        assert_eq!(
            result,
            Err(VerifyError::TimestampOutOfTolerance {
                timestamp: i64::MIN,
                now: i64::MAX,
                tolerance_secs: i64::MAX,
            })
        );
    }

    #[test]
    fn missing_headers_are_named() {
        let secrets = [vector_secret()];
        let cases = [
            (
                (None, Some(VECTOR_TS_STR), Some(VECTOR_SIG)),
                VerifyError::MissingHeader(WEBHOOK_ID),
            ),
            (
                (Some(VECTOR_ID), None, Some(VECTOR_SIG)),
                VerifyError::MissingHeader(WEBHOOK_TIMESTAMP),
            ),
            (
                (Some(VECTOR_ID), Some(VECTOR_TS_STR), None),
                VerifyError::MissingHeader(WEBHOOK_SIGNATURE),
            ),
            (
                (Some(VECTOR_ID), Some(VECTOR_TS_STR), Some("  ")),
                VerifyError::MissingHeader(WEBHOOK_SIGNATURE),
            ),
            ((None, None, None), VerifyError::MissingHeader(WEBHOOK_ID)),
        ];
        for (headers, expected) in cases {
            let result = verify(
                &secrets,
                headers,
                VECTOR_BODY,
                VECTOR_TS,
                DEFAULT_TOLERANCE_SECS,
            );
            assert_eq!(result, Err(expected), "{headers:?}");
        }
    }

    #[test]
    fn bad_timestamps_are_rejected() {
        for bad in ["soon", "1649367553.0", "+1649367553", "01649367553", "1e9"] {
            let result = verify(
                &[vector_secret()],
                (Some(VECTOR_ID), Some(bad), Some(VECTOR_SIG)),
                VECTOR_BODY,
                VECTOR_TS,
                DEFAULT_TOLERANCE_SECS,
            );
            assert_eq!(result, Err(VerifyError::BadTimestamp(bad.to_owned())));
        }
    }

    #[test]
    fn any_of_several_signatures_may_match() {
        let header = format!("v1,Zm9yZ2VkIHNpZ25hdHVyZQ== v1a,c29tZXRoaW5n {VECTOR_SIG} v1,");
        let result = verify(
            &[vector_secret()],
            vector_headers(&header),
            VECTOR_BODY,
            VECTOR_TS,
            DEFAULT_TOLERANCE_SECS,
        );
        assert_eq!(result, Ok(()));
    }

    #[test]
    fn rotation_old_and_new_secret() {
        let old = vector_secret();
        let new = Secret::generate();
        // The sender signs with both secrets while rotating.
        let header = format!(
            "{} {}",
            sign(&new, VECTOR_ID, VECTOR_TS, VECTOR_BODY),
            sign(&old, VECTOR_ID, VECTOR_TS, VECTOR_BODY)
        );
        for secrets in [vec![old.clone()], vec![new.clone()], vec![new, old]] {
            let result = verify(
                &secrets,
                vector_headers(&header),
                VECTOR_BODY,
                VECTOR_TS,
                DEFAULT_TOLERANCE_SECS,
            );
            assert_eq!(result, Ok(()));
        }
    }

    #[test]
    fn other_versions_are_not_accepted() {
        let header = VECTOR_SIG.replacen("v1,", "v2,", 1);
        let result = verify(
            &[vector_secret()],
            vector_headers(&header),
            VECTOR_BODY,
            VECTOR_TS,
            DEFAULT_TOLERANCE_SECS,
        );
        assert_eq!(result, Err(VerifyError::NoMatchingSignature));
    }

    #[test]
    fn truncated_signature_does_not_match() {
        let header = &VECTOR_SIG[..VECTOR_SIG.len() - 8];
        let result = verify(
            &[vector_secret()],
            vector_headers(header),
            VECTOR_BODY,
            VECTOR_TS,
            DEFAULT_TOLERANCE_SECS,
        );
        assert_eq!(result, Err(VerifyError::NoMatchingSignature));
    }

    #[test]
    fn secret_parse_errors() {
        assert_eq!(
            Secret::parse("C2FVsBQIhrscChlQIMV+b5sSYspob7oD"),
            Err(SigningError::MissingPrefix)
        );
        assert_eq!(
            Secret::parse("whsec_not*base64"),
            Err(SigningError::BadBase64)
        );
        assert_eq!(Secret::parse("whsec_"), Err(SigningError::EmptyKey));
        assert_eq!(Secret::from_bytes(&[]), Err(SigningError::EmptyKey));
        assert_eq!(
            SigningError::MissingPrefix.to_string(),
            "secret does not start with whsec_"
        );
    }

    #[test]
    fn secret_display_round_trips() {
        assert_eq!(vector_secret().to_string(), VECTOR_SECRET);
        assert_eq!(vector_secret().as_bytes().len(), 24);
        let generated = Secret::generate();
        assert_eq!(generated.as_bytes().len(), 32);
        assert_eq!(generated.to_string().parse::<Secret>(), Ok(generated));
    }

    #[test]
    fn unpadded_secret_is_accepted() {
        let padded = Secret::from_bytes(&[1, 2, 3, 4]).unwrap();
        assert_eq!(padded.to_string(), "whsec_AQIDBA==");
        assert_eq!(Secret::parse("whsec_AQIDBA"), Ok(padded));
    }

    #[test]
    fn generated_secrets_differ() {
        assert_ne!(Secret::generate(), Secret::generate());
    }

    #[test]
    fn debug_redacts_the_key() {
        let debug = format!("{:?}", vector_secret());
        assert_eq!(debug, "Secret(24 bytes, redacted)");
    }

    #[test]
    fn headers_are_read_from_a_map() {
        let mut map = http::HeaderMap::new();
        map.insert(WEBHOOK_ID, http::HeaderValue::from_static(VECTOR_ID));
        map.insert(
            WEBHOOK_TIMESTAMP,
            http::HeaderValue::from_static(VECTOR_TS_STR),
        );
        map.insert(
            WEBHOOK_SIGNATURE,
            http::HeaderValue::from_static(VECTOR_SIG),
        );
        assert_eq!(headers_from_map(&map), vector_headers(VECTOR_SIG));
        assert_eq!(
            verify(
                &[vector_secret()],
                headers_from_map(&map),
                VECTOR_BODY,
                VECTOR_TS,
                DEFAULT_TOLERANCE_SECS
            ),
            Ok(())
        );
        assert_eq!(
            headers_from_map(&http::HeaderMap::new()),
            (None, None, None)
        );
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            VerifyError::MissingHeader(WEBHOOK_ID).to_string(),
            "missing webhook-id header"
        );
        assert_eq!(
            VerifyError::NoMatchingSignature.to_string(),
            "no signature in the webhook-signature header matches"
        );
    }

    proptest! {
        #[test]
        fn sign_then_verify_round_trips(
            key in proptest::collection::vec(any::<u8>(), 1..64),
            msg_id in "[A-Za-z0-9_.-]{1,40}",
            timestamp in 0i64..4_000_000_000,
            body in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let secret = Secret::from_bytes(&key).unwrap();
            let signature = sign(&secret, &msg_id, timestamp, &body);
            let ts = timestamp.to_string();
            let headers = (Some(msg_id.as_str()), Some(ts.as_str()), Some(signature.as_str()));
            prop_assert_eq!(
                verify(&[secret], headers, &body, timestamp, DEFAULT_TOLERANCE_SECS),
                Ok(())
            );
        }

        #[test]
        fn flipping_a_body_byte_fails(
            key in proptest::collection::vec(any::<u8>(), 1..64),
            msg_id in "[A-Za-z0-9_.-]{1,40}",
            body in proptest::collection::vec(any::<u8>(), 1..256),
            index in any::<proptest::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let secret = Secret::from_bytes(&key).unwrap();
            let signature = sign(&secret, &msg_id, VECTOR_TS, &body);
            let mut tampered = body.clone();
            let at = index.index(tampered.len());
            tampered[at] ^= flip;
            let headers = (Some(msg_id.as_str()), Some(VECTOR_TS_STR), Some(signature.as_str()));
            prop_assert_eq!(
                verify(&[secret], headers, &tampered, VECTOR_TS, DEFAULT_TOLERANCE_SECS),
                Err(VerifyError::NoMatchingSignature)
            );
        }
    }
}
