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
//! and return an [`Error`] naming field, state and action. Accepted probability rows are
//! renormalised to sum to 1 to rounding, which the log-sum-exp kernels rely on.

use std::borrow::Cow;
use std::path::Path;

use ndarray::{Array1, Array2, Array3};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::tolerance;
use crate::transitions::{Row, RowJson, Store, TransitionSpec};

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

/// The JSON file form (see the README's "File format").
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MdpFile {
    #[serde(default)]
    name: Option<String>,
    states: Value,
    actions: Value,
    gamma: f64,
    #[serde(default)]
    horizon: Option<usize>,
    #[serde(default)]
    initial: Option<Vec<f64>>,
    #[serde(default)]
    terminal: Option<Vec<bool>>,
    transitions: Vec<Vec<RowJson>>,
    rewards: Vec<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    grid: Option<GridShape>,
}

fn names_from(value: &Value, field: &str) -> Result<(usize, Option<Vec<String>>)> {
    let bad = || Error::Json {
        path: field.to_string(),
        message: format!("`{field}` must be a positive count or a list of distinct names"),
    };
    match value {
        Value::Number(n) => {
            let n = n.as_u64().filter(|&n| n > 0).ok_or_else(bad)?;
            let n = usize::try_from(n).map_err(|_| bad())?;
            Ok((n, None))
        }
        Value::Array(items) if !items.is_empty() => {
            let names =
                items.iter().map(|v| v.as_str().map(str::to_string).ok_or_else(bad)).collect::<Result<Vec<_>>>()?;
            let mut sorted = names.clone();
            sorted.sort();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(Error::Json {
                    path: field.to_string(),
                    message: format!("`{field}`: the name `{}` appears twice", w[0]),
                });
            }
            Ok((names.len(), Some(names)))
        }
        _ => Err(bad()),
    }
}

fn default_names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn check_len(field: String, what: &str, expected: usize, found: usize) -> Result<()> {
    if expected == found { Ok(()) } else { Err(Error::Shape { field, what: what.to_string(), expected, found }) }
}

/// Check a probability row and return it renormalised to sum 1.
pub(crate) fn check_distribution(row: &[f64], field: &str, context: &str) -> Result<Vec<f64>> {
    for (j, &p) in row.iter().enumerate() {
        if !p.is_finite() {
            return Err(Error::NotFinite { field: format!("{field}[{j}]"), context: context.into(), value: p });
        }
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::ProbabilityOutOfRange {
                field: format!("{field}[{j}]"),
                context: context.into(),
                value: p,
            });
        }
    }
    let sum: f64 = row.iter().sum();
    if (sum - 1.0).abs() > tolerance::ROW_SUM {
        return Err(Error::NotADistribution {
            field: field.to_string(),
            context: context.into(),
            sum,
            tolerance: tolerance::ROW_SUM,
        });
    }
    Ok(row.iter().map(|p| p / sum).collect())
}

/// A dense input with at least this many states and less than this fill is stored sparse.
const SPARSE_MIN_STATES: usize = 512;
const SPARSE_MAX_FILL: f64 = 0.05;

/// Check one transition row: a distribution for a non-terminal state; for a terminal state
/// (whose row is ignored) only numbers in [0, 1].
fn check_row(row: &[f64], terminal: bool, field: &str, context: &str) -> Result<Vec<f64>> {
    if !terminal {
        return check_distribution(row, field, context);
    }
    for (j, &p) in row.iter().enumerate() {
        if !p.is_finite() || !(0.0..=1.0).contains(&p) {
            return Err(Error::ProbabilityOutOfRange {
                field: format!("{field}[{j}]"),
                context: context.into(),
                value: p,
            });
        }
    }
    Ok(row.to_vec())
}

