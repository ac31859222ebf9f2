//! AWS Organizations in a plan: service and resource control policies
//! (`aws_organizations_policy`) and their attachments to a root, an OU or an account
//! (`aws_organizations_policy_attachment`), made in the organization levels above the model's
//! accounts ([`crate::model::Organization`]).
//!
//! The levels of an account are the root, the OUs and the account itself on its path, as the
//! snapshot's `organizations/targets.json` lists them. For every request, each level must allow
//! it and none may deny it ("SCP evaluation" in the AWS Organizations User Guide), so a policy
//! attached off the path changes nothing, and one attached on it is placed exactly:
//!
//! - a target on no account's path (another account, an OU or a root that no snapshot lists
//!   above an account) is passed over;
//! - the account itself as target, when the snapshot has no level for it, makes that level; the
//!   policies already attached there are not known and are taken to allow everything
//!   (`FullAWSAccess`), as are the levels of an organization whose SCPs the snapshot shows
//!   none of, once the plan attaches one: what the levels allow is over-approximated;
//! - what cannot be placed or read becomes a missing policy of the level (for a target known
//!   only after apply, of every account's own level), and answers about the account's
//!   principals are `unknown`: a target, policy id or content known only after apply, a
//!   policy that neither the plan nor a snapshot describes, a level the plan leaves without any
//!   SCP (AWS refuses to detach the last one, so the apply would fail).
//!
//! Policy types other than SCPs and RCPs (tag, backup, AI services opt-out, ...) grant and deny
//! nothing: they are passed over.

use super::{located, Attribute, Builder};
use crate::input::InputError;
use crate::model::{Model, Organization, OrganizationLevel, OrganizationPolicy};
use crate::snapshot::document::policy_document;
use crate::snapshot::json::Node;
use crate::snapshot::organizations::{well_known, ControlKind};
use crate::terraform::{warning, Resource};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a plan says of one organization policy.
#[derive(Debug, Clone)]
pub(super) enum Declared {
    /// A control policy whose type and content are known.
    Known(ControlKind, OrganizationPolicy),
    /// A policy whose type or content is known only after apply, with why.
    Unknown(String),
    /// A policy of a type that grants and denies nothing.
    Inert,
}

/// What the organization rows of one plan remember between resources.
#[derive(Debug, Default)]
pub(super) struct State {
    /// The plan's policies, by id (a placeholder for one known only after apply).
    policies: BTreeMap<String, Declared>,
    /// The levels an attachment was removed from, `(account, target)`, with the resource.
    detached: BTreeMap<(String, String), String>,
}

/// `aws_organizations_policy`: the policy, and its new content wherever it is attached.
pub(super) fn make_policy(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let kind = match b.attribute(r, values, "type")? {
        Attribute::Known(node) => Some(ControlKind::of_type(node.str()?)),
        // The provider's default type.
        Attribute::Absent => Some(Some(ControlKind::Service)),
        Attribute::Unknown => None,
    };
    let address = r.address.replace(['[', ']', '"'], "_");
    let id = b
        .optional_string(r, values, "id")?
        .unwrap_or_else(|| format!("p-{address}"));
    let arn = b
        .optional_string(r, values, "arn")?
        .unwrap_or_else(|| r.address.clone());
    b.remember(r, &arn, &id);
    let declared = match kind {
        Some(None) => Declared::Inert,
        None => Declared::Unknown(format!("{}.type, {}", r.address, b.plan.known_when)),
        Some(Some(kind)) => match b.attribute(r, values, "content")? {
            Attribute::Known(node) => {
                let policy = policy_document(&node).map_err(|e| located(r, e))?;
                Declared::Known(
                    kind,
                    OrganizationPolicy {
                        id: id.clone(),
                        name: b.optional_string(r, values, "name")?,
                        arn: arn.clone(),
                        aws_managed: false,
                        policy: Arc::new(policy),
                    },
                )
            }
            _ => Declared::Unknown(format!("{}.content, {}", r.address, b.plan.known_when)),
        },
    };
    if matches!(declared, Declared::Known(..)) {
        b.declared(arn, r);
    }
    // Where the policy is attached already, it is attached with its new content.
    for account in 0..b.model.accounts.len() {
        for level in levels_mut(b.model, account) {
            if detach(level, &id) {
                attach(level, &declared, &id);
            }
        }
    }
    b.org.policies.insert(id, declared);
    Ok(())
}

