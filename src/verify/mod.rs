//! The theory verifier: each claim of the paper as a property over random MDPs.
//!
//! A [`Claim`] has a name, a [`Kind`] (a [`Theorem`](Kind::Theorem), proved — by the paper or in
//! `docs/theory.md` — or a [`Probe`](Kind::Probe) of something nobody proved), the family of
//! random cases it is about ([`CaseKind`]), a named tolerance, its named sub-checks, and one
//! function `check(&Case, &dyn Operators, Scope) -> Checks` — written once, used by the property
//! tests in `tests/`, by `riskmdp verify`, and by `tests/planted_bugs.rs`, which feeds it
//! deliberately wrong operators and asserts which sub-check catches each.
//!
//! Every claim has property sub-checks (a contraction, an inequality, an identity against an
//! independent computation) and, unless the run is [`Scope::PropertyOnly`], the sub-check
//! [`EQUALS_SOLVER`]: the values through the operators equal the crate's own solver. A
//! violation is a dimensionless number (relative to the scale of the values compared, or in
//! nats for the KL probe); a case passes when every sub-check is at most the claim's
//! tolerance. NaN, and ±∞ where a value must be finite, are violations of size +∞: no
//! comparison here goes through `f64::max`, which drops a NaN.
//!
//! # Modules
//!
//! * [`random`] — the random-MDP generator ([`random::RandomMdp`]), β, policies, cases.
//! * [`operators`] — the [`Operators`] trait, [`Exact`], the planted bugs ([`operators::catalog`]).
//! * [`mod@claims`] — one file per claim.

use std::collections::BTreeSet;
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::tolerance;

pub mod claims;
pub mod operators;
/// The random cases the verifier draws: [`crate::random`], which sits below both the verifier
/// and `bench` (re-exported here under its old path).
pub use crate::random;

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

/// Whether a check also compares with the crate's own solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every sub-check, [`EQUALS_SOLVER`] included.
    #[default]
    Full,
    /// The property sub-checks only: what fails is the property itself.
    PropertyOnly,
}

impl Scope {
    /// Whether the comparison with the crate's solver runs.
    pub fn with_solver(self) -> bool {
        self == Scope::Full
    }
}

/// The name of the sub-check "the values through the operators equal the crate's solver"
/// (switched off by [`Scope::PropertyOnly`]).
pub const EQUALS_SOLVER: &str = "equals-solver";

/// How far one sub-check of one case is from holding (0: exactly).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The named sub-check (empty until recorded in [`Checks`]).
    pub check: &'static str,
    /// The size of the violation (dimensionless; NaN is stored as +∞).
    pub amount: f64,
    /// What was compared, with its numbers.
    pub detail: String,
}

impl Violation {
    /// No violation.
    pub fn none() -> Self {
        Violation { check: "", amount: 0.0, detail: String::new() }
    }
    /// A violation of `amount` (NaN becomes +∞).
    pub fn of(amount: f64, detail: impl Into<String>) -> Self {
        Violation { check: "", amount: if amount.is_nan() { f64::INFINITY } else { amount }, detail: detail.into() }
    }
    /// A solver error met while checking: an infinite violation.
    pub fn error(e: Error) -> Self {
        Violation::of(f64::INFINITY, format!("error: {e}"))
    }
    /// The worse of two (the first on ties; a NaN amount counts as +∞).
    #[must_use]
    pub fn max(self, other: Violation) -> Violation {
        let size = |v: &Violation| if v.amount.is_nan() { f64::INFINITY } else { v.amount };
        if size(&other) > size(&self) { other } else { self }
    }
}

/// The outcome of one case: the worst violation of each named sub-check, in the order the
/// sub-checks first ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Checks {
    /// One entry per sub-check that ran.
    pub results: Vec<Violation>,
}

impl Checks {
    /// No sub-check yet.
    pub fn new() -> Self {
        Checks::default()
    }

    /// Record `violation` under `check`, keeping the worse of it and what is already there.
    pub fn record(&mut self, check: &'static str, violation: Violation) {
        let violation = Violation { check, ..violation };
        match self.results.iter_mut().find(|v| v.check == check) {
            Some(old) => *old = std::mem::replace(old, Violation::none()).max(violation),
            None => self.results.push(violation),
        }
    }

    /// The worst violation over every sub-check ([`Violation::none`] if none ran).
    pub fn worst(&self) -> Violation {
        self.results.iter().cloned().fold(Violation::none(), Violation::max)
    }

