//! Signing in at the till with a PIN, checked offline against the PIN hashes synced down, with a
//! lock after too many wrong PINs.

use nexus_domain::secrets::SecretError;
use nexus_domain::{Clock, Role};
use nexus_sync::StaffRecord;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use crate::till::invalid;
use crate::{Station, StationError, StationResult};

/// Wrong PINs in a row for a chosen name before that person is locked.
pub const PIN_FAILURES_BEFORE_LOCK: i64 = 5;

/// Wrong PIN-only tries in a row at a till before each further one waits. PIN-only sign-in
/// never locks: a lock would shut every cashier out, so a guesser is slowed down instead.
pub const PIN_ONLY_FREE_TRIES: i64 = 3;

/// The longest wait between PIN-only tries; the waits before it double from 2 s.
pub const PIN_ONLY_LONGEST_WAIT_SECONDS: i64 = 30;

/// A quiet spell this long after the last wrong PIN-only try forgets the run.
const PIN_ONLY_FORGET_MILLIS: i64 = 15 * 60 * 1000;

/// The wait before the next PIN-only try after `failures` wrong ones in a row.
pub fn pin_only_wait_seconds(failures: i64) -> i64 {
    if failures <= PIN_ONLY_FREE_TRIES {
        return 0;
    }
    let doublings = u32::try_from((failures - PIN_ONLY_FREE_TRIES).min(8)).unwrap_or(8);
    (1_i64 << doublings).min(PIN_ONLY_LONGEST_WAIT_SECONDS)
}

/// How long a lock lasts. Short enough not to close a till for the day, long enough to make
/// guessing a 4-digit PIN take weeks.
pub const PIN_LOCK_MILLIS: i64 = 5 * 60 * 1000;

/// The key PIN-only sign-in failures are counted under.
pub(crate) const ANYONE: &str = "*";

/// The key wrong approval PINs are counted under: apart from sign-in's, so that a cashier
/// asking for approvals neither slows sign-in down nor gets a way round its waits.
const APPROVAL: &str = "approval";

/// The member of staff signed in at the till, as the last sync described them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
}

impl Station {
    /// Signs a member of staff in with their PIN, checked against the PIN hashes synced down,
    /// so it works offline. With `staff` the PIN is checked for that person; without, against
    /// everyone at the branch (the PIN says who it is). Each run of
    /// [`PIN_FAILURES_BEFORE_LOCK`] wrong PINs for a chosen person locks them for
    /// [`PIN_LOCK_MILLIS`]; wrong PIN-only tries make the next ones wait
    /// ([`pin_only_wait_seconds`]) and lock nobody.
    pub async fn sign_in(
        &self,
        clock: &dyn Clock,
        staff: Option<Uuid>,
        pin: &str,
    ) -> StationResult<SignedIn> {
        let key = staff.map_or_else(|| ANYONE.to_owned(), |id| id.to_string());
        let candidates: Vec<StaffRecord> = match staff {
            Some(id) => self
                .replica_record(&id.to_string())
                .await?
                .into_iter()
                .collect(),
            None => self.replica_records().await?,
        };
        let candidates: Vec<StaffRecord> = candidates
            .into_iter()
            .filter(StaffRecord::signs_in_at_tills)
            .collect();
        let who = match (staff, candidates.first()) {
            (Some(_), Some(member)) => Some(member.name.clone()),
            (Some(_), None) => Some("that person".to_owned()),
            (None, _) => None,
        };
        // A locked sign-in is refused at once, without queueing behind PIN checks.
        self.pin_attempts(&key, who.as_deref(), clock.now().as_millis())
            .await?;
        // One attempt at a time from reading the count of wrong PINs to recording the next, so
        // that however many arrive together they count one by one and the fifth locks. PINs are
        // checked one at a time anyway (`crate::hashing`).
        let _turn = self.sign_in_turn.lock().await;
        let now = clock.now().as_millis();
        let (failures, locked_until) = self.pin_attempts(&key, who.as_deref(), now).await?;
        let matched = verify_pins(pin, &candidates).await?;
        if matched.len() > 1 {
            return Err(invalid(
                "more than one person has that PIN here: choose your name first",
            ));
        }
        let Some(member) = matched.into_iter().next() else {
            return Err(self
                .count_wrong_pin(&key, who, failures, locked_until, now)
                .await?);
        };
        sqlx::query("DELETE FROM pin_attempts WHERE staff_key = $1")
            .bind(&key)
            .execute(&self.pool)
            .await?;
        Ok(signed_in_from(&member))
    }