/// A deleted policy is detached from every level (Terraform deletes its attachments first).
pub(super) fn remove_policy(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
) -> Result<(), InputError> {
    if kept(r, values)? {
        return Ok(());
    }
    if let Some(id) = b.optional_string(r, values, "id")? {
        for account in 0..b.model.accounts.len() {
            let target_ids: Vec<String> = levels_mut(b.model, account)
                .filter_map(|level| detach(level, &id).then(|| level.target.clone()))
                .collect();
            let account_id = b.model.accounts[account].id.clone();
            for target in target_ids {
                b.org
                    .detached
                    .insert((account_id.clone(), target), r.address.clone());
            }
        }
    }
    Ok(())
}

/// Whether a destroyed resource with `skip_destroy` leaves the object in AWS.
fn kept(r: &Resource, values: &Node) -> Result<bool, InputError> {
    Ok(r.after.is_none() && values.optional_bool("skip_destroy")?.unwrap_or(false))
}

/// `aws_organizations_policy_attachment`: the policy at the target's level of every account
/// whose path holds the target.
pub(super) fn make_attachment(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
) -> Result<(), InputError> {
    let declared = match b.reference(r, values, "policy_id", false)? {
        Some(id) => (declared_policy(b, &id), id),
        None => {
            let why = format!("{}.policy_id, {}", r.address, b.plan.known_when);
            (Declared::Unknown(why.clone()), why)
        }
    };
    let (declared, id) = declared;
    if matches!(declared, Declared::Inert) {
        return Ok(());
    }
    let Some(target) = b.reference(r, values, "target_id", false)? else {
        // The target may be on any account's path.
        let why = format!(
            "attached by {} to a target {}",
            r.address, b.plan.known_when
        );
        for account in 0..b.model.accounts.len() {
            let level = account_level(b, r, account);
            push_unique(&mut level.missing, why.clone());
        }
        return Ok(());
    };
    for account in 0..b.model.accounts.len() {
        let own = b.model.accounts[account].id == target;
        let on_path = levels_mut(b.model, account).any(|level| level.target == target);
        if own && !on_path {
            account_level(b, r, account);
        } else if !on_path {
            continue;
        }
        if let Declared::Known(kind, _) = &declared {
            enable(b, r, account, *kind);
        }
        let unsure = own && target == b.account.id && may_be_management(b.model, account);
        for level in levels_mut(b.model, account).filter(|level| level.target == target) {
            attach(level, &declared, &id);
            if unsure {
                push_unique(
                    &mut level.missing,
                    format!("{id} (attached by {} to account {target}, {}, which may be the organization's management account: no organizations/organization.json names it, and SCPs and RCPs do not apply there)", r.address, if b.plan.template { "the stack's own account" } else { "the plan's own account" }),
                );
            }
        }
    }
    Ok(())
}

/// Whether the model's account at `account` may be its organization's management account,
/// which organization policies do not restrict, and which is where plans that attach them
/// usually run: no snapshot's `organizations/organization.json` says it is or is not.
fn may_be_management(model: &Model, account: usize) -> bool {
    let id = &model.accounts[account].id;
    let own = model.accounts[account]
        .organization
        .as_ref()
        .and_then(|o| o.management_account.as_deref());
    if own.is_some() {
        // `is_management` decides.
        return false;
    }
    // Another snapshot of the organization names a management account other than this one.
    let named: Vec<&str> = model
        .accounts
        .iter()
        .filter_map(|a| a.organization.as_ref()?.management_account.as_deref())
        .collect();
    named.is_empty() || named.contains(&id.as_str())
}

