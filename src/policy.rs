//! Policies: stationary π(a|s) or, with a horizon, time-dependent π_t(a|s).
//!
//! A policy is the prior π of the paper: it weighs the actions in the soft value (Eq. 2),
//! `V_π(s) = log Σ_a π(a|s)·exp Q(s,a)`, and is what the posterior policy
//! `q(a|s) ∝ π(a|s)·exp Q(s,a)` tilts. Every row of a non-terminal state is checked to be a
//! probability vector when the policy is built; solvers trust it afterwards.

use ndarray::{Array2, Array3, ArrayView2};

use crate::error::{Error, Result};
use crate::mdp::{TabularMdp, check_distribution};

/// A validated policy. Rows of terminal states are ignored (stored as uniform).
#[derive(Debug, Clone, PartialEq)]
pub enum Policy {
    /// π(a|s), shape (S, A), used at every step.
    Stationary(Array2<f64>),
    /// π_t(a|s), shape (T, S, A); only for models with horizon T.
    Markov(Array3<f64>),
}

fn checked_rows(mdp: &TabularMdp, probs: ArrayView2<f64>, field: &str) -> Result<Array2<f64>> {
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    if probs.nrows() != s_count {
        return Err(Error::Shape {
            field: field.into(),
            what: "one row per state".into(),
            expected: s_count,
            found: probs.nrows(),
        });
    }
    if probs.ncols() != a_count {
        return Err(Error::Shape {
            field: format!("{field}[0]"),
            what: "one probability per action".into(),
            expected: a_count,
            found: probs.ncols(),
        });
    }
    let mut out = Array2::from_elem((s_count, a_count), 1.0 / a_count as f64);
    for s in 0..s_count {
        if mdp.is_terminal(s) {
            continue;
        }
        let row = probs.row(s).to_vec();
        let ctx = format!(" (state `{}`)", mdp.state_names()[s]);
        let row = check_distribution(&row, &format!("{field}[{s}]"), &ctx)?;
        for (a, p) in row.into_iter().enumerate() {
            out[[s, a]] = p;
        }
    }
    Ok(out)
}

impl Policy {
    /// A stationary policy from an S×A array of probabilities.
    ///
    /// # Errors
    /// Shape errors, and non-finite, out-of-range or non-normalised rows of non-terminal states.
    ///
    /// # Examples
    /// ```
    /// use ndarray::Array2;
    /// use riskmdp::{Error, Policy, envs::risky_arm};
    /// let mdp = risky_arm();
    /// let mut probs = Array2::from_elem((6, 2), 0.5);
    /// probs[[0, 0]] = 0.25;
    /// probs[[0, 1]] = 0.75;
    /// assert!(Policy::stationary(&mdp, probs.clone()).is_ok());
    /// probs[[0, 1]] = 0.7; // S's row sums to 0.95
    /// assert!(matches!(Policy::stationary(&mdp, probs), Err(Error::NotADistribution { .. })));
    /// ```
    pub fn stationary(mdp: &TabularMdp, probs: Array2<f64>) -> Result<Self> {
        Ok(Policy::Stationary(checked_rows(mdp, probs.view(), "policy")?))
    }

