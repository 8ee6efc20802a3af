//! Stable `log E_p[exp x]` kernels.
//!
//! # Formula
//!
//! ```text
//! L(p, x) = log Σ_{j : p_j > 0} p_j · exp(x_j)
//!         = m + log1p( Σ_j p_j · expm1(x_j − m) )   if that sum is > −1/2
//!         = m + log  ( Σ_j p_j · exp  (x_j − m) )   otherwise
//! m = max_{j : p_j > 0} x_j
//! ```
//!
//! Only the support of `p` is visited, so an `x_j` that is −∞ or huge where `p_j = 0` changes
//! nothing. The shift by `m` makes every exponent ≤ 0 (no overflow at β → 0, where values span
//! millions of nats). The `log1p`/`expm1` form avoids the cancellation of `log(1 + tiny)` at
//! β → ∞, where all `x_j` agree to ~1e-7 and the naive form would lose five digits; it assumes
//! Σ p = 1, which the model guarantees by renormalising every row it accepts. When the mass near
//! the maximum is small (the sum is near −1) the plain form is exact instead.

/// `log Σ_j p_j·exp(x_j)` over the support of `p`, for a distribution `p` (Σ p = 1).
///
/// Returns −∞ if `p` has no support or every `x_j` on it is −∞, and +∞ if one is +∞.
///
/// # Panics
/// If the slices differ in length (an internal invariant).
///
/// # Examples
/// ```
/// use riskmdp::logsumexp::log_expect_exp;
/// let l = log_expect_exp(&[0.9, 0.1, 0.0], &[-10.0, 0.0, f64::INFINITY]);
/// assert!((l - (0.9 * (-10f64).exp() + 0.1).ln()).abs() < 1e-15);
/// ```
#[inline]
pub fn log_expect_exp(p: &[f64], x: &[f64]) -> f64 {
    assert_eq!(p.len(), x.len(), "log_expect_exp: length mismatch");
    let m = max_over_support(p, x);
    if !m.is_finite() {
        return m;
    }
    let mut t = 0.0;
    for (&pj, &xj) in p.iter().zip(x) {
        if pj > 0.0 {
            t += pj * (xj - m).exp_m1();
        }
    }
    if t > -0.5 {
        return m + t.ln_1p();
    }
    let mut s = 0.0;
    for (&pj, &xj) in p.iter().zip(x) {
        if pj > 0.0 {
            s += pj * (xj - m).exp();
        }
    }
    m + s.ln()
}

/// `log Σ_j exp(x_j)` (no weights), shifted by the maximum.
///
/// Returns −∞ for an empty slice or all −∞, +∞ if any entry is +∞.
///
/// # Examples
/// ```
/// use riskmdp::logsumexp::log_sum_exp;
/// assert!((log_sum_exp(&[0.0, 0.0]) - 2f64.ln()).abs() < 1e-15);
/// ```
#[inline]
pub fn log_sum_exp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + x.iter().map(|&xj| (xj - m).exp()).sum::<f64>().ln()
}

