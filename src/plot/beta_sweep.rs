//! The Fig. 1 plot for any model: certainty equivalents and posterior dynamics against β.
//!
//! Left panel: `β·Q*_β(s,a)` for every action a at one state s, β on a log axis. Right panel:
//! the posterior dynamics `q_β(s'|s,a)` (Eq. 4) of every action whose real dynamics from s are
//! random. In both, the β range is shaded by the greedy action: green where it is the action
//! that is greedy at the largest β (the risk-neutral choice), red elsewhere (a risk-seeking
//! choice), with a vertical line and label at each exact switch.
//!
//! # Formula
//!
//! ```text
//! β·Q*_β(s,a)   certainty equivalent in reward units            (Eq. 15, Lemma 4.1)
//! q_β(s'|s,a) = P(s'|s,a)·exp V*_β(s') / Σ_{s''} P(s''|s,a)·exp V*_β(s'')     (Eq. 4)
//! ```

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{DrawResult, Figure, PALETTE, RISKY, SAFE, font};
use crate::error::Result;
use crate::mdp::TabularMdp;
use crate::sweep::Sweep;

/// A panel with β on a log axis.
type LogBetaChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<LogCoord<f64>, RangedCoordf64>>;

/// Most posterior curves drawn (the first ones, by action then next state).
pub const MAX_POSTERIOR_CURVES: usize = 8;

struct SweepFigure<'a> {
    mdp: &'a TabularMdp,
    sweep: &'a Sweep,
}

/// Draw the Fig. 1-style plot of `sweep` (computed on `mdp`) to `path` (`.png` or `.svg`).
///
/// # Errors
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for another extension or a sweep
/// with fewer than two points; [`Error::Io`](crate::Error::Io) if the file cannot be written
/// (nothing is left behind); [`Error::Plot`](crate::Error::Plot) if drawing fails.
///
/// # Examples
/// ```no_run
/// use riskmdp::{SolveOptions, envs::risky_arm, plot::beta_sweep, sweep::sweep};
/// let mdp = risky_arm();
/// let grid = riskmdp::dual::log_grid(0.1, 100.0, 61)?;
/// let result = sweep(&mdp, 0, &grid, SolveOptions::default())?;
/// beta_sweep::save(&mdp, &result, "fig1.png".as_ref())?;
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn save(mdp: &TabularMdp, sweep: &Sweep, path: &Path) -> Result<()> {
    if sweep.points.len() < 2 {
        return Err(crate::Error::InvalidParameter {
            name: "points".into(),
            message: "a plot needs at least two β values".into(),
        });
    }
    super::save(&SweepFigure { mdp, sweep }, path)
}

/// The greedy action on each stretch of β: `(from, to, action)`, covering the sweep's range.
fn greedy_regions(sweep: &Sweep) -> Vec<(f64, f64, usize)> {
    let (first, last) = (&sweep.points[0], &sweep.points[sweep.points.len() - 1]);
    let mut regions = Vec::new();
    let (mut from, mut action) = (first.beta, first.greedy);
    for sw in &sweep.switches {
        regions.push((from, sw.beta, action));
        (from, action) = (sw.beta, sw.to);
    }
    regions.push((from, last.beta, action));
    regions
}

/// Pairs (action, next state) whose posterior is worth a curve: rows with more than one
/// possible next state.
fn posterior_curves(mdp: &TabularMdp, state: usize) -> Vec<(usize, usize)> {
    (0..mdp.n_actions())
        .flat_map(|a| {
            let row = mdp.transition_row(state, a);
            let support: Vec<usize> = (0..mdp.n_states()).filter(|&j| row[j] > 0.0).collect();
            let random = support.len() > 1;
            support.into_iter().filter(move |_| random).map(move |j| (a, j))
        })
        .take(MAX_POSTERIOR_CURVES)
        .collect()
}

