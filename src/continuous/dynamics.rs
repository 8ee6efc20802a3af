//! The learnt dynamics of continuous β-VMBPO (App. C.1): the prior p_θ fitted by maximum
//! likelihood (Eq. 10), the variational q_φ by the exponentially weighted likelihood (Eq. 11),
//! and the model rollouts of Algorithm 1 that fill D_model.
//!
//! # One model fit
//!
//! ```text
//! inputs x = standardise([s, a]),  targets y = [r, s' − s]
//! holdout: min(20 %, 5000) of D_env, drawn by the seeded generator; the rest trains
//! for each of `dynamics_epochs` epochs, each member on its own shuffle of the training set:
//!   p_θ:  J(θ) = −mean log p_θ(y|x)                                       (Eq. 10)
//!   q_φ:  J(φ) = −mean exp(log w)·log q_φ(y|x),
//!         log w = clamp( δ/(γβ), −4, 4 ),  δ = r + γ·V₂'(s') − Q₂(s,a)      (Eq. 11)
//!   both plus 0.01·Σ(max_lv − min_lv) (the public MBPO code's bound on the learnt log-variance)
//! elites: the members with the smallest mean squared error of the mean on the holdout set
//! ```
//!
//! The fit runs a fixed number of epochs and uses the holdout only to pick elites (App. C.1).
//!
//! # Rollouts
//!
//! ```text
//! s ∼ D_env,  a ∼ q_ω(·|s),  Δ ∼ q_φ(·|s,a) (a random elite per sample),  s' = s + Δ,
//! r ∼ p_θ(·|s,a),  log q/p = log q_φ(s'|s,a) − log p_θ(s'|s,a)  (mixtures over the elites)
//! ```
//!
//! MBPO rolls out p_θ alone (reward and next state from the same draw) and stores log q/p = 0.
//!
//! # The KL the dual sees (Eq. 9)
//!
//! Eq. 9 constrains KL(q(s'|s,a) ‖ p(s'|s,a)) per transition, in nats; it is measured on the
//! first step of the rollouts (s ∼ D_env, a ∼ q_ω), over the next-state coordinates (the
//! reward comes from p_θ in both). Each member of each ensemble is a diagonal Gaussian, whose
//! KL has a closed form ([`crate::losses::gaussian_kl`]); an ensemble is a uniform mixture of
//! its elites, and the KL of two mixtures has none. The dual therefore sees the KL of the
//! **paired members**,
//!
//! ```text
//! KL(s,a) = (1/K)·Σ_{k ∈ elites(q_φ)} Σ_d KL( N(μ_{q,k,d}, σ²_{q,k,d}) ‖ N(μ_{p,k,d}, σ²_{p,k,d}) )
//! ```
//!
//! member k of q_φ against member k of p_θ (q_φ's member k starts each fit from p_θ's member k
//! with `variational_warm_start`). It is exact for the model "draw a member k, then s' from it"
//! in both (the KL of the joint over (k, s')), and by the joint convexity of the KL it bounds the
//! KL of the two mixtures over the same members from above, so the constraint it enforces is
//! at least as tight as Eq. 8's. The Monte-Carlo KL of the mixtures themselves, the mean of
//! `log q/p` at the same (s, a), is logged beside it (`kl_monte_carlo`).

use candle_core::{D, Device, Result, Tensor};
use candle_nn::VarMap;
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};

use super::buffer::{ReplayBuffer, Transition};
use super::config::TrainConfig;
use super::env::Env;
use super::nets::{Activation, Ensemble, GaussianActor, gaussian_log_density, sorted_vars, standard_normal};
use super::numeric::NumericTensor;
use super::optim::FusedAdam;
use crate::losses::{gaussian_kl, prior_dynamics_nll, variational_dynamics_loss};

/// Weight of the penalty on the learnt log-variance bounds (the public MBPO code's 0.01).
const LOG_VAR_BOUND_PENALTY: f64 = 0.01;

/// Rollouts evaluated in one batch: bounds the (E, B, 200) activations to a few tens of MB.
const ROLLOUT_CHUNK: usize = 10_000;

/// Per-coordinate input standardisation `(x − mean)/std`, fitted on the training inputs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Standardiser {
    /// Mean of each input coordinate.
    pub mean: Vec<f32>,
    /// Standard deviation of each coordinate (1 where it is below 1e-12, a constant input).
    pub std: Vec<f32>,
}

