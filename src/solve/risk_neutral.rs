//! The risk-neutral reference (β = ∞): expected discounted return by a linear solve.
//!
//! # Formula
//!
//! ```text
//! Q_∞(s,a) = r(s,a) + γ·Σ_{s'} P(s'|s,a)·V_∞(s'),   V_∞(s) = Σ_a π(a|s)·Q_∞(s,a)
//! stationary:  (I − γ P_π) V_∞ = r_π  on the non-terminal states (LU, nalgebra)
//! horizon T:   backward induction from V_T = 0
//! ```
//!
//! As β → ∞, `β·Q_β → Q_∞` (the certainty equivalent tends to the expected return).

use ndarray::{Array1, Array2, Array3, Axis};

use super::linear::{DENSE_SOLVE_MAX, Orientation, solve_chain};
use super::policy_improvement::{greedy_actions, improve};
use crate::error::{Error, Result};
use crate::mdp::TabularMdp;
use crate::operators::max_value;
use crate::policy::Policy;

fn q_from_v(mdp: &TabularMdp, v: &Array1<f64>) -> Array2<f64> {
    let mut q = Array2::zeros((mdp.n_states(), mdp.n_actions()));
    for s in (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)) {
        for a in 0..mdp.n_actions() {
            q[[s, a]] = mdp.rewards()[[s, a]] + mdp.gamma() * mdp.row(s, a).iter().map(|(j, p)| p * v[j]).sum::<f64>();
        }
    }
    q
}

fn v_from_q(mdp: &TabularMdp, q: &Array2<f64>, pi: ndarray::ArrayView2<f64>) -> Array1<f64> {
    Array1::from_iter((0..mdp.n_states()).map(|s| if mdp.is_terminal(s) { 0.0 } else { pi.row(s).dot(&q.row(s)) }))
}

/// Expected-return action values Q_∞ of a stationary policy on an infinite-horizon model.
///
/// # Formula
///
/// ```text
/// (I − γ·P_π) V_∞ = r_π  on the non-terminal states,   Q_∞(s,a) = r(s,a) + γ·Σ_{s'} P(s'|s,a)·V_∞(s')
/// ```
///
/// # Errors
/// [`Error::Unsupported`] for a model with a horizon or a time-dependent policy.
///
/// # Examples
/// The risky arm's gamble is worth 0.9·(−10) + 0.1·0 = −9 on average; the certainty
/// equivalent β·Q_β tends to it as β grows.
/// ```
/// use riskmdp::envs::risky_arm::{self, RIGHT, S};
/// use riskmdp::solve::risk_neutral::expected_q;
/// use riskmdp::{Beta, Policy, SolveOptions, solve_policy};
/// let mdp = risky_arm::risky_arm();
/// let uniform = Policy::uniform(&mdp);
/// let q_inf = expected_q(&mdp, &uniform)?;
/// assert!((q_inf[[S, RIGHT]] + 9.0).abs() < 1e-12);
/// let q_beta = solve_policy(&mdp, Beta::new(1e6)?, &uniform, SolveOptions::default())?.q0();
/// assert!((1e6 * q_beta[[S, RIGHT]] - q_inf[[S, RIGHT]]).abs() < 1e-3);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn expected_q(mdp: &TabularMdp, policy: &Policy) -> Result<Array2<f64>> {
    expected_q_switching_at(mdp, policy, DENSE_SOLVE_MAX)
}

/// [`expected_q`], solved by the dense LU up to `dense_max` states and by iteration above: the
/// switch is a parameter so that the tests reach both sides of it with small models.
fn expected_q_switching_at(mdp: &TabularMdp, policy: &Policy, dense_max: usize) -> Result<Array2<f64>> {
    let pi = policy.stationary_probs(mdp, "expected_q", "expected_q_finite_horizon")?;
    let s_count = mdp.n_states();
    let r_pi = |s: usize| (0..mdp.n_actions()).map(|a| pi[[s, a]] * mdp.rewards()[[s, a]]).sum::<f64>();
    if s_count > dense_max {
        return Ok(q_from_v(mdp, &iterative_evaluation(mdp, pi, r_pi)?));
    }
    let rhs: Vec<f64> = (0..s_count).map(r_pi).collect();
    let rows = |s: usize, a: usize| mdp.row(s, a).iter();
    // I − γP_π is non-singular: γ < 1, or γ = 1 with every policy terminating (checked at load).
    let v = solve_chain(mdp, mdp.gamma(), |s, a| pi[[s, a]], rows, &rhs, Orientation::Rows)
        .ok_or_else(|| Error::Unsupported { what: "expected_q: singular system".into() })?;
    Ok(q_from_v(mdp, &Array1::from(v)))
}

