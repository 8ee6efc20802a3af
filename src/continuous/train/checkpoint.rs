//! Checkpoints: the networks in `checkpoint.safetensors`, the rest in `checkpoint.json`; what
//! [`Learner::load`] refuses, and why, in one line naming the file and the field.

use super::*;

/// The metadata of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointMeta {
    /// The environment.
    pub env: EnvKind,
    /// The learner.
    pub algo: Algo,
    /// The settings (network sizes among them).
    pub config: TrainConfig,
    /// The training seed.
    pub seed: u64,
    /// Environment steps taken.
    pub step: usize,
    /// β at the end.
    pub beta: f64,
    /// Elites and standardisation of p_θ.
    pub prior_dynamics: ModelMeta,
    /// Elites and standardisation of q_φ.
    pub variational_dynamics: ModelMeta,
}

/// The non-tensor state of a dynamics model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelMeta {
    /// Elite members, best first.
    pub elites: Vec<usize>,
    /// Input standardisation.
    pub standardiser: Standardiser,
}

/// A lower bound on the weights of a learner's networks under `config`: the weight matrices
/// between consecutive layers of the actor and the prior policy, the four critics (twins and
/// targets) and both ensembles, each with its narrowest output (biases and wider heads left out).
fn least_weights(config: &TrainConfig, obs: usize, act: usize) -> u64 {
    let matrices = |sizes: &[usize]| -> u64 {
        sizes.windows(2).fold(0u64, |sum, w| sum.saturating_add((w[0] as u64).saturating_mul(w[1] as u64)))
    };
    let actor = matrices(&[&[obs][..], &config.actor_hidden, &[act]].concat());
    let critic = matrices(&[&[obs + act][..], &config.critic_hidden, &[1]].concat());
    let member = matrices(&[&[obs + act][..], &config.dynamics_hidden, &[1 + obs]].concat());
    let ensemble = member.saturating_mul(config.ensemble_size as u64);
    actor.saturating_mul(2).saturating_add(critic.saturating_mul(4)).saturating_add(ensemble.saturating_mul(2))
}

/// The metadata's numbers a learner cannot run with, named by field.
fn check_meta(meta: &CheckpointMeta) -> std::result::Result<(), String> {
    if !(meta.beta.is_finite() && meta.beta > 0.0) {
        return Err(format!("`beta`: {} is not a finite positive β", meta.beta));
    }
    for (model, m) in [("prior_dynamics", &meta.prior_dynamics), ("variational_dynamics", &meta.variational_dynamics)] {
        let s = &m.standardiser;
        if let Some(i) = s.mean.iter().position(|x| !x.is_finite()) {
            return Err(format!("`{model}.standardiser.mean[{i}]`: {} is not finite", s.mean[i]));
        }
        if let Some(i) = s.std.iter().position(|x| !(x.is_finite() && *x > 0.0)) {
            return Err(format!("`{model}.standardiser.std[{i}]`: {} is not a finite positive scale", s.std[i]));
        }
    }
    Ok(())
}

impl Learner {
    /// One map with every variable under `group/name`, sharing storage with the learner's.
    pub(super) fn combined_varmap(&self) -> VarMap {
        let combined = VarMap::new();
        {
            let mut data = combined.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let groups = self.agent.varmaps().into_iter().chain([
                ("prior_dynamics", self.prior_dynamics.varmap()),
                ("variational_dynamics", self.variational_dynamics.varmap()),
            ]);
            for (group, varmap) in groups {
                for (name, var) in sorted_vars(varmap) {
                    data.insert(format!("{group}/{name}"), var);
                }
            }
        }
        combined
    }

    /// The checkpoint metadata.
    #[must_use]
    pub fn meta(&self) -> CheckpointMeta {
        let model =
            |m: &DynamicsModel| ModelMeta { elites: m.elites().to_vec(), standardiser: m.standardiser().clone() };
        CheckpointMeta {
            env: self.env_kind,
            algo: self.algo,
            config: self.config.clone(),
            seed: self.seed,
            step: self.step,
            beta: self.beta,
            prior_dynamics: model(&self.prior_dynamics),
            variational_dynamics: model(&self.variational_dynamics),
        }
    }

