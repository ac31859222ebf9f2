//! Who makes a request, and which `Principal`/`NotPrincipal` entries name them.
//!
//! A resource policy can name a principal exactly (a user, a role session, a service), through
//! its role (sessions of that role), through its account, or with `*`. The strength of the
//! match matters: AWS lets an exact or `*` grant in a same-account resource policy stand on its
//! own, while a grant to a role is still capped by the role's boundary and session policy, and a
//! grant to the account only delegates to the account's identity policies.

use crate::policy::{PrincipalElement, PrincipalEntry, PrincipalKind, PrincipalSet};

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Principal {
    /// An unsigned request.
    Anonymous,
    /// An AWS service principal such as `mediaconvert.amazonaws.com`.
    Service(String),
    /// A caller signed in with an identity provider, calling `sts:AssumeRoleWithWebIdentity`
    /// or `sts:AssumeRoleWithSAML`: the provider as a trust policy's `Federated` element names
    /// it (an IAM OIDC or SAML provider's ARN, or a provider AWS knows by name such as
    /// `cognito-identity.amazonaws.com`).
    Federated(String),
    /// An IAM identity: the account root, a user, a role, a role session or a federated user.
    Aws(AwsPrincipal),
}

/// An IAM identity and the account it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AwsPrincipal {
    pub arn: String,
    pub partition: String,
    pub account: String,
    pub kind: AwsPrincipalKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AwsPrincipalKind {
    Root,
    User,
    Role { name: String },
    RoleSession { role_name: String, session: String },
    FederatedUser,
    Other,
}

impl Principal {
    /// Reads a principal as the `simulate` request format writes it: `anonymous`, a service
    /// principal (`*.amazonaws.com`), an identity provider (an IAM `oidc-provider/` or
    /// `saml-provider/` ARN, a provider AWS knows by name, or `federated:` and the provider as
    /// a trust policy names it), or an IAM or STS ARN. Returns `None` for anything else.
    pub fn parse(text: &str) -> Option<Principal> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("anonymous") || text == "*" {
            return Some(Principal::Anonymous);
        }
        if let Some(provider) = text.strip_prefix("federated:") {
            return (!provider.is_empty()).then(|| Principal::Federated(provider.to_string()));
        }
        if is_provider_arn(text) || BUILT_IN_PROVIDERS.contains(&text.to_ascii_lowercase().as_str())
        {
            return Some(Principal::Federated(text.to_string()));
        }
        if !text.starts_with("arn:") {
            let is_service = text.contains('.') && !text.contains(':') && !text.contains('/');
            return is_service.then(|| Principal::Service(text.to_string()));
        }
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        if parts.len() != 6 || !matches!(parts[2], "iam" | "sts") {
            return None;
        }
        let (partition, account, resource) = (parts[1], parts[4], parts[5]);
        if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let kind = match (parts[2], resource.split_once('/')) {
            ("iam", None) if resource == "root" => AwsPrincipalKind::Root,
            ("iam", Some(("user", _))) => AwsPrincipalKind::User,
            ("iam", Some(("role", path_and_name))) => AwsPrincipalKind::Role {
                name: last_path_component(path_and_name).to_string(),
            },
            ("sts", Some(("assumed-role", rest))) => {
                let (role_name, session) = rest.split_once('/')?;
                AwsPrincipalKind::RoleSession {
                    role_name: role_name.to_string(),
                    session: session.to_string(),
                }
            }
            ("sts", Some(("federated-user", _))) => AwsPrincipalKind::FederatedUser,
            _ => AwsPrincipalKind::Other,
        };
        Some(Principal::Aws(AwsPrincipal {
            arn: text.to_string(),
            partition: partition.to_string(),
            account: account.to_string(),
            kind,
        }))
    }

    /// The account of an IAM identity.
    pub fn account(&self) -> Option<&str> {
        match self {
            Principal::Aws(p) => Some(&p.account),
            _ => None,
        }
    }

    /// The principal as `simulate` and witnesses print it.
    pub fn to_text(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".to_string(),
            Principal::Service(name) => name.clone(),
            Principal::Federated(provider) => provider.clone(),
            Principal::Aws(p) => p.arn.clone(),
        }
    }
}

/// Web identity providers AWS knows by name, without an IAM OIDC provider ("Available keys for
/// AWS OIDC federation",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif).
pub const BUILT_IN_PROVIDERS: [&str; 4] = [
    "cognito-identity.amazonaws.com",
    "accounts.google.com",
    "graph.facebook.com",
    "www.amazon.com",
];

