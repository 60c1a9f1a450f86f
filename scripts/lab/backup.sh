# shellcheck shell=bash
# Backup and restore (layer 5): each host's own file system view, sshd, pgBackRest over
# SSH from the bundle's files, and the restore drill. Sourced by scripts/lab.sh.
#
# A host's own view. The lab's hosts share one file system, but pgBackRest, Patroni and
# the bundle's scripts name fixed paths (/etc/pgbackrest.conf, /var/lib/postgresql/15/main,
# /etc/patroni/config.yml, /root/.ssh …) that differ from host to host, and pgBackRest
# refuses a data directory whose path is not the one PostgreSQL reports. So a host that
# runs them gets its own mount (and UTS: its own hostname) namespace, held by a process
# of the lab (its PID in $LAB_DIR/HOST/ns.pid), in which (substitutions, each because
# one machine is not many; nothing of the host's own is written):
# - /etc is the host's /etc under the bundle's hosts/all/etc and hosts/HOST/etc (what
#   prepare-host.sh copies there, with the zip's modes), writes going to the lab's
#   directory (overlayfs); /etc/hosts is the host's plus hosts/all/hosts.append (what
#   prepare-host.sh appends); /etc/ssh has the host's own new host key;
# - /usr/local/sbin holds the bundle's scripts for HOST;
# - /var/lib/postgresql (postgres's home, the data directory, .ssh), /var/log/postgresql,
#   /var/lib/pgbackrest, /var/log/pgbackrest, /var/spool/pgbackrest, /var/backups,
#   /var/lib/prometheus/node-exporter, /root and /tmp are directories of the lab;
#   /var/lib/dpkg is the host's with the writes in the lab's directory (overlayfs:
#   dpkg-statoverride); /run is the host's own tmpfs (pid files, locks, sshd);
# - /usr/bin/systemctl is the lab's stand-in (no systemd in the lab): `start`, `stop`,
#   `restart`, `reload`, `is-active` of patroni as Debian's unit does it (User postgres,
#   ExecStart /usr/bin/patroni /etc/patroni/config.yml, SIGHUP to reload, SIGTERM to the
#   main process then SIGKILL after TimeoutSec=30); other units are not run by the lab.

# The PID (in the lab) of the process that holds HOST's own mount and UTS namespaces.
host_ns_pid() { cat "$LAB_DIR/$1/ns.pid"; }

# Runs a command on HOST in its own view (its network, mount and UTS namespaces).
on_host() {
  local host="$1"
  shift
  in_lab nsenter -t "$(host_ns_pid "$host")" -m -u --net="/run/netns/$host" -- "$@"
}

# Starts a long-running command on HOST in its own view, its output in
# $LAB_DIR/logs/HOST-NAME.log.
host_daemon() {
  local host="$1" name="$2"
  shift 2
  mkdir -p "$LAB_DIR/logs"
  (
    exec 9>&-
    on_host "$host" "$@"
  ) >> "$LAB_DIR/logs/$host-$name.log" 2>&1 &
}

# The lab's /etc/hosts (the machine's plus the bundle's block, as prepare-host.sh
# writes it) and its systemctl stand-in; once per lab.
host_ns_common() {
  [ -f "$LAB_DIR/etc-hosts" ] && return 0
  {
    sed '/^# BEGIN synapse-planner$/,/^# END synapse-planner$/d' /etc/hosts
    echo "# BEGIN synapse-planner"
    grep -v '^#' "$LAB_DIR/bundle/hosts/all/hosts.append"
    echo "# END synapse-planner"
  } > "$LAB_DIR/etc-hosts"
  chmod 0644 "$LAB_DIR/etc-hosts"
  mkdir -p "$LAB_DIR/logs"
  sed "s|@LOGS@|$LAB_DIR/logs|" > "$LAB_DIR/systemctl" <<'SH'
#!/bin/bash
# The lab's systemctl (scripts/lab/backup.sh): Debian's patroni unit, nothing else.
logs='@LOGS@'
pidfile=/run/lab-patroni.pid
host="$(hostname)"
quiet=""
args=()
for a in "$@"; do
  case "$a" in
    --quiet | -q) quiet=1 ;;
    --no-block) ;;
    *) args+=("$a") ;;
  esac