impl TabularMdp {
    /// Build and validate a model.
    ///
    /// # Errors
    /// [`Error::Shape`], [`Error::NotFinite`], [`Error::ProbabilityOutOfRange`],
    /// [`Error::NotADistribution`] (rows of non-terminal states and ρ must sum to 1 within
    /// [`tolerance::ROW_SUM`]), [`Error::InvalidGamma`], [`Error::InvalidParameter`] (horizon 0,
    /// grid larger than the state space) and [`Error::NonTerminating`] (γ = 1 without a horizon
    /// while some policy can avoid every terminal state forever).
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
        let (s_count, a_count) = match &spec.transitions {
            TransitionSpec::Dense(t) => (t.len(), t.first().map_or(0, Vec::len)),
            TransitionSpec::Sparse(t) => (t.len(), t.first().map_or(0, Vec::len)),
        };
        if s_count == 0 {
            return Err(Error::Shape {
                field: "transitions".into(),
                what: "one per state".into(),
                expected: 1,
                found: 0,
            });
        }
        if a_count == 0 {
            return Err(Error::Shape {
                field: "transitions[0]".into(),
                what: "one per action".into(),
                expected: 1,
                found: 0,
            });
        }
        let state_names = spec.state_names.unwrap_or_else(|| default_names("s", s_count));
        let action_names = spec.action_names.unwrap_or_else(|| default_names("a", a_count));
        check_len("states".into(), "one name per state (rows of `transitions`)", s_count, state_names.len())?;
        check_len("actions".into(), "one name per action (entries of `transitions[0]`)", a_count, action_names.len())?;
        if !(spec.gamma > 0.0 && spec.gamma <= 1.0) {
            return Err(Error::InvalidGamma { gamma: spec.gamma });
        }
        if spec.horizon == Some(0) {
            return Err(Error::InvalidParameter {
                name: "horizon".into(),
                message: "must be at least 1 (or null)".into(),
            });
        }
        let terminal = spec.terminal.unwrap_or_else(|| vec![false; s_count]);
        check_len("terminal".into(), "one flag per state", s_count, terminal.len())?;
        let ctx = |s: usize, a: usize| format!(" (state `{}`, action `{}`)", state_names[s], action_names[a]);

        check_len("rewards".into(), "one row per state", s_count, spec.rewards.len())?;
        let mut rewards = Array2::zeros((s_count, a_count));
        for (s, row) in spec.rewards.iter().enumerate() {
            check_len(format!("rewards[{s}]"), "one reward per action", a_count, row.len())?;
            for (a, &r) in row.iter().enumerate() {
                if !r.is_finite() {
                    return Err(Error::NotFinite { field: format!("rewards[{s}][{a}]"), context: ctx(s, a), value: r });
                }
                rewards[[s, a]] = r;
            }
        }

