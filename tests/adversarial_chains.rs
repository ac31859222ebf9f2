//! Adversarial questions for the chain layer, each answer labelled by the AWS documentation.
//!
//! Every case runs `iamproof can` on a small snapshot under `tests/fixtures/adversarial/<case>/`
//! and checks the verdict (and the exit code): `reachable` with the hops of the witness chain,
//! `unreachable` (the verdict only), `unknown` (exit 3), or bad input (exit 2). The expected
//! answer is what AWS would decide, and the comment above each case names the documentation
//! page (title and URL) whose text decides it, not what the engine happens to do. Most
//! unreachable cases have a sibling one permission away that is reachable, so that a verdict
//! cannot pass by refusing everything.
//!
//! The account is `111122223333` in `us-east-1` throughout. Buckets encrypted with SSE-KMS by
//! default carry a bucket policy that requires the default key on every write (S3 applies default
//! encryption only to a write that names none: "If a PUT Object request doesn't specify any
//! server-side encryption, this default encryption will be applied", Amazon S3 API Reference,
//! ServerSideEncryptionByDefault,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ServerSideEncryptionByDefault.html>).

mod common;

use serde_json::Value;

const ACCOUNT: &str = "111122223333";
const MEDIA_OUT: &str = "arn:aws:s3:::media-out/*";
const SECURE_OUT: &str = "arn:aws:s3:::secure-out/*";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/3f1c9a52-7d84-4b6e-a0c3-9e2d5b7f1a68";

