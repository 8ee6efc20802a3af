//! MountainCarContinuous-v0: an under-powered car in a valley must swing back and forth to
//! reach the flag on the right hill (Moore 1990; gymnasium's continuous version). The task of
//! the paper's Fig. 4.
//!
//! # Formula
//! ```text
//! F  = clip(a, −1, 1)                                  force
//! v' = clip(v + F·P − 0.0025·cos(3x), −v_max, v_max)   velocity
//! x' = clip(x + v', x_min, x_max)                      position
//! v' = 0                      if x' = x_min and v' < 0  (inelastic left wall)
//! terminated = x' ≥ x_goal and v' ≥ v_goal
//! r  = 100·[terminated] − 0.1·a²                       (a unclipped)
//! ```
//! with P = [`POWER`], v_max = [`MAX_SPEED`], x_min = [`MIN_POSITION`], x_max =
//! [`MAX_POSITION`], x_goal = [`GOAL_POSITION`], v_goal = [`GOAL_VELOCITY`]. An episode starts
//! at rest, x ~ U([`RESET_LOW`], [`RESET_HIGH`]), and is truncated after
//! [`MAX_EPISODE_STEPS`] steps.
//!
//! # Float32, as in gymnasium
//! gymnasium (with NumPy ≥ 2) stores the state as float32 and, given a float32 action, computes
//! a step in float32 except for the cosine: `3x` and the force term F·P are float32, the slope
//! term 0.0025·cos(3x) is a float64 rounded to float32 before it is subtracted, and every
//! comparison with a constant (the clips, the goal test) is made in float32. A force clipped to
//! ±1 is a float64, so the whole increment F·P − 0.0025·cos(3x) is then float64, rounded once.
//! [`MountainCar::step`] does the same, so it reproduces gymnasium's observations bit for bit
//! (`tests/continuous_envs.rs`). One difference remains: gymnasium keeps the position drawn by
//! `reset` in float64 until the first step, while [`MountainCar`] rounds it to float32 at once,
//! so that its state always equals its observation; the first step can then differ by an ulp
//! of float32.

use rand::Rng;

use super::{Bounds, Env, Step, single_action, uniform};
use crate::error::Result;

/// Smallest action; the force is clipped to it.
pub const MIN_ACTION: f64 = -1.0;
/// Largest action; the force is clipped to it.
pub const MAX_ACTION: f64 = 1.0;
/// Left wall: the smallest position.
pub const MIN_POSITION: f64 = -1.2;
/// Right end of the track: the largest position.
pub const MAX_POSITION: f64 = 0.6;
/// Speed limit |v| ≤ v_max.
pub const MAX_SPEED: f64 = 0.07;
/// Position of the flag.
pub const GOAL_POSITION: f64 = 0.45;
/// Smallest velocity that counts as reaching the goal (gymnasium's default).
pub const GOAL_VELOCITY: f64 = 0.0;
/// Velocity change per unit of force and step, P.
pub const POWER: f64 = 0.0015;
/// Gravity along the hill: the slope term is `GRAVITY·cos(3x)`.
pub const GRAVITY: f64 = 0.0025;
/// Reward for reaching the goal.
pub const GOAL_REWARD: f64 = 100.0;
/// Weight of the action cost 0.1·a².
pub const ACTION_COST: f64 = 0.1;
/// Lower end of the initial-position range.
pub const RESET_LOW: f64 = -0.6;
/// Upper end of the initial-position range.
pub const RESET_HIGH: f64 = -0.4;
/// gymnasium's `TimeLimit` for MountainCarContinuous-v0.
pub const MAX_EPISODE_STEPS: usize = 999;

/// The continuous mountain car; see the [module documentation](self) for its equations.
///
/// The state is (position x, velocity v), stored in float32 as gymnasium stores it; the
/// observation is the state.
#[derive(Clone, Debug)]
pub struct MountainCar {
    position: f32,
    velocity: f32,
    elapsed: usize,
}

impl Default for MountainCar {
    fn default() -> Self {
        Self::new()
    }
}

impl MountainCar {
    /// A car at rest at x = −0.5, the middle of the initial-position range; call
    /// [`Env::reset`] or [`reset_to`](Self::reset_to) to start an episode.
    #[must_use]
    pub fn new() -> Self {
        Self { position: -0.5, velocity: 0.0, elapsed: 0 }
    }

    /// Start an episode from the given state, rounded to float32 (what setting
    /// `env.unwrapped.state` in gymnasium to a float32 array does); returns the observation.
    pub fn reset_to(&mut self, position: f64, velocity: f64) -> Vec<f64> {
        self.position = position as f32;
        self.velocity = velocity as f32;
        self.elapsed = 0;
        self.observation()
    }

    /// The state [x, v], widened to f64.
    #[must_use]
    pub fn state(&self) -> [f64; 2] {
        [f64::from(self.position), f64::from(self.velocity)]
    }

    fn observation(&self) -> Vec<f64> {
        self.state().to_vec()
    }
}

impl Env for MountainCar {
    fn id(&self) -> &'static str {
        "MountainCarContinuous-v0"
    }

    fn observation_dim(&self) -> usize {
        2
    }

    fn action_dim(&self) -> usize {
        1
    }

    /// `x ≥ 0.45 and v ≥ 0`, compared in float32 as [`Env::step`] compares the car's state.
    fn is_terminal(&self, obs: &[f32]) -> bool {
        matches!(obs, [x, v, ..] if *x >= GOAL_POSITION as f32 && *v >= GOAL_VELOCITY as f32)
    }

    fn action_bounds(&self) -> Bounds {
        Bounds { low: vec![MIN_ACTION], high: vec![MAX_ACTION] }
    }

    fn max_episode_steps(&self) -> usize {
        MAX_EPISODE_STEPS
    }

    /// x ~ U([`RESET_LOW`], [`RESET_HIGH`]) rounded to float32, v = 0.
    fn reset(&mut self, rng: &mut dyn Rng) -> Vec<f64> {
        let position = uniform(rng, RESET_LOW, RESET_HIGH);
        self.reset_to(position, 0.0)
    }

    /// One step of the [module's formula](self), in gymnasium's float32 arithmetic.
    ///
    /// # Panics
    /// If `action` does not hold exactly one number.
    fn step(&mut self, action: &[f64]) -> Result<Step> {
        let a = single_action(self.id(), action)? as f32;
        let (x, v) = (self.position, self.velocity);

        let slope = GRAVITY * f64::from(3.0 * x).cos();
        let dv = if (MIN_ACTION as f32..=MAX_ACTION as f32).contains(&a) {
            a * POWER as f32 - slope as f32
        } else {
            // gymnasium's clip returns the Python float ±1.0 here, which makes the sum float64.
            (f64::from(a.clamp(MIN_ACTION as f32, MAX_ACTION as f32)) * POWER - slope) as f32
        };
        let mut v = (v + dv).clamp(-MAX_SPEED as f32, MAX_SPEED as f32);
        let x = (x + v).clamp(MIN_POSITION as f32, MAX_POSITION as f32);
        if x <= MIN_POSITION as f32 && v < 0.0 {
            v = 0.0;
        }
        let terminated = x >= GOAL_POSITION as f32 && v >= GOAL_VELOCITY as f32;
        let goal = if terminated { GOAL_REWARD } else { 0.0 };
        let reward = goal - f64::from(a).powi(2) * ACTION_COST;

        self.position = x;
        self.velocity = v;
        self.elapsed += 1;
        Ok(Step { obs: self.observation(), reward, terminated, truncated: self.elapsed >= MAX_EPISODE_STEPS })
    }
}
