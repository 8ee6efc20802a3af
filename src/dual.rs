//! The β dual (Eqs. 8–9): the KL budget ε, dual descent on β, and every root of KL_β = ε.
//!
//! # Formula
//!
//! ```text
//! KL_β = Σ_{s,a} d(s,a)·KL( q_β(·|s,a) ‖ P(·|s,a) ) / Σ d        (Eq. 8)
//!   q_β  posterior dynamics at the optimum Q*_β  (q ∝ P·exp V*_β, Eq. 4; per t with a horizon)
//!   d    occupancy of the greedy (prior) policy in the true dynamics from ρ, or uniform
//! β ← clamp( β − η·(ε − KL_β), β_min, 1e7 )                          (Eq. 9, App. C.4)
//! ```
//!
//! Whether KL_β is monotone in β is *not* proven, so [`kl_roots`] scans a grid in log β and
//! refines every sign change, instead of assuming a single root. KL_β jumps where the greedy
//! policy switches; [`kl_roots`] locates every switch first, and a sign change across one is
//! reported as a jump, not a root.

use ndarray::Axis;
use serde::Serialize;

use crate::bisection::{Width, every_sign_change, worth_searching};
use crate::error::{Error, Result};
use crate::losses::{BetaUpdate, dual_step};
use crate::mdp::TabularMdp;
use crate::risk::Beta;
use crate::solve::{Method, Solution, SolveOptions, solve_optimal};
use crate::sweep::every_switch;
use crate::utility::{
    KlWeights, kl_of_posterior_dynamics, occupancy, occupancy_finite_horizon, uniform_weights, weighted_mean,
};

/// Most dual-descent steps of one run (each step is a solve).
pub const MAX_DESCENT_STEPS: usize = 1_000_000;

/// Upper clamp of β in dual descent (paper App. C.4).
pub const BETA_MAX: f64 = 1e7;

/// KL_β: the mean KL between the posterior dynamics of the optimum at β and the true ones.
///
/// # Formula
///
/// ```text
/// KL_β = Σ_{s,a} d(s,a)·KL( q_β(·|s,a) ‖ P(·|s,a) ) / Σ d        (Eq. 8)
/// ```
///
/// q_β the posterior dynamics (Eq. 4) at V*_β; d the occupancy of the greedy policy from ρ
/// ([`KlWeights::Occupancy`]) or 1 on every non-terminal pair ([`KlWeights::Uniform`]).
///
/// # Errors
/// Those of [`solve_optimal`].
///
/// # Examples
/// On the risky arm only `right` at S is stochastic. Uniform weights average over the six
/// non-terminal pairs; the occupancy of the greedy policy sees S once, and A or B once more,
/// while the gamble is greedy (β < 5/ln 9), and nothing stochastic after.
/// ```
/// use riskmdp::dual::kl_at;
/// use riskmdp::envs::risky_arm::{self, RIGHT, S};
/// use riskmdp::utility::{KlWeights, kl_per_pair};
/// use riskmdp::operators::posterior_dynamics;
/// use riskmdp::{Beta, SolveOptions, value_iteration};
/// let mdp = risky_arm::risky_arm();
/// let options = SolveOptions::default();
/// let beta = Beta::new(2.0)?;
/// let v = value_iteration(&mdp, beta, options)?.v;
/// let kl_s_right = kl_per_pair(&mdp, &posterior_dynamics(&mdp, v.view()))[[S, RIGHT]];
/// let uniform = kl_at(&mdp, beta, KlWeights::Uniform, options)?;
/// assert!((uniform - kl_s_right / 6.0).abs() < 1e-12);
/// let visited = kl_at(&mdp, beta, KlWeights::Occupancy, options)?;
/// assert!((visited - kl_s_right / 2.0).abs() < 1e-12);
/// assert_eq!(kl_at(&mdp, Beta::new(3.0)?, KlWeights::Occupancy, options)?, 0.0); // `left` greedy
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn kl_at(mdp: &TabularMdp, beta: Beta, weights: KlWeights, options: SolveOptions) -> Result<f64> {
    match solve_optimal(mdp, beta, Method::ValueIteration, options)? {
        Solution::Stationary(sol) => {
            let kl = kl_of_posterior_dynamics(mdp, &sol.v.to_vec());
            let w = match weights {
                KlWeights::Occupancy => occupancy(mdp, &sol.policy)?.into_raw_vec_and_offset().0,
                KlWeights::Uniform => uniform_weights(mdp, 1),
            };
            Ok(weighted_mean(&kl.into_raw_vec_and_offset().0, &w))
        }
        Solution::FiniteHorizon(sol) => {
            let horizon = sol.q.len_of(Axis(0));
            let mut kl = Vec::with_capacity(horizon * mdp.n_states() * mdp.n_actions());
            for t in 0..horizon {
                kl.extend(kl_of_posterior_dynamics(mdp, &sol.v.row(t + 1).to_vec()).iter().copied());
            }
            let w = match weights {
                KlWeights::Occupancy => occupancy_finite_horizon(mdp, &sol.policy)?.into_raw_vec_and_offset().0,
                KlWeights::Uniform => uniform_weights(mdp, horizon),
            };
            Ok(weighted_mean(&kl, &w))
        }
    }
}

