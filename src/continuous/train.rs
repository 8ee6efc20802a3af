//! The training loop of continuous β-VMBPO (Algorithm 1) and of the baselines VMBPO, MBPO and
//! SAC, built from the same parts so that they differ only where the algorithms differ:
//!
//! | algorithm | dynamics in rollouts | critic / actor losses | β |
//! |---|---|---|---|
//! | β-VMBPO | q_φ (Eq. 11), reward from p_θ | Eqs. 12–13 | dual descent (Eq. 9) |
//! | VMBPO | q_φ (Eq. 11), reward from p_θ | Eqs. 12–13 | fixed at 1 |
//! | MBPO | p_θ (Eq. 10) | SAC's | — |
//! | SAC | none: minibatches from D_env | SAC's | — |
//!
//! # One environment step
//!
//! ```text
//! a ∼ π_κ(·|s)  (during the warm-up: uniform, held `warmup_action_repeat` steps);  s', r from the REAL environment;  D_env ← (s,a,s',r)
//! after the warm-up:
//!   every `model_every` steps (model-based):  fit p_θ (Eq. 10); fit q_φ (Eq. 11, the TD
//!     weights from the current critic and β; started from p_θ with `variational_warm_start`);
//!     `rollouts` rollouts into D_model; KL of q_φ from p_θ on their first steps (closed form
//!     per paired member, `continuous::dynamics`);
//!     β-VMBPO: β ← clamp(β − η·(ε − KL), β_min, β_max)        (Eq. 9, once per measured KL)
//!   `updates_per_step` actor-critic updates on minibatches of D_model (SAC: of D_env), a share
//!     `real_ratio` of each minibatch drawn from D_env
//! every `eval_every` steps: `eval_episodes` episodes of the deterministic actor tanh μ_ω in the
//!   real environment → one line of the JSON-lines log
//! ```
//!
//! Each model fit of a variational learner also writes one [`FitRecord`] to [`FITS_FILE`]:
//! the β its TD weights used and the β after the dual step, both KLs, the share of Eq. 11's
//! weights at the clamp, and the terms of the actor loss ([`ActorTerms`]). Its draws come from
//! a generator of their own, so logging them does not change the run.
//!
//! # Reproducibility
//!
//! One `ChaCha8Rng::seed_from_u64(seed)` draws every initial weight, action, noise tensor,
//! minibatch, holdout split and environment reset, in program order; evaluation episodes start
//! from their own seeds, so evaluating does not move the training stream. The log holds no
//! wall-clock time: the same seed and config give the same bytes on the same machine.
//!
//! # Checkpoints
//!
//! `checkpoint.safetensors` (every network: `actor/…`, `prior/…`, `critic/…`, `target/…`,
//! `prior_dynamics/…`, `variational_dynamics/…`, written by candle's `VarMap::save`) and
//! `checkpoint.json` (env, algorithm, config, β, elites and input standardisation), side by
//! side; [`Learner::load`] reads both.

use std::io::Write;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::agent::{ActorTerms, Agent, Objective, UpdateStats};
use super::buffer::{ReplayBuffer, Transition};
use super::config::TrainConfig;
use super::dynamics::{DynamicsModel, FitObjective, RolloutKl, RolloutModels, Standardiser, rollout};
use super::env::{Env, MountainCar, Pendulum};
use super::nets::sorted_vars;
use super::tensor::Batch;
use crate::losses::{dual_step, dynamics_log_weight};

/// Transitions per chunk when computing TD weights over all of D_env.
const TD_CHUNK: usize = 8192;

/// File name of the checkpoint's tensors inside the output directory.
pub const CHECKPOINT_TENSORS: &str = "checkpoint.safetensors";
/// File name of the checkpoint's metadata inside the output directory.
pub const CHECKPOINT_META: &str = "checkpoint.json";
/// File name of the JSON-lines log inside the output directory.
pub const LOG_FILE: &str = "log.jsonl";
/// File name of the per-fit JSON-lines log ([`FitRecord`]) inside the output directory.
pub const FITS_FILE: &str = "fits.jsonl";

