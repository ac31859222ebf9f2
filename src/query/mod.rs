//! Questions in, verdicts and witnesses out: `can`, `who-can` and `prove`.
//!
//! The graph proposes chains, the solver decides them. For one principal, every chain of the
//! delegation graph (the principal itself, roles it may assume, roles it may pass to
//! MediaConvert) is combined with every place the resource may be; each combination is one
//! solver query whose hops share the context of one API call. The first satisfiable
//! combination, shortest chain first, is the witness; it is replayed hop by hop through the
//! concrete evaluator before it is reported. When none is satisfiable the answer is
//! `unreachable`, unless something the model does not cover (an unresolved policy, an
//! unsupported construct, a solver timeout) could have changed that, which makes it `unknown`.

pub mod baseline;
pub mod chain;
pub mod edits;
mod memo;
pub mod outside;
pub mod prove;
pub mod sessions;
pub mod targets;

use crate::eval::{evaluate, MatchedStatement};
use crate::graph::DelegationGraph;
use crate::model::Model;
use crate::policy::pattern::Glob;
use crate::policy::Context;
use serde::{Deserialize, Serialize};

/// How long the solver may think about one chain.
pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;

/// One question: can `principal` cause `action` on some resource matching `resource`?
#[derive(Debug, Clone)]
pub struct Question {
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// Context keys the user fixed with `--context`; every other free key is the solver's.
    pub context: Context,
}

/// The three answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Reachable,
    Unreachable,
    Unknown,
}

/// A statement a hop of a witness rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedBy {
    pub policy: String,
    /// The statement's `Sid`, or its position when it has none.
    pub statement: String,
    /// Its position in the policy: a `Sid` may read like another statement's position. The
    /// reports leave it out; the report of a `prove --shard` run carries it, and it is read
    /// back from there ([`crate::shard`]).
    #[serde(skip_serializing, default)]
    pub index: usize,
    /// The resource of a plan or template that declares the policy, when one does. The
    /// reports leave it out; SARIF places the statement there, and the report of a
    /// `prove --shard` run carries it for the merge.
    #[serde(skip_serializing, default)]
    pub origin: Option<crate::model::Origin>,
}

impl From<&MatchedStatement> for AllowedBy {
    fn from(m: &MatchedStatement) -> AllowedBy {
        AllowedBy {
            policy: m.policy.clone(),
            statement: m.statement.clone(),
            index: m.index,
            origin: None,
        }
    }
}

/// One request of a witness chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub context: serde_json::Value,
    pub allowed_by: Vec<AllowedBy>,
    /// What the request changes or starts, for the hops of an escalation: the policy an
    /// attacker writes, the role a new function runs as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
}

/// The query as the answer echoes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryEcho {
    pub principal: String,
    pub action: String,
    pub resource: String,
}

/// The answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub verdict: Verdict,
    pub query: QueryEcho,
    pub chain: Vec<Link>,
    pub assumptions: Vec<String>,
    pub reason: Option<String>,
    /// For a caller from outside the account: whom it stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outside: Option<String>,
}

impl QueryEcho {
    /// The question as its answer echoes it.
    pub(crate) fn of(question: &Question) -> QueryEcho {
        QueryEcho {
            principal: question.principal.clone(),
            action: question.action.clone(),
            resource: question.resource.clone(),
        }
    }
}

impl Answer {
    /// An answer with no witness: why the question is refuted or left open.
    pub(crate) fn without_chain(query: QueryEcho, verdict: Verdict, reason: String) -> Answer {
        Answer {
            verdict,
            query,
            chain: Vec::new(),
            assumptions: Vec::new(),
            reason: Some(reason),
            outside: None,
        }
    }
}

/// A question that cannot be asked of this model (exit code 2 at the CLI).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("principal {0} is not a user or role of the loaded snapshots, nor a caller from outside the account their policies name (anonymous, account:*, an account root or principal ARN, oidc:HOST, saml:NAME, service:NAME)")]
    UnknownPrincipal(String),
    #[error("action {0:?} is not service:Action (wildcards are not supported in --action)")]
    BadAction(String),
    #[error("context {0:?} is not KEY=VALUE")]
    BadContext(String),
    #[error("action {action} is defined by no AWS service{}", did_you_mean(.suggestion))]
    UnknownAction {
        action: String,
        suggestion: Option<String>,
    },
    #[error("resource {0:?} is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE) or *")]
    NotAnArn(String),
    #[error(
        "{action} never acts on {resource}: no resource type it takes can match it ({})",
        .resource_types.join("; ")
    )]
    ResourceNotTaken {
        action: String,
        resource: String,
        /// Each resource type the action takes, with its ARN formats.
        resource_types: Vec<String>,
    },
    #[error("{0} is a KMS alias that names no key of the snapshots (kms/aliases.json and kms/<key>/key.json); give the key's ARN")]
    UnresolvedAlias(String),
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!("; did you mean {s}?"))
        .unwrap_or_default()
}

