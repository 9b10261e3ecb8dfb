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

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use crate::model::{Catalog, CodeDoc, MemberDoc};
use crate::semver::Version;
use crate::{ContractError, printable};

/// How a change affects clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Existing clients or shared links stop working.
    Breaking,
    /// Something new; nothing existing changes.
    Additive,
    /// Wording or layout only.
    Cosmetic,
}

impl Kind {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Breaking => "breaking",
            Kind::Additive => "additive",
            Kind::Cosmetic => "cosmetic",
        }
    }
}

/// One classified change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Breaking, additive or cosmetic.
    pub kind: Kind,
    /// A stable kebab-case name (`status-changed`).
    pub rule: &'static str,
    /// The code (or category slug) it concerns, when there is one.
    pub subject: Option<String>,
    /// The base's value.
    pub before: Option<String>,
    /// The head's value.
    pub after: Option<String>,
    /// Why it is classified so.
    pub note: String,
}

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

/// `status of NOT_PROVISIONED changed from 401 to 403`-style one-liner.
pub fn describe(change: &Change) -> String {
    let mut out = format!("{} {}", change.kind.as_str(), change.rule);
    if let Some(subject) = &change.subject {
        let _ = write!(out, " {subject}");
    }
    match (&change.before, &change.after) {
        (Some(before), Some(after)) => {
            let _ = write!(out, ": {before} -> {after}");
        }
        (Some(before), None) => {
            let _ = write!(out, ": was {before}");
        }
        (None, Some(after)) => {
            let _ = write!(out, ": now {after}");
        }
        (None, None) => {}
    }
    printable(&out)
}

fn change(
    kind: Kind,
    rule: &'static str,
    subject: &str,
    before: Option<String>,
    after: Option<String>,
    note: &str,
) -> Change {
    Change {
        kind,
        rule,
        subject: Some(subject.to_owned()),
        before,
        after,
        note: note.to_owned(),
    }
}

fn changes(base: &Catalog, head: &Catalog) -> Vec<Change> {
    let mut out = Vec::new();
    if base.docs_path != head.docs_path {
        out.push(Change {
            kind: Kind::Breaking,
            rule: "docs-path-changed",
            subject: None,
            before: Some(base.docs_path.clone()),
            after: Some(head.docs_path.clone()),
            note: "every problem `type` URL and shared link changes".to_owned(),
        });
    }
    categories(base, head, &mut out);

    let head_by_name: HashMap<&str, &CodeDoc> =
        head.codes.iter().map(|c| (c.code.as_str(), c)).collect();
    let base_by_name: HashMap<&str, &CodeDoc> =
        base.codes.iter().map(|c| (c.code.as_str(), c)).collect();
    let mut removed: Vec<&CodeDoc> = base
        .codes
        .iter()
        .filter(|c| !head_by_name.contains_key(c.code.as_str()))
        .collect();
    let mut added: Vec<&CodeDoc> = head
        .codes
        .iter()
        .filter(|c| !base_by_name.contains_key(c.code.as_str()))
        .collect();

    // A rename: a removed code and an added one with the same anchor, or the
    // same status, category and meaning. Compared further as one code.
    let mut pairs: Vec<(&CodeDoc, &CodeDoc)> = Vec::new();
    removed.retain(|old| {
        let found = added.iter().position(|new| {
            new.anchor == old.anchor
                || new.anchor_aliases.contains(&old.anchor)
                || (new.status == old.status
                    && new.category == old.category
                    && new.meaning == old.meaning)
        });
        match found {
            Some(i) => {
                let new = added.remove(i);
                out.push(change(
                    Kind::Breaking,
                    "code-renamed",
                    &old.code,
                    Some(old.code.clone()),
                    Some(new.code.clone()),
                    "clients branch on the code's name",
                ));
                pairs.push((old, new));
                false
            }
            None => true,
        }
    });
    for old in &base.codes {
        if let Some(new) = head_by_name.get(old.code.as_str()) {
            pairs.push((old, new));
        }
    }
    pairs.sort_by_key(|(old, _)| base.codes.iter().position(|c| c.code == old.code));
    for old in removed {
        out.push(change(
            Kind::Breaking,
            "code-removed",
            &old.code,
            Some(format!("{} {}", old.status, old.code)),
            None,
            "clients branch on it and links point at its row",
        ));
    }
    for (old, new) in &pairs {
        code_changes(old, new, &mut out);
    }
    for new in added {
        out.push(change(
            Kind::Additive,
            "code-added",
            &new.code,
            None,
            Some(format!("{} {}", new.status, new.code)),
            "a new code",
        ));
    }
    precedence(base, head, &pairs, &mut out);
    out
}

