//! The diff's vocabulary: what a change is ([`Change`], its [`Kind`]), its one-line
//! description, and the wording rule every area applies to a text field (appended text is
//! additive when the field may grow, any other rewording cosmetic).

use std::fmt::Write as _;

use serde::Serialize;

use crate::printable;

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

/// A change about `subject` (a code or a category slug).
pub(super) fn change(
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

/// A text field: appended text is additive (`-extended`) when `extendable`,
/// any other rewording cosmetic (`-reworded`).
pub(super) fn text_change(
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