/// Options of the engine.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub timeout_ms: u32,
    /// The longest chain of steps explored; `None` explores every chain (the visited set ends
    /// cycles). A chain cut short by this bound makes a refutation `unknown`.
    pub max_steps: Option<usize>,
    /// The instant of every question (`--at`); else the time the snapshots were collected,
    /// else the time of the run.
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    /// Which ways of becoming another principal the search tries.
    pub scope: Scope,
    /// How many threads `who-can` spreads its principals over (each with its own engine and
    /// solver); the answers are the same whatever the number.
    pub threads: usize,
    /// Whether a search may skip the actors an earlier search of the same question proved
    /// can go nowhere (see [`chain::Search`]); the answers are the same either way, and
    /// tests compare them.
    pub share_refutations: bool,
    /// Whether a search solves the edits of the account a round meets when the round ends,
    /// those that bear on the principal first (see [`chain::Search`]); the answers are the
    /// same either way, and tests compare them.
    pub defer_edits: bool,
}

/// Which ways of becoming another principal a question covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every technique of [`crate::service::technique`]: escalations included.
    #[default]
    All,
    /// The account as configured: groups, role assumption, and the services that run jobs
    /// with roles they are given (MediaConvert); no edit of the account, no code of the
    /// actor's running as a role.
    Configured,
}

impl Scope {
    /// Parses `all` or `configured`.
    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "all" => Some(Scope::All),
            "configured" => Some(Scope::Configured),
            _ => None,
        }
    }

    pub fn is_all(&self) -> bool {
        *self == Scope::All
    }

    /// Whether a technique is searched in this scope.
    pub fn admits(&self, technique: &crate::service::technique::Technique) -> bool {
        self.is_all() || technique.is_configured_chain()
    }

    pub fn name(&self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::Configured => "configured",
        }
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout_ms: DEFAULT_TIMEOUT_MS,
            max_steps: None,
            at: None,
            scope: Scope::All,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            share_refutations: true,
            defer_edits: true,
        }
    }
}

impl Options {
    /// The default options with a solver timeout.
    pub fn with_timeout(timeout_ms: u32) -> Options {
        Options {
            timeout_ms,
            ..Options::default()
        }
    }
}

/// `(actor, edits, action, pattern, target)`, the question [`Engine::may_grant`] answers.
type GrantQuestion = (String, String, String, String, String);

/// Targets by `(action, pattern, actor account)`.
type TargetMemo =
    std::collections::HashMap<(String, String, String), std::rc::Rc<Vec<targets::Target>>>;

/// The engine over one model: the graph is built once and shared by all questions.
pub struct Engine<'m> {
    pub model: &'m Model,
    /// Shared with the engines of other threads of one `who-can` ([`Engine::spread`]).
    pub graph: std::sync::Arc<DelegationGraph>,
    pub options: Options,
    /// Each principal's side of its requests, computed once per run.
    policy_sets:
        std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<crate::eval::PolicySet>>>,
    /// Whether an actor's own policies, or a target's resource policy, may grant the action at
    /// all: `(actor, edits, action, pattern, target)` to the answer.
    may_grant: std::cell::RefCell<std::collections::HashMap<GrantQuestion, bool>>,
    /// The places a resource pattern may be: `(action, pattern, actor account)` to targets.
    pub(crate) targets: std::cell::RefCell<TargetMemo>,
    /// Solved steps and final requests, shared by the questions of one run.
    pub(crate) solutions: std::cell::RefCell<memo::Solutions>,
    /// Who watches long runs (`who-can`, proof files).
    pub(crate) progress: &'m dyn crate::progress::Progress,
    /// The `kms:ViaService` values witnesses show where a policy lets them through.
    pub(crate) via_service_endpoints: std::sync::Arc<[String]>,
    /// The instant every hop of every question is made at.
    pub clock: crate::context_model::Clock,
    /// The session names the model's policies mention, gathered on first use.
    session_names: std::cell::OnceCell<sessions::SessionNames>,
    /// Whether a policy of the model reads the time, found on first use.
    reads_time: std::cell::OnceCell<bool>,
    /// The scope of the questions asked now: the options', or a proof's own.
    scope: std::cell::Cell<Scope>,
    /// The callers from outside the account, found on first use.
    outside_callers: std::cell::OnceCell<Vec<outside::OutsideCaller>>,
    /// The accounts a service may act for, found on first use ([`Engine::accounts_named`]).
    accounts_named: std::cell::OnceCell<Vec<String>>,
    /// Actors from which a question (by the key of its search) is proved unreachable.
    pub(crate) dead_ends: std::cell::RefCell<
        std::collections::HashMap<String, std::collections::HashSet<chain::ReachedActor>>,
    >,
    /// A short name for each set of edits the memo keys were told for (by its fingerprint):
    /// a principal that may edit every policy makes sets of thousands of edits, too long to
    /// repeat in every key.
    pub(crate) edit_sets:
        std::cell::RefCell<std::collections::HashMap<std::sync::Arc<str>, String>>,
}

