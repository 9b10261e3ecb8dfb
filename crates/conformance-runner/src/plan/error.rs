//! Why a plan is refused: usage and configuration errors (exit code 2),
//! each naming what to fix and where.

use crate::model::profile::ProfileError;
use crate::model::scenario::LoadError;

/// A usage or configuration error (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Scenario files are invalid.
    #[error(transparent)]
    Scenarios(#[from] LoadError),
    /// The profile is invalid.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Neither `--target` nor the profile's `base_url`.
    #[error("no target: pass --target URL or set `base_url` in {0}")]
    NoTarget(String),
    /// The target is not an http(s) URL.
    #[error("target `{0}` is not an http(s) URL")]
    BadTarget(String),
    /// A skip in the profile matches no scenario.
    #[error(
        "{file}:{line}: skip `{pattern}` matches no scenario (remove it, or pass --partial when the scenarios are only a part of the suite)"
    )]
    StaleSkip {
        /// The profile's file, as given.
        file: String,
        /// 1-based line of the `[[skip]]` in that file.
        line: usize,
        /// The skip's `scenario`: an id, or a prefix ending in `*`.
        pattern: String,
    },
    /// A scenario refers to a credential or fixture the profile lacks.
    #[error(transparent)]
    MissingProfileValue(Box<MissingValue>),
    /// Credentials whose environment variable is unset or empty, all of them.
    #[error(
        "{} credential(s) missing; set {}:\n{}",
        .0.len(),
        if .0.len() == 1 { "this environment variable" } else { "these environment variables" },
        .0.iter().map(|m| format!("  {m}")).collect::<Vec<_>>().join("\n")
    )]
    MissingEnv(Vec<MissingEnv>),
    /// A literal credential with a non-loopback target.
    #[error(
        "credential `{name}` is written in {profile}, but target {target} is not loopback: read it from the environment with `{name} = {{ env = \"...\" }}`"
    )]
    LiteralCredential {
        /// The credential's name in the profile.
        name: String,
        /// Where it is written: the profile's file, or words for the
        /// embedded mock profile.
        profile: String,
        /// The target's base URL.
        target: String,
    },
    /// The filters select nothing.
    #[error("the filters select no scenario")]
    NothingSelected,
    /// A world fact the profile names does not suit a scenario: a count
    /// that is no count, or values that must differ and do not.
    #[error("{file}:{line}: scenario `{id}`: {problem}")]
    UnsuitedFixture {
        /// The scenario's file, as given to the loader.
        file: String,
        /// 1-based line of the `repeat` step, or of the scenario's `id` for
        /// `distinct`.
        line: usize,
        /// The scenario's id.
        id: String,
        /// What is wrong, naming the fixture and the profile.
        problem: String,
    },
    /// Fixtures the selection uses that the profile leaves empty, all of them.
    #[error(
        "{} fixture(s) empty in {profile}; set each to your target's (`conformance-runner requirements --profile {profile}` says what each must be):\n{}",
        .fixtures.len(),
        .fixtures.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n")
    )]
    EmptyFixtures {
        /// The profile's file, as given.
        profile: String,
        /// `name (used by id at file:line)`, by name.
        fixtures: Vec<String>,
    },
    /// Scenarios with a WebAuthn ceremony, and a profile that does not say
    /// which relying party and origin the runner's authenticator claims.
    #[error(
        "{profile} has no `[webauthn]` (`rp_id` and `origin`: the target's relying party id and web origin), which the WebAuthn ceremonies of {} scenario(s) need, such as `{first}`",
        .count
    )]
    NoWebAuthnClient {
        /// The profile's file, as given.
        profile: String,
        /// How many selected scenarios have a `webauthn` step.
        count: usize,
        /// The first of them.
        first: String,
    },
    /// Credentials would go over plain HTTP to a non-loopback host.
    #[error(
        "target {target} is plain http:// and not loopback: credentials would travel unencrypted; use https://, or set `[transport] credentials_over_http = true` in {profile} if you mean it"
    )]
    CredentialsOverHttp {
        /// The target's base URL.
        target: String,
        /// The profile's file, as given, where the switch would go.
        profile: String,
    },
}

/// A credential whose environment variable is unset or empty.
#[derive(Debug, thiserror::Error)]
#[error("{var} ({state}): credential `{name}`, needed by `{scenario}`")]
pub struct MissingEnv {
    /// The credential's name in the profile.
    pub name: String,
    /// The environment variable the profile reads it from.
    pub var: String,
    /// `unset` or `empty`.
    pub state: &'static str,
    /// A scenario that uses it.
    pub scenario: String,
}

/// A variable a scenario uses that the profile does not define.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: scenario `{id}` uses `{var}`, but {profile} defines no {kind} `{name}`")]
pub struct MissingValue {
    /// The scenario's file, as given to the loader.
    pub file: String,
    /// 1-based line of the template that uses the variable.
    pub line: usize,
    /// The scenario's id.
    pub id: String,
    /// The variable as written, e.g. `{{fixture.workspace}}`.
    pub var: String,
    /// The profile's file, as given.
    pub profile: String,
    /// `credential`, `fixture` or `path`.
    pub kind: &'static str,
    /// The name after `credential.`, `fixture.` or `path.`.
    pub name: String,
}
