//! Questions whose answer would be vacuous are input errors, not `unreachable`: an action no
//! AWS service defines, a resource that is not an ARN, a resource the action never acts on.
//! `inspect` warns about policies that name actions no service defines.

mod common;

use common::{iamproof, iamproof_in, project_root};

const MODEL: &str = "models/mediaconvert-default";
const EDITOR: &str = "arn:aws:iam::111122223333:user/editor";

fn can(action: &str, resource: &str) -> common::Run {
    can_on(MODEL, action, resource)
}

/// The editor's question on the snapshot `model`.
fn can_on(model: &str, action: &str, resource: &str) -> common::Run {
    iamproof(&[
        "can",
        "--quiet",
        "--principal",
        EDITOR,
        "--account",
        model,
        "--action",
        action,
        "--resource",
        resource,
    ])
}

/// Checks that the run is rejected as bad input with one error line, and returns it.
fn rejected(run: &common::Run) -> String {
    assert_eq!(run.code, 2, "stdout {} stderr {}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty(), "printed {}", run.stdout);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    run.stderr.clone()
}

#[test]
fn misspelt_action_is_rejected_with_a_suggestion() {
    let message = rejected(&can("s3:PutObjcet", "arn:aws:s3:::finance/*"));
    assert!(message.contains("did you mean s3:PutObject?"), "{message}");
    insta::assert_snapshot!(message);
}

#[test]
fn action_of_no_service_is_rejected() {
    let message = rejected(&can("s4:PutObject", "arn:aws:s3:::finance/*"));
    assert!(message.contains("s4:PutObject"), "{message}");
    assert!(message.contains("did you mean s3:PutObject?"), "{message}");
}

#[test]
fn object_action_on_a_bucket_is_rejected() {
    let message = rejected(&can("s3:PutObject", "arn:aws:s3:::finance"));
    assert!(
        message.contains("object (arn:${Partition}:s3:::${BucketName}/${ObjectName})"),
        "{message}"
    );
    insta::assert_snapshot!(message);
}

#[test]
fn resource_that_is_not_an_arn_is_rejected() {
    let message = rejected(&can("s3:PutObject", "finance/*"));
    assert!(message.contains("not an ARN"), "{message}");
}

#[test]
fn real_questions_are_still_answered() {
    // A bucket action on a bucket, an object action on objects, a wildcard resource.
    for (action, resource) in [
        ("s3:ListBucket", "arn:aws:s3:::finance"),
        ("s3:putobject", "arn:aws:s3:::finance/*"),
        ("s3:GetObject", "*"),
        // A bucket the snapshots do not hold is modelled as outside, not an error.
        ("s3:PutObject", "arn:aws:s3:::no-such-bucket-anywhere/*"),
    ] {
        let run = can(action, resource);
        assert!(
            run.code == 0 || run.code == 3,
            "{action} on {resource}: {} {}",
            run.code,
            run.stderr
        );
        assert!(
            run.stdout.starts_with("reachable") || run.stdout.starts_with("unreachable"),
            "{action} on {resource}: {}",
            run.stdout
        );
    }
}

#[test]
fn who_can_rejects_the_same_questions() {
    let run = iamproof(&[
        "who-can",
        "--quiet",
        "--account",
        MODEL,
        "--action",
        "s3:PutObjcet",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    let message = rejected(&run);
    assert!(message.contains("did you mean s3:PutObject?"), "{message}");
}

#[test]
fn principal_outside_the_snapshots_is_still_an_error() {
    let run = iamproof(&[
        "can",
        "--quiet",
        "--principal",
        "arn:aws:iam::111122223333:user/ghost",
        "--account",
        MODEL,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    let message = rejected(&run);
    assert!(message.contains("user/ghost"), "{message}");
}

#[test]
fn proof_with_a_vacuous_question_names_the_file_and_the_field() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let model = serde_json::to_string(&project_root().join(MODEL).display().to_string())
        .expect("a JSON string");
    let cases = [
        (
            "typo.json",
            r#"{"name": "typo", "principal": "arn:aws:iam::111122223333:user/editor",
                "action": "s3:PutObjcet", "resource": "arn:aws:s3:::finance/*", "expect": "unreachable"}"#,
            "typo.json: proofs[1].action: ",
        ),
        (
            "bucket.json",
            r#"{"name": "not an object", "action": "s3:PutObject", "resource": "arn:aws:s3:::finance",
                "expect": {"only": []}}"#,
            "bucket.json: proofs[1].resource: ",
        ),
    ];
    let mut messages = Vec::new();
    for (file, proof, start) in cases {
        let text = format!(
            r#"{{"accounts": [{model}], "proofs": [
                {{"name": "fine", "principal": "{EDITOR}", "action": "s3:PutObject",
                  "resource": "arn:aws:s3:::finance/*", "expect": "reachable"}},
                {proof}]}}"#
        );
        std::fs::write(dir.path().join(file), text).expect("the proof file is written");
        // The vacuous proof is bad input (exit 2, one error line naming the field); the other
        // proof of the file is still checked and reported.
        for format in ["text", "json", "sarif"] {
            let run = iamproof_in(dir.path(), &["prove", file, "--format", format], "");
            assert_eq!(
                run.code, 2,
                "{file} ({format}): {}{}",
                run.stdout, run.stderr
            );
            assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
            assert!(
                run.stderr.starts_with(&format!("error: {start}")),
                "{file} ({format}): {}",
                run.stderr
            );
            assert!(!run.stderr.contains("PASS"), "{}", run.stderr);
            assert!(
                !run.stdout.is_empty(),
                "{file} ({format}): the fine proof is reported"
            );
        }
        let run = iamproof_in(dir.path(), &["prove", file], "");
        assert!(run.stdout.contains("PASS fine"), "{}", run.stdout);
        messages.push(run.stderr.clone());
    }
    insta::assert_snapshot!(messages.join(""));
}

