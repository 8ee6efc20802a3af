//! gymnasium's MuJoCo locomotion tasks, v4 (feature `mujoco`): [`Hopper`], [`Walker2d`],
//! [`HalfCheetah`] and [`Ant`], the tasks of the paper's Figs. 5, 7 and 8.
//!
//! Each one loads gymnasium's own XML model into MuJoCo 3.17.0 (through the crate `mujoco-rs`)
//! and repeats, in Rust, what gymnasium 1.4's `gymnasium/envs/mujoco/<task>_v4.py` does around
//! the simulator: the frame skip, the reset noise, the reward terms, the health check, the
//! observation layout and the 1000-step time limit. The physics is MuJoCo's, the same library
//! gymnasium runs, so a replay of gymnasium's trajectories from the same state agrees to
//! rounding (`tests/mujoco_envs.rs`, fixtures recorded by `bench/record_gym.py`).
//!
//! | task | model | frame skip | dt | obs | action | reset noise |
//! |---|---|---|---|---|---|---|
//! | [`Hopper`] Hopper-v4 | `hopper.xml` | 4 | 0.008 | 11 | 3 | qpos, qvel + U(±0.005) |
//! | [`Walker2d`] Walker2d-v4 | `walker2d.xml` | 4 | 0.008 | 17 | 6 | qpos, qvel + U(±0.005) |
//! | [`HalfCheetah`] HalfCheetah-v4 | `half_cheetah.xml` | 5 | 0.05 | 17 | 6 | qpos + U(±0.1), qvel + 0.1·N(0,1) |
//! | [`Ant`] Ant-v4 | `ant.xml` | 5 | 0.05 | 27 | 8 | qpos + U(±0.1), qvel + 0.1·N(0,1) |
//!
//! # Setup: where the library and the models come from
//! `scripts/setup-mujoco.sh` fetches the PyPI wheels `mujoco==3.17.0` and `gymnasium==1.4.0`
//! with `pip download` and extracts MuJoCo's shared library into `vendor/mujoco/lib/` and
//! gymnasium's XML files into `vendor/mujoco/assets/` (git-ignored).
//! * The **library** is linked at build time from `$MUJOCO_DYNAMIC_LINK_DIR`
//!   (`.cargo/config.toml` sets it to `vendor/mujoco/lib`); `build.rs` writes that folder into
//!   the binaries as an rpath, so they run without `LD_LIBRARY_PATH`. A build without the
//!   library stops with a line naming the setup script. (A library deleted *after* the build
//!   is reported by the system's loader before `main` runs: `error while loading shared
//!   libraries: libmujoco.so.3.17.0`.)
//! * The **models** are looked up at run time, in [`assets_dir`]: `$RISKMDP_MUJOCO_ASSETS`
//!   if set, else `vendor/mujoco/assets` of the checkout the crate was built from (a path
//!   compiled in). A missing file is one [`Error::MujocoModel`] line naming the setup script.
//!
//! # Numbers: gymnasium's float32 actions, MuJoCo's float64 state
//! An action is rounded to `f32`, the dtype of gymnasium's action box, and is **not clipped**
//! (gymnasium v4 does not clip; MuJoCo clamps each control to the actuator's `ctrlrange`,
//! while the control cost is charged on the action as given). NumPy ≥ 2 computes that cost in
//! float32 (`w·Σ a²` with a float32 `a` and a Python-float weight); so does [`ctrl_cost`]. The
//! state and the observation are MuJoCo's float64 numbers, not rounded.
//!
//! # Example
//! ```no_run
//! use riskmdp::continuous::env::{Env, Hopper};
//!
//! let mut env = Hopper::new()?; // needs scripts/setup-mujoco.sh to have run
//! let obs = env.reset_seeded(0);
//! assert_eq!(obs.len(), 11);
//! let step = env.step(&[0.1, -0.2, 0.3])?;
//! assert!(step.reward.is_finite());
//! # Ok::<(), riskmdp::Error>(())
//! ```

pub mod ant;
pub mod half_cheetah;
pub mod hopper;
pub mod walker2d;

pub use ant::Ant;
pub use half_cheetah::HalfCheetah;
pub use hopper::Hopper;
pub use walker2d::Walker2d;

use std::path::{Path, PathBuf};

use mujoco_rs::prelude::{MjData, MjModel};
use rand::Rng;

use super::{Bounds, normal, uniform};
use crate::error::{Error, Result};

/// The environment variable that overrides where the XML models are read from.
pub const ASSETS_ENV: &str = "RISKMDP_MUJOCO_ASSETS";

/// Where `scripts/setup-mujoco.sh` puts gymnasium's XML files in the checkout this crate was
/// built from (a path compiled in).
pub const DEFAULT_ASSETS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vendor/mujoco/assets");

/// gymnasium's `TimeLimit` for all four tasks.
pub const MAX_EPISODE_STEPS: usize = 1000;

