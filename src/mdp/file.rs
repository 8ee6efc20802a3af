//! The JSON file format (see the README's "File format"): parse, load, print and save.
//!
//! A file is read in two passes. serde reads the JSON into [`MdpFile`], through
//! `serde_path_to_error`, so that a malformed file is reported at its JSON path
//! (`transitions[3][1]: invalid type: …, expected …`); then [`TabularMdp::new`] checks the
//! numbers and names field, state and action.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{GridShape, MdpSpec, TabularMdp};
use crate::error::{Error, Result};
use crate::transitions::{Row, TransitionSpec};

/// The JSON file form.
#[derive(Debug, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an MDP file: a JSON object with the fields states, actions, gamma, transitions and rewards"
)]
struct MdpFile {
    #[serde(default)]
    name: Option<String>,
    states: Value,
    actions: Value,
    gamma: f64,
    #[serde(default)]
    horizon: Option<usize>,
    #[serde(default)]
    initial: Option<Vec<f64>>,
    #[serde(default)]
    terminal: Option<Vec<bool>>,
    transitions: Vec<Vec<RowJson>>,
    rewards: Vec<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    grid: Option<GridShape>,
}

/// One row of `transitions` in the file: S probabilities, or `[s', p]` pairs (missing next
/// states have probability 0). An empty list reads as a dense row (of the wrong length unless
/// another row of the file is sparse).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum RowJson {
    Dense(Vec<f64>),
    Sparse(Vec<(usize, f64)>),
}

/// What a row must look like; every row error ends with it, after the JSON path of the bad
/// value and what was found there.
const ROW_FORM: &str = "each row must be a list of S probabilities or a list of [next state, probability] pairs";

/// One entry of a row, before the row's form is known.
enum Entry {
    Probability(f64),
    Pair(usize, f64),
}

/// A probability (any JSON number; range and sum are checked by [`TabularMdp::new`]).
struct Probability(f64);

/// The next state of a `[next state, probability]` pair: an index ≥ 0.
struct NextState(usize);

struct EntryVisitor;
struct ProbabilityVisitor;
struct NextStateVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a probability or a [next state, probability] pair ({ROW_FORM})")
    }
    fn visit_f64<E: de::Error>(self, p: f64) -> std::result::Result<Entry, E> {
        Ok(Entry::Probability(p))
    }
    fn visit_u64<E: de::Error>(self, p: u64) -> std::result::Result<Entry, E> {
        Ok(Entry::Probability(p as f64))
    }
    fn visit_i64<E: de::Error>(self, p: i64) -> std::result::Result<Entry, E> {
        Ok(Entry::Probability(p as f64))
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> std::result::Result<Entry, S::Error> {
        let pair_of_two =
            || de::Error::custom(format!("a [next state, probability] pair has exactly 2 entries ({ROW_FORM})"));
        let NextState(next) = seq.next_element()?.ok_or_else(pair_of_two)?;
        let Probability(p) = seq.next_element()?.ok_or_else(pair_of_two)?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(pair_of_two());
        }
        Ok(Entry::Pair(next, p))
    }
}

impl<'de> Visitor<'de> for ProbabilityVisitor {
    type Value = Probability;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the probability of a [next state, probability] pair ({ROW_FORM})")
    }
    fn visit_f64<E: de::Error>(self, p: f64) -> std::result::Result<Probability, E> {
        Ok(Probability(p))
    }
    fn visit_u64<E: de::Error>(self, p: u64) -> std::result::Result<Probability, E> {
        Ok(Probability(p as f64))
    }
    fn visit_i64<E: de::Error>(self, p: i64) -> std::result::Result<Probability, E> {
        Ok(Probability(p as f64))
    }
}

impl<'de> Visitor<'de> for NextStateVisitor {
    type Value = NextState;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the next state (an index from 0) of a [next state, probability] pair ({ROW_FORM})")
    }
    fn visit_u64<E: de::Error>(self, j: u64) -> std::result::Result<NextState, E> {
        usize::try_from(j).map(NextState).map_err(|_| de::Error::invalid_value(de::Unexpected::Unsigned(j), &self))
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(EntryVisitor)
    }
}

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_f64(ProbabilityVisitor)
    }
}

impl<'de> Deserialize<'de> for NextState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_u64(NextStateVisitor)
    }
}

impl<'de> Deserialize<'de> for RowJson {
    /// By hand rather than `#[serde(untagged)]`: an untagged enum reports only "did not match
    /// any variant", while this says which entry is wrong and what a row must be.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_seq(RowVisitor)
    }
}

struct RowVisitor;

impl<'de> Visitor<'de> for RowVisitor {
    type Value = RowJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a row ({ROW_FORM})")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> std::result::Result<RowJson, S::Error> {
        let (mut dense, mut sparse) = (Vec::new(), Vec::new());
        while let Some(entry) = seq.next_element::<Entry>()? {
            match entry {
                Entry::Probability(p) => dense.push(p),
                Entry::Pair(j, p) => sparse.push((j, p)),
            }
            if !dense.is_empty() && !sparse.is_empty() {
                return Err(de::Error::custom(format!(
                    "a row mixes probabilities and [next state, probability] pairs ({ROW_FORM})"
                )));
            }
        }
        Ok(if sparse.is_empty() { RowJson::Dense(dense) } else { RowJson::Sparse(sparse) })
    }
}

