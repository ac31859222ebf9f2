//! How long `snapshot::load` takes on a large account: 10,000 principals and 20,000 policies
//! (`SyntheticSpec::LARGE`), written once to a temporary folder. The goal is under 2 s.

use criterion::{criterion_group, criterion_main, Criterion};
use iamproof::snapshot;
use iamproof::synthetic::{write_account, SyntheticSpec};

fn load_large_account(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    write_account(dir.path(), &SyntheticSpec::LARGE).expect("the synthetic snapshot is written");
    let dirs = [dir.path().to_path_buf()];
    c.bench_function("snapshot_load/10k_principals_20k_policies", |b| {
        b.iter(|| {
            let model = snapshot::load(&dirs).expect("the synthetic snapshot loads");
            assert!(model.warnings.is_empty());
            model
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = load_large_account
}
criterion_main!(benches);
