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

use super::beta_vmbpo::{RewardTransform, VariationalLearner};
use super::config::LearnConfig;
use crate::error::Result;
use crate::mdp::TabularMdp;

/// The MnM learner (`beta0`, `epsilon` and `beta_lr` of the config are ignored).
///
/// # Errors
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) (`rewards`) if a non-terminal reward is not positive, then
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