done
verb="${args[0]:-}"
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2> /dev/null; }
stop() {
  running || return 0
  local pid
  pid="$(cat "$pidfile")"
  kill -TERM "$pid"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2> /dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2> /dev/null || true
}
start() {
  running && return 0
  cd / || exit 1
  setsid env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/var/lib/postgresql USER=postgres LOGNAME=postgres SHELL=/bin/bash LANG=C.UTF-8 \
    setpriv --reuid=postgres --regid=postgres --init-groups -- \
    /usr/bin/patroni /etc/patroni/config.yml >> "$logs/$host-patroni.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
}
for unit in "${args[@]:1}"; do
  unit="${unit%.service}"
  if [ "$unit" != patroni ]; then
    [ -n "$quiet" ] || echo "lab systemctl: $verb $unit: not run on $host in the lab" >&2
    [ "$verb" = is-active ] && exit 3
    continue
  fi
  case "$verb" in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    reload) kill -HUP "$(cat "$pidfile")" ;;
    is-active) running || exit 3 ;;
    enable | disable | reset-failed | daemon-reload) ;;
    *) echo "lab systemctl: $verb not supported" >&2; exit 1 ;;
  esac
done
exit 0
SH
  chmod 0755 "$LAB_DIR/systemctl"
}

# The bundle's files for HOST (hosts/all, then hosts/HOST, as prepare-host.sh copies
# them) in $LAB_DIR/HOST/tree, with the modes the zip records.
host_tree() {
  python3 - "$LAB_DIR/bundle.zip" "$1" "$LAB_DIR/$1/tree" <<'PY'
import os, sys, zipfile
z, host, out = sys.argv[1:]
for prefix in ("hosts/all/", "hosts/%s/" % host):
    for info in zipfile.ZipFile(z).infolist():
        if not info.filename.startswith(prefix) or info.is_dir():
            continue
        rel = info.filename[len(prefix):]
        if not rel.startswith(("etc/", "usr/", "var/")):
            continue
        dest = os.path.join(out, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(zipfile.ZipFile(z).read(info))
        os.chmod(dest, (info.external_attr >> 16) & 0o7777 or 0o644)
PY
}

# Gives HOST its own view (above); safe to call again.
host_ns_up() {
  local h="$1" d="$LAB_DIR/$1"
  [ -s "$d/ns.pid" ] && return 0
  host_ns_common
  install -d -m 0755 "$d"
  host_tree "$h"
  install -d -m 0755 "$d/tree/etc" "$d/tree/usr/local/sbin" "$d/etc.up" "$d/etc.work" \
    "$d/dpkg.up" "$d/dpkg.work" "$d/backups" "$d/node-exporter"
  install -d -m 0700 "$d/root"
  install -d -m 1777 "$d/tmp"
  install -d -o postgres -g postgres -m 0755 "$d/pghome" "$d/pghome/15"
  install -d -o postgres -g postgres -m 0750 "$d/pgbackrest" "$d/pgbackrest/lib" \
    "$d/pgbackrest/log" "$d/pgbackrest/spool"
  [ -d "$d/log" ] || install -d -o postgres -g postgres -m 0700 "$d/log"
  [ -d "$d/sock" ] || install -d -o postgres -g postgres -m 0700 "$d/sock"
  ln -sfn pghome/15/main "$d/data"
  # A process of the lab holds the namespaces (a sleep, which the lab's end kills); the
  # host's own processes may all die (kill_host) and the namespaces stay, as a disk does.
  (
    exec 9>&-
    in_lab unshare --mount --uts --propagation private bash -c '
set -e
h="$1" d="$2" lab="$3"
hostname "$h"
mount -t tmpfs -o mode=0755 "lab-$h-run" /run
install -d -m 0755 /run/sshd /run/postgresql
install -d -m 1777 /run/lock
mount --bind "$d/sock" /run/postgresql
mount -t overlay "lab-$h-etc" -o "lowerdir=$d/tree/etc:/etc,upperdir=$d/etc.up,workdir=$d/etc.work" /etc
mount --bind "$lab/etc-hosts" /etc/hosts
rm -f /etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N "" -C "root@$h" -f /etc/ssh/ssh_host_ed25519_key
mount -t overlay "lab-$h-dpkg" -o "lowerdir=/var/lib/dpkg,upperdir=$d/dpkg.up,workdir=$d/dpkg.work" /var/lib/dpkg
mount --bind "$d/tree/usr/local/sbin" /usr/local/sbin
mount --bind "$lab/systemctl" /usr/bin/systemctl
mount --bind "$d/pghome" /var/lib/postgresql
mount --bind "$d/log" /var/log/postgresql
mount --bind "$d/pgbackrest/lib" /var/lib/pgbackrest
mount --bind "$d/pgbackrest/log" /var/log/pgbackrest
mount --bind "$d/pgbackrest/spool" /var/spool/pgbackrest
mount --bind "$d/backups" /var/backups
mount --bind "$d/node-exporter" /var/lib/prometheus/node-exporter
mount --bind "$d/root" /root
mount --bind "$d/tmp" /tmp
echo "$$" > "$d/ns.pid.tmp"
mv "$d/ns.pid.tmp" "$d/ns.pid"
exec sleep infinity' _ "$h" "$d" "$LAB_DIR"
  ) > "$LAB_DIR/logs/$h-namespaces.log" 2>&1 &
  wait_for "the namespaces of $h" 10 test -s "$d/ns.pid"
}

# Whether HOST accepts a TCP connection on ADDRESS:PORT.
listening() {
  on "$1" timeout 1 bash -c 'exec 3<> "/dev/tcp/$1/$2"' _ "$2" "$3" 2> /dev/null
}

# sshd on HOST, in its own view: its own pid file and ListenAddress (the planned
# address), key authentication only; everything else is Debian's sshd_config.
start_sshd() {
  local h="$1" addr
  addr="$(address_of "$h")"
  [ -n "$addr" ] || addr="$(awk -v n="$h" '$2 == n { print $1 }' "$LAB_DIR/extra-hosts")"
  host_ns_up "$h"
  host_daemon "$h" sshd /usr/sbin/sshd -D -e -o "ListenAddress=$addr" -o PidFile=/run/sshd.pid \
    -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \
    -h /etc/ssh/ssh_host_ed25519_key
  wait_for "sshd on $h" 20 listening "$h" "$addr" 22
}

# The control machine (the one that runs the playbook and exchange-ssh-keys.sh, with
# root SSH to every host): a namespace of the lab outside the plan, at CONTROL_ADDRESS.
# Every host's root trusts its key, as on provisioned hosts; it accepts host keys it
# has not seen yet (StrictHostKeyChecking accept-new), as an operator answering yes.
CONTROL_ADDRESS=10.0.1.250
control_up() {
  echo "$CONTROL_ADDRESS control" > "$LAB_DIR/extra-hosts"
  add_host "$CONTROL_ADDRESS" control "$(subnet_prefix)" 250
  host_ns_up control
  on_host control sh -c 'install -d -m 0700 /root/.ssh &&
    ssh-keygen -q -t ed25519 -N "" -C root@control -f /root/.ssh/id_ed25519 &&
    printf "StrictHostKeyChecking accept-new\n" > /root/.ssh/config'
}

# Root on HOST trusts the control machine's key.
trust_control() {
  local key
  key="$(cat "$LAB_DIR/control/root/.ssh/id_ed25519.pub")"
  on_host "$1" sh -c 'install -d -m 0700 /root/.ssh && echo "$1" >> /root/.ssh/authorized_keys &&
    chmod 0600 /root/.ssh/authorized_keys' _ "$key"
}

# The command of the cron file's line that runs `pgbackrest-backup.sh TYPE`, run as cron
# runs it: as root, with the file's SHELL and PATH, on the backup host.
cron_job() {
  local type="$1" line
  line="$(grep -v '^#' "$LAB_DIR/bundle/hosts/backup/etc/cron.d/synapse-planner-backup" |
    awk -v t="$type" '$7 ~ /pgbackrest-backup\.sh$/ && $8 == t' | head -n 1)"
  [ -n "$line" ] || die "the cron file has no pgbackrest-backup.sh $type line"
  [ "$(awk '{ print $6 }' <<< "$line")" = root ] || die "cron runs '$line' as someone else than root"
  on_host backup env -i SHELL=/bin/bash HOME=/root LOGNAME=root \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c "$(cut -d' ' -f7- <<< "$line")"
}

