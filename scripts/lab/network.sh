# shellcheck shell=bash
# The lab's network (layer 1): check, up, run. Sourced by scripts/lab.sh.

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
  trap lab_exit EXIT
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

# Brings the plan's network up and holds it until this script is ended.
cmd_up() {
  lab_begin "${1:-}"
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