/// One step of dual descent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DualStep {
    /// β at this step.
    pub beta: f64,
    /// KL_β at this step.
    pub kl: f64,
}

/// Settings of [`dual_descent`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct DualDescent {
    /// The KL budget ε > 0.
    pub epsilon: f64,
    /// Initial β.
    pub beta0: f64,
    /// Step size η > 0.
    pub lr: f64,
    /// Number of steps.
    pub steps: usize,
    /// Lower clamp β_min > 0.
    pub beta_min: f64,
    /// How KLs are averaged.
    pub weights: KlWeights,
}

fn check_epsilon(epsilon: f64) -> Result<()> {
    if epsilon.is_finite() && epsilon > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name: "epsilon".into(), message: format!("{epsilon} must be a positive number") })
    }
}

/// Run dual descent on β (Eq. 9) with exact KL_β. Returns the trajectory, `steps + 1` points
/// including the start.
///
/// # Formula
///
/// ```text
/// J(β) = β·ε − β·KL_β                                   (Eq. 9)
/// β ← clamp( β − η·(ε − KL_β), β_min, 1e7 )             (a gradient step on J, App. C.4)
/// ```
///
/// The step is the learners' own [`dual_step`] (its linear form), with
/// the exact KL_β of the model in place of a measured one.
///
/// KL_β above ε pushes β up (less optimism), below ε down; a fixed point is a root of
/// KL_β = ε where KL_β falls as β grows (a stable root of [`kl_roots`]).
///
/// # Errors
/// [`Error::InvalidParameter`] for ε ≤ 0, η ≤ 0, β_min outside (0, 1e7], β0 outside
/// [β_min, 1e7]; and those of [`kl_at`].
///
/// # Examples
/// On the risky arm with uniform weights, descent from β = 1 settles at the root of
/// KL_β = 0.05 (β ≈ 5.6646, the README's `riskmdp dual` example).
/// ```
/// use riskmdp::dual::{DualDescent, dual_descent, kl_roots};
/// use riskmdp::envs::risky_arm;
/// use riskmdp::utility::KlWeights;
/// use riskmdp::SolveOptions;
/// let (mdp, options) = (risky_arm(), SolveOptions::default());
/// let settings = DualDescent {
///     epsilon: 0.05, beta0: 1.0, lr: 20.0, steps: 60, beta_min: 1e-3, weights: KlWeights::Uniform,
/// };
/// let path = dual_descent(&mdp, settings, options)?;
/// assert_eq!(path.len(), 61);
/// let root = kl_roots(&mdp, 0.05, (1e-3, 1e7), 121, KlWeights::Uniform, options)?.roots[0];
/// let last = path[60];
/// assert!((last.beta - root).abs() < 1e-6 * root && (last.kl - 0.05).abs() < 1e-8);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn dual_descent(mdp: &TabularMdp, settings: DualDescent, options: SolveOptions) -> Result<Vec<DualStep>> {
    check_epsilon(settings.epsilon)?;
    if settings.steps > MAX_DESCENT_STEPS {
        return Err(Error::InvalidParameter {
            name: "steps".into(),
            message: format!("{} is above {MAX_DESCENT_STEPS}", settings.steps),
        });
    }
    if !(settings.lr.is_finite() && settings.lr > 0.0) {
        return Err(Error::InvalidParameter {
            name: "lr".into(),
            message: format!("{} must be positive", settings.lr),
        });
    }
    if !(settings.beta_min > 0.0 && settings.beta_min <= BETA_MAX) {
        return Err(Error::InvalidParameter {
            name: "beta_min".into(),
            message: format!("{} is outside (0, {BETA_MAX:e}]", settings.beta_min),
        });
    }
    if !(settings.beta0 >= settings.beta_min && settings.beta0 <= BETA_MAX) {
        return Err(Error::InvalidParameter {
            name: "beta0".into(),
            message: format!("{} is outside [beta_min = {}, {BETA_MAX:e}]", settings.beta0, settings.beta_min),
        });
    }
    let mut beta = settings.beta0;
    let mut out = Vec::with_capacity(settings.steps + 1);
    for step in 0..=settings.steps {
        let kl = kl_at(mdp, Beta::new(beta)?, settings.weights, options)?;
        out.push(DualStep { beta, kl });
        if step < settings.steps {
            let (epsilon, lr) = (settings.epsilon, settings.lr);
            beta = dual_step(beta, kl, epsilon, lr, BetaUpdate::Linear, (settings.beta_min, BETA_MAX));
        }
    }
    Ok(out)
}

