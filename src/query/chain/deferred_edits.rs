//! Edits of the account are solved when a round of the search ends, not where its queue
//! meets them, and those that bear on the principal's own permissions first.
//!
//! A principal that may write policies meets an edit for every user, role or managed policy
//! it may change: thousands in a large account. The next round starts at the principal itself,
//! with every edit found made; when the edits that change what the principal itself may do
//! (its own policies, its groups', any group it may join, the resource's policy) already let
//! it do the question's action, that round answers at once, whatever the other edits are. So
//! those edits are solved first, and the principal's own request is tried with them alone (the
//! probe); the others are solved only when the probe does not answer.
//!
//! The answers are those of solving every edit where the queue meets it:
//! - solving an edit reads nothing the rest of the round changes, so the same edits are found
//!   with the same requests, and they are made in the order the queue met them;
//! - the reasons of an `unknown` and the closest blocked path are put back where the queue met
//!   the edit: a reason among the round's others, a blocked path ranked as if recorded then;
//! - the probe tries only the first request of the next round, and only with every edit that
//!   could change it or be needed by its witness ([`Search::edits_needed`]): an edit of the
//!   principal, a group, a managed policy of the principal or a group, or a resource's policy,
//!   and any edit that bears on a request of one of those.

use super::{principal_arn, Answer, Closest, FoundEdit, Reached, Search};
use crate::graph::Step;
use crate::query::Link;
use crate::service::iam::ADMINISTRATOR_ACCESS;
use crate::service::technique::Edit;
use std::collections::BTreeSet;
use std::rc::Rc;

/// An edit step the queue met, and where its effects go among the round's own.
pub(super) struct DeferredEdit {
    from: Rc<Reached>,
    step: Step,
    edit: Edit,
    /// How many reasons for `unknown` the round had when the queue met it.
    unknown_at: usize,
    /// Where a blocked path it records ranks among the round's (see [`Search::stamp`]).
    stamp: u64,
}

impl DeferredEdit {
    /// Edits are found once per (edit, target, account making it).
    fn key(&self) -> (Edit, &str, String) {
        (
            self.edit,
            self.step.target(),
            super::account_of(&self.from.actor),
        )
    }
}

/// What the question's principal's own permissions may be made of: an edit of anything else
/// cannot change what it may do itself.
struct StartScope {
    /// Every group: the principal may join any.
    groups: BTreeSet<String>,
    /// Its managed policies, its boundary, every group's policies, and AdministratorAccess.
    policies: BTreeSet<String>,
}

impl StartScope {
    /// Whether an edit may change what `principal` itself may do: its own policies, a
    /// group's, a managed policy of either, the policy of a bucket or key.
    fn may_change(&self, principal: &str, edit: Edit, target: &str) -> bool {
        match edit {
            Edit::RewriteResourcePolicy | Edit::GrantKeyUse | Edit::AddUserToGroup => true,
            Edit::PutInlinePolicy | Edit::AttachAdministratorAccess | Edit::RemoveBoundary => {
                target == principal || self.groups.contains(target)
            }
            Edit::ReplacePolicyVersion => self.policies.contains(target),
            // A trust policy decides steps into a role, never a request of the principal.
            Edit::OpenTrust => false,
        }
    }
}

/// What solving a deferred edit gave.
#[derive(Default)]
struct Outcome {
    /// Its place in the search's `found`.
    found: Option<usize>,
    unknown: Vec<String>,
    closest: Option<Closest>,
}

impl Search<'_, '_> {
    /// Records an edit step for the end of the round.
    pub(super) fn defer_edit(&mut self, from: &Rc<Reached>, step: &Step, edit: Edit) {
        self.deferred.push(DeferredEdit {
            from: from.clone(),
            step: step.clone(),
            edit,
            unknown_at: self.unknown.len(),
            stamp: 2 * self.events + 1,
        });
    }

    /// The stamp of a blocked path recorded now: blocked paths tie-break by the order they
    /// were met, and a deferred edit's sits between the records before and after it.
    pub(super) fn stamp(&mut self) -> u64 {
        self.events += 1;
        2 * self.events
    }

    /// Solves the edits the round met. Returns the answer of the next round when the probe
    /// finds it; otherwise leaves every edit found in `found`, in the order met.
    pub(super) fn finish_round(&mut self) -> Option<Answer> {
        let deferred = std::mem::take(&mut self.deferred);
        if deferred.is_empty() {
            return None;
        }
        let mut outcomes: Vec<Option<Outcome>> = Vec::new();
        outcomes.resize_with(deferred.len(), || None);
        let scope = self.start_scope();
        let mut wanted: BTreeSet<(Edit, String, String)> = deferred
            .iter()
            .filter(|d| scope.may_change(&self.question.principal, d.edit, d.step.target()))
            .map(|d| {
                let (edit, target, account) = d.key();
                (edit, target.to_string(), account)
            })
            .collect();
        loop {
            let mut links: Vec<Link> = Vec::new();
            for (index, entry) in deferred.iter().enumerate() {
                let (edit, target, account) = entry.key();
                if outcomes[index].is_some()
                    || !wanted.contains(&(edit, target.to_string(), account))
                {
                    continue;
                }
                let outcome = self.solve_deferred(entry);
                if let Some(found) = outcome.found {
                    links.extend(self.found[found].links.iter().cloned());
                }
                outcomes[index] = Some(outcome);
            }
            let more = self.bearing_on(&links, &deferred, &outcomes);
            if more.is_empty() {
                break;
            }
            wanted.extend(more);
        }
        if let Some(answer) = self.probe(&outcomes) {
            return Some(answer);
        }
        for (index, entry) in deferred.iter().enumerate() {
            if outcomes[index].is_none() {
                outcomes[index] = Some(self.solve_deferred(entry));
            }
        }
        self.put_back(&deferred, outcomes);
        None
    }

