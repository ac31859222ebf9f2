//! A sweep written out: a text table for people, JSON and CSV for programs, and a proof file
//! of `only` proofs that pins today's access, so that `prove` fails on any new one.
//!
//! JSON has one object per pair with `who-can`'s principals as its JSON gives them; CSV has one
//! line per pair and principal (one line with an empty principal for a pair nobody can reach).
//! A pair with an unknown answer is left out of the proof file, with the reason: pinning it
//! would pass off an undecided answer as a decided one.

use super::{Kind, Pair, Sweep};
use crate::query::Answer;
use serde_json::{json, Value};

/// The most characters of principal names a line of the text table lists before "+N more".
const NAMES_WIDTH: usize = 72;

/// How many buckets and keys a sweep covers, as words (`3 buckets and 1 key`).
fn covered(sweep: &Sweep) -> String {
    let targets = sweep.targets();
    let words: Vec<String> = [Kind::Bucket, Kind::Key]
        .into_iter()
        .filter_map(|kind| {
            let n = targets.iter().filter(|t| t.kind == kind).count();
            (n > 0).then(|| plural(n, kind.word()))
        })
        .collect();
    words.join(" and ")
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// How many pairs someone can reach, and how many have unknown answers.
fn counts(sweep: &Sweep) -> (usize, usize) {
    let reached = sweep
        .pairs
        .iter()
        .filter(|p| p.reachable().next().is_some())
        .count();
    let unknown = sweep
        .pairs
        .iter()
        .filter(|p| p.unknown().next().is_some())
        .count();
    (reached, unknown)
}

/// The first line of the text: what was swept, in how many pairs someone can, how many pairs
/// have unknown answers.
pub fn summary(sweep: &Sweep) -> String {
    if sweep.pairs.is_empty() {
        return "no bucket or key to sweep".to_string();
    }
    let (reached, unknown) = counts(sweep);
    let unknown = match unknown {
        0 => "no unknown answers".to_string(),
        1 => "1 pair with unknown answers".to_string(),
        n => format!("{n} pairs with unknown answers"),
    };
    format!(
        "{}: someone can in {reached} of {}; {unknown}",
        covered(sweep),
        plural(sweep.pairs.len(), "pair")
    )
}

/// A principal as the text table names it: the model's own users and roles without the
/// `arn:PARTITION:iam::` prefix, and without their account when the model has one account;
/// callers from outside the account by their full name.
fn short_name(answer: &Answer, single_account: bool) -> String {
    let name = &answer.query.principal;
    if answer.outside.is_some() {
        return name.clone();
    }
    let parts: Vec<&str> = name.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "iam", "", account, rest] if single_account || account.is_empty() => {
            rest.to_string()
        }
        ["arn", _, "iam", "", account, rest] => format!("{account}:{rest}"),
        _ => name.clone(),
    }
}

/// The principals of a pair for the text table: those that can, then those that may (marked
/// `?`), cut at [`NAMES_WIDTH`] characters with the number left out.
fn names(pair: &Pair, single_account: bool) -> String {
    let all: Vec<String> = pair
        .reachable()
        .map(|a| short_name(a, single_account))
        .chain(
            pair.unknown()
                .map(|a| format!("{}?", short_name(a, single_account))),
        )
        .collect();
    if all.is_empty() {
        return "-".to_string();
    }
    let mut shown = String::new();
    let mut listed = 0;
    for name in &all {
        let more = all.len() - listed - 1;
        let tail = if more > 0 {
            format!(", +{more} more").len()
        } else {
            0
        };
        if listed > 0 && shown.len() + 2 + name.len() + tail > NAMES_WIDTH {
            break;
        }
        if listed > 0 {
            shown.push_str(", ");
        }
        shown.push_str(name);
        listed += 1;
    }
    if listed < all.len() {
        shown.push_str(&format!(", +{} more", all.len() - listed));
    }
    shown
}

