#!/usr/bin/env bash
# The lab: a plan's hosts as network namespaces on this machine, joined by a bridge that
# exists only inside the lab (issue 11, docs/lab.md).
#
#   scripts/lab.sh check [PLAN.yaml]   bring the plan's network up, prove what it must,
#                                      tear it down; prints the measured times
#   scripts/lab.sh up [PLAN.yaml]      bring it up and hold it until this command ends
#                                      (Ctrl-C, or any kill); prints LAB_DIR
#   LAB_DIR=… scripts/lab.sh run HOST COMMAND…
#                                      run a command on a planned host of a lab that is up
#   scripts/lab.sh drill-database [PLAN.yaml]
#                                      etcd + Patroni + PostgreSQL from the bundle's files
#                                      on the Patroni hosts; the leader's host dies; prints
#                                      the failover time and any acknowledged write lost
#   LAB_KEEP=1 keeps the lab's directory (logs) after the end.
#
# Layout. One parent namespace (network, mount, PID: `unshare`) has only loopback and a
# bridge `lab0`; each planned host is a child network namespace with the planned name
# and address (from the bundle's own hosts/all/hosts.append), wired to the bridge by a
# veth pair. The parent has no uplink and no default route, so no packet can leave the
# machine, and nothing is ever attached to the host's interfaces.
#
# Teardown, always. The lab's PID 1 reads a lifeline pipe whose writing end only this
# script holds: when the script ends — normally, on an error, on Ctrl-C or by SIGKILL —
# the pipe closes, PID 1 exits, the kernel kills every process of the lab's PID
# namespace, and with the last of them the mount namespace (and the child namespaces
# bound in its private /run/netns) and the bridge disappear.
#
# Needs root, util-linux (unshare, nsenter), iproute2 and python3 (Debian 12's).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAB_DIR="${LAB_DIR:-}"
LAB_PID=""

log() { printf '[lab] %s\n' "$*" >&2; }
die() {
  log "$*"
  if [ -n "$LAB_DIR" ] && [ -d "$LAB_DIR/logs" ]; then show_logs; fi
  exit 1
}

