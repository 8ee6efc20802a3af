//! The validated tabular model: `TabularMdp`.
//!
//! # Conventions
//!
//! ```text
//! states 0..S, actions 0..A
//! P[s][a][s']   probability of s' after action a in state s
//! r[s][a]       reward for taking a in s
//! γ ∈ (0, 1]    discount, applied *outside* the log in the soft backups
//! T             optional horizon (time steps 0..T−1 act, V_T = 0)
//! terminal      absorbing states: value 0, their rows are ignored
//! ρ             initial distribution (default: state 0)
//! ```
//!
//! A `TabularMdp` can only exist valid: [`TabularMdp::new`] and the loaders check every field
//! and return an [`Error`](crate::Error) naming field, state and action. Accepted probability rows are
//! renormalised to sum to 1 to rounding, which the log-sum-exp kernels rely on.
//!
//! The module has three parts: this file (the model and its accessors), `file` (the JSON file
//! format: [`TabularMdp::from_json_str`], [`TabularMdp::load`], [`TabularMdp::save`]) and
//! `validate` (the checks [`TabularMdp::new`] runs, one named step each).

use std::borrow::Cow;

use ndarray::{Array1, Array2, Array3};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::tolerance;
use crate::transitions::{Row, Store, TransitionSpec};

mod file;
pub mod layout;
mod validate;

use validate::Names;
pub(crate) use validate::check_distribution;

/// Shape of a grid world: the first `rows·cols` states are the cells, state `cols·row + col`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridShape {
    /// Number of rows (drawn top to bottom).
    pub rows: usize,
    /// Number of columns (drawn left to right).
    pub cols: usize,
}

/// A finite MDP with rewards r(s, a), validated at construction.
#[derive(Debug, Clone)]
pub struct TabularMdp {
    name: String,
    state_names: Vec<String>,
    action_names: Vec<String>,
    gamma: f64,
    horizon: Option<usize>,
    initial: Array1<f64>,
    terminal: Vec<bool>,
    transitions: Store,
    rewards: Array2<f64>,
    grid: Option<GridShape>,
}

/// Everything needed to build a [`TabularMdp`] in code; checked by [`TabularMdp::new`].
#[derive(Debug, Clone)]
pub struct MdpSpec {
    /// A name for tables and plots.
    pub name: String,
    /// One name per state (`None`: `s0`, `s1`, …).
    pub state_names: Option<Vec<String>>,
    /// One name per action (`None`: `a0`, `a1`, …).
    pub action_names: Option<Vec<String>>,
    /// Discount γ ∈ (0, 1].
    pub gamma: f64,
    /// Optional horizon T ≥ 1.
    pub horizon: Option<usize>,
    /// Initial distribution ρ (`None`: all mass on state 0).
    pub initial: Option<Vec<f64>>,
    /// Terminal (absorbing, value 0) states (`None`: none).
    pub terminal: Option<Vec<bool>>,
    /// `P[s][a][s']`, dense or sparse (`vec![…].into()` from either form).
    pub transitions: TransitionSpec,
    /// `r[s][a]`.
    pub rewards: Vec<Vec<f64>>,
    /// Optional grid layout, for plots.
    pub grid: Option<GridShape>,
}

