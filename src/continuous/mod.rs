//! Continuous β-VMBPO (Algorithm 1, App. C): the losses of [`crate::losses`] on tensors, the
//! networks, and the environments. The tensor parts are behind the cargo feature `candle`.

#[cfg(feature = "candle")]
pub mod nets;
#[cfg(feature = "candle")]
pub mod tensor;