    /// The edits not solved yet that bear on one of `links` (the requests of edits found):
    /// a witness that needs those edits may need these too.
    fn bearing_on(
        &self,
        links: &[Link],
        deferred: &[DeferredEdit],
        outcomes: &[Option<Outcome>],
    ) -> Vec<(Edit, String, String)> {
        let mut distinct: BTreeSet<(&str, &str)> = BTreeSet::new();
        let mut more = Vec::new();
        for link in links {
            // Whether an edit bears on a request depends on its principal and resource alone,
            // but for a key grant (always solved first).
            if !distinct.insert((&link.principal, &link.resource)) {
                continue;
            }
            // Of the edits that bear on the principal's own requests, all but the opening of
            // a trust policy (the role the request assumes) are solved already.
            let by_start = principal_arn(self.model(), &link.principal).as_deref()
                == Some(self.question.principal.as_str());
            for (entry, outcome) in deferred.iter().zip(outcomes) {
                let candidate = outcome.is_none() && (!by_start || entry.edit == Edit::OpenTrust);
                if candidate && self.bears_on(entry.edit, entry.step.target(), link) {
                    let (edit, target, account) = entry.key();
                    more.push((edit, target.to_string(), account));
                }
            }
        }
        more
    }

    /// What the question's principal's own permissions may be made of, read once a round.
    fn start_scope(&self) -> StartScope {
        let model = self.model();
        let mut policies: BTreeSet<String> = BTreeSet::from([ADMINISTRATOR_ACCESS.to_string()]);
        if let Some(effective) = model.effective_policies(&self.question.principal) {
            policies.extend(effective.boundary_arn.clone());
            policies.extend(effective.identity.iter().map(|i| i.policy.name.clone()));
        }
        for group in model.groups.values() {
            policies.extend(model.group_policies(group).into_iter().map(|p| p.name));
        }
        StartScope {
            groups: model.groups.values().map(|g| g.arn.clone()).collect(),
            policies,
        }
    }

    /// Solves one deferred edit as the queue would have, keeping its reasons and blocked
    /// path apart from the round's.
    fn solve_deferred(&mut self, entry: &DeferredEdit) -> Outcome {
        let unknown = std::mem::take(&mut self.unknown);
        let closest = self.closest.take();
        let before = self.found.len();
        self.try_edit(&entry.from, &entry.step, entry.edit);
        Outcome {
            found: (self.found.len() > before).then_some(before),
            unknown: std::mem::replace(&mut self.unknown, unknown),
            closest: std::mem::replace(&mut self.closest, closest),
        }
    }

    /// Makes the edits solved so far and tries the principal's own request with them, as the
    /// next round would first; undoes them when that does not answer.
    fn probe(&mut self, outcomes: &[Option<Outcome>]) -> Option<Answer> {
        let saved = (self.edits.clone(), self.made.len());
        let found: Vec<FoundEdit> = outcomes
            .iter()
            .filter_map(|o| o.as_ref()?.found)
            .map(|index| self.found[index].clone())
            .collect();
        let mut grew = false;
        for edit in found {
            if self.edits.apply(edit.edit, &edit.target, &edit.account) {
                self.made.push(edit);
                grew = true;
            }
        }
        let start = self.start_state();
        let resolved = self
            .model()
            .unresolved_for(&start.actor)
            .is_none_or(|unresolved| unresolved.is_empty());
        let mut answer = None;
        if grew && resolved {
            self.edited.borrow_mut().clear();
            let kept = (std::mem::take(&mut self.unknown), self.closest.take());
            answer = self.try_final(&start);
            (self.unknown, self.closest) = kept;
        }
        if answer.is_none() {
            self.edits = saved.0;
            self.made.truncate(saved.1);
        }
        self.edited.borrow_mut().clear();
        answer
    }

    /// Puts the edits found in the order the queue met them, and their reasons and blocked
    /// paths where the queue met them.
    fn put_back(&mut self, deferred: &[DeferredEdit], outcomes: Vec<Option<Outcome>>) {
        let mut found: Vec<Option<FoundEdit>> = std::mem::take(&mut self.found)
            .into_iter()
            .map(Some)
            .collect();
        let mut ordered = Vec::new();
        let mut inserted = 0;
        for (entry, outcome) in deferred.iter().zip(outcomes) {
            let Some(outcome) = outcome else { continue };
            ordered.extend(outcome.found.and_then(|index| found[index].take()));
            let at = entry.unknown_at + inserted;
            inserted += outcome.unknown.len();
            self.unknown.splice(at..at, outcome.unknown);
            if let Some(closest) = outcome.closest {
                let better = self.closest.as_ref().is_none_or(|best| {
                    closest.rank > best.rank
                        || (closest.rank == best.rank && entry.stamp < best.stamp)
                });
                if better {
                    self.closest = Some(Closest {
                        stamp: entry.stamp,
                        ..closest
                    });
                }
            }
        }
        self.found = ordered;
    }
}
