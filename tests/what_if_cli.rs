//! `iamproof what-if` on the example models: each answer before and after a change, the change
//! marked, new access with its witness chain, lost access with the hop that now blocks it, the
//! exit codes of the command-line contract, and change files that cannot apply (exit 2, with the
//! file and the JSON path of the edit).

mod common;

use common::iamproof;
use serde_json::Value;

const DEFAULT: &str = "models/mediaconvert-default";
const LEAST: &str = "models/mediaconvert-least-privilege";
const EDITOR: &str = "arn:aws:iam::111122223333:user/editor";
const SCOPE: &str = "changes/scope-default-role.json";

fn what_if(account: &str, change: &str, question: &[&str], format: &str) -> common::Run {
    let mut args = vec![
        "what-if",
        "--account",
        account,
        "--change",
        change,
        "--format",
        format,
    ];
    args.extend_from_slice(question);
    iamproof(&args)
}

fn items(run: &common::Run) -> Vec<Value> {
    let outcome: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", run.stdout, run.stderr));
    outcome["items"].as_array().expect("items").clone()
}

fn fixture(name: &str) -> String {
    format!("tests/fixtures/changes/{name}.json")
}

/// The headline: scoping the default role's S3 access takes finance away from the editor and
/// leaves publishing to media-out alone.
#[test]
fn scoping_the_default_role_blocks_finance_but_not_publishing() {
    for (resource, before, after) in [
        ("arn:aws:s3:::finance/*", "reachable", "unreachable"),
        ("arn:aws:s3:::media-out/*", "reachable", "reachable"),
    ] {
        let question = [
            "--principal",
            EDITOR,
            "--action",
            "s3:PutObject",
            "--resource",
            resource,
        ];
        let run = what_if(DEFAULT, SCOPE, &question, "json");
        assert_eq!(run.code, 0, "{}", run.stderr);
        let items = items(&run);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["before"], before, "{resource}");
        assert_eq!(items[0]["after"], after, "{resource}");
        assert_eq!(items[0]["changed"], before != after);
        // The chain that worked before is kept: for lost access, what the change cuts.
        let cut = items[0]["answers_before"][0]["chain"].as_array().unwrap();
        let last = cut.last().expect("a chain before the change");
        assert_eq!(last["action"], "s3:PutObject");
        assert!(last["principal"]
            .as_str()
            .unwrap()
            .contains("assumed-role/MediaConvert_Default_Role/"));
    }
}

