//! The course page's engine: [`riskmdp`] compiled to `wasm32-unknown-unknown` behind a thin
//! layer of plain `extern "C"` functions.
//!
//! Every number the page shows comes from here, and every one of them from a library call the
//! command line makes too: [`riskmdp::report::solve`] (what `riskmdp solve --json` prints),
//! [`riskmdp::report::sweep`] (`riskmdp sweep --json`), [`GridLayout::infer`] and
//! [`greedy_path`] (`riskmdp solve --plot`), and [`bisect_log_beta`] for the β where the greedy
//! path changes. The page draws; it computes nothing.
//!
//! # The calling convention
//!
//! * Input text (a model file) goes into memory from [`rm_alloc`], is read by [`rm_load`] and
//!   given back with [`rm_free`].
//! * Every call that produces text (JSON, or one `error: …` line) leaves it in one output
//!   buffer, read as UTF-8 at [`rm_out_ptr`] for [`rm_out_len`] bytes until the next call.
//! * Calls return 0 (or a model handle ≥ 1) on success and −1 (or handle 0) on failure; the
//!   output then holds the line the command line would print, e.g.
//!   `error: transitions[0][1] sums to 0.97, expected 1 within 1e-9`.
//! * Models live in slots addressed by handles until [`rm_drop`].
//!
//! The module imports nothing (no `getrandom`, no wasm-bindgen), so a plain
//! `WebAssembly.instantiate(bytes)` runs it.
//!
//! Build the page with `scripts/build-web.sh`; its browser test is
//! `web/test/course-page.test.mjs` (README, "Course page").
#![warn(missing_docs)]

use std::cell::RefCell;

use riskmdp::bisection::{Side, Width, bisect_log_beta};
use riskmdp::dual::log_grid;
use riskmdp::mdp::layout::GridLayout;
use riskmdp::policy::greedy_path;
use riskmdp::report::{self, PosteriorDynamics, SolveReport, SweepReport};
use riskmdp::{Beta, Error, Method, SolveOptions, TabularMdp};
use serde::Serialize;

/// The smallest and largest β of the page's slider and sweeps.
pub const BETA_RANGE: (f64, f64) = (1e-2, 1e3);

/// Largest model file the page reads (bytes).
pub const MAX_FILE_BYTES: usize = 4_000_000;
/// Most states of a model the page solves: `riskmdp solve` reports the expected return of the
/// greedy policy by a dense linear solve, O(S³), which must take a moment in the page.
pub const MAX_STATES: usize = 1_000;
/// Most transition entries (S·A·S of a dense model, the nonzeros of a sparse one). A sweep
/// solves the model about 150 times; the page also times one solve before it sweeps (a slow
/// discount, γ near 1, costs many operator sweeps per solve).
pub const MAX_ENTRIES: usize = 100_000;

/// A loaded model and what the page keeps of it.
struct Slot {
    mdp: TabularMdp,
    /// The grid layout, when the model declares a grid that can be drawn.
    layout: Option<GridLayout>,
}

