//! The IAM policy language: a typed syntax tree, parsing from JSON with precise JSON-path
//! errors, glob patterns, condition operators and policy variables.
//!
//! Parsing is strict where AWS is strict (element names, `Effect` values, operator names) so
//! that a typo is reported instead of silently granting or denying; it accepts every shape AWS
//! accepts (single values or lists, a single statement object or a list).

pub mod action_index;
pub mod condition;
pub mod context;
pub mod pattern;
pub mod template;

use condition::{Condition, Operator};
use pattern::Glob;
use serde_json::Value;
use template::{Template, VariableSource};

pub use context::{Context, ContextValue};

/// The largest policy document accepted, in bytes of compact JSON. Customer policies stop at
/// 32 KiB (key policies), but a few AWS managed policies exceed 150 KB; 1 MiB admits them all
/// while refusing documents that can only be mistakes.
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// A parse error: where in the document (`Statement[2].Condition.StringLike`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PolicyError {
    pub path: String,
    pub message: String,
}

impl PolicyError {
    fn new(path: &str, message: impl Into<String>) -> PolicyError {
        PolicyError {
            path: if path.is_empty() {
                "(document)".to_string()
            } else {
                path.to_string()
            },
            message: message.into(),
        }
    }

    /// The same error with `prefix` put before its path (for documents nested in other JSON).
    pub fn within(mut self, prefix: &str) -> PolicyError {
        self.path = if self.path == "(document)" {
            prefix.to_string()
        } else {
            format!("{prefix}.{}", self.path)
        };
        self
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// The kind of a principal entry in a `Principal` map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalKind {
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

/// One entry of a `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrincipalEntry {
    pub kind: PrincipalKind,
    pub value: String,
}

/// `Principal`/`NotPrincipal`: everyone (`"*"`) or a list of entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PrincipalSet {
    /// `"*"`
    Everyone,
    Entries(Vec<PrincipalEntry>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrincipalElement {
    /// True for `NotPrincipal`.
    pub negated: bool,
    pub set: PrincipalSet,
}

/// `Action`/`NotAction`: patterns matched case-insensitively.
#[derive(Clone)]
pub struct ActionElement {
    pub negated: bool,
    patterns: Vec<Glob>,
    /// The patterns by service, so that `covers` tries only those that may match.
    index: action_index::ActionIndex,
}

impl ActionElement {
    pub fn new(negated: bool, patterns: Vec<Glob>) -> ActionElement {
        let index = action_index::ActionIndex::of(&patterns);
        ActionElement {
            negated,
            patterns,
            index,
        }
    }

    pub fn patterns(&self) -> &[Glob] {
        &self.patterns
    }

    /// Whether this element covers `action` (after `NotAction` negation).
    pub fn covers(&self, action: &str) -> bool {
        let matched = match self.index.candidates(action) {
            Some(mut positions) => positions.any(|p| self.patterns[p].matches_ignore_case(action)),
            None => self.patterns.iter().any(|p| p.matches_ignore_case(action)),
        };
        matched != self.negated
    }
}

// The index is a function of the patterns: equality, hashing and debugging look at them alone.
impl PartialEq for ActionElement {
    fn eq(&self, other: &Self) -> bool {
        self.negated == other.negated && self.patterns == other.patterns
    }
}

impl Eq for ActionElement {}

impl std::hash::Hash for ActionElement {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.negated.hash(state);
        self.patterns.hash(state);
    }
}

impl std::fmt::Debug for ActionElement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionElement")
            .field("negated", &self.negated)
            .field("patterns", &self.patterns)
            .finish()
    }
}

/// `Resource`/`NotResource`: patterns that may hold policy variables, matched per ARN segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceElement {
    pub negated: bool,
    pub patterns: Vec<Template>,
}

