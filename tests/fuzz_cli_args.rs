//! Claim: the command line takes *any* value for its numbers. Every run of `riskmdp` with odd
//! values for β, ε, tolerances, step sizes and counts ends within a time limit with exit
//! status 0 (valid input: a result, no NaN printed) or 2 (bad input: stdout empty, stderr
//! exactly one non-empty line starting with `error:`), and leaves no partial output file.
//!
//! Each case is one command (`solve`, `sweep`, `dual`, `bench`, `verify`) with each of its
//! numeric flags omitted, set to a valid small value, or set to an odd string (`nan`, `inf`,
//! `1e400`, `-0`, `0x10`, `1_000`, `18446744073709551616`, long digit strings, Unicode, …),
//! written as `--flag value` or `--flag=value`. Counts that parse are kept small: a valid
//! `--cases 10⁹` is a long run, not a bug (see [`Count`]).
//!
//! Case count: `RISKMDP_FUZZ_CLI_CASES` (default 300 process runs, a few seconds). Cases come
//! from proptest's deterministic runner, so a run is reproducible; all cases run and every
//! failure is listed, grouped by kind.

mod common_fuzz;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use common_fuzz::{ODD_NUMBERS, cases};

/// A run still going after this long is a hang.
const TIMEOUT: Duration = Duration::from_secs(20);

/// What kind of value a flag takes.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A real number (β, ε, a tolerance, a step size): every odd string is fair.
    Real,
    /// A count. Values that parse as an integer are kept ≤ `max` (or above `rejected_above`,
    /// where the program refuses them): a valid huge count is a long run, not a bug.
    Count { max: u64, rejected_above: Option<u64> },
    /// Free text (a state name, a claim, a seed): every odd string is fair.
    Text,
}

/// One flag of a command: its name, kind, valid small values, and whether it must be given.
#[derive(Debug, Clone, Copy)]
struct Flag {
    name: &'static str,
    kind: Kind,
    valid: &'static [&'static str],
    required: bool,
}

