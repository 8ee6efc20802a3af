//! The experiment grid: one JSON file expanded into numbered runs of
//! [`train`](crate::continuous::train::train), run one at a time (what each task of a Slurm job
//! array does), N at a time on one machine, or as a Slurm job array, then gathered into one
//! manifest for the figures (feature `candle`).
//!
//! # The experiment file
//!
//! ```json
//! { "name": "mountain-car-seeds",
//!   "out": "results/mountain_car",
//!   "run_dir": "{learner}/seed-{seed}",
//!   "tasks": ["mountain-car"],
//!   "learners": [ { "algo": "beta-vmbpo", "variants": ["eps10", "eps1", "eps0.1"] }, "vmbpo" ],
//!   "seeds": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
//!   "preset": "mountain-car-cpu",
//!   "steps": 25000,
//!   "variants": [ { "name": "eps10", "config": {} },
//!                 { "name": "eps1", "config": { "epsilon": 1.0 } },
//!                 { "name": "eps0.1", "config": { "epsilon": 0.1 } } ] }
//! ```
//!
//! | field | meaning |
//! |---|---|
//! | `name` | the experiment's name: letters, digits, `.`, `_`, `-` (the Slurm job name) |
//! | `out` | the output root; relative paths are relative to the working directory, as `riskmdp train --out` |
//! | `run_dir` | optional: each run's folder under `out`, from `{task}`, `{learner}` and `{seed}`; default `{task}/{learner}/seed-{seed}`; no two runs may share one |
//! | `tasks` | environments, by their `riskmdp train --env` names |
//! | `learners` | an algorithm's `--algo` name, or `{ "algo": …, "variants": [names] }`: one learner per variant |
//! | `seeds` | training seeds |
//! | `preset` | a [`TrainConfig::preset`](crate::continuous::config::TrainConfig::preset) name |
//! | `steps` | environment steps of every run |
//! | `config` | optional: `TrainConfig` fields over the preset, for every run |
//! | `variants` | optional: named `TrainConfig` fields over `config`; a learner with variant `v` is named `<algo>-<v>` |
//!
//! Unknown keys are refused, and every field is checked when the file is read: a bad file is one
//! error line naming the field (`tasks[2]: unknown environment …`). The `config` objects are
//! passed through, not interpreted here: a run writes them to its folder as
//! [`OVERRIDES_FILE`] and reads them exactly as `riskmdp train --config` reads a file, so that a
//! bad override fails the runs that use it, each with a `failed.json` naming the field
//! ([`Experiment::check_overrides`] finds them beforehand).
//!
//! # Expansion order
//!
//! Run `k` (0-based: Slurm's `$SLURM_ARRAY_TASK_ID`) is the `k`-th of
//!
//! ```text
//! for seed in seeds:  for task in tasks:  for learner in learners:  for variant in learner.variants
//! ```
//!
//! in the order the file writes them. Seeds are outermost so that seeds appended to the file
//! add runs at the end and leave every existing run's number unchanged, and so that the first
//! `n·|tasks|·|learners|` runs are complete curves over the first `n` seeds.
//!
//! # One run's folder
//!
//! `riskmdp train --out`'s files (`config.json`, `log.jsonl`, `fits.jsonl`, the checkpoint),
//! and the grid's: [`RUN_FILE`] (what the run is), [`OVERRIDES_FILE`] (its `--config`),
//! [`RUNNING_FILE`] while it runs, then [`DONE_FILE`] — written atomically after the log and the
//! checkpoint are on disk — or [`FAILED_FILE`]. Only a `done.json` makes a run finished: a run
//! killed halfway leaves none, and is run again from the start. See [`status`] and [`execute`].
//!
//! # Files
//!
//! `experiment` ([`Experiment`], [`Run`]); `run` (markers, [`status`], [`execute`]); `local`
//! ([`run_local`]); `slurm` ([`write_sbatch`]); `gather` ([`gather`], [`Manifest`]).

mod experiment;
mod gather;
mod local;
mod run;
mod slurm;

pub use experiment::{DEFAULT_RUN_DIR, Experiment, MUJOCO_TASKS, Run};
pub use gather::{GatherReport, MANIFEST_FILE, Manifest, ManifestRun, gather};
pub use local::{LocalReport, run_local};
pub use run::{
    DONE_FILE, FAILED_FILE, OVERRIDES_FILE, Outcome, RUN_FILE, RUNNING_FILE, Status, execute, status, train_config,
};
pub use slurm::{SLURM_DIR, SbatchFiles, SbatchOptions, array_spec, sbatch_script, write_sbatch};

/// What can stop a grid command.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum GridError {
    /// The experiment file, a flag or a file of the grid is bad (the crate's error, naming the
    /// field).
    #[error(transparent)]
    Input(#[from] crate::Error),
    /// Run `id` failed; its folder holds a [`FAILED_FILE`] with the same message.
    #[error("run {id} ({label}) failed: {}", crate::error::one_line(.message))]
    RunFailed {
        /// The run's number.
        id: usize,
        /// Task, learner and seed.
        label: String,
        /// Why (one line).
        message: String,
    },
    /// Run `id` is being run by a live process on this machine.
    #[error("run {id} ({label}) is running in process {pid} on this machine; wait for it or stop it first")]
    Running {
        /// The run's number.
        id: usize,
        /// Task, learner and seed.
        label: String,
        /// The process running it.
        pid: u32,
    },
}

/// `Result` of this module.
pub type Result<T, E = GridError> = std::result::Result<T, E>;
