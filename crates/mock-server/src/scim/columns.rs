//! The attributes searches read most, extracted from a record when it is written
//! ([`Columns`]), and a filter compiled to read them instead of the record's JSON ([`Plan`]).
//!
//! Columns hold the raw strings (compared with [`filter::compare_str`], the evaluator's own
//! comparison) of `userName`, `externalId`, `displayName`, `title`, `userType`,
//! `name.familyName` and `name.givenName`, `active`, and each email's `value`, `type` and
//! `primary`; `id` and `meta.created` / `meta.lastModified` come from the row. A comparison,
//! `pr` or `emails[...]` value filter over those is answered from the columns; any other leaf
//! of the filter is evaluated over the record's JSON as before, and `and` / `or` / `not`
//! combine the two.
//!
//! Exactness: the columns stand for a record only when what the evaluator would read is
//! plain: attributes absent, `null` or of the expected JSON type, no two members whose names
//! differ only in case (where the evaluator's choice depends on the filter's spelling), no
//! object under a core schema URI, and `emails` absent or an array of objects. Anything else
//! gives no columns, and such a record is searched over its JSON. Absent, `null` and `[]`
//! are interchangeable for every comparison and `pr` the columns answer (the evaluator finds
//! no value that is present or compares), which is why the columns need not tell them apart.

use std::cell::Cell;

use serde_json::{Map, Value};

use super::filter::{
    self, AttrPath, AttributeCase as _, CompValue, CompareOp, Compiled, Filter, Resource,
};
use super::record::{self, Record};
use super::schema::UserAttributes;

/// The string attributes kept as columns: `(attribute, sub-attribute)`.
const STRINGS: [(&str, Option<&str>); 7] = [
    ("userName", None),
    ("externalId", None),
    ("displayName", None),
    ("title", None),
    ("userType", None),
    ("name", Some("familyName")),
    ("name", Some("givenName")),
];

/// What searches read of one record: spans of its table's [`Arena`].
#[derive(Debug)]
pub(super) struct Columns {
    /// The user id (a copy in the arena, so that paging compares ids in order in memory).
    id: Span,
    /// In the order of [`STRINGS`].
    strings: [Option<Span>; STRINGS.len()],
    active: Option<bool>,
    /// A range of [`Arena::emails`].
    emails: Span,
}

#[derive(Debug, Clone, Copy)]
struct Email {
    value: Option<Span>,
    kind: Option<Span>,
    primary: Option<bool>,
}

/// A range of an arena's text or emails.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        // u32 to usize never truncates on the platforms the mock builds for (64-bit).
        let start = self.start as usize;
        start..start + self.len as usize
    }
}

/// The strings and emails of one table's columns, appended in the order rows are written, so
/// a scan over the rows reads them in memory order instead of following a pointer per
/// string. A row rewritten or removed leaves its part unused; the table compacts the arena
/// once more than half of it is (see [`Arena::wasteful`]).
#[derive(Debug, Default)]
pub(super) struct Arena {
    text: String,
    emails: Vec<Email>,
    unused_text: usize,
    unused_emails: usize,
}

/// What [`Columns::of`] reads of a record, borrowed from it.
struct Extracted<'v> {
    strings: [Option<&'v str>; STRINGS.len()],
    active: Option<bool>,
    emails: Vec<(Option<&'v str>, Option<&'v str>, Option<bool>)>,
}

impl Columns {
    /// The columns of user `id`'s record, stored in `arena`, or `None` when they cannot stand
    /// for the record exactly (see the module docs).
    pub(super) fn of(id: &str, attributes: &Value, arena: &mut Arena) -> Option<Columns> {
        let extracted = extract(attributes)?;
        let text_len = id.len()
            + extracted
                .strings
                .iter()
                .flatten()
                .map(|s| s.len())
                .sum::<usize>()
            + extracted
                .emails
                .iter()
                .map(|(v, k, _)| v.map_or(0, str::len) + k.map_or(0, str::len))
                .sum::<usize>();
        // Spans are 32-bit: a workspace with 4 GiB of column text searches the rest over
        // their JSON.
        if u32::try_from(arena.text.len() + text_len).is_err()
            || u32::try_from(arena.emails.len() + extracted.emails.len()).is_err()
        {
            return None;
        }
        let id = arena.push_str(id);
        let strings = extracted.strings.map(|s| s.map(|s| arena.push_str(s)));
        let start = arena.emails.len();
        for (value, kind, primary) in extracted.emails {
            let email = Email {
                value: value.map(|s| arena.push_str(s)),
                kind: kind.map(|s| arena.push_str(s)),
                primary,
            };
            arena.emails.push(email);
        }
        Some(Columns {
            id,
            strings,
            active: extracted.active,
            emails: Span {
                start: start as u32,
                len: (arena.emails.len() - start) as u32,
            },
        })
    }

    /// The user id.
    pub(super) fn id<'a>(&self, arena: &'a Arena) -> &'a str {
        arena.str(self.id)
    }
}

impl Arena {
    /// How many bytes of text the arena holds, used or not.
    #[cfg(test)]
    pub(super) fn text_len(&self) -> usize {
        self.text.len()
    }

