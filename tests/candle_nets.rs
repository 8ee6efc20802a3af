//! Claim: the networks of `continuous::nets` have the shapes of App. C.2, are initialised from our
//! seeded generator byte for byte, and the tanh-squashed Gaussian's log-density is the density of
//! its actions (hand computation; it integrates to 1; sampled and evaluated densities agree).
//! The fast kernels are the plain functions: [`swish`] is candle's `silu` (values and gradient),
//! and a bias added as the matmul `1·b` gives the broadcast add's values and the batch sum as its
//! gradient.
#![cfg(feature = "candle")]

use candle_core::Var;
use candle_core::{D, DType, Device, IndexOp, Tensor};
use candle_nn::VarMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use riskmdp::continuous::nets::{
    Activation, Ensemble, GaussianActor, LOG_VAR_BOUNDS, Mlp, TAU, TwinCritic, copy_varmap, gaussian_log_density,
    soft_update, sorted_vars, squashed_gaussian, squashed_gaussian_log_prob, standard_normal, swish,
};

/// f64 tensor code against the same formula written out in f64: a few ulps of each operation.
const F64_HAND: f64 = 1e-12;

/// f32 network outputs recomputed by another route (per member instead of batched): the two
/// sum in different orders, a few f32 ulps over 200-wide dot products.
const F32_ROUTE: f64 = 1e-5;

/// A trapezoid rule on 200 001 points of a smooth density: error ≈ h²·max|f''|/12 ≈ 1e-9; 1e-6
/// still rejects a missing Jacobian, which moves the integral by tens of percent.
const QUADRATURE: f64 = 1e-6;

/// f32 swish against the exact value (f64), relative: its e^{−x} (≤ 1.01 ulp), the add and the
/// division each round. Measured 1.70e-7 over [−120, 120]; candle's `silu` 1.65e-7.
const SWISH_EXACT: f64 = 2e-7;

/// f32 swish against candle's `silu`, relative: both are accurate to ~1.4 ulp but round
/// differently (candle's `expf` is correctly rounded, ours is not quite), and one ulp apart in
/// e^{−x} becomes two in `1 + e^{−x}` where that sum rounds at spacing 2 (x ∈ [−17.3, −16.6]).
/// Measured 2.64e-7 there, 2.25e-7 elsewhere.
const SWISH_VS_SILU: f64 = 3e-7;

/// Swish's f32 gradient against the f64 derivative, absolute per unit of upstream gradient
/// (|swish'| ≤ 1.1): measured 2.2e-7.
const SWISH_GRAD: f64 = 5e-7;

/// Swish's gradient against candle's `silu` gradient: candle's is off by up to 1.2e-6 (its
/// `1 − σ` cancels for x ≫ 0, and x multiplies the error).
const SILU_GRAD: f64 = 2e-6;

const OBS: usize = 3;
const ACT: usize = 2;
const HIDDEN: [usize; 2] = [256, 256];

fn cpu() -> &'static Device {
    &Device::Cpu
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64).and_then(|t| t.flatten_all()).and_then(|t| t.to_vec1()).expect("readable")
}

fn close(got: &[f64], want: &[f64], tol: f64) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() <= tol * (1.0 + w.abs()))
}

/// Every variable's name and bit pattern, in name order.
fn fingerprint(varmap: &VarMap) -> Vec<(String, Vec<u32>)> {
    sorted_vars(varmap)
        .into_iter()
        .map(|(name, var)| {
            let bits = var.flatten_all().and_then(|t| t.to_vec1::<f32>()).expect("f32 var");
            (name, bits.into_iter().map(f32::to_bits).collect())
        })
        .collect()
}

/// Actor, twin critics and a 7-member 4×200 ensemble in one map, from `seed`.
fn build(seed: u64) -> (VarMap, GaussianActor, TwinCritic, Ensemble) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let vm = VarMap::new();
    let actor = GaussianActor::init(&vm, "actor", OBS, ACT, &HIDDEN, &mut rng).expect("actor");
    let critic = TwinCritic::init(&vm, "critic", OBS, ACT, &HIDDEN, &mut rng).expect("critic");
    let sizes = [OBS + ACT, 200, 200, 200, 200, 1 + OBS];
    let ensemble = Ensemble::init(&vm, "model", 7, &sizes, Activation::Swish, &mut rng).expect("ensemble");
    (vm, actor, critic, ensemble)
}

