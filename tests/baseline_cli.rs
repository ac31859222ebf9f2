//! `prove --baseline`: accepted findings, each with a reason, so that a gate fails only on new
//! access. An accepted finding holds and says why; a principal a baseline does not name is new
//! access and still fails; an entry that accepts nothing is stale and said so; a baseline
//! without reasons is refused (exit 2, with the JSON path).

mod common;

use common::iamproof;
use serde_json::json;

const PROOFS: &str = "proofs/mediaconvert-least-privilege.json";
const WIDEN: &str = "tests/fixtures/terraform/widen-passrole.plan.json";
const EDITOR: &str = "arn:aws:iam::111122223333:user/editor";

fn baseline(dir: &std::path::Path, accepted: serde_json::Value) -> String {
    let path = dir.join("baseline.json");
    std::fs::write(&path, json!({"accepted": accepted}).to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn accepted_findings_hold_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = baseline(
        dir.path(),
        json!([
        {"proof": "only LambdaRole writes finance", "principals": [EDITOR], "reason": "report functions (SEC-142)"},
        {"proof": "editors cannot touch finance", "reason": "report functions (SEC-142)"}]),
    );
    let run = iamproof(&["prove", PROOFS, "--terraform", WIDEN, "--baseline", &file]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("accepted[0]: report functions (SEC-142)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("16 passed, 0 failed"), "{}", run.stdout);
    // Without the baseline the same run fails.
    let run = iamproof(&["prove", PROOFS, "--terraform", WIDEN]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
}

#[test]
fn a_principal_the_baseline_does_not_name_is_new_access() {
    let dir = tempfile::tempdir().unwrap();
    let file = baseline(
        dir.path(),
        json!([
        {"proof": "only LambdaRole writes finance", "principals": ["arn:aws:iam::111122223333:user/intern"],
         "reason": "the intern's sandbox"},
        {"proof": "editors cannot touch finance", "reason": "report functions"}]),
    );
    let run = iamproof(&["prove", PROOFS, "--terraform", WIDEN, "--baseline", &file]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("FAIL only LambdaRole writes finance"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("accepted[0]: stale"), "{}", run.stderr);
}

#[test]
fn stale_entries_are_said_and_reasons_are_required() {
    let dir = tempfile::tempdir().unwrap();
    let file = baseline(
        dir.path(),
        json!([{"proof": "nobody writes media-in", "reason": "fixed long ago"}]),
    );
    let run = iamproof(&["prove", PROOFS, "--baseline", &file]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("accepted[0]: stale"), "{}", run.stderr);

    let file = baseline(
        dir.path(),
        json!([{"proof": "editors cannot touch finance", "reason": " "}]),
    );
    let run = iamproof(&["prove", PROOFS, "--baseline", &file]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("accepted[0].reason"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}
