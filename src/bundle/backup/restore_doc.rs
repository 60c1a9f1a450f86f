//! RESTORE.md: what is backed up, when, for how long, and how to get it back.

use super::super::{Comment, Ctx, File, Scope, ports};
use super::cron::CRON_FILE;
use super::media::MEDIA_RESTORE_SCRIPT;
use super::pgbackrest::PGBACKREST_CONF;
use super::restore::{REINIT_SCRIPT, RESTORE_SCRIPT};
use super::ssh_keys::SSH_KEYS_SCRIPT;
use super::*;
use crate::deploy::backups::{Job, jobs};
use crate::deploy::facts::{
    DATABASE, DB_USER, MEDIA_SCRIPT, PGBACKREST_SCRIPT, PGBACKREST_SETUP_SCRIPT, PGDUMP_SCRIPT,
};
use crate::plan::Role;
use crate::syntax::markdown;

/// The backups' document, on the control machine.
pub(in crate::bundle) const RESTORE_DOC: &str = "backup/RESTORE.md";

pub(super) fn restore_doc(ctx: &Ctx) -> File {
    let t = &ctx.topology;
    let backup = backup_host(ctx).map(|h| h.name.clone()).unwrap_or_default();
    let synapse = t
        .first(Role::Synapse)
        .map(|h| h.name.clone())
        .unwrap_or_default();
    // Every value is Markdown text or a code span (`markdown`).
    let hosts = Hosts {
        b: markdown::code(&backup),
        syn: markdown::code(&synapse),
        backup,
        synapse,
    };
    let mut o = ctx.header(Comment::Html);
    o.push_str(&schedule(ctx, &hosts));
    o.push_str(&database_restore(ctx, &hosts));
    o.push_str(&other_restores(&hosts));
    File::new(
        RESTORE_DOC,
        Scope::Control,
        "Backups and restores: schedule, retention, database point-in-time restore (Patroni), one-time keys, pg_dump and media restores.",
        o,
    )
}

/// The hosts the document names: the backup host and the Synapse host, as names and
/// as Markdown code spans (`b`, `syn`).
struct Hosts {
    backup: String,
    synapse: String,
    b: String,
    syn: String,
}

/// What runs, when, for how long, and the one-time setup.
fn schedule(ctx: &Ctx, hosts: &Hosts) -> String {
    let t = &ctx.topology;
    let code = markdown::code;
    let backup = &hosts.backup;
    let jobs = jobs();
    let pgbackrest = |kind: &str| when_of(&jobs, |c| c == format!("{PGBACKREST_SCRIPT} {kind}"));
    format!(
        "# Backups and restores

What is backed up, when, for how long, and how to get it back, for **{server}**.
Times are UTC. The backup host is {b}; every job reports to Prometheus through
node_exporter's textfile collector (`{BACKUP_SUCCESS}`
and `…{failure}`, labels `job` and `type`).

## What runs

| what | when | kept | where |
|---|---|---|---|
| pgBackRest full backup | {when_full} | {full} fulls | {repo} (encrypted) |
| pgBackRest differential | {when_diff} | {diff} | same |
| pgBackRest incremental | {when_incr} | with their differential | same |
| WAL (archive_command) | continuously, at least every minute | back to the oldest full | same |
| `pgbackrest check` | {when_check} | — | — |
| pg_dump without `{OTK_TABLE}` data | {when_dump}, from {dump_from} | {dumps} dumps | {dump_dir} |
| media snapshot (bucket `{MEDIA_BUCKET}` + local media store) | {when_media} | {media} snapshots | {media_dir} |

Restore window of the database: any moment of the last **{window_min} days** (up to {window_max} just
before the next full), to the minute. Media: the state of each of the last {media} days.

## Setting up (once)

1. From the control machine: `{SSH_KEYS_SCRIPT}` (SSH keys between
   {b}, the Patroni nodes and {syn}).
2. On {b}, after `setup-patroni.sh` ran on every Patroni node:
   `{PGBACKREST_SETUP_SCRIPT}` (stanza, archive check, first full backup).
   Cron (`{CRON_FILE}`) does the rest.
3. Keep a copy of the repository passphrase (`repo1-cipher-pass` in {repo_conf},
   the same in this bundle's {bundle_conf}) somewhere other than the
   backup host: without it the repository cannot be read, and a restore onto new hardware
   needs it.

",
        server = markdown::text(&t.server_name),
        when_full = pgbackrest("full"),
        when_diff = pgbackrest("diff"),
        when_incr = pgbackrest("incr"),
        when_check = pgbackrest("check"),
        when_dump = when_of(&jobs, |c| c.ends_with(PGDUMP_SCRIPT)),
        when_media = when_of(&jobs, |c| c.ends_with(MEDIA_SCRIPT)),
        // The failure metric by what differs from the success one.
        failure = BACKUP_FAILURE
            .find("_last_")
            .map_or(BACKUP_FAILURE, |i| &BACKUP_FAILURE[i..]),
        b = hosts.b,
        syn = hosts.syn,
        full = full_retention(ctx),
        diff = DIFF_RETENTION,
        dump_from = if backup_from_standby(ctx) {
            format!("a standby ({})", code(&format!("{}:{}", t.vip, ports::PG_REPLICAS)))
        } else {
            format!("the primary ({})", code(&format!("{}:{}", t.vip, ports::PG_PRIMARY)))
        },
        repo = code(&format!("{backup}:{PGBACKREST_REPO}")),
        dump_dir = code(&format!("{backup}:{PGDUMP_DIR}")),
        media_dir = code(&format!("{backup}:{MEDIA_SNAPSHOTS}/snapshots")),
        repo_conf = code(&format!("{backup}:{PGBACKREST_CONF}")),
        bundle_conf = code(&format!("hosts/{backup}{PGBACKREST_CONF}")),
        dumps = PGDUMP_KEEP,
        media = media_snapshots(ctx),
        window_min = restore_window_days(full_retention(ctx)).0,
        window_max = restore_window_days(full_retention(ctx)).1,
    )
}

