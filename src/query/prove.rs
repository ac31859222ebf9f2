//! Proof files: what must hold of some accounts, checked as one CI gate.
//!
//! A proof file names snapshot folders (relative to the file) and a list of proofs, each
//! expecting `reachable`, `unreachable`, or `{"only": [ARN, ...]}` (nobody else can). A proof
//! holds, fails (with the counterexample chain) or is unknown; unknown never passes.

use super::{Answer, Engine, Options, Question, Verdict};
use crate::input::{list_at, read_object_file, string_at, InputError};
use crate::policy::kind_of;
use crate::shard::{ErrorRecord, FileRecord, Shard};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What a proof expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expectation {
    Reachable,
    Unreachable,
    Only(Vec<String>),
}

/// One proof of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Proof {
    pub name: String,
    pub principal: Option<String>,
    pub action: String,
    pub resource: String,
    pub context: crate::policy::Context,
    pub expect: Expectation,
    /// The ways of becoming another principal the proof covers, when it says (`"scope":
    /// "configured"`); else the run's.
    pub scope: Option<super::Scope>,
    /// The JSON path of the proof in its file (`proofs[2]`).
    pub path: String,
}

/// A parsed proof file.
#[derive(Debug, Clone)]
pub struct ProofFile {
    pub file: String,
    pub accounts: Vec<PathBuf>,
    /// Terraform plans (`terraform show -json`): alone, the account they would leave; with
    /// `accounts`, their changes made to the snapshots.
    pub terraform: Vec<PathBuf>,
    /// CloudFormation templates, likewise.
    pub templates: Vec<PathBuf>,
    /// The account plans and templates act in, parameters and stack name of the templates.
    pub template_inputs: crate::cloudformation::TemplateInputs,
    pub proofs: Vec<Proof>,
}

/// How one proof came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Holds,
    Fails,
    Unknown,
}

/// The outcome of one proof, with the answers it rests on. It reads back from the JSON report
/// it is written to, so that the reports of shards merge ([`crate::shard`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofResult {
    pub file: String,
    pub name: String,
    pub path: String,
    pub expect: Expectation,
    pub status: Status,
    /// For `reachable`/`unreachable`: the answer; for `only`: the principals that can (and
    /// those that may), each with its answer.
    pub answers: Vec<Answer>,
    /// Why it fails or is unknown, in one sentence.
    pub reason: Option<String>,
    /// For `only`: everyone who can and everyone undecided, listed or not (`what-if` compares
    /// them before and after a change). Not part of the `prove` report.
    #[serde(skip)]
    pub who_can: Option<WhoCanSet>,
}

/// The principals a `who-can` question found: those that can (`*` for principals outside the
/// snapshots) and those whose answer is unknown, each sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WhoCanSet {
    pub can: Vec<String>,
    pub unknown: Vec<String>,
}

impl WhoCanSet {
    /// The set of `answers` (a `who-can` list).
    pub fn of(answers: &[Answer]) -> WhoCanSet {
        let with = |verdict: Verdict| {
            let mut names: Vec<String> = answers
                .iter()
                .filter(|a| a.verdict == verdict)
                .map(|a| a.query.principal.clone())
                .collect();
            names.sort();
            names
        };
        WhoCanSet {
            can: with(Verdict::Reachable),
            unknown: with(Verdict::Unknown),
        }
    }

    /// The principals that can here and could not in `before`.
    pub fn gained_since(&self, before: &WhoCanSet) -> Vec<&str> {
        self.can
            .iter()
            .filter(|p| !before.can.contains(p))
            .map(String::as_str)
            .collect()
    }
}

