//! Tabular MnM ("Mismatched No More", Eysenbach et al. 2022): the VMBPO learner (β = 1) on the
//! log-transformed reward.
//!
//! # Formula
//!
//! ```text
//! r̃(s,a) = (1 − γ)·log r(s,a)          (needs r > 0 on every non-terminal pair, γ < 1)
//! ```
//!
//! The return is still measured with the true reward.

use ndarray::Array2;

use super::beta_vmbpo::{RewardTransform, VariationalLearner};
use super::config::LearnConfig;
use crate::error::{Error, Result};
use crate::mdp::TabularMdp;

/// The MnM learner (`beta0`, `epsilon` and `beta_lr` of the config are ignored).
///
/// # Errors
/// [`Error::InvalidParameter`] (`rewards`) if a non-terminal reward is not positive, then
/// (`gamma`) if γ = 1 (the transform would zero every reward); those of
/// [`LearnConfig::validate`].
///
/// # Examples
/// ```
/// use riskmdp::learn::{LearnConfig, mnm};
/// let err = mnm::learner(&riskmdp::envs::risky_arm(), &LearnConfig::default()).unwrap_err();
/// assert_eq!(err.to_string(), "rewards: MnM needs positive rewards, but r(S, left) = -5");
/// ```
pub fn learner<'m>(mdp: &'m TabularMdp, config: &LearnConfig) -> Result<VariationalLearner<'m>> {
    super::vmbpo::with_beta_one(mdp, config, RewardTransform::MnmLog)
}

/// `(1 − γ)·log r` on the non-terminal pairs (0 on terminal ones).
pub(crate) fn log_rewards(mdp: &TabularMdp) -> Result<Array2<f64>> {
    let gamma = mdp.gamma();
    let mut out = Array2::zeros(mdp.rewards().raw_dim());
    for s in (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)) {
        for a in 0..mdp.n_actions() {
            let r = mdp.rewards()[[s, a]];
            if r <= 0.0 {
                return Err(Error::InvalidParameter {
                    name: "rewards".into(),
                    message: format!(
                        "MnM needs positive rewards, but r({}, {}) = {r}",
                        mdp.state_names()[s],
                        mdp.action_names()[a]
                    ),
                });
            }
            out[[s, a]] = (1.0 - gamma) * r.ln();
        }
    }
    if gamma >= 1.0 {
        return Err(Error::InvalidParameter {
            name: "gamma".into(),
            message: "MnM's reward (1 − γ)·log r is 0 at γ = 1; use a model with γ < 1".into(),
        });
    }
    Ok(out)
}
