//! Update rates of the continuous networks on candle (issue 11, "Speed"), the candle half of
//! the comparison with `bench/torch_updates.py` (PyTorch, the same networks and losses).
//!
//! ```text
//! cargo run --release --features candle --example candle_updates -- --case ac --updates 400
//! cargo run --release --features candle --example candle_updates -- --case ensemble --updates 100
//! cargo run --release --features candle --example candle_updates -- --case rollout --updates 400
//! ```
//!
//! Cases (batch 256, Adam lr 3e-4 without weight decay, f32; the library's networks and its
//! fused Adam, or candle-nn's `AdamW` with `--adam candle-nn`):
//! * `ac` — one actor-critic update: the twin-critic TD step (target `r + γ(1 − d)(min Q̄(s', a')
//!   − α log π(a'|s'))`, a' reparameterised from the actor, no gradient), the actor step
//!   (`mean(α log π(a|s) − min Q(s, a))`, a = tanh(μ + σξ)) and the soft target update τ = 0.005.
//!   Actor obs → 256 → 256 → 2·act, critics obs+act → 256 → 256 → 1, ReLU.
//! * `ensemble` — one negative-log-likelihood step of the 7-member ensemble
//!   in → 200 → 200 → 200 → 200 → 2·(1 + obs) (Swish, or ReLU with `--activation relu`), 256 samples per member, with MBPO's
//!   log-variance bound term `0.01·(Σ max_lv − Σ min_lv)`.
//! * `rollout` — forward only: actor sample, then one ensemble prediction with Gaussian noise.
//!
//! The batch is drawn once and reused (replay-buffer sampling is not timed, on either side);
//! the actor's noise is drawn anew every update from our seeded generator. After `--warmup`
//! updates the program times `--updates` more and prints one line with `updates_per_s`.
//!
//! Threads: `--threads N` (default 1) sets `RAYON_NUM_THREADS` (read by candle's matmul and
//! elementwise kernels) and builds the global rayon pool with N threads. mimalloc is the
//! global allocator, as in the training binary.

use std::time::Instant;