/// Reads a proof file.
pub fn read(path: &Path) -> Result<ProofFile, InputError> {
    let (file, object) = read_object_file(
        path,
        "proof file",
        &[
            "accounts",
            "terraform",
            "templates",
            "account_id",
            "parameters",
            "stack_name",
            "region",
            "proofs",
        ],
    )?;
    let base = path.parent().unwrap_or(Path::new("."));
    let paths = |field: &str| -> Result<Vec<PathBuf>, InputError> {
        let Some(value) = object.get(field) else {
            return Ok(Vec::new());
        };
        list_at(&file, field, value)?
            .iter()
            .enumerate()
            .map(|(i, v)| string_at(&file, &format!("{field}[{i}]"), v).map(|p| base.join(p)))
            .collect()
    };
    let accounts = paths("accounts")?;
    let terraform = paths("terraform")?;
    let templates = paths("templates")?;
    let text = |field: &str| -> Result<Option<String>, InputError> {
        object
            .get(field)
            .map(|v| string_at(&file, field, v).map(str::to_string))
            .transpose()
    };
    let mut parameters = std::collections::BTreeMap::new();
    if let Some(given) = object.get("parameters") {
        let Some(given) = given.as_object() else {
            return Err(InputError::new(
                &file,
                "parameters",
                "expected an object of parameter values",
            ));
        };
        for (key, value) in given {
            let value = string_at(&file, &format!("parameters.{key}"), value)?;
            parameters.insert(key.clone(), value.to_string());
        }
    }
    let template_inputs = crate::cloudformation::TemplateInputs {
        account: text("account_id")?,
        parameters,
        stack_name: text("stack_name")?,
        region: text("region")?,
    };
    if accounts.is_empty() && terraform.is_empty() && templates.is_empty() {
        let message = match object.get("accounts") {
            Some(_) => {
                "empty list; name at least one snapshot folder (or a plan in terraform, a template in templates)"
            }
            None => "missing; name at least one snapshot folder (or a plan in terraform, a template in templates)",
        };
        return Err(InputError::new(&file, "accounts", message));
    }
    let proofs = list_at(
        &file,
        "proofs",
        object
            .get("proofs")
            .ok_or_else(|| InputError::new(&file, "proofs", "missing"))?,
    )?
    .iter()
    .enumerate()
    .map(|(i, v)| read_proof(&file, &format!("proofs[{i}]"), v))
    .collect::<Result<Vec<_>, _>>()?;
    Ok(ProofFile {
        file,
        accounts,
        terraform,
        templates,
        template_inputs,
        proofs,
    })
}

