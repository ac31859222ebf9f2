//! Terraform plans as input: the account a plan would leave, alone or over a snapshot.
//!
//! `terraform show -json PLAN` prints every resource the plan touches with its values before
//! and after (`resource_changes[].change`), the attributes known only after apply
//! (`after_unknown`), the state it starts from (`prior_state`) and the configuration with the
//! references between resources (`configuration`). Alone, the plan is read into an empty
//! account; over a snapshot (`--account DIR --terraform plan.json`) its changes are made to the
//! live account, so that `what-if` and `prove` answer before and after a pull request. The
//! JSON of `terraform show -json` on a state file (`values`, no changes) is read the same way,
//! every resource unchanged.
//!
//! What a resource type does to the model is a row of [`aws::RESOURCE_TYPES`]; this module
//! walks the plan and hands each resource to its row. A value known only after apply is never
//! guessed: where the configuration says which resource it comes from (an ARN or a name of an
//! IAM resource the plan creates), it is computed as AWS would; otherwise the principal it
//! belongs to is marked pending ([`crate::model::Model::pending`]) and answers through it are
//! `unknown`, naming the attribute. Every error names the plan file and the JSON path, and the
//! resource address.

mod aws;
pub(crate) mod generated;

pub use generated::GeneratedName;

use crate::input::{parse_json, InputError};
use crate::model::{Account, Model, Warning};
use crate::snapshot::json::Node;
use crate::sources::Side;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The resource types of the AWS provider that a plan is read for.
pub fn resource_types_read() -> impl Iterator<Item = &'static str> {
    aws::RESOURCE_TYPES.iter().map(|row| row.kind)
}

/// One resource of the plan, with what the plan does to it.
#[derive(Debug, Clone)]
pub(crate) struct Resource<'a> {
    /// `module.media.aws_iam_role.writer[0]`.
    pub address: String,
    /// The resource type: `aws_iam_role`.
    pub kind: String,
    /// The values before the plan; `None` when the plan creates the resource.
    pub before: Option<Node<'a>>,
    /// The values after the plan; `None` when the plan deletes the resource.
    pub after: Option<Node<'a>>,
    /// `after_unknown`: `true` at every attribute known only after apply.
    pub unknown: &'a Value,
    /// What the plan does (`create`, `update`, `delete`, `no-op`, `forget`, ...).
    pub actions: Vec<String>,
    /// The resources each attribute's expression refers to, by attribute, as module-relative
    /// addresses resolved to full ones (`aws_iam_policy.scoped`).
    pub references: BTreeMap<String, Vec<String>>,
    /// The attributes the configuration sets; `None` when the plan holds no configuration
    /// for the resource. An attribute known only after apply that the configuration does not
    /// set is one AWS computes (a bucket's `policy` read back from the bucket), not a value
    /// the plan chooses.
    pub configured: Option<std::collections::BTreeSet<String>>,
}

impl Resource<'_> {
    /// Whether the configuration sets `attribute`, as far as the plan tells.
    pub fn sets(&self, attribute: &str) -> bool {
        self.configured
            .as_ref()
            .is_none_or(|configured| configured.contains(attribute))
    }
}

impl Resource<'_> {
    /// Whether the plan drops the object from Terraform's state but leaves it in AWS
    /// (`removed { lifecycle { destroy = false } }`).
    pub fn forgets(&self) -> bool {
        self.actions.iter().any(|a| a == "forget")
    }

    /// Whether the plan leaves the resource as it is.
    pub fn unchanged(&self) -> bool {
        match (&self.before, &self.after) {
            (Some(before), Some(after)) => before.value == after.value,
            _ => false,
        }
    }
}

/// A plan, read: its resources in the order the plan lists them.
pub(crate) struct Plan<'a> {
    pub file: &'a str,
    pub resources: Vec<Resource<'a>>,
    /// The account the plan's provider acts in, when the plan tells (a known ARN, or
    /// `data.aws_caller_identity`).
    pub account: Option<String>,
    pub partition: Option<String>,
    /// The provider's region, when the configuration sets it to a constant.
    pub region: Option<String>,
    /// When a value the plan does not know becomes known, in its reader's words.
    pub known_when: &'static str,
    /// Whether the resources are a CloudFormation template's: their addresses start with the
    /// logical id (`Role`, `Role.attachment0`).
    pub template: bool,
    /// The line each resource starts on, by address (logical id for a template), where the
    /// reader kept lines.
    pub lines: BTreeMap<String, usize>,
}

