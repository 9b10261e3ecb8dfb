//! Profiles: what a target provides (fixture ids, credentials, envelope, skips).
//!
//! The target's conventions live here and never in scenarios: the API and
//! SCIM base paths (`[paths]`, `{{path.NAME}}`), the names of every seeded
//! thing (`[fixtures]`, `{{fixture.NAME}}`), where each envelope carries the
//! platform's code (`[envelope]`), how to tell that the target speaks the
//! expected API (`[reachability]`) and whether only standard scenarios run
//! (`standard_only`).
//!
//! A profile is a TOML file (`fixtures/profiles/*.toml`). `mock.toml` is
//! embedded in the runner and matches the mock's seed; `staging.example.toml`
//! shows a live target. Credentials name an environment variable
//! (`{ env = "NAME" }`); a literal `{ value = "..." }` is accepted only for a
//! loopback target, so a staging secret can never sit in a file.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use response_schema::CodeAt;
use toml::Spanned;

use crate::model::scenario::{Diagnostic, SourceFile, is_json_pointer, line_column, toml_to_json};
use crate::model::template::{Template, Var};

/// The embedded default profile (the mock's seed).
pub(crate) const MOCK_PROFILE: &str = include_str!("../../../../fixtures/profiles/mock.toml");

/// Name under which the embedded profile is reported.
pub(crate) const MOCK_PROFILE_NAME: &str = "fixtures/profiles/mock.toml";

/// A loaded profile; credentials are not resolved yet.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The profile's name, for reports.
    pub name: String,
    /// The file it was read from.
    pub(crate) file: String,
    /// The target's base URL, unless given on the command line.
    pub base_url: Option<String>,
    /// Where problem `type` links must point; `None` accepts any absolute base.
    pub(crate) docs_base: Option<String>,
    /// Where the reference page is for links in reports.
    pub(crate) report_docs_base: String,
    /// Credentials by name.
    pub credentials: BTreeMap<String, Credential>,
    /// Fixture ids the target provides, by name.
    pub fixtures: BTreeMap<String, String>,
    /// Base paths (`api`, `scim`), by name, without a trailing `/`.
    pub(crate) paths: BTreeMap<String, String>,
    /// Where a problem response carries the platform's code.
    pub problem_code: CodeAt,
    /// Where a SCIM error carries the platform's code.
    pub(crate) scim_code: CodeAt,
    /// Run only scenarios that prove a standard (RFC) rule.
    pub standard_only: bool,
    /// How to tell the target speaks the expected API; `None`: any HTTP
    /// answer from `/healthz` will do.
    pub(crate) reachability: Option<Reachability>,
    /// Whether bodies are held against the documented envelope schemas.
    pub body_contract: bool,
    /// Where the webhook receiver listens.
    pub receiver_bind: SocketAddr,
    /// The receiver's URL as the target sees it, when it is not the bind address.
    pub(crate) receiver_public_url: Option<String>,
    /// An environment variable holding the receiver's public URL; when it is
    /// unset or empty, the scenarios that need a receiver are skipped with a
    /// reason saying so (a release gate without a public receiver).
    pub receiver_public_url_env: Option<String>,
    /// Scenarios this target skips, with a reason.
    pub(crate) skips: Vec<Skip>,
    /// Snapshot settings: drift policy, extra headers, normalisation rules.
    pub(crate) snapshots: crate::model::normalize::SnapshotSettings,
    /// Bounds on what a run spends (`[limits]`).
    pub(crate) limits: Limits,
    /// How the runner reaches the target (`[transport]`).
    pub(crate) transport: Transport,
    /// The header every error response carries its request id in (a
    /// problem body's `request_id` equals it); `None` (`request_id_header
    /// = "none"`, or a `standard_only` profile) checks no request id.
    pub request_id_header: Option<String>,
    /// A local address the runner sends the asserted request of an
    /// `untrusted-peer` scenario from: one the target does not trust as a
    /// proxy (`[network] untrusted_source`). `None` skips those scenarios.
    pub untrusted_source: Option<std::net::IpAddr>,
    /// What the runner's WebAuthn client claims (`[webauthn]`); `None`:
    /// scenarios with a `webauthn` step cannot run.
    pub(crate) webauthn: Option<WebAuthnClient>,
}

