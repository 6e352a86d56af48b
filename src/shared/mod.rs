//! Small pieces several stages use, so that no stage reaches into another for them: the loopback
//! check (config and the API client), the retry policy (the API client and the list sources),
//! the atomic file write (state files and saved plans), the error printer, the progress the
//! sources and the applier report, and the bounded pool for CPU-bound work.

pub(crate) mod atomic;
pub(crate) mod blocking;
pub(crate) mod chain;
pub(crate) mod loopback;
pub(crate) mod progress;
pub(crate) mod retry;
