//! Policy documents as AWS prints them, decoded into `Policy` values.
//!
//! The same document reaches us in three encodings: a JSON object (AWS CLI, boto3), JSON text
//! (bucket, key and organizations policies, some exports), or URL-encoded JSON text (the raw
//! IAM API). API Gateway adds a fourth quirk: JSON text whose quotes are escaped once more.
//! Errors keep the JSON path of the document inside its file and continue into the document
//! (`PolicyDocument.Statement[1].Condition.StringEqualz`).

use super::json::Node;
use crate::input::{policy_at, InputError};
use crate::policy::{kind_of, Policy, PolicyError};
use percent_encoding::percent_decode_str;
use serde_json::Value;
use std::borrow::Cow;

/// Parses the policy document at `node`, in any of the three encodings.
pub(crate) fn policy_document(node: &Node) -> Result<Policy, InputError> {
    let value = decoded(node)?;
    policy_at(node.file, &node.path, &value)
}

/// Parses the document of an AWS managed policy at `node`, in any of the three encodings.
pub(crate) fn aws_managed_policy_document(node: &Node) -> Result<Policy, InputError> {
    let value = decoded(node)?;
    aws_managed_policy(&value)
        .map_err(|error| InputError::from_policy(node.file, &node.path, error))
}

/// The JSON value of the document at `node`, decoded from text when it is text.
fn decoded<'a>(node: &Node<'a>) -> Result<Cow<'a, Value>, InputError> {
    match node.value {
        Value::Object(_) => Ok(Cow::Borrowed(node.value)),
        Value::String(text) => decode_document_text(text)
            .map(Cow::Owned)
            .map_err(|message| node.error(message)),
        other => Err(node.error(format!(
            "expected a policy document (a JSON object, JSON text or URL-encoded JSON text), found {}",
            kind_of(other)
        ))),
    }
}

/// Parses an AWS managed policy document. The largest (`AWSSupportServiceRolePolicy`, about
/// 150 KB) is well within `MAX_POLICY_BYTES`.
pub(crate) fn aws_managed_policy(value: &Value) -> Result<Policy, PolicyError> {
    Policy::from_value(value)
}

/// Parses a policy document that may carry one extra level of escaping (`{\"Version\":...}`),
/// as `apigateway get-rest-apis` prints resource policies.
pub(crate) fn escaped_policy_document(node: &Node) -> Result<Policy, InputError> {
    let Value::String(text) = node.value else {
        return policy_document(node);
    };
    let value = match decode_document_text(text) {
        Ok(value) => value,
        Err(message) => unescape_once(text)
            .and_then(|unescaped| decode_document_text(&unescaped).ok())
            .ok_or_else(|| node.error(message))?,
    };
    policy_at(node.file, &node.path, &value)
}

/// Reads the output of `get-bucket-policy` or `get-key-policy`: the document as JSON text in
/// `{"Policy": "..."}`. A bare document (an object with `Statement`) is accepted too.
pub(crate) fn wrapped_policy(root: &Node) -> Result<Policy, InputError> {
    let object = root.object()?;
    match root.field("Policy")? {
        Some(inner) => policy_document(&inner),
        None if object.contains_key("Statement") => policy_document(root),
        None => Err(InputError::new(
            root.file,
            "Policy",
            "missing (expected {\"Policy\": \"<policy document as JSON text>\"})",
        )),
    }
}

/// Decodes JSON text or URL-encoded JSON text into a JSON value; the error is a message.
pub(crate) fn decode_document_text(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') || !trimmed.contains('%') {
        return serde_json::from_str(trimmed).map_err(|e| format!("not valid JSON: {e}"));
    }
    let first_error = match url_decoded_json(trimmed) {
        Ok(value) => return Ok(value),
        Err(message) => message,
    };
    // Form encoding writes spaces as `+` (and a literal plus as `%2B`).
    if trimmed.contains('+') {
        if let Ok(value) = url_decoded_json(&trimmed.replace('+', " ")) {
            return Ok(value);
        }
    }
    Err(first_error)
}

