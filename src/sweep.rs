//! β sweeps at one state (Fig. 1): certainty equivalents, greedy action, posterior dynamics,
//! and the exact β of *every* greedy switch.
//!
//! # Every switch: the certificate
//!
//! A grid in log β shows the greedy action at its points only. Between two grid points the
//! greedy action can change several times (X → Y → Z), or leave and come back (A → B → A)
//! with the same action at both ends. [`sweep`] and [`every_switch`] rule both out with a
//! certificate that rests on two facts about the certainty equivalent C_a(β) = β·Q*_β(s,a) of
//! every action (both follow from the backups by induction on the value-iteration iterates,
//! the first checked by `riskmdp verify`, both indirectly by `tests/sweep_every_switch.rs`):
//!
//! ```text
//! C_a(β) is non-increasing in β    (β·log E exp(X/β) falls as β grows: its derivative is −KL ≤ 0)
//! C_a(β) is convex in β            (f(β, w) = β·log Σ p·exp(w/β) is the perspective of the convex
//!                                   log-sum-exp, jointly convex and non-decreasing in w, and a max
//!                                   of convex functions is convex)
//! ```
//!
//! On a piece [l, r] with the same greedy action a at both ends, a rival b cannot win inside
//! if a's lower bound stays above b's upper bound: b lies below its chord (convexity), a above
//! the secants through its neighbouring points extended into the piece (convexity) and above
//! C_a(r) (monotonicity). Both bounds are straight lines, so the check is exact at a few
//! points, with the solver's certified error bound and the tie margin subtracted. A piece
//! that fails is halved and both halves checked; a piece whose ends differ is bisected for its
//! switch, which is then polished, and the search goes on in the rest of the piece until the
//! action at its right end is reached.
//!
//! # Resolution (what "every" means)
//!
//! Pieces are not halved below [`RESOLUTION`]·max(1, |ln β|) in ln β. A piece that narrow next
//! to a located switch is accepted (the certificate cannot separate two crossings closer than
//! the values' accuracy), and so is a piece within [`TIE_ZONE`] (relative) of a located switch
//! that is that narrow or on which the two actions stay tied — within the solver's certified error and the tie margin
//! [`TIE`](crate::tolerance::TIE), where the greedy choice is a tie by the crate's own
//! definition. So **two switches of one state closer than that, or inside the tie zone of one
//! another, may be reported as one**. Anywhere else a piece that cannot be certified — a rival
//! tied with the greedy action at both of its ends, or a piece left when the refinement budget
//! ([`MAX_REFINEMENTS_PER_CELL`]) runs out — is reported in `unresolved`: a hidden switch there
//! is not excluded. Every loop is bounded: per grid cell at most [`MAX_SWITCHES_PER_CELL`]
//! switches per scanned state, and [`MAX_REFINEMENTS_PER_CELL`] halvings plus
//! [`REFINEMENTS_PER_SWITCH`] per located switch.

use serde::Serialize;

use crate::bisection::{Side, Width, bisect_log_beta};
use crate::error::{Error, Result};
use crate::mdp::TabularMdp;
use crate::operators::posterior_row;
use crate::risk::Beta;
use crate::solve::policy_improvement::{greedy_in_row, tie_margin};
use crate::solve::{Method, Solution, SolveOptions, greedy_actions, solve_optimal};
use crate::tolerance;

/// Pieces narrower than `RESOLUTION · max(1, |ln β|)` in ln β are not halved further.
pub const RESOLUTION: f64 = 1e-9;

/// A piece on which a rival stays tied with the greedy action (within the values' error bound
/// and the tie margin) at both ends, this close (relative) to a located switch between the
/// two, is the switch's own tie zone: not reported.
pub const TIE_ZONE: f64 = 1e-6;

/// Most halvings of the pieces of one grid cell (each is a solve), before the allowance per
/// located switch ([`REFINEMENTS_PER_SWITCH`]).
pub const MAX_REFINEMENTS_PER_CELL: usize = 2048;

/// More halvings allowed in a cell per switch located in it: the pieces next to a switch are
/// halved down to [`RESOLUTION`], some 30 times on each side.
pub const REFINEMENTS_PER_SWITCH: usize = 128;

/// Most switches located in one grid cell, per scanned state.
pub const MAX_SWITCHES_PER_CELL: usize = 256;

/// The optimum at one β, seen from one state (t = 0 with a horizon).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepPoint {
    /// β.
    pub beta: f64,
    /// Q*_β(s, a) per action, nats.
    pub q: Vec<f64>,
    /// β·Q*_β(s, a) per action, reward units.
    pub certainty_equivalent: Vec<f64>,
    /// The greedy action.
    pub greedy: usize,
    /// Posterior dynamics q_β(·|s, a) per action (S entries each).
    pub posterior_dynamics: Vec<Vec<f64>>,
}

