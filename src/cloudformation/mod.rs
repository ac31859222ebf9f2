//! CloudFormation templates as input: the account a stack would leave, alone or over a
//! snapshot.
//!
//! A template (JSON or YAML, [`yaml`]) is read with the intrinsic functions that can be
//! resolved before deployment: `Ref` and `Fn::GetAtt` of the template's IAM, S3, KMS and
//! MediaConvert resources, `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap`,
//! `Fn::If` over decidable conditions, the pseudo parameters, and parameters with defaults or
//! given with `--parameter`. What cannot be resolved (`Fn::ImportValue`, `Fn::GetAZs`,
//! `AWS::StackId`, a condition on an unknown parameter) is held as unknown, never guessed: a
//! policy that depends on it makes the answers through its principal `unknown`, as a Terraform
//! value known only after apply does. Resources CloudFormation names at creation (no
//! `RoleName`) get a placeholder that starts with `stack-LogicalId-`
//! ([`crate::terraform::GeneratedName`]). Macros (`Transform`), nested stacks, custom
//! resources and resource types that may grant but are not read make refutations `unknown`.
//!
//! Each resource becomes the Terraform resources of the same meaning, which
//! [`crate::terraform`]'s rows make in the model; policy documents are checked here first, so
//! errors name the template's JSON path and, for YAML, its line.

mod yaml;

use crate::input::{parse_json, InputError};
use crate::model::{Account, Model, StackResource};
use crate::policy::Policy;
use crate::snapshot::organizations::ControlKind;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// What a template needs beyond its text.
#[derive(Debug, Clone, Default)]
pub struct TemplateInputs {
    /// The account the stack is deployed in, when no single snapshot tells.
    pub account: Option<String>,
    /// Parameter values (`--parameter Key=Value`), over the template's defaults.
    pub parameters: BTreeMap<String, String>,
    /// The stack's name (`AWS::StackName`, and the start of the names CloudFormation chooses).
    pub stack_name: Option<String>,
    /// The region the stack is deployed in, when no single snapshot tells.
    pub region: Option<String>,
}

/// A value after intrinsic functions: known, unknown (why), or `AWS::NoValue`.
#[derive(Debug, Clone, PartialEq)]
enum Resolved {
    Known(Value),
    Unknown(String),
    NoValue,
}

/// A template being read.
struct Template<'a> {
    file: String,
    root: &'a Value,
    lines: BTreeMap<String, usize>,
    account: Account,
    /// Whether the account's region is the stack's (given, or the snapshot's).
    region_known: bool,
    stack: Option<String>,
    parameters: BTreeMap<String, Resolved>,
    /// Physical names and ARNs of the template's resources, by logical id.
    names: BTreeMap<String, Physical>,
    /// The resources of the stack the template updates, by logical id, when the snapshot
    /// lists them.
    listed: BTreeMap<String, StackResource>,
    /// The kind of each service or resource control policy of the model, by id.
    organization_policies: BTreeMap<String, ControlKind>,
}

/// What the snapshot says of the stack a template updates.
enum Listing {
    /// The account is of no snapshot: what its stack had is not in the model to begin with.
    Absent,
    /// Which resources the stack has is not known, and why.
    Unknown(String),
    /// A stack the snapshot's region does not list: a new one.
    New,
    /// The stack's name and its resources.
    Listed(String, Vec<StackResource>),
}

/// What `Ref` and `Fn::GetAtt` give for one resource.
#[derive(Debug, Clone)]
struct Physical {
    reference: Resolved,
    arn: Resolved,
}

/// Reads the template at `path` and makes its resources in `model`.
pub fn apply_file(
    model: &mut Model,
    path: &Path,
    inputs: &TemplateInputs,
) -> Result<(), InputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::new(&file, "", format!("cannot read: {e}")))?;
    let (value, lines) = if text.trim_start().starts_with('{') {
        (parse_json(&file, &text)?, BTreeMap::new())
    } else {
        let read = yaml::read(&text).map_err(|e| {
            let mut error = InputError::new(&file, "", format!("not YAML: {}", e.message));
            error.line = Some(e.line);
            error
        })?;
        (read.value, read.lines)
    };
    let (account, region_known) = account_for(model, &file, inputs)?;
    let listing = stack_listing(model, &file, &account.id, inputs);
    let listed = match &listing {
        Listing::Listed(_, resources) => resources
            .iter()
            .map(|r| (r.logical_id.clone(), r.clone()))
            .collect(),
        _ => BTreeMap::new(),
    };
    let mut template = Template {
        file: file.clone(),
        root: &value,
        lines,
        account,
        region_known,
        stack: inputs.stack_name.clone(),
        parameters: BTreeMap::new(),
        names: BTreeMap::new(),
        listed,
        organization_policies: organization_policies(model),
    };
    template.read_parameters(&inputs.parameters)?;
    let resources = template.resources()?;
    template.name_resources(&resources, model)?;
    if let Some(transform) = value.get("Transform") {
        model.unread.push(format!(
            "{file}: Transform {transform} rewrites the template at deployment; the resources it makes are not read"
        ));
    }
    if holds_key(&value, "Fn::Transform") {
        model.unread.push(format!(
            "{file}: Fn::Transform (AWS::Include or a macro) rewrites part of the template at deployment; what it makes is not read"
        ));
    }
    let mut changes = Vec::new();
    for (logical, resource) in &resources {
        template.translate(logical, resource, model, &mut changes)?;
    }
    note_undeclared_policies(model, &template.account.id, &file, &changes);
    let kept: Vec<(&str, &str)> = resources
        .iter()
        .filter(|(_, resource)| {
            let condition = resource.get("Condition").and_then(Value::as_str);
            condition.is_none_or(|c| template.condition(c, 0) != Some(false))
        })
        .map(|(logical, resource)| {
            let kind = resource.get("Type").and_then(Value::as_str);
            (logical.as_str(), kind.unwrap_or_default())
        })
        .collect();
    note_dropped(model, &file, &template.account.id, listing, &kept, &changes);
    let plan = json!({"format_version": "1.2", "resource_changes": changes});
    let mut read = crate::terraform::read(&file, &plan)?;
    read.known_when = "resolved only at deployment";
    read.template = true;
    read.lines = resources
        .iter()
        .filter_map(|(logical, _)| {
            let line = template.lines.get(&format!("Resources.{logical}"))?;
            Some((logical.clone(), *line))
        })
        .collect();
    let account = template.account.id.clone();
    crate::terraform::apply_plan(model, &read, path, Some(&account))
}

/// Resource types whose deletion takes away only what the resource itself is: a principal, a
/// bucket, a key (their own policies restrict nothing but requests by or to them). A stack
/// update that deletes one can only narrow access; keeping it in the model over-approximates.
const DROPPED_NARROWS: &[&str] = &[
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::AccessKey",
    "AWS::IAM::ServiceLinkedRole",
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::MediaConvert::Queue",
];

/// The kind of each service or resource control policy attached somewhere in the model, by id.
fn organization_policies(model: &Model) -> BTreeMap<String, ControlKind> {
    let mut kinds = BTreeMap::new();
    for level in model
        .accounts
        .iter()
        .filter_map(|a| a.organization.as_ref())
        .flat_map(|o| &o.levels)
    {
        for policy in &level.scps {
            kinds.insert(policy.id.clone(), ControlKind::Service);
        }
        for policy in &level.rcps {
            kinds.insert(policy.id.clone(), ControlKind::Resource);
        }
    }
    kinds
}

/// The levels of the model's accounts the organization policy `id` is attached to.
fn attached_targets(model: &Model, id: &str) -> Vec<String> {
    let mut targets: Vec<String> = model
        .accounts
        .iter()
        .filter_map(|a| a.organization.as_ref())
        .flat_map(|o| &o.levels)
        .filter(|level| {
            level.scps.iter().chain(&level.rcps).any(|p| p.id == id)
                || level
                    .missing
                    .iter()
                    .any(|m| m == id || m.starts_with(&format!("{id} (")))
        })
        .map(|level| level.target.clone())
        .collect();
    targets.sort();
    targets.dedup();
    targets
}

