//! Adam (Kingma & Ba 2015), the optimiser of every network in App. C.2, fused and in place.
//!
//! candle-nn's `AdamW` runs about a dozen tensor operations per variable and step, each a fresh
//! allocation, then copies three tensors back; [`FusedAdam`] makes one pass over θ, g, m, v per
//! variable through candle's `InplaceOp2`, with the same f32 arithmetic in the same order
//! (checked against `AdamW` with weight decay 0 in this module's tests). About a tenth faster
//! for the ensemble's update (bench/README.md).

use std::cell::RefCell;

use candle_core::backend::BackendStorage;
use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, DType, InplaceOp2, Layout, Result, Tensor, Var};

/// Decay of the first moment, β₁.
pub const BETA1: f64 = 0.9;

/// Decay of the second moment, β₂.
pub const BETA2: f64 = 0.999;

/// ε added to √v̂ in the denominator.
pub const EPSILON: f64 = 1e-8;

/// Adam without weight decay, updating f32 variables in place.
///
/// # Formula
///
/// ```text
/// t ← t + 1
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// θ ← θ − lr · (m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ)) + ε)
/// ```
///
/// Legend: θ a variable, g its gradient, m and v its moment estimates (zero at t = 0), the
/// divisions by 1 − βᵗ the bias corrections; β₁ = [`BETA1`], β₂ = [`BETA2`], ε = [`EPSILON`];
/// every operation element-wise. `torch.optim.Adam`'s defaults, and candle-nn's `AdamW` with
/// `weight_decay: 0`.
pub struct FusedAdam {
    slots: Vec<Slot>,
    lr: f64,
    steps: u64,
}

/// One variable and its moments.
struct Slot {
    var: Var,
    m: Vec<f32>,
    v: Vec<f32>,
}

impl std::fmt::Debug for FusedAdam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FusedAdam")
            .field("variables", &self.slots.len())
            .field("lr", &self.lr)
            .field("steps", &self.steps)
            .finish()
    }
}

impl FusedAdam {
    /// An optimiser for `vars` with step size `lr`, moments zero.
    ///
    /// # Errors
    ///
    /// A variable that is not f32 ([`candle_core::Error::UnexpectedDType`]).
    pub fn new(vars: Vec<Var>, lr: f64) -> Result<Self> {
        let slots = vars
            .into_iter()
            .map(|var| {
                if var.dtype() != DType::F32 {
                    return Err(dtype_error(var.dtype()));
                }
                let n = var.elem_count();
                Ok(Slot { var, m: vec![0.0; n], v: vec![0.0; n] })
            })
            .collect::<Result<_>>()?;
        Ok(Self { slots, lr, steps: 0 })
    }

    /// The step size.
    #[must_use]
    pub fn learning_rate(&self) -> f64 {
        self.lr
    }

    /// Steps taken so far, t.
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// One Adam step on every variable that has a gradient in `grads` (the others keep their
    /// values and moments, as in candle-nn).
    ///
    /// # Errors
    ///
    /// A gradient whose dtype is not f32 ([`candle_core::Error::UnexpectedDType`]) or whose shape
    /// is not its variable's ([`candle_core::Error::ShapeMismatchBinaryOp`]): every gradient is
    /// checked before any variable changes. A variable on another device than the CPU.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        let mut updates = Vec::with_capacity(self.slots.len());
        for (i, slot) in self.slots.iter().enumerate() {
            let Some(g) = grads.get(slot.var.as_tensor()) else { continue };
            if g.dtype() != DType::F32 {
                return Err(dtype_error(g.dtype()));
            }
            if g.shape() != slot.var.shape() {
                return Err(candle_core::Error::ShapeMismatchBinaryOp {
                    lhs: slot.var.shape().clone(),
                    rhs: g.shape().clone(),
                    op: "fused-adam",
                });
            }
            updates.push((i, g.contiguous()?));
        }
        self.steps += 1;
        // In f64 and then f32, as candle-nn's scalar arguments are.
        let t = i32::try_from(self.steps).unwrap_or(i32::MAX);
        let scale_m = (1.0 / (1.0 - BETA1.powi(t))) as f32;
        let scale_v = (1.0 / (1.0 - BETA2.powi(t))) as f32;
        for (i, g) in updates {
            let slot = &mut self.slots[i];
            let kernel =
                AdamKernel { moments: RefCell::new((&mut slot.m, &mut slot.v)), lr: self.lr as f32, scale_m, scale_v };
            slot.var.as_tensor().inplace_op2(&g, &kernel)?;
        }
        Ok(())
    }

    /// Backpropagates `loss` and takes one [`FusedAdam::step`].
    ///
    /// # Errors
    ///
    /// A candle error in the backward pass, or those of [`FusedAdam::step`].
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let grads = loss.backward()?;
        self.step(&grads)
    }
}