# Seconds since the epoch with milliseconds, for the measured times.
now() { date +%s.%3N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# Runs a command in the lab's parent namespaces (network, mount, PID). It never gets
# the lifeline (fd 9): only this script may hold it open.
in_lab() { nsenter -t "$LAB_PID" -m -p -n "$@" 9>&-; }
# Runs a command in host HOST's network namespace (and the lab's mount and PID ones).
on() {
  local host="$1"
  shift
  in_lab ip netns exec "$host" "$@"
}

# The planned hosts: "address name" lines from the bundle's hosts file (the same lines
# prepare-host.sh puts in /etc/hosts).
planned_hosts() {
  grep -v '^#' "$LAB_DIR/bundle/hosts/all/hosts.append" | awk 'NF >= 3 && $2 !~ /^vip\./ { print $1, $3 }'
}

# The prefix length of the plan's subnet, from plan.yaml in the bundle (default /24).
subnet_prefix() {
  local p
  p="$(sed -n 's/^  subnet: \([0-9.]*\)\/\([0-9]*\)$/\2/p' "$LAB_DIR/bundle/plan.yaml" | head -n 1)"
  echo "${p:-24}"
}

# Makes the bundle of PLAN (or the default plan) into $LAB_DIR/bundle with placeholder
# secrets and a fixed date, unpacked.
make_bundle() {
  local plan="${1:-}" bin
  bin="${SYNAPSE_PLANNER_BIN:-$here/target/debug/synapse-planner}"
  if [ ! -x "$bin" ]; then
    (cd "$here" && cargo build --quiet --bin synapse-planner)
  fi
  if [ -z "$plan" ]; then
    plan="$LAB_DIR/plan.yaml"
    "$bin" example-plan > "$plan"
  fi
  "$bin" bundle --plan "$plan" --out "$LAB_DIR/bundle.zip" --placeholders --date 2026-12-07 --allow-errors > /dev/null
  mkdir -p "$LAB_DIR/bundle"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$LAB_DIR/bundle.zip" "$LAB_DIR/bundle"
}

# Starts the lab's parent: PID 1 waits on the lifeline (fd 9 of this script).
lab_start() {
  mkfifo "$LAB_DIR/lifeline"
  unshare --net --mount --pid --fork --mount-proc --propagation private \
    bash -c 'read -r _ < "$1"' lab-pid1 "$LAB_DIR/lifeline" > /dev/null 2>&1 &
  local unshare_pid=$!
  exec 9> "$LAB_DIR/lifeline"
  for _ in $(seq 1 100); do
    LAB_PID="$(pgrep -P "$unshare_pid" || true)"
    [ -n "$LAB_PID" ] && break
    sleep 0.02
  done
  [ -n "$LAB_PID" ] || die "the lab's PID 1 did not start"
  echo "$LAB_PID" > "$LAB_DIR/lab.pid"
  in_lab sh -c 'mount -t tmpfs lab-run /run && mkdir -p /run/netns && ip link set lo up &&
    ip link add lab0 type bridge && ip link set lab0 up'
}

# Ends the lab: closing the lifeline ends PID 1, and with it everything in the lab.
lab_stop() {
  exec 9>&-
  if [ -n "$LAB_PID" ]; then
    for _ in $(seq 1 100); do
      kill -0 "$LAB_PID" 2> /dev/null || break
      sleep 0.02
    done
  fi
}

# One child per planned host: its namespace, a veth to the bridge, its planned address.
add_host() {
  local addr="$1" name="$2" prefix="$3" i="$4"
  in_lab sh -c "ip netns add '$name' &&
    ip link add v$i type veth peer name eth0 netns '$name' &&
    ip link set v$i master lab0 up &&
    ip -n '$name' link set lo up &&
    ip -n '$name' addr add '$addr/$prefix' dev eth0 &&
    ip -n '$name' link set eth0 up"
}

# Every planned host, in the order of the hosts file.
add_hosts() {
  local i=0 prefix addr name
  prefix="$(subnet_prefix)"
  while read -r addr name; do
    i=$((i + 1))
    add_host "$addr" "$name" "$prefix" "$i"
  done < <(planned_hosts)
  LAB_HOSTS=$i
}

# What must hold of the lab's network, each checked; a failure ends the script.
check_network() {
  # This runs in a subshell whose background jobs outlive it: none may hold the lifeline.
  exec 9>&-
  local -a addrs names
  local addr name
  while read -r addr name; do
    addrs+=("$addr")
    names+=("$name")
  done < <(planned_hosts)
  local n=${#names[@]}
  # Each host's only interfaces are lo and eth0, eth0 holds exactly the planned address,
  # and no route leads out of the subnet.
  for i in "${!names[@]}"; do
    local links got routes
    links="$(on "${names[$i]}" ip -o link show | awk -F': ' '{ print $2 }' | cut -d@ -f1 | sort | tr '\n' ' ')"
    [ "$links" = "eth0 lo " ] || die "${names[$i]}: interfaces are '$links', not 'eth0 lo'"
    got="$(on "${names[$i]}" ip -o -4 addr show dev eth0 | awk '{ print $4 }' | cut -d/ -f1)"
    [ "$got" = "${addrs[$i]}" ] || die "${names[$i]}: address $got, planned ${addrs[$i]}"
    routes="$(on "${names[$i]}" ip -4 route show)"
    if grep -q default <<< "$routes"; then die "${names[$i]}: a default route: $routes"; fi
  done
  # Every host reaches every other on its planned address: a listener on each, a TCP
  # connection from each other host.
  for i in "${!names[@]}"; do
    on "${names[$i]}" python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7)); s.listen(64)
while True: s.accept()[0].close()' "${addrs[$i]}" > /dev/null 2>&1 &
  done
  local reached=0
  for i in "${!names[@]}"; do
    for j in "${!names[@]}"; do
      [ "$i" = "$j" ] && continue
      local ok=""
      for _ in $(seq 1 50); do
        if on "${names[$i]}" timeout 1 bash -c 'exec 3<> "/dev/tcp/$1/7"' _ "${addrs[$j]}" 2> /dev/null; then
          ok=1
          break
        fi
        sleep 0.05
      done
      [ -n "$ok" ] || die "${names[$i]} cannot reach ${names[$j]} (${addrs[$j]})"
      reached=$((reached + 1))
    done
  done
  [ "$reached" -eq $((n * (n - 1))) ] || die "reached $reached of $((n * (n - 1)))"
  # Nothing leaves: an address outside the subnet is unreachable from a host and from
  # the parent (which has no route at all).
  if on "${names[0]}" timeout 2 bash -c 'exec 3<> /dev/tcp/192.0.2.1/80' 2> /dev/null; then
    die "${names[0]} reached 192.0.2.1: the lab has a way out"
  fi
  local parent_routes
  parent_routes="$(in_lab ip -4 route show | grep -v ' dev lab0 ' || true)"
  [ -z "$parent_routes" ] || die "the parent has routes besides the bridge's: $parent_routes"
  echo "$n hosts, $reached connections between them"
}

