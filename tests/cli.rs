//! The `riskmdp` command line, end to end: the numbers it prints are the closed forms, and
//! every bad input gets one line on stderr, exit status 2, and no panic.

use std::path::PathBuf;
mod process;

use std::process::Command;

use process::{assert_clean_failure, riskmdp};

use serde_json::Value;

const ARM: &str = "examples/mdps/risky_arm.json";

fn json_of(args: &[&str]) -> Value {
    let out = riskmdp(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("riskmdp-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn solve_prints_the_risky_arm_closed_forms() {
    for beta in [1e-3f64, 1.0, 2.0, 1e3, 1e7] {
        let b = beta.to_string();
        let out = json_of(&["solve", ARM, "--beta", &b, "--json"]);
        let q = &out["q"][0];
        let left = -5.0 / beta;
        // Q(S,right) = log(0.9 e^{−10/β} + 0.1) = log1p(0.9·expm1(−10/β)): this form keeps full
        // relative precision at β = 1e7, where log(0.1) + log1p(9 e^{−10/β}) cancels 9 digits.
        let right = (0.9 * (-10.0 / beta).exp_m1()).ln_1p();
        assert!((q[0].as_f64().unwrap() - left).abs() <= 1e-12 * left.abs(), "β = {beta}");
        assert!((q[1].as_f64().unwrap() - right).abs() <= 1e-12 * right.abs(), "β = {beta}");
        let v = left.max(right);
        assert!((out["certainty_equivalent"][0].as_f64().unwrap() - beta * v).abs() <= 1e-12 * (beta * v).abs());
        let risky = beta < 5.0 / 9f64.ln();
        assert_eq!(out["greedy"][0], if risky { 1 } else { 0 });
        // Expected return of the greedy policy: 0.9·(−10) on the risky arm, −5 on the safe one.
        let expected = out["expected_return"][0].as_f64().unwrap();
        assert!((expected - if risky { -9.0 } else { -5.0 }).abs() < 1e-12);
        let q_a = 0.9 * (-10.0 / beta).exp() / (0.9 * (-10.0 / beta).exp() + 0.1);
        assert!((out["posterior_dynamics"][0][1][1].as_f64().unwrap() - q_a).abs() < 1e-12);
        for key in ["beta", "v", "posterior_policy", "iterations", "residual", "error_bound", "termination"] {
            assert!(!out[key].is_null(), "missing {key}");
        }
    }
}

#[test]
fn solve_evaluates_a_given_policy_and_both_methods_agree() {
    let policy = temp_file("left.json", "[[1, 0], [1, 0], [1, 0], [1, 0], [1, 0], [1, 0]]");
    let out = json_of(&["solve", ARM, "--beta", "1", "--policy", policy.to_str().unwrap(), "--json"]);
    assert!((out["v"][0].as_f64().unwrap() + 5.0).abs() < 1e-12);
    let vi = json_of(&["solve", ARM, "--beta", "0.7", "--json"]);
    let pi = json_of(&["solve", ARM, "--beta", "0.7", "--method", "policy-iteration", "--json"]);
    for s in 0..6 {
        // Relative to the values themselves (V(B) and the terminal values are exactly 0).
        let (a, b) = (vi["v"][s].as_f64().unwrap(), pi["v"][s].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-12 * a.abs().max(b.abs()), "state {s}: {a} vs {b}");
    }
}

#[test]
fn finite_horizon_output_is_time_indexed() {
    let mut model: Value = serde_json::from_str(
        &std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(ARM)).unwrap(),
    )
    .unwrap();
    model["horizon"] = Value::from(1);
    let path = temp_file("arm_h1.json", &model.to_string());
    let out = json_of(&["solve", path.to_str().unwrap(), "--beta", "1", "--json"]);
    // With one step, Q_0(S,·) is just the reward: nothing after it counts.
    assert_eq!(out["q"].as_array().unwrap().len(), 1);
    assert!((out["q"][0][0][0].as_f64().unwrap() + 5.0).abs() < 1e-15);
    assert!(out["q"][0][0][1].as_f64().unwrap().abs() < 1e-15);
    model["horizon"] = Value::from(2);
    let path = temp_file("arm_h2.json", &model.to_string());
    let out = json_of(&["solve", path.to_str().unwrap(), "--beta", "1", "--json"]);
    assert_eq!(out["q"].as_array().unwrap().len(), 2);
    assert_eq!(out["greedy"].as_array().unwrap().len(), 2);
    assert_eq!(out["posterior_dynamics"][0][0][1].as_array().unwrap().len(), 6);
    assert!((out["q"][1][0][1].as_f64().unwrap()).abs() < 1e-15, "Q_1 sees one step");
    assert!((out["q"][0][0][1].as_f64().unwrap() - (0.9 * (-10f64).exp() + 0.1).ln()).abs() < 1e-12);
    // A time-dependent policy file is accepted with a horizon.
    let policy = temp_file("td.json", &serde_json::json!([vec![[1, 0]; 6], vec![[0, 1]; 6]]).to_string());
    let out =
        json_of(&["solve", path.to_str().unwrap(), "--beta", "1", "--policy", policy.to_str().unwrap(), "--json"]);
    assert!((out["v"][0][0].as_f64().unwrap() + 5.0).abs() < 1e-12);
}

#[test]
fn sweep_finds_the_exact_switch() {
    let out = json_of(&["sweep", ARM, "--beta-min", "0.1", "--beta-max", "100", "--points", "7", "--json"]);
    let switches = out["switches"].as_array().unwrap();
    assert_eq!(switches.len(), 1);
    let beta = switches[0]["beta"].as_f64().unwrap();
    let exact = 5.0 / 9f64.ln();
    assert!((beta - exact).abs() < 1e-10 * exact, "{beta} vs {exact}");
    assert_eq!((switches[0]["from"].as_u64(), switches[0]["to"].as_u64()), (Some(1), Some(0)));
    assert_eq!(out["points"].as_array().unwrap().len(), 7);
    let text = String::from_utf8(riskmdp(&["sweep", ARM, "--points", "5"]).stdout).unwrap();
    assert!(text.contains("greedy switches from `right` to `left` at β = 2.2755980665"), "{text}");
}

/// KL(q_β(·|S,right) ‖ P(·|S,right)) of the risky arm in closed form: q(A) = 0.9·e^{−10/β} /
/// (0.9·e^{−10/β} + 0.1) (Eq. 4), q(B) = 1 − q(A). Every other pair is deterministic (KL 0).
/// Written with δ = q(A) − 0.9 = 0.09·expm1(−10/β)/(0.9·e^{−10/β} + 0.1) and log1p, so that the
/// two O(δ) terms cancel to the O(δ²) result without losing more than ~1e-16/δ of it.
fn kl_right(beta: f64) -> f64 {
    let w = 0.9 * (-10.0 / beta).exp();
    let delta = 0.09 * (-10.0 / beta).exp_m1() / (w + 0.1);
    let (qa, qb) = (w / (w + 0.1), 0.1 / (w + 0.1));
    let term = |q: f64, relative_change: f64| if q > 0.0 { q * relative_change.ln_1p() } else { 0.0 }; // 0·log 0 = 0
    term(qa, delta / 0.9) + term(qb, -delta / 0.1)
}

#[test]
fn dual_roots_satisfy_the_constraint() {
    // Uniform weights over the 6 non-terminal pairs (S, A, B × left, right):
    // KL_β = kl_right(β)/6, continuous and decreasing in β.
    let out = json_of(&[
        "dual",
        ARM,
        "--epsilon",
        "0.05",
        "--weights",
        "uniform",
        "--points",
        "40",
        "--beta0",
        "1",
        "--lr",
        "20",
        "--steps",
        "60",
        "--json",
    ]);
    let roots = out["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 1, "{out}");
    assert_eq!(out["stable_roots"], out["roots"]);
    // The root of kl_right(β)/6 = 0.05, found here independently of the crate: kl_right
    // decreases in β, so halve [1, 100] (kl_right(1)/6 ≈ 0.38 > ε > kl_right(100)/6).
    let (mut lo, mut hi) = (1.0f64, 100.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if kl_right(mid) / 6.0 > 0.05 { lo = mid } else { hi = mid }
    }
    let root = roots[0].as_f64().unwrap();
    assert!((root - lo).abs() <= 1e-9 * lo, "root {root}, closed form {lo}");
    assert_eq!(out["trajectory"].as_array().unwrap().len(), 61);
    let last = out["beta"].as_f64().unwrap();
    assert!((last - root).abs() < 1e-3 * root, "dual descent ends at {last}, root {root}");
    assert_eq!(out["kl_curve"].as_array().unwrap().len(), 40);
    for point in out["kl_curve"].as_array().unwrap() {
        let (beta, kl) = (point[0].as_f64().unwrap(), point[1].as_f64().unwrap());
        let exact = kl_right(beta) / 6.0;
        assert!((kl - exact).abs() <= 1e-9 * exact, "KL at β = {beta}: {kl} vs {exact}");
    }

    // Occupancy weights: below β* = 5/ln 9 the greedy policy gambles; its occupancy from S is
    // d(S,right) = 1, d(A,·) = 0.9, d(B,·) = 0.1 (Σ d = 2), so KL_β = kl_right(β)/2, which at
    // β* is (0.1·ln(1/9) + 0.9·ln 9)/2 = 0.4·ln 9 ≈ 0.879 (q(A) = 0.1 there). Above β* the policy
    // takes the sure `left` and KL_β = 0: a jump across ε, not a root.
    let out = json_of(&["dual", ARM, "--epsilon", "0.05", "--points", "40", "--json"]);
    assert!(out["roots"].as_array().unwrap().is_empty(), "{out}");
    let jump = out["jumps"][0]["beta"].as_f64().unwrap();
    let switch = 5.0 / 9f64.ln();
    assert!((jump - switch).abs() < 1e-9, "{jump}");
    assert_eq!(out["jumps"][0]["stable"], true);
    assert!((kl_right(switch) / 2.0 - 0.4 * 9f64.ln()).abs() < 1e-12);
    for point in out["kl_curve"].as_array().unwrap() {
        let (beta, kl) = (point[0].as_f64().unwrap(), point[1].as_f64().unwrap());
        let exact = if beta < switch { kl_right(beta) / 2.0 } else { 0.0 };
        assert!((kl - exact).abs() <= 1e-9 * exact, "KL at β = {beta}: {kl} vs {exact}");
    }
}

#[test]
fn bad_inputs_fail_cleanly() {
    assert_clean_failure(&["solve", "no/such/file.json", "--beta", "1"], "no/such/file.json");
    let broken = temp_file("broken.json", "{ \"states\": 2, ");
    assert_clean_failure(&["solve", broken.to_str().unwrap(), "--beta", "1"], "broken.json");
    for beta in ["0", "-1", "nan", "inf"] {
        assert_clean_failure(&["solve", ARM, "--beta", beta], "beta");
    }
    assert_clean_failure(&["solve", ARM, "--beta", "1", "--tol", "0"], "tol");
    assert_clean_failure(&["solve", ARM, "--beta", "1", "--method", "magic"], "magic");
    let bad_policy = temp_file("bad_policy.json", "[[0.5, 0.6], [1, 0], [1, 0], [1, 0], [1, 0], [1, 0]]");
    assert_clean_failure(&["solve", ARM, "--beta", "1", "--policy", bad_policy.to_str().unwrap()], "state `S`");
    let row = temp_file(
        "row.json",
        &std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(ARM))
            .unwrap()
            .replace("0.9, 0.1", "0.87, 0.1"),
    );
    assert_clean_failure(
        &["solve", row.to_str().unwrap(), "--beta", "1"],
        "transitions[0][1] (state `S`, action `right`): row sums to 0.97",
    );
    assert_clean_failure(&["sweep", ARM, "--beta-min", "10", "--beta-max", "1"], "beta range");
    assert_clean_failure(&["sweep", ARM, "--points", "1"], "points");
    assert_clean_failure(&["sweep", ARM, "--state", "Q"], "--state");
    assert_clean_failure(&["dual", ARM, "--epsilon", "-1"], "epsilon");
    assert_clean_failure(&["dual", ARM, "--epsilon", "0.1", "--beta0", "0"], "beta0");
    let looping = temp_file(
        "loop.json",
        r#"{"states": 2, "actions": 1, "gamma": 1, "terminal": [false, true],
            "transitions": [[[0.5, 0.5]], [[0, 1]]], "rewards": [[1], [0]]}"#,
    );
    assert_clean_failure(&["solve", looping.to_str().unwrap(), "--beta", "1"], "infinite");
    let out = riskmdp(&["solve", looping.to_str().unwrap(), "--beta", "2"]);
    assert!(out.status.success());
}

