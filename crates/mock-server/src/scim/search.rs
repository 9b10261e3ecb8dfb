//! SCIM list searches without building every user's document.
//!
//! Comparisons of `userName` with a string that select a range of names (`eq`, `sw`, `gt`,
//! `ge`, `lt`, `le`) use the core store's ordered index of lower-cased emails
//! ([`crate::names`]): one range scan, whose size is the count, and an `and` with such a
//! comparison evaluates the whole filter only over that range. Any other filter is one scan
//! of the workspace's [`Table`] in memory order (no look-up per user): the filter is compiled
//! to a [`Plan`] that answers comparisons, `pr` and `emails[...]` on the common attributes
//! from each row's columns (`super::columns`) and evaluates the rest over a [`UserView`] of
//! the record (its stored attributes borrowed, `id` and `meta` made only when named); rows
//! without columns, and the users without a record, are evaluated whole over their view.
//! Only the first `skip + count` matches in id order are kept as the scan goes, and only the
//! requested page is turned into documents, by the caller.
//!
//! Every answer is the document-based one (build each user's document, `filter::matches`):
//! `tests::search_is_the_document_based_search` in `store.rs` holds the two equal over random
//! users, histories and filters, and `columns/plan.rs` holds a plan equal to the evaluator.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BinaryHeap;
use std::time::SystemTime;

use serde_json::Value;

use super::columns::plan::Plan;
use super::filter::{self, AttrPath, CompValue, CompareOp, Filter, Resource};
use super::record::{self, Record};
use super::schema::{CORE_USER, UserAttributes};
use super::table::{Row, Table};
use crate::names::NameRange;
use crate::store::{Store, User};

/// What one user's SCIM document would be, read attribute by attribute.
pub(super) struct UserView<'a> {
    id: &'a str,
    attributes: Attributes<'a>,
    created: SystemTime,
    last_modified: SystemTime,
    version: u64,
    base_url: &'a str,
}

enum Attributes<'a> {
    /// The record's stored attributes (without `id`, `meta` and `password`).
    Stored(&'a Value),
    /// A user SCIM has no record of: attributes derived from the core user, made on first
    /// use.
    Derived(&'a User, OnceCell<Value>),
}

impl<'a> UserView<'a> {
    /// The view of `user` with its record, if any; `started` stands for the times of users
    /// without one.
    pub(super) fn new(
        user: &'a User,
        record: Option<&'a Record>,
        started: SystemTime,
        base_url: &'a str,
    ) -> UserView<'a> {
        let (attributes, created, last_modified, version) = match record {
            Some(r) => (
                Attributes::Stored(&r.attributes),
                r.created,
                r.last_modified,
                r.version,
            ),
            None => (
                Attributes::Derived(user, OnceCell::new()),
                started,
                started,
                1,
            ),
        };
        UserView {
            id: &user.id,
            attributes,
            created,
            last_modified,
            version,
            base_url,
        }
    }

    /// The view of user `id` with a record.
    fn stored(id: &'a str, record: &'a Record, base_url: &'a str) -> UserView<'a> {
        UserView {
            id,
            attributes: Attributes::Stored(&record.attributes),
            created: record.created,
            last_modified: record.last_modified,
            version: record.version,
            base_url,
        }
    }

    fn attributes(&self) -> &Value {
        match &self.attributes {
            Attributes::Stored(value) => value,
            Attributes::Derived(user, cell) => cell.get_or_init(|| record::derived(user)),
        }
    }

    /// `meta` as the document has it.
    pub(super) fn meta(&self) -> Value {
        record::meta(
            self.id,
            self.created,
            self.last_modified,
            self.version,
            self.base_url,
        )
    }

    /// One member of `meta`, without building the others.
    fn meta_member(&self, sub: &str) -> Option<Value> {
        let is = |name: &str| sub.eq_ignore_ascii_case(name);
        let value = if is("resourceType") {
            record::USER_RESOURCE_TYPE.to_owned()
        } else if is("created") {
            record::rfc3339(self.created)
        } else if is("lastModified") {
            record::rfc3339(self.last_modified)
        } else if is("location") {
            record::location(self.base_url, self.id)
        } else if is("version") {
            record::etag(self.version)
        } else {
            return None;
        };
        Some(Value::String(value))
    }
}

impl Resource for UserView<'_> {
    fn attribute(&self, name: &str) -> Option<Cow<'_, Value>> {
        // The document is the stored attributes plus `id` and `meta`, which the stored
        // attributes never have in any case (the store strips them).
        if name.eq_ignore_ascii_case("id") {
            return Some(Cow::Owned(Value::String(self.id.to_owned())));
        }
        if name.eq_ignore_ascii_case("meta") {
            return Some(Cow::Owned(self.meta()));
        }
        filter::member(self.attributes(), name).map(Cow::Borrowed)
    }

    fn sub_attribute(&self, name: &str, sub: &str) -> Option<Option<Cow<'_, Value>>> {
        name.eq_ignore_ascii_case("meta")
            .then(|| self.meta_member(sub).map(Cow::Owned))
    }
}

