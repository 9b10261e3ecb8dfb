//! Setup steps answered 429: wait `Retry-After` (bounded per wait and by
//! the run's budget) and try again; the asserted request is never retried.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::check::Observed;
use crate::exec::http::{prepare, send};
use crate::exec::shared::Shared;
use crate::model::scenario::Request;
use crate::model::template::Vars;

/// Retries of a setup step answered 429.
pub(crate) const SETUP_RETRIES: u32 = 3;
/// Longest `Retry-After` a setup step waits for; a longer one fails the step.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Sends a setup request; on 429 waits `Retry-After` (at most
/// [`MAX_RETRY_AFTER`]) and tries again, [`SETUP_RETRIES`] times.
pub(crate) async fn send_retrying(
    shared: &Shared,
    request: &Request,
    vars: &Vars<'_>,
    retry: bool,
) -> Result<Observed, String> {
    let mut attempt = 0;
    loop {
        let prepared = prepare(shared, request, vars).map_err(|e| e.to_string())?;
        let observed = send(shared, prepared).await?;
        if !retry || observed.status != 429 || attempt >= SETUP_RETRIES {
            return Ok(observed);
        }
        let wait = retry_after(&observed.headers).unwrap_or(Duration::from_secs(1));
        if wait > MAX_RETRY_AFTER || !spend_retry_budget(shared, wait) {
            return Ok(observed);
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shared.stopped() => return Ok(observed),
        }
        attempt += 1;
    }
}

/// Takes `wait` from the run's `Retry-After` budget; false (and one warning)
/// once it is spent.
pub(crate) fn spend_retry_budget(shared: &Shared, wait: Duration) -> bool {
    let budget =
        u64::try_from(shared.profile.limits.retry_after_budget.as_millis()).unwrap_or(u64::MAX);
    let wait = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    let before = shared.retry_waited_ms.fetch_add(wait, Ordering::Relaxed);
    if before.saturating_add(wait) <= budget {
        return true;
    }
    shared.retry_waited_ms.fetch_sub(wait, Ordering::Relaxed);
    if !shared.retry_budget_warned.swap(true, Ordering::Relaxed) {
        shared.warn(format!(
            "the run's Retry-After budget ({} s, the profile's `[limits] retry_after_budget_secs`) is spent: later 429 answers to setup steps are not retried",
            budget / 1000
        ));
    }
    false
}

/// `Retry-After` in delay-seconds.
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let text = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}
