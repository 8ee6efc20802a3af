//! The gridworld of Eysenbach et al. 2022 ("Mismatched No More", MnM) and the paper's cliff
//! variant (Fig. 2).
//!
//! # The plain MnM gridworld ([`Gridworld::mnm`])
//!
//! ```text
//!    col 0 1 2 3 4 5 6 7 8 9
//! row 0  S . . . # # . . . G      S start (0,0), G goal (0,9), # wall (rows 0–5, cols 4–5)
//!     1  . . . . # # . . . .
//!     …
//!     5  . . . . # # . . . .
//!     6  . . . . . . . . . .
//!     …
//!     9  . . . . . . . . . .
//! ```
//!
//! State `cols·row + col`; actions `up, right, down, left`. γ = 0.9. The reward depends on the
//! state only (r(s,a) = reward of the cell s the agent is in): 10 at the goal, 0.001 elsewhere.
//! The goal is not absorbing (the agent can stay on it by bumping the top edge).
//!
//! # The cliff variant ([`Gridworld::cliff`])
//!
//! Cliff cells `X` in row 7, columns 3–6, below the wall: the short way from S to G runs along
//! row 6, between the wall and the cliff; the long safe way goes round the cliff through rows
//! 8–9. Standing on a cliff cell costs `cliff_penalty` and every action returns the agent to
//! the start. The goal is terminal: standing on it pays `goal_reward`, then every action
//! leads to an extra absorbing state `exit` (value 0). Cliff and goal are thus paid as state
//! rewards one step after they are entered, which keeps the reward a function of (s, a) and
//! every risk of the model in its transitions.
//!
//! # Formula (dynamics)
//!
//! ```text
//! P(move d | a) = (1 − noise)·[d = a] + noise/4       d ∈ {up, right, down, left}
//! a move off the grid or into a wall leaves the agent where it is
//! ```
//!
//! With the MnM noise 0.5 the chosen move happens w.p. 0.625 and each other w.p. 0.125. With
//! that much noise a large cliff penalty makes even the risk-neutral optimum give up on the goal,
//! so the cliff variant has its own noise ([`CLIFF_NOISE`]) and penalty ([`CLIFF_PENALTY`]),
//! chosen so that, solved exactly, the greedy path from the start runs along the cliff for small
//! β and round it for large β (see `examples/cliff_gridworld.rs`).

use crate::error::{Error, Result};
use std::collections::HashSet;

use crate::mdp::{GridShape, MdpSpec, TabularMdp};
use crate::transitions::TransitionSpec;

/// Above this many states the builder writes sparse rows.
const SPARSE_ABOVE: usize = 4096;

/// A grid cell `(row, col)`, rows counted from the top.
pub type Cell = (usize, usize);

/// Action names, in index order.
pub const ACTIONS: [&str; 4] = ["up", "right", "down", "left"];
/// Index of the action `right`.
pub const RIGHT: usize = 1;
/// Displacements `(Δrow, Δcol)` of the actions, in index order.
pub const MOVES: [(isize, isize); 4] = [(-1, 0), (0, 1), (1, 0), (0, -1)];

/// Noise of the MnM gridworld: the chosen move w.p. 1 − 0.5 + 0.5/4 = 0.625.
pub const MNM_NOISE: f64 = 0.5;
/// Discount of the MnM gridworld.
pub const MNM_GAMMA: f64 = 0.9;
/// Reward of standing on the goal.
pub const GOAL_REWARD: f64 = 10.0;
/// Reward of standing on any other cell in the MnM gridworld.
pub const MNM_STEP_REWARD: f64 = 0.001;
/// Noise of the cliff variant: the chosen move w.p. 0.7 + 0.3/4 = 0.775.
pub const CLIFF_NOISE: f64 = 0.3;
/// Cost of standing on a cliff cell in the cliff variant.
pub const CLIFF_PENALTY: f64 = 20.0;
/// Reward of standing on an ordinary cell in the cliff variant.
pub const CLIFF_STEP_REWARD: f64 = 0.0;
/// Row of the cliff cells in the cliff variant.
pub const CLIFF_ROW: usize = 7;
/// Columns of the cliff cells in the cliff variant.
pub const CLIFF_COLS: std::ops::RangeInclusive<usize> = 3..=6;

