//! `compare` on AWS managed policies of every size, from the bundled copy: two small S3
//! policies, and `ReadOnlyAccess` (2,900 action patterns) against `ViewOnlyAccess` both ways and
//! against itself (no new access: every action class is solved).

use criterion::{criterion_group, criterion_main, Criterion};
use iamproof::compare::{compare, Document};
use iamproof::policy::Policy;

fn bundled(name: &str) -> Policy {
    let arn = format!("arn:aws:iam::aws:policy/{name}");
    let policy = iamproof::snapshot::managed::bundled_policy(&arn)
        .expect("the bundle reads")
        .unwrap_or_else(|| panic!("{arn} is bundled"));
    (*policy.policy).clone()
}

fn bench_compare(c: &mut Criterion) {
    let pairs = [
        ("AmazonS3ReadOnlyAccess", "AmazonS3FullAccess"),
        ("job-function/ViewOnlyAccess", "ReadOnlyAccess"),
        ("ReadOnlyAccess", "job-function/ViewOnlyAccess"),
        ("ReadOnlyAccess", "ReadOnlyAccess"),
    ];
    let mut group = c.benchmark_group("compare");
    group.sample_size(10);
    for (old, new) in pairs {
        let (old_policy, new_policy) = (bundled(old), bundled(new));
        group.bench_function(format!("{old} -> {new}"), |b| {
            b.iter(|| {
                compare(
                    Document {
                        name: old,
                        policy: &old_policy,
                    },
                    Document {
                        name: new,
                        policy: &new_policy,
                    },
                    10_000,
                )
                .expect("one kind")
                .verdict
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_compare);
criterion_main!(benches);
