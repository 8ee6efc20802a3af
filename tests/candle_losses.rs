//! Claim: the losses of Eqs. 9–14 (`riskmdp::losses`, written once over `Numeric`) give the
//! same numbers on candle tensors (`NumericTensor`) as on `f64`, and candle's gradients of them match
//! central finite differences of the `f64` code.
//!
//! * Values: a batch of f32 samples through `NumericTensor` against the mean of the per-sample `f64`
//!   results on the same inputs (each f32 widened exactly), to [`F32_RELATIVE`].
//! * Gradients: every input a candle `Var` (f64, so that only the derivative is under test),
//!   `backward()`, against central differences of the `f64` loss, to [`FINITE_DIFFERENCE`].
//! * Planted bugs (a `Numeric` wrapper with one operation broken) must fail these checks: `scale`
//!   ignoring k, `mean` summing, `clamp` doing nothing, `scale` detaching the graph.
//! * candle's clamp gradient on the exact bound is 0.5 (PyTorch: 1); inputs of the gradient
//!   check keep away from the bound, and one test pins that behaviour.
#![cfg(feature = "candle")]

use std::ops::{Add, Mul, Neg, Sub};

use candle_core::{DType, Device, Tensor, Var};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use riskmdp::continuous::numeric::NumericTensor;
use riskmdp::losses::{self, Numeric, TD_CLAMP};

/// Agreement of f32 tensor code with f64 on the same inputs: relative to `1 + |f64 value|`. One
/// f32 operation rounds to 6e-8 relative; a loss is a handful of them and a mean of 32 samples
/// of one sign, so 1e-5 leaves room for the sums while a wrong constant (β, γ, ε) or a missing
/// term moves a loss by far more.
const F32_RELATIVE: f64 = 1e-5;

/// Candle's f64 backprop against central differences with step [`STEP`], relative to
/// `1 + |derivative|`: the truncation error is O(h²·f''') ≈ 1e-12 for these smooth losses and
/// rounding ≈ ε/h ≈ 2e-10, so 1e-7 is loose for the method and tight for any wrong gradient
/// (a lost factor 1/B, a detached branch).
const FINITE_DIFFERENCE: f64 = 1e-7;

/// Central-difference step.
const STEP: f64 = 1e-6;

/// The loss parameters of every case: β = 2, γ = 0.9 (not 1, so that a missing γ shows), ε = 0.1.
const BETA: f64 = 2.0;
const GAMMA: f64 = 0.9;
const EPSILON: f64 = 0.1;

/// Samples per batch.
const BATCH: usize = 32;

/// One input of a case: a column with one value per sample, or one scalar shared by the batch
/// (a rank-0 tensor such as a learnt β), drawn uniformly from `lo..hi`.
#[derive(Clone, Copy)]
enum Input {
    Column(f64, f64),
    Scalar(f64, f64),
}

/// Each loss of `losses.rs`, alone and chained as a learner uses them.
#[derive(Clone, Copy, Debug)]
enum Case {
    /// Eq. 10: `(log p)`.
    PriorNll,
    /// Eq. 11's weight, elementwise: `(δ)`; δ spans both clamp bounds.
    LogWeight,
    /// Eq. 11: `(log w, log q)`.
    VariationalDynamics,
    /// Eq. 11 from the TD error: `(δ, log q)`.
    DynamicsFromTd,
    /// Eq. 12's target, elementwise: `(r, V₂', log q/p)`.
    CriticTarget,
    /// Eq. 12: `(Q₂, y)`.
    Critic,
    /// Eq. 12 from its parts: `(Q₂, r, V₂', log q/p)`.
    CriticFromParts,
    /// Eq. 13: `(log q_ω, Q₂/β, log π_κ)`.
    VariationalPolicy,
    /// Eq. 14: `(log π_κ)`.
    PriorPolicy,
    /// Eq. 9: `(β scalar, KL)`.
    Dual,
    /// Eq. 9's KL of two Gaussians, elementwise: `(μ_q, log σ_q², μ_p, log σ_p²)`.
    GaussianKl,
}

impl Case {
    const ALL: [Case; 11] = [
        Case::PriorNll,
        Case::LogWeight,
        Case::VariationalDynamics,
        Case::DynamicsFromTd,
        Case::CriticTarget,
        Case::Critic,
        Case::CriticFromParts,
        Case::VariationalPolicy,
        Case::PriorPolicy,
        Case::Dual,
        Case::GaussianKl,
    ];

