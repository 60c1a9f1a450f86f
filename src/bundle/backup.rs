//! Backups and restores (seed §5, DESIGN.md §4): pgBackRest with a repository on the
//! backup host (full weekly, differential daily, incremental hourly, WAL archived
//! continuously), a weekly pg_dump without `e2e_one_time_keys_json`'s data, daily media
//! snapshots (MinIO bucket and the Synapse host's local media store) with hard links,
//! and the restore procedures as scripts and a document.
//!
//! Versions targeted: Debian 12's pgbackrest 2.45, rclone 1.60, rsync 3.2, patroni 3.0.2.

use super::postgres::{self, CLUSTER, DATABASE, DB_USER, PATRONI_CONFIG, SOCKET_DIR, fill};
use super::{Comment, Ctx, File, Host, Scope, SecretId, ports};
use crate::plan::Role;
use crate::syntax::conf::{self, Format};
use crate::syntax::{json, markdown, shell};
use std::fmt::Write;

/// pgBackRest's stanza: Patroni's cluster name.
const STANZA: &str = CLUSTER;
/// Debian's pgbackrest package creates it (owned by postgres, 0750).
const REPO_PATH: &str = "/var/lib/pgbackrest";
/// Full backups kept (`repo1-retention-full`): the plan's `retention.full-backups`
/// (default 2). A full runs weekly and WAL is kept as far back as the oldest full: see
/// [`restore_window_days`]. The storage view sizes the repository from the same value.
pub(super) fn full_retention(ctx: &Ctx) -> u64 {
    ctx.plan.retention.full_backups
}
/// Differential backups kept (with the incrementals that depend on them): a week of
/// dailies, so a restore within the week starts from a recent diff instead of
/// replaying a week of WAL. Older points restore from a full plus WAL.
pub(super) const DIFF_RETENTION: u64 = 7;
/// Daily media snapshots kept: the plan's `retention.media-snapshots` (default the
/// seed's 7). Hard links make an unchanged file cost nothing, so a week of history
/// costs about the media that changed that week (the storage view counts it).
pub(super) fn media_snapshots(ctx: &Ctx) -> u64 {
    ctx.plan.retention.media_snapshots
}
/// Weekly pg_dump files kept: two weeks.
pub(super) const PGDUMP_KEEP: u64 = 2;
const MEDIA_ROOT: &str = "/var/backups/synapse-media";
const PGDUMP_DIR: &str = "/var/backups/synapse-pgdump";
const PGPASS: &str = "/etc/synapse-planner/pgpass";
const RCLONE_CONF: &str = "/etc/synapse-planner/rclone.conf";
/// The playbook's media store on the Synapse host: `matrix_synapse_media_store_path`
/// = /matrix/synapse/storage/media-store (roles/custom/matrix-synapse/defaults/main.yml).
const MEDIA_STORE: &str = "/matrix/synapse/storage/media-store";
/// The playbook's user owning /matrix (`matrix_user_name`).
const MATRIX_USER: &str = "matrix";
/// The MinIO bucket and user Synapse's storage provider uses (shared decision).
const BUCKET: &str = "synapse-media";
const MINIO_USER: &str = "synapse";
/// The seed's rsync --bwlimit (50000 KB/s), for rsync and rclone alike.
const BWLIMIT: &str = "50M";
/// node_exporter's textfile directory in Debian's prometheus-node-exporter (its
/// compiled-in default for --collector.textfile.directory).
const METRICS_DIR: &str = "/var/lib/prometheus/node-exporter";
/// Synapse's table of one-time keys (Synapse docs, "How to back up a Synapse
/// homeserver"): never restored.
const OTK_TABLE: &str = "e2e_one_time_keys_json";

pub fn files(ctx: &Ctx) -> Vec<File> {
    let mut out = Vec::new();
    for h in ctx.hosts(Role::Backup) {
        out.push(repo_config(ctx, h));
        out.push(cron(ctx, h));
        out.push(backup_wrapper(ctx, h));
        out.push(setup_pgbackrest(ctx, h));
        out.push(pg_dump_script(ctx, h));
        out.push(pgpass(ctx, h));
        out.push(rclone_conf(ctx, h));
        out.push(media_backup(ctx, h));
        out.push(media_restore(ctx, h));
    }
    for h in ctx.hosts(Role::Patroni) {
        out.push(db_config(ctx, h));
        out.push(restore_database(ctx, h));
        out.push(reinit_replica(ctx, h));
    }
    if ctx.topology.first(Role::Backup).is_some() {
        out.push(ssh_keys(ctx));
        out.push(restore_doc(ctx));
    }
    out
}

fn backup_host<'a>(ctx: &'a Ctx) -> Option<&'a Host> {
    ctx.topology.first(Role::Backup)
}

fn backup_fqdn(ctx: &Ctx) -> String {
    backup_host(ctx).map(|h| h.fqdn.clone()).unwrap_or_default()
}

fn patroni_count(ctx: &Ctx) -> u64 {
    ctx.plan.host(Role::Patroni).count
}

/// How far back the database can be restored, in days, with `full_retention` weekly
/// fulls: (always, at most). Right after a full the oldest kept is
/// (full_retention − 1) weeks old; just before the next, full_retention weeks.
pub(super) fn restore_window_days(full_retention: u64) -> (u64, u64) {
    (
        full_retention.saturating_sub(1).saturating_mul(7),
        full_retention.saturating_mul(7),
    )
}

/// Backups read a standby's files when there is one (pgBackRest's backup-standby: only
/// the start and stop of the backup touch the primary). pgBackRest 2.45 fails a
/// standby backup when no standby answers; with a single node there is none.
pub(super) fn backup_from_standby(ctx: &Ctx) -> bool {
    patroni_count(ctx) >= 2
}

/// Compression processes on the repository host: its vCPUs, at most 4 (the RAM budget
/// counts 4 pgBackRest workers, assumptions::PGBACKREST_REPO_GIB).
pub(super) fn repo_process_max(ctx: &Ctx) -> u64 {
    ctx.plan.host(Role::Backup).vcpus.clamp(1, 4)
}

/// Restore processes on a Patroni node: the node does nothing else during a restore;
/// past 8 streams the repository host's disk and network are the limit.
pub(super) fn restore_process_max(ctx: &Ctx) -> u64 {
    ctx.plan.host(Role::Patroni).vcpus.clamp(1, 8)
}

/// Port pg_dump uses through HAProxy: the replicas when there are standbys.
pub(super) fn pg_dump_port(ctx: &Ctx) -> u16 {
    if backup_from_standby(ctx) {
        ports::PG_REPLICAS
    } else {
        ports::PG_PRIMARY
    }
}

/// A cron job of the backup host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Job {
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
pub(super) fn backup_jobs() -> Vec<Job> {
    let all_days: Vec<u8> = (0..7).collect();
    vec![
        Job {
            minute: 30,
            hours: vec![1],
            days: vec![0],
            command: "/usr/local/sbin/pgbackrest-backup.sh full".into(),
            why: "full backup, weekly (Sunday 01:30 UTC)",
        },
        Job {
            minute: 30,
            hours: vec![1],
            days: (1..7).collect(),
            command: "/usr/local/sbin/pgbackrest-backup.sh diff".into(),
            why: "differential backup (changes since the full), the other days at 01:30",
        },
        Job {
            minute: 30,
            hours: (0..24).filter(|h| *h != 1).collect(),
            days: all_days,
            command: "/usr/local/sbin/pgbackrest-backup.sh incr".into(),
            why: "incremental backup (changes since the last backup), hourly except at 01:30; skipped while a full or diff still runs",
        },
    ]
}

/// Every job of the backup host's cron file.
pub(super) fn jobs() -> Vec<Job> {
    let all_days: Vec<u8> = (0..7).collect();
    let mut jobs = backup_jobs();
    jobs.extend([
        Job {
            minute: 45,
            hours: vec![0],
            days: all_days.clone(),
            command: "/usr/local/sbin/pgbackrest-backup.sh check".into(),
            why: "pgbackrest check: forces a WAL switch on the primary and waits for it in the repository (archiving works end to end)",
        },
        Job {
            minute: 15,
            hours: vec![3],
            days: all_days,
            command: "nice -n 19 ionice -c3 /usr/local/sbin/backup-media.sh".into(),
            why: "media snapshot, daily, at the lowest CPU and I/O priority (seed)",
        },
        Job {
            minute: 45,
            hours: vec![4],
            days: vec![6],
            command: "nice -n 19 ionice -c3 /usr/local/sbin/pg-dump-synapse.sh".into(),
            why: "logical dump without one-time keys, weekly (Saturday), from a standby",
        },
    ]);
    jobs
}

