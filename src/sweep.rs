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

    /// One action at S: reward `first` for taking it, then one of two outcome states, left
    /// with a reward each (probability, reward).
    type Gamble = (f64, [(f64, f64); 2]);

    /// A start state S whose actions are the given gambles; states S, the four outcome states
    /// (two per action) and a terminal one, γ = 1. In nats, with V(outcome) = reward/β,
    /// Q*_β(S,a) = first/β + ln Σ_o p_o·e^{r_o/β}.
    fn gambles_at_start(actions: [Gamble; 2]) -> TabularMdp {
        let n = 6;
        let to = |j: usize| (0..n).map(|k| if k == j { 1.0 } else { 0.0 }).collect::<Vec<f64>>();
        let mut start_rows = Vec::new();
        let mut rewards = vec![vec![0.0; 2]; n];
        let mut transitions = vec![vec![to(n - 1); 2]; n];
        for (a, (first, outcomes)) in actions.iter().enumerate() {
            let mut row = vec![0.0; n];
            for (k, &(p, r)) in outcomes.iter().enumerate() {
                let state = 1 + 2 * a + k;
                row[state] = p;
                rewards[state] = vec![r; 2];
            }
            start_rows.push(row);
            rewards[0][a] = *first;
        }
        transitions[0] = start_rows;
        let spec = crate::mdp::MdpSpec {
            name: "gambles-at-start".into(),
            state_names: None,
            action_names: None,
            gamma: 1.0,
            horizon: None,
            initial: None,
            terminal: Some((0..n).map(|s| s == n - 1).collect()),
            transitions: transitions.into(),
            rewards,
            grid: None,
        };
        TabularMdp::new(spec).expect("a valid hand-built model")
    }

    /// Kills `1e-9 * x` → `1e-9 / x` on either side of the polish bracket's widening
    /// (x = max(|ln β|, 1)). The risky arm with every reward scaled by c = 1e8 and a constant
    /// R added to both actions at S: Q*(S,left) = (R − 5c)/β, Q*(S,right) = R/β +
    /// ln(0.9·e^{−10c/β} + 0.1), so the switch is β* = c·5/ln 9 ≈ 2.28e8 (ln β* ≈ 19.2), and
    /// d(Q_right − Q_left)/d ln β = −4c/β* = −4·ln 9/5 at any c (the risky arm's 4/β*², times
    /// β*). With R = 2000·β*, |Q| ≈ 2000 at β*, so the tie margin 1e-12·2000 puts the greedy
    /// bisection's bracket δ = 2e-9/(4·ln 9/5) ≈ 1.14e-9 off the switch in ln β: inside the
    /// widening 1e-9·19.2 = 1.9e-8, outside the mutants' 1e-9/19.2 = 5.2e-11, which leave the
    /// switch outside the polish bracket, so the polish is skipped and β is off by ≈ 1.1e-9
    /// relative (measured: 1.137e-9 with either mutant). Polished, β is off only by the
    /// rounding of Q (≈ 2000·1e-16 / 1.76 in ln β; measured 7.5e-14 and 8.2e-14). With `left`
    /// as action 0 the greedy bracket lies below the switch (the high side's widening must
    /// reach it), with the actions swapped above (the low side's); 3e-11 lies between.
    #[test]
    fn the_polish_reaches_a_switch_whose_tie_offset_exceeds_the_widening_divided_by_ln_beta() {
        let c = 1e8;
        let exact = c * 5.0 / 9f64.ln();
        let shift = 2000.0 * exact;
        let left: Gamble = (shift - 5.0 * c, [(1.0, 0.0), (0.0, 0.0)]);
        let right: Gamble = (shift, [(0.9, -10.0 * c), (0.1, 0.0)]);
        for (actions, gamble) in [([left, right], 1), ([right, left], 0)] {
            let mdp = gambles_at_start(actions);
            let grid = [exact / 2.0, exact * 2.0];
            let result = sweep(&mdp, 0, &grid, SolveOptions::default()).expect("solvable");
            let [switch] = result.switches.as_slice() else { panic!("one switch: {:?}", result.switches) };
            assert_eq!((switch.from, switch.to), (gamble, 1 - gamble));
            let error = (switch.beta / exact - 1.0).abs();
            assert!(error < 3e-11, "gamble = action {gamble}: {} vs {exact}, relative {error:e}", switch.beta);
        }
    }

    /// Kills `hi + 1e-9 * x` → `hi + 1e-9 + x` in the polish bracket's widening: the mutant
    /// takes the high end from ln β to 2·ln β (for ln β > 1), and where the greedy action
    /// switches back below that, Q(from) − Q(to) has the sign of the low end there too, so the
    /// polish is skipped. Action X pays 2d with probability 2/45 (else 0), action Y ±d with
    /// probability 1/2 each, d = 1000: Q(S,X) = ln(p·y² + 1 − p), Q(S,Y) = ln((y + 1/y)/2)
    /// with y = e^{d/β}, p = 2/45. They are equal where 2p·y³ − y² + 2(1 − p)·y − 1 = 0,
    /// = (y − 1)·(2p·y² + (2p − 1)·y + 1), whose roots y = ((1 − 2p) ± √((1 − 2p)² − 8p))/(4p)
    /// = (41 ± 31)/8 are 9 and 5/4: X (the long shot) below β₁ = d/ln 9 ≈ 455, Y between, X
    /// again (its mean 4d/45 > 0) above β₂ = d/ln(5/4) ≈ 4481 < β₁². At β₁ X is action 0, so
    /// the greedy bracket lies δ = 1e-12·|Q|/|slope| = 1e-12·ln(41/9)/1.33 ≈ 1.1e-12 above β₁
    /// in ln β (the mutant's error, measured 9.5e-13); polished, the error is the rounding of
    /// Q (measured 2.3e-15); 5e-14 lies between. At β₂ the slope is 0.019, so the tie offset
    /// is ≈ 8e-11 and the polished error was measured at 1.2e-15; 1e-12 separates those.
    #[test]
    fn the_polish_keeps_to_the_switch_when_the_greedy_action_switches_back_within_ln_beta() {
        let d = 1000.0;
        let long_shot: Gamble = (0.0, [(2.0 / 45.0, 2.0 * d), (43.0 / 45.0, 0.0)]);
        let coin: Gamble = (0.0, [(0.5, d), (0.5, -d)]);
        let mdp = gambles_at_start([long_shot, coin]);
        let result = sweep(&mdp, 0, &[100.0, 1000.0, 1e5], SolveOptions::default()).expect("solvable");
        let [up, back] = result.switches.as_slice() else { panic!("two switches: {:?}", result.switches) };
        assert_eq!([(up.from, up.to), (back.from, back.to)], [(0, 1), (1, 0)]);
        let (beta_1, beta_2) = (d / 9f64.ln(), d / 1.25f64.ln());
        assert!(beta_2 < beta_1 * beta_1, "the switch back lies below the mutant's high end");
        let (error_1, error_2) = ((up.beta / beta_1 - 1.0).abs(), (back.beta / beta_2 - 1.0).abs());
        assert!(error_1 < 5e-14, "{} vs {beta_1}, relative {error_1:e}", up.beta);
        assert!(error_2 < 1e-12, "{} vs {beta_2}, relative {error_2:e}", back.beta);
    }
}
