//! The delegation graph: who can become whom.
//!
//! Nodes are the users, groups and roles of the model and the services that act with passed
//! roles; edges say how one principal reaches another's permissions: group membership,
//! `sts:AssumeRole` (identity side and trust side), and `iam:PassRole` to MediaConvert followed
//! by the service assuming the role. Edges come from cheap syntactic filters that only ever
//! over-approximate: an edge is left out only when no context could make the hop allowed, so
//! the solver, which decides every hop, never misses a path the graph pruned.

use crate::eval::{
    principal_applies, AwsPrincipalKind, PolicySet, Principal, PrincipalMatch, PrincipalRule,
};
use crate::model::{Model, Role};
use crate::policy::template::NoVariables;
use crate::policy::Effect;
use crate::policy::Statement;
use crate::policy::{PrincipalKind, PrincipalSet};
use crate::service::mediaconvert;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, BTreeSet};

/// A node of the delegation graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Node {
    User(String),
    Group(String),
    Role(String),
    Service(String),
}

impl Node {
    pub fn arn(&self) -> &str {
        match self {
            Node::User(arn) | Node::Group(arn) | Node::Role(arn) | Node::Service(arn) => arn,
        }
    }
}

/// How the source of an edge reaches its target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Edge {
    /// A user's group: its policies are the user's.
    MemberOf,
    /// The source may assume the role.
    AssumeRole,
    /// The source may submit a MediaConvert job and pass the role to the service.
    PassRole { service: String },
    /// The service assumes the role through its trust policy.
    ServiceAssumes,
}

/// One step of a delegation chain, from the actor before it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    AssumeRole { role: String },
    MediaConvert { role: String },
}

impl Step {
    pub fn role(&self) -> &str {
        match self {
            Step::AssumeRole { role } | Step::MediaConvert { role } => role,
        }
    }
}

/// The graph over a model.
pub struct DelegationGraph {
    pub graph: DiGraph<Node, Edge>,
    index: BTreeMap<Node, NodeIndex>,
    /// The steps out of each user and role, computed once: the search asks for them every
    /// time it reaches an actor.
    steps: std::collections::HashMap<String, Vec<Step>>,
}

/// The principal that acts for a user or role: the user itself, or a session of the role.
pub fn acting_principal(arn: &str, session: &str) -> Option<Principal> {
    let principal = Principal::parse(arn)?;
    match &principal {
        Principal::Aws(p) => match &p.kind {
            crate::eval::AwsPrincipalKind::Role { name } => Principal::parse(&format!(
                "arn:{}:sts::{}:assumed-role/{name}/{session}",
                p.partition, p.account
            )),
            _ => Some(principal),
        },
        _ => Some(principal),
    }
}

/// Session name of roles assumed by principals in witnesses.
pub const ASSUMED_SESSION_NAME: &str = "iamproof";

/// Whether a trust policy has an Allow of `sts:AssumeRole` whose principal covers `caller`
/// (conditions aside).
pub fn trust_admits(role: &Role, caller: &Principal) -> bool {
    role.trust_policy.statements.iter().any(|statement| {
        statement.effect == Effect::Allow
            && statement.action.covers("sts:AssumeRole")
            && principal_applies(statement, caller, PrincipalRule::Required, false).is_some()
    })
}

/// Who a role's trust policy admits to `sts:AssumeRole`, conditions aside, indexed so that
/// thousands of callers can be checked against thousands of roles quickly. It may admit more
/// than the policy does (a `NotPrincipal` admits everyone), never less.
#[derive(Debug, Default)]
struct TrustIndex {
    everyone: bool,
    accounts: BTreeSet<String>,
    /// ARNs named exactly: users, role sessions, federated users.
    exact: BTreeSet<String>,
    /// Roles named by ARN, or by the ARN of one of their sessions: `(partition, account, role
    /// name)`. A session named by ARN may be any session of the role, since its caller
    /// chooses the name.
    roles: BTreeSet<(String, String, String)>,
    services: BTreeSet<String>,
}