pub(super) fn remove_attachment(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
) -> Result<(), InputError> {
    if kept(r, values)? {
        return Ok(());
    }
    let (Some(id), Some(target)) = (
        b.reference(r, values, "policy_id", false)?,
        b.reference(r, values, "target_id", false)?,
    ) else {
        return Ok(());
    };
    for account in 0..b.model.accounts.len() {
        let account_id = b.model.accounts[account].id.clone();
        let mut detached = false;
        for level in levels_mut(b.model, account).filter(|level| level.target == target) {
            detached |= detach(level, &id);
        }
        if detached {
            b.org
                .detached
                .insert((account_id, target.clone()), r.address.clone());
        }
    }
    Ok(())
}

/// `aws_organizations_account`: an account of the model that the plan moves to another parent
/// gets the policies of its new path, which no snapshot lists.
pub(super) fn make_account(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let parent = |values: &Node| values.value.get("parent_id").cloned();
    let moved = r
        .before
        .as_ref()
        .is_some_and(|before| parent(before) != parent(values));
    let Some(id) = b.optional_string(r, values, "id")? else {
        return Ok(());
    };
    let Some(account) = b.model.accounts.iter().position(|a| a.id == id) else {
        return Ok(());
    };
    if moved {
        let why = format!("{} (moves the account to another parent)", r.address);
        let level = account_level(b, r, account);
        push_unique(&mut level.missing, why);
    }
    Ok(())
}

/// After every resource: a level the plan detached the last SCP from is one AWS would have
/// refused to leave so, and the apply would fail.
pub(super) fn finish(b: &mut Builder) {
    for ((account_id, target), address) in std::mem::take(&mut b.org.detached) {
        let Some(account) = b.model.accounts.iter().position(|a| a.id == account_id) else {
            continue;
        };
        let enabled = b.model.accounts[account]
            .organization
            .as_ref()
            .is_some_and(|o| o.scps_enabled);
        for level in levels_mut(b.model, account).filter(|level| level.target == target) {
            if enabled && level.scps.is_empty() && level.missing.is_empty() {
                level.missing.push(format!(
                    "{address} (it detaches the last SCP of {target}, which AWS refuses)"
                ));
            }
        }
    }
}

/// What the plan or a snapshot says of the policy `id`.
fn declared_policy(b: &Builder, id: &str) -> Declared {
    if let Some(declared) = b.org.policies.get(id) {
        return declared.clone();
    }
    let levels = b
        .model
        .accounts
        .iter()
        .filter_map(|a| a.organization.as_ref())
        .flat_map(|o| &o.levels);
    for level in levels {
        if let Some(policy) = level.scps.iter().find(|p| p.id == id) {
            return Declared::Known(ControlKind::Service, policy.clone());
        }
        if let Some(policy) = level.rcps.iter().find(|p| p.id == id) {
            return Declared::Known(ControlKind::Resource, policy.clone());
        }
    }
    match well_known(id) {
        Some((kind, policy)) => Declared::Known(kind, policy),
        None => Declared::Unknown(format!(
            "{id}, which neither the plan nor a snapshot describes"
        )),
    }
}

/// The levels above and at one account.
fn levels_mut(model: &mut Model, account: usize) -> impl Iterator<Item = &mut OrganizationLevel> {
    model.accounts[account]
        .organization
        .iter_mut()
        .flat_map(|o| o.levels.iter_mut())
}

