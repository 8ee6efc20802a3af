//! The theory verifier: each claim of the paper as a property over random MDPs.
//!
//! A [`Claim`] has a name, a [`Kind`] (a [`Theorem`](Kind::Theorem), proved — by the paper or in
//! `docs/theory.md` — or a [`Probe`](Kind::Probe) of something nobody proved), the family of
//! random cases it is about ([`CaseKind`]), a named tolerance, and one function
//! `check(&Case, &dyn Operators) -> Violation` — written once, used by the property tests in
//! `tests/`, by `riskmdp verify`, and by `tests/planted_bugs.rs`, which feeds it deliberately
//! wrong operators and asserts they are caught.
//!
//! A violation is a dimensionless number (relative to the scale of the values compared, or in
//! nats for the KL probe); a case passes when it is at most the claim's tolerance.
//!
//! # Modules
//!
//! * [`random`] — seeded random MDPs, β, policies; the fixed models (risky arm, cliff grid).
//! * [`operators`] — the [`Operators`] trait, [`Exact`], planted bugs, iteration helpers.
//! * [`mod@claims`] — one file per claim.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::tolerance;

pub mod claims;
pub mod operators;
pub mod random;

pub use operators::{Exact, Operators};
pub use random::{Case, CaseKind};

/// What a failure of a claim means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Proved (by the paper, or in `docs/theory.md`): a failure is a bug, and `riskmdp verify`
    /// exits 1.
    Theorem,
    /// Not proved: failures are findings, reported and saved, never fatal.
    Probe,
}

/// How far one case is from satisfying a claim (0: exactly satisfied).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The size of the violation (dimensionless; NaN is stored as +∞).
    pub amount: f64,
    /// Which sub-check is worst, with its numbers.
    pub detail: String,
}

impl Violation {
    /// No violation.
    pub fn none() -> Self {
        Violation { amount: 0.0, detail: String::new() }
    }
    /// A violation of `amount` (NaN becomes +∞).
    pub fn of(amount: f64, detail: impl Into<String>) -> Self {
        Violation { amount: if amount.is_nan() { f64::INFINITY } else { amount }, detail: detail.into() }
    }
    /// A solver error met while checking: an infinite violation.
    pub fn error(e: Error) -> Self {
        Violation::of(f64::INFINITY, format!("error: {e}"))
    }
    /// The worse of two (the first on ties).
    #[must_use]
    pub fn max(self, other: Violation) -> Violation {
        if other.amount > self.amount { other } else { self }
    }
}

/// One claim of the paper, checkable on random cases.
#[derive(Clone, Copy)]
pub struct Claim {
    /// Short name, e.g. `theorem-4.1`.
    pub name: &'static str,
    /// Theorem or probe.
    pub kind: Kind,
    /// The claim in one line.
    pub statement: &'static str,
    /// The cases it is checked on.
    pub cases: CaseKind,
    /// Largest violation that passes.
    pub tolerance: f64,
    /// The check.
    pub check: fn(&Case, &dyn Operators) -> Violation,
}

