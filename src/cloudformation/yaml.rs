//! CloudFormation YAML read into the JSON form of the same template, with the line of every
//! value, so that the rest of the reader handles one form and errors name YAML lines.
//!
//! The short forms of intrinsic functions are YAML tags: `!Ref X` is `{"Ref": "X"}`,
//! `!GetAtt Role.Arn` is `{"Fn::GetAtt": ["Role", "Arn"]}`, `!Condition C` is
//! `{"Condition": "C"}`, and every other `!Name` is `{"Fn::Name": ...}`
//! (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html).
//! Scalars follow YAML 1.2's core schema: quoted scalars are strings; plain ones are null,
//! booleans, numbers or strings.

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};
use std::collections::BTreeMap;

/// A template read from YAML: its JSON form and the line of each JSON path.
pub struct Read {
    pub value: Value,
    /// The 1-based line of the value at each JSON path (`Resources.Role.Properties`).
    pub lines: BTreeMap<String, usize>,
}

/// A YAML syntax error: the message and its line.
#[derive(Debug)]
pub struct YamlError {
    pub message: String,
    pub line: usize,
}

/// A collection being built, with the path and line it started at.
enum Open {
    Sequence {
        items: Vec<Value>,
        tag: Option<String>,
        anchor: usize,
        path: String,
    },
    Mapping {
        entries: Map<String, Value>,
        key: Option<String>,
        tag: Option<String>,
        anchor: usize,
        path: String,
    },
}

/// Reads the first document of `text`.
pub fn read(text: &str) -> Result<Read, YamlError> {
    let mut stack: Vec<Open> = Vec::new();
    let mut anchors: BTreeMap<usize, Value> = BTreeMap::new();
    let mut lines = BTreeMap::new();
    let mut root: Option<Value> = None;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| YamlError {
            message: e.info().to_string(),
            line: e.marker().line(),
        })?;
        let line = span_line(&span);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                // A scalar in key position is a key, not a value.
                if let Some(Open::Mapping { key, path, .. }) = stack.last_mut() {
                    if key.is_none() {
                        let name = text.to_string();
                        lines.insert(join(path, &name), line);
                        *key = Some(name);
                        continue;
                    }
                }
                let value = tagged(
                    tag_name(tag.as_deref(), line)?,
                    scalar(&text, style, tag.as_deref()),
                );
                if anchor > 0 {
                    anchors.insert(anchor, value.clone());
                }
                let path = child_path(&stack);
                lines.entry(path).or_insert(line);
                place(&mut stack, &mut root, value);
            }
            Event::SequenceStart(anchor, tag) => {
                let path = child_path(&stack);
                lines.entry(path.clone()).or_insert(line);
                stack.push(Open::Sequence {
                    items: Vec::new(),
                    tag: tag_name(tag.as_deref(), line)?,
                    anchor,
                    path,
                });
            }
            Event::MappingStart(anchor, tag) => {
                let path = child_path(&stack);
                lines.entry(path.clone()).or_insert(line);
                stack.push(Open::Mapping {
                    entries: Map::new(),
                    key: None,
                    tag: tag_name(tag.as_deref(), line)?,
                    anchor,
                    path,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, tag, anchor) = match stack.pop() {
                    Some(Open::Sequence {
                        items, tag, anchor, ..
                    }) => (Value::Array(items), tag, anchor),
                    Some(Open::Mapping {
                        entries,
                        tag,
                        anchor,
                        ..
                    }) => (Value::Object(entries), tag, anchor),
                    None => continue,
                };
                let value = tagged(tag, value);
                if anchor > 0 {
                    anchors.insert(anchor, value.clone());
                }
                place(&mut stack, &mut root, value);
            }
            Event::Alias(anchor) => {
                let value = anchors.get(&anchor).cloned().ok_or_else(|| YamlError {
                    message: "an alias to an anchor not defined before it".into(),
                    line,
                })?;
                if let Some(Open::Mapping { key, .. }) = stack.last_mut() {
                    if key.is_none() {
                        *key = Some(value.as_str().unwrap_or_default().to_string());
                        continue;
                    }
                }
                place(&mut stack, &mut root, value);
            }
            // A template is one document.
            Event::DocumentStart(_) if root.is_some() => {
                return Err(YamlError {
                    message: "a template is one YAML document; this file holds several".into(),
                    line,
                });
            }
            _ => {}
        }
    }
    Ok(Read {
        value: root.unwrap_or(Value::Null),
        lines,
    })
}

