//! Tabular β-VMBPO (Algorithm 1, App. D), the learner VMBPO and MnM are made of.
//!
//! One episode (the tabular schedule of Algorithm 1: the model, rollouts, critic, policies and
//! β are updated once per episode rather than per environment step):
//!
//! ```text
//! 1. act in the true environment:  a ∼ (1 − explore)·π_κ(·|s) + explore·uniform,  s' ∼ P;
//!    store (s, a, s', r) in D_env (counts)
//! 2. fit the prior dynamics and reward (Eq. 10) and the variational dynamics (Eq. 11) in
//!    closed form from the counts; measure KL(q ‖ p) with the data's state-action shares
//! 3. `rollouts` model rollouts of `rollout_length` steps:  s ∼ D_env (or uniform over the
//!    visited states, `rollout_start`),
//!    a ∼ (1 − rollout_explore)·q_ω(·|s) + rollout_explore·uniform over the actions tried in s,
//!    s' ∼ q(·|s,a), r = r̂(s,a);  store in D_model
//! 4. `critic_updates` times: a minibatch from D_model; per sample
//!    Q₂(s,a) ← Q₂(s,a) + α·(y − Q₂(s,a)),  y = r + γ·(V₂'(s') − β·log(q/p))      (Eq. 12)
//!    with V₂'(s') = Σ_a q_ω(a|s')·Q₂'(s',a);  then at the minibatch's states
//!    q_ω(·|s) ∝ π_κ(·|s)·exp(Q₂'(s,·)/β)  (Eq. 13),  π_κ ← q_ω  (Eq. 14, κ ← ω),
//!    Q₂' ← τ·Q₂ + (1 − τ)·Q₂'
//! 5. β-VMBPO only:  β ← clamp(β − η·(ε − KL), β_min, β_max)   (Eq. 9; or in log β)
//! ```
//!
//! # Exploration (the trap, and the way round it)
//!
//! Read literally, rollout actions come from q_ω and q_ω is copied into π_κ: after a few
//! updates the tabular policy is greedy, the actions it stops choosing are never rolled out
//! again, and their Q values freeze at early guesses. Here
//! * rollouts mix q_ω with a uniformly random *tried* action (`rollout_explore`): every pair
//!   the data know keeps being updated, while the target still uses q_ω (off-policy);
//! * the environment behaviour mixes π_κ with a uniform action (`explore`), so untried pairs
//!   are eventually tried (an optimistic `q_init` also pulls q_ω towards them);
//! * q_ω's log-odds are floored at `policy_log_odds` nats below the best action, so the
//!   repeated product π·exp(Q/β) (a mirror-descent step per update) cannot bury an action
//!   whose value later rises.
//!
//! (A large model buffer hides the trap for a while: old rollouts of an abandoned action are
//! replayed until they are overwritten. `tests/learn_tabular.rs` plants the trap with a small
//! buffer and no rollout exploration, and shows the critic stuck far from Q*.)
//!
//! With β fixed, the critic then converges to β·Q* of the *empirical* model (the engine's
//! [`value_iteration`](crate::value_iteration()) on [`EmpiricalModel::to_mdp`]), as long as the
//! TD clamp does not bind at the fixed point (it biases q towards p when it does).

use ndarray::Array2;

use crate::ring::{Ring, Slot};
use rand::{Rng, RngExt};

use super::config::{LearnConfig, RolloutStart};
use super::model::{EmpiricalModel, sample_next, sample_start};
use crate::error::Result;
use crate::losses::{critic_target, next_value, q_nats, soft_target};
use crate::mdp::TabularMdp;

/// Which reward the learner sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewardTransform {
    /// The environment's reward.
    Identity,
    /// MnM's `(1 − γ)·log r` (Eysenbach et al. 2022); needs r > 0.
    MnmLog,
}

/// How β evolves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Variant {
    /// Initial β.
    pub beta0: f64,
    /// Whether β follows dual descent (Eq. 9).
    pub adapt_beta: bool,
    /// The reward the learner sees.
    pub reward: RewardTransform,
}

/// One stored model transition.
#[derive(Debug, Clone, Copy)]
struct Sample {
    s: usize,
    a: usize,
    next: usize,
    r: f64,
}

