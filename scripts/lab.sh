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
die() { log "$*"; exit 1; }

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
  trap 'exec 9>&- 2> /dev/null || true; rm -rf "$LAB_DIR"' EXIT
  host_before="$(ip -br addr; ip -br link; ip route)"
  make_bundle "$plan"
  t0="$(now)"
  lab_start
  local i=0 prefix
  prefix="$(subnet_prefix)"
  while read -r addr name; do
    i=$((i + 1))
    add_host "$addr" "$name" "$prefix" "$i"
  done < <(planned_hosts)
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

# Brings the plan's network up and holds it until this script is ended.
cmd_up() {
  [ "$(id -u)" -eq 0 ] || die "the lab needs root (network namespaces)"
  LAB_DIR="$(mktemp -d /var/tmp/synapse-planner-lab.XXXXXX)"
  trap 'exec 9>&- 2> /dev/null || true; rm -rf "$LAB_DIR"' EXIT
  trap 'exit 130' INT TERM
  make_bundle "${1:-}"
  lab_start
  local i=0 prefix
  prefix="$(subnet_prefix)"
  while read -r addr name; do
    i=$((i + 1))
    add_host "$addr" "$name" "$prefix" "$i"
  done < <(planned_hosts)
  echo "LAB_DIR=$LAB_DIR"
  echo "lab up: $i hosts; end this command to tear it down"
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
  *) echo "usage: $0 check [PLAN.yaml] | up [PLAN.yaml] | run HOST COMMAND…" >&2; exit 2 ;;
esac
