//! Each rule of AWS's evaluation logic, one small request at a time, through the library's
//! `simulate` entry point. These pin the semantics the solver must agree with.

use iamproof::eval::Decision::{self, Allowed, ExplicitlyDenied, ImplicitlyDenied};
use serde_json::{json, Value};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/Editor/s1";
const ROLE: &str = "arn:aws:iam::111122223333:role/media/Editor";
const OUTSIDER: &str = "arn:aws:iam::444455556666:user/mallory";
const OBJECT: &str = "arn:aws:s3:::media-out/a.mp4";

fn decide(input: Value) -> Decision {
    let request = iamproof::simulate::parse_request("test", &input).expect("test input parses");
    iamproof::simulate::run(&request).decision
}

fn request(principal: &str, action: &str, resource: &str) -> Value {
    json!({"principal": principal, "action": action, "resource": resource, "resource_account": "111122223333", "context": {}})
}

fn allow(action: &str, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})
}

fn deny(action: &str, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": action, "Resource": resource}]})
}

fn grant_to(principal: Value, action: &str, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource}]})
}

#[test]
fn nothing_allows_means_implicit_deny() {
    assert_eq!(
        decide(json!({"request": request(ALICE, "s3:PutObject", OBJECT)})),
        ImplicitlyDenied
    );
}

#[test]
fn identity_allow_and_explicit_deny_anywhere() {
    let base = |extra: Value| {
        let mut input = json!({"request": request(ALICE, "s3:PutObject", OBJECT), "identity_policies": [allow("s3:*", "*")]});
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        decide(input)
    };
    assert_eq!(base(json!({})), Allowed);
    assert_eq!(
        base(json!({"permission_boundaries": [deny("s3:Put*", "*")]})),
        ExplicitlyDenied
    );
    assert_eq!(
        base(json!({"scps": [[allow("*", "*"), deny("s3:PutObject", "*")]]})),
        ExplicitlyDenied
    );
    assert_eq!(
        base(
            json!({"rcps": [[{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}}]]})
        ),
        ExplicitlyDenied
    );
    assert_eq!(
        base(
            json!({"resource_policy": {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}}})
        ),
        ExplicitlyDenied
    );
}

#[test]
fn every_scp_level_must_allow() {
    let input = |levels: Value| json!({"request": request(ALICE, "s3:PutObject", OBJECT), "identity_policies": [allow("*", "*")], "scps": levels});
    assert_eq!(
        decide(input(json!([[allow("*", "*")], [allow("s3:*", "*")]]))),
        Allowed
    );
    assert_eq!(
        decide(input(json!([[allow("*", "*")], [allow("ec2:*", "*")]]))),
        ImplicitlyDenied
    );
    assert_eq!(
        decide(input(json!([[allow("*", "*")], []]))),
        ImplicitlyDenied
    );
}

#[test]
fn rcps_only_deny_and_only_on_supported_services() {
    let rcp_deny_all = json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}});
    let input = |action: &str| json!({"request": request(ALICE, action, "*"), "identity_policies": [allow("*", "*")], "rcps": [[rcp_deny_all.clone()]]});
    assert_eq!(decide(input("s3:ListAllMyBuckets")), ExplicitlyDenied);
    assert_eq!(decide(input("ec2:DescribeInstances")), Allowed);
}

#[test]
fn boundary_and_session_policy_cap_identity_grants() {
    let input = |extra: Value| {
        let mut input = json!({"request": request(SESSION, "s3:PutObject", OBJECT), "identity_policies": [allow("s3:*", "*")]});
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        decide(input)
    };
    assert_eq!(
        input(json!({"permission_boundaries": [allow("s3:GetObject", "*")]})),
        ImplicitlyDenied
    );
    assert_eq!(
        input(json!({"permission_boundaries": [allow("s3:*", "*")]})),
        Allowed
    );
    assert_eq!(
        input(json!({"session_policy": allow("s3:GetObject", "*")})),
        ImplicitlyDenied
    );
    assert_eq!(
        input(json!({"session_policy": allow("s3:PutObject", OBJECT)})),
        Allowed
    );
}

#[test]
fn same_account_resource_policy_grants() {
    let boundary_without_s3 = json!([allow("ec2:*", "*")]);
    let input = |principal: &str, grantee: Value| {
        json!({"request": request(principal, "s3:PutObject", OBJECT),
               "permission_boundaries": boundary_without_s3.clone(),
               "resource_policy": grant_to(grantee, "s3:PutObject", "arn:aws:s3:::media-out/*")})
    };
    // Naming the user or the session itself stands on its own, boundary or not.
    assert_eq!(decide(input(ALICE, json!({"AWS": ALICE}))), Allowed);
    assert_eq!(decide(input(SESSION, json!({"AWS": SESSION}))), Allowed);
    assert_eq!(decide(input(ALICE, json!("*"))), Allowed);
    // Naming the role is still capped by the boundary.
    assert_eq!(
        decide(input(SESSION, json!({"AWS": ROLE}))),
        ImplicitlyDenied
    );
    // Naming the account only delegates to identity policies, of which there are none.
    assert_eq!(
        decide(input(ALICE, json!({"AWS": "111122223333"}))),
        ImplicitlyDenied
    );
    // Another principal named: no grant.
    assert_eq!(
        decide(input(
            ALICE,
            json!({"AWS": "arn:aws:iam::111122223333:user/bob"})
        )),
        ImplicitlyDenied
    );
}

