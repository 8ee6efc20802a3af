//! The formulas the claims are checked on, behind one trait, and planted bugs (mutants).
//!
//! Every claim computes its values through [`Operators`] — the backup, Eq. 2 and the max, the
//! greedy step, the posteriors, the KL, the occupancy and the dual step — and checks them
//! against a property of the paper (a contraction, an inequality, a variational identity, a
//! flow equation) or a computation that does not use the trait (trajectory enumeration,
//! risk-neutral linear solves, best-case iteration, closed forms), and, unless the run is
//! property-only, against the crate's own solvers. [`Exact`] is the paper's formulas
//! (the crate's [`operators`], [`greedy_actions`], and the verifier's own KL, occupancy and
//! dual step); each planted operator is wrong in one place. [`catalog`] lists them with what
//! each breaks; `tests/planted_bugs.rs` asserts which named sub-check of which claim catches
//! each, with the solver comparison switched off.

use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2};

use crate::dual::{BETA_MAX, DualDescent};
use crate::logsumexp::log_expect_exp;
use crate::mdp::TabularMdp;
use crate::operators::{self, Aggregation};
use crate::risk::Beta;
use crate::solve::greedy_actions;
use crate::tolerance;
use crate::utility::Variational;

/// The formulas of the paper the claims go through. Every method but [`name`](Self::name)
/// and [`description`](Self::description) has the paper's formula as its default, so a
/// planted bug overrides exactly the one it breaks.
///
/// # Formula
///
/// ```text
/// backup              (B V)(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp V(s')     (Eqs. 5, 15)
/// soft_value          V(s) = log Σ_a π(a|s)·exp Q(s,a)                             (Eq. 2)
/// max_value           V(s) = max_a Q(s,a)                                          (Lemma 4.1)
/// greedy              π'(s) = argmax_a Q(s,a), lowest index on ties                (Theorem 4.2)
/// posterior_dynamics  q(s'|s,a) ∝ P(s'|s,a)·exp V(s')                              (Eq. 4)
/// posterior_policy    q(a|s) ∝ π(a|s)·exp Q(s,a)
/// kl                  KL(q‖p) = Σ_j q_j·log(q_j/p_j)                               (Eqs. 7, 8)
/// occupancy           d(s,a) = Σ_t γ^t·Pr(s_t = s, a_t = a | s_0 ~ ρ, π)           (Eq. 8)
/// dual_step           β' = clamp(β − η·(ε − KL_β), β_min, 1e7)                     (Eq. 9)
/// T_π Q = B(soft_value(Q)),   T* Q = B(max_value(Q))
/// ```
///
/// V(terminal) = 0 and Q(terminal, ·) = 0; γ is outside the log and out of the tilt.
pub trait Operators: Sync {
    /// A short name (`exact`, or the planted bug's name).
    fn name(&self) -> &'static str;
    /// One line: what this operator set breaks (for `exact`: that it is the paper's).
    fn description(&self) -> &'static str;

