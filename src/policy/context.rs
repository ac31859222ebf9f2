//! The request context: condition keys and their values, as one request carries them.
//!
//! Key names are case-insensitive (AWS documents condition key names so); values are kept as
//! strings exactly as given. A key holds one value or a set of values (`aws:TagKeys`).

use super::template::VariableSource;
use std::collections::BTreeMap;

/// The value of one context key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(untagged)]
pub enum ContextValue {
    Single(String),
    Multi(Vec<String>),
}

impl ContextValue {
    /// The values as a list: one for a single value, all of them for a set.
    pub fn as_slice(&self) -> &[String] {
        match self {
            ContextValue::Single(value) => std::slice::from_ref(value),
            ContextValue::Multi(values) => values,
        }
    }
}

/// Condition keys present in one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: BTreeMap<String, (String, ContextValue)>,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets `key` (replacing any value under the same key in another case).
    pub fn insert(&mut self, key: &str, value: ContextValue) {
        self.entries
            .insert(key.to_ascii_lowercase(), (key.to_string(), value));
    }

    pub fn with(mut self, key: &str, value: &str) -> Context {
        self.insert(key, ContextValue::Single(value.to_string()));
        self
    }

    pub fn remove(&mut self, key: &str) {
        self.entries.remove(&key.to_ascii_lowercase());
    }

    /// The value of `key`, looked up case-insensitively.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.entries
            .get(&key.to_ascii_lowercase())
            .map(|(_, value)| value)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(&key.to_ascii_lowercase())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in a stable order (by lower-cased key), with the key as it was given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries
            .values()
            .map(|(key, value)| (key.as_str(), value))
    }

    /// The context as a JSON object, keys in stable order.
    pub fn to_json(&self) -> serde_json::Value {
        let map = self
            .iter()
            .map(|(key, value)| {
                (
                    key.to_string(),
                    serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
                )
            })
            .collect();
        serde_json::Value::Object(map)
    }
}

impl VariableSource for Context {
    fn variable(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            ContextValue::Single(value) => Some(value),
            ContextValue::Multi(_) => None,
        }
    }
}
