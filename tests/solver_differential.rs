//! Differential test of the two engines on single requests: random policies with conditions
//! of every operator family, asked (1) with the whole context fixed, where the formula must
//! fold to the evaluator's answer, and (2) with the context free, where a model must replay as
//! allowed and a refutation must survive every context the test can think of.

use iamproof::eval::{evaluate, Decision, NamedPolicy, PolicySet, Principal, Request};
use iamproof::policy::pattern::Glob;
use iamproof::policy::{Context, ContextValue, Policy};
use iamproof::smt::encode::{Hop, KeyFreedom, Problem, Term};
use iamproof::smt::formula::Formula;
use iamproof::smt::solve::{Outcome, Solver};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

const CONDITIONS: &[(&str, &str, &[&str])] = &[
    (
        "IpAddress",
        "aws:SourceIp",
        &["203.0.113.0/24", "2001:db8::/32"],
    ),
    ("NotIpAddress", "aws:SourceIp", &["203.0.113.128/25"]),
    ("DateLessThan", "aws:CurrentTime", &["2024-01-01T00:00:00Z"]),
    ("DateGreaterThanEquals", "aws:CurrentTime", &["1700000000"]),
    ("NumericLessThanEquals", "s3:max-keys", &["10"]),
    ("NumericGreaterThan", "s3:max-keys", &["2.5"]),
    ("Bool", "aws:SecureTransport", &["true"]),
    ("BoolIfExists", "aws:SecureTransport", &["false"]),
    (
        "StringEquals",
        "s3:x-amz-acl",
        &["bucket-owner-full-control"],
    ),
    ("StringNotLike", "s3:x-amz-acl", &["public-*"]),
    ("StringEqualsIgnoreCase", "s3:x-amz-acl", &["PRIVATE"]),
    (
        "ArnLike",
        "s3:DataAccessPointArn",
        &["arn:aws:mediaconvert:*:111122223333:queues/*"],
    ),
    (
        "ArnNotEquals",
        "s3:DataAccessPointArn",
        &["arn:aws:mediaconvert:us-east-1:111122223333:queues/Default"],
    ),
    ("ForAllValues:StringEquals", "aws:TagKeys", &["team", "env"]),
    ("ForAnyValue:StringLike", "aws:TagKeys", &["cost*"]),
    ("Null", "s3:x-amz-acl", &["false"]),
    ("StringLike", "s3:prefix", &["home/${aws:username}/*"]),
    ("StringNotEqualsIfExists", "aws:SourceVpce", &["vpce-1"]),
];

const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::media-*/*",
    "arn:aws:s3:::media-out/a?",
    "arn:aws:s3:::*/secret*",
    "arn:aws:s3:::finance/*",
];

fn statement() -> impl Strategy<Value = Value> {
    (
        prop_oneof![3 => Just("Allow"), 1 => Just("Deny")],
        prop::sample::select(RESOURCES),
        any::<bool>(),
        prop::collection::vec(prop::sample::select(CONDITIONS), 0..3),
    )
        .prop_map(|(effect, resource, not_resource, conditions)| {
            let mut condition = serde_json::Map::new();
            for (operator, key, values) in conditions {
                let block = condition.entry(operator.to_string()).or_insert_with(|| json!({}));
                block[key] = json!(values);
            }
            let resource_key = if not_resource && resource != "*" { "NotResource" } else { "Resource" };
            json!({"Effect": effect, "Action": "s3:PutObject", resource_key: resource, "Condition": condition})
        })
}

fn policy() -> impl Strategy<Value = Policy> {
    prop::collection::vec(statement(), 1..4).prop_map(|statements| {
        Policy::from_value(&json!({"Version": "2012-10-17", "Statement": statements})).unwrap()
    })
}

