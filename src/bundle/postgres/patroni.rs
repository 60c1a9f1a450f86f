//! Patroni on each Patroni host: its configuration (REST API, etcd, the settings shared
//! through the DCS with the plan's PostgreSQL parameters, this node's PostgreSQL), the
//! SQL it runs once after bootstrap (roles and Synapse's database), and the setup
//! script that starts etcd, Patroni and postgres_exporter.

use super::exporters::POSTGRES_EXPORTER_ENV;
use super::{
    CLUSTER, DATABASE, DB_USER, EXPORTER_ROLE, SOCKET_DIR, bin_dir, data_dir, fill, restore_command,
};
use crate::bundle::{Comment, Ctx, File, Scope, SecretId};
use crate::deploy::failover::{
    PATRONI_LOOP_WAIT_S, PATRONI_MAX_LAG_BYTES, PATRONI_RETRY_TIMEOUT_S, PATRONI_TTL_S,
};
use crate::deploy::{Host, ports};
use crate::plan::Role;
use crate::syntax::yaml::{Doc, Map, Node, Seq};
use crate::syntax::{shell, sql};

/// The Patroni configuration path Debian's patroni.service reads
/// (`ExecStart=/usr/bin/patroni` with this path, User=postgres).
pub(in crate::bundle) const PATRONI_CONFIG: &str = "/etc/patroni/config.yml";
/// The SQL Patroni runs once after bootstrap.
const POST_BOOTSTRAP_SQL: &str = "/etc/patroni/post-bootstrap.sql";
/// The script that starts the database tier on each Patroni host.
const SETUP_PATRONI: &str = "/usr/local/sbin/setup-patroni.sh";
const SUPERUSER: &str = "postgres";
const REPLICATION_USER: &str = "replicator";
const REST_USER: &str = "patroni";

/// A PostgreSQL value as a typed YAML node: an integer or a decimal number as a
/// number when it reads back as the same text, anything else a string (the emitter
/// quotes `on`, `16GB` and the like so they never become booleans or other types).
fn parameter_node(v: &str) -> Node {
    if let Ok(n) = v.parse::<u64>()
        && n.to_string() == v
    {
        return Node::UInt(n);
    }
    if v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && let Ok(x) = v.parse::<f64>()
        && crate::syntax::yaml::float(x) == v
    {
        return Node::Float(x);
    }
    Node::Str(v.to_string())
}

/// One parameter Patroni must set on top of the report's list, and why.
pub(super) struct Extra {
    pub name: &'static str,
    pub value: String,
    pub why: String,
}

/// WAL senders: every standby streams with one; a standby being rebuilt by
/// pg_basebackup (`-X stream`) takes two. At worst every other node is rebuilt at once,
/// plus two for a manual pg_basebackup: 2 × nodes. Never below PostgreSQL's default 10.
pub(super) fn max_wal_senders(nodes: u64) -> u64 {
    (2 * nodes).max(10)
}

/// Replication slots: Patroni keeps one per other member (use_slots) plus one spare;
/// never below PostgreSQL's default 10.
pub(super) fn max_replication_slots(nodes: u64) -> u64 {
    nodes.max(10)
}

/// What replication and pgBackRest need besides the report's parameters (which already
/// hold wal_level, hot_standby and wal_log_hints). Names never repeat the report's.
pub(super) fn extra_parameters(ctx: &Ctx) -> Vec<Extra> {
    let nodes = ctx.plan.host(Role::Patroni).count;
    let list = vec![
        Extra {
            name: "archive_mode",
            value: "on".into(),
            why: "continuous WAL archiving for point-in-time restore (pgBackRest user guide, Configure Archiving)".into(),
        },
        Extra {
            name: "archive_command",
            value: format!("pgbackrest --stanza={CLUSTER} archive-push %p"),
            why: "pgBackRest pushes each WAL segment to the repository on the backup host".into(),
        },
        Extra {
            name: "archive_timeout",
            value: "60s".into(),
            why: "a quiet database still archives a segment every minute, bounding data loss; PostgreSQL docs: \"a minute or so is usually reasonable\"".into(),
        },
        Extra {
            name: "max_wal_senders",
            value: max_wal_senders(nodes).to_string(),
            why: format!(
                "2 × {nodes} nodes: a sender per standby, two per standby rebuilt by pg_basebackup, at least 10; WAL senders do not count against max_connections (PostgreSQL 12+)"
            ),
        },
        Extra {
            name: "max_replication_slots",
            value: max_replication_slots(nodes).to_string(),
            why: format!("a slot per other member (Patroni use_slots) and a spare, at least 10 ({nodes} nodes)"),
        },
        Extra {
            name: "hot_standby_feedback",
            value: "on".into(),
            why: "the weekly pg_dump reads a standby for as long as it runs; without feedback, VACUUM replayed from the primary cancels it (recovery conflict)".into(),
        },
    ];
    list.into_iter()
        .filter(|e| {
            !ctx.report
                .postgres
                .parameters
                .iter()
                .any(|p| p.name == e.name)
        })
        .collect()
}