/// A gridworld with walls, an optional cliff and a goal; every constant a named field.
///
/// Build the model with [`Gridworld::build`]; start from [`Gridworld::mnm`] or
/// [`Gridworld::cliff`] and change fields for variants.
#[derive(Debug, Clone, PartialEq)]
pub struct Gridworld {
    /// Number of rows (drawn top to bottom).
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Start cell (all initial mass).
    pub start: Cell,
    /// Goal cell.
    pub goal: Cell,
    /// Wall cells: moves into them leave the agent in place.
    pub walls: Vec<Cell>,
    /// Cliff cells: standing on one costs `cliff_penalty` and sends the agent to `start`.
    pub cliff: Vec<Cell>,
    /// Probability that the move is replaced by a uniformly random one of the four.
    pub noise: f64,
    /// Discount γ.
    pub gamma: f64,
    /// Reward of standing on the goal.
    pub goal_reward: f64,
    /// Reward of standing on any other (non-cliff) cell.
    pub step_reward: f64,
    /// Cost (a positive number) of standing on a cliff cell.
    pub cliff_penalty: f64,
    /// Whether the goal ends the episode (through an extra absorbing `exit` state).
    pub goal_terminal: bool,
}

impl Gridworld {
    /// The MnM gridworld: 10×10, wall rows 0–5 of columns 4–5, start (0,0), goal (0,9) not
    /// absorbing, noise 0.5, γ = 0.9, reward 10 at the goal and 0.001 elsewhere, no cliff.
    #[must_use]
    pub fn mnm() -> Self {
        Gridworld {
            rows: 10,
            cols: 10,
            start: (0, 0),
            goal: (0, 9),
            walls: (0..=5).flat_map(|r| [(r, 4), (r, 5)]).collect(),
            cliff: Vec::new(),
            noise: MNM_NOISE,
            gamma: MNM_GAMMA,
            goal_reward: GOAL_REWARD,
            step_reward: MNM_STEP_REWARD,
            cliff_penalty: 0.0,
            goal_terminal: false,
        }
    }

    /// The cliff variant of Fig. 2: the MnM layout plus cliff cells in row 7, columns 3–6,
    /// penalty 20, noise 0.3, reward 10 at the goal and 0 elsewhere, the goal terminal.
    #[must_use]
    pub fn cliff() -> Self {
        Gridworld {
            cliff: CLIFF_COLS.map(|c| (CLIFF_ROW, c)).collect(),
            noise: CLIFF_NOISE,
            step_reward: CLIFF_STEP_REWARD,
            cliff_penalty: CLIFF_PENALTY,
            goal_terminal: true,
            ..Self::mnm()
        }
    }

    /// A 4×4 cliff world small enough for property tests (the verifier's `gridworld-sweep`):
    /// start bottom left (3,0), goal bottom right (3,3), cliff cells (3,1) and (3,2) between
    /// them, no walls; every ordinary cell costs 1, a cliff cell 20 and sends the agent back to
    /// the start; noise 0.2 (the chosen move w.p. 0.8 + 0.2/4 = 0.85); γ = 0.95; the goal pays 0
    /// and ends the episode.
    ///
    /// ```text
    ///    col 0 1 2 3
    /// row 0  . . . .
    ///     1  . . . .
    ///     2  . . . .
    ///     3  S X X G
    /// ```
    ///
    /// # Examples
    /// ```
    /// use riskmdp::envs::Gridworld;
    /// let mdp = Gridworld::cliff_4x4().build()?;
    /// assert_eq!(mdp.n_states(), 17); // 16 cells and `exit`
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    #[must_use]
    pub fn cliff_4x4() -> Self {
        Gridworld {
            rows: 4,
            cols: 4,
            start: (3, 0),
            goal: (3, 3),
            walls: Vec::new(),
            cliff: vec![(3, 1), (3, 2)],
            noise: 0.2,
            gamma: 0.95,
            goal_reward: 0.0,
            step_reward: -1.0,
            cliff_penalty: 20.0,
            goal_terminal: true,
        }
    }

    /// The state of a cell: `cols·row + col`.
    pub fn state(&self, (row, col): Cell) -> usize {
        self.cols * row + col
    }

    /// The cell of a state `s < rows·cols`.
    pub fn cell(&self, s: usize) -> Cell {
        (s / self.cols, s % self.cols)
    }

    /// Where a move from `cell` in direction `d` (an index into [`MOVES`]) ends up.
    pub fn step(&self, (row, col): Cell, d: usize) -> Cell {
        let (dr, dc) = MOVES[d];
        let (r, c) = (row as isize + dr, col as isize + dc);
        if r < 0 || c < 0 || r >= self.rows as isize || c >= self.cols as isize {
            return (row, col);
        }
        let next = (r as usize, c as usize);
        if self.walls.contains(&next) { (row, col) } else { next }
    }

