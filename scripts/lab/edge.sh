# shellcheck shell=bash
# The edge (layer 3): HAProxy and keepalived on the HAProxy hosts, holding the VIP, and
# PgBouncer on the Synapse host, from the bundle's own files; the VIP drill. Sourced by
# scripts/lab.sh.
#
# What the lab does that the operator's steps would (README, RUNBOOK), and why:
# - the server certificate comes from the bundle's scripts/certs/internal-ca.sh and is
#   installed as scripts/certs/distribute.sh installs it (fullchain + key in
#   /etc/haproxy/certs/<server>.pem), without ssh;
# - each host's /etc/haproxy, /etc/keepalived and /etc/pgbouncer are the bundle's
#   directories for that host (`host_etc`), owned and moded as setup-pgbouncer.sh makes
#   them, and the bundle's sysctl file is applied in the host's namespace;
# - the daemons run in the foreground under this script instead of systemd.

haproxy_hosts() { planned_hosts | awk '$2 ~ /^haproxy[0-9]+$/ { print $2 }'; }

# The VIP and the server name, from the bundle's hosts file (its `vip.` line).
vip_address() { awk '!/^#/ && $2 ~ /^vip\./ { print $1; exit }' "$LAB_DIR/bundle/hosts/all/hosts.append"; }
server_name() { awk '!/^#/ && $2 ~ /^vip\./ { print $3; exit }' "$LAB_DIR/bundle/hosts/all/hosts.append"; }

# The server certificate, as the bundle's scripts make and install it.
make_certificate() {
  local certs="$LAB_DIR/bundle/scripts/certs" server
  server="$(server_name)"
  in_lab "$certs/internal-ca.sh" > "$LAB_DIR/internal-ca.log" 2>&1 ||
    die "internal-ca.sh failed: $(tail -n 5 "$LAB_DIR/internal-ca.log")"
  install -d -m 0700 "$LAB_DIR/certs"
  # Clients in the lab trust $LAB_DIR/bundle/scripts/certs/ca/ca.crt.
  (umask 077 && cat "$certs/ca/fullchain.pem" "$certs/ca/privkey.pem" > "$LAB_DIR/certs/$server.pem")
}

# HAProxy and keepalived on every HAProxy host; returns once a host holds the VIP and
# HAProxy answers on it.
start_edge() {
  local h vip
  mkdir -p "$LAB_DIR/logs"
  make_certificate
  vip="$(vip_address)"
  for h in $(haproxy_hosts); do
    local etc="$LAB_DIR/hosts/$h/files"
    mkdir -p "$etc"
    cp -a "$LAB_DIR/bundle/hosts/$h/etc/haproxy" "$etc/haproxy"
    install -d -m 0700 "$etc/haproxy/certs"
    cp -a "$LAB_DIR/certs/." "$etc/haproxy/certs/"
    host_etc "$h" haproxy "$etc/haproxy"
    host_etc "$h" keepalived "$LAB_DIR/bundle/hosts/$h/etc/keepalived"
    mkdir -p "$LAB_DIR/hosts/$h/run/haproxy"
    on "$h" sysctl -q -p "$LAB_DIR/bundle/hosts/$h/etc/sysctl.d/91-haproxy-nonlocal-bind.conf"
    on "$h" haproxy -c -q -f /etc/haproxy/haproxy.cfg || die "$h: haproxy -c refused haproxy.cfg"
    daemon "$h" haproxy haproxy -db -f /etc/haproxy/haproxy.cfg
    daemon "$h" keepalived keepalived -n -l -D -f /etc/keepalived/keepalived.conf
  done
  wait_for "a host holding the VIP $vip" 30 vip_holder_is_known "$vip"
  wait_for "HAProxy's stats on the VIP" 30 stats_answer "$(vip_holder "$vip")" "$vip"
}

# The HAProxy host that holds the VIP now, or nothing.
vip_holder() {
  local h
  for h in $(haproxy_hosts); do
    if on "$h" ip -o -4 addr show dev eth0 | grep -q " $1/"; then
      echo "$h"
      return
    fi
  done
}
vip_holder_is_known() { [ -n "$(vip_holder "$1")" ]; }
stats_answer() { [ "$(status "$1" "http://$2:8404/healthz")" = 200 ]; }

# PgBouncer on the Synapse host with the bundle's pgbouncer.ini and userlist.txt.
start_pgbouncer() {
  local etc="$LAB_DIR/hosts/synapse/files"
  mkdir -p "$etc"
  cp -a "$LAB_DIR/bundle/hosts/synapse/etc/pgbouncer" "$etc/pgbouncer"
  # As setup-pgbouncer.sh leaves them.
  chown -R postgres:postgres "$etc/pgbouncer"
  chmod 0640 "$etc/pgbouncer/pgbouncer.ini"
  chmod 0600 "$etc/pgbouncer/userlist.txt"
  host_etc synapse pgbouncer "$etc/pgbouncer"
  install -d -o postgres -g postgres "$LAB_DIR/hosts/synapse/run/postgresql"
  daemon synapse pgbouncer runuser -u postgres -- pgbouncer /etc/pgbouncer/pgbouncer.ini
  wait_for "PgBouncer on the Synapse host" 30 pgbouncer_answers
}
pgbouncer_answers() {
  on synapse env PGPASSWORD="$(vault vault_pgbouncer_stats_password)" psql -X -q \
    "host=$(address_of synapse) port=6432 dbname=pgbouncer user=pgbouncer_stats connect_timeout=1" \
    -c 'SHOW VERSION' > /dev/null 2>&1
}

# The planner's VIP takeover time, at worst, for the backup that takes over (RFC 3768's
# Master_Down_Interval at its keepalived priority, from the last advertisement heard).
predicted_vip_move() { planner_times "$1" worst-s; }

# Drill: the host holding the VIP dies (link down, every process SIGKILLed) while the
# writer writes through PgBouncer and the VIP; measures when another HAProxy host holds
# the VIP and when a write is acknowledged again, against the planner's takeover time.
cmd_drill_vip() {
  lab_begin "${1:-}"
  start_written_cluster
  local w=$LAB_JOB vip holder
  vip="$(vip_address)"
  holder="$(vip_holder "$vip")"
  sleep 3
  local t_kill moved back counts new
  t_kill="$(now)"
  kill_host "$holder"
  wait_for "another host holding the VIP" 30 vip_moved_from "$holder" "$vip"
  moved="$(since "$t_kill")"
  new="$(vip_holder "$vip")"
  back="$(write_back_after "$t_kill" "$LAB_DIR/writes.log" 60)"
  counts="$(stop_writer "$w")"
  echo "vip: killed $holder; $new held $vip after $moved s (the planner predicts $(predicted_vip_move "$holder") s); writes acknowledged again after $back s; acknowledged ${counts% *} rows, ${counts#* } of them missing"
}
vip_moved_from() {
  local h
  h="$(vip_holder "$2")"
  [ -n "$h" ] && [ "$h" != "$1" ]
}