/// The relying party the runner's software authenticator talks to, and the
/// origin its client claims: the target's, as a browser on the platform's
/// web app would see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WebAuthnClient {
    /// The RP id (a registrable domain, `platform.example`).
    pub rp_id: String,
    /// The web origin (`https://platform.example`).
    pub origin: String,
}

/// A request whose answer shows the target is the expected kind of server.
#[derive(Clone, Debug)]
pub(crate) struct Reachability {
    /// The path, relative to the target (only `path.` and `fixture.` variables).
    pub path: Template,
    /// The status it must answer.
    pub status: u16,
    /// The media type it must answer with, if any.
    pub media_type: Option<String>,
    /// Body members that must equal a value, by JSON Pointer.
    pub body: Vec<(String, serde_json::Value)>,
    /// A credential sent as `Authorization: Bearer`, for servers whose
    /// discovery endpoints need one.
    pub credential: Option<String>,
}

/// `[limits]`: what a hostile or broken target can make a run spend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
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
pub(crate) struct Transport {
    /// A PEM file of CA certificates trusted besides the system store.
    pub ca_file: Option<std::path::PathBuf>,
    /// Whether credentials may go to a non-loopback `http://` target.
    pub credentials_over_http: bool,
}

/// Where a credential's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// The name of the environment variable that holds the value, read when
    /// the plan is built.
    Env(String),
    /// Written in the profile; only for loopback targets.
    Literal(String),
}

/// A scenario (or a `prefix*` of ids) the target does not run.
#[derive(Clone, Debug)]
pub(crate) struct Skip {
    /// An id, or a prefix ending in `*`.
    pub pattern: String,
    /// The profile's `reason`, shown as the skipped scenario's skip reason.
    pub reason: String,
    /// Line in the profile.
    pub line: usize,
}

impl Skip {
    /// Whether this skip applies to `id`.
    pub(crate) fn matches(&self, id: &str) -> bool {
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
        /// The profile file's path, as given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is invalid.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
}

mod env;
mod raw;

pub use env::credential_env_var;
pub(crate) use env::env_name;

use raw::*;

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
        let file = SourceFile::read(path).map_err(|source| ProfileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Profile::parse(&file)
    }

