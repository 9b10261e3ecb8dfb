//! A filter compiled to read a row's [`Columns`] instead of the record's JSON ([`Plan`]).
//!
//! A comparison, `pr` or `emails[...]` value filter over the columns' attributes (see
//! `columns.rs`), `id` or `meta.created` / `meta.lastModified` is answered from the row; any
//! other leaf of the filter is evaluated over the record's JSON as before, and `and` / `or` /
//! `not` combine the two. **Invariant:** a plan answers as `filter::matches` does over the
//! record's document, record by record (the proptest below holds it).

use std::cell::Cell;

use super::{Arena, Columns, Email, STRINGS, Span};
use crate::scim::filter::{
    self, AttrPath, AttributeCase as _, CompValue, CompareOp, Compiled, Filter, Resource,
};
use crate::scim::record::{self, Record};
use crate::scim::schema::UserAttributes;

/// What a [`Plan`] reads of one row.
#[derive(Debug, Clone, Copy)]
pub(in crate::scim) struct RowRef<'a> {
    /// The record (for `meta` times).
    pub record: &'a Record,
    /// Its columns.
    pub columns: &'a Columns,
    /// The arena they are in.
    pub arena: &'a Arena,
}

/// A filter compiled over [`Columns`]: leaves the columns answer, the others evaluated over
/// the record.
#[derive(Debug)]
pub(in crate::scim) enum Plan<'f> {
    /// Answered by the columns.
    Leaf(Leaf<'f>),
    /// Answered by the record.
    Record(Compiled<'f>),
    /// `and`: both plans match (the left one is evaluated first).
    And(Box<Plan<'f>>, Box<Plan<'f>>),
    /// `or`: either plan matches.
    Or(Box<Plan<'f>>, Box<Plan<'f>>),
    /// `not (...)`: the plan does not match.
    Not(Box<Plan<'f>>),
}

/// A leaf of a [`Plan`] the columns answer.
#[derive(Debug)]
pub(in crate::scim) struct Leaf<'f> {
    source: Source,
    test: Test<'f>,
    /// For `meta` times: the last time compared and the answer, as neighbouring rows often
    /// share a second and formatting a timestamp is the costly part.
    memo: Cell<Option<(u64, bool)>>,
}

#[derive(Debug)]
enum Test<'f> {
    Compare {
        op: CompareOp,
        value: &'f CompValue,
        case_exact: bool,
    },
    Present,
    /// `emails[...]`.
    Emails(Element<'f>),
}

/// Where a leaf's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// One of [`STRINGS`].
    String(usize),
    Active,
    EmailValues,
    EmailTypes,
    EmailPrimaries,
    Id,
    Created,
    LastModified,
}

/// A value filter over one email.
#[derive(Debug)]
enum Element<'f> {
    Compare {
        field: Field,
        op: CompareOp,
        value: &'f CompValue,
        case_exact: bool,
    },
    Present(Field),
    And(Box<Element<'f>>, Box<Element<'f>>),
    Or(Box<Element<'f>>, Box<Element<'f>>),
    Not(Box<Element<'f>>),
}

#[derive(Debug, Clone, Copy)]
enum Field {
    Value,
    Type,
    Primary,
}

