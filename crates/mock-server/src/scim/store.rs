//! The SCIM side of the one user store: per-workspace SCIM tokens, and the SCIM attributes,
//! timestamps and versions of each workspace user.
//!
//! A SCIM User *is* a workspace user (`state::Store::users`), so what an identity provider
//! provisions is what the rest of the platform sees: `userName` is the sign-in email,
//! `password` the sign-in password, `active: false` makes sign-in answer ACCOUNT_DISABLED, a
//! SCIM-created user can sign in (no more NOT_PROVISIONED), and deleting one revokes their
//! bearer tokens. Users the seed or `/v1` invites created appear in SCIM lists too. The
//! attributes the core user has no field for (name, emails, the enterprise extension, ...) are
//! kept here in a [`Record`], per workspace in a table (`super::table`); a user without one
//! (seeded or invited) is shown with attributes derived from the core user.
//!
//! The password lives only in the core user; it is put into the working document of a PUT or
//! PATCH (so "omitted on PUT" and "removed by PATCH" behave as RFC 7644 says) and taken out
//! again before anything is stored or shown.
//!
//! Lock order: the core store's write lock first, then this store's mutex. Every function
//! that needs both takes the core store as `&Store` / `&mut Store`, which the caller can only
//! have by holding the core lock, so the order is fixed by the signatures.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use response_schema::ScimType;
use serde_json::{Map, Value, json};

use super::filter;
use super::members as ci;
use super::patch::{self, PatchError};
pub(crate) use super::record::{Record, rfc3339};
use super::record::{derived, meta};
use super::schema::{self, CORE_USER};
use super::search;
use super::table::Table;
use crate::model::Role;
use crate::seed::Seed;
use crate::store::{Store, User};

/// Attributes the server owns: never taken from a client body, always rebuilt when shown.
const SERVER_OWNED: [&str; 2] = ["id", "meta"];

/// Why a SCIM operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScimStoreError {
    /// No user with that id in the token's workspace (a user of another workspace is as
    /// absent as a missing one).
    #[error("no user has id {0:?}")]
    NotFound(String),
    /// `userName` is already another user's in the workspace (compared ignoring case, as the
    /// attribute is not `caseExact`).
    #[error("userName {0:?} is already taken in this workspace")]
    Uniqueness(String),
    /// The body or the operations are invalid; the error carries its `scimType`.
    #[error(transparent)]
    Invalid(#[from] PatchError),
}

/// SCIM tokens and per-user SCIM records.
#[derive(Debug)]
pub(crate) struct ScimStore {
    /// Token to workspace id.
    tokens: HashMap<String, String>,
    /// Shown as `meta.created` of users that have no record yet (seeded or invited).
    started: SystemTime,
    /// The SCIM records of each workspace's users.
    records: Mutex<HashMap<String, Table>>,
}

