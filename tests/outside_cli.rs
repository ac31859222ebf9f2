//! Callers from outside the account, on the fixture `tests/fixtures/outside` (written by its
//! `generate.py`): GitHub Actions and EKS OIDC trusts, a SAML trust, partner accounts with and
//! without `sts:ExternalId`, and buckets that admit AWS services (ELB and CloudTrail log
//! delivery, CloudFront origin access control, S3 inventory). `who-can`, `can` and `only`
//! proofs are pinned by insta; every witness is replayed by the evaluator before it is printed.
//!
//! AWS's pages behind the expectations:
//! - OIDC and SAML condition keys: "IAM and AWS STS condition context keys",
//!   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html
//! - GitHub's `sub` claim and the StringLike mistake: "Configuring a role for GitHub OIDC
//!   identity provider", https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html#idp_oidc_Create_GitHub
//! - services as confused deputies: "The confused deputy problem",
//!   https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
//! - external ids: "Access to AWS accounts owned by third parties",
//!   https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html

mod common;

use common::iamproof;
use serde_json::Value;

const ACCOUNT: &str = "tests/fixtures/outside/account";
const GITHUB: &str = "oidc:token.actions.githubusercontent.com";

fn who_can(action: &str, resource: &str, format: &str) -> common::Run {
    iamproof(&[
        "who-can",
        "--quiet",
        "--account",
        ACCOUNT,
        "--action",
        action,
        "--resource",
        resource,
        "--format",
        format,
    ])
}