const fn real(name: &'static str, valid: &'static [&'static str]) -> Flag {
    Flag { name, kind: Kind::Real, valid, required: false }
}
const fn count(name: &'static str, max: u64, rejected_above: Option<u64>, valid: &'static [&'static str]) -> Flag {
    Flag { name, kind: Kind::Count { max, rejected_above }, valid, required: false }
}
const fn text(name: &'static str, valid: &'static [&'static str]) -> Flag {
    Flag { name, kind: Kind::Text, valid, required: false }
}
const fn required(flag: Flag) -> Flag {
    Flag { required: true, ..flag }
}

/// A subcommand, whether it takes the model file, and its fuzzed flags.
struct Subcommand {
    name: &'static str,
    takes_model: bool,
    flags: &'static [Flag],
}

const TOLERANCES: &[&str] = &["1e-9", "1e-6", "0.001"];

const COMMANDS: &[Subcommand] = &[
    Subcommand {
        name: "solve",
        takes_model: true,
        flags: &[
            required(real("--beta", &["0.5", "1", "2.2756", "10"])),
            real("--tol", TOLERANCES),
            // Any sweep limit is fast here: the risky arm converges in a few sweeps.
            count("--max-iter", u64::MAX, None, &["1", "10", "1000"]),
        ],
    },
    Subcommand {
        name: "sweep",
        takes_model: true,
        flags: &[
            real("--beta-min", &["0.1", "1"]),
            real("--beta-max", &["10", "100"]),
            count("--points", 12, Some(100_000), &["2", "3", "9"]),
            real("--tol", TOLERANCES),
            text("--state", &["S", "0", "A", "5", "L"]),
        ],
    },
    Subcommand {
        name: "dual",
        takes_model: true,
        flags: &[
            required(real("--epsilon", &["0.01", "0.1", "0.5"])),
            real("--beta-min", &["0.01", "0.1"]),
            real("--beta-max", &["100", "1000"]),
            count("--points", 12, Some(100_000), &["2", "5", "11"]),
            real("--beta0", &["1", "5"]),
            real("--lr", &["0.1", "1"]),
            count("--steps", 20, None, &["0", "3", "10"]),
            real("--tol", TOLERANCES),
            text("--weights", &["occupancy", "uniform"]),
        ],
    },
    // `bench` twice: a random dense model (--states, --actions) or a grid (--grid), which
    // conflict; the size is always given, since the default (2000 states) takes seconds.
    Subcommand {
        name: "bench",
        takes_model: false,
        flags: &[
            required(count("--states", 8, None, &["1", "2", "5"])),
            count("--actions", 4, None, &["1", "2"]),
            real("--beta", &["0.5", "1"]),
            required(count("--reps", 2, None, &["1", "2"])),
            real("--tol", TOLERANCES),
        ],
    },
    Subcommand {
        name: "bench",
        takes_model: false,
        flags: &[
            required(count("--grid", 12, None, &["10", "11"])),
            real("--beta", &["0.5", "1"]),
            required(count("--reps", 2, None, &["1", "2"])),
            real("--tol", TOLERANCES),
        ],
    },
    Subcommand {
        name: "verify",
        takes_model: false,
        flags: &[
            required(count("--cases", 2, None, &["1", "2"])),
            text("--seed", &["0", "7", "18446744073709551615"]),
            text("--claim", &["theorem-4.2-discounted", "lemma-4.1", "figure-1", "eq-6-7"]),
        ],
    },
];

/// Odd strings beyond [`ODD_NUMBERS`]: very long digit strings and arbitrary Unicode.
fn odd_value(kind: Kind) -> impl Strategy<Value = String> {
    let listed: Vec<String> = ODD_NUMBERS.iter().map(|s| s.to_string()).collect();
    prop_oneof![
        6 => proptest::sample::select(listed),
        1 => "[0-9]{21,400}",
        1 => "-?[0-9]{1,3}\\.[0-9]{300,400}",
        1 => "\\PC{0,12}",
    ]
    .prop_filter("a valid huge count is a long run, not a bug", move |value| match kind {
        Kind::Count { max, rejected_above } => match value.parse::<u64>() {
            Ok(n) => n <= max || rejected_above.is_some_and(|cap| n > cap),
            Err(_) => true,
        },
        Kind::Real | Kind::Text => true,
    })
}

/// One flag's setting: omitted, a valid value, or an odd one; as `--flag v` or `--flag=v`.
fn setting(flag: Flag) -> impl Strategy<Value = Vec<String>> {
    let valid: Vec<String> = flag.valid.iter().map(|s| s.to_string()).collect();
    let value = prop_oneof![
        (if flag.required { 0 } else { 3 }) => Just(None),
        4 => proptest::sample::select(valid).prop_map(Some),
        3 => odd_value(flag.kind).prop_map(Some),
    ];
    (value, any::<bool>()).prop_map(move |(value, joined)| match value {
        None => Vec::new(),
        Some(v) if joined => vec![format!("{}={v}", flag.name)],
        Some(v) => vec![flag.name.to_string(), v],
    })
}

/// The arguments of one case (after the program name).
fn arguments(model: String) -> impl Strategy<Value = Vec<String>> {
    (0..COMMANDS.len(), any::<bool>()).prop_flat_map(move |(c, json)| {
        let command = &COMMANDS[c];
        let model = model.clone();
        command.flags.iter().map(|&flag| setting(flag)).collect::<Vec<_>>().prop_map(move |settings| {
            let mut args = vec![command.name.to_string()];
            if command.takes_model {
                args.push(model.clone());
            }
            args.extend(settings.into_iter().flatten());
            if json {
                args.push("--json".into());
            }
            args
        })
    })
}

/// What one run did.
struct Run {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Run the binary with `args`, killing it after [`TIMEOUT`] (then `status` is `None`).
fn run(args: &[String]) -> Run {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_riskmdp"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // Read both pipes on threads so that a chatty child cannot block on a full pipe.
    let stdout = drain(child.stdout.take().expect("piped"));
    let stderr = drain(child.stderr.take().expect("piped"));
    let status = loop {
        match child.try_wait().expect("wait") {
            Some(status) => break status.code(),
            None if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    };
    Run {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed: start.elapsed(),
    }
}

/// Read a pipe to its end, on its own thread.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Whether `text` prints a NaN (as a word: `NaN`, `nan`, `-NaN`).
fn prints_nan(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric()).any(|word| word.eq_ignore_ascii_case("nan"))
}

/// clap's own usage errors: several lines (the error, a tip, `Usage:`, a `--help` hint). The
/// lead is making the CLI print them on one line; until then they are listed apart.
fn is_clap_usage_error(stderr: &str) -> bool {
    stderr.starts_with("error:") && (stderr.contains("\nUsage:") || stderr.contains("For more information, try"))
}

/// The failures of one run, if any: (kind, description).
fn judge(args: &[String], run: &Run, plot: Option<&Path>) -> Option<(&'static str, String)> {
    let shown = format!("riskmdp {}", args.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>().join(" "));
    let fail = |kind, what: String| Some((kind, format!("{shown}: {what}")));
    match run.status {
        None => fail("hang", format!("killed after {TIMEOUT:?}")),
        Some(0) => {
            if prints_nan(&run.stdout) {
                return fail("nan", format!("exit 0 but stdout prints NaN:\n{}", run.stdout));
            }
            if let Some(path) = plot
                && !std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
            {
                return fail("partial-file", format!("exit 0 but no plot at {}", path.display()));
            }
            None
        }
        Some(2) => {
            if let Some(path) = plot
                && path.exists()
            {
                return fail("partial-file", format!("exit 2 but a plot was written at {}", path.display()));
            }
            if !run.stdout.is_empty() {
                return fail("partial-output", format!("exit 2 but stdout is not empty: {:?}", run.stdout));
            }
            let lines: Vec<&str> = run.stderr.lines().collect();
            let one_line = lines.len() == 1 && lines[0].starts_with("error:") && lines[0].len() > "error:".len();
            if one_line && !run.stderr.trim_end_matches('\n').contains(['\n', '\r']) {
                return None;
            }
            if is_clap_usage_error(&run.stderr) {
                return fail("clap-multi-line", format!("{} stderr lines: {:?}", lines.len(), run.stderr));
            }
            fail("not-one-line", format!("stderr is not one `error:` line: {:?}", run.stderr))
        }
        Some(code) => fail("exit-status", format!("exit {code}; stderr: {:?}", run.stderr)),
    }
}

fn model_path() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mdps/risky_arm.json").display().to_string()
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("riskmdp-fuzz-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Run every case, collecting failures by kind; no case stops the others.
fn run_cases(cases: &[Vec<String>]) -> Vec<(&'static str, String)> {
    let dir = scratch_dir();
    let mut failures = Vec::new();
    let mut slowest = Duration::ZERO;
    for (i, args) in cases.iter().enumerate() {
        // Every fifth `sweep` also draws its plot: a failed run must leave no file behind.
        let plot = (args[0] == "sweep" && i % 5 == 0).then(|| dir.join(format!("case-{i}.svg")));
        let mut args = args.clone();
        if let Some(path) = &plot {
            args.extend(["--plot".to_string(), path.display().to_string()]);
        }
        let run = run(&args);
        if run.elapsed > Duration::from_secs(2) {
            println!("slow run ({:.1} s): riskmdp {}", run.elapsed.as_secs_f64(), args.join(" "));
        }
        slowest = slowest.max(run.elapsed);
        failures.extend(judge(&args, &run, plot.as_deref()));
    }
    // No temporary file of an atomic write may be left behind.
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()))
        .into_iter()
        .flatten()
        .filter(|name| !name.ends_with(".svg"))
        .collect();
    if !leftovers.is_empty() {
        failures.push(("partial-file", format!("left in the output folder: {leftovers:?}")));
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("fuzz_cli_args: {} runs, slowest {:.2} s", cases.len(), slowest.as_secs_f64());
    failures
}

/// Report failures grouped by kind, and fail if there are any of the given kinds.
fn assert_none_of(failures: &[(&'static str, String)], kinds: &[&str]) {
    let relevant: Vec<&(&str, String)> = failures.iter().filter(|(kind, _)| kinds.contains(kind)).collect();
    for (kind, what) in &relevant {
        eprintln!("[{kind}] {what}");
    }
    assert!(relevant.is_empty(), "{} failing runs of kinds {kinds:?} (listed above)", relevant.len());
}

#[test]
fn every_odd_number_on_the_command_line_gives_a_result_or_one_error_line() {
    let n = cases("RISKMDP_FUZZ_CLI_CASES", 300);
    let strategy = arguments(model_path());
    let mut runner = TestRunner::deterministic();
    let cases: Vec<Vec<String>> =
        (0..n).map(|_| strategy.new_tree(&mut runner).expect("strategy draws a case").current()).collect();
    let failures = run_cases(&cases);
    // Real bugs first: a hang, NaN, another exit status, output on failure, a partial file,
    // or an error of the program itself on several lines.
    assert_none_of(&failures, &["hang", "nan", "exit-status", "partial-output", "partial-file", "not-one-line"]);
    // lead: one-line clap errors — clap's usage errors print several lines until the CLI
    // rewrite prints them as one `error:` line; this assertion is strict on purpose.
    assert_none_of(&failures, &["clap-multi-line"]);
}

#[test]
fn the_odd_values_named_in_the_issue_are_handled_for_every_flag() {
    // Each listed odd value once on each fuzzed flag, everything else valid, so that every
    // (flag, value) pair is covered whatever the random draw.
    let model = model_path();
    let mut cases = Vec::new();
    for command in COMMANDS {
        for (k, flag) in command.flags.iter().enumerate() {
            for value in [
                "nan",
                "NaN",
                "inf",
                "-inf",
                "1e400",
                "-0",
                "0",
                "",
                " 1",
                "1e-400",
                "0x10",
                "1_000",
                "-1",
                "18446744073709551616",
                "1\n",
                "β",
            ] {
                if let Kind::Count { max, rejected_above } = flag.kind
                    && value.parse::<u64>().is_ok_and(|n| n > max && rejected_above.is_none_or(|cap| n <= cap))
                {
                    continue;
                }
                let mut args = vec![command.name.to_string()];
                if command.takes_model {
                    args.push(model.clone());
                }
                for (j, other) in command.flags.iter().enumerate() {
                    if j == k {
                        args.push(format!("{}={value}", flag.name));
                    } else if other.required {
                        args.extend([other.name.to_string(), other.valid[0].to_string()]);
                    }
                }
                cases.push(args);
            }
        }
    }
    let failures = run_cases(&cases);
    assert_none_of(&failures, &["hang", "nan", "exit-status", "partial-output", "partial-file", "not-one-line"]);
    // lead: one-line clap errors
    assert_none_of(&failures, &["clap-multi-line"]);
}

#[test]
fn the_judge_fails_each_kind_of_bad_run() {
    // The checks above must be able to fail: one made-up run of each bad kind.
    let args = vec!["solve".to_string()];
    let run = |status, stdout: &str, stderr: &str| Run {
        status,
        stdout: stdout.into(),
        stderr: stderr.into(),
        elapsed: Duration::ZERO,
    };
    let kind = |r: &Run| judge(&args, r, None).map(|(kind, _)| kind);
    assert_eq!(kind(&run(Some(0), "β·V  0.5", "")), None);
    assert_eq!(kind(&run(Some(2), "", "error: beta: NaN must be a positive finite number\n")), None);
    assert_eq!(kind(&run(None, "", "")), Some("hang"));
    assert_eq!(kind(&run(Some(0), "V = NaN", "")), Some("nan"));
    assert_eq!(kind(&run(Some(0), "[-nan, 1]", "")), Some("nan"));
    assert_eq!(kind(&run(Some(101), "", "thread 'main' panicked")), Some("exit-status"));
    assert_eq!(kind(&run(Some(1), "", "")), Some("exit-status"));
    assert_eq!(kind(&run(Some(2), "partial", "error: x\n")), Some("partial-output"));
    assert_eq!(kind(&run(Some(2), "", "")), Some("not-one-line"));
    assert_eq!(kind(&run(Some(2), "", "error:\n")), Some("not-one-line"));
    assert_eq!(kind(&run(Some(2), "", "oops\n")), Some("not-one-line"));
    assert_eq!(kind(&run(Some(2), "", "error: a\nb\n")), Some("not-one-line"));
    let clap = "error: invalid value 'x' for '--beta <BETA>'\n\nFor more information, try '--help'.\n";
    assert_eq!(kind(&run(Some(2), "", clap)), Some("clap-multi-line"));
    let dir = scratch_dir();
    let plot = dir.join("judge.svg");
    assert_eq!(judge(&args, &run(Some(0), "", ""), Some(&plot)).map(|(k, _)| k), Some("partial-file"));
    std::fs::write(&plot, "<svg/>").expect("temp file");
    assert_eq!(judge(&args, &run(Some(2), "", "error: x\n"), Some(&plot)).map(|(k, _)| k), Some("partial-file"));
    let _ = std::fs::remove_dir_all(&dir);
}
