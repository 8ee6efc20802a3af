//! Tabular VMBPO (Chow et al. 2021): β-VMBPO with β fixed at 1 (plain RL-as-inference).
//!
//! # Formula
//!
//! ```text
//! the β-VMBPO episode with β ≡ 1:  q(s'|s,a) ∝ p(s'|s,a)·exp(V(s')),  y = r + γ·(V'(s') − log(q/p))
//! ```

use super::beta_vmbpo::{RewardTransform, Variant, VariationalLearner};
use super::config::LearnConfig;
use crate::error::Result;
use crate::losses::DualConfig;
use crate::mdp::TabularMdp;

/// The VMBPO learner (`beta0`, `epsilon` and `beta_lr` of the config are ignored).
///
/// # Errors
/// Those of [`LearnConfig::validate`].
pub fn learner<'m>(mdp: &'m TabularMdp, config: &LearnConfig) -> Result<VariationalLearner<'m>> {
    with_beta_one(mdp, config, RewardTransform::Identity)
}

/// The variational learner with β fixed at 1 on the given reward (VMBPO, MnM).
pub(crate) fn with_beta_one<'m>(
    mdp: &'m TabularMdp,
    config: &LearnConfig,
    reward: RewardTransform,
) -> Result<VariationalLearner<'m>> {
    let dual = DualConfig {
        beta0: 1.0,
        beta_min: config.dual.beta_min.min(1.0),
        beta_max: config.dual.beta_max.max(1.0),
        ..config.dual.clone()
    };
    let config = LearnConfig { dual, ..config.clone() };
    VariationalLearner::new(mdp, &config, Variant { beta0: 1.0, adapt_beta: false, reward })
}
