//! `prove --format junit` and `--format sarif`, the reports CI systems read. The reports of a
//! proof file with passing, failing and unknown proofs are pinned; the JUnit report is read back
//! with a JUnit parser and the SARIF log is validated against the SARIF 2.1.0 schema (kept in
//! `tests/data/`, so no network is needed); the exit codes are those of the text report in every
//! format; and the GitHub Actions workflow of the README is the one in `docs/github-actions/`.

mod common;

use common::{iamproof, iamproof_in, project_root};
use serde_json::Value;
use std::collections::BTreeMap;

/// Passing, failing (each way a proof can fail) and unknown proofs, over the `base` reviewer
/// case and the `messy` snapshot (whose `LegacyThing` role depends on a policy nobody has).
const MIXED: &str = "tests/fixtures/proofs/ci/mixed-outcomes.json";
const ALL_HOLD: &str = "tests/fixtures/proofs/base.json";

fn sarif_of(file: &str) -> (i32, Value) {
    let run = iamproof(&["prove", file, "--format", "sarif", "--quiet"]);
    assert!(run.stderr.is_empty(), "{file}: {}", run.stderr);
    let log = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{file}: not JSON ({e}): {}", run.stdout));
    (run.code, log)
}

/// The published pattern of `run.language` and `toolComponent.language` has an unmatched `]`: a literal in the regular
/// expressions of browsers (ECMA-262 Annex B), an error in the strict syntax the validator checks
/// schemas with. Escaping it keeps the meaning and lets the rest of the schema be used as is.
const LANGUAGE_PATTERN: (&str, &str) = (
    r#""pattern": "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
    r#""pattern": "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#,
);

/// Every violation of the SARIF 2.1.0 schema, as `path: message` lines.
fn schema_violations(log: &Value) -> Vec<String> {
    let text = std::fs::read_to_string(project_root().join("tests/data/sarif-schema-2.1.0.json"))
        .expect("the SARIF schema is kept as test data");
    let (published, escaped) = LANGUAGE_PATTERN;
    assert_eq!(text.matches(published).count(), 2, "the schema changed");
    let schema: Value =
        serde_json::from_str(&text.replace(published, escaped)).expect("the schema is JSON");
    // Formats are checked too: artifact locations must be URI references.
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles");
    validator
        .iter_errors(log)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn proof_names(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(project_root().join(file)).expect("the proof file");
    let value: Value = serde_json::from_str(&text).expect("a JSON proof file");
    value["proofs"]
        .as_array()
        .expect("a proofs list")
        .iter()
        .map(|p| p["name"].as_str().expect("a name").to_string())
        .collect()
}

/// The 1-based line of a file on which `needle` first occurs.
fn line_of(file: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(project_root().join(file)).expect("a readable file");
    text.lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("{file} has no line with {needle}"))
        + 1
}

