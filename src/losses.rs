//! The losses of β-VMBPO (Eqs. 9–14), written once, generic over a small numeric trait.
//!
//! The tabular learners of [`crate::learn`] call these with `f64` (one sample at a time, `mean`
//! the identity); a tensor type implements [`Numeric`] for the continuous module, so both use
//! the same definitions.
//!
//! # Units and where γ goes
//!
//! The critic is learnt in reward units (App. C.3): `Q₂ = β·Q`, `V₂ = β·V`, with `Q`, `V` the
//! engine's scaled values (nats). The engine's convention is kept: **γ multiplies the log, never
//! sits in the tilt** —
//!
//! ```text
//! Q(s,a) = r(s,a)/β + γ·log E_{p(s'|s,a)}[exp V(s')]                     (Eq. 15)
//!        = r(s,a)/β + γ·max_q ( E_q[V(s')] − KL(q ‖ p) ),   argmax  q ∝ p·exp V   (Eq. 4)
//! ```
//!
//! so the sample of the next value and the KL term are discounted together (Eq. 12 below), and
//! the variational-dynamics weight divides the TD error by γ·β so that it tilts by `exp V(s')`
//! exactly (Eq. 11 below). With γ = 1 every formula is the paper's as printed.
//!
//! # Legend
//!
//! `r` reward, `V₂(s')` next value (target critic, reward units), `Q₂(s,a)` critic,
//! `q`, `p` variational and prior dynamics, `q_ω`, `π_κ` variational and prior policy,
//! `β` risk parameter, `γ` discount, `ε` KL bound, `KL` measured KL(q ‖ p), `c` TD clamp (4).

use std::ops::{Add, Mul, Neg, Sub};

/// The operations the losses use, and nothing more: exp, ln, clamp, square, mean, arithmetic
/// (with constants through [`Numeric::scale`] and [`Numeric::offset`]).
///
/// For `f64`, [`Numeric::mean`] is the identity (a batch of one sample). A batched type (a
/// tensor) applies every operation elementwise and reduces in [`Numeric::mean`]. Scalar
/// constants (β, γ, ε, clamp bounds) are plain `f64`.
pub trait Numeric:
    Sized + Clone + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Neg<Output = Self>
{
    /// Elementwise `eˣ`.
    fn exp(&self) -> Self;
    /// Elementwise natural logarithm.
    fn ln(&self) -> Self;
    /// Elementwise clamp to `[lo, hi]` (`lo ≤ hi`).
    fn clamp(&self, lo: f64, hi: f64) -> Self;
    /// Elementwise `x²`.
    fn square(&self) -> Self;
    /// Mean over the batch.
    fn mean(&self) -> Self;
    /// Multiplication by a constant.
    fn scale(&self, k: f64) -> Self;
    /// Addition of a constant.
    fn offset(&self, k: f64) -> Self;
}

impl Numeric for f64 {
    fn exp(&self) -> Self {
        f64::exp(*self)
    }
    fn ln(&self) -> Self {
        f64::ln(*self)
    }
    fn clamp(&self, lo: f64, hi: f64) -> Self {
        f64::clamp(*self, lo, hi)
    }
    fn square(&self) -> Self {
        self * self
    }
    fn mean(&self) -> Self {
        *self
    }
    fn scale(&self, k: f64) -> Self {
        self * k
    }
    fn offset(&self, k: f64) -> Self {
        self + k
    }
}

/// Default bound of the clamped TD error in the variational-dynamics weight (App. C.1).
pub const TD_CLAMP: f64 = 4.0;

