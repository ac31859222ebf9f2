//! Times `can`, `who-can` and a 50-question proof run on a synthetic account at the scale of a
//! large real one, so that peak memory can be read with `/usr/bin/time -v`.
//!
//! ```sh
//! cargo run --release --example query_synthetic -- /tmp/synthetic-query
//! ```

use iamproof::policy::Context;
use iamproof::query::{Engine, Options, Question};
use iamproof::synthetic::{write_account, SyntheticSpec};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "/tmp/iamproof-synthetic-query".into()),
    );
    if !dir.join("iam/account-authorization-details.json").exists() {
        write_account(&dir, &SyntheticSpec::QUERY).expect("the synthetic snapshot is written");
    }
    let started = Instant::now();
    let model = iamproof::snapshot::load(&[dir]).expect("the synthetic snapshot loads");
    println!("load: {:.2?}", started.elapsed());
    let started = Instant::now();
    let engine = Engine::new(&model, Options::default());
    println!(
        "graph: {:.2?} ({} edges)",
        started.elapsed(),
        engine.graph.edge_count()
    );
    let users: Vec<&String> = model.users.keys().collect();
    let question = |user: usize, bucket: usize| Question {
        principal: users[user % users.len()].clone(),
        action: "s3:PutObject".into(),
        resource: format!("arn:aws:s3:::synthetic-bucket-{bucket:04}/*"),
        context: Context::new(),
    };
    let started = Instant::now();
    let answer = engine
        .can(&question(7, 3))
        .expect("the question is well formed");
    println!("can: {:.2?} -> {:?}", started.elapsed(), answer.verdict);
    let started = Instant::now();
    let answers = engine
        .who_can(
            "s3:PutObject",
            "arn:aws:s3:::synthetic-bucket-0003/*",
            &Context::new(),
        )
        .expect("well formed");
    println!(
        "who-can: {:.2?} -> {} principals",
        started.elapsed(),
        answers.len()
    );
    let started = Instant::now();
    let mut verdicts = std::collections::BTreeMap::new();
    for i in 0..50 {
        let answer = engine
            .can(&question(i * 37 % 2000, i * 11 % 500))
            .expect("well formed");
        *verdicts.entry(format!("{:?}", answer.verdict)).or_insert(0) += 1;
    }
    println!("50 questions: {:.2?} -> {verdicts:?}", started.elapsed());
}
