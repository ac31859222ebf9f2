//! Terraform plans as input (`--terraform`), on fixtures written by
//! `tests/fixtures/terraform/generate.py` from the least-privilege example model: the same
//! account as a snapshot, as a plan and as a state gives the same answers; a pull request's plan
//! over the snapshot shows the access it adds; values known only after apply make the answers
//! that depend on them `unknown` (principals) or an assumption (bucket policies); resources that
//! may grant but are not read make refutations `unknown`; bad plans are exit 2 with the file,
//! the JSON path and the resource address.
//!
//! The plan format is Terraform's JSON output format
//! (https://developer.hashicorp.com/terraform/internals/json-format): `resource_changes[]` with
//! `change.before`, `change.after` and `change.after_unknown`, and `configuration` with each
//! attribute's `references`.

mod common;

use common::{iamproof, project_root};
use serde_json::{json, Value};
use std::path::Path;

const LEAST: &str = "models/mediaconvert-least-privilege";
const PLAN: &str = "tests/fixtures/terraform/least-privilege.plan.json";
const STATE: &str = "tests/fixtures/terraform/least-privilege.state.json";
const WIDEN: &str = "tests/fixtures/terraform/widen-passrole.plan.json";
const PENDING: &str = "tests/fixtures/terraform/unknown-policy.plan.json";
const EDITOR: &str = "arn:aws:iam::111122223333:user/editor";
const INTERN: &str = "arn:aws:iam::111122223333:user/intern";
const LAMBDA_ROLE: &str = "arn:aws:iam::111122223333:role/LambdaRole";

/// The example proof file, with its accounts replaced by `sources`, written to `dir`.
fn proof_file_over(dir: &Path, name: &str, sources: Value) -> String {
    let text =
        std::fs::read_to_string(project_root().join("proofs/mediaconvert-least-privilege.json"))
            .expect("the example proof file");
    let mut proofs: Value = serde_json::from_str(&text).expect("the example proof file is JSON");
    let object = proofs.as_object_mut().expect("an object");
    object.remove("accounts");
    for (key, value) in sources.as_object().expect("sources are an object") {
        object.insert(key.clone(), value.clone());
    }
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&proofs).unwrap()).unwrap();
    path.display().to_string()
}

/// Proof results as JSON, without the file each came from.
fn results(run: &common::Run) -> Value {
    let mut value: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", run.stdout, run.stderr));
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("file");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    value
}

fn absolute(path: &str) -> String {
    project_root().join(path).display().to_string()
}

#[test]
fn the_same_account_as_snapshot_plan_and_state_gives_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = iamproof(&[
        "prove",
        "proofs/mediaconvert-least-privilege.json",
        "--format",
        "json",
    ]);
    assert_eq!(snapshot.code, 0, "{}", snapshot.stderr);
    let expected = results(&snapshot);
    for fixture in [PLAN, STATE] {
        let file = proof_file_over(
            dir.path(),
            "proofs.json",
            json!({"terraform": [absolute(fixture)]}),
        );
        let run = iamproof(&["prove", &file, "--format", "json"]);
        assert_eq!(run.code, 0, "{fixture}: {}{}", run.stdout, run.stderr);
        assert_eq!(
            results(&run),
            expected,
            "{fixture} answers otherwise than the snapshot"
        );
    }
}