/// Which resources the stack the template updates has, as the snapshot of `account` says.
/// Stacks are regional, and a snapshot lists those of its own region: a template deployed in
/// another region updates a stack the snapshot does not show. A listing with a `NextToken` is
/// one page of a longer one.
fn stack_listing(model: &Model, file: &str, account: &str, inputs: &TemplateInputs) -> Listing {
    let Some(recorded) = model.stacks.get(account) else {
        return Listing::Absent;
    };
    let Some(stacks) = recorded else {
        return Listing::Unknown(format!("{file}: the snapshot of account {account} does not record its CloudFormation stacks (cloudformation/stacks/), so the resources of the stack that the template no longer holds, which the update deletes, are not known, and what they restricted may be lifted"));
    };
    let Some(name) = inputs.stack_name.as_deref() else {
        return Listing::Unknown(format!("{file}: without --stack-name, which stack of account {account} the template updates is not known, nor the resources it deletes, and what they restricted may be lifted"));
    };
    let recorded_region = model
        .accounts
        .iter()
        .find(|a| a.id == account)
        .map(|a| a.region.as_str());
    if let (Some(region), Some(recorded_region)) = (inputs.region.as_deref(), recorded_region) {
        if region != recorded_region {
            return Listing::Unknown(format!("{file}: the snapshot of account {account} records the CloudFormation stacks of {recorded_region} (cloudformation/stacks/), not of {region}, where the template updates stack {name}: the resources it has there, which the update may delete, are not known, and what they restricted may be lifted"));
        }
    }
    match stacks.get(name) {
        None => Listing::New,
        Some(stack) if stack.partial => Listing::Unknown(format!("{file}: cloudformation/stacks/{name}.json of the snapshot of account {account} is one page of the stack's resources (it has a NextToken), so the resources of the stack that the template no longer holds, which the update deletes, are not known, and what they restricted may be lifted")),
        Some(stack) => Listing::Listed(name.to_string(), stack.resources.clone()),
    }
}

/// The resources of the stack that the template no longer holds (`kept` are the logical ids
/// it does): a stack update deletes them, unless their `DeletionPolicy` retains them, which
/// the listing does not say. Deleting a principal, bucket or key, or a managed policy without
/// a `Deny`, only narrows access, and the model keeps them, over-approximating. Deleting
/// anything else that may restrict (an inline policy, a group and its memberships, a bucket
/// policy, a managed policy with a `Deny`, an organization policy, an alias) may lift a
/// restriction: refutations are `unknown`, naming it. Which resources the stack has is read
/// from the snapshot (`cloudformation/stacks/<name>.json`); a snapshot that does not record the
/// stack's resources, or a template without `--stack-name`, leaves every refutation about the
/// account `unknown`, since any restriction of the snapshot may be one of them. A stack the
/// snapshot's stacks do not list is a new one: it deletes nothing.
///
/// A resource the template keeps with its type is updated, and may be replaced: what the old
/// one restricted and the new one does not is taken away ([`kept_resource`]).
fn note_dropped(
    model: &mut Model,
    file: &str,
    account: &str,
    listing: Listing,
    kept: &[(&str, &str)],
    changes: &[Value],
) {
    let (name, listing) = match listing {
        Listing::Absent | Listing::New => return,
        Listing::Unknown(reason) => {
            model.unread.push(reason);
            return;
        }
        Listing::Listed(name, resources) => (name, resources),
    };
    let name = name.as_str();
    let mut lifted = Vec::new();
    for resource in &listing {
        let kind = resource.kind.as_str();
        // Kept with the same type, it is updated in place; with another type, replaced.
        if kept.contains(&(resource.logical_id.as_str(), kind)) {
            lifted.extend(
                kept_resource(model, account, resource, changes)
                    .into_iter()
                    .map(|what| format!("{file}: the update of {} ({kind}) of stack {name} may take {what}, and what it restricted may be lifted", resource.logical_id)),
            );
            continue;
        }
        let may_restrict = READ_OR_HARMLESS.contains(&kind)
            || UNREAD_GRANTING
                .iter()
                .any(|prefix| kind.starts_with(prefix))
            || !kind.starts_with("AWS::");
        if !may_restrict || DROPPED_NARROWS.contains(&kind) {
            continue;
        }
        if kind == "AWS::IAM::ManagedPolicy" {
            let policy = resource
                .physical_id
                .as_ref()
                .and_then(|arn| model.managed_policies.get(arn));
            if policy.is_some_and(|p| !denies(&p.policy)) {
                continue;
            }
        }
        lifted.push(format!(
            "{file}: the update deletes {} ({kind}) of stack {name}, which the template no longer holds, and what it restricted may be lifted",
            resource.logical_id
        ));
    }
    model.unread.extend(lifted);
}

/// Whether a policy holds a `Deny`.
fn denies(policy: &Policy) -> bool {
    policy
        .statements
        .iter()
        .any(|s| s.effect == crate::policy::Effect::Deny)
}

/// What the update of a resource the template keeps with its type takes away that the model
/// holds, where that may lift a restriction; what it can tell is taken away is removed from
/// the model instead.
///
/// - `AWS::IAM::ManagedPolicy`: the listing's physical id is the policy's ARN. The same ARN
///   (a new document) is a new default version of it, and the template's policy takes its
///   place; another (a new `ManagedPolicyName` or `Path`) replaces it, and the old policy is
///   deleted: with a `Deny`, it is removed from the model (without one, keeping it only
///   over-approximates); an ARN known only at deployment may be either.
/// - `AWS::IAM::Policy`, `UserPolicy`, `RolePolicy`, `GroupPolicy`: the physical id does not
///   say which inline policy the stack put where, and a new name or principal replaces it,
///   deleting the old one. Every inline policy of the snapshot with a `Deny` that the template
///   does not put again on the same principal under the same name may be that one.
/// - `AWS::Organizations::Policy`: the physical id is the policy's id. The same type is an
///   update of it (the template's policy takes its place, [`Translation::organizations_policy`]),
///   which detaches it from the targets `TargetIds` no longer names; another type replaces it,
///   and the old policy is deleted.
/// - `AWS::IAM::UserToGroupAddition`: the users it no longer names ([`narrowed_relations`]).
fn kept_resource(
    model: &mut Model,
    account: &str,
    resource: &StackResource,
    changes: &[Value],
) -> Vec<String> {
    let no_longer = |what: Vec<String>| -> Vec<String> {
        what.into_iter()
            .map(|what| format!("{what}, which the template no longer names"))
            .collect()
    };
    let ours = changes_of(&resource.logical_id, changes);
    match resource.kind.as_str() {
        "AWS::IAM::ManagedPolicy" => {
            let Some(old) = resource.physical_id.clone() else {
                return Vec::new();
            };
            let new = ours
                .iter()
                .find(|(kind, _, _)| *kind == "aws_iam_policy")
                .map(|(_, after, _)| after.get("arn").and_then(Value::as_str));
            let old_denies = model
                .managed_policies
                .get(&old)
                .is_some_and(|p| denies(&p.policy));
            match new {
                Some(Some(arn)) if arn == old => {
                    no_longer(narrowed_relations(model, account, resource, changes))
                }
                Some(Some(_)) => {
                    if old_denies {
                        remove_managed_policy(model, &old);
                    }
                    Vec::new()
                }
                _ if old_denies => vec![format!(
                    "{old} away: its name is known only at deployment, and a new one replaces it"
                )],
                _ => Vec::new(),
            }
        }
        kind @ ("AWS::IAM::Policy"
        | "AWS::IAM::UserPolicy"
        | "AWS::IAM::RolePolicy"
        | "AWS::IAM::GroupPolicy") => {
            let owners: &[&str] = match kind {
                "AWS::IAM::UserPolicy" => &["user"],
                "AWS::IAM::RolePolicy" => &["role"],
                "AWS::IAM::GroupPolicy" => &["group"],
                _ => &["user", "group", "role"],
            };
            let put: Vec<(&str, &str, &str)> = ours
                .iter()
                .filter_map(|(kind, after, _)| {
                    let owner = kind.strip_prefix("aws_iam_")?.strip_suffix("_policy")?;
                    let owner = ["user", "group", "role"]
                        .into_iter()
                        .find(|o| *o == owner)?;
                    Some((
                        owner,
                        after.get(owner)?.as_str()?,
                        after.get("name")?.as_str()?,
                    ))
                })
                .collect();
            let mut taken = Vec::new();
            for (owner, name, arn, inline, _) in holders(model, account) {
                if !owners.contains(&owner) {
                    continue;
                }
                for policy in inline.iter().filter(|p| denies(&p.policy)) {
                    if !put.contains(&(owner, name, policy.name.as_str())) {
                        taken.push(format!("inline policy {} from {arn}", policy.name));
                    }
                }
            }
            // Put on another principal or under another name, it replaces the old one, which
            // the physical id does not name.
            no_longer(taken)
        }
        "AWS::Organizations::Policy" => {
            let Some(id) = resource.physical_id.as_deref() else {
                return Vec::new();
            };
            let targets = attached_targets(model, id);
            // `None`: attached where a snapshot lists it, but not described.
            let old = organization_policies(model).get(id).copied();
            if targets.is_empty() {
                return Vec::new();
            }
            // No policy resource: a type that grants and denies nothing.
            let new = match ours
                .iter()
                .find(|(kind, _, _)| *kind == "aws_organizations_policy")
            {
                None => Some(None),
                Some((_, after, _)) => after
                    .get("type")
                    .and_then(Value::as_str)
                    .map(ControlKind::of_type),
            };
            match new {
                Some(new) if old.is_some() && new != old => vec![format!(
                    "{id} from {}: its Type changes, which replaces it and deletes the old policy",
                    targets.join(", ")
                )],
                // Of the same type, or of a type known only at deployment (or of an old type
                // not known): the policy is updated, and where it is attached it holds the new
                // content already (or is marked unknown); replaced, it is deleted where the
                // template does not attach its new policy.
                _ => {
                    let attachments: Vec<&Value> = ours
                        .iter()
                        .filter(|(kind, _, _)| *kind == "aws_organizations_policy_attachment")
                        .map(|(_, after, _)| *after)
                        .collect();
                    let unknown = attachments.iter().any(|a| a.get("target_id").is_none());
                    let detached = targets
                        .iter()
                        .filter(|target| {
                            unknown
                                || !attachments.iter().any(|a| {
                                    a.get("target_id").and_then(Value::as_str)
                                        == Some(target.as_str())
                                })
                        })
                        .map(|target| format!("{id} from {target}"))
                        .collect();
                    no_longer(detached)
                }
            }
        }
        _ => no_longer(narrowed_relations(model, account, resource, changes)),
    }
}

