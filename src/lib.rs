//! # riskmdp — exact risk-sensitive RL-as-inference on tabular MDPs
//!
//! The β-VMBPO paper scales rewards by 1/β in the soft Bellman backups of RL-as-inference.
//! This crate computes everything that follows from that *exactly* on finite models:
//!
//! **model** ([`TabularMdp`]) → **objective** (β, γ, the operators of [`operators`]) →
//! **solver** ([`solve`]) → **result** (scaled values Q, V in nats; certainty equivalents β·Q;
//! posterior dynamics and policy; how the solver stopped and how accurate it is).
//!
//! # The math in one page
//!
//! ```text
//! (T_π Q)(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp V(s')               (Eq. 15)
//! V(s) = log Σ_a π(a|s)·exp Q(s,a)  (policy, Eq. 2)   or  max_a Q(s,a)  (optimum, Lemma 4.1)
//! q(s'|s,a) ∝ P(s'|s,a)·exp V(s')          posterior dynamics (Eq. 4)
//! q(a|s)    ∝ π(a|s)·exp Q(s,a)            posterior policy
//! β·V_π(s) = β·log E[exp(Σ_t r_t/β)]       exponential utility, γ = 1 with horizon (Eq. 6)
//! E_q[Σ r]/β − KL(q(τ)‖p_π(τ)) ≤ V_π(s)    ELBO, tight at the posterior (Eq. 7)
//! β ← clamp(β − η·(ε − KL_β), β_min, 1e7)  dual descent on the KL constraint (Eqs. 8–9)
//! ```
//!
//! β → 0 is optimistic (the best case), β → ∞ risk-neutral. With γ < 1 (γ outside the log)
//! the fixed point is a recursive risk measure, not the exponential utility of the discounted
//! return. With γ = 1 and no horizon the risk-seeking value can be infinite; the solvers
//! certify finiteness (or report [`Error::InfiniteValue`]) instead of looping.
//!
//! # Module map (reading order)
//!
//! * [`mdp`] — the validated model and its JSON format; [`transitions`] — P, dense or sparse;
//!   [`policy`] — policies; [`risk`] — the risk parameter β.
//! * [`logsumexp`] — stable `log E_p[exp x]` kernels (the fast one-shift-per-sweep backup the
//!   solvers use is crate-private, tested against [`operators::backup`]).
//! * [`operators`] — T_π, T*, soft values, posteriors.
//! * [`solve`] — evaluation, improvement, policy and value iteration, finite horizon, β = ∞.
//! * [`utility`] — exponential utility by enumeration, ELBO, KL, occupancy.
//! * [`dual`] — the β dual: descent trajectories and all roots of KL_β = ε.
//! * [`sweep`] — β sweeps at one state and the exact β of every greedy switch (Fig. 1).
//! * [`envs`] — the paper's environments: the risky arm (Fig. 1), the MnM and cliff gridworlds
//!   (Fig. 2), and the cliff world scaled to n×n.
//! * [`plot`] — the figures: β sweeps (Fig. 1) and gridworld dynamics and paths (Fig. 2), as PNG
//!   and SVG, with a bundled font.
//! * [`verify`] — the theory verifier: Theorems 4.1–4.4, Eqs. 6–7, the β limits and Fig. 1 as
//!   properties over random MDPs (used by `tests/` and `riskmdp verify`).
//! * [`mod@bench`] — `riskmdp bench`: the sweep against the memory-bandwidth floor.
//! * [`tolerance`] — named tolerances and the policy for using them; [`io`] — atomic writes.
//! * [`doc::paper_map`] — Eq./Theorem/Figure → item → test.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod bench;
pub mod bisection;
pub mod doc;
pub mod dual;
pub mod envs;
pub mod error;
pub mod io;
mod kernel;
pub mod logsumexp;
pub mod mdp;
pub mod operators;
pub mod plot;
pub mod policy;
pub mod risk;
pub mod solve;
pub mod sweep;
pub mod tolerance;
pub mod transitions;
pub mod utility;
pub mod verify;

pub use error::{Error, Result};
pub use mdp::{GridShape, MdpSpec, TabularMdp};
pub use policy::Policy;
pub use risk::Beta;
pub use solve::{
    FiniteHorizonSolution, Method, Solution, SolveOptions, StationarySolution, Termination, evaluate_finite_horizon,
    evaluate_policy, policy_iteration, solve_finite_horizon, solve_optimal, solve_policy, value_iteration,
};
pub use transitions::{Row, TransitionSpec};