#[test]
fn junit_report_reads_back_with_a_junit_parser() {
    let run = iamproof(&["prove", MIXED, "--format", "junit", "--quiet"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    insta::assert_snapshot!("junit_mixed_outcomes", run.stdout);

    let report = junit_parser::from_reader(std::io::Cursor::new(run.stdout.as_bytes()))
        .expect("the report is JUnit XML");
    assert_eq!((report.tests, report.failures, report.errors), (7, 4, 1));
    assert_eq!(report.suites.len(), 1);
    let suite = &report.suites[0];
    assert_eq!(suite.name, MIXED);
    assert_eq!(
        (suite.tests, suite.failures, suite.errors, suite.skipped),
        (7, 4, 1, 0)
    );
    let names: Vec<&str> = suite
        .cases
        .iter()
        .map(|c| c.original_name.as_str())
        .collect();
    assert_eq!(names, proof_names(MIXED), "names survive escaping");
    for case in &suite.cases {
        assert_eq!(
            case.classname.as_deref(),
            Some("tests.fixtures.proofs.ci.mixed-outcomes")
        );
    }
    let outcomes: Vec<&str> = suite
        .cases
        .iter()
        .map(|c| match &c.status {
            s if s.is_failure() => s.failure_as_ref().failure_type.as_str(),
            s if s.is_error() => s.error_as_ref().error_type.as_str(),
            s if s.is_success() => "pass",
            _ => "skipped",
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            "pass",
            "unexpected-access",
            "unexpected-principal",
            "missing-access",
            "unexpected-access",
            "pass",
            "undecided"
        ]
    );

    // Each failure carries the counterexample in the words of the text report.
    let text = iamproof(&["prove", MIXED]);
    assert_eq!(text.code, 1, "{}", text.stderr);
    for case in &suite.cases {
        let (message, body) = match &case.status {
            s if s.is_failure() => (&s.failure_as_ref().message, &s.failure_as_ref().text),
            s if s.is_error() => (&s.error_as_ref().message, &s.error_as_ref().text),
            _ => continue,
        };
        assert!(!message.is_empty(), "{}", case.name);
        assert!(!body.is_empty(), "{}", case.name);
        assert!(
            text.stdout.contains(body.as_str()),
            "{}: the body is not the text report's:\n{body}",
            case.name
        );
    }
    let counterexample = suite.cases[1].status.failure_as_ref();
    assert!(
        counterexample
            .text
            .contains("iam:PassRole on arn:aws:iam::111122223333:role/MediaConvertRole"),
        "{}",
        counterexample.text
    );
    let unknown = suite.cases[6].status.error_as_ref();
    assert!(
        unknown.message.contains("NoSuchPolicyForTesting"),
        "{}",
        unknown.message
    );
}

#[test]
fn junit_report_of_proofs_that_hold() {
    let run = iamproof(&["prove", ALL_HOLD, MIXED, "--format", "junit"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = junit_parser::from_reader(std::io::Cursor::new(run.stdout.as_bytes()))
        .expect("the report is JUnit XML");
    let suites: Vec<(&str, u64, u64, u64)> = report
        .suites
        .iter()
        .map(|s| (s.name.as_str(), s.tests, s.failures, s.errors))
        .collect();
    assert_eq!(suites, [(ALL_HOLD, 3, 0, 0), (MIXED, 7, 4, 1)]);
    assert!(report.suites[0].cases.iter().all(|c| c.status.is_success()));
    assert_eq!(report.tests, 10);
}

#[test]
fn sarif_log_is_valid_and_points_at_proofs_and_statements() {
    let (code, log) = sarif_of(MIXED);
    assert_eq!(code, 1);
    assert_eq!(schema_violations(&log), Vec::<String>::new());
    insta::assert_json_snapshot!("sarif_mixed_outcomes", log);

    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "iamproof");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules: Vec<&str> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("a rule id"))
        .collect();
    assert_eq!(
        rules,
        [
            "unexpected-access",
            "missing-access",
            "unexpected-principal",
            "undecided"
        ]
    );

    let results = run["results"].as_array().expect("results");
    let names = proof_names(MIXED);
    let by_proof: BTreeMap<&str, &Value> = results
        .iter()
        .map(|r| (r["properties"]["proof"].as_str().expect("a proof name"), r))
        .collect();
    // One result per proof that does not hold; the ones that hold have none.
    assert_eq!(results.len(), 5);
    assert!(!by_proof.contains_key(names[0].as_str()));
    assert!(!by_proof.contains_key(names[5].as_str()));
    let levels: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or_default(),
                r["level"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        levels,
        [
            ("unexpected-access", "error"),
            ("unexpected-principal", "error"),
            ("missing-access", "error"),
            ("unexpected-access", "error"),
            ("undecided", "warning")
        ]
    );

    // Each result sits on the line of its proof's name in the proof file.
    for (name, result) in &by_proof {
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], MIXED);
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let quoted = serde_json::to_string(name).expect("a name as JSON");
        assert_eq!(
            location["region"]["startLine"],
            line_of(MIXED, &format!("\"name\": {quoted}")),
            "{name}"
        );
        assert!(
            result["message"]["text"]
                .as_str()
                .is_some_and(|m| m.contains(&format!("Proof \"{name}\""))),
            "{result}"
        );
    }

    // The statement that grants the counterexample's last request, in the snapshot that has it.
    let base_details = "tests/fixtures/snapshots/cases/base/iam/account-authorization-details.json";
    for name in [&names[1], &names[2]] {
        let related = &by_proof[name.as_str()]["relatedLocations"];
        assert_eq!(related.as_array().map(Vec::len), Some(1), "{name}");
        let place = &related[0]["physicalLocation"];
        assert_eq!(place["artifactLocation"]["uri"], base_details);
        let start = place["region"]["startLine"].as_u64().expect("a start line") as usize;
        assert_eq!(
            start + 1,
            line_of(base_details, "\"Sid\": \"WriteOutputs\"")
        );
        assert_eq!(
            related[0]["logicalLocations"][0]["fullyQualifiedName"],
            "arn:aws:iam::111122223333:role/MediaConvertRole#inline/mediaconvert-s3-io statement WriteOutputs"
        );
    }
    // The messy snapshot keeps three versions of DeployerPolicy; only the default one grants.
    let messy_details = "tests/fixtures/snapshots/messy/iam/account-authorization-details.json";
    let related = &by_proof[names[4].as_str()]["relatedLocations"][0]["physicalLocation"];
    assert_eq!(related["artifactLocation"]["uri"], messy_details);
    let start = related["region"]["startLine"]
        .as_u64()
        .expect("a start line") as usize;
    assert_eq!(
        start + 1,
        line_of(messy_details, "\"Sid\": \"DeployAssets\"")
    );
    // A counterexample's chain is a code flow with one step per request.
    let steps = &by_proof[names[1].as_str()]["codeFlows"][0]["threadFlows"][0]["locations"];
    assert_eq!(steps.as_array().map(Vec::len), Some(4));
    // Neither an unreachable nor an unknown answer has a granting statement.
    for name in [&names[3], &names[6]] {
        assert!(by_proof[name.as_str()].get("relatedLocations").is_none());
    }
}