impl<'m> Engine<'m> {
    pub fn new(model: &'m Model, options: Options) -> Engine<'m> {
        Engine::with_graph(model, options, DelegationGraph::build(model).into())
    }

    /// An engine over a graph already built for `model`.
    fn with_graph(
        model: &'m Model,
        options: Options,
        graph: std::sync::Arc<DelegationGraph>,
    ) -> Engine<'m> {
        Engine {
            model,
            graph,
            options,
            policy_sets: Default::default(),
            may_grant: Default::default(),
            solutions: Default::default(),
            targets: Default::default(),
            progress: &crate::progress::Silent,
            via_service_endpoints: via_service_endpoints(model),
            clock: crate::context_model::Clock::of(options.at, model.collected_at()),
            session_names: Default::default(),
            reads_time: Default::default(),
            scope: std::cell::Cell::new(options.scope),
            outside_callers: Default::default(),
            accounts_named: Default::default(),
            dead_ends: Default::default(),
            edit_sets: Default::default(),
        }
    }

    /// The short name of a set of edits, by its fingerprint: the same name for the same
    /// edits, and a name no other set of edits has had in this process.
    pub(crate) fn edit_set_name(&self, fingerprint: &std::sync::Arc<str>) -> String {
        // Named from one count for the whole process: the engines of a `who-can`'s threads
        // hand their solutions to one another, so a name must mean one set of edits in all.
        static NAMED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        self.edit_sets
            .borrow_mut()
            .entry(fingerprint.clone())
            .or_insert_with(|| {
                let next = NAMED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                format!("edits#{next}")
            })
            .clone()
    }

    /// The scope of the questions asked now.
    pub fn scope(&self) -> Scope {
        self.scope.get()
    }

    /// Runs `ask` with questions scoped to `scope`, then restores the engine's scope.
    pub fn scoped<T>(&self, scope: Scope, ask: impl FnOnce() -> T) -> T {
        let before = self.scope.replace(scope);
        let out = ask();
        self.scope.set(before);
        out
    }

    /// Whether a policy of the model tests `aws:CurrentTime` or `aws:EpochTime`: then
    /// answers say which instant they are about.
    pub(crate) fn reads_time(&self) -> bool {
        *self.reads_time.get_or_init(|| {
            self.model.all_policies().iter().any(|policy| {
                policy
                    .statements
                    .iter()
                    .flat_map(|s| &s.conditions)
                    .any(|c| crate::context_model::Clock::is_clock_key(&c.key))
            })
        })
    }

    /// The callers from outside the account ([`outside::callers`]).
    pub(crate) fn outside_callers(&self) -> &[outside::OutsideCaller] {
        self.outside_callers
            .get_or_init(|| outside::callers(self.model))
    }

    /// The session names the model's policies mention.
    pub(crate) fn session_names(&self) -> &sessions::SessionNames {
        self.session_names
            .get_or_init(|| sessions::SessionNames::of(self.model))
    }

    /// The engine, reporting the progress of long runs to `progress`.
    pub fn with_progress(mut self, progress: &'m dyn crate::progress::Progress) -> Engine<'m> {
        self.progress = progress;
        self
    }

    /// A KMS question about an alias ARN is a question about the key it names: KMS
    /// authorizes the key ("Using aliases in KMS", https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html).
    fn resolve_alias(&self, action: &str, resource: &str) -> Result<String, QueryError> {
        let is_kms = action.to_ascii_lowercase().starts_with("kms:");
        if !is_kms || !resource.contains(":alias/") || resource.contains(['*', '?']) {
            return Ok(resource.to_string());
        }
        self.model
            .resolve_key(resource, "", "")
            .map(|key| key.arn.clone())
            .ok_or_else(|| QueryError::UnresolvedAlias(resource.to_string()))
    }

    /// The question with a KMS alias replaced by the key it names.
    fn resolved(&self, question: &Question) -> Result<Question, QueryError> {
        Ok(Question {
            resource: self.resolve_alias(&question.action, &question.resource)?,
            ..question.clone()
        })
    }

    /// Checks the question; `Some` outside caller when its principal is one, not a user or
    /// role of the model.
    fn check_question(
        &self,
        question: &Question,
    ) -> Result<Option<outside::OutsideCaller>, QueryError> {
        check_request(&question.action, &question.resource)?;
        if self.model.principal_type(&question.principal).is_some() {
            return Ok(None);
        }
        outside::find(self.outside_callers(), &question.principal)
            .cloned()
            .or_else(|| outside::of_another_account(self.model, &question.principal))
            .map(Some)
            .ok_or_else(|| QueryError::UnknownPrincipal(question.principal.clone()))
    }

    /// Answers one question without explaining a refutation (for `who-can`, which leaves out
    /// the principals that cannot).
    pub fn can_quietly(&self, question: &Question) -> Result<Answer, QueryError> {
        self.answer(question, false)
    }

    /// Answers one question.
    pub fn can(&self, question: &Question) -> Result<Answer, QueryError> {
        self.answer(question, true)
    }

    fn answer(&self, question: &Question, explain: bool) -> Result<Answer, QueryError> {
        let question = &self.resolved(question)?;
        if let Some(caller) = self.check_question(question)? {
            let (action, resource) = (&question.action, &question.resource);
            return Ok(self.outside_answer(&caller, action, resource, &question.context, explain));
        }
        let pattern = Glob::parse(&question.resource);
        if let Some(answer) = self.resource_unmodelled(question, &pattern) {
            return Ok(answer);
        }
        let search = chain::Search::new(self, question, &pattern);
        Ok(if explain {
            search
        } else {
            search.without_explanations()
        }
        .run(None))
    }
}

impl Engine<'_> {
    /// The places a question's resource may be, for an actor of `account`: told once per
    /// question and account, as every actor a search reaches asks.
    pub(crate) fn places(
        &self,
        question: &Question,
        pattern: &Glob,
        account: &str,
        partition: &str,
    ) -> std::rc::Rc<Vec<targets::Target>> {
        let key = (
            question.action.clone(),
            question.resource.clone(),
            account.to_string(),
        );
        if let Some(hit) = self.targets.borrow().get(&key) {
            return hit.clone();
        }
        let found = std::rc::Rc::new(targets::targets(
            self.model,
            &question.action,
            pattern,
            account,
            partition,
        ));
        self.targets.borrow_mut().insert(key, found.clone());
        found
    }

