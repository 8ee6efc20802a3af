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
//!
//! # Files
//!
//! The loop (this file: [`Learner`], [`train`]); `kinds` ([`Algo`], [`EnvKind`]); `records` (the
//! lines of the logs: [`EvalRecord`], [`FitRecord`]); `checkpoint` ([`Learner::save`],
//! [`Learner::load`] and what it refuses); `evaluation` ([`evaluate`], [`Learner::evaluate`] and
//! Fig. 4's mean paths).

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
use super::numeric::NumericTensor;
use crate::losses::dynamics_log_weight;

mod checkpoint;
mod evaluation;
mod kinds;
mod records;

pub use checkpoint::{CheckpointMeta, ModelMeta};
pub use evaluation::{Dynamics, Evaluation, evaluate};
pub use kinds::{Algo, EnvKind};
use records::write_line;
pub use records::{EvalRecord, FitRecord, Logs, TrainReport};

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
        let env = env_kind.make()?;
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
            beta: if algo == Algo::Vmbpo { 1.0 } else { config.dual.beta0 },
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
        let env = self.env_kind.make()?;
        let mut saturation = (0.0, 0.0);
        if self.algo.variational() {
            if self.config.variational_warm_start {
                self.variational_dynamics.copy_from(&self.prior_dynamics)?;
            }
            let log_w = self.dynamics_log_weights()?;
            saturation = saturated(&log_w, self.config.dual.td_clamp);
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
            self.beta = self.config.dual.step(self.beta, self.kl);
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
            let log_w =
                dynamics_log_weight(NumericTensor::new(td), self.beta, self.config.gamma, self.config.dual.td_clamp);
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
        let mut env = self.env_kind.make()?;
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
}

/// Shares of `log_w` at the clamp `±c` (both bounds, and the upper one alone).
fn saturated(log_w: &[f32], clamp: f64) -> (f64, f64) {
    let n = log_w.len().max(1) as f64;
    let bound = clamp as f32;
    let at = |keep: fn(f32, f32) -> bool| log_w.iter().filter(|&&w| keep(w, bound)).count() as f64 / n;
    (at(|w, c| w.abs() >= c), at(|w, c| w >= c))
}

/// The first line of an error's message (candle appends a backtrace to some).
fn first_line(e: &impl std::fmt::Display) -> String {
    e.to_string().lines().next().unwrap_or_default().to_owned()
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
