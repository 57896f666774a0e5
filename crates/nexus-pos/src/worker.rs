//! The background sync worker and its connectivity monitor.
//!
//! While online it syncs whenever a local write asks for it and pulls every `pull_every`. When
//! the server cannot be reached it probes `/healthz` with exponential backoff and full jitter
//! (so a shop's tills do not all knock at once when the network returns) and syncs as soon as a
//! probe answers. Its state is published on a watch channel for the cashier screen: online or
//! offline, unsynced count and since when.

use std::sync::Arc;
use std::time::Duration;

use nexus_domain::Clock;
use tokio::sync::{Notify, watch};

use crate::{Station, StationError};

#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// The first wait after a failed contact; doubled after each further failure.
    pub retry_first: Duration,
    /// The longest wait between probes while offline.
    pub retry_most: Duration,
    /// How often to pull while online and idle.
    pub pull_every: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            retry_first: Duration::from_secs(1),
            retry_most: Duration::from_secs(60),
            pull_every: Duration::from_secs(30),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connectivity {
    /// Not tried yet.
    Starting,
    Online,
    /// The server could not be reached; the next probe is due in `retry_in`.
    Offline {
        reason: String,
        retry_in: Duration,
    },
    /// The server answered but refused (a revoked station, an old protocol): retrying alone
    /// will not help, the message says what will.
    Refused(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerState {
    pub connectivity: Connectivity,
    pub unsynced_ops: i64,
    pub unsynced_since: Option<i64>,
    pub last_sync_at: Option<i64>,
    /// Completed sync attempts that reached the server, for tests and the status screen.
    pub syncs: u64,
}

pub struct SyncWorker {
    wake: Arc<Notify>,
    state: watch::Receiver<WorkerState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SyncWorker {
    /// Starts the worker for `station`. Its first contact is immediate.
    pub fn start(station: Arc<Station>, clock: Arc<dyn Clock>, settings: WorkerSettings) -> Self {
        let wake = Arc::new(Notify::new());
        let (publish, state) = watch::channel(WorkerState {
            connectivity: Connectivity::Starting,
            unsynced_ops: 0,
            unsynced_since: None,
            last_sync_at: None,
            syncs: 0,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(run(
            station,
            clock,
            settings,
            wake.clone(),
            publish,
            stopped,
        ));
        Self {
            wake,
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A local write happened: sync now if online (or probe now if offline).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A handle that wakes the worker, for code that outlives a borrow of it (web handlers).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub fn state(&self) -> watch::Receiver<WorkerState> {
        self.state.clone()
    }

    /// Stops the worker and waits for it; a sync in flight is finished or abandoned whole (the
    /// outbox only changes in transactions).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// The wait before probe number `failures` (1-based): `retry_first * 2^(failures-1)`, capped at
/// `retry_most`, then a uniformly random point in its upper half ("equal jitter"), so waits
/// still grow but tills that lost the network together spread their retries.
pub fn backoff(settings: &WorkerSettings, failures: u32, random: u64) -> Duration {
    let exponent = failures.saturating_sub(1).min(20);
    let ceiling = settings
        .retry_first
        .saturating_mul(1_u32 << exponent)
        .min(settings.retry_most);
    let half = ceiling / 2;
    let spread = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    let extra = if spread == 0 {
        0
    } else {
        random % (spread + 1)
    };
    half + Duration::from_millis(extra)
}

async fn run(
    station: Arc<Station>,
    clock: Arc<dyn Clock>,
    settings: WorkerSettings,
    wake: Arc<Notify>,
    publish: watch::Sender<WorkerState>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let mut random = Jitter::new();
    let mut failures: u32 = 0;
    let mut syncs: u64 = 0;
    loop {
        // Offline, a cheap probe comes first; a full sync follows at once when it answers.
        let reachable = if failures > 0 {
            station.probe().await
        } else {
            Ok(())
        };
        let outcome = match reachable {
            Ok(()) => match station.sync(clock.as_ref()).await {
                // New products or names: the search index is rebuilt here, not in a search.
                Ok(report) => {
                    if report.pulled > 0
                        && let Err(error) = station.warm_search().await
                    {
                        // The sync itself went through; a search will rebuild the index.
                        tracing::warn!(%error, "sync worker: could not rebuild the search index");
                    }
                    Ok(())
                }
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        };
        let (connectivity, wait) = match outcome {
            Ok(()) => {
                failures = 0;
                syncs += 1;
                (Connectivity::Online, settings.pull_every)
            }
            Err(StationError::Refused(message)) => {
                failures = 0;
                syncs += 1;
                (Connectivity::Refused(message), settings.retry_most)
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                let wait = backoff(&settings, failures, random.next());
                (
                    Connectivity::Offline {
                        reason: error.to_string(),
                        retry_in: wait,
                    },
                    wait,
                )
            }
        };
        let status = station.status().await.ok();
        publish.send_replace(WorkerState {
            connectivity,
            unsynced_ops: status.as_ref().map_or(0, |status| status.unsynced_ops),
            unsynced_since: status.as_ref().and_then(|status| status.unsynced_since),
            last_sync_at: status.as_ref().and_then(|status| status.last_sync_at),
            syncs,
        });
        tokio::select! {
            _ = &mut stopped => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// xorshift64*, seeded from a random UUID: jitter needs spread, not cryptographic strength.
struct Jitter(u64);

impl Jitter {
    fn new() -> Self {
        // The low half of a UUIDv7 is random.
        let seed = uuid::Uuid::now_v7().as_u64_pair().1;
        Self(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_stays_in_the_upper_half() {
        let settings = WorkerSettings {
            retry_first: Duration::from_millis(100),
            retry_most: Duration::from_millis(1_000),
            pull_every: Duration::from_secs(1),
        };
        for (failures, ceiling) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1_000),
            (40, 1_000),
        ] {
            for random in [0, 1, 37, u64::MAX] {
                let wait = backoff(&settings, failures, random).as_millis();
                assert!(
                    wait >= ceiling / 2 && wait <= ceiling,
                    "failures {failures}: {wait} ms outside [{}, {ceiling}]",
                    ceiling / 2
                );
            }
        }
        assert_ne!(
            backoff(&settings, 4, 3),
            backoff(&settings, 4, 250),
            "jitter spreads the waits"
        );
    }
}
