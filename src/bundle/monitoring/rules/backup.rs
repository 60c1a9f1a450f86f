//! Group `backup`: the results the backup jobs (src/bundle/backup/) write for
//! node_exporter's textfile collector on the backup host, as Prometheus stores them
//! (job `node`, the job's own name in `exported_job`, see [`BACKUP_JOB_LABEL`]): a
//! failed job, a backup late against the cron schedule of `deploy::backups`
//! (thresholds computed from it, [`schedule_gap_s`]), results that never arrived
//! (absent()).

use crate::bundle::monitoring::alerts::{self, Alert, Case, Group, Severity, alert, l, s, silent};
use crate::bundle::{Ctx, File};
use crate::deploy::Host;
use crate::deploy::facts::{
    BACKUP_DURATION, BACKUP_FAILURE, BACKUP_SUCCESS, DATABASE, MEDIA_SCRIPT, NODE_TEXTFILE_DIR,
    PGBACKREST_SCRIPT, PGBACKREST_SETUP_SCRIPT, PGDUMP_SCRIPT,
};
use crate::plan::Role;
use crate::syntax::promql;

/// The rule file this module makes, and its unit tests.
const RULES: &str = "/etc/prometheus/rules/backup.yml";
const TESTS: &str = "/etc/prometheus/rules/tests/backup.test.yml";

/// Where the backup metrics' own `job` label ends up. Prometheus scrapes them through
/// job `node`, whose target labels include `job`; with `honor_labels` false (the
/// default) a scraped label that clashes with a target label is renamed
/// `exported_<name>` (Prometheus docs, configuration.md, `scrape_config`:
/// honor_labels). So Prometheus stores `job="node"`, `exported_job="pgbackrest"`.
pub const BACKUP_JOB_LABEL: &str = "exported_job";
/// Margin over the longest scheduled gap between two pgBackRest backups of a level.
/// The rule adds the longest last run of that level (the metrics' duration) as well:
/// incrementals are skipped while the daily full or diff holds the backup lock, so a
/// full on a large database widens the gap by its run time, which no fixed margin knows.
pub const PGBACKREST_MARGIN_S: u64 = 3_600;
/// Margin over a day between media snapshots: a run taking up to 2 h longer than the
/// previous one (a day of many uploads, rclone's 50 MB/s bandwidth limit).
pub const MEDIA_MARGIN_S: u64 = 2 * 3_600;
/// Margin over the week between fulls and between pg_dumps: a run taking up to a day
/// longer than the previous one.
pub const WEEKLY_MARGIN_S: u64 = 86_400;
/// A never-run (or never-reported) backup alerts after an hour: long enough that a
/// restart of Prometheus or node_exporter does not alert, short enough to notice on
/// the day of setup.
const BACKUP_ABSENT_FOR: &str = "1h";

/// The unit tests evaluate at 20m, when time() is 1200: timestamps are written as "so
/// many seconds before that".
const NOW: i64 = 1_200;
const H: i64 = 3_600;
const D: i64 = 86_400;

/// The rule file and its unit tests; none without a backup host.
pub fn files(ctx: &Ctx, h: &Host) -> Vec<File> {
    group(ctx)
        .map(|g| alerts::files(ctx, h, &g))
        .unwrap_or_default()
}

/// The group's alerts; None without a backup host.
pub fn group(ctx: &Ctx) -> Option<Group> {
    let host = ctx.topology.first(Role::Backup)?;
    let b = Backup {
        fqdn: &host.fqdn,
        instance: promql::string(&host.fqdn),
    };
    Some(Group {
        name: "backup",
        rules: RULES,
        tests: TESTS,
        test_step: "1m",
        about: "Backups on the backup host (pgBackRest, media snapshots, pg_dump): failed, late against the cron schedule, or never reported.",
        alerts: [
            failed_alerts(&b),
            pgbackrest_late_alerts(&b),
            weekly_and_media_late_alerts(&b),
            missing_alerts(&b),
        ]
        .concat(),
    })
}

/// The backup host, as the rules and their unit tests' series name it.
struct Backup<'a> {
    fqdn: &'a str,
    /// The FQDN as a PromQL string.
    instance: String,
}

