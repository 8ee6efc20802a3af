//! The Fig. 2 plot for any model that declares a grid: dynamics as arrows, greedy paths.
//!
//! Each panel draws the grid (walls grey, hazards such as cliff cells red, start `S`, goal
//! `G`), one distribution over next states per cell as arrows — an arrow toward each
//! neighbouring cell with length ∝ its probability, a circle with area ∝ the probability of
//! staying put — and optionally a path through cell centres.
//!
//! # Formula
//!
//! ```text
//! real dynamics       P(s'|s,a)
//! posterior dynamics  q_β(s'|s,a) = P(s'|s,a)·exp V*_β(s') / Σ_{s''} P(s''|s,a)·exp V*_β(s'')   (Eq. 4)
//! greedy path         s_0 = start,  s_{k+1} = argmax_{s'} P(s'|s_k, a*(s_k)),  a*(s) = argmax_a Q*_β(s,a)
//! ```

use std::path::Path;

use ndarray::Array3;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, Figure, Format, RISKY, SAFE, font};
use crate::error::{Error, Result};
use crate::mdp::TabularMdp;
use crate::operators::posterior_dynamics;
use crate::solve::{Solution, greedy_actions};

// The layout needs no drawing; it lives with the model (the course page uses it).
pub use crate::mdp::layout::{GridLayout, MAX_DRAWN_CELLS};

/// How a panel's path is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathStyle {
    /// Red: the risky path (small β).
    Risky,
    /// Green: the safe path (large β).
    Safe,
    /// Blue: a path with no judgement attached.
    Plain,
}

/// One panel: a title, a distribution over next states per cell (`None`: no arrows), a path.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Title above the grid.
    pub title: String,
    /// For each cell state s, the distribution over all S next states to draw, or `None`.
    pub arrows: Vec<Option<Vec<f64>>>,
    /// Cells of a path, in order (may be empty).
    pub path: Vec<usize>,
    /// Colour of the path.
    pub path_style: PathStyle,
    /// Legend text for the path.
    pub path_label: String,
}

/// For each cell, the row `probs[s, actions[s], ·]` (`None` at terminal states).
///
/// `probs` is an (S, A, S) tensor: the real dynamics [`TabularMdp::transitions`] or a posterior
/// from [`crate::operators::posterior_dynamics`].
pub fn arrows_of(
    mdp: &TabularMdp,
    probs: &Array3<f64>,
    actions: &[usize],
    layout: &GridLayout,
) -> Vec<Option<Vec<f64>>> {
    (0..layout.rows * layout.cols)
        .map(|s| (!mdp.is_terminal(s)).then(|| (0..probs.dim().2).map(|j| probs[[s, actions[s], j]]).collect()))
        .collect()
}

pub use crate::policy::greedy_path;

/// Draw a solution of a grid model (`riskmdp solve FILE --beta B --plot OUT`): two panels with
/// the greedy action a*(s) = argmax_a Q(s,a) in every cell (at t = 0 with a horizon) — its real
/// dynamics P(s'|s,a*) and its posterior dynamics q_β(s'|s,a*) (Eq. 4) — and the greedy path
/// from the start.
///
/// # Errors
/// [`Error::Unsupported`] if the model declares no grid; those of [`save`].
pub fn save_solution(mdp: &TabularMdp, solution: &Solution, path: &Path) -> Result<()> {
    let layout = GridLayout::infer(mdp)?;
    Format::from_path(path)?;
    let greedy = greedy_actions(mdp, solution.q0().view());
    // The tilt uses V at the next step: V_1 with a horizon, V itself otherwise.
    let v_next = match solution {
        Solution::Stationary(s) => s.v.clone(),
        Solution::FiniteHorizon(s) => s.v.row(1.min(s.v.nrows() - 1)).to_owned(),
    };
    let post = posterior_dynamics(mdp, v_next.view());
    let cells = layout.rows * layout.cols;
    let route = layout.start.map(|s| greedy_path(mdp, &greedy, s, cells)).unwrap_or_default();
    let panel = |title: &str, probs: &Array3<f64>| Panel {
        title: title.to_string(),
        arrows: arrows_of(mdp, probs, &greedy, &layout),
        path: route.clone(),
        path_style: PathStyle::Plain,
        path_label: "greedy path (most likely moves)".into(),
    };
    let panels = [
        panel("Greedy action a*: real dynamics P(s' | s, a*)", &mdp.transitions()),
        panel("Greedy action a*: posterior q(s' | s, a*)", &post),
    ];
    let title = format!("{}: the optimum at β = {}", mdp.name(), solution.beta());
    save(&layout, &panels, &title, path)
}

