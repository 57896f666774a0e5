//! Live updates: what changed in which tenant, for the dashboard's server-sent events.
//!
//! A service that changes something a page shows publishes an [`Event`] once its transaction has
//! committed. On SQLite there is one process, and events go straight to this process's
//! subscribers. On PostgreSQL several processes may serve one database, so an event is
//! announced through the database (`NOTIFY`) and every process, this one included, hears it on a
//! listening connection of its own and hands it to its subscribers. Events are hints that
//! something changed, never the data: a page that hears one fetches its fragment afresh.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use nexus_domain::TenantId;
use nexus_store::Store;
use nexus_store::announcements::AnnouncementListener;
use tokio::sync::{Notify, broadcast};

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Sales, refunds and voids.
    Sales,
    /// On-hand and the ledger.
    Stock,
    /// A till's contact, sync or enrolment.
    Tills,
    /// Products and prices.
    Catalogue,
    /// Staff and their shifts.
    Staff,
}

impl Topic {
    pub const ALL: [Topic; 5] = [
        Topic::Sales,
        Topic::Stock,
        Topic::Tills,
        Topic::Catalogue,
        Topic::Staff,
    ];

    /// The event name pages listen for.
    pub const fn as_str(self) -> &'static str {
        match self {
            Topic::Sales => "sales",
            Topic::Stock => "stock",
            Topic::Tills => "tills",
            Topic::Catalogue => "catalogue",
            Topic::Staff => "staff",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|topic| topic.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    pub tenant: TenantId,
    pub topic: Topic,
}

impl Event {
    fn encode(self) -> String {
        format!("{}:{}", self.tenant.as_uuid().simple(), self.topic.as_str())
    }

    fn decode(text: &str) -> Option<Self> {
        let (tenant, topic) = text.split_once(':')?;
        Some(Self {
            tenant: TenantId::from_storage_name(&format!("t_{tenant}"))?,
            topic: Topic::parse(topic)?,
        })
    }
}

/// Subscribers that fall this far behind miss events (and refetch on the next one).
const BUFFER: usize = 1024;

#[derive(Clone)]
pub struct Events {
    local: broadcast::Sender<Event>,
    /// Set when events travel through the database to every process.
    outbox: Option<Arc<Outbox>>,
}

/// Events waiting to be announced through the database. Each announcement is a transaction
/// whose commit PostgreSQL serialises with every other notifying commit, so one per event would
/// cost a busy service several commits per push; instead one sender announces, in a single
/// statement, whatever was published while its last announcement was on its way. When the
/// service is quiet that is one event, sent at once; under load the same event published many
/// times is sent once.
struct Outbox {
    pending: std::sync::Mutex<HashSet<Event>>,
    wake: Notify,
}

impl Outbox {
    fn pending(&self) -> std::sync::MutexGuard<'_, HashSet<Event>> {
        // A plain set: one poisoned by a panic elsewhere is still usable.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn send_forever(self: Arc<Self>, store: Arc<dyn Store>) {
        loop {
            self.wake.notified().await;
            let batch: Vec<Event> = self.pending().drain().collect();
            if batch.is_empty() {
                continue;
            }
            let texts: Vec<String> = batch.iter().map(|event| event.encode()).collect();
            if let Err(error) = store.announce(&texts).await {
                tracing::warn!(%error, events = texts.len(), "live updates were not announced");
            }
        }
    }
}

impl Events {
    /// Events among the subscribers of this process only (the embedded store).
    pub fn in_process() -> Self {
        Self {
            local: broadcast::channel(BUFFER).0,
            outbox: None,
        }
    }

    /// Events announced through PostgreSQL to every process, heard on `listen_url` (a direct
    /// connection: LISTEN cannot pass through PgBouncer in transaction mode).
    pub async fn through_database(
        store: Arc<dyn Store>,
        listen_url: String,
    ) -> Result<Self, nexus_store::StoreError> {
        let mut listener = AnnouncementListener::connect(&listen_url).await?;
        let local = broadcast::channel(BUFFER).0;
        let forward = local.clone();
        tokio::spawn(async move {
            loop {
                match listener.next().await {
                    Ok(text) => {
                        if let Some(event) = Event::decode(&text) {
                            let _no_subscribers_is_fine = forward.send(event);
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "the live-update connection failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        let outbox = Arc::new(Outbox {
            pending: std::sync::Mutex::new(HashSet::new()),
            wake: Notify::new(),
        });
        tokio::spawn(outbox.clone().send_forever(store));
        Ok(Self {
            local,
            outbox: Some(outbox),
        })
    }

    /// Tells every page of `tenant` showing `topic` that it changed. Never fails the change it
    /// reports: a lost event costs a page a refresh, and is logged.
    pub async fn publish(&self, tenant: TenantId, topic: Topic) {
        let event = Event { tenant, topic };
        match &self.outbox {
            None => {
                let _no_subscribers_is_fine = self.local.send(event);
            }
            Some(outbox) => {
                outbox.pending().insert(event);
                // A permit is kept when the sender is busy, so the event goes with the next batch.
                outbox.wake.notify_one();
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_travel_as_text_and_back() {
        let tenant = TenantId::generate(nexus_domain::UnixMillis::from_millis(1));
        for topic in Topic::ALL {
            let event = Event { tenant, topic };
            assert_eq!(Event::decode(&event.encode()), Some(event));
        }
        assert_eq!(Event::decode("nonsense"), None);
        assert_eq!(Event::decode("0123:sales"), None);
    }

    #[tokio::test]
    async fn in_process_subscribers_hear_what_is_published() {
        let events = Events::in_process();
        let mut subscriber = events.subscribe();
        let tenant = TenantId::generate(nexus_domain::UnixMillis::from_millis(1));
        events.publish(tenant, Topic::Sales).await;
        assert_eq!(
            subscriber.recv().await.ok(),
            Some(Event {
                tenant,
                topic: Topic::Sales
            })
        );
    }
}
