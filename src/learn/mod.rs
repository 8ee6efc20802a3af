//! Tabular learners that sample: β-VMBPO (Algorithm 1), VMBPO, Q-learning and MnM (Figs. 3, 6).
//!
//! Every loss they use comes from [`crate::losses`]; the closed-form minimisers of Eqs. 10, 11
//! and 13 replace gradient steps where a table allows it. The schedule of one episode, and how
//! the learners explore, is in [`beta_vmbpo`].
//!
//! * [`beta_vmbpo`] — β-VMBPO: variational dynamics and policy, β by dual descent (Eq. 9).
//! * [`vmbpo`] — the same with β fixed at 1.
//! * [`mnm`] — the same (β = 1) on the reward (1 − γ)·log r.
//! * [`q_learning`] — ε-greedy online Q-learning, the risk-neutral baseline.
//! * [`model`] — the environment buffer: counts, prior and variational dynamics.
//! * [`predict`] — where β should settle: the exact root of KL̂_β = ε on the empirical model.
//! * [`config`] — every hyperparameter, with its default.
//! * [`seeds`] — many seeds in parallel, and their mean curve.
//!
//! # Return
//!
//! As in the MnM experiments, the *return* is exact: the expected discounted return of the
//! current greedy policy (argmax of the critic) in the **true** dynamics with the true reward
//! from ρ ([`expected_q`]), every `log_every` episodes. `v_star` is the risk-neutral optimum.
//!
//! # Differences from Algorithm 1, and what is not built yet
//!
//! * The model, rollouts, critic, policies and β are updated once per *episode*, not per
//!   environment step; the closed-form minimisers replace gradient steps on Eqs. 10, 11, 13, 14.
//! * The KL term of the critic target is discounted with the next value (γ outside the log,
//!   [`crate::losses`]); MnM's reference code adds it undiscounted.
//! * [`predict`] needs every action tried in every state the data left: true after a few
//!   thousand episodes on the risky arm, the MnM gridworld, and the cliff gridworld with the
//!   optimistic settings of `examples/learning_curves.rs`; otherwise it names an untried pair.
//!
//! Figs. 3 and 6 and the ε figure are `examples/learning_curves.rs` (seeds in parallel through
//! [`learn_seeds`], curves through [`Band`]); what reproduces is in `docs/learning.md`.
//!
//! # Examples
//! VMBPO (β = 1) learns the gamble on the risky arm (expected return −9), Q-learning the sure
//! −5. Same seed, same bits.
//! ```
//! use rand::SeedableRng;
//! use rand_chacha::ChaCha8Rng;
//! use riskmdp::learn::{Algorithm, LearnConfig, learn};
//! let mdp = riskmdp::envs::risky_arm();
//! let config = LearnConfig { episodes: 300, ..LearnConfig::default() };
//! let vmbpo = learn(&mdp, Algorithm::Vmbpo, &config, &mut ChaCha8Rng::seed_from_u64(0))?;
//! assert_eq!(vmbpo.final_greedy, "right");
//! assert!((vmbpo.final_return + 9.0).abs() < 1e-9);
//! let q = learn(&mdp, Algorithm::QLearning, &config, &mut ChaCha8Rng::seed_from_u64(0))?;
//! assert!(q.final_greedy == "left" && (q.v_star + 5.0).abs() < 1e-12);
//! # Ok::<(), riskmdp::Error>(())
//! ```

use serde::Serialize;

use rand::Rng;

use crate::error::{Error, Result};
use crate::mdp::TabularMdp;
use crate::policy::Policy;
use crate::solve::greedy_actions;
use crate::solve::risk_neutral::{expected_q, optimal_expected_q};

pub mod beta_vmbpo;
pub mod config;
pub mod mnm;
pub mod model;
pub mod predict;
pub mod q_learning;
mod reward;
pub mod seeds;
pub mod vmbpo;

pub use beta_vmbpo::VariationalLearner;
pub use config::{LearnConfig, RolloutStart};
pub use model::EmpiricalModel;
pub use q_learning::QLearner;
pub use seeds::{Band, learn_seeds};

/// The four learners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// β-VMBPO: β by dual descent from `beta0`.
    BetaVmbpo,
    /// VMBPO: β = 1.
    Vmbpo,
    /// ε-greedy Q-learning.
    QLearning,
    /// MnM: β = 1 on (1 − γ)·log r.
    Mnm,
}

