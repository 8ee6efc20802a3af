//! Replay buffers of Algorithm 1: the experience buffer D_env (real transitions) and the model
//! buffer D_model (model rollouts), both rings of fixed capacity stored as flat `f32` rows.
//!
//! Minibatches are drawn with replacement from the caller's seeded generator, so a seed fixes
//! every batch.

use candle_core::{Device, Result, Tensor};
use rand::{Rng, RngExt};

use crate::ring::{Ring, Slot};

/// One stored transition `(s, a, s', r)`, with the end flag and the log-ratio of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition<'a> {
    /// Observation s.
    pub obs: &'a [f32],
    /// Action a, in the actor's box (−1, 1)ᴬ.
    pub action: &'a [f32],
    /// Reward r.
    pub reward: f32,
    /// Next observation s'.
    pub next_obs: &'a [f32],
    /// s' is terminal: no value is bootstrapped from it.
    pub terminated: bool,
    /// `log q(s'|s,a) − log p(s'|s,a)` of a model transition (0 for a real one).
    pub log_ratio: f32,
}

/// A minibatch as tensors (f32, CPU).
#[derive(Debug, Clone)]
pub struct TransitionBatch {
    /// Observations, (B, O).
    pub obs: Tensor,
    /// Actions, (B, A).
    pub action: Tensor,
    /// Rewards, (B).
    pub reward: Tensor,
    /// Next observations, (B, O).
    pub next_obs: Tensor,
    /// 1 − terminated, (B): multiplies the bootstrapped value.
    pub not_done: Tensor,
    /// `log q(s'|s,a) − log p(s'|s,a)`, (B).
    pub log_ratio: Tensor,
}

impl TransitionBatch {
    /// The rows of `self` followed by those of `other`.
    ///
    /// # Errors
    /// Batches of different widths.
    pub fn concat(&self, other: &TransitionBatch) -> Result<TransitionBatch> {
        let cat = |a: &Tensor, b: &Tensor| Tensor::cat(&[a, b], 0);
        Ok(TransitionBatch {
            obs: cat(&self.obs, &other.obs)?,
            action: cat(&self.action, &other.action)?,
            reward: cat(&self.reward, &other.reward)?,
            next_obs: cat(&self.next_obs, &other.next_obs)?,
            not_done: cat(&self.not_done, &other.not_done)?,
            log_ratio: cat(&self.log_ratio, &other.log_ratio)?,
        })
    }
}

/// A ring buffer of transitions: the oldest is overwritten once it is full.
#[derive(Debug, Clone)]
pub struct ReplayBuffer {
    obs_dim: usize,
    action_dim: usize,
    ring: Ring,
    obs: Vec<f32>,
    action: Vec<f32>,
    reward: Vec<f32>,
    next_obs: Vec<f32>,
    not_done: Vec<f32>,
    log_ratio: Vec<f32>,
}

impl ReplayBuffer {
    /// An empty buffer of `capacity` transitions.
    #[must_use]
    pub fn new(obs_dim: usize, action_dim: usize, capacity: usize) -> Self {
        ReplayBuffer {
            obs_dim,
            action_dim,
            ring: Ring::new(capacity),
            obs: Vec::new(),
            action: Vec::new(),
            reward: Vec::new(),
            next_obs: Vec::new(),
            not_done: Vec::new(),
            log_ratio: Vec::new(),
        }
    }

    /// Transitions stored.
    #[must_use]
    pub fn len(&self) -> usize {
        self.reward.len()
    }

    /// No transition stored yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.reward.is_empty()
    }

    /// Observation length.
    #[must_use]
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Action length.
    #[must_use]
    pub fn action_dim(&self) -> usize {
        self.action_dim
    }

    /// Store a transition, overwriting the oldest when full.
    ///
    /// # Panics
    /// If an observation or the action has the wrong length (an internal invariant: the
    /// training loop builds them from the environment's dimensions).
    pub fn push(&mut self, t: &Transition<'_>) {
        assert!(t.obs.len() == self.obs_dim && t.next_obs.len() == self.obs_dim, "observation length");
        assert!(t.action.len() == self.action_dim, "action length");
        let not_done = if t.terminated { 0.0 } else { 1.0 };
        match self.ring.push() {
            Slot::Append => {
                self.obs.extend_from_slice(t.obs);
                self.action.extend_from_slice(t.action);
                self.next_obs.extend_from_slice(t.next_obs);
                self.reward.push(t.reward);
                self.not_done.push(not_done);
                self.log_ratio.push(t.log_ratio);
            }
            Slot::Overwrite(i) => {
                let (o, a) = (self.obs_dim, self.action_dim);
                self.obs[i * o..(i + 1) * o].copy_from_slice(t.obs);
                self.action[i * a..(i + 1) * a].copy_from_slice(t.action);
                self.next_obs[i * o..(i + 1) * o].copy_from_slice(t.next_obs);
                self.reward[i] = t.reward;
                self.not_done[i] = not_done;
                self.log_ratio[i] = t.log_ratio;
            }
        }
    }

    /// Observation `i`.
    #[must_use]
    pub fn obs(&self, i: usize) -> &[f32] {
        &self.obs[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// `n` indices drawn uniformly with replacement.
    pub fn sample_indices(&self, n: usize, rng: &mut impl Rng) -> Vec<usize> {
        let len = self.len();
        if len == 0 {
            return Vec::new();
        }
        (0..n).map(|_| rng.random_range(0..len)).collect()
    }

    /// A minibatch of `n` transitions drawn uniformly with replacement.
    ///
    /// # Errors
    /// An empty buffer, or a candle error building the tensors.
    pub fn sample(&self, n: usize, rng: &mut impl Rng) -> Result<TransitionBatch> {
        if self.is_empty() {
            candle_core::bail!("cannot sample from an empty replay buffer")
        }
        self.gather(&self.sample_indices(n, rng))
    }

    /// The transitions at `indices`, in that order.
    ///
    /// # Errors
    /// An empty index list, or a candle error building the tensors.
    pub fn gather(&self, indices: &[usize]) -> Result<TransitionBatch> {
        let b = indices.len();
        if b == 0 {
            candle_core::bail!("an empty minibatch")
        }
        let rows = |data: &[f32], width: usize| -> Result<Tensor> {
            let values: Vec<f32> =
                indices.iter().flat_map(|&i| data[i * width..(i + 1) * width].iter().copied()).collect();
            Tensor::from_vec(values, (b, width), &Device::Cpu)
        };
        let column = |data: &[f32]| -> Result<Tensor> {
            Tensor::from_vec(indices.iter().map(|&i| data[i]).collect::<Vec<f32>>(), b, &Device::Cpu)
        };
        Ok(TransitionBatch {
            obs: rows(&self.obs, self.obs_dim)?,
            action: rows(&self.action, self.action_dim)?,
            reward: column(&self.reward)?,
            next_obs: rows(&self.next_obs, self.obs_dim)?,
            not_done: column(&self.not_done)?,
            log_ratio: column(&self.log_ratio)?,
        })
    }
}
