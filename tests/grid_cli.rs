//! Claim: `riskmdp grid` (feature `candle`) runs an experiment's numbered runs locally N at a
//! time with the same bytes as `riskmdp train`, skips finished runs when rerun, reports failed
//! and killed runs by number, writes a Slurm array script that runs `grid run FILE K`, gathers
//! the finished logs into one manifest, and turns bad input into one error line.
#![cfg(feature = "candle")]

mod process;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use process::{assert_clean_failure, riskmdp};
use serde_json::Value;

/// Tiny networks and schedule (as `tests/candle_cli.rs`): 300 steps in about a second.
const TINY: &str = r#"{ "warmup_steps": 60, "eval_every": 100, "eval_episodes": 1, "model_every": 50,
    "rollouts": 64, "updates_per_step": 1, "ensemble_size": 3, "elites": 2,
    "dynamics_hidden": [8], "actor_hidden": [8], "critic_hidden": [8], "batch_size": 16,
    "dynamics_batch_size": 16, "dynamics_max_batches": 4, "beta0": 10, "beta_lr": 0.05 }"#;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("grid_cli").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// An experiment file in `dir` writing under `dir/out`: Mountain Car, 300 steps, [`TINY`].
fn experiment(dir: &Path, learners: &str, seeds: &str, variants: &str) -> String {
    let text = format!(
        r#"{{ "name": "tiny", "out": "{}", "tasks": ["mountain-car"], "learners": {learners},
             "seeds": {seeds}, "preset": "mountain-car-cpu", "steps": 300, "config": {TINY},
             "variants": {variants} }}"#,
        dir.join("out").display()
    );
    let path = dir.join("tiny.json");
    std::fs::write(&path, text).expect("experiment written");
    path.to_str().expect("utf-8").to_string()
}

