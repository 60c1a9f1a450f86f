//! PgBouncer on the Synapse host: its ini (the plan's pool mode and pools, Synapse's
//! database through the VIP), its auth file, the systemd drop-in with its file limit,
//! and the setup script that starts it and its exporter.

use super::exporters::PGBOUNCER_EXPORTER_ENV;
use super::{DATABASE, DB_USER, PGBOUNCER_STATS_USER, SOCKET_DIR, fill};
use crate::assumptions as a;
use crate::bundle::{Comment, Ctx, File, Scope, SecretId};
use crate::deploy::failover::PGBOUNCER_SERVER_LOGIN_RETRY_S;
use crate::deploy::{Host, ports};
use crate::plan::{PoolMode, Role};
use crate::sizing::descriptors;
use crate::syntax::conf::{self, Format};
use crate::syntax::shell;
use std::fmt::Write;

/// PgBouncer's configuration (Debian's pgbouncer.service reads it).
const PGBOUNCER_INI: &str = "/etc/pgbouncer/pgbouncer.ini";
/// PgBouncer's auth file.
const USERLIST: &str = "/etc/pgbouncer/userlist.txt";
/// The systemd drop-in that sets pgbouncer.service's LimitNOFILE.
const LIMITS_DROPIN: &str = "/etc/systemd/system/pgbouncer.service.d/90-synapse-planner.conf";
/// The script that starts PgBouncer and its exporter on the Synapse host.
const SETUP_PGBOUNCER: &str = "/usr/local/sbin/setup-pgbouncer.sh";

/// PgBouncer's cap on server connections to Synapse's database: its pool and reserve
/// (the connection chain's server side per PgBouncer), never more than PostgreSQL
/// leaves for it (max_connections − reserved, split over the PgBouncer instances), and
/// at least 1 (0 would mean "unlimited").
pub(super) fn max_db_connections(ctx: &Ctx) -> u64 {
    let c = &ctx.report.connections;
    let instances = c.pgbouncer_instances.max(1);
    let per_instance = c.pgbouncer_server_connections / instances;
    let available = u64::try_from(c.postgres_available.max(0)).unwrap_or(0) / instances;
    per_instance.min(available).max(1)
}

/// PgBouncer's own estimate of the descriptors it may need (one home:
/// `sizing::descriptors`).
pub(super) fn pgbouncer_expected_fds(ctx: &Ctx) -> u64 {
    descriptors::pgbouncer_own_estimate(ctx.plan)
}

/// LimitNOFILE for pgbouncer.service: the larger of the report's need and PgBouncer's own
/// estimate, never below the cluster-wide default (`sizing::descriptors`).
pub(super) fn pgbouncer_nofile(ctx: &Ctx) -> u64 {
    descriptors::limit_nofile(
        ctx.report
            .connections
            .pgbouncer_file_descriptors
            .max(pgbouncer_expected_fds(ctx)),
    )
}

fn pool_mode_comment(ctx: &Ctx) -> String {
    let c = &ctx.report.connections;
    match ctx.plan.pgbouncer.pool_mode {
        PoolMode::Transaction => format!(
            "; pool_mode = transaction (the seed requires it): a client holds a server
; connection for one transaction only, so {clients} Synapse connections share {servers}
; server connections. The risk, plainly: Synapse SETs session state when it opens a
; connection (isolation level, bytea_output, statement_timeout,
; idle_in_transaction_session_timeout: synapse/storage/engines/postgres.py) and
; transaction pooling does not keep session state: the next transaction may run on a
; server connection that never saw those SETs (matrix-org/synapse#4473, open). This
; bundle limits the damage: psycopg2 names the isolation level on every BEGIN, and
; the synapse role carries Synapse's other settings as role defaults (post-bootstrap.sql),
; so every server connection starts with them. If Synapse still misbehaves, use
; session mode: it needs default_pool_size ≥ Synapse's {clients} pooled connections.",
            clients = c.synapse_pool_total,
            servers = max_db_connections(ctx),
        ),
        PoolMode::Session => format!(
            "; pool_mode = session: each Synapse connection keeps its server connection, so
; PostgreSQL sees up to {clients} connections from Synapse (Σ cp_max); the pool must hold them.",
            clients = c.synapse_pool_total,
        ),
        PoolMode::Statement => {
            "; pool_mode = statement: a server connection per statement. Synapse runs
; multi-statement transactions, which statement pooling refuses: this mode breaks
; Synapse. Use transaction (the seed's) or session."
                .to_string()
        }
    }
}

fn server_reset(ctx: &Ctx) -> &'static str {
    match ctx.plan.pgbouncer.pool_mode {
        PoolMode::Session => {
            "; Session mode: DISCARD ALL when a client leaves, so the next one starts clean.
server_reset_query = DISCARD ALL
server_reset_query_always = 0"
        }
        PoolMode::Transaction | PoolMode::Statement => {
            "; Not used in this pool mode (PgBouncer docs: server_reset_query is for session
; pooling; server_reset_query_always = 1 would run it after every transaction and cost a
; round trip each). The synapse role's defaults keep session state uniform instead.
server_reset_query =
server_reset_query_always = 0"
        }
    }
}