impl std::fmt::Debug for Claim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claim").field("name", &self.name).field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// Every claim, in the paper's order.
pub fn claims() -> Vec<Claim> {
    use claims::*;
    use tolerance::{CLAIM, CLOSED_FORM, KL_PROBE};
    vec![
        Claim {
            name: "theorem-4.1",
            kind: Kind::Theorem,
            statement: "T_π is a γ-contraction in sup norm; iteration converges to Q_π",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            check: theorem_4_1::check,
        },
        Claim {
            name: "lemma-4.1",
            kind: Kind::Theorem,
            statement: "T* is a γ-contraction in sup norm; iteration converges to Q*",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            check: lemma_4_1::check,
        },
        Claim {
            name: "theorem-4.2-finite",
            kind: Kind::Theorem,
            statement: "greedy improvement V_π' ≥ V_π, horizon, time-dependent π",
            cases: CaseKind::Horizon,
            tolerance: CLAIM,
            check: theorem_4_2::check_finite,
        },
        Claim {
            name: "theorem-4.2-discounted",
            kind: Kind::Theorem,
            statement: "greedy improvement V_π' ≥ V_π, γ < 1, no horizon (open in the paper; proof in docs/theory.md)",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            check: theorem_4_2::check_discounted,
        },
        Claim {
            name: "theorem-4.3",
            kind: Kind::Theorem,
            statement: "policy iteration ends deterministic at the T* fixed point; no stochastic π does better",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            check: theorem_4_3::check,
        },
        Claim {
            name: "theorem-4.4",
            kind: Kind::Theorem,
            statement: "max over (π, q) of the scaled ELBO at a deterministic π with q(a|s) = π(a|s)",
            cases: CaseKind::Horizon,
            tolerance: CLAIM,
            check: theorem_4_4::check,
        },
        Claim {
            name: "eq-6-7",
            kind: Kind::Theorem,
            statement: "backup = exponential utility by enumeration; ELBO ≤ log-marginal, tight at the posterior",
            cases: CaseKind::Undiscounted,
            tolerance: CLAIM,
            check: eq_6_7::check,
        },
        Claim {
            name: "beta-large",
            kind: Kind::Theorem,
            statement: "β → ∞: βV_β → risk-neutral values within (γS_V² + S_Q²)/(8β(1−γ)); greedy risk-neutral optimal",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            check: beta_limits::check_large,
        },
        Claim {
            name: "beta-small",
            kind: Kind::Theorem,
            statement: "β → 0: βV_β → best-case values within β(γL + L_π)/(1−γ)",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            check: beta_limits::check_small,
        },
        Claim {
            name: "beta-monotone",
            kind: Kind::Theorem,
            statement: "β·V_β (policy and optimum) is non-increasing in β",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            check: beta_limits::check_monotone,
        },
        Claim {
            name: "figure-1",
            kind: Kind::Theorem,
            statement: "risky arm: closed-form Q, switch at 5/ln 9, q(A|S,right) increasing in β, → 0.9",
            cases: CaseKind::RiskyArm,
            tolerance: CLOSED_FORM,
            check: figure_1::check,
        },
        Claim {
            name: "gridworld-sweep",
            kind: Kind::Theorem,
            statement: "cliff gridworld: β·V*_β non-increasing in β in every cell",
            cases: CaseKind::Gridworld,
            tolerance: CLAIM,
            check: gridworld::check,
        },
        Claim {
            name: "dual-kl-monotone",
            kind: Kind::Probe,
            statement: "mean posterior KL_β is non-increasing in β (one dual fixed point, Fig. 3c)",
            cases: CaseKind::Discounted,
            tolerance: KL_PROBE,
            check: dual_kl::check,
        },
    ]
}

/// The claim called `name`.
///
/// # Errors
/// [`Error::InvalidParameter`] naming the known claims.
pub fn claim(name: &str) -> Result<Claim> {
    claims().into_iter().find(|c| c.name == name).ok_or_else(|| Error::InvalidParameter {
        name: "claim".into(),
        message: format!(
            "unknown claim `{name}`; known: {}",
            claims().iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
        ),
    })
}

/// The case number `index` of a run with `seed` for `claim` (reproducible one at a time).
pub fn case_of(claim: &Claim, seed: u64, index: usize) -> Case {
    let number = claims().iter().position(|c| c.name == claim.name).unwrap_or(0);
    random::random_case(&mut random::case_rng(seed, number, index), claim.cases)
}

/// A failing case, kept for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Counterexample {
    /// Case number in the run.
    pub case: usize,
    /// β of the case.
    pub beta: f64,
    /// γ of the case.
    pub gamma: f64,
    /// The violation.
    pub violation: Violation,
    /// Where the model was saved, if it was.
    pub saved: Option<String>,
}

/// The outcome of one claim over many cases.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimReport {
    /// The claim's name.
    pub claim: &'static str,
    /// Theorem or probe.
    pub kind: Kind,
    /// The claim in one line.
    pub statement: &'static str,
    /// Cases tried.
    pub cases: usize,
    /// Cases within tolerance.
    pub passed: usize,
    /// The tolerance.
    pub tolerance: f64,
    /// The worst violation seen.
    pub worst: Violation,
    /// The case number of the worst violation.
    pub worst_case: usize,
    /// The first few failing cases.
    pub counterexamples: Vec<Counterexample>,
}

