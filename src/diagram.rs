//! Pictures of who reaches what: the data behind `iamproof graph`, and its Graphviz dot,
//! Mermaid and JSON renderings.
//!
//! A picture is drawn from the engine's `who-can` answers, never from the policies directly:
//! every edge is a hop of a witness chain that was replayed through the concrete evaluator, so
//! the picture cannot show a path the verifier would refute. The over-approximating
//! [`DelegationGraph`](crate::graph::DelegationGraph) only contributes group membership, which
//! is a fact of the snapshot rather than a permission.
//!
//! Each question is one action on one bucket or key: for the whole account, the default
//! actions on every bucket (`arn:aws:s3:::B/*`) and key of the snapshots; with a resource
//! pattern, the actions on each bucket and key of the snapshots that the pattern matches, asked
//! about that bucket's part of the pattern only (`media-*` asks about `media-in/*` and
//! `media-out/*`), so that every one is drawn with its own witnesses. A pattern that matches no
//! bucket or key of the snapshots (a bucket elsewhere, an API) is asked as it is. `who-can`
//! gives each principal its shortest chain, so a principal that reaches a resource directly is
//! not also drawn reaching it through a role. Answers the verifier could not decide appear as
//! dashed edges marked `unknown`.
//!
//! Paths are joined at nodes, so a node must stand for one actor of the search: a role acting
//! in MediaConvert jobs is drawn apart from the role's own sessions unless both reach the same
//! actions on the same nodes; otherwise the job's way in would join the role's own reach into
//! a path no witness backs.
//!
//! Real accounts have hundreds of principals, so nodes of one kind with exactly the same
//! incoming and outgoing edges are drawn as one node ("3 users: alice, bob, carol"). Merging
//! such nodes never creates a path that was not there. Edges between the same two nodes are
//! drawn as one, labelled with every action, and a condition summary: the witness's context
//! values for the keys that the hop's policies test (`iam:PassedToService=...`,
//! `aws:SourceAccount=...`), so a trust policy without confused-deputy conditions is visibly
//! different from one with them.

use crate::graph::Edge as GraphEdge;
use crate::model::Model;
use crate::policy::pattern::Glob;
use crate::policy::Policy;
use crate::query::{Answer, Engine, Link, QueryError, Verdict};
use crate::service::mediaconvert;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Actions drawn when none are given: reading and writing objects, and the key uses that
/// reading and writing SSE-KMS objects need.
pub const DEFAULT_ACTIONS: [&str; 4] = [
    "s3:GetObject",
    "s3:PutObject",
    "kms:Decrypt",
    "kms:GenerateDataKey",
];

/// How many member names a grouped node lists before "+N more".
pub const MAX_LISTED_MEMBERS: usize = 5;

/// The longest condition summary on an edge, in `key=value` entries.
const MAX_CONDITION_ENTRIES: usize = 3;

/// What a picture covers.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Only paths to resources matching this pattern; `None` for every bucket and key.
    pub resource: Option<String>,
    /// The actions; empty for the defaults that fit the resource.
    pub actions: Vec<String>,
    /// Draw every bucket and key (of the snapshots, or that the pattern matches) even when
    /// there are more than [`MAX_UNNAMED_QUESTIONS`] questions to ask.
    pub all: bool,
}

/// The most `who-can` questions a picture asks unless told to ask all: each costs about a
/// second on an account of thousands of principals, and a picture of hundreds of buckets is not
/// one a reader can take in.
pub const MAX_UNNAMED_QUESTIONS: usize = 200;

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Principals outside the snapshots (other accounts, anonymous callers).
    Outside,
    User,
    Group,
    Role,
    /// A service acting with one role (MediaConvert jobs that run as it).
    Service,
    Bucket,
    Key,
    /// Any other resource, or a resource pattern an undecided answer is about.
    Resource,
}

impl NodeKind {
    fn word(self, plural: bool) -> &'static str {
        match (self, plural) {
            (NodeKind::Outside, _) => "outside",
            (NodeKind::User, false) => "user",
            (NodeKind::User, true) => "users",
            (NodeKind::Group, false) => "group",
            (NodeKind::Group, true) => "groups",
            (NodeKind::Role, false) => "role",
            (NodeKind::Role, true) => "roles",
            (NodeKind::Service, false) => "service",
            (NodeKind::Service, true) => "services",
            (NodeKind::Bucket, false) => "bucket",
            (NodeKind::Bucket, true) => "buckets",
            (NodeKind::Key, false) => "key",
            (NodeKind::Key, true) => "keys",
            (NodeKind::Resource, false) => "resource",
            (NodeKind::Resource, true) => "resources",
        }
    }

    /// Whether nodes of this kind may be merged with their look-alikes.
    fn groups(self) -> bool {
        !matches!(self, NodeKind::Outside | NodeKind::Service)
    }
}

/// One node of a picture: one principal, service or resource, or several alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// Stable: `kind:ARN` of the first member.
    pub id: String,
    pub kind: NodeKind,
    pub label: String,
    /// The ARNs (or names) the node stands for, sorted.
    pub members: Vec<String>,
}

/// One action an edge stands for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Hop {
    pub action: String,
    /// The witness's values for the context keys the hop's policies test; `None` when they
    /// test none.
    pub condition: Option<String>,
    pub verdict: HopVerdict,
}

