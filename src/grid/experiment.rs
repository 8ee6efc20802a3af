//! The experiment file and its expansion into numbered runs.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::continuous::config::TrainConfig;
use crate::continuous::train::{Algo, EnvKind};
use crate::error::{Error, Result};

/// Each run's folder under the output root when the file names none.
pub const DEFAULT_RUN_DIR: &str = "{task}/{learner}/seed-{seed}";

/// The MuJoCo tasks of Figs. 5, 7 and 8, by their `--env` names: an experiment naming one that
/// this build does not know is told so.
pub const MUJOCO_TASKS: [&str; 4] = ["hopper", "walker2d", "half-cheetah", "ant"];

/// The file as written (only its shape is checked by serde; the rest by [`Experiment::parse`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: String,
    #[serde(default, rename = "description")]
    _description: Option<String>,
    out: PathBuf,
    #[serde(default)]
    run_dir: Option<String>,
    tasks: Vec<String>,
    learners: Vec<Value>,
    seeds: Vec<u64>,
    preset: String,
    steps: usize,
    #[serde(default)]
    config: Map<String, Value>,
    #[serde(default)]
    variants: Vec<VariantFile>,
}

/// A learner written as an object.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LearnerFile {
    algo: String,
    #[serde(default)]
    variants: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariantFile {
    name: String,
    config: Map<String, Value>,
}

/// One run of the grid: `riskmdp train --env <task> --algo <algo> --steps <steps> --seed <seed>
/// --preset <preset> [--config <dir>/overrides.json] --out <dir>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The run's number, 0-based, in the expansion order of the [module docs](super).
    pub id: usize,
    /// The environment.
    pub task: EnvKind,
    /// The algorithm.
    pub algo: Algo,
    /// The variant's name, if the learner has variants.
    pub variant: Option<String>,
    /// `<algo>` or `<algo>-<variant>`.
    pub learner: String,
    /// The training seed.
    pub seed: u64,
    /// Environment steps.
    pub steps: usize,
    /// The preset's name.
    pub preset: String,
    /// The run's folder, relative to the output root.
    pub rel_dir: PathBuf,
    /// The run's folder: the output root joined with [`Run::rel_dir`].
    pub dir: PathBuf,
    /// The experiment's `config` with the variant's fields over it: `TrainConfig` fields over
    /// the preset (empty: the preset as it is, and no `--config`).
    pub overrides: Map<String, Value>,
}

impl Run {
    /// `task learner seed k`, e.g. `mountain-car beta-vmbpo-eps1 seed 3`.
    #[must_use]
    pub fn label(&self) -> String {
        format!("{} {} seed {}", self.task.name(), self.learner, self.seed)
    }

    /// The `riskmdp` arguments of the same run done by `riskmdp train` (which gives the same
    /// bytes in `--out`): `train --env … --algo … --steps … --seed … --preset …
    /// [--config <dir>/overrides.json] --out <dir> --force`.
    #[must_use]
    pub fn train_args(&self) -> Vec<String> {
        let mut args: Vec<String> = [
            "train",
            "--env",
            self.task.name(),
            "--algo",
            self.algo.name(),
            "--steps",
            &self.steps.to_string(),
            "--seed",
            &self.seed.to_string(),
            "--preset",
            &self.preset,
        ]
        .map(String::from)
        .to_vec();
        if !self.overrides.is_empty() {
            args.push("--config".into());
            args.push(self.dir.join(super::OVERRIDES_FILE).display().to_string());
        }
        args.extend(["--out".into(), self.dir.display().to_string(), "--force".into()]);
        args
    }
}

/// A validated experiment: its fields and its runs, in expansion order.
#[derive(Debug, Clone)]
pub struct Experiment {
    name: String,
    out: PathBuf,
    path: PathBuf,
    text: String,
    variants: Vec<(String, Map<String, Value>)>,
    config: Map<String, Value>,
    preset: String,
    runs: Vec<Run>,
}

