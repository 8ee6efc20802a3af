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
//! but the loop. Prints one line: the task, the steps, the episodes, `steps_per_s` (wall) and
//! `steps_per_cpu_s` (user + system CPU time of the process over the loop, the steadier figure
//! on a shared machine).

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use riskmdp::continuous::train::EnvKind;

/// CPU seconds (user + system) of this process so far, from `/proc/self/stat` (Linux; ticks of
/// 1/100 s), as in `examples/candle_updates.rs`.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// Run `steps` random steps of `env`; returns (steps per wall second, steps per CPU second if
/// readable, episodes started).
fn run(env: EnvKind, steps: usize) -> riskmdp::Result<(f64, Option<f64>, usize)> {
    let mut env = env.make()?;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let bounds = env.action_bounds();
    let mut action = vec![0.0; env.action_dim()];
    env.reset(&mut rng);
    let mut episodes = 1;
    let (start, cpu_start) = (Instant::now(), process_cpu_seconds());
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
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_start.zip(process_cpu_seconds()).map(|(a, b)| b - a).filter(|&c| c > 0.0);
    Ok((steps as f64 / wall, cpu.map(|c| steps as f64 / c), episodes))
}

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let env = EnvKind::from_name(&args.next().unwrap_or_else(|| "hopper".into())).map_err(|e| e.to_string())?;
    let steps = match args.next() {
        Some(n) => n.parse::<usize>().map_err(|e| format!("steps: {e}"))?,
        None => 20_000,
    };
    let (rate, cpu_rate, episodes) = run(env, steps).map_err(|e| e.to_string())?;
    let cpu_rate = cpu_rate.map_or_else(|| "na".to_owned(), |r| format!("{r:.0}"));
    println!("{}: {steps} steps, {episodes} episodes, steps_per_s {rate:.0}, steps_per_cpu_s {cpu_rate}", env.name());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_a_few_steps() {
        let (rate, _, episodes) = super::run(riskmdp::continuous::train::EnvKind::Hopper, 300).expect("setup");
        assert!(rate > 0.0 && episodes >= 1);
    }
}
