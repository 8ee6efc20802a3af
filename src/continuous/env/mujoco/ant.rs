//! Ant-v4: a four-legged robot walks forward (+x) without flipping or jumping away (gymnasium,
//! MuJoCo), with the v4 defaults: contact forces neither observed nor charged.
//!
//! # Formula
//! ```text
//! a'      = a rounded to float32 (8 torques; MuJoCo clamps the controls to [−1, 1])
//! x, x'   = x of the torso's frame (gymnasium's get_body_com("torso")) before and after
//!           5 MuJoCo steps of 0.01 s                                  (dt = 0.05)
//! r       = (x' − x)/dt + 1 − 0.5·Σᵢ a'ᵢ²
//! healthy = every number of (qpos, qvel) finite  and  0.2 ≤ z ≤ 1     (z = qpos[2])
//! terminated = not healthy        (the +1 is paid on that step too)
//! obs     = (qpos[2..], qvel)                                       (13 + 14 = 27 numbers)
//! ```
//! The torso's frame position is MuJoCo's `xpos`, which `mj_step` computes from the state
//! *before* its integration; after the step it lags the last substep, in gymnasium too.
//! The contact cost `5·10⁻⁴·Σ clip(cfrc_ext, −1, 1)²` and the 84 contact-force numbers enter
//! only with gymnasium's `use_contact_forces=True`, which v4 leaves off.
//! An episode starts at `qpos0 + U(−0.1, 0.1)` and `0.1·N(0, 1)` velocities and is truncated
//! after [`MAX_EPISODE_STEPS`] steps.

use std::path::Path;

use rand::Rng;

use super::{MAX_EPISODE_STEPS, Sim, assets_dir};
use crate::continuous::env::{Bounds, Env, Step};
use crate::error::{Error, Result};

/// Simulator steps per environment step.
pub const FRAME_SKIP: usize = 5;
/// Weight of Σ a² in the reward.
pub const CTRL_COST_WEIGHT: f64 = 0.5;
/// Reward for every step, the terminating one included.
pub const HEALTHY_REWARD: f64 = 1.0;
/// Healthy while the torso's height is in [`MIN_Z`, [`MAX_Z`]] (inclusive).
pub const MIN_Z: f64 = 0.2;
/// See [`MIN_Z`].
pub const MAX_Z: f64 = 1.0;
/// Half-width of the uniform noise on positions, and the standard deviation of the Gaussian
/// noise on velocities, at reset.
pub const RESET_NOISE_SCALE: f64 = 0.1;

/// Ant-v4; see the [module documentation](self) for its equations.
#[derive(Debug)]
pub struct Ant {
    sim: Sim,
    torso: usize,
}

impl Ant {
    /// The model `ant.xml` from [`assets_dir`](super::assets_dir()), at its initial pose; call
    /// [`Env::reset`] or [`reset_to`](Self::reset_to) to start an episode.
    ///
    /// # Errors
    /// [`Error::MujocoModel`] if the file is missing (run `scripts/setup-mujoco.sh`), cannot
    /// be loaded, or has no body called `torso`.
    pub fn new() -> Result<Self> {
        Self::with_assets(&assets_dir())
    }

    /// The same, with the model read from `dir/ant.xml`.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_assets(dir: &Path) -> Result<Self> {
        let sim = Sim::load(dir, "ant.xml", FRAME_SKIP)?;
        let torso = sim.body_id("torso").ok_or_else(|| Error::MujocoModel {
            path: dir.join("ant.xml").display().to_string(),
            message: "the model has no body called `torso`".into(),
        })?;
        Ok(Self { sim, torso })
    }

    /// Start an episode from the state (`qpos`: 15 numbers, the torso's position and
    /// quaternion then 8 joint angles; `qvel`: 14) as gymnasium's `set_state` does after
    /// `reset`; returns the observation. The replay tests start here.
    ///
    /// # Errors
    /// [`Error::Shape`] or [`Error::NotFinite`] naming `qpos` / `qvel`.
    pub fn reset_to(&mut self, qpos: &[f64], qvel: &[f64]) -> Result<Vec<f64>> {
        self.sim.reset_to(qpos, qvel)?;
        Ok(self.observation())
    }

    /// The positions: the torso's x, y, z and orientation quaternion, then the hip and ankle
    /// angles of the four legs.
    #[must_use]
    pub fn qpos(&self) -> &[f64] {
        self.sim.qpos()
    }

    /// The velocities: the torso's linear and angular velocity, then the 8 joints'.
    #[must_use]
    pub fn qvel(&self) -> &[f64] {
        self.sim.qvel()
    }

    /// The health check of the [module's formula](self) on the current state.
    #[must_use]
    pub fn is_healthy(&self) -> bool {
        let z = self.sim.qpos()[2];
        self.sim.qpos().iter().chain(self.sim.qvel()).all(|s| s.is_finite()) && (MIN_Z..=MAX_Z).contains(&z)
    }

    fn observation(&self) -> Vec<f64> {
        self.sim.qpos()[2..].iter().chain(self.sim.qvel()).copied().collect()
    }
}

impl Env for Ant {
    fn id(&self) -> &'static str {
        "Ant-v4"
    }

    fn observation_dim(&self) -> usize {
        27
    }

    fn action_dim(&self) -> usize {
        self.sim.action_dim()
    }

    fn action_bounds(&self) -> Bounds {
        self.sim.bounds()
    }

    /// The health check on an observation, as MBPO's `static_fns/ant.py` writes it: every
    /// number finite and 0.2 ≤ height `obs[0]` ≤ 1.
    fn is_terminal(&self, obs: &[f32]) -> bool {
        let Some(&z) = obs.first() else { return false };
        !(obs.iter().all(|x| x.is_finite()) && (MIN_Z..=MAX_Z).contains(&f64::from(z)))
    }

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
        let torso = self.torso;
        let m = self.sim.advance(self.id(), action, CTRL_COST_WEIGHT, |sim| sim.body_xpos(torso)[0])?;
        let reward = (m.x_velocity + HEALTHY_REWARD) - m.ctrl_cost;
        Ok(Step { obs: self.observation(), reward, terminated: !self.is_healthy(), truncated: m.truncated })
    }
}
