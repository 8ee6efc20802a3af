//! [`Numeric`] for candle tensors: the losses of [`crate::losses`] on a batch, with gradients.
//!
//! candle's operations return `Result` (a shape, dtype or device mismatch), while [`Numeric`]'s
//! arithmetic returns `Self`. [`NumericTensor`] bridges the two without panicking: it holds either a
//! tensor or the **first error** of the computation that produced it, and every later
//! operation passes that error through unchanged (as NaN passes through float arithmetic). The
//! error surfaces once, where the caller leaves the loss layer with [`NumericTensor::into_tensor`].
//! A panic was the alternative; it would be "impossible" only as long as every caller gets
//! shapes and dtypes right, which is exactly what a mistake breaks.
//!
//! # Shapes
//!
//! Binary operations need equal shapes, or one side of rank 0 (a scalar such as a learnt β,
//! which is broadcast over the batch). Any other pair is an error, deliberately *not* NumPy
//! broadcasting: `(B, 1) − (B)` would silently become a `(B, B)` matrix and a wrong loss.
//! [`Numeric::mean`] reduces over all elements to a rank-0 tensor.
//!
//! # Gradients at a clamp bound
//!
//! candle's `clamp` is `maximum(lo)` then `minimum(hi)`, and the gradient of `maximum`/`minimum`
//! splits evenly on ties: at an input *exactly* on a bound, `∂clamp/∂x = 0.5` (PyTorch gives
//! 1, the one-sided derivatives are 1 and 0). Inside the bounds it is 1, outside 0. Only
//! [`crate::losses::dynamics_log_weight`] clamps, and a TD error landing exactly on ±c·γ·β has
//! probability zero for continuous inputs.

use std::ops::{Add, Mul, Neg, Sub};
use std::sync::Arc;

use candle_core::Tensor;

use crate::losses::Numeric;

/// A batch of per-sample values in a candle tensor, or the first error met computing it.
///
/// The [`Numeric`] operations are elementwise, [`Numeric::mean`] averages all elements; see
/// the [module docs](self) for the shape rule and the error handling.
#[derive(Debug, Clone)]
pub struct NumericTensor(Result<Tensor, Arc<candle_core::Error>>);

impl NumericTensor {
    /// Wraps a tensor.
    #[must_use]
    pub fn new(tensor: Tensor) -> Self {
        Self(Ok(tensor))
    }

    /// Wraps the result of a candle operation: an error is carried to [`NumericTensor::into_tensor`].
    #[must_use]
    pub fn from_result(result: candle_core::Result<Tensor>) -> Self {
        Self(result.map_err(Arc::new))
    }

    /// The tensor, or a reference to the first error met computing it.
    ///
    /// # Errors
    ///
    /// The first candle error of the computation (shape, dtype or device mismatch).
    pub fn tensor(&self) -> Result<&Tensor, &candle_core::Error> {
        self.0.as_ref().map_err(|shared| &**shared)
    }

    /// The tensor, ready for `backward()` or `to_scalar()`.
    ///
    /// # Errors
    ///
    /// The first candle error of the computation (shape, dtype or device mismatch). When a
    /// clone of this batch still holds the same error, it comes back wrapped.
    pub fn into_tensor(self) -> candle_core::Result<Tensor> {
        self.0.map_err(|shared| Arc::try_unwrap(shared).unwrap_or_else(candle_core::Error::wrap))
    }

    fn map(&self, op: impl FnOnce(&Tensor) -> candle_core::Result<Tensor>) -> Self {
        match &self.0 {
            Ok(tensor) => Self::from_result(op(tensor)),
            Err(shared) => Self(Err(Arc::clone(shared))),
        }
    }

    /// Applies `same` to equal shapes, `broadcast` when one side has rank 0, and `same` (which
    /// then reports candle's shape mismatch) otherwise.
    fn zip(
        self,
        rhs: Self,
        same: impl FnOnce(&Tensor, &Tensor) -> candle_core::Result<Tensor>,
        broadcast: impl FnOnce(&Tensor, &Tensor) -> candle_core::Result<Tensor>,
    ) -> Self {
        match (self.0, rhs.0) {
            (Ok(a), Ok(b)) => {
                let scalar_side = a.shape() != b.shape() && (a.rank() == 0 || b.rank() == 0);
                Self::from_result(if scalar_side { broadcast(&a, &b) } else { same(&a, &b) })
            }
            (Err(shared), _) | (_, Err(shared)) => Self(Err(shared)),
        }
    }
}

impl From<Tensor> for NumericTensor {
    fn from(tensor: Tensor) -> Self {
        Self::new(tensor)
    }
}

impl Add for NumericTensor {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        self.zip(rhs, Tensor::add, Tensor::broadcast_add)
    }
}

impl Sub for NumericTensor {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        self.zip(rhs, Tensor::sub, Tensor::broadcast_sub)
    }
}

impl Mul for NumericTensor {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        self.zip(rhs, Tensor::mul, Tensor::broadcast_mul)
    }
}

impl Neg for NumericTensor {
    type Output = Self;
    fn neg(self) -> Self {
        self.map(Tensor::neg)
    }
}

impl Numeric for NumericTensor {
    fn exp(&self) -> Self {
        self.map(Tensor::exp)
    }
    fn ln(&self) -> Self {
        self.map(Tensor::log)
    }
    /// See the [module docs](self) for the gradient at a bound (0.5).
    fn clamp(&self, lo: f64, hi: f64) -> Self {
        self.map(|t| t.clamp(lo, hi))
    }
    fn square(&self) -> Self {
        self.map(Tensor::sqr)
    }
    fn mean(&self) -> Self {
        self.map(Tensor::mean_all)
    }
    fn scale(&self, k: f64) -> Self {
        self.map(|t| t.affine(k, 0.0))
    }
    fn offset(&self, k: f64) -> Self {
        self.map(|t| t.affine(1.0, k))
    }
}
