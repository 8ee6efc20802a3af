//! Pendulum-v1: swing a pendulum up and hold it upright with a bounded torque (gymnasium).
//!
//! # Formula
//! ```text
//! u   = clip(a, −u_max, u_max)
//! r   = −(norm(θ)² + 0.1·θ̇² + 0.001·u²)            on the state before the step
//! θ̇'  = clip(θ̇ + (3g/(2l)·sin θ + 3/(m·l²)·u)·dt, −θ̇_max, θ̇_max)
//! θ'  = θ + θ̇'·dt                                    (not wrapped)
//! obs = [cos θ', sin θ', θ̇']
//! norm(θ) = ((θ + π) mod 2π) − π                    (angle from upright, wrapped)
//! ```
//! θ is the angle from upright (θ = 0 up, θ = π hanging down), θ̇ its angular velocity;
//! g = [`G`], m = [`M`], l = [`L`], dt = [`DT`], u_max = [`MAX_TORQUE`], θ̇_max = [`MAX_SPEED`].
//! An episode starts at θ ~ U(−π, π), θ̇ ~ U(−1, 1) and is truncated after
//! [`MAX_EPISODE_STEPS`] steps; it never terminates.
//!
//! # Float64 state, float32 torque, as in gymnasium
//! gymnasium keeps θ, θ̇ in float64. Given a float32 action, NumPy ≥ 2 keeps the torque terms
//! float32 — 3/(m·l²)·u and 0.001·u² are rounded to float32 — before adding them to float64
//! sums; [`Pendulum::step`] does the same. The observation is rounded to float32.

use std::f64::consts::PI;

use rand::Rng;

use super::{Bounds, Env, Step, single_action, uniform};
use crate::error::Result;

/// Largest torque |u|; actions are clipped to it.
pub const MAX_TORQUE: f64 = 2.0;
/// Largest angular speed |θ̇|.
pub const MAX_SPEED: f64 = 8.0;
/// Time step, in seconds.
pub const DT: f64 = 0.05;
/// Gravity g (gymnasium's default `g=10.0`).
pub const G: f64 = 10.0;
/// Mass m.
pub const M: f64 = 1.0;
/// Length l.
pub const L: f64 = 1.0;
/// Weight of θ̇² in the cost.
pub const SPEED_COST: f64 = 0.1;
/// Weight of u² in the cost.
pub const TORQUE_COST: f64 = 0.001;
/// Initial angle θ ~ U(−`RESET_ANGLE`, `RESET_ANGLE`).
pub const RESET_ANGLE: f64 = PI;
/// Initial speed θ̇ ~ U(−`RESET_SPEED`, `RESET_SPEED`).
pub const RESET_SPEED: f64 = 1.0;
/// gymnasium's `TimeLimit` for Pendulum-v1.
pub const MAX_EPISODE_STEPS: usize = 200;

/// The angle wrapped to [−π, π): `((θ + π) mod 2π) − π`, gymnasium's `angle_normalize`.
///
/// # Formula
/// ```text
/// norm(θ) = ((θ + π) mod 2π) − π,   with  x mod y = x − y·⌊x/y⌋ ∈ [0, y)
/// ```
#[must_use]
pub fn angle_normalize(theta: f64) -> f64 {
    // rem_euclid is NumPy's float `%` for a positive divisor (result in [0, 2π)).
    (theta + PI).rem_euclid(2.0 * PI) - PI
}

/// The inverted pendulum; see the [module documentation](self) for its equations.
///
/// The state is (θ, θ̇) in float64, as gymnasium stores it.
#[derive(Clone, Debug)]
pub struct Pendulum {
    theta: f64,
    theta_dot: f64,
    elapsed: usize,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new()
    }
}

impl Pendulum {
    /// A pendulum hanging down at rest (θ = π, θ̇ = 0); call [`Env::reset`] or
    /// [`reset_to`](Self::reset_to) to start an episode.
    #[must_use]
    pub fn new() -> Self {
        Self { theta: PI, theta_dot: 0.0, elapsed: 0 }
    }

    /// Start an episode from the state (θ, θ̇); returns the observation.
    pub fn reset_to(&mut self, theta: f64, theta_dot: f64) -> Vec<f64> {
        self.theta = theta;
        self.theta_dot = theta_dot;
        self.elapsed = 0;
        self.observation()
    }

    /// The state [θ, θ̇].
    #[must_use]
    pub fn state(&self) -> [f64; 2] {
        [self.theta, self.theta_dot]
    }

    /// [cos θ, sin θ, θ̇], each rounded to float32.
    fn observation(&self) -> Vec<f64> {
        [self.theta.cos(), self.theta.sin(), self.theta_dot].map(|x| f64::from(x as f32)).to_vec()
    }
}

impl Env for Pendulum {
    fn id(&self) -> &'static str {
        "Pendulum-v1"
    }

    fn observation_dim(&self) -> usize {
        3
    }

    fn action_dim(&self) -> usize {
        1
    }

    fn action_bounds(&self) -> Bounds {
        Bounds { low: vec![-MAX_TORQUE], high: vec![MAX_TORQUE] }
    }

    fn max_episode_steps(&self) -> usize {
        MAX_EPISODE_STEPS
    }

    /// θ ~ U(−π, π), then θ̇ ~ U(−1, 1) (gymnasium's order of draws).
    fn reset(&mut self, rng: &mut dyn Rng) -> Vec<f64> {
        let theta = uniform(rng, -RESET_ANGLE, RESET_ANGLE);
        let theta_dot = uniform(rng, -RESET_SPEED, RESET_SPEED);
        self.reset_to(theta, theta_dot)
    }

    /// One step of the [module's formula](self), with gymnasium's float32 torque terms.
    ///
    /// # Panics
    /// If `action` does not hold exactly one number.
    fn step(&mut self, action: &[f64]) -> Result<Step> {
        let u = (single_action(self.id(), action)? as f32).clamp(-MAX_TORQUE as f32, MAX_TORQUE as f32);
        let (theta, theta_dot) = (self.theta, self.theta_dot);

        let torque_cost = f64::from(TORQUE_COST as f32 * (u * u));
        let cost = angle_normalize(theta).powi(2) + SPEED_COST * theta_dot.powi(2) + torque_cost;

        let torque_term = f64::from((3.0 / (M * L * L)) as f32 * u);
        let accel = 3.0 * G / (2.0 * L) * theta.sin() + torque_term;
        self.theta_dot = (theta_dot + accel * DT).clamp(-MAX_SPEED, MAX_SPEED);
        self.theta = theta + self.theta_dot * DT;
        self.elapsed += 1;
        Ok(Step {
            obs: self.observation(),
            reward: -cost,
            terminated: false,
            truncated: self.elapsed >= MAX_EPISODE_STEPS,
        })
    }
}
