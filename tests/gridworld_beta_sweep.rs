//! The β sweep of the 4×4 cliff gridworld (`envs::Gridworld::cliff_4x4`): `β·V*_β(s)` is
//! non-increasing in β in every cell (a theorem: see `riskmdp::verify::claims::beta_limits`),
//! the greedy policy at the largest β is risk-neutral optimal, and the greedy action of each
//! cell at the two ends of β ∈ [1e-2, 1e3] is the one the two limits predict independently:
//! the best case (β → 0) and the risk-neutral optimum (β → ∞, a linear solve).
mod common;
use common::{arb_case, assert_caught, assert_property_caught, config, holds};
use proptest::prelude::*;
use riskmdp::envs::Gridworld;
use riskmdp::envs::cliff_gridworld::{ACTIONS, RIGHT};
use riskmdp::solve::risk_neutral::optimal_expected_q;
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

const UP: usize = 0;

/// Every switch of the greedy action at `state` in [1e-2, 1e3], not just those the grid of
/// [`betas`] shows (`sweep::every_switch` certifies that none hides between its points).
fn every_switch_count(mdp: &riskmdp::TabularMdp, state: usize) -> usize {
    let scan = riskmdp::sweep::every_switch(mdp, &[state], &betas(), riskmdp::SolveOptions::default()).unwrap();
    assert!(scan.unresolved.is_empty(), "{:?}", scan.unresolved);
    scan.switches.len()
}

fn betas() -> Vec<f64> {
    (0..=60).map(|i| 1e-2 * 10f64.powf(5.0 * i as f64 / 60.0)).collect()
}

/// Best-case values by plain value iteration (no soft operator): the β → 0 limit of β·V*_β,
/// `V_best(s) = max_a [r(s,a) + γ·max_{s' ∈ supp P(·|s,a)} V_best(s')]`.
fn best_case(mdp: &riskmdp::TabularMdp) -> Vec<f64> {
    let mut v = vec![0.0; mdp.n_states()];
    for _ in 0..2000 {
        v = (0..mdp.n_states())
            .map(|s| {
                if mdp.is_terminal(s) {
                    return 0.0;
                }
                (0..mdp.n_actions())
                    .map(|a| {
                        let row = mdp.transition_row(s, a);
                        let best =
                            (0..v.len()).filter(|&j| row[j] > 0.0).map(|j| v[j]).fold(f64::NEG_INFINITY, f64::max);
                        mdp.rewards()[[s, a]] + mdp.gamma() * best
                    })
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect();
    }
    v
}

/// The β → 0 choice in a cell whose neighbours have one strictly best best-case value (and the
/// same reward for every action): to second order `β·Q(s,a) = r + γ·V_best(s*) + γ·β·log P(s*|s,a)`,
/// so the greedy action is the one most likely to reach s*.
fn small_beta_action(mdp: &riskmdp::TabularMdp, world: &Gridworld, cell: (usize, usize)) -> usize {
    let v = best_case(mdp);
    let s = world.state(cell);
    let neighbours: Vec<usize> = (0..4).map(|d| world.state(world.step(cell, d))).collect();
    let best = neighbours.iter().map(|&j| v[j]).fold(f64::NEG_INFINITY, f64::max);
    let top: Vec<usize> = neighbours.iter().copied().filter(|&j| v[j] >= best - 1e-9).collect();
    assert_eq!(top.len(), 1, "{cell:?}: the second-order argument needs one best neighbour, got {top:?}");
    let p = |a: usize| mdp.transition_row(s, a)[top[0]];
    (0..4).fold(0, |b, a| if p(a) > p(b) + 1e-12 { a } else { b })
}

#[test]
fn greedy_action_at_start_switches_at_most_twice() {
    let (world, mdp) = (Gridworld::cliff_4x4(), cliff_gridworld());
    let sweep = gridworld::sweep(&Exact, &mdp, &betas());
    let start = mdp.initial_state().unwrap();
    assert_eq!(start, world.state(world.start));
    println!("greedy at start along β: {:?}", sweep.greedy.iter().map(|g| ACTIONS[g[start]]).collect::<Vec<_>>());
    let every = every_switch_count(&mdp, start);
    assert!(every <= 2, "{every} switches");
    assert!(sweep.switches(start) <= every, "the grid sees no more than every switch");
    // Both ends by the limits: from the start, (2,0) above it is the best neighbour (the cliff
    // to the right costs 20), so β → 0 goes up; the risk-neutral optimum goes up too.
    let (_, neutral) = optimal_expected_q(&mdp).unwrap();
    assert_eq!(small_beta_action(&mdp, &world, world.start), UP);
    assert_eq!(sweep.greedy[0][start], UP);
    assert_eq!(sweep.greedy[60][start], neutral[start]);
}

#[test]
fn beside_the_cliff_the_greedy_action_turns_from_the_best_case_to_the_risk_neutral_one() {
    // Cell (2,0), above the start: its best neighbour is (2,1), along the cliff, so β → 0 moves
    // right (P = 0.85 against 0.05); the risk-neutral optimum moves up, away from the cliff.
    let (world, mdp) = (Gridworld::cliff_4x4(), cliff_gridworld());
    let cell = (2, 0);
    let s = world.state(cell);
    let (_, neutral) = optimal_expected_q(&mdp).unwrap();
    assert_eq!(small_beta_action(&mdp, &world, cell), RIGHT);
    assert_eq!(neutral[s], UP);
    let sweep = gridworld::sweep(&Exact, &mdp, &betas());
    println!("greedy at (2,0) along β: {:?}", sweep.greedy.iter().map(|g| ACTIONS[g[s]]).collect::<Vec<_>>());
    assert_eq!(sweep.greedy[0][s], RIGHT);
    assert_eq!(sweep.greedy[60][s], UP);
    let every = every_switch_count(&mdp, s);
    assert!((1..=2).contains(&every), "{every} switches");
}

#[test]
fn greedy_at_the_largest_beta_is_risk_neutral_optimal_in_every_cell() {
    let mdp = cliff_gridworld();
    let (_, neutral) = optimal_expected_q(&mdp).unwrap();
    let sweep = gridworld::sweep(&Exact, &mdp, &[1e3]);
    for s in (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)) {
        assert_eq!(sweep.greedy[0][s], neutral[s], "state {s}");
    }
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("gridworld-sweep", &["gamma-inside-log", "mean-instead-of-max", "missing-inverse-beta"]);
    assert_property_caught("gridworld-sweep", "greedy-worst", "risk-neutral-limit");
}