/// `arn:PARTITION:iam::ACCOUNT:oidc-provider/...` or `...:saml-provider/...`.
pub fn is_provider_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && (parts[5].starts_with("oidc-provider/") || parts[5].starts_with("saml-provider/"))
}

/// Whether a provider is a SAML provider (else OIDC, or one AWS knows by name).
pub fn is_saml_provider(provider: &str) -> bool {
    is_provider_arn(provider)
        && provider
            .splitn(6, ':')
            .nth(5)
            .is_some_and(|r| r.starts_with("saml-provider/"))
}

fn last_path_component(path_and_name: &str) -> &str {
    path_and_name.rsplit('/').next().unwrap_or(path_and_name)
}

/// How a `Principal` element names the caller, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalMatch {
    /// Through the caller's account (`123456789012` or `arn:aws:iam::123456789012:root`).
    Account,
    /// Through the caller's role (the caller is the role or one of its sessions).
    Role,
    /// By `*`, `{"AWS": "*"}` or a `NotPrincipal` that does not exempt the caller.
    Everyone,
    /// By the caller's own ARN or service name.
    Exact,
}

/// How (if at all) a statement's `Principal`/`NotPrincipal` element covers `principal`.
/// `has_boundary` matters for `NotPrincipal`: AWS always applies a `Deny` with `NotPrincipal`
/// to a caller with a permissions boundary.
pub fn element_matches(
    element: &PrincipalElement,
    principal: &Principal,
    has_boundary: bool,
) -> Option<PrincipalMatch> {
    if element.negated {
        let exempt = !has_boundary && not_principal_exempts(&element.set, principal);
        return (!exempt).then_some(PrincipalMatch::Everyone);
    }
    match &element.set {
        PrincipalSet::Everyone => Some(PrincipalMatch::Everyone),
        PrincipalSet::Entries(entries) => entries
            .iter()
            .filter_map(|entry| entry_matches(entry, principal))
            .max(),
    }
}

fn entry_matches(entry: &PrincipalEntry, principal: &Principal) -> Option<PrincipalMatch> {
    match (entry.kind, principal) {
        (PrincipalKind::Aws, _) if entry.value == "*" => Some(PrincipalMatch::Everyone),
        (PrincipalKind::Aws, Principal::Aws(caller)) => aws_entry_matches(&entry.value, caller),
        (PrincipalKind::Service, Principal::Service(name)) => entry
            .value
            .eq_ignore_ascii_case(name)
            .then_some(PrincipalMatch::Exact),
        (PrincipalKind::Federated, Principal::Aws(caller)) => {
            (entry.value == caller.arn).then_some(PrincipalMatch::Exact)
        }
        (PrincipalKind::Federated, Principal::Federated(provider)) => {
            same_provider(&entry.value, provider).then_some(PrincipalMatch::Exact)
        }
        _ => None,
    }
}

/// Provider ARNs compare exactly; names AWS knows compare as host names, without case.
fn same_provider(named: &str, provider: &str) -> bool {
    if is_provider_arn(named) {
        named == provider
    } else {
        named.eq_ignore_ascii_case(provider)
    }
}

fn aws_entry_matches(value: &str, caller: &AwsPrincipal) -> Option<PrincipalMatch> {
    if names_account(value, &caller.account) {
        return Some(PrincipalMatch::Account);
    }
    if value == caller.arn {
        return Some(match caller.kind {
            AwsPrincipalKind::Role { .. } => PrincipalMatch::Role,
            _ => PrincipalMatch::Exact,
        });
    }
    if let AwsPrincipalKind::RoleSession { role_name, .. } = &caller.kind {
        if role_arn_names(value, &caller.partition, &caller.account, role_name) {
            return Some(PrincipalMatch::Role);
        }
    }
    None
}

/// `123456789012` or `arn:PARTITION:iam::123456789012:root`.
pub fn names_account(value: &str, account: &str) -> bool {
    if value == account {
        return true;
    }
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[4] == account
        && parts[5] == "root"
}

fn role_arn_names(value: &str, partition: &str, account: &str, role_name: &str) -> bool {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1] == partition
        && parts[2] == "iam"
        && parts[4] == account
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|path_and_name| last_path_component(path_and_name) == role_name)
}

