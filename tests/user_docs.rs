//! The user documentation stays inside the project and in step with the code: README.md,
//! models/README.md and docs/ link only to files of the repository; every file that
//! docs/snapshot-layout.md lists is one the loader reads (and the example models hold no file it
//! leaves out); the request and result of docs/simulate.md are what `simulate` reads and prints;
//! the proof file of docs/proof-files.md holds on the example models, and its error messages are
//! the ones `prove` gives.

mod common;

use common::{iamproof, iamproof_in, project_root};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const LAYOUT: &str = "docs/snapshot-layout.md";
const SIMULATE: &str = "docs/simulate.md";
const PROOF_FILES: &str = "docs/proof-files.md";

fn read(file: &str) -> String {
    std::fs::read_to_string(project_root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The fenced blocks of a Markdown text whose info string is `lang` (`""` for none).
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    // The block being read, and whether it is one of `lang`.
    let mut open: Option<(bool, String)> = None;
    for line in text.lines() {
        match (open.take(), line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim() == lang, String::new())),
            (None, None) => {}
            (Some((keep, block)), Some(_)) => {
                if keep {
                    out.push(block);
                }
            }
            (Some((keep, mut block)), None) => {
                block.push_str(line);
                block.push('\n');
                open = Some((keep, block));
            }
        }
    }
    out
}

/// The user documents: what a user of the repository reads.
fn user_documents() -> Vec<String> {
    let mut files = vec![
        "README.md".to_string(),
        "models/README.md".to_string(),
        "scripts/collect.sh".to_string(),
    ];
    let mut docs: Vec<String> = std::fs::read_dir(project_root().join("docs"))
        .expect("docs/ is listed")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The relative targets of the Markdown links `[text](target)` of a text.
fn relative_links(text: &str) -> Vec<String> {
    text.match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &text[at + 2..];
            let target = &rest[..rest.find(')')?];
            let target = target.split('#').next().unwrap_or_default();
            (!target.is_empty() && !target.contains("://")).then(|| target.to_string())
        })
        .collect()
}

#[test]
fn user_documents_stay_inside_the_project() {
    for file in user_documents() {
        let text = read(&file);
        for outside in [
            "shared/spec",
            "spec/snapshot.md",
            "spec/cli.md",
            "reference/mediaconvert-iam.md",
        ] {
            assert!(!text.contains(outside), "{file} sends users to {outside}");
        }
        let base = Path::new(&file).parent().expect("a folder");
        for link in relative_links(&text) {
            let target = project_root().join(base).join(&link);
            assert!(target.exists(), "{file} links {link}, which does not exist");
        }
    }
    let readme = read("README.md");
    for doc in [LAYOUT, SIMULATE, PROOF_FILES] {
        assert!(
            readme.contains(&format!("]({doc})")),
            "README.md links {doc}"
        );
    }
    let models = read("models/README.md");
    for doc in [LAYOUT, SIMULATE, PROOF_FILES] {
        assert!(
            models.contains(&format!("](../{doc})")),
            "models/README.md links {doc}"
        );
    }
}

#[test]
fn relative_links_are_found_and_checked() {
    let links = relative_links("see [a](docs/a.md#x), [b](https://example.com) and [c](../c.md)");
    assert_eq!(links, ["docs/a.md", "../c.md"]);
}

/// The files the layout block of docs/snapshot-layout.md lists (folders left out), with their
/// placeholders (`<bucket>`).
fn layout_files() -> Vec<String> {
    let text = read(LAYOUT);
    let tree = blocks(&text, "")
        .into_iter()
        .next()
        .expect("the layout block");
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|path| *path != "<snapshot>/" && !path.ends_with('/'))
        .map(str::to_string)
        .collect()
}

fn instantiate(path: &str) -> String {
    path.replace("<bucket>", "media-test")
        .replace("<key-id>", "1234abcd-12ab-34cd-56ef-1234567890ab")
        .replace("<policy-id>", "p-test1234")
        .replace("<stack-name>", "media-test")
}

/// Whether the loader reads `relative` in a snapshot: given a file there that is not valid
/// content, loading fails naming it, or a warning speaks of it without calling it foreign.
fn loader_reads(relative: &str) -> bool {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let write = |path: &str, text: &str| {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("a parent")).expect("a folder");
        std::fs::write(full, text).expect("a file");
    };
    write(
        "caller-identity.json",
        r#"{"Account": "111122223333", "Arn": "arn:aws:iam::111122223333:user/collector"}"#,
    );
    write("iam/account-authorization-details.json", "{}");
    write(relative, "not the output of any command\n");
    let account = dir.path().display().to_string();
    let run = iamproof(&[
        "inspect",
        "--quiet",
        "--account",
        &account,
        "--format",
        "json",
    ]);
    if run.code == 2 {
        return run.stderr.contains(relative);
    }
    assert_eq!(run.code, 0, "{relative}: {}", run.stderr);
    let inspection: Value = serde_json::from_str(&run.stdout).expect("JSON");
    !inspection["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .any(|w| {
            w["file"].as_str().is_some_and(|f| f.ends_with(relative))
                && w["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("not part of the snapshot layout"))
        })
}

