//! Random test cases: MDPs, β, policies — seeded, and always valid. The one home of the crate's
//! random-MDP generator: the verifier, `bench::random_dense`, the kernel tests and
//! `tests/exact_reference.rs` all draw through [`RandomMdp`].
//!
//! A model is drawn in two stages, sizes first and then entries, into a [`RawMdp`] of plain
//! numbers; [`RawMdp::build`] turns *any* such draw into a valid [`TabularMdp`] (rows are
//! normalised over a sparsity mask, an emptied row falls back to a self-loop, state 0 is never
//! terminal; sparse draws are stored sparse, so both kernels are exercised). The proptest
//! strategies of `tests/common` draw the same `RawMdp`, so shrinking a counterexample (entries
//! towards 0, masks towards sparse, sizes towards 2) keeps it valid.
//!
//! # Ranges of the verifier's cases ([`RandomMdp::cases`])
//!
//! ```text
//! S ∈ 2..=8 states, A ∈ 2..=4 actions, rows dense or sparse, each state terminal w.p. 1/4
//! r(s,a) = scale·u,  u ∈ [−1, 1],  scale ∈ {1, 10}
//! β log-uniform in [1e-3, 1e4]
//! Discounted:   γ ∈ [0.5, 0.99], no horizon
//! Horizon:      T ∈ 1..=3, γ = 1 (half the cases) or γ ∈ [0.5, 0.99]
//! Undiscounted: T ∈ 1..=3, γ = 1 (the exponential utility of Eq. 6 is exact there)
//! ```
//!
//! The fixed models (the risky arm of Fig. 1 and a 4×4 cliff gridworld) come from the
//! [`envs`](crate::envs) builders.

use std::ops::{Range, RangeInclusive};

use ndarray::Array2;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::envs::Gridworld;
use crate::error::{Error, Result};
use crate::mdp::{MdpSpec, TabularMdp};
use crate::risk::Beta;
use crate::transitions::TransitionSpec;

/// Smallest and largest β of random cases.
pub const BETA_RANGE: (f64, f64) = (1e-3, 1e4);
/// Range of γ for discounted cases.
pub const GAMMA_RANGE: (f64, f64) = (0.5, 0.99);
/// Most states of a random MDP.
pub const MAX_STATES: usize = 8;
/// Most actions of a random MDP.
pub const MAX_ACTIONS: usize = 4;
/// Longest horizon of a random finite-horizon MDP (trajectory enumeration grows as (S·A)^T).
pub const MAX_HORIZON: usize = 3;

/// Which family of models a claim is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    /// Random MDP, γ ∈ [0.5, 0.99], no horizon.
    Discounted,
    /// Random MDP with a horizon T ≤ 3, γ = 1 or γ ∈ [0.5, 0.99].
    Horizon,
    /// Random MDP with a horizon T ≤ 3 and γ = 1.
    Undiscounted,
    /// The risky arm of Fig. 1 (fixed), β log-uniform in [1e-3, 1e7].
    RiskyArm,
    /// A 4×4 cliff gridworld (fixed, [`Gridworld::cliff_4x4`]); the seed jitters the β grid.
    Gridworld,
}

/// One test case: a model, a risk parameter, a random stationary policy, and a seed for any
/// further randomness the claim needs (random Q functions, variational distributions, …).
#[derive(Debug, Clone)]
pub struct Case {
    /// The model.
    pub mdp: TabularMdp,
    /// The risk parameter.
    pub beta: Beta,
    /// A random stationary policy π(a|s), S×A, rows sum to 1 (may have zeros).
    pub policy: Array2<f64>,
    /// Seed of the claim's own randomness.
    pub seed: u64,
}

/// Which entries of a transition row may be positive.
#[derive(Debug, Clone, PartialEq)]
pub enum Support {
    /// Every row has full support.
    Dense,
    /// Each entry is kept with probability `keep`, drawn once per model from this range (a
    /// single value when the range is empty, e.g. `0.5..0.5`).
    Sparse {
        /// Range of the keep probability.
        keep: Range<f64>,
    },
    /// Dense or sparse (as [`Support::Sparse`]), equally often.
    Either {
        /// Range of the keep probability of the sparse draws.
        keep: Range<f64>,
    },
}

/// The discount of a random model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Discount {
    /// Always this γ.
    Fixed(f64),
    /// γ uniform in `[lo, hi]`.
    Uniform(f64, f64),
    /// γ = 1 half the time, else uniform in `[lo, hi]`.
    OneOrUniform(f64, f64),
}

