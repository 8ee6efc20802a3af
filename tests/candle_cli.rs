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

/// `evaluate` given a file that is not a checkpoint, a truncated tensor file, or metadata with a
/// β or a standardiser a learner cannot run with: one line naming the file and the field.
#[test]
fn a_broken_checkpoint_is_one_error_line_naming_file_and_field() {
    let dir = scratch("broken");
    let config = dir.join("tiny.json");
    std::fs::write(&config, TINY).expect("config written");
    train_into(&dir, &config, "1");
    let run = dir.join("run");
    let copy = |name: &str, edit: &dyn Fn(&std::path::Path)| {
        let to = dir.join(name);
        std::fs::create_dir_all(&to).expect("folder");
        for file in ["checkpoint.json", "checkpoint.safetensors", "config.json", "log.jsonl"] {
            std::fs::copy(run.join(file), to.join(file)).expect("copied");
        }
        edit(&to);
        to.to_str().expect("utf-8").to_owned()
    };
    let log = run.join("log.jsonl");
    assert_clean_failure(&["evaluate", log.to_str().expect("utf-8")], "log.jsonl: not a checkpoint");
    let truncated = copy("truncated", &|d| {
        let bytes = std::fs::read(d.join("checkpoint.safetensors")).expect("read");
        std::fs::write(d.join("checkpoint.safetensors"), &bytes[..bytes.len() / 2]).expect("written");
    });
    assert_clean_failure(&["evaluate", &truncated], "truncated/checkpoint.safetensors");
    let meta_edit = |field: &'static str, value: serde_json::Value| {
        move |d: &std::path::Path| {
            let path = d.join("checkpoint.json");
            let mut meta: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
            *meta.pointer_mut(field).expect("field") = value.clone();
            std::fs::write(&path, meta.to_string()).expect("written");
        }
    };
    for (name, field, value, needle) in [
        ("beta", "/beta", serde_json::json!(0.0), "`beta`"),
        ("std", "/prior_dynamics/standardiser/std/1", serde_json::json!(-1.0), "`prior_dynamics.standardiser.std[1]`"),
        ("elites", "/variational_dynamics/elites/0", serde_json::json!(99), "`variational_dynamics`"),
        // Refused before the networks are built: a 10⁹-wide layer cannot fit in the tensor file.
        ("huge", "/config/dynamics_hidden/0", serde_json::json!(1_000_000_000u64), "`config`: its networks hold"),
    ] {
        let broken = copy(name, &meta_edit(field, value));
        assert_clean_failure(&["evaluate", &broken], &format!("{name}/checkpoint.json: {needle}"));
    }
}

/// Without `--preset`, `train` takes the environment's CPU preset and says so.
#[test]
fn the_default_preset_is_the_environments_cpu_preset() {
    let out = riskmdp(&["train", "--env", "pendulum", "--algo", "beta-vmbpo", "--steps", "1100"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("pendulum: beta-vmbpo, 1100 steps, seed 0, preset pendulum-cpu"), "{text}");
}
