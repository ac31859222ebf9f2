//! The search for one question: from the principal, breadth first over the actors it can
//! become (sessions of roles it may assume, with each name and tags the policies tell apart;
//! jobs of roles it may pass to MediaConvert), each step decided by the solver on its own hops;
//! at every actor reached, the question's action is tried against every place the resource may
//! be. Every hop carries the request context AWS would set for a call of its origin
//! ([`crate::context_model`]). Hops of different API calls share no free value, so an actor
//! (a role with its session) reached once is reached for good and each step is solved once;
//! the visited set ends cycles, so chains of any length are searched. A witness is replayed hop
//! by hop through the concrete evaluator before it is reported; a refutation is explained by
//! the hop that blocks the path that got furthest, and what the search does not try makes it
//! `unknown`.
//!
//! The work is done as late as the answer allows: an actor's steps are taken, and each step
//! solved, only when the queue comes to it (a chain found earlier leaves the rest untouched);
//! steps are memoized on the engine without the question's action and resource, so questions
//! about other resources share them; and a search that proves its question unreachable records
//! every actor it reached, which later searches of the same question skip.

use super::targets::Target;

use super::edits::Edits;
use super::sessions::Session;
use super::{replay, Answer, Engine, Link, QueryEcho, Question, Verdict};
use crate::context_model::{self, Origin};
use crate::eval::{NamedPolicy, PolicySet, Principal, Request};
use crate::graph::{acting_principal, Step, ASSUMED_SESSION_NAME};
use crate::model::{Model, PrincipalType};
use crate::policy::pattern::Glob;
use crate::policy::{Context, ContextValue};
use crate::service::technique::{self, Edit, Gain, On, Technique};
use crate::smt::encode::{Hop, KeyFreedom, Problem, Term};
use crate::smt::formula::{Formula, Slot, ABSENT};
use crate::smt::solve::{Outcome, Solver};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

mod deferred_edits;

/// Keys that describe where a request comes from: a `--context` value for them describes the
/// principal's own calls, not the calls a service makes later on its behalf.
const ORIGIN_KEYS: [&str; 5] = [
    "aws:sourceip",
    "aws:vpcsourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:securetransport",
];

/// A hop under construction.
struct PlannedHop {
    hop: Hop,
    /// Whether the resource is the question's resource variable.
    is_target: bool,
    /// For a KMS check that only some writes make: when it is made.
    guard: Option<KeyUse>,
    /// Why the service refuses the request whatever the policies say (a disabled key).
    refused: Option<String>,
}

/// A write whose KMS checks are being planned.
struct KeyWrite<'a> {
    state: &'a Reached,
    caller: &'a Principal,
    bucket: &'a crate::model::Bucket,
    target: &'a Target,
    /// The bucket's region: S3's endpoint, `kms:ViaService`.
    region: &'a str,
    origin: &'a Origin,
}

/// When an S3 write uses a KMS key: the header names it, or the bucket's default names it and
/// the header does not override it.
#[derive(Debug, Clone)]
struct KeyUse {
    /// Strings by which the header may name the key.
    names: Vec<String>,
    /// Whether the bucket's default encryption uses this key.
    is_default: bool,
}

/// The service that forwards a writer's credentials to KMS for an SSE-KMS write.
const S3_SERVICE: &str = "s3.amazonaws.com";

/// The encryption context key S3 sets on its calls to KMS.
const S3_ENCRYPTION_CONTEXT: &str = "kms:EncryptionContext:aws:s3:arn";

const SSE_HEADER: &str = "s3:x-amz-server-side-encryption";
const SSE_KEY_HEADER: &str = "s3:x-amz-server-side-encryption-aws-kms-key-id";
const ACL_HEADER: &str = "s3:x-amz-acl";
const KMS_ALGORITHMS: [&str; 2] = ["aws:kms", "aws:kms:dsse"];

/// How a reached actor acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Acts {
    /// With credentials of its own: a user's, or a session of a role it assumed.
    Itself,
    /// As a job of a service (the technique's id), which makes only the requests jobs make.
    Job(&'static str),
    /// As code a service runs with the role (the technique's id): every permission of the
    /// role, with a session the service names.
    Code(&'static str),
}

/// An actor the search has reached, and the witness of how.
#[derive(Debug, Clone)]
struct Reached {
    actor: String,
    acts: Acts,
    /// The actor's session, for a role: its name (a service's, for a job or code) and tags.
    session: Session,
    /// The principal that makes the actor's requests (the user, the session of the role), or
    /// why the actor's ARN names none: told once, for the final request and every step out.
    caller: Result<Principal, String>,
    steps: Vec<Step>,
    links: Vec<Link>,
    assumptions: Vec<String>,
}

impl Reached {
    /// An actor reached by `steps`, with the requests that make them.
    fn new(
        actor: String,
        acts: Acts,
        session: Session,
        steps: Vec<Step>,
        solved: Solved,
    ) -> Reached {
        let (links, assumptions) = solved;
        Reached {
            caller: acting(&actor, &session.name),
            actor,
            acts,
            session,
            steps,
            links,
            assumptions,
        }
    }

    /// The principal tags the caller gave the actor's session: they override the role's.
    fn session_tags(&self) -> Context {
        let mut context = Context::new();
        for (key, value) in &self.session.all_tags() {
            context = context.with(&format!("aws:PrincipalTag/{key}"), value);
        }
        context
    }

    /// Where the actor's calls come from: its own (a person's, or code it wrote), or a
    /// service's with the job's role.
    fn origin(&self) -> Origin {
        match self.acts {
            Acts::Job(_) => Origin::ServiceRole,
            Acts::Itself | Acts::Code(_) => Origin::Own,
        }
    }

    fn is_job(&self) -> bool {
        matches!(self.acts, Acts::Job(_))
    }
}

/// An actor reached as it acts, with its session unless no policy tells its sessions apart.
pub(crate) type ReachedActor = (Acts, String, Option<Session>);

/// The actors a round reached with the one session no policy tells apart (role sessions,
/// jobs, users), by how they act: the common case, which every step out of every actor
/// reached is checked against.
#[derive(Default)]
struct PlainActors {
    /// One entry per way of acting; there are a few at most.
    by_acts: Vec<(Acts, ReachedArns)>,
}

impl PlainActors {
    fn contains(&mut self, acts: Acts, arn: &Arc<str>) -> bool {
        self.by_acts
            .iter_mut()
            .any(|(each, arns)| *each == acts && arns.contains(arn))
    }

    fn insert(&mut self, acts: Acts, arn: &Arc<str>) {
        let index = match self.by_acts.iter().position(|(each, _)| *each == acts) {
            Some(index) => index,
            None => {
                self.by_acts.push((acts, ReachedArns::default()));
                self.by_acts.len() - 1
            }
        };
        self.by_acts[index].1.insert(arn);
    }
}

/// The ARNs of the actors reached one way. The graph shares one ARN among the steps into an
/// actor, so most steps into an actor reached are found by the address of their ARN: in a
/// large account, a search passes over many times more such steps than it takes, and reading
/// and hashing each ARN would cost more than the rest of the search.
#[derive(Default)]
struct ReachedArns {
    arns: std::collections::HashSet<Arc<str>>,
    /// ARNs found in `arns`, by address; held, so that no other ARN takes their address.
    by_address: std::collections::HashMap<usize, Arc<str>, BuildAddressHasher>,
}

impl ReachedArns {
    fn contains(&mut self, arn: &Arc<str>) -> bool {
        let address = address_of(arn);
        if self.by_address.contains_key(&address) {
            return true;
        }
        if !self.arns.contains(&**arn) {
            return false;
        }
        self.by_address.insert(address, arn.clone());
        true
    }

    fn insert(&mut self, arn: &Arc<str>) {
        self.arns.insert(arn.clone());
        self.by_address.insert(address_of(arn), arn.clone());
    }
}

fn address_of(arn: &Arc<str>) -> usize {
    Arc::as_ptr(arn).cast::<u8>() as usize
}

type BuildAddressHasher = std::hash::BuildHasherDefault<AddressHasher>;

/// Hashes addresses with MurmurHash3's 64-bit finalizer, which spreads every bit over the
/// whole hash (the low bits of aligned addresses are all zero). Addresses are distinct and no
/// input chooses them, so SipHash's guard against chosen collisions, which costs as much as
/// the rest of a lookup, is not needed.
#[derive(Default)]
struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_usize(&mut self, address: usize) {
        self.0 = address as u64;
    }

    fn finish(&self) -> u64 {
        let mut hash = self.0;
        hash = (hash ^ (hash >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        hash = (hash ^ (hash >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        hash ^ (hash >> 33)
    }
}

/// An entry of the breadth-first queue: an actor reached, a step out of one, solved only when
/// the queue comes to it, or the steps of an actor still to take. Taking and solving them then,
/// rather than when their actor was reached, visits the same actors in the same order; a
/// search that ends at an earlier entry never takes or solves them. The entries are boxed but
/// for the steps still to take, which a large account queues by the hundred: a queue of small
/// entries is a small allocation, which the allocator frees without sweeping its caches.
enum Queued {
    Reached(Box<Reached>),
    Step(Box<PendingStep>),
    /// A reached actor whose steps are told only when the queue comes to them: under edits,
    /// telling them is costly, and the round may answer first.
    Unexpanded(std::rc::Rc<Reached>),
    /// The steps of a reached actor from `next` on, not taken yet.
    Expand {
        from: std::rc::Rc<Reached>,
        steps: std::sync::Arc<[Step]>,
        next: usize,
    },
}

/// What the steps out of a reached actor are checked against: the actors the round reached,
/// and whether the actor's session is tagged (its tags may pass on, making other actors).
struct Expanding<'r> {
    reached_plain: &'r mut PlainActors,
    visited: &'r BTreeSet<(String, Acts, Session)>,
    tagged: bool,
}

/// A step out of a reached actor into a session, not solved yet.
struct PendingStep {
    from: std::rc::Rc<Reached>,
    step: Step,
    session: Session,
    /// Whether the actor it leads to has one session no policy tells apart.
    plain: bool,
}

/// What a job of a technique may do: `None` when the actor is not a job.
fn job_capabilities(acts: Acts) -> Option<&'static [(&'static str, &'static str)]> {
    match acts {
        Acts::Job(id) => match technique::by_id(id).map(|t| t.gain) {
            Some(Gain::Job { does, .. }) => Some(does),
            _ => Some(&[]),
        },
        _ => None,
    }
}

/// Whether an actor acting so may make `action` at all.
fn may_make(acts: Acts, action: &str) -> bool {
    job_capabilities(acts).is_none_or(|does| {
        does.iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(action))
    })
}

/// An edit of the account found by the search, and the requests that make it.
#[derive(Debug, Clone)]
struct FoundEdit {
    edit: Edit,
    target: String,
    /// The account of the principal that makes it.
    account: String,
    /// The escalating principal's chain up to and including the edit's requests.
    links: Vec<Link>,
    assumptions: Vec<String>,
}

/// An actor's policies as the edits leave them, and its steps once they were asked for:
/// under many edits an actor may take thousands of steps, and most actors whose policies a
/// round reads are never searched on from.
struct EditedActor {
    policies: std::rc::Rc<PolicySet>,
    steps: Option<std::sync::Arc<[Step]>>,
}

/// How far a blocked path got: (steps passed, hops passed within the blocked problem, hops
/// of the problem, whether it is the final request).
type Progress = (usize, usize, usize, bool);

/// The blocked step or final request that got furthest so far.
#[derive(Debug, Clone)]
struct Closest {
    rank: Progress,
    /// When it was recorded: of two equally far, the first recorded wins.
    stamp: u64,
    explanation: String,
}

/// The solved part of a witness: links and the assumptions they rest on.
pub type Solved = (Vec<Link>, Vec<String>);

/// The hop that blocks a problem: its place in the problem, and the evaluator's word on it.
#[derive(Debug, Clone)]
pub struct Block {
    prefix: usize,
    hops: usize,
    hop: String,
    reason: String,
}

/// How one problem came out; memoized by the engine.
#[derive(Debug, Clone)]
pub enum SolveResult {
    Solved(Solved),
    Blocked(Block),
    Unknown(String),
}

/// The state of the search for one question.
pub struct Search<'e, 'm> {
    engine: &'e Engine<'m>,
    question: &'e Question,
    pattern: &'e Glob,
    unknown: Vec<String>,
    /// The blocked step or final request that got furthest, and its explanation: ranked by
    /// the steps passed, then the hops passed within its problem, then the hops of its
    /// problem, then a final request over a step; the first found wins ties (shorter chains
    /// come first).
    closest: Option<Closest>,
    /// Blocked paths recorded so far, for their stamps.
    events: u64,
    combinations: usize,
    /// Whether refutations need their blocking hop (for `unreachable` reasons); `who-can`
    /// drops the principals that cannot, so it skips that work.
    explain: bool,
    /// Roles reached whose sessions the caller may tag in combinations the search does not
    /// try: a refutation over them is `unknown`.
    tags_untried: BTreeSet<String>,
    /// The edits of the account in force, and in the order they were made, with how.
    edits: Edits,
    made: Vec<FoundEdit>,
    /// Edits found in the current round, made before the next.
    found: Vec<FoundEdit>,
    /// The names of principals' policies ([`Search::policy_names_of`]).
    policy_names:
        std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<BTreeSet<String>>>>,
    /// The (edit, target, account) of each edit of `found`.
    found_keys: std::collections::HashSet<(Edit, String, String)>,
    /// Edit steps met in the current round, solved when it ends.
    deferred: Vec<deferred_edits::DeferredEdit>,
    /// The policies and steps of actors the edits change, for the current round.
    edited: std::cell::RefCell<BTreeMap<String, EditedActor>>,
    /// Actions of [`technique::UNMODELLED`] that a reached actor may be allowed, each with the
    /// first (shortest) chain to an actor that may.
    unmodelled: BTreeMap<&'static str, String>,
    /// For a service principal's calls: the account whose resource the service acts for
    /// (`aws:SourceAccount`) and that account's organization; `None` lets the solver pick it.
    source_account: Option<(String, SourceOrganization)>,
    /// The key of the engine's dead ends this search may read and add to: `None` when its
    /// answer may depend on more than the actors it reaches (explanations, a step bound,
    /// chosen first steps).
    dead_key: Option<String>,
    /// Every actor the search reached, in order.
    reached: Vec<ReachedActor>,
    /// Whether the question's principal signs in with an identity provider.
    federated: bool,
    /// `aws:CurrentTime` and `aws:EpochTime` as every hop has them.
    clock: Context,
    /// The memo keys' common parts while the account is unedited, the common case: told
    /// once, as the search makes thousands of keys.
    unedited_keys: std::cell::OnceCell<std::rc::Rc<MemoKeys>>,
    /// The memo keys' common parts for the last edits they were told for, by the address of
    /// those edits' fingerprint (which the cache keeps alive, so no other edits can have it).
    edited_keys: std::cell::RefCell<Option<(Arc<str>, std::rc::Rc<MemoKeys>)>>,
}

/// What the memo keys of a search share, as its edits leave them ([`Search::memo_keys`]).
#[derive(Clone)]
struct MemoKeys {
    /// The name of the edits made ([`Engine::edit_set_name`]); empty for none.
    fingerprint: String,
    /// What every memo key of a step ends with.
    step_suffix: String,
}

/// The organization of the account a service acts for (`aws:SourceOrgID`,
/// `aws:SourceOrgPaths`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceOrganization {
    /// None: the account is in no organization.
    None,
    /// One the snapshots record.
    Known(String),
    /// Whichever the policies need: the account is taken to be in it, and the answer says so.
    Any,
}

