//! The hyperparameters of every tabular learner, one named field each, with documented defaults.
//!
//! The paper publishes none of its tabular settings (ε, β0, the β learning rate, the Q
//! initialisation are free); the defaults below follow App. C.2 where it has a number (β0 = 100,
//! ε = 0.1, rollout length 1, TD clamp 4, β ≤ 1e7) and are otherwise chosen for a table.
//! A config file is JSON with any subset of the fields; unknown keys are rejected.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::losses::{BetaUpdate, DualConfig};

/// Where model rollouts start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutStart {
    /// A state drawn from D_env, i.e. by how often it was visited (Algorithm 1). Rarely
    /// visited states (near a far goal) are rarely planned from.
    Buffer,
    /// A state drawn uniformly from the states visited at least once: every known state keeps
    /// being planned from, however rare (a tabular sweep; faster convergence of the critic).
    Visited,
}

/// Settings of [`learn`](super::learn). Which learner reads which field is said per field;
/// the schedule of one episode is in the [module docs](super).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[must_use]
pub struct LearnConfig {
    /// Episodes to run (default 1000).
    pub episodes: usize,
    /// Most environment steps per episode (default 200, the MnM episode length); an episode
    /// also ends at a terminal state.
    pub max_steps: usize,
    /// Measure the return every this many episodes (default 10); also at 0 and at the end.
    pub log_every: usize,
    /// β₀, ε, the dual step, β's clamps and the TD clamp c (β-VMBPO; App. C.2's defaults,
    /// step size η = 1): flattened, so a file names `beta0`, `epsilon`, `beta_lr`,
    /// `beta_update`, `beta_min`, `beta_max`, `td_clamp` at its top level. VMBPO, MnM and
    /// Q-learning use β = 1 and read only `td_clamp` (VMBPO).
    #[serde(flatten)]
    pub dual: DualConfig,
    /// Step α of the critic (all learners; default 0.2): `Q ← Q + α·(y − Q)` per sample.
    pub critic_lr: f64,
    /// Critic minibatches per episode (model-based learners; default 20).
    pub critic_updates: usize,
    /// Samples per critic minibatch (default 32).
    pub batch_size: usize,
    /// Model rollouts per episode (default 100), each from a state drawn from the
    /// environment buffer.
    pub rollouts: usize,
    /// Where model rollouts start (default `buffer`, as in Algorithm 1).
    pub rollout_start: RolloutStart,
    /// Steps per model rollout (default 1, App. C.2).
    pub rollout_length: usize,
    /// Capacity of the model buffer D_model (default 100 000; oldest samples go first).
    pub model_buffer: usize,
    /// Soft update τ of the target critic per minibatch (default 1: a table needs no smoothing).
    pub target_tau: f64,
    /// Probability of a uniformly random action in the environment (default 0.1): the
    /// behaviour mixes it with the prior policy π_κ (model-based) or is ε-greedy (Q-learning).
    pub explore: f64,
    /// Probability of a uniformly random tried action in a model rollout (default 0.2), mixed
    /// with the variational policy q_ω.
    pub rollout_explore: f64,
    /// Largest log-odds, in nats, between the best and any other action of q_ω (default 30):
    /// keeps a losing action within e^−30 of the Eq. 13 minimiser and able to come back.
    pub policy_log_odds: f64,
    /// Initial value of every Q(s,a), in reward units (default 0).
    pub q_init: f64,
}

impl Default for LearnConfig {
    fn default() -> Self {
        LearnConfig {
            episodes: 1000,
            max_steps: 200,
            log_every: 10,
            dual: DualConfig::default(),
            critic_lr: 0.2,
            critic_updates: 20,
            batch_size: 32,
            rollouts: 100,
            rollout_start: RolloutStart::Buffer,
            rollout_length: 1,
            model_buffer: 100_000,
            target_tau: 1.0,
            explore: 0.1,
            rollout_explore: 0.2,
            policy_log_odds: 30.0,
            q_init: 0.0,
        }
    }
}

impl LearnConfig {
    /// Parse a config from JSON (any subset of the fields, the rest from [`Default`]) and
    /// validate it.
    ///
    /// # Errors
    /// [`Error::Json`] for malformed JSON or an unknown key (naming it), and those of
    /// [`LearnConfig::validate`].
    ///
    /// # Examples
    /// ```
    /// use riskmdp::learn::LearnConfig;
    /// let config = LearnConfig::from_json_str(r#"{ "beta0": 10, "episodes": 50 }"#, "inline")?;
    /// assert_eq!((config.episodes, config.batch_size, config.dual.beta0), (50, 32, 10.0));
    /// assert!(LearnConfig::from_json_str(r#"{ "beta_0": 10 }"#, "inline").is_err());
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn from_json_str(text: &str, path: &str) -> Result<Self> {
        LearnConfig::default().overlay(text, path)
    }