/// `1,3-5`-style cron field from ascending values; `*` when it covers `0..=max`.
pub(super) fn cron_field(values: &[u8], max: u8) -> String {
    if values.len() == usize::from(max) + 1
        && values.iter().enumerate().all(|(i, v)| usize::from(*v) == i)
    {
        return "*".to_string();
    }
    let mut parts = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let start = values[i];
        let mut end = start;
        while i + 1 < values.len() && values[i + 1] == end + 1 {
            i += 1;
            end = values[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

fn repo_config(ctx: &Ctx, h: &Host) -> File {
    let value = |s: &str| Format::PgBackRest.value(s);
    let data = value(&postgres::data_dir(ctx));
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&Comment::Hash.lines(&format!(
        "pgBackRest repository on {} (Debian pgbackrest 2.45 reads /etc/pgbackrest.conf when
/etc/pgbackrest/pgbackrest.conf does not exist). Runs as postgres, which owns
{REPO_PATH}; it reaches the Patroni nodes over SSH as postgres (backup/exchange-ssh-keys.sh).
Holds the repository's encryption passphrase: mode 0640, owner postgres.",
        h.name
    )));
    let _ = write!(
        o,
        "
[global]
repo1-path={REPO_PATH}
# The repository is encrypted: a copy of it (or of the disk) is useless without this.
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass={cipher}
# Retention: a full backup runs weekly; keeping {full} means the oldest reaches back {min} to
# {max} days, and WAL is kept back to it: any moment of the last {min} days (up to {max} just
# before the next full) can be restored. {diff} differential backups (and their
# incrementals) cover the last week, so restores in it replay little WAL.
repo1-retention-full-type=count
repo1-retention-full={full}
repo1-retention-diff={diff}
# Many small files (Synapse's indexes and TOAST) are stored in bundles: fewer files in
# the repository, faster backups.
repo1-bundle=y
# zstd: better ratio than gzip at a fraction of its CPU (pgBackRest user guide).
compress-type=zst
# Parallel compression and transfer: the backup host's vCPUs, at most 4 (the RAM
# budget counts 4 workers).
process-max={process_max}
{standby}
# Wait for the primary's next scheduled checkpoint (at most checkpoint_timeout, 15min)
# instead of forcing one: no I/O burst on the primary at every hourly backup.
start-fast=n
log-level-console=info
log-level-file=detail

[{STANZA}]
",
        cipher = value(ctx.secret(SecretId::PgbackrestCipherPass)),
        full = full_retention(ctx),
        diff = DIFF_RETENTION,
        min = restore_window_days(full_retention(ctx)).0,
        max = restore_window_days(full_retention(ctx)).1,
        process_max = repo_process_max(ctx),
        standby = if backup_from_standby(ctx) {
            "# Copy the files from a standby (any of the nodes below that is one): the primary\n# only starts and stops the backup.\nbackup-standby=y"
        } else {
            "# One PostgreSQL node: nothing to back up from but the primary.\nbackup-standby=n"
        },
    );
    for (i, p) in ctx.hosts(Role::Patroni).enumerate() {
        let n = i + 1;
        o.push_str(&Comment::Hash.lines(&format!(
            "{}: pgBackRest finds out by itself which node is the primary.",
            p.name
        )));
        let _ = write!(
            o,
            "pg{n}-host={fqdn}
pg{n}-host-user=postgres
pg{n}-path={data}
pg{n}-port={port}
pg{n}-socket-path={SOCKET_DIR}
",
            fqdn = value(&p.fqdn),
            port = ports::POSTGRES,
        );
    }
    File::new(
        format!("hosts/{}/etc/pgbackrest.conf", h.name),
        Scope::Role(Role::Backup),
        "pgBackRest repository: encryption, retention, compression, stanza synapse with every Patroni node.",
        o,
    )
    .for_host(h)
    .secret()
}

fn db_config(ctx: &Ctx, h: &Host) -> File {
    let value = |s: &str| Format::PgBackRest.value(s);
    let body = format!(
        "{header}{about}
[global]
repo1-host={backup}
repo1-host-user=postgres
# WAL is pushed (and fetched) asynchronously through a local spool, several segments
# at once, so a burst of WAL never waits on one SSH round trip per segment.
archive-async=y
spool-path=/var/spool/pgbackrest
# Compression happens here, before WAL leaves the node.
compress-type=zst
log-level-console=info
log-level-file=detail

[global:archive-push]
# Two segments in flight: enough for Synapse's peaks, little CPU taken from PostgreSQL.
process-max=2

[global:archive-get]
process-max=2

[global:restore]
# A restore runs on a node that does nothing else: its vCPUs, at most 8.
process-max={restore_max}

[{STANZA}]
pg1-path={data}
pg1-port={port}
pg1-socket-path={SOCKET_DIR}
",
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "pgBackRest on {name} (Debian pgbackrest 2.45 reads /etc/pgbackrest.conf). PostgreSQL's
archive_command (pgbackrest --stanza={STANZA} archive-push %p) and restore_command run it
as postgres; it reaches the repository on {backup} over SSH as postgres. No secret
here: the repository host encrypts.",
            name = h.name,
            backup = backup_fqdn(ctx),
        )),
        backup = value(&backup_fqdn(ctx)),
        restore_max = restore_process_max(ctx),
        data = value(&postgres::data_dir(ctx)),
        port = ports::POSTGRES,
    );
    File::new(
        format!("hosts/{}/etc/pgbackrest.conf", h.name),
        Scope::Role(Role::Patroni),
        "pgBackRest on a database node: repository host, asynchronous WAL archiving, stanza synapse.",
        body,
    )
    .for_host(h)
}

fn cron(ctx: &Ctx, h: &Host) -> File {
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&Comment::Hash.lines(&format!(
        "The backup schedule on {} (cron.d: minute hour day month weekday user command).
Times are UTC (prepare-host.sh sets the zone). Each job writes its result for
node_exporter's textfile collector ({METRICS_DIR}), so Prometheus sees a
backup that stops succeeding; cron mails its errors to root.",
        h.name
    )));
    o.push_str(
        "SHELL=/bin/bash
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

",
    );
    for j in jobs() {
        let _ = writeln!(
            o,
            "# {}\n{} {} * * {} root {}",
            j.why,
            j.minute,
            cron_field(&j.hours, 23),
            cron_field(&j.days, 6),
            j.command
        );
    }
    File::new(
        format!("hosts/{}/etc/cron.d/synapse-planner-backup", h.name),
        Scope::Role(Role::Backup),
        "Backup schedule: pgBackRest full weekly, diff daily, incr hourly, daily check; media daily; pg_dump weekly.",
        o,
    )
}

/// The bash function every backup script uses to report to node_exporter.
fn metrics_fn() -> &'static str {
    r##"# write_metrics JOB TYPE STATUS START: the job's result for node_exporter's textfile
# collector, written atomically (a .prom file appears whole or not at all).
write_metrics() {
  local job="$1" type="$2" status="$3" start="$4" dir="${METRICS_DIR:-@METRICS_DIR@}" now file
  now="$(date +%s)"
  mkdir -p "$dir"
  if [ "$status" -eq 0 ]; then
    file="$dir/synapse_planner_backup_${job}_${type}.prom"
    {
      echo "# HELP synapse_planner_backup_last_success_timestamp_seconds End of the last successful backup."
      echo "# TYPE synapse_planner_backup_last_success_timestamp_seconds gauge"
      echo "synapse_planner_backup_last_success_timestamp_seconds{job=\"$job\",type=\"$type\"} $now"
      echo "# HELP synapse_planner_backup_last_duration_seconds Duration of the last successful backup."
      echo "# TYPE synapse_planner_backup_last_duration_seconds gauge"
      echo "synapse_planner_backup_last_duration_seconds{job=\"$job\",type=\"$type\"} $((now - start))"
    } > "$file.$$"
  else
    file="$dir/synapse_planner_backup_${job}_${type}_failure.prom"
    {
      echo "# HELP synapse_planner_backup_last_failure_timestamp_seconds End of the last failed backup."
      echo "# TYPE synapse_planner_backup_last_failure_timestamp_seconds gauge"
      echo "synapse_planner_backup_last_failure_timestamp_seconds{job=\"$job\",type=\"$type\"} $now"
    } > "$file.$$"
  fi
  mv -f "$file.$$" "$file"
}
"##
}

fn script_common(ctx: &Ctx) -> Vec<(&'static str, String)> {
    vec![
        ("@HEADER@", ctx.header(Comment::Hash)),
        (
            "@METRICS_FN@",
            metrics_fn().replace("@METRICS_DIR@", METRICS_DIR),
        ),
        ("@STANZA@", STANZA.to_string()),
        ("@METRICS_DIR@", METRICS_DIR.to_string()),
    ]
}

