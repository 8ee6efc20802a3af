//! Eqs. 2, 4 and 15 as one variational principle: `log E_p e^X = max_q (E_q X − KL(q‖p))`,
//! attained at the posterior `q ∝ p·e^X` — for the policy (Eq. 2's soft value and the posterior
//! policy) and for the dynamics (the backup and the posterior dynamics of Eq. 4, with no γ in
//! the tilt). See `riskmdp::verify::claims::posteriors`.
mod common;
use common::{arb_case, assert_caught, assert_property_caught, config, holds};
use proptest::prelude::*;
use riskmdp::tolerance::CLAIM;
use riskmdp::verify::CaseKind;
use riskmdp::verify::claims::posteriors;

proptest! {
    #![proptest_config(config(300, "proptest-regressions/eq_2_4_posteriors.txt"))]
    #[test]
    fn soft_value_backup_and_posteriors_satisfy_the_gibbs_variational_principle(case in arb_case(CaseKind::Discounted)) {
        holds(posteriors::check, &case, CLAIM)?;
    }
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("posteriors", &["gamma-in-tilt", "posterior-without-prior", "kl-reversed", "soft-value-mean"]);
    assert_property_caught("posteriors", "gamma-in-tilt", "backup-variational");
    assert_property_caught("posteriors", "posterior-without-prior", "eq-2-variational");
    assert_property_caught("posteriors", "soft-value-mean", "eq-2-variational");
    assert_property_caught("posteriors", "kl-reversed", "backup-variational");
}