    /// The soft backup B of state values, Eqs. (5, 15); 0 at terminal states.
    fn backup(&self, mdp: &TabularMdp, beta: Beta, v: ArrayView1<f64>) -> Array2<f64> {
        operators::backup(mdp, beta, v)
    }
    /// The soft state value of a policy, Eq. (2); 0 at terminal states.
    fn soft_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>, pi: ArrayView2<f64>) -> Array1<f64> {
        operators::soft_value(mdp, q, pi)
    }
    /// The optimal state value, Lemma 4.1; 0 at terminal states.
    fn max_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>) -> Array1<f64> {
        operators::max_value(mdp, q)
    }
    /// The greedy step of Theorem 4.2: one action per state (lowest index on ties).
    fn greedy(&self, mdp: &TabularMdp, q: ArrayView2<f64>) -> Vec<usize> {
        greedy_actions(mdp, q)
    }
    /// The posterior dynamics, Eq. (4), S×A×S (rows of terminal states are P).
    fn posterior_dynamics(&self, mdp: &TabularMdp, v: ArrayView1<f64>) -> Array3<f64> {
        operators::posterior_dynamics(mdp, v)
    }
    /// The posterior policy `q(a|s) ∝ π(a|s)·exp Q(s,a)` (rows of terminal states are π).
    fn posterior_policy(&self, mdp: &TabularMdp, pi: ArrayView2<f64>, q: ArrayView2<f64>) -> Array2<f64> {
        operators::posterior_policy(mdp, pi, q)
    }
    /// KL(q‖p) of two distributions on the same support, Eqs. (7, 8) (+∞ where q puts mass
    /// that p does not).
    fn kl(&self, q: &[f64], p: &[f64]) -> f64 {
        kl_divergence(q, p)
    }
    /// The discounted state-action occupancy of a stationary π from ρ, Eq. (8), S×A (0 at
    /// terminal states).
    fn occupancy(&self, mdp: &TabularMdp, pi: ArrayView2<f64>) -> Array2<f64> {
        occupancy_series(mdp, pi, mdp.gamma())
    }
    /// One step of dual descent on β, Eq. (9).
    fn dual_step(&self, settings: &DualDescent, beta: f64, kl: f64) -> f64 {
        let (epsilon, lr) = (settings.epsilon, settings.lr);
        crate::losses::dual_step(
            beta,
            kl,
            epsilon,
            lr,
            crate::losses::BetaUpdate::Linear,
            (settings.beta_min, BETA_MAX),
        )
    }

    /// T_π Q, Eq. (15).
    fn policy_operator(&self, mdp: &TabularMdp, beta: Beta, pi: ArrayView2<f64>, q: ArrayView2<f64>) -> Array2<f64> {
        self.backup(mdp, beta, self.soft_value(mdp, q, pi).view())
    }
    /// T* Q, Lemma 4.1.
    fn optimal_operator(&self, mdp: &TabularMdp, beta: Beta, q: ArrayView2<f64>) -> Array2<f64> {
        self.backup(mdp, beta, self.max_value(mdp, q).view())
    }
}

/// `Σ_j q_j·log(q_j/p_j)` over `q_j > 0` (+∞ where `p_j = 0`); no clamp, so a negative value
/// (impossible for two distributions) stays visible.
pub fn kl_divergence(q: &[f64], p: &[f64]) -> f64 {
    q.iter()
        .zip(p)
        .filter(|&(&qj, _)| qj != 0.0)
        .map(|(&qj, &pj)| if pj > 0.0 { qj * (qj / pj).ln() } else { f64::INFINITY })
        .sum()
}

/// Most terms of the occupancy series (γ^t ≤ 1e-16 after ~3700 terms at γ = 0.99).
const OCCUPANCY_TERMS: usize = 10_000;

/// `d(s,a) = Σ_t γ^t·μ_t(s)·π(a|s)`, `μ_0 = ρ`, `μ_{t+1}(s') = Σ_{s,a} μ_t(s)·π(a|s)·P(s'|s,a)`
/// on non-terminal states, summed until the added mass is below 1e-16 of the total (or
/// [`OCCUPANCY_TERMS`] terms): the verifier's own series, independent of the crate's linear
/// solve in [`utility::occupancy`](crate::utility::occupancy).
fn occupancy_series(mdp: &TabularMdp, pi: ArrayView2<f64>, discount: f64) -> Array2<f64> {
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    let live = |s: usize| !mdp.is_terminal(s);
    let mut flow: Vec<f64> = (0..s_count).map(|s| if live(s) { mdp.initial()[s] } else { 0.0 }).collect();
    let mut mu = flow.clone();
    for _ in 0..OCCUPANCY_TERMS {
        let mut next = vec![0.0; s_count];
        for s in (0..s_count).filter(|&s| flow[s] != 0.0) {
            for a in 0..a_count {
                let w = discount * flow[s] * pi[[s, a]];
                for (j, p) in mdp.transition_row(s, a).iter().enumerate() {
                    if live(j) {
                        next[j] += w * p;
                    }
                }
            }
        }
        let added: f64 = next.iter().sum();
        mu.iter_mut().zip(&next).for_each(|(m, x)| *m += x);
        flow = next;
        // NaN and +∞ stop here too, and stay in d for the checks to see.
        if added.is_nan() || added <= 1e-16 * mu.iter().sum::<f64>() {
            break;
        }
    }
    Array2::from_shape_fn((s_count, a_count), |(s, a)| if live(s) { mu[s] * pi[[s, a]] } else { 0.0 })
}

