//! Guides inside the documentation: [`tutorial`] (start here) and [`paper_map`].

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
/// | Eqs. 2, 4, 15: `log E_p e^X = max_q (E_q X − KL(q‖p))`, attained at the posterior | [`operators::posterior_row`](crate::operators::posterior_row), [`utility::kl_of_posterior_dynamics`](crate::utility::kl_of_posterior_dynamics) | `tests/eq_2_4_posteriors.rs` |
/// | Eqs. 8–9: the occupancy's flow equation; a dual step does not increase β(ε − KL_β) | [`utility::occupancy`](crate::utility::occupancy), [`dual::dual_descent`](crate::dual::dual_descent) | `tests/eq_8_9_dual_step.rs` |
/// | Eqs. 9–14: dual loss, prior and variational dynamics, critic, variational and prior policy losses | [`losses`](crate::losses) | `tests/learn_losses.rs` |
/// | Algorithm 1 (tabular, sampled): β-VMBPO, VMBPO, Q-learning, MnM | [`learn`](crate::learn) | `tests/learn_tabular.rs`, `tests/learn_beta_prediction.rs` |
///
/// Planted bugs: twelve wrong operators ([`verify::operators::catalog`](crate::verify::operators::catalog),
/// `riskmdp verify --operators list`), each wrong in one formula. `tests/planted_bugs.rs`
/// asserts, for every claim, which named sub-check a planted bug breaks with the comparison
/// against the crate's solvers switched off, and that a NaN-producing operator fails every
/// claim; `docs/theory.md` has the matrix.
pub mod paper_map {}

