//! Test strategies shared by the evaluator's and the store's equivalence tests: random SCIM
//! User bodies and random filters over the attributes such bodies have (and some they lack).

use proptest::prelude::*;
use serde_json::{Number, Value, json};

use super::{AttrPath, CompValue, CompareOp, Filter};

/// The core User schema URN.
pub(crate) const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The enterprise extension URN.
pub(crate) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Short strings that collide often, with case variants and non-ASCII letters whose
/// lower-case forms differ from ASCII folding (`K`, the Kelvin sign, lower-cases to `k`).
fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("u".to_owned()),
        Just("a".to_owned()),
        Just("m".to_owned()),
        Just("acme".to_owned()),
        Just("@acme.example".to_owned()),
        Just("ADMIN@acme.example".to_owned()),
        Just("User0".to_owned()),
        Just("user01@acme.example".to_owned()),
        Just("USER02@Acme.Example".to_owned()),
        Just("\u{212A}im@acme.example".to_owned()),
        Just("Élise@acme.example".to_owned()),
        Just("work".to_owned()),
        Just("Jensen".to_owned()),
        Just("2026-".to_owned()),
        Just("W/\"1\"".to_owned()),
        "[a-eA-EK@.0-2\u{212A}é]{0,5}",
    ]
}

/// A SCIM User create body (valid for the mock's schema).
pub(crate) fn arb_body() -> impl Strategy<Value = Value> {
    let email = (
        arb_text(),
        proptest::option::of("work|home|other"),
        any::<Option<bool>>(),
    )
        .prop_map(|(value, kind, primary)| {
            let mut e = json!({ "value": value });
            if let Some(kind) = kind {
                e["type"] = json!(kind);
            }
            if let Some(primary) = primary {
                e["primary"] = json!(primary);
            }
            e
        });
    (
        arb_text().prop_filter("userName is required", |s| !s.is_empty()),
        proptest::option::of((
            proptest::option::of(arb_text()),
            proptest::option::of(arb_text()),
        )),
        proptest::collection::vec(email, 0..3),
        any::<Option<bool>>(),
        proptest::option::of(arb_text()),
        proptest::option::of((arb_text(), proptest::option::of(arb_text()))),
        proptest::collection::vec(
            (
                proptest::sample::select(vec!["externalId", "displayName", "userType"]),
                arb_text(),
            ),
            0..3,
        ),
    )
        .prop_map(
            |(user_name, name, emails, active, title, enterprise, more)| {
                let mut body = json!({ "schemas": [CORE], "userName": user_name });
                if let Some((family, given)) = name {
                    let mut n = json!({});
                    if let Some(family) = family {
                        n["familyName"] = json!(family);
                    }
                    if let Some(given) = given {
                        n["givenName"] = json!(given);
                    }
                    body["name"] = n;
                }
                if !emails.is_empty() {
                    body["emails"] = Value::Array(emails);
                }
                if let Some(active) = active {
                    body["active"] = json!(active);
                }
                if let Some(title) = title {
                    body["title"] = json!(title);
                }
                if let Some((number, department)) = enterprise {
                    body["schemas"] = json!([CORE, ENTERPRISE]);
                    let mut ext = json!({ "employeeNumber": number });
                    if let Some(department) = department {
                        ext["department"] = json!(department);
                    }
                    body[ENTERPRISE] = ext;
                }
                for (attribute, value) in more {
                    body[attribute] = json!(value);
                }
                body
            },
        )
}