/// A change of the greedy action, located exactly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Switch {
    /// β of the switch (to ~1e-13 relative, limited by the tie tolerance of the greedy choice).
    pub beta: f64,
    /// Greedy action just below.
    pub from: usize,
    /// Greedy action just above.
    pub to: usize,
}

/// A switch at one of several states ([`every_switch`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StateSwitch {
    /// The state.
    pub state: usize,
    /// The switch.
    #[serde(flatten)]
    pub switch: Switch,
}

/// A β interval in which a hidden pair of switches (A → B → A) could not be excluded (see
/// the module's "Resolution").
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Unresolved {
    /// Low end of the interval (β).
    pub lo: f64,
    /// High end of the interval (β).
    pub hi: f64,
    /// The state.
    pub state: usize,
    /// The greedy action at both ends.
    pub greedy: usize,
    /// The action that might win inside.
    pub rival: usize,
}

/// A sweep over β at one state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sweep {
    /// The state.
    pub state: usize,
    /// One point per grid value.
    pub points: Vec<SweepPoint>,
    /// Every greedy switch in the grid's range, ascending in β.
    pub switches: Vec<Switch>,
    /// Intervals where a hidden switch could not be excluded (empty when every switch is
    /// certified found).
    pub unresolved: Vec<Unresolved>,
}

/// Every greedy switch at several states ([`every_switch`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SwitchScan {
    /// The states scanned.
    pub states: Vec<usize>,
    /// The greedy action of each scanned state at the grid's first β.
    pub greedy_at_start: Vec<usize>,
    /// Every switch, ascending in β (ties in β by state).
    pub switches: Vec<StateSwitch>,
    /// Intervals where a hidden switch could not be excluded.
    pub unresolved: Vec<Unresolved>,
}

fn check_state(mdp: &TabularMdp, state: usize) -> Result<()> {
    if state < mdp.n_states() {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name: "state".into(), message: format!("no state {state}") })
    }
}

fn check_grid(grid: &[f64]) -> Result<()> {
    if grid.is_empty() || grid.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::InvalidParameter { name: "grid".into(), message: "β values must increase".into() });
    }
    Ok(())
}

/// Solve the optimum at `beta` and look at state `state`: Q*, β·Q*, the greedy action and
/// the posterior dynamics of every action (at t = 0 with a horizon).
///
/// # Formula
///
/// ```text
/// Q*_β(s,·) (Lemma 4.1),   β·Q*_β(s,·),   q_β(s'|s,a) ∝ P(s'|s,a)·exp V*_β(s')   (Eq. 4)
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] for a state the model does not have; those of
/// [`solve_optimal`].
///
/// # Examples
/// ```
/// use riskmdp::envs::risky_arm::{self, A, RIGHT, S};
/// use riskmdp::sweep::sweep_point;
/// use riskmdp::SolveOptions;
/// let p = sweep_point(&risky_arm::risky_arm(), S, 1.0, SolveOptions::default())?;
/// assert!((p.certainty_equivalent[0] + 5.0).abs() < 1e-12); // β·Q(S,left) = −5 at any β
/// assert_eq!(p.greedy, RIGHT); // β = 1 < 5/ln 9: the gamble
/// assert!((p.posterior_dynamics[RIGHT][A] - risky_arm::posterior_a(1.0)).abs() < 1e-12);
/// assert!(sweep_point(&risky_arm::risky_arm(), 6, 1.0, SolveOptions::default()).is_err());
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn sweep_point(mdp: &TabularMdp, state: usize, beta: f64, options: SolveOptions) -> Result<SweepPoint> {
    check_state(mdp, state)?;
    let sol = solve_optimal(mdp, Beta::new(beta)?, Method::ValueIteration, options)?;
    let q0 = sol.q0();
    // V at the next step: V_1 with a horizon, V itself otherwise.
    let v_next = match &sol {
        Solution::Stationary(s) => s.v.clone(),
        Solution::FiniteHorizon(s) => s.v.row(1.min(s.v.nrows() - 1)).to_owned(),
    };
    let v_next = v_next.to_vec();
    let posterior = (0..mdp.n_actions())
        .map(|a| {
            let mut row = vec![0.0; mdp.n_states()];
            for (j, q) in posterior_row(mdp, &v_next, state, a) {
                row[j] = q;
            }
            row
        })
        .collect();
    let q: Vec<f64> = q0.row(state).to_vec();
    Ok(SweepPoint {
        beta,
        certainty_equivalent: q.iter().map(|x| beta * x).collect(),
        greedy: greedy_actions(mdp, q0.view())[state],
        posterior_dynamics: posterior,
        q,
    })
}

