//! `conformance-runner authenticator`: the runner's software authenticator
//! and TOTP generator by hand, for trying the platform's ceremonies with
//! curl and for third-party verifiers (py_webauthn checks its output in CI).
//!
//! Registrations and assertions are printed as WebAuthn's JSON
//! serialisation (`PublicKeyCredential.toJSON()`), with the new credential's
//! `privateKey` (PKCS#8, base64url) beside it: these are test credentials.

use std::io::{Read as _, Write};

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::ceremony::authenticator::{self, Attestation, Claims, decode_b64url};
use crate::ceremony::totp;

/// The software authenticator's commands.
#[derive(Debug, Subcommand)]
pub enum AuthenticatorCommand {
    /// Make a new ES256 credential for a registration challenge and attest it.
    Create(CreateArgs),
    /// Sign an assertion for an authentication challenge.
    Get(GetArgs),
    /// Print the current TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) of a base32 secret.
    Totp {
        /// The base32 secret.
        secret: String,
    },
}

/// Where the challenge and RP id come from, and what the client claims.
#[derive(Debug, Args)]
pub struct CeremonyArgs {
    /// The options the target answered (JSON; `-` for standard input): their
    /// `challenge` and `rp.id` or `rpId` are used unless given below.
    #[arg(long, value_name = "FILE")]
    options: Option<String>,
    /// The challenge, base64url (which may start with `-`).
    #[arg(long, allow_hyphen_values = true)]
    challenge: Option<String>,
    /// The relying party id.
    #[arg(long, default_value = "platform.example")]
    rp_id: String,
    /// The origin the client claims.
    #[arg(long, default_value = "https://platform.example")]
    origin: String,
    /// The signature counter written into the authenticator data; a server
    /// rejects an assertion whose counter does not exceed the last one seen.
    #[arg(long, default_value_t = 0)]
    counter: u32,
    /// Clear the user-verified flag.
    #[arg(long)]
    no_user_verification: bool,
    /// Flip a bit of the signature (a tampered response, for negative tests).
    #[arg(long)]
    tamper_signature: bool,
}

/// `authenticator create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    ceremony: CeremonyArgs,
    /// The AAGUID the authenticator claims.
    #[arg(long, default_value = "00000000-0000-0000-0000-000000000000")]
    aaguid: String,
    /// The attestation statement format: none, packed self attestation, or
    /// packed with an x5c certificate chain (needs the two options below).
    #[arg(long, value_enum, default_value_t = Format::None)]
    attestation: Format,
    /// For `packed-x5c`: the attestation private key (PKCS#8 DER, base64url).
    #[arg(long, allow_hyphen_values = true)]
    attestation_key: Option<String>,
    /// For `packed-x5c`: the attestation certificate (DER, base64url).
    #[arg(long, allow_hyphen_values = true)]
    attestation_cert: Option<String>,
}

/// `authenticator get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    #[command(flatten)]
    ceremony: CeremonyArgs,
    /// The credential id, base64url (which may start with `-`).
    #[arg(long, allow_hyphen_values = true)]
    credential_id: String,
    /// The credential's private key (PKCS#8 DER, base64url).
    #[arg(long, allow_hyphen_values = true)]
    private_key: String,
}

/// Attestation statement formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// `fmt: none`.
    None,
    /// `fmt: packed`, self attestation.
    Packed,
    /// `fmt: packed` with the attestation key and certificate.
    PackedX5c,
}

/// Runs a command, printing its JSON (or code) to `out`; errors are messages.
pub fn run_authenticator(
    command: &AuthenticatorCommand,
    out: &mut dyn Write,
) -> Result<(), String> {
    let value = match command {
        AuthenticatorCommand::Totp { secret } => {
            let code = totp::current_code(secret).map_err(|e| e.to_string())?;
            return writeln!(out, "{code}").map_err(|e| e.to_string());
        }
        AuthenticatorCommand::Create(args) => {
            let (challenge, claims) = args.ceremony.resolve()?;
            let attestation = match args.attestation {
                Format::None => Attestation::None,
                Format::Packed => Attestation::PackedSelf,
                Format::PackedX5c => {
                    let (Some(key), Some(cert)) = (&args.attestation_key, &args.attestation_cert)
                    else {
                        return Err("`--attestation packed-x5c` needs --attestation-key and --attestation-cert".into());
                    };
                    Attestation::PackedX5c {
                        key: decode_b64url(key, "--attestation-key").map_err(|e| e.to_string())?,
                        chain: vec![
                            decode_b64url(cert, "--attestation-cert").map_err(|e| e.to_string())?,
                        ],
                    }
                }
            };
            let r = authenticator::create(&challenge, &args.aaguid, &attestation, &claims)
                .map_err(|e| e.to_string())?;
            let flat = r.to_json();
            json!({
                "id": flat["credentialId"],
                "rawId": flat["credentialId"],
                "type": "public-key",
                "response": {
                    "clientDataJSON": flat["clientDataJSON"],
                    "attestationObject": flat["attestationObject"],
                    "transports": ["usb"],
                },
                "authenticatorAttachment": "cross-platform",
                "clientExtensionResults": {},
                "privateKey": flat["privateKey"],
            })
        }
        AuthenticatorCommand::Get(args) => {
            let (challenge, claims) = args.ceremony.resolve()?;
            let id =
                decode_b64url(&args.credential_id, "--credential-id").map_err(|e| e.to_string())?;
            let key =
                decode_b64url(&args.private_key, "--private-key").map_err(|e| e.to_string())?;
            let flat = authenticator::get(&challenge, &id, &key, &claims)
                .map_err(|e| e.to_string())?
                .to_json();
            json!({
                "id": flat["credentialId"],
                "rawId": flat["credentialId"],
                "type": "public-key",
                "response": {
                    "clientDataJSON": flat["clientDataJSON"],
                    "authenticatorData": flat["authenticatorData"],
                    "signature": flat["signature"],
                },
                "authenticatorAttachment": "cross-platform",
                "clientExtensionResults": {},
            })
        }
    };
    let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    writeln!(out, "{text}").map_err(|e| e.to_string())
}

impl CeremonyArgs {
    fn resolve(&self) -> Result<(String, Claims), String> {
        let options: Option<Value> = match &self.options {
            None => None,
            Some(path) => {
                let mut text = String::new();
                if path == "-" {
                    std::io::stdin()
                        .take(1 << 20)
                        .read_to_string(&mut text)
                        .map_err(|e| format!("standard input: {e}"))?;
                } else {
                    text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
                }
                Some(serde_json::from_str(&text).map_err(|e| format!("{path}: not JSON: {e}"))?)
            }
        };
        let from_options = |pointer: &str| {
            options
                .as_ref()
                .and_then(|o| o.pointer(pointer))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let challenge = self
            .challenge
            .clone()
            .or_else(|| from_options("/challenge"))
            .ok_or("give --challenge, or --options with a `challenge`")?;
        let rp_id = from_options("/rp/id")
            .or_else(|| from_options("/rpId"))
            .filter(|_| self.rp_id == "platform.example")
            .unwrap_or_else(|| self.rp_id.clone());
        let mut claims = Claims::honest(&self.origin, &rp_id);
        claims.counter = self.counter;
        claims.user_verified = !self.no_user_verification;
        claims.tamper_signature = self.tamper_signature;
        Ok((challenge, claims))
    }
}
