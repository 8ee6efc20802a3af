//! The verifier has teeth at the level of each property: every planted bug (a mutant of one
//! formula, `verify::operators::catalog`) makes the named property sub-checks of the listed
//! claims fail *with the comparison against the crate's solver switched off*
//! (`Scope::PropertyOnly`); a NaN-producing operator fails every claim; and the exact
//! operators pass every theorem on the same cases. `docs/theory.md` shows the whole matrix
//! claim × mutant → failed sub-checks (printed by `planted_bugs_fail_their_properties`).
use riskmdp::verify::operators::{self, Exact, planted_bugs};
use riskmdp::verify::{EQUALS_SOLVER, Kind, Scope, claim, claims, run_claim};

/// Cases per (claim, mutant) pair, seed 0.
const CASES: usize = 12;

/// (claim, mutant, sub-checks that must fail with the solver comparison off).
const EXPECTED: &[(&str, &str, &[&str])] = &[
    ("theorem-4.1", "expanding-backup", &["contraction", "fixed-point", "geometric-rate"]),
    ("lemma-4.1", "expanding-backup", &["contraction", "fixed-point", "geometric-rate"]),
    ("lemma-4.1", "mean-instead-of-max", &["dominates-policies"]),
    ("posteriors", "gamma-inside-log", &["backup-variational", "maximiser"]),
    ("posteriors", "missing-inverse-beta", &["backup-variational", "maximiser"]),
    ("posteriors", "soft-value-mean", &["eq-2-variational", "maximiser"]),
    ("posteriors", "gamma-in-tilt", &["backup-variational"]),
    ("posteriors", "posterior-without-prior", &["posterior-rows", "eq-2-variational"]),
    ("posteriors", "kl-reversed", &["backup-variational", "eq-2-variational"]),
    ("theorem-4.2-finite", "greedy-worst", &["improvement"]),
    ("theorem-4.2-discounted", "greedy-worst", &["improvement", "proof-step"]),
    ("theorem-4.3", "greedy-worst", &["deterministic-optimum"]),
    ("theorem-4.3", "mean-instead-of-max", &["deterministic-optimum", "no-better-policy", "gradient-ascent"]),
    ("theorem-4.4", "greedy-worst", &["elbo-tight"]),
    ("theorem-4.4", "posterior-without-prior", &["posterior-is-prior", "elbo-tight"]),
    ("theorem-4.4", "gamma-in-tilt", &["elbo-tight"]),
    ("theorem-4.4", "kl-reversed", &["elbo-tight", "elbo-bound"]),
    ("theorem-4.4", "mean-instead-of-max", &["elbo-tight", "elbo-bound"]),
    ("eq-6-7", "missing-inverse-beta", &["exponential-utility", "elbo-tight"]),
    ("eq-6-7", "soft-value-mean", &["exponential-utility", "elbo-tight"]),
    ("eq-6-7", "posterior-without-prior", &["elbo-tight"]),
    ("eq-6-7", "kl-reversed", &["elbo-tight", "elbo-bound"]),
    ("dual-step", "undiscounted-occupancy", &["occupancy-flow"]),
    ("dual-step", "dual-step-sign", &["descent"]),
    ("beta-large", "greedy-worst", &["greedy-loss"]),
    ("beta-large", "mean-instead-of-max", &["jensen", "greedy-loss"]),
    ("beta-large", "missing-inverse-beta", &["jensen", "hoeffding"]),
    ("beta-small", "missing-inverse-beta", &["best-case-upper", "best-case-gap"]),
    ("beta-small", "mean-instead-of-max", &["best-case-gap"]),
    ("beta-small", "soft-value-mean", &["best-case-gap"]),
    ("beta-monotone", "missing-inverse-beta", &["monotone"]),
    ("figure-1", "missing-inverse-beta", &["closed-form", "switch"]),
    ("figure-1", "greedy-worst", &["switch"]),
    ("gridworld-sweep", "greedy-worst", &["risk-neutral-limit"]),
    ("dual-kl-monotone", "expanding-backup", &["monotone"]),
];

#[test]
fn planted_bugs_fail_their_properties_with_the_solver_comparison_off() {
    for &(claim_name, bug, checks) in EXPECTED {
        let c = claim(claim_name).expect("known claim");
        let ops = operators::by_name(bug).expect("known operator");
        let report = run_claim(&c, CASES, 0, ops, Scope::PropertyOnly, None).expect("no saving");
        println!("{claim_name} × {bug} → {}", report.failed_checks.join(", "));
        assert!(!report.failed_checks.iter().any(|f| f == EQUALS_SOLVER), "{claim_name}: solver compared");
        for check in checks {
            assert!(c.checks.contains(check), "{claim_name} has no sub-check {check}");
            assert!(
                report.failed_checks.iter().any(|f| f == check),
                "{claim_name} × {bug}: `{check}` does not fail (failed: {:?})",
                report.failed_checks
            );
        }
    }
}

#[test]
fn every_claim_and_every_planted_bug_has_a_property_level_catch() {
    for c in claims() {
        assert!(EXPECTED.iter().any(|(name, ..)| *name == c.name), "{}: no mutant breaks its property", c.name);
    }
    for bug in planted_bugs().into_iter().filter(|b| b.name() != "nan") {
        assert!(EXPECTED.iter().any(|(_, name, _)| *name == bug.name()), "{} breaks no property", bug.name());
    }
}

#[test]
fn a_nan_producing_operator_fails_every_claim_in_both_scopes() {
    let nan = operators::by_name("nan").expect("the nan operator");
    for c in claims() {
        for scope in [Scope::Full, Scope::PropertyOnly] {
            let report = run_claim(&c, 4, 0, nan, scope, None).expect("no saving");
            assert!(!report.holds(), "{} ({scope:?}) passes a NaN operator", c.name);
            // A theorem must fail on *every* case: NaN is never dropped by a max or a sum
            // (the probe compares KL across β and may see a case where no KL is computed).
            if c.kind == Kind::Theorem {
                assert_eq!(report.passed, 0, "{} ({scope:?}): {} NaN cases pass", c.name, report.passed);
            }
            assert!(report.worst.amount.is_infinite(), "{}: NaN measured as {}", c.name, report.worst.amount);
        }
    }
}

#[test]
fn property_only_runs_no_solver_comparison_and_every_check_is_declared() {
    for c in claims() {
        for ops in operators::all() {
            let case = riskmdp::verify::case_of(&c, 0, 0);
            let property = (c.check)(&case, ops, Scope::PropertyOnly);
            assert!(property.get(EQUALS_SOLVER).is_none(), "{} × {}", c.name, ops.name());
            let full = (c.check)(&case, ops, Scope::Full);
            for v in &full.results {
                assert!(c.checks.contains(&v.check), "{}: undeclared sub-check {}", c.name, v.check);
            }
            assert_eq!(
                full.results.iter().filter(|v| v.check != EQUALS_SOLVER).count(),
                property.results.len(),
                "{} × {}: the property sub-checks differ between scopes",
                c.name,
                ops.name()
            );
        }
    }
}

#[test]
fn exact_operators_pass_every_theorem_on_the_same_cases() {
    for c in claims().into_iter().filter(|c| c.kind == Kind::Theorem) {
        let report = run_claim(&c, CASES, 0, &Exact, Scope::Full, None).unwrap();
        assert!(report.holds(), "{}: {} {}", c.name, report.worst.check, report.worst.detail);
    }
}