impl<'e, 'm> Search<'e, 'm> {
    pub fn new(
        engine: &'e Engine<'m>,
        question: &'e Question,
        pattern: &'e Glob,
    ) -> Search<'e, 'm> {
        Search {
            engine,
            question,
            pattern,
            unknown: Vec::new(),
            closest: None,
            events: 0,
            combinations: 0,
            explain: true,
            tags_untried: BTreeSet::new(),
            edits: Edits::default(),
            made: Vec::new(),
            found: Vec::new(),
            deferred: Vec::new(),
            edited: Default::default(),
            found_keys: Default::default(),
            policy_names: Default::default(),
            unmodelled: BTreeMap::new(),
            source_account: None,
            dead_key: None,
            reached: Vec::new(),
            federated: matches!(
                Principal::parse(&question.principal),
                Some(Principal::Federated(_))
            ),
            clock: engine.clock.context(),
            unedited_keys: std::cell::OnceCell::new(),
            edited_keys: std::cell::RefCell::new(None),
        }
    }

    /// A search whose service principal acts for a resource of `account`, in `organization`.
    pub fn acting_for(mut self, account: &str, organization: SourceOrganization) -> Self {
        self.source_account = Some((account.to_string(), organization));
        self
    }

    /// A search that does not explain refutations.
    pub fn without_explanations(mut self) -> Self {
        self.explain = false;
        self
    }

