//! Course example 2: the ELBO (Eq. 7) against the log marginal (Eq. 6) as q moves from the
//! posterior to the prior.
//!
//! The risky arm with a horizon of 2 and γ = 1, the uniform prior policy π, β = 2. The log
//! marginal `log p_π(O) = log E_π[exp(R/β)]` is the soft value V_π(S) of backward induction
//! — and, multiplied by β, the exponential utility of Eq. 6, which we also get by enumerating
//! every trajectory. For a variational q(τ) = Π_t q_t(a|s)·q_t(s'|s,a) we move along
//!
//! ```text
//! q_m = (1 − m)·posterior + m·prior        (policy and dynamics, m ∈ [0, 1])
//! ```
//!
//! and print the scaled ELBO `E_q[R]/β − KL(q(τ) ‖ p_π(τ))` and its gap to V_π(S).
//!
//! What you should see:
//! * the gap is 0 at the posterior (m = 0): the bound of Eq. 7 is tight there;
//! * it grows as q moves away, and at the prior (m = 1, KL = 0) the ELBO is just the expected
//!   return over β: (½·(−5) + ½·(−9))/2 = −3.5;
//! * the gap equals KL(q(τ) ‖ p(τ | O)), the KL from q to the posterior over trajectories
//!   `p(τ | O) = p_π(τ)·exp(R(τ)/β) / exp V_π(S)`, computed here independently by enumerating
//!   trajectories: `log p(O) − ELBO(q) = KL(q ‖ p(·|O))`.
//!
//! Run: `cargo run --release --example course_elbo_gap`.

use ndarray::Axis;
use riskmdp::envs::risky_arm::{self, S};
use riskmdp::utility::{Variational, elbo, exponential_utility, posterior};
use riskmdp::{Beta, Policy, TabularMdp, evaluate_finite_horizon};

/// The risk parameter and horizon.
const BETA: f64 = 2.0;
const HORIZON: usize = 2;
/// The mixture weights m of the prior in q_m.
const MIX: [f64; 6] = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0];
/// At most this many trajectories are enumerated.
const TRAJECTORY_LIMIT: usize = 10_000;

/// One row of the table.
struct Row {
    /// The mixture weight m of the prior.
    mix: f64,
    /// E_q[R], the expected return under q (reward units).
    expected_return: f64,
    /// The scaled ELBO of q from S (nats).
    elbo: f64,
    /// KL(q(τ) ‖ p(τ | O)) by enumeration (nats).
    kl_to_posterior: f64,
}

/// What the example computes.
struct Report {
    /// V_π(S) by backward induction (nats).
    log_marginal: f64,
    /// log E_π[exp(R/β)] by enumerating trajectories (Eq. 6, nats).
    log_marginal_enumerated: f64,
    rows: Vec<Row>,
}

/// `(1 − m)·posterior + m·(π, P)`, step by step.
fn mixture(mdp: &TabularMdp, prior: &Policy, post: &Variational, m: f64) -> Variational {
    let mut policy = post.policy.clone();
    for (t, mut block) in policy.axis_iter_mut(Axis(0)).enumerate() {
        block.zip_mut_with(&prior.at(t), |q, &p| *q = (1.0 - m) * *q + m * p);
    }
    let p = mdp.transitions();
    let dynamics = post.dynamics.iter().map(|q| (1.0 - m) * q + m * &*p).collect();
    Variational { policy, dynamics }
}

/// `E_q[R]` and `KL(q(τ) ‖ p(τ|O)) = Σ_τ q(τ)·[log q(τ) − log p_π(τ) − R(τ)/β + log p(O)]`,
/// by walking every trajectory q can take from `start`.
fn enumerate(
    mdp: &TabularMdp,
    prior: &Policy,
    q: &Variational,
    start: usize,
    log_marginal: f64,
) -> Result<(f64, f64), String> {
    let (mut expected_return, mut kl, mut count) = (0.0, 0.0, 0);
    // (t, state, log q of the path so far, log p_π of the path so far, return so far)
    let mut stack = vec![(0, start, 0.0f64, 0.0f64, 0.0f64)];
    while let Some((t, s, log_q, log_p, ret)) = stack.pop() {
        if t == HORIZON || mdp.is_terminal(s) {
            count += 1;
            if count > TRAJECTORY_LIMIT {
                return Err(format!("more than {TRAJECTORY_LIMIT} trajectories"));
            }
            let weight = log_q.exp();
            expected_return += weight * ret;
            kl += weight * (log_q - log_p - ret / BETA + log_marginal);
            continue;
        }
        for a in 0..mdp.n_actions() {
            let (qa, pa) = (q.policy[[t, s, a]], prior.at(t)[[s, a]]);
            for (j, &qj) in q.dynamics[t].slice(ndarray::s![s, a, ..]).iter().enumerate() {
                if qa * qj > 0.0 {
                    let pj = mdp.transition(s, a, j);
                    stack.push((t + 1, j, log_q + (qa * qj).ln(), log_p + (pa * pj).ln(), ret + mdp.rewards()[[s, a]]));
                }
            }
        }
    }
    Ok((expected_return, kl))
}