/// An error naming `field`.
fn bad(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::InvalidParameter { name: field.into(), message: message.into() }
}

/// Whether `s` may name a folder or a Slurm job: letters, digits, `.`, `_`, `-`, not starting
/// with a dot.
fn is_safe_name(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('.') && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Names unique within `field`.
fn check_unique<'a>(field: &str, names: impl IntoIterator<Item = &'a str>) -> Result<()> {
    let mut seen = HashMap::new();
    for (i, name) in names.into_iter().enumerate() {
        if let Some(first) = seen.insert(name, i) {
            return Err(bad(format!("{field}[{i}]"), format!("`{name}` is already {field}[{first}]")));
        }
    }
    Ok(())
}

fn parse_task(i: usize, name: &str) -> Result<EnvKind> {
    EnvKind::from_name(name).map_err(|e| {
        let message = match e {
            Error::InvalidParameter { message, .. } => message,
            other => other.to_string(),
        };
        let hint = if MUJOCO_TASKS.contains(&name) {
            " (the MuJoCo tasks are not in this build: they need the environments of issue 19)"
        } else {
            ""
        };
        bad(format!("tasks[{i}]"), format!("{message}{hint}"))
    })
}

/// The folder of one run from the `run_dir` template (checked to hold only the placeholders).
fn expand_dir(template: &str, task: &str, learner: &str, seed: u64) -> PathBuf {
    let text = template.replace("{task}", task).replace("{learner}", learner).replace("{seed}", &seed.to_string());
    text.split('/').collect()
}

/// Check the `run_dir` template: relative, `/`-separated, components of safe characters and
/// the placeholders `{task}`, `{learner}`, `{seed}`.
fn check_run_dir(template: &str) -> Result<()> {
    let field = "run_dir";
    if template.is_empty() {
        return Err(bad(field, "is empty; the default is {task}/{learner}/seed-{seed}"));
    }
    for component in template.split('/') {
        let plain = component.replace("{task}", "t").replace("{learner}", "l").replace("{seed}", "0");
        if plain.contains(['{', '}']) {
            return Err(bad(field, format!("`{component}`: the placeholders are {{task}}, {{learner}} and {{seed}}")));
        }
        if !is_safe_name(&plain) {
            return Err(bad(
                field,
                format!(
                    "`{component}` is not a folder name of letters, digits, `.`, `_` and `-` (no leading dot, no empty \
                     part, relative to `out`)"
                ),
            ));
        }
    }
    Ok(())
}

