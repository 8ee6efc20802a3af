//! `riskmdp bench`: the exact sweep against the memory-bandwidth floor.

use crate::bench::{BenchReport, random_dense, run};
use crate::envs::Gridworld;
use crate::error::Result;
use crate::risk::Beta;
use crate::solve::SolveOptions;

/// The model `riskmdp bench` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchModel {
    /// A dense random model with this many states and actions, from a seed.
    Dense {
        /// S.
        states: usize,
        /// A.
        actions: usize,
        /// Seed of the model.
        seed: u64,
    },
    /// The cliff gridworld scaled to n×n cells (sparse).
    Grid(usize),
}

/// `riskmdp bench`: build the model, then time `reps` sweeps of each kind at β and a value
/// iteration to `tol`.
///
/// # Errors
/// [`crate::Error::InvalidParameter`] for a bad β, size, `reps` or `tol`; those of
/// [`crate::bench::run`].
pub fn bench(model: BenchModel, beta: f64, reps: usize, tol: f64) -> Result<BenchReport> {
    let beta = Beta::new(beta)?;
    SolveOptions::default().tol(tol).validate()?;
    let mdp = match model {
        BenchModel::Grid(n) => Gridworld::cliff_scaled(n)?.build()?,
        BenchModel::Dense { states, actions, seed } => random_dense(states, actions, seed)?,
    };
    run(&mdp, beta, reps, tol)
}