thread_local! {
    static SLOTS: RefCell<Vec<Option<Slot>>> = const { RefCell::new(Vec::new()) };
    static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn set_out(text: &str) {
    OUT.with(|o| {
        let mut o = o.borrow_mut();
        o.clear();
        o.extend_from_slice(text.as_bytes());
    });
}

/// Leave `value` as JSON in the output buffer; 0, or −1 with the error line.
fn reply<T: Serialize>(value: riskmdp::Result<T>) -> i32 {
    match value.and_then(|v| {
        serde_json::to_string(&v).map_err(|e| Error::Json { path: "<page>".into(), message: e.to_string() })
    }) {
        Ok(json) => {
            set_out(&json);
            0
        }
        Err(e) => {
            set_out(&error_line(&e));
            -1
        }
    }
}

/// The line `riskmdp` prints on stderr for an error.
pub fn error_line(e: &Error) -> String {
    format!("error: {e}")
}

fn with_slot<T>(handle: u32, f: impl FnOnce(&Slot) -> riskmdp::Result<T>) -> riskmdp::Result<T> {
    SLOTS.with(|slots| {
        let slots = slots.borrow();
        let slot = (handle as usize).checked_sub(1).and_then(|i| slots.get(i)).and_then(Option::as_ref);
        match slot {
            Some(slot) => f(slot),
            None => Err(Error::InvalidParameter { name: "model".into(), message: format!("no model {handle}") }),
        }
    })
}

/// Why a model is too large for the page, or `None`.
pub fn too_large(mdp: &TabularMdp) -> Option<String> {
    let (s, a) = (mdp.n_states(), mdp.n_actions());
    let entries = if mdp.is_sparse() { mdp.nonzeros() } else { s * a * s };
    (s > MAX_STATES || entries > MAX_ENTRIES).then(|| {
        format!(
            "error: `{}` is too large for the page ({s} states, {entries} transition entries; at most \
             {MAX_STATES} states and {MAX_ENTRIES} entries): run `riskmdp sweep` on it instead",
            mdp.name()
        )
    })
}

/// Parse a model file (the crate's JSON format) named `name`; the same checks and messages as
/// `riskmdp solve FILE`, plus the page's size limit.
///
/// # Errors
/// The `error: …` line of the first problem.
pub fn load(text: &str, name: &str) -> Result<TabularMdp, String> {
    if text.len() > MAX_FILE_BYTES {
        return Err(format!(
            "error: {name}: the file has {} bytes; the page reads at most {MAX_FILE_BYTES}",
            text.len()
        ));
    }
    let mdp = TabularMdp::from_json_str(text, name).map_err(|e| error_line(&e))?;
    match too_large(&mdp) {
        Some(line) => Err(line),
        None => Ok(mdp),
    }
}

/// A loaded model, as the page needs to draw it.
#[derive(Debug, Serialize)]
pub struct ModelInfo {
    /// The model's name.
    pub name: String,
    /// State names.
    pub states: Vec<String>,
    /// Action names.
    pub actions: Vec<String>,
    /// Terminal flags.
    pub terminal: Vec<bool>,
    /// Discount γ.
    pub gamma: f64,
    /// Horizon T, if any.
    pub horizon: Option<usize>,
    /// The initial state, if ρ is a point mass.
    pub initial_state: Option<usize>,
    /// The grid, if the model declares one the page can draw.
    pub layout: Option<GridLayout>,
}

/// What the page shows of a model.
pub fn info(mdp: &TabularMdp, layout: Option<&GridLayout>) -> ModelInfo {
    ModelInfo {
        name: mdp.name().to_string(),
        states: mdp.state_names().to_vec(),
        actions: mdp.action_names().to_vec(),
        terminal: mdp.terminal().to_vec(),
        gamma: mdp.gamma(),
        horizon: mdp.horizon(),
        initial_state: mdp.initial_state(),
        layout: layout.cloned(),
    }
}

/// The optimum at one β as the page shows it: the fields of `riskmdp solve --json` at t = 0,
/// the posterior dynamics of one state, and (for a grid) the greedy path and the posterior of
/// the greedy action in every cell.
#[derive(Debug, Serialize)]
pub struct SolveView {
    /// β.
    pub beta: f64,
    /// Why the solver stopped.
    pub termination: String,
    /// Operator sweeps.
    pub iterations: usize,
    /// Last sup-norm change of V.
    pub residual: f64,
    /// Certified error bound of Q and V.
    pub error_bound: f64,
    /// V(s), nats (t = 0).
    pub v: Vec<f64>,
    /// β·V(s), reward units (t = 0).
    pub certainty_equivalent: Vec<f64>,
    /// β·Q(s,a), reward units (t = 0).
    pub certainty_equivalent_q: Vec<Vec<f64>>,
    /// The greedy action per state (t = 0).
    pub greedy: Vec<usize>,
    /// Expected return of the greedy policy (β = ∞ reference), reward units.
    pub expected_return: Vec<f64>,
    /// The chosen state.
    pub state: usize,
    /// P(s'|state, a) for every action a: A rows of S probabilities.
    pub prior: Vec<Vec<f64>>,
    /// q(s'|state, a) for every action a: A rows of S probabilities (t = 0).
    pub posterior: Vec<Vec<f64>>,
    /// For a grid: per cell, the `[s', q(s'|s, greedy)]` pairs with q > 0 (empty at terminals).
    pub greedy_posterior: Vec<Vec<(usize, f64)>>,
    /// For a grid with a start: the greedy path.
    pub path: Vec<usize>,
    /// Whether the path passes a cell next to a hazard (the cliff).
    pub path_near_hazard: bool,
}

/// Row `s` of the report's posterior dynamics (t = 0), dense.
fn posterior_rows(r: &SolveReport, s: usize) -> Vec<Vec<f64>> {
    let n = r.states.len();
    match r.posterior_dynamics.first() {
        PosteriorDynamics::Dense(p) => p[s].clone(),
        PosteriorDynamics::Sparse(p) => p[s]
            .iter()
            .map(|pairs| {
                let mut row = vec![0.0; n];
                for &(j, q) in pairs {
                    row[j] = q;
                }
                row
            })
            .collect(),
    }
}

/// Solve the optimum at β exactly as `riskmdp solve FILE --beta β` does (value iteration, the
/// default tolerance and sweep limit) and take the page's view of it at `state`.
///
/// # Errors
/// Those of [`report::solve`], and a state the model does not have.
pub fn solve_view(
    mdp: &TabularMdp,
    layout: Option<&GridLayout>,
    beta: f64,
    state: usize,
) -> riskmdp::Result<SolveView> {
    if state >= mdp.n_states() {
        return Err(Error::InvalidParameter { name: "state".into(), message: format!("no state {state}") });
    }
    // `riskmdp solve`'s defaults: --tol 1e-12, --max-iter 1000000, value iteration.
    let options = SolveOptions::default();
    let r = report::solve(mdp, Beta::new(beta)?, None, Method::ValueIteration, options)?.report;
    let greedy = r.greedy.first().clone();
    let (greedy_posterior, path, path_near_hazard) = match layout {
        Some(l) => {
            let cells = l.rows * l.cols;
            let pairs = (0..cells)
                .map(|s| {
                    if mdp.is_terminal(s) {
                        return Vec::new();
                    }
                    let row = &posterior_rows(&r, s)[greedy[s]];
                    row.iter().enumerate().filter(|&(_, &q)| q > 0.0).map(|(j, &q)| (j, q)).collect()
                })
                .collect();
            let path = l.start.map(|s| greedy_path(mdp, &greedy, s, cells)).unwrap_or_default();
            let near = near_hazard(l, &path);
            (pairs, path, near)
        }
        None => (Vec::new(), Vec::new(), false),
    };
    Ok(SolveView {
        beta,
        termination: format!("{}", r.termination),
        iterations: r.iterations,
        residual: r.residual,
        error_bound: r.error_bound,
        v: r.v.first().clone(),
        certainty_equivalent: r.certainty_equivalent.first().clone(),
        certainty_equivalent_q: r.certainty_equivalent_q.first().clone(),
        prior: (0..mdp.n_actions()).map(|a| mdp.transition_row(state, a).into_owned()).collect(),
        posterior: posterior_rows(&r, state),
        greedy,
        expected_return: r.expected_return.clone(),
        state,
        greedy_posterior,
        path,
        path_near_hazard,
    })
}

/// The β sweep at `state` over [`BETA_RANGE`] with `points` grid points: exactly
/// `riskmdp sweep FILE --state NAME --points N --json`.
///
/// # Errors
/// Those of [`report::sweep`].
pub fn sweep(mdp: &TabularMdp, state: usize, points: usize) -> riskmdp::Result<SweepReport> {
    let name = mdp.state_names().get(state).cloned().unwrap_or_else(|| state.to_string());
    report::sweep(mdp, Some(&name), (BETA_RANGE.0, BETA_RANGE.1, points), SolveOptions::default())
}

/// A β where the greedy path of a grid model changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathSwitch {
    /// β of the change (bisection in log β to 1e-12 relative).
    pub beta: f64,
    /// The path just below.
    pub below: Vec<usize>,
    /// The path just above.
    pub above: Vec<usize>,
    /// Whether the path below passes a cell next to a hazard (the cliff).
    pub below_near_hazard: bool,
    /// Whether the path above does.
    pub above_near_hazard: bool,
}