#[test]
fn every_file_of_the_layout_is_read_by_the_loader() {
    let files = layout_files();
    assert!(files.len() >= 20, "{files:?}");
    for file in &files {
        assert!(
            loader_reads(&instantiate(file)),
            "the loader ignores {file}"
        );
    }
    // A file the layout does not name is not read: the check can fail.
    assert!(!loader_reads("s3/media-test/lifecycle.json"));
    assert!(!loader_reads("iam/credential-report.csv"));
}

/// A file of an example snapshot, with its placeholders back (`s3/<bucket>/policy.json`).
fn generalize(relative: &str) -> String {
    let parts: Vec<&str> = relative.split('/').collect();
    match parts.as_slice() {
        ["s3", _, file] => format!("s3/<bucket>/{file}"),
        ["kms", _, file] => format!("kms/<key-id>/{file}"),
        ["cloudformation", "stacks", _] => "cloudformation/stacks/<stack-name>.json".to_string(),
        ["organizations", kind @ ("scps" | "rcps"), _] => {
            format!("organizations/{kind}/<policy-id>.json")
        }
        _ => relative.to_string(),
    }
}

fn files_under(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("a folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files_under(&path, base, out);
        } else {
            let relative = path.strip_prefix(base).expect("under the base");
            out.push(relative.display().to_string());
        }
    }
}

#[test]
fn the_layout_lists_every_file_of_the_example_models() {
    let listed: BTreeSet<String> = layout_files().into_iter().collect();
    let models = project_root().join("models");
    for entry in std::fs::read_dir(&models).expect("models/") {
        let snapshot = entry.expect("an entry").path();
        if !snapshot.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        files_under(&snapshot, &snapshot, &mut files);
        for file in files {
            let general = generalize(&file);
            assert!(
                listed.contains(&general),
                "{LAYOUT} does not list {general} ({})",
                snapshot.display()
            );
        }
    }
}

#[test]
fn the_simulate_example_is_what_simulate_reads_and_prints() {
    let text = read(SIMULATE);
    let json = blocks(&text, "json");
    let request = &json[0];
    let run = iamproof_in(
        project_root(),
        &["simulate", "--format", "json", "-"],
        request,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: Value = serde_json::from_str(&run.stdout).expect("a JSON result");
    let documented: Value = serde_json::from_str(&json[1]).expect("the documented result");
    assert_eq!(printed, documented);

    let run = iamproof_in(project_root(), &["simulate", "-"], request);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plain = blocks(&text, "");
    assert!(
        plain.contains(&run.stdout),
        "{SIMULATE} shows the text result:\n{}",
        run.stdout
    );
    // The documented parse error is the one simulate gives.
    let broken = request.replace(
        r#""Condition": {"StringLike""#,
        r#""Condition": {"StringLikee""#,
    );
    let run = iamproof_in(project_root(), &["simulate", "-"], &broken);
    assert_eq!(run.code, 2);
    let message = run.stderr.replace("<stdin>", "request.json");
    assert!(
        text.contains(message.trim_end()),
        "{SIMULATE} shows the error:\n{message}"
    );
}

/// A mistake made in a proof file: the JSON pointer of the field, and how it is broken.
type Mutation = (&'static str, fn(&mut Value));

#[test]
fn the_proof_file_example_holds_and_its_mistakes_are_reported() {
    let text = read(PROOF_FILES);
    let example = blocks(&text, "json")
        .into_iter()
        .next()
        .expect("an example");
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir(dir.path().join("proofs")).expect("proofs/");
    #[cfg(unix)]
    std::os::unix::fs::symlink(project_root().join("models"), dir.path().join("models"))
        .expect("a link to the models");
    let write = |name: &str, value: &Value| {
        std::fs::write(dir.path().join("proofs").join(name), value.to_string()).expect("a file");
    };
    let file: Value = serde_json::from_str(&example).expect("the example is JSON");
    write("media.json", &file);
    let run = iamproof_in(dir.path(), &["prove", "--quiet", "proofs/media.json"], "");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.ends_with("5 passed, 0 failed, 0 unknown\n"),
        "{}",
        run.stdout
    );

    let errors = blocks(&text, "")
        .into_iter()
        .find(|b| b.starts_with("error: "))
        .expect("the error messages");
    let mutations: [Mutation; 4] = [
        ("/proofs/0/expect", |f| {
            f["proofs"][0]["expect"] = "reachble".into()
        }),
        ("/proofs/2/action", |f| {
            f["proofs"][2]["action"] = "s3:PutObjcet".into()
        }),
        ("/proofs/1/principal", |f| {
            f["proofs"][1]["principal"] = "arn:aws:iam::111122223333:user/ghost".into()
        }),
        ("/accounts/0", |f| {
            f["accounts"][0] = "../models/typo".into()
        }),
    ];
    for (what, mutate) in mutations {
        let mut broken = file.clone();
        mutate(&mut broken);
        write("media.json", &broken);
        let run = iamproof_in(dir.path(), &["prove", "--quiet", "proofs/media.json"], "");
        assert_eq!(run.code, 2, "{what}: {}", run.stdout);
        assert!(
            errors.contains(&run.stderr),
            "{PROOF_FILES} shows the message for {what}:\n{}",
            run.stderr
        );
    }
}
