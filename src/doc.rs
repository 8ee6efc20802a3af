//! Guides inside the documentation.

/// From the paper to the code: every equation, theorem and figure, the item that implements
/// it, and the test that checks it.
///
/// | Paper | Item | Checked by |
/// |---|---|---|
/// | Eq. 2, soft value `V = log Σ_a π·e^Q` | [`operators::soft_value`](crate::operators::soft_value) | `tests/theorem_4_1_policy_evaluation.rs` |
/// | Eqs. 3, 5, 15, `T_π` (β-scaled, γ outside the log) | [`operators::policy_operator`](crate::operators::policy_operator), [`operators::backup`](crate::operators::backup) | `tests/theorem_4_1_policy_evaluation.rs`, `tests/exact_reference.rs` |
/// | Eq. 4, posterior dynamics `q ∝ P·e^V` | [`operators::posterior_dynamics`](crate::operators::posterior_dynamics), [`operators::posterior_row`](crate::operators::posterior_row) | `tests/figure_1_risky_arm.rs`, `tests/cli.rs` |
/// | posterior policy `q(a|s) ∝ π·e^Q` | [`operators::posterior_policy`](crate::operators::posterior_policy) | `tests/theorem_4_4_deterministic_optimum.rs` |
/// | Eq. 6, exponential utility | [`utility::exponential_utility`](crate::utility::exponential_utility) | `tests/eq_6_7_utility_and_elbo.rs` |
/// | Eq. 7, ELBO, tight at the posterior | [`utility::elbo`](crate::utility::elbo), [`utility::posterior`](crate::utility::posterior) | `tests/eq_6_7_utility_and_elbo.rs` |
/// | Eq. 8, KL constraint and occupancy | [`dual::kl_at`](crate::dual::kl_at), [`utility::occupancy`](crate::utility::occupancy) | `tests/cli.rs`, `tests/probe_dual_kl_monotone.rs` |
/// | Eq. 9, β dual descent; all roots of KL_β = ε | [`dual::dual_descent`](crate::dual::dual_descent), [`dual::kl_roots`](crate::dual::kl_roots) | `tests/cli.rs` |
/// | Theorem 4.1, `T_π` a γ-contraction, evaluation | [`solve::evaluate_policy`](crate::solve::evaluate_policy) | `tests/theorem_4_1_policy_evaluation.rs`, `tests/infinite_value.rs` |
/// | Lemma 4.1, `T*` a contraction, value iteration | [`solve::value_iteration`](crate::solve::value_iteration()) | `tests/lemma_4_1_optimal_operator.rs` |
/// | Theorem 4.2, greedy improvement (finite horizon; discounted, proved in `docs/theory.md`) | [`solve::improve`](crate::solve::improve), [`solve::greedy_actions`](crate::solve::greedy_actions) | `tests/theorem_4_2_policy_improvement.rs` |
/// | Theorem 4.3, policy iteration, deterministic optimum | [`solve::policy_iteration`](crate::solve::policy_iteration()) | `tests/theorem_4_3_policy_iteration.rs` |
/// | Theorem 4.4, deterministic optimal pair (π*, q*) | [`solve::solve_finite_horizon`](crate::solve::solve_finite_horizon), [`utility::elbo`](crate::utility::elbo) | `tests/theorem_4_4_deterministic_optimum.rs` |
/// | β → ∞ (risk-neutral), β → 0 (best case) | [`solve::risk_neutral`](crate::solve::risk_neutral) | `tests/beta_limits.rs` |
/// | Fig. 1, risky arm, switch at 5/ln 9 | [`envs::risky_arm`](crate::envs::risky_arm()), [`sweep::sweep`](crate::sweep::sweep) | `tests/figure_1_risky_arm.rs`, `examples/risky_arm.rs` |
/// | Fig. 2, cliff gridworld, small/large-β paths | [`envs::Gridworld::cliff`](crate::envs::Gridworld::cliff), [`plot::gridworld`](crate::plot::gridworld) | `examples/cliff_gridworld.rs`, `tests/gridworld_beta_sweep.rs` |
/// | γ = 1 without horizon: infinite values | [`Error::InfiniteValue`](crate::Error::InfiniteValue) | `tests/infinite_value.rs` |
///
/// Planted bugs (γ inside the log, max replaced by mean, missing 1/β) that each make a named
/// test fail: `tests/planted_bugs.rs` and the twin test in every theorem file.
pub mod paper_map {}
