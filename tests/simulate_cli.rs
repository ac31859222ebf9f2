//! `iamproof simulate` as users run it: the text and JSON explanations of realistic requests
//! under `tests/fixtures/requests`, pinned by insta, and batch mode over NDJSON.

mod common;

use common::{iamproof, iamproof_in, project_root};

#[test]
fn text_explanations() {
    insta::glob!("fixtures/requests/*.json", |path| {
        let path = path.to_str().expect("utf-8 path");
        let relative = path
            .strip_prefix(project_root().to_str().unwrap())
            .unwrap()
            .trim_start_matches('/');
        let run = iamproof(&["simulate", relative]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        insta::assert_snapshot!(run.stdout);
    });
}

#[test]
fn json_results() {
    insta::glob!("fixtures/requests/*.json", |path| {
        let path = path.to_str().expect("utf-8 path");
        let run = iamproof(&["simulate", "--format", "json", path]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let value: serde_json::Value =
            serde_json::from_str(&run.stdout).expect("simulate prints JSON");
        insta::assert_json_snapshot!(value);
    });
}

#[test]
fn batch_over_standard_input_echoes_ids() {
    let dir = project_root().join("tests/fixtures/requests");
    let mut lines = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        lines.push(value.to_string());
    }
    let run = iamproof_in(
        &dir,
        &["simulate", "--batch", "--format", "json", "-"],
        &lines.join("\n"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let decisions: Vec<String> = run
        .stdout
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            format!(
                "{} => {}",
                v["id"].as_str().unwrap(),
                v["decision"].as_str().unwrap()
            )
        })
        .collect();
    insta::assert_snapshot!(decisions.join("\n"), @r"
    bucket demands SSE-KMS => ExplicitlyDenied
    IAM allow without key-policy delegation => ImplicitlyDenied
    editor passes the default role to MediaConvert => Allowed
    service role writes into a partner's bucket => Allowed
    ");
}
