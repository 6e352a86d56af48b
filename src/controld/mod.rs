//! Typed Control D API client: envelope and error codes, pacing, retries, call counting.

mod client;
mod types;

pub use client::*;
pub use types::*;
