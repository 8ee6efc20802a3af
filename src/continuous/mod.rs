//! Continuous state and action spaces: the setting of the paper's Algorithm 1 with function
//! approximators (App. C).
//!
//! * [`env`](mod@env) — the environments, in pure Rust with gymnasium's constants and arithmetic:
//!   MountainCarContinuous-v0 (the task of Fig. 4) and Pendulum-v1, behind the [`env::Env`]
//!   trait.

pub mod env;
