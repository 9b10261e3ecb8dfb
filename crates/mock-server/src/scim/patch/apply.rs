//! Applying a [`PatchRequest`] to a User resource (RFC 7644 section 3.5.2); the choices
//! where the RFC is loose are listed in `super`'s docs.

use response_schema::ScimType;
use serde_json::{Map, Value};

use super::error::{PatchError, at_operation};
use super::parse::{OpKind, PatchOperation, PatchRequest, parse_request};
use super::values::{
    all_attributes, as_items, container, container_mut, is_unassigned, merge, normalize,
    normalize_single, strip_nulls, sync_extensions, value_matches,
};
use crate::scim::filter::{self, AttrPath, CompValue, CompareOp, Filter, PatchPath};
use crate::scim::members as ci;
use crate::scim::schema::{
    self, Attribute, Mutability, Schema, USER_SCHEMA, USER_SCHEMAS, UserAttributes,
};

/// Parses a PatchOp body and applies it to `resource`.
pub(crate) fn patch(resource: &Value, body: &Value) -> Result<Value, PatchError> {
    apply(resource, &parse_request(body)?)
}

/// Applies every operation in order to a copy of `resource` (a User) and
/// returns it, or the first error; `meta` is left for the caller to update.
pub(crate) fn apply(resource: &Value, request: &PatchRequest) -> Result<Value, PatchError> {
    let mut doc = resource.clone();
    if !doc.is_object() {
        return Err(PatchError::value("the resource is not a JSON object"));
    }
    for (i, op) in request.operations.iter().enumerate() {
        apply_operation(&mut doc, op).map_err(|e| at_operation(i, e))?;
    }
    check_required(resource, &doc)?;
    sync_extensions(&mut doc);
    Ok(doc)
}

fn apply_operation(doc: &mut Value, op: &PatchOperation) -> Result<(), PatchError> {
    match &op.path {
        Some(path) => {
            let target = resolve(path)?;
            apply_at(doc, op.op, &target, op.value.as_ref())
        }
        None => match (op.op, &op.value) {
            (OpKind::Remove, _) => Err(PatchError::no_target("remove needs a \"path\"")),
            (_, Some(Value::Object(members))) => apply_members(doc, op.op, &USER_SCHEMA, members),
            (kind, _) => Err(PatchError::value(format!(
                "{} without a path needs an object of attributes as its value",
                kind.as_str()
            ))),
        },
    }
}

/// Applies `kind` to each member of a value object, each member naming an
/// attribute of `schema` (or a schema URI holding more members).
fn apply_members(
    doc: &mut Value,
    kind: OpKind,
    schema: &'static Schema,
    members: &Map<String, Value>,
) -> Result<(), PatchError> {
    for (key, value) in members {
        if let Some(nested) = schema::schema_by_urn(key) {
            match value {
                Value::Object(inner) => apply_members(doc, kind, nested, inner)?,
                _ => {
                    return Err(PatchError::value(format!(
                        "the value of {key:?} must be an object"
                    )));
                }
            }
            continue;
        }
        let mut path = filter::parse_path(key).map_err(|e| {
            PatchError::value(format!("invalid attribute name {key:?} in value: {e}"))
        })?;
        if path.attr.urn.is_none() && !schema.is_core() {
            path.attr.urn = Some(schema.id.to_owned());
        }
        // In a value object an unknown name is a bad value, not a bad path.
        let target = resolve(&path).map_err(|e| match e.scim_type {
            ScimType::InvalidPath => PatchError::value(e.detail),
            _ => e,
        })?;
        apply_at(doc, kind, &target, Some(value))?;
    }
    Ok(())
}

/// A path checked against the schema.
struct Target<'p> {
    schema: &'static Schema,
    attr: &'static Attribute,
    filter: Option<&'p Filter>,
    sub: Option<&'static Attribute>,
    /// The attribute as a filter path, for value-filter case rules.
    attr_path: AttrPath,
    text: String,
}

