//! Line charts side by side: learning curves (Figs. 3 and 6), β against episodes, final values
//! against ε. Each panel has its own axes (linear or log), any number of series with an
//! optional band (e.g. mean ± std over seeds), and horizontal reference lines (e.g. the exact
//! optimum V*).
//!
//! # Examples
//! ```no_run
//! use riskmdp::plot::curves::{Panel, Series, save};
//! let panel = Panel {
//!     title: "return".into(),
//!     x_label: "episode".into(),
//!     y_label: "return".into(),
//!     series: vec![Series::line("Q-learning", vec![0.0, 10.0, 20.0], vec![0.0, 0.5, 0.8])],
//!     ..Panel::default()
//! };
//! save(&[panel], "learning curves", "curves.svg".as_ref())?;
//! # Ok::<(), riskmdp::Error>(())
//! ```

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use super::{DrawResult, Figure, PALETTE, font};
use crate::error::{Error, Result};

/// Width and height of one panel, in pixels.
const PANEL_SIZE: (u32, u32) = (620, 470);
/// Height of the figure's title band, in pixels.
const TITLE_HEIGHT: u32 = 44;

/// One curve, drawn in colour `PALETTE[colour % 6]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Legend entry (empty: none).
    pub label: String,
    /// Horizontal positions.
    pub x: Vec<f64>,
    /// Values at `x`.
    pub y: Vec<f64>,
    /// A shaded band `(lower, upper)` at `x` (e.g. mean ∓ std), if any.
    pub band: Option<(Vec<f64>, Vec<f64>)>,
    /// Index into the palette.
    pub colour: usize,
    /// Dashed instead of solid.
    pub dashed: bool,
}

impl Series {
    /// A solid line in the first colour, without a band.
    #[must_use]
    pub fn line(label: &str, x: Vec<f64>, y: Vec<f64>) -> Self {
        Series { label: label.into(), x, y, ..Series::default() }
    }
}

/// Where a panel's legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Corner {
    /// Top left.
    UpperLeft,
    /// Top right.
    UpperRight,
    /// Bottom left.
    LowerLeft,
    /// Bottom right.
    #[default]
    LowerRight,
}

/// One chart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Panel {
    /// Caption above the chart.
    pub title: String,
    /// Horizontal axis description.
    pub x_label: String,
    /// Vertical axis description.
    pub y_label: String,
    /// Log scale on the horizontal axis (every x must be > 0).
    pub log_x: bool,
    /// Log scale on the vertical axis (values ≤ 0 are left out).
    pub log_y: bool,
    /// The curves.
    pub series: Vec<Series>,
    /// Horizontal dashed grey lines `(legend label, y)`.
    pub references: Vec<(String, f64)>,
    /// Where the legend goes.
    pub legend: Corner,
}

/// Draw `panels` side by side under `title` to `path` (`.png` or `.svg`).
///
/// # Errors
/// [`Error::InvalidParameter`] for no panel, a series whose `x`, `y` and band lengths differ, a
/// panel without a finite point (or, on a log axis, without a positive one), or a path with
/// another extension; [`Error::Io`] if the file cannot be written (nothing
/// is left behind); [`Error::Plot`] if drawing fails.
pub fn save(panels: &[Panel], title: &str, path: &Path) -> Result<()> {
    let bad = |message: String| Err(Error::InvalidParameter { name: "plot".into(), message });
    if panels.is_empty() {
        return bad("a figure needs at least one panel".into());
    }
    let mut ranges = Vec::with_capacity(panels.len());
    for panel in panels {
        for s in &panel.series {
            let band_ok = s.band.as_ref().is_none_or(|(lo, hi)| lo.len() == s.x.len() && hi.len() == s.x.len());
            if s.x.len() != s.y.len() || !band_ok {
                return bad(format!("panel `{}`, series `{}`: x, y and band lengths differ", panel.title, s.label));
            }
        }
        match panel_ranges(panel) {
            Some(r) => ranges.push(r),
            None => return bad(format!("panel `{}` has no point to draw", panel.title)),
        }
    }
    super::save(&CurvesFigure { panels, ranges, title }, path)
}

/// `((x_lo, x_hi), (y_lo, y_hi))` covering every drawable point, band and reference line, with
/// a margin; `None` if there is nothing to draw.
type Ranges = ((f64, f64), (f64, f64));

