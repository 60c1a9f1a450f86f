//! The database tier (DESIGN.md §2, §3): on each Patroni host, Patroni's configuration,
//! the roles and database created once at bootstrap and a setup script ([`patroni`]),
//! etcd, Patroni's DCS ([`etcd`]), the switch that keeps Debian's postgresql-common from
//! creating a cluster of its own ([`createcluster`]) and postgres_exporter; on the
//! Synapse host, PgBouncer (its ini, auth file, file-descriptor limit and setup script:
//! [`pgbouncer`]) and its exporter ([`exporters`]).
//!
//! Versions targeted: Debian 12's patroni 3.0.2 (and Patroni 4.1, which the tests run),
//! etcd-server 3.4, postgresql-common 248, pgbouncer 1.18, prometheus-postgres-exporter
//! 0.11 and prometheus-pgbouncer-exporter 1.7.

mod createcluster;
pub(super) mod etcd;
mod exporters;
mod patroni;
mod pgbouncer;

use super::{Ctx, File};
use crate::plan::Role;

pub(super) use patroni::PATRONI_CONFIG;

/// Patroni's cluster name (`scope`), also pgBackRest's stanza.
pub(super) const CLUSTER: &str = "synapse";
/// Synapse's database and its role, and PgBouncer's stats user (one home:
/// `deploy::facts`), under the names backup.rs imports them by.
pub(super) use crate::deploy::facts::{DATABASE, DB_USER, PGBOUNCER_STATS_USER};
/// The role postgres_exporter logs in as (pg_monitor), created at bootstrap.
const EXPORTER_ROLE: &str = "postgres_exporter";
/// Where Debian's PostgreSQL packages put the server's Unix socket.
pub(super) const SOCKET_DIR: &str = "/var/run/postgresql";

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
        out.push(patroni::patroni_config(ctx, h));
        out.push(patroni::post_bootstrap_sql(ctx, h));
        out.push(etcd::etcd_env(ctx, h));
        out.push(createcluster::no_main_cluster(ctx, h));
        out.push(exporters::postgres_exporter_env(ctx, h));
        out.push(patroni::patroni_setup(ctx, h));
    }
    for h in ctx.hosts(Role::Synapse) {
        out.push(pgbouncer::pgbouncer_ini(ctx, h));
        out.push(pgbouncer::pgbouncer_userlist(ctx, h));
        out.push(pgbouncer::pgbouncer_limits(ctx, h));
        out.push(exporters::pgbouncer_exporter_conf(ctx, h));
        out.push(exporters::pgbouncer_exporter_env(ctx, h));
        out.push(exporters::pgbouncer_exporter_dropin(ctx, h));
        out.push(exporters::pgbouncer_exporter_shim(ctx, h));
        out.push(pgbouncer::pgbouncer_setup(ctx, h));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::with_ctx;
    use crate::plan::Plan;

    pub(super) fn plan(changes: &[(&str, &str)]) -> Plan {
        Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
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

    /// Values no validation would let through never change a file's structure: the
    /// server name in etcd's token stays one quoted env-file value, and Patroni's
    /// configuration reads back with the same keys.
    #[test]
    fn hostile_values_stay_values() {
        with_ctx(&crate::bundle::hostile_plan(), |ctx| {
            crate::bundle::assert_no_injected_line(&files(ctx), &["#", ";", "--"]);
            let etcd = files(ctx)
                .into_iter()
                .find(|f| f.path == format!("hosts/patroni1{}", etcd::ETCD_ENV))
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
                .find(|f| f.path == format!("hosts/patroni1{PATRONI_CONFIG}"))
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