fn resolve(path: &PatchPath) -> Result<Target<'_>, PatchError> {
    let text = path.to_string();
    let schema = match &path.attr.urn {
        None => &USER_SCHEMA,
        Some(urn) => schema::schema_by_urn(urn)
            .ok_or_else(|| PatchError::path(format!("unknown schema {urn:?} in {text:?}")))?,
    };
    let attr = schema.attribute(&path.attr.name).ok_or_else(|| {
        PatchError::path(format!(
            "unknown attribute {:?} in {text:?}",
            path.attr.name
        ))
    })?;
    let sub_of = |name: &str| {
        attr.sub_attribute(name)
            .ok_or_else(|| PatchError::path(format!("{} has no sub-attribute {name:?}", attr.name)))
    };
    let sub = match &path.filter {
        Some(value_filter) => {
            if !(attr.multi_valued && attr.is_complex()) || path.attr.sub_attr.is_some() {
                return Err(PatchError::path(format!(
                    "a value filter needs a multi-valued complex attribute, found {text:?}"
                )));
            }
            check_filter_paths(value_filter, attr)?;
            path.sub_attr.as_deref().map(sub_of).transpose()?
        }
        None => match &path.attr.sub_attr {
            None => None,
            Some(_) if !attr.is_complex() => {
                return Err(PatchError::path(format!(
                    "{} has no sub-attributes",
                    attr.name
                )));
            }
            Some(_) if attr.multi_valued => {
                return Err(PatchError::path(format!(
                    "a sub-attribute of the multi-valued {} needs a value filter, as in {}[type eq \"work\"]",
                    attr.name, attr.name
                )));
            }
            Some(name) => Some(sub_of(name)?),
        },
    };
    Ok(Target {
        schema,
        attr,
        filter: path.filter.as_ref(),
        sub,
        attr_path: AttrPath {
            urn: (!schema.is_core()).then(|| schema.id.to_owned()),
            name: attr.name.to_owned(),
            sub_attr: None,
        },
        text,
    })
}

/// Every path inside a value filter must be a sub-attribute of `attr`.
fn check_filter_paths(value_filter: &Filter, attr: &Attribute) -> Result<(), PatchError> {
    let check = |path: &AttrPath| {
        if path.urn.is_none() && path.sub_attr.is_none() && attr.sub_attribute(&path.name).is_some()
        {
            Ok(())
        } else {
            Err(PatchError::path(format!(
                "{path} is not a sub-attribute of {}",
                attr.name
            )))
        }
    };
    match value_filter {
        Filter::Compare { path, .. } | Filter::Present(path) => check(path),
        Filter::And(l, r) | Filter::Or(l, r) => {
            check_filter_paths(l, attr)?;
            check_filter_paths(r, attr)
        }
        Filter::Not(inner) => check_filter_paths(inner, attr),
        Filter::ValuePath { .. } => Err(PatchError::path("value filters cannot be nested")),
    }
}

fn apply_at(
    doc: &mut Value,
    kind: OpKind,
    target: &Target<'_>,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    let attr = target.attr;
    // Add needs a real value; for replace, null means unassign.
    let value = match (kind, value) {
        (OpKind::Add, None | Some(Value::Null)) => {
            return Err(PatchError::value(format!(
                "add to {:?} needs a value",
                target.text
            )));
        }
        (OpKind::Replace, None) => {
            return Err(PatchError::value(format!(
                "replace of {:?} needs a value",
                target.text
            )));
        }
        (_, v) => v.filter(|v| !v.is_null()),
    };
    update_attribute(doc, target.schema, attr, |old| {
        match (target.filter, target.sub) {
            (None, None) => whole_attribute(kind, attr, old, value),
            (None, Some(sub)) => sub_attribute(kind, sub, old, value),
            (Some(value_filter), sub) => filtered(kind, target, value_filter, sub, old, value),
        }
    })
}

