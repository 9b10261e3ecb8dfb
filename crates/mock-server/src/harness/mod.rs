//! The mock's tools for client teams: any declared error on request (`Prefer: error=CODE`,
//! [`prefer`]), fault rules ([`faults`]) and the request journal ([`journal`]), with what each
//! operation declares read from the OpenAPI document ([`operations`]).
//!
//! [`Harness`] is part of the state. The request-context layer asks [`Harness::armed`] (one
//! atomic load) and looks for a `Prefer` field on every request; only when either is there
//! does it take the slower path in `crate::intercept`. With no rule, no journal and no
//! `Prefer`, a request costs what it cost before.

pub(crate) mod faults;
pub(crate) mod journal;
pub(crate) mod operations;
pub(crate) mod prefer;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use response_schema::FieldError;
use serde_json::Value;

pub(crate) use self::faults::Disconnect;
use self::faults::{Faults, Rule};
use self::journal::Journal;

/// Fault rules and the journal.
#[derive(Debug, Default)]
pub(crate) struct Harness {
    faults: Faults,
    journal: Journal,
    /// Rules exist or the journal is on: requests take the slower path.
    armed: AtomicBool,
    /// The rules the mock started with (`--faults`), restored by a reset.
    initial: Vec<Value>,
}

impl Harness {
    /// A harness with `initial` rules (already checked by [`FaultRules`]) and a journal of
    /// `journal` entries.
    pub(crate) fn new(initial: &FaultRules, journal: usize) -> Harness {
        let harness = Harness {
            journal: Journal::new(journal),
            initial: initial.0.clone(),
            ..Harness::default()
        };
        harness.reset();
        harness
    }

    /// Whether a request must take the slower path even without a `Prefer` field.
    #[inline]
    pub(crate) fn armed(&self) -> bool {
        self.armed.load(Ordering::Relaxed)
    }

    pub(crate) fn faults(&self) -> &Faults {
        &self.faults
    }

    pub(crate) fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Adds a rule (see [`Faults::add`]).
    pub(crate) fn add_rule(&self, spec: &Value) -> Result<Arc<Rule>, Vec<FieldError>> {
        let added = self.faults.add(spec);
        self.rearm();
        added
    }

    /// Removes a rule; false when there is none.
    pub(crate) fn remove_rule(&self, id: &str) -> bool {
        let removed = self.faults.remove(id);
        self.rearm();
        removed
    }

    pub(crate) fn clear_rules(&self) {
        self.faults.clear();
        self.rearm();
    }

    /// Back to the start: the `--faults` rules (counters at zero) and an empty journal.
    pub(crate) fn reset(&self) {
        self.faults.clear();
        for spec in &self.initial {
            // Checked when the config was built.
            let _ = self.faults.add(spec);
        }
        self.journal.clear();
        self.rearm();
    }

    fn rearm(&self) {
        let armed = self.faults.len() > 0 || self.journal.enabled();
        self.armed.store(armed, Ordering::Relaxed);
    }
}

/// Fault rules checked before the mock starts (`--faults FILE`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultRules(Vec<Value>);

/// Why a `--faults` file was refused: the file, the line of the offending rule's
/// `[[rule]]`, a JSON Pointer into the file's data and what is wrong there.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {pointer}: {message}")]
pub struct FaultsError {
    /// The file name as given.
    pub file: String,
    /// 1-based line (of the rule's `[[rule]]` header, or of a TOML syntax error).
    pub line: usize,
    /// Where in the data (`/rule/1/error`).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl FaultRules {
    /// No rules.
    pub fn none() -> FaultRules {
        FaultRules::default()
    }

    /// Parses and checks a TOML file of `[[rule]]` tables (`file` names it in errors).
    pub fn parse_toml(text: &str, file: &str) -> Result<FaultRules, FaultsError> {
        let fail = |line: usize, pointer: String, message: String| FaultsError {
            file: file.to_owned(),
            line,
            pointer,
            message,
        };
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map_or(1, |span| text[..span.start].matches('\n').count() + 1);
            fail(line, String::new(), e.message().to_owned())
        })?;
        let headers: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim() == "[[rule]]")
            .map(|(i, _)| i + 1)
            .collect();
        if let Some(key) = table.keys().find(|k| *k != "rule") {
            return Err(fail(
                1,
                format!("/{key}"),
                "is not allowed; only [[rule]] tables are".to_owned(),
            ));
        }
        let rules: Vec<Value> = match table.get("rule") {
            None => Vec::new(),
            Some(toml::Value::Array(rules)) => rules
                .iter()
                .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
                .collect(),
            Some(_) => {
                return Err(fail(
                    1,
                    "/rule".to_owned(),
                    "must be [[rule]] tables".to_owned(),
                ));
            }
        };
        // Checked as `POST /admin/faults` checks them, into a scratch set (ids unique, cap).
        let scratch = Faults::default();
        for (i, rule) in rules.iter().enumerate() {
            if let Err(errors) = scratch.add(rule) {
                let first = &errors[0];
                let pointer = first.pointer.clone().unwrap_or_default();
                return Err(fail(
                    headers.get(i).copied().unwrap_or(1),
                    format!("/rule/{i}{pointer}"),
                    first.detail.clone(),
                ));
            }
        }
        Ok(FaultRules(rules))
    }

    /// How many rules.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_faults_file_is_read_and_checked_with_file_line_and_pointer() {
        let good = "# slow users\n[[rule]]\nroute = \"/v1/workspaces/{workspace}/users\"\nlatency_ms = 50\n\n[[rule]]\nerror = \"RateLimited\"\nevery = 3\n";
        assert_eq!(FaultRules::parse_toml(good, "f.toml").unwrap().len(), 2);
        let bad = "[[rule]]\nlatency_ms = 5\n\n[[rule]]\nerror = \"Nope\"\n";
        assert_eq!(
            FaultRules::parse_toml(bad, "f.toml")
                .unwrap_err()
                .to_string(),
            "f.toml:4: /rule/1/error: `Nope` is not a documented error code"
        );
        let unknown = "[[rule]]\nlatency_ms = 5\ncolour = 1\n";
        assert_eq!(
            FaultRules::parse_toml(unknown, "f.toml")
                .unwrap_err()
                .to_string(),
            "f.toml:1: /rule/0/colour: is not allowed"
        );
        let syntax = "[[rule]]\nlatency_ms = \n";
        let e = FaultRules::parse_toml(syntax, "f.toml").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("f.toml", 2), "{e}");
        let other = "[rules]\n";
        assert_eq!(
            FaultRules::parse_toml(other, "f.toml")
                .unwrap_err()
                .to_string(),
            "f.toml:1: /rules: is not allowed; only [[rule]] tables are"
        );
    }

    #[test]
    fn reset_restores_the_initial_rules_and_arms_only_when_needed() {
        let initial = FaultRules::parse_toml("[[rule]]\nlatency_ms = 1\n", "f").unwrap();
        let harness = Harness::new(&initial, 0);
        assert!(harness.armed());
        harness.clear_rules();
        assert!(!harness.armed());
        harness
            .add_rule(&serde_json::json!({ "latency_ms": 2 }))
            .unwrap();
        harness.reset();
        assert_eq!(harness.faults().len(), 1);
        assert!(!Harness::new(&FaultRules::none(), 0).armed());
        assert!(Harness::new(&FaultRules::none(), 5).armed());
    }
}