use candle_core::{D, Device, Result, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use clap::{Parser, ValueEnum};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use riskmdp::continuous::nets::{
    Activation, Ensemble, GaussianActor, TAU, TwinCritic, copy_varmap, soft_update, sorted_vars, standard_normal,
};
use riskmdp::continuous::numeric::NumericTensor;
use riskmdp::continuous::optim::FusedAdam;
use riskmdp::losses::{self, sac_critic_target, sac_policy_loss};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Ensemble members (App. C.2).
const MEMBERS: usize = 7;
/// Hidden widths of the actor and the critics (SAC's 2×256).
const AC_HIDDEN: [usize; 2] = [256, 256];
/// Hidden widths of an ensemble member (MBPO's 4×200).
const ENSEMBLE_HIDDEN: [usize; 4] = [200, 200, 200, 200];
/// Adam's step size for every network here.
const LR: f64 = 3e-4;
/// Discount and entropy weight of the critic target (fixed: their values do not change the cost).
const GAMMA: f64 = 0.99;
const ALPHA: f64 = 0.2;
/// Weight of MBPO's log-variance bound term.
const LOG_VAR_BOUND_WEIGHT: f64 = 0.01;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Case {
    /// Twin-critic TD step + actor step + soft target update.
    Ac,
    /// One NLL step of the 7-member ensemble.
    Ensemble,
    /// Forward only: actor sample and one ensemble prediction.
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
#[command(about = "Updates per second of the continuous β-VMBPO networks on candle (CPU).")]
struct Args {
    /// What one timed "update" is.
    #[arg(long, value_enum)]
    case: Case,
    /// Timed updates, after the warm-up.
    #[arg(long, default_value_t = 200)]
    updates: usize,
    /// Untimed updates first.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Observation width (Mountain Car 2, Hopper 11).
    #[arg(long, default_value_t = 2)]
    obs: usize,
    /// Action width (Mountain Car 1, Hopper 3).
    #[arg(long, default_value_t = 1)]
    act: usize,
    /// NumericTensor size (per member for the ensemble).
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// CPU threads for candle and rayon.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Hidden activation of the ensemble: Swish (public MBPO code) or ReLU (the paper's Table 1).
    #[arg(long, value_enum, default_value_t = ModelActivation::Swish)]
    activation: ModelActivation,
    /// Adam implementation: the library's fused in-place one (what training uses) or candle-nn's
    /// AdamW with weight decay 0 (for comparison).
    #[arg(long, value_enum, default_value_t = AdamKind::Fused)]
    adam: AdamKind,
    /// Seed of the weights, the batch and the noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Which Adam implementation steps the networks.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum AdamKind {
    /// candle-nn's `AdamW` with weight decay 0: about a dozen tensor operations per variable,
    /// each a new allocation, then three copies back into the variables.
    CandleNn,
    /// The library's [`FusedAdam`]: one pass per variable, in place, the same arithmetic.
    Fused,
}

/// Adam, either candle-nn's or the fused one.
enum Adam {
    CandleNn(AdamW),
    Fused(FusedAdam),
}

impl Adam {
    fn new(kind: AdamKind, vars: Vec<Var>) -> Result<Self> {
        Ok(match kind {
            AdamKind::CandleNn => {
                Adam::CandleNn(AdamW::new(vars, ParamsAdamW { lr: LR, weight_decay: 0.0, ..ParamsAdamW::default() })?)
            }
            AdamKind::Fused => Adam::Fused(FusedAdam::new(vars, LR)?),
        })
    }

    fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        match self {
            Adam::CandleNn(opt) => opt.backward_step(loss),
            Adam::Fused(opt) => opt.backward_step(loss),
        }
    }
}

fn vars_of(varmap: &VarMap) -> Vec<Var> {
    sorted_vars(varmap).into_iter().map(|(_, var)| var).collect()
}

/// A replay batch: (s, a, r, s', d).
struct Transitions {
    obs: Tensor,
    action: Tensor,
    reward: Tensor,
    next_obs: Tensor,
    not_done: Tensor,
}

impl Transitions {
    fn draw(rng: &mut ChaCha8Rng, batch: usize, obs: usize, act: usize) -> Result<Self> {
        Ok(Self {
            obs: standard_normal(rng, &[batch, obs])?,
            action: standard_normal(rng, &[batch, act])?.tanh()?,
            reward: standard_normal(rng, &[batch])?,
            next_obs: standard_normal(rng, &[batch, obs])?,
            not_done: Tensor::ones(batch, candle_core::DType::F32, &Device::Cpu)?,
        })
    }
}

struct ActorCritic {
    actor: GaussianActor,
    critic: TwinCritic,
    target: TwinCritic,
    critic_vars: VarMap,
    target_vars: VarMap,
    actor_opt: Adam,
    critic_opt: Adam,
    batch: Transitions,
    noise_shape: [usize; 2],
}

impl ActorCritic {
    fn new(args: &Args, rng: &mut ChaCha8Rng) -> Result<Self> {
        let actor_vars = VarMap::new();
        let critic_vars = VarMap::new();
        let actor = GaussianActor::init(&actor_vars, "actor", args.obs, args.act, &AC_HIDDEN, rng)?;
        let critic = TwinCritic::init(&critic_vars, "critic", args.obs, args.act, &AC_HIDDEN, rng)?;
        let target_vars = copy_varmap(&critic_vars)?;
        let target = TwinCritic::load(&target_vars, "critic", args.obs, args.act, &AC_HIDDEN)?;
        Ok(Self {
            actor,
            critic,
            target,
            actor_opt: Adam::new(args.adam, vars_of(&actor_vars))?,
            critic_opt: Adam::new(args.adam, vars_of(&critic_vars))?,
            critic_vars,
            target_vars,
            batch: Transitions::draw(rng, args.batch, args.obs, args.act)?,
            noise_shape: [args.batch, args.act],
        })
    }

    fn update(&mut self, rng: &mut ChaCha8Rng) -> Result<Tensor> {
        let b = &self.batch;
        // Critic: TD step towards the clipped double-Q soft target (no gradient through it).
        // The library's formulas (riskmdp::losses), as the learners call them.
        let next = self.actor.sample(&b.next_obs, &standard_normal(rng, &self.noise_shape)?)?;
        let q_next = self.target.min(&b.next_obs, &next.action)?;
        let (r, not_done) = (NumericTensor::new(b.reward.clone()), NumericTensor::new(b.not_done.clone()));
        let y =
            sac_critic_target(r, not_done, NumericTensor::new(q_next), NumericTensor::new(next.log_prob), ALPHA, GAMMA)
                .into_tensor()?
                .detach();
        let (q1, q2) = self.critic.forward(&b.obs, &b.action)?;
        let critic_loss = (losses::critic_loss(NumericTensor::new(q1), NumericTensor::new(y.clone()))
            + losses::critic_loss(NumericTensor::new(q2), NumericTensor::new(y)))
        .into_tensor()?;
        self.critic_opt.backward_step(&critic_loss)?;
        // Actor: reparameterised tanh-Gaussian sample through the critics.
        let sample = self.actor.sample(&b.obs, &standard_normal(rng, &self.noise_shape)?)?;
        let q = self.critic.min(&b.obs, &sample.action)?;
        let actor_loss =
            sac_policy_loss(NumericTensor::new(sample.log_prob), NumericTensor::new(q), ALPHA).into_tensor()?;
        self.actor_opt.backward_step(&actor_loss)?;
        soft_update(&self.critic_vars, &self.target_vars, TAU)?;
        Ok(critic_loss)
    }
}

struct EnsembleStep {
    ensemble: Ensemble,
    min_log_var: Tensor,
    max_log_var: Tensor,
    opt: Adam,
    input: Tensor,
    target: Tensor,
}

impl EnsembleStep {
    fn new(args: &Args, rng: &mut ChaCha8Rng) -> Result<Self> {
        let vars = VarMap::new();
        let out = 1 + args.obs;
        let sizes = [&[args.obs + args.act][..], &ENSEMBLE_HIDDEN, &[out]].concat();
        let ensemble = Ensemble::init(&vars, "model", MEMBERS, &sizes, args.activation.get(), rng)?;
        let named = sorted_vars(&vars);
        let find = |name: &str| named.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_tensor().clone());
        let (Some(min_log_var), Some(max_log_var)) = (find("model.min_log_var"), find("model.max_log_var")) else {
            candle_core::bail!("the ensemble has no log-variance bounds")
        };
        Ok(Self {
            ensemble,
            min_log_var,
            max_log_var,
            opt: Adam::new(args.adam, vars_of(&vars))?,
            input: standard_normal(rng, &[MEMBERS, args.batch, args.obs + args.act])?,
            target: standard_normal(rng, &[MEMBERS, args.batch, out])?,
        })
    }

    fn update(&mut self) -> Result<Tensor> {
        let (mean, log_var) = self.ensemble.forward(&self.input)?;
        // Σ members [ mean((μ − y)²·e^{−lv}) + mean(lv) ], MBPO's training loss.
        let weighted = ((mean - &self.target)?.sqr()? * log_var.neg()?.exp()?)?;
        let per_member = (weighted.mean((1, 2))? + log_var.mean((1, 2))?)?;
        let bounds = (self.max_log_var.sum_all()? - self.min_log_var.sum_all()?)?;
        let loss = (per_member.sum_all()? + (bounds * LOG_VAR_BOUND_WEIGHT)?)?;
        self.opt.backward_step(&loss)?;
        Ok(loss)
    }
}

