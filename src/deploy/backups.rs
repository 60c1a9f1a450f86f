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

/// Every pgBackRest backup starts at this minute past the hour.
pub const BACKUP_MINUTE: u8 = 30;
/// The hour (UTC) of the daily full or differential backup; the incrementals take every
/// other hour, so exactly one backup starts each hour.
pub const DAILY_BACKUP_HOUR: u8 = 1;
/// The day of the week of the full backup (0 = Sunday); differentials the other days.
pub const FULL_BACKUP_DAY: u8 = 0;
/// Days between two full backups: one a week.
pub const FULL_EVERY_DAYS: u64 = 7;
/// Incremental backups a day: every hour but the daily backup's.
pub const INCR_PER_DAY: u64 = 23;

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
            minute: BACKUP_MINUTE,
            hours: vec![DAILY_BACKUP_HOUR],
            days: vec![FULL_BACKUP_DAY],
            command: format!("{PGBACKREST_SCRIPT} full"),
            why: "full backup, weekly (Sunday 01:30 UTC)",
        },
        Job {
            minute: BACKUP_MINUTE,
            hours: vec![DAILY_BACKUP_HOUR],
            days: (0..7).filter(|d| *d != FULL_BACKUP_DAY).collect(),
            command: format!("{PGBACKREST_SCRIPT} diff"),
            why: "differential backup (changes since the full), the other days at 01:30",
        },
        Job {
            minute: BACKUP_MINUTE,
            hours: (0..24).filter(|h| *h != DAILY_BACKUP_HOUR).collect(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The counts the storage view sizes the repository by are the schedule's.
    #[test]
    fn counts_are_the_schedules() {
        let jobs = backup_jobs();
        let [full, diff, incr] = &jobs[..] else {
            panic!("three backup jobs")
        };
        assert_eq!(7 / full.days.len() as u64, FULL_EVERY_DAYS);
        assert_eq!(full.days.len() + diff.days.len(), 7);
        assert_eq!(incr.hours.len() as u64, INCR_PER_DAY);
        assert_eq!(incr.days.len(), 7);
        assert!(jobs.iter().all(|j| j.minute == BACKUP_MINUTE));
        // One backup starts each hour of the week, never two.
        for day in 0..7u8 {
            for hour in 0..24u8 {
                let starting = jobs
                    .iter()
                    .filter(|j| j.days.contains(&day) && j.hours.contains(&hour))
                    .count();
                assert_eq!(starting, 1, "day {day} hour {hour}");
            }
        }
    }
}
