//! ctrld-sync: plan and apply Control D folders and rules from blocklists kept in git.
//!
//! The binary is a thin shell over this library so that tests and benchmarks can call each stage.

pub mod apply;
pub mod bounds;
pub mod cli;
pub mod commands;
pub mod config;
pub mod controld;
pub mod error;
pub mod exit;
mod hash;
mod http;
pub mod model;
pub mod plan;
pub mod printer;
pub mod quote;
pub mod redact;
pub mod refresh;
pub mod source;
pub mod state;
mod sync;