impl ScimStore {
    /// The store over the seed's SCIM tokens (`Seed::parse` has checked them).
    pub(crate) fn from_seed(seed: &Seed) -> ScimStore {
        ScimStore {
            tokens: seed
                .scim
                .tokens
                .iter()
                .map(|t| (t.token.get_ref().clone(), t.workspace.get_ref().clone()))
                .collect(),
            started: SystemTime::now(),
            records: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets every record (the core store is reset by its owner).
    pub(crate) fn reset(&self) {
        self.lock().clear();
    }

    /// The workspace a SCIM token provisions.
    pub(crate) fn workspace_of(&self, token: &str) -> Option<&str> {
        self.tokens.get(token).map(String::as_str)
    }

    /// One user as SCIM shows it (no password), or NotFound.
    pub(crate) fn get(
        &self,
        store: &Store,
        workspace: &str,
        id: &str,
        base_url: &str,
    ) -> Result<Value, ScimStoreError> {
        let user = store
            .user_in(workspace, id)
            .ok_or_else(|| ScimStoreError::NotFound(id.to_owned()))?;
        let records = self.lock();
        let record = records.get(workspace).and_then(|t| t.get(id));
        Ok(self.document(user, record, base_url, false))
    }

    /// One page of the workspace's users matching `filter` (ordered by id, a stable order, so
    /// `startIndex` pages do not shift between requests), and how many match in all.
    ///
    /// Filters are evaluated without building each user's document, over the name index
    /// where they can be (see [`super::search`]); documents are built only for the page.
    pub(crate) fn search(
        &self,
        store: &Store,
        workspace: &str,
        base_url: &str,
        filter: Option<&filter::Filter>,
        skip: usize,
        count: usize,
    ) -> (usize, Vec<Value>) {
        let mut records = self.lock();
        let table = table_mut(&mut records, workspace);
        table.sync(store, workspace);
        let table = &*table;
        let users = search::Users {
            store,
            table,
            started: self.started,
            workspace,
            base_url,
        };
        let (total, ids) = users.search(filter, skip, count);
        let page = ids
            .into_iter()
            .filter_map(|id| store.user(id))
            .map(|user| self.document(user, table.get(&user.id), base_url, false))
            .collect();
        (total, page)
    }

    /// Creates user `id` from a POST body (RFC 7644 section 3.3) and returns it as shown.
    ///
    /// Read-only attributes in the body (`id`, `meta`, `groups`) are ignored: the server
    /// assigns them.
    pub(crate) fn create(
        &self,
        store: &mut Store,
        workspace: &str,
        id: &str,
        body: &Value,
        base_url: &str,
    ) -> Result<Value, ScimStoreError> {
        let Value::Object(members) = body else {
            return Err(invalid(
                ScimType::InvalidSyntax,
                "the body must be a JSON object",
            ));
        };
        if !lists_core_schema(body) {
            return Err(invalid(
                ScimType::InvalidSyntax,
                format!("\"schemas\" must be an array containing \"{CORE_USER}\""),
            ));
        }
        let sent: Map<String, Value> = members
            .iter()
            .filter(|(k, _)| {
                !["id", "meta", "groups"]
                    .iter()
                    .any(|owned| k.eq_ignore_ascii_case(owned))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // A PUT over an empty resource is exactly a create: the same type checks, unknown
        // attributes refused, `userName` required.
        let doc = patch::check_put(&json!({}), &Value::Object(sent))?;
        let mut records = self.lock();
        self.commit(
            store,
            table_mut(&mut records, workspace),
            workspace,
            id,
            doc,
            base_url,
        )
    }

    /// Replaces user `id` with a PUT body (RFC 7644 section 3.5.1).
    pub(crate) fn replace(
        &self,
        store: &mut Store,
        workspace: &str,
        id: &str,
        body: &Value,
        base_url: &str,
    ) -> Result<Value, ScimStoreError> {
        self.update(store, workspace, id, base_url, |old| {
            patch::check_put(old, body)
        })
    }

    /// Applies a PatchOp body to user `id` (RFC 7644 section 3.5.2), atomically.
    pub(crate) fn patch(
        &self,
        store: &mut Store,
        workspace: &str,
        id: &str,
        body: &Value,
        base_url: &str,
    ) -> Result<Value, ScimStoreError> {
        self.update(store, workspace, id, base_url, |old| {
            patch::patch(old, &expand_extension_paths(body))
        })
    }

    /// Rewrites existing user `id`: `edit` turns its working document into the new one,
    /// which is then stored; all under one lock, so the update is atomic.
    fn update(
        &self,
        store: &mut Store,
        workspace: &str,
        id: &str,
        base_url: &str,
        edit: impl FnOnce(&Value) -> Result<Value, PatchError>,
    ) -> Result<Value, ScimStoreError> {
        let mut records = self.lock();
        let table = table_mut(&mut records, workspace);
        let old = self.working_document(store, table, workspace, id, base_url)?;
        let doc = edit(&old)?;
        self.commit(store, table, workspace, id, doc, base_url)
    }

    /// Deletes user `id` and revokes their bearer tokens.
    pub(crate) fn delete(
        &self,
        store: &mut Store,
        workspace: &str,
        id: &str,
    ) -> Result<(), ScimStoreError> {
        if store.user_in(workspace, id).is_none() {
            return Err(ScimStoreError::NotFound(id.to_owned()));
        }
        let mut records = self.lock();
        let table = table_mut(&mut records, workspace);
        let in_step = table.in_step(store, workspace);
        store.remove_user(id);
        store.tokens.retain(|_, t| *t.user != *id);
        table.remove(id);
        if in_step {
            table.synced_with(store, workspace);
        }
        Ok(())
    }

    /// The user as a PUT or PATCH starts from: shown form plus the password, so the pure
    /// PUT / PATCH functions see every attribute they must keep or may remove.
    fn working_document(
        &self,
        store: &Store,
        table: &Table,
        workspace: &str,
        id: &str,
        base_url: &str,
    ) -> Result<Value, ScimStoreError> {
        let user = store
            .user_in(workspace, id)
            .ok_or_else(|| ScimStoreError::NotFound(id.to_owned()))?;
        Ok(self.document(user, table.get(id), base_url, true))
    }

    /// Stores `doc` as user `id` (new or existing) in both stores and returns it as shown.
    fn commit(
        &self,
        store: &mut Store,
        table: &mut Table,
        workspace: &str,
        id: &str,
        mut doc: Value,
        base_url: &str,
    ) -> Result<Value, ScimStoreError> {
        let Some(attributes) = doc.as_object_mut() else {
            return Err(invalid(
                ScimType::InvalidSyntax,
                "the resource must be a JSON object",
            ));
        };
        for owned in SERVER_OWNED {
            ci::remove(attributes, owned);
        }
        let password = match ci::remove(attributes, "password") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p),
            Some(_) => return Err(invalid(ScimType::InvalidValue, "password must be a string")),
        };
        let user_name = filter::member(&doc, "userName")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(ScimType::InvalidValue, "userName is required"))?
            .to_owned();
        let active = filter::member(&doc, "active").and_then(Value::as_bool);
        let taken = store
            .user_by_email(workspace, &user_name)
            .is_some_and(|u| u.id != id);
        if taken {
            return Err(ScimStoreError::Uniqueness(user_name));
        }

        let now = SystemTime::now();
        // The table stays exact through this write (the user gets a row), so it stays in
        // step with the core store if it was.
        let in_step = table.in_step(store, workspace);
        let existed = store.user(id).is_some();
        if existed {
            store.set_email(id, user_name);
        } else {
            store.insert_user(User {
                id: id.to_owned(),
                workspace: workspace.to_owned(),
                email: user_name,
                password: None,
                role: Role::Member,
                disabled: false,
                factors: Vec::new(),
            });
        }
        if let Some(user) = store.user_mut(id) {
            *user.password = password;
            // An identity provider deactivating a user is exactly "the identity provider has
            // the account marked as disabled".
            *user.disabled = active == Some(false);
        }

        let (created, version) = match table.get(id) {
            Some(previous) => (previous.created, previous.version + 1),
            // A user the seed or `/v1` created keeps the creation time it was shown with, and
            // its first SCIM write moves it past the version it was shown with.
            None if existed => (self.started, 2),
            None => (now, 1),
        };
        let record = Record {
            attributes: doc,
            created,
            last_modified: now,
            version,
        };
        let shown = match store.user(id) {
            Some(user) => self.document(user, Some(&record), base_url, false),
            None => Value::Null,
        };
        table.insert(id, record);
        if in_step {
            table.synced_with(store, workspace);
        }
        Ok(shown)
    }

    /// The user as a SCIM resource: the record's attributes (or ones derived from the core
    /// user), `id`, `meta`, and the password only when `with_password`.
    fn document(
        &self,
        user: &User,
        record: Option<&Record>,
        base_url: &str,
        with_password: bool,
    ) -> Value {
        let (mut doc, created, last_modified, version) = match record {
            Some(r) => (r.attributes.clone(), r.created, r.last_modified, r.version),
            None => (derived(user), self.started, self.started, 1),
        };
        let Some(members) = doc.as_object_mut() else {
            return doc;
        };
        members.insert("id".to_owned(), Value::String(user.id.clone()));
        members.insert(
            "meta".to_owned(),
            meta(&user.id, created, last_modified, version, base_url),
        );
        if with_password && let Some(password) = &user.password {
            members.insert("password".to_owned(), Value::String(password.clone()));
        }
        doc
    }

    /// The document-based search: each user's document built and tested with
    /// [`filter::matches`]. The reference [`ScimStore::search`] is held equal to.
    #[cfg(test)]
    pub(super) fn search_by_documents(
        &self,
        store: &Store,
        workspace: &str,
        base_url: &str,
        filter: Option<&filter::Filter>,
        skip: usize,
        count: usize,
    ) -> (usize, Vec<Value>) {
        let records = self.lock();
        let table = records.get(workspace);
        let mut total = 0;
        let mut page = Vec::new();
        for user in store
            .user_ids_in(workspace, None)
            .filter_map(|id| store.user(id))
        {
            let doc = self.document(user, table.and_then(|t| t.get(&user.id)), base_url, false);
            if filter.is_none_or(|f| filter::matches(f, &doc, &schema::UserAttributes)) {
                if total >= skip && page.len() < count {
                    page.push(doc);
                }
                total += 1;
            }
        }
        (total, page)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Table>> {
        // As for the core store: a mock keeps serving with what it has rather than failing
        // every later request because one handler panicked.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The table of `workspace`, made empty on first use.
fn table_mut<'t>(records: &'t mut HashMap<String, Table>, workspace: &str) -> &'t mut Table {
    if !records.contains_key(workspace) {
        records.insert(workspace.to_owned(), Table::default());
    }
    records
        .get_mut(workspace)
        .unwrap_or_else(|| unreachable!("inserted above"))
}

/// Rewrites PATCH operations whose `path` is a whole extension schema URI.
///
/// RFC 7644's path grammar has no form for "the whole extension", but clients send
/// `{"op": "add", "path": "urn:...:enterprise:2.0:User", "value": {...}}` (scim2-tester does),
/// and [`patch`] reads such a path as attribute `User` of schema `urn:...:2.0`. The equivalent
/// operations it does understand: add or replace without a path, with the value under the
/// URI (less a `schemas` member of the value), and a remove of each attribute of the
/// extension (which also drops the URI from `schemas`). Anything else is passed through
/// untouched, errors included.
fn expand_extension_paths(body: &Value) -> Value {
    let Some(Value::Array(operations)) = filter::member(body, "Operations") else {
        return body.clone();
    };
    let mut expanded = Vec::with_capacity(operations.len());
    for operation in operations {
        let extension = filter::member(operation, "path")
            .and_then(Value::as_str)
            .and_then(schema::schema_by_urn)
            .filter(|s| !s.is_core());
        let op = filter::member(operation, "op")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        match (extension, op.as_deref()) {
            (Some(extension), Some(kind @ ("add" | "replace"))) => {
                let mut value = filter::member(operation, "value")
                    .cloned()
                    .unwrap_or(Value::Null);
                // Some clients serialize the extension as an object with its own `schemas`
                // list; the path already names the schema.
                if let Some(members) = value.as_object_mut() {
                    ci::remove(members, "schemas");
                }
                expanded.push(json!({ "op": kind, "value": { extension.id: value } }));
            }
            (Some(extension), Some("remove")) => {
                expanded.extend(extension.attributes.iter().map(|attribute| {
                    json!({ "op": "remove", "path": format!("{}:{}", extension.id, attribute.name) })
                }));
            }
            _ => expanded.push(operation.clone()),
        }
    }
    let mut body = body.clone();
    if let Some(members) = body.as_object_mut()
        && let Some(key) = ci::key(members, "Operations").cloned()
    {
        members.insert(key, Value::Array(expanded));
    }
    body
}

fn invalid(scim_type: ScimType, detail: impl Into<String>) -> ScimStoreError {
    ScimStoreError::Invalid(PatchError {
        scim_type,
        detail: detail.into(),
    })
}

fn lists_core_schema(body: &Value) -> bool {
    filter::member(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|uris| {
            uris.iter().any(|u| {
                u.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(CORE_USER))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::testing::{arb_body, arb_column_filter, arb_filter, arb_odd_body};
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    fn setup() -> (Store, ScimStore) {
        let seed = Seed::embedded().unwrap();
        (
            Store::from_seed(&seed).unwrap(),
            ScimStore::from_seed(&seed),
        )
    }

    const BASE: &str = "http://h/scim/v2";

    #[test]
    fn seeded_users_are_scim_users_and_scim_users_are_workspace_users() {
        let (mut store, scim) = setup();
        let admin = scim.get(&store, "acme", "usr_acme_admin", BASE).unwrap();
        assert_eq!(admin["userName"], "admin@acme.example");
        assert_eq!(admin["active"], true);
        assert!(admin.get("password").is_none());
        assert_eq!(admin["meta"]["version"], "W/\"1\"");
        let disabled = scim.get(&store, "acme", "usr_acme_disabled", BASE).unwrap();
        assert_eq!(disabled["active"], false);
        assert_eq!(
            scim.get(&store, "pwonly", "usr_acme_admin", BASE),
            Err(ScimStoreError::NotFound("usr_acme_admin".into()))
        );

        let body = json!({
            "schemas": [CORE_USER],
            "userName": "New@Acme.example",
            "password": "pw",
            "id": "ignored",
            "name": {"givenName": "New"},
        });
        let created = scim
            .create(&mut store, "acme", "usr_x", &body, BASE)
            .unwrap();
        assert_eq!(created["id"], "usr_x");
        assert!(created.get("password").is_none());
        let user = store.user_by_email("acme", "new@acme.example").unwrap();
        assert_eq!(user.password.as_deref(), Some("pw"));
        assert_eq!(user.role, Role::Member);
        assert_eq!(
            scim.create(&mut store, "acme", "usr_y", &body, BASE),
            Err(ScimStoreError::Uniqueness("New@Acme.example".into()))
        );

        // PUT without a password keeps it; `active: false` disables the account.
        let put = json!({"schemas": [CORE_USER], "userName": "new@acme.example", "active": false});
        let replaced = scim
            .replace(&mut store, "acme", "usr_x", &put, BASE)
            .unwrap();
        assert_eq!(replaced["meta"]["version"], "W/\"2\"");
        assert!(replaced.get("name").is_none());
        let user = store.user("usr_x").unwrap();
        assert!(user.disabled);
        assert_eq!(user.password.as_deref(), Some("pw"));

        // PATCH removing the password removes it.
        let ops = json!({
            "schemas": [patch::PATCH_OP],
            "Operations": [{"op": "remove", "path": "password"}],
        });
        scim.patch(&mut store, "acme", "usr_x", &ops, BASE).unwrap();
        assert_eq!(store.user("usr_x").unwrap().password, None);

        scim.delete(&mut store, "acme", "usr_x").unwrap();
        assert!(store.user("usr_x").is_none());
        assert_eq!(
            scim.delete(&mut store, "acme", "usr_x"),
            Err(ScimStoreError::NotFound("usr_x".into()))
        );
    }

    #[test]
    fn a_path_naming_a_whole_extension_is_understood() {
        let (mut store, scim) = setup();
        let ext = schema::ENTERPRISE_USER;
        let add = json!({
            "schemas": [patch::PATCH_OP],
            "Operations": [{"op": "Add", "path": ext, "value": {"schemas": [ext], "department": "Tours"}}],
        });
        let added = scim
            .patch(&mut store, "acme", "usr_acme_member", &add, BASE)
            .unwrap();
        assert_eq!(added[ext]["department"], "Tours");
        assert!(added["schemas"].as_array().unwrap().contains(&json!(ext)));
        let remove = json!({
            "schemas": [patch::PATCH_OP],
            "Operations": [{"op": "remove", "path": ext}],
        });
        let removed = scim
            .patch(&mut store, "acme", "usr_acme_member", &remove, BASE)
            .unwrap();
        assert!(removed.get(ext).is_none());
        assert_eq!(removed["schemas"], json!([CORE_USER]));
    }

    // The fast search (`super::search`) against the document-based one.

    /// One step of a random history: create a user (into `acme` or `pwonly`), replace one
    /// (which may rename it), delete one; invite or delete one through `/v1` (behind the
    /// SCIM store's back); store a record of an odd shape; move a record's times to one of
    /// a few instants (a second apart, a day apart) around 2000-01-01.
    #[derive(Debug, Clone)]
    enum Step {
        Create(bool, Value),
        Replace(usize, Value),
        Delete(usize),
        Invite(String),
        V1Delete(usize),
        Odd(usize, Value),
        Age(usize, u64, u64),
    }

    fn arb_step() -> impl Strategy<Value = Step> {
        let instant = proptest::sample::select(vec![0, 1, 2, 86_400]);
        prop_oneof![
            6 => (any::<bool>(), arb_body()).prop_map(|(other, body)| Step::Create(other, body)),
            2 => (any::<usize>(), arb_body()).prop_map(|(i, body)| Step::Replace(i, body)),
            1 => any::<usize>().prop_map(Step::Delete),
            1 => "[a-c]{1,2}@acme\\.example".prop_map(Step::Invite),
            1 => any::<usize>().prop_map(Step::V1Delete),
            1 => (any::<usize>(), arb_odd_body()).prop_map(|(i, body)| Step::Odd(i, body)),
            2 => (any::<usize>(), instant.clone(), instant).prop_map(|(i, c, m)| Step::Age(i, c, m)),
        ]
    }

    /// Rewrites the record of `id` as no request would (keeping its `userName`, which the
    /// core store indexes), or does nothing when it has none.
    fn edit_record(scim: &ScimStore, id: &str, edit: impl FnOnce(&mut Record)) {
        let mut records = scim.lock();
        let table = table_mut(&mut records, "acme");
        if let Some(mut record) = table.get(id).cloned() {
            edit(&mut record);
            table.insert(id, record);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn search_is_the_document_based_search(
            steps in proptest::collection::vec(arb_step(), 0..14),
            filters in proptest::collection::vec(prop_oneof![arb_filter(), arb_column_filter()], 1..6),
            skip in 0usize..4,
            count in 0usize..6,
        ) {
            let (mut store, scim) = setup();
            let mut ids: Vec<String> = Vec::new();
            for (n, step) in steps.into_iter().enumerate() {
                match step {
                    Step::Create(other, body) => {
                        let workspace = if other { "pwonly" } else { "acme" };
                        let id = format!("usr_t{n:03}");
                        if scim.create(&mut store, workspace, &id, &body, BASE).is_ok() && !other {
                            ids.push(id);
                        }
                    }
                    Step::Replace(i, body) if !ids.is_empty() => {
                        let _ = scim.replace(&mut store, "acme", &ids[i % ids.len()], &body, BASE);
                    }
                    Step::Delete(i) if !ids.is_empty() => {
                        let id = ids.remove(i % ids.len());
                        scim.delete(&mut store, "acme", &id).unwrap();
                    }
                    Step::Invite(email) if store.user_by_email("acme", &email).is_none() => {
                        let mut user = store.user("usr_acme_member").unwrap().clone();
                        user.id = format!("usr_t{n:03}");
                        user.email = email;
                        ids.push(user.id.clone());
                        store.insert_user(user);
                    }
                    Step::V1Delete(i) if !ids.is_empty() => {
                        let id = ids.remove(i % ids.len());
                        store.remove_user(&id);
                    }
                    Step::Odd(i, mut body) if !ids.is_empty() => {
                        edit_record(&scim, &ids[i % ids.len()], |record| {
                            body["userName"] = record.attributes["userName"].clone();
                            record.attributes = body;
                        });
                    }
                    Step::Age(i, created, modified) if !ids.is_empty() => {
                        let at = |secs| std::time::UNIX_EPOCH
                            + std::time::Duration::from_secs(946_684_800 + secs);
                        edit_record(&scim, &ids[i % ids.len()], |record| {
                            record.created = at(created);
                            record.last_modified = at(modified);
                        });
                    }
                    _ => {}
                }
            }
            for filter in std::iter::once(None).chain(filters.iter().map(Some)) {
                for (skip, count) in [(skip, count), (0, usize::MAX)] {
                    let fast = scim.search(&store, "acme", BASE, filter, skip, count);
                    let reference = scim.search_by_documents(&store, "acme", BASE, filter, skip, count);
                    prop_assert_eq!(
                        &fast,
                        &reference,
                        "{}",
                        filter.map(ToString::to_string).unwrap_or_default()
                    );
                }
            }
        }
    }

    #[test]
    fn the_equivalence_test_sees_matches_and_misses() {
        // A sanity check of the generators above: a random filter matches some users and
        // not others often enough for the equivalence to mean something.
        let (mut store, scim) = setup();
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        for n in 0..8 {
            let body = arb_body().new_tree(&mut runner).unwrap().current();
            let _ = scim.create(&mut store, "acme", &format!("usr_t{n}"), &body, BASE);
        }
        let (mut some, mut none) = (0, 0);
        for _ in 0..400 {
            let filter = arb_filter().new_tree(&mut runner).unwrap().current();
            let (total, _) = scim.search(&store, "acme", BASE, Some(&filter), 0, 0);
            if total > 0 && total < store.user_count("acme") {
                some += 1;
            } else {
                none += 1;
            }
        }
        assert!(
            some >= 60 && none >= 60,
            "{some} split, {none} all or nothing"
        );
    }
}
