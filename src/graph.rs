//! The delegation graph: who can become whom.
//!
//! Nodes are the users, groups and roles of the model and the services that act with roles;
//! edges say how one principal reaches another's permissions: group membership,
//! `sts:AssumeRole` (identity side and trust side), and every technique of
//! [`crate::service::technique`] (passing a role to a service that runs code or jobs with it,
//! taking over a resource that runs with one, a user's credentials, an edit of the account).
//! Edges come from cheap syntactic filters that only ever over-approximate: an edge is left out
//! only when no context could make the step allowed, so the solver, which decides every step,
//! never misses a path the graph pruned. The same filter proposes the steps of a principal
//! whose policies an escalation edited ([`DelegationGraph::steps_for`]).

use crate::eval::{
    principal_applies, AwsPrincipalKind, PolicySet, Principal, PrincipalMatch, PrincipalRule,
};
use crate::model::{Model, Role};
use crate::policy::template::NoVariables;
use crate::policy::Effect;
use crate::policy::Statement;
use crate::policy::{PrincipalKind, PrincipalSet};
use crate::service::technique::{self, On, Targets, Technique};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

/// A node of the delegation graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Node {
    User(String),
    Group(String),
    Role(String),
    ManagedPolicy(String),
}

impl Node {
    pub fn arn(&self) -> &str {
        match self {
            Node::User(arn) | Node::Group(arn) | Node::Role(arn) | Node::ManagedPolicy(arn) => arn,
        }
    }
}

/// How the source of an edge reaches its target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Edge {
    /// A user's group: its policies are the user's.
    MemberOf,
    /// The source may assume the role.
    AssumeRole,
    /// The source may use a technique on the target.
    Technique { technique: &'static str },
}

/// One step of a delegation chain, from the actor before it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    AssumeRole {
        role: std::sync::Arc<str>,
    },
    /// A technique of [`crate::service::technique`] on a target: the role passed or taken over,
    /// the user whose credentials are taken, or the principal, group or policy edited.
    Technique {
        technique: TechniqueRef,
        target: std::sync::Arc<str>,
    },
}

/// A technique of the table, compared, ordered, hashed and printed by its id: steps hold a
/// reference rather than the id so that [`Step::technique`] need not look it up.
#[derive(Clone, Copy)]
pub struct TechniqueRef(pub &'static Technique);

impl PartialEq for TechniqueRef {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for TechniqueRef {}

impl PartialOrd for TechniqueRef {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TechniqueRef {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.id.cmp(other.0.id)
    }
}

impl std::hash::Hash for TechniqueRef {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}

impl std::fmt::Debug for TechniqueRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.id.fmt(f)
    }
}

impl Step {
    /// The role assumed, or the technique's target.
    pub fn target(&self) -> &str {
        match self {
            Step::AssumeRole { role } => role,
            Step::Technique { target, .. } => target,
        }
    }

    /// The technique of the step, if it is not a role assumption.
    pub fn technique(&self) -> Option<&'static Technique> {
        match self {
            Step::AssumeRole { .. } => None,
            Step::Technique { technique, .. } => Some(technique.0),
        }
    }
}

/// The graph over a model.
pub struct DelegationGraph {
    /// The steps out of each user and role, computed once: the search asks for them every
    /// time it reaches an actor. Actors whose steps are the same share one list: in a broad
    /// account most principals may assume the same hundreds of roles.
    steps: std::collections::HashMap<String, std::sync::Arc<[Step]>>,
    /// Each user's groups, as `(user, group)` ARNs.
    memberships: Vec<(String, String)>,
    /// The graph as petgraph nodes and edges, built when first asked for: only drawings need
    /// it, and it holds an edge per step.
    petgraph: std::sync::OnceLock<DiGraph<Node, Edge>>,
    /// Who each role's trust policy admits, indexed.
    trust: Vec<TrustedRole>,
    /// The roles (positions in `trust`) whose trust policy names accounts and no one else,
    /// by account: a caller of such an account may assume them exactly when its own
    /// policies allow it, so which it may is a function of those policies alone.
    account_trusting: std::collections::HashMap<String, Vec<usize>>,
    /// The other roles: their trust policies are read for every caller.
    special: Vec<usize>,
    /// Which of an account's `account_trusting` roles some `sts:AssumeRole` grants cover.
    assumable: std::sync::Mutex<AssumableMemo>,
    /// What each technique may apply to, by (technique, actor account), as configured.
    candidates: std::sync::Mutex<CandidateMemo>,
    /// The buckets and keys whose own policy allows some principal every request of a
    /// technique, by (technique, actor account).
    granting: std::sync::Mutex<CandidateMemo>,
}

