//! `prove --shard K/N` and `merge-shards`: the proofs of one run split across N machines, and
//! their reports merged into the report one run would print, byte for byte, with its exit code.
//!
//! The proofs are numbered across all the proof files of the run, in file order and then in
//! proof order, from 0. Shard K of N checks a contiguous block of those numbers: of T proofs,
//! the first T mod N shards take ⌈T/N⌉ and the others ⌊T/N⌋, in order, so that the shards
//! differ by one proof at most and a shard is empty only when N > T. A proof's shard is a
//! function of its number, N and T alone: every shard of a run reads every proof file (reading
//! is cheap) and agrees with the others without talking to them. Blocks rather than every N-th
//! proof because the proofs of a file share its model, its delegation graph and the engine's
//! memos: a shard loads only the files its block touches, usually one or two, and a file with
//! no proof in the block is read (to count its proofs) but its accounts are never loaded.
//!
//! A shard's JSON report (`prove --shard K/N --format json`) is `prove`'s JSON report with what
//! a merge needs besides, so that the merge loses nothing: the position of each statement in its
//! policy (`allowed_by[].index`, which the report leaves out and SARIF places statements by),
//! and a `shard` record ([`Record`]): which shard of how many, every proof file with its
//! number of proofs and its accounts (SARIF reads the files again), the number of each result,
//! the errors with the file and proof they belong to, and the baseline entries that accepted
//! nothing in the shard. [`ProofResult`] reads back from that JSON; [`merge`] checks that the
//! reports are the N shards of one run, puts the results and the errors back in the order of a
//! single run, and finds a baseline entry stale when it is stale in every shard.

use crate::input::{parse_json, InputError};
use crate::query::prove::{ProofFile, ProofResult};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::ops::Range;
use std::path::PathBuf;

/// Shard `index` of `count`, `1 <= index <= count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Reads `K/N`, such as `2/4`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let Some((k, n)) = text.split_once('/') else {
            return Err(format!(
                "expected K/N, such as 2/4 for the second of four shards, found {text:?}"
            ));
        };
        let number = |part: &str, what: &str| {
            part.parse::<usize>().map_err(|_| {
                format!("{what} in K/N is not a whole number: {part:?} (expected K/N, such as 2/4)")
            })
        };
        let index = number(k, "K")?;
        let count = number(n, "N")?;
        if count == 0 {
            return Err("N, the number of shards, must be at least 1".to_string());
        }
        if index == 0 || index > count {
            return Err(format!(
                "K must be between 1 and N ({count}), found {index}"
            ));
        }
        Ok(Shard { index, count })
    }

    /// The numbers of the proofs this shard checks, out of `total`.
    pub fn block(&self, total: usize) -> Range<usize> {
        let (size, larger) = (total / self.count, total % self.count);
        // Where the block after `before` shards starts.
        let start = |before: usize| before * size + before.min(larger);
        start(self.index - 1)..start(self.index)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What a shard does with one proof file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The number of the file's first proof among the proofs of all files.
    pub first: usize,
    /// The positions in the file of the proofs the shard checks.
    pub proofs: Range<usize>,
    /// Whether the file's accounts are loaded: when it has a proof to check, and for a file
    /// without proofs, by the first shard only, so that its mistakes are still reported once.
    pub load: bool,
}

/// The share of each proof file, of `counts[i]` proofs, that `shard` checks; without a shard,
/// every proof of every file.
pub fn shares(shard: Option<Shard>, counts: &[usize]) -> Vec<Share> {
    let total = counts.iter().sum();
    let block = shard.map_or(0..total, |s| s.block(total));
    let mut first = 0;
    counts
        .iter()
        .map(|&count| {
            let clamp = |n: usize| n.clamp(first, first + count) - first;
            let proofs = clamp(block.start)..clamp(block.end);
            let load = !proofs.is_empty() || (count == 0 && shard.is_none_or(|s| s.index == 1));
            let share = Share {
                first,
                proofs,
                load,
            };
            first += count;
            share
        })
        .collect()
}

/// A proof file as a shard's record names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// The file as `prove` names it.
    pub file: String,
    /// How many proofs it has; none when it cannot be read.
    pub proofs: usize,
    /// Its snapshot folders, as `prove` resolved them.
    pub accounts: Vec<String>,
}

impl FileRecord {
    pub fn of(file: &ProofFile) -> FileRecord {
        FileRecord {
            file: file.file.clone(),
            proofs: file.proofs.len(),
            accounts: file
                .accounts
                .iter()
                .map(|a| a.display().to_string())
                .collect(),
        }
    }
}

/// An error of a run, with where it belongs in the order of a single run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// The position of the proof file in the run.
    pub file: usize,
    /// The number of the proof whose question cannot be asked; none for the file itself.
    pub proof: Option<usize>,
    /// The message, as `prove` prints it after `error: `.
    pub message: String,
}