/// The folder the models are read from: `$RISKMDP_MUJOCO_ASSETS` if set, else
/// [`DEFAULT_ASSETS_DIR`].
#[must_use]
pub fn assets_dir() -> PathBuf {
    std::env::var_os(ASSETS_ENV).map_or_else(|| PathBuf::from(DEFAULT_ASSETS_DIR), PathBuf::from)
}

/// `w·Σᵢ aᵢ²` in float32, as NumPy ≥ 2 computes gymnasium's `control_cost` for a float32 action:
/// each square rounded to `f32`, summed in `f32` in NumPy's order (one pass for fewer than 8
/// numbers, its pairwise tree for 8), times the weight rounded to `f32`.
///
/// # Formula
/// ```text
/// ctrl_cost(a) = w·Σᵢ aᵢ²        (w: the task's control-cost weight)
/// ```
#[must_use]
pub fn ctrl_cost(weight: f64, action: &[f32]) -> f64 {
    let squares: Vec<f32> = action.iter().map(|a| a * a).collect();
    // NumPy's pairwise_sum: a plain loop below 8 numbers; 8 partial sums, combined as a tree,
    // from 8 on (the tasks here have at most 8, so no remainder loop is needed beyond it).
    let sum = if squares.len() < 8 {
        squares.iter().fold(0.0f32, |s, x| s + x)
    } else {
        let mut r = [0.0f32; 8];
        r.copy_from_slice(&squares[..8]);
        let chunks = squares.len() / 8;
        for chunk in 1..chunks {
            for (ri, x) in r.iter_mut().zip(&squares[chunk * 8..chunk * 8 + 8]) {
                *ri += x;
            }
        }
        let tree = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        squares[chunks * 8..].iter().fold(tree, |s, x| s + x)
    };
    f64::from(weight as f32 * sum)
}

/// One MuJoCo model and its simulation state, with what gymnasium's `MujocoEnv` keeps around
/// them: the initial `qpos`/`qvel`, the frame skip, the action box, and the step counter.
pub(crate) struct Sim {
    data: MjData<Box<MjModel>>,
    init_qpos: Vec<f64>,
    init_qvel: Vec<f64>,
    frame_skip: usize,
    bounds: Bounds,
    elapsed: usize,
}