fn url_decoded_json(text: &str) -> Result<Value, String> {
    let decoded = percent_decode_str(text)
        .decode_utf8()
        .map_err(|_| "URL-encoded text that does not decode to UTF-8".to_string())?;
    serde_json::from_str(&decoded).map_err(|e| format!("not valid JSON after URL decoding: {e}"))
}

/// Removes one level of JSON string escaping (`{\"a\":1}` becomes `{"a":1}`).
fn unescape_once(text: &str) -> Option<String> {
    if !text.contains("\\\"") {
        return None;
    }
    serde_json::from_str::<String>(&format!("\"{text}\"")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DOCUMENT: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a b+c"}}"#;

    fn parse(value: &Value) -> Result<Policy, InputError> {
        policy_document(&Node::root("f.json", value))
    }

    fn url_encoded(text: &str) -> String {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    #[test]
    fn the_three_encodings_give_the_same_policy() {
        let object: Value = serde_json::from_str(DOCUMENT).unwrap();
        let from_object = parse(&object).unwrap();
        let from_text = parse(&Value::String(DOCUMENT.to_string())).unwrap();
        let from_url = parse(&Value::String(url_encoded(DOCUMENT))).unwrap();
        assert_eq!(from_object, from_text);
        assert_eq!(from_object, from_url);
    }

    #[test]
    fn pretty_printed_and_form_encoded_text_decode() {
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(DOCUMENT).unwrap())
                .unwrap();
        let expected = parse(&serde_json::from_str(DOCUMENT).unwrap()).unwrap();
        assert_eq!(
            parse(&Value::String(url_encoded(&pretty))).unwrap(),
            expected
        );
        let form = url_encoded(&pretty).replace("%20", "+");
        assert_eq!(parse(&Value::String(form)).unwrap(), expected);
    }

    #[test]
    fn errors_name_the_path_inside_the_embedded_document() {
        let bad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}"#;
        let outer = json!({"Doc": url_encoded(bad)});
        let node = Node::root("f.json", &outer).required("Doc").unwrap();
        assert_eq!(
            policy_document(&node).unwrap_err().to_string(),
            "f.json: Doc.Statement[0].Condition.StringEqualz: unknown condition operator \"StringEqualz\""
        );
        let cut = json!({"Doc": "{\"Version\":"});
        let node = Node::root("f.json", &cut).required("Doc").unwrap();
        let message = policy_document(&node).unwrap_err().to_string();
        assert!(
            message.starts_with("f.json: Doc: not valid JSON: "),
            "{message}"
        );
        let number = json!({"Doc": 3});
        let node = Node::root("f.json", &number).required("Doc").unwrap();
        assert_eq!(
            policy_document(&node).unwrap_err().to_string(),
            "f.json: Doc: expected a policy document (a JSON object, JSON text or URL-encoded JSON text), found a number"
        );
    }

    #[test]
    fn wrappers_and_escaped_text() {
        let expected = parse(&serde_json::from_str(DOCUMENT).unwrap()).unwrap();
        let wrapped = json!({"Policy": DOCUMENT, "PolicyName": "default"});
        assert_eq!(
            wrapped_policy(&Node::root("f", &wrapped)).unwrap(),
            expected
        );
        let bare: Value = serde_json::from_str(DOCUMENT).unwrap();
        assert_eq!(wrapped_policy(&Node::root("f", &bare)).unwrap(), expected);
        let neither = json!({"Other": 1});
        assert_eq!(
            wrapped_policy(&Node::root("f", &neither))
                .unwrap_err()
                .to_string(),
            "f: Policy: missing (expected {\"Policy\": \"<policy document as JSON text>\"})"
        );
        let escaped = Value::String(DOCUMENT.replace('"', "\\\""));
        assert_eq!(
            escaped_policy_document(&Node::root("f", &escaped)).unwrap(),
            expected
        );
    }
}
