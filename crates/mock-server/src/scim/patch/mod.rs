//! RFC 7644 section 3.5.2 PATCH and section 3.5.1 PUT semantics over User resources.
//!
//! Everything works on `serde_json::Value` clones: [`patch`] and
//! [`check_put`] return a new resource or the first error, and never touch
//! their input, which makes a request atomic for the caller.
//!
//! Choices where RFC 7644 is silent or loose, each matching what common
//! clients (Entra ID, Okta) send:
//! - `add` with a value filter that matches nothing creates a value from the
//!   filter's `eq` comparisons (`emails[type eq "work"].value` adds a work
//!   email); `replace` and `remove` report `noTarget` instead, as the RFC says.
//! - A `null` value in `add` / `replace` makes the attribute unassigned
//!   (RFC 7643 section 2.5); so does emptying a multi-valued attribute.
//! - Value object members may be attribute paths (`"name.givenName"`) or
//!   schema URIs holding extension attributes.
//! - `remove` with a `value` on a multi-valued attribute removes the values
//!   that match it.
//! - Values must have the schema type: `"True"` for a boolean is `invalidValue`.
//! - Setting `primary` to true on one value clears it on the others
//!   (RFC 7643 section 2.4).
//!
//! `parse.rs` reads a PatchOp message into a [`parse::PatchRequest`]; `apply.rs` applies one to a
//! resource; `put.rs` checks a PUT; `values.rs` holds
//! what both do to a resource's values; `error.rs` is the [`PatchError`] both report.

mod apply;
mod error;
mod parse;
mod put;
mod values;

pub(crate) use apply::patch;
pub(crate) use error::PatchError;
#[cfg(test)]
pub(crate) use parse::PATCH_OP;
pub(crate) use put::check_put;