impl Experiment {
    /// Read and validate an experiment file.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read; those of [`Experiment::parse`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        Self::parse(&crate::io::read_text(path)?, path)
    }

    /// Parse and validate an experiment (`path`: where it came from, for errors and
    /// [`Experiment::path`]) and expand it into runs.
    ///
    /// # Errors
    /// [`Error::Json`] for malformed JSON, a wrong type or an unknown key (naming it);
    /// [`Error::InvalidParameter`] naming the field for: an unsafe `name`, an empty `out`, an
    /// empty list, an unknown task, algorithm, preset or variant, a repeated entry, a variant no
    /// learner uses, `steps` = 0, a bad `run_dir` or one under which two runs share a folder.
    ///
    /// # Examples
    /// ```
    /// use riskmdp::grid::Experiment;
    /// let e = Experiment::parse(
    ///     r#"{ "name": "demo", "out": "runs", "tasks": ["pendulum", "mountain-car"],
    ///          "learners": ["sac", "beta-vmbpo"], "seeds": [1, 2], "preset": "pendulum-cpu", "steps": 2000 }"#,
    ///     "demo.json",
    /// )?;
    /// // Seeds outermost, then tasks, then learners.
    /// let labels: Vec<String> = e.runs().iter().map(|r| r.label()).collect();
    /// assert_eq!(labels[..3], ["pendulum sac seed 1", "pendulum beta-vmbpo seed 1", "mountain-car sac seed 1"]);
    /// assert_eq!(e.runs()[4].label(), "pendulum sac seed 2");
    /// assert_eq!(e.runs()[4].dir, std::path::Path::new("runs/pendulum/sac/seed-2"));
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file: File = crate::io::from_json_located(text, &path.display().to_string())?;
        if !is_safe_name(&file.name) {
            return Err(bad("name", format!("`{}`: use letters, digits, `.`, `_` and `-`", file.name)));
        }
        if file.out.as_os_str().is_empty() {
            return Err(bad("out", "is empty: name the folder the runs go to"));
        }
        for (field, n) in [("tasks", file.tasks.len()), ("learners", file.learners.len()), ("seeds", file.seeds.len())]
        {
            if n == 0 {
                return Err(bad(field, "is empty: the grid would have no runs"));
            }
        }
        if file.steps == 0 {
            return Err(bad("steps", "must be at least 1"));
        }
        let _known: TrainConfig = TrainConfig::preset(&file.preset).map_err(|e| match e {
            Error::InvalidParameter { message, .. } => bad("preset", message),
            other => other,
        })?;
        let tasks = file.tasks.iter().enumerate().map(|(i, t)| parse_task(i, t)).collect::<Result<Vec<_>>>()?;
        check_unique("tasks", file.tasks.iter().map(String::as_str))?;
        let seed_names: Vec<String> = file.seeds.iter().map(u64::to_string).collect();
        check_unique("seeds", seed_names.iter().map(String::as_str))?;

        for (i, v) in file.variants.iter().enumerate() {
            if !is_safe_name(&v.name) {
                return Err(bad(
                    format!("variants[{i}].name"),
                    format!("`{}`: use letters, digits, `.`, `_` and `-`", v.name),
                ));
            }
        }
        check_unique("variants", file.variants.iter().map(|v| v.name.as_str()))?;
        let variant_index: HashMap<&str, usize> =
            file.variants.iter().enumerate().map(|(i, v)| (v.name.as_str(), i)).collect();

        // Learners: (algo, variant index or none), flattened in written order.
        let mut learners: Vec<(Algo, Option<usize>)> = Vec::new();
        let mut used = HashSet::new();
        for (i, value) in file.learners.iter().enumerate() {
            let field = format!("learners[{i}]");
            let entry: LearnerFile = match value {
                Value::String(algo) => LearnerFile { algo: algo.clone(), variants: None },
                Value::Object(_) => serde_json::from_value(value.clone()).map_err(|e| bad(&field, e.to_string()))?,
                _ => return Err(bad(&field, "expected an algorithm's name or { \"algo\": …, \"variants\": [names] }")),
            };
            let algo = Algo::from_name(&entry.algo).map_err(|e| match e {
                Error::InvalidParameter { message, .. } => bad(format!("{field}.algo"), message),
                other => other,
            })?;
            match entry.variants {
                None => learners.push((algo, None)),
                Some(names) if names.is_empty() => {
                    return Err(bad(format!("{field}.variants"), "is empty: leave it out for the learner alone"));
                }
                Some(names) => {
                    for (j, name) in names.iter().enumerate() {
                        let index = *variant_index.get(name.as_str()).ok_or_else(|| {
                            bad(format!("{field}.variants[{j}]"), format!("no variant named `{name}` in `variants`"))
                        })?;
                        used.insert(index);
                        learners.push((algo, Some(index)));
                    }
                }
            }
        }
        if let Some(i) = (0..file.variants.len()).find(|i| !used.contains(i)) {
            return Err(bad(format!("variants[{i}]"), format!("`{}` is used by no learner", file.variants[i].name)));
        }
        let learner_names: Vec<String> = learners
            .iter()
            .map(|(algo, v)| match v {
                Some(v) => format!("{}-{}", algo.name(), file.variants[*v].name),
                None => algo.name().to_string(),
            })
            .collect();
        check_unique("learners (expanded by variant)", learner_names.iter().map(String::as_str))?;

        let template = file.run_dir.as_deref().unwrap_or(DEFAULT_RUN_DIR);
        check_run_dir(template)?;

        let mut runs = Vec::with_capacity(file.seeds.len() * tasks.len() * learners.len());
        let mut dirs: HashMap<PathBuf, usize> = HashMap::new();
        for &seed in &file.seeds {
            for &task in &tasks {
                for ((algo, variant), learner) in learners.iter().zip(&learner_names) {
                    let id = runs.len();
                    let rel_dir = expand_dir(template, task.name(), learner, seed);
                    if let Some(first) = dirs.insert(rel_dir.clone(), id) {
                        return Err(bad(
                            "run_dir",
                            format!(
                                "runs {first} and {id} would share the folder `{}`; use {{task}}, {{learner}} and {{seed}}",
                                rel_dir.display()
                            ),
                        ));
                    }
                    let mut overrides = file.config.clone();
                    if let Some(v) = variant {
                        overrides.extend(file.variants[*v].config.clone());
                    }
                    runs.push(Run {
                        id,
                        task,
                        algo: *algo,
                        variant: variant.map(|v| file.variants[v].name.clone()),
                        learner: learner.clone(),
                        seed,
                        steps: file.steps,
                        preset: file.preset.clone(),
                        dir: file.out.join(&rel_dir),
                        rel_dir,
                        overrides,
                    });
                }
            }
        }
        Ok(Experiment {
            name: file.name,
            out: file.out,
            path: path.to_path_buf(),
            text: text.to_string(),
            variants: file.variants.into_iter().map(|v| (v.name, v.config)).collect(),
            config: file.config,
            preset: file.preset,
            runs,
        })
    }

    /// The experiment's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The output root.
    #[must_use]
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// The file it was read from.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's text as read (the Slurm script runs a copy of it).
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every run, in expansion order: `runs()[k].id == k`.
    #[must_use]
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// Run `k`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `K` when there is no run `k`.
    pub fn run(&self, k: usize) -> Result<&Run> {
        self.runs.get(k).ok_or_else(|| {
            bad(
                "K",
                format!(
                    "there is no run {k}: `{}` has {} runs, 0 to {}",
                    self.name,
                    self.runs.len(),
                    self.runs.len() - 1
                ),
            )
        })
    }

    /// The overrides that do not make a valid config, each with the error its runs will fail
    /// with: the experiment's `config` (named `config`) and each variant (`variants[i]`) over
    /// the preset. The runs themselves apply them through [`train_config`](super::train_config),
    /// as `riskmdp train --config` does; this finds a typo before a cluster runs the grid.
    #[must_use]
    pub fn check_overrides(&self) -> Vec<(String, Error)> {
        let mut problems = Vec::new();
        let check =
            |overrides: &Map<String, Value>| super::run::merged_config(&self.preset, overrides, "<overrides>").err();
        let bare = self.runs.iter().any(|r| r.variant.is_none());
        if let Some(e) = check(&self.config).filter(|_| bare) {
            problems.push(("config".to_string(), e));
        }
        for (i, (name, config)) in self.variants.iter().enumerate() {
            let mut overrides = self.config.clone();
            overrides.extend(config.clone());
            if let Some(e) = check(&overrides) {
                problems.push((format!("variants[{i}] (`{name}`)"), e));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid experiment with `extra` fields replacing or adding to the base ones.
    fn experiment(extra: &str) -> Result<Experiment> {
        let mut base: Value = serde_json::from_str(
            r#"{ "name": "t", "out": "o", "tasks": ["pendulum", "mountain-car"],
                 "learners": [{ "algo": "beta-vmbpo", "variants": ["a", "b"] }, "sac"],
                 "seeds": [1, 2], "preset": "pendulum-cpu", "steps": 2000,
                 "variants": [{ "name": "a", "config": {} }, { "name": "b", "config": { "beta0": 5 } }] }"#,
        )
        .expect("base JSON");
        let extra: Value = serde_json::from_str(extra).expect("extra JSON");
        if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                if v.is_null() {
                    base.remove(k);
                } else {
                    base.insert(k.clone(), v.clone());
                }
            }
        }
        Experiment::parse(&base.to_string(), "t.json")
    }

    #[test]
    fn runs_are_numbered_seeds_then_tasks_then_learners_then_variants() {
        let e = experiment("{}").expect("valid");
        let labels: Vec<String> = e.runs().iter().map(Run::label).collect();
        let mut expected = Vec::new();
        for seed in [1, 2] {
            for task in ["pendulum", "mountain-car"] {
                for learner in ["beta-vmbpo-a", "beta-vmbpo-b", "sac"] {
                    expected.push(format!("{task} {learner} seed {seed}"));
                }
            }
        }
        assert_eq!(labels, expected);
        assert!(e.runs().iter().enumerate().all(|(k, r)| r.id == k));
        let r = &e.runs()[7];
        assert_eq!((r.task, r.algo, r.variant.as_deref(), r.seed), (EnvKind::Pendulum, Algo::BetaVmbpo, Some("b"), 2));
        assert_eq!(r.dir, Path::new("o/pendulum/beta-vmbpo-b/seed-2"));
        assert_eq!(r.overrides.get("beta0"), Some(&Value::from(5)));
        assert!(e.runs()[6].overrides.is_empty(), "variant `a` overrides nothing");
    }

    #[test]
    fn seeds_appended_leave_every_run_number_unchanged() {
        let before = experiment("{}").expect("valid");
        let after = experiment(r#"{ "seeds": [1, 2, 3] }"#).expect("valid");
        assert_eq!(after.runs().len(), 18);
        assert_eq!(&after.runs()[..12], before.runs());
    }

    #[test]
    fn the_experiment_config_is_under_each_variant() {
        let e = experiment(r#"{ "config": { "beta0": 2, "tau": 0.01 } }"#).expect("valid");
        let b = e.runs().iter().find(|r| r.learner == "beta-vmbpo-b").expect("a run of b");
        assert_eq!((b.overrides["beta0"].as_i64(), b.overrides["tau"].as_f64()), (Some(5), Some(0.01)));
        let sac = e.runs().iter().find(|r| r.learner == "sac").expect("a run of sac");
        assert_eq!(sac.overrides["beta0"].as_i64(), Some(2));
    }

    #[test]
    fn run_dir_placeholders_and_collisions() {
        let e = experiment(r#"{ "run_dir": "{seed}/{task}-{learner}" }"#).expect("valid");
        assert_eq!(e.runs()[0].rel_dir, Path::new("1/pendulum-beta-vmbpo-a"));
        let shared = experiment(r#"{ "run_dir": "{task}/{learner}" }"#).expect_err("seeds share folders");
        assert!(shared.to_string().contains("runs 0 and 6 would share"), "{shared}");
    }

    #[test]
    fn train_args_are_those_of_riskmdp_train() {
        let e = experiment("{}").expect("valid");
        let args = e.runs()[1].train_args();
        let expected = "train --env pendulum --algo beta-vmbpo --steps 2000 --seed 1 --preset pendulum-cpu \
                        --config o/pendulum/beta-vmbpo-b/seed-1/overrides.json --out o/pendulum/beta-vmbpo-b/seed-1 --force";
        assert_eq!(args.join(" "), expected);
        assert!(!e.runs()[0].train_args().contains(&"--config".to_string()), "no overrides, no --config");
    }

    /// Every bad file is one line that names the field.
    #[test]
    fn bad_files_are_one_line_naming_the_field() {
        let cases = [
            (r#"{ "name": "a b" }"#, "name"),
            (r#"{ "out": "" }"#, "out"),
            (r#"{ "tasks": [] }"#, "tasks"),
            (r#"{ "tasks": ["pendulum", "moon"] }"#, "tasks[1]: unknown environment `moon`"),
            (r#"{ "tasks": ["pendulum", "pendulum"] }"#, "tasks[1]"),
            (r#"{ "learners": [] }"#, "learners"),
            (r#"{ "learners": ["ppo"] }"#, "learners[0].algo: unknown algorithm `ppo`"),
            (r#"{ "learners": [3] }"#, "learners[0]"),
            (r#"{ "learners": [{ "algo": "sac", "variant": ["a"] }] }"#, "learners[0]: unknown field `variant`"),
            (r#"{ "learners": [{ "algo": "sac", "variants": ["c"] }] }"#, "learners[0].variants[0]"),
            (r#"{ "learners": [{ "algo": "sac", "variants": [] }] }"#, "learners[0].variants"),
            (r#"{ "learners": ["sac", { "algo": "beta-vmbpo", "variants": ["a", "b"] }, "sac"] }"#, "learners"),
            (r#"{ "learners": [{ "algo": "beta-vmbpo", "variants": ["a"] }] }"#, "variants[1]"),
            (r#"{ "seeds": [] }"#, "seeds"),
            (r#"{ "seeds": [1, -2] }"#, "seeds[1]"),
            (r#"{ "seeds": [3, 3] }"#, "seeds[1]"),
            (r#"{ "steps": 0 }"#, "steps"),
            (r#"{ "steps": "many" }"#, "steps"),
            (r#"{ "preset": "fast" }"#, "preset: unknown preset `fast`"),
            (r#"{ "preset": null }"#, "preset"),
            (r#"{ "config": [1] }"#, "config"),
            (r#"{ "variants": [{ "name": "a", "config": {} }, { "name": "a", "config": {} }] }"#, "variants[1]"),
            (r#"{ "variants": [{ "name": "../a", "config": {} }] }"#, "variants[0].name"),
            (r#"{ "variants": [{ "name": "a" }] }"#, "variants[0]"),
            (r#"{ "run_dir": "/abs/{seed}" }"#, "run_dir"),
            (r#"{ "run_dir": "{task}/../{learner}-{seed}" }"#, "run_dir"),
            (r#"{ "run_dir": "{task}/{algo}-{seed}" }"#, "run_dir"),
            (r#"{ "tasks2": [] }"#, "unknown field `tasks2`"),
        ];
        for (extra, needle) in cases {
            let e = experiment(extra).expect_err(extra);
            assert!(matches!(e, Error::InvalidParameter { .. } | Error::Json { .. }), "{extra}: {e:?}");
            let message = e.to_string();
            assert!(message.contains(needle), "{extra}: `{needle}` not in {message}");
            assert!(!message.contains('\n'), "{extra}: {message}");
        }
        // Without the MuJoCo tasks in the build, naming one says so (with them, it is valid).
        #[cfg(not(feature = "mujoco"))]
        assert!(experiment(r#"{ "tasks": ["hopper"] }"#).expect_err("no MuJoCo").to_string().contains("MuJoCo"));
        #[cfg(feature = "mujoco")]
        assert!(experiment(r#"{ "tasks": ["hopper"] }"#).is_ok());
        assert!(Experiment::parse("{} {}", "x.json").is_err());
        assert!(matches!(Experiment::load("/no/such/file.json"), Err(Error::Io { .. })));
    }

    #[test]
    fn run_k_out_of_range_names_k() {
        let e = experiment("{}").expect("valid");
        assert!(e.run(11).is_ok());
        assert!(matches!(e.run(12), Err(Error::InvalidParameter { name, .. }) if name == "K"));
    }

    #[test]
    fn check_overrides_names_the_variant_that_makes_no_valid_config() {
        let e = experiment(
            r#"{ "variants": [{ "name": "a", "config": {} }, { "name": "b", "config": { "elites": 99 } }] }"#,
        )
        .expect("overrides are not interpreted when the file is read");
        let problems = e.check_overrides();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].0.starts_with("variants[1]"), "{problems:?}");
        assert!(problems[0].1.to_string().contains("elites"), "{problems:?}");
        assert!(experiment("{}").expect("valid").check_overrides().is_empty());
    }
}
