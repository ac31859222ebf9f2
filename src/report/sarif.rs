//! Proof results as SARIF 2.1.0, the format code scanning services (GitHub code scanning among
//! them) turn into alerts on the lines of a pull request.
//!
//! Every proof that fails or is unknown is one result. Its location is the proof's entry in the
//! proof file, so the alert sits on the promise that broke; its related locations are the policy
//! statements that grant the offending access (the `allowed_by` of the last hop of each
//! counterexample chain), placed in the snapshot file that holds them when [`super::locate`]
//! finds it and always named as logical locations. A statement of a policy that a Terraform plan
//! or CloudFormation template declares is placed at the declaring resource instead (the plan's
//! or template's line where it starts, when known), with the resource address or logical id as
//! a second logical location of kind `resource`. Each counterexample is also a code flow, one
//! step per hop. Paths are relative to the current directory under the `%SRCROOT%` base, which
//! is the repository root when `prove` runs there, as in CI. Nothing depends on the clock or the
//! machine, so the same proofs give the same bytes.
//!
//! Failures are level `error`: each is proved (a witness replayed through the evaluator, or a
//! solver's refutation). An unknown answer is level `warning`: nothing was shown to be wrong,
//! the check could not be made; the exit code (3) still fails the gate, and the alert's level
//! tells a reviewer it needs a look rather than a fix.

use super::{locate, Finding};
use crate::query::prove::{Expectation, ProofFile, ProofResult};
use crate::query::{AllowedBy, Answer, Link};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where the paths of the report are relative to.
const SRCROOT: &str = "%SRCROOT%";

/// The SARIF log of proof results; `files` are the proof files the results came from, read
/// again to place proofs and statements.
pub fn render(files: &[ProofFile], results: &[ProofResult]) -> Value {
    let mut places = Places::default();
    // Proofs of one file that share a name are told apart by their rank among them.
    let mut seen: std::collections::HashMap<(&str, &str), usize> = Default::default();
    let findings: Vec<Value> = results
        .iter()
        .filter_map(|result| {
            let rank = seen
                .entry((result.file.as_str(), result.name.as_str()))
                .or_default();
            *rank += 1;
            let finding = Finding::of(result)?;
            let proof_file = files.iter().find(|f| f.file == result.file);
            Some(result_json(&mut places, proof_file, result, finding, *rank))
        })
        .collect();
    let rules: Vec<Value> = Finding::ALL.iter().map(|f| rule(*f)).collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "iamproof",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": findings,
        }],
    })
}

fn rule(finding: Finding) -> Value {
    let (name, short, full, level) = match finding {
        Finding::UnexpectedAccess => (
            "UnexpectedAccess",
            "A principal can reach an access that a proof says is unreachable",
            "An `unreachable` proof is reachable: iamproof found a chain of requests (directly, \
             through role assumption or through a MediaConvert job and its service role) that \
             ends in the access, and replayed every request through the policy evaluator. The \
             related locations are the statements that grant the last request.",
            "error",
        ),
        Finding::MissingAccess => (
            "MissingAccess",
            "A principal cannot reach an access that a proof says is reachable",
            "A `reachable` proof is unreachable: no chain of requests leads to the access. The \
             message names the closest path and the hop that blocks it.",
            "error",
        ),
        Finding::UnexpectedPrincipal => (
            "UnexpectedPrincipal",
            "A principal outside a proof's `only` list can reach the access",
            "An `only` proof lists every principal that may reach an access; another one can. \
             Each such principal comes with its chain, and the related locations are the \
             statements that grant the last request of each chain.",
            "error",
        ),
        Finding::Undecided => (
            "Undecided",
            "A proof could be neither proved nor refuted",
            "The answer is `unknown`: the snapshots leave something out (a policy no snapshot \
             describes), the model does not cover a construct, or the solver timed out. An \
             unknown answer never passes a proof.",
            "warning",
        ),
    };
    json!({
        "id": finding.id(),
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "defaultConfiguration": {"level": level},
        "help": {"text": full},
        "properties": {"tags": ["security", "iam"]},
    })
}

