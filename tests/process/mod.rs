//! Running the `riskmdp` binary from the integration tests, and the shape of a clean failure.
#![allow(dead_code)]

use std::process::{Command, Output};

/// Run `riskmdp ARGS` in the crate's folder (the models in `examples/mdps/` resolve).
pub fn riskmdp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_riskmdp"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs")
}

/// Bad input: exit status 2, nothing on stdout, no panic, one line on stderr containing
/// `needle`.
pub fn assert_clean_failure(args: &[&str], needle: &str) {
    let out = riskmdp(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: `{needle}` not in {stderr}");
}
