//! The `attributes` and `excludedAttributes` query parameters (RFC 7644 section 3.4.2.5) and
//! the `returned` characteristic (RFC 7643 section 7) applied to a User resource.
//!
//! `id`, `schemas` and `meta` are always returned (the first two are `returned: always` in RFC
//! 7643; `meta` too because clients need `version` and `location` on every response),
//! `returned: never` attributes (`password`) never are, and `returned: request` ones only when
//! `attributes` names them. Names are matched ignoring case. An attribute name the User schemas
//! do not know selects nothing rather than failing, as real clients ask for attributes other
//! providers have; a name that is not an attribute path at all is an error.

use serde_json::{Map, Value};

use super::filter;
use super::schema::{self, Attribute, Returned, Schema, USER_SCHEMA};

/// Members every response keeps whatever the parameters say.
const ALWAYS: [&str; 3] = ["id", "schemas", "meta"];

/// Which attributes to return.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Projection {
    /// Everything `returned: default` or `always`.
    #[default]
    Default,
    /// `attributes=...`: these, plus the ones always returned.
    Only(Vec<Selector>),
    /// `excludedAttributes=...`: the default set without these.
    Except(Vec<Selector>),
}

/// One attribute named in a parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Selector {
    /// The schema the attribute belongs to (its URI, as in [`Schema::id`]).
    pub schema: &'static str,
    /// The attribute's canonical name; `None` selects the whole schema (an extension URI given
    /// on its own).
    pub attribute: Option<&'static str>,
    /// The sub-attribute's canonical name, for `name.givenName`.
    pub sub_attribute: Option<&'static str>,
}

/// A parameter value that is not a comma-separated list of attribute paths.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {detail}")]
pub(crate) struct ProjectionError {
    /// `attributes` or `excludedAttributes`.
    pub parameter: &'static str,
    pub detail: String,
}

