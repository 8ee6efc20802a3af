//! The networks of continuous β-VMBPO (App. C.2): an MLP, the tanh-squashed Gaussian actor, twin
//! critics with soft targets, and the probabilistic ensemble as batched matmuls.
//!
//! # Reproducibility
//!
//! candle's CPU random generator cannot be seeded, so every initial weight is drawn here from the
//! caller's generator (e.g. `ChaCha8Rng::seed_from_u64(seed)`) in a fixed order (layer by layer,
//! weight row-major, then bias) and stored in a [`VarMap`] under a stable name. The same seed
//! gives the same bytes. Noise for sampling comes from [`standard_normal`], also from the
//! caller's generator.
//!
//! # Naming
//!
//! A network's parameters are named `{prefix}.{layer}.weight` / `.bias` (`layer` = 0, 1, …):
//! [`soft_update`] pairs online and target variables by these names, sorted, because
//! [`VarMap::all_vars`] is unordered.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, CustomOp2, D, DType, Device, Layout, Module, Result, Shape, Tensor, Var};
use candle_nn::{Linear, VarMap};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::numeric::NumericTensor;

/// `ln √(2π)`, the Gaussian log-density constant per dimension.
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Bounds of the actor's log standard deviation (SAC's, shared/REFERENCES.md).
pub const LOG_STD_BOUNDS: (f64, f64) = (-20.0, 2.0);

/// Initial bounds of the ensemble's log-variance (MBPO's; learnt afterwards).
pub const LOG_VAR_BOUNDS: (f64, f64) = (-10.0, 0.5);

/// Soft-target rate τ of the critics (App. C.2).
pub const TAU: f64 = 0.005;

/// Hidden activation of a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(x, 0)`: the paper's Table 1, SAC's networks.
    Relu,
    /// `x·σ(x)`: the public MBPO code's ensemble, computed by [`swish`].
    Swish,
}

impl Activation {
    fn apply(self, x: &Tensor) -> Result<Tensor> {
        match self {
            Activation::Relu => x.relu(),
            Activation::Swish => swish(x),
        }
    }
}

/// Swish (SiLU), `x·σ(x)`, as one vectorised pass forward and one backward: the same function
/// as candle's `silu`, faster (the 4×200 ensemble's update ×1.13, bench/README.md).
///
/// # Formula
///
/// ```text
/// swish(x) = x / (1 + e^{−x})
/// swish'(x) = σ·(1 + x·(1 − σ)),   σ = 1 / (1 + e^{−x})
/// ```
///
/// candle's `silu` calls the scalar `expf` per element and its backward builds about eight
/// temporaries; here `e^{−x}` is computed by range reduction (`exp_f32`: no library call, so
/// the loop vectorises) and the backward is a single pass over (x, upstream gradient). On f32
/// CPU tensors the values equal the exact swish to 2e-7 relative and candle's `silu` to 3e-7
/// (the two round differently by up to two ulps), the gradient the exact derivative to 5e-7
/// (`tests/candle_nets.rs`); other dtypes and devices use `silu`. Below x ≈ −88.7, e^{−x}
/// overflows and the result is −0, as `silu`'s is.
///
/// # Errors
///
/// None in practice (an element-wise operation on one tensor).
pub fn swish(x: &Tensor) -> Result<Tensor> {
    if x.dtype() != DType::F32 || !x.device().is_cpu() {
        return x.silu();
    }
    x.contiguous()?.apply_op1(SwishOp)
}

