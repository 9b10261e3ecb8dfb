//! Waivers: known failures with a reason, an owner and an expiry date.
//!
//! A waivers file (`--waivers FILE`, TOML, schema
//! `schemas/waivers.schema.json`) holds `[[waiver]]` tables. Each matches
//! findings by `scenario` (an id or a `prefix*`), `code` and/or `rule` (all
//! given must match), and says why (`reason`), who owns it (`owner`) and
//! until when (`expires`, a TOML date; the waiver holds through that day).
//! Every error is `file:line:column: message`.
//!
//! [`Waivers::apply`] turns a failed scenario whose every finding is covered
//! by a live waiver into [`Outcome::Waived`] (the run does not fail for it,
//! and coverage does not count it as passing). An expired waiver fails the
//! run and names its owner; a live one that matched nothing is stale and
//! reported, so it is removed. [`baseline`] writes a waiver for every current
//! failure (`--write-baseline FILE --owner NAME --expires DATE`).

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use catalog::Code;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use crate::check::{Finding, RULE_BODY, RULE_HEADER, RULE_REQUEST_ID, RULE_SETUP, RULE_TRANSPORT};
use crate::model::scenario::{Diagnostic, SourceFile, line_column};
use crate::report::derived::{CodeName, published};
use crate::report::gating::{WaiverNote, WaiverState, WaiverStatus};
use crate::report::{Outcome, Report, ScenarioReport};

/// A calendar date (proleptic Gregorian), `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(time::Date);

impl Date {
    /// Today, in UTC.
    pub fn today() -> Date {
        Date(time::OffsetDateTime::now_utc().date())
    }

    /// The date `days` after 1970-01-01.
    #[cfg(test)]
    fn from_days(days: i32) -> Date {
        // 2 440 588 is the Julian day number of 1970-01-01.
        Date(time::Date::from_julian_day(2_440_588 + days).expect("in range"))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.0.to_calendar_date();
        write!(f, "{year:04}-{:02}-{day:02}", u8::from(month))
    }
}

impl std::str::FromStr for Date {
    type Err = String;

    fn from_str(s: &str) -> Result<Date, String> {
        let bad = || format!("`{s}` is not a date like 2026-12-31");
        let mut parts = s.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        let day: u8 = d.parse().map_err(|_| bad())?;
        let month = time::Month::try_from(month).map_err(|_| bad())?;
        time::Date::from_calendar_date(year, month, day)
            .map(Date)
            .map_err(|_| bad())
    }
}

/// One waiver as loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiver {
    /// Line of its `[[waiver]]` header.
    pub line: usize,
    /// A scenario id, or a prefix ending in `*`.
    pub scenario: Option<String>,
    /// A catalog code.
    pub code: Option<Code>,
    /// A finding rule.
    pub rule: Option<String>,
    /// Why the failure is accepted for now.
    pub reason: String,
    /// Who answers for it: a name or a team.
    pub owner: String,
    /// The last day it holds.
    pub expires: Date,
}

impl Waiver {
    /// Whether this waiver covers `finding` of `scenario`.
    pub fn matches(&self, scenario: &ScenarioReport, finding: &Finding) -> bool {
        let scenario_ok = self
            .scenario
            .as_deref()
            .is_none_or(|p| match p.strip_suffix('*') {
                Some(prefix) => scenario.id.starts_with(prefix),
                None => scenario.id == p,
            });
        scenario_ok
            && self.code.is_none_or(|c| c.name() == scenario.code)
            && self.rule.as_deref().is_none_or(|r| r == finding.rule)
    }

    /// What it matches, for people: `scenario \`x\`, rule \`y\``.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = &self.scenario {
            parts.push(format!("scenario `{s}`"));
        }
        if let Some(c) = self.code {
            parts.push(format!("code `{}`", c.name()));
        }
        if let Some(r) = &self.rule {
            parts.push(format!("rule `{r}`"));
        }
        parts.join(", ")
    }
}

/// A waivers file.
#[derive(Clone, Debug, Default)]
pub struct Waivers {
    /// The file, as named on the command line.
    pub file: String,
    /// Its waivers, in file order.
    pub waivers: Vec<Waiver>,
}

