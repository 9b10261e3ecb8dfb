//! Duplicate member names in a JSON body.
//!
//! RFC 8259 §4 says the names within an object SHOULD be unique, and that
//! with duplicates "the behavior of software that receives such an object is
//! unpredictable": serde_json keeps the last value, other parsers the first.
//! A body like `{"code":"BOGUS","code":"NotFound"}` would pass a check that
//! sees only one of them, so every repeated name is a violation of its own.
//! serde_json's `Value` cannot see duplicates, so [`parse`] builds the value
//! with a visitor of its own that notes them on the way: each body is parsed
//! once.

use std::fmt;
use std::fmt::Write as _;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// `body` as `serde_json::from_slice` parses it (of repeated names the last
/// value wins, as there), with the JSON Pointer of every repeated name in
/// document order.
pub fn parse(body: &[u8]) -> serde_json::Result<(Value, Vec<String>)> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut duplicates = Vec::new();
    let mut path = String::new();
    let value = Build {
        path: &mut path,
        duplicates: &mut duplicates,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok((value, duplicates))
}

/// Builds one value; `path` is its JSON Pointer, and is left as it was found.
struct Build<'a> {
    path: &'a mut String,
    duplicates: &'a mut Vec<String>,
}

impl Build<'_> {
    fn child(&mut self) -> Build<'_> {
        Build {
            path: &mut *self.path,
            duplicates: &mut *self.duplicates,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Build<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // As serde_json's own `Value`: JSON has no NaN or infinity to give.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        let at = self.path.len();
        let mut items = Vec::new();
        loop {
            // Writing to a String cannot fail.
            let _ = write!(self.path, "/{}", items.len());
            let item = seq.next_element_seed(self.child())?;
            self.path.truncate(at);
            match item {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut access: A) -> Result<Value, A::Error> {
        let at = self.path.len();
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            self.path.push('/');
            self.path.push_str(&crate::pointer::escape_token(&name));
            if map.contains_key(&name) {
                self.duplicates.push(self.path.clone());
            }
            let value = access.next_value_seed(self.child())?;
            self.path.truncate(at);
            map.insert(name, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate_members(body: &[u8]) -> Vec<String> {
        parse(body)
            .map(|(_, duplicates)| duplicates)
            .unwrap_or_default()
    }

    #[test]
    fn finds_every_repeated_name_at_any_depth() {
        assert_eq!(
            duplicate_members(br#"{"code":"BOGUS","code":"NotFound","a":[{"x/y":1,"x/y":2}],"b":{"c":1,"c":2,"c":3}}"#),
            ["/code", "/a/0/x~1y", "/b/c", "/b/c"]
        );
        assert!(duplicate_members(br#"{"code":"NotFound","a":{"code":1}}"#).is_empty());
        assert!(parse(b"not json").is_err());
        // A repeated member's own pointer comes before those inside it.
        assert_eq!(
            duplicate_members(br#"{"a":1,"a":{"b":1,"b":2}}"#),
            ["/a", "/a/b"]
        );
    }

    #[test]
    fn the_value_is_serde_jsons_and_so_are_its_errors() {
        for body in [
            r#"{"code":"BOGUS","code":"NotFound","n":[1,-2,3.5,-0.0,1e300,18446744073709551615],"s":"\u00e9\n","z":null,"t":true}"#,
            r#"[{"a":[[]]},{}]"#,
            r#""just a string""#,
            "  42  ",
        ] {
            let (value, _) = parse(body.as_bytes()).unwrap();
            assert_eq!(
                value,
                serde_json::from_str::<Value>(body).unwrap(),
                "{body}"
            );
        }
        for bad in [
            "[1e400]",
            "{\"a\":1} trailing",
            "{\"a\":",
            "",
            "[1,]",
            &"[".repeat(200),
        ] {
            let ours = parse(bad.as_bytes()).unwrap_err().to_string();
            let theirs = serde_json::from_str::<Value>(bad).unwrap_err().to_string();
            assert_eq!(ours, theirs, "{bad}");
        }
    }
}
