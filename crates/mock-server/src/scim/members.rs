//! Case-insensitive access to the members of a SCIM JSON object: attribute names are
//! case-insensitive (RFC 7643 section 2.1), so `userName`, `username` and `USERNAME` are one
//! attribute. Every SCIM module reads and removes members through these, so all agree on which
//! of several differently cased members counts.
//!
//! **The rule:** the member spelled exactly as asked wins; otherwise the first whose name
//! matches ignoring ASCII case, in the object's key order (`serde_json::Map` keeps keys sorted
//! by bytes, so `USERNAME` comes before `UserName` before `userName`). [`remove`] takes every
//! matching member out, so a canonical name can be written without leaving a twin, and returns
//! the one [`get`] would have returned.

use serde_json::{Map, Value};

/// The name of the member of `members` that `name` designates (see the module docs).
pub(crate) fn key<'m>(members: &'m Map<String, Value>, name: &str) -> Option<&'m String> {
    if let Some((key, _)) = members.get_key_value(name) {
        return Some(key);
    }
    members.keys().find(|k| k.eq_ignore_ascii_case(name))
}

/// The member of `members` that `name` designates.
pub(crate) fn get<'m>(members: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    key(members, name).and_then(|k| members.get(k))
}

/// The member of `object` that `name` designates; `None` when `object` is not an object.
pub(crate) fn member<'v>(object: &'v Value, name: &str) -> Option<&'v Value> {
    get(object.as_object()?, name)
}

/// The member `name` designates, to change it.
pub(crate) fn get_mut<'m>(
    members: &'m mut Map<String, Value>,
    name: &str,
) -> Option<&'m mut Value> {
    let key = key(members, name)?.clone();
    members.get_mut(&key)
}

/// Removes every member named `name` ignoring case and returns the one [`get`] would have
/// returned.
pub(crate) fn remove(members: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let winner = key(members, name)?.clone();
    let twins: Vec<String> = members
        .keys()
        .filter(|k| k.eq_ignore_ascii_case(name) && **k != winner)
        .cloned()
        .collect();
    for twin in twins {
        members.remove(&twin);
    }
    members.remove(&winner)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("an object literal"),
        }
    }

    /// One table of objects with differently cased twins, the name asked for, and the value
    /// that must win: for reading, and for removing (which also drops every twin).
    #[test]
    fn the_exact_spelling_wins_then_the_first_in_key_order() {
        let cases = [
            (
                json!({"userName": 1, "username": 2, "USERNAME": 3}),
                "userName",
                Some(1),
            ),
            (
                json!({"userName": 1, "username": 2, "USERNAME": 3}),
                "username",
                Some(2),
            ),
            // No exact spelling: the first in byte order (upper case sorts first).
            (
                json!({"userName": 1, "username": 2, "USERNAME": 3}),
                "UserName",
                Some(3),
            ),
            (json!({"userName": 1, "username": 2}), "USERNAME", Some(1)),
            (json!({"username": 2}), "userName", Some(2)),
            (json!({"name": 1}), "userName", None),
        ];
        for (value, name, want) in cases {
            let want = want.map(Value::from);
            let members = object(value.clone());
            assert_eq!(get(&members, name), want.as_ref(), "get {name} in {value}");
            assert_eq!(
                member(&value, name),
                want.as_ref(),
                "member {name} in {value}"
            );
            let mut removed = members.clone();
            assert_eq!(remove(&mut removed, name), want, "remove {name} in {value}");
            assert!(
                removed.keys().all(|k| !k.eq_ignore_ascii_case(name)),
                "twins left after removing {name} from {value}: {removed:?}"
            );
            let mut changed = members.clone();
            if let Some(v) = get_mut(&mut changed, name) {
                *v = json!("changed");
            }
            let changed_key = key(&members, name);
            for (k, v) in &changed {
                assert_eq!(
                    v == "changed",
                    Some(k) == changed_key,
                    "get_mut {name} in {value} changed {k}"
                );
            }
        }
        assert_eq!(member(&json!([1]), "x"), None);
    }
}
