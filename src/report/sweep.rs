//! `riskmdp sweep`: a β sweep at one state and the exact β of every greedy switch (Fig. 1).

use serde::Serialize;

use crate::dual::log_grid;
use crate::error::{Error, Result};
use crate::mdp::TabularMdp;
use crate::solve::SolveOptions;
use crate::sweep::Sweep;

/// Everything `riskmdp sweep` prints (its `--json`, field for field).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepReport {
    /// The model's name.
    pub name: String,
    /// The name of the swept state.
    pub state_name: String,
    /// State names.
    pub states: Vec<String>,
    /// Action names.
    pub actions: Vec<String>,
    /// The `[action, next state]` pairs with P(next | state, action) > 0: the posterior
    /// probabilities worth a column.
    pub support: Vec<[usize; 2]>,
    /// The sweep: state, points, switches.
    #[serde(flatten)]
    pub sweep: Sweep,
}

/// The state called (or numbered) `key`, or the initial state if ρ is a point mass.
fn resolve_state(mdp: &TabularMdp, key: Option<&str>) -> Result<usize> {
    match key {
        Some(key) => mdp.state_index(key).ok_or_else(|| Error::InvalidParameter {
            name: "--state".into(),
            message: format!("no state named or numbered `{key}`"),
        }),
        None => mdp.initial_state().ok_or_else(|| Error::InvalidParameter {
            name: "--state".into(),
            message: "the initial distribution is not a single state; name one with --state".into(),
        }),
    }
}

/// `riskmdp sweep`: solve the optimum at `points` values of β log-spaced in
/// `[beta_min, beta_max]` and look at `state` (a name or an index; `None`: the initial state).
///
/// # Errors
/// [`Error::InvalidParameter`] for an unknown state, a bad range or options; those of
/// [`crate::sweep::sweep`].
///
/// # Examples
/// ```
/// use riskmdp::{SolveOptions, report};
/// let mdp = riskmdp::envs::risky_arm();
/// let r = report::sweep(&mdp, None, (0.1, 100.0, 7), SolveOptions::default())?;
/// assert_eq!(r.state_name, "S");
/// // One switch, from `right` to `left`, at β = 5/ln 9.
/// assert_eq!(r.sweep.switches.len(), 1);
/// assert!((r.sweep.switches[0].beta - 5.0 / 9f64.ln()).abs() < 1e-9);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn sweep(
    mdp: &TabularMdp,
    state: Option<&str>,
    (beta_min, beta_max, points): (f64, f64, usize),
    options: SolveOptions,
) -> Result<SweepReport> {
    options.validate()?;
    let state = resolve_state(mdp, state)?;
    let grid = log_grid(beta_min, beta_max, points)?;
    let sweep = crate::sweep::sweep(mdp, state, &grid, options)?;
    let support = (0..mdp.n_actions())
        .flat_map(|a| mdp.row(state, a).iter().filter(|&(_, p)| p > 0.0).map(move |(j, _)| [a, j]).collect::<Vec<_>>())
        .collect();
    Ok(SweepReport {
        name: mdp.name().to_string(),
        state_name: mdp.state_names()[state].clone(),
        states: mdp.state_names().to_vec(),
        actions: mdp.action_names().to_vec(),
        support,
        sweep,
    })
}