impl MdpSpec {
    /// The required parts only — name, γ, `P[s][a][s']` and `r[s][a]` — with every optional
    /// field at its default (`s0…`/`a0…` names, no horizon, ρ on state 0, no terminal state, no
    /// grid); set others with struct update syntax.
    ///
    /// # Examples
    /// One state that pays 1 and stays, γ = 0.9: V = 1/(1 − 0.9) = 10 in the risk-neutral limit.
    /// ```
    /// use riskmdp::{MdpSpec, Policy, TabularMdp};
    /// use riskmdp::solve::risk_neutral::expected_q;
    /// let spec = MdpSpec::new("loop", 0.9, vec![vec![vec![1.0]]], vec![vec![1.0]]);
    /// let mdp = TabularMdp::new(MdpSpec { name: "a loop".into(), ..spec })?;
    /// assert!((expected_q(&mdp, &Policy::uniform(&mdp))?[[0, 0]] - 10.0).abs() < 1e-12);
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn new(
        name: impl Into<String>,
        gamma: f64,
        transitions: impl Into<TransitionSpec>,
        rewards: Vec<Vec<f64>>,
    ) -> Self {
        MdpSpec {
            name: name.into(),
            state_names: None,
            action_names: None,
            gamma,
            horizon: None,
            initial: None,
            terminal: None,
            transitions: transitions.into(),
            rewards,
            grid: None,
        }
    }
}

/// A dense input with at least this many states and less than this fill is stored sparse.
const SPARSE_MIN_STATES: usize = 512;
const SPARSE_MAX_FILL: f64 = 0.05;

/// The stored form of a checked dense tensor: dense, unless it is large and mostly zeros (then
/// compressed rows, so that the kernels skip the zeros).
fn store_dense(dense: Array3<f64>) -> Store {
    let s_count = dense.dim().0;
    let nonzeros = dense.iter().filter(|&&p| p > 0.0).count();
    if s_count >= SPARSE_MIN_STATES && (nonzeros as f64) < SPARSE_MAX_FILL * dense.len() as f64 {
        Store::sparse_from_rows(dense.outer_iter().flat_map(|block| {
            block.outer_iter().map(|row| row.iter().copied().enumerate().collect()).collect::<Vec<_>>()
        }))
    } else {
        Store::Dense(dense)
    }
}