    /// A time-dependent policy from a T×S×A array; T must equal the model's horizon.
    ///
    /// # Errors
    /// [`Error::Unsupported`] if the model has no horizon, shape and row errors otherwise.
    ///
    /// # Examples
    /// Gamble at the first step, play safe after (the risky arm has only one decision at S, so
    /// only t = 0 matters there).
    /// ```
    /// use ndarray::Array3;
    /// use riskmdp::{Error, Policy, envs::risky_arm};
    /// let mdp = risky_arm().with_horizon(Some(2))?;
    /// let mut probs = Array3::zeros((2, 6, 2));
    /// probs.slice_mut(ndarray::s![0, .., 1]).fill(1.0); // t = 0: right
    /// probs.slice_mut(ndarray::s![1, .., 0]).fill(1.0); // t = 1: left
    /// let policy = Policy::markov(&mdp, probs.clone())?;
    /// assert_eq!(policy.at(0)[[0, 1]], 1.0);
    /// assert!(matches!(Policy::markov(&risky_arm(), probs), Err(Error::Unsupported { .. })));
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn markov(mdp: &TabularMdp, probs: Array3<f64>) -> Result<Self> {
        let Some(horizon) = mdp.horizon() else {
            return Err(Error::Unsupported {
                what: "policy: a time-dependent (T×S×A) policy needs a model with a horizon".into(),
            });
        };
        if probs.shape()[0] != horizon {
            return Err(Error::Shape {
                field: "policy".into(),
                what: "one S×A block per time step".into(),
                expected: horizon,
                found: probs.shape()[0],
            });
        }
        let mut out = Array3::zeros((horizon, mdp.n_states(), mdp.n_actions()));
        for t in 0..horizon {
            let block = checked_rows(mdp, probs.index_axis(ndarray::Axis(0), t), &format!("policy[{t}]"))?;
            out.index_axis_mut(ndarray::Axis(0), t).assign(&block);
        }
        Ok(Policy::Markov(out))
    }

    /// The uniform random policy, π(a|s) = 1/A.
    ///
    /// # Examples
    /// ```
    /// use riskmdp::{Policy, envs::risky_arm};
    /// let policy = Policy::uniform(&risky_arm());
    /// assert!(policy.at(0).iter().all(|&p| (p - 0.5).abs() < 1e-15));
    /// ```
    pub fn uniform(mdp: &TabularMdp) -> Self {
        Policy::Stationary(Array2::from_elem((mdp.n_states(), mdp.n_actions()), 1.0 / mdp.n_actions() as f64))
    }

    /// The deterministic stationary policy taking `actions[s]` in state `s`.
    ///
    /// # Errors
    /// [`Error::Shape`] or [`Error::InvalidParameter`] for a wrong length or action index.
    ///
    /// # Examples
    /// ```
    /// use riskmdp::{Error, Policy, envs::risky_arm};
    /// let mdp = risky_arm();
    /// let gamble = Policy::deterministic(&mdp, &[1; 6])?;
    /// assert_eq!(gamble.at(0)[[0, 1]], 1.0);
    /// assert!(matches!(Policy::deterministic(&mdp, &[2; 6]), Err(Error::InvalidParameter { .. })));
    /// assert!(matches!(Policy::deterministic(&mdp, &[1; 5]), Err(Error::Shape { .. })));
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn deterministic(mdp: &TabularMdp, actions: &[usize]) -> Result<Self> {
        if actions.len() != mdp.n_states() {
            return Err(Error::Shape {
                field: "policy".into(),
                what: "one action per state".into(),
                expected: mdp.n_states(),
                found: actions.len(),
            });
        }
        let mut probs = Array2::zeros((mdp.n_states(), mdp.n_actions()));
        for (s, &a) in actions.iter().enumerate() {
            if a >= mdp.n_actions() {
                return Err(Error::InvalidParameter {
                    name: format!("policy[{s}]"),
                    message: format!("action {a} does not exist (there are {})", mdp.n_actions()),
                });
            }
            probs[[s, a]] = 1.0;
        }
        Policy::stationary(mdp, probs)
    }

