//! What the pacing measured for a token, kept beside the state for the next run
//! (`<state_dir>/.pacing/<profile>.json`), so a run that meets the limit every time (a nightly CI
//! run) does not pay the first limit event again.
//!
//! The file holds a random salt, the sha256 of the salt and the token (so it tells which token it
//! was measured for without revealing it, nor that two profiles share one), and the rate. A file of
//! another token, or one that does not parse, is ignored. Only `apply` writes it, never with
//! `--sandbox`; it is rewritten only when the rate moved by more than a tenth, so committed state
//! does not churn.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::controld::Token;
use crate::hash::sha256_hex;
use crate::state::{write_atomically, StateError};

/// The directory under the state dir.
pub(super) const PACING_DIR: &str = ".pacing";

/// A rate that moved by less than this share of the one on file is not rewritten.
const REWRITE_SHARE: f64 = 0.1;

#[derive(Debug, Deserialize, Serialize)]
struct Remembered {
    salt: String,
    token_sha256: String,
    /// The server's sustained rate, requests per second.
    rps: f64,
}

fn path(state_dir: &Path, profile: &str) -> PathBuf {
    state_dir.join(PACING_DIR).join(format!("{profile}.json"))
}

fn token_hash(salt: &str, token: &Token) -> String {
    sha256_hex(format!("{salt}{}", token.expose()).as_bytes())
}

fn read(state_dir: &Path, profile: &str) -> Option<Remembered> {
    let text = std::fs::read_to_string(path(state_dir, profile)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The rate remembered for `profile`, when it was measured for this token.
pub(super) fn recall(state_dir: &Path, profile: &str, token: &Token) -> Option<f64> {
    let remembered = read(state_dir, profile)?;
    let usable = remembered.rps > 0.0 && remembered.rps.is_finite();
    (usable && remembered.token_sha256 == token_hash(&remembered.salt, token))
        .then_some(remembered.rps)
}

/// Remembers `rps` for `profile` on `token`; says whether the file was written.
pub(super) fn remember(
    state_dir: &Path,
    profile: &str,
    token: &Token,
    rps: f64,
) -> Result<bool, StateError> {
    let on_file = read(state_dir, profile);
    let same_token = on_file
        .as_ref()
        .filter(|old| old.token_sha256 == token_hash(&old.salt, token));
    if same_token.is_some_and(|old| (rps - old.rps).abs() <= old.rps * REWRITE_SHARE) {
        return Ok(false);
    }
    let salt = match same_token {
        Some(old) => old.salt.clone(),
        None => format!("{:032x}", rand::random::<u128>()),
    };
    let remembered = Remembered {
        token_sha256: token_hash(&salt, token),
        salt,
        rps: (rps * 100.0).round() / 100.0,
    };
    let dir = state_dir.join(PACING_DIR);
    std::fs::create_dir_all(&dir).map_err(|source| StateError::Io {
        path: dir.clone(),
        source,
    })?;
    let mut text = serde_json::to_string_pretty(&remembered).unwrap_or_default();
    text.push('\n');
    write_atomically(&path(state_dir, profile), text.as_bytes())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_recalled_for_its_token_only_and_the_file_never_holds_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let token = Token::new("secret-token-value");
        assert_eq!(recall(dir.path(), "p1", &token), None);
        assert!(remember(dir.path(), "p1", &token, 19.333).unwrap());
        assert_eq!(recall(dir.path(), "p1", &token), Some(19.33));
        assert_eq!(recall(dir.path(), "p1", &Token::new("another")), None);
        assert_eq!(recall(dir.path(), "p2", &token), None);
        let text = std::fs::read_to_string(path(dir.path(), "p1")).unwrap();
        assert!(!text.contains("secret-token-value"), "{text}");
        assert!(!text.contains(&sha256_hex(b"secret-token-value")), "{text}");
    }

    #[test]
    fn a_small_move_is_not_rewritten_and_another_token_is() {
        let dir = tempfile::tempdir().unwrap();
        let token = Token::new("t");
        assert!(remember(dir.path(), "p1", &token, 20.0).unwrap());
        assert!(!remember(dir.path(), "p1", &token, 21.5).unwrap());
        assert_eq!(recall(dir.path(), "p1", &token), Some(20.0));
        assert!(remember(dir.path(), "p1", &token, 30.0).unwrap());
        assert_eq!(recall(dir.path(), "p1", &token), Some(30.0));
        let other = Token::new("u");
        assert!(remember(dir.path(), "p1", &other, 30.0).unwrap());
        assert_eq!(recall(dir.path(), "p1", &token), None);
    }

    #[test]
    fn a_broken_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(PACING_DIR)).unwrap();
        std::fs::write(path(dir.path(), "p1"), "{not json").unwrap();
        assert_eq!(recall(dir.path(), "p1", &Token::new("t")), None);
    }
}
