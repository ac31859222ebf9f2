//! Throughput of the concrete evaluator on a realistic policy set: a MediaConvert editor with
//! group, managed and inline policies, a permissions boundary, two SCP levels, an RCP level and a
//! bucket policy, asked a rotating mix of allowed and denied requests.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iamproof::eval::{evaluate, NamedPolicy, PolicySet, Principal, Request};
use iamproof::policy::{Context, Policy};
use serde_json::json;

fn policy(value: serde_json::Value) -> Policy {
    Policy::from_value(&value).expect("benchmark policies parse")
}

fn identity_policy(index: usize) -> NamedPolicy {
    let statements: Vec<_> = (0..10)
        .map(|s| {
            json!({
                "Sid": format!("S{index}x{s}"),
                "Effect": if s == 9 { "Deny" } else { "Allow" },
                "Action": [format!("s3:Get*"), format!("s3:PutObject"), format!("ec2:Describe{s}*")],
                "Resource": [format!("arn:aws:s3:::bucket-{index}-{s}/*"), format!("arn:aws:s3:::shared-{s}/${{aws:username}}/*")],
                "Condition": {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]},
                              "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}
            })
        })
        .collect();
    NamedPolicy::new(
        format!("arn:aws:iam::111122223333:policy/p{index}"),
        policy(json!({"Version": "2012-10-17", "Statement": statements})),
    )
}

fn policy_set() -> PolicySet {
    let full_access = policy(
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
    );
    let scp_deny = policy(
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": ["organizations:LeaveOrganization", "s3:DeleteBucket"], "Resource": "*"}}),
    );
    PolicySet {
        identity: (0..10).map(identity_policy).collect(),
        boundaries: vec![NamedPolicy::new(
            "boundary",
            policy(
                json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}}),
            ),
        )],
        session: None,
        resource: Some(NamedPolicy::new(
            "bucket-policy",
            policy(json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket-3-3/*"}]})),
        )),
        scps: vec![
            vec![NamedPolicy::new("p-FullAWSAccess", full_access.clone())],
            vec![
                NamedPolicy::new("p-FullAWSAccess", full_access),
                NamedPolicy::new("p-deny", scp_deny),
            ],
        ],
        rcps: vec![vec![NamedPolicy::new(
            "rcp",
            policy(
                json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}}),
            ),
        )]],
        endpoints: Vec::new(),
    }
}

fn requests() -> Vec<Request> {
    let principal =
        Principal::parse("arn:aws:iam::111122223333:user/editor").expect("principal parses");
    (0..64)
        .map(|i| Request {
            principal: principal.clone(),
            action: [
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "ec2:Describe3Things",
            ][i % 4]
                .to_string(),
            resource: format!(
                "arn:aws:s3:::{}/{}",
                ["bucket-3-3", "shared-2", "finance", "bucket-9-1"][i / 4 % 4],
                ["editor/a.mp4", "x"][i / 16 % 2]
            ),
            resource_account: Some("111122223333".into()),
            context: Context::new()
                .with("aws:username", "editor")
                .with(
                    "aws:RequestedRegion",
                    if i % 3 == 0 {
                        "ap-south-1"
                    } else {
                        "us-east-1"
                    },
                )
                .with(
                    "aws:SourceIp",
                    if i % 5 == 0 {
                        "198.51.100.7"
                    } else {
                        "203.0.113.9"
                    },
                )
                .with("aws:SecureTransport", "true")
                .with("aws:PrincipalOrgID", "o-abc123"),
        })
        .collect()
}

fn bench_evaluator(c: &mut Criterion) {
    let policies = policy_set();
    let requests = requests();
    let mut group = c.benchmark_group("evaluator");
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function("editor_with_103_statements", |b| {
        b.iter(|| {
            requests
                .iter()
                .map(|r| evaluate(r, &policies).decision as u8 as usize)
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_evaluator);
criterion_main!(benches);
