//! HalfCheetah-v4: a planar two-legged cat runs forward as fast as it can (gymnasium, MuJoCo).
//!
//! # Formula
//! ```text
//! a'      = a rounded to float32 (6 torques; MuJoCo clamps the controls to [−1, 1])
//! x, x'   = qpos[0] before and after 5 MuJoCo steps of 0.01 s          (dt = 0.05)
//! r       = (x' − x)/dt − 0.1·Σᵢ a'ᵢ²
//! terminated = never
//! obs     = (qpos[1..], qvel)                                       (8 + 9 = 17 numbers)
//! ```
//! There is no health check and no healthy reward. An episode starts at
//! `qpos0 + U(−0.1, 0.1)` and `0.1·N(0, 1)` velocities and is truncated after
//! [`MAX_EPISODE_STEPS`] steps.

use std::path::Path;

use rand::Rng;

use super::{MAX_EPISODE_STEPS, Sim, assets_dir};
use crate::continuous::env::{Bounds, Env, Step};
use crate::error::Result;

/// Simulator steps per environment step.
pub const FRAME_SKIP: usize = 5;
/// Weight of Σ a² in the reward.
pub const CTRL_COST_WEIGHT: f64 = 0.1;
/// Half-width of the uniform noise on positions, and the standard deviation of the Gaussian
/// noise on velocities, at reset.
pub const RESET_NOISE_SCALE: f64 = 0.1;

/// HalfCheetah-v4; see the [module documentation](self) for its equations.
#[derive(Debug)]
pub struct HalfCheetah {
    sim: Sim,
}

impl HalfCheetah {
    /// The model `half_cheetah.xml` from [`assets_dir`](super::assets_dir()), at its initial
    /// pose; call [`Env::reset`] or [`reset_to`](Self::reset_to) to start an episode.
    ///
    /// # Errors
    /// [`Error::MujocoModel`](crate::Error::MujocoModel) if the file is missing (run
    /// `scripts/setup-mujoco.sh`) or cannot be loaded.
    pub fn new() -> Result<Self> {
        Self::with_assets(&assets_dir())
    }

    /// The same, with the model read from `dir/half_cheetah.xml`.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_assets(dir: &Path) -> Result<Self> {
        Ok(Self { sim: Sim::load(dir, "half_cheetah.xml", FRAME_SKIP)? })
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

    /// The positions: x, z, the torso's angle, then the back thigh, shin and foot and the
    /// front thigh, shin and foot joint angles.
    #[must_use]
    pub fn qpos(&self) -> &[f64] {
        self.sim.qpos()
    }

    /// The velocities, in the order of [`qpos`](Self::qpos).
    #[must_use]
    pub fn qvel(&self) -> &[f64] {
        self.sim.qvel()
    }

    fn observation(&self) -> Vec<f64> {
        self.sim.qpos()[1..].iter().chain(self.sim.qvel()).copied().collect()
    }
}

impl Env for HalfCheetah {
    fn id(&self) -> &'static str {
        "HalfCheetah-v4"
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

    // `is_terminal`: the default, no terminal state.

    fn max_episode_steps(&self) -> usize {
        MAX_EPISODE_STEPS
    }

    /// Positions `qpos0 + U(±0.1)`, then velocities `0.1·N(0, 1)` (gymnasium's order of draws;
    /// the normal draws are `rand_distr`'s, not NumPy's).
    fn reset(&mut self, rng: &mut dyn Rng) -> Vec<f64> {
        self.sim.reset_noisy(rng, RESET_NOISE_SCALE, true);
        self.observation()
    }

    /// One step of the [module's formula](self).
    fn step(&mut self, action: &[f64]) -> Result<Step> {
        let m = self.sim.advance(self.id(), action, CTRL_COST_WEIGHT, |sim| sim.qpos()[0])?;
        let reward = m.x_velocity - m.ctrl_cost;
        Ok(Step { obs: self.observation(), reward, terminated: false, truncated: m.truncated })
    }
}
