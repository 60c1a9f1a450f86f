//! The database tier (DESIGN.md §2, §3): on each Patroni host, Patroni's configuration,
//! etcd (Patroni's DCS), the switch that keeps Debian's postgresql-common from creating
//! a cluster of its own, the roles and database created once at bootstrap,
//! postgres_exporter and a setup script; on the Synapse host, PgBouncer (its ini, auth
//! file and file-descriptor limit) and its exporter.
//!
//! Versions targeted: Debian 12's patroni 3.0.2 (and Patroni 4.1, which the tests run),
//! etcd-server 3.4, postgresql-common 248, pgbouncer 1.18, prometheus-postgres-exporter
//! 0.11 and prometheus-pgbouncer-exporter 1.7.

use super::{Comment, Ctx, File, Host, Scope, SecretId, ports};
use crate::assumptions as a;
use crate::plan::{PoolMode, Role};
use crate::sizing::descriptors;
use crate::syntax::conf::{self, Format};
use crate::syntax::yaml::{Doc, Map, Node, Seq};
use crate::syntax::{shell, sql};
use std::fmt::Write;

/// Patroni's cluster name (`scope`), also pgBackRest's stanza.
pub(super) const CLUSTER: &str = "synapse";
/// Synapse's database and its role.
pub(super) const DATABASE: &str = "synapse";
pub(super) const DB_USER: &str = "synapse";
const SUPERUSER: &str = "postgres";
const REPLICATION_USER: &str = "replicator";
const REST_USER: &str = "patroni";
const EXPORTER_ROLE: &str = "postgres_exporter";
/// PgBouncer's stats user (SHOW commands only), for pgbouncer_exporter.
pub(super) const PGBOUNCER_STATS_USER: &str = "pgbouncer_stats";
/// Where Debian's PostgreSQL packages put the server's Unix socket.
pub(super) const SOCKET_DIR: &str = "/var/run/postgresql";
/// The Patroni configuration path Debian's patroni.service reads
/// (`ExecStart=/usr/bin/patroni /etc/patroni/config.yml`, User=postgres).
pub(super) const PATRONI_CONFIG: &str = "/etc/patroni/config.yml";
const POST_BOOTSTRAP_SQL: &str = "/etc/patroni/post-bootstrap.sql";
const USERLIST: &str = "/etc/pgbouncer/userlist.txt";
const EXPORTER_ENV: &str = "/etc/default/prometheus-pgbouncer-exporter-synapse-planner";
const EXPORTER_SHIM: &str = "/usr/local/lib/synapse-planner/pgbouncer_exporter.py";

/// Patroni's data directory: Debian's layout, `/var/lib/postgresql/<version>/main`.
pub(super) fn data_dir(ctx: &Ctx) -> String {
    format!("/var/lib/postgresql/{}/main", ctx.plan.postgres.version)
}

/// PostgreSQL's programs on Debian: `/usr/lib/postgresql/<version>/bin`.
pub(super) fn bin_dir(ctx: &Ctx) -> String {
    format!("/usr/lib/postgresql/{}/bin", ctx.plan.postgres.version)
}

/// `pgbackrest … archive-get` as PostgreSQL's restore_command (pgBackRest user guide).
pub(super) fn restore_command() -> String {
    format!("pgbackrest --stanza={CLUSTER} archive-get %f \"%p\"")
}

pub fn files(ctx: &Ctx) -> Vec<File> {
    let mut out = Vec::new();
    for h in ctx.hosts(Role::Patroni) {
        out.push(patroni_config(ctx, h));
        out.push(post_bootstrap_sql(ctx, h));
        out.push(etcd_env(ctx, h));
        out.push(no_main_cluster(ctx, h));
        out.push(postgres_exporter_env(ctx, h));
        out.push(patroni_setup(ctx, h));
    }
    for h in ctx.hosts(Role::Synapse) {
        out.push(pgbouncer_ini(ctx, h));
        out.push(pgbouncer_userlist(ctx, h));
        out.push(pgbouncer_limits(ctx, h));
        out.push(pgbouncer_exporter_conf(ctx, h));
        out.push(pgbouncer_exporter_env(ctx, h));
        out.push(pgbouncer_exporter_dropin(ctx, h));
        out.push(pgbouncer_exporter_shim(ctx, h));
        out.push(pgbouncer_setup(ctx, h));
    }
    out
}