/// Whether an edge's hop comes from a witness or from an undecided answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HopVerdict {
    /// A hop of a witness chain, replayed through the concrete evaluator.
    Reachable,
    /// The verifier could not decide whether the principal reaches the resource.
    Unknown,
}

/// One edge: every hop between two nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: String,
    pub hops: Vec<Hop>,
}

impl Edge {
    fn is_unknown(&self) -> bool {
        self.hops.iter().all(|h| h.verdict == HopVerdict::Unknown)
    }
}

/// A picture, sorted: nodes by kind then id, edges by endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagram {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// Why a picture cannot be drawn (exit code 2 at the CLI).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiagramError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("no default action for resources like {0:?}: give --action")]
    NoDefaultAction(String),
    #[error("{0} acts on no bucket or key of the snapshots: give --resource")]
    NeedsResource(String),
    #[error(
        "a picture of every bucket and key asks who-can {0} times, one question per action and \
         resource: name the resources with --resource, or draw them all with --all"
    )]
    TooBroad(usize),
    #[error(
        "{pattern} matches {buckets} buckets and keys of the snapshots, so its picture asks \
         who-can {questions} times, one question per action and resource: narrow the pattern, or \
         draw them all with --all"
    )]
    PatternTooBroad {
        pattern: String,
        buckets: usize,
        questions: usize,
    },
}

/// One `who-can` question of a picture, and the node its undecided answers point at.
struct Question {
    action: String,
    /// The resource patterns asked, each principal's best answer over them drawn: one, or a few
    /// when a bucket's part of a pattern is not one pattern (`*a*` on bucket `bb` is `bb/*a*`,
    /// on bucket `ab` it is `ab/*` or `ab/*a*`, which `ab/*` covers, so one again).
    patterns: Vec<String>,
    fallback: NodeRef,
}

/// A node before grouping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct NodeRef {
    kind: NodeKind,
    /// The ARN or name the node stands for.
    member: String,
    /// Where the node's name comes from when it is not the member (a service's role).
    via: Option<String>,
}

impl NodeRef {
    fn new(kind: NodeKind, member: &str) -> NodeRef {
        NodeRef {
            kind,
            member: member.to_string(),
            via: None,
        }
    }

    /// A role acting in MediaConvert jobs, which the engine keeps apart from the role's own
    /// sessions (see [`Drawing::settle_jobs`]).
    fn job(role: &str) -> NodeRef {
        NodeRef {
            kind: NodeKind::Role,
            member: role.to_string(),
            via: Some(JOB.to_string()),
        }
    }

    fn id(&self) -> String {
        let kind = self.kind.word(false);
        match &self.via {
            Some(via) => format!("{kind}:{}#{via}", self.member),
            None => format!("{kind}:{}", self.member),
        }
    }
}

/// What marks a role acting in MediaConvert jobs.
const JOB: &str = "job";

/// Draws the picture of `scope`.
pub fn build(engine: &Engine, scope: &Scope) -> Result<Diagram, DiagramError> {
    let model = engine.model;
    let questions = questions(model, scope)?;
    if !scope.all && questions.len() > MAX_UNNAMED_QUESTIONS {
        return Err(match &scope.resource {
            None => DiagramError::TooBroad(questions.len()),
            Some(pattern) => DiagramError::PatternTooBroad {
                pattern: pattern.clone(),
                buckets: questions
                    .iter()
                    .map(|q| &q.fallback)
                    .collect::<BTreeSet<_>>()
                    .len(),
                questions: questions.len(),
            },
        });
    }
    let mut drawing = Drawing::default();
    let context = crate::policy::Context::new();
    engine.progress.stage(
        &format!(
            "graph: who-can for {} resources and actions",
            questions.len()
        ),
        Some(questions.len() as u64),
    );
    for question in &questions {
        for (answer, pattern) in answers_of(engine, question, &context)? {
            drawing.add_answer(engine, &answer, question, pattern);
        }
        engine.progress.step();
    }
    if scope.resource.is_none() {
        drawing.add_memberships(engine);
    }
    let multi_account = model.accounts.len() > 1;
    Ok(drawing.finish(model, multi_account))
}

