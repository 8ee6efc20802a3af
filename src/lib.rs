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
//! Start with the [tutorial](doc::tutorial): the risky arm of Fig. 1 written in code, solved
//! at three β, its posterior dynamics, exponential utility, ELBO gap and β dual.
//!
//! # Module map (reading order: the paper's)
//!
//! * [`mdp`] — the model: a validated [`TabularMdp`], its JSON file format ([`transitions`]:
//!   P, dense or sparse rows).
//! * [`risk`] — the risk parameter β; [`policy`] — stationary or time-dependent π.
//! * [`logsumexp`] — the stable `log E_p[exp x]` every backup is made of.
//! * [`operators`] — Eqs. 2–5, 15 and Lemma 4.1: the soft value and the max
//!   ([`operators::Aggregation`]), the backup, T_π, T*, the posterior dynamics and policy.
//! * [`solve`] — Theorems 4.1–4.3: policy evaluation, greedy improvement, policy and value
//!   iteration, finite horizon, the risk-neutral β = ∞ reference.
//! * [`utility`] — Eqs. 6–8: the exponential utility, the ELBO, KL and occupancy.
//! * [`dual`] — Eq. 9: dual descent on β and every root of KL_β = ε.
//! * [`sweep`] — β sweeps at one state and the exact β of every greedy switch (Figs. 1, 3);
//!   [`bisection`] — the one bisection in log β they and [`dual`] use.
//! * [`losses`] — Eqs. 9–14 written once, generic over a small numeric trait; [`learn`] —
//!   Algorithm 1 in tabular form: β-VMBPO, VMBPO, Q-learning and MnM learners that sample.
//! * [`envs`] — the paper's environments: the risky arm (Fig. 1), the MnM and cliff
//!   gridworlds (Fig. 2).
//! * [`continuous`] — continuous control (App. C): MountainCarContinuous-v0 and Pendulum-v1 in
//!   pure Rust, to gymnasium's arithmetic, behind the [`continuous::env::Env`] trait; with the
//!   cargo feature `candle`, the losses on tensors and the networks.
//! * `grid` — an experiment grid (tasks × learners × variants × seeds) expanded into numbered
//!   runs of the continuous learners: run k, N locally in parallel, or a Slurm job array; then
//!   one manifest for the figures (feature `candle`).
//! * [`verify`] — the theory verifier: the claims as properties over random MDPs, and planted
//!   bugs that must fail them.
//! * [`plot`] — the figures, PNG and SVG, with a bundled font (cargo feature `plot`, on by
//!   default).
//! * [`report`] — what each command of `riskmdp` prints, as data (`--json`).
//! * [`mod@bench`] — `riskmdp bench`: the sweep against the memory-bandwidth floor.
//! * [`tolerance`] — named tolerances and the policy for using them; [`error`] — the one
//!   error type.
//! * [`doc`] — the [tutorial](doc::tutorial) and the [paper map](doc::paper_map): Eq./Theorem
//!   → item → test.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod mdp;
pub mod transitions;

pub mod policy;
pub mod risk;

pub mod logsumexp;
pub mod operators;

mod kernel;
pub mod solve;

pub mod utility;

pub mod bisection;
pub mod dual;
pub mod sweep;

pub mod learn;
pub mod losses;
pub mod random;
pub mod ring;

pub mod envs;

pub mod continuous;
#[cfg(feature = "candle")]
pub mod grid;

pub mod verify;

#[cfg(feature = "plot")]
pub mod plot;

pub mod bench;
pub mod report;

pub mod error;
mod io;
pub mod tolerance;

#[cfg(feature = "fault-injection")]
#[doc(hidden)]
pub mod fault;

pub mod doc;

pub use error::{Error, Result};
pub use mdp::{GridShape, MdpSpec, TabularMdp};
pub use policy::Policy;
pub use risk::Beta;
pub use solve::{
    FiniteHorizonSolution, Method, Solution, SolveOptions, StationarySolution, Termination, evaluate_finite_horizon,
    evaluate_policy, policy_iteration, solve_finite_horizon, solve_optimal, solve_policy, value_iteration,
};
pub use transitions::{Row, TransitionSpec};