/// Replaces `@NAME@` placeholders in one pass over `template`: scripts keep their shell
/// braces readable. A value is never scanned again, so text inside a value that looks
/// like a placeholder stays as it is. Every value is already written by its syntax's
/// writer (a quoted shell word, comment lines, a number or a generator constant).
pub(super) fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match values.iter().find(|(k, _)| rest.starts_with(k)) {
            Some((k, v)) => {
                out.push_str(v);
                rest = &rest[k.len()..];
            }
            None => {
                out.push('@');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

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

fn patroni_config(ctx: &Ctx, h: &Host) -> File {
    let v = ctx.plan.postgres.version;
    let bin = bin_dir(ctx);
    let hba = || -> Seq { pg_hba(ctx).into_iter().collect() };

    let mut root = Map::new();
    root.insert("scope", CLUSTER);
    root.insert("name", &h.name);
    root.blank();

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
    root.insert("restapi", restapi);
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
    let dcs = Map::new()
        .commented(
            "Patroni's defaults, written out: the leader key lives 30 s, the HA loop runs every
10 s, etcd and PostgreSQL calls are retried for 10 s (loop_wait + 2 × retry_timeout
≤ ttl). A failed primary is replaced after at most ~30 s.",
        )
        .with("ttl", 30u64)
        .with("loop_wait", 10u64)
        .with("retry_timeout", 10u64)
        .commented(
            "Replication is asynchronous: a standby more than 1 MiB of WAL behind is not
promoted, so a failover loses at most that much committed data.",
        )
        .with("maximum_lag_on_failover", 1_048_576u64)
        .commented("A standby on an older timeline than the cluster's is never promoted.")
        .with("check_timeline", true)
        .with("postgresql", dcs_postgresql);
    let initdb = Seq::new()
        .with(Map::new().with("encoding", "UTF8"))
        .with(Map::new().with("locale", "C.UTF-8"))
        .with("data-checksums");
    let bootstrap = Map::new()
        .with("dcs", dcs)
        .commented(
            "initdb: UTF-8 and data checksums (pgBackRest verifies them on every backup).
Synapse's own database is created with the C collation by the post-bootstrap step.",
        )
        .with("initdb", initdb)
        .commented(
            "Patroni 3.0.2's --validate-config requires this list; both versions ignore it when
postgresql.pg_hba (below, the same lines) is set.",
        )
        .with("pg_hba", hba())
        .commented(
            "Run once on the new primary, after initdb (and after a restore from backup):
creates Synapse's role and database and the exporter's role. Patroni appends the
connection URL, which psql takes as its database argument.",
        )
        .with(
            "post_bootstrap",
            format!("{bin}/psql -X -q -v ON_ERROR_STOP=1 -f {POST_BOOTSTRAP_SQL}"),
        );
    root.insert("bootstrap", bootstrap);
    root.blank();

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
    let postgresql = Map::new()
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
        .with("bin_dir", bin.as_str())
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
        .with("pg_hba", hba())
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
        );
    root.insert("postgresql", postgresql);

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
        format!("hosts/{}/etc/patroni/config.yml", h.name),
        Scope::Role(Role::Patroni),
        "Patroni: etcd, REST API, bootstrap.dcs with the plan's PostgreSQL parameters, pg_hba, authentication.",
        o,
    )
    .for_host(h)
    .secret()
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

fn post_bootstrap_sql(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{}-- Run by Patroni's post_bootstrap on the new primary ({PATRONI_CONFIG}), as the
-- superuser: psql -f this file <connection URL>. Holds passwords: mode 0600, owned by
-- postgres (setup-patroni.sh).
{}",
        ctx.header(Comment::DoubleDash),
        post_bootstrap_body(ctx)
    );
    File::new(
        format!("hosts/{}/etc/patroni/post-bootstrap.sql", h.name),
        Scope::Role(Role::Patroni),
        "SQL Patroni runs once after bootstrap: roles synapse and postgres_exporter, database synapse (UTF8, C collation).",
        body,
    )
    .for_host(h)
    .secret()
}

