//! β sweeps at one state (Fig. 1): certainty equivalents, greedy action, posterior dynamics,
//! and the exact β where the greedy action switches.

use serde::Serialize;

use crate::bisection::{Side, Width, bisect_log_beta};
use crate::error::{Error, Result};
use crate::mdp::TabularMdp;
use crate::operators::posterior_row;
use crate::risk::Beta;
use crate::solve::policy_improvement::greedy_in_row;
use crate::solve::{Method, SolveOptions, greedy_actions, solve_optimal};

/// The optimum at one β, seen from one state (t = 0 with a horizon).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepPoint {
    /// β.
    pub beta: f64,
    /// Q*_β(s, a) per action, nats.
    pub q: Vec<f64>,
    /// β·Q*_β(s, a) per action, reward units.
    pub certainty_equivalent: Vec<f64>,
    /// The greedy action.
    pub greedy: usize,
    /// Posterior dynamics q_β(·|s, a) per action (S entries each).
    pub posterior_dynamics: Vec<Vec<f64>>,
}

/// A change of the greedy action between two grid points, located exactly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Switch {
    /// β of the switch (to ~1e-13 relative, limited by the tie tolerance of the greedy choice).
    pub beta: f64,
    /// Greedy action just below.
    pub from: usize,
    /// Greedy action just above.
    pub to: usize,
}

/// A sweep over β at one state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sweep {
    /// The state.
    pub state: usize,
    /// One point per grid value.
    pub points: Vec<SweepPoint>,
    /// Every greedy switch between grid points, ascending in β.
    pub switches: Vec<Switch>,
}

fn check_state(mdp: &TabularMdp, state: usize) -> Result<()> {
    if state < mdp.n_states() {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name: "state".into(), message: format!("no state {state}") })
    }
}

/// Solve the optimum at `beta` and look at state `state`: Q*, β·Q*, the greedy action and
/// the posterior dynamics of every action (at t = 0 with a horizon).
///
/// # Formula
///
/// ```text
/// Q*_β(s,·) (Lemma 4.1),   β·Q*_β(s,·),   q_β(s'|s,a) ∝ P(s'|s,a)·exp V*_β(s')   (Eq. 4)
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] for a state the model does not have; those of
/// [`solve_optimal`].
///
/// # Examples
/// ```
/// use riskmdp::envs::risky_arm::{self, A, RIGHT, S};
/// use riskmdp::sweep::sweep_point;
/// use riskmdp::SolveOptions;
/// let p = sweep_point(&risky_arm::risky_arm(), S, 1.0, SolveOptions::default())?;
/// assert!((p.certainty_equivalent[0] + 5.0).abs() < 1e-12); // β·Q(S,left) = −5 at any β
/// assert_eq!(p.greedy, RIGHT); // β = 1 < 5/ln 9: the gamble
/// assert!((p.posterior_dynamics[RIGHT][A] - risky_arm::posterior_a(1.0)).abs() < 1e-12);
/// assert!(sweep_point(&risky_arm::risky_arm(), 6, 1.0, SolveOptions::default()).is_err());
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn sweep_point(mdp: &TabularMdp, state: usize, beta: f64, options: SolveOptions) -> Result<SweepPoint> {
    check_state(mdp, state)?;
    let sol = solve_optimal(mdp, Beta::new(beta)?, Method::ValueIteration, options)?;
    let q0 = sol.q0();
    // V at the next step: V_1 with a horizon, V itself otherwise.
    let v_next = match &sol {
        crate::solve::Solution::Stationary(s) => s.v.clone(),
        crate::solve::Solution::FiniteHorizon(s) => s.v.row(1.min(s.v.nrows() - 1)).to_owned(),
    };
    let v_next = v_next.to_vec();
    let posterior = (0..mdp.n_actions())
        .map(|a| {
            let mut row = vec![0.0; mdp.n_states()];
            for (j, q) in posterior_row(mdp, &v_next, state, a) {
                row[j] = q;
            }
            row
        })
        .collect();
    let q: Vec<f64> = q0.row(state).to_vec();
    Ok(SweepPoint {
        beta,
        certainty_equivalent: q.iter().map(|x| beta * x).collect(),
        greedy: greedy_actions(mdp, q0.view())[state],
        posterior_dynamics: posterior,
        q,
    })
}