cmd_check() {
  local plan="${1:-}" host_before host_after t0 t_up t_down hosts result
  [ "$(id -u)" -eq 0 ] || die "the lab needs root (network namespaces)"
  LAB_DIR="$(mktemp -d /var/tmp/synapse-planner-lab.XXXXXX)"
  # The lab's directory goes when the script ends; the lab itself goes with the lifeline.
  trap 'exec 9>&- 2> /dev/null || true; [ -n "${LAB_KEEP:-}" ] || rm -rf "$LAB_DIR"' EXIT
  host_before="$(ip -br addr; ip -br link; ip route)"
  make_bundle "$plan"
  t0="$(now)"
  lab_start
  add_hosts
  t_up="$(since "$t0")"
  result="$(check_network)"
  hosts="$(in_lab ip netns list | wc -l)"
  t0="$(now)"
  lab_stop
  t_down="$(since "$t0")"
  # Gone: the lab's PID 1, and the host's own network is as it was.
  if kill -0 "$LAB_PID" 2> /dev/null; then die "the lab's PID 1 ($LAB_PID) is still running"; fi
  host_after="$(ip -br addr; ip -br link; ip route)"
  [ "$host_before" = "$host_after" ] || die "the host's network changed: before
$host_before
after
$host_after"
  echo "lab network: $result; up in ${t_up} s ($hosts namespaces), torn down in ${t_down} s; the host's interfaces and routes unchanged"
}

# Starts a long-running command on HOST, its output in $LAB_DIR/logs/HOST-NAME.log. The
# subshell drops the lifeline before anything is started.
daemon() {
  local host="$1" name="$2"
  shift 2
  mkdir -p "$LAB_DIR/logs"
  (
    exec 9>&-
    on "$host" "$@"
  ) >> "$LAB_DIR/logs/$host-$name.log" 2>&1 &
}

# HTTP status of a GET, or 000.
status() {
  local host="$1" url="$2"
  on "$host" curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true
}

# Waits up to $2 seconds for a command to succeed.
wait_for() {
  local what="$1" seconds="$2"
  shift 2
  local end=$((SECONDS + seconds))
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || die "no $what after $seconds s (logs: $LAB_DIR/logs)"
    sleep 0.2
  done
}

