//! Adversarial CloudFormation templates (`--template`): each test is a realistic template
//! and a question whose answer after deployment AWS fixes, and fails while iamproof answers
//! otherwise. Ordered by severity: refutations that are wrong (`unreachable` where AWS would
//! allow), then `reachable` without an assumption where AWS may deny, then valid templates
//! refused or bad ones accepted.
//!
//! References: the CloudFormation template reference
//! (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/) for intrinsic
//! functions, pseudo parameters, resource properties, modules and AWS::Include.

mod common;

use common::{iamproof, Run};
use serde_json::Value;
use std::path::Path;

const LEAST: &str = "models/mediaconvert-least-privilege";
const ACCOUNT: &str = "111122223333";
const MEDIA_ROLE: &str = "arn:aws:iam::111122223333:role/MediaConvertRole";
const LAMBDA_ROLE: &str = "arn:aws:iam::111122223333:role/LambdaRole";

/// Writes `text` as `name` in `dir` and gives its path.
fn template(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// `iamproof can` on the template alone (`--account-id`) or over the least-privilege snapshot.
fn can(
    template: &str,
    over_snapshot: bool,
    principal: &str,
    action: &str,
    resource: &str,
    extra: &[&str],
) -> (Value, Run) {
    let mut args = vec!["can", "--template", template];
    if over_snapshot {
        args.extend(["--account", LEAST]);
    } else {
        args.extend(["--account-id", ACCOUNT]);
    }
    args.extend([
        "--principal",
        principal,
        "--action",
        action,
        "--resource",
        resource,
        "--format",
        "json",
    ]);
    args.extend(extra);
    let run = iamproof(&args);
    let answer: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not a JSON answer ({e}): {}{}", run.stdout, run.stderr));
    (answer, run)
}

/// A refutation must not be given: the answer is `reachable` or `unknown`.
fn assert_not_refuted(answer: &Value) {
    assert_ne!(
        answer["verdict"], "unreachable",
        "AWS would allow this after deployment: {answer:#}"
    );
}

/// An allowance that may not hold must not be given without an assumption.
fn assert_not_plainly_reachable(answer: &Value) {
    let plain = answer["verdict"] == "reachable"
        && answer["assumptions"]
            .as_array()
            .is_none_or(|a| a.is_empty());
    assert!(
        !plain,
        "AWS may deny this after deployment, yet the answer is reachable with no assumption: {answer:#}"
    );
}

const TRUST_EC2: &str = "{Version: '2012-10-17', Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: 'sts:AssumeRole'}]}";

// --- 1. Wrong refutations ------------------------------------------------------------------

/// `Policies: [!If [Cond, {...}, !Ref AWS::NoValue]]` is the documented way to make an inline
/// policy conditional (AWS::NoValue "removes the corresponding resource property when
/// specified as a return value in the Fn::If intrinsic function"). With the condition true the
/// role has the policy; iamproof iterates the unresolved list and drops the entry.
#[test]
fn an_inline_policy_entry_given_by_fn_if_is_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let entry = format!(
        "Parameters:
  Env: {{Type: String, Default: prod}}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Data: {{Type: AWS::S3::Bucket, Properties: {{BucketName: data}}}}
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: app
      AssumeRolePolicyDocument: {TRUST_EC2}
      Policies:
        - !If
          - IsProd
          - PolicyName: prod-read
            PolicyDocument:
              Version: '2012-10-17'
              Statement:
                - {{Effect: Allow, Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*'}}
          - !Ref AWS::NoValue
"
    );
    let path = template(dir.path(), "entry.yaml", &entry);
    let (answer, _) = can(
        &path,
        false,
        "arn:aws:iam::111122223333:role/app",
        "s3:GetObject",
        "arn:aws:s3:::data/x",
        &[],
    );
    assert_eq!(answer["verdict"], "reachable", "{answer:#}");

    // The whole list under Fn::If: the same policy.
    let whole = format!(
        "Parameters:
  Env: {{Type: String, Default: prod}}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Data: {{Type: AWS::S3::Bucket, Properties: {{BucketName: data}}}}
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: app
      AssumeRolePolicyDocument: {TRUST_EC2}
      Policies: !If
        - IsProd
        - - PolicyName: prod-read
            PolicyDocument:
              Version: '2012-10-17'
              Statement:
                - {{Effect: Allow, Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*'}}
        - !Ref AWS::NoValue
"
    );
    let path = template(dir.path(), "whole.yaml", &whole);
    let (answer, _) = can(
        &path,
        false,
        "arn:aws:iam::111122223333:role/app",
        "s3:GetObject",
        "arn:aws:s3:::data/x",
        &[],
    );
    assert_eq!(answer["verdict"], "reachable", "{answer:#}");
}

/// AWS::IAM::Policy attached to a role named by `Fn::ImportValue` (or a parameter without a
/// default): the role is any role of the account, the existing MediaConvertRole included.
/// AWS::IAM::ManagedPolicy in the same position makes the answer unknown; AWS::IAM::Policy
/// drops the attachment silently.
#[test]
fn an_inline_policy_whose_roles_are_known_only_at_deployment_leaves_refutations_unknown() {
    let dir = tempfile::tempdir().unwrap();
    for (name, roles, parameters) in [
        ("import.yaml", "!ImportValue shared-media-role-name", ""),
        (
            "parameter.yaml",
            "!Ref RoleName",
            "Parameters:\n  RoleName: {Type: String}\n",
        ),
    ] {
        let text = format!(
            "{parameters}Resources:
  FinanceRead:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: finance-read
      Roles: [{roles}]
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - {{Effect: Allow, Action: 's3:GetObject', Resource: 'arn:aws:s3:::finance/*'}}
"
        );
        let path = template(dir.path(), name, &text);
        let (answer, _) = can(
            &path,
            true,
            MEDIA_ROLE,
            "s3:GetObject",
            "arn:aws:s3:::finance/x",
            &[],
        );
        assert_not_refuted(&answer);
    }
}

/// Modules (`Type: Org::Service::Name::MODULE`) are expanded by CloudFormation into the
/// resources they hold, IAM resources included; registry (third-party and private) resource
/// types and Service Catalog products provision whatever they define. None is in the list of
/// types that may grant, so the refutation stands.
#[test]
fn modules_registry_types_and_provisioned_products_leave_refutations_unknown() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "module.yaml",
            "Resources:\n  Grant:\n    Type: Acme::IAM::FinanceReader::MODULE\n    Properties:\n      RoleName: MediaConvertRole\n",
        ),
        (
            "registry.yaml",
            "Resources:\n  Grant:\n    Type: Acme::IAM::RolePolicy\n    Properties:\n      RoleName: MediaConvertRole\n      Bucket: finance\n",
        ),
        (
            "product.yaml",
            "Resources:\n  Grant:\n    Type: AWS::ServiceCatalog::CloudFormationProvisionedProduct\n    Properties:\n      ProductName: finance-reader\n      ProvisioningArtifactName: v1\n",
        ),
    ] {
        let path = template(dir.path(), name, text);
        let (answer, _) = can(&path, true, MEDIA_ROLE, "s3:GetObject", "arn:aws:s3:::finance/x", &[]);
        assert_not_refuted(&answer);
    }
}

/// `Fn::Transform` with AWS::Include may appear "anywhere within the CloudFormation template
/// except in the template parameters section or the template version": inside a role's
/// Properties it inserts properties (here, perhaps `Policies`) at deployment. Only the
/// top-level `Transform` section is noticed.
#[test]
fn an_embedded_aws_include_leaves_refutations_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: extra
      AssumeRolePolicyDocument: {TRUST_EC2}
      Fn::Transform:
        Name: AWS::Include
        Parameters: {{Location: 's3://templates/finance-policies.yaml'}}
"
    );
    let path = template(dir.path(), "include.yaml", &text);
    let (answer, _) = can(
        &path,
        true,
        "arn:aws:iam::111122223333:role/extra",
        "s3:GetObject",
        "arn:aws:s3:::finance/x",
        &[],
    );
    assert_not_refuted(&answer);
}

