//! Privilege escalation through IAM, S3 bucket policies and KMS key policies: one small
//! snapshot per case under `tests/fixtures/escalation/iam/<case>/` (written by `generate.py`
//! there; `README.md` lists the cases). Account `111122223333`, `us-east-1`.
//!
//! For each technique, the positive case gives `user/attacker` the technique's permission (and
//! what the path needs) and asks whether it can write `vault` (`s3:PutObject`) or decrypt with
//! the key (`kms:Decrypt`), which nothing else allows it. The negatives are each one
//! permission away from the positive case:
//!
//! - `-missing`: the grant names a neighbouring read action instead. Decided by "Policy
//!   evaluation logic" (an action no policy allows is implicitly denied),
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>.
//! - `-deny`: an explicit `Deny` of the technique's action. Same page: "An explicit deny in
//!   any of these policies overrides the allow".
//! - `-boundary`: a permissions boundary that allows everything but the technique's action
//!   (`NotAction`). Decided by "Permissions boundaries for IAM entities" (the entity may only
//!   do what both its identity-based policies and its boundary allow),
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html>. For the
//!   boundary techniques, the boundary that blocks the write also leaves out the action that
//!   would remove it.
//! - `-scp`: an SCP at the root denies the technique's action. Decided by "SCP evaluation",
//!   <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html>
//!   (an explicit deny in an SCP at any level denies the action for every principal of the
//!   member account).
//! - role edits, `-sso-reserved` and `-service-linked`: the target role lives under
//!   `/aws-reserved/sso.amazonaws.com/` or `/aws-service-role/`, which IAM refuses to edit:
//!   "Troubleshooting IAM roles" ("I can't edit or delete a role in my AWS account": roles
//!   that IAM Identity Center or a service created are protected),
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_roles.html>, and the
//!   `UnmodifiableEntity` error of the role actions (for instance
//!   <https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRolePermissionsBoundary.html>).
//!
//! The positive cases are also asked with `--scope configured`, which leaves out escalations
//! that edit the account: there they are unreachable, so the technique is what reaches.

mod common;

use serde_json::Value;

const ATTACKER: &str = "arn:aws:iam::111122223333:user/attacker";
const VAULT: &str = "arn:aws:s3:::vault/*";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// The question of a case: writing the bucket, or decrypting with the key.
fn question(case: &str) -> (&'static str, &'static str) {
    if case.starts_with("kms-") {
        ("kms:Decrypt", KEY)
    } else {
        ("s3:PutObject", VAULT)
    }
}

fn dir(case: &str) -> String {
    format!("tests/fixtures/escalation/iam/{case}")
}

/// What `iamproof can` answered.
#[derive(Debug)]
struct Answer {
    code: i32,
    verdict: Option<String>,
    json: Value,
    stdout: String,
    stderr: String,
}

