//! Change files: the edits a `what-if` question applies to a copy of the model.
//!
//! A change file names its edits in the words of the AWS APIs that make them, so that a change
//! reads like the pull request it previews:
//!
//! ```json
//! {"description": "Scope the MediaConvert role to the media buckets",
//!  "changes": [
//!    {"detach_policy": {"principal": "arn:aws:iam::111122223333:role/MediaConvert_Default_Role",
//!                       "policy_arn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}},
//!    {"put_inline_policy": {"principal": "arn:aws:iam::111122223333:role/MediaConvert_Default_Role",
//!                           "name": "MediaBuckets", "policy": {"Version": "2012-10-17", "Statement": []}}}]}
//! ```
//!
//! Every edit is checked against the model as AWS would check it (the principal, group, bucket,
//! key or policy must exist; a policy detached must be attached), and a mistake is reported with
//! the file and the JSON path of the edit, so a what-if never answers for a change that could
//! not be made. A policy is given inline (`policy`) or as a file relative to the change file
//! (`policy_file`).

use crate::input::{list_at, parse_json, policy_at, read_object_file, string_at, InputError};
use crate::model::{ManagedPolicy, Model, PolicySource};
use crate::policy::{kind_of, Policy};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One edit of the model.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    PutInlinePolicy {
        principal: String,
        name: String,
        policy: Policy,
    },
    DeleteInlinePolicy {
        principal: String,
        name: String,
    },
    /// Creates a customer managed policy, or replaces its default version.
    PutManagedPolicy {
        arn: String,
        policy: Policy,
    },
    DeleteManagedPolicy {
        arn: String,
    },
    AttachPolicy {
        principal: String,
        policy_arn: String,
    },
    DetachPolicy {
        principal: String,
        policy_arn: String,
    },
    AddUserToGroup {
        user: String,
        group: String,
    },
    RemoveUserFromGroup {
        user: String,
        group: String,
    },
    PutTrustPolicy {
        role: String,
        policy: Policy,
    },
    PutPermissionsBoundary {
        principal: String,
        policy_arn: String,
    },
    DeletePermissionsBoundary {
        principal: String,
    },
    PutBucketPolicy {
        bucket: String,
        policy: Policy,
    },
    DeleteBucketPolicy {
        bucket: String,
    },
    PutKeyPolicy {
        key: String,
        policy: Policy,
    },
}

/// An edit and where it stands in its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub edit: Edit,
    /// `changes[2].detach_policy`
    pub path: String,
}

/// A parsed change file.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeFile {
    pub file: String,
    pub description: Option<String>,
    pub edits: Vec<Located>,
}

/// The operations a change file may use, with their fields.
const OPERATIONS: [(&str, &[&str]); 14] = [
    ("put_inline_policy", &["principal", "name", "policy"]),
    ("delete_inline_policy", &["principal", "name"]),
    ("put_managed_policy", &["arn", "policy"]),
    ("delete_managed_policy", &["arn"]),
    ("attach_policy", &["principal", "policy_arn"]),
    ("detach_policy", &["principal", "policy_arn"]),
    ("add_user_to_group", &["user", "group"]),
    ("remove_user_from_group", &["user", "group"]),
    ("put_trust_policy", &["role", "policy"]),
    ("put_permissions_boundary", &["principal", "policy_arn"]),
    ("delete_permissions_boundary", &["principal"]),
    ("put_bucket_policy", &["bucket", "policy"]),
    ("delete_bucket_policy", &["bucket"]),
    ("put_key_policy", &["key", "policy"]),
];

/// Reads a change file.
pub fn read(path: &Path) -> Result<ChangeFile, InputError> {
    let (file, object) = read_object_file(path, "change file", &["description", "changes"])?;
    let description = match object.get("description") {
        None => None,
        Some(value) => Some(string_at(&file, "description", value)?.to_string()),
    };
    let changes = list_at(
        &file,
        "changes",
        object
            .get("changes")
            .ok_or_else(|| InputError::new(&file, "changes", "missing"))?,
    )?;
    if changes.is_empty() {
        return Err(InputError::new(
            &file,
            "changes",
            "empty list; name at least one change",
        ));
    }
    let reader = Reader {
        file: &file,
        base: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
    };
    let edits = changes
        .iter()
        .enumerate()
        .map(|(i, change)| reader.edit(&format!("changes[{i}]"), change))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ChangeFile {
        file,
        description,
        edits,
    })
}