/// pg_hba lines, identical on every node: each role only from where it connects.
fn pg_hba(ctx: &Ctx) -> Vec<String> {
    let t = &ctx.topology;
    let mut rows: Vec<(String, String, String, String, String)> = Vec::new();
    let mut row = |kind: &str, db: &str, user: &str, addr: String, method: &str| {
        rows.push((kind.into(), db.into(), user.into(), addr, method.into()));
    };
    // Patroni, pgBackRest (through SSH, then the socket) and the restore scripts run as
    // the OS user postgres on the node itself.
    row("local", "all", SUPERUSER, String::new(), "peer");
    row(
        "host",
        "all",
        EXPORTER_ROLE,
        "127.0.0.1/32".into(),
        "scram-sha-256",
    );
    for h in ctx.hosts(Role::Patroni) {
        // pg_rewind runs as the superuser from a former primary against the new one.
        row(
            "host",
            "all",
            SUPERUSER,
            format!("{}/32", h.ip),
            "scram-sha-256",
        );
    }
    for h in ctx.hosts(Role::Patroni) {
        row(
            "host",
            "replication",
            REPLICATION_USER,
            format!("{}/32", h.ip),
            "scram-sha-256",
        );
    }
    // check_timeline: before a replica takes the leader key it reads its own timeline
    // over a replication connection to "localhost" (Patroni 3.0.2,
    // patroni/postgresql/__init__.py get_replica_timeline, local_replication_address).
    // Refused, the timeline is None and Patroni 3.0.2's ha.py _is_healthiest_node raises
    // TypeError on every cycle: no replica is ever promoted. Found by the lab's database
    // failover drill (docs/lab.md).
    row(
        "host",
        "replication",
        REPLICATION_USER,
        "127.0.0.1/32".into(),
        "scram-sha-256",
    );
    // Synapse arrives through PgBouncer → HAProxy (TCP): PostgreSQL sees the HAProxy
    // node's address (or the VIP when the kernel picks it as source).
    for h in ctx.hosts(Role::Haproxy) {
        row(
            "host",
            DATABASE,
            DB_USER,
            format!("{}/32", h.ip),
            "scram-sha-256",
        );
    }
    row(
        "host",
        DATABASE,
        DB_USER,
        format!("{}/32", t.vip),
        "scram-sha-256",
    );
    // Direct, for maintenance from the Synapse host and pg_dump from the backup host.
    for h in ctx.hosts(Role::Synapse).chain(ctx.hosts(Role::Backup)) {
        row(
            "host",
            DATABASE,
            DB_USER,
            format!("{}/32", h.ip),
            "scram-sha-256",
        );
    }
    rows.into_iter()
        .map(|(k, d, u, addr, m)| format!("{k:<6} {d:<12} {u:<18} {addr:<16} {m}"))
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// Patroni's `config.yml` on node `h`: the REST API, etcd, the cluster-wide
/// settings Patroni stores at bootstrap, and this node's PostgreSQL.
pub(super) fn patroni_config(ctx: &Ctx, h: &Host) -> File {
    let mut root = Map::new();
    root.insert("scope", CLUSTER);
    root.insert("name", &h.name);
    root.blank();
    root.insert("restapi", restapi(ctx, h));
    root.blank();

    root.comment(format!(
        "etcd runs on every Patroni host (client port {}); Patroni moves to another
member when one does not answer.",
        ports::ETCD_CLIENT
    ));
    let etcd_hosts: Seq = ctx
        .hosts(Role::Patroni)
        .map(|p| format!("{}:{}", p.ip, ports::ETCD_CLIENT))
        .collect();
    root.insert("etcd3", Map::new().with("hosts", etcd_hosts));
    root.blank();
    root.insert("bootstrap", bootstrap(ctx));
    root.blank();
    root.insert("postgresql", postgresql(ctx, h));

    let about = format!(
        "
Patroni on {name}. Debian's patroni package runs `patroni {PATRONI_CONFIG}` as user
postgres (/lib/systemd/system/patroni.service); setup-patroni.sh makes this file
postgres's own (mode 0600: it holds passwords) and starts etcd, then Patroni.

Every value that must be equal on all nodes is under bootstrap.dcs (DESIGN.md §3):
Patroni stores it in etcd when it initialises the cluster and ignores this section
afterwards. To change one later (after regenerating the bundle):
  patronictl -c {PATRONI_CONFIG} edit-config --pg name=value
  patronictl -c {PATRONI_CONFIG} restart {CLUSTER}   # for the ones that need a restart",
        name = h.name,
    );
    let o = Doc::new(root)
        .header(ctx.provenance())
        .header(about)
        .render();
    File::new(
        format!("hosts/{}{PATRONI_CONFIG}", h.name),
        Scope::Role(Role::Patroni),
        "Patroni: etcd, REST API, bootstrap.dcs with the plan's PostgreSQL parameters, pg_hba, authentication.",
        o,
    )
    .for_host(h)
    .secret()
}

/// `restapi`: where Patroni's REST API listens, and the login of its unsafe endpoints.
fn restapi(ctx: &Ctx, h: &Host) -> Map {
    let mut restapi = Map::new();
    restapi.comment(
        "GET /primary and /replica answer without authentication: HAProxy's health checks.",
    );
    restapi.insert("listen", format!("{}:{}", h.ip, ports::PATRONI_REST));
    restapi.insert(
        "connect_address",
        format!("{}:{}", h.ip, ports::PATRONI_REST),
    );
    restapi.comment(format!(
        "Basic auth for the unsafe endpoints (POST, PUT, PATCH, DELETE: switchover, restart,
reinitialise, configuration); patronictl -c {PATRONI_CONFIG} uses it too."
    ));
    restapi.insert(
        "authentication",
        Map::new()
            .with("username", REST_USER)
            .with("password", ctx.secret(SecretId::PatroniRestPassword)),
    );
    restapi
}

