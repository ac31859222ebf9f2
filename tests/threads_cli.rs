//! `--threads`: `who-can` spreads its principals over threads, each with an engine of its own
//! that starts from what the engine had solved, and prints the same bytes whatever the number
//! (answers depend only on their question).

mod common;

use common::iamproof;
use iamproof::synthetic::{write_account, Profile, SyntheticSpec};

fn who_can(account: &str, threads: &str, resource: &str) -> common::Run {
    iamproof(&[
        "who-can",
        "--quiet",
        "--threads",
        threads,
        "--account",
        account,
        "--action",
        "s3:PutObject",
        "--resource",
        resource,
        "--format",
        "json",
    ])
}

#[test]
fn who_can_prints_the_same_answers_on_one_thread_and_on_three() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SyntheticSpec {
        users: 160,
        groups: 12,
        roles: 80,
        managed_policies: 120,
        buckets: 12,
        keys: 3,
        mediaconvert_trusting_roles: 6,
        escalating_every: 9,
        profile: Profile::Varied,
    };
    write_account(dir.path(), &spec).unwrap();
    let account = dir.path().to_str().unwrap();
    for bucket in ["synthetic-bucket-0001", "synthetic-bucket-0007"] {
        let resource = format!("arn:aws:s3:::{bucket}/*");
        let one = who_can(account, "1", &resource);
        let three = who_can(account, "3", &resource);
        assert_eq!(one.code, three.code, "{}", three.stderr);
        assert!(one.stdout.contains("\"principal\""), "{}", one.stdout);
        assert_eq!(one.stdout, three.stdout, "{bucket}");
    }
}

// A sweep asks every bucket of one engine, and the engines of its threads hand what they
// solved back to it for the next bucket: the bytes are still those of one thread.
#[test]
fn a_sweep_prints_the_same_table_on_one_thread_and_on_three() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SyntheticSpec {
        users: 200,
        groups: 12,
        roles: 90,
        managed_policies: 120,
        buckets: 10,
        keys: 3,
        mediaconvert_trusting_roles: 6,
        escalating_every: 7,
        profile: Profile::Broad,
    };
    write_account(dir.path(), &spec).unwrap();
    let account = dir.path().to_str().unwrap();
    let sweep = |threads: &str| {
        iamproof(&[
            "sweep",
            "--quiet",
            "--threads",
            threads,
            "--account",
            account,
            "--access",
            "write",
            "--format",
            "json",
        ])
    };
    let (one, three) = (sweep("1"), sweep("3"));
    assert_eq!(
        (one.code, three.code),
        (0, 0),
        "{}{}",
        one.stderr,
        three.stderr
    );
    assert!(
        one.stdout.contains("synthetic-bucket-0009"),
        "{}",
        one.stdout
    );
    assert_eq!(one.stdout, three.stdout);
}

#[test]
fn zero_threads_is_a_usage_error() {
    let run = iamproof(&[
        "who-can",
        "--threads",
        "0",
        "--account",
        "models/mediaconvert-default",
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::media-out/*",
    ]);
    assert_eq!(run.code, 2, "{}", run.stdout);
}
