//! `riskmdp verify`'s report (`verify::run`) is reproducible: one seed gives the same bytes
//! whatever the number of threads; the progress callback counts every case once, in order; the
//! report names the failed sub-checks, sorted and without repeats.
use riskmdp::verify::{self, EQUALS_SOLVER, Exact, VerifyOptions, claims, operators};

fn json(options: &VerifyOptions, ops: &dyn verify::Operators) -> String {
    serde_json::to_string(&verify::run(options, ops).expect("runs")).expect("serialises")
}

#[test]
fn one_seed_gives_the_same_bytes_on_one_thread_and_on_many() {
    let options = VerifyOptions { cases: 3, seed: 7, ..Default::default() };
    let many = json(&options, &Exact);
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| json(&options, &Exact));
    assert_eq!(many, one);
    assert_eq!(many, json(&options, &Exact));
    // The seed is used: another one gives other cases.
    assert_ne!(many, json(&VerifyOptions { seed: 8, ..options }, &Exact));
}

#[test]
fn progress_counts_every_case_once_in_order() {
    // 18 cases: a chunk of 16 and one of 2 per claim.
    let options = VerifyOptions { claim: Some("figure-1".into()), cases: 18, ..Default::default() };
    let mut calls = vec![];
    let report = verify::run_with_progress(&options, &Exact, &mut |done, total| calls.push((done, total))).unwrap();
    assert_eq!(report.claims.len(), 1);
    assert_eq!(calls, [(16, 18), (18, 18)]);
    let options = VerifyOptions { cases: 1, ..Default::default() };
    let mut calls = vec![];
    verify::run_with_progress(&options, &Exact, &mut |done, total| calls.push((done, total))).unwrap();
    let total = claims().len();
    assert_eq!(calls, (1..=total).map(|done| (done, total)).collect::<Vec<_>>());
}

#[test]
fn the_report_names_the_failed_sub_checks_sorted_once_each() {
    let options =
        VerifyOptions { claim: Some("theorem-4.1".into()), cases: 4, property_only: true, ..Default::default() };
    let report = verify::run(&options, operators::by_name("nan").unwrap()).unwrap();
    assert_eq!((report.operators.as_str(), report.seed, report.cases), ("nan", 0, 4));
    assert!(report.property_only && !report.theorems_hold);
    let failed = &report.claims[0].failed_checks;
    assert_eq!(failed, &["contraction", "fixed-point", "geometric-rate"]);
    assert!(!failed.iter().any(|c| c == EQUALS_SOLVER));
    let full = verify::run(&VerifyOptions { property_only: false, ..options }, operators::by_name("nan").unwrap());
    assert_eq!(
        full.unwrap().claims[0].failed_checks,
        ["contraction", "equals-solver", "fixed-point", "geometric-rate"]
    );
}

#[test]
fn zero_cases_and_unknown_claims_are_errors() {
    assert!(verify::run(&VerifyOptions { cases: 0, ..Default::default() }, &Exact).is_err());
    let unknown = VerifyOptions { claim: Some("theorem-9.9".into()), cases: 1, ..Default::default() };
    assert!(verify::run(&unknown, &Exact).is_err());
}
