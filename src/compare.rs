//! `compare`: does a new policy allow any request that an old one does not?
//!
//! This is the "no new access" check of a policy change, decided offline by the solver with a
//! concrete counterexample. Both documents must be of one kind:
//! - **identity policies** are compared as the only policy of one principal: the principal is
//!   seen only through its context keys, so every key (even `aws:PrincipalArn`) is free, and the
//!   resource's own policy is taken to delegate to IAM (as a default key policy does);
//! - **resource policies** (those with `Principal`) are compared by what they grant on their
//!   own: the caller is in another account whose IAM allows everything, so the policy alone
//!   decides. Callers are drawn from one class per way a `Principal` element can name them:
//!   each ARN (and a session of each role), the root and another principal of each named
//!   account and of one unnamed account, anonymous callers, and each named service.
//!
//! Actions range over the classes the action patterns of both documents (plus the actions the
//! evaluator treats specially) draw, service by service, so no class of actions is missed; a
//! class is represented by a real action name where one is known. Resources (any string, ARN
//! or not) and context values are solver variables, and service keys may hold sets. A
//! counterexample is replayed through the evaluator against both documents.

use crate::eval::{
    evaluate, Decision, Evaluation, NamedPolicy, PolicySet, Principal, Request,
    POLICY_WRITE_ACTIONS, TRUST_ACTIONS,
};
use crate::policy::pattern::Glob;
use crate::policy::{Context, ContextValue, Policy, PrincipalKind, PrincipalSet};
use crate::query::AllowedBy;
use crate::smt::encode::{text_pattern, Hop, KeyFreedom, Problem, Term, Unsupported};
use crate::smt::formula::{Formula, Slot};
use crate::smt::regions;
use crate::smt::solve::{Outcome, Solver};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The account of the stand-in principal that holds an identity policy.
const SAMPLE_ACCOUNT: &str = "111122223333";
/// The name of stand-in principals; a principal of that name in a policy is matched by ARN.
const SAMPLE_NAME: &str = "iamproof-sample";

/// What kind of documents were compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    Identity,
    Resource,
}

/// The outcome of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareVerdict {
    /// NEW allows a request that OLD does not; the request is shown.
    NewAccess,
    /// Proved: every request NEW allows, OLD allows too.
    NoNewAccess,
    /// Undecided; the reason says why.
    Unknown,
}

/// The newly allowed request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewlyAllowed {
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// The account that owns the resource (as `simulate` takes it).
    pub resource_account: String,
    pub context: serde_json::Value,
}

/// What the evaluator says of the request under one document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub decision: Decision,
    pub allowed_by: Vec<AllowedBy>,
    pub reason: String,
}

impl Verdict {
    /// The evaluation, with only the compared document's statements named: the stand-in
    /// policies around it are the same on both sides.
    fn of(evaluation: &Evaluation, document: &str) -> Verdict {
        Verdict {
            decision: evaluation.decision,
            allowed_by: evaluation
                .allowed_by
                .iter()
                .filter(|m| m.policy == document)
                .map(AllowedBy::from)
                .collect(),
            reason: evaluation.reason.clone(),
        }
    }
}

/// The answer of [`compare`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub verdict: CompareVerdict,
    pub kind: PolicyKind,
    pub request: Option<NewlyAllowed>,
    pub old: Option<Verdict>,
    pub new: Option<Verdict>,
    pub reason: Option<String>,
}

/// Documents that cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CompareError(pub String);

/// One document to compare, with the name its statements are reported under.
pub struct Document<'a> {
    pub name: &'a str,
    pub policy: &'a Policy,
}