    /// `unknown` for a resource some resource type of the action matches but no place of the
    /// model stands for (an S3 access point, say): no request on it is ever tried, so a
    /// search would prove nothing. Roles are the exception: their places are complete.
    fn resource_unmodelled(&self, question: &Question, pattern: &Glob) -> Option<Answer> {
        // A snapshot lists every role of its account: no role there to assume is a proof.
        let action = question.action.to_ascii_lowercase();
        if crate::eval::TRUST_ACTIONS.contains(&action.as_str()) {
            return None;
        }
        let account = crate::model::arn_account(&question.principal).unwrap_or_default();
        let partition = crate::model::arn_partition(&question.principal).unwrap_or("aws");
        if !self
            .places(question, pattern, account, partition)
            .is_empty()
        {
            return None;
        }
        let reason = format!(
            "{} on {} is on no resource iamproof models (it models buckets and objects, keys, roles and APIs of the snapshots, and a stand-in for those outside them)",
            question.action, question.resource
        );
        Some(Answer::without_chain(
            QueryEcho::of(question),
            Verdict::Unknown,
            reason,
        ))
    }
}

/// Rejects a question whose answer would be vacuous: an action that is not `service:Action`
/// or that no service defines (the AWS service authorization reference, [`reference`]), a
/// resource that is not an ARN or `*`, or one that no resource type of the action can match
/// (`s3:PutObject` on a bucket). Nobody can do those, whatever the policies say, so an
/// `unreachable` would prove nothing. Should the bundled reference be unreadable, only the
/// form of the action is checked.
///
/// [`reference`]: crate::service::reference
fn check_request(action: &str, resource: &str) -> Result<(), QueryError> {
    if action.contains('*')
        || action.contains('?')
        || action
            .split_once(':')
            .is_none_or(|(s, a)| s.is_empty() || a.is_empty())
    {
        return Err(QueryError::BadAction(action.to_string()));
    }
    let Ok(reference) = crate::service::reference::bundled() else {
        return Ok(());
    };
    let Some(defined) = reference.action(action) else {
        return Err(QueryError::UnknownAction {
            action: action.to_string(),
            suggestion: reference.suggest_action(action),
        });
    };
    let any_arn = Glob::parse("arn:*:*:*:*:*");
    if !crate::smt::encode::arn_globs_intersect(&any_arn, &Glob::parse(resource)) {
        return Err(QueryError::NotAnArn(resource.to_string()));
    }
    if !reference.resource_may_match(defined, resource) {
        let resource_types = defined
            .resource_types
            .iter()
            .map(|taken| {
                let formats = reference
                    .resource_type(defined, &taken.name)
                    .map(|t| t.arn_formats.join(" or "))
                    .unwrap_or_default();
                format!("{} ({formats})", taken.name)
            })
            .collect();
        return Err(QueryError::ResourceNotTaken {
            action: defined.full_name(),
            resource: resource.to_string(),
            resource_types,
        });
    }
    Ok(())
}

impl<'m> Engine<'m> {
    /// The principal side of `actor`'s requests (identity policies, boundary, SCPs). A
    /// principal outside the snapshots has what its account may grant it: nothing needed for
    /// an account root, everything for another of its principals (its account's policies are
    /// unknown; the answer says so).
    pub fn policy_set(&self, actor: &str) -> std::rc::Rc<crate::eval::PolicySet> {
        if let Some(set) = self.policy_sets.borrow().get(actor) {
            return set.clone();
        }
        let set = std::rc::Rc::new(match self.model.effective_policies(actor) {
            Some(effective) => effective.policy_set(),
            None => outside_policy_set(self.model, actor),
        });
        self.policy_sets
            .borrow_mut()
            .insert(actor.to_string(), set.clone());
        set
    }