    fn model(&self) -> &'m Model {
        self.engine.model
    }

    /// Runs the search. `first_steps` replaces the graph's steps out of the principal (for
    /// principals outside the snapshots, which the graph does not hold). Edits of the account
    /// found in one round are made before the next, which searches again with them, until a
    /// round finds no new edit.
    pub fn run(mut self, first_steps: Option<Vec<Step>>) -> Answer {
        let options = &self.engine.options;
        if options.share_refutations
            && !self.explain
            && first_steps.is_none()
            && options.max_steps.is_none()
        {
            self.dead_key = Some(self.memo_key(format!("dead|{}", self.engine.scope().name())));
        }
        loop {
            if let Some(answer) = self.round(first_steps.as_deref()) {
                return answer;
            }
            if let Some(answer) = self.finish_round() {
                return answer;
            }
            let mut grew = false;
            self.found_keys.clear();
            for found in std::mem::take(&mut self.found) {
                if self.edits.apply(found.edit, &found.target, &found.account) {
                    self.made.push(found);
                    grew = true;
                }
            }
            if !grew {
                let clean = self.made.is_empty();
                let reached = std::mem::take(&mut self.reached);
                let key = self.dead_key.clone();
                let engine = self.engine;
                let answer = self.conclude();
                if let (true, Verdict::Unreachable, Some(key)) = (clean, answer.verdict, key) {
                    engine
                        .dead_ends
                        .borrow_mut()
                        .entry(key)
                        .or_default()
                        .extend(reached);
                }
                return answer;
            }
            // A round with more edits reaches everything the last one did, and records its
            // own blocks and unknowns again.
            self.unknown.clear();
            self.closest = None;
            self.edited.borrow_mut().clear();
        }
    }

    /// One breadth-first search over the account as the edits made so far leave it.
    fn round(&mut self, first_steps: Option<&[Step]>) -> Option<Answer> {
        let start = self.start_state();
        let mut visited: BTreeSet<(String, Acts, Session)> =
            BTreeSet::from([(start.actor.clone(), Acts::Itself, start.session.clone())]);
        let mut reached_plain = PlainActors::default();
        reached_plain.insert(Acts::Itself, &start.actor.as_str().into());
        self.reached.clear();
        self.reached.push((Acts::Itself, start.actor.clone(), None));
        let mut queue = VecDeque::from([Queued::Reached(Box::new(start))]);
        while let Some(item) = queue.pop_front() {
            let state = match item {
                Queued::Reached(state) => *state,
                Queued::Unexpanded(from) => {
                    let steps = self.steps_of(&from.actor);
                    let mut expanding = Expanding {
                        reached_plain: &mut reached_plain,
                        visited: &visited,
                        tagged: from.session.has_tags(),
                    };
                    self.expand(from, steps, 0, &mut expanding, &mut queue);
                    continue;
                }
                Queued::Expand { from, steps, next } => {
                    let mut expanding = Expanding {
                        reached_plain: &mut reached_plain,
                        visited: &visited,
                        tagged: from.session.has_tags(),
                    };
                    self.expand(from, steps, next, &mut expanding, &mut queue);
                    continue;
                }
                Queued::Step(pending) => {
                    let PendingStep {
                        from,
                        step,
                        session,
                        plain,
                    } = *pending;
                    let key = (step.target().to_string(), acts_after(&step), session);
                    let reached = if plain {
                        reached_plain.contains(key.1, shared_target(&step))
                    } else {
                        visited.contains(&key)
                    };
                    if reached {
                        continue;
                    }
                    let Some(next) = self.try_step(&from, &step, &key.2) else {
                        continue;
                    };
                    if plain {
                        self.reached.push((key.1, key.0, None));
                        reached_plain.insert(key.1, shared_target(&step));
                    } else {
                        self.reached
                            .push((key.1, key.0.clone(), Some(key.2.clone())));
                        visited.insert(key);
                    }
                    next
                }
            };
            let unresolved = self
                .model()
                .unresolved_for(&state.actor)
                .unwrap_or_default();
            if !unresolved.is_empty() {
                let names: Vec<String> = unresolved.iter().map(|u| u.to_string()).collect();
                self.unknown.push(format!(
                    "{} depends on policies no snapshot describes: {}",
                    describe_chain(&self.question.principal, &state.steps),
                    names.join(", ")
                ));
                continue;
            }
            if let Some(answer) = self.try_final(&state) {
                return Some(answer);
            }
            if state.is_job() {
                continue;
            }
            self.note_unmodelled(&state);
            let lazy = first_steps.is_none() && self.engine.options.max_steps.is_none();
            if lazy {
                queue.push_back(Queued::Unexpanded(std::rc::Rc::new(state)));
                continue;
            }
            let steps: std::sync::Arc<[Step]> = match (first_steps, state.steps.is_empty()) {
                (Some(steps), true) => steps.into(),
                _ => self.steps_of(&state.actor),
            };
            if let Some(bound) = self.engine.options.max_steps {
                if state.steps.len() >= bound {
                    if !steps.is_empty() {
                        self.unknown.push(format!(
                            "{} may go on, but the search stops at {bound} steps",
                            describe_chain(&self.question.principal, &state.steps)
                        ));
                    }
                    continue;
                }
            }
            // The steps are taken one at a time, when the queue comes to them: the queue then
            // holds what it would hold had they all been taken now.
            if !steps.is_empty() {
                queue.push_back(Queued::Expand {
                    from: std::rc::Rc::new(state),
                    steps,
                    next: 0,
                });
            }
        }
        None
    }

    /// The question's principal, where every round starts.
    fn start_state(&self) -> Reached {
        Reached::new(
            self.question.principal.clone(),
            Acts::Itself,
            Session::named(ASSUMED_SESSION_NAME),
            Vec::new(),
            Solved::default(),
        )
    }

    /// The policies of an actor, as the edits made leave them.
    fn policies_of(&self, actor: &str) -> std::rc::Rc<PolicySet> {
        if self.edits.is_empty() {
            return self.engine.policy_set(actor);
        }
        if let Some(hit) = self.edited.borrow().get(actor) {
            return hit.policies.clone();
        }
        let model = self.model();
        let policies = std::rc::Rc::new(
            self.edits
                .policy_set(model, actor)
                .unwrap_or_else(|| (*self.engine.policy_set(actor)).clone()),
        );
        let entry = EditedActor {
            policies: policies.clone(),
            steps: None,
        };
        self.edited.borrow_mut().insert(actor.to_string(), entry);
        policies
    }

    /// Takes the steps of a reached actor from `next` on, up to the first that gives steps to
    /// solve: those go to the front of the queue, ahead of the actor's steps still to take.
    /// The steps that give none are passed over in one go, as the queue would come back to
    /// the actor's next step at once.
    fn expand(
        &mut self,
        from: std::rc::Rc<Reached>,
        steps: std::sync::Arc<[Step]>,
        next: usize,
        expanding: &mut Expanding,
        queue: &mut VecDeque<Queued>,
    ) {
        for (index, step) in steps.iter().enumerate().skip(next) {
            let pending = self.pending_steps(&from, step, expanding);
            if pending.is_empty() {
                continue;
            }
            if index + 1 < steps.len() {
                queue.push_front(Queued::Expand {
                    from: from.clone(),
                    steps: steps.clone(),
                    next: index + 1,
                });
            }
            for step in pending.into_iter().rev() {
                queue.push_front(Queued::Step(Box::new(step)));
            }
            return;
        }
    }

    /// The steps out of a reached actor that `step` gives, one per session, not solved yet;
    /// none for a step out of scope, an edit (tried at once) or an actor already reached.
    fn pending_steps(
        &mut self,
        state: &std::rc::Rc<Reached>,
        step: &Step,
        expanding: &mut Expanding,
    ) -> Vec<PendingStep> {
        let tagged = expanding.tagged;
        let technique = step.technique();
        if technique.is_some_and(|t| !self.engine.scope().admits(t)) {
            return Vec::new();
        }
        if let Some(Gain::Edits(edit)) = technique.map(|t| t.gain) {
            if !self.edit_may_matter(state, edit, step.target()) {
                return Vec::new();
            }
            if !self
                .edits
                .has(edit, step.target(), &account_of(&state.actor))
            {
                if self.engine.options.defer_edits {
                    self.defer_edit(state, step, edit);
                } else {
                    self.try_edit(state, step, edit);
                }
            }
            return Vec::new();
        }
        let acts = acts_after(step);
        if !may_make(acts, &self.question.action) {
            return Vec::new();
        }
        // Only plain actors are in this set, so a hit needs no further test; a tagged caller
        // may also pass its tags on, which makes another actor.
        let target = step.target();
        if !tagged && expanding.reached_plain.contains(acts, shared_target(step)) {
            return Vec::new();
        }
        let plain = acts != Acts::Itself
            || self.model().users.contains_key(target)
            || (!tagged && self.is_plain(target));
        let mut pending = Vec::new();
        for session in self.sessions(state, step) {
            if !plain
                && expanding
                    .visited
                    .contains(&(target.to_string(), acts, session.clone()))
            {
                continue;
            }
            // A step is worth solving only when the actor it leads to could go on: a job acts
            // only on the question's resource, a role may also assume further roles. (When
            // refutations are explained, the step is solved anyway, so that the explanation
            // names the hop that really blocks the path.)
            let leads_nowhere = matches!(acts, Acts::Job(_)) || !self.has_steps(target);
            let dead_end =
                !self.explain && leads_nowhere && self.final_blocked(target, acts, &session);
            if !dead_end && !self.known_dead(acts, target, (!plain).then_some(&session)) {
                pending.push(PendingStep {
                    from: state.clone(),
                    step: step.clone(),
                    session,
                    plain,
                });
            }
        }
        pending
    }

    /// Whether an edit could change the decision on a request some chain of this question
    /// makes. A bucket's policy decides only S3 requests on the bucket and its objects, and
    /// when no technique's step requests a bucket ([`technique::steps_request_buckets`]) the
    /// only such request of a chain is its last, on the question's resource: rewriting the
    /// policy of a bucket that resource cannot be in changes no answer, and is not tried.
    fn edit_may_matter(&self, state: &Reached, edit: Edit, target: &str) -> bool {
        if edit != Edit::RewriteResourcePolicy || technique::steps_request_buckets() {
            return true;
        }
        let Some(bucket) = bucket_of(target) else {
            return true;
        };
        let service = self.question.action.split(':').next().unwrap_or_default();
        if !service.eq_ignore_ascii_case("s3") {
            return false;
        }
        let account = crate::model::arn_account(&state.actor).unwrap_or_default();
        let partition = crate::model::arn_partition(&state.actor).unwrap_or("aws");
        // Every place the resource may be is a bucket of the model or the stand-in for the
        // buckets of no snapshot, which leaves the model's out.
        self.targets_for(account, partition)
            .iter()
            .any(|place| match &place.bucket {
                Some(name) => name == bucket,
                None => place.account.as_deref() != Some(super::targets::OUTSIDE_ACCOUNT),
            })
    }

    /// Whether an earlier search of the same question, without edits, reached this actor and
    /// still proved the question unreachable: then nothing the actor reaches can do it, and
    /// the step to it need not be solved. (Every actor such a search reaches is searched on
    /// from, and the steps out of an actor depend on the actor alone.)
    fn known_dead(&self, acts: Acts, target: &str, session: Option<&Session>) -> bool {
        let Some(key) = &self.dead_key else {
            return false;
        };
        if !self.edits.is_empty() {
            return false;
        }
        let dead_ends = self.engine.dead_ends.borrow();
        let Some(dead) = dead_ends.get(key) else {
            return false;
        };
        dead.contains(&(acts, target.to_string(), session.cloned()))
    }

    /// The steps out of an actor, as the edits made leave its policies and the trust of roles.
    fn steps_of(&self, actor: &str) -> std::sync::Arc<[Step]> {
        if self.edits.is_empty() {
            return self.engine.graph.shared_steps_from(actor);
        }
        self.edited_steps(actor)
    }

    fn edited_steps(&self, actor: &str) -> std::sync::Arc<[Step]> {
        if let Some(steps) = self.told_steps(actor) {
            return steps;
        }
        let model = self.model();
        // Told first, so that the entry the steps go in exists.
        let policies = self.policies_of(actor);
        let steps: std::sync::Arc<[Step]> = if model.principal_type(actor).is_some() {
            self.with_opened(|opened| self.engine.graph.steps_for(model, actor, &policies, opened))
                .into()
        } else {
            self.engine.graph.shared_steps_from(actor)
        };
        if let Some(entry) = self.edited.borrow_mut().get_mut(actor) {
            entry.steps = Some(steps.clone());
        }
        steps
    }

    /// The steps of an actor under the edits, when they were told this round.
    fn told_steps(&self, actor: &str) -> Option<std::sync::Arc<[Step]>> {
        self.edited.borrow().get(actor)?.steps.clone()
    }

    /// Whether an actor may take any step, as the edits made leave it; told up to the first
    /// step when its steps were not asked for.
    fn has_steps(&self, actor: &str) -> bool {
        let model = self.model();
        if self.edits.is_empty() || model.principal_type(actor).is_none() {
            return !self.engine.graph.steps_from(actor).is_empty();
        }
        if let Some(steps) = self.told_steps(actor) {
            return !steps.is_empty();
        }
        let policies = self.policies_of(actor);
        self.with_opened(|opened| self.engine.graph.has_steps(model, actor, &policies, opened))
    }

    /// Calls `f` with which roles' trust the edits opened, when they opened any.
    fn with_opened<T>(&self, f: impl FnOnce(Option<&dyn Fn(&str) -> bool>) -> T) -> T {
        let is_opened = |role: &str| self.edits.is_opened(role);
        f(self
            .edits
            .opens_any_trust()
            .then_some(&is_opened as &dyn Fn(&str) -> bool))
    }

    /// Records the actions no technique models that the actor may be allowed: a refutation
    /// that depends on them not being used is `unknown`.
    fn note_unmodelled(&mut self, state: &Reached) {
        if !self.engine.scope().is_all() {
            return;
        }
        let policies = self.policies_of(&state.actor);
        let question = technique::Question {
            model: self.model(),
            action: &self.question.action,
            resource: &self.question.resource,
            actor_account: crate::model::arn_account(&state.actor).unwrap_or_default(),
        };
        for (action, what, relevant) in technique::UNMODELLED {
            // The first actor found is the one of the shortest chain.
            // The cheap test first: most actors are allowed none of these.
            let bears = !self.unmodelled.contains_key(action)
                && may_be_allowed(&policies, action)
                && relevant.applies(&question, action);
            if bears {
                self.unmodelled.insert(
                    action,
                    format!(
                        "{} may be allowed {action}, which {what}; iamproof does not model it",
                        describe_chain(&self.question.principal, &state.steps)
                    ),
                );
            }
        }
    }

    /// Whether the sessions of a role are all alike to the model's policies.
    fn is_plain(&self, role: &str) -> bool {
        self.model()
            .roles
            .get(role)
            .is_none_or(|role| self.engine.session_names().is_plain(role))
    }

    /// The sessions to try for the actor a step leads to: the caller's choice of name and
    /// tags for a role it assumes, the service's for a job or code it runs, none for a user.
    fn sessions(&mut self, state: &Reached, step: &Step) -> Vec<Session> {
        let model = self.model();
        if let Some(technique) = step.technique() {
            return vec![Session::named(&service_session_name(technique))];
        }
        let Some(role) = model.roles.get(step.target()) else {
            return vec![Session::named(ASSUMED_SESSION_NAME)];
        };
        let known = self.engine.session_names();
        let tagged = state.session.has_tags();
        if known.is_plain(role) && !tagged {
            return vec![Session::named(ASSUMED_SESSION_NAME)];
        }
        let username = model.users.get(&state.actor).map(|u| u.name.as_str());
        if known.tags_incomplete(role) {
            self.tags_untried.insert(role.arn.clone());
        }
        let tag_choices = known.tag_choices(role);
        let fresh: Vec<Session> = known
            .for_role(role, username)
            .into_iter()
            .flat_map(|name| {
                tag_choices.iter().map(move |tags| Session {
                    name: name.clone(),
                    tags: tags.clone(),
                    inherited: BTreeMap::new(),
                })
            })
            .collect();
        // A tagged session may have marked its tags transitive: the next session in the chain
        // then carries them too.
        let inheriting: Vec<Session> = fresh
            .iter()
            .filter_map(|session| session.inheriting(&state.session))
            .collect();
        fresh.into_iter().chain(inheriting).collect()
    }

    /// Solves one step out of a reached actor into a session named `session`; the actor it
    /// leads to, when it is allowed.
    fn try_step(&mut self, state: &Reached, step: &Step, session: &Session) -> Option<Reached> {
        let (links, assumptions) = self.solve_step(state, step, session)?;
        let mut steps = state.steps.clone();
        steps.push(step.clone());
        let mut all_links = state.links.clone();
        all_links.extend(links);
        let mut all_assumptions = state.assumptions.clone();
        merge(&mut all_assumptions, assumptions);
        Some(Reached::new(
            step.target().to_string(),
            acts_after(step),
            session.clone(),
            steps,
            (all_links, all_assumptions),
        ))
    }

    /// Solves an edit of the account from a reached actor; when it is allowed, it is made
    /// before the next round.
    fn try_edit(&mut self, state: &Reached, step: &Step, edit: Edit) {
        // An edit made in an earlier round stays made. (The edits made are those of `made`;
        // an IAM edit's target is of the editing account, so its target alone tells it.)
        let account = account_of(&state.actor);
        let key = (edit, step.target().to_string(), account);
        if self.found_keys.contains(&key) || self.edits.has(edit, &key.1, &key.2) {
            return;
        }
        let session = state.session.clone();
        if let Some((links, assumptions)) = self.solve_step(state, step, &session) {
            let mut all_links = state.links.clone();
            all_links.extend(links);
            let mut all_assumptions = state.assumptions.clone();
            merge(&mut all_assumptions, assumptions);
            self.found.push(FoundEdit {
                edit,
                target: key.1.clone(),
                account: key.2.clone(),
                links: all_links,
                assumptions: all_assumptions,
            });
            self.found_keys.insert(key);
        }
    }

    /// Solves the requests of one step in each place it may be made (a region, an existing
    /// resource); the first that is allowed.
    fn solve_step(&mut self, state: &Reached, step: &Step, session: &Session) -> Option<Solved> {
        let mut steps = state.steps.clone();
        steps.push(step.clone());
        let describe = describe_chain(&self.question.principal, &steps);
        for place in self.places_of(state, step) {
            self.combinations += 1;
            let key = self.step_memo_key(format!(
                "step|{}|{:?}|{:?}|{step:?}|{session:?}|{place:?}",
                state.actor, state.acts, state.session
            ));
            let plan = || {
                let mut problem = Problem::new();
                self.plan_step(state, step, session, &place, &mut problem)
                    .map(|planned| (planned, problem))
            };
            match self.solve_cached(key, plan, None, &describe) {
                SolveResult::Solved((mut links, assumptions)) => {
                    let mut assumptions = assumptions;
                    if let Some(technique) = step.technique() {
                        if let Some(last) = links.last_mut() {
                            last.change = Some(technique_change(technique, step.target()));
                        }
                        merge(
                            &mut assumptions,
                            technique.assumes.iter().map(|a| a.to_string()).collect(),
                        );
                    }
                    return Some((links, assumptions));
                }
                SolveResult::Blocked(block) => match self.untried_choice(state, step) {
                    Some(reason) => self.unknown.push(format!("{describe}: {reason}")),
                    None => self.record(&block, state, false, &describe),
                },
                SolveResult::Unknown(reason) => self.unknown.push(reason),
            }
        }
        None
    }

    /// Why a refuted step may yet be made with another choice than the one the search tries:
    /// a policy that restricts which policy the actor may attach or make a boundary leaves
    /// choices other than `AdministratorAccess`, which the model does not try.
    fn untried_choice(&self, state: &Reached, step: &Step) -> Option<String> {
        let technique = step.technique()?;
        let policies = self.policies_of(&state.actor);
        technique.needs.iter().find_map(|needed| {
            let key = technique::chooses_policy(needed.action)?;
            conditions_of(&policies)
                .any(|condition| condition.key.eq_ignore_ascii_case(key))
                .then(|| {
                    format!(
                        "a policy restricts {key} of {}; the search tries only AdministratorAccess, not the other policies it may allow",
                        needed.action
                    )
                })
        })
    }

    /// The places the question's resource may be, for an actor of `account`.
    fn targets_for(&self, account: &str, partition: &str) -> std::rc::Rc<Vec<Target>> {
        (self.engine).places(self.question, self.pattern, account, partition)
    }

    /// Whether the question's action is refuted for `actor` on every target (no grant, or the
    /// solver's proof): then no chain through it can succeed. Unknown results count as open.
    fn final_blocked(&self, actor: &str, acts: Acts, session: &Session) -> bool {
        if !may_make(acts, &self.question.action) {
            return true;
        }
        let state = Reached::new(
            actor.to_string(),
            acts,
            session.clone(),
            Vec::new(),
            Solved::default(),
        );
        let Ok(caller) = &state.caller else {
            return false;
        };
        let account = crate::model::arn_account(actor)
            .unwrap_or_default()
            .to_string();
        let partition = crate::model::arn_partition(actor)
            .unwrap_or("aws")
            .to_string();
        self.targets_for(&account, &partition).iter().all(|target| {
            if self.refusal(target).is_some() {
                return true;
            }
            if !self.may_grant(actor, caller, target) {
                return true;
            }
            let key = self.memo_key(format!(
                "final|{actor}|{acts:?}|{session:?}|{}",
                target.label
            ));
            let plan = || {
                let mut problem = Problem::new();
                self.plan_final(&state, caller, target, &mut problem)
                    .map(|planned| (planned, problem))
            };
            matches!(
                self.solve_cached(key, plan, Some(target), actor),
                SolveResult::Blocked(_)
            )
        })
    }

    /// Tries the question's action from a reached actor on every place of the resource.
    fn try_final(&mut self, state: &Reached) -> Option<Answer> {
        let account = crate::model::arn_account(&state.actor).unwrap_or_default();
        let partition = crate::model::arn_partition(&state.actor).unwrap_or("aws");
        let caller = match &state.caller {
            Ok(caller) => caller,
            Err(reason) => {
                self.unknown.push(reason.clone());
                return None;
            }
        };
        if !may_make(state.acts, &self.question.action) {
            return None;
        }
        // A provider's token buys a role session from STS and nothing else.
        if matches!(caller, Principal::Federated(_)) {
            return None;
        }
        // Told only for a request refused or solved: most actors reached are granted nothing.
        let mut describe: Option<String> = None;
        for target in self.targets_for(account, partition).iter() {
            self.combinations += 1;
            if let Some(refusal) = self.refusal(target) {
                let block = Block {
                    prefix: 0,
                    hops: 1,
                    hop: format!("{} on {}", self.question.action, target.label),
                    reason: refusal,
                };
                let describe = describe
                    .get_or_insert_with(|| describe_chain(&self.question.principal, &state.steps));
                self.record(&block, state, true, describe);
                continue;
            }
            if !self.may_grant(&state.actor, caller, target) {
                self.record_no_grant(state, target);
                continue;
            }
            let key = self.memo_key(format!(
                "final|{}|{:?}|{:?}|{}",
                state.actor, state.acts, state.session, target.label
            ));
            let plan = || {
                let mut problem = Problem::new();
                self.plan_final(state, caller, target, &mut problem)
                    .map(|planned| (planned, problem))
            };
            let describe = describe
                .get_or_insert_with(|| describe_chain(&self.question.principal, &state.steps));
            match self.solve_cached(key, plan, Some(target), describe) {
                SolveResult::Solved((links, assumptions)) => {
                    let mut own = state.links.clone();
                    own.extend(links);
                    let edits = self.edits_needed(&own);
                    let mut chain: Vec<Link> = edits.iter().flat_map(|m| m.links.clone()).collect();
                    chain.extend(own);
                    describe_edits(&edits, &mut chain);
                    let mut all: Vec<String> = Vec::new();
                    for made in &edits {
                        merge(&mut all, made.assumptions.clone());
                    }
                    merge(&mut all, state.assumptions.clone());
                    merge(&mut all, target.assumption.iter().cloned().collect());
                    merge(&mut all, assumptions);
                    merge(&mut all, self.time_statement());
                    return Some(Answer {
                        verdict: Verdict::Reachable,
                        query: self.echo(),
                        chain,
                        assumptions: all,
                        reason: None,
                        outside: None,
                    });
                }
                SolveResult::Blocked(block) => self.record(&block, state, true, describe),
                SolveResult::Unknown(reason) => self.unknown.push(reason),
            }
        }
        None
    }

    /// Why the service refuses the question's action on a target whatever the policies say:
    /// a key that is not enabled refuses cryptographic operations.
    fn refusal(&self, target: &Target) -> Option<String> {
        if !crate::service::kms::needs_enabled_key(&self.question.action) {
            return None;
        }
        let key = self.model().keys.get(target.fixed.as_deref()?)?;
        key.refusal()
    }

    /// The places a step may be made: a role assumption anywhere; an IAM edit at IAM's
    /// endpoint; a service's technique in one region of every class the policies of the step
    /// tell apart (the snapshot's own region first), and, for a technique that uses an
    /// existing resource, on each such resource of the snapshots and each resource every
    /// account has (MediaConvert's `Default` queue) in those regions.
    fn places_of(&self, state: &Reached, step: &Step) -> Vec<Place> {
        let Some(technique) = step.technique() else {
            return vec![Place::default()];
        };
        let model = self.model();
        let actor = &state.actor;
        let account = crate::model::arn_account(actor).unwrap_or_default();
        let partition = crate::model::arn_partition(actor).unwrap_or("aws");
        if technique.service().is_none() {
            return vec![Place {
                region: Some(crate::service::regions::global_endpoint_region(partition).into()),
                existing: None,
            }];
        }
        let own_region = model
            .account(account)
            .map(|a| a.region.clone())
            .unwrap_or_else(|| "us-east-1".into());
        let formats: Vec<&str> = technique
            .needs
            .iter()
            .filter_map(|n| n.on.format())
            .collect();
        let policies = self.policies_of(actor);
        let trust = model
            .roles
            .get(step.target())
            .map(|r| self.edits.trust_policy(r));
        let globs: Vec<Glob> = policies_in(&policies)
            .chain(trust.as_deref())
            .flat_map(|policy| &policy.statements)
            .flat_map(|statement| {
                let resources = statement.resource.iter().flat_map(|r| &r.patterns);
                let values = statement.conditions.iter().flat_map(|c| &c.values);
                resources.chain(values)
            })
            .filter_map(|template| template.resolve_glob(&crate::policy::template::NoVariables))
            .collect();
        // Only patterns that may name the technique's resources in some region, or a region
        // itself, tell regions apart.
        let any_region: Vec<Glob> = formats
            .iter()
            .map(|f| Glob::parse(&technique::arn_glob(f, partition, "*", account)))
            .collect();
        let partition_regions = crate::service::regions::of_partition(partition);
        let globs: Vec<Glob> = globs
            .into_iter()
            .filter(|glob| {
                any_region
                    .iter()
                    .any(|shape| crate::smt::encode::arn_globs_intersect(glob, shape))
                    || glob.matches(&own_region)
                    || partition_regions.iter().any(|region| glob.matches(region))
            })
            .collect();
        let regions = crate::service::regions::representatives(partition, &own_region, |region| {
            let shapes: Vec<Glob> = formats
                .iter()
                .map(|f| Glob::parse(&technique::arn_glob(f, partition, region, account)))
                .collect();
            globs
                .iter()
                .map(|glob| {
                    let meets = shapes
                        .iter()
                        .any(|shape| crate::smt::encode::arn_globs_intersect(glob, shape));
                    (meets, glob.matches(region))
                })
                .collect::<Vec<_>>()
        });
        let existing = technique.needs.iter().find_map(|n| match n.on {
            On::Existing { format, always } => Some((format, always)),
            _ => None,
        });
        let Some((format, always)) = existing else {
            return regions
                .into_iter()
                .map(|region| Place {
                    region: Some(region),
                    existing: None,
                })
                .collect();
        };
        let shape = Glob::parse(&technique::arn_glob(format, partition, "*", account));
        let mut places: Vec<Place> = model
            .queues
            .values()
            .filter(|q| !q.implicit && shape.matches_arn(&q.arn))
            .map(|q| Place {
                region: q.arn.split(':').nth(3).map(str::to_string),
                existing: Some(q.arn.clone()),
            })
            .collect();
        for region in regions {
            for name in always {
                let arn = technique::arn_named(format, partition, &region, account, name);
                if !places
                    .iter()
                    .any(|p| p.existing.as_deref() == Some(arn.as_str()))
                {
                    places.push(Place {
                        region: Some(region.clone()),
                        existing: Some(arn),
                    });
                }
            }
        }
        places
    }

    /// The hops of one step: `sts:AssumeRole` (with `sts:TagSession` for tags), or the
    /// requests of a technique followed, when it hands a role to a service, by the service
    /// assuming the role.
    fn plan_step(
        &self,
        state: &Reached,
        step: &Step,
        session: &Session,
        place: &Place,
        problem: &mut Problem,
    ) -> Result<Vec<PlannedHop>, String> {
        let model = self.model();
        let actor = &state.actor;
        let caller = state.caller.as_ref().map_err(String::clone)?;
        let Some(technique) = step.technique() else {
            let role = model
                .roles
                .get(step.target())
                .ok_or_else(|| format!("role {} is not in the model", step.target()))?;
            return self.plan_assume(state, caller, role, session);
        };
        let account = crate::model::arn_account(actor)
            .unwrap_or_default()
            .to_string();
        let partition = crate::model::arn_partition(actor).unwrap_or("aws");
        let target = step.target();
        let region = place.region.as_deref().unwrap_or("us-east-1");
        let mut variables: BTreeMap<&str, crate::smt::formula::VarId> = BTreeMap::new();
        let mut hops = Vec::new();
        let mut source: Option<String> = place.existing.clone();
        let calls = api_calls(technique);
        for (needed, &call) in technique.needs.iter().zip(&calls) {
            let (resource, resource_account, mut context) = match needed.on {
                On::Target => (
                    Term::Fixed(target.to_string()),
                    self.account_owning(target),
                    self.resource_facts(target),
                ),
                On::Created(format) | On::Running(format) => {
                    let shape =
                        Glob::parse(&technique::arn_shape(format, partition, region, &account));
                    let var = *variables
                        .entry(format)
                        .or_insert_with(|| problem.resource_variable(call, &[shape]));
                    (
                        Term::Var(var),
                        account.clone(),
                        Context::new().with("aws:ResourceAccount", &account),
                    )
                }
                On::Existing { .. } => {
                    let arn = place
                        .existing
                        .clone()
                        .ok_or("a technique on an existing resource without one")?;
                    (
                        Term::Fixed(arn),
                        account.clone(),
                        Context::new().with("aws:ResourceAccount", &account),
                    )
                }
                On::Named(format) => (
                    Term::Fixed(technique::arn_named(format, partition, region, "", "")),
                    account.clone(),
                    Context::new(),
                ),
                On::Any => (
                    Term::Fixed("*".into()),
                    account.clone(),
                    Context::new().with("aws:ResourceAccount", &account),
                ),
            };
            if source.is_none() && !matches!(needed.on, On::Target) {
                source = match &resource {
                    Term::Fixed(arn) if arn != "*" => Some(arn.clone()),
                    _ => None,
                };
            }
            context = context.with("aws:RequestedRegion", region);
            if let Some(service) = technique.service() {
                if needed.action.eq_ignore_ascii_case("iam:PassRole") {
                    context =
                        context.with("iam:PassedToService", technique::passed_to_service(service));
                }
            }
            let mut absent = Vec::new();
            for (key, fact) in technique::request_facts(needed.action) {
                match self.fact_value(fact, target) {
                    Some(value) => context = context.with(key, &value),
                    None => absent.push(key.to_ascii_lowercase()),
                }
            }
            let mut policies = (*self.policies_of(actor)).clone();
            if needed.on == On::Target {
                (policies.resource, policies.rcps) = self.policies_on(target);
            }
            let mut hop = self.hop(
                caller,
                actor,
                needed.action,
                resource,
                &resource_account,
                policies,
                call,
                merged(context, &state.session_tags()),
                Origin::Own,
            )?;
            hop.absent = absent;
            let refused = match needed.on {
                On::Target => technique::refusal(needed.action, target),
                _ => None,
            };
            hops.push(PlannedHop {
                hop,
                is_target: false,
                guard: None,
                refused,
            });
        }
        let call = calls.iter().max().map_or(0, |last| last + 1);
        if let (Some(service), true) = (technique.service(), technique.becomes_target()) {
            let role = model
                .roles
                .get(target)
                .ok_or_else(|| format!("role {target} is not in the model"))?;
            let source = technique.sets_source.then_some(source).flatten();
            hops.push(self.service_assumes(role, service, &account, region, source, call)?);
        }
        Ok(hops)
    }

    /// The hops of assuming a role: `sts:AssumeRole`, and `sts:TagSession` in the same call
    /// when the session is tagged.
    fn plan_assume(
        &self,
        state: &Reached,
        caller: &Principal,
        role: &crate::model::Role,
        session: &Session,
    ) -> Result<Vec<PlannedHop>, String> {
        let actor = &state.actor;
        let mut policies = (*self.policies_of(actor)).clone();
        policies.resource = Some(self.trust_of(role));
        policies.rcps = self.rcps_of(&role.account);
        let mut context = merged(
            self.resource_facts(&role.arn)
                .with("sts:RoleSessionName", &session.name),
            &state.session_tags(),
        );
        if !session.tags.is_empty() {
            for (key, value) in &session.tags {
                context = context.with(&format!("aws:RequestTag/{key}"), value);
            }
            context.insert(
                "aws:TagKeys",
                ContextValue::Multi(session.tags.keys().cloned().collect()),
            );
        }
        let action = match caller {
            Principal::Federated(provider) => {
                policies.endpoints.extend(self.audiences_of(provider));
                federated_action(provider)
            }
            _ => "sts:AssumeRole",
        };
        let mut absent = match caller {
            Principal::Federated(provider) => other_providers_claims(provider, &policies),
            _ => Vec::new(),
        };
        // A source identity is set only where the trust lets the caller set it ("Permissions
        // required to set source identity",
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html#id_credentials_temp_control-access_monitor-perms).
        if !crate::graph::trust_admits_to(role, caller, "sts:SetSourceIdentity") {
            absent.push("sts:sourceidentity".into());
        }
        let assume = |action: &str| {
            let mut hop = self.hop(
                caller,
                actor,
                action,
                Term::Fixed(role.arn.clone()),
                &role.account,
                policies.clone(),
                0,
                context.clone(),
                Origin::Own,
            )?;
            hop.absent.extend(absent.iter().cloned());
            Ok::<_, String>(hop)
        };
        let mut hops = vec![plain_hop(assume(action)?)];
        // Tags passed at AssumeRole need sts:TagSession too, in the same call.
        if !session.tags.is_empty() {
            hops.push(plain_hop(assume("sts:TagSession")?));
        }
        Ok(hops)
    }

    /// What STS checks of a token before the trust policy: its audience is one of the OIDC
    /// provider's client ids, where the snapshot records them ("Create an OpenID Connect (OIDC)
    /// identity provider in IAM", https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html).
    /// Held as an endpoint policy, the kind that binds every caller.
    fn audiences_of(&self, provider: &str) -> Option<NamedPolicy> {
        let audiences = self
            .model()
            .identity_providers
            .get(provider)?
            .audiences
            .as_ref()?;
        let key = format!("{}:aud", super::outside::provider_name(provider));
        Some(constraint_policy(
            format!("{AUDIENCE_POLICY} {provider}"),
            "AudienceIsAClientId",
            serde_json::json!({"StringNotEquals": {key: audiences}}),
        ))
    }

    /// A service assuming a role it was handed, through the role's trust policy, with what
    /// AWS sets on the service's request (`aws:SourceArn` where the service documents it).
    fn service_assumes(
        &self,
        role: &crate::model::Role,
        service: &str,
        account: &str,
        region: &str,
        source: Option<String>,
        call: usize,
    ) -> Result<PlannedHop, String> {
        let mut context = self
            .resource_facts(&role.arn)
            .with("aws:PrincipalIsAWSService", "true")
            .with("aws:PrincipalServiceName", service)
            .with("aws:RequestedRegion", region);
        let documented = source.is_some();
        if let Some(source) = source {
            context = context
                .with("aws:SourceAccount", account)
                .with("aws:SourceArn", &source);
        }
        let policies = PolicySet {
            resource: Some(self.trust_of(role)),
            rcps: self.rcps_of(&role.account),
            ..PolicySet::default()
        };
        let mut hop = self.hop(
            &Principal::Service(service.to_string()),
            service,
            "sts:AssumeRole",
            Term::Fixed(role.arn.clone()),
            &role.account,
            policies,
            call,
            context,
            Origin::Service,
        )?;
        // Whether, and to what, the service sets the keys that name the resource it acts for
        // is not documented for every service: the solver picks them, and says so.
        if !documented {
            hop.undocumented = vec!["aws:sourceaccount".into(), "aws:sourcearn".into()];
        }
        Ok(plain_hop(hop))
    }

    /// The resource policy (as the edits leave it) and the RCPs over a technique's target:
    /// a bucket's or a key's; none for users, groups, roles and managed policies, which IAM
    /// authorizes by identity policies alone.
    fn policies_on(&self, target: &str) -> (Option<NamedPolicy>, Vec<Vec<NamedPolicy>>) {
        let model = self.model();
        if let Some(key) = model.keys.get(target) {
            let policy = key.policy.as_ref().map(|p| NamedPolicy {
                name: format!("key policy of {}", key.arn),
                policy: p.clone(),
            });
            return (
                self.edits.resource_policy(target, policy.as_ref()),
                model.key_rcp_levels(key),
            );
        }
        let bucket = target
            .strip_prefix("arn:")
            .and_then(|rest| rest.split_once(":s3:::"))
            .and_then(|(_, name)| model.buckets.get(name));
        match bucket {
            Some(bucket) => {
                let policy = bucket.policy.as_ref().map(|p| NamedPolicy {
                    name: format!("bucket policy of {}", bucket.name),
                    policy: p.clone(),
                });
                (
                    self.edits.resource_policy(target, policy.as_ref()),
                    self.rcps_of(&bucket.account),
                )
            }
            None => (None, Vec::new()),
        }
    }

    /// A role's trust policy as the edits leave it.
    fn trust_of(&self, role: &crate::model::Role) -> NamedPolicy {
        NamedPolicy {
            name: format!("trust policy of {}", role.arn),
            policy: self.edits.trust_policy(role),
        }
    }

    fn rcps_of(&self, account: &str) -> Vec<Vec<NamedPolicy>> {
        self.model()
            .account(account)
            .map(|a| a.rcp_levels())
            .unwrap_or_default()
    }

    /// What AWS sets about a user, group, role or policy a request acts on: its account and,
    /// for users and roles, its tags.
    fn resource_facts(&self, arn: &str) -> Context {
        let model = self.model();
        let mut context = Context::new().with("aws:ResourceAccount", &self.account_owning(arn));
        let tags = model
            .roles
            .get(arn)
            .map(|r| &r.tags)
            .or_else(|| model.users.get(arn).map(|u| &u.tags));
        for (key, value) in tags.into_iter().flatten() {
            context = context
                .with(&format!("aws:ResourceTag/{key}"), value)
                .with(&format!("iam:ResourceTag/{key}"), value);
        }
        context
    }

    /// The account that owns a resource: its ARN's, or for a bucket (whose ARN names none) the
    /// account of the snapshot that holds it.
    fn account_owning(&self, arn: &str) -> String {
        let model = self.model();
        arn.split_once(":s3:::")
            .and_then(|(_, name)| model.buckets.get(name))
            .map(|bucket| bucket.account.clone())
            .unwrap_or_else(|| account_of(arn))
    }

    /// The value of a fact of a technique's request about its target; `None` when absent.
    fn fact_value(&self, fact: technique::Fact, target: &str) -> Option<String> {
        let model = self.model();
        match fact {
            technique::Fact::AdministratorAccess => {
                Some(crate::service::iam::ADMINISTRATOR_ACCESS.to_string())
            }
            technique::Fact::TargetBoundary => model
                .users
                .get(target)
                .map(|u| u.permissions_boundary.clone())
                .or_else(|| {
                    model
                        .roles
                        .get(target)
                        .map(|r| r.permissions_boundary.clone())
                })
                .flatten(),
        }
    }

    /// The hops of the question's action from a reached actor on one target: the request
    /// itself, and for S3 writes the KMS checks the write may need.
    fn plan_final(
        &self,
        state: &Reached,
        caller: &Principal,
        target: &Target,
        problem: &mut Problem,
    ) -> Result<Vec<PlannedHop>, String> {
        let actor = &state.actor;
        let mut policies = self.principal_policies(actor);
        policies.resource = self.target_policy(target);
        policies.rcps = target.rcps.clone();
        if let Some(reason) = self.public_access_unknown(caller, target) {
            return Err(reason);
        }
        if let Acts::Job(id) | Acts::Code(id) = state.acts {
            let role_name = self.model().roles.get(actor).map(|r| r.name.as_str());
            if depends_on_session_name(&policies, role_name.unwrap_or_default()) {
                let service = technique::by_id(id).and_then(|t| t.service()).unwrap_or(id);
                return Err(format!(
                    "{} on {}: a policy depends on the name of the session {service} makes with {}, which AWS does not document",
                    describe_chain(&self.question.principal, &state.steps),
                    target.label,
                    short_name(actor)
                ));
            }
        }
        let resource = match &target.fixed {
            Some(fixed) => Term::Fixed(fixed.clone()),
            None => {
                let mut shapes = vec![self.pattern.clone()];
                shapes.extend(target.shapes.iter().cloned());
                let var = problem.resource_variable(0, &shapes);
                problem.separate(var, &target.excluded);
                Term::Var(var)
            }
        };
        let mut context = target.context.clone();
        let actor_account = crate::model::arn_account(actor)
            .unwrap_or_default()
            .to_string();
        if self
            .question
            .action
            .to_ascii_lowercase()
            .starts_with("kms:")
        {
            context = context.with("kms:CallerAccount", &actor_account);
            if state.is_job() {
                let region = self
                    .model()
                    .account(&actor_account)
                    .map(|a| a.region.clone())
                    .unwrap_or_else(|| "us-east-1".into());
                context = context.with("kms:ViaService", &format!("s3.{region}.amazonaws.com"));
            }
        }
        let account = target.account.clone().unwrap_or_default();
        if let Principal::Service(service) = caller {
            return self.service_acts(service, resource, &account, policies, context);
        }
        let hop = self.hop(
            caller,
            actor,
            &self.question.action,
            resource,
            &account,
            policies,
            0,
            merged(context, &state.session_tags()),
            state.origin(),
        );
        let mut hops = vec![PlannedHop {
            hop: hop?,
            is_target: true,
            guard: None,
            refused: None,
        }];
        if self.question.action.eq_ignore_ascii_case("s3:PutObject") {
            let origin = Origin::Forwarded {
                of_service_session: state.is_job(),
            };
            self.plan_encryption(state, caller, target, 0, &mut hops, problem, origin)?;
        }
        Ok(hops)
    }

    /// A service principal's own call on the question's resource, for a resource of some
    /// account that points the service at it: AWS sets `aws:SourceAccount` and
    /// `aws:SourceArn` to that account and resource ("Cross-service confused deputy
    /// prevention", https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
    /// The account is the search's ([`Search::acting_for`]) or the solver's choice; the
    /// resource is the solver's, within that account.
    fn service_acts(
        &self,
        service: &str,
        resource: Term,
        account: &str,
        mut policies: PolicySet,
        context: Context,
    ) -> Result<Vec<PlannedHop>, String> {
        let mut context = context
            .with("aws:PrincipalIsAWSService", "true")
            .with("aws:PrincipalServiceName", service);
        let mut undocumented = vec!["aws:sourceaccount", "aws:sourcearn"];
        match &self.source_account {
            Some((source, organization)) => {
                context = context.with("aws:SourceAccount", source);
                // Held as an endpoint policy: the one kind that binds every caller, identity
                // policies binding only IAM principals.
                policies.endpoints.push(source_names_account(source));
                match organization {
                    SourceOrganization::None => {}
                    SourceOrganization::Known(id) => {
                        context = context.with("aws:SourceOrgID", id);
                        undocumented.push("aws:sourceorgpaths");
                    }
                    SourceOrganization::Any => {
                        undocumented.extend(["aws:sourceorgid", "aws:sourceorgpaths"])
                    }
                }
            }
            None => undocumented.extend(["aws:sourceorgid", "aws:sourceorgpaths"]),
        }
        let mut hop = self.hop(
            &Principal::Service(service.to_string()),
            service,
            &self.question.action,
            resource,
            account,
            policies,
            0,
            context,
            Origin::Service,
        )?;
        hop.undocumented = undocumented.into_iter().map(String::from).collect();
        Ok(vec![PlannedHop {
            hop,
            is_target: true,
            guard: None,
            refused: None,
        }])
    }

    /// The KMS checks an S3 write may need: one guarded hop per key of the model that the
    /// write could use, and the variables of the encryption headers.
    #[allow(clippy::too_many_arguments)]
    fn plan_encryption(
        &self,
        state: &Reached,
        caller: &Principal,
        target: &Target,
        call: usize,
        hops: &mut Vec<PlannedHop>,
        problem: &mut Problem,
        origin: Origin,
    ) -> Result<(), String> {
        let model = self.model();
        let actor = &state.actor;
        let Some(bucket) = target.bucket.as_ref().and_then(|b| model.buckets.get(b)) else {
            return Ok(());
        };
        let actor_account = crate::model::arn_account(actor)
            .unwrap_or_default()
            .to_string();
        let region = model
            .account(&bucket.account)
            .map(|a| a.region.clone())
            .unwrap_or_else(|| "us-east-1".into());
        let default_key = bucket
            .encryption
            .as_ref()
            .filter(|e| e.algorithm.uses_kms())
            .and_then(|e| e.kms_key_id.as_deref())
            .and_then(|id| model.resolve_key(id, &bucket.account, &region))
            .map(|k| k.arn.clone());
        let mut literals: Vec<String> = KMS_ALGORITHMS.iter().map(|s| s.to_string()).collect();
        literals.push("AES256".into());
        // The header values the policies test: a key they never name matters only as the
        // bucket's default. Leaving the others out drops constraints, never adds them.
        let tested: Vec<Glob> = hops
            .iter()
            .flat_map(|p| conditions_of(&p.hop.policies))
            .filter(|condition| condition.key.eq_ignore_ascii_case(SSE_KEY_HEADER))
            .flat_map(|condition| condition.values.iter().map(|v| Glob::parse(v.raw())))
            .collect();
        let candidates = model.keys.values().filter(|key| {
            default_key.as_deref() == Some(key.arn.as_str())
                || tested.iter().any(|glob| {
                    glob.matches(&key.arn)
                        || glob.matches(&key.id)
                        || key
                            .aliases
                            .iter()
                            .any(|a| glob.matches(a) || glob.to_text().ends_with(a.as_str()))
                })
        });
        let write = KeyWrite {
            state,
            caller,
            bucket,
            target,
            region: &region,
            origin: &origin,
        };
        for (key_call, key) in (call + 1..).zip(candidates) {
            let mut names = vec![key.arn.clone()];
            if key.account == actor_account && key.region == region {
                names.push(key.id.clone());
                names.extend(key.aliases.iter().cloned());
            }
            names.extend(
                key.aliases
                    .iter()
                    .map(|a| format!("arn:aws:kms:{}:{}:{a}", key.region, key.account)),
            );
            literals.extend(names.iter().cloned());
            let mut policies = self.principal_policies(actor);
            let key_policy = key.policy.as_ref().map(|p| NamedPolicy {
                name: format!("key policy of {}", key.arn),
                policy: p.clone(),
            });
            policies.resource = self.edits.resource_policy(&key.arn, key_policy.as_ref());
            policies.rcps = model.key_rcp_levels(key);
            let hop = self.key_use_hop(&write, &key.arn, key.context(), policies, key_call)?;
            hops.push(PlannedHop {
                hop,
                is_target: false,
                guard: Some(KeyUse {
                    names,
                    is_default: default_key.as_deref() == Some(key.arn.as_str()),
                }),
                refused: key.refusal(),
            });
        }
        if let Some(external) = self.external_default_key(bucket, &region)? {
            // A default key no snapshot describes: its key policy is unknown and taken to
            // admit the writer, but the writer's own policies must still allow the use.
            let mut policies = self.principal_policies(actor);
            policies.resource = Some(super::targets::allow_all(
                "(assumed) key policy of a key outside the snapshots",
            ));
            let hop = self.key_use_hop(
                &write,
                &external,
                Context::new(),
                policies,
                call + 1 + model.keys.len(),
            )?;
            hops.push(PlannedHop {
                hop,
                is_target: false,
                guard: Some(KeyUse {
                    names: vec![external],
                    is_default: true,
                }),
                refused: None,
            });
        }
        let literal_refs: Vec<&str> = literals.iter().map(String::as_str).collect();
        problem.rule_variable(call, SSE_HEADER, &literal_refs);
        problem.rule_variable(call, SSE_KEY_HEADER, &literal_refs);
        problem.rule_variable(call, ACL_HEADER, &["bucket-owner-full-control"]);
        Ok(())
    }

    /// Why a request to a bucket under S3 Block Public Access cannot be decided: with
    /// `RestrictPublicBuckets`, a public bucket policy grants nothing to other accounts or to
    /// anonymous callers ("Blocking public access to your Amazon S3 storage",
    /// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html),
    /// and whether a policy that admits everyone counts as public depends on its conditions,
    /// which the model does not judge.
    fn public_access_unknown(&self, caller: &Principal, target: &Target) -> Option<String> {
        let bucket = self.model().buckets.get(target.bucket.as_ref()?)?;
        let restricted = bucket
            .public_access_block
            .is_some_and(|block| block.restrict_public_buckets);
        let outside_caller = match caller {
            Principal::Aws(aws) => aws.account != bucket.account,
            Principal::Anonymous => true,
            _ => false,
        };
        let admits_everyone = bucket.policy.as_ref()?.statements.iter().any(|statement| {
            statement.effect == crate::policy::Effect::Allow
                && statement.principal.as_ref().is_some_and(|element| {
                    element.negated
                        || match &element.set {
                            crate::policy::PrincipalSet::Everyone => true,
                            crate::policy::PrincipalSet::Entries(entries) => {
                                entries.iter().any(|e| e.value == "*")
                            }
                        }
                })
        });
        (restricted && outside_caller && admits_everyone).then(|| {
            format!(
                "bucket {} restricts public buckets (Block Public Access) and its policy admits everyone: whether AWS counts the policy as public, and so ignores it for {}, is not decided",
                bucket.name,
                caller.to_text()
            )
        })
    }

    /// The bucket's default key when it is a key ARN that no snapshot describes; an error
    /// when the default names a key that cannot be resolved to an ARN at all.
    fn external_default_key(
        &self,
        bucket: &crate::model::Bucket,
        region: &str,
    ) -> Result<Option<String>, String> {
        let model = self.model();
        let Some(id) = bucket
            .encryption
            .as_ref()
            .filter(|e| e.algorithm.uses_kms())
            .and_then(|e| e.kms_key_id.as_deref())
        else {
            return Ok(None);
        };
        if model.resolve_key(id, &bucket.account, region).is_some() {
            return Ok(None);
        }
        if id.starts_with("arn:") && id.contains(":key/") {
            return Ok(Some(id.to_string()));
        }
        Err(format!(
            "the default key {id} of bucket {} is in no snapshot and names no key ARN: which key a write uses cannot be told",
            bucket.name
        ))
    }

    /// S3's call to KMS for a write that uses the key `key_arn`, with the writer's
    /// credentials.
    fn key_use_hop(
        &self,
        write: &KeyWrite,
        key_arn: &str,
        key_context: Context,
        policies: PolicySet,
        call: usize,
    ) -> Result<Hop, String> {
        let actor = &write.state.actor;
        let actor_account = crate::model::arn_account(actor).unwrap_or_default();
        let key_account = crate::model::arn_account(key_arn).unwrap_or_default();
        let context = merged(
            merged(
                self.encryption_context(
                    write.bucket,
                    write.target,
                    key_account,
                    actor_account,
                    write.region,
                    &policies,
                )?,
                &key_context,
            ),
            &write.state.session_tags(),
        );
        self.hop(
            write.caller,
            actor,
            "kms:GenerateDataKey",
            Term::Fixed(key_arn.to_string()),
            key_account,
            policies,
            call,
            context,
            write.origin.clone(),
        )
    }

    /// The context of S3's call to KMS for a write: the key's account, the writer's account,
    /// S3's endpoint, and the encryption context S3 sets (the object's ARN, or the bucket's
    /// with an S3 Bucket Key).
    fn encryption_context(
        &self,
        bucket: &crate::model::Bucket,
        target: &Target,
        key_account: &str,
        actor_account: &str,
        region: &str,
        policies: &PolicySet,
    ) -> Result<Context, String> {
        let mut context = Context::new()
            .with("aws:ResourceAccount", key_account)
            .with("kms:CallerAccount", actor_account)
            .with("kms:ViaService", &format!("s3.{region}.amazonaws.com"));
        let bucket_arn = format!("arn:aws:s3:::{}", bucket.name);
        let bucket_key = bucket
            .encryption
            .as_ref()
            .is_some_and(|e| e.bucket_key_enabled);
        let tested = conditions_of(policies)
            .any(|condition| condition.key.eq_ignore_ascii_case(S3_ENCRYPTION_CONTEXT));
        match (&target.fixed, bucket_key) {
            (_, true) => context = context.with(S3_ENCRYPTION_CONTEXT, &bucket_arn),
            (Some(object), false) => context = context.with(S3_ENCRYPTION_CONTEXT, object),
            (None, false) if tested => {
                return Err(format!(
                    "a policy of the KMS check of a write to {bucket_arn} tests {S3_ENCRYPTION_CONTEXT}, the ARN of the object written; ask about one object ARN to decide it"
                ))
            }
            (None, false) => {}
        }
        Ok(context)
    }

    /// The rules S3 itself applies to a write into a bucket of the model: a KMS key id header
    /// needs SSE-KMS, and a bucket that enforces bucket-owner ownership refuses other ACLs.
    fn s3_rules(&self, problem: &Problem, target: &Target, target_hop: &Hop) -> Formula {
        let Some(bucket) = target
            .bucket
            .as_ref()
            .and_then(|b| self.model().buckets.get(b))
        else {
            return Formula::TRUE;
        };
        let action = self.question.action.to_ascii_lowercase();
        let enforced = bucket.ownership == Some(crate::model::ObjectOwnership::BucketOwnerEnforced);
        if action == "s3:putobjectacl" && enforced {
            return Formula::FALSE;
        }
        if action != "s3:putobject" {
            return Formula::TRUE;
        }
        let key_needs_kms = Formula::or([
            header_is(problem, target_hop, SSE_KEY_HEADER, &|v| v.is_none()),
            header_is(problem, target_hop, SSE_HEADER, &|v| {
                v.is_some_and(|v| KMS_ALGORITHMS.contains(&v))
            }),
        ]);
        let acl = if enforced {
            header_is(problem, target_hop, ACL_HEADER, &|v| {
                v.is_none_or(|v| v == "bucket-owner-full-control")
            })
        } else {
            Formula::TRUE
        };
        // S3 refuses any other value of the encryption header (PutObject,
        // x-amz-server-side-encryption: AES256 | aws:kms | aws:kms:dsse).
        let valid_algorithm = header_is(problem, target_hop, SSE_HEADER, &|v| {
            v.is_none_or(|v| v == "AES256" || KMS_ALGORITHMS.contains(&v))
        });
        Formula::and([key_needs_kms, acl, valid_algorithm])
    }

    /// One hop, with the context the request context model gives a call of `origin`: the
    /// principal's facts, what a service sets on its calls, the question's clock, `extra` (the
    /// resource's and the step's facts), and the `--context` values for keys left free (a
    /// person's network and sign-in describe the person's own calls only).
    #[allow(clippy::too_many_arguments)]
    fn hop(
        &self,
        caller: &Principal,
        actor_arn: &str,
        action: &str,
        resource: Term,
        resource_account: &str,
        policies: PolicySet,
        call: usize,
        extra: Context,
        origin: Origin,
    ) -> Result<Hop, String> {
        let mut fixed = principal_context(self.model(), actor_arn, caller);
        let facts = context_model::service_facts(&origin, Some(S3_SERVICE));
        for (key, value) in facts.iter().chain(self.clock.iter()) {
            fixed.insert(key, value.clone());
        }
        for (key, value) in extra.iter() {
            fixed.insert(key, value.clone());
        }
        if origin.is_service_made() {
            let address = service_address(&policies)?;
            fixed.insert("aws:SourceIp", ContextValue::Single(address.to_string()));
        }
        let mut hop = Hop {
            principal: caller.clone(),
            action: action.to_string(),
            resource,
            resource_account: Some(resource_account.to_string()),
            policies,
            call,
            fixed,
            keys: KeyFreedom::Chain(origin.clone()),
            absent: Vec::new(),
            undocumented: Vec::new(),
        };
        if self.federated {
            // Whether and to what AWS sets the provider on a federated session's calls is
            // left to the solver, and said.
            hop.undocumented.push("aws:federatedprovider".into());
        }
        self.free_outside_identity(&mut hop, actor_arn);
        for (key, value) in self.question.context.iter() {
            let describes_caller = ORIGIN_KEYS.contains(&key.to_ascii_lowercase().as_str());
            // A time given with the question is the one clock of every hop.
            let sets_clock = context_model::Clock::is_clock_key(key);
            if sets_clock || hop.is_free(key) && (!origin.is_service_made() || !describes_caller) {
                hop.fixed.insert(key, value.clone());
            }
        }
        Ok(hop)
    }

    /// A principal of an account no snapshot holds: that account names, types and tags its
    /// principals as it likes, so the keys that describe them are free. An account's root
    /// stands for all of its principals: its ARN is free too, within the account.
    fn free_outside_identity(&self, hop: &mut Hop, actor_arn: &str) {
        let Principal::Aws(caller) = &hop.principal else {
            return;
        };
        if self.model().account(&caller.account).is_some() {
            return;
        }
        let (arn, others) = OUTSIDE_IDENTITY_KEYS
            .split_last()
            .expect("the list names the ARN last");
        hop.undocumented
            .extend(others.iter().map(|key| key.to_string()));
        if crate::eval::principal::names_account(actor_arn, &caller.account) {
            hop.fixed.remove(arn);
            hop.undocumented.push(arn.to_string());
            hop.policies
                .endpoints
                .push(principal_in_account(&caller.account));
        }
    }

    fn principal_policies(&self, actor: &str) -> PolicySet {
        (*self.policies_of(actor)).clone()
    }

    /// [`Engine::may_grant`] over the actor's policies and the target's as the edits leave
    /// them.
    fn may_grant(&self, actor: &str, caller: &Principal, target: &Target) -> bool {
        let policies = self.policies_of(actor);
        let edited;
        let target = if self.edits.is_empty() {
            target
        } else {
            edited = Target {
                resource_policy: self.target_policy(target),
                ..target.clone()
            };
            &edited
        };
        self.engine.may_grant(
            actor,
            &policies,
            &self.memo_keys().fingerprint,
            caller,
            &self.question.action,
            self.pattern,
            target,
        )
    }

    /// The resource policy of a target (a bucket's or a key's) as the edits leave it.
    fn target_policy(&self, target: &Target) -> Option<NamedPolicy> {
        if self.edits.is_empty() {
            return target.resource_policy.clone();
        }
        let model = self.model();
        let arn = match (&target.bucket, &target.fixed) {
            (Some(name), _) => {
                let partition = model
                    .buckets
                    .get(name)
                    .and_then(|b| model.account(&b.account))
                    .map(|a| a.partition.as_str())
                    .unwrap_or("aws");
                format!("arn:{partition}:s3:::{name}")
            }
            (None, Some(fixed)) => fixed.clone(),
            (None, None) => return target.resource_policy.clone(),
        };
        self.edits
            .resource_policy(&arn, target.resource_policy.as_ref())
    }

    /// The edits a witness needs, in the order they were made: an edit is needed when a
    /// later request of the witness (its own chain, or a needed edit's) is one the edit
    /// bears on, by the principal it edits or on the resource or role it opens.
    fn edits_needed(&self, own: &[Link]) -> Vec<FoundEdit> {
        let mut needed: Vec<FoundEdit> = Vec::new();
        let mut later: Vec<&Link> = own.iter().collect();
        for made in self.made.iter().rev() {
            if later
                .iter()
                .any(|link| self.bears_on(made.edit, &made.target, link))
            {
                later.extend(made.links.iter());
                needed.push(made.clone());
            }
        }
        needed.reverse();
        needed
    }

    /// Whether an edit can change the decision on a request.
    fn bears_on(&self, edit: Edit, target: &str, link: &Link) -> bool {
        let model = self.model();
        let principal = principal_arn(model, &link.principal);
        match edit {
            Edit::PutInlinePolicy | Edit::AttachAdministratorAccess | Edit::RemoveBoundary => {
                principal.as_deref() == Some(target)
                    || model
                        .groups
                        .values()
                        .find(|g| g.arn == target)
                        .is_some_and(|group| {
                            principal
                                .as_deref()
                                .and_then(|p| model.users.get(p))
                                .is_some_and(|u| {
                                    u.account == group.account && u.groups.contains(&group.name)
                                })
                        })
            }
            Edit::AddUserToGroup => principal.is_some_and(|p| model.users.contains_key(&p)),
            Edit::ReplacePolicyVersion => {
                principal.is_some_and(|p| self.policy_names_of(&p).contains(target))
            }
            Edit::OpenTrust => link.resource == target,
            // A rewrite also drops denies, which no statement of the witness shows.
            Edit::RewriteResourcePolicy => {
                link.resource == target
                    || link
                        .resource
                        .strip_prefix(target)
                        .is_some_and(|rest| rest.starts_with('/'))
            }
            // A rewritten key policy allows all a grant does.
            Edit::GrantKeyUse => {
                let rewritten = self
                    .made
                    .iter()
                    .any(|m| m.edit == Edit::RewriteResourcePolicy && m.target == target);
                !rewritten
                    && link.resource == target
                    && link
                        .allowed_by
                        .iter()
                        .any(|a| a.statement == super::edits::GRANT_SID)
            }
        }
    }

    /// The names of a principal's policies and its boundary's, read once a search: an edit
    /// search asks, for each of thousands of policies, whether a request is the principal's.
    fn policy_names_of(&self, principal: &str) -> std::rc::Rc<BTreeSet<String>> {
        if let Some(hit) = self.policy_names.borrow().get(principal) {
            return hit.clone();
        }
        let names: BTreeSet<String> = self
            .model()
            .effective_policies(principal)
            .map(|e| {
                let identity = e.identity.iter().map(|i| i.policy.name.clone());
                identity.chain(e.boundary_arn.clone()).collect()
            })
            .unwrap_or_default();
        let names = std::rc::Rc::new(names);
        self.policy_names
            .borrow_mut()
            .insert(principal.to_string(), names.clone());
        names
    }

    /// Records why a reached actor cannot do the action, when no policy could grant it.
    fn record_no_grant(&mut self, state: &Reached, target: &Target) {
        let rank = (state.steps.len(), 0, 0, true);
        if self.closest.as_ref().is_some_and(|best| best.rank >= rank) {
            return;
        }
        let explanation = format!(
            "closest path: {}; it stops at its last hop: no identity-based policy of {} allows {} on resources matching {}, and {} grants it",
            describe_chain(&self.question.principal, &state.steps),
            short_name(&state.actor),
            self.question.action,
            self.question.resource,
            match &target.resource_policy {
                Some(p) => format!("no statement of the {} ({})", p.name, target.label),
                None => format!("no resource-based policy of {}", target.label),
            }
        );
        self.closest = Some(Closest {
            rank,
            stamp: self.stamp(),
            explanation,
        });
    }

    /// Solves the hops of one step or one final request: the replayed links, the hop that
    /// blocks them, or why the solver could not tell.
    fn solve(
        &self,
        planned: Vec<PlannedHop>,
        mut problem: Problem,
        target: Option<&Target>,
        describe: &str,
    ) -> SolveResult {
        let place = target
            .map(|t| format!(" on {}", t.label))
            .unwrap_or_default();
        let unsupported = |e: crate::smt::encode::Unsupported| format!("{describe}{place}: {e}");
        let mut target_var = None;
        for planned_hop in &planned {
            if let (true, Term::Var(var)) = (planned_hop.is_target, &planned_hop.hop.resource) {
                target_var = Some(*var);
            }
            if let Err(e) = problem.add_hop(planned_hop.hop.clone()) {
                return SolveResult::Unknown(unsupported(e));
            }
        }
        problem.prefer("kms:ViaService", self.engine.via_service_endpoints.clone());
        let now = self.engine.clock.at.timestamp_millis();
        problem.date_window(
            "aws:TokenIssueTime",
            now - context_model::LONGEST_SESSION_MS,
            now,
        );
        if let Err(e) = problem.finish() {
            return SolveResult::Unknown(unsupported(e));
        }
        let mut constraints = vec![problem.windows_hold()];
        if let (Some(var), Some(target)) = (target_var, target) {
            constraints.push(self.resource_constraint(&problem, var, target));
        }
        let target_hop = planned.iter().find(|p| p.is_target).map(|p| p.hop.clone());
        if let (Some(target_hop), Some(target)) = (&target_hop, target) {
            constraints.push(self.s3_rules(&problem, target, target_hop));
        }
        let guards: Vec<Formula> = planned
            .iter()
            .map(|p| match (&p.guard, &target_hop) {
                (Some(key_use), Some(target_hop)) => key_use_formula(&problem, target_hop, key_use),
                _ => Formula::TRUE,
            })
            .collect();
        let allowed: Vec<Formula> = (0..problem.hops.len())
            .map(|i| {
                let allowed = match planned[i].refused {
                    Some(_) => Formula::FALSE,
                    None => problem.allowed(i),
                };
                Formula::or([Formula::not(guards[i].clone()), allowed])
            })
            .collect();
        // The least assignment (every key absent, every value in its first region) is the
        // minimal model whenever it satisfies everything, which is common for steps whose
        // policies set no conditions: then the solver is not needed at all.
        let least = |slot: Slot| {
            if problem.variables[slot.var].may_be_absent {
                ABSENT
            } else {
                0
            }
        };
        let least_model = || -> BTreeMap<Slot, i64> {
            problem
                .variables
                .iter()
                .enumerate()
                .flat_map(|(var, v)| (0..v.slots).map(move |index| Slot { var, index }))
                .map(|slot| (slot, least(slot)))
                .collect()
        };
        // A hop whose policies settle it as denied blocks at once when the hops before it are
        // satisfied by the least assignment: no solver needed for the explanation either.
        if let Some(first_false) = allowed.iter().position(Formula::is_false) {
            if constraints
                .iter()
                .chain(&allowed[..first_false])
                .all(|f| f.eval(&least))
            {
                return SolveResult::Blocked(self.block(
                    &problem,
                    &planned,
                    first_false,
                    Some(least_model()),
                    target,
                ));
            }
        }
        let least_works = constraints.iter().chain(&allowed).all(|f| f.eval(&least));
        let values: BTreeMap<Slot, i64> = if least_works {
            least_model()
        } else {
            let mut solver = Solver::new(&problem, self.engine.options.timeout_ms);
            for formula in constraints.iter().chain(&allowed) {
                solver.assert(formula);
            }
            match solver.minimal_model() {
                Outcome::Sat(values) => values,
                Outcome::Unsat if !self.explain => {
                    return SolveResult::Blocked(Block {
                        prefix: 0,
                        hops: planned.len(),
                        hop: String::new(),
                        reason: "refuted".into(),
                    })
                }
                Outcome::Unsat => {
                    return self.blocked(
                        &problem,
                        &planned,
                        &constraints,
                        &allowed,
                        target,
                        describe,
                    )
                }
                Outcome::Unknown(reason) => {
                    return SolveResult::Unknown(format!("{describe}{place}: {reason}"))
                }
            }
        };
        let value_of = |slot: Slot| values.get(&slot).copied().unwrap_or(ABSENT);
        let made: Vec<bool> = guards.iter().map(|g| g.eval(&value_of)).collect();
        match witness(&problem, &value_of, &made) {
            Ok(solved) => SolveResult::Solved(solved),
            Err(reason) => SolveResult::Unknown(reason),
        }
    }

    /// The hop that blocks an unsatisfiable problem: the first whose addition makes the hops
    /// so far unsatisfiable.
    fn blocked(
        &self,
        problem: &Problem,
        planned: &[PlannedHop],
        constraints: &[Formula],
        allowed: &[Formula],
        target: Option<&Target>,
        describe: &str,
    ) -> SolveResult {
        let mut solver = Solver::new(problem, self.engine.options.timeout_ms);
        for constraint in constraints {
            solver.assert(constraint);
        }
        // A model of the question's own constraints (such as the resource matching its
        // pattern), so that a hop blocked first is judged on a resource of the question.
        let mut last_model = match solver.satisfiable() {
            Outcome::Sat(values) => Some(values),
            _ => None,
        };
        for (index, formula) in allowed.iter().enumerate() {
            solver.assert(formula);
            match solver.satisfiable() {
                Outcome::Sat(values) => last_model = Some(values),
                Outcome::Unsat => {
                    return SolveResult::Blocked(
                        self.block(problem, planned, index, last_model, target),
                    )
                }
                Outcome::Unknown(reason) => {
                    return SolveResult::Unknown(format!("{describe}: {reason}"))
                }
            }
        }
        SolveResult::Unknown(format!("{describe}: the solver contradicted itself"))
    }

    /// Solves through the engine's memo: a step or a final request depends only on the actor,
    /// what it does and the question, never on how the actor was reached.
    fn solve_cached(
        &self,
        key: String,
        plan: impl FnOnce() -> Result<(Vec<PlannedHop>, Problem), String>,
        target: Option<&Target>,
        describe: &str,
    ) -> SolveResult {
        if let Some(hit) = self.engine.solutions.borrow().get(&key) {
            return hit.clone();
        }
        let result = match plan() {
            Ok((planned, problem)) => self.solve(planned, problem, target, describe),
            Err(reason) => SolveResult::Unknown(reason),
        };
        // A final request is on a place of the question's resource; a step is not.
        self.engine
            .solutions
            .borrow_mut()
            .insert(key, result.clone(), target.is_some());
        result
    }

    /// The memo key of a step or final request of this question.
    fn memo_key(&self, what: String) -> String {
        let step_key = self.step_memo_key(what);
        format!(
            "{step_key}|{}|{}",
            self.question.action, self.question.resource
        )
    }

    /// The memo key of a step: the steps out of an actor are planned without the question's
    /// action and resource, so questions about other resources (a sweep, the `only` proofs of
    /// a file) share their solutions.
    fn step_memo_key(&self, what: String) -> String {
        what + &self.memo_keys().step_suffix
    }

    /// The memo keys' common parts, as the edits made so far leave them.
    fn memo_keys(&self) -> std::rc::Rc<MemoKeys> {
        // Read off the edits at each use, never kept for a round: whatever makes or undoes
        // an edit, a key cannot outlive the edits it was told for.
        if self.edits.is_empty() {
            return self
                .unedited_keys
                .get_or_init(|| std::rc::Rc::new(self.memo_keys_of_edits()))
                .clone();
        }
        let fingerprint = self.edits.fingerprint();
        if let Some((told_for, keys)) = &*self.edited_keys.borrow() {
            if Arc::ptr_eq(told_for, &fingerprint) {
                return keys.clone();
            }
        }
        let keys = std::rc::Rc::new(self.memo_keys_of_edits());
        *self.edited_keys.borrow_mut() = Some((fingerprint, keys.clone()));
        keys
    }

    /// The memo keys' common parts for the edits made so far, told anew.
    fn memo_keys_of_edits(&self) -> MemoKeys {
        let fingerprint = match self.edits.is_empty() {
            true => String::new(),
            false => self.engine.edit_set_name(&self.edits.fingerprint()),
        };
        let context: Vec<String> = self
            .question
            .context
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        // A federated search frees aws:FederatedProvider on every hop: its solutions are its own.
        let step_suffix = format!(
            "|{}|{}|{fingerprint}|{:?}|{}",
            context.join(","),
            self.explain,
            self.source_account,
            self.federated
        );
        MemoKeys {
            fingerprint,
            step_suffix,
        }
    }

    /// Records a blocked step or final request when it got further than any before.
    fn record(&mut self, block: &Block, state: &Reached, is_final: bool, describe: &str) {
        let passed = state.links.len();
        let rank = (state.steps.len(), block.prefix, block.hops, is_final);
        if self.closest.as_ref().is_some_and(|best| best.rank >= rank) {
            return;
        }
        let explanation = format!(
            "closest path: {describe}; it stops at hop {} of the path, {}: {} (no context changes that)",
            passed + block.prefix + 1,
            block.hop,
            block.reason
        );
        self.closest = Some(Closest {
            rank,
            stamp: self.stamp(),
            explanation,
        });
    }

    fn resource_constraint(&self, problem: &Problem, var: usize, target: &Target) -> Formula {
        let domain = &problem.variables[var].domain;
        let allowed: BTreeSet<i64> = (0..domain.len())
            .filter(|&i| {
                let witness = domain.witness(i).unwrap_or_default();
                self.pattern.matches_arn(&witness)
                    && target.shapes.iter().all(|s| s.matches_arn(&witness))
                    && !target.excluded.iter().any(|e| e.matches_arn(&witness))
            })
            .map(|i| i as i64)
            .collect();
        Formula::within(Slot { var, index: 0 }, allowed, domain.len())
    }

    /// Which hop blocks a problem, and what the evaluator says of it.
    fn block(
        &self,
        problem: &Problem,
        planned: &[PlannedHop],
        prefix: usize,
        model: Option<BTreeMap<Slot, i64>>,
        target: Option<&Target>,
    ) -> Block {
        let values = model.unwrap_or_default();
        let value_of = |slot: Slot| {
            values.get(&slot).copied().unwrap_or_else(|| {
                if problem.variables[slot.var].may_be_absent {
                    ABSENT
                } else {
                    0
                }
            })
        };
        let requests = requests(problem, &value_of);
        let reason = match &planned[prefix].refused {
            Some(refusal) => refusal.clone(),
            None => requests
                .get(prefix)
                .map(|(request, policies)| explain_refusal(request, policies))
                .unwrap_or_default(),
        };
        let hop = &planned[prefix].hop;
        let resource = match (&hop.resource, target) {
            (Term::Fixed(r), _) => r.clone(),
            (Term::Var(_), Some(target)) => {
                format!("{} ({})", self.question.resource, target.label)
            }
            (Term::Var(_), None) => self.question.resource.clone(),
        };
        Block {
            prefix,
            hops: planned.len(),
            hop: format!("{} {} on {resource}", hop.principal.to_text(), hop.action),
            reason,
        }
    }

    fn echo(&self) -> QueryEcho {
        QueryEcho::of(self.question)
    }

    /// The answer when nothing was reachable.
    fn conclude(mut self) -> Answer {
        let echo = self.echo();
        for role in &self.tags_untried {
            self.unknown.push(format!(
                "sessions of {} may carry several tags at once, which the search does not try",
                short_name(role)
            ));
        }
        for file in &self.model().truncated {
            self.unknown.push(format!(
                "{file} is truncated (IsTruncated: true): a principal or policy it leaves out may give a way"
            ));
        }
        // Each says what the model leaves out, and why it matters.
        for reason in &self.model().unread {
            self.unknown.push(reason.clone());
        }
        self.unknown
            .extend(std::mem::take(&mut self.unmodelled).into_values());
        if !self.unknown.is_empty() {
            return Answer::without_chain(echo, Verdict::Unknown, self.unknown.join("; "));
        }
        let assumptions = self.time_statement();
        let reason = match self.closest {
            Some(closest) => closest.explanation,
            None if self.combinations == 0 => format!(
                "no delegation path: {} holds no way to {} itself, through a role it may assume, or by any technique {}",
                self.question.principal,
                self.question.action,
                match self.engine.scope() {
                    super::Scope::All => "of the model",
                    super::Scope::Configured => "of the account as configured",
                }
            ),
            None => "every path is blocked".into(),
        };
        Answer {
            verdict: Verdict::Unreachable,
            query: echo,
            chain: Vec::new(),
            assumptions,
            reason: Some(reason),
            outside: None,
        }
    }

    /// Which instant the answer is about, when a policy of the model reads the time.
    fn time_statement(&self) -> Vec<String> {
        if !self.engine.reads_time() {
            return Vec::new();
        }
        let given = self
            .question
            .context
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("aws:CurrentTime"));
        vec![match given {
            Some((_, value)) => format!(
                "aws:CurrentTime is {} (given with the question)",
                value.as_slice().join(",")
            ),
            None => self.engine.clock.statement(),
        }]
    }
}