/// A sign change of KL_β − ε found on the grid and refined.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Crossing {
    /// β of the crossing (to ~1e-13 relative).
    pub beta: f64,
    /// Dual descent is attracted here: KL_β − ε goes from + to − as β grows.
    pub stable: bool,
    /// KL_β − ε does not vanish here: KL_β jumps across ε (a greedy-policy switch).
    pub jump: bool,
}

/// Everything [`kl_roots`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RootScan {
    /// ε.
    pub epsilon: f64,
    /// Every β with KL_β = ε, ascending.
    pub roots: Vec<f64>,
    /// The roots dual descent is attracted to.
    pub stable_roots: Vec<f64>,
    /// Sign changes across jumps of KL_β (not roots).
    pub jumps: Vec<Crossing>,
    /// `[β, KL_β]` on the grid.
    pub kl_curve: Vec<[f64; 2]>,
}

/// Find every root of KL_β = ε on a grid of `points` values of β, log-spaced in
/// `[beta_min, beta_max]`.
///
/// KL_β can jump only where the greedy policy switches (its occupancy changes; the posterior
/// dynamics move continuously), so in every grid cell where KL_β − ε changes sign or is small
/// against its change (the cells the root search looks into) the scan first locates every
/// greedy switch of every non-terminal state ([`every_switch`], certified),
/// and looks at KL_β just below and just above each (1e-10 relative away). Between those
/// points KL_β is continuous: every sign change of KL_β − ε is bisected in log β to 1e-13
/// relative, and the search goes on in the rest of the piece. A sign change across a switch
/// is a jump of KL_β, reported in [`RootScan::jumps`], not as a root; so is one whose bracket's
/// ends stay more than 1e-6·ε apart.
///
/// # Resolution
///
/// Between switches KL_β is smooth but not proven monotone. A piece with the same sign of
/// KL_β − ε at both ends is halved (up to 4 times) where |KL_β − ε| at its ends is no larger
/// than its change across it, to find two roots hidden inside; a pair of roots that does not
/// show that way is missed. On models where KL_β is monotone between switches (one decision
/// before terminal outcomes, `tests/dual_every_root.rs`), every root and jump is found.
///
/// # Formula
///
/// ```text
/// KL_β = ε    (the constraint of Eq. 8 active; KL_β as in kl_at)
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] for a bad ε, range or point count; those of [`kl_at`].
///
/// # Examples
/// With occupancy weights the risky arm's KL_β falls while the gamble is greedy, then drops to
/// 0 at the switch β* = 5/ln 9, where `left` (deterministic) takes over: for ε = 0.05 there is
/// no root, only a jump at β*. With uniform weights it has one stable root.
/// ```
/// use riskmdp::dual::kl_roots;
/// use riskmdp::envs::risky_arm;
/// use riskmdp::utility::KlWeights;
/// use riskmdp::SolveOptions;
/// let (mdp, options) = (risky_arm::risky_arm(), SolveOptions::default());
/// let occupancy = kl_roots(&mdp, 0.05, (0.1, 100.0), 31, KlWeights::Occupancy, options)?;
/// assert!(occupancy.roots.is_empty());
/// assert_eq!(occupancy.jumps.len(), 1);
/// assert!((occupancy.jumps[0].beta - risky_arm::switch_beta()).abs() < 1e-6);
/// let uniform = kl_roots(&mdp, 0.05, (0.1, 100.0), 31, KlWeights::Uniform, options)?;
/// assert_eq!(uniform.roots, uniform.stable_roots);
/// assert!((uniform.roots[0] - 5.664569).abs() < 1e-6);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn kl_roots(
    mdp: &TabularMdp,
    epsilon: f64,
    (beta_min, beta_max): (f64, f64),
    points: usize,
    weights: KlWeights,
    options: SolveOptions,
) -> Result<RootScan> {
    check_epsilon(epsilon)?;
    let grid = log_grid(beta_min, beta_max, points)?;
    let mut f = |beta: f64| -> Result<f64> { Ok(kl_at(mdp, Beta::new(beta)?, weights, options)? - epsilon) };
    // Keep KL_β itself for the curve: (KL − ε) + ε would round tiny KLs to a few digits.
    let kls = grid.iter().map(|&b| kl_at(mdp, Beta::new(b)?, weights, options)).collect::<Result<Vec<_>>>()?;
    // The switches are needed only in the cells the root search looks into: a scan of every
    // state's switches costs many solves per switch, far more than KL_β on the grid.
    let nonterminal: Vec<usize> = (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)).collect();
    let mut switches = Vec::new();
    for (i, cell) in grid.windows(2).enumerate() {
        if worth_searching(kls[i] - epsilon, kls[i + 1] - epsilon) {
            let scan = every_switch(mdp, &nonterminal, cell, options)?;
            switches.extend(scan.switches.iter().map(|s| s.switch.beta).filter(|&b| cell[0] < b && b < cell[1]));
        }
    }
    switches.dedup_by(|x, y| x.to_bits() == y.to_bits());
    // Continuous pieces: the grid, cut just below and just above every switch.
    let mut pieces: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    let mut across = Vec::new();
    let mut next_switch = switches.iter().peekable();
    for (i, &beta) in grid.iter().enumerate() {
        while let Some(&&s) = next_switch.peek() {
            if s > beta {
                break;
            }
            next_switch.next();
        }
        pieces.last_mut().expect("one piece").push((beta, kls[i] - epsilon));
        let Some(&end) = grid.get(i + 1) else { break };
        while let Some(&&s) = next_switch.peek() {
            if s >= end {
                break;
            }
            next_switch.next();
            let (below, above) = (s * (1.0 - 1e-10), s * (1.0 + 1e-10));
            let last = pieces.last().and_then(|p| p.last()).map_or(beta, |p| p.0);
            if !(last < below && above < end) {
                continue;
            }
            let (f_below, f_above) = (f(below)?, f(above)?);
            pieces.last_mut().expect("one piece").push((below, f_below));
            pieces.push(vec![(above, f_above)]);
            across.push((s, f_below, f_above));
        }
    }
    let mut crossings = Vec::new();
    let jumps_at = |f_lo: f64, f_hi: f64| (f_hi - f_lo).abs() > 1e-6 * epsilon;
    for piece in &pieces {
        for change in every_sign_change(piece, Width::Relative(1e-13), &mut f)? {
            let jump = jumps_at(change.f_lo, change.f_hi);
            crossings.push(Crossing { beta: change.beta, stable: change.f_lo > 0.0, jump });
        }
    }
    for (s, f_below, f_above) in across {
        if f_below != 0.0 && f_above != 0.0 && f_below.is_sign_positive() != f_above.is_sign_positive() {
            crossings.push(Crossing { beta: s, stable: f_below > 0.0, jump: jumps_at(f_below, f_above) });
        }
    }
    crossings.sort_by(|x, y| x.beta.total_cmp(&y.beta));
    let roots: Vec<f64> = crossings.iter().filter(|c| !c.jump).map(|c| c.beta).collect();
    let stable_roots = crossings.iter().filter(|c| !c.jump && c.stable).map(|c| c.beta).collect();
    Ok(RootScan {
        epsilon,
        roots,
        stable_roots,
        jumps: crossings.into_iter().filter(|c| c.jump).collect(),
        kl_curve: grid.iter().zip(&kls).map(|(&b, &kl)| [b, kl]).collect(),
    })
}

