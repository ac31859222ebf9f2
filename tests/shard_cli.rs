//! `prove --shard K/N` and `merge-shards`: the shards of a run check every proof exactly once,
//! in contiguous blocks; each shard's report is a valid report of its own proofs in every
//! format, an empty shard's too; the reports merge into the bytes, the exit code and the
//! messages of one `prove` run in every format, with failures, unknowns, errors and a baseline;
//! a shard loads no file it has no proof of; and bad shard numbers and reports that are not the
//! shards of one run are refused with exit 2.

mod common;

use common::{iamproof, iamproof_in, project_root, Run};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Passing, failing and unknown proofs (see `tests/ci_formats.rs`).
const MIXED: &str = "tests/fixtures/proofs/ci/mixed-outcomes.json";
const FORMATS: [&str; 5] = ["text", "json", "junit", "sarif", "markdown"];

/// The example proofs of `proofs/` and the mixed outcomes: 56 proofs in five files.
fn example_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(project_root().join("proofs"))
        .expect("the proofs folder")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .map(|name| format!("proofs/{name}"))
        .collect();
    files.sort();
    files.push(MIXED.to_string());
    files
}

fn args<'a>(command: &[&'a str], files: &'a [String], rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = command.to_vec();
    args.extend(files.iter().map(String::as_str));
    args.extend_from_slice(rest);
    args
}

/// Runs `prove FILES EXTRA --shard K/N --format json` for every K in `dir` (the current
/// directory of every run), writes each report to `out`, and returns the reports' paths in
/// shard order with the runs.
fn shard_reports(
    dir: &Path,
    files: &[String],
    extra: &[&str],
    count: usize,
    out: &Path,
) -> Vec<(String, Run)> {
    (1..=count)
        .map(|index| {
            let shard = format!("{index}/{count}");
            let mut rest = extra.to_vec();
            rest.extend(["--shard", &shard, "--format", "json", "--quiet"]);
            let run = iamproof_in(dir, &args(&["prove"], files, &rest), "");
            let path = out.join(format!("shard-{index}-of-{count}.json"));
            std::fs::write(&path, &run.stdout).expect("a writable temp dir");
            (path.display().to_string(), run)
        })
        .collect()
}

/// `merge-shards REPORTS --format FORMAT` in `dir`.
fn merge(dir: &Path, reports: &[String], format: &str) -> Run {
    let mut args = vec!["merge-shards"];
    args.extend(reports.iter().map(String::as_str));
    args.extend(["--format", format]);
    iamproof_in(dir, &args, "")
}

/// In every format, the merge of the shard reports prints what one `prove` run prints, on both
/// streams, and ends with its exit code.
fn assert_merges_as_one_run(dir: &Path, files: &[String], extra: &[&str], reports: &[String]) {
    for format in FORMATS {
        let mut rest = extra.to_vec();
        rest.extend(["--format", format, "--quiet"]);
        let whole = iamproof_in(dir, &args(&["prove"], files, &rest), "");
        let merged = merge(dir, reports, format);
        assert!(
            merged.stdout == whole.stdout,
            "{format}: the merged report differs from one run's\n--- one run\n{}\n--- merged\n{}",
            whole.stdout,
            merged.stdout
        );
        assert_eq!(merged.code, whole.code, "{format}: {}", merged.stderr);
        assert_eq!(merged.stderr, whole.stderr, "{format}");
    }
}

fn parse(what: &str, text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"))
}

/// `(file, path)` of each result of a JSON report.
fn proofs_of(report: &Value) -> Vec<(String, String)> {
    report["results"]
        .as_array()
        .expect("a results list")
        .iter()
        .map(|r| {
            (
                r["file"].as_str().expect("a file").to_string(),
                r["path"].as_str().expect("a path").to_string(),
            )
        })
        .collect()
}