/// Whether `path` passes through a cell that shares an edge with a hazard cell.
pub fn near_hazard(layout: &GridLayout, path: &[usize]) -> bool {
    path.iter().any(|&s| layout.hazards.iter().any(|&h| layout.adjacent(s, h)))
}

/// Every change of the greedy path from the start between the points of a log grid on
/// [`BETA_RANGE`], located by [`bisect_log_beta`] (what `examples/cliff_gridworld.rs` prints as
/// the path switch).
///
/// # Errors
/// [`Error::Unsupported`] without a grid and a start; those of the solver.
pub fn path_switches(mdp: &TabularMdp, layout: &GridLayout, points: usize) -> riskmdp::Result<Vec<PathSwitch>> {
    let start = layout.start.ok_or_else(|| Error::Unsupported {
        what: "a greedy path needs a start cell (ρ a point mass on a cell)".into(),
    })?;
    let cells = layout.rows * layout.cols;
    let path_at = |beta: f64| -> riskmdp::Result<Vec<usize>> {
        let sol = riskmdp::solve_optimal(mdp, Beta::new(beta)?, Method::ValueIteration, SolveOptions::default())?;
        let greedy = riskmdp::solve::greedy_actions(mdp, sol.q0().view());
        Ok(greedy_path(mdp, &greedy, start, cells))
    };
    let grid = log_grid(BETA_RANGE.0, BETA_RANGE.1, points)?;
    let paths = grid.iter().map(|&b| path_at(b)).collect::<riskmdp::Result<Vec<_>>>()?;
    let mut switches = Vec::new();
    for i in 1..grid.len() {
        if paths[i - 1] == paths[i] {
            continue;
        }
        let below = &paths[i - 1];
        let bracket = bisect_log_beta(grid[i - 1].ln(), grid[i].ln(), Width::Relative(1e-13), |beta| {
            Ok(if path_at(beta)? == *below { Side::Below } else { Side::Above })
        })?;
        let beta = bracket.beta();
        let above = path_at(bracket.hi.exp())?;
        let (below_near_hazard, above_near_hazard) = (near_hazard(layout, below), near_hazard(layout, &above));
        switches.push(PathSwitch { beta, below: below.clone(), above, below_near_hazard, above_near_hazard });
    }
    Ok(switches)
}

