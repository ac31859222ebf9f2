//! Rewriting a bucket's policy reaches that bucket alone. A bucket policy is a resource-based
//! policy attached to the bucket, and decides requests on the bucket and its objects ("Bucket
//! policies for Amazon S3",
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html>); no
//! technique of the model makes a request on a bucket but the rewrite of that bucket's policy.
//! So a principal that may rewrite the policy of `archive` reaches `archive` through the
//! rewrite, and the rewrite is no way to `vault`: not even an undecided one, which would
//! otherwise leave `vault` `unknown`.
//!
//! Account `111122223333`: `user/attacker` may `s3:PutBucketPolicy` on `archive` and nothing
//! else; buckets `vault` and `archive`, with no policy.

mod common;

use serde_json::{json, Value};
use std::path::Path;

const ATTACKER: &str = "arn:aws:iam::111122223333:user/attacker";

fn write(path: &Path, value: &Value) {
    std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("folder made");
    std::fs::write(path, serde_json::to_string_pretty(value).expect("JSON")).expect("written");
}

/// The account, the attacker's grant under `condition` when one is given.
fn account(condition: Option<Value>) -> tempfile::TempDir {
    let mut grant = json!({"Effect": "Allow", "Action": "s3:PutBucketPolicy",
        "Resource": "arn:aws:s3:::archive"});
    if let Some(condition) = condition {
        grant["Condition"] = condition;
    }
    account_granting(grant)
}