# pgBackRest's own account of the repository, as postgres on the backup host.
repo_info() { on_host backup runuser -u postgres -- pgbackrest --stanza=synapse info --output=json; }

# WAL segments in the repository.
wal_archived() {
  on_host backup sh -c 'find /var/lib/pgbackrest/archive -type f -name "0000*" | wc -l'
}

# sshd on the backup host, the Patroni hosts and the Synapse host, the control machine,
# and backup/exchange-ssh-keys.sh run from it as the bundle says (RESTORE.md, "Setting
# up", step 1).
backup_ssh_up() {
  local h
  control_up
  for h in backup $(patroni_hosts) synapse; do
    start_sshd "$h"
    trust_control "$h"
  done
  on_host control bash "$LAB_DIR/bundle/backup/exchange-ssh-keys.sh" > "$LAB_DIR/logs/control-exchange-ssh-keys.log" 2>&1 ||
    die "exchange-ssh-keys.sh failed: $(tail -n 5 "$LAB_DIR/logs/control-exchange-ssh-keys.log")"
}

# Drill: pgBackRest over SSH from the bundle's files, a full backup, then the bundle's
# RESTORE.md procedure step by step; a writer (the database drill's) inserts a row every
# 0.2 s from the Synapse host before, during and after the backup until RESTORE.md's
# step 1 stops it (it stands for Synapse). Prints the backup's size and time, the
# restore's time, the rows written, restored and missing (and whether the missing ones
# are all within archive_timeout of the stop, the RPO the bundle promises), what a crash
# at the stop would have lost, and the WAL archived. LAB_RESTORE_TIME=1 restores with
# --time (halfway between the backup's end and the stop) instead of --latest, and
# checks that the rows before the target are there and those after it are not.
cmd_drill_restore() {
  lab_begin "${1:-}"
  export LAB_ARCHIVE=1
  local t0 client conn nodes
  t0="$(now)"
  backup_ssh_up
  echo "ssh: sshd on $(($(patroni_hosts | grep -c .) + 2)) hosts, exchange-ssh-keys.sh done in $(since "$t0") s"
  t0="$(now)"
  start_database
  echo "database up with archiving in $(since "$t0") s"
  nodes="$(planned_hosts | awk '$2 ~ /^patroni[0-9]+$/ { print $1 }' | paste -sd, -)"
  client=synapse
  conn="host=$nodes port=5432 dbname=synapse user=synapse target_session_attrs=read-write connect_timeout=1"
  export PGPASSWORD
  PGPASSWORD="$(vault vault_synapse_db_password)"
  wait_for "read-write connection from $client" 60 writable "$client" "$conn"
  # Each row keeps where its insert's WAL was written: what a crash would lose is the rows
  # past the last archived segment.
  on "$client" psql -X -q "$conn" -c 'CREATE TABLE lab_drill (id int PRIMARY KEY, at timestamptz DEFAULT now(),
    lsn pg_lsn DEFAULT pg_current_wal_lsn())'
  # No Synapse in this drill: its table that restore-database.sh empties stands in for
  # its schema (Synapse's definition), with one key in it.
  on "$client" psql -X -q "$conn" -c 'CREATE TABLE e2e_one_time_keys_json (user_id TEXT NOT NULL,
    device_id TEXT NOT NULL, algorithm TEXT NOT NULL, key_id TEXT NOT NULL, ts_added_ms BIGINT NOT NULL,
    key_json TEXT NOT NULL, CONSTRAINT e2e_one_time_keys_json_uniqueness UNIQUE (user_id, device_id, algorithm, key_id))' \
    -c "INSERT INTO e2e_one_time_keys_json VALUES ('@a:lab', 'D', 'signed_curve25519', 'AAAA', 0, '{}')"
  job writer "$client" "$conn" > "$LAB_DIR/writes.log" 2>&1
  local w=$LAB_JOB
  restore_backup_phase
  restore_procedure "$w"
}

