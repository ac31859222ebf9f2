//! `what-if`: the answers to some questions before and after a change, side by side.
//!
//! The change is applied to a copy of the model ([`crate::change`]); each question is put to an
//! engine over the model as it is and to one over the changed model, and every answer keeps
//! its witness, so new access comes with the chain that proves it and lost access with the hop
//! that now blocks it. For an `only` proof, the principals that can are compared too: a proof
//! that holds on both sides may still have gained or lost some.

use crate::change::ChangeFile;
use crate::model::Model;
use crate::policy::Context;
use crate::query::prove::{self, ProofFile, Status, WhoCanSet};
use crate::query::{Answer, Engine, Options, QueryError, Question, Verdict};
use crate::report::{answer_text, verdict_word};
use serde::Serialize;

/// What to ask before and after.
pub enum Questions {
    Proofs(ProofFile),
    Can(Question),
    WhoCan {
        action: String,
        resource: String,
        context: Context,
    },
}

/// One question's answers before and after the change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// The question in words (a proof's name, or principal, action and resource).
    pub question: String,
    /// A verdict (`reachable`, ...) or, for proofs, a status (`holds`, ...).
    pub before: String,
    pub after: String,
    pub changed: bool,
    /// Whether the change grants access: an answer goes from unreachable or unknown to
    /// reachable, or an `only` proof's set of principals that can gains one.
    pub new_access: bool,
    /// For an `only` proof whose principals changed: who could, and who was undecided, before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who_can_before: Option<WhoCanSet>,
    /// The same after the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who_can_after: Option<WhoCanSet>,
    /// The answers before the change: for lost access, the chain the change cuts.
    pub answers_before: Vec<Answer>,
    /// The answers after the change: the witness of new access, or what now blocks it.
    pub answers_after: Vec<Answer>,
}

/// The outcome of a what-if question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    pub change: String,
    pub description: Option<String>,
    pub edits: Vec<String>,
    pub items: Vec<Item>,
    /// For proofs: whether some proof fails after the change.
    pub fails_after: bool,
    /// Whether some answer after the change is `unknown`.
    pub unknown_after: bool,
    /// Whether the change grants access somewhere (some item's `new_access`).
    pub new_access: bool,
}

/// Asks `questions` of `model` before and after `change`.
pub fn what_if(
    model: &Model,
    changed: &Model,
    change: &ChangeFile,
    questions: &Questions,
    options: Options,
    progress: &dyn crate::progress::Progress,
) -> Result<WhatIf, WhatIfError> {
    let before = Engine::new(model, options).with_progress(progress);
    let after = Engine::new(changed, options).with_progress(progress);
    // For proofs, the statuses after the change: the exit code is the one `prove` would give.
    let (items, statuses_after) = match questions {
        Questions::Proofs(file) => proof_items(&before, &after, file)?,
        Questions::Can(question) => (vec![can_item(&before, &after, question)?], Vec::new()),
        Questions::WhoCan {
            action,
            resource,
            context,
        } => (
            who_can_items(&before, &after, action, resource, context)?,
            Vec::new(),
        ),
    };
    let fails_after = statuses_after.contains(&Status::Fails);
    let unknown_after = statuses_after.contains(&Status::Unknown)
        || items
            .iter()
            .any(|item| item.answers_after.iter().any(is_unknown));
    let new_access = items.iter().any(|item| item.new_access);
    Ok(WhatIf {
        change: change.file.clone(),
        description: change.description.clone(),
        edits: change.edits.iter().map(|e| e.edit.summary()).collect(),
        items,
        fails_after,
        unknown_after,
        new_access,
    })
}

/// A question that cannot be asked.
#[derive(Debug, thiserror::Error)]
pub enum WhatIfError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
}

fn is_unknown(answer: &Answer) -> bool {
    answer.verdict == Verdict::Unknown
}

/// Whether a verdict went from unreachable or unknown to reachable.
fn gains(before: Verdict, after: Verdict) -> bool {
    before != Verdict::Reachable && after == Verdict::Reachable
}

fn can_item(before: &Engine, after: &Engine, question: &Question) -> Result<Item, QueryError> {
    let (was, now) = (before.can(question)?, after.can(question)?);
    Ok(Item {
        question: format!(
            "{} -> {} on {}",
            question.principal, question.action, question.resource
        ),
        before: verdict_word(was.verdict).into(),
        after: verdict_word(now.verdict).into(),
        changed: was.verdict != now.verdict,
        new_access: gains(was.verdict, now.verdict),
        who_can_before: None,
        who_can_after: None,
        answers_before: vec![was],
        answers_after: vec![now],
    })
}

