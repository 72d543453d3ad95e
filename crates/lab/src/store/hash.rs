//! A run's identity: the hash of its whole configuration (the resume key) and its file names.
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::StoreError;

/// The configuration hash of `spec`: the first 8 bytes, in hex, of the SHA-256 of its
/// compact JSON (`serde_json::to_string`).
///
/// The JSON's fields, their order and their values are therefore part of every `runs.csv`
/// written with it: changing any of them makes old output directories refuse to resume.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Spec { group: &'static str, repeat: usize }
/// let h = neurogen_lab::store::config_hash(&Spec { group: "Control", repeat: 0 }).unwrap();
/// assert_eq!(h.len(), 16);
/// ```
pub fn config_hash<T: Serialize + ?Sized>(spec: &T) -> Result<String, StoreError> {
    let json = serde_json::to_string(spec).map_err(|source| StoreError::Spec { source })?;
    let digest = Sha256::digest(json.as_bytes());
    Ok(digest.iter().take(8).map(|b| format!("{b:02x}")).collect())
}

/// File-name stem of repeat `repeat` of the group displayed as `group`
/// (`neurogenesis-dropout-r03`): a run's checkpoints and curves are named after it.
pub fn stem(group: &str, repeat: usize) -> String {
    format!("{}-r{:02}", slug(group), repeat)
}

/// A file-name-safe form of a group name: lower-case ASCII letters and digits, every other run
/// of characters one `-` (`Targeted (low importance)` → `targeted-low-importance`).
pub fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-').to_string()
}
