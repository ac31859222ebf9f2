//! Errors about user input, with the file and the JSON path they concern, and the small
//! helpers that read typed values out of JSON while keeping that path.

use crate::policy::{kind_of, Policy, PolicyError};
use serde_json::Value;

/// Bad input: which file, where inside it, and what is wrong. The CLI maps it to exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", location(.line, .path))]
pub struct InputError {
    pub file: String,
    /// The line of an NDJSON input.
    pub line: Option<usize>,
    /// The JSON path inside the file (`identity_policies[0].Statement[1].Effect`); empty for the
    /// whole file.
    pub path: String,
    pub message: String,
}

fn location(line: &Option<usize>, path: &str) -> String {
    let mut text = String::new();
    if let Some(line) = line {
        text.push_str(&format!(":{line}"));
    }
    if !path.is_empty() {
        text.push_str(&format!(": {path}"));
    }
    text
}

impl InputError {
    pub fn new(file: &str, path: &str, message: impl Into<String>) -> InputError {
        InputError {
            file: file.to_string(),
            line: None,
            path: path.to_string(),
            message: message.into(),
        }
    }

    pub fn at_line(mut self, line: usize) -> InputError {
        self.line = Some(line);
        self
    }

    /// Wraps a policy parse error found at `prefix` inside `file`.
    pub fn from_policy(file: &str, prefix: &str, error: PolicyError) -> InputError {
        let error = if prefix.is_empty() {
            error
        } else {
            error.within(prefix)
        };
        InputError::new(file, &error.path, error.message)
    }
}

/// Reads the JSON value at `path` of `file` as a policy document.
pub fn policy_at(file: &str, path: &str, value: &Value) -> Result<Policy, InputError> {
    Policy::from_value(value).map_err(|e| InputError::from_policy(file, path, e))
}

/// A string field, or an error naming its path.
pub fn string_at<'v>(file: &str, path: &str, value: &'v Value) -> Result<&'v str, InputError> {
    value.as_str().ok_or_else(|| {
        InputError::new(
            file,
            path,
            format!("expected a string, found {}", kind_of(value)),
        )
    })
}

/// A list field, or an error naming its path.
pub fn list_at<'v>(file: &str, path: &str, value: &'v Value) -> Result<&'v Vec<Value>, InputError> {
    value.as_array().ok_or_else(|| {
        InputError::new(
            file,
            path,
            format!("expected a list, found {}", kind_of(value)),
        )
    })
}

/// Reads a JSON file whose top level is an object of the named `fields` only; `what` names the
/// kind of file in messages ("proof file"). Returns the file's name for later messages.
pub fn read_object_file(
    path: &std::path::Path,
    what: &str,
    fields: &[&str],
) -> Result<(String, serde_json::Map<String, Value>), InputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::new(&file, "", format!("cannot read: {e}")))?;
    let value = parse_json(&file, &text)?;
    let Value::Object(object) = value else {
        return Err(InputError::new(
            &file,
            "",
            format!("expected a {what} object, found {}", kind_of(&value)),
        ));
    };
    if let Some(unknown) = object.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(InputError::new(
            &file,
            unknown,
            format!("unknown field (expected {})", fields.join(" and ")),
        ));
    }
    Ok((file, object))
}

/// Parses JSON text, reporting the line and column of a syntax error.
pub fn parse_json(file: &str, text: &str) -> Result<Value, InputError> {
    serde_json::from_str(text)
        .map_err(|e| InputError::new(file, "", format!("not valid JSON: {e}")))
}