/// The proofs of the default model, asked before and after: the proofs that rest on the role's
/// full S3 access now fail, so the exit code is 1, as `prove` would give after the change.
#[test]
fn proofs_before_and_after_are_pinned() {
    let run = what_if(
        DEFAULT,
        SCOPE,
        &["--proofs", "proofs/mediaconvert-default.json"],
        "text",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!("what_if_scope_default_role_proofs", run.stdout);
    let again = what_if(
        DEFAULT,
        SCOPE,
        &["--proofs", "proofs/mediaconvert-default.json"],
        "text",
    );
    assert_eq!(run.stdout, again.stdout, "what-if output is deterministic");
}

/// New access comes with its witness chain, and the chain ends with the question's action.
#[test]
fn new_access_shows_its_witness() {
    let question = [
        "--principal",
        EDITOR,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ];
    let change = fixture("attach-full-s3");
    let run = what_if(LEAST, &change, &question, "json");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = items(&run);
    assert_eq!(
        (items[0]["before"].as_str(), items[0]["after"].as_str()),
        (Some("unreachable"), Some("reachable"))
    );
    let chain = items[0]["answers_after"][0]["chain"]
        .as_array()
        .expect("a chain");
    let last = chain.last().expect("at least one hop");
    assert_eq!(last["action"], "s3:PutObject");
    assert!(last["resource"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:s3:::finance/"));
    let text = what_if(LEAST, &change, &question, "text");
    insta::assert_snapshot!("what_if_attach_full_s3", text.stdout);
}

/// Edits of a trust policy and of a bucket policy take access away; `who-can` mode lists
/// every principal whose answer moved.
#[test]
fn trust_and_bucket_policy_edits_take_access_away() {
    let publish = [
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-out/*",
    ];
    let mut editor_publish = vec!["--principal", EDITOR];
    editor_publish.extend_from_slice(&publish);
    let run = what_if(
        LEAST,
        &fixture("trust-without-mediaconvert"),
        &editor_publish,
        "json",
    );
    let trust = items(&run);
    assert_eq!(trust[0]["before"], "reachable");
    assert_eq!(trust[0]["after"], "unreachable");
    let reason = trust[0]["answers_after"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("closest path"), "{reason}");

    let run = what_if(LEAST, &fixture("deny-in-bucket-policy"), &publish, "json");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bucket = items(&run);
    let who_could = iamproof(&[
        "who-can",
        "--account",
        LEAST,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-out/*",
        "--format",
        "json",
    ]);
    let who: Value = serde_json::from_str(&who_could.stdout).unwrap();
    let before: Vec<&str> = who["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["principal"].as_str().unwrap())
        .collect();
    let listed: Vec<&str> = bucket
        .iter()
        .map(|i| i["question"].as_str().unwrap().split(' ').next().unwrap())
        .collect();
    assert_eq!(listed, before, "what-if lists who could before");
    assert!(bucket
        .iter()
        .all(|i| i["before"] == "reachable" && i["after"] == "unreachable"));
    // Who lost access is told which hop now blocks it.
    for item in &bucket {
        let reason = item["answers_after"][0]["reason"]
            .as_str()
            .unwrap_or_default();
        assert!(reason.contains("FrozenForAudit"), "{item}");
    }
}

/// Change files that cannot apply: exit 2, the file and the JSON path of the edit.
#[test]
fn bad_change_files_are_named() {
    let mut messages = String::new();
    for name in [
        "bad-empty",
        "bad-unknown-operation",
        "bad-missing-principal",
        "bad-not-attached",
        "bad-policy",
        "bad-missing-policy-file",
    ] {
        let run = what_if(
            LEAST,
            &fixture(name),
            &["--action", "s3:PutObject", "--resource", "*"],
            "text",
        );
        assert_eq!(run.code, 2, "{name}: {}", run.stdout);
        assert!(run.stdout.is_empty(), "{name}");
        assert!(
            run.stderr.contains(&fixture(name)),
            "{name}: {}",
            run.stderr
        );
        messages.push_str(&run.stderr);
    }
    insta::assert_snapshot!("what_if_bad_change_files", messages);
}

/// `sts:AssumeRole` questions are decided by the role's trust policy: the role that trusts its
/// account becomes assumable by the editor once the editor may call STS, and no outsider may
/// assume it before or after.
#[test]
fn assuming_a_role_is_decided_by_its_trust_policy() {
    let question = [
        "--action",
        "sts:AssumeRole",
        "--resource",
        "arn:aws:iam::111122223333:role/SecurityAudit",
    ];
    let run = what_if(LEAST, &fixture("editor-administers"), &question, "json");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = items(&run);
    let listed: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["question"].as_str().unwrap().split(' ').next().unwrap(),
                i["before"].as_str().unwrap(),
                i["after"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, [(EDITOR, "unreachable", "reachable")]);
    let chain = items[0]["answers_after"][0]["chain"].as_array().unwrap();
    let allowed_by: Vec<&str> = chain[0]["allowed_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["policy"].as_str().unwrap())
        .collect();
    assert!(
        allowed_by.contains(&"trust policy of arn:aws:iam::111122223333:role/SecurityAudit"),
        "{allowed_by:?}"
    );
}

const WRITERS: &str = "tests/fixtures/proofs/what-if/least-privilege-writers.json";
const LAMBDA_ROLE: &str = "arn:aws:iam::111122223333:role/LambdaRole";

/// `what-if --proofs FILE` with the proof file's own accounts.
fn what_if_proofs(change: &str, extra: &[&str], format: &str) -> common::Run {
    let mut args = vec![
        "what-if", "--quiet", "--change", change, "--proofs", WRITERS, "--format", format,
    ];
    args.extend_from_slice(extra);
    iamproof(&args)
}

fn item<'i>(items: &'i [Value], question: &str) -> &'i Value {
    items
        .iter()
        .find(|i| {
            i["question"]
                .as_str()
                .is_some_and(|q| q.starts_with(question))
        })
        .unwrap_or_else(|| panic!("no item {question}: {items:?}"))
}

fn can_set(set: &Value) -> Vec<&str> {
    set["can"]
        .as_array()
        .expect("a list of principals")
        .iter()
        .map(|p| p.as_str().expect("an ARN"))
        .collect()
}

/// An `only` proof that holds before and after may still gain principals: the item is marked
/// changed and shows who could before and who can after, in text and JSON; a proof whose
/// principals stay the same shows no sets.
#[test]
fn only_proofs_show_who_can_before_and_after() {
    let run = what_if_proofs(&fixture("attach-full-s3"), &[], "json");
    assert_eq!(run.code, 0, "every proof holds: {}", run.stderr);
    let items = items(&run);
    let finance = item(&items, "finance writers");
    assert_eq!(
        (&finance["before"], &finance["after"]),
        (&"holds".into(), &"holds".into())
    );
    assert_eq!(finance["changed"], true);
    assert_eq!(finance["new_access"], true);
    assert_eq!(can_set(&finance["who_can_before"]), [LAMBDA_ROLE]);
    assert_eq!(
        can_set(&finance["who_can_after"]),
        [
            LAMBDA_ROLE,
            "arn:aws:iam::111122223333:role/MediaConvertRole",
            EDITOR,
            "arn:aws:iam::111122223333:user/pipeline-dev"
        ]
    );
    let media_out = item(&items, "only the pipeline writes media-out");
    assert_eq!(media_out["changed"], false);
    assert_eq!(media_out["new_access"], false);
    assert!(media_out.get("who_can_before").is_none(), "{media_out}");
    assert!(media_out.get("who_can_after").is_none(), "{media_out}");

    let text = what_if_proofs(&fixture("attach-full-s3"), &[], "text");
    assert_eq!(text.code, 0, "{}", text.stderr);
    insta::assert_snapshot!("what_if_only_proof_gains_writers", text.stdout);
}

/// Losing principals is a change too, and not new access.
#[test]
fn only_proofs_show_principals_lost() {
    let run = what_if_proofs(&fixture("deny-in-bucket-policy"), &[], "json");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = items(&run);
    let media_out = item(&items, "only the pipeline writes media-out");
    assert_eq!(media_out["changed"], true);
    assert_eq!(media_out["new_access"], false);
    assert_eq!(can_set(&media_out["who_can_before"]).len(), 3);
    assert!(can_set(&media_out["who_can_after"]).is_empty());
    let text = what_if_proofs(&fixture("deny-in-bucket-policy"), &[], "text");
    assert!(
        text.stdout.contains("         who can after (0): nobody\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.ends_with("2 answers, 1 changed\n"),
        "{}",
        text.stdout
    );
}

/// `--fail-on-new-access` exits 1 when an answer becomes reachable (`can`), a principal joins
/// `who-can`, or an `only` proof's principals gain one, even when every proof still holds.
#[test]
fn fail_on_new_access_fails_a_change_that_grants() {
    let editor_finance = [
        "--principal",
        EDITOR,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ];
    let change = fixture("attach-full-s3");
    let mut flagged = editor_finance.to_vec();
    flagged.push("--fail-on-new-access");
    assert_eq!(what_if(LEAST, &change, &editor_finance, "text").code, 0);
    let run = what_if(LEAST, &change, &flagged, "json");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let outcome: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(outcome["new_access"], true);
    assert_eq!(outcome["items"][0]["new_access"], true);

    let who = [
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
        "--fail-on-new-access",
    ];
    let run = what_if(LEAST, &change, &who, "text");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("with new access"), "{}", run.stdout);

    let run = what_if_proofs(&change, &["--fail-on-new-access"], "text");
    assert_eq!(run.code, 1, "{}", run.stderr);
}

/// A change that only takes access away passes `--fail-on-new-access`, in every mode.
#[test]
fn fail_on_new_access_passes_a_change_that_only_takes_away() {
    let editor_finance = [
        "--principal",
        EDITOR,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
        "--fail-on-new-access",
    ];
    let run = what_if(DEFAULT, SCOPE, &editor_finance, "json");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let outcome: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(outcome["new_access"], false);
    assert_eq!(outcome["items"][0]["changed"], true);

    let change = fixture("deny-in-bucket-policy");
    let who = [
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-out/*",
        "--fail-on-new-access",
    ];
    let run = what_if(LEAST, &change, &who, "text");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("with new access"), "{}", run.stdout);

    let run = what_if_proofs(&change, &["--fail-on-new-access"], "text");
    assert_eq!(run.code, 0, "{}", run.stderr);
}
