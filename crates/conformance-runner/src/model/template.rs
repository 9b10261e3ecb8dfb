//! `{{...}}` substitution in scenario strings.
//!
//! A template is parsed once, when its scenario is loaded, so a typo in a
//! variable name is a load error with a file and line rather than a failure in
//! the middle of a run. Variables:
//!
//! | Variable | Value |
//! |---|---|
//! | `{{run_id}}` | the run's id, used to tag every resource the run creates |
//! | `{{scenario.slug}}` | `<run id>-<scenario index>`, unique per scenario and run |
//! | `{{receiver.url}}` | this scenario's URL on the webhook receiver |
//! | `{{credential.NAME}}` | a profile credential (redacted in every output) |
//! | `{{fixture.NAME}}` | a fixture the target provides: an id, a workspace, an email (from the profile) |
//! | `{{path.NAME}}` | a base path of the target, `path.api` or `path.scim` (from the profile) |
//! | `{{capture.NAME}}` | a value captured by an earlier setup step |
//! | `{{totp(credential.NAME)}}`, `{{totp(capture.NAME)}}` | the current RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 secret, computed when the request is sent |
//!
//! A captured value comes from the target, so in a request path
//! ([`Template::render_path`]) it is encoded as one path segment, and one that
//! would change the path's structure (`/`, `\`, `?`, `#`, `.`, `..`, a
//! control character) is refused: a hostile target cannot steer a later
//! request, with the scenario's credentials, to another resource.

use std::collections::BTreeMap;
use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

/// A parsed template: literal text and variables, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Var(Var),
}

/// A variable a template refers to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Var {
    /// `{{run_id}}`
    RunId,
    /// `{{scenario.slug}}`
    ScenarioSlug,
    /// `{{receiver.url}}`
    ReceiverUrl,
    /// `{{credential.NAME}}`
    Credential(String),
    /// `{{fixture.NAME}}`
    Fixture(String),
    /// `{{path.NAME}}`
    Path(String),
    /// `{{capture.NAME}}`
    Capture(String),
    /// `{{totp(credential.NAME)}}` or `{{totp(capture.NAME)}}`: the current
    /// RFC 6238 code of the base32 secret the inner variable holds.
    Totp(Box<Var>),
}

/// Why a template does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TemplateError {
    /// `{{` without a matching `}}`.
    #[error("`{{{{` at byte {0} is not closed by `}}}}`")]
    Unclosed(usize),
    /// A `{{...}}` whose text (held, trimmed) names no variable.
    #[error(
        "`{{{{{0}}}}}` is not a variable (run_id, scenario.slug, receiver.url, credential.NAME, fixture.NAME, path.NAME, capture.NAME, totp(credential.NAME | capture.NAME))"
    )]
    Unknown(String),
}

/// Why a template could not be rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RenderError {
    /// A capture that no earlier step produced (its step failed or was skipped).
    #[error("capture `{0}` has no value")]
    MissingCapture(String),
    /// A credential or fixture the profile does not define.
    #[error("the profile defines no {kind} `{name}`")]
    MissingProfileValue {
        /// `credential`, `fixture` or `path`.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// A `totp(...)` argument that is not a base32 secret.
    #[error("{var} is not a TOTP secret: {error}")]
    Totp {
        /// The argument, as written.
        var: String,
        /// What is wrong with it.
        error: String,
    },
    /// A captured value that would change a request path's structure.
    #[error(
        "capture `{name}` is {value:?}, which would change the request path's structure (a `/`, `\\`, `?`, `#`, `.` or `..` segment, or a control character): refused"
    )]
    UnsafeCapture {
        /// The capture's name, without `capture.`.
        name: String,
        /// Its value, at most 80 characters.
        value: String,
    },
}

/// Everything a template can refer to while a scenario runs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Vars<'a> {
    /// `{{run_id}}`: `cr` and ten hex digits, unless `--run-id` set one.
    pub run_id: &'a str,
    /// `{{scenario.slug}}`: `<run id>-<scenario index>`.
    pub slug: &'a str,
    /// The scenario's receiver URL.
    pub receiver_url: &'a str,
    /// Credentials by name.
    pub credentials: Option<&'a BTreeMap<String, String>>,
    /// Fixtures by name.
    pub fixtures: Option<&'a BTreeMap<String, String>>,
    /// Base paths by name.
    pub paths: Option<&'a BTreeMap<String, String>>,
    /// Captured values by name.
    pub captures: BTreeMap<String, String>,
}