/// `AWS::Region` is "the Region in which the encompassing resource is being created". A
/// template alone says nothing of it, yet iamproof takes us-east-1: a stack deployed in
/// eu-west-1 grants kms:Decrypt on that region's keys, and the refutation is wrong.
#[test]
fn the_region_of_a_template_alone_is_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Resources:
  Dev:
    Type: AWS::IAM::User
    Properties:
      UserName: dev
      Policies:
        - PolicyName: kms-here
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: kms:Decrypt
                Resource: !Sub arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*
";
    let path = template(dir.path(), "region.yaml", text);
    let (answer, _) = can(
        &path,
        false,
        "arn:aws:iam::111122223333:user/dev",
        "kms:Decrypt",
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        &[],
    );
    assert_not_refuted(&answer);
}

/// AWS::S3::Bucket `AccessControl: PublicReadWrite` (with ACLs enabled by ObjectWriter and
/// Block Public Access off) gives the AllUsers group READ and WRITE on the bucket: anyone can
/// put objects. The Terraform reader leaves refutations unknown for a bucket `acl`; the
/// template reader ignores AccessControl, and who-can says nobody.
#[test]
fn a_bucket_canned_acl_leaves_refutations_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Resources:
  Site:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: public-site
      AccessControl: PublicReadWrite
      OwnershipControls:
        Rules:
          - ObjectOwnership: ObjectWriter
      PublicAccessBlockConfiguration:
        BlockPublicAcls: false
        IgnorePublicAcls: false
        BlockPublicPolicy: false
        RestrictPublicBuckets: false
