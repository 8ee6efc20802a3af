//! Bisection in log β: the one root finder of the crate.
//!
//! Everything the crate locates exactly in β — the greedy switches of a sweep
//! ([`sweep::sweep`](crate::sweep::sweep)), the roots and jumps of KL_β = ε
//! ([`dual::kl_roots`](crate::dual::kl_roots)), the switch points printed by the figure
//! examples — is a change of some discrete or sign-valued property of the solution between two
//! values of β. β spans many orders of magnitude, so the bracket is halved in log β.
//!
//! # Formula
//!
//! ```text
//! bracket [lo, hi] in ln β, the property on the low side at lo and on the high side at hi
//! repeat:  mid = (lo + hi)/2;  ask the side of β = exp(mid);  lo ← mid (low) or hi ← mid (high)
//! until    hi − lo ≤ width          (Width::Absolute)
//!     or   hi − lo ≤ width·max(|lo|, 1)   (Width::Relative)
//! answer   β = exp((lo + hi)/2), the geometric mean of the bracket
//! ```

/// When a bisection stops: the width of the bracket in ln β.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Width {
    /// Stop once `hi − lo ≤ w`.
    Absolute(f64),
    /// Stop once `hi − lo ≤ w·max(|lo|, 1)`: a relative accuracy of about `w` in β itself
    /// when |ln β| ≤ 1, and in ln β beyond.
    Relative(f64),
}

impl Width {
    fn reached(self, lo: f64, hi: f64) -> bool {
        match self {
            Width::Absolute(w) => hi - lo <= w,
            Width::Relative(w) => hi - lo <= w * lo.abs().max(1.0),
        }
    }
}

/// On which side of the point sought a probe lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The probe is below the point: the bracket's low end moves up to it.
    Below,
    /// The probe is above the point: the bracket's high end moves down to it.
    Above,
    /// The probe is the point itself (e.g. an exact zero): the bisection stops there.
    At,
}

/// A bracket `[lo, hi]` in ln β.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogBracket {
    /// Low end, ln β.
    pub lo: f64,
    /// High end, ln β.
    pub hi: f64,
}

impl LogBracket {
    /// The answer: `exp((lo + hi)/2)`, the geometric mean of the bracket's ends in β.
    ///
    /// # Examples
    /// ```
    /// use riskmdp::bisection::LogBracket;
    /// let bracket = LogBracket { lo: 1f64.ln(), hi: 100f64.ln() };
    /// assert!((bracket.beta() - 10.0).abs() < 1e-13);
    /// ```
    pub fn beta(&self) -> f64 {
        (0.5 * (self.lo + self.hi)).exp()
    }
}

