//! The transition model P(s'|s,a): dense (an S×A×S tensor) or sparse (compressed rows).
//!
//! Both forms hold one row per (s, a), in the order `s·A + a`. Dense rows are contiguous S
//! probabilities (the fast kernels stream them); sparse rows hold only the next states with
//! positive probability, so that a gridworld of 10⁶ states fits in memory. A model chooses its
//! form from its input: sparse rows in the file or spec give sparse storage, and a large dense
//! input that is mostly zeros is stored sparse too.

use ndarray::Array3;

use crate::logsumexp::log_expect_exp;

/// How a model's transitions are given in code: all S probabilities per row, or the nonzero
/// ones as `(s', p)` pairs.
#[derive(Debug, Clone, PartialEq)]
pub enum TransitionSpec {
    /// `P[s][a][s']`, S numbers per row.
    Dense(Vec<Vec<Vec<f64>>>),
    /// `P[s][a]` = list of `(s', p)`; missing next states have probability 0.
    Sparse(Vec<Vec<Vec<(usize, f64)>>>),
}

impl From<Vec<Vec<Vec<f64>>>> for TransitionSpec {
    fn from(rows: Vec<Vec<Vec<f64>>>) -> Self {
        TransitionSpec::Dense(rows)
    }
}

impl From<Vec<Vec<Vec<(usize, f64)>>>> for TransitionSpec {
    fn from(rows: Vec<Vec<Vec<(usize, f64)>>>) -> Self {
        TransitionSpec::Sparse(rows)
    }
}

/// Compressed sparse rows, one row per (s, a).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Csr {
    pub offsets: Vec<usize>,
    pub next: Vec<u32>,
    pub probs: Vec<f64>,
}

/// The stored form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Store {
    Dense(Array3<f64>),
    Sparse(Csr),
}

/// A read-only view of one row P(·|s,a).
#[derive(Debug, Clone, Copy)]
pub enum Row<'a> {
    /// All S probabilities.
    Dense(&'a [f64]),
    /// Next states with positive probability, and their probabilities.
    Sparse {
        /// Next states, ascending.
        next: &'a [u32],
        /// Their probabilities.
        probs: &'a [f64],
    },
}

impl<'a> Row<'a> {
    /// The next states with positive probability and their probabilities.
    pub fn iter(self) -> impl Iterator<Item = (usize, f64)> + 'a {
        let (dense, next, probs): (&[f64], &[u32], &[f64]) = match self {
            Row::Dense(p) => (p, &[], &[]),
            Row::Sparse { next, probs } => (&[], next, probs),
        };
        dense
            .iter()
            .enumerate()
            .filter(|(_, p)| **p > 0.0)
            .map(|(j, &p)| (j, p))
            .chain(next.iter().zip(probs).map(|(&j, &p)| (j as usize, p)))
    }
    /// P(j|s,a).
    pub fn get(self, j: usize) -> f64 {
        match self {
            Row::Dense(p) => p[j],
            Row::Sparse { next, probs } => next.binary_search(&(j as u32)).map_or(0.0, |k| probs[k]),
        }
    }
    /// `log Σ_{s'} P(s'|s,a)·exp x(s')`, stably over the support (see
    /// [`log_expect_exp`]).
    pub fn log_expect_exp(self, x: &[f64]) -> f64 {
        match self {
            Row::Dense(p) => log_expect_exp(p, x),
            Row::Sparse { next, probs } => {
                let gathered: Vec<f64> = next.iter().map(|&j| x[j as usize]).collect();
                log_expect_exp(probs, &gathered)
            }
        }
    }
}

impl Store {
    pub(crate) fn row(&self, index: usize, s_count: usize) -> Row<'_> {
        match self {
            Store::Dense(p) => {
                let all = p.as_slice().expect("standard layout");
                Row::Dense(&all[index * s_count..(index + 1) * s_count])
            }
            Store::Sparse(c) => {
                let (lo, hi) = (c.offsets[index], c.offsets[index + 1]);
                Row::Sparse { next: &c.next[lo..hi], probs: &c.probs[lo..hi] }
            }
        }
    }
    pub(crate) fn nonzeros(&self) -> usize {
        match self {
            Store::Dense(p) => p.iter().filter(|&&x| x > 0.0).count(),
            Store::Sparse(c) => c.probs.len(),
        }
    }
    /// Sparse rows from (s', p) lists (p > 0, next states ascending), row index s·A + a.
    pub(crate) fn sparse_from_rows(rows: impl Iterator<Item = Vec<(usize, f64)>>) -> Store {
        let mut c = Csr { offsets: vec![0], next: Vec::new(), probs: Vec::new() };
        for row in rows {
            for (j, p) in row {
                if p > 0.0 {
                    c.next.push(j as u32);
                    c.probs.push(p);
                }
            }
            c.offsets.push(c.next.len());
        }
        Store::Sparse(c)
    }
}
