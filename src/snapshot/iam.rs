//! The IAM part of a snapshot: the output of `aws iam get-account-authorization-details`
//! (one object, or a JSON list of pages) read into users, groups, roles and managed policies.
//!
//! Pages are merged in order. `GroupList` holds group names; attached policies and boundaries
//! are kept as ARNs and resolved once every snapshot is read (an ARN may be defined on a later
//! page, or only in the bundled AWS managed policies). Of a managed policy only the default
//! version (`IsDefaultVersion: true`) is parsed: the others are not in force.

use super::document::{aws_managed_policy_document, policy_document};
use super::json::Node;
use crate::input::InputError;
use crate::model::{
    arn_account, arn_partition, Group, InlinePolicy, ManagedPolicy, PolicySource, Role, User,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The account a snapshot describes, as far as it is known yet, and what said so.
#[derive(Debug, Clone, Default)]
pub(crate) struct AccountClaim {
    pub id: Option<String>,
    pub partition: Option<String>,
    /// Where the id came from, for messages (`caller-identity.json`).
    pub origin: String,
}

impl AccountClaim {
    /// Checks that the IAM ARN at `node` belongs to the claimed account (adopting its account
    /// when none is claimed yet) and returns the account id.
    fn check(&mut self, node: &Node, arn: &str) -> Result<String, InputError> {
        let account = arn_account(arn)
            .filter(|account| crate::model::is_account_id(account))
            .ok_or_else(|| node.error(format!("{arn:?} is not an IAM ARN with an account id")))?;
        match &self.id {
            Some(claimed) if claimed != account => Err(node.error(format!(
                "{arn} is in account {account}, but the snapshot is of account {claimed} (from {})",
                self.origin
            ))),
            Some(claimed) => Ok(claimed.clone()),
            None => {
                self.id = Some(account.to_string());
                self.partition = arn_partition(arn).map(str::to_string);
                self.origin = format!("{} at {}", node.file, node.path);
                Ok(account.to_string())
            }
        }
    }
}

/// A reference from a principal to a managed policy or group, with where it is written.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub target: String,
    pub account: String,
    pub file: String,
    pub path: String,
}

/// What the authorization details hold.
#[derive(Debug, Default)]
pub(crate) struct IamDetails {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub roles: Vec<Role>,
    pub policies: Vec<ManagedPolicy>,
    /// Attached managed policies and permissions boundaries, by ARN.
    pub policy_references: Vec<Reference>,
    /// Group memberships, by group name.
    pub group_references: Vec<Reference>,
    /// Where the last page says `IsTruncated: true`: the listing stops before its end.
    pub truncated_at: Option<String>,
}

/// Reads the authorization details in `value` (the parsed content of `file`).
pub(crate) fn parse(
    file: &str,
    value: &Value,
    claim: &mut AccountClaim,
) -> Result<IamDetails, InputError> {
    let root = Node::root(file, value);
    let pages = match value {
        Value::Array(_) => root.list()?,
        Value::Object(_) => vec![root],
        _ => {
            return Err(root.error(format!(
                "expected the output of get-account-authorization-details (an object, or a list of pages), found {}",
                crate::policy::kind_of(value)
            )))
        }
    };
    let mut details = IamDetails::default();
    for page in &pages {
        page.object()?;
        for node in page.optional_list("UserDetailList")? {
            let user = parse_user(&node, claim, &mut details)?;
            details.users.push(user);
        }
        for node in page.optional_list("GroupDetailList")? {
            let group = parse_group(&node, claim, &mut details)?;
            details.groups.push(group);
        }
        for node in page.optional_list("RoleDetailList")? {
            let role = parse_role(&node, claim, &mut details)?;
            details.roles.push(role);
        }
        for node in page.optional_list("Policies")? {
            let policy = parse_managed_policy(&node, claim)?;
            details.policies.push(policy);
        }
        details.truncated_at = match page.field("IsTruncated")? {
            Some(flag) if flag.value == &Value::Bool(true) => Some(flag.path.clone()),
            _ => None,
        };
    }
    Ok(details)
}

fn parse_user(
    node: &Node,
    claim: &mut AccountClaim,
    details: &mut IamDetails,
) -> Result<User, InputError> {
    let arn_node = node.required("Arn")?;
    let arn = arn_node.str()?;
    let account = claim.check(&arn_node, arn)?;
    let mut groups = Vec::new();
    for group in node.optional_list("GroupList")? {
        let name = group.str()?.to_string();
        details.group_references.push(Reference {
            target: name.clone(),
            account: account.clone(),
            file: group.file.to_string(),
            path: group.path.clone(),
        });
        groups.push(name);
    }
    let managed_policy_arns = attached_policies(node, &account, details)?;
    let permissions_boundary = permissions_boundary(node, &account, details)?;
    Ok(User {
        arn: arn.to_string(),
        name: node.required_str("UserName")?.to_string(),
        path: path_of(node)?,
        inline_policies: inline_policies(node, "UserPolicyList")?,
        managed_policy_arns,
        permissions_boundary,
        tags: tags(node, "Tags")?,
        groups,
        unique_id: node.optional_str("UserId")?.map(str::to_string),
        account,
    })
}