/// `points` values log-spaced in `[lo, hi]`, both valid β with lo < hi, 2 ≤ points ≤ 100 000;
/// the ends are exactly `lo` and `hi`.
///
/// # Formula
///
/// ```text
/// β_i = exp( ln lo + (ln hi − ln lo)·i/(points − 1) ),   i = 0 … points − 1
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] otherwise.
///
/// # Examples
/// ```
/// use riskmdp::dual::log_grid;
/// let grid = log_grid(0.1, 1000.0, 5)?;
/// let expected = [0.1, 1.0, 10.0, 100.0, 1000.0];
/// assert!(grid.iter().zip(expected).all(|(b, e)| (b / e - 1.0).abs() < 1e-14));
/// assert!(log_grid(10.0, 1.0, 5).is_err());
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn log_grid(lo: f64, hi: f64, points: usize) -> Result<Vec<f64>> {
    Beta::new(lo)?;
    Beta::new(hi)?;
    if lo >= hi {
        return Err(Error::InvalidParameter { name: "beta range".into(), message: format!("{lo} is not below {hi}") });
    }
    if !(2..=100_000).contains(&points) {
        return Err(Error::InvalidParameter {
            name: "points".into(),
            message: format!("{points} is not in 2..=100000"),
        });
    }
    let (a, b) = (lo.ln(), hi.ln());
    Ok((0..points)
        .map(|i| match i {
            0 => lo,
            _ if i + 1 == points => hi,
            _ => (a + (b - a) * i as f64 / (points - 1) as f64).exp(),
        })
        .collect())
}