fn backup_wrapper(ctx: &Ctx, h: &Host) -> File {
    let mut values = script_common(ctx);
    values.push((
        "@ABOUT@",
        Comment::Hash.lines(&format!(
            "
Runs one pgBackRest job on {} as postgres and records its result for Prometheus.
  pgbackrest-backup.sh full|diff|incr|check
Backups take one lock: a full or diff waits (up to 6 hours) for a running backup, an
hourly incr that finds one running is skipped (the next hour catches up).
pgBackRest expires old backups by itself after each backup (retention in
/etc/pgbackrest.conf).",
            h.name
        )),
    ));
    let body = fill(
        r##"#!/usr/bin/env bash
@HEADER@@ABOUT@set -euo pipefail

@METRICS_FN@
type="${1:-}"
case "$type" in
  full | diff | incr) args=(--type="$type" backup) ;;
  check) args=(check) ;;
  *)
    echo "usage: $0 full|diff|incr|check" >&2
    exit 2
    ;;
esac

if [ "$type" != check ]; then
  exec 9> /run/lock/synapse-planner-pgbackrest.lock
  if [ "$type" = incr ]; then
    if ! flock -n 9; then
      logger -t pgbackrest-backup "incr skipped: another backup is running"
      exit 0
    fi
  else
    flock -w 21600 9
  fi
fi

start="$(date +%s)"
status=0
runuser -u postgres -- pgbackrest --stanza=@STANZA@ "${args[@]}" || status=$?
write_metrics pgbackrest "$type" "$status" "$start"
exit "$status"
"##,
        &values,
    );
    File::new(
        format!("hosts/{}/usr/local/sbin/pgbackrest-backup.sh", h.name),
        Scope::Role(Role::Backup),
        "Runs a pgBackRest backup or check as postgres, one backup at a time, and records the result for Prometheus.",
        body,
    )
    .for_host(h)
    .script()
}

fn setup_pgbackrest(ctx: &Ctx, h: &Host) -> File {
    let mut values = script_common(ctx);
    values.extend([
        (
            "@ABOUT@",
            Comment::Hash.lines(&format!(
                "
Sets up the backups on {}, once the Patroni cluster runs and SSH trust is in
place (backup/exchange-ssh-keys.sh, from the control machine). Run as root; safe to
run again. Creates the stanza, checks WAL archiving end to end, takes the first full
backup (point-in-time restore starts from it) and leaves the schedule to cron.",
                h.name
            )),
        ),
        ("@ASSIGN_NAME@", shell::assign("name", &h.name)),
        ("@REPO@", REPO_PATH.to_string()),
        ("@MEDIA_ROOT@", MEDIA_ROOT.to_string()),
        ("@PGDUMP_DIR@", PGDUMP_DIR.to_string()),
        ("@PGPASS@", PGPASS.to_string()),
        ("@RCLONE_CONF@", RCLONE_CONF.to_string()),
        (
            "@PATRONI_HOSTS@",
            ctx.hosts(Role::Patroni)
                .map(|p| shell::quote(&p.fqdn))
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ]);
    let body = fill(
        r##"#!/usr/bin/env bash
@HEADER@@ABOUT@set -euo pipefail

# This host's name and the Patroni nodes pgBackRest reaches over SSH.
@ASSIGN_NAME@
nodes=(@PATRONI_HOSTS@)

if [ "$(id -u)" -ne 0 ]; then
  echo "run as root" >&2
  exit 1
fi

# pgBackRest runs as postgres: its configuration holds the encryption passphrase.
# keep_owner USER GROUP MODE PATH: sets a file's owner and mode and records them with
# dpkg-statoverride, so prepare-host.sh (which copies the bundle's files as root, then
# re-applies recorded overrides) keeps them on a later run.
keep_owner() {
  if ! dpkg-statoverride --list "$4" > /dev/null; then
    dpkg-statoverride --update --add "$1" "$2" "$3" "$4"
  fi
  chown "$1:$2" "$4"
  chmod "$3" "$4"
}
keep_owner postgres postgres 0640 /etc/pgbackrest.conf
install -d -o postgres -g postgres -m 0750 @REPO@ /var/log/pgbackrest /var/spool/pgbackrest
# The other backup jobs run as root.
keep_owner root root 0600 @PGPASS@
keep_owner root root 0600 @RCLONE_CONF@
install -d -m 0700 @MEDIA_ROOT@ @PGDUMP_DIR@
install -d -m 0755 @METRICS_DIR@
# cron ignores a file in /etc/cron.d that root does not own or others can write.
keep_owner root root 0644 /etc/cron.d/synapse-planner-backup

for host in "${nodes[@]}"; do
  echo "SSH to postgres@$host: $(runuser -u postgres -- ssh -o BatchMode=yes "postgres@$host" hostname)"
done

runuser -u postgres -- pgbackrest --stanza=@STANZA@ stanza-create
runuser -u postgres -- pgbackrest --stanza=@STANZA@ check
if ! runuser -u postgres -- pgbackrest --stanza=@STANZA@ info --output=json | grep -q '"type":"full"'; then
  /usr/local/sbin/pgbackrest-backup.sh full
fi
runuser -u postgres -- pgbackrest --stanza=@STANZA@ info
echo "$name: stanza @STANZA@ ready; cron runs the schedule (/etc/cron.d/synapse-planner-backup)"
"##,
        &values,
    );
    File::new(
        format!("hosts/{}/usr/local/sbin/setup-pgbackrest.sh", h.name),
        Scope::Role(Role::Backup),
        "Run once on the backup host after the database tier: stanza-create, check, first full backup.",
        body,
    )
    .for_host(h)
    .script()
}

fn pgpass(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{}# libpq password file for pg-dump-synapse.sh (root, mode 0600): host:port:database:user:password.
# Any host and port: through HAProxy's replica port or straight to a standby.
*:*:{}:{}:{}
",
        ctx.header(Comment::Hash),
        conf::pgpass_field(DATABASE),
        conf::pgpass_field(DB_USER),
        conf::pgpass_field(ctx.secret(SecretId::SynapseDbPassword)),
    );
    File::new(
        format!("hosts/{}{PGPASS}", h.name),
        Scope::Role(Role::Backup),
        "Password file for the weekly pg_dump (database synapse, user synapse).",
        body,
    )
    .for_host(h)
    .secret()
}

