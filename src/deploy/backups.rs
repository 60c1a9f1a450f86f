//! The backup host's schedule and what it keeps: the cron file runs it, the backup
//! alerts' thresholds follow its gaps, the restore document states it, and the storage
//! view sizes the repository from it.

use super::facts::{MEDIA_SCRIPT, PGBACKREST_SCRIPT, PGDUMP_SCRIPT};

/// Differential backups kept (with the incrementals that depend on them): a week of
/// dailies, so a restore within the week starts from a recent diff instead of
/// replaying a week of WAL. Older points restore from a full plus WAL.
pub const DIFF_RETENTION: u64 = 7;
/// Weekly pg_dump files kept: two weeks.
pub const PGDUMP_KEEP: u64 = 2;

/// A cron job of the backup host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub minute: u8,
    /// Hours of the day it runs, ascending.
    pub hours: Vec<u8>,
    /// Days of the week (0 = Sunday), ascending.
    pub days: Vec<u8>,
    pub command: String,
    pub why: &'static str,
}

/// The pgBackRest part of the schedule: a full on Sunday at 01:30 UTC, a differential
/// on the other days at 01:30, an incremental at :30 every hour but 01:30. Exactly one
/// backup starts each hour, so they never compete for pgBackRest's lock by design.
pub fn backup_jobs() -> Vec<Job> {
    let all_days: Vec<u8> = (0..7).collect();
    vec![
        Job {
            minute: 30,
            hours: vec![1],
            days: vec![0],
            command: format!("{PGBACKREST_SCRIPT} full"),
            why: "full backup, weekly (Sunday 01:30 UTC)",
        },
        Job {
            minute: 30,
            hours: vec![1],
            days: (1..7).collect(),
            command: format!("{PGBACKREST_SCRIPT} diff"),
            why: "differential backup (changes since the full), the other days at 01:30",
        },
        Job {
            minute: 30,
            hours: (0..24).filter(|h| *h != 1).collect(),
            days: all_days,
            command: format!("{PGBACKREST_SCRIPT} incr"),
            why: "incremental backup (changes since the last backup), hourly except at 01:30; skipped while a full or diff still runs",
        },
    ]
}

/// Every job of the backup host's cron file.
pub fn jobs() -> Vec<Job> {
    let all_days: Vec<u8> = (0..7).collect();
    let mut jobs = backup_jobs();
    jobs.extend([
        Job {
            minute: 45,
            hours: vec![0],
            days: all_days.clone(),
            command: format!("{PGBACKREST_SCRIPT} check"),
            why: "pgbackrest check: forces a WAL switch on the primary and waits for it in the repository (archiving works end to end)",
        },
        Job {
            minute: 15,
            hours: vec![3],
            days: all_days,
            command: format!("nice -n 19 ionice -c3 {MEDIA_SCRIPT}"),
            why: "media snapshot, daily, at the lowest CPU and I/O priority (seed)",
        },
        Job {
            minute: 45,
            hours: vec![4],
            days: vec![6],
            command: format!("nice -n 19 ionice -c3 {PGDUMP_SCRIPT}"),
            why: "logical dump without one-time keys, weekly (Saturday), from a standby",
        },
    ]);
    jobs
}

/// Days between two full backups: the full job's days of the week, spread evenly.
pub fn full_every_days() -> u64 {
    let fulls = backup_jobs()
        .first()
        .map_or(1, |j| j.days.len().max(1) as u64);
    7 / fulls
}

/// Incremental backups a day: the incremental job's hours.
pub fn incr_per_day() -> u64 {
    backup_jobs().get(2).map_or(0, |j| j.hours.len() as u64)
}
