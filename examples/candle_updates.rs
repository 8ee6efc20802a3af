//! Update rates of the library's continuous learner on candle (issue 11, "Speed"), the candle half
//! of the comparison with `bench/torch_updates.py` (PyTorch, the same work). Every timed step is
//! a call into the library, not a copy of it:
//!
//! ```text
//! cargo run --release --features candle --example candle_updates -- --case ac --updates 250
//! cargo run --release --features candle --example candle_updates -- --case ensemble --updates 200
//! cargo run --release --features candle --example candle_updates -- --case rollout --updates 250
//! ```
//!
//! Cases (f32, the sizes of Table 1 through a [`TrainConfig`] built here, batch 256):
//! * `ac` — one [`Agent::update`] with [`Objective::Sac`] (α = 0.2, γ = 0.99, τ = 0.005): the
//!   twin-critic TD step, the actor step, κ ← ω (the prior-policy copy every update makes) and
//!   the soft target update; actor obs → 256 → 256 → 2·act, critics obs+act → 256 → 256 → 1,
//!   ReLU, Adam 3e-4. One update is one call.
//! * `ensemble` — [`DynamicsModel::fit`] with [`FitObjective::Likelihood`] (Eq. 10) of the
//!   7-member ensemble obs+act → 200 → 200 → 200 → 200 → 2·(1 + obs) (Swish, or ReLU with
//!   `--activation relu`) on a D_env of 25·batch transitions: 20 % held out, so the training set
//!   is exactly 20 minibatches of `batch` per member, and `dynamics_epochs` = 5 (App. C.1) makes
//!   one fit 100 minibatch steps. One update is one minibatch step; `--updates` and `--warmup`
//!   are rounded up to whole fits. The timed fits include the fit's fixed work (gathering
//!   D_env, the shuffles, the standardiser, the holdout forward pass and the choice of elites);
//!   the program also times that work alone, as fits with `dynamics_epochs` = 0, and prints it
//!   as `fit_overhead_cpu_ms`.
//! * `rollout` — one call of [`rollout`]: `batch` one-step rollouts of MBPO's kind (p_θ alone,
//!   [`RolloutModels`] with no prior) from a D_env of 25·batch transitions into a model buffer:
//!   start states drawn, actor sample, one prediction of the 7 members with a random elite per
//!   sample and Gaussian noise, the transitions stored. Mountain Car only (`--obs 2 --act 1`:
//!   the rollout asks the environment which states are terminal).
//!
//! The data (the `ac` minibatch, D_env) are drawn once from the seeded generator and reused;
//! the actor's and the model's noise is drawn anew every update. After `--warmup` updates the
//! program times `--updates` more and prints one line with `updates_per_s` (wall) and
//! `updates_per_cpu_s` (the process's CPU time, all threads: steadier on a shared machine).
//!
//! Threads: `--threads N` (default 1) sets `RAYON_NUM_THREADS` (read by candle's matmul and
//! elementwise kernels) and builds the global rayon pool with N threads. mimalloc is the
//! global allocator, as in the training binary.

use std::time::Instant;

