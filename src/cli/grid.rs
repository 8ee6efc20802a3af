//! `riskmdp grid` (feature `candle`): an experiment file expanded into numbered runs — list
//! them, run run K (one Slurm array task), write the `sbatch` script, run them all locally,
//! gather the finished logs. The work is [`riskmdp::grid`]'s.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Args, Subcommand};

use super::table::table;
use riskmdp::grid::{self, Experiment, Outcome, SbatchOptions, Status};

/// Run a grid of continuous runs from an experiment file: locally or as a Slurm job array.
#[derive(Args)]
pub struct GridArgs {
    #[command(subcommand)]
    command: GridCommand,
}

#[derive(Subcommand)]
enum GridCommand {
    /// Number the runs and say where each stands: done, failed, running or missing.
    List(ListArgs),
    /// Run run K (what Slurm array task K runs): skipped if done, else trained into its folder.
    Run(RunArgs),
    /// Write the `sbatch` script of the job array, one task per run, into `<out>/slurm/`.
    Sbatch(SbatchArgs),
    /// Run every unfinished run on this machine, N at a time (each `riskmdp grid run FILE K`).
    Local(LocalArgs),
    /// Write `manifest.json`: every run, its status and its folder (with `--to`, copy the
    /// finished runs' logs there first).
    Gather(GatherArgs),
}

