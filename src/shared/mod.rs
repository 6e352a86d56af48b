//! Small pieces several stages use, so that no stage reaches into another for them: the loopback
//! check (config and the API client), the retry policy (the API client and the list sources),
//! the atomic file write (state files and saved plans) and the error printer.

pub(crate) mod atomic;
pub(crate) mod chain;
pub(crate) mod loopback;
pub(crate) mod retry;