#[test]
fn merged_shards_print_what_one_run_prints() {
    let out = tempfile::tempdir().expect("a temp dir");
    let files = example_files();
    let shards = shard_reports(project_root(), &files, &[], 4, out.path());
    for (report, run) in &shards {
        assert!(run.stderr.is_empty(), "{report}: {}", run.stderr);
        assert!([0, 1, 3].contains(&run.code), "{report}: {}", run.code);
    }
    let reports: Vec<String> = shards.into_iter().map(|(path, _)| path).collect();
    assert_merges_as_one_run(project_root(), &files, &[], &reports);
    // The reports may come in any order.
    let mut reversed = reports.clone();
    reversed.reverse();
    let whole = iamproof(&args(&["prove"], &files, &["--format", "sarif", "--quiet"]));
    assert!(merge(project_root(), &reversed, "sarif").stdout == whole.stdout);
    assert_eq!(whole.code, 1, "the mixed outcomes fail");
}

/// Statements a plan or template declares keep their place in SARIF through a merge: the
/// shard reports carry the declaring resource.
#[test]
fn merged_shards_place_statements_at_the_plan_and_template_resources() {
    let out = tempfile::tempdir().expect("a temp dir");
    let files = vec![
        "tests/fixtures/proofs/ci/module-grant.json".to_string(),
        "tests/fixtures/proofs/ci/stack-grant.json".to_string(),
    ];
    let shards = shard_reports(project_root(), &files, &[], 3, out.path());
    let reports: Vec<String> = shards.into_iter().map(|(path, _)| path).collect();
    assert_merges_as_one_run(project_root(), &files, &[], &reports);
    let merged = parse("sarif", &merge(project_root(), &reports, "sarif").stdout);
    let resources: Vec<&str> = merged["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| {
            r["relatedLocations"][0]["logicalLocations"][1]["fullyQualifiedName"].as_str()
        })
        .collect();
    assert_eq!(
        resources,
        ["module.media.aws_iam_role_policy.writer", "WriterPolicy"]
    );
}

#[test]
fn shards_partition_the_proofs_in_contiguous_blocks() {
    let out = tempfile::tempdir().expect("a temp dir");
    let files = example_files();
    let whole = iamproof(&args(&["prove"], &files, &["--format", "json", "--quiet"]));
    let all = proofs_of(&parse("one run", &whole.stdout));
    assert_eq!(all.len(), 56);
    for count in [1, 2, 3, 5] {
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        for (path, run) in shard_reports(project_root(), &files, &[], count, out.path()) {
            let report = parse(&path, &run.stdout);
            let proofs = proofs_of(&report);
            let positions: Vec<usize> = report["shard"]["positions"]
                .as_array()
                .expect("positions")
                .iter()
                .map(|p| p.as_u64().expect("a number") as usize)
                .collect();
            // A block: consecutive numbers, following the previous shard's.
            let expected: Vec<usize> = (seen.len()..seen.len() + proofs.len()).collect();
            assert_eq!(positions, expected, "{path}");
            assert_eq!(report["shard"]["total"], 56, "{path}");
            sizes.push(proofs.len());
            seen.extend(proofs);
        }
        // Every proof in exactly one shard, in the order of one run.
        assert_eq!(seen, all, "{count} shards");
        let (small, large) = (56 / count, 56 / count + 1);
        assert!(
            sizes.iter().all(|s| *s == small || *s == large),
            "{count} shards: {sizes:?}"
        );
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
    }
}