fn run(mixes: &[f64]) -> Result<Report, Box<dyn std::error::Error>> {
    let mdp = risky_arm::risky_arm().with_horizon(Some(HORIZON))?; // γ = 1
    let beta = Beta::new(BETA)?;
    let prior = Policy::uniform(&mdp);
    // The log marginal two ways: backward induction (V_π,0) and enumeration (Eq. 6).
    let log_marginal = evaluate_finite_horizon(&mdp, beta, &prior)?.v[[0, S]];
    let log_marginal_enumerated = exponential_utility(&mdp, beta, &prior, S, TRAJECTORY_LIMIT)?.log_marginal;
    let post = posterior(&mdp, beta, &prior)?;
    let mut rows = Vec::new();
    for &mix in mixes {
        let q = mixture(&mdp, &prior, &post, mix);
        let elbo = elbo(&mdp, beta, &prior, &q)?[S];
        let (expected_return, kl_to_posterior) = enumerate(&mdp, &prior, &q, S, log_marginal)?;
        rows.push(Row { mix, expected_return, elbo, kl_to_posterior });
    }
    Ok(Report { log_marginal, log_marginal_enumerated, rows })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let report = run(&MIX)?;
    println!("Risky arm, horizon {HORIZON}, γ = 1, uniform prior π, β = {BETA}");
    println!("log marginal V_π(S) = {:.12} nats (backward induction)", report.log_marginal);
    println!(
        "                    = {:.12} nats (log E_π exp(R/β), every trajectory, Eq. 6)",
        report.log_marginal_enumerated
    );
    println!("certainty equivalent β·V_π(S) = {:.6}", BETA * report.log_marginal);
    println!();
    println!("q_m = (1 − m)·posterior + m·prior");
    println!("{:>5}  {:>9}  {:>12}  {:>12}  {:>15}", "m", "E_q[R]", "ELBO(q_m)", "V − ELBO", "KL(q ‖ p(τ|O))");
    for row in &report.rows {
        println!(
            "{:>5.2}  {:>9.4}  {:>12.8}  {:>12.8}  {:>15.8}",
            row.mix,
            row.expected_return,
            row.elbo,
            report.log_marginal - row.elbo,
            // At the posterior the KL is 0 up to rounding, which may be −1e-16: print 0.
            row.kl_to_posterior.max(0.0)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gap_is_zero_at_the_posterior_grows_and_equals_the_kl_to_the_posterior() {
        let report = run(&[0.0, 0.5, 1.0]).expect("the example runs");
        // Eq. 6: backward induction = enumeration.
        assert!((report.log_marginal - report.log_marginal_enumerated).abs() < 1e-12);
        let gaps: Vec<f64> = report.rows.iter().map(|r| report.log_marginal - r.elbo).collect();
        assert!(gaps[0].abs() < 1e-12, "tight at the posterior");
        assert!(gaps[0] < gaps[1] && gaps[1] < gaps[2], "grows: {gaps:?}");
        for (row, gap) in report.rows.iter().zip(&gaps) {
            assert!((gap - row.kl_to_posterior).abs() < 1e-12, "gap {gap} vs KL {}", row.kl_to_posterior);
        }
        // At the prior the KL to p_π vanishes: ELBO = E_π[R]/β = (½·(−5) + ½·0.9·(−10))/β.
        let at_prior = &report.rows[2];
        assert!((at_prior.expected_return + 7.0).abs() < 1e-12);
        assert!((at_prior.elbo + 7.0 / BETA).abs() < 1e-12);
    }
}