#[test]
fn sarif_log_of_proofs_that_hold_has_no_results() {
    let (code, log) = sarif_of(ALL_HOLD);
    assert_eq!(code, 0);
    assert_eq!(schema_violations(&log), Vec::<String>::new());
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn sarif_paths_outside_the_current_directory_are_absolute_file_uris() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = project_root().join(MIXED).display().to_string();
    let run = iamproof_in(dir.path(), &["prove", &file, "--format", "sarif"], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let log: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(schema_violations(&log), Vec::<String>::new());
    let location = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    let uri = location["artifactLocation"]["uri"].as_str().expect("a uri");
    assert!(uri.starts_with("file:///") && uri.ends_with(MIXED), "{uri}");
    assert!(location["artifactLocation"].get("uriBaseId").is_none());
}

#[test]
fn reports_are_the_same_bytes_on_every_run() {
    for format in ["junit", "sarif"] {
        let first = iamproof(&["prove", MIXED, "--format", format]);
        let second = iamproof(&["prove", MIXED, "--format", format]);
        assert!(
            first.stdout == second.stdout,
            "{format} differs between runs"
        );
    }
}

#[test]
fn exit_codes_do_not_depend_on_the_format() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let messy = project_root().join("tests/fixtures/snapshots/messy");
    let undecided = format!(
        r#"{{"accounts": [{}], "proofs": [{{"name": "legacy", "principal": "arn:aws:iam::555566667777:role/legacy/LegacyThing",
             "action": "s3:GetObject", "resource": "arn:aws:s3:::messy-logs/*", "expect": "unreachable"}}]}}"#,
        serde_json::to_string(&messy.display().to_string()).expect("a path as JSON")
    );
    std::fs::write(dir.path().join("undecided.json"), undecided).expect("a writable temp dir");
    std::fs::write(dir.path().join("broken.json"), "{\"accounts\": [").expect("writable");
    let mixed = project_root().join(MIXED).display().to_string();
    let all_hold = project_root().join(ALL_HOLD).display().to_string();
    for format in ["text", "json", "junit", "sarif"] {
        let code = |file: &str| {
            let run = iamproof_in(dir.path(), &["prove", file, "--format", format], "");
            if run.code == 2 {
                assert!(run.stdout.is_empty(), "{format}: {}", run.stdout);
            }
            run.code
        };
        assert_eq!(code(&all_hold), 0, "{format}");
        assert_eq!(code(&mixed), 1, "{format}");
        assert_eq!(code("undecided.json"), 3, "{format}");
        assert_eq!(code("broken.json"), 2, "{format}");
    }
}

