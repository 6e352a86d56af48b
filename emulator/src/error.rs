//! Why an emulator could not start or persist.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read the emulator state file {path}: {source}")]
    ReadState {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the emulator state file {path} is not a valid dump: {source}")]
    ParseState {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write the emulator state file {path}: {source}")]
    WriteState {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start the emulator's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("the emulator's background thread stopped before it was listening")]
    ThreadDied,
}