/// Does `new` allow any request that `old` does not?
pub fn compare(old: Document, new: Document, timeout_ms: u32) -> Result<Comparison, CompareError> {
    let kind = kind_of_pair(&old, &new)?;
    let setting = Setting::new(kind, &old, &new);
    let action_patterns = ActionPatterns::of(old.policy, new.policy);
    let (actions, incomplete) = action_patterns.representatives();
    let mut undecided: Vec<String> = incomplete.into_iter().collect();
    // NEW allows an action only through one of its own statements.
    let new_covers = |action: &str| {
        new.policy
            .statements
            .iter()
            .any(|s| s.effect == crate::policy::Effect::Allow && s.action.covers(action))
    };
    for action in actions.into_iter().filter(|a| new_covers(a)) {
        for caller in &setting.callers {
            match setting.search(&action, caller, timeout_ms) {
                Search::Found(found) => {
                    return Ok(setting.with_known_action(*found, &action_patterns))
                }
                Search::None => {}
                Search::Undecided(reason) => {
                    if !undecided.contains(&reason) {
                        undecided.push(reason);
                    }
                }
            }
        }
    }
    let (verdict, reason) = if undecided.is_empty() {
        (CompareVerdict::NoNewAccess, None)
    } else {
        (CompareVerdict::Unknown, Some(undecided.join("; ")))
    };
    Ok(Comparison {
        verdict,
        kind,
        request: None,
        old: None,
        new: None,
        reason,
    })
}

fn kind_of_document(policy: &Policy) -> Option<PolicyKind> {
    if policy.statements.is_empty() {
        return None;
    }
    Some(if policy.statements.iter().any(|s| s.principal.is_some()) {
        PolicyKind::Resource
    } else {
        PolicyKind::Identity
    })
}

fn kind_of_pair(old: &Document, new: &Document) -> Result<PolicyKind, CompareError> {
    match (kind_of_document(old.policy), kind_of_document(new.policy)) {
        (Some(a), Some(b)) if a != b => Err(CompareError(format!(
            "{} is {} policy and {} is {} policy: compare two of one kind",
            old.name,
            article(a),
            new.name,
            article(b)
        ))),
        (Some(kind), _) | (None, Some(kind)) => Ok(kind),
        (None, None) => Ok(PolicyKind::Identity),
    }
}

fn article(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Identity => "an identity",
        PolicyKind::Resource => "a resource",
    }
}

/// A replayed counterexample and the request it rests on.
struct Found {
    comparison: Comparison,
    caller: Principal,
    context: Context,
}

/// How requests are posed for one kind of document.
struct Setting {
    kind: PolicyKind,
    old_name: String,
    new_name: String,
    old: PolicySet,
    new: PolicySet,
    /// The callers to try, one per class of principal the documents can tell apart.
    callers: Vec<Principal>,
    /// The account that owns the resource.
    resource_account: String,
    /// Why the caller classes may not be exhaustive, if they may not.
    incomplete: Option<String>,
}

enum Search {
    Found(Box<Found>),
    None,
    Undecided(String),
}

