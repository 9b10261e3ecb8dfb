//! One workspace's SCIM records, kept dense for searches: a [`Row`] per user with a record
//! (the record and its [`Columns`]), found by id through one map, and the ids of the
//! workspace's users without a record, kept in step with the core store.
//!
//! A search scans the rows in memory order (no look-up per user) and evaluates most filters
//! on the columns alone; see [`super::search`]. The users without a record (seeded or invited
//! through `/v1`) are listed as of the core store's [`Store::users_changed`] stamp: the SCIM
//! store's own writes keep the list exact as they go, and any other change (an invite, a
//! `/v1` delete) is caught up with by one walk of the workspace at the next search.

use std::collections::{BTreeSet, HashMap};

use super::columns::plan::RowRef;
use super::columns::{Arena, Columns};
use super::record::Record;
use crate::store::Store;

/// One workspace's SCIM records.
#[derive(Debug, Default)]
pub(super) struct Table {
    /// Row index by user id.
    slots: HashMap<Box<str>, usize>,
    /// In no particular order; a removal moves the last row into the gap.
    rows: Vec<Row>,
    /// The users of the workspace without a row, as of `synced`.
    derived: BTreeSet<Box<str>>,
    /// The core store's stamp `derived` agrees with (and that no row belongs to a user the
    /// core store no longer has).
    synced: u64,
    /// The text and emails of the rows' columns.
    arena: Arena,
}

/// A user's record and the attributes searches read most, extracted from it.
#[derive(Debug)]
pub(super) struct Row {
    /// The user id.
    pub id: Box<str>,
    /// The whole SCIM resource as stored, what GET and PATCH read and write.
    pub record: Record,
    /// `None`: the record has a shape the columns cannot stand for exactly, so searches read
    /// the record itself.
    pub columns: Option<Columns>,
}

impl Table {
    /// The record of user `id`.
    pub(super) fn get(&self, id: &str) -> Option<&Record> {
        self.row(id).map(|row| &row.record)
    }

    /// The row of user `id`.
    pub(super) fn row(&self, id: &str) -> Option<&Row> {
        self.slots.get(id).map(|&slot| &self.rows[slot])
    }

    /// Every row.
    pub(super) fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// What a filter plan reads of `row` (`None`: it has no columns).
    pub(super) fn columns<'a>(&'a self, row: &'a Row) -> Option<RowRef<'a>> {
        row.columns.as_ref().map(|columns| RowRef {
            record: &row.record,
            columns,
            arena: &self.arena,
        })
    }

    /// The id of `row`, from the arena when it has columns: paging compares the ids of the
    /// matches, and there they sit in row order.
    pub(super) fn id<'a>(&'a self, row: &'a Row) -> &'a str {
        match &row.columns {
            Some(columns) => columns.id(&self.arena),
            None => &row.id,
        }
    }

    /// The users of the workspace without a record; exact after [`Table::sync`].
    pub(super) fn derived(&self) -> &BTreeSet<Box<str>> {
        &self.derived
    }

    /// Whether the table is in step with `store`'s users of `workspace`: call before a write
    /// to both stores, and [`Table::synced_with`] after it when it was.
    pub(super) fn in_step(&self, store: &Store, workspace: &str) -> bool {
        self.synced == store.users_changed(workspace)
    }

    /// Marks the table in step with `store` again, after a write to both stores that began in
    /// step and kept the table exact (inserting or removing the rows of the users it added or
    /// removed).
    pub(super) fn synced_with(&mut self, store: &Store, workspace: &str) {
        self.synced = store.users_changed(workspace);
    }

    /// Catches up with changes to the workspace's users made outside SCIM: one walk of the
    /// workspace, only when the core store changed behind the table's back.
    pub(super) fn sync(&mut self, store: &Store, workspace: &str) {
        if self.in_step(store, workspace) {
            return;
        }
        // Records of users deleted through `/v1` can never be shown again (ids are not
        // reused): drop them.
        let gone: Vec<Box<str>> = self
            .rows
            .iter()
            .filter(|row| store.user_in(workspace, &row.id).is_none())
            .map(|row| row.id.clone())
            .collect();
        for id in gone {
            self.remove(&id);
        }
        self.derived = store
            .user_ids_in(workspace, None)
            .filter(|id| !self.slots.contains_key(*id))
            .map(Box::from)
            .collect();
        self.synced_with(store, workspace);
    }

    /// Stores `record` as user `id`'s (new or replacing the old one).
    pub(super) fn insert(&mut self, id: &str, record: Record) {
        if let Some(&slot) = self.slots.get(id) {
            let row = &mut self.rows[slot];
            if let Some(old) = &row.columns {
                self.arena.release(old);
            }
            row.columns = Columns::of(id, &record.attributes, &mut self.arena);
            row.record = record;
            self.compact_if_wasteful();
            return;
        }
        let columns = Columns::of(id, &record.attributes, &mut self.arena);
        self.derived.remove(id);
        self.slots.insert(Box::from(id), self.rows.len());
        self.rows.push(Row {
            id: Box::from(id),
            record,
            columns,
        });
    }

