//! AWS Organizations policies in Terraform plans (`aws_organizations_policy`,
//! `aws_organizations_policy_attachment`, an account moved by `aws_organizations_account`):
//! an SCP attached on the account's path restricts its principals; one attached off the path,
//! or of a type that grants and denies nothing, changes no answer; what cannot be placed (a
//! target or content known only after apply, the last SCP of a level detached) makes the
//! answers about the account's principals `unknown`, never `unreachable`.
//!
//! Every level from the root to the account must allow a request and none may deny it
//! (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html);
//! a policy is attached to a root, an OU or an account by its id
//! (https://docs.aws.amazon.com/organizations/latest/APIReference/API_AttachPolicy.html), and
//! AWS refuses to detach the last SCP of a target. The fixtures are written by
//! `tests/fixtures/terraform/generate.py` in the JSON of `terraform show -json`.

mod common;

use common::{iamproof, Run};
use serde_json::{json, Value};
use std::path::Path;

const LEAST: &str = "models/mediaconvert-least-privilege";
/// The example account in an organization: root `r-a1b2`, OU `ou-a1b2-k7m3x9qp` (with the
/// `p-4x8k2m9q` guardrails), the account; `FullAWSAccess` at every level.
const IN_ORGANIZATION: &str = "models/mediaconvert-cross-account";
const ATTACHED: &str = "tests/fixtures/terraform/scp-attached.plan.json";
const UNATTACHED: &str = "tests/fixtures/terraform/scp-unattached.plan.json";
const UNKNOWN_TARGET: &str = "tests/fixtures/terraform/scp-unknown-target.plan.json";
const EDITOR: &str = "arn:aws:iam::111122223333:user/editor";

fn can(account: &str, plan: &str, resource: &str) -> Run {
    iamproof(&[
        "can",
        "--account",
        account,
        "--terraform",
        plan,
        "--principal",
        EDITOR,
        "--action",
        "s3:PutObject",
        "--resource",
        resource,
    ])
}

fn verdict(run: &Run) -> &str {
    run.stdout.split(':').next().unwrap_or_default()
}

