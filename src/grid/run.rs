//! One run: its markers, its status, and running it in this process.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{GridError, Result, Run};
use crate::continuous::config::TrainConfig;
use crate::continuous::train::{CHECKPOINT_META, CHECKPOINT_TENSORS, FITS_FILE, LOG_FILE, train};
use crate::error::Error;

/// The marker of a finished run: written atomically (a temporary file renamed into place) after
/// the log and the checkpoint are on disk, so that it exists only beside a complete run.
pub const DONE_FILE: &str = "done.json";
/// The marker of a failed run: `{ "error": "<one line>" }`.
pub const FAILED_FILE: &str = "failed.json";
/// The marker of a run in progress: the process, its machine and its Slurm job.
pub const RUNNING_FILE: &str = "running.json";
/// What the run is: task, learner, seed, … and the equivalent `riskmdp train` arguments.
pub const RUN_FILE: &str = "run.json";
/// The run's `TrainConfig` overrides, read as `riskmdp train --config` reads its file (absent
/// when the run has none).
pub const OVERRIDES_FILE: &str = "overrides.json";
/// The config `train` writes into its output folder.
const CONFIG_FILE: &str = "config.json";

/// Where a run stands, from its folder alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// [`DONE_FILE`] is there: finished, skipped by every command that runs runs.
    Done,
    /// [`FAILED_FILE`] is there (and no [`DONE_FILE`]): run again by `local` and `run`.
    Failed,
    /// [`RUNNING_FILE`] names a live process on this machine, or a process on another machine
    /// (which cannot be checked from here: a task the scheduler killed shows as running until it
    /// is run again).
    Running,
    /// Nothing finished: no folder, or a run that was killed (its process is gone).
    Missing,
}

impl Status {
    /// `done`, `failed`, `running` or `missing`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Running => "running",
            Status::Missing => "missing",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What [`execute`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The run was finished already ([`DONE_FILE`]); nothing was touched.
    Skipped,
    /// The run was trained and is now finished.
    Trained {
        /// Mean return of the last evaluation, if there was one.
        final_return: Option<f64>,
        /// Wall-clock seconds.
        seconds: f64,
    },
}

#[derive(Serialize, Deserialize)]
struct RunningMarker {
    pid: u32,
    host: String,
    slurm_job_id: Option<String>,
}

#[derive(Serialize)]
struct DoneMarker {
    id: usize,
    label: String,
    final_step: Option<usize>,
    final_return: Option<f64>,
    seconds: f64,
}

#[derive(Serialize, Deserialize)]
struct FailedMarker {
    error: String,
}

#[derive(Serialize)]
struct RunDescription<'a> {
    id: usize,
    task: &'a str,
    algo: &'a str,
    variant: Option<&'a str>,
    learner: &'a str,
    seed: u64,
    steps: usize,
    preset: &'a str,
    overrides: &'a Map<String, Value>,
    /// The same run by `riskmdp train`.
    train_args: Vec<String>,
}

/// This machine's name (Linux), or empty where it cannot be read.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default()
}

/// The process of a [`RUNNING_FILE`], if it is alive on this machine: `None` when the marker is
/// missing or unreadable, names another machine, or its process is gone.
fn live_local_process(dir: &Path) -> Option<u32> {
    let marker: RunningMarker = serde_json::from_str(&std::fs::read_to_string(dir.join(RUNNING_FILE)).ok()?).ok()?;
    let here = host();
    let alive = marker.host == here && !here.is_empty() && Path::new("/proc").join(marker.pid.to_string()).exists();
    alive.then_some(marker.pid)
}

/// Where run `run` stands: [`Status::Done`] if its folder holds [`DONE_FILE`], else
/// [`Status::Failed`] if it holds [`FAILED_FILE`], else [`Status::Running`] if it holds a
/// [`RUNNING_FILE`] whose process is alive on this machine or that names another machine, else
/// [`Status::Missing`].
#[must_use]
pub fn status(run: &Run) -> Status {
    let dir = &run.dir;
    if dir.join(DONE_FILE).is_file() {
        return Status::Done;
    }
    if dir.join(FAILED_FILE).is_file() {
        return Status::Failed;
    }
    let Ok(text) = std::fs::read_to_string(dir.join(RUNNING_FILE)) else { return Status::Missing };
    match serde_json::from_str::<RunningMarker>(&text) {
        Ok(marker) if marker.host != host() => Status::Running,
        Ok(_) if live_local_process(dir).is_some() => Status::Running,
        _ => Status::Missing,
    }
}