/// The paper's formulas: [`crate::operators`], [`greedy_actions`], and the verifier's own KL,
/// occupancy series and dual step.
#[derive(Debug, Clone, Copy, Default)]
pub struct Exact;

impl Operators for Exact {
    fn name(&self) -> &'static str {
        "exact"
    }
    fn description(&self) -> &'static str {
        "the paper's formulas (the crate's operators): every claim holds"
    }
}

fn backup_with(mdp: &TabularMdp, v: ArrayView1<f64>, f: impl Fn(f64, f64) -> f64) -> Array2<f64> {
    let v: Vec<f64> = v.to_vec();
    let mut q = Array2::zeros((mdp.n_states(), mdp.n_actions()));
    for s in (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)) {
        for a in 0..mdp.n_actions() {
            q[[s, a]] = f(mdp.rewards()[[s, a]], log_expect_exp(&mdp.transition_row(s, a), &v));
        }
    }
    q
}

/// Declares a planted bug: a unit struct whose [`Operators`] impl overrides one formula.
macro_rules! planted {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $what:literal, { $($body:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $ty;

        impl Operators for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn description(&self) -> &'static str {
                $what
            }
            $($body)*
        }
    };
}

planted!(
    /// Planted bug: γ inside the log, `r/β + log Σ P·exp(γ·V)`.
    GammaInsideLog,
    "gamma-inside-log",
    "backup r/β + log Σ P·exp(γV): γ inside the log (still a contraction; another fixed point)",
    {
        fn backup(&self, mdp: &TabularMdp, beta: Beta, v: ArrayView1<f64>) -> Array2<f64> {
            let scaled = v.mapv(|x| mdp.gamma() * x);
            backup_with(mdp, scaled.view(), |r, l| r / beta.get() + l)
        }
    }
);

planted!(
    /// Planted bug: the optimal operator aggregates actions by their mean instead of the max.
    MeanInsteadOfMax,
    "mean-instead-of-max",
    "T* aggregates actions by their plain mean instead of the max (Lemma 4.1)",
    {
        fn max_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>) -> Array1<f64> {
            Array1::from_iter(
                (0..mdp.n_states()).map(|s| if mdp.is_terminal(s) { 0.0 } else { q.row(s).mean().unwrap_or(0.0) }),
            )
        }
    }
);

planted!(
    /// Planted bug: rewards not divided by β, `r + γ·log Σ P·exp V`.
    MissingInverseBeta,
    "missing-inverse-beta",
    "backup r + γ·log Σ P·exp V: rewards not divided by β",
    {
        fn backup(&self, mdp: &TabularMdp, _beta: Beta, v: ArrayView1<f64>) -> Array2<f64> {
            backup_with(mdp, v, |r, l| r + mdp.gamma() * l)
        }
    }
);

planted!(
    /// Planted bug: the backup returns NaN (as a 0·∞ or ∞ − ∞ in a kernel would).
    NanBackup,
    "nan",
    "the backup returns NaN everywhere: every check must fail, none may drop it",
    {
        fn backup(&self, mdp: &TabularMdp, _beta: Beta, _v: ArrayView1<f64>) -> Array2<f64> {
            Array2::from_elem((mdp.n_states(), mdp.n_actions()), f64::NAN)
        }
    }
);

planted!(
    /// Planted bug: an expansion — the backup uses 1 + γ where γ belongs.
    ExpandingBackup,
    "expanding-backup",
    "backup r/β + (1+γ)·log Σ P·exp V: a factor above 1, not a γ-contraction (Theorem 4.1)",
    {
        fn backup(&self, mdp: &TabularMdp, beta: Beta, v: ArrayView1<f64>) -> Array2<f64> {
            backup_with(mdp, v, |r, l| r / beta.get() + (1.0 + mdp.gamma()) * l)
        }
    }
);