/// `bootstrap.dcs`: the settings every node shares, with the report's PostgreSQL
/// parameters and those replication and archiving add.
fn dcs(ctx: &Ctx) -> Map {
    let mut parameters = Map::new();
    parameters.comment(
        "synapse-planner's parameters for this plan (`synapse-planner report`), each
with how it was computed.",
    );
    for p in &ctx.report.postgres.parameters {
        parameters
            .insert(p.name, parameter_node(&p.value))
            .note(p.formula.as_str());
    }
    parameters.comment("Replication and pgBackRest archiving.");
    for e in extra_parameters(ctx) {
        parameters
            .insert(e.name, parameter_node(&e.value))
            .note(e.why);
    }
    let dcs_postgresql = Map::new()
        .commented(
            "A former primary rejoins with pg_rewind (needs wal_log_hints or data
checksums, both on) instead of a full copy.",
        )
        .with("use_pg_rewind", true)
        .commented(
            "Patroni keeps a replication slot per member, so the primary keeps the WAL a
standby still needs.",
        )
        .with("use_slots", true)
        .with("parameters", parameters);
    Map::new()
        .commented(format!(
            "Patroni's defaults, written out: the leader key lives {PATRONI_TTL_S} s, the HA loop runs every
{PATRONI_LOOP_WAIT_S} s, etcd and PostgreSQL calls are retried for {PATRONI_RETRY_TIMEOUT_S} s (loop_wait + 2 ×
retry_timeout ≤ ttl). A failed primary's key expires {} to {PATRONI_TTL_S} s after its death
and a replica is promoted at its next cycle: at most {} s.",
            PATRONI_TTL_S - PATRONI_LOOP_WAIT_S,
            PATRONI_TTL_S + PATRONI_LOOP_WAIT_S
        ))
        .with("ttl", PATRONI_TTL_S)
        .with("loop_wait", PATRONI_LOOP_WAIT_S)
        .with("retry_timeout", PATRONI_RETRY_TIMEOUT_S)
        .commented(format!(
            "Replication is asynchronous: a standby more than {} MiB of WAL behind is not
promoted, so a failover loses at most that much committed data.",
            PATRONI_MAX_LAG_BYTES / (1024 * 1024)
        ))
        .with("maximum_lag_on_failover", PATRONI_MAX_LAG_BYTES)
        .commented("A standby on an older timeline than the cluster's is never promoted.")
        .with("check_timeline", true)
        .with("postgresql", dcs_postgresql)
}