/// The questions of a scope, in a fixed order.
fn questions(model: &Model, scope: &Scope) -> Result<Vec<Question>, DiagramError> {
    let mut out = Vec::new();
    match &scope.resource {
        Some(pattern) => {
            let actions = if scope.actions.is_empty() {
                let service = pattern_service(pattern);
                let reference = crate::service::reference::bundled().ok();
                // Only the actions that can act on such resources (a bucket takes no
                // object action).
                let takes = |action: &str| {
                    reference.is_none_or(|r| {
                        r.action(action)
                            .is_none_or(|a| r.resource_may_match(a, pattern))
                    })
                };
                let fitting: Vec<String> = DEFAULT_ACTIONS
                    .iter()
                    .filter(|a| service.as_deref().is_none_or(|s| action_service(a) == s))
                    .filter(|a| takes(a))
                    .map(|a| a.to_string())
                    .collect();
                if fitting.is_empty() {
                    return Err(DiagramError::NoDefaultAction(pattern.clone()));
                }
                fitting
            } else {
                scope.actions.clone()
            };
            for action in actions {
                let matched = snapshot_questions(model, &action, pattern);
                if matched.is_empty() {
                    out.push(Question {
                        action,
                        patterns: vec![pattern.clone()],
                        fallback: NodeRef::new(NodeKind::Resource, pattern),
                    });
                } else {
                    out.extend(matched);
                }
            }
        }
        None => {
            let actions: Vec<String> = if scope.actions.is_empty() {
                DEFAULT_ACTIONS.iter().map(|a| a.to_string()).collect()
            } else {
                scope.actions.clone()
            };
            for action in actions {
                match action_service(&action).as_str() {
                    "s3" => {
                        let object = crate::query::targets::is_object_action(&action);
                        for bucket in model.buckets.values() {
                            let partition = partition_of(model, &bucket.account);
                            let arn = bucket.arn(&partition);
                            out.push(Question {
                                action: action.clone(),
                                patterns: vec![if object {
                                    format!("{arn}/*")
                                } else {
                                    arn.clone()
                                }],
                                fallback: NodeRef::new(NodeKind::Bucket, &arn),
                            });
                        }
                    }
                    "kms" => {
                        for key in model.keys.values() {
                            out.push(Question {
                                action: action.clone(),
                                patterns: vec![key.arn.clone()],
                                fallback: NodeRef::new(NodeKind::Key, &key.arn),
                            });
                        }
                    }
                    // Other services have no resources of their own in the snapshots: their
                    // pictures need a resource pattern.
                    _ => return Err(DiagramError::NeedsResource(action.clone())),
                }
            }
        }
    }
    Ok(out)
}