/// The point-in-time restore of the cluster, and why the one-time keys are emptied.
fn database_restore(ctx: &Ctx, hosts: &Hosts) -> String {
    let code = markdown::code;
    let first = ctx
        .topology
        .first(Role::Patroni)
        .map(|h| h.name.clone())
        .unwrap_or_default();
    let others: Vec<String> = ctx
        .hosts(Role::Patroni)
        .skip(1)
        .map(|p| p.name.clone())
        .collect();
    format!(
        "## Restore the database to a point in time (pgBackRest, Patroni)

A restore replaces the whole cluster. Pick the moment just before the damage (a bad
migration, a mass deletion), in UTC.

1. Stop Synapse and PgBouncer on {syn}: `systemctl stop 'matrix-*' pgbouncer`.
2. Stop Patroni on every node but the one that becomes the primary ({others_stop}):
   `systemctl stop patroni`.
3. On that node (say {first}): `{RESTORE_SCRIPT} --time 'YYYY-MM-DD HH:MM:SS+00'`
   (or `--latest` to replay everything archived). It stops Patroni there, removes the
   cluster from etcd (`patronictl remove`), moves the data directory aside, starts
   Patroni with a one-off bootstrap method that runs `pgbackrest restore`, recovers to
   the target and promotes, puts the usual configuration back and empties
   `{OTK_TABLE}` (below).
4. On each other node: `{REINIT_SCRIPT}` (moves its old data aside and
   copies the new primary).
5. On {b}: `{PGBACKREST_SCRIPT} full`, the first backup of the
   new timeline.{standby_note}
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

",
        b = hosts.b,
        syn = hosts.syn,
        first = code(&first),
        others_stop = if others.is_empty() {
            "none in this plan".to_string()
        } else {
            others
                .iter()
                .map(|n| code(n))
                .collect::<Vec<_>>()
                .join(", ")
        },
        db = DATABASE,
        standby_note = if backup_from_standby(ctx) {
            " After step 4: it copies from a standby (`backup-standby`), and\n   \
             pgBackRest 2.45 stops with \"unable to find standby cluster\" while none runs."
        } else {
            ""
        },
    )
}

