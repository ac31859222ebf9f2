//! The concrete evaluator: AWS's policy evaluation logic for one request.
//!
//! This is the reference semantics of iamproof. `simulate` prints its answers, and every
//! witness the solver finds is replayed through it before it is shown. The order follows the IAM
//! User Guide's evaluation logic: an applicable explicit deny anywhere wins; every RCP and SCP
//! level must allow; then resource-based policies, identity policies, permissions boundaries and
//! session policies combine as documented for same-account and cross-account requests, with the
//! special rules for KMS key policies and role trust policies (the resource policy must admit
//! the caller explicitly, even in the same account).

pub mod principal;

use crate::policy::{Context, Effect, Policy, Statement};
pub use principal::{AwsPrincipalKind, Principal, PrincipalMatch};
use std::sync::Arc;

/// Services whose resources RCPs govern (AWS Organizations documentation).
pub const RCP_SERVICES: [&str; 5] = ["s3", "sts", "kms", "sqs", "secretsmanager"];

/// One request to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub principal: Principal,
    pub action: String,
    pub resource: String,
    /// The account that owns the resource; `None` means the caller's own account.
    pub resource_account: Option<String>,
    pub context: Context,
}

impl Request {
    /// True when the caller is an IAM identity of another account than the resource's.
    pub fn is_cross_account(&self) -> bool {
        match (self.principal.account(), &self.resource_account) {
            (Some(caller), Some(owner)) => caller != owner,
            _ => false,
        }
    }

    fn service_prefix(&self) -> String {
        self.action
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }
}

/// A policy with the name explanations and witnesses use for it (an ARN, or a position in the
/// input such as `identity_policies[0]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPolicy {
    pub name: String,
    pub policy: Arc<Policy>,
}

impl NamedPolicy {
    pub fn new(name: impl Into<String>, policy: Policy) -> NamedPolicy {
        NamedPolicy {
            name: name.into(),
            policy: Arc::new(policy),
        }
    }
}

/// Every policy that bears on one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicySet {
    pub identity: Vec<NamedPolicy>,
    pub boundaries: Vec<NamedPolicy>,
    pub session: Option<NamedPolicy>,
    pub resource: Option<NamedPolicy>,
    /// One list per organization level, root first.
    pub scps: Vec<Vec<NamedPolicy>>,
    /// One list per organization level, root first; RCPFullAWSAccess is implied at each level.
    pub rcps: Vec<Vec<NamedPolicy>>,
    pub endpoints: Vec<NamedPolicy>,
}

/// The three outcomes AWS distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Decision {
    Allowed,
    ImplicitlyDenied,
    ExplicitlyDenied,
}

/// The kind of policy a statement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyType {
    Identity,
    PermissionsBoundary,
    SessionPolicy,
    ResourcePolicy,
    Scp,
    Rcp,
    EndpointPolicy,
}

impl PolicyType {
    pub fn describe(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity-based policy",
            PolicyType::PermissionsBoundary => "permissions boundary",
            PolicyType::SessionPolicy => "session policy",
            PolicyType::ResourcePolicy => "resource-based policy",
            PolicyType::Scp => "SCP",
            PolicyType::Rcp => "RCP",
            PolicyType::EndpointPolicy => "VPC endpoint policy",
        }
    }
}

/// A statement that applies to the request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct MatchedStatement {
    pub policy_type: PolicyType,
    /// For SCPs and RCPs: the organization level, 0 for the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<usize>,
    pub policy: String,
    pub statement: String,
    /// The statement's position in its policy.
    #[serde(skip)]
    pub index: usize,
    pub effect: Effect,
    /// For resource policies: how the statement's principal element named the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_match: Option<PrincipalMatch>,
}

impl MatchedStatement {
    /// "SCP (level 1) p-123" or "identity-based policy arn:...".
    pub fn describe_policy(&self) -> String {
        match self.level {
            Some(level) => format!(
                "{} (level {level}) {}",
                self.policy_type.describe(),
                self.policy
            ),
            None => format!("{} {}", self.policy_type.describe(), self.policy),
        }
    }
}

/// The decision and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Evaluation {
    pub decision: Decision,
    /// Allow statements that the decision rests on (empty unless allowed).
    pub allowed_by: Vec<MatchedStatement>,
    /// Every applicable statement, allow and deny, in evaluation order.
    pub matched: Vec<MatchedStatement>,
    /// One sentence: what allowed or what blocked the request.
    pub reason: String,
}

/// Resources whose policies follow special rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// A KMS key: the key policy must allow; IAM policies count only through it.
    KmsKey,
    /// An AWS managed alias (`alias/aws/...`): nobody may change it.
    KmsAwsManagedAlias,
    /// An AWS managed policy (`arn:aws:iam::aws:policy/...`) as the target of a write: AWS owns it.
    AwsManagedPolicyWrite,
    /// A role as the target of `sts:AssumeRole*`: the trust policy must admit the caller.
    RoleTrust,
    Other,
}