/// pgbouncer.ini of the Synapse host `h`.
pub(super) fn pgbouncer_ini(ctx: &Ctx, h: &Host) -> File {
    let p = &ctx.plan.pgbouncer;
    let c = &ctx.report.connections;
    let mut o = ctx.header(Comment::Semicolon);
    let _ = write!(
        o,
        "{about}
[databases]
; HAProxy on the VIP sends port {pg} to the node whose Patroni REST API answers 200 on
; GET /primary, so a failover needs no change here.
{db} = host={vip} port={pg} dbname={db}

[pgbouncer]
; Synapse's containers reach the host's private address; 127.0.0.1 for local tools.
listen_addr = {ip},127.0.0.1
listen_port = {port}
; The admin console for the OS user postgres without a password:
;   sudo -u postgres psql -h {SOCKET_DIR} -p {port} -U pgbouncer pgbouncer
unix_socket_dir = {SOCKET_DIR}

; SCRAM with clients; the auth file holds the passwords in clear (mode 0600, owned by
; postgres) so PgBouncer can also log in to PostgreSQL with SCRAM.
auth_type = scram-sha-256
auth_file = {USERLIST}
; pgbouncer_exporter's user: SHOW commands only.
stats_users = {PGBOUNCER_STATS_USER}

{mode_comment}
pool_mode = {mode}
{reset}

; Pools, exactly as the plan sets them. max_client_conn covers Synapse's pools
; ({pool_total} = {processes} processes × cp_max {cp_max}) and admin connections.
max_client_conn = {max_client}
default_pool_size = {default_pool}
reserve_pool_size = {reserve}
; Seconds a client waits before the reserve pool is used (seed).
reserve_pool_timeout = 5
; Server connections to Synapse's database, all users together: the pool and its
; reserve ({server_conns}), within what PostgreSQL leaves for PgBouncer
; (max_connections {max_conn} − {reserved} reserved = {available}).
max_db_connections = {maxdb}

; Timeouts: the seed's values, which are PgBouncer's defaults too, written out so they
; are visible. Close server connections idle for 10 minutes (frees PostgreSQL backends
; after a peak),
server_idle_timeout = 600
; and recycle them after an hour, so backend memory (catalog caches) does not grow
; without bound;
server_lifetime = 3600
; give up on a PostgreSQL that does not accept a connection within 15 s (failover);
server_connect_timeout = 15
; after a failed server login (while HAProxy has no primary to send it to) try again
; after {login_retry} s, not PgBouncer's default 15 s, which the lab measured adding up to
; 15 s to a failover (docs/lab.md);
server_login_retry = {login_retry}
; no limit on a query: Synapse sets statement_timeout (10 min) itself;
query_timeout = 0
; a client that waited 2 minutes for a server connection gets an error instead of
; hanging (a pool too small, or no primary).
query_wait_timeout = 120
; Synapse's pooled connections are long-lived: never close an idle client (default).
client_idle_timeout = 0

; File descriptors: PgBouncer expects up to {fds} (its own estimate: max_client_conn + 10
; + pool × its 3 users + the admin console's 2); pgbouncer.service gets LimitNOFILE={nofile}
; ({LIMITS_DROPIN}).
; Logs go to stderr, which systemd sends to the journal.
",
        about = Comment::Semicolon.lines(&format!(
            "
PgBouncer on {name} (Debian pgbouncer 1.18, run by pgbouncer.service as postgres).
Synapse's processes connect here (client-side pooling, DESIGN.md §2); PgBouncer keeps
at most {maxdb} server connections to the Patroni primary through HAProxy on the VIP.
Comments are on their own lines: PgBouncer has no trailing comments.",
            name = h.name,
            maxdb = max_db_connections(ctx),
        )),
        maxdb = max_db_connections(ctx),
        pg = ports::PG_PRIMARY,
        db = Format::PgBouncer.value(DATABASE),
        vip = Format::PgBouncer.value(&ctx.topology.vip.to_string()),
        ip = Format::PgBouncer.value(&h.ip.to_string()),
        port = ports::PGBOUNCER,
        mode_comment = pool_mode_comment(ctx),
        mode = p.pool_mode.key(),
        reset = server_reset(ctx),
        pool_total = c.synapse_pool_total,
        processes = c.synapse_processes,
        cp_max = c.cp_max,
        max_client = p.max_client_conn,
        default_pool = p.default_pool_size,
        reserve = p.reserve_pool_size,
        server_conns = c.pgbouncer_server_connections,
        max_conn = c.postgres_max_connections,
        reserved = c.postgres_reserved_total,
        available = c.postgres_available,
        fds = pgbouncer_expected_fds(ctx),
        nofile = pgbouncer_nofile(ctx),
        login_retry = PGBOUNCER_SERVER_LOGIN_RETRY_S,
    );
    File::new(
        format!("hosts/{}{PGBOUNCER_INI}", h.name),
        Scope::Role(Role::Synapse),
        "PgBouncer: Synapse's database through the VIP, the plan's pool mode and pools, SCRAM auth, timeouts.",
        o,
    )
    .for_host(h)
}

/// PgBouncer's auth file.
pub(super) fn pgbouncer_userlist(ctx: &Ctx, h: &Host) -> File {
    // PgBouncer's auth file: `"user" "password"` lines; its parser skips `;` lines.
    let line = |user: &str, secret: SecretId| {
        format!(
            "{} {}\n",
            conf::userlist_field(user),
            conf::userlist_field(ctx.secret(secret))
        )
    };
    let body = format!(
        "{}{}{}",
        ctx.header(Comment::Semicolon),
        line(DB_USER, SecretId::SynapseDbPassword),
        line(PGBOUNCER_STATS_USER, SecretId::PgbouncerStatsPassword),
    );
    File::new(
        format!("hosts/{}{USERLIST}", h.name),
        Scope::Role(Role::Synapse),
        "PgBouncer's auth file: Synapse's database user and the stats user, passwords in clear for SCRAM.",
        body,
    )
    .for_host(h)
    .secret()
}

/// pgbouncer.service's drop-in with its LimitNOFILE.
pub(super) fn pgbouncer_limits(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{}# PgBouncer holds a descriptor per client and per server connection: max_client_conn
# {clients} + server connections + its own. PgBouncer's own estimate is {fds}; the report's
# {report_fds}. Never below the cluster's default ({default}).
[Service]
LimitNOFILE={nofile}
",
        ctx.header(Comment::Hash),
        clients = ctx.plan.pgbouncer.max_client_conn,
        fds = pgbouncer_expected_fds(ctx),
        report_fds = ctx.report.connections.pgbouncer_file_descriptors,
        default = a::fixed!(NOFILE_LIMIT) as u64,
        nofile = pgbouncer_nofile(ctx),
    );
    File::new(
        format!("hosts/{}{LIMITS_DROPIN}", h.name),
        Scope::Role(Role::Synapse),
        "systemd drop-in: PgBouncer's open-file limit for max_client_conn.",
        body,
    )
    .for_host(h)
}

