//! `conformance-runner init`: a commented profile for a target, without
//! reading the code.
//!
//! The profile is `fixtures/profiles/staging.example.toml` (embedded, so it
//! is the documented example, kept loadable by a test) with `base_url` set to
//! the target. It asks nothing; it refuses to overwrite a file unless told,
//! and prints the environment variables the profile reads.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::model::profile::{Credential, Profile, ProfileError};
use crate::model::scenario::SourceFile;

/// The example profile the written one is made from.
pub const EXAMPLE: &str = include_str!("../../../../fixtures/profiles/staging.example.toml");

/// `init`'s flags.
#[derive(clap::Args, Clone, Debug)]
pub struct InitArgs {
    /// Base URL of the server under test (written as the profile's `base_url`).
    #[arg(long, value_name = "URL")]
    pub target: String,
    /// Where to write the profile.
    #[arg(long, short, value_name = "FILE", default_value = "conformance.toml")]
    pub output: PathBuf,
    /// Replace the file when it exists.
    #[arg(long)]
    pub force: bool,
}

/// Why `init` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The target is not an http(s) URL.
    #[error("target `{0}` is not an http(s) URL")]
    BadTarget(String),
    /// The file exists and `--force` was not given.
    #[error("{} exists; pass --force to replace it", .0.display())]
    Exists(PathBuf),
    /// The file could not be written.
    #[error("failed to write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The profile made does not load (a bug: the example is tested).
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

/// The profile's text for `target`.
pub fn profile_text(target: &str) -> Result<String, InitError> {
    let url = reqwest::Url::parse(target)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| InitError::BadTarget(target.to_owned()))?;
    let host = url.host_str().unwrap_or("target").to_owned();
    let mut out = format!(
        "# A profile for {target}, written by `conformance-runner init`.\n\
         # Set the environment variables named under [credentials], adjust the\n\
         # fixtures and skips to what the target provides, then run:\n\
         #\n\
         #   conformance-runner --profile FILE\n\
         #\n\
         # Credentials are read from environment variables, never from this file.\n\
         # Every credential value is redacted in every report.\n"
    );
    let mut in_header = true;
    for line in EXAMPLE.lines() {
        // The example's own header comment speaks of copying it: drop it.
        if in_header && (line.starts_with('#') || line.is_empty()) {
            continue;
        }
        in_header = false;
        if line.starts_with("name = ") {
            out.push_str(&format!("name = {}\n", toml_string(&host)));
        } else if line.starts_with("base_url = ") {
            out.push_str(&format!("base_url = {}\n", toml_string(target)));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Writes the profile and tells `out` what to set.
pub fn run(args: &InitArgs, out: &mut dyn Write) -> Result<(), InitError> {
    let text = profile_text(&args.target)?;
    let profile = Profile::parse(&SourceFile {
        name: args.output.display().to_string(),
        text: text.clone(),
    })?;
    if args.output.exists() && !args.force {
        return Err(InitError::Exists(args.output.clone()));
    }
    write(&args.output, &text)?;
    let mut message = format!(
        "wrote {} for {}\n\nSet these environment variables before a run:\n",
        args.output.display(),
        args.target
    );
    for (name, source) in &profile.credentials {
        if let Credential::Env(var) = source {
            message.push_str(&format!("  export {var}=...    # credential `{name}`\n"));
        }
    }
    message.push_str(&format!(
        "\nthen: conformance-runner --profile {}\n",
        args.output.display()
    ));
    // A closed standard output does not undo the profile written.
    let _ = out.write_all(message.as_bytes());
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), InitError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| InitError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(|source| InitError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}