fn can_as(case: &str, principal: &str, extra: &[&str]) -> Answer {
    let (action, resource) = question(case);
    let account = dir(case);
    let mut args = vec![
        "can",
        "--quiet",
        "--account",
        &account,
        "--principal",
        principal,
        "--action",
        action,
        "--resource",
        resource,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let run = common::iamproof(&args);
    let json: Value = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    Answer {
        code: run.code,
        verdict: json["verdict"].as_str().map(str::to_string),
        json,
        stdout: run.stdout,
        stderr: run.stderr,
    }
}

fn can(case: &str, extra: &[&str]) -> Answer {
    can_as(case, ATTACKER, extra)
}

/// The text witness of a case, for the snapshots.
fn witness_text(case: &str, principal: &str) -> String {
    let (action, resource) = question(case);
    let account = dir(case);
    let run = common::iamproof(&[
        "can",
        "--quiet",
        "--account",
        &account,
        "--principal",
        principal,
        "--action",
        action,
        "--resource",
        resource,
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    run.stdout
}

fn assert_verdict(answer: &Answer, code: i32, verdict: &str) {
    assert_eq!(
        (answer.code, answer.verdict.as_deref()),
        (code, Some(verdict)),
        "expected {verdict}\n{}\n{}",
        answer.stdout,
        answer.stderr
    );
}

fn assert_unreachable(case: &str) {
    assert_verdict(&can(case, &[]), 0, "unreachable");
}

/// The (action, change) of each hop of a witness.
fn hops(answer: &Answer) -> Vec<(String, Option<String>)> {
    answer.json["chain"]
        .as_array()
        .map(|chain| {
            chain
                .iter()
                .map(|link| {
                    (
                        link["action"].as_str().unwrap_or_default().to_string(),
                        link["change"].as_str().map(str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The positive case: reachable with the technique's request in the witness, its change line
/// naming the technique; unreachable when escalations are out of scope; the text witness pinned.
fn assert_escalates(case: &str, technique: &str, request: &str) {
    let answer = can(case, &[]);
    assert_verdict(&answer, 0, "reachable");
    let prefix = format!("{technique}: ");
    let found = hops(&answer).into_iter().any(|(action, change)| {
        action == request && change.is_some_and(|c| c.starts_with(&prefix))
    });
    assert!(
        found,
        "no {request} hop with a `{technique}` change in\n{}",
        answer.stdout
    );
    assert_verdict(&can(case, &["--scope", "configured"]), 0, "unreachable");
    let text = witness_text(case, ATTACKER);
    assert!(text.contains(&format!("=> {technique}: ")), "{text}");
    insta::assert_snapshot!(case.to_string(), text);
}

/// The positive case and the four negatives of a technique.
macro_rules! technique {
    ($module:ident, $case:literal, $request:literal) => {
        mod $module {
            use super::*;

            #[test]
            fn escalates() {
                assert_escalates($case, $case, $request);
            }

            // Implicit deny: "Policy evaluation logic".
            #[test]
            fn without_the_permission_is_unreachable() {
                assert_unreachable(concat!($case, "-missing"));
            }

            // "An explicit deny in any of these policies overrides the allow".
            #[test]
            fn explicit_deny_is_unreachable() {
                assert_unreachable(concat!($case, "-deny"));
            }

            // "Permissions boundaries for IAM entities".
            #[test]
            fn boundary_without_it_is_unreachable() {
                assert_unreachable(concat!($case, "-boundary"));
            }

            // "SCP evaluation".
            #[test]
            fn scp_deny_is_unreachable() {
                assert_unreachable(concat!($case, "-scp"));
            }
        }
    };
    ($module:ident, $case:literal, $request:literal, reserved roles) => {
        technique!($module, $case, $request);

        mod reserved_roles {
            // "Troubleshooting IAM roles": IAM refuses edits of roles under
            // /aws-reserved/sso.amazonaws.com/ and /aws-service-role/.
            #[test]
            fn sso_role_is_not_edited() {
                super::assert_unreachable(concat!($case, "-sso-reserved"));
            }

            #[test]
            fn service_linked_role_is_not_edited() {
                super::assert_unreachable(concat!($case, "-service-linked"));
            }
        }
    };
}

// "PutUserPolicy", IAM API Reference: adds or updates an inline policy document embedded in
// the user; https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPolicy.html
technique!(put_user_policy, "iam-put-user-policy", "iam:PutUserPolicy");

// "AttachUserPolicy", IAM API Reference: attaches the managed policy to the user;
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachUserPolicy.html
technique!(
    attach_user_policy,
    "iam-attach-user-policy",
    "iam:AttachUserPolicy"
);

// "PutGroupPolicy", IAM API Reference (the group's policies apply to its members, "IAM user
// groups", https://docs.aws.amazon.com/IAM/latest/UserGuide/id_groups.html);
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutGroupPolicy.html
technique!(
    put_group_policy,
    "iam-put-group-policy",
    "iam:PutGroupPolicy"
);

// "AttachGroupPolicy", IAM API Reference;
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachGroupPolicy.html
technique!(
    attach_group_policy,
    "iam-attach-group-policy",
    "iam:AttachGroupPolicy"
);

// "PutRolePolicy", IAM API Reference (the attacker then assumes the role it may assume);
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html
mod put_role_policy_cases {
    use super::*;
    technique!(
        put_role_policy,
        "iam-put-role-policy",
        "iam:PutRolePolicy",
        reserved roles
    );
}

// "AttachRolePolicy", IAM API Reference;
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html
mod attach_role_policy_cases {
    use super::*;
    technique!(
        attach_role_policy,
        "iam-attach-role-policy",
        "iam:AttachRolePolicy",
        reserved roles
    );
}

// "CreatePolicyVersion", IAM API Reference (`--set-as-default` makes the new version the one
// in force for every entity the policy is attached to);
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicyVersion.html
technique!(
    create_policy_version,
    "iam-create-policy-version",
    "iam:CreatePolicyVersion"
);

// "AddUserToGroup", IAM API Reference;
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddUserToGroup.html
technique!(
    add_user_to_group,
    "iam-add-user-to-group",
    "iam:AddUserToGroup"
);

// "DeleteUserPermissionsBoundary", IAM API Reference ("Deleting the permissions boundary for
// a user might increase its permissions");
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUserPermissionsBoundary.html
technique!(
    delete_user_permissions_boundary,
    "iam-delete-user-permissions-boundary",
    "iam:DeleteUserPermissionsBoundary"
);

// "PutUserPermissionsBoundary", IAM API Reference;
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPermissionsBoundary.html
technique!(
    put_user_permissions_boundary,
    "iam-put-user-permissions-boundary",
    "iam:PutUserPermissionsBoundary"
);

// "DeleteRolePermissionsBoundary", IAM API Reference ("Deleting the permissions boundary for
// a role might increase its permissions"; service-linked roles: UnmodifiableEntity);
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRolePermissionsBoundary.html
mod delete_role_permissions_boundary_cases {
    use super::*;
    technique!(
        delete_role_permissions_boundary,
        "iam-delete-role-permissions-boundary",
        "iam:DeleteRolePermissionsBoundary",
        reserved roles
    );
}

// "UpdateAssumeRolePolicy", IAM API Reference (the trust policy decides who may assume the
// role);
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAssumeRolePolicy.html
mod update_assume_role_policy_cases {
    use super::*;
    technique!(
        update_assume_role_policy,
        "iam-update-assume-role-policy",
        "iam:UpdateAssumeRolePolicy",
        reserved roles
    );
}

// "CreateAccessKey", IAM API Reference (creates a secret access key for the specified user);
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html
technique!(
    create_access_key,
    "iam-create-access-key",
    "iam:CreateAccessKey"
);

// "CreateLoginProfile", IAM API Reference (a console password for the user);
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateLoginProfile.html
technique!(
    create_login_profile,
    "iam-create-login-profile",
    "iam:CreateLoginProfile"
);

// "UpdateLoginProfile", IAM API Reference (changes the user's console password);
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateLoginProfile.html
technique!(
    update_login_profile,
    "iam-update-login-profile",
    "iam:UpdateLoginProfile"
);

// "PutBucketPolicy", Amazon S3 API Reference (the bucket owner's identities with
// s3:PutBucketPolicy may set it), and "How Amazon S3 authorizes a request for a bucket
// operation" (within the bucket owner's account, the identity policy alone may allow),
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-auth-workflow-bucket-operation.html;
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html
technique!(
    put_bucket_policy,
    "s3-put-bucket-policy",
    "s3:PutBucketPolicy"
);

// "PutKeyPolicy", AWS KMS API Reference (the default key policy's root statement delegates to
// IAM policies, "Default key policy",
// https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html);
// https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
technique!(put_key_policy, "kms-put-key-policy", "kms:PutKeyPolicy");

// "CreateGrant", AWS KMS API Reference (a grant allows the grantee principal the grant
// operations, Decrypt among them);
// https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html
technique!(create_grant, "kms-create-grant", "kms:CreateGrant");

/// Conditions on which policy an attacker may attach or make a boundary.
mod chosen_policy {
    use super::*;

    // "IAM condition keys", iam:PolicyARN (the ARN of the managed policy attached), and
    // AttachUserPolicy: an attacker allowed to attach only AmazonS3FullAccess attaches it,
    // which allows s3:* ("AmazonS3FullAccess", AWS Managed Policy Reference,
    // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonS3FullAccess.html).
    // iamproof only tries AdministratorAccess; a refutation would be a false proof, so it
    // may answer reachable or unknown, never unreachable.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PolicyARN
    #[test]
    fn attach_limited_to_s3_full_access_still_writes() {
        let answer = can("iam-attach-user-policy-s3-full-access-only", &[]);
        assert!(
            matches!(
                answer.verdict.as_deref(),
                Some("reachable") | Some("unknown")
            ),
            "AmazonS3FullAccess may be attached, and it writes the bucket\n{}",
            answer.stdout
        );
    }

    // Same page: only ReadOnlyAccess may be attached, which allows no s3:PutObject
    // ("ReadOnlyAccess", AWS Managed Policy Reference). The search tries AdministratorAccess
    // only, so a restricted choice of policy is an open question: `unknown`, naming the key,
    // never `reachable` (nor `unreachable`, which it does not prove).
    #[test]
    fn attach_limited_to_read_only_is_not_decided() {
        let answer = can("iam-attach-user-policy-read-only-only", &[]);
        assert_eq!(
            answer.verdict.as_deref(),
            Some("unknown"),
            "{}",
            answer.stdout
        );
        assert!(answer.stdout.contains("iam:PolicyARN"), "{}", answer.stdout);
    }

    // "Permissions boundaries for IAM entities", delegating responsibility: the
    // iam:PermissionsBoundary condition pins which boundary may be set. Setting the boundary
    // the user already has widens nothing.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    // As above, the search does not try the one boundary allowed: `unknown`, naming the key.
    #[test]
    fn boundary_replaced_only_by_itself_is_not_decided() {
        let answer = can("iam-put-user-permissions-boundary-same-boundary-only", &[]);
        assert_eq!(
            answer.verdict.as_deref(),
            Some("unknown"),
            "{}",
            answer.stdout
        );
        assert!(
            answer.stdout.contains("iam:PermissionsBoundary"),
            "{}",
            answer.stdout
        );
    }

    // Same page: the attacker may set `wide-boundary` (s3:*) as its boundary, and its identity
    // policy already allows the write. Reachable (or unknown), never unreachable.
    #[test]
    fn boundary_replaced_by_a_wider_one_still_writes() {
        let answer = can("iam-put-user-permissions-boundary-wide-boundary-only", &[]);
        assert!(
            matches!(
                answer.verdict.as_deref(),
                Some("reachable") | Some("unknown")
            ),
            "wide-boundary may be set, and it allows the write\n{}",
            answer.stdout
        );
    }

    // "Permissions boundaries for IAM entities" (the administrator's policy denies
    // iam:DeleteUserPermissionsBoundary where iam:PermissionsBoundary is the boundary), and
    // "IAM condition keys", iam:PermissionsBoundary.
    #[test]
    fn guarded_boundary_is_not_removed() {
        assert_unreachable("iam-delete-user-permissions-boundary-guarded");
    }
}

/// A chain of three techniques and a role assumption.
mod multi_step {
    use super::*;

    const DEV: &str = "arn:aws:iam::111122223333:user/dev";
    const VIEWER: &str = "arn:aws:iam::111122223333:user/viewer";
    const CASE: &str = "multi-step-lambda";

    // "Granting a user permissions to pass a role to an AWS service" (iam:PassRole, with
    // iam:PassedToService), https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html;
    // "Defining Lambda function permissions with an execution role" (the function runs with
    // the role), https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html;
    // "AttachRolePolicy", https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html.
    #[test]
    fn assume_attach_pass_and_invoke_in_order() {
        let answer = can_as(CASE, DEV, &[]);
        assert_verdict(&answer, 0, "reachable");
        let actions: Vec<String> = hops(&answer).into_iter().map(|(a, _)| a).collect();
        assert_eq!(
            actions,
            [
                "sts:AssumeRole",
                "iam:AttachRolePolicy",
                "iam:PassRole",
                "lambda:CreateFunction",
                "lambda:InvokeFunction",
                "sts:AssumeRole",
                "s3:PutObject",
            ],
            "{}",
            answer.stdout
        );
        let chain = answer.json["chain"].as_array().unwrap();
        assert!(chain[0]["resource"]
            .as_str()
            .unwrap()
            .ends_with(":role/policy-helper"));
        assert!(chain[1]["principal"]
            .as_str()
            .unwrap()
            .contains(":assumed-role/policy-helper/"));
        assert!(chain[1]["change"]
            .as_str()
            .unwrap()
            .starts_with("iam-attach-role-policy: "));
        assert!(chain[5]["change"]
            .as_str()
            .unwrap()
            .starts_with("lambda-create-invoke: "));
        assert!(chain[6]["principal"]
            .as_str()
            .unwrap()
            .contains(":assumed-role/lambda-runner/"));
        assert_verdict(
            &can_as(CASE, DEV, &["--scope", "configured"]),
            0,
            "unreachable",
        );
        insta::assert_snapshot!("multi-step-lambda", witness_text(CASE, DEV));
    }

    // The same fixture: viewer may only read the bucket ("Policy evaluation logic").
    #[test]
    fn viewer_cannot() {
        assert_verdict(&can_as(CASE, VIEWER, &[]), 0, "unreachable");
    }

    // who-can lists every principal that reaches, each with its chain.
    #[test]
    fn who_can_lists_the_escalating_user_and_not_the_viewer() {
        let account = dir(CASE);
        let run = common::iamproof(&[
            "who-can",
            "--quiet",
            "--account",
            &account,
            "--action",
            "s3:PutObject",
            "--resource",
            VAULT,
        ]);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains(DEV), "{}", run.stdout);
        assert!(
            run.stdout.contains("=> iam-attach-role-policy: "),
            "{}",
            run.stdout
        );
        assert!(!run.stdout.contains(VIEWER), "{}", run.stdout);
        insta::assert_snapshot!("who-can-multi-step-lambda", run.stdout);
    }
}