/// One question per bucket or key of the snapshots that `pattern` matches for `action`, about
/// that bucket's or key's part of the pattern only; empty when it matches none, or when the
/// action's service keeps no resources in the snapshots.
fn snapshot_questions(model: &Model, action: &str, pattern: &str) -> Vec<Question> {
    let glob = Glob::parse(pattern);
    match action_service(action).as_str() {
        "s3" => {
            let object = crate::query::targets::is_object_action(action);
            model
                .buckets
                .values()
                .filter_map(|bucket| {
                    let arn = bucket.arn(&partition_of(model, &bucket.account));
                    let patterns = if object {
                        object_patterns(&glob, &arn)
                    } else if glob.matches_arn(&arn) {
                        vec![arn.clone()]
                    } else {
                        Vec::new()
                    };
                    (!patterns.is_empty()).then(|| Question {
                        action: action.to_string(),
                        patterns,
                        fallback: NodeRef::new(NodeKind::Bucket, &arn),
                    })
                })
                .collect()
        }
        "kms" => model
            .keys
            .values()
            .filter(|key| glob.matches_arn(&key.arn))
            .map(|key| Question {
                action: action.to_string(),
                patterns: vec![key.arn.clone()],
                fallback: NodeRef::new(NodeKind::Key, &key.arn),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The objects of the bucket `bucket_arn` that `pattern` matches, as patterns of that bucket's
/// objects (`arn:aws:s3:::media-in/*` for `arn:aws:s3:::media-*`); empty when it matches none.
/// ARNs are matched segment by segment, as [`Glob::matches_arn`] matches them.
fn object_patterns(pattern: &Glob, bucket_arn: &str) -> Vec<String> {
    let prefix = format!("{bucket_arn}/");
    let rests = if pattern.is_match_all() {
        vec![Glob::parse("*")]
    } else {
        match pattern.arn_segments() {
            Some(segments) => {
                let values: Vec<&str> = bucket_arn.splitn(6, ':').collect();
                let same_bucket_arn = values.len() == 6
                    && segments[..5]
                        .iter()
                        .zip(&values[..5])
                        .all(|(segment, value)| segment.matches(value));
                if !same_bucket_arn {
                    return Vec::new();
                }
                segments[5].after_prefix(&format!("{}/", values[5]))
            }
            None => pattern.after_prefix(&prefix),
        }
    };
    // An object key is never empty.
    rests
        .into_iter()
        .filter(|rest| !rest.tokens().is_empty())
        .map(|rest| format!("{prefix}{}", rest.to_text()))
        .collect()
}

/// Each principal's answer to a question, with the pattern it answers: over several patterns,
/// a reachable answer with the shortest chain, else an undecided one.
fn answers_of<'q>(
    engine: &Engine,
    question: &'q Question,
    context: &crate::policy::Context,
) -> Result<Vec<(Answer, &'q str)>, QueryError> {
    let rank = |answer: &Answer| (answer.verdict != Verdict::Reachable, answer.chain.len());
    let mut best: BTreeMap<String, (Answer, &'q str)> = BTreeMap::new();
    for pattern in &question.patterns {
        for answer in engine.who_can_reporting(&question.action, pattern, context, false)? {
            let better = best
                .get(&answer.query.principal)
                .is_none_or(|(held, _)| rank(&answer) < rank(held));
            if better {
                best.insert(answer.query.principal.clone(), (answer, pattern));
            }
        }
    }
    Ok(best.into_values().collect())
}

fn action_service(action: &str) -> String {
    action
        .split_once(':')
        .map(|(s, _)| s)
        .unwrap_or(action)
        .to_ascii_lowercase()
}

/// The service an ARN pattern names, when it names one without wildcards.
fn pattern_service(pattern: &str) -> Option<String> {
    let service = pattern.split(':').nth(2)?;
    if service.is_empty() || service.contains(['*', '?']) {
        return None;
    }
    Some(service.to_ascii_lowercase())
}

fn partition_of(model: &Model, account: &str) -> String {
    model
        .account(account)
        .map(|a| a.partition.clone())
        .unwrap_or_else(|| "aws".into())
}

/// Nodes and edges before grouping.
#[derive(Default)]
struct Drawing {
    nodes: BTreeSet<NodeRef>,
    edges: BTreeMap<(NodeRef, NodeRef), BTreeSet<Hop>>,
}

impl Drawing {
    fn edge(&mut self, from: NodeRef, to: NodeRef, hop: Hop) {
        self.nodes.insert(from.clone());
        self.nodes.insert(to.clone());
        self.edges.entry((from, to)).or_default().insert(hop);
    }

    fn add_answer(&mut self, engine: &Engine, answer: &Answer, question: &Question, pattern: &str) {
        let model = engine.model;
        if answer.verdict != Verdict::Reachable {
            let from = principal_node(model, &answer.query.principal);
            let hop = Hop {
                action: question.action.clone(),
                condition: None,
                verdict: HopVerdict::Unknown,
            };
            self.edge(from, question.fallback.clone(), hop);
            return;
        }
        let chain = &answer.chain;
        let mut index = 0;
        while index < chain.len() {
            let link = &chain[index];
            let next = chain.get(index + 1);
            let from = principal_node(model, &link.principal);
            // A job submission and the role passed with it are one call: one edge to the
            // service that will act with the role.
            let submits = link.action.eq_ignore_ascii_case(mediaconvert::CREATE_JOB)
                && next.is_some_and(|n| {
                    n.action.eq_ignore_ascii_case("iam:PassRole") && n.principal == link.principal
                });
            let (links, action): (Vec<&Link>, String) = match next {
                Some(pass) if submits => (
                    vec![link, pass],
                    format!("{} + {}", link.action, pass.action),
                ),
                _ => (vec![link], link.action.clone()),
            };
            let last = links[links.len() - 1];
            let service_assumes = from.kind == NodeKind::Service
                && last.action.eq_ignore_ascii_case("sts:AssumeRole");
            let to = if service_assumes {
                NodeRef::job(&role_of(model, &last.resource))
            } else if submits {
                // Only a role passed with a job submission goes to MediaConvert; a PassRole
                // asked about on its own is drawn to the role it names.
                let role = role_of(model, &last.resource);
                NodeRef {
                    kind: NodeKind::Service,
                    member: mediaconvert::SERVICE.to_string(),
                    via: Some(role),
                }
            } else {
                resource_node(model, &last.resource, pattern)
            };
            // The service's hop starts from the service acting for that role.
            let assumes = link
                .action
                .to_ascii_lowercase()
                .starts_with("sts:assumerole");
            let from = if from.kind == NodeKind::Service && from.via.is_none() && !assumes {
                // A service a resource policy admits, acting on its own from outside.
                NodeRef::new(NodeKind::Outside, &format!("service:{}", from.member))
            } else if from.kind == NodeKind::Service && from.via.is_none() {
                NodeRef {
                    via: Some(role_of(model, &link.resource)),
                    ..from
                }
            } else {
                from
            };
            let entries: Vec<String> = links
                .iter()
                .flat_map(|l| condition_entries(engine, l))
                .collect();
            let hop = Hop {
                action,
                condition: summarize(entries),
                verdict: HopVerdict::Reachable,
            };
            self.edge(from, to, hop);
            index += links.len();
        }
    }

    /// The groups of the users drawn: membership is where most users' permissions come from.
    fn add_memberships(&mut self, engine: &Engine) {
        let graph = engine.graph.petgraph(engine.model);
        for edge in graph.edge_indices() {
            if graph[edge] != GraphEdge::MemberOf {
                continue;
            }
            let Some((user, group)) = graph.edge_endpoints(edge) else {
                continue;
            };
            let user = NodeRef::new(NodeKind::User, graph[user].arn());
            if !self.nodes.contains(&user) {
                continue;
            }
            let group = NodeRef::new(NodeKind::Group, graph[group].arn());
            let hop = Hop {
                action: "member of".into(),
                condition: None,
                verdict: HopVerdict::Reachable,
            };
            self.edge(user, group, hop);
        }
    }

    /// A job acts with its role but the engine reaches it as a separate actor: it makes only
    /// what a job makes, under the service's session. Drawing both as one role node would join
    /// the job's way in to the role's own reach (or the reverse) into a path no witness backs,
    /// so they are one node only when they reach the same actions on the same nodes.
    fn settle_jobs(&mut self) {
        let reach = |edges: &BTreeMap<(NodeRef, NodeRef), BTreeSet<Hop>>, node: &NodeRef| {
            edges
                .iter()
                .filter(|((from, _), _)| from == node)
                .flat_map(|((_, to), hops)| {
                    hops.iter().map(move |h| (to.clone(), h.action.clone()))
                })
                .collect::<BTreeSet<_>>()
        };
        let jobs: Vec<NodeRef> = self
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Role && n.via.is_some())
            .cloned()
            .collect();
        for job in jobs {
            let own = NodeRef::new(NodeKind::Role, &job.member);
            let alike =
                !self.nodes.contains(&own) || reach(&self.edges, &job) == reach(&self.edges, &own);
            if !alike {
                continue;
            }
            self.nodes.remove(&job);
            self.nodes.insert(own.clone());
            let rename = |n: NodeRef| if n == job { own.clone() } else { n };
            let old = std::mem::take(&mut self.edges);
            for ((from, to), hops) in old {
                self.edges
                    .entry((rename(from), rename(to)))
                    .or_default()
                    .extend(hops);
            }
        }
    }

    fn finish(mut self, model: &Model, multi_account: bool) -> Diagram {
        self.settle_jobs();
        let mut nodes: BTreeMap<String, Node> = self
            .nodes
            .iter()
            .map(|n| {
                let node = Node {
                    id: n.id(),
                    kind: n.kind,
                    label: String::new(),
                    members: vec![n.member.clone()],
                };
                (node.id.clone(), node)
            })
            .collect();
        let names: BTreeMap<String, String> = self
            .nodes
            .iter()
            .map(|n| (n.id(), short_name(model, n, multi_account)))
            .collect();
        let mut edges: BTreeMap<(String, String), BTreeSet<Hop>> = BTreeMap::new();
        for ((from, to), hops) in self.edges {
            edges.entry((from.id(), to.id())).or_default().extend(hops);
        }
        // Each merge can make the merged nodes' neighbours alike in turn.
        let mut member_names: BTreeMap<String, Vec<String>> = names
            .iter()
            .map(|(id, name)| (id.clone(), vec![name.clone()]))
            .collect();
        while merge_alike(&mut nodes, &mut edges, &mut member_names) {}
        for node in nodes.values_mut() {
            node.label = label(node, &member_names[&node.id]);
        }
        let mut nodes: Vec<Node> = nodes.into_values().collect();
        nodes.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
        let mut edges: Vec<Edge> = edges
            .into_iter()
            .map(|((from, to), hops)| {
                let hops: Vec<Hop> = hops.into_iter().collect();
                Edge {
                    from,
                    to,
                    label: edge_label(&hops),
                    hops,
                }
            })
            .collect();
        // Edges in the order of their nodes, so that the text reads from principals to
        // resources.
        let order: BTreeMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), i))
            .collect();
        edges.sort_by_key(|e| (order[e.from.as_str()], order[e.to.as_str()]));
        Diagram { nodes, edges }
    }
}

