//! The filter and PATCH path parser: recursive descent over the input bytes, every error with
//! its byte position. This file holds the grammar (`or` over `and` over factors, value
//! filters, attribute paths); the cursor and the tokens (values, names, URIs) are `lex.rs`.

use super::lex::{Parser, validate_name, validate_uri};
use super::{AttrPath, CompareOp, Filter, FilterError, MAX_DEPTH, MAX_EXPRESSIONS, PatchPath};

/// Parses a filter (the `filter` query parameter or `/.search` member).
pub(crate) fn parse(input: &str) -> Result<Filter, FilterError> {
    let mut parser = Parser::new(input);
    parser.skip_spaces();
    let filter = parser.filter(0, false)?;
    parser.skip_spaces();
    if !parser.at_end() {
        return Err(parser.error(
            parser.pos,
            format!(
                "expected \"and\", \"or\" or end of input, found {}",
                parser.found(parser.pos)
            ),
        ));
    }
    Ok(filter)
}

/// Parses a PATCH operation `path`: `attrPath / valuePath [subAttr]`.
pub(crate) fn parse_path(input: &str) -> Result<PatchPath, FilterError> {
    let mut parser = Parser::new(input);
    let attr = parser.attr_path()?;
    let mut filter = None;
    let mut sub_attr = None;
    if parser.peek() == Some(b'[') {
        filter = Some(parser.enclosed(b']', 0, true)?);
        if parser.peek() == Some(b'.') {
            parser.pos += 1;
            let start = parser.pos;
            let token = parser.token(start);
            validate_name(token, start, true, &parser)?;
            parser.pos += token.len();
            sub_attr = Some(token.to_owned());
        }
    }
    if !parser.at_end() {
        return Err(parser.error(
            parser.pos,
            format!(
                "expected end of the path, found {}",
                parser.found(parser.pos)
            ),
        ));
    }
    Ok(PatchPath {
        attr,
        filter,
        sub_attr,
    })
}