/// Everything that can stop training or loading a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A bad config or parameter (the crate's error, naming the field).
    #[error(transparent)]
    Config(#[from] crate::Error),
    /// A tensor computation failed (a shape mismatch is a bug; a file error names the file).
    #[error("tensor computation: {}", first_line(.0))]
    Candle(#[from] candle_core::Error),
    /// A file could not be read or written.
    #[error("{}: {source}", crate::error::one_line(.path))]
    Io {
        /// The path.
        path: String,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A checkpoint's metadata is malformed or does not match its tensors.
    #[error("{}: {}", crate::error::one_line(.path), crate::error::one_line(.message))]
    Checkpoint {
        /// The path.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// `Result` of this module.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;

/// The four learners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algo {
    /// β-VMBPO: variational dynamics and policy, β by dual descent (Eq. 9).
    BetaVmbpo,
    /// VMBPO: the same with β fixed at 1.
    Vmbpo,
    /// MBPO: a maximum-likelihood model and SAC on its rollouts.
    Mbpo,
    /// SAC: no model, minibatches from D_env.
    Sac,
}

impl Algo {
    /// The command-line name: `beta-vmbpo`, `vmbpo`, `mbpo`, `sac`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Algo::BetaVmbpo => "beta-vmbpo",
            Algo::Vmbpo => "vmbpo",
            Algo::Mbpo => "mbpo",
            Algo::Sac => "sac",
        }
    }

    /// Parse a command-line name.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] naming `--algo` and the known names.
    pub fn from_name(name: &str) -> Result<Self, crate::Error> {
        [Algo::BetaVmbpo, Algo::Vmbpo, Algo::Mbpo, Algo::Sac].into_iter().find(|a| a.name() == name).ok_or_else(|| {
            crate::Error::InvalidParameter {
                name: "--algo".into(),
                message: format!("unknown algorithm `{name}`; known: beta-vmbpo, vmbpo, mbpo, sac"),
            }
        })
    }

    fn model_based(self) -> bool {
        self != Algo::Sac
    }

    fn variational(self) -> bool {
        matches!(self, Algo::BetaVmbpo | Algo::Vmbpo)
    }
}

/// The environments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvKind {
    /// MountainCarContinuous-v0.
    MountainCar,
    /// Pendulum-v1.
    Pendulum,
}

impl EnvKind {
    /// The command-line name: `mountain-car`, `pendulum`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            EnvKind::MountainCar => "mountain-car",
            EnvKind::Pendulum => "pendulum",
        }
    }

    /// Parse a command-line name.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] naming `--env` and the known names.
    pub fn from_name(name: &str) -> Result<Self, crate::Error> {
        [EnvKind::MountainCar, EnvKind::Pendulum].into_iter().find(|e| e.name() == name).ok_or_else(|| {
            crate::Error::InvalidParameter {
                name: "--env".into(),
                message: format!("unknown environment `{name}`; known: mountain-car, pendulum"),
            }
        })
    }

    /// A fresh environment.
    #[must_use]
    pub fn make(self) -> Box<dyn Env> {
        match self {
            EnvKind::MountainCar => Box::new(MountainCar::new()),
            EnvKind::Pendulum => Box::new(Pendulum::new()),
        }
    }
}

/// One line of the JSON-lines log: an evaluation in the real environment and the learner's
/// state at that step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    /// Environment steps taken.
    pub step: usize,
    /// Training episodes finished.
    pub episodes: usize,
    /// Mean undiscounted return of the deterministic actor over the evaluation episodes.
    pub eval_return: f64,
    /// Evaluation episodes that ended in a terminal state (Mountain Car: the car at the goal).
    pub eval_terminated: usize,
    /// Mean length of the evaluation episodes.
    pub eval_length: f64,
    /// β (1 for VMBPO; `null` for MBPO and SAC).
    pub beta: Option<f64>,
    /// KL(q_φ ‖ p_θ) of the last rollouts, the one the dual sees (paired members in closed form;
    /// `null` for MBPO and SAC).
    pub kl: Option<f64>,
    /// Mean critic loss since the last record (`null` before the first update).
    pub critic_loss: Option<f64>,
    /// Mean actor loss since the last record.
    pub actor_loss: Option<f64>,
    /// Training loss of the last fit of p_θ (Eq. 10).
    pub prior_dynamics_loss: Option<f64>,
    /// Training loss of the last fit of q_φ (Eq. 11).
    pub variational_dynamics_loss: Option<f64>,
    /// Holdout MSE of the elites of the rollout model at its last fit.
    pub holdout_mse: Option<f64>,
}

/// One line of the per-fit log [`FITS_FILE`] (variational learners): where β acts at this fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitRecord {
    /// Environment steps taken.
    pub step: usize,
    /// β of this fit's TD weights (Eq. 11) and rollouts.
    pub beta: f64,
    /// β after the dual step on this fit's KL (Eq. 9); equal to `beta` for VMBPO.
    pub beta_next: f64,
    /// The KL the dual sees: q_φ from p_θ, paired members in closed form, nats per transition.
    pub kl: f64,
    /// The Monte-Carlo KL of the elite mixtures at the same (s, a).
    pub kl_monte_carlo: f64,
    /// Share of D_env whose Eq. 11 log-weight δ/(γβ) is at the clamp ±c.
    pub saturated: f64,
    /// Share of D_env at the clamp's upper bound +c (the rest of `saturated` is at −c).
    pub saturated_high: f64,
    /// The actor loss's terms on a minibatch of D_env states at `beta_next`.
    pub actor: ActorTerms,
}

/// What [`train`] returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    /// Every evaluation, in order (the lines of the log).
    pub records: Vec<EvalRecord>,
    /// Every model fit of a variational learner, in order (the lines of [`FITS_FILE`]).
    pub fits: Vec<FitRecord>,
    /// The checkpoint's tensor file, when an output directory was given.
    pub checkpoint: Option<PathBuf>,
}

