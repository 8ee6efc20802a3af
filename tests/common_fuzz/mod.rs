//! Shared pieces of the fuzz harnesses (`tests/fuzz_model_file.rs`, `tests/fuzz_config_files.rs`,
//! `tests/fuzz_cli_args.rs`): the case count from the environment, the odd number spellings they
//! feed in, the one-line error check, a watchdog that turns a hang into a failure, and the
//! generic JSON families — mutations of a seed file, odd raw numbers, duplicate keys,
//! truncation, byte noise, random bytes, deep nesting, huge arrays, random objects — which know
//! a file format only through its [`Format`]. Not every harness uses every item.
#![allow(dead_code)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

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

/// The outcomes of a fuzz run, counted from proptest's closure (hence atomics), with a progress
/// line every `every` inputs and a summary at the end.
pub struct Tally<const N: usize> {
    name: String,
    labels: [&'static str; N],
    counts: [AtomicUsize; N],
    every: usize,
    start: Instant,
}

impl<const N: usize> Tally<N> {
    /// A tally named `name` (the summary's first word) of the outcomes `labels`.
    pub fn new(name: &str, labels: [&'static str; N], every: usize) -> Self {
        Tally {
            name: name.into(),
            labels,
            counts: std::array::from_fn(|_| AtomicUsize::new(0)),
            every,
            start: Instant::now(),
        }
    }

    /// Count one input with outcome `outcome` (an index into the labels).
    pub fn add(&self, outcome: usize) {
        self.counts[outcome].fetch_add(1, Ordering::Relaxed);
        let done: usize = self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        if done.is_multiple_of(self.every) {
            println!("{}: {done} inputs after {:.0} s", self.name, self.start.elapsed().as_secs_f64());
        }
    }

    /// Print `name: T inputs (a accepted, b rejected, …) in S s (M ms a case): no panic, hang or
    /// multi-line error` and return the counts.
    pub fn finish(self) -> [usize; N] {
        let counts = self.counts.map(AtomicUsize::into_inner);
        let total: usize = counts.iter().sum();
        let parts: Vec<String> = counts.iter().zip(self.labels).map(|(n, label)| format!("{n} {label}")).collect();
        let seconds = self.start.elapsed().as_secs_f64();
        println!(
            "{}: {total} inputs ({}) in {seconds:.1} s ({:.2} ms a case): no panic, hang or multi-line error",
            self.name,
            parts.join(", "),
            seconds * 1e3 / total.max(1) as f64
        );
        counts
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

/// The raw token that replaces a string placeholder in the printed JSON (see [`print_with_raw`]).
pub const RAW: &str = "\u{1}raw";

/// What the generic JSON families need to know of a file format: where its numbers, arrays and
/// keys are. Places are JSON pointers (`/gamma`, `/config/elites`); a place the mutated value no
/// longer has is left alone.
pub struct Format<'a> {
    /// Every top-level key, for [`random_object`].
    pub keys: &'a [&'a str],
    /// Numbers, or (nested) arrays of numbers, that [`random_number`] walks down to.
    pub numbers: &'a [&'a str],
    /// Places that a mutation sets to an odd number spelt raw.
    pub raw: &'a [&'a str],
    /// Keys that a mutation adds at the top: misspellings, the empty key, control characters.
    pub extra_keys: &'a [&'a str],
    /// Places that [`Json::HugeArray`] sets to a huge (or empty) array or count.
    pub arrays: &'a [&'a str],
    /// The format's own mutation, the seventh kind of [`mutate`] (names, enum spellings, nested
    /// parts).
    pub own: fn(&mut Value, &mut ChaCha8Rng),
}

/// The generic families of JSON input, each from a seed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Json {
    /// The seed with one to three [`mutate`]s.
    Mutated,
    /// One number of the seed spelt as an odd raw token ([`ODD_NUMBERS`]).
    RawNumber,
    /// A top-level key twice, before or after the others.
    DuplicateKey,
    /// The seed (mutated or not, compact or pretty) cut at a random character.
    Truncated,
    /// One to eight bytes of the seed replaced, inserted or removed.
    ByteNoise,
    /// Up to 511 random bytes or JSON-ish characters.
    RandomBytes,
    /// A node replaced by up to 200 000 nested arrays or objects, closed or not.
    DeepNesting,
    /// An array place set to a huge or empty array, or to a huge count.
    HugeArray,
    /// The format's keys with random values ([`random_object`]).
    RandomObject,
}

