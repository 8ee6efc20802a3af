//! The checks behind [`TabularMdp::new`], one named step per field, in the order `new` runs
//! them: sizes, names, γ, horizon, terminal flags, rewards, transition rows, ρ, grid, and the
//! termination check for γ = 1 without a horizon.
//!
//! Each step returns the checked value (renormalised rows, filled-in names) or the first
//! [`Error`] it finds, naming the field (`transitions[3][1]`), the state and the action. Memory
//! grows only with the input read so far: nothing is allocated from a declared size (S, A)
//! before the entries that fill it have been seen, so a small file cannot ask for S²·A.

use ndarray::{Array2, Array3};

use super::{GridShape, TabularMdp};
use crate::error::{Error, Result};
use crate::tolerance;
use crate::transitions::TransitionSpec;

/// The time-indexed tables of a horizon-T model (Q_t, posterior policies, Markov policies) hold
/// T·S·A numbers each; a horizon beyond this many entries (2 GiB per table) is rejected at
/// construction rather than failing an allocation in the solver.
const MAX_TIME_INDEXED_ENTRIES: usize = 1 << 28;

/// How the states or the actions are named when the spec gives no names.
pub(super) struct NameField {
    field: &'static str,
    prefix: &'static str,
    what: &'static str,
}

/// States: `s0`, `s1`, … by default; one per block of `transitions`.
pub(super) const STATES: NameField =
    NameField { field: "states", prefix: "s", what: "one name per state (rows of `transitions`)" };
/// Actions: `a0`, `a1`, … by default; one per row of `transitions[0]`.
pub(super) const ACTIONS: NameField =
    NameField { field: "actions", prefix: "a", what: "one name per action (entries of `transitions[0]`)" };

/// The names of a model under construction, to say which state and action a bad number is in.
pub(super) struct Names<'a> {
    pub(super) states: &'a [String],
    pub(super) actions: &'a [String],
}

impl Names<'_> {
    /// ` (state `S`, action `left`)`, appended to a field in error messages.
    fn context(&self, s: usize, a: usize) -> String {
        format!(" (state `{}`, action `{}`)", self.states[s], self.actions[a])
    }
    fn n_states(&self) -> usize {
        self.states.len()
    }
    fn n_actions(&self) -> usize {
        self.actions.len()
    }
}

pub(super) fn check_len(field: String, what: &str, expected: usize, found: usize) -> Result<()> {
    if expected == found { Ok(()) } else { Err(Error::Shape { field, what: what.to_string(), expected, found }) }
}

/// S and A, read off `transitions` (its blocks, and the rows of its first block); both ≥ 1.
pub(super) fn sizes(transitions: &TransitionSpec) -> Result<(usize, usize)> {
    let (s_count, a_count) = match transitions {
        TransitionSpec::Dense(t) => (t.len(), t.first().map_or(0, Vec::len)),
        TransitionSpec::Sparse(t) => (t.len(), t.first().map_or(0, Vec::len)),
    };
    if s_count == 0 {
        return Err(Error::Shape { field: "transitions".into(), what: "one per state".into(), expected: 1, found: 0 });
    }
    if a_count == 0 {
        return Err(Error::Shape {
            field: "transitions[0]".into(),
            what: "one per action".into(),
            expected: 1,
            found: 0,
        });
    }
    Ok((s_count, a_count))
}

/// The given names (one per state or action), or the default ones. Names appear in tables and
/// in one-line error messages, so they hold no control characters (no line breaks).
pub(super) fn names(given: Option<Vec<String>>, count: usize, kind: NameField) -> Result<Vec<String>> {
    let names = given.unwrap_or_else(|| (0..count).map(|i| format!("{}{i}", kind.prefix)).collect());
    check_len(kind.field.into(), kind.what, count, names.len())?;
    if let Some(i) = names.iter().position(|n| n.chars().any(char::is_control)) {
        return Err(Error::InvalidParameter {
            name: format!("{}[{i}]", kind.field),
            message: format!("the name {:?} contains a control character", names[i]),
        });
    }
    Ok(names)
}

/// γ ∈ (0, 1] (NaN fails).
pub(super) fn gamma(gamma: f64) -> Result<()> {
    if gamma > 0.0 && gamma <= 1.0 { Ok(()) } else { Err(Error::InvalidGamma { gamma }) }
}

/// A horizon is at least 1, and its time-indexed tables (T·S·A entries) fit in memory.
pub(super) fn horizon(horizon: Option<usize>, s_count: usize, a_count: usize) -> Result<()> {
    let Some(t) = horizon else { return Ok(()) };
    if t == 0 {
        return Err(Error::InvalidParameter { name: "horizon".into(), message: "must be at least 1 (or null)".into() });
    }
    let entries = t.checked_mul(s_count).and_then(|n| n.checked_mul(a_count));
    if entries.is_none_or(|n| n > MAX_TIME_INDEXED_ENTRIES) {
        return Err(Error::InvalidParameter {
            name: "horizon".into(),
            message: format!(
                "{t} steps × {s_count} states × {a_count} actions exceed {MAX_TIME_INDEXED_ENTRIES} time-indexed \
                 values; use a smaller horizon, or none with gamma < 1"
            ),
        });
    }
    Ok(())
}

