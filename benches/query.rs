//! Questions on a synthetic account at the scale the project promises (2,000 users, 200
//! groups, 1,000 roles of which 50 trust MediaConvert, 3,000 customer managed policies, 500
//! buckets, 50 keys; one user in 33 holds an escalation: an inline policy on itself, a role
//! passed to Lambda, or a new version of any managed policy): one `can`, a batch of 50 questions on one engine as `prove` asks them,
//! and `who-can` on one bucket (3,000 principals), each on a freshly built engine.

use criterion::{criterion_group, criterion_main, Criterion};
use iamproof::policy::Context;
use iamproof::query::{Engine, Options, Question};
use iamproof::synthetic::{write_account, SyntheticSpec};

fn bench_queries(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temp dir");
    write_account(dir.path(), &SyntheticSpec::QUERY).expect("the synthetic snapshot is written");
    let model = iamproof::snapshot::load(&[dir.path().to_path_buf()])
        .expect("the synthetic snapshot loads");
    let users: Vec<String> = model.users.keys().cloned().collect();
    let question = |user: usize, bucket: usize| Question {
        principal: users[user % users.len()].clone(),
        action: "s3:PutObject".into(),
        resource: format!("arn:aws:s3:::synthetic-bucket-{bucket:04}/*"),
        context: Context::new(),
    };
    let mut group = c.benchmark_group("query");
    group.sample_size(10);
    group.bench_function("graph_build", |b| {
        b.iter(|| Engine::new(&model, Options::default()).graph.edge_count())
    });
    group.bench_function("can_one_question_fresh_engine", |b| {
        b.iter(|| {
            let engine = Engine::new(&model, Options::default());
            engine.can(&question(7, 3)).expect("well formed").verdict
        })
    });
    group.bench_function("prove_50_questions_one_engine", |b| {
        b.iter(|| {
            let engine = Engine::new(&model, Options::default());
            (0..50)
                .filter(|i| {
                    engine
                        .can(&question(i * 37, i * 11 % 500))
                        .map(|a| a.chain.len())
                        .unwrap_or(0)
                        > 0
                })
                .count()
        })
    });
    group.bench_function("who_can_one_bucket_fresh_engine", |b| {
        b.iter(|| {
            let engine = Engine::new(&model, Options::default());
            engine
                .who_can(
                    "s3:PutObject",
                    "arn:aws:s3:::synthetic-bucket-0003/*",
                    &Context::new(),
                )
                .expect("well formed")
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_queries);
criterion_main!(benches);