/// `eˣ` in f32 without a call to `expf`, so that a loop over it vectorises.
///
/// # Formula
///
/// ```text
/// eˣ = 2ⁿ·eʳ,   n = round(x/ln 2),   r = x − n·ln 2 ∈ [−ln 2/2, ln 2/2]
/// eʳ ≈ 1 + (r + r²·Σ_{k=2..7} r^{k−2}/k!)      truncation ≤ r⁸/(8!·eʳ) ≤ 7.4e-9 relative
/// ```
///
/// `n·ln 2` is subtracted in two parts (`ln 2` = 0.693359375 − 2.12194440e-4, the first with
/// 9 significant bits, so `n·ln 2₁` is exact): `r` carries no cancellation error. `n` is rounded
/// by adding and subtracting 1.5·2²³, whose ulp is 1, and read from the sum's bits. 2ⁿ is built
/// from exponent bits as 2^⌊n/2⌋·2^(n−⌊n/2⌋), both factors normal, so results that overflow
/// become +∞ and results that underflow round to subnormals or 0 as the true values do. `x` is
/// first clamped to [−104, 89], beyond which f32's eˣ is 0 or +∞ anyway; NaN stays NaN.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 355.0 / 512.0;
    const LN2_LO: f32 = -2.121_944_4e-4; // ln 2 − 355/512
    const ROUND: f32 = 12_582_912.0; // 1.5·2²³
    let x = x.clamp(-104.0, 89.0);
    let shifted = x * LOG2_E + ROUND;
    let n_float = shifted - ROUND;
    let n = (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let r = (x - n_float * LN2_HI) - n_float * LN2_LO;
    // 1 + (r + r²·Σ_{k≥2} r^{k−2}/k!): the small terms are summed before the 1, so that only
    // the last addition rounds at the result's scale (≤ 1.01 ulp in all, against 1.22 for plain
    // Horner, measured over [−87, 88]).
    let tail =
        1.0 / 2.0 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))));
    let p = 1.0 + (r + r * r * tail);
    let half = n >> 1;
    p * pow2(half) * pow2(n.wrapping_sub(half))
}

/// `2ᵏ` for an integer `k` in [−126, 127], from its exponent bits.
#[inline(always)]
fn pow2(k: i32) -> f32 {
    f32::from_bits((k.wrapping_add(127) as u32) << 23)
}

/// The contiguous f32 slice of a CPU tensor's storage.
fn f32_slice<'a>(storage: &'a CpuStorage, layout: &Layout, op: &'static str) -> Result<&'a [f32]> {
    let CpuStorage::F32(values) = storage else {
        return Err(candle_core::Error::UnexpectedDType { msg: op, expected: DType::F32, got: storage.dtype() });
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&values[start..end]),
        None => candle_core::bail!("{op} needs a contiguous tensor"),
    }
}

/// [`swish`] forward, with its fused backward.
struct SwishOp;

impl CustomOp1 for SwishOp {
    fn name(&self) -> &'static str {
        "swish"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(storage, layout, "swish")?;
        let y = x.iter().map(|&x| x / (1.0 + exp_f32(-x))).collect();
        Ok((CpuStorage::F32(y), layout.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        // No graph through the gradient: nothing here takes second derivatives.
        Ok(Some(arg.contiguous()?.apply_op2_no_bwd(&grad_res.contiguous()?, &SwishGrad)?))
    }
}

/// The backward of [`swish`]: `g·σ·(1 + x·(1 − σ))` for (x, g) in one pass.
struct SwishGrad;

impl CustomOp2 for SwishGrad {
    fn name(&self) -> &'static str {
        "swish-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let (x, g) = (f32_slice(s1, l1, "swish-grad")?, f32_slice(s2, l2, "swish-grad")?);
        if l1.shape() != l2.shape() {
            return Err(candle_core::Error::ShapeMismatchBinaryOp {
                lhs: l1.shape().clone(),
                rhs: l2.shape().clone(),
                op: "swish-grad",
            });
        }
        let dx = x
            .iter()
            .zip(g)
            .map(|(&x, &g)| {
                let e = exp_f32(-x);
                let sigma = 1.0 / (1.0 + e);
                // 1 − σ = e^{−x}·σ for x ≥ 0, where 1 − σ would cancel (and x·(1 − σ) scale the
                // error up); for x < 0, σ < ½ and e^{−x} may be +∞, so the subtraction is used.
                let one_minus_sigma = if x < 0.0 { 1.0 - sigma } else { e * sigma };
                g * sigma * (1.0 + x * one_minus_sigma)
            })
            .collect();
        Ok((CpuStorage::F32(dx), l1.shape().clone()))
    }
}