# The database hosts: etcd and Patroni from the bundle's own files. Substitutions, each
# because one machine is not three (docs/lab.md): the data, socket, log and pgpass paths
# get a directory per host (the lab's hosts share one file system); shared_buffers is
# 32MB and huge pages off (the plan's figure is for its own RAM, three of them do not fit
# here); archive_command is `true` and restore_command `false` (no backup host in this
# layer). Everything else — ports, addresses, pg_hba, users, timers (ttl, loop_wait,
# retry_timeout), parameters — is the file's.
start_database() {
  local h dir first=""
  chmod 755 "$LAB_DIR"
  for h in $(planned_hosts | awk '$2 ~ /^patroni[0-9]+$/ { print $2 }'); do
    dir="$LAB_DIR/$h"
    install -d -o postgres -g postgres -m 0700 "$dir" "$dir/sock" "$dir/log"
    install -d -m 0700 "$dir.etcd"
    daemon "$h" etcd bash -c 'set -a; . "$1"; set +a; ETCD_DATA_DIR="$2"; exec etcd' \
      _ "$LAB_DIR/bundle/hosts/$h/etc/default/etcd" "$dir.etcd"
    python3 - "$LAB_DIR/bundle/hosts/$h/etc/patroni/config.yml" "$dir" "$LAB_DIR/bundle/hosts/$h/etc/patroni/post-bootstrap.sql" <<'PY'
import sys, yaml
src, d, post = sys.argv[1:]
c = yaml.safe_load(open(src))
pg = c["postgresql"]
pg["data_dir"] = d + "/data"
pg["pgpass"] = d + "/pgpass"
pg["parameters"]["unix_socket_directories"] = d + "/sock"
pg["parameters"]["log_directory"] = d + "/log"
pg.setdefault("recovery_conf", {})["restore_command"] = "/bin/false"
b = c["bootstrap"]
b["post_bootstrap"] = b["post_bootstrap"].replace("/etc/patroni/post-bootstrap.sql", post)
p = b["dcs"]["postgresql"]["parameters"]
p["shared_buffers"] = "32MB"
p["huge_pages"] = "off"
p["archive_command"] = "/bin/true"
yaml.safe_dump(c, open(d + "/patroni.yml", "w"), sort_keys=False)
PY
    chown postgres:postgres "$dir/patroni.yml"
    first="${first:-$h}"
  done
  [ -n "$first" ] || die "the plan has no Patroni host"
  chmod 0644 "$LAB_DIR"/bundle/hosts/patroni*/etc/patroni/post-bootstrap.sql
  chmod 0755 "$LAB_DIR/bundle" "$LAB_DIR/bundle/hosts" "$LAB_DIR"/bundle/hosts/patroni* \
    "$LAB_DIR"/bundle/hosts/patroni*/etc "$LAB_DIR"/bundle/hosts/patroni*/etc/patroni
  # The first node bootstraps; the others clone it once it leads.
  daemon "$first" patroni runuser -u postgres -- patroni "$LAB_DIR/$first/patroni.yml"
  wait_for "leader on $first" 120 leads "$first"
  for h in $(planned_hosts | awk '$2 ~ /^patroni[0-9]+$/ { print $2 }'); do
    [ "$h" = "$first" ] && continue
    daemon "$h" patroni runuser -u postgres -- patroni "$LAB_DIR/$h/patroni.yml"
  done
  local replicas=0
  for h in $(planned_hosts | awk '$2 ~ /^patroni[0-9]+$/ { print $2 }'); do
    [ "$h" = "$first" ] && continue
    wait_for "replica on $h" 180 follows "$h"
    replicas=$((replicas + 1))
  done
  # A replica runs before it streams: its slot appears at the leader's next cycle
  # (loop_wait). Until then a failover would lose what it has not received.
  wait_for "$replicas streaming replicas" 60 streaming "$first" "$replicas"
}

# Whether no process runs on HOST any more.
no_processes() { [ -z "$(in_lab ip netns pids "$1")" ]; }

# Whether HOST opens a read-write session with CONNINFO.
writable() { on "$1" psql -X -q "$2" -c 'SELECT 1' > /dev/null 2>&1; }