struct Rollout {
    actor: GaussianActor,
    ensemble: Ensemble,
    obs: Tensor,
    batch: usize,
    act: usize,
    out: usize,
}

impl Rollout {
    fn new(args: &Args, rng: &mut ChaCha8Rng) -> Result<Self> {
        let vars = VarMap::new();
        let out = 1 + args.obs;
        let actor = GaussianActor::init(&vars, "actor", args.obs, args.act, &AC_HIDDEN, rng)?;
        let sizes = [&[args.obs + args.act][..], &ENSEMBLE_HIDDEN, &[out]].concat();
        let ensemble = Ensemble::init(&vars, "model", MEMBERS, &sizes, args.activation.get(), rng)?;
        let obs = standard_normal(rng, &[args.batch, args.obs])?;
        Ok(Self { actor, ensemble, obs, batch: args.batch, act: args.act, out })
    }

    /// One model step for the whole batch: every member predicts, then Gaussian noise.
    fn update(&mut self, rng: &mut ChaCha8Rng) -> Result<Tensor> {
        let action = self.actor.sample(&self.obs, &standard_normal(rng, &[self.batch, self.act])?)?.action;
        let x = Tensor::cat(&[&self.obs, &action], D::Minus1)?.unsqueeze(0)?;
        let x = x.broadcast_as((MEMBERS, self.batch, x.dim(D::Minus1)?))?;
        let (mean, log_var) = self.ensemble.forward(&x)?;
        let noise = standard_normal(rng, &[MEMBERS, self.batch, self.out])?;
        let draw = (mean + ((log_var * 0.5)?.exp()? * noise)?)?;
        // Read the result back, as a rollout does to step its buffer.
        let values = draw.flatten_all()?.to_vec1::<f32>()?;
        Tensor::new(values.iter().sum::<f32>() / values.len() as f32, &Device::Cpu)
    }
}