/// A tensor of `shape` (f32, CPU) with entries uniform in `[−bound, bound)` (`rand`'s
/// [`Uniform`](rand::distr::Uniform) through `random_range`), drawn row-major.
fn uniform(rng: &mut impl Rng, shape: &[usize], bound: f64) -> Result<Tensor> {
    let n = shape.iter().product();
    let values: Vec<f32> = (0..n).map(|_| rng.random_range(-bound..bound) as f32).collect();
    Tensor::from_vec(values, shape, &Device::Cpu)
}

/// A tensor of `shape` (f32, CPU) of standard-normal draws from `rng` (`rand_distr`'s
/// [`StandardNormal`], a ziggurat sampler), row-major: the noise of the actor and of ensemble
/// sampling. The same generator state gives the same tensor.
///
/// # Errors
///
/// None in practice: building a CPU tensor from a vector of the right length.
pub fn standard_normal(rng: &mut impl Rng, shape: &[usize]) -> Result<Tensor> {
    let n = shape.iter().product();
    let values: Vec<f32> = (0..n).map(|_| normal(rng) as f32).collect();
    Tensor::from_vec(values, shape, &Device::Cpu)
}

/// One standard-normal draw (`rand_distr`'s [`StandardNormal`]).
fn normal(rng: &mut impl Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// Stores `value` in `varmap` as the variable `name` and returns its tracked tensor.
fn insert(varmap: &VarMap, name: String, value: &Tensor) -> Result<Tensor> {
    let var = Var::from_tensor(value)?;
    let tensor = var.as_tensor().clone();
    let mut data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if data.insert(name.clone(), var).is_some() {
        candle_core::bail!("variable {name} already exists in this VarMap")
    }
    Ok(tensor)
}

/// The tensor of the existing variable `name`, checked against `shape`.
fn existing(varmap: &VarMap, name: &str, shape: &[usize]) -> Result<Tensor> {
    let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match data.get(name) {
        Some(var) if var.dims() == shape => Ok(var.as_tensor().clone()),
        Some(var) => candle_core::bail!("variable {name} has shape {:?}, expected {shape:?}", var.dims()),
        None => candle_core::bail!("variable {name} is missing"),
    }
}

/// The variables of `varmap`, sorted by name.
#[must_use]
pub fn sorted_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut vars: Vec<(String, Var)> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// A new map holding a detached copy of every variable of `online` under the same name: the
/// initial target network (target = online).
///
/// # Errors
///
/// A candle error copying a tensor.
pub fn copy_varmap(online: &VarMap) -> Result<VarMap> {
    let target = VarMap::new();
    for (name, var) in sorted_vars(online) {
        insert(&target, name, &var.as_detached_tensor().copy()?)?;
    }
    Ok(target)
}

/// Soft target update, θ' ← τ·θ + (1 − τ)·θ', variable by variable, paired by name.
///
/// # Formula
///
/// ```text
/// θ'ᵢ ← τ·θᵢ + (1 − τ)·θ'ᵢ        (τ = 0.005, App. C.2)
/// ```
///
/// # Errors
///
/// The two maps do not hold the same names and shapes.
pub fn soft_update(online: &VarMap, target: &VarMap, tau: f64) -> Result<()> {
    let online = sorted_vars(online);
    let target = sorted_vars(target);
    if online.len() != target.len() {
        candle_core::bail!("soft update: {} online variables, {} target", online.len(), target.len())
    }
    for ((name, theta), (target_name, theta_target)) in online.iter().zip(&target) {
        if name != target_name {
            candle_core::bail!("soft update pairs {name} with {target_name}")
        }
        let (target, online) = (theta_target.as_detached_tensor(), theta.as_detached_tensor());
        let mixed =
            crate::losses::soft_target(NumericTensor::new(target), NumericTensor::new(online), tau).into_tensor()?;
        theta_target.set(&mixed)?;
    }
    Ok(())
}

/// A multilayer perceptron: dense layers with a hidden activation, none after the last.
#[derive(Debug, Clone)]
pub struct Mlp {
    layers: Vec<Linear>,
    activation: Activation,
}

impl Mlp {
    /// Draws fresh weights from `rng` into `varmap` under `prefix`, then builds the network.
    ///
    /// `sizes` = [input, hidden…, output]. Every layer `in → out` is initialised as PyTorch's
    /// `nn.Linear`: weight and bias uniform in `[−1/√in, 1/√in)`.
    ///
    /// # Errors
    ///
    /// A name under `prefix` already in `varmap`, or fewer than two sizes.
    pub fn init(
        varmap: &VarMap,
        prefix: &str,
        sizes: &[usize],
        activation: Activation,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        for (layer, pair) in sizes.windows(2).enumerate() {
            let (n_in, n_out) = (pair[0], pair[1]);
            let bound = 1.0 / (n_in as f64).sqrt();
            insert(varmap, format!("{prefix}.{layer}.weight"), &uniform(rng, &[n_out, n_in], bound)?)?;
            insert(varmap, format!("{prefix}.{layer}.bias"), &uniform(rng, &[n_out], bound)?)?;
        }
        Self::load(varmap, prefix, sizes, activation)
    }

    /// Builds the network on the variables already in `varmap` under `prefix` (a target copy, a
    /// loaded checkpoint).
    ///
    /// # Errors
    ///
    /// A variable missing or of the wrong shape, or fewer than two sizes.
    pub fn load(varmap: &VarMap, prefix: &str, sizes: &[usize], activation: Activation) -> Result<Self> {
        if sizes.len() < 2 {
            candle_core::bail!("an MLP needs an input and an output size, got {sizes:?}")
        }
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(layer, pair)| {
                let weight = existing(varmap, &format!("{prefix}.{layer}.weight"), &[pair[1], pair[0]])?;
                let bias = existing(varmap, &format!("{prefix}.{layer}.bias"), &[pair[1]])?;
                Ok(Linear::new(weight, Some(bias)))
            })
            .collect::<Result<_>>()?;
        Ok(Self { layers, activation })
    }

    /// The output for a batch `x` of shape (B, input): shape (B, output).
    ///
    /// Each layer computes `h·Wᵀ + 1·bᵀ` with `1` a (B, 1) column of ones: the values of the
    /// broadcast `h·Wᵀ + b`, but the bias gradient is the matmul `1ᵀ·g` rather than candle's
    /// slower sum over the batch dimension.
    ///
    /// # Errors
    ///
    /// `x` of the wrong width or dtype.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        // One ones column for every layer: the bias enters as a matmul (see `Ensemble::forward`).
        let ones = match *x.dims() {
            [batch, _] => Some(Tensor::ones((batch, 1), x.dtype(), x.device())?),
            _ => None,
        };
        for (i, layer) in self.layers.iter().enumerate() {
            h = match (&ones, layer.bias()) {
                (Some(ones), Some(bias)) => (h.matmul(&layer.weight().t()?)? + ones.matmul(&bias.unsqueeze(0)?)?)?,
                _ => layer.forward(&h)?,
            };
            if i + 1 < self.layers.len() {
                h = self.activation.apply(&h)?;
            }
        }
        Ok(h)
    }
}