/// `context` with the values of `more` added (and overriding).
fn merged(mut context: Context, more: &Context) -> Context {
    for (key, value) in more.iter() {
        context.insert(key, value.clone());
    }
    context
}

/// Every condition of every statement of a hop's policy set.
fn conditions_of(set: &PolicySet) -> impl Iterator<Item = &crate::policy::condition::Condition> {
    policies_in(set)
        .flat_map(|policy| &policy.statements)
        .flat_map(|statement| &statement.conditions)
}

/// Every policy of a hop's policy set.
fn policies_in(set: &PolicySet) -> impl Iterator<Item = &crate::policy::Policy> {
    named_policies_in(set).map(|named| named.policy.as_ref())
}

/// Every policy of a hop's policy set, with its name.
fn named_policies_in(set: &PolicySet) -> impl Iterator<Item = &NamedPolicy> {
    set.identity
        .iter()
        .chain(&set.boundaries)
        .chain(&set.session)
        .chain(&set.resource)
        .chain(set.scps.iter().flatten())
        .chain(set.rcps.iter().flatten())
        .chain(&set.endpoints)
}

/// Adds the assumptions of `more` that `all` lacks, in order.
fn merge(all: &mut Vec<String>, more: Vec<String>) {
    for assumption in more {
        if !all.contains(&assumption) {
            all.push(assumption);
        }
    }
}

