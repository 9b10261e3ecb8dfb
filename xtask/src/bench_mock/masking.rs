//! `bench-mock` compares the mock with a baseline that answers the mock's own bytes; this
//! checks that it does. Two responses are the same when their status line, header fields (in
//! order) and body are, once what legitimately changes from one response to the next is
//! masked: the `date` value, request ids and the rate-limit countdowns.

use std::net::SocketAddr;

use anyhow::{Result, bail};

use crate::load::{self, Target};

/// Fails unless the mock and the baseline answer `target` with the same bytes: status line,
/// header fields in order and body, with `date`, the request id and the rate-limit countdown
/// (which differ from one response to the next) masked.
pub(super) async fn same_bytes(
    mock: SocketAddr,
    baseline: SocketAddr,
    target: &Target,
) -> Result<()> {
    let (mock_head, mock_body) = load::capture_raw(mock, target).await?;
    let (base_head, base_body) = load::capture_raw(baseline, target).await?;
    let mock_response = masked(&format!("{mock_head}\r\n\r\n{mock_body}"));
    let base_response = masked(&format!("{base_head}\r\n\r\n{base_body}"));
    if mock_response != base_response {
        bail!(
            "{}: the baseline does not answer the mock's bytes, so the ratio would not be fair\n\
             mock:\n{mock_response}\nbaseline:\n{base_response}",
            target.name
        );
    }
    Ok(())
}

/// `response` with what legitimately differs between two responses masked: the `date`
/// field's value, every `req_` id's hex digits and the rate-limit countdowns.
fn masked(response: &str) -> String {
    let mut out = String::with_capacity(response.len());
    for (i, line) in response.split("\r\n").enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        match line.split_once(':') {
            Some((name, _)) if name.eq_ignore_ascii_case("date") => {
                out.push_str(name);
                out.push_str(": *");
            }
            _ => out.push_str(line),
        }
    }
    out = mask_after(&out, "req_", |b| b.is_ascii_hexdigit());
    // The rate-limit countdown (and with it the body's length) moves between two captures.
    for marker in COUNTDOWNS {
        out = mask_after(&out, marker, |b| b.is_ascii_digit());
    }
    out
}

/// Where a number counts down from one response to the next: the RateLimit field's reset,
/// `Retry-After`, the body's `retry_after` and its detail, and the resulting body length.
const COUNTDOWNS: &[&str] = &[
    ";t=",
    "retry-after: ",
    "\"retry_after\":",
    "retry in ",
    "content-length: ",
];

/// `text` with the run of bytes satisfying `keep` after each `marker` replaced by one `*`.
fn mask_after(text: &str, marker: &str, keep: impl Fn(&u8) -> bool) -> String {
    let mut rest = text;
    let mut result = String::with_capacity(text.len());
    while let Some(at) = rest.find(marker) {
        result.push_str(&rest[..at + marker.len()]);
        rest = &rest[at + marker.len()..];
        let run = rest.bytes().take_while(&keep).count();
        if run > 0 {
            result.push('*');
        }
        rest = &rest[run..];
    }
    result.push_str(rest);
    result
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn masking_hides_only_the_date_and_request_ids() {
        let a = "HTTP/1.1 401 Unauthorized\r\nx-request-id: req_00ff00ff00000001\r\ndate: Sun, 29 Nov 2026 21:52:27 GMT\r\n\r\n{\"request_id\":\"req_00ff00ff00000001\"}";
        let b = "HTTP/1.1 401 Unauthorized\r\nx-request-id: req_00ff00ff0000abcd\r\ndate: Mon, 30 Nov 2026 01:02:03 GMT\r\n\r\n{\"request_id\":\"req_00ff00ff0000abcd\"}";
        assert_eq!(masked(a), masked(b));
        assert_eq!(
            masked(a),
            "HTTP/1.1 401 Unauthorized\r\nx-request-id: req_*\r\ndate: *\r\n\r\n{\"request_id\":\"req_*\"}"
        );
        // Anything else that differs still differs: order, a field, the body.
        let reordered = "HTTP/1.1 401 Unauthorized\r\ndate: x\r\nx-request-id: req_1\r\n\r\n{\"request_id\":\"req_1\"}";
        assert_ne!(masked(a), masked(reordered));
        assert_ne!(
            masked(a),
            masked(&a.replace("401 Unauthorized", "401 unauthorized"))
        );
        assert_ne!(
            masked(a),
            masked(&a.replace("{\"request_id", "{\"request-id"))
        );
    }

    #[test]
    fn masking_hides_the_rate_limit_countdown() {
        let limited = "ratelimit: \"token\";r=0;t=17\r\nretry-after: 17\r\ncontent-length: 99\r\n\r\n{\"detail\":\"retry in 17 s.\",\"retry_after\":17}";
        let later = limited.replace("17", "9").replace("99", "98");
        assert_eq!(masked(limited), masked(&later));
        assert_eq!(
            masked(limited),
            "ratelimit: \"token\";r=0;t=*\r\nretry-after: *\r\ncontent-length: *\r\n\r\n{\"detail\":\"retry in * s.\",\"retry_after\":*}"
        );
        assert_ne!(masked(limited), masked(&limited.replace("r=0", "r=1")));
    }
}
