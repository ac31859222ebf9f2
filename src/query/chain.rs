//! One chain of the delegation graph combined with one place of the resource, turned into a
//! solver problem, solved, and either decoded into a witness that has been replayed through the
//! concrete evaluator, or explained by the hop that blocks it.

use super::targets::{targets, Target};
use super::{replay, Answer, Engine, Link, QueryEcho, Question, Verdict};
use crate::eval::{NamedPolicy, PolicySet, Principal, Request};
use crate::graph::{acting_principal, Step, ASSUMED_SESSION_NAME};
use crate::model::{Model, PrincipalType};
use crate::policy::pattern::Glob;
use crate::policy::Context;
use crate::service::mediaconvert;
use crate::smt::encode::{Hop, Problem, Term, Unsupported};
use crate::smt::formula::{Formula, Slot};
use crate::smt::solve::{Outcome, Solver};
use std::collections::BTreeSet;

/// Keys AWS sets from facts the snapshots do not record; a witness that gives them a value says so.
const UNRECORDED_KEYS: [&str; 7] = [
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "aws:userid",
    "aws:sourcevpc",
    "aws:sourcevpce",
];

/// A hop under construction.
struct PlannedHop {
    hop: Hop,
    /// Whether the resource is the question's resource variable.
    is_target: bool,
    /// For a KMS check that only some writes make: when it is made.
    guard: Option<KeyUse>,
}

/// When an S3 write uses a KMS key: the header names it, or the bucket's default names it and
/// the header does not override it.
#[derive(Debug, Clone)]
struct KeyUse {
    call: usize,
    /// Strings by which the header may name the key.
    names: Vec<String>,
    /// Whether the bucket's default encryption uses this key.
    is_default: bool,
}

const SSE_HEADER: &str = "s3:x-amz-server-side-encryption";
const SSE_KEY_HEADER: &str = "s3:x-amz-server-side-encryption-aws-kms-key-id";
const ACL_HEADER: &str = "s3:x-amz-acl";
const KMS_ALGORITHMS: [&str; 2] = ["aws:kms", "aws:kms:dsse"];

