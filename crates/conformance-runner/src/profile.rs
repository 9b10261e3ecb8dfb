//! Profiles: what a target provides (fixture ids, credentials, envelope, skips).
//!
//! A profile is a TOML file (`fixtures/profiles/*.toml`). `mock.toml` is
//! embedded in the runner and matches the mock's seed; `staging.example.toml`
//! shows a live target. Credentials name an environment variable
//! (`{ env = "NAME" }`); a literal `{ value = "..." }` is accepted only for a
//! loopback target, so a staging secret can never sit in a file.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::Deserialize;
use toml::Spanned;

use crate::scenario::{Diagnostic, SourceFile, is_json_pointer, line_column};

/// The embedded default profile (the mock's seed).
pub const MOCK_PROFILE: &str = include_str!("../../../fixtures/profiles/mock.toml");

/// Name under which the embedded profile is reported.
pub const MOCK_PROFILE_NAME: &str = "fixtures/profiles/mock.toml";

/// A loaded profile; credentials are not resolved yet.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The profile's name, for reports.
    pub name: String,
    /// The file it was read from.
    pub file: String,
    /// The target's base URL, unless given on the command line.
    pub base_url: Option<String>,
    /// Where problem `type` links must point; `None` accepts any absolute base.
    pub docs_base: Option<String>,
    /// Where the reference page is for links in reports.
    pub report_docs_base: String,
    /// Credentials by name.
    pub credentials: BTreeMap<String, Credential>,
    /// Fixture ids the target provides, by name.
    pub fixtures: BTreeMap<String, String>,
    /// Where the target puts the code in its body.
    pub code_pointer: String,
    /// Whether bodies are held against the documented envelope schemas.
    pub body_contract: bool,
    /// Where the webhook receiver listens.
    pub receiver_bind: SocketAddr,
    /// The receiver's URL as the target sees it, when it is not the bind address.
    pub receiver_public_url: Option<String>,
    /// Scenarios this target skips, with a reason.
    pub skips: Vec<Skip>,
    /// Bounds on what a run spends (`[limits]`).
    pub limits: Limits,
    /// How the runner reaches the target (`[transport]`).
    pub transport: Transport,
}

/// `[limits]`: what a hostile or broken target can make a run spend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest response body read; a larger one fails its scenario.
    pub max_body_bytes: usize,
    /// How long the cleanups of an interrupted run may take in total.
    pub cleanup_budget: std::time::Duration,
    /// Total time a run may spend waiting for `Retry-After`.
    pub retry_after_budget: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 1024 * 1024,
            cleanup_budget: std::time::Duration::from_secs(30),
            retry_after_budget: std::time::Duration::from_secs(60),
        }
    }
}

/// `[transport]`: trust and plain-HTTP policy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transport {
    /// A PEM file of CA certificates trusted besides the system store.
    pub ca_file: Option<std::path::PathBuf>,
    /// Whether credentials may go to a non-loopback `http://` target.
    pub credentials_over_http: bool,
}

/// Where a credential's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// An environment variable.
    Env(String),
    /// Written in the profile; only for loopback targets.
    Literal(String),
}

/// A scenario (or a `prefix*` of ids) the target does not run.
#[derive(Clone, Debug)]
pub struct Skip {
    /// An id, or a prefix ending in `*`.
    pub pattern: String,
    /// Why.
    pub reason: String,
    /// Line in the profile.
    pub line: usize,
}