#[test]
fn inspect_warns_about_actions_no_service_defines() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("folders");
        std::fs::write(path, text).expect("a snapshot file");
    };
    write(
        "caller-identity.json",
        r#"{"Account": "111122223333", "Arn": "arn:aws:iam::111122223333:user/dev"}"#,
    );
    let document = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Typos", "Effect": "Allow",
             "Action": ["s3:PutObjcet", "s3:GetObject", "s4:ListBucket", "s3:Putt*", "s3:Get*"],
             "Resource": "*"},
            {"Effect": "Deny", "NotAction": ["kms:Decrpyt", "kms:*"], "Resource": "*"}
        ]
    });
    let details = serde_json::json!({
        "UserDetailList": [{
            "Path": "/", "UserName": "dev", "UserId": "AIDAEXAMPLE",
            "Arn": "arn:aws:iam::111122223333:user/dev",
            "GroupList": [], "AttachedManagedPolicies": [],
            "UserPolicyList": [{"PolicyName": "typos", "PolicyDocument": document}]
        }],
        "GroupDetailList": [], "RoleDetailList": [], "Policies": []
    });
    write(
        "iam/account-authorization-details.json",
        &details.to_string(),
    );
    let bucket_policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                       "Action": "s3:GetObjectt", "Resource": "arn:aws:s3:::b/*"}]
    });
    write(
        "s3/b/policy.json",
        &serde_json::json!({"Policy": bucket_policy.to_string()}).to_string(),
    );
    let folder = dir.path().display().to_string();
    let run = iamproof(&["inspect", "--quiet", "--account", &folder]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let warnings: String = run
        .stdout
        .lines()
        .skip_while(|line| !line.starts_with("warnings"))
        .map(|line| format!("{}\n", line.replace(&folder, "<snapshot>")))
        .collect();
    assert!(
        warnings.contains(
            "Action s3:PutObjcet: no AWS service defines this action; did you mean s3:PutObject?"
        ),
        "{warnings}"
    );
    assert!(!warnings.contains("s3:GetObject:"), "{warnings}");
    assert!(!warnings.contains("s3:Get*"), "{warnings}");
    insta::assert_snapshot!(warnings);
}

#[test]
fn graph_of_a_bucket_asks_for_an_action_that_takes_buckets() {
    // The default actions are object actions: none acts on the bucket itself.
    let run = iamproof(&[
        "graph",
        "--quiet",
        "--account",
        MODEL,
        "--resource",
        "arn:aws:s3:::finance",
    ]);
    let message = rejected(&run);
    assert!(message.contains("give --action"), "{message}");
    let run = iamproof(&[
        "graph",
        "--quiet",
        "--account",
        MODEL,
        "--resource",
        "arn:aws:s3:::finance",
        "--action",
        "s3:ListBucket",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// A KMS alias names a key, and KMS authorizes the key ("Using aliases to control access to
/// KMS keys", https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html):
/// a question about an alias the snapshots resolve is a question about its key.
#[test]
fn a_kms_alias_is_resolved_to_its_key() {
    let run = can_on(
        "models/mediaconvert-sse-kms",
        "kms:GenerateDataKey",
        "arn:aws:kms:us-east-1:111122223333:alias/media-out",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "arn:aws:kms:us-east-1:111122223333:key/3f1c9a52-7d84-4b6e-a0c3-9e2d5b7f1a68"
        ),
        "{}",
        run.stdout
    );
}

/// An alias the snapshots do not resolve names no key the question could be about.
#[test]
fn an_unknown_kms_alias_is_rejected() {
    let run = can_on(
        "models/mediaconvert-sse-kms",
        "kms:GenerateDataKey",
        "arn:aws:kms:us-east-1:111122223333:alias/nope",
    );
    let message = rejected(&run);
    assert!(
        message.contains("names no key of the snapshots"),
        "{message}"
    );
}