/// What [`learn`] measured: `riskmdp learn --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearnReport {
    /// The environment's name.
    pub env: String,
    /// The learner.
    pub algorithm: Algorithm,
    /// The settings used.
    pub config: LearnConfig,
    /// Episodes completed at each measurement (0, K, 2K, …, and the last).
    pub episodes: Vec<usize>,
    /// Exact expected return of the greedy policy in the true model, per measurement.
    pub returns: Vec<f64>,
    /// β per measurement (empty for Q-learning, which has none).
    pub betas: Vec<f64>,
    /// Measured KL(q ‖ p) per measurement (empty for Q-learning).
    pub kls: Vec<f64>,
    /// Greedy action at the start state per measurement.
    pub greedy: Vec<String>,
    /// The last return.
    pub final_return: f64,
    /// The last β (`None` for Q-learning).
    pub final_beta: Option<f64>,
    /// The last measured KL (`None` for Q-learning).
    pub final_kl: Option<f64>,
    /// The last greedy action at the start state.
    pub final_greedy: String,
    /// The risk-neutral optimal expected return from ρ.
    pub v_star: f64,
    /// Environment steps taken.
    pub env_steps: u64,
    /// The final critic, S×A (reward units; MnM's in its transformed reward).
    pub final_q: Vec<Vec<f64>>,
}