#[test]
fn bench_reports_the_sweep_against_the_floor() {
    let out = json_of(&["bench", "--states", "64", "--actions", "3", "--reps", "3", "--json"]);
    for key in ["sweep_ms", "floor_ms", "floor_fraction", "bytes_per_sweep", "iterations", "solve_ms", "plain_sweep_ms"]
    {
        assert!(out[key].as_f64().is_some_and(f64::is_finite), "{key}: {}", out[key]);
    }
    assert_eq!(out["bytes_per_sweep"].as_u64(), Some(64 * 3 * 64 * 8));
    assert_eq!(out["sparse"], false);
    let out = json_of(&["bench", "--grid", "12", "--reps", "2", "--json"]);
    assert_eq!(out["states"].as_u64(), Some(12 * 12 + 1));
    assert!(out["iterations"].as_u64().unwrap() > 10);
    assert_clean_failure(&["bench", "--states", "0"], "states");
    assert_clean_failure(&["bench", "--grid", "3"], "grid");
    assert_clean_failure(&["bench", "--grid", "20", "--states", "10"], "cannot be used with");
    // Counts that would allocate terabytes or run for days are refused up front.
    assert_clean_failure(&["bench", "--reps", "100000000000"], "reps");
    assert_clean_failure(&["bench", "--states", "100000000"], "S²·A");
    assert_clean_failure(&["bench", "--grid", "100000000"], "grid");
    assert_clean_failure(&["verify", "--cases", "100000000000"], "cases");
    for steps in ["100000000000", "18446744073709551615"] {
        assert_clean_failure(&["dual", ARM, "--epsilon", "0.1", "--beta0", "1", "--steps", steps], "steps");
    }
}

