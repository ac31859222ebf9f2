//! `iamproof compare OLD NEW` on pairs of policies where the new access hides in a wildcard, a
//! condition, a `NotAction`, a removed deny or a principal, and on pairs with none. Every
//! counterexample is replayed through `iamproof simulate` (allowed under NEW, not under OLD), the
//! printed answers are pinned, and the exit codes follow the command-line contract.

mod common;

use common::{iamproof_in, project_root};
use serde_json::{json, Value};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    project_root().join("tests/fixtures/compare")
}

fn compare(old: &str, new: &str, format: &str) -> common::Run {
    iamproof_in(
        &fixtures(),
        &[
            "compare",
            &format!("{old}.json"),
            &format!("{new}.json"),
            "--format",
            format,
        ],
        "",
    )
}

fn policy(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The decision `simulate` gives the counterexample request under one of the two documents,
/// posed as `compare` poses it for the document's kind.
fn simulated(answer: &Value, document: &str) -> String {
    let request = &answer["request"];
    let mut input = json!({"request": {
        "principal": request["principal"],
        "action": request["action"],
        "resource": request["resource"],
        "resource_account": request["resource_account"],
        "context": request["context"]}});
    if answer["kind"] == "identity" {
        input["identity_policies"] = json!([policy(document)]);
    } else {
        input["identity_policies"] =
            json!([{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]);
        input["resource_policy"] = policy(document);
    }
    let run = iamproof_in(
        &fixtures(),
        &["simulate", "--format", "json"],
        &input.to_string(),
    );
    let result: Value = serde_json::from_str(&run.stdout).expect("simulate prints JSON");
    result["decision"].as_str().unwrap().to_string()
}

/// Pairs where NEW allows more: the exit code, the pinned text, and the replay.
#[test]
fn new_access_is_found_and_replays() {
    let pairs = [
        ("scoped", "widened-wildcard"),
        ("scoped", "delete-behind-condition"),
        ("scoped", "not-action"),
        ("full-access-with-deny", "full-access"),
        ("vpce-exact", "vpce-like"),
        ("bucket-partner", "bucket-partner-and-org"),
        ("bucket-partner", "bucket-public"),
        // An account's root is exempt from a `NotPrincipal` naming its account; its users are not.
        ("deny-one-account", "deny-all-but-one-account"),
        // Actions without resource types are asked on `*`, which is no ARN.
        ("describe-on-arns", "describe-on-star"),
        // `kms:EncryptionContextKeys` holds a set: one member may pass the allow, another the deny.
        ("context-keys-never-secret", "context-keys-public"),
        // A policy that names a session called like the stand-ins: every other session is new.
        ("one-deploy-session", "every-deploy-session"),
        // Trust policies of identity providers ("IAM and AWS STS condition context keys",
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html):
        // a widened `sub`, another provider, one more SAML provider.
        ("trust-github-main", "trust-github-org"),
        ("trust-github-main", "trust-gitlab-main"),
        ("trust-saml-okta", "trust-saml-okta-and-azure"),
    ];
    for (old, new) in pairs {
        let text = compare(old, new, "text");
        assert_eq!(
            text.code, 1,
            "{old} -> {new}: {}{}",
            text.stdout, text.stderr
        );
        insta::assert_snapshot!(format!("compare_{old}_to_{new}"), text.stdout);
        let json = compare(old, new, "json");
        assert_eq!(json.code, 1);
        let answer: Value = serde_json::from_str(&json.stdout).unwrap();
        assert_eq!(answer["verdict"], "new_access");
        assert_eq!(simulated(&answer, new), "Allowed", "{old} -> {new}");
        assert_ne!(simulated(&answer, old), "Allowed", "{old} -> {new}");
    }
}

/// Pairs where NEW allows nothing new: proved, exit 0.
#[test]
fn no_new_access_is_proved() {
    let pairs = [
        ("scoped", "equivalent-rewrite"),
        ("equivalent-rewrite", "scoped"),
        ("delete-behind-condition", "scoped"),
        ("full-access", "full-access-with-deny"),
        ("vpce-like", "vpce-exact"),
        ("bucket-partner-and-org", "bucket-partner"),
        ("bucket-public", "bucket-partner"),
        ("not-action", "not-action"),
        ("trust-github-org", "trust-github-main"),
        ("trust-saml-okta-and-azure", "trust-saml-okta"),
    ];
    for (old, new) in pairs {
        let run = compare(old, new, "json");
        assert_eq!(run.code, 0, "{old} -> {new}: {}{}", run.stdout, run.stderr);
        let answer: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(answer["verdict"], "no_new_access", "{old} -> {new}");
        assert_eq!(answer["request"], Value::Null);
    }
    let text = compare("scoped", "equivalent-rewrite", "text");
    insta::assert_snapshot!("compare_no_new_access", text.stdout);
}

/// Bad input: exit 2 with the file and the JSON path, or the reason the pair cannot be compared.
#[test]
fn bad_input_is_named() {
    let cases = [
        ("scoped", "bad-operator"),
        ("scoped", "bucket-public"),
        ("scoped", "missing"),
    ];
    let mut messages = Vec::new();
    for (old, new) in cases {
        let run = compare(old, new, "text");
        assert_eq!(run.code, 2, "{old} -> {new}");
        assert!(run.stdout.is_empty());
        messages.push(run.stderr);
    }
    insta::assert_snapshot!("compare_bad_input", messages.join(""));
}

/// One of the two policies may come from standard input (`-`), as a pipe from `git show` gives
/// it; it is then named `<stdin>`.
#[test]
fn a_policy_may_come_from_standard_input() {
    let proposed = std::fs::read_to_string(fixtures().join("widened-wildcard.json")).unwrap();
    let run = iamproof_in(&fixtures(), &["compare", "scoped.json", "-"], &proposed);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run
        .stdout
        .contains("<stdin> allows a request that scoped.json does not"));
    let both = iamproof_in(&fixtures(), &["compare", "-", "-"], &proposed);
    assert_eq!(both.code, 2);
    assert!(both
        .stderr
        .contains("at most one policy from standard input"));
}