/// `v = r_π + γ·P_π v` by fixed-point iteration (large models), to 1e-12 relative: for γ < 1
/// the bound γ/(1−γ)·residual is certified; for γ = 1 (terminating) the iteration converges
/// and stops when the residual reaches rounding.
fn iterative_evaluation(
    mdp: &TabularMdp,
    pi: &ndarray::Array2<f64>,
    r_pi: impl Fn(usize) -> f64,
) -> Result<Array1<f64>> {
    let s_count = mdp.n_states();
    let gamma = mdp.gamma();
    let r: Vec<f64> = (0..s_count).map(|s| if mdp.is_terminal(s) { 0.0 } else { r_pi(s) }).collect();
    let mut v = Array1::<f64>::zeros(s_count);
    for _ in 0..10_000_000 {
        let next = Array1::from_iter((0..s_count).map(|s| {
            if mdp.is_terminal(s) {
                return 0.0;
            }
            r[s] + gamma
                * (0..mdp.n_actions())
                    .filter(|&a| pi[[s, a]] > 0.0)
                    .map(|a| pi[[s, a]] * mdp.row(s, a).iter().map(|(j, p)| p * v[j]).sum::<f64>())
                    .sum::<f64>()
        }));
        let residual = next.iter().zip(v.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        let scale = next.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(f64::MIN_POSITIVE);
        v = next;
        let bound = if gamma < 1.0 { gamma / (1.0 - gamma) * residual } else { residual };
        if bound <= 1e-12 * scale || residual <= crate::tolerance::ROUNDING_FLOOR * scale {
            return Ok(v);
        }
    }
    Err(Error::Unsupported { what: "expected_q: the evaluation did not converge".into() })
}

/// Time-indexed expected-return values Q_∞,t (T, S, A) on a model with a horizon: of `policy`,
/// or of the risk-neutral optimum when `policy` is `None`.
///
/// # Formula
///
/// ```text
/// V_T = 0,   Q_t(s,a) = r(s,a) + γ·Σ_{s'} P(s'|s,a)·V_{t+1}(s'),
/// V_t(s) = Σ_a π_t(a|s)·Q_t(s,a)   (policy)   or   max_a Q_t(s,a)   (optimum)
/// ```
///
/// # Errors
/// [`Error::Unsupported`] for a model without horizon.
///
/// # Examples
/// ```
/// use riskmdp::envs::risky_arm::{self, LEFT, RIGHT, S};
/// use riskmdp::solve::risk_neutral::expected_q_finite_horizon;
/// let mdp = risky_arm::risky_arm().with_horizon(Some(2))?;
/// let q = expected_q_finite_horizon(&mdp, None)?;
/// assert!((q[[0, S, LEFT]] + 5.0).abs() < 1e-15 && (q[[0, S, RIGHT]] + 9.0).abs() < 1e-12);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn expected_q_finite_horizon(mdp: &TabularMdp, policy: Option<&Policy>) -> Result<Array3<f64>> {
    let Some(horizon) = mdp.horizon() else {
        return Err(Error::Unsupported { what: "expected_q_finite_horizon: the model has no horizon".into() });
    };
    let mut q = Array3::zeros((horizon, mdp.n_states(), mdp.n_actions()));
    let mut v = Array1::zeros(mdp.n_states());
    for t in (0..horizon).rev() {
        let q_t = q_from_v(mdp, &v);
        v = match policy {
            Some(p) => v_from_q(mdp, &q_t, p.at(t)),
            None => max_value(mdp, q_t.view()),
        };
        q.index_axis_mut(Axis(0), t).assign(&q_t);
    }
    Ok(q)
}

/// Optimal expected-return values Q*_∞ of an infinite-horizon model, by policy iteration with
/// exact linear solves. Returns Q and a greedy deterministic policy.
///
/// # Formula
///
/// ```text
/// Q*_∞(s,a) = r(s,a) + γ·Σ_{s'} P(s'|s,a)·max_{a'} Q*_∞(s',a')
/// ```
///
/// # Errors
/// [`Error::Unsupported`] for a model with a horizon.
///
/// # Examples
/// Risk-neutrally the sure −5 beats the gamble's −9 on the risky arm.
/// ```
/// use riskmdp::envs::risky_arm::{self, LEFT, S};
/// use riskmdp::solve::risk_neutral::optimal_expected_q;
/// let (q, greedy) = optimal_expected_q(&risky_arm::risky_arm())?;
/// assert_eq!(greedy[S], LEFT);
/// assert!((q[[S, LEFT]] + 5.0).abs() < 1e-12);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn optimal_expected_q(mdp: &TabularMdp) -> Result<(Array2<f64>, Vec<usize>)> {
    let mut actions = greedy_actions(mdp, mdp.rewards().view());
    for _ in 0..10_000 {
        let q = expected_q(mdp, &Policy::deterministic(mdp, &actions)?)?;
        let (next, changed) = improve(mdp, q.view(), &actions);
        if !changed {
            return Ok((q, actions));
        }
        actions = next;
    }
    Err(Error::Unsupported { what: "optimal_expected_q: no stable policy after 10000 improvements".into() })
}

