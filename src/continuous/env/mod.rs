//! Episodic environments with continuous observations and actions, and the [`Env`] trait they
//! share.
//!
//! * [`MountainCar`] — gymnasium's MountainCarContinuous-v0 (the task of the paper's Fig. 4).
//! * [`Pendulum`] — gymnasium's Pendulum-v1.
//! * With feature `mujoco`: `Hopper`, `Walker2d`, `HalfCheetah`, `Ant` — gymnasium's v4
//!   locomotion tasks on MuJoCo 3.17.0 (the module `mujoco`).
//!
//! Both reproduce gymnasium's arithmetic, including where NumPy computes in float32, and are
//! tested against trajectories recorded from gymnasium itself (`bench/record_gym.py`,
//! `tests/fixtures/gym/`, `tests/continuous_envs.rs`).
//!
//! # Numbers: f64 at the interface, gymnasium's float32 where it has them
//!
//! Observations and actions cross the interface as `f64`. Both gymnasium environments declare
//! float32 spaces, so an action is first rounded to `f32`, as it is when it is stored in
//! gymnasium's action space, and an observation holds gymnasium's float32 values widened
//! exactly to `f64`. Inside a step each environment keeps the precision gymnasium keeps: the
//! car's state is float32, the pendulum's float64 (see each type's documentation).
//!
//! # Example
//! ```
//! use riskmdp::continuous::env::{Env, MountainCar};
//!
//! let mut env = MountainCar::new();
//! let mut obs = env.reset_seeded(0);
//! let mut total = 0.0;
//! loop {
//!     // Push in the direction of motion: enough to climb out of the valley.
//!     let step = env.step(&[if obs[1] >= 0.0 { 1.0 } else { -1.0 }])?;
//!     total += step.reward;
//!     obs = step.obs;
//!     if step.terminated || step.truncated {
//!         assert!(step.terminated, "the car reaches the goal");
//!         break;
//!     }
//! }
//! assert!(total > 80.0);
//! # Ok::<(), riskmdp::Error>(())
//! ```

pub mod mountain_car;
#[cfg(feature = "mujoco")]
pub mod mujoco;
pub mod pendulum;

pub use mountain_car::MountainCar;
#[cfg(feature = "mujoco")]
pub use mujoco::{Ant, HalfCheetah, Hopper, Walker2d};
pub use pendulum::Pendulum;

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// What one call of [`Env::step`] returns (gymnasium's `obs, reward, terminated, truncated`).
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The observation after the step, `observation_dim()` numbers.
    pub obs: Vec<f64>,
    /// The reward of the step.
    pub reward: f64,
    /// The episode ended in a terminal state of the task (e.g. the car at the goal): do not
    /// bootstrap from `obs`.
    pub terminated: bool,
    /// The episode reached [`Env::max_episode_steps`] (gymnasium's `TimeLimit`); `obs` is not
    /// terminal, so a learner still bootstraps from it. Both flags can be set at once.
    pub truncated: bool,
}

/// Per-coordinate bounds of the action box.
#[derive(Clone, Debug, PartialEq)]
pub struct Bounds {
    /// Lower bounds, `action_dim()` numbers.
    pub low: Vec<f64>,
    /// Upper bounds, `action_dim()` numbers.
    pub high: Vec<f64>,
}

/// An episodic environment with a continuous observation vector and a box of actions, in the
/// shape of gymnasium's API (`reset`, `step` → obs, reward, terminated, truncated), time limit
/// included.
///
/// The trait is object safe (`Box<dyn Env>` picks an environment at run time) and draws all
/// randomness from the generator passed to [`reset`](Env::reset), so one seed fixes an episode.
///
/// # Implementing it
/// A back end, e.g. a MuJoCo model such as Hopper, maps its own state to these calls:
/// * `observation_dim` / `action_dim` / `action_bounds` — its spaces (Hopper: the positions
///   but the first plus the velocities, 11 numbers; the actuator control ranges, 3 numbers);
/// * `reset` — set the initial state, with any noise drawn from `rng`, zero the step counter,
///   and return the first observation;
/// * `step` — clip the action to its bounds if the task does, advance the simulation (all its
///   sub-steps), and return the reward; `terminated` for the task's own end (Hopper: unhealthy
///   state), `truncated` once [`max_episode_steps`](Env::max_episode_steps) steps have been
///   taken since the last reset.
pub trait Env {
    /// gymnasium's id of the environment, e.g. `MountainCarContinuous-v0`.
    fn id(&self) -> &'static str;

    /// Length of an observation.
    fn observation_dim(&self) -> usize;

    /// Length of an action.
    fn action_dim(&self) -> usize;

    /// The box of valid actions; `step` clips to it where the task does.
    fn action_bounds(&self) -> Bounds;

    /// Whether `obs`, an observation as a replay buffer stores it (f32), is a terminal state of
    /// the task: the termination rule that model rollouts apply to a learnt model's next
    /// observation (the ensembles do not learn it; the public MBPO code writes one such rule
    /// per task, too). Default: no terminal state.
    fn is_terminal(&self, obs: &[f32]) -> bool {
        let _ = obs;
        false
    }

    /// Steps after which an episode is truncated (gymnasium's `max_episode_steps`).
    fn max_episode_steps(&self) -> usize;

    /// Start a new episode from the environment's initial-state distribution, drawn from
    /// `rng`; returns the first observation.
    fn reset(&mut self, rng: &mut dyn Rng) -> Vec<f64>;

    /// Start a new episode drawn from `ChaCha8Rng::seed_from_u64(seed)`: the same seed gives
    /// the same episode start, bit for bit, on every platform.
    fn reset_seeded(&mut self, seed: u64) -> Vec<f64> {
        self.reset(&mut ChaCha8Rng::seed_from_u64(seed))
    }

    /// Apply `action` (`action_dim()` numbers) for one time step.
    ///
    /// Stepping on after an episode has ended continues the dynamics and keeps counting steps
    /// (`truncated` stays set); call `reset` to start a new episode.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `action` if `action.len() != action_dim()` or a
    /// coordinate is not finite; the environment is left as it was.
    fn step(&mut self, action: &[f64]) -> Result<Step>;
}

/// A draw of U[low, high) by `rand`'s [`Uniform`](rand::distr::Uniform) (`random_range`):
/// the environments' reset noise. `low < high`.
fn uniform(rng: &mut dyn Rng, low: f64, high: f64) -> f64 {
    rng.random_range(low..high)
}

/// A draw of N(0, 1) (`rand_distr`'s [`StandardNormal`](rand_distr::StandardNormal)): the
/// MuJoCo tasks' reset noise of the velocities. It repeats NumPy's distribution, not its draws.
#[cfg(feature = "mujoco")]
fn normal(rng: &mut dyn Rng) -> f64 {
    rng.sample(rand_distr::StandardNormal)
}

/// The one action of a one-dimensional environment.
///
/// # Errors
/// [`Error::InvalidParameter`] naming `action` unless it holds exactly one finite number (a
/// NaN would clip to NaN and turn every later observation and reward into NaN).
fn single_action(id: &str, action: &[f64]) -> Result<f64> {
    match action {
        [a] if a.is_finite() => Ok(*a),
        [a] => Err(Error::InvalidParameter {
            name: "action".into(),
            message: format!("{id} takes a finite action, got {a}"),
        }),
        _ => Err(Error::InvalidParameter {
            name: "action".into(),
            message: format!("{id} takes 1 action coordinate, got {}", action.len()),
        }),
    }
}