struct GridFigure<'a> {
    layout: &'a GridLayout,
    panels: &'a [Panel],
    title: &'a str,
}

/// Draw panels side by side to `path` (`.png` or `.svg`).
///
/// # Errors
/// [`Error::InvalidParameter`] for another extension or no panel; [`Error::Io`] if the file
/// cannot be written (nothing is left behind); [`Error::Plot`] if drawing fails.
pub fn save(layout: &GridLayout, panels: &[Panel], title: &str, path: &Path) -> Result<()> {
    if panels.is_empty() {
        return Err(Error::InvalidParameter { name: "panels".into(), message: "nothing to draw".into() });
    }
    super::save(&GridFigure { layout, panels, title }, path)
}

/// The centre of cell `s` in plot coordinates: x = column + ½, y counted from the bottom.
fn centre(l: &GridLayout, s: usize) -> (f64, f64) {
    let (r, c) = (s / l.cols, s % l.cols);
    (c as f64 + 0.5, (l.rows - r) as f64 - 0.5)
}

const PANEL_WIDTH: u32 = 560;
const ARROW: RGBColor = RGBColor(30, 50, 110);
const WALL: RGBColor = RGBColor(90, 90, 90);
const START: RGBColor = RGBColor(160, 200, 240);
const PATH_PLAIN: RGBColor = RGBColor(31, 119, 180);

impl GridFigure<'_> {
    fn panel<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, panel: &Panel) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let l = self.layout;
        let (rows, cols) = (l.rows as f64, l.cols as f64);
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, font(19.0))
            .margin(14)
            .build_cartesian_2d(0.0..cols, 0.0..rows)?;
        let (w_px, _) = chart.plotting_area().dim_in_pixel();
        let cell_px = f64::from(w_px) / cols;
        for s in 0..l.rows * l.cols {
            let (x, y) = centre(l, s);
            let fill = if l.walls.contains(&s) {
                WALL.to_rgba()
            } else if l.hazards.contains(&s) {
                RISKY.mix(0.55)
            } else if l.goals.contains(&s) {
                SAFE.mix(0.45)
            } else if l.start == Some(s) {
                START.to_rgba()
            } else {
                WHITE.to_rgba()
            };
            chart.draw_series([
                Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], fill.filled()),
                Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], BLACK.mix(0.15).stroke_width(1)),
            ])?;
        }
        let label = |s: usize, text: &'static str| {
            let (x, y) = centre(l, s);
            Text::new(text, (x - 0.12, y + 0.46), font(14.0).color(&BLACK))
        };
        chart.draw_series(l.start.map(|s| label(s, "S")))?;
        chart.draw_series(l.goals.iter().map(|&s| label(s, "G")))?;
        chart.draw_series(l.hazards.iter().map(|&s| label(s, "X")))?;
        for (s, row) in panel.arrows.iter().enumerate() {
            let Some(row) = row else { continue };
            if l.walls.contains(&s) {
                continue;
            }
            let (x, y) = centre(l, s);
            for (t, &p) in row.iter().enumerate().take(l.rows * l.cols) {
                if p < 0.01 || !l.adjacent(s, t) {
                    continue;
                }
                let (tx, ty) = centre(l, t);
                let (dx, dy) = ((tx - x) * 0.48 * p, (ty - y) * 0.48 * p);
                let tip = (x + dx, y + dy);
                let h = 0.13_f64.min(0.6 * (dx.abs() + dy.abs()));
                let (ux, uy) = (tx - x, ty - y); // a unit step
                let head = [
                    tip,
                    (tip.0 - ux * h - uy * h * 0.5, tip.1 - uy * h + ux * h * 0.5),
                    (tip.0 - ux * h + uy * h * 0.5, tip.1 - uy * h - ux * h * 0.5),
                ];
                chart.draw_series([PathElement::new([(x, y), tip], ARROW.stroke_width(2))])?;
                chart.draw_series([Polygon::new(head, ARROW.filled())])?;
            }
            let stay = row[s];
            if stay >= 0.01 {
                let radius = (stay.sqrt() * 0.22 * cell_px).round() as i32;
                chart.draw_series([Circle::new((x, y), radius.max(1), ARROW.stroke_width(1))])?;
            }
        }
        if panel.path.len() > 1 {
            let colour = match panel.path_style {
                PathStyle::Risky => RISKY,
                PathStyle::Safe => SAFE,
                PathStyle::Plain => PATH_PLAIN,
            };
            chart
                .draw_series([PathElement::new(
                    panel.path.iter().map(|&s| centre(l, s)).collect::<Vec<_>>(),
                    colour.stroke_width(5),
                )])?
                .label(panel.path_label.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 22, y)], colour.stroke_width(5)));
            chart.draw_series(panel.path.iter().map(|&s| Circle::new(centre(l, s), 5, colour.filled())))?;
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperMiddle)
                .label_font(font(15.0))
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK.mix(0.4))
                .draw()?;
        }
        Ok(())
    }
}