    /// Parses a profile.
    pub fn parse(file: &SourceFile) -> Result<Profile, ProfileError> {
        let raw: RawProfile = file
            .parse_toml()
            .map_err(|d| ProfileError::Invalid(vec![d]))?;
        let mut errors = Vec::new();
        let mut error = |span: std::ops::Range<usize>, message: String| {
            errors.push(file.diagnostic(span.start, message));
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
            problem_code: None,
            scim_code: None,
            body_contract: None,
            request_id_header: None,
        });
        let code_at = |value: Option<Spanned<String>>, envelope: catalog::Envelope| {
            let Some(v) = value else {
                return Ok(CodeAt::default_for(envelope));
            };
            CodeAt::parse(v.get_ref()).ok_or_else(|| {
                (
                    v.span(),
                    format!(
                        "`{}` is not a JSON Pointer to a member (like `/code`), `header:NAME` or `none`",
                        v.get_ref()
                    ),
                )
            })
        };
        let mut unwrap_code = |r: Result<CodeAt, (std::ops::Range<usize>, String)>| {
            r.unwrap_or_else(|(span, message)| {
                error(span, message);
                CodeAt::Nowhere
            })
        };
        let scim_code = unwrap_code(code_at(envelope.scim_code, catalog::Envelope::Scim));
        let problem_code = match (envelope.code_pointer, envelope.problem_code) {
            (Some(p), None) if !is_json_pointer(p.get_ref()) || p.get_ref().is_empty() => {
                unwrap_code(Err((
                    p.span(),
                    format!(
                        "`{}` is not a JSON Pointer to a member (like `/code`)",
                        p.get_ref()
                    ),
                )))
            }
            (Some(p), None) => CodeAt::Body(p.into_inner()),
            (Some(_), Some(p)) => unwrap_code(Err((
                p.span(),
                "`problem_code` replaces `code_pointer`: give only one".into(),
            ))),
            (None, p) => unwrap_code(code_at(p, catalog::Envelope::Problem)),
        };
        let mut paths = BTreeMap::new();
        for (name, value) in raw.paths {
            let v = value.get_ref();
            if !(v.is_empty() || v.starts_with('/')) || v.ends_with('/') || v.contains(['?', '#']) {
                error(
                    value.span(),
                    format!(
                        "path `{name}` = `{v}` must be empty or start with `/`, and not end with `/`"
                    ),
                );
            }
            paths.insert(name, value.into_inner());
        }
        let reachability = raw.reachability.and_then(|r| {
            let path = match Template::parse(r.path.get_ref()) {
                Ok(t) if r.path.get_ref().starts_with('/') || r.path.get_ref().starts_with("{{path.") => {
                    for var in t.vars() {
                        let known = match var {
                            Var::Path(n) => paths.contains_key(n),
                            Var::Fixture(n) => raw.fixtures.contains_key(n),
                            _ => false,
                        };
                        if !known {
                            error(
                                r.path.span(),
                                format!("`{var}`: the reachability path may use only the `path.` and `fixture.` values this profile defines"),
                            );
                        }
                    }
                    Some(t)
                }
                Ok(_) => {
                    error(r.path.span(), format!("path `{}` must start with `/`", r.path.get_ref()));
                    None
                }
                Err(e) => {
                    error(r.path.span(), e.to_string());
                    None
                }
            };
            if !(100..=599).contains(r.status.get_ref()) {
                error(r.status.span(), format!("{} is not an HTTP status", r.status.get_ref()));
            }
            let mut body = Vec::new();
            for (pointer, value) in r.body {
                if !is_json_pointer(pointer.get_ref()) {
                    error(pointer.span(), format!("`{}` is not a JSON Pointer", pointer.get_ref()));
                    continue;
                }
                match toml_to_json(value.get_ref()) {
                    Ok(v) => body.push((pointer.into_inner(), v)),
                    Err(e) => error(value.span(), e),
                }
            }
            if let Some(c) = &r.credential
                && !credentials.contains_key(c.get_ref())
            {
                error(
                    c.span(),
                    format!("credential `{}` is not in [credentials]", c.get_ref()),
                );
            }
            Some(Reachability {
                credential: r.credential.map(Spanned::into_inner),
                path: path?,
                status: r.status.into_inner(),
                media_type: r.media_type.map(|m| m.to_ascii_lowercase()),
                body,
            })
        });
        let mut receiver_public_url_env = None;
        let (receiver_bind, receiver_public_url) = match raw.receiver {
            Some(r) => {
                if let Some(env) = r.public_url_env {
                    if r.public_url.is_some() || env.get_ref().is_empty() {
                        error(
                            env.span(),
                            "give `public_url` or `public_url_env` (a non-empty variable name), not both".into(),
                        );
                    }
                    receiver_public_url_env = Some(env.into_inner());
                }
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
        let snapshots = raw
            .snapshots
            .map(|s| crate::model::normalize::SnapshotSettings::from_raw(s, &mut error))
            .unwrap_or_default();
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
        let webauthn = raw.webauthn.and_then(|w| {
            let w = w.into_inner();
            let (rp_id, origin) = (w.rp_id.get_ref(), w.origin.get_ref());
            let host = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            let mut ok = true;
            if !host.is_some_and(|h| !h.is_empty() && !h.contains(['/', '?', '#'])) {
                ok = false;
                error(
                    w.origin.span(),
                    format!("`{origin}` is not a web origin (`https://host[:port]`, no path)"),
                );
            }
            if rp_id.is_empty() || rp_id.contains([':', '/']) {
                ok = false;
                error(
                    w.rp_id.span(),
                    format!("`{rp_id}` is not an RP id (a domain such as `platform.example`)"),
                );
            }
            ok.then(|| WebAuthnClient {
                rp_id: rp_id.clone(),
                origin: origin.clone(),
            })
        });
        let standard_only = raw.standard_only.unwrap_or(false);
        let request_id_header = match envelope.request_id_header {
            Some(h) if h.get_ref() == "none" => None,
            Some(h) => match http::HeaderName::from_bytes(h.get_ref().as_bytes()) {
                Ok(name) => Some(name.as_str().to_owned()),
                Err(_) => {
                    error(
                        h.span(),
                        format!("`{}` is not a header name (or `none`)", h.get_ref()),
                    );
                    None
                }
            },
            // The RFCs define no request id: a server of the standards alone
            // owes none.
            None if standard_only => None,
            None => Some("x-request-id".to_owned()),
        };
        let untrusted_source = raw
            .network
            .and_then(|n| n.untrusted_source)
            .and_then(|a| match a.get_ref().parse::<std::net::IpAddr>() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    error(
                        a.span(),
                        format!(
                            "`{}` is not an IP address (a local address to send from, like 127.0.0.2)",
                            a.get_ref()
                        ),
                    );
                    None
                }
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
            paths,
            problem_code,
            scim_code,
            standard_only,
            reachability,
            body_contract: envelope.body_contract.unwrap_or(true),
            receiver_bind,
            receiver_public_url,
            receiver_public_url_env,
            skips,
            snapshots,
            limits,
            transport,
            webauthn,
            request_id_header,
            untrusted_source,
        })
    }

    /// Where `envelope` carries the platform's code on this target.
    pub(crate) fn code_at(&self, envelope: catalog::Envelope) -> &CodeAt {
        match envelope {
            catalog::Envelope::Problem => &self.problem_code,
            catalog::Envelope::Scim => &self.scim_code,
        }
    }

    /// The skip that applies to `id`, if any.
    pub(crate) fn skip_for(&self, id: &str) -> Option<&Skip> {
        self.skips.iter().find(|s| s.matches(id))
    }

    /// The `[reachability]` path with this profile's `path.` and `fixture.`
    /// values in it; `None` without that section. The one place it is
    /// rendered: the plan keeps the result for the probe, and
    /// `requirements` prints it.
    pub(crate) fn reachability_path(&self) -> Option<String> {
        let reachability = self.reachability.as_ref()?;
        let vars = crate::model::template::Vars {
            fixtures: Some(&self.fixtures),
            paths: Some(&self.paths),
            ..crate::model::template::Vars::default()
        };
        // The loader checked that every variable of this path is one of the
        // profile's, so rendering cannot fail.
        Some(reachability.path.render(&vars).unwrap_or_default())
    }
}

fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Whether a URL's host is a loopback address or `localhost`.
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Profile {
        Profile::parse(&SourceFile {
            name: "p.toml".into(),
            text: text.into(),
        })
        .expect("a valid profile")
    }

    #[test]
    fn the_reachability_path_is_rendered_with_the_profiles_paths_and_fixtures() {
        let profile = parse(
            "name = \"p\"\n[fixtures]\nacme = \"ws_7\"\n[paths]\napi = \"/v2\"\n\
             [reachability]\npath = \"{{path.api}}/workspaces/{{fixture.acme}}/users\"\nstatus = 401\n",
        );
        assert_eq!(
            profile.reachability_path().as_deref(),
            Some("/v2/workspaces/ws_7/users")
        );
        assert_eq!(parse("name = \"p\"\n").reachability_path(), None);
    }
}
