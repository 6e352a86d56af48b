//! CPU-bound work (parsing state files and list bodies, planning) off the async threads, on
//! tokio's blocking pool, at most one task per core at a time.

use std::sync::OnceLock;

use tokio::sync::Semaphore;

fn cores() -> &'static Semaphore {
    static CORES: OnceLock<Semaphore> = OnceLock::new();
    CORES
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(1, usize::from)))
}

/// Runs `work` on the blocking pool once a core is free; a panic in it is resumed here.
pub(crate) async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    // The semaphore is never closed, so a permit always comes.
    let permit = cores().acquire().await.ok();
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    });
    match task.await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_one_task_per_core_and_results_in_order() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks = (0..cores * 4).map(|index| {
            let (running, most) = (Arc::clone(&running), Arc::clone(&most));
            run(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
                index
            })
        });
        let results = futures_util::future::join_all(tasks).await;
        assert_eq!(results, (0..cores * 4).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= cores);
    }
}
