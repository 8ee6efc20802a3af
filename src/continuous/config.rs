//! The hyperparameters of continuous β-VMBPO and its baselines: every value of the paper's
//! Table 1 (App. C.2) is a named field, with the paper's number as its default.
//!
//! A config file is JSON with any subset of the fields; unknown keys are rejected and every value
//! is validated, the error naming the field. [`TrainConfig::mountain_car_cpu`] is a small preset
//! that trains Mountain Car in minutes on two CPU cores (the paper's schedule — 20 actor-critic
//! updates per environment step, 100 000 rollouts per model fit, a 7×(4×200) ensemble — runs at
//! a few hundred updates a second on one core, i.e. days per million steps).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::losses::{BetaUpdate, DualConfig};

/// Settings of [`train`](super::train::train). Fields marked *(Table 1)* default to the paper's
/// value; the others are choices of the public MBPO/SAC code the paper builds on, or ours, and
/// say so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[must_use]
pub struct TrainConfig {
    /// Environment steps with uniformly random actions before any training (Table 1: 5000).
    pub warmup_steps: usize,
    /// During the warm-up, each uniform random action is held for this many steps (default 1:
    /// independent draws, as in the paper). Mountain Car's goal is out of reach of independent
    /// draws (0 of 200 episodes reach it), and within reach of actions held 10–50 steps (73–96 %
    /// of episodes; a simulation in the report of issue 11).
    pub warmup_action_repeat: usize,
    /// Environment steps between evaluations, the paper's epoch (Table 1: 1000).
    pub eval_every: usize,
    /// Deterministic-actor episodes in the real environment per evaluation (default 5).
    pub eval_episodes: usize,
    /// Environment steps between model fits (Table 1: every 250 steps).
    pub model_every: usize,
    /// Model rollouts started after each model fit (Table 1: 100 000).
    pub rollouts: usize,
    /// Steps per model rollout (Table 1: 1).
    pub rollout_length: usize,
    /// Actor-critic updates per environment step (Table 1: 20).
    pub updates_per_step: usize,
    /// Discount γ (Table 1: 0.99).
    pub gamma: f64,
    /// Soft target update τ of the critics (Table 1: 0.005).
    pub tau: f64,
    /// Ensemble members of each dynamics model (Table 1: 7).
    pub ensemble_size: usize,
    /// Elite members, the best on the holdout set, used for rollouts (Table 1: 5).
    pub elites: usize,
    /// Capacity of the experience buffer D_env (Table 1: 1 000 000).
    pub env_buffer: usize,
    /// Capacity of the model buffer D_model (Table 1: 400 000).
    pub model_buffer: usize,
    /// Hidden layers of each dynamics member (Table 1: 4 × 200).
    pub dynamics_hidden: Vec<usize>,
    /// Hidden layers of the actor q_ω and the prior policy π_κ (Table 1: 2 × 256).
    pub actor_hidden: Vec<usize>,
    /// Hidden layers of each twin critic (Table 1: 2 × 256).
    pub critic_hidden: Vec<usize>,
    /// Adam step size of the actor (Table 1: 0.0003).
    pub actor_lr: f64,
    /// Adam step size of the critics (Table 1: 0.0003).
    pub critic_lr: f64,
    /// Adam step size of both dynamics ensembles (Table 1: 0.0003).
    pub dynamics_lr: f64,
    /// β₀ (Table 1: 100; VMBPO fixes β = 1), ε of the dual, Eq. 9 (Table 1: 0.1; App. C.4
    /// uses 10 for simple tasks), the dual step, β's clamps (App. C.4: β ≤ 1e7) and the TD clamp
    /// c of Eq. 11 (App. C.1: 4): flattened, so a file names `beta0`, `epsilon`, `beta_lr`,
    /// `beta_update`, `beta_min`, `beta_max`, `td_clamp` at its top level. The step size η
    /// (`beta_lr`) is taken once per KL measurement, i.e. every `model_every` steps (not
    /// published; default 0.01, the middle of the range of the paper's Fig. 8).
    #[serde(flatten)]
    pub dual: DualConfig,
    /// Samples per actor-critic minibatch (the public SAC code: 256).
    pub batch_size: usize,
    /// Samples per dynamics minibatch (the public MBPO code: 256).
    pub dynamics_batch_size: usize,
    /// Epochs over D_env per model fit (App. C.1: a fixed 5).
    pub dynamics_epochs: usize,
    /// Most minibatches per model fit, 0 for no limit (default 0, the paper's full epochs).
    pub dynamics_max_batches: usize,
    /// Share of D_env held out to pick the elites (App. C.1: 20 %).
    pub holdout: f64,
    /// Largest holdout set (the public MBPO code: 5000).
    pub max_holdout: usize,
    /// Keep the term −β·log(q/p) in the critic target of Eq. 12 (default false: App. C.1 removes
    /// it, "as the variance in this estimator hurts the critic's convergence").
    pub critic_log_ratio: bool,
    /// Weight of the entropy bonus −log q_ω(a'|s') in β-VMBPO's critic target, in reward units
    /// (default 0; App. C.1 reports it helped exploration on harder tasks).
    pub critic_entropy: f64,
    /// SAC's temperature α (fixed), used by the SAC and MBPO baselines (default 0.2).
    pub sac_alpha: f64,
    /// Start each fit of q_φ (Eq. 11) from the just-fitted p_θ (weights, elites and input
    /// standardisation) instead of from q_φ's previous fit (default false). Fitted apart, the
    /// two ensembles disagree by more than their learnt variances on Mountain Car's
    /// deterministic dynamics (q_φ, fitted with weights up to e⁴, stays broader than p_θ by a
    /// factor 20–150 in variance), so the Monte-Carlo KL of the dual (Eq. 9) reads 25–260 at
    /// any β and pins β at its cap; warm-started, q_φ differs from p_θ by its tilt alone and
    /// the KL reads 0.1–2 (measured in the report of issue 11).
    pub variational_warm_start: bool,
    /// Share of each actor-critic minibatch drawn from D_env instead of D_model (default 0, as
    /// in the paper's Algorithm 1; the public MBPO code mixes in real data, e.g. 5 %).
    pub real_ratio: f64,
}