fn result_json(
    places: &mut Places,
    proof_file: Option<&ProofFile>,
    result: &ProofResult,
    finding: Finding,
    rank: usize,
) -> Value {
    let folders: &[PathBuf] = proof_file.map_or(&[], |f| f.accounts.as_slice());
    // The statements that grant the last request of each counterexample, once each.
    let mut grants: Vec<&AllowedBy> = Vec::new();
    for answer in &result.answers {
        for allowed in answer.chain.last().map_or(&[][..], |l| &l.allowed_by[..]) {
            if !grants.contains(&allowed) {
                grants.push(allowed);
            }
        }
    }
    let related: Vec<Value> = grants
        .iter()
        .enumerate()
        .map(|(i, allowed)| {
            let mut location = statement_location(places, folders, allowed);
            location["id"] = json!(i + 1);
            location
        })
        .collect();
    let links: Vec<String> = grants
        .iter()
        .enumerate()
        .map(|(i, allowed)| {
            format!(
                "[{} statement {}]({})",
                escape(&allowed.policy),
                escape(&allowed.statement),
                i + 1
            )
        })
        .collect();
    let mut message = format!("Proof \"{}\" ", escape(&result.name));
    let reason = escape(result.reason.as_deref().unwrap_or_default());
    let question = result.answers.first().map(|a| &a.query);
    match finding {
        Finding::UnexpectedAccess | Finding::MissingAccess => {
            let (can, expected) = if finding == Finding::UnexpectedAccess {
                ("can", "unreachable")
            } else {
                ("cannot", "reachable")
            };
            if let Some(q) = question {
                message.push_str(&format!(
                    "fails: {} {can} cause {} on {} (expected {expected})",
                    escape(&q.principal),
                    escape(&q.action),
                    escape(&q.resource)
                ));
            } else {
                message.push_str(&format!("fails (expected {expected})"));
            }
            if finding == Finding::MissingAccess && !reason.is_empty() {
                message.push_str(&format!("; {reason}"));
            }
        }
        Finding::UnexpectedPrincipal => {
            let allowed = match &result.expect {
                Expectation::Only(list) if !list.is_empty() => list.join(", "),
                _ => "nobody".to_string(),
            };
            message.push_str(&format!(
                "fails: {reason} (expected only {})",
                escape(&allowed)
            ));
        }
        Finding::Undecided => {
            message.push_str(&format!("is undecided: {reason}"));
        }
    }
    if !links.is_empty() {
        message.push_str(&format!(". Granted by {}", links.join(", ")));
    }
    if !message.ends_with('.') {
        message.push('.');
    }

    let proof_place = proof_file.and_then(|f| places.proof(f, &result.path));
    let file = proof_file.map_or_else(|| PathBuf::from(&result.file), |f| PathBuf::from(&f.file));
    let mut physical = json!({"artifactLocation": artifact_location(&file)});
    if let Some(line) = proof_place {
        physical["region"] = json!({"startLine": line});
    }
    let primary = json!({
        "physicalLocation": physical,
        "logicalLocations": [{"name": result.path, "fullyQualifiedName": format!("{}#{}", result.file, result.path), "kind": "object"}],
    });
    let flows: Vec<Value> = result
        .answers
        .iter()
        .filter(|a| !a.chain.is_empty())
        .map(|answer| code_flow(places, folders, &primary, answer))
        .collect();
    let mut out = json!({
        "ruleId": finding.id(),
        "ruleIndex": Finding::ALL.iter().position(|f| *f == finding).unwrap_or_default(),
        "level": if finding == Finding::Undecided { "warning" } else { "error" },
        "message": {"text": message},
        "locations": [primary],
    });
    if !related.is_empty() {
        out["relatedLocations"] = Value::Array(related);
    }
    if !flows.is_empty() {
        out["codeFlows"] = Value::Array(flows);
    }
    // Alerts follow the proof, not its line, when proofs are added above it.
    let proof = match rank {
        1 => result.name.clone(),
        n => format!("{}#{n}", result.name),
    };
    out["partialFingerprints"] =
        json!({"iamproofProof/v1": format!("{}#{proof}", uri_of(&file).0)});
    out["properties"] = json!({
        "proof": result.name,
        "expect": result.expect,
        "status": result.status,
    });
    out
}

/// One step per request of the chain, at the statement that allows it when it can be placed,
/// else at the proof: code scanning shows only steps that have a file.
fn code_flow(places: &mut Places, folders: &[PathBuf], proof: &Value, answer: &Answer) -> Value {
    let steps: Vec<Value> = answer
        .chain
        .iter()
        .enumerate()
        .map(|(i, link)| {
            let placed = link
                .allowed_by
                .iter()
                .find_map(|allowed| places.physical(folders, allowed));
            let physical = placed.unwrap_or_else(|| proof["physicalLocation"].clone());
            json!({"location": {
                "physicalLocation": physical,
                "message": {"text": format!("{}. {}", i + 1, link_text(link))},
            }})
        })
        .collect();
    let q = &answer.query;
    json!({
        "message": {"text": format!("{} -> {} on {}", q.principal, q.action, q.resource)},
        "threadFlows": [{"locations": steps}],
    })
}