fn can(principal: &str, action: &str, resource: &str, context: &[&str]) -> Value {
    let mut args = vec![
        "can",
        "--quiet",
        "--account",
        ACCOUNT,
        "--principal",
        principal,
        "--action",
        action,
        "--resource",
        resource,
        "--format",
        "json",
    ];
    for pair in context {
        args.extend(["--context", pair]);
    }
    let run = iamproof(&args);
    assert_ne!(run.code, 2, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("can prints JSON")
}

/// The outside rows of a `who-can` JSON list: principal and verdict.
fn outside_rows(action: &str, resource: &str) -> Vec<(String, String)> {
    let run = who_can(action, resource, "json");
    let answers: Value = serde_json::from_str(&run.stdout).expect("who-can prints JSON");
    answers["principals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| !row["outside"].is_null())
        .map(|row| {
            (
                row["principal"].as_str().unwrap().to_string(),
                row["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn reachable(principal: &str) -> (String, String) {
    (principal.to_string(), "reachable".to_string())
}

#[test]
fn who_can_names_every_outside_caller_as_a_reviewer_reads_it() {
    for (name, action, resource) in [
        (
            "site_deploy",
            "s3:PutObject",
            "arn:aws:s3:::acme-site/index.html",
        ),
        (
            "site_read",
            "s3:GetObject",
            "arn:aws:s3:::acme-site/index.html",
        ),
        (
            "artifacts",
            "s3:PutObject",
            "arn:aws:s3:::acme-artifacts/build.zip",
        ),
        (
            "build_cache",
            "s3:PutObject",
            "arn:aws:s3:::acme-build-cache/key",
        ),
        ("uploads", "s3:PutObject", "arn:aws:s3:::acme-uploads/a.mp4"),
        (
            "finance",
            "s3:GetObject",
            "arn:aws:s3:::acme-finance/q3.csv",
        ),
        ("reports", "s3:GetObject", "arn:aws:s3:::acme-reports/r.pdf"),
        (
            "alb_logs",
            "s3:PutObject",
            "arn:aws:s3:::acme-alb-logs/AWSLogs/111122223333/x.log",
        ),
        (
            "trail",
            "s3:PutObject",
            "arn:aws:s3:::acme-trail/AWSLogs/111122223333/x.json.gz",
        ),
        (
            "inventory",
            "s3:PutObject",
            "arn:aws:s3:::acme-inventory/report.csv",
        ),
    ] {
        let run = who_can(action, resource, "text");
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        insta::assert_snapshot!(format!("outside_who_can_{name}"), run.stdout);
    }
}

#[test]
fn a_trust_scoped_to_one_branch_admits_that_branch_only() {
    let main = can(
        GITHUB,
        "s3:PutObject",
        "arn:aws:s3:::acme-site/index.html",
        &["token.actions.githubusercontent.com:sub=repo:acme/site:ref:refs/heads/main"],
    );
    assert_eq!(main["verdict"], "reachable", "{main}");
    let other = can(
        GITHUB,
        "s3:PutObject",
        "arn:aws:s3:::acme-site/index.html",
        &["token.actions.githubusercontent.com:sub=repo:acme/site:ref:refs/heads/feature"],
    );
    assert_eq!(other["verdict"], "unreachable", "{other}");
}

#[test]
fn a_trust_without_a_sub_condition_admits_any_repository_on_github() {
    let stranger = can(
        GITHUB,
        "s3:PutObject",
        "arn:aws:s3:::acme-build-cache/key",
        &["token.actions.githubusercontent.com:sub=repo:mallory/anything:ref:refs/heads/main"],
    );
    assert_eq!(stranger["verdict"], "reachable", "{stranger}");
    // The organisation-wide trust takes any repository of acme, and no other.
    let forked = can(
        GITHUB,
        "s3:PutObject",
        "arn:aws:s3:::acme-artifacts/build.zip",
        &["token.actions.githubusercontent.com:sub=repo:mallory/acme:ref:refs/heads/main"],
    );
    assert_eq!(forked["verdict"], "unreachable", "{forked}");
    let any_repo = can(
        GITHUB,
        "s3:PutObject",
        "arn:aws:s3:::acme-artifacts/build.zip",
        &["token.actions.githubusercontent.com:sub=repo:acme/throwaway:pull_request"],
    );
    assert_eq!(any_repo["verdict"], "reachable", "{any_repo}");
}

#[test]
fn a_token_for_another_audience_is_refused() {
    let answer = can(
        GITHUB,
        "s3:PutObject",
        "arn:aws:s3:::acme-site/index.html",
        &["token.actions.githubusercontent.com:aud=https://github.com/acme"],
    );
    assert_eq!(answer["verdict"], "unreachable", "{answer}");
}

#[test]
fn the_external_id_keeps_a_partner_that_does_not_know_it_out() {
    let partner = "arn:aws:iam::999988887777:root";
    let resource = "arn:aws:s3:::acme-reports/r.pdf";
    let with = can(
        partner,
        "s3:GetObject",
        resource,
        &["sts:ExternalId=acme-7f3c"],
    );
    assert_eq!(with["verdict"], "reachable", "{with}");
    let without = can(
        partner,
        "s3:GetObject",
        resource,
        &["sts:ExternalId=guessed"],
    );
    assert_eq!(without["verdict"], "unreachable", "{without}");
    // The vendor's trust asks no external id: its role gets in whatever it sends.
    let vendor = can(
        "arn:aws:iam::444455556666:role/collector",
        "s3:GetObject",
        resource,
        &["sts:ExternalId=guessed"],
    );
    assert_eq!(vendor["verdict"], "reachable", "{vendor}");
    let assumptions = vendor["assumptions"].to_string();
    assert!(
        assumptions.contains("444455556666 is not in the snapshots"),
        "{vendor}"
    );
}

#[test]
fn a_service_without_a_source_check_is_a_confused_deputy() {
    let alb = can(
        "service:logdelivery.elasticloadbalancing.amazonaws.com",
        "s3:PutObject",
        "arn:aws:s3:::acme-alb-logs/AWSLogs/111122223333/x.log",
        &[],
    );
    assert_eq!(alb["verdict"], "reachable", "{alb}");
    assert!(
        alb["outside"].as_str().unwrap().contains("any AWS account"),
        "{alb}"
    );
    // Pinned to the account's own trail: the service acts for the account only.
    let trail = can(
        "service:cloudtrail.amazonaws.com",
        "s3:PutObject",
        "arn:aws:s3:::acme-trail/AWSLogs/111122223333/x.json.gz",
        &[],
    );
    assert_eq!(trail["verdict"], "reachable", "{trail}");
    let described = trail["outside"].as_str().unwrap();
    assert!(
        described.contains("account 111122223333, the account's own"),
        "{trail}"
    );
    // A service the bucket's policy does not admit cannot.
    let other = can(
        "service:cloudtrail.amazonaws.com",
        "s3:PutObject",
        "arn:aws:s3:::acme-alb-logs/AWSLogs/111122223333/x.log",
        &[],
    );
    assert_eq!(other["verdict"], "unreachable", "{other}");
}

#[test]
fn outside_rows_are_exactly_the_callers_the_policies_let_in() {
    assert_eq!(
        outside_rows("s3:PutObject", "arn:aws:s3:::acme-artifacts/build.zip"),
        vec![reachable(GITHUB)]
    );
    assert_eq!(
        outside_rows("s3:GetObject", "arn:aws:s3:::acme-reports/r.pdf"),
        vec![
            reachable("arn:aws:iam::999988887777:root"),
            reachable("arn:aws:iam::444455556666:role/collector"),
        ]
    );
    assert_eq!(
        outside_rows("s3:GetObject", "arn:aws:s3:::acme-finance/q3.csv"),
        vec![reachable("saml:Okta")]
    );
    // A bucket no outside policy reaches has no outside row.
    assert_eq!(
        outside_rows("s3:DeleteObject", "arn:aws:s3:::acme-finance/q3.csv"),
        Vec::<(String, String)>::new()
    );
}

#[test]
fn only_proofs_count_outside_callers_and_let_a_file_name_them() {
    let run = iamproof(&["prove", "--quiet", "tests/fixtures/outside/proofs.json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!("outside_only_proofs", run.stdout);
}

#[test]
fn an_unknown_outside_caller_is_a_user_error() {
    let run = iamproof(&[
        "can",
        "--account",
        ACCOUNT,
        "--principal",
        "oidc:bitbucket.org",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::acme-site/index.html",
    ]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("oidc:bitbucket.org"), "{}", run.stderr);
}

// STS takes a token only when its audience is one of the provider's client ids, whatever the
// trust policy tests ("Create an OpenID Connect (OIDC) identity provider in IAM",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html).
#[test]
fn the_provider_s_client_ids_bound_the_audience_the_trust_does_not_test() {
    let resource = "arn:aws:s3:::acme-docs/guide.html";
    let client = can(
        GITHUB,
        "s3:PutObject",
        resource,
        &["token.actions.githubusercontent.com:aud=sts.amazonaws.com"],
    );
    assert_eq!(client["verdict"], "reachable", "{client}");
    let other = can(
        GITHUB,
        "s3:PutObject",
        resource,
        &["token.actions.githubusercontent.com:aud=https://github.com/acme"],
    );
    assert_eq!(other["verdict"], "unreachable", "{other}");
}

#[test]
fn a_provider_the_account_does_not_have_is_an_assumption() {
    let answer = can(
        "oidc:gitlab.com",
        "s3:PutObject",
        "arn:aws:s3:::acme-docs/guide.html",
        &[],
    );
    assert_eq!(answer["verdict"], "reachable", "{answer}");
    let assumptions = answer["assumptions"].to_string();
    assert!(
        assumptions.contains("not among the identity providers"),
        "{answer}"
    );
}

#[test]
fn can_answers_for_outside_callers_are_pinned() {
    for (name, principal, action, resource, context) in [
        (
            "github_org_wide",
            GITHUB,
            "s3:PutObject",
            "arn:aws:s3:::acme-artifacts/build.zip",
            None,
        ),
        (
            "github_other_branch",
            GITHUB,
            "s3:PutObject",
            "arn:aws:s3:::acme-site/index.html",
            Some("token.actions.githubusercontent.com:sub=repo:acme/site:ref:refs/heads/feature"),
        ),
        (
            "eks_service_account",
            "oidc:oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
            "s3:PutObject",
            "arn:aws:s3:::acme-uploads/a.mp4",
            None,
        ),
        (
            "saml",
            "saml:Okta",
            "s3:GetObject",
            "arn:aws:s3:::acme-finance/q3.csv",
            None,
        ),
        (
            "partner_without_external_id",
            "arn:aws:iam::999988887777:root",
            "s3:GetObject",
            "arn:aws:s3:::acme-reports/r.pdf",
            Some("sts:ExternalId=guessed"),
        ),
        (
            "elb_confused_deputy",
            "service:logdelivery.elasticloadbalancing.amazonaws.com",
            "s3:PutObject",
            "arn:aws:s3:::acme-alb-logs/AWSLogs/111122223333/x.log",
            None,
        ),
        (
            "cloudfront_other_bucket",
            "service:cloudfront.amazonaws.com",
            "s3:GetObject",
            "arn:aws:s3:::acme-finance/q3.csv",
            None,
        ),
        (
            "anonymous",
            "anonymous",
            "s3:GetObject",
            "arn:aws:s3:::acme-site/index.html",
            None,
        ),
    ] {
        let mut args = vec![
            "can",
            "--quiet",
            "--account",
            ACCOUNT,
            "--principal",
            principal,
            "--action",
            action,
            "--resource",
            resource,
        ];
        if let Some(pair) = context {
            args.extend(["--context", pair]);
        }
        let run = iamproof(&args);
        assert_ne!(run.code, 2, "{name}: {}", run.stderr);
        insta::assert_snapshot!(format!("outside_can_{name}"), run.stdout);
    }
}

#[test]
fn the_graph_names_providers_and_services_from_outside() {
    let run = iamproof(&[
        "graph",
        "--quiet",
        "--account",
        ACCOUNT,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::acme-*",
        "--format",
        "mermaid",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("outside_graph_writes", run.stdout);
}