fn pg_dump_script(ctx: &Ctx, h: &Host) -> File {
    let mut values = script_common(ctx);
    let via = if backup_from_standby(ctx) {
        format!(
            "HAProxy's replica port on the VIP ({}:{}), so the dump reads a standby, not\nthe primary (hot_standby_feedback keeps the primary's VACUUM from cancelling it)",
            ctx.topology.vip,
            ports::PG_REPLICAS
        )
    } else {
        format!(
            "the primary through the VIP ({}:{}): this plan has no standby",
            ctx.topology.vip,
            ports::PG_PRIMARY
        )
    };
    values.extend([
        (
            "@ABOUT@",
            Comment::Hash.lines(&format!(
                "
A logical dump of Synapse's database, weekly: a second, independent backup next to
pgBackRest's (another format, restorable into any newer PostgreSQL). It connects to
{via}.
The data of {OTK_TABLE} is left out: restoring used one-time keys makes clients'
messages undecryptable (Synapse docs, \"How to back up a Synapse homeserver\").
Keeps the newest {PGDUMP_KEEP} dumps. The environment may override the defaults below."
            )),
        ),
        (
            "@ASSIGN_VIP@",
            shell::assign("vip", &ctx.topology.vip.to_string()),
        ),
        ("@PORT@", pg_dump_port(ctx).to_string()),
        ("@BIN@", postgres::bin_dir(ctx)),
        ("@DIR@", PGDUMP_DIR.to_string()),
        ("@KEEP@", PGDUMP_KEEP.to_string()),
        ("@PGPASS@", PGPASS.to_string()),
        ("@DB@", DATABASE.to_string()),
        ("@USER@", DB_USER.to_string()),
        ("@OTK@", OTK_TABLE.to_string()),
    ]);
    let body = fill(
        r##"#!/usr/bin/env bash
@HEADER@@ABOUT@set -euo pipefail

@METRICS_FN@
# The VIP, where HAProxy listens.
@ASSIGN_VIP@
host="${PGDUMP_HOST:-$vip}"
port="${PGDUMP_PORT:-@PORT@}"
dir="${PGDUMP_DIR:-@DIR@}"
keep="${PGDUMP_KEEP:-@KEEP@}"
bin="${PGDUMP_BIN:-@BIN@}"
export PGPASSFILE="${PGPASSFILE:-@PGPASS@}"

start="$(date +%s)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
file="$dir/@DB@-$stamp.dump"
mkdir -p "$dir"
status=0
# Custom format (compressed, pg_restore can pick tables), as Synapse's docs recommend.
"$bin/pg_dump" --host="$host" --port="$port" --username=@USER@ --dbname=@DB@ \
  --no-password --format=custom --exclude-table-data=@OTK@ \
  --file="$file.partial" || status=$?
if [ "$status" -eq 0 ]; then
  # The archive's table of contents must read back.
  "$bin/pg_restore" --list "$file.partial" > /dev/null || status=$?
fi
if [ "$status" -eq 0 ]; then
  mv -f "$file.partial" "$file"
  # Keep the newest dumps only.
  find "$dir" -maxdepth 1 -name '@DB@-*.dump' -printf '%f\n' | sort -r | tail -n +"$((keep + 1))" \
    | while read -r old; do rm -f -- "${dir:?}/$old"; done
else
  rm -f "$file.partial"
fi
write_metrics pg_dump full "$status" "$start"
exit "$status"
"##,
        &values,
    );
    File::new(
        format!("hosts/{}/usr/local/sbin/pg-dump-synapse.sh", h.name),
        Scope::Role(Role::Backup),
        "Weekly pg_dump of Synapse's database from a standby, without the one-time keys' data.",
        body,
    )
    .for_host(h)
    .script()
}

fn rclone_conf(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{header}# rclone (Debian 12's 1.60) remote for the media bucket: MinIO through HAProxy on the VIP,
# as MinIO user {MINIO_USER} (the same user Synapse's storage provider writes with).
# rclone, not MinIO's mc (not in Debian: Debian's mc is Midnight Commander), not s3cmd:
# rclone syncs a bucket into a directory with checksums and deletions, resumes, limits
# bandwidth, and its --immutable mode refuses to rewrite a file in place, which keeps
# hard-linked snapshots intact.
[minio]
type = s3
provider = Minio
endpoint = {endpoint}
access_key_id = {user}
secret_access_key = {secret}
region = us-east-1
# The bucket exists (MinIO setup); the user need not be allowed to create buckets.
no_check_bucket = true
",
        header = ctx.header(Comment::Hash),
        endpoint = Format::Words.value(&format!("http://{}:{}", ctx.topology.vip, ports::MINIO_API)),
        user = Format::Words.value(MINIO_USER),
        secret = Format::Words.value(ctx.secret(SecretId::MinioSynapseSecretKey)),
    );
    File::new(
        format!("hosts/{}{RCLONE_CONF}", h.name),
        Scope::Role(Role::Backup),
        "rclone remote for the MinIO media bucket (media backups and restores).",
        body,
    )
    .for_host(h)
    .secret()
}

fn synapse_fqdn(ctx: &Ctx) -> String {
    ctx.topology
        .first(Role::Synapse)
        .map(|h| h.fqdn.clone())
        .unwrap_or_default()
}

/// The placeholders of the media scripts; `about` is the script's description (comment
/// text, written with the comment writer).
fn media_values(ctx: &Ctx, about: &str) -> Vec<(&'static str, String)> {
    let mut values = script_common(ctx);
    values.extend([
        ("@ABOUT@", Comment::Hash.lines(about)),
        (
            "@ASSIGN_LOCAL@",
            shell::assign(
                "synapse_media",
                &format!("root@{}:{MEDIA_STORE}/", synapse_fqdn(ctx)),
            ),
        ),
        ("@ROOT@", MEDIA_ROOT.to_string()),
        ("@KEEP@", media_snapshots(ctx).to_string()),
        ("@RCLONE_CONF@", RCLONE_CONF.to_string()),
        ("@BUCKET@", BUCKET.to_string()),
        ("@OWNER@", format!("{MATRIX_USER}:{MATRIX_USER}")),
        ("@BWLIMIT@", BWLIMIT.to_string()),
    ]);
    values
}

fn media_backup(ctx: &Ctx, h: &Host) -> File {
    let body = fill(
        r##"#!/usr/bin/env bash
@HEADER@@ABOUT@set -euo pipefail

@METRICS_FN@
# The local media store on the Synapse host, for rsync over SSH.
@ASSIGN_LOCAL@
root="${MEDIA_BACKUP_ROOT:-@ROOT@}"
keep="${MEDIA_SNAPSHOTS:-@KEEP@}"
rclone_conf="${RCLONE_CONFIG:-@RCLONE_CONF@}"
s3_source="${MEDIA_S3_SOURCE:-minio:@BUCKET@}"
local_source="${MEDIA_LOCAL_SOURCE:-$synapse_media}"
bwlimit="${MEDIA_BWLIMIT:-@BWLIMIT@}"

renice -n 19 -p $$ > /dev/null
ionice -c 3 -p $$

mkdir -p "$root/current/s3" "$root/current/local" "$root/snapshots"
exec 9> "$root/.lock"
if ! flock -n 9; then
  echo "another media backup is running" >&2
  exit 1
fi

start="$(date +%s)"
status=0
# 1. The bucket.
rclone --config "$rclone_conf" sync "$s3_source" "$root/current/s3" \
  --immutable --bwlimit "$bwlimit" --fast-list --transfers 4 --checkers 8 \
  --exclude '/remote_content/**' --exclude '/remote_thumbnail/**' \
  --exclude '/url_cache/**' --exclude '/url_cache_thumbnails/**' || status=$?
# 2. The local media store (files not yet moved to the bucket).
if [ "$status" -eq 0 ]; then
  rsync -a --delete --numeric-ids --partial-dir=.rsync-partial --bwlimit="$bwlimit" \
    --include='/local_content/***' --include='/local_thumbnails/***' --exclude='*' \
    "$local_source" "$root/current/local/" || status=$?
fi
# 3. The snapshot, complete or not at all.
if [ "$status" -eq 0 ]; then
  stamp="$(date -u +%Y%m%dT%H%M%SZ)"
  cp -al "$root/current" "$root/snapshots/$stamp.partial"
  mv -T "$root/snapshots/$stamp.partial" "$root/snapshots/$stamp"
  # 4. Keep the newest snapshots only.
  find "$root/snapshots" -mindepth 1 -maxdepth 1 -type d -name '*Z' -printf '%f\n' | sort -r \
    | tail -n +"$((keep + 1))" | while read -r old; do rm -rf -- "${root:?}/snapshots/$old"; done
fi
write_metrics media full "$status" "$start"
exit "$status"
"##,
        &media_values(
            ctx,
            &format!(
                "
Media backup on {name} (seed §5, corrected). Synapse's media live in the MinIO bucket
{BUCKET} (synapse-s3-storage-provider) and, until they are moved there, in the local
media store on {synapse} ({MEDIA_STORE}). Both are mirrored into
{MEDIA_ROOT}/current (s3/ and local/), then frozen as a snapshot of hard links: an
unchanged file costs no space twice. The newest {keep} snapshots are kept.

Only what cannot be fetched again is copied (Synapse docs, \"How to back up a Synapse
homeserver\"): local_content and local_thumbnails, not remote_* (cached from other
servers) nor url_cache* (URL previews).

Unlike the seed's rsync line: no --append-verify/--inplace (they write into the
existing file, which every snapshot shares through its hard link, so one changed
file would change every snapshot) and no -z (media are compressed already).
rsync writes a new file and renames it over the old; rclone (1.60 writes in place)
runs with --immutable, which refuses to modify an existing file (Synapse never
rewrites a media file: a changed one fails the backup, and Prometheus sees it, instead
of silently rewriting every snapshot). Run by cron at nice 19 / ionice idle; it lowers
its own priority too. The environment may override the defaults below.",
                name = h.name,
                synapse = synapse_fqdn(ctx),
                keep = media_snapshots(ctx),
            ),
        ),
    );
    File::new(
        format!("hosts/{}/usr/local/sbin/backup-media.sh", h.name),
        Scope::Role(Role::Backup),
        "Daily media backup: the MinIO bucket (rclone) and the local media store (rsync) into hard-link snapshots.",
        body,
    )
    .for_host(h)
    .script()
}