/// Sweep β over `grid` (ascending) at `state` and locate every greedy switch in the grid's
/// range: [bisection in log β](crate::bisection::bisect_log_beta) on the greedy action,
/// polished on the sign of Q*(s,from) − Q*(s,to), the search going on after each switch, and
/// intervals with the same action at both ends certified free of hidden switches (see the
/// module docs for the certificate and its resolution).
///
/// # Formula
///
/// ```text
/// a switch from `from` to `to` at β:   Q*_β(s,from) = Q*_β(s,to),  `from` greedy just below β
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] for a bad state or an unsorted grid; those of [`solve_optimal`].
///
/// # Examples
/// The risky arm switches from the gamble to the sure −5 at β* = 5/ln 9 (Fig. 1).
/// ```
/// use riskmdp::dual::log_grid;
/// use riskmdp::envs::risky_arm::{self, LEFT, RIGHT, S};
/// use riskmdp::sweep::sweep;
/// use riskmdp::SolveOptions;
/// let result = sweep(&risky_arm::risky_arm(), S, &log_grid(0.1, 100.0, 7)?, SolveOptions::default())?;
/// assert_eq!(result.points.len(), 7);
/// let [switch] = result.switches.as_slice() else { panic!("one switch") };
/// assert_eq!((switch.from, switch.to), (RIGHT, LEFT));
/// assert!((switch.beta - risky_arm::switch_beta()).abs() < 1e-12);
/// assert!(result.unresolved.is_empty()); // no other switch hides between the grid points
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn sweep(mdp: &TabularMdp, state: usize, grid: &[f64], options: SolveOptions) -> Result<Sweep> {
    let switches = one_state(mdp, state, grid, options, Search::Every)?;
    let points = grid.iter().map(|&b| sweep_point(mdp, state, b, options)).collect::<Result<Vec<_>>>()?;
    Ok(Sweep { points, ..switches })
}

/// The switches of one state as a [`Sweep`] without its points.
fn one_state(mdp: &TabularMdp, state: usize, grid: &[f64], options: SolveOptions, search: Search) -> Result<Sweep> {
    check_state(mdp, state)?;
    check_grid(grid)?;
    let scan = Scanner::new(mdp, vec![state], options, search).run(grid)?;
    Ok(Sweep {
        state,
        points: Vec::new(),
        switches: scan.switches.into_iter().map(|s| s.switch).collect(),
        unresolved: scan.unresolved,
    })
}

/// The search before `sweep` promised every switch: one switch per grid cell and no
/// certificate, so X → Y → Z inside a cell reports X → Y only and A → B → A nothing. Kept, and
/// hidden, as the planted bug that `tests/sweep_every_switch.rs` must catch.
///
/// # Errors
/// As [`sweep`].
#[doc(hidden)]
pub fn planted_one_switch_per_cell(
    mdp: &TabularMdp,
    state: usize,
    grid: &[f64],
    options: SolveOptions,
) -> Result<Sweep> {
    one_state(mdp, state, grid, options, Search::OneSwitchPerCell)
}

/// Every greedy switch of every state in `states` over the range of `grid` (ascending), as in
/// [`sweep`]: one solve per probe serves all the states.
///
/// # Errors
/// [`Error::InvalidParameter`] for a bad state or an unsorted grid; those of [`solve_optimal`].
///
/// # Examples
/// On the risky arm only S has a choice; A and B have one action each.
/// ```
/// use riskmdp::envs::risky_arm::{self, A, LEFT, RIGHT, S};
/// use riskmdp::sweep::every_switch;
/// use riskmdp::SolveOptions;
/// let scan = every_switch(&risky_arm::risky_arm(), &[S, A], &[0.1, 1000.0], SolveOptions::default())?;
/// assert_eq!(scan.greedy_at_start, vec![RIGHT, 0]);
/// let [first] = scan.switches.as_slice() else { panic!("one switch") };
/// assert_eq!((first.state, first.switch.from, first.switch.to), (S, RIGHT, LEFT));
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn every_switch(mdp: &TabularMdp, states: &[usize], grid: &[f64], options: SolveOptions) -> Result<SwitchScan> {
    for &s in states {
        check_state(mdp, s)?;
    }
    check_grid(grid)?;
    Scanner::new(mdp, states.to_vec(), options, Search::Every).run(grid)
}

/// Every β in the scan's range where the greedy path from `start` (at most `max_len` states,
/// as [`greedy_path`](crate::policy::greedy_path) follows it) changes, with the paths on
/// both sides. `scan` must cover every non-terminal state the paths can visit (all of them, to
/// be safe); the path between two consecutive switches is constant, since every greedy action
/// is.
///
/// # Examples
/// ```
/// use riskmdp::envs::risky_arm::{self, S};
/// use riskmdp::sweep::{every_switch, path_switches};
/// use riskmdp::SolveOptions;
/// let mdp = risky_arm::risky_arm();
/// let all: Vec<usize> = (0..6).collect();
/// let scan = every_switch(&mdp, &all, &[0.1, 1000.0], SolveOptions::default())?;
/// let switches = path_switches(&mdp, &scan, S, 10);
/// let [(beta, below, above)] = switches.as_slice() else { panic!("one path switch") };
/// assert!((beta - risky_arm::switch_beta()).abs() < 1e-12);
/// assert_eq!((below.as_slice(), above.as_slice()), (&[0, 1, 3][..], &[0, 5][..])); // S → A → C, then S → L
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn path_switches(
    mdp: &TabularMdp,
    scan: &SwitchScan,
    start: usize,
    max_len: usize,
) -> Vec<(f64, Vec<usize>, Vec<usize>)> {
    let mut greedy = vec![0; mdp.n_states()];
    for (&s, &a) in scan.states.iter().zip(&scan.greedy_at_start) {
        greedy[s] = a;
    }
    let mut path = crate::policy::greedy_path(mdp, &greedy, start, max_len);
    let mut out = Vec::new();
    let mut i = 0;
    while i < scan.switches.len() {
        // Switches at the same β act together.
        let beta = scan.switches[i].switch.beta;
        while i < scan.switches.len() && scan.switches[i].switch.beta.to_bits() == beta.to_bits() {
            greedy[scan.switches[i].state] = scan.switches[i].switch.to;
            i += 1;
        }
        let next = crate::policy::greedy_path(mdp, &greedy, start, max_len);
        if next != path {
            out.push((beta, std::mem::replace(&mut path, next.clone()), next));
        }
    }
    out
}

