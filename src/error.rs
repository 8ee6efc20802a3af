//! The crate's one error type.
//!
//! Every variant carries the data a user needs to fix the input: the field, the state and the
//! action (by name when the model has names), and the offending number.

/// Everything that can go wrong in `riskmdp`.
///
/// Messages read like `transitions[3][1] (state `cliff_3`, action `left`): row sums to 0.97,
/// expected 1 within 1e-9`, always on one line (text from outside has its control characters
/// escaped). Tests match variants, not strings.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {}", one_line(.path), .source)]
    Io {
        /// The path as given.
        path: String,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A file is not valid JSON or does not have the expected structure.
    #[error("{}: {}", one_line(.path), one_line(.message))]
    Json {
        /// The path as given.
        path: String,
        /// What serde_json or the loader reported (with line and column where known).
        message: String,
    },
    /// A field has the wrong length.
    #[error("{field}: expected {expected} entries ({what}), found {found}")]
    Shape {
        /// The field, e.g. `transitions[2]`.
        field: String,
        /// What the entries are, e.g. `one per action`.
        what: String,
        /// Expected length.
        expected: usize,
        /// Actual length.
        found: usize,
    },
    /// A number is NaN or infinite.
    #[error("{field}{context}: {value} is not a finite number")]
    NotFinite {
        /// The field, e.g. `rewards[0][1]`.
        field: String,
        /// ` (state `S`, action `left`)` or empty.
        context: String,
        /// The value.
        value: f64,
    },
    /// A probability lies outside [0, 1].
    #[error("{field}{context}: probability {value} is outside [0, 1]")]
    ProbabilityOutOfRange {
        /// The field, e.g. `transitions[0][1][4]`.
        field: String,
        /// ` (state `S`, action `left`)` or empty.
        context: String,
        /// The value.
        value: f64,
    },
    /// A distribution does not sum to one.
    #[error("{field}{context}: row sums to {sum}, expected 1 within {tolerance:e}")]
    NotADistribution {
        /// The field, e.g. `transitions[3][1]` or `initial`.
        field: String,
        /// ` (state `S`, action `left`)` or empty.
        context: String,
        /// The sum found.
        sum: f64,
        /// The tolerance allowed.
        tolerance: f64,
    },
    /// γ is outside (0, 1].
    #[error("gamma: {gamma} is outside (0, 1]")]
    InvalidGamma {
        /// The value given.
        gamma: f64,
    },
    /// β is not a positive finite number.
    #[error("beta: {} must be a positive finite number", short(*.beta))]
    InvalidBeta {
        /// The value given.
        beta: f64,
    },
    /// A named parameter is out of its range.
    #[error("{}: {}", one_line(.name), one_line(.message))]
    InvalidParameter {
        /// The parameter, e.g. `--tol`.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// γ = 1 with no horizon, but some policy never reaches a terminal state.
    #[error(
        "gamma = 1 with no horizon needs every policy to reach a terminal state, but in state `{state}` action `{action}` \
         can keep the agent among {closed} non-terminal state(s) forever; give a horizon, use gamma < 1, or add a terminal state"
    )]
    NonTerminating {
        /// A state of the closed set.
        state: String,
        /// An action that stays in the closed set from that state.
        action: String,
        /// Size of the closed set.
        closed: usize,
    },
    /// The risk-seeking value is infinite (γ = 1, a cycle whose twisted chain does not decay).
    #[error(
        "the value is infinite at beta = {}: around state `{state}` the twisted chain P·exp(r/beta) has \
         log spectral radius at least {log_spectral_radius_lower_bound:.6} > 0 (reward on a cycle outweighs its \
         probability of ending); use a larger beta, gamma < 1 or a horizon",
        short(*.beta)
    )]
    InfiniteValue {
        /// β at which the value diverges.
        beta: f64,
        /// A state on a diverging cycle.
        state: String,
        /// Certified lower bound on the log of the spectral radius.
        log_spectral_radius_lower_bound: f64,
    },
    /// The spectral radius is too close to 1 to decide whether the value is finite.
    #[error(
        "cannot decide whether the value is finite at beta = {}: the twisted chain's spectral radius lies in [{lower:.9}, {upper:.9}]",
        short(*.beta)
    )]
    UndecidedFiniteness {
        /// β.
        beta: f64,
        /// Certified lower bound on the spectral radius.
        lower: f64,
        /// Certified upper bound on the spectral radius.
        upper: f64,
    },
    /// The values overflow f64 (rewards/β/(1−γ) beyond ~1e308).
    #[error(
        "the values overflow at beta = {}: rewards / beta / (1 - gamma) exceed the range of f64 (~1e308); \
         rescale the rewards or use a larger beta",
        short(*.beta)
    )]
    Overflow {
        /// β.
        beta: f64,
    },
    /// A solver met a NaN (or an infinity where none can arise from a valid model): a fault
    /// inside the engine, reported instead of printed, so that no NaN ever reaches an output.
    #[error(
        "{solver}: a non-finite value (NaN) appeared at beta = {}; this is an internal fault of riskmdp, \
         not of the model: please report it",
        short(*.beta)
    )]
    NonFiniteResult {
        /// The solver or loop that met it.
        solver: &'static str,
        /// β at which it appeared.
        beta: f64,
    },
    /// A computation needs a horizon (or no horizon) and the model does not have one.
    #[error("{}", one_line(.what))]
    Unsupported {
        /// What was asked and why it cannot be done.
        what: String,
    },
    /// A figure could not be drawn or encoded.
    #[error("{}: cannot draw the figure: {}", one_line(.path), one_line(.message))]
    Plot {
        /// The output path.
        path: String,
        /// What the plotting library reported.
        message: String,
    },
    /// Feature `mujoco`: a MuJoCo model file is missing or MuJoCo cannot load it.
    #[error(
        "{}: {}; run scripts/setup-mujoco.sh, or set RISKMDP_MUJOCO_ASSETS to a folder with gymnasium's MuJoCo XML files",
        one_line(.path),
        one_line(.message)
    )]
    MujocoModel {
        /// The model file that was looked for.
        path: String,
        /// What is wrong: the file is missing, or MuJoCo's parser message.
        message: String,
    },
    /// Trajectory enumeration would visit too many trajectories.
    #[error("enumerating trajectories would visit more than {limit} of them; use a smaller horizon or model")]
    TooManyTrajectories {
        /// The limit.
        limit: usize,
    },
}

/// Text that came from outside (a path, a key, a parser's message) on one line: control
/// characters such as line breaks are escaped (`\n`), so that every error prints as one line.
pub(crate) fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A number as a person writes it: `2.5`, `1e-300`, `1e7`.
fn short(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || !x.is_finite() || (1e-4..1e6).contains(&a) { format!("{x}") } else { format!("{x:e}") }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
