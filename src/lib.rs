//! iamproof: a formal permission verifier for AWS.
//!
//! It compiles an account's policies (identity, group, boundary, trust, bucket, key, SCP, RCP)
//! and the delegation chain through AWS Elemental MediaConvert into questions it can prove or
//! refute: "can this user cause writes to that bucket?".
//!
//! # Map of the codebase
//! | module | job |
//! |---|---|
//! | [`policy`] | the IAM policy language: typed syntax tree, strict parsing with JSON-path errors, glob patterns ([`policy::pattern`]), policy variables ([`policy::template`]), condition operators ([`policy::condition`]), the request context ([`policy::context`]) |
//! | [`eval`] | the concrete evaluator: AWS's evaluation logic over every policy type; the reference semantics behind `simulate` and witness replay. Principals and `Principal` matching live in [`eval::principal`] |
//! | [`input`] | errors about user input (file, line, JSON path) and JSON helpers that keep the path |
//! | [`simulate`] | the `simulate` request format read into [`eval`] types, and its text and JSON output |
//!
//! `src/main.rs` is the thin clap command line: it maps input errors to exit code 2.
//!
//! # Invariants
//! - One semantics: [`eval::evaluate`] is the reference. Everything else that decides access
//!   must agree with it, and is tested against it.
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

pub mod eval;
pub mod graph;
pub mod input;
pub mod inspect;
pub mod model;
pub mod policy;
pub mod query;
pub mod report;
pub mod service;
pub mod simulate;
pub mod smt;
pub mod snapshot;
pub mod synthetic;
