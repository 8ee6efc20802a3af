//! Course example: a planted bug, caught by the theory verifier.
//!
//! `riskmdp::verify` checks every claim of the paper (Theorems 4.1–4.4, Lemma 4.1, Eqs. 2–9,
//! the β limits, Figs. 1–2) on random MDPs, computing every value through a small trait of
//! formulas, `verify::Operators`. A *planted bug* is that trait with one formula wrong. This
//! example plants one — by default `greedy-worst`: the greedy step of Theorem 4.2 picks the
//! worst action instead of the best — and runs every claim twice on the same random cases:
//! with the paper's formulas (`exact`) and with the bug, the comparison against the crate's own
//! solver switched off (`property_only`), so that what fails is the property itself.
//!
//! What the reader should see: `exact` passes every claim; the bug fails the named sub-checks
//! of the claims whose property needs a correct greedy step (`improvement` of Theorem 4.2,
//! `deterministic-optimum` of Theorem 4.3, `elbo-tight` of Theorem 4.4, `greedy-loss` of the
//! β → ∞ limit, `switch` of Fig. 1, `risk-neutral-limit` of the gridworld), and the claims that
//! never take a greedy step still pass. Try another bug by name: `exact`, `nan`,
//! `expanding-backup`, `kl-reversed`, … (`riskmdp::verify::operators::catalog()` lists them).
//!
//! Run: `cargo run --release --example course_planted_bug [-- BUG]` (a few seconds).

use riskmdp::verify::{self, Exact, Kind, VerifyOptions, VerifyReport, operators};

/// The seed of the random cases (the same cases for both runs).
const SEED: u64 = 0;
/// Random cases per claim.
const CASES: usize = 12;
/// The bug planted when none is named on the command line.
const DEFAULT_BUG: &str = "greedy-worst";

/// Both runs: the exact operators, and the bug with the solver comparison off.
struct Outcome {
    exact: VerifyReport,
    planted: VerifyReport,
}

fn run(bug: &str, cases: usize) -> Result<Outcome, Box<dyn std::error::Error>> {
    let ops = operators::by_name(bug).ok_or_else(|| {
        let known: Vec<&str> = operators::catalog().iter().map(|(name, _)| *name).collect();
        format!("unknown operators `{bug}`; known: {}", known.join(", "))
    })?;
    let options = VerifyOptions { cases, seed: SEED, property_only: true, ..Default::default() };
    Ok(Outcome { exact: verify::run(&options, &Exact)?, planted: verify::run(&options, ops)? })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bug = std::env::args().nth(1).unwrap_or_else(|| DEFAULT_BUG.to_string());
    let outcome = run(&bug, CASES)?;
    let what = operators::catalog().into_iter().find(|(name, _)| *name == bug).map_or("", |(_, what)| what);
    println!("planted bug `{bug}`: {what}");
    println!("{CASES} random cases per claim, seed {SEED}, solver comparison off\n");
    println!("{:<24} {:>12}   {bug}: failed sub-checks", "claim", "exact");
    for (exact, planted) in outcome.exact.claims.iter().zip(&outcome.planted.claims) {
        let caught = if planted.failed_checks.is_empty() {
            "passes".to_string()
        } else {
            format!(
                "{} ({} of {} cases)",
                planted.failed_checks.join(", "),
                planted.cases - planted.passed,
                planted.cases
            )
        };
        let probe = if exact.kind == Kind::Probe { " (probe)" } else { "" };
        let status = if exact.holds() { "holds" } else { "fails" };
        println!("{:<24} {:>12}   {caught}", format!("{}{probe}", exact.claim), status);
    }
    println!(
        "\nexact: every theorem holds = {}; {bug}: every theorem holds = {}",
        outcome.exact.theorems_hold, outcome.planted.theorems_hold
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_passes_and_the_planted_greedy_bug_fails_the_improvement_property() {
        let outcome = run(DEFAULT_BUG, 3).expect("runs");
        assert!(outcome.exact.theorems_hold, "{:?}", outcome.exact.claims.iter().map(|c| &c.worst).collect::<Vec<_>>());
        assert!(!outcome.planted.theorems_hold);
        let failed = |claim: &str| {
            outcome
                .planted
                .claims
                .iter()
                .find(|c| c.claim == claim)
                .map(|c| c.failed_checks.clone())
                .unwrap_or_default()
        };
        assert!(failed("theorem-4.2-discounted").iter().any(|c| c == "improvement"));
        assert!(failed("figure-1").iter().any(|c| c == "switch"));
        // A claim that takes no greedy step is not fooled into failing.
        assert!(failed("theorem-4.1").is_empty());
    }

    #[test]
    fn an_unknown_bug_is_an_error_naming_the_known_ones() {
        let err = run("no-such-bug", 1).err().expect("an error").to_string();
        assert!(err.contains("greedy-worst") && err.contains("exact"), "{err}");
    }
}
