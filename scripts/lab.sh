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
#                                      etcd + Patroni + PostgreSQL, HAProxy + keepalived
#                                      and PgBouncer from the bundle's files; the leader's
#                                      host dies under a writer on Synapse's path; prints
#                                      the pause and any acknowledged write lost
#   scripts/lab.sh drill-vip [PLAN.yaml]
#                                      the same cluster; the VIP holder's host dies;
#                                      prints the VIP's move and the writes' pause
#   scripts/lab.sh drill-turn [PLAN.yaml]
#                                      coturn from the bundle's files: relays with
#                                      Synapse's secret, refuses others and the cluster
#   scripts/lab.sh drill-restore [PLAN.yaml]
#                                      sshd and pgBackRest over SSH from the bundle's files,
#                                      a full backup, RESTORE.md's restore step by step;
#                                      prints backup/restore times, rows written/restored/
#                                      missing, WAL archived (LAB_RESTORE_TIME=1: --time)
#   scripts/lab.sh drill-synapse [PLAN.yaml]
#                                      the database, the edge, Redis, Synapse's main process
#                                      and workers and the router on the Synapse host: each
#                                      healthy, each routed request type reaching its process;
#                                      prints start times, RSS, PgBouncer's pool
#   scripts/lab.sh drill-traffic [PLAN.yaml]
#                                      the whole cluster; a matrix-nio load through HTTPS
#                                      on the VIP; every request against the playbook's
#                                      routing; peaks against the planner's budgets
#   scripts/lab.sh drill-alerts [PLAN.yaml]
#                                      the database, edge, coturn and monitoring
#                                      (Prometheus, Alertmanager, exporters) from the
#                                      bundle's files; the leader's host dies; prints
#                                      when HostDown reaches Alertmanager against its
#                                      bound (for + scrape interval + timeout + evaluation)
#   scripts/lab.sh measure [PLAN.yaml] the whole cluster; at each scale of
#                                      LAB_MEASURE_SCALES (USERS:ROOMS:MESSAGES …) a
#                                      traffic run with bytes and WAL per event, RSS over
#                                      time and connection peaks (a benchmark)
#   scripts/lab.sh measure-federation [PLAN.yaml]
#                                      the whole cluster and a second homeserver on a
#                                      namespace of its own: joins, messages both ways
#                                      and state changes over federation, with the
#                                      database's growth per event in each (a benchmark;
#                                      LAB_FEDERATION_REMOTE_USERS, _LOCAL_USERS, _ROOMS,
#                                      _MESSAGES)
#   scripts/lab.sh drill-objectstore [PLAN.yaml]
#                                      an S3 server (moto) behind HAProxy on the VIP:
#                                      Synapse's keys and the backup host's rclone
#   LAB_KEEP=1 keeps the lab's directory (logs) after the end.
#
# This file is the lab's core (the network, running things on a host, waiting, logs);
# each layer of services is a file in scripts/lab/ that defines `cmd_<command>`
# functions, sourced below (network.sh: check, up, run; database.sh: drill-database;
# edge.sh: drill-vip; calls.sh: drill-turn;
# objectstore.sh: drill-objectstore; backup.sh: drill-restore;
# synapse.sh: drill-synapse; traffic.sh: drill-traffic;
# monitoring.sh: drill-alerts; measure.sh: measure; federation.sh: measure-federation).
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
# bound in its private /run/netns) and the bridge disappear. Background jobs this script
# starts outside the lab (writers, watchers) are listed in LAB_JOBS and killed on exit.
#
# Needs root, util-linux (unshare, nsenter), iproute2 and python3 (Debian 12's).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAB_DIR="${LAB_DIR:-}"
LAB_PID=""
LAB_JOBS=()

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
# Runs a command in host HOST's network namespace (and the lab's mount and PID ones),
# with the host's own /run ($LAB_DIR/hosts/HOST/run) and, over /etc/NAME, each entry
# NAME of $LAB_DIR/hosts/HOST/etc (a host's files from the bundle, see `host_etc`): the
# lab's hosts share one file system, but each sees its own pid files, sockets and /etc
# entries where the bundle's files expect them. `ip netns exec` gives every command a
# mount namespace of its own, so these mounts end with the command.
on() {
  local host="$1"
  shift
  in_lab ip netns exec "$host" sh -c 'r="$1"
    shift
    for e in "$r"/etc/*; do
      [ -e "$e" ] || continue
      mount --bind "$e" "/etc/${e##*/}" || exit 125
    done
    mount --bind "$r/run" /run || exit 125
    exec "$@"' lab-on "$LAB_DIR/hosts/$host" "$@"
}