/// How a filter can use the name index.
#[derive(Debug, PartialEq, Eq)]
enum IndexUse {
    /// The matches are exactly a range of names.
    Range(Range),
    /// The matches are within a range of names; the whole filter decides.
    Within(Range),
}

/// A [`NameRange`] with an owned, lower-cased literal.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Range(CompareOp, String);

impl Range {
    fn as_name_range(&self) -> NameRange<'_> {
        let lit = self.1.as_str();
        match self.0 {
            CompareOp::Sw => NameRange::Prefix(lit),
            CompareOp::Gt => NameRange::Gt(lit),
            CompareOp::Ge => NameRange::Ge(lit),
            CompareOp::Lt => NameRange::Lt(lit),
            CompareOp::Le => NameRange::Le(lit),
            _ => NameRange::Eq(lit),
        }
    }
}

/// Whether `path` is the core User's `userName` (with or without the schema URN).
fn is_user_name(path: &AttrPath) -> bool {
    path.sub_attr.is_none()
        && path.name.eq_ignore_ascii_case("userName")
        && path
            .urn
            .as_deref()
            .is_none_or(|urn| urn.eq_ignore_ascii_case(CORE_USER))
}

fn index_use(filter: &Filter) -> Option<IndexUse> {
    use filter::AttributeCase as _;
    match filter {
        Filter::Compare {
            path,
            op,
            value: CompValue::String(literal),
        } if is_user_name(path) && !UserAttributes.case_exact(path) => {
            // The index holds `to_lowercase` names, as the evaluator folds case.
            let lower = literal.to_lowercase();
            Some(match op {
                CompareOp::Eq
                | CompareOp::Sw
                | CompareOp::Gt
                | CompareOp::Ge
                | CompareOp::Lt
                | CompareOp::Le => IndexUse::Range(Range(*op, lower)),
                // Not a range: the scan of the columns reads the names in memory order.
                CompareOp::Co | CompareOp::Ew | CompareOp::Ne => return None,
            })
        }
        Filter::And(left, right) => {
            [left, right]
                .into_iter()
                .find_map(|side| match index_use(side)? {
                    IndexUse::Range(range) | IndexUse::Within(range) => {
                        Some(IndexUse::Within(range))
                    }
                })
        }
        _ => None,
    }
}

/// The users SCIM has, for one search.
pub(super) struct Users<'a> {
    /// The core store.
    pub store: &'a Store,
    /// The workspace's SCIM records, in step with the core store ([`Table::sync`]).
    pub table: &'a Table,
    /// The times of users without a record.
    pub started: SystemTime,
    /// The workspace searched.
    pub workspace: &'a str,
    /// For `meta.location`.
    pub base_url: &'a str,
}

/// A filter prepared for one search: over the columns of rows that have them, and whole
/// over the views of the others.
struct Matcher<'a, 'f> {
    users: &'a Users<'a>,
    plan: Plan<'f>,
    whole: filter::Compiled<'f>,
}

impl<'a> Matcher<'a, '_> {
    fn row(&self, row: &'a Row) -> bool {
        let view = UserView::stored(&row.id, &row.record, self.users.base_url);
        match self.users.table.columns(row) {
            Some(columns) => self.plan.matches(columns, &view),
            None => self.whole.matches(&view),
        }
    }

    /// A user without a record.
    fn derived(&self, id: &str) -> bool {
        self.users.store.user(id).is_some_and(|user| {
            let view = UserView::new(user, None, self.users.started, self.users.base_url);
            self.whole.matches(&view)
        })
    }

    fn id(&self, id: &str) -> bool {
        match self.users.table.row(id) {
            Some(row) => self.row(row),
            None => self.derived(id),
        }
    }
}

impl<'a> Users<'a> {
    /// How many users match `filter` in all, and the ids of those on the page (`skip`
    /// matches skipped, at most `count`), in id order.
    pub(super) fn search(
        &self,
        filter: Option<&Filter>,
        skip: usize,
        count: usize,
    ) -> (usize, Vec<&'a str>) {
        let store = self.store;
        let Some(filter) = filter else {
            let page = store
                .user_ids_in(self.workspace, None)
                .skip(skip)
                .take(count)
                .collect();
            return (store.user_count(self.workspace), page);
        };
        let Some(names) = store.names().workspace(self.workspace) else {
            return (0, Vec::new());
        };
        let matcher = Matcher {
            users: self,
            plan: Plan::new(filter),
            whole: filter::Compiled::new(filter, &UserAttributes),
        };
        match index_use(filter) {
            Some(IndexUse::Range(range)) => {
                page_of(names.ids_in(range.as_name_range()).collect(), skip, count)
            }
            Some(IndexUse::Within(range)) => page_of(
                names
                    .ids_in(range.as_name_range())
                    .filter(|id| matcher.id(id))
                    .collect(),
                skip,
                count,
            ),
            None => {
                // Every row in memory order, then the users without a record.
                let table = self.table;
                let mut page = Top::new(skip.saturating_add(count));
                for row in table.rows() {
                    if matcher.row(row) {
                        page.push(table.id(row));
                    }
                }
                for id in table.derived() {
                    if matcher.derived(id) {
                        page.push(id);
                    }
                }
                page.finish(skip)
            }
        }
    }
}

