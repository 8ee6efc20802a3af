//! The one linear system of the crate: `(I − γ·M) x = b` on the non-terminal states.
//!
//! # Formula
//!
//! ```text
//! M[s][s'] = Σ_a w(a|s)·m(s'|s,a)        for non-terminal s and s' (0 elsewhere)
//! (I − γ·M) x = b        rows: values           (risk-neutral evaluation, Newton steps, ELBO)
//! (I − γ·Mᵀ) x = b       columns: state flow    (occupancy μ = ρ + γ·P_πᵀ μ, Eq. 8)
//! ```
//!
//! Legend: `w(a|s)` an action weight (a policy π, or the posterior policy), `m(·|s,a)` a row of
//! next-state weights (the true dynamics P, or the posterior dynamics q of Eq. 4). Terminal
//! states keep identity rows and columns and a zero right-hand side: `x(terminal) = 0`, and
//! terminal states never feed back. The callers are [`expected_q`](super::risk_neutral::expected_q),
//! Newton's steps in [`policy_evaluation`](super::policy_evaluation),
//! [`occupancy`](crate::utility::occupancy) and
//! [`elbo_stationary`](crate::utility::elbo_stationary).

use nalgebra::{DMatrix, DVector};

use crate::mdp::TabularMdp;

/// Above this many states the linear systems are solved by iteration instead of a dense LU.
pub(crate) const DENSE_SOLVE_MAX: usize = 3000;

/// Whether M acts on values (rows) or on state flows (columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Orientation {
    /// `(I − γ·M) x = b`: x is a value, `x(s) = b(s) + γ·Σ_{s'} M[s][s']·x(s')`.
    Rows,
    /// `(I − γ·Mᵀ) x = b`: x is a flow, `x(s') = b(s') + γ·Σ_s x(s)·M[s][s']`.
    Transposed,
}

/// Solve `(I − γ·M) x = b` (or `Mᵀ`) by a dense LU, M given per pair (s, a) as the action weight
/// `weight(s, a)` and the next-state row `row(s, a)` of `(s', m)` pairs; `None` if the system is
/// singular. Pairs with zero weight are skipped, terminal s and s' are left out of M, and
/// each entry is accumulated as `γ·w·m` in action order, so callers get bit-identical results
/// whichever of them assembled it.
///
/// # Panics
/// If `rhs` does not have S entries (an internal invariant).
pub(crate) fn solve_chain<R>(
    mdp: &TabularMdp,
    gamma: f64,
    weight: impl Fn(usize, usize) -> f64,
    row: impl Fn(usize, usize) -> R,
    rhs: &[f64],
    orientation: Orientation,
) -> Option<Vec<f64>>
where
    R: IntoIterator<Item = (usize, f64)>,
{
    let s_count = mdp.n_states();
    assert_eq!(rhs.len(), s_count, "solve_chain: b needs one entry per state");
    let mut m = DMatrix::<f64>::identity(s_count, s_count);
    let b = DVector::from_iterator(s_count, (0..s_count).map(|s| if mdp.is_terminal(s) { 0.0 } else { rhs[s] }));
    for s in (0..s_count).filter(|&s| !mdp.is_terminal(s)) {
        for a in 0..mdp.n_actions() {
            let w = weight(s, a);
            if w == 0.0 {
                continue;
            }
            for (j, p) in row(s, a) {
                if mdp.is_terminal(j) {
                    continue;
                }
                let entry = match orientation {
                    Orientation::Rows => &mut m[(s, j)],
                    Orientation::Transposed => &mut m[(j, s)],
                };
                *entry -= gamma * w * p;
            }
        }
    }
    Some(m.lu().solve(&b)?.iter().copied().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-state chain 0 → 1 → terminal 2 with γ = 0.5, solved by hand:
    /// rows: x1 = b1 = 2, x0 = b0 + γ·x1 = 1 + 1 = 2;
    /// transposed (flow from 0): x0 = b0 = 1, x1 = b1 + γ·x0 = 0 + 0.5.
    #[test]
    fn rows_and_transposed_solve_a_hand_computed_chain() {
        let mdp = crate::TabularMdp::new(crate::MdpSpec {
            name: "chain".into(),
            state_names: None,
            action_names: None,
            gamma: 0.5,
            horizon: None,
            initial: None,
            terminal: Some(vec![false, false, true]),
            transitions: vec![vec![vec![0.0, 1.0, 0.0]], vec![vec![0.0, 0.0, 1.0]], vec![vec![0.0, 0.0, 1.0]]].into(),
            rewards: vec![vec![0.0]; 3],
            grid: None,
        })
        .expect("valid chain");
        let rows = |s: usize, a: usize| mdp.row(s, a).iter();
        let x = solve_chain(&mdp, 0.5, |_, _| 1.0, rows, &[1.0, 2.0, 7.0], Orientation::Rows).expect("regular");
        assert_eq!(x, vec![2.0, 2.0, 0.0]);
        let mu = solve_chain(&mdp, 0.5, |_, _| 1.0, rows, &[1.0, 0.0, 7.0], Orientation::Transposed).expect("regular");
        assert_eq!(mu, vec![1.0, 0.5, 0.0]);
    }
}
