//! Callers from outside the account, on adversarial snapshots: one folder per case under
//! `tests/fixtures/outside-adversarial` (written by its `generate.py`), each a single account
//! (111122223333) with the roles and buckets the case needs.
//!
//! Every test states what AWS does, with the page that says so. The verifier must never answer
//! `unreachable` (nor let an `only` proof pass) when an outside caller really can, and every
//! `reachable` witness must be a request AWS could really see.

mod common;

use common::iamproof;
use serde_json::Value;

const DIR: &str = "tests/fixtures/outside-adversarial";
const DATA: &str = "arn:aws:s3:::acme-data/x";
const LOGS: &str = "arn:aws:s3:::acme-logs/x";
const GITHUB: &str = "oidc:token.actions.githubusercontent.com";

fn account(case: &str) -> String {
    format!("{DIR}/{case}")
}

fn who_can_run(case: &str, action: &str, resource: &str, format: &str) -> common::Run {
    let dir = account(case);
    let run = iamproof(&[
        "who-can",
        "--quiet",
        "--account",
        &dir,
        "--action",
        action,
        "--resource",
        resource,
        "--format",
        format,
    ]);
    assert_ne!(run.code, 2, "{}", run.stderr);
    run
}

/// The outside rows of `who-can`: (principal, verdict, whom it stands for, the full row).
fn outside_rows(case: &str, action: &str, resource: &str) -> Vec<(String, String, String, Value)> {
    let run = who_can_run(case, action, resource, "json");
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
                row["outside"].as_str().unwrap_or_default().to_string(),
                row.clone(),
            )
        })
        .collect()
}

fn verdict_of(case: &str, action: &str, resource: &str, principal: &str) -> Option<String> {
    outside_rows(case, action, resource)
        .into_iter()
        .find(|(p, ..)| p == principal)
        .map(|(_, v, ..)| v)
}