/// Merges the nodes of one kind whose incoming and outgoing edges are the same; whether any
/// were merged.
fn merge_alike(
    nodes: &mut BTreeMap<String, Node>,
    edges: &mut BTreeMap<(String, String), BTreeSet<Hop>>,
    names: &mut BTreeMap<String, Vec<String>>,
) -> bool {
    type Signature = (NodeKind, Vec<(String, Vec<Hop>)>, Vec<(String, Vec<Hop>)>);
    // One pass over the edges: comparing each node with every edge would be quadratic on
    // accounts with thousands of principals.
    let mut outgoing: BTreeMap<&str, Vec<(String, Vec<Hop>)>> = BTreeMap::new();
    let mut incoming: BTreeMap<&str, Vec<(String, Vec<Hop>)>> = BTreeMap::new();
    for ((from, to), hops) in edges.iter() {
        let hops: Vec<Hop> = hops.iter().cloned().collect();
        outgoing
            .entry(from)
            .or_default()
            .push((to.clone(), hops.clone()));
        incoming.entry(to).or_default().push((from.clone(), hops));
    }
    let mut alike: BTreeMap<Signature, Vec<String>> = BTreeMap::new();
    for node in nodes.values().filter(|n| n.kind.groups()) {
        let id = node.id.as_str();
        let signature = (
            node.kind,
            outgoing.remove(id).unwrap_or_default(),
            incoming.remove(id).unwrap_or_default(),
        );
        alike.entry(signature).or_default().push(node.id.clone());
    }
    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    for ids in alike.into_values().filter(|ids| ids.len() > 1) {
        let keep = ids[0].clone();
        for id in &ids[1..] {
            renamed.insert(id.clone(), keep.clone());
            if let Some(gone) = nodes.remove(id) {
                if let Some(kept) = nodes.get_mut(&keep) {
                    kept.members.extend(gone.members);
                    kept.members.sort();
                }
            }
            let gone_names = names.remove(id).unwrap_or_default();
            if let Some(kept) = names.get_mut(&keep) {
                kept.extend(gone_names);
                kept.sort();
            }
        }
    }
    if renamed.is_empty() {
        return false;
    }
    let rename = |id: String| renamed.get(&id).cloned().unwrap_or(id);
    let old = std::mem::take(edges);
    for ((from, to), hops) in old {
        edges
            .entry((rename(from), rename(to)))
            .or_default()
            .extend(hops);
    }
    true
}

