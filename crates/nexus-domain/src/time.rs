//! Time as a value passed in, never read inside the rules, so that shifts and sync replay in tests.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMillis(i64);

impl UnixMillis {
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds, rounded down (JWT `iat` and `exp` are in seconds).
    pub const fn as_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub const fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    pub const fn plus_seconds(self, seconds: i64) -> Self {
        self.plus_millis(seconds.saturating_mul(1000))
    }
}

/// Where the current time comes from. The server and station take one at startup; tests pass a
/// clock they move by hand.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> UnixMillis;
}

/// The machine's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        UnixMillis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }
}

/// The machine's wall clock moved by an offset that can be changed while the clock is shared.
/// `nexus demo` hands one to the service and sets it back to ring up weeks of history through
/// the real code paths, then returns it to the present. Time keeps passing at the real pace
/// whatever the offset.
#[derive(Debug, Default)]
pub struct OffsetClock {
    offset_millis: AtomicI64,
}

impl OffsetClock {
    /// A clock at the real time (offset zero).
    pub const fn new() -> Self {
        Self {
            offset_millis: AtomicI64::new(0),
        }
    }

    /// How far from the real time this clock is, in milliseconds (negative: in the past).
    pub fn offset_millis(&self) -> i64 {
        self.offset_millis.load(Ordering::SeqCst)
    }

    pub fn set_offset_millis(&self, offset_millis: i64) {
        self.offset_millis.store(offset_millis, Ordering::SeqCst);
    }

    /// Moves the clock so that it reads `at` now; it runs on from there.
    pub fn set_now(&self, at: UnixMillis) {
        let real = SystemClock.now().as_millis();
        self.set_offset_millis(at.as_millis().saturating_sub(real));
    }

    /// Back to the real time.
    pub fn reset(&self) {
        self.set_offset_millis(0);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> UnixMillis {
        SystemClock.now().plus_millis(self.offset_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MILLIS: i64 = 86_400_000;

    #[test]
    fn an_offset_clock_is_the_system_clock_moved_and_runs_on_from_where_it_is_set() {
        let clock = OffsetClock::new();
        let close = |a: UnixMillis, b: UnixMillis| (a.as_millis() - b.as_millis()).abs() < 5_000;
        assert_eq!(clock.offset_millis(), 0);
        assert!(close(clock.now(), SystemClock.now()));

        let sixty_days_ago = SystemClock.now().plus_millis(-60 * DAY_MILLIS);
        clock.set_now(sixty_days_ago);
        let offset = clock.offset_millis();
        assert!((offset + 60 * DAY_MILLIS).abs() < 5_000, "{offset}");
        let read = clock.now();
        assert!(close(read, sixty_days_ago));
        assert!(read >= sixty_days_ago, "it runs on, never back");

        // Shared behind the trait, as the service holds it.
        let shared: std::sync::Arc<dyn Clock> = std::sync::Arc::new(OffsetClock::default());
        assert!(close(shared.now(), SystemClock.now()));

        clock.set_offset_millis(-DAY_MILLIS);
        assert!(close(
            clock.now(),
            SystemClock.now().plus_millis(-DAY_MILLIS)
        ));
        clock.reset();
        assert_eq!(clock.offset_millis(), 0);
        assert!(close(clock.now(), SystemClock.now()));
    }
}
