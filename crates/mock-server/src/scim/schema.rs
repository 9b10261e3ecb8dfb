//! The RFC 7643 User schema and enterprise extension: attribute metadata and the `/Schemas` resources.
//!
//! The data follows RFC 7643 sections 4.1, 4.3 and 8.7. The common attributes
//! of section 3.1 (`schemas`, `id`, `externalId`, `meta`) belong to every
//! resource rather than to a schema, so they are kept apart: lookups through
//! the core User schema find them, while the `/Schemas` rendering leaves them
//! out as RFC 7643 section 8.7.1 does.

use serde_json::{Map, Value, json};

use super::filter::{AttrPath, AttributeCase};

mod tables;

pub(crate) use tables::{COMMON_ATTRIBUTES, USER_SCHEMA, USER_SCHEMAS};

/// The core User schema URI.
pub(crate) const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The enterprise User extension schema URI.
pub(crate) const ENTERPRISE_USER: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The schema URI of `Schema` resources themselves.
pub(crate) const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// The message URI of list responses.
pub(crate) const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// An attribute's data type (RFC 7643 section 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrType {
    /// `string`.
    String,
    /// `boolean`.
    Boolean,
    /// `decimal`.
    #[expect(
        dead_code,
        reason = "RFC 7643 vocabulary the User schema does not use yet"
    )]
    Decimal,
    /// `integer`.
    #[expect(
        dead_code,
        reason = "RFC 7643 vocabulary the User schema does not use yet"
    )]
    Integer,
    /// `dateTime`: an xsd:dateTime string.
    DateTime,
    /// `binary`: base64 text.
    Binary,
    /// `reference`: a URI string.
    Reference,
    /// `complex`: an object of sub-attributes.
    Complex,
}

impl AttrType {
    /// The name used in schema resources.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// Who may change an attribute (RFC 7643 section 7, `mutability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mutability {
    /// Set by the service provider only.
    ReadOnly,
    /// Freely updated.
    ReadWrite,
    /// Set once, never changed.
    #[expect(
        dead_code,
        reason = "RFC 7643 vocabulary the User schema does not use yet"
    )]
    Immutable,
    /// Set but never returned.
    WriteOnly,
}

impl Mutability {
    /// The name used in schema resources.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute is returned (RFC 7643 section 7, `returned`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Returned {
    Always,
    Never,
    /// Returned unless excluded.
    Default,
    /// Returned only when asked for.
    Request,
}

impl Returned {
    /// The name used in schema resources.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// How unique values must be (RFC 7643 section 7, `uniqueness`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Uniqueness {
    /// No constraint.
    None,
    /// Unique within the service provider.
    Server,
    /// Globally unique.
    #[expect(
        dead_code,
        reason = "RFC 7643 vocabulary the User schema does not use yet"
    )]
    Global,
}

impl Uniqueness {
    /// The name used in schema resources.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 section 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attribute {
    /// The attribute name, in its canonical case.
    pub name: &'static str,
    pub kind: AttrType,
    /// Whether the value is an array.
    pub multi_valued: bool,
    pub description: &'static str,
    /// Whether a resource must have a value.
    pub required: bool,
    /// Whether string values compare case-sensitively.
    pub case_exact: bool,
    /// Who may change it.
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    /// Suggested values (`type` sub-attributes).
    pub canonical_values: &'static [&'static str],
    /// What a `reference` may point at.
    pub reference_types: &'static [&'static str],
    /// Sub-attributes of a complex attribute.
    pub sub_attributes: &'static [Attribute],
}