    /// Whether the last hop of a chain could be allowed under some context: an identity Allow
    /// of the actor covers the action on resources the pattern may match, or the target's
    /// resource policy has an Allow of the action for the caller. Without either, no context
    /// allows the hop, so the solver need not be asked.
    /// `policies` are the actor's, as the edits named `edits` leave them.
    #[allow(clippy::too_many_arguments)]
    pub fn may_grant(
        &self,
        actor: &str,
        policies: &crate::eval::PolicySet,
        edits: &str,
        caller: &crate::eval::Principal,
        action: &str,
        pattern: &Glob,
        target: &targets::Target,
    ) -> bool {
        let key = (
            actor.to_string(),
            edits.to_string(),
            action.to_string(),
            pattern.to_text(),
            target.label.clone(),
        );
        if let Some(&known) = self.may_grant.borrow().get(&key) {
            return known;
        }
        // The variables the principal settles (`aws:username`, its tags) resolve here; the
        // others leave a pattern open.
        let mut known = chain::principal_context(self.model, actor, caller);
        // The answer is shared by every session of the actor, whose names differ.
        known.remove("aws:userid");
        // A session's tags are its caller's choice where the trust policy allows tagging.
        if let Some(role) = self.model.roles.get(actor) {
            if sessions::allows_tagging(&role.trust_policy) {
                let tag_keys: Vec<String> = known
                    .iter()
                    .map(|(key, _)| key.to_string())
                    .filter(|key| key.to_ascii_lowercase().starts_with("aws:principaltag/"))
                    .collect();
                for key in tag_keys {
                    known.remove(&key);
                }
            }
        }
        let is_root = matches!(caller, crate::eval::Principal::Aws(p) if p.kind == crate::eval::AwsPrincipalKind::Root);
        let identity = is_root
            || policies
                .identity
                .iter()
                .flat_map(|p| &p.policy.statements)
                .any(|s| {
                    s.effect == crate::policy::Effect::Allow
                        && s.action.covers(action)
                        && match &s.resource {
                            None => true,
                            Some(element) => {
                                element.negated
                                    || element.patterns.iter().any(|t| {
                                        match t.resolve_glob(&known) {
                                            Some(glob) => crate::smt::encode::arn_globs_intersect(
                                                &glob, pattern,
                                            ),
                                            // A variable the principal does not settle: it may match.
                                            None => t.has_variables(),
                                        }
                                    })
                            }
                        }
                });
        let resource = target.resource_policy.as_ref().is_some_and(|p| {
            p.policy.statements.iter().any(|s| {
                s.effect == crate::policy::Effect::Allow
                    && s.action.covers(action)
                    && crate::eval::principal_applies(
                        s,
                        caller,
                        crate::eval::PrincipalRule::Required,
                        false,
                    )
                    .is_some()
            })
        });
        let answer = identity || resource;
        self.may_grant.borrow_mut().insert(key, answer);
        answer
    }

    /// Every user and role of the model that can, each with its shortest chain, then `*` when
    /// principals outside the snapshots can. Sorted by ARN; unreachable principals are left out.
    pub fn who_can(
        &self,
        action: &str,
        resource: &str,
        context: &Context,
    ) -> Result<Vec<Answer>, QueryError> {
        self.who_can_reporting(action, resource, context, true)
    }

    /// `who-can`, reporting its progress as a stage of its own or (inside a larger run such as
    /// a proof file) not at all.
    pub(crate) fn who_can_reporting(
        &self,
        action: &str,
        resource: &str,
        context: &Context,
        report: bool,
    ) -> Result<Vec<Answer>, QueryError> {
        let resource = &self.resolve_alias(action, resource)?;
        check_request(action, resource)?;
        // Roles are asked first: users reach roles far more often than roles reach users, and
        // a role proved unable to do it is a dead end the users' searches then skip. The
        // answers do not depend on the order, and are sorted by principal below.
        let principals: Vec<&String> = self
            .model
            .roles
            .keys()
            .chain(self.model.users.keys())
            .collect();
        if report {
            self.progress.stage(
                &format!("who-can {action} on {resource}"),
                Some(principals.len() as u64),
            );
        }
        let ask = |engine: &Engine, principals: &[&String], report: bool| {
            let mut out = Vec::new();
            for principal in principals {
                let question = Question {
                    principal: (*principal).clone(),
                    action: action.into(),
                    resource: resource.into(),
                    context: context.clone(),
                };
                let answer = engine.can_quietly(&question)?;
                if report {
                    engine.progress.step();
                }
                if answer.verdict != Verdict::Unreachable {
                    out.push(answer);
                }
            }
            Ok::<_, QueryError>(out)
        };
        let out = self.spread(&principals, report, ask);
        // The actors proved dead ends and the final requests solved serve only this
        // question's principals: a sweep asks hundreds of questions of one engine.
        self.dead_ends.borrow_mut().clear();
        self.solutions.borrow_mut().forget_finals();
        let mut out = out?;
        out.sort_by(|a, b| a.query.principal.cmp(&b.query.principal));
        for file in &self.model.truncated {
            let query = QueryEcho {
                principal: format!("principals missing from {file}"),
                action: action.into(),
                resource: resource.into(),
            };
            let reason = format!(
                "{file} is truncated (IsTruncated: true): the principals it leaves out are not known"
            );
            out.push(Answer::without_chain(query, Verdict::Unknown, reason));
        }
        for caller in self.outside_callers() {
            let answer = self.outside_answer(caller, action, resource, context, false);
            if answer.verdict != Verdict::Unreachable {
                out.push(answer);
            }
        }
        Ok(out)
    }

