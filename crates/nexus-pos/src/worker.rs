//! The background sync worker and its connectivity monitor.
//!
//! While online it syncs whenever a local write asks for it, and between syncs keeps a long pull
//! open (the server answers it as soon as something for this station changes, or after
//! `pull_every`), so a price change reaches the till at once and an idle till costs one
//! request a minute. When
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
    /// How long each long pull waits on the server while online and idle (the server holds it
    /// at most `nexus_sync::LONGEST_PULL_WAIT_SECONDS`).
    pub pull_every: Duration,
    /// The daily backup while serving; none unless given a directory.
    pub backups: Option<crate::BackupSettings>,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            retry_first: Duration::from_secs(1),
            retry_most: Duration::from_secs(60),
            pull_every: Duration::from_secs(nexus_sync::LONGEST_PULL_WAIT_SECONDS),
            backups: None,
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
        let online = sync_once(
            &station,
            clock.as_ref(),
            &settings,
            &publish,
            &mut failures,
            &mut syncs,
            &mut random,
        )
        .await;
        let Some(wait) = online else {
            // Offline or refused: wait for the next probe, or a local write.
            let wait = match &publish.borrow().connectivity {
                Connectivity::Offline { retry_in, .. } => *retry_in,
                _ => settings.retry_most,
            };
            tokio::select! {
                _ = &mut stopped => return,
                () = wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
            continue;
        };
        // Online: long pulls until a local write wants a sync or one fails.
        loop {
            let changes = tokio::select! {
                _ = &mut stopped => return,
                () = wake.notified() => break,
                changes = async {
                    // The server waits in whole seconds; a shorter interval (tests) is a plain pause.
                    if wait < Duration::from_secs(1) {
                        tokio::time::sleep(wait).await;
                    }
                    station.wait_for_changes(wait).await
                } => changes,
            };
            // Stored outside the select: a write to the replica is never abandoned half-way.
            match changes {
                Ok(pending) => match station.take_changes(pending).await {
                    Ok(pulled) => {
                        if pulled > 0 {
                            warm_search(&station).await;
                            publish_status(&station, &publish, Connectivity::Online, syncs).await;
                        }
                        // Writes that came without a wake (another `nexus pos` process on the
                        // same data): pushed by a full sync.
                        if station
                            .status()
                            .await
                            .is_ok_and(|status| status.unsynced_ops > 0)
                        {
                            break;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "sync worker: could not store pulled changes");
                        break;
                    }
                },
                // Whatever went wrong, a full sync (probing first) says what the state is.
                Err(_) => {
                    failures = 1;
                    break;
                }
            }
        }
    }
}

/// One contact: a probe first when offline, then a push and pull; published for the screen.
/// Online, how long a long pull should wait; `None` when offline or refused.
async fn sync_once(
    station: &Station,
    clock: &dyn Clock,
    settings: &WorkerSettings,
    publish: &watch::Sender<WorkerState>,
    failures: &mut u32,
    syncs: &mut u64,
    random: &mut Jitter,
) -> Option<Duration> {
    // Offline, a cheap probe comes first; a full sync follows at once when it answers.
    let reachable = if *failures > 0 {
        station.probe().await
    } else {
        Ok(())
    };
    let outcome = match reachable {
        Ok(()) => match station.sync(clock).await {
            // New products or names: the search index is rebuilt here, not in a search.
            Ok(report) => {
                if report.pulled > 0 {
                    warm_search(station).await;
                }
                Ok(())
            }
            Err(error) => Err(error),
        },
        Err(error) => Err(error),
    };
    let (connectivity, online) = match outcome {
        Ok(()) => {
            *failures = 0;
            *syncs += 1;
            (Connectivity::Online, Some(settings.pull_every))
        }
        Err(StationError::Refused(message)) => {
            *failures = 0;
            *syncs += 1;
            (Connectivity::Refused(message), None)
        }
        Err(error) => {
            *failures = failures.saturating_add(1);
            let wait = backoff(settings, *failures, random.next());
            (
                Connectivity::Offline {
                    reason: error.to_string(),
                    retry_in: wait,
                },
                None,
            )
        }
    };
    publish_status(station, publish, connectivity, *syncs).await;
    online
}

async fn warm_search(station: &Station) {
    if let Err(error) = station.warm_search().await {
        // The changes are stored; a search will rebuild the index.
        tracing::warn!(%error, "sync worker: could not rebuild the search index");
    }
}

async fn publish_status(
    station: &Station,
    publish: &watch::Sender<WorkerState>,
    connectivity: Connectivity,
    syncs: u64,
) {
    let status = station.status().await.ok();
    publish.send_replace(WorkerState {
        connectivity,
        unsynced_ops: status.as_ref().map_or(0, |status| status.unsynced_ops),
        unsynced_since: status.as_ref().and_then(|status| status.unsynced_since),
        last_sync_at: status.as_ref().and_then(|status| status.last_sync_at),
        syncs,
    });
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
            backups: None,
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