#[test]
fn networks_have_the_shapes_of_app_c2() {
    let (_, actor, critic, ensemble) = build(0);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let batch = 5;
    let obs = standard_normal(&mut rng, &[batch, OBS]).expect("obs");
    let noise = standard_normal(&mut rng, &[batch, ACT]).expect("noise");
    let sample = actor.sample(&obs, &noise).expect("sample");
    assert_eq!(sample.action.dims(), [batch, ACT]);
    assert_eq!(sample.log_prob.dims(), [batch]);
    assert!(values(&sample.action).iter().all(|a| a.abs() < 1.0), "tanh keeps actions in (−1, 1)");
    assert_eq!(actor.mode(&obs).expect("mode").dims(), [batch, ACT]);
    let (q1, q2) = critic.forward(&obs, &sample.action).expect("critic");
    assert_eq!((q1.dims(), q2.dims()), ([batch].as_slice(), [batch].as_slice()));
    let x = standard_normal(&mut rng, &[7, batch, OBS + ACT]).expect("x");
    let (mean, log_var) = ensemble.forward(&x).expect("ensemble");
    assert_eq!(mean.dims(), [7, batch, 1 + OBS]);
    assert_eq!(log_var.dims(), [7, batch, 1 + OBS]);
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes() {
    let (a, ..) = build(7);
    let (b, ..) = build(7);
    let (c, ..) = build(8);
    let (fa, fb, fc) = (fingerprint(&a), fingerprint(&b), fingerprint(&c));
    // 3 layers × 2 (actor) + 2 × 3 × 2 (critics) + 5 × 2 + 2 (ensemble) variables.
    assert_eq!(fa.len(), 6 + 12 + 12);
    assert_eq!(fa, fb);
    assert!(fa.iter().zip(&fc).any(|(x, y)| x.1 != y.1 && x.1.iter().any(|&bits| bits != 0)));
    // And the same outputs, bit for bit, for the same seeded inputs and noise.
    let outputs = |seed: u64| {
        let (_, actor, critic, ensemble) = build(seed);
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        let obs = standard_normal(&mut rng, &[4, OBS]).expect("obs");
        let sample = actor.sample(&obs, &standard_normal(&mut rng, &[4, ACT]).expect("noise")).expect("sample");
        let q = critic.min(&obs, &sample.action).expect("critic");
        let (mean, log_var) =
            ensemble.forward(&standard_normal(&mut rng, &[7, 4, OBS + ACT]).expect("x")).expect("model");
        [sample.action, sample.log_prob, q, mean, log_var]
            .iter()
            .flat_map(|t| t.flatten_all().and_then(|t| t.to_vec1::<f32>()).expect("f32"))
            .map(f32::to_bits)
            .collect::<Vec<u32>>()
    };
    assert_eq!(outputs(7), outputs(7));
}

#[test]
fn squashed_gaussian_log_prob_matches_the_hand_computation() {
    // One state, two action dimensions: μ = (0.3, −1.2), log σ = (−0.5, 0.4), ξ = (0.7, −1.9).
    let (mu, log_std, xi) = ([0.3, -1.2], [-0.5, 0.4], [0.7, -1.9]);
    let t = |v: [f64; 2]| Tensor::from_slice(&v, (1, 2), cpu()).expect("tensor");
    let sample = squashed_gaussian(&t(mu), &t(log_std), &t(xi)).expect("sample");
    // By hand, with tanh taken literally: u = μ + e^{log σ}·ξ, a = tanh u,
    // log q = Σ −ξ²/2 − log σ − ½ ln 2π − ln(1 − tanh² u).
    let mut want_log_prob = 0.0;
    let mut want_action = Vec::new();
    for i in 0..2 {
        let u = mu[i] + f64::exp(log_std[i]) * xi[i];
        want_action.push(u.tanh());
        want_log_prob += -xi[i] * xi[i] / 2.0
            - log_std[i]
            - 0.5 * (2.0 * std::f64::consts::PI).ln()
            - (1.0 - u.tanh() * u.tanh()).ln();
    }
    assert!(close(&values(&sample.action), &want_action, F64_HAND));
    assert!(
        close(&values(&sample.log_prob), &[want_log_prob], F64_HAND),
        "{:?} vs {want_log_prob}",
        values(&sample.log_prob)
    );
    // Evaluating the sampled action gives the same density (atanh inverts tanh).
    let again = squashed_gaussian_log_prob(&t(mu), &t(log_std), &sample.action).expect("log prob");
    assert!(close(&values(&again), &[want_log_prob], 1e-9));
}

#[test]
fn squashed_gaussian_density_integrates_to_one_and_needs_its_jacobian() {
    let (mu, log_std) = (0.3f64, (0.6f64).ln());
    let n = 200_001;
    let h = 2.0 / (n - 1) as f64;
    // Interior grid of (−1, 1); the density vanishes at ±1 for σ = 0.6, so the end points add 0.
    let a: Vec<f64> = (1..n - 1).map(|i| -1.0 + i as f64 * h).collect();
    let m = a.len();
    let actions = Tensor::from_slice(&a, (m, 1), cpu()).expect("tensor");
    let mean = Tensor::full(mu, (m, 1), cpu()).expect("tensor");
    let log_sigma = Tensor::full(log_std, (m, 1), cpu()).expect("tensor");
    let log_q = values(&squashed_gaussian_log_prob(&mean, &log_sigma, &actions).expect("log prob"));
    let integral: f64 = log_q.iter().map(|l| l.exp() * h).sum();
    assert!((integral - 1.0).abs() <= QUADRATURE, "∫ q(a) da = {integral}");
    // Planted bug: drop the Jacobian −ln(1 − a²); the same integral is then far from 1.
    let without: f64 = log_q.iter().zip(&a).map(|(l, x)| (l + (1.0 - x * x).ln()).exp() * h).sum();
    assert!((without - 1.0).abs() > 0.1, "without the Jacobian: {without}");
}

#[test]
fn ensemble_members_use_only_their_own_weights() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let vm = VarMap::new();
    let sizes = [4, 16, 16, 3];
    let ensemble = Ensemble::init(&vm, "m", 5, &sizes, Activation::Swish, &mut rng).expect("ensemble");
    let x = standard_normal(&mut rng, &[5, 6, 4]).expect("x");
    let (mean, _) = ensemble.forward(&x).expect("forward");
    let vars: std::collections::HashMap<String, Tensor> =
        sorted_vars(&vm).into_iter().map(|(k, v)| (k, v.as_tensor().clone())).collect();
    for e in 0..5 {
        // Member e alone, as a plain MLP on its (in, out) slices.
        let mut h = x.i(e).expect("slice");
        for layer in 0..3 {
            let w = vars[&format!("m.{layer}.weight")].i(e).expect("w");
            let b = vars[&format!("m.{layer}.bias")].i(e).expect("b");
            h = h.matmul(&w).and_then(|h| h.broadcast_add(&b)).expect("layer");
            if layer < 2 {
                h = h.silu().expect("swish");
            }
        }
        let want = values(&h.narrow(D::Minus1, 0, 3).expect("mean part"));
        assert!(close(&values(&mean.i(e).expect("member")), &want, F32_ROUTE), "member {e}");
    }
}

