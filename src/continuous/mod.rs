//! Continuous state and action spaces: the setting of the paper's Algorithm 1 with function
//! approximators (App. C).
//!
//! * [`env`](mod@env) — the environments, in pure Rust with gymnasium's constants and arithmetic:
//!   MountainCarContinuous-v0 (the task of Fig. 4) and Pendulum-v1, behind the [`env::Env`]
//!   trait. Always built.
//! * `tensor` — the losses of [`crate::losses`] on candle tensors (feature `candle`).
//! * `nets` — the networks of App. C.1: MLP, tanh-squashed Gaussian actor, twin critics,
//!   probabilistic ensemble, every weight from a seeded generator (feature `candle`).
//! * `optim` — Adam as one fused in-place pass per variable, the optimiser of every network
//!   (feature `candle`).
//! * `config` — every hyperparameter of Table 1 (App. C.2), JSON in and out (feature `candle`).
//! * `buffer` — the replay buffers D_env and D_model (feature `candle`).
//! * `dynamics` — p_θ (Eq. 10), q_φ (Eq. 11) and the model rollouts (feature `candle`).
//! * `agent` — critics, variational and prior policy (Eqs. 12–14), SAC's losses (feature `candle`).
//! * `train` — the loop of Algorithm 1 for β-VMBPO, VMBPO, MBPO and SAC, checkpoints,
//!   evaluation (feature `candle`).

#[cfg(feature = "candle")]
pub mod agent;
#[cfg(feature = "candle")]
pub mod buffer;
#[cfg(feature = "candle")]
pub mod config;
#[cfg(feature = "candle")]
pub mod dynamics;
pub mod env;
#[cfg(feature = "candle")]
pub mod nets;
#[cfg(feature = "candle")]
pub mod numeric;
#[cfg(feature = "candle")]
pub mod optim;
#[cfg(feature = "candle")]
pub mod train;
