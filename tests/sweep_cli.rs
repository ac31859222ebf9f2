//! `iamproof sweep` on the example model with SSE-KMS outputs (three buckets, three keys): the
//! text table, JSON, CSV and proof file are pinned; each pair's principals are those a
//! separate `who-can` gives; the proof file passes `prove` on the model it was swept from and
//! fails once the account grants new access; accesses and resource patterns narrow the sweep,
//! and a pattern that matches no bucket or key is refused (exit 2). Unknown answers give exit
//! code 3 and keep their pairs out of the proof file, with a warning that says why.

mod common;

use common::{iamproof, iamproof_in, project_root};
use serde_json::Value;
use std::path::Path;

const SSE_KMS: &str = "models/mediaconvert-sse-kms";
const TRUNCATED: &str = "tests/fixtures/adversarial/gaad-truncated";

/// `sweep ARGS` on the SSE-KMS model that must succeed quietly; returns standard output.
fn sweep(args: &[&str]) -> String {
    let mut all = vec!["sweep", "--account", SSE_KMS];
    all.extend_from_slice(args);
    let run = iamproof(&all);
    assert_eq!(run.code, 0, "sweep {args:?} failed: {}", run.stderr);
    assert_eq!(run.stderr, "", "sweep {args:?} wrote to standard error");
    run.stdout
}

fn sweep_json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let text = sweep(&all);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// (resource, access) of every pair of a JSON sweep, in order.
fn pairs_of(sweep: &Value) -> Vec<(String, String)> {
    sweep["pairs"]
        .as_array()
        .expect("pairs")
        .iter()
        .map(|p| {
            (
                p["resource"].as_str().expect("a resource").to_string(),
                p["access"].as_str().expect("an access").to_string(),
            )
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a folder is made");
    for entry in std::fs::read_dir(from).expect("a readable folder") {
        let entry = entry.expect("a folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a file is copied");
        }
    }
}

#[test]
fn text_is_a_summary_then_a_table() {
    let text = sweep(&[]);
    assert!(
        text.starts_with("3 buckets and 3 keys: someone can in 7 of 9 pairs; no unknown answers\n"),
        "{text}"
    );
    insta::assert_snapshot!("sweep_sse_kms_text", text);
}

#[test]
fn json_has_one_object_per_pair() {
    let json = sweep_json(&[]);
    assert_eq!(json["summary"]["pairs"], 9);
    insta::assert_json_snapshot!("sweep_sse_kms_json", json);
}

#[test]
fn csv_has_one_line_per_pair_and_principal() {
    let text = sweep(&["--format", "csv"]);
    insta::assert_snapshot!("sweep_sse_kms_csv", text);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("a header line")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        [
            "resource",
            "kind",
            "access",
            "action",
            "question_resource",
            "principal",
            "verdict",
            "outside"
        ]
    );
    let records: Vec<csv::StringRecord> = reader
        .records()
        .map(|r| r.expect("a well-formed CSV record"))
        .collect();
    // Every pair of the sweep is there, nobody's pairs as one line with an empty principal.
    let json = sweep_json(&[]);
    for pair in json["pairs"].as_array().expect("pairs") {
        let lines: Vec<&csv::StringRecord> = records
            .iter()
            .filter(|r| r[0] == pair["resource"] && r[2] == pair["access"])
            .collect();
        let principals = pair["principals"].as_array().expect("principals");
        if principals.is_empty() {
            assert_eq!(lines.len(), 1, "{pair}");
            assert_eq!((&lines[0][5], &lines[0][6], &lines[0][7]), ("", "", ""));
        } else {
            let named: Vec<&str> = lines.iter().map(|r| &r[5]).collect();
            let expected: Vec<&str> = principals
                .iter()
                .map(|p| p["principal"].as_str().expect("a principal"))
                .collect();
            assert_eq!(named, expected);
            assert!(lines
                .iter()
                .all(|r| r[6] == *"reachable" && r[7] == *"false"));
        }
    }
    let nobody = records.iter().filter(|r| r[5].is_empty()).count();
    assert_eq!(nobody, 2, "media-in write and secure-out read");
}