/// The sweep as text: the summary line, then each bucket or key (with its aliases) and under
/// it one line per access: how many can, how many answers are unknown, and who.
pub fn text(sweep: &Sweep) -> String {
    if sweep.pairs.is_empty() {
        return format!("{}\n", summary(sweep));
    }
    let single_account = sweep.accounts.len() <= 1;
    let header = ["ACCESS", "CAN", "UNKNOWN", "WHO"];
    let width = |column: usize, cell: &dyn Fn(&Pair) -> usize| {
        sweep
            .pairs
            .iter()
            .map(cell)
            .chain([header[column].len()])
            .max()
            .unwrap_or(0)
    };
    let widths = [
        width(0, &|p| p.access.name.len()),
        width(1, &|p| p.reachable().count().to_string().len()),
        width(2, &|p| p.unknown().count().to_string().len()),
    ];
    let line = |cells: [&str; 4]| {
        format!(
            "  {:<w0$}  {:>w1$}  {:>w2$}  {}\n",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
        )
    };
    let mut out = format!("{}\n\n", summary(sweep));
    out.push_str(&line(header));
    let mut previous = None;
    for pair in &sweep.pairs {
        if previous != Some(&pair.target) {
            out.push_str(&pair.target.arn);
            if !pair.target.aliases.is_empty() {
                out.push_str(&format!(" ({})", pair.target.aliases.join(", ")));
            }
            out.push('\n');
            previous = Some(&pair.target);
        }
        out.push_str(&line([
            pair.access.name,
            &pair.reachable().count().to_string(),
            &pair.unknown().count().to_string(),
            &names(pair, single_account),
        ]));
    }
    if sweep.has_unknown() {
        out.push_str(
            "\n? marks an unknown answer; `iamproof who-can` on the pair gives its reason\n",
        );
    }
    out
}

/// The sweep as JSON: a summary, and one object per pair with its question and `who-can`'s
/// principals as `who-can --format json` gives them.
pub fn json(sweep: &Sweep) -> Value {
    let targets = sweep.targets();
    let (reached, unknown) = counts(sweep);
    let pairs: Vec<Value> = sweep
        .pairs
        .iter()
        .map(|pair| {
            json!({
                "resource": pair.target.arn,
                "kind": pair.target.kind,
                "access": pair.access.name,
                "action": pair.access.action,
                "question_resource": pair.question,
                "principals": crate::report::who_can_json(&pair.answers)["principals"],
            })
        })
        .collect();
    json!({
        "summary": {
            "buckets": targets.iter().filter(|t| t.kind == Kind::Bucket).count(),
            "keys": targets.iter().filter(|t| t.kind == Kind::Key).count(),
            "pairs": sweep.pairs.len(),
            "reachable": reached,
            "unknown": unknown,
        },
        "pairs": pairs,
    })
}

/// The columns of the CSV, in order.
pub const CSV_COLUMNS: [&str; 8] = [
    "resource",
    "kind",
    "access",
    "action",
    "question_resource",
    "principal",
    "verdict",
    "outside",
];

/// The sweep as CSV (RFC 4180): a header of [`CSV_COLUMNS`], then one line per pair and
/// principal that can or may; a pair nobody can reach is one line with empty `principal`,
/// `verdict` and `outside`.
pub fn csv(sweep: &Sweep) -> String {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut write = |record: &[&str]| {
        writer
            .write_record(record)
            .expect("a CSV record is written to memory");
    };
    write(&CSV_COLUMNS);
    for pair in &sweep.pairs {
        let kind = pair.target.kind.word();
        let lead = [
            pair.target.arn.as_str(),
            kind,
            pair.access.name,
            pair.access.action,
            pair.question.as_str(),
        ];
        if pair.answers.is_empty() {
            write(&[&lead[..], &["", "", ""]].concat());
        }
        for answer in &pair.answers {
            let verdict = crate::report::verdict_word(answer.verdict);
            let outside = if answer.outside.is_some() {
                "true"
            } else {
                "false"
            };
            write(
                &[
                    &lead[..],
                    &[answer.query.principal.as_str(), verdict, outside],
                ]
                .concat(),
            );
        }
    }
    let bytes = writer
        .into_inner()
        .expect("a CSV written to memory is flushed");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

/// A pair left out of a proof file, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The access and the bucket or key (`write arn:aws:s3:::media-out`).
    pub pair: String,
    /// Why: the principals whose answers are unknown, each with its reason.
    pub reason: String,
}

