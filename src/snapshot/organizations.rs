//! The AWS Organizations part of a snapshot: service and resource control policies
//! (`describe-policy` output, the document as JSON text in `Policy.Content`) and
//! `organizations/targets.json`, which says which of them apply at each level above the
//! account, root first.
//!
//! A policy type with no policy at any level is not enabled in the organization
//! (`scripts/collect.sh` leaves it out then): it restricts nothing. AWS keeps at least one SCP at
//! every level while SCPs are enabled, so a level without one among levels with some is
//! reported. `FullAWSAccess` and `RCPFullAWSAccess` are AWS managed with fixed content, so a level may
//! name them without the snapshot holding their files. Any other policy a level names but the
//! snapshot lacks is a warning, and answers about the account's principals that depend on it
//! are `unknown`.

use super::document::policy_document;
use super::json::Node;
use super::read_json;
use crate::input::InputError;
use crate::model::{Organization, OrganizationLevel, OrganizationPolicy, Warning};
use crate::policy::Policy;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Service or resource control policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ControlKind {
    Service,
    Resource,
}

impl ControlKind {
    /// The kind of a policy of type `name` (`SERVICE_CONTROL_POLICY`); `None` for the policy
    /// types that grant and deny nothing (tag, backup, AI services opt-out, ...).
    pub(crate) fn of_type(name: &str) -> Option<ControlKind> {
        [ControlKind::Service, ControlKind::Resource]
            .into_iter()
            .find(|kind| kind.type_name() == name)
    }

    pub(crate) fn type_name(self) -> &'static str {
        match self {
            ControlKind::Service => "SERVICE_CONTROL_POLICY",
            ControlKind::Resource => "RESOURCE_CONTROL_POLICY",
        }
    }

    fn folder(self) -> &'static str {
        match self {
            ControlKind::Service => "organizations/scps",
            ControlKind::Resource => "organizations/rcps",
        }
    }
}

/// Reads one `describe-policy` output.
fn control_policy(
    path: &Path,
    file_id: &str,
    kind: ControlKind,
    warnings: &mut Vec<Warning>,
) -> Result<OrganizationPolicy, InputError> {
    let (file, value) = read_json(path)?;
    let root = Node::root(&file, &value);
    let policy_node = root.required("Policy")?;
    let summary = policy_node.field("PolicySummary")?;
    let mut id = file_id.to_string();
    let mut name = None;
    let mut arn = None;
    let mut aws_managed = false;
    if let Some(summary) = &summary {
        if let Some(type_node) = summary.field("Type")? {
            let type_name = type_node.str()?;
            if type_name != kind.type_name() {
                return Err(type_node.error(format!(
                    "a {type_name} in {}; it holds {} files only",
                    kind.folder(),
                    kind.type_name()
                )));
            }
        }
        if let Some(summary_id) = summary.optional_str("Id")? {
            if summary_id != file_id {
                warnings.push(Warning {
                    file: file.clone(),
                    path: "Policy.PolicySummary.Id".to_string(),
                    message: format!("the policy id {summary_id} differs from the file name {file_id}.json; the id is used"),
                });
            }
            id = summary_id.to_string();
        }
        name = summary.optional_str("Name")?.map(str::to_string);
        arn = summary.optional_str("Arn")?.map(str::to_string);
        aws_managed = summary.optional_bool("AwsManaged")?.unwrap_or(false);
    }
    let policy = policy_document(&policy_node.required("Content")?)?;
    Ok(OrganizationPolicy {
        arn: arn.unwrap_or_else(|| id.clone()),
        id,
        name,
        aws_managed,
        policy: Arc::new(policy),
    })
}

