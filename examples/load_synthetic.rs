//! Writes or loads a large synthetic account snapshot, so that the time and peak memory of
//! loading can be measured on their own (for example with `/usr/bin/time -v`).
//!
//! ```sh
//! cargo run --release --example load_synthetic -- write /tmp/synthetic
//! /usr/bin/time -v target/release/examples/load_synthetic load /tmp/synthetic
//! ```
//! `write` uses `SyntheticSpec::LARGE` (10,000 principals, 20,000 policies).

use iamproof::snapshot;
use iamproof::synthetic::{write_account, SyntheticSpec};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, dir) = match args.as_slice() {
        [mode, dir] => (mode.as_str(), PathBuf::from(dir)),
        _ => {
            eprintln!("usage: load_synthetic write|load DIR");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    match mode {
        "write" => {
            let spec = SyntheticSpec::LARGE;
            if let Err(e) = write_account(&dir, &spec) {
                eprintln!("error: {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
            println!(
                "wrote {} principals and {} policies to {} in {:.2?}",
                spec.users + spec.roles,
                spec.policy_count(),
                dir.display(),
                started.elapsed()
            );
        }
        "load" => match snapshot::load(&[dir]) {
            Ok(model) => println!(
                "loaded {}, {} warnings in {:.2?}",
                model.counts(),
                model.warnings.len(),
                started.elapsed()
            ),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: load_synthetic write|load DIR");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