/// A role and who its trust policy admits.
struct TrustedRole {
    arn: String,
    /// The ARN again, shared by every step that assumes the role.
    shared_arn: std::sync::Arc<str>,
    account: String,
    /// Whether the role's path is reserved for roles AWS manages.
    reserved: bool,
    index: TrustIndex,
}

/// The roles some `sts:AssumeRole` grants may cover, by the account and the grants (the
/// address of each policy and its statement's position); the entry holds the policies, so the
/// addresses stay theirs.
type AssumableMemo = std::collections::HashMap<
    (String, Vec<(usize, usize)>),
    (
        Vec<std::sync::Arc<crate::policy::Policy>>,
        std::sync::Arc<[usize]>,
    ),
>;

/// Targets of a technique, by `(technique id, actor account)`.
type CandidateMemo =
    std::collections::HashMap<(&'static str, String), std::sync::Arc<[std::sync::Arc<str>]>>;

/// A list of steps, equal to another when it holds the very same targets (the graph shares
/// one ARN per role and per technique target), so that comparing lists of thousands of
/// steps reads no ARN.
struct SharedSteps(std::sync::Arc<[Step]>);

impl SharedSteps {
    /// What tells steps apart here: the target's address, and the technique (none for an
    /// assumption; no technique's id is empty).
    fn parts(step: &Step) -> (*const u8, &'static str) {
        match step {
            Step::AssumeRole { role } => (role.as_ptr(), ""),
            Step::Technique { technique, target } => (target.as_ptr(), technique.0.id),
        }
    }
}

impl PartialEq for SharedSteps {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(other.0.iter())
                .all(|(a, b)| Self::parts(a) == Self::parts(b))
    }
}

impl Eq for SharedSteps {}

impl std::hash::Hash for SharedSteps {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.len().hash(state);
        for step in self.0.iter() {
            Self::parts(step).0.hash(state);
        }
    }
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
    trust_admits_to(role, caller, "sts:AssumeRole")
}

