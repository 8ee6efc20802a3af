//! Claim: the config and checkpoint loaders take *any* input. Every text given to
//! [`LearnConfig::from_json_str`] or (feature `candle`) `TrainConfig::from_json_str` ends in a
//! config that passes its own `validate` and reads back equal from its JSON, or in one non-empty
//! error line; every `checkpoint.json` + `checkpoint.safetensors` pair given to `Learner::load`
//! ends in a learner whose actor evaluates to a finite return (or one error line), or in one
//! error line; never a panic, a hang or an abort.
//!
//! Config inputs come from the generic JSON families of `common_fuzz` (mutated seeds — a value
//! replaced by an odd one, a key deleted, added or misspelt, a type changed, a number moved, an
//! enum spelt oddly, a count or real set to an edge value —, numbers spelt as odd raw text,
//! duplicate keys, truncation, byte noise, random bytes, deep nesting, huge arrays, random objects
//! with the config's keys) and from random subsets of a seed's fields (a config file may give any
//! subset). Seeds: the defaults and the presets (`cliff_figure_3`, `mnm_figure_6`;
//! `mountain_car_cpu`, `pendulum_cpu`).
//!
//! Checkpoint inputs start from two checkpoints trained once per run (Mountain Car β-VMBPO and
//! Pendulum SAC, 200 steps of a tiny config). Each case writes, into its own folder, the
//! metadata as is or from a JSON family (with the nested config, elites, standardisers, β, step,
//! environment and algorithm names among the mutated places; or as raw bytes with noise, so not
//! always UTF-8) and the tensor file as is or with one fault: truncated at a random byte, byte
//! noise anywhere, noise in the weights, one weight set to NaN/±∞/huge/subnormal, random bytes,
//! an empty file, no file, a corrupted header length, a header JSON from a JSON family (dtypes,
//! shapes, offsets), or the other checkpoint's tensors. A metadata file that parses and names
//! networks of more than `candle::MAX_WEIGHTS` weights is not loaded (see there). A failing case
//! leaves its folder under `target/tmp/fuzz_config_files/`. Each harness also runs with planted
//! faults (a panic on an accepted input, a second error line, a loader that skips validation)
//! and must fail, so that a check that cannot fail does not pass unnoticed.
//!
//! Case count: `RISKMDP_FUZZ_CASES` for every loader (default 3000 per config loader and 150
//! checkpoints, a few seconds in release). The long run:
//! `RISKMDP_FUZZ_CASES=100000 cargo test --release --features candle --test fuzz_config_files -- --nocapture`
//! (about 10 minutes on two cores: a config takes microseconds, a checkpoint about 5 ms).

mod common_fuzz;

use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, TestRng, TestRunner};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use riskmdp::learn::LearnConfig;
use serde::Serialize;
use serde_json::{Value, json};

use common_fuzz::{
    Format, Json, Tally, assert_one_line, cases, json_input, mutate, print_with_raw, set, shown, watched,
};

/// One case may take this long before the watchdog calls it a hang (a config parses in
/// microseconds; a checkpoint loads and evaluates in milliseconds).
const HANG: Duration = Duration::from_secs(30);

/// Default cases per config loader.
const CONFIG_CASES: u32 = 3000;

/// Spellings of the enum fields' values: right, in another case, padded, empty, with control
/// characters, another enum's value.
const ENUM_SPELLINGS: &[&str] = &[
    "linear",
    "log",
    "buffer",
    "visited",
    "Linear",
    "LOG",
    " log",
    "log ",
    "",
    "β",
    "log\nx",
    "linear\u{0}",
    "visited\r",
    "mountain-car",
    "pendulum",
    "beta-vmbpo",
    "vmbpo",
    "mbpo",
    "sac",
    "Mountain-Car",
    "mountain_car",
    "beta_vmbpo",
    "pendulum\n",
    "sac\t",
];

/// Counts at and beyond the edges of `usize`, `u32` and `f64`'s integers.
const EDGE_COUNTS: &[u64] =
    &[0, 1, 2, 3, 7, 8, 1 << 31, 1 << 32, 1 << 53, (1 << 53) + 1, 1 << 63, u64::MAX - 1, u64::MAX];

/// Reals at the edges of the fields' ranges.
const EDGE_REALS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    1.0 + f64::EPSILON,
    1.0 - f64::EPSILON / 2.0,
    1e-300,
    5e-324,
    f64::MIN_POSITIVE,
    -1e-300,
    1e7,
    1e7 * (1.0 + f64::EPSILON),
    1e-3,
    1e-3 * (1.0 - f64::EPSILON),
    1e308,
    f64::MAX,
    -f64::MAX,
    3.4e38,
    3.5e38,
    1e-45,
    1e-46,
];

/// The places of a config's JSON (relative to `prefix`, e.g. `/config`): its keys, the keys
/// holding numbers or arrays, and the keys holding strings or booleans.
struct Places {
    keys: Vec<&'static str>,
    numbers: Vec<&'static str>,
    texts: Vec<&'static str>,
}