/// The account's own level, made when the snapshot has none: what else is attached there is
/// not known, and is taken to allow everything.
fn account_level<'b>(
    b: &'b mut Builder,
    r: &Resource,
    account: usize,
) -> &'b mut OrganizationLevel {
    let file = b.plan.file.to_string();
    let record = &mut b.model.accounts[account];
    let id = record.id.clone();
    let organization = record.organization.get_or_insert_with(|| Organization {
        levels: Vec::new(),
        scps_enabled: false,
        rcps_enabled: false,
        id: None,
        management_account: None,
    });
    let position = match organization.levels.iter().position(|l| l.target == id) {
        Some(position) => position,
        None => {
            let mut level = OrganizationLevel {
                target: id.clone(),
                scps: Vec::new(),
                rcps: Vec::new(),
                missing: Vec::new(),
            };
            if organization.scps_enabled {
                level.scps.extend(full_access());
            }
            organization.levels.push(level);
            b.model.warnings.push(warning(
                &file,
                &r.address,
                format!("no snapshot lists the policies attached to account {id}; the others are taken to allow everything (FullAWSAccess)"),
            ));
            organization_levels_len(&b.model.accounts[account]) - 1
        }
    };
    let organization = b.model.accounts[account]
        .organization
        .as_mut()
        .expect("the organization was just made");
    &mut organization.levels[position]
}

fn organization_levels_len(account: &crate::model::Account) -> usize {
    account.organization.as_ref().map_or(0, |o| o.levels.len())
}

/// Makes the policy type of `kind` apply to the account: SCPs enabled where the snapshot shows
/// none give every level the `FullAWSAccess` AWS attaches when they are enabled. RCPs need
/// nothing: `RCPFullAWSAccess` is implied at every level.
fn enable(b: &mut Builder, r: &Resource, account: usize, kind: ControlKind) {
    let file = b.plan.file.to_string();
    let Some(organization) = b.model.accounts[account].organization.as_mut() else {
        return;
    };
    match kind {
        ControlKind::Resource => organization.rcps_enabled = true,
        ControlKind::Service if !organization.scps_enabled => {
            organization.scps_enabled = true;
            let own = b.model.accounts[account].id.clone();
            let Some(organization) = b.model.accounts[account].organization.as_mut() else {
                return;
            };
            let mut above = false;
            for level in &mut organization.levels {
                if level.scps.is_empty() {
                    level.scps.extend(full_access());
                    above |= level.target != own;
                }
            }
            // The account's own level, made by the plan, has said so already.
            if !above {
                return;
            }
            b.model.warnings.push(warning(
                &file,
                &r.address,
                "no snapshot shows the SCPs of this organization; every level is taken to have FullAWSAccess besides what the plan attaches",
            ));
        }
        ControlKind::Service => {}
    }
}

fn full_access() -> Option<OrganizationPolicy> {
    well_known("p-FullAWSAccess").map(|(_, policy)| policy)
}

/// Attaches a policy at a level: known, or missing.
fn attach(level: &mut OrganizationLevel, declared: &Declared, id: &str) {
    match declared {
        Declared::Known(kind, policy) => {
            let list = match kind {
                ControlKind::Service => &mut level.scps,
                ControlKind::Resource => &mut level.rcps,
            };
            list.retain(|p| p.id != policy.id);
            list.push(policy.clone());
        }
        Declared::Unknown(why) => push_unique(&mut level.missing, format!("{id} ({why})")),
        Declared::Inert => {}
    }
}

/// Detaches the policy `id` from a level; whether it was attached.
fn detach(level: &mut OrganizationLevel, id: &str) -> bool {
    let before = level.scps.len() + level.rcps.len() + level.missing.len();
    level.scps.retain(|p| p.id != id);
    level.rcps.retain(|p| p.id != id);
    level
        .missing
        .retain(|m| m != id && !m.starts_with(&format!("{id} (")));
    before != level.scps.len() + level.rcps.len() + level.missing.len()
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(target: &str) -> OrganizationLevel {
        OrganizationLevel {
            target: target.into(),
            scps: Vec::new(),
            rcps: Vec::new(),
            missing: vec!["p-x (its content)".into(), "p-y".into()],
        }
    }

    #[test]
    fn detaching_removes_a_missing_policy_by_its_id() {
        let mut l = level("r-root");
        assert!(detach(&mut l, "p-x"));
        assert_eq!(l.missing, ["p-y"]);
        assert!(!detach(&mut l, "p-z"));
    }
}
