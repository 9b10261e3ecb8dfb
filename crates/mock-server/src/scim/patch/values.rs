//! A User resource's values under its schema, shared by PATCH (`apply.rs`) and PUT (`put.rs`):
//! where a schema's attributes live, what counts as unassigned (RFC 7643 section 2.5), values
//! checked and canonicalised against an attribute, complex values merged.

use serde_json::{Map, Value};

use super::error::PatchError;
use crate::scim::filter;
use crate::scim::members as ci;
use crate::scim::schema::{self, AttrType, Attribute, Schema, USER_SCHEMAS};

/// The object holding a schema's attributes: the resource itself for the
/// core schema, the member keyed by the schema URI for an extension.
pub(super) fn container<'d>(doc: &'d Value, schema: &Schema) -> Option<&'d Value> {
    if schema.is_core() {
        Some(doc)
    } else {
        filter::member(doc, schema.id).filter(|v| v.is_object())
    }
}

/// RFC 7643 section 2.5: null and an empty array are unassigned; an empty
/// complex value holds nothing either.
pub(super) fn is_unassigned(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.values().all(Value::is_null),
        _ => false,
    }
}

/// A schema's top-level attributes, with the common ones for the core schema.
pub(super) fn all_attributes(def: &'static Schema) -> impl Iterator<Item = &'static Attribute> {
    let common: &'static [Attribute] = if def.is_core() {
        schema::COMMON_ATTRIBUTES
    } else {
        &[]
    };
    common.iter().chain(def.attributes)
}

/// Keeps `schemas` in step with extension data: an extension with
/// attributes is listed, an emptied one is dropped with its URI.
pub(super) fn sync_extensions(doc: &mut Value) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    for schema in USER_SCHEMAS.iter().filter(|s| !s.is_core()) {
        let Some(key) = ci::key(root, schema.id).cloned() else {
            continue;
        };
        let has_data = root.get(&key).is_some_and(|v| !is_unassigned(v));
        if !has_data {
            root.remove(&key);
        }
        let Some(Value::Array(uris)) = ci::get_mut(root, "schemas") else {
            continue;
        };
        let listed = uris.iter().any(|u| {
            u.as_str()
                .is_some_and(|u| u.eq_ignore_ascii_case(schema.id))
        });
        if has_data && !listed {
            uris.push(Value::String(schema.id.to_owned()));
        } else if !has_data {
            uris.retain(|u| {
                !u.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(schema.id))
            });
        }
    }
}

/// Checks `value` against `attr` and returns it with canonical sub-attribute
/// names; a single value for a multi-valued attribute becomes a one-item array.
pub(super) fn normalize(attr: &Attribute, value: &Value) -> Result<Value, PatchError> {
    if !attr.multi_valued {
        return normalize_single(attr, value);
    }
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    items
        .into_iter()
        .map(|item| normalize_single(attr, item).map(strip_nulls))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// Checks one value (not an array); complex values keep null members so
/// that a merge can unassign those sub-attributes.
pub(super) fn normalize_single(attr: &Attribute, value: &Value) -> Result<Value, PatchError> {
    let wrong = |expected: &str| {
        PatchError::value(format!(
            "{} must be {expected}, found {}",
            attr.name,
            describe(value)
        ))
    };
    let valid = match attr.kind {
        AttrType::Complex => {
            let Value::Object(members) = value else {
                return Err(wrong("an object"));
            };
            let mut out = Map::new();
            for (key, member) in members {
                let sub = attr.sub_attribute(key).ok_or_else(|| {
                    PatchError::value(format!("{} has no sub-attribute {key:?}", attr.name))
                })?;
                let member = if member.is_null() {
                    Value::Null
                } else {
                    normalize(sub, member)?
                };
                out.insert(sub.name.to_owned(), member);
            }
            return Ok(Value::Object(out));
        }
        AttrType::String | AttrType::Reference | AttrType::Binary => value.is_string(),
        AttrType::DateTime => value.as_str().is_some_and(looks_like_date_time),
        AttrType::Boolean => value.is_boolean(),
        AttrType::Integer => value.is_i64() || value.is_u64(),
        AttrType::Decimal => value.is_number(),
    };
    if !valid {
        let expected = match attr.kind {
            AttrType::DateTime => "a dateTime string",
            AttrType::Boolean => "a boolean",
            AttrType::Integer => "an integer",
            AttrType::Decimal => "a number",
            _ => "a string",
        };
        return Err(wrong(expected));
    }
    Ok(value.clone())
}

pub(super) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The shape of xsd:dateTime, `YYYY-MM-DDThh:mm:ss` then anything (fraction, zone).
pub(super) fn looks_like_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19)
}

pub(super) fn as_items(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => vec![other],
    }
}

pub(super) fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(members) => {
            Value::Object(members.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

/// Merges sub-attributes into a complex value; null members unassign.
pub(super) fn merge(old: Option<Value>, update: Value) -> Value {
    let mut members = match old {
        Some(Value::Object(members)) => members,
        _ => Map::new(),
    };
    if let Value::Object(update) = update {
        for (key, value) in update {
            ci::remove(&mut members, &key);
            if !value.is_null() {
                members.insert(key, value);
            }
        }
    }
    Value::Object(members)
}

/// Whether a value sent with `remove` picks `item`: complex values match on
/// the sub-attributes sent, simple ones by equality.
pub(super) fn value_matches(wanted: &Value, item: &Value) -> bool {
    match (wanted, item) {
        (Value::Object(wanted), Value::Object(_)) => wanted
            .iter()
            .all(|(key, value)| filter::member(item, key) == Some(value)),
        _ => wanted == item,
    }
}

/// The members map of a schema's container in a resource being built.
pub(super) fn container_mut<'m>(
    root: &'m mut Map<String, Value>,
    schema: &Schema,
) -> &'m mut Map<String, Value> {
    if schema.is_core() {
        return root;
    }
    let key = ci::key(root, schema.id)
        .cloned()
        .unwrap_or_else(|| schema.id.to_owned());
    let slot = root.entry(key).or_insert(Value::Null);
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(members) => members,
        // Made an object just above; the borrow checker cannot return the
        // reference from inside the first check.
        _ => unreachable!("extension container is an object"),
    }
}