struct Reader<'f> {
    file: &'f str,
    base: PathBuf,
}

impl Reader<'_> {
    fn edit(&self, path: &str, value: &Value) -> Result<Located, InputError> {
        let names: Vec<&str> = OPERATIONS.iter().map(|(name, _)| *name).collect();
        let object = match value.as_object() {
            Some(object) if object.len() == 1 => object,
            _ => {
                return Err(InputError::new(
                    self.file,
                    path,
                    format!(
                        "expected an object with one operation ({})",
                        names.join(", ")
                    ),
                ))
            }
        };
        let (operation, fields) = object.iter().next().expect("one entry");
        let path = format!("{path}.{operation}");
        let Some((_, allowed)) = OPERATIONS.iter().find(|(name, _)| name == operation) else {
            return Err(InputError::new(
                self.file,
                &path,
                format!("unknown operation (expected one of {})", names.join(", ")),
            ));
        };
        let fields = fields.as_object().ok_or_else(|| {
            InputError::new(
                self.file,
                &path,
                format!("expected an object, found {}", kind_of(fields)),
            )
        })?;
        for key in fields.keys() {
            let known = allowed.contains(&key.as_str())
                || (key == "policy_file" && allowed.contains(&"policy"));
            if !known {
                return Err(InputError::new(
                    self.file,
                    &format!("{path}.{key}"),
                    format!("unknown field (expected {})", describe_fields(allowed)),
                ));
            }
        }
        let fields = Fields {
            reader: self,
            path: &path,
            fields,
        };
        let edit = match operation.as_str() {
            "put_inline_policy" => Edit::PutInlinePolicy {
                principal: fields.text("principal")?,
                name: fields.text("name")?,
                policy: fields.policy()?,
            },
            "delete_inline_policy" => Edit::DeleteInlinePolicy {
                principal: fields.text("principal")?,
                name: fields.text("name")?,
            },
            "put_managed_policy" => Edit::PutManagedPolicy {
                arn: fields.text("arn")?,
                policy: fields.policy()?,
            },
            "delete_managed_policy" => Edit::DeleteManagedPolicy {
                arn: fields.text("arn")?,
            },
            "attach_policy" => Edit::AttachPolicy {
                principal: fields.text("principal")?,
                policy_arn: fields.text("policy_arn")?,
            },
            "detach_policy" => Edit::DetachPolicy {
                principal: fields.text("principal")?,
                policy_arn: fields.text("policy_arn")?,
            },
            "add_user_to_group" => Edit::AddUserToGroup {
                user: fields.text("user")?,
                group: fields.text("group")?,
            },
            "remove_user_from_group" => Edit::RemoveUserFromGroup {
                user: fields.text("user")?,
                group: fields.text("group")?,
            },
            "put_trust_policy" => Edit::PutTrustPolicy {
                role: fields.text("role")?,
                policy: fields.policy()?,
            },
            "put_permissions_boundary" => Edit::PutPermissionsBoundary {
                principal: fields.text("principal")?,
                policy_arn: fields.text("policy_arn")?,
            },
            "delete_permissions_boundary" => Edit::DeletePermissionsBoundary {
                principal: fields.text("principal")?,
            },
            "put_bucket_policy" => Edit::PutBucketPolicy {
                bucket: fields.text("bucket")?,
                policy: fields.policy()?,
            },
            "delete_bucket_policy" => Edit::DeleteBucketPolicy {
                bucket: fields.text("bucket")?,
            },
            "put_key_policy" => Edit::PutKeyPolicy {
                key: fields.text("key")?,
                policy: fields.policy()?,
            },
            _ => unreachable!("every operation of OPERATIONS is read above"),
        };
        Ok(Located { edit, path })
    }
}