/// The metadata of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointMeta {
    /// The environment.
    pub env: EnvKind,
    /// The learner.
    pub algo: Algo,
    /// The settings (network sizes among them).
    pub config: TrainConfig,
    /// The training seed.
    pub seed: u64,
    /// Environment steps taken.
    pub step: usize,
    /// β at the end.
    pub beta: f64,
    /// Elites and standardisation of p_θ.
    pub prior_dynamics: ModelMeta,
    /// Elites and standardisation of q_φ.
    pub variational_dynamics: ModelMeta,
}

/// The non-tensor state of a dynamics model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelMeta {
    /// Elite members, best first.
    pub elites: Vec<usize>,
    /// Input standardisation.
    pub standardiser: Standardiser,
}

/// Which learnt dynamics a model path follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dynamics {
    /// The prior p_θ.
    Prior,
    /// The variational q_φ.
    Variational,
}

/// Where [`Learner::run`] writes its JSON lines (`None`: nowhere).
#[derive(Default)]
pub struct Logs<'a> {
    /// One [`EvalRecord`] per evaluation ([`LOG_FILE`]).
    pub eval: Option<&'a mut dyn Write>,
    /// One [`FitRecord`] per model fit of a variational learner ([`FITS_FILE`]).
    pub fits: Option<&'a mut dyn Write>,
}

impl std::fmt::Debug for Logs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logs").field("eval", &self.eval.is_some()).field("fits", &self.fits.is_some()).finish()
    }
}

/// One JSON line of `value` into `log`, if there is one (`name` for the error).
fn write_line<W: Write + ?Sized>(log: Option<&mut W>, value: &impl Serialize, name: &str) -> Result<()> {
    if let Some(log) = log {
        let line = serde_json::to_string(value).unwrap_or_default();
        writeln!(log, "{line}").map_err(|source| TrainError::Io { path: name.into(), source })?;
    }
    Ok(())
}

/// The learner's state: networks, buffers, β and the generator.
#[derive(Debug)]
pub struct Learner {
    env_kind: EnvKind,
    algo: Algo,
    config: TrainConfig,
    seed: u64,
    agent: Agent,
    prior_dynamics: DynamicsModel,
    variational_dynamics: DynamicsModel,
    d_env: ReplayBuffer,
    d_model: ReplayBuffer,
    beta: f64,
    kl: f64,
    step: usize,
    /// Fits not yet written to the per-fit log.
    fits: Vec<FitRecord>,
    rng: ChaCha8Rng,
    obs_dim: usize,
    action_dim: usize,
    // Statistics since the last record.
    update_sum: UpdateStats,
    updates: usize,
    prior_loss: Option<f64>,
    variational_loss: Option<f64>,
    holdout_mse: Option<f64>,
}

/// The action box's affine map from the actor's (−1, 1)ᴬ.
fn to_env_action(env: &dyn Env, action: &[f32]) -> Vec<f64> {
    let bounds = env.action_bounds();
    action
        .iter()
        .zip(bounds.low.iter().zip(&bounds.high))
        .map(|(&a, (&lo, &hi))| lo + (f64::from(a) + 1.0) * 0.5 * (hi - lo))
        .collect()
}

fn to_f32(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

/// The seed of evaluation episode `j` of a run seeded `seed`: fixed across evaluations, and
/// apart from the training stream.
fn eval_seed(seed: u64, j: usize) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(0x5EED_0000 + j as u64)
}

impl Learner {
    /// A fresh learner: every network drawn from `ChaCha8Rng::seed_from_u64(seed)` (actor,
    /// critics, p_θ, q_φ, in that order), empty buffers, β = `beta0` (1 for VMBPO).
    ///
    /// # Errors
    /// A config that fails [`TrainConfig::validate`], or a candle error.
    pub fn new(env_kind: EnvKind, algo: Algo, config: &TrainConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let env = env_kind.make();
        let (obs_dim, action_dim) = (env.observation_dim(), env.action_dim());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let agent = Agent::new(obs_dim, action_dim, config, &mut rng)?;
        let prior_dynamics = DynamicsModel::new("prior_dynamics", obs_dim, action_dim, config, &mut rng)?;
        let variational_dynamics = DynamicsModel::new("variational_dynamics", obs_dim, action_dim, config, &mut rng)?;
        Ok(Learner {
            env_kind,
            algo,
            config: config.clone(),
            seed,
            agent,
            prior_dynamics,
            variational_dynamics,
            d_env: ReplayBuffer::new(obs_dim, action_dim, config.env_buffer),
            d_model: ReplayBuffer::new(obs_dim, action_dim, config.model_buffer),
            beta: if algo == Algo::Vmbpo { 1.0 } else { config.beta0 },
            kl: 0.0,
            step: 0,
            fits: Vec::new(),
            rng,
            obs_dim,
            action_dim,
            update_sum: UpdateStats::default(),
            updates: 0,
            prior_loss: None,
            variational_loss: None,
            holdout_mse: None,
        })
    }

    /// The actor-critic.
    #[must_use]
    pub fn agent(&self) -> &Agent {
        &self.agent
    }

    /// The current β.
    #[must_use]
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// The environment.
    #[must_use]
    pub fn env_kind(&self) -> EnvKind {
        self.env_kind
    }