/// The input text of one case of `family`, from `seed` (an object).
pub fn json_input(family: Json, mut seed: Value, format: &Format, rng: &mut ChaCha8Rng) -> String {
    match family {
        Json::Mutated => {
            for _ in 0..rng.random_range(1..=3) {
                mutate(&mut seed, rng, format);
            }
            print_with_raw(&seed, rng)
        }
        Json::RawNumber => {
            *random_number(&mut seed, rng, format) = json!(RAW);
            print_with_raw(&seed, rng)
        }
        Json::DuplicateKey => duplicate_key(&seed, rng),
        Json::Truncated => {
            if rng.random_bool(0.5) {
                mutate(&mut seed, rng, format);
            }
            let text = if rng.random_bool(0.5) { seed.to_string() } else { pretty(&seed) };
            truncated(&text, rng)
        }
        Json::ByteNoise => String::from_utf8_lossy(&byte_noise(seed.to_string().into_bytes(), rng)).into_owned(),
        Json::RandomBytes => random_text(rng),
        Json::DeepNesting => {
            let depth = if rng.random_bool(0.1) { rng.random_range(0..200_000) } else { rng.random_range(0..300) };
            let (open, close) = if rng.random_bool(0.7) { ("[", "]") } else { ("{\"a\":", "}") };
            let closed = rng.random_bool(0.8);
            let nested = format!("{}0{}", open.repeat(depth), if closed { close.repeat(depth) } else { String::new() });
            *random_node(&mut seed, rng) = json!(RAW);
            seed.to_string().replace(&Value::from(RAW).to_string(), &nested)
        }
        Json::HugeArray => {
            let n = if rng.random_bool(0.1) { rng.random_range(0..200_000) } else { rng.random_range(0..2_000) };
            let place = format.arrays[rng.random_range(0..format.arrays.len())];
            let value = match rng.random_range(0..5) {
                0 => json!(n),
                1 => Value::from(vec![json!(0); n]),
                2 => Value::from(vec![json!([]); n]),
                3 => Value::from(vec![json!([[]]); n]),
                _ => Value::from(vec![json!(format!("s{n}")); n]),
            };
            set(&mut seed, place, value);
            seed.to_string()
        }
        Json::RandomObject => print_with_raw(&random_object(format.keys, rng), rng),
    }
}

/// `text` with a top-level key of `object` written twice, with its own or an odd value, after
/// the opening brace or before the closing one.
pub fn duplicate_key(object: &Value, rng: &mut ChaCha8Rng) -> String {
    let text = object.to_string();
    let map = object.as_object().expect("seeds are objects");
    let key = map.keys().nth(rng.random_range(0..map.len())).cloned().unwrap_or_default();
    let value = if rng.random_bool(0.5) { map[&key].clone() } else { odd_value(rng) };
    let duplicate = format!("{}:{},", Value::from(key), value);
    if rng.random_bool(0.5) {
        format!("{{{duplicate}{}", &text[1..])
    } else {
        format!("{},{}}}", &text[..text.len() - 1], duplicate.trim_end_matches(','))
    }
}

/// `text` cut at a random character boundary (possibly to nothing).
pub fn truncated(text: &str, rng: &mut ChaCha8Rng) -> String {
    let cut = rng.random_range(0..text.len());
    let cut = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    text[..cut].to_string()
}

/// `bytes` with one to eight bytes replaced by a random byte, inserted (a JSON character) or
/// removed.
pub fn byte_noise(mut bytes: Vec<u8>, rng: &mut ChaCha8Rng) -> Vec<u8> {
    for _ in 0..rng.random_range(1..=8) {
        if bytes.is_empty() {
            break;
        }
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..3) {
            0 => bytes[at] = rng.random(),
            1 => {
                let alphabet = b"{}[],:\"-.e0123456789 \\";
                bytes.insert(at, alphabet[rng.random_range(0..alphabet.len())]);
            }
            _ => {
                bytes.remove(at);
            }
        }
    }
    bytes
}

