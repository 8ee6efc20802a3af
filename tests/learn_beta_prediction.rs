//! Claim: β-VMBPO's β settles where the exact engine predicts it — at the root of
//! KL̂_β = ε on the learner's own empirical model, weighted by the data's state-action shares
//! (`riskmdp::learn::predict`) — and the KL the learner measures is the exact KL there.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use riskmdp::Beta;
use riskmdp::envs::risky_arm;
use riskmdp::learn::beta_vmbpo::{RewardTransform, Variant};
use riskmdp::learn::predict::{data_kl, predicted_betas};
use riskmdp::learn::{LearnConfig, VariationalLearner};
use riskmdp::losses::DualConfig;

/// Relative distance allowed between the learnt β and the predicted root: the dual step keeps
/// moving by η·(ε − KL) per episode while the data shares drift, so β trails the root a little.
const SETTLED: f64 = 0.02;

#[test]
fn beta_settles_at_the_exact_dual_root_of_the_empirical_model() {
    let mdp = risky_arm();
    let config = LearnConfig {
        dual: DualConfig { beta0: 100.0, beta_lr: 0.5, epsilon: 0.1, ..DualConfig::default() },
        ..LearnConfig::default()
    };
    for seed in [1, 2] {
        let variant = Variant { beta0: 100.0, adapt_beta: true, reward: RewardTransform::Identity };
        let mut learner = VariationalLearner::new(&mdp, &config, variant).expect("valid");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..3000 {
            learner.episode(&mut rng);
        }
        let beta = learner.beta();
        let roots = predicted_betas(learner.model(), &mdp, 0.1, (1e-2, 1e4), 61).expect("every pair tried");
        assert_eq!(roots.len(), 1, "seed {seed}: roots {roots:?}");
        assert!((beta / roots[0] - 1.0).abs() < SETTLED, "seed {seed}: β = {beta}, predicted {}", roots[0]);
        // The learner's KL (clamped TD weights, sampled critic) is the exact one at its β.
        let exact = data_kl(learner.model(), &mdp, Beta::new(beta).expect("β > 0")).expect("solves");
        assert!((learner.kl() - exact).abs() < 1e-3, "seed {seed}: KL {} vs exact {exact}", learner.kl());
    }
}