impl Setting {
    fn new(kind: PolicyKind, old: &Document, new: &Document) -> Setting {
        // The policy around the document: the resource's own for an identity policy, the
        // caller's own for a resource policy.
        let surrounding = match kind {
            PolicyKind::Identity => stand_in(
                "the resource's own policy, delegating to IAM",
                serde_json::json!({"Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{SAMPLE_ACCOUNT}:root")},
                    "Action": "*", "Resource": "*"}]}),
            ),
            PolicyKind::Resource => stand_in(
                "the caller's own policies, allowing everything",
                serde_json::json!({"Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
            ),
        };
        let set = |d: &Document| {
            let document = NamedPolicy::new(d.name, d.policy.clone());
            let (identity, resource) = match kind {
                PolicyKind::Identity => (document, surrounding.clone()),
                PolicyKind::Resource => (surrounding.clone(), document),
            };
            PolicySet {
                identity: vec![identity],
                resource: Some(resource),
                ..PolicySet::default()
            }
        };
        let (callers, resource_account, incomplete) = match kind {
            PolicyKind::Identity => (
                vec![sample_principal(SAMPLE_ACCOUNT, SAMPLE_NAME)],
                SAMPLE_ACCOUNT.to_string(),
                None,
            ),
            PolicyKind::Resource => {
                let (callers, accounts, incomplete) = caller_classes([old.policy, new.policy]);
                (callers, fresh_account(&accounts, 1), incomplete)
            }
        };
        Setting {
            kind,
            old_name: old.name.to_string(),
            new_name: new.name.to_string(),
            old: set(old),
            new: set(new),
            callers,
            resource_account,
            incomplete,
        }
    }

    fn hop(&self, policies: &PolicySet, caller: &Principal, action: &str, resource: Term) -> Hop {
        Hop {
            principal: caller.clone(),
            action: action.to_string(),
            resource,
            resource_account: Some(self.resource_account.clone()),
            policies: policies.clone(),
            call: 0,
            fixed: Context::new(),
            keys: KeyFreedom::Any,
            absent: Vec::new(),
            undocumented: Vec::new(),
        }
    }

    /// Looks for a request with this action and caller that NEW allows and OLD does not.
    fn search(&self, action: &str, caller: &Principal, timeout_ms: u32) -> Search {
        match self.solve(action, caller, Context::new(), timeout_ms) {
            Err(Unsupported(why)) if self.kind == PolicyKind::Identity => {
                // A policy variable over a key the principal sets: decide it for the stand-in
                // principal, which can only show new access, never prove its absence.
                match self.solve(action, caller, sample_keys(caller), timeout_ms) {
                    Ok(Search::None) => Search::Undecided(format!(
                        "{why}; decided only for the principal {}",
                        caller.to_text()
                    )),
                    Ok(other) => other,
                    Err(Unsupported(why)) => Search::Undecided(why),
                }
            }
            Err(Unsupported(why)) => Search::Undecided(why),
            Ok(Search::None) => match &self.incomplete {
                Some(why) => Search::Undecided(why.clone()),
                None => Search::None,
            },
            Ok(found) => found,
        }
    }

    fn solve(
        &self,
        action: &str,
        caller: &Principal,
        fixed: Context,
        timeout_ms: u32,
    ) -> Result<Search, Unsupported> {
        let mut problem = Problem::new();
        // Any string: actions without resource types are asked on `*`.
        let resource = problem.resource_variable(0, &[Glob::parse("*")]);
        problem.prefer("resource", std::sync::Arc::from(["*".to_string()]));
        let excluded = never_allowed_resources(action);
        problem.separate(resource, &excluded);
        for policies in [&self.new, &self.old] {
            let mut hop = self.hop(policies, caller, action, Term::Var(resource));
            hop.fixed = fixed.clone();
            problem.add_hop(hop)?;
        }
        problem.finish()?;
        let outside_excluded = problem.where_value(resource, |value| {
            let value = value.unwrap_or_default();
            !excluded.iter().any(|glob| glob.matches_arn(value))
        });
        let mut solver = Solver::new(&problem, timeout_ms);
        solver.assert(&Formula::and([
            outside_excluded,
            problem.allowed(0),
            Formula::not(problem.allowed(1)),
        ]));
        Ok(match solver.minimal_model() {
            Outcome::Unsat => Search::None,
            Outcome::Unknown(reason) => Search::Undecided(format!("{action}: {reason}")),
            Outcome::Sat(values) => {
                let value_of = |slot: Slot| values.get(&slot).copied().unwrap_or(0);
                let (resource, context) = problem.concretize(0, &value_of);
                self.replayed(caller, action, resource, context)
            }
        })
    }

    /// The counterexample with its action renamed to a real action alike to it (the region
    /// witness of a wildcard can be any string), when one is known and replays.
    fn with_known_action(&self, found: Found, actions: &ActionPatterns) -> Comparison {
        let Some(request) = &found.comparison.request else {
            return found.comparison;
        };
        if actions.spelled.contains(&request.action) {
            return found.comparison;
        }
        let Some(known) = actions.known_alike(&request.action) else {
            return found.comparison;
        };
        match self.replayed(
            &found.caller,
            known,
            request.resource.clone(),
            found.context,
        ) {
            Search::Found(renamed) => renamed.comparison,
            _ => found.comparison,
        }
    }

    /// The counterexample, once the evaluator agrees with it.
    fn replayed(
        &self,
        caller: &Principal,
        action: &str,
        resource: String,
        context: Context,
    ) -> Search {
        let request = |context: &Context| Request {
            principal: caller.clone(),
            action: action.to_string(),
            resource: resource.clone(),
            resource_account: Some(self.resource_account.clone()),
            context: context.clone(),
        };
        let is_new_access = |context: &Context| {
            let request = request(context);
            evaluate(&request, &self.new).decision == Decision::Allowed
                && evaluate(&request, &self.old).decision != Decision::Allowed
        };
        let context = fewest_members(context, is_new_access);
        let old = evaluate(&request(&context), &self.old);
        let new = evaluate(&request(&context), &self.new);
        if new.decision != Decision::Allowed || old.decision == Decision::Allowed {
            return Search::Undecided(format!(
                "internal error: the solver's request for {action} does not replay \
                 (old: {:?}, new: {:?})",
                old.decision, new.decision
            ));
        }
        Search::Found(Box::new(Found {
            comparison: Comparison {
                verdict: CompareVerdict::NewAccess,
                kind: self.kind,
                request: Some(NewlyAllowed {
                    principal: caller.to_text(),
                    action: action.to_string(),
                    resource,
                    resource_account: self.resource_account.clone(),
                    context: context.to_json(),
                }),
                old: Some(Verdict::of(&old, &self.old_name)),
                new: Some(Verdict::of(&new, &self.new_name)),
                reason: None,
            },
            caller: caller.clone(),
            context,
        }))
    }
}

