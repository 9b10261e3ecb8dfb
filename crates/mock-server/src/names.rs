//! An ordered index of users' lower-cased emails per workspace, for searches by prefix or
//! range (SCIM `userName sw "..."`, `gt`, ...).
//!
//! Kept by the core store ([`crate::store::Store`]) at the points that add, rename and remove
//! users. Names are lower-cased with `str::to_lowercase` (Unicode), as the SCIM filter
//! evaluator folds case, so an answer from the index is exactly the evaluator's. The module
//! imports nothing of the crate.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

/// Per workspace, every user's lower-cased email, in name order.
#[derive(Debug, Default)]
pub(crate) struct NameIndex {
    workspaces: HashMap<String, Names>,
}

/// One workspace's names.
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// `(lower-cased email, id)`, in name order (two users may share a lower-cased name).
    by_name: BTreeSet<(Box<str>, Box<str>)>,
    /// Lower-cased email by id (to find a user's entry when it is renamed or removed).
    by_id: BTreeMap<Box<str>, Box<str>>,
}

/// A range of lower-cased names, as a comparison with a lower-cased literal selects them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameRange<'a> {
    /// Names equal to the literal.
    Eq(&'a str),
    /// Names starting with the literal.
    Prefix(&'a str),
    /// Names greater than the literal.
    Gt(&'a str),
    /// Names greater than or equal to the literal.
    Ge(&'a str),
    /// Names less than the literal.
    Lt(&'a str),
    /// Names less than or equal to the literal.
    Le(&'a str),
}

impl NameIndex {
    /// Records (or moves) user `id` of `workspace` under `email`.
    pub(crate) fn insert(&mut self, workspace: &str, id: &str, email: &str) {
        let names = match self.workspaces.get_mut(workspace) {
            Some(names) => names,
            None => self.workspaces.entry(workspace.to_owned()).or_default(),
        };
        names.remove(id);
        let lower: Box<str> = email.to_lowercase().into();
        names.by_name.insert((lower.clone(), Box::from(id)));
        names.by_id.insert(Box::from(id), lower);
    }

    /// Forgets user `id` of `workspace`.
    pub(crate) fn remove(&mut self, workspace: &str, id: &str) {
        if let Some(names) = self.workspaces.get_mut(workspace) {
            names.remove(id);
        }
    }

    /// The names of `workspace` (`None`: it has no user).
    pub(crate) fn workspace(&self, workspace: &str) -> Option<&Names> {
        self.workspaces.get(workspace)
    }
}

impl Names {
    fn remove(&mut self, id: &str) {
        if let Some((key, lower)) = self.by_id.remove_entry(id) {
            self.by_name.remove(&(lower, key));
        }
    }

    /// How many users.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// The ids whose lower-cased name is in `range`, in name order: one range scan.
    pub(crate) fn ids_in(&self, range: NameRange<'_>) -> impl Iterator<Item = &str> {
        let (start, end) = match range {
            NameRange::Eq(lit)
            | NameRange::Prefix(lit)
            | NameRange::Ge(lit)
            | NameRange::Gt(lit) => (Bound::Included(lit), Bound::Unbounded),
            NameRange::Lt(lit) => (Bound::Unbounded, Bound::Excluded(lit)),
            NameRange::Le(lit) => (Bound::Unbounded, Bound::Included(lit)),
        };
        // The set is ordered by name first, so a bound on the name is a bound on the pairs:
        // start at the first pair with that name, stop after the last.
        let start_pair = match start {
            Bound::Included(lit) => self.by_name.range::<(Box<str>, Box<str>), _>((
                Bound::Included((Box::from(lit), Box::from(""))),
                Bound::Unbounded,
            )),
            _ => self.by_name.range::<(Box<str>, Box<str>), _>(..),
        };
        start_pair
            .skip_while(move |(name, _)| matches!(range, NameRange::Gt(lit) if &**name == lit))
            .take_while(move |(name, _)| match (range, end) {
                (NameRange::Eq(lit), _) => &**name == lit,
                (NameRange::Prefix(lit), _) => name.starts_with(lit),
                (_, Bound::Excluded(lit)) => &**name < lit,
                (_, Bound::Included(lit)) => &**name <= lit,
                (_, Bound::Unbounded) => true,
            })
            .map(|(_, id)| &**id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> NameIndex {
        let mut index = NameIndex::default();
        for (id, email) in [
            ("u1", "Bob@x"),
            ("u2", "alice@x"),
            ("u3", "ALICE@x"),
            ("u4", "al@x"),
            ("u5", "\u{212A}im@x"),
            ("u6", "carol@x"),
        ] {
            index.insert("w", id, email);
        }
        index.insert("other", "o1", "alice@x");
        index
    }

    fn ids(index: &NameIndex, range: NameRange<'_>) -> Vec<String> {
        let mut found: Vec<String> = index
            .workspace("w")
            .unwrap()
            .ids_in(range)
            .map(str::to_owned)
            .collect();
        found.sort();
        found
    }

    #[test]
    fn ranges_select_exactly() {
        let index = index();
        assert_eq!(ids(&index, NameRange::Eq("alice@x")), ["u2", "u3"]);
        assert_eq!(ids(&index, NameRange::Prefix("al")), ["u2", "u3", "u4"]);
        assert_eq!(ids(&index, NameRange::Prefix("k")), ["u5"]);
        assert_eq!(ids(&index, NameRange::Prefix("z")), Vec::<String>::new());
        assert_eq!(ids(&index, NameRange::Gt("bob@x")), ["u5", "u6"]);
        assert_eq!(ids(&index, NameRange::Ge("bob@x")), ["u1", "u5", "u6"]);
        assert_eq!(ids(&index, NameRange::Lt("alice@x")), ["u4"]);
        assert_eq!(ids(&index, NameRange::Le("alice@x")), ["u2", "u3", "u4"]);
    }

    #[test]
    fn renames_and_removals_keep_both_orders_in_step() {
        let mut index = index();
        index.insert("w", "u2", "Zed@x");
        index.remove("w", "u6");
        index.remove("w", "missing");
        assert_eq!(ids(&index, NameRange::Prefix("al")), ["u3", "u4"]);
        assert_eq!(ids(&index, NameRange::Eq("zed@x")), ["u2"]);
        let names = index.workspace("w").unwrap();
        assert_eq!(names.len(), 5);
        assert_eq!(
            ids(&index, NameRange::Ge("")),
            ["u1", "u2", "u3", "u4", "u5"]
        );
        assert_eq!(ids(&index, NameRange::Eq("carol@x")), Vec::<String>::new());
        assert_eq!(index.workspace("other").unwrap().len(), 1);
    }
}
