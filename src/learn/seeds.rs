//! Many seeds of one learner, in parallel, and their mean curve.
//!
//! Seed `k` runs exactly as `riskmdp learn --seed k` does (a ChaCha8 generator seeded with
//! `k`), so any curve of a figure can be reproduced, and inspected, one run at a time.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::{Algorithm, LearnConfig, LearnReport, learn};
use crate::error::{Error, Result};
use crate::mdp::TabularMdp;

/// [`learn`] once per seed, in parallel (rayon), reports in the order of `seeds`.
///
/// # Errors
/// Those of [`learn`] (the first failing seed's).
pub fn learn_seeds(
    mdp: &TabularMdp,
    algorithm: Algorithm,
    config: &LearnConfig,
    seeds: &[u64],
) -> Result<Vec<LearnReport>> {
    seeds.par_iter().map(|&seed| learn(mdp, algorithm, config, &mut ChaCha8Rng::seed_from_u64(seed))).collect()
}

/// A curve over runs: at each measurement, a centre and a band `(lower, upper)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Episodes at each measurement.
    pub episodes: Vec<usize>,
    /// Centre of the band.
    pub centre: Vec<f64>,
    /// Lower edge.
    pub lower: Vec<f64>,
    /// Upper edge.
    pub upper: Vec<f64>,
}

impl Band {
    /// Mean ± sample standard deviation of `values(report)` over the reports.
    ///
    /// # Formula
    ///
    /// ```text
    /// m_k = (1/n)·Σ_i x_ik,   s_k = sqrt( Σ_i (x_ik − m_k)² / (n − 1) )   (s = 0 for n = 1)
    /// band: [m_k − s_k, m_k + s_k]
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for no report, or reports measured at different episodes.
    pub fn mean_std(reports: &[LearnReport], values: impl Fn(&LearnReport) -> &[f64]) -> Result<Self> {
        let (episodes, columns) = columns(reports, values)?;
        let (mut centre, mut lower, mut upper) = (Vec::new(), Vec::new(), Vec::new());
        for column in columns {
            let (m, s) = mean_std(&column);
            centre.push(m);
            lower.push(m - s);
            upper.push(m + s);
        }
        Ok(Band { episodes, centre, lower, upper })
    }

    /// Mean ± sample standard deviation, as [`Band::mean_std`], of columns given directly:
    /// `columns[k]` holds every run's value at `x[k]` (e.g. the evaluation returns of a
    /// continuous learner's seeds at environment step `x[k]`; `episodes` then holds steps).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `x` and `columns` differ in length or a column is empty.
    pub fn mean_std_columns(x: Vec<usize>, columns: &[Vec<f64>]) -> Result<Self> {
        if x.len() != columns.len() || columns.iter().any(Vec::is_empty) {
            return Err(Error::InvalidParameter {
                name: "band".into(),
                message: format!("{} positions against {} columns, or an empty column", x.len(), columns.len()),
            });
        }
        let (mut centre, mut lower, mut upper) = (Vec::new(), Vec::new(), Vec::new());
        for column in columns {
            let (m, s) = mean_std(column);
            centre.push(m);
            lower.push(m - s);
            upper.push(m + s);
        }
        Ok(Band { episodes: x, centre, lower, upper })
    }

    /// Geometric mean ×÷ geometric standard deviation (for β, which spans decades).
    ///
    /// # Formula
    ///
    /// ```text
    /// (m_k, s_k) = mean_std( ln x_ik ),   centre e^{m_k},   band [e^{m_k − s_k}, e^{m_k + s_k}]
    /// ```
    ///
    /// # Errors
    /// As [`Band::mean_std`], and [`Error::InvalidParameter`] for a value ≤ 0.
    pub fn geometric(reports: &[LearnReport], values: impl Fn(&LearnReport) -> &[f64]) -> Result<Self> {
        let (episodes, columns) = columns(reports, values)?;
        let (mut centre, mut lower, mut upper) = (Vec::new(), Vec::new(), Vec::new());
        for column in columns {
            if let Some(x) = column.iter().find(|x| x.is_nan() || **x <= 0.0) {
                return Err(Error::InvalidParameter { name: "values".into(), message: format!("{x} is not > 0") });
            }
            let logs: Vec<f64> = column.iter().map(|x| x.ln()).collect();
            let (m, s) = mean_std(&logs);
            centre.push(m.exp());
            lower.push((m - s).exp());
            upper.push((m + s).exp());
        }
        Ok(Band { episodes, centre, lower, upper })
    }

    /// Episodes as `f64`, for plotting.
    #[must_use]
    pub fn x(&self) -> Vec<f64> {
        self.episodes.iter().map(|&e| e as f64).collect()
    }