/// A family of random MDPs: the crate's one random-model generator.
///
/// [`RandomMdp::sample`] draws, in this order: S, A, the keep probability, γ, T, the S·A·S
/// weights, the support mask, dense-or-sparse, the S·A rewards, the reward scale, the terminal
/// flags (draws a setting does not need are skipped, so a fixed size or a dense support uses
/// no randomness for it).
///
/// # Examples
/// ```
/// use rand::SeedableRng;
/// use riskmdp::verify::random::RandomMdp;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
/// let mdp = RandomMdp::dense(5, 2, 0.9).sample(&mut rng).build();
/// assert_eq!((mdp.n_states(), mdp.n_actions()), (5, 2));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RandomMdp {
    /// Number of states, uniform in this range.
    pub states: RangeInclusive<usize>,
    /// Number of actions, uniform in this range.
    pub actions: RangeInclusive<usize>,
    /// Support of the transition rows.
    pub support: Support,
    /// Reward scales, one drawn uniformly per model: `r(s,a) = scale·u`, `u ∈ [−1, 1]`.
    pub reward_scales: Vec<f64>,
    /// Discount γ.
    pub discount: Discount,
    /// Horizon T, uniform in this range (`None`: no horizon).
    pub horizon: Option<RangeInclusive<usize>>,
    /// Probability that a state is terminal (state 0 never is).
    pub terminal_probability: f64,
}

impl RandomMdp {
    /// The verifier's random models of one [`CaseKind`] (the ranges in the module docs). For
    /// [`CaseKind::RiskyArm`] and [`CaseKind::Gridworld`] (fixed models) the discounted family.
    #[must_use]
    pub fn cases(kind: CaseKind) -> Self {
        let (discount, horizon) = match kind {
            CaseKind::Horizon => (Discount::OneOrUniform(GAMMA_RANGE.0, GAMMA_RANGE.1), Some(1..=MAX_HORIZON)),
            CaseKind::Undiscounted => (Discount::Fixed(1.0), Some(1..=MAX_HORIZON)),
            _ => (Discount::Uniform(GAMMA_RANGE.0, GAMMA_RANGE.1), None),
        };
        RandomMdp {
            states: 2..=MAX_STATES,
            actions: 2..=MAX_ACTIONS,
            support: Support::Either { keep: 0.2..0.8 },
            reward_scales: vec![1.0, 10.0],
            discount,
            horizon,
            terminal_probability: 0.25,
        }
    }

    /// Dense models of a fixed size: full-support rows, rewards in [−1, 1], γ, no horizon, no
    /// terminal state (the benchmark models of [`bench::random_dense`](crate::bench::random_dense)).
    #[must_use]
    pub fn dense(states: usize, actions: usize, gamma: f64) -> Self {
        RandomMdp {
            states: states..=states,
            actions: actions..=actions,
            support: Support::Dense,
            reward_scales: vec![1.0],
            discount: Discount::Fixed(gamma),
            horizon: None,
            terminal_probability: 0.0,
        }
    }

    /// Draw one model as plain numbers.
    ///
    /// # Panics
    /// If a range is empty or a probability is outside [0, 1].
    pub fn sample(&self, rng: &mut impl Rng) -> RawMdp {
        let s_count = draw_size(rng, &self.states);
        let a_count = draw_size(rng, &self.actions);
        let n = s_count * a_count * s_count;
        let keep_probability = match &self.support {
            Support::Dense => 1.0,
            Support::Sparse { keep } | Support::Either { keep } => {
                if keep.is_empty() {
                    keep.start
                } else {
                    rng.random_range(keep.clone())
                }
            }
        };
        let gamma = match self.discount {
            Discount::Fixed(g) => g,
            Discount::Uniform(lo, hi) => rng.random_range(lo..=hi),
            Discount::OneOrUniform(lo, hi) => {
                if rng.random_bool(0.5) {
                    1.0
                } else {
                    rng.random_range(lo..=hi)
                }
            }
        };
        let horizon = self.horizon.as_ref().map(|t| draw_size(rng, t));
        let weights = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
        let keep = match self.support {
            Support::Dense => vec![],
            _ => (0..n).map(|_| rng.random_bool(keep_probability)).collect(),
        };
        let dense = match self.support {
            Support::Dense => true,
            Support::Sparse { .. } => false,
            Support::Either { .. } => rng.random_bool(0.5),
        };
        let rewards = (0..s_count * a_count).map(|_| rng.random_range(-1.0..=1.0)).collect();
        let reward_scale = match self.reward_scales.as_slice() {
            [one] => *one,
            // Two scales by a fair coin (the verifier's historical draw: its streams stay put).
            [first, second] => {
                if rng.random_bool(0.5) {
                    *first
                } else {
                    *second
                }
            }
            scales => scales[rng.random_range(0..scales.len())],
        };
        let terminal = (0..s_count).map(|_| rng.random_bool(self.terminal_probability)).collect();
        RawMdp {
            n_states: s_count,
            n_actions: a_count,
            weights,
            keep,
            dense,
            rewards,
            reward_scale,
            terminal,
            gamma,
            horizon,
        }
    }
}