fn describe_fields(allowed: &[&str]) -> String {
    allowed
        .iter()
        .map(|f| {
            if *f == "policy" {
                "policy or policy_file".to_string()
            } else {
                f.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fields of one operation.
struct Fields<'a> {
    reader: &'a Reader<'a>,
    path: &'a str,
    fields: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn text(&self, name: &str) -> Result<String, InputError> {
        let path = format!("{}.{name}", self.path);
        let value = self
            .fields
            .get(name)
            .ok_or_else(|| InputError::new(self.reader.file, &path, "missing"))?;
        Ok(string_at(self.reader.file, &path, value)?.to_string())
    }

    /// The policy given inline or as a file beside the change file.
    fn policy(&self) -> Result<Policy, InputError> {
        let file = self.reader.file;
        match (self.fields.get("policy"), self.fields.get("policy_file")) {
            (Some(value), None) => policy_at(file, &format!("{}.policy", self.path), value),
            (None, Some(name)) => {
                let name = string_at(file, &format!("{}.policy_file", self.path), name)?;
                let path = self.reader.base.join(name);
                let shown = path.display().to_string();
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    InputError::new(
                        file,
                        &format!("{}.policy_file", self.path),
                        format!("cannot read {shown}: {e}"),
                    )
                })?;
                let value = parse_json(&shown, &text)?;
                policy_at(&shown, "", &value)
            }
            (Some(_), Some(_)) => Err(InputError::new(
                file,
                self.path,
                "give policy or policy_file, not both",
            )),
            (None, None) => Err(InputError::new(
                file,
                &format!("{}.policy", self.path),
                "missing (give policy or policy_file)",
            )),
        }
    }
}

/// The model after the change, or the first edit that cannot be made.
pub fn apply(model: &Model, change: &ChangeFile) -> Result<Model, InputError> {
    let mut changed = model.clone();
    for located in &change.edits {
        apply_edit(&mut changed, &located.edit)
            .map_err(|message| InputError::new(&change.file, &located.path, message))?;
    }
    Ok(changed)
}

fn apply_edit(model: &mut Model, edit: &Edit) -> Result<(), String> {
    match edit {
        Edit::PutInlinePolicy {
            principal,
            name,
            policy,
        } => {
            let inline = own_policies(model, principal)?.inline;
            let policy = Arc::new(policy.clone());
            match inline.iter_mut().find(|p| &p.name == name) {
                Some(existing) => existing.policy = policy,
                None => inline.push(crate::model::InlinePolicy {
                    name: name.clone(),
                    policy,
                }),
            }
        }
        Edit::DeleteInlinePolicy { principal, name } => {
            let inline = own_policies(model, principal)?.inline;
            let before = inline.len();
            inline.retain(|p| &p.name != name);
            if inline.len() == before {
                return Err(format!("{principal} has no inline policy {name}"));
            }
        }
        Edit::PutManagedPolicy { arn, policy } => put_managed_policy(model, arn, policy)?,
        Edit::DeleteManagedPolicy { arn } => {
            if crate::model::is_aws_managed_policy_arn(arn) {
                return Err(format!(
                    "{arn} is an AWS managed policy; AWS does not let it be deleted"
                ));
            }
            if !model.managed_policies.contains_key(arn) {
                return Err(format!("no managed policy {arn} in the snapshots"));
            }
            let holders = holders_of(model, arn);
            if !holders.is_empty() {
                return Err(format!(
                    "{arn} is still attached to {}; detach it first, as AWS requires",
                    holders.join(", ")
                ));
            }
            model.managed_policies.remove(arn);
        }
        Edit::AttachPolicy {
            principal,
            policy_arn,
        } => {
            ensure_managed_policy(model, policy_arn)?;
            same_account(model, principal, policy_arn)?;
            let attached = own_policies(model, principal)?.managed;
            if !attached.contains(policy_arn) {
                attached.push(policy_arn.clone());
            }
        }
        Edit::DetachPolicy {
            principal,
            policy_arn,
        } => {
            let attached = own_policies(model, principal)?.managed;
            let before = attached.len();
            attached.retain(|arn| arn != policy_arn);
            if attached.len() == before {
                return Err(format!("{policy_arn} is not attached to {principal}"));
            }
        }
        Edit::AddUserToGroup { user, group } => {
            let group_name = group_of(model, user, group)?;
            let user = model.users.get_mut(user).expect("checked by group_of");
            if !user.groups.contains(&group_name) {
                user.groups.push(group_name);
            }
        }
        Edit::RemoveUserFromGroup { user, group } => {
            let group_name = group_of(model, user, group)?;
            let user = model.users.get_mut(user).expect("checked by group_of");
            let before = user.groups.len();
            user.groups.retain(|name| name != &group_name);
            if user.groups.len() == before {
                return Err(format!("{} is not a member of {group}", user.arn));
            }
        }
        Edit::PutTrustPolicy { role, policy } => {
            let role = model
                .roles
                .get_mut(role)
                .ok_or_else(|| format!("no role {role} in the snapshots"))?;
            role.trust_policy = Arc::new(policy.clone());
        }
        Edit::PutPermissionsBoundary {
            principal,
            policy_arn,
        } => {
            ensure_managed_policy(model, policy_arn)?;
            same_account(model, principal, policy_arn)?;
            *boundary_of(model, principal)? = Some(policy_arn.clone());
        }
        Edit::DeletePermissionsBoundary { principal } => {
            let boundary = boundary_of(model, principal)?;
            if boundary.take().is_none() {
                return Err(format!("{principal} has no permissions boundary"));
            }
        }
        Edit::PutBucketPolicy { bucket, policy } => {
            bucket_mut(model, bucket)?.policy = Some(Arc::new(policy.clone()));
        }
        Edit::DeleteBucketPolicy { bucket } => {
            let bucket = bucket_mut(model, bucket)?;
            if bucket.policy.take().is_none() {
                return Err(format!("bucket {} has no bucket policy", bucket.name));
            }
        }
        Edit::PutKeyPolicy { key, policy } => {
            let key = model
                .keys
                .values_mut()
                .find(|k| &k.arn == key || &k.id == key)
                .ok_or_else(|| format!("no KMS key {key} in the snapshots"))?;
            if key.key_manager == Some(crate::model::KeyManager::Aws) {
                return Err(format!(
                    "{} is an AWS managed key; AWS does not let its key policy change",
                    key.arn
                ));
            }
            key.policy = Some(Arc::new(policy.clone()));
        }
    }
    Ok(())
}

/// The policies a user, group or role holds itself: inline ones, and managed ones by ARN.
struct OwnPolicies<'m> {
    inline: &'m mut Vec<crate::model::InlinePolicy>,
    managed: &'m mut Vec<String>,
}

