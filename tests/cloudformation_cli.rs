//! CloudFormation templates as input (`--template`): the least-privilege example account as a
//! template answers as its snapshot does; parameters and conditions decide what a template
//! grants; values resolved only at deployment leave the answers that depend on them
//! `unknown`; names CloudFormation chooses are placeholders that a policy pattern may tell
//! apart; macros and unread types leave refutations `unknown`; bad templates are exit 2 with
//! the file, the JSON path and the YAML line.
//!
//! Semantics from the CloudFormation template reference: intrinsic functions
//! (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html),
//! pseudo parameters (.../pseudo-parameter-reference.html), `Ref` of AWS::IAM::ManagedPolicy is
//! its ARN (.../aws-resource-iam-managedpolicy.html), a role without `RoleName` gets a name
//! CloudFormation generates (.../aws-resource-iam-role.html).

mod common;

use common::{iamproof, project_root};
use serde_json::{json, Value};
use std::path::Path;

const LEAST: &str = "models/mediaconvert-least-privilege";
const PIPELINE: &str = "tests/fixtures/cloudformation/pipeline.yaml";
const TEMPLATE: &str = "tests/fixtures/cloudformation/least-privilege.template.json";
const ACCOUNT: &str = "111122223333";
const INTERN: &str = "arn:aws:iam::111122223333:user/intern";
const EDITOR: &str = "arn:aws:iam::111122223333:user/editor";

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

