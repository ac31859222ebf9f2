//! Reading typed values out of parsed JSON while keeping the file name and the JSON path, so
//! that every shape error names the file and the place inside it
//! (`UserDetailList[3].AttachedManagedPolicies[0].PolicyArn`).
//!
//! Optional fields that are absent or `null` read as absent: AWS adds and omits fields
//! between CLI versions, and the loader only insists on the fields it uses.

use crate::input::InputError;
use crate::policy::kind_of;
use serde_json::{Map, Value};

/// A JSON value together with where it is.
#[derive(Debug, Clone)]
pub(crate) struct Node<'a> {
    pub file: &'a str,
    pub path: String,
    pub value: &'a Value,
}

impl<'a> Node<'a> {
    /// The whole document of `file`.
    pub fn root(file: &'a str, value: &'a Value) -> Node<'a> {
        Node {
            file,
            path: String::new(),
            value,
        }
    }

    /// An error about this value.
    pub fn error(&self, message: impl Into<String>) -> InputError {
        InputError::new(self.file, &self.path, message)
    }

    fn expected(&self, what: &str) -> InputError {
        self.error(format!("expected {what}, found {}", kind_of(self.value)))
    }

    fn child(&self, key: &str, value: &'a Value) -> Node<'a> {
        Node {
            file: self.file,
            path: join_key(&self.path, key),
            value,
        }
    }

    pub fn object(&self) -> Result<&'a Map<String, Value>, InputError> {
        self.value
            .as_object()
            .ok_or_else(|| self.expected("an object"))
    }

    pub fn list(&self) -> Result<Vec<Node<'a>>, InputError> {
        let items = self
            .value
            .as_array()
            .ok_or_else(|| self.expected("a list"))?;
        Ok(items
            .iter()
            .enumerate()
            .map(|(index, value)| Node {
                file: self.file,
                path: format!("{}[{index}]", self.path),
                value,
            })
            .collect())
    }

    pub fn str(&self) -> Result<&'a str, InputError> {
        self.value.as_str().ok_or_else(|| self.expected("a string"))
    }

    pub fn bool(&self) -> Result<bool, InputError> {
        self.value
            .as_bool()
            .ok_or_else(|| self.expected("true or false"))
    }

    /// The field `key` of this object; `None` when it is absent or `null`.
    pub fn field(&self, key: &str) -> Result<Option<Node<'a>>, InputError> {
        Ok(match self.object()?.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(self.child(key, value)),
        })
    }

    /// The field `key` of this object, which must be there.
    pub fn required(&self, key: &str) -> Result<Node<'a>, InputError> {
        self.field(key)?
            .ok_or_else(|| InputError::new(self.file, &join_key(&self.path, key), "missing"))
    }

    pub fn required_str(&self, key: &str) -> Result<&'a str, InputError> {
        self.required(key)?.str()
    }

    pub fn optional_str(&self, key: &str) -> Result<Option<&'a str>, InputError> {
        self.field(key)?.map(|node| node.str()).transpose()
    }

    pub fn optional_bool(&self, key: &str) -> Result<Option<bool>, InputError> {
        self.field(key)?.map(|node| node.bool()).transpose()
    }

    /// The list `key` of this object; an absent list is empty.
    pub fn optional_list(&self, key: &str) -> Result<Vec<Node<'a>>, InputError> {
        match self.field(key)? {
            None => Ok(Vec::new()),
            Some(node) => node.list(),
        }
    }

    /// A list of strings.
    pub fn strings(&self) -> Result<Vec<String>, InputError> {
        self.list()?
            .iter()
            .map(|item| item.str().map(str::to_string))
            .collect()
    }
}

fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_carry_the_path() {
        let value = json!({"A": [{"B": 3}], "C": null});
        let root = Node::root("f.json", &value);
        let item = root.required("A").unwrap().list().unwrap().remove(0);
        assert_eq!(
            item.required_str("B").unwrap_err().to_string(),
            "f.json: A[0].B: expected a string, found a number"
        );
        assert_eq!(
            item.required("Z").unwrap_err().to_string(),
            "f.json: A[0].Z: missing"
        );
        assert!(root.field("C").unwrap().is_none());
        assert!(root.optional_list("C").unwrap().is_empty());
        assert_eq!(
            root.required("A")
                .unwrap()
                .object()
                .unwrap_err()
                .to_string(),
            "f.json: A: expected an object, found a list"
        );
    }
}