/// Concrete contexts to probe a refutation with: every combination the pools allow.
fn probe_contexts() -> Vec<(String, Context)> {
    let mut out = Vec::new();
    let resources = [
        "arn:aws:s3:::media-out/ab",
        "arn:aws:s3:::finance/secret.txt",
        "arn:aws:s3:::media-in/x",
        "arn:aws:s3:::other/z",
    ];
    let ips = [
        None,
        Some("203.0.113.9"),
        Some("203.0.113.200"),
        Some("2001:db8::7"),
        Some("198.51.100.1"),
    ];
    let times = [
        None,
        Some("2023-06-01T00:00:00Z"),
        Some("2025-01-01T00:00:00Z"),
        Some("2020-01-01T00:00:00Z"),
    ];
    let acls = [
        None,
        Some("bucket-owner-full-control"),
        Some("private"),
        Some("public-read"),
    ];
    let tags: [Option<&[&str]>; 3] = [None, Some(&["team"]), Some(&["cost-center", "team"])];
    for (i, resource) in resources.iter().enumerate() {
        for (j, ip) in ips.iter().enumerate() {
            for (k, time) in times.iter().enumerate() {
                for (l, acl) in acls.iter().enumerate() {
                    let tag = tags[(i + j + k + l) % tags.len()];
                    let mut context = Context::new().with("aws:username", "alice");
                    if let Some(ip) = ip {
                        context.insert("aws:SourceIp", ContextValue::Single(ip.to_string()));
                    }
                    if let Some(time) = time {
                        context.insert("aws:CurrentTime", ContextValue::Single(time.to_string()));
                    }
                    if let Some(acl) = acl {
                        context.insert("s3:x-amz-acl", ContextValue::Single(acl.to_string()));
                    }
                    if let Some(tag) = tag {
                        context.insert(
                            "aws:TagKeys",
                            ContextValue::Multi(tag.iter().map(|s| s.to_string()).collect()),
                        );
                    }
                    if (i + l) % 2 == 0 {
                        context.insert("aws:SecureTransport", ContextValue::Single("true".into()));
                    }
                    if (j + k) % 3 == 0 {
                        context.insert(
                            "s3:max-keys",
                            ContextValue::Single(((j * 3 + k) as f64 / 2.0).to_string()),
                        );
                    }
                    if (i + j) % 2 == 1 {
                        context.insert(
                            "s3:DataAccessPointArn",
                            ContextValue::Single(
                                "arn:aws:mediaconvert:us-east-1:111122223333:queues/Default".into(),
                            ),
                        );
                    }
                    out.push((resource.to_string(), context));
                }
            }
        }
    }
    out
}

fn principal() -> Principal {
    Principal::parse("arn:aws:iam::111122223333:user/alice").unwrap()
}

fn policies(identity: Policy, boundary: Option<Policy>, bucket: Option<Policy>) -> PolicySet {
    PolicySet {
        identity: vec![NamedPolicy::new("identity", identity)],
        boundaries: boundary
            .into_iter()
            .map(|b| NamedPolicy::new("boundary", b))
            .collect(),
        resource: bucket.map(|b| NamedPolicy::new("bucket", b)),
        ..PolicySet::default()
    }
}

fn bucket_policy() -> impl Strategy<Value = Option<Policy>> {
    prop::option::of(
        prop::collection::vec(statement(), 1..3).prop_map(|statements| {
            let statements: Vec<Value> = statements
                .into_iter()
                .map(|mut s| {
                    s["Principal"] = json!({"AWS": "arn:aws:iam::111122223333:user/alice"});
                    s
                })
                .collect();
            Policy::from_value(&json!({"Version": "2012-10-17", "Statement": statements})).unwrap()
        }),
    )
}

fn hop(policies: PolicySet, resource: Term, fixed: Context, free_keys: bool) -> Hop {
    Hop {
        principal: principal(),
        action: "s3:PutObject".into(),
        resource,
        resource_account: Some("111122223333".into()),
        policies,
        call: 0,
        keys: if free_keys {
            KeyFreedom::Any
        } else {
            KeyFreedom::Fixed
        },
        fixed,
        absent: Vec::new(),
        undocumented: Vec::new(),
    }
}

