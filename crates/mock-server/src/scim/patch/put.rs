//! Checking a PUT (RFC 7644 section 3.5.1) against the stored User resource: what the client
//! may replace, what the server keeps.

use serde_json::{Map, Value};

use super::error::PatchError;
use super::values::{
    all_attributes, container, container_mut, is_unassigned, normalize, strip_nulls,
    sync_extensions,
};
use crate::scim::filter;
use crate::scim::members as ci;
use crate::scim::schema::{self, Mutability, Schema, USER_SCHEMA, USER_SCHEMAS};

/// Checks a PUT body (RFC 7644 section 3.5.1) against the stored resource
/// and returns the resource to store.
///
/// readOnly attributes sent with the stored value are ignored, sent with
/// another value are a `mutability` error, and are always taken from `old`
/// (`id`, `meta`, `groups`, `manager.displayName`); immutable ones may not
/// change once set. Other attributes come from `new` only (omitted ones are
/// cleared), except `password`: clients cannot read it back, so an omitted
/// one is kept. Types are checked as for PATCH, `userName` is required and
/// `schemas` defaults to the stored list.
pub(crate) fn check_put(old: &Value, new: &Value) -> Result<Value, PatchError> {
    let Value::Object(sent) = new else {
        return Err(PatchError::syntax("a PUT body must be a JSON object"));
    };
    let mut out = Map::new();
    for (key, value) in sent {
        if let Some(schema) = schema::schema_by_urn(key) {
            let members = match value {
                Value::Object(members) => members,
                Value::Null => continue,
                _ => {
                    return Err(PatchError::value(format!(
                        "the value of {key:?} must be an object"
                    )));
                }
            };
            for (name, member) in members {
                put_attribute(&mut out, old, schema, name, member)?;
            }
            continue;
        }
        put_attribute(&mut out, old, &USER_SCHEMA, key, value)?;
    }
    // Server-owned values always come from the stored resource.
    for def in USER_SCHEMAS {
        let kept = all_attributes(def).filter(|a| {
            matches!(
                a.mutability,
                Mutability::ReadOnly | Mutability::Immutable | Mutability::WriteOnly
            )
        });
        for attr in kept {
            let stored = container(old, def)
                .and_then(|c| filter::member(c, attr.name))
                .filter(|v| !is_unassigned(v));
            let members = container_mut(&mut out, def);
            let sent_here = members.contains_key(attr.name);
            match (attr.mutability, stored) {
                (Mutability::ReadOnly, stored) => {
                    members.remove(attr.name);
                    if let Some(stored) = stored {
                        members.insert(attr.name.to_owned(), stored.clone());
                    }
                }
                (_, Some(stored)) if !sent_here => {
                    members.insert(attr.name.to_owned(), stored.clone());
                }
                _ => {}
            }
        }
    }
    if !out.contains_key("schemas")
        && let Some(schemas) = filter::member(old, "schemas")
    {
        out.insert("schemas".to_owned(), schemas.clone());
    }
    let user_name_ok = out
        .get("userName")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if !user_name_ok {
        return Err(PatchError::value("userName is required"));
    }
    let mut doc = Value::Object(out);
    sync_extensions(&mut doc);
    Ok(doc)
}

