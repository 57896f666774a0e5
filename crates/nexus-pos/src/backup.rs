//! Backups of the station's database, and putting one back.
//!
//! A backup is a consistent copy of the database taken while the till sells (SQLite's
//! `VACUUM INTO` on a connection of its own, so the till's connection never waits for it),
//! checked, then renamed into place: a half-written copy never carries a backup's name. The
//! station takes one a day into a directory it is given (a USB stick) and keeps the newest few.
//!
//! A backup put back is behind the service: after it was taken the till went on selling and
//! syncing. Its outbox would number the next write with a seq the service already holds (the
//! service would take it for a retry), and its receipt counter would print numbers already on
//! paper. So [`restore`] asks the service what it holds of this station ([`HighWater`]) before
//! anything else and numbers above it; without an answer it refuses and changes nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nexus_domain::{Clock, UnixMillis};
use nexus_sync::HighWater;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};

use crate::{Station, StationError, StationResult};

const BACKUP_PREFIX: &str = "station-";
const BACKUP_SUFFIX: &str = ".db";
/// Meta keys: when the last backup was taken, and why the last attempt failed (cleared by the
/// next success), for `nexus pos status`.
const LAST_BACKUP_KEY: &str = "last_backup_at";
const BACKUP_PROBLEM_KEY: &str = "backup_problem";
/// The next op's seq is above this (the service's high-water mark when the station was
/// restored), whatever the outbox holds.
pub(crate) const SEQ_FLOOR_KEY: &str = "seq_floor";
/// How often the daily backup looks again after a failed attempt (the stick was out, say).
const RETRY_EVERY: Duration = Duration::from_secs(60 * 60);

/// Where and how often the station backs itself up while it serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupSettings {
    pub dir: PathBuf,
    /// How many backups to keep there; older ones are removed. At least 1.
    pub keep: usize,
    /// How long after the newest backup in `dir` the next one is due.
    pub every: Duration,
}

impl BackupSettings {
    /// One backup a day into `dir`, keeping the newest `keep`.
    pub fn daily(dir: PathBuf, keep: usize) -> Self {
        Self {
            dir,
            keep: keep.max(1),
            every: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// One backup file, as its name says when it was taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backup {
    pub path: PathBuf,
    pub taken_at: UnixMillis,
}

/// The backups in `dir`, oldest first; a directory that does not exist holds none.
pub fn backups_in(dir: &Path) -> StationResult<Vec<Backup>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(io_problem("cannot read", dir, &error)),
    };
    let mut backups = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| io_problem("cannot read", dir, &error))?;
        let name = entry.file_name();
        if let Some(taken_at) = name.to_str().and_then(taken_at_of) {
            backups.push(Backup {
                path: entry.path(),
                taken_at,
            });
        }
    }
    backups.sort_by_key(|backup| backup.taken_at);
    Ok(backups)
}

