//! Probe (not a theorem): is the mean posterior KL_β non-increasing in β, so that dual descent
//! on β has one fixed point (Fig. 3c)? It is not: `riskmdp verify --cases 1000` finds cases
//! where KL_β rises with β even while the greedy policy stays the same (docs/theory.md). The
//! probe never fails the run on such a counterexample; what must hold is that its KL_β (the
//! verifier's own KL sum and occupancy series) equals `dual::kl_at` (the crate's row-by-row KL
//! and linear-solve occupancy) on every case, and both equal a closed form on the risky arm.
use riskmdp::envs::risky_arm::{P_A, P_B, posterior_a, switch_beta};
use riskmdp::utility::KlWeights;
use riskmdp::verify::claims::dual_kl::kl_through;
use riskmdp::verify::{EQUALS_SOLVER, Exact, Scope, claim, run_claim};
use riskmdp::{Beta, SolveOptions};

#[test]
fn probe_runs_and_its_kl_equals_the_crate_dual_on_every_case() {
    let report = run_claim(&claim("dual-kl-monotone").unwrap(), 40, 0, &Exact, Scope::Full, None).unwrap();
    println!(
        "dual-kl-monotone: {}/{} cases monotone; worst {:.3e}: {}",
        report.passed, report.cases, report.worst.amount, report.worst.detail
    );
    assert!(report.worst.amount.is_finite(), "{}", report.worst.detail);
    assert!(!report.failed_checks.iter().any(|c| c == EQUALS_SOLVER), "{:?}", report.counterexamples);
}

/// KL_β of the risky arm by hand. Greedy `right` (β < 5/ln 9): the only stochastic pair is
/// (S, right), whose posterior is (q_A, q_B) = (posterior_a(β), 1 − posterior_a(β)); the
/// occupancy from S is d(S,right) = 1, d(A,·) = 0.9, d(B,·) = 0.1 (every other pair's KL is
/// 0), so KL_β = [q_A·ln(q_A/0.9) + q_B·ln(q_B/0.1)] / 2. Greedy `left`: one deterministic
/// pair, KL_β = 0.
fn risky_arm_kl(beta: f64) -> f64 {
    if beta >= switch_beta() {
        return 0.0;
    }
    let q_a = posterior_a(beta);
    let q_b = 1.0 - q_a;
    let term = |q: f64, p: f64| if q > 0.0 { q * (q / p).ln() } else { 0.0 };
    (term(q_a, P_A) + term(q_b, P_B)) / 2.0
}

#[test]
fn kl_beta_of_the_risky_arm_equals_its_closed_form() {
    let mdp = riskmdp::envs::risky_arm();
    for beta in [0.05, 0.3, 1.0, 2.0, 2.27, 2.3, 10.0, 1e3] {
        let expected = risky_arm_kl(beta);
        let b = Beta::new(beta).unwrap();
        let through = kl_through(&Exact, &mdp, b).kl;
        let crate_kl = riskmdp::dual::kl_at(&mdp, b, KlWeights::Occupancy, SolveOptions::default()).unwrap();
        for (what, got) in [("verifier", through), ("dual::kl_at", crate_kl)] {
            assert!(
                (got - expected).abs() <= 1e-12 * expected.max(1e-300),
                "β = {beta}: {what} {got:e} vs {expected:e}"
            );
        }
    }
    // Sanity of the closed form itself: at β → 0 the posterior goes to B (q_A → 0), so
    // KL_β → ln(1/0.1)/2 = ln 10 / 2.
    assert!((risky_arm_kl(0.05) - 10f64.ln() / 2.0).abs() < 1e-12);
}