fn etcd_env(ctx: &Ctx, h: &Host) -> File {
    let env = |s: &str| Format::EnvFile.value(s);
    let cluster: Vec<String> = ctx
        .hosts(Role::Patroni)
        .map(|p| format!("{}=http://{}:{}", p.name, p.ip, ports::ETCD_PEER))
        .collect();
    let peer_url = format!("http://{}:{}", h.ip, ports::ETCD_PEER);
    let client_url = format!("http://{}:{}", h.ip, ports::ETCD_CLIENT);
    let body = format!(
        "{header}{about}ETCD_NAME={name}
ETCD_DATA_DIR=/var/lib/etcd/default
ETCD_LISTEN_PEER_URLS={peer_url}
{client_comment}ETCD_LISTEN_CLIENT_URLS={client_url}
ETCD_INITIAL_ADVERTISE_PEER_URLS={peer_url}
ETCD_ADVERTISE_CLIENT_URLS={client_url}
# Every Patroni host is a member. `new` is for the first start only: a member that
# replaces a lost one joins with `etcdctl member add` and ETCD_INITIAL_CLUSTER_STATE=existing.
ETCD_INITIAL_CLUSTER={cluster}
ETCD_INITIAL_CLUSTER_STATE=new
ETCD_INITIAL_CLUSTER_TOKEN={token}
# Patroni rewrites its leader key every loop (10 s): without compaction etcd keeps every
# revision until it reaches its 2 GB quota and refuses writes, and Patroni then demotes
# the primary. Keep one hour of history (etcd docs, Maintenance: auto compaction).
ETCD_AUTO_COMPACTION_MODE=periodic
ETCD_AUTO_COMPACTION_RETENTION=1h
",
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "etcd member {name}: Patroni's DCS. Debian's etcd-server (3.4) reads this file as the
environment of etcd.service (EnvironmentFile=-/etc/default/etcd). Plain HTTP on the
private subnet: only the Patroni hosts need to reach ports {client} and {peer}.",
            name = h.name,
            client = ports::ETCD_CLIENT,
            peer = ports::ETCD_PEER,
        )),
        client_comment = Comment::Hash.lines(&format!(
            "The private address only: Patroni and etcdctl name the members' addresses
(etcdctl --endpoints={client_url},…)."
        )),
        name = env(&h.name),
        peer_url = env(&peer_url),
        client_url = env(&client_url),
        cluster = env(&cluster.join(",")),
        token = env(&format!("synapse-planner-{}", ctx.topology.server_name)),
    );
    File::new(
        format!("hosts/{}/etc/default/etcd", h.name),
        Scope::Role(Role::Patroni),
        "etcd member environment: listens on this host's address, initial cluster of every Patroni host, auto compaction.",
        body,
    )
    .for_host(h)
}

fn no_main_cluster(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{}# Patroni creates and runs this host's PostgreSQL cluster: the postgresql-{v} package
# must not create its own `main` cluster (in the data directory Patroni uses) when it is
# installed. postgresql-common reads this directory from
# /etc/postgresql-common/createcluster.conf (include_dir) and its maintainer scripts skip
# pg_createcluster when create_main_cluster is off.
create_main_cluster = false
",
        ctx.header(Comment::Hash),
        v = ctx.plan.postgres.version,
    );
    File::new(
        format!(
            "hosts/{}/etc/postgresql-common/createcluster.d/00-synapse-planner.conf",
            h.name
        ),
        Scope::Role(Role::Patroni),
        "Stops the PostgreSQL package from creating a `main` cluster of its own (Patroni creates it).",
        body,
    )
    .for_host(h)
}

