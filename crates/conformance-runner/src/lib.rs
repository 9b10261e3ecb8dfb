//! The conformance runner: proves a server answers every documented error
//! exactly as the catalog says.
//!
//! The engine behind `cargo xtask conformance` and the `conformance-runner`
//! binary, in layers that import only downward: `model` (scenarios, profile,
//! templates, as validated data), `plan` (selection and validation against a
//! profile and a target: a [`Plan`]), [`check`] (judging one response),
//! [`report`] (one data model with drift and waivers, and its renderings),
//! `exec` (running a plan over HTTP) and [`cli`] (flags, subcommands, exit
//! codes). Every secret is redacted ([`redact`]) before any output. It never
//! depends on the mock: they meet only over HTTP and through the catalog.
//!
//! The public items below are what the binary, `cargo xtask` and the
//! integration tests use; everything else is private to the crate.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use conformance_runner::{Options, Plan, profile::Profile, report::progress::Progress};
//!
//! let options = Options {
//!     target: Some("http://127.0.0.1:8080".into()),
//!     ..Options::new(Profile::mock(), conformance_runner::embedded_scenarios()?)
//! };
//! let plan = Plan::new(options, &|name| std::env::var(name).ok())?;
//! let report = plan.run(&Progress::quiet(), std::future::pending()).await?;
//! println!("{}", report.closing_line());
//! # Ok(()) }
//! ```

// The report schema is one large `json!` literal (src/report/schema.rs).
#![recursion_limit = "256"]
#![warn(unreachable_pub)]

mod ceremony;
pub mod check;
pub mod cli;
mod exec;
mod model;
mod plan;
pub mod redact;
pub mod report;

pub use exec::cleanup::left_behind;
pub use exec::run::RunError;
pub use plan::{
    ConfigError, DEFAULT_JOBS, MissingEnv, MissingValue, Options, Plan, UNTRUSTED_PEER_TAG,
    embedded_scenarios,
};

/// Scenario files: loading them, and the validated model.
pub mod scenario {
    pub use crate::model::scenario::load::{load, load_dir};
    pub use crate::model::scenario::{Diagnostic, LoadError, Scenario, SourceFile, toml_to_json};
}

/// The profile of a target.
pub mod profile {
    pub use crate::model::profile::{Credential, Profile, ProfileError, credential_env_var};
}

/// Recorded snapshots of responses (`--snapshots`).
pub mod snapshot {
    pub use crate::report::snapshot::{file_name, parse, render};
}

/// Waivers of known failures (`--waivers`).
pub mod waiver {
    pub use crate::report::waiver::{Date, Waivers};
}

/// The generated JSON Schemas.
pub mod schema {
    pub use crate::cli::schema::{all, scenario};
    pub use crate::report::schema::{report, waivers_schema};
}