    /// This config with the fields of the JSON object `text` (any subset) over it, validated:
    /// how `riskmdp learn --config` applies a file to the environment's preset.
    ///
    /// # Errors
    /// Those of [`LearnConfig::from_json_str`].
    pub fn overlay(&self, text: &str, path: &str) -> Result<Self> {
        let config = crate::io::overlay_json(self, text, path)?;
        config.validate()?;
        Ok(config)
    }

    /// [`LearnConfig::overlay`] with the text of the file `path`.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read; those of [`LearnConfig::from_json_str`].
    pub fn overlay_file(&self, path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        self.overlay(&crate::io::read_text(path)?, &path.display().to_string())
    }

    /// Read a config file (its fields over [`Default`]).
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read; those of [`LearnConfig::from_json_str`].
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self> {
        LearnConfig::default().overlay_file(path)
    }

    /// The settings of Fig. 3 (the cliff gridworld, `examples/learning_curves.rs`, README
    /// "Figs. 3 and 6"): an optimistic critic Q₀ = 10 (the goal reward), rollouts from every
    /// visited state, ε = 0.001 (chosen from the ε figure: small enough that β settles above
    /// the exact path switch) and the log-β dual step with η = 3 (with KL ≪ ε it shrinks β by
    /// e^(−η·ε) per episode), 3000 episodes measured every 30. With the defaults instead (ε =
    /// 0.1, linear step from β₀ = 100) β walks to its floor and the learner never finds the
    /// goal.
    ///
    /// # Examples
    /// ```
    /// use riskmdp::learn::LearnConfig;
    /// let c = LearnConfig::cliff_figure_3();
    /// assert_eq!((c.dual.epsilon, c.q_init, c.episodes), (0.001, 10.0, 3000));
    /// assert!(c.validate().is_ok());
    /// ```
    pub fn cliff_figure_3() -> Self {
        LearnConfig {
            episodes: 3000,
            log_every: 30,
            q_init: 10.0,
            rollout_start: RolloutStart::Visited,
            dual: DualConfig {
                epsilon: 0.001,
                beta_update: BetaUpdate::Log,
                beta_lr: 3.0,
                ..LearnConfig::default().dual
            },
            ..LearnConfig::default()
        }
    }

    /// The settings of Fig. 6a (the MnM gridworld, optimistic critic): 3000 episodes measured
    /// every 30, Q₀ the largest discounted value in the learner's own reward units — r_max/(1 −
    /// γ) = 10/(1 − 0.9) = 100, and for MnM, which learns on (1 − γ)·log r, (1 − γ)·log 10 /
    /// (1 − γ) = ln 10 (`mnm = true`).
    ///
    /// # Examples
    /// ```
    /// use riskmdp::learn::LearnConfig;
    /// assert!((LearnConfig::mnm_figure_6(false).q_init - 100.0).abs() < 1e-9);
    /// assert!((LearnConfig::mnm_figure_6(true).q_init - 10f64.ln()).abs() < 1e-15);
    /// ```
    pub fn mnm_figure_6(mnm: bool) -> Self {
        let world = crate::envs::Gridworld::mnm();
        let q_init = if mnm { world.goal_reward.ln() } else { world.goal_reward / (1.0 - world.gamma) };
        LearnConfig { episodes: 3000, log_every: 30, q_init, ..LearnConfig::default() }
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first bad field: counts that must be ≥ 1,
    /// probabilities outside [0, 1], steps outside (0, 1], non-positive or non-finite β
    /// settings, `beta_min > beta0` or `beta0 > beta_max`.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, message: String| Err(Error::InvalidParameter { name: name.into(), message });
        for (name, n) in [
            ("episodes", self.episodes),
            ("max_steps", self.max_steps),
            ("log_every", self.log_every),
            ("batch_size", self.batch_size),
            ("critic_updates", self.critic_updates),
            ("rollouts", self.rollouts),
            ("rollout_length", self.rollout_length),
            ("model_buffer", self.model_buffer),
        ] {
            if n == 0 {
                return bad(name, "must be at least 1".into());
            }
        }
        for (name, x) in [("explore", self.explore), ("rollout_explore", self.rollout_explore)] {
            if !(0.0..=1.0).contains(&x) {
                return bad(name, format!("{x} is not a probability"));
            }
        }
        for (name, x) in [("critic_lr", self.critic_lr), ("target_tau", self.target_tau)] {
            if !(x > 0.0 && x <= 1.0) {
                return bad(name, format!("{x} is outside (0, 1]"));
            }
        }
        self.dual.validate()?;
        if !(self.policy_log_odds.is_finite() && self.policy_log_odds > 0.0) {
            return bad("policy_log_odds", format!("{} must be a positive finite number", self.policy_log_odds));
        }
        if !self.q_init.is_finite() {
            return bad("q_init", format!("{} is not a finite number", self.q_init));
        }
        Ok(())
    }
}
