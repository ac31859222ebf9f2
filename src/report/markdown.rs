//! Answers, proof results and what-ifs as GitHub-flavoured Markdown, for a pull-request
//! comment: the counts first, then each failing proof or changed answer with its chain, and
//! long chains and lists folded in `<details>`.

use super::{context_text, verdict_word};
use crate::query::prove::{ProofResult, Status};
use crate::query::{Answer, Verdict};
use crate::whatif::WhatIf;

/// Chains longer than this are folded.
const FOLD_OVER: usize = 3;

/// Text as an inline code span, whatever it holds.
fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Text in a table cell or a heading: Markdown's own characters escaped.
fn plain(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn status_mark(status: Status) -> &'static str {
    match status {
        Status::Holds => "✅",
        Status::Fails => "❌",
        Status::Unknown => "❔",
    }
}

/// A witness chain as a numbered list; folded when long and `fold`.
fn chain(answer: &Answer, fold: bool) -> String {
    let mut items = String::new();
    for (i, link) in answer.chain.iter().enumerate() {
        items.push_str(&format!(
            "{}. {} {} on {}",
            i + 1,
            code(&link.principal),
            code(&link.action),
            code(&link.resource)
        ));
        if let Some(context) = context_text(&link.context) {
            items.push_str(&format!(" with {}", code(&context)));
        }
        let allowed: Vec<String> = link
            .allowed_by
            .iter()
            .map(|a| format!("{} statement {}", code(&a.policy), code(&a.statement)))
            .collect();
        if !allowed.is_empty() {
            items.push_str(&format!(", allowed by {}", allowed.join(", ")));
        }
        if let Some(change) = &link.change {
            items.push_str(&format!("  \n   ⇒ {}", plain(change)));
        }
        items.push('\n');
    }
    let mut out = String::new();
    if fold && answer.chain.len() > FOLD_OVER {
        out.push_str(&format!(
            "<details><summary>Witness: {} requests</summary>\n\n{items}\n</details>\n",
            answer.chain.len()
        ));
    } else if !items.is_empty() {
        out.push_str(&items);
    }
    for assumption in &answer.assumptions {
        out.push_str(&format!("- assumes: {}\n", plain(assumption)));
    }
    if let Some(reason) = &answer.reason {
        out.push_str(&format!("\n> {}\n", plain(reason)));
    }
    out
}

/// One answer: its verdict and question, then its chain or reason.
pub fn answer(answer: &Answer) -> String {
    let q = &answer.query;
    format!(
        "**{}**: {} → {} on {}\n\n{}",
        verdict_word(answer.verdict),
        code(&q.principal),
        code(&q.action),
        code(&q.resource),
        chain(answer, true)
    )
}

/// `who-can`: the count, a table of principals, then each witness folded.
pub fn who_can(answers: &[Answer], action: &str, resource: &str) -> String {
    let can = answers
        .iter()
        .filter(|a| a.verdict == Verdict::Reachable)
        .count();
    let outside = answers
        .iter()
        .filter(|a| a.verdict == Verdict::Reachable && a.outside.is_some())
        .count();
    let unknown = answers
        .iter()
        .filter(|a| a.verdict == Verdict::Unknown)
        .count();
    let mut out = format!(
        "### Who can {} on {}\n\n**{can}** can",
        code(action),
        code(resource)
    );
    if outside > 0 {
        out.push_str(&format!(
            " (**{outside}** of them from outside the account)"
        ));
    }
    if unknown > 0 {
        out.push_str(&format!(", **{unknown}** unknown"));
    }
    out.push_str(".\n\n");
    if answers.is_empty() {
        return out;
    }
    out.push_str("| principal | answer | requests |\n|---|---|---|\n");
    for answer in answers {
        let who = match &answer.outside {
            Some(who) => format!("{}<br>{}", code(&answer.query.principal), plain(who)),
            None => code(&answer.query.principal),
        };
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            who.replace('|', "\\|"),
            verdict_word(answer.verdict),
            answer.chain.len()
        ));
    }
    out.push('\n');
    for answer in answers {
        out.push_str(&format!(
            "<details><summary>{}</summary>\n\n{}\n</details>\n\n",
            plain(&answer.query.principal),
            chain(answer, false)
        ));
    }
    out
}

