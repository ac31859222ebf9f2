//! Review 12: adversarial inputs for organization policies in Terraform plans and CloudFormation
//! templates, and for templates read as stack updates over a snapshot
//! (`cloudformation/stacks/<name>.json`).
//!
//! Every test asserts what AWS would do. Tests marked `#[ignore = "defect: ..."]` show a defect
//! of the change under review (they fail when run with `--ignored`); the others show an attack
//! that held up.
//!
//! The snapshots are copies of `models/mediaconvert-least-privilege` (account 111122223333,
//! where `user/editor` reaches `s3:PutObject` on `media-out` through a MediaConvert job), with a
//! guard added: a `Deny` of `mediaconvert:CreateJob` (the first hop of that path) in an inline
//! or managed policy of the editor, or a `Deny` of `s3:PutObject` on `media-out/*` in an SCP.
//! Lifting the guard makes the write reachable again.

mod common;

use common::{iamproof, project_root, Run};
use serde_json::{json, Value};
use std::path::Path;

const LEAST: &str = "models/mediaconvert-least-privilege";
const CROSS: &str = "models/mediaconvert-cross-account";
const PARTNER: &str = "models/mediaconvert-cross-account-partner";
const EDITOR: &str = "arn:aws:iam::111122223333:user/editor";
const MEDIA_OUT: &str = "arn:aws:s3:::media-out/*";
const MANAGEMENT: &str = "999988887777";
const GENERATED: &str = "arn:aws:iam::111122223333:policy/guard-DenyWrites-1A2B3C4D5E6F";

fn verdict(run: &Run) -> &str {
    run.stdout.split(':').next().unwrap_or_default()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn write_json(path: &Path, value: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

fn write_text(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// A `list-stack-resources` output: (logical id, physical id, type).
fn listing(resources: &[(&str, &str, &str)]) -> Value {
    let summaries: Vec<Value> = resources
        .iter()
        .map(|(logical, physical, kind)| {
            json!({"LogicalResourceId": logical, "PhysicalResourceId": physical,
                   "ResourceType": kind, "ResourceStatus": "CREATE_COMPLETE",
                   "LastUpdatedTimestamp": "2026-11-30T09:12:44.512000+00:00"})
        })
        .collect();
    json!({ "StackResourceSummaries": summaries })
}

fn guard_document() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "Guard", "Effect": "Deny",
           "Action": "mediaconvert:CreateJob", "Resource": "*"}]})
}

#[derive(Clone, Copy)]
enum Guard {
    /// `deny-writes`, an inline policy of the editor.
    Inline,
    /// A managed policy with a name CloudFormation chose (`guard-DenyWrites-...`) attached to
    /// the editor.
    Managed,
}

/// The least-privilege snapshot with `guard` on the editor and `stacks` (name, listing) as its
/// recorded stacks (the snapshot's own `media-pipeline` stack is kept).
fn snapshot(dir: &Path, name: &str, guard: Guard, stacks: &[(&str, Value)]) -> String {
    let root = dir.join(name);
    copy_dir(&project_root().join(LEAST), &root);
    let details = root.join("iam/account-authorization-details.json");
    let mut value: Value =
        serde_json::from_str(&std::fs::read_to_string(&details).unwrap()).unwrap();
    if let Guard::Managed = guard {
        value["Policies"].as_array_mut().unwrap().push(json!({
            "PolicyName": "guard-DenyWrites-1A2B3C4D5E6F", "PolicyId": "ANPAGUARD0000000001",
            "Arn": GENERATED, "Path": "/", "DefaultVersionId": "v1", "AttachmentCount": 1,
            "IsAttachable": true,
            "PolicyVersionList": [{"Document": guard_document(), "VersionId": "v1", "IsDefaultVersion": true}]
        }));
    }
    for user in value["UserDetailList"].as_array_mut().unwrap() {
        if user["UserName"] != "editor" {
            continue;
        }
        match guard {
            Guard::Managed => user["AttachedManagedPolicies"]
                .as_array_mut()
                .unwrap()
                .push(
                    json!({"PolicyName": "guard-DenyWrites-1A2B3C4D5E6F", "PolicyArn": GENERATED}),
                ),
            Guard::Inline => {
                let list = user
                    .as_object_mut()
                    .unwrap()
                    .entry("UserPolicyList")
                    .or_insert(json!([]));
                list.as_array_mut()
                    .unwrap()
                    .push(json!({"PolicyName": "deny-writes", "PolicyDocument": guard_document()}));
            }
        }
    }
    write_json(&details, &value);
    for (stack, resources) in stacks {
        write_json(
            &root.join(format!("cloudformation/stacks/{stack}.json")),
            resources,
        );
    }
    root.display().to_string()
}