        let transitions = match spec.transitions {
            TransitionSpec::Dense(blocks) => {
                let mut dense = Array3::zeros((s_count, a_count, s_count));
                for (s, block) in blocks.iter().enumerate() {
                    check_len(format!("transitions[{s}]"), "one row per action", a_count, block.len())?;
                    for (a, row) in block.iter().enumerate() {
                        let field = format!("transitions[{s}][{a}]");
                        check_len(field.clone(), "one probability per next state", s_count, row.len())?;
                        let row = check_row(row, terminal[s], &field, &ctx(s, a))?;
                        for (j, p) in row.into_iter().enumerate() {
                            dense[[s, a, j]] = p;
                        }
                    }
                }
                let nonzeros = dense.iter().filter(|&&p| p > 0.0).count();
                if s_count >= SPARSE_MIN_STATES && (nonzeros as f64) < SPARSE_MAX_FILL * dense.len() as f64 {
                    Store::sparse_from_rows(dense.outer_iter().flat_map(|block| {
                        block.outer_iter().map(|row| row.iter().copied().enumerate().collect()).collect::<Vec<_>>()
                    }))
                } else {
                    Store::Dense(dense)
                }
            }
            TransitionSpec::Sparse(blocks) => {
                let mut rows = Vec::with_capacity(s_count * a_count);
                for (s, block) in blocks.into_iter().enumerate() {
                    check_len(format!("transitions[{s}]"), "one row per action", a_count, block.len())?;
                    for (a, mut pairs) in block.into_iter().enumerate() {
                        let field = format!("transitions[{s}][{a}]");
                        pairs.sort_by_key(|&(j, _)| j);
                        if let Some(k) = pairs.iter().position(|&(j, _)| j >= s_count) {
                            return Err(Error::InvalidParameter {
                                name: format!("{field}[{k}]"),
                                message: format!(
                                    "next state {} does not exist (there are {s_count}){}",
                                    pairs[k].0,
                                    ctx(s, a)
                                ),
                            });
                        }
                        if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
                            return Err(Error::InvalidParameter {
                                name: field,
                                message: format!("next state {} is listed twice{}", w[0].0, ctx(s, a)),
                            });
                        }
                        let probs: Vec<f64> = pairs.iter().map(|&(_, p)| p).collect();
                        let probs = check_row(&probs, terminal[s], &field, &ctx(s, a))?;
                        rows.push(pairs.iter().map(|&(j, _)| j).zip(probs).collect::<Vec<_>>());
                    }
                }
                Store::sparse_from_rows(rows.into_iter())
            }
        };

        let initial = match spec.initial {
            None => {
                let mut v = vec![0.0; s_count];
                v[0] = 1.0;
                v
            }
            Some(v) => {
                check_len("initial".into(), "one probability per state", s_count, v.len())?;
                check_distribution(&v, "initial", "")?
            }
        };
        if let Some(g) = spec.grid
            && (g.rows == 0 || g.cols == 0 || g.rows.saturating_mul(g.cols) > s_count)
        {
            return Err(Error::InvalidParameter {
                name: "grid".into(),
                message: format!("{}×{} cells do not fit in {s_count} states", g.rows, g.cols),
            });
        }

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
        if mdp.horizon.is_none() && mdp.gamma >= 1.0 {
            mdp.check_every_policy_terminates()?;
        }
        Ok(mdp)
    }

    /// The greatest set X of non-terminal states in which some action of every member keeps
    /// all its mass inside X: exactly the states from which some policy never terminates.
    /// Computed by peeling: a state leaves X once every action can reach a state outside X
    /// (O(nonzeros) with reverse adjacency).
    fn check_every_policy_terminates(&self) -> Result<()> {
        let (s_count, a_count) = (self.n_states(), self.n_actions());
        let mut predecessors: Vec<Vec<u32>> = vec![Vec::new(); s_count];
        for s in (0..s_count).filter(|&s| !self.terminal[s]) {
            for a in 0..a_count {
                for (j, _) in self.row(s, a).iter() {
                    predecessors[j].push((s * a_count + a) as u32);
                }
            }
        }
        let mut inside: Vec<bool> = self.terminal.iter().map(|t| !t).collect();
        let mut leaves = vec![false; s_count * a_count];
        let mut staying: Vec<usize> = vec![a_count; s_count];
        let mut queue: Vec<usize> = (0..s_count).filter(|&s| self.terminal[s]).collect();
        while let Some(j) = queue.pop() {
            for &pair in &predecessors[j] {
                let pair = pair as usize;
                if leaves[pair] {
                    continue;
                }
                leaves[pair] = true;
                let s = pair / a_count;
                staying[s] -= 1;
                if staying[s] == 0 && inside[s] {
                    inside[s] = false;
                    queue.push(s);
                }
            }
        }
        let closed = inside.iter().filter(|&&x| x).count();
        if let Some(s) = inside.iter().position(|&x| x) {
            let a = (0..a_count).find(|&a| !leaves[s * a_count + a]).unwrap_or(0);
            return Err(Error::NonTerminating {
                state: self.state_names[s].clone(),
                action: self.action_names[a].clone(),
                closed,
            });
        }
        Ok(())
    }

    /// Parse a model from the JSON file format.
    ///
    /// # Errors
    /// [`Error::Json`] for malformed JSON or unknown fields (with line and column), and every
    /// error of [`TabularMdp::new`].
    pub fn from_json_str(text: &str, path: &str) -> Result<Self> {
        let file: MdpFile = serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            let message = if message.contains("expected struct MdpFile") {
                "an MDP file must be a JSON object with the fields states, actions, gamma, transitions and rewards"
                    .to_string()
            } else if message.contains("untagged enum RowJson") {
                message.replace(
                    "data did not match any variant of untagged enum RowJson",
                    "each row of `transitions` must be a list of S probabilities or a list of [next state, probability] pairs",
                )
            } else {
                message
            };
            Error::Json { path: path.to_string(), message }
        })?;
        let (s_count, state_names) = names_from(&file.states, "states")?;
        let (a_count, action_names) = names_from(&file.actions, "actions")?;
        check_len("transitions".into(), "one block per state", s_count, file.transitions.len())?;
        if let Some(block) = file.transitions.first() {
            check_len("transitions[0]".into(), "one row per action", a_count, block.len())?;
        }
        Self::new(MdpSpec {
            name: file.name.unwrap_or_else(|| {
                Path::new(path).file_stem().map_or_else(|| "mdp".into(), |s| s.to_string_lossy().into_owned())
            }),
            state_names,
            action_names,
            gamma: file.gamma,
            horizon: file.horizon,
            initial: file.initial,
            terminal: file.terminal,
            transitions: if file.transitions.iter().flatten().all(|r| matches!(r, RowJson::Dense(_))) {
                TransitionSpec::Dense(
                    file.transitions
                        .into_iter()
                        .map(|block| {
                            block.into_iter().map(|r| if let RowJson::Dense(p) = r { p } else { Vec::new() }).collect()
                        })
                        .collect(),
                )
            } else {
                TransitionSpec::Sparse(
                    file.transitions
                        .into_iter()
                        .map(|block| {
                            block
                                .into_iter()
                                .map(|r| match r {
                                    RowJson::Sparse(pairs) => pairs,
                                    RowJson::Dense(p) => p.into_iter().enumerate().filter(|(_, p)| *p != 0.0).collect(),
                                })
                                .collect()
                        })
                        .collect(),
                )
            },
            rewards: file.rewards,
            grid: file.grid,
        })
    }

    /// Load a model from a JSON file.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read, and those of [`TabularMdp::from_json_str`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: shown.clone(), source })?;
        Self::from_json_str(&text, &shown)
    }

    /// The model in the JSON file format (pretty-printed).
    pub fn to_json_string(&self) -> String {
        let file = MdpFile {
            name: Some(self.name.clone()),
            states: Value::from(self.state_names.clone()),
            actions: Value::from(self.action_names.clone()),
            gamma: self.gamma,
            horizon: self.horizon,
            initial: Some(self.initial.to_vec()),
            terminal: Some(self.terminal.clone()),
            transitions: (0..self.n_states())
                .map(|s| {
                    (0..self.n_actions())
                        .map(|a| match self.row(s, a) {
                            Row::Dense(p) => RowJson::Dense(p.to_vec()),
                            row @ Row::Sparse { .. } => RowJson::Sparse(row.iter().collect()),
                        })
                        .collect()
                })
                .collect(),
            rewards: self.rewards.outer_iter().map(|row| row.to_vec()).collect(),
            grid: self.grid,
        };
        // Serialising plain numbers, strings and vectors cannot fail.
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    /// Write the model as JSON, atomically (a temporary file renamed into place).
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::write_atomic(path.as_ref(), self.to_json_string().as_bytes())
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
    /// As [`TabularMdp::new`] (horizon 0; γ = 1 without horizon and a non-terminating policy).
    pub fn with_horizon(&self, horizon: Option<usize>) -> Result<Self> {
        if horizon == Some(0) {
            return Err(Error::InvalidParameter {
                name: "horizon".into(),
                message: "must be at least 1 (or null)".into(),
            });
        }
        let mdp = TabularMdp { horizon, ..self.clone() };
        if mdp.horizon.is_none() && mdp.gamma >= 1.0 {
            mdp.check_every_policy_terminates()?;
        }
        Ok(mdp)
    }
    /// The same model with another discount.
    ///
    /// # Errors
    /// As [`TabularMdp::new`].
    pub fn with_gamma(&self, gamma: f64) -> Result<Self> {
        if !(gamma > 0.0 && gamma <= 1.0) {
            return Err(Error::InvalidGamma { gamma });
        }
        let mdp = TabularMdp { gamma, ..self.clone() };
        if mdp.horizon.is_none() && mdp.gamma >= 1.0 {
            mdp.check_every_policy_terminates()?;
        }
        Ok(mdp)
    }
    /// Look a state up by name or index.
    pub fn state_index(&self, key: &str) -> Option<usize> {
        self.state_names.iter().position(|n| n == key).or_else(|| key.parse().ok().filter(|&i| i < self.n_states()))
    }
}