fn parse_group(
    node: &Node,
    claim: &mut AccountClaim,
    details: &mut IamDetails,
) -> Result<Group, InputError> {
    let arn_node = node.required("Arn")?;
    let arn = arn_node.str()?;
    let account = claim.check(&arn_node, arn)?;
    let managed_policy_arns = attached_policies(node, &account, details)?;
    Ok(Group {
        arn: arn.to_string(),
        name: node.required_str("GroupName")?.to_string(),
        path: path_of(node)?,
        inline_policies: inline_policies(node, "GroupPolicyList")?,
        managed_policy_arns,
        account,
    })
}

fn parse_role(
    node: &Node,
    claim: &mut AccountClaim,
    details: &mut IamDetails,
) -> Result<Role, InputError> {
    let arn_node = node.required("Arn")?;
    let arn = arn_node.str()?;
    let account = claim.check(&arn_node, arn)?;
    let trust_policy = policy_document(&node.required("AssumeRolePolicyDocument")?)?;
    let managed_policy_arns = attached_policies(node, &account, details)?;
    let permissions_boundary = permissions_boundary(node, &account, details)?;
    Ok(Role {
        arn: arn.to_string(),
        name: node.required_str("RoleName")?.to_string(),
        path: path_of(node)?,
        trust_policy: Arc::new(trust_policy),
        inline_policies: inline_policies(node, "RolePolicyList")?,
        managed_policy_arns,
        permissions_boundary,
        tags: tags(node, "Tags")?,
        unique_id: node.optional_str("RoleId")?.map(str::to_string),
        account,
    })
}

fn parse_managed_policy(
    node: &Node,
    claim: &mut AccountClaim,
) -> Result<ManagedPolicy, InputError> {
    let arn_node = node.required("Arn")?;
    let arn = arn_node.str()?;
    let account = match arn_account(arn) {
        Some("aws") => "aws".to_string(),
        _ => claim.check(&arn_node, arn)?,
    };
    let versions = node.required("PolicyVersionList")?;
    let version = default_version(node, &versions)?;
    let document = version.required("Document")?;
    let policy = if account == "aws" {
        aws_managed_policy_document(&document)?
    } else {
        policy_document(&document)?
    };
    Ok(ManagedPolicy {
        arn: arn.to_string(),
        name: node.required_str("PolicyName")?.to_string(),
        path: path_of(node)?,
        account,
        version: version.optional_str("VersionId")?.map(str::to_string),
        policy: Arc::new(policy),
        source: PolicySource::Snapshot,
        other_versions: versions.list()?.len() > 1,
    })
}

/// The version in force: the one with `IsDefaultVersion: true` (or, when no version says so,
/// the one `DefaultVersionId` names).
fn default_version<'a>(policy: &Node<'a>, versions: &Node<'a>) -> Result<Node<'a>, InputError> {
    let mut default = None;
    for version in versions.list()? {
        if version.optional_bool("IsDefaultVersion")? == Some(true) {
            if default.is_some() {
                return Err(version.error(
                    "a second version with IsDefaultVersion true; only one version is in force",
                ));
            }
            default = Some(version);
        }
    }
    if let Some(version) = default {
        return Ok(version);
    }
    if let Some(id) = policy.optional_str("DefaultVersionId")? {
        for version in versions.list()? {
            if version.optional_str("VersionId")? == Some(id) {
                return Ok(version);
            }
        }
    }
    Err(versions.error("no version has IsDefaultVersion true, so no version is in force"))
}

fn path_of(node: &Node) -> Result<String, InputError> {
    Ok(node.optional_str("Path")?.unwrap_or("/").to_string())
}

fn inline_policies(node: &Node, list: &str) -> Result<Vec<InlinePolicy>, InputError> {
    node.optional_list(list)?
        .iter()
        .map(|entry| {
            Ok(InlinePolicy {
                name: entry.required_str("PolicyName")?.to_string(),
                policy: Arc::new(policy_document(&entry.required("PolicyDocument")?)?),
            })
        })
        .collect()
}

fn attached_policies(
    node: &Node,
    account: &str,
    details: &mut IamDetails,
) -> Result<Vec<String>, InputError> {
    let mut arns = Vec::new();
    for attached in node.optional_list("AttachedManagedPolicies")? {
        let arn_node = attached.required("PolicyArn")?;
        let arn = arn_node.str()?.to_string();
        details.policy_references.push(Reference {
            target: arn.clone(),
            account: account.to_string(),
            file: arn_node.file.to_string(),
            path: arn_node.path.clone(),
        });
        arns.push(arn);
    }
    Ok(arns)
}

