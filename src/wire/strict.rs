//! A `serde` deserializer over a JSON value that decodes structs only from
//! objects, at every depth, as Go's `encoding/json` does. (serde's derived
//! `Deserialize` also accepts an array for a struct, filling fields by
//! position; bk-cmdb refuses that body, and so must we.)
//!
//! Everything else is forwarded to `serde_json`'s own value deserializer, so
//! type checks stay exact: `"11"` is not an `i64`, `11.5` is not an `i64`,
//! `9223372036854775808` does not fit one.

use serde::Deserializer;
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};
use serde_json::{Error, Value};

/// `value`, decoded strictly.
pub(super) struct Strict<'a>(pub(super) &'a Value);

fn unexpected(value: &Value, what: &str) -> Error {
    de::Error::custom(format!("expected {what}, got {value}"))
}

impl<'de> Deserializer<'de> for Strict<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(_) => self.deserialize_seq(visitor),
            Value::Object(_) => self.deserialize_map(visitor),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(items) => {
                visitor.visit_seq(SeqDeserializer::new(items.iter().map(Strict)))
            }
            other => Err(unexpected(other, "an array")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(MapDeserializer::new(
                map.iter().map(|(k, v)| (k.as_str(), Strict(v))),
            )),
            other => Err(unexpected(other, "an object")),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_i64(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_u64(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_bool(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_string(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i128 u8 u16 u32 u128 f32 f64 char bytes byte_buf unit unit_struct
        newtype_struct tuple tuple_struct enum identifier
    }
}

impl<'de> IntoDeserializer<'de, Error> for Strict<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, Default, PartialEq)]
    #[serde(default)]
    struct Inner {
        a: Option<i64>,
    }

    #[derive(Debug, Deserialize, Default, PartialEq)]
    #[serde(default)]
    struct Outer {
        name: Option<String>,
        inner: Option<Inner>,
        list: Option<Vec<Option<Inner>>>,
    }

    fn strict(v: &Value) -> Result<Outer, Error> {
        Outer::deserialize(Strict(v))
    }

    #[test]
    fn objects_decode_and_unknown_keys_are_ignored() {
        let v = json!({"name": "x", "inner": {"a": 3}, "list": [{"a": 1}, null], "extra": [1, {"b": 2}]});
        let got = strict(&v).unwrap();
        assert_eq!(got.inner, Some(Inner { a: Some(3) }));
        assert_eq!(got.list, Some(vec![Some(Inner { a: Some(1) }), None]));
    }

    #[test]
    fn arrays_never_stand_in_for_structs() {
        assert!(strict(&json!(["x"])).is_err());
        assert!(strict(&json!({"inner": [3]})).is_err());
        assert!(strict(&json!({"list": [[1]]})).is_err());
    }

    #[test]
    fn scalar_types_stay_exact() {
        assert!(strict(&json!({"inner": {"a": "3"}})).is_err());
        assert!(strict(&json!({"inner": {"a": 3.5}})).is_err());
        assert!(strict(&json!({"inner": {"a": 9_223_372_036_854_775_808_u64}})).is_err());
        assert!(strict(&json!({"name": 5})).is_err());
        assert_eq!(strict(&json!({"inner": null})).unwrap().inner, None);
    }
}
