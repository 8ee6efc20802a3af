//! Theorem 4.2 (risk-sensitive policy improvement): the greedy policy π' w.r.t. Q_π has
//! `V_{π'}(s) ≥ V_π(s)` in every state — with a horizon and time-dependent policies (the
//! paper's proof), and for γ < 1 without horizon (open in the paper; proved in
//! `docs/theory.md`). See `riskmdp::verify::claims::theorem_4_2`. Also the documented contract
//! of the greedy step (`solve::greedy_actions`): the lowest action index among the actions
//! within the tie margin `TIE·max_a |Q(s,a)|` of the best.
mod common;
use common::{arb_case, assert_caught, assert_property_caught, config, holds};
use ndarray::{Array2, array};
use proptest::prelude::*;
use riskmdp::envs::Gridworld;
use riskmdp::solve::greedy_actions;
use riskmdp::tolerance::{CLAIM, TIE};
use riskmdp::verify::CaseKind;
use riskmdp::verify::claims::theorem_4_2;
use riskmdp::{Beta, MdpSpec, SolveOptions, TabularMdp};

proptest! {
    #![proptest_config(config(300, "proptest-regressions/theorem_4_2_policy_improvement.txt"))]
    #[test]
    fn greedy_improves_every_state_finite_horizon(case in arb_case(CaseKind::Horizon)) {
        holds(theorem_4_2::check_finite, &case, CLAIM)?;
    }

    #[test]
    fn greedy_improves_every_state_discounted(case in arb_case(CaseKind::Discounted)) {
        holds(theorem_4_2::check_discounted, &case, CLAIM)?;
    }
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("theorem-4.2-finite", &["gamma-inside-log", "missing-inverse-beta", "greedy-worst"]);
    assert_caught("theorem-4.2-discounted", &["gamma-inside-log", "missing-inverse-beta", "greedy-worst"]);
    assert_property_caught("theorem-4.2-finite", "greedy-worst", "improvement");
    assert_property_caught("theorem-4.2-discounted", "greedy-worst", "improvement");
}

/// A model with `n` non-terminal states and one terminal state (only the flags matter to the
/// greedy step).
fn states(n: usize, actions: usize) -> TabularMdp {
    let to_end = |_: usize| (0..=n).map(|j| if j == n { 1.0 } else { 0.0 }).collect::<Vec<f64>>();
    TabularMdp::new(MdpSpec {
        name: "ties".into(),
        state_names: None,
        action_names: None,
        gamma: 0.9,
        horizon: None,
        initial: None,
        terminal: Some((0..=n).map(|s| s == n).collect()),
        transitions: (0..=n).map(|s| (0..actions).map(|_| to_end(s)).collect()).collect::<Vec<Vec<Vec<f64>>>>().into(),
        rewards: vec![vec![0.0; actions]; n + 1],
        grid: None,
    })
    .unwrap()
}

fn greedy_of(rows: &[[f64; 4]]) -> Vec<usize> {
    let mdp = states(rows.len(), 4);
    let mut q = Array2::zeros((rows.len() + 1, 4));
    for (s, row) in rows.iter().enumerate() {
        q.row_mut(s).assign(&ndarray::ArrayView1::from(row));
    }
    // The terminal row is the best everywhere, and still gets action 0.
    q.row_mut(rows.len()).assign(&array![-1.0, 5.0, 9.0, 7.0]);
    greedy_actions(&mdp, q.view())
}

#[test]
fn greedy_action_is_the_lowest_index_on_exact_ties() {
    let rows = [
        [1.0, 1.0, 0.5, 1.0], // tie 0, 1, 3 → 0
        [0.5, 2.0, 2.0, 2.0], // tie 1, 2, 3 → 1
        [-3.0, -3.0, -3.0, -3.0],
        [0.0, 0.0, 0.0, 0.0], // all zero: margin TIE·(smallest normal) — still a tie
        [-7.0, -2.0, -9.0, -2.0],
    ];
    assert_eq!(greedy_of(&rows), vec![0, 1, 0, 0, 1, 0]);
}

#[test]
fn greedy_action_ignores_minus_infinity_when_finite_actions_tie() {
    let inf = f64::INFINITY;
    assert_eq!(greedy_of(&[[-inf, 5.0, 5.0, -inf]]), vec![1, 0]);
}

#[test]
fn near_ties_inside_the_margin_go_to_the_lowest_index_and_outside_it_to_the_best() {
    // Margin = TIE·max_a |Q(s,a)|: 1e-9 at scale 1e3, 1e-18 at scale 1e-6 (relative, no floor).
    let big = 1e3;
    let small = 1e-6;
    let rows = [
        [big - 0.5 * TIE * big, big, 0.0, 0.0],       // inside → 0
        [big - 2.0 * TIE * big, big, 0.0, 0.0],       // outside → 1
        [small - 0.5 * TIE * small, small, 0.0, 0.0], // inside → 0
        [small - 2.0 * TIE * small, small, 0.0, 0.0], // outside → 1
        [1.0, 1.0f64.next_up(), 0.0, 0.0],            // one ulp: inside → 0
        [-big, -big + 2.0 * TIE * big, -big, -big],   // negative values, outside → 1
        [-big, -big + 0.5 * TIE * big, -big, -big],   // negative values, inside → 0
    ];
    assert_eq!(greedy_of(&rows), vec![0, 1, 0, 1, 0, 1, 0, 0]);
}

#[test]
fn greedy_of_the_solver_on_cells_whose_actions_tie_exactly_is_action_zero() {
    // On a cliff cell every action returns to the start with the same reward, and on the goal
    // every action leads to `exit`: Q(s,·) is constant there, so `solve --json` must print
    // `greedy = 0` (up) on those cells.
    let world = Gridworld::cliff();
    let mdp = world.build().unwrap();
    for beta in [0.1, 1.0, 100.0] {
        let sol = riskmdp::value_iteration(&mdp, Beta::new(beta).unwrap(), SolveOptions::default()).unwrap();
        for cell in world.cliff.iter().copied().chain([world.goal]) {
            let s = world.state(cell);
            let row = sol.q.row(s);
            assert!(row.iter().all(|x| (x - row[0]).abs() <= TIE * row[0].abs()), "{cell:?}: {row:?}");
            assert_eq!(sol.greedy[s], 0, "β = {beta}, cell {cell:?}");
        }
    }
}