planted!(
    /// Planted bug: Eq. 2 as a plain mean, `V(s) = Σ_a π(a|s)·Q(s,a)`.
    SoftValueMean,
    "soft-value-mean",
    "Eq. 2 as the plain mean Σ_a π·Q instead of log Σ_a π·exp Q (risk-neutral over actions)",
    {
        fn soft_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>, pi: ArrayView2<f64>) -> Array1<f64> {
            Array1::from_iter((0..mdp.n_states()).map(|s| {
                if mdp.is_terminal(s) {
                    0.0
                } else {
                    pi.row(s).iter().zip(q.row(s)).filter(|&(&p, _)| p > 0.0).map(|(p, x)| p * x).sum()
                }
            }))
        }
    }
);

planted!(
    /// Planted bug: γ in the tilt of the posterior dynamics, `q ∝ P·exp(γ·V)`.
    GammaInTilt,
    "gamma-in-tilt",
    "posterior dynamics q ∝ P·exp(γV): γ in the tilt (Eq. 4 has none)",
    {
        fn posterior_dynamics(&self, mdp: &TabularMdp, v: ArrayView1<f64>) -> Array3<f64> {
            operators::posterior_dynamics(mdp, v.mapv(|x| mdp.gamma() * x).view())
        }
    }
);

planted!(
    /// Planted bug: the posterior policy ignores the prior, `q(a|s) ∝ exp Q(s,a)`.
    PosteriorWithoutPrior,
    "posterior-without-prior",
    "posterior policy q ∝ exp Q, ignoring the prior π",
    {
        fn posterior_policy(&self, mdp: &TabularMdp, pi: ArrayView2<f64>, q: ArrayView2<f64>) -> Array2<f64> {
            let uniform = Array2::from_elem(pi.raw_dim(), 1.0 / mdp.n_actions() as f64);
            operators::posterior_policy(mdp, uniform.view(), q)
        }
    }
);

planted!(
    /// Planted bug: the KL the wrong way round, KL(p‖q).
    KlReversed,
    "kl-reversed",
    "KL(P‖q) instead of KL(q‖P) in the ELBO and in KL_β",
    {
        fn kl(&self, q: &[f64], p: &[f64]) -> f64 {
            kl_divergence(p, q)
        }
    }
);

planted!(
    /// Planted bug: the occupancy without the discount.
    UndiscountedOccupancy,
    "undiscounted-occupancy",
    "occupancy Σ_t Pr(s_t, a_t) without γ^t (Eq. 8 weights)",
    {
        fn occupancy(&self, mdp: &TabularMdp, pi: ArrayView2<f64>) -> Array2<f64> {
            occupancy_series(mdp, pi, 1.0)
        }
    }
);

planted!(
    /// Planted bug: the dual step with the wrong sign, `β + η·(ε − KL)`.
    DualStepSign,
    "dual-step-sign",
    "dual step β + η·(ε − KL_β): ascends J(β) = β(ε − KL_β) instead of descending (Eq. 9)",
    {
        fn dual_step(&self, settings: &DualDescent, beta: f64, kl: f64) -> f64 {
            // The exact step with the sign of η flipped.
            let (epsilon, lr) = (settings.epsilon, -settings.lr);
            crate::losses::dual_step(beta, kl, epsilon, lr, crate::losses::BetaUpdate::Linear, (settings.beta_min, BETA_MAX))
        }
    }
);

planted!(
    /// Planted bug: the greedy step picks the worst action.
    GreedyWorst,
    "greedy-worst",
    "greedy step picks argmin_a Q instead of argmax_a Q (Theorem 4.2)",
    {
        fn greedy(&self, mdp: &TabularMdp, q: ArrayView2<f64>) -> Vec<usize> {
            let flipped = q.mapv(|x| -x);
            greedy_actions(mdp, flipped.view())
        }
    }
);

/// The planted bugs, in the order of [`catalog`].
pub fn planted_bugs() -> [&'static dyn Operators; 12] {
    [
        &NanBackup,
        &GammaInsideLog,
        &MissingInverseBeta,
        &ExpandingBackup,
        &SoftValueMean,
        &MeanInsteadOfMax,
        &GreedyWorst,
        &GammaInTilt,
        &PosteriorWithoutPrior,
        &KlReversed,
        &UndiscountedOccupancy,
        &DualStepSign,
    ]
}

/// Every operator set: `exact`, then each planted bug.
pub fn all() -> Vec<&'static dyn Operators> {
    std::iter::once(&Exact as &'static dyn Operators).chain(planted_bugs()).collect()
}