";
    let path = template(dir.path(), "acl.yaml", text);
    let run = iamproof(&[
        "who-can",
        "--template",
        &path,
        "--account-id",
        ACCOUNT,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::public-site/x",
        "--format",
        "json",
    ]);
    let answer: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    let outsiders = answer["principals"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["principal"] == "*" && p["verdict"] != "unreachable");
    assert!(
        outsiders || run.code == 3,
        "anonymous callers can write: {answer:#}"
    );
}

/// For an `AWS::SSM::Parameter::Value<String>` parameter, the value given at deployment is the
/// name of a Systems Manager parameter, and CloudFormation uses that parameter's value. Given
/// `--parameter DataBucket=/config/data-bucket` (what `aws cloudformation deploy
/// --parameter-overrides` takes), iamproof puts the text `/config/data-bucket` in the policy
/// and refutes access to the real bucket.
#[test]
fn an_ssm_parameter_given_on_the_command_line_is_still_read_from_ssm() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Parameters:
  DataBucket:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /config/data-bucket
Resources:
  Reader:
    Type: AWS::IAM::Role
    Properties:
      RoleName: reader
      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: 'sts:AssumeRole'}]}
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - {Effect: Allow, Action: 's3:GetObject', Resource: !Sub 'arn:aws:s3:::${DataBucket}/*'}
";
    let path = template(dir.path(), "ssm.yaml", text);
    let (answer, _) = can(
        &path,
        true,
        "arn:aws:iam::111122223333:role/reader",
        "s3:GetObject",
        "arn:aws:s3:::finance/x",
        &["--parameter", "DataBucket=/config/data-bucket"],
    );
    assert_not_refuted(&answer);
}

// --- 2. Reachable without an assumption where AWS may deny ----------------------------------

/// A resource with a `Condition` that cannot be decided exists or not after deployment. A
/// conditional Deny (bucket policy, IAM policy) may hold; iamproof leaves it out and answers
/// `reachable` with no assumption, while the same uncertainty written with Fn::If in the
/// document gives `unknown`.
#[test]
fn a_conditional_deny_is_not_silently_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let bucket_policy = "Parameters:
  Lockdown: {Type: String}
Conditions:
  Locked: !Equals [!Ref Lockdown, 'yes']