/// A stored User as no request would leave it but a search must still answer exactly
/// over: [`arb_body`] with one member of an unexpected shape (differently cased twins,
/// `null`s, values of other types, an object under the core schema URI). `userName` is left
/// plain, as the core store's name index holds it.
pub(crate) fn arb_odd_body() -> impl Strategy<Value = Value> {
    let odd = prop_oneof![
        Just(vec![
            ("displayName", json!("a")),
            ("DISPLAYNAME", json!("u"))
        ]),
        Just(vec![("title", json!("u")), ("Title", json!("Jensen"))]),
        Just(vec![
            ("emails", json!([{ "value": "a", "type": "work" }])),
            ("Emails", json!([{ "value": "u", "type": "home" }])),
        ]),
        Just(vec![
            ("name", json!({ "familyName": "a" })),
            ("NAME", json!({ "familyName": "Jensen" })),
        ]),
        Just(vec![("name", json!(null))]),
        Just(vec![("name", json!("Jensen"))]),
        Just(vec![(
            "name",
            json!({ "familyName": "a", "FAMILYNAME": "u" })
        )]),
        Just(vec![("name", json!({ "familyName": 3 }))]),
        Just(vec![("emails", json!(null))]),
        Just(vec![("emails", json!({ "value": "a", "type": "work" }))]),
        Just(vec![("emails", json!(["a"]))]),
        Just(vec![(
            "emails",
            json!([{ "value": "a", "VALUE": "u", "type": "work" }])
        )]),
        Just(vec![(
            "emails",
            json!([{ "value": null, "type": "work", "primary": "yes" }])
        )]),
        Just(vec![(
            "emails",
            json!([{ "value": ["a", "u"], "type": "work" }])
        )]),
        Just(vec![(
            "emails",
            json!([{ "type": "work", "display": "a" }, { "value": "" }])
        )]),
        Just(vec![("active", json!("true"))]),
        Just(vec![("active", json!(null))]),
        Just(vec![("displayName", json!(5))]),
        Just(vec![("title", json!(["u", "a"]))]),
        Just(vec![(CORE, json!({ "title": "u", "active": false }))]),
    ];
    (arb_body(), odd).prop_map(|(mut body, odd)| {
        for (key, value) in odd {
            body[key] = value;
        }
        body
    })
}

fn arb_path() -> impl Strategy<Value = AttrPath> {
    let plain = prop_oneof![
        Just(("userName", None)),
        Just(("USERNAME", None)),
        Just(("id", None)),
        Just(("title", None)),
        Just(("active", None)),
        Just(("name", None)),
        Just(("name", Some("familyName"))),
        Just(("Name", Some("GIVENNAME"))),
        Just(("emails", None)),
        Just(("emails", Some("value"))),
        Just(("emails", Some("type"))),
        Just(("emails", Some("primary"))),
        Just(("EMAILS", Some("Value"))),
        Just(("emails", Some("display"))),
        Just(("externalId", None)),
        Just(("displayName", None)),
        Just(("userType", None)),
        Just(("meta", None)),
        Just(("meta", Some("lastModified"))),
        Just(("meta", Some("created"))),
        Just(("META", Some("resourceType"))),
        Just(("meta", Some("version"))),
        Just(("meta", Some("location"))),
        Just(("meta", Some("nothing"))),
        Just(("schemas", None)),
        Just(("nickName", None)),
        Just(("employeeNumber", None)),
    ];
    let urn = prop_oneof![
        6 => Just(None),
        1 => Just(Some(CORE)),
        1 => Just(Some(ENTERPRISE)),
        1 => Just(Some("id")),
        1 => Just(Some("meta")),
    ];
    prop_oneof![
        (urn, plain).prop_map(|(urn, (name, sub))| AttrPath {
            urn: urn.map(str::to_owned),
            name: name.to_owned(),
            sub_attr: sub.map(str::to_owned),
        }),
        Just(AttrPath {
            urn: Some(ENTERPRISE.to_owned()),
            name: "department".to_owned(),
            sub_attr: None,
        }),
    ]
}

fn arb_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        1 => Just(CompValue::Null),
        1 => any::<bool>().prop_map(CompValue::Bool),
        1 => (-2i64..3).prop_map(|n| CompValue::Number(Number::from(n))),
        6 => arb_text().prop_map(CompValue::String),
        1 => Just(CompValue::String("2000-01-01T00:00:00Z".to_owned())),
        1 => Just(CompValue::String("2100-01-01T00:00:00Z".to_owned())),
        1 => Just(CompValue::String("2000-01-01t00:00:01z".to_owned())),
        1 => Just(CompValue::String("2000-01-02T00:00:00Z".to_owned())),
    ]
}

fn arb_op() -> impl Strategy<Value = CompareOp> {
    proptest::sample::select(CompareOp::ALL.to_vec())
}

fn leaf(path: BoxedStrategy<AttrPath>) -> BoxedStrategy<Filter> {
    prop_oneof![
        4 => (path.clone(), arb_op(), arb_value())
            .prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
        1 => path.prop_map(Filter::Present),
    ]
    .boxed()
}

