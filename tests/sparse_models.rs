//! Sparse transition models: the `[s', p]` file form, automatic sparse storage, and the same
//! answers as dense storage.

use riskmdp::{Beta, Error, Method, SolveOptions, TabularMdp, solve_optimal};
use serde_json::{Value, json};

fn risky_arm() -> Value {
    serde_json::from_str(include_str!("../examples/mdps/risky_arm.json")).expect("valid JSON")
}

/// The risky arm with every row written as [next state, probability] pairs.
fn risky_arm_sparse() -> Value {
    let mut v = risky_arm();
    let rows = v["transitions"].as_array().unwrap().clone();
    v["transitions"] = Value::from(
        rows.iter()
            .map(|block| {
                Value::from(
                    block
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|row| {
                            Value::from(
                                row.as_array()
                                    .unwrap()
                                    .iter()
                                    .enumerate()
                                    .filter(|(_, p)| p.as_f64().unwrap() > 0.0)
                                    .map(|(j, p)| json!([j, p]))
                                    .collect::<Vec<_>>(),
                            )
                        })
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    );
    v
}

fn load(v: &Value) -> Result<TabularMdp, Error> {
    TabularMdp::from_json_str(&v.to_string(), "sparse.json")
}

#[test]
fn sparse_and_dense_files_give_the_same_solution() {
    let dense = load(&risky_arm()).unwrap();
    let sparse = load(&risky_arm_sparse()).unwrap();
    assert!(!dense.is_sparse() && sparse.is_sparse());
    assert_eq!(sparse.nonzeros(), dense.nonzeros());
    for beta in [1e-3, 1.0, 1e7] {
        let b = Beta::new(beta).unwrap();
        let a = solve_optimal(&dense, b, Method::ValueIteration, SolveOptions::default()).unwrap().q0();
        let c = solve_optimal(&sparse, b, Method::PolicyIteration, SolveOptions::default()).unwrap().q0();
        for (x, y) in a.iter().zip(c.iter()) {
            assert!((x - y).abs() <= 1e-14 * x.abs().max(1e-300), "β = {beta}: {x} vs {y}");
        }
    }
    // Saved sparse models stay sparse and load back identically.
    let text = sparse.to_json_string();
    assert!(text.contains("[\n"), "pairs are written");
    let back = TabularMdp::from_json_str(&text, "x.json").unwrap();
    assert!(back.is_sparse());
    assert_eq!(back.to_json_string(), text);
}

#[test]
fn rows_may_mix_the_two_forms() {
    let mut v = risky_arm();
    v["transitions"][0][1] = json!([[1, 0.9], [2, 0.1]]);
    let mdp = load(&v).unwrap();
    assert!(mdp.is_sparse());
    assert!((mdp.transition(0, 1, 1) - 0.9).abs() < 1e-15);
    assert!(mdp.transition(0, 1, 3).abs() < 1e-300);
}

#[test]
fn sparse_rows_are_validated() {
    let mut v = risky_arm_sparse();
    v["transitions"][0][1] = json!([[1, 0.9], [7, 0.1]]);
    let err = load(&v).unwrap_err();
    assert!(matches!(&err, Error::InvalidParameter { name, .. } if name == "transitions[0][1][1]"), "{err}");
    assert!(err.to_string().contains("next state 7 does not exist"), "{err}");
    v["transitions"][0][1] = json!([[1, 0.9], [1, 0.1]]);
    assert!(load(&v).unwrap_err().to_string().contains("listed twice"));
    v["transitions"][0][1] = json!([[1, 0.8], [2, 0.1]]);
    let err = load(&v).unwrap_err();
    assert!(matches!(&err, Error::NotADistribution { field, .. } if field == "transitions[0][1]"), "{err}");
    assert!(err.to_string().contains("state `S`, action `right`"));
    v["transitions"][0][1] = json!([[1, "x"]]);
    assert!(load(&v).unwrap_err().to_string().contains("[next state, probability] pairs"));
}

#[test]
fn large_mostly_zero_dense_input_is_stored_sparse() {
    // A 600-state ring: each action moves one step (left or right) w.p. 0.9, stays w.p. 0.1.
    let n = 600;
    let transitions: Vec<Vec<Vec<f64>>> = (0..n)
        .map(|s| {
            [n - 1, 1]
                .iter()
                .map(|&d| {
                    let mut row = vec![0.0; n];
                    row[(s + d) % n] = 0.9;
                    row[s] += 0.1;
                    row
                })
                .collect()
        })
        .collect();
    let mdp = TabularMdp::new(riskmdp::MdpSpec {
        name: "ring".into(),
        state_names: None,
        action_names: None,
        gamma: 0.9,
        horizon: None,
        initial: None,
        terminal: None,
        transitions: transitions.into(),
        rewards: (0..n).map(|s| vec![if s == n / 2 { 1.0 } else { 0.0 }; 2]).collect(),
        grid: None,
    })
    .unwrap();
    assert!(mdp.is_sparse());
    assert_eq!(mdp.nonzeros(), 2 * n * 2);
    let sol = riskmdp::value_iteration(&mdp, Beta::new(0.5).unwrap(), SolveOptions::default()).unwrap();
    // State 0 is opposite the rewarding state n/2: both ways round are mirror images, so the
    // two actions tie (to rounding) and the greedy action is the lowest index, 0.
    assert!(sol.v[n / 2] > sol.v[0]);
    let (left, right) = (sol.q[[0, 0]], sol.q[[0, 1]]);
    assert!((left - right).abs() <= riskmdp::tolerance::TIE * left.abs(), "{left} vs {right}");
    assert_eq!(sol.greedy[0], 0);
    // Near the reward the short way wins: 5 steps against 595.
    assert_eq!(sol.greedy[n / 2 - 5], 1);
    assert_eq!(sol.greedy[n / 2 + 5], 0);
    // From state 1 the ways differ by ~γ^299 ≈ 2e-14 of the values, inside the tie margin: a
    // near-tie, so again the lowest index.
    assert!((sol.q[[1, 0]] - sol.q[[1, 1]]).abs() <= riskmdp::tolerance::TIE * sol.q[[1, 1]].abs());
    assert_eq!(sol.greedy[1], 0);
}

#[test]
fn the_cli_solves_a_large_sparse_gridworld_file() {
    // 100×100 cliff world (10 001 states, stored sparse), written in the sparse file form.
    let mdp = riskmdp::envs::Gridworld::cliff_scaled(100).unwrap().build().unwrap();
    assert!(mdp.is_sparse());
    let dir = std::env::temp_dir().join(format!("riskmdp-sparse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("grid100.json");
    mdp.save(&path).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_riskmdp")).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let file = path.to_str().unwrap();
    let out = run(&["solve", file, "--beta", "0.5", "--tol", "1e-8", "--json"]);
    let lib = riskmdp::value_iteration(&mdp, Beta::new(0.5).unwrap(), SolveOptions::default().tol(1e-8)).unwrap();
    assert!((out["v"][0].as_f64().unwrap() - lib.v[0]).abs() <= 1e-12 * lib.v[0].abs());
    // Posterior rows come back as [next state, probability] pairs summing to 1.
    let row = out["posterior_dynamics"][0][1].as_array().unwrap();
    assert!(row.len() <= 5);
    let total: f64 = row.iter().map(|pair| pair[1].as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-12);
    assert!(out["expected_return"][0].as_f64().unwrap().is_finite());
    let sweep =
        run(&["sweep", file, "--beta-min", "0.5", "--beta-max", "50", "--points", "3", "--tol", "1e-8", "--json"]);
    assert_eq!(sweep["points"].as_array().unwrap().len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plots_and_dual_refuse_or_handle_large_grids_cleanly() {
    let mdp = riskmdp::envs::Gridworld::cliff_scaled(60).unwrap().build().unwrap();
    let dir = std::env::temp_dir().join(format!("riskmdp-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("grid60.json");
    mdp.save(&path).unwrap();
    let png = dir.join("grid60.png");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_riskmdp"))
        .args(["solve", path.to_str().unwrap(), "--beta", "1", "--plot", png.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("too many cells to draw"));
    assert!(!png.exists(), "no partial file");
    // The dual works row by row (no S×A×S tensor), and gives KL_β as computed here by hand from
    // the solver's V*: per greedy pair q_j ∝ p_j·e^{V_j} over the row's support and
    // KL = Σ q_j·ln(q_j/p_j), weighted by the greedy policy's discounted occupancy from the
    // start, μ = Σ_t γ^t·ρ·P_π^t (a power series, not the crate's linear solve).
    let beta = Beta::new(1.0).unwrap();
    let kl = riskmdp::dual::kl_at(&mdp, beta, Default::default(), Default::default()).unwrap();
    let sol = riskmdp::value_iteration(&mdp, beta, SolveOptions::default()).unwrap();
    let pair_kl = |s: usize| {
        let row: Vec<(usize, f64)> = mdp.row(s, sol.greedy[s]).iter().collect();
        let m = row.iter().map(|&(j, _)| sol.v[j]).fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = row.iter().map(|&(j, p)| p * (sol.v[j] - m).exp()).sum();
        row.iter()
            .map(|&(j, p)| p * (sol.v[j] - m).exp() / z)
            .zip(&row)
            .map(|(q, &(_, p))| q * (q / p).ln())
            .sum::<f64>()
    };
    let live = |s: usize| !mdp.is_terminal(s);
    let mut flow: Vec<f64> = mdp.initial().to_vec();
    let mut mu = flow.clone();
    for _ in 0..10_000 {
        let mut next = vec![0.0; mdp.n_states()];
        for s in (0..mdp.n_states()).filter(|&s| live(s) && flow[s] > 0.0) {
            for (j, p) in mdp.row(s, sol.greedy[s]).iter().filter(|&(j, _)| live(j)) {
                next[j] += mdp.gamma() * flow[s] * p;
            }
        }
        let added: f64 = next.iter().sum();
        mu.iter_mut().zip(&next).for_each(|(m, x)| *m += x);
        flow = next;
        if added <= 1e-16 * mu.iter().sum::<f64>() {
            break;
        }
    }
    let (weighted, total) = (0..mdp.n_states())
        .filter(|&s| live(s) && mu[s] > 0.0)
        .fold((0.0, 0.0), |(w, t), s| (w + mu[s] * pair_kl(s), t + mu[s]));
    let by_hand = weighted / total;
    // Small (the rewarding goal is far from the start and discounted) but not zero: a clamp to
    // 0 would fail here.
    assert!(by_hand > 1e-10, "the posterior moves away from P on this grid: {by_hand:e}");
    // KL_β is dominated by cells near the goal, whose occupancy is tiny: the crate's series for
    // large models stops once the added mass is below 1e-13 of the total, so its weights are
    // accurate to ~1e-12 of the total mass, and KL_β to ~1e-12 of the largest per-pair KL.
    let max_kl = (0..mdp.n_states()).filter(|&s| live(s)).map(pair_kl).fold(0.0, f64::max);
    assert!((kl - by_hand).abs() <= 1e-11 * max_kl, "kl_at {kl:e} vs by hand {by_hand:e} (max KL {max_kl:e})");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn row_by_row_kl_equals_the_dense_kl() {
    let mdp = load(&risky_arm()).unwrap();
    let v = [-2.3, -10.0, 0.0, 0.0, 0.0, 0.0];
    let dense = riskmdp::utility::kl_per_pair(
        &mdp,
        &riskmdp::operators::posterior_dynamics(&mdp, ndarray::ArrayView1::from(&v)),
    );
    let rows = riskmdp::utility::kl_of_posterior_dynamics(&mdp, &v);
    assert!(dense[[0, 1]] > 0.1);
    for (a, b) in dense.iter().zip(rows.iter()) {
        assert!((a - b).abs() < 1e-15, "{a} vs {b}");
    }
}
