//! `prove` reports every mistake in one run: a proof whose question cannot be asked (a
//! mistyped principal) or a proof file that cannot be read is an error of its own, and the
//! other proofs are still checked and still reach every report format. The exit code is 2
//! (bad input) when anything could not be checked.

mod common;

use common::{iamproof, project_root};
use serde_json::json;

fn proof_file(dir: &std::path::Path) -> String {
    let file = json!({
        "accounts": [project_root().join("models/mediaconvert-least-privilege")],
        "proofs": [
            {"name": "editors can publish", "principal": "arn:aws:iam::111122223333:user/editor",
             "action": "s3:PutObject", "resource": "arn:aws:s3:::media-out/*", "expect": "reachable"},
            {"name": "a typo", "principal": "arn:aws:iam::111122223333:user/edtor",
             "action": "s3:PutObject", "resource": "arn:aws:s3:::finance/*", "expect": "unreachable"},
            {"name": "intern cannot write finance", "principal": "arn:aws:iam::111122223333:user/intern",
             "action": "s3:PutObject", "resource": "arn:aws:s3:::finance/*", "expect": "unreachable"}]});
    let path = dir.join("proofs.json");
    std::fs::write(&path, file.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn a_mistyped_principal_does_not_hide_the_other_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let file = proof_file(dir.path());
    let run = iamproof(&["prove", &file]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("proofs[1].principal"), "{}", run.stderr);
    assert!(
        run.stdout.contains("PASS editors can publish"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("PASS intern cannot write finance"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("2 passed, 0 failed, 0 unknown"),
        "{}",
        run.stdout
    );

    let junit = iamproof(&["prove", &file, "--format", "junit"]);
    assert_eq!(junit.code, 2);
    assert_eq!(
        junit.stdout.matches("<testcase").count(),
        2,
        "{}",
        junit.stdout
    );
    let sarif = iamproof(&["prove", &file, "--format", "sarif"]);
    let report: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("SARIF is JSON");
    assert_eq!(report["version"], "2.1.0");
}

#[test]
fn a_file_that_cannot_be_read_does_not_hide_the_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = proof_file(dir.path());
    let missing = dir.path().join("missing.json");
    let run = iamproof(&["prove", missing.to_str().unwrap(), &file]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("missing.json"), "{}", run.stderr);
    assert!(
        run.stderr.contains("proofs[1].principal"),
        "every mistake is told: {}",
        run.stderr
    );
    assert!(
        run.stdout.contains("PASS editors can publish"),
        "{}",
        run.stdout
    );
}

#[test]
fn without_mistakes_the_exit_code_is_the_gate() {
    let run = iamproof(&["prove", "proofs/mediaconvert-least-privilege.json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.is_empty() || !run.stderr.contains("error:"),
        "{}",
        run.stderr
    );
}
