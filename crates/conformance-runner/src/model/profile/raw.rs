//! The profile file as written: serde types with spans, which
//! [`super::Profile::parse`] validates into the model.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProfile {
    pub(super) name: Spanned<String>,
    pub(super) base_url: Option<Spanned<String>>,
    pub(super) docs_base: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) credentials: BTreeMap<Spanned<String>, Spanned<RawCredential>>,
    #[serde(default)]
    pub(super) fixtures: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(super) paths: BTreeMap<String, Spanned<String>>,
    pub(super) standard_only: Option<bool>,
    pub(super) reachability: Option<RawReachability>,
    pub(super) envelope: Option<RawEnvelope>,
    pub(super) receiver: Option<RawReceiver>,
    #[serde(default)]
    pub(super) skip: Vec<Spanned<RawSkip>>,
    pub(super) snapshots: Option<crate::model::normalize::RawSnapshots>,
    pub(super) limits: Option<RawLimits>,
    pub(super) transport: Option<RawTransport>,
    pub(super) webauthn: Option<Spanned<RawWebAuthnClient>>,
    pub(super) network: Option<RawNetwork>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebAuthnClient {
    pub(super) rp_id: Spanned<String>,
    pub(super) origin: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNetwork {
    pub(super) untrusted_source: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub(super) max_body_bytes: Option<Spanned<u64>>,
    pub(super) cleanup_budget_secs: Option<Spanned<u64>>,
    pub(super) retry_after_budget_secs: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTransport {
    pub(super) ca_file: Option<String>,
    pub(super) credentials_over_http: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCredential {
    pub(super) env: Option<String>,
    pub(super) value: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnvelope {
    /// The older name of `problem_code` (a body JSON Pointer).
    pub(super) code_pointer: Option<Spanned<String>>,
    pub(super) problem_code: Option<Spanned<String>>,
    pub(super) scim_code: Option<Spanned<String>>,
    pub(super) body_contract: Option<bool>,
    pub(super) request_id_header: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReachability {
    pub(super) path: Spanned<String>,
    pub(super) status: Spanned<u16>,
    pub(super) media_type: Option<String>,
    #[serde(default)]
    pub(super) body: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    pub(super) credential: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReceiver {
    pub(super) bind: Option<Spanned<String>>,
    pub(super) public_url: Option<Spanned<String>>,
    pub(super) public_url_env: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSkip {
    pub(super) scenario: Spanned<String>,
    pub(super) reason: Spanned<String>,
}