/// The risky arm's closed forms (Fig. 1), for the page's marks.
#[derive(Debug, Serialize)]
pub struct RiskyArmMarks {
    /// β* = 5/ln 9, where the greedy action at S switches ([`riskmdp::envs::risky_arm::switch_beta`]).
    pub switch_beta: f64,
    /// 10/ln 9, where the posterior gives A and B equal mass
    /// ([`riskmdp::envs::risky_arm::equal_posterior_beta`]).
    pub equal_posterior_beta: f64,
}

// ---------------------------------------------------------------------------------------------
// The exports. Each is a thin shell: read the arguments, call one function above, leave its
// answer in the output buffer.

/// Memory for `len` bytes of input (a model file), to fill from JavaScript and hand to
/// [`rm_load`]; give it back with [`rm_free`].
#[unsafe(no_mangle)]
pub extern "C" fn rm_alloc(len: usize) -> *mut u8 {
    let mut buf = Vec::<u8>::with_capacity(len);
    let ptr = buf.as_mut_ptr();
    std::mem::forget(buf);
    ptr
}

/// Give back memory from [`rm_alloc`].
///
/// # Safety
/// `ptr` and `len` must come from one call of [`rm_alloc`], freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rm_free(ptr: *mut u8, len: usize) {
    // SAFETY: the caller passes back a buffer of rm_alloc (capacity `len`), once.
    drop(unsafe { Vec::from_raw_parts(ptr, 0, len) });
}

/// The output buffer's address.
#[unsafe(no_mangle)]
pub extern "C" fn rm_out_ptr() -> *const u8 {
    OUT.with(|o| o.borrow().as_ptr())
}

/// The output buffer's length in bytes.
#[unsafe(no_mangle)]
pub extern "C" fn rm_out_len() -> usize {
    OUT.with(|o| o.borrow().len())
}

/// Parse the model file at `text_ptr` (`text_len` bytes of UTF-8) called `name`: a handle ≥ 1,
/// or 0 with the `error: …` line in the output.
///
/// # Safety
/// Both ranges must be readable memory of this module (from [`rm_alloc`]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rm_load(text_ptr: *const u8, text_len: usize, name_ptr: *const u8, name_len: usize) -> u32 {
    // SAFETY: the caller guarantees both ranges are initialised memory of this module.
    let (text, name) =
        unsafe { (std::slice::from_raw_parts(text_ptr, text_len), std::slice::from_raw_parts(name_ptr, name_len)) };
    let name = String::from_utf8_lossy(name);
    let loaded = match std::str::from_utf8(text) {
        Ok(text) => load(text, &name),
        Err(e) => Err(format!("error: {name}: the file is not UTF-8 text ({e})")),
    };
    match loaded {
        Ok(mdp) => {
            let layout = mdp.grid().and_then(|_| GridLayout::infer(&mdp).ok());
            set_out("");
            SLOTS.with(|slots| {
                let mut slots = slots.borrow_mut();
                slots.push(Some(Slot { mdp, layout }));
                slots.len() as u32
            })
        }
        Err(line) => {
            set_out(&line);
            0
        }
    }
}

/// Forget model `handle`.
#[unsafe(no_mangle)]
pub extern "C" fn rm_drop(handle: u32) {
    SLOTS.with(|slots| {
        if let Some(slot) =
            (handle as usize).checked_sub(1).and_then(|i| slots.borrow_mut().get_mut(i).map(Option::take))
        {
            drop(slot);
        }
    });
}