/// postgres_exporter's connection: the exporter builds the URL itself from the user,
/// the password (escaped by its URL library) and the rest, so no secret is ever spliced
/// into a URL (postgres_exporter README: DATA_SOURCE_URI, DATA_SOURCE_USER,
/// DATA_SOURCE_PASS, read when DATA_SOURCE_NAME is unset).
fn postgres_exporter_env(ctx: &Ctx, h: &Host) -> File {
    let env = |s: &str| Format::EnvFile.value(s);
    let body = format!(
        "{header}{about}DATA_SOURCE_URI={uri}
DATA_SOURCE_USER={user}
DATA_SOURCE_PASS={pw}
{listen_comment}ARGS={args}
",
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "postgres_exporter on {name} (Debian prometheus-postgres-exporter 0.11 reads this file:
EnvironmentFile=/etc/default/prometheus-postgres-exporter). It connects over loopback as
role {EXPORTER_ROLE} (pg_monitor, created by Patroni's post-bootstrap step), which
pg_hba allows from 127.0.0.1 only. Works on the primary and on standbys. The exporter
builds the connection URL from these three (user and password escaped).",
            name = h.name,
        )),
        uri = env(&format!(
            "127.0.0.1:{}/postgres?sslmode=disable",
            ports::POSTGRES
        )),
        user = env(EXPORTER_ROLE),
        pw = env(ctx.secret(SecretId::PostgresExporterPassword)),
        listen_comment = Comment::Hash.lines(&format!(
            "Metrics on the private address only; Prometheus scrapes {}:{}.",
            h.ip,
            ports::POSTGRES_EXPORTER
        )),
        args = env(&format!(
            "--web.listen-address={}:{}",
            h.ip,
            ports::POSTGRES_EXPORTER
        )),
    );
    File::new(
        format!("hosts/{}/etc/default/prometheus-postgres-exporter", h.name),
        Scope::Role(Role::Patroni),
        "postgres_exporter: DATA_SOURCE_URI/USER/PASS for role postgres_exporter over loopback, listen address.",
        body,
    )
    .for_host(h)
    .secret()
}

fn patroni_setup(ctx: &Ctx, h: &Host) -> File {
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
keep_owner root root 0600 /etc/default/prometheus-postgres-exporter
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
            ("@VERSION@", ctx.plan.postgres.version.to_string()),
            ("@CLUSTER@", CLUSTER.to_string()),
            ("@EXPORTER_PORT@", ports::POSTGRES_EXPORTER.to_string()),
        ],
    );
    File::new(
        format!("hosts/{}/usr/local/sbin/setup-patroni.sh", h.name),
        Scope::Role(Role::Patroni),
        "Run once on each Patroni host after prepare-host.sh: file ownership, etcd, Patroni, postgres_exporter.",
        body,
    )
    .for_host(h)
    .script()
}

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

fn pgbouncer_ini(ctx: &Ctx, h: &Host) -> File {
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
; no limit on a query: Synapse sets statement_timeout (10 min) itself;
query_timeout = 0
; a client that waited 2 minutes for a server connection gets an error instead of
; hanging (a pool too small, or no primary).
query_wait_timeout = 120
; Synapse's pooled connections are long-lived: never close an idle client (default).
client_idle_timeout = 0

; File descriptors: PgBouncer expects up to {fds} (its own estimate: max_client_conn + 10
; + pool × its 3 users + the admin console's 2); pgbouncer.service gets LimitNOFILE={nofile}
; (/etc/systemd/system/pgbouncer.service.d/90-synapse-planner.conf).
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
    );
    File::new(
        format!("hosts/{}/etc/pgbouncer/pgbouncer.ini", h.name),
        Scope::Role(Role::Synapse),
        "PgBouncer: Synapse's database through the VIP, the plan's pool mode and pools, SCRAM auth, timeouts.",
        o,
    )
    .for_host(h)
}

fn pgbouncer_userlist(ctx: &Ctx, h: &Host) -> File {
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

fn pgbouncer_limits(ctx: &Ctx, h: &Host) -> File {
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
        default = a::NOFILE_LIMIT.value as u64,
        nofile = pgbouncer_nofile(ctx),
    );
    File::new(
        format!(
            "hosts/{}/etc/systemd/system/pgbouncer.service.d/90-synapse-planner.conf",
            h.name
        ),
        Scope::Role(Role::Synapse),
        "systemd drop-in: PgBouncer's open-file limit for max_client_conn.",
        body,
    )
    .for_host(h)
}