/// The tabular variational learner: β-VMBPO, VMBPO (β = 1) or MnM (β = 1, log reward).
#[derive(Debug, Clone)]
pub struct VariationalLearner<'m> {
    mdp: &'m TabularMdp,
    config: LearnConfig,
    variant: Variant,
    beta: f64,
    /// The rewards the learner sees (transformed for MnM).
    rewards: Array2<f64>,
    model: EmpiricalModel,
    buffer: Vec<Sample>,
    /// Where the next sample of `buffer` goes.
    ring: Ring,
    /// Critic Q₂ (reward units) and its target Q₂'.
    q: Array2<f64>,
    target: Array2<f64>,
    /// log q_ω = log π_κ (equal after every hard update κ ← ω), and its exponential.
    log_policy: Array2<f64>,
    policy: Array2<f64>,
    env_steps: u64,
}

impl<'m> VariationalLearner<'m> {
    /// A learner with uniform policies, Q = `q_init` everywhere and empty buffers.
    ///
    /// # Errors
    /// [`Error::Unsupported`](crate::Error::Unsupported) for a model with a horizon; those of
    /// [`LearnConfig::validate`]; for [`RewardTransform::MnmLog`] see
    /// [`mnm`](super::mnm::learner).
    pub fn new(mdp: &'m TabularMdp, config: &LearnConfig, variant: Variant) -> Result<Self> {
        super::check_model(mdp)?;
        config.validate()?;
        crate::risk::Beta::new(variant.beta0)?;
        let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
        let rewards = match variant.reward {
            RewardTransform::Identity => mdp.rewards().clone(),
            RewardTransform::MnmLog => super::reward::mnm_log_rewards(mdp)?,
        };
        let q = Array2::from_elem((s_count, a_count), config.q_init);
        Ok(VariationalLearner {
            mdp,
            config: config.clone(),
            variant,
            beta: variant.beta0,
            rewards,
            model: EmpiricalModel::new(s_count, a_count),
            buffer: Vec::new(),
            ring: Ring::new(config.model_buffer),
            target: q.clone(),
            q,
            log_policy: Array2::from_elem((s_count, a_count), -(a_count as f64).ln()),
            policy: Array2::from_elem((s_count, a_count), 1.0 / a_count as f64),
            env_steps: 0,
        })
    }

    /// The critic Q₂ in reward units (the engine's scaled Q is `Q₂/β`).
    pub fn q(&self) -> &Array2<f64> {
        &self.q
    }
    /// The current β.
    pub fn beta(&self) -> f64 {
        self.beta
    }
    /// The KL(q ‖ p) measured at the last model fit.
    pub fn kl(&self) -> f64 {
        self.model.kl()
    }
    /// The environment buffer and its fitted models.
    pub fn model(&self) -> &EmpiricalModel {
        &self.model
    }
    /// The variational policy q_ω (= the prior π_κ after each hard update), S×A.
    pub fn policy(&self) -> &Array2<f64> {
        &self.policy
    }
    /// Environment steps taken so far.
    pub fn env_steps(&self) -> u64 {
        self.env_steps
    }

    /// V₂'(s) = Σ_a q_ω(a|s)·Q₂'(s,a) ([`next_value`] averaged over a exactly, no entropy
    /// bonus, as the paper), 0 at terminal states.
    fn value(&self, s: usize) -> f64 {
        if self.mdp.is_terminal(s) {
            return 0.0;
        }
        (0..self.mdp.n_actions())
            .map(|a| self.policy[[s, a]] * next_value(self.target[[s, a]], self.log_policy[[s, a]], 0.0))
            .fold(0.0, |sum, x| sum + x)
    }

    /// One episode of Algorithm 1 (see the module docs).
    pub fn episode(&mut self, rng: &mut impl Rng) {
        let mdp = self.mdp;
        let mut s = sample_start(mdp, rng);
        for _ in 0..self.config.max_steps {
            if mdp.is_terminal(s) {
                break;
            }
            let a = self.behaviour(s, rng);
            let next = sample_next(mdp, s, a, rng);
            self.model.record(s, a, next, self.rewards[[s, a]]);
            self.env_steps += 1;
            s = next;
        }
        self.plan(rng);
    }

    /// Steps 2–5 of an episode without acting (a planning sweep on the data so far): refit
    /// the models, roll out, update critic and policies, and take the dual step.
    pub fn plan(&mut self, rng: &mut impl Rng) {
        self.fit_models();
        for _ in 0..self.config.rollouts {
            self.rollout(rng);
        }
        for _ in 0..self.config.critic_updates {
            self.critic_step(rng);
        }
        if self.variant.adapt_beta && self.config.dual.beta_lr > 0.0 {
            self.beta = self.config.dual.step(self.beta, self.model.kl());
        }
    }