# RESTORE.md "Setting up", step 2: setup-pgbackrest.sh on the backup host (stanza,
# archive check, the first full backup). Sets BACKUP_END (when it ended).
restore_backup_phase() {
  local t0
  t0="$(now)"
  on_host backup /usr/local/sbin/setup-pgbackrest.sh > "$LAB_DIR/logs/backup-setup-pgbackrest.log" 2>&1 ||
    die "setup-pgbackrest.sh failed: $(tail -n 15 "$LAB_DIR/logs/backup-setup-pgbackrest.log")"
  BACKUP_END="$(now)"
  local took t_check t_incr
  took="$(since "$t0")"
  repo_info > "$LAB_DIR/repo-info.json"
  python3 - "$took" "$LAB_DIR/repo-info.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[2]))[0]["backup"][0]
i = b["info"]
print("backup: setup-pgbackrest.sh (stanza-create, check, full backup) took %s s; full backup %s: %d s by pgBackRest's clock, database %.1f MiB, in the repository %.1f MiB" % (
    sys.argv[1], b["label"], b["timestamp"]["stop"] - b["timestamp"]["start"],
    i["size"] / 2**20, i["repository"]["delta"] / 2**20))
PY
  # The cron file's daily check and hourly incremental, as cron runs them; each leaves
  # its result for node_exporter's textfile collector.
  t0="$(now)"
  cron_job check > "$LAB_DIR/logs/backup-cron-check.log" 2>&1 || die "cron's check failed: $(tail -n 5 "$LAB_DIR/logs/backup-cron-check.log")"
  t_check="$(since "$t0")"
  t0="$(now)"
  cron_job incr > "$LAB_DIR/logs/backup-cron-incr.log" 2>&1 || die "cron's incr failed: $(tail -n 5 "$LAB_DIR/logs/backup-cron-incr.log")"
  t_incr="$(since "$t0")"
  echo "cron: pgbackrest-backup.sh check $t_check s, incr $t_incr s; metrics for node_exporter: $(on_host backup sh -c 'cat /var/lib/prometheus/node-exporter/synapse_planner_backup_pgbackrest_*.prom' |
    grep -c '^synapse_planner_backup_last_success_timestamp_seconds') successes, $(on_host backup sh -c 'ls /var/lib/prometheus/node-exporter' | grep -c 'failure') failures"
}

