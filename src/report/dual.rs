//! `riskmdp dual`: every root of KL_β = ε and, optionally, a dual-descent trajectory (Eqs. 8–9).

use serde::Serialize;

use crate::dual::{DualDescent, RootScan, dual_descent, kl_roots};
use crate::error::Result;
use crate::mdp::TabularMdp;
use crate::solve::SolveOptions;
use crate::utility::KlWeights;

/// Everything `riskmdp dual` prints (its `--json`, field for field).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DualReport {
    /// The model's name.
    pub name: String,
    /// How the per-pair KLs are averaged: `occupancy` (Eq. 8) or `uniform`.
    pub weights: &'static str,
    /// The scanned range `[β_min, β_max]`.
    pub beta_range: [f64; 2],
    /// Grid points of the scan.
    pub points: usize,
    /// ε, the roots, stable roots, jumps and the KL curve.
    #[serde(flatten)]
    pub scan: RootScan,
    /// Dual descent as `[β, KL_β]` per step, the start included (with `--beta0`).
    pub trajectory: Option<Vec<[f64; 2]>>,
    /// The last β of dual descent (with `--beta0`).
    pub beta: Option<f64>,
}

/// `riskmdp dual`: scan `points` values of β log-spaced in `[beta_min, beta_max]` for every
/// root of KL_β = ε, and run dual descent if `descent` is given.
///
/// # Errors
/// Those of [`kl_roots`] and [`dual_descent`].
///
/// # Examples
/// ```
/// use riskmdp::{SolveOptions, report, utility::KlWeights};
/// let mdp = riskmdp::envs::risky_arm();
/// let r = report::dual(&mdp, 0.05, KlWeights::Uniform, (1e-3, 1e7, 121), None, SolveOptions::default())?;
/// assert_eq!(r.scan.roots.len(), 1);
/// assert!(r.trajectory.is_none());
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn dual(
    mdp: &TabularMdp,
    epsilon: f64,
    weights: KlWeights,
    (beta_min, beta_max, points): (f64, f64, usize),
    descent: Option<DualDescent>,
    options: SolveOptions,
) -> Result<DualReport> {
    options.validate()?;
    // Descent first: its settings are checked before the (longer) scan runs.
    let trajectory = descent.map(|d| dual_descent(mdp, d, options)).transpose()?;
    let scan = kl_roots(mdp, epsilon, (beta_min, beta_max), points, weights, options)?;
    Ok(DualReport {
        name: mdp.name().to_string(),
        weights: match weights {
            KlWeights::Occupancy => "occupancy",
            KlWeights::Uniform => "uniform",
        },
        beta_range: [beta_min, beta_max],
        points,
        scan,
        beta: trajectory.as_ref().and_then(|t| t.last()).map(|s| s.beta),
        trajectory: trajectory.map(|t| t.iter().map(|s| [s.beta, s.kl]).collect()),
    })
}