    /// Forgets user `id`: its row, or its place among the users without one.
    pub(super) fn remove(&mut self, id: &str) {
        self.derived.remove(id);
        let Some(slot) = self.slots.remove(id) else {
            return;
        };
        let row = self.rows.swap_remove(slot);
        if let Some(old) = &row.columns {
            self.arena.release(old);
        }
        if let Some(moved) = self.rows.get(slot) {
            self.slots.insert(moved.id.clone(), slot);
        }
        self.compact_if_wasteful();
    }

    /// Rebuilds the arena from the rows' columns once most of it is unused: each row's part
    /// copied once, so compaction costs O(1) per write amortised.
    fn compact_if_wasteful(&mut self) {
        if !self.arena.wasteful() {
            return;
        }
        let mut fresh = Arena::default();
        for row in &mut self.rows {
            if let Some(columns) = &mut row.columns {
                *columns = self.arena.moved(columns, &mut fresh);
            }
        }
        self.arena = fresh;
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use serde_json::json;

    use super::*;
    use crate::seed::Seed;

    fn record(name: &str) -> Record {
        Record {
            attributes: json!({ "userName": name }),
            created: SystemTime::UNIX_EPOCH,
            last_modified: SystemTime::UNIX_EPOCH,
            version: 1,
        }
    }

    fn ids(table: &Table) -> Vec<&str> {
        let mut ids: Vec<&str> = table.rows().iter().map(|r| &*r.id).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn removals_keep_every_row_reachable_by_id() {
        let mut table = Table::default();
        for id in ["a", "b", "c", "d"] {
            table.insert(id, record(id));
        }
        table.insert("b", record("b2"));
        table.remove("a");
        table.remove("missing");
        assert_eq!(ids(&table), ["b", "c", "d"]);
        for id in ["b", "c", "d"] {
            assert_eq!(&*table.row(id).unwrap().id, id);
        }
        assert_eq!(table.get("b").unwrap().attributes["userName"], "b2");
        assert!(table.get("a").is_none());
    }

    #[test]
    fn rewrites_and_removals_compact_the_arena_without_losing_a_row() {
        use crate::scim::columns::plan::Plan;
        use crate::scim::filter;

        let mut table = Table::default();
        let record = |id: &str, round: usize| Record {
            attributes: json!({
                "userName": format!("{id}@acme.example"),
                "displayName": format!("{id} {round} {}", "x".repeat(100)),
                "emails": [{"value": format!("{id}-{round}@acme.example"), "type": "work"}],
            }),
            ..record(id)
        };
        let ids: Vec<String> = (0..2000).map(|i| format!("usr_{i:06}")).collect();
        let mut written = 0;
        for round in 0..4 {
            for id in &ids {
                table.insert(id, record(id, round));
                written += id.len() * 4 + 120;
            }
        }
        for id in ids.iter().step_by(2) {
            table.remove(id);
        }
        // Compacted at least once: far less text than was ever written.
        assert!(
            table.arena.text_len() < written / 2,
            "{}",
            table.arena.text_len()
        );
        assert_eq!(table.rows().len(), 1000);
        for id in ids.iter().skip(1).step_by(2) {
            let row = table.row(id).unwrap();
            assert_eq!(table.id(row), id);
            let text =
                format!(r#"displayName sw "{id} 3 " and emails[value eq "{id}-3@acme.example"]"#);
            let filter = filter::parse(&text).unwrap();
            let plan = Plan::new(&filter);
            assert!(
                plan.matches(table.columns(row).unwrap(), &row.record.attributes),
                "{text}"
            );
        }
    }

    #[test]
    fn changes_made_outside_scim_are_caught_up_with() {
        let mut store = Store::from_seed(&Seed::embedded().unwrap()).unwrap();
        let mut table = Table::default();
        assert!(!table.in_step(&store, "acme"));
        table.sync(&store, "acme");
        let seeded = store.user_count("acme");
        assert_eq!(table.derived().len(), seeded);
        assert!(table.in_step(&store, "acme"));

        // A record for a seeded user: it is no longer derived.
        table.insert("usr_acme_member", record("member@acme.example"));
        assert_eq!(table.derived().len(), seeded - 1);

        // `/v1` deletes that user and invites another: the next sync drops the record and
        // lists the newcomer.
        let mut invited = store.user("usr_acme_admin").unwrap().clone();
        store.remove_user("usr_acme_member");
        invited.id = "usr_new".into();
        invited.email = "new@acme.example".into();
        store.insert_user(invited);
        assert!(!table.in_step(&store, "acme"));
        table.sync(&store, "acme");
        assert!(table.rows().is_empty());
        assert!(table.derived().iter().any(|id| &**id == "usr_new"));
        assert_eq!(table.derived().len(), store.user_count("acme"));
    }
}