fn put_attribute(
    out: &mut Map<String, Value>,
    old: &Value,
    schema: &'static Schema,
    name: &str,
    value: &Value,
) -> Result<(), PatchError> {
    let attr = schema
        .attribute(name)
        .ok_or_else(|| PatchError::value(format!("unknown attribute {name:?}")))?;
    if is_unassigned(value) {
        return Ok(());
    }
    let value = strip_nulls(normalize(attr, value)?);
    let stored = container(old, schema)
        .and_then(|c| filter::member(c, attr.name))
        .filter(|v| !is_unassigned(v));
    let unchanged = |sent: &Value, stored: Option<&Value>| match (sent, stored) {
        // A complex readOnly value may be echoed in part (just `meta.version`).
        (Value::Object(sent), Some(stored @ Value::Object(_))) => sent
            .iter()
            .all(|(k, v)| filter::member(stored, k) == Some(v)),
        (sent, stored) => Some(sent) == stored,
    };
    match attr.mutability {
        Mutability::ReadOnly if !unchanged(&value, stored) => {
            return Err(PatchError::mutability(format!(
                "{} is readOnly and differs from the stored value",
                attr.name
            )));
        }
        Mutability::Immutable if stored.is_some() && Some(&value) != stored => {
            return Err(PatchError::mutability(format!(
                "{} is immutable and already has a value",
                attr.name
            )));
        }
        _ => {}
    }
    let mut value = value;
    // The stored readOnly sub-attributes stay; sent ones must equal them.
    if attr.is_complex()
        && !attr.multi_valued
        && attr.mutability != Mutability::ReadOnly
        && let Value::Object(members) = &mut value
    {
        for sub in attr
            .sub_attributes
            .iter()
            .filter(|s| s.mutability == Mutability::ReadOnly)
        {
            let stored_sub = stored.and_then(|s| filter::member(s, sub.name));
            if let Some(sent_sub) = members.remove(sub.name)
                && Some(&sent_sub) != stored_sub
            {
                return Err(PatchError::mutability(format!(
                    "{}.{} is readOnly and differs from the stored value",
                    attr.name, sub.name
                )));
            }
            if let Some(stored_sub) = stored_sub {
                members.insert(sub.name.to_owned(), stored_sub.clone());
            }
        }
    }
    let members = container_mut(out, schema);
    ci::remove(members, attr.name);
    members.insert(attr.name.to_owned(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use response_schema::ScimType;
    use serde_json::json;

    use super::*;
    use crate::scim::patch::apply::tests::user;
    use crate::scim::schema::{CORE_USER, ENTERPRISE_USER};

    fn stored() -> Value {
        let mut resource = user();
        resource.as_object_mut().unwrap().insert(
            ENTERPRISE_USER.to_owned(),
            json!({"manager": {"value": "1", "displayName": "Boss"}}),
        );
        resource["schemas"] = json!([CORE_USER, ENTERPRISE_USER]);
        resource["password"] = json!("t1meMa$heen");
        resource
    }

    #[test]
    fn put_keeps_server_values_and_replaces_the_rest() {
        let sent = json!({
            "schemas": [CORE_USER, ENTERPRISE_USER],
            "userName": "bjensen",
            "displayName": "Barbara",
            "emails": [{"value": "x@example.com", "type": "work"}],
            ENTERPRISE_USER: {"department": "Tours", "manager": {"value": "1"}},
        });
        let out = check_put(&stored(), &sent).unwrap();
        assert_eq!(
            out,
            json!({
                "schemas": [CORE_USER, ENTERPRISE_USER],
                "id": "2819c223",
                "userName": "bjensen",
                "displayName": "Barbara",
                "emails": [{"value": "x@example.com", "type": "work"}],
                "groups": [{"value": "e9e30dba", "display": "Tour Guides"}],
                "password": "t1meMa$heen",
                "meta": stored()["meta"],
                ENTERPRISE_USER: {"department": "Tours", "manager": {"value": "1", "displayName": "Boss"}},
            })
        );
    }

    #[test]
    fn put_ignores_read_only_values_equal_to_the_stored_ones() {
        let mut sent = stored();
        sent["displayName"] = json!("New");
        sent["meta"] = json!({"resourceType": "User"});
        sent.as_object_mut().unwrap().remove("password");
        let out = check_put(&stored(), &sent).unwrap();
        let mut expected = stored();
        expected["displayName"] = json!("New");
        assert_eq!(out, expected);
        // Sending exactly what is stored changes nothing.
        assert_eq!(check_put(&stored(), &stored()).unwrap(), stored());
    }

    #[test]
    fn put_refuses_changed_read_only_values() {
        let changes = [
            json!({"id": "other"}),
            json!({"meta": {"resourceType": "Group"}}),
            json!({"groups": [{"value": "g2"}]}),
            json!({ENTERPRISE_USER: {"manager": {"value": "1", "displayName": "Someone"}}}),
        ];
        for change in changes {
            let mut sent = stored();
            for (k, v) in change.as_object().unwrap() {
                sent[k] = v.clone();
            }
            assert_eq!(
                check_put(&stored(), &sent).err().map(|e| e.scim_type),
                Some(ScimType::Mutability),
                "{change}"
            );
        }
    }

    #[test]
    fn put_checks_types_and_required_attributes() {
        let cases = [
            (json!({"userName": 5}), ScimType::InvalidValue),
            (json!({"displayName": "x"}), ScimType::InvalidValue),
            (json!({"userName": ""}), ScimType::InvalidValue),
            (json!({"userName": "a", "nope": 1}), ScimType::InvalidValue),
            (
                json!({"userName": "a", "active": "yes"}),
                ScimType::InvalidValue,
            ),
            (
                json!({"userName": "a", ENTERPRISE_USER: []}),
                ScimType::InvalidValue,
            ),
            (json!("x"), ScimType::InvalidSyntax),
        ];
        for (sent, expected) in cases {
            assert_eq!(
                check_put(&stored(), &sent).err().map(|e| e.scim_type),
                Some(expected),
                "{sent}"
            );
        }
        // A minimal body keeps schemas, id, meta, groups and password.
        let out = check_put(&stored(), &json!({"USERNAME": "b"})).unwrap();
        assert_eq!(out["userName"], json!("b"));
        assert_eq!(out["id"], json!("2819c223"));
        assert_eq!(out["password"], json!("t1meMa$heen"));
        assert!(out.get("emails").is_none());
        assert!(out.get(ENTERPRISE_USER).is_none());
    }
}