impl Parser<'_> {
    /// `or`-level: and_term *(SP "or" SP and_term), grouping to the left.
    fn filter(&mut self, depth: usize, in_value: bool) -> Result<Filter, FilterError> {
        let mut left = self.and_term(depth, in_value)?;
        while self.logical_keyword("or")? {
            let right = self.and_term(depth, in_value)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `and`-level: factor *(SP "and" SP factor), grouping to the left.
    fn and_term(&mut self, depth: usize, in_value: bool) -> Result<Filter, FilterError> {
        let mut left = self.factor(depth, in_value)?;
        while self.logical_keyword("and")? {
            let right = self.factor(depth, in_value)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// Consumes spaces, `keyword` and the spaces after it if they come next;
    /// otherwise leaves the position alone so the caller can try something else.
    fn logical_keyword(&mut self, keyword: &str) -> Result<bool, FilterError> {
        let start = self.pos;
        if self.skip_spaces() == 0 || !self.token(self.pos).eq_ignore_ascii_case(keyword) {
            self.pos = start;
            return Ok(false);
        }
        self.pos += keyword.len();
        if self.skip_spaces() == 0 && self.peek() != Some(b'(') {
            let message = if self.at_end() {
                format!("expected an expression after \"{keyword}\", found end of input")
            } else {
                format!(
                    "expected a space after \"{keyword}\", found {}",
                    self.found(self.pos)
                )
            };
            return Err(self.error(self.pos, message));
        }
        Ok(true)
    }

    /// A parenthesised group, `not (...)`, an attribute expression or a value path.
    fn factor(&mut self, depth: usize, in_value: bool) -> Result<Filter, FilterError> {
        if self.peek() == Some(b'(') {
            return self.enclosed(b')', depth, in_value);
        }
        if self.at_not_keyword() {
            self.pos += 3;
            self.skip_spaces();
            let inner = self.enclosed(b')', depth, in_value)?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        self.attr_expression(depth, in_value)
    }

    /// Whether `not` followed by optional spaces and `(` comes next; without
    /// the `(` the word is an attribute named `not`.
    fn at_not_keyword(&self) -> bool {
        let bytes = self.src.as_bytes();
        let Some(word) = bytes.get(self.pos..self.pos + 3) else {
            return false;
        };
        if !word.eq_ignore_ascii_case(b"not") {
            return false;
        }
        let mut at = self.pos + 3;
        while bytes.get(at) == Some(&b' ') {
            at += 1;
        }
        bytes.get(at) == Some(&b'(')
    }

    /// `"(" filter ")"` or `"[" valFilter "]"`, the position being on the
    /// opening delimiter; `close` is the byte that must end it.
    fn enclosed(&mut self, close: u8, depth: usize, in_value: bool) -> Result<Filter, FilterError> {
        let open = self.pos;
        if depth >= MAX_DEPTH {
            return Err(self.error(
                open,
                format!("filter nests more than {MAX_DEPTH} levels deep"),
            ));
        }
        self.pos += 1;
        self.skip_spaces();
        let inner = self.filter(depth + 1, in_value)?;
        self.skip_spaces();
        if self.peek() != Some(close) {
            let (open_char, close_char) =
                (char::from(self.src.as_bytes()[open]), char::from(close));
            return Err(self.error(
                self.pos,
                format!(
                    "expected \"and\", \"or\" or \"{close_char}\" closing the \"{open_char}\" at position {open}, found {}",
                    self.found(self.pos)
                ),
            ));
        }
        self.pos += 1;
        Ok(inner)
    }

    fn attr_expression(&mut self, depth: usize, in_value: bool) -> Result<Filter, FilterError> {
        let start = self.pos;
        let path = self.attr_path()?;
        if self.peek() == Some(b'[') {
            if in_value {
                return Err(self.error(self.pos, "value filters cannot be nested".to_owned()));
            }
            let filter = self.enclosed(b']', depth, true)?;
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(filter),
            });
        }
        self.expressions += 1;
        if self.expressions > MAX_EXPRESSIONS {
            return Err(self.error(
                start,
                format!("filter has more than {MAX_EXPRESSIONS} attribute expressions"),
            ));
        }
        if self.skip_spaces() == 0 {
            return Err(self.error(
                self.pos,
                format!(
                    "expected a space and an operator after the attribute path, found {}",
                    self.found(self.pos)
                ),
            ));
        }
        let op_start = self.pos;
        let word = self.token(op_start);
        if word.eq_ignore_ascii_case("pr") {
            self.pos += word.len();
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(word) else {
            return Err(self.error(
                op_start,
                format!(
                    "expected a comparison operator, found {}",
                    self.found(op_start)
                ),
            ));
        };
        self.pos += word.len();
        if self.skip_spaces() == 0 {
            let message = if self.at_end() {
                format!("expected a value after \"{op}\", found end of input")
            } else {
                format!(
                    "expected a space after \"{op}\", found {}",
                    self.found(self.pos)
                )
            };
            return Err(self.error(self.pos, message));
        }
        let value = self.comp_value()?;
        Ok(Filter::Compare { path, op, value })
    }

    /// `[URI ":"] ATTRNAME ["." ATTRNAME]`, read as one token and split at its
    /// last colon: names hold no colon, while URIs hold colons and dots (`2.0`).
    fn attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let start = self.pos;
        let token = self.token(start);
        if token.is_empty() {
            return Err(self.error(
                start,
                format!("expected an attribute name, found {}", self.found(start)),
            ));
        }
        let (urn, rest, rest_start) = match token.rfind(':') {
            Some(colon) => (
                Some(&token[..colon]),
                &token[colon + 1..],
                start + colon + 1,
            ),
            None => (None, token, start),
        };
        if let Some(urn) = urn {
            validate_uri(urn, start, self)?;
        }
        let (name, sub_attr) = match rest.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        validate_name(name, rest_start, false, self)?;
        if let Some(sub) = sub_attr {
            validate_name(sub, rest_start + name.len() + 1, true, self)?;
        }
        self.pos = start + token.len();
        Ok(AttrPath {
            urn: urn.map(str::to_owned),
            name: name.to_owned(),
            sub_attr: sub_attr.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ENTERPRISE, case_rules, user};
    use super::super::{CompValue, matches};
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Number, json};

    fn cmp(path: AttrPath, op: CompareOp, value: CompValue) -> Filter {
        Filter::Compare { path, op, value }
    }

    fn s(text: &str) -> CompValue {
        CompValue::String(text.to_owned())
    }

    fn and(l: Filter, r: Filter) -> Filter {
        Filter::And(Box::new(l), Box::new(r))
    }

    fn or(l: Filter, r: Filter) -> Filter {
        Filter::Or(Box::new(l), Box::new(r))
    }

    /// Valid filters and their canonical text (RFC 7644 section 3.4.2.2
    /// examples first, then case, spacing, literal and grammar corners).
    const VALID: &[(&str, &str)] = &[
        (r#"userName eq "bjensen""#, r#"userName eq "bjensen""#),
        (
            r#"name.familyName co "O'Malley""#,
            r#"name.familyName co "O'Malley""#,
        ),
        (r#"userName sw "J""#, r#"userName sw "J""#),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        ),
        ("title pr", "title pr"),
        (
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        ),
        (
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        ),
        (
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        ),
        (
            r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        ),
        (
            r#"title pr and userType eq "Employee""#,
            r#"title pr and userType eq "Employee""#,
        ),
        (
            r#"title pr or userType eq "Intern""#,
            r#"title pr or userType eq "Intern""#,
        ),
        (
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        ),
        (
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        ),
        (
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        ),
        (
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            r#"userType eq "Employee" and emails.type eq "work""#,
        ),
        (
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        ),
        (
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        ),
        (r#"USERNAME EQ "x""#, r#"USERNAME eq "x""#),
        (
            r#"userName Eq "x" AND title PR"#,
            r#"userName eq "x" and title pr"#,
        ),
        ("NOT(title pr)", "not (title pr)"),
        ("a pr Or b pr", "a pr or b pr"),
        ("active eq true", "active eq true"),
        ("active ne false", "active ne false"),
        ("nickName eq null", "nickName eq null"),
        ("age gt 10", "age gt 10"),
        ("score le -1.5e3", "score le -1500.0"),
        ("score lt 0.25", "score lt 0.25"),
        (
            r#"displayName eq "a\"b\\c\u00e9\n\/""#,
            r#"displayName eq "a\"b\\cé\n/""#,
        ),
        (
            r#"displayName eq "\ud83d\ude00""#,
            "displayName eq \"\u{1F600}\"",
        ),
        (r#"userName eq "日本""#, r#"userName eq "日本""#),
        (r#"displayName ew "son""#, r#"displayName ew "son""#),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "2611""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "2611""#,
        ),
        ("  userName   eq   \"a\"   ", r#"userName eq "a""#),
        ("( ( title pr ) )", "title pr"),
        ("a pr or b pr and c pr", "a pr or b pr and c pr"),
        ("(a pr or b pr) and c pr", "(a pr or b pr) and c pr"),
        ("a pr and (b pr and c pr)", "a pr and (b pr and c pr)"),
        ("a pr or (b pr or c pr)", "a pr or (b pr or c pr)"),
        ("a pr and(b pr)", "a pr and b pr"),
        ("x-y_z1 pr", "x-y_z1 pr"),
        ("manager.$ref pr", "manager.$ref pr"),
        (
            r#"emails[not (type eq "work")]"#,
            r#"emails[not (type eq "work")]"#,
        ),
        (r#"emails[ type eq "work" ]"#, r#"emails[type eq "work"]"#),
        ("not eq \"x\"", "not eq \"x\""),
        ("and pr", "and pr"),
    ];

    #[test]
    fn valid_filters_print_canonically_and_round_trip() {
        assert!(VALID.len() >= 25);
        for (input, canonical) in VALID {
            let filter = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(filter.to_string(), *canonical, "canonical text of {input}");
            assert_eq!(
                parse(canonical).as_ref(),
                Ok(&filter),
                "re-parse of {canonical}"
            );
        }
    }

    #[test]
    fn exact_trees() {
        let cases: Vec<(&str, Filter)> = vec![
            (
                r#"userName eq "bjensen""#,
                cmp(AttrPath::new("userName"), CompareOp::Eq, s("bjensen")),
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
                cmp(
                    AttrPath {
                        urn: Some("urn:ietf:params:scim:schemas:core:2.0:User".to_owned()),
                        name: "userName".to_owned(),
                        sub_attr: None,
                    },
                    CompareOp::Sw,
                    s("J"),
                ),
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr"#,
                Filter::Present(AttrPath {
                    urn: Some(ENTERPRISE.to_owned()),
                    name: "manager".to_owned(),
                    sub_attr: Some("value".to_owned()),
                }),
            ),
            (
                "a pr or b pr and c pr",
                or(
                    Filter::Present(AttrPath::new("a")),
                    and(
                        Filter::Present(AttrPath::new("b")),
                        Filter::Present(AttrPath::new("c")),
                    ),
                ),
            ),
            (
                "a pr and b pr and c pr",
                and(
                    and(
                        Filter::Present(AttrPath::new("a")),
                        Filter::Present(AttrPath::new("b")),
                    ),
                    Filter::Present(AttrPath::new("c")),
                ),
            ),
            (
                r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
                and(
                    cmp(AttrPath::new("userType"), CompareOp::Eq, s("Employee")),
                    Filter::ValuePath {
                        path: AttrPath::new("emails"),
                        filter: Box::new(and(
                            cmp(AttrPath::new("type"), CompareOp::Eq, s("work")),
                            cmp(AttrPath::new("value"), CompareOp::Co, s("@example.com")),
                        )),
                    },
                ),
            ),
            (
                "not (name.familyName pr)",
                Filter::Not(Box::new(Filter::Present(AttrPath::with_sub(
                    "name",
                    "familyName",
                )))),
            ),
            (
                "age ge 10",
                cmp(
                    AttrPath::new("age"),
                    CompareOp::Ge,
                    CompValue::Number(10.into()),
                ),
            ),
            (
                "x eq null",
                cmp(AttrPath::new("x"), CompareOp::Eq, CompValue::Null),
            ),
            (
                "x eq false",
                cmp(AttrPath::new("x"), CompareOp::Eq, CompValue::Bool(false)),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input), Ok(expected), "{input}");
        }
    }

    /// Invalid filters and where the error points.
    const INVALID: &[(&str, usize)] = &[
        ("userName eq", 11),
        ("userName eq bjensen", 12),
        (r#"userName xx "a""#, 9),
        (r#"(userName eq "a""#, 16),
        (r#"userName eq "a")"#, 15),
        (r#"emails[type eq "work""#, 21),
        (r#"not userName eq "a""#, 4),
        (r#"userName eq "unterminated"#, 12),
        ("and", 3),
        ("", 0),
        ("   ", 3),
        ("userName  pr extra", 13),
        (r#"1abc eq "x""#, 0),
        ("userName eq 01", 12),
        ("userName eq 1.", 12),
        ("userName eq -", 12),
        ("userName eq 1e400", 12),
        ("userName eq tru", 12),
        ("userName eq True", 12),
        (r#"userName eq "a" and"#, 19),
        (r#"userName eq "a" and "#, 20),
        (r#"userName eq "a"x"#, 15),
        (r#"emails[type eq "work"][value pr]"#, 22),
        (r#"emails[type[value eq "x"]]"#, 11),
        (r#"emails[]"#, 7),
        (r#"userName eq "a\q""#, 14),
        (r#"userName eq "\ud800""#, 13),
        (r#"userName eq "\u12""#, 13),
        ("userName eq \"a\u{1}\"", 14),
        ("name..familyName pr", 5),
        ("name.familyName.x pr", 15),
        ("user$name pr", 4),
        (r#"foo:bar eq "x""#, 0),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User: eq "x""#, 43),
        ("ümlaut pr", 0),
        ("userName pr and not", 19),
        ("not (userName pr", 16),
        ("title prx", 6),
        ("title", 5),
        (r#"userName eq"x""#, 11),
        (r#"userName eq "é"#, 12),
        ("a pr andy b pr", 5),
    ];

    #[test]
    fn invalid_filters_report_positions() {
        assert!(INVALID.len() >= 20);
        for (input, position) in INVALID {
            match parse(input) {
                Ok(filter) => panic!("{input:?} parsed as {filter:?}"),
                Err(e) => assert_eq!(e.position, *position, "{input:?}: {e}"),
            }
        }
    }

    #[test]
    fn error_messages() {
        let e = parse("userName foo \"x\"").err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some(r#"at position 9: expected a comparison operator, found "foo""#.to_owned())
        );
        let e = parse("userName eq").err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some(r#"at position 11: expected a value after "eq", found end of input"#.to_owned())
        );
        let e = parse("(a pr").err();
        assert_eq!(
            e.map(|e| e.message),
            Some(
                r#"expected "and", "or" or ")" closing the "(" at position 0, found end of input"#
                    .to_owned()
            )
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}a pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = format!(
            "{}a pr{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(parse(&deep).map_err(|e| e.position), Err(MAX_DEPTH));
        let huge = "not (".repeat(100_000);
        assert_eq!(parse(&huge).map_err(|e| e.position), Err(5 * MAX_DEPTH + 4));
        assert!(parse(&"(".repeat(1_000_000)).is_err());
        assert!(parse_path(&format!("emails[{}", "(".repeat(100_000))).is_err());
    }

    #[test]
    fn long_chains_are_bounded() {
        let chain = vec!["a pr"; MAX_EXPRESSIONS].join(" and ");
        let filter = parse(&chain).unwrap();
        assert!(matches(&filter, &json!({"a": 1}), &|_: &AttrPath| false));
        assert_eq!(parse(&filter.to_string()).as_ref(), Ok(&filter));
        let too_long = vec!["a pr"; MAX_EXPRESSIONS + 1].join(" or ");
        let start_of_last = too_long.len() - "a pr".len();
        assert_eq!(parse(&too_long).map_err(|e| e.position), Err(start_of_last));
    }

    #[test]
    fn patch_paths() {
        let path = parse_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(path.attr, AttrPath::new("emails"));
        assert_eq!(
            path.filter,
            Some(cmp(AttrPath::new("type"), CompareOp::Eq, s("work")))
        );
        assert_eq!(path.sub_attr.as_deref(), Some("value"));
        assert_eq!(path.to_string(), r#"emails[type eq "work"].value"#);

        let path = parse_path(r#"members[value eq "x"]"#).unwrap();
        assert_eq!(path.attr, AttrPath::new("members"));
        assert_eq!(path.sub_attr, None);

        let path = parse_path("name.familyName").unwrap();
        assert_eq!(path.attr, AttrPath::with_sub("name", "familyName"));
        assert_eq!(path.filter, None);

        let path = parse_path(&format!("{ENTERPRISE}:manager.value")).unwrap();
        assert_eq!(path.attr.urn.as_deref(), Some(ENTERPRISE));
        assert_eq!(path.attr.name, "manager");
        assert_eq!(path.attr.sub_attr.as_deref(), Some("value"));

        let path =
            parse_path(r#"addresses[type eq "work" and primary eq true].streetAddress"#).unwrap();
        assert_eq!(
            path.to_string(),
            r#"addresses[type eq "work" and primary eq true].streetAddress"#
        );

        let invalid: &[(&str, usize)] = &[
            ("", 0),
            (" userName", 0),
            ("userName ", 8),
            (r#"emails[type eq "work"]."#, 23),
            (r#"emails[type eq "work"].1x"#, 23),
            (r#"emails[type eq "work"]x"#, 22),
            (r#"emails[type eq "work""#, 21),
            (r#"emails[type[value pr]]"#, 11),
            ("userName eq \"x\"", 8),
            ("a.b.c", 3),
        ];
        for (input, position) in invalid {
            assert_eq!(
                parse_path(input).map_err(|e| e.position),
                Err(*position),
                "{input:?}"
            );
        }
    }

    fn arb_name() -> impl Strategy<Value = String> {
        "[a-zA-Z][a-zA-Z0-9_-]{0,6}"
    }

    fn arb_path() -> impl Strategy<Value = AttrPath> {
        let urn = prop_oneof![
            Just(None),
            Just(Some(
                "urn:ietf:params:scim:schemas:core:2.0:User".to_owned()
            )),
            Just(Some(ENTERPRISE.to_owned())),
            "[a-z][a-z0-9+.-]{0,4}:[a-zA-Z0-9:._~/?#@!$&'*+,;=%-]{0,12}".prop_map(Some),
        ];
        let sub = prop_oneof![
            Just(None),
            Just(Some("$ref".to_owned())),
            arb_name().prop_map(Some)
        ];
        (urn, arb_name(), sub).prop_map(|(urn, name, sub_attr)| AttrPath {
            urn,
            name,
            sub_attr,
        })
    }

    fn arb_value() -> impl Strategy<Value = CompValue> {
        prop_oneof![
            Just(CompValue::Null),
            any::<bool>().prop_map(CompValue::Bool),
            any::<i64>().prop_map(|n| CompValue::Number(n.into())),
            any::<u64>().prop_map(|n| CompValue::Number(n.into())),
            any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(CompValue::Number)),
            any::<String>().prop_map(CompValue::String),
        ]
    }

    fn arb_leaf() -> impl Strategy<Value = Filter> {
        prop_oneof![
            (
                arb_path(),
                proptest::sample::select(CompareOp::ALL.to_vec()),
                arb_value()
            )
                .prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
            arb_path().prop_map(Filter::Present),
        ]
    }

    fn with_logic(leaf: BoxedStrategy<Filter>) -> BoxedStrategy<Filter> {
        leaf.prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(l, r)| and(l, r)),
                (inner.clone(), inner.clone()).prop_map(|(l, r)| or(l, r)),
                inner.prop_map(|f| Filter::Not(Box::new(f))),
            ]
        })
        .boxed()
    }

    fn arb_filter() -> BoxedStrategy<Filter> {
        // Value filters never nest, so brackets hold only plain filters.
        let value_filter = with_logic(arb_leaf().boxed());
        let value_path =
            (arb_path(), value_filter.clone()).prop_map(|(path, filter)| Filter::ValuePath {
                path,
                filter: Box::new(filter),
            });
        with_logic(prop_oneof![arb_leaf(), value_path].boxed())
    }

    proptest! {
        #[test]
        fn printed_filters_parse_back(filter in arb_filter()) {
            let text = filter.to_string();
            prop_assert_eq!(parse(&text), Ok(filter), "{}", text);
        }

        #[test]
        fn printed_paths_parse_back(
            attr in arb_path(),
            filter in proptest::option::of(with_logic(arb_leaf().boxed())),
            sub in proptest::option::of(arb_name()),
        ) {
            let path = PatchPath { attr, sub_attr: filter.as_ref().and(sub), filter };
            let text = path.to_string();
            prop_assert_eq!(parse_path(&text), Ok(path), "{}", text);
        }

        #[test]
        fn random_input_never_panics(input in any::<String>()) {
            check_no_panic(&input)?;
        }

        #[test]
        fn filter_like_input_never_panics(input in r#"[a-zA-Z0-9 ()\[\]".:$\\-]{0,40}"#) {
            check_no_panic(&input)?;
        }

        #[test]
        fn mutated_filters_never_panic(
            index in 0..VALID.len(),
            at in any::<proptest::sample::Index>(),
            insert in proptest::option::of(any::<char>()),
        ) {
            let original = VALID[index].0;
            let boundaries: Vec<usize> = original
                .char_indices()
                .map(|(i, _)| i)
                .chain([original.len()])
                .collect();
            let cut = boundaries[at.index(boundaries.len())];
            let mut mutated = original.to_owned();
            match insert {
                Some(c) => mutated.insert(cut, c),
                None => {
                    if cut < original.len() {
                        mutated.remove(cut);
                    }
                }
            }
            check_no_panic(&mutated)?;
        }
    }

    fn check_no_panic(input: &str) -> Result<(), TestCaseError> {
        for result in [parse(input).map(|_| ()), parse_path(input).map(|_| ())] {
            if let Err(e) = result {
                prop_assert!(e.position <= input.len(), "{:?}: {}", input, e);
                prop_assert!(input.is_char_boundary(e.position), "{:?}: {}", input, e);
            }
        }
        if let Ok(filter) = parse(input) {
            prop_assert_eq!(parse(&filter.to_string()), Ok(filter.clone()));
            let _ = matches(&filter, &user(), &case_rules);
        }
        Ok(())
    }
}
