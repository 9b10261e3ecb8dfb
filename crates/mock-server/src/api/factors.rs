//! Factor enrolment: `POST /v1/workspaces/{workspace}/factors`, for the caller.
//!
//! The one `/v1` call a user without a factor may make in a workspace that requires MFA (the
//! [`Enrolling`] extractor skips MFA_REQUIRED). WebAuthn factors carry an `attestationObject`
//! that [`crate::webauthn`] decodes for its format and AAGUID; the workspace's AAGUID
//! allowlist then decides ATTESTATION_BLOCKED. Nothing cryptographic is verified; see
//! `docs/api.md` and the `webauthn` module docs for the list.

use axum::Json;
use axum::extract::State;
use catalog::Code;
use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::auth::Enrolling;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::FactorType;
use crate::state::AppState;
use crate::store::Factor;
use crate::webauthn::{Aaguid, AttestationFormat, parse_attestation_object};

/// The TOTP secret the mock hands out; it accepts any six digits anyway.
pub(crate) const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXP";

/// The request body (`EnrolFactorRequest`).
#[derive(Debug, Deserialize)]
pub(crate) struct Enrol {
    #[serde(rename = "type")]
    pub kind: FactorType,
    /// WebAuthn factors: the registration's attestation object, base64url CBOR.
    #[serde(rename = "attestationObject", default)]
    pub attestation_object: Option<String>,
}

/// The response body (`Factor`).
#[derive(Debug, Serialize)]
pub(crate) struct Enrolled {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: FactorType,
    /// WebAuthn: the attestation format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fmt: Option<String>,
    /// WebAuthn: the authenticator model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aaguid: Option<Aaguid>,
    /// TOTP: the shared secret (base32).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `POST /v1/workspaces/{workspace}/factors`.
pub(crate) async fn enrol(
    State(state): State<AppState>,
    Enrolling(caller): Enrolling,
    body: JsonBody,
) -> Result<(StatusCode, Json<Enrolled>), ApiError> {
    let request: Enrol = body.parse(state.schemas(), "EnrolFactorRequest")?;
    let mut factor = Factor {
        id: state.next_id("fac_"),
        kind: request.kind,
        aaguid: None,
        fmt: None,
    };
    if request.kind.is_webauthn() {
        // The schema requires the member for WebAuthn types; an absent one reads as empty and
        // fails to decode below rather than panicking.
        let encoded = request.attestation_object.as_deref().unwrap_or_default();
        let attestation = parse_attestation_object(encoded)
            .map_err(|e| ApiError::invalid_body(format!("/{}", e.field()), e.to_string()))?;
        check_allowlist(
            &state,
            &caller.workspace,
            &attestation.fmt,
            attestation.aaguid,
        )?;
        factor.aaguid = Some(attestation.aaguid);
        factor.fmt = Some(attestation.fmt.as_str().to_owned());
    }
    let response = Enrolled {
        id: factor.id.clone(),
        kind: factor.kind,
        fmt: factor.fmt.clone(),
        aaguid: factor.aaguid,
        secret: (factor.kind == FactorType::Totp).then(|| TOTP_SECRET.to_owned()),
    };
    let mut store = state.write();
    match store.user_mut(&caller.user) {
        Some(user) => user.factors.push(factor),
        // Deleted between authentication and now: as if the token had been revoked.
        None => return Err(ApiError::not_found()),
    }
    Ok((StatusCode::CREATED, Json(response)))
}

/// ATTESTATION_BLOCKED unless the workspace accepts the authenticator model.
fn check_allowlist(
    state: &AppState,
    workspace: &str,
    fmt: &AttestationFormat,
    aaguid: Aaguid,
) -> Result<(), ApiError> {
    let store = state.read();
    let allowlist = store
        .workspaces
        .get(workspace)
        .map(|w| w.aaguid_allowlist.as_slice())
        .unwrap_or_default();
    if allowlist.is_empty() || allowlist.contains(&aaguid) {
        return Ok(());
    }
    let detail = if aaguid.is_zero() {
        format!(
            "The attestation (format `{fmt}`) has the all-zero AAGUID, so it does not identify the authenticator model the workspace allowlist requires."
        )
    } else {
        format!(
            "The authenticator model {aaguid} (format `{fmt}`) is not on the workspace allowlist."
        )
    };
    Err(ApiError::new(Code::AttestationBlocked, detail))
}