/// The concrete requests of a problem under an assignment of its slots.
fn requests(problem: &Problem, values: &dyn Fn(Slot) -> i64) -> Vec<(Request, PolicySet)> {
    (0..problem.hops.len())
        .map(|i| {
            let hop = &problem.hops[i];
            let (resource, context) = problem.concretize(i, values);
            (
                Request {
                    principal: hop.principal.clone(),
                    action: hop.action.clone(),
                    resource,
                    resource_account: hop.resource_account.clone(),
                    context,
                },
                hop.policies.clone(),
            )
        })
        .collect()
}

/// The replayed links of a solved problem: the requests that are made (a guarded KMS check
/// only when the write uses that key), each checked by the concrete evaluator.
fn witness(
    problem: &Problem,
    value_of: &dyn Fn(Slot) -> i64,
    made: &[bool],
) -> Result<Solved, String> {
    let requests: Vec<(Request, PolicySet)> = requests(problem, value_of)
        .into_iter()
        .zip(made)
        .filter(|(_, made)| **made)
        .map(|(r, _)| r)
        .collect();
    let allowed_by = replay(&requests).map_err(|e| {
        format!("internal error: a witness did not replay through the evaluator: {e}")
    })?;
    if let Some(request) = requests.iter().map(|(r, _)| r).find(|r| issued_later(r)) {
        return Err(format!(
            "the only witness found for {} {} needs a session issued after the question's instant (aws:TokenIssueTime)",
            request.principal.to_text(),
            request.action
        ));
    }
    let hops: Vec<&Hop> = problem
        .hops
        .iter()
        .zip(made)
        .filter(|(_, made)| **made)
        .map(|(hop, _)| hop)
        .collect();
    let mut assumptions = Vec::new();
    let mut links = Vec::new();
    for (((request, policies), allowed_by), hop) in requests.iter().zip(allowed_by).zip(hops) {
        if let KeyFreedom::Chain(origin) = &hop.keys {
            let chosen = request
                .context
                .iter()
                .filter(|(key, _)| !hop.fixed.contains(key));
            for (key, _) in chosen {
                let is_user = matches!(&request.principal, Principal::Aws(p) if p.kind == crate::eval::AwsPrincipalKind::User);
                let assumption = if is_user && key.eq_ignore_ascii_case("aws:TokenIssueTime") {
                    // A user's access keys carry no issue time; its own temporary credentials
                    // (sts:GetSessionToken) do, and call IAM only with MFA ("Compare AWS STS
                    // credentials", https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html).
                    Some(format!(
                        "{} signs {} with temporary credentials of its own (sts:GetSessionToken{}), which the snapshots do not record",
                        request.principal.to_text(),
                        request.action,
                        if request.action.to_ascii_lowercase().starts_with("iam:") {
                            ", with an MFA device, which IAM calls need"
                        } else {
                            ""
                        }
                    ))
                } else if let Some(account) = outside_identity_key(&request.principal, key) {
                    tested_by_the_account_s_policies(&hop.policies, key).then(|| format!(
                        "account {account} is not in the snapshots: it names, types and tags its own principals, and one has {key} as the witness says"
                    ))
                } else if hop.is_undocumented(key) {
                    Some(format!(
                        "{} sets {key} on its {} as the witness says (undocumented)",
                        request.principal.to_text(),
                        request.action
                    ))
                } else {
                    context_model::assumption_for(key, origin, &request.action)
                };
                merge(&mut assumptions, assumption.into_iter().collect());
            }
        }
        let mut unique = Vec::new();
        for entry in allowed_by {
            if !unique.contains(&entry) {
                unique.push(entry);
            }
        }
        links.push(Link {
            principal: request.principal.to_text(),
            action: request.action.clone(),
            resource: request.resource.clone(),
            context: shown_context(&request.context, policies),
            allowed_by: unique,
            change: None,
        });
    }
    Ok((links, assumptions))
}