impl SweepFigure<'_> {
    fn beta_range(&self) -> (f64, f64) {
        (self.sweep.points[0].beta, self.sweep.points[self.sweep.points.len() - 1].beta)
    }

    /// A panel with β on a log axis over the sweep's range and `y` on the vertical axis.
    fn panel<'b, DB: DrawingBackend>(
        &self,
        area: &'b DrawingArea<DB, Shift>,
        caption: &str,
        y: (f64, f64),
        y_desc: &str,
    ) -> std::result::Result<LogBetaChart<'b, DB>, Box<dyn std::error::Error>>
    where
        DB::ErrorType: 'static,
    {
        let (b0, b1) = self.beta_range();
        let mut chart = ChartBuilder::on(area)
            .caption(caption, font(22.0))
            .margin(12)
            .margin_right(34)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((b0..b1).log_scale(), y.0..y.1)?;
        chart
            .configure_mesh()
            .x_desc("β (log scale)")
            .y_desc(y_desc)
            .x_label_formatter(&|b| format!("{b}"))
            .label_style(font(15.0))
            .axis_desc_style(font(17.0))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        Ok(chart)
    }

    /// Shade the regions, mark the switches; `y` is the panel's value range.
    fn shade<DB: DrawingBackend>(
        &self,
        chart: &mut LogBetaChart<'_, DB>,
        y: (f64, f64),
        with_labels: bool,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let actions = self.mdp.action_names();
        let neutral = self.sweep.points[self.sweep.points.len() - 1].greedy;
        let mut labelled = [false, false];
        for (lo, hi, a) in greedy_regions(self.sweep) {
            let (colour, kind, k) = if a == neutral { (SAFE, "risk-neutral", 0) } else { (RISKY, "risk-seeking", 1) };
            let series = chart
                .draw_series(std::iter::once(Rectangle::new([(lo, y.0), (hi, y.1)], colour.mix(0.15).filled())))?;
            if with_labels && !labelled[k] {
                labelled[k] = true;
                series
                    .label(format!("greedy `{}` ({kind})", actions[a]))
                    .legend(move |(x, yy)| Rectangle::new([(x, yy - 6), (x + 18, yy + 6)], colour.mix(0.3).filled()));
            }
        }
        for sw in &self.sweep.switches {
            chart.draw_series(DashedLineSeries::new([(sw.beta, y.0), (sw.beta, y.1)], 6, 4, BLACK.stroke_width(1)))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("β = {:.4}", sw.beta),
                (sw.beta * 1.08, y.0 + 0.04 * (y.1 - y.0)),
                font(15.0),
            )))?;
        }
        Ok(())
    }

    fn left<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let state = self.sweep.state;
        let ce = |p: &crate::sweep::SweepPoint, a: usize| p.certainty_equivalent[a];
        let values = self.sweep.points.iter().flat_map(|p| p.certainty_equivalent.iter().copied());
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
        let pad = 0.08 * (hi - lo).max(1e-9);
        let y = (lo - pad, hi + pad);
        let caption = format!("Certainty equivalents at state `{}`", self.mdp.state_names()[state]);
        let mut chart = self.panel(area, &caption, y, "β·Q*(s, a)  [reward units]")?;
        self.shade(&mut chart, y, true)?;
        for a in 0..self.mdp.n_actions() {
            let colour = PALETTE[a % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    self.sweep.points.iter().map(|p| (p.beta, ce(p, a))),
                    colour.stroke_width(3),
                ))?
                .label(format!("β·Q*({}, {})", self.mdp.state_names()[state], self.mdp.action_names()[a]))
                .legend(move |(x, yy)| PathElement::new([(x, yy), (x + 18, yy)], colour.stroke_width(3)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(font(15.0))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()?;
        Ok(())
    }

    fn right<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let state = self.sweep.state;
        let (b0, b1) = self.beta_range();
        let y = (-0.02, 1.02);
        let caption = format!("Posterior dynamics at state `{}`", self.mdp.state_names()[state]);
        let mut chart = self.panel(area, &caption, y, "posterior probability q(s' | s, a)")?;
        self.shade(&mut chart, y, false)?;
        let curves = posterior_curves(self.mdp, state);
        if curves.is_empty() {
            chart.draw_series(std::iter::once(Text::new(
                "every action is deterministic here",
                (b0 * (b1 / b0).powf(0.2), 0.5),
                font(18.0),
            )))?;
        }
        let (names, actions) = (self.mdp.state_names(), self.mdp.action_names());
        for (k, &(a, j)) in curves.iter().enumerate() {
            let colour = PALETTE[k % PALETTE.len()];
            let p = self.mdp.transition_row(state, a)[j];
            chart
                .draw_series(LineSeries::new(
                    self.sweep.points.iter().map(|pt| (pt.beta, pt.posterior_dynamics[a][j])),
                    colour.stroke_width(3),
                ))?
                .label(format!("q({} | {}, {})   (real P = {p:.3})", names[j], names[state], actions[a]))
                .legend(move |(x, yy)| PathElement::new([(x, yy), (x + 18, yy)], colour.stroke_width(3)));
        }
        if !curves.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::MiddleRight)
                .label_font(font(15.0))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .draw()?;
        }
        Ok(())
    }
}

impl Figure for SweepFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (1500, 620)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let root = root.titled(
            &format!(
                "{}: the optimum against the risk parameter β (small β: optimistic, large β: risk-neutral)",
                self.mdp.name()
            ),
            font(24.0),
        )?;
        let (left, right) = root.split_horizontally(750);
        self.left(&left)?;
        self.right(&right)?;
        Ok(())
    }
}
