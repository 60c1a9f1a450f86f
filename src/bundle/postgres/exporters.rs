//! The exporters of the database tier: postgres_exporter on each Patroni host and
//! pgbouncer_exporter on the Synapse host (its configuration, password, systemd drop-in
//! and the shim that makes Debian 12's exporter read PgBouncer 1.18).

use super::{EXPORTER_ROLE, PGBOUNCER_STATS_USER};
use crate::bundle::{Comment, Ctx, File, Scope, SecretId};
use crate::deploy::{Host, ports};
use crate::plan::Role;
use crate::syntax::conf::Format;

/// postgres_exporter's environment (Debian's unit reads it: `EnvironmentFile=`).
pub(super) const POSTGRES_EXPORTER_ENV: &str = "/etc/default/prometheus-postgres-exporter";
/// pgbouncer_exporter's configuration (Debian's unit sets `CONFIG=` to it).
const PGBOUNCER_EXPORTER_CONF: &str = "/etc/prometheus-pgbouncer-exporter.conf";
/// pgbouncer_exporter's password, read by systemd (EnvironmentFile).
pub(super) const PGBOUNCER_EXPORTER_ENV: &str =
    "/etc/default/prometheus-pgbouncer-exporter-synapse-planner";
/// The systemd drop-in of pgbouncer_exporter.
const PGBOUNCER_EXPORTER_DROPIN: &str =
    "/etc/systemd/system/prometheus-pgbouncer-exporter.service.d/90-synapse-planner.conf";
/// The shim that starts the packaged pgbouncer_exporter with PgBouncer 1.18's columns.
const PGBOUNCER_EXPORTER_SHIM: &str = "/usr/local/lib/synapse-planner/pgbouncer_exporter.py";

/// postgres_exporter's connection: the exporter builds the URL itself from the user,
/// the password (escaped by its URL library) and the rest, so no secret is ever spliced
/// into a URL (postgres_exporter README: DATA_SOURCE_URI, DATA_SOURCE_USER,
/// DATA_SOURCE_PASS, read when DATA_SOURCE_NAME is unset).
pub(super) fn postgres_exporter_env(ctx: &Ctx, h: &Host) -> File {
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
EnvironmentFile={POSTGRES_EXPORTER_ENV}). It connects over loopback as
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
        format!("hosts/{}{POSTGRES_EXPORTER_ENV}", h.name),
        Scope::Role(Role::Patroni),
        "postgres_exporter: DATA_SOURCE_URI/USER/PASS for role postgres_exporter over loopback, listen address.",
        body,
    )
    .for_host(h)
    .secret()
}

/// pgbouncer_exporter's configuration: where it listens, how it reaches PgBouncer.
pub(super) fn pgbouncer_exporter_conf(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{}# prometheus-pgbouncer-exporter (Debian 1.7; its unit sets
# CONFIG={PGBOUNCER_EXPORTER_CONF}). `key = value`, as its command-line
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
        format!("hosts/{}{PGBOUNCER_EXPORTER_CONF}", h.name),
        Scope::Role(Role::Synapse),
        "pgbouncer_exporter: listen address, PgBouncer's admin console as the stats user.",
        body,
    )
    .for_host(h)
}

/// pgbouncer_exporter's password, as the environment systemd gives it.
pub(super) fn pgbouncer_exporter_env(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{}# Environment of prometheus-pgbouncer-exporter (read by systemd as root; the
# exporter's libpq takes the password from PGPASSWORD).
PGPASSWORD={}
",
        ctx.header(Comment::Hash),
        Format::EnvFile.value(ctx.secret(SecretId::PgbouncerStatsPassword)),
    );
    File::new(
        format!("hosts/{}{PGBOUNCER_EXPORTER_ENV}", h.name),
        Scope::Role(Role::Synapse),
        "pgbouncer_exporter's password for PgBouncer's stats user.",
        body,
    )
    .for_host(h)
    .secret()
}

/// pgbouncer_exporter's systemd drop-in: password file, the shim, restarts.
pub(super) fn pgbouncer_exporter_dropin(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{}# Debian's unit has no EnvironmentFile: add the one holding PGPASSWORD; start the
# packaged exporter through {PGBOUNCER_EXPORTER_SHIM}, which makes it read
# PgBouncer 1.18's SHOW STATS (see there); restart it when it fails (PgBouncer
# restarting, for one).
[Service]
EnvironmentFile={PGBOUNCER_EXPORTER_ENV}
ExecStart=
ExecStart=/usr/bin/python3 {PGBOUNCER_EXPORTER_SHIM}
Restart=on-failure
RestartSec=5
",
        ctx.header(Comment::Hash),
    );
    File::new(
        format!("hosts/{}{PGBOUNCER_EXPORTER_DROPIN}", h.name),
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
pub(super) fn pgbouncer_exporter_shim(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r##"{}#
# prometheus-pgbouncer-exporter 1.7 (Debian 12) with PgBouncer 1.18 (Debian 12): the
# exporter reads the column total_requests of SHOW STATS, which PgBouncer renamed
# total_query_count in 1.8, and stops at start with KeyError: 'total_requests'. This
# starts the packaged exporter (its configuration, port and metric names) with the
# column's new name, and adds the pool columns that show saturation: server
# connections in use and idle, and how long the oldest waiting client has waited.
# Started by the exporter's systemd drop-in: ExecStart=/usr/bin/python3 {PGBOUNCER_EXPORTER_SHIM}
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
        format!("hosts/{}{PGBOUNCER_EXPORTER_SHIM}", h.name),
        Scope::Role(Role::Synapse),
        "Makes Debian 12's pgbouncer_exporter read PgBouncer 1.18 (a renamed SHOW STATS column) and adds pool saturation metrics.",
        body,
    )
    .for_host(h)
}