impl TrustIndex {
    fn of(role: &Role) -> TrustIndex {
        let mut index = TrustIndex::default();
        for statement in &role.trust_policy.statements {
            if statement.effect != Effect::Allow || !statement.action.covers("sts:AssumeRole") {
                continue;
            }
            let Some(element) = &statement.principal else {
                continue;
            };
            let entries = match &element.set {
                _ if element.negated => {
                    index.everyone = true;
                    continue;
                }
                PrincipalSet::Everyone => {
                    index.everyone = true;
                    continue;
                }
                PrincipalSet::Entries(entries) => entries,
            };
            for entry in entries {
                match entry.kind {
                    PrincipalKind::Aws if entry.value == "*" => index.everyone = true,
                    PrincipalKind::Aws => index.add_aws(&entry.value),
                    PrincipalKind::Service => {
                        index.services.insert(entry.value.to_ascii_lowercase());
                    }
                    PrincipalKind::Federated => {
                        index.exact.insert(entry.value.clone());
                    }
                    PrincipalKind::CanonicalUser => {}
                }
            }
        }
        index
    }

    fn add_aws(&mut self, value: &str) {
        if crate::model::is_account_id(value) {
            self.accounts.insert(value.to_string());
            return;
        }
        let parts: Vec<&str> = value.splitn(6, ':').collect();
        if parts.len() == 6 && parts[2] == "iam" && parts[5] == "root" {
            self.accounts.insert(parts[4].to_string());
        } else if parts.len() == 6 && parts[2] == "iam" && parts[5].starts_with("role/") {
            let name = parts[5].rsplit('/').next().unwrap_or_default();
            self.roles
                .insert((parts[1].to_string(), parts[4].to_string(), name.to_string()));
        } else if parts.len() == 6 && parts[2] == "sts" {
            if let Some(session) = parts[5].strip_prefix("assumed-role/") {
                let name = session.split('/').next().unwrap_or_default();
                self.roles
                    .insert((parts[1].to_string(), parts[4].to_string(), name.to_string()));
            }
        }
        self.exact.insert(value.to_string());
    }

    /// How strongly the trust policy names `caller`, at most.
    fn strength(&self, caller: &Principal) -> Option<PrincipalMatch> {
        let mut best = self.everyone.then_some(PrincipalMatch::Everyone);
        let mut offer = |m: PrincipalMatch| best = best.max(Some(m));
        match caller {
            Principal::Anonymous => {}
            Principal::Service(name) => {
                if self.services.contains(&name.to_ascii_lowercase()) {
                    offer(PrincipalMatch::Exact);
                }
            }
            Principal::Aws(p) => {
                if self.accounts.contains(&p.account) {
                    offer(PrincipalMatch::Account);
                }
                if self.exact.contains(&p.arn) {
                    offer(PrincipalMatch::Exact);
                }
                let role_name = match &p.kind {
                    AwsPrincipalKind::Role { name } => Some(name),
                    AwsPrincipalKind::RoleSession { role_name, .. } => Some(role_name),
                    _ => None,
                };
                if let Some(name) = role_name {
                    if self
                        .roles
                        .contains(&(p.partition.clone(), p.account.clone(), name.clone()))
                    {
                        offer(PrincipalMatch::Role);
                    }
                }
            }
        }
        best
    }
}

/// The identity Allow statements that cover `action` (conditions and resources aside).
fn identity_allows<'p>(policies: &'p PolicySet, action: &str) -> Vec<&'p Statement> {
    policies
        .identity
        .iter()
        .flat_map(|p| &p.policy.statements)
        .filter(|s| s.effect == Effect::Allow && s.action.covers(action))
        .collect()
}

/// Whether one of `statements` may cover `resource`: a pattern with a policy variable is
/// assumed to, since the variable's value is not known here.
fn may_cover(statements: &[&Statement], resource: &str) -> bool {
    statements.iter().any(|s| match &s.resource {
        None => true,
        Some(element) => {
            element.patterns.iter().any(|p| p.has_variables())
                || element.covers(resource, &NoVariables)
        }
    })
}