    fn push_str(&mut self, s: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            start,
            len: s.len() as u32,
        }
    }

    fn str(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or_default()
    }

    fn emails(&self, columns: &Columns) -> &[Email] {
        self.emails.get(columns.emails.range()).unwrap_or_default()
    }

    /// Counts the part of `columns` as unused (its row is being rewritten or removed).
    pub(super) fn release(&mut self, columns: &Columns) {
        let spans = std::iter::once(Some(columns.id))
            .chain(columns.strings)
            .chain(self.emails(columns).iter().flat_map(|e| [e.value, e.kind]));
        self.unused_text += spans.flatten().map(|s| s.len as usize).sum::<usize>();
        self.unused_emails += columns.emails.len as usize;
    }

    /// Whether more than half of the arena is unused (and it is large enough to bother).
    pub(super) fn wasteful(&self) -> bool {
        const SMALL: usize = 64 * 1024;
        (self.text.len() > SMALL && self.unused_text > self.text.len() / 2)
            || (self.emails.len() > SMALL / 16 && self.unused_emails > self.emails.len() / 2)
    }

    /// `columns` copied into `into`, to compact: every row's columns moved, in row order,
    /// into a fresh arena.
    pub(super) fn moved(&self, columns: &Columns, into: &mut Arena) -> Columns {
        let mut copy = |span: Span| into.push_str(self.str(span));
        let id = copy(columns.id);
        let strings = columns.strings.map(|s| s.map(&mut copy));
        let emails: Vec<Email> = self
            .emails(columns)
            .iter()
            .map(|e| Email {
                value: e.value.map(&mut copy),
                kind: e.kind.map(&mut copy),
                primary: e.primary,
            })
            .collect();
        let start = into.emails.len();
        into.emails.extend(emails);
        Columns {
            id,
            strings,
            active: columns.active,
            emails: Span {
                start: start as u32,
                len: columns.emails.len,
            },
        }
    }
}

/// What the columns of `attributes` hold, or `None` when they cannot stand for them.
fn extract(attributes: &Value) -> Option<Extracted<'_>> {
    let top = attributes.as_object()?;
    let under_core_uri = top
        .iter()
        .any(|(key, value)| value.is_object() && filter::is_core_schema(key));
    if under_core_uri {
        return None;
    }
    let mut strings = [None; STRINGS.len()];
    for (slot, (name, sub)) in strings.iter_mut().zip(STRINGS) {
        let value = match sub {
            None => single(top, name)?,
            Some(sub) => match single(top, name)? {
                None | Some(Value::Null) => None,
                Some(Value::Object(parent)) => single(parent, sub)?,
                Some(_) => return None,
            },
        };
        *slot = string(value)?;
    }
    let active = boolean(single(top, "active")?)?;
    let emails = match single(top, "emails")? {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                let item = item.as_object()?;
                Some((
                    string(single(item, "value")?)?,
                    string(single(item, "type")?)?,
                    boolean(single(item, "primary")?)?,
                ))
            })
            .collect::<Option<_>>()?,
        Some(_) => return None,
    };
    Some(Extracted {
        strings,
        active,
        emails,
    })
}

/// The member named `name` ignoring ASCII case (`Some(None)`: none), or `None` when several
/// are, as then which one the evaluator reads depends on the filter's spelling.
fn single<'m>(members: &'m Map<String, Value>, name: &str) -> Option<Option<&'m Value>> {
    let mut found = None;
    for (key, value) in members {
        if key.eq_ignore_ascii_case(name) {
            if found.is_some() {
                return None;
            }
            found = Some(value);
        }
    }
    Some(found)
}

/// A string member as a column (`Some(None)`: absent or `null`), `None` for another type.
fn string(value: Option<&Value>) -> Option<Option<&str>> {
    match value {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s)),
        Some(_) => None,
    }
}

/// A boolean member as a column, as [`string`].
fn boolean(value: Option<&Value>) -> Option<Option<bool>> {
    match value {
        None | Some(Value::Null) => Some(None),
        Some(Value::Bool(b)) => Some(Some(*b)),
        Some(_) => None,
    }
}

/// What a [`Plan`] reads of one row.
#[derive(Debug, Clone, Copy)]
pub(super) struct RowRef<'a> {
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
pub(super) enum Plan<'f> {
    /// Answered by the columns.
    Leaf(Leaf<'f>),
    /// Answered by the record.
    Record(Compiled<'f>),
    /// Both.
    And(Box<Plan<'f>>, Box<Plan<'f>>),
    /// Either.
    Or(Box<Plan<'f>>, Box<Plan<'f>>),
    /// Not.
    Not(Box<Plan<'f>>),
}

/// A leaf of a [`Plan`] the columns answer.
#[derive(Debug)]
pub(super) struct Leaf<'f> {
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
    pub(super) fn new(filter: &'f Filter) -> Plan<'f> {
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
    pub(super) fn matches<R: Resource + ?Sized>(&self, row: RowRef<'_>, resource: &R) -> bool {
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
    use serde_json::json;

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

    #[test]
    fn odd_shapes_have_no_columns() {
        for odd in [
            json!({"userName": "a", "DisplayName": "x", "displayName": "y"}),
            json!({"userName": "a", "name": "Jensen"}),
            json!({"userName": "a", "name": {"familyName": 3}}),
            json!({"userName": "a", "emails": null}),
            json!({"userName": "a", "emails": [{"value": "a", "Value": "b"}]}),
            json!({"userName": "a", "emails": [{"value": ["a"]}]}),
            json!({"userName": "a", "emails": ["a"]}),
            json!({"userName": "a", "active": "true"}),
            json!({"userName": "a", "urn:ietf:params:scim:schemas:core:2.0:User": {}}),
            json!(["not an object"]),
        ] {
            assert!(
                Columns::of("u", &odd, &mut Arena::default()).is_none(),
                "{odd}"
            );
        }
        let plain = json!({
            "userName": "a",
            "name": null,
            "active": null,
            "emails": [{"value": null, "type": "work", "primary": true, "display": 1}],
            "urn:ietf:params:scim:schemas:core:2.0:User": "not an object",
        });
        assert!(Columns::of("u", &plain, &mut Arena::default()).is_some());
    }
}