/// `bootstrap`: the shared settings, initdb's options, pg_hba and the post-bootstrap step.
fn bootstrap(ctx: &Ctx) -> Map {
    let initdb = Seq::new()
        .with(Map::new().with("encoding", "UTF8"))
        .with(Map::new().with("locale", "C.UTF-8"))
        .with("data-checksums");
    Map::new()
        .with("dcs", dcs(ctx))
        .commented(
            "initdb: UTF-8 and data checksums (pgBackRest verifies them on every backup).
Synapse's own database is created with the C collation by the post-bootstrap step.",
        )
        .with("initdb", initdb)
        .commented(
            "Patroni 3.0.2's --validate-config requires this list; both versions ignore it when
postgresql.pg_hba (below, the same lines) is set.",
        )
        .with("pg_hba", hba(ctx))
        .commented(
            "Run once on the new primary, after initdb (and after a restore from backup):
creates Synapse's role and database and the exporter's role. Patroni appends the
connection URL, which psql takes as its database argument.",
        )
        .with(
            "post_bootstrap",
            format!(
                "{}/psql -X -q -v ON_ERROR_STOP=1 -f {POST_BOOTSTRAP_SQL}",
                bin_dir(ctx)
            ),
        )
}

/// The pg_hba lines as a YAML list.
fn hba(ctx: &Ctx) -> Seq {
    pg_hba(ctx).into_iter().collect()
}