/// One request of a chain in the words of the text report, on one line.
fn link_text(link: &Link) -> String {
    let mut text = format!("{} {} on {}", link.principal, link.action, link.resource);
    if let Some(context) = super::context_text(&link.context) {
        text.push_str(&format!("; context: {context}"));
    }
    for allowed in &link.allowed_by {
        text.push_str(&format!(
            "; allowed by {} statement {}",
            allowed.policy, allowed.statement
        ));
    }
    text
}

fn statement_location(places: &mut Places, folders: &[PathBuf], allowed: &AllowedBy) -> Value {
    let mut logical = vec![json!({
        "name": allowed.statement,
        "fullyQualifiedName": format!("{} statement {}", allowed.policy, allowed.statement),
        "kind": "member",
    })];
    if let Some(origin) = &allowed.origin {
        logical.push(json!({
            "name": resource_name(origin),
            "fullyQualifiedName": origin.address,
            "kind": "resource",
        }));
    }
    let mut location = json!({
        "message": {"text": format!("allowed by {} statement {}", allowed.policy, allowed.statement)},
        "logicalLocations": logical,
    });
    if let Some(physical) = places.physical(folders, allowed) {
        location["physicalLocation"] = physical;
    }
    location
}

/// The short name of a declaring resource: a Terraform address without its modules
/// (`aws_iam_role_policy.writer`), or a logical id.
fn resource_name(origin: &crate::model::Origin) -> String {
    if origin.template {
        return origin.address.clone();
    }
    let mut rest = origin.address.as_str();
    while let Some(after) = rest.strip_prefix("module.") {
        // The module's name, then its instance key (`[0]`, `["a.b"]`), then a dot.
        let mut in_string = false;
        let mut depth = 0usize;
        let end = after.char_indices().find(|&(_, c)| {
            match c {
                '"' if depth > 0 => in_string = !in_string,
                '[' if !in_string => depth += 1,
                ']' if !in_string => depth = depth.saturating_sub(1),
                '.' if depth == 0 => return true,
                _ => {}
            }
            false
        });
        match end {
            Some((at, _)) => rest = &after[at + 1..],
            None => break,
        }
    }
    rest.to_string()
}

fn physical_location(place: &locate::Place) -> Value {
    json!({
        "artifactLocation": artifact_location(&place.file),
        "region": {"startLine": place.line, "endLine": place.end_line},
    })
}

/// Proof files and snapshots read once per report.
#[derive(Default)]
struct Places {
    proof_texts: BTreeMap<String, Option<String>>,
    snapshots: locate::Snapshots,
}

impl Places {
    fn proof(&mut self, file: &ProofFile, json_path: &str) -> Option<usize> {
        let text = self
            .proof_texts
            .entry(file.file.clone())
            .or_insert_with(|| std::fs::read_to_string(&file.file).ok())
            .as_deref()?;
        locate::proof_line(text, json_path)
    }

    /// Where a granting statement is written: at the plan or template resource that declares
    /// its policy (the file alone when its line cannot be found), else in a snapshot.
    fn physical(&mut self, folders: &[PathBuf], allowed: &AllowedBy) -> Option<Value> {
        if let Some(origin) = &allowed.origin {
            return Some(match self.snapshots.declaration(origin) {
                Some(place) => physical_location(&place),
                None => json!({"artifactLocation": artifact_location(Path::new(&origin.file))}),
            });
        }
        self.snapshots
            .statement(folders, &allowed.policy, allowed.index)
            .map(|place| physical_location(&place))
    }
}

/// Characters that cannot stand in a URI path as they are.
const PATH_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

fn artifact_location(path: &Path) -> Value {
    match uri_of(path) {
        (uri, true) => json!({"uri": uri, "uriBaseId": SRCROOT}),
        (uri, false) => json!({"uri": uri}),
    }
}