/// `exact` and every planted operator, each as `(name, one line on what it breaks)`: what
/// `riskmdp verify --operators list` prints.
///
/// # Examples
/// ```
/// let names: Vec<&str> = riskmdp::verify::operators::catalog().iter().map(|(n, _)| *n).collect();
/// assert_eq!(names[0], "exact");
/// assert!(names.contains(&"nan") && names.contains(&"greedy-worst"));
/// ```
pub fn catalog() -> Vec<(&'static str, &'static str)> {
    all().into_iter().map(|o| (o.name(), o.description())).collect()
}

/// The operator set called `name` (`exact` or a planted bug of [`catalog`]).
///
/// # Examples
/// ```
/// use riskmdp::verify::operators::by_name;
/// assert_eq!(by_name("kl-reversed").map(|o| o.name()), Some("kl-reversed"));
/// assert!(by_name("no-such-bug").is_none());
/// ```
pub fn by_name(name: &str) -> Option<&'static dyn Operators> {
    all().into_iter().find(|o| o.name() == name)
}

fn apply(ops: &dyn Operators, mdp: &TabularMdp, beta: Beta, agg: Aggregation, q: ArrayView2<f64>) -> Array2<f64> {
    match agg {
        Aggregation::Policy(pi) => ops.policy_operator(mdp, beta, pi, q),
        Aggregation::Max => ops.optimal_operator(mdp, beta, q),
    }
}

/// The larger of two numbers, NaN if either is NaN (`f64::max` would drop the NaN).
pub fn max_or_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) }
}

/// Sup norm of `a − b` over the rows of non-terminal states; NaN if any entry is NaN or the two
/// disagree on an infinity (∞ − ∞).
pub fn sup_distance(mdp: &TabularMdp, a: ArrayView2<f64>, b: ArrayView2<f64>) -> f64 {
    (0..mdp.n_states())
        .filter(|&s| !mdp.is_terminal(s))
        .flat_map(|s| a.row(s).iter().zip(b.row(s)).map(|(x, y)| (x - y).abs()).collect::<Vec<_>>())
        .fold(0.0, max_or_nan)
}

/// Sweeps in a row whose change grows before [`iterate`] calls the iteration divergent: a
/// γ-contraction (or, for γ = 1, a non-expansion) never lets the change grow beyond rounding.
const GROWING_SWEEPS: usize = 32;

/// The fixed point of T_π or T* by iteration from `start` (zeros if `None`), computed through
/// `ops`, to the relative accuracy [`tolerance::SOLVE`] of the sup norm of Q (in nats, which
/// is tiny at large β: no absolute floor) (γ < 1: stop once the contraction
/// bound γ·δ/(1−γ) is below it; γ = 1: once a sweep changes nothing beyond rounding).
/// Gives up after `MAX_SWEEPS`, on a non-finite change, or when the change has grown for
/// 32 sweeps in a row (an expansion), and returns the last iterate.
pub fn iterate(
    ops: &dyn Operators,
    mdp: &TabularMdp,
    beta: Beta,
    agg: Aggregation,
    start: Option<Array2<f64>>,
) -> Array2<f64> {
    const MAX_SWEEPS: usize = 200_000;
    let gamma = mdp.gamma();
    let mut q = start.unwrap_or_else(|| Array2::zeros((mdp.n_states(), mdp.n_actions())));
    let (mut last, mut growing) = (f64::INFINITY, 0);
    for _ in 0..MAX_SWEEPS {
        let next = apply(ops, mdp, beta, agg, q.view());
        let delta = sup_distance(mdp, next.view(), q.view());
        let scale = next.iter().filter(|x| x.is_finite()).fold(0.0f64, |m, x| m.max(x.abs()));
        q = next;
        if !delta.is_finite() || delta <= 0.0 {
            break;
        }
        growing = if delta > last { growing + 1 } else { 0 };
        last = delta;
        let bound = if gamma < 1.0 { gamma * delta / (1.0 - gamma) } else { delta };
        if bound <= tolerance::SOLVE * scale || delta <= tolerance::ROUNDING_FLOOR * scale || growing >= GROWING_SWEEPS
        {
            break;
        }
    }
    q
}