/// A stable `softplus(x) = ln(1 + eˣ) = max(x, 0) + ln(1 + e^{−|x|})` (candle has none).
///
/// # Errors
///
/// None in practice (elementwise operations on one tensor).
pub fn softplus(x: &Tensor) -> Result<Tensor> {
    let tail = (x.abs()?.neg()?.exp()? + 1.0)?.log()?;
    x.relu()? + tail
}

/// Log-density of `y` under independent Gaussians, summed over the last dimension: the
/// `log p_θ(s', r|s, a)` of Eq. (10) and `log q_φ` of Eq. (11) for one ensemble member.
///
/// # Formula
///
/// ```text
/// log N(y; μ, σ²) = Σ_d [ −½·(y_d − μ_d)²·e^{−log σ²_d} − ½·log σ²_d − ln √(2π) ]
/// ```
///
/// `mean`, `log_var` of shape (…, D); `y` of the same shape or broadcastable to it (one target
/// batch (B, D) for all members (E, B, D)). The result has shape (…).
///
/// # Errors
///
/// Shapes that do not broadcast, or dtypes that do not match.
pub fn gaussian_log_density(mean: &Tensor, log_var: &Tensor, y: &Tensor) -> Result<Tensor> {
    let squared = mean.broadcast_sub(y)?.sqr()?;
    let scaled = (squared * log_var.neg()?.exp()?)?;
    ((scaled + log_var)?.affine(-0.5, -LN_SQRT_2PI))?.sum(D::Minus1)
}