#[test]
fn cross_account_needs_both_sides() {
    let bucket_policy = grant_to(
        json!({"AWS": "444455556666"}),
        "s3:PutObject",
        "arn:aws:s3:::media-out/*",
    );
    let input = |identity: Value, resource: Value| json!({"request": request(OUTSIDER, "s3:PutObject", OBJECT), "identity_policies": identity, "resource_policy": resource});
    assert_eq!(
        decide(input(json!([allow("s3:*", "*")]), bucket_policy.clone())),
        Allowed
    );
    assert_eq!(
        decide(input(json!([]), bucket_policy.clone())),
        ImplicitlyDenied
    );
    assert_eq!(
        decide(input(json!([allow("s3:*", "*")]), Value::Null)),
        ImplicitlyDenied
    );
    let named = grant_to(json!({"AWS": OUTSIDER}), "s3:PutObject", "*");
    assert_eq!(decide(input(json!([]), named)), ImplicitlyDenied);
}

#[test]
fn kms_key_policy_is_primary() {
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let input = |identity: Value, key_policy: Value| json!({"request": request(ALICE, "kms:GenerateDataKey", key), "identity_policies": identity, "resource_policy": key_policy});
    let enables_iam = grant_to(
        json!({"AWS": "arn:aws:iam::111122223333:root"}),
        "kms:*",
        "*",
    );
    let names_alice = grant_to(json!({"AWS": ALICE}), "kms:GenerateDataKey", "*");
    assert_eq!(
        decide(input(json!([allow("kms:*", "*")]), Value::Null)),
        ImplicitlyDenied
    );
    assert_eq!(
        decide(input(json!([allow("kms:*", "*")]), enables_iam.clone())),
        Allowed
    );
    assert_eq!(decide(input(json!([]), enables_iam)), ImplicitlyDenied);
    assert_eq!(decide(input(json!([]), names_alice)), Allowed);
}

#[test]
fn trust_policy_must_admit_the_caller() {
    let role = "arn:aws:iam::111122223333:role/MediaConvertRole";
    let input = |principal: &str, identity: Value, trust: Value| json!({"request": request(principal, "sts:AssumeRole", role), "identity_policies": identity, "resource_policy": trust});
    let trusts_service = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": "mediaconvert.amazonaws.com"}, "Action": "sts:AssumeRole"}});
    assert_eq!(
        decide(input(
            "mediaconvert.amazonaws.com",
            json!([]),
            trusts_service.clone()
        )),
        Allowed
    );
    assert_eq!(
        decide(input(
            "ec2.amazonaws.com",
            json!([]),
            trusts_service.clone()
        )),
        ImplicitlyDenied
    );
    assert_eq!(
        decide(input(
            ALICE,
            json!([allow("sts:AssumeRole", "*")]),
            trusts_service
        )),
        ImplicitlyDenied
    );
    let trusts_account = grant_to(json!({"AWS": "111122223333"}), "sts:AssumeRole", "*");
    assert_eq!(
        decide(input(
            ALICE,
            json!([allow("sts:AssumeRole", "*")]),
            trusts_account.clone()
        )),
        Allowed
    );
    assert_eq!(
        decide(input(ALICE, json!([]), trusts_account)),
        ImplicitlyDenied
    );
}

#[test]
fn service_principals_ignore_scps_and_anonymous_callers_need_a_public_grant() {
    let role = "arn:aws:iam::111122223333:role/MediaConvertRole";
    let trust = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": "mediaconvert.amazonaws.com"}, "Action": "sts:AssumeRole"}});
    let scp_deny = json!([[deny("*", "*")]]);
    assert_eq!(
        decide(
            json!({"request": request("mediaconvert.amazonaws.com", "sts:AssumeRole", role), "resource_policy": trust, "scps": scp_deny})
        ),
        Allowed
    );
    let public = grant_to(json!("*"), "s3:GetObject", "arn:aws:s3:::media-out/*");
    assert_eq!(
        decide(
            json!({"request": request("anonymous", "s3:GetObject", OBJECT), "resource_policy": public})
        ),
        Allowed
    );
    let account_only = grant_to(json!({"AWS": "111122223333"}), "s3:GetObject", "*");
    assert_eq!(
        decide(
            json!({"request": request("anonymous", "s3:GetObject", OBJECT), "resource_policy": account_only})
        ),
        ImplicitlyDenied
    );
}