impl Template {
    /// Parses `text`.
    pub(crate) fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                pieces.push(Piece::Literal(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or(TemplateError::Unclosed(offset + start))?;
            pieces.push(Piece::Var(parse_var(after[..end].trim())?));
            offset += start + 2 + end + 2;
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_owned()));
        }
        Ok(Template { pieces })
    }

    /// The variables this template refers to, the argument of a function
    /// (`totp(credential.NAME)`) right after the function itself.
    pub(crate) fn vars(&self) -> impl Iterator<Item = &Var> {
        self.pieces.iter().flat_map(|p| {
            let (outer, inner) = match p {
                Piece::Var(v @ Var::Totp(inner)) => (Some(v), Some(&**inner)),
                Piece::Var(v) => (Some(v), None),
                Piece::Literal(_) => (None, None),
            };
            outer.into_iter().chain(inner)
        })
    }

    /// Substitutes every variable in a request path: captured values are
    /// percent-encoded as one segment, and refused if they would change the
    /// path's structure.
    pub(crate) fn render_path(&self, vars: &Vars<'_>) -> Result<String, RenderError> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Var(Var::Capture(name)) => {
                    let value = Var::Capture(name.clone()).value(vars)?;
                    out.push_str(&path_segment(name, &value)?);
                }
                Piece::Var(var) => out.push_str(&var.value(vars)?),
            }
        }
        Ok(out)
    }

    /// Substitutes every variable.
    pub(crate) fn render(&self, vars: &Vars<'_>) -> Result<String, RenderError> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Var(var) => out.push_str(&var.value(vars)?),
            }
        }
        Ok(out)
    }
}

/// A JSON value whose strings holding `{{` are templates, parsed once when
/// the scenario is loaded and rendered without parsing again.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum JsonTemplate {
    /// A value with no template inside: rendered as a clone.
    Literal(Value),
    /// A string with variables.
    String(Template),
    /// An array with a template somewhere inside.
    Array(Vec<JsonTemplate>),
    /// An object with a template somewhere inside, in the value's member order.
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    /// Parses every string of `value` that holds `{{`; the first that is not
    /// a template is the error.
    pub(crate) fn parse(value: &Value) -> Result<JsonTemplate, TemplateError> {
        JsonTemplate::build(value, &|text| Template::parse(text).map(Some))
    }

    /// As [`JsonTemplate::parse`], but a string that is not a template stays
    /// literal text (an expected body value is compared as written).
    pub(crate) fn parse_lenient(value: &Value) -> JsonTemplate {
        JsonTemplate::build(value, &|text| Ok(Template::parse(text).ok()))
            .unwrap_or_else(|_: TemplateError| JsonTemplate::Literal(value.clone()))
    }

    fn build(
        value: &Value,
        parse: &dyn Fn(&str) -> Result<Option<Template>, TemplateError>,
    ) -> Result<JsonTemplate, TemplateError> {
        let node = match value {
            Value::String(text) if text.contains("{{") => match parse(text)? {
                Some(t) => JsonTemplate::String(t),
                None => JsonTemplate::Literal(value.clone()),
            },
            Value::Array(items) => JsonTemplate::Array(
                items
                    .iter()
                    .map(|v| JsonTemplate::build(v, parse))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => JsonTemplate::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), JsonTemplate::build(v, parse)?)))
                    .collect::<Result<_, TemplateError>>()?,
            ),
            other => JsonTemplate::Literal(other.clone()),
        };
        // A subtree without a template is kept whole, so rendering it is one clone.
        Ok(match node {
            JsonTemplate::Array(items) if items.iter().all(JsonTemplate::is_literal) => {
                JsonTemplate::Literal(value.clone())
            }
            JsonTemplate::Object(members) if members.iter().all(|(_, v)| v.is_literal()) => {
                JsonTemplate::Literal(value.clone())
            }
            node => node,
        })
    }

    fn is_literal(&self) -> bool {
        matches!(self, JsonTemplate::Literal(_))
    }

    /// Every template inside, in document order.
    pub(crate) fn templates(&self) -> Vec<&Template> {
        fn walk<'a>(node: &'a JsonTemplate, out: &mut Vec<&'a Template>) {
            match node {
                JsonTemplate::Literal(_) => {}
                JsonTemplate::String(t) => out.push(t),
                JsonTemplate::Array(items) => items.iter().for_each(|v| walk(v, out)),
                JsonTemplate::Object(members) => members.iter().for_each(|(_, v)| walk(v, out)),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// The value with every template rendered.
    pub(crate) fn render(&self, vars: &Vars<'_>) -> Result<Value, RenderError> {
        Ok(match self {
            JsonTemplate::Literal(value) => value.clone(),
            JsonTemplate::String(t) => Value::String(t.render(vars)?),
            JsonTemplate::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| v.render(vars))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTemplate::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.render(vars)?)))
                    .collect::<Result<_, RenderError>>()?,
            ),
        })
    }
}