fn own_policies<'m>(model: &'m mut Model, principal: &str) -> Result<OwnPolicies<'m>, String> {
    if let Some(user) = model.users.get_mut(principal) {
        return Ok(OwnPolicies {
            inline: &mut user.inline_policies,
            managed: &mut user.managed_policy_arns,
        });
    }
    if let Some(group) = model.groups.get_mut(principal) {
        return Ok(OwnPolicies {
            inline: &mut group.inline_policies,
            managed: &mut group.managed_policy_arns,
        });
    }
    if let Some(role) = model.roles.get_mut(principal) {
        return Ok(OwnPolicies {
            inline: &mut role.inline_policies,
            managed: &mut role.managed_policy_arns,
        });
    }
    Err(format!(
        "no user, group or role {principal} in the snapshots"
    ))
}

fn boundary_of<'m>(
    model: &'m mut Model,
    principal: &str,
) -> Result<&'m mut Option<String>, String> {
    if let Some(user) = model.users.get_mut(principal) {
        return Ok(&mut user.permissions_boundary);
    }
    if let Some(role) = model.roles.get_mut(principal) {
        return Ok(&mut role.permissions_boundary);
    }
    Err(format!(
        "no user or role {principal} in the snapshots (only users and roles have boundaries)"
    ))
}

fn bucket_mut<'m>(
    model: &'m mut Model,
    bucket: &str,
) -> Result<&'m mut crate::model::Bucket, String> {
    let name = bucket.strip_prefix("arn:aws:s3:::").unwrap_or(bucket);
    model
        .buckets
        .get_mut(name)
        .ok_or_else(|| format!("no bucket {name} in the snapshots"))
}