/// Backward induction through `ops` over the model's horizon: `(Q_t, V_t)` for t = 0..T
/// (`V` has T+1 entries, `V_T = 0`). `policies[t]` aggregates step t; `None`: the max.
///
/// # Panics
/// If the model has no horizon or `policies` has the wrong length.
pub fn backward(
    ops: &dyn Operators,
    mdp: &TabularMdp,
    beta: Beta,
    policies: Option<&[Array2<f64>]>,
) -> (Vec<Array2<f64>>, Vec<Array1<f64>>) {
    let horizon = mdp.horizon().expect("backward: the model has a horizon");
    if let Some(p) = policies {
        assert_eq!(p.len(), horizon, "backward: one policy per step");
    }
    let mut qs = vec![Array2::zeros((0, 0)); horizon];
    let mut vs = vec![Array1::zeros(mdp.n_states()); horizon + 1];
    for t in (0..horizon).rev() {
        let q = ops.backup(mdp, beta, vs[t + 1].view());
        vs[t] = match policies {
            Some(p) => ops.soft_value(mdp, q.view(), p[t].view()),
            None => ops.max_value(mdp, q.view()),
        };
        qs[t] = q;
    }
    (qs, vs)
}

/// The posterior of time-dependent policies over the horizon, through `ops`:
/// `q_t(a|s) ∝ π_t(a|s)·exp Q_t(s,a)`, `q_t(s'|s,a) ∝ P(s'|s,a)·exp V_{t+1}(s')`, with
/// `(Q_t, V_t)` from [`backward`].
///
/// # Panics
/// As [`backward`].
pub fn posterior_through(ops: &dyn Operators, mdp: &TabularMdp, beta: Beta, policies: &[Array2<f64>]) -> Variational {
    let (qs, vs) = backward(ops, mdp, beta, Some(policies));
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    let mut policy = Array3::zeros((policies.len(), s_count, a_count));
    let mut dynamics = Vec::with_capacity(policies.len());
    for (t, pi) in policies.iter().enumerate() {
        policy.index_axis_mut(ndarray::Axis(0), t).assign(&ops.posterior_policy(mdp, pi.view(), qs[t].view()));
        dynamics.push(ops.posterior_dynamics(mdp, vs[t + 1].view()));
    }
    Variational { policy, dynamics }
}

/// The scaled ELBO (Eq. 7 divided by β) of `q` against the prior policies, per start state,
/// with every KL through `ops`:
///
/// ```text
/// L_T = 0,   L_t(s) = Σ_a q_t(a|s)·[ r(s,a)/β + γ·( Σ_{s'} q_t(s'|s,a)·L_{t+1}(s') − KL(q_t(·|s,a) ‖ P(·|s,a)) ) ]
///                     − KL(q_t(·|s) ‖ π_t(·|s)),          L_t(terminal) = 0
/// ```
///
/// # Panics
/// If `q` or `policies` do not cover the model's horizon.
pub fn elbo_through(
    ops: &dyn Operators,
    mdp: &TabularMdp,
    beta: Beta,
    policies: &[Array2<f64>],
    q: &Variational,
) -> Array1<f64> {
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    let mut next = Array1::<f64>::zeros(s_count);
    for t in (0..policies.len()).rev() {
        let mut cur = Array1::<f64>::zeros(s_count);
        for s in (0..s_count).filter(|&s| !mdp.is_terminal(s)) {
            let q_pol: Vec<f64> = (0..a_count).map(|a| q.policy[[t, s, a]]).collect();
            let mut total = -ops.kl(&q_pol, &policies[t].row(s).to_vec());
            for (a, &qa) in q_pol.iter().enumerate().filter(|&(_, &qa)| qa != 0.0) {
                let q_dyn: Vec<f64> = (0..s_count).map(|j| q.dynamics[t][[s, a, j]]).collect();
                let future: f64 = q_dyn.iter().zip(next.iter()).filter(|&(&w, _)| w != 0.0).map(|(w, l)| w * l).sum();
                let inner = future - ops.kl(&q_dyn, &mdp.transition_row(s, a));
                total += qa * (mdp.rewards()[[s, a]] / beta.get() + mdp.gamma() * inner);
            }
            cur[s] = total;
        }
        next = cur;
    }
    next
}