/// Tests added for mutants that `cargo mutants` found alive (docs/mutation-testing.md); each
/// names the mutant it kills.
#[cfg(test)]
mod mutation_tests {
    use super::*;
    use crate::envs::risky_arm;

    /// Kills `a + (b − a)·i/(n − 1)` → `a·…` and `n + 1` in `log_grid`: the grid is log-spaced
    /// with both ends included — 10^k for k = −3..7 on [1e-3, 1e7] with 11 points.
    #[test]
    fn log_grid_is_evenly_spaced_in_log_beta() {
        let grid = log_grid(1e-3, 1e7, 11).expect("valid range");
        assert_eq!(grid.len(), 11);
        for (k, beta) in grid.iter().enumerate() {
            let exact = 10f64.powi(k as i32 - 3);
            assert!((beta - exact).abs() <= 1e-13 * exact, "point {k}: {beta} vs {exact}");
        }
        let three = log_grid(1.0, 100.0, 3).expect("valid range");
        assert!((three[1] - 10.0).abs() <= 1e-13 * 10.0, "{three:?}");
    }

    /// Kills `i + 1 == points` → `i * 1 == points` in `log_grid` (found by the second run):
    /// the ends are the given β exactly, as documented, not `exp(ln β)`, which rounds —
    /// exp(ln 1e-3) = 0.0010000000000000002 and exp(ln 1e-3 + (ln 1e7 − ln 1e-3)) =
    /// 10000000.000000006 in f64 (computed with Python's `math`, the same libm operations).
    /// The low end was `exp(ln lo)` until this test: a grid from 1e-3 started at 1e-3 + 2e-19.
    #[test]
    fn log_grid_ends_are_exactly_the_given_betas() {
        let grid = log_grid(1e-3, 1e7, 11).expect("valid range");
        assert_eq!(grid[0].to_bits(), 1e-3f64.to_bits(), "{}", grid[0]);
        assert_eq!(grid[10].to_bits(), 1e7f64.to_bits(), "{}", grid[10]);
    }

    /// Kills `sol.v.row(t + 1)` → `row(t - 1)` and `row(t * 1)` in `kl_at` with a horizon (no
    /// test called it on one): the posterior dynamics at step t tilt by V_{t+1}. On the risky
    /// arm with T = 2 only `right` at S is stochastic. At t = 0 it tilts by V₁(A) = −10/β,
    /// V₁(B) = 0, the closed form q(A) = 0.9·e^{−10/β}/(0.9·e^{−10/β} + 0.1) of
    /// `risky_arm::posterior_a`; at t = 1 by V₂ = 0, no tilt, KL 0. Uniform weights count the
    /// 2 steps × 3 non-terminal states × 2 actions = 12 pairs, so
    /// KL_β = KL((q_A, 1 − q_A) ‖ (0.9, 0.1)) / 12. Using V_t instead would tilt t = 1 too.
    #[test]
    fn finite_horizon_kl_tilts_step_t_by_the_next_values() {
        let mdp = risky_arm::risky_arm().with_horizon(Some(2)).expect("T = 2 is valid");
        let beta = 2.0;
        let qa = risky_arm::posterior_a(beta);
        let kl_s_right = qa * (qa / 0.9).ln() + (1.0 - qa) * ((1.0 - qa) / 0.1).ln();
        let kl = kl_at(&mdp, Beta::new(beta).expect("β > 0"), KlWeights::Uniform, SolveOptions::default())
            .expect("finite horizon");
        assert!((kl - kl_s_right / 12.0).abs() < 1e-14, "{kl} vs {}", kl_s_right / 12.0);
    }