/// How the scanner searches a grid cell: every switch (the crate's), or the one switch per
/// cell of the search before it, kept as the planted bug its tests must catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Search {
    Every,
    OneSwitchPerCell,
}

/// The optimum at one probed β, seen from the scanned states.
struct Probe {
    beta: f64,
    /// β·Q*_β(s, a), row-major over (scanned state, action).
    c: Vec<f64>,
    /// The greedy action of each scanned state.
    greedy: Vec<usize>,
    /// The tie margin of each scanned state's greedy choice, in reward units.
    margin: Vec<f64>,
    /// Bound on the error of every entry of `c`: β × the solver's certified bound, plus
    /// rounding.
    error: f64,
}

/// A piece [l, r] of a grid cell, with whether a located switch sits at either end.
#[derive(Clone, Copy)]
struct Piece {
    l: f64,
    r: f64,
    switch_at_l: bool,
    switch_at_r: bool,
}

struct Scanner<'a> {
    mdp: &'a TabularMdp,
    states: Vec<usize>,
    options: SolveOptions,
    search: Search,
    /// Every probe so far, ascending in β.
    probes: Vec<Probe>,
    switches: Vec<StateSwitch>,
    unresolved: Vec<Unresolved>,
}

impl<'a> Scanner<'a> {
    fn new(mdp: &'a TabularMdp, states: Vec<usize>, options: SolveOptions, search: Search) -> Self {
        Scanner { mdp, states, options, search, probes: Vec::new(), switches: Vec::new(), unresolved: Vec::new() }
    }

    fn run(mut self, grid: &[f64]) -> Result<SwitchScan> {
        for &beta in grid {
            self.probe(beta)?;
        }
        for cell in grid.windows(2) {
            self.scan_cell(cell[0], cell[1])?;
        }
        self.switches.sort_by(|x, y| x.switch.beta.total_cmp(&y.switch.beta).then(x.state.cmp(&y.state)));
        self.unresolved.sort_by(|x, y| x.lo.total_cmp(&y.lo).then(x.state.cmp(&y.state)));
        let greedy_at_start = self.probes.first().map(|p| p.greedy.clone()).unwrap_or_default();
        Ok(SwitchScan { states: self.states, greedy_at_start, switches: self.switches, unresolved: self.unresolved })
    }

    /// Solve at `beta`, keep the probe, and return its index.
    fn probe(&mut self, beta: f64) -> Result<usize> {
        let at = self.probes.partition_point(|p| p.beta < beta);
        if self.probes.get(at).is_some_and(|p| p.beta.to_bits() == beta.to_bits()) {
            return Ok(at);
        }
        let sol = solve_optimal(self.mdp, Beta::new(beta)?, Method::ValueIteration, self.options)?;
        let bound = match &sol {
            Solution::Stationary(s) => s.error_bound,
            Solution::FiniteHorizon(_) => 0.0,
        };
        let q0 = sol.q0();
        let n = self.mdp.n_actions();
        let mut c = Vec::with_capacity(self.states.len() * n);
        let (mut greedy, mut margin) = (Vec::new(), Vec::new());
        let mut largest = 0.0f64;
        for &s in &self.states {
            let row = q0.row(s).to_vec();
            greedy.push(greedy_in_row(&row));
            // The greedy choice's own margin (TIE·max|Q|), in reward units.
            let tie = tie_margin(&row);
            margin.push(beta * tie);
            largest = largest.max(beta * tie / tolerance::TIE);
            c.extend(row.iter().map(|q| beta * q));
        }
        if !c.iter().all(|x| x.is_finite()) {
            return Err(Error::NonFiniteResult { solver: "sweep", beta });
        }
        let error = beta * bound + tolerance::ROUNDING_FLOOR * largest;
        self.probes.insert(at, Probe { beta, c, greedy, margin, error });
        Ok(at)
    }

