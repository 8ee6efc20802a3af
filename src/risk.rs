//! The risk parameter β.
//!
//! Rewards enter every soft backup divided by β (Eq. 5). β → 0 is the best case (risk-seeking,
//! optimistic posterior dynamics), β = 1 plain RL-as-inference, β → ∞ the risk-neutral expected
//! return. Values are kept scaled (nats); `β·V` is the certainty equivalent in reward units.

use crate::error::{Error, Result};

/// A validated risk parameter: 0 < β < ∞.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Beta(f64);

impl Beta {
    /// β as given.
    ///
    /// # Errors
    /// [`Error::InvalidBeta`] unless 0 < β < ∞.
    ///
    /// # Examples
    /// ```
    /// use riskmdp::Beta;
    /// assert!(Beta::new(2.0).is_ok());
    /// assert!(Beta::new(0.0).is_err());
    /// ```
    pub fn new(beta: f64) -> Result<Self> {
        if beta.is_finite() && beta > 0.0 { Ok(Beta(beta)) } else { Err(Error::InvalidBeta { beta }) }
    }
    /// The value.
    pub fn get(self) -> f64 {
        self.0
    }
}
