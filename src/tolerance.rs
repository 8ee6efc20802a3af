//! Named tolerances, and the policy for using them.
//!
//! * Input checks use [`ROW_SUM`]: a probability row must sum to 1 within it. Accepted rows are
//!   then renormalised so that every kernel may assume Σ p = 1 to rounding.
//! * Solvers stop when their *certified* error bound falls below `tol · scale`, where `scale` is
//!   the sup norm of the values (or of r/β, whichever is larger): tolerances are relative.
//!   [`SOLVE`] is the default `tol`.
//! * A solver whose residual reaches [`ROUNDING_FLOOR`] · scale stops there: further sweeps only
//!   move rounding noise. It says so in its termination reason and reports its true bound.
//! * Ties between actions are broken towards the lowest index unless another action is better by
//!   more than [`TIE`] · scale; policy iteration keeps its current action on such ties.

/// A probability row (transitions, initial distribution, policy) must sum to 1 within this.
pub const ROW_SUM: f64 = 1e-9;

/// Default relative tolerance of the iterative solvers.
pub const SOLVE: f64 = 1e-12;

/// Relative size of a residual that is pure rounding noise (a few dozen ulps).
pub const ROUNDING_FLOOR: f64 = 64.0 * f64::EPSILON;

/// Relative margin under which two action values count as tied.
pub const TIE: f64 = 1e-12;

/// Relative tolerance of a verifier claim comparing two exact computations, or an inequality
/// between them (`riskmdp verify`, `tests/`). Both sides come from solvers accurate to [`SOLVE`]
/// relative (or from exact enumeration), so 1e-9 leaves three orders of magnitude for rounding
/// accumulated over thousands of sweeps while catching any modelling error.
pub const CLAIM: f64 = 1e-9;

/// Relative tolerance of a closed form checked against the solver (Fig. 1, risky arm): the model
/// is acyclic, so the solver makes a few exact backups and only rounding separates the two.
pub const CLOSED_FORM: f64 = 1e-12;

/// Tolerance, in nats, of the probe "KL_β is non-increasing in β": a rise above it is reported.
pub const KL_PROBE: f64 = 1e-9;