impl Backup<'_> {
    /// A backup metric of `job` and `ty` on the backup host, as Prometheus stores it.
    fn series(&self, metric: &str, job: &str, ty: &str, values: String) -> (String, String) {
        let instance = &self.instance;
        s(
            &format!(
                r#"{metric}{{job="node",instance={instance},{BACKUP_JOB_LABEL}="{job}",type="{ty}"}}"#
            ),
            &values,
        )
    }

    /// The labels of an alert on a job's metric.
    fn labels(&self, job: &str, ty: &str) -> Vec<(&'static str, String)> {
        l(&[
            ("job", "node"),
            ("instance", self.fqdn),
            (BACKUP_JOB_LABEL, job),
            ("type", ty),
        ])
    }

    /// The labels of an alert aggregated by instance.
    fn host(&self) -> Vec<(&'static str, String)> {
        l(&[("instance", self.fqdn)])
    }

    /// A pgBackRest level's successes and last durations: (type, seconds ago, duration).
    fn runs(&self, rows: &[(&str, i64, i64)]) -> Vec<(String, String)> {
        rows.iter()
            .flat_map(|(ty, before, took)| {
                [
                    self.series(BACKUP_SUCCESS, "pgbackrest", ty, ago(*before)),
                    self.series(BACKUP_DURATION, "pgbackrest", ty, at(*took)),
                ]
            })
            .collect()
    }

    /// A job that failed after its last success fires, while `other` (another job, or
    /// another type of the same) failing does not; a success since the failure is
    /// silent.
    fn failed_cases(
        &self,
        (job, ty): (&str, &str),
        (other_job, other_ty): (&str, &str),
        later: i64,
        earlier: i64,
    ) -> Vec<Case> {
        let (success, failure) = (BACKUP_SUCCESS, BACKUP_FAILURE);
        vec![
            Case {
                series: vec![
                    self.series(failure, job, ty, at(later)),
                    self.series(success, job, ty, at(earlier)),
                    self.series(failure, other_job, other_ty, at(later)),
                    self.series(success, other_job, other_ty, at(earlier)),
                ],
                eval: "5m",
                fires: vec![self.labels(job, ty)],
            },
            silent(
                vec![
                    self.series(failure, job, ty, at(earlier)),
                    self.series(success, job, ty, at(later)),
                ],
                "5m",
            ),
        ]
    }
}

/// A value held over the unit tests' 20 minutes.
fn at(v: i64) -> String {
    format!("{v}x20")
}

/// A timestamp `secs` before the evaluation time.
fn ago(secs: i64) -> String {
    format!("{}x20", NOW - secs)
}

/// An annotation with the stanza, the scripts and the textfile directory filled in.
fn text(t: &str) -> String {
    t.replace("@STANZA@", crate::bundle::postgres::CLUSTER)
        .replace("@PGBACKREST@", PGBACKREST_SCRIPT)
        .replace("@MEDIA@", MEDIA_SCRIPT)
        .replace("@PGDUMP@", PGDUMP_SCRIPT)
        .replace("@SETUP@", PGBACKREST_SETUP_SCRIPT)
        .replace("@DIR@", NODE_TEXTFILE_DIR)
        .replace("@DATABASE@", DATABASE)
}

/// The schedule's longest gap of a level, in words.
fn gap(level: BackupLevel) -> String {
    seconds_text(schedule_gap_s(level).unwrap_or(WEEK_S))
}

/// The level's margin, in words.
fn margin(level: BackupLevel) -> String {
    seconds_text(level.margin_s())
}

/// The level's threshold, in words.
fn limit(level: BackupLevel) -> String {
    seconds_text(backup_threshold_s(level))
}

/// The selector of a pgBackRest level's metrics.
fn pgbackrest_sel(level: BackupLevel) -> String {
    backup_sel("pgbackrest", &type_matcher(level.pgbackrest_types()))
}

/// Newest success of a pgBackRest level older than the threshold plus the level's
/// longest last run (the duration is written with the success, so both exist).
fn pgbackrest_late(level: BackupLevel) -> String {
    let sel = pgbackrest_sel(level);
    format!(
        "time() - max by (instance) ({BACKUP_SUCCESS}{sel}) > {} + max by (instance) ({BACKUP_DURATION}{sel})",
        seconds_expr(backup_threshold_s(level))
    )
}