/// setup-pgbouncer.sh: file ownership, PgBouncer and its exporter.
pub(super) fn pgbouncer_setup(ctx: &Ctx, h: &Host) -> File {
    let body = fill(
        r##"#!/usr/bin/env bash
@HEADER@@ABOUT@set -euo pipefail

# This host's name and private address.
@ASSIGN_NAME@
@ASSIGN_IP@

if [ "$(id -u)" -ne 0 ]; then
  echo "run as root" >&2
  exit 1
fi

# PgBouncer runs as postgres and reads its auth file (passwords, mode 0600).
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
keep_owner postgres postgres 0640 @INI@
keep_owner postgres postgres 0600 @USERLIST@
keep_owner root root 0600 @EXPORTER_ENV@

systemctl daemon-reload
systemctl enable pgbouncer prometheus-pgbouncer-exporter
systemctl restart pgbouncer
systemctl restart prometheus-pgbouncer-exporter

echo "PgBouncer's file limit: $(grep 'Max open files' "/proc/$(systemctl show -p MainPID --value pgbouncer)/limits")"
runuser -u postgres -- psql -h @SOCKET_DIR@ -p @PORT@ -U pgbouncer -d pgbouncer -c 'SHOW CONFIG;' \
  | grep -E ' (pool_mode|max_client_conn|default_pool_size|reserve_pool_size|max_db_connections) '
echo "$name: PgBouncer on $ip:@PORT@ and 127.0.0.1:@PORT@, exporter on $ip:@EXPORTER_PORT@"
"##,
        &[
            ("@HEADER@", ctx.header(Comment::Hash)),
            (
                "@ABOUT@",
                Comment::Hash.lines(&format!(
                    "
Starts PgBouncer and its exporter on {} after prepare-host.sh (the database tier
may come later: PgBouncer connects on demand). Run as root; safe to run again.",
                    h.name
                )),
            ),
            ("@ASSIGN_NAME@", shell::assign("name", &h.name)),
            ("@ASSIGN_IP@", shell::assign("ip", &h.ip.to_string())),
            ("@INI@", PGBOUNCER_INI.to_string()),
            ("@USERLIST@", USERLIST.to_string()),
            ("@EXPORTER_ENV@", PGBOUNCER_EXPORTER_ENV.to_string()),
            ("@SOCKET_DIR@", SOCKET_DIR.to_string()),
            ("@PORT@", ports::PGBOUNCER.to_string()),
            ("@EXPORTER_PORT@", ports::PGBOUNCER_EXPORTER.to_string()),
        ],
    );
    File::new(
        format!("hosts/{}{SETUP_PGBOUNCER}", h.name),
        Scope::Role(Role::Synapse),
        "Run once on the Synapse host after prepare-host.sh: file ownership, PgBouncer, pgbouncer_exporter.",
        body,
    )
    .for_host(h)
    .script()
}

