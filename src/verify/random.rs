//! Random test cases: MDPs, β, policies — seeded, and always valid.
//!
//! A case is drawn in two stages, sizes first and then entries, into a [`RawMdp`] of plain
//! numbers; [`RawMdp::build`] turns *any* such draw into a valid [`TabularMdp`] (rows are
//! normalised over a sparsity mask, an emptied row falls back to a self-loop, state 0 is never
//! terminal). The proptest strategies of `tests/common` draw the same `RawMdp`, so shrinking a
//! counterexample (entries towards 0, masks towards sparse, sizes towards 2) keeps it valid.
//!
//! # Ranges
//!
//! ```text
//! S ∈ 2..=8 states, A ∈ 2..=4 actions, rows dense or sparse, each state terminal w.p. 1/4
//! r(s,a) = scale·u,  u ∈ [−1, 1],  scale ∈ {1, 10}
//! β log-uniform in [1e-3, 1e4]
//! Discounted:   γ ∈ [0.5, 0.99], no horizon
//! Horizon:      T ∈ 1..=3, γ = 1 (half the cases) or γ ∈ [0.5, 0.99]
//! Undiscounted: T ∈ 1..=3, γ = 1 (the exponential utility of Eq. 6 is exact there)
//! ```

use ndarray::Array2;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::mdp::{GridShape, MdpSpec, TabularMdp};
use crate::risk::Beta;

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
    /// A 4×4 cliff gridworld (fixed); the seed jitters the β grid.
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