# The last lines of every log of the lab, for a failure's message.
show_logs() {
  local f
  for f in "$LAB_DIR"/logs/*.log "$LAB_DIR"/patroni*/log/*.log; do
    [ -f "$f" ] || continue
    printf '\n== %s\n' "$f" >&2
    grep -v '^\s' "$f" | grep -v 'no action' | tail -n 15 >&2 || true
  done
}

# Whether HOST, the leader, has COUNT replicas streaming.
streaming() {
  local got
  got="$(on "$1" runuser -u postgres -- psql -X -At -h "$LAB_DIR/$1/sock" -c \
    "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2> /dev/null || true)"
  [ "$got" = "$2" ]
}

address_of() { planned_hosts | awk -v n="$1" '$2 == n { print $1 }'; }
leads() { [ "$(status "$1" "http://$(address_of "$1"):8008/primary")" = 200 ]; }
follows() { [ "$(status "$1" "http://$(address_of "$1"):8008/replica")" = 200 ]; }

# The bundle's vault value of KEY.
vault() {
  python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' \
    "$(ls "$LAB_DIR"/bundle/ansible/inventory/host_vars/*/vault.yml)" "$1"
}

# Drill: the Patroni leader's host dies (every process in its namespace, SIGKILL). A
# writer on the Synapse host inserts a row every 0.2 s as Synapse's database user, to
# whichever node accepts writes (libpq's target_session_attrs=read-write over the
# Patroni nodes); the drill measures the time from the kill to the next acknowledged
# insert, and counts acknowledged rows missing on the new leader.
cmd_drill_database() {
  [ "$(id -u)" -eq 0 ] || die "the lab needs root (network namespaces)"
  LAB_DIR="$(mktemp -d /var/tmp/synapse-planner-lab.XXXXXX)"
  trap 'exec 9>&- 2> /dev/null || true; [ -n "${LAB_KEEP:-}" ] || rm -rf "$LAB_DIR"' EXIT
  make_bundle "${1:-}"
  lab_start
  local t0
  add_hosts
  t0="$(now)"
  start_database
  echo "database up: etcd and Patroni on $(planned_hosts | grep -c ' patroni'), leader and streaming replicas in $(since "$t0") s"
  local nodes leader client conn h
  nodes="$(planned_hosts | awk '$2 ~ /^patroni[0-9]+$/ { print $1 }' | paste -sd, -)"
  client="$(planned_hosts | awk '$2 == "synapse" { print $2 }')"
  [ -n "$client" ] || client="$(planned_hosts | awk 'NR == 1 { print $2 }')"
  conn="host=$nodes port=5432 dbname=synapse user=synapse target_session_attrs=read-write connect_timeout=1"
  export PGPASSWORD
  PGPASSWORD="$(vault vault_synapse_db_password)"
  # The leader may still be settling after its bootstrap: wait until it takes a write.
  wait_for "read-write connection from $client" 60 writable "$client" "$conn"
  on "$client" psql -X -q "$conn" -c 'CREATE TABLE lab_drill (id int PRIMARY KEY, at timestamptz DEFAULT now())'
  leader=""
  for h in $(planned_hosts | awk '$2 ~ /^patroni[0-9]+$/ { print $2 }'); do
    if leads "$h"; then
      leader="$h"
      break
    fi
  done
  [ -n "$leader" ] || die "no Patroni leader"
  # The writer: one psql per row, as a client that reconnects after every failure would.
  (
    exec 9>&-
    n=0
    while true; do
      n=$((n + 1))
      # Each line: row, result, when the attempt started, when it ended.
      start="$(now)"
      if on "$client" psql -X -q "$conn" -c "INSERT INTO lab_drill (id) VALUES ($n)" 2> /dev/null; then
        echo "$n ok $start $(now)"
      else
        echo "$n fail $start $(now)"
      fi
      sleep 0.2
    done
  ) > "$LAB_DIR/writes.log" 2>&1 &
  WRITER=$!
  # The writer runs on this side of the lab: it must not outlive the script.
  trap 'kill "${WRITER:-}" 2> /dev/null || true; exec 9>&- 2> /dev/null || true; [ -n "${LAB_KEEP:-}" ] || rm -rf "$LAB_DIR"' EXIT
  sleep 3
  local t_kill t_back acked lost predicted
  t_kill="$(now)"
  # Inside the lab: the PIDs `ip netns pids` prints are the lab's PID namespace's.
  # A process may be gone before its turn (a postmaster's children exit with it).
  in_lab sh -c 'ip netns pids "$1" | xargs -r kill -9 2> /dev/null' _ "$leader" || true
  wait_for "an empty $leader" 10 no_processes "$leader"
  # Until a row whose attempt began after the kill is acknowledged (one in flight at the
  # kill may still be acknowledged by the dying primary).
  local end=$((SECONDS + 75))
  until awk -v t="$t_kill" '$2 == "ok" && $3 > t { found = 1 } END { exit !found }' "$LAB_DIR/writes.log"; do
    [ "$SECONDS" -lt "$end" ] || die "no write succeeded within 75 s of killing $leader"
    sleep 0.2
  done
  t_back="$(awk -v t="$t_kill" '$2 == "ok" && $3 > t { print $4; exit }' "$LAB_DIR/writes.log")"
  sleep 1
  kill "$WRITER" 2> /dev/null || true
  wait "$WRITER" 2> /dev/null || true
  acked="$(awk '$2 == "ok" { print $1 }' "$LAB_DIR/writes.log" | sort -n)"
  local present
  present="$(on "$client" psql -X -At "$conn" -c 'SELECT id FROM lab_drill ORDER BY id')" ||
    die "could not read the rows back from the new leader"
  lost="$(comm -23 <(echo "$acked" | sort) <(echo "$present" | sort) | grep -c . || true)"
  predicted="$(python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1]))["bootstrap"]["dcs"]; print(d["ttl"] + d["loop_wait"])' "$LAB_DIR/bundle/hosts/$leader/etc/patroni/config.yml")"
  echo "failover: killed $leader; writes acknowledged again after $(awk -v a="$t_kill" -v b="$t_back" 'BEGIN { printf "%.1f", b - a }') s (at most ttl + loop_wait = $predicted s); acknowledged $(echo "$acked" | grep -c .) rows, $lost of them missing on the new leader"
}