fn user(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

fn role(path_and_name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{path_and_name}")
}

/// A session of a role, whatever the session's name: matched as a prefix.
fn session_of(role_name: &str) -> String {
    format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/*")
}

/// One hop of a witness chain: who calls which action on which resource, with which context.
#[derive(Debug)]
struct Hop {
    principal: String,
    action: String,
    resource: String,
    context: Value,
}

/// What `iamproof can --format json` answered.
#[derive(Debug)]
struct Answer {
    code: i32,
    verdict: Option<String>,
    chain: Vec<Hop>,
    stdout: String,
    stderr: String,
}

fn can(case: &str, principal: &str, action: &str, resource: &str) -> Answer {
    let account = format!("tests/fixtures/adversarial/{case}");
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
        "--format",
        "json",
    ]);
    let json: Option<Value> = serde_json::from_str(&run.stdout).ok();
    let verdict = json
        .as_ref()
        .and_then(|j| j["verdict"].as_str())
        .map(str::to_string);
    let chain = json
        .as_ref()
        .and_then(|j| j["chain"].as_array())
        .map(|hops| {
            hops.iter()
                .map(|h| Hop {
                    principal: h["principal"].as_str().unwrap_or_default().to_string(),
                    action: h["action"].as_str().unwrap_or_default().to_string(),
                    resource: h["resource"].as_str().unwrap_or_default().to_string(),
                    context: h["context"].clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    Answer {
        code: run.code,
        verdict,
        chain,
        stdout: run.stdout,
        stderr: run.stderr,
    }
}

/// `pattern` ending in `*` matches by prefix, otherwise exactly.
fn matches(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

/// Reachable, and the witness chain is exactly these (principal, action) hops, in order.
fn assert_reachable<'a>(answer: &'a Answer, hops: &[(&str, &str)]) -> &'a Answer {
    assert_eq!(
        (answer.code, answer.verdict.as_deref()),
        (0, Some("reachable")),
        "expected reachable\n{}\n{}",
        answer.stdout,
        answer.stderr
    );
    let got: Vec<(&str, &str)> = answer
        .chain
        .iter()
        .map(|h| (h.principal.as_str(), h.action.as_str()))
        .collect();
    let same = got.len() == hops.len()
        && got
            .iter()
            .zip(hops)
            .all(|((p, a), (ep, ea))| matches(ep, p) && a == ea);
    assert!(
        same,
        "witness hops differ\n expected {hops:?}\n got      {got:?}\n{}",
        answer.stdout
    );
    answer
}

fn assert_unreachable(answer: &Answer) {
    assert_eq!(
        (answer.code, answer.verdict.as_deref()),
        (0, Some("unreachable")),
        "expected unreachable\n{}\n{}",
        answer.stdout,
        answer.stderr
    );
}

fn assert_unknown(answer: &Answer) {
    assert_eq!(
        (answer.code, answer.verdict.as_deref()),
        (3, Some("unknown")),
        "expected unknown (exit 3)\n{}\n{}",
        answer.stdout,
        answer.stderr
    );
}

fn assert_bad_input(answer: &Answer) {
    assert_eq!(
        answer.code, 2,
        "expected bad input (exit 2), not an answer\n{}\n{}",
        answer.stdout, answer.stderr
    );
}

/// The four hops of a MediaConvert job submitted by `user/editor` with `role/MediaConvertRole`.
const EDITOR_JOB: [(&str, &str); 3] = [
    (
        "arn:aws:iam::111122223333:user/editor",
        "mediaconvert:CreateJob",
    ),
    ("arn:aws:iam::111122223333:user/editor", "iam:PassRole"),
    ("mediaconvert.amazonaws.com", "sts:AssumeRole"),
];
const JOB_ROLE: &str = "arn:aws:sts::111122223333:assumed-role/MediaConvertRole/*";

fn editor_job_then(last: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    EDITOR_JOB.iter().chain(last).copied().collect()
}

/// The context value a hop's witness gives a key, if any.
fn context_value<'a>(hop: &'a Hop, key: &str) -> Option<&'a Value> {
    hop.context
        .as_object()
        .and_then(|c| c.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
        .map(|(_, v)| v)
}

/// IAM User Guide condition-key rules, applied to the hop that really carries the key.
mod condition_keys_on_chains {
    use super::*;

    // "AWS global condition context keys", aws:SourceIp
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceip):
    // the key is the requester's IP address and is present unless a VPC endpoint is used. A
    // person may call from the office network: the grant is usable, under that assumption.
    #[test]
    fn source_ip_person_may_call_from_the_office() {
        let answer = can(
            "source-ip-person",
            &user("alice"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        assert_reachable(&answer, &[(&user("alice"), "s3:PutObject")]);
    }

    // Same page, aws:SourceIp: "this policy denies access if an AWS service makes calls on the
    // principal's behalf"; and the AWS knowledge-center article "How can I use IAM roles to
    // restrict API calls from specific IP addresses to the AWS Management Console?"
    // (https://repost.aws/knowledge-center/iam-restrict-calls-ip-addresses): with a service
    // role, "the target service ... sees the IP address of the calling service ... instead of
    // the originating user. You can't pass the originating IP address through a calling
    // service". MediaConvert writes with its service role, so the write never comes from
    // 203.0.113.0/24.
    #[test]
    fn source_ip_service_role_write_does_not_come_from_the_office() {
        assert_unreachable(&can(
            "source-ip-service-role",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }

    // Sibling: the role also holds an unconditioned write grant.
    #[test]
    fn source_ip_service_role_plus_unconditioned_grant() {
        let answer = can(
            "source-ip-service-role-plus-unconditioned",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        assert_reachable(&answer, &editor_job_then(&[(JOB_ROLE, "s3:PutObject")]));
    }

    // "AWS global condition context keys", aws:ViaAWSService
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-viaawsservice):
    // "The context key returns false if the service uses a service role or service-linked role to
    // make a call on the principal's behalf." A grant requiring true never matches MediaConvert's
    // write with its service role.
    #[test]
    fn via_aws_service_is_false_for_a_service_role() {
        assert_unreachable(&can(
            "via-service-service-role",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }

    // Same sentence: a grant requiring aws:ViaAWSService false does match the service role's write.
    #[test]
    fn via_aws_service_false_matches_a_service_role() {
        let answer = can(
            "via-service-service-role-false",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        assert_reachable(&answer, &editor_job_then(&[(JOB_ROLE, "s3:PutObject")]));
        let write = &answer.chain[3];
        if let Some(value) = context_value(write, "aws:ViaAWSService") {
            assert_eq!(value, "false", "{}", answer.stdout);
        }
    }

    // "AWS global condition context keys", aws:CalledVia
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-calledvia):
    // "This key is not present if the service uses a service role or service-linked role to make
    // a call on the principal's behalf." ForAnyValue on a missing key is false
    // ("Multivalued context keys", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
    #[test]
    fn called_via_is_absent_for_a_service_role() {
        assert_unreachable(&can(
            "called-via-service-role",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }

    // Sibling: the role also holds an unconditioned write grant.
    #[test]
    fn called_via_service_role_plus_unconditioned_grant() {
        let answer = can(
            "called-via-service-role-plus-unconditioned",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        assert_reachable(&answer, &editor_job_then(&[(JOB_ROLE, "s3:PutObject")]));
    }

    // "Forward access sessions" (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html):
    // S3 calls KMS for an SSE-KMS object with a forward access session of the caller, and "The
    // aws:ViaAWSService condition key is set to true whenever a FAS request is made". Alice's
    // key grant requiring aws:ViaAWSService true matches the GenerateDataKey that S3 makes for her
    // write.
    #[test]
    fn via_aws_service_is_true_on_the_kms_call_s3_makes_for_a_person() {
        let answer = can(
            "via-service-kms-person",
            &user("alice"),
            "s3:PutObject",
            SECURE_OUT,
        );
        assert_reachable(
            &answer,
            &[
                (&user("alice"), "s3:PutObject"),
                (&user("alice"), "kms:GenerateDataKey"),
            ],
        );
        if let Some(value) = context_value(&answer.chain[1], "aws:ViaAWSService") {
            assert_eq!(value, "true", "{}", answer.stdout);
        }
    }

    // Same page: a key grant requiring aws:ViaAWSService false never matches the KMS call that S3
    // makes, and the bucket policy forces the default key on every write.
    #[test]
    fn kms_grant_for_direct_calls_only_does_not_cover_s3() {
        assert_unreachable(&can(
            "via-service-kms-person-direct-only",
            &user("alice"),
            "s3:PutObject",
            SECURE_OUT,
        ));
    }

    // Same page: the FAS request carries the identity of whoever called S3, here the service
    // role's session, so aws:ViaAWSService is true on that KMS call even though the S3 call
    // itself (made by MediaConvert with the role) has it false.
    #[test]
    fn via_aws_service_is_true_on_the_kms_call_s3_makes_for_a_service_role() {
        let answer = can(
            "via-service-kms-service-role",
            &user("editor"),
            "s3:PutObject",
            SECURE_OUT,
        );
        assert_reachable(
            &answer,
            &editor_job_then(&[
                (JOB_ROLE, "s3:PutObject"),
                (JOB_ROLE, "kms:GenerateDataKey"),
            ]),
        );
    }

    // Sibling: the role's key grant requires aws:ViaAWSService false, which S3's FAS call is not.
    #[test]
    fn service_role_kms_grant_for_direct_calls_only_does_not_cover_s3() {
        assert_unreachable(&can(
            "via-service-kms-service-role-direct-only",
            &user("editor"),
            "s3:PutObject",
            SECURE_OUT,
        ));
    }

    // "AWS global condition context keys", aws:MultiFactorAuthPresent
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-multifactorauthpresent):
    // an IAM user may call with temporary credentials from GetSessionToken authenticated with MFA,
    // so `Bool aws:MultiFactorAuthPresent true` can hold for a person.
    #[test]
    fn mfa_person_may_have_mfa() {
        let answer = can("mfa-person", &user("alice"), "s3:PutObject", MEDIA_OUT);
        assert_reachable(&answer, &[(&user("alice"), "s3:PutObject")]);
    }

    // Same page: the key is present for temporary credentials (a role session is one) and says
    // whether MFA validated them; `Allow` with `Bool ... true` "does not allow ... requests made
    // using temporary credentials without MFA". MediaConvert assumes its service role without
    // MFA, so the role's MFA-only write grant never applies.
    #[test]
    fn mfa_service_role_session_has_no_mfa() {
        assert_unreachable(&can(
            "mfa-service-role",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }

    // Sibling: the role also holds an unconditioned write grant.
    #[test]
    fn mfa_service_role_plus_unconditioned_grant() {
        let answer = can(
            "mfa-service-role-plus-unconditioned",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        assert_reachable(&answer, &editor_job_then(&[(JOB_ROLE, "s3:PutObject")]));
    }

    // "AWS global condition context keys", aws:CurrentTime
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-currenttime):
    // it is "the date and time of the request" and "always included". A CreateJob grant that
    // ended in 2001 (DateLessThan 2001-01-01) matches no request made today.
    #[test]
    fn time_expired_submit_grant() {
        assert_unreachable(&can(
            "time-expired-submit",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }

    // Sibling: a grant that started in 2001 (DateGreaterThan) matches every request made today.
    #[test]
    fn time_started_submit_grant() {
        let answer = can(
            "time-started-submit",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        assert_reachable(&answer, &editor_job_then(&[(JOB_ROLE, "s3:PutObject")]));
    }

    // Same page: the role's write happens when the job runs, today too.
    #[test]
    fn time_expired_role_write_grant() {
        assert_unreachable(&can(
            "time-expired-role-write",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }

    // Sibling: the role also holds an unconditioned write grant.
    #[test]
    fn time_expired_role_write_plus_unconditioned_grant() {
        let answer = can(
            "time-expired-role-write-plus-unconditioned",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        assert_reachable(&answer, &editor_job_then(&[(JOB_ROLE, "s3:PutObject")]));
    }
}

/// Role chaining, deep and cyclic.
mod role_chains {
    use super::*;

    // "Roles terms and concepts", role chaining
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining):
    // a role session may assume another role; the documentation limits the session duration of a
    // chained role (one hour), not the number of roles in a chain. user/dev -> Hop1 -> ... ->
    // Hop6, each trusting the one before it and allowed to assume the next; Hop6 writes.
    #[test]
    fn six_roles_deep() {
        let answer = can("role-chain-six", &user("dev"), "s3:PutObject", MEDIA_OUT);
        let dev = user("dev");
        let sessions: Vec<String> = (1..=6).map(|i| session_of(&format!("Hop{i}"))).collect();
        let mut hops: Vec<(&str, &str)> = vec![(&dev, "sts:AssumeRole")];
        hops.extend(sessions[..5].iter().map(|s| (s.as_str(), "sts:AssumeRole")));
        hops.push((&sessions[5], "s3:PutObject"));
        assert_reachable(&answer, &hops);
    }

    // Sibling: Hop5 trusts someone else ("Policy evaluation logic": a role trust policy must
    // allow the caller explicitly, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html),
    // so nobody on the path reaches Hop6.
    #[test]
    fn six_roles_with_a_gap() {
        assert_unreachable(&can(
            "role-chain-six-gap",
            &user("dev"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }

    // CycleA -> CycleB -> CycleC -> CycleA, none of which may write: going round the cycle adds
    // nothing ("Roles terms and concepts", role chaining, as above).
    #[test]
    fn cycle_without_a_writer() {
        assert_unreachable(&can(
            "role-cycle-no-writer",
            &user("dev"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }

    // Sibling: CycleC may also write.
    #[test]
    fn cycle_with_a_writer() {
        let answer = can(
            "role-cycle-with-writer",
            &user("dev"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        let (a, b, c) = (
            session_of("CycleA"),
            session_of("CycleB"),
            session_of("CycleC"),
        );
        assert_reachable(
            &answer,
            &[
                (&user("dev"), "sts:AssumeRole"),
                (&a, "sts:AssumeRole"),
                (&b, "sts:AssumeRole"),
                (&c, "s3:PutObject"),
            ],
        );
    }
}

/// Trust policies that name a role, the account, or one role session.
mod trust_principals {
    use super::*;

    // AWS STS API Reference, "AssumeRole"
    // (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html): "To allow a user
    // to assume a role in the same account, you can do either of the following: attach a policy to
    // the user that allows the user to call AssumeRole (as long as the role's trust policy trusts
    // the account), or add the user as a principal directly in the role's trust policy." And
    // "Policy evaluation logic", same account (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html):
    // a resource-based policy naming an IAM role ARN allows the role's sessions unless a
    // boundary or session policy denies implicitly. B trusts role/A by ARN; A has no identity
    // grant for sts:AssumeRole and needs none.
    #[test]
    fn trust_naming_the_role_arn_needs_no_identity_grant() {
        let answer = can(
            "trust-names-role-arn",
            &user("dev"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        let (a, b) = (session_of("A"), session_of("B"));
        assert_reachable(
            &answer,
            &[
                (&user("dev"), "sts:AssumeRole"),
                (&a, "sts:AssumeRole"),
                (&b, "s3:PutObject"),
            ],
        );
    }

    // Same AssumeRole text: a trust policy naming the account delegates to IAM, so A's session
    // also needs an identity grant, which it lacks here.
    #[test]
    fn trust_naming_the_account_needs_an_identity_grant() {
        assert_unreachable(&can(
            "trust-names-account-no-identity-grant",
            &user("dev"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }

    // Sibling: A holds sts:AssumeRole on B.
    #[test]
    fn trust_naming_the_account_with_an_identity_grant() {
        let answer = can(
            "trust-names-account-with-identity-grant",
            &user("dev"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        let (a, b) = (session_of("A"), session_of("B"));
        assert_reachable(
            &answer,
            &[
                (&user("dev"), "sts:AssumeRole"),
                (&a, "sts:AssumeRole"),
                (&b, "s3:PutObject"),
            ],
        );
    }

    // "AWS JSON policy elements: Principal", role session principals
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-role-session):
    // a resource-based policy may name `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`; and
    // AssumeRole's RoleSessionName is chosen by the caller
    // (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html). B trusts only
    // the session `assumed-role/A/deploy`; dev may name its session of A "deploy".
    #[test]
    fn trust_naming_a_session_the_caller_can_name() {
        let answer = can(
            "trust-names-session-arn",
            &user("dev"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        let b = session_of("B");
        let answer = assert_reachable(
            &answer,
            &[
                (&user("dev"), "sts:AssumeRole"),
                (
                    "arn:aws:sts::111122223333:assumed-role/A/deploy",
                    "sts:AssumeRole",
                ),
                (&b, "s3:PutObject"),
            ],
        );
        assert_eq!(answer.chain[1].resource, role("B"));
    }

    // Sibling the other way: A's trust pins the session name to `${aws:username}` (the example of
    // "IAM and AWS STS condition context keys", sts:RoleSessionName,
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_rolesessionname),
    // so dev's session of A is `assumed-role/A/dev`, never `.../deploy`.
    #[test]
    fn trust_naming_a_session_the_caller_cannot_name() {
        assert_unreachable(&can(
            "trust-names-session-arn-name-pinned",
            &user("dev"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }
}

/// A role session named by the caller and granted by name.
mod session_names {
    use super::*;

    // "IAM and AWS STS condition context keys", sts:RoleSessionName
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_rolesessionname):
    // the documented trust policy (account principal, `StringLike sts:RoleSessionName
    // ${aws:username}`) makes each IAM user name the session after itself. The bucket policy of
    // media-out names the session `assumed-role/R/alice` ("AWS JSON policy elements: Principal",
    // role session principals), so alice writes through R.
    #[test]
    fn alice_writes_as_her_own_session() {
        let answer = can(
            "session-name-username",
            &user("alice"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        let answer = assert_reachable(
            &answer,
            &[
                (&user("alice"), "sts:AssumeRole"),
                (
                    "arn:aws:sts::111122223333:assumed-role/R/alice",
                    "s3:PutObject",
                ),
            ],
        );
        if let Some(name) = context_value(&answer.chain[0], "sts:RoleSessionName") {
            assert_eq!(name, "alice", "{}", answer.stdout);
        }
    }

    // Same pages: bob may assume R only as `assumed-role/R/bob`, which the bucket policy does not
    // name, and R itself has no S3 grant.
    #[test]
    fn bob_cannot_pose_as_alice() {
        assert_unreachable(&can(
            "session-name-username",
            &user("bob"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }
}

/// Session tags passed at AssumeRole and tested as principal tags.
mod session_tags {
    use super::*;

    // "Pass session tags in AWS STS" (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html):
    // tags passed with AssumeRole become aws:PrincipalTag of the session; passing them needs
    // sts:TagSession, allowed by the caller's policy and by the role's trust policy
    // ("Permissions required to add session tags"). Alice may tag team=media (aws:RequestTag/team)
    // and R's trust allows sts:TagSession; R writes only when aws:PrincipalTag/team is media.
    #[test]
    fn tag_passed_at_assume_role_unlocks_the_write() {
        let answer = can(
            "session-tags-trusted",
            &user("alice"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        let r = session_of("R");
        assert_reachable(
            &answer,
            &[
                (&user("alice"), "sts:AssumeRole"),
                // The same call is authorized for sts:TagSession too.
                (&user("alice"), "sts:TagSession"),
                (&r, "s3:PutObject"),
            ],
        );
    }

    // Same page: without sts:TagSession in R's trust policy the tags cannot be passed, R has no
    // team tag of its own, so its sessions never carry aws:PrincipalTag/team.
    #[test]
    fn trust_without_tag_session() {
        assert_unreachable(&can(
            "session-tags-not-trusted",
            &user("alice"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }
}

/// A MediaConvert job in a region the snapshot does not describe.
mod mediaconvert_regions {
    use super::*;

    // MediaConvert User Guide, "Creating a queue"
    // (https://docs.aws.amazon.com/mediaconvert/latest/ug/creating-queues.html): "A default queue
    // is available in all AWS Regions." The editor may create jobs only on eu-west-1 queues (the
    // snapshot is us-east-1 and lists none); the eu-west-1 Default queue exists.
    #[test]
    fn default_queue_of_another_region() {
        let answer = can(
            "mediaconvert-other-region",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        let answer = assert_reachable(&answer, &editor_job_then(&[(JOB_ROLE, "s3:PutObject")]));
        assert_eq!(
            answer.chain[0].resource,
            "arn:aws:mediaconvert:eu-west-1:111122223333:queues/Default"
        );
    }

    // Sibling the other way: the role trusts MediaConvert only for us-east-1 queues
    // (aws:SourceArn, "AWS global condition context keys", the ARN of the resource that makes the
    // service-to-service request; for MediaConvert the job's queue), so a job of eu-west-1 cannot
    // use it.
    #[test]
    fn trust_pinned_to_the_home_region() {
        assert_unreachable(&can(
            "mediaconvert-other-region-trust-pinned",
            &user("editor"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }
}

/// Service and resource control policies, and whom they do not restrict.
mod organizations {
    use super::*;

    // AWS Organizations User Guide, "Service control policies (SCPs)"
    // (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html):
    // "SCPs don't affect users or roles in the management account. They affect only the member
    // accounts in your organization." `organizations/organization.json` (the output of
    // `aws organizations describe-organization`) names 111122223333 as `MasterAccountId`; an SCP
    // at the root denies s3:PutObject.
    #[test]
    fn scp_does_not_restrict_the_management_account() {
        let answer = can(
            "scp-management-account",
            &user("alice"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        assert_reachable(&answer, &[(&user("alice"), "s3:PutObject")]);
    }

    // Sibling: the same organization with another management account; 111122223333 is a member.
    #[test]
    fn scp_restricts_a_member_account() {
        assert_unreachable(&can(
            "scp-member-account",
            &user("alice"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }

    // Same page: "SCPs do not affect any service-linked role." The role's path is
    // /aws-service-role/ ("Create a service-linked role",
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create-service-linked-role.html).
    #[test]
    fn scp_does_not_restrict_a_service_linked_role() {
        let principal =
            role("aws-service-role/storagegateway.amazonaws.com/AWSServiceRoleForStorageGateway");
        let answer = can(
            "scp-service-linked-role",
            &principal,
            "s3:PutObject",
            MEDIA_OUT,
        );
        assert_reachable(
            &answer,
            &[(
                &session_of("AWSServiceRoleForStorageGateway"),
                "s3:PutObject",
            )],
        );
    }

    // Sibling: the same role at path `/` is an ordinary role, which the SCP restricts.
    #[test]
    fn scp_restricts_an_ordinary_role() {
        assert_unreachable(&can(
            "scp-ordinary-role",
            &role("AWSServiceRoleForStorageGateway"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }

    // AWS KMS Developer Guide, "Resource control policies in AWS KMS"
    // (https://docs.aws.amazon.com/kms/latest/developerguide/resource-control-policies.html):
    // "Resource control policies in your organization do not apply to AWS managed keys." The
    // default key of secure-out is `aws/s3` (KeyManager AWS, with its AWS-written key policy); an
    // RCP at the root denies kms:*.
    #[test]
    fn rcp_does_not_apply_to_an_aws_managed_key() {
        let answer = can(
            "rcp-aws-managed-key",
            &user("alice"),
            "s3:PutObject",
            SECURE_OUT,
        );
        assert_reachable(
            &answer,
            &[
                (&user("alice"), "s3:PutObject"),
                (&user("alice"), "kms:GenerateDataKey"),
            ],
        );
    }

    // Sibling: the same key policy on a customer managed key, which the RCP does restrict.
    #[test]
    fn rcp_applies_to_a_customer_managed_key() {
        assert_unreachable(&can(
            "rcp-customer-managed-key",
            &user("alice"),
            "s3:PutObject",
            SECURE_OUT,
        ));
    }
}

/// KMS key states, and default keys in accounts the snapshots do not describe.
mod kms_keys {
    use super::*;

    // Sibling of the two below: an enabled key with the same policies.
    #[test]
    fn enabled_key() {
        assert_reachable(
            &can(
                "kms-key-enabled",
                &user("alice"),
                "kms:GenerateDataKey",
                KEY,
            ),
            &[(&user("alice"), "kms:GenerateDataKey")],
        );
        assert_reachable(
            &can(
                "kms-key-enabled",
                &user("alice"),
                "s3:PutObject",
                SECURE_OUT,
            ),
            &[
                (&user("alice"), "s3:PutObject"),
                (&user("alice"), "kms:GenerateDataKey"),
            ],
        );
    }

    // AWS KMS Developer Guide, "Enable and disable keys"
    // (https://docs.aws.amazon.com/kms/latest/developerguide/enabling-keys.html): "If you disable
    // a KMS key, it cannot be used in any cryptographic operation until you re-enable it"; and
    // "Key states of AWS KMS keys" (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html).
    #[test]
    fn disabled_key_refuses_cryptographic_operations() {
        for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
            assert_unreachable(&can("kms-key-disabled", &user("alice"), action, KEY));
        }
        assert_unreachable(&can(
            "kms-key-disabled",
            &user("alice"),
            "s3:PutObject",
            SECURE_OUT,
        ));
    }

    // "Key states of AWS KMS keys" (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html):
    // a key in the PendingDeletion state fails every cryptographic operation; "Delete an AWS KMS
    // key" (https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html): a key
    // pending deletion cannot be used in cryptographic operations.
    #[test]
    fn key_pending_deletion_refuses_cryptographic_operations() {
        for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
            assert_unreachable(&can(
                "kms-key-pending-deletion",
                &user("alice"),
                action,
                KEY,
            ));
        }
        assert_unreachable(&can(
            "kms-key-pending-deletion",
            &user("alice"),
            "s3:PutObject",
            SECURE_OUT,
        ));
    }

    // AWS KMS Developer Guide, "Allowing users in other accounts to use a KMS key"
    // (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html):
    // cross-account use needs the key policy of the key's account and an IAM policy in the
    // caller's account. secure-out's default key belongs to 444455556666, which no snapshot
    // describes; alice has no kms:GenerateDataKey grant of her own, whatever that key policy says.
    #[test]
    fn foreign_default_key_without_an_identity_grant() {
        assert_unreachable(&can(
            "kms-foreign-default-key-no-grant",
            &user("alice"),
            "s3:PutObject",
            SECURE_OUT,
        ));
    }

    // Sibling: alice holds kms:GenerateDataKey on that key; the unknown key policy may admit her.
    #[test]
    fn foreign_default_key_with_an_identity_grant() {
        let answer = can(
            "kms-foreign-default-key-with-grant",
            &user("alice"),
            "s3:PutObject",
            SECURE_OUT,
        );
        let answer = assert_reachable(
            &answer,
            &[
                (&user("alice"), "s3:PutObject"),
                (&user("alice"), "kms:GenerateDataKey"),
            ],
        );
        assert_eq!(
            answer.chain[1].resource,
            "arn:aws:kms:us-east-1:444455556666:key/9d8c7b6a-5f4e-4d3c-9b2a-1f0e9d8c7b6a"
        );
    }
}

/// Authorization details whose last page says more pages follow.
mod truncated_snapshots {
    use super::*;

    // IAM API Reference, "GetAccountAuthorizationDetails"
    // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html):
    // IsTruncated "indicates whether there are more items to return"; the last page kept says
    // true, so users, groups, roles and policies are missing (a missing role may trust alice by
    // ARN, which needs no grant of hers in the same account). No refutation is a proof.
    #[test]
    fn refutation_over_a_truncated_listing_is_unknown() {
        assert_unknown(&can(
            "gaad-truncated",
            &user("alice"),
            "s3:PutObject",
            MEDIA_OUT,
        ));
    }

    // Sibling: alice's own grant is on the pages kept, and a witness stays a witness.
    #[test]
    fn witness_over_a_truncated_listing_stands() {
        let answer = can(
            "gaad-truncated-direct-grant",
            &user("alice"),
            "s3:PutObject",
            MEDIA_OUT,
        );
        assert_reachable(&answer, &[(&user("alice"), "s3:PutObject")]);
    }
}

/// Questions that name no real request are bad input, never proofs.
mod vacuous_questions {
    use super::*;

    // Service Authorization Reference, "Actions, resources, and condition keys for Amazon S3"
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html):
    // there is no action s3:PutObjcet, so "alice cannot s3:PutObjcet" proves nothing.
    #[test]
    fn misspelt_action() {
        assert_bad_input(&can(
            "vacuous-questions",
            &user("alice"),
            "s3:PutObjcet",
            "arn:aws:s3:::finance/*",
        ));
    }

    // Same page: PutObject's resource type is `object`,
    // `arn:${Partition}:s3:::${BucketName}/${ObjectName}`; `arn:aws:s3:::finance` is a bucket and
    // no PutObject request is made on it.
    #[test]
    fn bucket_instead_of_object() {
        assert_bad_input(&can(
            "vacuous-questions",
            &user("alice"),
            "s3:PutObject",
            "arn:aws:s3:::finance",
        ));
    }

    // IAM User Guide, "IAM identifiers" / "Amazon Resource Names (ARNs)"
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html): resources are named
    // by ARN; `finance/report.csv` is none.
    #[test]
    fn resource_that_is_no_arn() {
        assert_bad_input(&can(
            "vacuous-questions",
            &user("alice"),
            "s3:PutObject",
            "finance/report.csv",
        ));
    }

    // Sibling: the well-formed question is answered.
    #[test]
    fn well_formed_question() {
        let answer = can(
            "vacuous-questions",
            &user("alice"),
            "s3:PutObject",
            "arn:aws:s3:::finance/*",
        );
        assert_reachable(&answer, &[(&user("alice"), "s3:PutObject")]);
    }
}

/// S3 Block Public Access over a bucket policy that admits everyone.
mod block_public_access {
    use super::*;

    /// The `*` line of `who-can` (callers outside the snapshots) for reads of the shared bucket.
    fn outsiders(case: &str) -> Value {
        let account = format!("tests/fixtures/adversarial/{case}");
        let run = common::iamproof(&[
            "who-can",
            "--quiet",
            "--account",
            &account,
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::public-share/*",
            "--format",
            "json",
        ]);
        let answers: Value = serde_json::from_str(&run.stdout).expect("who-can prints JSON");
        answers["principals"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["principal"] == "anonymous")
            .cloned()
            .unwrap_or(Value::Null)
    }

    // "Blocking public access to your Amazon S3 storage"
    // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html):
    // a policy granting to "*" without restricting conditions is public; without Block Public
    // Access it lets anyone read.
    #[test]
    fn a_public_policy_admits_anyone() {
        assert_eq!(outsiders("bpa-public-policy")["verdict"], "reachable");
    }

    // Same page: with RestrictPublicBuckets, "only AWS service principals and authorized users
    // within the bucket owner's account" can use a public bucket policy. Whether a policy is
    // public is not judged by the model, so the answer is undecided, never "anyone can".
    #[test]
    fn restrict_public_buckets_makes_the_outside_answer_undecided() {
        let outside = outsiders("bpa-public-policy-restricted");
        assert_eq!(outside["verdict"], "unknown", "{outside}");
        assert!(outside["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("Block Public Access"));
    }
}

/// Session names, session tags, a service's source address and the age of a session, each
/// at the edge of what the search tries.
mod session_edges {
    use super::*;

    fn alice_writes(case: &str) -> Answer {
        can(case, &user("alice"), "s3:PutObject", "arn:aws:s3:::b/*")
    }

    // AssumeRole API reference, RoleSessionName: the caller names the session; any policy of
    // the call may test the name (here the caller's own identity policy).
    #[test]
    fn a_name_the_callers_own_policy_asks_for() {
        assert_eq!(
            alice_writes("session-name-in-identity-policy")
                .verdict
                .as_deref(),
            Some("reachable")
        );
    }

    // Same page: a name other than the one a StringNotEquals excludes.
    #[test]
    fn a_name_other_than_the_excluded_one() {
        assert_eq!(
            alice_writes("session-name-not-default").verdict.as_deref(),
            Some("reachable")
        );
    }

    // Same page: names are 2 to 64 characters, so a trust asking for one character admits
    // no session.
    #[test]
    fn a_one_character_name_is_refused() {
        assert_unreachable(&alice_writes("session-name-one-char"));
    }

    // "${aws:username}-*" admits alice-anything for alice.
    #[test]
    fn a_name_built_on_the_callers_user_name() {
        assert_eq!(
            alice_writes("session-name-username-prefix")
                .verdict
                .as_deref(),
            Some("reachable")
        );
    }

    // "AWS global condition context keys", aws:userid: a session's id is ROLEID:name, so
    // "*-deploy" admits a session named x-deploy.
    #[test]
    fn a_user_id_pattern_without_a_role_id() {
        assert_eq!(
            alice_writes("userid-pattern-without-colon")
                .verdict
                .as_deref(),
            Some("reachable")
        );
    }

    // "Pass session tags in AWS STS": a tag passed at AssumeRole is the session's principal tag,
    // also where a policy uses it as a variable in a resource.
    #[test]
    fn a_tag_used_as_a_resource_variable() {
        assert_ne!(
            alice_writes("session-tag-in-resource-variable")
                .verdict
                .as_deref(),
            Some("unreachable")
        );
    }

    // Same page, "Permissions required to add session tags": without sts:TagSession no tag is
    // passed, so a trust condition on aws:RequestTag fails.
    #[test]
    fn request_tags_need_tag_session() {
        assert_unreachable(&alice_writes("request-tag-without-tagsession"));
    }

    // re:Post "iam-restrict-calls-ip-addresses": the target service sees the calling
    // service's address; whether it lies in a public range a policy names is not recorded.
    #[test]
    fn a_service_address_against_public_ranges_is_undecided() {
        assert_unknown(&alice_writes("service-sourceip-any-address"));
        assert_unknown(&alice_writes("service-sourceip-aws-range"));
    }

    // "Chaining roles with session tags" (id_session-tags.html#id_session-tags_role-chaining):
    // tags a session marks transitive pass on to the sessions it makes.
    #[test]
    fn transitive_tags_pass_along_a_chain() {
        assert_eq!(
            alice_writes("transitive-session-tag").verdict.as_deref(),
            Some("reachable")
        );
    }

    // aws:TokenIssueTime is when the session's credentials were issued: never after the
    // question's instant.
    #[test]
    fn no_session_is_issued_after_the_question() {
        assert_ne!(
            alice_writes("token-issue-after-clock").verdict.as_deref(),
            Some("reachable")
        );
    }
}

/// API Gateway REST APIs are judged with their resource policies.
mod api_gateway {
    use super::*;

    const METHODS: &str = "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/GET/*";

    // "How API Gateway resource policies affect authorization workflow"
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html):
    // an explicit deny in the resource policy denies the caller whatever its IAM policy allows.
    #[test]
    fn a_resource_policy_deny_blocks_the_caller() {
        assert_unreachable(&can(
            "api-policy-denies",
            &user("alice"),
            "execute-api:Invoke",
            METHODS,
        ));
    }

    // Same page: allowed by the IAM policy and by the resource policy.
    #[test]
    fn an_allowing_resource_policy_lets_the_caller_in() {
        assert_reachable(
            &can(
                "api-policy-allows",
                &user("alice"),
                "execute-api:Invoke",
                METHODS,
            ),
            &[(&user("alice"), "execute-api:Invoke")],
        );
    }
}