/// The node acting as `principal` in a witness link.
fn principal_node(model: &Model, principal: &str) -> NodeRef {
    if principal.eq_ignore_ascii_case(mediaconvert::SERVICE) {
        return NodeRef::new(NodeKind::Service, mediaconvert::SERVICE);
    }
    // A service a technique hands a role to (lambda.amazonaws.com).
    if !principal.starts_with("arn:") && principal.ends_with(".amazonaws.com") {
        return NodeRef::new(NodeKind::Service, principal);
    }
    if model.users.contains_key(principal) {
        return NodeRef::new(NodeKind::User, principal);
    }
    if model.roles.contains_key(principal) {
        return NodeRef::new(NodeKind::Role, principal);
    }
    if let Some(role) = session_role(model, principal) {
        let session = principal.rsplit('/').next().unwrap_or_default();
        if session == mediaconvert::SESSION_NAME {
            return NodeRef::job(&role);
        }
        return NodeRef::new(NodeKind::Role, &role);
    }
    // An identity provider stands for its tokens: name it, as who-can does.
    if crate::eval::principal::is_provider_arn(principal)
        || crate::eval::principal::BUILT_IN_PROVIDERS.contains(&principal)
    {
        return NodeRef::new(
            NodeKind::Outside,
            &crate::query::outside::provider_id(principal),
        );
    }
    NodeRef::new(NodeKind::Outside, "*")
}

/// The role of the model whose session `arn` is (`arn:aws:sts::A:assumed-role/NAME/SESSION`).
fn session_role(model: &Model, arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (account, rest) = (parts.get(4)?, parts.get(5)?);
    let name = rest.strip_prefix("assumed-role/")?.split('/').next()?;
    model
        .roles
        .values()
        .find(|r| r.account == *account && r.name == name)
        .map(|r| r.arn.clone())
}

/// A role ARN as the model spells it (a role passed or assumed is always one of the model's).
fn role_of(model: &Model, arn: &str) -> String {
    if model.roles.contains_key(arn) {
        return arn.to_string();
    }
    session_role(model, arn).unwrap_or_else(|| arn.to_string())
}

/// The node of a resource a witness acts on: its bucket or key when the snapshots hold it.
fn resource_node(model: &Model, resource: &str, pattern: &str) -> NodeRef {
    if model.roles.contains_key(resource) {
        return NodeRef::new(NodeKind::Role, resource);
    }
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    match parts.get(2).copied() {
        Some("s3") => {
            let partition = parts.get(1).copied().unwrap_or("aws");
            let bucket = parts
                .get(5)
                .and_then(|rest| rest.split('/').next())
                .unwrap_or_default();
            let in_snapshot = model.buckets.contains_key(bucket);
            // Outside the snapshots the witness's bucket name is the solver's choice, not a
            // real bucket, unless the pattern names it.
            let named = pattern
                .strip_prefix(&format!("arn:{partition}:s3:::{bucket}"))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
            if in_snapshot || named {
                NodeRef::new(NodeKind::Bucket, &format!("arn:{partition}:s3:::{bucket}"))
            } else {
                NodeRef::new(NodeKind::Bucket, "*")
            }
        }
        Some("kms") => {
            if model.keys.values().any(|k| k.arn == resource) || resource == pattern {
                NodeRef::new(NodeKind::Key, resource)
            } else {
                NodeRef::new(NodeKind::Key, "*")
            }
        }
        // The witness's resource is one the solver picked; the pattern is what was asked.
        _ => NodeRef::new(NodeKind::Resource, pattern),
    }
}

/// A node's name inside its label.
fn short_name(model: &Model, node: &NodeRef, multi_account: bool) -> String {
    let member = &node.member;
    let (name, account) = match node.kind {
        NodeKind::Outside if member.starts_with("service:") => {
            return format!("{} (from outside)", member.replacen(':', " ", 1));
        }
        NodeKind::Outside if member != "*" => return format!("tokens of {member}"),
        NodeKind::Outside => return "principals outside the snapshots".into(),
        NodeKind::Service => {
            let role = node.via.as_deref().unwrap_or_default();
            let name = model
                .roles
                .get(role)
                .map(|r| r.name.clone())
                .unwrap_or_else(|| role.to_string());
            return format!("MediaConvert job\nas {name}");
        }
        NodeKind::User => (
            model
                .users
                .get(member)
                .map(|u| (u.name.clone(), u.account.clone())),
            None,
        ),
        NodeKind::Group => (
            model
                .groups
                .get(member)
                .map(|g| (g.name.clone(), g.account.clone())),
            None,
        ),
        NodeKind::Role => (
            model.roles.get(member).map(|r| {
                let name = match node.via {
                    Some(_) => format!("{}\nin MediaConvert jobs", r.name),
                    None => r.name.clone(),
                };
                (name, r.account.clone())
            }),
            None,
        ),
        NodeKind::Bucket if member == "*" => return "outside the snapshots".into(),
        NodeKind::Bucket => {
            let name = member.rsplit(':').next().unwrap_or(member).to_string();
            match model.buckets.get(&name) {
                Some(b) => (Some((name, b.account.clone())), None),
                None => return format!("{name} (in no snapshot)"),
            }
        }
        NodeKind::Key if member == "*" => return "outside the snapshots".into(),
        NodeKind::Key => match model.keys.values().find(|k| k.arn == *member) {
            Some(k) => {
                let name = k.aliases.first().cloned().unwrap_or_else(|| k.id.clone());
                (Some((name, k.account.clone())), None)
            }
            None => (None, Some(member.clone())),
        },
        NodeKind::Resource => (None, Some(member.clone())),
    };
    match (name, account) {
        (Some((name, account)), _) if multi_account => format!("{name} ({account})"),
        (Some((name, _)), _) => name,
        (None, Some(text)) => text,
        (None, None) => member.clone(),
    }
}