impl ClaimReport {
    /// Every case passed.
    pub fn holds(&self) -> bool {
        self.passed == self.cases
    }
}

/// How many counterexamples per claim are kept (and saved).
pub const KEPT_COUNTEREXAMPLES: usize = 5;

/// Check `claim` on `cases` random cases from `seed` with `ops`; save failing models to
/// `save_dir/<claim>-<case>.json` (read back by `riskmdp solve`) with a sidecar
/// `<claim>-<case>.case.json` (β, γ, policy, violation).
///
/// # Errors
/// [`Error::Io`] if a counterexample cannot be saved.
pub fn run_claim(
    claim: &Claim,
    cases: usize,
    seed: u64,
    ops: &dyn Operators,
    save_dir: Option<&Path>,
) -> Result<ClaimReport> {
    let mut report = ClaimReport {
        claim: claim.name,
        kind: claim.kind,
        statement: claim.statement,
        cases,
        passed: 0,
        tolerance: claim.tolerance,
        worst: Violation::none(),
        worst_case: 0,
        counterexamples: vec![],
    };
    for index in 0..cases {
        let case = case_of(claim, seed, index);
        let violation = (claim.check)(&case, ops);
        if violation.amount <= claim.tolerance {
            report.passed += 1;
        } else if report.counterexamples.len() < KEPT_COUNTEREXAMPLES {
            let saved = match save_dir {
                Some(dir) => Some(save_counterexample(dir, claim, index, &case, &violation)?),
                None => None,
            };
            report.counterexamples.push(Counterexample {
                case: index,
                beta: case.beta.get(),
                gamma: case.mdp.gamma(),
                violation: violation.clone(),
                saved,
            });
        }
        if index == 0 || violation.amount > report.worst.amount {
            report.worst_case = index;
            report.worst = violation;
        }
    }
    Ok(report)
}

fn save_counterexample(dir: &Path, claim: &Claim, index: usize, case: &Case, violation: &Violation) -> Result<String> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.display().to_string(), source })?;
    let model = dir.join(format!("{}-{index}.json", claim.name));
    case.mdp.save(&model)?;
    let sidecar = dir.join(format!("{}-{index}.case.json", claim.name));
    let text = serde_json::json!({
        "claim": claim.name, "kind": claim.kind, "case": index, "model": model.display().to_string(),
        "beta": case.beta.get(), "gamma": case.mdp.gamma(), "horizon": case.mdp.horizon(), "seed": case.seed,
        "policy": case.policy.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
        "violation": violation.amount, "tolerance": claim.tolerance, "detail": violation.detail,
    });
    let body = serde_json::to_string_pretty(&text).unwrap_or_default();
    std::fs::write(&sidecar, body).map_err(|source| Error::Io { path: sidecar.display().to_string(), source })?;
    Ok(model.display().to_string())
}

/// Options of [`run`].
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Only this claim (`None`: all).
    pub claim: Option<String>,
    /// Cases per claim.
    pub cases: usize,
    /// Seed of the run.
    pub seed: u64,
    /// Where to save counterexamples.
    pub save_dir: Option<std::path::PathBuf>,
}

/// Run the claims selected by `options` with `ops` (normally [`Exact`]).
///
/// # Errors
/// An unknown claim name, zero cases, or a counterexample that cannot be saved.
pub fn run(options: &VerifyOptions, ops: &dyn Operators) -> Result<Vec<ClaimReport>> {
    if options.cases == 0 {
        return Err(Error::InvalidParameter { name: "cases".into(), message: "must be at least 1".into() });
    }
    let selected = match &options.claim {
        Some(name) => vec![claim(name)?],
        None => claims(),
    };
    selected.iter().map(|c| run_claim(c, options.cases, options.seed, ops, options.save_dir.as_deref())).collect()
}

/// Whether every theorem held (probes never count).
pub fn theorems_hold(reports: &[ClaimReport]) -> bool {
    reports.iter().all(|r| r.kind == Kind::Probe || r.holds())
}