    /// Runs `ask` over `principals` on this engine and, when the options allow more threads and
    /// there are enough principals to pay for another engine, over trailing shares of them on
    /// engines of their own, one thread each. The answers come back in the order of
    /// `principals`, as one engine would give them: each answer depends only on its question.
    fn spread<T: Send>(
        &self,
        principals: &[&String],
        report: bool,
        ask: impl Fn(&Engine, &[&String], bool) -> Result<Vec<T>, QueryError> + Sync,
    ) -> Result<Vec<T>, QueryError> {
        /// Fewer principals per thread than this are not worth a second graph.
        const SHARE: usize = 64;
        let threads = self
            .options
            .threads
            .clamp(1, (principals.len() / SHARE).max(1));
        if threads == 1 {
            return ask(self, principals, report);
        }
        let size = principals.len().div_ceil(threads);
        let mut shares = principals.chunks(size);
        let own = shares.next().unwrap_or_default();
        let scope = self.scope();
        let (model, options) = (self.model, self.options);
        let graph = &self.graph;
        let solved = self.solutions.borrow_mut().share();
        // One instant for every thread: without a collection time, each engine would read its
        // own "now", and the memo they share would mix two.
        let clock = self.clock;
        let names = self.edit_sets.borrow().clone();
        let (out, others) = std::thread::scope(|s| {
            let handles: Vec<_> = shares
                .map(|share| {
                    let (ask, solved, names) = (&ask, solved.clone(), names.clone());
                    s.spawn(move || {
                        let mut engine = Engine::with_graph(model, options, graph.clone());
                        engine.solutions = memo::Solutions::inheriting(solved).into();
                        engine.clock = clock;
                        engine.edit_sets = names.into();
                        let out = engine.scoped(scope, || ask(&engine, share, false));
                        let names = engine.edit_sets.take();
                        (out, engine.solutions.into_inner().into_own(), names)
                    })
                })
                .collect();
            drop(solved);
            let out = ask(self, own, report);
            let others: Vec<_> = handles
                .into_iter()
                .map(|h| h.join().expect("a who-can thread does not panic"))
                .collect();
            (out, others)
        });
        let mut out = out?;
        for ((other, solved, names), share) in
            others.into_iter().zip(principals.chunks(size).skip(1))
        {
            self.solutions.borrow_mut().adopt(solved);
            let mut known = self.edit_sets.borrow_mut();
            for (fingerprint, name) in names {
                known.entry(fingerprint).or_insert(name);
            }
            drop(known);
            out.extend(other?);
            if report {
                share.iter().for_each(|_| self.progress.step());
            }
        }
        Ok(out)
    }

    /// Whether an outside caller can: directly, or by assuming a role of the model whose trust
    /// admits it (with `sts:AssumeRole`, or a provider's token or assertion). The answer is
    /// named by the caller's id and says whom it stands for.
    pub fn outside_answer(
        &self,
        caller: &outside::OutsideCaller,
        action: &str,
        resource: &str,
        context: &Context,
        explain: bool,
    ) -> Answer {
        let question = Question {
            principal: caller.principal.clone(),
            action: action.into(),
            resource: resource.into(),
            context: context.clone(),
        };
        let pattern = Glob::parse(resource);
        let search = || {
            let search = chain::Search::new(self, &question, &pattern);
            if explain {
                search
            } else {
                search.without_explanations()
            }
        };
        let mut answer = match &caller.kind {
            outside::OutsideKind::Service(_) => self.service_answer(search),
            // Assuming a role takes signed credentials: anonymous callers never do.
            outside::OutsideKind::Anonymous if needs_credentials(action) => {
                unsigned_refusal(&question)
            }
            _ => search().run(Some(self.first_steps(caller))),
        };
        for link in &mut answer.chain {
            link.allowed_by.retain(|a| {
                a.policy != chain::SOURCE_POLICY
                    && a.policy != chain::PRINCIPAL_POLICY
                    && !a.policy.starts_with(chain::AUDIENCE_POLICY)
            });
        }
        if answer.verdict == Verdict::Reachable {
            if let Some(missing) = self.unregistered(caller) {
                answer.assumptions.insert(0, missing);
            }
            answer.outside = Some(self.describe_outside(caller, &answer));
            if let outside::OutsideKind::Named(arn) | outside::OutsideKind::Account(arn) =
                &caller.kind
            {
                let account = crate::model::arn_account(arn).unwrap_or(arn);
                answer.assumptions.insert(
                    0,
                    format!("account {account} is not in the snapshots: its own policies are taken to allow its principal's requests"),
                );
            }
        } else {
            answer.outside = Some(caller.describe());
        }
        answer.query.principal = caller.id.clone();
        answer
    }

