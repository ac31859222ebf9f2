//! `--format markdown` for `prove`, `who-can` and `what-if`: a pull-request comment with the
//! counts first, failing proofs and changed answers with their chains, long lists folded.
//! Pinned by insta, and rendered to HTML with a CommonMark parser to check that it is what a
//! reader sees (tables, folded details, no stray markup).

mod common;

use common::iamproof;

const LEAST: &str = "models/mediaconvert-least-privilege";
const WIDEN: &str = "tests/fixtures/terraform/widen-passrole.plan.json";

fn html(markdown: &str) -> String {
    let parser = pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_TABLES);
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, parser);
    out
}

#[test]
fn a_failing_proof_run_reads_as_a_pull_request_comment() {
    let run = iamproof(&[
        "prove",
        "proofs/mediaconvert-least-privilege.json",
        "--terraform",
        WIDEN,
        "--format",
        "markdown",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!("prove_widen_passrole", run.stdout);
    let page = html(&run.stdout);
    assert!(
        page.starts_with("<h2>❌ iamproof: 14 hold, 2 fail, 0 unknown</h2>"),
        "{page}"
    );
    assert!(
        page.contains("<table>"),
        "the failing proofs are a table: {page}"
    );
    assert!(
        page.contains("<details><summary>14 proofs hold</summary>"),
        "{page}"
    );
    assert!(
        page.contains("<h3>❌ editors cannot touch finance</h3>"),
        "{page}"
    );
    assert!(!page.contains("**"), "no unrendered emphasis: {page}");
}

#[test]
fn a_passing_proof_run_is_one_line_and_a_folded_table() {
    let run = iamproof(&[
        "prove",
        "proofs/mediaconvert-least-privilege.json",
        "--format",
        "markdown",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page = html(&run.stdout);
    assert!(
        page.starts_with("<h2>✅ iamproof: 16 hold, 0 fail, 0 unknown</h2>"),
        "{page}"
    );
    assert!(
        !page.contains("<h3>"),
        "nothing fails, nothing is detailed: {page}"
    );
}

#[test]
fn who_can_and_what_if_in_markdown() {
    let run = iamproof(&[
        "who-can",
        "--account",
        LEAST,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-out/*",
        "--format",
        "markdown",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("who_can_media_out", run.stdout);
    let page = html(&run.stdout);
    assert!(page.contains("<strong>3</strong> can"), "{page}");

    let run = iamproof(&[
        "what-if",
        "--account",
        LEAST,
        "--terraform",
        WIDEN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
        "--format",
        "markdown",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("what_if_widen_passrole", run.stdout);
    let page = html(&run.stdout);
    assert!(
        page.contains("<strong>1</strong> with new access"),
        "{page}"
    );
    assert!(
        page.contains("<details><summary>1 answer unchanged</summary>"),
        "{page}"
    );
}
