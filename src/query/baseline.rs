//! Baselines: findings a team has accepted, each with its reason, so that a CI gate fails only
//! on what is new.
//!
//! ```json
//! {"accepted": [
//!   {"proof": "only LambdaRole writes finance",
//!    "principals": ["arn:aws:iam::111122223333:user/editor"],
//!    "reason": "editors deploy the finance report function (SEC-142)"},
//!   {"proof": "legacy bucket is sealed", "reason": "undecided until the legacy account is collected"}]}
//! ```
//!
//! An entry accepts the failure (or `unknown`) of the proof it names. For an `only` proof that
//! lists `principals`, it accepts those principals only: a principal that can and is in neither
//! the proof's list nor the entry's is new access, and the proof still fails. An accepted
//! proof is reported as holding, with the reason; an entry that accepts nothing that happened
//! is stale, and said so, so that the baseline shrinks as findings are fixed.

use super::prove::{Expectation, ProofResult, Status};
use super::Verdict;
use crate::input::{list_at, read_object_file, string_at, InputError};
use std::path::Path;

/// One accepted finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub proof: String,
    /// For `only` proofs: the principals accepted beyond the proof's list; empty for all.
    pub principals: Vec<String>,
    pub reason: String,
    /// The JSON path of the entry (`accepted[2]`).
    pub path: String,
}

/// A baseline file.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub file: String,
    pub accepted: Vec<Accepted>,
}

/// Reads a baseline file.
pub fn read(path: &Path) -> Result<Baseline, InputError> {
    let (file, object) = read_object_file(path, "baseline", &["accepted"])?;
    let entries = list_at(
        &file,
        "accepted",
        object
            .get("accepted")
            .ok_or_else(|| InputError::new(&file, "accepted", "missing"))?,
    )?;
    let mut accepted = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let path = format!("accepted[{index}]");
        let Some(fields) = entry.as_object() else {
            return Err(InputError::new(
                &file,
                &path,
                "expected an object with proof and reason",
            ));
        };
        if let Some(unknown) = fields
            .keys()
            .find(|k| !["proof", "principals", "reason"].contains(&k.as_str()))
        {
            return Err(InputError::new(
                &file,
                &format!("{path}.{unknown}"),
                "unknown field (expected proof, principals and reason)",
            ));
        }
        let text = |field: &str| -> Result<String, InputError> {
            let value = fields
                .get(field)
                .ok_or_else(|| InputError::new(&file, &format!("{path}.{field}"), "missing"))?;
            Ok(string_at(&file, &format!("{path}.{field}"), value)?
                .trim()
                .to_string())
        };
        let reason = text("reason")?;
        if reason.is_empty() {
            return Err(InputError::new(
                &file,
                &format!("{path}.reason"),
                "empty; say why the finding is accepted",
            ));
        }
        let principals = match fields.get("principals") {
            None => Vec::new(),
            Some(value) => list_at(&file, &format!("{path}.principals"), value)?
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    string_at(&file, &format!("{path}.principals[{i}]"), v).map(str::to_string)
                })
                .collect::<Result<_, _>>()?,
        };
        accepted.push(Accepted {
            proof: text("proof")?,
            principals,
            reason,
            path,
        });
    }
    Ok(Baseline { file, accepted })
}

/// Accepts what the baseline accepts; returns the entries that accept nothing of `results`,
/// which are stale ([`stale`]) when `results` are every result of the run.
pub fn accept<'b>(baseline: &'b Baseline, results: &mut [ProofResult]) -> Vec<&'b Accepted> {
    let mut used = vec![false; baseline.accepted.len()];
    for result in results.iter_mut().filter(|r| r.status != Status::Holds) {
        let Some((index, entry)) = baseline
            .accepted
            .iter()
            .enumerate()
            .find(|(_, e)| e.proof == result.name)
        else {
            continue;
        };
        if !entry.principals.is_empty() {
            let Expectation::Only(listed) = &result.expect else {
                continue;
            };
            let beyond: Vec<&str> = result
                .answers
                .iter()
                .filter(|a| a.verdict != Verdict::Unreachable)
                .map(|a| a.query.principal.as_str())
                .filter(|p| !listed.iter().any(|l| l == p))
                .collect();
            // New access is never accepted.
            if beyond
                .iter()
                .any(|p| !entry.principals.iter().any(|e| e == p))
            {
                continue;
            }
        }
        used[index] = true;
        result.status = Status::Holds;
        result.reason = Some(format!(
            "accepted by {} {}: {}",
            baseline.file, entry.path, entry.reason
        ));
    }
    baseline
        .accepted
        .iter()
        .zip(used)
        .filter(|(_, used)| !used)
        .map(|(entry, _)| entry)
        .collect()
}

/// The warning that an entry of the baseline accepts nothing.
pub fn stale(baseline: &Baseline, entry: &Accepted) -> String {
    format!(
        "{} {}: stale: proof {:?} has no finding it accepts; remove the entry",
        baseline.file, entry.path, entry.proof
    )
}