/// A random MDP as plain numbers; [`RawMdp::build`] makes any draw valid.
#[derive(Debug, Clone)]
pub struct RawMdp {
    /// Number of states S ≥ 1.
    pub n_states: usize,
    /// Number of actions A ≥ 1.
    pub n_actions: usize,
    /// S·A·S non-negative weights, row-major `[s][a][s']`.
    pub weights: Vec<f64>,
    /// S·A·S support mask (ignored when `dense`).
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
    /// The valid model this draw stands for.
    ///
    /// # Panics
    /// If the vectors do not have the lengths the sizes say, or γ = 1 without a horizon (an
    /// internal invariant of the generators, which never draw that).
    pub fn build(&self) -> TabularMdp {
        let (s_count, a_count) = (self.n_states, self.n_actions);
        let mut terminal = self.terminal.clone();
        terminal[0] = false;
        let transitions: Vec<Vec<Vec<f64>>> = (0..s_count)
            .map(|s| {
                (0..a_count)
                    .map(|a| {
                        let at = (s * a_count + a) * s_count;
                        let w = &self.weights[at..at + s_count];
                        let keep = if self.dense { vec![true; s_count] } else { self.keep[at..at + s_count].to_vec() };
                        normalise_row(w, &keep, s)
                    })
                    .collect()
            })
            .collect();
        let rewards = (0..s_count)
            .map(|s| (0..a_count).map(|a| self.reward_scale * self.rewards[s * a_count + a]).collect())
            .collect();
        TabularMdp::new(MdpSpec {
            name: "random".into(),
            state_names: None,
            action_names: None,
            gamma: self.gamma,
            horizon: self.horizon,
            initial: None,
            terminal: Some(terminal),
            transitions: transitions.into(),
            rewards,
            grid: None,
        })
        .expect("RawMdp::build: a normalised draw is a valid model")
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

/// A random [`RawMdp`] of the given kind (only the random-MDP kinds).
pub fn random_raw_mdp(rng: &mut impl Rng, kind: CaseKind) -> RawMdp {
    let s_count = rng.random_range(2..=MAX_STATES);
    let a_count = rng.random_range(2..=MAX_ACTIONS);
    let n = s_count * a_count * s_count;
    let density = rng.random_range(0.2..0.8);
    let (gamma, horizon) = match kind {
        CaseKind::Horizon => {
            let gamma = if rng.random_bool(0.5) { 1.0 } else { rng.random_range(GAMMA_RANGE.0..=GAMMA_RANGE.1) };
            (gamma, Some(rng.random_range(1..=MAX_HORIZON)))
        }
        CaseKind::Undiscounted => (1.0, Some(rng.random_range(1..=MAX_HORIZON))),
        _ => (rng.random_range(GAMMA_RANGE.0..=GAMMA_RANGE.1), None),
    };
    RawMdp {
        n_states: s_count,
        n_actions: a_count,
        weights: (0..n).map(|_| rng.random_range(0.0..1.0)).collect(),
        keep: (0..n).map(|_| rng.random_bool(density)).collect(),
        dense: rng.random_bool(0.5),
        rewards: (0..s_count * a_count).map(|_| rng.random_range(-1.0..=1.0)).collect(),
        reward_scale: if rng.random_bool(0.5) { 1.0 } else { 10.0 },
        terminal: (0..s_count).map(|_| rng.random_bool(0.25)).collect(),
        gamma,
        horizon,
    }
}

/// The risky arm of Fig. 1 (`examples/mdps/risky_arm.json`, embedded).
pub fn risky_arm() -> TabularMdp {
    TabularMdp::from_json_str(include_str!("../../examples/mdps/risky_arm.json"), "risky_arm.json")
        .expect("the embedded risky arm is valid")
}

/// Reward per step in the [`cliff_gridworld`].
pub const GRID_STEP_REWARD: f64 = -1.0;
/// Reward for falling into the cliff in the [`cliff_gridworld`].
pub const GRID_CLIFF_REWARD: f64 = -20.0;
/// Probability that the chosen move happens in the [`cliff_gridworld`] (else one of the four
/// moves uniformly at random, so the chosen one has 0.85 in all).
pub const GRID_INTENDED: f64 = 0.8;

/// A 4×4 cliff gridworld, γ = 0.95: start bottom-left (12), goal bottom-right (15, terminal),
/// cliff cells 13 and 14 between them. Every move costs 1; a cliff cell (whatever the action)
/// costs 20 and sends the agent back to the start. Moves up/left/down/right succeed w.p. 0.8,
/// otherwise a uniformly random one of the four is made; a move off the grid stays put.
pub fn cliff_gridworld() -> TabularMdp {
    let (rows, cols) = (4usize, 4usize);
    let n = rows * cols;
    let (start, goal, cliff) = (12usize, 15usize, [13usize, 14]);
    let moves: [(i64, i64); 4] = [(-1, 0), (0, -1), (1, 0), (0, 1)];
    let target = |s: usize, m: usize| {
        let (r, c) = ((s / cols) as i64 + moves[m].0, (s % cols) as i64 + moves[m].1);
        if (0..rows as i64).contains(&r) && (0..cols as i64).contains(&c) { r as usize * cols + c as usize } else { s }
    };
    let mut transitions = vec![vec![vec![0.0; n]; 4]; n];
    let mut rewards = vec![vec![GRID_STEP_REWARD; 4]; n];
    for s in 0..n {
        for a in 0..4 {
            if cliff.contains(&s) {
                transitions[s][a][start] = 1.0;
                rewards[s][a] = GRID_CLIFF_REWARD;
            } else if s == goal {
                transitions[s][a][s] = 1.0;
                rewards[s][a] = 0.0;
            } else {
                transitions[s][a][target(s, a)] += GRID_INTENDED;
                for m in 0..4 {
                    transitions[s][a][target(s, m)] += (1.0 - GRID_INTENDED) / 4.0;
                }
            }
        }
    }
    let mut initial = vec![0.0; n];
    initial[start] = 1.0;
    let mut terminal = vec![false; n];
    terminal[goal] = true;
    TabularMdp::new(MdpSpec {
        name: "cliff-gridworld-4x4".into(),
        state_names: None,
        action_names: Some(["up", "left", "down", "right"].map(String::from).to_vec()),
        gamma: 0.95,
        horizon: None,
        initial: Some(initial),
        terminal: Some(terminal),
        transitions: transitions.into(),
        rewards,
        grid: Some(GridShape { rows, cols }),
    })
    .expect("the cliff gridworld is valid")
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

/// The generator of case `index` of a run with `seed` for the claim numbered `claim`:
/// independent streams, reproducible one case at a time.
pub fn case_rng(seed: u64, claim: usize, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((claim as u64) << 32) | index as u64);
    rng
}
