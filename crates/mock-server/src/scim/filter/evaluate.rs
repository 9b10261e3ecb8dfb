//! The filter evaluator over a JSON resource.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::{AttrPath, CompValue, CompareOp, Filter, is_core_schema};

/// Tells the evaluator how string values of an attribute compare (RFC 7643
/// `caseExact`); attribute names themselves always match case-insensitively.
pub(crate) trait AttributeCase {
    /// Whether string values at `path` compare case-sensitively. Inside a
    /// value filter the path is the full one: `emails[type eq "work"]` asks
    /// about `emails.type`.
    fn case_exact(&self, path: &AttrPath) -> bool;
}

impl<F: Fn(&AttrPath) -> bool> AttributeCase for F {
    fn case_exact(&self, path: &AttrPath) -> bool {
        self(path)
    }
}

/// Whether `resource` matches `filter`.
///
/// Rules (RFC 7644 section 3.4.2.2, with choices where it is silent):
/// a path with a core schema URI (`urn:ietf:params:scim:schemas:core:2.0:…`)
/// names a top-level attribute, any other URI names a member of the resource
/// object keyed by that URI; a multi-valued attribute matches when any value
/// does; a complex value compared without a sub-attribute compares its
/// `value` sub-attribute (so `emails co "x"` looks at the addresses);
/// `pr` needs a value that is not null, `""`, `[]` or an object of those;
/// `eq null` holds when the attribute is not present and `ne null` when it
/// is; `ne` holds when no value is equal (so also for an absent attribute);
/// `co`, `sw`, `ew` apply to strings, `gt`, `ge`, `lt`, `le` to strings
/// (by code point after case folding, which orders ISO 8601 UTC timestamps)
/// and numbers; booleans support only `eq` and `ne`; a type mismatch does not match.
#[cfg(test)]
pub(crate) fn matches(filter: &Filter, resource: &Value, schema: &dyn AttributeCase) -> bool {
    eval(filter, resource, None, schema)
}

/// Whether one value of the multi-valued attribute `parent` matches a value
/// filter (the part inside brackets), as PATCH needs to select values.
pub(crate) fn matches_element(
    filter: &Filter,
    parent: &AttrPath,
    element: &Value,
    schema: &dyn AttributeCase,
) -> bool {
    eval(filter, element, Some(parent), schema)
}

/// A resource the [`Compiled`] evaluator reads one top-level attribute at a time, so a
/// store can answer a filter from what it keeps without building the resource's document.
///
/// Every answer must be what [`member`] would give on the resource's JSON document: the
/// evaluator then gives exactly [`matches`]'s result.
pub(crate) trait Resource {
    /// The top-level member `name` (matched ignoring case, as [`member`] does).
    fn attribute(&self, name: &str) -> Option<Cow<'_, Value>>;

    /// `name.sub` when the resource can give it without building all of `name`: `Some` is the
    /// answer (`Some(None)`: `name` is a single complex value without `sub`), `None` leaves it
    /// to [`Resource::attribute`].
    fn sub_attribute(&self, _name: &str, _sub: &str) -> Option<Option<Cow<'_, Value>>> {
        None
    }
}

impl Resource for Value {
    fn attribute(&self, name: &str) -> Option<Cow<'_, Value>> {
        member(self, name).map(Cow::Borrowed)
    }
}

/// A filter prepared for evaluation over many resources: the case rule of every comparison
/// is looked up once, and resources are read through [`Resource`]. Same rules as
/// [`matches`].
#[derive(Debug)]
pub(crate) struct Compiled<'f> {
    root: Node<'f>,
}

