//! The grid as a Slurm job array: one `sbatch` script, one array task per run.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Experiment, Result};
use crate::error::Error;

/// The folder under the output root for the script, its frozen copies of the binary and the
/// experiment file, and the array tasks' output files (`<name>-<job>_<task>.out`).
pub const SLURM_DIR: &str = "slurm";

/// The settings of [`write_sbatch`].
#[derive(Debug, Clone, PartialEq)]
pub struct SbatchOptions {
    /// The `riskmdp` binary the tasks run (copied next to the script).
    pub binary: PathBuf,
    /// The folder the tasks run in (`#SBATCH --chdir`): relative paths of the experiment
    /// resolve against it. Made absolute.
    pub workdir: PathBuf,
    /// `#SBATCH --time` (e.g. `2:00:00`, `1-00:00:00`), if given.
    pub time: Option<String>,
    /// `#SBATCH --cpus-per-task`, and each run's `--threads`.
    pub cpus: usize,
    /// `#SBATCH --partition`, if given.
    pub partition: Option<String>,
    /// At most this many tasks at once (`--array=…%N`), if given.
    pub max_running: Option<usize>,
    /// The run numbers of the array; `None`: every run.
    pub ids: Option<Vec<usize>>,
}

/// The files [`write_sbatch`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SbatchFiles {
    /// The script: submit it with `sbatch <script>`.
    pub script: PathBuf,
    /// The copy of the binary the tasks run.
    pub binary: PathBuf,
    /// The copy of the experiment file the tasks read.
    pub experiment: PathBuf,
    /// The folder of the tasks' output files.
    pub logs: PathBuf,
    /// The array's run numbers, as `--array` writes them.
    pub array: String,
    /// How many tasks.
    pub tasks: usize,
}

/// Sorted run numbers as Slurm's `--array` list: `0-3,7,9-12`.
///
/// # Examples
/// ```
/// assert_eq!(riskmdp::grid::array_spec(&[0, 1, 2, 3, 7, 9, 10]), "0-3,7,9-10");
/// ```
#[must_use]
pub fn array_spec(ids: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let start = ids[i];
        while i + 1 < ids.len() && ids[i + 1] == ids[i] + 1 {
            i += 1;
        }
        parts.push(if ids[i] == start { start.to_string() } else { format!("{start}-{}", ids[i]) });
        i += 1;
    }
    parts.join(",")
}

/// A path on one line of a shell script, single-quoted.
fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// The text of the `sbatch` script: `#SBATCH` lines, then `riskmdp grid run <experiment>
/// $SLURM_ARRAY_TASK_ID --threads <cpus>` by absolute paths (`binary`, `experiment`: the frozen
/// copies; `logs`: the tasks' output folder).
#[must_use]
pub fn sbatch_script(
    experiment: &Experiment,
    options: &SbatchOptions,
    binary: &Path,
    experiment_copy: &Path,
    logs: &Path,
    array: &str,
) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!(
        "# Experiment `{}` ({}), written by `riskmdp grid sbatch`: one array task per run;\n\
         # task K runs run K (`riskmdp grid list` numbers them). Submit with `sbatch <this file>`.\n",
        experiment.name(),
        experiment.path().display()
    ));
    s.push_str(&format!("#SBATCH --job-name={}\n", experiment.name()));
    s.push_str(&format!("#SBATCH --array={array}{}\n", options.max_running.map_or(String::new(), |m| format!("%{m}"))));
    s.push_str(&format!("#SBATCH --output={}/%x-%A_%a.out\n", logs.display()));
    s.push_str(&format!("#SBATCH --chdir={}\n", options.workdir.display()));
    s.push_str("#SBATCH --ntasks=1\n");
    s.push_str(&format!("#SBATCH --cpus-per-task={}\n", options.cpus));
    if let Some(time) = &options.time {
        s.push_str(&format!("#SBATCH --time={time}\n"));
    }
    if let Some(partition) = &options.partition {
        s.push_str(&format!("#SBATCH --partition={partition}\n"));
    }
    s.push_str("set -euo pipefail\n");
    s.push_str(&format!(
        "exec {} grid run {} \"$SLURM_ARRAY_TASK_ID\" --threads {}\n",
        quoted(binary),
        quoted(experiment_copy),
        options.cpus
    ));
    s
}

/// Check a value that goes into an `#SBATCH` line.
fn check_token(field: &str, value: &str, allowed: impl Fn(char) -> bool, what: &str) -> Result<()> {
    if value.is_empty() || !value.chars().all(allowed) {
        return Err(
            Error::InvalidParameter { name: field.into(), message: format!("`{value}`: expected {what}") }.into()
        );
    }
    Ok(())
}

/// Write the Slurm job array of `experiment` into `<out>/slurm/`: the script
/// `<name>.sbatch`, a copy of the binary (`riskmdp`) and of the experiment file
/// (`<name>.json`) for the tasks to run — so that rebuilding or editing them while the array
/// waits in the queue does not change its runs — and the folder of the tasks' output. Every
/// copy is written to a temporary file and renamed into place, so that tasks of an earlier
/// array still running keep theirs.
///
/// # Errors
/// [`Error::InvalidParameter`] naming `--cpus`, `--time`, `--partition`, `--max-running` for a
/// bad value, or `--ids` for a run number out of range or an empty list; [`Error::Io`] if a file
/// cannot be read or written.
pub fn write_sbatch(experiment: &Experiment, options: &SbatchOptions) -> Result<SbatchFiles> {
    let bad = |name: &str, message: String| Error::InvalidParameter { name: name.into(), message };
    if options.cpus == 0 {
        return Err(bad("--cpus", "must be at least 1".into()).into());
    }
    if options.max_running == Some(0) {
        return Err(bad("--max-running", "must be at least 1".into()).into());
    }
    if let Some(time) = &options.time {
        check_token("--time", time, |c| c.is_ascii_digit() || matches!(c, ':' | '-'), "a Slurm time such as 2:00:00")?;
    }
    if let Some(partition) = &options.partition {
        let name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ',');
        check_token("--partition", partition, name, "a partition name")?;
    }
    let n = experiment.runs().len();
    let mut ids = options.ids.clone().unwrap_or_else(|| (0..n).collect());
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(bad("--ids", "no runs to submit".into()).into());
    }
    if let Some(&k) = ids.iter().find(|&&k| k >= n) {
        return Err(bad("--ids", format!("there is no run {k}: `{}` has {n} runs", experiment.name())).into());
    }
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Io { path, source }
    };
    let workdir = std::path::absolute(&options.workdir).map_err(io(&options.workdir))?;
    let root = workdir.join(experiment.out()).join(SLURM_DIR);
    std::fs::create_dir_all(&root).map_err(io(&root))?;
    let binary = root.join("riskmdp");
    let bytes = std::fs::read(&options.binary).map_err(io(&options.binary))?;
    crate::io::write_atomic(&binary, &bytes)?;
    set_executable(&binary)?;
    let experiment_copy = root.join(format!("{}.json", experiment.name()));
    crate::io::write_atomic(&experiment_copy, experiment.text().as_bytes())?;
    let array = array_spec(&ids);
    let options = SbatchOptions { workdir, ..options.clone() };
    let script = root.join(format!("{}.sbatch", experiment.name()));
    let text = sbatch_script(experiment, &options, &binary, &experiment_copy, &root, &array);
    crate::io::write_atomic(&script, text.as_bytes())?;
    Ok(SbatchFiles { script, binary, experiment: experiment_copy, logs: root, array, tasks: ids.len() })
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|source| Error::Io { path: path.display().to_string(), source }.into())
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> Result<()> {
    Ok(())
}