impl Standardiser {
    /// The identity on `width` coordinates.
    #[must_use]
    pub fn identity(width: usize) -> Self {
        Standardiser { mean: vec![0.0; width], std: vec![1.0; width] }
    }

    /// Fitted to the rows `indices` of the flat row-major `data` of `width` columns.
    #[must_use]
    pub fn fit(data: &[f32], width: usize, indices: &[usize]) -> Self {
        let n = indices.len().max(1) as f64;
        let mut mean = vec![0.0f64; width];
        for &i in indices {
            for (m, &x) in mean.iter_mut().zip(&data[i * width..(i + 1) * width]) {
                *m += f64::from(x);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0f64; width];
        for &i in indices {
            for ((v, &x), m) in var.iter_mut().zip(&data[i * width..(i + 1) * width]).zip(&mean) {
                *v += (f64::from(x) - m).powi(2);
            }
        }
        let std = var.iter().map(|v| (v / n).sqrt()).map(|s| if s < 1e-12 { 1.0 } else { s as f32 }).collect();
        Standardiser { mean: mean.iter().map(|&m| m as f32).collect(), std }
    }

    /// `(x − mean)/std` for `x` of shape (…, width).
    ///
    /// # Errors
    /// A width that does not match.
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        let width = self.mean.len();
        let mean = Tensor::from_slice(&self.mean, width, &Device::Cpu)?;
        let std = Tensor::from_slice(&self.std, width, &Device::Cpu)?;
        x.broadcast_sub(&mean)?.broadcast_div(&std)
    }
}

/// Which objective a fit minimises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FitObjective<'a> {
    /// Eq. 10: the likelihood of D_env (the prior p_θ, or MBPO's model).
    Likelihood,
    /// Eq. 11: the likelihood weighted by `exp(log w)`, one log-weight per D_env transition (in
    /// buffer order), from [`crate::losses::dynamics_log_weight`].
    Weighted(&'a [f32]),
}

/// What one model fit measured.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FitStats {
    /// Mean training loss over the last epoch.
    pub train_loss: f64,
    /// Mean holdout mean-squared error of the elites.
    pub holdout_mse: f64,
}

/// A probabilistic ensemble over `[r, s' − s]` with its optimiser, elites and input
/// standardisation: p_θ or q_φ.
pub struct DynamicsModel {
    varmap: VarMap,
    ensemble: Ensemble,
    optimizer: FusedAdam,
    obs_dim: usize,
    action_dim: usize,
    members: usize,
    elites: Vec<usize>,
    standardiser: Standardiser,
}

impl std::fmt::Debug for DynamicsModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicsModel")
            .field("members", &self.members)
            .field("elites", &self.elites)
            .field("standardiser", &self.standardiser)
            .finish_non_exhaustive()
    }
}

impl DynamicsModel {
    /// A fresh ensemble of `config.ensemble_size` members `obs + act → dynamics_hidden → 1 + obs`
    /// (ReLU, Table 1), weights from `rng`; the first `config.elites` members are the elites
    /// until the first fit.
    ///
    /// # Errors
    /// A candle error building the networks.
    pub fn new(
        prefix: &str,
        obs_dim: usize,
        action_dim: usize,
        config: &TrainConfig,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        Self::with_activation(prefix, obs_dim, action_dim, config, Activation::Relu, rng)
    }

    /// [`DynamicsModel::new`] with another hidden activation: [`Activation::Swish`] is the
    /// public MBPO code's choice (`examples/candle_updates.rs` times both against PyTorch).
    /// Training uses [`DynamicsModel::new`] (ReLU, Table 1); the weights drawn from `rng` do
    /// not depend on the activation.
    ///
    /// # Formula
    ///
    /// Each of the `config.ensemble_size` members, with `act` the activation:
    ///
    /// ```text
    /// h₀ = x,  hₗ₊₁ = act(hₗ·Wₗ + bₗ),  (μ, raw) = h_L·W_L + b_L,  each of width 1 + obs
    /// ```
    ///
    /// (log σ² from `raw` between the learnt bounds, as [`Ensemble::forward`] states it.)
    ///
    /// # Errors
    /// A candle error building the networks.
    pub fn with_activation(
        prefix: &str,
        obs_dim: usize,
        action_dim: usize,
        config: &TrainConfig,
        activation: Activation,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        let varmap = VarMap::new();
        let sizes = [&[obs_dim + action_dim][..], &config.dynamics_hidden, &[1 + obs_dim]].concat();
        let ensemble = Ensemble::init(&varmap, prefix, config.ensemble_size, &sizes, activation, rng)?;
        let vars = sorted_vars(&varmap).into_iter().map(|(_, v)| v).collect();
        let optimizer = FusedAdam::new(vars, config.dynamics_lr)?;
        Ok(DynamicsModel {
            varmap,
            ensemble,
            optimizer,
            obs_dim,
            action_dim,
            members: config.ensemble_size,
            elites: (0..config.elites).collect(),
            standardiser: Standardiser::identity(obs_dim + action_dim),
        })
    }

