//! Where β-VMBPO's β should settle, predicted by the exact engine from the learner's data.
//!
//! The dual step (Eq. 9) stops moving where the measured KL equals ε. Computed exactly on the
//! empirical model, with the data's state-action shares as weights:
//!
//! # Formula
//!
//! ```text
//! KL̂_β = Σ_{s,a} n(s,a)/n · KL( q_β(·|s,a) ‖ p̂(·|s,a) ),   q_β ∝ p̂·exp V*_β        (Eqs. 4, 8)
//! V*_β   the optimum of the empirical model at β (value iteration, Lemma 4.1)
//! β̂      every root of KL̂_β = ε: sign changes on a log grid, refined by bisection in log β
//! ```
//!
//! The learner's own KL differs from KL̂_β where the TD clamp binds (it cuts the tilt) and
//! while its critic has not converged; comparing the two separates those effects from the
//! dual's fixed point itself.

use super::model::EmpiricalModel;
use crate::bisection::{Width, every_sign_change};
use crate::error::Result;
use crate::mdp::TabularMdp;
use crate::risk::Beta;
use crate::solve::{SolveOptions, value_iteration};
use crate::utility::{kl_of_posterior_dynamics, weighted_mean};

/// KL̂_β: the mean KL of the exact posterior dynamics of the empirical model at β, weighted by
/// the data's state-action shares (see the module docs).
///
/// # Errors
/// Those of [`EmpiricalModel::to_mdp`] and [`value_iteration()`].
pub fn data_kl(model: &EmpiricalModel, like: &TabularMdp, beta: Beta) -> Result<f64> {
    let empirical = model.to_mdp(like)?;
    data_kl_of(model, &empirical, beta)
}

fn data_kl_of(model: &EmpiricalModel, empirical: &TabularMdp, beta: Beta) -> Result<f64> {
    let v = value_iteration(empirical, beta, SolveOptions::default())?.v;
    let kl = kl_of_posterior_dynamics(empirical, &v.to_vec());
    let (s_count, a_count) = (empirical.n_states(), empirical.n_actions());
    let weights: Vec<f64> = (0..s_count)
        .flat_map(|s| (0..a_count).map(move |a| (s, a)))
        .map(|(s, a)| model.pair_count(s, a) as f64)
        .collect();
    Ok(weighted_mean(&kl.into_raw_vec_and_offset().0, &weights))
}

/// Every β in `[lo, hi]` where KL̂_β crosses ε, ascending (empty if none): a grid of `points`
/// values evenly spaced in log β, each sign change refined by bisection to 1e-10 in ln β, the
/// search going on in the rest of the cell, and cells where |KL̂_β − ε| is small against its
/// change halved to find two crossings inside one cell (as in
/// [`kl_roots`](crate::dual::kl_roots); KL̂_β weighs the pairs by their counts, so it is
/// continuous in β).
///
/// # Errors
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a bad range or fewer than 2
/// points; those of [`data_kl`].
pub fn predicted_betas(
    model: &EmpiricalModel,
    like: &TabularMdp,
    epsilon: f64,
    (lo, hi): (f64, f64),
    points: usize,
) -> Result<Vec<f64>> {
    let grid = crate::dual::log_grid(lo, hi, points)?;
    let empirical = model.to_mdp(like)?;
    let excess = |beta: f64| -> Result<f64> { Ok(data_kl_of(model, &empirical, Beta::new(beta)?)? - epsilon) };
    let mut excess = excess;
    let points: Vec<(f64, f64)> = grid.iter().map(|&b| Ok((b, excess(b)?))).collect::<Result<_>>()?;
    let changes = every_sign_change(&points, Width::Absolute(1e-10), &mut excess)?;
    Ok(changes.into_iter().map(|c| c.beta).collect())
}
