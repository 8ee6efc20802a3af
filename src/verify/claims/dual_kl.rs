//! Probe (Fig. 3c, not proven in the paper): is the mean posterior KL
//! `KL_β = Σ d(s,a)·KL(q_β(·|s,a) ‖ P(·|s,a)) / Σ d` non-increasing in β? If it is, dual
//! descent on β has one fixed point for every budget ε.
//!
//! On discounted random MDPs, `KL_β` (occupancy weights of the greedy policy from ρ, Eq. 8) is
//! computed through the operators under test on a log grid of [`KL_POINTS`] β in [1e-2, 1e3]
//! (shifted by a random fraction of a step); the violation is the largest rise of `KL_β` from
//! one grid point to the next, in nats. At the first point the value must equal
//! [`dual::kl_at`](crate::dual::kl_at). The detail says whether the worst rise crosses a change
//! of the greedy policy (where KL_β jumps) or not.

use super::{Violation, identity, jittered_grid, one_hot};
use crate::dual::kl_at;
use crate::operators::Aggregation;
use crate::operators::posterior_dynamics;
use crate::policy::Policy;
use crate::risk::Beta;
use crate::solve::{SolveOptions, greedy_actions};
use crate::utility::{KlWeights, kl_per_pair, occupancy, weighted_mean};
use crate::verify::operators::{Operators, iterate};
use crate::verify::random::Case;

/// Grid points of the probe.
pub const KL_POINTS: usize = 13;

/// `KL_β` and the greedy policy, through `ops`.
pub fn kl_through(ops: &dyn Operators, case: &Case, beta: Beta) -> crate::Result<(f64, Vec<usize>)> {
    let mdp = &case.mdp;
    let q = iterate(ops, mdp, beta, Aggregation::Max, None);
    let v = ops.max_value(mdp, q.view());
    let greedy = greedy_actions(mdp, q.view());
    let kl = kl_per_pair(mdp, &posterior_dynamics(mdp, v.view()));
    let d = occupancy(mdp, &Policy::stationary(mdp, one_hot(mdp.n_actions(), &greedy))?)?;
    let (kl, d): (Vec<f64>, Vec<f64>) = (kl.iter().copied().collect(), d.iter().copied().collect());
    Ok((weighted_mean(&kl, &d), greedy))
}

/// The probe on one case.
pub fn check(case: &Case, ops: &dyn Operators) -> Violation {
    let step = (1e3f64 / 1e-2).ln() / (KL_POINTS - 1) as f64;
    let u = ((case.beta.get() / 1e-2).ln() / step).fract().abs();
    let betas = jittered_grid(1e-2, 1e3, KL_POINTS, u);
    let result = (|| -> crate::Result<Violation> {
        let mut points = Vec::with_capacity(betas.len());
        for &b in &betas {
            points.push(kl_through(ops, case, Beta::new(b)?)?);
        }
        let reference = kl_at(&case.mdp, Beta::new(betas[0])?, KlWeights::Occupancy, SolveOptions::default())?;
        let mut worst = identity("KL_β through the operators = dual::kl_at", points[0].0, reference, 1.0);
        for i in 0..betas.len() - 1 {
            let ((k0, g0), (k1, g1)) = (&points[i], &points[i + 1]);
            let why = if g0 == g1 { "same greedy policy" } else { "greedy policy changes" };
            worst = worst.max(Violation::of(
                (k1 - k0).max(0.0),
                format!("KL rises {k0:.6e} → {k1:.6e} nats from β={:.4e} to β={:.4e} ({why})", betas[i], betas[i + 1]),
            ));
        }
        Ok(worst)
    })();
    result.unwrap_or_else(Violation::error)
}