/// What [`Sim::advance`] measured over one environment step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Advance {
    /// `(x' − x)/dt`.
    pub(crate) x_velocity: f64,
    /// `weight·Σ a'²` of the float32 action.
    pub(crate) ctrl_cost: f64,
    /// The step reached the time limit.
    pub(crate) truncated: bool,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("qpos", &self.qpos())
            .field("qvel", &self.qvel())
            .field("frame_skip", &self.frame_skip)
            .field("elapsed", &self.elapsed)
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// Load `dir/file` and set up gymnasium's `MujocoEnv` around it: `init_qpos` = the model's
    /// `qpos0`, `init_qvel` = 0, the action box = the actuators' `ctrlrange` in float32.
    ///
    /// # Errors
    /// [`Error::MujocoModel`] if the file does not exist or MuJoCo cannot load it.
    pub(crate) fn load(dir: &Path, file: &str, frame_skip: usize) -> Result<Self> {
        let path = dir.join(file);
        let fail = |message: String| Error::MujocoModel { path: path.display().to_string(), message };
        if !path.is_file() {
            return Err(fail("no such file".into()));
        }
        let model = MjModel::from_xml(&path).map_err(|e| fail(format!("MuJoCo cannot load it: {e}")))?;
        let data = MjData::new(Box::new(model));
        let model = data.model();
        let init_qpos = model.qpos0().to_vec();
        let init_qvel = vec![0.0; data.qvel().len()];
        let (low, high) =
            model.actuator_ctrlrange().iter().map(|[lo, hi]| (f64::from(*lo as f32), f64::from(*hi as f32))).unzip();
        Ok(Self { data, init_qpos, init_qvel, frame_skip, bounds: Bounds { low, high }, elapsed: 0 })
    }

    pub(crate) fn qpos(&self) -> &[f64] {
        self.data.qpos()
    }

    pub(crate) fn qvel(&self) -> &[f64] {
        self.data.qvel()
    }

    pub(crate) fn bounds(&self) -> Bounds {
        self.bounds.clone()
    }

    pub(crate) fn action_dim(&self) -> usize {
        self.bounds.low.len()
    }

    /// The time one environment step covers: `timestep·frame_skip` (gymnasium's `dt`).
    pub(crate) fn dt(&self) -> f64 {
        self.data.model().opt().timestep * self.frame_skip as f64
    }

    /// The Cartesian position of body `id`'s frame (gymnasium's `get_body_com`).
    pub(crate) fn body_xpos(&self, id: usize) -> [f64; 3] {
        self.data.xpos()[id]
    }

    /// The id of the body called `name`.
    pub(crate) fn body_id(&self, name: &str) -> Option<usize> {
        self.data.model().name_to_id(mujoco_rs::prelude::MjtObjBase::mjOBJ_BODY, name)
    }

    /// Steps taken since the last reset, this one included, and whether that reaches the time
    /// limit.
    pub(crate) fn count_step(&mut self) -> bool {
        self.elapsed += 1;
        self.elapsed >= MAX_EPISODE_STEPS
    }

    /// gymnasium's `reset` with `set_state(qpos, qvel)`: `mj_resetData`, then the state, then
    /// `mj_forward`; the step counter back to 0.
    ///
    /// # Errors
    /// [`Error::Shape`] naming `qpos` / `qvel` for a wrong length, [`Error::NotFinite`] for a NaN
    /// or infinite coordinate; the state is left as it was.
    pub(crate) fn reset_to(&mut self, qpos: &[f64], qvel: &[f64]) -> Result<()> {
        for (field, values, expected) in [("qpos", qpos, self.init_qpos.len()), ("qvel", qvel, self.init_qvel.len())] {
            if values.len() != expected {
                return Err(Error::Shape {
                    field: field.into(),
                    what: "one per generalized coordinate of the model".into(),
                    expected,
                    found: values.len(),
                });
            }
            if let Some((i, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(Error::NotFinite { field: format!("{field}[{i}]"), context: String::new(), value });
            }
        }
        self.data.reset();
        self.data.qpos_mut().copy_from_slice(qpos);
        self.data.qvel_mut().copy_from_slice(qvel);
        self.data.forward();
        self.elapsed = 0;
        Ok(())
    }

    /// gymnasium's `reset_model`: `init_qpos + U(−scale, scale)` for every position, then for
    /// every velocity either `init_qvel + U(−scale, scale)` (`normal_qvel = false`) or
    /// `init_qvel + scale·N(0, 1)` (`true`), drawn in that order.
    pub(crate) fn reset_noisy(&mut self, rng: &mut dyn Rng, scale: f64, normal_qvel: bool) {
        let qpos: Vec<f64> = self.init_qpos.iter().map(|q| q + uniform(rng, -scale, scale)).collect();
        let qvel: Vec<f64> = if normal_qvel {
            self.init_qvel.iter().map(|v| v + scale * normal(rng)).collect()
        } else {
            self.init_qvel.iter().map(|v| v + uniform(rng, -scale, scale)).collect()
        };
        self.reset_to(&qpos, &qvel).expect("the noisy state has the model's sizes and is finite");
    }

    /// Check an action and round it to float32.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `action` unless it holds `action_dim()` finite numbers.
    pub(crate) fn action(&self, id: &str, action: &[f64]) -> Result<Vec<f32>> {
        let n = self.action_dim();
        if action.len() != n {
            return Err(Error::InvalidParameter {
                name: "action".into(),
                message: format!("{id} takes {n} action coordinates, got {}", action.len()),
            });
        }
        if let Some((i, a)) = action.iter().enumerate().find(|(_, a)| !a.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "action".into(),
                message: format!("{id} takes finite actions, got {a} at coordinate {i}"),
            });
        }
        Ok(action.iter().map(|&a| a as f32).collect())
    }

    /// One environment step of a locomotion task: the action checked and rounded to float32
    /// ([`Sim::action`]), [`Sim::simulate`], the forward velocity `(x' − x)/dt` of the
    /// coordinate `x(sim)` read before and after, the control cost `weight·Σ a'²`
    /// ([`ctrl_cost`]), and whether this step reaches the time limit ([`Sim::count_step`]).
    ///
    /// # Errors
    /// Those of [`Sim::action`]; nothing is simulated then.
    pub(crate) fn advance(
        &mut self,
        id: &str,
        action: &[f64],
        ctrl_cost_weight: f64,
        x: impl Fn(&Sim) -> f64,
    ) -> Result<Advance> {
        let action = self.action(id, action)?;
        let x_before = x(self);
        self.simulate(&action);
        let x_velocity = (x(self) - x_before) / self.dt();
        Ok(Advance { x_velocity, ctrl_cost: ctrl_cost(ctrl_cost_weight, &action), truncated: self.count_step() })
    }

    /// gymnasium's `do_simulation`: the controls set to the action, then `frame_skip` calls of
    /// `mj_step` (MuJoCo clamps each control to its `ctrlrange`). gymnasium then calls
    /// `mj_rnePostConstraint`, which fills only the contact forces (`cfrc_ext`) that the v4
    /// tasks' default observations and rewards do not read; it is skipped here.
    pub(crate) fn simulate(&mut self, action: &[f32]) {
        for (c, &a) in self.data.ctrl_mut().iter_mut().zip(action) {
            *c = f64::from(a);
        }
        for _ in 0..self.frame_skip {
            self.data.step();
        }
    }
}
