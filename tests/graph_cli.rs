//! `iamproof graph` on the example models: the paths it draws are the verifier's (the
//! default role's path to finance is there, the least-privilege model has none), look-alike
//! nodes are merged, condition summaries tell a trust policy with confused-deputy conditions
//! from one without, the dot text is well formed without needing Graphviz, the output is
//! byte-identical from run to run, and bad input ends with exit code 2.

mod common;

use common::iamproof;
use serde_json::Value;
use std::collections::BTreeSet;

const DEFAULT: &str = "models/mediaconvert-default";
const LEAST: &str = "models/mediaconvert-least-privilege";
const SSE_KMS: &str = "models/mediaconvert-sse-kms";
const EDITOR: &str = "arn:aws:iam::111122223333:user/editor";
const DEFAULT_ROLE: &str = "arn:aws:iam::111122223333:role/service-role/MediaConvert_Default_Role";
const FINANCE: &str = "arn:aws:s3:::finance";

/// `graph ARGS` that must succeed; returns standard output.
fn graph(args: &[&str]) -> String {
    let mut all = vec!["graph"];
    all.extend_from_slice(args);
    let run = iamproof(&all);
    assert_eq!(run.code, 0, "graph {args:?} failed: {}", run.stderr);
    assert_eq!(run.stderr, "", "graph {args:?} wrote to standard error");
    run.stdout
}

fn graph_json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let text = graph(&all);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The id of the node that stands for `member` (alone or in a group).
fn node_of(picture: &Value, member: &str) -> Option<String> {
    picture["nodes"]
        .as_array()?
        .iter()
        .find(|n| {
            n["members"]
                .as_array()
                .is_some_and(|m| m.iter().any(|x| x == member))
        })
        .map(|n| n["id"].as_str().expect("a node id").to_string())
}

fn nodes_of_kind(picture: &Value, kind: &str) -> Vec<Value> {
    picture["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["kind"] == kind)
        .cloned()
        .collect()
}

/// The edge between two nodes, when there is one.
fn edge<'p>(picture: &'p Value, from: &str, to: &str) -> Option<&'p Value> {
    picture["edges"]
        .as_array()?
        .iter()
        .find(|e| e["from"] == from && e["to"] == to)
}