    /// The variables (for checkpoints).
    #[must_use]
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// The elite members, best first.
    #[must_use]
    pub fn elites(&self) -> &[usize] {
        &self.elites
    }

    /// The input standardisation.
    #[must_use]
    pub fn standardiser(&self) -> &Standardiser {
        &self.standardiser
    }

    /// Restore elites and standardisation (a loaded checkpoint).
    ///
    /// # Errors
    /// An elite index out of range, no elite, or a standardiser of the wrong width.
    pub fn restore(&mut self, elites: Vec<usize>, standardiser: Standardiser) -> Result<()> {
        let width = self.obs_dim + self.action_dim;
        if elites.is_empty() || elites.iter().any(|&e| e >= self.members) {
            candle_core::bail!("elites {elites:?} do not index {} members", self.members)
        }
        if standardiser.mean.len() != width || standardiser.std.len() != width {
            candle_core::bail!("a standardiser of width {}, expected {width}", standardiser.mean.len())
        }
        self.elites = elites;
        self.standardiser = standardiser;
        Ok(())
    }

    /// Means and log-variances of every member for one batch, each (E, B, 1 + O).
    ///
    /// # Errors
    /// Shapes that do not match.
    pub fn predict(&self, obs: &Tensor, action: &Tensor) -> Result<(Tensor, Tensor)> {
        let x = self.standardiser.apply(&Tensor::cat(&[obs, action], D::Minus1)?)?;
        let (b, width) = x.dims2()?;
        self.ensemble.forward(&x.unsqueeze(0)?.broadcast_as((self.members, b, width))?.contiguous()?)
    }

    /// A draw `[r, Δ]` from a random elite per sample: `(next_obs = obs + Δ, reward)`, shapes
    /// (B, O) and (B).
    ///
    /// # Errors
    /// Shapes that do not match.
    pub fn sample(&self, obs: &Tensor, action: &Tensor, rng: &mut impl Rng) -> Result<(Tensor, Tensor)> {
        let (mean, log_var) = self.predict(obs, action)?;
        let (e, b, d) = mean.dims3()?;
        let ids: Vec<u32> =
            (0..b).map(|i| (self.elites[rng.random_range(0..self.elites.len())] * b + i) as u32).collect();
        let ids = Tensor::from_vec(ids, b, &Device::Cpu)?;
        let pick = |t: &Tensor| t.reshape((e * b, d))?.index_select(&ids, 0);
        let noise = standard_normal(rng, &[b, d])?;
        let y = (pick(&mean)? + (pick(&log_var)?.affine(0.5, 0.0)?.exp()? * noise)?)?;
        let reward = y.narrow(1, 0, 1)?.squeeze(1)?;
        let next = (obs + y.narrow(1, 1, self.obs_dim)?)?;
        Ok((next, reward))
    }

    /// The mean prediction of the best elite, `(obs + μ_Δ, μ_r)`: a noise-free step of the
    /// model (Fig. 4's paths in the learnt dynamics).
    ///
    /// # Errors
    /// Shapes that do not match.
    pub fn mean_step(&self, obs: &Tensor, action: &Tensor) -> Result<(Tensor, Tensor)> {
        let (mean, _) = self.predict(obs, action)?;
        let best = mean.get(self.elites[0])?;
        Ok(((obs + best.narrow(1, 1, self.obs_dim)?)?, best.narrow(1, 0, 1)?.squeeze(1)?))
    }

    /// `log m(s'|s,a)` of the elite mixture `m = (1/K)·Σ_elites N(s' − s; μ_Δ, σ²_Δ)` over the
    /// next-state coordinates, shape (B): `log q_φ` or `log p_θ` of a transition.
    ///
    /// # Errors
    /// Shapes that do not match.
    pub fn log_density_next(&self, obs: &Tensor, action: &Tensor, next_obs: &Tensor) -> Result<Tensor> {
        let (mean, log_var) = self.predict(obs, action)?;
        let o = self.obs_dim;
        let delta = (next_obs - obs)?;
        let per_member = gaussian_log_density(&mean.narrow(2, 1, o)?, &log_var.narrow(2, 1, o)?, &delta)?;
        let ids = Tensor::from_vec(
            self.elites.iter().map(|&e| e as u32).collect::<Vec<_>>(),
            self.elites.len(),
            &Device::Cpu,
        )?;
        per_member.index_select(&ids, 0)?.log_sum_exp(0)?.affine(1.0, -(self.elites.len() as f64).ln())
    }