# archive_timeout of the bundle's Patroni configuration, in seconds.
archive_timeout() {
  python3 -c 'import re, sys, yaml
v = str(yaml.safe_load(open(sys.argv[1]))["bootstrap"]["dcs"]["postgresql"]["parameters"]["archive_timeout"])
n, u = re.fullmatch(r"(\d+)\s*(s|min|)", v).groups()
print(int(n) * (60 if u == "min" else 1))' "$LAB_DIR/bundle/hosts/patroni1/etc/patroni/config.yml"
}

# Runs step NAME of RESTORE.md on HOST (COMMAND…), its output in
# $LAB_DIR/logs/HOST-NAME.log; prints the seconds it took; fails if it does.
procedure_step() {
  local host="$1" name="$2" t0
  shift 2
  t0="$(now)"
  on_host "$host" "$@" >> "$LAB_DIR/logs/$host-$name.log" 2>&1 ||
    die "RESTORE.md: '$*' on $host failed: $(tail -n 20 "$LAB_DIR/logs/$host-$name.log")"
  since "$t0"
}

# Which RESTORE.md runs first after the restore, in its section "Restore the database
# to a point in time": the new timeline's full backup (backup-first) or reinit-replica.sh
# on the other nodes (replicas-first).
restore_md_order() {
  awk '/^## Restore the database to a point in time/ { on = 1; next } /^## / { on = 0 }
    on && !b && /pgbackrest-backup\.sh full/ { b = NR }
    on && !r && /reinit-replica\.sh/ { r = NR }
    END { print (b && (!r || b < r)) ? "backup-first" : "replicas-first" }' "$LAB_DIR/bundle/backup/RESTORE.md"
}

# RESTORE.md: the new timeline's first full backup, on backup; prints its seconds.
new_timeline_backup() {
  local t0
  t0="$(now)"
  on_host backup /usr/local/sbin/pgbackrest-backup.sh full >> "$LAB_DIR/logs/backup-step-full.log" 2>&1 || return 1
  since "$t0"
}