/// An operation on a whole attribute.
fn whole_attribute(
    kind: OpKind,
    attr: &Attribute,
    old: Option<Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, PatchError> {
    match (kind, value) {
        (OpKind::Remove, None) => Ok(None),
        (OpKind::Remove, Some(value)) if attr.multi_valued => {
            let wanted = as_items(normalize(attr, value)?);
            let mut items = old.map(as_items).unwrap_or_default();
            let before = items.len();
            items.retain(|item| !wanted.iter().any(|w| value_matches(w, item)));
            if items.len() == before {
                return Err(PatchError::no_target(format!(
                    "no value of {} matches the value to remove",
                    attr.name
                )));
            }
            Ok(Some(Value::Array(items)))
        }
        (OpKind::Remove, Some(_)) => Ok(None),
        (_, None) => Ok(None),
        (kind, Some(value)) => {
            let value = normalize(attr, value)?;
            if attr.multi_valued {
                let added = as_items(value);
                let mut items = if kind == OpKind::Add {
                    old.map(as_items).unwrap_or_default()
                } else {
                    Vec::new()
                };
                let mut chosen = Vec::new();
                for item in added {
                    // RFC 7644 section 3.5.2.1: a value already there is not added twice.
                    match items.iter().position(|existing| *existing == item) {
                        Some(at) => chosen.push(at),
                        None => {
                            chosen.push(items.len());
                            items.push(item);
                        }
                    }
                }
                enforce_single_primary(attr, &mut items, &chosen)?;
                Ok(Some(Value::Array(items)))
            } else if attr.is_complex() {
                // Both add and replace merge sub-attributes into a complex
                // attribute (RFC 7644 sections 3.5.2.1 and 3.5.2.3).
                Ok(Some(merge(old, value)))
            } else {
                Ok(Some(value))
            }
        }
    }
}

/// An operation on a sub-attribute of a single-valued complex attribute.
fn sub_attribute(
    kind: OpKind,
    sub: &Attribute,
    old: Option<Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, PatchError> {
    let mut members = match old {
        Some(Value::Object(members)) => members,
        _ => Map::new(),
    };
    ci::remove(&mut members, sub.name);
    match (kind, value) {
        (OpKind::Remove, _) | (_, None) => {}
        (_, Some(value)) => {
            members.insert(sub.name.to_owned(), normalize(sub, value)?);
        }
    }
    Ok(Some(Value::Object(members)))
}

/// An operation through a value filter on a multi-valued complex attribute.
fn filtered(
    kind: OpKind,
    target: &Target<'_>,
    value_filter: &Filter,
    sub: Option<&Attribute>,
    old: Option<Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, PatchError> {
    let attr = target.attr;
    let mut items = old.map(as_items).unwrap_or_default();
    let matched: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| {
            filter::matches_element(value_filter, &target.attr_path, item, &UserAttributes)
        })
        .map(|(i, _)| i)
        .collect();
    // The new content: a whole value, or one sub-attribute's value.
    let content = match (value, sub) {
        (None, _) => None,
        (Some(v), None) => Some(normalize_single(attr, v)?),
        (Some(v), Some(sub)) => Some(normalize(sub, v)?),
    };
    if matched.is_empty() {
        let template = (kind == OpKind::Add)
            .then(|| filter_template(value_filter, attr))
            .flatten();
        let (Some(template), Some(content)) = (template, &content) else {
            return Err(PatchError::no_target(format!(
                "no value of {} matches {:?}",
                attr.name, target.text
            )));
        };
        let created = match sub {
            None => merge(Some(Value::Object(template)), content.clone()),
            Some(sub) => {
                let mut element = template;
                element.insert(sub.name.to_owned(), content.clone());
                Value::Object(element)
            }
        };
        // The template comes from the filter, so its types need checking too.
        let created = normalize_single(attr, &created)?;
        items.push(created);
        let chosen = [items.len() - 1];
        enforce_single_primary(attr, &mut items, &chosen)?;
        return Ok(Some(Value::Array(items)));
    }
    match (kind, sub, content) {
        (OpKind::Remove, None, _) | (OpKind::Replace, None, None) => {
            let mut index = 0;
            items.retain(|_| {
                let keep = !matched.contains(&index);
                index += 1;
                keep
            });
        }
        (OpKind::Add, None, Some(content)) => {
            for &i in &matched {
                items[i] = merge(Some(items[i].take()), content.clone());
            }
        }
        (OpKind::Replace, None, Some(content)) => {
            for &i in &matched {
                items[i] = strip_nulls(content.clone());
            }
        }
        (_, Some(sub), content) => {
            for &i in &matched {
                if let Value::Object(members) = &mut items[i] {
                    ci::remove(members, sub.name);
                    if let (OpKind::Add | OpKind::Replace, Some(content)) = (kind, &content) {
                        members.insert(sub.name.to_owned(), content.clone());
                    }
                }
            }
        }
        // Add always carries a value (checked in apply_at).
        (OpKind::Add, None, None) => {}
    }
    if kind != OpKind::Remove {
        enforce_single_primary(attr, &mut items, &matched)?;
    }
    Ok(Some(Value::Array(items)))
}

/// The value an `add` through a value filter creates when nothing matches:
/// the sub-attributes the filter pins with `eq`, joined by `and`.
fn filter_template(value_filter: &Filter, attr: &Attribute) -> Option<Map<String, Value>> {
    match value_filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => {
            let sub = attr.sub_attribute(&path.name)?;
            let json = match value {
                CompValue::Null => return None,
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::String(s) => Value::String(s.clone()),
            };
            Some(Map::from_iter([(sub.name.to_owned(), json)]))
        }
        Filter::And(left, right) => {
            let mut out = filter_template(left, attr)?;
            for (key, value) in filter_template(right, attr)? {
                if out.get(&key).is_some_and(|v| *v != value) {
                    return None;
                }
                out.insert(key, value);
            }
            Some(out)
        }
        _ => None,
    }
}

/// RFC 7643 section 2.4: at most one value is primary; the values just set
/// (`chosen`) win over the others.
fn enforce_single_primary(
    attr: &Attribute,
    items: &mut [Value],
    chosen: &[usize],
) -> Result<(), PatchError> {
    let Some(primary) = attr.sub_attribute("primary") else {
        return Ok(());
    };
    let is_primary = |v: &Value| filter::member(v, primary.name) == Some(&Value::Bool(true));
    let chosen_primary: Vec<usize> = chosen
        .iter()
        .copied()
        .filter(|&i| items.get(i).is_some_and(is_primary))
        .collect();
    match chosen_primary.as_slice() {
        [] => Ok(()),
        [winner] => {
            for (i, item) in items.iter_mut().enumerate() {
                if i != *winner
                    && is_primary(item)
                    && let Value::Object(members) = item
                {
                    ci::remove(members, primary.name);
                    members.insert(primary.name.to_owned(), Value::Bool(false));
                }
            }
            Ok(())
        }
        _ => Err(PatchError::value(format!(
            "more than one value of {} has primary true",
            attr.name
        ))),
    }
}

/// Reads the attribute, computes its new value with `change`, checks
/// mutability, and writes it back under its canonical name.
fn update_attribute(
    doc: &mut Value,
    schema: &Schema,
    attr: &Attribute,
    change: impl FnOnce(Option<Value>) -> Result<Option<Value>, PatchError>,
) -> Result<(), PatchError> {
    let old = container(doc, schema)
        .and_then(|c| filter::member(c, attr.name))
        .filter(|v| !is_unassigned(v))
        .cloned();
    let new = change(old.clone())?.filter(|v| !is_unassigned(v));
    check_mutability(attr, old.as_ref(), new.as_ref())?;
    let Some(root) = doc.as_object_mut() else {
        return Ok(());
    };
    let members = container_mut(root, schema);
    ci::remove(members, attr.name);
    if let Some(new) = new {
        members.insert(attr.name.to_owned(), new);
    }
    Ok(())
}

fn check_mutability(
    attr: &Attribute,
    old: Option<&Value>,
    new: Option<&Value>,
) -> Result<(), PatchError> {
    check_one(attr, attr.name, old, new)?;
    if attr.is_complex() && !attr.multi_valued && attr.mutability != Mutability::ReadOnly {
        // Dropping the whole complex value also drops its readOnly parts.
        if let Some(new) = new {
            for sub in attr.sub_attributes {
                let old_sub = old
                    .and_then(|o| filter::member(o, sub.name))
                    .filter(|v| !v.is_null());
                let new_sub = filter::member(new, sub.name).filter(|v| !v.is_null());
                check_one(
                    sub,
                    &format!("{}.{}", attr.name, sub.name),
                    old_sub,
                    new_sub,
                )?;
            }
        }
    }
    Ok(())
}

fn check_one(
    attr: &Attribute,
    label: &str,
    old: Option<&Value>,
    new: Option<&Value>,
) -> Result<(), PatchError> {
    match attr.mutability {
        Mutability::ReadOnly if old != new => {
            Err(PatchError::mutability(format!("{label} is readOnly")))
        }
        Mutability::Immutable if old.is_some() && old != new => Err(PatchError::mutability(
            format!("{label} is immutable and already has a value"),
        )),
        _ => Ok(()),
    }
}

/// Required attributes the resource had must survive the request.
fn check_required(before: &Value, after: &Value) -> Result<(), PatchError> {
    for def in USER_SCHEMAS {
        for attr in all_attributes(def).filter(|a| a.required) {
            let present = |doc: &Value| {
                container(doc, def)
                    .and_then(|c| filter::member(c, attr.name))
                    .is_some_and(|v| !is_unassigned(v))
            };
            if present(before) && !present(after) {
                return Err(PatchError::value(format!(
                    "{} is required and cannot be removed",
                    attr.name
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::scim::patch::PATCH_OP;
    use crate::scim::schema::{CORE_USER, ENTERPRISE_USER};
    use serde_json::json;

    pub(crate) fn user() -> Value {
        json!({
            "schemas": [CORE_USER],
            "id": "2819c223",
            "externalId": "701984",
            "userName": "bjensen",
            "name": {"familyName": "Jensen", "givenName": "Barbara"},
            "displayName": "Babs Jensen",
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
            "groups": [{"value": "e9e30dba", "display": "Tour Guides"}],
            "meta": {
                "resourceType": "User",
                "created": "2010-01-23T04:56:22Z",
                "lastModified": "2011-05-13T04:42:34Z",
                "version": "W/\"3694e05e9dff590\""
            }
        })
    }

    fn body(ops: Value) -> Value {
        json!({"schemas": [PATCH_OP], "Operations": ops})
    }

    fn run(resource: &Value, ops: Value) -> Result<Value, PatchError> {
        patch(resource, &body(ops))
    }

    fn error_type(resource: &Value, ops: Value) -> Option<ScimType> {
        run(resource, ops).err().map(|e| e.scim_type)
    }

    #[test]
    fn add_simple_replaces_and_add_multi_appends() {
        let out = run(
            &user(),
            json!([
                {"op": "add", "path": "title", "value": "Tour Guide"},
                {"op": "add", "path": "displayName", "value": "Barbara"},
                {"op": "add", "path": "emails", "value": [{"value": "b@work.example", "type": "other"}]},
            ]),
        )
        .unwrap();
        assert_eq!(out["title"], json!("Tour Guide"));
        assert_eq!(out["displayName"], json!("Barbara"));
        let emails = out["emails"].as_array().unwrap();
        assert_eq!(emails.len(), 3);
        assert_eq!(
            emails[2],
            json!({"value": "b@work.example", "type": "other"})
        );
    }

    #[test]
    fn add_an_existing_value_does_not_duplicate_it() {
        let existing = user()["emails"][1].clone();
        let out = run(
            &user(),
            json!([{"op": "add", "path": "emails", "value": [existing]}]),
        )
        .unwrap();
        assert_eq!(out["emails"], user()["emails"]);
    }

    #[test]
    fn add_single_value_to_multi_valued_attribute() {
        let out = run(
            &user(),
            json!([{"op": "add", "path": "roles", "value": {"value": "admin"}}]),
        )
        .unwrap();
        assert_eq!(out["roles"], json!([{"value": "admin"}]));
    }

    #[test]
    fn add_primary_clears_other_primaries() {
        let out = run(
            &user(),
            json!([{"op": "add", "path": "emails", "value": [{"value": "new@example.com", "primary": true}]}]),
        )
        .unwrap();
        assert_eq!(out["emails"][0]["primary"], json!(false));
        assert_eq!(out["emails"][2]["primary"], json!(true));
        assert_eq!(
            error_type(
                &user(),
                json!([{"op": "add", "path": "emails", "value": [
                    {"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}
                ]}])
            ),
            Some(ScimType::InvalidValue)
        );
    }

    #[test]
    fn add_complex_merges_sub_attributes() {
        let out = run(
            &user(),
            json!([{"op": "add", "path": "name", "value": {"middleName": "Jane", "GIVENNAME": "Babs"}}]),
        )
        .unwrap();
        assert_eq!(
            out["name"],
            json!({"familyName": "Jensen", "givenName": "Babs", "middleName": "Jane"})
        );
    }

    #[test]
    fn add_sub_attribute_creates_parent() {
        let mut resource = user();
        resource.as_object_mut().unwrap().remove("name");
        let out = run(
            &resource,
            json!([{"op": "add", "path": "name.givenName", "value": "Barbara"}]),
        )
        .unwrap();
        assert_eq!(out["name"], json!({"givenName": "Barbara"}));
    }

    #[test]
    fn add_without_path_merges_attributes() {
        let out = run(
            &user(),
            json!([{"op": "add", "value": {
                "nickName": "Babs",
                "emails": [{"value": "babs@example.org", "type": "other"}],
                "name": {"formatted": "Barbara Jensen"},
                "name.middleName": "J",
                ENTERPRISE_USER: {"employeeNumber": "701984", "manager": {"value": "26118915"}},
            }}]),
        )
        .unwrap();
        assert_eq!(out["nickName"], json!("Babs"));
        assert_eq!(out["emails"].as_array().map(Vec::len), Some(3));
        assert_eq!(
            out["name"],
            json!({"familyName": "Jensen", "givenName": "Barbara", "formatted": "Barbara Jensen", "middleName": "J"})
        );
        assert_eq!(
            out[ENTERPRISE_USER],
            json!({"employeeNumber": "701984", "manager": {"value": "26118915"}})
        );
        assert_eq!(out["schemas"], json!([CORE_USER, ENTERPRISE_USER]));
    }

    #[test]
    fn extension_attributes_by_path() {
        let out = run(
            &user(),
            json!([
                {"op": "add", "path": format!("{ENTERPRISE_USER}:department"), "value": "Tours"},
                {"op": "replace", "path": format!("{ENTERPRISE_USER}:manager.value"), "value": "26118915"},
            ]),
        )
        .unwrap();
        assert_eq!(
            out[ENTERPRISE_USER],
            json!({"department": "Tours", "manager": {"value": "26118915"}})
        );
        assert_eq!(out["schemas"], json!([CORE_USER, ENTERPRISE_USER]));
        // Removing the last extension attribute drops the extension and its URI.
        let back = run(
            &out,
            json!([
                {"op": "remove", "path": format!("{ENTERPRISE_USER}:department")},
                {"op": "remove", "path": format!("{ENTERPRISE_USER}:manager")},
            ]),
        )
        .unwrap();
        assert_eq!(back, user());
    }

    #[test]
    fn add_through_value_filter() {
        let out = run(
            &user(),
            json!([{"op": "add", "path": "emails[type eq \"work\"].display", "value": "Work"}]),
        )
        .unwrap();
        assert_eq!(out["emails"][0]["display"], json!("Work"));
        // Nothing matches: the filter's eq comparisons make a new value.
        let out = run(
            &user(),
            json!([{"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "555-1234"}]),
        )
        .unwrap();
        assert_eq!(
            out["phoneNumbers"][1],
            json!({"type": "mobile", "value": "555-1234"})
        );
        let out = run(
            &user(),
            json!([{"op": "add", "path": "addresses[type eq \"work\"]", "value": {"locality": "Hollywood"}}]),
        )
        .unwrap();
        assert_eq!(
            out["addresses"],
            json!([{"type": "work", "locality": "Hollywood"}])
        );
        // A filter that pins nothing cannot make a value.
        assert_eq!(
            error_type(
                &user(),
                json!([{"op": "add", "path": "emails[type co \"x\"].value", "value": "a@x"}])
            ),
            Some(ScimType::NoTarget)
        );
    }

    #[test]
    fn replace_simple_and_complex() {
        let out = run(
            &user(),
            json!([
                {"op": "replace", "path": "userName", "value": "babs"},
                {"op": "replace", "path": "active", "value": false},
                {"op": "replace", "path": "name", "value": {"givenName": "Babs", "familyName": null}},
                {"op": "replace", "path": "name.middleName", "value": "J"},
                {"op": "replace", "path": "nickName", "value": "B"},
            ]),
        )
        .unwrap();
        assert_eq!(out["userName"], json!("babs"));
        assert_eq!(out["active"], json!(false));
        assert_eq!(out["name"], json!({"givenName": "Babs", "middleName": "J"}));
        assert_eq!(out["nickName"], json!("B"));
    }

    #[test]
    fn replace_multi_valued_replaces_all_values() {
        let out = run(
            &user(),
            json!([{"op": "replace", "path": "emails", "value": [{"value": "only@example.com"}]}]),
        )
        .unwrap();
        assert_eq!(out["emails"], json!([{"value": "only@example.com"}]));
    }

    #[test]
    fn replace_through_value_filter() {
        let out = run(
            &user(),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}]),
        )
        .unwrap();
        assert_eq!(
            out["emails"][0],
            json!({"value": "new@example.com", "type": "work", "primary": true})
        );
        assert_eq!(out["emails"][1], user()["emails"][1]);

        let out = run(
            &user(),
            json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "h@example.com", "type": "home"}}]),
        )
        .unwrap();
        assert_eq!(
            out["emails"][1],
            json!({"value": "h@example.com", "type": "home"})
        );

        // Making another value primary clears the old one.
        let out = run(
            &user(),
            json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
        )
        .unwrap();
        assert_eq!(out["emails"][0]["primary"], json!(false));
        assert_eq!(out["emails"][1]["primary"], json!(true));

        assert_eq!(
            error_type(
                &user(),
                json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x@y"}])
            ),
            Some(ScimType::NoTarget)
        );
    }

    #[test]
    fn replace_without_path() {
        let out = run(
            &user(),
            json!([{"op": "replace", "value": {
                "displayName": "B J",
                "emails": [{"value": "x@example.com"}],
                "id": "2819c223",
            }}]),
        )
        .unwrap();
        assert_eq!(out["displayName"], json!("B J"));
        assert_eq!(out["emails"], json!([{"value": "x@example.com"}]));
    }

    #[test]
    fn replace_with_null_unassigns() {
        let out = run(
            &user(),
            json!([{"op": "replace", "path": "displayName", "value": null}]),
        )
        .unwrap();
        assert!(out.get("displayName").is_none());
    }

    #[test]
    fn remove_simple_complex_and_multi() {
        let out = run(
            &user(),
            json!([
                {"op": "remove", "path": "displayName"},
                {"op": "remove", "path": "name.givenName"},
                {"op": "remove", "path": "phoneNumbers"},
                {"op": "remove", "path": "title"},
            ]),
        )
        .unwrap();
        assert!(out.get("displayName").is_none());
        assert_eq!(out["name"], json!({"familyName": "Jensen"}));
        assert!(out.get("phoneNumbers").is_none());

        // Removing the last sub-attribute removes the complex attribute.
        let out = run(&out, json!([{"op": "remove", "path": "name.familyName"}])).unwrap();
        assert!(out.get("name").is_none());
    }

    #[test]
    fn remove_through_value_filter() {
        let out = run(
            &user(),
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
        )
        .unwrap();
        assert_eq!(out["emails"], json!([user()["emails"][0]]));

        let out = run(
            &user(),
            json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]),
        )
        .unwrap();
        assert_eq!(
            out["emails"][0],
            json!({"value": "bjensen@example.com", "type": "work"})
        );

        // Removing every value unassigns the attribute.
        let out = run(
            &user(),
            json!([{"op": "remove", "path": "emails[value pr]"}]),
        )
        .unwrap();
        assert!(out.get("emails").is_none());

        // Filter case rules: emails.type is caseExact false.
        let out = run(
            &user(),
            json!([{"op": "remove", "path": "emails[TYPE eq \"HOME\"]"}]),
        )
        .unwrap();
        assert_eq!(out["emails"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn remove_with_value_removes_matching_values() {
        let out = run(
            &user(),
            json!([{"op": "remove", "path": "emails", "value": [{"value": "babs@jensen.org"}]}]),
        )
        .unwrap();
        assert_eq!(out["emails"], json!([user()["emails"][0]]));
        assert_eq!(
            error_type(
                &user(),
                json!([{"op": "remove", "path": "emails", "value": [{"value": "nobody@x"}]}])
            ),
            Some(ScimType::NoTarget)
        );
    }

    #[test]
    fn op_names_are_case_insensitive() {
        let out = run(
            &user(),
            json!([
                {"op": "ADD", "path": "title", "value": "a"},
                {"op": "Replace", "path": "nickName", "value": "b"},
                {"op": "rEmOvE", "path": "displayName"},
            ]),
        )
        .unwrap();
        assert_eq!(out["title"], json!("a"));
        assert_eq!(out["nickName"], json!("b"));
        assert!(out.get("displayName").is_none());
        // Member names too: "operations", "PATH", "Value".
        let out = patch(
            &user(),
            &json!({"SCHEMAS": [PATCH_OP], "operations": [{"OP": "add", "PATH": "USERTYPE", "Value": "Employee"}]}),
        )
        .unwrap();
        assert_eq!(out["userType"], json!("Employee"));
    }

    #[test]
    fn attribute_names_are_case_insensitive_and_canonicalised() {
        let mut resource = user();
        let obj = resource.as_object_mut().unwrap();
        let display = obj.remove("displayName").unwrap();
        obj.insert("displayname".into(), display);
        let out = run(
            &resource,
            json!([{"op": "replace", "path": "DISPLAYNAME", "value": "X"}]),
        )
        .unwrap();
        assert_eq!(out["displayName"], json!("X"));
        assert!(out.get("displayname").is_none());
    }

    #[test]
    fn failing_operation_leaves_original_untouched() {
        let original = user();
        let err = run(
            &original,
            json!([
                {"op": "replace", "path": "displayName", "value": "Changed"},
                {"op": "remove", "path": "emails[type eq \"missing\"]"},
            ]),
        )
        .unwrap_err();
        assert_eq!(err.scim_type, ScimType::NoTarget);
        assert!(err.detail.starts_with("operation 1: "), "{}", err.detail);
        assert_eq!(original, user());
    }

    #[test]
    fn remove_without_path_is_no_target() {
        assert_eq!(
            error_type(&user(), json!([{"op": "remove"}])),
            Some(ScimType::NoTarget)
        );
    }

    #[test]
    fn bad_paths_are_invalid_path() {
        let paths = [
            "",
            "emails[type eq \"work\"",
            "userName eq \"x\"",
            "nope",
            "name.nope",
            "urn:example:other:userName",
            "userName.x",
            "emails.value",
            "name[givenName pr]",
            "emails[nope eq \"x\"]",
            "emails[type eq \"work\"].nope",
            "members[value eq \"x\"]",
            "emails[value.x eq \"x\"]",
        ];
        for path in paths {
            for op in ["add", "replace", "remove"] {
                assert_eq!(
                    error_type(&user(), json!([{"op": op, "path": path, "value": "x"}])),
                    Some(ScimType::InvalidPath),
                    "{op} {path}"
                );
            }
        }
    }

    #[test]
    fn bad_values_are_invalid_value() {
        let cases = [
            json!([{"op": "add", "path": "title"}]),
            json!([{"op": "add", "path": "title", "value": null}]),
            json!([{"op": "replace", "path": "title"}]),
            json!([{"op": "add", "path": "title", "value": 5}]),
            json!([{"op": "add", "path": "active", "value": "True"}]),
            json!([{"op": "add", "path": "name", "value": "Barbara"}]),
            json!([{"op": "add", "path": "name", "value": {"nope": "x"}}]),
            json!([{"op": "add", "path": "emails", "value": [{"value": 5}]}]),
            json!([{"op": "add", "path": "emails", "value": [null]}]),
            json!([{"op": "add", "path": "emails[type eq \"work\"].primary", "value": "yes"}]),
            json!([{"op": "add", "path": "emails[type eq 5].value", "value": "a@x"}]),
            json!([{"op": "add", "value": "x"}]),
            json!([{"op": "add", "value": {"nope": "x"}}]),
            json!([{"op": "add", "value": {"bad name": "x"}}]),
            json!([{"op": "add", "value": {ENTERPRISE_USER: "x"}}]),
            json!([{"op": "replace", "value": {ENTERPRISE_USER: {"userName": "x"}}}]),
            json!([{"op": "remove", "path": "userName"}]),
            json!([{"op": "replace", "path": "userName", "value": null}]),
        ];
        for case in cases {
            assert_eq!(
                error_type(&user(), case.clone()),
                Some(ScimType::InvalidValue),
                "{case}"
            );
        }
        // A required attribute may be removed and added back in one request.
        let out = run(
            &user(),
            json!([
                {"op": "remove", "path": "userName"},
                {"op": "add", "path": "userName", "value": "new"},
            ]),
        )
        .unwrap();
        assert_eq!(out["userName"], json!("new"));
    }

    #[test]
    fn read_only_attributes_are_mutability_errors() {
        let cases = [
            json!([{"op": "replace", "path": "id", "value": "other"}]),
            json!([{"op": "remove", "path": "id"}]),
            json!([{"op": "add", "path": "meta.version", "value": "W/\"x\""}]),
            json!([{"op": "remove", "path": "meta"}]),
            json!([{"op": "replace", "path": "meta", "value": {"resourceType": "Group"}}]),
            json!([{"op": "add", "path": "groups", "value": [{"value": "g2"}]}]),
            json!([{"op": "remove", "path": "groups"}]),
            json!([{"op": "remove", "path": "groups[value eq \"e9e30dba\"]"}]),
            json!([{"op": "replace", "path": "groups[value eq \"e9e30dba\"].display", "value": "X"}]),
            json!([{"op": "replace", "value": {"id": "other"}}]),
            json!([{"op": "add", "value": {"meta": {"created": "2020-01-01T00:00:00Z"}}}]),
            json!([{"op": "add", "path": format!("{ENTERPRISE_USER}:manager.displayName"), "value": "Boss"}]),
            json!([{"op": "add", "path": format!("{ENTERPRISE_USER}:manager"), "value": {"value": "1", "displayName": "Boss"}}]),
        ];
        for case in cases {
            assert_eq!(
                error_type(&user(), case.clone()),
                Some(ScimType::Mutability),
                "{case}"
            );
        }
        // Sending the stored value changes nothing, so it is allowed.
        let out = run(
            &user(),
            json!([
                {"op": "replace", "path": "id", "value": "2819c223"},
                {"op": "replace", "value": {"meta": {"resourceType": "User"}}},
                {"op": "add", "path": "groups", "value": [{"value": "e9e30dba", "display": "Tour Guides"}]},
            ]),
        )
        .unwrap();
        assert_eq!(out, user());
    }

    #[test]
    fn read_only_sub_attribute_survives_a_merge_and_goes_with_its_parent() {
        let mut resource = user();
        resource.as_object_mut().unwrap().insert(
            ENTERPRISE_USER.to_owned(),
            json!({"manager": {"value": "1", "displayName": "Boss"}}),
        );
        let out = run(
            &resource,
            json!([{"op": "replace", "path": format!("{ENTERPRISE_USER}:manager"), "value": {"value": "2"}}]),
        )
        .unwrap();
        assert_eq!(
            out[ENTERPRISE_USER]["manager"],
            json!({"value": "2", "displayName": "Boss"})
        );
        let out = run(
            &resource,
            json!([{"op": "remove", "path": format!("{ENTERPRISE_USER}:manager")}]),
        )
        .unwrap();
        assert!(out.get(ENTERPRISE_USER).is_none());
        assert_eq!(
            error_type(
                &resource,
                json!([{"op": "remove", "path": format!("{ENTERPRISE_USER}:manager.displayName")}])
            ),
            Some(ScimType::Mutability)
        );
    }

    #[test]
    fn errors_display_type_and_detail() {
        let err = run(&user(), json!([{"op": "remove", "path": "id"}])).unwrap_err();
        assert_eq!(err.to_string(), "mutability: operation 0: id is readOnly");
    }
}
