//! `conformance-runner init`: a commented profile for a real staging,
//! without reading the code.
//!
//! Written from data, not copied from the mock's world: every fixture the
//! embedded suite uses is left empty under a comment saying what it must be
//! (the policy table, `plan/policy.rs`), so a run refuses the profile until
//! each is filled, listing them all; every credential is read from an
//! environment variable named after its role; the platform's documented
//! defaults (paths, docs base, envelope) are marked as such; no skip is
//! written, only commented examples with their reason; a loopback target
//! gets the loopback receiver. It refuses to overwrite a file unless told,
//! and prints every environment variable the profile reads.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::model::profile::{Credential, Profile, ProfileError, credential_env_var, is_loopback};
use crate::model::scenario::SourceFile;
use crate::plan::policy::{self, Kind, POLICIES};

/// The variable a public receiver URL is read from, for a remote target.
const RECEIVER_URL_ENV: &str = "CONFORMANCE_RECEIVER_URL";

/// `init`'s flags.
#[derive(clap::Args, Clone, Debug)]
pub struct InitArgs {
    /// Base URL of the server under test (written as the profile's `base_url`).
    #[arg(long, value_name = "URL")]
    pub(crate) target: String,
    /// Where to write the profile.
    #[arg(long, short, value_name = "FILE", default_value = "conformance.toml")]
    pub(crate) output: PathBuf,
    /// Replace the file when it exists.
    #[arg(long)]
    pub(crate) force: bool,
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
        /// The profile file `--output` names.
        path: PathBuf,
        /// The write error.
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
    let loopback = is_loopback(&url);
    // What the whole embedded suite uses, by name.
    let scenarios = crate::plan::embedded_scenarios().unwrap_or_default();
    let used = crate::plan::requirements::requirements(&Profile::mock(), scenarios, &[], None);
    let ordered =
        |kind: Kind, names: Vec<&String>| -> Vec<(String, Option<&'static policy::Policy>)> {
            let mut rows: Vec<(String, Option<&'static policy::Policy>)> = POLICIES
                .iter()
                .filter(|p| p.kind == kind && names.iter().any(|n| n.as_str() == p.name))
                .map(|p| (p.name.to_owned(), Some(p)))
                .collect();
            for n in names {
                if policy::policy(kind, n).is_none() {
                    rows.push((n.clone(), None));
                }
            }
            rows
        };

    let mut out = String::new();
    let _ = write!(
        out,
        "# A profile for {target}, written by `conformance-runner init`.\n\
         #\n\
         # 1. Fill in every empty value under [fixtures]: the names and facts of\n\
         #    the world the scenarios count on, on your target. The comment above\n\
         #    each says what it must be (`conformance-runner requirements\n\
         #    --profile FILE` prints the same for any selection). A run refuses\n\
         #    the profile while one it needs is empty, listing them all.\n\
         # 2. Set the environment variables under [credentials] (init lists them).\n\
         # 3. Run: conformance-runner --profile FILE\n\
         #\n\
         # `default:` marks the platform's documented values; change them only\n\
         # where your target differs. Credentials are read from the environment,\n\
         # never from this file, and redacted in every report.\n\
         name = {}\n\
         base_url = {}\n\n",
        toml_string(&host),
        toml_string(target)
    );
    out.push_str(
        "# default: where problem `type` links must point (the published reference\n\
         # page). Remove it to accept any absolute base with the right path and anchor.\n\
         docs_base = \"https://docs.platform.example\"\n\n\
         # default: the base paths of the API and of SCIM on the target.\n\
         [paths]\n\
         api = \"/v1\"\n\
         scim = \"/scim/v2\"\n\n\
         # A known path must answer a documented error, else the run stops at once\n\
         # (exit 3) saying what answered instead.\n\
         [reachability]\n\
         path = \"{{path.api}}/workspaces/{{fixture.acme}}/users\"\n\
         status = 401\n\
         media_type = \"application/problem+json\"\n\
         body = { \"/code\" = \"Unauthorized\" }\n\n\
         # default: where each envelope carries the platform's code (a body JSON\n\
         # Pointer, `header:NAME` or `none`), and the header every error carries\n\
         # its request id in (`none` if the target has none).\n\
         [envelope]\n\
         problem_code = \"/code\"\n\
         scim_code = \"header:x-error-code\"\n\
         body_contract = true\n\
         request_id_header = \"x-request-id\"\n\n",
    );
    out.push_str("[credentials]\n");
    for (name, row) in ordered(Kind::Credential, used.credentials.keys().collect()) {
        let (var, text) = match row {
            Some(p) => (
                p.env
                    .map_or_else(|| credential_env_var(&name), str::to_owned),
                policy::render_names(p.text),
            ),
            None => (credential_env_var(&name), "(no policy written)".to_owned()),
        };
        comment(&mut out, &text);
        let _ = writeln!(out, "{name} = {{ env = {} }}", toml_string(&var));
    }
    out.push_str("\n[fixtures]\n");
    for (name, row) in ordered(Kind::Fixture, used.fixtures.keys().collect()) {
        let text = row.map_or_else(
            || "(no policy written)".to_owned(),
            |p| policy::render_names(p.text),
        );
        comment(&mut out, &text);
        let _ = writeln!(out, "{name} = \"\"");
    }
    out.push_str(
        "\n# Uncomment and set: the WebAuthn relying party of your target (its RP ID,\n\
         # a domain) and the origin the runner's software authenticator claims (your\n\
         # web app's, as a browser there would). The MFA, step-up and attestation\n\
         # scenarios need it; without it a run is refused, saying so.\n\
         # [webauthn]\n\
         # rp_id = \"platform.example\"\n\
         # origin = \"https://platform.example\"\n",
    );
    out.push('\n');
    if loopback {
        out.push_str(
            "# The webhook receiver: the target runs on this host, so it reaches the\n\
             # receiver on loopback. Nothing to set.\n\
             [receiver]\n\
             bind = \"127.0.0.1:0\"\n\n",
        );
    } else {
        let _ = write!(
            out,
            "# The webhook receiver. The target must reach it: run a tunnel or reverse\n\
             # proxy from its public URL to `bind`, and put that URL in\n\
             # {RECEIVER_URL_ENV}. While the variable is unset or empty, the webhook\n\
             # scenarios are skipped with that reason.\n\
             [receiver]\n\
             bind = \"127.0.0.1:8787\"\n\
             public_url_env = \"{RECEIVER_URL_ENV}\"\n\n"
        );
    }
    out.push_str(
        "# Uncomment to run the untrusted-peer scenario: a local address the runner\n\
         # can send from that the target does not trust as a proxy (0.0.0.0: this\n\
         # host's own address, when the runner reaches the target directly rather\n\
         # than through a proxy the target trusts). Without it that scenario is\n\
         # skipped, saying so.\n\
         # [network]\n\
         # untrusted_source = \"0.0.0.0\"\n\n\
         # Scenarios your target cannot run, each with its reason (`prefix*` matches\n\
         # ids). None is skipped for you. Behind a load balancer that overwrites\n\
         # X-Forwarded-For, for example:\n\
         # [[skip]]\n\
         # scenario = \"ip-blocked/ipv6-forwarded-for\"\n\
         # reason = \"the load balancer overwrites X-Forwarded-For; clients cannot name an address\"\n",
    );
    Ok(out)
}

/// `text` as `#` lines of at most 78 characters.
fn comment(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > 78 && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
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
    let file = args.output.display();
    let mut message = format!(
        "wrote {file} for {}\n\nFill in its empty [fixtures] (what each must be is written above it, and\n`conformance-runner requirements --profile {file}` says it again).\n\nThe profile reads these environment variables:\n",
        args.target
    );
    for (name, source) in &profile.credentials {
        if let Credential::Env(var) = source {
            message.push_str(&format!("  export {var}=...    # credential `{name}`\n"));
        }
    }
    if let Some(var) = &profile.receiver_public_url_env {
        message.push_str(&format!(
            "  export {var}=...    # the webhook receiver's public URL (unset: webhook scenarios skipped)\n"
        ));
    }
    message.push_str(
        "and the runner these, if set:\n  CONFORMANCE_TARGET    # overrides base_url\n  SSL_CERT_FILE, SSL_CERT_DIR    # extra trusted CAs\n",
    );
    message.push_str(&format!(
        "\nthen: conformance-runner requirements --profile {file}\n      conformance-runner --profile {file}\n"
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