    /// Kills `epsilon > 0.0` → `>=` in `check_epsilon`: the KL budget ε must be positive, so
    /// ε = 0 is an `InvalidParameter` error for both the root scan and dual descent.
    #[test]
    fn a_zero_kl_budget_is_rejected() {
        let (mdp, options) = (risky_arm::risky_arm(), SolveOptions::default());
        let scan = kl_roots(&mdp, 0.0, (0.1, 10.0), 5, KlWeights::Uniform, options);
        assert!(matches!(scan, Err(Error::InvalidParameter { .. })), "{scan:?}");
        let settings =
            DualDescent { epsilon: 0.0, beta0: 1.0, lr: 1.0, steps: 1, beta_min: 1e-3, weights: KlWeights::Uniform };
        let path = dual_descent(&mdp, settings, options);
        assert!(matches!(path, Err(Error::InvalidParameter { .. })), "{path:?}");
    }

    /// Kills `&&` → `||` and `>` → `>=` in dual descent's checks of η and β_min: the step
    /// size must be finite and positive (η = 0 and η = ∞ are errors), and β_min must lie in
    /// (0, 1e7] (β_min = 0 and 2e7 are errors, 1e7 itself is accepted).
    #[test]
    fn dual_descent_rejects_a_zero_or_infinite_step_and_beta_min_outside_its_range() {
        let (mdp, options) = (risky_arm::risky_arm(), SolveOptions::default());
        let ok =
            DualDescent { epsilon: 0.05, beta0: 1e7, lr: 1.0, steps: 0, beta_min: 1e-3, weights: KlWeights::Uniform };
        assert!(dual_descent(&mdp, ok, options).is_ok());
        for (settings, field) in [
            (DualDescent { lr: 0.0, ..ok }, "lr"),
            (DualDescent { lr: f64::INFINITY, ..ok }, "lr"),
            (DualDescent { beta_min: 0.0, ..ok }, "beta_min"),
            (DualDescent { beta_min: 2e7, ..ok }, "beta_min"),
            (DualDescent { steps: MAX_DESCENT_STEPS + 1, ..ok }, "steps"),
            // Exactly the cap is allowed, so the error is the next check's (kills `steps >
            // MAX_DESCENT_STEPS` → `>=` without running 10⁶ solves).
            (DualDescent { steps: MAX_DESCENT_STEPS, lr: 0.0, ..ok }, "lr"),
        ] {
            let path = dual_descent(&mdp, settings, options);
            assert!(
                matches!(&path, Err(Error::InvalidParameter { name, .. }) if name == field),
                "{settings:?}: {path:?}"
            );
        }
        assert!(dual_descent(&mdp, DualDescent { beta_min: BETA_MAX, ..ok }, options).is_ok());
    }

    /// Kills `(f_hi − f_lo).abs()` → `(f_hi + f_lo).abs()` and `1e-6 * ε` → `1e-6 + ε` in the
    /// jump test of `kl_roots`, and `!c.jump && c.stable` → `||` (a jump is no stable root). With occupancy weights the risky arm's KL_β jumps to 0 at
    /// β* = 5/ln 9, from KL(β*−) = KL((0.1, 0.9) ‖ (0.9, 0.1))/2 = 0.8·ln 9/2 = 0.4·ln 9
    /// (q(A|S,right) = 0.9·(1/81)/(0.9/81 + 0.1) = 0.1 at β*, and S, right are visited twice
    /// among the weighted pairs). For ε = 0.2·ln 9 the ends of the jump are ±ε, whose sum
    /// vanishes; for ε = 0.4·ln 9 − 5e-7 the jump is only 5e-7 above ε. Both are a jump at β*,
    /// not a root.
    #[test]
    fn a_jump_symmetric_about_epsilon_or_just_above_it_is_still_a_jump() {
        let (mdp, options) = (risky_arm::risky_arm(), SolveOptions::default());
        for epsilon in [0.2 * 9f64.ln(), 0.4 * 9f64.ln() - 5e-7] {
            let scan = kl_roots(&mdp, epsilon, (0.1, 100.0), 31, KlWeights::Occupancy, options).expect("solvable");
            assert!(scan.roots.is_empty() && scan.stable_roots.is_empty(), "ε = {epsilon}: {scan:?}");
            assert_eq!(scan.jumps.len(), 1, "ε = {epsilon}");
            assert!((scan.jumps[0].beta - risky_arm::switch_beta()).abs() < 1e-6, "ε = {epsilon}");
        }
    }