    /// The sub-checks whose violation exceeds `tolerance`, in the order they ran.
    pub fn failed(&self, tolerance: f64) -> Vec<&'static str> {
        self.results.iter().filter(|v| v.amount.is_nan() || v.amount > tolerance).map(|v| v.check).collect()
    }

    /// The violation of one sub-check, if it ran.
    pub fn get(&self, check: &str) -> Option<&Violation> {
        self.results.iter().find(|v| v.check == check)
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
    /// Its named sub-checks, [`EQUALS_SOLVER`] last where it has one.
    pub checks: &'static [&'static str],
    /// The check.
    pub check: fn(&Case, &dyn Operators, Scope) -> Checks,
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
            checks: theorem_4_1::CHECKS,
            check: theorem_4_1::check,
        },
        Claim {
            name: "lemma-4.1",
            kind: Kind::Theorem,
            statement: "T* is a γ-contraction in sup norm; iteration converges to Q* ≥ Q_π",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            checks: lemma_4_1::CHECKS,
            check: lemma_4_1::check,
        },
        Claim {
            name: "posteriors",
            kind: Kind::Theorem,
            statement: "Eqs. 2, 4, 15: log E_p e^X = max_q (E_q X − KL(q‖p)), attained at the posterior q ∝ p·e^X",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            checks: posteriors::CHECKS,
            check: posteriors::check,
        },
        Claim {
            name: "theorem-4.2-finite",
            kind: Kind::Theorem,
            statement: "greedy improvement V_π' ≥ V_π, horizon, time-dependent π",
            cases: CaseKind::Horizon,
            tolerance: CLAIM,
            checks: theorem_4_2::CHECKS_FINITE,
            check: theorem_4_2::check_finite,
        },
        Claim {
            name: "theorem-4.2-discounted",
            kind: Kind::Theorem,
            statement: "greedy improvement V_π' ≥ V_π, γ < 1, no horizon (open in the paper; proof in docs/theory.md)",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            checks: theorem_4_2::CHECKS_DISCOUNTED,
            check: theorem_4_2::check_discounted,
        },
        Claim {
            name: "theorem-4.3",
            kind: Kind::Theorem,
            statement: "the greedy policy of the T* fixed point is optimal and deterministic; no stochastic π does better",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            checks: theorem_4_3::CHECKS,
            check: theorem_4_3::check,
        },
        Claim {
            name: "theorem-4.4",
            kind: Kind::Theorem,
            statement: "max over (π, q) of the scaled ELBO at a deterministic π with q(a|s) = π(a|s)",
            cases: CaseKind::Horizon,
            tolerance: CLAIM,
            checks: theorem_4_4::CHECKS,
            check: theorem_4_4::check,
        },
        Claim {
            name: "eq-6-7",
            kind: Kind::Theorem,
            statement: "backup = exponential utility by enumeration; ELBO ≤ log-marginal, tight at the posterior",
            cases: CaseKind::Undiscounted,
            tolerance: CLAIM,
            checks: eq_6_7::CHECKS,
            check: eq_6_7::check,
        },
        Claim {
            name: "dual-step",
            kind: Kind::Theorem,
            statement: "Eqs. 8–9: the occupancy solves its flow equation; a dual step descends J(β) = β(ε − KL_β) at fixed KL_β",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            checks: dual_step::CHECKS,
            check: dual_step::check,
        },
        Claim {
            name: "beta-large",
            kind: Kind::Theorem,
            statement: "β → ∞: βV_β → risk-neutral values within (γS_V² + S_Q²)/(8β(1−γ)); greedy risk-neutral optimal",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            checks: beta_limits::CHECKS_LARGE,
            check: beta_limits::check_large,
        },
        Claim {
            name: "beta-small",
            kind: Kind::Theorem,
            statement: "β → 0: βV_β → best-case values within β(γL + L_π)/(1−γ)",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            checks: beta_limits::CHECKS_SMALL,
            check: beta_limits::check_small,
        },
        Claim {
            name: "beta-monotone",
            kind: Kind::Theorem,
            statement: "β·V_β (policy and optimum) is non-increasing in β",
            cases: CaseKind::Discounted,
            tolerance: CLAIM,
            checks: beta_limits::CHECKS_MONOTONE,
            check: beta_limits::check_monotone,
        },
        Claim {
            name: "figure-1",
            kind: Kind::Theorem,
            statement: "risky arm: closed-form Q, switch at 5/ln 9, q(A|S,right) increasing in β, → 0.9",
            cases: CaseKind::RiskyArm,
            tolerance: CLOSED_FORM,
            checks: figure_1::CHECKS,
            check: figure_1::check,
        },
        Claim {
            name: "gridworld-sweep",
            kind: Kind::Theorem,
            statement: "4×4 cliff gridworld: β·V*_β non-increasing in β in every cell; risk-neutral greedy at large β",
            cases: CaseKind::Gridworld,
            tolerance: CLAIM,
            checks: gridworld::CHECKS,
            check: gridworld::check,
        },
        Claim {
            name: "dual-kl-monotone",
            kind: Kind::Probe,
            statement: "mean posterior KL_β is non-increasing in β (one dual fixed point, Fig. 3c)",
            cases: CaseKind::Discounted,
            tolerance: KL_PROBE,
            checks: dual_kl::CHECKS,
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

/// The random streams of the claims, numbered in the order the claims were added (not the
/// order of [`claims`]), so that adding a claim leaves every other claim's cases as they were.
const STREAMS: [&str; 15] = [
    "theorem-4.1",
    "lemma-4.1",
    "theorem-4.2-finite",
    "theorem-4.2-discounted",
    "theorem-4.3",
    "theorem-4.4",
    "eq-6-7",
    "beta-large",
    "beta-small",
    "beta-monotone",
    "figure-1",
    "gridworld-sweep",
    "dual-kl-monotone",
    "posteriors",
    "dual-step",
];

/// The case number `index` of a run with `seed` for `claim` (reproducible one at a time).
pub fn case_of(claim: &Claim, seed: u64, index: usize) -> Case {
    let stream = STREAMS.iter().position(|&c| c == claim.name).unwrap_or(STREAMS.len());
    random::random_case(&mut random::case_rng(seed, stream, index), claim.cases)
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
    /// The worst violation of the case.
    pub violation: Violation,
    /// The sub-checks that failed in this case.
    pub failed_checks: Vec<String>,
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
    /// The worst violation seen (its `check` names the sub-check).
    pub worst: Violation,
    /// The case number of the worst violation.
    pub worst_case: usize,
    /// The names of the sub-checks that failed in any case, sorted, without repeats.
    pub failed_checks: Vec<String>,
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

/// Check `claim` on `cases` random cases from `seed` with `ops` in `scope`; save failing models
/// to `save_dir/<claim>-<case>.json` (read back by `riskmdp solve`) with a sidecar
/// `<claim>-<case>.case.json` (β, γ, policy, violation, failed sub-checks).
///
/// # Errors
/// [`Error::Io`] if a counterexample cannot be saved.
pub fn run_claim(
    claim: &Claim,
    cases: usize,
    seed: u64,
    ops: &dyn Operators,
    scope: Scope,
    save_dir: Option<&Path>,
) -> Result<ClaimReport> {
    run_claim_counting(claim, (cases, seed, scope, save_dir), ops, &mut |_| {})
}

/// Cases checked in parallel before the next progress report.
const CASES_PER_CHUNK: usize = 16;

/// [`run_claim`], calling `done(n)` after every chunk of `n` cases.
fn run_claim_counting(
    claim: &Claim,
    (cases, seed, scope, save_dir): (usize, u64, Scope, Option<&Path>),
    ops: &dyn Operators,
    done: &mut dyn FnMut(usize),
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
        failed_checks: vec![],
        counterexamples: vec![],
    };
    let mut failed = BTreeSet::new();
    // Cases run in parallel a chunk at a time and are folded in case order: the report is the
    // same whatever the thread count, and progress is reported after every chunk.
    for first in (0..cases).step_by(CASES_PER_CHUNK) {
        let last = (first + CASES_PER_CHUNK).min(cases);
        let results: Vec<(Case, Checks)> = (first..last)
            .into_par_iter()
            .map(|index| {
                let case = case_of(claim, seed, index);
                let checks = (claim.check)(&case, ops, scope);
                (case, checks)
            })
            .collect();
        for (index, (case, checks)) in (first..last).zip(results) {
            let violation = checks.worst();
            let failing = checks.failed(claim.tolerance);
            if failing.is_empty() {
                report.passed += 1;
            } else if report.counterexamples.len() < KEPT_COUNTEREXAMPLES {
                let saved = match save_dir {
                    Some(dir) => Some(save_counterexample(dir, claim, index, &case, &violation, &failing)?),
                    None => None,
                };
                report.counterexamples.push(Counterexample {
                    case: index,
                    beta: case.beta.get(),
                    gamma: case.mdp.gamma(),
                    violation: violation.clone(),
                    failed_checks: failing.iter().map(|c| c.to_string()).collect(),
                    saved,
                });
            }
            failed.extend(failing);
            if index == 0 || violation.amount > report.worst.amount {
                report.worst_case = index;
                report.worst = violation;
            }
        }
        done(last - first);
    }
    report.failed_checks = failed.into_iter().map(String::from).collect();
    Ok(report)
}

fn save_counterexample(
    dir: &Path,
    claim: &Claim,
    index: usize,
    case: &Case,
    violation: &Violation,
    failing: &[&str],
) -> Result<String> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.display().to_string(), source })?;
    let model = dir.join(format!("{}-{index}.json", claim.name));
    case.mdp.save(&model)?;
    let sidecar = dir.join(format!("{}-{index}.case.json", claim.name));
    let text = serde_json::json!({
        "claim": claim.name, "kind": claim.kind, "case": index, "model": model.display().to_string(),
        "beta": case.beta.get(), "gamma": case.mdp.gamma(), "horizon": case.mdp.horizon(), "seed": case.seed,
        "policy": case.policy.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
        "violation": violation.amount, "tolerance": claim.tolerance, "check": violation.check,
        "failed_checks": failing, "detail": violation.detail,
    });
    let body = serde_json::to_string_pretty(&text).unwrap_or_default();
    std::fs::write(&sidecar, body).map_err(|source| Error::Io { path: sidecar.display().to_string(), source })?;
    Ok(model.display().to_string())
}