fn places(seed: &Value, prefix: &str) -> Places {
    let object = seed.as_object().expect("configs are objects");
    let pointer = |k: &String| -> &'static str { format!("{prefix}/{k}").leak() };
    Places {
        keys: object.keys().map(|k| -> &'static str { k.clone().leak() }).collect(),
        numbers: object.iter().filter(|(_, v)| v.is_number() || v.is_array()).map(|(k, _)| pointer(k)).collect(),
        texts: object.iter().filter(|(_, v)| v.is_string() || v.is_boolean()).map(|(k, _)| pointer(k)).collect(),
    }
}

/// Misspelt and odd keys for a config.
const CONFIG_EXTRA_KEYS: &[&str] = &["beta_0", "Beta0", "episode", "", "\u{0}", "epi\nsodes", "\r\n", "extra", "gama"];

/// The config's own mutation: an enum or flag spelt oddly, a count or real set to an edge value,
/// a list of layer widths replaced.
fn config_own(v: &mut Value, rng: &mut ChaCha8Rng, places: &Places) {
    let number = places.numbers[rng.random_range(0..places.numbers.len())];
    match rng.random_range(0..4) {
        0 if !places.texts.is_empty() => {
            let place = places.texts[rng.random_range(0..places.texts.len())];
            let value = match rng.random_range(0..3) {
                0 => json!(ENUM_SPELLINGS[rng.random_range(0..ENUM_SPELLINGS.len())]),
                1 => json!(["true", "false", "1", "0", "yes"][rng.random_range(0..5)]),
                _ => [json!(true), json!(false), json!(1), json!(0), Value::Null][rng.random_range(0..5)].clone(),
            };
            set(v, place, value);
        }
        1 => set(v, number, json!(EDGE_COUNTS[rng.random_range(0..EDGE_COUNTS.len())])),
        2 => set(v, number, json!(EDGE_REALS[rng.random_range(0..EDGE_REALS.len())])),
        _ => {
            // A list of layer widths: empty, zero-wide, deep, wide, not integers.
            let n = rng.random_range(0..6);
            let widths: Vec<Value> = (0..n)
                .map(|_| match rng.random_range(0..6) {
                    0 => json!(EDGE_COUNTS[rng.random_range(0..EDGE_COUNTS.len())]),
                    1 => json!(rng.random_range(1..20)),
                    2 => json!(-1),
                    3 => json!(1.5),
                    4 => json!("8"),
                    _ => json!(8),
                })
                .collect();
            set(v, number, Value::from(widths));
        }
    }
}

/// A random subset of `seed`'s fields (a config file may give any), each number sometimes
/// replaced (1 in 20) by an edge value, then sometimes (3 in 10) one mutation.
fn subset(seed: &Value, format: &Format, rng: &mut ChaCha8Rng) -> String {
    let mut out = serde_json::Map::new();
    for (key, value) in seed.as_object().expect("configs are objects") {
        if rng.random_bool(0.5) {
            let value = match value {
                Value::Number(_) if rng.random_bool(0.05) => {
                    if rng.random_bool(0.5) {
                        json!(EDGE_COUNTS[rng.random_range(0..EDGE_COUNTS.len())])
                    } else {
                        json!(EDGE_REALS[rng.random_range(0..EDGE_REALS.len())])
                    }
                }
                other => other.clone(),
            };
            out.insert(key.clone(), value);
        }
    }
    let mut value = Value::Object(out);
    if rng.random_bool(0.3) {
        mutate(&mut value, rng, format);
    }
    print_with_raw(&value, rng)
}

/// The families of config inputs.
#[derive(Debug, Clone, Copy)]
enum Family {
    Json(Json),
    Subset,
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![
        30 => Just(Family::Json(Json::Mutated)),
        10 => Just(Family::Json(Json::RawNumber)),
        5 => Just(Family::Json(Json::DuplicateKey)),
        10 => Just(Family::Json(Json::Truncated)),
        10 => Just(Family::Json(Json::ByteNoise)),
        5 => Just(Family::Json(Json::RandomBytes)),
        3 => Just(Family::Json(Json::DeepNesting)),
        5 => Just(Family::Json(Json::HugeArray)),
        7 => Just(Family::Json(Json::RandomObject)),
        15 => Just(Family::Subset),
    ]
}

/// One config format: its seeds and places.
struct ConfigFormat {
    seeds: Vec<Value>,
    format: Format<'static>,
}

fn config_format(seeds: Vec<Value>, own: fn(&mut Value, &mut ChaCha8Rng), places: &'static Places) -> ConfigFormat {
    ConfigFormat {
        seeds,
        format: Format {
            keys: &places.keys,
            numbers: &places.numbers,
            raw: &places.numbers,
            extra_keys: CONFIG_EXTRA_KEYS,
            arrays: &places.numbers,
            own,
        },
    }
}

fn learn_places() -> &'static Places {
    static PLACES: OnceLock<Places> = OnceLock::new();
    PLACES.get_or_init(|| places(&to_value(&LearnConfig::default()), ""))
}

fn learn_own(v: &mut Value, rng: &mut ChaCha8Rng) {
    config_own(v, rng, learn_places());
}

fn learn_format() -> &'static ConfigFormat {
    static FORMAT: OnceLock<ConfigFormat> = OnceLock::new();
    FORMAT.get_or_init(|| {
        let seeds = [LearnConfig::default(), LearnConfig::cliff_figure_3(), LearnConfig::mnm_figure_6(true)];
        config_format(seeds.iter().map(to_value).collect(), learn_own, learn_places())
    })
}

fn to_value(config: &impl Serialize) -> Value {
    serde_json::to_value(config).expect("a config serialises")
}

/// The input text of one config case.
fn config_input(format: &ConfigFormat, family: Family, seed: usize, rng_seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(rng_seed);
    let seed = &format.seeds[seed % format.seeds.len()];
    match family {
        Family::Json(json) => json_input(json, seed.clone(), &format.format, &mut rng),
        Family::Subset => subset(seed, &format.format, &mut rng),
    }
}

