//! The paper's tabular environments, as builders of [`crate::TabularMdp`].
//!
//! * [`risky_arm`](mod@risky_arm) — the two-armed risky choice of Fig. 1 (also `examples/mdps/risky_arm.json`).
//! * [`cliff_gridworld`] — the gridworld of Eysenbach et al. 2022 ("Mismatched No More") and
//!   the paper's cliff variant of Fig. 2 (`examples/mdps/{mnm,cliff}_gridworld.json`).
//!
//! Every constant of an environment is a named parameter; the builders return validated
//! models, which [`TabularMdp::save`](crate::TabularMdp::save) writes as MDP files.

pub mod cliff_gridworld;
pub mod risky_arm;

pub use cliff_gridworld::{Cell, Gridworld};
pub use risky_arm::risky_arm;

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::mdp::TabularMdp;

/// The model in the MDP file format, with every list of numbers on one line (a gridworld's
/// file stays small and readable), written atomically.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written.
pub fn save_compact(mdp: &TabularMdp, path: &Path) -> Result<()> {
    let value: Value = serde_json::from_str(&mdp.to_json_string())
        .map_err(|e| Error::Json { path: path.display().to_string(), message: e.to_string() })?;
    let mut out = String::new();
    write_compact(&value, 0, &mut out);
    out.push('\n');
    crate::io::write_atomic(path, out.as_bytes())
}

fn write_compact(value: &Value, indent: usize, out: &mut String) {
    let pad = |n: usize| " ".repeat(n);
    match value {
        Value::Array(items) if items.iter().all(|v| !v.is_array() && !v.is_object()) => {
            let cells: Vec<String> = items.iter().map(number_or_json).collect();
            out.push('[');
            out.push_str(&cells.join(","));
            out.push(']');
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for (k, item) in items.iter().enumerate() {
                out.push_str(&pad(indent + 2));
                write_compact(item, indent + 2, out);
                out.push_str(if k + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("{\n");
            for (k, (key, item)) in map.iter().enumerate() {
                out.push_str(&format!("{}{}: ", pad(indent + 2), Value::from(key.as_str())));
                write_compact(item, indent + 2, out);
                out.push_str(if k + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Whole numbers without a fraction (`0`, not `0.0`): a gridworld file is mostly zeros.
fn number_or_json(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
        _ => v.to_string(),
    }
}
