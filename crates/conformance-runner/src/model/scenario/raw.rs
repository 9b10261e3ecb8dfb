//! The scenario format as written: serde types that deny unknown fields,
//! with spans for every value a diagnostic may point at. No untagged enums
//! or flatten, whose error messages are poor.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub(crate) scenario: Vec<Spanned<RawScenario>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub(crate) id: Spanned<String>,
    pub(crate) code: Spanned<String>,
    pub(crate) description: Spanned<String>,
    #[serde(default)]
    pub(crate) tags: Vec<Spanned<String>>,
    pub(crate) standard: Option<Spanned<String>>,
    pub(crate) envelope: Option<Spanned<String>>,
    /// Accepted only to reject it with a clear message.
    pub(crate) status: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(crate) setup: Vec<Spanned<RawStep>>,
    pub(crate) request: Spanned<RawRequest>,
    pub(crate) expect: Option<Spanned<RawExpect>>,
    #[serde(default)]
    pub(crate) cleanup: Vec<Spanned<RawStep>>,
    #[serde(default)]
    pub(crate) distinct: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequest {
    pub(crate) method: Spanned<String>,
    pub(crate) path: Spanned<String>,
    #[serde(default)]
    pub(crate) headers: BTreeMap<Spanned<String>, Spanned<String>>,
    pub(crate) json: Option<Spanned<toml::Value>>,
    pub(crate) body: Option<Spanned<String>>,
    pub(crate) status: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub(crate) capture: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) method: Option<Spanned<String>>,
    pub(crate) path: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) headers: BTreeMap<Spanned<String>, Spanned<String>>,
    pub(crate) json: Option<Spanned<toml::Value>>,
    pub(crate) body: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) capture: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub(crate) allow_status: Vec<Spanned<u16>>,
    /// A count, or `{{fixture.NAME}}` (validated in `validate`).
    pub(crate) repeat: Option<Spanned<toml::Value>>,
    pub(crate) receiver: Option<Spanned<RawReceiver>>,
    pub(crate) webauthn: Option<Spanned<RawWebAuthn>>,
    pub(crate) totp: Option<Spanned<String>>,
    pub(crate) if_captured: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReceiver {
    pub(crate) secret: Option<Spanned<String>>,
    pub(crate) respond: Option<Spanned<u16>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    #[serde(default)]
    pub(crate) headers: BTreeMap<Spanned<String>, Spanned<RawHeaderMatch>>,
    #[serde(default)]
    pub(crate) body: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    pub(crate) body_matches: BTreeMap<Spanned<String>, Spanned<String>>,
    pub(crate) status: Option<Spanned<toml::Value>>,
}

/// A header expectation: a string (exact value) or a table with exactly one
/// of `equals`, `contains`, `matches`, `present = true`, `absent = true`.
pub(crate) enum RawHeaderMatch {
    Equals(String),
    Contains(String),
    Excludes(String),
    Matches(String),
    Present,
    Absent,
}

pub(crate) const HEADER_MATCH_SHAPE: &str = "a string, or a table with exactly one of `equals`, `contains`, `excludes`, `matches`, `present = true`, `absent = true`";

impl<'de> Deserialize<'de> for RawHeaderMatch {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawHeaderMatch;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(HEADER_MATCH_SHAPE)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawHeaderMatch, E> {
                Ok(RawHeaderMatch::Equals(v.to_owned()))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawHeaderMatch, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<String>()? {
                    let value = match key.as_str() {
                        "equals" => RawHeaderMatch::Equals(map.next_value()?),
                        "contains" => RawHeaderMatch::Contains(map.next_value()?),
                        "excludes" => RawHeaderMatch::Excludes(map.next_value()?),
                        "matches" => RawHeaderMatch::Matches(map.next_value()?),
                        "present" | "absent" => {
                            if !map.next_value::<bool>()? {
                                return Err(de::Error::custom(format!(
                                    "write `{key} = true`; `false` says nothing"
                                )));
                            }
                            if key == "present" {
                                RawHeaderMatch::Present
                            } else {
                                RawHeaderMatch::Absent
                            }
                        }
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &[
                                    "equals", "contains", "excludes", "matches", "present",
                                    "absent",
                                ],
                            ));
                        }
                    };
                    if found.replace(value).is_some() {
                        return Err(de::Error::custom(format!("expected {HEADER_MATCH_SHAPE}")));
                    }
                }
                found.ok_or_else(|| de::Error::custom(format!("expected {HEADER_MATCH_SHAPE}")))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
/// A `webauthn` step: see [`super::webauthn`].
pub(crate) struct RawWebAuthn {
    pub(crate) ceremony: Spanned<String>,
    pub(crate) challenge: Spanned<String>,
    pub(crate) attestation: Option<Spanned<String>>,
    pub(crate) aaguid: Option<Spanned<String>>,
    pub(crate) attestation_key: Option<Spanned<String>>,
    pub(crate) attestation_cert: Option<Spanned<String>>,
    pub(crate) credential_id: Option<Spanned<String>>,
    pub(crate) private_key: Option<Spanned<String>>,
    pub(crate) origin: Option<Spanned<String>>,
    pub(crate) rp_id: Option<Spanned<String>>,
    #[serde(rename = "type")]
    pub(crate) client_data_type: Option<Spanned<String>>,
    pub(crate) user_present: Option<bool>,
    pub(crate) user_verified: Option<bool>,
    pub(crate) counter: Option<u32>,
    pub(crate) tamper: Option<Spanned<String>>,
}
