//! Files replaced whole or not at all.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A failed atomic write: the path the failing step touched (the directory or the file) and why.
#[derive(Debug)]
pub(crate) struct AtomicWriteError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

impl AtomicWriteError {
    fn new(path: &Path, source: std::io::Error) -> Self {
        Self {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Temp file in the same directory, write, fsync, rename over the target, fsync the directory.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AtomicWriteError> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp =
        tempfile::NamedTempFile::new_in(dir).map_err(|err| AtomicWriteError::new(dir, err))?;
    temp.write_all(bytes)
        .map_err(|err| AtomicWriteError::new(path, err))?;
    temp.as_file()
        .sync_all()
        .map_err(|err| AtomicWriteError::new(path, err))?;
    temp.persist(path)
        .map_err(|err| AtomicWriteError::new(path, err.error))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), AtomicWriteError> {
    // Directories cannot be opened for fsync on every platform; where they can, it makes the rename durable.
    if let Ok(handle) = File::open(dir) {
        handle
            .sync_all()
            .map_err(|err| AtomicWriteError::new(dir, err))?;
    }
    Ok(())
}