/// Load `text` with `load`; an accepted config must pass `validate` and read back equal from
/// its JSON, a rejection must be one line; never panic. Returns whether it was accepted.
fn check_config<C: Serialize + PartialEq + Debug>(
    text: &str,
    load: &dyn Fn(&str) -> Result<C, String>,
    validate: &dyn Fn(&C) -> Result<(), String>,
) -> bool {
    let outcome = watched(HANG, text, || {
        catch_unwind(AssertUnwindSafe(|| match load(text) {
            Ok(config) => {
                if let Err(e) = validate(&config) {
                    panic!("an accepted config fails validate: {e}\ninput: {}", shown(text));
                }
                let saved = serde_json::to_string(&config).expect("a config serialises");
                let back = load(&saved)
                    .unwrap_or_else(|e| panic!("a saved config does not load: {e}\ninput: {}", shown(text)));
                assert_eq!(back, config, "the config changed through its JSON; input: {}", shown(text));
                true
            }
            Err(e) => {
                assert_one_line(&e, text);
                false
            }
        }))
    });
    outcome.unwrap_or_else(|_| panic!("panicked on input {}", shown(text)))
}

/// Run `n` config cases of `format` through `check`, with proptest; returns (accepted,
/// rejected).
fn fuzz_configs(name: &str, format: &'static ConfigFormat, n: u32, check: &dyn Fn(&str) -> bool) -> (usize, usize) {
    let config = Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/fuzz_config_files.txt",
        ))),
        ..Config::with_cases(n)
    };
    let tally = Tally::new(name, ["accepted", "rejected"], 100_000);
    proptest!(config, |(family in family(), seed in 0..3usize, rng_seed in any::<u64>())| {
        tally.add(usize::from(!check(&config_input(format, family, seed, rng_seed))));
    });
    let [accepted, rejected] = tally.finish();
    // The families must reach both outcomes, or the harness tests only the parser.
    assert!(
        accepted * 20 > n as usize && rejected * 4 > n as usize,
        "{name}: accepted {accepted}, rejected {rejected}"
    );
    (accepted, rejected)
}

fn load_learn(text: &str) -> Result<LearnConfig, String> {
    LearnConfig::from_json_str(text, "fuzz.json").map_err(|e| e.to_string())
}

fn validate_learn(config: &LearnConfig) -> Result<(), String> {
    config.validate().map_err(|e| e.to_string())
}

#[test]
fn every_learn_config_loads_or_fails_with_one_error_line() {
    let n = cases("RISKMDP_FUZZ_CASES", CONFIG_CASES);
    fuzz_configs("fuzz LearnConfig", learn_format(), n, &|text| check_config(text, &load_learn, &validate_learn));
}

#[test]
fn odd_learn_configs_load_or_fail_on_one_line() {
    let default = to_value(&LearnConfig::default()).to_string();
    let mut inputs = vec![
        String::new(),
        "{".into(),
        "null".into(),
        "[]".into(),
        "{}".into(),
        "\u{feff}{}".into(),
        "{}{".into(),
        "{} trailing".into(),
        default[..default.len() / 2].to_string(),
        format!("{default}{default}"),
        "[".repeat(100_000),
        r#"{"episodes": 1, "episodes": 2}"#.into(),
        r#"{"epi\nsodes": 1}"#.into(),
        r#"{"beta_update": "log\n"}"#.into(),
        r#"{"rollout_start": "visited\r"}"#.into(),
        r#"{"beta0": 1e-3, "beta_min": 1e-3}"#.into(),
        r#"{"beta0": 1e7, "beta_max": 1e7}"#.into(),
        r#"{"episodes": 18446744073709551615}"#.into(),
        r#"{"episodes": 18446744073709551616}"#.into(),
    ];
    for token in common_fuzz::ODD_NUMBERS {
        for field in ["beta0", "episodes", "explore", "q_init"] {
            inputs.push(format!("{{\"{field}\": {token}}}"));
        }
    }
    for text in &inputs {
        check_config(text, &load_learn, &validate_learn);
    }
}

