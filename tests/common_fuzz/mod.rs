//! Shared pieces of the fuzz harnesses (`tests/fuzz_model_file.rs`, `tests/fuzz_cli_args.rs`):
//! the case count from the environment, the odd number spellings both harnesses feed in, the
//! one-line error check, and a watchdog that turns a hang into a failure.
#![allow(dead_code)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// The number of cases: the environment variable `var` if set (e.g. `RISKMDP_FUZZ_CASES=1000000`
/// for the long run), otherwise `default` (sized so that CI stays fast).
///
/// # Panics
/// If the variable is set but is not a positive integer: a typo must not silently run the
/// default.
pub fn cases(var: &str, default: u32) -> u32 {
    match std::env::var(var) {
        Ok(text) => match text.trim().parse::<u32>() {
            Ok(n) if n > 0 => n,
            _ => panic!("{var}={text:?} is not a positive integer"),
        },
        Err(_) => default,
    }
}

/// Numbers as odd text: non-finite spellings, out-of-range exponents, signed zeros, other
/// bases, separators, padding, overflowing integers, and things that only look like numbers.
pub const ODD_NUMBERS: &[&str] = &[
    "nan",
    "NaN",
    "-nan",
    "inf",
    "-inf",
    "+inf",
    "Infinity",
    "-Infinity",
    "infinity",
    "1e400",
    "-1e400",
    "1e-400",
    "-1e-400",
    "1e308",
    "1.7976931348623157e308",
    "4.9e-324",
    "2.2250738585072014e-308",
    "-0",
    "-0.0",
    "+0",
    "0",
    "0.0",
    "",
    " ",
    " 1",
    "1 ",
    "1\n",
    "0x10",
    "0b1",
    "0o7",
    "1_000",
    "1,5",
    "1.5.2",
    "1e",
    "e5",
    ".5",
    "5.",
    "+1",
    "--1",
    "-1",
    "-2",
    "1",
    "2",
    "0.5",
    "1e-9",
    "1e-12",
    "1e-300",
    "1e7",
    "1e9",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890123456789012345678901234567890",
    "0.000000000000000000000000000000000000000000000000000000000001",
    "١",
    "½",
    "１",
    "β",
    "∞",
    "-∞",
    "1e1000000000000",
    "true",
    "null",
    "[1]",
    "{}",
];

/// Assert that an error message is one non-empty line.
///
/// # Panics
/// If it is empty or holds a line break.
pub fn assert_one_line(message: &str, input: &str) {
    assert!(!message.trim().is_empty(), "empty error message for input {}", shown(input));
    assert!(
        !message.contains('\n') && !message.contains('\r'),
        "error message is not one line: {message:?}\ninput: {}",
        shown(input)
    );
}

/// An input, cut to a readable length for a failure message.
pub fn shown(input: &str) -> String {
    const MAX: usize = 2000;
    if input.len() <= MAX {
        return format!("{input:?}");
    }
    let cut = (0..=MAX).rev().find(|&i| input.is_char_boundary(i)).unwrap_or(0);
    format!("{:?}… ({} bytes)", &input[..cut], input.len())
}

/// The cases in progress, one per test thread, for the watchdog: when each started and what
/// it is.
static CURRENT: Mutex<Vec<(ThreadId, Instant, String)>> = Mutex::new(Vec::new());
static WATCHDOG: AtomicBool = AtomicBool::new(false);

/// Run `case` under a watchdog: if one case runs longer than `limit`, the whole test process
/// prints the input and aborts (a hang cannot be caught any other way in-process, and a
/// `cargo test` whose binary aborts fails).
pub fn watched<T>(limit: Duration, input: &str, case: impl FnOnce() -> T) -> T {
    let current = || CURRENT.lock().unwrap_or_else(|e| e.into_inner());
    if !WATCHDOG.swap(true, Ordering::SeqCst) {
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(200));
                if let Some((_, _, input)) = current().iter().find(|(_, start, _)| start.elapsed() > limit) {
                    eprintln!("HANG: one case ran for more than {limit:?}; input: {input}");
                    std::process::abort();
                }
            }
        });
    }
    let me = std::thread::current().id();
    current().push((me, Instant::now(), shown(input)));
    let out = case();
    current().retain(|(id, _, _)| *id != me);
    out
}