fn can_write(extra: &[&str]) -> Run {
    let mut args = vec!["can"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[
        "--principal",
        EDITOR,
        "--action",
        "s3:PutObject",
        "--resource",
        MEDIA_OUT,
    ]);
    iamproof(&args)
}

/// Not `unreachable`: AWS allows the write (reachable), or iamproof may say it does not know.
fn assert_not_refuted(run: &Run) {
    assert!(
        run.code == 3 || verdict(run) == "reachable",
        "AWS allows the write, so it must not be refuted:\n{}{}",
        run.stdout,
        run.stderr
    );
    assert_ne!(verdict(run), "unreachable", "{}", run.stdout);
}

// ------------------------------------------------------------------ CloudFormation: stack updates

/// Sanity: with the guard in place and no template, the write is refuted; without the guard
/// (the plain least-privilege snapshot) it is reachable.
#[test]
fn the_guards_decide_the_write() {
    let dir = tempfile::tempdir().unwrap();
    for guard in [Guard::Inline, Guard::Managed] {
        let snap = snapshot(dir.path(), &format!("{}", guard as u8), guard, &[]);
        let run = can_write(&["--account", &snap]);
        assert_eq!(verdict(&run), "unreachable", "{}{}", run.stdout, run.stderr);
    }
    let run = can_write(&["--account", LEAST]);
    assert_eq!(verdict(&run), "reachable", "{}{}", run.stdout, run.stderr);
}

const USER_POLICY: &str = r#"
Resources:
  DenyInline:
    Type: AWS::IAM::UserPolicy
    Properties:
      PolicyName: NAME
      UserName: USER
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Sid: Guard
            Effect: Deny
            Action: ACTION
            Resource: '*'
"#;

fn user_policy(name: &str, user: &str, action: &str) -> String {
    USER_POLICY
        .replace("NAME", name)
        .replace("USER", user)
        .replace("ACTION", action)
}

/// `AWS::IAM::UserPolicy`: `PolicyName` and `UserName` are "Update requires: Replacement"
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-userpolicy.html);
/// on replacement CloudFormation creates the new resource and deletes the old one
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html),
/// i.e. `DeleteUserPolicy` of the old name on the old user. The editor's `deny-writes` is gone.
#[test]
fn a_user_policy_replaced_under_the_same_logical_id_takes_the_old_deny_away() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot(
        dir.path(),
        "snap",
        Guard::Inline,
        &[(
            "guard",
            listing(&[(
                "DenyInline",
                "guar-Deny-ABCDEF123456",
                "AWS::IAM::UserPolicy",
            )]),
        )],
    );
    // Renamed (and narrowed); then moved to another user with the same name and content.
    for text in [
        user_policy("deny-deletes", "editor", "mediaconvert:DeleteQueue"),
        user_policy("deny-writes", "intern", "mediaconvert:CreateJob"),
    ] {
        let template = write_text(dir.path(), "guard.yaml", &text);
        let run = can_write(&[
            "--account",
            &snap,
            "--template",
            &template,
            "--stack-name",
            "guard",
        ]);
        assert_not_refuted(&run);
    }
}

/// `AWS::IAM::Policy` (inline policy on `Users`): a new `PolicyName` puts the new policy and
/// deletes the old name from the principals (the resource's physical id is a generated id, not
/// the policy name), so the editor's `deny-writes` is gone.
#[test]
fn an_iam_policy_renamed_under_the_same_logical_id_takes_the_old_deny_away() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot(
        dir.path(),
        "snap",
        Guard::Inline,
        &[(
            "guard",
            listing(&[("DenyInline", "guar-Deny-ABCDEF123456", "AWS::IAM::Policy")]),
        )],
    );
    let template = write_text(
        dir.path(),
        "guard.yaml",
        r#"
Resources:
  DenyInline:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: deny-deletes
      Users: [editor]
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Sid: Guard
            Effect: Deny
            Action: mediaconvert:DeleteQueue
            Resource: '*'
"#,
    );
    let run = can_write(&[
        "--account",
        &snap,
        "--template",
        &template,
        "--stack-name",
        "guard",
    ]);
    assert_not_refuted(&run);
}

