//! The account as an escalation leaves it: the edits techniques make (a policy written or
//! attached, a managed policy's new version, a group joined, a boundary removed, a trust
//! policy opened), and the policies of a principal once they are made.
//!
//! Every edit only widens what principals may do: a written inline policy replaces the
//! target's inline policies (one name overwrites another, so their denies may go), a new
//! policy version replaces the policy's document, and nothing else is taken away. So the
//! edits an attacker can make combine: the search applies every edit it has found and
//! searches again, until no new one appears.

use crate::eval::{NamedPolicy, PolicySet};
use crate::model::{inline_policy_name, Model};
use crate::policy::Policy;
use crate::service::iam::{ADMINISTRATOR_ACCESS, ESCALATION_POLICY_NAME};
use crate::service::technique::Edit;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The edits made so far.
#[derive(Debug, Clone, Default)]
pub struct Edits {
    /// Users, groups and roles with an inline policy of the attacker's writing.
    written: BTreeSet<String>,
    /// Users, groups and roles with `AdministratorAccess` attached.
    attached: BTreeSet<String>,
    /// Managed policies whose default version the attacker wrote.
    versions: BTreeSet<String>,
    /// Groups the attacker may add any user of their account to.
    joinable: BTreeSet<String>,
    /// Users and roles whose permissions boundary is gone.
    unbounded: BTreeSet<String>,
    /// Roles whose trust policy admits the account's principals and the launching services.
    opened: BTreeSet<String>,
    /// Buckets and keys whose policy an attacker of the account rewrote: (ARN, account).
    rewritten: BTreeSet<(String, String)>,
    /// Keys with a grant for the account: (key ARN, account).
    granted: BTreeSet<(String, String)>,
    /// The fingerprint of these edits, told once: `apply` forgets it. A clone shares it,
    /// so the same text at the same address always describes the same edits.
    fingerprint: std::cell::OnceCell<Arc<str>>,
}

/// A document that allows everything: what an attacker writes.
pub fn allow_all() -> Arc<Policy> {
    static POLICY: std::sync::OnceLock<Arc<Policy>> = std::sync::OnceLock::new();
    POLICY
        .get_or_init(|| {
            Arc::new(
                Policy::from_json_text(
                    r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#,
                )
                .expect("a constant policy parses"),
            )
        })
        .clone()
}

impl Edits {
    pub fn is_empty(&self) -> bool {
        self.written.is_empty()
            && self.attached.is_empty()
            && self.versions.is_empty()
            && self.joinable.is_empty()
            && self.unbounded.is_empty()
            && self.opened.is_empty()
            && self.rewritten.is_empty()
            && self.granted.is_empty()
    }

    /// Records an edit of `target` by a principal of `account`; false when it was made
    /// already.
    pub fn apply(&mut self, edit: Edit, target: &str, account: &str) -> bool {
        if self.has(edit, target, account) {
            return false;
        }
        self.fingerprint = std::cell::OnceCell::new();
        let (pair, name) = (
            (target.to_string(), account.to_string()),
            target.to_string(),
        );
        match edit {
            Edit::RewriteResourcePolicy => self.rewritten.insert(pair),
            Edit::GrantKeyUse => self.granted.insert(pair),
            Edit::PutInlinePolicy => self.written.insert(name),
            Edit::AttachAdministratorAccess => self.attached.insert(name),
            Edit::ReplacePolicyVersion => self.versions.insert(name),
            Edit::AddUserToGroup => self.joinable.insert(name),
            Edit::RemoveBoundary => self.unbounded.insert(name),
            Edit::OpenTrust => self.opened.insert(name),
        }
    }

    /// Whether the edit was made by a principal of `account`.
    pub fn has(&self, edit: Edit, target: &str, account: &str) -> bool {
        let by_account =
            |set: &BTreeSet<(String, String)>| set.contains(&(target.into(), account.into()));
        match edit {
            Edit::RewriteResourcePolicy => by_account(&self.rewritten),
            Edit::GrantKeyUse => by_account(&self.granted),
            Edit::PutInlinePolicy => self.written.contains(target),
            Edit::AttachAdministratorAccess => self.attached.contains(target),
            Edit::ReplacePolicyVersion => self.versions.contains(target),
            Edit::AddUserToGroup => self.joinable.contains(target),
            Edit::RemoveBoundary => self.unbounded.contains(target),
            Edit::OpenTrust => self.opened.contains(target),
        }
    }

