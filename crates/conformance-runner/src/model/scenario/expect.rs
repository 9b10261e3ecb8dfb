//! Validation of a scenario's `[scenario.expect]`: header matchers, body
//! values and regular expressions at JSON Pointers.

use std::collections::BTreeSet;

use http::HeaderName;
use regex::Regex;
use toml::Spanned;

use crate::model::scenario::raw::*;
use crate::model::scenario::validate::Cx;
use crate::model::scenario::*;

impl Cx<'_> {
    pub(super) fn expect(&mut self, raw: RawExpect, captures: &BTreeSet<String>) -> Expectations {
        let mut out = Expectations::default();
        for (name, matcher) in raw.headers {
            let Ok(header) = HeaderName::try_from(name.get_ref().to_ascii_lowercase()) else {
                self.error(
                    name.span(),
                    format!("`{}` is not a header name", name.get_ref()),
                );
                continue;
            };
            let span = matcher.span();
            let m = match matcher.into_inner() {
                RawHeaderMatch::Equals(v) => {
                    match self.template(&Spanned::new(span, v), captures) {
                        Some(t) => HeaderMatch::Equals(t),
                        None => continue,
                    }
                }
                RawHeaderMatch::Contains(v) => {
                    match self.template(&Spanned::new(span.clone(), v), captures) {
                        Some(t) => HeaderMatch::Contains(t),
                        None => continue,
                    }
                }
                RawHeaderMatch::Excludes(v) => {
                    match self.template(&Spanned::new(span.clone(), v), captures) {
                        Some(t) => HeaderMatch::Excludes(t),
                        None => continue,
                    }
                }
                RawHeaderMatch::Matches(v) => match Regex::new(&v) {
                    Ok(r) => HeaderMatch::Matches(MatchRegex(r)),
                    Err(e) => {
                        self.error(
                            span,
                            format!("`{v}` is not a regular expression: {}", regex_error(&e)),
                        );
                        continue;
                    }
                },
                RawHeaderMatch::Present => HeaderMatch::Present,
                RawHeaderMatch::Absent => HeaderMatch::Absent,
            };
            out.headers.push((header, m));
        }
        for (pointer, value) in raw.body {
            if !self.pointer(&pointer) {
                continue;
            }
            match toml_to_json(value.get_ref()) {
                Ok(v) => out
                    .body
                    .push((pointer.into_inner(), JsonTemplate::parse_lenient(&v))),
                Err(e) => self.error(value.span(), e),
            }
        }
        for (pointer, regex) in raw.body_matches {
            if !self.pointer(&pointer) {
                continue;
            }
            match Regex::new(regex.get_ref()) {
                Ok(r) => out.body_matches.push((pointer.into_inner(), MatchRegex(r))),
                Err(e) => self.error(
                    regex.span(),
                    format!(
                        "`{}` is not a regular expression: {}",
                        regex.get_ref(),
                        regex_error(&e)
                    ),
                ),
            }
        }
        out
    }

    pub(super) fn pointer(&mut self, pointer: &Spanned<String>) -> bool {
        let ok = is_json_pointer(pointer.get_ref());
        if !ok {
            self.error(
                pointer.span(),
                format!(
                    "`{}` is not a JSON Pointer (RFC 6901: empty, or `/` then segments, `~` escaped as `~0` or `~1`)",
                    pointer.get_ref()
                ),
            );
        }
        ok
    }
}

/// The last line of a regex error (its first lines draw the pattern and a caret).
fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .last()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned()
}