/// The learner behind an [`Algorithm`].
#[derive(Debug, Clone)]
pub enum Learner<'m> {
    /// β-VMBPO, VMBPO or MnM.
    Variational(Box<VariationalLearner<'m>>),
    /// Q-learning.
    QLearning(Box<QLearner<'m>>),
}

impl<'m> Learner<'m> {
    /// A fresh learner.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a model with a horizon; those of [`LearnConfig::validate`]
    /// and of [`mnm::learner`].
    pub fn new(mdp: &'m TabularMdp, algorithm: Algorithm, config: &LearnConfig) -> Result<Self> {
        Ok(match algorithm {
            Algorithm::BetaVmbpo => Learner::Variational(Box::new(VariationalLearner::new(
                mdp,
                config,
                beta_vmbpo::Variant {
                    beta0: config.dual.beta0,
                    adapt_beta: true,
                    reward: beta_vmbpo::RewardTransform::Identity,
                },
            )?)),
            Algorithm::Vmbpo => Learner::Variational(Box::new(vmbpo::learner(mdp, config)?)),
            Algorithm::Mnm => Learner::Variational(Box::new(mnm::learner(mdp, config)?)),
            Algorithm::QLearning => Learner::QLearning(Box::new(QLearner::new(mdp, config)?)),
        })
    }

    /// One episode.
    pub fn episode(&mut self, rng: &mut impl Rng) {
        match self {
            Learner::Variational(l) => l.episode(rng),
            Learner::QLearning(l) => l.episode(rng),
        }
    }

    /// The critic (reward units; MnM's in its transformed reward).
    pub fn q(&self) -> &ndarray::Array2<f64> {
        match self {
            Learner::Variational(l) => l.q(),
            Learner::QLearning(l) => l.q(),
        }
    }

    /// β and the measured KL (`None` for Q-learning).
    pub fn beta_kl(&self) -> Option<(f64, f64)> {
        match self {
            Learner::Variational(l) => Some((l.beta(), l.kl())),
            Learner::QLearning(_) => None,
        }
    }

    /// Environment steps taken so far.
    pub fn env_steps(&self) -> u64 {
        match self {
            Learner::Variational(l) => l.env_steps(),
            Learner::QLearning(l) => l.env_steps(),
        }
    }
}

/// The learners run stationary episodes: a model with a horizon is refused.
pub(crate) fn check_model(mdp: &TabularMdp) -> Result<()> {
    if mdp.horizon().is_some() {
        return Err(Error::Unsupported {
            what: "learn: models with a horizon are not supported (episodes end at `max_steps`)".into(),
        });
    }
    Ok(())
}

/// The start state used for "greedy action at the start": the point mass of ρ, or its most
/// probable state.
fn start_state(mdp: &TabularMdp) -> usize {
    mdp.initial_state().unwrap_or_else(|| {
        let rho = mdp.initial();
        (0..rho.len()).fold(0, |best, s| if rho[s] > rho[best] { s } else { best })
    })
}

/// Exact expected return from ρ of the greedy policy of `q` in the true model, and that policy.
///
/// # Formula
///
/// ```text
/// π(s) = argmax_a Q(s,a),   return = Σ_s ρ(s)·Q_∞^π(s, π(s))     (Q_∞^π: [`expected_q`])
/// ```
///
/// # Errors
/// Those of [`expected_q`].
pub fn greedy_return(mdp: &TabularMdp, q: &ndarray::Array2<f64>) -> Result<(f64, Vec<usize>)> {
    let greedy = greedy_actions(mdp, q.view());
    let q_inf = expected_q(mdp, &Policy::deterministic(mdp, &greedy)?)?;
    let ret = (0..mdp.n_states()).map(|s| mdp.initial()[s] * q_inf[[s, greedy[s]]]).sum();
    Ok((ret, greedy))
}

/// Run a learner for `config.episodes` episodes and measure it (see the module docs).
///
/// # Errors
/// Those of [`Learner::new`] and [`expected_q`].
pub fn learn(mdp: &TabularMdp, algorithm: Algorithm, config: &LearnConfig, rng: &mut impl Rng) -> Result<LearnReport> {
    learn_with_progress(mdp, algorithm, config, rng, |_| {})
}

/// [`learn`], calling `progress(episodes done)` after every episode (e.g. for a progress bar).
///
/// # Errors
/// As [`learn`].
pub fn learn_with_progress(
    mdp: &TabularMdp,
    algorithm: Algorithm,
    config: &LearnConfig,
    rng: &mut impl Rng,
    mut progress: impl FnMut(usize),
) -> Result<LearnReport> {
    let mut learner = Learner::new(mdp, algorithm, config)?;
    let (q_star, _) = optimal_expected_q(mdp)?;
    let v_star = (0..mdp.n_states())
        .filter(|&s| !mdp.is_terminal(s))
        .map(|s| mdp.initial()[s] * q_star.row(s).iter().copied().fold(f64::NEG_INFINITY, f64::max))
        .sum();
    let start = start_state(mdp);
    let mut report = LearnReport {
        env: mdp.name().to_string(),
        algorithm,
        config: config.clone(),
        episodes: Vec::new(),
        returns: Vec::new(),
        betas: Vec::new(),
        kls: Vec::new(),
        greedy: Vec::new(),
        final_return: f64::NAN,
        final_beta: None,
        final_kl: None,
        final_greedy: String::new(),
        v_star,
        env_steps: 0,
        final_q: Vec::new(),
    };
    let measure = |learner: &Learner, episode: usize, report: &mut LearnReport| -> Result<()> {
        let (ret, greedy) = greedy_return(mdp, learner.q())?;
        let beta_kl = learner.beta_kl().map_or([0.0; 2], |(b, k)| [b, k]);
        if !(ret.is_finite() && learner.q().iter().chain(&beta_kl).all(|x| x.is_finite())) {
            let beta = learner.beta_kl().map_or(f64::NAN, |(b, _)| b);
            return Err(Error::NonFiniteResult { solver: "learn", beta });
        }
        report.episodes.push(episode);
        report.returns.push(ret);
        report.greedy.push(mdp.action_names()[greedy[start]].clone());
        if let Some((beta, kl)) = learner.beta_kl() {
            report.betas.push(beta);
            report.kls.push(kl);
        }
        Ok(())
    };
    measure(&learner, 0, &mut report)?;
    for episode in 1..=config.episodes {
        learner.episode(rng);
        if episode % config.log_every == 0 || episode == config.episodes {
            measure(&learner, episode, &mut report)?;
        }
        progress(episode);
    }
    report.final_return = report.returns.last().copied().unwrap_or(f64::NAN);
    report.final_greedy = report.greedy.last().cloned().unwrap_or_default();
    report.final_beta = report.betas.last().copied();
    report.final_kl = report.kls.last().copied();
    report.env_steps = learner.env_steps();
    report.final_q = learner.q().outer_iter().map(|row| row.to_vec()).collect();
    Ok(report)
}