    fn at(&self, beta: f64) -> &Probe {
        let at = self.probes.partition_point(|p| p.beta < beta);
        assert!(self.probes[at].beta.to_bits() == beta.to_bits(), "a piece ends at a probe");
        &self.probes[at]
    }

    fn scan_cell(&mut self, l: f64, r: f64) -> Result<()> {
        let mut pieces = vec![Piece { l, r, switch_at_l: false, switch_at_r: false }];
        let (mut refinements, mut located) = (0, 0);
        while let Some(piece) = pieces.pop() {
            let (left, right) = (self.at(piece.l), self.at(piece.r));
            if let Some(k) = (0..self.states.len()).find(|&k| left.greedy[k] != right.greedy[k]) {
                if located >= MAX_SWITCHES_PER_CELL * self.states.len() {
                    let (greedy, rival) = (left.greedy[k], right.greedy[k]);
                    self.unresolve(piece, k, greedy, rival);
                    continue;
                }
                located += 1;
                let (lo, hi) = self.locate(k, piece)?;
                pieces.push(Piece { r: lo, switch_at_r: true, ..piece });
                if self.search == Search::Every {
                    pieces.push(Piece { l: hi, switch_at_l: true, ..piece });
                }
                continue;
            }
            if self.search != Search::Every {
                continue;
            }
            let Some((k, rival, tied)) = self.uncertified(piece) else { continue };
            let greedy = self.at(piece.l).greedy[k];
            let (ln_l, ln_r) = (piece.l.ln(), piece.r.ln());
            let narrow = ln_r - ln_l <= RESOLUTION * ln_l.abs().max(ln_r.abs()).max(1.0);
            if narrow && (piece.switch_at_l || piece.switch_at_r) {
                continue; // the documented resolution next to a located switch
            }
            // A rival tied at both ends is a persistent tie (refining would not end), unless
            // the ends are located switches, where the two are tied by definition.
            let tied = tied && !(piece.switch_at_l || piece.switch_at_r);
            if (tied || narrow) && self.near_switch(piece, k, greedy, rival) {
                continue; // the tie zone of a located switch: the documented resolution
            }
            if narrow || tied || refinements >= MAX_REFINEMENTS_PER_CELL + REFINEMENTS_PER_SWITCH * located {
                self.unresolve(piece, k, greedy, rival);
                continue;
            }
            refinements += 1;
            let mid = (0.5 * (ln_l + ln_r)).exp();
            if !(piece.l < mid && mid < piece.r) {
                self.unresolve(piece, k, greedy, rival);
                continue;
            }
            self.probe(mid)?;
            pieces.push(Piece { l: mid, switch_at_l: false, ..piece });
            pieces.push(Piece { r: mid, switch_at_r: false, ..piece });
        }
        Ok(())
    }

    /// Whether a located switch of scanned state `k` between actions `a` and `b` lies within
    /// [`TIE_ZONE`] (relative) of `piece`.
    fn near_switch(&self, piece: Piece, k: usize, a: usize, b: usize) -> bool {
        let (lo, hi) = (piece.l * (1.0 - TIE_ZONE), piece.r * (1.0 + TIE_ZONE));
        self.switches.iter().any(|s| {
            s.state == self.states[k]
                && ((s.switch.from, s.switch.to) == (a, b) || (s.switch.from, s.switch.to) == (b, a))
                && lo <= s.switch.beta
                && s.switch.beta <= hi
        })
    }

    fn unresolve(&mut self, piece: Piece, k: usize, greedy: usize, rival: usize) {
        self.unresolved.push(Unresolved { lo: piece.l, hi: piece.r, state: self.states[k], greedy, rival });
    }

    /// Bisect `piece` for the first switch of scanned state `k` away from its action at `l`,
    /// polish it, record it, and return the bracket's ends (β), both probes.
    fn locate(&mut self, k: usize, piece: Piece) -> Result<(f64, f64)> {
        let from = self.at(piece.l).greedy[k];
        let (ln_l, ln_r) = (piece.l.ln(), piece.r.ln());
        let bracket = bisect_log_beta(ln_l, ln_r, Width::Relative(1e-13), |beta| {
            let i = self.probe(beta)?;
            Ok::<_, Error>(if self.probes[i].greedy[k] == from { Side::Below } else { Side::Above })
        })?;
        // The bracket's ends are probes: the cell's own ends, or exp of a probed midpoint.
        let end = |ln: f64| {
            if ln.to_bits() == ln_l.to_bits() {
                piece.l
            } else if ln.to_bits() == ln_r.to_bits() {
                piece.r
            } else {
                ln.exp()
            }
        };
        let (lo, hi) = (end(bracket.lo), end(bracket.hi));
        // `to` is the action just above the bracket: a third action may win inside the cell.
        let to = self.at(hi).greedy[k];
        let state = self.states[k];
        let (mdp, options) = (self.mdp, self.options);
        // The greedy choice has a tie margin; polish on the sign of Q(from) − Q(to) itself.
        let gap = |beta: f64| -> Result<f64> {
            let q = solve_optimal(mdp, Beta::new(beta)?, Method::ValueIteration, options)?.q0();
            Ok(q[[state, from]] - q[[state, to]])
        };
        let (a, b) = (bracket.lo - 1e-9 * bracket.lo.abs().max(1.0), bracket.hi + 1e-9 * bracket.hi.abs().max(1.0));
        let mut polished = bracket;
        if gap(a.exp())? > 0.0 && gap(b.exp())? < 0.0 {
            polished = bisect_log_beta(a, b, Width::Relative(1e-15), |beta| {
                Ok(if gap(beta)? > 0.0 { Side::Below } else { Side::Above })
            })?;
        }
        self.switches.push(StateSwitch { state, switch: Switch { beta: polished.beta(), from, to } });
        Ok((lo, hi))
    }

