//! Callers from outside the account: anyone unauthenticated, any AWS account, the accounts and
//! principals of other accounts that policies name, the identity providers that trust policies
//! admit (OIDC and SAML), and the services that resource policies (bucket, key and API policies)
//! admit.
//!
//! Each is one row of `who-can`, named as proof files name it ([`OutsideCaller::id`]), with a
//! sentence a reviewer reads ("any token from token.actions.githubusercontent.com whose ...
//! sub StringLike repo:acme/*"). A caller stands for a class: the search starts from one
//! member (a stand-in account, the provider, the service acting for a stranger's resource) and
//! the class's witness is that member's.
//!
//! A service named in a trust policy is not a caller of its own: a role is handed to a service
//! by `iam:PassRole`, which only passes a role to a service of the role's own account ("Grant a
//! user permissions to pass a role to an AWS service",
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html); those chains
//! start at the principal that passes it, and the techniques cover them.

use crate::model::Model;
use crate::policy::{Policy, PrincipalKind, PrincipalSet};
use std::collections::BTreeSet;

/// What an outside caller stands for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum OutsideKind {
    /// Unsigned requests.
    Anonymous,
    /// Any account no policy names (a stand-in account acts for it).
    AnyAccount,
    /// An account a policy names, through its root: whatever its own policies let its
    /// principals do.
    Account(String),
    /// A principal of another account a policy names by ARN.
    Named(String),
    /// An identity provider a trust policy admits: an IAM OIDC or SAML provider's ARN, or a
    /// provider AWS knows by name.
    Provider(String),
    /// A service a resource policy admits.
    Service(String),
}

/// One caller from outside the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsideCaller {
    /// How `who-can` and proof files name it: `anonymous`, `account:*`, an account's root ARN,
    /// a principal's ARN, `oidc:HOST/PATH`, `saml:NAME`, `service:NAME`.
    pub id: String,
    /// The principal the search starts from.
    pub principal: String,
    pub kind: OutsideKind,
}

/// The stand-in for "any AWS account".
pub const ANY_ACCOUNT: &str = "account:*";

impl OutsideCaller {
    fn of(kind: OutsideKind) -> OutsideCaller {
        let (id, principal) = match &kind {
            OutsideKind::Anonymous => ("anonymous".to_string(), "anonymous".to_string()),
            OutsideKind::AnyAccount => (
                ANY_ACCOUNT.to_string(),
                format!("arn:aws:iam::{}:root", super::targets::OUTSIDE_ACCOUNT),
            ),
            OutsideKind::Account(account) => {
                let root = format!("arn:aws:iam::{account}:root");
                (root.clone(), root)
            }
            OutsideKind::Named(arn) => (arn.clone(), arn.clone()),
            OutsideKind::Provider(provider) => (provider_id(provider), provider.clone()),
            OutsideKind::Service(service) => (format!("service:{service}"), service.clone()),
        };
        OutsideCaller {
            id,
            principal,
            kind,
        }
    }

    /// Whom the row stands for, in words.
    pub fn describe(&self) -> String {
        match &self.kind {
            OutsideKind::Anonymous => "anyone, unauthenticated".into(),
            OutsideKind::AnyAccount => format!(
                "any AWS account (account {} stands for it)",
                super::targets::OUTSIDE_ACCOUNT
            ),
            OutsideKind::Account(account) => {
                format!("account {account}, any principal its own policies allow")
            }
            OutsideKind::Named(arn) => {
                format!("{arn}, as far as the policies of its account (not in the snapshots) allow")
            }
            OutsideKind::Provider(provider)
                if crate::eval::principal::is_saml_provider(provider) =>
            {
                format!("any SAML assertion from {}", provider_name(provider))
            }
            OutsideKind::Provider(provider) => {
                format!("any token from {}", provider_name(provider))
            }
            OutsideKind::Service(service) => format!("the service {service}"),
        }
    }
}