const MANAGED: &str = r#"
Resources:
  DenyWrites:
    Type: AWS::IAM::ManagedPolicy
    Properties:
NAME      Users: [editor]
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Sid: Guard
            Effect: Deny
            Action: mediaconvert:DeleteQueue
            Resource: '*'
"#;

/// `AWS::IAM::ManagedPolicy`: a new `PolicyDocument` is "Update requires: No interruption" (a new
/// default version of the same policy, whose ARN is the physical id the listing gives), and a
/// new `ManagedPolicyName` is "Replacement" (the old policy is detached and deleted)
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-managedpolicy.html).
/// Either way the old `Deny` of `mediaconvert:CreateJob` no longer applies to the editor. The
/// listing names the old policy's ARN, so which snapshot policy the template updates is known.
#[test]
fn a_managed_policy_updated_or_replaced_under_the_same_logical_id_takes_the_old_deny_away() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot(
        dir.path(),
        "snap",
        Guard::Managed,
        &[(
            "guard",
            listing(&[("DenyWrites", GENERATED, "AWS::IAM::ManagedPolicy")]),
        )],
    );
    for name in ["", "      ManagedPolicyName: guard-deny-deletes\n"] {
        let template = write_text(dir.path(), "guard.yaml", &MANAGED.replace("NAME", name));
        let run = can_write(&[
            "--account",
            &snap,
            "--template",
            &template,
            "--stack-name",
            "guard",
        ]);
        assert_not_refuted(&run);
    }
}

/// `cloudformation/stacks/` holds the stacks of the snapshot's region only (collect.sh lists
/// them in `$REGION`; docs/snapshot-layout.md: "one file per stack of the region"). A template
/// deployed with `--region us-west-2` over a us-east-1 snapshot may update a stack of that name
/// in us-west-2, whose resources are not recorded; IAM is global, so dropping its inline `Deny`
/// lifts the guard. Reading the unlisted stack as a new one refutes the write.
#[test]
fn a_stack_of_another_region_is_not_known_to_be_new() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot(
        dir.path(),
        "snap",
        Guard::Inline,
        &[(
            "other",
            listing(&[("Other", "media-in", "AWS::S3::Bucket")]),
        )],
    );
    let template = write_text(
        dir.path(),
        "guard.yaml",
        "Resources:\n  Queue:\n    Type: AWS::MediaConvert::Queue\n    Properties:\n      Name: guard-queue\n",
    );
    let run = can_write(&[
        "--account",
        &snap,
        "--template",
        &template,
        "--stack-name",
        "guard",
        "--region",
        "us-west-2",
    ]);
    assert_not_refuted(&run);
}

/// A `list-stack-resources` file with a `NextToken` is one page of a longer listing (collected
/// with `--max-items` or `--no-paginate`): the stack's other resources are not known, as a
/// truncated authorization details file is handled (IsTruncated). Here the `DenyInline` the
/// template drops is on the missing page.
#[test]
fn a_stack_listing_with_a_next_token_is_not_the_whole_stack() {
    let dir = tempfile::tempdir().unwrap();
    let mut page = listing(&[("Queue", "guard-queue", "AWS::MediaConvert::Queue")]);
    page["NextToken"] = json!("eyJOZXh0VG9rZW4iOiBudWxsfQ==");
    let snap = snapshot(dir.path(), "snap", Guard::Inline, &[("guard", page)]);
    let template = write_text(
        dir.path(),
        "guard.yaml",
        "Resources:\n  Queue:\n    Type: AWS::MediaConvert::Queue\n    Properties:\n      Name: guard-queue\n",
    );
    let run = can_write(&[
        "--account",
        &snap,
        "--template",
        &template,
        "--stack-name",
        "guard",
    ]);
    assert_not_refuted(&run);
}