    /// The last centre value (`NaN` for an empty band).
    #[must_use]
    pub fn last(&self) -> f64 {
        self.centre.last().copied().unwrap_or(f64::NAN)
    }
}

/// The shared measurement episodes and, per measurement, the values of every report.
fn columns(reports: &[LearnReport], values: impl Fn(&LearnReport) -> &[f64]) -> Result<(Vec<usize>, Vec<Vec<f64>>)> {
    let bad = |message: String| Err(Error::InvalidParameter { name: "reports".into(), message });
    let Some(first) = reports.first() else { return bad("no report to summarise".into()) };
    let episodes = first.episodes.clone();
    for r in reports {
        if r.episodes != episodes || values(r).len() != episodes.len() {
            return bad("the reports were measured at different episodes".into());
        }
    }
    let columns = (0..episodes.len()).map(|k| reports.iter().map(|r| values(r)[k]).collect()).collect();
    Ok((episodes, columns))
}

/// Mean and sample standard deviation (0 for one value).
fn mean_std(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    if x.len() < 2 {
        return (m, 0.0);
    }
    let var = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0);
    (m, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::risky_arm::risky_arm;

    fn config() -> LearnConfig {
        LearnConfig { episodes: 20, log_every: 5, ..LearnConfig::default() }
    }

    #[test]
    fn each_seed_runs_as_a_single_seeded_run() {
        let mdp = risky_arm();
        let runs = learn_seeds(&mdp, Algorithm::BetaVmbpo, &config(), &[3, 1]).expect("runs");
        for (report, seed) in runs.iter().zip([3, 1]) {
            let alone =
                learn(&mdp, Algorithm::BetaVmbpo, &config(), &mut ChaCha8Rng::seed_from_u64(seed)).expect("run");
            assert_eq!(report, &alone, "seed {seed}");
        }
        assert_ne!(runs[0].betas, runs[1].betas, "different seeds, different runs");
    }

    #[test]
    fn the_band_is_the_mean_and_sample_standard_deviation() {
        let mdp = risky_arm();
        let mut runs = learn_seeds(&mdp, Algorithm::BetaVmbpo, &config(), &[1, 2]).expect("runs");
        // Two runs with returns −1 and −3 at every measurement: mean −2, sample std √2.
        let n = runs[0].returns.len();
        runs[0].returns = vec![-1.0; n];
        runs[1].returns = vec![-3.0; n];
        let band = Band::mean_std(&runs, |r| &r.returns).expect("band");
        assert_eq!(band.episodes, vec![0, 5, 10, 15, 20]);
        for k in 0..n {
            assert!((band.centre[k] + 2.0).abs() < 1e-15);
            assert!((band.upper[k] - (-2.0 + 2f64.sqrt())).abs() < 1e-15);
            assert!((band.lower[k] - (-2.0 - 2f64.sqrt())).abs() < 1e-15);
        }
        // β of 1 and 100: geometric mean 10, band ×÷ e^{ln(100)/√2}.
        runs[0].betas = vec![1.0; n];
        runs[1].betas = vec![100.0; n];
        let band = Band::geometric(&runs, |r| &r.betas).expect("band");
        let factor = (100f64.ln() / 2f64.sqrt()).exp();
        assert!((band.last() - 10.0).abs() < 1e-12);
        assert!((band.upper[0] / (10.0 * factor) - 1.0).abs() < 1e-12);
        runs[1].betas[2] = 0.0;
        assert!(Band::geometric(&runs, |r| &r.betas).is_err());
    }

    #[test]
    fn columns_given_directly_make_the_same_band() {
        // Seeds with returns 1 and 3 at step 1000, 5 and 5 at step 2000.
        let band = Band::mean_std_columns(vec![1000, 2000], &[vec![1.0, 3.0], vec![5.0, 5.0]]).expect("band");
        assert_eq!(band.episodes, vec![1000, 2000]);
        assert_eq!(band.centre, vec![2.0, 5.0]);
        assert!((band.upper[0] - (2.0 + 2f64.sqrt())).abs() < 1e-15 && band.upper[1].to_bits() == 5f64.to_bits());
        assert!(Band::mean_std_columns(vec![1000], &[vec![1.0], vec![2.0]]).is_err());
        assert!(Band::mean_std_columns(vec![1000], &[vec![]]).is_err());
    }

    #[test]
    fn mismatched_or_missing_reports_are_refused() {
        assert!(Band::mean_std(&[], |r| &r.returns).is_err());
        let mdp = risky_arm();
        let mut runs = learn_seeds(&mdp, Algorithm::QLearning, &config(), &[1, 2]).expect("runs");
        runs[1].episodes.pop();
        assert!(Band::mean_std(&runs, |r| &r.returns).is_err());
    }
}