/// `station-2026-12-03-101500.db`: the time (UTC) sorts with the name and reads on the stick.
fn backup_name(at: UnixMillis) -> String {
    let millis = at.as_millis();
    let day = nexus_domain::calendar::local_day(millis, 0);
    let second_of_day = millis.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{BACKUP_PREFIX}{}-{:02}{:02}{:02}{BACKUP_SUFFIX}",
        nexus_domain::calendar::format_day(day),
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

fn taken_at_of(name: &str) -> Option<UnixMillis> {
    let stamp = name
        .strip_prefix(BACKUP_PREFIX)?
        .strip_suffix(BACKUP_SUFFIX)?;
    let (date, time) = stamp.rsplit_once('-')?;
    let day = nexus_domain::calendar::parse_date(date)?;
    if time.len() != 6 || !time.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let field = |range: std::ops::Range<usize>| time[range].parse::<i64>().ok();
    let (hours, minutes, seconds) = (field(0..2)?, field(2..4)?, field(4..6)?);
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    Some(UnixMillis::from_millis(
        (i64::from(day) * 86_400 + hours * 3600 + minutes * 60 + seconds) * 1000,
    ))
}

fn io_problem(what: &str, path: &Path, error: &std::io::Error) -> StationError {
    StationError::Invalid(format!("{what} {}: {error}", path.display()))
}

impl Station {
    /// Takes a backup into `dir` now (creating it), keeps the newest `keep` there and returns
    /// the new one's path. The till goes on selling meanwhile.
    pub async fn back_up(
        &self,
        dir: &Path,
        keep: usize,
        now: UnixMillis,
    ) -> StationResult<PathBuf> {
        let taken = self.copy_into(dir, now).await;
        match &taken {
            Ok(_) => {
                self.set_meta(LAST_BACKUP_KEY, &now.as_millis().to_string())
                    .await?;
                self.clear_meta(BACKUP_PROBLEM_KEY).await?;
            }
            Err(error) => {
                self.set_meta(BACKUP_PROBLEM_KEY, &error.to_string())
                    .await?
            }
        }
        let path = taken?;
        let backups = backups_in(dir)?;
        let surplus = backups.len().saturating_sub(keep.max(1));
        for old in &backups[..surplus] {
            std::fs::remove_file(&old.path)
                .map_err(|error| io_problem("cannot remove the old backup", &old.path, &error))?;
        }
        Ok(path)
    }

    async fn copy_into(&self, dir: &Path, now: UnixMillis) -> StationResult<PathBuf> {
        std::fs::create_dir_all(dir).map_err(|error| io_problem("cannot create", dir, &error))?;
        let target = dir.join(backup_name(now));
        let partial = dir.join(format!(".{}.partial", backup_name(now)));
        // What an attempt cut short (a power cut, the stick pulled) left behind.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with(&format!(".{BACKUP_PREFIX}")) && name.ends_with(".partial") {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        // A connection of its own, reading one snapshot of the WAL database: the till's
        // connection goes on committing sales while the copy is written.
        let mut reader = SqliteConnectOptions::new()
            .filename(self.data_dir.join("station.db"))
            .read_only(true)
            .busy_timeout(Duration::from_secs(10))
            .connect()
            .await?;
        let partial_text = partial.to_str().ok_or_else(|| {
            StationError::Invalid(format!("{} is not a usable path", partial.display()))
        })?;
        let copied = sqlx::query("VACUUM INTO $1")
            .bind(partial_text)
            .execute(&mut reader)
            .await;
        reader.close().await?;
        copied?;
        let checked = check_backup_file(&partial).await;
        if let Err(error) = checked {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
        // On the stick before its name says it is a backup.
        std::fs::File::open(&partial)
            .and_then(|file| file.sync_all())
            .map_err(|error| io_problem("cannot write", &partial, &error))?;
        std::fs::rename(&partial, &target)
            .map_err(|error| io_problem("cannot write", &target, &error))?;
        if let Ok(directory) = std::fs::File::open(dir) {
            let _ = directory.sync_all();
        }
        Ok(target)
    }

    /// When the last backup was taken, and why the last attempt failed if it did.
    pub async fn backup_state(&self) -> StationResult<(Option<i64>, Option<String>)> {
        Ok((
            self.meta(LAST_BACKUP_KEY)
                .await?
                .and_then(|text| text.parse().ok()),
            self.meta(BACKUP_PROBLEM_KEY).await?,
        ))
    }

    /// Numbers everything this station writes from now on above what the service holds, and
    /// counts the ops it holds as synced (they were pushed after this copy was taken).
    async fn catch_up(&self, high: &HighWater, now: UnixMillis) -> StationResult<u64> {
        let acknowledged = i64::try_from(high.acknowledged_seq).unwrap_or(i64::MAX);
        let mut transaction = self.pool.begin().await?;
        let marked = sqlx::query(
            "UPDATE outbox SET status = 'acknowledged' WHERE seq <= $1 AND status = 'pending'",
        )
        .bind(acknowledged)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        let local_receipts: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'receipt_seq'")
                .fetch_optional(&mut *transaction)
                .await?;
        let local_receipts = local_receipts
            .and_then(|text| text.parse::<u64>().ok())
            .unwrap_or(0);
        for (key, value) in [
            (SEQ_FLOOR_KEY, high.acknowledged_seq.to_string()),
            (
                "receipt_seq",
                local_receipts.max(high.receipt_seq).to_string(),
            ),
            ("restored_at", now.as_millis().to_string()),
        ] {
            crate::station::set_meta_on(&mut transaction, key, &value).await?;
        }
        transaction.commit().await?;
        Ok(marked)
    }
}

/// Whether `path` reads as a sound station database that belongs to an enrolled station.
async fn check_backup_file(path: &Path) -> StationResult<()> {
    let not_a_backup = |reason: String| {
        StationError::Invalid(format!(
            "{} is not a station backup that can be restored: {reason}",
            path.display()
        ))
    };
    let mut connection = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .map_err(|error| not_a_backup(error.to_string()))?;
    let checked: Result<(Vec<String>, i64), sqlx::Error> = async {
        let lines: Vec<String> = sqlx::query_scalar("PRAGMA quick_check")
            .fetch_all(&mut connection)
            .await?;
        let enrolled: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM meta WHERE key IN ('station_id', 'credential', 'server')",
        )
        .fetch_one(&mut connection)
        .await?;
        Ok((lines, enrolled))
    }
    .await;
    let _ = connection.close().await;
    let (lines, enrolled) = checked.map_err(|error| not_a_backup(error.to_string()))?;
    if lines != ["ok"] {
        return Err(not_a_backup(format!(
            "it is damaged ({})",
            lines.join("; ")
        )));
    }
    if enrolled != 3 {
        return Err(not_a_backup(
            "it is of a station that was never enrolled".to_owned(),
        ));
    }
    Ok(())
}

/// What [`restore`] did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Restored {
    pub station_id: String,
    /// The service's high-water mark: the next op is numbered above it.
    pub acknowledged_seq: u64,
    /// The last receipt number used, here or on the service: the next receipt is above it.
    pub receipt_seq: u64,
    /// Ops the backup held as unsynced that the service already had.
    pub already_synced: u64,
    /// Where the database that was in the data directory went, if there was one.
    pub replaced: Option<PathBuf>,
}