/// Newest success of `sel` older than the level's threshold.
fn late(sel: String, level: BackupLevel) -> String {
    format!(
        "time() - max by (instance) ({BACKUP_SUCCESS}{sel}) > {}",
        seconds_expr(backup_threshold_s(level))
    )
}

/// A job whose last run failed: pgBackRest's backups and check, media, pg_dump.
fn failed_alerts(b: &Backup) -> Vec<Alert> {
    use BackupLevel::PgbackrestAny;
    use Severity::{Critical, Warning};
    let (success, failure) = (BACKUP_SUCCESS, BACKUP_FAILURE);
    vec![
        alert(
            "PgBackRestBackupFailed",
            backup_failed_expr(&pgbackrest_sel(PgbackrestAny)),
            "0m",
            Warning,
            "pgBackRest {{ $labels.type }} backup failed on {{ $labels.instance }}",
            text(
                "The last {{ $labels.type }} backup of stanza @STANZA@ on {{ $labels.instance }} failed, or none has succeeded yet. On {{ $labels.instance }}: its log is /var/log/pgbackrest/@STANZA@-backup.log, what the repository holds: sudo -u postgres pgbackrest --stanza=@STANZA@ info. Run it again: sudo @PGBACKREST@ {{ $labels.type }}. Resolves when one succeeds.",
            ),
            vec![Case {
                series: vec![
                    // Failed after its last success: fires.
                    b.series(failure, "pgbackrest", "incr", at(7_000)),
                    b.series(success, "pgbackrest", "incr", at(3_600)),
                    // Succeeded since it failed: silent.
                    b.series(failure, "pgbackrest", "diff", at(1_000)),
                    b.series(success, "pgbackrest", "diff", at(5_000)),
                    // Failed, never succeeded: fires.
                    b.series(failure, "pgbackrest", "full", at(900)),
                    // The check is PgBackRestCheckFailed's.
                    b.series(failure, "pgbackrest", "check", at(7_000)),
                    b.series(success, "pgbackrest", "check", at(3_600)),
                ],
                eval: "5m",
                fires: vec![
                    b.labels("pgbackrest", "incr"),
                    b.labels("pgbackrest", "full"),
                ],
            }],
        ),
        alert(
            "PgBackRestCheckFailed",
            backup_failed_expr(&backup_sel("pgbackrest", r#"type="check""#)),
            "0m",
            // Not only the backups: unarchived WAL stays in the primary's pg_wal.
            Critical,
            "pgbackrest check fails on {{ $labels.instance }}: WAL archiving is broken",
            text(
                "The daily pgbackrest check on {{ $labels.instance }} (a WAL switch on the primary, then waiting for that segment in the repository) failed, or has never succeeded. While WAL does not reach the repository, point-in-time restore ends at the last archived segment, and the primary keeps every unarchived segment in pg_wal until its disk fills. Run on {{ $labels.instance }}: sudo @PGBACKREST@ check (the error names the failing side). Logs: /var/log/pgbackrest/@STANZA@-check.log there, /var/log/pgbackrest/@STANZA@-archive-push-async.log on the primary.",
            ),
            // A failed backup is PgBackRestBackupFailed's.
            b.failed_cases(
                ("pgbackrest", "check"),
                ("pgbackrest", "incr"),
                7_000,
                3_600,
            ),
        ),
        alert(
            "MediaBackupFailed",
            backup_failed_expr(&backup_sel("media", "")),
            "0m",
            Warning,
            "The media backup failed on {{ $labels.instance }}",
            text(
                "The last media snapshot on {{ $labels.instance }} failed, or none has succeeded yet: media uploaded since the newest snapshot exist only in MinIO and in the Synapse host's media store. Run on {{ $labels.instance }}: sudo @MEDIA@ and read its error (rclone from the MinIO bucket through the VIP, then rsync from the Synapse host; rclone's --immutable fails the run when a stored media file has changed).",
            ),
            b.failed_cases(("media", "full"), ("pg_dump", "full"), 90_000, 3_600),
        ),
        alert(
            "PgDumpFailed",
            backup_failed_expr(&backup_sel("pg_dump", "")),
            "0m",
            Warning,
            "The weekly pg_dump failed on {{ $labels.instance }}",
            text(
                "The last logical dump of the @DATABASE@ database on {{ $labels.instance }} failed, or none has succeeded yet. pgBackRest's backups do not depend on it; it is the independent copy, restorable into another PostgreSQL version. Run on {{ $labels.instance }}: sudo @PGDUMP@ and read its error (it connects to a standby through HAProxy on the VIP as user synapse).",
            ),
            b.failed_cases(("pg_dump", "full"), ("media", "full"), 90_000, 3_600),
        ),
    ]
}

/// pgBackRest backups late against the hourly and the daily schedule.
fn pgbackrest_late_alerts(b: &Backup) -> Vec<Alert> {
    use BackupLevel::{PgbackrestAny, PgbackrestDaily};
    use Severity::Warning;
    let success = BACKUP_SUCCESS;
    vec![
        alert(
            "PgBackRestBackupsLate",
            pgbackrest_late(PgbackrestAny),
            "10m",
            Warning,
            "No pgBackRest backup has completed on {{ $labels.instance }} for longer than the hourly schedule allows",
            text(&format!(
                "A pgBackRest backup starts every hour (/etc/cron.d/synapse-planner-backup: the daily full or diff, incrementals in the other hours, skipped while the daily one runs), yet none has completed for {} (the schedule's longest gap, {}, plus {} margin) plus the longest last run of a backup. cron may not run, a backup may hang (pgrep -a pgbackrest), or every run fails (PgBackRestBackupFailed). Run on {{{{ $labels.instance }}}}: sudo @PGBACKREST@ incr.",
                limit(PgbackrestAny),
                gap(PgbackrestAny),
                margin(PgbackrestAny),
            )),
            vec![
                // 2 h 50 since the last incr, the longest last run half an hour: the
                // threshold is 2 h 30, passed 20 min ago (for: 10m). A recent check
                // is no backup.
                Case {
                    series: [
                        b.runs(&[
                            ("incr", 2 * H + 50 * 60, 60),
                            ("diff", 2 * D, 900),
                            ("full", 3 * D, 1_800),
                        ]),
                        vec![b.series(success, "pgbackrest", "check", ago(200))],
                    ]
                    .concat(),
                    eval: "20m",
                    fires: vec![b.host()],
                },
                // Sunday 06:45: the full started at 01:30 still runs (last week's
                // took 4 h 30), so the 00:30 incr (6 h 14 ago) is the newest: on
                // schedule, 16 min short of 2 h + 4 h 30.
                silent(
                    b.runs(&[
                        ("incr", 6 * H + 14 * 60, 60),
                        ("diff", D + 6 * H + 14 * 60, 900),
                        ("full", 7 * D + 2 * H, 16_200),
                    ]),
                    "20m",
                ),
            ],
        ),
        alert(
            "PgBackRestDailyBackupLate",
            pgbackrest_late(PgbackrestDaily),
            "10m",
            Warning,
            "No full or differential pgBackRest backup has completed on {{ $labels.instance }} for longer than the daily schedule allows",
            text(&format!(
                "A full (weekly) or differential (the other days) backup starts every day (/etc/cron.d/synapse-planner-backup), yet none has completed for {} (the schedule's gap, {}, plus {} margin) plus the longest last run of either: restores replay ever more incrementals and WAL. Run on {{{{ $labels.instance }}}}: sudo @PGBACKREST@ diff (it waits for a running backup).",
                limit(PgbackrestDaily),
                gap(PgbackrestDaily),
                margin(PgbackrestDaily),
            )),
            vec![
                // 26 h 20 since the last diff, the longest last run 1 h: 20 min past
                // 25 h + 1 h. Recent incrementals do not count.
                Case {
                    series: b.runs(&[
                        ("diff", 26 * H + 20 * 60, 900),
                        ("full", 6 * D, 3_600),
                        ("incr", 600, 60),
                    ]),
                    eval: "20m",
                    fires: vec![b.host()],
                },
                // Sunday 06:45: Saturday's diff ended at 01:45 (29 h ago), the full
                // is still running (last week's took 4 h 30): on schedule (25 h +
                // 4 h 30), though 4 h over 25 h.
                silent(
                    b.runs(&[
                        ("diff", 29 * H, 900),
                        ("full", 7 * D + 2 * H, 16_200),
                        ("incr", 600, 60),
                    ]),
                    "20m",
                ),
            ],
        ),
    ]
}

/// The weekly full, the daily media snapshot and the weekly pg_dump, late.
fn weekly_and_media_late_alerts(b: &Backup) -> Vec<Alert> {
    use BackupLevel::{Media, PgDump, PgbackrestFull};
    use Severity::Warning;
    let success = BACKUP_SUCCESS;
    vec![
        alert(
            "PgBackRestFullBackupLate",
            late(pgbackrest_sel(PgbackrestFull), PgbackrestFull),
            "10m",
            Warning,
            format!(
                "No full pgBackRest backup has completed on {{{{ $labels.instance }}}} for over {}",
                limit(PgbackrestFull)
            ),
            text(&format!(
                "The weekly full backup has not completed for {} (the schedule's gap, {}, plus {} margin): differentials and incrementals pile up against an old full, and a restore replays more of them. Run on {{{{ $labels.instance }}}}: sudo @PGBACKREST@ full (hours on a large database; it waits for a running backup).",
                limit(PgbackrestFull),
                gap(PgbackrestFull),
                margin(PgbackrestFull),
            )),
            vec![
                Case {
                    // 20 min past 8 days; a recent diff is no full.
                    series: b.runs(&[("full", 8 * D + 20 * 60, 1_800), ("diff", H, 900)]),
                    eval: "20m",
                    fires: vec![b.host()],
                },
                // 10 min short of 8 days: within the margin.
                silent(b.runs(&[("full", 8 * D - 10 * 60, 1_800)]), "20m"),
            ],
        ),
        alert(
            "MediaBackupLate",
            late(backup_sel("media", ""), Media),
            "10m",
            Warning,
            format!(
                "No media backup has completed on {{{{ $labels.instance }}}} for over {}",
                limit(Media)
            ),
            text(&format!(
                "The daily media snapshot has not completed for {} (the schedule's gap, {}, plus {} margin): media uploaded since exist only in MinIO and in the Synapse host's media store. A run may hang (pgrep -a 'rclone|rsync'; the script holds a lock) or cron may not run. Run on {{{{ $labels.instance }}}}: sudo @MEDIA@.",
                limit(Media),
                gap(Media),
                margin(Media),
            )),
            vec![
                Case {
                    series: vec![b.series(success, "media", "full", ago(26 * H + 20 * 60))],
                    eval: "20m",
                    fires: vec![b.host()],
                },
                silent(
                    vec![b.series(success, "media", "full", ago(26 * H - 10 * 60))],
                    "20m",
                ),
            ],
        ),
        alert(
            "PgDumpLate",
            late(backup_sel("pg_dump", ""), PgDump),
            "10m",
            Warning,
            format!(
                "No pg_dump has completed on {{{{ $labels.instance }}}} for over {}",
                limit(PgDump)
            ),
            text(&format!(
                "The weekly logical dump of the @DATABASE@ database has not completed for {} (the schedule's gap, {}, plus {} margin). Run on {{{{ $labels.instance }}}}: sudo @PGDUMP@.",
                limit(PgDump),
                gap(PgDump),
                margin(PgDump),
            )),
            vec![
                Case {
                    series: vec![
                        b.series(success, "pg_dump", "full", ago(8 * D + 20 * 60)),
                        // Another job's recent success does not count.
                        b.series(success, "media", "full", ago(H)),
                    ],
                    eval: "20m",
                    fires: vec![b.host()],
                },
                silent(
                    vec![b.series(success, "pg_dump", "full", ago(8 * D - 10 * 60))],
                    "20m",
                ),
            ],
        ),
    ]
}

/// Results that never arrived.
fn missing_alerts(b: &Backup) -> Vec<Alert> {
    use Severity::Warning;
    let (success, failure) = (BACKUP_SUCCESS, BACKUP_FAILURE);
    let instance = &b.instance;
    vec![
        alert(
            // absent() keeps the equality matchers' labels: one alert per job, on
            // the backup host's instance (so HostDown there inhibits it).
            "BackupMetricsMissing",
            ["pgbackrest", "media", "pg_dump"]
                .iter()
                .map(|job| {
                    format!(
                        r#"absent({BACKUP_SUCCESS}{{job="node",instance={instance},{BACKUP_JOB_LABEL}="{job}",type="full"}})"#
                    )
                })
                .collect::<Vec<_>>()
                .join(" or "),
            BACKUP_ABSENT_FOR,
            Warning,
            "No {{ $labels.exported_job }} backup has reported success on {{ $labels.instance }}",
            text(
                "Prometheus has had no successful {{ $labels.exported_job }} backup from node_exporter on {{ $labels.instance }} for an hour: the job has never succeeded (a backup never run is no backup), its result file in @DIR@ is gone, or node_exporter does not read that directory (ls @DIR@ on {{ $labels.instance }}). Run it once by hand there: pgbackrest: sudo @SETUP@ (takes the first full); media: sudo @MEDIA@; pg_dump: sudo @PGDUMP@.",
            ),
            vec![
                // Nothing has run: all three.
                Case {
                    series: vec![s(&format!(r#"up{{job="node",instance={instance}}}"#), "1x70")],
                    eval: "70m",
                    fires: vec![
                        b.labels("pgbackrest", "full"),
                        b.labels("media", "full"),
                        b.labels("pg_dump", "full"),
                    ],
                },
                // Set up and the media run, the weekly dump not yet.
                Case {
                    series: vec![
                        b.series(success, "pgbackrest", "full", "1x70".into()),
                        b.series(success, "media", "full", "1x70".into()),
                        // A failed dump reports no success.
                        b.series(failure, "pg_dump", "full", "1x70".into()),
                    ],
                    eval: "70m",
                    fires: vec![b.labels("pg_dump", "full")],
                },
                silent(
                    vec![
                        b.series(success, "pgbackrest", "full", "1x70".into()),
                        b.series(success, "media", "full", "1x70".into()),
                        b.series(success, "pg_dump", "full", "1x70".into()),
                    ],
                    "70m",
                ),
            ],
        ),
    ]
}

// Backup thresholds, from the cron schedule (deploy::backups)

const WEEK_S: u64 = 7 * 86_400;

/// A kind of backup whose age the backup rules watch, as the backup host's cron file runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupLevel {
    /// Any pgBackRest backup (full, diff or incr): each is a restore point.
    PgbackrestAny,
    /// A full or a differential: the daily backup (a full also counts as one).
    PgbackrestDaily,
    /// A full: weekly.
    PgbackrestFull,
    /// A media snapshot (backup-media.sh).
    Media,
    /// A logical dump (pg-dump-synapse.sh).
    PgDump,
}

impl BackupLevel {
    /// The `type` values of pgBackRest backups of this level (empty for the others).
    pub fn pgbackrest_types(self) -> &'static [&'static str] {
        match self {
            BackupLevel::PgbackrestAny => &["full", "diff", "incr"],
            BackupLevel::PgbackrestDaily => &["full", "diff"],
            BackupLevel::PgbackrestFull => &["full"],
            BackupLevel::Media | BackupLevel::PgDump => &[],
        }
    }

    /// Whether a cron command of the backup host makes a backup of this level.
    pub fn runs(self, command: &str) -> bool {
        match self {
            BackupLevel::Media => command.ends_with(MEDIA_SCRIPT),
            BackupLevel::PgDump => command.ends_with(PGDUMP_SCRIPT),
            _ => self
                .pgbackrest_types()
                .iter()
                .any(|t| command == format!("{PGBACKREST_SCRIPT} {t}")),
        }
    }

    fn margin_s(self) -> u64 {
        match self {
            BackupLevel::PgbackrestAny | BackupLevel::PgbackrestDaily => PGBACKREST_MARGIN_S,
            BackupLevel::Media => MEDIA_MARGIN_S,
            BackupLevel::PgbackrestFull | BackupLevel::PgDump => WEEKLY_MARGIN_S,
        }
    }
}

/// The longest time, in seconds, between two scheduled starts of a backup of `level`
/// over the week of the cron schedule (`deploy::backups::jobs`, wrapping from Saturday
/// to Sunday); None when the schedule never runs one.
pub fn schedule_gap_s(level: BackupLevel) -> Option<u64> {
    let mut starts: Vec<u64> = crate::deploy::backups::jobs()
        .iter()
        .filter(|j| level.runs(&j.command))
        .flat_map(|j| {
            j.days.iter().flat_map(move |d| {
                j.hours.iter().map(move |h| {
                    u64::from(*d) * 86_400 + u64::from(*h) * 3_600 + u64::from(j.minute) * 60
                })
            })
        })
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let (first, last) = (*starts.first()?, *starts.last()?);
    let wrap = first + WEEK_S - last;
    Some(starts.windows(2).map(|w| w[1] - w[0]).fold(wrap, u64::max))
}

/// The age (seconds) past which a backup of `level` is late: the schedule's longest
/// gap plus the level's margin. For PgbackrestAny and PgbackrestDaily the rule adds
/// the longest last run of the level. A level the schedule lacks is held to a week
/// (the unit tests assert every level is scheduled).
pub fn backup_threshold_s(level: BackupLevel) -> u64 {
    schedule_gap_s(level).unwrap_or(WEEK_S) + level.margin_s()
}

/// `8 * 86400`, `26 * 3600` or plain seconds, for rule expressions.
fn seconds_expr(s: u64) -> String {
    if s >= 86_400 && s.is_multiple_of(86_400) {
        format!("{} * 86400", s / 86_400)
    } else if s >= 3_600 && s.is_multiple_of(3_600) {
        format!("{} * 3600", s / 3_600)
    } else {
        s.to_string()
    }
}

/// `8 days`, `26 h`, `90 min`, for annotations.
fn seconds_text(s: u64) -> String {
    if s >= 2 * 86_400 && s.is_multiple_of(86_400) {
        format!("{} days", s / 86_400)
    } else if s >= 3_600 && s.is_multiple_of(3_600) {
        format!("{} h", s / 3_600)
    } else {
        format!("{} min", s.div_ceil(60))
    }
}

/// Selector of the backup metrics of one job (as Prometheus stores them: scraped by job
/// `node`, the script's job in `exported_job`) and type matcher (`type=~"full|diff"`).
fn backup_sel(job: &str, types: &str) -> String {
    if types.is_empty() {
        format!(r#"{{job="node",{BACKUP_JOB_LABEL}="{job}"}}"#)
    } else {
        format!(r#"{{job="node",{BACKUP_JOB_LABEL}="{job}",{types}}}"#)
    }
}

/// `type="full"` or `type=~"full|diff"`.
fn type_matcher(types: &[&str]) -> String {
    match types {
        [one] => format!(r#"type="{one}""#),
        _ => format!(r#"type=~"{}""#, types.join("|")),
    }
}

/// The last run of a job and type failed: its failure is newer than its success, or it
/// has failed and never succeeded. A job's failure and success series carry the same
/// labels (one target, one job and type), so the default matching (every label but the
/// name) pairs them; `on (…)` would also strip the result down to the listed labels.
fn backup_failed_expr(sel: &str) -> String {
    format!(
        "{BACKUP_FAILURE}{sel} > {BACKUP_SUCCESS} or {BACKUP_FAILURE}{sel} unless {BACKUP_SUCCESS}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::with_ctx;
    use crate::plan::Plan;

    /// (level, longest scheduled gap, threshold) from the cron schedule: a
    /// pgBackRest backup every hour, a full or diff every day at 01:30, a full on
    /// Sundays, media daily, pg_dump on Saturdays.
    fn check_schedule(level: BackupLevel, gap_s: u64, threshold_s: u64) {
        assert_eq!(schedule_gap_s(level), Some(gap_s), "{level:?}");
        assert_eq!(backup_threshold_s(level), threshold_s, "{level:?}");
    }

    #[test]
    fn backup_thresholds_follow_the_cron_schedule() {
        const H: u64 = 3_600;
        const D: u64 = 86_400;
        check_schedule(BackupLevel::PgbackrestAny, H, 2 * H);
        check_schedule(BackupLevel::PgbackrestDaily, D, 25 * H);
        check_schedule(BackupLevel::PgbackrestFull, 7 * D, 8 * D);
        check_schedule(BackupLevel::Media, D, 26 * H);
        check_schedule(BackupLevel::PgDump, 7 * D, 8 * D);
        // Incrementals alone leave a 2 h hole around the daily backup (none at 01:30).
        let incr_gap = |c: &str| c == format!("{PGBACKREST_SCRIPT} incr");
        assert!(
            crate::deploy::backups::jobs()
                .iter()
                .filter(|j| incr_gap(&j.command))
                .all(|j| !j.hours.contains(&1))
        );
        // The check is no backup.
        for level in [
            BackupLevel::PgbackrestAny,
            BackupLevel::PgbackrestDaily,
            BackupLevel::PgbackrestFull,
        ] {
            assert!(
                !level.runs(&format!("{PGBACKREST_SCRIPT} check")),
                "{level:?}"
            );
        }
    }

    #[test]
    fn seconds_formats() {
        for (s, expr, text) in [
            (7_200, "2 * 3600", "2 h"),
            (93_600, "26 * 3600", "26 h"),
            (86_400, "1 * 86400", "24 h"),
            (691_200, "8 * 86400", "8 days"),
            (5_400, "5400", "90 min"),
            (61, "61", "2 min"),
        ] {
            assert_eq!(
                (seconds_expr(s).as_str(), seconds_text(s).as_str()),
                (expr, text),
                "{s}"
            );
        }
    }

    /// The backup rules read the metrics as Prometheus stores them (job `node`, the
    /// script's job in `exported_job`), with the schedule's thresholds.
    #[test]
    fn backup_rules() {
        let plan = Plan::default()
            .with_text("network.internal-domain", "lan")
            .unwrap();
        with_ctx(&plan, |ctx| {
            let b = ctx.topology.first(Role::Backup).unwrap().fqdn.clone();
            let g = group(ctx).unwrap();
            let expr = |n: &str| g.alerts.iter().find(|a| a.name == n).unwrap().expr.clone();
            let s = "synapse_planner_backup_last_success_timestamp_seconds";
            let f = "synapse_planner_backup_last_failure_timestamp_seconds";
            let d = "synapse_planner_backup_last_duration_seconds";
            for (name, want) in [
                (
                    "PgBackRestBackupFailed".to_string(),
                    format!(
                        r#"{f}{{job="node",exported_job="pgbackrest",type=~"full|diff|incr"}} > {s} or {f}{{job="node",exported_job="pgbackrest",type=~"full|diff|incr"}} unless {s}"#
                    ),
                ),
                (
                    "MediaBackupFailed".to_string(),
                    format!(
                        r#"{f}{{job="node",exported_job="media"}} > {s} or {f}{{job="node",exported_job="media"}} unless {s}"#
                    ),
                ),
                (
                    "PgBackRestBackupsLate".to_string(),
                    format!(
                        r#"time() - max by (instance) ({s}{{job="node",exported_job="pgbackrest",type=~"full|diff|incr"}}) > 2 * 3600 + max by (instance) ({d}{{job="node",exported_job="pgbackrest",type=~"full|diff|incr"}})"#
                    ),
                ),
                (
                    "PgBackRestDailyBackupLate".to_string(),
                    format!(
                        r#"time() - max by (instance) ({s}{{job="node",exported_job="pgbackrest",type=~"full|diff"}}) > 25 * 3600 + max by (instance) ({d}{{job="node",exported_job="pgbackrest",type=~"full|diff"}})"#
                    ),
                ),
                (
                    "PgBackRestFullBackupLate".to_string(),
                    format!(
                        r#"time() - max by (instance) ({s}{{job="node",exported_job="pgbackrest",type="full"}}) > 8 * 86400"#
                    ),
                ),
                (
                    "MediaBackupLate".to_string(),
                    format!(
                        r#"time() - max by (instance) ({s}{{job="node",exported_job="media"}}) > 26 * 3600"#
                    ),
                ),
                (
                    "PgDumpLate".to_string(),
                    format!(
                        r#"time() - max by (instance) ({s}{{job="node",exported_job="pg_dump"}}) > 8 * 86400"#
                    ),
                ),
                (
                    "BackupMetricsMissing".to_string(),
                    ["pgbackrest", "media", "pg_dump"]
                        .map(|j| {
                            format!(
                                r#"absent({s}{{job="node",instance="{b}",exported_job="{j}",type="full"}})"#
                            )
                        })
                        .join(" or "),
                ),
            ] {
                assert_eq!(expr(&name), want, "{name}");
            }
            // Every description says what to run, on which host.
            for a in &g.alerts {
                assert!(
                    a.description.contains("sudo /usr/local/sbin/"),
                    "{}",
                    a.name
                );
                assert!(
                    a.description.contains("{{ $labels.instance }}"),
                    "{}",
                    a.name
                );
            }
            let severity = |n: &str| g.alerts.iter().find(|a| a.name == n).unwrap().severity;
            assert_eq!(severity("PgBackRestCheckFailed"), Severity::Critical);
            assert_eq!(severity("PgBackRestBackupFailed"), Severity::Warning);
        });
    }
}
