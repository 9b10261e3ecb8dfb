//! Duplicate member names in a JSON body.
//!
//! RFC 8259 §4 says the names within an object SHOULD be unique, and that
//! with duplicates "the behavior of software that receives such an object is
//! unpredictable": serde_json keeps the last value, other parsers the first.
//! A body like `{"code":"BOGUS","code":"NotFound"}` would pass a check that
//! sees only one of them, so every repeated name is a violation of its own.
//! serde_json's `Value` cannot see duplicates, so this walks the body with a
//! visitor of its own.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The JSON Pointer of every member whose name repeats an earlier one in its
/// object, in document order; empty for a body that is not JSON.
pub fn duplicate_members(body: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    // A body that does not parse has no members to compare; not-json says so.
    let _ = Walk {
        path: String::new(),
        out: &mut out,
    }
    .deserialize(&mut de);
    out
}

struct Walk<'a> {
    path: String,
    out: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            let item = Walk {
                path: format!("{}/{index}", self.path),
                out: &mut *self.out,
            };
            if seq.next_element_seed(item)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            let path = format!("{}/{}", self.path, crate::pointer::escape_token(&name));
            if !seen.insert(name) {
                self.out.push(path.clone());
            }
            map.next_value_seed(Walk {
                path,
                out: &mut *self.out,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_repeated_name_at_any_depth() {
        assert_eq!(
            duplicate_members(br#"{"code":"BOGUS","code":"NotFound","a":[{"x/y":1,"x/y":2}],"b":{"c":1,"c":2,"c":3}}"#),
            ["/code", "/a/0/x~1y", "/b/c", "/b/c"]
        );
        assert!(duplicate_members(br#"{"code":"NotFound","a":{"code":1}}"#).is_empty());
        assert!(duplicate_members(b"not json").is_empty());
    }
}
