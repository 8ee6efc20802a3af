//! Walker2d-v4: a two-legged planar robot walks forward without falling (gymnasium, MuJoCo).
//!
//! # Formula
//! ```text
//! a'      = a rounded to float32 (6 torques; MuJoCo clamps the controls to [−1, 1])
//! x, x'   = qpos[0] before and after 4 MuJoCo steps of 0.002 s        (dt = 0.008)
//! r       = (x' − x)/dt + 1 − 0.001·Σᵢ a'ᵢ²
//! healthy = 0.8 < z < 2  and  −1 < θ < 1
//! terminated = not healthy        (the +1 is paid on that step too)
//! obs     = (qpos[1..], clip(qvel, −10, 10))                        (8 + 9 = 17 numbers)
//! ```
//! z = `qpos[1]` is the torso's height, θ = `qpos[2]` its angle; the bounds are strict. Unlike
//! Walker2d's, the check does not bound the other coordinates.
//! An episode starts at `qpos0 + U(−0.005, 0.005)` and `U(−0.005, 0.005)` velocities and is
//! truncated after [`MAX_EPISODE_STEPS`] steps.

use std::path::Path;

use rand::Rng;

use super::{MAX_EPISODE_STEPS, Sim, assets_dir};
use crate::continuous::env::{Bounds, Env, Step};
use crate::error::Result;

/// Simulator steps per environment step.
pub const FRAME_SKIP: usize = 4;
/// Weight of Σ a² in the reward.
pub const CTRL_COST_WEIGHT: f64 = 1e-3;
/// Reward for every step, the terminating one included.
pub const HEALTHY_REWARD: f64 = 1.0;
/// Healthy while the torso's height is in (`MIN_Z`, [`MAX_Z`]).
pub const MIN_Z: f64 = 0.8;
/// See [`MIN_Z`].
pub const MAX_Z: f64 = 2.0;
/// Healthy while |θ| is below this angle (strictly), in radians.
pub const MAX_ANGLE: f64 = 1.0;
/// Velocities are clipped to ±this in the observation.
pub const OBS_VELOCITY_CLIP: f64 = 10.0;
/// Half-width of the uniform reset noise on positions and velocities.
pub const RESET_NOISE_SCALE: f64 = 5e-3;

/// Walker2d-v4; see the [module documentation](self) for its equations.
#[derive(Debug)]
pub struct Walker2d {
    sim: Sim,
}

impl Walker2d {
    /// The model `walker2d.xml` from [`assets_dir`](super::assets_dir()), at its initial pose; call
    /// [`Env::reset`] or [`reset_to`](Self::reset_to) to start an episode.
    ///
    /// # Errors
    /// [`Error::MujocoModel`](crate::Error::MujocoModel) if the file is missing (run
    /// `scripts/setup-mujoco.sh`) or cannot be loaded.
    pub fn new() -> Result<Self> {
        Self::with_assets(&assets_dir())
    }

    /// The same, with the model read from `dir/walker2d.xml`.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_assets(dir: &Path) -> Result<Self> {
        Ok(Self { sim: Sim::load(dir, "walker2d.xml", FRAME_SKIP)? })
    }

    /// Start an episode from the state (`qpos`, `qvel`) — 9 numbers each — as gymnasium's
    /// `set_state` does after `reset`; returns the observation. The replay tests start here.
    ///
    /// # Errors
    /// [`Error::Shape`](crate::Error::Shape) or [`Error::NotFinite`](crate::Error::NotFinite)
    /// naming `qpos` / `qvel`.
    pub fn reset_to(&mut self, qpos: &[f64], qvel: &[f64]) -> Result<Vec<f64>> {
        self.sim.reset_to(qpos, qvel)?;
        Ok(self.observation())
    }

    /// The positions: x, z, θ, then the right thigh, leg and foot and the left thigh, leg and
    /// foot joint angles.
    #[must_use]
    pub fn qpos(&self) -> &[f64] {
        self.sim.qpos()
    }

    /// The velocities, in the order of [`qpos`](Self::qpos).
    #[must_use]
    pub fn qvel(&self) -> &[f64] {
        self.sim.qvel()
    }

    /// The health check of the [module's formula](self) on the current state.
    #[must_use]
    pub fn is_healthy(&self) -> bool {
        let (z, angle) = (self.sim.qpos()[1], self.sim.qpos()[2]);
        MIN_Z < z && z < MAX_Z && -MAX_ANGLE < angle && angle < MAX_ANGLE
    }

    fn observation(&self) -> Vec<f64> {
        let velocities = self.sim.qvel().iter().map(|v| v.clamp(-OBS_VELOCITY_CLIP, OBS_VELOCITY_CLIP));
        self.sim.qpos()[1..].iter().copied().chain(velocities).collect()
    }
}

impl Env for Walker2d {
    fn id(&self) -> &'static str {
        "Walker2d-v4"
    }

    fn observation_dim(&self) -> usize {
        17
    }

    fn action_dim(&self) -> usize {
        self.sim.action_dim()
    }

    fn action_bounds(&self) -> Bounds {
        self.sim.bounds()
    }

    /// The health check on an observation, as MBPO's `static_fns/walker2d.py` writes it:
    /// 0.8 < height `obs[0]` < 2 and −1 < angle `obs[1]` < 1.
    fn is_terminal(&self, obs: &[f32]) -> bool {
        let [z, angle, ..] = *obs else { return false };
        let (z, angle) = (f64::from(z), f64::from(angle));
        !(MIN_Z < z && z < MAX_Z && -MAX_ANGLE < angle && angle < MAX_ANGLE)
    }

    fn max_episode_steps(&self) -> usize {
        MAX_EPISODE_STEPS
    }

    /// Positions `qpos0 + U(±0.005)`, then velocities `U(±0.005)` (gymnasium's order of draws).
    fn reset(&mut self, rng: &mut dyn Rng) -> Vec<f64> {
        self.sim.reset_noisy(rng, RESET_NOISE_SCALE, false);
        self.observation()
    }

    /// One step of the [module's formula](self).
    fn step(&mut self, action: &[f64]) -> Result<Step> {
        let m = self.sim.advance(self.id(), action, CTRL_COST_WEIGHT, |sim| sim.qpos()[0])?;
        let reward = (m.x_velocity + HEALTHY_REWARD) - m.ctrl_cost;
        Ok(Step { obs: self.observation(), reward, terminated: !self.is_healthy(), truncated: m.truncated })
    }
}