fn ok(args: &[&str]) -> String {
    let out = riskmdp(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `grid list --json`: each run's status.
fn statuses(file: &str) -> Vec<String> {
    let rows: Value = serde_json::from_str(&ok(&["grid", "list", file, "--json"])).expect("JSON");
    rows.as_array().expect("rows").iter().map(|r| r["status"].as_str().expect("status").to_string()).collect()
}

#[test]
fn a_tiny_grid_runs_locally_skips_finished_runs_and_gives_trains_bytes() {
    let dir = scratch("local");
    let file = experiment(&dir, r#"["beta-vmbpo", "sac"]"#, "[1, 2]", "[]");
    assert_eq!(statuses(&file), ["missing"; 4]);

    let started = Instant::now();
    let text = ok(&["grid", "local", &file, "--jobs", "2"]);
    eprintln!("grid local --jobs 2, 4 runs of 300 steps: {:.1} s", started.elapsed().as_secs_f64());
    assert!(text.contains("0 done before (skipped), 4 finished now, 0 failed"), "{text}");
    assert_eq!(statuses(&file), ["done"; 4]);

    // Rerun: everything is skipped, nothing is touched.
    let log = dir.join("out/mountain-car/sac/seed-2/log.jsonl");
    let modified = std::fs::metadata(&log).and_then(|m| m.modified()).expect("log");
    let text = ok(&["grid", "local", &file, "--jobs", "2"]);
    assert!(text.contains("4 done before (skipped), 0 finished now"), "{text}");
    assert!(ok(&["grid", "run", &file, "3"]).contains("run 3 (mountain-car sac seed 2): already done, skipped"));
    assert_eq!(std::fs::metadata(&log).and_then(|m| m.modified()).expect("log"), modified);

    // Run 0 again by `riskmdp train`, with the arguments its run.json records: the same bytes.
    let run_dir = dir.join("out/mountain-car/beta-vmbpo/seed-1");
    let described: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).expect("run.json")).expect("JSON");
    let mut args: Vec<String> =
        described["train_args"].as_array().expect("args").iter().map(|a| a.as_str().expect("str").into()).collect();
    assert!(args.contains(&"--config".to_string()), "{args:?}");
    let again = dir.join("by-train");
    let out_at = args.iter().position(|a| a == "--out").expect("--out") + 1;
    args[out_at] = again.display().to_string();
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    for name in ["config.json", "log.jsonl", "fits.jsonl", "checkpoint.json", "checkpoint.safetensors"] {
        let (a, b) = (std::fs::read(run_dir.join(name)), std::fs::read(again.join(name)));
        assert_eq!(a.expect(name), b.expect(name), "{name} differs between grid run 0 and riskmdp train");
    }

    // Gather: a manifest of the four runs; with --to, their logs without the checkpoints.
    let text = ok(&["grid", "gather", &file]);
    assert!(text.contains("4 done, 0 failed, 0 running, 0 missing"), "{text}");
    let manifest = riskmdp::grid::Manifest::load(dir.join("out/manifest.json")).expect("manifest");
    assert_eq!(manifest.with_status(riskmdp::grid::Status::Done).count(), 4);
    assert_eq!(manifest.runs[3].dir, Path::new("mountain-car/sac/seed-2"));
    let to = dir.join("gathered");
    ok(&["grid", "gather", &file, "--to", to.to_str().expect("utf-8")]);
    assert!(to.join("manifest.json").is_file());
    assert_eq!(std::fs::read(to.join("mountain-car/sac/seed-2/log.jsonl")).ok(), std::fs::read(&log).ok());
    assert!(to.join("mountain-car/beta-vmbpo/seed-1/fits.jsonl").is_file());
    assert!(!to.join("mountain-car/sac/seed-2/checkpoint.safetensors").exists());
}

#[test]
fn failed_and_killed_runs_are_reported_by_number_and_run_again() {
    let dir = scratch("failures");
    // Run 0 evaluates 200 episodes at each of its 3 evaluations, so that it lasts about a second:
    // long enough to be seen running and killed below before it can finish.
    let variants =
        r#"[{ "name": "ok", "config": { "eval_episodes": 200 } }, { "name": "bad", "config": { "elites": 99 } }]"#;
    let file = experiment(&dir, r#"[{ "algo": "sac", "variants": ["ok", "bad"] }]"#, "[1]", variants);

    let out = riskmdp(&["grid", "local", &file, "--jobs", "2"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("1 finished now, 1 failed") && stdout.contains("failed runs: 1"), "{stdout}");
    assert!(stdout.contains("run 1: ") && stdout.contains("elites"), "{stdout}");
    assert!(stderr.contains("warning: variants[1] (`bad`)"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(statuses(&file), ["done", "failed"]);

    // The array task of run 1 fails the same way: one line naming the run, non-zero status.
    let out = riskmdp(&["grid", "run", &file, "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: run 1 (mountain-car sac-bad seed 1) failed: ") && stderr.contains("elites"));

    // A run killed halfway is not finished: it shows as missing and is run again.
    std::fs::remove_file(dir.join("out/mountain-car/sac-ok/seed-1/done.json")).expect("done marker");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_riskmdp"))
        .args(["grid", "run", &file, "0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    let running = dir.join("out/mountain-car/sac-ok/seed-1/running.json");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !running.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(running.exists(), "the run never started");
    assert_eq!(statuses(&file)[0], "running");
    child.kill().expect("killed");
    child.wait().expect("reaped");
    assert_eq!(statuses(&file), ["missing", "failed"]);

    let out = riskmdp(&["grid", "gather", &file]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("failed: 1\nmissing: 0\n"), "{stdout}");

    let out = riskmdp(&["grid", "local", &file, "--jobs", "1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("0 done before (skipped), 1 finished now, 1 failed"), "{stdout}");
    assert_eq!(statuses(&file), ["done", "failed"]);
}

#[test]
fn the_sbatch_script_runs_each_array_task_by_absolute_paths() {
    let dir = scratch("sbatch");
    let file = experiment(&dir, r#"["beta-vmbpo", "sac"]"#, "[1, 2]", "[]");
    let text = ok(&[
        "grid",
        "sbatch",
        &file,
        "--time",
        "0:10:00",
        "--cpus",
        "2",
        "--partition",
        "debug",
        "--max-running",
        "3",
    ]);
    let slurm = dir.join("out/slurm");
    let script_path = slurm.join("tiny.sbatch");
    assert!(text.contains(&format!("submit with: sbatch {}", script_path.display())), "{text}");
    let script = std::fs::read_to_string(&script_path).expect("script");
    for line in [
        "#SBATCH --job-name=tiny\n",
        "#SBATCH --array=0-3%3\n",
        &format!("#SBATCH --output={}/%x-%A_%a.out\n", slurm.display()),
        "#SBATCH --cpus-per-task=2\n",
        "#SBATCH --time=0:10:00\n",
        "#SBATCH --partition=debug\n",
        &format!(
            "exec '{}' grid run '{}' \"$SLURM_ARRAY_TASK_ID\" --threads 2\n",
            slurm.join("riskmdp").display(),
            slurm.join("tiny.json").display()
        ),
    ] {
        assert!(script.contains(line), "`{line}` not in\n{script}");
    }
    assert_eq!(std::fs::read(slurm.join("riskmdp")).ok(), std::fs::read(env!("CARGO_BIN_EXE_riskmdp")).ok());
    assert_eq!(std::fs::read(slurm.join("tiny.json")).ok(), std::fs::read(&file).ok());

    // --unfinished: only the runs not done (run 2 is done here, by hand).
    std::fs::create_dir_all(dir.join("out/mountain-car/beta-vmbpo/seed-2")).expect("folder");
    std::fs::write(dir.join("out/mountain-car/beta-vmbpo/seed-2/done.json"), "{}").expect("marker");
    ok(&["grid", "sbatch", &file, "--unfinished"]);
    let script = std::fs::read_to_string(&script_path).expect("script");
    assert!(script.contains("#SBATCH --array=0-1,3\n") && !script.contains("--time"), "{script}");
    ok(&["grid", "sbatch", &file, "--ids", "3,1"]);
    let script = std::fs::read_to_string(&script_path).expect("script");
    assert!(script.contains("#SBATCH --array=1,3\n"), "{script}");
}

#[test]
fn bad_input_is_one_error_line() {
    let dir = scratch("bad");
    let file = experiment(&dir, r#"["sac"]"#, "[1]", "[]");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{ "name": "b", "out": "o", "tasks": ["humanoid"], "learners": ["sac"], "seeds": [1],
        "preset": "paper", "steps": 10 }"#,
    )
    .expect("written");
    let bad = bad.to_str().expect("utf-8");
    assert_clean_failure(&["grid", "list", "/no/such/experiment.json"], "/no/such/experiment.json");
    assert_clean_failure(&["grid", "list", bad], "tasks[0]: unknown environment `humanoid`");
    assert_clean_failure(&["grid", "sbatch", bad], "tasks[0]");
    assert_clean_failure(&["grid", "run", &file, "1"], "K: there is no run 1");
    assert_clean_failure(&["grid", "run", &file, "-1"], "'-1'");
    assert_clean_failure(&["grid", "run", &file, "0", "--threads", "0"], "--threads");
    assert_clean_failure(&["grid", "local", &file, "--jobs", "0"], "--jobs");
    assert_clean_failure(&["grid", "sbatch", &file, "--cpus", "0"], "--cpus");
    assert_clean_failure(&["grid", "sbatch", &file, "--time", "1 h"], "--time");
    assert_clean_failure(&["grid", "sbatch", &file, "--partition", "a\nb"], "--partition");
    assert_clean_failure(&["grid", "sbatch", &file, "--max-running", "0"], "--max-running");
    assert_clean_failure(&["grid", "sbatch", &file, "--ids", "1"], "--ids: there is no run 1");
    assert_clean_failure(&["grid", "sbatch", &file, "--ids", "0", "--unfinished"], "--unfinished");
    assert_clean_failure(&["grid", "frobnicate", &file], "frobnicate");
    assert!(!dir.join("out").exists(), "a refused command wrote files");
}