#[test]
fn ensemble_log_variance_stays_inside_its_soft_bounds() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let vm = VarMap::new();
    let ensemble = Ensemble::init(&vm, "m", 3, &[2, 8, 2], Activation::Relu, &mut rng).expect("ensemble");
    // Inputs of ±1e4 drive the raw log-variance far beyond both bounds.
    let x = (standard_normal(&mut rng, &[3, 50, 2]).expect("x") * 1e4).expect("scale");
    let (_, log_var) = ensemble.forward(&x).expect("forward");
    let (lo, hi) = LOG_VAR_BOUNDS;
    let lv = values(&log_var);
    assert!(
        lv.iter().all(|&v| v >= lo - 1e-4 && v <= hi + 1e-4),
        "{:?}",
        lv.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)))
    );
    assert!(lv.iter().any(|&v| v > hi - 0.1) && lv.iter().any(|&v| v < lo + 0.1), "both bounds reached");
}

#[test]
fn soft_update_moves_each_target_variable_a_fraction_tau_towards_its_online_twin() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let online = VarMap::new();
    TwinCritic::init(&online, "critic", OBS, ACT, &[8, 8], &mut rng).expect("critic");
    let target = copy_varmap(&online).expect("copy");
    assert_eq!(fingerprint(&online), fingerprint(&target), "the target starts as a copy");
    TwinCritic::load(&target, "critic", OBS, ACT, &[8, 8]).expect("target critic");
    // Move the online weights, then one soft update: θ' = τ·θ_new + (1 − τ)·θ_old.
    let before: Vec<(String, Vec<f64>)> = sorted_vars(&online).iter().map(|(k, v)| (k.clone(), values(v))).collect();
    for (_, var) in sorted_vars(&online) {
        let shifted = (var.as_tensor() + 1.0).expect("shift");
        var.set(&shifted).expect("set");
    }
    soft_update(&online, &target, TAU).expect("soft update");
    for ((name, old), (target_name, var)) in before.iter().zip(sorted_vars(&target)) {
        assert_eq!(name, &target_name);
        let want: Vec<f64> = old.iter().map(|o| TAU * (o + 1.0) + (1.0 - TAU) * o).collect();
        assert!(close(&values(&var), &want, F32_ROUTE), "{name}");
    }
    // Names that do not pair are an error, not a silent mix of unrelated weights.
    let other = VarMap::new();
    TwinCritic::init(&other, "other", OBS, ACT, &[8, 8], &mut rng).expect("critic");
    assert!(soft_update(&online, &other, TAU).is_err());
}