#[test]
fn every_format_reports_the_shard_alone() {
    let files = vec![MIXED.to_string()];
    let prove = |extra: &[&str]| {
        let mut rest = extra.to_vec();
        rest.push("--quiet");
        iamproof(&args(&["prove"], &files, &rest))
    };
    let whole = prove(&[]);
    let lines_of = |stdout: &str| -> Vec<String> {
        // All but the summary line.
        let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
        lines[..lines.len() - 1].to_vec()
    };
    let mut lines = Vec::new();
    let (mut tests, mut sarif_results, mut codes) = (0, 0, Vec::new());
    for index in 1..=3 {
        let shard = format!("{index}/3");
        let run = prove(&["--shard", &shard]);
        lines.extend(lines_of(&run.stdout));
        codes.push(run.code);
        for format in FORMATS {
            let run = prove(&["--shard", &shard, "--format", format]);
            assert_eq!(run.code, codes[index - 1], "{shard} {format}");
            match format {
                "junit" => {
                    let report =
                        junit_parser::from_reader(std::io::Cursor::new(run.stdout.as_bytes()))
                            .expect("a JUnit report");
                    tests += report.tests;
                }
                "sarif" => {
                    let log = parse(&shard, &run.stdout);
                    sarif_results += log["runs"][0]["results"].as_array().map_or(0, Vec::len);
                }
                "json" => {
                    let report = parse(&shard, &run.stdout);
                    assert_eq!(report["shard"]["index"], index);
                    assert_eq!(report["shard"]["count"], 3);
                }
                "markdown" => assert!(run.stdout.contains("## "), "{}", run.stdout),
                _ => {}
            }
        }
    }
    // The shards' text reports together are the one run's, line for line, but for the summary.
    assert_eq!(lines, lines_of(&whole.stdout));
    assert_eq!(tests, 7);
    let log = parse(
        "one run",
        &iamproof(&["prove", MIXED, "--format", "sarif"]).stdout,
    );
    assert_eq!(
        sarif_results,
        log["runs"][0]["results"].as_array().map_or(0, Vec::len)
    );
    // Each shard's gate is that of its own proofs; the worst of them is the run's.
    assert!(codes.contains(&1), "{codes:?}");
}

#[test]
fn an_empty_shard_is_an_empty_report_that_merges() {
    let out = tempfile::tempdir().expect("a temp dir");
    let files = vec![MIXED.to_string()];
    // Seven proofs in nine shards: the last two have none.
    let shards = shard_reports(project_root(), &files, &[], 9, out.path());
    for (path, run) in &shards[7..] {
        assert_eq!(run.code, 0, "{path}: {}", run.stderr);
        let report = parse(path, &run.stdout);
        assert_eq!(report["results"], json!([]));
        assert_eq!(
            report["summary"],
            json!({"holds": 0, "fails": 0, "unknown": 0})
        );
        assert_eq!(report["shard"]["positions"], json!([]));
    }
    let empty = |format: &str| iamproof(&["prove", MIXED, "--shard", "9/9", "--format", format]);
    assert_eq!(empty("text").stdout, "0 passed, 0 failed, 0 unknown\n");
    let junit = empty("junit");
    assert_eq!(junit.code, 0);
    let report =
        junit_parser::from_reader(std::io::Cursor::new(junit.stdout.as_bytes())).expect("JUnit");
    assert_eq!((report.tests, report.suites.len()), (0, 0));
    let sarif = parse("sarif", &empty("sarif").stdout);
    assert_eq!(sarif["runs"][0]["results"], json!([]));
    assert!(empty("markdown")
        .stdout
        .starts_with("## ✅ iamproof: 0 hold, 0 fail, 0 unknown"));
    let reports: Vec<String> = shards.into_iter().map(|(path, _)| path).collect();
    assert_merges_as_one_run(project_root(), &files, &[], &reports);
}

/// A proof file whose only proof asks about accounts that are not there.
fn write_unloadable(dir: &Path) -> String {
    let file = json!({"accounts": ["no-such-folder"], "proofs": [{"name": "lost",
        "principal": "arn:aws:iam::111122223333:user/editor", "action": "s3:PutObject",
        "resource": "arn:aws:s3:::media-out/*", "expect": "unreachable"}]});
    std::fs::write(dir.join("unloadable.json"), file.to_string()).expect("writable");
    "unloadable.json".to_string()
}

/// The mixed outcomes with their accounts as absolute paths, and the proof at `typo` asking
/// about a principal nobody has.
fn write_mixed(dir: &Path, name: &str, typo: Option<usize>) -> String {
    let text = std::fs::read_to_string(project_root().join(MIXED)).expect("the mixed proofs");
    let mut file: Value = serde_json::from_str(&text).expect("JSON");
    let base = project_root().join(MIXED);
    let base = base.parent().expect("a folder");
    for account in file["accounts"].as_array_mut().expect("accounts") {
        let path: PathBuf = base.join(account.as_str().expect("a path"));
        *account = json!(path.display().to_string());
    }
    if let Some(typo) = typo {
        file["proofs"][typo]["principal"] = json!("arn:aws:iam::555566667777:user/ghost");
    }
    std::fs::write(dir.join(name), serde_json::to_string_pretty(&file).unwrap()).unwrap();
    name.to_string()
}

