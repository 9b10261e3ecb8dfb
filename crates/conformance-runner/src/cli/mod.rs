//! The front: the subcommands' flags, what each does with them, and the one
//! map from a result to the documented exit code ([`exit`]).
//!
//! Architecture invariant: nothing below this layer parses flags, prints or
//! decides an exit code.

pub(crate) mod args;
pub mod authenticator;
pub mod diff;
pub mod exit;
pub(crate) mod gate;
pub mod init;
pub mod run;
pub mod schema;