#[cfg(test)]
mod tests {
    use super::super::files;
    use super::super::tests::plan;
    use super::*;
    use crate::bundle::with_ctx;

    #[test]
    fn max_db_connections_follows_the_chain() {
        for (changes, expect) in [
            // Seed: 50 + 10 fits in 500 − 15.
            (&[][..], 60),
            // The pool exceeds what PostgreSQL leaves: 100 − 15 = 85.
            (
                &[
                    ("pgbouncer.default-pool-size", "200"),
                    ("postgres.max-connections", "100"),
                ][..],
                85,
            ),
            // No reserve pool.
            (&[("pgbouncer.reserve-pool-size", "0")][..], 50),
            // The reserve alone exceeds max_connections: still 1, never 0 (unlimited).
            (&[("postgres.max-connections", "10")][..], 1),
        ] {
            let p = plan(changes);
            assert_eq!(with_ctx(&p, max_db_connections), expect, "{changes:?}");
        }
    }

    #[test]
    fn nofile_covers_pgbouncer_and_never_lowers_the_default() {
        for (changes, fds, nofile) in [
            (&[][..], 1162, 65535),
            (
                &[
                    ("pgbouncer.max-client-conn", "100000"),
                    ("pgbouncer.default-pool-size", "100"),
                ][..],
                100_312,
                100_312,
            ),
        ] {
            let p = plan(changes);
            assert_eq!(with_ctx(&p, pgbouncer_expected_fds), fds, "{changes:?}");
            assert_eq!(with_ctx(&p, pgbouncer_nofile), nofile, "{changes:?}");
            with_ctx(&p, |ctx| {
                assert!(pgbouncer_nofile(ctx) >= ctx.report.connections.pgbouncer_file_descriptors)
            });
        }
    }

    #[test]
    fn pool_mode_decides_the_reset_query() {
        for (mode, reset) in [
            ("transaction", "server_reset_query =\n"),
            ("statement", "server_reset_query =\n"),
            ("session", "server_reset_query = DISCARD ALL\n"),
        ] {
            with_ctx(&plan(&[("pgbouncer.pool-mode", mode)]), |ctx| {
                let ini = files(ctx)
                    .into_iter()
                    .find(|f| f.path.ends_with("pgbouncer.ini"))
                    .expect("ini");
                assert!(ini.contents.contains(reset), "{mode}");
                assert!(
                    ini.contents.contains(&format!("\npool_mode = {mode}\n")),
                    "{mode}"
                );
            });
        }
    }
}