/// The next value V₂′(s′) of Eqs. (11) and (12), for one next action a′ ∼ q_ω(·|s′): the target
/// critic, less an optional entropy bonus.
///
/// # Formula
///
/// ```text
/// V₂′(s′) = E_{a′ ∼ q_ω(·|s′)}[ Q₂′(s′, a′) − α_c·log q_ω(a′|s′) ]        (Sec. 3.3; α_c = 0 in the paper)
/// ```
///
/// The paper writes V′(s′) = E_{a′∼q_ω}[Q′(s′,a′)] ("which we approximate by sampling from
/// the posterior policy"): α_c = 0. `α_c > 0` (the continuous learner's `critic_entropy`) adds
/// SAC's entropy bonus, as an option. This one value enters both the TD error of Eq. (11)
/// ([`td_error`]) and the target of Eq. (12) ([`critic_target`]). The continuous learner takes
/// one sample a′ per transition (and the min of the twin target critics, as SAC); the tabular
/// learner averages it over a′ exactly, Σ_a′ q_ω(a′|s′)·next_value(Q₂′(s′,a′), log q_ω(a′|s′), 0).
/// 0 at a terminal s′ (the caller multiplies by 1 − done).
pub fn next_value<T: Numeric>(q_next: T, log_pi_next: T, entropy: f64) -> T {
    q_next - log_pi_next.scale(entropy)
}

/// The TD error δ in the exponent of Eq. (11), in reward units.
///
/// # Formula
///
/// ```text
/// δ = r + γ·V₂′(s′) − Q₂(s,a)                 (Eq. 11; γ = 1 in the paper's print)
/// ```
///
/// `v_next` from [`next_value`] (0 at a terminal s′), `q` the online critic Q₂(s,a) (Eq. 11
/// has Q_ψ, not Q′_ψ). [`dynamics_log_weight`] turns it into the weight of Eq. (11).
pub fn td_error<T: Numeric>(r: T, v_next: T, q: T, gamma: f64) -> T {
    r + v_next.scale(gamma) - q
}

/// The critic in nats: Q₂/β, the engine's scaled value Q (App. C.3: Q₂ = β·Q).
///
/// # Formula
///
/// ```text
/// Q(s,a) = Q₂(s,a) / β
/// ```
pub fn q_nats<T: Numeric>(q: T, beta: f64) -> T {
    q.scale(1.0 / beta)
}

/// The soft (Polyak) update of a target critic, applied to every parameter (or table entry).
///
/// # Formula
///
/// ```text
/// ψ′ ← τ·ψ + (1 − τ)·ψ′                       (Algorithm 1; τ = 0.005, Table 1)
/// ```
pub fn soft_target<T: Numeric>(target: T, online: T, tau: f64) -> T {
    online.scale(tau) + target.scale(1.0 - tau)
}

/// SAC's critic target (the MBPO baseline), in reward units: the soft Bellman backup with
/// temperature α (Haarnoja et al. 2018, "Soft Actor-Critic", Eqs. 2–3, with the clipped double
/// Q of its App. E / Fujimoto et al.), whose next value is [`next_value`] with α_c = α.
///
/// # Formula
///
/// ```text
/// y = r + γ·(1 − d)·( min Q′(s′, a′) − α·log π(a′|s′) ),   a′ ∼ π(·|s′)
/// ```
pub fn sac_critic_target<T: Numeric>(r: T, not_done: T, q_next: T, log_pi_next: T, alpha: f64, gamma: f64) -> T {
    r + (not_done * next_value(q_next, log_pi_next, alpha)).scale(gamma)
}

/// SAC's policy loss (the MBPO baseline), per action a ∼ π(·|s) (reparameterised; Haarnoja
/// et al. 2018, Eq. 7).
///
/// # Formula
///
/// ```text
/// J(π) = E_s E_{a∼π}[ α·log π(a|s) − min Q(s,a) ]
/// ```
pub fn sac_policy_loss<T: Numeric>(log_pi: T, q: T, alpha: f64) -> T {
    (log_pi.scale(alpha) - q).mean()
}