/// CPU seconds (user + system) of this process so far, from `/proc/self/stat` (Linux; ticks of
/// 1/100 s): under a loaded machine, updates per CPU second move less than per wall second.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// One timed update, given the noise generator.
type Step = dyn FnMut(&mut ChaCha8Rng) -> Result<Tensor>;

/// Updates per wall second, per CPU second (when the CPU time can be read), and the loss of the
/// last update (the critic's for `ac`, the mean draw for `rollout`): a check that two
/// implementations computed the same thing.
fn run(args: &Args) -> Result<(f64, Option<f64>, f32)> {
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut step: Box<Step> = match args.case {
        Case::Ac => {
            let mut ac = ActorCritic::new(args, &mut rng)?;
            Box::new(move |rng| ac.update(rng))
        }
        Case::Ensemble => {
            let mut ens = EnsembleStep::new(args, &mut rng)?;
            Box::new(move |_| ens.update())
        }
        Case::Rollout => {
            let mut roll = Rollout::new(args, &mut rng)?;
            Box::new(move |rng| roll.update(rng))
        }
    };
    for _ in 0..args.warmup {
        step(&mut rng)?;
    }
    let cpu_start = process_cpu_seconds();
    let start = Instant::now();
    let mut last = Tensor::new(f32::NAN, &Device::Cpu)?;
    for _ in 0..args.updates {
        last = step(&mut rng)?;
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_start.zip(process_cpu_seconds()).map(|(a, b)| b - a).filter(|&c| c > 0.0);
    Ok((args.updates as f64 / wall, cpu.map(|c| args.updates as f64 / c), last.to_scalar::<f32>()?))
}

fn main() -> Result<()> {
    let args = Args::parse();
    let threads = args.threads.max(1);
    // SAFETY: set before any other thread exists (the rayon pool is built just below), so no
    // thread can read the environment concurrently.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().map_err(candle_core::Error::wrap)?;
    let (rate, cpu_rate, last_loss) = run(&args)?;
    let name = |v: Option<clap::builder::PossibleValue>| v.map(|v| v.get_name().to_owned()).unwrap_or_default();
    let (case, activation) = (name(args.case.to_possible_value()), name(args.activation.to_possible_value()));
    let adam = name(args.adam.to_possible_value());
    let cpu_rate = cpu_rate.map_or_else(|| "na".to_owned(), |r| format!("{r:.1}"));
    println!(
        "backend=candle case={case} obs={} act={} batch={} activation={activation} adam={adam} threads={threads} updates={} updates_per_s={rate:.1} \
         updates_per_cpu_s={cpu_rate} last_loss={last_loss:.6}",
        args.obs, args.act, args.batch, args.updates
    );
    Ok(())
}