#[test]
fn prove_takes_a_plan_on_the_command_line_over_the_proof_files_accounts() {
    // The pull request lets editors run code as the finance role: the proof that editors
    // cannot touch finance fails, with the Lambda chain as its counterexample.
    let run = iamproof(&[
        "prove",
        "proofs/mediaconvert-least-privilege.json",
        "--terraform",
        WIDEN,
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("FAIL editors cannot touch finance"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("lambda-create-invoke"),
        "{}",
        run.stdout
    );
    // Without the plan, the same proof holds.
    let run = iamproof(&["prove", "proofs/mediaconvert-least-privilege.json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn what_if_a_pull_request_shows_the_access_it_adds() {
    let run = iamproof(&[
        "what-if",
        "--account",
        LEAST,
        "--terraform",
        WIDEN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("what_if_widen_passrole", run.stdout);
}

#[test]
fn what_if_a_plan_that_changes_nothing_that_matters_changes_no_answer() {
    // The state lists the account's resources unchanged: no answer moves.
    let run = iamproof(&[
        "what-if",
        "--account",
        LEAST,
        "--terraform",
        STATE,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("no resource changes"), "{}", run.stdout);
    assert!(run.stdout.contains(", 0 changed"), "{}", run.stdout);
}

#[test]
fn a_policy_known_only_after_apply_makes_answers_through_its_principal_unknown() {
    let run = iamproof(&[
        "can",
        "--account",
        LEAST,
        "--terraform",
        PENDING,
        "--principal",
        LAMBDA_ROLE,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-in/*",
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("unknown"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("aws_iam_role_policy.exports.policy, known only after apply"),
        "{}",
        run.stdout
    );
    // A principal the pending value does not touch is answered as before.
    let run = iamproof(&[
        "can",
        "--account",
        LEAST,
        "--terraform",
        PENDING,
        "--principal",
        INTERN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-in/*",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("unreachable"), "{}", run.stdout);
}

#[test]
fn a_bucket_policy_known_only_after_apply_is_an_assumption_of_the_answer() {
    let run = iamproof(&[
        "can",
        "--account",
        LEAST,
        "--terraform",
        PENDING,
        "--principal",
        INTERN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-exports/*",
        "--format",
        "json",
    ]);
    let answer: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    assert_eq!(answer["verdict"], "reachable", "{answer:#}");
    let assumptions = answer["assumptions"].to_string();
    assert!(
        assumptions.contains("aws_s3_bucket_policy.exports.policy"),
        "the witness names the pending attribute: {assumptions}"
    );
    // The same bucket with its policy known: no one outside the policy writes it.
    let dir = tempfile::tempdir().unwrap();
    let mut plan: Value =
        serde_json::from_str(&std::fs::read_to_string(project_root().join(PENDING)).unwrap())
            .unwrap();
    for change in plan["resource_changes"].as_array_mut().unwrap() {
        if change["type"] == "aws_s3_bucket_policy" {
            change["change"]["after"]["policy"] = json!(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/LambdaRole"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::media-exports/*"}]}"#
            );
            change["change"]["after_unknown"] = json!({"id": true});
        }
    }
    let known = dir.path().join("known.json");
    std::fs::write(&known, plan.to_string()).unwrap();
    let run = iamproof(&[
        "can",
        "--account",
        LEAST,
        "--terraform",
        known.to_str().unwrap(),
        "--principal",
        INTERN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-exports/*",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("unreachable"), "{}", run.stdout);
}

/// A minimal plan acting in the example account, with `changes` as its `resource_changes`.
fn plan_with(dir: &Path, changes: Value) -> String {
    let plan = json!({
        "format_version": "1.2",
        "resource_changes": changes,
        "prior_state": {"values": {"root_module": {"resources": [
            {"address": "data.aws_caller_identity.current", "mode": "data", "type": "aws_caller_identity",
             "name": "current", "values": {"account_id": "111122223333"}}]}}},
    });
    let path = dir.join("plan.json");
    std::fs::write(&path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    path.display().to_string()
}

fn created(address: &str, kind: &str, after: Value) -> Value {
    json!({"address": address, "mode": "managed", "type": kind, "name": address.rsplit('.').next(),
           "change": {"actions": ["create"], "before": null, "after": after, "after_unknown": {}}})
}

#[test]
fn a_resource_that_may_grant_but_is_not_read_makes_refutations_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_with(
        dir.path(),
        json!([
            created(
                "aws_iam_role_policies_exclusive.intern",
                "aws_iam_role_policies_exclusive",
                json!({"role_name": "LambdaRole", "policy_names": []})
            ),
            created(
                "aws_sns_topic.alerts",
                "aws_sns_topic",
                json!({"name": "alerts"})
            ),
        ]),
    );
    let run = iamproof(&[
        "can",
        "--account",
        LEAST,
        "--terraform",
        &plan,
        "--principal",
        INTERN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("aws_iam_role_policies_exclusive.intern is not read"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("aws_sns_topic"),
        "a topic grants nothing here: {}",
        run.stdout
    );
    // A reachable answer does not depend on what is not read.
    let run = iamproof(&[
        "can",
        "--account",
        LEAST,
        "--terraform",
        &plan,
        "--principal",
        EDITOR,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-out/*",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn an_attachment_of_a_policy_the_plan_creates_is_resolved_through_the_configuration() {
    // The plan attaches a new policy to the intern; its ARN is known only after apply, and the
    // configuration says it is the new policy's.
    let dir = tempfile::tempdir().unwrap();
    let mut attachment = created(
        "aws_iam_user_policy_attachment.intern_finance",
        "aws_iam_user_policy_attachment",
        json!({"user": "intern"}),
    );
    attachment["change"]["after_unknown"] = json!({"id": true, "policy_arn": true});
    let mut plan: Value = json!({
        "format_version": "1.2",
        "resource_changes": [
            created("aws_iam_policy.finance_writer", "aws_iam_policy", json!({
                "name": "finance-writer", "path": "/",
                "policy": r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::finance/*"}]}"#})),
            attachment,
        ],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_iam_user_policy_attachment.intern_finance", "mode": "managed",
             "type": "aws_iam_user_policy_attachment", "name": "intern_finance",
             "expressions": {"user": {"constant_value": "intern"},
                             "policy_arn": {"references": ["aws_iam_policy.finance_writer.arn", "aws_iam_policy.finance_writer"]}}}]}},
    });
    plan["prior_state"] = json!({"values": {"root_module": {"resources": []}}});
    let path = dir.path().join("plan.json");
    std::fs::write(&path, plan.to_string()).unwrap();
    let run = iamproof(&[
        "can",
        "--account",
        LEAST,
        "--terraform",
        path.to_str().unwrap(),
        "--principal",
        INTERN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("reachable"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("allowed by arn:aws:iam::111122223333:policy/finance-writer"),
        "{}",
        run.stdout
    );

    // Without the configuration the attachment's policy cannot be told: the intern's answers
    // are unknown, never unreachable.
    plan.as_object_mut().unwrap().remove("configuration");
    std::fs::write(&path, plan.to_string()).unwrap();
    let run = iamproof(&[
        "can",
        "--account",
        LEAST,
        "--terraform",
        path.to_str().unwrap(),
        "--principal",
        INTERN,
        "--action",
        "s3:DeleteObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("aws_iam_user_policy_attachment.intern_finance.policy_arn"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_deleted_resource_is_gone_after_the_plan() {
    // The plan deletes the editor's review policy attachment: editors no longer read outputs.
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_with(
        dir.path(),
        json!([{
        "address": "aws_iam_user_policy_attachment.editor_review", "mode": "managed",
        "type": "aws_iam_user_policy_attachment", "name": "editor_review",
        "change": {"actions": ["delete"], "after": null, "after_unknown": {},
                   "before": {"user": "editor", "policy_arn": "arn:aws:iam::111122223333:policy/MediaOutReview"}}}]),
    );
    let ask = |extra: &[&str]| {
        let mut args = vec![
            "can",
            "--account",
            LEAST,
            "--principal",
            EDITOR,
            "--action",
            "s3:ListBucket",
            "--resource",
            "arn:aws:s3:::media-out",
        ];
        args.extend_from_slice(extra);
        iamproof(&args)
    };
    let before = ask(&[]);
    assert!(before.stdout.starts_with("reachable"), "{}", before.stdout);
    let after = ask(&["--terraform", &plan]);
    assert!(
        after.stdout.starts_with("unreachable"),
        "{}{}",
        after.stdout,
        after.stderr
    );
}

#[test]
fn a_plan_alone_without_an_account_is_refused_unless_given_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    std::fs::write(
        &path,
        json!({"format_version": "1.2", "resource_changes": [
        created("aws_iam_user.dev", "aws_iam_user", json!({"name": "dev", "path": "/"}))]})
        .to_string(),
    )
    .unwrap();
    let plan = path.to_str().unwrap();
    let ask = |extra: &[&str]| {
        let mut args = vec![
            "can",
            "--terraform",
            plan,
            "--principal",
            "arn:aws:iam::444455556666:user/dev",
            "--action",
            "s3:PutObject",
            "--resource",
            "arn:aws:s3:::finance/*",
        ];
        args.extend_from_slice(extra);
        iamproof(&args)
    };
    let run = ask(&[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("--account-id"), "{}", run.stderr);
    let run = ask(&["--account-id", "444455556666"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("unreachable"), "{}", run.stdout);
}

#[test]
fn bad_plans_name_the_file_the_json_path_and_the_resource() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_with(
        dir.path(),
        json!([created(
            "aws_iam_role_policy.broken",
            "aws_iam_role_policy",
            json!({
            "role": "LambdaRole", "name": "broken",
            "policy": r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}"#})
        )]),
    );
    let run = iamproof(&[
        "can",
        "--account",
        LEAST,
        "--terraform",
        &plan,
        "--principal",
        LAMBDA_ROLE,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let message = run.stderr.replace(dir.path().to_str().unwrap(), "DIR");
    insta::assert_snapshot!("bad_plan_policy", message);

    let path = dir.path().join("future.json");
    std::fs::write(
        &path,
        r#"{"format_version": "2.0", "resource_changes": []}"#,
    )
    .unwrap();
    let run = iamproof(&[
        "can",
        "--terraform",
        path.to_str().unwrap(),
        "--principal",
        LAMBDA_ROLE,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("format_version"), "{}", run.stderr);

    std::fs::write(
        &path,
        r#"{"format_version": "1.2", "resource_changes": [{"address": 3}]}"#,
    )
    .unwrap();
    let run = iamproof(&[
        "can",
        "--terraform",
        path.to_str().unwrap(),
        "--account-id",
        "111122223333",
        "--principal",
        LAMBDA_ROLE,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("resource_changes[0].address"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_resource_type_read_is_documented() {
    let doc = std::fs::read_to_string(project_root().join("docs/terraform-and-cloudformation.md"))
        .expect("the document");
    let kinds = iamproof::terraform::resource_types_read()
        .chain(iamproof::cloudformation::resource_types_read());
    for kind in kinds {
        assert!(
            doc.contains(&format!("`{kind}`")),
            "{kind} is read but not documented"
        );
    }
}

#[test]
fn the_terraform_workflow_proves_the_plan_and_posts_the_summary() {
    let workflow =
        std::fs::read_to_string(project_root().join("docs/github-actions/iamproof-terraform.yml"))
            .expect("the workflow");
    for step in [
        "terraform show -json plan.bin",
        "iamproof prove proofs/*.json --terraform plan.json --format markdown",
        "--format sarif",
        "gh pr comment",
        "upload-sarif",
    ] {
        assert!(workflow.contains(step), "the workflow lacks {step}");
    }
}