fn media_restore(ctx: &Ctx, h: &Host) -> File {
    let body = fill(
        r##"#!/usr/bin/env bash
@HEADER@@ABOUT@set -euo pipefail

# The local media store on the Synapse host, for rsync over SSH.
@ASSIGN_LOCAL@
root="${MEDIA_BACKUP_ROOT:-@ROOT@}"
rclone_conf="${RCLONE_CONFIG:-@RCLONE_CONF@}"
s3_target="${MEDIA_S3_TARGET:-minio:@BUCKET@}"
local_target="${MEDIA_LOCAL_TARGET:-$synapse_media}"
owner="${MEDIA_OWNER-@OWNER@}"

snapshot="${1:-}"
if [ -z "$snapshot" ]; then
  snapshot="$(find "$root/snapshots" -mindepth 1 -maxdepth 1 -type d -name '*Z' -printf '%f\n' | sort -r | head -n 1)"
fi
src="$root/snapshots/$snapshot"
if [ -z "$snapshot" ] || [ ! -d "$src/s3" ] || [ ! -d "$src/local" ]; then
  echo "no snapshot '$snapshot' in $root/snapshots" >&2
  exit 1
fi
echo "restoring media from $src"

rclone --config "$rclone_conf" copy "$src/s3" "$s3_target" --immutable --transfers 8
rsync -a --numeric-ids "$src/local/" "$local_target"

# The playbook runs Synapse as @OWNER@.
if [ -n "$owner" ]; then
  case "$local_target" in
    *:*)
      # ssh hands the remote shell one command line: each word in it quoted with %q.
      # shellcheck disable=SC2029 # expanded here on purpose: the command is sent as text
      ssh "${local_target%%:*}" "chown -R -- $(printf '%q' "$owner") $(printf '%q' "${local_target#*:}")"
      ;;
    *) chown -R "$owner" "$local_target" ;;
  esac
fi
echo "media restored from $snapshot"
"##,
        &media_values(
            ctx,
            &format!(
                "
Media restore on {name}: copies a snapshot back into the MinIO bucket {BUCKET} and
the local media store on {synapse}.
  restore-media.sh [SNAPSHOT]     (a name under {MEDIA_ROOT}/snapshots; the newest without)
Copies only, never deletes: media uploaded after the snapshot stay. Files that exist
in both places with other contents are reported, not overwritten (--immutable).
Synapse may keep running: a media file appears when it is complete.",
                name = h.name,
                synapse = synapse_fqdn(ctx),
            ),
        ),
    );
    File::new(
        format!("hosts/{}/usr/local/sbin/restore-media.sh", h.name),
        Scope::Role(Role::Backup),
        "Media restore: a snapshot back into the MinIO bucket and the Synapse host's media store.",
        body,
    )
    .for_host(h)
    .script()
}

fn restore_database(ctx: &Ctx, h: &Host) -> File {
    let others: Vec<String> = ctx
        .hosts(Role::Patroni)
        .filter(|p| p.name != h.name)
        .map(|p| p.name.clone())
        .collect();
    let others = if others.is_empty() {
        "(none: single node)".to_string()
    } else {
        others.join(" ")
    };
    let about = format!(
        "
Point-in-time restore of the Patroni cluster from pgBackRest, the Patroni way, run
as root on the node that becomes the new primary (here: {name}).
  restore-database.sh --time '2026-11-26 14:00:00+00'   (a moment before the damage)
  restore-database.sh --latest                          (everything in the archive)
  add --yes to skip the confirmation

Before: stop Synapse and PgBouncer on {synapse}
  (systemctl stop 'matrix-*' pgbouncer), and Patroni on the other nodes
  ({others}: systemctl stop patroni).
Steps: Patroni stops here; the cluster's keys are removed from etcd (patronictl
remove); the data directory is moved aside; Patroni bootstraps a new cluster with a
one-off method that runs pgbackrest restore and recovers to the target, then promotes;
the post-bootstrap SQL re-applies roles and passwords; the usual configuration comes
back; {OTK_TABLE} is emptied.
After: a full backup on {backup} (pgbackrest-backup.sh full: the new timeline's
first), reinit-replica.sh on each other node, then PgBouncer and Synapse.",
        name = h.name,
        synapse = synapse_fqdn(ctx),
        backup = backup_fqdn(ctx),
    );
    let values = vec![
        ("@HEADER@", ctx.header(Comment::Hash)),
        ("@ABOUT@", Comment::Hash.lines(&about)),
        ("@ASSIGN_CONFIG@", shell::assign("config", PATRONI_CONFIG)),
        ("@ASSIGN_CLUSTER@", shell::assign("cluster", CLUSTER)),
        (
            "@ASSIGN_DATA@",
            shell::assign("data", &postgres::data_dir(ctx)),
        ),
        ("@ASSIGN_ME@", shell::assign("me", &h.name)),
        ("@ASSIGN_OTHERS@", shell::assign("others", &others)),
        (
            "@ASSIGN_SYNAPSE@",
            shell::assign("synapse", &synapse_fqdn(ctx)),
        ),
        (
            "@ASSIGN_BACKUP@",
            shell::assign("backup", &backup_fqdn(ctx)),
        ),
        ("@STANZA_ARG@", json::string(&format!("--stanza={STANZA}"))),
        ("@RESTORE_CMD@", json::string(&postgres::restore_command())),
        ("@DB@", DATABASE.to_string()),
        ("@OTK@", OTK_TABLE.to_string()),
        ("@PG@", ports::POSTGRES.to_string()),
    ];
    let body = fill(
        r##"#!/usr/bin/env bash
@HEADER@@ABOUT@set -euo pipefail

# The Patroni configuration, cluster and data directory; this node, the other nodes,
# the Synapse host and the backup host.
@ASSIGN_CONFIG@
@ASSIGN_CLUSTER@
@ASSIGN_DATA@
@ASSIGN_ME@
@ASSIGN_OTHERS@
@ASSIGN_SYNAPSE@
@ASSIGN_BACKUP@
target=""
latest=""
yes=""
while [ $# -gt 0 ]; do
  case "$1" in
    --time) target="${2:?--time needs a value}"; shift 2 ;;
    --latest) latest=1; shift ;;
    --yes) yes=1; shift ;;
    *) echo "usage: $0 --time 'YYYY-MM-DD HH:MM:SS+00' | --latest [--yes]" >&2; exit 2 ;;
  esac
done
if [ -z "$target" ] && [ -z "$latest" ]; then
  echo "usage: $0 --time 'YYYY-MM-DD HH:MM:SS+00' | --latest [--yes]" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "run as root" >&2
  exit 1
fi

ctl() { patronictl -c "$config" "$@"; }

# Every other member must be stopped: their keys leave etcd within Patroni's TTL.
for _ in $(seq 1 12); do
  running="$(ctl list -f json "$cluster" | python3 -c '
import json, sys
print(" ".join(m["Member"] for m in json.load(sys.stdin) if m["Member"] != sys.argv[1]))' "$me")"
  [ -z "$running" ] && break
  sleep 5
done
if [ -n "$running" ]; then
  echo "still registered in etcd: $running. Stop Patroni there first (systemctl stop patroni)." >&2
  exit 1
fi

echo "This replaces cluster $cluster with the backup (${target:-latest}), on $me."
if [ -z "$yes" ]; then
  read -r -p "Type the cluster name to go on: " answer
  [ "$answer" = "$cluster" ] || { echo "not confirmed" >&2; exit 1; }
fi

systemctl stop patroni
# patronictl asks for the cluster name and a sentence; the leader key is gone (every
# member is stopped), so it asks nothing else.
printf '%s\n%s\n' "$cluster" 'Yes I am aware' | ctl remove "$cluster"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
if [ -d "$data" ]; then
  mv "$data" "$data.before-restore-$stamp"
  echo "the old data directory is $data.before-restore-$stamp: delete it once the restore is verified"
fi
install -d -o postgres -g postgres -m 0700 "$data"

# A one-off bootstrap method (Patroni docs, "Replica imaging and bootstrap", custom
# bootstrap): pgbackrest restore, then recovery to the target with Patroni's own
# recovery settings (it strips pgBackRest's from postgresql.auto.conf), then promote.
cp -p "$config" "$config.before-restore"
python3 - "$config" "$target" <<'PY'
import shlex, sys
import yaml

path, target = sys.argv[1], sys.argv[2]
with open(path) as f:
    cfg = yaml.safe_load(f)
command = ["pgbackrest", @STANZA_ARG@, "--delta"]
recovery = {"restore_command": @RESTORE_CMD@, "recovery_target_timeline": "latest"}
if target:
    command += ["--type=time", "--target=" + target, "--target-action=promote"]
    recovery.update({"recovery_target_time": target, "recovery_target_action": "promote"})
command.append("restore")
cfg["bootstrap"]["method"] = "pgbackrest_restore"
cfg["bootstrap"]["pgbackrest_restore"] = {
    "command": " ".join(shlex.quote(c) for c in command),
    "no_params": True,
    "keep_existing_recovery_conf": False,
    "recovery_conf": recovery,
}
with open(path, "w") as f:
    yaml.safe_dump(cfg, f, default_flow_style=False, sort_keys=False)
