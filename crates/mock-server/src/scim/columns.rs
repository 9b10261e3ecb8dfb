//! The attributes searches read most, extracted from a record when it is written
//! ([`Columns`]), their text kept per table in an [`Arena`]; `columns/plan.rs` compiles a
//! filter to read them instead of the record's JSON.
//!
//! Columns hold the raw strings (compared with `filter::compare_str`, the evaluator's own
//! comparison) of `userName`, `externalId`, `displayName`, `title`, `userType`,
//! `name.familyName` and `name.givenName`, `active`, and each email's `value`, `type` and
//! `primary`; `id` and `meta.created` / `meta.lastModified` come from the row.
//!
//! Exactness: the columns stand for a record only when what the evaluator would read is
//! plain: attributes absent, `null` or of the expected JSON type, no two members whose names
//! differ only in case (where the evaluator's choice depends on the filter's spelling), no
//! object under a core schema URI, and `emails` absent or an array of objects. Anything else
//! gives no columns, and such a record is searched over its JSON. Absent, `null` and `[]`
//! are interchangeable for every comparison and `pr` the columns answer (the evaluator finds
//! no value that is present or compares), which is why the columns need not tell them apart.
//!
//! The plan is a child module so that it reads the columns' private layout; it is reached as
//! `columns::plan` (this file never imports it, so the module graph stays one way).

pub(super) mod plan;

use serde_json::{Map, Value};

use super::filter;

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
