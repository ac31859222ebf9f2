//! Adversarial plans for `--terraform`: each test is a plan as `terraform show -json` prints it
//! (https://developer.hashicorp.com/terraform/internals/json-format) whose effect after apply
//! is fixed by the AWS provider's documented behaviour, and asserts the answer AWS would give.
//! Every test here failed when it was written; each names the defect it shows.
//!
//! Severity, worst first: a wrong `unreachable` (a proof of something that after apply can
//! happen), then a wrong `reachable` with no assumption listed, then a valid plan refused.

mod common;

use common::{iamproof, project_root};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const LEAST: &str = "models/mediaconvert-least-privilege";
const SSE_KMS: &str = "models/mediaconvert-sse-kms";
const ACCOUNT: &str = "111122223333";

fn policy(statements: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn ec2_trust() -> String {
    policy(
        json!([{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]),
    )
}

/// One entry of `resource_changes`.
fn change(
    address: &str,
    kind: &str,
    actions: &[&str],
    before: Value,
    after: Value,
    unknown: Value,
) -> Value {
    let name = address
        .rsplit('.')
        .next()
        .unwrap()
        .split('[')
        .next()
        .unwrap();
    let mut entry = json!({
        "address": address, "mode": "managed", "type": kind, "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown}});
    if let Some((module, _)) = address.rsplit_once(&format!(".{kind}.")) {
        entry["module_address"] = json!(module);
    }
    entry
}

/// A plan in the example account (its prior state holds `data.aws_caller_identity`), with
/// `configuration.root_module` when given.
fn write_plan(dir: &Path, file: &str, changes: Value, root_module: Option<Value>) -> String {
    let mut plan = json!({
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "resource_changes": changes,
        "prior_state": {"format_version": "1.0", "values": {"root_module": {"resources": [
            {"address": "data.aws_caller_identity.current", "mode": "data", "type": "aws_caller_identity",
             "name": "current", "values": {"account_id": ACCOUNT, "id": ACCOUNT,
                                           "arn": format!("arn:aws:iam::{ACCOUNT}:user/terraform")}}]}}},
    });
    if let Some(root) = root_module {
        plan["configuration"] = json!({"root_module": root});
    }
    let path = dir.join(file);
    std::fs::write(&path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    path.display().to_string()
}

fn can(
    account: Option<&str>,
    plan: &str,
    principal: &str,
    action: &str,
    resource: &str,
) -> common::Run {
    let mut args = vec!["can"];
    if let Some(account) = account {
        args.extend(["--account", account]);
    }
    args.extend([
        "--terraform",
        plan,
        "--principal",
        principal,
        "--action",
        action,
        "--resource",
        resource,
    ]);
    iamproof(&args)
}

fn assert_not_unreachable(run: &common::Run, why: &str) {
    assert!(
        !run.stdout.starts_with("unreachable") && !run.stdout.starts_with("nobody"),
        "{why}\nexit {}\n{}{}",
        run.code,
        run.stdout,
        run.stderr
    );
}

fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The least-privilege snapshot, copied, with LambdaRole (which writes `finance/*` through its
/// inline policy `finance-report-writer`) also holding a Deny of `s3:PutObject` on
/// `finance/*`: as the inline policy `freeze`, or as the managed policy `FinanceFreeze`.
fn snapshot_with_freeze(dir: &Path) -> PathBuf {
    let snapshot = dir.join("snapshot");
    copy_dir(&project_root().join(LEAST), &snapshot);
    let file = snapshot.join("iam/account-authorization-details.json");
    let mut details: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let deny = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::finance/*"}]});
    let freeze_arn = arn("policy", "FinanceFreeze");
    for role in details["RoleDetailList"].as_array_mut().unwrap() {
        if role["RoleName"] == "LambdaRole" {
            role["RolePolicyList"]
                .as_array_mut()
                .unwrap()
                .push(json!({"PolicyName": "freeze", "PolicyDocument": deny}));
            role["AttachedManagedPolicies"]
                .as_array_mut()
                .unwrap()
                .push(json!({"PolicyName": "FinanceFreeze", "PolicyArn": freeze_arn}));
        }
    }
    details["Policies"].as_array_mut().unwrap().push(json!({
        "PolicyName": "FinanceFreeze", "PolicyId": "ANPAFREEZE", "Arn": freeze_arn, "Path": "/",
        "DefaultVersionId": "v1", "AttachmentCount": 1, "IsAttachable": true,
        "PolicyVersionList": [{"Document": deny, "VersionId": "v1", "IsDefaultVersion": true}]}));
    std::fs::write(&file, serde_json::to_string_pretty(&details).unwrap()).unwrap();
    snapshot
}

/// LambdaRole as the AWS provider reads it back, with `inline_policy` and
/// `managed_policy_arns` as given.
fn lambda_role(inline: Value, managed: Value) -> Value {
    json!({
        "name": "LambdaRole", "path": "/", "arn": arn("role", "LambdaRole"), "id": "LambdaRole",
        "unique_id": "AROALAMBDAROLE", "create_date": "2024-01-01T00:00:00Z", "description": "",
        "force_detach_policies": false, "max_session_duration": 3600, "name_prefix": "",
        "permissions_boundary": null, "tags": {}, "tags_all": {},
        "assume_role_policy": policy(json!([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}])),
        "inline_policy": inline, "managed_policy_arns": managed})
}

fn finance_writer() -> String {
    policy(
        json!([{"Sid": "WriteFinanceReports", "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::finance/*"}]),
    )
}

fn freeze() -> String {
    policy(
        json!([{"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::finance/*"}]),
    )
}

// --- wrong `unreachable` ------------------------------------------------------------------

#[test]
fn a_user_renamed_in_place_keeps_its_policies() {
    // `aws_iam_user` updates `name` and `path` in place (UpdateUser; neither forces a new
    // resource): the user keeps its attached policies, inline policies and groups under the
    // new name. iamproof makes an empty user under the new ARN and keeps the old one.
    let dir = tempfile::tempdir().unwrap();
    let before = json!({"name": "editor", "path": "/", "arn": arn("user", "editor"), "id": "editor",
        "unique_id": "AIDAEDITOR", "force_destroy": false, "permissions_boundary": null, "tags": {}, "tags_all": {}});
    for (name, path, new_arn) in [
        ("video-editor", "/", arn("user", "video-editor")),
        ("editor", "/staff/", arn("user", "staff/editor")),
    ] {
        let mut after = before.clone();
        after["name"] = json!(name);
        after["path"] = json!(path);
        after["id"] = json!(name);
        after["arn"] = Value::Null;
        let plan = write_plan(
            dir.path(),
            "rename.json",
            json!([change(
                "aws_iam_user.editor",
                "aws_iam_user",
                &["update"],
                before.clone(),
                after,
                json!({"arn": true, "id": true})
            )]),
            None,
        );
        let run = can(
            Some(LEAST),
            &plan,
            &new_arn,
            "s3:GetObject",
            "arn:aws:s3:::media-out/x",
        );
        assert!(
            run.stdout.starts_with("reachable"),
            "{new_arn} keeps MediaOutReview after the rename:\n{}{}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn a_forgotten_resource_still_grants() {
    // Terraform 1.7+ `removed { lifecycle { destroy = false } }` plans `["forget"]`: the
    // resource leaves the state and stays in AWS (jsonplan: actions `["forget"]`, `after`
    // unset). iamproof reads it as a deletion and detaches the editor's policy.
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(
        dir.path(),
        "forget.json",
        json!([change(
            "aws_iam_user_policy_attachment.editor_review",
            "aws_iam_user_policy_attachment",
            &["forget"],
            json!({"id": "editor-2024", "user": "editor", "policy_arn": arn("policy", "MediaOutReview")}),
            Value::Null,
            json!({})
        )]),
        None,
    );
    let run = can(
        Some(LEAST),
        &plan,
        &arn("user", "editor"),
        "s3:GetObject",
        "arn:aws:s3:::media-out/x",
    );
    assert!(
        run.stdout.starts_with("reachable"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn exclusive_inline_policies_of_a_role_remove_those_left_out() {
    // `inline_policy` blocks on `aws_iam_role` are exclusive: the provider deletes every
    // inline policy in `before` that `after` leaves out (resourceRoleUpdate: DeleteRolePolicy
    // for old minus new). Here the Deny `freeze` goes, and LambdaRole writes finance again.
    let dir = tempfile::tempdir().unwrap();
    let snapshot = snapshot_with_freeze(dir.path());
    let managed = json!([arn("policy", "FinanceFreeze")]);
    let before = lambda_role(
        json!([{"name": "finance-report-writer", "policy": finance_writer()}, {"name": "freeze", "policy": freeze()}]),
        managed.clone(),
    );
    let after = lambda_role(
        json!([{"name": "finance-report-writer", "policy": finance_writer()}]),
        json!([]),
    );
    let config = json!({"resources": [{"address": "aws_iam_role.lambda", "mode": "managed", "type": "aws_iam_role", "name": "lambda",
        "expressions": {"name": {"constant_value": "LambdaRole"}, "assume_role_policy": {"constant_value": "..."},
                        "managed_policy_arns": {"constant_value": []},
                        "inline_policy": [{"name": {"constant_value": "finance-report-writer"}, "policy": {"constant_value": finance_writer()}}]}}]});
    let plan = write_plan(
        dir.path(),
        "exclusive.json",
        json!([change(
            "aws_iam_role.lambda",
            "aws_iam_role",
            &["update"],
            before,
            after,
            json!({"inline_policy": [{}], "managed_policy_arns": [], "tags_all": {}})
        )]),
        Some(config),
    );
    let snapshot = snapshot.display().to_string();
    // The snapshot alone: both Denies hold.
    let run = iamproof(&[
        "can",
        "--account",
        &snapshot,
        "--principal",
        &arn("role", "LambdaRole"),
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/x",
    ]);
    assert!(
        run.stdout.starts_with("unreachable"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    // After apply: `freeze` is deleted and `FinanceFreeze` detached.
    let run = can(
        Some(&snapshot),
        &plan,
        &arn("role", "LambdaRole"),
        "s3:PutObject",
        "arn:aws:s3:::finance/x",
    );
    assert!(
        run.stdout.starts_with("reachable"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn exclusive_managed_policy_arns_of_a_role_detach_those_left_out() {
    // `managed_policy_arns = []` detaches every managed policy of the role (provider docs:
    // "Configuring an empty set ... will cause Terraform to remove all managed policy
    // attachments"). Only the managed Deny here; the inline `freeze` is kept in `after`.
    let dir = tempfile::tempdir().unwrap();
    let snapshot = snapshot_with_freeze(dir.path()).display().to_string();
    let inline = json!([{"name": "finance-report-writer", "policy": finance_writer()}]);
    let before = lambda_role(inline.clone(), json!([arn("policy", "FinanceFreeze")]));
    let after = lambda_role(inline, json!([]));
    let config = json!({"resources": [{"address": "aws_iam_role.lambda", "mode": "managed", "type": "aws_iam_role", "name": "lambda",
        "expressions": {"name": {"constant_value": "LambdaRole"}, "assume_role_policy": {"constant_value": "..."},
                        "managed_policy_arns": {"constant_value": []}}}]});
    // The inline Deny is gone from the snapshot's copy for this test: only the managed one counts.
    let file = Path::new(&snapshot).join("iam/account-authorization-details.json");
    let mut details: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    for role in details["RoleDetailList"].as_array_mut().unwrap() {
        if role["RoleName"] == "LambdaRole" {
            role["RolePolicyList"]
                .as_array_mut()
                .unwrap()
                .retain(|p| p["PolicyName"] != "freeze");
        }
    }
    std::fs::write(&file, details.to_string()).unwrap();
    let plan = write_plan(
        dir.path(),
        "managed.json",
        json!([change(
            "aws_iam_role.lambda",
            "aws_iam_role",
            &["update"],
            before,
            after,
            json!({"inline_policy": [{}], "managed_policy_arns": [], "tags_all": {}})
        )]),
        Some(config),
    );
    let run = can(
        Some(&snapshot),
        &plan,
        &arn("role", "LambdaRole"),
        "s3:PutObject",
        "arn:aws:s3:::finance/x",
    );
    assert!(
        run.stdout.starts_with("reachable"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn an_inline_policy_block_whose_name_is_known_only_after_apply_still_grants() {
    // `inline_policy { name = "reader-${random_id.suffix.hex}" ... }`: the name is unknown in
    // the plan, the policy is known. iamproof skips the block: the role grants nothing.
    let dir = tempfile::tempdir().unwrap();
    let read_all = policy(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]));
    let after = json!({"name": "Builder", "path": "/", "assume_role_policy": ec2_trust(), "description": null,
        "force_detach_policies": false, "max_session_duration": 3600, "permissions_boundary": null, "tags": null,
        "inline_policy": [{"name": null, "policy": read_all}]});
    let config = json!({"resources": [{"address": "aws_iam_role.builder", "mode": "managed", "type": "aws_iam_role", "name": "builder",
        "expressions": {"name": {"constant_value": "Builder"}, "assume_role_policy": {"constant_value": ec2_trust()},
                        "inline_policy": [{"name": {"references": ["random_id.suffix.hex", "random_id.suffix"]},
                                           "policy": {"constant_value": read_all}}]}}]});
    let plan = write_plan(
        dir.path(),
        "inline.json",
        json!([change(
            "aws_iam_role.builder",
            "aws_iam_role",
            &["create"],
            Value::Null,
            after,
            json!({"arn": true, "id": true, "unique_id": true, "create_date": true, "managed_policy_arns": true,
                   "tags_all": true, "name_prefix": true, "inline_policy": [{"name": true}]})
        )]),
        Some(config),
    );
    let run = can(
        Some(LEAST),
        &plan,
        &arn("role", "Builder"),
        "s3:GetObject",
        "arn:aws:s3:::media-out/x",
    );
    assert_not_unreachable(&run, "the role's inline policy allows s3:GetObject on *");
}

/// A role `Reader` with no policies of its own, created by the plan.
fn reader_role() -> Value {
    change(
        "aws_iam_role.reader",
        "aws_iam_role",
        &["create"],
        Value::Null,
        json!({"name": "Reader", "path": "/", "assume_role_policy": ec2_trust(), "description": null,
               "force_detach_policies": false, "max_session_duration": 3600, "permissions_boundary": null, "tags": null}),
        json!({"arn": true, "id": true, "unique_id": true, "create_date": true, "managed_policy_arns": true,
               "inline_policy": true, "tags_all": true, "name_prefix": true}),
    )
}

fn reader_config() -> Value {
    json!({"address": "aws_iam_role.reader", "mode": "managed", "type": "aws_iam_role", "name": "reader",
           "expressions": {"name": {"constant_value": "Reader"}, "assume_role_policy": {"constant_value": ec2_trust()}}})
}

#[test]
fn a_key_policy_attached_through_the_keys_arn_is_read() {
    // `aws_kms_key_policy.key_id` accepts the key ID or ARN (PutKeyPolicy KeyId). With
    // `key_id = aws_kms_key.exports.arn` iamproof cannot place the policy, warns, and keeps the
    // default key policy: Reader, whom only the key policy names, "cannot" decrypt.
    let dir = tempfile::tempdir().unwrap();
    let key_policy = policy(json!([
        {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "reader", "Effect": "Allow", "Principal": {"AWS": arn("role", "Reader")}, "Action": "kms:Decrypt", "Resource": "*"}]));
    let config = json!({"resources": [
        reader_config(),
        {"address": "aws_kms_key.exports", "mode": "managed", "type": "aws_kms_key", "name": "exports",
         "expressions": {"description": {"constant_value": "exports"}}},
        {"address": "aws_kms_key_policy.exports", "mode": "managed", "type": "aws_kms_key_policy", "name": "exports",
         "expressions": {"key_id": {"references": ["aws_kms_key.exports.arn", "aws_kms_key.exports"]},
                         "policy": {"constant_value": key_policy}}}]});
    let plan = write_plan(
        dir.path(),
        "key.json",
        json!([
            reader_role(),
            change(
                "aws_kms_key.exports",
                "aws_kms_key",
                &["create"],
                Value::Null,
                json!({"description": "exports", "is_enabled": true, "key_usage": "ENCRYPT_DECRYPT",
                       "customer_master_key_spec": "SYMMETRIC_DEFAULT", "enable_key_rotation": true,
                       "multi_region": false, "deletion_window_in_days": 10,
                       "bypass_policy_lockout_safety_check": false, "tags": null}),
                json!({"arn": true, "id": true, "key_id": true, "policy": true, "tags_all": true})
            ),
            change(
                "aws_kms_key_policy.exports",
                "aws_kms_key_policy",
                &["create"],
                Value::Null,
                json!({"policy": key_policy, "bypass_policy_lockout_safety_check": false}),
                json!({"key_id": true, "id": true})
            ),
        ]),
        Some(config),
    );
    let run = iamproof(&[
        "who-can",
        "--terraform",
        &plan,
        "--action",
        "kms:Decrypt",
        "--resource",
        &format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/aws_kms_key.exports"),
    ]);
    assert!(
        run.stdout.contains(&arn("role", "Reader")),
        "the key policy names Reader:\n{}{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn a_bucket_policy_naming_a_bucket_through_a_module_output_is_read() {
    // `bucket = module.store.bucket_id` (the module's `aws_s3_bucket.this.id`, unknown until
    // the bucket exists). iamproof warns "known only after apply; ignored" and drops the policy:
    // the bucket has none, and Reader, whom only the policy names, "cannot" read.
    let dir = tempfile::tempdir().unwrap();
    let bucket_policy = policy(
        json!([{"Effect": "Allow", "Principal": {"AWS": arn("role", "Reader")},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::archive-7731/*"}]),
    );
    let config = json!({
        "resources": [
            reader_config(),
            {"address": "aws_s3_bucket_policy.archive", "mode": "managed", "type": "aws_s3_bucket_policy", "name": "archive",
             "expressions": {"bucket": {"references": ["module.store.bucket_id", "module.store"]},
                             "policy": {"constant_value": bucket_policy}}}],
        "module_calls": {"store": {"source": "./store", "module": {
            "outputs": {"bucket_id": {"expression": {"references": ["aws_s3_bucket.this.id", "aws_s3_bucket.this"]}}},
            "resources": [{"address": "aws_s3_bucket.this", "mode": "managed", "type": "aws_s3_bucket", "name": "this",
                           "expressions": {"bucket": {"constant_value": "archive-7731"}}}]}}}});
    let plan = write_plan(
        dir.path(),
        "bucket.json",
        json!([
            reader_role(),
            change(
                "aws_s3_bucket_policy.archive",
                "aws_s3_bucket_policy",
                &["create"],
                Value::Null,
                json!({"policy": bucket_policy}),
                json!({"bucket": true, "id": true})
            ),
            change(
                "module.store.aws_s3_bucket.this",
                "aws_s3_bucket",
                &["create"],
                Value::Null,
                json!({"bucket": "archive-7731", "force_destroy": false, "object_lock_enabled": false, "tags": null}),
                json!({"arn": true, "id": true, "policy": true, "acl": true, "grant": true, "tags_all": true,
                       "server_side_encryption_configuration": true, "versioning": true})
            ),
        ]),
        Some(config),
    );
    let run = can(
        None,
        &plan,
        &arn("role", "Reader"),
        "s3:GetObject",
        "arn:aws:s3:::archive-7731/x",
    );
    assert_not_unreachable(&run, "the bucket policy lets Reader read");
}

#[test]
fn deleting_a_key_policy_restores_the_default_key_policy() {
    // Destroying `aws_kms_key_policy` puts the default key policy back (provider
    // resourceKeyPolicyDelete: PutKeyPolicy with DefaultKMSKeyPolicy, which gives the account
    // `kms:*`): IAM policies decide again, and ArchiveBatchRole's allows kms:Decrypt on the key.
    // iamproof leaves the key with no policy and refutes.
    let dir = tempfile::tempdir().unwrap();
    let key = "8b2e4d17-c6a9-4f35-9d01-7a5c3e9b2f4d";
    let text: Value = serde_json::from_str(
        &std::fs::read_to_string(
            project_root()
                .join(SSE_KMS)
                .join("kms")
                .join(key)
                .join("policy.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let plan = write_plan(
        dir.path(),
        "key-policy.json",
        json!([change(
            "aws_kms_key_policy.archive",
            "aws_kms_key_policy",
            &["delete"],
            json!({"id": key, "key_id": key, "policy": text["Policy"], "bypass_policy_lockout_safety_check": false}),
            Value::Null,
            json!({})
        )]),
        None,
    );
    let run = can(
        Some(SSE_KMS),
        &plan,
        &arn("role", "ArchiveBatchRole"),
        "kms:Decrypt",
        &format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{key}"),
    );
    assert_not_unreachable(
        &run,
        "the default key policy delegates to IAM, which allows",
    );
}

#[test]
fn a_conditional_reference_is_not_resolved_to_its_first_branch() {
    // `policy_arn = var.restricted ? aws_iam_policy.none.arn : aws_iam_policy.read.arn`, with
    // `restricted = false`: the configuration lists both policies as references; iamproof
    // takes the first and attaches `none`. After apply the intern holds `read`.
    let dir = tempfile::tempdir().unwrap();
    let unknown = json!({"arn": true, "id": true, "policy_id": true, "attachment_count": true, "tags_all": true, "name_prefix": true});
    let config = json!({
        "variables": {"restricted": {"default": false}},
        "resources": [
            {"address": "aws_iam_policy.none", "mode": "managed", "type": "aws_iam_policy", "name": "none",
             "expressions": {"name": {"constant_value": "media-out-none"}, "policy": {"constant_value": "..."}}},
            {"address": "aws_iam_policy.read", "mode": "managed", "type": "aws_iam_policy", "name": "read",
             "expressions": {"name": {"constant_value": "media-out-read"}, "policy": {"constant_value": "..."}}},
            {"address": "aws_iam_user_policy_attachment.intern", "mode": "managed", "type": "aws_iam_user_policy_attachment", "name": "intern",
             "expressions": {"user": {"constant_value": "intern"},
                             "policy_arn": {"references": ["var.restricted", "aws_iam_policy.none.arn", "aws_iam_policy.none",
                                                           "aws_iam_policy.read.arn", "aws_iam_policy.read"]}}}]});
    let plan = write_plan(
        dir.path(),
        "conditional.json",
        json!([
            change(
                "aws_iam_policy.none",
                "aws_iam_policy",
                &["create"],
                Value::Null,
                json!({"name": "media-out-none", "path": "/", "description": null, "tags": null,
                       "policy": policy(json!([{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]))}),
                unknown.clone()
            ),
            change(
                "aws_iam_policy.read",
                "aws_iam_policy",
                &["create"],
                Value::Null,
                json!({"name": "media-out-read", "path": "/", "description": null, "tags": null,
                       "policy": policy(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::media-out/*"}]))}),
                unknown
            ),
            change(
                "aws_iam_user_policy_attachment.intern",
                "aws_iam_user_policy_attachment",
                &["create"],
                Value::Null,
                json!({"user": "intern"}),
                json!({"id": true, "policy_arn": true})
            ),
        ]),
        Some(config),
    );
    let run = can(
        Some(LEAST),
        &plan,
        &arn("user", "intern"),
        "s3:GetObject",
        "arn:aws:s3:::media-out/x",
    );
    assert_not_unreachable(&run, "either policy may be the one attached");
}

#[test]
fn an_attachment_moved_between_instance_keys_without_a_moved_block_is_not_refuted() {
    // count -> for_each without `moved`: Terraform deletes `[0]` and creates `["review"]`, the
    // same user and policy, with no ordering between the two (neither depends on the other).
    // If the create runs last the policy stays attached. iamproof applies them in the order of
    // the plan's listing (create, then delete) and proves the editor cannot read.
    let dir = tempfile::tempdir().unwrap();
    let review = arn("policy", "MediaOutReview");
    let plan = write_plan(
        dir.path(),
        "refactor.json",
        json!([
            change(
                r#"aws_iam_user_policy_attachment.editor["review"]"#,
                "aws_iam_user_policy_attachment",
                &["create"],
                Value::Null,
                json!({"user": "editor", "policy_arn": review}),
                json!({"id": true})
            ),
            change(
                "aws_iam_user_policy_attachment.editor[0]",
                "aws_iam_user_policy_attachment",
                &["delete"],
                json!({"id": "editor-2024", "user": "editor", "policy_arn": review}),
                Value::Null,
                json!({})
            ),
        ]),
        None,
    );
    let run = can(
        Some(LEAST),
        &plan,
        &arn("user", "editor"),
        "s3:GetObject",
        "arn:aws:s3:::media-out/x",
    );
    assert_not_unreachable(&run, "the attachment may survive the apply");
}

#[test]
fn a_public_read_acl_set_on_the_bucket_resource_is_not_refuted() {
    // The deprecated `acl` (and `grant`) arguments of `aws_s3_bucket` set the bucket ACL, as
    // `aws_s3_bucket_acl` does. iamproof lists `aws_s3_bucket_acl` as a granting type it does
    // not read (refutations unknown), but proves that nobody lists a bucket created with
    // `acl = "public-read"` and ObjectWriter ownership (ACLs enabled, no public access block).
    let dir = tempfile::tempdir().unwrap();
    let config = json!({"resources": [
        {"address": "aws_s3_bucket.pub", "mode": "managed", "type": "aws_s3_bucket", "name": "pub",
         "expressions": {"bucket": {"constant_value": "pub-7731"}, "acl": {"constant_value": "public-read"}}},
        {"address": "aws_s3_bucket_ownership_controls.pub", "mode": "managed", "type": "aws_s3_bucket_ownership_controls", "name": "pub",
         "expressions": {"bucket": {"constant_value": "pub-7731"}, "rule": [{"object_ownership": {"constant_value": "ObjectWriter"}}]}}]});
    let plan = write_plan(
        dir.path(),
        "acl.json",
        json!([
            change(
                "aws_s3_bucket.pub",
                "aws_s3_bucket",
                &["create"],
                Value::Null,
                json!({"bucket": "pub-7731", "acl": "public-read", "force_destroy": false, "tags": null}),
                json!({"id": true, "arn": true, "policy": true, "grant": true})
            ),
            change(
                "aws_s3_bucket_ownership_controls.pub",
                "aws_s3_bucket_ownership_controls",
                &["create"],
                Value::Null,
                json!({"bucket": "pub-7731", "rule": [{"object_ownership": "ObjectWriter"}]}),
                json!({"id": true})
            ),
        ]),
        Some(config),
    );
    let run = iamproof(&[
        "who-can",
        "--terraform",
        &plan,
        "--action",
        "s3:ListBucket",
        "--resource",
        "arn:aws:s3:::pub-7731",
    ]);
    assert_not_unreachable(&run, "the public-read ACL lets anyone list the bucket");
}

// --- wrong `reachable` without an assumption -------------------------------------------------

#[test]
fn a_permissions_boundary_known_only_after_apply_is_not_dropped() {
    // `permissions_boundary = module.guard.boundary_arn` (a policy the plan creates in a
    // module). The reference cannot be resolved; iamproof drops the boundary without marking the
    // user pending, and answers `reachable` with no assumption. After apply the boundary
    // allows only sts:GetCallerIdentity.
    let dir = tempfile::tempdir().unwrap();
    let before = json!({"name": "intern", "path": "/", "arn": arn("user", "intern"), "id": "intern",
        "unique_id": "AIDAINTERN", "force_destroy": false, "permissions_boundary": null, "tags": {}, "tags_all": {}});
    let config = json!({
        "resources": [{"address": "aws_iam_user.intern", "mode": "managed", "type": "aws_iam_user", "name": "intern",
            "expressions": {"name": {"constant_value": "intern"},
                            "permissions_boundary": {"references": ["module.guard.boundary_arn", "module.guard"]}}}],
        "module_calls": {"guard": {"source": "./guard", "module": {"resources": [
            {"address": "aws_iam_policy.boundary", "mode": "managed", "type": "aws_iam_policy", "name": "boundary",
             "expressions": {"name": {"constant_value": "caller-identity-only"}, "policy": {"constant_value": "..."}}}]}}}});
    let plan = write_plan(
        dir.path(),
        "boundary.json",
        json!([
            change(
                "aws_iam_user.intern",
                "aws_iam_user",
                &["update"],
                before.clone(),
                before,
                json!({"permissions_boundary": true})
            ),
            change(
                "module.guard.aws_iam_policy.boundary",
                "aws_iam_policy",
                &["create"],
                Value::Null,
                json!({"name": "caller-identity-only", "path": "/", "description": null, "tags": null,
                       "policy": policy(json!([{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]))}),
                json!({"arn": true, "id": true, "policy_id": true, "attachment_count": true, "tags_all": true})
            ),
        ]),
        Some(config),
    );
    let mut args = vec!["can", "--account", LEAST, "--terraform", &plan];
    let intern = arn("user", "intern");
    args.extend([
        "--principal",
        &intern,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::media-in/samples/a",
        "--format",
        "json",
    ]);
    let run = iamproof(&args);
    let answer: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    let assumptions = answer["assumptions"].as_array().map(Vec::len).unwrap_or(0);
    assert!(
        answer["verdict"] == "unknown" || assumptions > 0,
        "the boundary is unknown: the answer must be unknown or name it as an assumption: {answer:#}"
    );
}

// --- valid plans refused --------------------------------------------------------------------

#[test]
fn list_elements_known_only_after_apply_are_not_refused() {
    // Terraform prints an unknown element of a list or set as `null` in `after`, with
    // `after_unknown` marking it (`"users": [false, true]`), e.g. `users = ["intern",
    // aws_iam_user.new.name]` where the new user has a computed name. iamproof stops with
    // "expected a string, found null" (exit 2) on this valid plan.
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(
        dir.path(),
        "elements.json",
        json!([change(
            "aws_iam_policy_attachment.review",
            "aws_iam_policy_attachment",
            &["create"],
            Value::Null,
            json!({"name": "review", "policy_arn": arn("policy", "MediaOutReview"), "users": ["intern", null], "roles": null, "groups": null}),
            json!({"id": true, "users": [false, true]})
        )]),
        None,
    );
    let run = can(
        Some(LEAST),
        &plan,
        &arn("user", "intern"),
        "s3:GetObject",
        "arn:aws:s3:::media-out/x",
    );
    assert_ne!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("reachable"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn a_role_named_through_a_module_output_is_not_refused() {
    // `role = module.app.role_id` where the module creates the role: `role` is unknown in the
    // plan. iamproof stops with "role is missing" (exit 2) instead of marking the answer unknown.
    let dir = tempfile::tempdir().unwrap();
    let config = json!({
        "resources": [{"address": "aws_iam_role_policy.read", "mode": "managed", "type": "aws_iam_role_policy", "name": "read",
            "expressions": {"name": {"constant_value": "read"}, "role": {"references": ["module.app.role_id", "module.app"]},
                            "policy": {"constant_value": "..."}}}],
        "module_calls": {"app": {"source": "./app", "module": {"resources": [
            {"address": "aws_iam_role.this", "mode": "managed", "type": "aws_iam_role", "name": "this",
             "expressions": {"name": {"constant_value": "App"}, "assume_role_policy": {"constant_value": ec2_trust()}}}]}}}});
    let plan = write_plan(
        dir.path(),
        "module-role.json",
        json!([
            change(
                "module.app.aws_iam_role.this",
                "aws_iam_role",
                &["create"],
                Value::Null,
                json!({"name": "App", "path": "/", "assume_role_policy": ec2_trust(), "description": null,
                       "force_detach_policies": false, "max_session_duration": 3600, "permissions_boundary": null, "tags": null}),
                json!({"arn": true, "id": true, "unique_id": true, "create_date": true, "managed_policy_arns": true,
                       "inline_policy": true, "tags_all": true})
            ),
            change(
                "aws_iam_role_policy.read",
                "aws_iam_role_policy",
                &["create"],
                Value::Null,
                json!({"name": "read", "name_prefix": null,
                       "policy": policy(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]))}),
                json!({"role": true, "id": true})
            ),
        ]),
        Some(config),
    );
    let run = can(
        None,
        &plan,
        &arn("role", "App"),
        "s3:GetObject",
        "arn:aws:s3:::media-out/x",
    );
    assert_ne!(run.code, 2, "a valid plan: {}{}", run.stdout, run.stderr);
    assert_not_unreachable(&run, "the inline policy may be the App role's");
}

#[test]
fn an_empty_inline_policy_block_is_not_refused() {
    // `inline_policy {}` is the provider's documented way to remove every inline policy of a
    // role; SDKv2 stores the block's unset strings as "" (state: `[{"name": "", "policy": ""}]`).
    // iamproof parses the empty policy and stops with "not valid JSON" (exit 2).
    let dir = tempfile::tempdir().unwrap();
    let state = json!({"format_version": "1.0", "terraform_version": "1.9.5", "values": {"root_module": {"resources": [
        {"address": "aws_iam_role.locked", "mode": "managed", "type": "aws_iam_role", "name": "locked",
         "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
         "values": {"name": "Locked", "path": "/", "arn": arn("role", "Locked"), "id": "Locked", "unique_id": "AROALOCKED",
                    "assume_role_policy": ec2_trust(), "description": "", "force_detach_policies": false,
                    "max_session_duration": 3600, "name_prefix": "", "permissions_boundary": "", "tags": {}, "tags_all": {},
                    "create_date": "2024-01-01T00:00:00Z",
                    "inline_policy": [{"name": "", "policy": ""}], "managed_policy_arns": []}}]}}});
    let path = dir.path().join("state.json");
    std::fs::write(&path, state.to_string()).unwrap();
    let run = can(
        None,
        path.to_str().unwrap(),
        &arn("role", "Locked"),
        "s3:GetObject",
        "arn:aws:s3:::media-out/x",
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("unreachable"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}