    /// A service admitted by a resource policy: first acting for a resource of a stranger's
    /// account in no organization (then any account that can point the service at the
    /// resource can), then for a resource of each account the snapshots hold or a policy
    /// names, then of an account of whichever organization the policies need.
    fn service_answer<'s>(&'s self, search: impl Fn() -> chain::Search<'s, 'm>) -> Answer {
        use chain::SourceOrganization;
        let stranger = search()
            .acting_for(targets::OUTSIDE_ACCOUNT, SourceOrganization::None)
            .run(Some(Vec::new()));
        if stranger.verdict != Verdict::Unreachable {
            return stranger;
        }
        let mut unknown = None;
        let named = self.accounts_named().iter().map(|account| {
            let organization = match self.model.account(account) {
                Some(known) => known
                    .organization
                    .as_ref()
                    .and_then(|o| o.id.clone())
                    .map_or(SourceOrganization::Any, SourceOrganization::Known),
                None => SourceOrganization::Any,
            };
            (account.as_str(), organization)
        });
        let member = (targets::OUTSIDE_ACCOUNT, SourceOrganization::Any);
        for (account, organization) in named.chain([member]) {
            let answer = search()
                .acting_for(account, organization)
                .run(Some(Vec::new()));
            match answer.verdict {
                Verdict::Reachable => return answer,
                Verdict::Unknown if unknown.is_none() => unknown = Some(answer),
                _ => {}
            }
        }
        unknown.unwrap_or(stranger)
    }

    /// The roles an outside caller may start from: those whose trust admits it to
    /// `sts:AssumeRole`, or to the provider's call for a provider; none for anonymous callers,
    /// who sign nothing, nor for services.
    fn first_steps(&self, caller: &outside::OutsideCaller) -> Vec<crate::graph::Step> {
        let Some(principal) = crate::eval::Principal::parse(&caller.principal) else {
            return Vec::new();
        };
        let assume = match &principal {
            crate::eval::Principal::Anonymous | crate::eval::Principal::Service(_) => {
                return Vec::new()
            }
            crate::eval::Principal::Federated(provider) => chain::federated_action(provider),
            crate::eval::Principal::Aws(_) => "sts:AssumeRole",
        };
        self.model
            .roles
            .values()
            .filter(|role| crate::graph::trust_admits_to(role, &principal, assume))
            .map(|role| crate::graph::Step::AssumeRole {
                role: role.arn.as_str().into(),
            })
            .collect()
    }

    /// For a provider the snapshot of its account lists no such provider: STS refuses its
    /// tokens until one is created, which the answer assumes.
    fn unregistered(&self, caller: &outside::OutsideCaller) -> Option<String> {
        let outside::OutsideKind::Provider(provider) = &caller.kind else {
            return None;
        };
        let account = crate::model::arn_account(provider)?;
        let listed = self.model.provider_listings.contains(account);
        (listed && !self.model.identity_providers.contains_key(provider)).then(|| {
            format!("{provider} is not among the identity providers the snapshot of account {account} records; the answer assumes it is created")
        })
    }

    /// Every account the snapshots hold or a policy names, sorted; read once per engine, as
    /// every service row of every question asks.
    fn accounts_named(&self) -> &[String] {
        self.accounts_named
            .get_or_init(|| self.read_accounts_named())
    }

    fn read_accounts_named(&self) -> Vec<String> {
        let mut accounts: std::collections::BTreeSet<String> =
            self.model.accounts.iter().map(|a| a.id.clone()).collect();
        for caller in self.outside_callers() {
            if let outside::OutsideKind::Account(a) = &caller.kind {
                accounts.insert(a.clone());
            }
        }
        for policy in self.model.all_policies() {
            for statement in &policy.statements {
                for condition in &statement.conditions {
                    for value in &condition.values {
                        accounts.extend(outside::account_in(value.raw()).map(str::to_string));
                    }
                }
            }
        }
        accounts.into_iter().collect()
    }

    /// Whom a reachable outside row stands for: the class, and for a provider the claims its
    /// trust policy tests; for a service, whose resources it acts for.
    fn describe_outside(&self, caller: &outside::OutsideCaller, answer: &Answer) -> String {
        let first = answer.chain.first();
        match &caller.kind {
            outside::OutsideKind::Provider(_) => {
                let claims = first
                    .map(|link| self.claims_tested(link))
                    .unwrap_or_default();
                let subject = if claims
                    .iter()
                    .any(|c| c.contains(":sub ") || c.starts_with("sub "))
                {
                    ""
                } else {
                    ", for any subject: the trust policy does not test sub"
                };
                if claims.is_empty() {
                    format!(
                        "{}, whatever its claims (the trust policy tests none)",
                        caller.describe()
                    )
                } else {
                    format!(
                        "{} whose {}{subject}",
                        caller.describe(),
                        claims.join(" and ")
                    )
                }
            }
            outside::OutsideKind::Service(service) => {
                let source = first
                    .and_then(|link| link.context.get("aws:SourceAccount"))
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                let organization = first.and_then(|link| link.context.get("aws:SourceOrgID"));
                if source == targets::OUTSIDE_ACCOUNT && organization.is_some() {
                    format!("{service} acting for a resource of any account of the organization the policy names (aws:SourceOrgID)")
                } else if source == targets::OUTSIDE_ACCOUNT {
                    format!("{service} acting for a resource of any AWS account: the policy does not pin aws:SourceAccount, aws:SourceArn or aws:SourceOrgID to the account's own (a confused deputy)")
                } else if self.model.account(source).is_some() {
                    format!(
                        "{service} acting for a resource of account {source}, the account's own"
                    )
                } else {
                    format!("{service} acting for a resource of account {source}")
                }
            }
            _ => caller.describe(),
        }
    }

    /// The conditions on the provider's claims of the trust statement a federated first hop
    /// rests on, as `KEY OPERATOR VALUES`.
    fn claims_tested(&self, link: &Link) -> Vec<String> {
        let Some(role) = self.model.roles.get(&link.resource) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for allowed in &link.allowed_by {
            let Some(statement) = role.trust_policy.statements.get(allowed.index) else {
                continue;
            };
            for condition in &statement.conditions {
                let key = condition.key.to_ascii_lowercase();
                if !crate::context_model::classify(
                    &key,
                    &crate::context_model::Origin::Own,
                    &link.action,
                )
                .is_free()
                    || key.starts_with("aws:")
                {
                    continue;
                }
                let values: Vec<String> = condition
                    .values
                    .iter()
                    .map(|v| v.raw().to_string())
                    .collect();
                out.push(format!(
                    "{} {} {}",
                    condition.key,
                    condition.operator.name(),
                    values.join(" or ")
                ));
            }
        }
        out
    }
}