/// A tutorial: the risky arm of Fig. 1, from a model written in code to the β dual.
///
/// Every block below is compiled and run by `cargo test`.
///
/// # 1. The model
///
/// At the start S the agent takes a sure −5 (`left`, to the terminal L) or gambles (`right`:
/// to A w.p. 0.9, where leaving costs 10, or to B w.p. 0.1, where leaving costs nothing).
/// γ = 1 and every path ends in a terminal state, so the values are the exponential utility of
/// the return. A [`TabularMdp`](crate::TabularMdp) is built from an
/// [`MdpSpec`](crate::MdpSpec) and checked once, here:
///
/// ```
/// use riskmdp::{MdpSpec, TabularMdp};
///
/// fn risky_arm() -> riskmdp::Result<TabularMdp> {
///     let to = |j: usize| (0..6).map(|k| if k == j { 1.0 } else { 0.0 }).collect::<Vec<f64>>();
///     TabularMdp::new(MdpSpec {
///         name: "risky-arm".into(),
///         state_names: Some(["S", "A", "B", "C", "D", "L"].map(String::from).to_vec()),
///         action_names: Some(vec!["left".into(), "right".into()]),
///         gamma: 1.0,
///         horizon: None,
///         initial: None, // all the mass on state 0 = S
///         terminal: Some(vec![false, false, false, true, true, true]),
///         transitions: vec![
///             vec![to(5), vec![0.0, 0.9, 0.1, 0.0, 0.0, 0.0]], // S: left → L, right → A | B
///             vec![to(3), to(3)],                              // A → C
///             vec![to(4), to(4)],                              // B → D
///             vec![to(3), to(3)],                              // terminal rows are ignored
///             vec![to(4), to(4)],
///             vec![to(5), to(5)],
///         ]
///         .into(),
///         rewards: vec![vec![-5.0, 0.0], vec![-10.0, -10.0], vec![0.0; 2], vec![0.0; 2], vec![0.0; 2], vec![0.0; 2]],
///         grid: None,
///     })
/// }
/// let mdp = risky_arm()?;
/// assert_eq!((mdp.n_states(), mdp.n_actions()), (6, 2));
/// // The same model ships as `riskmdp::envs::risky_arm()` and `examples/mdps/risky_arm.json`.
/// assert_eq!(mdp.to_json_string(), riskmdp::envs::risky_arm().to_json_string());
/// # Ok::<(), riskmdp::Error>(())
/// ```
///
/// # 2. Solving at three β, reading β·Q
///
/// Values are kept scaled (nats); β·Q is the certainty equivalent in reward units. Small β is
/// optimistic: the gamble wins; large β approaches the expected return, and the sure −5 wins.
/// The switch is at β* = 5/ln 9 exactly ([`envs::risky_arm`](crate::envs::risky_arm())).
///
/// ```
/// use riskmdp::{Beta, Method, SolveOptions, solve_optimal};
/// let mdp = riskmdp::envs::risky_arm();
/// let (s, left, right) = (0, 0, 1);
/// for beta in [0.5, 5.0 / 9f64.ln(), 10.0] {
///     let q = solve_optimal(&mdp, Beta::new(beta)?, Method::ValueIteration, SolveOptions::default())?.q0();
///     let (ce_left, ce_right) = (beta * q[[s, left]], beta * q[[s, right]]);
///     // Closed forms (Eq. 15): β·Q(S,left) = −5, β·Q(S,right) = β·log(0.9·e^{−10/β} + 0.1).
///     assert!((ce_left + 5.0).abs() < 1e-9);
///     assert!((ce_right - beta * (0.9 * (-10.0 / beta).exp() + 0.1).ln()).abs() < 1e-9);
///     println!("β = {beta:.4}: β·Q(S,left) = {ce_left:.4}, β·Q(S,right) = {ce_right:.4}");
/// }
/// # Ok::<(), riskmdp::Error>(())
/// ```
///
/// # 3. Posterior dynamics
///
/// The optimal variational dynamics tilt P toward high value: q(s'|s,a) ∝ P(s'|s,a)·exp V(s')
/// (Eq. 4). At small β the gambler believes in the lucky outcome B.
///
/// ```
/// use riskmdp::{Beta, Method, SolveOptions, solve_optimal, operators::posterior_row};
/// let mdp = riskmdp::envs::risky_arm();
/// for beta in [0.5, 10.0] {
///     let v = solve_optimal(&mdp, Beta::new(beta)?, Method::ValueIteration, SolveOptions::default())?.v0();
///     let q = posterior_row(&mdp, v.as_slice().expect("contiguous"), 0, 1); // (s', q) pairs of (S, right)
///     let q_a = q.iter().find(|&&(j, _)| j == 1).map_or(0.0, |&(_, p)| p);
///     let closed_form = 0.9 * (-10.0 / beta).exp() / (0.9 * (-10.0 / beta).exp() + 0.1);
///     assert!((q_a - closed_form).abs() < 1e-12);
///     println!("β = {beta}: q(A | S, right) = {q_a:.3e} (P = 0.9)");
/// }
/// # Ok::<(), riskmdp::Error>(())
/// ```
///
/// # 4. The exponential utility (Eq. 6)
///
/// With γ = 1 and a horizon, β·V_π(s) *is* the exponential utility β·log E[exp(Σ r/β)] of the
/// policy's return. [`utility::exponential_utility`](crate::utility::exponential_utility)
/// enumerates the trajectories; the backward induction of
/// [`solve_policy`](crate::solve_policy) gives the same number.
///
/// ```
/// use riskmdp::{Beta, Policy, SolveOptions, solve_policy, utility::exponential_utility};
/// let mdp = riskmdp::envs::risky_arm().with_horizon(Some(2))?;
/// let beta = Beta::new(3.0)?;
/// let gamble = Policy::deterministic(&mdp, &[1, 0, 0, 0, 0, 0])?; // `right` at S
/// let enumerated = exponential_utility(&mdp, beta, &gamble, 0, 1_000)?;
/// let backward = solve_policy(&mdp, beta, &gamble, SolveOptions::default())?.v0();
/// assert!((enumerated.certainty_equivalent - 3.0 * backward[0]).abs() < 1e-12);
/// // Jensen: for every β > 0 the certainty equivalent lies above the expected return (−9 here):
/// // the β-scaled backups are optimistic, the more so the smaller β.
/// assert!(enumerated.certainty_equivalent > enumerated.mean);
/// # Ok::<(), riskmdp::Error>(())
/// ```
///
/// # 5. The ELBO and its gap (Eq. 7)
///
/// For any variational q(τ), `E_q[Σ r]/β − KL(q ‖ p_π) ≤ V_π(s)`, with equality at the
/// posterior ([`utility::posterior`](crate::utility::posterior)). Taking q = the prior itself
/// (no tilt) leaves a gap.
///
/// ```
/// use riskmdp::utility::{Variational, elbo, posterior};
/// use riskmdp::{Beta, Policy, SolveOptions, solve_policy};
/// let mdp = riskmdp::envs::risky_arm().with_horizon(Some(2))?;
/// let beta = Beta::new(3.0)?;
/// let prior = Policy::uniform(&mdp);
/// let v = solve_policy(&mdp, beta, &prior, SolveOptions::default())?.v0();
///
/// let tight = elbo(&mdp, beta, &prior, &posterior(&mdp, beta, &prior)?)?;
/// assert!((tight[0] - v[0]).abs() < 1e-12); // equality at the posterior
///
/// let p = mdp.transitions().into_owned();
/// let untilted = Variational {
///     policy: ndarray::stack![ndarray::Axis(0), prior.at(0), prior.at(1)],
///     dynamics: vec![p.clone(), p],
/// };
/// let gap = v[0] - elbo(&mdp, beta, &prior, &untilted)?[0];
/// assert!(gap > 1e-3);
/// println!("ELBO gap of the untilted q: {gap:.4} nats");
/// # Ok::<(), riskmdp::Error>(())
/// ```
///
/// # 6. The β dual (Eqs. 8–9)
///
/// β-VMBPO adapts β so that the posterior dynamics stay within a KL budget ε of the true
/// ones. [`dual::kl_roots`](crate::dual::kl_roots) finds every β with KL_β = ε (KL_β need not
/// be monotone); [`dual::dual_descent`](crate::dual::dual_descent) runs the update
/// β ← clamp(β − η·(ε − KL_β), β_min, 1e7) and, with a small enough step, settles on a stable
/// root.
///
/// ```
/// use riskmdp::dual::{DualDescent, dual_descent, kl_roots};
/// use riskmdp::{SolveOptions, utility::KlWeights};
/// let mdp = riskmdp::envs::risky_arm();
/// let epsilon = 0.05;
/// let scan = kl_roots(&mdp, epsilon, (1e-3, 1e7), 121, KlWeights::Uniform, SolveOptions::default())?;
/// assert_eq!(scan.stable_roots.len(), 1);
/// let settings =
///     DualDescent { epsilon, beta0: 1.0, lr: 20.0, steps: 60, beta_min: 1e-3, weights: KlWeights::Uniform };
/// let path = dual_descent(&mdp, settings, SolveOptions::default())?;
/// let last = path.last().expect("steps + 1 points");
/// assert!((last.beta - scan.stable_roots[0]).abs() < 1e-6 * last.beta);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub mod tutorial {}
