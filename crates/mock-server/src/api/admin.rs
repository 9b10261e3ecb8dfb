//! `POST /admin/reset`: back to the seed, for loopback peers only.

use axum::extract::{Request, State};
use catalog::Code;
use http::StatusCode;

use crate::error::ApiError;
use crate::extract::peer_addr;
use crate::state::AppState;

/// Restores the seed state. Only the TCP peer counts (never a forwarded address): resetting is
/// for the test harness on the same machine.
pub(crate) async fn reset(
    State(state): State<AppState>,
    request: Request,
) -> Result<StatusCode, ApiError> {
    let loopback =
        peer_addr(request.extensions()).is_some_and(|a| a.ip().to_canonical().is_loopback());
    if !loopback {
        return Err(ApiError::new(
            Code::Forbidden,
            "The state can only be reset from the machine the mock runs on.",
        ));
    }
    state.reset();
    tracing::info!("state reset to the seed");
    Ok(StatusCode::NO_CONTENT)
}
