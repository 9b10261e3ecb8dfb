//! The comparison of one code with its counterpart (the same name, or its rename): status,
//! anchor and its aliases, envelope, category, challenge, `scimType`, the documented members
//! and headers (a header's name compared ignoring case), and the wording.

use super::change::{Change, Kind, change, text_change};
use crate::model::{CodeDoc, MemberDoc};

/// Every change from `old` to `new`, one code under two names at most.
pub(super) fn code_changes(old: &CodeDoc, new: &CodeDoc, out: &mut Vec<Change>) {
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
