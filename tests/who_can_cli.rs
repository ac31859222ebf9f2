//! `iamproof who-can` as text on the example models: a summary line first (how many principals
//! can, whether principals outside the snapshots can, how many answers are unknown), then one
//! block per principal; one line when nobody can. The JSON output has no summary line.

mod common;

use common::iamproof;
use serde_json::Value;

const LEAST: &str = "models/mediaconvert-least-privilege";
const SSE_KMS: &str = "models/mediaconvert-sse-kms";

fn who_can(account: &str, action: &str, resource: &str, format: &str) -> common::Run {
    iamproof(&[
        "who-can",
        "--quiet",
        "--account",
        account,
        "--action",
        action,
        "--resource",
        resource,
        "--format",
        format,
    ])
}

/// The blocks that follow the summary, one per principal.
fn verdict_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("reachable: ") || l.starts_with("unknown: "))
        .collect()
}

#[test]
fn summary_line_counts_the_principals_that_can() {
    let run = who_can(LEAST, "s3:PutObject", "arn:aws:s3:::media-out/*", "text");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut lines = run.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("3 principals can s3:PutObject on arn:aws:s3:::media-out/*")
    );
    assert_eq!(lines.next(), Some(""), "a blank line after the summary");
    assert_eq!(verdict_lines(&run.stdout).len(), 3, "{}", run.stdout);

    // One principal: singular.
    let run = who_can(SSE_KMS, "s3:PutObject", "arn:aws:s3:::locked-out/*", "text");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(
            "1 principal can s3:PutObject on arn:aws:s3:::locked-out/*\n\nreachable: arn:aws:iam::111122223333:role/ArchiveBatchRole"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn nobody_is_one_line_without_a_count() {
    let run = who_can(LEAST, "s3:DeleteObject", "arn:aws:s3:::finance/*", "text");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "nobody can s3:DeleteObject on arn:aws:s3:::finance/*\n"
    );
}

#[test]
fn summary_line_counts_outsiders_and_unknown_answers() {
    let run = who_can(
        "tests/fixtures/adversarial/gaad-truncated",
        "s3:PutObject",
        "*",
        "text",
    );
    assert_eq!(run.code, 3, "unknown answers: {}", run.stderr);
    assert_eq!(
        run.stdout.lines().next(),
        Some("no principal of the snapshots can s3:PutObject on *, but 2 callers from outside the account can; 3 unknown")
    );
    assert_eq!(verdict_lines(&run.stdout).len(), 5, "{}", run.stdout);
}

#[test]
fn json_has_no_summary_line() {
    let run = who_can(LEAST, "s3:PutObject", "arn:aws:s3:::media-out/*", "json");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let answers: Value = serde_json::from_str(&run.stdout).expect("JSON only");
    assert_eq!(answers["principals"].as_array().map(Vec::len), Some(3));
}