/// Held up: a template that drops the stack's `AWS::IAM::UserPolicy`, a template without
/// `--stack-name`, a snapshot without `cloudformation/stacks/`, a kept logical id with another
/// type, and a kept resource whose `Condition` cannot be decided all leave the write `unknown`.
#[test]
fn dropped_retyped_unnamed_and_undecided_updates_leave_the_write_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let stack = [(
        "guard",
        listing(&[(
            "DenyInline",
            "guar-Deny-ABCDEF123456",
            "AWS::IAM::UserPolicy",
        )]),
    )];
    let snap = snapshot(dir.path(), "snap", Guard::Inline, &stack);
    let dropped = write_text(
        dir.path(),
        "dropped.yaml",
        "Resources:\n  Queue:\n    Type: AWS::MediaConvert::Queue\n    Properties:\n      Name: guard-queue\n",
    );
    let run = can_write(&[
        "--account",
        &snap,
        "--template",
        &dropped,
        "--stack-name",
        "guard",
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("the update deletes DenyInline"),
        "{}",
        run.stdout
    );
    // The same logical id, now an AWS::IAM::Policy: the old UserPolicy is deleted.
    let retyped = write_text(
        dir.path(),
        "retyped.yaml",
        r#"
Resources:
  DenyInline:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: deny-deletes
      Users: [intern]
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Deny
            Action: mediaconvert:DeleteQueue
            Resource: '*'
"#,
    );
    let run = can_write(&[
        "--account",
        &snap,
        "--template",
        &retyped,
        "--stack-name",
        "guard",
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    // Without --stack-name.
    let same = write_text(
        dir.path(),
        "same.yaml",
        &user_policy("deny-writes", "editor", "mediaconvert:CreateJob"),
    );
    let run = can_write(&["--account", &snap, "--template", &dropped]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("without --stack-name"),
        "{}",
        run.stdout
    );
    // Unchanged, the guard stays: refuted.
    let run = can_write(&[
        "--account",
        &snap,
        "--template",
        &same,
        "--stack-name",
        "guard",
    ]);
    assert_eq!(verdict(&run), "unreachable", "{}{}", run.stdout, run.stderr);
    // A snapshot that does not record its stacks.
    let bare = snapshot(dir.path(), "bare", Guard::Inline, &[]);
    std::fs::remove_dir_all(Path::new(&bare).join("cloudformation")).unwrap();
    let run = can_write(&[
        "--account",
        &bare,
        "--template",
        &same,
        "--stack-name",
        "guard",
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("does not record its CloudFormation stacks"),
        "{}",
        run.stdout
    );
    // A kept resource whose Condition cannot be decided may be deleted.
    let undecided = write_text(
        dir.path(),
        "undecided.yaml",
        &format!(
            "Parameters:\n  Guard:\n    Type: String\nConditions:\n  Guarded: !Equals [!Ref Guard, 'yes']\n{}",
            user_policy("deny-writes", "editor", "mediaconvert:CreateJob")
                .replace("    Type: AWS::IAM::UserPolicy\n", "    Type: AWS::IAM::UserPolicy\n    Condition: Guarded\n")
                .trim_start()
        ),
    );
    let run = can_write(&[
        "--account",
        &snap,
        "--template",
        &undecided,
        "--stack-name",
        "guard",
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
}

/// Held up: malformed stack listings exit 2 naming the file and the JSON path; no panic.
#[test]
fn malformed_stack_listings_exit_2_with_the_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let template = write_text(
        dir.path(),
        "guard.yaml",
        "Resources:\n  Queue:\n    Type: AWS::MediaConvert::Queue\n    Properties:\n      Name: guard-queue\n",
    );
    let cases: &[(&str, &str)] = &[
        ("", "not valid JSON"),
        ("not json", "not valid JSON"),
        ("[]", "expected an object"),
        ("{}", "StackResourceSummaries: missing"),
        (
            r#"{"StackResourceSummaries": {}}"#,
            "StackResourceSummaries: expected a list",
        ),
        (
            r#"{"StackResourceSummaries": [{}]}"#,
            "StackResourceSummaries[0].LogicalResourceId: missing",
        ),
        (
            r#"{"StackResourceSummaries": [{"LogicalResourceId": "X", "ResourceType": 5}]}"#,
            "StackResourceSummaries[0].ResourceType: expected a string",
        ),
        (
            r#"{"StackResourceSummaries": [{"LogicalResourceId": "X", "ResourceType": "AWS::IAM::Policy", "PhysicalResourceId": 7}]}"#,
            "StackResourceSummaries[0].PhysicalResourceId: expected a string",
        ),
    ];
    for (i, (text, message)) in cases.iter().enumerate() {
        let snap = snapshot(dir.path(), &format!("bad{i}"), Guard::Inline, &[]);
        let file = Path::new(&snap).join("cloudformation/stacks/guard.json");
        std::fs::write(&file, text).unwrap();
        let run = can_write(&[
            "--account",
            &snap,
            "--template",
            &template,
            "--stack-name",
            "guard",
        ]);
        assert_eq!(run.code, 2, "{text}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("cloudformation/stacks/guard.json"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(message), "{text}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

// ------------------------------------------------------------------ CloudFormation: organization policies

/// A member-account snapshot (the least-privilege one with root `r-a1b2` and its own level, both
/// with `FullAWSAccess`, and `p-freeze0001` denying `s3:PutObject` on `media-out/*` at the
/// account) and the management account's snapshot, which records stack `org-guard` holding
/// `MediaFreeze` = `p-freeze0001`.
fn organization(dir: &Path) -> (String, String) {
    let member = dir.join("member");
    copy_dir(&project_root().join(LEAST), &member);
    std::fs::copy(
        project_root()
            .join(CROSS)
            .join("organizations/scps/p-FullAWSAccess.json"),
        {
            std::fs::create_dir_all(member.join("organizations/scps")).unwrap();
            member.join("organizations/scps/p-FullAWSAccess.json")
        },
    )
    .unwrap();
    let content = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Freeze", "Effect": "Deny",
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::media-out/*"}]});
    write_json(
        &member.join("organizations/scps/p-freeze0001.json"),
        &json!({"Policy": {"PolicySummary": {"Id": "p-freeze0001",
            "Arn": "arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-freeze0001",
            "Name": "media-freeze", "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": false},
            "Content": content.to_string()}}),
    );
    write_json(
        &member.join("organizations/targets.json"),
        &json!({"levels": [{"id": "r-a1b2", "policies": ["p-FullAWSAccess"]},
                           {"id": "111122223333", "policies": ["p-FullAWSAccess", "p-freeze0001"]}]}),
    );
    let management = dir.join("management");
    write_json(
        &management.join("caller-identity.json"),
        &json!({"UserId": "AIDAMANAGEMENT", "Account": MANAGEMENT,
                "Arn": "arn:aws:iam::999988887777:user/admin"}),
    );
    std::fs::write(management.join("region.txt"), "us-east-1\n").unwrap();
    write_json(
        &management.join("iam/account-authorization-details.json"),
        &json!({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}),
    );
    write_json(
        &management.join("organizations/organization.json"),
        &json!({"Organization": {"Id": "o-a1b2c3d4e5", "MasterAccountId": MANAGEMENT}}),
    );
    write_json(
        &management.join("cloudformation/stacks/org-guard.json"),
        &listing(&[("MediaFreeze", "p-freeze0001", "AWS::Organizations::Policy")]),
    );
    (
        member.display().to_string(),
        management.display().to_string(),
    )
}

const MEDIA_FREEZE: &str = r#"
Resources:
  MediaFreeze:
    Type: AWS::Organizations::Policy
    Properties:
      Name: media-freeze
      Type: TYPE
      TargetIds: TARGETS
      Content:
        Version: '2012-10-17'
        Statement:
          - Sid: Freeze
            Effect: Deny
            Action: ACTION
            Resource: arn:aws:s3:::media-out/*
"#;

fn media_freeze(kind: &str, targets: &str, action: &str) -> String {
    MEDIA_FREEZE
        .replace("TYPE", kind)
        .replace("TARGETS", targets)
        .replace("ACTION", action)
}

fn org_update(member: &str, management: &str, template: &str) -> Run {
    can_write(&[
        "--account",
        member,
        "--account",
        management,
        "--account-id",
        MANAGEMENT,
        "--template",
        template,
        "--stack-name",
        "org-guard",
    ])
}

/// `AWS::Organizations::Policy`: `Content` and `TargetIds` are "Update requires: No
/// interruption" (UpdatePolicy / DetachPolicy on the same policy, whose id is the physical id
/// the listing gives), and `Type` is "Replacement"
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-organizations-policy.html).
/// The stack's `p-freeze0001` denies the write today; the update narrows it to
/// `s3:DeleteObject`, detaches it (`TargetIds: []`), or replaces it with a tag policy. In all
/// three the write is allowed after the update. iamproof adds the template's policy as a new
/// `p-MediaFreeze` and leaves `p-freeze0001` attached with its old content.
#[test]
fn an_organization_policy_updated_in_its_stack_keeps_no_old_content_or_target() {
    let dir = tempfile::tempdir().unwrap();
    let (member, management) = organization(dir.path());
    let run = can_write(&["--account", &member, "--account", &management]);
    assert_eq!(verdict(&run), "unreachable", "{}{}", run.stdout, run.stderr);
    for text in [
        media_freeze(
            "SERVICE_CONTROL_POLICY",
            "['111122223333']",
            "s3:DeleteObject",
        ),
        media_freeze("SERVICE_CONTROL_POLICY", "[]", "s3:PutObject"),
        media_freeze("TAG_POLICY", "['111122223333']", "s3:PutObject"),
    ] {
        let template = write_text(dir.path(), "org-guard.yaml", &text);
        let run = org_update(&member, &management, &template);
        assert_not_refuted(&run);
    }
}

/// Held up: the stack's organization policy dropped from the template is deleted: `unknown`.
#[test]
fn an_organization_policy_dropped_from_its_stack_leaves_the_write_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let (member, management) = organization(dir.path());
    let template = write_text(
        dir.path(),
        "org-guard.yaml",
        "Resources:\n  Queue:\n    Type: AWS::MediaConvert::Queue\n    Properties:\n      Name: guard-queue\n",
    );
    let run = org_update(&member, &management, &template);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("MediaFreeze (AWS::Organizations::Policy)"),
        "{}",
        run.stdout
    );
}

// ------------------------------------------------------------------ Terraform: organization policies

fn change(address: &str, actions: &[&str], before: Value, after: Value, unknown: Value) -> Value {
    let mut parts = address.rsplitn(3, '.');
    let name = parts.next().unwrap();
    let kind = parts.next().unwrap();
    json!({"address": address, "mode": "managed", "type": kind, "name": name,
           "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown}})
}

fn plan(
    dir: &Path,
    name: &str,
    account: &str,
    changes: Value,
    configuration: Option<Value>,
) -> String {
    let mut plan = json!({
        "format_version": "1.2",
        "resource_changes": changes,
        "prior_state": {"values": {"root_module": {"resources": [
            {"address": "data.aws_caller_identity.current", "mode": "data", "type": "aws_caller_identity",
             "name": "current", "values": {"account_id": account}}]}}},
    });
    if let Some(configuration) = configuration {
        plan["configuration"] = configuration;
    }
    let path = dir.join(name);
    write_json(&path, &plan);
    path.display().to_string()
}

fn freeze_content(action: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "Freeze", "Effect": "Deny",
           "Action": action, "Resource": "arn:aws:s3:::media-out/*"}]})
    .to_string()
}

/// A plan that makes user `ops` (allowed `s3:PutObject` on `media-out/*`) and attaches an SCP
/// denying it to `account`, the plan's own account. Only the management account or a delegated
/// administrator can call `AttachPolicy` (https://docs.aws.amazon.com/organizations/latest/APIReference/API_AttachPolicy.html),
/// and "SCPs don't affect users or roles in the management account"
/// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html):
/// a plan that manages organization policies usually runs in the management account, and an
/// SCP attached to it changes nothing there. Nothing in the input says the account is not the
/// management account, so the write cannot be refuted.
fn self_attaching_plan(dir: &Path, account: &str) -> String {
    let allow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::media-out/*"}]});
    plan(
        dir,
        &format!("self-{account}.json"),
        account,
        json!([
            change(
                "aws_iam_user.ops",
                &["create"],
                Value::Null,
                json!({"name": "ops", "path": "/", "arn": format!("arn:aws:iam::{account}:user/ops")}),
                json!({"id": true, "unique_id": true})
            ),
            change(
                "aws_iam_user_policy.ops",
                &["create"],
                Value::Null,
                json!({"name": "put", "user": "ops", "policy": allow.to_string()}),
                json!({"id": true})
            ),
            change(
                "aws_organizations_policy.freeze",
                &["create"],
                Value::Null,
                json!({"id": "p-freeze0002", "name": "freeze", "type": "SERVICE_CONTROL_POLICY",
                       "content": freeze_content("s3:PutObject")}),
                json!({"arn": true})
            ),
            change(
                "aws_organizations_policy_attachment.self",
                &["create"],
                Value::Null,
                json!({"policy_id": "p-freeze0002", "target_id": account}),
                json!({"id": true})
            ),
        ]),
        None,
    )
}

#[test]
fn an_scp_attached_to_the_plans_own_account_may_restrict_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // The plan alone.
    let path = self_attaching_plan(dir.path(), MANAGEMENT);
    let run = iamproof(&[
        "can",
        "--terraform",
        &path,
        "--principal",
        "arn:aws:iam::999988887777:user/ops",
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-out/x",
    ]);
    assert_not_refuted(&run);
    // Over a snapshot of the same account that has no organization files.
    let path = self_attaching_plan(dir.path(), "111122223333");
    let run = iamproof(&[
        "can",
        "--account",
        LEAST,
        "--terraform",
        &path,
        "--principal",
        "arn:aws:iam::111122223333:user/ops",
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-out/x",
    ]);
    assert_not_refuted(&run);
}

/// Held up: over a snapshot whose `organizations/organization.json` names the account as the
/// management account, the same SCP restricts nothing.
#[test]
fn an_scp_attached_to_a_known_management_account_restricts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, management) = organization(dir.path());
    let path = self_attaching_plan(dir.path(), MANAGEMENT);
    let run = iamproof(&[
        "can",
        "--account",
        &management,
        "--terraform",
        &path,
        "--principal",
        "arn:aws:iam::999988887777:user/ops",
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-out/x",
    ]);
    assert_eq!(verdict(&run), "reachable", "{}{}", run.stdout, run.stderr);
}

/// Held up: the member snapshot's `p-freeze0001` (Deny `s3:PutObject` on `media-out/*`)
/// replaced by a narrower policy (delete + create, with its attachment), updated in place,
/// changed to a tag policy (replacement, as `type` forces), detached, or deleted: the write is
/// allowed after each, and iamproof does not refute it.
#[test]
fn terraform_narrowing_detaching_or_retyping_a_deny_scp_is_not_refuted() {
    let dir = tempfile::tempdir().unwrap();
    let (member, management) = organization(dir.path());
    let old = json!({"id": "p-freeze0001",
        "arn": "arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-freeze0001",
        "name": "media-freeze", "type": "SERVICE_CONTROL_POLICY",
        "content": freeze_content("s3:PutObject"), "skip_destroy": false});
    let attachment = json!({"id": "111122223333:p-freeze0001", "policy_id": "p-freeze0001",
        "target_id": "111122223333", "skip_destroy": null});
    let configuration = json!({"root_module": {"resources": [
        {"address": "aws_organizations_policy.freeze", "mode": "managed",
         "type": "aws_organizations_policy", "name": "freeze", "expressions": {}},
        {"address": "aws_organizations_policy_attachment.freeze", "mode": "managed",
         "type": "aws_organizations_policy_attachment", "name": "freeze",
         "expressions": {"policy_id": {"references": ["aws_organizations_policy.freeze.id",
                                                       "aws_organizations_policy.freeze"]},
                         "target_id": {"constant_value": "111122223333"}}}]}});
    let replaced = |after: Value| {
        json!([
            change(
                "aws_organizations_policy.freeze",
                &["delete", "create"],
                old.clone(),
                after,
                json!({"id": true, "arn": true})
            ),
            change(
                "aws_organizations_policy_attachment.freeze",
                &["delete", "create"],
                attachment.clone(),
                json!({"target_id": "111122223333", "skip_destroy": null}),
                json!({"id": true, "policy_id": true})
            ),
        ])
    };
    let mut narrowed = old.clone();
    narrowed["content"] = json!(freeze_content("s3:DeleteObject"));
    let plans = [
        (
            "replaced",
            replaced(
                json!({"name": "media-freeze", "type": "SERVICE_CONTROL_POLICY",
                "content": freeze_content("s3:DeleteObject"), "skip_destroy": false}),
            ),
        ),
        (
            "retyped",
            replaced(json!({"name": "media-freeze", "type": "TAG_POLICY",
                "content": json!({"tags": {}}).to_string(), "skip_destroy": false})),
        ),
        (
            "narrowed",
            json!([change(
                "aws_organizations_policy.freeze",
                &["update"],
                old.clone(),
                narrowed,
                json!({})
            )]),
        ),
        (
            "detached",
            json!([change(
                "aws_organizations_policy_attachment.freeze",
                &["delete"],
                attachment.clone(),
                Value::Null,
                json!({})
            )]),
        ),
        (
            "deleted",
            json!([change(
                "aws_organizations_policy.freeze",
                &["delete"],
                old.clone(),
                Value::Null,
                json!({})
            )]),
        ),
    ];
    for (name, changes) in plans {
        let path = plan(
            dir.path(),
            &format!("{name}.json"),
            MANAGEMENT,
            changes,
            Some(configuration.clone()),
        );
        let run = can_write(&[
            "--account",
            &member,
            "--account",
            &management,
            "--terraform",
            &path,
        ]);
        assert_not_refuted(&run);
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
    }
}

/// Held up: an RCP restricts requests to the resources of the account it is attached to,
/// whoever calls (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html):
/// attached to the caller's account it does not stop a write to a bucket of another account;
/// attached to the bucket's account it does.
#[test]
fn an_rcp_restricts_the_buckets_account_not_the_callers() {
    let dir = tempfile::tempdir().unwrap();
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoDeliveries", "Effect": "Deny",
        "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::partner-deliveries/*"}]});
    for (target, expected) in [
        ("111122223333", "reachable"),
        ("444455556666", "unreachable"),
    ] {
        let path = plan(
            dir.path(),
            &format!("rcp-{target}.json"),
            MANAGEMENT,
            json!([
                change(
                    "aws_organizations_policy.rcp",
                    &["create"],
                    Value::Null,
                    json!({"id": "p-rcp00001", "name": "rcp", "type": "RESOURCE_CONTROL_POLICY",
                           "content": deny.to_string()}),
                    json!({"arn": true})
                ),
                change(
                    "aws_organizations_policy_attachment.rcp",
                    &["create"],
                    Value::Null,
                    json!({"policy_id": "p-rcp00001", "target_id": target}),
                    json!({"id": true})
                ),
            ]),
            None,
        );
        let run = iamproof(&[
            "can",
            "--account",
            CROSS,
            "--account",
            PARTNER,
            "--terraform",
            &path,
            "--principal",
            "arn:aws:iam::111122223333:role/MediaConvertRole",
            "--action",
            "s3:PutObject",
            "--resource",
            "arn:aws:s3:::partner-deliveries/x",
        ]);
        assert_eq!(
            verdict(&run),
            expected,
            "{target}: {}{}",
            run.stdout,
            run.stderr
        );
    }
}

/// Held up: bad organization policy input in a plan exits 2, no panic.
#[test]
fn bad_organization_policy_content_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    for (i, content) in [json!("{"), json!(5), json!("{\"Statement\": 7}")]
        .into_iter()
        .enumerate()
    {
        let path = plan(
            dir.path(),
            &format!("bad{i}.json"),
            MANAGEMENT,
            json!([
                change(
                    "aws_organizations_policy.p",
                    &["create"],
                    Value::Null,
                    json!({"id": "p-bad00001", "name": "p", "type": "SERVICE_CONTROL_POLICY", "content": content}),
                    json!({"arn": true})
                ),
                change(
                    "aws_organizations_policy_attachment.a",
                    &["create"],
                    Value::Null,
                    json!({"policy_id": "p-bad00001", "target_id": "111122223333"}),
                    json!({"id": true})
                ),
            ]),
            None,
        );
        let run = can_write(&["--account", LEAST, "--terraform", &path]);
        assert_eq!(run.code, 2, "{content}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("aws_organizations_policy.p"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}