/// `--json` is the library's report, field for field, and the text table prints the report's
/// numbers: nothing is computed in the command line.
#[test]
fn the_cli_prints_the_library_reports() {
    use riskmdp::report;
    use riskmdp::{Beta, Method, SolveOptions, TabularMdp};
    let mdp = TabularMdp::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(ARM)).unwrap();
    let solved = report::solve(&mdp, Beta::new(0.7).unwrap(), None, Method::ValueIteration, SolveOptions::default())
        .unwrap()
        .report;
    assert_eq!(json_of(&["solve", ARM, "--beta", "0.7", "--json"]), serde_json::to_value(&solved).unwrap());
    let swept = report::sweep(&mdp, Some("S"), (0.1, 100.0, 9), SolveOptions::default()).unwrap();
    let args = ["sweep", ARM, "--beta-min", "0.1", "--beta-max", "100", "--points", "9", "--state", "S", "--json"];
    assert_eq!(json_of(&args), serde_json::to_value(&swept).unwrap());
    let dual = report::dual(
        &mdp,
        0.05,
        riskmdp::utility::KlWeights::Uniform,
        (1e-3, 1e7, 30),
        None,
        SolveOptions::default().tol(1e-10),
    )
    .unwrap();
    let args = ["dual", ARM, "--epsilon", "0.05", "--weights", "uniform", "--points", "30", "--json"];
    assert_eq!(json_of(&args), serde_json::to_value(&dual).unwrap());

    // The table: every β·V, E[return] and β·Q cell of a non-terminal state is the report's
    // number as printed with 6 decimals.
    let text = String::from_utf8(riskmdp(&["solve", ARM, "--beta", "0.7"]).stdout).unwrap();
    let (ce, ce_q) = (solved.certainty_equivalent.first(), solved.certainty_equivalent_q.first());
    for (s, line) in text.lines().skip(3).take(3).enumerate() {
        let cells: Vec<f64> = line.split_whitespace().filter_map(|c| c.parse().ok()).collect();
        let expected = [solved.v.first()[s], ce[s], solved.expected_return[s], ce_q[s][0], ce_q[s][1]];
        assert_eq!(cells.len(), expected.len(), "{line}");
        for (printed, exact) in cells.iter().zip(expected) {
            assert!((printed - exact).abs() <= 5e-7, "{line}: {printed} vs {exact}");
        }
    }
}

