//! Validation of a scenario file: the raw format (`raw`) to
//! the model, with a [`Diagnostic`] (file, line, column) for every problem
//! and never a panic.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use catalog::Code;
use http::{HeaderName, Method};
use toml::Spanned;

use crate::model::scenario::raw::*;
use crate::model::scenario::*;
use crate::model::template::{JsonTemplate, Template, Var};

/// What `repeat` may be.
const REPEAT_SHAPE: &str =
    "`repeat` is a count from 1 to 100, or `{{fixture.NAME}}` (a count the profile names)";

/// Validation context for one file.
pub(crate) struct Cx<'a> {
    pub(crate) file: &'a SourceFile,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Where each line of the file starts, built on the first [`Cx::line`]
    /// (every scenario and step asks for its line: counting newlines from
    /// the top each time was quadratic, a tenth of loading the suite).
    pub(crate) line_starts: std::cell::OnceCell<Vec<usize>>,
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

impl Cx<'_> {
    pub(super) fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let diagnostic = self.file.diagnostic(span.start, message);
        self.diagnostics.push(diagnostic);
    }

    fn line(&self, span: &Range<usize>) -> usize {
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.file.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        // The 1-based line is the number of lines starting at or before the offset.
        starts.partition_point(|&start| start <= span.start)
    }

    pub(crate) fn parse_file(&mut self) -> Vec<Scenario> {
        let raw: RawFile = match toml::from_str(&self.file.text) {
            Ok(raw) => raw,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                // `status` is a field only so that it can be refused with a
                // clear message; it is no suggestion for a misspelt member.
                let message = e.message().trim_end().replace(", `status`", "");
                self.error(span, message);
                return Vec::new();
            }
        };
        if raw.scenario.is_empty() {
            self.error(0..0, "no `[[scenario]]` table in this file");
        }
        raw.scenario
            .into_iter()
            .filter_map(|s| self.scenario(s))
            .collect()
    }

    fn scenario(&mut self, raw: Spanned<RawScenario>) -> Option<Scenario> {
        let before = self.diagnostics.len();
        let raw = raw.into_inner();
        let id = raw.id.get_ref().clone();
        let id_ok = !id.is_empty()
            && id.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '/' | '_')
            });
        if !id_ok {
            self.error(
                raw.id.span(),
                format!("scenario id `{id}` must be non-empty lowercase letters, digits, `-`, `_` and `/`"),
            );
        }
        let code = match Code::from_name(raw.code.get_ref()) {
            Ok(code) => Some(code),
            Err(_) => {
                let message = crate::model::diagnostics::unknown_code(raw.code.get_ref());
                self.error(raw.code.span(), message);
                None
            }
        };
        for status in [
            raw.status.as_ref().map(Spanned::span),
            raw.request.get_ref().status.as_ref().map(Spanned::span),
            raw.expect
                .as_ref()
                .and_then(|e| e.get_ref().status.as_ref())
                .map(Spanned::span),
        ]
        .into_iter()
        .flatten()
        {
            let documented = code.map_or(String::new(), |c| {
                format!(" ({c} is documented as {})", c.status())
            });
            self.error(
                status,
                format!(
                    "`status` is not allowed in a scenario: the expected status comes from the catalog{documented}"
                ),
            );
        }
        if raw.description.get_ref().trim().is_empty() {
            self.error(raw.description.span(), "`description` is empty");
        }
        let mut tags = Vec::new();
        for tag in &raw.tags {
            let t = tag.get_ref();
            if t.is_empty()
                || !t
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                self.error(
                    tag.span(),
                    format!("tag `{t}` must be lowercase letters, digits and `-`"),
                );
            }
            tags.push(t.clone());
        }
        let envelope = raw
            .envelope
            .as_ref()
            .and_then(|e| match e.get_ref().as_str() {
                "problem" => Some(Envelope::Problem),
                "scim" => Some(Envelope::Scim),
                other => {
                    self.error(
                        e.span(),
                        format!("envelope `{other}` is not one of `problem`, `scim`"),
                    );
                    None
                }
            });

        let standard = raw.standard.and_then(|s| {
            if is_standard_reference(s.get_ref()) {
                Some(s.into_inner())
            } else {
                self.error(
                    s.span(),
                    format!(
                        "standard `{}` must name an RFC and a section, like `RFC 7644 §3.4.2.2` ({})",
                        s.get_ref(),
                        STANDARDS.join(", ")
                    ),
                );
                None
            }
        });

        let mut captures = BTreeSet::new();
        let setup: Vec<Step> = raw
            .setup
            .into_iter()
            .filter_map(|s| self.step(s, &mut captures, "setup"))
            .collect();
        let mut raw_request = raw.request.into_inner();
        let request_capture = std::mem::take(&mut raw_request.capture);
        let request = self.request(raw_request, &captures);
        let expect = raw
            .expect
            .map(|e| self.expect(e.into_inner(), &captures))
            .unwrap_or_default();
        // Cleanup may use any capture: its steps run only when their captures exist.
        let mut cleanup_captures = captures.clone();
        let request_captures = self.captures(request_capture, &mut cleanup_captures);
        let cleanup: Vec<Step> = raw
            .cleanup
            .into_iter()
            .filter_map(|s| self.step(s, &mut cleanup_captures, "cleanup"))
            .collect();

        let mut distinct = Vec::new();
        if raw.distinct.len() == 1 {
            self.error(
                raw.distinct[0].span(),
                "`distinct` lists at least two values that must differ",
            );
        }
        for value in &raw.distinct {
            let Some(t) = self.template(value, &BTreeSet::new()) else {
                continue;
            };
            if let Some(var) = t
                .vars()
                .find(|v| !matches!(v, Var::Fixture(_) | Var::Path(_)))
            {
                self.error(
                    value.span(),
                    format!("`{var}`: `distinct` may use only `fixture.` and `path.` values, known before anything is sent"),
                );
                continue;
            }
            distinct.push(t);
        }

        if self.diagnostics.len() > before {
            return None;
        }
        Some(Scenario {
            id,
            code: code?,
            description: raw.description.into_inner().trim().to_owned(),
            tags,
            standard,
            envelope,
            setup,
            request: request?,
            expect,
            request_captures,
            cleanup,
            distinct,
            source: SourceLocation {
                built_in: false,
                file: self.file.name.clone(),
                line: self.line(&raw.id.span()),
            },
        })
    }

    fn step(
        &mut self,
        raw: Spanned<RawStep>,
        captures: &mut BTreeSet<String>,
        section: &str,
    ) -> Option<Step> {
        let span = raw.span();
        let line = self.line(&span);
        let raw = raw.into_inner();
        let local = raw.webauthn.is_some() || raw.totp.is_some();
        if let (true, Some(c)) = (local, &raw.if_captured) {
            self.error(c.span(), "`if_captured` applies to a request step");
            return None;
        }
        if local {
            let has_request = raw.method.is_some()
                || raw.path.is_some()
                || !raw.headers.is_empty()
                || raw.json.is_some()
                || raw.body.is_some()
                || !raw.allow_status.is_empty()
                || raw.repeat.is_some()
                || raw.receiver.is_some()
                || (raw.webauthn.is_some() && raw.totp.is_some());
            if has_request {
                self.error(
                    span,
                    format!("a {section} step is one of a request, a `receiver` setting, a `webauthn` ceremony or a `totp` code"),
                );
                return None;
            }
            let name = raw.name.map(Spanned::into_inner);
            return match (raw.webauthn, raw.totp) {
                (Some(w), _) => self.webauthn_step(name, w, raw.capture, captures, line),
                (_, Some(t)) => self.totp_step(name, t, raw.capture, captures, line),
                (None, None) => None,
            };
        }
        if let Some(receiver) = raw.receiver {
            let has_request = raw.method.is_some()
                || raw.path.is_some()
                || !raw.headers.is_empty()
                || raw.json.is_some()
                || raw.body.is_some()
                || !raw.capture.is_empty()
                || !raw.allow_status.is_empty()
                || raw.repeat.is_some();
            if has_request {
                self.error(
                    span,
                    format!(
                        "a {section} step is either a request or a `receiver` setting, not both"
                    ),
                );
                return None;
            }
            let rspan = receiver.span();
            let receiver = receiver.into_inner();
            return match (receiver.secret, receiver.respond) {
                (Some(secret), None) => {
                    let t = self.template(&secret, captures)?;
                    Some(Step::Receiver(ReceiverStep::Verify(t)))
                }
                (None, Some(status)) if (100..=599).contains(status.get_ref()) => {
                    Some(Step::Receiver(ReceiverStep::Respond(*status.get_ref())))
                }
                (None, Some(status)) => {
                    self.error(
                        status.span(),
                        format!("{} is not an HTTP status", status.get_ref()),
                    );
                    None
                }
                _ => {
                    self.error(
                        rspan,
                        "`receiver` takes exactly one of `secret` (verify signatures with it) or `respond` (answer every delivery with this status)",
                    );
                    None
                }
            };
        }
        let if_captured = raw.if_captured.and_then(|c| {
            if captures.contains(c.get_ref()) {
                Some(c.into_inner())
            } else {
                let message = format!(
                    "`if_captured`: no earlier step or request captures `{}`",
                    c.get_ref()
                );
                self.error(c.span(), message);
                None
            }
        });
        let (Some(method), Some(path)) = (raw.method, raw.path) else {
            self.error(
                span,
                format!("a {section} step needs `method` and `path` (or is a `receiver` setting)"),
            );
            return None;
        };
        let name = raw
            .name
            .map(Spanned::into_inner)
            .unwrap_or_else(|| format!("{} {}", method.get_ref(), path.get_ref()));
        let request = self.request(
            RawRequest {
                method,
                path,
                headers: raw.headers,
                json: raw.json,
                body: raw.body,
                status: None,
                capture: BTreeMap::new(),
            },
            captures,
        );
        let mut allow_status = Vec::new();
        for status in raw.allow_status {
            if !(100..=599).contains(status.get_ref()) {
                self.error(
                    status.span(),
                    format!("{} is not an HTTP status", status.get_ref()),
                );
            }
            allow_status.push(status.into_inner());
        }
        let repeat = match raw.repeat {
            None => Repeat::Times(1),
            Some(r) => {
                let span = r.span();
                match r.into_inner() {
                    toml::Value::Integer(n) => match u32::try_from(n) {
                        Ok(n) if (1..=MAX_REPEAT).contains(&n) => Repeat::Times(n),
                        _ => {
                            self.error(span, "`repeat` must be between 1 and 100");
                            Repeat::Times(1)
                        }
                    },
                    toml::Value::String(text) => {
                        let fixture = Template::parse(&text).ok().filter(|t| {
                            let vars: Vec<&Var> = t.vars().collect();
                            matches!(vars.as_slice(), [Var::Fixture(_)])
                                && text.trim().starts_with("{{")
                                && text.trim().ends_with("}}")
                        });
                        match fixture {
                            Some(t) => Repeat::Fixture(t),
                            None => {
                                self.error(span, REPEAT_SHAPE);
                                Repeat::Times(1)
                            }
                        }
                    }
                    _ => {
                        self.error(span, REPEAT_SHAPE);
                        Repeat::Times(1)
                    }
                }
            }
        };
        let step_captures = self.captures(raw.capture, captures);
        Some(Step::Http(HttpStep {
            name,
            request: request?,
            captures: step_captures,
            allow_status,
            repeat,
            if_captured,
            line,
        }))
    }

    /// Validates a capture table; the names become known to later templates.
    pub(super) fn captures(
        &mut self,
        raw: BTreeMap<Spanned<String>, Spanned<String>>,
        captures: &mut BTreeSet<String>,
    ) -> Vec<(String, CaptureFrom)> {
        let mut out = Vec::new();
        for (name, from) in raw {
            let n = name.get_ref();
            if n.is_empty()
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                self.error(
                    name.span(),
                    format!("capture name `{n}` must be letters, digits, `_` and `-`"),
                );
                continue;
            }
            let source = from.get_ref();
            let parsed = if let Some(header) = source.strip_prefix("header:") {
                HeaderName::try_from(header.to_ascii_lowercase())
                    .ok()
                    .map(CaptureFrom::Header)
            } else if is_json_pointer(source) {
                Some(CaptureFrom::Body(source.clone()))
            } else {
                None
            };
            match parsed {
                Some(p) => {
                    captures.insert(n.clone());
                    out.push((n.clone(), p));
                }
                None => self.error(
                    from.span(),
                    format!("capture `{n}`: `{source}` is neither a JSON Pointer (`/token`) nor `header:<name>`"),
                ),
            }
        }
        out
    }

    fn request(&mut self, raw: RawRequest, captures: &BTreeSet<String>) -> Option<Request> {
        let method_text = raw.method.get_ref();
        let method = if METHODS.contains(&method_text.as_str()) {
            Method::from_bytes(method_text.as_bytes()).ok()
        } else {
            None
        };
        if method.is_none() {
            self.error(
                raw.method.span(),
                format!(
                    "method `{method_text}` is not one of {}",
                    METHODS.join(", ")
                ),
            );
        }
        let p = raw.path.get_ref();
        if !(p.starts_with('/') || p.starts_with("{{path.") || p.starts_with("{{ path.")) {
            self.error(
                raw.path.span(),
                format!(
                    "path `{}` must start with `/` or a profile's base path like `{{{{path.api}}}}` (it is relative to the target's base URL)",
                    raw.path.get_ref()
                ),
            );
        }
        let path = self.template(&raw.path, captures);
        let mut headers = Vec::new();
        for (name, value) in &raw.headers {
            match HeaderName::try_from(name.get_ref().to_ascii_lowercase()) {
                Ok(h) => {
                    if let Some(t) = self.template(value, captures) {
                        headers.push((h, t));
                    }
                }
                Err(_) => self.error(
                    name.span(),
                    format!("`{}` is not a header name", name.get_ref()),
                ),
            }
        }
        let body = match (raw.json, raw.body) {
            (Some(_), Some(body)) => {
                self.error(body.span(), "a request has `json` or `body`, not both");
                None
            }
            (Some(json), None) => match toml_to_json(json.get_ref()) {
                Ok(value) => {
                    self.json_templates(&value, json.span(), captures);
                    // Every string was parsed just above, and a bad one reported.
                    JsonTemplate::parse(&value).ok().map(Body::Json)
                }
                Err(e) => {
                    self.error(json.span(), e);
                    None
                }
            },
            (None, Some(body)) => self.template(&body, captures).map(Body::Raw),
            (None, None) => None,
        };
        Some(Request {
            method: method?,
            path: path?,
            headers,
            body,
        })
    }

    fn json_templates(
        &mut self,
        value: &serde_json::Value,
        span: Range<usize>,
        captures: &BTreeSet<String>,
    ) {
        match value {
            serde_json::Value::String(s) => {
                let spanned = Spanned::new(span, s.clone());
                self.template(&spanned, captures);
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    self.json_templates(item, span.clone(), captures);
                }
            }
            serde_json::Value::Object(map) => {
                for item in map.values() {
                    self.json_templates(item, span.clone(), captures);
                }
            }
            _ => {}
        }
    }

    pub(super) fn template(
        &mut self,
        text: &Spanned<String>,
        captures: &BTreeSet<String>,
    ) -> Option<Template> {
        match Template::parse(text.get_ref()) {
            Ok(t) => {
                for var in t.vars() {
                    if let Var::Capture(name) = var
                        && !captures.contains(name)
                    {
                        self.error(
                            text.span(),
                            format!("`{var}` is not captured by an earlier step"),
                        );
                        return None;
                    }
                }
                Some(t)
            }
            Err(e) => {
                self.error(text.span(), e.to_string());
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_index_agrees_with_counting_newlines_at_every_offset() {
        let file = SourceFile {
            name: "t.toml".into(),
            text: "a = 1\n\nb = \"é\"\nc\n".into(),
        };
        let cx = Cx {
            file: &file,
            diagnostics: Vec::new(),
            line_starts: std::cell::OnceCell::new(),
        };
        for offset in 0..=file.text.len() + 2 {
            assert_eq!(
                cx.line(&(offset..offset)),
                line_column(&file.text, offset).0,
                "offset {offset}"
            );
        }
    }
}
