//! Claim: the committed experiment files say what they are meant to: `experiments/mountain_car.json`
//! expands to the 40 runs of `scripts/mountain-car-seeds.sh` with the same `riskmdp train`
//! arguments and folders, and the MuJoCo grids of Figs. 5, 7 and 8 expand to their runs — or,
//! in a build without the MuJoCo tasks, fail with one line naming `tasks[0]` and the task.
#![cfg(feature = "candle")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use riskmdp::continuous::config::TrainConfig;
use riskmdp::grid::Experiment;
use serde_json::Value;

/// A run as `riskmdp train` arguments: flag → value (`--config`: the file's JSON, re-serialised).
type Args = BTreeMap<String, String>;

fn as_map(args: &[String]) -> Args {
    let mut map = Args::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "train" | "--force" => i += 1,
            "--config" => {
                let text = std::fs::read_to_string(&args[i + 1]).expect("config file");
                let value: Value = serde_json::from_str(&text).expect("JSON");
                map.insert("--config".into(), value.to_string());
                i += 2;
            }
            flag => {
                map.insert(flag.into(), args[i + 1].clone());
                i += 2;
            }
        }
    }
    map
}

#[test]
fn the_mountain_car_experiment_is_the_40_runs_of_the_seed_script() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = std::fs::read_to_string(root.join("scripts/mountain-car-seeds.sh")).expect("script");
    // The loop below restates the script's; these lines tie it to the script's text.
    for line in [
        "seeds=(1 2 3 4 5 6 7 8 9 10)",
        "out=results/mountain_car",
        "steps=25000",
        "for learner in beta-vmbpo-eps10 vmbpo beta-vmbpo-eps0.1 beta-vmbpo-eps1; do",
        "dir=$out/$learner/seed-$seed",
        r#"args=(--env mountain-car --preset mountain-car-cpu --steps "$steps" --seed "$seed" --out "$dir" --force)"#,
        "beta-vmbpo-eps10) args+=(--algo beta-vmbpo) ;;",
        r#"beta-vmbpo-eps0.1) args+=(--algo beta-vmbpo --config "$out/epsilon-0.1.json") ;;"#,
        r#"beta-vmbpo-eps1) args+=(--algo beta-vmbpo --config "$out/epsilon-1.json") ;;"#,
        "vmbpo) args+=(--algo vmbpo) ;;",
    ] {
        assert!(script.contains(line), "scripts/mountain-car-seeds.sh no longer has `{line}`");
    }
    let out = root.join("results/mountain_car");
    let mut by_script = BTreeSet::new();
    for seed in 1..=10 {
        for learner in ["beta-vmbpo-eps10", "vmbpo", "beta-vmbpo-eps0.1", "beta-vmbpo-eps1"] {
            let dir = out.join(learner).join(format!("seed-{seed}"));
            let mut args: Vec<String> = [
                "--env",
                "mountain-car",
                "--preset",
                "mountain-car-cpu",
                "--steps",
                "25000",
                "--seed",
                &seed.to_string(),
                "--out",
                &dir.display().to_string(),
                "--force",
            ]
            .map(String::from)
            .to_vec();
            let extra = match learner {
                "vmbpo" => vec!["--algo".to_string(), "vmbpo".into()],
                "beta-vmbpo-eps10" => vec!["--algo".into(), "beta-vmbpo".into()],
                eps => {
                    let file = format!("epsilon-{}.json", eps.trim_start_matches("beta-vmbpo-eps"));
                    vec!["--algo".into(), "beta-vmbpo".into(), "--config".into(), out.join(file).display().to_string()]
                }
            };
            args.extend(extra);
            by_script.insert(as_map(&args));
        }
    }
    assert_eq!(by_script.len(), 40);

    // The grid's runs, with `out` made absolute as the script's is (the grid's `--config` files
    // are written by the runs, so their JSON is taken from the run itself).
    let text = std::fs::read_to_string(root.join("experiments/mountain_car.json")).expect("experiment");
    let mut value: Value = serde_json::from_str(&text).expect("JSON");
    value["out"] = Value::from(out.display().to_string());
    let experiment = Experiment::parse(&value.to_string(), "experiments/mountain_car.json").expect("valid");
    assert_eq!(experiment.runs().len(), 40);
    assert!(experiment.check_overrides().is_empty());
    let by_grid: BTreeSet<Args> = experiment
        .runs()
        .iter()
        .map(|run| {
            let mut args = run.train_args();
            if let Some(i) = args.iter().position(|a| a == "--config") {
                args.remove(i + 1);
                args.remove(i);
                let mut map = as_map(&args);
                map.insert("--config".into(), Value::Object(run.overrides.clone()).to_string());
                map
            } else {
                as_map(&args)
            }
        })
        .collect();
    assert_eq!(by_grid, by_script);
    // Seeds outermost: runs 0–3 are seed 1's four learners, in the order of the seed table.
    let first: Vec<String> = experiment.runs()[..4].iter().map(|r| r.learner.clone()).collect();
    assert_eq!(first, ["beta-vmbpo-eps10", "beta-vmbpo-eps1", "beta-vmbpo-eps0.1", "vmbpo"]);
    assert!(experiment.runs()[4..8].iter().all(|r| r.seed == 2));
}

#[test]
fn the_mujoco_grids_expand_or_name_the_missing_task() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, runs, first_task) in [
        ("experiments/fig5_gym.json", 3 * 4 * 5, "hopper"),
        ("experiments/fig7_ant.json", 4 * 5, "ant"),
        ("experiments/fig8_hopper_ablations.json", 8 * 5, "hopper"),
    ] {
        let path = root.join(file);
        match Experiment::load(&path) {
            Ok(experiment) => {
                assert_eq!(experiment.runs().len(), runs, "{file}");
                assert!(experiment.check_overrides().is_empty(), "{file}: {:?}", experiment.check_overrides());
            }
            Err(e) => {
                let message = e.to_string();
                assert!(message.contains("tasks[0]") && message.contains(first_task), "{file}: {message}");
                assert!(message.contains("MuJoCo") && !message.contains('\n'), "{file}: {message}");
            }
        }
        // Whatever the build: every variant's fields are fields of TrainConfig over the paper's.
        let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("file")).expect("JSON");
        for variant in value["variants"].as_array().into_iter().flatten() {
            let config = variant["config"].to_string();
            assert!(TrainConfig::from_json_str(&config, file).is_ok(), "{file}: {config}");
        }
    }
}
