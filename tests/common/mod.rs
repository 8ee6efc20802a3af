//! Shared helpers of the claim tests: the proptest strategies (`arb_mdp`, `arb_policy`,
//! `arb_beta`, `arb_case`) and the planted-bug twin assertion.
//!
//! The strategies draw sizes first, then entries, into a `RawMdp`; `RawMdp::build` normalises
//! any draw into a valid model, so shrinking (entries → 0, masks → sparse, sizes → 2) always
//! yields a valid, smaller MDP.
#![allow(dead_code)]

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

use riskmdp::verify::random::{
    BETA_RANGE, GAMMA_RANGE, MAX_ACTIONS, MAX_HORIZON, MAX_STATES, RawMdp, build_policy, cliff_gridworld, risky_arm,
};
use riskmdp::verify::{Case, CaseKind, Checks, Operators, Scope, claim, operators, run_claim};
use riskmdp::{Beta, TabularMdp};

/// proptest configuration: `cases` cases, failures persisted in `proptest-regressions/`.
pub fn config(cases: u32, regressions: &'static str) -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::with_cases(cases)
    }
}

fn arb_discount(kind: CaseKind) -> BoxedStrategy<(f64, Option<usize>)> {
    match kind {
        CaseKind::Horizon => (prop_oneof![Just(1.0), GAMMA_RANGE.0..=GAMMA_RANGE.1], 1..=MAX_HORIZON)
            .prop_map(|(g, t)| (g, Some(t)))
            .boxed(),
        CaseKind::Undiscounted => (1..=MAX_HORIZON).prop_map(|t| (1.0, Some(t))).boxed(),
        _ => (GAMMA_RANGE.0..=GAMMA_RANGE.1).prop_map(|g| (g, None)).boxed(),
    }
}

/// A random MDP as plain numbers (2–8 states, 2–4 actions, dense or sparse rows, terminals).
pub fn arb_raw_mdp(kind: CaseKind) -> impl Strategy<Value = RawMdp> {
    (2..=MAX_STATES, 2..=MAX_ACTIONS).prop_flat_map(move |(n, m)| {
        let cells = n * m * n;
        (
            vec(0.0..1.0f64, cells),
            vec(any::<bool>(), cells),
            any::<bool>(),
            vec(-1.0..=1.0f64, n * m),
            prop_oneof![Just(1.0), Just(10.0)],
            vec(prop::bool::weighted(0.25), n),
            arb_discount(kind),
        )
            .prop_map(move |(weights, keep, dense, rewards, reward_scale, terminal, (gamma, horizon))| {
                RawMdp {
                    n_states: n,
                    n_actions: m,
                    weights,
                    keep,
                    dense,
                    rewards,
                    reward_scale,
                    terminal,
                    gamma,
                    horizon,
                }
            })
    })
}

/// A random valid MDP of the given family.
pub fn arb_mdp(kind: CaseKind) -> impl Strategy<Value = TabularMdp> {
    arb_raw_mdp(kind).prop_map(|raw| raw.build())
}

/// β log-uniform in [1e-3, 1e4].
pub fn arb_beta() -> impl Strategy<Value = Beta> {
    (BETA_RANGE.0.ln()..=BETA_RANGE.1.ln()).prop_map(|x| Beta::new(x.exp()).expect("positive"))
}

/// A random stationary policy on `n` states and `m` actions (rows normalised over a mask).
pub fn arb_policy(n: usize, m: usize) -> impl Strategy<Value = ndarray::Array2<f64>> {
    (vec(0.0..1.0f64, n * m), vec(any::<bool>(), n * m)).prop_map(move |(w, keep)| build_policy(n, m, &w, &keep))
}

/// A random case of the given family.
pub fn arb_case(kind: CaseKind) -> BoxedStrategy<Case> {
    let fixed = |mdp: TabularMdp, lo: f64, hi: f64| {
        let policy = build_policy(
            mdp.n_states(),
            mdp.n_actions(),
            &vec![1.0; mdp.n_states() * mdp.n_actions()],
            &vec![true; mdp.n_states() * mdp.n_actions()],
        );
        (lo.ln()..=hi.ln(), any::<u64>())
            .prop_map(move |(b, seed)| Case {
                mdp: mdp.clone(),
                beta: Beta::new(b.exp()).expect("positive"),
                policy: policy.clone(),
                seed,
            })
            .boxed()
    };
    match kind {
        CaseKind::RiskyArm => fixed(risky_arm(), 1e-3, 1e7),
        CaseKind::Gridworld => fixed(cliff_gridworld(), 1e-2, 1e3),
        _ => arb_raw_mdp(kind)
            .prop_flat_map(|raw| {
                let mdp = raw.build();
                let (n, m) = (mdp.n_states(), mdp.n_actions());
                (Just(mdp), arb_beta(), arb_policy(n, m), any::<u64>())
            })
            .prop_map(|(mdp, beta, policy, seed)| Case { mdp, beta, policy, seed })
            .boxed(),
    }
}

/// The property: `check` holds on `case` with the exact operators (every sub-check, the solver
/// comparison included), within `tolerance`.
pub fn holds(
    check: fn(&Case, &dyn Operators, Scope) -> Checks,
    case: &Case,
    tolerance: f64,
) -> Result<(), TestCaseError> {
    let checks = check(case, &riskmdp::verify::Exact, Scope::Full);
    let v = checks.worst();
    prop_assert!(
        checks.failed(tolerance).is_empty(),
        "{}: violation {:.3e} > {tolerance:e}: {}",
        v.check,
        v.amount,
        v.detail
    );
    Ok(())
}

/// Cases per claim in the planted-bug twins (fixed seed 0).
pub const TWIN_CASES: usize = 24;

/// The planted-bug twin: each named bug makes `claim_name` fail on some of `TWIN_CASES` cases
/// (solver comparison on).
pub fn assert_caught(claim_name: &str, bugs: &[&str]) {
    let c = claim(claim_name).expect("known claim");
    for bug in bugs {
        let ops = operators::by_name(bug).expect("known bug");
        let report = run_claim(&c, TWIN_CASES, 0, ops, Scope::Full, None).expect("no saving");
        assert!(report.passed < report.cases, "{claim_name} does not catch the planted bug {bug}");
    }
}

/// The property-level twin: with the solver comparison off, `bug` fails the named sub-check
/// `check` of `claim_name` on some of `TWIN_CASES` cases.
pub fn assert_property_caught(claim_name: &str, bug: &str, check: &str) {
    let c = claim(claim_name).expect("known claim");
    let ops = operators::by_name(bug).expect("known bug");
    let report = run_claim(&c, TWIN_CASES, 0, ops, Scope::PropertyOnly, None).expect("no saving");
    assert!(
        report.failed_checks.iter().any(|f| f == check),
        "{claim_name} with {bug}, property only: `{check}` does not fail (failed: {:?})",
        report.failed_checks
    );
}