    /// Write [`CHECKPOINT_TENSORS`] and [`CHECKPOINT_META`] into `dir`; returns the tensor file.
    ///
    /// # Errors
    /// The files cannot be written.
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        let tensors = dir.join(CHECKPOINT_TENSORS);
        self.combined_varmap().save(&tensors)?;
        let meta = dir.join(CHECKPOINT_META);
        let text = serde_json::to_string_pretty(&self.meta()).unwrap_or_default();
        std::fs::write(&meta, text + "\n")
            .map_err(|source| TrainError::Io { path: meta.display().to_string(), source })?;
        Ok(tensors)
    }

    /// Load a checkpoint: `path` is its tensor file or the directory holding it (the metadata
    /// sits beside it as [`CHECKPOINT_META`]). Buffers start empty.
    ///
    /// # Errors
    /// [`TrainError::Checkpoint`] naming the file, and the field where there is one: a file that
    /// is not a checkpoint's tensors, metadata that does not parse, a non-finite or non-positive
    /// β, a standardiser with a non-finite mean or a non-positive standard deviation, a
    /// truncated tensor file or tensors that do not match the metadata's sizes, a non-finite
    /// weight; [`TrainError::Io`] for a file that cannot be read.
    pub fn load(path: &Path) -> Result<Self> {
        let tensors = if path.is_dir() { path.join(CHECKPOINT_TENSORS) } else { path.to_path_buf() };
        let bad = |path: &Path, message: String| TrainError::Checkpoint { path: path.display().to_string(), message };
        if tensors.file_name().and_then(|n| n.to_str()) != Some(CHECKPOINT_TENSORS) {
            return Err(bad(
                &tensors,
                format!("not a checkpoint: give the `riskmdp train --out` folder or its {CHECKPOINT_TENSORS}"),
            ));
        }
        let meta_path = tensors.with_file_name(CHECKPOINT_META);
        let text = std::fs::read_to_string(&meta_path)
            .map_err(|source| TrainError::Io { path: meta_path.display().to_string(), source })?;
        let meta: CheckpointMeta = serde_json::from_str(&text).map_err(|e| bad(&meta_path, e.to_string()))?;
        // The config flattens its `DualConfig`, so serde cannot refuse an unknown key in it.
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(&meta_path, e.to_string()))?;
        if let Some(message) = crate::io::unknown_field(&value["config"], &meta.config) {
            return Err(bad(&meta_path, format!("config: {message}")));
        }
        check_meta(&meta).map_err(|message| bad(&meta_path, message))?;
        // Every weight is an f32 of the tensor file: a config whose networks cannot fit in it is
        // refused before they are built (a hidden layer of 10⁹ units would take hours and
        // hundreds of GB to draw, only to fail the shape check).
        let file_bytes = std::fs::metadata(&tensors)
            .map_err(|source| TrainError::Io { path: tensors.display().to_string(), source })?
            .len();
        let env = meta.env.make()?;
        let weights = least_weights(&meta.config, env.observation_dim(), env.action_dim());
        if weights.saturating_mul(4) > file_bytes {
            return Err(bad(
                &meta_path,
                format!(
                    "`config`: its networks hold at least {weights} weights, more than the {file_bytes} bytes of \
                     {CHECKPOINT_TENSORS} can store"
                ),
            ));
        }
        let mut learner = Learner::new(meta.env, meta.algo, &meta.config, meta.seed)
            .map_err(|e| bad(&meta_path, format!("config: {e}")))?;
        let mut combined = learner.combined_varmap();
        combined.load(&tensors).map_err(|e| bad(&tensors, first_line(&e)))?;
        for (name, var) in sorted_vars(&combined) {
            let finite = var
                .as_tensor()
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(|e| bad(&tensors, first_line(&e)))?;
            if let Some(i) = finite.iter().position(|x| !x.is_finite()) {
                return Err(bad(&tensors, format!("`{name}`: entry {i} is {}, not a finite weight", finite[i])));
            }
        }
        learner
            .prior_dynamics
            .restore(meta.prior_dynamics.elites, meta.prior_dynamics.standardiser)
            .map_err(|e| bad(&meta_path, format!("`prior_dynamics`: {}", first_line(&e))))?;
        learner
            .variational_dynamics
            .restore(meta.variational_dynamics.elites, meta.variational_dynamics.standardiser)
            .map_err(|e| bad(&meta_path, format!("`variational_dynamics`: {}", first_line(&e))))?;
        learner.beta = meta.beta;
        learner.step = meta.step;
        Ok(learner)
    }
}