    fn check(&self) -> Result<()> {
        let bad = |name: &str, message: String| Err(Error::InvalidParameter { name: name.into(), message });
        if self.rows == 0 || self.cols == 0 {
            return bad("grid", format!("{}×{} has no cells", self.rows, self.cols));
        }
        let inside = |c: &Cell| c.0 < self.rows && c.1 < self.cols;
        for (name, cells) in [("start", vec![self.start]), ("goal", vec![self.goal])] {
            if let Some(c) = cells.iter().find(|c| !inside(c)) {
                return bad(name, format!("cell {c:?} is outside the {}×{} grid", self.rows, self.cols));
            }
        }
        for (name, cells) in [("walls", &self.walls), ("cliff", &self.cliff)] {
            if let Some(c) = cells.iter().find(|c| !inside(c)) {
                return bad(name, format!("cell {c:?} is outside the {}×{} grid", self.rows, self.cols));
            }
        }
        for (name, cell) in [("start", self.start), ("goal", self.goal)] {
            if self.walls.contains(&cell) || self.cliff.contains(&cell) {
                return bad(name, format!("cell {cell:?} is a wall or cliff cell"));
            }
        }
        if let Some(c) = self.cliff.iter().find(|c| self.walls.contains(c)) {
            return bad("cliff", format!("cell {c:?} is also a wall"));
        }
        if !(0.0..=1.0).contains(&self.noise) {
            return bad("noise", format!("{} is not a probability", self.noise));
        }
        for (name, x) in [
            ("goal_reward", self.goal_reward),
            ("step_reward", self.step_reward),
            ("cliff_penalty", self.cliff_penalty),
        ] {
            if !x.is_finite() {
                return bad(name, format!("{x} is not a finite number"));
            }
        }
        Ok(())
    }

    /// The model: `rows·cols` cell states (plus `exit` when the goal is terminal), actions
    /// `up, right, down, left`, a `grid` shape for plots.
    ///
    /// # Formula
    ///
    /// ```text
    /// ordinary cell s:  P(s'|s,a) = Σ_d [step(s,d) = s']·((1 − noise)·[d = a] + noise/4),
    ///                   r(s,a) = step_reward
    /// cliff cell:       P(start|s,a) = 1,  r(s,a) = −cliff_penalty
    /// goal (terminal):  P(exit|s,a) = 1,   r(s,a) = goal_reward;  exit absorbing, value 0
    /// goal (MnM):       an ordinary cell with r(s,a) = goal_reward
    /// wall cell:        P(s|s,a) = 1 (unreachable), r(s,a) = step_reward
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for cells outside the grid, a start or goal on a wall or
    /// cliff, a cliff cell on a wall, a noise outside [0, 1] or a non-finite reward; those of
    /// [`TabularMdp::new`] (e.g. γ outside (0, 1]).
    ///
    /// # Examples
    /// ```
    /// use riskmdp::envs::Gridworld;
    /// let mdp = Gridworld::cliff().build()?;
    /// assert_eq!(mdp.n_states(), 101); // 100 cells and `exit`
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn build(&self) -> Result<TabularMdp> {
        self.check()?;
        let cells = self.rows * self.cols;
        let n = cells + usize::from(self.goal_terminal);
        let exit = cells;
        let walls: HashSet<Cell> = self.walls.iter().copied().collect();
        let cliff: HashSet<Cell> = self.cliff.iter().copied().collect();
        // Each row as (s', p) pairs: at most five next states per (s, a).
        let mut rows: Vec<Vec<Vec<(usize, f64)>>> = Vec::with_capacity(n);
        let mut rewards = Vec::with_capacity(n);
        for s in 0..cells {
            let cell = self.cell(s);
            let (block, reward) = if cliff.contains(&cell) {
                (vec![vec![(self.state(self.start), 1.0)]; 4], -self.cliff_penalty)
            } else if cell == self.goal && self.goal_terminal {
                (vec![vec![(exit, 1.0)]; 4], self.goal_reward)
            } else if walls.contains(&cell) {
                (vec![vec![(s, 1.0)]; 4], self.step_reward)
            } else {
                let block = (0..4)
                    .map(|a| {
                        let mut row: Vec<(usize, f64)> = Vec::with_capacity(5);
                        for d in 0..4 {
                            let p = if d == a { 1.0 - self.noise } else { 0.0 } + self.noise / 4.0;
                            let next = self.state(self.step_in(cell, d, &walls));
                            match row.iter_mut().find(|(j, _)| *j == next) {
                                Some(entry) => entry.1 += p,
                                None => row.push((next, p)),
                            }
                        }
                        row.sort_by_key(|&(j, _)| j);
                        row
                    })
                    .collect();
                (block, if cell == self.goal { self.goal_reward } else { self.step_reward })
            };
            rows.push(block);
            rewards.push(vec![reward; 4]);
        }
        let mut names: Vec<String> = (0..cells).map(|s| format!("r{}c{}", s / self.cols, s % self.cols)).collect();
        let mut terminal = vec![false; cells];
        if self.goal_terminal {
            rows.push(vec![vec![(exit, 1.0)]; 4]);
            rewards.push(vec![0.0; 4]);
            names.push("exit".into());
            terminal.push(true);
        }
        let mut initial = vec![0.0; n];
        initial[self.state(self.start)] = 1.0;
        // Small grids keep the dense form (readable files); large ones are stored sparse.
        let transitions: TransitionSpec = if n <= SPARSE_ABOVE {
            TransitionSpec::Dense(
                rows.into_iter()
                    .map(|block| {
                        block
                            .into_iter()
                            .map(|pairs| {
                                let mut dense = vec![0.0; n];
                                for (j, p) in pairs {
                                    dense[j] += p;
                                }
                                dense
                            })
                            .collect()
                    })
                    .collect(),
            )
        } else {
            TransitionSpec::Sparse(rows)
        };
        TabularMdp::new(MdpSpec {
            name: if self.cliff.is_empty() { "mnm-gridworld".into() } else { "cliff-gridworld".into() },
            state_names: Some(names),
            action_names: Some(ACTIONS.iter().map(|a| a.to_string()).collect()),
            gamma: self.gamma,
            horizon: None,
            initial: Some(initial),
            terminal: Some(terminal),
            transitions,
            rewards,
            grid: Some(GridShape { rows: self.rows, cols: self.cols }),
        })
    }

