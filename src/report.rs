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
