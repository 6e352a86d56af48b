//! State saves off the hot path: the applier tells a [`StateWriter`] that the state changed and goes
//! on with its next request; a blocking task takes a snapshot (through the function the writer was
//! made with) and writes it (atomically, as [`write_atomically`] does). Changes signalled while a
//! write is running are coalesced: one snapshot, taken when the write before it is done, covers
//! them all, so neither the copy nor the write is on the requests' path.
//!
//! The last saved state stays in memory (the caller hands over what it loaded when the run
//! started; the state dir is locked, so that is what is on disk), so a save neither re-reads nor
//! re-parses the file; unchanged content is not written and keeps its serial. The serial moves by
//! one per run that changes the content, however many snapshots were written or coalesced, so the
//! same run writes the same file whatever the timing. After a kill, the
//! file is the last snapshot fully written: it parses, and it says what was true when it was taken
//! (the next refresh sees any later change as drift).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::{write_atomically, ProfileState, StateError, StateStore};
use crate::sync::lock;

/// Writes one profile's state file in the background. Clones share the queue.
#[derive(Clone, Debug)]
pub(crate) struct StateWriter(Arc<Inner>);

/// Takes the snapshot to save (the applier's state as of now).
type Snapshot = Box<dyn Fn() -> ProfileState + Send + Sync>;

struct Inner {
    store_dir: PathBuf,
    profile: String,
    queue: Mutex<Queue>,
    /// The last state written (or on disk when the run started); only the running write task
    /// touches it.
    saved: Mutex<Option<ProfileState>>,
    /// The serial of this run's writes, fixed by the first write that changes the content.
    run_serial: Mutex<Option<u64>>,
    idle: Notify,
    snapshot: Snapshot,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateWriter")
            .field("store_dir", &self.store_dir)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Queue {
    /// A change was signalled that no write has covered yet.
    dirty: bool,
    writing: bool,
    /// The first failure, as its message; every later submit and the flush report it.
    failed: Option<String>,
}

impl StateWriter {
    /// A writer for `profile`, whose file holds `on_disk` (as loaded under the store's lock), that
    /// saves what `snapshot` returns.
    pub(crate) fn new(
        store: &StateStore,
        profile: &str,
        on_disk: Option<ProfileState>,
        snapshot: impl Fn() -> ProfileState + Send + Sync + 'static,
    ) -> Self {
        Self(Arc::new(Inner {
            store_dir: store.dir().to_path_buf(),
            profile: profile.to_string(),
            queue: Mutex::new(Queue::default()),
            saved: Mutex::new(on_disk),
            run_serial: Mutex::new(None),
            idle: Notify::new(),
            snapshot: Box::new(snapshot),
        }))
    }

    /// Says the state changed: a snapshot taken after this call will be saved. Fails only when an
    /// earlier save failed, so the run stops at the first request after it.
    pub(crate) fn submit(&self) -> Result<(), StateError> {
        let mut queue = lock(&self.0.queue);
        if let Some(message) = &queue.failed {
            return Err(StateError::SaveFailed(message.clone()));
        }
        queue.dirty = true;
        if !queue.writing {
            queue.writing = true;
            let inner = Arc::clone(&self.0);
            tokio::task::spawn_blocking(move || inner.drain());
        }
        Ok(())
    }

    /// Waits until every signalled change is written; the first failure, if any.
    pub(crate) async fn flush(&self) -> Result<(), StateError> {
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

    /// The last save of the run: waits for the writes under way, then saves `state` itself (no
    /// snapshot, no copy) unless an earlier save failed. Nothing may be submitted after it.
    pub(crate) async fn finish(&self, state: ProfileState) -> Result<(), StateError> {
        self.flush().await?;
        let inner = Arc::clone(&self.0);
        let written = tokio::task::spawn_blocking(move || inner.write(state)).await;
        let result = written.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
        if let Err(error) = &result {
            lock(&self.0.queue).failed = Some(error.to_string());
        }
        result
    }
}

impl Inner {
    /// Writes a fresh snapshot until no change is left uncovered.
    fn drain(&self) {
        loop {
            {
                let mut queue = lock(&self.queue);
                if !queue.dirty || queue.failed.is_some() {
                    queue.writing = false;
                    drop(queue);
                    self.idle.notify_waiters();
                    return;
                }
                queue.dirty = false;
            }
            // Taken after `dirty` was cleared: it covers every change signalled before.
            if let Err(error) = self.write((self.snapshot)()) {
                lock(&self.queue).failed = Some(error.to_string());
            }
        }
    }