/// Most cases per claim of one run (10⁶ cases of every claim take hours).
pub const MAX_CASES: usize = 1_000_000;

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
    /// Switch the comparison with the crate's solver off ([`Scope::PropertyOnly`]): what
    /// fails is the property itself.
    pub property_only: bool,
}

/// Everything `riskmdp verify` reports: a function of the options and the operators only (no
/// timing, no thread schedule, no hash order), so one seed gives the same bytes every run.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The operator set checked (`exact` or a planted bug).
    pub operators: String,
    /// Seed of the run.
    pub seed: u64,
    /// Cases per claim.
    pub cases: usize,
    /// Whether the solver comparison was off.
    pub property_only: bool,
    /// One report per claim, in the order of [`claims()`].
    pub claims: Vec<ClaimReport>,
    /// Whether every theorem held ([`theorems_hold`]).
    pub theorems_hold: bool,
}

/// Run the claims selected by `options` with `ops` (normally [`Exact`]).
///
/// # Errors
/// An unknown claim name, zero cases, or a counterexample that cannot be saved.
///
/// # Examples
/// ```
/// use riskmdp::verify::{Exact, VerifyOptions, run};
/// let options = VerifyOptions { claim: Some("figure-1".into()), cases: 3, ..Default::default() };
/// let report = run(&options, &Exact)?;
/// assert!(report.theorems_hold && report.claims[0].failed_checks.is_empty());
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn run(options: &VerifyOptions, ops: &dyn Operators) -> Result<VerifyReport> {
    run_with_progress(options, ops, &mut |_, _| {})
}