/// Why a waivers file could not be loaded (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum WaiverError {
    /// The file could not be read.
    #[error("failed to read waivers {path}: {source}")]
    Io {
        /// The waivers file, as given to `--waivers`.
        path: String,
        /// The operating system's error (missing, permission denied, ...).
        source: std::io::Error,
    },
    /// The file is invalid.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
    /// `--expires` of `--write-baseline` is in the past.
    #[error(
        "--expires {expires} is in the past (today is {today}): a baseline must hold for a while"
    )]
    PastExpiry {
        /// The date given.
        expires: Date,
        /// Today, UTC.
        today: Date,
    },
    /// `--owner` is blank.
    #[error("--owner cannot be empty: name the person or team who answers for the waivers")]
    EmptyOwner,
}

// The file as parsed, and the source of `schemas/waivers.schema.json`.
// Every member is optional here so that `Waivers::parse` reports each
// missing one at its line; the `schemars` attributes say what a valid file
// holds. `Spanned` has no schema, so each member names its own.

/// `--waivers FILE`: known failures, each with a reason, an owner and an
/// expiry date. A failure every finding of which a live waiver covers is
/// reported as waived and does not fail the run; an expired waiver fails
/// the run; one that matches no failure is reported as stale.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawFile {
    /// The waivers, as `[[waiver]]` tables.
    #[serde(default)]
    #[schemars(with = "Vec<RawWaiver>")]
    waiver: Vec<Spanned<RawWaiver>>,
}

/// One known failure: it matches findings of failed scenarios by
/// `scenario`, `code` and `rule` (at least one; every one given must match).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    rename = "waiver",
    extend("anyOf" = [
        { "required": ["scenario"] },
        { "required": ["code"] },
        { "required": ["rule"] },
    ])
)]
struct RawWaiver {
    /// A scenario id, or a prefix ending in `*` (`not-found/*`).
    #[schemars(with = "Option<String>", regex(pattern = r"^[a-z0-9_/-]+\*?$"))]
    scenario: Option<Spanned<String>>,
    /// The catalog code of the failed scenario.
    #[schemars(with = "Option<CodeName>")]
    code: Option<Spanned<String>>,
    /// The rule of the finding (a finding's `rule` in the JSON report).
    #[schemars(with = "Option<RuleName>")]
    rule: Option<Spanned<String>>,
    /// Why the failure is accepted for now.
    #[schemars(with = "String", regex(pattern = r"\S"))]
    reason: Option<Spanned<String>>,
    /// The person or team who answers for the failure, named when the
    /// waiver expires.
    #[schemars(with = "String", regex(pattern = r"\S"))]
    owner: Option<Spanned<String>>,
    /// The last day the waiver holds: a TOML local date, unquoted, like
    /// 2026-12-31 (validated as its JSON form, a `YYYY-MM-DD` string).
    #[schemars(with = "String", extend("format" = "date"))]
    expires: Option<Spanned<toml::Value>>,
}

/// The schema of a waivers file (`schemas/waivers.schema.json`), derived
/// from the types it is parsed into.
pub(crate) fn schema() -> Value {
    published::<RawFile>("waivers.schema.json", "Conformance waivers file")
}

/// A member holding a finding rule a waiver can name: its schema
/// (`$defs/rule`) lists [`known_rules`].
pub(crate) struct RuleName;

impl JsonSchema for RuleName {
    fn schema_name() -> Cow<'static, str> {
        "rule".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "enum": known_rules(),
            "description": "A finding rule: one of the error-body contract (status, code, media-type, ...) or of the runner (header, body, setup, transport, request-id)."
        })
    }
}

/// The finding rules a waiver can name.
pub fn known_rules() -> Vec<String> {
    let mut rules: Vec<String> = [
        "status",
        "status-code-mismatch",
        "media-type",
        "not-json",
        "duplicate-member",
        "code",
        "undocumented-code",
        "status-member",
        "type-link",
        "scim-type",
        "schema",
        "www-authenticate",
        "retry-after",
    ]
    .iter()
    // Each name is held against response_schema::Rule by a test below.
    .map(|r| (*r).to_owned())
    .collect();
    rules.extend(
        [
            RULE_HEADER,
            RULE_BODY,
            RULE_SETUP,
            RULE_TRANSPORT,
            RULE_REQUEST_ID,
        ]
        .map(str::to_owned),
    );
    rules
}