    fn inputs(self) -> Vec<Input> {
        use Input::{Column, Scalar};
        let log_prob = Column(-5.0, -0.01);
        let value = Column(-10.0, 10.0);
        // δ/(γβ) spans [−8.3, 8.3]: both sides of the clamp ±4.
        let td = Column(-15.0, 15.0);
        match self {
            Case::PriorNll | Case::PriorPolicy => vec![log_prob],
            Case::LogWeight => vec![td],
            Case::VariationalDynamics => vec![Column(-4.0, 4.0), log_prob],
            Case::DynamicsFromTd => vec![td, log_prob],
            Case::CriticTarget => vec![value, value, Column(-2.0, 2.0)],
            Case::Critic => vec![value, value],
            Case::CriticFromParts => vec![value, value, value, Column(-2.0, 2.0)],
            Case::VariationalPolicy => vec![log_prob, value, log_prob],
            Case::Dual => vec![Scalar(0.5, 5.0), Column(0.0, 1.0)],
            Case::GaussianKl => vec![Column(-2.0, 2.0), Column(-3.0, 1.0), Column(-2.0, 2.0), Column(-3.0, 1.0)],
        }
    }

    /// The loss on any `Numeric`: the same call for `f64` (one sample) and `NumericTensor`.
    fn eval<T: Numeric>(self, x: &[T]) -> T {
        let x = |i: usize| x[i].clone();
        match self {
            Case::PriorNll => losses::prior_dynamics_nll(x(0)),
            Case::LogWeight => losses::dynamics_log_weight(x(0), BETA, GAMMA, TD_CLAMP),
            Case::VariationalDynamics => losses::variational_dynamics_loss(x(0), x(1)),
            Case::DynamicsFromTd => {
                let log_w = losses::dynamics_log_weight(x(0), BETA, GAMMA, TD_CLAMP);
                losses::variational_dynamics_loss(log_w, x(1))
            }
            Case::CriticTarget => losses::critic_target(x(0), x(1), x(2), BETA, GAMMA),
            Case::Critic => losses::critic_loss(x(0), x(1)),
            Case::CriticFromParts => losses::critic_loss(x(0), losses::critic_target(x(1), x(2), x(3), BETA, GAMMA)),
            Case::VariationalPolicy => losses::variational_policy_loss(x(0), x(1), x(2)),
            Case::PriorPolicy => losses::prior_policy_loss(x(0)),
            Case::Dual => losses::dual_loss(x(0), x(1), EPSILON),
            Case::GaussianKl => losses::gaussian_kl(x(0), x(1), x(2), x(3)),
        }
    }

    /// Clamp bounds of the TD error, ±c·γ·β, for the cases that clamp it.
    fn clamps_input(self) -> Option<usize> {
        matches!(self, Case::LogWeight | Case::DynamicsFromTd).then_some(0)
    }

    /// Draws the inputs, f32-representable (so both sides see the same numbers): one `Vec` per
    /// input, of length `batch` for a column and 1 for a scalar. Clamped inputs keep 1e-2 away
    /// from the bound, where the derivative jumps.
    fn draw(self, batch: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<f64>> {
        let bound = TD_CLAMP * GAMMA * BETA;
        let mut draw_one = |lo: f64, hi: f64, clamped: bool| loop {
            let v = f64::from(rng.random_range(lo..hi) as f32);
            if !clamped || (v.abs() - bound).abs() > 1e-2 {
                break v;
            }
        };
        self.inputs()
            .into_iter()
            .enumerate()
            .map(|(i, input)| {
                let clamped = self.clamps_input() == Some(i);
                match input {
                    Input::Column(lo, hi) => (0..batch).map(|_| draw_one(lo, hi, clamped)).collect(),
                    Input::Scalar(lo, hi) => vec![draw_one(lo, hi, clamped)],
                }
            })
            .collect()
    }

    /// The reference: the `f64` loss per sample, and its mean over the batch.
    fn reference(self, inputs: &[Vec<f64>]) -> (Vec<f64>, f64) {
        let batch = inputs.iter().map(Vec::len).max().unwrap_or(0);
        let per_sample: Vec<f64> = (0..batch)
            .map(|j| {
                let sample: Vec<f64> = inputs.iter().map(|col| if col.len() == 1 { col[0] } else { col[j] }).collect();
                self.eval(&sample)
            })
            .collect();
        let mean = per_sample.iter().sum::<f64>() / batch as f64;
        (per_sample, mean)
    }
}

/// Tensors of `dtype` holding `inputs`: a column as shape `(B)`, a scalar as rank 0.
fn tensors(inputs: &[Vec<f64>], case: Case, dtype: DType) -> Vec<Tensor> {
    inputs
        .iter()
        .zip(case.inputs())
        .map(|(values, input)| {
            let t = match input {
                Input::Column(..) => Tensor::from_slice(values, values.len(), &Device::Cpu),
                Input::Scalar(..) => Tensor::new(values[0], &Device::Cpu),
            };
            t.and_then(|t| t.to_dtype(dtype)).expect("a CPU tensor from a slice")
        })
        .collect()
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64).and_then(|t| t.flatten_all()).and_then(|t| t.to_vec1()).expect("readable tensor")
}