impl TabularMdp {
    /// Build and validate a model.
    ///
    /// The checks run in this order, and the first failure is returned: the sizes S and A
    /// (from `transitions`), the names, γ, the horizon, the terminal flags, the rewards, every
    /// transition row, ρ, the grid, and — for γ = 1 without a horizon — that every policy
    /// terminates.
    ///
    /// # Errors
    /// [`Error::Shape`], [`Error::NotFinite`], [`Error::ProbabilityOutOfRange`],
    /// [`Error::NotADistribution`] (rows of non-terminal states and ρ must sum to 1 within
    /// [`tolerance::ROW_SUM`]), [`Error::InvalidGamma`], [`Error::InvalidParameter`] (horizon 0,
    /// a horizon whose time-indexed tables T·S·A exceed 2²⁷ entries, a grid larger than the state
    /// space, a sparse next state out of range or listed twice) and [`Error::NonTerminating`]
    /// (γ = 1 without a horizon while some policy can avoid every terminal state forever).
    ///
    /// [`Error::Shape`]: crate::Error::Shape
    /// [`Error::NotFinite`]: crate::Error::NotFinite
    /// [`Error::ProbabilityOutOfRange`]: crate::Error::ProbabilityOutOfRange
    /// [`Error::NotADistribution`]: crate::Error::NotADistribution
    /// [`Error::InvalidGamma`]: crate::Error::InvalidGamma
    /// [`Error::InvalidParameter`]: crate::Error::InvalidParameter
    /// [`Error::NonTerminating`]: crate::Error::NonTerminating
    ///
    /// # Examples
    /// ```
    /// use riskmdp::{MdpSpec, TabularMdp};
    /// // One state, one action, reward 1, γ = 0.5.
    /// let mdp = TabularMdp::new(MdpSpec {
    ///     name: "loop".into(), state_names: None, action_names: None,
    ///     gamma: 0.5, horizon: None, initial: None, terminal: None,
    ///     transitions: vec![vec![vec![1.0]]].into(), rewards: vec![vec![1.0]], grid: None,
    /// })?;
    /// assert_eq!(mdp.n_states(), 1);
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn new(spec: MdpSpec) -> Result<Self> {
        let (s_count, a_count) = validate::sizes(&spec.transitions)?;
        let state_names = validate::names(spec.state_names, s_count, validate::STATES)?;
        let action_names = validate::names(spec.action_names, a_count, validate::ACTIONS)?;
        validate::gamma(spec.gamma)?;
        validate::horizon(spec.horizon, s_count, a_count)?;
        let terminal = validate::terminal(spec.terminal, s_count)?;
        let names = Names { states: &state_names, actions: &action_names };
        let rewards = validate::rewards(&spec.rewards, &names)?;
        let transitions = match spec.transitions {
            TransitionSpec::Dense(blocks) => store_dense(validate::dense_transitions(&blocks, &terminal, &names)?),
            TransitionSpec::Sparse(blocks) => {
                Store::sparse_from_rows(validate::sparse_transitions(blocks, &terminal, &names)?.into_iter())
            }
        };
        let initial = validate::initial(spec.initial, s_count)?;
        validate::grid(spec.grid, s_count)?;
        let mdp = TabularMdp {
            name: spec.name,
            state_names,
            action_names,
            gamma: spec.gamma,
            horizon: spec.horizon,
            initial: Array1::from(initial),
            terminal,
            transitions,
            rewards,
            grid: spec.grid,
        };
        mdp.check_termination_if_undiscounted()?;
        Ok(mdp)
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Number of states S.
    pub fn n_states(&self) -> usize {
        self.state_names.len()
    }
    /// Number of actions A.
    pub fn n_actions(&self) -> usize {
        self.action_names.len()
    }
    /// State names.
    pub fn state_names(&self) -> &[String] {
        &self.state_names
    }
    /// Action names.
    pub fn action_names(&self) -> &[String] {
        &self.action_names
    }
    /// Discount γ.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
    /// Horizon T, if finite.
    pub fn horizon(&self) -> Option<usize> {
        self.horizon
    }
    /// Initial distribution ρ (sums to 1).
    pub fn initial(&self) -> &Array1<f64> {
        &self.initial
    }
    /// Terminal flags.
    pub fn terminal(&self) -> &[bool] {
        &self.terminal
    }
    /// Whether state `s` is terminal.
    pub fn is_terminal(&self, s: usize) -> bool {
        self.terminal[s]
    }
    /// The row P(·|s,a), dense or sparse (use [`Row::iter`] for the support).
    ///
    /// # Panics
    /// If `s` or `a` is out of range.
    #[inline]
    pub fn row(&self, s: usize, a: usize) -> Row<'_> {
        assert!(a < self.n_actions(), "action out of range");
        self.transitions.row(s * self.n_actions() + a, self.n_states())
    }
    /// The row P(·|s,a) as S probabilities (borrowed when stored dense, built when sparse).
    ///
    /// # Panics
    /// If `s` or `a` is out of range.
    pub fn transition_row(&self, s: usize, a: usize) -> Cow<'_, [f64]> {
        match self.row(s, a) {
            Row::Dense(p) => Cow::Borrowed(p),
            row @ Row::Sparse { .. } => {
                let mut dense = vec![0.0; self.n_states()];
                for (j, p) in row.iter() {
                    dense[j] = p;
                }
                Cow::Owned(dense)
            }
        }
    }
    /// P(j|s,a).
    pub fn transition(&self, s: usize, a: usize, j: usize) -> f64 {
        self.row(s, a).get(j)
    }
    /// The whole tensor `P[s][a][s']`, shape (S, A, S) (built for a sparse model: S²·A numbers,
    /// so only for small models). Rows of non-terminal states sum to 1.
    pub fn transitions(&self) -> Cow<'_, Array3<f64>> {
        match &self.transitions {
            Store::Dense(p) => Cow::Borrowed(p),
            Store::Sparse(_) => {
                let (s_count, a_count) = (self.n_states(), self.n_actions());
                let mut dense = Array3::zeros((s_count, a_count, s_count));
                for s in 0..s_count {
                    for a in 0..a_count {
                        for (j, p) in self.row(s, a).iter() {
                            dense[[s, a, j]] = p;
                        }
                    }
                }
                Cow::Owned(dense)
            }
        }
    }
    /// All of P as one row-major slice (row s·A + a holds P(·|s,a)), if stored dense.
    pub(crate) fn dense_rows(&self) -> Option<&[f64]> {
        match &self.transitions {
            Store::Dense(p) => p.as_slice(),
            Store::Sparse(_) => None,
        }
    }
    /// The compressed rows of P, if stored sparse.
    pub(crate) fn sparse_rows(&self) -> Option<&crate::transitions::Csr> {
        match &self.transitions {
            Store::Sparse(c) => Some(c),
            Store::Dense(_) => None,
        }
    }
    /// Whether P is stored sparse.
    pub fn is_sparse(&self) -> bool {
        matches!(self.transitions, Store::Sparse(_))
    }
    /// Number of positive entries of P.
    pub fn nonzeros(&self) -> usize {
        self.transitions.nonzeros()
    }
    /// `r[s][a]`, shape (S, A).
    pub fn rewards(&self) -> &Array2<f64> {
        &self.rewards
    }
    /// The grid layout, if the model declares one.
    pub fn grid(&self) -> Option<GridShape> {
        self.grid
    }
    /// The state with all the initial mass, if ρ is a point mass.
    pub fn initial_state(&self) -> Option<usize> {
        self.initial.iter().position(|&p| p >= 1.0 - tolerance::ROW_SUM)
    }
    /// The same model with another horizon (`None`: infinite).
    ///
    /// # Errors
    /// As [`TabularMdp::new`] (horizon 0 or too large; γ = 1 without horizon and a
    /// non-terminating policy).
    pub fn with_horizon(&self, horizon: Option<usize>) -> Result<Self> {
        validate::horizon(horizon, self.n_states(), self.n_actions())?;
        let mdp = TabularMdp { horizon, ..self.clone() };
        mdp.check_termination_if_undiscounted()?;
        Ok(mdp)
    }
    /// The same model with another discount.
    ///
    /// # Errors
    /// As [`TabularMdp::new`]: γ outside (0, 1], or γ = 1 without a horizon while some policy
    /// never terminates.
    ///
    /// # Examples
    /// ```
    /// use riskmdp::{Error, envs::Gridworld};
    /// // The MnM gridworld (γ = 0.9) has no terminal state: with γ = 1 its values would diverge.
    /// let grid = Gridworld::mnm().build()?;
    /// assert_eq!(grid.with_gamma(0.5)?.gamma().to_bits(), 0.5f64.to_bits());
    /// assert!(matches!(grid.with_gamma(1.0), Err(Error::NonTerminating { .. })));
    /// assert!(matches!(grid.with_gamma(1.5), Err(Error::InvalidGamma { .. })));
    /// assert!(grid.with_horizon(Some(5))?.with_gamma(1.0).is_ok()); // a horizon stops every policy
    /// # Ok::<(), Error>(())
    /// ```
    pub fn with_gamma(&self, gamma: f64) -> Result<Self> {
        validate::gamma(gamma)?;
        let mdp = TabularMdp { gamma, ..self.clone() };
        mdp.check_termination_if_undiscounted()?;
        Ok(mdp)
    }
    /// Look a state up by name or index.
    pub fn state_index(&self, key: &str) -> Option<usize> {
        self.state_names.iter().position(|n| n == key).or_else(|| key.parse().ok().filter(|&i| i < self.n_states()))
    }

    /// γ = 1 without a horizon needs every policy to terminate (see `validate`); other models
    /// discount or stop, so every value is finite-horizon or contracted.
    fn check_termination_if_undiscounted(&self) -> Result<()> {
        if self.horizon.is_none() && self.gamma >= 1.0 { self.check_every_policy_terminates() } else { Ok(()) }
    }
}