/// A tanh-squashed Gaussian action and its log-density.
#[derive(Debug, Clone)]
pub struct SquashedSample {
    /// `a = tanh(μ + σ·ξ)`, shape (B, A).
    pub action: Tensor,
    /// `log q(a|s)`, shape (B).
    pub log_prob: Tensor,
}

/// Reparameterised sample of a tanh-squashed Gaussian and its log-density.
///
/// # Formula
///
/// ```text
/// u = μ + σ·ξ,   a = tanh u,   σ = exp(log σ)
/// log q(a) = Σᵢ [ −ξᵢ²/2 − log σᵢ − ln √(2π) − log(1 − tanh² uᵢ) ]
/// log(1 − tanh² u) = 2·( ln 2 − u − softplus(−2u) )        (stable form)
/// ```
///
/// Legend: `μ`, `log σ` the actor's outputs (B, A); `ξ` standard-normal noise (B, A); the sum
/// runs over the A action dimensions.
///
/// # Errors
///
/// Shapes or dtypes that do not match.
pub fn squashed_gaussian(mean: &Tensor, log_std: &Tensor, noise: &Tensor) -> Result<SquashedSample> {
    let u = (mean + (log_std.exp()? * noise)?)?;
    let gaussian = ((noise.sqr()?.affine(-0.5, -LN_SQRT_2PI)?) - log_std)?;
    let log_prob = (gaussian - log_one_minus_tanh_sq(&u)?)?.sum(D::Minus1)?;
    Ok(SquashedSample { action: u.tanh()?, log_prob })
}

/// `log(1 − tanh² u) = 2·(ln 2 − u − softplus(−2u))`.
fn log_one_minus_tanh_sq(u: &Tensor) -> Result<Tensor> {
    let sp = softplus(&u.affine(-2.0, 0.0)?)?;
    (u.neg()? - sp)?.affine(2.0, 2.0 * std::f64::consts::LN_2)
}

/// Log-density of given actions `a` ∈ (−1, 1)ᴬ under the tanh-squashed Gaussian: the same
/// density as [`squashed_gaussian`], for an action it did not sample (π_κ of q_ω's action,
/// Eq. 14).
///
/// # Formula
///
/// ```text
/// u = atanh a = ½·ln((1 + a)/(1 − a)),   ξ = (u − μ)/σ,   then log q(a) as in squashed_gaussian
/// ```
///
/// Actions are first clamped to ±(1 − 1e-6) so that `atanh` stays finite (f32 tanh rounds to
/// ±1 for |u| ≳ 9).
///
/// # Errors
///
/// Shapes or dtypes that do not match.
pub fn squashed_gaussian_log_prob(mean: &Tensor, log_std: &Tensor, action: &Tensor) -> Result<Tensor> {
    let a = action.clamp(-1.0 + 1e-6, 1.0 - 1e-6)?;
    let u = ((a.affine(1.0, 1.0)?.log()? - a.affine(-1.0, 1.0)?.log()?)? * 0.5)?;
    let noise = ((&u - mean)? / log_std.exp()?)?;
    let gaussian = ((noise.sqr()?.affine(-0.5, -LN_SQRT_2PI)?) - log_std)?;
    (gaussian - log_one_minus_tanh_sq(&u)?)?.sum(D::Minus1)
}

/// The tanh-squashed Gaussian actor q_ω (and the prior π_κ, the same architecture), App. C.2.
///
/// # Formula
///
/// ```text
/// (μ, log σ) = MLP(s),   log σ clamped to [−20, 2],   a = tanh(μ + σ·ξ),   ξ ∼ N(0, I)
/// ```
#[derive(Debug, Clone)]
pub struct GaussianActor {
    net: Mlp,
    action_dim: usize,
}