/// [`run`], calling `progress(done, total)` as cases finish (every 16 cases of a claim, and at
/// the end of each claim): `done` cases so far over all selected claims, of `total` =
/// cases × claims. The report does not depend on the number of threads.
///
/// # Errors
/// As [`run`].
pub fn run_with_progress(
    options: &VerifyOptions,
    ops: &dyn Operators,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<VerifyReport> {
    if !(1..=MAX_CASES).contains(&options.cases) {
        return Err(Error::InvalidParameter {
            name: "cases".into(),
            message: format!("{} is not in 1..={MAX_CASES}", options.cases),
        });
    }
    let selected = match &options.claim {
        Some(name) => vec![claim(name)?],
        None => claims(),
    };
    engine_self_check()?;
    let scope = if options.property_only { Scope::PropertyOnly } else { Scope::Full };
    let total = options.cases * selected.len();
    let mut done = 0;
    let mut reports = Vec::with_capacity(selected.len());
    for c in &selected {
        let settings = (options.cases, options.seed, scope, options.save_dir.as_deref());
        reports.push(run_claim_counting(c, settings, ops, &mut |n| {
            done += n;
            progress(done, total);
        })?);
    }
    Ok(VerifyReport {
        operators: ops.name().to_string(),
        seed: options.seed,
        cases: options.cases,
        property_only: options.property_only,
        theorems_hold: theorems_hold(&reports),
        claims: reports,
    })
}

/// A fault inside the engine (a NaN out of a backup) would show as a violation of every claim
/// on every case; before any claim, one backup of each kind on the risky arm at β = 1 must be
/// finite, or the run stops with that one error.
///
/// # Errors
/// [`Error::NonFiniteResult`] naming the backup that failed.
fn engine_self_check() -> Result<()> {
    let mdp = crate::envs::risky_arm::risky_arm();
    let beta = crate::Beta::new(1.0)?;
    let plain = crate::operators::backup(&mdp, beta, ndarray::Array1::zeros(mdp.n_states()).view());
    if plain.iter().any(|x| x.is_nan()) {
        return Err(Error::NonFiniteResult { solver: "verify: the plain backup", beta: 1.0 });
    }
    crate::solve::value_iteration(&mdp, beta, crate::SolveOptions::default()).map(|_| ())
}

/// Whether every theorem held (probes never count).
pub fn theorems_hold(reports: &[ClaimReport]) -> bool {
    reports.iter().all(|r| r.kind == Kind::Probe || r.holds())
}