fn categories(base: &Catalog, head: &Catalog, out: &mut Vec<Change>) {
    for old in &base.categories {
        match head.categories.iter().find(|c| c.slug == old.slug) {
            None => out.push(change(
                Kind::Breaking,
                "category-removed",
                &old.slug,
                Some(old.title.clone()),
                None,
                "links to the category's heading stop working",
            )),
            Some(new) => {
                text_change(
                    "category-title",
                    &old.slug,
                    &old.title,
                    &new.title,
                    false,
                    out,
                );
                text_change(
                    "category-description",
                    &old.slug,
                    &old.description,
                    &new.description,
                    true,
                    out,
                );
            }
        }
    }
    for new in &head.categories {
        if !base.categories.iter().any(|c| c.slug == new.slug) {
            out.push(change(
                Kind::Additive,
                "category-added",
                &new.slug,
                None,
                Some(new.title.clone()),
                "a new category",
            ));
        }
    }
}

/// A text field: appended text is additive (`-extended`) when `extendable`,
/// any other rewording cosmetic (`-reworded`).
fn text_change(
    field: &'static str,
    subject: &str,
    before: &str,
    after: &str,
    extendable: bool,
    out: &mut Vec<Change>,
) {
    if before == after {
        return;
    }
    let extended = extendable && after.starts_with(before);
    let (kind, rule, note) = match (field, extended) {
        ("title", _) => (Kind::Cosmetic, "title-reworded", "wording"),
        ("meaning", true) => (Kind::Additive, "meaning-extended", "new text"),
        ("meaning", false) => (Kind::Cosmetic, "meaning-reworded", "wording"),
        ("fix", true) => (Kind::Additive, "fix-extended", "new text"),
        ("fix", false) => (Kind::Cosmetic, "fix-reworded", "wording"),
        ("category-title", _) => (Kind::Cosmetic, "category-title-reworded", "wording"),
        ("category-description", true) => {
            (Kind::Additive, "category-description-extended", "new text")
        }
        _ => (Kind::Cosmetic, "category-description-reworded", "wording"),
    };
    out.push(change(
        kind,
        rule,
        subject,
        Some(before.to_owned()),
        Some(after.to_owned()),
        note,
    ));
}

fn code_changes(old: &CodeDoc, new: &CodeDoc, out: &mut Vec<Change>) {
    let subject = new.code.as_str();
    if old.status != new.status {
        out.push(change(
            Kind::Breaking,
            "status-changed",
            subject,
            Some(old.status.to_string()),
            Some(new.status.to_string()),
            "clients branch on the status",
        ));
    }
    let anchor_changed = old.anchor != new.anchor;
    if anchor_changed {
        if new.anchor_aliases.contains(&old.anchor) {
            out.push(change(
                Kind::Additive,
                "anchor-changed-with-alias",
                subject,
                Some(old.anchor.clone()),
                Some(new.anchor.clone()),
                "the page keeps the old anchor as an alias, so shared links still open the row",
            ));
        } else {
            out.push(change(
                Kind::Breaking,
                "anchor-changed",
                subject,
                Some(old.anchor.clone()),
                Some(new.anchor.clone()),
                "links shared in bug reports stop opening the row; keep the old anchor in catalog::ANCHOR_ALIASES",
            ));
        }
    }
    for alias in &old.anchor_aliases {
        if !new.anchor_aliases.contains(alias) && &new.anchor != alias {
            out.push(change(
                Kind::Breaking,
                "anchor-alias-removed",
                subject,
                Some(alias.clone()),
                None,
                "links that use the old anchor stop opening the row",
            ));
        }
    }
    for alias in &new.anchor_aliases {
        if !old.anchor_aliases.contains(alias) && &old.anchor != alias {
            out.push(change(
                Kind::Additive,
                "anchor-alias-added",
                subject,
                None,
                Some(alias.clone()),
                "one more anchor opens the row",
            ));
        }
    }
    let envelope_changed = old.envelope != new.envelope;
    if envelope_changed {
        out.push(change(
            Kind::Breaking,
            "envelope-changed",
            subject,
            Some(old.envelope.as_str().to_owned()),
            Some(new.envelope.as_str().to_owned()),
            "clients parse the body by its envelope",
        ));
    }
    if old.category != new.category {
        let (kind, note) = if anchor_changed || envelope_changed {
            (
                Kind::Breaking,
                "the move changes the code's anchor or envelope",
            )
        } else {
            (
                Kind::Cosmetic,
                "the row moves on the page; anchor and envelope stay",
            )
        };
        out.push(change(
            kind,
            "category-changed",
            subject,
            Some(old.category.clone()),
            Some(new.category.clone()),
            note,
        ));
    }
    if old.challenge != new.challenge {
        out.push(change(
            Kind::Breaking,
            "challenge-changed",
            subject,
            old.challenge.as_ref().map(|c| c.describe()),
            new.challenge.as_ref().map(|c| c.describe()),
            "the WWW-Authenticate header clients read changes",
        ));
    }
    if old.scim_type != new.scim_type {
        out.push(change(
            Kind::Breaking,
            "scim-type-changed",
            subject,
            old.scim_type.clone(),
            new.scim_type.clone(),
            "SCIM clients branch on scimType",
        ));
    }
    members(subject, &old.extra, &new.extra, out);
    text_change("title", subject, &old.title, &new.title, false, out);
    text_change("meaning", subject, &old.meaning, &new.meaning, true, out);
    text_change("fix", subject, &old.fix, &new.fix, true, out);
}