impl Default for TrainConfig {
    /// The paper's Table 1 with the public MBPO/SAC code's other settings.
    fn default() -> Self {
        TrainConfig {
            warmup_steps: 5000,
            warmup_action_repeat: 1,
            eval_every: 1000,
            eval_episodes: 5,
            model_every: 250,
            rollouts: 100_000,
            rollout_length: 1,
            updates_per_step: 20,
            gamma: 0.99,
            tau: super::nets::TAU,
            ensemble_size: 7,
            elites: 5,
            env_buffer: 1_000_000,
            model_buffer: 400_000,
            dynamics_hidden: vec![200; 4],
            actor_hidden: vec![256; 2],
            critic_hidden: vec![256; 2],
            actor_lr: 3e-4,
            critic_lr: 3e-4,
            dynamics_lr: 3e-4,
            dual: DualConfig { beta_lr: 0.01, ..DualConfig::default() },
            batch_size: 256,
            dynamics_batch_size: 256,
            dynamics_epochs: 5,
            dynamics_max_batches: 0,
            holdout: 0.2,
            max_holdout: 5000,
            critic_log_ratio: false,
            critic_entropy: 0.0,
            sac_alpha: 0.2,
            variational_warm_start: false,
            real_ratio: 0.0,
        }
    }
}

