//! `riskmdp bench`: how fast one exact sweep of T* is, against the memory-bandwidth floor.
//!
//! A dense sweep must read all of P once (S·A·S·8 bytes). The *floor* is measured in the same
//! run as the time to stream P once through the same dot product against a constant vector —
//! no `exp`, no `log`, nothing but the read. The report gives the median sweep time, the floor,
//! their ratio, the plain per-row kernel for comparison, and the sweeps value iteration needs
//! to reach a tolerance.

use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::kernel::{GROUP, backup_into, row_dots};
use crate::mdp::TabularMdp;
use crate::operators::backup;
use crate::random::RandomMdp;
use crate::risk::Beta;
use crate::solve::{SolveOptions, value_iteration};

/// A dense random MDP: every row has full support (entries U(0,1), normalised), rewards
/// U(−1, 1), γ = 0.95, no terminal states. The same seed gives the same model (drawn by the
/// crate's one generator, [`RandomMdp::dense`], from a ChaCha8 stream seeded with `seed`).
///
/// # Errors
/// [`Error::InvalidParameter`] for zero states or actions.
#[doc(hidden)]
pub const MAX_DENSE_ENTRIES: usize = 1 << 27;

/// (Benchmark internals; public for `benches/` only.)
#[doc(hidden)]
pub fn random_dense(states: usize, actions: usize, seed: u64) -> Result<TabularMdp> {
    if states == 0 || actions == 0 {
        return Err(Error::InvalidParameter { name: "states/actions".into(), message: "must be at least 1".into() });
    }
    if states.checked_mul(states).and_then(|x| x.checked_mul(actions)).is_none_or(|n| n > MAX_DENSE_ENTRIES) {
        return Err(Error::InvalidParameter {
            name: "states/actions".into(),
            message: format!("S²·A = {states}²·{actions} exceeds {MAX_DENSE_ENTRIES} probabilities (1 GiB)"),
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    RandomMdp::dense(states, actions, 0.95).sample(&mut rng).into_mdp(&format!("random-dense-{states}x{actions}"))
}

/// One exact sweep of the soft backup with the solvers' fast kernel (for benchmarks):
/// `q[s·A + a] = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp v(s')`, the same numbers as
/// [`operators::backup`](crate::operators::backup) to a few ulps.
///
/// # Panics
/// If `v` does not have S entries.
#[doc(hidden)]
pub fn fast_backup(mdp: &TabularMdp, beta: Beta, v: &[f64]) -> Vec<f64> {
    let mut q = vec![0.0; mdp.n_states() * mdp.n_actions()];
    backup_into(mdp, beta, v, &mut q);
    q
}

/// What `riskmdp bench` measures.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Model name.
    pub model: String,
    /// S.
    pub states: usize,
    /// A.
    pub actions: usize,
    /// Positive entries of P.
    pub nonzeros: usize,
    /// Whether P is stored sparse.
    pub sparse: bool,
    /// β of the sweeps.
    pub beta: f64,
    /// Threads used by rayon.
    pub threads: usize,
    /// Bytes of P read per sweep.
    pub bytes_per_sweep: u64,
    /// Median time of one exact sweep of T* (backup and max), ms.
    pub sweep_ms: f64,
    /// Median time to stream P once (the bandwidth floor), ms.
    pub floor_ms: f64,
    /// `floor_ms / sweep_ms` (1 = at the floor).
    pub floor_fraction: f64,
    /// Read bandwidth of the floor, GB/s.
    pub bandwidth_gb_s: f64,
    /// Median time of one sweep with the plain per-row kernel, ms.
    pub plain_sweep_ms: f64,
    /// Value-iteration sweeps to reach `tol`.
    pub iterations: usize,
    /// The tolerance.
    pub tol: f64,
    /// Wall time of that value iteration, ms.
    pub solve_ms: f64,
    /// Repetitions behind each median.
    pub reps: usize,
}

/// Most timed repetitions per median.
pub const MAX_REPS: usize = 100_000;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 { xs[n / 2] } else { 0.5 * (xs[n / 2 - 1] + xs[n / 2]) }
}

fn time_ms(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1e3
}

/// Benchmark one model at `beta`: `reps` timed sweeps of each kind (after one warm-up), then a
/// value iteration to `tol`.
///
/// # Errors
/// [`Error::InvalidParameter`] for zero `reps`; those of [`value_iteration()`].
pub fn run(mdp: &TabularMdp, beta: Beta, reps: usize, tol: f64) -> Result<BenchReport> {
    if !(1..=MAX_REPS).contains(&reps) {
        return Err(Error::InvalidParameter {
            name: "reps".into(),
            message: format!("{reps} is not in 1..={MAX_REPS}"),
        });
    }
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    let v: Vec<f64> = (0..s_count).map(|j| (j % 17) as f64 * 0.1).collect();
    let mut q = vec![0.0; s_count * a_count];
    let mut sweep = || {
        backup_into(mdp, beta, &v, &mut q);
        let v_new: Vec<f64> =
            q.chunks(a_count).map(|row| row.iter().copied().fold(f64::NEG_INFINITY, f64::max)).collect();
        std::hint::black_box(v_new);
    };
    sweep();
    let sweep_ms = median((0..reps).map(|_| time_ms(&mut sweep)).collect());

    let ones = vec![1.0; s_count];
    // The floor: stream every row once through the same inner loops as the sweep, nothing else.
    let chunk_rows = crate::kernel::rows_per_task(mdp).next_multiple_of(GROUP);
    let rows = s_count * a_count;
    let stream = || {
        let total: f64 = (0..rows.div_ceil(chunk_rows))
            .into_par_iter()
            .map(|chunk| {
                let first = chunk * chunk_rows;
                let mut ys = vec![0.0; chunk_rows.min(rows - first)];
                row_dots(mdp, first, &ones, &mut ys);
                ys.iter().sum::<f64>()
            })
            .sum();
        std::hint::black_box(total);
    };
    stream();
    let floor_ms = median((0..reps).map(|_| time_ms(stream)).collect());

    let plain_reps = reps.min(3);
    let plain_sweep_ms = median(
        (0..plain_reps)
            .map(|_| {
                time_ms(|| {
                    std::hint::black_box(backup(mdp, beta, ndarray::ArrayView1::from(&v)));
                })
            })
            .collect(),
    );

    let start = Instant::now();
    let iterations = value_iteration(mdp, beta, SolveOptions::default().tol(tol))?.iterations;
    let solve_ms = start.elapsed().as_secs_f64() * 1e3;
    let bytes_per_sweep = if mdp.is_sparse() {
        (mdp.nonzeros() * (8 + 4) + (s_count * a_count + 1) * 8) as u64
    } else {
        (s_count * a_count * s_count * 8) as u64
    };
    Ok(BenchReport {
        model: mdp.name().to_string(),
        states: s_count,
        actions: a_count,
        nonzeros: mdp.nonzeros(),
        sparse: mdp.is_sparse(),
        beta: beta.get(),
        threads: rayon::current_num_threads(),
        bytes_per_sweep,
        sweep_ms,
        floor_ms,
        floor_fraction: floor_ms / sweep_ms,
        bandwidth_gb_s: bytes_per_sweep as f64 / (floor_ms * 1e6),
        plain_sweep_ms,
        iterations,
        tol,
        solve_ms,
        reps,
    })
}