#[test]
fn not_elements() {
    let not_action = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}});
    assert_eq!(
        decide(
            json!({"request": request(ALICE, "s3:PutObject", OBJECT), "identity_policies": [not_action.clone()]})
        ),
        Allowed
    );
    assert_eq!(
        decide(
            json!({"request": request(ALICE, "iam:PassRole", ROLE), "identity_policies": [not_action]})
        ),
        ImplicitlyDenied
    );
    let not_resource_deny = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::media-out/*"}]});
    assert_eq!(
        decide(
            json!({"request": request(ALICE, "s3:PutObject", OBJECT), "identity_policies": [not_resource_deny.clone()]})
        ),
        Allowed
    );
    assert_eq!(
        decide(
            json!({"request": request(ALICE, "s3:PutObject", "arn:aws:s3:::finance/x"), "identity_policies": [not_resource_deny]})
        ),
        ExplicitlyDenied
    );
    let not_principal = |listed: Value| json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "NotPrincipal": {"AWS": listed}, "Action": "s3:*", "Resource": "*"}});
    let input = |listed: Value| json!({"request": request(ALICE, "s3:PutObject", OBJECT), "identity_policies": [allow("s3:*", "*")], "resource_policy": not_principal(listed)});
    assert_eq!(
        decide(input(json!([ALICE, "arn:aws:iam::111122223333:root"]))),
        Allowed
    );
    assert_eq!(
        decide(input(json!([
            "arn:aws:iam::111122223333:user/bob",
            "arn:aws:iam::111122223333:root"
        ]))),
        ExplicitlyDenied
    );
}

#[test]
fn actions_ignore_case_and_resources_do_not() {
    let policy = allow("S3:putobj*", "arn:aws:s3:::Media-Out/*");
    assert_eq!(
        decide(
            json!({"request": request(ALICE, "s3:PutObject", "arn:aws:s3:::Media-Out/a"), "identity_policies": [policy.clone()]})
        ),
        Allowed
    );
    assert_eq!(
        decide(
            json!({"request": request(ALICE, "s3:PutObject", OBJECT), "identity_policies": [policy]})
        ),
        ImplicitlyDenied
    );
}

#[test]
fn policy_variables_in_resources() {
    let policy = allow("s3:*", "arn:aws:s3:::home/${aws:username}/*");
    let input = |context: Value| {
        json!({"request": {"principal": ALICE, "action": "s3:GetObject", "resource": "arn:aws:s3:::home/alice/x", "context": context},
               "identity_policies": [policy.clone()]})
    };
    assert_eq!(decide(input(json!({"aws:username": "alice"}))), Allowed);
    assert_eq!(
        decide(input(json!({"aws:username": "bob"}))),
        ImplicitlyDenied
    );
    // An unresolved variable matches nothing.
    assert_eq!(decide(input(json!({}))), ImplicitlyDenied);
}

#[test]
fn conditions_on_missing_keys() {
    let with_condition = |condition: Value| {
        json!({"request": request(ALICE, "s3:PutObject", OBJECT),
               "identity_policies": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}}]})
    };
    assert_eq!(
        decide(with_condition(
            json!({"StringEquals": {"aws:SourceVpc": "vpc-1"}})
        )),
        ImplicitlyDenied
    );
    assert_eq!(
        decide(with_condition(
            json!({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}})
        )),
        Allowed
    );
    assert_eq!(
        decide(with_condition(
            json!({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}})
        )),
        Allowed
    );
    assert_eq!(
        decide(with_condition(
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": "a"}})
        )),
        Allowed
    );
    assert_eq!(
        decide(with_condition(
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}})
        )),
        ImplicitlyDenied
    );
    assert_eq!(
        decide(with_condition(json!({"Null": {"aws:TagKeys": "true"}}))),
        Allowed
    );
}

#[test]
fn aws_owned_resources_cannot_be_changed() {
    let alias = "arn:aws:kms:us-east-1:111122223333:alias/aws/s3";
    assert_eq!(
        decide(
            json!({"request": request(ALICE, "kms:DeleteAlias", alias), "identity_policies": [allow("*", "*")]})
        ),
        ImplicitlyDenied
    );
    let managed = "arn:aws:iam::aws:policy/AdministratorAccess";
    assert_eq!(
        decide(
            json!({"request": request(ALICE, "iam:CreatePolicyVersion", managed), "identity_policies": [allow("*", "*")]})
        ),
        ImplicitlyDenied
    );
    assert_eq!(
        decide(
            json!({"request": request(ALICE, "sts:GetCallerIdentity", "*"), "identity_policies": [deny("*", "*")]})
        ),
        Allowed
    );
}
