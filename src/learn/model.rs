//! The learnt models of tabular β-VMBPO: prior dynamics and reward from counts (Eq. 10),
//! variational dynamics from exponentially weighted counts (Eq. 11), and sampling from the
//! true environment.
//!
//! # Formula
//!
//! ```text
//! p(s'|s,a) = n(s,a,s') / n(s,a),   r(s,a) = mean of the rewards seen     (minimise Eq. 10)
//! q(s'|s,a) ∝ n(s,a,s')·w(s,a,s'),  log w = clamp(δ/(γβ), −c, c),
//!             δ = r(s,a) + γ·V₂(s') − Q₂(s,a)                             (minimise Eq. 11)
//! KL = Σ_{s,a} n(s,a)/n · KL( q(·|s,a) ‖ p(·|s,a) )   (the data's state-action shares)
//! ```
//!
//! Every list is kept in insertion order (no hash maps), so a seed fixes every bit.

use rand::{Rng, RngExt};

use crate::error::{Error, Result};
use crate::losses::{dynamics_log_weight, td_error};
use crate::mdp::{MdpSpec, TabularMdp};

/// Counts of the environment buffer D_env and the models fitted to them.
#[derive(Debug, Clone)]
pub struct EmpiricalModel {
    n_states: usize,
    n_actions: usize,
    /// Per pair `s·A + a`: next states seen, with counts and the variational probability.
    next: Vec<Vec<Successor>>,
    pair_counts: Vec<u64>,
    reward_sums: Vec<f64>,
    /// How often each state started a stored transition (D_env's state distribution).
    state_counts: Vec<u64>,
    total: u64,
    /// Prefix sums of `state_counts`, rebuilt by [`EmpiricalModel::fit_variational`].
    state_cdf: Vec<u64>,
    /// States that started a stored transition, in index order (rebuilt with `state_cdf`).
    visited: Vec<usize>,
    kl: f64,
}

#[derive(Debug, Clone, Copy)]
struct Successor {
    state: usize,
    count: u64,
    /// q_φ(s'|s,a) of the last fit (a probability; the critic is `q2`).
    q_prob: f64,
}

impl EmpiricalModel {
    /// An empty buffer for `n_states` states and `n_actions` actions.
    pub fn new(n_states: usize, n_actions: usize) -> Self {
        EmpiricalModel {
            n_states,
            n_actions,
            next: vec![Vec::new(); n_states * n_actions],
            pair_counts: vec![0; n_states * n_actions],
            reward_sums: vec![0.0; n_states * n_actions],
            state_counts: vec![0; n_states],
            total: 0,
            state_cdf: Vec::new(),
            visited: Vec::new(),
            kl: 0.0,
        }
    }

    /// Store one environment transition.
    pub fn record(&mut self, s: usize, a: usize, next: usize, reward: f64) {
        let pair = s * self.n_actions + a;
        let row = &mut self.next[pair];
        match row.iter_mut().find(|n| n.state == next) {
            Some(n) => n.count += 1,
            None => row.push(Successor { state: next, count: 1, q_prob: 0.0 }),
        }
        self.pair_counts[pair] += 1;
        self.reward_sums[pair] += reward;
        self.state_counts[s] += 1;
        self.total += 1;
    }

    /// Transitions stored.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How often `a` was taken in `s` in the environment.
    pub fn pair_count(&self, s: usize, a: usize) -> u64 {
        self.pair_counts[s * self.n_actions + a]
    }

    /// Whether `a` was tried in `s`.
    pub fn tried(&self, s: usize, a: usize) -> bool {
        self.pair_counts[s * self.n_actions + a] > 0
    }

    /// The mean reward seen for (s, a) (the prior reward model); 0 if never tried.
    pub fn reward(&self, s: usize, a: usize) -> f64 {
        let pair = s * self.n_actions + a;
        if self.pair_counts[pair] == 0 { 0.0 } else { self.reward_sums[pair] / self.pair_counts[pair] as f64 }
    }