impl ResourceElement {
    /// Whether this element covers `resource` (after `NotResource` negation). A pattern whose
    /// variable is unresolved matches nothing.
    pub fn covers(&self, resource: &str, variables: &dyn VariableSource) -> bool {
        let matched = self.patterns.iter().any(|pattern| {
            pattern
                .resolve_glob(variables)
                .is_some_and(|glob| glob.matches_arn(resource))
        });
        matched != self.negated
    }
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Statement {
    /// Position in the policy's statement list.
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalElement>,
    pub action: ActionElement,
    /// `None` when the statement has no `Resource` element (trust policies): any resource.
    pub resource: Option<ResourceElement>,
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// The statement's name in explanations: its `Sid`, or its index.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => sid.clone(),
            _ => self.index.to_string(),
        }
    }

    /// Whether every condition of the statement holds.
    pub fn conditions_hold(&self, context: &Context) -> bool {
        self.conditions.iter().all(|c| c.holds(context))
    }
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Policy {
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Parses a policy from JSON text.
    pub fn from_json_text(text: &str) -> Result<Policy, PolicyError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| PolicyError::new("", format!("not valid JSON: {e}")))?;
        Policy::from_value(&value)
    }

    /// Parses a policy from a JSON value.
    pub fn from_value(value: &Value) -> Result<Policy, PolicyError> {
        check_size(value)?;
        let object = value.as_object().ok_or_else(|| {
            PolicyError::new(
                "",
                format!("expected a JSON object, found {}", kind_of(value)),
            )
        })?;
        for key in object.keys() {
            if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
                return Err(PolicyError::new(
                    key,
                    "unknown policy element (expected Version, Id or Statement)",
                ));
            }
        }
        let version = optional_string(object.get("Version"), "Version")?;
        if let Some(v) = &version {
            if v != "2012-10-17" && v != "2008-10-17" {
                return Err(PolicyError::new(
                    "Version",
                    format!(
                        "unknown policy version {v:?} (expected \"2012-10-17\" or \"2008-10-17\")"
                    ),
                ));
            }
        }
        let id = optional_string(object.get("Id"), "Id")?;
        let variables = version.as_deref() == Some("2012-10-17");
        let statements = match object.get("Statement") {
            None => {
                return Err(PolicyError::new(
                    "Statement",
                    "missing; a policy needs at least one statement",
                ))
            }
            Some(Value::Array(items)) if items.is_empty() => {
                return Err(PolicyError::new(
                    "Statement",
                    "empty list; a policy needs at least one statement",
                ))
            }
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_statement(item, i, &format!("Statement[{i}]"), variables))
                .collect::<Result<Vec<_>, _>>()?,
            Some(item @ Value::Object(_)) => {
                vec![parse_statement(item, 0, "Statement", variables)?]
            }
            Some(other) => {
                return Err(PolicyError::new(
                    "Statement",
                    format!(
                        "expected an object or a list of objects, found {}",
                        kind_of(other)
                    ),
                ))
            }
        };
        Ok(Policy {
            version,
            id,
            statements,
        })
    }
}

fn check_size(value: &Value) -> Result<(), PolicyError> {
    let mut counter = ByteCounter(0);
    // Serialising into a counter cannot fail for a `Value`.
    let _ = serde_json::to_writer(&mut counter, value);
    if counter.0 > MAX_POLICY_BYTES {
        return Err(PolicyError::new(
            "",
            format!(
                "policy document is larger than {MAX_POLICY_BYTES} bytes of JSON (the largest AWS managed policies are about 150 KB)"
            ),
        ));
    }
    Ok(())
}

struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        if self.0 > MAX_POLICY_BYTES {
            return Err(std::io::Error::other("policy too large"));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A short name for the JSON type of `value`, for error messages.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn optional_string(value: Option<&Value>, path: &str) -> Result<Option<String>, PolicyError> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(PolicyError::new(
            path,
            format!("expected a string, found {}", kind_of(other)),
        )),
    }
}

/// A string or a non-empty list of strings.
fn string_list(value: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if items.is_empty() => Err(PolicyError::new(path, "empty list")),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(PolicyError::new(
                    &format!("{path}[{i}]"),
                    format!("expected a string, found {}", kind_of(other)),
                )),
            })
            .collect(),
        other => Err(PolicyError::new(
            path,
            format!(
                "expected a string or a list of strings, found {}",
                kind_of(other)
            ),
        )),
    }
}

