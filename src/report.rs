//! Rendering of answers: text for people, JSON for programs (the field names of the
//! command-line contract), and proof results for CI ([`junit`] test reports, [`sarif`] code
//! scanning alerts placed with [`locate`]).

pub mod junit;
pub mod locate;
pub mod sarif;

use crate::query::prove::{Expectation, ProofResult, Status};
use crate::query::{Answer, Verdict};

pub fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Reachable => "reachable",
        Verdict::Unreachable => "unreachable",
        Verdict::Unknown => "unknown",
    }
}

/// The chain of a witness, one request per numbered item.
pub fn chain_text(answer: &Answer, indent: &str) -> String {
    let mut out = String::new();
    for (i, link) in answer.chain.iter().enumerate() {
        out.push_str(&format!(
            "{indent}{}. {} {} on {}\n",
            i + 1,
            link.principal,
            link.action,
            link.resource
        ));
        if let Some(context) = context_text(&link.context) {
            out.push_str(&format!("{indent}   context: {context}\n"));
        }
        for allowed in &link.allowed_by {
            out.push_str(&format!(
                "{indent}   allowed by {} statement {}\n",
                allowed.policy, allowed.statement
            ));
        }
        if let Some(change) = &link.change {
            out.push_str(&format!("{indent}   => {change}\n"));
        }
    }
    out
}

/// The context values of a link as `key=value` pairs, or nothing when there are none.
pub fn context_text(context: &serde_json::Value) -> Option<String> {
    let context = context.as_object().filter(|c| !c.is_empty())?;
    let pairs: Vec<String> = context
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            )
        })
        .collect();
    Some(pairs.join(", "))
}

/// One answer as text.
pub fn answer_text(answer: &Answer) -> String {
    let q = &answer.query;
    let mut out = format!(
        "{}: {} -> {} on {}\n",
        verdict_word(answer.verdict),
        q.principal,
        q.action,
        q.resource
    );
    out.push_str(&chain_text(answer, "  "));
    if !answer.assumptions.is_empty() {
        out.push_str("  assumptions:\n");
        for assumption in &answer.assumptions {
            out.push_str(&format!("    - {assumption}\n"));
        }
    }
    if let Some(reason) = &answer.reason {
        out.push_str(&format!("  reason: {reason}\n"));
    }
    out
}

/// One answer as the contract's JSON object.
pub fn answer_json(answer: &Answer) -> serde_json::Value {
    serde_json::to_value(answer).unwrap_or(serde_json::Value::Null)
}

/// `who-can` as text: one block per principal that can.
pub fn who_can_text(answers: &[Answer], action: &str, resource: &str) -> String {
    if answers.is_empty() {
        return format!("nobody can {action} on {resource}\n");
    }
    answers
        .iter()
        .map(answer_text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `who-can` as the contract's JSON object.
pub fn who_can_json(answers: &[Answer]) -> serde_json::Value {
    let principals: Vec<serde_json::Value> = answers
        .iter()
        .map(|a| {
            serde_json::json!({
                "principal": a.query.principal,
                "verdict": a.verdict,
                "chain": a.chain,
                "assumptions": a.assumptions,
                "reason": a.reason,
            })
        })
        .collect();
    serde_json::json!({ "principals": principals })
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Holds => "PASS",
        Status::Fails => "FAIL",
        Status::Unknown => "UNKNOWN",
    }
}

/// Why a proof fails or is unknown, and the answers it rests on (counterexample chains), as the
/// indented block the text report prints under the proof's status line. The CI formats embed
/// the same block so a failure reads the same wherever it is shown.
pub fn proof_details(result: &ProofResult) -> String {
    let mut out = String::new();
    // A single answer carries its own reason; repeat only what it does not say.
    let said = result.answers.iter().any(|a| {
        a.reason.is_some()
            && result
                .reason
                .as_ref()
                .is_some_and(|r| r.contains(a.reason.as_deref().unwrap_or_default()))
    });
    if let Some(reason) = result.reason.as_ref().filter(|_| !said) {
        out.push_str(&format!("  {reason}\n"));
    }
    for answer in &result.answers {
        for line in answer_text(answer).lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out
}

/// Proof results as text, with a closing summary line.
pub fn proofs_text(results: &[ProofResult]) -> String {
    let mut out = String::new();
    for result in results {
        out.push_str(&format!(
            "{} {}  ({} {})\n",
            status_word(result.status),
            result.name,
            result.file,
            result.path
        ));
        if result.status != Status::Holds {
            out.push_str(&proof_details(result));
        }
    }
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    out.push_str(&format!(
        "{} passed, {} failed, {} unknown\n",
        count(Status::Holds),
        count(Status::Fails),
        count(Status::Unknown)
    ));
    out
}

/// Proof results as JSON.
pub fn proofs_json(results: &[ProofResult]) -> serde_json::Value {
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    serde_json::json!({
        "results": results,
        "summary": {"holds": count(Status::Holds), "fails": count(Status::Fails), "unknown": count(Status::Unknown)},
    })
}

/// How a proof that does not hold went wrong; the rule ids of the SARIF report and the failure
/// types of the JUnit report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    /// An `unreachable` proof is reachable: the counterexample chain grants the access.
    UnexpectedAccess,
    /// A `reachable` proof is unreachable: something blocks an access that must work.
    MissingAccess,
    /// An `only` proof: a principal outside the list can.
    UnexpectedPrincipal,
    /// The answer is `unknown`: neither proved nor refuted.
    Undecided,
}

impl Finding {
    pub const ALL: [Finding; 4] = [
        Finding::UnexpectedAccess,
        Finding::MissingAccess,
        Finding::UnexpectedPrincipal,
        Finding::Undecided,
    ];

    /// What a result that does not hold is; `None` for a proof that holds.
    pub fn of(result: &ProofResult) -> Option<Finding> {
        match (result.status, &result.expect) {
            (Status::Holds, _) => None,
            (Status::Unknown, _) => Some(Finding::Undecided),
            (Status::Fails, Expectation::Unreachable) => Some(Finding::UnexpectedAccess),
            (Status::Fails, Expectation::Reachable) => Some(Finding::MissingAccess),
            (Status::Fails, Expectation::Only(_)) => Some(Finding::UnexpectedPrincipal),
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Finding::UnexpectedAccess => "unexpected-access",
            Finding::MissingAccess => "missing-access",
            Finding::UnexpectedPrincipal => "unexpected-principal",
            Finding::Undecided => "undecided",
        }
    }
}
