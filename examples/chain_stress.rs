//! Wall-clock times of the questions `cargo bench --bench chains` measures, in one run: ten
//! `StringNotLike` denies on one key (on a user, and across a chain of three roles), and a
//! mesh of roles that may all assume one another. Each question is asked of a fresh engine;
//! the graph is built apart and timed on its own line.
//!
//! ```sh
//! cargo run --release --example chain_stress            # every account
//! cargo run --release --example chain_stress -- mesh    # only those whose name holds "mesh"
//! ```

use iamproof::policy::Context;
use iamproof::query::{Engine, Options, Question};
use iamproof::synthetic::{
    write_denied_role_chain_account, write_deny_globs_account, write_role_mesh_account,
    STRESS_BUCKET,
};
use std::path::Path;
use std::time::Instant;

type Writer = Box<dyn Fn(&Path, bool) -> std::io::Result<String>>;

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let resource = format!("arn:aws:s3:::{STRESS_BUCKET}/*");
    let accounts: Vec<(&str, Writer, bool)> = vec![
        (
            "deny-globs aws:SourceVpce",
            Box::new(|d, r| write_deny_globs_account(d, "aws:SourceVpce", r)),
            false,
        ),
        (
            "deny-globs aws:PrincipalTag/project",
            Box::new(|d, r| write_deny_globs_account(d, "aws:PrincipalTag/project", r)),
            false,
        ),
        (
            "deny-globs s3:x-amz-server-side-encryption-aws-kms-key-id",
            Box::new(|d, r| {
                write_deny_globs_account(d, "s3:x-amz-server-side-encryption-aws-kms-key-id", r)
            }),
            false,
        ),
        (
            "deny-globs role chain (region, userid)",
            Box::new(write_denied_role_chain_account),
            false,
        ),
        (
            "mesh 200 roles",
            Box::new(|d, r| write_role_mesh_account(d, 200, r)),
            true,
        ),
        (
            "mesh 500 roles",
            Box::new(|d, r| write_role_mesh_account(d, 500, r)),
            true,
        ),
    ];
    for (name, write, who_can) in accounts {
        if !name.contains(filter.as_str()) {
            continue;
        }
        for reachable in [true, false] {
            let dir = tempfile::tempdir().expect("a temp dir");
            let principal = write(dir.path(), reachable).expect("the snapshot is written");
            let model =
                iamproof::snapshot::load(&[dir.path().to_path_buf()]).expect("the snapshot loads");
            let variant = if reachable {
                "reachable"
            } else {
                "unreachable"
            };
            let started = Instant::now();
            let edges = Engine::new(&model, Options::default()).graph.edge_count();
            println!(
                "{name} [{variant}] graph: {:.2?} ({edges} edges)",
                started.elapsed()
            );
            let question = Question {
                principal,
                action: "s3:PutObject".into(),
                resource: resource.clone(),
                context: Context::new(),
            };
            let started = Instant::now();
            let engine = Engine::new(&model, Options::default());
            let answer = engine.can(&question).expect("well formed");
            println!(
                "{name} [{variant}] can: {:.2?} -> {:?} ({} hops)",
                started.elapsed(),
                answer.verdict,
                answer.chain.len()
            );
            if who_can {
                let started = Instant::now();
                let engine = Engine::new(&model, Options::default());
                let answers = engine
                    .who_can("s3:PutObject", &resource, &Context::new())
                    .expect("well formed");
                println!(
                    "{name} [{variant}] who-can: {:.2?} -> {} principals",
                    started.elapsed(),
                    answers.len()
                );
            }
        }
    }
}