fn parse_statement(
    value: &Value,
    index: usize,
    path: &str,
    variables: bool,
) -> Result<Statement, PolicyError> {
    let object = value.as_object().ok_or_else(|| {
        PolicyError::new(
            path,
            format!("expected a statement object, found {}", kind_of(value)),
        )
    })?;
    for key in object.keys() {
        if !matches!(
            key.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        ) {
            return Err(PolicyError::new(
                &format!("{path}.{key}"),
                "unknown statement element",
            ));
        }
    }
    let sid = match object.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(PolicyError::new(
                &format!("{path}.Sid"),
                format!("expected a string, found {}", kind_of(other)),
            ))
        }
    };
    let effect = match object.get("Effect") {
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(Value::String(s)) => {
            return Err(PolicyError::new(
                &format!("{path}.Effect"),
                format!("unknown effect {s:?} (expected \"Allow\" or \"Deny\")"),
            ))
        }
        Some(other) => {
            return Err(PolicyError::new(
                &format!("{path}.Effect"),
                format!("expected \"Allow\" or \"Deny\", found {}", kind_of(other)),
            ))
        }
        None => {
            return Err(PolicyError::new(
                &format!("{path}.Effect"),
                "missing (expected \"Allow\" or \"Deny\")",
            ))
        }
    };
    let principal = parse_principal(object, path)?;
    let action = match exclusive_pair(object, path, "Action", "NotAction")? {
        Some((negated, name, value)) => ActionElement::new(
            negated,
            string_list(value, &format!("{path}.{name}"))?
                .iter()
                .map(|a| Glob::parse(a))
                .collect(),
        ),
        None => {
            return Err(PolicyError::new(
                &format!("{path}.Action"),
                "missing (a statement needs Action or NotAction)",
            ))
        }
    };
    let resource = match exclusive_pair(object, path, "Resource", "NotResource")? {
        Some((negated, name, value)) => Some(ResourceElement {
            negated,
            patterns: string_list(value, &format!("{path}.{name}"))?
                .iter()
                .map(|r| Template::parse(r, variables))
                .collect(),
        }),
        None => None,
    };
    let conditions = match object.get("Condition") {
        None => Vec::new(),
        Some(value) => parse_conditions(value, &format!("{path}.Condition"), variables)?,
    };
    Ok(Statement {
        index,
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

/// Finds at most one of `positive`/`negative`; both together is an error.
fn exclusive_pair<'v>(
    object: &'v serde_json::Map<String, Value>,
    path: &str,
    positive: &'static str,
    negative: &'static str,
) -> Result<Option<(bool, &'static str, &'v Value)>, PolicyError> {
    match (object.get(positive), object.get(negative)) {
        (Some(_), Some(_)) => Err(PolicyError::new(
            &format!("{path}.{negative}"),
            format!("a statement may have {positive} or {negative}, not both"),
        )),
        (Some(value), None) => Ok(Some((false, positive, value))),
        (None, Some(value)) => Ok(Some((true, negative, value))),
        (None, None) => Ok(None),
    }
}

fn parse_principal(
    object: &serde_json::Map<String, Value>,
    path: &str,
) -> Result<Option<PrincipalElement>, PolicyError> {
    let Some((negated, name, value)) = exclusive_pair(object, path, "Principal", "NotPrincipal")?
    else {
        return Ok(None);
    };
    let path = format!("{path}.{name}");
    let set = match value {
        Value::String(s) if s == "*" => PrincipalSet::Everyone,
        // A bare string other than "*" names an AWS principal, as if written {"AWS": "..."}.
        Value::String(s) => PrincipalSet::Entries(vec![PrincipalEntry {
            kind: PrincipalKind::Aws,
            value: s.trim().to_string(),
        }]),
        Value::Object(map) if map.is_empty() => {
            return Err(PolicyError::new(&path, "empty principal map"))
        }
        Value::Object(map) => {
            let mut entries = Vec::new();
            for (kind_name, values) in map {
                let kind = match kind_name.as_str() {
                    "AWS" => PrincipalKind::Aws,
                    "Service" => PrincipalKind::Service,
                    "Federated" => PrincipalKind::Federated,
                    "CanonicalUser" => PrincipalKind::CanonicalUser,
                    _ => {
                        return Err(PolicyError::new(
                            &format!("{path}.{kind_name}"),
                            "unknown principal type (expected AWS, Service, Federated or CanonicalUser)",
                        ))
                    }
                };
                for value in string_list(values, &format!("{path}.{kind_name}"))? {
                    entries.push(PrincipalEntry {
                        kind,
                        value: value.trim().to_string(),
                    });
                }
            }
            PrincipalSet::Entries(entries)
        }
        other => {
            return Err(PolicyError::new(
                &path,
                format!(
                    "expected \"*\" or a principal map, found {}",
                    kind_of(other)
                ),
            ))
        }
    };
    Ok(Some(PrincipalElement { negated, set }))
}

fn parse_conditions(
    value: &Value,
    path: &str,
    variables: bool,
) -> Result<Vec<Condition>, PolicyError> {
    let blocks = value.as_object().ok_or_else(|| {
        PolicyError::new(
            path,
            format!("expected an object of operators, found {}", kind_of(value)),
        )
    })?;
    let mut conditions = Vec::new();
    for (operator_name, keys) in blocks {
        let op_path = format!("{path}.{operator_name}");
        let operator = Operator::parse(operator_name).ok_or_else(|| {
            PolicyError::new(
                &op_path,
                format!("unknown condition operator {operator_name:?}"),
            )
        })?;
        let keys = keys.as_object().ok_or_else(|| {
            PolicyError::new(
                &op_path,
                format!(
                    "expected an object of condition keys, found {}",
                    kind_of(keys)
                ),
            )
        })?;
        for (key, values) in keys {
            let key_path = format!("{op_path}.{key}");
            if key.is_empty() {
                return Err(PolicyError::new(&key_path, "empty condition key"));
            }
            let values = condition_values(values, &key_path)?
                .iter()
                .map(|v| Template::parse(v, variables))
                .collect();
            conditions.push(Condition {
                operator,
                key: key.clone(),
                values,
            });
        }
    }
    Ok(conditions)
}

/// Condition values: strings, numbers or booleans, alone or in a list.
fn condition_values(value: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    let scalar = |value: &Value, path: &str| match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(PolicyError::new(
            path,
            format!(
                "expected a string, number or boolean, found {}",
                kind_of(other)
            ),
        )),
    };
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| scalar(item, &format!("{path}[{i}]")))
            .collect(),
        other => Ok(vec![scalar(other, path)?]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error_of(value: Value) -> String {
        Policy::from_value(&value).unwrap_err().to_string()
    }

    #[test]
    fn parses_single_and_list_shapes() {
        let policy = Policy::from_value(&json!({
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
        }))
        .unwrap();
        assert_eq!(policy.statements.len(), 1);
        assert!(policy.statements[0].action.covers("S3:getobject"));
        let policy = Policy::from_value(&json!({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "x", "Effect": "Deny", "NotAction": ["iam:*"], "NotResource": ["arn:aws:s3:::b"],
                           "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": ["a*", 1, true]}}}]
        }))
        .unwrap();
        let statement = &policy.statements[0];
        assert_eq!(statement.label(), "x");
        assert!(statement.action.covers("s3:PutObject"));
        assert!(!statement.action.covers("iam:PassRole"));
        assert_eq!(statement.conditions[0].values.len(), 3);
    }

    #[test]
    fn errors_name_the_path() {
        assert_eq!(
            error_of(json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEqualz": {"k": "v"}}}]})),
            "Statement[1].Condition.StringEqualz: unknown condition operator \"StringEqualz\""
        );
        assert_eq!(
            error_of(json!({"Statement": [{"Effect": "Permit", "Action": "*"}]})),
            "Statement[0].Effect: unknown effect \"Permit\" (expected \"Allow\" or \"Deny\")"
        );
        assert_eq!(
            error_of(json!({"Statement": []})),
            "Statement: empty list; a policy needs at least one statement"
        );
        assert_eq!(
            error_of(json!({"Statement": {"Effect": "Allow", "Action": ["s3:*", 3]}})),
            "Statement.Action[1]: expected a string, found a number"
        );
        assert_eq!(
            error_of(json!({"Statement": {"Effect": "Allow", "Action": "*", "Principal": 7}})),
            "Statement.Principal: expected \"*\" or a principal map, found a number"
        );
    }

    #[test]
    fn rejects_documents_over_the_size_limit() {
        let big = "x".repeat(MAX_POLICY_BYTES);
        let message = error_of(json!({"Statement": {"Effect": "Allow", "Action": big}}));
        assert!(
            message.starts_with("(document): policy document is"),
            "{message}"
        );
    }
}
