//! Loading account snapshots: `iamproof inspect` on every example under `models/`, on the messy
//! fixture (every policy encoding, pages, unknown files, unresolved references) and on each
//! broken fixture (exit code 2 and the exact message), plus loader checks through the library.

use iamproof::model::{Attachment, PolicySource, PrincipalType, UnresolvedReference};
use iamproof::snapshot;
use std::path::{Path, PathBuf};
use std::process::Command;

const MESSY: &str = "tests/fixtures/snapshots/messy";
const BROKEN: &str = "tests/fixtures/snapshots/broken";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `iamproof ARGS` from the project root, so that paths in the output are relative.
fn iamproof(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_iamproof"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the iamproof binary runs");
    Run {
        code: output.status.code().expect("iamproof exits with a code"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `inspect` over `accounts` that must succeed; returns standard output.
fn inspect_ok(accounts: &[&str], extra: &[&str]) -> String {
    let mut args = vec!["inspect"];
    for account in accounts {
        args.push("--account");
        args.push(account);
    }
    args.extend_from_slice(extra);
    let run = iamproof(&args);
    assert_eq!(run.code, 0, "inspect {accounts:?} failed: {}", run.stderr);
    assert_eq!(
        run.stderr, "",
        "inspect {accounts:?} wrote to standard error"
    );
    run.stdout
}

#[test]
fn example_mediaconvert_default() {
    insta::assert_snapshot!(inspect_ok(&["models/mediaconvert-default"], &[]));
}

#[test]
fn example_mediaconvert_least_privilege() {
    insta::assert_snapshot!(inspect_ok(&["models/mediaconvert-least-privilege"], &[]));
}

#[test]
fn example_mediaconvert_sse_kms() {
    insta::assert_snapshot!(inspect_ok(&["models/mediaconvert-sse-kms"], &[]));
}

#[test]
fn example_mediaconvert_cross_account_with_partner() {
    let accounts = [
        "models/mediaconvert-cross-account",
        "models/mediaconvert-cross-account-partner",
    ];
    insta::assert_snapshot!(inspect_ok(&accounts, &[]));
    let editor = "arn:aws:iam::111122223333:user/editor";
    insta::assert_snapshot!(
        "cross_account_editor_json",
        inspect_ok(&accounts, &["--principal", editor, "--format", "json"])
    );
}

#[test]
fn example_default_editor_through_its_group() {
    insta::assert_snapshot!(inspect_ok(
        &["models/mediaconvert-default"],
        &["--principal", "arn:aws:iam::111122223333:user/editor"]
    ));
}

#[test]
fn messy_snapshot_loads_with_warnings() {
    insta::assert_snapshot!(inspect_ok(&[MESSY], &[]));
    insta::assert_snapshot!("messy_json", inspect_ok(&[MESSY], &["--format", "json"]));
}

#[test]
fn messy_snapshot_principals() {
    for (name, arn) in [
        (
            "alice",
            "arn:aws:iam::555566667777:user/engineering/team-a/alice",
        ),
        ("bob", "arn:aws:iam::555566667777:user/bob"),
        ("ci_bot", "arn:aws:iam::555566667777:user/automation/ci-bot"),
        ("audit_reader", "arn:aws:iam::555566667777:role/AuditReader"),
        (
            "legacy_thing",
            "arn:aws:iam::555566667777:role/legacy/LegacyThing",
        ),
        (
            "mediaconvert_default_role",
            "arn:aws:iam::555566667777:role/service-role/MediaConvert_Default_Role",
        ),
    ] {
        let text = inspect_ok(&[MESSY], &["--principal", arn]);
        let principal_part = text
            .split_once("\nprincipal ")
            .map(|(_, rest)| format!("principal {rest}"))
            .expect("the report has a principal section");
        insta::assert_snapshot!(format!("messy_principal_{name}"), principal_part);
    }
}

#[test]
fn messy_principal_json() {
    let arn = "arn:aws:iam::555566667777:user/engineering/team-a/alice";
    let text = inspect_ok(&[MESSY], &["--principal", arn, "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&text).expect("inspect prints JSON");
    insta::assert_json_snapshot!("messy_principal_alice_json", value["principal"]);
}

#[test]
fn broken_snapshots_exit_2_with_file_and_path() {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(root().join(BROKEN))
        .expect("the broken fixtures exist")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();
    assert!(
        folders.len() >= 5,
        "expected the broken fixtures, found {folders:?}"
    );
    for folder in folders {
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let relative = format!("{BROKEN}/{name}");
        let run = iamproof(&["inspect", "--account", &relative]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{name}: nothing on standard output");
        assert!(
            run.stderr.starts_with("error: tests/fixtures/"),
            "{name}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
        insta::assert_snapshot!(format!("broken_{name}"), run.stderr);
    }
}

#[test]
fn an_error_in_a_later_snapshot_is_not_hidden_by_warnings() {
    let run = iamproof(&[
        "inspect",
        "--account",
        MESSY,
        "--account",
        "tests/fixtures/snapshots/broken/bad-policy",
    ]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert!(run
        .stderr
        .starts_with("error: tests/fixtures/snapshots/broken/bad-policy/iam/"));
}

#[test]
fn usage_errors_exit_2() {
    let run = iamproof(&["inspect", "--account", "models/no-such-model"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: models/no-such-model: cannot open the snapshot folder"),
        "{}",
        run.stderr
    );
    let run = iamproof(&[
        "inspect",
        "--account",
        "models/mediaconvert-default",
        "--principal",
        "arn:aws:iam::111122223333:user/nobody",
    ]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: --principal arn:aws:iam::111122223333:user/nobody: no user or role with this ARN in the snapshots\n"
    );
    let run = iamproof(&[
        "inspect",
        "--account",
        "models/mediaconvert-default",
        "--account",
        "models/mediaconvert-sse-kms",
    ]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: models/mediaconvert-sse-kms: account 111122223333 is already loaded from models/mediaconvert-default; give one snapshot per account\n"
    );
    let run = iamproof(&["inspect"]);
    assert_eq!(
        run.code, 2,
        "clap reports a missing --account as a usage error"
    );
}

#[test]
fn output_is_deterministic() {
    let args = ["models/mediaconvert-sse-kms"];
    let first = inspect_ok(&args, &["--format", "json"]);
    for _ in 0..3 {
        assert_eq!(inspect_ok(&args, &["--format", "json"]), first);
    }
}

#[test]
fn messy_model_through_the_library() {
    let model = snapshot::load(&[root().join(MESSY)]).expect("the messy snapshot loads");
    let account = &model.accounts[0];
    assert_eq!(account.id, "555566667777", "taken from the ARNs");
    assert_eq!(account.region, "us-west-2", "region.txt ends in CRLF");

    // Only the default version of DeployerPolicy is in force.
    let deployer = &model.managed_policies["arn:aws:iam::555566667777:policy/DeployerPolicy"];
    assert_eq!(deployer.version.as_deref(), Some("v3"));
    assert_eq!(deployer.policy.statements.len(), 1);
    assert!(!deployer.policy.statements[0].action.covers("s3:GetObject"));

    // AWSElementalMediaConvertReadOnly comes from the snapshot, PowerUserAccess from the bundle.
    let read_only =
        &model.managed_policies["arn:aws:iam::aws:policy/AWSElementalMediaConvertReadOnly"];
    assert_eq!(read_only.source, PolicySource::Snapshot);
    let power_user = &model.managed_policies["arn:aws:iam::aws:policy/PowerUserAccess"];
    assert_eq!(power_user.source, PolicySource::Bundled);

    // Alice: own inline + PowerUserAccess + group inline + group managed, customer boundary.
    let alice = model
        .effective_policies("arn:aws:iam::555566667777:user/engineering/team-a/alice")
        .unwrap();
    assert_eq!(alice.principal_type, PrincipalType::User);
    assert_eq!(alice.groups, ["arn:aws:iam::555566667777:group/developers"]);
    assert_eq!(alice.identity.len(), 4);
    assert!(alice
        .identity
        .iter()
        .any(|p| p.attachment == Attachment::Managed(PolicySource::Bundled)));
    let (boundary, source) = alice.boundary.as_ref().unwrap();
    assert_eq!(
        boundary.name,
        "arn:aws:iam::555566667777:policy/boundaries/DeveloperBoundary"
    );
    assert_eq!(*source, PolicySource::Snapshot);
    assert!(alice.is_complete());
    assert!(alice.scps.is_empty());

    // LegacyThing depends on a policy nobody has.
    let legacy = "arn:aws:iam::555566667777:role/legacy/LegacyThing";
    assert_eq!(
        model.unresolved_for(legacy).unwrap(),
        [UnresolvedReference::ManagedPolicy {
            arn: "arn:aws:iam::aws:policy/NoSuchPolicyForTesting".to_string()
        }]
    );
    // The role's mixed-case action names parse; its boundary is an AWS managed policy.
    let role = model
        .effective_policies("arn:aws:iam::555566667777:role/service-role/MediaConvert_Default_Role")
        .unwrap();
    assert!(role.identity[0].policy.policy.statements[0]
        .action
        .covers("s3:PutObject"));
    assert_eq!(role.boundary.as_ref().unwrap().1, PolicySource::Bundled);
    // The Default queue exists though queues.json is absent.
    assert!(model
        .queues
        .contains_key("arn:aws:mediaconvert:us-west-2:555566667777:queues/Default"));
    // messy-logs has only a public access block.
    let logs = &model.buckets["messy-logs"];
    assert!(logs.policy.is_none() && logs.encryption.is_none());
    assert!(!logs.public_access_block.unwrap().block_public_policy);
}

#[test]
fn sse_kms_keys_and_aliases() {
    let model = snapshot::load(&[root().join("models/mediaconvert-sse-kms")]).unwrap();
    let locked = &model.buckets["locked-out"];
    let key_reference = locked
        .encryption
        .as_ref()
        .and_then(|e| e.kms_key_id.as_deref())
        .unwrap();
    let key = model
        .resolve_key(key_reference, "111122223333", "us-east-1")
        .expect("the alias ARN resolves to the archive key");
    assert_eq!(key.id, "8b2e4d17-c6a9-4f35-9d01-7a5c3e9b2f4d");
    assert_eq!(key.aliases, ["alias/archive-locked"]);
    assert!(key.policy.is_some());
    let aws_key = model
        .resolve_key("alias/aws/s3", "111122223333", "us-east-1")
        .unwrap();
    assert_eq!(aws_key.key_manager, Some(iamproof::model::KeyManager::Aws));
}

/// Writes `files` (relative path, content) into a new snapshot folder.
fn snapshot_folder(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

#[test]
fn the_three_document_encodings_and_pages_give_the_same_model() {
    let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;
    let encodings = [
        serde_json::from_str::<serde_json::Value>(document).unwrap(),
        serde_json::Value::String(document.to_string()),
        serde_json::Value::String(iamproof::synthetic::url_encode(document)),
    ];
    let user = |name: &str, encoded: &serde_json::Value| {
        serde_json::json!({"UserName": name, "Path": "/", "Arn": format!("arn:aws:iam::123456789012:user/{name}"),
            "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": encoded}], "GroupList": [], "AttachedManagedPolicies": []})
    };
    let one_page = serde_json::json!({
        "UserDetailList": [user("a", &encodings[0]), user("b", &encodings[1]), user("c", &encodings[2])],
        "GroupDetailList": [], "RoleDetailList": [], "Policies": []});
    let pages = serde_json::json!([
        {"UserDetailList": [user("a", &encodings[0])], "IsTruncated": true, "Marker": "1"},
        {"UserDetailList": [user("b", &encodings[1])], "IsTruncated": true, "Marker": "2"},
        {"UserDetailList": [user("c", &encodings[2])], "GroupDetailList": [], "IsTruncated": false}]);
    let details = "iam/account-authorization-details.json";
    let single = snapshot_folder(&[(details, one_page.to_string())]);
    let paged = snapshot_folder(&[(details, pages.to_string())]);
    let from_single = snapshot::load(&[single.path().to_path_buf()]).unwrap();
    let from_pages = snapshot::load(&[paged.path().to_path_buf()]).unwrap();
    assert_eq!(from_single.users, from_pages.users);
    let policies: Vec<_> = from_single
        .users
        .values()
        .map(|user| user.inline_policies[0].policy.clone())
        .collect();
    assert_eq!(policies.len(), 3);
    assert!(policies.iter().all(|policy| policy == &policies[0]));
    assert!(
        from_single.warnings.is_empty(),
        "{:?}",
        from_single.warnings
    );
}

#[test]
fn organization_without_enabled_scps_restricts_nothing() {
    let details =
        r#"{"UserDetailList": [{"UserName": "u", "Arn": "arn:aws:iam::123456789012:user/u"}]}"#;
    let rcp = r#"{"Policy": {"PolicySummary": {"Id": "p-r1", "Type": "RESOURCE_CONTROL_POLICY"},
        "Content": "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}"}}"#;
    let targets = r#"{"levels": [{"id": "r-1", "policies": ["p-RCPFullAWSAccess"]},
                                  {"id": "123456789012", "policies": ["p-RCPFullAWSAccess", "p-r1", "p-unknown"]}]}"#;
    let dir = snapshot_folder(&[
        (
            "iam/account-authorization-details.json",
            details.to_string(),
        ),
        ("organizations/rcps/p-r1.json", rcp.to_string()),
        ("organizations/targets.json", targets.to_string()),
    ]);
    let model = snapshot::load(&[dir.path().to_path_buf()]).unwrap();
    let account = &model.accounts[0];
    assert_eq!(account.region, "us-east-1");
    assert!(account.scp_levels().is_empty());
    let rcps = account.rcp_levels();
    assert_eq!(rcps.len(), 2);
    assert_eq!(rcps[1].len(), 2);
    let unresolved = model
        .unresolved_for("arn:aws:iam::123456789012:user/u")
        .unwrap();
    assert_eq!(
        unresolved,
        [UnresolvedReference::OrganizationPolicy {
            account: "123456789012".to_string(),
            id: "p-unknown".to_string()
        }]
    );
    assert_eq!(model.warnings.len(), 1, "{:?}", model.warnings);
    assert_eq!(model.warnings[0].path, "levels[1].policies[2]");
}

#[test]
fn errors_in_generated_snapshots_name_file_and_path() {
    let details = "iam/account-authorization-details.json";
    let user =
        r#"{"UserDetailList": [{"UserName": "u", "Arn": "arn:aws:iam::123456789012:user/u"}]}"#;
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            vec![
                ("caller-identity.json", r#"{"Account": "999988887777"}"#.to_string()),
                (details, user.to_string()),
            ],
            "iam/account-authorization-details.json: UserDetailList[0].Arn: arn:aws:iam::123456789012:user/u is in account 123456789012, but the snapshot is of account 999988887777 (from ",
        ),
        (
            vec![(details, r#"{"UserDetailList": []}"#.to_string())],
            ": cannot tell the account id: there is no caller-identity.json and no ARN with an account in iam/account-authorization-details.json",
        ),
        (
            vec![(details, user.to_string()), ("region.txt", "\n".to_string())],
            "region.txt: \"\" is not a region name (expected one line such as us-east-1)",
        ),
        (
            vec![
                (details, user.to_string()),
                ("s3/b/policy.json", r#"{"PolicyName": "default"}"#.to_string()),
            ],
            "s3/b/policy.json: Policy: missing (expected {\"Policy\": \"<policy document as JSON text>\"})",
        ),
        (
            vec![
                (details, user.to_string()),
                (
                    "apigateway/rest-apis.json",
                    r#"{"items": [{"id": "a1", "policy": "{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\"}]}"}]}"#.to_string(),
                ),
            ],
            "apigateway/rest-apis.json: items[0].policy.Statement[0].Action: missing (a statement needs Action or NotAction)",
        ),
        (
            vec![
                (details, user.to_string()),
                (
                    "organizations/scps/p-1.json",
                    r#"{"Policy": {"PolicySummary": {"Id": "p-1", "Type": "RESOURCE_CONTROL_POLICY"}, "Content": "{}"}}"#.to_string(),
                ),
            ],
            "organizations/scps/p-1.json: Policy.PolicySummary.Type: a RESOURCE_CONTROL_POLICY in organizations/scps; it holds SERVICE_CONTROL_POLICY files only",
        ),
        (
            vec![
                (details, r#"{"Policies": [{"PolicyName": "P", "Arn": "arn:aws:iam::123456789012:policy/P",
                    "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": false, "Document": {}}]}]}"#.to_string()),
            ],
            "iam/account-authorization-details.json: Policies[0].PolicyVersionList: no version has IsDefaultVersion true, so no version is in force",
        ),
    ];
    for (files, expected) in cases {
        let dir = snapshot_folder(&files);
        let error = snapshot::load(&[dir.path().to_path_buf()])
            .expect_err("the snapshot is refused")
            .to_string();
        let shown = error
            .strip_prefix(&dir.path().display().to_string())
            .map(|rest| rest.trim_start_matches('/'))
            .unwrap_or(&error);
        assert!(
            shown.starts_with(expected),
            "expected {expected:?}, got {shown:?}"
        );
    }
}

#[test]
fn buckets_and_keys_of_generated_snapshots() {
    let details =
        r#"{"UserDetailList": [{"UserName": "u", "Arn": "arn:aws:iam::123456789012:user/u"}]}"#;
    let document = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}"#;
    let dir = snapshot_folder(&[
        (
            "iam/account-authorization-details.json",
            details.to_string(),
        ),
        // A bare document (no {"Policy": ...} wrapper) is accepted too.
        ("s3/bare/policy.json", document.to_string()),
        (
            "s3/wrapped/policy.json",
            serde_json::json!({ "Policy": document }).to_string(),
        ),
        ("s3/wrapped/README.md", "notes".to_string()),
        (
            "apigateway/rest-apis.json",
            serde_json::json!({"items": [{"id": "a1", "name": "speke",
                "policy": document.replace('"', "\\\""), "tags": {"k": "v"},
                "endpointConfiguration": {"types": ["REGIONAL"]}}]})
            .to_string(),
        ),
        (
            "collect-errors.txt",
            "aws s3api get-bucket-policy failed".to_string(),
        ),
    ]);
    let model = snapshot::load(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(
        model.buckets["bare"].policy,
        model.buckets["wrapped"].policy
    );
    assert!(model.buckets["bare"].policy.is_some());
    let api = &model.rest_apis["arn:aws:execute-api:us-east-1:123456789012:a1"];
    assert_eq!(api.policy, model.buckets["bare"].policy);
    assert_eq!(api.endpoint_types, ["REGIONAL"]);
    let messages: Vec<&str> = model.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("scripts/collect.sh could not make some AWS CLI calls"));
    assert_eq!(messages[1], "not part of the snapshot layout; ignored");
}

#[test]
fn a_bucket_described_by_two_snapshots_is_an_error() {
    let snapshot_of = |account: &str| {
        snapshot_folder(&[
            (
                "iam/account-authorization-details.json",
                format!(
                    r#"{{"UserDetailList": [{{"UserName": "u", "Arn": "arn:aws:iam::{account}:user/u"}}]}}"#
                ),
            ),
            ("s3/shared-name/tags.json", r#"{"TagSet": []}"#.to_string()),
        ])
    };
    let first = snapshot_of("111111111111");
    let second = snapshot_of("222222222222");
    let error = snapshot::load(&[first.path().to_path_buf(), second.path().to_path_buf()])
        .expect_err("bucket names are global");
    assert_eq!(
        error.file,
        second.path().join("s3/shared-name").display().to_string()
    );
    assert_eq!(
        error.message,
        "bucket shared-name is already described by the snapshot of account 111111111111; bucket names are global"
    );
}