/// The `shard` member of a shard's JSON report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// K of `--shard K/N`.
    pub index: usize,
    /// N of `--shard K/N`.
    pub count: usize,
    /// How many proofs the files hold together.
    pub total: usize,
    /// Every proof file of the run, in order, whether the shard loaded it or not.
    pub files: Vec<FileRecord>,
    /// The number of each result of the report, in order.
    pub positions: Vec<usize>,
    /// The errors of the shard, in the order it printed them.
    pub errors: Vec<ErrorRecord>,
    /// The baseline file, when the run had one.
    pub baseline: Option<String>,
    /// The warnings about the baseline entries that accepted nothing in this shard.
    pub stale: Vec<String>,
}

impl Record {
    /// The record of `run`, shard `shard` of a run with `baseline`, whose entries in `stale`
    /// accepted nothing in the shard.
    pub fn of(
        shard: Shard,
        run: &crate::query::prove::Run,
        baseline: Option<&str>,
        stale: Vec<String>,
    ) -> Record {
        Record {
            index: shard.index,
            count: shard.count,
            total: run.files.iter().map(|f| f.proofs).sum(),
            files: run.files.clone(),
            positions: run.positions.clone(),
            errors: run.errors.clone(),
            baseline: baseline.map(str::to_string),
            stale,
        }
    }
}

/// A shard's JSON report: `prove`'s, each statement with its position in its policy, and the
/// record.
pub fn report_json(results: &[ProofResult], record: &Record) -> Value {
    let mut report = crate::report::proofs_json(results);
    let values = report["results"].as_array_mut().into_iter().flatten();
    for (value, result) in values.zip(results) {
        for (value, answer) in items(value, "answers").zip(&result.answers) {
            for (value, link) in items(value, "chain").zip(&answer.chain) {
                for (value, allowed) in items(value, "allowed_by").zip(&link.allowed_by) {
                    value["index"] = Value::from(allowed.index);
                    if let Some(origin) = &allowed.origin {
                        value["origin"] =
                            serde_json::to_value(origin).expect("an origin serializes");
                    }
                }
            }
        }
    }
    report["shard"] = serde_json::to_value(record).expect("a shard record serializes");
    report
}

/// The items of the list `value[key]`.
fn items<'v>(value: &'v mut Value, key: &str) -> impl Iterator<Item = &'v mut Value> {
    value
        .get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

/// A shard's JSON report, read back.
#[derive(Debug, Clone)]
pub struct Report {
    /// The report's file.
    pub file: String,
    pub results: Vec<ProofResult>,
    pub record: Record,
}

/// Reads a shard's JSON report, `text`, from `file`.
pub fn read(file: &str, text: &str) -> Result<Report, InputError> {
    let value = parse_json(file, text)?;
    let field = |name: &str| {
        value.get(name).ok_or_else(|| {
            InputError::new(
                file,
                name,
                "missing: merge-shards reads the reports of `prove --shard K/N --format json`",
            )
        })
    };
    let record: Record = serde_json::from_value(field("shard")?.clone())
        .map_err(|e| InputError::new(file, "shard", e.to_string()))?;
    let results: Vec<ProofResult> = serde_json::from_value(field("results")?.clone())
        .map_err(|e| InputError::new(file, "results", e.to_string()))?;
    Ok(Report {
        file: file.to_string(),
        results,
        record,
    })
}

/// The reports of every shard of a run, as one run.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The proof files of the run, with their accounts and no proofs: what SARIF reads again.
    pub files: Vec<ProofFile>,
    /// Every result, in the order of a single run.
    pub results: Vec<ProofResult>,
    /// Every error once, in the order of a single run.
    pub errors: Vec<String>,
    /// The warnings about baseline entries that accepted nothing in any shard.
    pub stale: Vec<String>,
}