/// Proof results: the counts, a table of every proof, then each failing or unknown proof
/// with its counterexample.
pub fn proofs(results: &[ProofResult]) -> String {
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    let (holds, fails, unknown) = (
        count(Status::Holds),
        count(Status::Fails),
        count(Status::Unknown),
    );
    let headline = if fails > 0 {
        "❌"
    } else if unknown > 0 {
        "❔"
    } else {
        "✅"
    };
    let mut out =
        format!("## {headline} iamproof: {holds} hold, {fails} fail, {unknown} unknown\n\n");
    let table = |results: &[&ProofResult]| {
        let mut table = String::from("| | proof | file |\n|---|---|---|\n");
        for result in results {
            table.push_str(&format!(
                "| {} | {} | {} |\n",
                status_mark(result.status),
                plain(&result.name),
                code(&format!("{} {}", result.file, result.path)).replace('|', "\\|")
            ));
        }
        table
    };
    let (broken, held): (Vec<&ProofResult>, Vec<&ProofResult>) =
        results.iter().partition(|r| r.status != Status::Holds);
    if !broken.is_empty() {
        out.push_str(&table(&broken));
        out.push('\n');
    }
    if !held.is_empty() {
        let count = match held.len() {
            1 => "1 proof holds".to_string(),
            n => format!("{n} proofs hold"),
        };
        out.push_str(&format!(
            "<details><summary>{count}</summary>\n\n{}\n</details>\n\n",
            table(&held)
        ));
    }
    for result in broken {
        out.push_str(&format!(
            "### {} {}\n\n{}\n\n",
            status_mark(result.status),
            plain(&result.name),
            code(&format!("{} {}", result.file, result.path))
        ));
        if let Some(reason) = &result.reason {
            out.push_str(&format!("> {}\n\n", plain(reason)));
        }
        for answer in &result.answers {
            out.push_str(&self::answer(answer));
            out.push('\n');
        }
    }
    out
}

/// A what-if: the change, the counts, then each changed answer with its new witness or the hop
/// that now blocks it; unchanged answers folded.
pub fn what_if(what_if: &WhatIf) -> String {
    let changed: Vec<_> = what_if.items.iter().filter(|i| i.changed).collect();
    let new_access = what_if.items.iter().filter(|i| i.new_access).count();
    let mut out = format!("## What-if {}\n\n", code(&what_if.change));
    if let Some(description) = &what_if.description {
        out.push_str(&format!("{}\n\n", plain(description)));
    }
    for edit in &what_if.edits {
        out.push_str(&format!("- {}\n", plain(edit)));
    }
    if !what_if.edits.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!(
        "**{}** answers, **{}** changed, **{new_access}** with new access\n\n",
        what_if.items.len(),
        changed.len()
    ));
    let row = |item: &crate::whatif::Item| {
        let mark = if item.new_access {
            "⚠️"
        } else if item.changed {
            "↔️"
        } else {
            ""
        };
        format!(
            "| {mark} | {} | {} | {} |\n",
            plain(&item.question),
            plain(&item.before),
            plain(&item.after)
        )
    };
    let header = "| | question | before | after |\n|---|---|---|---|\n";
    if !changed.is_empty() {
        out.push_str(header);
        for item in &changed {
            out.push_str(&row(item));
        }
        out.push('\n');
    }
    let same: Vec<_> = what_if.items.iter().filter(|i| !i.changed).collect();
    if !same.is_empty() {
        let rows: String = same.iter().map(|item| row(item)).collect();
        let count = match same.len() {
            1 => "1 answer".to_string(),
            n => format!("{n} answers"),
        };
        out.push_str(&format!(
            "<details><summary>{count} unchanged</summary>\n\n{header}{rows}\n</details>\n\n"
        ));
    }
    for item in changed {
        out.push_str(&format!("### {}\n\n", plain(&item.question)));
        if let (Some(before), Some(after)) = (&item.who_can_before, &item.who_can_after) {
            out.push_str(&format!(
                "- who can before: {}\n- who can after: {}\n\n",
                names(&before.can),
                names(&after.can)
            ));
        }
        for answer in &item.answers_after {
            out.push_str(&self::answer(answer));
            out.push('\n');
        }
    }
    out
}

fn names(principals: &[String]) -> String {
    if principals.is_empty() {
        return "nobody".to_string();
    }
    principals
        .iter()
        .map(|p| code(p))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_hold_backticks() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("plain"), "`plain`");
    }

    #[test]
    fn plain_text_escapes_markdown() {
        assert_eq!(plain("a|b *c*"), "a\\|b \\*c\\*");
    }
}