    /// The KL the dual sees (see the [module docs](self)), per sample, shape (B): this model
    /// (q_φ) against `prior` (p_θ), member k against member k over this model's elites, summed
    /// over the next-state coordinates in closed form ([`gaussian_kl`]).
    ///
    /// # Errors
    /// Models of different sizes, or shapes that do not match.
    pub fn kl_from(&self, prior: &DynamicsModel, obs: &Tensor, action: &Tensor) -> Result<Tensor> {
        if prior.members != self.members || prior.obs_dim != self.obs_dim {
            candle_core::bail!("KL of a {}-member model from a {}-member one", self.members, prior.members)
        }
        let (mean_q, log_var_q) = self.predict(obs, action)?;
        let (mean_p, log_var_p) = prior.predict(obs, action)?;
        let ids = Tensor::from_vec(
            self.elites.iter().map(|&e| e as u32).collect::<Vec<_>>(),
            self.elites.len(),
            &Device::Cpu,
        )?;
        let next_state = |t: &Tensor| {
            Ok::<_, candle_core::Error>(NumericTensor::new(
                t.narrow(2, 1, self.obs_dim)?.contiguous()?.index_select(&ids, 0)?,
            ))
        };
        let per_coordinate =
            gaussian_kl(next_state(&mean_q)?, next_state(&log_var_q)?, next_state(&mean_p)?, next_state(&log_var_p)?)
                .into_tensor()?;
        per_coordinate.sum(2)?.mean(0)
    }

    /// One model fit on all of `data` (see the [module docs](self)).
    ///
    /// # Errors
    /// Fewer than 2 transitions, weights of the wrong length, or a candle error.
    pub fn fit(
        &mut self,
        data: &ReplayBuffer,
        objective: FitObjective<'_>,
        config: &TrainConfig,
        rng: &mut impl Rng,
    ) -> Result<FitStats> {
        let n = data.len();
        if n < 2 {
            candle_core::bail!("a model fit needs at least 2 transitions, D_env holds {n}")
        }
        if let FitObjective::Weighted(w) = objective
            && w.len() != n
        {
            candle_core::bail!("{} log-weights for {n} transitions", w.len())
        }
        let (o, a) = (self.obs_dim, self.action_dim);
        let (in_w, out_w) = (o + a, 1 + o);
        let all: Vec<usize> = (0..n).collect();
        let batch = data.gather(&all)?;
        let inputs: Vec<f32> = Tensor::cat(&[&batch.obs, &batch.action], 1)?.flatten_all()?.to_vec1()?;
        let delta = (&batch.next_obs - &batch.obs)?;
        let targets: Vec<f32> = Tensor::cat(&[&batch.reward.unsqueeze(1)?, &delta], 1)?.flatten_all()?.to_vec1()?;

        let mut order = all;
        order.shuffle(rng);
        let n_holdout = ((n as f64 * config.holdout) as usize).clamp(1, config.max_holdout).min(n - 1);
        let (holdout, train) = order.split_at(n_holdout);
        self.standardiser = Standardiser::fit(&inputs, in_w, train);

        let e = self.members;
        let rows = |data: &[f32], width: usize, idx: &[usize]| -> Vec<f32> {
            idx.iter().flat_map(|&i| data[i * width..(i + 1) * width].iter().copied()).collect()
        };
        let bs = config.dynamics_batch_size;
        let per_epoch = train.len().div_ceil(bs);
        let mut budget = if config.dynamics_max_batches == 0 { usize::MAX } else { config.dynamics_max_batches };
        let mut last_epoch_loss = f64::NAN;
        'epochs: for _ in 0..config.dynamics_epochs {
            let shuffles: Vec<Vec<usize>> = (0..e)
                .map(|_| {
                    let mut s = train.to_vec();
                    s.shuffle(rng);
                    s
                })
                .collect();
            let (mut sum, mut count) = (0.0, 0usize);
            for j in 0..per_epoch {
                if budget == 0 {
                    break 'epochs;
                }
                budget -= 1;
                let end = ((j + 1) * bs).min(train.len());
                let b = end - j * bs;
                let member_rows: Vec<&[usize]> = shuffles.iter().map(|s| &s[j * bs..end]).collect();
                let x: Vec<f32> = member_rows.iter().flat_map(|idx| rows(&inputs, in_w, idx)).collect();
                let y: Vec<f32> = member_rows.iter().flat_map(|idx| rows(&targets, out_w, idx)).collect();
                let x = self.standardiser.apply(&Tensor::from_vec(x, (e, b, in_w), &Device::Cpu)?)?;
                let y = Tensor::from_vec(y, (e, b, out_w), &Device::Cpu)?;
                let log_lik = NumericTensor::new(self.ensemble.log_likelihood(&x, &y)?);
                let loss = match objective {
                    FitObjective::Likelihood => prior_dynamics_nll(log_lik),
                    FitObjective::Weighted(w) => {
                        let lw: Vec<f32> = member_rows.iter().flat_map(|idx| idx.iter().map(|&i| w[i])).collect();
                        variational_dynamics_loss(
                            NumericTensor::new(Tensor::from_vec(lw, (e, b), &Device::Cpu)?),
                            log_lik,
                        )
                    }
                }
                .into_tensor()?;
                let bound = (self.ensemble_max_log_var()?.sum_all()? - self.ensemble_min_log_var()?.sum_all()?)?;
                let total = (&loss + bound.affine(LOG_VAR_BOUND_PENALTY, 0.0)?)?;
                self.optimizer.backward_step(&total)?;
                sum += f64::from(loss.to_scalar::<f32>()?);
                count += 1;
            }
            last_epoch_loss = sum / count.max(1) as f64;
        }