    /// Kills `1e-6 * ε` → `1e-6 / ε` in the jump test of `kl_roots`: for ε < 1e-3 the
    /// mutant's threshold 1e-6/ε exceeds 1e-3, so a jump of KL_β across a small ε is taken
    /// for a root. On the risky arm with occupancy weights KL_β jumps at β* = 5/ln 9 from
    /// 0.4·ln 9 ≈ 0.88 (see the test above) to 0, and is above 0.88 below β* (the gamble's
    /// posterior moves away from the prior as β falls). With ε = 1e-7 the one sign change of
    /// KL_β − ε is that jump, of size 0.88: far above 1e-6·ε = 1e-13 (a jump), below
    /// 1e-6/ε = 10 (the mutant's root).
    #[test]
    fn a_jump_across_a_tiny_kl_budget_is_a_jump_not_a_root() {
        let (mdp, options) = (risky_arm::risky_arm(), SolveOptions::default());
        let scan = kl_roots(&mdp, 1e-7, (0.1, 100.0), 31, KlWeights::Occupancy, options).expect("solvable");
        assert!(scan.roots.is_empty(), "{scan:?}");
        let [jump] = scan.jumps.as_slice() else { panic!("one jump: {scan:?}") };
        assert!((jump.beta / risky_arm::switch_beta() - 1.0).abs() < 1e-11, "{} vs 5/ln 9", jump.beta);
    }

    /// S → A or B with probability 1/2 each; A → W (then reward 10) with probability 1/50,
    /// else L (reward 0); B → reward 9. One action everywhere, γ = 1, terminal T, start ρ.
    fn long_shot_or_nine(initial: [f64; 6]) -> TabularMdp {
        let n = 6;
        let to = |j: usize| (0..n).map(|k| if k == j { 1.0 } else { 0.0 }).collect::<Vec<f64>>();
        let spec = crate::mdp::MdpSpec {
            name: "long-shot-or-nine".into(),
            state_names: Some(["S", "A", "B", "W", "L", "T"].iter().map(|s| s.to_string()).collect()),
            action_names: None,
            gamma: 1.0,
            horizon: None,
            initial: Some(initial.to_vec()),
            terminal: Some(vec![false, false, false, false, false, true]),
            transitions: vec![
                vec![vec![0.0, 0.5, 0.5, 0.0, 0.0, 0.0]],
                vec![vec![0.0, 0.0, 0.0, 0.02, 0.98, 0.0]],
                vec![to(5)],
                vec![to(5)],
                vec![to(5)],
                vec![to(5)],
            ]
            .into(),
            rewards: vec![vec![0.0], vec![0.0], vec![9.0], vec![10.0], vec![0.0], vec![0.0]],
            grid: None,
        };
        TabularMdp::new(spec).expect("a valid hand-built model")
    }