PY
chown postgres:postgres "$config"
chmod 0600 "$config"

restore_config() {
  cp -p "$config.before-restore" "$config"
  chown postgres:postgres "$config"
}
trap restore_config EXIT

systemctl start patroni
echo "restoring and recovering (this takes as long as copying the backup and replaying WAL)"
until ctl list -f json "$cluster" 2>/dev/null | python3 -c '
import json, sys
ok = any(m["Member"] == sys.argv[1] and m["Role"] == "Leader" and m["State"] == "running" for m in json.load(sys.stdin))
sys.exit(0 if ok else 1)' "$me"; do
  if ! systemctl is-active --quiet patroni; then
    echo "Patroni stopped: journalctl -u patroni; the original configuration is back" >&2
    exit 1
  fi
  sleep 10
done

# The usual configuration again (the bootstrap section only matters at bootstrap).
restore_config
trap - EXIT
systemctl reload patroni

# Synapse docs ("How to back up a Synapse homeserver"): after restoring, empty the
# one-time keys before Synapse starts. The restored table holds keys that clients have
# since used and forgotten; handing them out again makes messages encrypted with them
# undecryptable. Emptied, Synapse reports 0 keys and clients upload fresh ones.
runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -p @PG@ -d @DB@ -c 'TRUNCATE @OTK@;'

ctl list "$cluster"
cat <<EOF
$me is the primary of the restored cluster. Next:
  1. on $backup: /usr/local/sbin/pgbackrest-backup.sh full
  2. on each other node ($others): /usr/local/sbin/reinit-replica.sh
  3. on $synapse: systemctl start pgbouncer, then start Synapse (the playbook's
     'just start-all', or systemctl start matrix-synapse and its workers)
EOF
"##,
        &values,
    );
    File::new(
        format!("hosts/{}/usr/local/sbin/restore-database.sh", h.name),
        Scope::Role(Role::Patroni),
        "Point-in-time restore into the Patroni cluster from pgBackRest (run on the node to become primary), then truncates e2e_one_time_keys_json.",
        body,
    )
    .for_host(h)
    .script()
}