/// Whether a request's session would be issued after the request is made: no credentials
/// are issued in the future.
fn issued_later(request: &Request) -> bool {
    let instant = |key: &str| {
        request
            .context
            .get(key)
            .and_then(|v| v.as_slice().first().cloned())
            .and_then(|text| crate::policy::condition::parse_date_millis(&text))
    };
    matches!(
        (instant("aws:TokenIssueTime"), instant("aws:CurrentTime")),
        (Some(issued), Some(now)) if issued > now
    )
}

/// Keys that follow from the principal or the resource of a request: implied by the request,
/// so a witness does not print them.
fn is_implied_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    const IMPLIED: [&str; 6] = [
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:principalisawsservice",
        "aws:username",
        "kms:calleraccount",
    ];
    const IMPLIED_PREFIXES: [&str; 7] = [
        "aws:principaltag/",
        "aws:resourceaccount",
        "s3:resourceaccount",
        "s3:buckettag/",
        "aws:resourcetag/",
        "iam:resourcetag/",
        "aws:principalservicename",
    ];
    IMPLIED.contains(&key.as_str()) || IMPLIED_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// Keys AWS sets on every call of a kind (the clock, the transport, whether a service
/// forwards the call): a witness shows them only where a policy of the hop tests them.
fn is_ambient_key(key: &str) -> bool {
    const AMBIENT: [&str; 12] = [
        "aws:requestedregion",
        "aws:multifactorauthpresent",
        "aws:currenttime",
        "aws:epochtime",
        "aws:viaawsservice",
        "aws:securetransport",
        "aws:userid",
        "aws:sourceip",
        "aws:calledvia",
        "aws:calledviafirst",
        "aws:calledvialast",
        "sts:rolesessionname",
    ];
    AMBIENT.contains(&key.to_ascii_lowercase().as_str()) || context_model::is_key_property(key)
}