impl Figure for GridFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let n = u32::try_from(self.panels.len()).unwrap_or(u32::MAX / PANEL_WIDTH);
        let aspect = self.layout.rows as f64 / self.layout.cols as f64;
        let grid_px = (f64::from(PANEL_WIDTH - 28) * aspect).round() as u32;
        (PANEL_WIDTH * n, grid_px + 150)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (_, h) = root.dim_in_pixel();
        let root = root.titled(self.title, font(22.0))?;
        let (body, footer) = root.split_vertically(h - 70);
        footer.draw(&Text::new(
            "Arrows: probability of moving to each neighbouring cell (length ∝ probability); circle: probability \
             of staying put (area ∝ probability).",
            (16, 4),
            font(15.0),
        ))?;
        footer.draw(&Text::new(
            "S start · G goal · X hazard (cliff: penalty, back to start) · grey wall.",
            (16, 24),
            font(15.0),
        ))?;
        for (area, panel) in body.split_evenly((1, self.panels.len())).iter().zip(self.panels) {
            self.panel(area, panel)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::{Gridworld, risky_arm};
    use crate::{Beta, Method, SolveOptions, solve_optimal};

    fn solve(mdp: &TabularMdp, beta: f64) -> Solution {
        solve_optimal(mdp, Beta::new(beta).expect("β"), Method::ValueIteration, SolveOptions::default())
            .expect("solves")
    }

    #[test]
    fn a_model_without_grid_cannot_be_drawn_as_a_gridworld() {
        let mdp = risky_arm();
        let out = std::env::temp_dir().join(format!("riskmdp-nogrid-{}.png", std::process::id()));
        assert!(matches!(save_solution(&mdp, &solve(&mdp, 1.0), &out), Err(Error::Unsupported { .. })));
        assert!(!out.exists());
    }

    #[test]
    fn an_unwritable_path_is_an_io_error_and_leaves_nothing() {
        let mdp = Gridworld::cliff().build().expect("valid");
        let dir = std::env::temp_dir().join(format!("riskmdp-missing-{}", std::process::id()));
        let out = dir.join("fig.png");
        assert!(matches!(save_solution(&mdp, &solve(&mdp, 1.0), &out), Err(Error::Io { .. })));
        assert!(!dir.exists());
    }

    #[test]
    fn greedy_path_stops_at_the_goal_of_the_mnm_grid() {
        let world = Gridworld::mnm();
        let mdp = world.build().expect("valid");
        let greedy = greedy_actions(&mdp, solve(&mdp, 1.0).q0().view());
        let path = greedy_path(&mdp, &greedy, 0, 100);
        assert_eq!(path.first(), Some(&0));
        assert_eq!(path.last(), Some(&world.state(world.goal)));
    }
}
