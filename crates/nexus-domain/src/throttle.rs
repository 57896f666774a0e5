//! How repeated attempts are slowed down: sign-ins that fail, registrations from one address.
//! The store keeps one [`Attempts`] record per key and applies [`reserve`] to it atomically
//! *before* the work it guards (a password hash), so that sending many attempts at once cannot
//! multiply the guesses: an attempt that is not reserved is refused without being tried.

use crate::UnixMillis;

/// The record of one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempts {
    pub count: i32,
    /// No attempt is allowed before this instant (Unix ms).
    pub blocked_until: i64,
    /// Where the current counting window began (Unix ms), for [`Policy::Window`].
    pub window_started: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// `free` attempts in a row, then each further one waits twice as long as the last, from one
    /// second up to `cap_seconds`. A success forgets the record.
    Backoff { free: i32, cap_seconds: i64 },
    /// At most `limit` attempts in any window of `seconds` that starts at the first of them.
    Window { limit: i32, seconds: i64 },
}

/// Sign-ins for one account from one address: a few typos are free.
pub const SIGN_IN_FROM_ONE_ADDRESS: Policy = Policy::Backoff {
    free: 5,
    cap_seconds: 15 * 60,
};
/// Sign-ins for one account from anywhere: a guessing attack spread over many addresses still
/// meets this, while one address's flood (held back by the limit above) hardly moves it.
pub const SIGN_IN_TO_ONE_ACCOUNT: Policy = Policy::Backoff {
    free: 20,
    cap_seconds: 15 * 60,
};
/// New organisations from one address: each is a schema or file of its own. (The service's
/// setting `registrations_per_hour` chooses the limit; this is its default.)
pub const REGISTRATIONS_FROM_ONE_ADDRESS: Policy = Policy::Window {
    limit: 5,
    seconds: 60 * 60,
};

/// Refused: try again at this instant (Unix ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAt(pub UnixMillis);

impl RetryAt {
    /// Whole seconds from `now`, at least one: the `Retry-After` of the answer.
    pub fn seconds_after(self, now: UnixMillis) -> u64 {
        let millis = self.0.as_millis().saturating_sub(now.as_millis());
        u64::try_from(millis).unwrap_or(0).div_ceil(1000).max(1)
    }
}

/// How long the attempt after the `count`-th must wait under a backoff.
pub fn backoff_wait_seconds(count: i32, free: i32, cap_seconds: i64) -> i64 {
    if count <= free {
        return 0;
    }
    let doublings = u32::try_from(count - free - 1).unwrap_or(u32::MAX).min(40);
    1_i64
        .checked_shl(doublings)
        .unwrap_or(i64::MAX)
        .min(cap_seconds)
}

/// One more attempt under `policy`: the record to store if it is allowed, or when to retry.
/// A backoff counts the attempt as a failure until [`Policy::Backoff`]'s success forgets it.
pub fn reserve(policy: Policy, record: Attempts, now: UnixMillis) -> Result<Attempts, RetryAt> {
    let now = now.as_millis();
    match policy {
        Policy::Backoff { free, cap_seconds } => {
            if record.blocked_until > now {
                return Err(RetryAt(UnixMillis::from_millis(record.blocked_until)));
            }
            let count = record.count.saturating_add(1);
            let wait = backoff_wait_seconds(count, free, cap_seconds);
            Ok(Attempts {
                count,
                blocked_until: now.saturating_add(wait.saturating_mul(1000)),
                window_started: record.window_started,
            })
        }
        Policy::Window { limit, seconds } => {
            let window = seconds.saturating_mul(1000);
            let record = if now.saturating_sub(record.window_started) >= window {
                Attempts {
                    count: 0,
                    blocked_until: 0,
                    window_started: now,
                }
            } else {
                record
            };
            if record.count >= limit {
                return Err(RetryAt(UnixMillis::from_millis(
                    record.window_started.saturating_add(window),
                )));
            }
            Ok(Attempts {
                count: record.count + 1,
                ..record
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: UnixMillis = UnixMillis::from_millis(1_767_225_600_000);

    #[test]
    fn a_backoff_is_free_for_a_few_then_doubles_up_to_its_cap() {
        let waits: Vec<i64> = (1..=9)
            .map(|count| backoff_wait_seconds(count, 5, 900))
            .collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 1, 2, 4, 8]);
        assert_eq!(backoff_wait_seconds(i32::MAX, 5, 900), 900);
    }

    #[test]
    fn attempts_at_the_same_instant_get_only_the_free_ones_and_one_more() {
        let mut record = Attempts::default();
        let mut allowed = 0;
        for _ in 0..128 {
            if let Ok(next) = reserve(SIGN_IN_FROM_ONE_ADDRESS, record, START) {
                record = next;
                allowed += 1;
            }
        }
        // Five free, then the sixth sets a one-second wait that refuses the rest.
        assert_eq!(allowed, 6);
        assert_eq!(
            reserve(SIGN_IN_FROM_ONE_ADDRESS, record, START),
            Err(RetryAt(START.plus_seconds(1)))
        );
        assert!(reserve(SIGN_IN_FROM_ONE_ADDRESS, record, START.plus_seconds(1)).is_ok());
    }

    #[test]
    fn a_flood_over_fifteen_seconds_gets_about_nine_tries() {
        let mut record = Attempts::default();
        let mut allowed = 0;
        for tick in 0..1500 {
            let now = START.plus_millis(tick * 10);
            if let Ok(next) = reserve(SIGN_IN_FROM_ONE_ADDRESS, record, now) {
                record = next;
                allowed += 1;
            }
        }
        assert!((8..=10).contains(&allowed), "{allowed}");
    }

    #[test]
    fn a_window_allows_its_limit_then_refuses_until_it_ends() {
        let mut record = Attempts::default();
        for _ in 0..5 {
            record = reserve(REGISTRATIONS_FROM_ONE_ADDRESS, record, START).expect("allowed");
        }
        let refused = reserve(
            REGISTRATIONS_FROM_ONE_ADDRESS,
            record,
            START.plus_seconds(60),
        );
        assert_eq!(refused, Err(RetryAt(START.plus_seconds(3600))));
        assert_eq!(
            refused.map_err(|retry| retry.seconds_after(START)),
            Err(3600)
        );
        assert!(
            reserve(
                REGISTRATIONS_FROM_ONE_ADDRESS,
                record,
                START.plus_seconds(3600)
            )
            .is_ok()
        );
    }
}