impl GaussianActor {
    /// A fresh actor `obs → hidden… → 2·A` (ReLU), its variables under `prefix` in `varmap`.
    ///
    /// # Errors
    ///
    /// A name clash in `varmap`.
    pub fn init(
        varmap: &VarMap,
        prefix: &str,
        obs_dim: usize,
        action_dim: usize,
        hidden: &[usize],
        rng: &mut impl Rng,
    ) -> Result<Self> {
        let sizes = [&[obs_dim][..], hidden, &[2 * action_dim]].concat();
        Ok(Self { net: Mlp::init(varmap, prefix, &sizes, Activation::Relu, rng)?, action_dim })
    }

    /// The actor on variables already in `varmap` (a copy κ of ω, a checkpoint).
    ///
    /// # Errors
    ///
    /// A variable missing or of the wrong shape.
    pub fn load(varmap: &VarMap, prefix: &str, obs_dim: usize, action_dim: usize, hidden: &[usize]) -> Result<Self> {
        let sizes = [&[obs_dim][..], hidden, &[2 * action_dim]].concat();
        Ok(Self { net: Mlp::load(varmap, prefix, &sizes, Activation::Relu)?, action_dim })
    }

    /// `(μ, log σ)`, each (B, A), log σ clamped to [`LOG_STD_BOUNDS`].
    ///
    /// # Errors
    ///
    /// `obs` of the wrong width or dtype.
    pub fn distribution(&self, obs: &Tensor) -> Result<(Tensor, Tensor)> {
        let out = self.net.forward(obs)?;
        let mean = out.narrow(D::Minus1, 0, self.action_dim)?;
        let log_std =
            out.narrow(D::Minus1, self.action_dim, self.action_dim)?.clamp(LOG_STD_BOUNDS.0, LOG_STD_BOUNDS.1)?;
        Ok((mean, log_std))
    }

    /// A reparameterised action for each observation, with `noise` ∼ N(0, I) of shape (B, A)
    /// from [`standard_normal`].
    ///
    /// # Errors
    ///
    /// Shapes or dtypes that do not match.
    pub fn sample(&self, obs: &Tensor, noise: &Tensor) -> Result<SquashedSample> {
        let (mean, log_std) = self.distribution(obs)?;
        squashed_gaussian(&mean, &log_std, noise)
    }

    /// `log q(a|s)` of given actions, shape (B).
    ///
    /// # Errors
    ///
    /// Shapes or dtypes that do not match.
    pub fn log_prob(&self, obs: &Tensor, action: &Tensor) -> Result<Tensor> {
        let (mean, log_std) = self.distribution(obs)?;
        squashed_gaussian_log_prob(&mean, &log_std, action)
    }

    /// The deterministic action `tanh μ` (evaluation episodes).
    ///
    /// # Errors
    ///
    /// `obs` of the wrong width or dtype.
    pub fn mode(&self, obs: &Tensor) -> Result<Tensor> {
        self.distribution(obs)?.0.tanh()
    }
}

/// Twin critics Q₂ (reward units, App. C.3): two MLPs `obs‖act → hidden… → 1` (ReLU).
#[derive(Debug, Clone)]
pub struct TwinCritic {
    q1: Mlp,
    q2: Mlp,
}

impl TwinCritic {
    fn sizes(obs_dim: usize, action_dim: usize, hidden: &[usize]) -> Vec<usize> {
        [&[obs_dim + action_dim][..], hidden, &[1]].concat()
    }

    /// Fresh critics under `{prefix}.q1` and `{prefix}.q2`.
    ///
    /// # Errors
    ///
    /// A name clash in `varmap`.
    pub fn init(
        varmap: &VarMap,
        prefix: &str,
        obs_dim: usize,
        action_dim: usize,
        hidden: &[usize],
        rng: &mut impl Rng,
    ) -> Result<Self> {
        let sizes = Self::sizes(obs_dim, action_dim, hidden);
        let q1 = Mlp::init(varmap, &format!("{prefix}.q1"), &sizes, Activation::Relu, rng)?;
        let q2 = Mlp::init(varmap, &format!("{prefix}.q2"), &sizes, Activation::Relu, rng)?;
        Ok(Self { q1, q2 })
    }