#[test]
fn gaussian_log_density_matches_the_hand_computation() {
    // Two samples, D = 2: μ = (0.5, −1), log σ² = (−0.7, 1.3), y = (0.1, 2) and (1.5, −1).
    let t = |v: &[f64], shape: (usize, usize)| Tensor::from_slice(v, shape, cpu()).expect("tensor");
    let (mu, log_var) = ([0.5, -1.0], [-0.7, 1.3]);
    let ys = [[0.1, 2.0], [1.5, -1.0]];
    let rows = |v: [f64; 2]| t(&[v, v].concat(), (2, 2));
    let got = gaussian_log_density(&rows(mu), &rows(log_var), &t(ys.as_flattened(), (2, 2))).expect("log density");
    // By hand: Σ_d −(y−μ)²/(2σ²) − ½ ln σ² − ½ ln 2π, with σ² = e^{log σ²}.
    let want: Vec<f64> = ys
        .iter()
        .map(|y| {
            (0..2)
                .map(|d| {
                    let var = f64::exp(log_var[d]);
                    -(y[d] - mu[d]).powi(2) / (2.0 * var) - 0.5 * var.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
                })
                .sum()
        })
        .collect();
    assert!(close(&values(&got), &want, F64_HAND), "{:?} vs {want:?}", values(&got));
}

#[test]
fn ensemble_log_likelihood_is_one_gaussian_log_density_per_member_and_sample() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let vm = VarMap::new();
    let ensemble = Ensemble::init(&vm, "m", 3, &[2, 8, 2], Activation::Swish, &mut rng).expect("ensemble");
    let x = standard_normal(&mut rng, &[3, 4, 2]).expect("x");
    let y = standard_normal(&mut rng, &[4, 2]).expect("y");
    let ll = ensemble.log_likelihood(&x, &y).expect("log likelihood");
    assert_eq!(ll.dims(), [3, 4]);
    // The same from the forward pass, in f64 by hand.
    let (mean, log_var) = ensemble.forward(&x).expect("forward");
    let (mean, log_var, yv) = (values(&mean), values(&log_var), values(&y));
    let want: Vec<f64> = (0..3 * 4)
        .map(|eb| {
            (0..2)
                .map(|d| {
                    let (m, lv, t) = (mean[eb * 2 + d], log_var[eb * 2 + d], yv[(eb % 4) * 2 + d]);
                    -0.5 * (t - m).powi(2) * (-lv).exp() - 0.5 * lv - 0.5 * (2.0 * std::f64::consts::PI).ln()
                })
                .sum()
        })
        .collect();
    assert!(close(&values(&ll), &want, F32_ROUTE));
}

/// Grid over [−120, 120] plus the edges of f32's exponential: ±88 (e^88 is finite), ±88.7 and
/// ±88.8 (e^88.8 overflows), and far beyond.
fn swish_inputs() -> Vec<f32> {
    let mut xs: Vec<f32> = (0..=240_000).map(|i| -120.0 + i as f32 * 1e-3).collect();
    xs.extend([-1e4, -1000.0, -104.0, -88.8, -88.7, -88.0, -0.0, 0.0, 1e-30, -1e-30, 88.0, 88.7, 88.8, 1000.0]);
    xs
}

/// The exact swish in f64: x/(1 + e^{−x}).
fn exact_swish(x: f64) -> f64 {
    x / (1.0 + (-x).exp())
}