/// Largest `|got − want| / (1 + |want|)`; a length mismatch is infinitely wrong.
fn worst_relative(got: &[f64], want: &[f64]) -> f64 {
    if got.len() != want.len() {
        return f64::INFINITY;
    }
    got.iter().zip(want).map(|(g, w)| (g - w).abs() / (1.0 + w.abs())).fold(0.0, f64::max)
}

/// The worst relative disagreement of `case` in f32 through `wrap` (the numeric type under test)
/// against `f64`: elementwise for an elementwise case, else the loss against the mean.
fn f32_disagreement<T: Numeric>(
    case: Case,
    seed: u64,
    wrap: impl Fn(Tensor) -> T,
    unwrap: impl Fn(T) -> Tensor,
) -> f64 {
    let inputs = case.draw(BATCH, &mut ChaCha8Rng::seed_from_u64(seed));
    let (per_sample, mean) = case.reference(&inputs);
    let batch: Vec<T> = tensors(&inputs, case, DType::F32).into_iter().map(&wrap).collect();
    let out = unwrap(case.eval(&batch));
    assert_eq!(out.dtype(), DType::F32, "{case:?} left f32");
    match out.rank() {
        0 => worst_relative(&values(&out), &[mean]),
        _ => worst_relative(&values(&out), &per_sample),
    }
}

fn batch_tensor(b: NumericTensor) -> Tensor {
    b.into_tensor().expect("shape-matched inputs")
}

#[test]
fn every_loss_on_f32_tensors_equals_the_f64_mean_of_its_samples() {
    for case in Case::ALL {
        let worst =
            (0..4).map(|seed| f32_disagreement(case, seed, NumericTensor::new, batch_tensor)).fold(0.0, f64::max);
        eprintln!("{case:?}: worst relative f32 error {worst:.1e}");
        assert!(worst <= F32_RELATIVE, "{case:?}: relative error {worst:e}");
    }
}

#[test]
fn every_numeric_operation_on_tensors_is_the_f64_one_elementwise() {
    let xs = [0.3f64, 1.7, -2.5, 4.5, -6.0, 0.0];
    let t = NumericTensor::new(Tensor::from_slice(&xs, xs.len(), &Device::Cpu).expect("tensor"));
    let k = -1.25;
    type Elementwise = fn(f64) -> f64;
    let ops: [(&str, NumericTensor, Elementwise); 5] = [
        ("exp", t.exp(), f64::exp),
        ("square", t.square(), |x| x * x),
        ("clamp", t.clamp(-2.0, 4.0), |x| x.clamp(-2.0, 4.0)),
        ("scale", t.scale(k), |x| x * -1.25),
        ("neg", -t.clone(), |x| -x),
    ];
    for (name, got, f) in ops {
        let want: Vec<f64> = xs.iter().map(|&x| f(x)).collect();
        let worst = worst_relative(&values(&batch_tensor(got)), &want);
        assert!(worst <= f64::EPSILON, "{name}: {worst:e}");
    }
    // ln where it is defined; the mean of all elements to rank 0.
    let positive = t.clone() * t.clone() + t.exp();
    let want: Vec<f64> = xs.iter().map(|&x| (x * x + x.exp()).ln()).collect();
    assert!(worst_relative(&values(&batch_tensor(positive.ln())), &want) <= f64::EPSILON);
    let mean = batch_tensor(t.mean());
    assert_eq!(mean.rank(), 0);
    let want = xs.iter().sum::<f64>() / xs.len() as f64;
    assert!(worst_relative(&values(&mean), &[want]) <= f64::EPSILON);
}

