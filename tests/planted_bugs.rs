//! Every planted bug in the operators (γ inside the log, mean instead of max, missing 1/β) is
//! caught by at least one theorem on a fixed seed, and the exact operators pass the same cases.
use riskmdp::verify::operators::planted_bugs;
use riskmdp::verify::{Exact, Kind, claims, run_claim};

const CASES: usize = 16;

#[test]
fn every_planted_bug_fails_some_theorem() {
    for bug in planted_bugs() {
        let mut caught_by = vec![];
        for c in claims().into_iter().filter(|c| c.kind == Kind::Theorem) {
            let report = run_claim(&c, CASES, 0, bug, None).unwrap();
            if !report.holds() {
                caught_by.push(format!("{} ({}/{})", c.name, report.cases - report.passed, report.cases));
            }
        }
        println!("{}: caught by {}", bug.name(), caught_by.join(", "));
        assert!(!caught_by.is_empty(), "planted bug {} is not caught", bug.name());
    }
}

#[test]
fn exact_operators_pass_every_theorem_on_the_same_cases() {
    for c in claims().into_iter().filter(|c| c.kind == Kind::Theorem) {
        let report = run_claim(&c, CASES, 0, &Exact, None).unwrap();
        assert!(report.holds(), "{}: {}", c.name, report.worst.detail);
    }
}