    /// A bucket's or key's policy as the edits leave it: a rewritten policy keeps the allows
    /// of the one it replaces, drops its denies and allows the rewriting account's
    /// principals everything; a grant allows the grant operations to its account.
    pub fn resource_policy(
        &self,
        arn: &str,
        original: Option<&NamedPolicy>,
    ) -> Option<NamedPolicy> {
        let rewriters: Vec<&str> = self
            .rewritten
            .iter()
            .filter(|(target, _)| target == arn)
            .map(|(_, account)| account.as_str())
            .collect();
        let grantees: Vec<&str> = self
            .granted
            .iter()
            .filter(|(target, _)| target == arn)
            .map(|(_, account)| account.as_str())
            .collect();
        if rewriters.is_empty() && grantees.is_empty() {
            return original.cloned();
        }
        let mut policy = original
            .map(|named| (*named.policy).clone())
            .unwrap_or_else(|| (*allow_all()).clone());
        if original.is_none() {
            policy.statements.clear();
        }
        if !rewriters.is_empty() {
            policy
                .statements
                .retain(|s| s.effect == crate::policy::Effect::Allow);
        }
        let service = arn.split(':').nth(2).unwrap_or("*");
        for account in rewriters {
            policy.statements.extend(
                account_statement(REWRITE_SID, account, &[&format!("{service}:*")]).statements,
            );
        }
        for account in grantees {
            policy.statements.extend(
                account_statement(GRANT_SID, account, crate::service::kms::GRANT_OPERATIONS)
                    .statements,
            );
        }
        Some(NamedPolicy {
            name: original
                .map(|n| n.name.clone())
                .unwrap_or_else(|| format!("policy of {arn}")),
            policy: Arc::new(policy),
        })
    }

    /// Whether some role's trust policy was opened.
    pub fn opens_any_trust(&self) -> bool {
        !self.opened.is_empty()
    }

    /// Whether a role's trust policy was opened.
    pub fn is_opened(&self, role: &str) -> bool {
        self.opened.contains(role)
    }

    /// A stable text of the edits, for memo keys: told once for a set of edits, and shared
    /// by its clones.
    pub fn fingerprint(&self) -> Arc<str> {
        self.fingerprint
            .get_or_init(|| {
                let sets = (
                    &self.written,
                    &self.attached,
                    &self.versions,
                    &self.joinable,
                    &self.unbounded,
                    &self.opened,
                );
                format!("{sets:?}{:?}{:?}", self.rewritten, self.granted).into()
            })
            .clone()
    }

    /// Whether the edits change the policies of `actor`.
    pub fn touch(&self, model: &Model, actor: &str) -> bool {
        if self.is_empty() {
            return false;
        }
        self.policy_set(model, actor)
            .is_some_and(|edited| Some(edited) != base(model, actor))
    }

    /// The principal side of `actor`'s requests with the edits made.
    pub fn policy_set(&self, model: &Model, actor: &str) -> Option<PolicySet> {
        let effective = model.effective_policies(actor)?;
        let mut entities = vec![actor.to_string()];
        entities.extend(effective.groups.iter().cloned());
        let mut identity: Vec<NamedPolicy> = effective
            .identity
            .iter()
            .map(|entry| entry.policy.clone())
            .collect();
        if let Some(user) = model.users.get(actor) {
            for group in model.groups.values() {
                let joins = self.joinable.contains(&group.arn)
                    && group.account == user.account
                    && !entities.contains(&group.arn);
                if joins {
                    identity.extend(model.group_policies(group));
                    entities.push(group.arn.clone());
                }
            }
        }
        identity.retain(|named| {
            !entities.iter().any(|entity| {
                self.written.contains(entity)
                    && named.name.starts_with(&inline_policy_name(entity, ""))
            })
        });
        for named in &mut identity {
            if self.versions.contains(&named.name) {
                named.policy = allow_all();
            }
        }
        for entity in &entities {
            if self.written.contains(entity) {
                identity.push(NamedPolicy {
                    name: inline_policy_name(entity, ESCALATION_POLICY_NAME),
                    policy: allow_all(),
                });
            }
            let attached = identity.iter().any(|p| p.name == ADMINISTRATOR_ACCESS);
            if self.attached.contains(entity) && !attached {
                identity.push(NamedPolicy {
                    name: ADMINISTRATOR_ACCESS.to_string(),
                    policy: administrator_access(model),
                });
            }
        }
        let boundaries = match (&effective.boundary, &effective.boundary_arn) {
            _ if self.unbounded.contains(actor) => Vec::new(),
            (_, Some(arn)) if self.versions.contains(arn) => vec![NamedPolicy {
                name: arn.clone(),
                policy: allow_all(),
            }],
            (Some((named, _)), _) => vec![named.clone()],
            (None, _) => Vec::new(),
        };
        Some(PolicySet {
            identity,
            boundaries,
            scps: effective.scps.clone(),
            ..PolicySet::default()
        })
    }

