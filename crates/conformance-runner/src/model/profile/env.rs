//! Environment variable names for credentials and captures: what a replay
//! and `init` tell a person to set, never the values.

/// A credential's or capture's name as an environment variable name: ASCII
/// letters and digits in capitals, anything else `_`.
pub(crate) fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The environment variable a credential written in a profile is named by
/// where its value must not be printed (a replay, `init`'s list of what to
/// set): `CONFORMANCE_` and its [`env_name`].
pub fn credential_env_var(name: &str) -> String {
    format!("CONFORMANCE_{}", env_name(name))
}
