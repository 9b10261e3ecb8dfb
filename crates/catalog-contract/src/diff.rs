//! The compatibility check between two catalogs.
//!
//! Every change between the base (the published catalog) and the head (this
//! one) is classified:
//!
//! - **breaking**: a code removed or renamed; a status, anchor, envelope,
//!   challenge or `scimType` changed; a member or header added as required,
//!   removed, or made optional or required; a code moved to another category
//!   together with an anchor or envelope change; two existing codes swapped in
//!   the precedence order; a category (its heading anchor) removed; an anchor
//!   alias removed; the reference page moved;
//! - **additive**: a new code, category, optional member or anchor alias; an
//!   anchor changed with the old one kept as an alias; text appended to a
//!   meaning, fix or description;
//! - **cosmetic**: wording of a title, meaning, fix or description; a move to
//!   another category that keeps the anchor and envelope.
//!
//! The verdict fails on a breaking change unless the head's major version is
//! greater than the base's.
//!
//! This file holds the verdict ([`compare`]) and its Markdown [`table`]; `diff/change.rs` the
//! vocabulary, `diff/classify.rs` the whole-catalog comparison, `diff/code.rs` one code's. The
//! submodules never import this file, so the module graph stays one way.

mod change;
mod classify;
mod code;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

pub use change::{Change, Kind, describe};
use classify::changes;

use crate::model::Catalog;
use crate::semver::Version;
use crate::{ContractError, printable};

/// The outcome of a comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Where the base came from.
    pub base: String,
    /// The base's version.
    pub base_version: String,
    /// The head's version.
    pub head_version: String,
    /// Whether the head may be published.
    pub passed: bool,
    /// Why, in one sentence.
    pub reason: String,
    /// Counts per kind.
    pub counts: BTreeMap<&'static str, usize>,
    /// Every change, breaking first, then in the order found.
    pub changes: Vec<Change>,
}

/// Compares two valid catalogs (see [`crate::validate`]) and decides.
pub fn compare(base: &Catalog, head: &Catalog, base_label: &str) -> Result<Report, ContractError> {
    let version = |catalog: &Catalog, origin: &str| {
        Version::parse(&catalog.version).ok_or_else(|| ContractError::Version {
            origin: origin.to_owned(),
            version: catalog.version.clone(),
        })
    };
    let base_version = version(base, base_label)?;
    let head_version = version(head, "head")?;
    let mut changes = changes(base, head);
    changes.sort_by_key(|c| c.kind);
    let breaking: Vec<&Change> = changes
        .iter()
        .filter(|c| c.kind == Kind::Breaking)
        .collect();
    let mut counts = BTreeMap::new();
    for kind in [Kind::Breaking, Kind::Additive, Kind::Cosmetic] {
        counts.insert(
            kind.as_str(),
            changes.iter().filter(|c| c.kind == kind).count(),
        );
    }
    let (passed, reason) = if head_version < base_version {
        (
            false,
            format!("the version went backwards, from {base_version} to {head_version}"),
        )
    } else if breaking.is_empty() {
        (
            true,
            format!(
                "no breaking change ({} additive, {} cosmetic)",
                counts["additive"], counts["cosmetic"]
            ),
        )
    } else if head_version.major > base_version.major {
        (
            true,
            format!(
                "{} breaking change(s) accepted: the major version went from {} to {} ({base_version} -> {head_version})",
                breaking.len(),
                base_version.major,
                head_version.major
            ),
        )
    } else {
        let first = breaking[0];
        (
            false,
            format!(
                "{} breaking change(s) without a new major version ({base_version} -> {head_version}), first: {}; bump the major number of catalog::VERSION or undo the change",
                breaking.len(),
                describe(first)
            ),
        )
    };
    Ok(Report {
        base: base_label.to_owned(),
        base_version: base.version.clone(),
        head_version: head.version.clone(),
        passed,
        reason,
        counts,
        changes,
    })
}

/// The report as a Markdown table, for a terminal, a review and
/// `$GITHUB_STEP_SUMMARY`.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Error catalog compatibility: {} ({}) -> {} (this tree)\n",
        printable(&report.base_version),
        printable(&report.base),
        printable(&report.head_version)
    );
    let _ = writeln!(
        out,
        "**{}**: {}\n",
        if report.passed { "PASS" } else { "FAIL" },
        printable(&report.reason)
    );
    if report.changes.is_empty() {
        out.push_str("No change.\n");
        return out;
    }
    out.push_str("| Kind | Change | Code | Before | After | Why |\n|---|---|---|---|---|---|\n");
    for c in &report.changes {
        let cell = |v: &Option<String>| v.as_deref().map(printable).unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            c.kind.as_str(),
            c.rule,
            c.subject
                .as_deref()
                .map(|s| format!("`{}`", printable(s)))
                .unwrap_or_default(),
            cell(&c.before),
            cell(&c.after),
            printable(&c.note)
        );
    }
    out
}