    /// Parse a policy from JSON: an S×A array, or T×S×A for a model with a horizon.
    ///
    /// # Errors
    /// [`Error::Json`] if the text is not a 2- or 3-dimensional array of numbers; the errors of
    /// [`Policy::stationary`] and [`Policy::markov`] otherwise.
    ///
    /// # Examples
    /// ```
    /// use riskmdp::{Error, Policy, envs::risky_arm};
    /// let mdp = risky_arm();
    /// let text = "[[0.5, 0.5], [1, 0], [1, 0], [1, 0], [1, 0], [1, 0]]";
    /// let policy = Policy::from_json_str(&mdp, text, "policy.json")?;
    /// assert_eq!(policy.at(0)[[0, 1]], 0.5);
    /// let err = Policy::from_json_str(&mdp, "[1, 2]", "policy.json");
    /// assert!(matches!(err, Err(Error::Json { .. })));
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn from_json_str(mdp: &TabularMdp, text: &str, path: &str) -> Result<Self> {
        let json = |message: String| Error::Json { path: path.to_string(), message };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| json(e.to_string()))?;
        if let Ok(rows) = serde_json::from_value::<Vec<Vec<f64>>>(value.clone()) {
            let probs = to_array2(&rows, "policy")?;
            return Policy::stationary(mdp, probs);
        }
        if let Ok(blocks) = serde_json::from_value::<Vec<Vec<Vec<f64>>>>(value) {
            if mdp.horizon().is_none() {
                return Err(Error::Unsupported {
                    what: "policy: a time-dependent (T×S×A) policy needs a model with a horizon".into(),
                });
            }
            let mut arr = Array3::zeros((blocks.len(), mdp.n_states(), mdp.n_actions()));
            for (t, rows) in blocks.iter().enumerate() {
                let block = to_array2(rows, &format!("policy[{t}]"))?;
                if block.dim() != (mdp.n_states(), mdp.n_actions()) {
                    // Let checked_rows produce the precise shape message.
                    checked_rows(mdp, block.view(), &format!("policy[{t}]"))?;
                }
                arr.index_axis_mut(ndarray::Axis(0), t).assign(&block);
            }
            return Policy::markov(mdp, arr);
        }
        Err(json("a policy must be an S×A array of probabilities, or T×S×A with a horizon".into()))
    }

    /// Load a policy file (see [`Policy::from_json_str`]).
    ///
    /// # Errors
    /// [`Error::Io`] and the errors of [`Policy::from_json_str`].
    ///
    /// # Examples
    /// ```
    /// use riskmdp::{Error, Policy, envs::risky_arm};
    /// let mdp = risky_arm();
    /// let path = std::env::temp_dir().join(format!("riskmdp-policy-doc-{}.json", std::process::id()));
    /// std::fs::write(&path, "[[0, 1], [1, 0], [1, 0], [1, 0], [1, 0], [1, 0]]").map_err(|e| Error::Io {
    ///     path: path.display().to_string(),
    ///     source: e,
    /// })?;
    /// let policy = Policy::load(&mdp, &path)?;
    /// assert_eq!(policy, Policy::deterministic(&mdp, &[1, 0, 0, 0, 0, 0])?);
    /// let _ = std::fs::remove_file(&path);
    /// assert!(matches!(Policy::load(&mdp, &path), Err(Error::Io { .. })));
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn load(mdp: &TabularMdp, path: impl AsRef<std::path::Path>) -> Result<Self> {
        let shown = path.as_ref().display().to_string();
        let text =
            std::fs::read_to_string(path.as_ref()).map_err(|source| Error::Io { path: shown.clone(), source })?;
        Policy::from_json_str(mdp, &text, &shown)
    }

    /// π(a|s) of a stationary policy, for `function` on a model without a horizon (whose
    /// finite-horizon twin is `twin`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] if the model has a horizon or the policy is time-dependent.
    pub(crate) fn stationary_probs(&self, mdp: &TabularMdp, function: &str, twin: &str) -> Result<&Array2<f64>> {
        if mdp.horizon().is_some() {
            return Err(Error::Unsupported { what: format!("{function}: the model has a horizon; use {twin}") });
        }
        match self {
            Policy::Stationary(pi) => Ok(pi),
            Policy::Markov(_) => {
                Err(Error::Unsupported { what: "policy: a time-dependent policy needs a model with a horizon".into() })
            }
        }
    }

    /// π_t(·|·) as an S×A view (the same for every t if stationary).
    ///
    /// # Panics
    /// If `t` is not below the horizon of a time-dependent policy.
    ///
    /// # Examples
    /// ```
    /// use riskmdp::{Policy, envs::risky_arm};
    /// let policy = Policy::uniform(&risky_arm());
    /// assert_eq!(policy.at(0), policy.at(99)); // stationary: every t alike
    /// assert_eq!(policy.at(0).dim(), (6, 2));
    /// ```
    pub fn at(&self, t: usize) -> ArrayView2<'_, f64> {
        match self {
            Policy::Stationary(p) => p.view(),
            Policy::Markov(p) => p.index_axis(ndarray::Axis(0), t),
        }
    }
}