fn pgbouncer_exporter_conf(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{}# prometheus-pgbouncer-exporter (Debian 1.7; its unit sets
# CONFIG=/etc/prometheus-pgbouncer-exporter.conf). `key = value`, as its command-line
# options. The password comes from PGPASSWORD (systemd drop-in, file mode 0600).

# Metrics on the private address, where Prometheus scrapes them.
host = {ip}
port = {export_port}

# PgBouncer's admin console over loopback, as the stats user (SHOW only).
pgbouncer-host = 127.0.0.1
pgbouncer-port = {port}
pgbouncer-user = {user}
",
        ctx.header(Comment::Hash),
        ip = Format::Words.value(&h.ip.to_string()),
        user = Format::Words.value(PGBOUNCER_STATS_USER),
        export_port = ports::PGBOUNCER_EXPORTER,
        port = ports::PGBOUNCER,
    );
    File::new(
        format!("hosts/{}/etc/prometheus-pgbouncer-exporter.conf", h.name),
        Scope::Role(Role::Synapse),
        "pgbouncer_exporter: listen address, PgBouncer's admin console as the stats user.",
        body,
    )
    .for_host(h)
}

fn pgbouncer_exporter_env(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{}# Environment of prometheus-pgbouncer-exporter (read by systemd as root; the
# exporter's libpq takes the password from PGPASSWORD).
PGPASSWORD={}
",
        ctx.header(Comment::Hash),
        Format::EnvFile.value(ctx.secret(SecretId::PgbouncerStatsPassword)),
    );
    File::new(
        format!("hosts/{}{EXPORTER_ENV}", h.name),
        Scope::Role(Role::Synapse),
        "pgbouncer_exporter's password for PgBouncer's stats user.",
        body,
    )
    .for_host(h)
    .secret()
}

fn pgbouncer_exporter_dropin(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{}# Debian's unit has no EnvironmentFile: add the one holding PGPASSWORD; start the
# packaged exporter through {EXPORTER_SHIM}, which makes it read
# PgBouncer 1.18's SHOW STATS (see there); restart it when it fails (PgBouncer
# restarting, for one).
[Service]
EnvironmentFile={EXPORTER_ENV}
ExecStart=
ExecStart=/usr/bin/python3 {EXPORTER_SHIM}
Restart=on-failure
RestartSec=5
",
        ctx.header(Comment::Hash),
    );
    File::new(
        format!(
            "hosts/{}/etc/systemd/system/prometheus-pgbouncer-exporter.service.d/90-synapse-planner.conf",
            h.name
        ),
        Scope::Role(Role::Synapse),
        "systemd drop-in: pgbouncer_exporter's password file and restart policy.",
        body,
    )
    .for_host(h)
}

/// Debian 12's prometheus-pgbouncer-exporter (1.7, 2016) reads SHOW STATS' column
/// `total_requests`, which PgBouncer replaced with `total_query_count` in 1.8; with
/// Debian 12's PgBouncer 1.18 it dies at start (KeyError, found by this bundle's tests).
/// This starts the packaged exporter with the column renamed and the pool columns that
/// show saturation added. Python, run by `python3` (not a script of its own).
fn pgbouncer_exporter_shim(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r##"{}#
# prometheus-pgbouncer-exporter 1.7 (Debian 12) with PgBouncer 1.18 (Debian 12): the
# exporter reads the column total_requests of SHOW STATS, which PgBouncer renamed
# total_query_count in 1.8, and stops at start with KeyError: 'total_requests'. This
# starts the packaged exporter (its configuration, port and metric names) with the
# column's new name, and adds the pool columns that show saturation: server
# connections in use and idle, and how long the oldest waiting client has waited.
# Started by the exporter's systemd drop-in: ExecStart=/usr/bin/python3 {EXPORTER_SHIM}
import sys

from prometheus_pgbouncer_exporter import cli, collectors

stats = collectors.StatsCollector.metrics
if "total_requests" in stats:
    stats["total_query_count"] = stats.pop("total_requests")
stats["total_xact_count"] = (
    "transactions_total",
    "Total number of SQL transactions pooled by pgbouncer",
)
pools = collectors.PoolsCollector.metrics
pools["sv_active"] = ("active_servers", "Server connections linked to a client")
pools["sv_idle"] = ("idle_servers", "Server connections unused and immediately usable")
pools["maxwait"] = ("max_wait_seconds", "How long the oldest waiting client has waited")

sys.exit(cli.main())
"##,
        ctx.header(Comment::Hash)
    );
    File::new(
        format!("hosts/{}{EXPORTER_SHIM}", h.name),
        Scope::Role(Role::Synapse),
        "Makes Debian 12's pgbouncer_exporter read PgBouncer 1.18 (a renamed SHOW STATS column) and adds pool saturation metrics.",
        body,
    )
    .for_host(h)
}

