//! The actor-critic of continuous β-VMBPO (Eqs. 12–14, App. C.1–C.3) and of the SAC baseline:
//! twin critics Q₂ in reward units with soft targets, the variational policy q_ω, and the prior
//! policy π_κ, copied from q_ω after every actor step.
//!
//! # One update on a minibatch from D_model
//!
//! ```text
//! a' ∼ q_ω(·|s'),  V₂'(s') = min(Q₂'₁, Q₂'₂)(s', a') − α_c·log q_ω(a'|s')
//!                                 losses::next_value   (α_c: critic_entropy, 0 in the paper)
//! critic:  y = r + γ·(d·V₂'(s') − β·log(q/p))      losses::critic_target   (Eq. 12, App. C.3)
//!          J(ψ) = (Q₂₁(s,a) − y)² + (Q₂₂(s,a) − y)²  losses::critic_loss   (twin critics)
//! actor:   a ∼ q_ω(·|s),  J(ω) = log q_ω(a|s) − min Q₂'(s,a)/β − log π_κ(a|s)
//!                  losses::variational_policy_loss, losses::q_nats (Eq. 13: the target critic)
//! κ ← ω  (Eq. 14: the minimiser of the prior-policy loss),   ψ' ← τ·ψ + (1 − τ)·ψ'
//!                                                  losses::soft_target (nets::soft_update)
//! Eq. 11's TD error (for the dynamics weights): δ = r + γ·d·V₂'(s') − min Q₂(s,a)
//!                                                  losses::td_error, with the same V₂'
//! ```
//!
//! `d` = 1 − terminated; the stored `log q/p` is 0 unless `critic_log_ratio` is set (App. C.1
//! removes the term). SAC replaces the two losses by [`sac_critic_target`] and
//! [`sac_policy_loss`], with the same networks and schedule. Every formula is the one of
//! [`crate::losses`] that the tabular learners call.

use candle_core::{D, Device, Result, Tensor};
use candle_nn::VarMap;
use rand::Rng;

use super::buffer::TransitionBatch;
use super::config::TrainConfig;
use super::nets::{GaussianActor, TwinCritic, copy_varmap, soft_update, sorted_vars, standard_normal};
use super::numeric::NumericTensor;
use super::optim::FusedAdam;
use crate::losses::{
    Numeric, critic_loss, critic_target, next_value, q_nats, sac_critic_target, sac_policy_loss, td_error,
    variational_policy_loss,
};

/// Which losses an update minimises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// β-VMBPO and VMBPO: Eqs. 12–13 at this β.
    Variational {
        /// The risk parameter β (1 for VMBPO).
        beta: f64,
        /// Keep −β·log(q/p) in the target (App. C.1 removes it).
        log_ratio: bool,
        /// Entropy weight in the next value, reward units (App. C.1's option).
        entropy: f64,
    },
    /// SAC and MBPO: the entropy-regularised losses with temperature α.
    Sac {
        /// The temperature α.
        alpha: f64,
    },
}

/// What one update measured.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct UpdateStats {
    /// Critic loss (both critics summed).
    pub critic_loss: f64,
    /// Actor loss.
    pub actor_loss: f64,
}

