//! The weekly logical dump: its libpq password file and pg-dump-synapse.sh.

use super::super::postgres::{self, fill};
use super::super::{Comment, Ctx, File, Host, Scope, SecretId, ports};
use super::*;
use crate::deploy::facts::{DATABASE, DB_USER, PGDUMP_SCRIPT};
use crate::plan::Role;
use crate::syntax::{conf, shell};

/// libpq's password file for the dump (root, 0600).
pub(super) const PGPASS: &str = "/etc/synapse-planner/pgpass";

pub(super) fn pgpass(ctx: &Ctx, h: &Host) -> File {
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
        format!("Password file for the weekly pg_dump (database {DATABASE}, user {DB_USER})."),
        body,
    )
    .for_host(h)
    .secret()
}

pub(super) fn pg_dump_script(ctx: &Ctx, h: &Host) -> File {
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
        format!("hosts/{}{PGDUMP_SCRIPT}", h.name),
        Scope::Role(Role::Backup),
        "Weekly pg_dump of Synapse's database from a standby, without the one-time keys' data.",
        body,
    )
    .for_host(h)
    .script()
}