/// A runner of `cases` cases from a fixed seed, for the planted-fault tests: whether a fault is
/// met must not depend on the run (with a random seed a rare fault can be missed).
fn planted_runner(cases: u32) -> TestRunner {
    let config = Config { failure_persistence: None, max_shrink_iters: 0, ..Config::with_cases(cases) };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

/// A harness that cannot fail shows nothing: the same cases with a planted fault in the loader
/// must fail, for each kind of fault the check looks for.
#[test]
fn the_config_harness_catches_planted_faults() {
    type Planted = fn(&str) -> Result<LearnConfig, String>;
    let planted: [(&str, Planted); 3] = [
        ("a panic on an accepted mutated config", |text| {
            let config = load_learn(text)?;
            let seeds = [LearnConfig::default(), LearnConfig::cliff_figure_3(), LearnConfig::mnm_figure_6(true)];
            assert!(seeds.contains(&config), "planted panic");
            Ok(config)
        }),
        ("a multi-line error", |text| load_learn(text).map_err(|e| format!("{e}\n(planted second line)"))),
        ("no validation", |text| serde_json::from_str::<LearnConfig>(text).map_err(|e| e.to_string())),
    ];
    for (fault, load) in planted {
        let mut runner = planted_runner(3000);
        let outcome = runner.run(&(family(), 0..3usize, any::<u64>()), |(family, seed, rng_seed)| {
            check_config(&config_input(learn_format(), family, seed, rng_seed), &load, &validate_learn);
            Ok(())
        });
        assert!(outcome.is_err(), "the harness missed {fault} in 3000 cases");
    }
}

#[cfg(feature = "candle")]
mod candle {
    //! `TrainConfig::from_json_str` and `Learner::load`.

    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    use riskmdp::continuous::config::TrainConfig;
    use riskmdp::continuous::train::{
        Algo, CHECKPOINT_META, CHECKPOINT_TENSORS, CheckpointMeta, EnvKind, Learner, TrainError, train,
    };

    use super::common_fuzz::byte_noise;
    use super::*;

    /// Default checkpoint cases (each loads, and evaluates one episode when it loads).
    const CHECKPOINT_CASES: u32 = 150;

    /// A metadata file whose networks hold more weights than this (all nets and ensemble
    /// members, counted with 4-wide inputs and outputs) is not given to `Learner::load`. The
    /// loader itself refuses a config whose networks cannot fit in the tensor file before it
    /// builds them (this harness found that it built them first: a width of 10⁹ took hours and
    /// hundreds of GB before the shape check; `tests/candle_cli.rs` checks the refusal); the
    /// skip keeps a mutated config that does fit a large tensor file from turning a case into
    /// a long workload. Such cases count as `oversized`.
    const MAX_WEIGHTS: u128 = 2_000_000;

    /// At most this many hidden layers in all (same reason: every layer is a few tensors).
    const MAX_LAYERS: usize = 256;

    fn train_places() -> &'static Places {
        static PLACES: OnceLock<Places> = OnceLock::new();
        PLACES.get_or_init(|| places(&to_value(&TrainConfig::default()), ""))
    }

    fn train_own(v: &mut Value, rng: &mut ChaCha8Rng) {
        config_own(v, rng, train_places());
    }

    fn train_format() -> &'static ConfigFormat {
        static FORMAT: OnceLock<ConfigFormat> = OnceLock::new();
        FORMAT.get_or_init(|| {
            let seeds = [TrainConfig::default(), TrainConfig::mountain_car_cpu(), TrainConfig::pendulum_cpu()];
            config_format(seeds.iter().map(to_value).collect(), train_own, train_places())
        })
    }

    fn load_train(text: &str) -> Result<TrainConfig, String> {
        TrainConfig::from_json_str(text, "fuzz.json").map_err(|e| e.to_string())
    }

    fn validate_train(config: &TrainConfig) -> Result<(), String> {
        config.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn every_train_config_loads_or_fails_with_one_error_line() {
        let n = cases("RISKMDP_FUZZ_CASES", CONFIG_CASES);
        fuzz_configs("fuzz TrainConfig", train_format(), n, &|text| check_config(text, &load_train, &validate_train));
    }

    #[test]
    fn odd_train_configs_load_or_fail_on_one_line() {
        let mut inputs: Vec<String> = vec![
            String::new(),
            "{}".into(),
            "{} trailing".into(),
            r#"{"dynamics_hidden": []}"#.into(),
            r#"{"dynamics_hidden": [0]}"#.into(),
            r#"{"actor_hidden": [18446744073709551615]}"#.into(),
            r#"{"elites": 8, "ensemble_size": 7}"#.into(),
            r#"{"holdout": 1}"#.into(),
            r#"{"real_ratio": -0.0}"#.into(),
            r#"{"beta_update": "Log"}"#.into(),
            r#"{"variational_warm_start": "true"}"#.into(),
            r#"{"critic_hid\nden": [8]}"#.into(),
        ];
        for token in common_fuzz::ODD_NUMBERS {
            for field in ["gamma", "ensemble_size", "holdout", "beta0"] {
                inputs.push(format!("{{\"{field}\": {token}}}"));
            }
        }
        for text in &inputs {
            check_config(text, &load_train, &validate_train);
        }
    }

    // ---- checkpoints ----

    fn scratch() -> PathBuf {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz_config_files")
    }

    /// A trained checkpoint: its metadata (as JSON and as text) and its tensor file.
    struct Seed {
        meta: Value,
        text: String,
        tensors: Vec<u8>,
    }

    /// The seed checkpoints, trained once per run (first thing in every checkpoint test).
    fn seeds() -> &'static [Seed] {
        static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
        SEEDS.get_or_init(|| {
            // candle's matmul reads RAYON_NUM_THREADS on every call and otherwise spreads even
            // a 1×8 product over every core: an evaluation episode then takes 0.3 s instead of
            // 11 ms on a busy machine. One thread, as `examples/mountain_car.rs`, unless set.
            if std::env::var_os("RAYON_NUM_THREADS").is_none() {
                // SAFETY: this test binary reads its environment only through `std::env`, whose
                // readers and writers take one lock; no C code reads it.
                unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
            }
            [(EnvKind::MountainCar, Algo::BetaVmbpo), (EnvKind::Pendulum, Algo::Sac)]
                .into_iter()
                .map(|(env, algo)| {
                    let dir = scratch().join(format!("seed-{}-{}", env.name(), algo.name()));
                    let _ = std::fs::remove_dir_all(&dir);
                    train(env, algo, &TrainConfig::tiny(), 200, 1, Some(&dir), |_| {})
                        .expect("the seed checkpoint trains");
                    let text = std::fs::read_to_string(dir.join(CHECKPOINT_META)).expect("metadata written");
                    let tensors = std::fs::read(dir.join(CHECKPOINT_TENSORS)).expect("tensors written");
                    let meta = serde_json::from_str(&text).expect("the metadata is JSON");
                    Seed { meta, text, tensors }
                })
                .collect()
        })
    }

    /// The metadata's places.
    fn meta_format() -> &'static Format<'static> {
        static FORMAT: OnceLock<Format<'static>> = OnceLock::new();
        FORMAT.get_or_init(|| {
            let config = places(&to_value(&TrainConfig::tiny()), "/config");
            let models = ["/prior_dynamics", "/variational_dynamics"];
            let mut numbers = vec!["/beta", "/step", "/seed"];
            let mut arrays = vec!["/step", "/config/ensemble_size", "/config/elites"];
            for m in models {
                for field in ["/elites", "/standardiser/mean", "/standardiser/std"] {
                    let place: &'static str = format!("{m}{field}").leak();
                    numbers.push(place);
                    arrays.push(place);
                }
            }
            numbers.extend(&config.numbers);
            arrays.extend(["/config/dynamics_hidden", "/config/actor_hidden", "/config/critic_hidden"]);
            let mut raw = numbers.clone();
            raw.extend([
                "/prior_dynamics/elites/0",
                "/prior_dynamics/standardiser/mean/0",
                "/variational_dynamics/standardiser/std/1",
                "/config/actor_hidden/0",
            ]);
            Format {
                keys: &["env", "algo", "config", "seed", "step", "beta", "prior_dynamics", "variational_dynamics"],
                numbers: numbers.leak(),
                raw: raw.leak(),
                extra_keys: &["Env", "extra", "", "beta ", "\u{0}", "al\ngo", "\r\n", "config.gamma", "elites"],
                arrays: arrays.leak(),
                own: meta_own,
            }
        })
    }

    /// The metadata's own mutation: the nested config mutated, the environment or algorithm
    /// named oddly, elites replaced, a standardiser entry set to an edge value or its length
    /// changed, an extra key in a nested object.
    fn meta_own(v: &mut Value, rng: &mut ChaCha8Rng) {
        let model = ["/prior_dynamics", "/variational_dynamics"][rng.random_range(0..2)];
        match rng.random_range(0..5) {
            0 => {
                if let Some(config) = v.get_mut("config") {
                    mutate(config, rng, &train_format().format);
                }
            }
            1 => {
                let place = ["/env", "/algo"][rng.random_range(0..2)];
                set(v, place, json!(ENUM_SPELLINGS[rng.random_range(0..ENUM_SPELLINGS.len())]));
            }
            2 => {
                let elites = [
                    json!([]),
                    json!([0]),
                    json!([0, 0]),
                    json!([2, 1]),
                    json!([3]),
                    json!([0, 1, 2, 3]),
                    json!([u64::MAX]),
                    json!([-1]),
                    json!([0.5]),
                    json!(["0"]),
                    json!(0),
                ];
                set(v, &format!("{model}/elites"), elites[rng.random_range(0..elites.len())].clone());
            }
            3 => {
                let field = if rng.random_bool(0.5) { "mean" } else { "std" };
                let Some(Value::Array(entries)) = v.pointer_mut(&format!("{model}/standardiser/{field}")) else {
                    return;
                };
                match rng.random_range(0..4) {
                    0 => {
                        entries.pop();
                    }
                    1 => entries.push(json!(1.0)),
                    _ if !entries.is_empty() => {
                        let i = rng.random_range(0..entries.len());
                        entries[i] = json!(EDGE_REALS[rng.random_range(0..EDGE_REALS.len())]);
                    }
                    _ => {}
                }
            }
            _ => {
                let place =
                    ["/config", "/prior_dynamics", "/variational_dynamics/standardiser"][rng.random_range(0..3)];
                let key = ["extra", "", "a\nb", "elites ", "ensemble_size"][rng.random_range(0..5)];
                set(v, &format!("{place}/{key}"), super::common_fuzz::odd_value(rng));
            }
        }
    }

    /// What is done to the metadata file.
    #[derive(Debug, Clone, Copy)]
    enum Meta {
        /// Written as trained.
        Kept,
        /// From a JSON family.
        Json(Json),
        /// Bytes replaced, inserted or removed, written as bytes (not always UTF-8).
        RawBytes,
        /// No metadata file.
        Missing,
    }

    /// What is done to the tensor file.
    #[derive(Debug, Clone, Copy)]
    enum Tensors {
        Kept,
        /// Cut at a random byte.
        Truncated,
        /// Bytes replaced, inserted or removed anywhere.
        ByteNoise,
        /// Bytes of the weights replaced.
        WeightNoise,
        /// One weight set to NaN, ±∞, a huge or a subnormal number.
        OddWeight,
        /// Random bytes, with or without a plausible header length.
        RandomBytes,
        Empty,
        Missing,
        /// The 8-byte header length set to an edge value.
        HeaderLength,
        /// The header's JSON from a JSON family (dtypes, shapes, offsets, names).
        Header(Json),
        /// The other seed's tensor file (networks of another environment's sizes).
        Other,
    }

    fn meta_family() -> impl Strategy<Value = Meta> {
        prop_oneof![
            25 => Just(Meta::Kept),
            30 => Just(Meta::Json(Json::Mutated)),
            8 => Just(Meta::Json(Json::RawNumber)),
            3 => Just(Meta::Json(Json::DuplicateKey)),
            5 => Just(Meta::Json(Json::Truncated)),
            4 => Just(Meta::Json(Json::ByteNoise)),
            2 => Just(Meta::Json(Json::RandomBytes)),
            2 => Just(Meta::Json(Json::DeepNesting)),
            4 => Just(Meta::Json(Json::HugeArray)),
            2 => Just(Meta::Json(Json::RandomObject)),
            3 => Just(Meta::RawBytes),
            1 => Just(Meta::Missing),
        ]
    }

    fn tensor_family() -> impl Strategy<Value = Tensors> {
        prop_oneof![
            60 => Just(Tensors::Kept),
            5 => Just(Tensors::Truncated),
            5 => Just(Tensors::ByteNoise),
            5 => Just(Tensors::WeightNoise),
            6 => Just(Tensors::OddWeight),
            3 => Just(Tensors::RandomBytes),
            1 => Just(Tensors::Empty),
            1 => Just(Tensors::Missing),
            4 => Just(Tensors::HeaderLength),
            6 => Just(Tensors::Header(Json::Mutated)),
            2 => Just(Tensors::Header(Json::RawNumber)),
            1 => Just(Tensors::Header(Json::DuplicateKey)),
            1 => Just(Tensors::Header(Json::Truncated)),
            1 => Just(Tensors::Header(Json::HugeArray)),
            1 => Just(Tensors::Header(Json::RandomObject)),
            2 => Just(Tensors::Other),
        ]
    }

    /// A safetensors file's parts: header length, header JSON, data.
    fn split(bytes: &[u8]) -> (u64, Value, &[u8]) {
        let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        let end = 8 + n as usize;
        let header = serde_json::from_slice(&bytes[8..end]).expect("the seed's header is JSON");
        (n, header, &bytes[end..])
    }

    /// JSON pointer of a top-level key.
    fn pointer(key: &str) -> String {
        format!("/{}", key.replace('~', "~0").replace('/', "~1"))
    }

    /// The header's own mutation: a tensor's dtype spelt oddly, or two tensors' shapes or
    /// offsets swapped.
    fn header_own(v: &mut Value, rng: &mut ChaCha8Rng) {
        let Some(o) = v.as_object() else { return };
        let names: Vec<String> = o.keys().filter(|k| *k != "__metadata__").cloned().collect();
        if names.is_empty() {
            return;
        }
        let a = pointer(&names[rng.random_range(0..names.len())]);
        let b = pointer(&names[rng.random_range(0..names.len())]);
        match rng.random_range(0..3) {
            0 => {
                let dtypes = ["F64", "F16", "BF16", "I64", "U8", "BOOL", "F8_E4M3", "f32", "", "F32 ", "X"];
                set(v, &format!("{a}/dtype"), json!(dtypes[rng.random_range(0..dtypes.len())]));
            }
            k => {
                let field = if k == 1 { "shape" } else { "data_offsets" };
                let (x, y) = (v.pointer(&format!("{a}/{field}")).cloned(), v.pointer(&format!("{b}/{field}")).cloned());
                if let (Some(x), Some(y)) = (x, y) {
                    set(v, &format!("{a}/{field}"), y);
                    set(v, &format!("{b}/{field}"), x);
                }
            }
        }
    }

    /// The tensor file of one case (`None`: no file), and what was done to it.
    fn tensor_input(family: Tensors, seed: usize, rng: &mut ChaCha8Rng) -> (Option<Vec<u8>>, String) {
        let bytes = seeds()[seed].tensors.clone();
        let (n, header, data) = split(&bytes);
        let header_end = 8 + n as usize;
        let out = match family {
            Tensors::Kept => return (Some(bytes), "kept".into()),
            Tensors::Missing => return (None, "missing".into()),
            Tensors::Empty => Vec::new(),
            Tensors::Other => seeds()[1 - seed].tensors.clone(),
            Tensors::Truncated => {
                let cut = rng.random_range(0..bytes.len());
                return (Some(bytes[..cut].to_vec()), format!("truncated at byte {cut} of {}", bytes.len()));
            }
            Tensors::ByteNoise => {
                let mut noisy = byte_noise(bytes.clone(), rng);
                if rng.random_bool(0.5) {
                    // Noise in the header only.
                    let header = byte_noise(bytes[8..header_end].to_vec(), rng);
                    noisy = [&bytes[..8], &header[..], data].concat();
                }
                noisy
            }
            Tensors::WeightNoise => {
                let mut noisy = bytes.clone();
                for _ in 0..rng.random_range(1..=16) {
                    let at = rng.random_range(header_end..noisy.len());
                    noisy[at] = rng.random();
                }
                noisy
            }
            Tensors::OddWeight => {
                let mut odd = bytes.clone();
                let weights = (bytes.len() - header_end) / 4;
                let at = header_end + 4 * rng.random_range(0..weights);
                let values = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, f32::MAX, -f32::MAX, 1e30, 1e-45, -0.0, 0.0];
                let value = values[rng.random_range(0..values.len())];
                odd[at..at + 4].copy_from_slice(&value.to_le_bytes());
                return (Some(odd), format!("weight at byte {at} set to {value}"));
            }
            Tensors::RandomBytes => {
                let len = rng.random_range(0..4096);
                let mut random: Vec<u8> = (0..len).map(|_| rng.random()).collect();
                if len >= 8 && rng.random_bool(0.5) {
                    let n = rng.random_range(0..len as u64);
                    random[..8].copy_from_slice(&n.to_le_bytes());
                    if rng.random_bool(0.5) && len > 8 {
                        random[8] = b'{';
                    }
                }
                random
            }
            Tensors::HeaderLength => {
                let len = bytes.len() as u64;
                let edges = [
                    0,
                    1,
                    2,
                    n - 1,
                    n + 1,
                    len - 8,
                    len - 7,
                    len,
                    len + 1,
                    100_000_000,
                    100_000_001,
                    1 << 32,
                    u64::MAX / 2,
                    u64::MAX - 7,
                    u64::MAX,
                    rng.random(),
                ];
                let value = edges[rng.random_range(0..edges.len())];
                let mut corrupted = bytes.clone();
                corrupted[..8].copy_from_slice(&value.to_le_bytes());
                return (Some(corrupted), format!("header length {n} set to {value}"));
            }
            Tensors::Header(json) => {
                let names: Vec<String> =
                    header.as_object().expect("an object").keys().filter(|k| *k != "__metadata__").cloned().collect();
                let places: Vec<String> = names
                    .iter()
                    .flat_map(|name| [format!("{}/shape", pointer(name)), format!("{}/data_offsets", pointer(name))])
                    .collect();
                let places: Vec<&str> = places.iter().map(String::as_str).collect();
                let keys: Vec<&str> = names.iter().map(String::as_str).chain(["__metadata__"]).collect();
                let format = Format {
                    keys: &keys,
                    numbers: &places,
                    raw: &places,
                    extra_keys: &["__metadata__", "", "x", "actor/actor.0.weight ", "\n"],
                    arrays: &places,
                    own: header_own,
                };
                let text = json_input(json, header, &format, rng);
                let described = format!("header {}", shown(&text));
                let file = [&(text.len() as u64).to_le_bytes()[..], text.as_bytes(), data].concat();
                return (Some(file), described);
            }
        };
        (Some(out), format!("{family:?}: {} bytes", bytes.len()))
    }

    /// The weights of `config`'s networks (an upper bound: 4-wide inputs and outputs), and its
    /// hidden layers in all.
    fn network_size(config: &TrainConfig) -> (u128, usize) {
        let mlp = |hidden: &[usize]| -> u128 {
            let sizes: Vec<u128> = [4].into_iter().chain(hidden.iter().map(|&h| h as u128)).chain([4]).collect();
            sizes.windows(2).map(|w| (w[0] + 1).saturating_mul(w[1])).fold(0, u128::saturating_add)
        };
        let agent = 2 * mlp(&config.actor_hidden) + 4 * mlp(&config.critic_hidden);
        let dynamics = (2 * config.ensemble_size as u128).saturating_mul(mlp(&config.dynamics_hidden));
        let layers = config.actor_hidden.len() + config.critic_hidden.len() + config.dynamics_hidden.len();
        (agent.saturating_add(dynamics), layers)
    }

    /// What a checkpoint case ended in.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Outcome {
        Accepted,
        Rejected,
        Oversized,
    }

    type Load = dyn Fn(&Path) -> Result<Learner, String>;

    fn load_checkpoint(dir: &Path) -> Result<Learner, String> {
        Learner::load(dir).map_err(|e: TrainError| e.to_string())
    }

    /// Write the case's files into a fresh folder, load it with `load`, and check the outcome:
    /// an accepted checkpoint must evaluate to a finite return or one error line, a rejection
    /// must be one line; never panic. The folder is removed unless the case fails.
    fn check_checkpoint(meta: Option<&[u8]>, tensors: Option<&[u8]>, what: &str, load: &Load) -> Outcome {
        static CASE: AtomicUsize = AtomicUsize::new(0);
        let dir = scratch().join(format!("case-{}-{}", std::process::id(), CASE.fetch_add(1, Ordering::Relaxed)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a case folder");
        if let Some(meta) = meta {
            std::fs::write(dir.join(CHECKPOINT_META), meta).expect("metadata written");
        }
        if let Some(tensors) = tensors {
            std::fs::write(dir.join(CHECKPOINT_TENSORS), tensors).expect("tensors written");
        }
        let text = meta.map_or_else(|| "[no metadata file]".into(), String::from_utf8_lossy);
        let input = format!("{text}\n[tensor file {what}; the case's files are in {}]", dir.display());
        if let Ok(parsed) = serde_json::from_slice::<CheckpointMeta>(meta.unwrap_or_default())
            && parsed.config.validate().is_ok()
        {
            let (weights, layers) = network_size(&parsed.config);
            if weights > MAX_WEIGHTS || layers > MAX_LAYERS {
                let _ = std::fs::remove_dir_all(&dir);
                return Outcome::Oversized;
            }
        }
        let outcome = watched(HANG, &input, || {
            catch_unwind(AssertUnwindSafe(|| match load(&dir) {
                Ok(learner) => {
                    match learner.evaluate(1) {
                        Ok((ret, _, _)) => {
                            assert!(ret.is_finite(), "a loaded checkpoint returns {ret}: {}", shown(&input));
                        }
                        Err(e) => assert_one_line(&e.to_string(), &input),
                    }
                    Outcome::Accepted
                }
                Err(e) => {
                    assert_one_line(&e, &input);
                    Outcome::Rejected
                }
            }))
        });
        let outcome = outcome.unwrap_or_else(|_| panic!("panicked on checkpoint {}", shown(&input)));
        let _ = std::fs::remove_dir_all(&dir);
        outcome
    }

    /// The files of one checkpoint case, and a description of the tensor file.
    fn checkpoint_input(
        meta: Meta,
        tensors: Tensors,
        seed: usize,
        rng_seed: u64,
    ) -> (Option<Vec<u8>>, Option<Vec<u8>>, String) {
        let mut rng = ChaCha8Rng::seed_from_u64(rng_seed);
        let rng = &mut rng;
        let seed = seed % seeds().len();
        let original = &seeds()[seed];
        let meta = match meta {
            Meta::Kept => Some(original.text.clone().into_bytes()),
            Meta::Json(json) => Some(json_input(json, original.meta.clone(), meta_format(), rng).into_bytes()),
            Meta::RawBytes => Some(byte_noise(original.text.clone().into_bytes(), rng)),
            Meta::Missing => None,
        };
        let (tensors, what) = tensor_input(tensors, seed, rng);
        (meta, tensors, what)
    }

    /// Run `n` checkpoint cases through `load`: (accepted, rejected, oversized).
    fn fuzz_checkpoints(load: &Load, runner: &mut TestRunner) -> Result<[usize; 3], String> {
        let tally = Tally::new("fuzz checkpoint", ["accepted", "rejected", "oversized, not loaded"], 10_000);
        runner
            .run(&(meta_family(), tensor_family(), 0..2usize, any::<u64>()), |(meta, tensors, seed, rng_seed)| {
                let (meta, tensors, what) = checkpoint_input(meta, tensors, seed, rng_seed);
                tally.add(check_checkpoint(meta.as_deref(), tensors.as_deref(), &what, load) as usize);
                Ok(())
            })
            .map_err(|e| e.to_string())?;
        Ok(tally.finish())
    }

    #[test]
    fn every_checkpoint_loads_or_fails_with_one_error_line() {
        let n = cases("RISKMDP_FUZZ_CASES", CHECKPOINT_CASES);
        let mut runner = TestRunner::new(Config {
            failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
                "proptest-regressions/fuzz_config_files.txt",
            ))),
            ..Config::with_cases(n)
        });
        let [accepted, rejected, _] = fuzz_checkpoints(&load_checkpoint, &mut runner).unwrap_or_else(|e| panic!("{e}"));
        assert!(accepted * 10 > n as usize && rejected * 4 > n as usize, "accepted {accepted}, rejected {rejected}");
    }

    #[test]
    fn odd_checkpoints_load_or_fail_on_one_line() {
        let seed = &seeds()[0];
        let text = seed.text.as_bytes();
        let t = &seed.tensors[..];
        let with = |f: &dyn Fn(&mut Value)| {
            let mut v = seed.meta.clone();
            f(&mut v);
            v.to_string().into_bytes()
        };
        let cases: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (text.to_vec(), t.to_vec()),
            (text.to_vec(), Vec::new()),
            (text.to_vec(), t[..8].to_vec()),
            (text.to_vec(), [&u64::MAX.to_le_bytes()[..], &t[8..]].concat()),
            (Vec::new(), t.to_vec()),
            (vec![0xff, 0xfe, b'{'], t.to_vec()),
            (with(&|v| v["beta"] = json!(0.0)), t.to_vec()),
            (with(&|v| v["env"] = json!("pendulum")), t.to_vec()),
            (with(&|v| v["algo"] = json!("sac")), t.to_vec()),
            (with(&|v| v["prior_dynamics"]["elites"] = json!([3])), t.to_vec()),
            (with(&|v| v["prior_dynamics"]["standardiser"]["std"][0] = json!(1e-46)), t.to_vec()),
            (with(&|v| v["prior_dynamics"]["standardiser"]["mean"][0] = json!(1e39)), t.to_vec()),
            (with(&|v| v["config"]["actor_hidden"] = json!([9])), t.to_vec()),
            (with(&|v| v["config"]["ensemble_size"] = json!(4)), t.to_vec()),
            // A key or a name with a line break: serde_json quotes it in its message.
            (with(&|v| v["al\ngo"] = json!(1)), t.to_vec()),
            (with(&|v| v["env"] = json!("pendulum\n")), t.to_vec()),
            (with(&|v| v["config"]["a\rb"] = json!(1)), t.to_vec()),
        ];
        for (meta, tensors) in &cases {
            check_checkpoint(Some(meta), Some(tensors), "hand-picked", &load_checkpoint);
        }
    }

    /// The checkpoint check must fail when the loader panics on a loaded learner or prints a
    /// second line.
    #[test]
    fn the_checkpoint_harness_catches_planted_faults() {
        type Planted = fn(&Path) -> Result<Learner, String>;
        let planted: [(&str, Planted); 2] = [
            ("a panic on an accepted mutated checkpoint", |dir| {
                let learner = load_checkpoint(dir)?;
                let text = std::fs::read_to_string(dir.join(CHECKPOINT_META)).unwrap_or_default();
                assert!(seeds().iter().any(|s| s.text == text), "planted panic");
                Ok(learner)
            }),
            ("a multi-line error", |dir| load_checkpoint(dir).map_err(|e| format!("{e}\n(planted second line)"))),
        ];
        for (fault, load) in planted {
            let mut runner = planted_runner(300);
            let outcome = fuzz_checkpoints(&load, &mut runner);
            assert!(outcome.is_err(), "the harness missed {fault} in 300 cases");
        }
    }

    #[test]
    fn the_seed_checkpoints_load_and_evaluate() {
        for seed in seeds() {
            let outcome = check_checkpoint(Some(seed.text.as_bytes()), Some(&seed.tensors), "kept", &load_checkpoint);
            assert_eq!(outcome, Outcome::Accepted);
        }
    }
}