/// Puts the backup `from` back as the station in `data_dir`, numbered above what the service
/// holds of it. Refuses, changing nothing, when the file is not a sound backup, when the
/// station now in `data_dir` holds writes not yet synced, or when the service cannot say what
/// it holds. The station must not be serving while this runs.
pub async fn restore(data_dir: &Path, from: &Path, clock: &dyn Clock) -> StationResult<Restored> {
    check_backup_file(from).await?;
    std::fs::create_dir_all(data_dir)
        .map_err(|error| io_problem("cannot create", data_dir, &error))?;
    let current = data_dir.join("station.db");
    if current.exists() {
        let station = Station::open(data_dir).await?;
        let waiting = station.status().await?.unsynced_ops;
        station.close().await;
        if waiting > 0 {
            return Err(StationError::Invalid(format!(
                "the station in {} holds {waiting} {} not yet synced: run `nexus pos sync` \
                 first, or move that directory away to keep it",
                data_dir.display(),
                if waiting == 1 { "write" } else { "writes" }
            )));
        }
    }
    let staging = data_dir.join("restoring");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .map_err(|error| io_problem("cannot clear", &staging, &error))?;
    }
    std::fs::create_dir_all(&staging)
        .map_err(|error| io_problem("cannot create", &staging, &error))?;
    let staged_file = staging.join("station.db");
    std::fs::copy(from, &staged_file).map_err(|error| io_problem("cannot copy", from, &error))?;
    let staged = Station::open(&staging).await?;
    let caught_up = async {
        let station_id = staged.required("station_id").await?;
        let high = staged.high_water().await?;
        if high.station_id.to_string() != station_id {
            return Err(StationError::Refused(format!(
                "the service answered for station {}, not {station_id}",
                high.station_id
            )));
        }
        let already_synced = staged.catch_up(&high, clock.now()).await?;
        let receipt_seq = staged
            .meta("receipt_seq")
            .await?
            .and_then(|text| text.parse().ok())
            .unwrap_or(0);
        Ok((station_id, high, already_synced, receipt_seq))
    }
    .await;
    staged.close().await;
    let (station_id, high, already_synced, receipt_seq) = match caught_up {
        Ok(done) => done,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(match error {
                StationError::Unreachable { url, reason } => StationError::Invalid(format!(
                    "the service at {url} cannot be reached ({reason}). A restored till must \
                     learn what the service already holds of it before it sells, so that no \
                     receipt number is used twice: connect and run the restore again. Nothing \
                     was changed"
                )),
                other => other,
            });
        }
    };
    let replaced = if current.exists() {
        let aside = data_dir.join(format!("replaced-{}", clock.now().as_millis()));
        std::fs::create_dir_all(&aside)
            .map_err(|error| io_problem("cannot create", &aside, &error))?;
        move_database(data_dir, &aside)?;
        Some(aside)
    } else {
        None
    };
    move_database(&staging, data_dir)?;
    let _ = std::fs::remove_dir_all(&staging);
    Ok(Restored {
        station_id,
        acknowledged_seq: high.acknowledged_seq,
        receipt_seq,
        already_synced,
        replaced,
    })
}

