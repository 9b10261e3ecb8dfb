//! The RFC 7644 section 3.4.2.2 filter grammar: the filter tree and its canonical printer
//! (here), the parser (`parse.rs`, the grammar, over `lex.rs`, the cursor and the tokens) and
//! the evaluator (`evaluate.rs`).
//!
//! The grammar (RFC 7644 figure 1, plus the PATCH `path` rule of section 3.5.2):
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"
//! valFilter = attrExp / logExp / *1"not" "(" valFilter ")"
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! logExp    = FILTER SP ("and" / "or") SP FILTER
//! compValue = false / null / true / number / string
//! compareOp = "eq" / "ne" / "co" / "sw" / "ew" / "gt" / "lt" / "ge" / "le"
//! attrPath  = [URI ":"] ATTRNAME *1subAttr
//! ATTRNAME  = ALPHA *(nameChar)
//! nameChar  = "-" / "_" / DIGIT / ALPHA
//! subAttr   = "." ATTRNAME
//! PATH      = attrPath / valuePath [subAttr]
//! ```
//!
//! Leniencies, each because real clients send it: a run of spaces wherever the
//! grammar has one `SP`, spaces around the whole filter and just inside
//! parentheses and brackets, no space between `not` and `(` (the grammar has
//! none, the RFC examples have one) and `(` right after `and` / `or`.
//! Operators, `and`, `or`, `not` and `pr` are case-insensitive; the JSON
//! literals `true`, `false` and `null` are not, as in JSON. `$ref` is accepted
//! as a sub-attribute name because RFC 7643 uses it (`manager.$ref`,
//! `groups.$ref`) although `ATTRNAME` does not allow it.

use std::fmt;

use serde_json::Number;

mod evaluate;
mod lex;
mod parse;
#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
pub(crate) use evaluate::matches;
pub(crate) use evaluate::{
    AttributeCase, Compiled, Resource, compare_str, matches_element, member,
};
pub(crate) use parse::{parse, parse_path};

/// How deeply parentheses, `not (...)` and value filters may nest; deeper input
/// is rejected so that parsing never exhausts the stack.
pub(crate) const MAX_DEPTH: usize = 64;

/// How many attribute expressions one filter may hold. A long `and` / `or`
/// chain builds a deep binary tree, and printing, comparing, evaluating and
/// dropping it recurse, so its length is bounded too.
pub(crate) const MAX_EXPRESSIONS: usize = 1000;

/// Schema URIs with this prefix name a core schema, whose attributes sit at the
/// top level of a resource (extension attributes sit under their schema URI).
const CORE_SCHEMA_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:";

/// Whether `urn` names a core schema ([`CORE_SCHEMA_PREFIX`], any case).
pub(crate) fn is_core_schema(urn: &str) -> bool {
    urn.as_bytes()
        .get(..CORE_SCHEMA_PREFIX.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(CORE_SCHEMA_PREFIX.as_bytes()))
}

/// An attribute path: `[URI ":"] ATTRNAME ["." subAttr]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AttrPath {
    /// The schema URI prefix, without the colon that separates it from the name.
    pub urn: Option<String>,
    /// The attribute name, as written.
    pub name: String,
    /// The sub-attribute name of a complex attribute, as written.
    pub sub_attr: Option<String>,
}

#[cfg(test)]
impl AttrPath {
    /// A path without schema URI or sub-attribute.
    pub(crate) fn new(name: impl Into<String>) -> Self {
        Self {
            urn: None,
            name: name.into(),
            sub_attr: None,
        }
    }

    /// A path to a sub-attribute, without schema URI.
    pub(crate) fn with_sub(name: impl Into<String>, sub_attr: impl Into<String>) -> Self {
        Self {
            urn: None,
            name: name.into(),
            sub_attr: Some(sub_attr.into()),
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// A comparison operator of RFC 7644 table 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `lt`: less than.
    Lt,
    /// `ge`: greater than or equal.
    Ge,
    /// `le`: less than or equal.
    Le,
}

impl CompareOp {
    /// Every operator, in RFC order.
    pub(crate) const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Lt,
        CompareOp::Ge,
        CompareOp::Le,
    ];

    /// The lowercase keyword.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Lt => "lt",
            CompareOp::Ge => "ge",
            CompareOp::Le => "le",
        }
    }

    /// The operator a keyword names, ignoring ASCII case.
    pub(crate) fn from_keyword(word: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A comparison value: a JSON literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CompValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number.
    Number(Number),
    /// A JSON string, unescaped.
    String(String),
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            CompValue::String(s) => write_json_string(f, s),
        }
    }
}

/// Writes `s` as a JSON string literal; hand-written because
/// `serde_json::to_string` returns a `Result` that a formatter cannot explain.
fn write_json_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Filter {
    /// `attrPath compareOp compValue`.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        op: CompareOp,
        /// The literal compared against.
        value: CompValue,
    },
    /// `attrPath pr`.
    Present(AttrPath),
    /// `filter and filter`.
    And(Box<Filter>, Box<Filter>),
    /// `filter or filter`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (filter)`.
    Not(Box<Filter>),
    /// `attrPath[valFilter]`: some value of a multi-valued attribute matches
    /// `filter`, whose paths name sub-attributes of `path`.
    ValuePath {
        /// The multi-valued attribute.
        path: AttrPath,
        /// The filter over its values.
        filter: Box<Filter>,
    },
}

impl fmt::Display for Filter {
    /// Prints canonical text: lowercase keywords, single spaces, and
    /// parentheses only where the tree needs them, so that parsing the text
    /// gives back an equal tree (`and` binds tighter than `or`, both group to
    /// the left).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::And(left, right) => {
                write_operand(f, left, matches!(**left, Filter::Or(..)))?;
                f.write_str(" and ")?;
                write_operand(
                    f,
                    right,
                    matches!(**right, Filter::And(..) | Filter::Or(..)),
                )
            }
            Filter::Or(left, right) => {
                write_operand(f, left, false)?;
                f.write_str(" or ")?;
                write_operand(f, right, matches!(**right, Filter::Or(..)))
            }
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, operand: &Filter, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({operand})")
    } else {
        write!(f, "{operand}")
    }
}

/// A PATCH operation path (RFC 7644 section 3.5.2): `attrPath / valuePath [subAttr]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PatchPath {
    /// The attribute; without a value filter it may name a sub-attribute itself.
    pub attr: AttrPath,
    /// The value filter in brackets, if any.
    pub filter: Option<Filter>,
    /// The sub-attribute after the brackets (`emails[type eq "work"].value`).
    pub sub_attr: Option<String>,
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Why a filter or path did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at position {position}: {message}")]
pub(crate) struct FilterError {
    /// Byte offset into the input where the problem is; at most the input length.
    pub position: usize,
    /// What was expected and what was found.
    pub message: String,
}