/// serde_json reads a struct from an object *or* from an array of its fields in order; an MDP
/// file is an object, so the top level is read as a map (an array is then "invalid type:
/// sequence, expected an MDP file: …" instead of an error about its first element).
struct ObjectOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> std::result::Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// Parse the file form: one top-level object, then nothing but whitespace. A serde error is
/// reported at its JSON path: `x.json: transitions[3][1]: invalid type: …`.
fn parse(text: &str, path: &str) -> Result<MdpFile> {
    let json_error = |message: String| Error::Json { path: path.to_string(), message };
    let mut json = serde_json::Deserializer::from_str(text);
    let file = serde_path_to_error::deserialize(ObjectOnly(&mut json)).map_err(|e| {
        let at = e.path().to_string();
        json_error(if at == "." { e.inner().to_string() } else { format!("{at}: {}", e.inner()) })
    })?;
    json.end().map_err(|e| json_error(e.to_string()))?;
    Ok(file)
}

/// `states` / `actions`: a positive count, or a list of distinct names.
fn names_from(value: &Value, field: &str) -> Result<(usize, Option<Vec<String>>)> {
    let bad = || Error::Json {
        path: field.to_string(),
        message: format!("`{field}` must be a positive count or a list of distinct names"),
    };
    match value {
        Value::Number(n) => {
            let n = n.as_u64().filter(|&n| n > 0).ok_or_else(bad)?;
            let n = usize::try_from(n).map_err(|_| bad())?;
            Ok((n, None))
        }
        Value::Array(items) if !items.is_empty() => {
            let names =
                items.iter().map(|v| v.as_str().map(str::to_string).ok_or_else(bad)).collect::<Result<Vec<_>>>()?;
            let mut sorted = names.clone();
            sorted.sort();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(Error::Json {
                    path: field.to_string(),
                    message: format!("`{field}`: the name `{}` appears twice", w[0]),
                });
            }
            Ok((names.len(), Some(names)))
        }
        _ => Err(bad()),
    }
}

/// The rows as the model spec takes them: dense if every row is dense, sparse otherwise (a
/// dense row among sparse ones keeps its positive entries).
fn transition_spec(blocks: Vec<Vec<RowJson>>) -> TransitionSpec {
    if blocks.iter().flatten().all(|r| matches!(r, RowJson::Dense(_))) {
        let dense_only = |r: RowJson| if let RowJson::Dense(p) = r { p } else { Vec::new() };
        TransitionSpec::Dense(blocks.into_iter().map(|block| block.into_iter().map(dense_only).collect()).collect())
    } else {
        let as_pairs = |r: RowJson| match r {
            RowJson::Sparse(pairs) => pairs,
            RowJson::Dense(p) => p.into_iter().enumerate().filter(|(_, p)| *p != 0.0).collect(),
        };
        TransitionSpec::Sparse(blocks.into_iter().map(|block| block.into_iter().map(as_pairs).collect()).collect())
    }
}

impl TabularMdp {
    /// Parse a model from the JSON file format.
    ///
    /// # Errors
    /// [`Error::Json`] for malformed JSON, a wrong type or an unknown field (naming the JSON
    /// path, e.g. `transitions[3][1]`, with line and column), and every error of
    /// [`TabularMdp::new`].
    pub fn from_json_str(text: &str, path: &str) -> Result<Self> {
        let file = parse(text, path)?;
        let (s_count, state_names) = names_from(&file.states, "states")?;
        let (a_count, action_names) = names_from(&file.actions, "actions")?;
        super::validate::check_len("transitions".into(), "one block per state", s_count, file.transitions.len())?;
        if let Some(block) = file.transitions.first() {
            super::validate::check_len("transitions[0]".into(), "one row per action", a_count, block.len())?;
        }
        Self::new(MdpSpec {
            name: file.name.unwrap_or_else(|| {
                Path::new(path).file_stem().map_or_else(|| "mdp".into(), |s| s.to_string_lossy().into_owned())
            }),
            state_names,
            action_names,
            gamma: file.gamma,
            horizon: file.horizon,
            initial: file.initial,
            terminal: file.terminal,
            transitions: transition_spec(file.transitions),
            rewards: file.rewards,
            grid: file.grid,
        })
    }

    /// Load a model from a JSON file.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read, and those of [`TabularMdp::from_json_str`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: shown.clone(), source })?;
        Self::from_json_str(&text, &shown)
    }

    /// The model in the JSON file format (pretty-printed).
    pub fn to_json_string(&self) -> String {
        // A sparse row with no entry prints as `[]`, which reads back as a (too short) dense row
        // when no other row is sparse. That happens only when every row is empty (every state
        // terminal): then the first row is written as `[[0, 0]]`, a sparse row whose zero
        // entry is dropped on loading.
        let all_rows_empty = self.is_sparse() && self.nonzeros() == 0;
        let file = MdpFile {
            name: Some(self.name.clone()),
            states: Value::from(self.state_names.clone()),
            actions: Value::from(self.action_names.clone()),
            gamma: self.gamma,
            horizon: self.horizon,
            initial: Some(self.initial.to_vec()),
            terminal: Some(self.terminal.clone()),
            transitions: (0..self.n_states())
                .map(|s| {
                    (0..self.n_actions())
                        .map(|a| match self.row(s, a) {
                            Row::Dense(p) => RowJson::Dense(p.to_vec()),
                            _ if all_rows_empty && (s, a) == (0, 0) => RowJson::Sparse(vec![(0, 0.0)]),
                            row @ Row::Sparse { .. } => RowJson::Sparse(row.iter().collect()),
                        })
                        .collect()
                })
                .collect(),
            rewards: self.rewards.outer_iter().map(|row| row.to_vec()).collect(),
            grid: self.grid,
        };
        // Serialising plain numbers, strings and vectors cannot fail.
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    /// Write the model as JSON, atomically (a temporary file renamed into place).
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::write_atomic(path.as_ref(), self.to_json_string().as_bytes())
    }
}