# RESTORE.md: reinit-replica.sh on each Patroni node but patroni1; prints the seconds.
reinit_replicas() {
  local h t0
  t0="$(now)"
  for h in $(patroni_hosts); do
    [ "$h" = patroni1 ] || procedure_step "$h" reinit-replica /usr/local/sbin/reinit-replica.sh --yes > /dev/null
  done
  since "$t0"
}

# What a crash of the primary when the writer stopped would have lost: the rows whose
# WAL lies past the end of the last segment archived (pg_stat_archiver, 16 MiB
# segments), and how many seconds of writes they span up to the stop.
unarchived_at_stop() {
  local leader
  leader="$(current_leader)"
  [ -n "$leader" ] || die "no leader when the writer stopped"
  on_host "$leader" runuser -u postgres -- psql -X -At -F ' ' -d synapse -c "
    WITH e AS (SELECT ('x' || substr(last_archived_wal, 9, 8))::bit(32)::bigint * 4294967296
      + (('x' || substr(last_archived_wal, 17, 8))::bit(32)::bigint + 1) * 16777216 AS end_pos
      FROM pg_stat_archiver)
    SELECT count(*), coalesce(round(extract(epoch FROM now() - min(at))::numeric, 1), 0)
    FROM lab_drill, e WHERE lsn - '0/0'::pg_lsn >= e.end_pos" |
    awk '{ printf "crash: had the primary crashed when the writer stopped, %d rows would be lost (not yet archived), the last %.1f s of writes\n", $1, $2 }'
}

# RESTORE.md, "Restore the database to a point in time", steps 1 to 7 with --latest
# (everything archived), on patroni1 ("say patroni1"), after the writer W ran
# LAB_AFTER_BACKUP seconds (default 20) past the full backup.
restore_procedure() {
  local w="$1" t_stop took_restore h
  sleep "${LAB_AFTER_BACKUP:-20}"
  # 1. Stop Synapse and PgBouncer on synapse: the writer stands for them.
  on_host synapse systemctl stop 'matrix-*' pgbouncer 2> /dev/null
  kill "$w" 2> /dev/null || true
  wait "$w" 2> /dev/null || true
  t_stop="$(now)"
  unarchived_at_stop
  local wal_before
  wal_before="$(wal_archived)"
  # 2. Stop Patroni on every node but the one that becomes the primary.
  for h in $(patroni_hosts); do
    [ "$h" = patroni1 ] || procedure_step "$h" systemctl systemctl stop patroni > /dev/null
  done
  # 3. restore-database.sh on that node.
  # With LAB_RESTORE_TIME set: --time, halfway between the backup's end and the stop.
  local target="" how=(--latest)
  if [ -n "${LAB_RESTORE_TIME:-}" ]; then
    target="$(awk -v a="$BACKUP_END" -v b="$t_stop" 'BEGIN { printf "%d", (a + b) / 2 }')"
    how=(--time "$(date -u -d "@$target" '+%Y-%m-%d %H:%M:%S+00')")
  fi
  took_restore="$(procedure_step patroni1 restore-database /usr/local/sbin/restore-database.sh "${how[@]}" --yes)"
  local t_down
  t_down="$(grep -h 'received fast shutdown request' "$LAB_DIR"/patroni1/log/*.log | tail -n 1 | cut -c1-23)"
  t_down="$(date -u -d "$t_down" +%s.%3N)"
  echo "restore: restore-database.sh ${how[*]} on patroni1 took $took_restore s (Patroni stopped, etcd cleared, pgbackrest restore, recovery, promotion); the old primary shut down $(awk -v a="$t_stop" -v b="$t_down" 'BEGIN { printf "%.1f", b - a }') s after the writer stopped"
  # 4 and 5, in RESTORE.md's order: the first full backup of the new timeline on
  # backup, and reinit-replica.sh on each other node. A failed backup is tried again
  # once the replicas run (and the order is reported).
  local order took_backup="" took_reinit note=""
  order="$(restore_md_order)"
  if [ "$order" = backup-first ]; then
    took_backup="$(new_timeline_backup)" || note="the full backup failed before reinit-replica.sh ($(grep -o 'ERROR: .*' "$LAB_DIR/logs/backup-step-full.log" | tail -n 1)); "
    took_reinit="$(reinit_replicas)"
    if [ -z "$took_backup" ]; then
      took_backup="$(new_timeline_backup)" || die "the full backup failed after reinit-replica.sh too"
      note="${note}it succeeded after them; "
    fi
  else
    took_reinit="$(reinit_replicas)"
    took_backup="$(new_timeline_backup)" || die "the full backup after reinit-replica.sh failed: $(tail -n 5 "$LAB_DIR/logs/backup-step-full.log")"
  fi
  echo "procedure: RESTORE.md's order $order; full backup of the new timeline $took_backup s; ${note}reinit-replica.sh on $(($(patroni_hosts | grep -c .) - 1)) nodes $took_reinit s"
  wait_for "2 streaming replicas after the restore" 60 streaming patroni1 2
  # 6. PgBouncer and Synapse again: a write through the writer's connection.
  on_host synapse systemctl start pgbouncer 2> /dev/null
  wait_for "a write after the restore" 30 writable synapse "$conn"
  # 7. The data directories moved aside.
  for h in $(patroni_hosts); do
    on_host "$h" sh -c 'rm -rf /var/lib/postgresql/15/main.before-*'
  done
  echo "one-time keys after the restore: $(on synapse psql -X -At "$conn" -c 'SELECT count(*) FROM e2e_one_time_keys_json') (1 before: restore-database.sh empties the table)"
  restore_counts "$t_stop" "$wal_before" "$target"
}