#[derive(Debug)]
enum Node<'f> {
    Compare {
        path: &'f AttrPath,
        op: CompareOp,
        value: &'f CompValue,
        case_exact: bool,
    },
    Present(&'f AttrPath),
    And(Box<Node<'f>>, Box<Node<'f>>),
    Or(Box<Node<'f>>, Box<Node<'f>>),
    Not(Box<Node<'f>>),
    ValuePath {
        path: &'f AttrPath,
        filter: Box<Node<'f>>,
    },
}

impl<'f> Compiled<'f> {
    /// Prepares `filter` with the case rules of `schema`.
    pub(crate) fn new(filter: &'f Filter, schema: &dyn AttributeCase) -> Compiled<'f> {
        Compiled {
            root: compile(filter, None, schema),
        }
    }

    /// Whether `resource` matches.
    pub(crate) fn matches<R: Resource + ?Sized>(&self, resource: &R) -> bool {
        eval_top(&self.root, resource)
    }
}

fn compile<'f>(
    filter: &'f Filter,
    parent: Option<&AttrPath>,
    schema: &dyn AttributeCase,
) -> Node<'f> {
    // Inside brackets a path is relative to one value of the parent; case rules are asked
    // about the full path, as `resolve` does.
    let full = |path: &AttrPath| {
        parent.map(|parent| AttrPath {
            urn: parent.urn.clone(),
            name: parent.name.clone(),
            sub_attr: Some(path.name.clone()),
        })
    };
    let boxed = |f: &'f Filter| Box::new(compile(f, parent, schema));
    match filter {
        Filter::Compare { path, op, value } => Node::Compare {
            path,
            op: *op,
            value,
            case_exact: schema.case_exact(full(path).as_ref().unwrap_or(path)),
        },
        Filter::Present(path) => Node::Present(path),
        Filter::And(left, right) => Node::And(boxed(left), boxed(right)),
        Filter::Or(left, right) => Node::Or(boxed(left), boxed(right)),
        Filter::Not(inner) => Node::Not(boxed(inner)),
        Filter::ValuePath { path, filter } => {
            let full = full(path);
            Node::ValuePath {
                path,
                filter: Box::new(compile(filter, Some(full.as_ref().unwrap_or(path)), schema)),
            }
        }
    }
}

/// A node at the top level of a resource.
fn eval_top<R: Resource + ?Sized>(node: &Node<'_>, resource: &R) -> bool {
    match node {
        Node::Compare {
            path,
            op,
            value,
            case_exact,
        } => with_values(resource, path, |values| {
            compare(*op, value, values, *case_exact)
        }),
        Node::Present(path) => with_values(resource, path, |values| {
            values.iter().copied().any(is_present)
        }),
        Node::And(left, right) => eval_top(left, resource) && eval_top(right, resource),
        Node::Or(left, right) => eval_top(left, resource) || eval_top(right, resource),
        Node::Not(inner) => !eval_top(inner, resource),
        Node::ValuePath { path, filter } => with_values(resource, path, |elements| {
            elements.iter().any(|element| eval_in(filter, element))
        }),
    }
}

/// A node inside brackets, over one value of the multi-valued attribute.
fn eval_in(node: &Node<'_>, element: &Value) -> bool {
    match node {
        Node::Compare {
            path,
            op,
            value,
            case_exact,
        } => with_values_at(element, path, &mut |values| {
            compare(*op, value, values, *case_exact)
        }),
        Node::Present(path) => with_values_at(element, path, &mut |values| {
            values.iter().copied().any(is_present)
        }),
        Node::And(left, right) => eval_in(left, element) && eval_in(right, element),
        Node::Or(left, right) => eval_in(left, element) || eval_in(right, element),
        Node::Not(inner) => !eval_in(inner, element),
        Node::ValuePath { path, filter } => {
            values_at(element, &path.name, path.sub_attr.as_deref())
                .into_iter()
                .any(|value| eval_in(filter, value))
        }
    }
}