        // Elites: the smallest holdout mean-squared error of the mean.
        let xh = self.standardiser.apply(&Tensor::from_vec(
            rows(&inputs, in_w, holdout),
            (n_holdout, in_w),
            &Device::Cpu,
        )?)?;
        let yh = Tensor::from_vec(rows(&targets, out_w, holdout), (n_holdout, out_w), &Device::Cpu)?;
        let (mean, _) = self.ensemble.forward(&xh.unsqueeze(0)?.broadcast_as((e, n_holdout, in_w))?.contiguous()?)?;
        let mse: Vec<f32> = mean.broadcast_sub(&yh)?.sqr()?.mean((1, 2))?.to_vec1()?;
        let mut ranked: Vec<usize> = (0..e).collect();
        ranked.sort_by(|&i, &j| mse[i].total_cmp(&mse[j]).then(i.cmp(&j)));
        ranked.truncate(self.elites.len());
        let holdout_mse = ranked.iter().map(|&i| f64::from(mse[i])).sum::<f64>() / ranked.len() as f64;
        self.elites = ranked;
        Ok(FitStats { train_loss: last_epoch_loss, holdout_mse })
    }

    fn ensemble_max_log_var(&self) -> Result<Tensor> {
        self.named("max_log_var")
    }

    fn ensemble_min_log_var(&self) -> Result<Tensor> {
        self.named("min_log_var")
    }

    fn named(&self, suffix: &str) -> Result<Tensor> {
        sorted_vars(&self.varmap)
            .into_iter()
            .find(|(name, _)| name.ends_with(suffix))
            .map(|(_, v)| v.as_tensor().clone())
            .ok_or_else(|| candle_core::Error::Msg(format!("no variable {suffix}")))
    }

    /// Copy `other`'s weights, elites and standardisation into this model (same sizes; the
    /// variables are paired by name after their prefix). The optimiser state is kept.
    ///
    /// # Errors
    /// Models of different sizes.
    pub fn copy_from(&mut self, other: &DynamicsModel) -> Result<()> {
        let from = sorted_vars(&other.varmap);
        let to = sorted_vars(&self.varmap);
        if from.len() != to.len() {
            candle_core::bail!("copy of {} variables into {}", from.len(), to.len())
        }
        let suffix = |name: &str| name.split_once('.').map_or(name.to_string(), |(_, s)| s.to_string());
        for ((name, source), (to_name, dest)) in from.iter().zip(&to) {
            if suffix(name) != suffix(to_name) {
                candle_core::bail!("copy pairs {name} with {to_name}")
            }
            dest.set(&source.as_detached_tensor().copy()?)?;
        }
        self.elites.clone_from(&other.elites);
        self.standardiser = other.standardiser.clone();
        Ok(())
    }
}