/// Prior-dynamics loss, Eq. (10): the negative log-likelihood of observed transitions.
///
/// # Formula
///
/// ```text
/// J(θ) = −E_{(s,a,s',r) ∼ D_env}[ log p_θ(s', r | s, a) ]                  (Eq. 10)
/// ```
///
/// `log_p` holds `log p_θ(s', r|s,a)` of each sample. Tabular minimiser: the empirical
/// frequencies `p(s'|s,a) = n(s,a,s')/n(s,a)` (and the mean reward for a Gaussian reward model).
pub fn prior_dynamics_nll<T: Numeric>(log_p: T) -> T {
    (-log_p).mean()
}

/// Log of the weight of a transition in the variational-dynamics loss, Eq. (11): the TD error
/// over γ·β, clamped to `[−c, c]` (App. C.1).
///
/// # Formula
///
/// ```text
/// δ = r + γ·V₂(s') − Q₂(s,a)            (reward units)
/// log w = clamp( δ / (γ·β), −c, c )     (γ = 1: the paper's (r + V'(s') − Q(s,a))/β)
/// ```
///
/// Dividing by γ·β makes `w ∝ exp(V₂(s')/β) = exp V(s')` for a fixed `(s,a)`: the tilt of the
/// posterior dynamics (Eq. 4) without γ in it. At the fixed point `E_p[exp(δ/(γβ))] = 1`, so
/// the weights are centred near 1 and the clamp only cuts outliers.
pub fn dynamics_log_weight<T: Numeric>(td: T, beta: f64, gamma: f64, clamp: f64) -> T {
    td.scale(1.0 / (gamma * beta)).clamp(-clamp, clamp)
}

/// Variational-dynamics loss, Eq. (11): the exponentially weighted NLL of the variational model.
///
/// # Formula
///
/// ```text
/// J(φ) = −E_{(s,a,s',r) ∼ D_env}[ exp(log w) · log q_φ(s'|s,a) ]          (Eq. 11)
/// ```
///
/// `log_w` from [`dynamics_log_weight`], `log_q` = `log q_φ(s'|s,a)` of each sample. Tabular
/// minimiser: exponentially weighted counts, `q(s'|s,a) ∝ Σ_{samples (s,a,s')} w`.
pub fn variational_dynamics_loss<T: Numeric>(log_w: T, log_q: T) -> T {
    (-(log_w.exp() * log_q)).mean()
}

/// Critic target of Eq. (12) in the scaled form of App. C.3 (reward units): the augmented
/// reward `r − β·log(q/p)` with the next value, discounted as the engine discounts.
///
/// # Formula
///
/// ```text
/// y = r + γ·( V₂(s') − β·log( q(s'|s,a) / p(s'|s,a) ) )                   (Eq. 12, App. C.3)
/// ```
///
/// `log_ratio` = `log q(s'|s,a) − log p(s'|s,a)`; `v_next` = 0 at a terminal `s'`. With γ = 1
/// this is the paper's `r + V'(s') − β·log(q/p)`. With `s' ∼ q` and `q` the posterior,
/// `V₂(s') − β·log(q/p) = β·log E_p[exp(V₂/β)]` for every `s'`: the target has no variance.
pub fn critic_target<T: Numeric>(r: T, v_next: T, log_ratio: T, beta: f64, gamma: f64) -> T {
    r + (v_next - log_ratio.scale(beta)).scale(gamma)
}

/// Critic loss, Eq. (12): the mean squared TD error against [`critic_target`].
///
/// # Formula
///
/// ```text
/// J(ψ) = E_{D_model}[ ( Q₂(s,a) − y )² ]                                  (Eq. 12)
/// ∂J/∂Q₂(s,a) = 2·(Q₂(s,a) − y)   per sample (a tabular step: Q₂ ← Q₂ + α·(y − Q₂))
/// ```
pub fn critic_loss<T: Numeric>(q: T, target: T) -> T {
    (q - target).square().mean()
}

