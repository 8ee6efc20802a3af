//! What each command of `riskmdp` prints, as data: one report type per command, built by one
//! library call, serialised as the command's `--json` and rendered as its text table.
//!
//! A Rust user gets exactly the numbers the command line prints:
//!
//! | command | call | report |
//! |---|---|---|
//! | `riskmdp solve` | [`solve()`] | [`SolveReport`] |
//! | `riskmdp sweep` | [`sweep()`] | [`SweepReport`] |
//! | `riskmdp dual` | [`dual()`] | [`DualReport`] |
//! | `riskmdp bench` | [`bench()`] | [`BenchReport`](crate::bench::BenchReport) |
//! | `riskmdp verify` | [`verify::run`](crate::verify::run) | [`ClaimReport`](crate::verify::ClaimReport)s |
//!
//! # Examples
//! ```
//! use riskmdp::report;
//! use riskmdp::{Beta, Method, SolveOptions};
//!
//! let mdp = riskmdp::envs::risky_arm();
//! let solved = report::solve(&mdp, Beta::new(1.0)?, None, Method::ValueIteration, SolveOptions::default())?;
//! // At β = 1 the gamble `right` is optimal at S: its certainty equivalent is
//! // β·log(0.9·e^{−10/β} + 0.1·e^{0}) ≈ −2.30 (closed form), but its expected return is −9
//! // (the sure `left` gives −5).
//! let r = &solved.report;
//! assert_eq!(r.actions[r.greedy.first()[0]], "right");
//! let closed_form = (0.9 * (-10f64).exp() + 0.1).ln();
//! assert!((r.certainty_equivalent.first()[0] - closed_form).abs() < 1e-12);
//! assert!((r.expected_return[0] + 9.0).abs() < 1e-9);
//! # Ok::<(), riskmdp::Error>(())
//! ```

use serde::Serialize;

mod bench;
mod dual;
pub mod seeds;
mod solve;
mod sweep;
pub mod table;

pub use bench::{BenchModel, bench};
pub use dual::{DualReport, dual};
pub use solve::{Objective, PosteriorDynamics, SolveReport, Solved, solve};
pub use sweep::{SweepReport, sweep};

/// A quantity of a stationary solution (one value), or of a finite-horizon one (one value per
/// time step t = 0..T−1). Serialised as the bare value, or as the list over t.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PerStep<T> {
    /// Infinite horizon: the same at every step.
    Stationary(T),
    /// Horizon T: index t = 0..T−1 (never empty).
    TimeIndexed(Vec<T>),
}

impl<T> PerStep<T> {
    /// The value at the first decision step (t = 0).
    ///
    /// # Panics
    /// If a time-indexed value is empty (reports never build one: T ≥ 1).
    pub fn first(&self) -> &T {
        match self {
            PerStep::Stationary(x) => x,
            PerStep::TimeIndexed(xs) => &xs[0],
        }
    }
}