/// Which special rules (if any) govern the request's resource.
pub fn classify(request: &Request) -> ResourceKind {
    let action = request.action.to_ascii_lowercase();
    let resource = request.resource.as_str();
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let (service, account, resource_part) = if parts.len() == 6 {
        (parts[2], parts[4], parts[5])
    } else {
        ("", "", "")
    };
    if action.starts_with("kms:") && service == "kms" {
        if resource_part.starts_with("key/") {
            return ResourceKind::KmsKey;
        }
        if resource_part.starts_with("alias/aws/") {
            return ResourceKind::KmsAwsManagedAlias;
        }
    }
    if action.starts_with("iam:")
        && service == "iam"
        && account == "aws"
        && is_policy_write(&action)
    {
        return ResourceKind::AwsManagedPolicyWrite;
    }
    let trust_action = TRUST_ACTIONS.contains(&action.as_str());
    if trust_action && service == "iam" && resource_part.starts_with("role/") {
        return ResourceKind::RoleTrust;
    }
    ResourceKind::Other
}

/// IAM actions that change a managed policy; AWS managed policies refuse them all.
pub const POLICY_WRITE_ACTIONS: [&str; 7] = [
    "iam:createpolicy",
    "iam:createpolicyversion",
    "iam:deletepolicy",
    "iam:deletepolicyversion",
    "iam:setdefaultpolicyversion",
    "iam:tagpolicy",
    "iam:untagpolicy",
];

/// STS actions decided by a role's trust policy.
pub const TRUST_ACTIONS: [&str; 6] = [
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
];

fn is_policy_write(action: &str) -> bool {
    POLICY_WRITE_ACTIONS.contains(&action)
}

/// How a policy type treats the `Principal` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalRule {
    /// Identity-side policies: the caller is implied.
    Ignored,
    /// Resource policies and RCPs: a statement without a principal applies to nobody.
    Required,
    /// VPC endpoint policies: a statement without a principal applies to everyone.
    DefaultsToEveryone,
}

/// Whether a statement's `Principal`/`NotPrincipal` covers `principal` under `rule`: `None` when
/// it does not; `Some(None)` when the element is not consulted; `Some(Some(strength))` otherwise.
pub fn principal_applies(
    statement: &Statement,
    principal: &Principal,
    rule: PrincipalRule,
    has_boundary: bool,
) -> Option<Option<PrincipalMatch>> {
    match (rule, &statement.principal) {
        (PrincipalRule::Ignored, _) => Some(None),
        (_, Some(element)) => Some(Some(principal::element_matches(
            element,
            principal,
            has_boundary,
        )?)),
        (PrincipalRule::Required, None) => None,
        (PrincipalRule::DefaultsToEveryone, None) => Some(Some(PrincipalMatch::Everyone)),
    }
}

/// Whether a statement applies to the request, and how its principal element matched.
/// `Some(None)` is a match where the principal element is not consulted.
fn statement_applies(
    statement: &Statement,
    request: &Request,
    principal_rule: PrincipalRule,
    has_boundary: bool,
) -> Option<Option<PrincipalMatch>> {
    if !statement.action.covers(&request.action) {
        return None;
    }
    if let Some(resource) = &statement.resource {
        if !resource.covers(&request.resource, &request.context) {
            return None;
        }
    }
    let principal_match = match (principal_rule, &statement.principal) {
        (PrincipalRule::Ignored, _) => None,
        (_, Some(element)) => Some(principal::element_matches(
            element,
            &request.principal,
            has_boundary,
        )?),
        (PrincipalRule::Required, None) => return None,
        (PrincipalRule::DefaultsToEveryone, None) => Some(PrincipalMatch::Everyone),
    };
    if !statement.conditions_hold(&request.context) {
        return None;
    }
    Some(principal_match)
}

struct Collector<'r> {
    request: &'r Request,
    level: Option<usize>,
    has_boundary: bool,
    matched: Vec<MatchedStatement>,
}

impl Collector<'_> {
    /// Records the statements of `policy` that apply; returns the applicable Allow statements.
    fn collect(
        &mut self,
        policy_type: PolicyType,
        policy: &NamedPolicy,
        principal_rule: PrincipalRule,
    ) -> Vec<MatchedStatement> {
        let mut allows = Vec::new();
        for statement in &policy.policy.statements {
            let Some(principal_match) =
                statement_applies(statement, self.request, principal_rule, self.has_boundary)
            else {
                continue;
            };
            let matched = MatchedStatement {
                policy_type,
                level: self.level,
                policy: policy.name.clone(),
                statement: statement.label(),
                index: statement.index,
                effect: statement.effect,
                principal_match,
            };
            if statement.effect == Effect::Allow {
                allows.push(matched.clone());
            }
            self.matched.push(matched);
        }
        allows
    }

    fn collect_all(
        &mut self,
        policy_type: PolicyType,
        policies: &[NamedPolicy],
        principal_rule: PrincipalRule,
    ) -> Vec<MatchedStatement> {
        policies
            .iter()
            .flat_map(|p| self.collect(policy_type, p, principal_rule))
            .collect()
    }
}