impl Waivers {
    /// Reads and parses a waivers file.
    pub fn load(path: &std::path::Path) -> Result<Waivers, WaiverError> {
        let file = SourceFile::read(path).map_err(|source| WaiverError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Waivers::parse(&file)
    }

    /// Parses a waivers file; every problem is reported at once.
    pub fn parse(file: &SourceFile) -> Result<Waivers, WaiverError> {
        let raw: RawFile = file
            .parse_toml()
            .map_err(|d| WaiverError::Invalid(vec![d]))?;
        let mut errors = Vec::new();
        let mut error = |span: std::ops::Range<usize>, message: String| {
            errors.push(file.diagnostic(span.start, message));
        };
        let rules = known_rules();
        let mut waivers = Vec::new();
        for w in raw.waiver {
            let span = w.span();
            let line = line_column(&file.text, span.start).0;
            let w = w.into_inner();
            if w.scenario.is_none() && w.code.is_none() && w.rule.is_none() {
                error(
                    span.clone(),
                    "a waiver needs at least one of `scenario`, `code` or `rule`".into(),
                );
            }
            let code = w.code.and_then(|c| match Code::from_name(c.get_ref()) {
                Ok(code) => Some(code),
                Err(_) => {
                    error(
                        c.span(),
                        format!("`{}` is not a documented error code", c.get_ref()),
                    );
                    None
                }
            });
            if let Some(r) = &w.rule
                && !rules.contains(r.get_ref())
            {
                error(
                    r.span(),
                    format!(
                        "`{}` is not a finding rule (one of {})",
                        r.get_ref(),
                        rules.join(", ")
                    ),
                );
            }
            if let Some(s) = &w.scenario
                && s.get_ref().trim_end_matches('*').is_empty()
            {
                error(s.span(), "a scenario pattern cannot be empty".into());
            }
            let mut text = |field: Option<Spanned<String>>, name: &str, what: &str| match field {
                Some(v) if !v.get_ref().trim().is_empty() => v.into_inner(),
                Some(v) => {
                    error(v.span(), format!("`{name}` cannot be empty: {what}"));
                    String::new()
                }
                None => {
                    error(span.clone(), format!("a waiver needs `{name}`: {what}"));
                    String::new()
                }
            };
            let reason = text(w.reason, "reason", "why the failure is accepted for now");
            let owner = text(w.owner, "owner", "the person or team who answers for it");
            let expires = match w.expires {
                None => {
                    error(
                        span.clone(),
                        "a waiver needs `expires`: the last day it holds, like 2026-12-31".into(),
                    );
                    None
                }
                Some(v) => {
                    let date = match v.get_ref() {
                        toml::Value::Datetime(d)
                            if d.date.is_some() && d.time.is_none() && d.offset.is_none() =>
                        {
                            d.to_string().parse::<Date>().ok()
                        }
                        _ => None,
                    };
                    if date.is_none() {
                        error(
                            v.span(),
                            format!(
                                "`expires` is a TOML date like 2026-12-31 (unquoted), not {}",
                                v.get_ref()
                            ),
                        );
                    }
                    date
                }
            };
            if let Some(expires) = expires {
                waivers.push(Waiver {
                    line,
                    scenario: w.scenario.map(Spanned::into_inner),
                    code,
                    rule: w.rule.map(Spanned::into_inner),
                    reason,
                    owner,
                    expires,
                });
            }
        }
        if errors.is_empty() {
            Ok(Waivers {
                file: file.name.clone(),
                waivers,
            })
        } else {
            Err(WaiverError::Invalid(errors))
        }
    }

    /// Applies the waivers to a report as of `today` and recounts its verdict.
    pub fn apply(&self, report: &mut Report, today: Date) {
        let mut matched: Vec<Vec<String>> = vec![Vec::new(); self.waivers.len()];
        let live = |w: &Waiver| today <= w.expires;
        for s in &mut report.scenarios {
            if s.outcome != Outcome::Failed || s.findings.is_empty() {
                continue;
            }
            let mut covering = None;
            let mut all_covered = true;
            for f in &s.findings {
                let mut covered = false;
                for (i, w) in self.waivers.iter().enumerate() {
                    if !w.matches(s, f) {
                        continue;
                    }
                    if !matched[i].contains(&s.id) {
                        matched[i].push(s.id.clone());
                    }
                    if live(w) && !covered {
                        covered = true;
                        covering.get_or_insert(i);
                    }
                }
                all_covered &= covered;
            }
            if let (true, Some(i)) = (all_covered, covering) {
                let w = &self.waivers[i];
                s.outcome = Outcome::Waived;
                s.waiver = Some(WaiverNote {
                    file: self.file.clone(),
                    line: w.line,
                    reason: w.reason.clone(),
                    owner: w.owner.clone(),
                    expires: w.expires.to_string(),
                });
            }
        }
        report.waivers = self
            .waivers
            .iter()
            .zip(matched)
            .map(|(w, matched)| WaiverStatus {
                file: self.file.clone(),
                line: w.line,
                matches: w.describe(),
                reason: w.reason.clone(),
                owner: w.owner.clone(),
                expires: w.expires.to_string(),
                state: if !live(w) {
                    WaiverState::Expired
                } else if matched.is_empty() {
                    WaiverState::Stale
                } else {
                    WaiverState::Live
                },
                matched,
            })
            .collect();
        report.recount();
    }
}

/// A waivers file covering every failing finding rule of every failed
/// scenario of `report`, one `[[waiver]]` per (scenario, rule).
pub fn baseline(report: &Report, owner: &str, expires: Date) -> String {
    let quote = |s: &str| Value::String(s.to_owned()).to_string();
    let mut out = format!(
        "# Waivers written by `conformance-runner --write-baseline` from run {} against {}.\n\
         # Each covers one failing rule of one scenario; remove it once the target is fixed.\n",
        report.run_id, report.target
    );
    for s in report
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Failed)
    {
        let mut rules: Vec<&str> = Vec::new();
        for f in &s.findings {
            if !rules.contains(&f.rule.as_str()) {
                rules.push(&f.rule);
            }
        }
        for rule in rules {
            let first = s.findings.iter().find(|f| f.rule == rule);
            let reason = first.map_or_else(String::new, |f| format!("baseline: {f}"));
            let _ = write!(
                out,
                "\n[[waiver]]\nscenario = {}\nrule = {}\nreason = {}\nowner = {}\nexpires = {expires}\n",
                quote(&s.id),
                quote(rule),
                quote(&reason),
                quote(owner),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_print_and_count_from_the_epoch() {
        assert_eq!(Date::from_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_days(19_782).to_string(), "2024-02-29");
        assert_eq!(Date::from_days(-1).to_string(), "1969-12-31");
        assert_eq!(
            "2024-02-29".parse::<Date>().unwrap().to_string(),
            "2024-02-29"
        );
        assert!("2023-02-29".parse::<Date>().is_err());
        assert!("2023-13-01".parse::<Date>().is_err());
        assert!("2023-1-01".parse::<Date>().is_err());
        assert!("2026-12-31".parse::<Date>().unwrap() > "2026-01-31".parse::<Date>().unwrap());
    }

    #[test]
    fn known_rules_are_the_checkers_rules() {
        use response_schema::Rule;
        // Every rule of the checker, so a waiver can name each. A new `Rule`
        // variant stops the match from compiling until it is listed here.
        let listed = |rule: Rule| match rule {
            Rule::Status
            | Rule::StatusCodeMismatch
            | Rule::MediaType
            | Rule::NotJson
            | Rule::DuplicateMember
            | Rule::Code
            | Rule::UndocumentedCode
            | Rule::StatusMember
            | Rule::TypeLink
            | Rule::ScimType
            | Rule::Schema
            | Rule::WwwAuthenticate
            | Rule::RetryAfter => rule.as_str(),
        };
        let checker = [
            Rule::Status,
            Rule::StatusCodeMismatch,
            Rule::MediaType,
            Rule::NotJson,
            Rule::DuplicateMember,
            Rule::Code,
            Rule::UndocumentedCode,
            Rule::StatusMember,
            Rule::TypeLink,
            Rule::ScimType,
            Rule::Schema,
            Rule::WwwAuthenticate,
            Rule::RetryAfter,
        ]
        .map(listed);
        assert_eq!(known_rules()[..checker.len()], checker);
    }
}