    /// The prior dynamics p(·|s,a) as (s', probability) over the next states seen.
    pub fn prior(&self, s: usize, a: usize) -> Vec<(usize, f64)> {
        let pair = s * self.n_actions + a;
        let n = self.pair_counts[pair] as f64;
        self.next[pair].iter().map(|x| (x.state, x.count as f64 / n)).collect()
    }

    /// The variational dynamics q(·|s,a) of the last fit, as (s', probability).
    pub fn variational(&self, s: usize, a: usize) -> Vec<(usize, f64)> {
        self.next[s * self.n_actions + a].iter().map(|x| (x.state, x.q_prob)).collect()
    }

    /// The measured KL of the last fit (the data's state-action shares as weights).
    pub fn kl(&self) -> f64 {
        self.kl
    }

    /// Refit the variational dynamics (Eq. 11 in closed form) and the measured KL.
    ///
    /// `v_next(s')` is V₂(s') (0 at terminal states), `q2(s, a)` the critic, both in reward
    /// units; the reward model is the mean reward of each pair.
    pub fn fit_variational(
        &mut self,
        v_next: impl Fn(usize) -> f64,
        q2: impl Fn(usize, usize) -> f64,
        beta: f64,
        gamma: f64,
        clamp: f64,
    ) {
        let mut kl_sum = 0.0;
        for pair in 0..self.next.len() {
            let n = self.pair_counts[pair];
            if n == 0 {
                continue;
            }
            let (s, a) = (pair / self.n_actions, pair % self.n_actions);
            let (r, q_sa) = (self.reward(s, a), q2(s, a));
            let log_w: Vec<f64> = self.next[pair]
                .iter()
                .map(|x| dynamics_log_weight(td_error(r, v_next(x.state), q_sa, gamma), beta, gamma, clamp))
                .collect();
            // Normalise in log space: the weights span at most 2c nats, but counts can be large.
            let top = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = self.next[pair].iter().zip(&log_w).map(|(x, lw)| x.count as f64 * (lw - top).exp()).sum();
            let mut kl = 0.0;
            for (x, lw) in self.next[pair].iter_mut().zip(&log_w) {
                let p = x.count as f64 / n as f64;
                x.q_prob = x.count as f64 * (lw - top).exp() / z;
                if x.q_prob > 0.0 {
                    kl += x.q_prob * (x.q_prob / p).ln();
                }
            }
            kl_sum += n as f64 * kl.max(0.0);
        }
        self.kl = if self.total == 0 { 0.0 } else { kl_sum / self.total as f64 };
        self.state_cdf = self
            .state_counts
            .iter()
            .scan(0u64, |acc, &c| {
                *acc += c;
                Some(*acc)
            })
            .collect();
        self.visited = (0..self.n_states).filter(|&s| self.state_counts[s] > 0).collect();
    }

    /// A state drawn uniformly from those that started a stored transition (as of the last
    /// fit), or `None` while there is none.
    pub fn sample_visited_state(&self, rng: &mut impl Rng) -> Option<usize> {
        if self.visited.is_empty() {
            return None;
        }
        Some(self.visited[rng.random_range(0..self.visited.len())])
    }

    /// A state drawn from the environment buffer (by how often it started a transition), or
    /// `None` while the buffer is empty.
    pub fn sample_state(&self, rng: &mut impl Rng) -> Option<usize> {
        let total = *self.state_cdf.last()?;
        if total == 0 {
            return None;
        }
        let u = rng.random_range(0..total);
        Some(self.state_cdf.partition_point(|&c| c <= u))
    }

    /// A next state drawn from the variational dynamics, with `log q(s'|s,a) − log p(s'|s,a)`.
    /// `None` if (s, a) was never tried.
    pub fn sample_variational(&self, s: usize, a: usize, rng: &mut impl Rng) -> Option<(usize, f64)> {
        let pair = s * self.n_actions + a;
        let row = &self.next[pair];
        let last = row.iter().rev().find(|x| x.q_prob > 0.0)?;
        let u: f64 = rng.random();
        let mut acc = 0.0;
        let pick = row
            .iter()
            .find(|x| {
                acc += x.q_prob;
                u < acc
            })
            .unwrap_or(last);
        let p = pick.count as f64 / self.pair_counts[pair] as f64;
        Some((pick.state, (pick.q_prob / p).ln()))
    }