/// `oidc:HOST/PATH` for an OIDC provider or a provider AWS knows by name, `saml:NAME` for a
/// SAML provider.
pub fn provider_id(provider: &str) -> String {
    let kind = if crate::eval::principal::is_saml_provider(provider) {
        "saml"
    } else {
        "oidc"
    };
    format!("{kind}:{}", provider_name(provider))
}

/// The provider's host and path (OIDC), its name (SAML), or the name AWS knows it by.
pub fn provider_name(provider: &str) -> &str {
    provider
        .splitn(6, ':')
        .nth(5)
        .and_then(|resource| resource.split_once('/'))
        .filter(|(kind, _)| *kind == "oidc-provider" || *kind == "saml-provider")
        .map_or(provider, |(_, name)| name)
}

/// Every outside caller the model's policies make possible, in a fixed order: anonymous, any
/// account, the named accounts, the named principals, the providers, the services.
pub fn callers(model: &Model) -> Vec<OutsideCaller> {
    let known: BTreeSet<&str> = model.accounts.iter().map(|a| a.id.as_str()).collect();
    let mut kinds: BTreeSet<OutsideKind> =
        BTreeSet::from([OutsideKind::Anonymous, OutsideKind::AnyAccount]);
    let trusts = model.roles.values().map(|r| (&*r.trust_policy, true));
    let resources = model
        .buckets
        .values()
        .filter_map(|b| b.policy.as_deref())
        .chain(model.keys.values().filter_map(|k| k.policy.as_deref()))
        .chain(model.rest_apis.values().filter_map(|a| a.policy.as_deref()))
        .map(|policy| (policy, false));
    for (policy, is_trust) in trusts.chain(resources) {
        named_in(policy, is_trust, &known, &mut kinds);
    }
    // A trust that admits everyone to a federated call (`*`, `NotPrincipal`) admits providers
    // it does not name: every one STS would take a token from, those AWS knows by name and
    // those the accounts register.
    let built_in = crate::eval::principal::BUILT_IN_PROVIDERS
        .iter()
        .map(|p| p.to_string());
    let registered = model.identity_providers.keys().cloned();
    for provider in built_in.chain(registered) {
        let caller = crate::eval::Principal::Federated(provider.clone());
        let action = super::chain::federated_action(&provider);
        let admitted = model
            .roles
            .values()
            .any(|role| crate::graph::trust_admits_to(role, &caller, action));
        if admitted {
            kinds.insert(OutsideKind::Provider(provider));
        }
    }
    kinds.into_iter().map(OutsideCaller::of).collect()
}

/// The outside callers one policy names.
fn named_in(
    policy: &Policy,
    is_trust: bool,
    known: &BTreeSet<&str>,
    kinds: &mut BTreeSet<OutsideKind>,
) {
    for statement in &policy.statements {
        // An account a condition names (`aws:PrincipalAccount`, `aws:PrincipalArn`, ...) is
        // one whose principals the statement may admit.
        for condition in &statement.conditions {
            for value in &condition.values {
                if let Some(account) = account_in(value.raw()).filter(|a| !known.contains(a)) {
                    kinds.insert(OutsideKind::Account(account.to_string()));
                }
            }
        }
        let Some(element) = &statement.principal else {
            continue;
        };
        let PrincipalSet::Entries(entries) = &element.set else {
            continue;
        };
        for entry in entries {
            match entry.kind {
                PrincipalKind::Aws if entry.value == "*" => {}
                PrincipalKind::Aws => {
                    if let Some(kind) = named_aws(&entry.value, known) {
                        kinds.insert(kind);
                    }
                }
                PrincipalKind::Federated if is_trust => {
                    kinds.insert(OutsideKind::Provider(entry.value.clone()));
                }
                PrincipalKind::Service if !is_trust => {
                    kinds.insert(OutsideKind::Service(entry.value.to_ascii_lowercase()));
                }
                _ => {}
            }
        }
    }
}