/// The context a witness shows: what the service set and what the solver chose.
fn shown_context(context: &Context, policies: &PolicySet) -> serde_json::Value {
    let tested: BTreeSet<String> = conditions_of(policies)
        .map(|condition| condition.key.to_ascii_lowercase())
        .collect();
    let mut shown = Context::new();
    let keys = context.iter().filter(|(key, _)| {
        !is_implied_key(key) && (!is_ambient_key(key) || tested.contains(&key.to_ascii_lowercase()))
    });
    for (key, value) in keys {
        shown.insert(key, value.clone());
    }
    shown.to_json()
}

/// Where a service's own call comes from: an address of AWS's, which is never in a private
/// or documentation range. When the policies name only such ranges, a stand-in AWS address
/// decides them all; a public range may hold AWS's addresses, which the snapshots do not
/// record, so the hop cannot be decided and the reason says why.
fn service_address(policies: &PolicySet) -> Result<&'static str, String> {
    let ranges: Vec<ipnet::IpNet> = conditions_of(policies)
        .filter(|condition| condition.key.eq_ignore_ascii_case("aws:SourceIp"))
        .flat_map(|condition| &condition.values)
        .filter_map(|value| crate::policy::condition::parse_ip_range(value.raw()))
        .collect();
    match ranges
        .iter()
        .find(|range| !context_model::is_never_aws_range(range))
    {
        Some(public) => Err(format!(
            "a policy tests aws:SourceIp against {public}, and the address a service calls from is AWS's, which the snapshots do not record"
        )),
        None => Ok(context_model::SERVICE_ADDRESS),
    }
}

/// Whether a hop's policies depend on the name of a session of `role_name`: they test
/// `aws:userid`, or name one of its sessions.
fn depends_on_session_name(policies: &PolicySet, role_name: &str) -> bool {
    let session_arn = format!(":assumed-role/{role_name}/").to_ascii_lowercase();
    policies_in(policies)
        .flat_map(|policy| &policy.statements)
        .flat_map(super::sessions::statement_strings)
        .map(str::to_ascii_lowercase)
        .any(|text| text.contains("aws:userid") || text.contains(&session_arn))
}

/// A predicate on one header of the target hop: on its fixed value, or on its variable.
fn header_is(
    problem: &Problem,
    hop: &Hop,
    key: &str,
    holds: &dyn Fn(Option<&str>) -> bool,
) -> Formula {
    if !hop.is_free(key) {
        let value = hop
            .fixed
            .get(key)
            .and_then(|v| v.as_slice().first().cloned());
        return Formula::Const(holds(value.as_deref()));
    }
    match problem.variable_of(hop.call, key) {
        Some(var) => problem.where_value(var, holds),
        None => Formula::Const(holds(None)),
    }
}