fn label(node: &Node, names: &[String]) -> String {
    match node.kind {
        NodeKind::Outside | NodeKind::Service => names.join(", "),
        _ if names.len() == 1 => format!("{} {}", node.kind.word(false), names[0]),
        kind => {
            let listed: Vec<&str> = names
                .iter()
                .take(MAX_LISTED_MEMBERS)
                .map(String::as_str)
                .collect();
            let more = names.len().saturating_sub(MAX_LISTED_MEMBERS);
            let tail = if more > 0 {
                format!(", +{more} more")
            } else {
                String::new()
            };
            format!(
                "{} {}: {}{tail}",
                names.len(),
                kind.word(true),
                listed.join(", ")
            )
        }
    }
}

/// An edge's label: its actions, one line per distinct condition summary.
fn edge_label(hops: &[Hop]) -> String {
    let mut by_condition: BTreeMap<(Option<&str>, HopVerdict), Vec<&str>> = BTreeMap::new();
    for hop in hops {
        by_condition
            .entry((hop.condition.as_deref(), hop.verdict))
            .or_default()
            .push(&hop.action);
    }
    let mut lines = Vec::new();
    for ((condition, verdict), actions) in by_condition {
        let mut line = actions.join(", ");
        if verdict == HopVerdict::Unknown {
            line.push_str(" (unknown)");
        }
        lines.push(line);
        if let Some(condition) = condition {
            lines.push(format!("with {condition}"));
        }
    }
    lines.join("\n")
}

/// The context entries of a witness link whose keys the link's policies test.
fn condition_entries(engine: &Engine, link: &Link) -> Vec<String> {
    let Some(context) = link.context.as_object() else {
        return Vec::new();
    };
    if context.is_empty() {
        return Vec::new();
    }
    let tested = tested_keys(engine, link);
    context
        .iter()
        .filter(|(key, _)| tested.contains(&key.to_ascii_lowercase()))
        .map(|(key, value)| match value {
            serde_json::Value::String(text) => format!("{key}={text}"),
            serde_json::Value::Array(items) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| i.to_string())
                    })
                    .collect();
                format!("{key}=[{}]", items.join(","))
            }
            other => format!("{key}={other}"),
        })
        .collect()
}

fn summarize(mut entries: Vec<String>) -> Option<String> {
    entries.dedup();
    if entries.is_empty() {
        return None;
    }
    let more = entries.len().saturating_sub(MAX_CONDITION_ENTRIES);
    let mut text = entries
        .into_iter()
        .take(MAX_CONDITION_ENTRIES)
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        text.push_str(&format!(", +{more} more"));
    }
    Some(text)
}

/// The condition keys (lower case) of the policies that decide a link: the caller's own, the
/// resource's policy and the resource account's RCPs.
fn tested_keys(engine: &Engine, link: &Link) -> BTreeSet<String> {
    let model = engine.model;
    let mut policies: Vec<std::sync::Arc<Policy>> = Vec::new();
    let caller = match principal_node(model, &link.principal) {
        NodeRef {
            kind: NodeKind::User | NodeKind::Role,
            member,
            ..
        } => Some(member),
        _ => None,
    };
    if let Some(caller) = caller {
        let set = engine.policy_set(&caller);
        policies.extend(
            set.identity
                .iter()
                .chain(&set.boundaries)
                .chain(&set.session)
                .chain(set.scps.iter().flatten())
                .map(|p| p.policy.clone()),
        );
    }
    let resource = &link.resource;
    let mut account = crate::model::arn_account(resource).map(str::to_string);
    if let Some(role) = model.roles.get(resource) {
        if link.action.eq_ignore_ascii_case("sts:AssumeRole") {
            policies.push(role.trust_policy.clone());
        }
    } else if let Some(bucket) = resource.split_once(":s3:::").and_then(|(_, rest)| {
        model
            .buckets
            .get(rest.split('/').next().unwrap_or_default())
    }) {
        policies.extend(bucket.policy.clone());
        account = Some(bucket.account.clone());
    } else if let Some(key) = model.keys.values().find(|k| k.arn == *resource) {
        policies.extend(key.policy.clone());
    }
    if let Some(found) = account.as_deref().and_then(|a| model.account(a)) {
        policies.extend(
            found
                .rcp_levels()
                .into_iter()
                .flatten()
                .map(|p| p.policy.clone()),
        );
    }
    policies
        .iter()
        .flat_map(|p| &p.statements)
        .flat_map(|s| &s.conditions)
        .map(|c| c.key.to_ascii_lowercase())
        .collect()
}

impl Diagram {
    /// Whether some answer behind the picture is `unknown`.
    pub fn has_unknown(&self) -> bool {
        self.edges
            .iter()
            .any(|e| e.hops.iter().any(|h| h.verdict == HopVerdict::Unknown))
    }

