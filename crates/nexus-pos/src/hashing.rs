//! Every argon2id check the station makes goes through one [`SecretHasher`] with one working
//! area (19 MiB of the station's 60 MB), one at a time, on a blocking thread.
//!
//! Checked with a fresh 19 MiB allocation on a blocking thread each, as the station once did,
//! PINs flooded at `POST /sign-in` (the cashier screen is on the shop's Wi-Fi, so any phone there
//! can) had as many hashes in flight as requests, and the allocator kept what they took: 128
//! concurrent wrong PINs for a minute left the station at 11.8 GB. Here an attempt waits its turn
//! for the one area, which costs it a few hundred bytes.

use std::sync::{Arc, LazyLock};

use nexus_domain::secrets::{SecretError, SecretHasher};
use tokio::sync::Semaphore;

use crate::{StationError, StationResult};

struct HashingQueue {
    hasher: Arc<SecretHasher>,
    /// As many permits as the hasher has working areas: one.
    permits: Arc<Semaphore>,
}

/// The station process's hasher, shared by every [`crate::Station`] it opens.
static QUEUE: LazyLock<HashingQueue> = LazyLock::new(|| HashingQueue {
    hasher: Arc::new(SecretHasher::new(1)),
    permits: Arc::new(Semaphore::new(1)),
});

/// Runs `work` with the station's hasher, on a blocking thread, once its working area is free.
/// The permit goes with the work, not with the caller: a caller that stops waiting (its client
/// hung up) leaves the work to finish, and the next caller waits for the area instead of
/// finding it lent out.
pub(crate) async fn with_hasher<T: Send + 'static>(
    work: impl FnOnce(&SecretHasher) -> Result<T, SecretError> + Send + 'static,
) -> StationResult<T> {
    let permit = QUEUE
        .permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| failed("the hashing queue was closed"))?;
    let hasher = QUEUE.hasher.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work(&hasher)
    })
    .await
    .map_err(failed)?
    .map_err(failed)
}

fn failed(error: impl std::fmt::Display) -> StationError {
    StationError::Damaged(format!("checking the PIN: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_callers_share_the_one_area_in_turn() {
        assert_eq!(QUEUE.hasher.slots(), 1);
        let hash = with_hasher(|hasher| hasher.hash(b"4821", &[3; 16]))
            .await
            .expect("hash");
        let mut checks = tokio::task::JoinSet::new();
        for guess in ["4821", "0000", "1357", "4821"] {
            let hash = hash.clone();
            checks.spawn(with_hasher(move |hasher| {
                hasher.verify(guess.as_bytes(), &hash)
            }));
        }
        let mut matched = 0;
        while let Some(check) = checks.join_next().await {
            // Never `Busy`: each waits for the area rather than finding it lent out.
            matched += usize::from(check.expect("join").expect("checked"));
        }
        assert_eq!(matched, 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_stops_waiting_leaves_the_area_to_the_next() {
        let (started, running) = tokio::sync::oneshot::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let first = tokio::spawn(with_hasher(move |_| {
            let _ = started.send(());
            let _ = released.recv();
            Ok(())
        }));
        running.await.expect("the first work runs");
        // Its caller goes away while the work still holds the area.
        first.abort();
        let next_started = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let next = tokio::spawn(with_hasher({
            let next_started = next_started.clone();
            move |_| {
                next_started.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            }
        }));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(
            !next_started.load(std::sync::atomic::Ordering::SeqCst),
            "the next caller waits for the area"
        );
        let _ = release.send(());
        next.await.expect("join").expect("ran");
        assert!(next_started.load(std::sync::atomic::Ordering::SeqCst));
    }
}
