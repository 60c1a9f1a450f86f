//! Database restores on the Patroni nodes: the point-in-time restore of the cluster and
//! the rebuild of a replica after it.

use super::super::postgres::{self, CLUSTER, PATRONI_CONFIG, fill};
use super::super::{Comment, Ctx, File, Host, Scope, ports};
use super::*;
use crate::deploy::facts::{DATABASE, PGBACKREST_SCRIPT};
use crate::plan::Role;
use crate::syntax::{json, shell};

/// The point-in-time restore, on every Patroni node.
pub(super) const RESTORE_SCRIPT: &str = "/usr/local/sbin/restore-database.sh";
/// A replica's rebuild after a restore elsewhere, on every Patroni node.
pub(super) const REINIT_SCRIPT: &str = "/usr/local/sbin/reinit-replica.sh";

pub(super) fn restore_database(ctx: &Ctx, h: &Host) -> File {
    let body = fill(
        &[
            RESTORE_ARGUMENTS,
            RESTORE_REMOVE_CLUSTER,
            RESTORE_BOOTSTRAP,
            RESTORE_RECOVER,
        ]
        .concat(),
        &restore_values(ctx, h),
    );
    File::new(
        format!("hosts/{}{RESTORE_SCRIPT}", h.name),
        Scope::Role(Role::Patroni),
        format!("Point-in-time restore into the Patroni cluster from pgBackRest (run on the node to become primary), then truncates {OTK_TABLE}."),
        body,
    )
    .for_host(h)
    .script()
}

/// The restore script's placeholders: its description and every value it assigns.
fn restore_values(ctx: &Ctx, h: &Host) -> Vec<(&'static str, String)> {
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
After: reinit-replica.sh on each other node, then a full backup on {backup}
(pgbackrest-backup.sh full: the new timeline's first), then PgBouncer and Synapse.",
        name = h.name,
        synapse = synapse_fqdn(ctx),
        backup = backup_fqdn(ctx),
    );
    vec![
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
        ("@PGBACKREST_SCRIPT@", PGBACKREST_SCRIPT.to_string()),
        ("@REINIT_SCRIPT@", REINIT_SCRIPT.to_string()),
    ]
}

/// The restore script, step 1: the values, the arguments (`--time`, `--latest`,
/// `--yes`), root.
const RESTORE_ARGUMENTS: &str = r##"#!/usr/bin/env bash
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

"##;

/// Step 2: every other member stopped, the operator's confirmation, the cluster
/// removed from etcd, the old data directory moved aside.
const RESTORE_REMOVE_CLUSTER: &str = r##"ctl() { patronictl -c "$config" "$@"; }

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

"##;

/// Step 3: Patroni's configuration gets a one-off bootstrap method that restores with
/// pgBackRest and recovers to the target.
const RESTORE_BOOTSTRAP: &str = r##"# A one-off bootstrap method (Patroni docs, "Replica imaging and bootstrap", custom
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

"##;

/// Step 4: Patroni bootstraps (restore, recovery, promotion), the usual configuration
/// comes back, the one-time keys are emptied, and what to do next.
const RESTORE_RECOVER: &str = r##"restore_config() {
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
  1. on each other node ($others): @REINIT_SCRIPT@
  2. on $backup: @PGBACKREST_SCRIPT@ full
  3. on $synapse: systemctl start pgbouncer, then start Synapse (the playbook's
     'just start-all', or systemctl start matrix-synapse and its workers)
EOF
"##;

pub(super) fn reinit_replica(ctx: &Ctx, h: &Host) -> File {
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
        format!("hosts/{}{REINIT_SCRIPT}", h.name),
        Scope::Role(Role::Patroni),
        "Rebuilds this node as a standby of the running cluster (after a restore elsewhere).",
        body,
    )
    .for_host(h)
    .script()
}