impl<'f> Plan<'f> {
    /// Compiles `filter` with the User schema's case rules.
    pub(in crate::scim) fn new(filter: &'f Filter) -> Plan<'f> {
        let boxed = |f: &'f Filter| Box::new(Plan::new(f));
        match filter {
            Filter::And(left, right) => Plan::And(boxed(left), boxed(right)),
            Filter::Or(left, right) => Plan::Or(boxed(left), boxed(right)),
            Filter::Not(inner) => Plan::Not(boxed(inner)),
            leaf => Leaf::new(leaf).map_or_else(
                || Plan::Record(Compiled::new(leaf, &UserAttributes)),
                Plan::Leaf,
            ),
        }
    }

    /// Whether the user matches: `row` is its record and columns (in `arena`), `resource`
    /// its view (for the leaves the columns do not answer).
    pub(in crate::scim) fn matches<R: Resource + ?Sized>(
        &self,
        row: RowRef<'_>,
        resource: &R,
    ) -> bool {
        match self {
            Plan::Leaf(leaf) => leaf.matches(row),
            Plan::Record(compiled) => compiled.matches(resource),
            Plan::And(left, right) => left.matches(row, resource) && right.matches(row, resource),
            Plan::Or(left, right) => left.matches(row, resource) || right.matches(row, resource),
            Plan::Not(inner) => !inner.matches(row, resource),
        }
    }
}

impl<'f> Leaf<'f> {
    fn new(filter: &'f Filter) -> Option<Leaf<'f>> {
        let test = match filter {
            Filter::Compare { path, op, value } => {
                let test = Test::Compare {
                    op: *op,
                    value,
                    case_exact: UserAttributes.case_exact(path),
                };
                // `emails` compared without a sub-attribute compares each email's `value`;
                // only `pr`-like tests (`null`) look at the emails as objects.
                if is_plain(path, "emails") && *value != CompValue::Null {
                    return Some(Leaf::of(Source::EmailValues, test));
                }
                test
            }
            Filter::Present(_) => Test::Present,
            Filter::ValuePath { path, filter } if is_plain(path, "emails") => {
                return Some(Leaf::of(
                    Source::EmailValues,
                    Test::Emails(Element::new(filter, path)?),
                ));
            }
            _ => return None,
        };
        let path = match filter {
            Filter::Compare { path, .. } | Filter::Present(path) => path,
            _ => return None,
        };
        Some(Leaf::of(source(path)?, test))
    }

    fn of(source: Source, test: Test<'f>) -> Leaf<'f> {
        Leaf {
            source,
            test,
            memo: Cell::new(None),
        }
    }

    fn matches(&self, row: RowRef<'_>) -> bool {
        let time = match self.source {
            Source::Created => row.record.created,
            Source::LastModified => row.record.last_modified,
            _ => return self.matches_columns(row),
        };
        let secs = time
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if let Some((memo, answer)) = self.memo.get()
            && memo == secs
        {
            return answer;
        }
        let shown = record::rfc3339(time);
        let answer = match &self.test {
            Test::Compare {
                op,
                value,
                case_exact,
            } => strings(*op, value, *case_exact, |f| f(&shown)),
            Test::Present => !shown.is_empty(),
            Test::Emails(_) => false,
        };
        self.memo.set(Some((secs, answer)));
        answer
    }

    fn matches_columns(&self, row: RowRef<'_>) -> bool {
        let RowRef { columns, arena, .. } = row;
        let text = |span: Span| arena.str(span);
        let emails = arena.emails(columns).iter();
        let any_string = |f: &dyn Fn(&str) -> bool| match self.source {
            Source::String(i) => columns.strings[i].map(text).is_some_and(f),
            Source::EmailValues => emails.clone().filter_map(|e| e.value.map(text)).any(f),
            Source::EmailTypes => emails.clone().filter_map(|e| e.kind.map(text)).any(f),
            Source::Id => f(columns.id(arena)),
            _ => false,
        };
        let any_bool = |f: &dyn Fn(bool) -> bool| match self.source {
            Source::Active => columns.active.is_some_and(f),
            Source::EmailPrimaries => emails.clone().filter_map(|e| e.primary).any(f),
            _ => false,
        };
        let is_bool = matches!(self.source, Source::Active | Source::EmailPrimaries);
        match (&self.test, is_bool) {
            (Test::Emails(element), _) => emails.clone().any(|e| element.matches(e, arena)),
            (Test::Present, false) => any_string(&|s| !s.is_empty()),
            (Test::Present, true) => any_bool(&|_| true),
            (
                Test::Compare {
                    op,
                    value,
                    case_exact,
                },
                false,
            ) => strings(*op, value, *case_exact, any_string),
            (Test::Compare { op, value, .. }, true) => booleans(*op, value, any_bool),
        }
    }
}

/// Whether `path` is attribute `name` of the top level, without a sub-attribute.
fn is_plain(path: &AttrPath, name: &str) -> bool {
    path.sub_attr.is_none() && path.name.eq_ignore_ascii_case(name) && top_level(path)
}

/// Whether `path` reads the top level: no schema URI, or a core one (the columns exist only
/// for records without an object under a core URI).
fn top_level(path: &AttrPath) -> bool {
    path.urn.as_deref().is_none_or(filter::is_core_schema)
}

/// The column a comparison or `pr` on `path` reads.
fn source(path: &AttrPath) -> Option<Source> {
    if !top_level(path) {
        return None;
    }
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let name = path.name.as_str();
    let sub = path.sub_attr.as_deref();
    Some(match sub {
        None if is(name, "id") => Source::Id,
        None if is(name, "active") => Source::Active,
        Some(sub) if is(name, "meta") && is(sub, "created") => Source::Created,
        Some(sub) if is(name, "meta") && is(sub, "lastModified") => Source::LastModified,
        Some(sub) if is(name, "emails") && is(sub, "value") => Source::EmailValues,
        Some(sub) if is(name, "emails") && is(sub, "type") => Source::EmailTypes,
        Some(sub) if is(name, "emails") && is(sub, "primary") => Source::EmailPrimaries,
        _ => Source::String(STRINGS.iter().position(|(n, s)| {
            is(n, name)
                && match (s, sub) {
                    (None, None) => true,
                    (Some(s), Some(sub)) => is(s, sub),
                    _ => false,
                }
        })?),
    })
}

impl<'f> Element<'f> {
    /// The value filter of `emails[...]` (`parent` is `emails` as written, for case rules).
    fn new(filter: &'f Filter, parent: &AttrPath) -> Option<Element<'f>> {
        let boxed = |f: &'f Filter| Element::new(f, parent).map(Box::new);
        // Inside brackets a path names a member of one email; its schema URI is not read.
        let field = |path: &AttrPath| {
            let is = |name: &str| path.name.eq_ignore_ascii_case(name);
            match path.sub_attr {
                Some(_) => None,
                None if is("value") => Some(Field::Value),
                None if is("type") => Some(Field::Type),
                None if is("primary") => Some(Field::Primary),
                None => None,
            }
        };
        Some(match filter {
            Filter::Compare { path, op, value } => Element::Compare {
                field: field(path)?,
                op: *op,
                value,
                case_exact: UserAttributes.case_exact(&AttrPath {
                    urn: parent.urn.clone(),
                    name: parent.name.clone(),
                    sub_attr: Some(path.name.clone()),
                }),
            },
            Filter::Present(path) => Element::Present(field(path)?),
            Filter::And(left, right) => Element::And(boxed(left)?, boxed(right)?),
            Filter::Or(left, right) => Element::Or(boxed(left)?, boxed(right)?),
            Filter::Not(inner) => Element::Not(boxed(inner)?),
            Filter::ValuePath { .. } => return None,
        })
    }

    fn matches(&self, email: &Email, arena: &Arena) -> bool {
        let text = |field: Field| match field {
            Field::Value => email.value.map(|s| arena.str(s)),
            Field::Type => email.kind.map(|s| arena.str(s)),
            Field::Primary => None,
        };
        match self {
            Element::Compare {
                field: Field::Primary,
                op,
                value,
                ..
            } => booleans(*op, value, |f| email.primary.is_some_and(f)),
            Element::Compare {
                field,
                op,
                value,
                case_exact,
            } => strings(*op, value, *case_exact, |f| text(*field).is_some_and(f)),
            Element::Present(Field::Primary) => email.primary.is_some(),
            Element::Present(field) => text(*field).is_some_and(|s| !s.is_empty()),
            Element::And(left, right) => left.matches(email, arena) && right.matches(email, arena),
            Element::Or(left, right) => left.matches(email, arena) || right.matches(email, arena),
            Element::Not(inner) => !inner.matches(email, arena),
        }
    }
}

/// The evaluator's comparison over string values, `any` telling whether one of them passes
/// a test (absent and `null` values are no values: neither present nor comparable).
fn strings(
    op: CompareOp,
    literal: &CompValue,
    case_exact: bool,
    any: impl Fn(&dyn Fn(&str) -> bool) -> bool,
) -> bool {
    match (op, literal) {
        (CompareOp::Eq, CompValue::Null) => !any(&|s| !s.is_empty()),
        (CompareOp::Ne, CompValue::Null) => any(&|s| !s.is_empty()),
        (_, CompValue::Null) => false,
        (CompareOp::Ne, CompValue::String(lit)) => {
            !any(&|s| filter::compare_str(CompareOp::Eq, s, lit, case_exact))
        }
        // No string equals a boolean or a number.
        (CompareOp::Ne, _) => true,
        (op, CompValue::String(lit)) => any(&|s| filter::compare_str(op, s, lit, case_exact)),
        _ => false,
    }
}

/// The evaluator's comparison over boolean values, as [`strings`]: booleans are always
/// present and support only `eq` and `ne`.
fn booleans(
    op: CompareOp,
    literal: &CompValue,
    any: impl Fn(&dyn Fn(bool) -> bool) -> bool,
) -> bool {
    match (op, literal) {
        (CompareOp::Eq, CompValue::Null) => !any(&|_| true),
        (CompareOp::Ne, CompValue::Null) => any(&|_| true),
        (CompareOp::Eq, CompValue::Bool(lit)) => any(&|b| b == *lit),
        (CompareOp::Ne, CompValue::Bool(lit)) => !any(&|b| b == *lit),
        (CompareOp::Ne, _) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::scim::filter::testing::{arb_body, arb_column_filter, arb_filter, arb_odd_body};

    /// A record stored at one of a few instants around 2000-01-01 (a second or a day apart,
    /// as the filters' time literals are).
    fn arb_record() -> impl Strategy<Value = Record> {
        let instant = proptest::sample::select(vec![0u64, 1, 2, 86_400]);
        (
            prop_oneof![2 => arb_body(), 1 => arb_odd_body()],
            instant.clone(),
            instant,
        )
            .prop_map(|(attributes, created, modified)| {
                let at = |secs| UNIX_EPOCH + Duration::from_secs(946_684_800 + secs);
                Record {
                    attributes,
                    created: at(created),
                    last_modified: at(modified),
                    version: 1,
                }
            })
    }

    /// The record's document, as the reference evaluator sees it.
    fn document(id: &str, record: &Record) -> Value {
        let mut doc = record.attributes.clone();
        doc["id"] = json!(id);
        doc["meta"] = record::meta(
            id,
            record.created,
            record.last_modified,
            record.version,
            "http://h/scim/v2",
        );
        doc
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// One plan over several records in turn (its time memo carried from one to the
        /// next, as in a search) answers as the evaluator does over each document.
        #[test]
        fn a_plan_over_columns_is_the_evaluator(
            records in proptest::collection::vec(arb_record(), 1..6),
            filter in prop_oneof![arb_column_filter(), arb_filter()],
        ) {
            let plan = Plan::new(&filter);
            let mut arena = Arena::default();
            for (n, record) in records.iter().enumerate() {
                let id = format!("usr_{n}");
                let doc = document(&id, record);
                let expected = filter::matches(&filter, &doc, &UserAttributes);
                if let Some(columns) = Columns::of(&id, &record.attributes, &mut arena) {
                    let row = RowRef { record, columns: &columns, arena: &arena };
                    prop_assert_eq!(
                        plan.matches(row, &doc),
                        expected,
                        "{} over {}", filter, doc
                    );
                }
            }
        }
    }
}