/// The fenced `yaml` block of the README's "Proofs in CI" section.
fn readme_workflow() -> String {
    let readme = std::fs::read_to_string(project_root().join("README.md")).expect("the README");
    let section = readme
        .split("\n## Proofs in CI\n")
        .nth(1)
        .expect("a Proofs in CI section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let block = section
        .split("```yaml\n")
        .nth(1)
        .expect("a yaml block in the section");
    block
        .split("```")
        .next()
        .expect("a closed yaml block")
        .to_string()
}

#[test]
fn readme_shows_the_workflow_file() {
    let file =
        std::fs::read_to_string(project_root().join("docs/github-actions/iamproof-proofs.yml"))
            .expect("the workflow file");
    assert!(
        readme_workflow() == file,
        "the README's workflow and docs/github-actions/iamproof-proofs.yml differ"
    );
    // What the workflow must do, whatever else changes in it.
    for needle in [
        "pull_request:",
        "libz3-dev",
        "--format sarif > iamproof.sarif",
        "github/codeql-action/upload-sarif@",
        "security-events: write",
        "if: always()",
    ] {
        assert!(file.contains(needle), "the workflow lacks {needle}");
    }
    assert!(
        !file.contains('\t'),
        "YAML does not allow tabs for indentation"
    );
}

/// Proofs of one file that share a name stay two alerts: their fingerprints differ.
#[test]
fn proofs_sharing_a_name_keep_apart_in_sarif() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let model = project_root().join("models/mediaconvert-default");
    let proof = |resource: &str| {
        serde_json::json!({"name": "dup", "principal": "arn:aws:iam::111122223333:user/editor",
            "action": "s3:PutObject", "resource": resource, "expect": "unreachable"})
    };
    let file = serde_json::json!({"accounts": [model],
        "proofs": [proof("arn:aws:s3:::finance/*"), proof("arn:aws:s3:::media-out/*")]});
    std::fs::write(dir.path().join("dup.json"), file.to_string()).unwrap();
    let run = iamproof_in(dir.path(), &["prove", "dup.json", "--format", "sarif"], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    let fingerprints: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["partialFingerprints"]["iamproofProof/v1"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(fingerprints, ["dup.json#dup", "dup.json#dup#2"]);
}

/// A plan whose module declares the role policy that grants, and the same account as a YAML
/// template: SARIF places the granting statements at the declaring resource, with its address
/// or logical id as a logical location of kind `resource`.
const MODULE_PLAN: &str = "tests/fixtures/proofs/ci/module-grant.plan.json";
const STACK: &str = "tests/fixtures/proofs/ci/stack-grant.yaml";

/// The logical locations of kind `resource` of each related location of every result.
fn declaring_resources(log: &Value) -> Vec<String> {
    let results = log["runs"][0]["results"].as_array().expect("results");
    results
        .iter()
        .flat_map(|r| {
            r["relatedLocations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|l| {
            l["logicalLocations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|l| l["kind"] == "resource")
        .map(|l| {
            l["fullyQualifiedName"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[test]
fn sarif_places_statements_of_plans_and_templates_at_their_resources() {
    let (code, log) = sarif_of("tests/fixtures/proofs/ci/module-grant.json");
    assert_eq!(code, 1);
    assert_eq!(schema_violations(&log), Vec::<String>::new());
    insta::assert_json_snapshot!("sarif_terraform_module_grant", log);
    let result = &log["runs"][0]["results"][0];
    let related = &result["relatedLocations"][0];
    assert_eq!(
        related["logicalLocations"][1],
        serde_json::json!({"name": "aws_iam_role_policy.writer",
            "fullyQualifiedName": "module.media.aws_iam_role_policy.writer", "kind": "resource"})
    );
    // The plan's entry for the resource: the line of its opening brace, just above its address.
    let place = &related["physicalLocation"];
    assert_eq!(place["artifactLocation"]["uri"], MODULE_PLAN);
    assert_eq!(
        place["region"]["startLine"]
            .as_u64()
            .map(|l| l as usize + 1),
        Some(line_of(
            MODULE_PLAN,
            "\"address\": \"module.media.aws_iam_role_policy.writer\""
        ))
    );
    // Only the failing proof is a result.
    assert_eq!(log["runs"][0]["results"].as_array().map(Vec::len), Some(1));

    let (code, log) = sarif_of("tests/fixtures/proofs/ci/stack-grant.json");
    assert_eq!(code, 1);
    assert_eq!(schema_violations(&log), Vec::<String>::new());
    insta::assert_json_snapshot!("sarif_template_stack_grant", log);
    assert_eq!(declaring_resources(&log), ["WriterPolicy"]);
    let result = &log["runs"][0]["results"][0];
    let place = &result["relatedLocations"][0]["physicalLocation"];
    assert_eq!(place["artifactLocation"]["uri"], STACK);
    assert_eq!(
        place["region"]["startLine"],
        line_of(STACK, "  WriterPolicy:")
    );
    // The trust policy that admits the first request is the role's resource.
    let steps = &result["codeFlows"][0]["threadFlows"][0]["locations"];
    assert_eq!(
        steps[0]["location"]["physicalLocation"]["region"]["startLine"],
        line_of(STACK, "  Publisher:")
    );

    // Statements of snapshots are not resources of a plan or template.
    let (_, log) = sarif_of(MIXED);
    assert_eq!(declaring_resources(&log), Vec::<String>::new());
}

#[test]
fn sarif_places_a_json_template_resource_at_its_logical_id() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let text = std::fs::read_to_string(project_root().join(STACK)).expect("the template");
    // The same stack in JSON, one member per line.
    let template = serde_json::json!({
        "Resources": {
            "Outputs": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "media-out"}},
            "Editor": {"Type": "AWS::IAM::User", "Properties": {"UserName": "editor"}},
            "Publisher": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "publisher",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111122223333:user/editor"}, "Action": "sts:AssumeRole"}]}}},
            "WriterPolicy": {"Type": "AWS::IAM::RolePolicy", "Properties": {"RoleName": "publisher",
                "PolicyName": "write-outputs", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Sid": "WriteOutputs", "Effect": "Allow", "Action": "s3:PutObject",
                     "Resource": "arn:aws:s3:::media-out/*"}]}}}
        }
    });
    assert!(text.contains("WriterPolicy:"));
    let pretty = serde_json::to_string_pretty(&template).unwrap();
    std::fs::write(dir.path().join("stack.json"), &pretty).unwrap();
    let proofs =
        std::fs::read_to_string(project_root().join("tests/fixtures/proofs/ci/stack-grant.json"))
            .unwrap()
            .replace("stack-grant.yaml", "stack.json");
    std::fs::write(dir.path().join("proofs.json"), proofs).unwrap();
    let run = iamproof_in(
        dir.path(),
        &["prove", "proofs.json", "--format", "sarif"],
        "",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(declaring_resources(&log), ["WriterPolicy"]);
    let place = &log["runs"][0]["results"][0]["relatedLocations"][0]["physicalLocation"];
    assert_eq!(place["artifactLocation"]["uri"], "stack.json");
    let line = pretty
        .lines()
        .position(|l| l.contains("\"WriterPolicy\": {"))
        .unwrap()
        + 1;
    assert_eq!(place["region"]["startLine"], line);
}

/// A plan over a snapshot that rewrites a managed policy: the steps its new statements allow
/// are placed in the plan, not at the old version the snapshot still holds.
#[test]
fn sarif_places_a_policy_a_plan_rewrites_in_the_plan() {
    let plan = "tests/fixtures/terraform/widen-passrole.plan.json";
    let run = iamproof(&[
        "prove",
        "proofs/mediaconvert-least-privilege.json",
        "--terraform",
        plan,
        "--format",
        "sarif",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(schema_violations(&log), Vec::<String>::new());
    let result = &log["runs"][0]["results"][0];
    let steps = result["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .expect("steps");
    let files: Vec<&str> = steps
        .iter()
        .map(|s| {
            s["location"]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or_default()
        })
        .collect();
    let snapshot = "models/mediaconvert-least-privilege/iam/account-authorization-details.json";
    assert_eq!(files, [plan, plan, plan, snapshot, snapshot]);
    // The last request is granted by a policy the plan leaves as the snapshot has it.
    assert_eq!(declaring_resources(&log), Vec::<String>::new());
}