/// The terms of the actor loss (Eq. 13) at the current parameters, on one minibatch: what β and
/// the prior policy contribute to the actor's step. A diagnostic; it changes nothing.
///
/// With a ∼ q_ω reparameterised, `∇_ω E[log q_ω(a|s) − log π_κ(a|s)]` has a *pathwise* part
/// through a, which cancels exactly while κ = ω, and a *score* part `E[∇_ω log q_ω(a|s)]` at
/// fixed a, whose expectation is 0. So right after κ ← ω the prior term pushes only noise:
/// `prior_grad_signal` measures how much of its gradient is signal, and `entropy_grad` is the
/// gradient of the entropy term SAC keeps. Norms and values are means over the draws.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ActorTerms {
    /// `E[log q_ω(a|s) − log π_κ(a|s)]`, nats: the prior term's value (0 while κ = ω).
    pub prior_term: f64,
    /// `E[−log q_ω(a|s)]`, nats: the policy's entropy (of the squashed action).
    pub entropy: f64,
    /// `‖∇_ω E[log q_ω(a|s) − log π_κ(a|s)]‖`: the gradient of the prior term.
    pub prior_grad: f64,
    /// `‖∇_ω E[log q_ω(a|s)]‖`: the gradient of the entropy term alone.
    pub entropy_grad: f64,
    /// `‖∇_ω E[Q₂′(s,a)/β]‖`: the gradient of the value term (it scales as 1/β; Adam's step
    /// does not, being invariant to the scale of the whole loss).
    pub value_grad: f64,
    /// The share of the prior term's gradient that is signal, `‖E g‖² / E‖g‖²` over the action
    /// noise on fixed states, estimated without bias from [`ACTOR_TERM_DRAWS`] draws: about 0
    /// for a zero-mean gradient (noise), 1 for one the noise does not move.
    pub prior_grad_signal: f64,
    /// The same share for the value term's gradient.
    pub value_grad_signal: f64,
}

/// Independent draws of the action noise behind each [`ActorTerms`] (the norms are their means).
pub const ACTOR_TERM_DRAWS: usize = 8;

fn norm(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt()
}

/// Running sums for `‖E g‖² / E‖g‖²` from N draws g_i: with ḡ their mean and m the mean of
/// ‖g_i‖², `E‖ḡ‖² = ‖E g‖² + (E‖g‖² − ‖E g‖²)/N`, so `(N·‖ḡ‖² − m) / ((N − 1)·m)` is the share.
#[derive(Default)]
struct GradientSignal {
    sum: Vec<f64>,
    squared_norms: f64,
    draws: usize,
}

impl GradientSignal {
    fn add(&mut self, g: &[f32]) {
        self.sum.resize(g.len(), 0.0);
        self.sum.iter_mut().zip(g).for_each(|(s, &x)| *s += f64::from(x));
        self.squared_norms += norm(g).powi(2);
        self.draws += 1;
    }

    fn share(&self) -> f64 {
        let n = self.draws as f64;
        let mean_squared = self.squared_norms / n;
        if self.draws < 2 || mean_squared == 0.0 {
            return 0.0;
        }
        let mean_norm_squared = self.sum.iter().map(|s| (s / n).powi(2)).sum::<f64>();
        (n * mean_norm_squared - mean_squared) / ((n - 1.0) * mean_squared)
    }
}

/// Actor, prior policy, twin critics, target critics and their optimisers.
pub struct Agent {
    action_dim: usize,
    actor_vars: VarMap,
    actor: GaussianActor,
    prior_vars: VarMap,
    prior: GaussianActor,
    critic_vars: VarMap,
    critic: TwinCritic,
    target_vars: VarMap,
    target: TwinCritic,
    actor_opt: FusedAdam,
    critic_opt: FusedAdam,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent").field("actor", &self.actor).field("critic", &self.critic).finish_non_exhaustive()
    }
}

fn adam(varmap: &VarMap, lr: f64) -> Result<FusedAdam> {
    FusedAdam::new(sorted_vars(varmap).into_iter().map(|(_, v)| v).collect(), lr)
}

/// κ ← ω: every variable of `from` copied into `to`, paired by name.
fn hard_copy(from: &VarMap, to: &VarMap) -> Result<()> {
    for ((name, source), (to_name, dest)) in sorted_vars(from).iter().zip(&sorted_vars(to)) {
        if name != to_name {
            candle_core::bail!("hard copy pairs {name} with {to_name}")
        }
        dest.set(&source.as_detached_tensor().copy()?)?;
    }
    Ok(())
}

