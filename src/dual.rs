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
//! policy switches; a sign change across such a jump is reported as a jump, not a root.

use ndarray::Axis;
use serde::Serialize;

use crate::bisection::{Side, Width, bisect_log_beta};
use crate::error::{Error, Result};
use crate::mdp::TabularMdp;
use crate::risk::Beta;
use crate::solve::{Method, Solution, SolveOptions, solve_optimal};
use crate::utility::{
    KlWeights, kl_of_posterior_dynamics, occupancy, occupancy_finite_horizon, uniform_weights, weighted_mean,
};

/// Upper clamp of β in dual descent (paper App. C.4).
pub const BETA_MAX: f64 = 1e7;

/// KL_β: the mean KL between the posterior dynamics of the optimum at β and the true ones.
///
/// # Errors
/// Those of [`solve_optimal`].
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

/// Run dual descent `β ← clamp(β − η·(ε − KL_β), β_min, 1e7)` (Eq. 9) with exact KL_β.
/// Returns the trajectory, `steps + 1` points including the start.
///
/// # Errors
/// [`Error::InvalidParameter`] for ε ≤ 0, η ≤ 0, β_min outside (0, 1e7], β0 outside
/// [β_min, 1e7]; and those of [`kl_at`].
pub fn dual_descent(mdp: &TabularMdp, settings: DualDescent, options: SolveOptions) -> Result<Vec<DualStep>> {
    check_epsilon(settings.epsilon)?;
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
            beta = (beta - settings.lr * (settings.epsilon - kl)).clamp(settings.beta_min, BETA_MAX);
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
/// `[beta_min, beta_max]`, each sign change refined by bisection in log β.
///
/// Two roots closer than one grid cell can be missed; a finer grid finds them.
///
/// # Errors
/// [`Error::InvalidParameter`] for a bad ε, range or point count; those of [`kl_at`].
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
    let f = |beta: f64| -> Result<f64> { Ok(kl_at(mdp, Beta::new(beta)?, weights, options)? - epsilon) };
    let values = grid.iter().map(|&b| f(b)).collect::<Result<Vec<_>>>()?;
    let mut crossings = Vec::new();
    for i in 0..grid.len() - 1 {
        let (fa, fb) = (values[i], values[i + 1]);
        if fa == 0.0 {
            crossings.push(Crossing { beta: grid[i], stable: false, jump: false });
            continue;
        }
        if fa * fb >= 0.0 {
            continue;
        }
        // Bisect on the sign of KL_β − ε, keeping its values at the bracket's ends: a crossing
        // whose ends stay far apart is a jump of KL_β, not a root.
        let (mut f_lo, mut f_hi) = (fa, fb);
        let bracket = bisect_log_beta(grid[i].ln(), grid[i + 1].ln(), Width::Relative(1e-13), |beta| {
            let fm = f(beta)?;
            Ok(if fm == 0.0 {
                (f_lo, f_hi) = (fm, fm);
                Side::At
            } else if (fm > 0.0) == (f_lo > 0.0) {
                f_lo = fm;
                Side::Below
            } else {
                f_hi = fm;
                Side::Above
            })
        })?;
        let jump = (f_hi - f_lo).abs() > 1e-6 * epsilon;
        crossings.push(Crossing { beta: bracket.beta(), stable: fa > 0.0, jump });
    }
    if values.last().is_some_and(|&v| v == 0.0) {
        crossings.push(Crossing { beta: beta_max, stable: false, jump: false });
    }
    let roots: Vec<f64> = crossings.iter().filter(|c| !c.jump).map(|c| c.beta).collect();
    let stable_roots = crossings.iter().filter(|c| !c.jump && c.stable).map(|c| c.beta).collect();
    Ok(RootScan {
        epsilon,
        roots,
        stable_roots,
        jumps: crossings.into_iter().filter(|c| c.jump).collect(),
        kl_curve: grid.iter().zip(&values).map(|(&b, &v)| [b, v + epsilon]).collect(),
    })
}

/// `points` values log-spaced in `[lo, hi]`, both valid β with lo < hi, points ≥ 2.
///
/// # Errors
/// [`Error::InvalidParameter`] otherwise.
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
        .map(|i| if i + 1 == points { hi } else { (a + (b - a) * i as f64 / (points - 1) as f64).exp() })
        .collect())
}
