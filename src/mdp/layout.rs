//! Where things are in a grid model: the cells by role ([`GridLayout`]).
//!
//! Read off the model alone (no drawing): the figures of [`crate::plot::gridworld`] and the
//! course page (web/) both use it; the greedy path through the cells is
//! [`greedy_path`](crate::policy::greedy_path).

use crate::error::{Error, Result};
use crate::mdp::TabularMdp;

/// Largest grid drawn (cells); one arrow set per cell stops being readable well before this.
pub const MAX_DRAWN_CELLS: usize = 2_500;

/// The cells of a grid model, by role (states `cols·row + col`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GridLayout {
    /// Rows (drawn top to bottom).
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// The start cell, if the initial distribution is a point mass on a cell.
    pub start: Option<usize>,
    /// Goal cells.
    pub goals: Vec<usize>,
    /// Wall cells.
    pub walls: Vec<usize>,
    /// Hazard cells (e.g. a cliff).
    pub hazards: Vec<usize>,
}

impl GridLayout {
    /// Read the layout off a model that declares a grid.
    ///
    /// * start: the initial state, if ρ is a point mass on a cell;
    /// * walls: cells other than the start that no other state can move into;
    /// * with `r(s) = max_a r(s,a)` and `r₀` its most common value over the other cells:
    ///   hazards are the cells with `r(s) < r₀`, goals those with `r(s) > r₀` and the terminal
    ///   cells.
    ///
    /// # Errors
    /// [`Error::Unsupported`] if the model declares no grid shape.
    pub fn infer(mdp: &TabularMdp) -> Result<Self> {
        let grid = mdp.grid().ok_or_else(|| Error::Unsupported {
            what: format!(
                "plot: the model `{}` declares no grid shape, so it cannot be drawn as a gridworld; \
                 add \"grid\": {{\"rows\": R, \"cols\": C}} to the MDP file (the first R·C states are the cells)",
                mdp.name()
            ),
        })?;
        let cells = grid.rows * grid.cols;
        if cells > MAX_DRAWN_CELLS {
            return Err(Error::InvalidParameter {
                name: "plot".into(),
                message: format!(
                    "a {}×{} grid has too many cells to draw ({cells}; at most {MAX_DRAWN_CELLS})",
                    grid.rows, grid.cols
                ),
            });
        }
        let start = mdp.initial_state().filter(|&s| s < cells);
        let p = mdp.transitions();
        let entered = |s: usize| {
            (0..mdp.n_states())
                .filter(|&from| from != s && !mdp.is_terminal(from))
                .any(|from| (0..mdp.n_actions()).any(|a| p[[from, a, s]] > 0.0))
        };
        let walls: Vec<usize> = (0..cells).filter(|&s| Some(s) != start && !entered(s)).collect();
        let reward = |s: usize| mdp.rewards().row(s).iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let open: Vec<usize> = (0..cells).filter(|s| !walls.contains(s)).collect();
        // The most common reward (exact values: a gridworld repeats one step reward).
        let mut counts: Vec<(f64, usize)> = Vec::new();
        for &s in &open {
            let r = reward(s);
            match counts.iter_mut().find(|(v, _)| v.to_bits() == r.to_bits()) {
                Some((_, n)) => *n += 1,
                None => counts.push((r, 1)),
            }
        }
        let typical = counts.iter().max_by_key(|(_, n)| *n).map_or(0.0, |&(v, _)| v);
        let hazards = open.iter().copied().filter(|&s| reward(s) < typical).collect();
        let goals = open.iter().copied().filter(|&s| reward(s) > typical || mdp.is_terminal(s)).collect();
        Ok(GridLayout { rows: grid.rows, cols: grid.cols, start, goals, walls, hazards })
    }

    /// Whether two cells share an edge.
    pub fn adjacent(&self, s: usize, t: usize) -> bool {
        let (a, b) = ((s / self.cols, s % self.cols), (t / self.cols, t % self.cols));
        a.0.abs_diff(b.0) + a.1.abs_diff(b.1) == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::Gridworld;

    #[test]
    fn layout_is_read_off_the_cliff_model() {
        let world = Gridworld::cliff();
        let layout = GridLayout::infer(&world.build().expect("valid")).expect("has a grid");
        let states = |cells: &[(usize, usize)]| {
            let mut v: Vec<usize> = cells.iter().map(|&c| world.state(c)).collect();
            v.sort_unstable();
            v
        };
        assert_eq!(layout.start, Some(world.state(world.start)));
        assert_eq!(layout.goals, vec![world.state(world.goal)]);
        assert_eq!(layout.walls, states(&world.walls));
        assert_eq!(layout.hazards, states(&world.cliff));
        let mnm = GridLayout::infer(&Gridworld::mnm().build().expect("valid")).expect("has a grid");
        assert!(mnm.hazards.is_empty());
        assert_eq!(mnm.goals, vec![world.state(world.goal)]);
    }
}