    /// The critics on variables already in `varmap` (the target copy from [`copy_varmap`]).
    ///
    /// # Errors
    ///
    /// A variable missing or of the wrong shape.
    pub fn load(varmap: &VarMap, prefix: &str, obs_dim: usize, action_dim: usize, hidden: &[usize]) -> Result<Self> {
        let sizes = Self::sizes(obs_dim, action_dim, hidden);
        let q1 = Mlp::load(varmap, &format!("{prefix}.q1"), &sizes, Activation::Relu)?;
        let q2 = Mlp::load(varmap, &format!("{prefix}.q2"), &sizes, Activation::Relu)?;
        Ok(Self { q1, q2 })
    }

    /// Both values, each of shape (B).
    ///
    /// # Errors
    ///
    /// Shapes or dtypes that do not match.
    pub fn forward(&self, obs: &Tensor, action: &Tensor) -> Result<(Tensor, Tensor)> {
        let x = Tensor::cat(&[obs, action], D::Minus1)?;
        Ok((self.q1.forward(&x)?.squeeze(D::Minus1)?, self.q2.forward(&x)?.squeeze(D::Minus1)?))
    }

    /// `min(Q₁, Q₂)`, shape (B): the clipped double-Q value of targets and of the actor loss.
    ///
    /// # Errors
    ///
    /// Shapes or dtypes that do not match.
    pub fn min(&self, obs: &Tensor, action: &Tensor) -> Result<Tensor> {
        let (q1, q2) = self.forward(obs, action)?;
        q1.minimum(&q2)
    }
}

/// A probabilistic ensemble of E Gaussian MLPs, evaluated as batched (E, in, out) matmuls: the
/// dynamics models p_θ (Eq. 10) and q_φ (Eq. 11), App. C.1.
///
/// # Formula
///
/// ```text
/// hₗ₊₁ = act(hₗ·Wₗ + 1·bₗ)  for all E members at once,  Wₗ: (E, in, out),  bₗ: (E, 1, out),
///                          1: (E, B, 1) ones (the bias as a matmul)
/// (μ, raw) = split(last layer)                      each (E, B, D), D = 1 + obs (reward, Δobs)
/// log σ² = max_lv − softplus(max_lv − raw);  log σ² = min_lv + softplus(log σ² − min_lv)
/// ```
///
/// `min_lv`, `max_lv` (shape (D)) are variables initialised to [`LOG_VAR_BOUNDS`] and learnt.
#[derive(Debug, Clone)]
pub struct Ensemble {
    weights: Vec<(Tensor, Tensor)>,
    min_log_var: Tensor,
    max_log_var: Tensor,
    activation: Activation,
    out_dim: usize,
}

impl Ensemble {
    fn shapes(members: usize, sizes: &[usize]) -> Vec<([usize; 3], [usize; 3])> {
        sizes.windows(2).map(|p| ([members, p[0], p[1]], [members, 1, p[1]])).collect()
    }

    /// Fresh members `in → hidden… → 2·out` under `prefix`: weights from a normal truncated at
    /// two standard deviations, σ = 1/(2√in) (the public MBPO code), biases 0. `rand_distr` has
    /// no truncated normal; its [`StandardNormal`] draws are kept when |z| ≤ 2 (rejection: 95 %
    /// are kept, so the expected cost is 1.05 draws per weight).
    ///
    /// # Errors
    ///
    /// A name clash in `varmap`.
    pub fn init(
        varmap: &VarMap,
        prefix: &str,
        members: usize,
        sizes: &[usize],
        activation: Activation,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        let full = Self::full_sizes(sizes)?;
        for (layer, (w_shape, b_shape)) in Self::shapes(members, &full).into_iter().enumerate() {
            let std = 1.0 / (2.0 * (w_shape[1] as f64).sqrt());
            let n: usize = w_shape.iter().product();
            let mut values = Vec::with_capacity(n);
            while values.len() < n {
                let z = normal(rng);
                if z.abs() <= 2.0 {
                    values.push((z * std) as f32);
                }
            }
            insert(varmap, format!("{prefix}.{layer}.weight"), &Tensor::from_vec(values, &w_shape[..], &Device::Cpu)?)?;
            insert(varmap, format!("{prefix}.{layer}.bias"), &Tensor::zeros(&b_shape[..], DType::F32, &Device::Cpu)?)?;
        }
        let out = sizes[sizes.len() - 1];
        let (lo, hi) = LOG_VAR_BOUNDS;
        insert(varmap, format!("{prefix}.min_log_var"), &Tensor::full(lo as f32, out, &Device::Cpu)?)?;
        insert(varmap, format!("{prefix}.max_log_var"), &Tensor::full(hi as f32, out, &Device::Cpu)?)?;
        Self::load(varmap, prefix, members, sizes, activation)
    }