/// Variational-policy loss, Eq. (13), per sampled action `a ∼ q_ω(·|s)`.
///
/// # Formula
///
/// ```text
/// J(ω) = E_{s ∼ D_model} E_{a ∼ q_ω}[ log q_ω(a|s) − Q(s,a) − log π_κ(a|s) ]   (Eq. 13)
/// ```
///
/// `q_nats` = [`q_nats`]`(Q₂′(s,a), β)`: the paper's Eq. (13) uses the **target** critic Q′_ψ,
/// and so do both learners (the continuous one the min of its twin targets). Minimiser (the
/// posterior policy): `q_ω(a|s) ∝ π_κ(a|s)·exp(Q₂′(s,a)/β)`, where the loss equals
/// `−log Σ_a π_κ·exp(Q₂′/β)`.
pub fn variational_policy_loss<T: Numeric>(log_q: T, q_nats: T, log_pi: T) -> T {
    (log_q - q_nats - log_pi).mean()
}

/// Prior-policy loss, Eq. (14): the NLL of the variational policy's actions under the prior.
///
/// # Formula
///
/// ```text
/// J(κ) = −E_{(s,a) ∼ D_model}[ log π_κ(a|s) ]                             (Eq. 14)
/// ```
///
/// Minimised over all policies by `π_κ = q_ω` (KL(q_ω ‖ π_κ) = 0): the hard update κ ← ω.
pub fn prior_policy_loss<T: Numeric>(log_pi: T) -> T {
    (-log_pi).mean()
}

/// Dual loss, Eq. (9).
///
/// # Formula
///
/// ```text
/// J(β) = β·ε − β·KL( q(s'|s,a) ‖ p(s'|s,a) )                               (Eq. 9)
/// ∂J/∂β = ε − KL
/// ```
pub fn dual_loss<T: Numeric>(beta: T, kl: T, epsilon: f64) -> T {
    (beta.scale(epsilon) - beta * kl).mean()
}

/// KL divergence between two Gaussians, per coordinate, in nats: the KL of Eq. (9) between a
/// member of the variational dynamics and one of the prior (diagonal covariances: the caller
/// sums over the coordinates of s′).
///
/// # Formula
///
/// ```text
/// KL( N(μ_q, σ_q²) ‖ N(μ_p, σ_p²) ) = ½·( log σ_p² − log σ_q² + (σ_q² + (μ_q − μ_p)²)/σ_p² − 1 )
/// ```
///
/// Arguments are the means and the **log-variances** (what the ensembles predict), so no
/// division is needed: `(σ_q² + (μ_q − μ_p)²)/σ_p² = exp(lv_q − lv_p) + (μ_q − μ_p)²·exp(−lv_p)`.
/// Zero when the two are equal; at least 0 otherwise (up to rounding).
pub fn gaussian_kl<T: Numeric>(mean_q: T, log_var_q: T, mean_p: T, log_var_p: T) -> T {
    let variance_ratio = (log_var_q.clone() - log_var_p.clone()).exp();
    let shift = (mean_q - mean_p).square() * (-log_var_p.clone()).exp();
    (log_var_p - log_var_q + variance_ratio + shift).offset(-1.0).scale(0.5)
}

/// How [`dual_step`] moves β.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BetaUpdate {
    /// Gradient descent on J(β) in β, as in the paper.
    Linear,
    /// The same gradient sign applied to log β (a multiplicative step): from β0 = 1000 the
    /// linear step moves only η·ε per update, the log step a fraction η·ε of β.
    Log,
}