fn can(case: &str, principal: &str, action: &str, resource: &str) -> Value {
    let dir = account(case);
    let run = iamproof(&[
        "can",
        "--quiet",
        "--account",
        &dir,
        "--principal",
        principal,
        "--action",
        action,
        "--resource",
        resource,
        "--format",
        "json",
    ]);
    assert_ne!(run.code, 2, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("can prints JSON")
}

fn prove(case: &str) -> common::Run {
    iamproof(&["prove", "--quiet", &format!("{DIR}/proofs-{case}.json")])
}

/// Whether some outside row is not `unreachable`: a caller from outside can, or may.
fn some_outside_caller_may(case: &str, action: &str, resource: &str) -> bool {
    outside_rows(case, action, resource)
        .iter()
        .any(|(_, verdict, ..)| verdict != "unreachable")
}

// ---------------------------------------------------------------------------------------------
// Defects: these fail today.
// ---------------------------------------------------------------------------------------------

/// `Principal: {"AWS": "*"}` narrowed by `aws:PrincipalAccount` to a partner: any principal of
/// 999988887777 that its own account allows may assume the role. The account appears in no
/// Principal element, so no row stands for it, and the stand-in account 000000000000 fails
/// the condition. "aws:PrincipalAccount ... the account to which the requesting principal
/// belongs", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalaccount
/// and "you can change the account to \"*\" to allow everyone to assume the role ... limit who
/// can access the role through other means, such as a Condition element",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
#[test]
fn an_account_admitted_by_aws_principal_account_is_an_outside_caller() {
    assert!(
        some_outside_caller_may("principal-account-condition", "s3:GetObject", DATA),
        "{:?}",
        outside_rows("principal-account-condition", "s3:GetObject", DATA)
    );
    let run = prove("principal-account-condition");
    assert_ne!(
        run.code, 0,
        "an only proof without 999988887777 must not hold: {}",
        run.stdout
    );
}

/// A bucket that admits `aws:PrincipalArn` like `arn:aws:iam::*:role/ci-*`: any account can
/// create a role named ci-x and read. The root that stands for "any account" is no role, so
/// `account:*` comes out unreachable. Same page, #condition-keys-principalarn ("For IAM roles,
/// the request context returns the ARN of the role, not the ARN of the user that assumed the
/// role").
#[test]
fn any_account_role_admitted_by_a_principal_arn_pattern_can() {
    let verdict = verdict_of("principal-arn-pattern", "s3:GetObject", DATA, "account:*");
    assert!(
        matches!(verdict.as_deref(), Some("reachable") | Some("unknown")),
        "account:* must not be unreachable: {verdict:?}"
    );
}

/// `aws:PrincipalType` = `AssumedRole` with `{"AWS": "*"}`: every account's role sessions can.
/// "aws:PrincipalType ... AssumedRole" on the global keys page,
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principaltype
#[test]
fn any_account_role_session_admitted_by_principal_type_can() {
    let verdict = verdict_of(
        "principal-type-condition",
        "s3:GetObject",
        DATA,
        "account:*",
    );
    assert!(
        matches!(verdict.as_deref(), Some("reachable") | Some("unknown")),
        "account:* must not be unreachable: {verdict:?}"
    );
}

/// A trust naming the partner's root but narrowed by `aws:PrincipalArn` to its roles named
/// deploy-*: the partner's role deploy-x can ("Specifying the account root ... allows any
/// principal of that account ... you can restrict further with conditions",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts).
/// The row of the account searches from its root only, which the condition refuses, so the
/// answer is unreachable and an `only` proof without the partner holds.
#[test]
fn a_named_account_narrowed_to_its_roles_still_can() {
    let row = verdict_of(
        "named-account-role-condition",
        "s3:GetObject",
        DATA,
        "arn:aws:iam::999988887777:root",
    );
    assert!(
        matches!(row.as_deref(), Some("reachable") | Some("unknown")),
        "the partner's row must not be unreachable: {row:?}"
    );
    let answer = can(
        "named-account-role-condition",
        "arn:aws:iam::999988887777:root",
        "s3:GetObject",
        DATA,
    );
    assert_ne!(answer["verdict"], "unreachable", "{answer}");
}

/// A trust naming the partner account with `aws:PrincipalTag/team` = data: the partner tags
/// its own roles as it likes ("aws:PrincipalTag ... the tag attached to the principal making
/// the request", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principaltag).
/// Its tags are not in the snapshots, so they cannot be taken to be absent.
#[test]
fn a_named_account_whose_principals_must_carry_a_tag_still_can() {
    let row = verdict_of(
        "named-account-principal-tag",
        "s3:GetObject",
        DATA,
        "arn:aws:iam::999988887777:root",
    );
    assert!(
        matches!(row.as_deref(), Some("reachable") | Some("unknown")),
        "the partner's row must not be unreachable: {row:?}"
    );
}

/// The same, for a role of another account named by ARN in a bucket policy: that role's tags
/// are its account's and not in the snapshots (same page as above).
#[test]
fn a_named_outside_role_with_a_tag_condition_may() {
    let row = verdict_of(
        "named-role-tag",
        "s3:GetObject",
        DATA,
        "arn:aws:iam::999988887777:role/reader",
    );
    assert!(
        matches!(row.as_deref(), Some("reachable") | Some("unknown")),
        "the partner's role must not be unreachable: {row:?}"
    );
}

/// A trust with two providers that tests GitHub's claims only. A token's claims are keyed by
/// its own issuer ("token.actions.githubusercontent.com:sub" comes from a GitHub token; a
/// Google token brings accounts.google.com:sub, ...: "Available keys for OIDC federation",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif).
/// A Google token has no token.actions.githubusercontent.com:sub, so StringEquals on it fails
/// ("If the key that you specify in a policy condition is not present in the request context,
/// the values do not match", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
/// Today the Google row is reachable with a witness whose Google token carries GitHub claims.
#[test]
fn a_token_carries_only_its_own_providers_claims() {
    let rows = outside_rows("two-providers", "s3:GetObject", DATA);
    let google = rows.iter().find(|(p, ..)| p == "oidc:accounts.google.com");
    assert!(
        google.is_none_or(|(_, v, ..)| v == "unreachable"),
        "a Google token carries no GitHub claims: {google:?}"
    );
    let github = rows.iter().find(|(p, ..)| p == GITHUB);
    assert_eq!(github.map(|(_, v, ..)| v.as_str()), Some("reachable"));
}

/// An OIDC provider that passes session tags in the token's `https://aws.amazon.com/tags`
/// claim, a trust allowing `sts:TagSession` and testing the token's aud. The claims are part of
/// the request: the sts:TagSession check of the same AssumeRoleWithWebIdentity call sees the
/// same aud ("Passing session tags using AssumeRoleWithWebIdentity",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_adding-assume-role-idp).
/// The tagged session then reads. Today the tagged hop finds `auth.example.com:aud` absent and
/// the answer is `unreachable` (docs/outside-callers.md says token tags are not tried; then the
/// answer must be `unknown`, not `unreachable`).
#[test]
fn web_identity_session_tags_from_the_token_are_not_refuted() {
    let answer = can(
        "web-identity-session-tags",
        "oidc:auth.example.com",
        "s3:GetObject",
        DATA,
    );
    assert_ne!(answer["verdict"], "unreachable", "{answer}");
    assert!(some_outside_caller_may(
        "web-identity-session-tags",
        "s3:GetObject",
        DATA
    ));
}

/// A trust that requires `sts:SourceIdentity` = alice without allowing `sts:SetSourceIdentity`.
/// "Permissions required to set source identity": for SAML and OIDC, the role's trust policy
/// must allow sts:SetSourceIdentity, else the call fails,
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html#id_credentials_temp_control-access_monitor-perms
/// Without a source identity the condition fails, so no token can. Today the witness sets
/// sts:SourceIdentity=alice with no sts:SetSourceIdentity check.
#[test]
fn a_source_identity_needs_set_source_identity_in_the_trust() {
    let answer = can("web-identity-source-identity", GITHUB, "s3:GetObject", DATA);
    assert_eq!(answer["verdict"], "unreachable", "{answer}");
}

/// A federated session chains to a role whose trust tests `aws:FederatedProvider` (present on a
/// role session assumed through OIDC federation: "aws:FederatedProvider",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-federatedprovider).
/// `can` finds the three-hop witness; `who-can` drops the provider's row (its search skips
/// the step out of gha-entry as a dead end), so an `only` proof naming no outside caller holds.
#[test]
fn who_can_agrees_with_can_on_a_chain_through_aws_federated_provider() {
    let answer = can("federated-provider-key", GITHUB, "s3:GetObject", DATA);
    assert_eq!(answer["verdict"], "reachable", "{answer}");
    assert_eq!(
        verdict_of("federated-provider-key", "s3:GetObject", DATA, GITHUB).as_deref(),
        Some("reachable"),
        "who-can must list what can finds"
    );
    let run = prove("federated-provider-key");
    assert_ne!(run.code, 0, "the only proof must fail: {}", run.stdout);
}

/// A service admitted for `aws:SourceOrgID` = o-abcdef1234: the service acts for resources of
/// that organization's accounts only ("aws:SourceOrgID ... the organization ID of the resource
/// making a service-to-service request",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceorgid,
/// and "The confused deputy problem", https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
/// Today the row says the policy "does not pin ... aws:SourceOrgID" and calls it a confused
/// deputy of any AWS account, its witness giving the stranger account the organization's id.
#[test]
fn a_service_pinned_to_an_organization_is_not_a_deputy_of_any_account() {
    let rows = outside_rows("service-source-org", "s3:PutObject", LOGS);
    let (_, verdict, outside, _) = rows
        .iter()
        .find(|(p, ..)| p == "service:delivery.logs.amazonaws.com")
        .expect("the service row");
    assert_eq!(verdict, "reachable");
    assert!(
        !outside.contains("any AWS account") && !outside.contains("does not pin"),
        "the policy pins aws:SourceOrgID: {outside}"
    );
}

/// Markdown `who-can` drops whom an outside row stands for (the text and JSON forms carry it):
/// a reader of the markdown table sees `service:delivery.logs.amazonaws.com` but not that it
/// is a confused deputy, nor that `oidc:...` means any token whose claims pass.
#[test]
fn markdown_who_can_says_whom_each_outside_row_stands_for() {
    let run = who_can_run("public-read", "s3:GetObject", DATA, "markdown");
    assert!(
        run.stdout.contains("anyone, unauthenticated"),
        "{}",
        run.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// Cases that behave as AWS does: regression tests.
// ---------------------------------------------------------------------------------------------

/// `"Action": "sts:*"` and `"sts:AssumeRole*"` cover the federated calls ("Action" wildcards,
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
#[test]
fn federated_trusts_through_action_wildcards() {
    assert_eq!(
        verdict_of(
            "federated-wildcard-action",
            "s3:GetObject",
            "arn:aws:s3:::acme-data/x",
            GITHUB
        )
        .as_deref(),
        Some("reachable")
    );
    assert_eq!(
        verdict_of(
            "federated-wildcard-action",
            "s3:PutObject",
            DATA,
            "saml:Okta"
        )
        .as_deref(),
        Some("reachable")
    );
}

/// A Cognito identity pool role for authenticated identities: amr is multi-valued and carries
/// "authenticated" ("Role trust and permissions",
/// https://docs.aws.amazon.com/cognito/latest/developerguide/role-trust-and-permissions.html).
#[test]
fn cognito_authenticated_identities() {
    let answer = can(
        "cognito",
        "oidc:cognito-identity.amazonaws.com",
        "s3:GetObject",
        DATA,
    );
    assert_eq!(answer["verdict"], "reachable", "{answer}");
    let amr = &answer["chain"][0]["context"]["cognito-identity.amazonaws.com:amr"];
    assert!(
        amr.as_array()
            .is_some_and(|v| v.iter().any(|x| x == "authenticated")),
        "{answer}"
    );
}

/// A federated session assumes another role of the account (role chaining).
#[test]
fn federated_session_chains_to_another_role() {
    let answer = can("federated-chain", GITHUB, "s3:GetObject", DATA);
    assert_eq!(answer["verdict"], "reachable", "{answer}");
    assert_eq!(answer["chain"].as_array().unwrap().len(), 3, "{answer}");
    // The provider's ARN names the same caller.
    let by_arn = can(
        "federated-chain",
        "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
        "s3:GetObject",
        DATA,
    );
    assert_eq!(by_arn["verdict"], "reachable", "{by_arn}");
}

/// A public bucket policy: anonymous and any account can
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html).
#[test]
fn public_read_admits_anonymous_and_any_account() {
    for who in ["anonymous", "account:*"] {
        assert_eq!(
            verdict_of("public-read", "s3:GetObject", DATA, who).as_deref(),
            Some("reachable"),
            "{who}"
        );
    }
}

/// Allow with NotPrincipal admits everyone but the principals named
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html).
#[test]
fn not_principal_admits_everyone_else() {
    for who in ["anonymous", "account:*"] {
        assert_eq!(
            verdict_of("not-principal", "s3:GetObject", DATA, who).as_deref(),
            Some("reachable"),
            "{who}"
        );
    }
}

/// `Null aws:PrincipalAccount false` admits signed requests only: anonymous requests carry no
/// principal ("aws:PrincipalAccount ... is included in the request context for all signed
/// requests", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalaccount).
#[test]
fn signed_requests_only() {
    let rows = outside_rows("signed-only", "s3:GetObject", DATA);
    assert!(rows.iter().all(|(p, ..)| p != "anonymous"), "{rows:?}");
    assert_eq!(
        verdict_of("signed-only", "s3:GetObject", DATA, "account:*").as_deref(),
        Some("reachable")
    );
}

/// `aws:Referer` is whatever the caller sends
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-referer).
#[test]
fn referer_is_the_callers_choice() {
    assert_eq!(
        verdict_of("referer", "s3:GetObject", DATA, "anonymous").as_deref(),
        Some("reachable")
    );
}

