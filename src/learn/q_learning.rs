//! Tabular Q-learning (Watkins & Dayan 1992), ε-greedy, online: the risk-neutral baseline.
//!
//! # Formula
//!
//! ```text
//! a = uniform w.p. explore, else argmax_a Q(s,a) (a uniformly random one of exact ties)
//! y = r + γ·max_{a'} Q(s',a')   (0 at a terminal s');   Q(s,a) ← Q(s,a) + α·(y − Q(s,a))
//! ```
//!
//! The target is [`critic_target`] with no KL term (log q/p = 0): the same Eq. 12 squared TD
//! loss with the true dynamics.

use ndarray::Array2;
use rand::{Rng, RngExt};

use super::config::LearnConfig;
use super::model::{sample_next, sample_start};
use crate::error::Result;
use crate::losses::critic_target;
use crate::mdp::TabularMdp;

/// The Q-learning learner.
#[derive(Debug, Clone)]
pub struct QLearner<'m> {
    mdp: &'m TabularMdp,
    config: LearnConfig,
    q: Array2<f64>,
    env_steps: u64,
}

impl<'m> QLearner<'m> {
    /// Q = `q_init` everywhere.
    ///
    /// # Errors
    /// [`Error::Unsupported`](crate::Error::Unsupported) for a model with a horizon; those of
    /// [`LearnConfig::validate`].
    pub fn new(mdp: &'m TabularMdp, config: &LearnConfig) -> Result<Self> {
        super::check_model(mdp)?;
        config.validate()?;
        let q = Array2::from_elem((mdp.n_states(), mdp.n_actions()), config.q_init);
        Ok(QLearner { mdp, config: config.clone(), q, env_steps: 0 })
    }

    /// Q (reward units).
    pub fn q(&self) -> &Array2<f64> {
        &self.q
    }
    /// Environment steps taken so far.
    pub fn env_steps(&self) -> u64 {
        self.env_steps
    }

    /// One episode of online Q-learning.
    pub fn episode(&mut self, rng: &mut impl Rng) {
        let mdp = self.mdp;
        let (gamma, lr) = (mdp.gamma(), self.config.critic_lr);
        let mut s = sample_start(mdp, rng);
        for _ in 0..self.config.max_steps {
            if mdp.is_terminal(s) {
                break;
            }
            let a = if rng.random::<f64>() < self.config.explore {
                rng.random_range(0..mdp.n_actions())
            } else {
                greedy_random_tie(self.q.row(s), rng)
            };
            let next = sample_next(mdp, s, a, rng);
            let v_next = if mdp.is_terminal(next) {
                0.0
            } else {
                self.q.row(next).iter().copied().fold(f64::NEG_INFINITY, f64::max)
            };
            let y = critic_target(mdp.rewards()[[s, a]], v_next, 0.0, 1.0, gamma);
            self.q[[s, a]] += lr * (y - self.q[[s, a]]);
            self.env_steps += 1;
            s = next;
        }
    }
}

/// A greedy action, ties broken uniformly at random: with Q = 0 everywhere and zero rewards, a
/// fixed tie-break (lowest index) would walk into the same wall for ever.
fn greedy_random_tie(row: ndarray::ArrayView1<f64>, rng: &mut impl Rng) -> usize {
    let best = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ties: Vec<usize> = (0..row.len()).filter(|&a| row[a] >= best).collect();
    if ties.len() == 1 { ties[0] } else { ties[rng.random_range(0..ties.len())] }
}