/// Restoring a pg_dump and media, and testing a restore.
fn other_restores(hosts: &Hosts) -> String {
    format!(
        "## Restore a pg_dump (another server, or a newer PostgreSQL)

The dumps leave out the one-time keys' data, so nothing to truncate. Restore into an
empty database only (Synapse's docs: never over existing tables), as the superuser on
the primary, with the role `{user}` in place (Patroni's post-bootstrap SQL creates it):

```sh
sudo -u postgres createdb --encoding=UTF8 --locale=C --template=template0 --owner={user} {db}
sudo -u postgres pg_restore --dbname={db} --no-owner --role={user} {db}-<stamp>.dump
```

## Restore media

On {b}: `{MEDIA_RESTORE_SCRIPT}` (newest snapshot) or
`{MEDIA_RESTORE_SCRIPT} <snapshot>` (a name under `{MEDIA_SNAPSHOTS}/snapshots`).
It copies the snapshot's bucket files back into `{MEDIA_BUCKET}` and its local files into
{store} (owner `{MATRIX_USER}`), and deletes nothing: media uploaded since
stay. Synapse may keep running.

## Test a restore

Quarterly at least, and after every change to the backups: restore onto a scratch host
(`pgbackrest --stanza={STANZA} --pg1-path=/scratch restore --type=time --target=…` with
a copy of a Patroni node's `{PGBACKREST_CONF}`, then start PostgreSQL on it), check
that the newest events are there, and restore one media snapshot into a scratch
directory (`MEDIA_S3_TARGET=/scratch/s3 MEDIA_LOCAL_TARGET=/scratch/local MEDIA_OWNER= restore-media.sh`).
",
        b = hosts.b,
        store = markdown::code(&format!("{}:{MEDIA_STORE}", hosts.synapse)),
        db = DATABASE,
        user = DB_USER,
    )
}

/// When the job of the schedule whose command `runs` accepts starts, as the table says
/// it ([`when`]); empty when the schedule has no such job.
fn when_of(jobs: &[Job], runs: impl Fn(&str) -> bool) -> String {
    jobs.iter()
        .find(|j| runs(&j.command))
        .map(when)
        .unwrap_or_default()
}

/// When a job starts, in UTC: "Sunday 01:30", "Monday–Saturday 01:30", "daily 00:45",
/// "hourly at :30 (not 01:30)".
fn when(job: &Job) -> String {
    let at = |h: u8| format!("{h:02}:{:02}", job.minute);
    let days = days(&job.days);
    let not: Vec<String> = (0..24u8)
        .filter(|h| !job.hours.contains(h))
        .map(at)
        .collect();
    if job.hours.len() <= not.len() {
        let hours: Vec<String> = job.hours.iter().map(|h| at(*h)).collect();
        return format!("{days} {}", hours.join(", "));
    }
    let hourly = if not.is_empty() {
        format!("hourly at :{:02}", job.minute)
    } else {
        format!("hourly at :{:02} (not {})", job.minute, not.join(", "))
    };
    if job.days.len() == 7 {
        hourly
    } else {
        format!("{days}, {hourly}")
    }
}

/// Days of the week (0 = Sunday, ascending) as the table says them: "daily", "Sunday",
/// "Monday–Saturday", "Saturday, Sunday".
fn days(days: &[u8]) -> String {
    const NAMES: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    let name = |d: &u8| NAMES.get(usize::from(*d)).copied().unwrap_or_default();
    match days {
        _ if days.len() == NAMES.len() => "daily".to_string(),
        [first, .., last] if usize::from(last.saturating_sub(*first)) + 1 == days.len() => {
            format!("{}–{}", name(first), name(last))
        }
        _ => days.iter().map(name).collect::<Vec<_>>().join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_a_job_runs() {
        let job = |hours: Vec<u8>, days: Vec<u8>| Job {
            minute: 5,
            hours,
            days,
            command: String::new(),
            why: "",
        };
        for (hours, days, expect) in [
            (vec![1], vec![0], "Sunday 01:05"),
            (vec![1], (1..7).collect(), "Monday–Saturday 01:05"),
            (vec![0, 12], vec![0, 6], "Sunday, Saturday 00:05, 12:05"),
            ((0..24).collect(), (0..7).collect(), "hourly at :05"),
            (
                (0..24).filter(|h| *h != 3).collect(),
                vec![2],
                "Tuesday, hourly at :05 (not 03:05)",
            ),
        ] {
            assert_eq!(when(&job(hours, days)), expect);
        }
        // The schedule's own jobs, as RESTORE.md's table states them.
        let jobs = jobs();
        let all: Vec<String> = jobs.iter().map(when).collect();
        assert_eq!(
            all,
            [
                "Sunday 01:30",
                "Monday–Saturday 01:30",
                "hourly at :30 (not 01:30)",
                "daily 00:45",
                "daily 03:15",
                "Saturday 04:45",
            ]
        );
    }
}