fn actions(edge: &Value) -> BTreeSet<String> {
    edge["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| h["action"].as_str().expect("an action").to_string())
        .collect()
}

/// The MediaConvert node that acts with `role`.
fn service_for(picture: &Value, role: &str) -> Option<String> {
    let role_node = node_of(picture, role)?;
    nodes_of_kind(picture, "service")
        .into_iter()
        .map(|n| n["id"].as_str().expect("a node id").to_string())
        .find(|id| edge(picture, id, &role_node).is_some())
}

#[test]
fn default_role_path_to_finance_is_drawn() {
    let picture = graph_json(&["--account", DEFAULT, "--resource", "arn:aws:s3:::finance/*"]);
    let editor = node_of(&picture, EDITOR).expect("the editor is drawn");
    let role = node_of(&picture, DEFAULT_ROLE).expect("the default role is drawn");
    let finance = node_of(&picture, FINANCE).expect("the finance bucket is drawn");
    let service = service_for(&picture, DEFAULT_ROLE).expect("MediaConvert assumes the role");

    let submit = edge(&picture, &editor, &service).expect("editor -> MediaConvert");
    assert!(actions(submit).contains("mediaconvert:CreateJob + iam:PassRole"));
    assert_eq!(
        submit["hops"][0]["condition"],
        "iam:PassedToService=mediaconvert.amazonaws.com"
    );
    let assume = edge(&picture, &service, &role).expect("MediaConvert -> role");
    assert_eq!(
        actions(assume),
        BTreeSet::from(["sts:AssumeRole".to_string()])
    );
    // The console's default trust policy tests no condition: nothing to summarize.
    assert_eq!(assume["hops"][0]["condition"], Value::Null);
    let write = edge(&picture, &role, &finance).expect("role -> finance");
    assert!(actions(write).contains("s3:PutObject"));
    // The editor itself has no S3 grant on finance.
    assert!(edge(&picture, &editor, &finance).is_none());
    // Only what reaches finance is drawn: no other bucket, no group.
    let buckets = nodes_of_kind(&picture, "bucket");
    assert_eq!(buckets.len(), 1, "{buckets:?}");
    assert!(nodes_of_kind(&picture, "group").is_empty());
}

#[test]
fn least_privilege_has_no_path_from_the_editor_to_finance() {
    let picture = graph_json(&["--account", LEAST, "--resource", "arn:aws:s3:::finance/*"]);
    assert_eq!(node_of(&picture, EDITOR), None);
    assert!(nodes_of_kind(&picture, "service").is_empty());
    let lambda = node_of(&picture, "arn:aws:iam::111122223333:role/LambdaRole")
        .expect("LambdaRole writes finance");
    let finance = node_of(&picture, FINANCE).expect("the finance bucket is drawn");
    assert!(
        actions(edge(&picture, &lambda, &finance).expect("LambdaRole -> finance"))
            .contains("s3:PutObject")
    );
    assert_eq!(picture["edges"].as_array().map(Vec::len), Some(1));
}

#[test]
fn least_privilege_media_out_goes_through_the_conditioned_trust() {
    let picture = graph_json(&[
        "--account",
        LEAST,
        "--resource",
        "arn:aws:s3:::media-out/*",
        "--action",
        "s3:PutObject",
    ]);
    let role = "arn:aws:iam::111122223333:role/MediaConvertRole";
    let service = service_for(&picture, role).expect("MediaConvert assumes the role");
    let role_node = node_of(&picture, role).expect("the role is drawn");
    let assume = edge(&picture, &service, &role_node).expect("MediaConvert -> role");
    let condition = assume["hops"][0]["condition"]
        .as_str()
        .expect("the trust policy's conditions are summarized");
    assert!(
        condition.contains("aws:SourceAccount=111122223333"),
        "{condition}"
    );
    // The intern may pass roles only to EC2: the graph's candidate edge is refuted and absent.
    assert_eq!(
        node_of(&picture, "arn:aws:iam::111122223333:user/intern"),
        None
    );
    // Editor and pipeline-dev submit the same jobs: one node for both.
    let submitters = node_of(&picture, EDITOR).expect("the editor is drawn");
    assert_eq!(
        node_of(&picture, "arn:aws:iam::111122223333:user/pipeline-dev").as_deref(),
        Some(submitters.as_str())
    );
    let node = picture["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["id"] == submitters.as_str())
        .expect("the submitters' node");
    assert_eq!(node["label"], "2 users: editor, pipeline-dev");
}

/// As configured, KeyAdmin and SecurityAudit reach the same keys; with every technique, KeyAdmin
/// may rewrite a key policy it administers (kms:PutKeyPolicy, "Key policies in AWS KMS",
/// https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html) and reach more.
#[test]
fn look_alike_roles_are_one_node() {
    let everything = graph_json(&["--account", SSE_KMS]);
    assert_ne!(
        node_of(&everything, "arn:aws:iam::111122223333:role/SecurityAudit"),
        node_of(&everything, "arn:aws:iam::111122223333:role/KeyAdmin")
    );
    let picture = graph_json(&["--account", SSE_KMS, "--scope", "configured"]);
    let audit = node_of(&picture, "arn:aws:iam::111122223333:role/SecurityAudit");
    let admin = node_of(&picture, "arn:aws:iam::111122223333:role/KeyAdmin");
    assert!(audit.is_some());
    assert_eq!(audit, admin);
    let labels: Vec<&str> = picture["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["label"].as_str())
        .collect();
    assert!(
        labels.contains(&"2 roles: KeyAdmin, SecurityAudit"),
        "{labels:?}"
    );
    // Every edge joins two drawn nodes, and no two edges join the same pair.
    let ids: BTreeSet<&str> = picture["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    let mut pairs = BTreeSet::new();
    for e in picture["edges"].as_array().expect("edges") {
        let (from, to) = (e["from"].as_str().unwrap(), e["to"].as_str().unwrap());
        assert!(ids.contains(from) && ids.contains(to), "{e}");
        assert!(pairs.insert((from, to)), "two edges {from} -> {to}");
    }
}

#[test]
fn jobs_reach_only_what_job_witnesses_show() {
    // MediaConvertRole's own sessions reach the AWS managed S3 key, but no witness has a job
    // reach it: the job is drawn apart from the role, so no path runs editor -> job -> key.
    let picture = graph_json(&["--account", SSE_KMS]);
    let role = "arn:aws:iam::111122223333:role/MediaConvertRole";
    let own = node_of(&picture, role).expect("the role is drawn");
    let service = nodes_of_kind(&picture, "service");
    assert_eq!(service.len(), 1);
    let service = service[0]["id"].as_str().expect("an id");
    let job = picture["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .find(|e| e["from"] == service)
        .and_then(|e| e["to"].as_str())
        .expect("MediaConvert assumes the role");
    assert_ne!(job, own);
    let s3_key = picture["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["label"] == "key alias/aws/s3")
        .and_then(|n| n["id"].as_str())
        .expect("the AWS managed S3 key");
    assert!(edge(&picture, &own, s3_key).is_some());
    assert!(edge(&picture, job, s3_key).is_none());
    assert!(actions(
        edge(
            &picture,
            job,
            &node_of(&picture, "arn:aws:s3:::secure-out").expect("secure-out")
        )
        .expect("the job writes secure-out")
    )
    .contains("s3:PutObject"));
}

/// The bucket nodes of a picture, each with its members.
fn bucket_members(picture: &Value) -> Vec<Vec<String>> {
    nodes_of_kind(picture, "bucket")
        .iter()
        .map(|n| {
            n["members"]
                .as_array()
                .expect("members")
                .iter()
                .map(|m| m.as_str().expect("a member").to_string())
                .collect()
        })
        .collect()
}

/// A pattern over several buckets draws each bucket of the snapshots it matches, each with the
/// witnesses of its own `who-can` questions: the role reads media-in and writes media-out, the
/// intern reads only the samples of media-in.
#[test]
fn a_pattern_draws_every_bucket_it_matches() {
    let picture = graph_json(&["--account", LEAST, "--resource", "arn:aws:s3:::media-*"]);
    assert_eq!(
        bucket_members(&picture),
        [
            vec!["arn:aws:s3:::media-in".to_string()],
            vec!["arn:aws:s3:::media-out".to_string()]
        ]
    );
    let media_in = node_of(&picture, "arn:aws:s3:::media-in").expect("media-in is drawn");
    let media_out = node_of(&picture, "arn:aws:s3:::media-out").expect("media-out is drawn");
    let role = node_of(&picture, "arn:aws:iam::111122223333:role/MediaConvertRole")
        .expect("the role is drawn");
    let reads = edge(&picture, &role, &media_in).expect("role -> media-in");
    assert_eq!(actions(reads), BTreeSet::from(["s3:GetObject".to_string()]));
    let writes = edge(&picture, &role, &media_out).expect("role -> media-out");
    assert_eq!(
        actions(writes),
        BTreeSet::from(["s3:PutObject".to_string()])
    );
    let intern = node_of(&picture, "arn:aws:iam::111122223333:user/intern")
        .expect("the intern reads media-in samples");
    assert!(edge(&picture, &intern, &media_in).is_some());
    assert!(edge(&picture, &intern, &media_out).is_none());
    // Every edge into a bucket ends at one of the two buckets the pattern matches.
    assert_eq!(node_of(&picture, FINANCE), None);
    assert_eq!(
        node_of(&picture, "*"),
        None,
        "no bucket outside the snapshots"
    );
}

/// A pattern draws only the buckets it matches, and look-alike buckets are still one node.
#[test]
fn a_pattern_draws_no_bucket_it_does_not_match() {
    let picture = graph_json(&["--account", LEAST, "--resource", "arn:aws:s3:::media-o*"]);
    assert_eq!(
        bucket_members(&picture),
        [vec!["arn:aws:s3:::media-out".to_string()]]
    );
    assert_eq!(
        node_of(&picture, "arn:aws:iam::111122223333:user/intern"),
        None
    );
    // In the default model everyone who reaches one media bucket reaches the other the same
    // way: one node lists both, and finance is not drawn.
    let picture = graph_json(&["--account", DEFAULT, "--resource", "arn:aws:s3:::media-*"]);
    assert_eq!(
        bucket_members(&picture),
        [vec![
            "arn:aws:s3:::media-in".to_string(),
            "arn:aws:s3:::media-out".to_string()
        ]]
    );
    // A pattern that matches no bucket of the snapshots is asked as it is: the default role
    // may write a bucket elsewhere.
    let picture = graph_json(&[
        "--account",
        DEFAULT,
        "--resource",
        "arn:aws:s3:::attacker-*",
    ]);
    assert_eq!(bucket_members(&picture), [vec!["*".to_string()]]);
}

/// A pattern over keys draws each key of the snapshots it matches.
#[test]
fn a_key_pattern_draws_every_key_it_matches() {
    let picture = graph_json(&[
        "--account",
        SSE_KMS,
        "--resource",
        "arn:aws:kms:us-east-1:111122223333:key/*",
        "--scope",
        "configured",
    ]);
    let labels: BTreeSet<String> = nodes_of_kind(&picture, "key")
        .iter()
        .map(|n| n["label"].as_str().expect("a label").to_string())
        .collect();
    assert_eq!(
        labels,
        BTreeSet::from([
            "key alias/archive-locked".to_string(),
            "key alias/aws/s3".to_string(),
            "key alias/media-out".to_string()
        ])
    );
    let picture = graph_json(&[
        "--account",
        SSE_KMS,
        "--resource",
        "arn:aws:kms:us-east-1:111122223333:key/8b2e4d17-*",
        "--scope",
        "configured",
    ]);
    let labels: Vec<Value> = nodes_of_kind(&picture, "key")
        .iter()
        .map(|n| n["label"].clone())
        .collect();
    assert_eq!(labels, ["key alias/archive-locked"]);
}

#[test]
fn output_is_byte_identical_from_run_to_run() {
    for format in ["dot", "mermaid", "json"] {
        for model in [DEFAULT, SSE_KMS] {
            let args = ["--account", model, "--format", format];
            assert_eq!(graph(&args), graph(&args), "{model} as {format}");
        }
    }
}

/// A dot token: a name or number, a quoted string (its text unescaped), or punctuation.
#[derive(Debug, PartialEq)]
enum Token {
    Id(String),
    Quoted(String),
    Punct(&'static str),
}

fn dot_tokens(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '{' => tokens.push(Token::Punct("{")),
            '}' => tokens.push(Token::Punct("}")),
            '[' => tokens.push(Token::Punct("[")),
            ']' => tokens.push(Token::Punct("]")),
            ';' => tokens.push(Token::Punct(";")),
            ',' => tokens.push(Token::Punct(",")),
            '=' => tokens.push(Token::Punct("=")),
            '-' if chars.peek() == Some(&'>') => {
                chars.next();
                tokens.push(Token::Punct("->"));
            }
            '"' => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => panic!("unterminated string in dot output"),
                        Some('"') => break,
                        Some('\\') => {
                            let escaped = chars.next().expect("an escaped character");
                            assert!(
                                matches!(escaped, '"' | '\\' | 'n'),
                                "unexpected escape \\{escaped}"
                            );
                            value.push(escaped);
                        }
                        Some('\n') => panic!("raw line break inside a dot string"),
                        Some(c) => value.push(c),
                    }
                }
                tokens.push(Token::Quoted(value));
            }
            c if c.is_ascii_alphanumeric() || c == '_' => {
                let mut id = String::from(c);
                while let Some(&next) = chars.peek() {
                    if next.is_ascii_alphanumeric() || next == '_' {
                        id.push(next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Id(id));
            }
            c => panic!("unexpected character {c:?} in dot output"),
        }
    }
    tokens
}

/// Checks the dot grammar the renderer uses (graph attributes, node and edge statements with
/// attribute lists) and that every edge joins declared nodes; returns (nodes, edges).
fn check_dot(text: &str) -> (usize, usize) {
    let tokens = dot_tokens(text);
    let mut at = 0;
    let next = |at: &mut usize| -> &Token {
        let token = tokens.get(*at).expect("more dot tokens");
        *at += 1;
        token
    };
    assert_eq!(next(&mut at), &Token::Id("digraph".into()));
    assert!(matches!(next(&mut at), Token::Id(_)));
    assert_eq!(next(&mut at), &Token::Punct("{"));
    let mut declared = BTreeSet::new();
    let (mut nodes, mut edges) = (0, 0);
    let attributes = |at: &mut usize| {
        assert_eq!(next(at), &Token::Punct("["));
        loop {
            match next(at) {
                Token::Punct("]") => break,
                Token::Punct(",") => {}
                Token::Id(_) => {
                    assert_eq!(next(at), &Token::Punct("="));
                    assert!(matches!(next(at), Token::Id(_) | Token::Quoted(_)));
                }
                other => panic!("unexpected {other:?} in an attribute list"),
            }
        }
    };
    loop {
        let name = match next(&mut at) {
            Token::Punct("}") => break,
            Token::Id(name) => name.clone(),
            other => panic!("unexpected {other:?} at the start of a statement"),
        };
        match &tokens[at] {
            Token::Punct("=") => {
                at += 1;
                assert!(matches!(next(&mut at), Token::Id(_) | Token::Quoted(_)));
            }
            Token::Punct("[") if name == "node" || name == "edge" => attributes(&mut at),
            Token::Punct("[") => {
                attributes(&mut at);
                assert!(declared.insert(name.clone()), "{name} declared twice");
                nodes += 1;
            }
            Token::Punct("->") => {
                at += 1;
                let Token::Id(to) = next(&mut at) else {
                    panic!("an edge without a target")
                };
                assert!(declared.contains(&name), "edge from undeclared {name}");
                assert!(declared.contains(to), "edge to undeclared {to}");
                if tokens[at] == Token::Punct("[") {
                    attributes(&mut at);
                }
                edges += 1;
            }
            other => panic!("unexpected {other:?} after {name}"),
        }
        assert_eq!(next(&mut at), &Token::Punct(";"));
    }
    assert_eq!(at, tokens.len(), "text after the graph");
    (nodes, edges)
}

#[test]
fn dot_output_is_well_formed() {
    for model in [DEFAULT, LEAST, SSE_KMS] {
        let dot = graph(&["--account", model]);
        let json = graph_json(&["--account", model]);
        let (nodes, edges) = check_dot(&dot);
        assert_eq!(Some(nodes), json["nodes"].as_array().map(Vec::len));
        assert_eq!(Some(edges), json["edges"].as_array().map(Vec::len));
        assert!(nodes > 0, "{model}: an empty picture");
    }
}

#[test]
fn mermaid_labels_are_quoted_and_escaped() {
    let text = graph(&["--account", SSE_KMS, "--format", "mermaid"]);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    for line in lines {
        // Exactly two quotes per node and per edge label: none inside a label.
        assert_eq!(line.matches('"').count(), 2, "{line}");
        assert!(!line.contains('\n'));
    }
}

#[test]
fn several_accounts_name_the_account() {
    let picture = graph_json(&[
        "--account",
        "models/mediaconvert-cross-account",
        "--account",
        "models/mediaconvert-cross-account-partner",
        "--resource",
        "arn:aws:s3:::partner-deliveries/*",
        "--action",
        "s3:PutObject",
    ]);
    let bucket = node_of(&picture, "arn:aws:s3:::partner-deliveries").expect("the bucket");
    let node = picture["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["id"] == bucket.as_str())
        .expect("the bucket node");
    assert_eq!(node["label"], "bucket partner-deliveries (444455556666)");
    let role = node_of(&picture, "arn:aws:iam::111122223333:role/MediaConvertRole")
        .expect("the media account's role");
    let delivery = edge(&picture, &role, &bucket).expect("role -> partner bucket");
    assert_eq!(
        delivery["hops"][0]["condition"],
        "s3:x-amz-acl=bucket-owner-full-control"
    );
}

#[test]
fn bad_input_exits_with_2() {
    let cases: [&[&str]; 4] = [
        &["graph", "--account", "models/no-such-model"],
        &["graph", "--account", DEFAULT, "--action", "s3:*"],
        &[
            "graph",
            "--account",
            DEFAULT,
            "--action",
            "execute-api:Invoke",
        ],
        &[
            "graph",
            "--account",
            DEFAULT,
            "--resource",
            "arn:aws:execute-api:us-east-1:111122223333:k3x9q2m7vb/*",
        ],
    ];
    for args in cases {
        let run = iamproof(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{args:?}");
    }
    let run = iamproof(&["graph", "--account", DEFAULT, "--format", "svg"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn snapshot_default_dot() {
    insta::assert_snapshot!(graph(&["--account", DEFAULT]));
}

#[test]
fn snapshot_default_mermaid() {
    insta::assert_snapshot!(graph(&["--account", DEFAULT, "--format", "mermaid"]));
}

#[test]
fn snapshot_default_json() {
    insta::assert_snapshot!(graph(&["--account", DEFAULT, "--format", "json"]));
}

#[test]
fn snapshot_sse_kms_dot() {
    insta::assert_snapshot!(graph(&["--account", SSE_KMS]));
}

#[test]
fn snapshot_least_privilege_media_out_mermaid() {
    insta::assert_snapshot!(graph(&[
        "--account",
        LEAST,
        "--resource",
        "arn:aws:s3:::media-out/*",
        "--format",
        "mermaid",
    ]));
}

/// Without `--resource`, a picture of an account with more buckets and keys than a reader can
/// take in is refused with a way forward (exit 2); `--resource` still draws one bucket.
#[test]
fn a_picture_of_hundreds_of_buckets_needs_a_resource_or_all() {
    use iamproof::synthetic::{write_account, Profile, SyntheticSpec};
    let dir = tempfile::tempdir().expect("a temp dir");
    let spec = SyntheticSpec {
        profile: Profile::Varied,
        users: 20,
        groups: 2,
        roles: 10,
        managed_policies: 20,
        buckets: 120,
        keys: 2,
        mediaconvert_trusting_roles: 2,
        escalating_every: 0,
    };
    write_account(dir.path(), &spec).expect("the synthetic snapshot is written");
    let account = dir.path().to_str().unwrap();
    let run = iamproof(&["graph", "--account", account]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("asks who-can 244 times") && run.stderr.contains("--all"),
        "{}",
        run.stderr
    );
    let one = iamproof(&[
        "graph",
        "--account",
        account,
        "--resource",
        "arn:aws:s3:::synthetic-bucket-0003/*",
    ]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(one.stdout.starts_with("digraph"), "{}", one.stdout);
    // A pattern over every bucket asks as many questions: refused the same way.
    let pattern = iamproof(&[
        "graph",
        "--account",
        account,
        "--resource",
        "arn:aws:s3:::synthetic-bucket-*",
    ]);
    assert_eq!(pattern.code, 2, "{}", pattern.stdout);
    assert!(
        pattern.stderr.contains("matches 120 buckets")
            && pattern.stderr.contains("asks who-can 240 times")
            && pattern.stderr.contains("--all"),
        "{}",
        pattern.stderr
    );
    // One action over the 120 buckets stays under the limit; --all lifts it.
    for extra in [["--action", "s3:PutObject"], ["--all", "--quiet"]] {
        let mut args = vec![
            "graph",
            "--account",
            account,
            "--resource",
            "arn:aws:s3:::synthetic-bucket-*",
            "--format",
            "json",
        ];
        args.extend(extra);
        let run = iamproof(&args);
        assert_eq!(run.code, 0, "{extra:?}: {}", run.stderr);
        let picture: Value = serde_json::from_str(&run.stdout).expect("JSON");
        let buckets: usize = nodes_of_kind(&picture, "bucket")
            .iter()
            .map(|n| n["members"].as_array().map_or(0, Vec::len))
            .sum();
        assert!(buckets > 1, "{extra:?}: every bucket it matches: {buckets}");
    }
}

/// A `PassRole` asked about on its own is drawn to the role, not as a MediaConvert job: the
/// intern may pass roles only to EC2.
#[test]
fn a_pass_role_alone_is_no_mediaconvert_job() {
    let picture = graph_json(&[
        "--account",
        LEAST,
        "--resource",
        "arn:aws:iam::111122223333:role/*",
        "--action",
        "iam:PassRole",
    ]);
    let services: Vec<&Value> = picture["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "service")
        .collect();
    assert!(services.is_empty(), "{services:?}");
    assert!(node_of(&picture, "arn:aws:iam::111122223333:user/intern").is_some());
}