impl Projection {
    /// Reads the two parameters (already percent-decoded). When both are given, `attributes`
    /// wins: it is the narrower request, and RFC 7644 does not say how they combine.
    pub(crate) fn parse(
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Projection, ProjectionError> {
        if let Some(list) = attributes.filter(|s| !s.trim().is_empty()) {
            return Ok(Projection::Only(selectors(list, "attributes")?));
        }
        if let Some(list) = excluded.filter(|s| !s.trim().is_empty()) {
            return Ok(Projection::Except(selectors(list, "excludedAttributes")?));
        }
        Ok(Projection::Default)
    }

    /// The resource with only the members this projection returns.
    pub(crate) fn apply(&self, resource: &Value) -> Value {
        let Value::Object(members) = resource else {
            return resource.clone();
        };
        let mut out = Map::new();
        for (key, value) in members {
            if ALWAYS.iter().any(|a| key.eq_ignore_ascii_case(a)) {
                out.insert(key.clone(), value.clone());
                continue;
            }
            if let Some(extension) = schema::schema_by_urn(key).filter(|s| !s.is_core()) {
                if let Value::Object(inner) = value {
                    let kept = self.members(extension, inner);
                    if !kept.is_empty() {
                        out.insert(key.clone(), Value::Object(kept));
                    }
                }
                continue;
            }
            if let Some(kept) = self.member(&USER_SCHEMA, key, value) {
                out.insert(key.clone(), kept);
            }
        }
        Value::Object(out)
    }

    fn members(&self, schema: &'static Schema, members: &Map<String, Value>) -> Map<String, Value> {
        members
            .iter()
            .filter_map(|(k, v)| self.member(schema, k, v).map(|v| (k.clone(), v)))
            .collect()
    }

    /// The value to return for member `key` of `schema`, or `None` to leave it out.
    fn member(&self, schema: &'static Schema, key: &str, value: &Value) -> Option<Value> {
        let Some(attr) = schema.attribute(key) else {
            // Not in the schema (the store never writes such members); keep it unless the
            // client asked for a specific list.
            return (!matches!(self, Projection::Only(_))).then(|| value.clone());
        };
        match attr.returned {
            Returned::Never => return None,
            Returned::Always => return Some(value.clone()),
            Returned::Default | Returned::Request => {}
        }
        let named: Vec<&Selector> = match self {
            Projection::Default => Vec::new(),
            Projection::Only(list) | Projection::Except(list) => list
                .iter()
                .filter(|s| s.schema.eq_ignore_ascii_case(schema.id))
                .filter(|s| s.attribute.is_none_or(|a| a == attr.name))
                .collect(),
        };
        let whole = named
            .iter()
            .any(|s| s.attribute.is_none() || s.sub_attribute.is_none());
        let subs: Vec<&'static str> = named.iter().filter_map(|s| s.sub_attribute).collect();
        match self {
            Projection::Default => (attr.returned == Returned::Default).then(|| value.clone()),
            Projection::Only(_) if whole => Some(value.clone()),
            Projection::Only(_) if !subs.is_empty() => {
                let kept = keep_subs(attr, value, |name| subs.contains(&name));
                (!is_empty(&kept)).then_some(kept)
            }
            Projection::Only(_) => None,
            Projection::Except(_) if attr.returned == Returned::Request || whole => None,
            Projection::Except(_) if !subs.is_empty() => {
                let kept = keep_subs(attr, value, |name| !subs.contains(&name));
                (!is_empty(&kept)).then_some(kept)
            }
            Projection::Except(_) => Some(value.clone()),
        }
    }
}

/// The sub-attributes of a complex value (each value, for a multi-valued one) that `keep`
/// accepts by canonical name; sub-attributes returned always stay.
fn keep_subs(attr: &Attribute, value: &Value, keep: impl Fn(&str) -> bool) -> Value {
    let one = |item: &Value| match item {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(k, _)| {
                    attr.sub_attribute(k).is_some_and(|sub| {
                        sub.returned == Returned::Always
                            || (sub.returned != Returned::Never && keep(sub.name))
                    })
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    };
    match value {
        Value::Array(items) => {
            Value::Array(items.iter().map(one).filter(|v| !is_empty(v)).collect())
        }
        other => one(other),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.is_empty(),
        _ => false,
    }
}

fn selectors(list: &str, parameter: &'static str) -> Result<Vec<Selector>, ProjectionError> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(ProjectionError {
                parameter,
                detail: "an attribute name is empty".to_owned(),
            });
        }
        if let Some(schema) = schema::schema_by_urn(item) {
            out.push(Selector {
                schema: schema.id,
                attribute: None,
                sub_attribute: None,
            });
            continue;
        }
        let path = filter::parse_path(item).map_err(|e| ProjectionError {
            parameter,
            detail: format!("{item:?} is not an attribute path: {e}"),
        })?;
        if path.filter.is_some() || path.sub_attr.is_some() {
            return Err(ProjectionError {
                parameter,
                detail: format!("{item:?}: value filters are not allowed here"),
            });
        }
        let schema = match &path.attr.urn {
            None => Some(&USER_SCHEMA),
            Some(urn) => schema::schema_by_urn(urn),
        };
        let Some(schema) = schema else { continue };
        let Some(attr) = schema.attribute(&path.attr.name) else {
            continue;
        };
        let sub_attribute = match &path.attr.sub_attr {
            None => None,
            Some(sub) => match attr.sub_attribute(sub) {
                Some(sub) => Some(sub.name),
                None => continue,
            },
        };
        out.push(Selector {
            schema: schema.id,
            attribute: Some(attr.name),
            sub_attribute,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{CORE_USER, ENTERPRISE_USER};
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": [CORE_USER, ENTERPRISE_USER],
            "id": "u1",
            "userName": "bjensen",
            "password": "secret",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "b@example.com", "type": "work"}, {"value": "h@example.com"}],
            "active": true,
            ENTERPRISE_USER: {"employeeNumber": "7", "department": "Tours"},
            "meta": {"resourceType": "User", "version": "W/\"1\""},
        })
    }

    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn default_drops_never_returned() {
        let shown = Projection::Default.apply(&user());
        assert!(shown.get("password").is_none());
        assert_eq!(shown["userName"], "bjensen");
        assert_eq!(shown[ENTERPRISE_USER]["department"], "Tours");
    }

    #[test]
    fn attributes_keeps_the_named_ones_and_the_always_returned() {
        let p = Projection::parse(Some("USERNAME, name.givenName,emails.value"), None).unwrap();
        let shown = p.apply(&user());
        assert_eq!(
            keys(&shown),
            ["emails", "id", "meta", "name", "schemas", "userName"]
        );
        assert_eq!(shown["name"], json!({"givenName": "Barbara"}));
        assert_eq!(
            shown["emails"],
            json!([{"value": "b@example.com"}, {"value": "h@example.com"}])
        );
        let p = Projection::parse(
            Some(&format!("{ENTERPRISE_USER}:department,password")),
            None,
        )
        .unwrap();
        let shown = p.apply(&user());
        assert_eq!(keys(&shown), ["id", "meta", "schemas", ENTERPRISE_USER]);
        assert_eq!(shown[ENTERPRISE_USER], json!({"department": "Tours"}));
        let p = Projection::parse(Some(ENTERPRISE_USER), None).unwrap();
        assert_eq!(p.apply(&user())[ENTERPRISE_USER]["employeeNumber"], "7");
        let p = Projection::parse(Some("nickName,unknownThing"), None).unwrap();
        assert_eq!(keys(&p.apply(&user())), ["id", "meta", "schemas"]);
    }

    #[test]
    fn excluded_attributes_drops_the_named_ones_but_never_the_always_returned() {
        let p = Projection::parse(None, Some("emails,name.familyName,id,meta")).unwrap();
        let shown = p.apply(&user());
        assert!(shown.get("emails").is_none());
        assert_eq!(shown["name"], json!({"givenName": "Barbara"}));
        assert_eq!(shown["id"], "u1");
        assert!(shown.get("meta").is_some());
    }

    #[test]
    fn malformed_lists_are_errors() {
        for bad in ["userName,", "emails[type eq \"work\"]", "1abc", "name..x"] {
            let err = Projection::parse(Some(bad), None).unwrap_err();
            assert_eq!(err.parameter, "attributes", "{bad}");
        }
        assert_eq!(
            Projection::parse(Some(" "), None).unwrap(),
            Projection::Default
        );
    }
}