fn with_logic(leaf: BoxedStrategy<Filter>) -> BoxedStrategy<Filter> {
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r))),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
    .boxed()
}

/// A filter over User attributes: comparisons, `pr`, `and` / `or` / `not`, and `emails[...]`
/// / `name[...]` value filters.
pub(crate) fn arb_filter() -> BoxedStrategy<Filter> {
    let sub = prop_oneof![
        Just("value"),
        Just("type"),
        Just("primary"),
        Just("familyName"),
        Just("Value"),
        Just("TYPE"),
        Just("display"),
    ]
    .prop_map(AttrPath::new);
    let value_path = (
        prop_oneof![Just("emails"), Just("name"), Just("userName")],
        with_logic(leaf(sub.boxed())),
    )
        .prop_map(|(name, filter)| Filter::ValuePath {
            path: AttrPath::new(name),
            filter: Box::new(filter),
        });
    with_logic(prop_oneof![4 => leaf(arb_path().boxed()), 1 => value_path].boxed())
}

/// A filter over the attributes searches keep as columns (`crate::scim::columns`), spelled
/// in different cases, with and without the core schema URI, and `emails[...]` value filters:
/// [`arb_filter`] reaches these too, but seldom enough that a wrong fast path could go
/// unnoticed.
pub(crate) fn arb_column_filter() -> BoxedStrategy<Filter> {
    let plain = prop_oneof![
        Just(("id", None)),
        Just(("active", None)),
        Just(("userName", None)),
        Just(("externalId", None)),
        Just(("displayName", None)),
        Just(("DISPLAYNAME", None)),
        Just(("displayname", None)),
        Just(("title", None)),
        Just(("Title", None)),
        Just(("userType", None)),
        Just(("name", Some("familyName"))),
        Just(("NAME", Some("FAMILYNAME"))),
        Just(("name", Some("givenName"))),
        Just(("emails", None)),
        Just(("Emails", None)),
        Just(("emails", Some("value"))),
        Just(("emails", Some("VALUE"))),
        Just(("emails", Some("type"))),
        Just(("emails", Some("primary"))),
        Just(("meta", Some("created"))),
        Just(("meta", Some("lastModified"))),
        Just(("META", Some("LASTMODIFIED"))),
    ];
    let urn = prop_oneof![4 => Just(None), 1 => Just(Some(CORE))];
    let path = (urn, plain).prop_map(|(urn, (name, sub))| AttrPath {
        urn: urn.map(str::to_owned),
        name: name.to_owned(),
        sub_attr: sub.map(str::to_owned),
    });
    let sub = prop_oneof![
        Just("value"),
        Just("VALUE"),
        Just("type"),
        Just("primary"),
        Just("display"),
    ]
    .prop_map(AttrPath::new);
    let value_path = (
        prop_oneof![Just("emails"), Just("EMAILS")],
        with_logic(leaf(sub.boxed())),
    )
        .prop_map(|(name, filter)| Filter::ValuePath {
            path: AttrPath::new(name),
            filter: Box::new(filter),
        });
    with_logic(prop_oneof![4 => leaf(path.boxed()), 1 => value_path].boxed())
}

/// RFC 7643 section 8.2's full User example (with one empty string and an empty array).
pub(crate) fn user() -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            ENTERPRISE
        ],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {
            "formatted": "Ms. Barbara J Jensen, III",
            "familyName": "Jensen",
            "givenName": "Barbara"
        },
        "displayName": "Babs Jensen",
        "nickName": "",
        "title": "Tour Guide",
        "userType": "Employee",
        "active": true,
        "loginCount": 42,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "x509Certificates": [],
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z"
        },
        ENTERPRISE: {
            "employeeNumber": "701984",
            "manager": {"value": "26118915", "displayName": "John Smith"}
        }
    })
}

/// RFC 7643 caseExact for the attributes the tests use.
pub(crate) fn case_rules(path: &AttrPath) -> bool {
    let exact = ["id", "externalId"];
    path.sub_attr.is_none() && exact.iter().any(|n| n.eq_ignore_ascii_case(&path.name))
}