/// The message of a failed run's [`FAILED_FILE`], if it has one.
pub(super) fn failure(run: &Run) -> Option<String> {
    let text = std::fs::read_to_string(run.dir.join(FAILED_FILE)).ok()?;
    serde_json::from_str::<FailedMarker>(&text).ok().map(|m| m.error)
}

fn json_bytes(value: &impl Serialize) -> Vec<u8> {
    // Plain structs of numbers and strings always serialise.
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Mark `run` failed with `message` (atomically) and drop its running marker. For a caller
/// that saw the run's process die before it could write the marker itself.
pub(super) fn mark_failed(run: &Run, message: &str) -> Result<()> {
    std::fs::create_dir_all(&run.dir).map_err(|source| Error::Io { path: run.dir.display().to_string(), source })?;
    crate::io::write_atomic(&run.dir.join(FAILED_FILE), &json_bytes(&FailedMarker { error: message.to_string() }))?;
    let _ = std::fs::remove_file(run.dir.join(RUNNING_FILE));
    Ok(())
}

/// The config of `riskmdp train --preset <preset> --config <overrides>`: the preset, with the
/// file's fields over it ([`TrainConfig::overlay_file`], as `train` does: an unknown key or a
/// wrong type is reported at its place in the file, then the merged fields are validated
/// together).
///
/// # Errors
/// [`Error::InvalidParameter`] for an unknown preset; [`Error::Io`] if the file cannot be read;
/// [`Error::Json`] for a malformed file, an unknown key or a wrong type; those of
/// [`TrainConfig::validate`].
pub fn train_config(preset: &str, overrides: Option<&Path>) -> crate::Result<TrainConfig> {
    let preset = TrainConfig::preset(preset)?;
    match overrides {
        Some(path) => preset.overlay_file(path),
        None => Ok(preset),
    }
}

/// The preset with `fields` over it, parsed and validated (`where_` names them in errors).
pub(super) fn merged_config(preset: &str, fields: &Map<String, Value>, where_: &str) -> crate::Result<TrainConfig> {
    TrainConfig::preset(preset)?.overlay(&Value::Object(fields.clone()).to_string(), where_)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.display().to_string(), source }
}

/// Run `run` in this process, unless it is finished: [`Outcome::Skipped`] when its folder holds
/// [`DONE_FILE`]. Otherwise: clear what an earlier try left, write [`RUNNING_FILE`],
/// [`RUN_FILE`] and [`OVERRIDES_FILE`], then exactly what `riskmdp train` does with
/// [`Run::train_args`] (same config, same bytes in the folder, on the same thread count), flush
/// the files to disk, and write [`DONE_FILE`] atomically. A failure — a bad override, a
/// training error, a panic — writes [`FAILED_FILE`] instead.
///
/// The tensor work runs on the calling thread's rayon pool, and candle's matrix products take
/// their thread count from `RAYON_NUM_THREADS`: `riskmdp grid run` sets both as `riskmdp train
/// --threads` does.
///
/// # Errors
/// [`GridError::RunFailed`] (with [`FAILED_FILE`] written) when the run fails;
/// [`GridError::Running`] when a live process on this machine is running it;
/// [`GridError::Input`] when its folder cannot be written.
pub fn execute(run: &Run) -> Result<Outcome> {
    let dir = &run.dir;
    if dir.join(DONE_FILE).is_file() {
        return Ok(Outcome::Skipped);
    }
    if let Some(pid) = live_local_process(dir).filter(|&pid| pid != std::process::id()) {
        return Err(GridError::Running { id: run.id, label: run.label(), pid });
    }
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    for stale in
        [FAILED_FILE, OVERRIDES_FILE, RUN_FILE, CONFIG_FILE, LOG_FILE, FITS_FILE, CHECKPOINT_META, CHECKPOINT_TENSORS]
    {
        let path = dir.join(stale);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_error(&path)(e).into()),
            _ => {}
        }
    }
    let marker =
        RunningMarker { pid: std::process::id(), host: host(), slurm_job_id: std::env::var("SLURM_JOB_ID").ok() };
    crate::io::write_atomic(&dir.join(RUNNING_FILE), &json_bytes(&marker))?;
    let started = Instant::now();
    match train_in(run) {
        Ok(report) => {
            let last = report.records.last();
            let seconds = started.elapsed().as_secs_f64();
            let done = DoneMarker {
                id: run.id,
                label: run.label(),
                final_step: last.map(|r| r.step),
                final_return: last.map(|r| r.eval_return),
                seconds,
            };
            crate::io::write_atomic(&dir.join(DONE_FILE), &json_bytes(&done))?;
            let _ = std::fs::remove_file(dir.join(RUNNING_FILE));
            Ok(Outcome::Trained { final_return: done.final_return, seconds })
        }
        Err(message) => {
            mark_failed(run, &message)?;
            Err(GridError::RunFailed { id: run.id, label: run.label(), message })
        }
    }
}