impl Skip {
    /// Whether this skip applies to `id`.
    pub fn matches(&self, id: &str) -> bool {
        match self.pattern.strip_suffix('*') {
            Some(prefix) => id.starts_with(prefix),
            None => id == self.pattern,
        }
    }
}

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("failed to read profile {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is invalid.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Spanned<String>,
    base_url: Option<Spanned<String>>,
    docs_base: Option<Spanned<String>>,
    #[serde(default)]
    credentials: BTreeMap<Spanned<String>, Spanned<RawCredential>>,
    #[serde(default)]
    fixtures: BTreeMap<String, Spanned<String>>,
    envelope: Option<RawEnvelope>,
    receiver: Option<RawReceiver>,
    #[serde(default)]
    skip: Vec<Spanned<RawSkip>>,
    limits: Option<RawLimits>,
    transport: Option<RawTransport>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_body_bytes: Option<Spanned<u64>>,
    cleanup_budget_secs: Option<Spanned<u64>>,
    retry_after_budget_secs: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransport {
    ca_file: Option<String>,
    credentials_over_http: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCredential {
    env: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope {
    code_pointer: Option<Spanned<String>>,
    body_contract: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReceiver {
    bind: Option<Spanned<String>>,
    public_url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSkip {
    scenario: Spanned<String>,
    reason: Spanned<String>,
}

impl Profile {
    /// The embedded mock profile.
    pub fn mock() -> Profile {
        // The embedded file is tested to load; a failure is a build defect.
        Profile::parse(&SourceFile {
            name: MOCK_PROFILE_NAME.into(),
            text: MOCK_PROFILE.into(),
        })
        .expect("the embedded mock profile is valid")
    }

    /// Reads and parses a profile file.
    pub fn load(path: &std::path::Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Profile::parse(&SourceFile {
            name: path.display().to_string(),
            text,
        })
    }

    /// Parses a profile.
    pub fn parse(file: &SourceFile) -> Result<Profile, ProfileError> {
        let mut errors = Vec::new();
        let mut error = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = line_column(&file.text, span.start);
            errors.push(Diagnostic {
                file: file.name.clone(),
                line,
                column,
                message,
            });
        };
        let raw: RawProfile = match toml::from_str(&file.text) {
            Ok(raw) => raw,
            Err(e) => {
                error(e.span().unwrap_or(0..0), e.message().trim_end().to_owned());
                return Err(ProfileError::Invalid(errors));
            }
        };
        for url in [&raw.base_url, &raw.docs_base].into_iter().flatten() {
            let u = url.get_ref();
            if !(u.starts_with("http://") || u.starts_with("https://"))
                || reqwest::Url::parse(u).is_err()
            {
                error(url.span(), format!("`{u}` is not an http(s) URL"));
            }
        }
        let mut credentials = BTreeMap::new();
        for (name, cred) in raw.credentials {
            let span = cred.span();
            let c = cred.into_inner();
            match (c.env, c.value) {
                (Some(env), None) if !env.is_empty() => {
                    credentials.insert(name.into_inner(), Credential::Env(env));
                }
                (None, Some(value)) => {
                    credentials.insert(name.into_inner(), Credential::Literal(value));
                }
                _ => error(
                    span,
                    format!(
                        "credential `{}` needs exactly one of `env` (an environment variable) or `value` (loopback targets only)",
                        name.get_ref()
                    ),
                ),
            }
        }
        let envelope = raw.envelope.unwrap_or(RawEnvelope {
            code_pointer: None,
            body_contract: None,
        });
        let code_pointer = match envelope.code_pointer {
            Some(p) if !is_json_pointer(p.get_ref()) || p.get_ref().is_empty() => {
                error(
                    p.span(),
                    format!(
                        "`{}` is not a JSON Pointer to a member (like `/code`)",
                        p.get_ref()
                    ),
                );
                String::new()
            }
            Some(p) => p.into_inner(),
            None => "/code".to_owned(),
        };
        let (receiver_bind, receiver_public_url) = match raw.receiver {
            Some(r) => {
                let bind = match r.bind {
                    Some(b) => b.get_ref().parse().unwrap_or_else(|_| {
                        error(
                            b.span(),
                            format!(
                                "`{}` is not a socket address (like 127.0.0.1:0)",
                                b.get_ref()
                            ),
                        );
                        default_bind()
                    }),
                    None => default_bind(),
                };
                let public = r.public_url.map(|u| {
                    if reqwest::Url::parse(u.get_ref()).is_err() {
                        error(u.span(), format!("`{}` is not a URL", u.get_ref()));
                    }
                    u.into_inner().trim_end_matches('/').to_owned()
                });
                (bind, public)
            }
            None => (default_bind(), None),
        };
        let mut skips = Vec::new();
        for skip in raw.skip {
            let line = line_column(&file.text, skip.span().start).0;
            let s = skip.into_inner();
            if s.reason.get_ref().trim().is_empty() {
                error(s.reason.span(), "a skip needs a reason".into());
            }
            skips.push(Skip {
                pattern: s.scenario.into_inner(),
                reason: s.reason.into_inner(),
                line,
            });
        }
        let mut limits = Limits::default();
        if let Some(raw) = raw.limits {
            if let Some(n) = raw.max_body_bytes {
                match usize::try_from(*n.get_ref()) {
                    Ok(v) if v >= 1024 => limits.max_body_bytes = v,
                    _ => error(n.span(), "`max_body_bytes` is at least 1024".into()),
                }
            }
            if let Some(n) = raw.cleanup_budget_secs {
                if *n.get_ref() == 0 {
                    error(n.span(), "`cleanup_budget_secs` is at least 1".into());
                }
                limits.cleanup_budget = std::time::Duration::from_secs(*n.get_ref());
            }
            if let Some(n) = raw.retry_after_budget_secs {
                limits.retry_after_budget = std::time::Duration::from_secs(n);
            }
        }
        let transport = raw
            .transport
            .map_or_else(Transport::default, |t| Transport {
                // A relative CA file is relative to the profile.
                ca_file: t.ca_file.map(|f| {
                    let dir = std::path::Path::new(&file.name).parent();
                    dir.map_or_else(|| f.clone().into(), |d| d.join(&f))
                }),
                credentials_over_http: t.credentials_over_http.unwrap_or(false),
            });
        if !errors.is_empty() {
            return Err(ProfileError::Invalid(errors));
        }
        let docs_base = raw
            .docs_base
            .map(|d| d.into_inner().trim_end_matches('/').to_owned());
        Ok(Profile {
            name: raw.name.into_inner(),
            file: file.name.clone(),
            base_url: raw.base_url.map(Spanned::into_inner),
            report_docs_base: docs_base
                .clone()
                .unwrap_or_else(|| catalog::DEFAULT_DOCS_BASE.to_owned()),
            docs_base,
            credentials,
            fixtures: raw
                .fixtures
                .into_iter()
                .map(|(k, v)| (k, v.into_inner()))
                .collect(),
            code_pointer,
            body_contract: envelope.body_contract.unwrap_or(true),
            receiver_bind,
            receiver_public_url,
            skips,
            limits,
            transport,
        })
    }

    /// The skip that applies to `id`, if any.
    pub fn skip_for(&self, id: &str) -> Option<&Skip> {
        self.skips.iter().find(|s| s.matches(id))
    }
}

fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Whether a URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
