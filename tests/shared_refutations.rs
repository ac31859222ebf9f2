//! Answers are the same bytes whether or not a search may skip the actors an earlier search of
//! the same question proved can go nowhere (`Options::share_refutations`), and whether a search
//! solves the edits of the account where its queue meets them or when the round ends, those
//! that bear on the principal first (`Options::defer_edits`): `who-can` on the example models,
//! the project's fixtures, synthetic broad accounts and a role mesh, for writes and reads of
//! every bucket and decryption with every key, asked one after the other on one engine as
//! `sweep` and `only` proofs ask them; and `can` of every principal of the fixtures, whose
//! refutations are explained.

mod common;

use iamproof::model::Model;
use iamproof::policy::Context;
use iamproof::query::{Engine, Options, Question};
use iamproof::synthetic::{write_account, write_role_mesh_account, Profile, SyntheticSpec};
use std::path::{Path, PathBuf};

/// Every question of a sweep of the model: writes and reads of each bucket's objects,
/// decryption with each key.
fn questions(model: &Model) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for name in model.buckets.keys() {
        out.push(("s3:PutObject", format!("arn:aws:s3:::{name}/*")));
        out.push(("s3:GetObject", format!("arn:aws:s3:::{name}/*")));
    }
    for arn in model.keys.keys() {
        out.push(("kms:Decrypt", arn.clone()));
    }
    out
}

/// The options of the search that does all its work where its queue meets it.
fn eager() -> Options {
    Options {
        threads: 1,
        share_refutations: false,
        defer_edits: false,
        ..Options::default()
    }
}

/// The options of the search that shares and defers its work.
fn lazy() -> Options {
    Options {
        threads: 1,
        ..Options::default()
    }
}

/// The answers of every question, as `who-can --format json` prints them, on one engine.
fn answers(model: &Model, options: Options) -> Vec<String> {
    let engine = Engine::new(model, options);
    questions(model)
        .into_iter()
        .map(|(action, resource)| {
            let answers = engine
                .who_can(action, &resource, &Context::new())
                .map(|a| iamproof::report::who_can_json(&a).to_string());
            format!("{action} {resource}: {answers:?}")
        })
        .collect()
}

/// Asserts both ways of searching answer the same; returns how many principals can, summed
/// over the questions, so that a caller can check the account is not trivial.
fn assert_same(label: &str, model: &Model) -> usize {
    let shared = answers(model, lazy());
    let independent = answers(model, eager());
    assert_eq!(shared.len(), independent.len());
    for (a, b) in shared.iter().zip(&independent) {
        assert_eq!(a, b, "{label}: answers differ");
    }
    shared.iter().map(|a| a.matches("verdict").count()).sum()
}

/// The answers of `can`, refutations explained, for every principal and question.
fn explained(model: &Model, options: Options) -> Vec<String> {
    let engine = Engine::new(model, options);
    let mut out = Vec::new();
    for principal in model.users.keys().chain(model.roles.keys()) {
        for (action, resource) in questions(model) {
            let question = Question {
                principal: principal.clone(),
                action: action.into(),
                resource,
                context: Context::new(),
            };
            let answer = engine
                .can(&question)
                .map(|a| serde_json::to_string(&a).expect("answers serialize"));
            out.push(format!("{principal} {action}: {answer:?}"));
        }
    }
    out
}

fn load(dirs: &[PathBuf]) -> Option<Model> {
    iamproof::snapshot::load(dirs).ok()
}

/// Snapshot folders under `root`, one level down (those that load).
fn folders(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("a fixture folder")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("iam").is_dir())
        .collect();
    out.sort();
    out
}

#[test]
fn example_models_and_fixtures_answer_the_same_with_shared_refutations() {
    let root = common::project_root();
    let mut checked = 0;
    let mut reachable = 0;
    for dir in folders(&root.join("models"))
        .into_iter()
        .chain(folders(&root.join("tests/fixtures/adversarial")))
        .chain(folders(&root.join("tests/fixtures/outside")))
        .chain(folders(&root.join("tests/fixtures/escalation/iam")))
        .chain(folders(&root.join("tests/fixtures/escalation/services")))
    {
        let Some(model) = load(std::slice::from_ref(&dir)) else {
            continue;
        };
        reachable += assert_same(&dir.display().to_string(), &model);
        let (lazy, eager) = (explained(&model, lazy()), explained(&model, eager()));
        for (a, b) in lazy.iter().zip(&eager) {
            assert_eq!(a, b, "{}: explained answers differ", dir.display());
        }
        checked += 1;
    }
    assert!(
        checked >= 20,
        "only {checked} snapshot folders were checked"
    );
    assert!(reachable > 0);
}

#[test]
fn synthetic_broad_accounts_answer_the_same_with_shared_refutations() {
    let spec = SyntheticSpec {
        profile: Profile::Broad,
        users: 160,
        groups: 10,
        roles: 90,
        managed_policies: 40,
        buckets: 12,
        keys: 3,
        mediaconvert_trusting_roles: 4,
        escalating_every: 9,
    };
    let dir = tempfile::tempdir().unwrap();
    write_account(dir.path(), &spec).unwrap();
    let model = load(&[dir.path().to_path_buf()]).expect("the synthetic account loads");
    let reachable = assert_same("broad", &model);
    assert!(
        reachable > 100,
        "only {reachable} answers were not refutations"
    );
}

#[test]
fn a_role_mesh_answers_the_same_with_shared_refutations() {
    for reachable in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        write_role_mesh_account(dir.path(), 40, reachable).unwrap();
        let model = load(&[dir.path().to_path_buf()]).expect("the mesh loads");
        let can = assert_same("mesh", &model);
        assert_eq!(can > 0, reachable);
    }
}