fn f32_bits(t: &Tensor) -> Vec<u32> {
    t.flatten_all().and_then(|t| t.to_vec1::<f32>()).expect("f32").into_iter().map(f32::to_bits).collect()
}

#[test]
fn swish_equals_the_exact_function_to_f32_rounding_and_candles_silu_to_two_ulps() {
    let xs = swish_inputs();
    let t = Tensor::new(xs.as_slice(), cpu()).expect("x");
    let ours: Vec<f32> = swish(&t).and_then(|y| y.to_vec1()).expect("swish");
    let silu: Vec<f32> = t.silu().and_then(|y| y.to_vec1()).expect("silu");
    for ((&x, &y), &c) in xs.iter().zip(&ours).zip(&silu) {
        let exact = exact_swish(f64::from(x));
        if (-f64::from(x)).exp() > f64::from(f32::MAX) {
            // x < −88.72: e^{−x} overflows f32, so the quotient is −0 (silu's too), though the
            // exact value is a tiny normal or subnormal number down to x ≈ −103.
            assert_eq!(y.to_bits(), (-0f32).to_bits(), "x = {x}: {y:e}");
        } else if exact.abs() >= f64::from(f32::MIN_POSITIVE) {
            let err = (f64::from(y) - exact).abs() / exact.abs();
            assert!(err <= SWISH_EXACT, "x = {x}: {y:e} against {exact:e}, {err:e} relative");
        } else {
            // Below the normal range: 0 or a subnormal of the right sign, never NaN.
            assert!(y.abs() <= f32::MIN_POSITIVE && !(x < 0.0 && y > 0.0), "x = {x}: {y:e}");
        }
        if c == 0.0 {
            assert_eq!(y.to_bits(), c.to_bits(), "x = {x}: {y:e} against silu's {c:e}");
        } else {
            let err = (f64::from(y) - f64::from(c)).abs() / f64::from(c).abs();
            assert!(err <= SWISH_VS_SILU, "x = {x}: {y:e} against silu's {c:e}, {err:e} relative");
        }
    }
    // Far below, e^{−x} is +∞ and the quotient −0, as for silu: no NaN.
    let far = swish(&Tensor::new(&[-1000f32, -1e4], cpu()).expect("x")).expect("swish");
    assert_eq!(f32_bits(&far), [(-0f32).to_bits(); 2]);
}

#[test]
fn swish_gradient_matches_central_differences_and_candles_silu_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut xs: Vec<f32> = (0..=60_000).map(|i| -30.0 + i as f32 * 1e-3).collect();
    xs.extend([-1e4, -1000.0, -88.8, -88.0, 88.0, 1000.0]);
    // A non-trivial upstream gradient u: d/dx Σ u·swish(x) = u·swish'(x).
    let u = (standard_normal(&mut rng, &[xs.len()]).expect("u") + 1.0).expect("u");
    let grad_of = |f: &dyn Fn(&Tensor) -> candle_core::Result<Tensor>| {
        let x = Var::new(xs.as_slice(), cpu()).expect("x");
        let grads = f(x.as_tensor()).and_then(|y| (y * &u)?.sum_all()).and_then(|l| l.backward()).expect("backward");
        values(grads.get(x.as_tensor()).expect("a gradient"))
    };
    let ours = grad_of(&|x| swish(x));
    let silu = grad_of(&|x| x.silu());
    let uv = values(&u);
    for (i, &x) in xs.iter().enumerate() {
        // Central difference of the exact f64 swish, h = 1e-5: truncation h²·|swish‴|/6 ≈ 1e-11.
        let (x64, h) = (f64::from(x), 1e-5);
        let want = uv[i] * (exact_swish(x64 + h) - exact_swish(x64 - h)) / (2.0 * h);
        let scale = 1.0 + uv[i].abs();
        assert!(
            ours[i].is_finite() && (ours[i] - want).abs() <= SWISH_GRAD * scale,
            "x = {x}: {} against {want}",
            ours[i]
        );
        assert!((ours[i] - silu[i]).abs() <= SILU_GRAD * scale, "x = {x}: {} against silu's {}", ours[i], silu[i]);
    }
}

