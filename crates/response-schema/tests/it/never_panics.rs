//! The checker never panics, whatever it is given.

use catalog::Code;
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use response_schema::{Expect, Response, check};

fn code() -> impl Strategy<Value = Option<Code>> {
    prop_oneof![
        Just(None),
        (0..Code::ALL.len()).prop_map(|i| Some(Code::ALL[i]))
    ]
}

/// Bodies that are near a valid one: JSON objects with the members the
/// checker looks at, holding values of any JSON type.
fn near_body() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
        prop::collection::vec(".{0,4}", 0..3).prop_map(serde_json::Value::from),
    ];
    let key = prop_oneof![
        Just("type"),
        Just("title"),
        Just("status"),
        Just("detail"),
        Just("code"),
        Just("request_id"),
        Just("purpose"),
        Just("errors"),
        Just("retry_after"),
        Just("schemas"),
        Just("scimType"),
    ];
    prop::collection::vec((key, value), 0..10).prop_map(|members| {
        let map: serde_json::Map<String, serde_json::Value> = members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        serde_json::to_vec(&map).unwrap()
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes(status in any::<u16>(), body in prop::collection::vec(any::<u8>(), 0..256),
                       content_type in prop::collection::vec(any::<u8>(), 0..40),
                       www in prop::collection::vec(any::<u8>(), 0..60),
                       retry in prop::collection::vec(any::<u8>(), 0..10),
                       code in code()) {
        let mut headers = HeaderMap::new();
        for (name, bytes) in [("content-type", content_type), ("www-authenticate", www), ("retry-after", retry)] {
            if let Ok(v) = HeaderValue::from_bytes(&bytes) {
                headers.insert(name, v);
            }
        }
        let _ = check(&Response { status, headers: &headers, body: &body }, &Expect { code, ..Expect::default() });
    }

    #[test]
    fn near_valid_bodies(status in 100u16..600, body in near_body(), code in code(),
                         scim in any::<bool>()) {
        let mut headers = HeaderMap::new();
        let media = if scim { "application/scim+json" } else { "application/problem+json" };
        headers.insert("content-type", HeaderValue::from_static(media));
        headers.insert("retry-after", HeaderValue::from_static("7"));
        headers.insert("www-authenticate", HeaderValue::from_static("Bearer error=\"x\""));
        let found = check(&Response { status, headers: &headers, body: &body }, &Expect { code, ..Expect::default() });
        // Every finding names its rule and where; none is blank.
        for v in found {
            prop_assert!(!v.expected.is_empty() && !v.actual.is_empty());
        }
    }
}