/// [`ModelInfo`] of model `handle` as JSON.
#[unsafe(no_mangle)]
pub extern "C" fn rm_info(handle: u32) -> i32 {
    reply(with_slot(handle, |s| Ok(info(&s.mdp, s.layout.as_ref()))))
}

/// [`SolveView`] of model `handle` at `beta`, looking at `state`, as JSON.
#[unsafe(no_mangle)]
pub extern "C" fn rm_solve(handle: u32, beta: f64, state: u32) -> i32 {
    reply(with_slot(handle, |s| solve_view(&s.mdp, s.layout.as_ref(), beta, state as usize)))
}

/// The sweep report ([`sweep`]) of model `handle` at `state` as JSON.
#[unsafe(no_mangle)]
pub extern "C" fn rm_sweep(handle: u32, state: u32, points: u32) -> i32 {
    reply(with_slot(handle, |s| sweep(&s.mdp, state as usize, points as usize)))
}

/// [`RiskyArmMarks`] as JSON.
#[unsafe(no_mangle)]
pub extern "C" fn rm_risky_arm_marks() -> i32 {
    use riskmdp::envs::risky_arm::{equal_posterior_beta, switch_beta};
    reply(Ok(RiskyArmMarks { switch_beta: switch_beta(), equal_posterior_beta: equal_posterior_beta() }))
}

/// The greedy path's switches ([`path_switches`]) of grid model `handle` as JSON.
#[unsafe(no_mangle)]
pub extern "C" fn rm_path_switches(handle: u32, points: u32) -> i32 {
    reply(with_slot(handle, |s| match &s.layout {
        Some(l) => path_switches(&s.mdp, l, points as usize),
        None => Err(Error::Unsupported { what: format!("`{}` declares no grid to walk on", s.mdp.name()) }),
    }))
}

#[cfg(test)]
mod tests {
    use riskmdp::envs::risky_arm;

    use super::*;

    fn model(file: &str) -> TabularMdp {
        let path = format!("{}/../examples/mdps/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("the example models are in the repository");
        load(&text, file).expect("a valid model")
    }

    #[test]
    fn the_risky_arm_view_has_the_closed_forms() {
        let mdp = model("risky_arm.json");
        let v = solve_view(&mdp, None, 1.0, risky_arm::S).expect("solves");
        // β·Q*(S,right) = β·log(0.9·e^{−10/β} + 0.1), q(A|S,right) in closed form.
        let closed = (0.9 * (-10f64).exp() + 0.1).ln();
        assert!((v.certainty_equivalent_q[risky_arm::S][risky_arm::RIGHT] - closed).abs() < 1e-12);
        assert!((v.posterior[risky_arm::RIGHT][risky_arm::A] - risky_arm::posterior_a(1.0)).abs() < 1e-12);
        assert_eq!(v.greedy[risky_arm::S], risky_arm::RIGHT);
        assert!(v.path.is_empty() && v.greedy_posterior.is_empty());
    }

    #[test]
    fn a_bad_file_gets_the_command_lines_line() {
        let line = load(r#"{"states": 2}"#, "bad.json").expect_err("invalid");
        assert_eq!(line, "error: bad.json: missing field `actions` at line 1 column 13");
    }

    #[test]
    fn a_model_too_large_for_the_page_is_refused_with_a_line() {
        let n = MAX_STATES + 1;
        let rows: Vec<String> = (0..n).map(|s| format!("[[[{}, 1]]]", (s + 1).min(n - 1))).collect();
        let text = format!(
            r#"{{"states": {n}, "actions": 1, "gamma": 0.9, "transitions": [{}], "rewards": [{}]}}"#,
            rows.join(","),
            vec!["[1]"; n].join(",")
        );
        let line = load(&text, "chain.json").expect_err("too large");
        assert!(line.starts_with("error: `chain` is too large for the page (1001 states"), "{line}");
    }

    #[test]
    fn the_cliff_path_leaves_the_cliff_at_4_6908() {
        let mdp = model("cliff_gridworld.json");
        let layout = GridLayout::infer(&mdp).expect("a grid");
        let switches = path_switches(&mdp, &layout, 41).expect("solves");
        let leaves: Vec<f64> =
            switches.iter().filter(|s| s.below_near_hazard && !s.above_near_hazard).map(|s| s.beta).collect();
        assert_eq!(leaves.len(), 1, "{switches:?}");
        assert!((leaves[0] - 4.6908).abs() < 5e-5, "{}", leaves[0]);
    }
}