    /// The manager or owner of this branch whose PIN `pin` is, approving something a cashier
    /// may not do alone (a refund or void, when the station's settings say so). Checked
    /// offline like a sign-in; wrong PINs make the next ones wait as PIN-only sign-in does, so
    /// approvals are no way to guess a manager's PIN.
    pub async fn approver(&self, clock: &dyn Clock, pin: &str) -> StationResult<SignedIn> {
        let candidates: Vec<StaffRecord> = self
            .replica_records::<StaffRecord>()
            .await?
            .into_iter()
            .filter(|member| {
                member.signs_in_at_tills()
                    && member.role.allows(nexus_domain::Permission::RefundAnySale)
            })
            .collect();
        let slowed = |error: StationError| match error {
            StationError::PinSlowed {
                retry_after_seconds,
            } => invalid(format!(
                "too many wrong manager PINs at this till: wait {retry_after_seconds} s before the next one"
            )),
            other => other,
        };
        self.pin_attempts(APPROVAL, None, clock.now().as_millis())
            .await
            .map_err(slowed)?;
        let _turn = self.sign_in_turn.lock().await;
        let now = clock.now().as_millis();
        let (failures, locked_until) = self
            .pin_attempts(APPROVAL, None, now)
            .await
            .map_err(slowed)?;
        let matched = verify_pins(pin, &candidates).await?;
        let Some(member) = matched.first() else {
            let error = self
                .count_wrong_pin(APPROVAL, None, failures, locked_until, now)
                .await?;
            return Err(match error {
                StationError::WrongPinNoName => {
                    invalid("that is not the PIN of a manager or owner of this branch")
                }
                other => slowed(other),
            });
        };
        sqlx::query("DELETE FROM pin_attempts WHERE staff_key = $1")
            .bind(APPROVAL)
            .execute(&self.pool)
            .await?;
        Ok(signed_in_from(member))
    }

    /// Records one more wrong PIN under `key` and says what follows: tries left, a lock of the
    /// person named `who`, or (PIN-only, `who` is `None`) a wait before the next try.
    async fn count_wrong_pin(
        &self,
        key: &str,
        who: Option<String>,
        failures: i64,
        locked_until: Option<i64>,
        now: i64,
    ) -> StationResult<StationError> {
        let (stored, until, error) = match who {
            Some(who) => {
                // A lock that ran out starts the count again.
                let failures = if locked_until.is_some() {
                    1
                } else {
                    failures + 1
                };
                if failures >= PIN_FAILURES_BEFORE_LOCK {
                    let error = StationError::PinLocked {
                        who,
                        retry_after_seconds: PIN_LOCK_MILLIS / 1000,
                    };
                    (0, Some(now + PIN_LOCK_MILLIS), error)
                } else {
                    let error = StationError::WrongPin {
                        attempts_left: PIN_FAILURES_BEFORE_LOCK - failures,
                    };
                    (failures, None, error)
                }
            }
            None => {
                // The wait's end doubles as the time of the last wrong try, to forget a run.
                let forgotten =
                    locked_until.is_some_and(|until| until + PIN_ONLY_FORGET_MILLIS < now);
                let failures = if forgotten { 1 } else { failures + 1 };
                let wait = pin_only_wait_seconds(failures);
                let error = if wait > 0 {
                    StationError::PinSlowed {
                        retry_after_seconds: wait,
                    }
                } else {
                    StationError::WrongPinNoName
                };
                (failures, Some(now + wait * 1000), error)
            }
        };
        sqlx::query(
            "INSERT INTO pin_attempts (staff_key, failures, locked_until) VALUES ($1, $2, $3) \
             ON CONFLICT (staff_key) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until",
        )
        .bind(key)
        .bind(stored)
        .bind(until)
        .execute(&self.pool)
        .await?;
        Ok(error)
    }

