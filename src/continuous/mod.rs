//! Continuous state and action spaces: the setting of the paper's Algorithm 1 with function
//! approximators (App. C).
//!
//! * [`env`](mod@env) — the environments, in pure Rust with gymnasium's constants and arithmetic:
//!   MountainCarContinuous-v0 (the task of Fig. 4) and Pendulum-v1, behind the [`env::Env`]
//!   trait. Always built.
//! * `tensor` — the losses of [`crate::losses`] on candle tensors (feature `candle`).
//! * `nets` — the networks of App. C.1: MLP, tanh-squashed Gaussian actor, twin critics,
//!   probabilistic ensemble, every weight from a seeded generator (feature `candle`).

pub mod env;
#[cfg(feature = "candle")]
pub mod nets;
#[cfg(feature = "candle")]
pub mod tensor;