/// The context with every set member dropped that `holds` does not need: the solver's
/// minimal model fills set slots with the smallest values, which need not all be needed.
fn fewest_members(mut context: Context, holds: impl Fn(&Context) -> bool) -> Context {
    let keys: Vec<String> = context.iter().map(|(key, _)| key.to_string()).collect();
    for key in keys {
        let Some(ContextValue::Multi(members)) = context.get(&key).cloned() else {
            continue;
        };
        let mut kept = members;
        let mut index = 0;
        while index < kept.len() {
            let mut fewer = kept.clone();
            fewer.remove(index);
            let mut trial = context.clone();
            trial.insert(&key, ContextValue::Multi(fewer.clone()));
            if holds(&trial) {
                kept = fewer;
                context = trial;
            } else {
                index += 1;
            }
        }
    }
    context
}

/// A policy the comparison puts around the compared documents.
fn stand_in(name: &str, document: serde_json::Value) -> NamedPolicy {
    NamedPolicy::new(
        name,
        Policy::from_value(&document).expect("the stand-in policies are well formed"),
    )
}

/// Resources on which the evaluator refuses `action` whatever the policies say: no difference
/// can lie there, and keeping them out lets one classification stand for every resource left.
fn never_allowed_resources(action: &str) -> Vec<Glob> {
    let action = action.to_ascii_lowercase();
    let mut out = Vec::new();
    if action.starts_with("kms:") {
        out.push(Glob::parse("arn:*:kms:*:*:alias/aws/*"));
    }
    if POLICY_WRITE_ACTIONS.contains(&action.as_str()) {
        out.push(Glob::parse("arn:*:iam:*:aws:*"));
    }
    out
}

/// The action patterns of both documents, grouped by the service they name, with the actions
/// the evaluator treats specially. Two actions with the same outcome on every pattern are alike
/// to both documents; a pattern that names a service can only match that service's actions, so
/// the classes are computed service by service, which keeps policies with thousands of action
/// patterns (`ReadOnlyAccess`) tractable.
struct ActionPatterns {
    /// For each service a pattern names (lowercase): the patterns that name it.
    by_service: BTreeMap<String, Vec<regions::StringPattern>>,
    /// Patterns whose service part has a wildcard (`*`, `*:Get*`): they may match any service.
    global: Vec<regions::StringPattern>,
    /// Actions the documents spell out without wildcards.
    spelled: BTreeSet<String>,
    /// The services the documents' own patterns name (not only the evaluator's special
    /// actions): their actions come first, so a counterexample speaks of a service the reader
    /// wrote.
    documented: BTreeSet<String>,
}