    /// The learner's algorithm.
    #[must_use]
    pub fn algo(&self) -> Algo {
        self.algo
    }

    /// The objective of the actor-critic update at the current β.
    #[must_use]
    pub fn objective(&self) -> Objective {
        if self.algo.variational() {
            Objective::Variational {
                beta: self.beta,
                log_ratio: self.config.critic_log_ratio,
                entropy: self.config.critic_entropy,
            }
        } else {
            Objective::Sac { alpha: self.config.sac_alpha }
        }
    }

    /// The model phase of Algorithm 1: fit p_θ, fit q_φ (variational learners), roll out.
    fn model_phase(&mut self) -> Result<()> {
        let stats = self.prior_dynamics.fit(&self.d_env, FitObjective::Likelihood, &self.config, &mut self.rng)?;
        self.prior_loss = Some(stats.train_loss);
        self.holdout_mse = Some(stats.holdout_mse);
        let env = self.env_kind.make();
        let mut saturation = (0.0, 0.0);
        if self.algo.variational() {
            if self.config.variational_warm_start {
                self.variational_dynamics.copy_from(&self.prior_dynamics)?;
            }
            let log_w = self.dynamics_log_weights()?;
            saturation = saturated(&log_w, self.config.td_clamp);
            let stats = self.variational_dynamics.fit(
                &self.d_env,
                FitObjective::Weighted(&log_w),
                &self.config,
                &mut self.rng,
            )?;
            self.variational_loss = Some(stats.train_loss);
            self.holdout_mse = Some(stats.holdout_mse);
        }
        let models = if self.algo.variational() {
            RolloutModels { next_state: &self.variational_dynamics, prior: Some(&self.prior_dynamics) }
        } else {
            RolloutModels { next_state: &self.prior_dynamics, prior: None }
        };
        let kl: RolloutKl = rollout(
            &self.d_env,
            models,
            self.agent.actor(),
            env.as_ref(),
            self.config.rollouts,
            self.config.rollout_length,
            &mut self.d_model,
            &mut self.rng,
        )?;
        self.kl = kl.closed_form;
        let beta = self.beta;
        // One dual step per KL measurement: Algorithm 1 steps β after every environment step,
        // but the KL only changes when the model is refitted, and stepping `model_every` times
        // on one measurement would multiply the dual learning rate by `model_every`.
        if self.algo == Algo::BetaVmbpo {
            let c = &self.config;
            self.beta = dual_step(self.beta, self.kl, c.epsilon, c.beta_lr, c.beta_update, (c.beta_min, c.beta_max));
        }
        if self.algo.variational() {
            let record = FitRecord {
                step: self.step,
                beta,
                beta_next: self.beta,
                kl: kl.closed_form,
                kl_monte_carlo: kl.monte_carlo,
                saturated: saturation.0,
                saturated_high: saturation.1,
                actor: self.actor_terms()?,
            };
            let numbers = [record.kl, record.kl_monte_carlo, record.beta_next, record.actor.prior_grad];
            if numbers.iter().any(|x| !x.is_finite()) {
                return Err(crate::Error::NonFiniteResult { solver: "train", beta: self.beta }.into());
            }
            self.fits.push(record);
        }
        Ok(())
    }

    /// The actor loss's terms on `batch_size` states of D_env, from a generator seeded by the run's
    /// seed and step (not the training stream).
    fn actor_terms(&self) -> Result<ActorTerms> {
        let mut rng = ChaCha8Rng::seed_from_u64(eval_seed(self.seed, self.step).rotate_left(17));
        let batch = self.d_env.sample(self.config.batch_size, &mut rng)?;
        Ok(self.agent.actor_terms(&batch.obs, self.beta, &mut rng)?)
    }

