//! iamproof: a formal permission verifier for AWS.
//!
//! It compiles an account's policies (identity, group, boundary, trust, bucket, key, SCP, RCP)
//! and every way a principal can become another (role chains, a role passed to MediaConvert or
//! a compute service, an IAM or resource policy rewritten, credentials minted) into questions it
//! can prove or refute: "can this user cause writes to that bucket, by any means?".
//!
//! # Map of the codebase
//! ```text
//! snapshot files --snapshot--> Model --graph--> DelegationGraph (petgraph)
//! question --query--> actors reached step by step --smt--> z3 --> witness --eval--> replayed
//! ```
//! | module | job |
//! |---|---|
//! | [`policy`] | the IAM policy language: typed syntax tree, strict parsing with JSON-path errors, glob patterns ([`policy::pattern`]; `Action` elements indexed by service, [`policy::action_index`]), policy variables ([`policy::template`]), condition operators ([`policy::condition`]), the request context ([`policy::context`]) |
//! | [`eval`] | the concrete evaluator: AWS's evaluation logic over every policy type; the reference semantics behind `simulate` and witness replay. Principals and `Principal` matching live in [`eval::principal`] |
//! | [`input`] | errors about user input (file, line, JSON path) and JSON helpers that keep the path |
//! | [`simulate`] | the `simulate` request format read into [`eval`] types, and its text and JSON output |
//! | [`context_model`] | the request context of each hop of a chain: which keys AWS sets (and to what), which the caller chooses, which are absent, by who makes the call; the one clock of a question |
//! | [`model`] | accounts, users, groups, roles, policies, buckets, keys, queues: plain data, no I/O |
//! | [`snapshot`] | reading account snapshot folders (AWS CLI output) into the model; the bundled AWS managed policies |
//! | [`terraform`] | Terraform plans and states (`terraform show -json`) made in the model: one row per resource type ([`terraform`]'s `aws` rows; AWS Organizations policies and attachments in its `organizations` rows), values known only after apply held as pending, names chosen at creation as placeholders checked against every policy pattern |
//! | [`cloudformation`] | CloudFormation templates (JSON, or YAML read with its lines), intrinsic functions resolved where they can be before deployment, each resource made through the Terraform rows |
//! | [`sources`] | where a model comes from: snapshots, plans and templates loaded together, before or after the changes |
//! | [`inspect`] | what a loaded model holds, and one principal's effective policies |
//! | [`synthetic`] | large synthetic snapshots for benchmarks: varied narrow grants, or the broad grants of real accounts |
//! | [`service`] | the escalation techniques as data ([`service::technique`]: the requests an actor makes, the service that acts, what the actor gains; the actions no technique models), one file per service with its rows ([`service::iam`], [`service::ec2`], [`service::lambda`], ...); what a MediaConvert job does with its role ([`service::mediaconvert`]); what each service defines, from the bundled AWS service authorization reference: actions, the resource types they take and their ARN formats, condition keys ([`service::reference`]); what KMS does with a key beyond its policy ([`service::kms`]); the regions of each partition ([`service::regions`]) |
//! | [`graph`] | the delegation graph: which techniques each principal may apply to which target (assume a role, pass it to a service, edit a user, policy, bucket or key), from cheap filters that only over-approximate; step lists shared between actors, the petgraph built only for drawings |
//! | [`smt`] | finite regions for request values ([`smt::regions`]), policies as formulas over them ([`smt::encode`], [`smt::formula`]), the z3 driver with deterministic minimal models ([`smt::solve`]) |
//! | [`query`] | `can`, `who-can` and `prove`: the breadth-first search over actors, lazy (steps solved when the queue reaches them) and sharing steps and refutations between questions, in rounds between which the edits found are made ([`query::chain`]; the edits a round meets are solved when it ends, those that bear on the principal first; rewrites of bucket policies the question cannot touch are not tried; under edits an actor's steps are told only when the search goes on from it), the memo of solutions that the engines of a `who-can`'s threads hand one another (`query/memo.rs`), the edits an escalation made to the account ([`query::edits`]), the callers from outside the account: anyone, other accounts, identity providers, services ([`query::outside`]), the session names and tags a caller may choose ([`query::sessions`]), the places a resource may be ([`query::targets`]), proof files ([`query::prove`]), baselines of accepted findings ([`query::baseline`]) |
//! | [`report`] | answers, who-can lists and proof results as text, JSON and Markdown for pull-request comments ([`report::markdown`]); proof results for CI as JUnit XML ([`report::junit`]) and SARIF 2.1.0 ([`report::sarif`]), placed on the lines of proof and snapshot files, and at the plan or template resource that declares a policy, by [`report::locate`] |
//! | [`shard`] | `prove --shard K/N` and `merge-shards`: a run's proofs cut into N contiguous blocks, one per machine; each shard's JSON report with what a merge needs (statement positions, the numbers of its results, its errors); the merge back into the report and exit code of one run |
//! | [`change`] | change files: edits named after the AWS APIs that make them, checked and applied to a copy of the model |
//! | [`whatif`] | `what-if`: answers (`can`, `who-can` or a proof file) before and after a change, side by side |
//! | [`compare`] | `compare`: does a new policy allow any request an old one does not, with a replayed counterexample |
//! | [`progress`] | the progress of long runs, reported to whoever watches (the command line draws a bar) |
//! | [`sweep`] | `sweep`: who can read, write or decrypt every bucket and key, one `who-can` per bucket or key and access (the accesses a table of rows) on one engine; written as text, JSON, CSV, or a proof file of `only` proofs that pins who can now ([`sweep::render`]) |
//! | [`diagram`] | `graph`: pictures of who reaches which buckets and keys, drawn from verified `who-can` witnesses, with look-alike nodes merged; Graphviz dot, Mermaid and JSON |
//!
//! `src/main.rs` is the thin clap command line: it maps input errors to exit code 2, failed
//! proofs to 1 and unknown answers to 3, whatever the output format, and gives a merge of shards
//! the exit code of one run. `src/terminal.rs`, part of
//! the binary, is its voice on standard error: the progress bar (on a terminal only), the notes,
//! and what `--verbose` adds.

