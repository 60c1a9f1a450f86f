# shellcheck shell=bash
# The database (layer 2): etcd, Patroni and PostgreSQL on the Patroni hosts, and the
# failover drill. Sourced by scripts/lab.sh.

# The database hosts: etcd and Patroni from the bundle's own files. Each Patroni host
# runs in its own view of the file system (scripts/lab/backup.sh, host_ns_up), so the
# data, socket, log and pgpass paths, /etc/patroni and /etc/pgbackrest.conf are the
# bundle's, each host's its own; Patroni is started as setup-patroni.sh does it,
# `systemctl start patroni` (the lab's stand-in for systemd). Substitutions, each because
# one machine is not three (docs/lab.md): shared_buffers is 32MB and huge pages off (the
# plan's figure is for its own RAM, three of them do not fit here); without a backup
# host (LAB_ARCHIVE unset) archive_command is `true` and restore_command `false`. With
# LAB_ARCHIVE=1 they are the file's (pgBackRest over SSH to the backup host, layer 5).
# Everything else — ports, addresses, pg_hba, users, timers (ttl, loop_wait,
# retry_timeout), parameters — is the file's.
start_database() {
  local h dir first=""
  for h in $(patroni_hosts); do
    dir="$LAB_DIR/$h"
    install -d -o postgres -g postgres -m 0700 "$dir" "$dir/sock" "$dir/log"
    install -d -m 0700 "$dir.etcd"
    host_ns_up "$h"
    daemon "$h" etcd bash -c 'set -a; . "$1"; set +a; ETCD_DATA_DIR="$2"; exec etcd' \
      _ "$LAB_DIR/bundle/hosts/$h/etc/default/etcd" "$dir.etcd"
    python3 - "$LAB_DIR/bundle/hosts/$h/etc/patroni/config.yml" "$dir/patroni.yml" "${LAB_ARCHIVE:-}" <<'PY'
import sys, yaml
src, out, archive = sys.argv[1:]
c = yaml.safe_load(open(src))
p = c["bootstrap"]["dcs"]["postgresql"]["parameters"]
p["shared_buffers"] = "32MB"
p["huge_pages"] = "off"
if not archive:
    c["postgresql"].setdefault("recovery_conf", {})["restore_command"] = "/bin/false"
    p["archive_command"] = "/bin/true"
yaml.safe_dump(c, open(out, "w"), sort_keys=False)
PY
    # What setup-patroni.sh does to these files (owner postgres, mode 0600).
    on_host "$h" sh -c 'install -d -o postgres -g postgres -m 0750 /etc/patroni &&
      install -o postgres -g postgres -m 0600 "$1" /etc/patroni/config.yml &&
      chown postgres:postgres /etc/patroni/post-bootstrap.sql && chmod 0600 /etc/patroni/post-bootstrap.sql &&
      install -d -o postgres -g postgres -m 0750 /var/spool/pgbackrest /var/log/pgbackrest' _ "$dir/patroni.yml"
    first="${first:-$h}"
  done
  [ -n "$first" ] || die "the plan has no Patroni host"
  # The first node bootstraps; the others clone it once it leads.
  on_host "$first" systemctl start patroni
  wait_for "leader on $first" 120 leads "$first"
  for h in $(patroni_hosts); do
    [ "$h" = "$first" ] && continue
    on_host "$h" systemctl start patroni
  done
  local replicas=0
  for h in $(patroni_hosts); do
    [ "$h" = "$first" ] && continue
    wait_for "replica on $h" 180 follows "$h"
    replicas=$((replicas + 1))
  done
  # A replica runs before it streams: its slot appears at the leader's next cycle
  # (loop_wait). Until then a failover would lose what it has not received.
  wait_for "$replicas streaming replicas" 60 streaming "$first" "$replicas"
}

# Whether HOST opens a read-write session with CONNINFO.
writable() { on "$1" psql -X -q "$2" -c 'SELECT 1' > /dev/null 2>&1; }