impl Attribute {
    /// A single-valued, optional, case-insensitive, readWrite attribute.
    const fn new(name: &'static str, kind: AttrType, description: &'static str) -> Self {
        Self {
            name,
            kind,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }

    const fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::String, description)
    }

    const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::Boolean, description)
    }

    const fn complex(
        name: &'static str,
        description: &'static str,
        sub_attributes: &'static [Attribute],
    ) -> Self {
        Self {
            sub_attributes,
            ..Self::new(name, AttrType::Complex, description)
        }
    }

    const fn reference(
        name: &'static str,
        description: &'static str,
        reference_types: &'static [&'static str],
    ) -> Self {
        Self {
            reference_types,
            case_exact: true,
            ..Self::new(name, AttrType::Reference, description)
        }
    }

    const fn multi(self) -> Self {
        Self {
            multi_valued: true,
            ..self
        }
    }

    const fn required(self) -> Self {
        Self {
            required: true,
            ..self
        }
    }

    const fn case_exact(self) -> Self {
        Self {
            case_exact: true,
            ..self
        }
    }

    const fn read_only(self) -> Self {
        Self {
            mutability: Mutability::ReadOnly,
            ..self
        }
    }

    const fn returned(self, returned: Returned) -> Self {
        Self { returned, ..self }
    }

    const fn uniqueness(self, uniqueness: Uniqueness) -> Self {
        Self { uniqueness, ..self }
    }

    const fn canonical(self, canonical_values: &'static [&'static str]) -> Self {
        Self {
            canonical_values,
            ..self
        }
    }

    /// A sub-attribute by name, ignoring case.
    pub(crate) fn sub_attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// Whether values are objects of sub-attributes.
    pub(crate) fn is_complex(&self) -> bool {
        self.kind == AttrType::Complex
    }

    /// The RFC 7643 section 7 representation.
    pub(crate) fn to_json(self) -> Value {
        let mut out = Map::new();
        out.insert("name".into(), json!(self.name));
        out.insert("type".into(), json!(self.kind.as_str()));
        out.insert("multiValued".into(), json!(self.multi_valued));
        out.insert("description".into(), json!(self.description));
        out.insert("required".into(), json!(self.required));
        // caseExact only means something for values compared as text.
        if matches!(
            self.kind,
            AttrType::String | AttrType::Reference | AttrType::Binary
        ) {
            out.insert("caseExact".into(), json!(self.case_exact));
        }
        if !self.canonical_values.is_empty() {
            out.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        if self.kind == AttrType::Reference {
            out.insert("referenceTypes".into(), json!(self.reference_types));
        }
        if self.is_complex() {
            let subs: Vec<Value> = self.sub_attributes.iter().map(|a| a.to_json()).collect();
            out.insert("subAttributes".into(), Value::Array(subs));
        }
        out.insert("mutability".into(), json!(self.mutability.as_str()));
        out.insert("returned".into(), json!(self.returned.as_str()));
        if !self.is_complex() && self.kind != AttrType::Boolean {
            out.insert("uniqueness".into(), json!(self.uniqueness.as_str()));
        }
        Value::Object(out)
    }
}

/// A schema: its URI, name and top-level attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Schema {
    /// The schema URI.
    pub id: &'static str,
    /// Short name.
    pub name: &'static str,
    pub description: &'static str,
    /// Top-level attributes, without the common ones.
    pub attributes: &'static [Attribute],
}

impl Schema {
    /// Whether this is the core schema, whose attributes (and the common
    /// ones) sit at the top level of a resource.
    pub(crate) fn is_core(&self) -> bool {
        self.id == CORE_USER
    }

    /// A top-level attribute by name, ignoring case; the core schema also
    /// answers for the common attributes.
    pub(crate) fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        let common: &'static [Attribute] = if self.is_core() {
            COMMON_ATTRIBUTES
        } else {
            &[]
        };
        common
            .iter()
            .chain(self.attributes)
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The `Schema` resource (RFC 7643 section 7) served at
    /// `{base_url}/Schemas/{id}`; `base_url` is the SCIM root, such as
    /// `https://example.com/scim/v2`.
    pub(crate) fn to_json(self, base_url: &str) -> Value {
        let attributes: Vec<Value> = self.attributes.iter().map(|a| a.to_json()).collect();
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": attributes,
            "meta": {
                "resourceType": "Schema",
                "location": format!("{}/Schemas/{}", base_url.trim_end_matches('/'), self.id),
            },
        })
    }
}

/// The schema a URI names, ignoring case.
pub(crate) fn schema_by_urn(urn: &str) -> Option<&'static Schema> {
    USER_SCHEMAS
        .iter()
        .copied()
        .find(|s| s.id.eq_ignore_ascii_case(urn))
}

/// A top-level attribute: without a URI (or with the core one) from the core
/// schema and the common attributes, with the extension URI from the extension.
pub(crate) fn find_attribute(urn: Option<&str>, name: &str) -> Option<&'static Attribute> {
    let schema = match urn {
        None => &USER_SCHEMA,
        Some(urn) => schema_by_urn(urn)?,
    };
    schema.attribute(name)
}

/// The attribute or sub-attribute a filter path names.
pub(crate) fn lookup(path: &AttrPath) -> Option<&'static Attribute> {
    let attribute = find_attribute(path.urn.as_deref(), &path.name)?;
    match &path.sub_attr {
        None => Some(attribute),
        Some(sub) => attribute.sub_attribute(sub),
    }
}

/// Case rules of the User schemas for filter evaluation; attributes the
/// schemas do not know compare case-insensitively, the RFC 7643 default.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct UserAttributes;

impl AttributeCase for UserAttributes {
    fn case_exact(&self, path: &AttrPath) -> bool {
        lookup(path).is_some_and(|a| a.case_exact)
    }
}

/// One `Schema` resource by URI (`GET {base_url}/Schemas/{id}`).
pub(crate) fn schema_resource(urn: &str, base_url: &str) -> Option<Value> {
    schema_by_urn(urn).map(|s| s.to_json(base_url))
}