/// AWS evaluates a request against every identity of the caller (session, role, account), and a
/// `NotPrincipal` exempts the caller only when it lists all of them.
fn not_principal_exempts(set: &PrincipalSet, principal: &Principal) -> bool {
    let entries = match set {
        PrincipalSet::Everyone => return true,
        PrincipalSet::Entries(entries) => entries,
    };
    let listed = |wanted: &dyn Fn(&PrincipalEntry) -> bool| entries.iter().any(wanted);
    match principal {
        Principal::Anonymous => false,
        Principal::Federated(provider) => {
            listed(&|e| e.kind == PrincipalKind::Federated && same_provider(&e.value, provider))
        }
        Principal::Service(name) => {
            listed(&|e| e.kind == PrincipalKind::Service && e.value.eq_ignore_ascii_case(name))
        }
        Principal::Aws(caller) => {
            let aws = |e: &PrincipalEntry| e.kind == PrincipalKind::Aws;
            let account_listed = listed(&|e| aws(e) && names_account(&e.value, &caller.account));
            let self_listed = listed(&|e| {
                (aws(e) || e.kind == PrincipalKind::Federated) && e.value == caller.arn
            });
            match &caller.kind {
                AwsPrincipalKind::Root => account_listed,
                AwsPrincipalKind::RoleSession { role_name, .. } => {
                    let role_listed = listed(&|e| {
                        aws(e)
                            && role_arn_names(
                                &e.value,
                                &caller.partition,
                                &caller.account,
                                role_name,
                            )
                    });
                    account_listed && self_listed && role_listed
                }
                _ => account_listed && self_listed,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn element(value: serde_json::Value, negated: bool) -> PrincipalElement {
        let key = if negated { "NotPrincipal" } else { "Principal" };
        let policy = crate::policy::Policy::from_value(&json!({
            "Version": "2012-10-17",
            "Statement": {"Effect": "Deny", "Action": "*", key: value}
        }))
        .unwrap();
        policy.statements[0].principal.clone().unwrap()
    }

    fn p(text: &str) -> Principal {
        Principal::parse(text).unwrap()
    }

    #[test]
    fn parses_principals() {
        assert_eq!(p("anonymous"), Principal::Anonymous);
        assert_eq!(
            p("mediaconvert.amazonaws.com"),
            Principal::Service("mediaconvert.amazonaws.com".into())
        );
        let Principal::Aws(session) = p("arn:aws:sts::111122223333:assumed-role/R/s1") else {
            panic!()
        };
        assert_eq!(
            session.kind,
            AwsPrincipalKind::RoleSession {
                role_name: "R".into(),
                session: "s1".into()
            }
        );
        let Principal::Aws(role) = p("arn:aws:iam::111122223333:role/service-role/R") else {
            panic!()
        };
        assert_eq!(role.kind, AwsPrincipalKind::Role { name: "R".into() });
        assert!(Principal::parse("arn:aws:iam::notanaccount:user/x").is_none());
    }

    #[test]
    fn match_strengths() {
        let user = p("arn:aws:iam::111122223333:user/alice");
        let session = p("arn:aws:sts::111122223333:assumed-role/R/s1");
        let exact = element(
            json!({"AWS": "arn:aws:iam::111122223333:user/alice"}),
            false,
        );
        assert_eq!(
            element_matches(&exact, &user, false),
            Some(PrincipalMatch::Exact)
        );
        let account = element(json!({"AWS": ["111122223333"]}), false);
        assert_eq!(
            element_matches(&account, &session, false),
            Some(PrincipalMatch::Account)
        );
        let role = element(
            json!({"AWS": "arn:aws:iam::111122223333:role/path/R"}),
            false,
        );
        assert_eq!(
            element_matches(&role, &session, false),
            Some(PrincipalMatch::Role)
        );
        assert_eq!(element_matches(&role, &user, false), None);
        let everyone = element(json!("*"), false);
        assert_eq!(
            element_matches(&everyone, &Principal::Anonymous, false),
            Some(PrincipalMatch::Everyone)
        );
        let service = element(json!({"Service": "mediaconvert.amazonaws.com"}), false);
        assert_eq!(
            element_matches(&service, &p("mediaconvert.amazonaws.com"), false),
            Some(PrincipalMatch::Exact)
        );
        assert_eq!(element_matches(&service, &user, false), None);
    }

    #[test]
    fn not_principal_needs_every_identity_listed() {
        let user = p("arn:aws:iam::111122223333:user/alice");
        let full = element(
            json!({"AWS": ["arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:root"]}),
            true,
        );
        assert_eq!(element_matches(&full, &user, false), None);
        assert_eq!(
            element_matches(&full, &user, true),
            Some(PrincipalMatch::Everyone)
        );
        let user_only = element(json!({"AWS": "arn:aws:iam::111122223333:user/alice"}), true);
        assert_eq!(
            element_matches(&user_only, &user, false),
            Some(PrincipalMatch::Everyone)
        );
        assert_eq!(
            element_matches(&full, &p("arn:aws:iam::111122223333:user/bob"), false),
            Some(PrincipalMatch::Everyone)
        );
    }
}