fn reinit_replica(ctx: &Ctx, h: &Host) -> File {
    let values = vec![
        ("@HEADER@", ctx.header(Comment::Hash)),
        (
            "@ABOUT@",
            Comment::Hash.lines(&format!(
                "
Rebuilds {} as a standby of the running cluster, after a restore on another node
(this node's data belong to the old cluster: Patroni refuses to start on them).
Run as root; add --yes to skip the confirmation. The old data directory is moved
aside, Patroni copies the primary (pg_basebackup) and streams from it.",
                h.name
            )),
        ),
        ("@ASSIGN_CONFIG@", shell::assign("config", PATRONI_CONFIG)),
        ("@ASSIGN_CLUSTER@", shell::assign("cluster", CLUSTER)),
        (
            "@ASSIGN_DATA@",
            shell::assign("data", &postgres::data_dir(ctx)),
        ),
        ("@ASSIGN_ME@", shell::assign("me", &h.name)),
    ];
    let body = fill(
        r##"#!/usr/bin/env bash
@HEADER@@ABOUT@set -euo pipefail

# The Patroni configuration, cluster and data directory; this node.
@ASSIGN_CONFIG@
@ASSIGN_CLUSTER@
@ASSIGN_DATA@
@ASSIGN_ME@
if [ "$(id -u)" -ne 0 ]; then
  echo "run as root" >&2
  exit 1
fi

leader="$(patronictl -c "$config" list -f json "$cluster" | python3 -c '
import json, sys
print(" ".join(m["Member"] for m in json.load(sys.stdin) if m["Role"] == "Leader"))')"
if [ -z "$leader" ] || [ "$leader" = "$me" ]; then
  echo "no other node leads cluster $cluster (leader: '${leader:-none}'): nothing to copy from" >&2
  exit 1
fi
if [ "${1:-}" != --yes ]; then
  read -r -p "Replace $me's data with a copy of $leader? Type $me to go on: " answer
  [ "$answer" = "$me" ] || { echo "not confirmed" >&2; exit 1; }
fi

systemctl stop patroni
if [ -d "$data" ]; then
  old="$data.before-reinit-$(date -u +%Y%m%dT%H%M%SZ)"
  mv "$data" "$old"
  echo "the old data directory is $old: delete it once $me streams"
fi
install -d -o postgres -g postgres -m 0700 "$data"
systemctl start patroni
until patronictl -c "$config" list -f json "$cluster" | python3 -c '
import json, sys
ok = any(m["Member"] == sys.argv[1] and m["State"] in ("streaming", "running") and m["Role"] != "Leader" for m in json.load(sys.stdin))
sys.exit(0 if ok else 1)' "$me"; do
  systemctl is-active --quiet patroni || { echo "Patroni stopped: journalctl -u patroni" >&2; exit 1; }
  sleep 10
done
patronictl -c "$config" list "$cluster"
"##,
        &values,
    );
    File::new(
        format!("hosts/{}/usr/local/sbin/reinit-replica.sh", h.name),
        Scope::Role(Role::Patroni),
        "Rebuilds this node as a standby of the running cluster (after a restore elsewhere).",
        body,
    )
    .for_host(h)
    .script()
}

fn ssh_keys(ctx: &Ctx) -> File {
    let patroni: Vec<String> = ctx
        .hosts(Role::Patroni)
        .map(|p| shell::quote(&format!("{}={}", p.fqdn, p.ip)))
        .collect();
    let backup = backup_host(ctx);
    let values = vec![
        ("@HEADER@", ctx.header(Comment::Hash)),
        ("@PATRONI@", patroni.join(" ")),
        (
            "@ASSIGN_BACKUP@",
            shell::assign(
                "backup",
                &backup.map(|h| h.fqdn.clone()).unwrap_or_default(),
            ),
        ),
        (
            "@ASSIGN_BACKUP_IP@",
            shell::assign(
                "backup_ip",
                &backup.map(|h| h.ip.to_string()).unwrap_or_default(),
            ),
        ),
        (
            "@ASSIGN_SYNAPSE@",
            shell::assign("synapse", &synapse_fqdn(ctx)),
        ),
    ];
    let body = fill(
        r##"#!/usr/bin/env bash
@HEADER@#
# SSH trust the backups need, set up from the control machine (the one that runs the
# playbook, with SSH to every host):
#   postgres@backup  → postgres@each Patroni node   (pgBackRest backups, stanza checks)
#   postgres@each Patroni node → postgres@backup   (WAL archiving, restores)
#   root@backup      → root@synapse host           (rsync of the local media store)
# Each host gets its own key (ed25519, made on the host, never copied); each
# authorized key only works from the address it belongs to (from="…"). Host keys are
# learnt with ssh-keyscan inside the private network.
#   backup/exchange-ssh-keys.sh            (SSH as root; SSH_USER=admin uses sudo)
# Safe to run again.
set -euo pipefail

user="${SSH_USER:-root}"
sudo=""
[ "$user" = root ] || sudo="sudo -n"
# The backup host, its address, the Synapse host, and each Patroni node as NAME=ADDRESS.
@ASSIGN_BACKUP@
@ASSIGN_BACKUP_IP@
@ASSIGN_SYNAPSE@
patroni=(@PATRONI@)

# on HOST SCRIPT [ARG...]: runs SCRIPT with bash as root on HOST, the ARGs as its $1...
# ssh hands the remote shell one command line: the script and every argument are in it
# quoted with printf %q, so the remote shell reads each as one word, never as code.
on() {
  local host="$1" command arg
  command="$sudo bash -c $(printf '%q' "$2") on"
  shift 2
  for arg in "$@"; do
    command="$command $(printf '%q' "$arg")"
  done
  # shellcheck disable=SC2029 # expanded here on purpose: the command is sent as text
  ssh -o BatchMode=yes "$user@$host" "$command"
}

# The scripts below are single-quoted: only the remote bash expands them, with the
# arguments `on` passes as $1, $2, ...

# key_of HOST ACCOUNT: that account's public key, made first when missing.
key_of() {
  # shellcheck disable=SC2016 # expanded by the remote bash, not here
  on "$1" 'set -e
account="$1"
home=$(getent passwd "$account" | cut -d: -f6)
install -d -m 0700 -o "$account" -g "$(id -gn "$account")" "$home/.ssh"
if [ ! -f "$home/.ssh/id_ed25519" ]; then
  runuser -u "$account" -- ssh-keygen -q -t ed25519 -N "" -C "$account@$(hostname)" -f "$home/.ssh/id_ed25519"
fi
cat "$home/.ssh/id_ed25519.pub"' "$2"
}

# authorize HOST ACCOUNT FROM_IP KEY: KEY may log in to ACCOUNT on HOST from FROM_IP.
authorize() {
  # shellcheck disable=SC2016 # expanded by the remote bash, not here
  on "$1" 'set -e
account="$1"
home=$(getent passwd "$account" | cut -d: -f6)
line="from=\"$2\",no-agent-forwarding,no-X11-forwarding,no-port-forwarding $3"
touch "$home/.ssh/authorized_keys"
grep -qxF "$line" "$home/.ssh/authorized_keys" || echo "$line" >> "$home/.ssh/authorized_keys"
chown "$account": "$home/.ssh/authorized_keys"
chmod 0600 "$home/.ssh/authorized_keys"' "$2" "$3" "$4"
}

# trust HOST ACCOUNT TARGET: ACCOUNT on HOST knows TARGET's host key.
trust() {
  # shellcheck disable=SC2016 # expanded by the remote bash, not here
  on "$1" 'set -e
account="$1"
target="$2"
home=$(getent passwd "$account" | cut -d: -f6)
touch "$home/.ssh/known_hosts"
if ! ssh-keygen -F "$target" -f "$home/.ssh/known_hosts" > /dev/null; then
  ssh-keyscan -t ed25519 "$target" >> "$home/.ssh/known_hosts" 2> /dev/null
fi
chown "$account": "$home/.ssh/known_hosts"' "$2" "$3"
}

backup_pg_key="$(key_of "$backup" postgres)"
backup_root_key="$(key_of "$backup" root)"
for entry in "${patroni[@]}"; do
  # The address is after the last `=`.
  host="${entry%=*}"
  ip="${entry##*=}"
  node_key="$(key_of "$host" postgres)"
  authorize "$host" postgres "$backup_ip" "$backup_pg_key"
  authorize "$backup" postgres "$ip" "$node_key"
  trust "$backup" postgres "$host"
  trust "$host" postgres "$backup"
  echo "postgres: $backup <-> $host"
done
authorize "$synapse" root "$backup_ip" "$backup_root_key"
trust "$backup" root "$synapse"
echo "root: $backup -> $synapse"
"##,
        &values,
    );
    File::new(
        "backup/exchange-ssh-keys.sh",
        Scope::Control,
        "Run from the control machine before setup-pgbackrest.sh: SSH keys between the backup host, the Patroni nodes and the Synapse host.",
        body,
    )
    .script()
}

fn restore_doc(ctx: &Ctx) -> File {
    let t = &ctx.topology;
    let backup = backup_host(ctx).map(|h| h.name.clone()).unwrap_or_default();
    let first = t
        .first(Role::Patroni)
        .map(|h| h.name.clone())
        .unwrap_or_default();
    let others: Vec<String> = ctx
        .hosts(Role::Patroni)
        .skip(1)
        .map(|p| p.name.clone())
        .collect();
    let synapse = t
        .first(Role::Synapse)
        .map(|h| h.name.clone())
        .unwrap_or_default();
    // Every value is Markdown text or a code span (`markdown`).
    let code = markdown::code;
    let b = code(&backup);
    let syn = code(&synapse);
    let mut o = ctx.header(Comment::Html);
    let _ = write!(
        o,
        "# Backups and restores

What is backed up, when, for how long, and how to get it back, for **{server}**.
Times are UTC. The backup host is {b}; every job reports to Prometheus through
node_exporter's textfile collector (`synapse_planner_backup_last_success_timestamp_seconds`
and `…_last_failure_timestamp_seconds`, labels `job` and `type`).

## What runs

| what | when | kept | where |
|---|---|---|---|
| pgBackRest full backup | Sunday 01:30 | {full} fulls | {repo} (encrypted) |
| pgBackRest differential | Monday–Saturday 01:30 | {diff} | same |
| pgBackRest incremental | hourly at :30 (not 01:30) | with their differential | same |
| WAL (archive_command) | continuously, at least every minute | back to the oldest full | same |
| `pgbackrest check` | daily 00:45 | — | — |
| pg_dump without `{OTK_TABLE}` data | Saturday 04:45, from {dump_from} | {dumps} dumps | {dump_dir} |
| media snapshot (bucket `{BUCKET}` + local media store) | daily 03:15 | {media} snapshots | {media_dir} |

Restore window of the database: any moment of the last **{window_min} days** (up to {window_max} just
before the next full), to the minute. Media: the state of each of the last {media} days.

## Setting up (once)

1. From the control machine: `backup/exchange-ssh-keys.sh` (SSH keys between
   {b}, the Patroni nodes and {syn}).
2. On {b}, after `setup-patroni.sh` ran on every Patroni node:
   `/usr/local/sbin/setup-pgbackrest.sh` (stanza, archive check, first full backup).
   Cron (`/etc/cron.d/synapse-planner-backup`) does the rest.
3. Keep a copy of the repository passphrase (`repo1-cipher-pass` in {repo_conf},
   the same in this bundle's {bundle_conf}) somewhere other than the
   backup host: without it the repository cannot be read, and a restore onto new hardware
   needs it.

## Restore the database to a point in time (pgBackRest, Patroni)

A restore replaces the whole cluster. Pick the moment just before the damage (a bad
migration, a mass deletion), in UTC.

1. Stop Synapse and PgBouncer on {syn}: `systemctl stop 'matrix-*' pgbouncer`.
2. Stop Patroni on every node but the one that becomes the primary ({others_stop}):
   `systemctl stop patroni`.
3. On that node (say {first}): `/usr/local/sbin/restore-database.sh --time 'YYYY-MM-DD HH:MM:SS+00'`
   (or `--latest` to replay everything archived). It stops Patroni there, removes the
   cluster from etcd (`patronictl remove`), moves the data directory aside, starts
   Patroni with a one-off bootstrap method that runs `pgbackrest restore`, recovers to
   the target and promotes, puts the usual configuration back and empties
   `{OTK_TABLE}` (below).
4. On {b}: `/usr/local/sbin/pgbackrest-backup.sh full`, the first backup of the
   new timeline.
5. On each other node: `/usr/local/sbin/reinit-replica.sh` (moves its old data aside and
   copies the new primary).
6. On {syn}: `systemctl start pgbouncer`, then start Synapse.
7. Delete the data directories moved aside (`…before-restore-*`, `…before-reinit-*`)
   once the cluster is verified.

### Why `{OTK_TABLE}` is emptied

Synapse's documentation (\"How to back up a Synapse homeserver\") says the table must not
be restored, or must be truncated after a restore and before Synapse starts. It holds
the one-time keys clients uploaded for end-to-end encryption; each is handed out once
and the client forgets it when used. An older copy of the table hands out keys that were
already used: the messages encrypted with them cannot be decrypted. Emptied, Synapse
reports no keys left and every client uploads new ones. `restore-database.sh` does it;
after any other kind of restore run, before Synapse starts:

```sh
sudo -u postgres psql -d {db} -c 'TRUNCATE {OTK_TABLE};'
```

## Restore a pg_dump (another server, or a newer PostgreSQL)

The dumps leave out the one-time keys' data, so nothing to truncate. Restore into an
empty database only (Synapse's docs: never over existing tables), as the superuser on
the primary, with the role `{user}` in place (Patroni's post-bootstrap SQL creates it):

```sh
sudo -u postgres createdb --encoding=UTF8 --locale=C --template=template0 --owner={user} {db}
sudo -u postgres pg_restore --dbname={db} --no-owner --role={user} {db}-<stamp>.dump
```

## Restore media

On {b}: `/usr/local/sbin/restore-media.sh` (newest snapshot) or
`/usr/local/sbin/restore-media.sh <snapshot>` (a name under `{MEDIA_ROOT}/snapshots`).
It copies the snapshot's bucket files back into `{BUCKET}` and its local files into
{store} (owner `{MATRIX_USER}`), and deletes nothing: media uploaded since
stay. Synapse may keep running.

## Test a restore

Quarterly at least, and after every change to the backups: restore onto a scratch host
(`pgbackrest --stanza={STANZA} --pg1-path=/scratch restore --type=time --target=…` with
a copy of a Patroni node's `/etc/pgbackrest.conf`, then start PostgreSQL on it), check
that the newest events are there, and restore one media snapshot into a scratch
directory (`MEDIA_S3_TARGET=/scratch/s3 MEDIA_LOCAL_TARGET=/scratch/local MEDIA_OWNER= restore-media.sh`).
",
        server = markdown::text(&t.server_name),
        full = full_retention(ctx),
        diff = DIFF_RETENTION,
        dump_from = if backup_from_standby(ctx) {
            format!("a standby ({})", code(&format!("{}:{}", t.vip, ports::PG_REPLICAS)))
        } else {
            format!("the primary ({})", code(&format!("{}:{}", t.vip, ports::PG_PRIMARY)))
        },
        repo = code(&format!("{backup}:{REPO_PATH}")),
        dump_dir = code(&format!("{backup}:{PGDUMP_DIR}")),
        media_dir = code(&format!("{backup}:{MEDIA_ROOT}/snapshots")),
        repo_conf = code(&format!("{backup}:/etc/pgbackrest.conf")),
        bundle_conf = code(&format!("hosts/{backup}/etc/pgbackrest.conf")),
        store = code(&format!("{synapse}:{MEDIA_STORE}")),
        first = code(&first),
        dumps = PGDUMP_KEEP,
        media = media_snapshots(ctx),
        window_min = restore_window_days(full_retention(ctx)).0,
        window_max = restore_window_days(full_retention(ctx)).1,
        others_stop = if others.is_empty() {
            "none in this plan".to_string()
        } else {
            others.iter().map(|n| code(n)).collect::<Vec<_>>().join(", ")
        },
        db = DATABASE,
        user = DB_USER,
    );
    File::new(
        "backup/RESTORE.md",
        Scope::Control,
        "Backups and restores: schedule, retention, database point-in-time restore (Patroni), one-time keys, pg_dump and media restores.",
        o,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::plan::Plan;

    use crate::bundle::with_ctx;

    fn plan(changes: &[(&str, &str)]) -> Plan {
        Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
    }

    #[test]
    fn exactly_one_backup_starts_every_hour_of_the_week() {
        let jobs = backup_jobs();
        let mut kinds = std::collections::BTreeMap::new();
        for day in 0..7u8 {
            for hour in 0..24u8 {
                let starting: Vec<&Job> = jobs
                    .iter()
                    .filter(|j| j.days.contains(&day) && j.hours.contains(&hour))
                    .collect();
                assert_eq!(starting.len(), 1, "day {day} hour {hour}");
                *kinds
                    .entry(starting[0].command.rsplit(' ').next().unwrap_or(""))
                    .or_insert(0) += 1;
            }
        }
        // Full weekly, diff daily on the other days, incr every hour but 01:30.
        assert_eq!(kinds.get("full"), Some(&1));
        assert_eq!(kinds.get("diff"), Some(&6));
        assert_eq!(kinds.get("incr"), Some(&(7 * 23)));
    }

    #[test]
    fn cron_fields() {
        for (values, max, expect) in [
            (vec![1], 23, "1"),
            ((0..24).collect::<Vec<u8>>(), 23, "*"),
            ((0..24).filter(|h| *h != 1).collect(), 23, "0,2-23"),
            ((1..7).collect(), 6, "1-6"),
            (vec![0, 2, 3, 4, 6], 6, "0,2-4,6"),
            ((0..7).collect(), 6, "*"),
        ] {
            assert_eq!(cron_field(&values, max), expect, "{values:?}");
        }
    }

    #[test]
    fn cron_file_lines() {
        with_ctx(&Plan::default(), |ctx| {
            let f = files(ctx)
                .into_iter()
                .find(|f| f.path.ends_with("/etc/cron.d/synapse-planner-backup"))
                .expect("cron");
            for line in [
                "30 1 * * 0 root /usr/local/sbin/pgbackrest-backup.sh full\n",
                "30 1 * * 1-6 root /usr/local/sbin/pgbackrest-backup.sh diff\n",
                "30 0,2-23 * * * root /usr/local/sbin/pgbackrest-backup.sh incr\n",
                "45 4 * * 6 root nice -n 19 ionice -c3 /usr/local/sbin/pg-dump-synapse.sh\n",
            ] {
                assert!(f.contents.contains(line), "{line}");
            }
        });
    }

    #[test]
    fn retention_covers_a_week_at_least() {
        for (fulls, window) in [(1, (0, 7)), (2, (7, 14)), (4, (21, 28))] {
            assert_eq!(restore_window_days(fulls), window, "{fulls}");
        }
        // The default plan's choice: never less than a week back.
        with_ctx(&Plan::default(), |ctx| {
            assert_eq!(restore_window_days(full_retention(ctx)), (7, 14));
            // A week of dailies (6 diffs between fulls) and of media snapshots.
            for (kept, at_least) in [
                (DIFF_RETENTION, 6),
                (media_snapshots(ctx), 7),
                (PGDUMP_KEEP, 2),
            ] {
                assert!(kept >= at_least, "{kept}");
            }
            let f = files(ctx)
                .into_iter()
                .find(|f| f.path == "hosts/backup/etc/pgbackrest.conf")
                .expect("repo config");
            assert!(f.contents.contains("\nrepo1-retention-full=2\n"));
            assert!(f.contents.contains("\nrepo1-retention-diff=7\n"));
            assert_eq!(f.mode, 0o600);
        });
        // The plan's retention reaches the files.
        let p = plan(&[
            ("retention.full-backups", "4"),
            ("retention.media-snapshots", "30"),
        ]);
        with_ctx(&p, |ctx| {
            let all = files(ctx);
            let get = |path: &str| {
                all.iter()
                    .find(|f| f.path == path)
                    .map(|f| f.contents.clone())
                    .unwrap_or_default()
            };
            assert!(get("hosts/backup/etc/pgbackrest.conf").contains("\nrepo1-retention-full=4\n"));
            assert!(
                get("hosts/backup/usr/local/sbin/backup-media.sh")
                    .contains("keep=\"${MEDIA_SNAPSHOTS:-30}\"")
            );
            let doc = get("backup/RESTORE.md");
            assert!(doc.contains("| 4 fulls |"), "{doc}");
            assert!(doc.contains("last **21 days** (up to 28"), "{doc}");
            assert!(doc.contains("| 30 snapshots |"), "{doc}");
        });
    }

    #[test]
    fn standby_backups_and_process_counts_follow_the_plan() {
        for (changes, standby, repo_max, restore_max, dump_port) in [
            (&[][..], true, 4, 8, 5433),
            (
                &[
                    ("hosts.patroni.count", "1"),
                    ("hosts.backup.vcpus", "2"),
                    ("hosts.patroni.vcpus", "2"),
                ][..],
                false,
                2,
                2,
                5432,
            ),
        ] {
            with_ctx(&plan(changes), |ctx| {
                assert_eq!(backup_from_standby(ctx), standby, "{changes:?}");
                assert_eq!(repo_process_max(ctx), repo_max, "{changes:?}");
                assert_eq!(restore_process_max(ctx), restore_max, "{changes:?}");
                assert_eq!(pg_dump_port(ctx), dump_port, "{changes:?}");
                let repo = files(ctx)
                    .into_iter()
                    .find(|f| f.path == "hosts/backup/etc/pgbackrest.conf")
                    .expect("repo config");
                assert!(repo.contents.contains(&format!(
                    "\nbackup-standby={}\n",
                    if standby { "y" } else { "n" }
                )));
                for (i, h) in ctx.hosts(Role::Patroni).enumerate() {
                    assert!(
                        repo.contents
                            .contains(&format!("\npg{}-host={}\n", i + 1, h.fqdn))
                    );
                }
            });
        }
    }
    /// Values no validation would let through (a plan file is untrusted; the writers must
    /// not rely on validation) never change a file's structure: every one stays on its
    /// line, inside its quotes.
    #[test]
    fn hostile_values_stay_values() {
        with_ctx(&crate::bundle::hostile_plan(), |ctx| {
            crate::bundle::assert_no_injected_line(&files(ctx), &["#", "<!--"]);
            for f in files(ctx) {
                if f.path.ends_with(".sh") {
                    // In scripts a value is one quoted word: the command substitution
                    // only ever appears inside single quotes or $'…'.
                    for line in f
                        .contents
                        .lines()
                        .filter(|l| l.contains("$(touch") && !l.trim_start().starts_with('#'))
                    {
                        assert!(
                            line.contains("'synapse.e\\'v")
                                || line.contains("'backup.e\\'v")
                                || line.contains("'patroni1.e\\'v")
                                || line.contains("'root@synapse.e\\'v"),
                            "{}: {line}",
                            f.path
                        );
                    }
                }
            }
            let doc = files(ctx)
                .into_iter()
                .find(|f| f.path == "backup/RESTORE.md")
                .expect("RESTORE.md");
            assert!(
                doc.contents
                    .contains("for **e\\'v\\\"il\\$\\(touch \\/tmp\\/pwn\\)"),
                "{}",
                doc.contents
            );
        });
    }
}
