//! `iamproof simulate`: the request format of the command-line contract, read into the
//! evaluator's types, and the decisions printed as text or JSON.

use crate::eval::{evaluate, Evaluation, NamedPolicy, PolicySet, Principal, Request};
use crate::input::{list_at, policy_at, string_at, InputError};
use crate::policy::{kind_of, Context, ContextValue};
use serde_json::{json, Value};

/// One parsed `simulate` request.
#[derive(Debug, Clone)]
pub struct SimulateRequest {
    pub id: Option<Value>,
    pub request: Request,
    pub policies: PolicySet,
}

const TOP_LEVEL_FIELDS: [&str; 10] = [
    "id",
    "request",
    "identity_policies",
    "permission_boundaries",
    "session_policy",
    "resource_policy",
    "scps",
    "rcps",
    "endpoint_policies",
    "expected",
];

/// Reads one request object. `file` names the input in errors.
pub fn parse_request(file: &str, value: &Value) -> Result<SimulateRequest, InputError> {
    let object = value.as_object().ok_or_else(|| {
        InputError::new(
            file,
            "",
            format!("expected a request object, found {}", kind_of(value)),
        )
    })?;
    if let Some(unknown) = object
        .keys()
        .find(|k| !TOP_LEVEL_FIELDS.contains(&k.as_str()))
    {
        return Err(InputError::new(
            file,
            unknown,
            format!(
                "unknown field (expected one of {})",
                TOP_LEVEL_FIELDS[..9].join(", ")
            ),
        ));
    }
    let request_value = object
        .get("request")
        .ok_or_else(|| InputError::new(file, "request", "missing"))?;
    let request = parse_call(file, request_value)?;
    let policies = PolicySet {
        identity: policy_list(file, object, "identity_policies")?,
        boundaries: policy_list(file, object, "permission_boundaries")?,
        session: optional_policy(file, object, "session_policy")?,
        resource: optional_policy(file, object, "resource_policy")?,
        scps: policy_levels(file, object, "scps")?,
        rcps: policy_levels(file, object, "rcps")?,
        endpoints: policy_list(file, object, "endpoint_policies")?,
    };
    Ok(SimulateRequest {
        id: object.get("id").cloned(),
        request,
        policies,
    })
}

fn parse_call(file: &str, value: &Value) -> Result<Request, InputError> {
    let object = value.as_object().ok_or_else(|| {
        InputError::new(
            file,
            "request",
            format!("expected an object, found {}", kind_of(value)),
        )
    })?;
    let field = |name: &str| {
        object
            .get(name)
            .ok_or_else(|| InputError::new(file, &format!("request.{name}"), "missing"))
    };
    let principal_text = string_at(file, "request.principal", field("principal")?)?;
    let principal = Principal::parse(principal_text).ok_or_else(|| {
        InputError::new(
            file,
            "request.principal",
            format!("{principal_text:?} is not a principal (expected \"anonymous\", a service principal such as \"mediaconvert.amazonaws.com\", or an IAM or STS ARN)"),
        )
    })?;
    let action = string_at(file, "request.action", field("action")?)?;
    if action
        .split_once(':')
        .is_none_or(|(service, name)| service.is_empty() || name.is_empty())
    {
        return Err(InputError::new(
            file,
            "request.action",
            format!("{action:?} is not an action (expected service:Action)"),
        ));
    }
    let resource = string_at(file, "request.resource", field("resource")?)?;
    let resource_account = match object.get("resource_account") {
        None | Some(Value::Null) => None,
        Some(v) => Some(string_at(file, "request.resource_account", v)?.to_string()),
    };
    let context = match object.get("context") {
        None | Some(Value::Null) => Context::new(),
        Some(v) => parse_context(file, "request.context", v)?,
    };
    Ok(Request {
        principal,
        action: action.to_string(),
        resource: resource.to_string(),
        resource_account,
        context,
    })
}