impl Var {
    fn value(&self, vars: &Vars<'_>) -> Result<String, RenderError> {
        Ok(match self {
            Var::RunId => vars.run_id.to_owned(),
            Var::ScenarioSlug => vars.slug.to_owned(),
            Var::ReceiverUrl => vars.receiver_url.to_owned(),
            Var::Credential(name) => lookup(vars.credentials, "credential", name)?,
            Var::Fixture(name) => lookup(vars.fixtures, "fixture", name)?,
            Var::Path(name) => lookup(vars.paths, "path", name)?,
            Var::Capture(name) => vars
                .captures
                .get(name)
                .cloned()
                .ok_or_else(|| RenderError::MissingCapture(name.clone()))?,
            Var::Totp(secret) => crate::ceremony::totp::current_code(&secret.value(vars)?)
                .map_err(|e| RenderError::Totp {
                    var: secret.to_string(),
                    error: e.to_string(),
                })?,
        })
    }
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Var::RunId => f.write_str("{{run_id}}"),
            Var::ScenarioSlug => f.write_str("{{scenario.slug}}"),
            Var::ReceiverUrl => f.write_str("{{receiver.url}}"),
            Var::Credential(n) => write!(f, "{{{{credential.{n}}}}}"),
            Var::Fixture(n) => write!(f, "{{{{fixture.{n}}}}}"),
            Var::Path(n) => write!(f, "{{{{path.{n}}}}}"),
            Var::Capture(n) => write!(f, "{{{{capture.{n}}}}}"),
            Var::Totp(inner) => {
                let inner = inner.to_string();
                let inner = inner.trim_start_matches("{{").trim_end_matches("}}");
                write!(f, "{{{{totp({inner})}}}}")
            }
        }
    }
}

/// `value` percent-encoded as one path segment (RFC 3986 `pchar`, with the
/// sub-delimiters that mean something in a query encoded too).
fn path_segment(name: &str, value: &str) -> Result<String, RenderError> {
    let structural = value.is_empty()
        || value == "."
        || value == ".."
        || value
            .chars()
            .any(|c| matches!(c, '/' | '\\' | '?' | '#') || c.is_control());
    if structural {
        return Err(RenderError::UnsafeCapture {
            name: name.to_owned(),
            value: value.chars().take(80).collect(),
        });
    }
    Ok(percent_encoding::utf8_percent_encode(value, NOT_PCHAR).to_string())
}

/// Every byte outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`).
pub(crate) const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Every byte a path segment cannot hold as is (RFC 3986 `pchar`), except
/// the sub-delimiters `&`, `+`, `,`, `;` and `=`, which are encoded too.
const NOT_PCHAR: &AsciiSet = &NOT_UNRESERVED
    .remove(b':')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*');

fn lookup(
    map: Option<&BTreeMap<String, String>>,
    kind: &'static str,
    name: &str,
) -> Result<String, RenderError> {
    map.and_then(|m| m.get(name))
        .cloned()
        .ok_or_else(|| RenderError::MissingProfileValue {
            kind,
            name: name.to_owned(),
        })
}