#[test]
fn fixed_contexts_fold_to_the_evaluator_answer() {
    let mut runner = TestRunner::new(Config {
        cases: 200,
        ..Config::default()
    });
    let probes = probe_contexts();
    runner
        .run(
            &(
                policy(),
                prop::option::of(policy()),
                bucket_policy(),
                0..probes.len(),
            ),
            |(identity, boundary, bucket, probe)| {
                let (resource, context) = probes[probe].clone();
                let set = policies(identity, boundary, bucket);
                let expected = evaluate(
                    &Request {
                        principal: principal(),
                        action: "s3:PutObject".into(),
                        resource: resource.clone(),
                        resource_account: Some("111122223333".into()),
                        context: context.clone(),
                    },
                    &set,
                )
                .decision
                    == Decision::Allowed;
                let mut problem = Problem::new();
                problem
                    .add_hop(hop(set, Term::Fixed(resource), context, false))
                    .unwrap();
                problem.finish().unwrap();
                prop_assert_eq!(problem.allowed(0), Formula::Const(expected));
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn free_contexts_agree_with_the_evaluator() {
    let mut runner = TestRunner::new(Config {
        cases: 150,
        ..Config::default()
    });
    let probes = probe_contexts();
    runner
        .run(
            &(policy(), prop::option::of(policy()), bucket_policy()),
            |(identity, boundary, bucket)| {
                let set = policies(identity, boundary, bucket);
                let mut problem = Problem::new();
                let resource = problem.resource_variable(0, &[Glob::parse("arn:aws:s3:::*/?*")]);
                problem
                    .add_hop(hop(
                        set.clone(),
                        Term::Var(resource),
                        Context::new().with("aws:username", "alice"),
                        true,
                    ))
                    .unwrap();
                problem.finish().unwrap();
                let mut solver = Solver::new(&problem, 10_000);
                // The resource must be an S3 object ARN.
                let shape = Glob::parse("arn:aws:s3:::*/?*");
                let size = problem.variables[resource].domain.len();
                let shaped: std::collections::BTreeSet<i64> = (0..size as i64)
                    .filter(|&v| {
                        shape.matches_arn(
                            &problem.variables[resource]
                                .domain
                                .witness(v as usize)
                                .unwrap(),
                        )
                    })
                    .collect();
                solver.assert(&Formula::within(
                    iamproof::smt::formula::Slot {
                        var: resource,
                        index: 0,
                    },
                    shaped,
                    size,
                ));
                solver.assert(&problem.allowed(0));
                match solver.minimal_model() {
                    Outcome::Sat(values) => {
                        let (resource, context) = problem.concretize(0, &|slot| values[&slot]);
                        let request = Request {
                            principal: principal(),
                            action: "s3:PutObject".into(),
                            resource,
                            resource_account: Some("111122223333".into()),
                            context,
                        };
                        prop_assert_eq!(
                            evaluate(&request, &set).decision,
                            Decision::Allowed,
                            "witness {:?}",
                            request
                        );
                    }
                    Outcome::Unsat => {
                        for (resource, context) in &probes {
                            let request = Request {
                                principal: principal(),
                                action: "s3:PutObject".into(),
                                resource: resource.clone(),
                                resource_account: Some("111122223333".into()),
                                context: context.clone(),
                            };
                            prop_assert_ne!(
                                evaluate(&request, &set).decision,
                                Decision::Allowed,
                                "refuted, yet {:?} is allowed",
                                request
                            );
                        }
                    }
                    Outcome::Unknown(reason) => prop_assert!(false, "solver gave up: {}", reason),
                }
                Ok(())
            },
        )
        .unwrap();
}

/// `compare` against the evaluator: a policy allows nothing new over itself; a counterexample
/// is allowed by NEW and not by OLD; and where no new access is proved, no probe request is
/// allowed by NEW alone.
#[test]
fn compare_agrees_with_the_evaluator() {
    use iamproof::compare::{compare, CompareVerdict, Document};
    let mut runner = TestRunner::new(Config {
        cases: 48,
        ..Config::default()
    });
    let probes = probe_contexts();
    let decide = |policy: &Policy, resource: &str, context: &Context| {
        let request = Request {
            principal: principal(),
            action: "s3:PutObject".into(),
            resource: resource.to_string(),
            resource_account: Some("111122223333".into()),
            context: context.clone(),
        };
        let set = PolicySet {
            identity: vec![NamedPolicy::new("policy", policy.clone())],
            ..PolicySet::default()
        };
        evaluate(&request, &set).decision
    };
    runner
        .run(&(policy(), policy()), |(old, new)| {
            let document = |policy| Document {
                name: "policy",
                policy,
            };
            let itself = compare(document(&old), document(&old), 10_000).unwrap();
            prop_assert_ne!(itself.verdict, CompareVerdict::NewAccess);
            let answer = compare(document(&old), document(&new), 10_000).unwrap();
            match answer.verdict {
                CompareVerdict::NewAccess => {
                    let request = answer.request.expect("a counterexample");
                    let context = request_context(&request.context);
                    prop_assert_eq!(decide(&new, &request.resource, &context), Decision::Allowed);
                    prop_assert_ne!(decide(&old, &request.resource, &context), Decision::Allowed);
                }
                CompareVerdict::NoNewAccess => {
                    for (resource, context) in &probes {
                        if decide(&new, resource, context) == Decision::Allowed {
                            prop_assert_eq!(
                                decide(&old, resource, context),
                                Decision::Allowed,
                                "no new access proved, yet {} {:?} is new",
                                resource,
                                context
                            );
                        }
                    }
                }
                CompareVerdict::Unknown => {
                    let reason = answer.reason.unwrap_or_default();
                    prop_assert!(reason.contains("decided only for"), "{}", reason);
                }
            }
            Ok(())
        })
        .unwrap();
}

fn request_context(json: &Value) -> Context {
    let mut context = Context::new();
    for (key, value) in json.as_object().expect("a context object") {
        let value = match value {
            Value::Array(items) => ContextValue::Multi(
                items
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect(),
            ),
            other => ContextValue::Single(other.as_str().unwrap_or_default().to_string()),
        };
        context.insert(key, value);
    }
    context
}