/// A reader that stops early (`riskmdp … | head -1`) is not an error: no panic, no message.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    // A 2000-point sweep prints ~200 kB, more than a pipe holds.
    let mut child = Command::new(env!("CARGO_BIN_EXE_riskmdp"))
        .args(["sweep", "examples/mdps/cliff_gridworld.json", "--state", "5", "--points", "2000"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut first = [0u8; 16];
    child.stdout.take().expect("piped").read_exact(&mut first).expect("some output");
    // Dropping the read end closes the pipe, as `head` does.
    let out = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(out.status.code(), Some(0));
}

/// A persistent tie the sweep cannot certify is printed, not hidden. Action `a` pays 2 or 0
/// (½ each), action `b` pays 1 now and then 1 or −1 (½ each): the same gamble shifted, so
/// C_a(β) = C_b(β) = 1 + β·ln cosh(1/β) at every β, computed two ways (rounding apart). `a`
/// wins every tie (the lower index); that `b` never gets ahead by more than the tie margin
/// inside an interval cannot be proved from the values at its ends, so the sweep says so.
#[test]
fn sweep_prints_the_intervals_where_it_cannot_exclude_a_hidden_switch() {
    let model = r#"{ "name": "shifted-gamble", "states": ["D", "a2", "a0", "b1", "bm1", "T"],
        "actions": ["a", "b"], "gamma": 1.0, "terminal": [false, false, false, false, false, true],
        "transitions": [
          [[0, 0.5, 0.5, 0, 0, 0], [0, 0, 0, 0.5, 0.5, 0]],
          [[0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1]], [[0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1]],
          [[0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1]], [[0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1]],
          [[0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1]] ],
        "rewards": [[0, 1], [2, 2], [0, 0], [1, 1], [-1, -1], [0, 0]] }"#;
    let path = temp_file("shifted-gamble.json", model);
    let path = path.to_str().expect("UTF-8 path");
    let out = riskmdp(&["sweep", path, "--beta-min", "0.5", "--beta-max", "50", "--points", "5"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cannot exclude a hidden switch from `a` to `b` and back"), "{text}");
    let report = json_of(&["sweep", path, "--beta-min", "0.5", "--beta-max", "50", "--points", "5", "--json"]);
    let unresolved = report["unresolved"].as_array().expect("a list");
    assert!(!unresolved.is_empty() && report["switches"].as_array().is_some_and(Vec::is_empty), "{report}");
    assert_eq!((unresolved[0]["greedy"].as_u64(), unresolved[0]["rival"].as_u64()), (Some(0), Some(1)));
}