    /// `log w = clamp(δ/(γβ), −c, c)` of every D_env transition, in buffer order (Eq. 11).
    fn dynamics_log_weights(&mut self) -> Result<Vec<f32>> {
        let n = self.d_env.len();
        let mut out = Vec::with_capacity(n);
        for start in (0..n).step_by(TD_CHUNK) {
            let idx: Vec<usize> = (start..(start + TD_CHUNK).min(n)).collect();
            let batch = self.d_env.gather(&idx)?;
            let td = self.agent.td_errors(&batch, self.config.critic_entropy, self.config.gamma, &mut self.rng)?;
            let log_w = dynamics_log_weight(Batch::new(td), self.beta, self.config.gamma, self.config.td_clamp);
            out.extend(log_w.into_tensor()?.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    /// `updates_per_step` actor-critic updates.
    fn learn_step(&mut self) -> Result<()> {
        let source = if self.algo.model_based() { &self.d_model } else { &self.d_env };
        if source.is_empty() {
            return Ok(());
        }
        let n_real = if self.algo.model_based() {
            ((self.config.batch_size as f64 * self.config.real_ratio).round() as usize).min(self.config.batch_size)
        } else {
            0
        };
        for _ in 0..self.config.updates_per_step {
            let batch = if n_real == 0 {
                source.sample(self.config.batch_size, &mut self.rng)?
            } else if n_real == self.config.batch_size {
                self.d_env.sample(n_real, &mut self.rng)?
            } else {
                let model = source.sample(self.config.batch_size - n_real, &mut self.rng)?;
                let real = self.d_env.sample(n_real, &mut self.rng)?;
                model.concat(&real)?
            };
            let stats =
                self.agent.update(&batch, self.objective(), self.config.gamma, self.config.tau, &mut self.rng)?;
            self.update_sum.critic_loss += stats.critic_loss;
            self.update_sum.actor_loss += stats.actor_loss;
            self.updates += 1;
        }
        Ok(())
    }

    /// `steps` environment steps of Algorithm 1 (see the [module docs](self)), evaluating every
    /// `eval_every` steps and at the end; each evaluation goes to `progress` and to
    /// `logs.eval`, each model fit of a variational learner to `logs.fits`. Returns both, in
    /// order.
    ///
    /// # Errors
    /// A candle error, or a log cannot be written.
    pub fn run(
        &mut self,
        steps: usize,
        mut logs: Logs<'_>,
        mut progress: impl FnMut(&EvalRecord),
    ) -> Result<(Vec<EvalRecord>, Vec<FitRecord>)> {
        let mut env = self.env_kind.make();
        let mut obs = to_f32(&env.reset(&mut self.rng));
        let mut episodes = 0;
        let mut records = Vec::new();
        let mut fits = Vec::new();
        let last = self.step + steps;
        let mut warmup_action: Vec<f32> = Vec::new();
        for _ in 0..steps {
            let action: Vec<f32> = if self.step < self.config.warmup_steps {
                if self.step.is_multiple_of(self.config.warmup_action_repeat) || warmup_action.is_empty() {
                    warmup_action = (0..self.action_dim).map(|_| self.rng.random::<f32>() * 2.0 - 1.0).collect();
                }
                warmup_action.clone()
            } else {
                self.agent.act(&obs, &mut self.rng)?
            };
            let out = env.step(&to_env_action(env.as_ref(), &action))?;
            let next = to_f32(&out.obs);
            self.d_env.push(&Transition {
                obs: &obs,
                action: &action,
                reward: out.reward as f32,
                next_obs: &next,
                terminated: out.terminated,
                log_ratio: 0.0,
            });
            obs = if out.terminated || out.truncated {
                episodes += 1;
                to_f32(&env.reset(&mut self.rng))
            } else {
                next
            };
            self.step += 1;
            if self.step >= self.config.warmup_steps {
                let since = self.step - self.config.warmup_steps;
                if self.algo.model_based() && since.is_multiple_of(self.config.model_every) {
                    self.model_phase()?;
                    for fit in self.fits.drain(..) {
                        write_line(logs.fits.as_deref_mut(), &fit, FITS_FILE)?;
                        fits.push(fit);
                    }
                }
                self.learn_step()?;
            }
            if self.step.is_multiple_of(self.config.eval_every) || self.step == last {
                let record = self.record(episodes)?;
                write_line(logs.eval.as_deref_mut(), &record, LOG_FILE)?;
                progress(&record);
                records.push(record);
            }
        }
        Ok((records, fits))
    }

    fn record(&mut self, episodes: usize) -> Result<EvalRecord> {
        let (eval_return, eval_terminated, eval_length) = self.evaluate(self.config.eval_episodes)?;
        let mean = |sum: f64| if self.updates == 0 { None } else { Some(sum / self.updates as f64) };
        let record = EvalRecord {
            step: self.step,
            episodes,
            eval_return,
            eval_terminated,
            eval_length,
            beta: self.algo.variational().then_some(self.beta),
            kl: self.algo.variational().then_some(self.kl),
            critic_loss: mean(self.update_sum.critic_loss),
            actor_loss: mean(self.update_sum.actor_loss),
            prior_dynamics_loss: self.prior_loss,
            variational_dynamics_loss: self.variational_loss,
            holdout_mse: self.holdout_mse,
        };
        self.update_sum = UpdateStats::default();
        self.updates = 0;
        let numbers = [Some(record.eval_return), record.beta, record.kl, record.critic_loss, record.actor_loss];
        if numbers.iter().flatten().any(|x| !x.is_finite()) {
            return Err(crate::Error::NonFiniteResult { solver: "train", beta: self.beta }.into());
        }
        Ok(record)
    }

    /// `episodes` episodes of the deterministic actor `tanh μ_ω` in the real environment, from
    /// the evaluation seeds of this run: (mean return, episodes that terminated, mean length).
    ///
    /// # Errors
    /// A candle error.
    pub fn evaluate(&self, episodes: usize) -> Result<(f64, usize, f64)> {
        let mut env = self.env_kind.make();
        let (mut total, mut terminated, mut length) = (0.0, 0, 0usize);
        for j in 0..episodes {
            let mut obs = to_f32(&env.reset_seeded(eval_seed(self.seed, j)));
            // The environment truncates at its time limit; the bound makes sure of it.
            for _ in 0..env.max_episode_steps() {
                let action = self.agent.act_deterministic(&obs)?;
                let out = env.step(&to_env_action(env.as_ref(), &action))?;
                total += out.reward;
                length += 1;
                obs = to_f32(&out.obs);
                if out.terminated || out.truncated {
                    terminated += usize::from(out.terminated);
                    break;
                }
            }
        }
        let n = episodes.max(1) as f64;
        Ok((total / n, terminated, length as f64 / n))
    }

    /// Mean observation per time step of `episodes` episodes of the deterministic actor in the
    /// real environment, started from `ChaCha8Rng::seed_from_u64(seed)`: entry t is the mean of
    /// s_t (t = 0 … max_episode_steps). An episode that ended keeps its last observation.
    /// Mountain Car's mean position is entry `[t][0]` (Fig. 4).
    ///
    /// # Errors
    /// A candle error.
    pub fn mean_path_real(&self, episodes: usize, seed: u64) -> Result<Vec<Vec<f64>>> {
        let mut env = self.env_kind.make();
        let horizon = env.max_episode_steps();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sum = vec![vec![0.0; self.obs_dim]; horizon + 1];
        for _ in 0..episodes {
            let mut obs = env.reset(&mut rng);
            let mut ended = false;
            for row in sum.iter_mut() {
                row.iter_mut().zip(&obs).for_each(|(s, x)| *s += x);
                if !ended {
                    let out = env.step(&to_env_action(env.as_ref(), &self.agent.act_deterministic(&to_f32(&obs))?))?;
                    ended = out.terminated;
                    obs = out.obs;
                }
            }
        }
        Ok(mean_rows(sum, episodes))
    }

    /// The same in a learnt model: the deterministic actor, next states drawn from `dynamics`
    /// (a random elite per step, as in rollouts), starts from the real environment's initial
    /// distribution, `horizon` steps; a path that reaches the task's terminal set stays there.
    ///
    /// # Errors
    /// A candle error.
    pub fn mean_path_model(
        &self,
        dynamics: Dynamics,
        episodes: usize,
        horizon: usize,
        seed: u64,
    ) -> Result<Vec<Vec<f64>>> {
        let model = match dynamics {
            Dynamics::Prior => &self.prior_dynamics,
            Dynamics::Variational => &self.variational_dynamics,
        };
        let mut env = self.env_kind.make();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let o = self.obs_dim;
        let mut obs: Vec<f32> = (0..episodes).flat_map(|_| to_f32(&env.reset(&mut rng))).collect();
        let mut ended = vec![false; episodes];
        let mut sum = vec![vec![0.0; o]; horizon + 1];
        for (t, total) in sum.iter_mut().enumerate() {
            for row in obs.chunks(o) {
                total.iter_mut().zip(row).for_each(|(s, &x)| *s += f64::from(x));
            }
            if t == horizon || episodes == 0 {
                break;
            }
            let s = Tensor::from_vec(obs.clone(), (episodes, o), &Device::Cpu)?;
            let action = self.agent.act_batch_deterministic(&s)?;
            let (next, _) = model.sample(&s, &action, &mut rng)?;
            let next: Vec<f32> = next.flatten_all()?.to_vec1()?;
            for (i, done) in ended.iter_mut().enumerate() {
                if !*done {
                    obs[i * o..(i + 1) * o].copy_from_slice(&next[i * o..(i + 1) * o]);
                    *done = env.is_terminal(&obs[i * o..(i + 1) * o]);
                }
            }
        }
        Ok(mean_rows(sum, episodes))
    }

    /// One map with every variable under `group/name`, sharing storage with the learner's.
    fn combined_varmap(&self) -> VarMap {
        let combined = VarMap::new();
        {
            let mut data = combined.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let groups = self.agent.varmaps().into_iter().chain([
                ("prior_dynamics", self.prior_dynamics.varmap()),
                ("variational_dynamics", self.variational_dynamics.varmap()),
            ]);
            for (group, varmap) in groups {
                for (name, var) in sorted_vars(varmap) {
                    data.insert(format!("{group}/{name}"), var);
                }
            }
        }
        combined
    }

    /// The checkpoint metadata.
    #[must_use]
    pub fn meta(&self) -> CheckpointMeta {
        let model =
            |m: &DynamicsModel| ModelMeta { elites: m.elites().to_vec(), standardiser: m.standardiser().clone() };
        CheckpointMeta {
            env: self.env_kind,
            algo: self.algo,
            config: self.config.clone(),
            seed: self.seed,
            step: self.step,
            beta: self.beta,
            prior_dynamics: model(&self.prior_dynamics),
            variational_dynamics: model(&self.variational_dynamics),
        }
    }

    /// Write [`CHECKPOINT_TENSORS`] and [`CHECKPOINT_META`] into `dir`; returns the tensor file.
    ///
    /// # Errors
    /// The files cannot be written.
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        let tensors = dir.join(CHECKPOINT_TENSORS);
        self.combined_varmap().save(&tensors)?;
        let meta = dir.join(CHECKPOINT_META);
        let text = serde_json::to_string_pretty(&self.meta()).unwrap_or_default();
        std::fs::write(&meta, text + "\n")
            .map_err(|source| TrainError::Io { path: meta.display().to_string(), source })?;
        Ok(tensors)
    }

    /// Load a checkpoint: `path` is its tensor file or the directory holding it (the metadata
    /// sits beside it as [`CHECKPOINT_META`]). Buffers start empty.
    ///
    /// # Errors
    /// [`TrainError::Checkpoint`] naming the file, and the field where there is one: a file that
    /// is not a checkpoint's tensors, metadata that does not parse, a non-finite or non-positive
    /// β, a standardiser with a non-finite mean or a non-positive standard deviation, a
    /// truncated tensor file or tensors that do not match the metadata's sizes, a non-finite
    /// weight; [`TrainError::Io`] for a file that cannot be read.
    pub fn load(path: &Path) -> Result<Self> {
        let tensors = if path.is_dir() { path.join(CHECKPOINT_TENSORS) } else { path.to_path_buf() };
        let bad = |path: &Path, message: String| TrainError::Checkpoint { path: path.display().to_string(), message };
        if tensors.file_name().and_then(|n| n.to_str()) != Some(CHECKPOINT_TENSORS) {
            return Err(bad(
                &tensors,
                format!("not a checkpoint: give the `riskmdp train --out` folder or its {CHECKPOINT_TENSORS}"),
            ));
        }
        let meta_path = tensors.with_file_name(CHECKPOINT_META);
        let text = std::fs::read_to_string(&meta_path)
            .map_err(|source| TrainError::Io { path: meta_path.display().to_string(), source })?;
        let meta: CheckpointMeta = serde_json::from_str(&text).map_err(|e| bad(&meta_path, e.to_string()))?;
        check_meta(&meta).map_err(|message| bad(&meta_path, message))?;
        // Every weight is an f32 of the tensor file: a config whose networks cannot fit in it is
        // refused before they are built (a hidden layer of 10⁹ units would take hours and
        // hundreds of GB to draw, only to fail the shape check).
        let file_bytes = std::fs::metadata(&tensors)
            .map_err(|source| TrainError::Io { path: tensors.display().to_string(), source })?
            .len();
        let env = meta.env.make();
        let weights = least_weights(&meta.config, env.observation_dim(), env.action_dim());
        if weights.saturating_mul(4) > file_bytes {
            return Err(bad(
                &meta_path,
                format!(
                    "`config`: its networks hold at least {weights} weights, more than the {file_bytes} bytes of \
                     {CHECKPOINT_TENSORS} can store"
                ),
            ));
        }
        let mut learner = Learner::new(meta.env, meta.algo, &meta.config, meta.seed)
            .map_err(|e| bad(&meta_path, format!("config: {e}")))?;
        let mut combined = learner.combined_varmap();
        combined.load(&tensors).map_err(|e| bad(&tensors, first_line(&e)))?;
        for (name, var) in sorted_vars(&combined) {
            let finite = var
                .as_tensor()
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(|e| bad(&tensors, first_line(&e)))?;
            if let Some(i) = finite.iter().position(|x| !x.is_finite()) {
                return Err(bad(&tensors, format!("`{name}`: entry {i} is {}, not a finite weight", finite[i])));
            }
        }
        learner
            .prior_dynamics
            .restore(meta.prior_dynamics.elites, meta.prior_dynamics.standardiser)
            .map_err(|e| bad(&meta_path, format!("`prior_dynamics`: {}", first_line(&e))))?;
        learner
            .variational_dynamics
            .restore(meta.variational_dynamics.elites, meta.variational_dynamics.standardiser)
            .map_err(|e| bad(&meta_path, format!("`variational_dynamics`: {}", first_line(&e))))?;
        learner.beta = meta.beta;
        learner.step = meta.step;
        Ok(learner)
    }
}

/// Shares of `log_w` at the clamp `±c` (both bounds, and the upper one alone).
fn saturated(log_w: &[f32], clamp: f64) -> (f64, f64) {
    let n = log_w.len().max(1) as f64;
    let bound = clamp as f32;
    let at = |keep: fn(f32, f32) -> bool| log_w.iter().filter(|&&w| keep(w, bound)).count() as f64 / n;
    (at(|w, c| w.abs() >= c), at(|w, c| w >= c))
}

/// A lower bound on the weights of a learner's networks under `config`: the weight matrices
/// between consecutive layers of the actor and the prior policy, the four critics (twins and
/// targets) and both ensembles, each with its narrowest output (biases and wider heads left out).
fn least_weights(config: &TrainConfig, obs: usize, act: usize) -> u64 {
    let matrices = |sizes: &[usize]| -> u64 {
        sizes.windows(2).fold(0u64, |sum, w| sum.saturating_add((w[0] as u64).saturating_mul(w[1] as u64)))
    };
    let actor = matrices(&[&[obs][..], &config.actor_hidden, &[act]].concat());
    let critic = matrices(&[&[obs + act][..], &config.critic_hidden, &[1]].concat());
    let member = matrices(&[&[obs + act][..], &config.dynamics_hidden, &[1 + obs]].concat());
    let ensemble = member.saturating_mul(config.ensemble_size as u64);
    actor.saturating_mul(2).saturating_add(critic.saturating_mul(4)).saturating_add(ensemble.saturating_mul(2))
}

/// The first line of an error's message (candle appends a backtrace to some).
fn first_line(e: &impl std::fmt::Display) -> String {
    e.to_string().lines().next().unwrap_or_default().to_owned()
}

/// The metadata's numbers a learner cannot run with, named by field.
fn check_meta(meta: &CheckpointMeta) -> std::result::Result<(), String> {
    if !(meta.beta.is_finite() && meta.beta > 0.0) {
        return Err(format!("`beta`: {} is not a finite positive β", meta.beta));
    }
    for (model, m) in [("prior_dynamics", &meta.prior_dynamics), ("variational_dynamics", &meta.variational_dynamics)] {
        let s = &m.standardiser;
        if let Some(i) = s.mean.iter().position(|x| !x.is_finite()) {
            return Err(format!("`{model}.standardiser.mean[{i}]`: {} is not finite", s.mean[i]));
        }
        if let Some(i) = s.std.iter().position(|x| !(x.is_finite() && *x > 0.0)) {
            return Err(format!("`{model}.standardiser.std[{i}]`: {} is not a finite positive scale", s.std[i]));
        }
    }
    Ok(())
}

fn mean_rows(sum: Vec<Vec<f64>>, n: usize) -> Vec<Vec<f64>> {
    let n = n.max(1) as f64;
    sum.into_iter().map(|row| row.into_iter().map(|s| s / n).collect()).collect()
}

/// Train `algo` on `env` for `steps` environment steps from `seed` (see the [module
/// docs](self)). With `out_dir`: writes `config.json`, the JSON-lines log [`LOG_FILE`] (one
/// [`EvalRecord`] per line, flushed as it goes), for β-VMBPO and VMBPO the per-fit log
/// [`FITS_FILE`] (one [`FitRecord`] per model fit), and the checkpoint at the end. `progress` sees
/// every record (a progress bar, a terminal line).
///
/// # Errors
/// A bad config, an unwritable directory, or a candle error.
pub fn train(
    env: EnvKind,
    algo: Algo,
    config: &TrainConfig,
    steps: usize,
    seed: u64,
    out_dir: Option<&Path>,
    progress: impl FnMut(&EvalRecord),
) -> Result<TrainReport> {
    let mut learner = Learner::new(env, algo, config, seed)?;
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
        move |source| TrainError::Io { path: path.display().to_string(), source }
    }
    let create = |path: PathBuf| -> Result<std::io::LineWriter<std::fs::File>> {
        Ok(std::io::LineWriter::new(std::fs::File::create(&path).map_err(io(&path))?))
    };
    let (mut log, mut fits_log) = match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
            config.save(dir.join("config.json"))?;
            let fits = if algo.variational() { Some(create(dir.join(FITS_FILE))?) } else { None };
            (Some(create(dir.join(LOG_FILE))?), fits)
        }
        None => (None, None),
    };
    let logs =
        Logs { eval: log.as_mut().map(|l| l as &mut dyn Write), fits: fits_log.as_mut().map(|l| l as &mut dyn Write) };
    let (records, fits) = learner.run(steps, logs, progress)?;
    let checkpoint = match out_dir {
        Some(dir) => Some(learner.save(dir)?),
        None => None,
    };
    Ok(TrainReport { records, fits, checkpoint })
}