/// Count and page of matches that come in any order, keeping only the first `keep` in id
/// order as they come (matches mostly come in id order, as rows are written, so most are
/// compared once with the largest kept and dropped).
struct Top<'a> {
    keep: usize,
    kept: BinaryHeap<&'a str>,
    total: usize,
}

impl<'a> Top<'a> {
    fn new(keep: usize) -> Top<'a> {
        Top {
            keep,
            kept: BinaryHeap::new(),
            total: 0,
        }
    }

    fn push(&mut self, id: &'a str) {
        self.total += 1;
        if self.kept.len() < self.keep {
            self.kept.push(id);
        } else if let Some(mut largest) = self.kept.peek_mut()
            && id < *largest
        {
            *largest = id;
        }
    }

    /// The total and the page (the kept ids after the first `skip`), in id order.
    fn finish(self, skip: usize) -> (usize, Vec<&'a str>) {
        let mut page = self.kept.into_sorted_vec();
        page.drain(..skip.min(page.len()));
        (self.total, page)
    }
}

/// Count and page of matches in any order: only the first `skip + count` in id order are
/// selected (linear) and sorted.
fn page_of(mut ids: Vec<&str>, skip: usize, count: usize) -> (usize, Vec<&str>) {
    let total = ids.len();
    let end = skip.saturating_add(count).min(total);
    if skip >= end {
        return (total, Vec::new());
    }
    if end < total {
        ids.select_nth_unstable(end);
        ids.truncate(end);
    }
    ids.sort_unstable();
    (total, ids.split_off(skip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> Option<IndexUse> {
        index_use(&filter::parse(text).unwrap())
    }

    #[test]
    fn user_name_comparisons_use_the_index() {
        let range = |op, lit: &str| Range(op, lit.to_owned());
        assert_eq!(
            plan(r#"userName eq "A@X""#),
            Some(IndexUse::Range(range(CompareOp::Eq, "a@x")))
        );
        assert_eq!(
            plan(r#"urn:ietf:params:scim:schemas:core:2.0:User:USERNAME sw "\u212Aim""#),
            Some(IndexUse::Range(range(CompareOp::Sw, "kim")))
        );
        assert_eq!(
            plan(r#"userName le "b""#),
            Some(IndexUse::Range(range(CompareOp::Le, "b")))
        );
        assert_eq!(
            plan(r#"active eq true and (title pr and userName sw "U")"#),
            Some(IndexUse::Within(range(CompareOp::Sw, "u")))
        );
        for other in [
            r#"userName eq 1"#,
            r#"userName eq null"#,
            r#"userName co "99@""#,
            r#"userName ne "u""#,
            r#"not (userName sw "u")"#,
            r#"userName sw "u" or active eq true"#,
            r#"userName co "u" and active eq true"#,
            r#"userName.value sw "u""#,
            r#"urn:example:x:userName sw "u""#,
            r#"name.familyName eq "x" and active eq true"#,
        ] {
            assert_eq!(plan(other), None, "{other}");
        }
    }

    #[test]
    fn pages_are_cut_after_ordering() {
        let ids = vec!["d", "b", "e", "a", "c"];
        assert_eq!(page_of(ids.clone(), 0, 2), (5, vec!["a", "b"]));
        assert_eq!(page_of(ids.clone(), 3, 10), (5, vec!["d", "e"]));
        assert_eq!(page_of(ids.clone(), 1, 0), (5, vec![]));
        assert_eq!(page_of(ids.clone(), 9, 1), (5, vec![]));
        assert_eq!(
            page_of(ids.clone(), 0, usize::MAX),
            (5, vec!["a", "b", "c", "d", "e"])
        );
        for (skip, count) in [(0, 2), (3, 10), (1, 0), (9, 1), (0, usize::MAX), (2, 2)] {
            let mut top = Top::new(skip + count.min(100));
            for id in &ids {
                top.push(id);
            }
            assert_eq!(
                top.finish(skip),
                page_of(ids.clone(), skip, count),
                "{skip} {count}"
            );
        }
    }
}
