//! One rule for the crate's mutexes.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, going on with its content if a thread panicked while holding it: every value the
/// crate guards is replaced or counted in one step, so a panic cannot leave it half-updated in a way
/// that matters more than the panic itself.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
