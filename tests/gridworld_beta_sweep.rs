//! The β sweep of a 4×4 cliff gridworld: `β·V*_β(s)` is non-increasing in β in every cell
//! (a theorem: see `riskmdp::verify::claims::beta_limits`), and the greedy action at the start
//! changes only a few times across β ∈ [1e-2, 1e3].
mod common;
use common::{arb_case, assert_caught, config, holds};
use proptest::prelude::*;
use riskmdp::tolerance::CLAIM;
use riskmdp::verify::claims::gridworld;
use riskmdp::verify::random::cliff_gridworld;
use riskmdp::verify::{CaseKind, Exact};

proptest! {
    #![proptest_config(config(40, "proptest-regressions/gridworld_beta_sweep.txt"))]
    #[test]
    fn certainty_equivalents_non_increasing_in_beta(case in arb_case(CaseKind::Gridworld)) {
        holds(gridworld::check, &case, CLAIM)?;
    }
}

#[test]
fn greedy_action_at_start_switches_at_most_twice() {
    let mdp = cliff_gridworld();
    let betas: Vec<f64> = (0..=60).map(|i| 1e-2 * 10f64.powf(5.0 * i as f64 / 60.0)).collect();
    let sweep = gridworld::sweep(&Exact, &mdp, &betas);
    let start = mdp.initial_state().unwrap();
    let switches = sweep.switches(start);
    println!("greedy at start along β: {:?}", sweep.greedy.iter().map(|g| g[start]).collect::<Vec<_>>());
    assert!(switches <= 2, "{switches} switches");
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("gridworld-sweep", &["gamma-inside-log", "mean-instead-of-max", "missing-inverse-beta"]);
}