    /// `log q(s'|s,a) − log p(s'|s,a)` at the last fit; `None` if s' was never seen after
    /// (s, a) or its variational probability underflowed to 0.
    pub fn log_ratio(&self, s: usize, a: usize, next: usize) -> Option<f64> {
        let pair = s * self.n_actions + a;
        let x = self.next[pair].iter().find(|x| x.state == next && x.q_prob > 0.0)?;
        Some((x.q_prob * self.pair_counts[pair] as f64 / x.count as f64).ln())
    }

    /// The empirical model as a [`TabularMdp`]: the true model's names, γ, horizon, ρ and
    /// terminal states, with p and the mean rewards in place of P and r. Terminal rows, and
    /// the rows of states never left in the data, are reward-0 self-loops.
    ///
    /// # Errors
    /// [`Error::Unsupported`] if a state was left by some action but another was never tried
    /// there (the data say nothing about it); those of [`TabularMdp::new`] (e.g. a self-loop
    /// of an unvisited state at γ = 1 without horizon).
    pub fn to_mdp(&self, like: &TabularMdp) -> Result<TabularMdp> {
        let mut blocks = Vec::with_capacity(self.n_states);
        let mut rewards = Vec::with_capacity(self.n_states);
        for s in 0..self.n_states {
            let mut block = Vec::with_capacity(self.n_actions);
            for a in 0..self.n_actions {
                // Terminal rows are ignored; a state the data never left (a wall cell, a
                // state never reached) gets a reward-0 self-loop, as the learner's untouched
                // Q = q_init there says nothing.
                if like.is_terminal(s) || self.state_counts[s] == 0 {
                    block.push(vec![(s, 1.0)]);
                    continue;
                }
                if !self.tried(s, a) {
                    return Err(Error::Unsupported {
                        what: format!(
                            "empirical model: state `{}` action `{}` was never tried",
                            like.state_names()[s],
                            like.action_names()[a]
                        ),
                    });
                }
                let mut row = self.prior(s, a);
                row.sort_by_key(|&(j, _)| j);
                block.push(row);
            }
            rewards.push((0..self.n_actions).map(|a| self.reward(s, a)).collect::<Vec<f64>>());
            blocks.push(block);
        }
        TabularMdp::new(MdpSpec {
            name: format!("{} (empirical)", like.name()),
            state_names: Some(like.state_names().to_vec()),
            action_names: Some(like.action_names().to_vec()),
            gamma: like.gamma(),
            horizon: like.horizon(),
            initial: Some(like.initial().to_vec()),
            terminal: Some(like.terminal().to_vec()),
            transitions: blocks.into(),
            rewards,
            grid: like.grid(),
        })
    }
}

/// A state drawn from a distribution over states given as a dense slice (ρ) or the support of
/// a row.
pub(crate) fn sample_from(pairs: impl Iterator<Item = (usize, f64)>, rng: &mut impl Rng) -> usize {
    let u: f64 = rng.random();
    let mut acc = 0.0;
    let mut last = 0;
    for (j, p) in pairs {
        if p <= 0.0 {
            continue;
        }
        acc += p;
        last = j;
        if u < acc {
            return j;
        }
    }
    // Rounding left Σ p a hair below 1: the last state of the support.
    last
}

/// The start state of an episode, drawn from ρ.
pub(crate) fn sample_start(mdp: &TabularMdp, rng: &mut impl Rng) -> usize {
    sample_from(mdp.initial().iter().copied().enumerate(), rng)
}

/// The next state after (s, a) in the true environment.
pub(crate) fn sample_next(mdp: &TabularMdp, s: usize, a: usize, rng: &mut impl Rng) -> usize {
    sample_from(mdp.row(s, a).iter(), rng)
}