/// The service part of an action or action pattern, lowercase.
fn service_of(action: &str) -> String {
    action
        .split_once(':')
        .map(|(service, _)| service)
        .unwrap_or(action)
        .to_ascii_lowercase()
}

impl ActionPatterns {
    fn of(old: &Policy, new: &Policy) -> ActionPatterns {
        let globs: Vec<&Glob> = [new, old]
            .iter()
            .flat_map(|p| p.statements.iter().flat_map(|s| s.action.patterns()))
            .collect();
        let mut by_service: BTreeMap<String, Vec<regions::StringPattern>> = BTreeMap::new();
        let mut global = Vec::new();
        for glob in &globs {
            let text = glob.to_text();
            let pattern = text_pattern(glob, true);
            match text.split_once(':') {
                Some((service, _)) if !service.contains(['*', '?']) => by_service
                    .entry(service.to_ascii_lowercase())
                    .or_default()
                    .push(pattern),
                _ => global.push(pattern),
            }
        }
        let documented = by_service.keys().cloned().collect();
        let special = POLICY_WRITE_ACTIONS
            .iter()
            .chain(TRUST_ACTIONS.iter())
            .chain(&["sts:getcalleridentity"]);
        for action in special {
            by_service
                .entry(service_of(action))
                .or_default()
                .push(regions::StringPattern::literal(action, true));
        }
        // KMS actions have rules of their own (key policies): their service is always a class.
        by_service.entry("kms".into()).or_default();
        let spelled = globs
            .iter()
            .filter(|g| g.is_literal())
            .map(|g| g.to_text())
            .collect();
        ActionPatterns {
            by_service,
            global,
            spelled,
            documented,
        }
    }

    /// The patterns that can match an action of `service` (`None`: of a service no pattern
    /// names).
    fn relevant(&self, service: Option<&str>) -> Vec<&regions::StringPattern> {
        service
            .and_then(|s| self.by_service.get(s))
            .into_iter()
            .flatten()
            .chain(&self.global)
            .collect()
    }

    /// The class of an action: its service when a pattern names it, and its outcome on every
    /// pattern that can match it.
    fn signature(&self, action: &str) -> (Option<String>, Vec<bool>) {
        let service = service_of(action);
        let named = self.by_service.contains_key(&service).then_some(service);
        let outcomes = self
            .relevant(named.as_deref())
            .iter()
            .map(|p| p.accepts_text(action))
            .collect();
        (named, outcomes)
    }

    /// One action per class, named by an action the documents spell out where the class has
    /// one; and why the list may miss some class, if it may.
    fn representatives(&self) -> (Vec<String>, Option<String>) {
        let mut out = Vec::new();
        let mut incomplete = None;
        let mut seen = BTreeSet::new();
        let mut keep = |action: String, out: &mut Vec<String>| {
            if seen.insert(self.signature(&action)) {
                out.push(action);
            }
        };
        let (first, rest): (Vec<&String>, Vec<&String>) = self
            .by_service
            .keys()
            .partition(|service| self.documented.contains(*service));
        for service in first.into_iter().chain(rest) {
            let prefix = text_pattern(&Glob::parse(&format!("{service}:*")), true);
            let mut patterns: Vec<regions::StringPattern> =
                self.relevant(Some(service)).into_iter().cloned().collect();
            patterns.push(prefix.clone());
            let witnesses = regions::string_regions(&patterns).unwrap_or_else(|e| {
                // Spelled-out actions may still show new access, but cannot prove its absence.
                incomplete = Some(format!("actions of {service}: {e}"));
                Vec::new()
            });
            let spelled = self
                .spelled
                .iter()
                .filter(|a| service_of(a) == *service)
                .cloned();
            for action in spelled.chain(witnesses.into_iter().filter(|w| prefix.accepts_text(w))) {
                keep(action, &mut out);
            }
        }
        // Actions of services no pattern names: only the wildcard-service patterns (and
        // `NotAction`) can tell them apart.
        let mut patterns = self.global.clone();
        let prefixes: Vec<regions::StringPattern> = self
            .by_service
            .keys()
            .map(|service| text_pattern(&Glob::parse(&format!("{service}:*")), true))
            .collect();
        patterns.extend(prefixes.iter().cloned());
        let unnamed = |action: &String| self.signature(action).0.is_none();
        let witnesses = if self.global.is_empty() {
            // One class: no pattern matches any of them.
            vec![fresh_service_action(&self.by_service)]
        } else {
            regions::string_regions(&patterns).unwrap_or_else(|e| {
                incomplete = Some(format!("actions of other services: {e}"));
                Vec::new()
            })
        };
        for action in witnesses.into_iter().filter(unnamed) {
            keep(action, &mut out);
        }
        (out, incomplete)
    }