# Whether HOST, the leader, has COUNT replicas streaming.
streaming() {
  local got
  got="$(on "$1" runuser -u postgres -- psql -X -At -h "$LAB_DIR/$1/sock" -c \
    "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2> /dev/null || true)"
  [ "$got" = "$2" ]
}

leads() { [ "$(status "$1" "http://$(address_of "$1"):8008/primary")" = 200 ]; }
follows() { [ "$(status "$1" "http://$(address_of "$1"):8008/replica")" = 200 ]; }

# Every Patroni host of the plan, by name.
patroni_hosts() { planned_hosts | awk '$2 ~ /^patroni[0-9]+$/ { print $2 }'; }

# The Patroni host that leads now, or nothing.
current_leader() {
  local h
  for h in $(patroni_hosts); do
    if leads "$h"; then
      echo "$h"
      return
    fi
  done
}

# A client that writes one row every 0.2 s to table lab_drill through CONNINFO from
# HOST, one psql per row as a client that reconnects after every failure would. Each
# output line: row, ok|fail, when the attempt started, when it ended.
writer() {
  local host="$1" conn="$2" n=0 start
  while true; do
    n=$((n + 1))
    start="$(now)"
    if on "$host" psql -X -q "$conn" -c "INSERT INTO lab_drill (id) VALUES ($n)" 2> /dev/null; then
      echo "$n ok $start $(now)"
    else
      echo "$n fail $start $(now)"
    fi
    sleep 0.2
  done
}

# HOST dies as a machine does when its power goes: first its link goes down (it answers
# nothing, not even ARP for an address it held, such as the VIP), then every process on
# it is killed (SIGKILL). Inside the lab: the PIDs `ip netns pids` prints are the lab's
# PID namespace's. A process may be gone before its turn (a postmaster's children exit
# with it).
kill_host() {
  in_lab ip -n "$1" link set eth0 down
  in_lab sh -c 'ip netns pids "$1" | xargs -r kill -9 2> /dev/null' _ "$1" || true
  wait_for "an empty $1" 10 no_processes "$1"
}

# Waits up to SECONDS for a row of the writer's LOG whose attempt began after T (one in
# flight at T may still be acknowledged by a dying server) to be acknowledged; prints
# the seconds from T to that acknowledgement.
write_back_after() {
  local t="$1" log="$2" seconds="$3" end=$((SECONDS + $3))
  until awk -v t="$t" '$2 == "ok" && $3 > t { found = 1 } END { exit !found }' "$log"; do
    [ "$SECONDS" -lt "$end" ] || die "no write succeeded within $seconds s"
    sleep 0.2
  done
  awk -v t="$t" '$2 == "ok" && $3 > t { printf "%.1f", $4 - t; exit }' "$log"
}

# How many rows the writer's LOG says were acknowledged, and how many of them HOST does
# not read back through CONNINFO: "ACKED LOST".
acknowledged_and_lost() {
  local host="$1" conn="$2" log="$3" acked present
  acked="$(awk '$2 == "ok" { print $1 }' "$log" | sort)"
  present="$(on "$host" psql -X -At "$conn" -c 'SELECT id FROM lab_drill' | sort)" ||
    die "could not read the rows back"
  echo "$(echo "$acked" | grep -c .) $(comm -23 <(echo "$acked") <(echo "$present") | grep -c . || true)"
}

# The bound the bundle's Patroni timers put on a failover: ttl + loop_wait.
patroni_bound() {
  python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1]))["bootstrap"]["dcs"]; print(d["ttl"] + d["loop_wait"])' \
    "$LAB_DIR/bundle/hosts/$1/etc/patroni/config.yml"
}

# The connection Synapse's processes make: PgBouncer at the address and port vars.yml
# gives them (matrix_synapse_database_host/port), as Synapse's database user.
synapse_conninfo() {
  local vars host port
  vars="$(ls "$LAB_DIR"/bundle/ansible/inventory/host_vars/*/vars.yml)"
  host="$(sed -n "s/^matrix_synapse_database_host: '\(.*\)'$/\1/p" "$vars")"
  port="$(sed -n 's/^matrix_synapse_database_port: \([0-9]*\)$/\1/p' "$vars")"
  [ -n "$host" ] && [ -n "$port" ] || die "vars.yml names no database host and port"
  echo "host=$host port=$port dbname=synapse user=synapse connect_timeout=2"
}

# The database, the edge and PgBouncer up, table lab_drill made through them, and a
# writer on the Synapse host writing through Synapse's own path (PgBouncer → VIP →
# HAProxy → the Patroni leader); sets WRITER_CONN and starts the writer (LAB_JOB).
start_written_cluster() {
  local t0
  t0="$(now)"
  start_database
  echo "database up: etcd and Patroni on $(patroni_hosts | grep -c .), leader and streaming replicas in $(since "$t0") s"
  t0="$(now)"
  start_edge
  start_pgbouncer
  echo "edge up: HAProxy and keepalived on $(haproxy_hosts | grep -c .) (VIP on $(vip_holder "$(vip_address)")), PgBouncer on synapse, in $(since "$t0") s"
  WRITER_CONN="$(synapse_conninfo)"
  export PGPASSWORD
  PGPASSWORD="$(vault vault_synapse_db_password)"
  # HAProxy sends port 5432 to the leader after `rise` good checks.
  wait_for "a write through PgBouncer and the VIP" 60 writable synapse "$WRITER_CONN"
  on synapse psql -X -q "$WRITER_CONN" -c 'CREATE TABLE lab_drill (id int PRIMARY KEY, at timestamptz DEFAULT now())'
  job writer synapse "$WRITER_CONN" > "$LAB_DIR/writes.log" 2>&1
}

# Stops the writer (job PID $1) and prints "ACKED LOST" read back through Synapse's path.
stop_writer() {
  sleep 1
  kill "$1" 2> /dev/null || true
  wait "$1" 2> /dev/null || true
  acknowledged_and_lost synapse "$WRITER_CONN" "$LAB_DIR/writes.log"
}

# The times the planner's "losing a node" view gives for losing HOST (its first
# `times` entry): the values of KEYS… (best-s, average-s, worst-s), space-separated,
# from the CLI's JSON report of the bundle's plan.
planner_times() {
  local bin="${SYNAPSE_PLANNER_BIN:-$here/target/debug/synapse-planner}"
  "$bin" report --plan "$LAB_DIR/bundle/plan.yaml" --format json |
    python3 -c 'import json, sys
r = json.load(sys.stdin)
f = next(f for f in r["failures"] if f["host"] == sys.argv[1])
t = f["times"][0]
print(*("%g" % t[k] for k in sys.argv[2:]))' "$@"
}

predicted_failover() { planner_times "$1" average-s worst-s; }

# Drill: the Patroni leader's host dies (link down, every process SIGKILLed) while a
# writer on the Synapse host inserts a row every 0.2 s through PgBouncer and the VIP;
# the drill measures the time from the death to the next acknowledged insert, and counts
# acknowledged rows missing afterwards.
cmd_drill_database() {
  lab_begin "${1:-}"
  start_written_cluster
  local w=$LAB_JOB leader
  leader="$(current_leader)"
  [ -n "$leader" ] || die "no Patroni leader"
  sleep 3
  local t_kill back counts predicted
  t_kill="$(now)"
  kill_host "$leader"
  back="$(write_back_after "$t_kill" "$LAB_DIR/writes.log" 90)"
  counts="$(stop_writer "$w")"
  predicted="$(predicted_failover "$leader")"
  echo "failover: killed $leader; writes through PgBouncer and the VIP acknowledged again after $back s (the planner predicts about ${predicted% *} s, at most ${predicted#* } s; Patroni's own bound ttl + loop_wait = $(patroni_bound "$leader") s); acknowledged ${counts% *} rows, ${counts#* } of them missing"
}