fn dtype_error(got: DType) -> candle_core::Error {
    candle_core::Error::UnexpectedDType { msg: "fused Adam updates f32 variables", expected: DType::F32, got }
}

/// The pass over one variable: θ in place (the destination), g the source; m and v borrowed
/// through a `RefCell` because candle hands the kernel `&self`.
struct AdamKernel<'a> {
    moments: RefCell<(&'a mut [f32], &'a mut [f32])>,
    lr: f32,
    scale_m: f32,
    scale_v: f32,
}

impl InplaceOp2 for AdamKernel<'_> {
    fn name(&self) -> &'static str {
        "fused-adam"
    }

    fn cpu_fwd(&self, theta: &mut CpuStorage, theta_l: &Layout, grad: &CpuStorage, grad_l: &Layout) -> Result<()> {
        let not_f32 = [theta.dtype(), grad.dtype()].into_iter().find(|&d| d != DType::F32);
        let (CpuStorage::F32(theta), CpuStorage::F32(grad)) = (theta, grad) else {
            return Err(dtype_error(not_f32.unwrap_or(DType::F32)));
        };
        let (Some((t0, t1)), Some((g0, g1))) = (theta_l.contiguous_offsets(), grad_l.contiguous_offsets()) else {
            candle_core::bail!("fused Adam needs contiguous variables and gradients")
        };
        let (theta, grad) = (&mut theta[t0..t1], &grad[g0..g1]);
        let mut moments = self.moments.borrow_mut();
        let (m, v) = &mut *moments;
        if grad.len() != theta.len() || m.len() != theta.len() || v.len() != theta.len() {
            return Err(candle_core::Error::ShapeMismatchBinaryOp {
                lhs: theta_l.shape().clone(),
                rhs: grad_l.shape().clone(),
                op: "fused-adam",
            });
        }
        let (beta1, beta2, eps) = (BETA1 as f32, BETA2 as f32, EPSILON as f32);
        let (one_minus_beta1, one_minus_beta2) = ((1.0 - BETA1) as f32, (1.0 - BETA2) as f32);
        // candle-nn's order of operations, so that the two agree to the last bit or so.
        for (((w, &g), m), v) in theta.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m = *m * beta1 + g * one_minus_beta1;
            *v = *v * beta2 + (g * g) * one_minus_beta2;
            let m_hat = *m * self.scale_m;
            let v_hat = *v * self.scale_v;
            *w -= (m_hat / (v_hat.sqrt() + eps)) * self.lr;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, Var};
    use candle_nn::{AdamW, Optimizer, ParamsAdamW};

    use super::*;

    /// Fused Adam against candle-nn's AdamW after 20 steps, relative to max(|θ|, 1): the same
    /// f32 operations in the same order, so only a compiler's different instruction choice
    /// could separate them (measured: bit-identical).
    const AGAINST_ADAMW: f64 = 1e-6;

    /// A small regression problem: a (3, 4) weight and a (4,) bias, ℓ = mean((x·W + b − y)²)
    /// plus a quartic term so that the gradients are not linear in θ.
    fn loss(w: &Tensor, b: &Tensor, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let out = x.matmul(w)?.broadcast_add(b)?;
        (out - y)?.sqr()?.mean_all()? + (w.sqr()?.sqr()?.sum_all()? * 0.1)?
    }

    fn data() -> Result<(Tensor, Tensor, Tensor, Tensor)> {
        let d = &Device::Cpu;
        let w0 = Tensor::arange(0u32, 12, d)?.to_dtype(DType::F32)?.affine(0.37, -2.0)?.sin()?.reshape((3, 4))?;
        let b0 = Tensor::new(&[0.5f32, -0.25, 1.0, 0.0], d)?;
        let x = Tensor::arange(0u32, 24, d)?.to_dtype(DType::F32)?.affine(0.61, 0.3)?.cos()?.reshape((8, 3))?;
        let y = Tensor::arange(0u32, 32, d)?.to_dtype(DType::F32)?.affine(0.23, -1.0)?.sin()?.reshape((8, 4))?;
        Ok((w0, b0, x, y))
    }

    fn as_vec(t: &Tensor) -> Vec<f32> {
        t.flatten_all().and_then(|t| t.to_vec1()).unwrap_or_default()
    }

    #[test]
    fn twenty_steps_equal_candle_nn_adamw_without_weight_decay() -> Result<()> {
        let (w0, b0, x, y) = data()?;
        let lr = 0.05;
        let (w1, b1) = (Var::from_tensor(&w0)?, Var::from_tensor(&b0)?);
        let (w2, b2) = (Var::from_tensor(&w0)?, Var::from_tensor(&b0)?);
        let mut fused = FusedAdam::new(vec![w1.clone(), b1.clone()], lr)?;
        let mut reference = AdamW::new(
            vec![w2.clone(), b2.clone()],
            ParamsAdamW { lr, beta1: BETA1, beta2: BETA2, eps: EPSILON, weight_decay: 0.0 },
        )?;
        for _ in 0..20 {
            fused.backward_step(&loss(&w1, &b1, &x, &y)?)?;
            reference.backward_step(&loss(&w2, &b2, &x, &y)?)?;
        }
        assert_eq!(fused.steps(), 20);
        let moved = as_vec(&w1).iter().zip(as_vec(&w0)).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(moved > 0.1, "the variables moved ({moved}), so the comparison means something");
        for (ours, theirs) in [(&w1, &w2), (&b1, &b2)] {
            for (a, b) in as_vec(ours).into_iter().zip(as_vec(theirs)) {
                let err = f64::from((a - b).abs()) / f64::from(b.abs().max(1.0));
                assert!(err <= AGAINST_ADAMW, "{a} against AdamW's {b}");
            }
        }
        Ok(())
    }

    #[test]
    fn one_step_is_the_formula_by_hand() -> Result<()> {
        // t = 1: m = 0.1·g, v = 0.001·g², m̂ = g, v̂ = g², θ ← θ − lr·g/(|g| + ε) ≈ θ − lr·sign g.
        let theta = Var::new(&[1.0f32, -2.0, 0.5], &Device::Cpu)?;
        let mut adam = FusedAdam::new(vec![theta.clone()], 0.1)?;
        // ℓ = Σ c·θ, so g = c.
        let c = Tensor::new(&[3.0f32, -0.5, 1e-3], &Device::Cpu)?;
        adam.backward_step(&(theta.as_tensor() * &c)?.sum_all()?)?;
        let want = [1.0 - 0.1 * 3.0 / (3.0 + 1e-8), -2.0 + 0.1 * 0.5 / (0.5 + 1e-8), 0.5 - 0.1 * 1e-3 / (1e-3 + 1e-8)];
        for (got, want) in as_vec(theta.as_tensor()).into_iter().zip(want) {
            assert!((f64::from(got) - want).abs() <= 1e-6, "{got} against {want}");
        }
        Ok(())
    }

    #[test]
    fn a_variable_that_is_not_f32_is_an_error() -> Result<()> {
        let theta = Var::zeros(3, DType::F64, &Device::Cpu)?;
        let err = FusedAdam::new(vec![theta], 1e-3).err();
        assert!(
            matches!(err, Some(candle_core::Error::UnexpectedDType { expected: DType::F32, got: DType::F64, .. })),
            "{err:?}"
        );
        Ok(())
    }

    #[test]
    fn a_gradient_of_another_shape_or_dtype_is_an_error_and_changes_nothing() -> Result<()> {
        let d = &Device::Cpu;
        let (a, b) = (Var::new(&[1.0f32, 2.0], d)?, Var::new(&[3.0f32, 4.0, 5.0], d)?);
        let mut adam = FusedAdam::new(vec![a.clone(), b.clone()], 0.1)?;
        let mut grads = (a.as_tensor().sum_all()? + b.as_tensor().sum_all()?)?.backward()?;
        grads.insert(b.as_tensor(), Tensor::ones(2, DType::F32, d)?);
        let err = adam.step(&grads).err();
        assert!(matches!(err, Some(candle_core::Error::ShapeMismatchBinaryOp { .. })), "{err:?}");
        grads.insert(b.as_tensor(), Tensor::ones(3, DType::F64, d)?);
        let err = adam.step(&grads).err();
        assert!(matches!(err, Some(candle_core::Error::UnexpectedDType { got: DType::F64, .. })), "{err:?}");
        // Neither a (checked first, valid) nor b moved, and no step was counted.
        let bits = |v: &Var| as_vec(v.as_tensor()).into_iter().map(f32::to_bits).collect::<Vec<_>>();
        assert_eq!(bits(&a), [1.0f32, 2.0].map(f32::to_bits));
        assert_eq!(bits(&b), [3.0f32, 4.0, 5.0].map(f32::to_bits));
        assert_eq!(adam.steps(), 0);
        Ok(())
    }
}