impl TrainConfig {
    /// A small preset for Mountain Car on two CPU cores: the paper's structure (warm-up, model
    /// fits, rollouts, dual steps, evaluations) at a fraction of its compute.
    ///
    /// Changes from Table 1: 5000 warm-up steps with each random action held 20 steps, a model
    /// fit every 500 steps of at most 200 minibatches, 2000 one-step rollouts per fit, 1
    /// actor-critic update per environment step, 5 × (2 × 64) dynamics members (3 elites),
    /// 2 × 64 actor and critics, Adam 1e-3, batches of 128, evaluation every 1000 steps with 3
    /// episodes, ε = 10 (App. C.4's value for simple tasks), β0 = 1 and the dual step in log β
    /// with η = 1; q_φ warm-started from p_θ at each fit, and half of each actor-critic
    /// minibatch from D_env (the public MBPO code mixes in 5 %).
    ///
    /// Measured (`scripts/mountain-car-seeds.sh`: `riskmdp train --env mountain-car --preset
    /// mountain-car-cpu --steps 25000`, seeds 1–10, one thread, about 75 s of one core per run;
    /// README, "Continuous control"; docs/continuous.md): β-VMBPO's last evaluation has all 3
    /// episodes at the goal in 4 of 10 seeds (the first such evaluation at steps 10 000–23 000),
    /// VMBPO's in none. The KL the dual sees reads below ε at nearly every fit, so β reaches
    /// β_min = 1e-3 within the first seven fits and ends every run there: on this task the dual
    /// makes β-VMBPO the *most* optimistic learner the clamp allows, not a more cautious one
    /// than VMBPO.
    pub fn mountain_car_cpu() -> Self {
        TrainConfig {
            warmup_steps: 5000,
            warmup_action_repeat: 20,
            eval_every: 1000,
            eval_episodes: 3,
            model_every: 500,
            rollouts: 2000,
            updates_per_step: 1,
            ensemble_size: 5,
            elites: 3,
            env_buffer: 100_000,
            model_buffer: 50_000,
            dynamics_hidden: vec![64; 2],
            actor_hidden: vec![64; 2],
            critic_hidden: vec![64; 2],
            actor_lr: 1e-3,
            critic_lr: 1e-3,
            dynamics_lr: 1e-3,
            dual: DualConfig {
                epsilon: 10.0,
                beta0: 1.0,
                beta_lr: 1.0,
                beta_update: BetaUpdate::Log,
                ..DualConfig::default()
            },
            batch_size: 128,
            dynamics_batch_size: 128,
            dynamics_max_batches: 200,
            variational_warm_start: true,
            real_ratio: 0.5,
            ..TrainConfig::default()
        }
    }

    /// A small preset for Pendulum on two CPU cores: [`TrainConfig::mountain_car_cpu`] with a
    /// 1000-step warm-up of independent random actions (Pendulum's reward is dense, unlike
    /// Mountain Car's goal, so the warm-up holds no action). It makes `riskmdp train --env
    /// pendulum` finish in minutes; it is not tuned for returns.
    pub fn pendulum_cpu() -> Self {
        TrainConfig { warmup_steps: 1000, warmup_action_repeat: 1, ..TrainConfig::mountain_car_cpu() }
    }

    /// A small preset for the MuJoCo tasks (Hopper, Walker2d, HalfCheetah, Ant) on two CPU
    /// cores: Table 1's dual (ε = 0.1, β₀ = 100, the linear step η = 0.01, so Fig. 8's
    /// ablations vary what the paper varies) and its schedule's shape (a model fit every 250
    /// steps, one-step rollouts, evaluations every 1000 steps), at a fraction of its compute.
    ///
    /// Changes from Table 1: a 2000-step warm-up, 2 actor-critic updates per environment step
    /// (not 20), 4000 rollouts per fit (not 100 000), fits of at most 100 minibatches,
    /// 5 × (2 × 128) dynamics members (3 elites), 2 × 128 actor and critics, Adam 1e-3,
    /// buffers of 100 000 and 40 000, 3 evaluation episodes; q_φ warm-started from p_θ at each
    /// fit and half of each actor-critic minibatch from D_env, as in
    /// [`TrainConfig::mountain_car_cpu`].
    ///
    /// Measured (`experiments/fig5_gym_cpu.json` and the Fig. 7 and 8 files: 3 seeds × 12 000
    /// steps, a few minutes of one core per run; README, "Figs. 5, 7 and 8"): SAC, MBPO and
    /// VMBPO make some progress on Hopper and Walker2d, SAC also on HalfCheetah; β-VMBPO trails
    /// them on all three, as β stays near β₀ = 100 under the linear dual step and its actor
    /// sees rewards through Q/β.
    pub fn gym_cpu() -> Self {
        TrainConfig {
            warmup_steps: 2000,
            eval_every: 1000,
            eval_episodes: 3,
            model_every: 250,
            rollouts: 4000,
            updates_per_step: 2,
            ensemble_size: 5,
            elites: 3,
            env_buffer: 100_000,
            model_buffer: 40_000,
            dynamics_hidden: vec![128; 2],
            actor_hidden: vec![128; 2],
            critic_hidden: vec![128; 2],
            actor_lr: 1e-3,
            critic_lr: 1e-3,
            dynamics_lr: 1e-3,
            dynamics_max_batches: 100,
            variational_warm_start: true,
            real_ratio: 0.5,
            ..TrainConfig::default()
        }
    }