/// candle's gradient of `case` (f64 `Var`s) and the central differences of the `f64` loss,
/// input by input: `(backprop, finite difference)` per element.
fn gradients<T: Numeric>(
    case: Case,
    seed: u64,
    wrap: impl Fn(Tensor) -> T,
    unwrap: impl Fn(T) -> Tensor,
) -> Vec<(Vec<f64>, Vec<f64>)> {
    let inputs = case.draw(8, &mut ChaCha8Rng::seed_from_u64(seed));
    let vars: Vec<Var> = tensors(&inputs, case, DType::F64).iter().map(|t| Var::from_tensor(t).expect("var")).collect();
    let out = unwrap(case.eval(&vars.iter().map(|v| wrap(v.as_tensor().clone())).collect::<Vec<_>>()));
    // An elementwise case is differentiated through the mean of its outputs, as the reference.
    let objective = out.mean_all().expect("mean");
    let grads = objective.backward().expect("backward");
    (0..inputs.len())
        .map(|i| {
            let backprop = grads.get(vars[i].as_tensor()).map(values).unwrap_or_else(|| vec![0.0; inputs[i].len()]);
            let numeric = (0..inputs[i].len())
                .map(|j| {
                    let mut shifted = inputs.to_vec();
                    shifted[i][j] = inputs[i][j] + STEP;
                    let up = case.reference(&shifted).1;
                    shifted[i][j] = inputs[i][j] - STEP;
                    let down = case.reference(&shifted).1;
                    (up - down) / (2.0 * STEP)
                })
                .collect();
            (backprop, numeric)
        })
        .collect()
}

#[test]
fn every_loss_gradient_matches_central_finite_differences() {
    for case in Case::ALL {
        let mut case_worst = 0.0f64;
        for seed in 0..3 {
            for (i, (backprop, numeric)) in
                gradients(case, seed, NumericTensor::new, batch_tensor).into_iter().enumerate()
            {
                let worst = worst_relative(&backprop, &numeric);
                case_worst = case_worst.max(worst);
                assert!(
                    worst <= FINITE_DIFFERENCE,
                    "{case:?}, seed {seed}, input {i}: {worst:e}\n backprop {backprop:?}\n numeric  {numeric:?}"
                );
            }
        }
        eprintln!("{case:?}: worst relative gradient error {case_worst:.1e}");
    }
}

#[test]
fn the_gradient_check_covers_td_errors_on_both_sides_of_the_clamp() {
    // Not vacuous: the gradient check above covers clamped samples only if some δ lies beyond
    // ±c·γ·β = ±7.2, where both derivatives must be 0, and some inside.
    let inputs = Case::LogWeight.draw(8, &mut ChaCha8Rng::seed_from_u64(0));
    let bound = TD_CLAMP * GAMMA * BETA;
    assert!(inputs[0].iter().any(|d| d.abs() > bound) && inputs[0].iter().any(|d| d.abs() < bound));
}

/// candle's `clamp` is `maximum` then `minimum`, whose gradients split ties evenly: exactly on a
/// bound the derivative is 0.5 (PyTorch's clamp gives 1). Pinned so that a candle upgrade that
/// changes it is noticed; the losses never rely on it (a TD error exactly on ±c·γ·β has
/// probability zero).
#[test]
fn clamp_gradient_on_the_exact_bound_is_one_half_in_candle() {
    let x = Var::from_slice(&[-4.0f64, 4.0, 0.5, 9.0, -9.0], 5, &Device::Cpu).expect("var");
    let clamped = batch_tensor(NumericTensor::new(x.as_tensor().clone()).clamp(-4.0, 4.0));
    let grads = clamped.sum_all().and_then(|s| s.backward()).expect("backward");
    let grad = values(grads.get(x.as_tensor()).expect("x has a gradient"));
    assert!(worst_relative(&grad, &[0.5, 0.5, 1.0, 0.0, 0.0]) <= f64::EPSILON, "{grad:?}");
}

#[test]
fn a_scalar_broadcasts_over_the_batch_but_unequal_batch_shapes_are_an_error() {
    let cpu = &Device::Cpu;
    let column = Tensor::from_slice(&[1.0f32, 2.0, 3.0], 3, cpu).expect("tensor");
    let scalar = Tensor::new(2.0f32, cpu).expect("tensor");
    let product = batch_tensor(NumericTensor::new(scalar) * NumericTensor::new(column.clone()));
    assert!(worst_relative(&values(&product), &[2.0, 4.0, 6.0]) <= f64::EPSILON);

    // (3, 1) − (3) would be a (3, 3) matrix under NumPy rules: a silently wrong loss.
    let as_matrix = column.reshape((3, 1)).expect("reshape");
    let mismatch = NumericTensor::new(as_matrix) - NumericTensor::new(column);
    // The error passes through every later operation and surfaces once, without a panic.
    let loss = losses::critic_loss(mismatch, NumericTensor::new(Tensor::new(0.0f32, cpu).expect("tensor")));
    let err = loss.clone().into_tensor().expect_err("shape mismatch must surface");
    assert!(err.to_string().contains("shape mismatch"), "{err}");
    assert!(loss.tensor().is_err());
}

