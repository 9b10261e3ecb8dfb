//! Reading a PatchOp message (RFC 7644 section 3.5.2) into a [`PatchRequest`]: the message
//! URI, the operations, their `op`, `path` and `value` members (names case-insensitive).

use serde_json::Value;

use super::error::{PatchError, at_operation};
use crate::scim::filter::{self, PatchPath};

/// The message URI a PATCH body must list in `schemas`.
pub(crate) const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A PATCH operation kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    Add,
    Remove,
    Replace,
}

impl OpKind {
    /// The lowercase name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Remove => "remove",
            OpKind::Replace => "replace",
        }
    }
}

/// One entry of `Operations`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PatchOperation {
    pub op: OpKind,
    /// The target; absent means the resource itself (add and replace only).
    pub path: Option<PatchPath>,
    /// The value, if one was sent.
    pub value: Option<Value>,
}

/// A parsed PatchOp message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PatchRequest {
    /// The operations, in order.
    pub operations: Vec<PatchOperation>,
}

/// Parses a PatchOp message body.
pub(crate) fn parse_request(body: &Value) -> Result<PatchRequest, PatchError> {
    if !body.is_object() {
        return Err(PatchError::syntax("the request body must be a JSON object"));
    }
    let lists_patch_op = filter::member(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP)))
        });
    if !lists_patch_op {
        return Err(PatchError::syntax(format!(
            "\"schemas\" must be an array containing \"{PATCH_OP}\""
        )));
    }
    let operations = match filter::member(body, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        Some(Value::Array(_)) => {
            return Err(PatchError::syntax("\"Operations\" must not be empty"));
        }
        Some(_) => return Err(PatchError::syntax("\"Operations\" must be an array")),
        None => return Err(PatchError::syntax("\"Operations\" is missing")),
    };
    operations
        .iter()
        .enumerate()
        .map(|(i, op)| parse_operation(op).map_err(|e| at_operation(i, e)))
        .collect::<Result<Vec<_>, _>>()
        .map(|operations| PatchRequest { operations })
}

fn parse_operation(op: &Value) -> Result<PatchOperation, PatchError> {
    if !op.is_object() {
        return Err(PatchError::syntax("an operation must be a JSON object"));
    }
    let kind = match filter::member(op, "op") {
        Some(Value::String(name)) => match name.to_ascii_lowercase().as_str() {
            "add" => OpKind::Add,
            "remove" => OpKind::Remove,
            "replace" => OpKind::Replace,
            _ => return Err(PatchError::syntax(format!("unknown op {name:?}"))),
        },
        Some(_) => return Err(PatchError::syntax("\"op\" must be a string")),
        None => return Err(PatchError::syntax("\"op\" is missing")),
    };
    let path = match filter::member(op, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(
            filter::parse_path(text)
                .map_err(|e| PatchError::path(format!("invalid path {text:?}: {e}")))?,
        ),
        Some(_) => return Err(PatchError::syntax("\"path\" must be a string")),
    };
    let value = filter::member(op, "value").cloned();
    match kind {
        // RFC 7644 section 3.5.2.2 names this error explicitly.
        OpKind::Remove if path.is_none() => {
            return Err(PatchError::no_target("remove needs a \"path\""));
        }
        OpKind::Add | OpKind::Replace if value.is_none() => {
            return Err(PatchError::value(format!(
                "{} needs a \"value\"",
                kind.as_str()
            )));
        }
        _ => {}
    }
    Ok(PatchOperation {
        op: kind,
        path,
        value,
    })
}

#[cfg(test)]
mod tests {
    use response_schema::ScimType;
    use serde_json::json;

    use super::*;

    fn body(ops: Value) -> Value {
        json!({"schemas": [PATCH_OP], "Operations": ops})
    }

    #[test]
    fn malformed_messages_are_invalid_syntax() {
        let cases = [
            json!([]),
            json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]}),
            json!({"schemas": ["urn:nope"], "Operations": [{"op": "add", "path": "title", "value": "x"}]}),
            json!({"schemas": PATCH_OP, "Operations": [{"op": "add", "path": "title", "value": "x"}]}),
            json!({"schemas": [PATCH_OP]}),
            json!({"schemas": [PATCH_OP], "Operations": []}),
            json!({"schemas": [PATCH_OP], "Operations": {"op": "add"}}),
            json!({"schemas": [PATCH_OP], "Operations": ["add"]}),
            json!({"schemas": [PATCH_OP], "Operations": [{"path": "title", "value": "x"}]}),
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "move", "path": "title", "value": "x"}]}),
            json!({"schemas": [PATCH_OP], "Operations": [{"op": 1, "path": "title", "value": "x"}]}),
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": 5, "value": "x"}]}),
        ];
        for case in cases {
            assert_eq!(
                parse_request(&case).err().map(|e| e.scim_type),
                Some(ScimType::InvalidSyntax),
                "{case}"
            );
        }
    }

    #[test]
    fn parse_request_keeps_paths_and_values() {
        let request = parse_request(&body(json!([
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@b"},
            {"op": "remove", "path": "title"},
        ])))
        .unwrap();
        assert_eq!(request.operations.len(), 2);
        assert_eq!(request.operations[0].op, OpKind::Replace);
        assert_eq!(
            request.operations[0].path.as_ref().map(ToString::to_string),
            Some("emails[type eq \"work\"].value".to_owned())
        );
        assert_eq!(request.operations[0].value, Some(json!("a@b")));
        assert_eq!(request.operations[1].op, OpKind::Remove);
        assert_eq!(request.operations[1].value, None);
    }
}