use candle_core::{DType, Device, Result, Tensor};
use clap::{Parser, ValueEnum};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use riskmdp::continuous::agent::{Agent, Objective};
use riskmdp::continuous::buffer::{ReplayBuffer, Transition, TransitionBatch};
use riskmdp::continuous::config::TrainConfig;
use riskmdp::continuous::dynamics::{DynamicsModel, FitObjective, RolloutModels, rollout};
use riskmdp::continuous::env::MountainCar;
use riskmdp::continuous::nets::{Activation, standard_normal};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// D_env holds this many minibatches of transitions: 5 held out (20 %), 20 to train on.
const ENV_BATCHES: usize = 25;
/// Epochs per model fit (App. C.1: a fixed 5), so a fit is 5 × 20 = 100 minibatch steps.
const FIT_EPOCHS: usize = 5;
/// Fits with no epoch timed to measure a fit's fixed work.
const OVERHEAD_FITS: usize = 20;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Case {
    /// `Agent::update` (SAC): twin-critic step, actor step, κ ← ω, soft target update.
    Ac,
    /// `DynamicsModel::fit` (likelihood): one update is one minibatch step of the ensemble.
    Ensemble,
    /// `dynamics::rollout`: `batch` one-step model rollouts (MBPO's, p_θ alone).
    Rollout,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModelActivation {
    Swish,
    Relu,
}

impl ModelActivation {
    fn get(self) -> Activation {
        match self {
            ModelActivation::Swish => Activation::Swish,
            ModelActivation::Relu => Activation::Relu,
        }
    }
}

#[derive(Debug, Parser)]
#[command(about = "Updates per second of riskmdp's continuous learner on candle (CPU).")]
struct Args {
    /// What one timed "update" is.
    #[arg(long, value_enum)]
    case: Case,
    /// Timed updates, after the warm-up (ensemble: minibatch steps, rounded up to whole fits).
    #[arg(long, default_value_t = 200)]
    updates: usize,
    /// Untimed updates first (ensemble: rounded up to whole fits).
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Observation width (Mountain Car 2, Hopper 11).
    #[arg(long, default_value_t = 2)]
    obs: usize,
    /// Action width (Mountain Car 1, Hopper 3).
    #[arg(long, default_value_t = 1)]
    act: usize,
    /// Batch size (per member for the ensemble; rollouts per update).
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// CPU threads for candle and rayon.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Hidden activation of the ensemble: Swish (public MBPO code) or ReLU (the paper's Table 1,
    /// what training uses).
    #[arg(long, value_enum, default_value_t = ModelActivation::Swish)]
    activation: ModelActivation,
    /// Seed of the weights, the data and the noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Table 1's sizes and step sizes (the defaults, written out: they are what is timed), with
/// the minibatch size of `args` and the fit of the `ensemble` case.
fn config(args: &Args) -> TrainConfig {
    TrainConfig {
        actor_hidden: vec![256; 2],
        critic_hidden: vec![256; 2],
        actor_lr: 3e-4,
        critic_lr: 3e-4,
        gamma: 0.99,
        tau: 0.005,
        sac_alpha: 0.2,
        batch_size: args.batch,
        ensemble_size: 7,
        elites: 5,
        dynamics_hidden: vec![200; 4],
        dynamics_lr: 3e-4,
        dynamics_batch_size: args.batch,
        dynamics_epochs: FIT_EPOCHS,
        dynamics_max_batches: 0,
        holdout: 0.2,
        max_holdout: 5000,
        ..TrainConfig::default()
    }
}

/// D_env: `ENV_BATCHES · batch` transitions of standard-normal states and rewards, tanh-squashed
/// normal actions, none terminal.
fn env_buffer(args: &Args, rng: &mut ChaCha8Rng) -> Result<ReplayBuffer> {
    let n = ENV_BATCHES * args.batch;
    let mut buffer = ReplayBuffer::new(args.obs, args.act, n);
    let values = |t: Tensor| t.flatten_all()?.to_vec1::<f32>();
    let obs = values(standard_normal(rng, &[n, args.obs])?)?;
    let action = values(standard_normal(rng, &[n, args.act])?.tanh()?)?;
    let reward = values(standard_normal(rng, &[n])?)?;
    let next_obs = values(standard_normal(rng, &[n, args.obs])?)?;
    let (o, a) = (args.obs, args.act);
    for i in 0..n {
        buffer.push(&Transition {
            obs: &obs[i * o..(i + 1) * o],
            action: &action[i * a..(i + 1) * a],
            reward: reward[i],
            next_obs: &next_obs[i * o..(i + 1) * o],
            terminated: false,
            log_ratio: 0.0,
        });
    }
    Ok(buffer)
}

/// One timed call: the updates it made and a loss, to check that two runs computed the same.
type Step = dyn FnMut(&mut ChaCha8Rng) -> Result<(usize, f64)>;

/// The `ac` case: [`Agent::update`] on one fixed minibatch.
fn actor_critic(args: &Args, rng: &mut ChaCha8Rng) -> Result<Box<Step>> {
    let config = config(args);
    let mut agent = Agent::new(args.obs, args.act, &config, rng)?;
    let b = config.batch_size;
    let batch = TransitionBatch {
        obs: standard_normal(rng, &[b, args.obs])?,
        action: standard_normal(rng, &[b, args.act])?.tanh()?,
        reward: standard_normal(rng, &[b])?,
        next_obs: standard_normal(rng, &[b, args.obs])?,
        not_done: Tensor::ones(b, DType::F32, &Device::Cpu)?,
        log_ratio: Tensor::zeros(b, DType::F32, &Device::Cpu)?,
    };
    let objective = Objective::Sac { alpha: config.sac_alpha };
    Ok(Box::new(move |rng| {
        let stats = agent.update(&batch, objective, config.gamma, config.tau, rng)?;
        Ok((1, stats.critic_loss))
    }))
}

/// The `ensemble` case: [`DynamicsModel::fit`]; also returns a fit's fixed work alone, CPU
/// and wall milliseconds (the mean of [`OVERHEAD_FITS`] fits with no epoch, after one untimed).
fn ensemble(args: &Args, rng: &mut ChaCha8Rng) -> Result<(Box<Step>, f64, f64)> {
    let config = config(args);
    let mut model = DynamicsModel::with_activation("model", args.obs, args.act, &config, args.activation.get(), rng)?;
    let data = env_buffer(args, rng)?;
    // The fit's own split: the holdout is a share of D_env, the rest trains.
    let n_train = data.len() - (data.len() as f64 * config.holdout) as usize;
    let steps = FIT_EPOCHS * n_train.div_ceil(config.dynamics_batch_size);
    let no_epochs = TrainConfig { dynamics_epochs: 0, ..config.clone() };
    model.fit(&data, FitObjective::Likelihood, &no_epochs, rng)?;
    let (cpu, start) = (process_cpu_seconds(), Instant::now());
    for _ in 0..OVERHEAD_FITS {
        model.fit(&data, FitObjective::Likelihood, &no_epochs, rng)?;
    }
    let wall_ms = start.elapsed().as_secs_f64() * 1e3 / OVERHEAD_FITS as f64;
    let cpu_ms = cpu.zip(process_cpu_seconds()).map_or(f64::NAN, |(a, b)| (b - a) * 1e3 / OVERHEAD_FITS as f64);
    let step = move |rng: &mut ChaCha8Rng| {
        let stats = model.fit(&data, FitObjective::Likelihood, &config, rng)?;
        Ok((steps, stats.train_loss))
    };
    Ok((Box::new(step), cpu_ms, wall_ms))
}

/// The `rollout` case: [`rollout`] of `batch` one-step MBPO rollouts.
fn model_rollout(args: &Args, rng: &mut ChaCha8Rng) -> Result<Box<Step>> {
    if (args.obs, args.act) != (2, 1) {
        candle_core::bail!("the rollout case runs Mountain Car's shape only (--obs 2 --act 1)")
    }
    let config = config(args);
    let agent = Agent::new(args.obs, args.act, &config, rng)?;
    let model = DynamicsModel::with_activation("model", args.obs, args.act, &config, args.activation.get(), rng)?;
    let start = env_buffer(args, rng)?;
    let env = MountainCar::new();
    let mut model_buffer = ReplayBuffer::new(args.obs, args.act, start.len());
    let rollouts = args.batch;
    Ok(Box::new(move |rng| {
        let models = RolloutModels { next_state: &model, prior: None };
        rollout(&start, models, agent.actor(), &env, rollouts, 1, &mut model_buffer, rng)?;
        // A number that depends on every draw: the last stored observation's sum.
        let last = model_buffer.len() - 1;
        Ok((1, model_buffer.obs(last).iter().map(|&x| f64::from(x)).sum()))
    }))
}

/// CPU seconds (user + system, all threads) of this process so far: the scheduler's
/// nanosecond count per thread in `/proc/self/task/*/schedstat`, what PyTorch's side reads as
/// `time.process_time()`; `/proc/self/stat`'s 1/100 s ticks where it is missing (Linux only).
fn process_cpu_seconds() -> Option<f64> {
    let from_schedstat = || -> Option<f64> {
        let mut ns = 0u64;
        for task in std::fs::read_dir("/proc/self/task").ok()? {
            let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
        }
        Some(ns as f64 * 1e-9)
    };
    let from_stat = || -> Option<f64> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(ticks as f64 / 100.0)
    };
    from_schedstat().or_else(from_stat)
}

/// What one run measured.
struct Rates {
    updates: usize,
    per_s: f64,
    per_cpu_s: Option<f64>,
    last_loss: f64,
    /// A fit's fixed work, CPU and wall ms (the `ensemble` case).
    fit_overhead_ms: Option<(f64, f64)>,
}

fn run(args: &Args) -> Result<Rates> {
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let (mut step, fit_overhead_ms) = match args.case {
        Case::Ac => (actor_critic(args, &mut rng)?, None),
        Case::Ensemble => {
            let (step, cpu_ms, wall_ms) = ensemble(args, &mut rng)?;
            (step, Some((cpu_ms, wall_ms)))
        }
        Case::Rollout => (model_rollout(args, &mut rng)?, None),
    };
    let mut done = 0;
    while done < args.warmup {
        done += step(&mut rng)?.0;
    }
    let cpu_start = process_cpu_seconds();
    let start = Instant::now();
    let (mut updates, mut last_loss) = (0, f64::NAN);
    while updates < args.updates {
        let (n, loss) = step(&mut rng)?;
        updates += n;
        last_loss = loss;
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_start.zip(process_cpu_seconds()).map(|(a, b)| b - a).filter(|&c| c > 0.0);
    Ok(Rates {
        updates,
        per_s: updates as f64 / wall,
        per_cpu_s: cpu.map(|c| updates as f64 / c),
        last_loss,
        fit_overhead_ms,
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    let threads = args.threads.max(1);
    // SAFETY: set before any other thread exists (the rayon pool is built just below), so no
    // thread can read the environment concurrently.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().map_err(candle_core::Error::wrap)?;
    let rates = run(&args)?;
    let name = |v: Option<clap::builder::PossibleValue>| v.map(|v| v.get_name().to_owned()).unwrap_or_default();
    let (case, activation) = (name(args.case.to_possible_value()), name(args.activation.to_possible_value()));
    let cpu_rate = rates.per_cpu_s.map_or_else(|| "na".to_owned(), |r| format!("{r:.1}"));
    let overhead = rates
        .fit_overhead_ms
        .map(|(cpu, wall)| format!(" fit_overhead_cpu_ms={cpu:.2} fit_overhead_wall_ms={wall:.2}"))
        .unwrap_or_default();
    println!(
        "backend=candle case={case} obs={} act={} batch={} activation={activation} threads={threads} updates={} \
         updates_per_s={:.1} updates_per_cpu_s={cpu_rate}{overhead} last_loss={:.6}",
        args.obs, args.act, args.batch, rates.updates, rates.per_s, rates.last_loss
    );
    Ok(())
}