#[test]
fn swish_reads_strided_inputs_and_leaves_f64_to_silu() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let x = (standard_normal(&mut rng, &[6, 9]).expect("x") * 5.0).expect("scale");
    let strided = x.t().expect("transpose");
    let got = swish(&strided).expect("swish");
    assert_eq!(got.dims(), [9, 6]);
    let want: Vec<f64> = values(&strided).into_iter().map(exact_swish).collect();
    assert!(values(&got).iter().zip(&want).all(|(g, w)| (g - w).abs() <= SWISH_EXACT * w.abs()));
    let x64 = x.to_dtype(DType::F64).expect("f64");
    let bits = |t: &Tensor| {
        t.flatten_all().and_then(|t| t.to_vec1::<f64>()).expect("f64").into_iter().map(f64::to_bits).collect::<Vec<_>>()
    };
    assert_eq!(bits(&swish(&x64).expect("swish")), bits(&x64.silu().expect("silu")));
}

/// Sets every variable of `varmap` whose name ends in `.bias` to normal draws from `rng`.
fn random_biases(varmap: &VarMap, rng: &mut ChaCha8Rng) {
    for (name, var) in sorted_vars(varmap) {
        if name.ends_with(".bias") {
            var.set(&standard_normal(rng, var.dims()).expect("bias")).expect("set");
        }
    }
}

#[test]
fn a_bias_added_as_a_matmul_gives_the_broadcast_values_and_the_batch_sum_as_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    // An MLP on (B, in) and a 3-member ensemble on (E, B, in), with non-zero biases.
    let vm = VarMap::new();
    let mlp = Mlp::init(&vm, "mlp", &[4, 8, 3], Activation::Relu, &mut rng).expect("mlp");
    let ensemble = Ensemble::init(&vm, "ens", 3, &[4, 8, 2], Activation::Swish, &mut rng).expect("ensemble");
    random_biases(&vm, &mut rng);
    let vars: std::collections::HashMap<String, Tensor> =
        sorted_vars(&vm).into_iter().map(|(k, v)| (k, v.as_tensor().clone())).collect();
    let x = standard_normal(&mut rng, &[5, 4]).expect("x");
    let xe = standard_normal(&mut rng, &[3, 5, 4]).expect("x");

    // Values: those of the broadcast add, bit for bit (1·b is b exactly).
    let mut h = x.clone();
    for layer in 0..2 {
        let (w, b) = (&vars[&format!("mlp.{layer}.weight")], &vars[&format!("mlp.{layer}.bias")]);
        h = h.matmul(&w.t().expect("t")).and_then(|h| h.broadcast_add(b)).expect("layer");
        if layer == 0 {
            h = h.relu().expect("relu");
        }
    }
    let out = mlp.forward(&x).expect("mlp forward");
    assert_eq!(f32_bits(&out), f32_bits(&h));
    let mut he = xe.clone();
    for layer in 0..2 {
        let (w, b) = (&vars[&format!("ens.{layer}.weight")], &vars[&format!("ens.{layer}.bias")]);
        he = he.matmul(w).and_then(|h| h.broadcast_add(b)).expect("layer");
        if layer == 0 {
            he = swish(&he).expect("swish");
        }
    }
    let (mean, _) = ensemble.forward(&xe).expect("ensemble forward");
    assert_eq!(f32_bits(&mean), f32_bits(&he.narrow(D::Minus1, 0, 2).expect("mean part")));

    // Gradients: for L = Σ u·out, ∂L/∂b of the last layer is the sum of u over the batch.
    let u = standard_normal(&mut rng, &[5, 3]).expect("u");
    let grads = (&out * &u).and_then(|l| l.sum_all()).and_then(|l| l.backward()).expect("backward");
    let got = grads.get(&vars["mlp.1.bias"]).expect("bias gradient");
    assert_eq!(got.dims(), [3]);
    assert!(close(&values(got), &values(&u.sum(0).expect("sum")), F32_ROUTE));
    let ue = standard_normal(&mut rng, &[3, 5, 2]).expect("u");
    let grads = (&mean * &ue).and_then(|l| l.sum_all()).and_then(|l| l.backward()).expect("backward");
    let got = grads.get(&vars["ens.1.bias"]).expect("bias gradient");
    assert_eq!(got.dims(), [3, 1, 4]);
    // Mean columns: Σ_batch u; log-variance columns: no path from the mean, so 0.
    let zeros = Tensor::zeros((3, 1, 2), DType::F32, cpu()).expect("0");
    let want = Tensor::cat(&[ue.sum_keepdim(1).expect("sum"), zeros], 2).expect("cat");
    assert!(close(&values(got), &values(&want), F32_ROUTE));
}
