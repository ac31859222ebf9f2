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
}

impl From<&MatchedStatement> for AllowedBy {
    fn from(m: &MatchedStatement) -> AllowedBy {
        AllowedBy {
            policy: m.policy.clone(),
            statement: m.statement.clone(),
            index: m.index,
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
}

/// A question that cannot be asked of this model (exit code 2 at the CLI).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("principal {0} is not a user or role of the loaded snapshots")]
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
    pub graph: DelegationGraph,
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
    pub(crate) solutions: std::cell::RefCell<std::collections::HashMap<String, chain::SolveResult>>,
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
}

impl<'m> Engine<'m> {
    pub fn new(model: &'m Model, options: Options) -> Engine<'m> {
        Engine {
            model,
            graph: DelegationGraph::build(model),
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
        }
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

    fn check_question(&self, question: &Question) -> Result<(), QueryError> {
        check_request(&question.action, &question.resource)?;
        if self.model.principal_type(&question.principal).is_none() {
            return Err(QueryError::UnknownPrincipal(question.principal.clone()));
        }
        Ok(())
    }

    /// Answers one question without explaining a refutation (for `who-can`, which leaves out
    /// the principals that cannot).
    pub fn can_quietly(&self, question: &Question) -> Result<Answer, QueryError> {
        let question = &self.resolved(question)?;
        self.check_question(question)?;
        let pattern = Glob::parse(&question.resource);
        Ok(chain::Search::new(self, question, &pattern)
            .without_explanations()
            .run(None))
    }

    /// Answers one question.
    pub fn can(&self, question: &Question) -> Result<Answer, QueryError> {
        let question = &self.resolved(question)?;
        self.check_question(question)?;
        let pattern = Glob::parse(&question.resource);
        Ok(chain::Search::new(self, question, &pattern).run(None))
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

impl Engine<'_> {
    /// The principal side of `actor`'s requests (identity policies, boundary, SCPs); an empty
    /// set for a principal outside the snapshots, whose account root stands for whatever that
    /// account may grant itself.
    pub fn policy_set(&self, actor: &str) -> std::rc::Rc<crate::eval::PolicySet> {
        if let Some(set) = self.policy_sets.borrow().get(actor) {
            return set.clone();
        }
        let set = std::rc::Rc::new(
            self.model
                .effective_policies(actor)
                .map(|e| e.policy_set())
                .unwrap_or_default(),
        );
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
        let mut out = Vec::new();
        let principals: Vec<&String> = self
            .model
            .users
            .keys()
            .chain(self.model.roles.keys())
            .collect();
        if report {
            self.progress.stage(
                &format!("who-can {action} on {resource}"),
                Some(principals.len() as u64),
            );
        }
        for principal in principals {
            let question = Question {
                principal: principal.clone(),
                action: action.into(),
                resource: resource.into(),
                context: context.clone(),
            };
            let answer = self.can_quietly(&question)?;
            if report {
                self.progress.step();
            }
            if answer.verdict != Verdict::Unreachable {
                out.push(answer);
            }
        }
        out.sort_by(|a, b| a.query.principal.cmp(&b.query.principal));
        for file in &self.model.truncated {
            out.push(Answer {
                verdict: Verdict::Unknown,
                query: QueryEcho {
                    principal: format!("principals missing from {file}"),
                    action: action.into(),
                    resource: resource.into(),
                },
                chain: Vec::new(),
                assumptions: Vec::new(),
                reason: Some(format!(
                    "{file} is truncated (IsTruncated: true): the principals it leaves out are not known"
                )),
            });
        }
        if let Some(mut outside) = self.outsiders_can(action, resource, context) {
            outside.query.principal = "*".into();
            out.push(outside);
        }
        Ok(out)
    }

    /// Whether some principal outside the snapshots (anonymous, or any account the snapshots do
    /// not hold) can, directly or by assuming a role of the model whose trust admits it.
    pub fn outsiders_can(&self, action: &str, resource: &str, context: &Context) -> Option<Answer> {
        let pattern = Glob::parse(resource);
        let mut unknown = None;
        for outsider in self.outsider_principals() {
            let question = Question {
                principal: outsider.clone(),
                action: action.into(),
                resource: resource.into(),
                context: context.clone(),
            };
            let caller = crate::eval::Principal::parse(&outsider)?;
            // Assuming a role takes signed credentials: anonymous callers act only directly,
            // and not at all when the question is itself such a call.
            let may_assume = !matches!(caller, crate::eval::Principal::Anonymous);
            if !may_assume && needs_credentials(action) {
                continue;
            }
            let first_steps: Vec<crate::graph::Step> = self
                .model
                .roles
                .values()
                .filter(|role| may_assume && crate::graph::trust_admits(role, &caller))
                .map(|role| crate::graph::Step::AssumeRole {
                    role: role.arn.clone(),
                })
                .collect();
            let answer = chain::Search::new(self, &question, &pattern).run(Some(first_steps));
            if answer.verdict == Verdict::Reachable {
                return Some(answer);
            }
            if answer.verdict == Verdict::Unknown && unknown.is_none() {
                unknown = Some(answer);
            }
        }
        unknown
    }

    /// Anonymous callers, a stand-in account outside the snapshots, and every account that a
    /// policy of the model names but no snapshot holds.
    fn outsider_principals(&self) -> Vec<String> {
        let known: std::collections::BTreeSet<&str> =
            self.model.accounts.iter().map(|a| a.id.as_str()).collect();
        let mut accounts = std::collections::BTreeSet::from([targets::OUTSIDE_ACCOUNT.to_string()]);
        let policies = self
            .model
            .roles
            .values()
            .map(|r| &r.trust_policy)
            .chain(
                self.model
                    .buckets
                    .values()
                    .filter_map(|b| b.policy.as_ref()),
            )
            .chain(self.model.keys.values().filter_map(|k| k.policy.as_ref()));
        for policy in policies {
            for statement in &policy.statements {
                if let Some(crate::policy::PrincipalElement {
                    set: crate::policy::PrincipalSet::Entries(entries),
                    ..
                }) = &statement.principal
                {
                    for entry in entries
                        .iter()
                        .filter(|e| e.kind == crate::policy::PrincipalKind::Aws)
                    {
                        let account = if entry.value.len() == 12 {
                            Some(entry.value.as_str())
                        } else {
                            crate::model::arn_account(&entry.value)
                        };
                        if let Some(account) =
                            account.filter(|a| a.len() == 12 && !known.contains(a))
                        {
                            accounts.insert(account.to_string());
                        }
                    }
                }
            }
        }
        let mut out = vec!["anonymous".to_string()];
        out.extend(
            accounts
                .into_iter()
                .map(|a| format!("arn:aws:iam::{a}:root")),
        );
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