// ---------------------------------------------------------------------------------------------
// Planted bugs: the same checks on a `Numeric` with one operation broken must fail.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Bug {
    /// `scale(k)` returns its input: β, γ and ε vanish from Eqs. 9, 11 and 12.
    ScaleIgnoresK,
    /// `mean` sums: every batch loss grows by a factor B.
    MeanSums,
    /// `clamp` does nothing: large TD errors are no longer cut at ±c.
    ClampIgnored,
    /// `scale` detaches: values stay right, gradients through β·, γ· and 1/(γβ) vanish.
    ScaleDetaches,
}

#[derive(Clone)]
struct Planted(NumericTensor, Bug);

impl Planted {
    fn with(&self, b: NumericTensor) -> Self {
        Planted(b, self.1)
    }
    fn tensor(&self) -> Tensor {
        self.0.tensor().expect("planted bugs run on shape-matched inputs").clone()
    }
}

impl Add for Planted {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        self.with(self.0.clone() + rhs.0)
    }
}
impl Sub for Planted {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        self.with(self.0.clone() - rhs.0)
    }
}
impl Mul for Planted {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        self.with(self.0.clone() * rhs.0)
    }
}
impl Neg for Planted {
    type Output = Self;
    fn neg(self) -> Self {
        self.with(-self.0.clone())
    }
}

impl Numeric for Planted {
    fn exp(&self) -> Self {
        self.with(self.0.exp())
    }
    fn ln(&self) -> Self {
        self.with(self.0.ln())
    }
    fn clamp(&self, lo: f64, hi: f64) -> Self {
        match self.1 {
            Bug::ClampIgnored => self.clone(),
            _ => self.with(self.0.clamp(lo, hi)),
        }
    }
    fn square(&self) -> Self {
        self.with(self.0.square())
    }
    fn mean(&self) -> Self {
        match self.1 {
            Bug::MeanSums => self.with(NumericTensor::from_result(self.tensor().sum_all())),
            _ => self.with(self.0.mean()),
        }
    }
    fn scale(&self, k: f64) -> Self {
        match self.1 {
            Bug::ScaleIgnoresK => self.clone(),
            Bug::ScaleDetaches => self.with(NumericTensor::new(self.tensor().detach()).scale(k)),
            _ => self.with(self.0.scale(k)),
        }
    }
    fn offset(&self, k: f64) -> Self {
        self.with(self.0.offset(k))
    }
}

#[test]
fn planted_value_bugs_break_the_f32_agreement() {
    for bug in [Bug::ScaleIgnoresK, Bug::MeanSums, Bug::ClampIgnored] {
        let caught: Vec<Case> = Case::ALL
            .into_iter()
            .filter(|&case| {
                f32_disagreement(case, 0, |t| Planted(NumericTensor::new(t), bug), |p| p.tensor()) > F32_RELATIVE
            })
            .collect();
        // Which cases each bug must break: scale carries β, γ, ε; every loss but the
        // elementwise ones means; the clamp acts in the two TD-weight cases.
        let must: &[&str] = match bug {
            Bug::ScaleIgnoresK => &["LogWeight", "DynamicsFromTd", "CriticTarget", "CriticFromParts", "Dual"],
            Bug::MeanSums => &["PriorNll", "VariationalDynamics", "Critic", "VariationalPolicy", "Dual"],
            Bug::ClampIgnored => &["LogWeight", "DynamicsFromTd"],
            Bug::ScaleDetaches => unreachable!(),
        };
        let caught: Vec<String> = caught.iter().map(|c| format!("{c:?}")).collect();
        for name in must {
            assert!(caught.iter().any(|c| c == name), "{bug:?} not caught in {name}: caught {caught:?}");
        }
    }
}

#[test]
fn planted_detached_scale_keeps_values_but_breaks_the_gradient_check() {
    let bug = Bug::ScaleDetaches;
    // Values agree: the bug is invisible to the value check ...
    for case in Case::ALL {
        assert!(f32_disagreement(case, 0, |t| Planted(NumericTensor::new(t), bug), |p| p.tensor()) <= F32_RELATIVE);
    }
    // ... and the gradient check catches it where a scaled input carries the gradient.
    for case in [Case::LogWeight, Case::CriticTarget, Case::Dual] {
        let worst = gradients(case, 0, |t| Planted(NumericTensor::new(t), bug), |p| p.tensor())
            .iter()
            .map(|(backprop, numeric)| worst_relative(backprop, numeric))
            .fold(0.0, f64::max);
        assert!(worst > FINITE_DIFFERENCE, "{case:?}: detached scale not caught ({worst:e})");
    }
}