fn permissions_boundary(
    node: &Node,
    account: &str,
    details: &mut IamDetails,
) -> Result<Option<String>, InputError> {
    let Some(boundary) = node.field("PermissionsBoundary")? else {
        return Ok(None);
    };
    if let Some(kind_node) = boundary.field("PermissionsBoundaryType")? {
        let kind = kind_node.str()?;
        // Real output says `Policy`; the API reference names the value `PermissionsBoundaryPolicy`.
        if kind != "Policy" && kind != "PermissionsBoundaryPolicy" {
            return Err(kind_node.error(format!(
                "unknown permissions boundary type {kind:?} (expected \"Policy\")"
            )));
        }
    }
    let arn_node = boundary.required("PermissionsBoundaryArn")?;
    let arn = arn_node.str()?.to_string();
    details.policy_references.push(Reference {
        target: arn.clone(),
        account: account.to_string(),
        file: arn_node.file.to_string(),
        path: arn_node.path.clone(),
    });
    Ok(Some(arn))
}

/// Tags as IAM and S3 print them: a list of `{"Key": ..., "Value": ...}`.
pub(crate) fn tags(node: &Node, list: &str) -> Result<BTreeMap<String, String>, InputError> {
    let mut tags = BTreeMap::new();
    for tag in node.optional_list(list)? {
        let key = tag.required_str("Key")?.to_string();
        let value = tag.optional_str("Value")?.unwrap_or_default().to_string();
        tags.insert(key, value);
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(name: &str, policy_arn: &str) -> Value {
        json!({"UserName": name, "Arn": format!("arn:aws:iam::111122223333:user/{name}"), "GroupList": ["g"],
               "AttachedManagedPolicies": [{"PolicyName": "P", "PolicyArn": policy_arn}]})
    }

    #[test]
    fn pages_are_merged_in_order() {
        let pages = json!([
            {"UserDetailList": [user("a", "arn:aws:iam::aws:policy/A")], "IsTruncated": true, "Marker": "m"},
            {"UserDetailList": [user("b", "arn:aws:iam::aws:policy/B")],
             "GroupDetailList": [{"GroupName": "g", "Arn": "arn:aws:iam::111122223333:group/g"}],
             "IsTruncated": false}
        ]);
        let one = json!({"UserDetailList": [user("a", "arn:aws:iam::aws:policy/A"), user("b", "arn:aws:iam::aws:policy/B")],
                         "GroupDetailList": [{"GroupName": "g", "Arn": "arn:aws:iam::111122223333:group/g"}]});
        let mut claim = AccountClaim::default();
        let merged = parse("f", &pages, &mut claim).unwrap();
        let single = parse("f", &one, &mut AccountClaim::default()).unwrap();
        assert_eq!(merged.users, single.users);
        assert_eq!(merged.groups, single.groups);
        assert_eq!(claim.id.as_deref(), Some("111122223333"));
        let paths: Vec<&str> = merged
            .policy_references
            .iter()
            .map(|r| r.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "[0].UserDetailList[0].AttachedManagedPolicies[0].PolicyArn",
                "[1].UserDetailList[0].AttachedManagedPolicies[0].PolicyArn"
            ]
        );
    }

    #[test]
    fn only_the_default_version_counts() {
        let details = json!({"Policies": [{"PolicyName": "P", "Arn": "arn:aws:iam::111122223333:policy/P",
            "DefaultVersionId": "v2",
            "PolicyVersionList": [
                {"VersionId": "v2", "IsDefaultVersion": true,
                 "Document": {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}},
                {"VersionId": "v1", "IsDefaultVersion": false, "Document": "not even JSON"}]}]});
        let parsed = parse("f", &details, &mut AccountClaim::default()).unwrap();
        assert_eq!(parsed.policies[0].version.as_deref(), Some("v2"));
        assert!(parsed.policies[0].policy.statements[0]
            .action
            .covers("s3:GetObject"));
    }

    #[test]
    fn shape_errors_name_the_path() {
        let mut claim = AccountClaim::default();
        let error = parse("f", &json!({"UserDetailList": {"a": {}}}), &mut claim).unwrap_err();
        assert_eq!(
            error.to_string(),
            "f: UserDetailList: expected a list, found an object"
        );
        let error = parse(
            "f",
            &json!({"RoleDetailList": [{"RoleName": "r", "Arn": "arn:aws:iam::111122223333:role/r"}]}),
            &mut claim,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "f: RoleDetailList[0].AssumeRolePolicyDocument: missing"
        );
        let error = parse(
            "f",
            &json!({"UserDetailList": [{"UserName": "x", "Arn": "arn:aws:iam::999988887777:user/x"}]}),
            &mut claim,
        )
        .unwrap_err();
        assert!(
            error.message.contains("is in account 999988887777"),
            "{error}"
        );
        let error = parse(
            "f",
            &json!({"UserDetailList": [{"UserName": "x", "Arn": "arn:aws:iam::111122223333:user/x",
                   "PermissionsBoundary": {"PermissionsBoundaryType": "Role", "PermissionsBoundaryArn": "a"}}]}),
            &mut claim,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "f: UserDetailList[0].PermissionsBoundary.PermissionsBoundaryType: unknown permissions boundary type \"Role\" (expected \"Policy\")"
        );
    }
}