# The rows: acknowledged by the writer, present on the restored primary, missing; the
# missing ones acknowledged earlier than archive_timeout before the stop T_STOP (none
# may be: the bundle promises at most that much loss); the measured loss (the stop
# minus the acknowledgement of the newest row restored).
restore_counts() {
  local t_stop="$1" wal_before="$2" target="${3:-}" timeout
  timeout="$(archive_timeout)"
  on synapse psql -X -At "$conn" -c 'SELECT id FROM lab_drill' > "$LAB_DIR/restored.txt" ||
    die "could not read the rows back"
  python3 - "$LAB_DIR/writes.log" "$LAB_DIR/restored.txt" "$t_stop" "$timeout" "$BACKUP_END" "$wal_before" "$(wal_archived)" "$target" <<'PY'
import sys
log, present, t_stop, timeout, backup_end, wal_before, wal_after, target = sys.argv[1:]
t_stop, timeout, backup_end = float(t_stop), float(timeout), float(backup_end)
acked = {}
for line in open(log):
    f = line.split()
    if len(f) == 4 and f[1] == "ok":
        acked[int(f[0])] = float(f[3])
have = {int(x) for x in open(present).read().split()}
missing = sorted(set(acked) - have)
early = [i for i in missing if acked[i] < t_stop - timeout]
before_backup = [i for i in acked if acked[i] <= backup_end]
lost_before_backup = [i for i in before_backup if i not in have]
newest = max((acked[i] for i in acked if i in have), default=0.0)
print("rows: written %d, of them before the full backup ended %d; restored %d; missing %d, of them before the backup %d, acknowledged more than archive_timeout (%d s) before the stop %d; the newest row restored was acknowledged %.1f s before the writer stopped" % (
    len(acked), len(before_backup), len(have & set(acked)), len(missing), len(lost_before_backup), timeout, len(early), t_stop - newest))
if target:
    # Point in time: rows acknowledged before the target committed before it and must
    # be there; rows begun after it committed after it and must not.
    t = float(target)
    begun = {}
    for line in open(log):
        f = line.split()
        if len(f) == 4 and f[1] == "ok":
            begun[int(f[0])] = float(f[2])
    before = [i for i in acked if acked[i] < t]
    after = [i for i in acked if begun[i] > t]
    print("pitr: target %d; acknowledged before it %d, of them missing %d; begun after it %d, of them present %d; the rest (in flight at the target) %d" % (
        t, len(before), len([i for i in before if i not in have]), len(after), len([i for i in after if i in have]), len(acked) - len(before) - len(after)))
print("wal: %s segments archived before the restore, %s after (the new timeline and its first backup)" % (wal_before, wal_after))
PY
}