/// The state of the search over all chains of one question.
pub struct Search<'e, 'm> {
    engine: &'e Engine<'m>,
    question: &'e Question,
    pattern: &'e Glob,
    unknown: Vec<String>,
    /// The blocked combination that got furthest: ((satisfiable hops, chain length),
    /// explanation); further is better, then longer.
    closest: Option<((usize, usize), String)>,
    combinations: usize,
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
            combinations: 0,
        }
    }

    fn model(&self) -> &'m Model {
        self.engine.model
    }

    /// Tries every combination of this chain; a reachable answer ends the search.
    pub fn try_chain(&mut self, steps: &[Step]) -> Option<Answer> {
        let via_mediaconvert = matches!(steps.last(), Some(Step::MediaConvert { .. }));
        if via_mediaconvert && mediaconvert::capability(&self.question.action).is_none() {
            return None;
        }
        let mut actors = vec![self.question.principal.clone()];
        actors.extend(steps.iter().map(|s| s.role().to_string()));
        for actor in &actors {
            let unresolved = self.model().unresolved_for(actor).unwrap_or_default();
            if !unresolved.is_empty() {
                let names: Vec<String> = unresolved.iter().map(|u| u.to_string()).collect();
                self.unknown.push(format!(
                    "{} depends on policies no snapshot describes: {}",
                    describe_chain(&self.question.principal, steps),
                    names.join(", ")
                ));
                return None;
            }
        }
        let final_actor = actors.last().cloned().unwrap_or_default();
        let final_account = crate::model::arn_account(&final_actor)
            .unwrap_or_default()
            .to_string();
        let partition = crate::model::arn_partition(&final_actor)
            .unwrap_or("aws")
            .to_string();
        let queues = self.queues_for(steps);
        for target in targets(
            self.model(),
            &self.question.action,
            self.pattern,
            &final_account,
            &partition,
        ) {
            let caller = match acting(
                &final_actor,
                if via_mediaconvert {
                    mediaconvert::SESSION_NAME
                } else {
                    ASSUMED_SESSION_NAME
                },
            ) {
                Ok(caller) => caller,
                Err(reason) => {
                    self.unknown.push(reason);
                    continue;
                }
            };
            if !self.engine.may_grant(
                &final_actor,
                &caller,
                &self.question.action,
                self.pattern,
                &target,
            ) {
                self.combinations += 1;
                self.record_no_grant(steps, &final_actor, &target);
                continue;
            }
            for queue in &queues {
                self.combinations += 1;
                match self.solve(steps, queue.as_deref(), &target) {
                    Ok(Some(answer)) => return Some(answer),
                    Ok(None) => {}
                    Err(reason) => self.unknown.push(reason),
                }
            }
        }
        None
    }

    /// The queues a MediaConvert step may use (one `None` when the chain has no such step).
    fn queues_for(&self, steps: &[Step]) -> Vec<Option<String>> {
        let submitter = match steps
            .iter()
            .position(|s| matches!(s, Step::MediaConvert { .. }))
        {
            Some(0) => self.question.principal.clone(),
            Some(i) => steps[i - 1].role().to_string(),
            None => return vec![None],
        };
        let account = crate::model::arn_account(&submitter).unwrap_or_default();
        let mut queues: Vec<Option<String>> = self
            .model()
            .queues
            .values()
            .filter(|q| q.account == account)
            .map(|q| Some(q.arn.clone()))
            .collect();
        if queues.is_empty() {
            let region = self
                .model()
                .account(account)
                .map(|a| a.region.clone())
                .unwrap_or_else(|| "us-east-1".into());
            queues.push(Some(mediaconvert::queue_arn(
                "aws",
                &region,
                account,
                mediaconvert::DEFAULT_QUEUE,
            )));
        }
        queues
    }

    /// The planned hops of one combination, and the resource variable.
    fn plan(
        &self,
        steps: &[Step],
        queue: Option<&str>,
        target: &Target,
        problem: &mut Problem,
    ) -> Result<Vec<PlannedHop>, String> {
        let model = self.model();
        let mut hops = Vec::new();
        let mut call = 0;
        let mut actor = self.question.principal.clone();
        let mut session = ASSUMED_SESSION_NAME;
        for step in steps {
            let role = model
                .roles
                .get(step.role())
                .ok_or_else(|| format!("role {} vanished from the model", step.role()))?;
            let caller = acting(&actor, session)?;
            let trust = NamedPolicy {
                name: format!("trust policy of {}", role.arn),
                policy: role.trust_policy.clone(),
            };
            let rcps = model
                .account(&role.account)
                .map(|a| a.rcp_levels())
                .unwrap_or_default();
            let mut role_context = Context::new().with("aws:ResourceAccount", &role.account);
            for (key, value) in &role.tags {
                role_context = role_context
                    .with(&format!("aws:ResourceTag/{key}"), value)
                    .with(&format!("iam:ResourceTag/{key}"), value);
            }
            match step {
                Step::AssumeRole { .. } => {
                    let mut policies = self.principal_policies(&actor)?;
                    policies.resource = Some(trust);
                    policies.rcps = rcps;
                    hops.push(PlannedHop {
                        hop: self.hop(
                            &caller,
                            &actor,
                            "sts:AssumeRole",
                            Term::Fixed(role.arn.clone()),
                            &role.account,
                            policies,
                            call,
                            role_context,
                        ),
                        is_target: false,
                        guard: None,
                    });
                    call += 1;
                    session = ASSUMED_SESSION_NAME;
                }
                Step::MediaConvert { .. } => {
                    let queue = queue.ok_or("a MediaConvert step without a queue")?;
                    let account = crate::model::arn_account(&actor)
                        .unwrap_or_default()
                        .to_string();
                    let queue_context = Context::new().with("aws:ResourceAccount", &account);
                    hops.push(PlannedHop {
                        hop: self.hop(
                            &caller,
                            &actor,
                            mediaconvert::CREATE_JOB,
                            Term::Fixed(queue.to_string()),
                            &account,
                            self.principal_policies(&actor)?,
                            call,
                            queue_context,
                        ),
                        is_target: false,
                        guard: None,
                    });
                    let pass_context = role_context
                        .clone()
                        .with("iam:PassedToService", mediaconvert::SERVICE);
                    hops.push(PlannedHop {
                        hop: self.hop(
                            &caller,
                            &actor,
                            "iam:PassRole",
                            Term::Fixed(role.arn.clone()),
                            &role.account,
                            self.principal_policies(&actor)?,
                            call,
                            pass_context,
                        ),
                        is_target: false,
                        guard: None,
                    });
                    call += 1;
                    let service = Principal::Service(mediaconvert::SERVICE.into());
                    let service_context = role_context
                        .with("aws:SourceAccount", &account)
                        .with("aws:SourceArn", queue)
                        .with("aws:PrincipalIsAWSService", "true")
                        .with("aws:PrincipalServiceName", mediaconvert::SERVICE);
                    let policies = PolicySet {
                        resource: Some(trust),
                        rcps,
                        ..PolicySet::default()
                    };
                    let hop = self.hop(
                        &service,
                        mediaconvert::SERVICE,
                        "sts:AssumeRole",
                        Term::Fixed(role.arn.clone()),
                        &role.account,
                        policies,
                        call,
                        service_context,
                    );
                    hops.push(PlannedHop {
                        hop,
                        is_target: false,
                        guard: None,
                    });
                    call += 1;
                    session = mediaconvert::SESSION_NAME;
                }
            }
            actor = role.arn.clone();
        }
        let caller = acting(&actor, session)?;
        let mut policies = self.principal_policies(&actor)?;
        policies.resource = target.resource_policy.clone();
        policies.rcps = target.rcps.clone();
        let resource = match &target.fixed {
            Some(fixed) => Term::Fixed(fixed.clone()),
            None => {
                let mut shapes = vec![self.pattern.clone()];
                shapes.extend(target.shapes.iter().cloned());
                let var = problem.resource_variable(call, &shapes);
                problem.separate(var, &target.excluded);
                Term::Var(var)
            }
        };
        let mut context = target.context.clone();
        if self
            .question
            .action
            .to_ascii_lowercase()
            .starts_with("kms:")
        {
            context = context.with(
                "kms:CallerAccount",
                crate::model::arn_account(&actor).unwrap_or_default(),
            );
            if matches!(steps.last(), Some(Step::MediaConvert { .. })) {
                let region = model
                    .account(crate::model::arn_account(&actor).unwrap_or_default())
                    .map(|a| a.region.clone())
                    .unwrap_or_else(|| "us-east-1".into());
                context = context.with("kms:ViaService", &format!("s3.{region}.amazonaws.com"));
            }
        }
        let account = target.account.clone().unwrap_or_default();
        hops.push(PlannedHop {
            hop: self.hop(
                &caller,
                &actor,
                &self.question.action,
                resource,
                &account,
                policies,
                call,
                context,
            ),
            is_target: true,
            guard: None,
        });
        if self.question.action.eq_ignore_ascii_case("s3:PutObject") {
            self.plan_encryption(&actor, &caller, target, call, &mut hops, problem)?;
        }
        Ok(hops)
    }

    /// The KMS checks an S3 write may need: one guarded hop per key of the model that the
    /// write could use, and the variables of the encryption headers.
    fn plan_encryption(
        &self,
        actor: &str,
        caller: &Principal,
        target: &Target,
        call: usize,
        hops: &mut Vec<PlannedHop>,
        problem: &mut Problem,
    ) -> Result<(), String> {
        let model = self.model();
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
        for (key_call, key) in (call + 1..).zip(model.keys.values()) {
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
            let mut policies = self.principal_policies(actor)?;
            policies.resource = key.policy.as_ref().map(|p| NamedPolicy {
                name: format!("key policy of {}", key.arn),
                policy: p.clone(),
            });
            policies.rcps = model
                .account(&key.account)
                .map(|a| a.rcp_levels())
                .unwrap_or_default();
            let context = Context::new()
                .with("aws:ResourceAccount", &key.account)
                .with("kms:CallerAccount", &actor_account)
                .with("kms:ViaService", &format!("s3.{region}.amazonaws.com"));
            let hop = self.hop(
                caller,
                actor,
                "kms:GenerateDataKey",
                Term::Fixed(key.arn.clone()),
                &key.account,
                policies,
                key_call,
                context,
            );
            hops.push(PlannedHop {
                hop,
                is_target: false,
                guard: Some(KeyUse {
                    call,
                    names,
                    is_default: default_key.as_deref() == Some(key.arn.as_str()),
                }),
            });
        }
        let literal_refs: Vec<&str> = literals.iter().map(String::as_str).collect();
        problem.rule_variable(call, SSE_HEADER, &literal_refs);
        problem.rule_variable(call, SSE_KEY_HEADER, &literal_refs);
        problem.rule_variable(call, ACL_HEADER, &["bucket-owner-full-control"]);
        Ok(())
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
        Formula::and([key_needs_kms, acl])
    }

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
    ) -> Hop {
        let mut fixed = principal_context(self.model(), actor_arn, caller);
        for (key, value) in extra.iter() {
            fixed.insert(key, value.clone());
        }
        let mut hop = Hop {
            principal: caller.clone(),
            action: action.to_string(),
            resource,
            resource_account: Some(resource_account.to_string()),
            policies,
            call,
            fixed,
            free_keys: true,
        };
        for (key, value) in self.question.context.iter() {
            if hop.is_free(key) {
                hop.fixed.insert(key, value.clone());
            }
        }
        hop
    }

    fn principal_policies(&self, actor: &str) -> Result<PolicySet, String> {
        Ok((*self.engine.policy_set(actor)).clone())
    }

    /// Records why a chain cannot end in the action, when no policy could grant it.
    fn record_no_grant(&mut self, steps: &[Step], actor: &str, target: &Target) {
        let rank = (0, steps.len());
        if self.closest.as_ref().is_some_and(|(best, _)| *best >= rank) {
            return;
        }
        let explanation = format!(
            "closest path: {}; it stops at its last hop: no identity-based policy of {} allows {} on resources matching {}, and {} grants it",
            describe_chain(&self.question.principal, steps),
            short_name(actor),
            self.question.action,
            self.question.resource,
            match &target.resource_policy {
                Some(p) => format!("no statement of the {} ({})", p.name, target.label),
                None => format!("no resource-based policy of {}", target.label),
            }
        );
        self.closest = Some((rank, explanation));
    }

    /// Solves one combination. `Ok(Some)` is a replayed witness; `Ok(None)` a refutation
    /// (recorded as the closest block when it got furthest); `Err` makes the answer unknown.
    fn solve(
        &mut self,
        steps: &[Step],
        queue: Option<&str>,
        target: &Target,
    ) -> Result<Option<Answer>, String> {
        let mut problem = Problem::new();
        let planned = self.plan(steps, queue, target, &mut problem)?;
        let describe = describe_chain(&self.question.principal, steps);
        let unsupported = |e: Unsupported| format!("{describe} on {}: {e}", target.label);
        let mut target_var = None;
        for planned_hop in &planned {
            if planned_hop.is_target {
                if let Term::Var(var) = planned_hop.hop.resource {
                    target_var = Some(var);
                }
            }
            problem
                .add_hop(planned_hop.hop.clone())
                .map_err(unsupported)?;
        }
        problem.finish().map_err(unsupported)?;
        let mut constraints = Vec::new();
        if let Some(var) = target_var {
            constraints.push(self.resource_constraint(&problem, var, target));
        }
        let target_hop = planned.iter().find(|p| p.is_target).map(|p| p.hop.clone());
        if let Some(target_hop) = &target_hop {
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
            .map(|i| Formula::or([Formula::not(guards[i].clone()), problem.allowed(i)]))
            .collect();
        let mut solver = Solver::new(&problem, self.engine.options.timeout_ms);
        for constraint in &constraints {
            solver.assert(constraint);
        }
        // Hop by hop: the first hop that makes the chain unsatisfiable blocks it.
        let mut satisfiable_prefix = 0;
        let mut last_model = None;
        for formula in &allowed {
            solver.assert(formula);
            match solver.satisfiable() {
                Outcome::Sat(values) => {
                    satisfiable_prefix += 1;
                    last_model = Some(values);
                }
                Outcome::Unsat => break,
                Outcome::Unknown(reason) => {
                    return Err(format!("{describe} on {}: {reason}", target.label))
                }
            }
        }
        if satisfiable_prefix < allowed.len() {
            self.record_block(
                &problem,
                &planned,
                satisfiable_prefix,
                last_model,
                &describe,
                target,
            );
            return Ok(None);
        }
        let values = match solver.minimal_model() {
            Outcome::Sat(values) => values,
            Outcome::Unsat => {
                return Err(format!(
                    "{describe} on {}: the solver contradicted itself while minimizing",
                    target.label
                ))
            }
            Outcome::Unknown(reason) => {
                return Err(format!("{describe} on {}: {reason}", target.label))
            }
        };
        let value_of = |slot: Slot| {
            values
                .get(&slot)
                .copied()
                .unwrap_or(crate::smt::formula::ABSENT)
        };
        let made: Vec<bool> = guards.iter().map(|g| g.eval(&value_of)).collect();
        self.witness(&problem, &values, &made, target).map(Some)
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

    fn witness(
        &self,
        problem: &Problem,
        values: &std::collections::BTreeMap<Slot, i64>,
        made: &[bool],
        target: &Target,
    ) -> Result<Answer, String> {
        let value_of = |slot: Slot| {
            values
                .get(&slot)
                .copied()
                .unwrap_or(crate::smt::formula::ABSENT)
        };
        let requests: Vec<(Request, PolicySet)> = Self::requests(problem, &value_of)
            .into_iter()
            .zip(made)
            .filter(|(_, made)| **made)
            .map(|(request, _)| request)
            .collect();
        let allowed_by = replay(&requests).map_err(|e| {
            format!("internal error: a witness did not replay through the evaluator: {e}")
        })?;
        let mut assumptions: Vec<String> = target.assumption.iter().cloned().collect();
        let mut chain = Vec::new();
        for ((request, _), allowed_by) in requests.iter().zip(allowed_by) {
            for (key, _) in request.context.iter() {
                if UNRECORDED_KEYS.contains(&key.to_ascii_lowercase().as_str()) {
                    let note = format!(
                        "{key} is not recorded in the snapshots; the witness picks its value"
                    );
                    if !assumptions.contains(&note) {
                        assumptions.push(note);
                    }
                }
            }
            chain.push(Link {
                principal: request.principal.to_text(),
                action: request.action.clone(),
                resource: request.resource.clone(),
                context: shown_context(&request.context),
                allowed_by,
            });
        }
        Ok(Answer {
            verdict: Verdict::Reachable,
            query: self.echo(),
            chain,
            assumptions,
            reason: None,
        })
    }

    fn record_block(
        &mut self,
        problem: &Problem,
        planned: &[PlannedHop],
        prefix: usize,
        model: Option<std::collections::BTreeMap<Slot, i64>>,
        describe: &str,
        target: &Target,
    ) {
        let rank = (prefix, planned.len());
        if self.closest.as_ref().is_some_and(|(best, _)| *best >= rank) {
            return;
        }
        let values = model.unwrap_or_default();
        let value_of = |slot: Slot| {
            values.get(&slot).copied().unwrap_or_else(|| {
                if problem.variables[slot.var].may_be_absent {
                    crate::smt::formula::ABSENT
                } else {
                    0
                }
            })
        };
        let requests = Self::requests(problem, &value_of);
        let Some((request, policies)) = requests.get(prefix) else {
            return;
        };
        let evaluation = crate::eval::evaluate(request, policies);
        let hop = &planned[prefix].hop;
        let resource = match &hop.resource {
            Term::Fixed(r) => r.clone(),
            Term::Var(_) => format!("{} ({})", self.question.resource, target.label),
        };
        let explanation = format!(
            "closest path: {describe}; it stops at hop {} of {}, {} {} on {}: {} (no context changes that)",
            prefix + 1,
            planned.len(),
            hop.principal.to_text(),
            hop.action,
            resource,
            evaluation.reason
        );
        self.closest = Some((rank, explanation));
    }

    fn echo(&self) -> QueryEcho {
        QueryEcho {
            principal: self.question.principal.clone(),
            action: self.question.action.clone(),
            resource: self.question.resource.clone(),
        }
    }

    /// The answer when no combination was satisfiable.
    pub fn conclude(self) -> Answer {
        let echo = self.echo();
        if !self.unknown.is_empty() {
            return Answer {
                verdict: Verdict::Unknown,
                query: echo,
                chain: Vec::new(),
                assumptions: Vec::new(),
                reason: Some(self.unknown.join("; ")),
            };
        }
        let reason = match self.closest {
            Some((_, explanation)) => explanation,
            None if self.combinations == 0 => format!(
                "no delegation path: {} holds no way to {} itself, through a role it may assume, or through a role it may pass to MediaConvert",
                self.question.principal, self.question.action
            ),
            None => "every path is blocked".into(),
        };
        Answer {
            verdict: Verdict::Unreachable,
            query: echo,
            chain: Vec::new(),
            assumptions: Vec::new(),
            reason: Some(reason),
        }
    }
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

/// The context a witness shows: what the service set and what the solver chose.
fn shown_context(context: &Context) -> serde_json::Value {
    let mut shown = Context::new();
    for (key, value) in context.iter().filter(|(key, _)| !is_implied_key(key)) {
        shown.insert(key, value.clone());
    }
    shown.to_json()
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
    debug_assert_eq!(key_use.call, target_hop.call);
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

fn acting(arn: &str, session: &str) -> Result<Principal, String> {
    acting_principal(arn, session).ok_or_else(|| format!("{arn} is not a principal ARN"))
}

/// Context keys that follow from the principal.
fn principal_context(model: &Model, actor_arn: &str, caller: &Principal) -> Context {
    let Principal::Aws(aws) = caller else {
        return Context::new();
    };
    let mut context = Context::new()
        .with("aws:PrincipalArn", actor_arn)
        .with("aws:PrincipalAccount", &aws.account)
        .with("aws:PrincipalIsAWSService", "false");
    let tags = match model.principal_type(actor_arn) {
        Some(PrincipalType::User) => {
            let user = &model.users[actor_arn];
            context = context
                .with("aws:PrincipalType", "User")
                .with("aws:username", &user.name);
            &user.tags
        }
        Some(PrincipalType::Role) => {
            context = context.with("aws:PrincipalType", "AssumedRole");
            &model.roles[actor_arn].tags
        }
        None => return context,
    };
    for (key, value) in tags {
        context = context.with(&format!("aws:PrincipalTag/{key}"), value);
    }
    context
}

/// `user/editor -> MediaConvert with role X`, for explanations.
pub fn describe_chain(principal: &str, steps: &[Step]) -> String {
    let mut text = short_name(principal);
    for step in steps {
        match step {
            Step::AssumeRole { role } => {
                text.push_str(&format!(" -> assumes {}", short_name(role)))
            }
            Step::MediaConvert { role } => {
                text.push_str(&format!(" -> MediaConvert job with {}", short_name(role)))
            }
        }
    }
    text
}

fn short_name(arn: &str) -> String {
    arn.split_once(":user/")
        .map(|(_, n)| format!("user/{n}"))
        .or_else(|| arn.split_once(":role/").map(|(_, n)| format!("role/{n}")))
        .unwrap_or_else(|| arn.to_string())
}