impl Agent {
    /// Fresh networks (Table 1's sizes from `config`), weights from `rng`: actor ω, then the
    /// critics; π_κ and the target critics start as copies.
    ///
    /// # Errors
    /// A candle error building the networks.
    pub fn new(obs_dim: usize, action_dim: usize, config: &TrainConfig, rng: &mut impl Rng) -> Result<Self> {
        let actor_vars = VarMap::new();
        let actor = GaussianActor::init(&actor_vars, "actor", obs_dim, action_dim, &config.actor_hidden, rng)?;
        let prior_vars = copy_varmap(&actor_vars)?;
        let prior = GaussianActor::load(&prior_vars, "actor", obs_dim, action_dim, &config.actor_hidden)?;
        let critic_vars = VarMap::new();
        let critic = TwinCritic::init(&critic_vars, "critic", obs_dim, action_dim, &config.critic_hidden, rng)?;
        let target_vars = copy_varmap(&critic_vars)?;
        let target = TwinCritic::load(&target_vars, "critic", obs_dim, action_dim, &config.critic_hidden)?;
        Ok(Agent {
            action_dim,
            actor_opt: adam(&actor_vars, config.actor_lr)?,
            critic_opt: adam(&critic_vars, config.critic_lr)?,
            actor_vars,
            actor,
            prior_vars,
            prior,
            critic_vars,
            critic,
            target_vars,
            target,
        })
    }

    /// The variational policy q_ω.
    #[must_use]
    pub fn actor(&self) -> &GaussianActor {
        &self.actor
    }

    /// The prior policy π_κ (equal to q_ω after every update).
    #[must_use]
    pub fn prior(&self) -> &GaussianActor {
        &self.prior
    }

    /// The critics Q₂.
    #[must_use]
    pub fn critic(&self) -> &TwinCritic {
        &self.critic
    }

    /// The target critics Q₂'.
    #[must_use]
    pub fn target(&self) -> &TwinCritic {
        &self.target
    }