    /// A role's trust policy with the edits made: an opened trust also admits every principal
    /// of the role's account and the services techniques hand roles to.
    pub fn trust_policy(&self, role: &crate::model::Role) -> Arc<Policy> {
        if !self.opened.contains(&role.arn) {
            return role.trust_policy.clone();
        }
        let mut policy = (*role.trust_policy).clone();
        let added = opened_trust_statements(&role.account);
        policy.statements.extend(added.statements.iter().cloned());
        Arc::new(policy)
    }
}

/// The `Sid` of the statement a rewritten bucket or key policy adds.
pub const REWRITE_SID: &str = "iamproofEscalation";
/// The `Sid` of the statement that stands for a grant.
pub const GRANT_SID: &str = "iamproofGrant";

/// A resource policy statement allowing `actions` to every principal of `account`.
fn account_statement(sid: &str, account: &str, actions: &[&str]) -> Policy {
    let actions: Vec<String> = actions.iter().map(|a| format!("{a:?}")).collect();
    let text = format!(
        r#"{{"Version": "2012-10-17", "Statement": [
            {{"Sid": "{sid}", "Effect": "Allow", "Principal": {{"AWS": "*"}},
              "Action": [{}], "Resource": "*",
              "Condition": {{"StringEquals": {{"aws:PrincipalAccount": "{account}"}}}}}}]}}"#,
        actions.join(", ")
    );
    Policy::from_json_text(&text).expect("an escalation statement parses")
}

/// The policies of `actor` without edits.
fn base(model: &Model, actor: &str) -> Option<PolicySet> {
    model.effective_policies(actor).map(|e| e.policy_set())
}

/// `AdministratorAccess` as the model holds it, or as AWS documents it.
fn administrator_access(model: &Model) -> Arc<Policy> {
    model
        .managed_policies
        .get(ADMINISTRATOR_ACCESS)
        .map(|m| m.policy.clone())
        .unwrap_or_else(allow_all)
}

/// The statements an attacker adds to a trust policy it rewrites.
pub fn opened_trust_statements(account: &str) -> Policy {
    let services: Vec<String> = crate::service::technique::all()
        .iter()
        .filter_map(|t| t.service())
        .map(|s| format!("{s:?}"))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let text = format!(
        r#"{{"Version": "2012-10-17", "Statement": [
            {{"Sid": "iamproofEscalationAccount", "Effect": "Allow", "Principal": {{"AWS": "*"}},
              "Action": ["sts:AssumeRole", "sts:TagSession"],
              "Condition": {{"StringEquals": {{"aws:PrincipalAccount": "{account}"}}}}}},
            {{"Sid": "iamproofEscalationServices", "Effect": "Allow", "Principal": {{"Service": [{}]}},
              "Action": "sts:AssumeRole"}}]}}"#,
        services.join(", ")
    );
    Policy::from_json_text(&text).expect("the statements of an opened trust parse")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opened_trust_parses_for_any_account() {
        let policy = opened_trust_statements("111122223333");
        assert_eq!(policy.statements.len(), 2);
    }

    #[test]
    fn edits_are_recorded_once() {
        let mut edits = Edits::default();
        assert!(edits.is_empty());
        let user = "arn:aws:iam::111122223333:user/a";
        assert!(edits.apply(Edit::RemoveBoundary, user, "111122223333"));
        assert!(!edits.apply(Edit::RemoveBoundary, user, "111122223333"));
        assert!(edits.has(Edit::RemoveBoundary, user, "111122223333"));
        assert!(!edits.has(Edit::OpenTrust, user, "111122223333"));
    }
}