/// Up to 511 random bytes (read lossily as UTF-8) or characters of JSON and its keywords.
pub fn random_text(rng: &mut ChaCha8Rng) -> String {
    let n = rng.random_range(0..512);
    if rng.random_bool(0.5) {
        let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        let alphabet = b"{}[],:\"-.eE0123456789 truefalsnNIy";
        (0..n).map(|_| alphabet[rng.random_range(0..alphabet.len())] as char).collect()
    }
}

/// JSON printed pretty.
pub fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// An odd JSON value to put anywhere: wrong types, edge numbers, odd strings, empty and nested
/// containers, and (rarely) a huge array.
pub fn odd_value(rng: &mut ChaCha8Rng) -> Value {
    match rng.random_range(0..16) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 => json!(ODD_NUMBERS[rng.random_range(0..ODD_NUMBERS.len())]),
        3 => json!(f64::MAX),
        4 => json!(-0.0),
        5 => json!(f64::MIN_POSITIVE * rng.random::<f64>()),
        6 => json!(rng.random::<u64>()),
        7 => json!(-(rng.random_range(0..1_000_000i64))),
        8 => json!(rng.random::<f64>() * 3.0 - 1.0),
        9 => json!([]),
        10 => json!({}),
        11 => json!([[]]),
        12 => json!({"rows": rng.random_range(0..12), "cols": rng.random_range(0..12)}),
        13 => {
            let n = if rng.random_bool(0.05) { rng.random_range(0..20_000) } else { rng.random_range(0..8) };
            let fill = match rng.random_range(0..4) {
                0 => json!(0),
                1 => json!(1.0 / n.max(1) as f64),
                2 => json!([]),
                _ => json!([0, 1]),
            };
            Value::from(vec![fill; n])
        }
        14 => json!(rng.random_range(0..u32::MAX as u64)),
        _ => json!(RAW),
    }
}

/// A node of `v` reached by a random walk from the root (stops early with probability 1/4 per
/// level, so the root's fields are hit as well as single numbers).
pub fn random_node<'a>(v: &'a mut Value, rng: &mut ChaCha8Rng) -> &'a mut Value {
    let stop = rng.random_bool(0.25);
    let len = match v {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    };
    if len == 0 || (stop && !v.is_object()) {
        return v;
    }
    let k = rng.random_range(0..len);
    match v {
        Value::Array(a) => random_node(&mut a[k], rng),
        Value::Object(o) => {
            let key = o.keys().nth(k).cloned().unwrap_or_default();
            random_node(o.get_mut(&key).expect("key exists"), rng)
        }
        _ => unreachable!("len > 0 only for containers"),
    }
}

/// The same value as another JSON type.
pub fn change_type(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(s) => s.parse::<f64>().map_or_else(|_| Value::from(vec![s.clone()]), |x| json!(x)),
        Value::Array(a) => Value::Object(a.iter().enumerate().map(|(i, x)| (i.to_string(), x.clone())).collect()),
        Value::Object(o) => Value::from(o.values().cloned().collect::<Vec<_>>()),
        Value::Bool(b) => json!(u8::from(*b)),
        Value::Null => json!(0),
    }
}

/// `keys`, each present with probability 3/4, with random values, and sometimes a key `extra`.
pub fn random_object(keys: &[&str], rng: &mut ChaCha8Rng) -> Value {
    let mut o = Map::new();
    for key in keys {
        if rng.random_bool(0.75) {
            o.insert((*key).to_string(), random_json(rng, 3));
        }
    }
    if rng.random_bool(0.2) {
        o.insert("extra".into(), random_json(rng, 2));
    }
    Value::Object(o)
}