/// Replays a chain of requests through the concrete evaluator: every hop must be allowed.
pub fn replay(
    requests: &[(crate::eval::Request, crate::eval::PolicySet)],
) -> Result<Vec<Vec<AllowedBy>>, String> {
    requests
        .iter()
        .enumerate()
        .map(|(i, (request, policies))| {
            let evaluation = evaluate(request, policies);
            if evaluation.decision == crate::eval::Decision::Allowed {
                Ok(evaluation.allowed_by.iter().map(AllowedBy::from).collect())
            } else {
                Err(format!(
                    "hop {} ({} {} on {}) replays as {:?}: {}",
                    i + 1,
                    request.principal.to_text(),
                    request.action,
                    request.resource,
                    evaluation.decision,
                    evaluation.reason
                ))
            }
        })
        .collect()
}

/// S3 endpoints for `kms:ViaService` witnesses: those of the snapshots' regions first, then of
/// other regions, for a region of values that excludes the snapshots' own.
fn via_service_endpoints(model: &Model) -> std::sync::Arc<[String]> {
    const OTHER_REGIONS: [&str; 6] = [
        "us-east-1",
        "us-west-2",
        "eu-west-1",
        "eu-central-1",
        "ap-southeast-1",
        "ap-northeast-1",
    ];
    let mut seen = std::collections::BTreeSet::new();
    model
        .accounts
        .iter()
        .map(|a| a.region.as_str())
        .chain(OTHER_REGIONS)
        .filter(|region| seen.insert(*region))
        .map(|region| format!("s3.{region}.amazonaws.com"))
        .collect()
}

/// What a principal of an account no snapshot holds may be granted by its own account.
fn outside_policy_set(model: &Model, actor: &str) -> crate::eval::PolicySet {
    let account = crate::model::arn_account(actor).unwrap_or_default();
    let is_root = crate::eval::principal::names_account(actor, account);
    if is_root || model.account(account).is_some() || !crate::model::is_account_id(account) {
        return crate::eval::PolicySet::default();
    }
    crate::eval::PolicySet {
        identity: vec![crate::eval::NamedPolicy {
            name: format!("the policies of account {account} (not in the snapshots)"),
            policy: edits::allow_all(),
        }],
        ..crate::eval::PolicySet::default()
    }
}

/// The answer for an unsigned call of an action that only signed requests make.
fn unsigned_refusal(question: &Question) -> Answer {
    let reason = format!("{} takes a signed request", question.action);
    Answer::without_chain(QueryEcho::of(question), Verdict::Unreachable, reason)
}

/// Trust actions that only signed requests make (`AssumeRoleWithSAML` and
/// `AssumeRoleWithWebIdentity` are the unsigned ones).
fn needs_credentials(action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    crate::eval::TRUST_ACTIONS.contains(&action.as_str())
        && !matches!(
            action.as_str(),
            "sts:assumerolewithsaml" | "sts:assumerolewithwebidentity"
        )
}

/// Parses `KEY=VALUE` pairs of `--context`; a value in brackets, `[a,b]`, is a set.
pub fn parse_context(pairs: &[String]) -> Result<Context, QueryError> {
    let mut context = Context::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| QueryError::BadContext(pair.clone()))?;
        if key.is_empty() {
            return Err(QueryError::BadContext(pair.clone()));
        }
        let value = match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            Some(list) => crate::policy::ContextValue::Multi(
                list.split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.trim().to_string())
                    .collect(),
            ),
            None => crate::policy::ContextValue::Single(value.to_string()),
        };
        context.insert(key, value);
    }
    Ok(context)
}
