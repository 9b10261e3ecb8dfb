//! RFC 6238 one-time codes (TOTP), as the mock's relying party checks them: HMAC-SHA-1, six
//! digits, 30-second steps counted from the Unix epoch, and one step of clock skew either way.
//!
//! [`hotp`] is RFC 4226 (HMAC, dynamic truncation, modulo 10^digits); [`code_at`] feeds it the
//! time step. [`verify`] finds the step a code belongs to among T-1, T and T+1, refusing a step
//! at or below the last one accepted for the factor (replay protection, RFC 6238 section 5.2):
//! the caller records the returned step under the same lock it read the last one, so a code is
//! accepted once even under concurrency (`crate::api::step_up`).
//!
//! Secrets are RFC 4648 base32 (upper case, no padding) on the wire; [`new_secret`] draws
//! [`SECRET_LEN`] bytes (160 bits, RFC 4226 section 4 recommends 160) from the OS generator.

use data_encoding::BASE32_NOPAD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// Seconds per time step (RFC 6238 `X`).
pub const STEP_SECS: u64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Bytes of a fresh secret: 160 bits.
pub const SECRET_LEN: usize = 20;
/// Steps of clock skew accepted either side of the current one.
pub const SKEW_STEPS: u64 = 1;

/// Why a secret could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Not RFC 4648 base32 (upper case, no padding, after removing spaces and `=`).
    #[error("the TOTP secret is not base32 (RFC 4648, A-Z and 2-7)")]
    NotBase32,
    /// Fewer than 128 bits (RFC 4226 section 4 asks for at least 128).
    #[error("the TOTP secret is {0} bytes long; at least 16 (128 bits) are required")]
    TooShort(usize),
}

/// RFC 4226 HOTP: HMAC-SHA-1 of the big-endian `counter`, dynamically truncated to `digits`
/// decimal digits (1 to 9).
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let mac = tag.as_ref();
    // The low nibble of the last byte picks the 4 bytes to read (RFC 4226 section 5.3).
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        mac[offset],
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]) & 0x7fff_ffff;
    binary % 10u32.pow(digits.clamp(1, 9))
}

/// The time step of Unix time `unix_secs`.
pub fn step_of(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

/// The code for time step `step`, zero-padded to [`DIGITS`] digits.
pub fn code_at(secret: &[u8], step: u64) -> String {
    format!(
        "{:0width$}",
        hotp(secret, step, DIGITS),
        width = DIGITS as usize
    )
}

/// The current Unix time in seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The step `code` belongs to, among `step_of(now)` ± [`SKEW_STEPS`], if it is above
/// `last_accepted` (a code of an already accepted step, or of an older one, is a replay).
/// The newest matching step wins. Comparison is on the digits only, in constant time for
/// codes of the right length.
pub fn verify(secret: &[u8], code: &str, now: u64, last_accepted: Option<u64>) -> Option<u64> {
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_of(now);
    let mut found = None;
    for step in current.saturating_sub(SKEW_STEPS)..=current + SKEW_STEPS {
        if last_accepted.is_some_and(|last| step <= last) {
            continue;
        }
        let expected = code_at(secret, step);
        let same = expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        if same {
            found = Some(step);
        }
    }
    found
}

/// A fresh random secret of [`SECRET_LEN`] bytes from the OS generator.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_LEN];
    // The OS generator failing is not something the mock can answer for; the zero key it
    // would leave is never handed out because fill only fails before writing.
    if SystemRandom::new().fill(&mut secret).is_err() {
        secret.iter_mut().for_each(|b| *b = 0);
    }
    secret
}

/// The base32 text form (upper case, no padding).
pub fn encode_secret(secret: &[u8]) -> String {
    BASE32_NOPAD.encode(secret)
}

/// Reads a base32 secret; spaces and trailing `=` are ignored and lower case is accepted, as
/// authenticator apps do.
pub fn decode_secret(text: &str) -> Result<Vec<u8>, SecretError> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let secret = BASE32_NOPAD
        .decode(cleaned.as_bytes())
        .map_err(|_| SecretError::NotBase32)?;
    if secret.len() < 16 {
        return Err(SecretError::TooShort(secret.len()));
    }
    Ok(secret)
}