    /// [`Gridworld::step`] with the walls as a set (fast on large grids).
    fn step_in(&self, (row, col): Cell, d: usize, walls: &HashSet<Cell>) -> Cell {
        let (dr, dc) = MOVES[d];
        let (r, c) = (row as isize + dr, col as isize + dc);
        if r < 0 || c < 0 || r >= self.rows as isize || c >= self.cols as isize {
            return (row, col);
        }
        let next = (r as usize, c as usize);
        if walls.contains(&next) { (row, col) } else { next }
    }

    /// The largest side of [`cliff_scaled`](Self::cliff_scaled): 4000² cells take ~15 GB.
    pub const MAX_SCALED_SIDE: usize = 3000;

    /// The cliff world scaled to an n×n grid (n ≥ 10), for benchmarks: a wall in the top 60 %
    /// of the columns 40–60 %, a cliff row at 70 % of the height under columns 30–70 %, start
    /// top left, goal top right, the cliff variant's noise, rewards and γ.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for n < 10 or n > [`MAX_SCALED_SIDE`](Self::MAX_SCALED_SIDE).
    pub fn cliff_scaled(n: usize) -> Result<Self> {
        if !(10..=Self::MAX_SCALED_SIDE).contains(&n) {
            return Err(Error::InvalidParameter {
                name: "grid".into(),
                message: format!("{n} is not in 10..={} (memory grows as n²)", Self::MAX_SCALED_SIDE),
            });
        }
        let frac = |x: usize| n * x / 10;
        Ok(Gridworld {
            rows: n,
            cols: n,
            start: (0, 0),
            goal: (0, n - 1),
            walls: (0..frac(6)).flat_map(|r| (frac(4)..frac(6)).map(move |c| (r, c))).collect(),
            cliff: (frac(3)..frac(7)).map(|c| (frac(7), c)).collect(),
            ..Self::cliff()
        })
    }