/// Sweep β over `grid` (ascending) at `state` and locate every greedy switch between grid
/// points by [bisection in log β](crate::bisection::bisect_log_beta): first on the greedy
/// action, then polished on the sign of Q*(s,from) − Q*(s,to).
///
/// # Formula
///
/// ```text
/// a switch from `from` to `to` at β:   Q*_β(s,from) = Q*_β(s,to),  `from` greedy just below β
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] for a bad state or an unsorted grid; those of [`solve_optimal`].
///
/// # Examples
/// The risky arm switches from the gamble to the sure −5 at β* = 5/ln 9 (Fig. 1).
/// ```
/// use riskmdp::dual::log_grid;
/// use riskmdp::envs::risky_arm::{self, LEFT, RIGHT, S};
/// use riskmdp::sweep::sweep;
/// use riskmdp::SolveOptions;
/// let result = sweep(&risky_arm::risky_arm(), S, &log_grid(0.1, 100.0, 7)?, SolveOptions::default())?;
/// assert_eq!(result.points.len(), 7);
/// let [switch] = result.switches.as_slice() else { panic!("one switch") };
/// assert_eq!((switch.from, switch.to), (RIGHT, LEFT));
/// assert!((switch.beta - risky_arm::switch_beta()).abs() < 1e-12);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn sweep(mdp: &TabularMdp, state: usize, grid: &[f64], options: SolveOptions) -> Result<Sweep> {
    check_state(mdp, state)?;
    if grid.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::InvalidParameter { name: "grid".into(), message: "β values must increase".into() });
    }
    let points = grid.iter().map(|&b| sweep_point(mdp, state, b, options)).collect::<Result<Vec<_>>>()?;
    // The bisections need Q*(state, ·) only, not the posterior rows of a full point.
    let q_at = |beta: f64| -> Result<Vec<f64>> {
        Ok(solve_optimal(mdp, Beta::new(beta)?, Method::ValueIteration, options)?.q0().row(state).to_vec())
    };
    let greedy_at = |beta: f64| -> Result<usize> { Ok(greedy_in_row(&q_at(beta)?)) };
    let mut switches = Vec::new();
    for w in points.windows(2) {
        if w[0].greedy == w[1].greedy {
            continue;
        }
        // Bisect on the greedy action itself; `to` follows the action just above the bracket,
        // which may be a third action that wins between the grid points.
        let from = w[0].greedy;
        let mut to = w[1].greedy;
        let mut bracket = bisect_log_beta(w[0].beta.ln(), w[1].beta.ln(), Width::Relative(1e-13), |beta| {
            let g = greedy_at(beta)?;
            if g == from {
                Ok(Side::Below)
            } else {
                to = g;
                Ok(Side::Above)
            }
        })?;
        // The greedy choice has a tie margin; polish on the sign of Q(from) − Q(to) itself.
        let gap = |beta: f64| -> Result<f64> {
            let q = q_at(beta)?;
            Ok(q[from] - q[to])
        };
        let (lo, hi) = (bracket.lo, bracket.hi);
        let (a, b) = (lo - 1e-9 * lo.abs().max(1.0), hi + 1e-9 * hi.abs().max(1.0));
        if gap(a.exp())? > 0.0 && gap(b.exp())? < 0.0 {
            bracket = bisect_log_beta(a, b, Width::Relative(1e-15), |beta| {
                Ok(if gap(beta)? > 0.0 { Side::Below } else { Side::Above })
            })?;
        }
        switches.push(Switch { beta: bracket.beta(), from, to });
    }
    Ok(Sweep { state, points, switches })
}

/// Tests added for mutants that `cargo mutants` found alive (docs/mutation-testing.md); each
/// names the mutant it kills.
#[cfg(test)]
mod mutation_tests {
    use super::*;
    use crate::envs::risky_arm;

    /// Kills `check_state` → `Ok(())` and `state < n` → `state <= n`: the risky arm has six
    /// states (0…5), so state 6 is an `InvalidParameter` error for a point and for a sweep,
    /// not an out-of-bounds panic, and state 5 is accepted.
    #[test]
    fn the_state_after_the_last_is_an_error_not_a_panic() {
        let (mdp, options) = (risky_arm::risky_arm(), SolveOptions::default());
        assert!(matches!(sweep_point(&mdp, 6, 1.0, options), Err(Error::InvalidParameter { .. })));
        assert!(matches!(sweep(&mdp, 6, &[1.0, 2.0], options), Err(Error::InvalidParameter { .. })));
        assert!(sweep_point(&mdp, 5, 1.0, options).is_ok());
    }

    /// Kills the mutants that skip the polish on the sign of Q*(s,from) − Q*(s,to)
    /// (`q[from] − q[to]` → `+` or `/`, the bracket widened the wrong way): the first
    /// bisection, on the greedy action, stops where `left` comes within the tie margin
    /// TIE·|Q| ≈ 1e-12 × 2.2 of `right`, before the switch, off by margin / |d(Q_left −
    /// Q_right)/dβ| = 2.2e-12 / (4/β*²) ≈ 2.8e-12. The closed form is β* = 5/ln 9 (from
    /// e^{−5/β} = 0.9·e^{−10/β} + 0.1, see `envs::risky_arm`); the polish finds it to the
    /// rounding of Q (a few 1e-16), so 1e-13 separates the two.
    #[test]
    fn the_polished_switch_matches_the_closed_form_beyond_the_tie_margin() {
        let mdp = risky_arm::risky_arm();
        let grid = [1.0, 10.0];
        let result = sweep(&mdp, risky_arm::S, &grid, SolveOptions::default()).expect("solvable");
        let [switch] = result.switches.as_slice() else { panic!("one switch: {:?}", result.switches) };
        let exact = 5.0 / 9f64.ln();
        assert!((switch.beta - exact).abs() < 1e-13, "{} vs {exact}", switch.beta);
    }
}