fn to_array2(rows: &[Vec<f64>], field: &str) -> Result<Array2<f64>> {
    let cols = rows.first().map_or(0, Vec::len);
    let mut arr = Array2::zeros((rows.len(), cols));
    for (s, row) in rows.iter().enumerate() {
        if row.len() != cols {
            return Err(Error::Shape {
                field: format!("{field}[{s}]"),
                what: "one probability per action".into(),
                expected: cols,
                found: row.len(),
            });
        }
        for (a, &p) in row.iter().enumerate() {
            arr[[s, a]] = p;
        }
    }
    Ok(arr)
}

/// The greedy path: from `start`, repeatedly take the greedy action and move to its most likely
/// next state (the lowest index on ties), until a terminal state, a state outside the grid's
/// cells, a state already on the path, or `max_len` states.
///
/// # Panics
/// If `greedy` has fewer than S entries or `start` is not a state.
pub fn greedy_path(mdp: &TabularMdp, greedy: &[usize], start: usize, max_len: usize) -> Vec<usize> {
    let cells = mdp.grid().map_or(mdp.n_states(), |g| g.rows * g.cols);
    let mut path = vec![start];
    let mut s = start;
    while path.len() < max_len && !mdp.is_terminal(s) {
        let row = mdp.transition_row(s, greedy[s]);
        let next = (0..row.len()).fold(0, |best, j| if row[j] > row[best] { j } else { best });
        if next >= cells || path.contains(&next) {
            break;
        }
        path.push(next);
        s = next;
    }
    path
}

/// Tests added for mutants that `cargo mutants` found alive (docs/mutation-testing.md); each
/// names the mutant it kills.
#[cfg(test)]
mod mutation_tests {
    use super::*;
    use crate::envs::risky_arm;

    /// Kills `1.0 / a_count` → `1.0 % a_count` or `1.0 * a_count` in `checked_rows`: a
    /// terminal state's row is not read from the input but stored as uniform, 1/A = 1/2 on
    /// the risky arm (states 3, 4, 5 are terminal), whatever the input holds there.
    #[test]
    fn terminal_rows_are_stored_uniform() {
        let mdp = risky_arm();
        let mut probs = Array2::from_elem((6, 2), 0.5);
        for s in 3..6 {
            probs[[s, 0]] = 7.0; // not a probability: ignored for a terminal state
            probs[[s, 1]] = -1.0;
        }
        let policy = Policy::stationary(&mdp, probs).expect("non-terminal rows are valid");
        for s in 3..6 {
            for a in 0..2 {
                assert!((policy.at(0)[[s, a]] - 0.5).abs() < 1e-15, "π({a}|{s}) = {}", policy.at(0)[[s, a]]);
            }
        }
    }

    /// Kills `block.dim() != …` → `==` in `from_json_str`: a T×S×A file whose block has one
    /// row instead of S must be a shape error, not a panic in `assign`.
    #[test]
    fn time_dependent_json_with_a_short_block_is_a_shape_error() {
        let mdp = risky_arm().with_horizon(Some(2)).expect("T = 2 is valid");
        let text = "[[[0.5, 0.5]], [[0.5, 0.5]]]";
        let err = Policy::from_json_str(&mdp, text, "policy.json");
        assert!(matches!(err, Err(Error::Shape { expected: 6, found: 1, .. })), "{err:?}");
    }
}