/// `postgresql`: this node's addresses, Debian's layout, the roles Patroni logs in as,
/// per-node parameters, pg_hba, and how replicas are made and catch up.
fn postgresql(ctx: &Ctx, h: &Host) -> Map {
    let v = ctx.plan.postgres.version;
    let superuser = || {
        Map::new()
            .with("username", SUPERUSER)
            .with("password", ctx.secret(SecretId::PostgresSuperuserPassword))
    };
    let authentication = Map::new()
        .with("superuser", superuser())
        .with(
            "replication",
            Map::new()
                .with("username", REPLICATION_USER)
                .with("password", ctx.secret(SecretId::ReplicationPassword)),
        )
        .commented(
            "pg_rewind runs as the superuser: with the superuser's own credentials here Patroni
creates no separate role (the same as leaving `rewind` out, which Patroni 3.0.2's
--validate-config refuses).",
        )
        .with("rewind", superuser());
    Map::new()
        .commented(
            "PostgreSQL on the private address (HAProxy, standbys, pg_rewind) and on loopback
(postgres_exporter).",
        )
        .with("listen", format!("{},127.0.0.1:{}", h.ip, ports::POSTGRES))
        .with("connect_address", format!("{}:{}", h.ip, ports::POSTGRES))
        .commented("Patroni's own connections use the Unix socket (peer authentication).")
        .with("use_unix_socket", true)
        .commented(format!("Debian's layout for PostgreSQL {v}."))
        .with("data_dir", data_dir(ctx))
        .with("bin_dir", bin_dir(ctx))
        .with("pgpass", format!("/var/lib/postgresql/{v}-main.pgpass"))
        .with("authentication", authentication)
        .commented(
            "Per node, not cluster-wide: Debian's socket directory and log files
(/var/log/postgresql, rotated by postgresql-common's logrotate rule).",
        )
        .with(
            "parameters",
            Map::new()
                .with("unix_socket_directories", SOCKET_DIR)
                .with("logging_collector", "on")
                .with("log_directory", "/var/log/postgresql")
                .with("log_filename", format!("postgresql-{v}-main.log")),
        )
        .commented(
            "Patroni writes pg_hba.conf from these lines on every node. Anything not listed is
refused.",
        )
        .with("pg_hba", hba(ctx))
        .commented(
            "New or reinitialised standbys copy the primary with pg_basebackup; a fast
checkpoint starts the copy at once (the cluster is short of a standby meanwhile).",
        )
        .with("create_replica_methods", Seq::new().with("basebackup"))
        .with("basebackup", Map::new().with("checkpoint", "fast"))
        .commented(
            "A standby that falls behind the primary's WAL catches up from the pgBackRest
archive on the backup host.",
        )
        .with(
            "recovery_conf",
            Map::new().with("restore_command", restore_command()),
        )
}

/// Roles, Synapse's database and the role defaults PgBouncer's transaction pooling needs.
/// Idempotent: it runs after initdb and again after a restore from backup. Names are
/// quoted identifiers or string literals, passwords string literals (`sql`).
pub(super) fn post_bootstrap_body(ctx: &Ctx) -> String {
    let create_database = format!(
        "CREATE DATABASE {} OWNER {} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
        sql::ident(DATABASE),
        sql::ident(DB_USER)
    );
    fill(
        r##"
-- Synapse's role and database. Synapse refuses a database whose collation is not C
-- (docs/postgres.md, "Set up database"): ENCODING UTF8, LC_COLLATE/LC_CTYPE 'C',
-- TEMPLATE template0.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = @USER_LITERAL@) THEN
    CREATE ROLE @USER@ LOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = @EXPORTER_LITERAL@) THEN
    CREATE ROLE @EXPORTER@ LOGIN;
  END IF;
END
$$;
ALTER ROLE @USER@ WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD @SYNAPSE_PW@;

-- Synapse SETs these when it opens a connection (synapse/storage/engines/postgres.py,
-- on_new_connection). Under PgBouncer's transaction pooling a server connection can
-- serve Synapse without ever having seen those SETs (matrix-org/synapse#4473): as
-- role defaults every server connection starts with Synapse's values. They are
-- Synapse's defaults (statement_timeout 10 min, idle_in_transaction_session_timeout
-- 30 min, bytea_output escape).
ALTER ROLE @USER@ SET bytea_output = 'escape';
ALTER ROLE @USER@ SET statement_timeout = '10min';
ALTER ROLE @USER@ SET idle_in_transaction_session_timeout = '30min';

SELECT @CREATE_DATABASE@
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = @DB_LITERAL@)
\gexec

-- postgres_exporter: read-only monitoring views (pg_monitor), nothing else.
ALTER ROLE @EXPORTER@ WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD @EXPORTER_PW@;
GRANT pg_monitor TO @EXPORTER@;
"##,
        &[
            ("@USER_LITERAL@", sql::literal(DB_USER)),
            ("@USER@", sql::ident(DB_USER)),
            ("@DB_LITERAL@", sql::literal(DATABASE)),
            ("@EXPORTER_LITERAL@", sql::literal(EXPORTER_ROLE)),
            ("@EXPORTER@", sql::ident(EXPORTER_ROLE)),
            ("@CREATE_DATABASE@", sql::literal(&create_database)),
            (
                "@SYNAPSE_PW@",
                sql::literal(ctx.secret(SecretId::SynapseDbPassword)),
            ),
            (
                "@EXPORTER_PW@",
                sql::literal(ctx.secret(SecretId::PostgresExporterPassword)),
            ),
        ],
    )
}

/// The post-bootstrap SQL file of Patroni host `h`.
pub(super) fn post_bootstrap_sql(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{}-- Run by Patroni's post_bootstrap on the new primary ({PATRONI_CONFIG}), as the
-- superuser: psql -f this file <connection URL>. Holds passwords: mode 0600, owned by
-- postgres (setup-patroni.sh).
{}",
        ctx.header(Comment::DoubleDash),
        post_bootstrap_body(ctx)
    );
    File::new(
        format!("hosts/{}{POST_BOOTSTRAP_SQL}", h.name),
        Scope::Role(Role::Patroni),
        "SQL Patroni runs once after bootstrap: roles synapse and postgres_exporter, database synapse (UTF8, C collation).",
        body,
    )
    .for_host(h)
    .secret()
}