fn same_member(a: &MemberDoc, b: &MemberDoc) -> bool {
    a.location == b.location
        && if a.location == "header" {
            a.name.eq_ignore_ascii_case(&b.name)
        } else {
            a.name == b.name
        }
}

fn members(subject: &str, old: &[MemberDoc], new: &[MemberDoc], out: &mut Vec<Change>) {
    for before in old {
        match new.iter().find(|m| same_member(before, m)) {
            None => out.push(change(
                Kind::Breaking,
                "member-removed",
                subject,
                Some(before.describe()),
                None,
                "clients that read it get nothing",
            )),
            Some(after) if before.required && !after.required => out.push(change(
                Kind::Breaking,
                "member-made-optional",
                subject,
                Some(format!("{} (required)", before.describe())),
                Some(format!("{} (optional)", after.describe())),
                "clients that rely on it may get nothing",
            )),
            Some(after) if !before.required && after.required => out.push(change(
                Kind::Breaking,
                "member-made-required",
                subject,
                Some(format!("{} (optional)", before.describe())),
                Some(format!("{} (required)", after.describe())),
                "servers that omit it no longer conform",
            )),
            Some(after) if before.description != after.description => out.push(change(
                Kind::Cosmetic,
                "member-description-reworded",
                subject,
                Some(before.description.clone()),
                Some(after.description.clone()),
                "wording",
            )),
            Some(_) => {}
        }
    }
    for after in new {
        if !old.iter().any(|m| same_member(m, after)) {
            let (kind, rule, note) = if after.required {
                (
                    Kind::Breaking,
                    "member-added-required",
                    "servers that do not send it no longer conform",
                )
            } else {
                (
                    Kind::Additive,
                    "member-added-optional",
                    "a new optional member",
                )
            };
            out.push(change(
                kind,
                rule,
                subject,
                None,
                Some(after.describe()),
                note,
            ));
        }
    }
}

/// Two codes present in both catalogs whose relative order flipped: one
/// change per pair, named by the code that now wins.
fn precedence(
    base: &Catalog,
    head: &Catalog,
    pairs: &[(&CodeDoc, &CodeDoc)],
    out: &mut Vec<Change>,
) {
    let position =
        |catalog: &Catalog, name: &str| catalog.precedence.iter().position(|n| n == name);
    // Base name -> head name, for codes in both (renamed ones included).
    let kept: Vec<(&str, &str, usize, usize)> = base
        .precedence
        .iter()
        .filter_map(|name| {
            let (_, new) = pairs.iter().find(|(old, _)| &old.code == name)?;
            Some((
                name.as_str(),
                new.code.as_str(),
                position(base, name)?,
                position(head, &new.code)?,
            ))
        })
        .collect();
    for (i, a) in kept.iter().enumerate() {
        for b in &kept[i + 1..] {
            // a precedes b in the base; flipped if b precedes a in the head.
            if (a.2 < b.2) != (a.3 < b.3) {
                out.push(change(
                    Kind::Breaking,
                    "precedence-changed",
                    b.1,
                    Some(format!("{} before {}", a.1, b.1)),
                    Some(format!("{} before {}", b.1, a.1)),
                    "requests that fail both ways now get the other code",
                ));
            }
        }
    }
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