/// What [`evaluate`] measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The environment of the checkpoint.
    pub env: EnvKind,
    /// Its learner.
    pub algo: Algo,
    /// Steps it was trained for.
    pub step: usize,
    /// Return of each episode.
    pub returns: Vec<f64>,
    /// Whether each episode ended in a terminal state (Mountain Car: the goal).
    pub terminated: Vec<bool>,
    /// Mean return.
    pub mean_return: f64,
}

/// Roll out a checkpoint's deterministic actor for `episodes` episodes in the real
/// environment, episode j started from `reset_seeded(seed + j)`.
///
/// # Errors
/// Those of [`Learner::load`].
pub fn evaluate(checkpoint: &Path, episodes: usize, seed: u64) -> Result<Evaluation> {
    let learner = Learner::load(checkpoint)?;
    let mut env = learner.env_kind.make();
    let (mut returns, mut terminated) = (Vec::new(), Vec::new());
    for j in 0..episodes {
        let mut obs = to_f32(&env.reset_seeded(seed.wrapping_add(j as u64)));
        let (mut total, mut ended) = (0.0, false);
        // The environment truncates at its time limit; the bound makes sure of it.
        for _ in 0..env.max_episode_steps() {
            let out = env.step(&to_env_action(env.as_ref(), &learner.agent.act_deterministic(&obs)?))?;
            total += out.reward;
            obs = to_f32(&out.obs);
            if out.terminated || out.truncated {
                ended = out.terminated;
                break;
            }
        }
        terminated.push(ended);
        returns.push(total);
    }
    let mean_return = returns.iter().sum::<f64>() / episodes.max(1) as f64;
    Ok(Evaluation { env: learner.env_kind, algo: learner.algo, step: learner.step, returns, terminated, mean_return })
}