    /// Tiny networks (one hidden layer of 8) and schedule (60 warm-up steps, a model fit every
    /// 50 steps of at most 4 minibatches, 64 rollouts): a few hundred steps run in about a
    /// second. For tests and smoke runs of the whole loop; it learns nothing.
    ///
    /// # Examples
    /// ```
    /// use riskmdp::continuous::config::TrainConfig;
    /// assert!(TrainConfig::tiny().validate().is_ok());
    /// ```
    pub fn tiny() -> Self {
        TrainConfig {
            warmup_steps: 60,
            eval_every: 100,
            eval_episodes: 1,
            model_every: 50,
            rollouts: 64,
            updates_per_step: 1,
            ensemble_size: 3,
            elites: 2,
            dynamics_hidden: vec![8],
            actor_hidden: vec![8],
            critic_hidden: vec![8],
            batch_size: 16,
            dynamics_batch_size: 16,
            dynamics_max_batches: 4,
            dual: DualConfig { beta0: 10.0, beta_lr: 0.05, ..DualConfig::default() },
            ..TrainConfig::default()
        }
    }

    /// A named preset: `paper` (Table 1), `mountain-car-cpu`, `pendulum-cpu` or `gym-cpu`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for another name, listing the known ones.
    pub fn preset(name: &str) -> Result<Self> {
        match name {
            "paper" => Ok(TrainConfig::default()),
            "mountain-car-cpu" => Ok(TrainConfig::mountain_car_cpu()),
            "pendulum-cpu" => Ok(TrainConfig::pendulum_cpu()),
            "gym-cpu" => Ok(TrainConfig::gym_cpu()),
            other => Err(Error::InvalidParameter {
                name: "preset".into(),
                message: format!("unknown preset `{other}`; known: paper, mountain-car-cpu, pendulum-cpu, gym-cpu"),
            }),
        }
    }

    /// Parse a config from JSON (any subset of the fields, the rest from [`Default`]) and
    /// validate it.
    ///
    /// # Errors
    /// [`Error::Json`] for malformed JSON or an unknown key (naming it), and those of
    /// [`TrainConfig::validate`].
    ///
    /// # Examples
    /// ```
    /// use riskmdp::continuous::config::TrainConfig;
    /// let config = TrainConfig::from_json_str(r#"{ "beta0": 10, "batch_size": 64 }"#, "inline")?;
    /// assert_eq!((config.batch_size, config.ensemble_size), (64, 7));
    /// assert!(TrainConfig::from_json_str(r#"{ "beta_0": 10 }"#, "inline").is_err());
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn from_json_str(text: &str, path: &str) -> Result<Self> {
        TrainConfig::default().overlay(text, path)
    }

