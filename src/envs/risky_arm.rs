//! The risky arm of Fig. 1.
//!
//! ```text
//!            left  (reward −5)              ┌─▶ A ──(−10)──▶ C (terminal)
//!   S ───────────────────▶ L (terminal)    │ 0.9
//!     ─── right (reward 0) ────────────────┤
//!                                          │ 0.1
//!                                          └─▶ B ──(0)────▶ D (terminal)
//! ```
//!
//! γ = 1, start S. Both actions of A (and of B) do the same thing, so the model has a
//! rectangular action set. Risk-neutrally `left` is better (−5 against 0.9·(−10) = −9); an
//! optimist (small β) hopes for B and takes `right`.
//!
//! # Formula
//!
//! ```text
//! Q(S,left)  = −5/β
//! Q(S,right) = log(0.9·e^{−10/β} + 0.1)                           (Eq. 15, V(A) = −10/β, V(B) = 0)
//! switch:      e^{−5/β} = 0.9·e^{−10/β} + 0.1  ⇔  x = e^{−5/β} ∈ {1, 1/9}  ⇒  β* = 5/ln 9 ≈ 2.2756
//! posterior:   q(A|S,right) = 0.9·e^{−10/β} / (0.9·e^{−10/β} + 0.1)           (Eq. 4)
//!              q(A|S,right) = q(B|S,right) = 1/2  ⇔  e^{−10/β} = 1/9  ⇒  β = 10/ln 9 ≈ 4.5512
//! ```
//!
//! For β < β* the risky `right` is optimal, for β > β* the risk-neutral `left`.

use crate::mdp::{MdpSpec, TabularMdp};

/// Index of the start state S.
pub const S: usize = 0;
/// Index of state A (the bad outcome of `right`).
pub const A: usize = 1;
/// Index of state B (the good outcome of `right`).
pub const B: usize = 2;
/// Index of action `left` (the sure −5).
pub const LEFT: usize = 0;
/// Index of action `right` (the gamble).
pub const RIGHT: usize = 1;
/// Probability that `right` leads to A.
pub const P_A: f64 = 0.9;
/// Probability that `right` leads to B (written out: `1.0 - 0.9` is not `0.1` in floating point).
pub const P_B: f64 = 0.1;
/// Reward of `left` in S.
pub const LEFT_REWARD: f64 = -5.0;
/// Reward of leaving A.
pub const A_REWARD: f64 = -10.0;

/// The β at which the greedy action at S switches from `right` to `left`.
///
/// # Formula
/// `β* = 5 / ln 9` (see the module docs).
pub fn switch_beta() -> f64 {
    5.0 / 9f64.ln()
}

/// The β at which the posterior dynamics of `right` give A and B equal probability.
///
/// # Formula
/// `β = 10 / ln 9` (see the module docs).
pub fn equal_posterior_beta() -> f64 {
    10.0 / 9f64.ln()
}

/// The posterior probability of A after `right`, in closed form.
///
/// # Formula
/// `q(A|S,right) = 0.9·e^{−10/β} / (0.9·e^{−10/β} + 0.1)`   (Eq. 4)
pub fn posterior_a(beta: f64) -> f64 {
    let w = P_A * (A_REWARD / beta).exp();
    w / (w + P_B)
}

/// The risky-arm MDP of Fig. 1; the same model as `examples/mdps/risky_arm.json`.
///
/// States `S, A, B, C, D, L` (C, D, L terminal), actions `left, right`, γ = 1, start S.
///
/// # Examples
/// ```
/// let mdp = riskmdp::envs::risky_arm();
/// assert_eq!((mdp.n_states(), mdp.n_actions()), (6, 2));
/// ```
#[must_use]
pub fn risky_arm() -> TabularMdp {
    let names = ["S", "A", "B", "C", "D", "L"];
    let to = |j: usize| (0..names.len()).map(|k| if k == j { 1.0 } else { 0.0 }).collect::<Vec<f64>>();
    let gamble = vec![0.0, P_A, P_B, 0.0, 0.0, 0.0];
    let spec = MdpSpec {
        name: "risky-arm".into(),
        state_names: Some(names.iter().map(|s| s.to_string()).collect()),
        action_names: Some(vec!["left".into(), "right".into()]),
        gamma: 1.0,
        horizon: None,
        initial: Some(to(S)),
        terminal: Some(vec![false, false, false, true, true, true]),
        transitions: vec![
            vec![to(5), gamble],
            vec![to(3), to(3)],
            vec![to(4), to(4)],
            vec![to(3), to(3)],
            vec![to(4), to(4)],
            vec![to(5), to(5)],
        ]
        .into(),
        rewards: vec![
            vec![LEFT_REWARD, 0.0],
            vec![A_REWARD, A_REWARD],
            vec![0.0, 0.0],
            vec![0.0, 0.0],
            vec![0.0, 0.0],
            vec![0.0, 0.0],
        ],
        grid: None,
    };
    // A fixed, hand-checked model: failing validation is a bug in this function.
    TabularMdp::new(spec).expect("the risky arm is a valid MDP")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_matches_the_shipped_json_file() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/mdps/risky_arm.json");
        let file = TabularMdp::load(path).expect("shipped file loads");
        let built = risky_arm();
        assert_eq!(built.to_json_string(), file.to_json_string());
    }

    #[test]
    fn closed_forms_agree() {
        // At β = 10/ln 9 the posterior of A is exactly one half.
        assert!((posterior_a(equal_posterior_beta()) - 0.5).abs() < 1e-15);
        // Python: 5 / math.log(9) = 2.275598066567093; 10 / math.log(9) = 4.551196133134186.
        assert!((switch_beta() - 2.275_598_066_567_093).abs() < 1e-15);
        assert!((equal_posterior_beta() - 4.551_196_133_134_186).abs() < 1e-15);
    }
}