/// What the plans change, one line per resource (`update aws_iam_policy.submit`), for the
/// resources whose values change.
pub fn changes(plans: &[PathBuf]) -> Result<Vec<String>, InputError> {
    let mut lines = Vec::new();
    for path in plans {
        let (file, value) = read_plan_json(path)?;
        let plan = read(&file, &value)?;
        for resource in &plan.resources {
            let verb = match (&resource.before, &resource.after) {
                (None, Some(_)) => "create",
                (Some(_), None) => "delete",
                _ if resource.unchanged() => continue,
                _ => "update",
            };
            lines.push(format!("{verb} {}", resource.address));
        }
    }
    Ok(lines)
}

fn read_plan_json(path: &Path) -> Result<(String, Value), InputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::new(&file, "", format!("cannot read: {e}")))?;
    let value = parse_json(&file, &text)?;
    Ok((file, value))
}

/// Reads the plan at `path` and makes its changes to `model` (an empty one for a plan alone).
/// `account` names the account for a plan that does not tell it.
pub fn apply_file(
    model: &mut Model,
    path: &Path,
    account: Option<&str>,
    side: Side,
) -> Result<(), InputError> {
    let (file, value) = read_plan_json(path)?;
    let mut plan = read(&file, &value)?;
    if side == Side::Before {
        // The prior state: every resource as it was, none created.
        plan.resources.retain(|r| r.before.is_some());
        for resource in &mut plan.resources {
            resource.after = resource.before.clone();
            resource.unknown = &Value::Null;
        }
    }
    apply_plan(model, &plan, path, account)
}

/// Reads a plan (or a state) printed by `terraform show -json`.
pub(crate) fn read<'a>(file: &'a str, value: &'a Value) -> Result<Plan<'a>, InputError> {
    let root = Node::root(file, value);
    let version = root.required_str("format_version")?;
    if !version.starts_with("1.") {
        return Err(InputError::new(
            file,
            "format_version",
            format!("format version {version} is not supported (1.x is: Terraform 0.12 and later print it)"),
        ));
    }
    let references = configuration_references(&root)?;
    let mut resources = Vec::new();
    if let Some(changes) = root.field("resource_changes")? {
        for change in changes.list()? {
            if change.optional_str("mode")? == Some("data") {
                continue;
            }
            let address = change.required_str("address")?.to_string();
            let body = change.required("change")?;
            let actions = body.required("actions")?.strings()?;
            if actions.iter().any(|a| a == "read") {
                continue;
            }
            let unknown = body.value.get("after_unknown").unwrap_or(&Value::Null);
            let (references, configured) = configured_for(&references, &address);
            resources.push(Resource {
                kind: change.required_str("type")?.to_string(),
                references,
                configured,
                before: body.field("before")?,
                after: body.field("after")?,
                unknown,
                actions,
                address,
            });
        }
    } else if let Some(values) = root.field("values")? {
        // A state: every resource stays as it is.
        if let Some(module) = values.field("root_module")? {
            walk_state_module(&module, &references, &mut resources)?;
        }
    } else {
        return Err(InputError::new(
            file,
            "",
            "neither resource_changes nor values: not the output of `terraform show -json`",
        ));
    }
    let (account, partition) = account_of(&root, &resources)?;
    Ok(Plan {
        file,
        resources,
        account,
        partition,
        region: provider_region(&root)?,
        known_when: "known only after apply",
        template: false,
        lines: BTreeMap::new(),
    })
}

fn walk_state_module<'a>(
    module: &Node<'a>,
    references: &BTreeMap<String, Configured>,
    out: &mut Vec<Resource<'a>>,
) -> Result<(), InputError> {
    for resource in module.optional_list("resources")? {
        if resource.optional_str("mode")? == Some("data") {
            continue;
        }
        let address = resource.required_str("address")?.to_string();
        let values = resource.required("values")?;
        let (references, configured) = configured_for(references, &address);
        out.push(Resource {
            kind: resource.required_str("type")?.to_string(),
            references,
            configured,
            before: Some(values.clone()),
            after: Some(values),
            unknown: &Value::Null,
            actions: vec!["no-op".to_string()],
            address,
        });
    }
    for child in module.optional_list("child_modules")? {
        walk_state_module(&child, references, out)?;
    }
    Ok(())
}