/// One terminal flag per state (default: none terminal).
pub(super) fn terminal(terminal: Option<Vec<bool>>, s_count: usize) -> Result<Vec<bool>> {
    let terminal = terminal.unwrap_or_else(|| vec![false; s_count]);
    check_len("terminal".into(), "one flag per state", s_count, terminal.len())?;
    Ok(terminal)
}

/// `r[s][a]`: S rows of A finite numbers.
pub(super) fn rewards(rows: &[Vec<f64>], names: &Names<'_>) -> Result<Array2<f64>> {
    let (s_count, a_count) = (names.n_states(), names.n_actions());
    check_len("rewards".into(), "one row per state", s_count, rows.len())?;
    let mut entries = Vec::new();
    for (s, row) in rows.iter().enumerate() {
        check_len(format!("rewards[{s}]"), "one reward per action", a_count, row.len())?;
        for (a, &r) in row.iter().enumerate() {
            if !r.is_finite() {
                return Err(Error::NotFinite {
                    field: format!("rewards[{s}][{a}]"),
                    context: names.context(s, a),
                    value: r,
                });
            }
        }
        entries.extend_from_slice(row);
    }
    // S rows of A entries each were checked above, so the shape matches.
    Ok(Array2::from_shape_vec((s_count, a_count), entries).expect("S rows of A entries"))
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

/// Dense `P[s][a][s']`: S blocks of A rows of S probabilities, each row checked by
/// [`check_row`]. The tensor is filled row by row as the rows pass, so a file that declares
/// many states but holds short rows fails on its first short row without allocating S²·A.
pub(super) fn dense_transitions(blocks: &[Vec<Vec<f64>>], terminal: &[bool], names: &Names<'_>) -> Result<Array3<f64>> {
    let (s_count, a_count) = (names.n_states(), names.n_actions());
    let mut entries = Vec::new();
    for (s, block) in blocks.iter().enumerate() {
        check_len(format!("transitions[{s}]"), "one row per action", a_count, block.len())?;
        for (a, row) in block.iter().enumerate() {
            let field = format!("transitions[{s}][{a}]");
            check_len(field.clone(), "one probability per next state", s_count, row.len())?;
            entries.extend(check_row(row, terminal[s], &field, &names.context(s, a))?);
        }
    }
    // S·A rows of S entries each were checked above, so the shape matches.
    Ok(Array3::from_shape_vec((s_count, a_count, s_count), entries).expect("S·A rows of S entries"))
}

/// Sparse `P[s][a]` as `(s', p)` lists: every next state exists and appears once, and the
/// probabilities pass [`check_row`]. Returns the rows in the order `s·A + a`, next states
/// ascending.
pub(super) fn sparse_transitions(
    blocks: Vec<Vec<Vec<(usize, f64)>>>,
    terminal: &[bool],
    names: &Names<'_>,
) -> Result<Vec<Vec<(usize, f64)>>> {
    let (s_count, a_count) = (names.n_states(), names.n_actions());
    let mut rows = Vec::new();
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
                        names.context(s, a)
                    ),
                });
            }
            if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(Error::InvalidParameter {
                    name: field,
                    message: format!("next state {} is listed twice{}", w[0].0, names.context(s, a)),
                });
            }
            let probs: Vec<f64> = pairs.iter().map(|&(_, p)| p).collect();
            let probs = check_row(&probs, terminal[s], &field, &names.context(s, a))?;
            rows.push(pairs.iter().map(|&(j, _)| j).zip(probs).collect());
        }
    }
    Ok(rows)
}

/// ρ: S probabilities summing to 1 (default: all mass on state 0).
pub(super) fn initial(initial: Option<Vec<f64>>, s_count: usize) -> Result<Vec<f64>> {
    match initial {
        None => {
            let mut v = vec![0.0; s_count];
            v[0] = 1.0;
            Ok(v)
        }
        Some(v) => {
            check_len("initial".into(), "one probability per state", s_count, v.len())?;
            check_distribution(&v, "initial", "")
        }
    }
}

/// A grid has at least one row and one column, and its cells are states.
pub(super) fn grid(grid: Option<GridShape>, s_count: usize) -> Result<()> {
    match grid {
        Some(g) if g.rows == 0 || g.cols == 0 || g.rows.saturating_mul(g.cols) > s_count => {
            Err(Error::InvalidParameter {
                name: "grid".into(),
                message: format!("{}×{} cells do not fit in {s_count} states", g.rows, g.cols),
            })
        }
        _ => Ok(()),
    }
}

impl TabularMdp {
    /// The greatest set X of non-terminal states in which some action of every member keeps
    /// all its mass inside X: exactly the states from which some policy never terminates.
    /// Computed by peeling: a state leaves X once every action can reach a state outside X
    /// (O(nonzeros) with reverse adjacency).
    pub(super) fn check_every_policy_terminates(&self) -> Result<()> {
        let (s_count, a_count) = (self.n_states(), self.n_actions());
        // u32 halves the memory of the reverse adjacency; S·A < 2³² for any model that fits
        // in memory (its rewards alone hold S·A numbers).
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
}