/// Whether a trust policy has an Allow of `action` (`sts:AssumeRole` or its kin) whose
/// principal covers `caller` (conditions aside).
pub fn trust_admits_to(role: &Role, caller: &Principal, action: &str) -> bool {
    role.trust_policy.statements.iter().any(|statement| {
        statement.effect == Effect::Allow
            && statement.action.covers(action)
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

    /// The accounts the trust policy names when it names AWS principals by account alone
    /// (by ID or root ARN; services aside, which no AWS caller is); `None` when it names
    /// anyone otherwise.
    fn accounts_only(&self) -> Option<&BTreeSet<String>> {
        let by_account = !self.everyone
            && self.roles.is_empty()
            && self.exact.iter().all(|arn| arn.ends_with(":root"));
        by_account.then_some(&self.accounts)
    }

    /// How strongly the trust policy names `caller`, at most.
    fn strength(&self, caller: &Principal) -> Option<PrincipalMatch> {
        let mut best = self.everyone.then_some(PrincipalMatch::Everyone);
        let mut offer = |m: PrincipalMatch| best = best.max(Some(m));
        match caller {
            Principal::Anonymous => {}
            Principal::Federated(provider) => {
                if self.exact.contains(provider) {
                    offer(PrincipalMatch::Exact);
                }
            }
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

/// The resources some allow statements may cover, their patterns resolved once: a pattern
/// with a policy variable is taken to cover everything, since the variable's value is not
/// known here.
enum MayCover {
    Everything,
    /// Per statement: its resolved patterns (a pattern that resolves to nothing matches
    /// nothing), and whether they are a `NotResource`.
    Patterns(Vec<(Vec<crate::policy::pattern::Glob>, bool)>),
}

impl MayCover {
    fn of(statements: &[&Statement]) -> MayCover {
        let mut resolved = Vec::new();
        for statement in statements {
            let Some(element) = &statement.resource else {
                return MayCover::Everything;
            };
            if element.patterns.iter().any(|p| p.has_variables()) {
                return MayCover::Everything;
            }
            let globs: Vec<_> = element
                .patterns
                .iter()
                .filter_map(|p| p.resolve_glob(&NoVariables))
                .collect();
            resolved.push((globs, element.negated));
        }
        MayCover::Patterns(resolved)
    }

    fn covers(&self, resource: &str) -> bool {
        match self {
            MayCover::Everything => true,
            MayCover::Patterns(statements) => statements.iter().any(|(globs, negated)| {
                globs.iter().any(|glob| glob.matches_arn(resource)) != *negated
            }),
        }
    }
}

impl DelegationGraph {
    pub fn build(model: &Model) -> DelegationGraph {
        let mut graph = DelegationGraph {
            steps: Default::default(),
            memberships: Vec::new(),
            petgraph: std::sync::OnceLock::new(),
            trust: model
                .roles
                .values()
                .map(|r| TrustedRole {
                    arn: r.arn.clone(),
                    shared_arn: r.arn.as_str().into(),
                    account: r.account.clone(),
                    reserved: technique::is_reserved_role_path(&r.path),
                    index: TrustIndex::of(r),
                })
                .collect(),
            account_trusting: Default::default(),
            special: Vec::new(),
            assumable: Default::default(),
            candidates: Default::default(),
            granting: Default::default(),
        };
        for (position, role) in graph.trust.iter().enumerate() {
            match role.index.accounts_only() {
                Some(accounts) => {
                    for account in accounts {
                        graph
                            .account_trusting
                            .entry(account.clone())
                            .or_default()
                            .push(position);
                    }
                }
                None => graph.special.push(position),
            }
        }
        for user in model.users.values() {
            for name in &user.groups {
                if let Some(group) = model.group_named(&user.account, name) {
                    graph
                        .memberships
                        .push((user.arn.clone(), group.arn.clone()));
                }
            }
        }
        let mut distinct: std::collections::HashSet<SharedSteps> = Default::default();
        for actor in model.users.keys().chain(model.roles.keys()) {
            let Some(effective) = model.effective_policies(actor) else {
                continue;
            };
            let steps = SharedSteps(
                graph
                    .steps_for(model, actor, &effective.policy_set(), None)
                    .into(),
            );
            let steps = match distinct.get(&steps) {
                Some(same) => same.0.clone(),
                None => {
                    distinct.insert(SharedSteps(steps.0.clone()));
                    steps.0
                }
            };
            graph.steps.insert(actor.clone(), steps);
        }
        graph
    }

    /// How many edges the graph has: one per membership and per step.
    pub fn edge_count(&self) -> usize {
        self.memberships.len() + self.steps.values().map(|s| s.len()).sum::<usize>()
    }

    /// The graph as petgraph nodes and edges: users, groups, roles and technique targets, with
    /// an edge per membership and per step of every actor, in a fixed order.
    pub fn petgraph(&self, model: &Model) -> &DiGraph<Node, Edge> {
        self.petgraph.get_or_init(|| self.build_petgraph(model))
    }

    fn build_petgraph(&self, model: &Model) -> DiGraph<Node, Edge> {
        let mut graph = DiGraph::new();
        let mut index: BTreeMap<Node, NodeIndex> = BTreeMap::new();
        let mut node = |graph: &mut DiGraph<Node, Edge>, node: Node| {
            *index
                .entry(node)
                .or_insert_with_key(|node| graph.add_node(node.clone()))
        };
        for (user, group) in &self.memberships {
            let from = node(&mut graph, Node::User(user.clone()));
            let to = node(&mut graph, Node::Group(group.clone()));
            graph.add_edge(from, to, Edge::MemberOf);
        }
        let groups: BTreeSet<&str> = model.groups.values().map(|g| g.arn.as_str()).collect();
        for actor in model.users.keys().chain(model.roles.keys()) {
            let Some(steps) = self.steps.get(actor) else {
                continue;
            };
            let from = if model.users.contains_key(actor) {
                node(&mut graph, Node::User(actor.clone()))
            } else {
                node(&mut graph, Node::Role(actor.clone()))
            };
            for step in steps.iter() {
                let (to, edge) = match step {
                    Step::AssumeRole { role } => (Node::Role(role.to_string()), Edge::AssumeRole),
                    Step::Technique { technique, target } => (
                        target_node(model, &groups, target),
                        Edge::Technique {
                            technique: technique.0.id,
                        },
                    ),
                };
                let to = node(&mut graph, to);
                graph.add_edge(from, to, edge);
            }
        }
        graph
    }

    /// The steps out of an actor of the model as configured: role assumptions first, then
    /// each technique in table order, targets in ARN order.
    pub fn steps_from(&self, actor: &str) -> &[Step] {
        self.steps
            .get(actor)
            .map(|steps| &steps[..])
            .unwrap_or_default()
    }

    /// [`steps_from`](Self::steps_from), shared rather than copied: searches take an actor's
    /// steps once per actor they reach.
    pub fn shared_steps_from(&self, actor: &str) -> std::sync::Arc<[Step]> {
        self.steps
            .get(actor)
            .cloned()
            .unwrap_or_else(|| Vec::new().into())
    }

    /// The steps an actor with `policies` may take: those no context can refuse are left out.
    /// `opened`, when escalations opened some roles' trust policies to their account, says
    /// which.
    pub fn steps_for(
        &self,
        model: &Model,
        actor: &str,
        policies: &PolicySet,
        opened: Option<&dyn Fn(&str) -> bool>,
    ) -> Vec<Step> {
        let mut steps = Vec::new();
        let _ = self.visit_steps(model, actor, policies, opened, &mut |step| {
            steps.push(step);
            ControlFlow::Continue(())
        });
        steps
    }

    /// Whether an actor with `policies` may take any step ([`steps_for`](Self::steps_for)
    /// is not empty), told up to the first.
    pub fn has_steps(
        &self,
        model: &Model,
        actor: &str,
        policies: &PolicySet,
        opened: Option<&dyn Fn(&str) -> bool>,
    ) -> bool {
        self.visit_steps(model, actor, policies, opened, &mut |_| {
            ControlFlow::Break(())
        })
        .is_break()
    }

    /// Hands the steps of [`steps_for`](Self::steps_for) to `visit` in order, until it breaks.
    fn visit_steps(
        &self,
        model: &Model,
        actor: &str,
        policies: &PolicySet,
        opened: Option<&dyn Fn(&str) -> bool>,
        visit: &mut dyn FnMut(Step) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let is_opened = |arn: &str| opened.is_some_and(|opened| opened(arn));
        let Some(caller) = acting_principal(actor, ASSUMED_SESSION_NAME) else {
            return ControlFlow::Continue(());
        };
        let account = crate::model::arn_account(actor).unwrap_or_default();
        // Identity grants are needed for every technique (no resource policy of the snapshots
        // grants them), and for AssumeRole unless the trust policy names the caller itself.
        let assume_statements = identity_allows(policies, "sts:AssumeRole");
        let assume_grants = MayCover::of(&assume_statements);
        let assumable = |role: &TrustedRole| {
            if role.arn == actor {
                return false;
            }
            let strength = if is_opened(&role.arn) && role.account == account {
                Some(PrincipalMatch::Everyone)
            } else {
                role.index.strength(&caller)
            };
            // Within the account, a trust policy that names the caller, its role or
            // everyone allows on its own; one that names the account delegates to IAM.
            match strength {
                Some(PrincipalMatch::Account) => assume_grants.covers(&role.arn),
                Some(_) => role.account == account || assume_grants.covers(&role.arn),
                None => false,
            }
        };
        let assume = |role: &TrustedRole| Step::AssumeRole {
            role: role.shared_arn.clone(),
        };
        let named_alone = matches!(&caller, Principal::Aws(p) if !p.arn.ends_with(":root"));
        if opened.is_some() || !named_alone {
            for role in self.trust.iter().filter(|r| assumable(r)) {
                visit(assume(role))?;
            }
        } else {
            // Roles that trust the caller's account alone need only its grants, which many
            // callers share; the others are read one by one. Both in the order of `trust`.
            let covered =
                self.assumable_by_grants(policies, &assume_statements, &caller, &assume_grants);
            let mut positions: Vec<usize> = covered.to_vec();
            positions.extend(self.special.iter().copied());
            if !covered.is_empty() && !self.special.is_empty() {
                positions.sort_unstable();
            }
            for position in positions {
                let role = &self.trust[position];
                let special = self.special.binary_search(&position).is_ok();
                let taken = if special {
                    assumable(role)
                } else {
                    role.arn != actor
                };
                if taken {
                    visit(assume(role))?;
                }
            }
        }
        for technique in technique::all() {
            // A bucket's or a key's own policy may grant what the technique needs.
            let on_resources = matches!(technique.targets, Targets::Bucket | Targets::Key { .. });
            let mut grants: Vec<Vec<&Statement>> = Vec::new();
            for needed in technique.needs {
                let found = identity_allows(policies, needed.action);
                let missing = found.is_empty();
                grants.push(found);
                if missing && !on_resources {
                    break;
                }
            }
            if grants.len() < technique.needs.len() {
                continue;
            }
            let covers: Vec<MayCover> = grants.iter().map(|g| MayCover::of(g)).collect();
            let covers_target = |target: &str| {
                let by_identity = technique.needs.iter().zip(grants.iter().zip(&covers)).all(
                    |(needed, (grants, cover))| {
                        !grants.is_empty() && (needed.on != On::Target || cover.covers(target))
                    },
                );
                by_identity
                    || on_resources
                        && technique
                            .needs
                            .iter()
                            .all(|needed| resource_may_grant(model, target, needed.action, &caller))
            };
            // Without every identity grant, only a resource's own policy can grant.
            let candidates = if grants.iter().all(|g| !g.is_empty()) {
                self.candidates(model, technique, account, opened)
            } else {
                self.granting(model, technique, account)
            };
            // A principal may edit itself; becoming itself gains nothing.
            for target in candidates.iter() {
                if (**target != *actor || !technique.becomes_target()) && covers_target(target) {
                    visit(Step::Technique {
                        technique: TechniqueRef(technique),
                        target: target.clone(),
                    })?;
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// The roles that trust the caller's account alone and that `grants` (the caller's
    /// `sts:AssumeRole` statements, `cover` their resources) may cover, in `trust` order;
    /// memoized by the grants.
    fn assumable_by_grants(
        &self,
        policies: &PolicySet,
        grants: &[&Statement],
        caller: &Principal,
        cover: &MayCover,
    ) -> std::sync::Arc<[usize]> {
        let Principal::Aws(aws) = caller else {
            return Vec::new().into();
        };
        let Some(trusting) = self.account_trusting.get(&aws.account) else {
            return Vec::new().into();
        };
        let mut owners = Vec::new();
        let mut key = Vec::new();
        for named in &policies.identity {
            for statement in &named.policy.statements {
                if grants.iter().any(|g| std::ptr::eq(*g, statement)) {
                    key.push((
                        std::sync::Arc::as_ptr(&named.policy) as usize,
                        statement.index,
                    ));
                    owners.push(named.policy.clone());
                }
            }
        }
        let key = (aws.account.clone(), key);
        let mut memo = self
            .assumable
            .lock()
            .expect("no thread panics holding the memo");
        if let Some((_, hit)) = memo.get(&key) {
            return hit.clone();
        }
        let covered: std::sync::Arc<[usize]> = trusting
            .iter()
            .copied()
            .filter(|&position| cover.covers(&self.trust[position].arn))
            .collect();
        memo.insert(key, (owners, covered.clone()));
        covered
    }

    /// What a technique may apply to, for an actor of `account`, in ARN order; computed once
    /// for the account as configured.
    fn candidates(
        &self,
        model: &Model,
        technique: &Technique,
        account: &str,
        opened: Option<&dyn Fn(&str) -> bool>,
    ) -> std::sync::Arc<[std::sync::Arc<str>]> {
        if let Some(opened) = opened {
            return self
                .find_candidates(model, technique, account, opened)
                .into_iter()
                .map(std::sync::Arc::from)
                .collect();
        }
        let key = (technique.id, account.to_string());
        if let Some(hit) = self
            .candidates
            .lock()
            .expect("no thread panics holding the memo")
            .get(&key)
        {
            return hit.clone();
        }
        let found: std::sync::Arc<[std::sync::Arc<str>]> = self
            .find_candidates(model, technique, account, &|_| false)
            .into_iter()
            .map(std::sync::Arc::from)
            .collect();
        self.candidates
            .lock()
            .expect("no thread panics holding the memo")
            .insert(key, found.clone());
        found
    }

    /// The buckets or keys among a technique's candidates whose own policy allows every
    /// request of the technique to some principal.
    fn granting(
        &self,
        model: &Model,
        technique: &Technique,
        account: &str,
    ) -> std::sync::Arc<[std::sync::Arc<str>]> {
        let key = (technique.id, account.to_string());
        if let Some(hit) = self
            .granting
            .lock()
            .expect("no thread panics holding the memo")
            .get(&key)
        {
            return hit.clone();
        }
        let found: std::sync::Arc<[std::sync::Arc<str>]> =
            self.candidates(model, technique, account, None)
                .iter()
                .filter(|target| {
                    let policy = resource_policy(model, target);
                    technique.needs.iter().all(|needed| {
                        policy.as_ref().is_some_and(|policy| {
                            policy.statements.iter().any(|s| {
                                s.effect == Effect::Allow && s.action.covers(needed.action)
                            })
                        })
                    })
                })
                .cloned()
                .collect();
        self.granting
            .lock()
            .expect("no thread panics holding the memo")
            .insert(key, found.clone());
        found
    }

    fn find_candidates(
        &self,
        model: &Model,
        technique: &Technique,
        account: &str,
        opened: &dyn Fn(&str) -> bool,
    ) -> Vec<String> {
        let roles = || model.roles.values().filter(|r| r.account == account);
        let trusting = |service: &str| -> Vec<String> {
            let service = Principal::Service(service.to_string());
            self.trust
                .iter()
                .filter(|r| r.account == account && !r.reserved)
                .filter(|r| r.index.strength(&service).is_some() || opened(&r.arn))
                .map(|r| r.arn.clone())
                .collect()
        };
        let mut found: Vec<String> = match technique.targets {
            Targets::PassedRole { service } | Targets::RunningRole { service } => trusting(service),
            Targets::User => model
                .users
                .values()
                .filter(|u| u.account == account)
                .map(|u| u.arn.clone())
                .collect(),
            Targets::Group => model
                .groups
                .values()
                .filter(|g| g.account == account)
                .map(|g| g.arn.clone())
                .collect(),
            Targets::Role => roles()
                .filter(|r| !technique::is_reserved_role_path(&r.path))
                .map(|r| r.arn.clone())
                .collect(),
            Targets::ManagedPolicy => model
                .managed_policies
                .values()
                .filter(|p| p.account == account)
                .map(|p| p.arn.clone())
                .collect(),
            Targets::Bucket => model
                .buckets
                .values()
                .filter(|b| b.account == account)
                .map(|b| {
                    let partition = model.account(account).map(|a| a.partition.as_str());
                    b.arn(partition.unwrap_or("aws"))
                })
                .collect(),
            Targets::Key { other_accounts } => model
                .keys
                .values()
                .filter(|k| other_accounts || k.account == account)
                .filter(|k| !k.is_aws_managed())
                .map(|k| k.arn.clone())
                .collect(),
        };
        found.sort();
        found
    }
}

/// Whether the policy of a bucket or key may allow `action` to `caller` on its own
/// (conditions aside).
fn resource_may_grant(model: &Model, arn: &str, action: &str, caller: &Principal) -> bool {
    resource_policy(model, arn).is_some_and(|policy| {
        policy.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && s.action.covers(action)
                // A policy that names only the caller's account leaves the grant to IAM.
                && principal_applies(s, caller, PrincipalRule::Required, false)
                    .is_some_and(|m| m != Some(PrincipalMatch::Account))
        })
    })
}

/// The policy of a bucket or key of the snapshots.
fn resource_policy(model: &Model, arn: &str) -> Option<std::sync::Arc<crate::policy::Policy>> {
    // A policy known only after apply may grant anything.
    if model.pending_resource_policy(arn).is_some() {
        return Some(crate::query::edits::allow_all());
    }
    model
        .keys
        .get(arn)
        .and_then(|k| k.policy.clone())
        .or_else(|| {
            arn.split_once(":s3:::")
                .and_then(|(_, name)| model.buckets.get(name))
                .and_then(|b| b.policy.clone())
        })
}

/// The node a technique's target is.
fn target_node(model: &Model, groups: &BTreeSet<&str>, arn: &str) -> Node {
    if model.users.contains_key(arn) {
        Node::User(arn.to_string())
    } else if groups.contains(arn) {
        Node::Group(arn.to_string())
    } else if model.managed_policies.contains_key(arn) {
        Node::ManagedPolicy(arn.to_string())
    } else {
        Node::Role(arn.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A broad account of 15,000 principals has tens of millions of steps: each byte of a
    /// step is tens of megabytes.
    #[test]
    fn a_step_is_three_words() {
        assert!(
            std::mem::size_of::<Step>() <= 24,
            "{}",
            std::mem::size_of::<Step>()
        );
    }
}
