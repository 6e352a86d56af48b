//! State saves off the hot path: the applier hands each new snapshot to a [`StateWriter`] and goes
//! on with its next request; a blocking task writes it (atomically, as [`write_atomically`] does).
//! Snapshots queued while a write is running are coalesced: only the latest is written next.
//!
//! The last saved state stays in memory (read from disk once), so a save neither re-reads nor
//! re-parses the file; unchanged content is not written and keeps its serial. The serial moves by
//! one per run that changes the content, however many snapshots were written or coalesced, so the
//! same run writes the same file whatever the timing. After a kill, the
//! file is the last snapshot fully written: it parses, and it says what was true when it was taken
//! (the next refresh sees any later change as drift).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::{write_atomically, ProfileState, StateError, StateStore};

/// Writes one profile's state file in the background. Clones share the queue.
#[derive(Clone, Debug)]
pub struct StateWriter(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store_dir: PathBuf,
    profile: String,
    queue: Mutex<Queue>,
    /// The last state written (or found on disk); only the running write task touches it.
    saved: Mutex<Saved>,
    /// The serial of this run's writes, fixed by the first write that changes the content.
    run_serial: Mutex<Option<u64>>,
    idle: Notify,
}

#[derive(Debug, Default)]
struct Queue {
    next: Option<ProfileState>,
    writing: bool,
    /// The first failure, as its message; every later submit and the flush report it.
    failed: Option<String>,
}

#[derive(Debug, Default)]
enum Saved {
    /// Not read from disk yet.
    #[default]
    Unknown,
    Known(Option<ProfileState>),
}

impl StateWriter {
    pub fn new(store: &StateStore, profile: &str) -> Self {
        Self(Arc::new(Inner {
            store_dir: store.dir().to_path_buf(),
            profile: profile.to_string(),
            queue: Mutex::new(Queue::default()),
            saved: Mutex::new(Saved::Unknown),
            run_serial: Mutex::new(None),
            idle: Notify::new(),
        }))
    }

    /// Queues `state` to be saved (replacing any snapshot not yet written). Fails only when an
    /// earlier save failed, so the run stops at the first request after it.
    pub fn submit(&self, state: ProfileState) -> Result<(), StateError> {
        let mut queue = lock(&self.0.queue);
        if let Some(message) = &queue.failed {
            return Err(StateError::SaveFailed(message.clone()));
        }
        queue.next = Some(state);
        if !queue.writing {
            queue.writing = true;
            let inner = Arc::clone(&self.0);
            tokio::task::spawn_blocking(move || inner.drain());
        }
        Ok(())
    }

    /// Waits until every submitted snapshot is written; the first failure, if any.
    pub async fn flush(&self) -> Result<(), StateError> {
        loop {
            let idle = self.0.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            {
                let queue = lock(&self.0.queue);
                if !queue.writing {
                    return match &queue.failed {
                        Some(message) => Err(StateError::SaveFailed(message.clone())),
                        None => Ok(()),
                    };
                }
            }
            idle.await;
        }
    }
}

impl Inner {
    /// Writes the latest snapshot until none is queued.
    fn drain(&self) {
        loop {
            let next = {
                let mut queue = lock(&self.queue);
                match queue.next.take() {
                    Some(state) if queue.failed.is_none() => state,
                    _ => {
                        queue.writing = false;
                        drop(queue);
                        self.idle.notify_waiters();
                        return;
                    }
                }
            };
            if let Err(error) = self.write(next) {
                lock(&self.queue).failed = Some(error.to_string());
            }
        }
    }

    /// Saves like [`StateStore::save`], comparing with the state in memory instead of the file.
    fn write(&self, mut state: ProfileState) -> Result<(), StateError> {
        let mut saved = lock(&self.saved);
        if matches!(*saved, Saved::Unknown) {
            let store = StateStore::open_read_only(self.store_dir.clone())?;
            *saved = Saved::Known(store.load(&self.profile)?);
        }
        let Saved::Known(previous) = &*saved else {
            return Ok(());
        };
        if let Some(previous) = previous {
            if previous.same_content(&state) {
                return Ok(());
            }
        }
        state.serial = *lock(&self.run_serial).get_or_insert_with(|| {
            let before = previous
                .as_ref()
                .map_or(state.serial, |p| p.serial.max(state.serial));
            before + 1
        });
        let path = self.store_dir.join(format!("{}.json", self.profile));
        write_atomically(&path, state.to_json().as_bytes())?;
        *saved = Saved::Known(Some(state));
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The queue and the saved state stay consistent whatever panicked while holding them.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(rules: usize) -> ProfileState {
        let mut state = ProfileState::new("p1");
        state.lineage = "0123456789abcdef".into();
        let mut folder = super::super::tests::sample().folders["ads"].clone();
        folder.rules = (0..rules)
            .map(|n| (format!("h{n}.example"), crate::model::RuleAction::block()))
            .collect();
        state.folders.insert("ads".into(), folder);
        state
    }

    #[tokio::test]
    async fn saves_in_the_background_coalesce_and_keep_the_serial_on_no_change() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        let writer = StateWriter::new(&store, "p1");
        for rules in 1..=50 {
            writer.submit(state(rules)).unwrap();
        }
        writer.flush().await.unwrap();
        let saved = store.load("p1").unwrap().unwrap();
        assert_eq!(saved.folders["ads"].rules.len(), 50, "the latest snapshot");
        assert_eq!(saved.serial, 1, "one serial per run, however many writes");
        let before = std::fs::read(store.path("p1")).unwrap();
        writer.submit(state(50)).unwrap();
        writer.flush().await.unwrap();
        assert_eq!(std::fs::read(store.path("p1")).unwrap(), before);

        let next_run = StateWriter::new(&store, "p1");
        next_run.submit(state(51)).unwrap();
        next_run.submit(state(52)).unwrap();
        next_run.flush().await.unwrap();
        assert_eq!(
            store.load("p1").unwrap().unwrap().serial,
            2,
            "the next run moves it by one"
        );
    }

    #[tokio::test]
    async fn a_failed_save_is_reported_by_the_next_submit_and_the_flush() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        // A directory where the file should be: the rename over it fails.
        std::fs::create_dir(store.path("p1")).unwrap();
        let writer = StateWriter::new(&store, "p1");
        writer.submit(state(1)).unwrap();
        let error = writer.flush().await.unwrap_err();
        assert!(error.to_string().contains("p1.json"), "{error}");
        assert!(writer.submit(state(2)).is_err());
    }
}
