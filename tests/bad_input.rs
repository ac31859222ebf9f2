//! Broken input never panics: every file of the corpus under `tests/fixtures/bad-requests`
//! and every generated monster (a 10 MB policy, deep nesting, a missing file) ends with exit
//! code 2, nothing on standard output, and a message naming the file and the JSON path.

mod common;

use common::{iamproof_in, project_root};

fn assert_bad_input(dir: &std::path::Path, file: &str) -> String {
    let run = iamproof_in(dir, &["simulate", file, "--format", "json"], "");
    assert_eq!(run.code, 2, "{file}: stderr was {}", run.stderr);
    assert!(run.stdout.is_empty(), "{file}: printed {}", run.stdout);
    assert!(
        run.stderr.starts_with(&format!("error: {file}")),
        "{file}: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{file}: {}", run.stderr);
    run.stderr
}

#[test]
fn corpus_of_broken_requests() {
    let dir = project_root().join("tests/fixtures/bad-requests");
    insta::glob!("fixtures/bad-requests/*.json", |path| {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("file name");
        insta::assert_snapshot!(assert_bad_input(&dir, name));
    });
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) {
    std::fs::write(dir.path().join(name), text).expect("temp file is writable");
}

const REQUEST_HEAD: &str = r#"{"request": {"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}, "identity_policies": ["#;

#[test]
fn ten_megabyte_policy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let actions: Vec<String> = (0..700_000)
        .map(|i| format!("\"s3:Action{i:08}\""))
        .collect();
    let text = format!(
        r#"{REQUEST_HEAD}{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Resource": "*", "Action": [{}]}}}}]}}"#,
        actions.join(",")
    );
    assert!(text.len() > 10_000_000);
    write(&dir, "huge.json", &text);
    insta::assert_snapshot!(assert_bad_input(dir.path(), "huge.json"));
}

#[test]
fn deeply_nested_document() {
    let dir = tempfile::tempdir().expect("temp dir");
    let depth = 100_000;
    let text = format!(
        r#"{REQUEST_HEAD}{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": "*", "Resource": {}"*"{}}}}}]}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    write(&dir, "deep.json", &text);
    insta::assert_snapshot!(assert_bad_input(dir.path(), "deep.json"));
}

#[test]
fn missing_and_empty_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let message = assert_bad_input(dir.path(), "no-such-file.json");
    assert!(message.contains("cannot read"), "{message}");
    write(&dir, "empty.json", "");
    insta::assert_snapshot!(assert_bad_input(dir.path(), "empty.json"));
}

#[test]
fn batch_reports_each_bad_line_and_answers_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = r#"{"id": "ok", "request": {"principal": "anonymous", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}}"#;
    let bad = r#"{"id": "bad", "request": {"principal": "anonymous", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}, "resource_policy": {"Statement": {"Effect": "Allow", "Action": "*", "Principal": "*", "Condition": {"DateBefore": {"aws:CurrentTime": "2020-01-01"}}}}}"#;
    write(
        &dir,
        "batch.ndjson",
        &format!("{good}\n\n{bad}\nnot json\n"),
    );
    let run = iamproof_in(
        dir.path(),
        &["simulate", "--batch", "--format", "json", "batch.ndjson"],
        "",
    );
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr));
}

/// The snapshot files this layout adds beyond the AWS CLI's own (`collected-at.txt`,
/// `organizations/organization.json`) are checked like the others: exit 2, the file named.
#[test]
fn broken_collection_time_and_organization_files() {
    let cases: [(&str, &str, &str); 2] = [
        ("collected-at.txt", "last tuesday\n", "collected-at.txt"),
        (
            "organizations/organization.json",
            r#"{"Organization": {"Id": "o-abc", "MasterAccountId": "not-an-account"}}"#,
            "MasterAccountId",
        ),
    ];
    for (file, text, named) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let snapshot = dir.path();
        std::fs::create_dir_all(snapshot.join("iam")).unwrap();
        std::fs::create_dir_all(snapshot.join("organizations")).unwrap();
        std::fs::write(
            snapshot.join("iam/account-authorization-details.json"),
            r#"{"UserDetailList": [{"UserName": "alice", "UserId": "AIDAALICE", "Path": "/",
                "Arn": "arn:aws:iam::111122223333:user/alice"}]}"#,
        )
        .unwrap();
        std::fs::write(snapshot.join(file), text).unwrap();
        let run = iamproof_in(snapshot, &["inspect", "--account", "."], "");
        assert_eq!(run.code, 2, "{file}: {}", run.stderr);
        assert!(
            run.stderr.contains(file) && run.stderr.contains(named),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}
