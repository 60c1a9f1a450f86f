//! pgBackRest: its configuration on the repository (backup) host and on each Patroni
//! node, the wrapper cron runs for every backup, and the one-time setup script.

use super::super::postgres::{self, SOCKET_DIR, fill};
use super::super::{Comment, Ctx, File, Host, Scope, SecretId, ports};
use super::cron::CRON_FILE;
use super::media::RCLONE_CONF;
use super::pg_dump::PGPASS;
use super::ssh_keys::SSH_KEYS_SCRIPT;
use super::*;
use crate::deploy::facts::{PGBACKREST_SCRIPT, PGBACKREST_SETUP_SCRIPT};
use crate::plan::Role;
use crate::syntax::conf::Format;
use crate::syntax::shell;
use std::fmt::Write;

/// pgBackRest's configuration, on the backup host and on each Patroni node (Debian's
/// pgbackrest 2.45 reads it when /etc/pgbackrest/pgbackrest.conf does not exist).
pub(in crate::bundle) const PGBACKREST_CONF: &str = "/etc/pgbackrest.conf";

pub(super) fn repo_config(ctx: &Ctx, h: &Host) -> File {
    let value = |s: &str| Format::PgBackRest.value(s);
    let data = value(&postgres::data_dir(ctx));
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&Comment::Hash.lines(&format!(
        "pgBackRest repository on {} (Debian pgbackrest 2.45 reads {PGBACKREST_CONF} when
/etc/pgbackrest/pgbackrest.conf does not exist). Runs as postgres, which owns
{PGBACKREST_REPO}; it reaches the Patroni nodes over SSH as postgres ({SSH_KEYS_SCRIPT}).
Holds the repository's encryption passphrase: mode 0640, owner postgres.",
        h.name
    )));
    let _ = write!(
        o,
        "
[global]
repo1-path={PGBACKREST_REPO}
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
        format!("hosts/{}{PGBACKREST_CONF}", h.name),
        Scope::Role(Role::Backup),
        "pgBackRest repository: encryption, retention, compression, stanza synapse with every Patroni node.",
        o,
    )
    .for_host(h)
    .secret()
}

pub(super) fn db_config(ctx: &Ctx, h: &Host) -> File {
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
            "pgBackRest on {name} (Debian pgbackrest 2.45 reads {PGBACKREST_CONF}). PostgreSQL's
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
        format!("hosts/{}{PGBACKREST_CONF}", h.name),
        Scope::Role(Role::Patroni),
        "pgBackRest on a database node: repository host, asynchronous WAL archiving, stanza synapse.",
        body,
    )
    .for_host(h)
}

pub(super) fn backup_wrapper(ctx: &Ctx, h: &Host) -> File {
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
{PGBACKREST_CONF}).",
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
        format!("hosts/{}{PGBACKREST_SCRIPT}", h.name),
        Scope::Role(Role::Backup),
        "Runs a pgBackRest backup or check as postgres, one backup at a time, and records the result for Prometheus.",
        body,
    )
    .for_host(h)
    .script()
}

pub(super) fn setup_pgbackrest(ctx: &Ctx, h: &Host) -> File {
    let mut values = script_common(ctx);
    values.extend([
        (
            "@ABOUT@",
            Comment::Hash.lines(&format!(
                "
Sets up the backups on {}, once the Patroni cluster runs and SSH trust is in
place ({SSH_KEYS_SCRIPT}, from the control machine). Run as root; safe to
run again. Creates the stanza, checks WAL archiving end to end, takes the first full
backup (point-in-time restore starts from it) and leaves the schedule to cron.",
                h.name
            )),
        ),
        ("@ASSIGN_NAME@", shell::assign("name", &h.name)),
        ("@REPO@", PGBACKREST_REPO.to_string()),
        ("@MEDIA_ROOT@", MEDIA_SNAPSHOTS.to_string()),
        ("@PGDUMP_DIR@", PGDUMP_DIR.to_string()),
        ("@PGPASS@", PGPASS.to_string()),
        ("@RCLONE_CONF@", RCLONE_CONF.to_string()),
        ("@PGBACKREST_CONF@", PGBACKREST_CONF.to_string()),
        ("@CRON_FILE@", CRON_FILE.to_string()),
        ("@PGBACKREST_SCRIPT@", PGBACKREST_SCRIPT.to_string()),
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
keep_owner postgres postgres 0640 @PGBACKREST_CONF@
install -d -o postgres -g postgres -m 0750 @REPO@ /var/log/pgbackrest /var/spool/pgbackrest
# The other backup jobs run as root.
keep_owner root root 0600 @PGPASS@
keep_owner root root 0600 @RCLONE_CONF@
install -d -m 0700 @MEDIA_ROOT@ @PGDUMP_DIR@
install -d -m 0755 @METRICS_DIR@
# cron ignores a file in /etc/cron.d that root does not own or others can write.
keep_owner root root 0644 @CRON_FILE@

for host in "${nodes[@]}"; do
  echo "SSH to postgres@$host: $(runuser -u postgres -- ssh -o BatchMode=yes "postgres@$host" hostname)"
done

runuser -u postgres -- pgbackrest --stanza=@STANZA@ stanza-create
runuser -u postgres -- pgbackrest --stanza=@STANZA@ check
if ! runuser -u postgres -- pgbackrest --stanza=@STANZA@ info --output=json | grep -q '"type":"full"'; then
  @PGBACKREST_SCRIPT@ full
fi
runuser -u postgres -- pgbackrest --stanza=@STANZA@ info
echo "$name: stanza @STANZA@ ready; cron runs the schedule (@CRON_FILE@)"
"##,
        &values,
    );
    File::new(
        format!("hosts/{}{PGBACKREST_SETUP_SCRIPT}", h.name),
        Scope::Role(Role::Backup),
        "Run once on the backup host after the database tier: stanza-create, check, first full backup.",
        body,
    )
    .for_host(h)
    .script()
}