/// Moves `station.db` and its WAL files from one directory to another.
fn move_database(from: &Path, to: &Path) -> StationResult<()> {
    for name in ["station.db", "station.db-wal", "station.db-shm"] {
        let source = from.join(name);
        if source.exists() {
            std::fs::rename(&source, to.join(name))
                .map_err(|error| io_problem("cannot move", &source, &error))?;
        }
    }
    Ok(())
}

/// Backs the station up whenever the newest backup in the directory is `every` old, until
/// `stop` resolves. A failed attempt (the stick is out) is logged, shown by `nexus pos status`,
/// and tried again within the hour.
pub(crate) async fn run_daily(
    station: std::sync::Arc<Station>,
    clock: std::sync::Arc<dyn Clock>,
    settings: BackupSettings,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let now = clock.now();
        let newest = backups_in(&settings.dir)
            .ok()
            .and_then(|backups| backups.last().map(|backup| backup.taken_at));
        let every = i64::try_from(settings.every.as_millis()).unwrap_or(i64::MAX);
        let due = newest.map_or(now.as_millis(), |at| at.as_millis().saturating_add(every));
        let wait = if now.as_millis() >= due {
            match station.back_up(&settings.dir, settings.keep, now).await {
                Ok(path) => {
                    tracing::info!(backup = %path.display(), "backed up the station");
                    settings.every
                }
                Err(error) => {
                    tracing::warn!(dir = %settings.dir.display(), %error, "the daily backup failed; trying again within the hour");
                    RETRY_EVERY
                }
            }
        } else {
            Duration::from_millis(u64::try_from(due - now.as_millis()).unwrap_or(0))
        };
        tokio::select! {
            () = tokio::time::sleep(wait.min(RETRY_EVERY)) => {}
            _ = &mut stop => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_name_reads_back_as_its_time_to_the_second() {
        let at = UnixMillis::from_millis(1_796_292_915_000);
        let name = backup_name(at);
        assert_eq!(name, "station-2026-12-03-101515.db");
        assert_eq!(taken_at_of(&name), Some(at));
        assert_eq!(taken_at_of("station-2026-12-03-101515.db.partial"), None);
        assert_eq!(taken_at_of(".station-2026-12-03-101515.db.partial"), None);
        assert_eq!(taken_at_of("station-2026-02-30-101515.db"), None);
        assert_eq!(taken_at_of("station-2026-12-03-246000.db"), None);
    }
}
