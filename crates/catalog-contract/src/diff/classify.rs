//! The comparison of two whole catalogs: the reference page's path, the categories, the
//! codes matched by name or as a rename (a removed and an added code with the same anchor,
//! or the same status, category and meaning; compared further as one code), and the
//! precedence order, compared pairwise over the codes both sides have.

use std::collections::HashMap;

use super::change::{Change, Kind, change, text_change};
use super::code::code_changes;
use crate::model::{Catalog, CodeDoc};

/// Every change from `base` to `head`, in the order found.
pub(super) fn changes(base: &Catalog, head: &Catalog) -> Vec<Change> {
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