# Brings the plan's network up and holds it until this script is ended.
cmd_up() {
  [ "$(id -u)" -eq 0 ] || die "the lab needs root (network namespaces)"
  LAB_DIR="$(mktemp -d /var/tmp/synapse-planner-lab.XXXXXX)"
  trap 'exec 9>&- 2> /dev/null || true; [ -n "${LAB_KEEP:-}" ] || rm -rf "$LAB_DIR"' EXIT
  trap 'exit 130' INT TERM
  make_bundle "${1:-}"
  lab_start
  add_hosts
  echo "LAB_DIR=$LAB_DIR"
  echo "lab up: $LAB_HOSTS hosts; end this command to tear it down"
  # Wait without holding a child that could keep the lifeline: `read` on a pipe from
  # sleep, in this shell.
  while true; do sleep 3600 9>&- & wait $! || true; done
}

# Runs COMMAND on HOST of the lab in $LAB_DIR.
cmd_run() {
  [ -n "$LAB_DIR" ] && [ -f "$LAB_DIR/lab.pid" ] || die "set LAB_DIR to the directory 'lab.sh up' printed"
  LAB_PID="$(cat "$LAB_DIR/lab.pid")"
  local host="${1:-}"
  shift || true
  [ -n "$host" ] && [ $# -gt 0 ] || die "usage: lab.sh run HOST COMMAND…"
  on "$host" "$@"
}

case "${1:-}" in
  check) shift; cmd_check "$@" ;;
  up) shift; cmd_up "$@" ;;
  run) shift; cmd_run "$@" ;;
  drill-database) shift; cmd_drill_database "$@" ;;
  *) echo "usage: $0 check [PLAN.yaml] | up [PLAN.yaml] | run HOST COMMAND… | drill-database [PLAN.yaml]" >&2; exit 2 ;;
esac
