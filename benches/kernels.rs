//! Criterion benchmarks of the soft-backup kernels: the solvers' fast kernel (one shift per
//! sweep) against the plain per-row kernel, on a dense random model and a sparse gridworld, at
//! a moderate and a small β (where rows fall back to their own shift).
//!
//! `cargo bench --bench kernels`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use riskmdp::bench::{fast_backup, random_dense};
use riskmdp::envs::Gridworld;
use riskmdp::operators::backup;
use riskmdp::{Beta, TabularMdp};

fn values(mdp: &TabularMdp, spread: f64) -> Vec<f64> {
    (0..mdp.n_states()).map(|j| ((j * 7919) % 101) as f64 / 100.0 * spread).collect()
}

fn kernels(c: &mut Criterion) {
    let dense = random_dense(1000, 4, 0).expect("valid model");
    let grid = Gridworld::cliff_scaled(300).expect("n ≥ 10").build().expect("valid model");
    for (name, mdp) in [("dense-1000x4", &dense), ("grid-300x300", &grid)] {
        for (label, beta, spread) in [("beta=1", 1.0, 5.0), ("beta=1e-3", 1e-3, 5e3)] {
            let beta = Beta::new(beta).expect("positive");
            let v = values(mdp, spread);
            c.bench_function(&format!("fast {name} {label}"), |b| b.iter(|| black_box(fast_backup(mdp, beta, &v))));
            c.bench_function(&format!("plain {name} {label}"), |b| {
                b.iter(|| black_box(backup(mdp, beta, ndarray::ArrayView1::from(&v))))
            });
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = kernels
}
criterion_main!(benches);
