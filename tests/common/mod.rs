//! Helpers shared by the command-line tests: run the built binary and capture what it prints.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};

/// What one run of the binary printed, and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `iamproof ARGS` in `dir`, with `stdin` as standard input.
pub fn iamproof_in(dir: &Path, args: &[&str], stdin: &str) -> Run {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamproof"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the iamproof binary starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    // A command that does not read its input closes the pipe early; that is not an error here.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let output = child.wait_with_output().expect("iamproof runs to the end");
    Run {
        code: output
            .status
            .code()
            .expect("iamproof exits with a code, not a signal"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The project root, where `models/` and `tests/` live.
pub fn project_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `iamproof ARGS` from the project root.
pub fn iamproof(args: &[&str]) -> Run {
    iamproof_in(project_root(), args, "")
}