/// The address of a resource in the configuration: its instance keys dropped
/// (`module.m[0].aws_iam_role.r["a"]` is `module.m.aws_iam_role.r`).
fn config_address(address: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut in_string = false;
    for c in address.chars() {
        match c {
            '"' if depth > 0 => in_string = !in_string,
            '[' if !in_string => depth += 1,
            ']' if !in_string => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The references and set attributes the configuration gives the resource at `address`.
fn configured_for(
    configuration: &BTreeMap<String, Configured>,
    address: &str,
) -> (
    BTreeMap<String, Vec<String>>,
    Option<std::collections::BTreeSet<String>>,
) {
    match configuration.get(&config_address(address)) {
        Some(c) => (c.references.clone(), Some(c.attributes.clone())),
        None => (BTreeMap::new(), None),
    }
}

/// What the configuration says of one resource.
#[derive(Debug, Clone, Default)]
struct Configured {
    /// The attributes it sets.
    attributes: std::collections::BTreeSet<String>,
    /// The resources each attribute's expression refers to, by full address.
    references: BTreeMap<String, Vec<String>>,
}

/// What the configuration says of each resource, by full configuration address.
fn configuration_references(root: &Node) -> Result<BTreeMap<String, Configured>, InputError> {
    let mut out = BTreeMap::new();
    let mut outputs = BTreeMap::new();
    if let Some(configuration) = root.field("configuration")? {
        if let Some(module) = configuration.field("root_module")? {
            module_references(&module, "", &mut out, &mut outputs)?;
        }
    }
    // A module's output stands for what its expression refers to inside the module.
    for configured in out.values_mut() {
        for targets in configured.references.values_mut() {
            *targets = through_outputs(targets, &outputs, 0);
        }
    }
    Ok(out)
}

/// `references` with each module output (`module.store.bucket_id`) replaced by what the
/// output refers to.
fn through_outputs(
    references: &[String],
    outputs: &BTreeMap<String, Vec<String>>,
    depth: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    for reference in references {
        match outputs.get(reference) {
            Some(targets) if depth < 16 => out.extend(through_outputs(targets, outputs, depth + 1)),
            _ => out.push(reference.clone()),
        }
    }
    out
}

fn module_references(
    module: &Node,
    prefix: &str,
    out: &mut BTreeMap<String, Configured>,
    outputs: &mut BTreeMap<String, Vec<String>>,
) -> Result<(), InputError> {
    if let Some(declared) = module.field("outputs")? {
        for (name, output) in declared.object()? {
            let targets: Vec<String> = output
                .pointer("/expression/references")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|reference| format!("{prefix}{reference}"))
                .collect();
            outputs.insert(format!("{prefix}{name}"), targets);
        }
    }
    for resource in module.optional_list("resources")? {
        let address = format!("{prefix}{}", resource.required_str("address")?);
        let mut configured = Configured::default();
        if let Some(expressions) = resource.field("expressions")? {
            for (attribute, expression) in expressions.object()? {
                configured.attributes.insert(attribute.clone());
                let targets: Vec<String> = expression
                    .get("references")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|reference| format!("{prefix}{reference}"))
                    .collect();
                if !targets.is_empty() {
                    configured.references.insert(attribute.clone(), targets);
                }
            }
        }
        out.insert(address, configured);
    }
    if let Some(calls) = module.field("module_calls")? {
        for (name, _) in calls.object()? {
            let call = calls.required(name)?;
            if let Some(child) = call.field("module")? {
                module_references(&child, &format!("{prefix}module.{name}."), out, outputs)?;
            }
        }
    }
    Ok(())
}

/// An account id and partition, each when the plan tells.
type AccountClaim = (Option<String>, Option<String>);

/// The account (and partition) the plan acts in: `data.aws_caller_identity` of the prior
/// state, else the first known ARN of an IAM resource.
fn account_of(root: &Node, resources: &[Resource]) -> Result<AccountClaim, InputError> {
    if let Some(identity) = caller_identity(root)? {
        return Ok(identity);
    }
    for resource in resources {
        for values in [&resource.after, &resource.before].into_iter().flatten() {
            if let Some(arn) = values.value.get("arn").and_then(Value::as_str) {
                let parts: Vec<&str> = arn.split(':').collect();
                if parts.len() >= 5 && parts[2] == "iam" && crate::model::is_account_id(parts[4]) {
                    return Ok((Some(parts[4].to_string()), Some(parts[1].to_string())));
                }
            }
        }
    }
    Ok((None, None))
}

fn caller_identity(root: &Node) -> Result<Option<AccountClaim>, InputError> {
    let Some(state) = root.field("prior_state")? else {
        return Ok(None);
    };
    let Some(values) = state.field("values")? else {
        return Ok(None);
    };
    let Some(module) = values.field("root_module")? else {
        return Ok(None);
    };
    for resource in module.optional_list("resources")? {
        if resource.optional_str("type")? != Some("aws_caller_identity") {
            continue;
        }
        let values = resource.required("values")?;
        let account = values.optional_str("account_id")?.map(str::to_string);
        let partition = values
            .optional_str("arn")?
            .and_then(|arn| arn.split(':').nth(1))
            .map(str::to_string);
        if account.is_some() {
            return Ok(Some((account, partition)));
        }
    }
    Ok(None)
}

/// The region the configuration gives the default `aws` provider, when it is a constant.
fn provider_region(root: &Node) -> Result<Option<String>, InputError> {
    let region = root
        .value
        .pointer("/configuration/provider_config/aws/expressions/region/constant_value")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(region)
}

/// Makes the plan's changes to `model`.
pub(crate) fn apply_plan(
    model: &mut Model,
    plan: &Plan,
    path: &Path,
    account_hint: Option<&str>,
) -> Result<(), InputError> {
    let account = plan
        .account
        .clone()
        .or_else(|| account_hint.map(str::to_string))
        .or_else(|| match model.accounts.as_slice() {
            [only] => Some(only.id.clone()),
            _ => None,
        });
    let Some(account) = account else {
        return Err(InputError::new(
            plan.file,
            "",
            "cannot tell the account the plan acts in: no data.aws_caller_identity in its prior state and no known IAM ARN; give --account-id",
        ));
    };
    if !model.accounts.iter().any(|a| a.id == account) {
        model.accounts.push(Account {
            id: account.clone(),
            partition: plan.partition.clone().unwrap_or_else(|| "aws".into()),
            region: plan
                .region
                .clone()
                .unwrap_or_else(|| crate::snapshot::DEFAULT_REGION.into()),
            source: path.to_path_buf(),
            collected_at: None,
            organization: None,
        });
        model.accounts.sort_by(|a, b| a.id.cmp(&b.id));
        let account = model.accounts.iter().find(|a| a.id == account).cloned();
        if let Some(account) = account {
            // The Default queue exists in every account and region MediaConvert serves, and
            // `list-queues` lists it as a queue like any other.
            let arn = format!(
                "arn:{}:mediaconvert:{}:{}:queues/Default",
                account.partition, account.region, account.id
            );
            model
                .queues
                .entry(arn.clone())
                .or_insert(crate::model::Queue {
                    arn,
                    name: "Default".into(),
                    account: account.id.clone(),
                    region: account.region.clone(),
                    implicit: false,
                });
        }
    }
    let target = model
        .accounts
        .iter()
        .find(|a| a.id == account)
        .cloned()
        .expect("the plan's account was just added");
    let mut builder = aws::Builder::new(model, plan, &target);
    builder.run()?;
    Ok(())
}

/// A warning about one resource of a plan.
fn warning(file: &str, address: &str, message: impl Into<String>) -> Warning {
    Warning {
        file: file.to_string(),
        path: address.to_string(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_keys_are_dropped_from_configuration_addresses() {
        assert_eq!(
            config_address(r#"module.m[0].aws_iam_role.r["a[1]"]"#),
            "module.m.aws_iam_role.r"
        );
        assert_eq!(config_address("aws_iam_role.r"), "aws_iam_role.r");
    }

    #[test]
    fn an_unsupported_format_version_is_refused() {
        let value = serde_json::json!({"format_version": "2.0", "resource_changes": []});
        let error = read("plan.json", &value).err().expect("refused");
        assert_eq!(error.path, "format_version");
    }
}