#[test]
fn a_shard_does_not_load_a_file_it_has_no_proof_of() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = tempfile::tempdir().expect("a temp dir");
    let files = vec![
        write_mixed(dir.path(), "mixed.json", None),
        write_unloadable(dir.path()),
    ];
    // Eight proofs in eight shards: only the last has the proof of the unloadable file.
    let shards = shard_reports(dir.path(), &files, &[], 8, out.path());
    for (path, run) in &shards[..7] {
        assert_ne!(run.code, 2, "{path}: {}", run.stderr);
        assert!(run.stderr.is_empty(), "{path}: {}", run.stderr);
    }
    let (path, last) = &shards[7];
    assert_eq!(last.code, 2, "{path}");
    assert!(
        last.stderr
            .contains("error: unloadable.json: accounts[0]: no-such-folder"),
        "{}",
        last.stderr
    );
    // Its report says so, and the merge says it once, as one run does.
    let report = parse(path, &last.stdout);
    assert_eq!(report["results"], json!([]));
    assert_eq!(report["shard"]["errors"][0]["file"], 1);
    let reports: Vec<String> = shards.into_iter().map(|(path, _)| path).collect();
    assert_merges_as_one_run(dir.path(), &files, &[], &reports);
}

#[test]
fn errors_of_files_and_questions_merge_in_the_order_of_one_run() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("broken.json"), "{\"accounts\": [").expect("writable");
    let files = vec![
        write_mixed(dir.path(), "typo.json", Some(3)),
        "broken.json".to_string(),
        write_unloadable(dir.path()),
        write_mixed(dir.path(), "mixed.json", Some(0)),
    ];
    let whole = iamproof_in(dir.path(), &args(&["prove"], &files, &["--quiet"]), "");
    assert_eq!(whole.code, 2);
    assert_eq!(whole.stderr.lines().count(), 4, "{}", whole.stderr);
    for count in [3, 6] {
        let shards = shard_reports(dir.path(), &files, &[], count, out.path());
        // A file that cannot be read is every shard's mistake.
        for (path, run) in &shards {
            assert_eq!(run.code, 2, "{path}");
            assert!(run.stderr.contains("broken.json"), "{path}: {}", run.stderr);
        }
        let reports: Vec<String> = shards.into_iter().map(|(path, _)| path).collect();
        assert_merges_as_one_run(dir.path(), &files, &[], &reports);
    }
}

#[test]
fn a_baseline_accepts_and_finds_stale_entries_across_shards() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = tempfile::tempdir().expect("a temp dir");
    let files = vec![write_mixed(dir.path(), "mixed.json", None)];
    let baseline = json!({"accepted": [
        {"proof": "editors never write <media-out> & \"friends\"", "reason": "the publishing path (SEC-7)"},
        {"proof": "nobody has this proof", "reason": "fixed long ago"},
        {"proof": "ci-bot cannot create users", "reason": "it cannot, so this is stale"}]});
    std::fs::write(dir.path().join("baseline.json"), baseline.to_string()).expect("writable");
    let extra = ["--baseline", "baseline.json"];
    let whole = iamproof_in(
        dir.path(),
        &args(&["prove"], &files, &["--quiet", extra[0], extra[1]]),
        "",
    );
    assert!(
        whole
            .stdout
            .contains("accepted by baseline.json accepted[0]"),
        "{}",
        whole.stdout
    );
    assert_eq!(whole.stderr.lines().count(), 2, "{}", whole.stderr);
    let shards = shard_reports(dir.path(), &files, &extra, 3, out.path());
    for (path, run) in &shards {
        // A shard says an entry is stale only when no other shard has the proof it names.
        assert!(
            !run.stderr.contains("accepted[0]"),
            "{path}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("accepted[1]: stale"),
            "{path}: {}",
            run.stderr
        );
    }
    let reports: Vec<String> = shards.into_iter().map(|(path, _)| path).collect();
    assert_merges_as_one_run(dir.path(), &files, &extra, &reports);
}