    /// This config with the fields of the JSON object `text` (any subset) over it, validated:
    /// how `riskmdp train --config` applies a file to the preset.
    ///
    /// # Errors
    /// Those of [`TrainConfig::from_json_str`].
    ///
    /// # Examples
    /// ```
    /// use riskmdp::continuous::config::TrainConfig;
    /// let config = TrainConfig::mountain_car_cpu().overlay(r#"{ "epsilon": 0.1 }"#, "inline")?;
    /// assert_eq!((config.dual.epsilon, config.dual.beta0, config.ensemble_size), (0.1, 1.0, 5));
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn overlay(&self, text: &str, path: &str) -> Result<Self> {
        let config = crate::io::overlay_json(self, text, path)?;
        config.validate()?;
        Ok(config)
    }

    /// [`TrainConfig::overlay`] with the text of the file `path`.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read; those of [`TrainConfig::from_json_str`].
    pub fn overlay_file(&self, path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        self.overlay(&crate::io::read_text(path)?, &path.display().to_string())
    }

    /// Read a config file (its fields over [`Default`]).
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read; those of [`TrainConfig::from_json_str`].
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self> {
        TrainConfig::default().overlay_file(path)
    }

    /// The config as pretty JSON (every field), which [`TrainConfig::from_json_str`] reads back
    /// to the same value.
    #[must_use]
    pub fn to_json(&self) -> String {
        // A struct of numbers, strings and vectors always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Write the config as JSON.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be written.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json() + "\n")
            .map_err(|source| Error::Io { path: path.display().to_string(), source })
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first bad field: counts and layer widths that must
    /// be ≥ 1, rates outside their range, `elites > ensemble_size`, non-positive or non-finite
    /// β settings, `beta0` outside `[beta_min, beta_max]`.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, message: String| Err(Error::InvalidParameter { name: name.into(), message });
        for (name, n) in [
            ("eval_episodes", self.eval_episodes),
            ("updates_per_step", self.updates_per_step),
            ("rollouts", self.rollouts),
            ("warmup_action_repeat", self.warmup_action_repeat),
            ("eval_every", self.eval_every),
            ("model_every", self.model_every),
            ("rollout_length", self.rollout_length),
            ("ensemble_size", self.ensemble_size),
            ("elites", self.elites),
            ("env_buffer", self.env_buffer),
            ("model_buffer", self.model_buffer),
            ("batch_size", self.batch_size),
            ("dynamics_batch_size", self.dynamics_batch_size),
            ("dynamics_epochs", self.dynamics_epochs),
            ("max_holdout", self.max_holdout),
        ] {
            if n == 0 {
                return bad(name, "must be at least 1".into());
            }
        }
        for (name, layers) in [
            ("dynamics_hidden", &self.dynamics_hidden),
            ("actor_hidden", &self.actor_hidden),
            ("critic_hidden", &self.critic_hidden),
        ] {
            if layers.is_empty() || layers.contains(&0) {
                return bad(name, format!("{layers:?} needs at least one hidden layer, each at least 1 wide"));
            }
        }
        if self.elites > self.ensemble_size {
            return bad("elites", format!("{} is more than ensemble_size = {}", self.elites, self.ensemble_size));
        }
        for (name, x) in [("gamma", self.gamma), ("tau", self.tau)] {
            if !(x > 0.0 && x <= 1.0) {
                return bad(name, format!("{x} is outside (0, 1]"));
            }
        }
        if !(self.holdout > 0.0 && self.holdout < 1.0) {
            return bad("holdout", format!("{} is outside (0, 1)", self.holdout));
        }
        for (name, x) in [("actor_lr", self.actor_lr), ("critic_lr", self.critic_lr), ("dynamics_lr", self.dynamics_lr)]
        {
            if !(x.is_finite() && x > 0.0) {
                return bad(name, format!("{x} must be a positive finite number"));
            }
        }
        self.dual.validate()?;
        for (name, x) in [("critic_entropy", self.critic_entropy), ("sac_alpha", self.sac_alpha)] {
            if !(x.is_finite() && x >= 0.0) {
                return bad(name, format!("{x} must be a finite number ≥ 0"));
            }
        }
        if !(self.real_ratio >= 0.0 && self.real_ratio <= 1.0) {
            return bad("real_ratio", format!("{} is outside [0, 1]", self.real_ratio));
        }
        Ok(())
    }
}