    /// Refit the variational dynamics at the current critic, policy and β (Eq. 11).
    pub fn fit_models(&mut self) {
        let values: Vec<f64> = (0..self.mdp.n_states()).map(|j| self.value(j)).collect();
        let q = &self.q;
        self.model.fit_variational(
            |j| values[j],
            |s, a| q[[s, a]],
            self.beta,
            self.mdp.gamma(),
            self.config.dual.td_clamp,
        );
    }

    /// a ∼ (1 − explore)·π_κ(·|s) + explore·uniform.
    fn behaviour(&self, s: usize, rng: &mut impl Rng) -> usize {
        let a_count = self.mdp.n_actions();
        if rng.random::<f64>() < self.config.explore {
            return rng.random_range(0..a_count);
        }
        super::model::sample_from(self.policy.row(s).iter().copied().enumerate(), rng)
    }

    /// a ∼ (1 − rollout_explore)·q_ω(·|s) + rollout_explore·uniform, over the tried actions.
    fn rollout_action(&self, s: usize, rng: &mut impl Rng) -> Option<usize> {
        let tried: Vec<usize> = (0..self.mdp.n_actions()).filter(|&a| self.model.tried(s, a)).collect();
        if tried.is_empty() {
            return None;
        }
        let e = self.config.rollout_explore;
        let weights: Vec<f64> =
            tried.iter().map(|&a| (1.0 - e) * self.policy[[s, a]] + e / tried.len() as f64).collect();
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            // q_ω puts all its mass on untried actions and there is no uniform part.
            return Some(tried[rng.random_range(0..tried.len())]);
        }
        let k = super::model::sample_from(weights.iter().map(|w| w / total).enumerate(), rng);
        Some(tried[k])
    }

    fn rollout(&mut self, rng: &mut impl Rng) {
        let start = match self.config.rollout_start {
            RolloutStart::Buffer => self.model.sample_state(rng),
            RolloutStart::Visited => self.model.sample_visited_state(rng),
        };
        let Some(mut s) = start else { return };
        for _ in 0..self.config.rollout_length {
            if self.mdp.is_terminal(s) {
                return;
            }
            let Some(a) = self.rollout_action(s, rng) else { return };
            let Some((next, _)) = self.model.sample_variational(s, a, rng) else { return };
            self.push(Sample { s, a, next, r: self.model.reward(s, a) });
            s = next;
        }
    }

    fn push(&mut self, sample: Sample) {
        match self.ring.push() {
            Slot::Append => self.buffer.push(sample),
            Slot::Overwrite(i) => self.buffer[i] = sample,
        }
    }

    /// One critic minibatch (Eq. 12), the policy updates at its states (Eqs. 13–14) and the
    /// target update.
    fn critic_step(&mut self, rng: &mut impl Rng) {
        if self.buffer.is_empty() {
            return;
        }
        let (beta, gamma, lr) = (self.beta, self.mdp.gamma(), self.config.critic_lr);
        let mut states: Vec<usize> = Vec::with_capacity(self.config.batch_size);
        for _ in 0..self.config.batch_size {
            let x = self.buffer[rng.random_range(0..self.buffer.len())];
            let Some(log_ratio) = self.model.log_ratio(x.s, x.a, x.next) else { continue };
            let y = critic_target(x.r, self.value(x.next), log_ratio, beta, gamma);
            self.q[[x.s, x.a]] += lr * (y - self.q[[x.s, x.a]]);
            if !states.contains(&x.s) {
                states.push(x.s);
            }
        }
        for &s in &states {
            self.update_policy(s);
        }
        let tau = self.config.target_tau;
        self.target.zip_mut_with(&self.q, |t, &q| *t = soft_target(*t, q, tau));
    }

    /// q_ω(·|s) ∝ π_κ(·|s)·exp(Q₂'(s,·)/β) (Eq. 13), log-odds floored, then π_κ ← q_ω (Eq. 14).
    fn update_policy(&mut self, s: usize) {
        let a_count = self.mdp.n_actions();
        let mut logits: Vec<f64> =
            (0..a_count).map(|a| self.log_policy[[s, a]] + q_nats(self.target[[s, a]], self.beta)).collect();
        let top = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for l in &mut logits {
            *l = (*l - top).max(-self.config.policy_log_odds);
        }
        let log_z = logits.iter().map(|l| l.exp()).sum::<f64>().ln();
        for (a, l) in logits.iter().enumerate() {
            self.log_policy[[s, a]] = l - log_z;
            self.policy[[s, a]] = (l - log_z).exp();
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::envs::risky_arm::{self, S};
    use crate::losses::DualConfig;
    use crate::operators::posterior_policy;
    use crate::{Beta, SolveOptions, value_iteration};

    /// A β-VMBPO learner on the risky arm after `episodes` episodes at β fixed to `beta`.
    fn trained(mdp: &TabularMdp, beta: f64, episodes: usize) -> VariationalLearner<'_> {
        let config = LearnConfig {
            dual: DualConfig { beta0: beta, beta_lr: 0.0, ..DualConfig::default() },
            ..LearnConfig::default()
        };
        let variant = Variant { beta0: beta, adapt_beta: false, reward: RewardTransform::Identity };
        let mut learner = VariationalLearner::new(mdp, &config, variant).expect("valid");
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..episodes {
            learner.episode(&mut rng);
        }
        learner
    }

    /// Eq. 11's closed form (exponentially weighted counts) is the argmin of the generic loss
    /// [`variational_dynamics_loss`](crate::losses::variational_dynamics_loss) on the learner's
    /// own data: its transitions, its critic and values, its β. On the simplex the weighted NLL
    /// J(q) = −(1/n)·Σ_i w_i·log q(s′_i) has gradient −W_j/q_j (W_j the weight mass on s′ = j),
    /// so at the minimiser W_j/q_j is the same for every j; and J is larger at every other
    /// distribution on the support (checked against mixtures with random ones).
    #[test]
    fn eq_11_weighted_counts_minimise_the_generic_loss_on_the_learners_data() {
        use crate::losses::{dynamics_log_weight, td_error, variational_dynamics_loss};
        use rand::RngExt;
        let mdp = risky_arm::risky_arm();
        for beta in [0.5, 5.0] {
            let mut learner = trained(&mdp, beta, 400);
            learner.fit_models();
            let (s, a) = (S, risky_arm::RIGHT);
            let support = learner.model().variational(s, a);
            assert_eq!(support.len(), 2, "both outcomes of the gamble were seen");
            let prior = learner.model().prior(s, a);
            let n = learner.model().pair_count(s, a) as f64;
            // Per next state: the count and the log weight of each of its samples (Eq. 11).
            let (r, q_sa, gamma) = (learner.model().reward(s, a), learner.q[[s, a]], mdp.gamma());
            let data: Vec<(usize, f64, f64)> = prior
                .iter()
                .map(|&(j, p)| {
                    let td = td_error(r, learner.value(j), q_sa, gamma);
                    (j, p * n, dynamics_log_weight(td, beta, gamma, learner.config.dual.td_clamp))
                })
                .collect();
            let loss = |q: &dyn Fn(usize) -> f64| -> f64 {
                data.iter().map(|&(j, count, log_w)| count * variational_dynamics_loss(log_w, q(j).ln())).sum::<f64>()
                    / n
            };
            let closed = |j: usize| support.iter().find(|x| x.0 == j).map_or(0.0, |x| x.1);
            let ratios: Vec<f64> = data.iter().map(|&(j, count, log_w)| count * log_w.exp() / closed(j)).collect();
            assert!((ratios[0] / ratios[1] - 1.0).abs() < 1e-12, "β = {beta}: W_j/q_j = {ratios:?}");
            let best = loss(&closed);
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            for _ in 0..200 {
                let (t, u) = (rng.random_range(1e-3..1.0), rng.random_range(0.0..1.0));
                let other = |j: usize| (1.0 - t) * closed(j) + t * if j == data[0].0 { u } else { 1.0 - u };
                assert!(loss(&other) >= best - 1e-15, "β = {beta}: J = {} < {best} at t = {t}, u = {u}", loss(&other));
            }
        }
    }

    /// Eq. 13's closed form, q_ω ∝ π_κ·exp(Q₂′/β), is the argmin of the generic loss
    /// [`variational_policy_loss`](crate::losses::variational_policy_loss) on the learner's own
    /// critic and prior policy: its expectation under q, Σ_a q(a)·(log q(a) − Q₂′(s,a)/β −
    /// log π_κ(a)), equals −log Σ_a π_κ(a)·exp(Q₂′(s,a)/β) at the closed form (the minimum of a
    /// KL plus a constant) and is larger at every other policy tried.
    #[test]
    fn eq_13_posterior_policy_minimises_the_generic_loss_on_the_learners_critic() {
        use crate::losses::{q_nats, variational_policy_loss};
        use rand::RngExt;
        let mdp = risky_arm::risky_arm();
        for beta in [0.5, 5.0] {
            let mut learner = trained(&mdp, beta, 50);
            // The closed form without the log-odds floor (a documented safeguard, not Eq. 13).
            learner.config.policy_log_odds = 1e3;
            let s = S;
            let prior: Vec<f64> = learner.log_policy.row(s).to_vec();
            let q_prime: Vec<f64> = learner.target.row(s).to_vec();
            learner.update_policy(s);
            let closed: Vec<f64> = learner.policy.row(s).to_vec();
            let expected_loss = |q: &[f64]| -> f64 {
                (0..q.len())
                    .filter(|&a| q[a] > 0.0)
                    .map(|a| q[a] * variational_policy_loss(q[a].ln(), q_nats(q_prime[a], beta), prior[a]))
                    .sum()
            };
            let minimum = -(0..2).map(|a| (prior[a] + q_nats(q_prime[a], beta)).exp()).sum::<f64>().ln();
            let at_closed = expected_loss(&closed);
            assert!(
                (at_closed - minimum).abs() < 1e-12 * minimum.abs().max(1.0),
                "β = {beta}: {at_closed} vs {minimum}"
            );
            let mut rng = ChaCha8Rng::seed_from_u64(13);
            for _ in 0..200 {
                let u = rng.random_range(1e-6..1.0 - 1e-6);
                assert!(
                    expected_loss(&[u, 1.0 - u]) >= at_closed - 1e-12,
                    "β = {beta}: a better policy at q(left) = {u}"
                );
            }
        }
    }

    /// Eq. 13 by what it converges to: with β fixed at 5, learn on the risky arm until the
    /// target critic Q₂' settles at β·Q* of the learner's own empirical model (the engine's value
    /// iteration on [`EmpiricalModel::to_mdp`]); then one policy step from a given π_κ at S must
    /// give the posterior policy of that exact Q*, q(a|S) ∝ π_κ(a|S)·exp Q*(S,a) (the engine's
    /// [`posterior_policy`]), to the critic's accuracy. Swapping `/β` for `·β` in the step
    /// tilts by β²·Q* instead (q(left|S) ≈ 1.0 instead of ≈ 0.36 here), and fails.
    #[test]
    fn the_policy_step_converges_to_the_posterior_policy_of_the_exact_q() {
        let mdp = risky_arm::risky_arm();
        let beta = 5.0;
        let config = LearnConfig {
            dual: DualConfig { beta0: beta, beta_lr: 0.0, ..DualConfig::default() },
            ..LearnConfig::default()
        };
        let variant = Variant { beta0: beta, adapt_beta: false, reward: RewardTransform::Identity };
        let mut learner = VariationalLearner::new(&mdp, &config, variant).expect("valid");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..300 {
            learner.episode(&mut rng);
        }
        for _ in 0..300 {
            learner.plan(&mut rng);
        }
        let empirical = learner.model().to_mdp(&mdp).expect("every pair tried");
        let exact =
            value_iteration(&empirical, Beta::new(beta).expect("β > 0"), SolveOptions::default()).expect("solves");
        let critic_error =
            (0..mdp.n_actions()).map(|a| (learner.target[[S, a]] / beta - exact.q[[S, a]]).abs()).fold(0.0, f64::max);
        assert!(critic_error < 1e-3, "the target critic has settled: {critic_error}");

        let prior = [0.3f64, 0.7];
        for (a, &p) in prior.iter().enumerate() {
            learner.log_policy[[S, a]] = p.ln();
        }
        learner.update_policy(S);
        let mut pi = Array2::from_elem((mdp.n_states(), mdp.n_actions()), 0.5);
        pi.row_mut(S).assign(&ndarray::arr1(&prior));
        let expected = posterior_policy(&empirical, pi.view(), exact.q.view());
        for a in 0..mdp.n_actions() {
            let got = learner.policy[[S, a]];
            // |Δq| ≤ |Δ(Q/β)| for a two-action softmax (its derivative is at most 1/4 per logit).
            assert!(
                (got - expected[[S, a]]).abs() < critic_error + 1e-12,
                "q({a}|S) = {got}, exact {}",
                expected[[S, a]]
            );
        }
        assert!((expected[[S, 0]] - 0.36).abs() < 0.05, "the tilt is moderate: {}", expected[[S, 0]]);
    }
}