/// RestrictPublicBuckets: a public policy admits only service principals and the owner's
/// principals (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html).
/// The verifier says `unknown`, which is sound.
#[test]
fn restrict_public_buckets_never_reachable_from_outside() {
    for case in ["restrict-public-buckets", "principal-org-id"] {
        for (who, verdict, ..) in outside_rows(case, "s3:GetObject", DATA) {
            if case == "restrict-public-buckets" {
                assert_ne!(verdict, "reachable", "{case} {who}");
            }
        }
    }
}

/// SAML session tags from PrincipalTag attributes, with sts:TagSession in the trust
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_adding-assume-role-saml).
#[test]
fn saml_session_tags() {
    let answer = can("saml-session-tags", "saml:Okta", "s3:GetObject", DATA);
    assert_eq!(answer["verdict"], "reachable", "{answer}");
    let actions: Vec<&str> = answer["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"sts:TagSession"), "{answer}");
}

/// SAML with `saml:sub_type` = persistent, and a web identity trust on the session name.
#[test]
fn saml_sub_type_and_web_identity_session_name() {
    let saml = can("saml-sub-type", "saml:Okta", "s3:GetObject", DATA);
    assert_eq!(saml["verdict"], "reachable", "{saml}");
    let named = can("web-identity-session-name", GITHUB, "s3:GetObject", DATA);
    assert_eq!(named["verdict"], "reachable", "{named}");
    assert!(
        named["chain"][0]["context"]["sts:RoleSessionName"]
            .as_str()
            .is_some_and(|n| n.starts_with("ci-")),
        "{named}"
    );
}

/// A service pinned to a partner account by aws:SourceAccount, with a deny for any other source
/// account: the row names the partner.
#[test]
fn service_pinned_to_a_partner_account() {
    let rows = outside_rows("service-partner-source", "s3:PutObject", LOGS);
    let (_, verdict, outside, _) = rows
        .iter()
        .find(|(p, ..)| p == "service:delivery.logs.amazonaws.com")
        .expect("the service row");
    assert_eq!(verdict, "reachable");
    assert!(outside.contains("999988887777"), "{outside}");
}

/// `only` proofs admit outside rows by `*`, a provider's ARN, a service's name and an account
/// id.
#[test]
fn only_proofs_name_outside_callers() {
    for case in [
        "public-read",
        "federated-chain",
        "service-partner-source",
        "named-account-role-condition",
    ] {
        let run = prove(case);
        assert_eq!(run.code, 0, "{case}: {}", run.stdout);
    }
}

/// A trust that admits everyone (`"Principal": "*"`) to `sts:AssumeRoleWithWebIdentity`: every
/// provider STS would take a token from is a caller, those AWS knows by name included. Whether
/// AWS admits such tokens is not settled by its pages, so the answer takes that it does: a
/// refutation would not be a proof.
#[test]
fn a_trust_open_to_everyone_admits_the_providers_aws_knows() {
    assert_eq!(
        verdict_of(
            "star-web-identity",
            "s3:GetObject",
            DATA,
            "oidc:accounts.google.com"
        )
        .as_deref(),
        Some("reachable")
    );
}
