//! Environment steps per second of the MuJoCo tasks (issue 19, "Speed"), the Rust half of the
//! comparison with `bench/mujoco_steps.py` (gymnasium on the same MuJoCo 3.17.0 library).
//!
//! ```text
//! scripts/setup-mujoco.sh
//! cargo run --release --features mujoco --example mujoco_steps -- hopper 20000
//! /tmp/mjvenv/bin/python bench/mujoco_steps.py Hopper-v4 20000
//! ```
//!
//! Both sides do the same work: uniform random float32 actions in the action box, a reset
//! (with its noise) whenever the episode terminates or is truncated, and nothing else timed
//! but the loop. Prints one line: the task, the steps, the seconds and `steps_per_s`.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use riskmdp::continuous::train::EnvKind;

/// Run `steps` random steps of `env`; returns (steps per second, episodes started).
fn run(env: EnvKind, steps: usize) -> riskmdp::Result<(f64, usize)> {
    let mut env = env.make()?;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let bounds = env.action_bounds();
    let mut action = vec![0.0; env.action_dim()];
    env.reset(&mut rng);
    let mut episodes = 1;
    let start = Instant::now();
    for _ in 0..steps {
        for (a, (lo, hi)) in action.iter_mut().zip(bounds.low.iter().zip(&bounds.high)) {
            let u = (rng.next_u64() >> 11) as f64 * (-53.0f64).exp2();
            *a = f64::from((lo + (hi - lo) * u) as f32);
        }
        let step = env.step(&action)?;
        if step.terminated || step.truncated {
            env.reset(&mut rng);
            episodes += 1;
        }
    }
    Ok((steps as f64 / start.elapsed().as_secs_f64(), episodes))
}

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let env = EnvKind::from_name(&args.next().unwrap_or_else(|| "hopper".into())).map_err(|e| e.to_string())?;
    let steps = match args.next() {
        Some(n) => n.parse::<usize>().map_err(|e| format!("steps: {e}"))?,
        None => 20_000,
    };
    let (rate, episodes) = run(env, steps).map_err(|e| e.to_string())?;
    println!("{}: {steps} steps, {episodes} episodes, steps_per_s {rate:.0}", env.name());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_a_few_steps() {
        let (rate, episodes) = super::run(riskmdp::continuous::train::EnvKind::Hopper, 300).expect("setup");
        assert!(rate > 0.0 && episodes >= 1);
    }
}