/// Where the model of a proof file comes from, as the command line named it.
#[derive(Debug, Clone, Default)]
pub struct ProofSources<'a> {
    pub sources: Option<&'a crate::sources::Sources>,
    /// The scope of the questions, written into each proof when it is not the default.
    pub scope: crate::query::Scope,
}

/// The sweep as a proof file (docs/proof-files.md): the sources as given, and one `only` proof
/// per pair listing who can now. Pairs with an unknown answer are left out, each with why.
pub fn proof_file(sweep: &Sweep, from: &ProofSources) -> (Value, Vec<LeftOut>) {
    let mut file = serde_json::Map::new();
    if let Some(sources) = from.sources {
        let paths = |list: &[std::path::PathBuf]| -> Value {
            list.iter().map(|p| p.display().to_string()).collect()
        };
        if !sources.accounts.is_empty() {
            file.insert("accounts".into(), paths(&sources.accounts));
        }
        if !sources.terraform.is_empty() {
            file.insert("terraform".into(), paths(&sources.terraform));
        }
        if !sources.templates.is_empty() {
            file.insert("templates".into(), paths(&sources.templates));
        }
        let inputs = &sources.inputs;
        if let Some(account) = &inputs.account {
            file.insert("account_id".into(), json!(account));
        }
        if !inputs.parameters.is_empty() {
            file.insert("parameters".into(), json!(inputs.parameters));
        }
        if let Some(stack_name) = &inputs.stack_name {
            file.insert("stack_name".into(), json!(stack_name));
        }
        if let Some(region) = &inputs.region {
            file.insert("region".into(), json!(region));
        }
    }
    let mut proofs = Vec::new();
    let mut left_out = Vec::new();
    for pair in &sweep.pairs {
        let described = format!("{} {}", pair.access.name, pair.target.arn);
        // The principals undecided, grouped by reason in the order they come.
        let mut unknown: Vec<(Option<&str>, Vec<&str>)> = Vec::new();
        for answer in pair.unknown() {
            let reason = answer.reason.as_deref();
            match unknown.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, principals)) => principals.push(&answer.query.principal),
                None => unknown.push((reason, vec![&answer.query.principal])),
            }
        }
        if !unknown.is_empty() {
            let groups: Vec<String> = unknown
                .iter()
                .map(|(reason, principals)| match reason {
                    Some(reason) => format!("{} ({reason})", principals.join(", ")),
                    None => principals.join(", "),
                })
                .collect();
            left_out.push(LeftOut {
                pair: described,
                reason: format!("unknown for {}", groups.join("; ")),
            });
            continue;
        }
        let only: Vec<&str> = pair
            .reachable()
            .map(|a| a.query.principal.as_str())
            .collect();
        let name = if only.is_empty() {
            format!("nobody can {described}")
        } else {
            format!("only these can {described}")
        };
        let mut proof = serde_json::Map::new();
        proof.insert("name".into(), json!(name));
        proof.insert("action".into(), json!(pair.access.action));
        proof.insert("resource".into(), json!(pair.question));
        if !sweep.context.is_empty() {
            proof.insert("context".into(), sweep.context.to_json());
        }
        if !from.scope.is_all() {
            proof.insert("scope".into(), json!(from.scope.name()));
        }
        proof.insert("expect".into(), json!({ "only": only }));
        proofs.push(Value::Object(proof));
    }
    file.insert("proofs".into(), Value::Array(proofs));
    (Value::Object(file), left_out)
}