    /// The wrong PINs in a row counted under `key` and when its last lock or wait ran out; one
    /// still running at `now` is the error (a lock of `who`, or a PIN-only wait).
    async fn pin_attempts(
        &self,
        key: &str,
        who: Option<&str>,
        now: i64,
    ) -> StationResult<(i64, Option<i64>)> {
        let row =
            sqlx::query("SELECT failures, locked_until FROM pin_attempts WHERE staff_key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        let (failures, locked_until) = match &row {
            Some(row) => (
                row.try_get::<i64, _>("failures")?,
                row.try_get::<Option<i64>, _>("locked_until")?,
            ),
            None => (0, None),
        };
        if let Some(until) = locked_until.filter(|until| *until > now) {
            let retry_after_seconds = (until - now + 999) / 1000;
            return Err(match who {
                Some(who) => StationError::PinLocked {
                    who: who.to_owned(),
                    retry_after_seconds,
                },
                None => StationError::PinSlowed {
                    retry_after_seconds,
                },
            });
        }
        Ok((failures, locked_until))
    }

    /// An active member of this branch's staff by id, without a PIN: for scripts and support
    /// at the station itself (whoever runs them already holds the station's database).
    pub async fn staff_member(&self, id: Uuid) -> StationResult<SignedIn> {
        match self.replica_record::<StaffRecord>(&id.to_string()).await? {
            Some(member) if member.active => Ok(signed_in_from(&member)),
            _ => Err(invalid(format!(
                "{id} is not active staff of this branch (as of the last sync)"
            ))),
        }
    }

    /// Staff of this branch who can sign in at the till (active, with a PIN), by name.
    pub async fn till_staff(&self) -> StationResult<Vec<SignedIn>> {
        let mut staff: Vec<SignedIn> = self
            .replica_records::<StaffRecord>()
            .await?
            .iter()
            .filter(|member| member.signs_in_at_tills())
            .map(signed_in_from)
            .collect();
        staff.sort_by(|left, right| left.name.cmp(&right.name));
        Ok(staff)
    }
}

pub(crate) fn signed_in_from(member: &StaffRecord) -> SignedIn {
    SignedIn {
        id: member.id.as_uuid(),
        name: member.name.clone(),
        role: member.role,
    }
}

/// The staff among `candidates` whose PIN hash `pin` matches. Argon2id is slow and takes 19 MiB
/// on purpose, so the checks wait their turn for the station's one hashing area and run off the
/// async threads (`crate::hashing`).
pub(crate) async fn verify_pins(
    pin: &str,
    candidates: &[StaffRecord],
) -> StationResult<Vec<StaffRecord>> {
    if nexus_domain::Pin::parse(pin).is_err()
        || !candidates.iter().any(|member| member.pin_hash.is_some())
    {
        return Ok(Vec::new());
    }
    let pin = pin.to_owned();
    let candidates = candidates.to_vec();
    crate::hashing::with_hasher(move |hasher| {
        let mut matched = Vec::new();
        for member in candidates {
            let Some(hash) = member.pin_hash.as_deref() else {
                continue;
            };
            match hasher.verify(pin.as_bytes(), hash) {
                Ok(true) => matched.push(member),
                Ok(false) => {}
                // A stored hash argon2 cannot work with matches nothing, as an unreadable one.
                Err(SecretError::Hashing(reason)) => {
                    tracing::warn!(staff = %member.id.as_uuid(), %reason, "a PIN hash cannot be checked");
                }
                Err(busy @ SecretError::Busy) => return Err(busy),
            }
        }
        Ok(matched)
    })
    .await
}