# Makes /etc/NAME on HOST the file or directory SRC, for every command `on` runs there.
# /etc/NAME must exist on this machine (the packages' own directories do).
host_etc() {
  local host="$1" name="$2" src="$3"
  [ -e "/etc/$name" ] || die "/etc/$name does not exist here: it cannot be replaced on $host"
  ln -sfn "$src" "$LAB_DIR/hosts/$host/etc/$name"
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
  # With the modes the zip records (scripts executable, secrets 0600), as unzip would.
  python3 -c 'import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for i in z.infolist():
    path = z.extract(i, sys.argv[2])
    mode = i.external_attr >> 16 & 0o7777
    if mode and not i.is_dir():
        os.chmod(path, mode)' "$LAB_DIR/bundle.zip" "$LAB_DIR/bundle"
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
  mkdir -p "$LAB_DIR/hosts/$name/run" "$LAB_DIR/hosts/$name/etc"
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
  # shellcheck disable=SC2034 # read by the layers (network.sh)
  LAB_HOSTS=$i
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

# Whether no process runs on HOST any more.
no_processes() { [ -z "$(in_lab ip netns pids "$1")" ]; }

# The last lines of every log of the lab, for a failure's message.
show_logs() {
  local f
  for f in "$LAB_DIR"/logs/*.log "$LAB_DIR"/patroni*/log/*.log; do
    [ -f "$f" ] || continue
    printf '\n== %s\n' "$f" >&2
    grep -v '^\s' "$f" | grep -v 'no action' | tail -n 15 >&2 || true
  done
}

address_of() { planned_hosts | awk -v n="$1" '$2 == n { print $1 }'; }
# The bundle's vault value of KEY.
vault() {
  python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' \
    "$(ls "$LAB_DIR"/bundle/ansible/inventory/host_vars/*/vault.yml)" "$1"
}


# Makes a lab for a command: its directory, the exit trap (background jobs killed, the
# lifeline closed, the directory removed unless LAB_KEEP is set), the bundle of PLAN,
# the parent namespace and every planned host.
lab_begin() {
  [ "$(id -u)" -eq 0 ] || die "the lab needs root (network namespaces)"
  LAB_DIR="$(mktemp -d /var/tmp/synapse-planner-lab.XXXXXX)"
  # The services' own users (postgres, haproxy …) find their files below it.
  chmod 755 "$LAB_DIR"
  trap lab_exit EXIT
  trap 'exit 130' INT TERM
  make_bundle "${1:-}"
  lab_start
  add_hosts
}

lab_exit() {
  local j
  for j in "${LAB_JOBS[@]}"; do kill "$j" 2> /dev/null || true; done
  exec 9>&- 2> /dev/null || true
  [ -n "${LAB_KEEP:-}" ] || rm -rf "$LAB_DIR"
}

# Starts a background job on this side of the lab (a writer, a watcher) that must not
# outlive the script: `job FUNCTION ARGS… > LOG`, its PID in LAB_JOB.
job() {
  (
    exec 9>&-
    "$@"
  ) &
  LAB_JOB=$!
  LAB_JOBS+=("$LAB_JOB")
}

for layer in "$here"/scripts/lab/*.sh; do
  # shellcheck source=/dev/null
  . "$layer"
done

usage() {
  sed -n '/^#   /p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

command="${1:-}"
[ -n "$command" ] || usage
shift
fn="cmd_${command//-/_}"
if [[ "$command" =~ ^[a-z][a-z-]*$ ]] && declare -F "$fn" > /dev/null; then
  "$fn" "$@"
else
  usage
fi
