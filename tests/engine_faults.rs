//! Claim: a fault inside the engine surfaces as one error, never as output. With a NaN planted
//! in the fast kernel or in the plain backup (feature `fault-injection`, `riskmdp::fault`),
//! `solve`, `sweep` (with `--plot` too), `dual` and `verify` each exit non-zero within seconds
//! with one line on stderr, print no NaN and write no file. Before issue 17 the sweep below
//! span for more than 16 minutes and the others printed NaN in their tables and exited 0.
//!
//! Run with `cargo test --release --features fault-injection --test engine_faults`
//! (`.ci/run` does).
#![cfg(feature = "fault-injection")]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A command must fail within this (the model is tiny; a solve takes microseconds).
const DEADLINE: Duration = Duration::from_secs(30);

/// Run the binary with a NaN planted at `site`; return (exit code, stdout, stderr, seconds).
fn run(site: &str, args: &[&str]) -> (Option<i32>, String, String, f64) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_riskmdp"))
        .args(args)
        .env("RISKMDP_PLANT_NAN", site)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > DEADLINE {
            child.kill().expect("kill");
            panic!("{site}: `riskmdp {}` still running after {DEADLINE:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let text = |b: Vec<u8>| String::from_utf8(b).expect("UTF-8");
    (out.status.code(), text(out.stdout), text(out.stderr), start.elapsed().as_secs_f64())
}

/// `args` fails with one error line, no NaN anywhere, and no `file` written.
fn fails_cleanly(site: &str, args: &[&str], file: Option<&Path>) {
    let (code, stdout, stderr, seconds) = run(site, args);
    let shown = format!(
        "{site}: `riskmdp {}` → {code:?} in {seconds:.2} s\nstdout: {stdout}\nstderr: {stderr}",
        args.join(" ")
    );
    assert!(code.is_some_and(|c| c != 0), "{shown}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one error line: {shown}");
    assert!(stderr.contains("non-finite"), "the error names the fault: {shown}");
    assert!(!stdout.to_lowercase().contains("nan") && !stderr.to_lowercase().contains(" nan "), "{shown}");
    if let Some(file) = file {
        assert!(!file.exists(), "{} was written: {shown}", file.display());
    }
}

const RISKY: &str = "examples/mdps/risky_arm.json";
const CLIFF: &str = "examples/mdps/cliff_gridworld.json";

#[test]
fn every_command_reports_a_nan_in_the_kernel_as_one_error() {
    let dir = std::env::temp_dir().join(format!("riskmdp-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let plot = dir.join("x.png");
    let plot_arg = plot.to_str().expect("UTF-8 path");
    for model in [RISKY, CLIFF] {
        fails_cleanly("kernel", &["solve", model, "--beta", "1"], None);
        fails_cleanly("kernel", &["solve", model, "--beta", "1", "--json"], None);
        fails_cleanly("kernel", &["sweep", model, "--beta-min", "0.1", "--points", "21"], None);
        fails_cleanly("kernel", &["dual", model, "--epsilon", "0.05"], None);
    }
    fails_cleanly("kernel", &["sweep", RISKY, "--beta-min", "0.1", "--points", "21", "--plot", plot_arg], Some(&plot));
    fails_cleanly("kernel", &["verify", "--cases", "4"], None);
    std::fs::remove_dir_all(&dir).ok();
}

/// The plain backup is what the operators and the verifier's exact formulas go through; the
/// solvers use the kernel.
#[test]
fn verify_reports_a_nan_in_the_plain_backup_as_one_error() {
    fails_cleanly("plain", &["verify", "--cases", "4"], None);
    fails_cleanly("plain", &["verify", "--claim", "figure-1", "--cases", "2"], None);
}
