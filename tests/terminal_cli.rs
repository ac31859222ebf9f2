//! What the command line says on standard error besides errors: a note about loader warnings by
//! default, nothing with `--quiet`, every warning and the time of each stage with `--verbose`;
//! standard output is the same in all three.

mod common;

use common::iamproof;

const MESSY: &str = "tests/fixtures/snapshots/messy";

fn who_can(extra: &[&str]) -> common::Run {
    let mut args = vec![
        "who-can",
        "--account",
        MESSY,
        "--action",
        "s3:PutObject",
        "--resource",
        "*",
    ];
    args.extend_from_slice(extra);
    iamproof(&args)
}

#[test]
fn quiet_normal_and_verbose_differ_only_on_standard_error() {
    let normal = who_can(&[]);
    let quiet = who_can(&["--quiet"]);
    let verbose = who_can(&["--verbose"]);
    assert_eq!(normal.stdout, quiet.stdout);
    assert_eq!(normal.stdout, verbose.stdout);
    assert_eq!(normal.code, quiet.code);
    assert_eq!(normal.code, verbose.code);

    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    assert!(
        normal.stderr.starts_with("note: ") && normal.stderr.contains("loader warning"),
        "{}",
        normal.stderr
    );
    let warnings = verbose
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .count();
    let inspected = iamproof(&["inspect", "--account", MESSY, "--format", "json"]);
    let inspection: serde_json::Value = serde_json::from_str(&inspected.stdout).unwrap();
    assert_eq!(
        warnings,
        inspection["warnings"].as_array().unwrap().len(),
        "--verbose lists every loader warning: {}",
        verbose.stderr
    );
    for stage in [
        "loaded 1 account(s)",
        "delegation graph:",
        "who-can s3:PutObject",
        "done in",
    ] {
        assert!(
            verbose.stderr.contains(stage),
            "{stage}: {}",
            verbose.stderr
        );
    }
}

#[test]
fn quiet_and_verbose_do_not_go_together() {
    let run = who_can(&["--quiet", "--verbose"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}
