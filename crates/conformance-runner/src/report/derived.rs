//! What every derived JSON Schema shares: [`published`] turns a type's
//! `schemars` schema into a file of `schemas/`, and [`CodeName`] and
//! [`CategorySlug`] give members that hold a code or a category their enum
//! from the catalog. A leaf: the types that derive their schema import it.

use std::borrow::Cow;

use catalog::{Category, Code};
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};

/// The JSON Schema dialect of every generated schema.
pub(crate) const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Where the published schemas live; a schema's `$id` is this and its file name.
const BASE_URL: &str = "https://docs.platform.example/schemas/";

/// The derived schema of `T` as the file `schemas/{file}`: with its `$id`
/// and `title`, and [`after_derive`] applied to every subschema.
pub(crate) fn published<T: JsonSchema>(file: &str, title: &str) -> Value {
    let transform: fn(&mut Schema) = after_derive;
    let generator = SchemaSettings::draft2020_12()
        .with_transform(RecursiveTransform(transform))
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>();
    debug_assert_eq!(schema.get("$schema"), Some(&Value::from(DRAFT)));
    schema.insert("$id".into(), format!("{BASE_URL}{file}").into());
    schema.insert("title".into(), title.into());
    schema.to_value()
}

/// What schemars cannot be told per type, done to each subschema:
///
/// - JSON Schema defines no integer formats; schemars writes its own
///   (`uint64`), which a strict validator (Ajv) refuses as unknown.
/// - An `Option` member is written absent, never `null` (each has
///   `skip_serializing_if = "Option::is_none"`), so the schema allows no
///   `null` where schemars would (`"type": ["string", "null"]`, or an
///   `anyOf` with `{"type": "null"}`).
/// - A description is a doc comment: its lines are joined as rustdoc joins
///   them, paragraphs kept.
fn after_derive(schema: &mut Schema) {
    let null = json!({ "type": "null" });
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            object.insert("type".into(), only);
        }
    }
    if object.get("type") == Some(&Value::from("integer")) {
        object.remove("format");
    }
    let not_null = match object.get("anyOf") {
        Some(Value::Array(any_of)) if any_of.len() == 2 && any_of.contains(&null) => {
            any_of.iter().find(|s| **s != null).cloned()
        }
        _ => None,
    };
    if let Some(Value::Object(kept)) = not_null {
        object.remove("anyOf");
        for (key, value) in kept {
            object.entry(key).or_insert(value);
        }
    }
    if let Some(Value::String(description)) = object.get_mut("description") {
        *description = description
            .split("\n\n")
            .map(|paragraph| paragraph.replace('\n', " "))
            .collect::<Vec<_>>()
            .join("\n\n");
    }
}

/// A member holding a documented error code, as on the wire: its schema
/// (`$defs/code`) lists [`Code::ALL`].
pub(crate) struct CodeName;

impl JsonSchema for CodeName {
    fn schema_name() -> Cow<'static, str> {
        "code".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let codes: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        json_schema!({
            "type": "string",
            "enum": codes,
            "description": "A documented error code, as on the wire; the reference page (docs/errors.md) has a row for each."
        })
    }
}

/// A member holding a category slug: its schema (`$defs/category`) lists
/// [`Category::ALL`].
pub(crate) struct CategorySlug;

impl JsonSchema for CategorySlug {
    fn schema_name() -> Cow<'static, str> {
        "category".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let categories: Vec<&str> = Category::ALL.iter().map(|c| c.slug()).collect();
        json_schema!({
            "type": "string",
            "enum": categories,
            "description": "A category of the catalog, as the reference page groups the codes."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as the report writes one.
    #[derive(JsonSchema)]
    #[schemars(rename = "record", deny_unknown_fields)]
    struct Record {
        /// How long it took, in
        /// milliseconds.
        ///
        /// A second paragraph.
        #[expect(dead_code, reason = "only its schema is read")]
        wall_ms: u64,
        /// When it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[expect(dead_code, reason = "only its schema is read")]
        inner: Option<Inner>,
    }

    /// A nested record.
    #[derive(JsonSchema)]
    #[schemars(rename = "inner")]
    struct Inner {
        /// A status, when one came.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[expect(dead_code, reason = "only its schema is read")]
        status: Option<u16>,
    }

    #[test]
    fn a_published_schema_has_no_null_no_integer_format_and_unwrapped_docs() {
        assert_eq!(
            published::<Record>("record.schema.json", "A record"),
            json!({
                "$schema": DRAFT,
                "$id": "https://docs.platform.example/schemas/record.schema.json",
                "title": "A record",
                "description": "A record as the report writes one.",
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "wall_ms": {
                        "description": "How long it took, in milliseconds.\n\nA second paragraph.",
                        "type": "integer",
                        "minimum": 0
                    },
                    "inner": { "$ref": "#/$defs/inner", "description": "When it has one." }
                },
                "required": ["wall_ms"],
                "$defs": {
                    "inner": {
                        "description": "A nested record.",
                        "type": "object",
                        "properties": {
                            "status": {
                                "description": "A status, when one came.",
                                "type": "integer",
                                "minimum": 0,
                                "maximum": 65535
                            }
                        }
                    }
                }
            })
        );
    }
}