/// The `otpauth://` URI authenticator apps scan (Google Authenticator's Key Uri Format):
/// `otpauth://totp/<issuer>:<account>?secret=...&issuer=<issuer>&algorithm=SHA1&digits=6&period=30`.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let issuer_enc = uri_escape(issuer);
    format!(
        "otpauth://totp/{issuer_enc}:{account}?secret={secret}&issuer={issuer_enc}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        account = uri_escape(account),
        secret = encode_secret(secret),
    )
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `@`.
fn uri_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SHA-1 seed of RFC 6238 Appendix B: the ASCII bytes "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    /// RFC 6238 Appendix B, the SHA-1 rows: Unix time and the 8-digit TOTP.
    const RFC_ROWS: [(u64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn rfc_6238_appendix_b_sha1_rows_with_8_and_6_digits() {
        for (time, expected) in RFC_ROWS {
            let step = step_of(time);
            assert_eq!(
                format!("{:08}", hotp(RFC_SECRET, step, 8)),
                expected,
                "{time}"
            );
            // Six digits are the same truncation modulo 10^6: the last six of the eight.
            assert_eq!(code_at(RFC_SECRET, step), expected[2..], "{time}");
        }
    }

    #[test]
    fn rfc_4226_appendix_d_hotp_values() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(code_at(RFC_SECRET, counter as u64), *code, "{counter}");
        }
    }

    #[test]
    fn codes_verify_within_one_step_and_never_twice() {
        let now = 1_111_111_111;
        let step = step_of(now);
        for offset in [-1i64, 0, 1] {
            let s = step.checked_add_signed(offset).unwrap();
            assert_eq!(
                verify(RFC_SECRET, &code_at(RFC_SECRET, s), now, None),
                Some(s)
            );
        }
        for offset in [-2i64, 2] {
            let s = step.checked_add_signed(offset).unwrap();
            assert_eq!(verify(RFC_SECRET, &code_at(RFC_SECRET, s), now, None), None);
        }
        // Replay: the accepted step, and any code at or below it, is refused.
        let code = code_at(RFC_SECRET, step);
        assert_eq!(verify(RFC_SECRET, &code, now, Some(step)), None);
        assert_eq!(
            verify(RFC_SECRET, &code_at(RFC_SECRET, step - 1), now, Some(step)),
            None
        );
        // The next step's code is still good after the current one was used.
        assert_eq!(
            verify(RFC_SECRET, &code_at(RFC_SECRET, step + 1), now, Some(step)),
            Some(step + 1)
        );
    }

    #[test]
    fn malformed_and_wrong_codes_are_refused() {
        let now = 1_234_567_890;
        let good = code_at(RFC_SECRET, step_of(now));
        let mut wrong = good.clone().into_bytes();
        wrong[5] = if wrong[5] == b'9' { b'0' } else { wrong[5] + 1 };
        let wrong = String::from_utf8(wrong).unwrap();
        for code in ["", "12345", "1234567", "12345a", " 12345", wrong.as_str()] {
            assert_eq!(verify(RFC_SECRET, code, now, None), None, "{code:?}");
        }
        // "123456", the old shortcut, only when it is the current code.
        assert_eq!(
            verify(RFC_SECRET, "123456", now, None).is_some(),
            (step_of(now) - 1..=step_of(now) + 1).any(|s| code_at(RFC_SECRET, s) == "123456")
        );
    }

    #[test]
    fn secrets_are_fresh_160_bit_base32() {
        let a = new_secret();
        let b = new_secret();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        let text = encode_secret(&a);
        assert_eq!(text.len(), 32);
        assert!(text.bytes().all(|c| matches!(c, b'A'..=b'Z' | b'2'..=b'7')));
        assert_eq!(decode_secret(&text).unwrap(), a);
        assert_eq!(decode_secret(&text.to_lowercase()).unwrap(), a);
        assert_eq!(
            decode_secret("JBSWY3DPEHPK3PXP"),
            Err(SecretError::TooShort(10))
        );
        assert_eq!(decode_secret("not base32!"), Err(SecretError::NotBase32));
    }

    #[test]
    fn the_otpauth_uri_has_every_parameter() {
        let uri = otpauth_uri("Acme Platform", "admin@acme.example", RFC_SECRET);
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20Platform:admin@acme.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Platform&algorithm=SHA1&digits=6&period=30"
        );
    }
}