/// Merges the reports of the N shards of one run, given in any order.
pub fn merge(reports: Vec<Report>) -> Result<Merged, InputError> {
    let Some(first) = reports.first() else {
        return Err(InputError::new("", "", "no shard report to merge"));
    };
    let base = &first.record;
    let differ = |report: &Report, field: &str, what: &str| {
        InputError::new(
            &report.file,
            &format!("shard.{field}"),
            format!(
                "{what} differs from that of {}: the reports are not the shards of one run",
                first.file
            ),
        )
    };
    for report in &reports {
        let record = &report.record;
        if record.count != base.count {
            return Err(differ(report, "count", "the number of shards"));
        }
        if record.total != base.total || record.files != base.files {
            return Err(differ(report, "files", "the list of proof files"));
        }
        if record.baseline != base.baseline {
            return Err(differ(report, "baseline", "the baseline"));
        }
    }
    // Each shard once.
    let mut given: Vec<Option<&str>> = vec![None; base.count];
    for report in &reports {
        let index = report.record.index;
        let shard = Shard {
            index,
            count: base.count,
        };
        let Some(slot) = index.checked_sub(1).and_then(|i| given.get_mut(i)) else {
            return Err(InputError::new(
                &report.file,
                "shard.index",
                format!("{index} is not a shard of {}", base.count),
            ));
        };
        if let Some(other) = slot {
            return Err(InputError::new(
                &report.file,
                "shard.index",
                format!("shard {shard} is given twice: {other} is shard {shard} too"),
            ));
        }
        *slot = Some(&report.file);
        if report.record.positions.len() != report.results.len() {
            return Err(InputError::new(
                &report.file,
                "shard.positions",
                format!(
                    "{} positions for {} results",
                    report.record.positions.len(),
                    report.results.len()
                ),
            ));
        }
        let block = shard.block(base.total);
        if let Some(outside) = report.record.positions.iter().find(|p| !block.contains(p)) {
            return Err(InputError::new(
                &report.file,
                "shard.positions",
                format!("proof {outside} is not one of shard {shard}"),
            ));
        }
    }
    if let Some(missing) = given.iter().position(Option::is_none) {
        return Err(InputError::new(
            &first.file,
            "shard.count",
            format!(
                "the report of shard {}/{} is missing: merge the reports of all {} shards",
                missing + 1,
                base.count,
                base.count
            ),
        ));
    }

    let stale = base
        .stale
        .iter()
        .filter(|w| reports.iter().all(|r| r.record.stale.contains(w)))
        .cloned()
        .collect();
    let files = base
        .files
        .iter()
        .map(|f| ProofFile {
            file: f.file.clone(),
            accounts: f.accounts.iter().map(PathBuf::from).collect(),
            terraform: Vec::new(),
            templates: Vec::new(),
            template_inputs: Default::default(),
            proofs: Vec::new(),
        })
        .collect();
    let mut errors: Vec<ErrorRecord> = Vec::new();
    let mut numbered: Vec<(usize, ProofResult)> = Vec::new();
    for report in reports {
        errors.extend(report.record.errors);
        numbered.extend(report.record.positions.into_iter().zip(report.results));
    }
    numbered.sort_by_key(|(position, _)| *position);
    // A file's own error (it cannot be read or loaded) comes before its proofs' errors; every
    // shard with a proof of a file that cannot be loaded says so, and it is said once.
    errors.sort_by_key(|e| (e.file, e.proof.is_some(), e.proof));
    errors.dedup();
    Ok(Merged {
        files,
        results: numbered.into_iter().map(|(_, result)| result).collect(),
        errors: errors.into_iter().map(|e| e.message).collect(),
        stale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_numbers_are_read_or_refused() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse("1/1"), Ok(Shard { index: 1, count: 1 }));
        for bad in [
            "0/4", "5/4", "1/0", "0/0", "a/4", "1/b", "2", "", "/", "1/2/3", "-1/4",
        ] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn blocks_cover_every_proof_once_and_differ_by_one_at_most() {
        for total in 0..30 {
            for count in 1..12 {
                let blocks: Vec<Range<usize>> = (1..=count)
                    .map(|index| Shard { index, count }.block(total))
                    .collect();
                let mut next = 0;
                for block in &blocks {
                    assert_eq!(block.start, next, "{total} in {count}");
                    next = block.end;
                    assert!(block.len() == total / count || block.len() == total / count + 1);
                }
                assert_eq!(next, total);
            }
        }
        // The larger blocks come first; the empty ones last.
        let sizes: Vec<usize> = (1..=4)
            .map(|index| Shard { index, count: 4 }.block(3).len())
            .collect();
        assert_eq!(sizes, [1, 1, 1, 0]);
    }

    #[test]
    fn a_shard_loads_only_the_files_its_block_touches() {
        let shard = |index| Some(Shard { index, count: 3 });
        // Files of 4, 0 and 5 proofs: blocks 0..3, 3..6, 6..9.
        let loads = |index| -> Vec<bool> {
            shares(shard(index), &[4, 0, 5])
                .iter()
                .map(|s| s.load)
                .collect()
        };
        assert_eq!(loads(1), [true, true, false]);
        assert_eq!(loads(2), [true, false, true]);
        assert_eq!(loads(3), [false, false, true]);
        let second = shares(shard(2), &[4, 0, 5]);
        assert_eq!(second[0].proofs, 3..4);
        assert_eq!(second[2].proofs, 0..2);
        assert_eq!(second[2].first, 4);
        assert!(shares(None, &[4, 0, 5]).iter().all(|s| s.load));
    }
}