/// The models a rollout draws from.
#[derive(Debug, Clone, Copy)]
pub struct RolloutModels<'a> {
    /// The model of the next state: q_φ (β-VMBPO, VMBPO) or p_θ (MBPO).
    pub next_state: &'a DynamicsModel,
    /// The prior p_θ: the reward, and the denominator of log q/p. `None`: the reward comes from
    /// the same draw as the next state and log q/p = 0 (MBPO).
    pub prior: Option<&'a DynamicsModel>,
}

/// The KL of q_φ from p_θ measured on the first step of a batch of rollouts (0 for MBPO).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct RolloutKl {
    /// The KL the dual sees: paired members in closed form ([`DynamicsModel::kl_from`]), mean
    /// over the rollouts, nats.
    pub closed_form: f64,
    /// The Monte-Carlo KL of the elite mixtures: the mean of `log q/p` of the drawn next states.
    pub monte_carlo: f64,
}

/// Model rollouts of Algorithm 1 into `model_buffer` (see the [module docs](self)); returns the
/// KL of q_φ from p_θ on their first steps.
///
/// # Errors
/// An empty `start` buffer, or a candle error.
#[allow(clippy::too_many_arguments)]
pub fn rollout(
    start: &ReplayBuffer,
    models: RolloutModels<'_>,
    actor: &GaussianActor,
    env: &dyn Env,
    rollouts: usize,
    length: usize,
    model_buffer: &mut ReplayBuffer,
    rng: &mut impl Rng,
) -> Result<RolloutKl> {
    let (o, a) = (start.obs_dim(), start.action_dim());
    let (mut kl_sum, mut mc_sum, mut kl_count) = (0.0, 0.0, 0usize);
    let mut done = 0;
    while done < rollouts {
        let b = (rollouts - done).min(ROLLOUT_CHUNK);
        done += b;
        let idx = start.sample_indices(b, rng);
        let mut obs: Vec<f32> = idx.iter().flat_map(|&i| start.obs(i).iter().copied()).collect();
        for step in 0..length {
            let rows = obs.len() / o;
            if rows == 0 {
                break;
            }
            let s = Tensor::from_vec(obs.clone(), (rows, o), &Device::Cpu)?;
            let action = actor.sample(&s, &standard_normal(rng, &[rows, a])?)?.action;
            let (next, reward, log_ratio) = match models.prior {
                Some(prior) => {
                    if step == 0 {
                        let kl = models.next_state.kl_from(prior, &s, &action)?;
                        kl_sum += kl.to_vec1::<f32>()?.iter().map(|&x| f64::from(x)).sum::<f64>();
                    }
                    let (next, _) = models.next_state.sample(&s, &action, rng)?;
                    let (_, reward) = prior.sample(&s, &action, rng)?;
                    let ratio = (models.next_state.log_density_next(&s, &action, &next)?
                        - prior.log_density_next(&s, &action, &next)?)?;
                    (next, reward, ratio)
                }
                None => {
                    let (next, reward) = models.next_state.sample(&s, &action, rng)?;
                    (next, reward, Tensor::zeros(rows, candle_core::DType::F32, &Device::Cpu)?)
                }
            };
            let next: Vec<f32> = next.flatten_all()?.to_vec1()?;
            let action: Vec<f32> = action.flatten_all()?.to_vec1()?;
            let reward: Vec<f32> = reward.to_vec1()?;
            let log_ratio: Vec<f32> = log_ratio.to_vec1()?;
            if step == 0 {
                mc_sum += log_ratio.iter().map(|&x| f64::from(x)).sum::<f64>();
                kl_count += rows;
            }
            let mut kept = Vec::with_capacity(obs.len());
            for i in 0..rows {
                let next_i = &next[i * o..(i + 1) * o];
                let terminated = env.is_terminal(next_i);
                model_buffer.push(&Transition {
                    obs: &obs[i * o..(i + 1) * o],
                    action: &action[i * a..(i + 1) * a],
                    reward: reward[i],
                    next_obs: next_i,
                    terminated,
                    log_ratio: log_ratio[i],
                });
                if !terminated {
                    kept.extend_from_slice(next_i);
                }
            }
            obs = kept;
        }
    }
    let mean = |sum: f64| if kl_count == 0 { 0.0 } else { sum / kl_count as f64 };
    Ok(RolloutKl { closed_form: mean(kl_sum), monte_carlo: mean(mc_sum) })
}