    /// Whether a cell is next to a cliff cell (sharing an edge), the cliff excluded.
    pub fn is_next_to_cliff(&self, (row, col): Cell) -> bool {
        !self.cliff.contains(&(row, col)) && self.cliff.iter().any(|&(r, c)| r.abs_diff(row) + c.abs_diff(col) == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::risk_neutral::optimal_expected_q;

    #[test]
    fn mnm_risk_neutral_value_at_start_matches_the_reference() {
        // REFERENCES.md: V*(start) = 1.3875036096, an independent computation on the MnM grid.
        let world = Gridworld::mnm();
        let mdp = world.build().expect("valid");
        let (q, greedy) = optimal_expected_q(&mdp).expect("solves");
        let start = world.state(world.start);
        assert!((q[[start, greedy[start]]] - 1.387_503_609_6).abs() < 1e-9);
    }

    #[test]
    fn noise_half_moves_as_chosen_with_probability_five_eighths() {
        let world = Gridworld::mnm();
        let mdp = world.build().expect("valid");
        let s = world.state((8, 5));
        assert!((mdp.transitions()[[s, RIGHT, world.state((8, 6))]] - 0.625).abs() < 1e-15);
        assert!((mdp.transitions()[[s, RIGHT, world.state((7, 5))]] - 0.125).abs() < 1e-15);
        // Into the wall from below: stays put.
        let below = world.state((6, 4));
        assert!((mdp.transitions()[[below, 0, below]] - 0.625).abs() < 1e-15);
    }

    #[test]
    fn cliff_sends_back_to_start_and_goal_ends() {
        let world = Gridworld::cliff();
        let mdp = world.build().expect("valid");
        let cliff = world.state((CLIFF_ROW, 4));
        assert!((mdp.transitions()[[cliff, 2, world.state(world.start)]] - 1.0).abs() < 1e-15);
        assert!((mdp.rewards()[[cliff, 0]] + CLIFF_PENALTY).abs() < 1e-15);
        let goal = world.state(world.goal);
        assert!((mdp.transitions()[[goal, 0, 100]] - 1.0).abs() < 1e-15);
        assert!(mdp.is_terminal(100));
    }

    #[test]
    fn small_cliff_world_moves_by_hand() {
        // From (2,0), `right`: to (2,1) w.p. 0.8 + 0.2/4 = 0.85; up to (1,0), down to the start
        // (3,0), and left off the grid (stays) w.p. 0.05 each.
        let world = Gridworld::cliff_4x4();
        let mdp = world.build().expect("valid");
        let s = world.state((2, 0));
        let p = |cell: Cell| mdp.transitions()[[s, RIGHT, world.state(cell)]];
        for (cell, expected) in [((2, 1), 0.85), ((1, 0), 0.05), ((3, 0), 0.05), ((2, 0), 0.05)] {
            assert!((p(cell) - expected).abs() < 1e-15, "{cell:?}: {}", p(cell));
        }
        assert!((mdp.rewards()[[s, RIGHT]] + 1.0).abs() < 1e-15);
        let cliff = world.state((3, 2));
        assert!((mdp.transitions()[[cliff, 0, world.state(world.start)]] - 1.0).abs() < 1e-15);
        assert!((mdp.rewards()[[cliff, 3]] + 20.0).abs() < 1e-15);
        let goal = world.state(world.goal);
        assert!((mdp.transitions()[[goal, 2, 16]] - 1.0).abs() < 1e-15 && mdp.is_terminal(16));
        assert_eq!(mdp.initial_state(), Some(world.state((3, 0))));
    }

    #[test]
    fn bad_parameters_are_rejected() {
        let bad = Gridworld { noise: 1.5, ..Gridworld::cliff() };
        assert!(matches!(bad.build(), Err(Error::InvalidParameter { .. })));
        let bad = Gridworld { start: (0, 4), ..Gridworld::cliff() };
        assert!(matches!(bad.build(), Err(Error::InvalidParameter { .. })));
        let bad = Gridworld { cliff: vec![(10, 0)], ..Gridworld::cliff() };
        assert!(matches!(bad.build(), Err(Error::InvalidParameter { .. })));
    }

    fn assert_same(a: &TabularMdp, b: &TabularMdp) {
        assert_eq!(a.state_names(), b.state_names());
        assert_eq!(a.action_names(), b.action_names());
        assert_eq!(a.terminal(), b.terminal());
        assert_eq!(a.grid(), b.grid());
        assert!((a.gamma() - b.gamma()).abs() < 1e-15);
        assert!(a.transitions().iter().zip(b.transitions().iter()).all(|(x, y)| (x - y).abs() < 1e-15));
        assert!(a.rewards().iter().zip(b.rewards().iter()).all(|(x, y)| (x - y).abs() < 1e-15));
        assert!(a.initial().iter().zip(b.initial().iter()).all(|(x, y)| (x - y).abs() < 1e-15));
    }

    #[test]
    fn shipped_json_files_match_the_builders() {
        for (world, file) in [(Gridworld::mnm(), "mnm_gridworld.json"), (Gridworld::cliff(), "cliff_gridworld.json")] {
            let path = format!("{}/examples/mdps/{file}", env!("CARGO_MANIFEST_DIR"));
            let loaded = TabularMdp::load(&path).expect("shipped file loads");
            assert_same(&world.build().expect("valid"), &loaded);
        }
    }
}
