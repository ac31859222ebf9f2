//! `iamproof inspect`: what the loader made of the snapshots, so that a user can check the
//! input before trusting any answer built on it.
//!
//! The report counts each kind of thing per account, lists every warning, and, for one
//! principal, shows the policies in force (identity, boundary, SCPs) and what they depend on
//! that no snapshot describes. One serialisable report is built and then rendered as text or
//! JSON, so both formats say the same; everything in it is in a stable order.

use crate::model::{
    Account, Attachment, Model, OrganizationPolicy, PolicySource, PrincipalType, Warning,
};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    pub accounts: Vec<AccountSummary>,
    pub warnings: Vec<Warning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<PrincipalReport>,
}

/// One account: where it came from and how much of each kind it holds.
#[derive(Debug, Clone, Serialize)]
pub struct AccountSummary {
    pub id: String,
    pub partition: String,
    pub region: String,
    pub source: String,
    pub counts: Counts,
    /// `None` when the snapshot has no `organizations/targets.json`.
    pub organization: Option<OrganizationSummary>,
}

/// The organization levels above one account.
#[derive(Debug, Clone, Serialize)]
pub struct OrganizationSummary {
    pub scps_enabled: bool,
    pub rcps_enabled: bool,
    /// Root first.
    pub levels: Vec<LevelSummary>,
}

/// How many of each kind one account holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub users: usize,
    pub groups: usize,
    pub roles: usize,
    /// Customer managed policies of the account.
    pub customer_managed_policies: usize,
    /// AWS managed policies that the account's principals use, as the snapshot includes them.
    pub aws_managed_policies_from_snapshot: usize,
    /// AWS managed policies that the account's principals use, taken from the bundled copy.
    pub aws_managed_policies_bundled: usize,
    /// Managed policy ARNs that the account's principals use and nothing describes.
    pub unresolved_managed_policies: usize,
    pub buckets: usize,
    pub kms_keys: usize,
    pub kms_aliases: usize,
    pub mediaconvert_queues: usize,
    pub mediaconvert_job_templates: usize,
    pub mediaconvert_presets: usize,
    pub rest_apis: usize,
    pub scp_levels: usize,
    pub rcp_levels: usize,
}

/// One organization level and the control policies attached there.
#[derive(Debug, Clone, Serialize)]
pub struct LevelSummary {
    pub target: String,
    pub scps: Vec<ControlPolicySummary>,
    pub rcps: Vec<ControlPolicySummary>,
    /// Policy ids the level names that the snapshot does not describe.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlPolicySummary {
    pub id: String,
    pub name: Option<String>,
    pub arn: String,
}