    /// `sizes` = [in, hidden…, out] → layer sizes with the doubled output (mean and log-variance).
    fn full_sizes(sizes: &[usize]) -> Result<Vec<usize>> {
        match sizes {
            [.., out] if sizes.len() >= 2 => {
                let mut full = sizes.to_vec();
                full[sizes.len() - 1] = 2 * out;
                Ok(full)
            }
            _ => candle_core::bail!("an ensemble needs an input and an output size, got {sizes:?}"),
        }
    }

    /// The ensemble on variables already in `varmap`.
    ///
    /// # Errors
    ///
    /// A variable missing or of the wrong shape.
    pub fn load(
        varmap: &VarMap,
        prefix: &str,
        members: usize,
        sizes: &[usize],
        activation: Activation,
    ) -> Result<Self> {
        let full = Self::full_sizes(sizes)?;
        let weights = Self::shapes(members, &full)
            .into_iter()
            .enumerate()
            .map(|(layer, (w, b))| {
                Ok((
                    existing(varmap, &format!("{prefix}.{layer}.weight"), &w)?,
                    existing(varmap, &format!("{prefix}.{layer}.bias"), &b)?,
                ))
            })
            .collect::<Result<_>>()?;
        let out_dim = sizes[sizes.len() - 1];
        Ok(Self {
            weights,
            min_log_var: existing(varmap, &format!("{prefix}.min_log_var"), &[out_dim])?,
            max_log_var: existing(varmap, &format!("{prefix}.max_log_var"), &[out_dim])?,
            activation,
            out_dim,
        })
    }

    /// Means and soft-bounded log-variances for inputs `x` of shape (E, B, in) (one batch per
    /// member, e.g. bootstrap batches, or the same batch broadcast): each (E, B, out).
    ///
    /// # Errors
    ///
    /// Shapes or dtypes that do not match.
    pub fn forward(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let mut h = x.clone();
        // h·W + 1·b rather than a broadcast add of b: the same values, but b's gradient becomes
        // the matmul 1ᵀ·g instead of candle's sum over the middle (batch) dimension, which
        // divides an index per element (≈ 12 % of an update, bench/README.md).
        let (members, batch, _) = x.dims3()?;
        let ones = Tensor::ones((members, batch, 1), x.dtype(), x.device())?;
        for (i, (w, b)) in self.weights.iter().enumerate() {
            h = (h.matmul(w)? + ones.matmul(b)?)?;
            if i + 1 < self.weights.len() {
                h = self.activation.apply(&h)?;
            }
        }
        let mean = h.narrow(D::Minus1, 0, self.out_dim)?;
        let raw = h.narrow(D::Minus1, self.out_dim, self.out_dim)?;
        let upper = self.max_log_var.broadcast_sub(&softplus(&self.max_log_var.broadcast_sub(&raw)?)?)?;
        let log_var = self.min_log_var.broadcast_add(&softplus(&upper.broadcast_sub(&self.min_log_var)?)?)?;
        Ok((mean, log_var))
    }

    /// `log p(y | x)` of each member and sample, shape (E, B): [`gaussian_log_density`] of
    /// [`Ensemble::forward`]. `y` = [reward, Δobs] of shape (E, B, out) or (B, out).
    ///
    /// # Errors
    ///
    /// Shapes or dtypes that do not match.
    pub fn log_likelihood(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let (mean, log_var) = self.forward(x)?;
        gaussian_log_density(&mean, &log_var, y)
    }
}