    /// The first scanned state and rival action the certificate cannot exclude on `piece`
    /// (same greedy action at both ends), and whether that rival is tied with the greedy action
    /// at both ends; `None` if the piece is certified.
    fn uncertified(&self, piece: Piece) -> Option<(usize, usize, bool)> {
        let (left, right) = (self.at(piece.l), self.at(piece.r));
        // Neighbours for the secants: the nearest probes at least a piece's width away (a
        // closer one makes the slope's error bound large), else the farthest there is.
        let width = piece.r - piece.l;
        let below = self.probes.partition_point(|p| p.beta < piece.l);
        let above = self.probes.partition_point(|p| p.beta <= piece.r);
        let prev =
            self.probes[..below].iter().rev().find(|p| piece.l - p.beta >= width).or(self.probes[..below].first());
        let next = self.probes[above..].iter().find(|p| p.beta - piece.r >= width).or(self.probes[above..].last());
        let n = self.mdp.n_actions();
        for (k, &s) in self.states.iter().enumerate() {
            let a = left.greedy[k];
            // The tie margin: a rival of lower index wins within it, so it must stay more than
            // the largest margin below; one of higher index must get more than the margin above
            // to win, and the margin inside is at least TIE·|C| of every action whose C keeps its
            // sign across the piece (C is monotone).
            let largest = left.margin[k].max(right.margin[k]);
            let inside = (0..n)
                .map(|x| {
                    let (cl, cr) = (left.c[k * n + x], right.c[k * n + x]);
                    if cl.is_sign_positive() == cr.is_sign_positive() { cl.abs().min(cr.abs()) } else { 0.0 }
                })
                .fold(0.0, f64::max)
                * tolerance::TIE;
            for b in (0..n).filter(|&b| b != a && !self.same_action(s, a, b)) {
                let value = |p: &Probe, x: usize| p.c[k * n + x];
                // Upper bound of C_b: its chord, ends raised by their errors.
                let (ub_l, ub_r) = (value(left, b) + left.error, value(right, b) + right.error);
                let upper = |x: f64| ub_l + (ub_r - ub_l) * (x - piece.l) / width;
                // Lower bounds of C_a: lines (point, slope) below it on the whole piece.
                let (la_l, la_r) = (value(left, a) - left.error, value(right, a) - right.error);
                let mut lines = vec![(piece.r, la_r, 0.0)];
                if let Some(p) = prev {
                    let slope = (la_l - (value(p, a) + p.error)) / (piece.l - p.beta);
                    lines.push((piece.l, la_l, slope));
                }
                if let Some(p) = next {
                    let slope = ((value(p, a) + p.error - la_r) / (p.beta - piece.r)).min(0.0);
                    lines.push((piece.r, la_r, slope));
                }
                let lower =
                    |x: f64| lines.iter().map(|&(x0, y0, m)| y0 + m * (x - x0)).fold(f64::NEG_INFINITY, f64::max);
                // lower − upper is convex and piecewise linear: its minimum is at an end or
                // where two lines cross.
                let mut at = vec![piece.l, piece.r];
                for (i, &(x1, y1, m1)) in lines.iter().enumerate() {
                    for &(x2, y2, m2) in &lines[i + 1..] {
                        if (m1 - m2).abs() > 0.0 {
                            let x = (y2 - y1 + m1 * x1 - m2 * x2) / (m1 - m2);
                            if piece.l < x && x < piece.r {
                                at.push(x);
                            }
                        }
                    }
                }
                let certified = if b < a {
                    at.iter().all(|&x| lower(x) - upper(x) > largest)
                } else {
                    at.iter().all(|&x| lower(x) - upper(x) >= -inside)
                };
                if !certified {
                    let tied = |p: &Probe| (value(p, a) - value(p, b)).abs() <= 2.0 * p.error + p.margin[k];
                    return Some((k, b, tied(left) && tied(right)));
                }
            }
        }
        None
    }