/// Decides one request.
pub fn evaluate(request: &Request, policies: &PolicySet) -> Evaluation {
    let kind = classify(request);
    let is_iam_caller = matches!(request.principal, Principal::Aws(_));
    let service = request.service_prefix();
    let scps_apply = is_iam_caller;
    let rcps_apply = RCP_SERVICES.contains(&service.as_str());
    let has_boundary = is_iam_caller && !policies.boundaries.is_empty();

    if service == "sts" && request.action.eq_ignore_ascii_case("sts:GetCallerIdentity") {
        return Evaluation {
            decision: Decision::Allowed,
            allowed_by: Vec::new(),
            matched: Vec::new(),
            reason: "sts:GetCallerIdentity needs no permission and cannot be denied".into(),
        };
    }

    if let Some(reason) = crate::service::technique::refusal(&request.action, &request.resource) {
        return Evaluation {
            decision: Decision::ImplicitlyDenied,
            allowed_by: Vec::new(),
            matched: Vec::new(),
            reason,
        };
    }

    let mut collector = Collector {
        request,
        level: None,
        has_boundary,
        matched: Vec::new(),
    };
    let scp_allows: Vec<Vec<MatchedStatement>> = if scps_apply {
        policies
            .scps
            .iter()
            .enumerate()
            .map(|(level, level_policies)| {
                collector.level = Some(level);
                collector.collect_all(PolicyType::Scp, level_policies, PrincipalRule::Ignored)
            })
            .collect()
    } else {
        Vec::new()
    };
    if rcps_apply {
        for (level, level_policies) in policies.rcps.iter().enumerate() {
            collector.level = Some(level);
            collector.collect_all(PolicyType::Rcp, level_policies, PrincipalRule::Required);
        }
    }
    collector.level = None;
    let endpoint_allows: Vec<Vec<MatchedStatement>> = policies
        .endpoints
        .iter()
        .map(|p| {
            collector.collect(
                PolicyType::EndpointPolicy,
                p,
                PrincipalRule::DefaultsToEveryone,
            )
        })
        .collect();
    let resource_allows = match &policies.resource {
        Some(p) => collector.collect(PolicyType::ResourcePolicy, p, PrincipalRule::Required),
        None => Vec::new(),
    };
    let (identity_allows, boundary_allows, session_allows) = if is_iam_caller {
        (
            collector.collect_all(
                PolicyType::Identity,
                &policies.identity,
                PrincipalRule::Ignored,
            ),
            collector.collect_all(
                PolicyType::PermissionsBoundary,
                &policies.boundaries,
                PrincipalRule::Ignored,
            ),
            policies
                .session
                .as_ref()
                .map(|p| collector.collect(PolicyType::SessionPolicy, p, PrincipalRule::Ignored)),
        )
    } else {
        (Vec::new(), Vec::new(), None)
    };
    let matched = collector.matched;

    let denies: Vec<&MatchedStatement> = matched
        .iter()
        .filter(|m| m.effect == Effect::Deny)
        .collect();
    if let Some(first) = denies.first() {
        let reason = format!(
            "explicitly denied by statement {} of {}",
            first.statement,
            first.describe_policy()
        );
        return finish(Decision::ExplicitlyDenied, Vec::new(), matched, reason);
    }
    let implicit = |reason: String, matched: Vec<MatchedStatement>| {
        finish(Decision::ImplicitlyDenied, Vec::new(), matched, reason)
    };

    if kind == ResourceKind::KmsAwsManagedAlias {
        return implicit(
            "AWS managed aliases (alias/aws/...) cannot be created, changed or deleted".into(),
            matched,
        );
    }
    if kind == ResourceKind::AwsManagedPolicyWrite {
        return implicit(
            "AWS managed policies belong to AWS and cannot be changed".into(),
            matched,
        );
    }
    if let Some(level) = scp_allows.iter().position(|allows| allows.is_empty()) {
        return implicit(
            format!("no SCP at organization level {level} allows the action"),
            matched,
        );
    }
    if let Some(index) = endpoint_allows.iter().position(|allows| allows.is_empty()) {
        return implicit(
            format!(
                "VPC endpoint policy {} does not allow the request",
                policies.endpoints[index].name
            ),
            matched,
        );
    }

    let strongest_resource_grant = resource_allows
        .iter()
        .filter_map(|m| m.principal_match)
        .max();
    let mut allowed_by: Vec<MatchedStatement> = scp_allows.into_iter().flatten().collect();
    allowed_by.extend(endpoint_allows.into_iter().flatten());

    let missing_grant = match &policies.resource {
        Some(p) => format!("{} does not", p.name),
        None => "there is none".into(),
    };

    if !is_iam_caller {
        return match strongest_resource_grant {
            Some(_) => {
                allowed_by.extend(resource_allows);
                finish(
                    Decision::Allowed,
                    allowed_by,
                    matched,
                    "allowed by the resource-based policy".into(),
                )
            }
            None => implicit(
                format!(
                    "{} callers need a resource-based policy that allows them, and {}",
                    match request.principal {
                        Principal::Anonymous => "anonymous",
                        Principal::Federated(_) => "federated",
                        _ => "service",
                    },
                    missing_grant
                ),
                matched,
            ),
        };
    }

    let is_root =
        matches!(&request.principal, Principal::Aws(p) if p.kind == AwsPrincipalKind::Root);
    let identity_ok = is_root || !identity_allows.is_empty();
    let boundary_ok = policies.boundaries.is_empty() || !boundary_allows.is_empty();
    let session_ok = session_allows
        .as_ref()
        .is_none_or(|allows| !allows.is_empty());
    let caps_reason = || {
        if !boundary_ok {
            "the permissions boundary does not allow the action".to_string()
        } else {
            "the session policy does not allow the action".to_string()
        }
    };
    let grant_with_caps = |mut allowed_by: Vec<MatchedStatement>, with_identity: bool| {
        if with_identity {
            allowed_by.extend(identity_allows.iter().cloned());
        }
        allowed_by.extend(boundary_allows.iter().cloned());
        allowed_by.extend(session_allows.iter().flatten().cloned());
        allowed_by
    };
    let needs_resource_grant = matches!(kind, ResourceKind::KmsKey | ResourceKind::RoleTrust);
    let resource_word = match kind {
        ResourceKind::KmsKey => "key policy",
        ResourceKind::RoleTrust => "trust policy",
        _ => "resource-based policy",
    };

    if request.is_cross_account() {
        if strongest_resource_grant.is_none() {
            return implicit(
                format!("cross-account request: the caller needs the {resource_word} to allow it, and {missing_grant}"),
                matched,
            );
        }
        if !identity_ok {
            return implicit(
                "cross-account request: no identity-based policy of the caller allows the action"
                    .into(),
                matched,
            );
        }
        if !(boundary_ok && session_ok) {
            return implicit(caps_reason(), matched);
        }
        allowed_by.extend(resource_allows);
        let allowed_by = grant_with_caps(allowed_by, true);
        return finish(
            Decision::Allowed,
            allowed_by,
            matched,
            format!("allowed by the caller's identity-based policy and the {resource_word} of the resource account"),
        );
    }

    match strongest_resource_grant {
        Some(PrincipalMatch::Exact | PrincipalMatch::Everyone) => {
            allowed_by.extend(resource_allows);
            finish(
                Decision::Allowed,
                allowed_by,
                matched,
                format!("allowed by the {resource_word}, which names the caller"),
            )
        }
        Some(PrincipalMatch::Role) if boundary_ok && session_ok => {
            allowed_by.extend(resource_allows);
            let allowed_by = grant_with_caps(allowed_by, false);
            finish(
                Decision::Allowed,
                allowed_by,
                matched,
                format!("allowed by the {resource_word}, which names the caller's role"),
            )
        }
        Some(PrincipalMatch::Role) => implicit(caps_reason(), matched),
        grant => {
            if needs_resource_grant && grant.is_none() {
                return implicit(
                    format!("the {resource_word} must allow the caller (IAM policies count only where it delegates to the account), and {missing_grant}"),
                    matched,
                );
            }
            if !identity_ok {
                return implicit(
                    "no identity-based or resource-based policy allows the action".into(),
                    matched,
                );
            }
            if !(boundary_ok && session_ok) {
                return implicit(caps_reason(), matched);
            }
            if grant.is_some() {
                allowed_by.extend(resource_allows);
            }
            let allowed_by = grant_with_caps(allowed_by, true);
            finish(
                Decision::Allowed,
                allowed_by,
                matched,
                "allowed by an identity-based policy".into(),
            )
        }
    }
}

fn finish(
    decision: Decision,
    allowed_by: Vec<MatchedStatement>,
    matched: Vec<MatchedStatement>,
    reason: String,
) -> Evaluation {
    Evaluation {
        decision,
        allowed_by,
        matched,
        reason,
    }
}