/// setup-patroni.sh of Patroni host `h`: file ownership, etcd, Patroni, postgres_exporter.
pub(super) fn patroni_setup(ctx: &Ctx, h: &Host) -> File {
    let members: Vec<String> = ctx
        .hosts(Role::Patroni)
        .map(|p| format!("http://{}:{}", p.ip, ports::ETCD_CLIENT))
        .collect();
    let about = Comment::Hash.lines(&format!(
        "
Starts the database tier on {name}. Run as root on every Patroni host
({hosts}), after prepare-host.sh ran on all of them (their etcd
members then already run and form a majority). Patroni bootstraps the cluster on
whichever node takes the leader lock first (initdb, then {POST_BOOTSTRAP_SQL})
and the others clone it. Safe to run again.",
        name = h.name,
        hosts = ctx
            .hosts(Role::Patroni)
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    ));
    let body = fill(
        r##"#!/usr/bin/env bash
@HEADER@@ABOUT@set -euo pipefail

# This host's Patroni member name, its etcd client URL and every member's.
@ASSIGN_NAME@
@ASSIGN_SELF@
@ASSIGN_MEMBERS@

if [ "$(id -u)" -ne 0 ]; then
  echo "run as root" >&2
  exit 1
fi

# The packages' services may have started before this bundle's files were readable by
# them: Patroni runs as postgres and needs its configuration (passwords, mode 0600).
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
install -d -o postgres -g postgres -m 0750 /etc/patroni
keep_owner postgres postgres 0600 @CONFIG@
keep_owner postgres postgres 0600 @POST_SQL@
keep_owner root root 0600 @EXPORTER_ENV@
# pgBackRest's archive_command runs as postgres and spools WAL here.
install -d -o postgres -g postgres -m 0750 /var/spool/pgbackrest /var/log/pgbackrest
# The PostgreSQL package must not have created a cluster of its own in Patroni's data
# directory (createcluster.d prevents it; an earlier install may not have had it).
if [ -f /etc/postgresql/@VERSION@/main/postgresql.conf ]; then
  echo "a postgresql-common cluster @VERSION@/main exists: remove it first (pg_dropcluster --stop @VERSION@ main)" >&2
  exit 1
fi

systemctl daemon-reload
@ETCD_COMMENT@systemctl enable etcd
systemctl restart --no-block etcd
export ETCDCTL_API=3
healthy=""
for _ in $(seq 1 60); do
  if etcdctl --endpoints="$etcd_self" endpoint health > /dev/null 2>&1; then
    healthy=1
    break
  fi
  sleep 5
done
if [ -z "$healthy" ]; then
  echo "etcd on $name has no majority yet: run prepare-host.sh on the other Patroni hosts; Patroni waits for etcd" >&2
fi
etcdctl --endpoints="$etcd_members" endpoint health || true

systemctl enable patroni
systemctl reset-failed patroni || true
systemctl restart patroni
echo "waiting for Patroni on $name"
for _ in $(seq 1 60); do
  if patronictl -c @CONFIG@ list @CLUSTER@ 2>/dev/null | grep -F " $name " | grep -q 'running\|streaming'; then
    break
  fi
  sleep 5
done
patronictl -c @CONFIG@ list @CLUSTER@

systemctl enable prometheus-postgres-exporter
systemctl restart prometheus-postgres-exporter
echo "$name: etcd, Patroni and postgres_exporter (:@EXPORTER_PORT@) are running"
"##,
        &[
            ("@HEADER@", ctx.header(Comment::Hash)),
            ("@ABOUT@", about),
            (
                "@ETCD_COMMENT@",
                Comment::Hash.lines(&format!(
                    "etcd: start without waiting (a member alone waits for a majority), then poll this
member: it answers healthy once a majority of {} runs.",
                    members.join(",")
                )),
            ),
            ("@ASSIGN_NAME@", shell::assign("name", &h.name)),
            (
                "@ASSIGN_SELF@",
                shell::assign(
                    "etcd_self",
                    &format!("http://{}:{}", h.ip, ports::ETCD_CLIENT),
                ),
            ),
            (
                "@ASSIGN_MEMBERS@",
                shell::assign("etcd_members", &members.join(",")),
            ),
            ("@CONFIG@", PATRONI_CONFIG.to_string()),
            ("@POST_SQL@", POST_BOOTSTRAP_SQL.to_string()),
            ("@EXPORTER_ENV@", POSTGRES_EXPORTER_ENV.to_string()),
            ("@VERSION@", ctx.plan.postgres.version.to_string()),
            ("@CLUSTER@", CLUSTER.to_string()),
            ("@EXPORTER_PORT@", ports::POSTGRES_EXPORTER.to_string()),
        ],
    );
    File::new(
        format!("hosts/{}{SETUP_PATRONI}", h.name),
        Scope::Role(Role::Patroni),
        "Run once on each Patroni host after prepare-host.sh: file ownership, etcd, Patroni, postgres_exporter.",
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
    use crate::plan::Plan;

    #[test]
    fn replication_limits() {
        for (nodes, senders, slots) in [
            (1, 10, 10),
            (3, 10, 10),
            (5, 10, 10),
            (7, 14, 10),
            (15, 30, 15),
        ] {
            assert_eq!(max_wal_senders(nodes), senders, "{nodes}");
            assert_eq!(max_replication_slots(nodes), slots, "{nodes}");
            assert!(max_replication_slots(nodes) > nodes - 1);
            assert!(max_wal_senders(nodes) >= 2 * (nodes - 1));
        }
    }

    #[test]
    fn extra_parameters_never_repeat_the_report() {
        with_ctx(&Plan::default(), |ctx| {
            let extra: Vec<&str> = extra_parameters(ctx).iter().map(|e| e.name).collect();
            assert_eq!(
                extra,
                [
                    "archive_mode",
                    "archive_command",
                    "archive_timeout",
                    "max_wal_senders",
                    "max_replication_slots",
                    "hot_standby_feedback"
                ]
            );
            for e in &extra {
                assert!(!ctx.report.postgres.parameters.iter().any(|p| p.name == *e));
            }
        });
    }

    #[test]
    fn parameter_nodes_keep_their_types() {
        for (v, expect) in [
            ("500", Node::UInt(500)),
            ("0", Node::UInt(0)),
            ("0.9", Node::Float(0.9)),
            ("0.05", Node::Float(0.05)),
            ("on", Node::Str("on".into())),
            ("16GB", Node::Str("16GB".into())),
            ("007", Node::Str("007".into())),
            ("0.90", Node::Str("0.90".into())),
            ("1e3", Node::Str("1e3".into())),
            ("it's", Node::Str("it's".into())),
            ("", Node::Str(String::new())),
        ] {
            assert_eq!(parameter_node(v), expect, "{v}");
        }
        let doc = Doc::new(
            Map::new()
                .with("a", parameter_node("0.9"))
                .with("b", parameter_node("on"))
                .with("c", parameter_node("16GB")),
        );
        assert_eq!(doc.render(), "a: 0.9\nb: 'on'\nc: '16GB'\n");
    }

    #[test]
    fn patroni_config_has_every_parameter_once_and_every_member() {
        with_ctx(&plan(&[("hosts.patroni.count", "5")]), |ctx| {
            let files = files(ctx);
            let cfg = files
                .iter()
                .find(|f| f.path == format!("hosts/patroni2{PATRONI_CONFIG}"))
                .expect("config");
            for p in &ctx.report.postgres.parameters {
                assert_eq!(
                    cfg.contents
                        .matches(&format!("\n        {}: ", p.name))
                        .count(),
                    1,
                    "{}",
                    p.name
                );
            }
            for h in ctx.hosts(Role::Patroni) {
                assert!(cfg.contents.contains(&format!("    - '{}:2379'\n", h.ip)));
                assert!(
                    cfg.contents
                        .contains(&format!("replication  replicator         {}/32", h.ip))
                );
            }
            assert!(cfg.contents.contains("listen: '10.0.1.29:8008'"));
            assert_eq!(cfg.mode, 0o600);
            let etcd = files
                .iter()
                .find(|f| f.path == format!("hosts/patroni2{}", super::super::etcd::ETCD_ENV))
                .expect("etcd");
            assert!(etcd.contents.contains("ETCD_INITIAL_CLUSTER='patroni1=http://10.0.1.28:2380,patroni2=http://10.0.1.29:2380,patroni3=http://10.0.1.30:2380,patroni4=http://10.0.1.31:2380,patroni5=http://10.0.1.32:2380'\n"));
        });
    }
}