fn panel_ranges(panel: &Panel) -> Option<Ranges> {
    let usable = |v: f64, log: bool| v.is_finite() && (!log || v > 0.0);
    let span = |values: &mut dyn Iterator<Item = f64>, log: bool| -> Option<(f64, f64)> {
        let (lo, hi) = values
            .filter(|&v| usable(v, log))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        (lo <= hi).then_some((lo, hi))
    };
    let xs = &mut panel.series.iter().flat_map(|s| s.x.iter().copied());
    let (x0, x1) = span(xs, panel.log_x)?;
    let ys = &mut panel.series.iter().flat_map(|s| {
        let band = s.band.iter().flat_map(|(lo, hi)| lo.iter().chain(hi.iter()).copied());
        s.y.iter().copied().chain(band)
    });
    let refs = &mut panel.references.iter().map(|r| r.1);
    let (y0, y1) = span(&mut ys.chain(refs), panel.log_y)?;
    // A log axis gets a margin so that its end ticks (e.g. 0.001) are drawn.
    let x_margin = if panel.log_x { 0.03 } else { 0.0 };
    Some((pad(x0, x1, panel.log_x, x_margin), pad(y0, y1, panel.log_y, 0.06)))
}

/// Widen `[lo, hi]` by `margin` of its length (in log space on a log axis); a single value gets
/// a unit-sized range around it.
fn pad(lo: f64, hi: f64, log: bool, margin: f64) -> (f64, f64) {
    if log {
        let (a, b) = pad(lo.log10(), hi.log10(), false, margin);
        return (10f64.powf(a), 10f64.powf(b));
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        return (lo - 1.0, hi + 1.0);
    }
    let m = margin * (hi - lo);
    (lo - m, hi + m)
}

struct CurvesFigure<'a> {
    panels: &'a [Panel],
    ranges: Vec<Ranges>,
    title: &'a str,
}

impl Figure for CurvesFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (PANEL_SIZE.0 * self.panels.len() as u32, PANEL_SIZE.1 + TITLE_HEIGHT)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (head, body) = root.split_vertically(TITLE_HEIGHT);
        head.titled(self.title, font(24.0))?;
        let areas = body.split_evenly((1, self.panels.len()));
        for ((panel, &((x0, x1), (y0, y1))), area) in self.panels.iter().zip(&self.ranges).zip(&areas) {
            match (panel.log_x, panel.log_y) {
                (false, false) => draw_panel(area, panel, x0..x1, y0..y1)?,
                (false, true) => draw_panel(area, panel, x0..x1, (y0..y1).log_scale())?,
                (true, false) => draw_panel(area, panel, (x0..x1).log_scale(), y0..y1)?,
                (true, true) => draw_panel(area, panel, (x0..x1).log_scale(), (y0..y1).log_scale())?,
            }
        }
        Ok(())
    }
}

