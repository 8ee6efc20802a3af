//! `riskmdp verify`: the table, exit codes (1 only for a failed theorem, 2 for bad input), and
//! counterexamples that `riskmdp solve` reads back.
use std::process::Command;

fn riskmdp(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_riskmdp")).args(args).output().expect("run riskmdp")
}

#[test]
fn verify_prints_a_table_and_exits_zero() {
    let out = riskmdp(&["verify", "--claim", "figure-1", "--cases", "5"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("figure-1") && text.contains("theorem") && text.contains("worst violation"), "{text}");
}

#[test]
fn verify_json_lists_claims() {
    let out = riskmdp(&["verify", "--claim", "eq-6-7", "--cases", "3", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["claims"][0]["claim"], "eq-6-7");
    assert_eq!(v["claims"][0]["passed"], 3);
    assert_eq!(v["theorems_hold"], true);
    assert_eq!(v["claims"][0]["failed_checks"], serde_json::json!([]));
}

#[test]
fn unknown_claim_exits_two() {
    assert_eq!(riskmdp(&["verify", "--claim", "theorem-9.9"]).status.code(), Some(2));
}

#[test]
fn failed_theorem_exits_one_and_saves_a_model_solve_reads_back() {
    let dir = std::env::temp_dir().join(format!("riskmdp-cli-verify-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let out = riskmdp(&[
        "verify",
        "--claim",
        "lemma-4.1",
        "--cases",
        "2",
        "--operators",
        "mean-instead-of-max",
        "--save-counterexamples",
        d,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("lemma-4.1-0.case.json")).unwrap()).unwrap();
    let beta = sidecar["beta"].as_f64().unwrap().to_string();
    let model = dir.join("lemma-4.1-0.json");
    let solved = riskmdp(&["solve", model.to_str().unwrap(), "--beta", &beta]);
    assert_eq!(solved.status.code(), Some(0), "{}", String::from_utf8_lossy(&solved.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn failed_probe_does_not_change_the_exit_code() {
    let dir = std::env::temp_dir().join(format!("riskmdp-cli-probe-{}", std::process::id()));
    let out = riskmdp(&[
        "verify",
        "--claim",
        "dual-kl-monotone",
        "--cases",
        "25",
        "--save-counterexamples",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    // Seed 0 case 20 is a counterexample (see docs/theory.md).
    assert!(dir.join("dual-kl-monotone-20.json").exists(), "{}", String::from_utf8_lossy(&out.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_same_seed_prints_the_same_bytes() {
    for extra in [&[][..], &["--json"][..]] {
        let args = |seed: &'static str| {
            let mut a = vec!["verify", "--cases", "4", "--seed", seed];
            a.extend_from_slice(extra);
            a
        };
        let first = riskmdp(&args("7"));
        let again = riskmdp(&args("7"));
        assert_eq!(first.status.code(), Some(0));
        assert_eq!(first.stdout, again.stdout, "verify --seed 7 {extra:?} printed different bytes");
        // … and the seed matters: another seed draws other cases, with other worst violations.
        assert_ne!(first.stdout, riskmdp(&args("8")).stdout, "the seed changed nothing");
    }
}

#[test]
fn operators_list_names_every_planted_bug() {
    let out = riskmdp(&["verify", "--operators", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    for (name, _) in riskmdp::verify::operators::catalog() {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert!(names.contains(&"exact") && names.contains(&"nan"));
    let text = String::from_utf8(riskmdp(&["verify", "--operators", "list"]).stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with("expanding-backup") && l.contains("contraction")), "{text}");
    let unknown = riskmdp(&["verify", "--operators", "no-such-bug"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("--operators list"));
}

/// With the solver comparison off, what fails is the property itself: an expanding backup
/// breaks Theorem 4.1's contraction, a greedy step that picks the worst action breaks the
/// improvement of Theorem 4.2 — and the exact operators pass.
#[test]
fn property_only_runs_name_the_failing_sub_check() {
    let run = |ops: &str, claim: &str| {
        let out =
            riskmdp(&["verify", "--claim", claim, "--cases", "6", "--operators", ops, "--property-only", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), v)
    };
    let (code, v) = run("expanding-backup", "theorem-4.1");
    assert_eq!(code, Some(1));
    assert_eq!(v["property_only"], true);
    let failed = v["claims"][0]["failed_checks"].as_array().unwrap();
    assert!(failed.contains(&serde_json::json!("contraction")), "{failed:?}");
    assert!(!failed.contains(&serde_json::json!("equals-solver")), "{failed:?}");
    let (code, v) = run("greedy-worst", "theorem-4.2-discounted");
    assert_eq!(code, Some(1));
    assert!(v["claims"][0]["failed_checks"].as_array().unwrap().contains(&serde_json::json!("improvement")));
    let (code, v) = run("exact", "theorem-4.1");
    assert_eq!(code, Some(0));
    assert_eq!(v["claims"][0]["failed_checks"], serde_json::json!([]));
}