    /// Short ids for the dot and Mermaid text, in node order.
    fn short_ids(&self) -> BTreeMap<&str, String> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), format!("n{}", i + 1)))
            .collect()
    }

    /// Graphviz dot: `dot -Tsvg` draws it left to right.
    pub fn to_dot(&self) -> String {
        let ids = self.short_ids();
        let mut out = String::from("digraph delegation {\n");
        out.push_str("  rankdir=LR;\n");
        out.push_str("  node [fontname=\"Helvetica\", fontsize=10, style=filled];\n");
        out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
        for node in &self.nodes {
            let (shape, color) = match node.kind {
                NodeKind::Outside => ("doublecircle", "#f4cccc"),
                NodeKind::User => ("box", "#cfe2f3"),
                NodeKind::Group => ("folder", "#d9ead3"),
                NodeKind::Role => ("ellipse", "#fff2cc"),
                NodeKind::Service => ("hexagon", "#ead1dc"),
                NodeKind::Bucket => ("cylinder", "#d0e0e3"),
                NodeKind::Key => ("component", "#fce5cd"),
                NodeKind::Resource => ("note", "#eeeeee"),
            };
            out.push_str(&format!(
                "  {} [label=\"{}\", shape={shape}, fillcolor=\"{color}\"];\n",
                ids[node.id.as_str()],
                dot_escape(&node.label)
            ));
        }
        for edge in &self.edges {
            let style = if edge.is_unknown() {
                ", style=dashed"
            } else {
                ""
            };
            out.push_str(&format!(
                "  {} -> {} [label=\"{}\"{style}];\n",
                ids[edge.from.as_str()],
                ids[edge.to.as_str()],
                dot_escape(&edge.label)
            ));
        }
        out.push_str("}\n");
        out
    }

    /// Mermaid `flowchart LR`, for Markdown that renders Mermaid.
    pub fn to_mermaid(&self) -> String {
        let ids = self.short_ids();
        let mut out = String::from("flowchart LR\n");
        for node in &self.nodes {
            let label = mermaid_escape(&node.label);
            let (open, close) = match node.kind {
                NodeKind::Outside => ("((", "))"),
                NodeKind::User => ("[", "]"),
                NodeKind::Group => ("[[", "]]"),
                NodeKind::Role => ("(", ")"),
                NodeKind::Service => ("{{", "}}"),
                NodeKind::Bucket => ("[(", ")]"),
                NodeKind::Key => ("[/", "/]"),
                NodeKind::Resource => (">", "]"),
            };
            out.push_str(&format!(
                "  {}{open}\"{label}\"{close}\n",
                ids[node.id.as_str()]
            ));
        }
        for edge in &self.edges {
            let arrow = if edge.is_unknown() { "-.->" } else { "-->" };
            out.push_str(&format!(
                "  {} {arrow}|\"{}\"| {}\n",
                ids[edge.from.as_str()],
                mermaid_escape(&edge.label),
                ids[edge.to.as_str()]
            ));
        }
        out
    }

    /// `{"nodes": [...], "edges": [...]}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Text inside a dot double-quoted string: quotes and backslashes escaped (so an ARN's or a
/// name's backslash is not read as a dot escape such as `\N`), line breaks as `\n`.
pub fn dot_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Text inside a Mermaid quoted label: Mermaid has no backslash escapes, only HTML-like
/// entity codes, and it reads markup in labels, so quotes and angle brackets become entities
/// and line breaks `<br/>`.
pub fn mermaid_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            '\n' => out.push_str("<br/>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_labels_keep_quotes_backslashes_and_lines() {
        assert_eq!(dot_escape("a \"b\" \\N\nc"), "a \\\"b\\\" \\\\N\\nc");
        assert_eq!(
            dot_escape("arn:aws:iam::111122223333:role/x[1]"),
            "arn:aws:iam::111122223333:role/x[1]"
        );
    }

    #[test]
    fn mermaid_labels_use_entities() {
        assert_eq!(
            mermaid_escape("say \"hi\" <b> #1 | x\ny"),
            "say #quot;hi#quot; #lt;b#gt; #35;1 #124; x<br/>y"
        );
    }

    #[test]
    fn grouped_labels_cap_the_names() {
        let node = Node {
            id: "user:a".into(),
            kind: NodeKind::User,
            label: String::new(),
            members: Vec::new(),
        };
        let names: Vec<String> = (1..=7).map(|i| format!("u{i}")).collect();
        assert_eq!(label(&node, &names), "7 users: u1, u2, u3, u4, u5, +2 more");
        assert_eq!(label(&node, &names[..1]), "user u1");
    }

    #[test]
    fn default_actions_follow_the_pattern_service() {
        let model = Model::default();
        let scope = Scope {
            resource: Some("arn:aws:kms:us-east-1:111122223333:key/*".into()),
            actions: Vec::new(),
            all: false,
        };
        let actions: Vec<String> = questions(&model, &scope)
            .unwrap()
            .into_iter()
            .map(|q| q.action)
            .collect();
        assert_eq!(actions, ["kms:Decrypt", "kms:GenerateDataKey"]);
        let scope = Scope {
            resource: Some("arn:aws:execute-api:us-east-1:111122223333:abc/*".into()),
            actions: Vec::new(),
            all: false,
        };
        assert!(matches!(
            questions(&model, &scope),
            Err(DiagramError::NoDefaultAction(_))
        ));
    }
}