/// The name of `group` (an ARN) after checking that it and `user` exist in one account.
fn group_of(model: &Model, user: &str, group: &str) -> Result<String, String> {
    let user = model
        .users
        .get(user)
        .ok_or_else(|| format!("no user {user} in the snapshots"))?;
    let group = model
        .groups
        .get(group)
        .ok_or_else(|| format!("no group {group} in the snapshots"))?;
    if group.account != user.account {
        return Err(format!(
            "{} and {} are in different accounts",
            user.arn, group.arn
        ));
    }
    Ok(group.name.clone())
}

/// Who has `arn` attached or as a boundary.
fn holders_of(model: &Model, arn: &str) -> Vec<String> {
    let mut holders: Vec<String> = Vec::new();
    for user in model.users.values() {
        if user.managed_policy_arns.iter().any(|a| a == arn)
            || user.permissions_boundary.as_deref() == Some(arn)
        {
            holders.push(user.arn.clone());
        }
    }
    for group in model.groups.values() {
        if group.managed_policy_arns.iter().any(|a| a == arn) {
            holders.push(group.arn.clone());
        }
    }
    for role in model.roles.values() {
        if role.managed_policy_arns.iter().any(|a| a == arn)
            || role.permissions_boundary.as_deref() == Some(arn)
        {
            holders.push(role.arn.clone());
        }
    }
    holders
}