/// A size uniform in `range` (no draw for a single value).
fn draw_size(rng: &mut impl Rng, range: &RangeInclusive<usize>) -> usize {
    if range.start() == range.end() { *range.start() } else { rng.random_range(range.clone()) }
}

/// A random MDP as plain numbers; [`RawMdp::build`] makes any draw valid.
#[derive(Debug, Clone)]
pub struct RawMdp {
    /// Number of states S ≥ 1.
    pub n_states: usize,
    /// Number of actions A ≥ 1.
    pub n_actions: usize,
    /// S·A·S non-negative weights, row-major `[s][a][s']`.
    pub weights: Vec<f64>,
    /// S·A·S support mask (ignored, and may be empty, when `dense`).
    pub keep: Vec<bool>,
    /// Every transition row has full support.
    pub dense: bool,
    /// S·A rewards in [−1, 1], scaled by `reward_scale`.
    pub rewards: Vec<f64>,
    /// Reward scale.
    pub reward_scale: f64,
    /// S terminal flags (state 0 is forced non-terminal).
    pub terminal: Vec<bool>,
    /// Discount γ ∈ (0, 1].
    pub gamma: f64,
    /// Optional horizon.
    pub horizon: Option<usize>,
}

/// Normalise `w` over `keep`; an empty row becomes the point mass on `fallback`.
pub fn normalise_row(w: &[f64], keep: &[bool], fallback: usize) -> Vec<f64> {
    let mut row: Vec<f64> = w.iter().zip(keep).map(|(&x, &k)| if k && x > 0.0 { x } else { 0.0 }).collect();
    let total: f64 = row.iter().sum();
    if total > 0.0 && total.is_finite() {
        row.iter_mut().for_each(|x| *x /= total);
    } else {
        row.iter_mut().for_each(|x| *x = 0.0);
        row[fallback] = 1.0;
    }
    row
}

impl RawMdp {
    /// The normalised transition rows `P[s][a][s']` this draw stands for.
    ///
    /// # Panics
    /// If the vectors do not have the lengths the sizes say.
    pub fn transition_rows(&self) -> Vec<Vec<Vec<f64>>> {
        let (s_count, a_count) = (self.n_states, self.n_actions);
        let all = vec![true; s_count];
        (0..s_count)
            .map(|s| {
                (0..a_count)
                    .map(|a| {
                        let at = (s * a_count + a) * s_count;
                        let keep = if self.dense { &all[..] } else { &self.keep[at..at + s_count] };
                        normalise_row(&self.weights[at..at + s_count], keep, s)
                    })
                    .collect()
            })
            .collect()
    }

    /// The rewards `r[s][a] = reward_scale·rewards[s·A + a]`.
    pub fn reward_rows(&self) -> Vec<Vec<f64>> {
        (0..self.n_states)
            .map(|s| (0..self.n_actions).map(|a| self.reward_scale * self.rewards[s * self.n_actions + a]).collect())
            .collect()
    }

    /// The model this draw stands for, named `name`; sparse draws are stored sparse.
    ///
    /// # Errors
    /// Those of [`TabularMdp::new`]: e.g. γ = 1 without a horizon on a model where some policy
    /// never terminates, or γ outside (0, 1].
    ///
    /// # Panics
    /// If the vectors do not have the lengths the sizes say.
    pub fn try_build(&self, name: &str) -> Result<TabularMdp> {
        self.assemble(name, self.transition_rows())
    }

    /// [`RawMdp::try_build`], dropping the weights before the model is made (a large dense
    /// draw then never holds three copies of P at once).
    ///
    /// # Errors
    /// As [`RawMdp::try_build`].
    pub fn into_mdp(mut self, name: &str) -> Result<TabularMdp> {
        let rows = self.transition_rows();
        self.weights = Vec::new();
        self.keep = Vec::new();
        self.assemble(name, rows)
    }

