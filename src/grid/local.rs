//! The grid on one machine: N runs at a time.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use super::run::{mark_failed, status};
use super::{Experiment, Result, Run, Status};
use crate::error::Error;

/// What [`run_local`] did, by run number.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LocalReport {
    /// Runs finished before it started (skipped).
    pub skipped: Vec<usize>,
    /// Runs another live process was running (left alone).
    pub running: Vec<usize>,
    /// Runs it finished.
    pub finished: Vec<usize>,
    /// Runs that failed, with why (also in each run's `failed.json`), in run order.
    pub failed: Vec<(usize, String)>,
}

/// Run every unfinished run of `experiment`, `jobs` at a time, each by `launch`; skip the runs
/// that are [`Status::Done`] and leave those another live process is [`Status::Running`].
/// `on_finish(run, result, finished so far, to run)` is called as each launched run ends.
///
/// `launch` runs one run to its end: [`execute`](super::execute) in this process, or — what
/// `riskmdp grid local` does — `riskmdp grid run FILE K` as a child process. The CLI uses
/// processes, not threads, because (1) a run that panics, aborts or is killed takes down only
/// itself and is reported by its number, (2) each run sets its own thread count for candle's
/// matrix products (`RAYON_NUM_THREADS`, read from the environment of the process), as
/// `riskmdp train` does, so that a run's bytes equal `train`'s and an array task's, and
/// (3) it is exactly what each Slurm array task runs. The scheduling here is `jobs` plain
/// threads taking the next run number from a counter, so runs start in run order.
///
/// When `launch` fails and the run's folder holds no `failed.json` (a process killed before it
/// could write one), one is written with `launch`'s message.
///
/// # Errors
/// [`Error::InvalidParameter`] naming `--jobs` when `jobs` is 0.
pub fn run_local(
    experiment: &Experiment,
    jobs: usize,
    launch: impl Fn(&Run) -> std::result::Result<(), String> + Sync,
    on_finish: impl Fn(&Run, &std::result::Result<(), String>, usize, usize) + Sync,
) -> Result<LocalReport> {
    if jobs == 0 {
        return Err(Error::InvalidParameter { name: "--jobs".into(), message: "must be at least 1".into() }.into());
    }
    let mut report = LocalReport::default();
    let mut todo = Vec::new();
    for run in experiment.runs() {
        match status(run) {
            Status::Done => report.skipped.push(run.id),
            Status::Running => report.running.push(run.id),
            Status::Failed | Status::Missing => todo.push(run),
        }
    }
    let next = AtomicUsize::new(0);
    let ended = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(todo.len()) {
            scope.spawn(|| {
                while let Some(run) = todo.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let mut result = launch(run);
                    if let Err(message) = &result
                        && super::run::failure(run).is_none()
                        && let Err(e) = mark_failed(run, message)
                    {
                        result = Err(format!("{message}; and its failed marker: {e}"));
                    }
                    on_finish(run, &result, ended.fetch_add(1, Ordering::SeqCst) + 1, todo.len());
                    results.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((run.id, result));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by_key(|(id, _)| *id);
    for (id, result) in results {
        match result {
            Ok(()) => report.finished.push(id),
            Err(message) => report.failed.push((id, message)),
        }
    }
    Ok(report)
}
