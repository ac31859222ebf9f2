//! Questions on ordinary policies that could blow up the search: ten `StringNotLike` denies
//! on one key (on a user's own policy, and on every hop of a chain of three roles), and a
//! mesh of roles that may all assume one another (200 and 500 roles), with a user who may
//! assume one of them and a role at the end that may write the bucket. Each question is
//! asked of a freshly built engine; reachable and unreachable variants.
//!
//! `who-can` on the mesh runs at 100 and 200 roles; at 500 roles one call takes more than a
//! minute, so it runs only with `IAMPROOF_BENCH_LARGE=1` (`cargo run --release --example
//! chain_stress` prints it in one run).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use iamproof::model::Model;
use iamproof::policy::Context;
use iamproof::query::{Engine, Options, Question, Verdict};
use iamproof::synthetic::{
    write_denied_role_chain_account, write_deny_globs_account, write_role_mesh_account,
    STRESS_BUCKET,
};
use std::path::Path;
use std::time::Duration;

fn resource() -> String {
    format!("arn:aws:s3:::{STRESS_BUCKET}/*")
}

/// Writes an account into a fresh temp dir and loads it; the principal to ask about.
fn account(write: impl FnOnce(&Path) -> std::io::Result<String>) -> (Model, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let principal = write(dir.path()).expect("the snapshot is written");
    let model = iamproof::snapshot::load(&[dir.path().to_path_buf()]).expect("the snapshot loads");
    (model, principal)
}

/// One `can` on a fresh engine; checks the verdict before timing.
fn can(model: &Model, principal: &str, expected: Verdict) -> Verdict {
    let question = Question {
        principal: principal.into(),
        action: "s3:PutObject".into(),
        resource: resource(),
        context: Context::new(),
    };
    let verdict = Engine::new(model, Options::default())
        .can(&question)
        .expect("well formed")
        .verdict;
    assert_eq!(verdict, expected, "{principal}");
    verdict
}

fn variant(reachable: bool) -> (&'static str, Verdict) {
    if reachable {
        ("reachable", Verdict::Reachable)
    } else {
        ("unreachable", Verdict::Unreachable)
    }
}

fn bench_deny_globs(c: &mut Criterion) {
    let mut group = c.benchmark_group("deny_globs");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for key in ["aws:SourceVpce", "aws:PrincipalTag/project"] {
        for reachable in [true, false] {
            let (name, expected) = variant(reachable);
            let (model, principal) = account(|dir| write_deny_globs_account(dir, key, reachable));
            group.bench_function(BenchmarkId::new(format!("can_{name}"), key), |b| {
                b.iter(|| can(&model, &principal, expected))
            });
        }
    }
    for reachable in [true, false] {
        let (name, expected) = variant(reachable);
        let (model, principal) = account(|dir| write_denied_role_chain_account(dir, reachable));
        group.bench_function(
            BenchmarkId::new(format!("can_{name}"), "3-role chain, region and userid"),
            |b| b.iter(|| can(&model, &principal, expected)),
        );
    }
    group.finish();
}

fn bench_mesh(c: &mut Criterion) {
    let large = std::env::var_os("IAMPROOF_BENCH_LARGE").is_some();
    let mut group = c.benchmark_group("role_mesh");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(5));
    for roles in [100, 200, 500] {
        for reachable in [true, false] {
            let (name, expected) = variant(reachable);
            let (model, principal) = account(|dir| write_role_mesh_account(dir, roles, reachable));
            if roles != 100 {
                group.bench_function(BenchmarkId::new(format!("can_{name}"), roles), |b| {
                    b.iter(|| can(&model, &principal, expected))
                });
            }
            if roles == 500 && !large {
                continue;
            }
            // Every user and role reaches the bucket, or none does.
            let who = if reachable { roles + 2 } else { 0 };
            group.bench_function(BenchmarkId::new(format!("who_can_{name}"), roles), |b| {
                b.iter(|| {
                    let answers = Engine::new(&model, Options::default())
                        .who_can("s3:PutObject", &resource(), &Context::new())
                        .expect("well formed");
                    assert_eq!(answers.len(), who);
                    answers.len()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_deny_globs, bench_mesh);
criterion_main!(benches);