fn read_proof(file: &str, path: &str, value: &Value) -> Result<Proof, InputError> {
    let object = value.as_object().ok_or_else(|| {
        InputError::new(
            file,
            path,
            format!("expected a proof object, found {}", kind_of(value)),
        )
    })?;
    const FIELDS: [&str; 7] = [
        "name",
        "principal",
        "action",
        "resource",
        "expect",
        "context",
        "scope",
    ];
    if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(InputError::new(
            file,
            &format!("{path}.{unknown}"),
            format!("unknown field (expected one of {})", FIELDS.join(", ")),
        ));
    }
    let field = |name: &str| {
        object
            .get(name)
            .ok_or_else(|| InputError::new(file, &format!("{path}.{name}"), "missing"))
    };
    let text = |name: &str| -> Result<String, InputError> {
        Ok(string_at(file, &format!("{path}.{name}"), field(name)?)?.to_string())
    };
    let expect_path = format!("{path}.expect");
    let expect = match field("expect")? {
        Value::String(s) if s == "reachable" => Expectation::Reachable,
        Value::String(s) if s == "unreachable" => Expectation::Unreachable,
        Value::Object(only) if only.len() == 1 && only.contains_key("only") => {
            let only_path = format!("{expect_path}.only");
            let list = list_at(file, &only_path, &only["only"])?;
            Expectation::Only(
                list.iter()
                    .enumerate()
                    .map(|(i, v)| {
                        string_at(file, &format!("{only_path}[{i}]"), v).map(str::to_string)
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        other => {
            return Err(InputError::new(
                file,
                &expect_path,
                format!(
                    "expected \"reachable\", \"unreachable\" or {{\"only\": [ARN, ...]}}, found {}",
                    describe(other)
                ),
            ))
        }
    };
    let principal = match object.get("principal") {
        None => None,
        Some(v) => Some(string_at(file, &format!("{path}.principal"), v)?.to_string()),
    };
    if principal.is_none() && expect != Expectation::Reachable && expect != Expectation::Unreachable
    {
        // `only` proofs ask who can: no principal needed.
    } else if principal.is_none() {
        return Err(InputError::new(
            file,
            &format!("{path}.principal"),
            "missing (a reachable or unreachable proof is about one principal)",
        ));
    }
    let context = match object.get("context") {
        None => crate::policy::Context::new(),
        Some(v) => crate::simulate::parse_context(file, &format!("{path}.context"), v)?,
    };
    let scope = match object.get("scope") {
        None => None,
        Some(v) => {
            let scope_path = format!("{path}.scope");
            let text = string_at(file, &scope_path, v)?;
            Some(super::Scope::parse(text).ok_or_else(|| {
                InputError::new(
                    file,
                    &scope_path,
                    format!("expected \"all\" or \"configured\", found {text:?}"),
                )
            })?)
        }
    };
    Ok(Proof {
        name: text("name")?,
        principal,
        action: text("action")?,
        resource: text("resource")?,
        context,
        expect,
        scope,
        path: path.to_string(),
    })
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => kind_of(other).to_string(),
    }
}

/// What `prove` gave over its proof files: over the proofs of one shard with `--shard`.
#[derive(Debug, Default)]
pub struct Run {
    /// Every proof file of the run, in order, whether it was loaded or not.
    pub files: Vec<FileRecord>,
    /// The files whose accounts were loaded, each with the proofs that were checked.
    pub checked: Vec<ProofFile>,
    pub results: Vec<ProofResult>,
    /// The number of each result among the proofs of all files, from 0.
    pub positions: Vec<usize>,
    /// Every mistake: files that cannot be read or loaded, questions that cannot be asked.
    pub errors: Vec<ErrorRecord>,
    /// The names of the proofs that other shards check.
    pub elsewhere: BTreeSet<String>,
}

/// Checks the proofs of the files at `paths` that `shard` takes (every proof without one), each
/// file with `plans` added to its own. Every file is read; only those with a proof to check are
/// loaded (`load`) and checked (`check`). Every mistake of every file is kept, and the proofs
/// that can be checked still are.
pub fn run(
    paths: &[PathBuf],
    plans: &[PathBuf],
    shard: Option<Shard>,
    mut load: impl FnMut(&ProofFile) -> Result<crate::model::Model, InputError>,
    mut check: impl FnMut(&crate::model::Model, &ProofFile) -> Vec<Result<ProofResult, InputError>>,
) -> Run {
    let read: Vec<Result<ProofFile, InputError>> = paths
        .iter()
        .map(|path| {
            read(path).map(|mut file| {
                file.terraform.extend(plans.iter().cloned());
                file
            })
        })
        .collect();
    let counts: Vec<usize> = read
        .iter()
        .map(|file| file.as_ref().map_or(0, |f| f.proofs.len()))
        .collect();
    let mut run = Run::default();
    let shares = crate::shard::shares(shard, &counts);
    for (index, ((path, file), share)) in paths.iter().zip(read).zip(shares).enumerate() {
        let error = |proof: Option<usize>, e: InputError| ErrorRecord {
            file: index,
            proof,
            message: e.to_string(),
        };
        let mut file = match file {
            Ok(file) => file,
            Err(e) => {
                run.files.push(FileRecord {
                    file: path.display().to_string(),
                    proofs: 0,
                    accounts: Vec::new(),
                });
                run.errors.push(error(None, e));
                continue;
            }
        };
        run.files.push(FileRecord::of(&file));
        for (position, proof) in file.proofs.iter().enumerate() {
            if !share.proofs.contains(&position) {
                run.elsewhere.insert(proof.name.clone());
            }
        }
        if !share.load {
            continue;
        }
        file.proofs = file.proofs.drain(share.proofs.clone()).collect();
        let model = match load(&file) {
            Ok(model) => model,
            Err(e) => {
                run.errors.push(error(None, e));
                continue;
            }
        };
        let first = share.first + share.proofs.start;
        for (offset, checked) in check(&model, &file).into_iter().enumerate() {
            match checked {
                Ok(result) => {
                    run.results.push(result);
                    run.positions.push(first + offset);
                }
                Err(e) => run.errors.push(error(Some(first + offset), e)),
            }
        }
        run.checked.push(file);
    }
    run
}

/// Checks every proof of a file against its snapshots.
pub fn check(file: &ProofFile, options: Options) -> Result<Vec<ProofResult>, InputError> {
    let model = load(file)?;
    check_on(&Engine::new(&model, options), file)
}

/// The snapshots and plans a proof file names, loaded.
pub fn load(file: &ProofFile) -> Result<crate::model::Model, InputError> {
    let sources = crate::sources::Sources {
        accounts: file.accounts.clone(),
        terraform: file.terraform.clone(),
        templates: file.templates.clone(),
        inputs: file.template_inputs.clone(),
    };
    sources.load().map_err(|e| {
        // A folder that cannot be opened is the proof file's mistake: name it and the entry.
        match file
            .accounts
            .iter()
            .position(|dir| e.file == dir.display().to_string())
        {
            Some(index) if e.path.is_empty() => InputError::new(
                &file.file,
                &format!("accounts[{index}]"),
                format!("{}: {}", e.file, e.message),
            ),
            _ => e,
        }
    })
}

/// Checks every proof of a file with an engine over a model already loaded (for `what-if`,
/// a changed one).
pub fn check_on(engine: &Engine, file: &ProofFile) -> Result<Vec<ProofResult>, InputError> {
    check_each(engine, file).into_iter().collect()
}

/// Checks every proof of a file, each on its own: a proof whose question cannot be asked (a
/// mistyped principal) is an error of its own and does not hide the results of the others.
pub fn check_each(engine: &Engine, file: &ProofFile) -> Vec<Result<ProofResult, InputError>> {
    engine.progress.stage(
        &format!("proofs of {}", file.file),
        Some(file.proofs.len() as u64),
    );
    file.proofs
        .iter()
        .map(|proof| {
            let result = check_one(engine, file, proof);
            engine.progress.step();
            result
        })
        .collect()
}

fn check_one(engine: &Engine, file: &ProofFile, proof: &Proof) -> Result<ProofResult, InputError> {
    let mut result = match proof.scope {
        Some(scope) => engine.scoped(scope, || check_scoped(engine, file, proof)),
        None => check_scoped(engine, file, proof),
    }?;
    with_origins(engine.model, &mut result);
    Ok(result)
}

/// Each granting statement of the result with the plan or template resource that declares
/// its policy, for SARIF to place it there.
fn with_origins(model: &crate::model::Model, result: &mut ProofResult) {
    if model.origins.is_empty() {
        return;
    }
    let links = result.answers.iter_mut().flat_map(|a| a.chain.iter_mut());
    for allowed in links.flat_map(|link| link.allowed_by.iter_mut()) {
        allowed.origin = model.origins.get(&allowed.policy).cloned();
    }
}

fn check_scoped(
    engine: &Engine,
    file: &ProofFile,
    proof: &Proof,
) -> Result<ProofResult, InputError> {
    // A question that cannot be asked is the proof file's mistake: name the field at fault.
    let to_input_error = |e: super::QueryError| {
        use super::QueryError as Q;
        let field = match &e {
            Q::UnknownPrincipal(_) => ".principal",
            Q::BadAction(_) | Q::UnknownAction { .. } => ".action",
            Q::NotAnArn(_) | Q::ResourceNotTaken { .. } | Q::UnresolvedAlias(_) => ".resource",
            Q::BadContext(_) => ".context",
        };
        InputError::new(&file.file, &format!("{}{field}", proof.path), e.to_string())
    };
    let (status, answers, reason, who_can) = match &proof.expect {
        Expectation::Reachable | Expectation::Unreachable => {
            let principal = proof.principal.clone().unwrap_or_default();
            let question = Question {
                principal,
                action: proof.action.clone(),
                resource: proof.resource.clone(),
                context: proof.context.clone(),
            };
            let answer = engine.can(&question).map_err(to_input_error)?;
            let wanted = if proof.expect == Expectation::Reachable {
                Verdict::Reachable
            } else {
                Verdict::Unreachable
            };
            let (status, reason) = match answer.verdict {
                Verdict::Unknown => (Status::Unknown, answer.reason.clone()),
                verdict if verdict == wanted => (Status::Holds, None),
                Verdict::Reachable => (
                    Status::Fails,
                    Some("expected unreachable, but it is reachable: the witness chain is the counterexample".to_string()),
                ),
                _ => (
                    Status::Fails,
                    Some(format!(
                        "it is unreachable: {}",
                        answer.reason.clone().unwrap_or_default()
                    )),
                ),
            };
            (status, vec![answer], reason, None)
        }
        Expectation::Only(allowed) => {
            let answers = engine
                .who_can_reporting(&proof.action, &proof.resource, &proof.context, false)
                .map_err(to_input_error)?;
            let admitted = |a: &Answer| match a.outside {
                Some(_) => allowed
                    .iter()
                    .any(|entry| super::outside::allowed_by(entry, &a.query.principal)),
                None => allowed.contains(&a.query.principal),
            };
            let intruders: Vec<&Answer> = answers
                .iter()
                .filter(|a| a.verdict == Verdict::Reachable && !admitted(a))
                .collect();
            let undecided: Vec<&Answer> = answers
                .iter()
                .filter(|a| a.verdict == Verdict::Unknown && !admitted(a))
                .collect();
            let (status, reason, shown) = if !intruders.is_empty() {
                let names: Vec<&str> = intruders
                    .iter()
                    .map(|a| a.query.principal.as_str())
                    .collect();
                (
                    Status::Fails,
                    Some(format!("also reachable by {}", names.join(", "))),
                    intruders,
                )
            } else if !undecided.is_empty() {
                let names: Vec<&str> = undecided
                    .iter()
                    .map(|a| a.query.principal.as_str())
                    .collect();
                (
                    Status::Unknown,
                    Some(format!("undecided for {}", names.join(", "))),
                    undecided,
                )
            } else {
                (Status::Holds, None, Vec::new())
            };
            let shown = shown.into_iter().cloned().collect();
            (status, shown, reason, Some(WhoCanSet::of(&answers)))
        }
    };
    Ok(ProofResult {
        file: file.file.clone(),
        name: proof.name.clone(),
        path: proof.path.clone(),
        expect: proof.expect.clone(),
        status,
        answers,
        reason,
        who_can,
    })
}