/// The account, the attacker allowed `grant` alone.
fn account_granting(grant: Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    write(
        &dir.path().join("caller-identity.json"),
        &json!({"UserId": "AIDAEXAMPLE", "Account": "111122223333",
            "Arn": "arn:aws:iam::111122223333:user/admin"}),
    );
    write(
        &dir.path().join("iam/account-authorization-details.json"),
        &json!({
            "UserDetailList": [{"Path": "/", "UserName": "attacker", "UserId": "AIDAATTACKER",
                "Arn": ATTACKER, "CreateDate": "2024-01-01T00:00:00Z", "GroupList": [],
                "AttachedManagedPolicies": [],
                "UserPolicyList": [{"PolicyName": "attacker-policy",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": [grant]}}]}],
            "GroupDetailList": [], "RoleDetailList": [], "Policies": [],
            "IsTruncated": false
        }),
    );
    for bucket in ["vault", "archive"] {
        write(
            &dir.path().join(format!("s3/{bucket}/encryption.json")),
            &json!({"ServerSideEncryptionConfiguration": {"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                 "BucketKeyEnabled": false}]}}),
        );
    }
    dir
}

/// What `can` answered, as JSON (exit code 3 for `unknown`, 0 otherwise).
fn can(dir: &tempfile::TempDir, action: &str, resource: &str) -> Value {
    let account = dir.path().to_string_lossy().to_string();
    let run = common::iamproof(&[
        "can",
        "--quiet",
        "--account",
        &account,
        "--principal",
        ATTACKER,
        "--action",
        action,
        "--resource",
        resource,
        "--format",
        "json",
    ]);
    let answer: Value = serde_json::from_str(&run.stdout).expect("JSON answer");
    let code = if answer["verdict"] == "unknown" { 3 } else { 0 };
    assert_eq!(run.code, code, "{}\n{}", run.stdout, run.stderr);
    answer
}

/// The (action, resource) of each request of a witness.
fn requests(answer: &Value) -> Vec<(String, String)> {
    answer["chain"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|link| {
            (
                link["action"].as_str().unwrap_or_default().to_string(),
                link["resource"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn rewriting_the_bucket_s_own_policy_reaches_it() {
    let dir = account(None);
    let answer = can(&dir, "s3:PutObject", "arn:aws:s3:::archive/*");
    assert_eq!(answer["verdict"], "reachable", "{answer:#}");
    let requests = requests(&answer);
    assert_eq!(
        requests.first().map(|(a, r)| (a.as_str(), r.as_str())),
        Some(("s3:PutBucketPolicy", "arn:aws:s3:::archive")),
        "{answer:#}"
    );
    assert!(
        requests
            .last()
            .is_some_and(|(a, r)| a == "s3:PutObject" && r.starts_with("arn:aws:s3:::archive/")),
        "{answer:#}"
    );
}

#[test]
fn rewriting_another_bucket_s_policy_does_not_reach_this_one() {
    let dir = account(None);
    let answer = can(&dir, "s3:PutObject", "arn:aws:s3:::vault/*");
    assert_eq!(answer["verdict"], "unreachable", "{answer:#}");
}

#[test]
fn a_pattern_over_both_buckets_is_reached_in_the_rewritten_one() {
    let dir = account(None);
    let answer = can(&dir, "s3:PutObject", "arn:aws:s3:::*/report.csv");
    assert_eq!(answer["verdict"], "reachable", "{answer:#}");
    assert!(
        requests(&answer)
            .last()
            .is_some_and(|(_, r)| r == "arn:aws:s3:::archive/report.csv"),
        "{answer:#}"
    );
}

// A condition that compares one key both as a string and as a number is one the solver does
// not decide: the rewrite of `archive` is `unknown`. That leaves `archive` open, and `vault`
// and a request of another service proved.
#[test]
fn an_undecided_rewrite_leaves_only_its_own_bucket_open() {
    let undecided = json!({
        "StringEquals": {"aws:RequestTag/stage": "1"},
        "NumericLessThan": {"aws:RequestTag/stage": "5"}
    });
    let dir = account(Some(undecided));
    let archive = can(&dir, "s3:PutObject", "arn:aws:s3:::archive/*");
    assert_eq!(archive["verdict"], "unknown", "{archive:#}");
    assert!(
        archive.to_string().contains("aws:RequestTag/stage"),
        "the reason names the key\n{archive:#}"
    );
    let vault = can(&dir, "s3:PutObject", "arn:aws:s3:::vault/*");
    assert_eq!(vault["verdict"], "unreachable", "{vault:#}");
    let elsewhere = can(
        &dir,
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:111122223333:jobs",
    );
    assert_eq!(elsewhere["verdict"], "unreachable", "{elsewhere:#}");
}

/// Which S3 actions act on objects and which on buckets is the service authorization
/// reference's resource type, not the action's name: `s3:PutBucketObjectLockConfiguration`
/// takes a bucket, `s3:ReplicateDelete` an object ("Actions, resources, and condition keys
/// for Amazon S3",
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html>).
mod resource_types {
    use super::*;

    fn s3_everywhere() -> tempfile::TempDir {
        account_granting(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    }

    #[test]
    fn a_bucket_action_named_after_objects_is_asked_of_the_bucket() {
        let dir = s3_everywhere();
        let answer = can(
            &dir,
            "s3:PutBucketObjectLockConfiguration",
            "arn:aws:s3:::vault",
        );
        assert_eq!(answer["verdict"], "reachable", "{answer:#}");
        // Without the grant, the same question is refuted, not left open.
        let none = account_granting(json!({"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::archive/*"}));
        let answer = can(
            &none,
            "s3:PutBucketObjectLockConfiguration",
            "arn:aws:s3:::vault",
        );
        assert_eq!(answer["verdict"], "unreachable", "{answer:#}");
    }

    #[test]
    fn an_object_action_named_otherwise_is_asked_of_the_object() {
        let dir = s3_everywhere();
        let answer = can(&dir, "s3:ReplicateDelete", "arn:aws:s3:::vault/report.csv");
        assert_eq!(answer["verdict"], "reachable", "{answer:#}");
    }

    // "GetAccountAuthorizationDetails" lists every role of the account: assuming one it does
    // not list is refuted, not left open.
    // https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
    #[test]
    fn a_role_the_snapshot_does_not_list_is_refuted() {
        let dir = account_granting(json!({"Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": "*"}));
        let answer = can(
            &dir,
            "sts:AssumeRole",
            "arn:aws:iam::111122223333:role/ghost",
        );
        assert_eq!(answer["verdict"], "unreachable", "{answer:#}");
    }

    // Access points are not modelled: a request through one is left open, never refuted.
    #[test]
    fn a_request_through_an_access_point_is_unknown() {
        let dir = s3_everywhere();
        let access_point =
            "arn:aws:s3:us-east-1:111122223333:accesspoint/uploads/object/report.csv";
        let answer = can(&dir, "s3:PutObject", access_point);
        assert_eq!(answer["verdict"], "unknown", "{answer:#}");
        assert!(
            answer["reason"]
                .as_str()
                .is_some_and(|r| r.contains("no resource iamproof models")),
            "{answer:#}"
        );
    }
}
