# shellcheck shell=bash
# Traffic and budgets (drills 1 and 5): a Matrix client load through the whole path —
# HTTPS on the VIP, HAProxy, the router, Synapse's main process and workers, PgBouncer,
# the VIP again, the Patroni leader, and media to the object store — then where every
# request went against the playbook's routing, and the processes' and pools' peaks
# against the planner's budgets. Sourced by scripts/lab.sh.

LAB_TRAFFIC_USERS="${LAB_TRAFFIC_USERS:-20}"
LAB_TRAFFIC_ROOMS="${LAB_TRAFFIC_ROOMS:-4}"
LAB_TRAFFIC_MESSAGES="${LAB_TRAFFIC_MESSAGES:-400}"

# A figure of the planner's JSON report for the bundle's plan, by dotted path.
planner_figure() {
  local bin="${SYNAPSE_PLANNER_BIN:-$here/target/debug/synapse-planner}"
  "$bin" report --plan "$LAB_DIR/bundle/plan.yaml" --format json |
    python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}

# Every part of the cluster the traffic goes through, up.
start_cluster() {
  local t0
  t0="$(now)"
  start_database
  start_edge
  start_pgbouncer
  start_objectstore
  render_synapse_configs
  start_redis
  start_synapse
  start_router
  # HAProxy sends to the router once its checks (rise 2, inter 3 s) pass.
  wait_for "Synapse through HTTPS on the VIP" 60 through_vip "$(planned_hosts | awk '$2 == "monitoring" { print $2; exit }')"
  echo "cluster: database, edge, PgBouncer, object store, Redis, Synapse (main + $(($(synapse_processes | grep -c .) - 1)) workers) and the router up in $(since "$t0") s"
}