#[test]
fn bad_shard_numbers_are_usage_errors() {
    for (value, says) in [
        ("0/4", "K must be between 1 and N (4), found 0"),
        ("5/4", "K must be between 1 and N (4), found 5"),
        ("1/0", "N, the number of shards, must be at least 1"),
        ("a/4", "K in K/N is not a whole number"),
        ("1/four", "N in K/N is not a whole number"),
        ("-1/4", "K in K/N is not a whole number"),
        ("2", "expected K/N, such as 2/4"),
        ("", "expected K/N, such as 2/4"),
    ] {
        let flag = format!("--shard={value}");
        let run = iamproof(&["prove", MIXED, &flag]);
        assert_eq!(run.code, 2, "{value}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{value}: {}", run.stdout);
        assert!(
            run.stderr.contains("--shard") && run.stderr.contains(says),
            "{value}: {}",
            run.stderr
        );
    }
}

#[test]
fn merge_refuses_what_is_not_every_shard_of_one_run() {
    let out = tempfile::tempdir().expect("a temp dir");
    let files = vec![MIXED.to_string()];
    let reports: Vec<String> = shard_reports(project_root(), &files, &[], 3, out.path())
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    let other: Vec<String> = shard_reports(project_root(), &files, &[], 2, out.path())
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    let plain = out.path().join("plain.json");
    std::fs::write(
        &plain,
        iamproof(&["prove", MIXED, "--format", "json"]).stdout,
    )
    .unwrap();
    let plain = plain.display().to_string();
    for (given, says) in [
        (
            vec![reports[0].clone(), reports[2].clone()],
            "the report of shard 2/3 is missing: merge the reports of all 3 shards",
        ),
        (
            vec![reports[0].clone(), reports[1].clone(), reports[1].clone()],
            "shard.index: shard 2/3 is given twice",
        ),
        (
            vec![reports[0].clone(), other[1].clone()],
            "shard.count: the number of shards differs from that of",
        ),
        (
            vec![plain],
            "shard: missing: merge-shards reads the reports of `prove --shard K/N --format json`",
        ),
    ] {
        let run = merge(project_root(), &given, "text");
        assert_eq!(run.code, 2, "{given:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(run.stderr.contains(says), "{given:?}: {}", run.stderr);
    }
}

#[test]
fn the_sharded_workflow_runs_every_shard_and_merges_them() {
    let file =
        std::fs::read_to_string(project_root().join("docs/github-actions/iamproof-sharded.yml"))
            .expect("the workflow file");
    // The matrix lists every shard of SHARDS once.
    let shards: usize = file
        .lines()
        .find_map(|line| line.trim().strip_prefix("SHARDS: "))
        .and_then(|n| n.parse().ok())
        .expect("SHARDS: N");
    let matrix = (1..=shards)
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    assert!(file.contains(&format!("shard: [{matrix}]")), "{matrix}");
    for needle in [
        "fail-fast: false",
        "--shard \"${{ matrix.shard }}/$SHARDS\" --format json",
        "actions/upload-artifact@",
        "pattern: iamproof-shard-*",
        "merge-shards shards/shard-*.json --format sarif > iamproof.sarif",
        "github/codeql-action/upload-sarif@",
        "security-events: write",
        "libz3-dev",
        "if: always()",
    ] {
        assert!(file.contains(needle), "the workflow lacks {needle}");
    }
    assert!(
        !file.contains('\t'),
        "YAML does not allow tabs for indentation"
    );
    let docs = std::fs::read_to_string(project_root().join("docs/proof-files.md")).unwrap();
    assert!(docs.contains("(github-actions/iamproof-sharded.yml)"));
}