Resources:
  FinancePolicy:
    Type: AWS::S3::BucketPolicy
    Condition: Locked
    Properties:
      Bucket: finance
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - {Effect: Deny, Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::finance', 'arn:aws:s3:::finance/*']}
";
    let path = template(dir.path(), "bucket.yaml", bucket_policy);
    let (answer, _) = can(
        &path,
        true,
        LAMBDA_ROLE,
        "s3:GetObject",
        "arn:aws:s3:::finance/x",
        &[],
    );
    assert_not_plainly_reachable(&answer);

    // The bucket the policy goes to is decided by the same condition.
    let bucket_if = bucket_policy
        .replace("    Condition: Locked\n", "")
        .replace("Bucket: finance", "Bucket: !If [Locked, finance, other]");
    let path = template(dir.path(), "bucket-if.yaml", &bucket_if);
    let (answer, _) = can(
        &path,
        true,
        LAMBDA_ROLE,
        "s3:GetObject",
        "arn:aws:s3:::finance/x",
        &[],
    );
    assert_not_plainly_reachable(&answer);

    let iam_policy = "Parameters:
  Lockdown: {Type: String}
Conditions:
  Locked: !Equals [!Ref Lockdown, 'yes']
Resources:
  Data: {Type: AWS::S3::Bucket, Properties: {BucketName: data}}
  Alice:
    Type: AWS::IAM::User
    Properties:
      UserName: alice
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - {Effect: Allow, Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*'}
  DenyAll:
    Type: AWS::IAM::Policy
    Condition: Locked
    Properties:
      PolicyName: deny
      Users: [!Ref Alice]
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - {Effect: Deny, Action: '*', Resource: '*'}
";
    let path = template(dir.path(), "iam.yaml", iam_policy);
    let (answer, _) = can(
        &path,
        false,
        "arn:aws:iam::111122223333:user/alice",
        "s3:GetObject",
        "arn:aws:s3:::data/x",
        &[],
    );
    assert_not_plainly_reachable(&answer);
}

/// Template parameters are strings (there is no Boolean parameter type), so Boolean
/// properties are commonly `!Ref` of a `'true'`/`'false'` parameter. Block Public Access
/// flags given so are read as false: anonymous callers are answered `reachable`, while
/// RestrictPublicBuckets keeps them out.
#[test]
fn block_public_access_flags_given_as_strings_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Parameters:
  Block: {Type: String, Default: 'true', AllowedValues: ['true', 'false']}
Resources:
  Site:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: site
      PublicAccessBlockConfiguration:
        BlockPublicPolicy: !Ref Block
        RestrictPublicBuckets: !Ref Block
  SitePolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Site
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - {Effect: Allow, Principal: '*', Action: 's3:GetObject', Resource: !Sub '${Site.Arn}/*'}
";
    let path = template(dir.path(), "bpa.yaml", text);
    let run = iamproof(&[
        "who-can",
        "--template",
        &path,
        "--account-id",
        ACCOUNT,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::site/x",
        "--format",
        "json",
    ]);
    let answer: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    for principal in answer["principals"].as_array().unwrap() {
        assert_not_plainly_reachable(principal);
    }
}

/// A KMS key whose `Enabled` is a parameter: `'false'` (a string, as parameters are) is
/// refused with a Terraform-internal path; with no value known, the key is taken as enabled
/// and decryption through it is `reachable` with no assumption.
#[test]
fn a_key_enabled_by_a_parameter_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Parameters:
  KeyEnabled:
    Type: String
    AllowedValues: ['true', 'false']
DEFAULT
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      Enabled: !Ref KeyEnabled
  User:
    Type: AWS::IAM::User
    Properties:
      UserName: alice
      Policies:
        - PolicyName: kms
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - {Effect: Allow, Action: 'kms:Decrypt', Resource: '*'}
";
    let key = "arn:aws:kms:us-east-1:111122223333:key/GENERATED-Key";
    let given = template(
        dir.path(),
        "disabled.yaml",
        &text.replace("DEFAULT", "    Default: 'false'"),
    );
    let (answer, run) = can(
        &given,
        false,
        "arn:aws:iam::111122223333:user/alice",
        "kms:Decrypt",
        key,
        // The key is made in the stack's region, which a template alone needs.
        &["--region", "us-east-1"],
    );
    assert_eq!(run.code, 0, "a valid template: {}", run.stderr);
    assert_eq!(
        answer["verdict"], "unreachable",
        "the key is disabled: {answer:#}"
    );

    let unknown = template(dir.path(), "unknown.yaml", &text.replace("DEFAULT\n", ""));
    let (answer, _) = can(
        &unknown,
        false,
        "arn:aws:iam::111122223333:user/alice",
        "kms:Decrypt",
        key,
        // The key is made in the stack's region, which a template alone needs.
        &["--region", "us-east-1"],
    );
    assert_not_plainly_reachable(&answer);
}

// --- 3. Valid templates refused, bad ones accepted -------------------------------------------

/// `what-if` without `--change` (the template is the change), asked as who-can: a template
/// that creates a user who gains the access is the case `--fail-on-new-access` is for, and
/// it ends in exit 2 ("principal ... is not a user or role of the loaded snapshots").
#[test]
fn what_if_a_template_adds_a_principal_shows_its_new_access() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Resources:
  NewUser:
    Type: AWS::IAM::User
    Properties:
      UserName: newbie
      Policies:
        - PolicyName: p
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - {Effect: Allow, Action: 's3:GetObject', Resource: 'arn:aws:s3:::media-in/*'}
";
    let path = template(dir.path(), "new-user.yaml", text);
    let run = iamproof(&[
        "what-if",
        "--account",
        LEAST,
        "--template",
        &path,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::media-in/x",
        "--fail-on-new-access",
    ]);
    assert_eq!(
        run.code, 1,
        "new access, exit 1: {}{}",
        run.stdout, run.stderr
    );
    assert!(run.stdout.contains("user/newbie"), "{}", run.stdout);
}

/// An AWS::Include placed in the Resources section is valid ("anywhere within the
/// CloudFormation template except in the template parameters section or the template
/// version"); iamproof refuses it as a resource without Type. The snippet may make anything:
/// refutations are unknown, not an exit 2.
#[test]
fn an_aws_include_in_the_resources_section_is_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Resources:
  Fn::Transform:
    Name: AWS::Include
    Parameters:
      Location: s3://templates/iam-grants.yaml
";
    let path = template(dir.path(), "include.yaml", text);
    let (answer, run) = can(
        &path,
        true,
        MEDIA_ROLE,
        "s3:GetObject",
        "arn:aws:s3:::finance/x",
        &[],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(answer["verdict"], "unknown");
}

/// Bad templates that CloudFormation rejects are exit 2 naming the file, the JSON path and
/// the YAML line; iamproof reads them and answers.
#[test]
fn bad_templates_are_refused_with_file_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // A second YAML document: CloudFormation reads one template.
        ("multi.yaml", "Resources:\n  U:\n    Type: AWS::IAM::User\n    Properties:\n      UserName: u\n---\nResources:\n  V:\n    Type: AWS::IAM::User\n", "6"),
        // A tag that is no intrinsic function.
        ("tag.yaml", "Resources:\n  U:\n    Type: AWS::IAM::User\n    Properties:\n      UserName: !Foo u\n", "tag.yaml:5"),
        // Properties that is not an object.
        ("properties.yaml", "Resources:\n  U:\n    Type: AWS::IAM::User\n    Properties: 7\n", "Resources.U.Properties"),
        // A name that is a list.
        ("name.yaml", "Resources:\n  U:\n    Type: AWS::IAM::User\n    Properties:\n      UserName: [a, b]\n", "Resources.U.Properties.UserName"),
        // A policy entry that is not an object.
        ("entry.yaml", "Resources:\n  U:\n    Type: AWS::IAM::User\n    Properties:\n      UserName: u\n      Policies: [5]\n", "Resources.U.Properties.Policies[0]"),
    ];
    for (name, text, names) in cases {
        let path = template(dir.path(), name, text);
        let run = iamproof(&[
            "can",
            "--template",
            &path,
            "--account-id",
            ACCOUNT,
            "--principal",
            "arn:aws:iam::111122223333:user/u",
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::b/x",
        ]);
        assert_eq!(run.code, 2, "{name}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(name) && run.stderr.contains(names),
            "{name}: the error names the file and {names}: {}",
            run.stderr
        );
    }
}