/// Short tick labels: `0.001`, `20`, `1e5`; a rounding residue such as −1.1e−16 is `0`.
fn tick(v: &f64) -> String {
    let a = v.abs();
    if a < 1e-12 {
        return "0".into();
    }
    if (1e-3..1e5).contains(&a) {
        return format!("{}", (v * 1e6).round() / 1e6);
    }
    // Six significant digits at most: a log axis's 1e-4 may arrive as 9.999999999999999e-5.
    let text = format!("{v:.5e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let mantissa = if mantissa.contains('.') { mantissa.trim_end_matches('0').trim_end_matches('.') } else { mantissa };
    format!("{mantissa}e{exponent}")
}

fn draw_panel<DB, X, Y>(area: &DrawingArea<DB, Shift>, panel: &Panel, x: X, y: Y) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, font(19.0))
        .margin(10)
        .margin_right(24)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style(font(14.0))
        .axis_desc_style(font(16.0))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let keep = |v: f64, log: bool| v.is_finite() && (!log || v > 0.0);
    let (x_range, y_range) = (chart.x_range(), chart.y_range());
    let y_floor = y_range.start;
    for (label, value) in &panel.references {
        let style = ShapeStyle::from(&BLACK.mix(0.55)).stroke_width(2);
        let ends = [(x_range.start, *value), (x_range.end, *value)];
        let drawn = chart.draw_series(DashedLineSeries::new(ends, 6, 5, style))?;
        if !label.is_empty() {
            drawn.label(label.as_str()).legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
        }
    }
    for s in &panel.series {
        let colour = PALETTE[s.colour % PALETTE.len()];
        if let Some((lo, hi)) = &s.band {
            // Upper edge left to right, lower edge back; a value off a log axis sits on its floor.
            let upper = s.x.iter().zip(hi).filter(|(x, h)| keep(**x, panel.log_x) && h.is_finite());
            let lower = s.x.iter().zip(lo).filter(|(x, l)| keep(**x, panel.log_x) && l.is_finite()).rev();
            let floor = |v: f64| if panel.log_y && v <= 0.0 { y_floor } else { v };
            let outline: Vec<(f64, f64)> = upper.chain(lower).map(|(&x, &v)| (x, floor(v))).collect();
            chart.draw_series(std::iter::once(Polygon::new(outline, colour.mix(0.18).filled())))?;
        }
        let points: Vec<(f64, f64)> =
            s.x.iter()
                .zip(&s.y)
                .filter(|(x, y)| keep(**x, panel.log_x) && keep(**y, panel.log_y))
                .map(|(&x, &y)| (x, y))
                .collect();
        let style = ShapeStyle::from(&colour).stroke_width(2);
        let drawn = if s.dashed {
            chart.draw_series(DashedLineSeries::new(points, 8, 5, style))?
        } else {
            chart.draw_series(LineSeries::new(points, style))?
        };
        if !s.label.is_empty() {
            let dashed = s.dashed;
            drawn.label(s.label.as_str()).legend(move |(x, y)| {
                let end = if dashed { x + 9 } else { x + 20 };
                PathElement::new([(x, y), (end, y)], style)
            });
        }
    }
    let position = match panel.legend {
        Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
        Corner::UpperRight => SeriesLabelPosition::UpperRight,
        Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
        Corner::LowerRight => SeriesLabelPosition::LowerRight,
    };
    chart
        .configure_series_labels()
        .position(position)
        .label_font(font(13.0))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel(log_y: bool, y: Vec<f64>) -> Panel {
        Panel { log_y, series: vec![Series::line("a", vec![1.0, 2.0, 3.0], y)], ..Panel::default() }
    }

    #[test]
    fn ranges_cover_the_points_with_a_margin_and_skip_what_a_log_axis_cannot_show() {
        let ((x0, x1), (y0, y1)) = panel_ranges(&panel(false, vec![0.0, 5.0, 10.0])).expect("points");
        assert_eq!((x0.to_bits(), x1.to_bits()), (1f64.to_bits(), 3f64.to_bits()));
        assert!((y0 + 0.6).abs() < 1e-12 && (y1 - 10.6).abs() < 1e-12, "{y0} {y1}");
        // On a log axis the 0 is left out: the range is [1, 100] widened by 6 % of 2 decades.
        let (_, (y0, y1)) = panel_ranges(&panel(true, vec![0.0, 1.0, 100.0])).expect("points");
        assert!((y0.log10() + 0.12).abs() < 1e-12 && (y1.log10() - 2.12).abs() < 1e-12, "{y0} {y1}");
        assert!(panel_ranges(&panel(true, vec![0.0, -1.0, f64::NAN])).is_none());
    }

    #[test]
    fn tick_labels_are_short() {
        let labels: Vec<String> =
            [0.001, 20.0, 1e5, 9.999_999_999_999_999e-5, 1.25e-7, -3e9, 1e-13].iter().map(tick).collect();
        assert_eq!(labels, ["0.001", "20", "1e5", "1e-4", "1.25e-7", "-3e9", "0"]);
    }

    #[test]
    fn bad_figures_are_refused_before_any_file_is_written() {
        let dir = std::env::temp_dir().join(format!("riskmdp-curves-{}", std::process::id()));
        let path = dir.join("never.svg");
        assert!(save(&[], "t", &path).is_err());
        let mut ragged = panel(false, vec![1.0, 2.0]);
        assert!(save(std::slice::from_ref(&ragged), "t", &path).is_err());
        ragged.series[0].y.push(3.0);
        ragged.series[0].band = Some((vec![0.0], vec![1.0]));
        assert!(save(&[ragged], "t", &path).is_err());
        assert!(!path.exists());
    }

    #[test]
    fn every_axis_combination_draws_to_svg() {
        let dir = std::env::temp_dir().join(format!("riskmdp-curves-ok-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut panels = Vec::new();
        for (log_x, log_y) in [(false, false), (false, true), (true, false), (true, true)] {
            let mut p = panel(log_y, vec![1.0, 10.0, 100.0]);
            p.log_x = log_x;
            p.series[0].band = Some((vec![0.5, 5.0, 50.0], vec![2.0, 20.0, 200.0]));
            p.series.push(Series { dashed: true, colour: 1, ..Series::line("b", vec![1.0, 3.0], vec![3.0, 30.0]) });
            p.references.push(("ref".into(), 7.0));
            panels.push(p);
        }
        let path = dir.join("all.svg");
        save(&panels, "axes", &path).expect("drawn");
        let svg = std::fs::read_to_string(&path).expect("written");
        assert!(svg.contains("<svg") && svg.contains("ref"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