    fn assemble(&self, name: &str, rows: Vec<Vec<Vec<f64>>>) -> Result<TabularMdp> {
        if self.n_states == 0 || self.n_actions == 0 {
            return Err(Error::InvalidParameter {
                name: "states/actions".into(),
                message: "a random model needs at least one state and one action".into(),
            });
        }
        let mut terminal = self.terminal.clone();
        terminal[0] = false;
        let transitions = if self.dense {
            TransitionSpec::Dense(rows)
        } else {
            TransitionSpec::Sparse(
                rows.into_iter()
                    .map(|block| {
                        block
                            .into_iter()
                            .map(|row| row.into_iter().enumerate().filter(|&(_, p)| p > 0.0).collect())
                            .collect()
                    })
                    .collect(),
            )
        };
        TabularMdp::new(MdpSpec {
            name: name.into(),
            state_names: None,
            action_names: None,
            gamma: self.gamma,
            horizon: self.horizon,
            initial: None,
            terminal: Some(terminal),
            transitions,
            rewards: self.reward_rows(),
            grid: None,
        })
    }

    /// The valid model this draw stands for (named `random`).
    ///
    /// # Panics
    /// If the vectors do not have the lengths the sizes say, or γ = 1 without a horizon (an
    /// internal invariant of the verifier's generators, which never draw that); use
    /// [`RawMdp::try_build`] for other draws.
    pub fn build(&self) -> TabularMdp {
        self.try_build("random").expect("RawMdp::build: a normalised draw is a valid model")
    }
}

/// A random policy as plain numbers: S·A weights and a support mask.
pub fn build_policy(n_states: usize, n_actions: usize, weights: &[f64], keep: &[bool]) -> Array2<f64> {
    let mut pi = Array2::zeros((n_states, n_actions));
    for s in 0..n_states {
        let at = s * n_actions;
        let row = normalise_row(&weights[at..at + n_actions], &keep[at..at + n_actions], 0);
        for (a, p) in row.into_iter().enumerate() {
            pi[[s, a]] = p;
        }
    }
    pi
}

/// A log-uniform draw in `[lo, hi]`.
pub fn log_uniform(rng: &mut impl Rng, lo: f64, hi: f64) -> f64 {
    (rng.random_range(lo.ln()..=hi.ln())).exp()
}

/// A random stationary policy: dense, sparse or deterministic, equally often.
pub fn random_policy(rng: &mut impl Rng, n_states: usize, n_actions: usize) -> Array2<f64> {
    let n = n_states * n_actions;
    let weights: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
    let keep: Vec<bool> = match rng.random_range(0..3) {
        0 => vec![true; n],
        1 => (0..n).map(|_| rng.random_bool(0.5)).collect(),
        _ => {
            let mut keep = vec![false; n];
            for s in 0..n_states {
                keep[s * n_actions + rng.random_range(0..n_actions)] = true;
            }
            keep
        }
    };
    build_policy(n_states, n_actions, &weights, &keep)
}

/// A random [`RawMdp`] of the given kind ([`RandomMdp::cases`]).
pub fn random_raw_mdp(rng: &mut impl Rng, kind: CaseKind) -> RawMdp {
    RandomMdp::cases(kind).sample(rng)
}

/// The risky arm of Fig. 1 ([`envs::risky_arm`](crate::envs::risky_arm())).
pub fn risky_arm() -> TabularMdp {
    crate::envs::risky_arm()
}

/// The 4×4 cliff gridworld of the `gridworld-sweep` claim ([`Gridworld::cliff_4x4`]).
pub fn cliff_gridworld() -> TabularMdp {
    Gridworld::cliff_4x4().build().expect("the 4×4 cliff gridworld is valid")
}

/// A random case of the given kind.
pub fn random_case(rng: &mut impl Rng, kind: CaseKind) -> Case {
    let (mdp, beta) = match kind {
        CaseKind::RiskyArm => (risky_arm(), log_uniform(rng, 1e-3, 1e7)),
        CaseKind::Gridworld => (cliff_gridworld(), log_uniform(rng, 1e-2, 1e3)),
        _ => (random_raw_mdp(rng, kind).build(), log_uniform(rng, BETA_RANGE.0, BETA_RANGE.1)),
    };
    let policy = random_policy(rng, mdp.n_states(), mdp.n_actions());
    let beta = Beta::new(beta).expect("β from a positive range");
    Case { mdp, beta, policy, seed: rng.random() }
}

/// The generator of case `index` of a run with `seed` for the claim with stream number
/// `stream`: independent streams, reproducible one case at a time.
pub fn case_rng(seed: u64, stream: usize, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((stream as u64) << 32) | index as u64);
    rng
}