#[test]
fn csv_quotes_fields_that_need_it() {
    // IAM names may hold commas: the editor renamed `editor,ops` in a copy of the model.
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("model");
    copy_dir(&project_root().join(SSE_KMS), &model);
    let details = model.join("iam/account-authorization-details.json");
    let text = std::fs::read_to_string(&details).expect("the authorization details");
    let renamed = text
        .replace("user/editor", "user/editor,ops")
        .replace("\"UserName\": \"editor\"", "\"UserName\": \"editor,ops\"");
    assert_ne!(text, renamed);
    std::fs::write(&details, renamed).expect("the authorization details are written");
    let run = iamproof_in(
        dir.path(),
        &[
            "sweep",
            "--quiet",
            "--account",
            "model",
            "--access",
            "write",
            "--format",
            "csv",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(",\"arn:aws:iam::111122223333:user/editor,ops\",reachable,false\r\n"),
        "{}",
        run.stdout
    );
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let principals: Vec<String> = reader
        .records()
        .map(|r| r.expect("a well-formed CSV record"))
        .inspect(|r| assert_eq!(r.len(), 8, "{r:?}"))
        .map(|r| r[5].to_string())
        .collect();
    assert!(principals.contains(&"arn:aws:iam::111122223333:user/editor,ops".to_string()));
}

#[test]
fn csv_tells_callers_from_outside_the_account() {
    let run = iamproof(&[
        "sweep",
        "--quiet",
        "--account",
        "tests/fixtures/outside/account",
        "--format",
        "csv",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let records: Vec<csv::StringRecord> = reader
        .records()
        .map(|r| r.expect("a well-formed CSV record"))
        .collect();
    let outside = |principal: &str| {
        records
            .iter()
            .find(|r| &r[5] == principal)
            .map(|r| r[7].to_string())
    };
    assert_eq!(
        outside("oidc:token.actions.githubusercontent.com").as_deref(),
        Some("true")
    );
    assert_eq!(
        outside("arn:aws:iam::111122223333:role/gha-artifacts").as_deref(),
        Some("false")
    );
}

#[test]
fn proofs_are_pinned() {
    let text = sweep(&["--format", "proofs"]);
    insta::assert_snapshot!("sweep_sse_kms_proofs", text);
    let file: Value = serde_json::from_str(&text).expect("a proof file is JSON");
    assert_eq!(file["accounts"], serde_json::json!([SSE_KMS]));
    assert_eq!(file["proofs"].as_array().map(Vec::len), Some(9));
}

#[test]
fn every_pair_is_the_answer_of_who_can() {
    let json = sweep_json(&[]);
    for pair in json["pairs"].as_array().expect("pairs") {
        let action = pair["action"].as_str().expect("an action");
        let resource = pair["question_resource"].as_str().expect("a resource");
        let run = iamproof(&[
            "who-can",
            "--quiet",
            "--account",
            SSE_KMS,
            "--action",
            action,
            "--resource",
            resource,
            "--format",
            "json",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let who_can: Value = serde_json::from_str(&run.stdout).expect("who-can JSON");
        assert_eq!(
            pair["principals"], who_can["principals"],
            "{action} on {resource}"
        );
    }
}

#[test]
fn the_proof_file_holds_until_the_account_grants_more() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&project_root().join(SSE_KMS), &dir.path().join("model"));
    let run = iamproof_in(
        dir.path(),
        &[
            "sweep",
            "--quiet",
            "--account",
            "model",
            "--format",
            "proofs",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::write(dir.path().join("sweep.json"), &run.stdout).expect("the proof file is written");

    let prove = iamproof_in(dir.path(), &["prove", "--quiet", "sweep.json"], "");
    assert_eq!(prove.code, 0, "{}{}", prove.stdout, prove.stderr);
    assert!(
        prove.stdout.ends_with("9 passed, 0 failed, 0 unknown\n"),
        "{}",
        prove.stdout
    );

    // A change that gives the MediaConvert role full S3 access: new readers and writers.
    let change = project_root().join("tests/fixtures/changes/attach-full-s3.json");
    let what_if = iamproof_in(
        dir.path(),
        &[
            "what-if",
            "--quiet",
            "--proofs",
            "sweep.json",
            "--change",
            change.to_str().expect("a UTF-8 path"),
        ],
        "",
    );
    assert_eq!(what_if.code, 1, "{}{}", what_if.stdout, what_if.stderr);
    assert!(
        what_if
            .stdout
            .contains("nobody can read arn:aws:s3:::secure-out: holds -> fails"),
        "{}",
        what_if.stdout
    );

    // The account itself changed: media-in's bucket policy lets the key administrators read.
    std::fs::write(
        dir.path().join("model/s3/media-in/policy.json"),
        r#"{"Policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"KeyAdminReads\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/KeyAdmin\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::media-in/*\"}]}"}"#,
    )
    .expect("a bucket policy is written");
    let prove = iamproof_in(dir.path(), &["prove", "--quiet", "sweep.json"], "");
    assert_eq!(prove.code, 1, "{}{}", prove.stdout, prove.stderr);
    assert!(
        prove
            .stdout
            .contains("FAIL only these can read arn:aws:s3:::media-in"),
        "{}",
        prove.stdout
    );
    assert!(
        prove
            .stdout
            .contains("also reachable by arn:aws:iam::111122223333:role/KeyAdmin\n"),
        "{}",
        prove.stdout
    );
    assert!(
        prove.stdout.ends_with("8 passed, 1 failed, 0 unknown\n"),
        "{}",
        prove.stdout
    );
}

#[test]
fn accesses_and_patterns_narrow_the_sweep() {
    // Accesses come in the table's order whatever the order given.
    let json = sweep_json(&[
        "--access",
        "write",
        "--access",
        "read",
        "--resource",
        "arn:aws:s3:::media-*",
    ]);
    assert_eq!(
        pairs_of(&json),
        [
            ("arn:aws:s3:::media-in".to_string(), "read".to_string()),
            ("arn:aws:s3:::media-in".to_string(), "write".to_string()),
        ]
    );
    // Two patterns: the buckets and keys either matches.
    let json = sweep_json(&[
        "--resource",
        "arn:aws:s3:::locked-out",
        "--resource",
        "arn:aws:kms:*:*:key/8b2e4d17-*",
    ]);
    assert_eq!(
        pairs_of(&json),
        [
            (
                "arn:aws:kms:us-east-1:111122223333:key/8b2e4d17-c6a9-4f35-9d01-7a5c3e9b2f4d"
                    .to_string(),
                "decrypt".to_string()
            ),
            ("arn:aws:s3:::locked-out".to_string(), "read".to_string()),
            ("arn:aws:s3:::locked-out".to_string(), "write".to_string()),
        ]
    );
}

#[test]
fn a_pattern_that_matches_nothing_is_refused() {
    let run = iamproof(&[
        "sweep",
        "--account",
        SSE_KMS,
        "--resource",
        "arn:aws:s3:::media-in",
        "--resource",
        "arn:aws:s3:::nowhere-*",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: --resource arn:aws:s3:::nowhere-* matches no bucket or key of the model (3 buckets, 3 keys); patterns match the ARNs of buckets (arn:aws:s3:::NAME) and keys (arn:aws:kms:REGION:ACCOUNT:key/ID), and `iamproof inspect` lists them\n"
    );

    // A bucket's pattern with an access only keys take.
    let run = iamproof(&[
        "sweep",
        "--account",
        SSE_KMS,
        "--access",
        "decrypt",
        "--resource",
        "arn:aws:s3:::media-in",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "matches no key of the model (3 buckets, 3 keys), the kind --access decrypt applies to"
        ),
        "{}",
        run.stderr
    );

    // An access that is not in the table.
    let run = iamproof(&["sweep", "--account", SSE_KMS, "--access", "delete"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run
        .stderr
        .contains("[possible values: read, write, decrypt]"));

    // No model at all.
    let run = iamproof(&["sweep"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: give --account DIR, --terraform PLAN.json or --template TEMPLATE\n"
    );
}

#[test]
fn unknown_answers_give_exit_3_and_stay_out_of_the_proof_file() {
    let run = iamproof(&["sweep", "--quiet", "--account", TRUNCATED]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("1 bucket: someone can in 1 of 2 pairs; 2 pairs with unknown answers\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("? marks an unknown answer"));

    let run = iamproof(&[
        "sweep",
        "--quiet",
        "--account",
        TRUNCATED,
        "--format",
        "proofs",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let file: Value = serde_json::from_str(&run.stdout).expect("a proof file is JSON");
    assert_eq!(file["proofs"], serde_json::json!([]));
    let warnings: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(warnings.len(), 2, "{}", run.stderr);
    assert!(warnings[0].starts_with(
        "warning: read arn:aws:s3:::media-out is left out of the proof file: unknown for "
    ));
    assert!(warnings[1].starts_with(
        "warning: write arn:aws:s3:::media-out is left out of the proof file: unknown for arn:aws:iam::111122223333:role/Reader, "
    ));
    assert!(warnings[1].contains("is truncated (IsTruncated: true)"));
}

#[test]
fn proofs_carry_the_context_and_scope_of_the_sweep() {
    let text = sweep(&[
        "--format",
        "proofs",
        "--access",
        "write",
        "--resource",
        "arn:aws:s3:::secure-out",
        "--context",
        "aws:SourceIp=203.0.113.9",
        "--scope",
        "configured",
    ]);
    let file: Value = serde_json::from_str(&text).expect("a proof file is JSON");
    let proof = &file["proofs"][0];
    assert_eq!(
        proof["context"],
        serde_json::json!({"aws:SourceIp": "203.0.113.9"})
    );
    assert_eq!(proof["scope"], "configured");
    // Without them, the proofs say neither.
    let file: Value = serde_json::from_str(&sweep(&[
        "--format",
        "proofs",
        "--access",
        "write",
        "--resource",
        "arn:aws:s3:::secure-out",
    ]))
    .expect("a proof file is JSON");
    assert!(file["proofs"][0].get("context").is_none());
    assert!(file["proofs"][0].get("scope").is_none());

    // A proof file has no place for --at: a warning says so.
    let run = iamproof(&[
        "sweep",
        "--quiet",
        "--account",
        SSE_KMS,
        "--format",
        "proofs",
        "--at",
        "2026-12-03T17:00:00Z",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "warning: a proof file does not record --at; check this one with `iamproof prove --at 2026-12-03T17:00:00Z`\n"
    );
}

#[test]
fn the_sweep_is_one_stage_of_progress() {
    let run = iamproof(&[
        "sweep",
        "--verbose",
        "--account",
        SSE_KMS,
        "--access",
        "decrypt",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stages: Vec<&str> = run.stderr.lines().filter(|l| l.ends_with('…')).collect();
    assert_eq!(stages, ["sweep: 3 who-can questions…"], "{}", run.stderr);
}

/// The text of a user document of the repository.
fn document(file: &str) -> String {
    std::fs::read_to_string(project_root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn the_readme_example_is_what_sweep_prints() {
    let readme = document("README.md");
    let command = "$ iamproof sweep --account models/mediaconvert-sse-kms\n";
    let start = readme.find(command).expect("the README runs sweep") + command.len();
    let end = start + readme[start..].find("```").expect("the block ends");
    assert_eq!(sweep(&[]), readme[start..end]);
}

#[test]
fn the_csv_example_of_the_docs_is_what_sweep_prints() {
    let docs = document("docs/sweep.md");
    let header = "resource,kind,access,action,question_resource,principal,verdict,outside\n";
    let start = docs.find(header).expect("docs/sweep.md shows the CSV");
    let end = start + docs[start..].find("```").expect("the block ends");
    let printed = sweep(&["--format", "csv"]).replace("\r\n", "\n");
    for line in docs[start..end].lines() {
        assert!(printed.contains(&format!("{line}\n")), "{line}\n{printed}");
    }
    // Every column is described.
    for column in header.trim().split(',') {
        assert!(docs.contains(&format!("| `{column}` |")), "{column}");
    }
}

#[test]
fn callers_from_outside_are_pinned_by_their_names() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(
        &project_root().join("tests/fixtures/outside/account"),
        &dir.path().join("account"),
    );
    let run = iamproof_in(
        dir.path(),
        &[
            "sweep",
            "--quiet",
            "--account",
            "account",
            "--format",
            "proofs",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("\"oidc:token.actions.githubusercontent.com\""),
        "{}",
        run.stdout
    );
    std::fs::write(dir.path().join("sweep.json"), &run.stdout).expect("the proof file is written");
    let prove = iamproof_in(dir.path(), &["prove", "--quiet", "sweep.json"], "");
    assert_eq!(prove.code, 0, "{}{}", prove.stdout, prove.stderr);
    assert!(!prove.stdout.contains("FAIL"), "{}", prove.stdout);
}
