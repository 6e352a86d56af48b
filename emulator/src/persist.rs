//! The state file: a [`Dump`] as JSON, loaded at start and replaced atomically after each change.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::dump::Dump;
use crate::error::EmulatorError;

/// Reads the state file; `None` when it does not exist yet.
pub(crate) fn load(path: &Path) -> Result<Option<Dump>, EmulatorError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(EmulatorError::ReadState {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| EmulatorError::ParseState {
            path: path.to_path_buf(),
            source,
        })
}

/// Writes the dump to a temporary file beside `path`, syncs it, and renames it over `path`.
pub(crate) fn save(path: &Path, dump: &Dump) -> Result<(), EmulatorError> {
    let write_error = |source| EmulatorError::WriteState {
        path: path.to_path_buf(),
        source,
    };
    let directory = parent_dir(path);
    let mut file = tempfile::NamedTempFile::new_in(&directory).map_err(write_error)?;
    let text = serde_json::to_vec_pretty(dump).expect("a dump always serialises");
    file.write_all(&text).map_err(write_error)?;
    file.as_file().sync_all().map_err(write_error)?;
    file.persist(path)
        .map_err(|error| write_error(error.error))?;
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