/// A context object: each key maps to a string, number or boolean, or a list of them.
pub fn parse_context(file: &str, path: &str, value: &Value) -> Result<Context, InputError> {
    let object = value.as_object().ok_or_else(|| {
        InputError::new(
            file,
            path,
            format!("expected an object, found {}", kind_of(value)),
        )
    })?;
    let mut context = Context::new();
    for (key, value) in object {
        let key_path = format!("{path}.{key}");
        let scalar = |value: &Value, path: &str| match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(InputError::new(
                file,
                path,
                format!(
                    "expected a string, number or boolean, found {}",
                    kind_of(other)
                ),
            )),
        };
        let parsed = match value {
            Value::Array(items) => ContextValue::Multi(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| scalar(item, &format!("{key_path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            other => ContextValue::Single(scalar(other, &key_path)?),
        };
        context.insert(key, parsed);
    }
    Ok(context)
}

fn policy_list(
    file: &str,
    object: &serde_json::Map<String, Value>,
    field: &str,
) -> Result<Vec<NamedPolicy>, InputError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(single @ Value::Object(_)) => Ok(vec![NamedPolicy::new(
            field,
            policy_at(file, field, single)?,
        )]),
        Some(value) => list_at(file, field, value)?
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let path = format!("{field}[{i}]");
                Ok(NamedPolicy::new(
                    path.clone(),
                    policy_at(file, &path, item)?,
                ))
            })
            .collect(),
    }
}

fn optional_policy(
    file: &str,
    object: &serde_json::Map<String, Value>,
    field: &str,
) -> Result<Option<NamedPolicy>, InputError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => Ok(Some(NamedPolicy::new(
            field,
            policy_at(file, field, value)?,
        ))),
    }
}

fn policy_levels(
    file: &str,
    object: &serde_json::Map<String, Value>,
    field: &str,
) -> Result<Vec<Vec<NamedPolicy>>, InputError> {
    let Some(value) = object.get(field).filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    list_at(file, field, value)?
        .iter()
        .enumerate()
        .map(|(level, item)| {
            let level_path = format!("{field}[{level}]");
            match item {
                Value::Object(_) => Ok(vec![NamedPolicy::new(
                    level_path.clone(),
                    policy_at(file, &level_path, item)?,
                )]),
                other => list_at(file, &level_path, other)?
                    .iter()
                    .enumerate()
                    .map(|(i, policy)| {
                        let path = format!("{level_path}[{i}]");
                        Ok(NamedPolicy::new(
                            path.clone(),
                            policy_at(file, &path, policy)?,
                        ))
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Evaluates a parsed request.
pub fn run(request: &SimulateRequest) -> Evaluation {
    evaluate(&request.request, &request.policies)
}

/// The JSON result line of the contract: `id`, `decision`, `explain` (every applicable
/// statement), plus `reason` and `allowed_by`.
pub fn result_json(id: Option<&Value>, evaluation: &Evaluation) -> Value {
    json!({
        "id": id.cloned().unwrap_or(Value::Null),
        "decision": evaluation.decision,
        "reason": evaluation.reason,
        "allowed_by": evaluation.allowed_by,
        "explain": evaluation.matched,
    })
}

/// The JSON line for a request that could not be read.
pub fn error_json(id: Option<&Value>, error: &InputError) -> Value {
    json!({"id": id.cloned().unwrap_or(Value::Null), "error": error.to_string()})
}

/// The human-readable explanation of one decision.
pub fn result_text(id: Option<&Value>, evaluation: &Evaluation) -> String {
    let mut out = String::new();
    if let Some(id) = id {
        let id = id
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| id.to_string());
        out.push_str(&format!("Request {id}\n"));
    }
    out.push_str(&format!("Decision: {:?}\n", evaluation.decision));
    out.push_str(&format!("Reason:   {}\n", evaluation.reason));
    if evaluation.matched.is_empty() {
        out.push_str("No statement applies to this request.\n");
    } else {
        out.push_str("Statements that apply:\n");
        for m in &evaluation.matched {
            out.push_str(&format!(
                "  {:<5} {} statement {}\n",
                format!("{:?}", m.effect),
                m.describe_policy(),
                m.statement
            ));
        }
    }
    out
}