/// The policies in force for one user or role.
#[derive(Debug, Clone, Serialize)]
pub struct PrincipalReport {
    pub arn: String,
    #[serde(rename = "type")]
    pub principal_type: PrincipalType,
    pub account: String,
    /// Group ARNs, for a user.
    pub groups: Vec<String>,
    pub identity_policies: Vec<PolicySummary>,
    pub permissions_boundary: Option<BoundarySummary>,
    /// The number of statements of a role's trust policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_policy_statements: Option<usize>,
    /// The SCP levels of the principal's account, root first.
    pub scp_levels: Vec<LevelSummary>,
    /// What the principal depends on that nothing describes; answers that depend on it are
    /// `unknown`.
    pub unresolved: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicySummary {
    pub name: String,
    /// `inline` or `managed`.
    pub attachment: &'static str,
    /// For managed policies: `snapshot` or `bundled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<PolicySource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_group: Option<String>,
    pub statements: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoundarySummary {
    pub arn: String,
    /// `None` when the boundary policy is unresolved.
    pub source: Option<PolicySource>,
    pub statements: Option<usize>,
}

/// `--principal` named no user or role of the snapshots.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--principal {0}: no user or role with this ARN in the snapshots")]
pub struct UnknownPrincipal(pub String);

/// Builds the report; with `principal`, includes that user's or role's policies.
pub fn report(model: &Model, principal: Option<&str>) -> Result<InspectReport, UnknownPrincipal> {
    let principal = match principal {
        Some(arn) => {
            Some(principal_report(model, arn).ok_or_else(|| UnknownPrincipal(arn.to_string()))?)
        }
        None => None,
    };
    Ok(InspectReport {
        accounts: model
            .accounts
            .iter()
            .map(|account| account_summary(model, account))
            .collect(),
        warnings: with_action_warnings(model),
        principal,
    })
}

/// The loader's warnings and, for each action of the snapshots' policies that no AWS service
/// defines, one more; sorted.
fn with_action_warnings(model: &Model) -> Vec<Warning> {
    let mut warnings = model.warnings.clone();
    warnings.extend(action_warnings(model));
    warnings.sort();
    warnings.dedup();
    warnings
}

/// A warning for each `Action`/`NotAction` entry of the snapshots' policies (identity, trust,
/// bucket, key, API, SCP, RCP) that names no action of the AWS service authorization
/// reference: an unknown service prefix, an action its service does not define (with the
/// closest one that it does), or a wildcard that matches no action. Such an entry grants or
/// denies nothing, which is seldom what its author meant. AWS managed policies are left out:
/// they are AWS's to fix, not the account's.
pub fn action_warnings(model: &Model) -> Vec<Warning> {
    let Ok(reference) = crate::service::reference::bundled() else {
        return Vec::new();
    };
    let source = |account: &str| {
        model
            .accounts
            .iter()
            .find(|a| a.id == account)
            .map(|a| a.source.clone())
            .unwrap_or_default()
    };
    let iam_file = |account: &str| {
        source(account)
            .join("iam")
            .join("account-authorization-details.json")
    };
    // (file, policy name, policy)
    let mut policies: Vec<(std::path::PathBuf, String, &crate::policy::Policy)> = Vec::new();
    for user in model.users.values() {
        for inline in &user.inline_policies {
            let name = crate::model::inline_policy_name(&user.arn, &inline.name);
            policies.push((iam_file(&user.account), name, &inline.policy));
        }
    }
    for group in model.groups.values() {
        for inline in &group.inline_policies {
            let name = crate::model::inline_policy_name(&group.arn, &inline.name);
            policies.push((iam_file(&group.account), name, &inline.policy));
        }
    }
    for role in model.roles.values() {
        let trust = format!("trust policy of {}", role.arn);
        policies.push((iam_file(&role.account), trust, &role.trust_policy));
        for inline in &role.inline_policies {
            let name = crate::model::inline_policy_name(&role.arn, &inline.name);
            policies.push((iam_file(&role.account), name, &inline.policy));
        }
    }
    for policy in model.managed_policies.values() {
        if !policy.is_aws_managed() && policy.source == PolicySource::Snapshot {
            policies.push((
                iam_file(&policy.account),
                policy.arn.clone(),
                &policy.policy,
            ));
        }
    }
    for bucket in model.buckets.values() {
        if let Some(policy) = &bucket.policy {
            let file = source(&bucket.account)
                .join("s3")
                .join(&bucket.name)
                .join("policy.json");
            policies.push((file, format!("bucket policy of {}", bucket.name), policy));
        }
    }
    for key in model.keys.values() {
        if let Some(policy) = &key.policy {
            let file = source(&key.account)
                .join("kms")
                .join(&key.id)
                .join("policy.json");
            policies.push((file, format!("key policy of {}", key.arn), policy));
        }
    }
    for api in model.rest_apis.values() {
        if let Some(policy) = &api.policy {
            let file = source(&api.account)
                .join("apigateway")
                .join("rest-apis.json");
            policies.push((file, format!("resource policy of {}", api.arn), policy));
        }
    }
    for account in &model.accounts {
        let Some(organization) = &account.organization else {
            continue;
        };
        for level in &organization.levels {
            for (folder, list) in [("scps", &level.scps), ("rcps", &level.rcps)] {
                for control in list.iter().filter(|c| !c.aws_managed) {
                    let file = account
                        .source
                        .join("organizations")
                        .join(folder)
                        .join(format!("{}.json", control.id));
                    policies.push((file, control.arn.clone(), &control.policy));
                }
            }
        }
    }
    let mut warnings = Vec::new();
    for (file, name, policy) in policies {
        for statement in &policy.statements {
            let element = if statement.action.negated {
                "NotAction"
            } else {
                "Action"
            };
            for pattern in statement.action.patterns() {
                let text = pattern.to_text();
                use crate::service::reference::ActionCheck;
                let problem = match reference.check_action_pattern(&text) {
                    ActionCheck::Defined => continue,
                    ActionCheck::UnknownService(prefix) => {
                        format!("no AWS service has the prefix {prefix}")
                    }
                    ActionCheck::UnknownAction { suggestion } => {
                        let hint = suggestion
                            .map(|s| format!("; did you mean {s}?"))
                            .unwrap_or_default();
                        format!("no AWS service defines this action{hint}")
                    }
                    ActionCheck::MatchesNothing => "matches no action of any AWS service".into(),
                };
                warnings.push(Warning {
                    file: file.display().to_string(),
                    path: String::new(),
                    message: format!(
                        "{name}, statement {}: {element} {text}: {problem}",
                        statement.label()
                    ),
                });
            }
        }
    }
    warnings
}

fn account_summary(model: &Model, account: &Account) -> AccountSummary {
    let id = account.id.as_str();
    let mut in_use = BTreeSet::new();
    for user in model.users.values().filter(|user| user.account == id) {
        in_use.extend(
            user.managed_policy_arns
                .iter()
                .chain(&user.permissions_boundary),
        );
    }
    for group in model.groups.values().filter(|group| group.account == id) {
        in_use.extend(group.managed_policy_arns.iter());
    }
    for role in model.roles.values().filter(|role| role.account == id) {
        in_use.extend(
            role.managed_policy_arns
                .iter()
                .chain(&role.permissions_boundary),
        );
    }
    let mut counts = Counts {
        users: model
            .users
            .values()
            .filter(|user| user.account == id)
            .count(),
        groups: model
            .groups
            .values()
            .filter(|group| group.account == id)
            .count(),
        roles: model
            .roles
            .values()
            .filter(|role| role.account == id)
            .count(),
        customer_managed_policies: model
            .managed_policies
            .values()
            .filter(|policy| policy.account == id)
            .count(),
        buckets: model
            .buckets
            .values()
            .filter(|bucket| bucket.account == id)
            .count(),
        kms_keys: model.keys.values().filter(|key| key.account == id).count(),
        kms_aliases: model
            .aliases
            .values()
            .filter(|alias| alias.account == id)
            .count(),
        mediaconvert_queues: model
            .queues
            .values()
            .filter(|queue| queue.account == id)
            .count(),
        mediaconvert_job_templates: model
            .job_templates
            .values()
            .filter(|template| template.account == id)
            .count(),
        mediaconvert_presets: model
            .presets
            .values()
            .filter(|preset| preset.account == id)
            .count(),
        rest_apis: model
            .rest_apis
            .values()
            .filter(|api| api.account == id)
            .count(),
        scp_levels: account.scp_levels().len(),
        rcp_levels: account.rcp_levels().len(),
        ..Counts::default()
    };
    for arn in in_use {
        match model.managed_policies.get(arn) {
            None => counts.unresolved_managed_policies += 1,
            // Customer policies of the account are counted above.
            Some(policy) if !policy.is_aws_managed() => {}
            Some(policy) => match policy.source {
                PolicySource::Snapshot => counts.aws_managed_policies_from_snapshot += 1,
                PolicySource::Bundled => counts.aws_managed_policies_bundled += 1,
            },
        }
    }
    AccountSummary {
        id: account.id.clone(),
        partition: account.partition.clone(),
        region: account.region.clone(),
        source: account.source.display().to_string(),
        counts,
        organization: account
            .organization
            .as_ref()
            .map(|organization| OrganizationSummary {
                scps_enabled: organization.scps_enabled,
                rcps_enabled: organization.rcps_enabled,
                levels: organization.levels.iter().map(level_summary).collect(),
            }),
    }
}

fn level_summary(level: &crate::model::OrganizationLevel) -> LevelSummary {
    let summarise = |policies: &Vec<OrganizationPolicy>| {
        policies
            .iter()
            .map(|policy| ControlPolicySummary {
                id: policy.id.clone(),
                name: policy.name.clone(),
                arn: policy.arn.clone(),
            })
            .collect()
    };
    LevelSummary {
        target: level.target.clone(),
        scps: summarise(&level.scps),
        rcps: summarise(&level.rcps),
        missing: level.missing.clone(),
    }
}

fn principal_report(model: &Model, arn: &str) -> Option<PrincipalReport> {
    let effective = model.effective_policies(arn)?;
    let identity_policies = effective
        .identity
        .iter()
        .map(|entry| PolicySummary {
            name: entry.policy.name.clone(),
            attachment: match entry.attachment {
                Attachment::Inline => "inline",
                Attachment::Managed(_) => "managed",
            },
            source: match entry.attachment {
                Attachment::Inline => None,
                Attachment::Managed(source) => Some(source),
            },
            via_group: entry.via_group.clone(),
            statements: entry.policy.policy.statements.len(),
        })
        .collect();
    let permissions_boundary = effective.boundary_arn.as_ref().map(|arn| BoundarySummary {
        arn: arn.clone(),
        source: effective.boundary.as_ref().map(|(_, source)| *source),
        statements: effective
            .boundary
            .as_ref()
            .map(|(named, _)| named.policy.statements.len()),
    });
    let scp_levels = model
        .account(&effective.account)
        .and_then(|account| account.organization.as_ref())
        .filter(|organization| organization.scps_enabled)
        .map(|organization| {
            organization
                .levels
                .iter()
                .map(|level| LevelSummary {
                    rcps: Vec::new(),
                    ..level_summary(level)
                })
                .collect()
        })
        .unwrap_or_default();
    Some(PrincipalReport {
        arn: effective.principal.clone(),
        principal_type: effective.principal_type,
        account: effective.account.clone(),
        groups: effective.groups.clone(),
        identity_policies,
        permissions_boundary,
        trust_policy_statements: model
            .roles
            .get(arn)
            .map(|role| role.trust_policy.statements.len()),
        scp_levels,
        unresolved: effective
            .unresolved
            .iter()
            .map(ToString::to_string)
            .collect(),
    })
}

/// The report as pretty-printed JSON, ending with a newline.
pub fn render_json(report: &InspectReport) -> String {
    // Serialising plain strings and numbers cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

/// The report as text for people.
pub fn render_text(report: &InspectReport) -> String {
    let mut out = String::new();
    for account in &report.accounts {
        render_account(&mut out, account);
        out.push('\n');
    }
    if report.warnings.is_empty() {
        out.push_str("warnings: none\n");
    } else {
        let _ = writeln!(out, "warnings ({}):", report.warnings.len());
        for warning in &report.warnings {
            let _ = writeln!(out, "  {warning}");
        }
    }
    if let Some(principal) = &report.principal {
        out.push('\n');
        render_principal(&mut out, principal);
    }
    out
}

const LABEL_WIDTH: usize = 28;

fn line(out: &mut String, indent: &str, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{indent}{label:<LABEL_WIDTH$}{value}");
}

fn render_account(out: &mut String, account: &AccountSummary) {
    let _ = writeln!(
        out,
        "account {} (partition {}, region {}) from {}",
        account.id, account.partition, account.region, account.source
    );
    let counts = &account.counts;
    line(out, "  ", "users", counts.users);
    line(out, "  ", "groups", counts.groups);
    line(out, "  ", "roles", counts.roles);
    line(
        out,
        "  ",
        "managed policies",
        format!(
            "{} customer; in use: {} AWS from the snapshot, {} AWS bundled, {} unresolved",
            counts.customer_managed_policies,
            counts.aws_managed_policies_from_snapshot,
            counts.aws_managed_policies_bundled,
            counts.unresolved_managed_policies
        ),
    );
    line(out, "  ", "S3 buckets", counts.buckets);
    line(
        out,
        "  ",
        "KMS keys",
        format!("{} ({} aliases)", counts.kms_keys, counts.kms_aliases),
    );
    line(out, "  ", "MediaConvert queues", counts.mediaconvert_queues);
    line(
        out,
        "  ",
        "MediaConvert job templates",
        counts.mediaconvert_job_templates,
    );
    line(
        out,
        "  ",
        "MediaConvert presets",
        counts.mediaconvert_presets,
    );
    line(out, "  ", "API Gateway REST APIs", counts.rest_apis);
    line(out, "  ", "SCP levels", counts.scp_levels);
    line(out, "  ", "RCP levels", counts.rcp_levels);
    match &account.organization {
        None => line(
            out,
            "  ",
            "organization",
            "none (no organizations/targets.json)",
        ),
        Some(organization) => {
            let enabled = |on: bool| if on { "enabled" } else { "not enabled" };
            let _ = writeln!(
                out,
                "  organization levels, root first (SCPs {}, RCPs {}):",
                enabled(organization.scps_enabled),
                enabled(organization.rcps_enabled)
            );
            for level in &organization.levels {
                render_level(out, level, true);
            }
        }
    }
}

fn render_level(out: &mut String, level: &LevelSummary, with_rcps: bool) {
    let names = |policies: &[ControlPolicySummary]| {
        if policies.is_empty() {
            return "none".to_string();
        }
        policies
            .iter()
            .map(|policy| match &policy.name {
                Some(name) => format!("{} ({name})", policy.id),
                None => policy.id.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = write!(out, "    {}: SCPs {}", level.target, names(&level.scps));
    if with_rcps {
        let _ = write!(out, "; RCPs {}", names(&level.rcps));
    }
    if !level.missing.is_empty() {
        let _ = write!(out, "; missing {}", level.missing.join(", "));
    }
    out.push('\n');
}

fn render_principal(out: &mut String, principal: &PrincipalReport) {
    let _ = writeln!(out, "principal {}", principal.arn);
    let kind = match principal.principal_type {
        PrincipalType::User => "user",
        PrincipalType::Role => "role",
    };
    line(out, "  ", "type", kind);
    line(out, "  ", "account", &principal.account);
    if principal.principal_type == PrincipalType::User {
        if principal.groups.is_empty() {
            line(out, "  ", "groups", "none");
        } else {
            let _ = writeln!(out, "  groups:");
            for group in &principal.groups {
                let _ = writeln!(out, "    {group}");
            }
        }
    }
    if let Some(statements) = principal.trust_policy_statements {
        line(out, "  ", "trust policy", plural(statements, "statement"));
    }
    if principal.identity_policies.is_empty() {
        line(out, "  ", "identity policies", "none");
    } else {
        let _ = writeln!(out, "  identity policies:");
        for policy in &principal.identity_policies {
            let mut description = match policy.source {
                None => policy.attachment.to_string(),
                Some(PolicySource::Snapshot) => format!("{}, from the snapshot", policy.attachment),
                Some(PolicySource::Bundled) => {
                    format!(
                        "{}, from the bundled AWS managed policies",
                        policy.attachment
                    )
                }
            };
            if let Some(group) = &policy.via_group {
                let _ = write!(description, ", via group {group}");
            }
            let _ = writeln!(
                out,
                "    {} ({description}, {})",
                policy.name,
                plural(policy.statements, "statement")
            );
        }
    }
    match &principal.permissions_boundary {
        None => line(out, "  ", "permissions boundary", "none"),
        Some(boundary) => {
            let detail = match (boundary.source, boundary.statements) {
                (Some(PolicySource::Snapshot), Some(n)) => {
                    format!("from the snapshot, {}", plural(n, "statement"))
                }
                (Some(PolicySource::Bundled), Some(n)) => {
                    format!(
                        "from the bundled AWS managed policies, {}",
                        plural(n, "statement")
                    )
                }
                _ => "unresolved".to_string(),
            };
            line(
                out,
                "  ",
                "permissions boundary",
                format!("{} ({detail})", boundary.arn),
            );
        }
    }
    if principal.scp_levels.is_empty() {
        line(
            out,
            "  ",
            "SCP levels",
            "none (no SCP applies to this account)",
        );
    } else {
        let _ = writeln!(out, "  SCP levels, root first:");
        for level in &principal.scp_levels {
            render_level(out, level, false);
        }
    }
    if principal.unresolved.is_empty() {
        line(out, "  ", "unresolved", "none");
    } else {
        let _ = writeln!(
            out,
            "  unresolved (answers that depend on these are unknown):"
        );
        for reference in &principal.unresolved {
            let _ = writeln!(out, "    {reference}");
        }
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
