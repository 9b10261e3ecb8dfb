//! What each operation of `schemas/openapi.json` declares, read from the document once: the
//! codes of its `x-error-codes`, the step-up purpose of its `x-step-up-purpose`, and a
//! plausible `errors` item for an injected ValidationError (its body's first required member,
//! else its first query parameter).
//!
//! The document is the one source of truth for what an operation may answer, so an operation
//! added to it (and to the route table) can be injected into without a change here.

use std::collections::HashMap;
use std::sync::OnceLock;

use catalog::Code;
use response_schema::FieldError;
use serde_json::Value;

use crate::model::Purpose;
use crate::openapi;

/// What one operation declares.
#[derive(Clone, Debug, Default)]
pub(crate) struct Declared {
    /// Bit `code as usize` set for each code of `x-error-codes`.
    codes: u64,
    /// `x-step-up-purpose`: the purpose its STEP_UP_REQUIRED names.
    pub(crate) purpose: Option<Purpose>,
    /// The `errors` item of an injected ValidationError.
    pub(crate) field: Option<FieldError>,
}

impl Declared {
    /// Whether `x-error-codes` lists `code`.
    pub(crate) fn declares(&self, code: Code) -> bool {
        self.codes & bit(code) != 0
    }
}

fn bit(code: Code) -> u64 {
    // The catalog has 20 codes; a test keeps it below 64.
    1u64 << (code as usize % 64)
}

/// Every operation's declarations, by `operationId`.
#[derive(Debug, Default)]
pub(crate) struct Operations {
    by_id: HashMap<String, Declared>,
    /// Each path template with its operations: (method in upper case, `operationId`).
    by_template: HashMap<String, Vec<(String, String)>>,
}

impl Operations {
    /// What `operation_id` declares.
    pub(crate) fn get(&self, operation_id: &str) -> Option<&Declared> {
        self.by_id.get(operation_id)
    }

    /// The operations on `template`: (method, `operationId`); empty for an unknown template.
    pub(crate) fn on_template(&self, template: &str) -> &[(String, String)] {
        self.by_template.get(template).map_or(&[], Vec::as_slice)
    }
}

/// The table of the embedded document, built on first use.
pub(crate) fn operations() -> &'static Operations {
    static TABLE: OnceLock<Operations> = OnceLock::new();
    // The embedded document parses (the state is only built once it does); an unreadable one
    // declares nothing, so nothing would be injected.
    TABLE.get_or_init(|| openapi::document().map_or_else(|_| Operations::default(), |d| build(&d)))
}

fn build(doc: &Value) -> Operations {
    let mut table = Operations::default();
    let Some(paths) = doc["paths"].as_object() else {
        return table;
    };
    for (template, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let Some(id) = op["operationId"].as_str() else {
                continue;
            };
            let codes = op["x-error-codes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| Code::from_name(c.as_str()?).ok())
                .fold(0, |bits, code| bits | bit(code));
            let purpose = serde_json::from_value(op["x-step-up-purpose"].clone()).ok();
            let declared = Declared {
                codes,
                purpose,
                field: field(doc, op),
            };
            table.by_id.insert(id.to_owned(), declared);
            table
                .by_template
                .entry(template.clone())
                .or_default()
                .push((method.to_ascii_uppercase(), id.to_owned()));
        }
    }
    table
}

/// The `errors` item of an injected ValidationError: the first required member of the JSON
/// request body, else the first query parameter, else the whole body.
fn field(doc: &Value, op: &Value) -> Option<FieldError> {
    let body = op["requestBody"]["content"]
        .as_object()
        .and_then(|content| content.values().next())
        .map(|media| resolve(doc, &media["schema"]));
    if let Some(name) = body
        .and_then(|schema| schema["required"].as_array())
        .and_then(|required| required.first())
        .and_then(Value::as_str)
    {
        return Some(FieldError::pointer(format!("/{name}"), "is required"));
    }
    let query = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| resolve(doc, p))
        .find(|p| p["in"] == "query")
        .and_then(|p| p["name"].as_str());
    if let Some(name) = query {
        return Some(FieldError::parameter(name, "is not a valid value"));
    }
    Some(FieldError::pointer("", "The body is not valid JSON."))
}

/// A local `$ref` resolved in `doc` (one level), or `value` itself.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    value["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| doc.pointer(pointer))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_bit_of_its_own() {
        assert!(Code::ALL.len() <= 64);
        let bits: std::collections::BTreeSet<u64> = Code::ALL.iter().map(|&c| bit(c)).collect();
        assert_eq!(bits.len(), Code::ALL.len());
    }

    #[test]
    fn declarations_are_read_from_the_document() {
        let ops = operations();
        let delete = ops.get("deleteUser").unwrap();
        assert!(delete.declares(Code::StepUpRequired));
        assert!(!delete.declares(Code::ValidationError));
        assert_eq!(delete.purpose, Some(Purpose::DeleteUser));
        let invite = ops.get("inviteUser").unwrap();
        assert_eq!(
            invite.field,
            Some(FieldError::pointer("/email", "is required"))
        );
        let list = ops.get("listUsers").unwrap();
        assert_eq!(
            list.field,
            Some(FieldError::parameter("limit", "is not a valid value"))
        );
        let health = ops.get("getHealth").unwrap();
        assert!(!Code::ALL.iter().any(|&c| health.declares(c)));
        assert!(ops.get("noSuchOperation").is_none());
        let mut on = ops
            .on_template("/v1/workspaces/{workspace}/users/{user_id}")
            .to_vec();
        on.sort();
        assert_eq!(
            on,
            [
                ("DELETE".to_owned(), "deleteUser".to_owned()),
                ("GET".to_owned(), "getUser".to_owned())
            ]
        );
    }

    /// An operation that can answer STEP_UP_REQUIRED names the purpose its answer carries, so
    /// an injected one has the route's own `purpose`.
    #[test]
    fn every_operation_with_step_up_names_its_purpose() {
        let ops = operations();
        for (id, declared) in &ops.by_id {
            if declared.declares(Code::StepUpRequired) {
                assert!(
                    declared.purpose.is_some(),
                    "{id} declares STEP_UP_REQUIRED: give it `x-step-up-purpose` in schemas/openapi.json"
                );
            }
        }
    }
}