/// The settings of β shared by the tabular ([`LearnConfig`](crate::learn::LearnConfig)) and
/// the continuous (`TrainConfig`) learners: where β starts, the dual that moves it (Eq. 9 by
/// [`dual_step`]), its clamps (App. C.4), and the clamp c of the β-scaled TD error in the
/// dynamics weight (Eq. 11, [`dynamics_log_weight`]).
///
/// Both configs flatten it: a config file names these keys at its top level (`"epsilon": 10`),
/// as before. Its defaults are App. C.2's (β₀ = 100, ε = 0.1, c = 4, β ≤ 1e7) with the linear
/// step of the paper and η = 1, the tabular learner's; `TrainConfig` sets its own η = 0.01.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
#[must_use]
pub struct DualConfig {
    /// Initial β (App. C.2: 100). VMBPO, MnM and Q-learning use β = 1 and ignore it.
    pub beta0: f64,
    /// KL bound ε of the dual (App. C.2: 0.1; App. C.4: 10 for simple environments).
    pub epsilon: f64,
    /// Step size η of the dual; 0 keeps β fixed at `beta0`.
    pub beta_lr: f64,
    /// Dual step in β (the paper) or in log β.
    pub beta_update: BetaUpdate,
    /// Lower clamp of β (default 1e-3).
    pub beta_min: f64,
    /// Upper clamp of β (App. C.4: 1e7).
    pub beta_max: f64,
    /// Clamp c of the TD error in the variational-dynamics weight (App. C.1: 4).
    pub td_clamp: f64,
}

impl Default for DualConfig {
    fn default() -> Self {
        DualConfig {
            beta0: 100.0,
            epsilon: 0.1,
            beta_lr: 1.0,
            beta_update: BetaUpdate::Linear,
            beta_min: 1e-3,
            beta_max: crate::dual::BETA_MAX,
            td_clamp: TD_CLAMP,
        }
    }
}

impl DualConfig {
    /// One step of the dual from `beta` given the measured `kl`: [`dual_step`] with these
    /// settings.
    #[must_use]
    pub fn step(&self, beta: f64, kl: f64) -> f64 {
        dual_step(beta, kl, self.epsilon, self.beta_lr, self.beta_update, (self.beta_min, self.beta_max))
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) naming the first bad field:
    /// `beta0`, `epsilon`, `beta_min`, `beta_max`, `td_clamp` not positive and finite,
    /// `beta_lr` negative or not finite, `beta0` outside `[beta_min, beta_max]`.
    ///
    /// # Examples
    /// ```
    /// use riskmdp::losses::DualConfig;
    /// assert!(DualConfig::default().validate().is_ok());
    /// let bad = DualConfig { beta0: 1e8, ..DualConfig::default() };
    /// assert!(bad.validate().unwrap_err().to_string().contains("beta0"));
    /// ```
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |name: &str, message: String| Err(crate::Error::InvalidParameter { name: name.into(), message });
        for (name, x) in [
            ("beta0", self.beta0),
            ("epsilon", self.epsilon),
            ("beta_min", self.beta_min),
            ("beta_max", self.beta_max),
            ("td_clamp", self.td_clamp),
        ] {
            if !(x.is_finite() && x > 0.0) {
                return bad(name, format!("{x} must be a positive finite number"));
            }
        }
        if !(self.beta_lr.is_finite() && self.beta_lr >= 0.0) {
            return bad("beta_lr", format!("{} must be a finite number ≥ 0", self.beta_lr));
        }
        if !(self.beta_min <= self.beta0 && self.beta0 <= self.beta_max) {
            return bad(
                "beta0",
                format!("{} is outside [beta_min, beta_max] = [{}, {}]", self.beta0, self.beta_min, self.beta_max),
            );
        }
        Ok(())
    }
}

/// One step of dual descent on β, Eq. (9), clamped to `[β_min, β_max]` (App. C.4).
///
/// # Formula
///
/// ```text
/// linear:  β ← clamp( β − η·(ε − KL), β_min, β_max )
/// log:     β ← clamp( β·exp(−η·(ε − KL)), β_min, β_max )     (log β ← log β − η·(ε − KL))
/// ```
///
/// KL above ε raises β (less optimism), below ε lowers it.
#[must_use]
pub fn dual_step(
    beta: f64,
    kl: f64,
    epsilon: f64,
    lr: f64,
    update: BetaUpdate,
    (beta_min, beta_max): (f64, f64),
) -> f64 {
    let grad = epsilon - kl;
    let next = match update {
        BetaUpdate::Linear => beta - lr * grad,
        BetaUpdate::Log => beta * (-lr * grad).exp(),
    };
    next.clamp(beta_min, beta_max)
}