/// The run's files, its config and `train`; any failure as one line.
fn train_in(run: &Run) -> std::result::Result<crate::continuous::train::TrainReport, String> {
    let dir = &run.dir;
    let description = RunDescription {
        id: run.id,
        task: run.task.name(),
        algo: run.algo.name(),
        variant: run.variant.as_deref(),
        learner: &run.learner,
        seed: run.seed,
        steps: run.steps,
        preset: &run.preset,
        overrides: &run.overrides,
        train_args: run.train_args(),
    };
    crate::io::write_atomic(&dir.join(RUN_FILE), &json_bytes(&description)).map_err(|e| e.to_string())?;
    let overrides: Option<PathBuf> = (!run.overrides.is_empty()).then(|| dir.join(OVERRIDES_FILE));
    if let Some(path) = &overrides {
        crate::io::write_atomic(path, &json_bytes(&run.overrides)).map_err(|e| e.to_string())?;
    }
    let config = train_config(&run.preset, overrides.as_deref()).map_err(|e| e.to_string())?;
    // As `riskmdp train`: a run that ends inside the warm-up trains nothing.
    if run.steps <= config.warmup_steps {
        return Err(format!(
            "steps: {} is not more than the warm-up of {} random steps (warmup_steps): nothing would be trained",
            run.steps, config.warmup_steps
        ));
    }
    let trained = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        train(run.task, run.algo, &config, run.steps, run.seed, Some(dir), |_| {})
    }));
    let report = match trained {
        Ok(result) => result.map_err(|e| e.to_string())?,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            return Err(format!("training panicked (an internal fault of riskmdp): {}", crate::error::one_line(&what)));
        }
    };
    // On disk before the done marker: a machine that fails now leaves no `done.json` beside a
    // half-written log.
    for name in [CONFIG_FILE, LOG_FILE, FITS_FILE, CHECKPOINT_META, CHECKPOINT_TENSORS] {
        let path = dir.join(name);
        if path.exists() {
            std::fs::File::open(&path).and_then(|f| f.sync_all()).map_err(|e| io_error(&path)(e).to_string())?;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Experiment;
    use crate::losses::DualConfig;

    /// A fresh folder and an experiment of four runs in it, with variant `bad` making no valid
    /// config (`elites` above `ensemble_size`) and the others too short to train.
    fn setup(name: &str) -> (PathBuf, Experiment) {
        let dir = std::env::temp_dir().join(format!("riskmdp-grid-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch folder");
        let text = format!(
            r#"{{ "name": "t", "out": "{}", "tasks": ["pendulum"],
                 "learners": [{{ "algo": "sac", "variants": ["short", "bad"] }}],
                 "seeds": [1, 2], "preset": "pendulum-cpu", "steps": 10,
                 "variants": [{{ "name": "short", "config": {{}} }}, {{ "name": "bad", "config": {{ "elites": 99 }} }}] }}"#,
            dir.display()
        );
        let experiment = Experiment::parse(&text, dir.join("t.json")).expect("valid experiment");
        (dir, experiment)
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
        std::fs::write(path, text).expect("written");
    }

    #[test]
    fn status_is_read_from_the_markers() {
        let (dir, e) = setup("status");
        let run = &e.runs()[0];
        assert_eq!(status(run), Status::Missing, "no folder");
        // A run killed halfway: a log, no marker, or a running marker whose process is gone.
        write(&run.dir.join(LOG_FILE), "{\"step\":1000}\n");
        assert_eq!(status(run), Status::Missing);
        let marker = |pid: u32, host: &str| format!(r#"{{ "pid": {pid}, "host": "{host}", "slurm_job_id": null }}"#);
        write(&run.dir.join(RUNNING_FILE), &marker(u32::MAX - 1, &host()));
        assert_eq!(status(run), Status::Missing, "a dead process on this machine");
        write(&run.dir.join(RUNNING_FILE), &marker(std::process::id(), &host()));
        assert_eq!(status(run), Status::Running, "a live process on this machine");
        write(&run.dir.join(RUNNING_FILE), &marker(1, "another-node"));
        assert_eq!(status(run), Status::Running, "another machine cannot be checked");
        write(&run.dir.join(FAILED_FILE), r#"{ "error": "x" }"#);
        assert_eq!(status(run), Status::Failed);
        assert_eq!(failure(run).as_deref(), Some("x"));
        write(&run.dir.join(DONE_FILE), "{}");
        assert_eq!(status(run), Status::Done);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_finished_run_is_skipped_untouched() {
        let (dir, e) = setup("skip");
        let run = &e.runs()[0];
        write(&run.dir.join(DONE_FILE), "{}");
        write(&run.dir.join(LOG_FILE), "mine");
        assert_eq!(execute(run).expect("skipped"), Outcome::Skipped);
        assert_eq!(std::fs::read_to_string(run.dir.join(LOG_FILE)).expect("still there"), "mine");
        assert!(!run.dir.join(RUNNING_FILE).exists());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_failed_run_leaves_a_marker_naming_the_field_and_is_reported_by_id() {
        let (dir, e) = setup("failed");
        let bad = &e.runs()[1];
        assert_eq!(bad.variant.as_deref(), Some("bad"));
        let err = execute(bad).expect_err("elites > ensemble_size");
        assert!(matches!(err, GridError::RunFailed { id: 1, .. }), "{err:?}");
        assert!(err.to_string().starts_with("run 1 (pendulum sac-bad seed 1) failed: "), "{err}");
        assert!(err.to_string().contains("elites"), "{err}");
        assert_eq!(status(bad), Status::Failed);
        assert!(failure(bad).is_some_and(|m| m.contains("elites")));
        assert!(!bad.dir.join(RUNNING_FILE).exists() && !bad.dir.join(DONE_FILE).exists());
        // What the run was, for the reader of its folder.
        assert!(bad.dir.join(RUN_FILE).is_file() && bad.dir.join(OVERRIDES_FILE).is_file());

        // 10 steps are inside the preset's warm-up: refused as `riskmdp train` refuses them.
        let short = &e.runs()[0];
        let err = execute(short).expect_err("inside the warm-up").to_string();
        assert!(err.contains("warmup_steps"), "{err}");
        // A failed run is run again: its old marker is cleared first.
        write(&short.dir.join(FAILED_FILE), r#"{ "error": "old" }"#);
        let _ = execute(short);
        assert!(failure(short).is_some_and(|m| m.contains("warmup_steps")));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_run_another_live_process_holds_is_refused() {
        let (dir, e) = setup("busy");
        let run = &e.runs()[0];
        // pid 1 is alive on every Linux machine.
        if Path::new("/proc/1").exists() && !host().is_empty() {
            write(
                &run.dir.join(RUNNING_FILE),
                &format!(r#"{{ "pid": 1, "host": "{}", "slurm_job_id": null }}"#, host()),
            );
            assert!(matches!(execute(run), Err(GridError::Running { id: 0, pid: 1, .. })));
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn train_config_reads_overrides_as_riskmdp_train_does() {
        let (dir, _) = setup("config");
        let path = dir.join("o.json");
        write(&path, r#"{ "epsilon": 0.1 }"#);
        let config = train_config("mountain-car-cpu", Some(&path)).expect("valid");
        let expected = TrainConfig::mountain_car_cpu();
        assert_eq!(config, TrainConfig { dual: DualConfig { epsilon: 0.1, ..expected.dual.clone() }, ..expected });
        assert_eq!(train_config("paper", None).expect("preset"), TrainConfig::default());
        write(&path, r#"{ "epsilon": 0.1, "gama": 1 }"#);
        assert!(train_config("paper", Some(&path)).expect_err("unknown key").to_string().contains("gama"));
        write(&path, "[1]");
        assert!(train_config("paper", Some(&path)).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
