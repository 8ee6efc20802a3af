//! Files in and out: writes that never leave a partial file behind, and reads whose JSON errors
//! name the file and the bad value.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Write `bytes` to `path` through a temporary file in the same folder, renamed into place.
///
/// # Errors
/// [`Error::Io`] if the folder does not exist or cannot be written.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io { path: path.display().to_string(), source };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name =
        path.file_name().ok_or_else(|| io(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path")))?;
    let tmp = dir.join(format!(".{}.tmp{}", file_name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Parse JSON into `T`, an error naming `path` and the JSON path of the bad value (through
/// `serde_path_to_error`, e.g. `gamma: invalid type…` or an unknown key); after the value only
/// whitespace may follow (`{…}{…}` is an error, not the first object).
pub fn from_json_located<T: serde::de::DeserializeOwned>(text: &str, path: &str) -> Result<T> {
    let json_error = |message: String| crate::Error::Json { path: path.into(), message };
    let mut json = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| json_error(e.to_string()))?;
    json.end().map_err(|e| json_error(e.to_string()))?;
    Ok(value)
}

/// A config file laid over `base`: `text` is a JSON object holding any subset of `base`'s
/// fields, and every field it names replaces `base`'s.
///
/// The file is first parsed alone (`T`'s serde defaults filling what it leaves out), so that a
/// syntax error or a wrong type is reported at its line in the file, after the key that holds
/// it; a key that `base` does not
/// serialise is refused by name (the configs flatten their shared
/// [`DualConfig`](crate::losses::DualConfig), which serde's `deny_unknown_fields` does not
/// allow).
///
/// # Errors
/// [`crate::Error::Json`] naming `path`: malformed JSON, a value of the wrong type, text after
/// the object, a non-object, an unknown key.
pub fn overlay_json<T>(base: &T, text: &str, path: &str) -> Result<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let json_error = |message: String| crate::Error::Json { path: path.into(), message };
    let mut merged = serde_json::to_value(base).map_err(|e| json_error(e.to_string()))?;
    if let Err(e) = from_json_located::<T>(text, path) {
        // serde loses the key of a wrong value inside a flattened struct (`"beta0": "x"` is
        // reported without `beta0`): find it by laying the file's keys over `base` one by one.
        let file: Option<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(text).ok();
        let culprit = file.iter().flatten().find(|(key, value)| {
            let mut one = merged.clone();
            one.as_object_mut().map(|fields| fields.insert((*key).clone(), (*value).clone()));
            serde_json::from_value::<T>(one).is_err()
        });
        return Err(match (culprit, e) {
            (Some((key, _)), crate::Error::Json { message, .. }) if !message.starts_with(&format!("{key}:")) => {
                json_error(format!("{key}: {message}"))
            }
            (_, e) => e,
        });
    }
    let file: serde_json::Value = serde_json::from_str(text).map_err(|e| json_error(e.to_string()))?;
    let (Some(fields), Some(known)) = (file.as_object(), merged.as_object_mut()) else {
        return Err(json_error("a config must be a JSON object".into()));
    };
    if let Some(message) = refuse_unknown(fields, known) {
        return Err(json_error(message));
    }
    for (key, value) in fields {
        known.insert(key.clone(), value.clone());
    }
    serde_path_to_error::deserialize(merged).map_err(|e| json_error(e.to_string()))
}

/// The refusal of the first key of the JSON object `value` that `known` does not serialise, in
/// serde's words (`unknown field `k`, expected one of …`); `None` if every key is known or
/// `value` is not an object.
#[cfg(feature = "candle")]
pub fn unknown_field<T: serde::Serialize>(value: &serde_json::Value, known: &T) -> Option<String> {
    let known = serde_json::to_value(known).ok()?;
    refuse_unknown(value.as_object()?, known.as_object()?)
}

fn refuse_unknown(
    fields: &serde_json::Map<String, serde_json::Value>,
    known: &serde_json::Map<String, serde_json::Value>,
) -> Option<String> {
    let key = fields.keys().find(|key| !known.contains_key(*key))?;
    let expected: Vec<String> = known.keys().map(|k| format!("`{k}`")).collect();
    Some(format!("unknown field `{key}`, expected one of {}", expected.join(", ")))
}

/// Read a text file, an error naming it.
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| crate::Error::Io { path: path.display().to_string(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wrong value inside the flattened `DualConfig` names its key like any other field; an
    /// unknown key is refused by name; the file's keys replace the base's and only those.
    #[test]
    fn overlay_names_the_key_of_a_wrong_value_and_keeps_the_base() {
        use crate::learn::LearnConfig;
        let base = LearnConfig { episodes: 7, ..LearnConfig::default() };
        let over = |text: &str| overlay_json(&base, text, "f.json").map_err(|e| e.to_string());
        for (text, key) in [
            (r#"{"beta0": "x"}"#, "beta0"),
            (r#"{"episodes": 3, "beta_update": "up"}"#, "beta_update"),
            (r#"{"critic_lr": [1]}"#, "critic_lr"),
        ] {
            let message = over(text).expect_err(text);
            assert!(message.starts_with(&format!("f.json: {key}: ")), "{text}: {message}");
        }
        let message = over(r#"{"beta_0": 1}"#).expect_err("unknown");
        assert!(message.starts_with("f.json: unknown field `beta_0`, expected one of "), "{message}");
        assert!(over("[1]").is_err() && over(r#"{"epsilon": 1} {}"#).is_err());
        let config = over(r#"{"epsilon": 0.5, "batch_size": 4}"#).expect("valid");
        assert_eq!((config.episodes, config.batch_size, config.dual.epsilon), (7, 4, 0.5));
        assert_eq!(config.dual.beta0.to_bits(), base.dual.beta0.to_bits());
    }

    #[test]
    fn only_whitespace_may_follow_the_value() {
        let parse = |text: &str| from_json_located::<serde_json::Value>(text, "f.json");
        assert!(parse(" { \"a\": 1 } \n").is_ok());
        for text in [r#"{"episodes": 5}{"episodes": 0}"#, "{} trailing", "[1] ]"] {
            let message = parse(text).expect_err(text).to_string();
            assert!(message.starts_with("f.json: trailing characters"), "{text}: {message}");
        }
    }
}