fn parse_var(text: &str) -> Result<Var, TemplateError> {
    let unknown = || TemplateError::Unknown(text.to_owned());
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    match text {
        "run_id" => return Ok(Var::RunId),
        "scenario.slug" => return Ok(Var::ScenarioSlug),
        "receiver.url" => return Ok(Var::ReceiverUrl),
        _ => {}
    }
    if let Some(arg) = text.strip_prefix("totp(").and_then(|r| r.strip_suffix(')')) {
        return match parse_var(arg.trim()) {
            Ok(inner @ (Var::Credential(_) | Var::Capture(_))) => Ok(Var::Totp(Box::new(inner))),
            _ => Err(unknown()),
        };
    }
    let (namespace, name) = text.split_once('.').ok_or_else(unknown)?;
    if !name_ok(name) {
        return Err(unknown());
    }
    match namespace {
        "credential" => Ok(Var::Credential(name.to_owned())),
        "fixture" => Ok(Var::Fixture(name.to_owned())),
        "path" => Ok(Var::Path(name.to_owned())),
        "capture" => Ok(Var::Capture(name.to_owned())),
        _ => Err(unknown()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders_every_kind_of_variable() {
        let t = Template::parse(
            "/v1/{{ fixture.ws }}/users/{{capture.id}}?r={{run_id}}&s={{scenario.slug}}&u={{receiver.url}}&c={{credential.tok}}",
        )
        .unwrap();
        let credentials = BTreeMap::from([("tok".to_owned(), "secret".to_owned())]);
        let fixtures = BTreeMap::from([("ws".to_owned(), "acme".to_owned())]);
        let vars = Vars {
            run_id: "run1",
            slug: "run1-3",
            receiver_url: "http://r",
            credentials: Some(&credentials),
            fixtures: Some(&fixtures),
            paths: None,
            captures: BTreeMap::from([("id".to_owned(), "usr_1".to_owned())]),
        };
        assert_eq!(
            t.render(&vars).unwrap(),
            "/v1/acme/users/usr_1?r=run1&s=run1-3&u=http://r&c=secret"
        );
    }

    #[test]
    fn rejects_unknown_and_unclosed_variables() {
        assert_eq!(
            Template::parse("a {{profile.tokens.admin}}"),
            Err(TemplateError::Unknown("profile.tokens.admin".into()))
        );
        assert_eq!(
            Template::parse("ab {{run_id"),
            Err(TemplateError::Unclosed(3))
        );
        assert_eq!(
            Template::parse("{{capture.}}"),
            Err(TemplateError::Unknown("capture.".into()))
        );
        assert_eq!(
            Template::parse("{{attestation(packed)}}"),
            Err(TemplateError::Unknown("attestation(packed)".into()))
        );
    }

    #[test]
    fn totp_renders_the_current_code_of_a_credential_or_capture() {
        let t = Template::parse("{{ totp(credential.seed) }}/{{totp(capture.fresh)}}").unwrap();
        assert_eq!(
            t.vars().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "{{totp(credential.seed)}}",
                "{{credential.seed}}",
                "{{totp(capture.fresh)}}",
                "{{capture.fresh}}"
            ]
        );
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let credentials = BTreeMap::from([("seed".to_owned(), secret.to_owned())]);
        let vars = Vars {
            credentials: Some(&credentials),
            captures: BTreeMap::from([("fresh".to_owned(), secret.to_owned())]),
            ..Vars::default()
        };
        let rendered = t.render(&vars).unwrap();
        let (a, b) = rendered.split_once('/').unwrap();
        assert!(
            a.len() == 6 && a.bytes().all(|c| c.is_ascii_digit()),
            "{rendered}"
        );
        // Two codes of one secret rendered together can straddle a step.
        assert!(a == b || b.len() == 6, "{rendered}");

        let bad = Vars {
            captures: BTreeMap::from([("fresh".to_owned(), "not base32!".to_owned())]),
            ..Vars::default()
        };
        assert_eq!(
            Template::parse("{{totp(capture.fresh)}}")
                .unwrap()
                .render(&bad)
                .unwrap_err()
                .to_string(),
            "{{capture.fresh}} is not a TOTP secret: the TOTP secret is not base32 (RFC 4648: A-Z and 2-7)"
        );
        for text in [
            "totp(fixture.x)",
            "totp(123456)",
            "totp(credential.a, 1)",
            "totp()",
        ] {
            assert_eq!(
                Template::parse(&format!("{{{{{text}}}}}")),
                Err(TemplateError::Unknown(text.into())),
                "{text}"
            );
        }
    }

    #[test]
    fn missing_values_are_render_errors() {
        let t = Template::parse("{{capture.token}}").unwrap();
        assert_eq!(
            t.render(&Vars::default()),
            Err(RenderError::MissingCapture("token".into()))
        );
        let t = Template::parse("{{credential.x}}").unwrap();
        assert_eq!(
            t.render(&Vars::default()).unwrap_err().to_string(),
            "the profile defines no credential `x`"
        );
    }

    #[test]
    fn captures_in_paths_are_one_encoded_segment_or_refused() {
        let t = Template::parse("/v1/acme/users/{{capture.id}}").unwrap();
        let vars = |id: &str| Vars {
            captures: BTreeMap::from([("id".to_owned(), id.to_owned())]),
            ..Vars::default()
        };
        assert_eq!(
            t.render_path(&vars("usr 1&x=é")).unwrap(),
            "/v1/acme/users/usr%201%26x%3D%C3%A9"
        );
        assert_eq!(
            t.render_path(&vars("usr_1:a@b")).unwrap(),
            "/v1/acme/users/usr_1:a@b"
        );
        for hostile in [
            "../../../pwonly/users/usr_pwonly_admin?x=",
            "..",
            ".",
            "a/b",
            "a\\b",
            "a#b",
            "a\nb",
            "",
        ] {
            assert!(
                matches!(
                    t.render_path(&vars(hostile)),
                    Err(RenderError::UnsafeCapture { .. })
                ),
                "{hostile:?}"
            );
        }
        assert_eq!(
            t.render_path(&vars("a/b")).unwrap_err().to_string(),
            "capture `id` is \"a/b\", which would change the request path's structure (a `/`, `\\`, `?`, `#`, `.` or `..` segment, or a control character): refused"
        );
        // Outside paths (bodies, headers) the value is used as it is.
        assert_eq!(t.render(&vars("a/b")).unwrap(), "/v1/acme/users/a/b");
    }

    #[test]
    fn json_templates_are_parsed_once_and_render_in_place() {
        let value = serde_json::json!({
            "userName": "{{run_id}}-{{capture.n}}",
            "emails": [{ "value": "a@example.com", "primary": true }],
            "tags": ["x", "{{fixture.ws}}"],
            "n": 3
        });
        let tree = JsonTemplate::parse(&value).unwrap();
        // The member without a template is kept whole.
        let JsonTemplate::Object(members) = &tree else {
            panic!("{tree:?}")
        };
        assert_eq!(
            members[0],
            (
                "emails".to_owned(),
                JsonTemplate::Literal(value["emails"].clone())
            )
        );
        assert_eq!(tree.templates().len(), 2);
        let fixtures = BTreeMap::from([("ws".to_owned(), "acme".to_owned())]);
        let vars = Vars {
            run_id: "run1",
            fixtures: Some(&fixtures),
            captures: BTreeMap::from([("n".to_owned(), "7".to_owned())]),
            ..Vars::default()
        };
        assert_eq!(
            tree.render(&vars).unwrap(),
            serde_json::json!({
                "userName": "run1-7",
                "emails": [{ "value": "a@example.com", "primary": true }],
                "tags": ["x", "acme"],
                "n": 3
            })
        );
        assert_eq!(
            tree.render(&Vars::default()),
            // Members render in the object's order: `tags` comes before `userName`.
            Err(RenderError::MissingProfileValue {
                kind: "fixture",
                name: "ws".into()
            })
        );
    }

    #[test]
    fn a_bad_json_template_is_an_error_or_literal_text_when_lenient() {
        let value = serde_json::json!({ "a": ["{{run_id"] });
        assert_eq!(JsonTemplate::parse(&value), Err(TemplateError::Unclosed(0)));
        assert_eq!(
            JsonTemplate::parse_lenient(&value),
            JsonTemplate::Literal(value.clone())
        );
        assert_eq!(
            JsonTemplate::parse_lenient(&value).render(&Vars::default()),
            Ok(value)
        );
    }
}