    /// Whether actions `a` and `b` at state `s` are the same action: the same reward and
    /// transition row, hence the same value at every β (tie-breaking never picks the later).
    fn same_action(&self, s: usize, a: usize, b: usize) -> bool {
        let r = self.mdp.rewards();
        r[[s, a]].to_bits() == r[[s, b]].to_bits()
            && self.mdp.row(s, a).iter().map(|(j, p)| (j, p.to_bits())).eq(self
                .mdp
                .row(s, b)
                .iter()
                .map(|(j, p)| (j, p.to_bits())))
    }
}

/// Tests added for mutants that `cargo mutants` found alive (docs/mutation-testing.md); each
/// names the mutant it kills.
#[cfg(test)]
mod mutation_tests {
    use super::*;
    use crate::envs::risky_arm;

    /// Kills `check_state` → `Ok(())` and `state < n` → `state <= n`: the risky arm has six
    /// states (0…5), so state 6 is an `InvalidParameter` error for a point and for a sweep,
    /// not an out-of-bounds panic, and state 5 is accepted.
    #[test]
    fn the_state_after_the_last_is_an_error_not_a_panic() {
        let (mdp, options) = (risky_arm::risky_arm(), SolveOptions::default());
        assert!(matches!(sweep_point(&mdp, 6, 1.0, options), Err(Error::InvalidParameter { .. })));
        assert!(matches!(sweep(&mdp, 6, &[1.0, 2.0], options), Err(Error::InvalidParameter { .. })));
        assert!(sweep_point(&mdp, 5, 1.0, options).is_ok());
    }

    /// Kills the mutants that skip the polish on the sign of Q*(s,from) − Q*(s,to)
    /// (`q[from] − q[to]` → `+` or `/`, the bracket widened the wrong way): the first
    /// bisection, on the greedy action, stops where `left` comes within the tie margin
    /// TIE·|Q| ≈ 1e-12 × 2.2 of `right`, before the switch, off by margin / |d(Q_left −
    /// Q_right)/dβ| = 2.2e-12 / (4/β*²) ≈ 2.8e-12. The closed form is β* = 5/ln 9 (from
    /// e^{−5/β} = 0.9·e^{−10/β} + 0.1, see `envs::risky_arm`); the polish finds it to the
    /// rounding of Q (a few 1e-16), so 1e-13 separates the two.
    #[test]
    fn the_polished_switch_matches_the_closed_form_beyond_the_tie_margin() {
        let mdp = risky_arm::risky_arm();
        let grid = [1.0, 10.0];
        let result = sweep(&mdp, risky_arm::S, &grid, SolveOptions::default()).expect("solvable");
        let [switch] = result.switches.as_slice() else { panic!("one switch: {:?}", result.switches) };
        let exact = 5.0 / 9f64.ln();
        assert!((switch.beta - exact).abs() < 1e-13, "{} vs {exact}", switch.beta);
    }

    /// One action at S: reward `first` for taking it, then one of two outcome states, left
    /// with a reward each (probability, reward).
    type Gamble = (f64, [(f64, f64); 2]);

    /// A start state S whose actions are the given gambles; states S, the four outcome states
    /// (two per action) and a terminal one, γ = 1. In nats, with V(outcome) = reward/β,
    /// Q*_β(S,a) = first/β + ln Σ_o p_o·e^{r_o/β}.
    fn gambles_at_start(actions: [Gamble; 2]) -> TabularMdp {
        let n = 6;
        let to = |j: usize| (0..n).map(|k| if k == j { 1.0 } else { 0.0 }).collect::<Vec<f64>>();
        let mut start_rows = Vec::new();
        let mut rewards = vec![vec![0.0; 2]; n];
        let mut transitions = vec![vec![to(n - 1); 2]; n];
        for (a, (first, outcomes)) in actions.iter().enumerate() {
            let mut row = vec![0.0; n];
            for (k, &(p, r)) in outcomes.iter().enumerate() {
                let state = 1 + 2 * a + k;
                row[state] = p;
                rewards[state] = vec![r; 2];
            }
            start_rows.push(row);
            rewards[0][a] = *first;
        }
        transitions[0] = start_rows;
        let spec = crate::mdp::MdpSpec {
            name: "gambles-at-start".into(),
            state_names: None,
            action_names: None,
            gamma: 1.0,
            horizon: None,
            initial: None,
            terminal: Some((0..n).map(|s| s == n - 1).collect()),
            transitions: transitions.into(),
            rewards,
            grid: None,
        };
        TabularMdp::new(spec).expect("a valid hand-built model")
    }

