//! The one clock of a question: `aws:CurrentTime` is the instant given with `--at`, else the
//! one the snapshot records in `collected-at.txt`, and the answer says which it used.
//! AWS sets `aws:CurrentTime` on every request to the time of the request ("AWS global
//! condition context keys", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-currenttime).

mod common;

/// The editor may publish from the office network until the end of 2029.
const CASE: &str = "tests/fixtures/snapshots/cases/ip-and-date-conditions";

fn can_at(at: Option<&str>) -> (i32, serde_json::Value) {
    let mut args = vec![
        "can",
        "--quiet",
        "--account",
        CASE,
        "--principal",
        "arn:aws:iam::111122223333:user/editor",
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-out/*",
        "--format",
        "json",
    ];
    if let Some(at) = at {
        args.extend(["--at", at]);
    }
    let run = common::iamproof(&args);
    let answer = serde_json::from_str(&run.stdout).unwrap_or(serde_json::Value::Null);
    (run.code, answer)
}

#[test]
fn the_snapshot_time_is_the_default_and_is_stated() {
    let (code, answer) = can_at(None);
    assert_eq!(code, 0, "{answer}");
    assert_eq!(answer["verdict"], "reachable");
    let assumptions = answer["assumptions"].to_string();
    assert!(
        assumptions
            .contains("aws:CurrentTime is 2026-06-01T00:00:00Z (when the snapshot was collected)"),
        "{assumptions}"
    );
    assert_eq!(
        answer["chain"][0]["context"]["aws:CurrentTime"],
        "2026-06-01T00:00:00Z"
    );
}

#[test]
fn an_instant_after_the_end_date_refutes_and_one_before_it_does_not() {
    let (_, after) = can_at(Some("2031-01-01T00:00:00Z"));
    assert_eq!(after["verdict"], "unreachable", "{after}");
    assert!(after["assumptions"]
        .to_string()
        .contains("2031-01-01T00:00:00Z (given with --at)"));
    let (_, before) = can_at(Some("2029-06-01"));
    assert_eq!(before["verdict"], "reachable", "{before}");
}

#[test]
fn an_instant_that_is_no_date_is_a_usage_error() {
    let (code, _) = can_at(Some("next tuesday"));
    assert_eq!(code, 2);
}
