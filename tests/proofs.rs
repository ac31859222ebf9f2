//! Proof files as the CI gate. Every proof of `proofs/` (the example models) and of
//! `tests/fixtures/proofs/` (the reviewer cases under `tests/fixtures/snapshots/cases/`) holds;
//! the witness chain of each reachable answer and the blocking-hop reason of each unreachable
//! one are pinned, so a change in what iamproof proves or how it explains it shows up in review;
//! `only` proofs are checked against `who-can` so they cannot hold vacuously; the output is
//! byte-identical from run to run; and broken or failing proof files end with the exit codes
//! and messages of the command-line contract.

mod common;

use common::{iamproof, iamproof_in, project_root};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

const MODEL_PROOFS: &str = "proofs";
const CASE_PROOFS: &str = "tests/fixtures/proofs";

/// The `.json` files of a folder of the project, as paths relative to the project root, sorted.
fn proof_files(folder: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(project_root().join(folder))
        .unwrap_or_else(|e| panic!("{folder}: {e}"))
        .map(|entry| {
            entry
                .expect("a readable directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .map(|name| format!("{folder}/{name}"))
        .collect();
    files.sort();
    files
}

fn file_stem(file: &str) -> &str {
    Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("a file name")
}

fn read_json(file: &str) -> Value {
    let text = std::fs::read_to_string(project_root().join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn parse_stdout(what: &str, stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {stdout}"))
}

/// IAM resource matching: `*` is any run of characters, `?` any one character.
fn glob_matches(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

/// The snapshot folders of a proof file, resolved against the file's folder as `prove` does,
/// relative to the project root.
fn accounts_of(file: &str, proof_file: &Value) -> Vec<String> {
    let base = Path::new(file).parent().expect("a proof file in a folder");
    proof_file["accounts"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: accounts is a list"))
        .iter()
        .map(|dir| {
            base.join(dir.as_str().expect("an account folder name"))
                .display()
                .to_string()
        })
        .collect()
}

/// `--context` arguments for a proof's fixed context (string values only).
fn context_args(proof: &Value) -> Vec<String> {
    proof
        .get("context")
        .and_then(Value::as_object)
        .map(|context| {
            context
                .iter()
                .map(|(key, value)| {
                    let value = value.as_str().expect("a string context value");
                    format!("{key}={value}")
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The principals `who-can` finds reachable for an `only` proof; every answer must be decided.
fn who_can(file: &str, proof_file: &Value, proof: &Value) -> BTreeSet<String> {
    let mut args: Vec<String> = vec!["who-can".into()];
    for account in accounts_of(file, proof_file) {
        args.extend(["--account".into(), account]);
    }
    for field in ["action", "resource"] {
        args.push(format!("--{field}"));
        args.push(proof[field].as_str().expect("a string").to_string());
    }
    for context in context_args(proof) {
        args.extend(["--context".into(), context]);
    }
    if let Some(scope) = proof["scope"].as_str() {
        args.extend(["--scope".into(), scope.into()]);
    }
    args.extend(["--format".into(), "json".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = iamproof(&args);
    assert_eq!(run.code, 0, "who-can {args:?}: {}", run.stderr);
    let answers = parse_stdout("who-can", &run.stdout);
    answers["principals"]
        .as_array()
        .expect("a principals list")
        .iter()
        .map(|answer| {
            assert_eq!(answer["verdict"], "reachable", "who-can {args:?}: {answer}");
            answer["principal"].as_str().expect("an ARN").to_string()
        })
        .collect()
}

/// Checks one answer against the contract and its proof, and returns what is pinned of it:
/// the chain (and assumptions) of a reachable answer, the reason of an unreachable one.
fn pinned_answer(file: &str, proof: &Value, answer: &Value) -> Value {
    let name = &proof["name"];
    assert_eq!(answer["query"]["principal"], proof["principal"], "{name}");
    assert_eq!(answer["query"]["action"], proof["action"], "{name}");
    assert_eq!(answer["query"]["resource"], proof["resource"], "{name}");
    let chain = answer["chain"].as_array().expect("a chain list");
    match answer["verdict"].as_str() {
        Some("reachable") => {
            assert!(answer["reason"].is_null(), "{file} {name}: {answer}");
            let pattern = proof["resource"].as_str().expect("a resource");
            let action = proof["action"].as_str().expect("an action");
            assert!(
                chain.iter().any(|link| link["action"] == action
                    && glob_matches(pattern, link["resource"].as_str().unwrap_or_default())),
                "{file} {name}: no link of the witness is {action} on {pattern}: {answer}"
            );
            if let Some(fixed) = proof.get("context").and_then(Value::as_object) {
                for (key, value) in fixed {
                    assert!(
                        chain
                            .iter()
                            .any(|link| link["context"].get(key) == Some(value)),
                        "{file} {name}: the witness does not show {key}={value}: {answer}"
                    );
                }
            }
            json!({"chain": chain, "assumptions": answer["assumptions"]})
        }
        Some("unreachable") => {
            assert!(chain.is_empty(), "{file} {name}: {answer}");
            let reason = answer["reason"].as_str().unwrap_or_default();
            assert!(!reason.is_empty(), "{file} {name}: no reason: {answer}");
            json!({"reason": reason})
        }
        _ => panic!("{file} {name}: not decided: {answer}"),
    }
}

/// Runs `prove FILE --format json`, checks that every proof of the file holds, and returns the
/// pinned view of its results.
fn prove_holds(file: &str) -> Value {
    let proof_file = read_json(file);
    let proofs = proof_file["proofs"].as_array().expect("a proofs list");
    assert!(!proofs.is_empty(), "{file} has no proofs");
    let run = iamproof(&["prove", file, "--format", "json"]);
    assert_eq!(
        run.code, 0,
        "{file}: stdout {}\nstderr {}",
        run.stdout, run.stderr
    );
    assert!(run.stderr.is_empty(), "{file}: {}", run.stderr);
    let output = parse_stdout(file, &run.stdout);
    assert_eq!(
        output["summary"],
        json!({"holds": proofs.len(), "fails": 0, "unknown": 0}),
        "{file}"
    );
    let results = output["results"].as_array().expect("a results list");
    assert_eq!(results.len(), proofs.len(), "{file}");
    let pinned: Vec<Value> = proofs
        .iter()
        .zip(results)
        .enumerate()
        .map(|(i, (proof, result))| {
            let name = &proof["name"];
            assert_eq!(result["file"], file, "{name}");
            assert_eq!(result["path"], format!("proofs[{i}]"), "{name}");
            assert_eq!(&result["name"], name);
            assert_eq!(result["expect"], proof["expect"], "{name}");
            assert_eq!(result["status"], "holds", "{file} {name}: {result}");
            assert!(result["reason"].is_null(), "{file} {name}: {result}");
            let answers = result["answers"].as_array().expect("an answers list");
            let mut view =
                json!({"proof": name, "path": result["path"], "expect": proof["expect"]});
            if let Some(only) = proof["expect"].get("only") {
                assert!(answers.is_empty(), "{file} {name}: {result}");
                let wanted: BTreeSet<String> = only
                    .as_array()
                    .expect("an only list")
                    .iter()
                    .map(|arn| arn.as_str().expect("an ARN").to_string())
                    .collect();
                assert_eq!(
                    who_can(file, &proof_file, proof),
                    wanted,
                    "{file} {name}: who-can does not find exactly the principals of the only list"
                );
            } else {
                assert_eq!(answers.len(), 1, "{file} {name}: {result}");
                assert_eq!(answers[0]["verdict"], proof["expect"], "{file} {name}");
                if let Some(context) = proof.get("context") {
                    view["context"] = context.clone();
                }
                view["answer"] = pinned_answer(file, proof, &answers[0]);
            }
            view
        })
        .collect();
    Value::Array(pinned)
}

#[test]
fn every_example_model_has_its_proof_file() {
    let stems: Vec<String> = proof_files(MODEL_PROOFS)
        .iter()
        .map(|f| file_stem(f).to_string())
        .collect();
    assert_eq!(
        stems,
        [
            "mediaconvert-cross-account",
            "mediaconvert-default",
            "mediaconvert-least-privilege",
            "mediaconvert-sse-kms",
        ]
    );
}

#[test]
fn every_reviewer_case_has_its_proof_file() {
    let cases: Vec<String> =
        std::fs::read_dir(project_root().join("tests/fixtures/snapshots/cases"))
            .expect("the cases folder")
            .map(|entry| entry.expect("a directory entry"))
            .filter(|entry| entry.path().is_dir())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
    let stems: Vec<String> = proof_files(CASE_PROOFS)
        .iter()
        .map(|f| file_stem(f).to_string())
        .collect();
    assert_eq!(stems, cases);
    assert_eq!(cases.len(), 9, "{cases:?}");
}

#[test]
fn model_proofs_hold() {
    for file in proof_files(MODEL_PROOFS) {
        insta::assert_json_snapshot!(format!("model_{}", file_stem(&file)), prove_holds(&file));
    }
}

#[test]
fn reviewer_case_proofs_hold() {
    for file in proof_files(CASE_PROOFS) {
        insta::assert_json_snapshot!(format!("case_{}", file_stem(&file)), prove_holds(&file));
    }
}

#[test]
fn proof_output_is_deterministic() {
    let mut args = vec!["prove"];
    let mut files = proof_files(MODEL_PROOFS);
    files.extend(proof_files(CASE_PROOFS));
    args.extend(files.iter().map(String::as_str));
    args.extend(["--format", "json"]);
    let first = iamproof(&args);
    let second = iamproof(&args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let results = parse_stdout("prove", &first.stdout)["results"]
        .as_array()
        .map(Vec::len);
    let proofs: usize = files
        .iter()
        .map(|f| read_json(f)["proofs"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(
        results,
        Some(proofs),
        "every proof of every file is checked"
    );
    assert!(
        first.stdout == second.stdout,
        "prove printed different output on two runs"
    );
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) {
    std::fs::write(dir.path().join(name), text).expect("the temp dir is writable");
}

/// The default model's folder as a JSON string, for proof files written outside the project.
fn default_model() -> String {
    serde_json::to_string(
        &project_root()
            .join("models/mediaconvert-default")
            .display()
            .to_string(),
    )
    .expect("a path as JSON")
}

/// A proof file with the default model and the given proofs.
fn proof_file_text(proofs: &str) -> String {
    format!(
        r#"{{"accounts": [{}], "proofs": [{proofs}]}}"#,
        default_model()
    )
}

/// Runs `prove FILE` in `dir`, checks that it is rejected as bad input with one line that starts
/// `error: NAMES: REST` (the file, then the JSON path or the failure), and returns the message.
fn rejected(dir: &tempfile::TempDir, file: &str, names: &str, rest: &str) -> String {
    let run = iamproof_in(dir.path(), &["prove", file, "--format", "json"], "");
    assert_eq!(
        run.code, 2,
        "{file}: stdout {} stderr {}",
        run.stdout, run.stderr
    );
    assert!(run.stdout.is_empty(), "{file}: printed {}", run.stdout);
    assert!(!run.stderr.contains("panicked"), "{file}: {}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!("error: {names}: {rest}")),
        "{file}: {}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{file}: {}", run.stderr);
    run.stderr
}

const EDITOR_FINANCE: &str = r#""principal": "arn:aws:iam::111122223333:user/editor", "action": "s3:PutObject", "resource": "arn:aws:s3:::finance/*""#;

#[test]
fn missing_proof_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let message = rejected(
        &dir,
        "no-such-proofs.json",
        "no-such-proofs.json",
        "cannot read",
    );
    insta::assert_snapshot!(message);
}

#[test]
fn proof_file_that_is_not_json() {
    let dir = tempfile::tempdir().expect("a temp dir");
    write(
        &dir,
        "cut-off.json",
        "{\"accounts\": [\"models/x\"],\n \"proofs\": [",
    );
    let message = rejected(&dir, "cut-off.json", "cut-off.json", "not valid JSON");
    insta::assert_snapshot!(message);
}

#[test]
fn unknown_expect_value() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let proofs = format!(
        r#"{{"name": "fine", {EDITOR_FINANCE}, "expect": "reachable"}},
           {{"name": "typo", {EDITOR_FINANCE}, "expect": "reachble"}}"#
    );
    write(&dir, "typo.json", &proof_file_text(&proofs));
    let message = rejected(&dir, "typo.json", "typo.json", "proofs[1].expect");
    assert!(message.contains("\"reachble\""), "{message}");
    insta::assert_snapshot!(message);
}

#[test]
fn only_expectation_that_is_not_a_list() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let proofs = r#"{"name": "one admin", "action": "s3:PutObject", "resource": "arn:aws:s3:::finance/*",
                     "expect": {"only": "arn:aws:iam::111122223333:user/admin"}}"#;
    write(&dir, "only.json", &proof_file_text(proofs));
    let message = rejected(&dir, "only.json", "only.json", "proofs[0].expect.only");
    insta::assert_snapshot!(message);
}

#[test]
fn reachability_proof_without_principal() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let proofs = format!(
        r#"{{"name": "fine", {EDITOR_FINANCE}, "expect": "reachable"}},
           {{"name": "whose?", "action": "s3:PutObject", "resource": "arn:aws:s3:::finance/*", "expect": "unreachable"}}"#
    );
    write(&dir, "anonymous.json", &proof_file_text(&proofs));
    let message = rejected(
        &dir,
        "anonymous.json",
        "anonymous.json",
        "proofs[1].principal",
    );
    insta::assert_snapshot!(message);
}

#[test]
fn principal_outside_the_snapshots() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let proofs = r#"{"name": "ghost", "principal": "arn:aws:iam::111122223333:user/ghost",
                     "action": "s3:PutObject", "resource": "arn:aws:s3:::finance/*", "expect": "unreachable"}"#;
    write(&dir, "ghost.json", &proof_file_text(proofs));
    let message = rejected(&dir, "ghost.json", "ghost.json", "proofs[0].principal");
    assert!(message.contains("user/ghost"), "{message}");
    insta::assert_snapshot!(message);
}

#[test]
fn snapshot_folder_that_does_not_exist() {
    let dir = tempfile::tempdir().expect("a temp dir");
    write(
        &dir,
        "nowhere.json",
        r#"{"accounts": ["no-such-snapshot"], "proofs": []}"#,
    );
    // The proof file and its entry are named, then the folder as resolved.
    let message = rejected(
        &dir,
        "nowhere.json",
        "nowhere.json: accounts[0]",
        "no-such-snapshot: cannot open",
    );
    insta::assert_snapshot!(message);
}

#[test]
fn failing_proofs_print_their_counterexamples() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let proofs = format!(
        r#"{{"name": "editors cannot touch finance", {EDITOR_FINANCE}, "expect": "unreachable"}},
           {{"name": "analyst cannot write finance", "principal": "arn:aws:iam::111122223333:user/analyst",
             "action": "s3:PutObject", "resource": "arn:aws:s3:::finance/*", "expect": "unreachable"}},
           {{"name": "only admin writes finance", "action": "s3:PutObject", "resource": "arn:aws:s3:::finance/*",
             "expect": {{"only": ["arn:aws:iam::111122223333:user/admin"]}}}}"#
    );
    write(&dir, "wishful.json", &proof_file_text(&proofs));

    let text = iamproof_in(dir.path(), &["prove", "wishful.json"], "");
    assert_eq!(text.code, 1, "{}", text.stderr);
    assert!(text.stderr.is_empty(), "{}", text.stderr);
    assert!(
        text.stdout.starts_with("FAIL editors cannot touch finance"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "iam:PassRole on arn:aws:iam::111122223333:role/service-role/MediaConvert_Default_Role"
        ),
        "the counterexample shows the chain: {}",
        text.stdout
    );
    assert!(
        text.stdout.ends_with("1 passed, 2 failed, 0 unknown\n"),
        "{}",
        text.stdout
    );
    insta::assert_snapshot!(text.stdout);

    let run = iamproof_in(
        dir.path(),
        &["prove", "wishful.json", "--format", "json"],
        "",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let output = parse_stdout("wishful.json", &run.stdout);
    assert_eq!(
        output["summary"],
        json!({"holds": 1, "fails": 2, "unknown": 0})
    );
    let results = output["results"].as_array().expect("a results list");
    let statuses: Vec<&str> = results
        .iter()
        .map(|r| r["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(statuses, ["fails", "holds", "fails"]);
    let counterexample = &results[0]["answers"][0];
    assert_eq!(counterexample["verdict"], "reachable");
    assert_eq!(counterexample["chain"].as_array().map(Vec::len), Some(4));
    let intruders: Vec<&Value> = results[2]["answers"]
        .as_array()
        .expect("an answers list")
        .iter()
        .map(|a| &a["query"]["principal"])
        .collect();
    assert_eq!(
        intruders,
        [
            "arn:aws:iam::111122223333:role/service-role/MediaConvert_Default_Role",
            "arn:aws:iam::111122223333:user/editor"
        ]
    );
}

/// The outside line of `who-can` for `execute-api:Invoke` on `resource` in the default model.
fn api_outsiders(resource: &str) -> Option<serde_json::Value> {
    let run = iamproof(&[
        "who-can",
        "--account",
        "models/mediaconvert-default",
        "--action",
        "execute-api:Invoke",
        "--resource",
        resource,
        "--format",
        "json",
    ]);
    let answers = parse_stdout("who-can", &run.stdout);
    answers["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| !p["outside"].is_null())
        .cloned()
}

/// An API the snapshot does not list, in an account of the snapshots: its resource policy is
/// not recorded, so callers from outside reach it only on an assumption the answer states, and
/// the witness places the resource in its own account.
#[test]
fn outsiders_of_an_unlisted_api_rest_on_a_stated_assumption() {
    let outside = api_outsiders("arn:aws:execute-api:us-east-1:111122223333:zzzzzzzzzz/*")
        .expect("outsiders may reach an API whose policy is unknown");
    let assumptions = outside["assumptions"].as_array().unwrap();
    assert!(
        assumptions
            .iter()
            .any(|a| a.as_str().unwrap().contains("111122223333")),
        "{outside}"
    );
    let hop = &outside["chain"][0];
    assert!(hop["resource"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:execute-api:us-east-1:111122223333:zzzzzzzzzz/"));
}

/// An API the snapshot lists without a `policy` (get-rest-apis prints the resource policy of
/// each API that has one) has no resource policy: nobody outside the account reaches it
/// ("API Gateway resource policies", cross-account access needs the resource policy).
#[test]
fn outsiders_do_not_reach_a_listed_api_without_a_policy() {
    let outside = api_outsiders("arn:aws:execute-api:us-east-1:111122223333:k3x9q2m7vb/*");
    assert!(outside.is_none(), "{outside:?}");
}