    /// A real action alike to `action`, if the bundled policies name one.
    fn known_alike(&self, action: &str) -> Option<&'static str> {
        let wanted = self.signature(action);
        crate::snapshot::managed::known_actions()
            .ok()?
            .iter()
            .find(|known| self.signature(known) == wanted)
            .map(String::as_str)
    }
}

/// An action of a service that no pattern names.
fn fresh_service_action<T>(named: &BTreeMap<String, T>) -> String {
    (0..)
        .map(|n| format!("unnamed{n}:action"))
        .find(|action| !named.contains_key(&service_of(action)))
        .expect("some service name is free")
}

/// One caller per way the documents' `Principal` elements can tell callers apart, the
/// accounts they name, and why the classes may not be exhaustive.
fn caller_classes<'p>(
    policies: impl IntoIterator<Item = &'p Policy>,
) -> (Vec<Principal>, BTreeSet<String>, Option<String>) {
    let mut arns: BTreeSet<String> = BTreeSet::new();
    let mut accounts: BTreeSet<String> = BTreeSet::new();
    let mut services: BTreeSet<String> = BTreeSet::new();
    let mut providers: BTreeSet<String> = BTreeSet::new();
    let mut unmodelled: BTreeSet<String> = BTreeSet::new();
    for policy in policies {
        for statement in &policy.statements {
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
                        if crate::model::is_account_id(&entry.value) {
                            accounts.insert(entry.value.clone());
                        } else if let Some(Principal::Aws(named)) = Principal::parse(&entry.value) {
                            accounts.insert(named.account.clone());
                            arns.insert(entry.value.clone());
                        } else {
                            unmodelled.insert(entry.value.clone());
                        }
                    }
                    PrincipalKind::Service => {
                        services.insert(entry.value.clone());
                    }
                    PrincipalKind::Federated => {
                        providers.insert(entry.value.clone());
                    }
                    PrincipalKind::CanonicalUser => {
                        unmodelled.insert(entry.value.clone());
                    }
                }
            }
        }
    }
    // Stand-ins must not share a name with a principal the policies name, or two classes
    // would collapse into one caller.
    let name = stand_in_name(&arns);
    let mut callers: Vec<Principal> = Vec::new();
    for arn in &arns {
        let Some(principal) = Principal::parse(arn) else {
            continue;
        };
        // A role's ARN also names its sessions, which are the ones that make requests.
        if let Principal::Aws(named) = &principal {
            if let crate::eval::AwsPrincipalKind::Role { name: role } = &named.kind {
                callers.extend(Principal::parse(&format!(
                    "arn:{}:sts::{}:assumed-role/{role}/{name}",
                    named.partition, named.account
                )));
            }
        }
        callers.push(principal);
    }
    // Each account named, and one no policy names: its root and a principal of no other name
    // (`NotPrincipal` exempts an account's root with the account, its users only by name).
    for account in accounts
        .iter()
        .cloned()
        .chain([fresh_account(&accounts, 0)])
    {
        callers.push(sample_principal(&account, &name));
        callers.extend(Principal::parse(&format!("arn:aws:iam::{account}:root")));
    }
    callers.push(Principal::Anonymous);
    callers.extend(services.into_iter().map(Principal::Service));
    // Each provider named, and one no policy names.
    let other_provider = (0..)
        .map(|n| {
            format!(
                "arn:aws:iam::{}:oidc-provider/{name}-{n}.example",
                fresh_account(&accounts, 0)
            )
        })
        .find(|p| !providers.contains(p))
        .expect("some provider name is free");
    callers.extend(
        providers
            .into_iter()
            .chain([other_provider])
            .map(Principal::Federated),
    );
    let mut seen = BTreeSet::new();
    callers.retain(|caller| seen.insert(caller.to_text()));
    let incomplete = (!unmodelled.is_empty()).then(|| {
        format!(
            "principals of kinds not modelled: {}",
            unmodelled.into_iter().collect::<Vec<_>>().join(", ")
        )
    });
    (callers, accounts, incomplete)
}