/// Tests added for mutants that `cargo mutants` found alive (docs/mutation-testing.md); each
/// names the mutant it kills.
#[cfg(test)]
mod mutation_tests {
    use super::*;

    /// One state with one action that pays `reward` and stays, γ = 0.9: Q = reward/(1 − 0.9).
    fn one_self_loop(reward: f64) -> TabularMdp {
        TabularMdp::new(crate::MdpSpec::new("one self-loop", 0.9, vec![vec![vec![(0, 1.0)]]], vec![vec![reward]]))
            .unwrap()
    }

    /// Kills `s_count > dense_max` → `>=` in `expected_q_switching_at` (72:16), which sends a
    /// model of exactly `dense_max` states to the iteration. One state that pays 1 and stays,
    /// γ = 0.9: by hand V = 1/(1 − 0.9) = 10 and Q = 1 + 0.9·10 = 10. The dense solve is exact
    /// to a few ulps; the iteration stops at its certified bound γ/(1 − γ)·residual ≤ 1e-12·|v|,
    /// up to 1e-11 off (v_k = 10·(1 − 0.9^k)). Solved with the real switch (3000 states) and
    /// with the switch at the model's own single state, the largest size the dense solve takes.
    #[test]
    fn a_model_at_the_switch_is_solved_exactly_by_the_dense_path() {
        let mdp = one_self_loop(1.0);
        for dense_max in [DENSE_SOLVE_MAX, 1] {
            let q = expected_q_switching_at(&mdp, &Policy::uniform(&mdp), dense_max).unwrap();
            assert!((q[[0, 0]] - 10.0).abs() <= 8.0 * f64::EPSILON * 10.0, "switch at {dense_max}: {}", q[[0, 0]]);
        }
    }

    /// Kills the two relative thresholds of `iterative_evaluation`'s stop turned absolute the
    /// wrong way, `1e-12 * scale` → `1e-12 / scale` (110:27) and `ROUNDING_FLOOR * scale` →
    /// `ROUNDING_FLOOR / scale` (110:83), which only a scale far from 1 shows. One self-loop
    /// paying 10⁻³ at γ = 0.9, solved by the iteration (switch at 0 states): Q = 10⁻³/0.1 =
    /// 10⁻² by the geometric series, and the certified stop γ/(1 − γ)·residual ≤ 1e-12·|v|
    /// leaves at most 1e-14. The mutants stop at a bound of 1e-10 (error ~1e-8 relative) or at
    /// a residual of 64ε/10⁻² = 1.4e-12 (error ~1e-9 relative).
    #[test]
    fn the_iterated_expected_q_of_small_values_is_accurate_relative_to_them() {
        let mdp = one_self_loop(1e-3);
        let q = expected_q_switching_at(&mdp, &Policy::uniform(&mdp), 0).unwrap();
        assert!((q[[0, 0]] - 1e-2).abs() <= 1.1e-12 * 1e-2, "Q = {}, by hand 0.01", q[[0, 0]]);
    }

    /// Kills `r[s] + γ·…` → `r[s] − γ·…` and `r[s] * γ·…` (94:18), `pi > 0` → `==`, `<`
    /// (96:45), `p * v[j]` → `p + v[j]` (97:41) and `gamma < 1.0` → `==`, `>` (103:30) in
    /// `iterative_evaluation`,
    /// which only models above `DENSE_SOLVE_MAX` states reach (no test had one). 3001 states,
    /// each with one action that pays 1 and stays, γ = 0.9: by hand V = 1/(1 − 0.9) = 10 and
    /// Q = 1 + 0.9·10 = 10 everywhere. The `−` mutant converges to 1/(1 + 0.9) = 0.526…, the
    /// `*` mutant stays at 1·0.9·0 = 0.
    #[test]
    fn the_iterated_expected_q_of_a_large_model_matches_the_geometric_series() {
        let n = DENSE_SOLVE_MAX + 1;
        let transitions: Vec<_> = (0..n).map(|s| vec![vec![(s, 1.0)]]).collect();
        let mdp =
            TabularMdp::new(crate::MdpSpec::new("large self-loops", 0.9, transitions, vec![vec![1.0]; n])).unwrap();
        let q = expected_q(&mdp, &Policy::uniform(&mdp)).unwrap();
        assert_eq!(q.dim(), (n, 1));
        // The certified stop: the error is at most γ/(1 − γ)·residual ≤ 1e-12·max|v| = 1e-11.
        // (Stopping on the residual alone, the `gamma < 1.0` → `==`, `>` mutants of 103:30,
        // leaves an error of up to 9e-11: v_k = 10·(1 − 0.9^k), residual 0.9^(k−1).)
        assert!(q.iter().all(|&x| (x - 10.0).abs() <= 1.1e-11), "{:?}", &q.as_slice().map(|v| &v[..3]));
    }
}