/// One item per principal that can (or may) before or after; those that cannot on both sides
/// are left out, as `who-can` leaves them out.
fn who_can_items(
    before: &Engine,
    after: &Engine,
    action: &str,
    resource: &str,
    context: &Context,
) -> Result<Vec<Item>, QueryError> {
    let was = before.who_can(action, resource, context)?;
    let now = after.who_can(action, resource, context)?;
    let mut principals: Vec<&str> = was
        .iter()
        .chain(&now)
        .map(|a| a.query.principal.as_str())
        .collect();
    principals.sort_unstable();
    principals.dedup();
    // A principal `who-can` leaves out on one side cannot there: ask `can` for the hop that
    // blocks it (outsiders, `*`, have no such question).
    let answer_of = |engine: &Engine, answers: &[Answer], principal: &str| match answers
        .iter()
        .find(|a| a.query.principal == principal)
    {
        Some(answer) => Ok(Some(answer.clone())),
        None if principal == "*" => Ok(None),
        // A principal the change makes, or removes, does not exist on the other side.
        None if engine.model.principal_type(principal).is_none() => Ok(None),
        None => engine
            .can(&Question {
                principal: principal.to_string(),
                action: action.to_string(),
                resource: resource.to_string(),
                context: context.clone(),
            })
            .map(Some),
    };
    principals
        .into_iter()
        .map(|principal| {
            let before = answer_of(before, &was, principal)?;
            let after = answer_of(after, &now, principal)?;
            let verdict = |answer: &Option<Answer>| {
                answer.as_ref().map_or(Verdict::Unreachable, |a| a.verdict)
            };
            Ok(Item {
                question: format!("{principal} -> {action} on {resource}"),
                before: verdict_word(verdict(&before)).into(),
                after: verdict_word(verdict(&after)).into(),
                changed: verdict(&before) != verdict(&after),
                new_access: gains(verdict(&before), verdict(&after)),
                who_can_before: None,
                who_can_after: None,
                answers_before: before.into_iter().collect(),
                answers_after: after.into_iter().collect(),
            })
        })
        .collect()
}

fn proof_items(
    before: &Engine,
    after: &Engine,
    file: &ProofFile,
) -> Result<(Vec<Item>, Vec<Status>), crate::input::InputError> {
    let was = prove::check_on(before, file)?;
    let now = prove::check_on(after, file)?;
    let statuses = now.iter().map(|result| result.status).collect();
    let items = was.into_iter().zip(now).map(proof_item).collect();
    Ok((items, statuses))
}

/// One proof before and after: for an `only` proof, the principals that can on each side
/// (shown when they differ, even when the proof holds on both).
fn proof_item((was, now): (prove::ProofResult, prove::ProofResult)) -> Item {
    let (who_can_before, who_can_after, new_access) = match (&was.who_can, &now.who_can) {
        (Some(before), Some(after)) => {
            let gained = !after.gained_since(before).is_empty();
            if before == after {
                (None, None, gained)
            } else {
                (Some(before.clone()), Some(after.clone()), gained)
            }
        }
        _ => {
            let verdict = |result: &prove::ProofResult| {
                result
                    .answers
                    .first()
                    .map_or(Verdict::Unreachable, |a| a.verdict)
            };
            (None, None, gains(verdict(&was), verdict(&now)))
        }
    };
    Item {
        question: now.name.clone(),
        before: proof_outcome(&was),
        after: proof_outcome(&now),
        changed: was.status != now.status
            || principals(&was.answers) != principals(&now.answers)
            || who_can_before.is_some(),
        new_access,
        who_can_before,
        who_can_after,
        answers_before: was.answers,
        answers_after: now.answers,
    }
}

/// A proof's status, with the verdict it rests on when it asks one question.
fn proof_outcome(result: &prove::ProofResult) -> String {
    let status = status_word(result.status);
    match (&result.expect, result.answers.as_slice()) {
        (prove::Expectation::Only(_), _) | (_, []) => status.to_string(),
        (_, [answer, ..]) => format!("{status} ({})", verdict_word(answer.verdict)),
    }
}

/// The principals a proof's answers speak of: for `only` proofs, who else can.
fn principals(answers: &[Answer]) -> Vec<&str> {
    answers.iter().map(|a| a.query.principal.as_str()).collect()
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Holds => "holds",
        Status::Fails => "fails",
        Status::Unknown => "unknown",
    }
}

/// The what-if as text: the change, then one line per question (changed ones marked), with the
/// witness of each new access and the reason for each loss.
pub fn what_if_text(what_if: &WhatIf) -> String {
    let mut out = format!("what-if {}", what_if.change);
    if let Some(description) = &what_if.description {
        out.push_str(&format!(": {description}"));
    }
    out.push('\n');
    for (i, edit) in what_if.edits.iter().enumerate() {
        out.push_str(&format!("  {}. {edit}\n", i + 1));
    }
    out.push('\n');
    for item in &what_if.items {
        let mark = if item.changed { "CHANGED" } else { "same   " };
        out.push_str(&format!(
            "{mark}  {}: {} -> {}\n",
            item.question, item.before, item.after
        ));
        if let (Some(before), Some(after)) = (&item.who_can_before, &item.who_can_after) {
            out.push_str(&format!(
                "         who can before {}\n",
                who_can_line(before)
            ));
            out.push_str(&format!("         who can after {}\n", who_can_line(after)));
        }
        if item.changed {
            for answer in &item.answers_after {
                for line in answer_text(answer).lines() {
                    out.push_str(&format!("         {line}\n"));
                }
            }
        }
    }
    let changed = what_if.items.iter().filter(|i| i.changed).count();
    let answers = match what_if.items.len() {
        1 => "1 answer".to_string(),
        n => format!("{n} answers"),
    };
    out.push_str(&format!("{answers}, {changed} changed"));
    let new_access = what_if.items.iter().filter(|i| i.new_access).count();
    if new_access > 0 {
        out.push_str(&format!(", {new_access} with new access"));
    }
    out.push('\n');
    out
}

/// A set of principals on one line: how many can, and who; then those undecided.
fn who_can_line(set: &WhoCanSet) -> String {
    let mut line = match set.can.len() {
        0 => "(0): nobody".to_string(),
        n => format!("({n}): {}", set.can.join(", ")),
    };
    if !set.unknown.is_empty() {
        line.push_str(&format!(
            "; unknown ({}): {}",
            set.unknown.len(),
            set.unknown.join(", ")
        ));
    }
    line
}