#[derive(Args)]
struct ListArgs {
    /// The experiment file (JSON).
    file: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct RunArgs {
    /// The experiment file (JSON).
    file: PathBuf,
    /// The run's number (0-based; `$SLURM_ARRAY_TASK_ID`).
    k: usize,
    /// Threads for the tensor work, as `riskmdp train --threads`.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[derive(Args)]
struct SbatchArgs {
    /// The experiment file (JSON).
    file: PathBuf,
    /// Time limit of each task (`#SBATCH --time`, e.g. `4:00:00`).
    #[arg(long)]
    time: Option<String>,
    /// CPUs of each task (`#SBATCH --cpus-per-task`, and each run's `--threads`).
    #[arg(long, default_value_t = 1)]
    cpus: usize,
    /// The partition (`#SBATCH --partition`).
    #[arg(long)]
    partition: Option<String>,
    /// At most this many tasks at once (`--array=…%N`).
    #[arg(long)]
    max_running: Option<usize>,
    /// Only the runs not done and not running (resubmit the failed and missing ones).
    #[arg(long)]
    unfinished: bool,
    /// Only these runs, e.g. `--ids 3,7,12`.
    #[arg(long, value_delimiter = ',', conflicts_with = "unfinished")]
    ids: Option<Vec<usize>>,
}

#[derive(Args)]
struct LocalArgs {
    /// The experiment file (JSON).
    file: PathBuf,
    /// Runs at a time (default: the number of CPUs).
    #[arg(long)]
    jobs: Option<usize>,
    /// Threads of each run, as `riskmdp train --threads`.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[derive(Args)]
struct GatherArgs {
    /// The experiment file (JSON).
    file: PathBuf,
    /// Copy the finished runs' logs (not the checkpoints) into this folder and write the
    /// manifest there.
    #[arg(long)]
    to: Option<PathBuf>,
    /// Print the manifest as JSON.
    #[arg(long)]
    json: bool,
}

/// Run the subcommand: the text to print and whether every run it looked at is fine (exit
/// status 0), or the one-line error (exit status 2).
pub fn run(args: GridArgs) -> Result<(String, bool), String> {
    let load = |file: &Path| Experiment::load(file).map_err(|e| e.to_string());
    match args.command {
        GridCommand::List(a) => list(&load(&a.file)?, a.json),
        GridCommand::Run(a) => run_one(&load(&a.file)?, a.k, a.threads),
        GridCommand::Sbatch(a) => {
            let experiment = load(&a.file)?;
            sbatch(&experiment, a)
        }
        GridCommand::Local(a) => {
            let experiment = load(&a.file)?;
            local(&experiment, &a.file, a.jobs, a.threads)
        }
        GridCommand::Gather(a) => gather(&load(&a.file)?, a.to.as_deref(), a.json),
    }
}

/// The overrides that make no valid config, as warnings on stderr.
fn warn_overrides(experiment: &Experiment) {
    for (what, e) in experiment.check_overrides() {
        eprintln!("warning: {what} makes no valid config, its runs will fail: {e}");
    }
}

fn list(experiment: &Experiment, json: bool) -> Result<(String, bool), String> {
    let statuses: Vec<Status> = experiment.runs().iter().map(grid::status).collect();
    if json {
        #[derive(serde::Serialize)]
        struct Row<'a> {
            id: usize,
            task: &'a str,
            learner: &'a str,
            seed: u64,
            status: Status,
            dir: &'a Path,
        }
        let rows: Vec<Row> = experiment
            .runs()
            .iter()
            .zip(&statuses)
            .map(|(r, &status)| Row {
                id: r.id,
                task: r.task.name(),
                learner: &r.learner,
                seed: r.seed,
                status,
                dir: &r.dir,
            })
            .collect();
        return super::json(&rows).map(|text| (text, true)).map_err(|e| e.to_string());
    }
    let header = ["run", "task", "learner", "seed", "status", "folder"].map(String::from).to_vec();
    let rows = experiment
        .runs()
        .iter()
        .zip(&statuses)
        .map(|(r, s)| {
            vec![
                r.id.to_string(),
                r.task.name().into(),
                r.learner.clone(),
                r.seed.to_string(),
                s.to_string(),
                r.dir.display().to_string(),
            ]
        })
        .collect();
    let mut out = format!("{}: {} runs\n", experiment.name(), experiment.runs().len());
    out.push_str(&table(header, rows));
    out.push('\n');
    out.push_str(&counts(&statuses));
    for (what, e) in experiment.check_overrides() {
        out.push_str(&format!("\nwarning: {what} makes no valid config, its runs will fail: {e}"));
    }
    Ok((out, true))
}

/// `40 done, 0 failed, 0 running, 0 missing`.
fn counts(statuses: &[Status]) -> String {
    let n = |s: Status| statuses.iter().filter(|&&x| x == s).count();
    format!(
        "{} done, {} failed, {} running, {} missing",
        n(Status::Done),
        n(Status::Failed),
        n(Status::Running),
        n(Status::Missing)
    )
}

/// The ids of the runs with status `s`, `3, 7, 12` (or `none`).
fn ids_with(experiment: &Experiment, statuses: &[Status], s: Status) -> String {
    let ids: Vec<String> =
        experiment.runs().iter().zip(statuses).filter(|(_, x)| **x == s).map(|(r, _)| r.id.to_string()).collect();
    if ids.is_empty() { "none".into() } else { ids.join(", ") }
}

fn run_one(experiment: &Experiment, k: usize, threads: usize) -> Result<(String, bool), String> {
    let run = experiment.run(k).map_err(|e| e.to_string())?;
    if threads == 0 {
        return Err("--threads: must be at least 1".into());
    }
    // As `riskmdp train`: candle's matmul reads RAYON_NUM_THREADS on every call, the rest runs
    // on the pool installed below.
    // SAFETY: no other thread exists yet (only the experiment file has been read), so nothing
    // can read the environment concurrently.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| e.to_string())?;
    match pool.install(|| grid::execute(run)).map_err(|e| e.to_string())? {
        Outcome::Skipped => Ok((format!("run {k} ({}): already done, skipped", run.label()), true)),
        Outcome::Trained { final_return, seconds } => {
            let last = final_return.map_or(String::new(), |r| format!(", final return {}", super::table::num(r)));
            Ok((format!("run {k} ({}): done in {seconds:.1} s{last}; {}", run.label(), run.dir.display()), true))
        }
    }
}

fn sbatch(experiment: &Experiment, a: SbatchArgs) -> Result<(String, bool), String> {
    let binary = std::env::current_exe().map_err(|e| format!("cannot find the riskmdp binary: {e}"))?;
    let workdir = std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    let unfinished = a.unfinished.then(|| {
        experiment
            .runs()
            .iter()
            .filter(|r| matches!(grid::status(r), Status::Failed | Status::Missing))
            .map(|r| r.id)
            .collect::<Vec<_>>()
    });
    if unfinished.as_ref().is_some_and(Vec::is_empty) {
        return Ok(("every run is done or running: nothing to submit".into(), true));
    }
    let options = SbatchOptions {
        binary,
        workdir,
        time: a.time,
        cpus: a.cpus,
        partition: a.partition,
        max_running: a.max_running,
        ids: unfinished.or(a.ids),
    };
    let files = grid::write_sbatch(experiment, &options).map_err(|e| e.to_string())?;
    warn_overrides(experiment);
    Ok((
        format!(
            "wrote {} ({} tasks, --array={}): each runs {} grid run {} K\ntasks' output: {}/\nsubmit with: sbatch {}",
            files.script.display(),
            files.tasks,
            files.array,
            files.binary.display(),
            files.experiment.display(),
            files.logs.display(),
            files.script.display()
        ),
        true,
    ))
}

/// Run `riskmdp grid run FILE K` as a child process; its last stderr line on failure.
fn launch(binary: &Path, file: &Path, k: usize, threads: usize) -> Result<(), String> {
    let output = Command::new(binary)
        .args(["grid", "run"])
        .arg(file)
        .args([k.to_string(), "--threads".into(), threads.to_string()])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
    let last = last.strip_prefix("error: ").unwrap_or(last);
    Err(if last.is_empty() { format!("the process {}", output.status) } else { last.to_string() })
}

fn local(experiment: &Experiment, file: &Path, jobs: Option<usize>, threads: usize) -> Result<(String, bool), String> {
    if threads == 0 {
        return Err("--threads: must be at least 1".into());
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let binary = std::env::current_exe().map_err(|e| format!("cannot find the riskmdp binary: {e}"))?;
    warn_overrides(experiment);
    let report = grid::run_local(
        experiment,
        jobs,
        |run| launch(&binary, file, run.id, threads),
        |run, result, ended, total| match result {
            Ok(()) => eprintln!("[{ended}/{total}] run {} ({}): done", run.id, run.label()),
            Err(e) => eprintln!("[{ended}/{total}] run {} ({}): FAILED: {e}", run.id, run.label()),
        },
    )
    .map_err(|e| e.to_string())?;
    let mut out = format!(
        "{}: {} runs: {} done before (skipped), {} finished now, {} failed, {} running elsewhere (left alone)",
        experiment.name(),
        experiment.runs().len(),
        report.skipped.len(),
        report.finished.len(),
        report.failed.len(),
        report.running.len()
    );
    if !report.failed.is_empty() {
        let ids: Vec<String> = report.failed.iter().map(|(id, _)| id.to_string()).collect();
        out.push_str(&format!("\nfailed runs: {}", ids.join(", ")));
        for (id, message) in &report.failed {
            out.push_str(&format!("\n  run {id}: {message}"));
        }
    }
    Ok((out, report.failed.is_empty()))
}

fn gather(experiment: &Experiment, to: Option<&Path>, json: bool) -> Result<(String, bool), String> {
    let report = grid::gather(experiment, to).map_err(|e| e.to_string())?;
    let statuses: Vec<Status> = report.manifest.runs.iter().map(|r| r.status).collect();
    let complete = statuses.iter().all(|&s| s == Status::Done);
    if json {
        return super::json(&report.manifest).map(|text| (text, complete)).map_err(|e| e.to_string());
    }
    let out = format!(
        "wrote {}: {} runs, {}\nfailed: {}\nmissing: {}\nrunning: {}",
        report.manifest_path.display(),
        statuses.len(),
        counts(&statuses),
        ids_with(experiment, &statuses, Status::Failed),
        ids_with(experiment, &statuses, Status::Missing),
        ids_with(experiment, &statuses, Status::Running),
    );
    Ok((out, complete))
}