/// An account id that none of `used` is, counting from `start`.
fn fresh_account(used: &BTreeSet<String>, start: u64) -> String {
    (start..)
        .map(|n| format!("{:012}", 999_999_999_999 - n))
        .find(|candidate| !used.contains(candidate))
        .expect("some account id is free")
}

fn sample_principal(account: &str, name: &str) -> Principal {
    Principal::parse(&format!("arn:aws:iam::{account}:user/{name}"))
        .expect("the sample principal ARN is well formed")
}

/// A name for stand-in users and sessions that no ARN of `named` ends with.
fn stand_in_name(named: &BTreeSet<String>) -> String {
    (0..)
        .map(|n| match n {
            0 => SAMPLE_NAME.to_string(),
            n => format!("{SAMPLE_NAME}-{n}"),
        })
        .find(|name| {
            !named
                .iter()
                .any(|arn| arn.rsplit('/').next() == Some(name.as_str()))
        })
        .expect("some name is free")
}

/// The keys AWS sets from the stand-in principal itself.
fn sample_keys(caller: &Principal) -> Context {
    let Principal::Aws(named) = caller else {
        return Context::new();
    };
    Context::new()
        .with("aws:PrincipalArn", &named.arn)
        .with("aws:PrincipalAccount", &named.account)
        .with("aws:PrincipalType", "User")
        .with("aws:username", SAMPLE_NAME)
        .with("aws:userid", "AIDAIAMPROOFSAMPLE")
}

/// The comparison as the `compare` command prints it.
pub fn comparison_text(comparison: &Comparison, old_name: &str, new_name: &str) -> String {
    let kind = match comparison.kind {
        PolicyKind::Identity => "identity policies",
        PolicyKind::Resource => "resource policies",
    };
    let mut out = String::new();
    match comparison.verdict {
        CompareVerdict::NoNewAccess => out.push_str(&format!(
            "no new access: every request {new_name} allows, {old_name} allows too ({kind})\n"
        )),
        CompareVerdict::Unknown => out.push_str(&format!(
            "unknown: {} ({kind})\n",
            comparison.reason.as_deref().unwrap_or("undecided")
        )),
        CompareVerdict::NewAccess => {
            out.push_str(&format!(
                "new access: {new_name} allows a request that {old_name} does not ({kind})\n"
            ));
            if let Some(request) = &comparison.request {
                let context = match &request.context {
                    serde_json::Value::Object(map) if map.is_empty() => "(no keys)".to_string(),
                    other => other.to_string(),
                };
                out.push_str(&format!("  principal  {}\n", request.principal));
                out.push_str(&format!("  action     {}\n", request.action));
                out.push_str(&format!("  resource   {}\n", request.resource));
                out.push_str(&format!(
                    "  owner      account {}\n",
                    request.resource_account
                ));
                out.push_str(&format!("  context    {context}\n"));
            }
            for (name, verdict) in [(old_name, &comparison.old), (new_name, &comparison.new)] {
                if let Some(verdict) = verdict {
                    let statements: Vec<&str> = verdict
                        .allowed_by
                        .iter()
                        .map(|a| a.statement.as_str())
                        .collect();
                    let by = match statements.as_slice() {
                        [] => String::new(),
                        [one] => format!(" (statement {one})"),
                        many => format!(" (statements {})", many.join(", ")),
                    };
                    out.push_str(&format!(
                        "  {name}: {:?}: {}{by}\n",
                        verdict.decision, verdict.reason
                    ));
                }
            }
        }
    }
    out
}
