//! What a run reports: one evaluation per line of the log, one model fit per line of the per-fit log.

use super::*;

/// One line of the JSON-lines log: an evaluation in the real environment and the learner's
/// state at that step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    /// Environment steps taken.
    pub step: usize,
    /// Training episodes finished.
    pub episodes: usize,
    /// Mean undiscounted return of the deterministic actor over the evaluation episodes.
    pub eval_return: f64,
    /// Evaluation episodes that ended in a terminal state (Mountain Car: the car at the goal).
    pub eval_terminated: usize,
    /// Mean length of the evaluation episodes.
    pub eval_length: f64,
    /// β (1 for VMBPO; `null` for MBPO and SAC).
    pub beta: Option<f64>,
    /// KL(q_φ ‖ p_θ) of the last rollouts, the one the dual sees (paired members in closed form;
    /// `null` for MBPO and SAC).
    pub kl: Option<f64>,
    /// Mean critic loss since the last record (`null` before the first update).
    pub critic_loss: Option<f64>,
    /// Mean actor loss since the last record.
    pub actor_loss: Option<f64>,
    /// Training loss of the last fit of p_θ (Eq. 10).
    pub prior_dynamics_loss: Option<f64>,
    /// Training loss of the last fit of q_φ (Eq. 11).
    pub variational_dynamics_loss: Option<f64>,
    /// Holdout MSE of the elites of the rollout model at its last fit.
    pub holdout_mse: Option<f64>,
}

/// One line of the per-fit log [`FITS_FILE`] (variational learners): where β acts at this fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitRecord {
    /// Environment steps taken.
    pub step: usize,
    /// β of this fit's TD weights (Eq. 11) and rollouts.
    pub beta: f64,
    /// β after the dual step on this fit's KL (Eq. 9); equal to `beta` for VMBPO.
    pub beta_next: f64,
    /// The KL the dual sees: q_φ from p_θ, paired members in closed form, nats per transition.
    pub kl: f64,
    /// The Monte-Carlo KL of the elite mixtures at the same (s, a).
    pub kl_monte_carlo: f64,
    /// Share of D_env whose Eq. 11 log-weight δ/(γβ) is at the clamp ±c.
    pub saturated: f64,
    /// Share of D_env at the clamp's upper bound +c (the rest of `saturated` is at −c).
    pub saturated_high: f64,
    /// The actor loss's terms on a minibatch of D_env states at `beta_next`.
    pub actor: ActorTerms,
}

/// What [`train`] returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    /// Every evaluation, in order (the lines of the log).
    pub records: Vec<EvalRecord>,
    /// Every model fit of a variational learner, in order (the lines of [`FITS_FILE`]).
    pub fits: Vec<FitRecord>,
    /// The checkpoint's tensor file, when an output directory was given.
    pub checkpoint: Option<PathBuf>,
}

/// Where [`Learner::run`] writes its JSON lines (`None`: nowhere).
#[derive(Default)]
pub struct Logs<'a> {
    /// One [`EvalRecord`] per evaluation ([`LOG_FILE`]).
    pub eval: Option<&'a mut dyn Write>,
    /// One [`FitRecord`] per model fit of a variational learner ([`FITS_FILE`]).
    pub fits: Option<&'a mut dyn Write>,
}

impl std::fmt::Debug for Logs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logs").field("eval", &self.eval.is_some()).field("fits", &self.fits.is_some()).finish()
    }
}

/// One JSON line of `value` into `log`, if there is one (`name` for the error).
pub(super) fn write_line<W: Write + ?Sized>(log: Option<&mut W>, value: &impl Serialize, name: &str) -> Result<()> {
    if let Some(log) = log {
        let line = serde_json::to_string(value).unwrap_or_default();
        writeln!(log, "{line}").map_err(|source| TrainError::Io { path: name.into(), source })?;
    }
    Ok(())
}