/// Whether the write uses the key of a guarded KMS hop.
fn key_use_formula(problem: &Problem, target_hop: &Hop, key_use: &KeyUse) -> Formula {
    let kms = header_is(problem, target_hop, SSE_HEADER, &|v| {
        v.is_some_and(|v| KMS_ALGORITHMS.contains(&v))
    });
    let no_header = header_is(problem, target_hop, SSE_HEADER, &|v| v.is_none());
    let names_key = header_is(problem, target_hop, SSE_KEY_HEADER, &|v| {
        v.is_some_and(|v| key_use.names.iter().any(|n| n == v))
    });
    let no_key = header_is(problem, target_hop, SSE_KEY_HEADER, &|v| v.is_none());
    let by_header = Formula::and([kms.clone(), names_key]);
    if !key_use.is_default {
        return by_header;
    }
    Formula::or([by_header, no_header, Formula::and([kms, no_key])])
}

/// The claims a token or assertion of `provider` does not carry: the keys the policies test
/// that belong to another provider ("Available keys for AWS OIDC federation",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif).
fn other_providers_claims(provider: &str, policies: &PolicySet) -> Vec<String> {
    let own = super::outside::provider_name(provider).to_ascii_lowercase();
    let saml = crate::eval::principal::is_saml_provider(provider);
    conditions_of(policies)
        .map(|c| c.key.to_ascii_lowercase())
        .filter(|key| match key.rsplit_once(':') {
            Some(("saml", _)) => !saml,
            Some((issuer, _)) if issuer.contains('.') => saml || issuer != own,
            _ => false,
        })
        .collect()
}

/// Why a request is refused. The constraints that keep a witness's free values consistent
/// ([`principal_in_account`], [`source_names_account`]) refuse only values the solver chose
/// for the explanation: when one does and the policies of the account refuse too, theirs is
/// the reason.
fn explain_refusal(request: &Request, policies: &PolicySet) -> String {
    let evaluation = crate::eval::evaluate(request, policies);
    let synthetic =
        |named: &NamedPolicy| named.name == PRINCIPAL_POLICY || named.name == SOURCE_POLICY;
    if !evaluation.reason.contains(PRINCIPAL_POLICY) && !evaluation.reason.contains(SOURCE_POLICY) {
        return evaluation.reason;
    }
    let mut own = policies.clone();
    own.endpoints.retain(|named| !synthetic(named));
    let without = crate::eval::evaluate(request, &own);
    if without.decision == crate::eval::Decision::Allowed {
        evaluation.reason
    } else {
        without.reason
    }
}

/// The account of an outside principal whose identity `key` describes, when the key is one
/// its account chooses ([`Search::free_outside_identity`]).
fn outside_identity_key<'p>(principal: &'p Principal, key: &str) -> Option<&'p str> {
    let Principal::Aws(caller) = principal else {
        return None;
    };
    let key = key.to_ascii_lowercase();
    let describes = OUTSIDE_IDENTITY_KEYS.iter().any(|chosen| {
        if chosen.ends_with('/') {
            key.starts_with(chosen)
        } else {
            key == *chosen
        }
    });
    describes.then_some(caller.account.as_str())
}

/// The keys that describe a principal of another account, which that account chooses (in
/// lowercase; one ending in `/` names a family): the ARN, last, only for an account's root,
/// which stands for every principal of the account.
const OUTSIDE_IDENTITY_KEYS: [&str; 5] = [
    "aws:principaltype",
    "aws:principaltag/",
    "aws:userid",
    "aws:username",
    "aws:principalarn",
];

/// Whether a policy other than [`principal_in_account`]'s tests `key`.
fn tested_by_the_account_s_policies(policies: &PolicySet, key: &str) -> bool {
    named_policies_in(policies)
        .filter(|named| named.name != PRINCIPAL_POLICY)
        .flat_map(|named| &named.policy.statements)
        .flat_map(|s| &s.conditions)
        .any(|c| c.key.eq_ignore_ascii_case(key))
}

/// What AWS sets for a principal of `account`: its ARN is one of that account's. Held as an
/// endpoint policy, the kind that binds every caller.
fn principal_in_account(account: &str) -> NamedPolicy {
    constraint_policy(
        PRINCIPAL_POLICY,
        "PrincipalArnInPrincipalAccount",
        serde_json::json!({
            "StringNotLike": {"aws:PrincipalArn": format!("arn:*:iam::{account}:*")},
            "Null": {"aws:PrincipalArn": "false"}
        }),
    )
}

/// A check AWS makes that no policy of the account states, as an endpoint policy (the one
/// kind that binds every caller, identity policies binding only IAM principals): everything
/// is allowed but what `refused` (a `Condition` element) describes.
fn constraint_policy(
    name: impl Into<String>,
    sid: &str,
    refused: serde_json::Value,
) -> NamedPolicy {
    let text = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AnyRequest", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": sid, "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": refused}
        ]
    });
    NamedPolicy::new(
        name,
        crate::policy::Policy::from_value(&text).expect("a constraint policy parses"),
    )
}

/// The name of [`principal_in_account`]'s policy: witnesses leave it out of what allows a hop.
pub(crate) const PRINCIPAL_POLICY: &str =
    "what AWS sets on a call of another account's principal (aws:PrincipalArn in its account)";

/// The call by which a provider's token or assertion buys a role session.
pub(crate) fn federated_action(provider: &str) -> &'static str {
    if crate::eval::principal::is_saml_provider(provider) {
        "sts:AssumeRoleWithSAML"
    } else {
        "sts:AssumeRoleWithWebIdentity"
    }
}

/// The start of the name of [`Search::audiences_of`]'s policies.
pub(crate) const AUDIENCE_POLICY: &str = "the client ids of";

/// The name of [`source_names_account`]'s policy: witnesses leave it out of what allows a hop.
pub(crate) const SOURCE_POLICY: &str =
    "what AWS sets on a service's call (aws:SourceArn in aws:SourceAccount)";

/// What AWS sets on a service's call for a resource of `account`: `aws:SourceArn` names a
/// resource of that account. A deny the witness must satisfy, so that the solver cannot pick
/// a resource of another account.
fn source_names_account(account: &str) -> NamedPolicy {
    constraint_policy(
        SOURCE_POLICY,
        "SourceArnInSourceAccount",
        serde_json::json!({
            "StringNotLike": {"aws:SourceArn": format!("arn:*:*:*:{account}:*")},
            "Null": {"aws:SourceArn": "false"}
        }),
    )
}

fn acting(arn: &str, session: &str) -> Result<Principal, String> {
    acting_principal(arn, session).ok_or_else(|| format!("{arn} is not a principal ARN"))
}

/// Context keys that follow from the principal.
pub(crate) fn principal_context(model: &Model, actor_arn: &str, caller: &Principal) -> Context {
    let Principal::Aws(aws) = caller else {
        return Context::new();
    };
    let mut context = Context::new()
        .with("aws:PrincipalArn", actor_arn)
        .with("aws:PrincipalAccount", &aws.account)
        .with("aws:PrincipalIsAWSService", "false");
    let organization_id = model
        .account(&aws.account)
        .and_then(|a| a.organization.as_ref())
        .and_then(|o| o.id.as_deref());
    if let Some(id) = organization_id {
        context = context.with("aws:PrincipalOrgID", id);
    }
    let tags = match model.principal_type(actor_arn) {
        Some(PrincipalType::User) => {
            let user = &model.users[actor_arn];
            context = context
                .with("aws:PrincipalType", "User")
                .with("aws:username", &user.name);
            if let Some(id) = &user.unique_id {
                context = context.with("aws:userid", id);
            }
            &user.tags
        }
        Some(PrincipalType::Role) => {
            let role = &model.roles[actor_arn];
            context = context.with("aws:PrincipalType", "AssumedRole");
            let session = match &aws.kind {
                crate::eval::AwsPrincipalKind::RoleSession { session, .. } => Some(session),
                _ => None,
            };
            if let (Some(id), Some(session)) = (&role.unique_id, session) {
                context = context.with("aws:userid", &format!("{id}:{session}"));
            }
            &role.tags
        }
        None => return context,
    };
    for (key, value) in tags {
        context = context.with(&format!("aws:PrincipalTag/{key}"), value);
    }
    context
}

/// `user/editor -> MediaConvert job with role/X`, for explanations.
pub fn describe_chain(principal: &str, steps: &[Step]) -> String {
    let mut text = short_name(principal);
    for step in steps {
        match step.technique() {
            None => text.push_str(&format!(" -> assumes {}", short_name(step.target()))),
            Some(technique) => text.push_str(&format!(
                " -> {} {}",
                technique.step,
                short_name(step.target())
            )),
        }
    }
    text
}

/// Where a step is made: the region of its requests, and the existing resource it uses.
#[derive(Debug, Clone, Default)]
struct Place {
    region: Option<String>,
    existing: Option<String>,
}

/// Whether some request of `action` may be allowed by the principal side `policies`: an
/// identity Allow covers it, every boundary and SCP level has an Allow that covers it, and no
/// Deny without conditions covers it on every resource.
fn may_be_allowed(policies: &PolicySet, action: &str) -> bool {
    use crate::policy::Effect;
    let allows = |set: &[NamedPolicy]| {
        set.iter()
            .flat_map(|p| &p.policy.statements)
            .any(|s| s.effect == Effect::Allow && s.action.covers(action))
    };
    let everywhere = |s: &crate::policy::Statement| {
        s.resource.as_ref().is_some_and(|element| {
            !element.negated
                && element.patterns.iter().any(|p| {
                    p.resolve_glob(&crate::policy::template::NoVariables)
                        .is_some_and(|glob| glob.is_match_all())
                })
        })
    };
    let denied = policies
        .identity
        .iter()
        .chain(&policies.boundaries)
        .chain(policies.scps.iter().flatten())
        .flat_map(|p| &p.policy.statements)
        .any(|s| {
            s.effect == Effect::Deny
                && s.action.covers(action)
                && s.conditions.is_empty()
                && everywhere(s)
        });
    allows(&policies.identity)
        && (policies.boundaries.is_empty() || allows(&policies.boundaries))
        && policies.scps.iter().all(|level| allows(level))
        && !denied
}

/// The API call of each request of a technique: `iam:PassRole` is checked within the call
/// that hands the role over (the request before it, or the first after it when it comes
/// first); every other request is a call of its own.
fn api_calls(technique: &Technique) -> Vec<usize> {
    let passes = |i: usize| {
        technique.needs[i]
            .action
            .eq_ignore_ascii_case("iam:PassRole")
    };
    let mut calls = Vec::with_capacity(technique.needs.len());
    let mut next = 0;
    for index in 0..technique.needs.len() {
        let joins_previous = index > 0 && (passes(index) || passes(index - 1) && index == 1);
        if joins_previous {
            calls.push(calls[index - 1]);
        } else {
            calls.push(next);
            next += 1;
        }
    }
    calls
}

/// The account of an ARN, owned.
/// The name of the bucket an ARN names, when it names a bucket.
fn bucket_of(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (_, _, service) = (parts.next()?, parts.next()?, parts.next()?);
    let resource = parts.nth(2)?;
    (service == "s3" && !resource.is_empty() && !resource.contains('/')).then_some(resource)
}

fn account_of(arn: &str) -> String {
    crate::model::arn_account(arn)
        .unwrap_or_default()
        .to_string()
}

fn plain_hop(hop: Hop) -> PlannedHop {
    PlannedHop {
        hop,
        is_target: false,
        guard: None,
        refused: None,
    }
}

/// The ARN a step leads to, as the graph shares it ([`Step::target`]).
fn shared_target(step: &Step) -> &Arc<str> {
    match step {
        Step::AssumeRole { role } => role,
        Step::Technique { target, .. } => target,
    }
}

/// How the actor a step leads to acts.
fn acts_after(step: &Step) -> Acts {
    match step.technique() {
        Some(Technique {
            id,
            gain: Gain::Job { .. },
            ..
        }) => Acts::Job(id),
        Some(Technique {
            id,
            gain: Gain::RunsAs,
            ..
        }) => Acts::Code(id),
        _ => Acts::Itself,
    }
}

/// The session name a service gives the role sessions it makes: a job's documented
/// stand-in, else the service principal (AWS names them after the function, the instance,
/// the job, which the search does not pick).
fn service_session_name(technique: &Technique) -> String {
    match (technique.gain, technique.service()) {
        (Gain::Job { session, .. }, _) => session.to_string(),
        (_, Some(service)) if technique.becomes_target() => service.to_string(),
        _ => ASSUMED_SESSION_NAME.to_string(),
    }
}

/// What a technique's last request starts or changes, for the witness.
fn technique_change(technique: &Technique, target: &str) -> String {
    format!(
        "{}: {} ({})",
        technique.id,
        technique.summary,
        short_name(target)
    )
}

/// Fills in what each edit of a witness changed: the smallest policy that allows the later
/// requests it is needed for, where the attacker writes one.
fn describe_edits(edits: &[FoundEdit], chain: &mut [Link]) {
    let mut position = 0;
    for made in edits {
        position += made.links.len();
        let written = match made.edit {
            Edit::PutInlinePolicy => Some(crate::model::inline_policy_name(
                &made.target,
                crate::service::iam::ESCALATION_POLICY_NAME,
            )),
            Edit::ReplacePolicyVersion => Some(made.target.clone()),
            _ => None,
        };
        let Some(name) = written else {
            continue;
        };
        let needed: Vec<(String, String)> = chain[position..]
            .iter()
            .filter(|link| link.allowed_by.iter().any(|a| a.policy == name))
            .map(|link| (link.action.clone(), link.resource.clone()))
            .collect();
        if let Some(link) = chain.get_mut(position.wrapping_sub(1)) {
            let what = link.change.take().unwrap_or_default();
            link.change = Some(format!("{what}; {name} reads {}", smallest_policy(&needed)));
        }
    }
}

/// The user or role ARN of a witness link's principal (a role for its sessions).
fn principal_arn(model: &Model, principal: &str) -> Option<String> {
    if model.users.contains_key(principal) || model.roles.contains_key(principal) {
        return Some(principal.to_string());
    }
    let (_, rest) = principal.split_once(":assumed-role/")?;
    let account = crate::model::arn_account(principal)?;
    let name = rest.split('/').next()?;
    model
        .roles
        .values()
        .find(|r| r.account == account && r.name == name)
        .map(|r| r.arn.clone())
}

/// The smallest policy document allowing the requests an edit was needed for.
fn smallest_policy(needed: &[(String, String)]) -> String {
    let mut actions: Vec<&str> = needed.iter().map(|(a, _)| a.as_str()).collect();
    let mut resources: Vec<&str> = needed.iter().map(|(_, r)| r.as_str()).collect();
    actions.sort();
    actions.dedup();
    resources.sort();
    resources.dedup();
    if actions.is_empty() {
        return r#"{"Version": "2012-10-17", "Statement": []}"#.into();
    }
    let document = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]
    });
    document.to_string()
}

fn short_name(arn: &str) -> String {
    arn.split_once(":user/")
        .map(|(_, n)| format!("user/{n}"))
        .or_else(|| arn.split_once(":role/").map(|(_, n)| format!("role/{n}")))
        .unwrap_or_else(|| arn.to_string())
}
