//! Claim: `riskmdp train` and `riskmdp evaluate` (feature `candle`) give the same log bytes for
//! the same seed, write a checkpoint that `evaluate` rolls out, and turn every bad input into
//! one error line with exit status 2.
#![cfg(feature = "candle")]

mod process;

use std::path::PathBuf;

use process::{assert_clean_failure, riskmdp};

/// Tiny networks and schedule (as `tests/candle_train.rs`): 300 steps in about a second.
const TINY: &str = r#"{ "warmup_steps": 60, "eval_every": 100, "eval_episodes": 1, "model_every": 50,
    "rollouts": 64, "updates_per_step": 1, "ensemble_size": 3, "elites": 2,
    "dynamics_hidden": [8], "actor_hidden": [8], "critic_hidden": [8], "batch_size": 16,
    "dynamics_batch_size": 16, "dynamics_max_batches": 4, "beta0": 10, "beta_lr": 0.05 }"#;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("candle_cli").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn train_into(dir: &std::path::Path, config: &std::path::Path, seed: &str) -> Vec<u8> {
    let out = dir.join("run");
    let args = ["train", "--env", "mountain-car", "--algo", "beta-vmbpo", "--steps", "300", "--seed", seed];
    let (config, out_s) = (config.to_str().expect("utf-8"), out.to_str().expect("utf-8"));
    let run = riskmdp(&[&args[..], &["--config", config, "--out", out_s]].concat());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    std::fs::read(out.join("log.jsonl")).expect("log written")
}

#[test]
fn the_same_seed_gives_the_same_log_and_the_checkpoint_evaluates() {
    let dir = scratch("runs");
    let config = dir.join("tiny.json");
    std::fs::write(&config, TINY).expect("config written");
    let (a, b, c) = (scratch("a"), scratch("b"), scratch("c"));
    let first = train_into(&a, &config, "3");
    assert!(!first.is_empty());
    assert_eq!(first, train_into(&b, &config, "3"), "same seed, different log");
    assert_ne!(first, train_into(&c, &config, "4"), "another seed, the same log");
    // Three evaluations (steps 100, 200, 300) of the deterministic actor.
    assert_eq!(first.iter().filter(|&&x| x == b'\n').count(), 3);

    let checkpoint = a.join("run");
    let eval = riskmdp(&["evaluate", checkpoint.to_str().expect("utf-8"), "--episodes", "2", "--json"]);
    assert!(eval.status.success(), "{}", String::from_utf8_lossy(&eval.stderr));
    let report: serde_json::Value = serde_json::from_slice(&eval.stdout).expect("JSON");
    assert_eq!(report["returns"].as_array().map(Vec::len), Some(2));
    assert_eq!(report["step"], 300);
    assert!(report["mean_return"].as_f64().is_some_and(f64::is_finite));

    // The folder holds a run now: training into it again is refused unless --force.
    let args = ["train", "--env", "mountain-car", "--algo", "beta-vmbpo", "--steps", "300"];
    let (config_s, out_s) = (config.to_str().expect("utf-8"), checkpoint.to_str().expect("utf-8"));
    assert_clean_failure(&[&args[..], &["--config", config_s, "--out", out_s]].concat(), "--force");
    let forced = riskmdp(&[&args[..], &["--config", config_s, "--out", out_s, "--force"]].concat());
    assert!(forced.status.success(), "{}", String::from_utf8_lossy(&forced.stderr));
}

#[test]
fn bad_input_is_one_error_line() {
    let dir = scratch("bad");
    let unknown = dir.join("unknown.json");
    std::fs::write(&unknown, r#"{ "gama": 0.9 }"#).expect("written");
    let invalid = dir.join("invalid.json");
    std::fs::write(&invalid, r#"{ "elites": 9 }"#).expect("written");
    let base = ["train", "--env", "mountain-car", "--algo", "sac", "--steps", "10"];
    assert_clean_failure(&["train", "--env", "moon", "--algo", "sac", "--steps", "10"], "--env");
    assert_clean_failure(&["train", "--env", "pendulum", "--algo", "ppo", "--steps", "10"], "--algo");
    let (unknown, invalid) = (unknown.to_str().expect("utf-8"), invalid.to_str().expect("utf-8"));
    for (extra, needle) in [
        (["--config", unknown], "gama"),
        (["--config", invalid], "elites"),
        (["--preset", "fast"], "preset"),
        (["--threads", "0"], "--threads"),
    ] {
        assert_clean_failure(&[&base[..], &extra[..]].concat(), needle);
    }
    assert_clean_failure(&["train", "--env", "pendulum", "--algo", "sac", "--steps", "0"], "--steps");
    // Inside the paper's 5000-step warm-up nothing is trained.
    assert_clean_failure(&base, "warm-up");
    // A run that would train or evaluate nothing.
    for field in ["eval_episodes", "updates_per_step", "rollouts"] {
        let zero = dir.join(format!("{field}.json"));
        std::fs::write(&zero, format!("{{ \"{field}\": 0 }}")).expect("written");
        let steps = ["train", "--env", "mountain-car", "--algo", "sac", "--steps", "6000"];
        assert_clean_failure(&[&steps[..], &["--config", zero.to_str().expect("utf-8")]].concat(), field);
    }
    assert_clean_failure(&["evaluate", "/no/such/checkpoint"], "no such checkpoint");
    assert_clean_failure(&["evaluate", dir.to_str().expect("utf-8")], "checkpoint");
}
