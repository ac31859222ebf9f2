//! Rendering of answers: text for people, JSON for programs (the field names of the
//! command-line contract).

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
        let context = link.context.as_object().filter(|c| !c.is_empty());
        if let Some(context) = context {
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
            out.push_str(&format!("{indent}   context: {}\n", pairs.join(", ")));
        }
        for allowed in &link.allowed_by {
            out.push_str(&format!(
                "{indent}   allowed by {} statement {}\n",
                allowed.policy, allowed.statement
            ));
        }
    }
    out
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

fn status_word(status: crate::query::prove::Status) -> &'static str {
    match status {
        crate::query::prove::Status::Holds => "PASS",
        crate::query::prove::Status::Fails => "FAIL",
        crate::query::prove::Status::Unknown => "UNKNOWN",
    }
}

/// Proof results as text, with a closing summary line.
pub fn proofs_text(results: &[crate::query::prove::ProofResult]) -> String {
    use crate::query::prove::Status;
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
pub fn proofs_json(results: &[crate::query::prove::ProofResult]) -> serde_json::Value {
    use crate::query::prove::Status;
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    serde_json::json!({
        "results": results,
        "summary": {"holds": count(Status::Holds), "fails": count(Status::Fails), "unknown": count(Status::Unknown)},
    })
}