/// Halve the bracket `[lo, hi]` (in ln β) until it is narrower than `width`, asking `side(β)`
/// where each midpoint `β = exp((lo + hi)/2)` lies. The caller makes sure the point sought is
/// in the bracket (low side at `lo`, high side at `hi`); the ends themselves are not probed.
///
/// It also stops when no float lies strictly between the ends (a width below rounding), and
/// at once if `lo ≥ hi`, so it always terminates.
///
/// # Errors
/// The first error of `side`.
///
/// # Examples
/// The risky arm's greedy action switches at β* = 5/ln 9 (see [`mod@crate::envs::risky_arm`]): below
/// it `right` (the gamble) is greedy, above it `left`.
/// ```
/// use riskmdp::bisection::{Side, Width, bisect_log_beta};
/// use riskmdp::envs::risky_arm::{self, RIGHT, S};
/// use riskmdp::solve::greedy_actions;
/// use riskmdp::{Beta, Method, SolveOptions, solve_optimal};
///
/// let mdp = risky_arm::risky_arm();
/// let side = |beta: f64| -> riskmdp::Result<Side> {
///     let sol = solve_optimal(&mdp, Beta::new(beta)?, Method::ValueIteration, SolveOptions::default())?;
///     let gambles = greedy_actions(&mdp, sol.q0().view())[S] == RIGHT;
///     Ok(if gambles { Side::Below } else { Side::Above })
/// };
/// let bracket = bisect_log_beta(1f64.ln(), 10f64.ln(), Width::Relative(1e-12), side)?;
/// assert!((bracket.beta() - 5.0 / 9f64.ln()).abs() < 1e-10);
///
/// // Any monotone property works, with any error type: here √2 as the β where β² crosses 2.
/// let root = bisect_log_beta(0.0, 1.0, Width::Absolute(1e-14), |b| {
///     Ok::<_, std::convert::Infallible>(if b * b < 2.0 { Side::Below } else { Side::Above })
/// });
/// assert!((root.map(|r| r.beta()).unwrap_or(0.0) - 2f64.sqrt()).abs() < 1e-13);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn bisect_log_beta<E>(
    lo: f64,
    hi: f64,
    width: Width,
    mut side: impl FnMut(f64) -> Result<Side, E>,
) -> Result<LogBracket, E> {
    let (mut lo, mut hi) = (lo, hi);
    while lo < hi && !width.reached(lo, hi) {
        let mid = 0.5 * (lo + hi);
        if !(lo < mid && mid < hi) {
            break;
        }
        match side(mid.exp())? {
            Side::Below => lo = mid,
            Side::Above => hi = mid,
            Side::At => return Ok(LogBracket { lo: mid, hi: mid }),
        }
    }
    Ok(LogBracket { lo, hi })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loop condition is the one the five hand-written bisections used: a width of 1e-3
    /// from [0, 1] takes exactly ⌈log2(1000)⌉ = 10 probes, and the answer lies in the bracket.
    #[test]
    fn absolute_width_takes_the_expected_number_of_probes() {
        let mut probes = 0;
        let bracket = bisect_log_beta(0.0, 1.0, Width::Absolute(1e-3), |beta| {
            probes += 1;
            Ok::<_, ()>(if beta.ln() < 0.3 { Side::Below } else { Side::Above })
        })
        .expect("no error");
        assert_eq!(probes, 10);
        assert!(bracket.lo <= 0.3 && 0.3 <= bracket.hi && bracket.hi - bracket.lo <= 1e-3);
    }

    /// Relative width scales with |lo| beyond 1: around ln β = 100 a width of 1e-3 stops at a
    /// bracket of at most 0.1, not 1e-3.
    #[test]
    fn relative_width_scales_with_the_bracket() {
        let bracket = bisect_log_beta(99.0, 101.0, Width::Relative(1e-3), |beta| {
            Ok::<_, ()>(if beta.ln() < 100.05 { Side::Below } else { Side::Above })
        })
        .expect("no error");
        assert!(bracket.hi - bracket.lo <= 0.1 && bracket.hi - bracket.lo > 0.05);
    }

    #[test]
    fn an_exact_hit_stops_there_and_errors_propagate() {
        let bracket = bisect_log_beta(0.0, 2.0, Width::Absolute(1e-12), |_| Ok::<_, ()>(Side::At)).expect("no error");
        assert_eq!((bracket.lo.to_bits(), bracket.hi.to_bits()), (1f64.to_bits(), 1f64.to_bits()));
        assert_eq!(bisect_log_beta(0.0, 2.0, Width::Absolute(1e-12), |_| Err::<Side, _>("no")), Err("no"));
    }

    /// A zero width cannot be reached; the bisection still ends when the floats run out.
    #[test]
    fn a_zero_width_terminates() {
        let bracket = bisect_log_beta(1.0, 2.0, Width::Absolute(0.0), |b| {
            Ok::<_, ()>(if b.ln() < 1.5 { Side::Below } else { Side::Above })
        })
        .expect("no error");
        assert!(bracket.hi - bracket.lo <= 2.0 * f64::EPSILON);
    }
}

/// Tests added for mutants that `cargo mutants` found alive (docs/mutation-testing.md); each
/// names the mutant it kills.
#[cfg(test)]
mod mutation_tests {
    use super::*;

    /// Kills `lo < mid` → `lo <= mid` in the "no float strictly between the ends" stop. With
    /// lo = 1 and hi = 1 + 2⁻⁵² (adjacent floats), lo + hi = 2 + 2⁻⁵² lies halfway between
    /// the floats 2 and 2 + 2⁻⁵¹ and rounds to the even one, 2, so mid = 1 = lo: the bisection
    /// must stop without a probe. The mutant probes mid = lo, is told "below", sets lo = mid
    /// (no change) and would loop forever; the probe counter ends it with an error instead.
    #[test]
    fn adjacent_ends_whose_midpoint_rounds_down_stop_without_probing() {
        let (lo, hi) = (1.0f64, f64::from_bits(1f64.to_bits() + 1));
        assert_eq!((0.5 * (lo + hi)).to_bits(), lo.to_bits(), "the midpoint rounds to lo");
        let mut probes = 0;
        let bracket = bisect_log_beta(lo, hi, Width::Absolute(0.0), |_| {
            probes += 1;
            if probes > 100 { Err("still probing") } else { Ok(Side::Below) }
        });
        assert_eq!(bracket.map(|b| (b.lo.to_bits(), b.hi.to_bits())), Ok((lo.to_bits(), hi.to_bits())));
        assert_eq!(probes, 0);
    }
}