/// A path as a URI: relative to the current directory when it is inside it (true), else an
/// absolute `file:` URI. Paths that exist are resolved on the file system (symbolic links
/// included), so the URI names the file that was read.
fn uri_of(path: &Path) -> (String, bool) {
    let cwd = std::env::current_dir().ok();
    let resolve = |path: &Path| std::fs::canonicalize(path).ok();
    let absolute = resolve(path).unwrap_or_else(|| match &cwd {
        Some(cwd) if path.is_relative() => normalize(&cwd.join(path)),
        _ => normalize(path),
    });
    let relative = cwd.and_then(|cwd| {
        let base = resolve(&cwd).unwrap_or_else(|| normalize(&cwd));
        absolute.strip_prefix(base).ok().map(Path::to_path_buf)
    });
    match relative {
        Some(relative) => (encode(&relative), true),
        None => (format!("file://{}", encode(&absolute)), false),
    }
}

fn encode(path: &Path) -> String {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::RootDir => parts.push(String::new()),
            Component::Normal(part) => {
                parts.push(utf8_percent_encode(&part.to_string_lossy(), PATH_ESCAPES).to_string())
            }
            Component::ParentDir => parts.push("..".to_string()),
            Component::CurDir | Component::Prefix(_) => {}
        }
    }
    if parts == [""] {
        return "/".to_string();
    }
    parts.join("/")
}

/// Removes `.` and resolves `..` against the folder before it, without asking the file system:
/// `proofs/../models/x` is `models/x`, as a reviewer reads it.
fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) | Some(Component::Prefix(_)) => {}
                _ => out.push(component),
            },
            other => out.push(other),
        }
    }
    out.iter().collect()
}

/// Message text may hold embedded links (`[text](id)`); other brackets and backslashes are
/// escaped so that a name such as `proofs[2]` is not read as one.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_current_directory_and_through_links_name_the_file_read() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("p.json"), "{}").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let read = std::fs::canonicalize(real.join("p.json")).unwrap();
        let expected = format!("file://{}", encode(&read));
        assert_eq!(uri_of(&link.join("p.json")), (expected.clone(), false));
        // The same file by a relative path that climbs out of the current directory.
        let cwd = std::env::current_dir().unwrap();
        let climb: PathBuf = cwd
            .components()
            .skip(1)
            .map(|_| Component::ParentDir)
            .collect();
        let relative = climb.join(read.strip_prefix("/").unwrap());
        assert_eq!(uri_of(&relative), (expected, false));
    }

    #[test]
    fn paths_are_normalized_without_the_file_system() {
        assert_eq!(
            normalize(Path::new("proofs/../models/./x/a.json")),
            PathBuf::from("models/x/a.json")
        );
        assert_eq!(normalize(Path::new("../a/../b")), PathBuf::from("../b"));
        assert_eq!(normalize(Path::new("/../a")), PathBuf::from("/a"));
    }

    #[test]
    fn relative_paths_are_relative_uris() {
        assert_eq!(
            uri_of(Path::new("./proofs/../models/my model#1/x.json")),
            ("models/my%20model%231/x.json".to_string(), true)
        );
    }

    #[test]
    fn absolute_paths_inside_the_current_directory_become_relative() {
        let cwd = std::env::current_dir().expect("a current directory");
        assert_eq!(
            uri_of(&cwd.join("proofs/a.json")),
            ("proofs/a.json".to_string(), true)
        );
        let (uri, relative) = uri_of(Path::new("/nowhere-iamproof-test/a b.json"));
        if !cwd.starts_with("/nowhere-iamproof-test") {
            assert_eq!(uri, "file:///nowhere-iamproof-test/a%20b.json");
            assert!(!relative);
        }
    }

    #[test]
    fn resources_are_named_without_their_modules() {
        let origin = |address: &str, template: bool| crate::model::Origin {
            file: "plan.json".into(),
            address: address.into(),
            template,
            line: None,
        };
        let name = |address: &str| resource_name(&origin(address, false));
        assert_eq!(
            name("module.media.aws_iam_role_policy.writer"),
            "aws_iam_role_policy.writer"
        );
        assert_eq!(
            name(r#"module.a["x.y"].module.b[0].aws_iam_policy.p["k"]"#),
            r#"aws_iam_policy.p["k"]"#
        );
        assert_eq!(name("aws_iam_policy.p"), "aws_iam_policy.p");
        assert_eq!(resource_name(&origin("module.Role", true)), "module.Role");
    }

    #[test]
    fn brackets_in_messages_are_not_links() {
        assert_eq!(escape("proofs[2] a\\b"), "proofs\\[2\\] a\\\\b");
    }
}