/// Makes sure the model knows the managed policy `arn`: from the snapshots, or for an AWS
/// managed policy from the bundled copy.
fn ensure_managed_policy(model: &mut Model, arn: &str) -> Result<(), String> {
    if model.managed_policies.contains_key(arn) {
        return Ok(());
    }
    match crate::snapshot::managed::bundled_policy(arn) {
        Ok(Some(policy)) => {
            model.managed_policies.insert(arn.to_string(), policy);
            Ok(())
        }
        Ok(None) => Err(format!(
            "no managed policy {arn} in the snapshots or among the AWS managed policies; \
             create it with put_managed_policy first"
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn put_managed_policy(model: &mut Model, arn: &str, policy: &Policy) -> Result<(), String> {
    if crate::model::is_aws_managed_policy_arn(arn) {
        return Err(format!(
            "{arn} is an AWS managed policy; AWS does not let it change"
        ));
    }
    let (account, path, name) = parse_policy_arn(arn).ok_or_else(|| {
        format!("{arn} is not a managed policy ARN (arn:aws:iam::ACCOUNT:policy/PATH/NAME)")
    })?;
    if model.account(account).is_none() {
        return Err(format!(
            "{arn} belongs to account {account}, which no snapshot describes"
        ));
    }
    // A new version keeps the old one, which could be put back in force.
    let existed = model.managed_policies.contains_key(arn);
    let entry = model
        .managed_policies
        .entry(arn.to_string())
        .or_insert_with(|| ManagedPolicy {
            arn: arn.to_string(),
            name: name.to_string(),
            path: path.to_string(),
            account: account.to_string(),
            version: None,
            policy: Arc::new(policy.clone()),
            source: PolicySource::Snapshot,
            other_versions: false,
        });
    entry.policy = Arc::new(policy.clone());
    entry.other_versions |= existed;
    Ok(())
}

/// The account, path (`/` or `/teams/`) and name of a customer managed policy ARN.
fn parse_policy_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, _partition, service, region) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let (account, resource) = (parts.next()?, parts.next()?);
    let well_formed = prefix == "arn"
        && service == "iam"
        && region.is_empty()
        && crate::model::is_account_id(account);
    let path_and_name = resource.strip_prefix("policy")?;
    let name = path_and_name.rsplit('/').next()?;
    let path = &path_and_name[..path_and_name.len() - name.len()];
    (well_formed && path.starts_with('/') && !name.is_empty()).then_some((account, path, name))
}

/// A customer managed policy can be attached only within its own account.
fn same_account(model: &Model, principal: &str, policy_arn: &str) -> Result<(), String> {
    let policy = &model.managed_policies[policy_arn];
    let holder = crate::model::arn_account(principal).unwrap_or_default();
    if policy.is_aws_managed() || policy.account == holder {
        Ok(())
    } else {
        Err(format!(
            "{policy_arn} belongs to account {}, and {principal} to account {holder}: a managed \
             policy is attached only within its account",
            policy.account
        ))
    }
}

impl Edit {
    /// One line for the report: the operation and what it touches.
    pub fn summary(&self) -> String {
        match self {
            Edit::PutInlinePolicy {
                principal, name, ..
            } => format!("put inline policy {name} on {principal}"),
            Edit::DeleteInlinePolicy { principal, name } => {
                format!("delete inline policy {name} of {principal}")
            }
            Edit::PutManagedPolicy { arn, .. } => format!("put managed policy {arn}"),
            Edit::DeleteManagedPolicy { arn } => format!("delete managed policy {arn}"),
            Edit::AttachPolicy {
                principal,
                policy_arn,
            } => format!("attach {policy_arn} to {principal}"),
            Edit::DetachPolicy {
                principal,
                policy_arn,
            } => format!("detach {policy_arn} from {principal}"),
            Edit::AddUserToGroup { user, group } => format!("add {user} to {group}"),
            Edit::RemoveUserFromGroup { user, group } => format!("remove {user} from {group}"),
            Edit::PutTrustPolicy { role, .. } => format!("put the trust policy of {role}"),
            Edit::PutPermissionsBoundary {
                principal,
                policy_arn,
            } => format!("set the permissions boundary of {principal} to {policy_arn}"),
            Edit::DeletePermissionsBoundary { principal } => {
                format!("delete the permissions boundary of {principal}")
            }
            Edit::PutBucketPolicy { bucket, .. } => format!("put the bucket policy of {bucket}"),
            Edit::DeleteBucketPolicy { bucket } => {
                format!("delete the bucket policy of {bucket}")
            }
            Edit::PutKeyPolicy { key, .. } => format!("put the key policy of {key}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_model() -> Model {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/mediaconvert-default");
        crate::snapshot::load(&[dir]).expect("the example model loads")
    }

    fn change(edits: Vec<Edit>) -> ChangeFile {
        ChangeFile {
            file: "change.json".into(),
            description: None,
            edits: edits
                .into_iter()
                .enumerate()
                .map(|(i, edit)| Located {
                    edit,
                    path: format!("changes[{i}]"),
                })
                .collect(),
        }
    }

    const ANALYST: &str = "arn:aws:iam::111122223333:user/analyst";
    const EDITORS: &str = "arn:aws:iam::111122223333:group/media-editors";
    const ALLOW_ALL: &str =
        r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#;

    fn policy() -> Policy {
        Policy::from_json_text(ALLOW_ALL).unwrap()
    }

    #[test]
    fn group_membership_brings_the_group_policies() {
        let model = default_model();
        let changed = apply(
            &model,
            &change(vec![Edit::AddUserToGroup {
                user: ANALYST.into(),
                group: EDITORS.into(),
            }]),
        )
        .unwrap();
        let groups = |m: &Model| m.effective_policies(ANALYST).unwrap().groups;
        assert!(groups(&model).is_empty());
        assert_eq!(groups(&changed), vec![EDITORS.to_string()]);
        let removed = apply(
            &changed,
            &change(vec![Edit::RemoveUserFromGroup {
                user: ANALYST.into(),
                group: EDITORS.into(),
            }]),
        )
        .unwrap();
        assert!(groups(&removed).is_empty());
    }

    #[test]
    fn a_created_managed_policy_can_be_attached_and_bound() {
        let arn = "arn:aws:iam::111122223333:policy/teams/Everything";
        let changed = apply(
            &default_model(),
            &change(vec![
                Edit::PutManagedPolicy {
                    arn: arn.into(),
                    policy: policy(),
                },
                Edit::AttachPolicy {
                    principal: ANALYST.into(),
                    policy_arn: arn.into(),
                },
                Edit::PutPermissionsBoundary {
                    principal: ANALYST.into(),
                    policy_arn: arn.into(),
                },
            ]),
        )
        .unwrap();
        let effective = changed.effective_policies(ANALYST).unwrap();
        assert!(effective.identity.iter().any(|p| p.policy.name == arn));
        assert_eq!(effective.boundary_arn.as_deref(), Some(arn));
        assert!(effective.is_complete());
        assert_eq!(changed.managed_policies[arn].path, "/teams/");
    }

    #[test]
    fn edits_aws_would_refuse_are_refused_with_their_path() {
        let model = default_model();
        let refused = |edit: Edit| apply(&model, &change(vec![edit])).unwrap_err();
        let attached = refused(Edit::DeleteManagedPolicy {
            arn: "arn:aws:iam::111122223333:policy/FinanceReadOnly".into(),
        });
        assert_eq!(attached.path, "changes[0]");
        assert!(attached.message.contains("detach it first"), "{attached}");
        let managed = refused(Edit::PutManagedPolicy {
            arn: "arn:aws:iam::aws:policy/AmazonS3FullAccess".into(),
            policy: policy(),
        });
        assert!(managed.message.contains("AWS managed"), "{managed}");
        let key = refused(Edit::PutKeyPolicy {
            key: "no-such-key".into(),
            policy: policy(),
        });
        assert!(key.message.contains("no KMS key"), "{key}");
        let unknown = refused(Edit::AttachPolicy {
            principal: ANALYST.into(),
            policy_arn: "arn:aws:iam::111122223333:policy/Nowhere".into(),
        });
        assert!(unknown.message.contains("put_managed_policy"), "{unknown}");
        let aws_managed = refused(Edit::DeleteManagedPolicy {
            arn: "arn:aws:iam::aws:policy/AmazonS3FullAccess".into(),
        });
        assert!(aws_managed.message.contains("AWS managed"), "{aws_managed}");
        for malformed in [
            "arn:aws:iam::111122223333:policyx/Everything",
            "arn:aws:iam::111122223333:policy/",
            "arn:aws:s3:::111122223333:policy/Everything",
        ] {
            let error = refused(Edit::PutManagedPolicy {
                arn: malformed.into(),
                policy: policy(),
            });
            assert!(
                error.message.contains("not a managed policy ARN"),
                "{error}"
            );
        }
        let elsewhere = refused(Edit::PutManagedPolicy {
            arn: "arn:aws:iam::999988887777:policy/Everything".into(),
            policy: policy(),
        });
        assert!(
            elsewhere.message.contains("no snapshot describes"),
            "{elsewhere}"
        );
    }

    #[test]
    fn a_policy_of_another_account_is_not_attached_nor_an_aws_key_policy_changed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let accounts = [
            root.join("mediaconvert-cross-account"),
            root.join("mediaconvert-cross-account-partner"),
        ];
        let model = crate::snapshot::load(&accounts).expect("the example models load");
        let partner_policy = "arn:aws:iam::444455556666:policy/Everything";
        let refused = apply(
            &model,
            &change(vec![
                Edit::PutManagedPolicy {
                    arn: partner_policy.into(),
                    policy: policy(),
                },
                Edit::AttachPolicy {
                    principal: "arn:aws:iam::111122223333:user/editor".into(),
                    policy_arn: partner_policy.into(),
                },
            ]),
        )
        .unwrap_err();
        assert_eq!(refused.path, "changes[1]");
        assert!(
            refused.message.contains("only within its account"),
            "{refused}"
        );

        let sse = crate::snapshot::load(&[root.join("mediaconvert-sse-kms")]).unwrap();
        let aws_key = sse
            .keys
            .values()
            .find(|k| k.key_manager == Some(crate::model::KeyManager::Aws))
            .expect("the model has an AWS managed key");
        let refused = apply(
            &sse,
            &change(vec![Edit::PutKeyPolicy {
                key: aws_key.arn.clone(),
                policy: policy(),
            }]),
        )
        .unwrap_err();
        assert!(refused.message.contains("AWS managed key"), "{refused}");
    }

    #[test]
    fn bucket_policies_are_put_and_deleted() {
        let model = default_model();
        let changed = apply(
            &model,
            &change(vec![Edit::DeleteBucketPolicy {
                bucket: "finance".into(),
            }]),
        )
        .unwrap();
        assert!(model.buckets["finance"].policy.is_some());
        assert!(changed.buckets["finance"].policy.is_none());
        let again = apply(
            &changed,
            &change(vec![Edit::DeleteBucketPolicy {
                bucket: "arn:aws:s3:::finance".into(),
            }]),
        );
        assert!(again.unwrap_err().message.contains("has no bucket policy"));
    }
}