/// The Terraform resources made for the template resource `logical`: type, known values and
/// values known only at deployment.
fn changes_of<'c>(logical: &str, changes: &'c [Value]) -> Vec<(&'c str, &'c Value, &'c Value)> {
    changes
        .iter()
        .filter(|c| {
            let address = c.get("address").and_then(Value::as_str).unwrap_or_default();
            address.split('.').next() == Some(logical)
        })
        .map(|c| {
            (
                c.get("type").and_then(Value::as_str).unwrap_or_default(),
                c.pointer("/change/after").unwrap_or(&Value::Null),
                c.pointer("/change/after_unknown").unwrap_or(&Value::Null),
            )
        })
        .collect()
}

/// Deletes a managed policy from the model: detached from every principal.
fn remove_managed_policy(model: &mut Model, arn: &str) {
    model.managed_policies.remove(arn);
    for user in model.users.values_mut() {
        user.managed_policy_arns.retain(|a| a != arn);
    }
    for group in model.groups.values_mut() {
        group.managed_policy_arns.retain(|a| a != arn);
    }
    for role in model.roles.values_mut() {
        role.managed_policy_arns.retain(|a| a != arn);
    }
}

/// The users, groups and roles of `account` in the model.
fn holders<'m>(model: &'m Model, account: &str) -> Vec<Holder<'m>> {
    let mut holders: Vec<Holder> = Vec::new();
    for u in model.users.values().filter(|u| u.account == account) {
        holders.push((
            "user",
            &u.name,
            &u.arn,
            &u.inline_policies,
            &u.managed_policy_arns,
        ));
    }
    for g in model.groups.values().filter(|g| g.account == account) {
        holders.push((
            "group",
            &g.name,
            &g.arn,
            &g.inline_policies,
            &g.managed_policy_arns,
        ));
    }
    for r in model.roles.values().filter(|r| r.account == account) {
        holders.push((
            "role",
            &r.name,
            &r.arn,
            &r.inline_policies,
            &r.managed_policy_arns,
        ));
    }
    holders
}

/// A user, group or role of the snapshot: its kind, name, ARN, inline and managed policies.
type Holder<'m> = (
    &'static str,
    &'m str,
    &'m str,
    &'m [crate::model::InlinePolicy],
    &'m [String],
);