/// Calls `f` with the values `path` names in `resource` (as `resolve` finds them at the top
/// level).
fn with_values<R: Resource + ?Sized>(
    resource: &R,
    path: &AttrPath,
    f: impl FnOnce(&[&Value]) -> bool,
) -> bool {
    let top_level = |f: &mut dyn FnMut(&[&Value]) -> bool| {
        if let Some(sub) = &path.sub_attr
            && let Some(answer) = resource.sub_attribute(&path.name, sub)
        {
            return match answer {
                Some(value) => with_values_in(&value, None, f),
                None => f(&[]),
            };
        }
        match resource.attribute(&path.name) {
            Some(value) => with_values_in(&value, path.sub_attr.as_deref(), f),
            None => f(&[]),
        }
    };
    let mut f = Some(f);
    let mut call = |values: &[&Value]| f.take().is_some_and(|f| f(values));
    match &path.urn {
        None => top_level(&mut call),
        Some(urn) => match resource.attribute(urn) {
            Some(extension) if extension.is_object() => with_values_at(&extension, path, &mut call),
            _ if is_core_schema(urn) => top_level(&mut call),
            _ => call(&[]),
        },
    }
}

/// Calls `f` with what `values_at(container, path.name, path.sub_attr)` gives.
fn with_values_at(
    container: &Value,
    path: &AttrPath,
    f: &mut dyn FnMut(&[&Value]) -> bool,
) -> bool {
    match member(container, &path.name) {
        Some(value) => with_values_in(value, path.sub_attr.as_deref(), f),
        None => f(&[]),
    }
}

/// Calls `f` with what `values_in(value, sub_attr)` gives, without allocating unless an
/// array is involved.
fn with_values_in(
    value: &Value,
    sub_attr: Option<&str>,
    f: &mut dyn FnMut(&[&Value]) -> bool,
) -> bool {
    match (value, sub_attr) {
        (Value::Array(_), _) => f(&values_in(value, sub_attr)),
        (single, None) => f(&[single]),
        (single, Some(sub)) => match member(single, sub) {
            None => f(&[]),
            Some(Value::Array(items)) => f(&items.iter().collect::<Vec<_>>()),
            Some(inner) => f(&[inner]),
        },
    }
}

fn eval(
    filter: &Filter,
    target: &Value,
    parent: Option<&AttrPath>,
    schema: &dyn AttributeCase,
) -> bool {
    match filter {
        Filter::Compare { path, op, value } => {
            let (candidates, full) = resolve(target, path, parent);
            compare(*op, value, &candidates, schema.case_exact(&full))
        }
        Filter::Present(path) => resolve(target, path, parent).0.into_iter().any(is_present),
        Filter::And(left, right) => {
            eval(left, target, parent, schema) && eval(right, target, parent, schema)
        }
        Filter::Or(left, right) => {
            eval(left, target, parent, schema) || eval(right, target, parent, schema)
        }
        Filter::Not(inner) => !eval(inner, target, parent, schema),
        Filter::ValuePath { path, filter } => {
            let (elements, full) = resolve(target, path, parent);
            elements
                .into_iter()
                .any(|element| eval(filter, element, Some(&full), schema))
        }
    }
}

/// The values a path names, flattened over arrays, and the full path to ask
/// case rules about.
fn resolve<'v>(
    target: &'v Value,
    path: &AttrPath,
    parent: Option<&AttrPath>,
) -> (Vec<&'v Value>, AttrPath) {
    if let Some(parent) = parent {
        // Inside brackets the path is relative to one value of the parent.
        let full = AttrPath {
            urn: parent.urn.clone(),
            name: parent.name.clone(),
            sub_attr: Some(path.name.clone()),
        };
        return (
            values_at(target, &path.name, path.sub_attr.as_deref()),
            full,
        );
    }
    let container = match &path.urn {
        None => Some(target),
        Some(urn) => match member(target, urn) {
            Some(extension @ Value::Object(_)) => Some(extension),
            _ if is_core_schema(urn) => Some(target),
            _ => None,
        },
    };
    let values = container
        .map(|c| values_at(c, &path.name, path.sub_attr.as_deref()))
        .unwrap_or_default();
    (values, path.clone())
}

/// The member of an object named `name`, ignoring case as RFC 7643 section
/// 2.1 says attribute names do (the rule of `crate::scim::members`).
pub(crate) fn member<'v>(object: &'v Value, name: &str) -> Option<&'v Value> {
    crate::scim::members::member(object, name)
}