impl DelegationGraph {
    pub fn build(model: &Model) -> DelegationGraph {
        let mut graph = DelegationGraph {
            graph: DiGraph::new(),
            index: BTreeMap::new(),
            steps: Default::default(),
        };
        for user in model.users.values() {
            let user_node = graph.node(Node::User(user.arn.clone()));
            for name in &user.groups {
                if let Some(group) = model.group_named(&user.account, name) {
                    let group_node = graph.node(Node::Group(group.arn.clone()));
                    graph.graph.add_edge(user_node, group_node, Edge::MemberOf);
                }
            }
        }
        let service = Principal::Service(mediaconvert::SERVICE.to_string());
        let trust: Vec<(&Role, TrustIndex)> = model
            .roles
            .values()
            .map(|r| (r, TrustIndex::of(r)))
            .collect();
        let mediaconvert_roles: Vec<&Role> = trust
            .iter()
            .filter(|(_, index)| index.strength(&service).is_some())
            .map(|(role, _)| *role)
            .collect();
        let actors: Vec<String> = model
            .users
            .keys()
            .chain(model.roles.keys())
            .cloned()
            .collect();
        for actor in &actors {
            let Some(caller) = acting_principal(actor, ASSUMED_SESSION_NAME) else {
                continue;
            };
            let Some(effective) = model.effective_policies(actor) else {
                continue;
            };
            let policies = effective.policy_set();
            let from = graph.actor_node(model, actor);
            // Identity grants are needed for PassRole and CreateJob (no resource policy grants
            // them), and for AssumeRole unless the trust policy names the caller itself.
            let assume_grants = identity_allows(&policies, "sts:AssumeRole");
            let pass_grants = identity_allows(&policies, "iam:PassRole");
            let may_submit = !identity_allows(&policies, mediaconvert::CREATE_JOB).is_empty();
            for (role, index) in &trust {
                if role.arn == *actor {
                    continue;
                }
                // Within the account, a trust policy that names the caller, its role or
                // everyone allows on its own; one that names the account delegates to IAM.
                let assumable = match index.strength(&caller) {
                    Some(PrincipalMatch::Account) => may_cover(&assume_grants, &role.arn),
                    Some(_) => {
                        role.account == effective.account || may_cover(&assume_grants, &role.arn)
                    }
                    None => false,
                };
                if assumable {
                    let to = graph.node(Node::Role(role.arn.clone()));
                    graph.graph.add_edge(from, to, Edge::AssumeRole);
                }
            }
            if !may_submit || pass_grants.is_empty() {
                continue;
            }
            for role in &mediaconvert_roles {
                if role.arn == *actor
                    || role.account != effective.account
                    || !may_cover(&pass_grants, &role.arn)
                {
                    continue;
                }
                let service_node = graph.node(Node::Service(mediaconvert::SERVICE.to_string()));
                let to = graph.node(Node::Role(role.arn.clone()));
                graph.graph.add_edge(
                    from,
                    to,
                    Edge::PassRole {
                        service: mediaconvert::SERVICE.into(),
                    },
                );
                if graph.graph.find_edge(service_node, to).is_none() {
                    graph.graph.add_edge(service_node, to, Edge::ServiceAssumes);
                }
            }
        }
        graph.steps = actors
            .iter()
            .map(|actor| (actor.clone(), graph.compute_steps_from(actor)))
            .collect();
        graph
    }

    fn node(&mut self, node: Node) -> NodeIndex {
        if let Some(&index) = self.index.get(&node) {
            return index;
        }
        let index = self.graph.add_node(node.clone());
        self.index.insert(node, index);
        index
    }

    fn actor_node(&mut self, model: &Model, arn: &str) -> NodeIndex {
        if model.users.contains_key(arn) {
            self.node(Node::User(arn.to_string()))
        } else {
            self.node(Node::Role(arn.to_string()))
        }
    }

    fn index_of(&self, arn: &str) -> Option<NodeIndex> {
        [Node::User(arn.to_string()), Node::Role(arn.to_string())]
            .into_iter()
            .find_map(|node| self.index.get(&node).copied())
    }

    /// The roles an actor may pass to MediaConvert (graph edges, before the solver's word).
    fn passable_roles(&self, from: NodeIndex) -> Vec<String> {
        let mut roles: Vec<String> = self
            .graph
            .edges(from)
            .filter(|e| matches!(e.weight(), Edge::PassRole { .. }))
            .map(|e| self.graph[e.target()].arn().to_string())
            .collect();
        roles.sort();
        roles
    }

    fn assumable_roles(&self, from: NodeIndex) -> Vec<String> {
        let mut roles: Vec<String> = self
            .graph
            .edges(from)
            .filter(|e| *e.weight() == Edge::AssumeRole)
            .map(|e| self.graph[e.target()].arn().to_string())
            .collect();
        roles.sort();
        roles
    }

    /// The steps out of an actor, role assumptions first, each group in ARN order.
    pub fn steps_from(&self, actor: &str) -> &[Step] {
        self.steps.get(actor).map(Vec::as_slice).unwrap_or_default()
    }

    fn compute_steps_from(&self, actor: &str) -> Vec<Step> {
        let Some(node) = self.index_of(actor) else {
            return Vec::new();
        };
        let mut steps: Vec<Step> = self
            .assumable_roles(node)
            .into_iter()
            .map(|role| Step::AssumeRole { role })
            .collect();
        steps.extend(
            self.passable_roles(node)
                .into_iter()
                .map(|role| Step::MediaConvert { role }),
        );
        steps
    }
}