fn span_line(span: &Span) -> usize {
    span.start.line()
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The JSON path of the next value placed in the innermost open collection.
fn child_path(stack: &[Open]) -> String {
    match stack.last() {
        Some(Open::Sequence { items, path, .. }) => format!("{path}[{}]", items.len()),
        Some(Open::Mapping {
            key: Some(key),
            path,
            ..
        }) => join(path, key),
        Some(Open::Mapping { path, .. }) => path.clone(),
        None => String::new(),
    }
}

fn place(stack: &mut [Open], root: &mut Option<Value>, value: Value) {
    match stack.last_mut() {
        Some(Open::Sequence { items, .. }) => items.push(value),
        Some(Open::Mapping { entries, key, .. }) => {
            let name = key.take().unwrap_or_default();
            entries.insert(name, value);
        }
        None => {
            if root.is_none() {
                *root = Some(value);
            }
        }
    }
}

/// The name of a local tag (`Ref` for `!Ref`); core-schema tags (`!!str`) are not functions.
fn tag_name(tag: Option<&Tag>, line: usize) -> Result<Option<String>, YamlError> {
    let Some(tag) = tag.filter(|t| t.handle == "!") else {
        return Ok(None);
    };
    if !FUNCTION_TAGS.contains(&tag.suffix.as_str()) {
        return Err(YamlError {
            message: format!("!{} is not a CloudFormation function", tag.suffix),
            line,
        });
    }
    Ok(Some(tag.suffix.clone()))
}

/// The short forms CloudFormation defines.
const FUNCTION_TAGS: &[&str] = &[
    "Ref",
    "Condition",
    "GetAtt",
    "Sub",
    "Join",
    "Select",
    "Split",
    "If",
    "FindInMap",
    "Base64",
    "Cidr",
    "GetAZs",
    "ImportValue",
    "Transform",
    "And",
    "Equals",
    "Not",
    "Or",
    "Length",
    "ToJsonString",
];

/// A tagged value in its long form.
fn tagged(tag: Option<String>, value: Value) -> Value {
    let Some(name) = tag else {
        return value;
    };
    let (key, value) = match name.as_str() {
        "Ref" => ("Ref".to_string(), value),
        "Condition" => ("Condition".to_string(), value),
        "GetAtt" => {
            let value = match value {
                Value::String(text) => match text.split_once('.') {
                    Some((resource, attribute)) => {
                        Value::Array(vec![resource.into(), attribute.into()])
                    }
                    None => Value::String(text),
                },
                other => other,
            };
            ("Fn::GetAtt".to_string(), value)
        }
        other => (format!("Fn::{other}"), value),
    };
    let mut map = Map::new();
    map.insert(key, value);
    Value::Object(map)
}

fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    let core = tag.filter(|t| t.handle == "tag:yaml.org,2002:" || t.handle == "!!");
    if style != ScalarStyle::Plain || core.is_some_and(|t| t.suffix == "str") {
        return Value::String(text.to_string());
    }
    match text {
        "null" | "Null" | "NULL" | "~" | "" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(integer) = text.parse::<i64>() {
        return Value::Number(integer.into());
    }
    if text.contains('.') || text.contains('e') || text.contains('E') {
        if let Some(number) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            if !text.starts_with('.') && !text.ends_with('.') {
                return Value::Number(number);
            }
        }
    }
    Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_forms_become_long_forms() {
        let read = read(
            "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: !Ref Name\n      Arn: !GetAtt Role.Arn\n      Joined: !Join ['', [a, !Sub '${AWS::AccountId}']]\n",
        )
        .unwrap();
        assert_eq!(
            read.value["Resources"]["Role"]["Properties"],
            json!({"RoleName": {"Ref": "Name"}, "Arn": {"Fn::GetAtt": ["Role", "Arn"]},
                   "Joined": {"Fn::Join": ["", ["a", {"Fn::Sub": "${AWS::AccountId}"}]]}})
        );
        assert_eq!(read.lines["Resources.Role.Properties.RoleName"], 5);
    }

    #[test]
    fn quoted_scalars_stay_strings_and_plain_ones_are_typed() {
        let read =
            read("a: '2012-10-17'\nb: 2012-10-17\nc: 'true'\nd: true\ne: 12\nf: ~\n").unwrap();
        assert_eq!(
            read.value,
            json!({"a": "2012-10-17", "b": "2012-10-17", "c": "true", "d": true, "e": 12, "f": null})
        );
    }

    #[test]
    fn anchors_and_aliases_are_expanded() {
        let read = read("a: &doc {Version: '2012-10-17'}\nb: *doc\n").unwrap();
        assert_eq!(read.value["b"], json!({"Version": "2012-10-17"}));
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let error = read("a: [1, 2\nb: c\n").err().expect("an error");
        assert!(error.line >= 1, "{error:?}");
    }
}