fn pgbouncer_setup(ctx: &Ctx, h: &Host) -> File {
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
keep_owner postgres postgres 0640 /etc/pgbouncer/pgbouncer.ini
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
            ("@USERLIST@", USERLIST.to_string()),
            ("@EXPORTER_ENV@", EXPORTER_ENV.to_string()),
            ("@SOCKET_DIR@", SOCKET_DIR.to_string()),
            ("@PORT@", ports::PGBOUNCER.to_string()),
            ("@EXPORTER_PORT@", ports::PGBOUNCER_EXPORTER.to_string()),
        ],
    );
    File::new(
        format!("hosts/{}/usr/local/sbin/setup-pgbouncer.sh", h.name),
        Scope::Role(Role::Synapse),
        "Run once on the Synapse host after prepare-host.sh: file ownership, PgBouncer, pgbouncer_exporter.",
        body,
    )
    .for_host(h)
    .script()
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
    fn fill_never_rescans_a_value() {
        assert_eq!(
            fill(
                "@A@ @B@ user@host @",
                &[("@A@", "x @B@".into()), ("@B@", "y".into())]
            ),
            "x @B@ y user@host @"
        );
    }

    #[test]
    fn patroni_config_has_every_parameter_once_and_every_member() {
        with_ctx(&plan(&[("hosts.patroni.count", "5")]), |ctx| {
            let files = files(ctx);
            let cfg = files
                .iter()
                .find(|f| f.path == "hosts/patroni2/etc/patroni/config.yml")
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
                .find(|f| f.path == "hosts/patroni2/etc/default/etcd")
                .expect("etcd");
            assert!(etcd.contents.contains("ETCD_INITIAL_CLUSTER='patroni1=http://10.0.1.28:2380,patroni2=http://10.0.1.29:2380,patroni3=http://10.0.1.30:2380,patroni4=http://10.0.1.31:2380,patroni5=http://10.0.1.32:2380'\n"));
        });
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
    /// Values no validation would let through never change a file's structure: the
    /// server name in etcd's token stays one quoted env-file value, and Patroni's
    /// configuration reads back with the same keys.
    #[test]
    fn hostile_values_stay_values() {
        with_ctx(&crate::bundle::hostile_plan(), |ctx| {
            crate::bundle::assert_no_injected_line(&files(ctx), &["#", ";", "--"]);
            let etcd = files(ctx)
                .into_iter()
                .find(|f| f.path == "hosts/patroni1/etc/default/etcd")
                .expect("etcd");
            let token = etcd
                .contents
                .lines()
                .find(|l| l.starts_with("ETCD_INITIAL_CLUSTER_TOKEN="))
                .expect("token");
            assert!(
                token.starts_with("ETCD_INITIAL_CLUSTER_TOKEN='synapse-planner-e\u{FFFD}v")
                    && token.ends_with('\''),
                "{token}"
            );
            let cfg = files(ctx)
                .into_iter()
                .find(|f| f.path == "hosts/patroni1/etc/patroni/config.yml")
                .expect("config");
            let y: serde_yaml::Value = serde_yaml::from_str(&cfg.contents).expect("yaml");
            let keys: Vec<&str> = y
                .as_mapping()
                .expect("map")
                .keys()
                .filter_map(|k| k.as_str())
                .collect();
            assert_eq!(
                keys,
                [
                    "scope",
                    "name",
                    "restapi",
                    "etcd3",
                    "bootstrap",
                    "postgresql"
                ]
            );
        });
    }
}