/// The list response served by `GET {base_url}/Schemas`.
pub(crate) fn schemas_resource(base_url: &str) -> Value {
    let resources: Vec<Value> = USER_SCHEMAS.iter().map(|s| s.to_json(base_url)).collect();
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter;

    #[test]
    fn lookups_ignore_case() {
        let user_name = find_attribute(None, "USERNAME").unwrap();
        assert_eq!(user_name.name, "userName");
        assert!(user_name.required);
        assert!(!user_name.case_exact);
        assert_eq!(user_name.uniqueness, Uniqueness::Server);
        assert_eq!(
            find_attribute(Some("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"), "id")
                .map(|a| a.name),
            Some("id")
        );
        assert_eq!(
            find_attribute(Some(ENTERPRISE_USER), "EmployeeNumber").map(|a| a.name),
            Some("employeeNumber")
        );
        // Extension attributes need their URI, and core ones are not in the extension.
        assert!(find_attribute(None, "employeeNumber").is_none());
        assert!(find_attribute(Some(ENTERPRISE_USER), "userName").is_none());
        assert!(find_attribute(Some("urn:example:unknown"), "userName").is_none());
        assert!(find_attribute(None, "nope").is_none());
    }

    #[test]
    fn mutability_and_case_rules() {
        let cases: &[(&str, Mutability, bool)] = &[
            ("id", Mutability::ReadOnly, true),
            ("externalId", Mutability::ReadWrite, true),
            ("userName", Mutability::ReadWrite, false),
            ("password", Mutability::WriteOnly, false),
            ("groups", Mutability::ReadOnly, false),
            ("meta", Mutability::ReadOnly, false),
            ("name", Mutability::ReadWrite, false),
            ("active", Mutability::ReadWrite, false),
        ];
        for (name, mutability, case_exact) in cases {
            let a = find_attribute(None, name).unwrap();
            assert_eq!(a.mutability, *mutability, "{name}");
            assert_eq!(a.case_exact, *case_exact, "{name}");
        }
        assert_eq!(
            find_attribute(None, "password").unwrap().returned,
            Returned::Never
        );
        assert_eq!(
            find_attribute(None, "active").unwrap().kind,
            AttrType::Boolean
        );
        let groups = find_attribute(None, "groups").unwrap();
        assert!(groups.multi_valued);
        assert!(
            groups
                .sub_attributes
                .iter()
                .all(|s| s.mutability == Mutability::ReadOnly)
        );
        let meta = find_attribute(None, "meta").unwrap();
        for sub in [
            "resourceType",
            "created",
            "lastModified",
            "location",
            "version",
        ] {
            assert_eq!(
                meta.sub_attribute(sub).map(|s| s.mutability),
                Some(Mutability::ReadOnly),
                "meta.{sub}"
            );
        }
        let manager = find_attribute(Some(ENTERPRISE_USER), "manager").unwrap();
        assert_eq!(
            manager.sub_attribute("displayname").map(|s| s.mutability),
            Some(Mutability::ReadOnly)
        );
        assert_eq!(
            manager.sub_attribute("$ref").map(|s| s.kind),
            Some(AttrType::Reference)
        );
    }

    #[test]
    fn every_attribute_of_the_brief_is_there() {
        let core: &[(&str, &[&str])] = &[
            ("id", &[]),
            ("externalId", &[]),
            ("userName", &[]),
            (
                "name",
                &[
                    "formatted",
                    "familyName",
                    "givenName",
                    "middleName",
                    "honorificPrefix",
                    "honorificSuffix",
                ],
            ),
            ("displayName", &[]),
            ("nickName", &[]),
            ("profileUrl", &[]),
            ("title", &[]),
            ("userType", &[]),
            ("preferredLanguage", &[]),
            ("locale", &[]),
            ("timezone", &[]),
            ("active", &[]),
            ("password", &[]),
            ("emails", &["value", "display", "type", "primary"]),
            ("phoneNumbers", &["value", "display", "type", "primary"]),
            ("ims", &["value", "type"]),
            ("photos", &["value", "type"]),
            (
                "addresses",
                &[
                    "formatted",
                    "streetAddress",
                    "locality",
                    "region",
                    "postalCode",
                    "country",
                    "type",
                ],
            ),
            ("groups", &["value", "$ref", "display", "type"]),
            ("entitlements", &["value"]),
            ("roles", &["value", "display", "type", "primary"]),
            ("x509Certificates", &["value"]),
            (
                "meta",
                &[
                    "resourceType",
                    "created",
                    "lastModified",
                    "location",
                    "version",
                ],
            ),
        ];
        for (name, subs) in core {
            let a = find_attribute(None, name).unwrap_or_else(|| panic!("{name}"));
            for sub in *subs {
                assert!(a.sub_attribute(sub).is_some(), "{name}.{sub}");
            }
        }
        for name in [
            "employeeNumber",
            "costCenter",
            "organization",
            "division",
            "department",
            "manager",
        ] {
            assert!(
                find_attribute(Some(ENTERPRISE_USER), name).is_some(),
                "{name}"
            );
        }
    }

    #[test]
    fn lookup_follows_paths() {
        let path = filter::parse_path("emails.value").unwrap().attr;
        assert_eq!(lookup(&path).map(|a| a.kind), Some(AttrType::String));
        let path = filter::parse_path(&format!("{ENTERPRISE_USER}:manager.value"))
            .unwrap()
            .attr;
        assert_eq!(lookup(&path).map(|a| a.name), Some("value"));
        let path = filter::parse_path("name.nope").unwrap().attr;
        assert!(lookup(&path).is_none());
    }

    #[test]
    fn user_attributes_drive_filter_case() {
        let user = json!({
            "id": "AbC",
            "userName": "BJensen",
            "emails": [{"value": "B@Example.com", "type": "Work"}],
            "meta": {"resourceType": "User"},
        });
        let cases: &[(&str, bool)] = &[
            (r#"id eq "AbC""#, true),
            (r#"id eq "abc""#, false),
            (r#"userName eq "bjensen""#, true),
            (r#"emails.value eq "b@example.com""#, true),
            (r#"emails[type eq "work"]"#, true),
            (r#"meta.resourceType eq "user""#, false),
            (r#"meta.resourceType eq "User""#, true),
            (r#"unknown eq "x""#, false),
        ];
        for (input, expected) in cases {
            let f = filter::parse(input).unwrap();
            assert_eq!(
                filter::matches(&f, &user, &UserAttributes),
                *expected,
                "{input}"
            );
        }
    }

    #[test]
    fn schemas_resource_lists_both_schemas() {
        let list = schemas_resource("https://example.com/scim/v2/");
        assert_eq!(list["schemas"], json!([LIST_RESPONSE]));
        assert_eq!(list["totalResults"], json!(2));
        assert_eq!(list["startIndex"], json!(1));
        let resources = list["Resources"].as_array().unwrap();
        assert_eq!(resources.len(), 2);
        assert_eq!(resources[0]["id"], json!(CORE_USER));
        assert_eq!(resources[0]["name"], json!("User"));
        assert_eq!(resources[0]["schemas"], json!([SCHEMA_SCHEMA]));
        assert_eq!(
            resources[0]["meta"],
            json!({
                "resourceType": "Schema",
                "location": "https://example.com/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
            })
        );
        assert_eq!(resources[1]["id"], json!(ENTERPRISE_USER));
        assert_eq!(resources[1]["name"], json!("EnterpriseUser"));

        let attributes = resources[0]["attributes"].as_array().unwrap();
        // Common attributes are not part of the schema resource (RFC 7643 section 8.7.1).
        assert!(attributes.iter().all(|a| {
            !["id", "externalId", "meta", "schemas"].contains(&a["name"].as_str().unwrap_or(""))
        }));
        let user_name = &attributes[0];
        assert_eq!(
            user_name,
            &json!({
                "name": "userName",
                "type": "string",
                "multiValued": false,
                "description": USER_SCHEMA.attributes[0].description,
                "required": true,
                "caseExact": false,
                "mutability": "readWrite",
                "returned": "default",
                "uniqueness": "server",
            })
        );
        let emails = attributes.iter().find(|a| a["name"] == "emails").unwrap();
        assert_eq!(emails["multiValued"], json!(true));
        assert!(emails.get("caseExact").is_none());
        let email_type = emails["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "type")
            .unwrap();
        assert_eq!(
            email_type["canonicalValues"],
            json!(["work", "home", "other"])
        );
        let password = attributes.iter().find(|a| a["name"] == "password").unwrap();
        assert_eq!(password["mutability"], json!("writeOnly"));
        assert_eq!(password["returned"], json!("never"));
        let profile = attributes
            .iter()
            .find(|a| a["name"] == "profileUrl")
            .unwrap();
        assert_eq!(profile["referenceTypes"], json!(["external"]));
    }

    #[test]
    fn single_schema_resource() {
        let ext = schema_resource(ENTERPRISE_USER, "http://h/scim/v2").unwrap();
        assert_eq!(
            ext["meta"]["location"],
            json!(format!("http://h/scim/v2/Schemas/{ENTERPRISE_USER}"))
        );
        let manager = ext["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "manager")
            .unwrap();
        assert_eq!(manager["type"], json!("complex"));
        assert_eq!(manager["subAttributes"].as_array().map(Vec::len), Some(3));
        assert!(schema_resource("urn:nope", "http://h").is_none());
    }
}