# Whether CLIENT gets /_matrix/client/versions through HTTPS on the VIP, by the server's
# name, verified with the bundle's CA.
through_vip() {
  [ "$(on "$1" curl -s -o /dev/null -m 3 -w '%{http_code}' --cacert "$LAB_DIR/bundle/scripts/certs/ca/ca.crt" \
    --resolve "$(server_name):443:$(vip_address)" "https://$(server_name)/_matrix/client/versions")" = 200 ]
}

# One sample of the budgets: "T NAME VALUE" lines — each Synapse process's RSS (MiB),
# PostgreSQL's client backends on the leader, PgBouncer's client and server connections.
budget_sample() {
  local t name leader
  t="$(now)"
  for name in $(synapse_processes); do
    echo "$t rss:$name $(synapse_rss "$name" 2> /dev/null || echo 0)"
  done
  leader="$(current_leader)"
  if [ -n "$leader" ]; then
    echo "$t pg-backends $(on_host "$leader" runuser -u postgres -- psql -X -At -c \
      "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'" 2> /dev/null || echo 0)"
  fi
  pgbouncer_pools 2> /dev/null | sed -n "s/^pgbouncer: \([0-9]*\) client connections from Synapse ([0-9]* waiting), \([0-9]*\) server connections.*/$t pgbouncer-clients \1\n$t pgbouncer-servers \2/p"
}
budget_sampler() {
  while true; do
    budget_sample
    sleep 2
  done
}

# Drill: the traffic (scripts/lab/traffic.py with matrix-nio, from the monitoring host
# through HTTPS on the VIP with the bundle's certificate) registers users with the
# shared secret, creates rooms, sends, syncs, uploads and downloads media, sets
# profiles, typing and receipts, and reads over federation; every acknowledged event
# must reach every member. Then every request each process logged is checked against
# the playbook's routing (scripts/lab/routes.py), and the peaks sampled during the
# traffic against the planner's budgets.
cmd_drill_traffic() {
  synapse_venv_check
  lab_begin "${1:-}"
  start_cluster
  local name log out
  local -a logs=()
  for name in $(synapse_processes); do
    log="$LAB_DIR/logs/$(synapse_host)-$name.log"
    logs+=(--log "$name=$log:$(stat -c %s "$log")")
  done
  job budget_sampler > "$LAB_DIR/budgets.log" 2>&1
  local sampler=$LAB_JOB t0
  t0="$(now)"
  run_traffic "$LAB_TRAFFIC_USERS" "$LAB_TRAFFIC_ROOMS" "$LAB_TRAFFIC_MESSAGES" "$LAB_DIR/traffic"
  kill "$sampler" 2> /dev/null || true
  wait "$sampler" 2> /dev/null || true
  traffic_summary "$LAB_DIR/traffic" "$(since "$t0")"
  companion_routes > "$LAB_DIR/routes"
  out="$("$(lab_python)" "$here/scripts/lab/routes.py" --routes "$LAB_DIR/routes" \
    --processes "$LAB_DIR/synapse/processes" "${logs[@]}")" || {
    echo "$out"
    die "a request of the traffic reached a process the playbook does not route it to"
  }
  echo "$out"
  # Synapse's storage provider (store_synchronous) copied the upload to the object store.
  s3 synapse "http://$(address_of "$(minio_hosts | head -n 1)"):9000" '
n = len(s3.list_objects_v2(Bucket="synapse-media").get("Contents", []))
print("objectstore: %d objects in synapse-media after the traffic" % n)'
  budget_report "$LAB_DIR/budgets.log"
}

# traffic.py with USERS, ROOMS and MESSAGES from the monitoring host through HTTPS on
# the VIP, by the server's name, with the bundle's CA; its summary and log in DIR. Fails
# the drill when traffic.py does (anything acknowledged missing, a request failed).
run_traffic() {
  local users="$1" rooms="$2" messages="$3" dir="$4" server vip client rc=0
  mkdir -p "$dir"
  python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["registration_shared_secret"])' \
    "$LAB_DIR/synapse/homeserver.yaml" > "$dir/secret"
  chmod 0600 "$dir/secret"
  server="$(server_name)"
  vip="$(vip_address)"
  client="$(planned_hosts | awk '$2 == "monitoring" { print $2; exit }')"
  [ -n "$client" ] || die "the plan has no monitoring host to run the traffic from"
  on "$client" env -u AWS_CA_BUNDLE "$(lab_python)" "$here/scripts/lab/traffic.py" \
    --base-url "https://$server" --resolve "$server:443:$vip" --resolve "$server:8448:$vip" \
    --cacert "$LAB_DIR/bundle/scripts/certs/ca/ca.crt" --federation-url "https://$server:8448" \
    --shared-secret-file "$dir/secret" --users "$users" --rooms "$rooms" \
    --messages "$messages" --logins 3 --deadline 900 --out "$dir/summary.json" \
    > "$dir/traffic.log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || die "traffic.py failed ($rc): $(tail -n 20 "$dir/traffic.log")"
}

# The traffic's summary in one line.
traffic_summary() {
  python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
print("traffic:", json.dumps(s, sort_keys=True)[:2000])' "$1/summary.json"
  echo "traffic: done in $2 s"
}

# Each budget's peak in the samples of LOG against the planner's figure: "budget: NAME
# peak P planner B" lines.
budget_report() {
  local log="$1"
  local per_process pool servers max_conn
  per_process="$(planner_figure synapse.ram-per-process-gib)"
  pool="$(planner_figure connections.synapse-pool-total)"
  servers="$(planner_figure connections.pgbouncer-server-connections)"
  max_conn="$(planner_figure connections.postgres-max-connections)"
  awk -v rss="$per_process" -v pool="$pool" -v servers="$servers" -v maxc="$max_conn" '
    { if (!($2 in peak) || $3 > peak[$2]) peak[$2] = $3; n[$2]++ }
    END {
      for (k in peak) {
        if (k ~ /^rss:/) printf "budget: %s peak %d MiB planner %d MiB (%d samples)\n", k, peak[k], rss * 1024, n[k]
        else if (k == "pg-backends") printf "budget: postgres-backends peak %d planner %d (max_connections; %d samples)\n", peak[k], maxc, n[k]
        else if (k == "pgbouncer-clients") printf "budget: pgbouncer-clients peak %d planner %d (Synapse pools; %d samples)\n", peak[k], pool, n[k]
        else if (k == "pgbouncer-servers") printf "budget: pgbouncer-servers peak %d planner %d (server connections; %d samples)\n", peak[k], servers, n[k]
      }
    }' "$log" | sort
}