fn flatten(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn values_at<'v>(container: &'v Value, name: &str, sub_attr: Option<&str>) -> Vec<&'v Value> {
    match member(container, name) {
        Some(value) => values_in(value, sub_attr),
        None => Vec::new(),
    }
}

/// `value` flattened over arrays, or its values' `sub_attr` flattened.
fn values_in<'v>(value: &'v Value, sub_attr: Option<&str>) -> Vec<&'v Value> {
    let items = flatten(value);
    match sub_attr {
        None => items,
        Some(sub) => items
            .into_iter()
            .filter_map(|item| member(item, sub))
            .flat_map(flatten)
            .collect(),
    }
}

fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(members) => members.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare(op: CompareOp, literal: &CompValue, candidates: &[&Value], case_exact: bool) -> bool {
    let present = || candidates.iter().copied().any(is_present);
    match (op, literal) {
        (CompareOp::Eq, CompValue::Null) => !present(),
        (CompareOp::Ne, CompValue::Null) => present(),
        (_, CompValue::Null) => false,
        (CompareOp::Ne, _) => !candidates
            .iter()
            .any(|c| compare_one(CompareOp::Eq, literal, c, case_exact)),
        _ => candidates
            .iter()
            .any(|c| compare_one(op, literal, c, case_exact)),
    }
}

/// `actual <op> literal` for strings, as a filter compares them (case-insensitively unless
/// `case_exact`).
pub(crate) fn compare_str(op: CompareOp, actual: &str, lit: &str, case_exact: bool) -> bool {
    // `co` by windows is quadratic, so long literals take the allocating (linear) way.
    let short = op != CompareOp::Co || lit.len() <= 32;
    if !case_exact && short && actual.is_ascii() && lit.is_ascii() {
        return compare_ascii_ignore_case(op, actual.as_bytes(), lit.as_bytes());
    }
    let (actual, lit): (Cow<'_, str>, Cow<'_, str>) = if case_exact {
        (Cow::Borrowed(actual), Cow::Borrowed(lit))
    } else {
        (
            Cow::Owned(actual.to_lowercase()),
            Cow::Owned(lit.to_lowercase()),
        )
    };
    match op {
        CompareOp::Eq => actual == lit,
        CompareOp::Ne => actual != lit,
        CompareOp::Co => actual.contains(lit.as_ref()),
        CompareOp::Sw => actual.starts_with(lit.as_ref()),
        CompareOp::Ew => actual.ends_with(lit.as_ref()),
        CompareOp::Gt => actual > lit,
        CompareOp::Ge => actual >= lit,
        CompareOp::Lt => actual < lit,
        CompareOp::Le => actual <= lit,
    }
}

/// [`compare_str`] for ASCII strings, ignoring case without allocating: for ASCII,
/// `to_lowercase` is `to_ascii_lowercase` byte for byte, so the results are the same.
fn compare_ascii_ignore_case(op: CompareOp, actual: &[u8], lit: &[u8]) -> bool {
    let ordering = || {
        actual
            .iter()
            .map(u8::to_ascii_lowercase)
            .cmp(lit.iter().map(u8::to_ascii_lowercase))
    };
    match op {
        CompareOp::Eq => actual.eq_ignore_ascii_case(lit),
        CompareOp::Ne => !actual.eq_ignore_ascii_case(lit),
        CompareOp::Co => {
            lit.is_empty()
                || actual
                    .windows(lit.len())
                    .any(|w| w.eq_ignore_ascii_case(lit))
        }
        CompareOp::Sw => actual
            .get(..lit.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(lit)),
        CompareOp::Ew => actual
            .len()
            .checked_sub(lit.len())
            .is_some_and(|start| actual[start..].eq_ignore_ascii_case(lit)),
        CompareOp::Gt => ordering() == Ordering::Greater,
        CompareOp::Ge => ordering() != Ordering::Less,
        CompareOp::Lt => ordering() == Ordering::Less,
        CompareOp::Le => ordering() != Ordering::Greater,
    }
}