/// What the update of a stack's managed policy or group addition takes from principals of the
/// snapshot that the template no longer names, where it restricts them: a managed policy
/// (`AWS::IAM::ManagedPolicy`) with a `Deny` that a user, group or role of the snapshot holds,
/// or a user in a group (`AWS::IAM::UserToGroupAddition`) whose policies hold one. Held outside the stack, they stay; which it is, is not known.
fn narrowed_relations(
    model: &Model,
    account: &str,
    resource: &crate::model::StackResource,
    changes: &[Value],
) -> Vec<String> {
    let logical = resource.logical_id.as_str();
    let ours: Vec<(&str, Value)> = changes
        .iter()
        .filter(|c| {
            let address = c.get("address").and_then(Value::as_str).unwrap_or_default();
            address.split('.').next() == Some(logical)
        })
        .map(|c| {
            let kind = c.get("type").and_then(Value::as_str).unwrap_or_default();
            (
                kind,
                c.pointer("/change/after").cloned().unwrap_or_default(),
            )
        })
        .collect();
    let named = |values: &Value, field: &str| -> Option<String> {
        values
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let holders = holders(model, account);
    let declared = |owner_kind: &str, owner: &str| {
        ours.iter()
            .any(|(_, values)| named(values, owner_kind).as_deref() == Some(owner))
    };
    let managed_denies = |arn: &String| {
        model
            .managed_policies
            .get(arn)
            .is_some_and(|p| denies(&p.policy))
    };
    let mut taken = Vec::new();
    match resource.kind.as_str() {
        "AWS::IAM::ManagedPolicy" => {
            let Some(policy_arn) = resource.physical_id.clone() else {
                return taken;
            };
            let new_denies = ours.iter().any(|(kind, values)| {
                *kind == "aws_iam_policy"
                    && named(values, "policy")
                        .and_then(|text| Policy::from_json_text(&text).ok())
                        .is_some_and(|p| denies(&p))
            });
            if new_denies || managed_denies(&policy_arn) {
                for (kind, name, arn, _, managed) in &holders {
                    if managed.contains(&policy_arn) && !declared(kind, name) {
                        taken.push(format!("{policy_arn} from {arn}"));
                    }
                }
            }
        }
        "AWS::IAM::UserToGroupAddition" => {
            let Some(group) = ours.iter().find_map(|(_, v)| named(v, "group")) else {
                return taken;
            };
            let members: Vec<String> = ours
                .iter()
                .filter_map(|(_, v)| v.get("users").and_then(Value::as_array).cloned())
                .flatten()
                .filter_map(|u| u.as_str().map(str::to_string))
                .collect();
            let restricts = holders.iter().any(|(kind, name, _, inline, managed)| {
                *kind == "group"
                    && *name == group
                    && (inline.iter().any(|p| denies(&p.policy))
                        || managed.iter().any(managed_denies))
            });
            if restricts {
                for user in model.users.values().filter(|u| u.account == account) {
                    if user.groups.contains(&group) && !members.contains(&user.name) {
                        taken.push(format!("{} out of group {group}", user.arn));
                    }
                }
            }
        }
        _ => {}
    }
    taken
}

/// A principal of the snapshot that the template updates, holding inline policies or
/// attachments the template does not declare: a stack update removes those its previous
/// template declared and keeps the others, and which they were is not known. Answers through
/// the principal are then `unknown`.
fn note_undeclared_policies(model: &mut Model, account: &str, file: &str, changes: &[Value]) {
    let after = |change: &Value| change.pointer("/change/after").cloned().unwrap_or_default();
    let declared = |owner_kind: &str, name: &str, field: &str| -> Vec<String> {
        changes
            .iter()
            .map(after)
            .filter(|values| values.get(owner_kind).and_then(Value::as_str) == Some(name))
            .filter_map(|values| {
                values
                    .get(field)
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect()
    };
    let mut undeclared = Vec::new();
    for change in changes {
        let kind = change
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let owner_kind = match kind {
            "aws_iam_role" => "role",
            "aws_iam_user" => "user",
            "aws_iam_group" => "group",
            _ => continue,
        };
        let Some(name) = after(change)
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        let existing = match owner_kind {
            "role" => model
                .roles
                .values()
                .find(|r| r.account == account && r.name == name)
                .map(|r| {
                    (
                        r.arn.clone(),
                        r.inline_policies.clone(),
                        r.managed_policy_arns.clone(),
                    )
                }),
            "user" => model
                .users
                .values()
                .find(|u| u.account == account && u.name == name)
                .map(|u| {
                    (
                        u.arn.clone(),
                        u.inline_policies.clone(),
                        u.managed_policy_arns.clone(),
                    )
                }),
            _ => model
                .groups
                .values()
                .find(|g| g.account == account && g.name == name)
                .map(|g| {
                    (
                        g.arn.clone(),
                        g.inline_policies.clone(),
                        g.managed_policy_arns.clone(),
                    )
                }),
        };
        let Some((arn, inline, managed)) = existing else {
            continue;
        };
        let names = declared(owner_kind, &name, "name");
        let arns = declared(owner_kind, &name, "policy_arn");
        let extra_inline = inline.iter().any(|p| !names.contains(&p.name));
        let extra_managed = managed.iter().any(|a| !arns.contains(a));
        if extra_inline || extra_managed {
            undeclared.push(arn);
        }
    }
    for arn in undeclared {
        model.pending.entry(arn).or_default().insert(format!(
            "{file}: the stack update may remove policies the snapshot holds and the template does not declare"
        ));
    }
}

/// The account a template is deployed in (given, or the one snapshot's), and whether its
/// region is known (given, or the snapshot's).
fn account_for(
    model: &mut Model,
    file: &str,
    inputs: &TemplateInputs,
) -> Result<(Account, bool), InputError> {
    let id = inputs
        .account
        .clone()
        .or_else(|| match model.accounts.as_slice() {
            [only] => Some(only.id.clone()),
            _ => None,
        });
    let Some(id) = id else {
        return Err(InputError::new(
            file,
            "",
            "cannot tell the account the stack is deployed in: give --account-id (or one --account snapshot)",
        ));
    };
    Ok(match model.accounts.iter().find(|a| a.id == id) {
        Some(account) => {
            let mut account = account.clone();
            if let Some(region) = &inputs.region {
                account.region = region.clone();
            }
            (account, true)
        }
        None => (
            Account {
                id,
                partition: "aws".into(),
                region: inputs
                    .region
                    .clone()
                    .unwrap_or_else(|| crate::snapshot::DEFAULT_REGION.into()),
                source: file.into(),
                collected_at: None,
                organization: None,
            },
            inputs.region.is_some(),
        ),
    })
}

/// The physical name property of each resource type whose name the template may set, with the
/// ARN form (`{name}` for the name, `{path}` for the IAM path).
const NAMED_TYPES: &[(&str, &str, &str)] = &[
    (
        "AWS::IAM::Role",
        "RoleName",
        "arn:{partition}:iam::{account}:role{path}{name}",
    ),
    (
        "AWS::IAM::User",
        "UserName",
        "arn:{partition}:iam::{account}:user{path}{name}",
    ),
    (
        "AWS::IAM::Group",
        "GroupName",
        "arn:{partition}:iam::{account}:group{path}{name}",
    ),
    (
        "AWS::IAM::ManagedPolicy",
        "ManagedPolicyName",
        "arn:{partition}:iam::{account}:policy{path}{name}",
    ),
    (
        "AWS::IAM::InstanceProfile",
        "InstanceProfileName",
        "arn:{partition}:iam::{account}:instance-profile{path}{name}",
    ),
    (
        "AWS::S3::Bucket",
        "BucketName",
        "arn:{partition}:s3:::{name}",
    ),
    (
        "AWS::MediaConvert::Queue",
        "Name",
        "arn:{partition}:mediaconvert:{region}:{account}:queues/{name}",
    ),
    (
        "AWS::KMS::Key",
        "",
        "arn:{partition}:kms:{region}:{account}:key/{name}",
    ),
];

/// The resource types a template is read for.
pub fn resource_types_read() -> impl Iterator<Item = &'static str> {
    READ_OR_HARMLESS.iter().copied().filter(|kind| {
        !matches!(
            *kind,
            "AWS::IAM::InstanceProfile"
                | "AWS::IAM::AccessKey"
                | "AWS::IAM::ServiceLinkedRole"
                | "AWS::KMS::Alias"
        )
    })
}

/// Resource types that may grant or restrict access but are not read, by prefix.
const UNREAD_GRANTING: &[&str] = &[
    "AWS::IAM::",
    "AWS::Lambda::Permission",
    "AWS::S3::AccessPoint",
    "AWS::S3Outposts::",
    "AWS::KMS::ReplicaKey",
    "AWS::Organizations::",
    "AWS::SSO::",
    "AWS::CloudFormation::Stack",
    "AWS::CloudFormation::CustomResource",
    "AWS::Serverless::",
    "AWS::ServiceCatalog::CloudFormationProvisionedProduct",
    "AWS::Lambda::LayerVersionPermission",
    "AWS::SecretsManager::ResourcePolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "Custom::",
];

/// Types read, or that grant nothing on their own.
const READ_OR_HARMLESS: &[&str] = &[
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
    "AWS::IAM::UserToGroupAddition",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::AccessKey",
    "AWS::IAM::ServiceLinkedRole",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
    "AWS::MediaConvert::Queue",
    "AWS::Organizations::Policy",
];

impl Template<'_> {
    fn error(&self, path: &str, message: impl Into<String>) -> InputError {
        let mut error = InputError::new(&self.file, path, message);
        error.line = self.line_of(path);
        error
    }

    /// The YAML line of `path`, or of the nearest value that holds it.
    fn line_of(&self, path: &str) -> Option<usize> {
        let mut path = path.to_string();
        loop {
            if let Some(line) = self.lines.get(&path) {
                return Some(*line);
            }
            let cut = path.rfind(['.', '['])?;
            path.truncate(cut);
        }
    }

    fn read_parameters(&mut self, given: &BTreeMap<String, String>) -> Result<(), InputError> {
        let declared = match self.root.get("Parameters") {
            Some(Value::Object(map)) => map.clone(),
            Some(_) => return Err(self.error("Parameters", "expected an object")),
            None => Map::new(),
        };
        for name in given.keys() {
            if !declared.contains_key(name) {
                return Err(self.error(
                    "Parameters",
                    format!("--parameter {name}: the template declares no such parameter"),
                ));
            }
        }
        for (name, declaration) in &declared {
            let kind = declaration
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or("String");
            let value = match (given.get(name), declaration.get("Default")) {
                // SSM parameter types hold the name of a parameter read at deployment, given
                // or not.
                (_, _) if kind.starts_with("AWS::SSM::Parameter") => {
                    Resolved::Unknown(format!("parameter {name} is read from SSM at deployment"))
                }
                (Some(text), _) => Resolved::Known(Value::String(text.clone())),
                (None, Some(default)) => Resolved::Known(match default {
                    Value::String(_) => default.clone(),
                    other => Value::String(other.to_string()),
                }),
                (None, None) => Resolved::Unknown(format!(
                    "parameter {name} has no default; give --parameter {name}=VALUE"
                )),
            };
            let value = match value {
                Resolved::Known(Value::String(text)) if kind.contains("List") => {
                    Resolved::Known(Value::Array(
                        text.split(',')
                            .map(|item| Value::String(item.trim().to_string()))
                            .collect(),
                    ))
                }
                other => other,
            };
            self.parameters.insert(name.clone(), value);
        }
        Ok(())
    }

    fn resources(&self) -> Result<Vec<(String, Value)>, InputError> {
        match self.root.get("Resources") {
            // An `Fn::Transform` among the resources is read as unknown (above).
            Some(Value::Object(map)) => Ok(map
                .iter()
                .filter(|(k, _)| k.as_str() != "Fn::Transform")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()),
            Some(_) => Err(self.error("Resources", "expected an object")),
            None => Err(self.error("Resources", "missing; every template needs it")),
        }
    }

    /// Gives every resource its physical name and ARN, chosen or generated.
    fn name_resources(
        &mut self,
        resources: &[(String, Value)],
        model: &mut Model,
    ) -> Result<(), InputError> {
        for (logical, resource) in resources {
            let kind = resource
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let Some((_, property, arn_form)) = NAMED_TYPES.iter().find(|(t, _, _)| *t == kind)
            else {
                self.names.insert(
                    logical.clone(),
                    Physical {
                        reference: Resolved::Unknown(format!(
                            "Ref {logical} is known only after deployment"
                        )),
                        arn: Resolved::Unknown(format!(
                            "the attributes of {logical} are known only after deployment"
                        )),
                    },
                );
                continue;
            };
            let properties = resource.get("Properties").cloned().unwrap_or(json!({}));
            let path = match properties.get("Path").map(|p| self.resolve(p)) {
                Some(Resolved::Known(Value::String(path))) => path,
                Some(Resolved::Unknown(why)) => {
                    self.names.insert(
                        logical.clone(),
                        Physical {
                            reference: Resolved::Unknown(why.clone()),
                            arn: Resolved::Unknown(why),
                        },
                    );
                    continue;
                }
                _ => "/".to_string(),
            };
            if arn_form.contains("{region}") && !self.region_known {
                model.unread.push(format!(
                    "{}: {logical} ({kind}) is made in the stack's region, which is not given (--region)",
                    self.file
                ));
            }
            let chosen = (!property.is_empty())
                .then(|| properties.get(*property))
                .flatten()
                .map(|v| self.resolve(v));
            let arn_of = |name: &str| {
                arn_form
                    .replace("{partition}", &self.account.partition)
                    .replace("{account}", &self.account.id)
                    .replace("{region}", &self.account.region)
                    .replace("{path}", &path)
                    .replace("{name}", name)
            };
            if let Some(Resolved::Known(other)) = &chosen {
                if !other.is_string() {
                    return Err(self.error(
                        &format!("Resources.{logical}.Properties.{property}"),
                        format!("expected a string, found {}", crate::policy::kind_of(other)),
                    ));
                }
            }
            let (name, arn) = match chosen {
                Some(Resolved::Known(Value::String(name))) => {
                    let arn = arn_of(&name);
                    (
                        Resolved::Known(Value::String(name)),
                        Resolved::Known(Value::String(arn)),
                    )
                }
                Some(Resolved::Unknown(why)) => {
                    (Resolved::Unknown(why.clone()), Resolved::Unknown(why))
                }
                // Kept by the stack with its type, the resource keeps the name CloudFormation
                // chose, which the listing gives (a managed policy's ARN, unless a new path
                // replaces it).
                _ if self.kept_name(logical, kind, &arn_of).is_some() => {
                    let name = self.kept_name(logical, kind, &arn_of).unwrap_or_default();
                    let arn = arn_of(&name);
                    (
                        Resolved::Known(Value::String(name)),
                        Resolved::Known(Value::String(arn)),
                    )
                }
                _ => {
                    let (placeholder, known) = self.generated_name(logical, kind);
                    let arn = arn_of(&placeholder);
                    // Without the stack's name, the name still holds `-LogicalId-`.
                    let infix = match (known.is_empty(), kind) {
                        (true, "AWS::S3::Bucket") => format!("-{}-", logical.to_lowercase()),
                        (true, "AWS::KMS::Key") => String::new(),
                        (true, _) => format!("-{logical}-"),
                        (false, _) => String::new(),
                    };
                    model.generated.push(crate::terraform::GeneratedName {
                        what: format!("{}: {kind} {logical}", self.file),
                        placeholder_arn: arn.clone(),
                        known_prefix: arn_of(&known),
                        infix,
                    });
                    (
                        Resolved::Known(Value::String(placeholder)),
                        Resolved::Known(Value::String(arn)),
                    )
                }
            };
            // `Ref` of a managed policy is its ARN; of the others, the name (a key's id).
            let reference = if kind == "AWS::IAM::ManagedPolicy" {
                arn.clone()
            } else {
                name
            };
            self.names
                .insert(logical.clone(), Physical { reference, arn });
        }
        Ok(())
    }

    /// The name CloudFormation chose for the stack's resource `logical` of type `kind`, which
    /// an update keeps, from the listing's physical id: the name itself, or for a managed
    /// policy its ARN, which must be the ARN the template's path gives.
    fn kept_name(
        &self,
        logical: &str,
        kind: &str,
        arn_of: &dyn Fn(&str) -> String,
    ) -> Option<String> {
        const KEPT: &[&str] = &[
            "AWS::IAM::Role",
            "AWS::IAM::User",
            "AWS::IAM::Group",
            "AWS::IAM::ManagedPolicy",
            "AWS::S3::Bucket",
        ];
        if !KEPT.contains(&kind) {
            return None;
        }
        let listed = self.listed.get(logical).filter(|r| r.kind == kind)?;
        let physical = listed.physical_id.as_deref()?;
        if kind == "AWS::IAM::ManagedPolicy" {
            let name = physical.rsplit('/').next()?;
            return (arn_of(name) == physical).then(|| name.to_string());
        }
        (!physical.contains([':', '/'])).then(|| physical.to_string())
    }

    /// A placeholder for a name CloudFormation chooses (`{stack}-{LogicalId}-{chosen}`), and
    /// the part of it known before: `stack-LogicalId-` (lower case for buckets), when the
    /// stack's name is given and short enough not to be cut.
    fn generated_name(&self, logical: &str, kind: &str) -> (String, String) {
        let bucket = kind == "AWS::S3::Bucket";
        let known = match &self.stack {
            Some(stack) if kind != "AWS::KMS::Key" && stack.len() + logical.len() + 2 <= 40 => {
                let known = format!("{stack}-{logical}-");
                if bucket {
                    known.to_lowercase()
                } else {
                    known
                }
            }
            _ => String::new(),
        };
        let marker = if bucket {
            format!("generated-{}", logical.to_lowercase())
        } else {
            format!("GENERATED-{logical}")
        };
        // Without the stack's name, the placeholder still holds `-LogicalId-` as real names do.
        let stand_in = match (known.is_empty(), kind) {
            (false, _) | (true, "AWS::KMS::Key") => String::new(),
            (true, "AWS::S3::Bucket") => format!("stack-{}-", logical.to_lowercase()),
            (true, _) => format!("stack-{logical}-"),
        };
        (format!("{known}{stand_in}{marker}"), known)
    }

    /// Resolves the intrinsic functions of `value`.
    fn resolve(&self, value: &Value) -> Resolved {
        self.resolve_depth(value, 0)
    }

    fn resolve_depth(&self, value: &Value, depth: usize) -> Resolved {
        if depth > 64 {
            return Resolved::Unknown("intrinsic functions nested too deep".into());
        }
        match value {
            Value::Object(map) if map.len() == 1 => {
                let (key, argument) = map.iter().next().expect("one entry");
                if key == "Ref" || key.starts_with("Fn::") {
                    return self.function(key, argument, depth + 1);
                }
                self.resolve_object(map, depth)
            }
            Value::Object(map) => self.resolve_object(map, depth),
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    match self.resolve_depth(item, depth + 1) {
                        Resolved::Known(value) => out.push(value),
                        Resolved::NoValue => {}
                        unknown => return unknown,
                    }
                }
                Resolved::Known(Value::Array(out))
            }
            other => Resolved::Known(other.clone()),
        }
    }

    fn resolve_object(&self, map: &Map<String, Value>, depth: usize) -> Resolved {
        let mut out = Map::new();
        for (key, item) in map {
            match self.resolve_depth(item, depth + 1) {
                Resolved::Known(value) => {
                    out.insert(key.clone(), value);
                }
                Resolved::NoValue => {}
                unknown => return unknown,
            }
        }
        Resolved::Known(Value::Object(out))
    }

    fn function(&self, name: &str, argument: &Value, depth: usize) -> Resolved {
        let text = |value: Resolved| -> Result<String, Resolved> {
            match value {
                Resolved::Known(Value::String(text)) => Ok(text),
                Resolved::Known(Value::Number(number)) => Ok(number.to_string()),
                Resolved::Known(Value::Bool(flag)) => Ok(flag.to_string()),
                Resolved::Known(other) => Err(Resolved::Unknown(format!(
                    "{name} of {other}, which is not a string"
                ))),
                unknown => Err(unknown),
            }
        };
        let resolved = |value: &Value| self.resolve_depth(value, depth);
        match name {
            "Ref" => match argument.as_str() {
                Some(target) => self.reference(target),
                None => Resolved::Unknown("Ref of something that is not a name".into()),
            },
            "Fn::GetAtt" => {
                let parts = match resolved(argument) {
                    Resolved::Known(Value::Array(parts)) => parts,
                    Resolved::Known(Value::String(dotted)) => {
                        dotted.splitn(2, '.').map(Value::from).collect()
                    }
                    other => return other,
                };
                match (
                    parts.first().and_then(Value::as_str),
                    parts.get(1).and_then(Value::as_str),
                ) {
                    (Some(resource), Some(attribute)) => self.attribute(resource, attribute),
                    _ => Resolved::Unknown("Fn::GetAtt needs a resource and an attribute".into()),
                }
            }
            "Fn::Sub" => self.substitute(argument, depth),
            "Fn::Join" => {
                let Resolved::Known(Value::Array(parts)) = resolved(argument) else {
                    return Resolved::Unknown("Fn::Join of something unresolved".into());
                };
                let (Some(Value::String(delimiter)), Some(Value::Array(items))) =
                    (parts.first(), parts.get(1))
                else {
                    return Resolved::Unknown("Fn::Join needs a delimiter and a list".into());
                };
                let mut texts = Vec::new();
                for item in items {
                    match text(Resolved::Known(item.clone())) {
                        Ok(t) => texts.push(t),
                        Err(unknown) => return unknown,
                    }
                }
                Resolved::Known(Value::String(texts.join(delimiter)))
            }
            "Fn::Select" => {
                let Resolved::Known(Value::Array(parts)) = resolved(argument) else {
                    return Resolved::Unknown("Fn::Select of something unresolved".into());
                };
                let index = parts
                    .first()
                    .and_then(|i| i.as_u64().or_else(|| i.as_str()?.parse().ok()));
                match (index, parts.get(1)) {
                    (Some(index), Some(Value::Array(items))) => match items.get(index as usize) {
                        Some(item) => Resolved::Known(item.clone()),
                        None => Resolved::Unknown("Fn::Select out of range".into()),
                    },
                    _ => Resolved::Unknown("Fn::Select needs an index and a list".into()),
                }
            }
            "Fn::Split" => {
                let Resolved::Known(Value::Array(parts)) = resolved(argument) else {
                    return Resolved::Unknown("Fn::Split of something unresolved".into());
                };
                match (
                    parts.first().and_then(Value::as_str),
                    parts.get(1).and_then(Value::as_str),
                ) {
                    (Some(delimiter), Some(source)) if !delimiter.is_empty() => Resolved::Known(
                        Value::Array(source.split(delimiter).map(Value::from).collect()),
                    ),
                    _ => Resolved::Unknown("Fn::Split needs a delimiter and a string".into()),
                }
            }
            "Fn::If" => {
                let Some([condition, then, otherwise]) = argument
                    .as_array()
                    .map(Vec::as_slice)
                    .and_then(|a| <&[Value; 3]>::try_from(a).ok())
                else {
                    return Resolved::Unknown("Fn::If needs a condition and two values".into());
                };
                match condition.as_str().map(|c| self.condition(c, depth)) {
                    Some(Some(true)) => resolved(then),
                    Some(Some(false)) => resolved(otherwise),
                    _ => Resolved::Unknown(format!(
                        "condition {condition} cannot be decided before deployment"
                    )),
                }
            }
            "Fn::FindInMap" => {
                let Resolved::Known(Value::Array(keys)) = resolved(argument) else {
                    return Resolved::Unknown("Fn::FindInMap of something unresolved".into());
                };
                let keys: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
                let found = match keys.as_slice() {
                    [map, top, second] => self.root.pointer(&format!(
                        "/Mappings/{}/{}/{}",
                        escape(map),
                        escape(top),
                        escape(second)
                    )),
                    _ => None,
                };
                match found {
                    Some(value) => resolved(value),
                    None => Resolved::Unknown("Fn::FindInMap names no entry of Mappings".into()),
                }
            }
            other => Resolved::Unknown(format!("{other} is resolved only at deployment")),
        }
    }

    fn reference(&self, target: &str) -> Resolved {
        let account = &self.account;
        match target {
            "AWS::AccountId" => Resolved::Known(account.id.clone().into()),
            "AWS::Region" if !self.region_known => {
                Resolved::Unknown("AWS::Region: give --region".into())
            }
            "AWS::Region" => Resolved::Known(account.region.clone().into()),
            "AWS::Partition" => Resolved::Known(account.partition.clone().into()),
            "AWS::URLSuffix" => Resolved::Known(
                if account.partition == "aws-cn" {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                }
                .into(),
            ),
            "AWS::NoValue" => Resolved::NoValue,
            "AWS::StackName" => match &self.stack {
                Some(stack) => Resolved::Known(stack.clone().into()),
                None => Resolved::Unknown("AWS::StackName: give --stack-name".into()),
            },
            _ => {
                if let Some(value) = self.parameters.get(target) {
                    return value.clone();
                }
                match self.names.get(target) {
                    Some(physical) => physical.reference.clone(),
                    None if target.starts_with("AWS::") => {
                        Resolved::Unknown(format!("{target} is known only at deployment"))
                    }
                    None => Resolved::Unknown(format!(
                        "Ref {target}: no parameter or resource of that name"
                    )),
                }
            }
        }
    }

    fn attribute(&self, resource: &str, attribute: &str) -> Resolved {
        match (self.names.get(resource), attribute) {
            (Some(physical), "Arn" | "PolicyArn") => physical.arn.clone(),
            (Some(physical), "KeyId") => physical.reference.clone(),
            _ => Resolved::Unknown(format!(
                "{resource}.{attribute} is known only after deployment"
            )),
        }
    }

    /// `Fn::Sub`: `${Name}` is a parameter, pseudo parameter or resource (`Ref`), `${Res.Attr}`
    /// an attribute, `${!Literal}` the text `${Literal}`.
    fn substitute(&self, argument: &Value, depth: usize) -> Resolved {
        let (template, variables) = match argument {
            Value::String(text) => (text.clone(), Map::new()),
            Value::Array(parts) => match (parts.first(), parts.get(1)) {
                (Some(Value::String(text)), Some(Value::Object(map))) => {
                    (text.clone(), map.clone())
                }
                _ => return Resolved::Unknown("Fn::Sub needs a string and a map".into()),
            },
            _ => return Resolved::Unknown("Fn::Sub needs a string".into()),
        };
        let mut out = String::new();
        let mut rest = template.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            rest = &after[end + 1..];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let value = match variables.get(name) {
                Some(value) => self.resolve_depth(value, depth + 1),
                None => match name.split_once('.') {
                    Some((resource, attribute)) if self.names.contains_key(resource) => {
                        self.attribute(resource, attribute)
                    }
                    _ => self.reference(name),
                },
            };
            match value {
                Resolved::Known(Value::String(text)) => out.push_str(&text),
                Resolved::Known(Value::Number(number)) => out.push_str(&number.to_string()),
                Resolved::Known(_) => {
                    return Resolved::Unknown(format!(
                        "Fn::Sub of ${{{name}}}, which is not a string"
                    ))
                }
                Resolved::NoValue => {}
                unknown => return unknown,
            }
        }
        out.push_str(rest);
        Resolved::Known(Value::String(out))
    }

    /// A condition of the template: `None` when it cannot be decided before deployment.
    fn condition(&self, name: &str, depth: usize) -> Option<bool> {
        if depth > 64 {
            return None;
        }
        let expression = self.root.get("Conditions")?.get(name)?;
        self.decide(expression, depth + 1)
    }

    fn decide(&self, expression: &Value, depth: usize) -> Option<bool> {
        let map = expression.as_object().filter(|m| m.len() == 1)?;
        let (operator, argument) = map.iter().next()?;
        let items = argument.as_array();
        match operator.as_str() {
            "Condition" => self.condition(argument.as_str()?, depth),
            "Fn::Equals" => {
                let items = items?;
                let left = self.resolve_depth(items.first()?, depth);
                let right = self.resolve_depth(items.get(1)?, depth);
                match (left, right) {
                    (Resolved::Known(a), Resolved::Known(b)) => Some(plain(&a) == plain(&b)),
                    _ => None,
                }
            }
            "Fn::Not" => self.decide(items?.first()?, depth).map(|v| !v),
            "Fn::And" | "Fn::Or" => {
                let values: Vec<Option<bool>> =
                    items?.iter().map(|i| self.decide(i, depth + 1)).collect();
                let deciding = operator == "Fn::Or";
                if values.contains(&Some(deciding)) {
                    Some(deciding)
                } else if values.iter().all(Option::is_some) {
                    Some(!deciding)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// The Terraform resources of the same meaning as one template resource.
    fn translate(
        &self,
        logical: &str,
        resource: &Value,
        model: &mut Model,
        out: &mut Vec<Value>,
    ) -> Result<(), InputError> {
        let base = format!("Resources.{logical}");
        let kind = resource
            .get("Type")
            .and_then(Value::as_str)
            .ok_or_else(|| self.error(&format!("{base}.Type"), "missing"))?;
        // A resource whose condition cannot be decided is made, but everything it grants or
        // denies is unknown.
        let mut undecided = false;
        if let Some(condition) = resource.get("Condition").and_then(Value::as_str) {
            match self.condition(condition, 0) {
                Some(true) => {}
                Some(false) => return Ok(()),
                None => {
                    model.unread.push(format!("{}: {logical} ({kind}) exists only if condition {condition} holds, which cannot be decided before deployment", self.file));
                    undecided = true;
                }
            }
        }
        if !READ_OR_HARMLESS.contains(&kind) {
            // Modules and registry types may make anything, IAM resources included.
            let foreign = !kind.starts_with("AWS::");
            if foreign
                || UNREAD_GRANTING
                    .iter()
                    .any(|prefix| kind.starts_with(prefix))
            {
                model.unread.push(format!(
                    "{}: {logical} is not read ({kind}), and what it grants may give a way",
                    self.file
                ));
            }
            return Ok(());
        }
        let properties = resource.get("Properties").cloned().unwrap_or(json!({}));
        let properties_path = format!("{base}.Properties");
        if !properties.is_object() {
            return Err(self.error(&properties_path, "expected an object"));
        }
        let first = out.len();
        let mut resources = Translation {
            template: self,
            logical,
            path: &properties_path,
            properties: &properties,
            out,
            unread: &mut model.unread,
        };
        match kind {
            "AWS::IAM::Role" => resources.role(),
            "AWS::IAM::User" => resources.user(),
            "AWS::IAM::Group" => resources.group(),
            "AWS::IAM::ManagedPolicy" => resources.managed_policy(),
            "AWS::IAM::Policy" => resources.policy(),
            "AWS::IAM::RolePolicy" => resources.inline("aws_iam_role_policy", "role", "RoleName"),
            "AWS::IAM::UserPolicy" => resources.inline("aws_iam_user_policy", "user", "UserName"),
            "AWS::IAM::GroupPolicy" => {
                resources.inline("aws_iam_group_policy", "group", "GroupName")
            }
            "AWS::IAM::UserToGroupAddition" => resources.group_addition(),
            "AWS::S3::Bucket" => resources.bucket(),
            "AWS::S3::BucketPolicy" => resources.bucket_policy(),
            "AWS::KMS::Key" => resources.key(),
            "AWS::MediaConvert::Queue" => resources.queue(),
            "AWS::Organizations::Policy" => resources.organizations_policy(),
            _ => Ok(()),
        }?;
        if undecided {
            for change in &mut out[first..] {
                for attribute in [
                    "policy",
                    "assume_role_policy",
                    "policy_arn",
                    "groups",
                    "users",
                    "content",
                    "target_id",
                ] {
                    if let Some(after) = change
                        .pointer_mut("/change/after")
                        .and_then(Value::as_object_mut)
                    {
                        if after.remove(attribute).is_some() {
                            if let Some(unknown) = change
                                .pointer_mut("/change/after_unknown")
                                .and_then(Value::as_object_mut)
                            {
                                unknown.insert(attribute.into(), Value::Bool(true));
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether `key` is a key of some object in `value`.
fn holds_key(value: &Value, key: &str) -> bool {
    match value {
        Value::Object(map) => map.contains_key(key) || map.values().any(|v| holds_key(v, key)),
        Value::Array(items) => items.iter().any(|v| holds_key(v, key)),
        _ => false,
    }
}

/// A value compared by `Fn::Equals`: numbers and strings alike by their text.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Escapes a JSON pointer token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// One template resource being written as Terraform resources.
struct Translation<'t, 'a> {
    template: &'t Template<'a>,
    logical: &'t str,
    path: &'t str,
    properties: &'t Value,
    out: &'t mut Vec<Value>,
    /// What the model does not read, for refutations to be `unknown`.
    unread: &'t mut Vec<String>,
}

/// A Terraform resource's values: what is known, and what is known only after deployment.
#[derive(Default)]
struct Values {
    after: Map<String, Value>,
    unknown: Map<String, Value>,
}

impl Values {
    fn set(&mut self, attribute: &str, value: Resolved) {
        match value {
            Resolved::Known(value) => {
                self.after.insert(attribute.into(), value);
            }
            Resolved::Unknown(_) => {
                self.unknown.insert(attribute.into(), Value::Bool(true));
            }
            Resolved::NoValue => {}
        }
    }
}

impl Translation<'_, '_> {
    fn property(&self, name: &str) -> Resolved {
        match self.properties.get(name) {
            Some(value) => self.template.resolve(value),
            None => Resolved::NoValue,
        }
    }

    fn emit(&mut self, suffix: &str, kind: &str, values: Values) {
        let address = if suffix.is_empty() {
            self.logical.to_string()
        } else {
            format!("{}.{suffix}", self.logical)
        };
        self.out.push(json!({
            "address": address, "mode": "managed", "type": kind, "name": self.logical,
            "change": {"actions": ["create"], "before": null,
                       "after": Value::Object(values.after), "after_unknown": Value::Object(values.unknown)}}));
    }

    fn name(&self) -> Resolved {
        self.template
            .names
            .get(self.logical)
            .map(|p| p.reference.clone())
            .unwrap_or(Resolved::Unknown("no name".into()))
    }

    /// A policy document property: checked here, so errors name the template's path; given to
    /// the Terraform rows as JSON text.
    fn document(&self, value: Option<&Value>, path: &str) -> Result<Resolved, InputError> {
        let Some(value) = value else {
            return Ok(Resolved::NoValue);
        };
        match self.template.resolve(value) {
            Resolved::Known(document) => {
                let document = match document {
                    Value::String(text) => crate::snapshot::document::decode_document_text(&text)
                        .map_err(|message| self.template.error(path, message))?,
                    other => other,
                };
                Policy::from_value(&document).map_err(|e| {
                    let error = InputError::from_policy(&self.template.file, path, e);
                    let line = self.template.line_of(&error.path);
                    InputError { line, ..error }
                })?;
                Ok(Resolved::Known(Value::String(document.to_string())))
            }
            other => Ok(other),
        }
    }

    fn string_list(&self, name: &str) -> Resolved {
        match self.property(name) {
            Resolved::NoValue => Resolved::Known(json!([])),
            other => other,
        }
    }

    /// `Policies: [{PolicyName, PolicyDocument}]` as inline policy resources of `kind`.
    fn inline_policies(&mut self, kind: &str, owner_attribute: &str) -> Result<(), InputError> {
        let Some(policies) = self.properties.get("Policies") else {
            return Ok(());
        };
        let Resolved::Known(Value::Array(resolved)) = self.template.resolve(policies) else {
            let mut values = Values::default();
            values.set(owner_attribute, self.name());
            values.set("name", Resolved::Known("Policies".into()));
            values.set("policy", Resolved::Unknown("the Policies list".into()));
            self.emit("Policies", kind, values);
            return Ok(());
        };
        // Entries given by `Fn::If` are resolved; `AWS::NoValue` ones are gone.
        for (index, entry) in resolved.iter().enumerate() {
            let path = format!("{}.Policies[{index}]", self.path);
            if !entry.is_object() {
                return Err(self.template.error(
                    &path,
                    "expected an object with PolicyName and PolicyDocument",
                ));
            }
            let mut values = Values::default();
            values.set(owner_attribute, self.name());
            values.set(
                "name",
                entry
                    .get("PolicyName")
                    .map_or(Resolved::NoValue, |v| self.template.resolve(v)),
            );
            let document = self.document(
                entry.get("PolicyDocument"),
                &format!("{path}.PolicyDocument"),
            )?;
            values.set("policy", document);
            self.emit(&format!("Policies[{index}]"), kind, values);
        }
        Ok(())
    }

    fn attachments(&mut self, kind: &str, owner_attribute: &str) {
        match self.string_list("ManagedPolicyArns") {
            Resolved::Known(Value::Array(arns)) => {
                for (index, arn) in arns.into_iter().enumerate() {
                    let mut values = Values::default();
                    values.set(owner_attribute, self.name());
                    values.set("policy_arn", Resolved::Known(arn));
                    self.emit(&format!("ManagedPolicyArns[{index}]"), kind, values);
                }
            }
            other => {
                let mut values = Values::default();
                values.set(owner_attribute, self.name());
                values.set("policy_arn", other);
                self.emit("ManagedPolicyArns", kind, values);
            }
        }
    }

    fn entity(&mut self) -> Values {
        let mut values = Values::default();
        values.set("name", self.name());
        values.set("path", self.property("Path"));
        values.set("permissions_boundary", self.property("PermissionsBoundary"));
        if let Resolved::Known(Value::Array(tags)) = self.property("Tags") {
            let tags: Map<String, Value> = tags
                .iter()
                .filter_map(|t| {
                    Some((t.get("Key")?.as_str()?.to_string(), t.get("Value")?.clone()))
                })
                .collect();
            values.set("tags", Resolved::Known(Value::Object(tags)));
        }
        values
    }

    fn role(&mut self) -> Result<(), InputError> {
        let mut values = self.entity();
        let trust = self.document(
            self.properties.get("AssumeRolePolicyDocument"),
            &format!("{}.AssumeRolePolicyDocument", self.path),
        )?;
        if trust == Resolved::NoValue {
            return Err(self.template.error(
                &format!("{}.AssumeRolePolicyDocument", self.path),
                "missing; a role needs a trust policy",
            ));
        }
        values.set("assume_role_policy", trust);
        self.emit("", "aws_iam_role", values);
        self.inline_policies("aws_iam_role_policy", "role")?;
        self.attachments("aws_iam_role_policy_attachment", "role");
        Ok(())
    }

    fn user(&mut self) -> Result<(), InputError> {
        let values = self.entity();
        self.emit("", "aws_iam_user", values);
        self.inline_policies("aws_iam_user_policy", "user")?;
        self.attachments("aws_iam_user_policy_attachment", "user");
        if self.properties.get("Groups").is_some() {
            let mut values = Values::default();
            values.set("user", self.name());
            values.set("groups", self.string_list("Groups"));
            self.emit("Groups", "aws_iam_user_group_membership", values);
        }
        Ok(())
    }

    fn group(&mut self) -> Result<(), InputError> {
        let mut values = Values::default();
        values.set("name", self.name());
        values.set("path", self.property("Path"));
        self.emit("", "aws_iam_group", values);
        self.inline_policies("aws_iam_group_policy", "group")?;
        self.attachments("aws_iam_group_policy_attachment", "group");
        Ok(())
    }

    fn managed_policy(&mut self) -> Result<(), InputError> {
        let physical = self.template.names.get(self.logical).cloned();
        let mut values = Values::default();
        let name = match physical.as_ref().map(|p| &p.arn) {
            Some(Resolved::Known(Value::String(arn))) => {
                Resolved::Known(arn.rsplit('/').next().unwrap_or_default().into())
            }
            _ => Resolved::Unknown("the policy's name".into()),
        };
        values.set("name", name);
        values.set("path", self.property("Path"));
        if let Some(physical) = &physical {
            values.set("arn", physical.arn.clone());
        }
        let document = self.document(
            self.properties.get("PolicyDocument"),
            &format!("{}.PolicyDocument", self.path),
        )?;
        values.set("policy", document);
        self.emit("", "aws_iam_policy", values);
        let arn = physical
            .map(|p| p.arn)
            .unwrap_or(Resolved::Unknown("the policy's ARN".into()));
        for (property, kind, owner) in [
            ("Users", "aws_iam_user_policy_attachment", "user"),
            ("Groups", "aws_iam_group_policy_attachment", "group"),
            ("Roles", "aws_iam_role_policy_attachment", "role"),
        ] {
            if let Resolved::Known(Value::Array(names)) = self.string_list(property) {
                for (index, name) in names.into_iter().enumerate() {
                    let mut values = Values::default();
                    values.set(owner, Resolved::Known(name));
                    values.set("policy_arn", arn.clone());
                    self.emit(&format!("{property}[{index}]"), kind, values);
                }
            } else {
                self.unread.push(format!(
                    "{}: {}.{property} is known only at deployment, and what it names may give a way",
                    self.template.file, self.logical
                ));
            }
        }
        Ok(())
    }

    fn policy(&mut self) -> Result<(), InputError> {
        let document = self.document(
            self.properties.get("PolicyDocument"),
            &format!("{}.PolicyDocument", self.path),
        )?;
        let name = self.property("PolicyName");
        for (property, kind, owner) in [
            ("Users", "aws_iam_user_policy", "user"),
            ("Groups", "aws_iam_group_policy", "group"),
            ("Roles", "aws_iam_role_policy", "role"),
        ] {
            if let Resolved::Known(Value::Array(names)) = self.string_list(property) {
                for (index, owner_name) in names.into_iter().enumerate() {
                    let mut values = Values::default();
                    values.set(owner, Resolved::Known(owner_name));
                    values.set("name", name.clone());
                    values.set("policy", document.clone());
                    self.emit(&format!("{property}[{index}]"), kind, values);
                }
            } else {
                self.unread.push(format!(
                    "{}: {}.{property} is resolved only at deployment, and the policy may go to any of them",
                    self.template.file, self.logical
                ));
            }
        }
        Ok(())
    }

    fn inline(&mut self, kind: &str, owner: &str, owner_property: &str) -> Result<(), InputError> {
        let document = self.document(
            self.properties.get("PolicyDocument"),
            &format!("{}.PolicyDocument", self.path),
        )?;
        let mut values = Values::default();
        values.set(owner, self.property(owner_property));
        values.set("name", self.property("PolicyName"));
        values.set("policy", document);
        self.emit("", kind, values);
        Ok(())
    }

    fn group_addition(&mut self) -> Result<(), InputError> {
        let mut values = Values::default();
        values.set("group", self.property("GroupName"));
        values.set("users", self.string_list("Users"));
        self.emit("", "aws_iam_group_membership", values);
        Ok(())
    }

    fn bucket(&mut self) -> Result<(), InputError> {
        let mut values = Values::default();
        values.set("bucket", self.name());
        // A canned ACL other than the owner's own is not modelled: the Terraform rows leave
        // refutations unknown for any ACL but `private`.
        let acl = match self.property("AccessControl") {
            Resolved::Known(Value::String(acl))
                if acl == "Private" || acl == "BucketOwnerFullControl" =>
            {
                Resolved::Known("private".into())
            }
            Resolved::NoValue => Resolved::NoValue,
            Resolved::Known(other) => Resolved::Known(Value::String(plain(&other))),
            unknown => Resolved::Known(Value::String(format!("unresolved ({unknown:?})"))),
        };
        values.set("acl", acl);
        self.emit("", "aws_s3_bucket", values);
        let name = self.name();
        if let Resolved::Known(Value::Array(rules)) = self.template.resolve(
            self.properties
                .pointer("/BucketEncryption/ServerSideEncryptionConfiguration")
                .unwrap_or(&Value::Null),
        ) {
            let rules: Vec<Value> = rules
                .iter()
                .map(|rule| {
                    let default = rule.get("ServerSideEncryptionByDefault").cloned().unwrap_or(json!({}));
                    json!({"bucket_key_enabled": rule.get("BucketKeyEnabled").and_then(Value::as_bool).unwrap_or(false),
                           "apply_server_side_encryption_by_default": [{
                               "sse_algorithm": default.get("SSEAlgorithm").cloned().unwrap_or(json!("AES256")),
                               "kms_master_key_id": default.get("KMSMasterKeyID").cloned().unwrap_or(json!(""))}]})
                })
                .collect();
            let mut values = Values::default();
            values.set("bucket", name.clone());
            values.set("rule", Resolved::Known(Value::Array(rules)));
            self.emit(
                "BucketEncryption",
                "aws_s3_bucket_server_side_encryption_configuration",
                values,
            );
        }
        if let Resolved::Known(Value::Array(rules)) = self.template.resolve(
            self.properties
                .pointer("/OwnershipControls/Rules")
                .unwrap_or(&Value::Null),
        ) {
            let rules: Vec<Value> = rules
                .iter()
                .filter_map(|rule| {
                    rule.get("ObjectOwnership")
                        .map(|o| json!({"object_ownership": o}))
                })
                .collect();
            let mut values = Values::default();
            values.set("bucket", name.clone());
            values.set("rule", Resolved::Known(Value::Array(rules)));
            self.emit(
                "OwnershipControls",
                "aws_s3_bucket_ownership_controls",
                values,
            );
        }
        if let Resolved::Known(block) = self.property("PublicAccessBlockConfiguration") {
            // Parameters are strings: "true" is true.
            let flag = |key: &str| match block.get(key) {
                Some(Value::Bool(flag)) => *flag,
                Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
                _ => false,
            };
            let mut values = Values::default();
            values.set("bucket", name);
            values.set(
                "block_public_acls",
                Resolved::Known(flag("BlockPublicAcls").into()),
            );
            values.set(
                "ignore_public_acls",
                Resolved::Known(flag("IgnorePublicAcls").into()),
            );
            values.set(
                "block_public_policy",
                Resolved::Known(flag("BlockPublicPolicy").into()),
            );
            values.set(
                "restrict_public_buckets",
                Resolved::Known(flag("RestrictPublicBuckets").into()),
            );
            self.emit(
                "PublicAccessBlockConfiguration",
                "aws_s3_bucket_public_access_block",
                values,
            );
        }
        Ok(())
    }

    fn bucket_policy(&mut self) -> Result<(), InputError> {
        let document = self.document(
            self.properties.get("PolicyDocument"),
            &format!("{}.PolicyDocument", self.path),
        )?;
        let mut values = Values::default();
        values.set("bucket", self.property("Bucket"));
        values.set("policy", document);
        self.emit("", "aws_s3_bucket_policy", values);
        Ok(())
    }

    fn key(&mut self) -> Result<(), InputError> {
        let physical = self.template.names.get(self.logical).cloned();
        let mut values = Values::default();
        if let Some(physical) = physical {
            values.set("key_id", physical.reference);
            values.set("arn", physical.arn);
        }
        // Without a key policy, KMS gives the key its default policy.
        let document = self.document(
            self.properties.get("KeyPolicy"),
            &format!("{}.KeyPolicy", self.path),
        )?;
        values.set("policy", document);
        let enabled = match self.property("Enabled") {
            Resolved::Known(Value::String(text)) => {
                Resolved::Known(Value::Bool(!text.eq_ignore_ascii_case("false")))
            }
            other => other,
        };
        values.set("is_enabled", enabled);
        values.set("key_usage", self.property("KeyUsage"));
        values.set("customer_master_key_spec", self.property("KeySpec"));
        values.set("description", self.property("Description"));
        self.emit("", "aws_kms_key", values);
        Ok(())
    }

    fn queue(&mut self) -> Result<(), InputError> {
        let mut values = Values::default();
        values.set("name", self.name());
        if let Some(physical) = self.template.names.get(self.logical) {
            values.set("arn", physical.arn.clone());
        }
        self.emit("", "aws_media_convert_queue", values);
        Ok(())
    }

    /// A service or resource control policy, attached to each of its `TargetIds`; a policy of
    /// another type grants and denies nothing, and its content is not an IAM policy.
    fn organizations_policy(&mut self) -> Result<(), InputError> {
        let kind = match self.property("Type") {
            Resolved::Known(Value::String(kind)) => {
                if crate::snapshot::organizations::ControlKind::of_type(&kind).is_none() {
                    return Ok(());
                }
                Resolved::Known(Value::String(kind))
            }
            _ => Resolved::Unknown("the policy's Type".into()),
        };
        // The policy id is chosen at creation; the attachments below name it. The stack's
        // policy of this logical id, of the same type, is updated: the id stays.
        let listed = self
            .template
            .listed
            .get(self.logical)
            .filter(|r| r.kind == "AWS::Organizations::Policy")
            .and_then(|r| r.physical_id.clone());
        let same_type = |id: &String| match (&kind, self.template.organization_policies.get(id)) {
            (Resolved::Known(Value::String(kind)), Some(old)) => {
                ControlKind::of_type(kind) == Some(*old)
            }
            _ => true,
        };
        let id = match listed {
            Some(id) if same_type(&id) => id,
            _ => format!("p-{}", self.logical),
        };
        let id = Resolved::Known(Value::String(id));
        let mut values = Values::default();
        values.set("id", id.clone());
        values.set("name", self.property("Name"));
        let content = match kind {
            Resolved::Known(_) => self.document(
                self.properties.get("Content"),
                &format!("{}.Content", self.path),
            )?,
            _ => Resolved::Unknown("the policy's Type".into()),
        };
        values.set("type", kind);
        values.set("content", content);
        self.emit("", "aws_organizations_policy", values);
        match self.property("TargetIds") {
            Resolved::NoValue => {}
            Resolved::Known(Value::Array(targets)) => {
                for (index, target) in targets.into_iter().enumerate() {
                    let mut values = Values::default();
                    values.set("policy_id", id.clone());
                    values.set("target_id", Resolved::Known(target));
                    self.emit(
                        &format!("TargetIds[{index}]"),
                        "aws_organizations_policy_attachment",
                        values,
                    );
                }
            }
            _ => {
                let mut values = Values::default();
                values.set("policy_id", id);
                values.set("target_id", Resolved::Unknown("TargetIds".into()));
                self.emit("TargetIds", "aws_organizations_policy_attachment", values);
            }
        }
        Ok(())
    }
}