//! # Invariants
//! - One semantics: [`eval::evaluate`] is the reference. The formulas of [`smt::encode`] test
//!   each condition by calling the evaluator's own operators on a region's witness, every witness
//!   is replayed through the evaluator before it is printed, and a differential test compares
//!   the two on random policies.
//! - Sound before complete: the graph and every filter only over-approximate; what the model
//!   does not cover (an unresolved policy, an unsupported construct, a solver timeout) makes an
//!   answer `unknown`, never `unreachable`.
//! - Nothing that comes from input is unwrapped: bad input is an [`input::InputError`] naming
//!   the file and the JSON path.
//! - Output is deterministic: the same input gives the same bytes.
//!
//! # Example
//! ```
//! use iamproof::eval::{evaluate, Decision, NamedPolicy, PolicySet, Principal, Request};
//! use iamproof::policy::{Context, Policy};
//!
//! let policy = Policy::from_json_text(r#"{"Version": "2012-10-17", "Statement": {
//!     "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::media-out/*"}}"#).unwrap();
//! let request = Request {
//!     principal: Principal::parse("arn:aws:iam::111122223333:user/editor").unwrap(),
//!     action: "s3:PutObject".into(),
//!     resource: "arn:aws:s3:::media-out/a.mp4".into(),
//!     resource_account: Some("111122223333".into()),
//!     context: Context::new(),
//! };
//! let policies = PolicySet { identity: vec![NamedPolicy::new("editor-policy", policy)], ..PolicySet::default() };
//! assert_eq!(evaluate(&request, &policies).decision, Decision::Allowed);
//! ```

pub mod change;
pub mod cloudformation;
pub mod compare;
pub mod context_model;
pub mod diagram;
pub mod eval;
pub mod graph;
pub mod input;
pub mod inspect;
pub mod model;
pub mod policy;
pub mod progress;
pub mod query;
pub mod report;
pub mod service;
pub mod shard;
pub mod simulate;
pub mod smt;
pub mod snapshot;
pub mod sources;
pub mod sweep;
pub mod synthetic;
pub mod terraform;
pub mod whatif;