fn compare_one(op: CompareOp, literal: &CompValue, candidate: &Value, case_exact: bool) -> bool {
    // A complex value stands for its `value` sub-attribute.
    let candidate = match candidate {
        Value::Object(_) => match member(candidate, "value") {
            Some(value) => value,
            None => return false,
        },
        other => other,
    };
    match (literal, candidate) {
        (CompValue::String(lit), Value::String(actual)) => compare_str(op, actual, lit, case_exact),
        (CompValue::Number(lit), Value::Number(actual)) => {
            let Some(ordering) = compare_numbers(actual, lit) else {
                return false;
            };
            match op {
                CompareOp::Eq => ordering == Ordering::Equal,
                CompareOp::Ne => ordering != Ordering::Equal,
                CompareOp::Gt => ordering == Ordering::Greater,
                CompareOp::Ge => ordering != Ordering::Less,
                CompareOp::Lt => ordering == Ordering::Less,
                CompareOp::Le => ordering != Ordering::Greater,
                CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
            }
        }
        (CompValue::Bool(lit), Value::Bool(actual)) => match op {
            CompareOp::Eq => lit == actual,
            CompareOp::Ne => lit != actual,
            _ => false,
        },
        _ => false,
    }
}

/// Exact for integers (an `f64` cannot hold every `i64` / `u64`), by `f64` otherwise.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    let as_int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (as_int(a), as_int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::super::testing::{case_rules, user};
    use super::*;
    use serde_json::json;

    #[test]
    fn evaluation() {
        let user = user();
        let cases: &[(&str, bool)] = &[
            (r#"userName eq "bjensen@example.com""#, true),
            (r#"userName eq "BJensen@Example.com""#, true),
            (r#"USERNAME eq "bjensen@example.com""#, true),
            (r#"username sw "BJ""#, true),
            (r#"userName ew ".COM""#, true),
            (r#"userName co "jensen@""#, true),
            (r#"userName co "smith""#, false),
            (r#"id eq "2819c223-7f76-453a-919d-413861904646""#, true),
            (r#"id eq "2819C223-7F76-453A-919D-413861904646""#, false),
            (r#"externalId eq "701984""#, true),
            (r#"name.familyName eq "jensen""#, true),
            (r#"NAME.FAMILYNAME eq "jensen""#, true),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "b""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:user:userName sw "b""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName pr"#,
                false,
            ),
            (r#"urn:example:other:userName pr"#, false),
            ("title pr", true),
            ("nickName pr", false),
            ("profileUrl pr", false),
            ("x509Certificates pr", false),
            ("name pr", true),
            ("emails pr", true),
            (r#"emails co "jensen.org""#, true),
            (r#"emails.value co "JENSEN.ORG""#, true),
            (r#"emails.type eq "home""#, true),
            (r#"emails.type eq "other""#, false),
            (
                r#"emails[type eq "work" and value co "@example.com"]"#,
                true,
            ),
            (
                r#"emails[type eq "home" and value co "@example.com"]"#,
                false,
            ),
            (
                r#"emails[type eq "home"] and emails[primary eq true]"#,
                true,
            ),
            (r#"emails[not (type eq "work")]"#, true),
            (r#"emails[primary eq true and type eq "home"]"#, false),
            (r#"emails[primary pr]"#, true),
            (r#"ims[type eq "xmpp"] or emails[type eq "work"]"#, true),
            (
                r#"userType eq "Employee" and (emails.type eq "work")"#,
                true,
            ),
            (
                r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
                false,
            ),
            (r#"not (userType eq "Intern")"#, true),
            (r#"userType ne "Intern""#, true),
            (r#"userType ne "employee""#, false),
            (r#"nonexistent ne "x""#, true),
            (r#"emails.type ne "work""#, false),
            ("active eq true", true),
            ("active eq false", false),
            ("active ne false", true),
            ("active gt false", false),
            (r#"active eq "true""#, false),
            ("loginCount eq 42", true),
            ("loginCount eq 42.0", true),
            ("loginCount gt 41.5", true),
            ("loginCount ge 42", true),
            ("loginCount lt 42", false),
            ("loginCount le 42", true),
            ("loginCount co 4", false),
            (r#"loginCount eq "42""#, false),
            ("nickName eq null", true),
            ("profileUrl eq null", true),
            ("title eq null", false),
            ("title ne null", true),
            ("title gt null", false),
            (r#"meta.lastModified gt "2011-05-13T04:42:33Z""#, true),
            (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false),
            (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true),
            (r#"meta.created lt "2011-01-01T00:00:00Z""#, true),
            (r#"meta.created le "2009-01-01T00:00:00Z""#, false),
            (r#"title gt "tour""#, true),
            (
                r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
                true,
            ),
        ];
        for (input, expected) in cases {
            let filter = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(matches(&filter, &user, &case_rules), *expected, "{input}");
        }
    }

    #[test]
    fn case_exact_comes_from_the_schema_including_inside_brackets() {
        let user = user();
        let asked = std::cell::RefCell::new(Vec::new());
        let rules = |path: &AttrPath| {
            asked.borrow_mut().push(path.to_string());
            true
        };
        let filter = parse(r#"emails[type eq "WORK"]"#).unwrap();
        assert!(!matches(&filter, &user, &rules));
        assert!(asked.borrow().iter().all(|p| p == "emails.type"));
        let filter = parse(r#"emails[type eq "work"]"#).unwrap();
        assert!(matches(&filter, &user, &rules));
    }

    #[test]
    fn matches_element_selects_values() {
        let filter = parse(r#"type eq "work""#).unwrap();
        let parent = AttrPath::new("emails");
        let no_rules = |_: &AttrPath| false;
        assert!(matches_element(
            &filter,
            &parent,
            &json!({"type": "Work", "value": "a"}),
            &no_rules
        ));
        assert!(!matches_element(
            &filter,
            &parent,
            &json!({"type": "home"}),
            &no_rules
        ));
        assert!(!matches_element(
            &filter,
            &parent,
            &json!("work"),
            &no_rules
        ));
    }

    #[test]
    fn non_object_resources_match_nothing_but_absence() {
        let no_rules = |_: &AttrPath| false;
        for resource in [json!(null), json!([1, 2]), json!("x")] {
            assert!(!matches(&parse("a pr").unwrap(), &resource, &no_rules));
            assert!(matches(&parse("a eq null").unwrap(), &resource, &no_rules));
        }
    }

    proptest::proptest! {
        #[test]
        fn compiled_evaluation_is_matches(
            body in super::super::testing::arb_body(),
            filter in super::super::testing::arb_filter(),
        ) {
            let mut doc = body;
            doc["id"] = json!("usr_000001");
            doc["meta"] = json!({
                "resourceType": "User",
                "created": "2026-11-29T10:00:00Z",
                "lastModified": "2026-11-29T11:00:00Z",
                "location": "http://h/scim/v2/Users/usr_000001",
                "version": "W/\"2\"",
            });
            let schema = crate::scim::schema::UserAttributes;
            proptest::prop_assert_eq!(
                Compiled::new(&filter, &schema).matches(&doc),
                matches(&filter, &doc, &schema),
                "{}", filter
            );
        }

        #[test]
        fn ascii_comparisons_fold_as_to_lowercase_does(
            actual in "[a-zA-Z0-9@._ -]{0,8}",
            lit in "[a-zA-Z0-9@._ -]{0,3}",
            op in proptest::sample::select(CompareOp::ALL.to_vec()),
        ) {
            let folded = compare_str(op, &actual.to_lowercase(), &lit.to_lowercase(), true);
            proptest::prop_assert_eq!(compare_str(op, &actual, &lit, false), folded);
        }
    }
}
