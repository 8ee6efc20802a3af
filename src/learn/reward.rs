//! The rewards a tabular learner sees, when they are not the model's own: MnM's transform.
//! (Its own module so that the learners below it, `beta_vmbpo` among them, need not import
//! `mnm`, which builds on them.)

use ndarray::Array2;

use crate::error::{Error, Result};
use crate::mdp::TabularMdp;

/// `(1 − γ)·log r` on the non-terminal pairs (0 on terminal ones).
pub(crate) fn mnm_log_rewards(mdp: &TabularMdp) -> Result<Array2<f64>> {
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