#[test]
fn the_example_account_as_a_template_answers_as_its_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(project_root().join("proofs/mediaconvert-least-privilege.json"))
            .unwrap();
    let mut proofs: Value = serde_json::from_str(&text).unwrap();
    let object = proofs.as_object_mut().unwrap();
    object.remove("accounts");
    object.insert("templates".into(), json!([project_root().join(TEMPLATE)]));
    object.insert("account_id".into(), json!(ACCOUNT));
    object.insert("region".into(), json!("us-east-1"));
    let file = dir.path().join("proofs.json");
    std::fs::write(&file, proofs.to_string()).unwrap();

    let snapshot = iamproof(&[
        "prove",
        "proofs/mediaconvert-least-privilege.json",
        "--format",
        "json",
    ]);
    let template = iamproof(&["prove", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(template.code, 0, "{}{}", template.stdout, template.stderr);
    assert_eq!(results(&template), results(&snapshot));
}

fn can(args: &[&str]) -> common::Run {
    let mut all = vec!["can"];
    all.extend_from_slice(args);
    iamproof(&all)
}

#[test]
fn parameters_and_conditions_decide_what_a_template_grants() {
    let ask = |extra: &[&str]| {
        let mut args = vec![
            "--template",
            PIPELINE,
            "--account-id",
            ACCOUNT,
            "--region",
            "us-east-1",
            "--principal",
            INTERN,
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::finance/*",
        ];
        args.extend_from_slice(extra);
        can(&args)
    };
    // In prod, the intern reads only the outputs.
    let prod = ask(&[]);
    assert_eq!(prod.code, 0, "{}{}", prod.stdout, prod.stderr);
    assert!(prod.stdout.starts_with("unreachable"), "{}", prod.stdout);
    // Elsewhere, `!If [IsProd, ..., '*']` gives it every object.
    let dev = ask(&["--parameter", "Env=dev"]);
    assert!(dev.stdout.starts_with("reachable"), "{}", dev.stdout);
    assert!(
        dev.stdout.contains("intern#inline/intern-sandbox"),
        "{}",
        dev.stdout
    );
    // A parameter the template does not declare is a usage mistake.
    let typo = ask(&["--parameter", "Enviroment=dev"]);
    assert_eq!(typo.code, 2, "{}{}", typo.stdout, typo.stderr);
    assert!(typo.stderr.contains("Enviroment"), "{}", typo.stderr);
}

#[test]
fn a_template_over_a_snapshot_is_a_what_if() {
    let run = iamproof(&[
        "what-if",
        "--account",
        LEAST,
        "--template",
        PIPELINE,
        "--stack-name",
        "media-pipeline",
        "--parameter",
        "Env=dev",
        "--principal",
        INTERN,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::finance/*",
        "--fail-on-new-access",
    ]);
    assert_eq!(
        run.code, 1,
        "new access fails the gate: {}{}",
        run.stdout, run.stderr
    );
    assert!(run.stdout.contains("CHANGED"), "{}", run.stdout);
    let run = iamproof(&[
        "what-if",
        "--account",
        LEAST,
        "--template",
        PIPELINE,
        "--stack-name",
        "media-pipeline",
        "--principal",
        INTERN,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::finance/*",
        "--fail-on-new-access",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// Writes a YAML template to `dir`.
fn template(dir: &Path, text: &str) -> String {
    let path = dir.join("template.yaml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const WRITER_ROLE: &str = r#"
Resources:
  Writer:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:user/intern'}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: write
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: s3:PutObject
                Resource: POLICY_RESOURCE
"#;

#[test]
fn a_value_resolved_only_at_deployment_makes_answers_through_it_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let path = template(
        dir.path(),
        &WRITER_ROLE.replace("POLICY_RESOURCE", "!ImportValue shared-bucket-arn"),
    );
    let run = can(&[
        "--account",
        LEAST,
        "--template",
        &path,
        "--stack-name",
        "media-extras",
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
            .contains("Fn::ImportValue is resolved only at deployment")
            || run.stdout.contains("Writer"),
        "{}",
        run.stdout
    );
    // Resolved, the same role gives the intern the bucket it names, and no other.
    let path = template(
        dir.path(),
        &WRITER_ROLE.replace("POLICY_RESOURCE", "arn:aws:s3:::media-in/*"),
    );
    let media_in = can(&[
        "--account",
        LEAST,
        "--template",
        &path,
        "--stack-name",
        "media-extras",
        "--principal",
        INTERN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-in/*",
    ]);
    assert!(
        media_in.stdout.starts_with("reachable"),
        "{}{}",
        media_in.stdout,
        media_in.stderr
    );
    let finance = can(&[
        "--account",
        LEAST,
        "--template",
        &path,
        "--stack-name",
        "media-extras",
        "--principal",
        INTERN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert!(
        finance.stdout.starts_with("unreachable"),
        "{}{}",
        finance.stdout,
        finance.stderr
    );
}

#[test]
fn a_name_cloudformation_chooses_is_a_placeholder_that_patterns_may_tell_apart() {
    let dir = tempfile::tempdir().unwrap();
    let path = template(
        dir.path(),
        &WRITER_ROLE.replace("POLICY_RESOURCE", "arn:aws:s3:::media-in/*"),
    );
    // The role has no RoleName: its ARN is stack-Writer-<chosen>, and the witness shows the
    // placeholder.
    let run = can(&[
        "--account",
        LEAST,
        "--template",
        &path,
        "--stack-name",
        "media",
        "--principal",
        INTERN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-in/*",
    ]);
    assert!(
        run.stdout.starts_with("reachable"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout.contains("role/media-Writer-GENERATED-Writer"),
        "{}",
        run.stdout
    );

    // A deny on roles whose name ends in "-legacy" may or may not match the chosen name: a
    // refutation is unknown, and says why.
    let denied = WRITER_ROLE.replace("POLICY_RESOURCE", "arn:aws:s3:::media-in/*").replace(
        "                Resource: arn:aws:s3:::media-in/*\n",
        "                Resource: arn:aws:s3:::media-in/*\n  Guard:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      Roles: [!Ref Writer]\n      PolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Deny\n            Action: s3:PutObject\n            Resource: '*'\n            Condition:\n              ArnLike: {aws:PrincipalArn: 'arn:aws:iam::*:role/*-legacy'}\n",
    );
    let path = template(dir.path(), &denied);
    let run = can(&[
        "--account",
        LEAST,
        "--template",
        &path,
        "--stack-name",
        "media",
        "--principal",
        INTERN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("its name is chosen at creation"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("*-legacy"), "{}", run.stdout);
}

#[test]
fn macros_and_types_that_may_grant_but_are_not_read_leave_refutations_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let path = template(dir.path(), "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: index.handler}\n");
    let run = can(&[
        "--account",
        LEAST,
        "--template",
        &path,
        "--stack-name",
        "media-extras",
        "--principal",
        INTERN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Transform"), "{}", run.stdout);
    // A topic grants nothing here: the refutation stands.
    let path = template(
        dir.path(),
        "Resources:\n  Alerts:\n    Type: AWS::SNS::Topic\n",
    );
    let run = can(&[
        "--account",
        LEAST,
        "--template",
        &path,
        "--stack-name",
        "media-extras",
        "--principal",
        INTERN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("unreachable"), "{}", run.stdout);
}

#[test]
fn bad_templates_name_the_file_the_path_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = template(
        dir.path(),
        &WRITER_ROLE
            .replace("POLICY_RESOURCE", "arn:aws:s3:::media-in/*")
            .replace(
                "Effect: Allow\n                Action: s3:PutObject",
                "Effect: Allow\n                Acton: s3:PutObject",
            ),
    );
    let run = can(&[
        "--account",
        LEAST,
        "--template",
        &path,
        "--stack-name",
        "media-extras",
        "--principal",
        INTERN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let message = run.stderr.replace(dir.path().to_str().unwrap(), "DIR");
    insta::assert_snapshot!("bad_template_policy", message);

    let path = template(dir.path(), "Resources:\n  Role: [unclosed\n");
    let run = can(&[
        "--account",
        LEAST,
        "--template",
        &path,
        "--stack-name",
        "media-extras",
        "--principal",
        INTERN,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    // The message names the line: `template.yaml:3: not YAML: ...`.
    assert!(
        run.stderr.contains("template.yaml:3: not YAML"),
        "{}",
        run.stderr
    );

    let path = template(dir.path(), "Description: no resources\n");
    let run = can(&[
        "--account",
        LEAST,
        "--template",
        &path,
        "--stack-name",
        "media-extras",
        "--principal",
        EDITOR,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("Resources"), "{}", run.stderr);
}

#[test]
fn a_stack_update_that_leaves_out_a_snapshot_policy_leaves_its_principal_undecided() {
    // The pipeline template declares the editor with MediaConvertSubmit only; the snapshot's
    // editor also holds MediaOutReview, which the update removes only if the stack's previous
    // template declared it.
    let run = can(&[
        "--account",
        LEAST,
        "--template",
        PIPELINE,
        "--stack-name",
        "media-pipeline",
        "--principal",
        EDITOR,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::media-out/*",
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("may remove policies the snapshot holds"),
        "{}",
        run.stdout
    );
    // The intern, declared with the one policy the snapshot holds, is answered.
    let run = can(&[
        "--account",
        LEAST,
        "--template",
        PIPELINE,
        "--stack-name",
        "media-pipeline",
        "--principal",
        INTERN,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::media-out/*",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// `AWS::Organizations::Policy` is read as the Terraform rows read an organization policy and
/// its attachments: `Content` (an object or JSON text), `Type`, `TargetIds` (roots, OUs or
/// accounts) (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-organizations-policy.html).
/// The account is a member: its snapshot's `organizations/organization.json` names another
/// management account.
#[test]
fn an_scp_of_a_template_attached_to_the_account_restricts_it() {
    let dir = tempfile::tempdir().unwrap();
    let member = dir.path().join("member");
    copy_tree(&project_root().join(LEAST), &member);
    std::fs::write(
        {
            std::fs::create_dir_all(member.join("organizations")).unwrap();
            member.join("organizations/organization.json")
        },
        json!({"Organization": {"Id": "o-a1b2c3d4e5", "MasterAccountId": "999988887777"}})
            .to_string(),
    )
    .unwrap();
    let member = member.display().to_string();
    let scp = |kind: &str, targets: &str| {
        format!(
            r#"
Parameters:
  Target:
    Type: String
Resources:
  MediaFreeze:
    Type: AWS::Organizations::Policy
    Properties:
      Name: media-freeze
      Type: {kind}
      TargetIds: {targets}
      Content:
        Version: '2012-10-17'
        Statement:
          - Effect: Deny
            Action: s3:PutObject
            Resource: arn:aws:s3:::media-out/*
"#
        )
    };
    let ask = |path: &str| {
        can(&[
            "--account",
            &member,
            "--template",
            path,
            "--stack-name",
            "media-extras",
            "--principal",
            EDITOR,
            "--action",
            "s3:PutObject",
            "--resource",
            "arn:aws:s3:::media-out/*",
        ])
    };
    let path = template(
        dir.path(),
        &scp("SERVICE_CONTROL_POLICY", "['111122223333']"),
    );
    let run = ask(&path);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("unreachable"), "{}", run.stdout);
    // Attached elsewhere, or nowhere: the write stays reachable.
    for targets in ["['444455556666']", "[]"] {
        let path = template(dir.path(), &scp("SERVICE_CONTROL_POLICY", targets));
        let run = ask(&path);
        assert_eq!(run.code, 0, "{targets}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.starts_with("reachable"), "{}", run.stdout);
    }
    // A tag policy grants and denies nothing: no refutation becomes unknown either.
    let path = template(dir.path(), &scp("TAG_POLICY", "['111122223333']"));
    let run = ask(&path);
    assert!(run.stdout.starts_with("reachable"), "{}", run.stdout);
    // A target resolved only at deployment may be on the account's path.
    let path = template(dir.path(), &scp("SERVICE_CONTROL_POLICY", "[!Ref Target]"));
    let run = ask(&path);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("MediaFreeze.TargetIds"),
        "{}",
        run.stdout
    );
}

/// A stack that makes organization policies runs in the management account (or a delegated
/// administrator's), and SCPs do not restrict the management account
/// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html):
/// an SCP the template attaches to its own account, when no `organizations/organization.json`
/// says which account manages the organization, may restrict nothing.
#[test]
fn an_scp_of_a_template_attached_to_its_own_account_of_no_known_organization_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let path = template(
        dir.path(),
        "Resources:\n  MediaFreeze:\n    Type: AWS::Organizations::Policy\n    Properties:\n      Name: media-freeze\n      Type: SERVICE_CONTROL_POLICY\n      TargetIds: ['111122223333']\n      Content:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Deny\n            Action: s3:PutObject\n            Resource: arn:aws:s3:::media-out/*\n",
    );
    let run = can(&[
        "--account",
        LEAST,
        "--template",
        &path,
        "--stack-name",
        "media-extras",
        "--principal",
        EDITOR,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-out/*",
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "the stack's own account, which may be the organization's management account"
        ),
        "{}",
        run.stdout
    );
}

/// The pipeline template without the resource `logical`.
fn pipeline_without(logical: &str) -> String {
    let text = std::fs::read_to_string(project_root().join(PIPELINE)).unwrap();
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let top = line.starts_with("  ") && !line.starts_with("   ");
        if top {
            skipping = line == format!("  {logical}:");
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(out.len() < text.len(), "the pipeline has {logical}");
    out
}

/// A stack update deletes the stack's resources that the new template no longer holds
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html:
/// "this capability also applies to stack update operations that lead to resources being deleted"),
/// unless their `DeletionPolicy` retains them. The snapshot lists the stack's resources
/// (`cloudformation/stacks/media-pipeline.json`, `list-stack-resources`,
/// https://docs.aws.amazon.com/AWSCloudFormationAPIReference/latest/APIReference/API_ListStackResources.html).
#[test]
fn a_stack_update_that_drops_a_restriction_leaves_refutations_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let ask = |template: &str, stack: Option<&str>, account: &str| {
        let mut args = vec!["--account", account, "--template", template];
        if let Some(stack) = stack {
            args.extend(["--stack-name", stack]);
        }
        args.extend([
            "--principal",
            INTERN,
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::finance/*",
        ]);
        can(&args)
    };
    // The bucket policy of finance, with its deny, is deleted by the update.
    let path = template(dir.path(), &pipeline_without("FinancePolicy"));
    let run = ask(&path, Some("media-pipeline"), LEAST);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "the update deletes FinancePolicy (AWS::S3::BucketPolicy) of stack media-pipeline"
        ),
        "{}",
        run.stdout
    );
    // A new stack deletes nothing.
    let run = ask(&path, Some("media-extras"), LEAST);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("unreachable"), "{}", run.stdout);
    // Dropping a user only takes away what the user could do: the refutation stands.
    let path = template(dir.path(), &pipeline_without("Intern"));
    let run = ask(&path, Some("media-pipeline"), LEAST);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("unreachable"), "{}", run.stdout);
    // Which stack is updated, or what it holds, not known: any restriction may be deleted.
    let run = ask(PIPELINE, None, LEAST);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("without --stack-name"),
        "{}",
        run.stdout
    );
    let run = ask(
        PIPELINE,
        Some("media-pipeline"),
        "models/mediaconvert-default",
    );
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("does not record its CloudFormation stacks"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_stack_listing_that_is_not_list_stack_resources_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    };
    for file in [
        "caller-identity.json",
        "iam/account-authorization-details.json",
    ] {
        copy(&project_root().join(LEAST).join(file), &snapshot.join(file));
    }
    let stacks = snapshot.join("cloudformation/stacks");
    std::fs::create_dir_all(&stacks).unwrap();
    std::fs::write(
        stacks.join("media-pipeline.json"),
        r#"{"StackResourceSummaries": [{"LogicalResourceId": 3, "ResourceType": "AWS::IAM::Role"}]}"#,
    )
    .unwrap();
    let account = snapshot.display().to_string();
    let run = can(&[
        "--account",
        &account,
        "--template",
        PIPELINE,
        "--stack-name",
        "media-pipeline",
        "--principal",
        INTERN,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::finance/*",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("media-pipeline.json")
            && run
                .stderr
                .contains("StackResourceSummaries[0].LogicalResourceId"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// Copies a snapshot folder.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// An update that keeps a stack's policy but names fewer principals takes it from the others
/// (when the stack put it there): a deny it held on them may be lifted.
#[test]
fn a_stack_policy_the_update_takes_from_a_principal_leaves_its_refutations_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    copy_tree(&project_root().join(LEAST), &snapshot);
    // The stack also holds InternGuard, an inline policy that denies the intern finance.
    let details_path = snapshot.join("iam/account-authorization-details.json");
    let mut details: Value =
        serde_json::from_str(&std::fs::read_to_string(&details_path).unwrap()).unwrap();
    let guard = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
        "Action": "s3:*", "Resource": "arn:aws:s3:::finance/*"}]});
    for user in details["UserDetailList"].as_array_mut().unwrap() {
        if user["UserName"] == "intern" {
            user["UserPolicyList"]
                .as_array_mut()
                .unwrap()
                .push(json!({"PolicyName": "intern-guard", "PolicyDocument": guard}));
        }
    }
    std::fs::write(&details_path, details.to_string()).unwrap();
    let listing_path = snapshot.join("cloudformation/stacks/media-pipeline.json");
    let mut listing: Value =
        serde_json::from_str(&std::fs::read_to_string(&listing_path).unwrap()).unwrap();
    listing["StackResourceSummaries"]
        .as_array_mut()
        .unwrap()
        .push(json!({
        "LogicalResourceId": "InternGuard", "PhysicalResourceId": "media-Inter-1A2B3C4D5E6F",
        "ResourceType": "AWS::IAM::Policy", "ResourceStatus": "CREATE_COMPLETE"}));
    std::fs::write(&listing_path, listing.to_string()).unwrap();
    let pipeline = std::fs::read_to_string(project_root().join(PIPELINE)).unwrap();
    let with_guard_on = |users: &str| {
        format!(
            "{pipeline}  InternGuard:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyName: intern-guard\n      Users: {users}\n      PolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Deny\n            Action: 's3:*'\n            Resource: arn:aws:s3:::finance/*\n"
        )
    };
    let account = snapshot.display().to_string();
    let ask = |template: &str| {
        can(&[
            "--account",
            &account,
            "--template",
            template,
            "--stack-name",
            "media-pipeline",
            "--principal",
            INTERN,
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::finance/*",
        ])
    };
    let path = template(dir.path(), &with_guard_on("[!Ref Editor]"));
    let run = ask(&path);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "the update of InternGuard (AWS::IAM::Policy) of stack media-pipeline may take inline policy intern-guard from arn:aws:iam::111122223333:user/intern"
        ),
        "{}",
        run.stdout
    );
    // Still on the intern: the deny stays, and the refutation stands.
    let path = template(dir.path(), &with_guard_on("[!Ref Intern, !Ref Editor]"));
    let run = ask(&path);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("unreachable"), "{}", run.stdout);
}

/// A stack's `AWS::Organizations::Policy` (physical id `p-freeze0001`) that the member's
/// snapshot lists at its own level without describing it: the template's policy of the same
/// logical id takes its place. A target `TargetIds` no longer names may be detached, which
/// lifts what the policy denied there: the write is not refuted. Still attached, the template's
/// content (a `Deny` of the write) refutes it.
#[test]
fn an_undescribed_organization_policy_the_stack_updates_keeps_no_old_target() {
    let dir = tempfile::tempdir().unwrap();
    let member = dir.path().join("member");
    copy_tree(&project_root().join(LEAST), &member);
    std::fs::create_dir_all(member.join("organizations/scps")).unwrap();
    std::fs::copy(
        project_root()
            .join("models/mediaconvert-cross-account/organizations/scps/p-FullAWSAccess.json"),
        member.join("organizations/scps/p-FullAWSAccess.json"),
    )
    .unwrap();
    std::fs::write(
        member.join("organizations/targets.json"),
        json!({"levels": [{"id": "r-a1b2", "policies": ["p-FullAWSAccess"]},
                          {"id": ACCOUNT, "policies": ["p-FullAWSAccess", "p-freeze0001"]}]})
        .to_string(),
    )
    .unwrap();
    let management = dir.path().join("management");
    std::fs::create_dir_all(management.join("iam")).unwrap();
    std::fs::create_dir_all(management.join("organizations")).unwrap();
    std::fs::create_dir_all(management.join("cloudformation/stacks")).unwrap();
    for (file, value) in [
        (
            "caller-identity.json",
            json!({"UserId": "AIDAMANAGEMENT", "Account": "999988887777",
                   "Arn": "arn:aws:iam::999988887777:user/admin"}),
        ),
        (
            "iam/account-authorization-details.json",
            json!({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}),
        ),
        (
            "organizations/organization.json",
            json!({"Organization": {"Id": "o-a1b2c3d4e5", "MasterAccountId": "999988887777"}}),
        ),
        (
            "cloudformation/stacks/org-guard.json",
            json!({"StackResourceSummaries": [{"LogicalResourceId": "MediaFreeze",
                "PhysicalResourceId": "p-freeze0001", "ResourceType": "AWS::Organizations::Policy",
                "ResourceStatus": "CREATE_COMPLETE"}]}),
        ),
    ] {
        std::fs::write(management.join(file), value.to_string()).unwrap();
    }
    std::fs::write(management.join("region.txt"), "us-east-1\n").unwrap();
    let (member, management) = (
        member.display().to_string(),
        management.display().to_string(),
    );
    let ask = |targets: &str| {
        let path = template(
            dir.path(),
            &format!("Resources:\n  MediaFreeze:\n    Type: AWS::Organizations::Policy\n    Properties:\n      Name: media-freeze\n      Type: SERVICE_CONTROL_POLICY\n      TargetIds: {targets}\n      Content:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Deny\n            Action: s3:PutObject\n            Resource: arn:aws:s3:::media-out/*\n"),
        );
        can(&[
            "--account",
            &member,
            "--account",
            &management,
            "--account-id",
            "999988887777",
            "--template",
            &path,
            "--stack-name",
            "org-guard",
            "--principal",
            EDITOR,
            "--action",
            "s3:PutObject",
            "--resource",
            "arn:aws:s3:::media-out/*",
        ])
    };
    let run = ask("[]");
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("may take p-freeze0001 from 111122223333"),
        "{}",
        run.stdout
    );
    let run = ask("['111122223333']");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("unreachable"), "{}", run.stdout);
}

/// A role the stack made with a name CloudFormation chose keeps that name when the update keeps
/// it (the listing's physical id): the template is read as an update of that role, not as a new
/// one beside it. The snapshot's role holds an inline `Deny` of the write the template no longer
/// declares, which the update may delete: the write is not refuted.
#[test]
fn a_kept_role_with_a_chosen_name_is_the_listed_role() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    copy_tree(&project_root().join(LEAST), &snapshot);
    let details_path = snapshot.join("iam/account-authorization-details.json");
    let mut details: Value =
        serde_json::from_str(&std::fs::read_to_string(&details_path).unwrap()).unwrap();
    let guard = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::media-out/*"}]});
    for role in details["RoleDetailList"].as_array_mut().unwrap() {
        if role["RoleName"] == "MediaConvertRole" {
            role["RolePolicyList"]
                .as_array_mut()
                .unwrap()
                .push(json!({"PolicyName": "guard", "PolicyDocument": guard}));
        }
    }
    std::fs::write(&details_path, details.to_string()).unwrap();
    std::fs::create_dir_all(snapshot.join("cloudformation/stacks")).unwrap();
    std::fs::write(
        snapshot.join("cloudformation/stacks/roles.json"),
        json!({"StackResourceSummaries": [{"LogicalResourceId": "Role",
            "PhysicalResourceId": "MediaConvertRole", "ResourceType": "AWS::IAM::Role",
            "ResourceStatus": "CREATE_COMPLETE"}]})
        .to_string(),
    )
    .unwrap();
    let account = snapshot.display().to_string();
    let ask = || {
        let path = template(
            dir.path(),
            "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n            Principal: {Service: mediaconvert.amazonaws.com}\n            Action: sts:AssumeRole\n",
        );
        can(&[
            "--account",
            &account,
            "--template",
            &path,
            "--stack-name",
            "roles",
            "--principal",
            EDITOR,
            "--action",
            "s3:PutObject",
            "--resource",
            "arn:aws:s3:::media-out/*",
        ])
    };
    // Without the template, the guard refutes the write.
    let run = can(&[
        "--account",
        &account,
        "--principal",
        EDITOR,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-out/*",
    ]);
    assert!(run.stdout.starts_with("unreachable"), "{}", run.stdout);
    let run = ask();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("the stack update may remove policies"),
        "{}",
        run.stdout
    );
}