    /// The variables by group, for checkpoints: `actor`, `prior`, `critic`, `target`.
    #[must_use]
    pub fn varmaps(&self) -> [(&'static str, &VarMap); 4] {
        [
            ("actor", &self.actor_vars),
            ("prior", &self.prior_vars),
            ("critic", &self.critic_vars),
            ("target", &self.target_vars),
        ]
    }

    /// An action in (−1, 1)ᴬ drawn from the prior policy π_κ (the behaviour of Algorithm 1).
    ///
    /// # Errors
    /// `obs` of the wrong length.
    pub fn act(&self, obs: &[f32], rng: &mut impl Rng) -> Result<Vec<f32>> {
        let s = Tensor::from_slice(obs, (1, obs.len()), &Device::Cpu)?;
        let noise = standard_normal(rng, &[1, self.action_dim])?;
        self.prior.sample(&s, &noise)?.action.flatten_all()?.to_vec1()
    }

    /// The deterministic action `tanh μ_ω(s)` (evaluation episodes).
    ///
    /// # Errors
    /// `obs` of the wrong length.
    pub fn act_deterministic(&self, obs: &[f32]) -> Result<Vec<f32>> {
        let s = Tensor::from_slice(obs, (1, obs.len()), &Device::Cpu)?;
        self.actor.mode(&s)?.flatten_all()?.to_vec1()
    }

    /// `(min Q₂'(s', a'), log q_ω(a'|s'))` for `a' ∼ q_ω(·|s')`, each (B), no gradient; draws
    /// the noise (B, A) from `rng`.
    fn next_action_value(&self, next_obs: &Tensor, rng: &mut impl Rng) -> Result<(Tensor, Tensor)> {
        let b = next_obs.dim(0)?;
        let sample = self.actor.sample(next_obs, &standard_normal(rng, &[b, self.action_dim])?)?;
        let q = self.target.min(next_obs, &sample.action)?;
        Ok((q.detach(), sample.log_prob.detach()))
    }

    /// The critic target y of a minibatch, shape (B), no gradient (see the [module
    /// docs](self)); draws a' with noise (B, A) from `rng`.
    ///
    /// # Errors
    /// Shapes that do not match.
    pub fn critic_target(
        &self,
        batch: &TransitionBatch,
        objective: Objective,
        gamma: f64,
        rng: &mut impl Rng,
    ) -> Result<Tensor> {
        let (q_next, log_pi_next) = self.next_action_value(&batch.next_obs, rng)?;
        let r = NumericTensor::new(batch.reward.clone());
        let target = match objective {
            Objective::Variational { beta, log_ratio, entropy } => {
                let v_next = next_value(NumericTensor::new(q_next), NumericTensor::new(log_pi_next), entropy)
                    * NumericTensor::new(batch.not_done.clone());
                let ratio = if log_ratio { batch.log_ratio.clone() } else { batch.log_ratio.zeros_like()? };
                critic_target(r, v_next, NumericTensor::new(ratio), beta, gamma)
            }
            Objective::Sac { alpha } => sac_critic_target(
                r,
                NumericTensor::new(batch.not_done.clone()),
                NumericTensor::new(q_next),
                NumericTensor::new(log_pi_next),
                alpha,
                gamma,
            ),
        };
        Ok(target.into_tensor()?.detach())
    }

    /// TD errors `δ = r + γ·d·V₂'(s') − min Q₂(s,a)` of a batch of real transitions, shape
    /// (B): the input of the variational-dynamics weight (Eq. 11). V₂′ is the one of the critic
    /// target ([`next_value`], with the same entropy weight `entropy`). No gradient.
    ///
    /// # Errors
    /// Shapes that do not match.
    pub fn td_errors(&self, batch: &TransitionBatch, entropy: f64, gamma: f64, rng: &mut impl Rng) -> Result<Tensor> {
        let (q_next, log_pi_next) = self.next_action_value(&batch.next_obs, rng)?;
        let q = self.critic.min(&batch.obs, &batch.action)?.detach();
        let v_next = next_value(NumericTensor::new(q_next), NumericTensor::new(log_pi_next), entropy)
            * NumericTensor::new(batch.not_done.clone());
        td_error(NumericTensor::new(batch.reward.clone()), v_next, NumericTensor::new(q), gamma).into_tensor()
    }

    /// One actor-critic update (see the [module docs](self)): critic step, actor step, κ ← ω,
    /// soft target update.
    ///
    /// # Errors
    /// Shapes that do not match, or a candle error.
    pub fn update(
        &mut self,
        batch: &TransitionBatch,
        objective: Objective,
        gamma: f64,
        tau: f64,
        rng: &mut impl Rng,
    ) -> Result<UpdateStats> {
        let y = self.critic_target(batch, objective, gamma, rng)?;
        let (q1, q2) = self.critic.forward(&batch.obs, &batch.action)?;
        let loss_c = (critic_loss(NumericTensor::new(q1), NumericTensor::new(y.clone()))
            + critic_loss(NumericTensor::new(q2), NumericTensor::new(y)))
        .into_tensor()?;
        self.critic_opt.backward_step(&loss_c)?;

        let b = batch.obs.dim(0)?;
        let sample = self.actor.sample(&batch.obs, &standard_normal(rng, &[b, self.action_dim])?)?;
        let loss_a = match objective {
            Objective::Variational { beta, .. } => {
                // Eq. 13 has the target critic Q′_ψ, as the tabular learner.
                let q = self.target.min(&batch.obs, &sample.action)?;
                let log_pi = self.prior.log_prob(&batch.obs, &sample.action)?;
                variational_policy_loss(
                    NumericTensor::new(sample.log_prob),
                    q_nats(NumericTensor::new(q), beta),
                    NumericTensor::new(log_pi),
                )
            }
            Objective::Sac { alpha } => {
                let q = self.critic.min(&batch.obs, &sample.action)?;
                sac_policy_loss(NumericTensor::new(sample.log_prob), NumericTensor::new(q), alpha)
            }
        }
        .into_tensor()?;
        self.actor_opt.backward_step(&loss_a)?;
        hard_copy(&self.actor_vars, &self.prior_vars)?;
        soft_update(&self.critic_vars, &self.target_vars, tau)?;
        Ok(UpdateStats {
            critic_loss: f64::from(loss_c.to_scalar::<f32>()?),
            actor_loss: f64::from(loss_a.to_scalar::<f32>()?),
        })
    }

    /// The terms of the actor loss on the observations `obs` (B, O) at this β (see
    /// [`ActorTerms`]); draws [`ACTOR_TERM_DRAWS`] sets of action noise from `rng`. Takes no
    /// step.
    ///
    /// # Errors
    /// Shapes that do not match, or a candle error.
    pub fn actor_terms(&self, obs: &Tensor, beta: f64, rng: &mut impl Rng) -> Result<ActorTerms> {
        let b = obs.dim(0)?;
        // (value of the prior term, entropy, ∇ prior term, ∇ entropy term, ∇ value term) for one draw.
        let draw = |noise: Tensor| -> Result<(f64, f64, [Vec<f32>; 3])> {
            let sample = self.actor.sample(obs, &noise)?;
            let log_q = sample.log_prob.mean_all()?;
            let log_pi = self.prior.log_prob(obs, &sample.action)?.mean_all()?;
            let value = q_nats(NumericTensor::new(self.target.min(obs, &sample.action)?), beta).mean().into_tensor()?;
            let prior_term = (&log_q - &log_pi)?;
            Ok((
                f64::from(prior_term.to_scalar::<f32>()?),
                -f64::from(log_q.to_scalar::<f32>()?),
                [self.actor_gradient(&prior_term)?, self.actor_gradient(&log_q)?, self.actor_gradient(&value)?],
            ))
        };
        let mut terms = ActorTerms::default();
        let mut signal = [GradientSignal::default(), GradientSignal::default()];
        for _ in 0..ACTOR_TERM_DRAWS {
            let (prior_term, entropy, [prior, entropy_g, value]) = draw(standard_normal(rng, &[b, self.action_dim])?)?;
            let n = ACTOR_TERM_DRAWS as f64;
            terms.prior_term += prior_term / n;
            terms.entropy += entropy / n;
            terms.prior_grad += norm(&prior) / n;
            terms.entropy_grad += norm(&entropy_g) / n;
            terms.value_grad += norm(&value) / n;
            signal[0].add(&prior);
            signal[1].add(&value);
        }
        terms.prior_grad_signal = signal[0].share();
        terms.value_grad_signal = signal[1].share();
        Ok(terms)
    }

    /// `∇_ω loss` over every variable of q_ω, flattened in name order (zeros where the loss
    /// does not depend on a variable).
    fn actor_gradient(&self, loss: &Tensor) -> Result<Vec<f32>> {
        let grads = loss.backward()?;
        let mut out = Vec::new();
        for (_, var) in sorted_vars(&self.actor_vars) {
            match grads.get(var.as_tensor()) {
                Some(g) => out.extend(g.flatten_all()?.to_vec1::<f32>()?),
                None => out.extend(std::iter::repeat_n(0.0, var.elem_count())),
            }
        }
        Ok(out)
    }

    /// Actions of the deterministic actor for a batch of observations (B, O): (B, A).
    ///
    /// # Errors
    /// Shapes that do not match.
    pub fn act_batch_deterministic(&self, obs: &Tensor) -> Result<Tensor> {
        let out = self.actor.mode(obs)?;
        out.reshape((obs.dim(0)?, out.dim(D::Minus1)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: y = 1 + 0.99·(5 − 0.2·(−2)) = 1 + 0.99·5.4 = 6.346; a terminal next state
    /// leaves r = 1 alone; J = 0.5·(−1) − 3 = −3.5.
    #[test]
    fn sac_losses_match_hand_computations() {
        assert!((sac_critic_target(1.0, 1.0, 5.0, -2.0, 0.2, 0.99) - 6.346).abs() < 1e-12);
        assert!((sac_critic_target(1.0, 0.0, 5.0, -2.0, 0.2, 0.99) - 1.0).abs() < 1e-15);
        assert!((sac_policy_loss(-1.0, 3.0, 0.5) + 3.5).abs() < 1e-15);
    }
}
