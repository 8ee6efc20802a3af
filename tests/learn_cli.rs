//! `riskmdp learn`, end to end: the same seed prints the same bytes, the JSON report has the
//! keys the figures read, and bad input gets one line on stderr, exit status 2, no panic.

mod process;

use process::{assert_clean_failure, riskmdp};

use serde_json::Value;

const RUN: [&str; 9] = ["learn", "--env", "cliff", "--algo", "beta-vmbpo", "--episodes", "30", "--seed", "5"];

#[test]
fn the_same_seed_prints_the_same_bytes_and_another_seed_does_not() {
    for json in [false, true] {
        let mut args = RUN.to_vec();
        if json {
            args.push("--json");
        }
        let (a, b) = (riskmdp(&args), riskmdp(&args));
        assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
        assert_eq!(a.stdout, b.stdout);
        args[8] = "6";
        assert_ne!(a.stdout, riskmdp(&args).stdout);
    }
}

#[test]
fn the_json_report_has_the_keys_the_figures_read() {
    let mut args = RUN.to_vec();
    args.extend(["--beta0", "7", "--json"]);
    let out = riskmdp(&args);
    let report: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    for key in ["episodes", "returns", "betas", "kls", "final_return", "final_beta", "final_greedy", "v_star"] {
        assert!(report.get(key).is_some(), "missing `{key}`");
    }
    // The cliff's preset is Fig. 3's: measured every 30 episodes (0, 30), ε = 0.001.
    assert_eq!(report["episodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(report["config"]["epsilon"].as_f64(), Some(0.001));
    assert_eq!(report["betas"][0].as_f64(), Some(7.0)); // --beta0 reached the learner
}

#[test]
fn bad_input_gets_one_line_and_status_2() {
    assert_clean_failure(&["learn", "--env", "no-such.json", "--algo", "vmbpo"], "no-such.json");
    assert_clean_failure(&["learn", "--env", "risky-arm", "--algo", "mnm"], "rewards");
    assert_clean_failure(&["learn", "--env", "cliff", "--algo", "beta-vmbpo", "--beta-lr", "-1"], "beta_lr");
    // A learner without a dual refuses its flags; a typo of an environment lists the names.
    for flag in ["--beta0", "--epsilon", "--beta-lr"] {
        assert_clean_failure(&["learn", "--env", "cliff", "--algo", "vmbpo", flag, "1"], flag);
        assert_clean_failure(&["learn", "--env", "cliff", "--algo", "q-learning", flag, "1"], "only `beta-vmbpo`");
    }
    assert_clean_failure(&["learn", "--env", "clif", "--algo", "vmbpo"], "risky-arm, cliff, mnm");
    assert_clean_failure(&["learn", "--env", "cliff", "--algo", "vmbpo", "--episodes", "0"], "episodes");
    let dir = std::env::temp_dir().join(format!("riskmdp-learn-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("config.json");
    std::fs::write(&config, "{ \"critic_rate\": 0.1 }").expect("written");
    let path = config.to_string_lossy().to_string();
    assert_clean_failure(&["learn", "--env", "cliff", "--algo", "vmbpo", "--config", &path], "critic_rate");
    // A run that would train nothing is refused.
    for field in ["critic_updates", "rollouts"] {
        std::fs::write(&config, format!("{{ \"{field}\": 0 }}")).expect("written");
        assert_clean_failure(&["learn", "--env", "cliff", "--algo", "vmbpo", "--config", &path], field);
    }
}