/// `log(exp a + exp b)`, stable for any signs and infinities.
///
/// # Examples
/// ```
/// use riskmdp::logsumexp::log_add_exp;
/// assert!((log_add_exp(1000.0, 1000.0) - (1000.0 + 2f64.ln())).abs() < 1e-12); // no overflow
/// assert_eq!(log_add_exp(f64::NEG_INFINITY, 3.0), 3.0);
/// ```
#[inline]
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if hi.is_infinite() {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// The maximum of `x` over the support of `p` (−∞ for an empty support, NaN if a NaN is on
/// the support): the shift `m` of [`log_expect_exp`].
///
/// # Examples
/// ```
/// use riskmdp::logsumexp::max_over_support;
/// assert_eq!(max_over_support(&[0.5, 0.0, 0.5], &[1.0, f64::INFINITY, -2.0]), 1.0);
/// assert_eq!(max_over_support(&[0.0], &[1.0]), f64::NEG_INFINITY);
/// ```
#[inline]
pub fn max_over_support(p: &[f64], x: &[f64]) -> f64 {
    // Not f64::max, which drops a NaN: a NaN on the support must make the result NaN.
    p.iter()
        .zip(x)
        .filter(|(pj, _)| **pj > 0.0)
        .map(|(_, &xj)| xj)
        .fold(f64::NEG_INFINITY, |m, xj| if xj.is_nan() || xj > m { xj } else { m })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain formula a user would write, for comparison where it is exact.
    fn naive(p: &[f64], x: &[f64]) -> f64 {
        p.iter().zip(x).map(|(p, x)| p * x.exp()).sum::<f64>().ln()
    }

    #[test]
    fn a_nan_on_the_support_is_never_dropped() {
        let nan = f64::NAN;
        assert!(log_expect_exp(&[0.5, 0.5], &[nan, 1.0]).is_nan());
        assert!(log_expect_exp(&[0.5, 0.5], &[1.0, nan]).is_nan());
        assert!(max_over_support(&[0.2, 0.8], &[nan, -1.0]).is_nan());
        // Off the support a NaN changes nothing.
        assert_eq!(log_expect_exp(&[1.0, 0.0], &[2.0, nan]).to_bits(), 2f64.to_bits());
    }

    #[test]
    fn matches_naive_formula_on_moderate_inputs() {
        let p = [0.2, 0.3, 0.5];
        let x = [-1.0, 0.5, 2.0];
        assert!((log_expect_exp(&p, &x) - naive(&p, &x)).abs() < 1e-14);
    }

    #[test]
    fn ignores_infinite_values_off_the_support() {
        let l = log_expect_exp(&[0.5, 0.0, 0.5], &[1.0, f64::INFINITY, 1.0]);
        assert!((l - 1.0).abs() < 1e-15);
        let l = log_expect_exp(&[0.0, 1.0], &[f64::NAN, -3.0]);
        assert!((l + 3.0).abs() < 1e-15);
    }

    #[test]
    fn huge_spread_does_not_overflow() {
        // log(0.5 e^{1e8} + 0.5 e^{-1e8}) = 1e8 + log 0.5 exactly in f64.
        let l = log_expect_exp(&[0.5, 0.5], &[1e8, -1e8]);
        assert!((l - (1e8 + 0.5f64.ln())).abs() < 1e-7);
    }

    #[test]
    fn tiny_spread_keeps_relative_precision() {
        // x = ±1e-9 with p = (0.9, 0.1): log E e^x = 0.8e-9 + Var/2 ...; series to third order.
        let (a, b) = (1e-9, -1e-9);
        let mean = 0.9 * a + 0.1 * b;
        let var = 0.9 * a * a + 0.1 * b * b - mean * mean;
        let exact = mean + var / 2.0;
        let l = log_expect_exp(&[0.9, 0.1], &[a, b]);
        assert!(((l - exact) / exact).abs() < 1e-12, "{l} vs {exact}");
        // The naive formula loses most digits here: this is why the kernel exists.
        assert!(((naive(&[0.9, 0.1], &[a, b]) - exact) / exact).abs() > 1e-10);
    }

    #[test]
    fn tiny_mass_at_the_maximum_is_not_lost() {
        // log(1e-20·e^0 + (1 − 1e-20)·e^{-1000}) = log(1e-20)
        let l = log_expect_exp(&[1e-20, 1.0 - 1e-20], &[0.0, -1000.0]);
        assert!((l - 1e-20f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn log_add_exp_handles_infinities() {
        let l = log_add_exp(f64::NEG_INFINITY, f64::NEG_INFINITY);
        assert!(l.is_infinite() && l < 0.0);
        assert!((log_add_exp(0.0, f64::NEG_INFINITY)).abs() < 1e-300);
        assert!((log_add_exp(1.0, 1.0) - (1.0 + 2f64.ln())).abs() < 1e-15);
    }
}

/// Tests added for mutants that `cargo mutants` found alive (docs/mutation-testing.md); each
/// names the mutant it kills.
#[cfg(test)]
mod mutation_tests {
    use super::*;

    /// Kills every mutant of `log_sum_exp` (it had no test but its doc example): the values
    /// are closed forms, `ln(e + e² + e³) = 1 + ln(1 + e + e²)` and `ln(3·e^1000) = 1000 + ln 3`.
    #[test]
    fn log_sum_exp_matches_closed_forms() {
        let e = 1f64.exp();
        let l = log_sum_exp(&[1.0, 2.0, 3.0]);
        assert!((l - (1.0 + (1.0 + e + e * e).ln())).abs() < 1e-15, "{l}");
        let l = log_sum_exp(&[1000.0, 1000.0, 1000.0]);
        assert!((l - (1000.0 + 3f64.ln())).abs() < 1e-12, "{l}");
        let l = log_sum_exp(&[-2.0]);
        assert!((l + 2.0).abs() < 1e-15, "{l}");
    }

    /// The infinities are exact: compared by bits.
    #[test]
    fn log_sum_exp_of_nothing_or_infinities() {
        let bits = |x: f64| x.to_bits();
        assert_eq!(bits(log_sum_exp(&[])), bits(f64::NEG_INFINITY));
        assert_eq!(bits(log_sum_exp(&[f64::NEG_INFINITY, f64::NEG_INFINITY])), bits(f64::NEG_INFINITY));
        assert_eq!(bits(log_sum_exp(&[0.0, f64::INFINITY])), bits(f64::INFINITY));
    }

    /// Kills `pj > 0.0` → `pj >= 0.0` in the `log1p` loop: an off-support +∞ then makes the
    /// sum 0·∞ = NaN, the plain form takes over and loses the relative precision at a tiny
    /// spread. Expected: for x = ±1e-9 with p = (0.9, 0.1), log E e^x = mean + var/2 up to a
    /// third cumulant of order 1e-27 (mean = 0.8e-9, var = 0.36e-18).
    #[test]
    fn off_support_infinity_keeps_tiny_spread_precision() {
        let (a, b) = (1e-9, -1e-9);
        let mean = 0.9 * a + 0.1 * b;
        let var = 0.9 * a * a + 0.1 * b * b - mean * mean;
        let exact = mean + var / 2.0;
        let l = log_expect_exp(&[0.9, 0.1, 0.0], &[a, b, f64::INFINITY]);
        assert!(((l - exact) / exact).abs() < 1e-12, "{l} vs {exact}");
    }

    /// Pins `pj > 0.0` in the plain (fallback) loop at the kernel itself (the mutant `>=` is
    /// also caught, less directly, by the fast backup's comparison in `kernel`): with almost
    /// no mass at the maximum the fallback runs, and an off-support +∞ would make its sum
    /// NaN. Expected:
    /// log(1e-20·e^0 + (1 − 1e-20)·e^{−1000}) = ln 1e-20 (e^{−1000} underflows to 0).
    #[test]
    fn off_support_infinity_is_ignored_by_the_plain_form() {
        let l = log_expect_exp(&[1e-20, 1.0 - 1e-20, 0.0], &[0.0, -1000.0, f64::INFINITY]);
        assert!((l - 1e-20f64.ln()).abs() < 1e-12, "{l}");
    }
}
