//! RFC 6238 time-based one-time passwords (SHA-1, 30-second steps): the
//! code an authenticator app would show for a secret.
//!
//! A scenario writes `{{totp(credential.NAME)}}` (or `capture.NAME` for a
//! secret a target answered at enrolment); the code is computed when the
//! request is sent, never stored in a scenario file.

use std::time::{SystemTime, UNIX_EPOCH};

use data_encoding::BASE32_NOPAD;
use ring::hmac;

/// The time step of RFC 6238's default, which the platform uses.
pub(crate) const STEP_SECS: u64 = 30;
/// Digits in a code.
pub(crate) const DIGITS: u32 = 6;

/// Why a TOTP secret cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TotpError {
    /// Not RFC 4648 base32.
    #[error("the TOTP secret is not base32 (RFC 4648: A-Z and 2-7)")]
    NotBase32,
    /// Decodes to nothing.
    #[error("the TOTP secret is empty")]
    Empty,
}

/// Decodes a base32 secret as apps accept it: case-insensitive, spaces and
/// `=` padding ignored.
pub(crate) fn decode_secret(text: &str) -> Result<Vec<u8>, TotpError> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if cleaned.is_empty() {
        return Err(TotpError::Empty);
    }
    BASE32_NOPAD
        .decode(cleaned.as_bytes())
        .map_err(|_| TotpError::NotBase32)
}

/// The HOTP value (RFC 4226 §5.3) of `key` for `counter`, `digits` long.
pub(crate) fn hotp(key: &[u8], counter: u64, digits: u32) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let mac = hmac::sign(&key, &counter.to_be_bytes());
    let mac = mac.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    let value = u64::from(binary) % 10u64.pow(digits);
    format!("{value:0width$}", width = digits as usize)
}

/// The code for `key` at Unix time `unix_secs`.
pub(crate) fn code_at(key: &[u8], unix_secs: u64, digits: u32) -> String {
    hotp(key, unix_secs / STEP_SECS, digits)
}

/// The 6-digit code for a base32 `secret` now.
pub(crate) fn current_code(secret: &str) -> Result<String, TotpError> {
    let key = decode_secret(secret)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(code_at(&key, now, DIGITS))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, the SHA-1 rows: the 20-byte ASCII secret, 8 digits.
    #[test]
    fn matches_the_sha1_rows_of_rfc_6238_appendix_b() {
        let key = b"12345678901234567890";
        let rows = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (time, expected) in rows {
            assert_eq!(code_at(key, time, 8), expected, "T = {time}");
        }
    }

    /// RFC 4226 Appendix D: HOTP values of the same secret, 6 digits.
    #[test]
    fn matches_rfc_4226_appendix_d() {
        let key = b"12345678901234567890";
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(hotp(key, counter as u64, 6), *code);
        }
    }

    #[test]
    fn decodes_secrets_as_apps_do_and_refuses_what_is_not_base32() {
        // "12345678901234567890" in base32.
        let b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(decode_secret(b32).unwrap(), b"12345678901234567890");
        assert_eq!(
            decode_secret("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap(),
            b"12345678901234567890"
        );
        assert_eq!(decode_secret("not base32!"), Err(TotpError::NotBase32));
        assert_eq!(
            decode_secret("GEZDGNBVGY3TQOJQ1"),
            Err(TotpError::NotBase32)
        );
        assert_eq!(decode_secret(" = "), Err(TotpError::Empty));
        assert_eq!(current_code(b32).unwrap().len(), 6);
    }
}