/// The AWS managed control policies every organization has, with their fixed content.
pub(crate) fn well_known(id: &str) -> Option<(ControlKind, OrganizationPolicy)> {
    let (kind, name, arn, document) = match id {
        "p-FullAWSAccess" => (
            ControlKind::Service,
            "FullAWSAccess",
            "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        ),
        "p-RCPFullAWSAccess" => (
            ControlKind::Resource,
            "RCPFullAWSAccess",
            "arn:aws:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
        ),
        _ => return None,
    };
    let policy = Policy::from_json_text(document).ok()?;
    Some((
        kind,
        OrganizationPolicy {
            id: id.to_string(),
            name: Some(name.to_string()),
            arn: arn.to_string(),
            aws_managed: true,
            policy: Arc::new(policy),
        },
    ))
}

/// Reads the organization part of one snapshot. `None` when it has no `targets.json`.
pub(crate) fn levels(
    scp_files: &BTreeMap<String, PathBuf>,
    rcp_files: &BTreeMap<String, PathBuf>,
    targets: Option<&Path>,
    description: Option<&Path>,
    account: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Organization>, InputError> {
    let (organization_id, management_account) = match description {
        Some(path) => describe_organization(path)?,
        None => (None, None),
    };
    let mut scps = BTreeMap::new();
    for (file_id, path) in scp_files {
        let policy = control_policy(path, file_id, ControlKind::Service, warnings)?;
        scps.insert(policy.id.clone(), (policy, path));
    }
    let mut rcps = BTreeMap::new();
    for (file_id, path) in rcp_files {
        let policy = control_policy(path, file_id, ControlKind::Resource, warnings)?;
        rcps.insert(policy.id.clone(), (policy, path));
    }
    let Some(targets) = targets else {
        if let Some((_, path)) = scps.values().chain(rcps.values()).next() {
            warnings.push(Warning {
                file: path.display().to_string(),
                path: String::new(),
                message: "organizations/targets.json is missing, so no control policy of this snapshot applies anywhere".to_string(),
            });
        }
        return Ok(organization_id.is_some().then(|| Organization {
            levels: Vec::new(),
            scps_enabled: false,
            rcps_enabled: false,
            id: organization_id,
            management_account,
        }));
    };
    let (file, value) = read_json(targets)?;
    let root = Node::root(&file, &value);
    let mut levels = Vec::new();
    let mut used = BTreeSet::new();
    for level_node in root.required("levels")?.list()? {
        let mut level = OrganizationLevel {
            target: level_node.required_str("id")?.to_string(),
            scps: Vec::new(),
            rcps: Vec::new(),
            missing: Vec::new(),
        };
        for policy_node in level_node.required("policies")?.list()? {
            let id = policy_node.str()?;
            used.insert(id.to_string());
            if let Some((policy, _)) = scps.get(id) {
                level.scps.push(policy.clone());
            } else if let Some((policy, _)) = rcps.get(id) {
                level.rcps.push(policy.clone());
            } else if let Some((kind, policy)) = well_known(id) {
                match kind {
                    ControlKind::Service => level.scps.push(policy),
                    ControlKind::Resource => level.rcps.push(policy),
                }
            } else {
                warnings.push(Warning {
                    file: file.clone(),
                    path: policy_node.path.clone(),
                    message: format!(
                        "policy {id} is in neither organizations/scps nor organizations/rcps; answers about this account's principals are unknown"
                    ),
                });
                level.missing.push(id.to_string());
            }
        }
        levels.push(level);
    }
    // A missing policy may be of either type, so only known SCPs show that SCPs are enabled.
    let scps_enabled = levels.iter().any(|level| !level.scps.is_empty());
    let rcps_enabled = levels.iter().any(|level| !level.rcps.is_empty());
    if scps_enabled {
        for (index, level) in levels.iter().enumerate() {
            if level.scps.is_empty() && level.missing.is_empty() {
                warnings.push(Warning {
                    file: file.clone(),
                    path: format!("levels[{index}]"),
                    message: format!(
                        "level {} has no SCP while other levels have some, so SCPs deny every action of this account's principals",
                        level.target
                    ),
                });
            }
        }
    }
    if !levels.iter().any(|level| level.target == account) {
        warnings.push(Warning {
            file: file.clone(),
            path: "levels".to_string(),
            message: format!("no level is the account {account} itself; policies attached to the account are not known"),
        });
    }
    for (id, (_, path)) in scps.iter().chain(rcps.iter()) {
        if !used.contains(id) {
            warnings.push(Warning {
                file: path.display().to_string(),
                path: String::new(),
                message: format!("policy {id} is attached at no level of organizations/targets.json; it does not apply"),
            });
        }
    }
    Ok(Some(Organization {
        levels,
        scps_enabled,
        rcps_enabled,
        id: organization_id,
        management_account,
    }))
}

/// `organizations/organization.json` (`aws organizations describe-organization`): the
/// organization's id and its management account.
fn describe_organization(path: &Path) -> Result<(Option<String>, Option<String>), InputError> {
    let (file, value) = read_json(path)?;
    let root = Node::root(&file, &value);
    let organization = root.required("Organization")?;
    let id = organization.optional_str("Id")?.map(str::to_string);
    let management = organization
        .optional_str("MasterAccountId")?
        .map(str::to_string);
    if let Some(management) = &management {
        if !crate::model::is_account_id(management) {
            return Err(organization
                .required("MasterAccountId")?
                .error(format!("{management:?} is not an account id")));
        }
    }
    Ok((id, management))
}