/// A sign change of a function of β, located by [`every_sign_change`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SignChange {
    /// β of the change (the bracket's geometric mean, or an exact zero).
    pub beta: f64,
    /// The function's value at the bracket's low end (0 at an exact zero).
    pub f_lo: f64,
    /// The function's value at the bracket's high end (0 at an exact zero).
    pub f_hi: f64,
}

/// Halvings of a piece with the same sign at both ends, at most, when looking for a hidden
/// pair of sign changes ([`every_sign_change`]).
pub(crate) const SAME_SIGN_DEPTH: usize = 4;

/// Every sign change of `f` on the ascending points `(β, f(β))`, between each two of which `f`
/// is continuous: each sign change is bisected in ln β to `width`, and the search goes on in
/// the rest of the piece. Where the ends of a piece have the same sign but `|f|` there is small
/// against its change across the piece (`min(|f_lo|, |f_hi|) ≤ |f_hi − f_lo|`), the piece is
/// halved (at most [`SAME_SIGN_DEPTH`] times) to look for a pair of sign changes hidden inside.
/// A pair that this test does not suspect is missed; the callers say so.
///
/// An exact zero at a point is one change at that point. Every loop is bounded: a bisection by
/// its width (or the floats), the refinement by its depth.
pub(crate) fn every_sign_change<E>(
    points: &[(f64, f64)],
    width: Width,
    f: &mut impl FnMut(f64) -> Result<f64, E>,
) -> Result<Vec<SignChange>, E> {
    let mut out = Vec::new();
    for (i, &(beta, value)) in points.iter().enumerate() {
        if value == 0.0 {
            out.push(SignChange { beta, f_lo: 0.0, f_hi: 0.0 });
        }
        if let Some(&next) = points.get(i + 1) {
            piece(f, (beta, value), next, width, SAME_SIGN_DEPTH, &mut out)?;
        }
    }
    out.sort_by(|x, y| x.beta.total_cmp(&y.beta));
    Ok(out)
}

/// Whether a piece with these end values may hold a sign change: its ends differ in sign, one
/// is an exact zero, or |f| at its ends is no larger than its change across it (a pair of sign
/// changes may hide inside: [`every_sign_change`] halves it).
pub(crate) fn worth_searching(f_lo: f64, f_hi: f64) -> bool {
    f_lo == 0.0
        || f_hi == 0.0
        || f_lo.is_sign_positive() != f_hi.is_sign_positive()
        || f_lo.abs().min(f_hi.abs()) <= (f_hi - f_lo).abs()
}

/// [`every_sign_change`] on one piece; exact zeros at its ends are the caller's.
fn piece<E>(
    f: &mut impl FnMut(f64) -> Result<f64, E>,
    (lo, f_lo): (f64, f64),
    (hi, f_hi): (f64, f64),
    width: Width,
    depth: usize,
    out: &mut Vec<SignChange>,
) -> Result<(), E> {
    if f_lo == 0.0 || f_hi == 0.0 {
        return Ok(());
    }
    // Signs, not `f_lo * f_hi`: the product of two values below ~1e-162 underflows to ±0.
    if f_lo.is_sign_positive() != f_hi.is_sign_positive() {
        let (mut a, mut b) = ((lo, f_lo), (hi, f_hi));
        let mut zero = None;
        let bracket = bisect_log_beta(lo.ln(), hi.ln(), width, |beta| {
            let fm = f(beta)?;
            Ok(if fm == 0.0 {
                zero = Some(beta);
                Side::At
            } else if fm.is_sign_positive() == f_lo.is_sign_positive() {
                a = (beta, fm);
                Side::Below
            } else {
                b = (beta, fm);
                Side::Above
            })
        })?;
        let beta = zero.unwrap_or_else(|| bracket.beta());
        if let Some(z) = zero {
            out.push(SignChange { beta: z, f_lo: 0.0, f_hi: 0.0 });
        } else {
            out.push(SignChange { beta, f_lo: a.1, f_hi: b.1 });
        }
        // The rest of the piece, on either side of the bracket: same signs at their ends.
        if a.0 > lo {
            piece(f, (lo, f_lo), a, width, depth, out)?;
        }
        if b.0 < hi {
            piece(f, b, (hi, f_hi), width, depth, out)?;
        }
        return Ok(());
    }
    let suspect = worth_searching(f_lo, f_hi);
    let mid = (0.5 * (lo.ln() + hi.ln())).exp();
    if depth == 0 || !suspect || !(lo < mid && mid < hi) {
        return Ok(());
    }
    let f_mid = f(mid)?;
    if f_mid == 0.0 {
        out.push(SignChange { beta: mid, f_lo: 0.0, f_hi: 0.0 });
    }
    piece(f, (lo, f_lo), (mid, f_mid), width, depth - 1, out)?;
    piece(f, (mid, f_mid), (hi, f_hi), width, depth - 1, out)
}