    /// Saves like [`StateStore::save`], comparing with the state in memory instead of the file.
    fn write(&self, mut state: ProfileState) -> Result<(), StateError> {
        let mut saved = lock(&self.saved);
        let previous = &*saved;
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
        *saved = Some(state);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(rules: usize) -> ProfileState {
        let mut state = ProfileState::new("p1");
        state.lineage = "0123456789abcdef".into();
        let mut folder = super::super::tests::sample().folders["ads"].clone();
        folder.rules = (0..rules)
            .map(|n| {
                (
                    format!("h{n}.example").into(),
                    crate::model::RuleAction::block(),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
            .into();
        state.folders.insert("ads".into(), folder);
        state
    }

    /// A writer saving `current`, as the applier's writer saves its ledger's state.
    fn writer_of(
        store: &StateStore,
        on_disk: Option<ProfileState>,
        current: &Arc<Mutex<ProfileState>>,
    ) -> StateWriter {
        let current = Arc::clone(current);
        StateWriter::new(store, "p1", on_disk, move || lock(&current).clone())
    }

    /// A store in a fresh directory and a writer of its profile `p1`, which had no file yet.
    fn fresh() -> (
        tempfile::TempDir,
        StateStore,
        Arc<Mutex<ProfileState>>,
        StateWriter,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        let current = Arc::new(Mutex::new(state(0)));
        let writer = writer_of(&store, None, &current);
        (dir, store, current, writer)
    }

    fn change(writer: &StateWriter, current: &Mutex<ProfileState>, rules: usize) {
        *lock(current) = state(rules);
        writer.submit().unwrap();
    }

    #[tokio::test]
    async fn saves_in_the_background_coalesce_and_keep_the_serial_on_no_change() {
        let (_dir, store, current, writer) = fresh();
        for rules in 1..=50 {
            change(&writer, &current, rules);
        }
        writer.flush().await.unwrap();
        let saved = store.load("p1").unwrap().unwrap();
        assert_eq!(saved.folders["ads"].rules.len(), 50, "the latest snapshot");
        assert_eq!(saved.serial, 1, "one serial per run, however many writes");
        let before = std::fs::read(store.path("p1")).unwrap();
        change(&writer, &current, 50);
        writer.flush().await.unwrap();
        assert_eq!(std::fs::read(store.path("p1")).unwrap(), before);

        let next_run = writer_of(&store, store.load("p1").unwrap(), &current);
        change(&next_run, &current, 51);
        change(&next_run, &current, 52);
        next_run.flush().await.unwrap();
        assert_eq!(
            store.load("p1").unwrap().unwrap().serial,
            2,
            "the next run moves it by one"
        );
    }

    #[tokio::test]
    async fn finish_saves_the_state_handed_over_after_the_writes_under_way() {
        let (_dir, store, current, writer) = fresh();
        for rules in 1..=20 {
            change(&writer, &current, rules);
        }
        // What the snapshot function would return now is not what finish saves.
        *lock(&current) = state(0);
        writer.finish(state(21)).await.unwrap();
        let saved = store.load("p1").unwrap().unwrap();
        assert_eq!(saved.folders["ads"].rules.len(), 21);
        assert_eq!(saved.serial, 1, "still one serial for the run");
    }

    #[tokio::test]
    async fn a_failed_save_is_reported_by_the_next_submit_and_the_flush() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        // A directory where the file should be: the rename over it fails.
        std::fs::create_dir(store.path("p1")).unwrap();
        let current = Arc::new(Mutex::new(state(1)));
        let writer = writer_of(&store, None, &current);
        writer.submit().unwrap();
        let error = writer.flush().await.unwrap_err();
        assert!(error.to_string().contains("p1.json"), "{error}");
        assert!(writer.submit().is_err());
        assert!(
            writer.finish(state(2)).await.is_err(),
            "finish reports it too"
        );
    }
}
