//! Probe (not a theorem): is the mean posterior KL_β non-increasing in β, so that dual descent
//! on β has one fixed point (Fig. 3c)? It is not: `riskmdp verify --cases 1000` finds cases
//! where KL_β rises with β even while the greedy policy stays the same (docs/theory.md). This
//! test only checks that the probe runs and reports finite numbers; it never fails on a
//! counterexample.
use riskmdp::verify::{Exact, claim, run_claim};

#[test]
fn probe_runs_and_reports_what_it_finds() {
    let report = run_claim(&claim("dual-kl-monotone").unwrap(), 40, 0, &Exact, None).unwrap();
    println!(
        "dual-kl-monotone: {}/{} cases monotone; worst {:.3e}: {}",
        report.passed, report.cases, report.worst.amount, report.worst.detail
    );
    assert!(report.worst.amount.is_finite(), "{}", report.worst.detail);
}
