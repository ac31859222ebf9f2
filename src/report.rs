//! Rendering of answers: text for people, JSON for programs (the field names of the
//! command-line contract), Markdown for pull-request comments ([`markdown`]), and proof
//! results for CI ([`junit`] test reports, [`sarif`] code scanning alerts placed with
//! [`locate`]).

pub mod junit;
pub mod locate;
pub mod markdown;
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
    if let Some(who) = &answer.outside {
        out.push_str(&format!("  from outside: {who}\n"));
    }
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

/// `who-can` as text: a summary line, then one block per principal that can (or may).
pub fn who_can_text(answers: &[Answer], action: &str, resource: &str) -> String {
    if answers.is_empty() {
        return format!("nobody can {action} on {resource}\n");
    }
    let blocks: Vec<String> = answers.iter().map(answer_text).collect();
    format!(
        "{}\n\n{}",
        who_can_summary(answers, action, resource),
        blocks.join("\n")
    )
}

/// The first line of `who-can`: how many principals of the snapshots can, how many callers
/// from outside the account can, and how many answers are unknown.
pub fn who_can_summary(answers: &[Answer], action: &str, resource: &str) -> String {
    let reachable = |a: &&Answer| a.verdict == Verdict::Reachable;
    let inside = answers
        .iter()
        .filter(reachable)
        .filter(|a| a.outside.is_none())
        .count();
    let outsiders = answers
        .iter()
        .filter(reachable)
        .filter(|a| a.outside.is_some())
        .count();
    let unknown = answers
        .iter()
        .filter(|a| a.verdict == Verdict::Unknown)
        .count();
    let from_outside = match outsiders {
        1 => "1 caller from outside the account".to_string(),
        n => format!("{n} callers from outside the account"),
    };
    let mut line = match (inside, outsiders) {
        (0, n) if n > 0 => format!(
            "no principal of the snapshots can {action} on {resource}, but {from_outside} can"
        ),
        (1, _) => format!("1 principal can {action} on {resource}"),
        (n, _) => format!("{n} principals can {action} on {resource}"),
    };
    if outsiders > 0 && inside > 0 {
        line.push_str(&format!(", and so can {from_outside}"));
    }
    if unknown > 0 {
        line.push_str(&format!("; {unknown} unknown"));
    }
    line
}

/// `who-can` as the contract's JSON object.
pub fn who_can_json(answers: &[Answer]) -> serde_json::Value {
    let principals: Vec<serde_json::Value> = answers
        .iter()
        .map(|a| {
            let mut row = serde_json::json!({
                "principal": a.query.principal,
                "verdict": a.verdict,
                "chain": a.chain,
                "assumptions": a.assumptions,
                "reason": a.reason,
            });
            if let Some(who) = &a.outside {
                row["outside"] = serde_json::json!(who);
            }
            row
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
        } else if let Some(accepted) = &result.reason {
            // A finding a baseline accepts holds, with the reason it was accepted.
            out.push_str(&format!(
                "  {accepted}
"
            ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::QueryEcho;

    fn answer(principal: &str, verdict: Verdict) -> Answer {
        Answer {
            verdict,
            query: QueryEcho {
                principal: principal.into(),
                action: "s3:PutObject".into(),
                resource: "arn:aws:s3:::media-out/*".into(),
            },
            chain: Vec::new(),
            assumptions: Vec::new(),
            reason: None,
            outside: (!principal.starts_with("arn:")).then(|| "anyone, unauthenticated".into()),
        }
    }

    fn summary(answers: &[Answer]) -> String {
        who_can_summary(answers, "s3:PutObject", "arn:aws:s3:::media-out/*")
    }

    #[test]
    fn who_can_summary_counts_principals_outsiders_and_unknowns() {
        use Verdict::{Reachable, Unknown};
        let alice = answer("arn:aws:iam::111122223333:user/alice", Reachable);
        let bob = answer("arn:aws:iam::111122223333:user/bob", Reachable);
        let carol = answer("arn:aws:iam::111122223333:user/carol", Unknown);
        let outside = answer("anonymous", Reachable);
        let outside_unknown = answer("account:*", Unknown);
        assert_eq!(
            summary(std::slice::from_ref(&alice)),
            "1 principal can s3:PutObject on arn:aws:s3:::media-out/*"
        );
        assert_eq!(
            summary(&[alice.clone(), bob.clone(), outside.clone()]),
            "2 principals can s3:PutObject on arn:aws:s3:::media-out/*, and so can 1 caller from outside the account"
        );
        assert_eq!(
            summary(&[alice.clone(), carol.clone(), outside_unknown]),
            "1 principal can s3:PutObject on arn:aws:s3:::media-out/*; 2 unknown"
        );
        assert_eq!(
            summary(&[carol.clone(), outside]),
            "no principal of the snapshots can s3:PutObject on arn:aws:s3:::media-out/*, but 1 caller from outside the account can; 1 unknown"
        );
        assert_eq!(
            summary(&[carol]),
            "0 principals can s3:PutObject on arn:aws:s3:::media-out/*; 1 unknown"
        );
        // The list follows the summary after a blank line; nobody is said in one line.
        let text = who_can_text(&[alice, bob], "s3:PutObject", "arn:aws:s3:::media-out/*");
        assert!(text.starts_with("2 principals can s3:PutObject on arn:aws:s3:::media-out/*\n\nreachable: arn:aws:iam::111122223333:user/alice"), "{text}");
        assert_eq!(
            who_can_text(&[], "s3:PutObject", "arn:aws:s3:::media-out/*"),
            "nobody can s3:PutObject on arn:aws:s3:::media-out/*\n"
        );
    }
}