/// The account an account id or an ARN names, if any (`*` and `?` are not accounts).
pub(crate) fn account_in(text: &str) -> Option<&str> {
    if crate::model::is_account_id(text) {
        return Some(text);
    }
    crate::model::arn_account(text).filter(|a| crate::model::is_account_id(a))
}

/// An account or a principal of an account no snapshot holds.
fn named_aws(value: &str, known: &BTreeSet<&str>) -> Option<OutsideKind> {
    if crate::model::is_account_id(value) {
        return (!known.contains(value)).then(|| OutsideKind::Account(value.to_string()));
    }
    let account = crate::model::arn_account(value).filter(|a| crate::model::is_account_id(a))?;
    if known.contains(account) {
        return None;
    }
    if crate::eval::principal::names_account(value, account) {
        return Some(OutsideKind::Account(account.to_string()));
    }
    Some(OutsideKind::Named(value.to_string()))
}

/// Whether a proof file's allowed entry admits the outside caller `id`: the id itself, `*`
/// for every outside caller, an account id for its root and its principals, a provider's ARN
/// for its `oidc:`/`saml:` id, a service's name for its `service:` id.
pub fn allowed_by(entry: &str, id: &str) -> bool {
    if entry == id || entry == "*" {
        return true;
    }
    if crate::model::is_account_id(entry) {
        return crate::model::arn_account(id) == Some(entry);
    }
    if crate::eval::principal::is_provider_arn(entry) {
        return provider_id(entry) == id;
    }
    id.strip_prefix("service:")
        .is_some_and(|service| service.eq_ignore_ascii_case(entry))
}

/// A user, role or root of an account no snapshot holds, named by its ARN though no policy
/// names it: a caller all the same.
pub fn of_another_account(model: &Model, arn: &str) -> Option<OutsideCaller> {
    let Some(crate::eval::Principal::Aws(principal)) = crate::eval::Principal::parse(arn) else {
        return None;
    };
    if model.account(&principal.account).is_some() {
        return None;
    }
    let kind = match principal.kind {
        crate::eval::AwsPrincipalKind::Root => OutsideKind::Account(principal.account),
        crate::eval::AwsPrincipalKind::User | crate::eval::AwsPrincipalKind::Role { .. } => {
            OutsideKind::Named(arn.to_string())
        }
        _ => return None,
    };
    Some(OutsideCaller::of(kind))
}

/// The outside caller a `--principal` names, by its id or as a policy names it.
pub fn find<'c>(callers: &'c [OutsideCaller], named: &str) -> Option<&'c OutsideCaller> {
    callers
        .iter()
        .find(|c| c.id == named || c.principal == named)
        .or_else(|| {
            callers
                .iter()
                .find(|c| c.id.eq_ignore_ascii_case(&format!("service:{named}")))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_are_named_by_kind_and_host() {
        assert_eq!(
            provider_id(
                "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
            ),
            "oidc:token.actions.githubusercontent.com"
        );
        assert_eq!(
            provider_id("arn:aws:iam::111122223333:saml-provider/Okta"),
            "saml:Okta"
        );
        assert_eq!(
            provider_id("cognito-identity.amazonaws.com"),
            "oidc:cognito-identity.amazonaws.com"
        );
    }

    #[test]
    fn allowed_entries() {
        assert!(allowed_by("*", "anonymous"));
        assert!(allowed_by(
            "999988887777",
            "arn:aws:iam::999988887777:role/ci"
        ));
        assert!(!allowed_by(
            "999988887777",
            "arn:aws:iam::111122223333:root"
        ));
        assert!(allowed_by(
            "logdelivery.elasticloadbalancing.amazonaws.com",
            "service:logdelivery.elasticloadbalancing.amazonaws.com"
        ));
        assert!(allowed_by(
            "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
            "oidc:token.actions.githubusercontent.com"
        ));
        assert!(!allowed_by(
            "oidc:token.actions.githubusercontent.com",
            "account:*"
        ));
    }
}
