//! The delegation graph's `AssumeRole` filter only over-approximates: whenever the concrete
//! evaluator allows a caller's `sts:AssumeRole` on a role, the graph has the step. Checked on
//! every combination of the trust policy's principal, the caller (a user, or a session of a
//! role with the name the trust may ask for) and the caller's identity grant.
//!
//! AWS: "Policy evaluation logic" and the STS `AssumeRole` API reference
//! (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html): within one
//! account a trust policy that names the caller (its ARN, its role, its session) allows on its
//! own; one that names the account delegates to the caller's identity policies.

use iamproof::eval::{evaluate, Decision, NamedPolicy, Principal, Request};
use iamproof::graph::{DelegationGraph, Step};
use iamproof::policy::Context;
use serde_json::json;

const ACCOUNT: &str = "111122223333";
const TARGET: &str = "arn:aws:iam::111122223333:role/Target";
const CALLER_ROLE: &str = "arn:aws:iam::111122223333:role/Caller";
const USER: &str = "arn:aws:iam::111122223333:user/alice";

/// The trust principals tried: the account (two spellings), the user, the caller's role, one
/// of its sessions, everyone, and another account.
const TRUST_PRINCIPALS: [&str; 7] = [
    "arn:aws:iam::111122223333:root",
    "111122223333",
    USER,
    CALLER_ROLE,
    "arn:aws:sts::111122223333:assumed-role/Caller/deploy",
    "*",
    "arn:aws:iam::444455556666:root",
];

/// The caller's identity grant: none, on the target, on every resource.
const GRANTS: [Option<&str>; 3] = [None, Some(TARGET), Some("*")];

fn policy_list(grant: Option<&str>) -> serde_json::Value {
    match grant {
        None => json!([]),
        Some(resource) => json!([{"PolicyName": "assume", "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": resource}]}}]),
    }
}

fn role(name: &str, trust_principal: &str, policies: serde_json::Value) -> serde_json::Value {
    json!({"Path": "/", "RoleName": name, "RoleId": format!("AROA{}", name.to_uppercase()),
        "Arn": format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": trust_principal}, "Action": "sts:AssumeRole"}]},
        "RolePolicyList": policies, "AttachedManagedPolicies": [], "Tags": []})
}

fn model(trust_principal: &str, grant: Option<&str>) -> iamproof::model::Model {
    let details = json!({
        "UserDetailList": [{"Path": "/", "UserName": "alice", "UserId": "AIDAALICE",
            "Arn": USER, "GroupList": [], "AttachedManagedPolicies": [],
            "UserPolicyList": policy_list(grant), "Tags": []}],
        "GroupDetailList": [],
        "RoleDetailList": [
            role("Target", trust_principal, json!([])),
            role("Caller", &format!("arn:aws:iam::{ACCOUNT}:root"), policy_list(grant)),
        ],
        "Policies": [],
        "IsTruncated": false,
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("iam")).unwrap();
    std::fs::write(
        dir.path().join("iam/account-authorization-details.json"),
        details.to_string(),
    )
    .unwrap();
    iamproof::snapshot::load(&[dir.path().to_path_buf()]).unwrap()
}

/// Whether the evaluator allows `caller` (acting as `acting`) to assume the target.
fn evaluator_allows(model: &iamproof::model::Model, caller: &str, acting: &str) -> bool {
    let mut policies = model.effective_policies(caller).unwrap().policy_set();
    policies.resource = Some(NamedPolicy {
        name: "trust".into(),
        policy: model.roles[TARGET].trust_policy.clone(),
    });
    let request = Request {
        principal: Principal::parse(acting).unwrap(),
        action: "sts:AssumeRole".into(),
        resource: TARGET.into(),
        resource_account: Some(ACCOUNT.into()),
        context: Context::new()
            .with("aws:PrincipalArn", caller)
            .with("aws:PrincipalAccount", ACCOUNT),
    };
    evaluate(&request, &policies).decision == Decision::Allowed
}

#[test]
fn every_assume_role_the_evaluator_allows_is_a_step_of_the_graph() {
    let callers = [
        (USER, USER),
        (
            CALLER_ROLE,
            "arn:aws:sts::111122223333:assumed-role/Caller/deploy",
        ),
        (
            CALLER_ROLE,
            "arn:aws:sts::111122223333:assumed-role/Caller/other",
        ),
    ];
    let mut allowed = 0;
    for trust_principal in TRUST_PRINCIPALS {
        for grant in GRANTS {
            let model = model(trust_principal, grant);
            let graph = DelegationGraph::build(&model);
            for (caller, acting) in callers {
                if !evaluator_allows(&model, caller, acting) {
                    continue;
                }
                allowed += 1;
                let step = Step::AssumeRole {
                    role: TARGET.into(),
                };
                assert!(
                    graph.steps_from(caller).contains(&step),
                    "the evaluator lets {acting} assume {TARGET} (trust names {trust_principal}, grant {grant:?}), but the graph has no such step"
                );
            }
        }
    }
    // The combinations cover allowed cases of every kind, so the check is not vacuous.
    assert!(allowed >= 15, "only {allowed} allowed combinations");
}

/// The steps of every actor are the same whether the roles that trust an account alone are
/// found through the memo of their callers' grants (the graph as built) or read one trust
/// policy at a time (as `steps_for` does when escalations opened trust policies; here none is).
#[test]
fn roles_trusting_an_account_are_the_same_through_the_grants_memo() {
    let mut models = Vec::new();
    for trust_principal in TRUST_PRINCIPALS {
        for grant in GRANTS {
            models.push(model(trust_principal, grant));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = iamproof::synthetic::SyntheticSpec {
        profile: iamproof::synthetic::Profile::Broad,
        users: 120,
        groups: 8,
        roles: 60,
        managed_policies: 30,
        buckets: 6,
        keys: 2,
        mediaconvert_trusting_roles: 4,
        escalating_every: 9,
    };
    iamproof::synthetic::write_account(dir.path(), &spec).unwrap();
    models.push(iamproof::snapshot::load(&[dir.path().to_path_buf()]).unwrap());
    let root = env!("CARGO_MANIFEST_DIR");
    for name in [
        "mediaconvert-default",
        "mediaconvert-cross-account",
        "mediaconvert-cross-account-partner",
    ] {
        let path = std::path::Path::new(root).join("models").join(name);
        if let Ok(model) = iamproof::snapshot::load(&[path]) {
            models.push(model);
        }
    }
    let mut assumptions = 0;
    for model in &models {
        let graph = DelegationGraph::build(model);
        for actor in model.users.keys().chain(model.roles.keys()) {
            let policies = model.effective_policies(actor).unwrap().policy_set();
            let one_by_one = graph.steps_for(model, actor, &policies, Some(&|_: &str| false));
            assert_eq!(graph.steps_from(actor), &one_by_one[..], "{actor}");
            // Telling only whether there is a step agrees with telling them all.
            let opened = |_: &str| false;
            for opened in [None, Some(&opened as &dyn Fn(&str) -> bool)] {
                let any = graph.has_steps(model, actor, &policies, opened);
                assert_eq!(any, !one_by_one.is_empty(), "{actor}");
            }
            assumptions += one_by_one
                .iter()
                .filter(|s| matches!(s, Step::AssumeRole { .. }))
                .count();
        }
    }
    assert!(assumptions > 500, "only {assumptions} role assumptions");
}
