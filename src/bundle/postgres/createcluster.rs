//! The switch that keeps Debian's postgresql-common from creating a `main` cluster of
//! its own on a Patroni host: Patroni creates and runs the cluster.

use crate::bundle::{Comment, Ctx, File, Scope};
use crate::deploy::Host;
use crate::plan::Role;

/// postgresql-common's drop-in directory (included by createcluster.conf).
const NO_MAIN_CLUSTER: &str = "/etc/postgresql-common/createcluster.d/00-synapse-planner.conf";

/// The createcluster.d drop-in that turns off the package's `main` cluster.
pub(super) fn no_main_cluster(ctx: &Ctx, h: &Host) -> File {
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
        format!("hosts/{}{NO_MAIN_CLUSTER}", h.name),
        Scope::Role(Role::Patroni),
        "Stops the PostgreSQL package from creating a `main` cluster of its own (Patroni creates it).",
        body,
    )
    .for_host(h)
}