/// Random JSON at most `depth` containers deep, with [`odd_value`] leaves among plain ones.
pub fn random_json(rng: &mut ChaCha8Rng, depth: u32) -> Value {
    match rng.random_range(0..if depth == 0 { 3 } else { 5 }) {
        0 => odd_value(rng),
        1 => json!(rng.random_range(0..4)),
        2 => json!(rng.random::<f64>()),
        3 => Value::from((0..rng.random_range(0..4)).map(|_| random_json(rng, depth - 1)).collect::<Vec<_>>()),
        _ => {
            Value::Object((0..rng.random_range(0..3)).map(|i| (format!("k{i}"), random_json(rng, depth - 1))).collect())
        }
    }
}

/// Print `v` and put a random odd raw token where the placeholder string [`RAW`] stands.
pub fn print_with_raw(v: &Value, rng: &mut ChaCha8Rng) -> String {
    let text = v.to_string();
    let token = ODD_NUMBERS[rng.random_range(0..ODD_NUMBERS.len())];
    text.replace(&Value::from(RAW).to_string(), token)
}

/// Set the place `pointer` of `v` to `value`: a key of an object (created in a `null` parent),
/// or an existing element of an array. Nothing happens where the parent is missing or is
/// another type.
pub fn set(v: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    let key = key.replace("~1", "/").replace("~0", "~");
    match v.pointer_mut(parent) {
        Some(Value::Object(o)) => {
            o.insert(key, value);
        }
        Some(node @ Value::Null) => *node = Value::Object(Map::from_iter([(key, value)])),
        Some(Value::Array(a)) => {
            if let Some(slot) = key.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                *slot = value;
            }
        }
        _ => {}
    }
}

/// A number of `v` at one of the format's number places, found by walking down random
/// elements of nested arrays (or `v` itself where the place is missing).
pub fn random_number<'a>(v: &'a mut Value, rng: &mut ChaCha8Rng, format: &Format) -> &'a mut Value {
    let place = format.numbers[rng.random_range(0..format.numbers.len())];
    if v.pointer(place).is_none() {
        return v;
    }
    first_leaf(v.pointer_mut(place).expect("the place exists"), rng)
}

/// Down random elements of nested arrays to a non-array (or an empty array).
pub fn first_leaf<'a>(node: &'a mut Value, rng: &mut ChaCha8Rng) -> &'a mut Value {
    let len = node.as_array().map_or(0, Vec::len);
    if len == 0 {
        return node;
    }
    let k = rng.random_range(0..len);
    first_leaf(&mut node[k], rng)
}

/// One mutation of a JSON tree: a node replaced by an odd value, a key or element deleted, a
/// node's type changed, a number moved a little or anywhere, an extra key, a number spelt raw,
/// or the format's own mutation.
pub fn mutate(v: &mut Value, rng: &mut ChaCha8Rng, format: &Format) {
    match rng.random_range(0..7) {
        0 => *random_node(v, rng) = odd_value(rng),
        1 => {
            // Delete a key or an element.
            let node = random_node(v, rng);
            match node {
                Value::Object(o) if !o.is_empty() => {
                    let key = o.keys().nth(rng.random_range(0..o.len())).cloned().unwrap_or_default();
                    o.remove(&key);
                }
                Value::Array(a) if !a.is_empty() => {
                    a.remove(rng.random_range(0..a.len()));
                }
                other => *other = Value::Null,
            }
        }
        2 => {
            let node = random_node(v, rng);
            *node = change_type(node);
        }
        3 => {
            // Move one number: a small step (within or just beyond a 1e-9 tolerance) or
            // anywhere in [−0.5, 1.5].
            let node = random_number(v, rng, format);
            let old = node.as_f64().unwrap_or(0.0);
            let step = [1e-12, 1e-10, 5e-10, 1e-9, 2e-9, 1e-6, 0.1][rng.random_range(0..7)];
            *node = match rng.random_range(0..3) {
                0 => json!(old + step),
                1 => json!(old - step),
                _ => json!(rng.random::<f64>() * 2.0 - 0.5),
            };
        }
        4 => {
            let key = format.extra_keys[rng.random_range(0..format.extra_keys.len())];
            if let Some(o) = v.as_object_mut() {
                o.insert(key.to_string(), odd_value(rng));
            }
        }
        5 => {
            let place = format.raw[rng.random_range(0..format.raw.len())];
            set(v, place, json!(RAW));
        }
        _ => (format.own)(v, rng),
    }
}
