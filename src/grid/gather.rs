//! The finished runs' logs in one place, with a manifest the figures read.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::run::{DONE_FILE, OVERRIDES_FILE, RUN_FILE, failure, status};
use super::{Experiment, Result, Status};
use crate::continuous::train::{FITS_FILE, LOG_FILE};
use crate::error::Error;

/// The manifest's file name, in the output root (or the `to` folder of [`gather`]).
pub const MANIFEST_FILE: &str = "manifest.json";

/// The files of a finished run that [`gather`] copies: its logs and what it was, not the
/// checkpoint.
const GATHERED: [&str; 6] = ["config.json", LOG_FILE, FITS_FILE, RUN_FILE, OVERRIDES_FILE, DONE_FILE];

/// Every run of an experiment and where it stands: what a figure example reads to find the
/// logs of each curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The experiment's name.
    pub experiment: String,
    /// Every run, in run order.
    pub runs: Vec<ManifestRun>,
}

/// One run of a [`Manifest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestRun {
    /// The run's number.
    pub id: usize,
    /// The environment's `--env` name.
    pub task: String,
    /// The algorithm's `--algo` name.
    pub algo: String,
    /// The variant, if any.
    pub variant: Option<String>,
    /// `<algo>` or `<algo>-<variant>`: one curve of a figure.
    pub learner: String,
    /// The training seed.
    pub seed: u64,
    /// Environment steps.
    pub steps: usize,
    /// Where the run stood when gathered.
    pub status: Status,
    /// The run's folder, relative to the manifest's folder: `log.jsonl` (and `fits.jsonl` for
    /// β-VMBPO and VMBPO) are in it when the run is done.
    pub dir: PathBuf,
    /// Why it failed, for a failed run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Manifest {
    /// Read a manifest written by [`gather`].
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read; [`Error::Json`] naming the bad value.
    pub fn load(path: impl AsRef<Path>) -> crate::Result<Self> {
        let path = path.as_ref();
        crate::io::from_json_located(&crate::io::read_text(path)?, &path.display().to_string())
    }

    /// The runs with status `status`.
    pub fn with_status(&self, status: Status) -> impl Iterator<Item = &ManifestRun> {
        self.runs.iter().filter(move |r| r.status == status)
    }
}

/// What [`gather`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatherReport {
    /// The manifest written.
    pub manifest_path: PathBuf,
    /// Its content.
    pub manifest: Manifest,
}

/// Write the [`Manifest`] of `experiment` — every run with its status — to
/// `<out>/manifest.json`; with `to`, first copy each finished run's logs (`config.json`,
/// `log.jsonl`, `fits.jsonl`, `run.json`, `overrides.json`, `done.json`; not the checkpoint)
/// into `<to>/<run folder>/` and write the manifest there instead, so that `to` holds the logs
/// of the grid and nothing else (e.g. to commit them). The manifest is written atomically.
///
/// # Errors
/// [`Error::Io`] if a file cannot be copied or the manifest written.
pub fn gather(experiment: &Experiment, to: Option<&Path>) -> Result<GatherReport> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Io { path, source }
    };
    let root = to.unwrap_or(experiment.out());
    std::fs::create_dir_all(root).map_err(io(root))?;
    let mut runs = Vec::with_capacity(experiment.runs().len());
    for run in experiment.runs() {
        let status = status(run);
        if let (Some(to), Status::Done) = (to, status) {
            let dest = to.join(&run.rel_dir);
            std::fs::create_dir_all(&dest).map_err(io(&dest))?;
            for name in GATHERED {
                let source = run.dir.join(name);
                if source.is_file() {
                    let bytes = std::fs::read(&source).map_err(io(&source))?;
                    crate::io::write_atomic(&dest.join(name), &bytes)?;
                }
            }
        }
        runs.push(ManifestRun {
            id: run.id,
            task: run.task.name().into(),
            algo: run.algo.name().into(),
            variant: run.variant.clone(),
            learner: run.learner.clone(),
            seed: run.seed,
            steps: run.steps,
            status,
            dir: run.rel_dir.clone(),
            error: if status == Status::Failed { failure(run) } else { None },
        });
    }
    let manifest = Manifest { experiment: experiment.name().into(), runs };
    let manifest_path = root.join(MANIFEST_FILE);
    let mut text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    text.push('\n');
    crate::io::write_atomic(&manifest_path, text.as_bytes())?;
    Ok(GatherReport { manifest_path, manifest })
}