#[test]
fn an_scp_attached_to_the_account_makes_a_reachable_write_unreachable() {
    let run = can(LEAST, ATTACHED, "arn:aws:s3:::media-out/*");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(verdict(&run), "unreachable", "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "explicitly denied by statement NoWritesToPublishedMedia of SCP (level 0) aws_organizations_policy.media_freeze"
        ),
        "{}",
        run.stdout
    );
    // The same policy attached nowhere restricts nothing.
    let run = can(LEAST, UNATTACHED, "arn:aws:s3:::media-out/*");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(verdict(&run), "reachable", "{}", run.stdout);
    // No snapshot lists what else is attached to the account: it is taken to allow everything,
    // so that what the policy does not deny stays reachable.
    let run = iamproof(&[
        "can",
        "--verbose",
        "--account",
        LEAST,
        "--terraform",
        ATTACHED,
        "--principal",
        EDITOR,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::media-in/*",
    ]);
    assert_eq!(verdict(&run), "reachable", "{}", run.stdout);
    assert!(
        run.stderr
            .contains("the others are taken to allow everything (FullAWSAccess)"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_attachment_to_a_target_known_only_after_apply_leaves_answers_unknown() {
    for resource in ["arn:aws:s3:::media-out/*", "arn:aws:s3:::finance/*"] {
        let run = can(LEAST, UNKNOWN_TARGET, resource);
        assert_eq!(run.code, 3, "{resource}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains(
                "attached by aws_organizations_policy_attachment.media_ou to a target known only after apply"
            ),
            "{}",
            run.stdout
        );
    }
}

/// A plan in the management account with `changes` as its resource changes.
fn plan_with(dir: &Path, changes: Value) -> String {
    let plan = json!({
        "format_version": "1.2",
        "resource_changes": changes,
        "prior_state": {"values": {"root_module": {"resources": [
            {"address": "data.aws_caller_identity.current", "mode": "data", "type": "aws_caller_identity",
             "name": "current", "values": {"account_id": "999988887777"}}]}}},
    });
    let path = dir.join("plan.json");
    std::fs::write(&path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    path.display().to_string()
}

fn change(address: &str, actions: &[&str], before: Value, after: Value, unknown: Value) -> Value {
    json!({"address": address, "mode": "managed", "type": address.split('.').next(),
           "name": address.rsplit('.').next(),
           "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown}})
}

/// A new policy with a known id, attached to `target`.
fn policy_attached_to(kind: &str, content: Value, target: &str) -> Value {
    json!([
        change(
            "aws_organizations_policy.p",
            &["create"],
            Value::Null,
            json!({"id": "p-newpolicy1", "name": "p", "type": kind, "content": content.to_string()}),
            json!({"arn": true})
        ),
        change(
            "aws_organizations_policy_attachment.a",
            &["create"],
            Value::Null,
            json!({"policy_id": "p-newpolicy1", "target_id": target}),
            json!({"id": true})
        ),
    ])
}

fn deny_media_out() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:PutObject",
           "Resource": "arn:aws:s3:::media-out/*"}]})
}

#[test]
fn only_targets_on_the_accounts_path_restrict_it() {
    let dir = tempfile::tempdir().unwrap();
    // The OU above the account.
    let plan = plan_with(
        dir.path(),
        policy_attached_to(
            "SERVICE_CONTROL_POLICY",
            deny_media_out(),
            "ou-a1b2-k7m3x9qp",
        ),
    );
    let run = can(IN_ORGANIZATION, &plan, "arn:aws:s3:::media-out/*");
    assert_eq!(verdict(&run), "unreachable", "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("SCP (level 1)"), "{}", run.stdout);
    // Another OU, another account: not on the path.
    for elsewhere in ["ou-a1b2-zzzzzzzz", "444455556666"] {
        let plan = plan_with(
            dir.path(),
            policy_attached_to("SERVICE_CONTROL_POLICY", deny_media_out(), elsewhere),
        );
        let run = can(IN_ORGANIZATION, &plan, "arn:aws:s3:::media-out/*");
        assert_eq!(
            verdict(&run),
            "reachable",
            "{elsewhere}: {}{}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn policy_types_that_grant_nothing_change_no_answer() {
    let dir = tempfile::tempdir().unwrap();
    let tags = json!({"tags": {"CostCenter": {"tag_key": {"@@assign": "CostCenter"}}}});
    let plan = plan_with(
        dir.path(),
        policy_attached_to("TAG_POLICY", tags, "111122223333"),
    );
    let run = can(LEAST, &plan, "arn:aws:s3:::media-out/*");
    assert_eq!(verdict(&run), "reachable", "{}{}", run.stdout, run.stderr);
    // Nor does it make a refutation unknown.
    let run = can(LEAST, &plan, "arn:aws:s3:::finance/*");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(verdict(&run), "unreachable", "{}", run.stdout);
}

#[test]
fn content_known_only_after_apply_leaves_answers_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_with(
        dir.path(),
        json!([
            change(
                "aws_organizations_policy.p",
                &["create"],
                Value::Null,
                json!({"id": "p-newpolicy1", "name": "p", "type": "SERVICE_CONTROL_POLICY"}),
                json!({"arn": true, "content": true})
            ),
            change(
                "aws_organizations_policy_attachment.a",
                &["create"],
                Value::Null,
                json!({"policy_id": "p-newpolicy1", "target_id": "111122223333"}),
                json!({"id": true})
            ),
        ]),
    );
    let run = can(LEAST, &plan, "arn:aws:s3:::finance/*");
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("aws_organizations_policy.p.content, known only after apply"),
        "{}",
        run.stdout
    );
}

#[test]
fn detaching_policies_widens_exactly_or_leaves_answers_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let detach = |policy: &str, target: &str| {
        change(
            "aws_organizations_policy_attachment.old",
            &["delete"],
            json!({"id": format!("{target}:{policy}"), "policy_id": policy, "target_id": target}),
            Value::Null,
            json!({}),
        )
    };
    // The guardrails of the OU detached: FullAWSAccess stays, and answers stay decided.
    let plan = plan_with(
        dir.path(),
        json!([detach("p-4x8k2m9q", "ou-a1b2-k7m3x9qp")]),
    );
    let run = can(IN_ORGANIZATION, &plan, "arn:aws:s3:::media-out/*");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(verdict(&run), "reachable", "{}", run.stdout);
    // The last SCP of the account's level: AWS refuses, the apply fails.
    let plan = plan_with(
        dir.path(),
        json!([detach("p-FullAWSAccess", "111122223333")]),
    );
    let run = can(IN_ORGANIZATION, &plan, "arn:aws:s3:::media-in/*");
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("detaches the last SCP of 111122223333"),
        "{}",
        run.stdout
    );
    // With another SCP attached in its place, the level allows what that one allows.
    let allow_reads = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:GetObject", "Resource": "*"}]});
    let mut changes = policy_attached_to("SERVICE_CONTROL_POLICY", allow_reads, "111122223333");
    changes
        .as_array_mut()
        .unwrap()
        .push(detach("p-FullAWSAccess", "111122223333"));
    let plan = plan_with(dir.path(), changes);
    let run = can(IN_ORGANIZATION, &plan, "arn:aws:s3:::media-out/*");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(verdict(&run), "unreachable", "{}", run.stdout);
}

#[test]
fn an_account_the_plan_moves_to_another_parent_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let account =
        |parent: &str| json!({"id": "111122223333", "name": "media", "parent_id": parent});
    let plan = plan_with(
        dir.path(),
        json!([change(
            "aws_organizations_account.media",
            &["update"],
            account("ou-a1b2-k7m3x9qp"),
            account("r-a1b2"),
            json!({})
        )]),
    );
    let run = can(IN_ORGANIZATION, &plan, "arn:aws:s3:::media-in/*");
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("moves the account to another parent"),
        "{}",
        run.stdout
    );
    // Left where it is, it is answered as before.
    let plan = plan_with(
        dir.path(),
        json!([change(
            "aws_organizations_account.media",
            &["update"],
            account("ou-a1b2-k7m3x9qp"),
            json!({"id": "111122223333", "name": "media-renamed", "parent_id": "ou-a1b2-k7m3x9qp"}),
            json!({})
        )]),
    );
    let run = can(IN_ORGANIZATION, &plan, "arn:aws:s3:::media-in/*");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn an_rcp_attached_to_the_account_restricts_requests_to_its_resources() {
    let dir = tempfile::tempdir().unwrap();
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::media-out/*"}]});
    let plan = plan_with(
        dir.path(),
        policy_attached_to("RESOURCE_CONTROL_POLICY", deny.clone(), "111122223333"),
    );
    let run = can(LEAST, &plan, "arn:aws:s3:::media-out/*");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(verdict(&run), "unreachable", "{}", run.stdout);
    assert!(run.stdout.contains("RCP"), "{}", run.stdout);
    let plan = plan_with(
        dir.path(),
        policy_attached_to("RESOURCE_CONTROL_POLICY", deny, "ou-a1b2-zzzzzzzz"),
    );
    let run = can(IN_ORGANIZATION, &plan, "arn:aws:s3:::media-out/*");
    assert_eq!(verdict(&run), "reachable", "{}{}", run.stdout, run.stderr);
}