    /// Start at S.
    const FROM_S: [f64; 6] = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0];

    /// KL_β of [`long_shot_or_nine`] from S by hand, occupancy weights: d(S) = 1, d(A) = d(B) = 1/2,
    /// d(W) = 1/100, d(L) = 49/100 (Σ d = 5/2); only S and A are stochastic. V(W) = 10/β,
    /// V(L) = 0, V(A) = ln(0.02·e^{10/β} + 0.98), V(B) = 9/β, and q ∝ P·e^V (Eq. 4):
    /// KL_β = [KL(q_S ‖ (½, ½)) + ½·KL(q_A ‖ (0.02, 0.98))] / (5/2).
    fn long_shot_or_nine_kl(beta: f64) -> f64 {
        let kl = |q: f64, p: f64| q * (q / p).ln() + (1.0 - q) * ((1.0 - q) / (1.0 - p)).ln();
        let win = 0.02 * (10.0 / beta).exp();
        let q_a = 1.0 / (1.0 + 0.98 / win);
        let v_a = (win + 0.98).ln();
        let q_s = 1.0 / (1.0 + (9.0 / beta - v_a).exp());
        (kl(q_s, 0.5) + 0.5 * kl(q_a, 0.02)) / 2.5
    }

    /// Kills `fa * fb >= 0.0` → `fa / fb >= 0.0` in `kl_roots`: they differ where KL_β − ε is
    /// exactly 0 at a grid point (fb = 0) and negative before it, where the mutant bisects the
    /// cell before (fa/0 = −∞) and reports that grid point a second time, once bisected and
    /// once as the exact zero of the next cell. That needs KL_β rising in β. In
    /// [`long_shot_or_nine`] V(A) = V(B) near β = 1/4 (the long shot's certainty equivalent
    /// passes 9), so the posterior at S returns to the prior there and KL(q_S ‖ P) grows
    /// above it while A's term stays near its β → 0 limit ln 50 ≈ 3.91 (3.89 at β = 1): by
    /// hand KL_β = 0.7828, 0.9061, 0.9734 at β = 1/4, 1/2, 1 (the crate agrees to 1e-12). With ε = KL_{1/2} as the crate
    /// computes it, KL_β − ε is −, 0, + on the grid (1/4, 1/2, 1): one root, 1/2 itself.
    #[test]
    fn a_rising_kl_equal_to_epsilon_at_a_grid_point_is_one_root() {
        let (mdp, options) = (long_shot_or_nine(FROM_S), SolveOptions::default());
        let grid = log_grid(0.25, 1.0, 3).expect("valid range");
        let kl = |beta: f64| kl_at(&mdp, Beta::new(beta).expect("β > 0"), KlWeights::Occupancy, options);
        let kls = grid.iter().map(|&b| kl(b)).collect::<Result<Vec<_>>>().expect("solvable");
        for (&beta, &got) in grid.iter().zip(&kls) {
            let expected = long_shot_or_nine_kl(beta);
            assert!((got - expected).abs() < 1e-12 * expected, "β = {beta}: {got} vs {expected}");
        }
        assert!(kls[0] < kls[1] && kls[1] < kls[2], "KL_β rises on the grid: {kls:?}");
        let scan = kl_roots(&mdp, kls[1], (0.25, 1.0), 3, KlWeights::Occupancy, options).expect("solvable");
        let [root] = scan.roots.as_slice() else { panic!("one root: {scan:?}") };
        assert_eq!(root.to_bits(), grid[1].to_bits(), "the grid point itself");
        assert!(scan.jumps.is_empty() && scan.stable_roots.is_empty(), "{scan:?}");
    }

    /// A sign change of KL_β − ε between two values below 1e-162 is still a root: their
    /// product underflows to −0, which `fa * fb >= 0.0` took for "same sign". Starting in
    /// B with probability 1 and in S with probability t = 1e-170, [`long_shot_or_nine`]
    /// visits S, A, B, W, L with t times the weights from S, and B once more: Σ d rounds to 1,
    /// so KL_β = t·(5/2)·K(β) with K the KL_β from S (B's pair is deterministic, KL 0). For
    /// ε = t·(5/2)·K(0.7) the only root is β = 0.7 (K rises on [1/4, 1], see the test above),
    /// and KL_β − ε is t·(5/2)·(K(β) − K(0.7)) ≈ −1.1e-171 at β = 1/2 and +5.6e-172 at β = 1,
    /// whose product (≈ −6e-343) is below the least subnormal, 4.9e-324. (Before the sign test
    /// this scan found no root.) d ln K/d ln β ≈ 0.1 at 0.7, so the crate's KL, within 1e-12
    /// of the hand value, puts the root within ~1e-11 of 0.7.
    #[test]
    fn a_sign_change_of_values_whose_product_underflows_is_still_a_root() {
        let t = 1e-170;
        let (mdp, options) = (long_shot_or_nine([t, 0.0, 1.0, 0.0, 0.0, 0.0]), SolveOptions::default());
        let scaled = |beta: f64| t * 2.5 * long_shot_or_nine_kl(beta);
        for beta in [0.5, 0.7, 1.0] {
            let got = kl_at(&mdp, Beta::new(beta).expect("β > 0"), KlWeights::Occupancy, options).expect("solvable");
            assert!((got - scaled(beta)).abs() < 1e-12 * scaled(beta), "β = {beta}: {got:e} vs {:e}", scaled(beta));
        }
        let epsilon = scaled(0.7);
        let product = (scaled(0.5) - epsilon) * (scaled(1.0) - epsilon);
        assert_eq!(product.abs().to_bits(), 0, "the product underflows to ±0: {product:e}");
        let scan = kl_roots(&mdp, epsilon, (0.5, 1.0), 2, KlWeights::Occupancy, options).expect("solvable");
        let [root] = scan.roots.as_slice() else { panic!("one root: {scan:?}") };
        assert!((root / 0.7 - 1.0).abs() < 1e-10, "{root} vs 0.7");
    }
}