    /// Kills `1e-9 * x` → `1e-9 / x` on either side of the polish bracket's widening
    /// (x = max(|ln β|, 1)). The risky arm with every reward scaled by c = 1e8 and a constant
    /// R added to both actions at S: Q*(S,left) = (R − 5c)/β, Q*(S,right) = R/β +
    /// ln(0.9·e^{−10c/β} + 0.1), so the switch is β* = c·5/ln 9 ≈ 2.28e8 (ln β* ≈ 19.2), and
    /// d(Q_right − Q_left)/d ln β = −4c/β* = −4·ln 9/5 at any c (the risky arm's 4/β*², times
    /// β*). With R = 2000·β*, |Q| ≈ 2000 at β*, so the tie margin 1e-12·2000 puts the greedy
    /// bisection's bracket δ = 2e-9/(4·ln 9/5) ≈ 1.14e-9 off the switch in ln β: inside the
    /// widening 1e-9·19.2 = 1.9e-8, outside the mutants' 1e-9/19.2 = 5.2e-11, which leave the
    /// switch outside the polish bracket, so the polish is skipped and β is off by ≈ 1.1e-9
    /// relative (measured: 1.137e-9 with either mutant). Polished, β is off only by the
    /// rounding of Q (≈ 2000·1e-16 / 1.76 in ln β; measured 7.5e-14 and 8.2e-14). With `left`
    /// as action 0 the greedy bracket lies below the switch (the high side's widening must
    /// reach it), with the actions swapped above (the low side's); 3e-11 lies between.
    #[test]
    fn the_polish_reaches_a_switch_whose_tie_offset_exceeds_the_widening_divided_by_ln_beta() {
        let c = 1e8;
        let exact = c * 5.0 / 9f64.ln();
        let shift = 2000.0 * exact;
        let left: Gamble = (shift - 5.0 * c, [(1.0, 0.0), (0.0, 0.0)]);
        let right: Gamble = (shift, [(0.9, -10.0 * c), (0.1, 0.0)]);
        for (actions, gamble) in [([left, right], 1), ([right, left], 0)] {
            let mdp = gambles_at_start(actions);
            let grid = [exact / 2.0, exact * 2.0];
            let result = sweep(&mdp, 0, &grid, SolveOptions::default()).expect("solvable");
            let [switch] = result.switches.as_slice() else { panic!("one switch: {:?}", result.switches) };
            assert_eq!((switch.from, switch.to), (gamble, 1 - gamble));
            let error = (switch.beta / exact - 1.0).abs();
            assert!(error < 3e-11, "gamble = action {gamble}: {} vs {exact}, relative {error:e}", switch.beta);
        }
    }

    /// Kills `hi + 1e-9 * x` → `hi + 1e-9 + x` in the polish bracket's widening: the mutant
    /// takes the high end from ln β to 2·ln β (for ln β > 1), and where the greedy action
    /// switches back below that, Q(from) − Q(to) has the sign of the low end there too, so the
    /// polish is skipped. Action X pays 2d with probability 2/45 (else 0), action Y ±d with
    /// probability 1/2 each, d = 1000: Q(S,X) = ln(p·y² + 1 − p), Q(S,Y) = ln((y + 1/y)/2)
    /// with y = e^{d/β}, p = 2/45. They are equal where 2p·y³ − y² + 2(1 − p)·y − 1 = 0,
    /// = (y − 1)·(2p·y² + (2p − 1)·y + 1), whose roots y = ((1 − 2p) ± √((1 − 2p)² − 8p))/(4p)
    /// = (41 ± 31)/8 are 9 and 5/4: X (the long shot) below β₁ = d/ln 9 ≈ 455, Y between, X
    /// again (its mean 4d/45 > 0) above β₂ = d/ln(5/4) ≈ 4481 < β₁². At β₁ X is action 0, so
    /// the greedy bracket lies δ = 1e-12·|Q|/|slope| = 1e-12·ln(41/9)/1.33 ≈ 1.1e-12 above β₁
    /// in ln β (the mutant's error, measured 9.5e-13); polished, the error is the rounding of
    /// Q (measured 2.3e-15); 5e-14 lies between. At β₂ the slope is 0.019, so the tie offset
    /// is ≈ 8e-11 and the polished error was measured at 1.2e-15; 1e-12 separates those.
    #[test]
    fn the_polish_keeps_to_the_switch_when_the_greedy_action_switches_back_within_ln_beta() {
        let d = 1000.0;
        let long_shot: Gamble = (0.0, [(2.0 / 45.0, 2.0 * d), (43.0 / 45.0, 0.0)]);
        let coin: Gamble = (0.0, [(0.5, d), (0.5, -d)]);
        let mdp = gambles_at_start([long_shot, coin]);
        let result = sweep(&mdp, 0, &[100.0, 1000.0, 1e5], SolveOptions::default()).expect("solvable");
        let [up, back] = result.switches.as_slice() else { panic!("two switches: {:?}", result.switches) };
        assert_eq!([(up.from, up.to), (back.from, back.to)], [(0, 1), (1, 0)]);
        let (beta_1, beta_2) = (d / 9f64.ln(), d / 1.25f64.ln());
        assert!(beta_2 < beta_1 * beta_1, "the switch back lies below the mutant's high end");
        let (error_1, error_2) = ((up.beta / beta_1 - 1.0).abs(), (back.beta / beta_2 - 1.0).abs());
        assert!(error_1 < 5e-14, "{} vs {beta_1}, relative {error_1:e}", up.beta);
        assert!(error_2 < 1e-12, "{} vs {beta_2}, relative {error_2:e}", back.beta);
    }
}
