# shellcheck shell=bash
# Monitoring (layer 6): Prometheus, Alertmanager and the blackbox exporter on the
# monitoring host and the exporters on their hosts, from the bundle's files; the alert
# drill. Sourced by scripts/lab.sh.
#
# How each runs: as its Debian unit would (`User=`, `EnvironmentFile=` read as root,
# `ExecStart=… $ARGS`), with the bundle's /etc/default file as that EnvironmentFile, or
# Debian's own where the bundle ships none (node_exporter: prepare-host.sh installs the
# package and keeps its defaults). Substitutions, each because one machine is not
# thirteen (docs/lab.md): the monitoring host's /etc/prometheus is the bundle's
# directory and the Synapse host's /etc/prometheus-pgbouncer-exporter.conf the bundle's
# file (`host_etc`); a lab directory is bind-mounted on /var/lib/prometheus in the lab's
# mount namespace (Prometheus' TSDB, Alertmanager's state and node_exporter's textfile
# directory, Debian's default paths: the retention flags are the bundle's, the data
# stays in the lab); on a host without a view of its own (backup.sh's host_ns_up, where
# the bundle's /etc is in place) the /etc/default files are read from the bundle's
# copy. Nothing else (ports, addresses, users, rules, intervals) changes.

MONITORING_HOST=monitoring

# A Debian unit's ExecStart as systemd runs it: the EnvironmentFile ($1) read as root,
# then the command (after $2, the unit's User) as that user with $ARGS split in words.
# shellcheck disable=SC2016
UNIT_SH='set -a; . "$1"; set +a; u="$2"; shift 2; exec runuser -u "$u" -- "$@" $ARGS'

# Prometheus' and Alertmanager's HTTP APIs, asked on the monitoring host (the bundle's
# /etc/default files: --web.listen-address=:9090 and :9093, every address).
prom_api() { on "$MONITORING_HOST" curl -sf -m 3 "http://127.0.0.1:9090$1"; }
am_api() { on "$MONITORING_HOST" curl -sf -m 3 "http://127.0.0.1:9093$1"; }

# An instant PromQL query on the monitoring host's Prometheus: one line per series,
# its labels' values named by the jq paths after the query, then its value.
prom_query() {
  local q="$1"
  shift
  local fields="" f
  for f in "$@"; do fields="$fields\(.metric.$f) "; done
  on "$MONITORING_HOST" curl -sf -m 3 -G --data-urlencode "query=$q" http://127.0.0.1:9090/api/v1/query |
    jq -r ".data.result[] | \"$fields\\(.value[1])\""
}

# What the monitoring layer holds and uses, measured: the series Prometheus holds now
# (counted by a query: its own prometheus_tsdb_head_series lags by a scrape and, this
# soon after the start, by the head's first appends), the
# series each target of a job exposes (with its own up and scrape_* series; the
# planner counts 2,500 a host), and the resident memory of each kind of process (their
# own process_resident_memory_bytes, the largest of each job).
monitoring_figures() {
  local series per rss
  series="$(prom_query 'count({__name__!=""})')"
  per="$(prom_query 'round(count by (job) ({job!=""}) / on (job) count by (job) (up == 1))' job |
    sort | awk '{ printf "%s%s %s", s, $1, $2; s = ", " }')"
  rss="$(prom_query 'max by (job) (process_resident_memory_bytes)' job |
    sort | awk '{ printf "%s%s %.0f", s, $1, $2 / 1048576; s = ", " }')"
  echo "monitoring figures: Prometheus holds ${series%.*} series; series a target: $per; resident MiB (largest of each job): $rss"
}

# The lab's paths for the monitoring host's files (see the header).
monitoring_mounts() {
  local etc="$LAB_DIR/bundle/hosts/$MONITORING_HOST/etc/prometheus" var="$LAB_DIR/prometheus"
  local pgb="$LAB_DIR/bundle/hosts/synapse/etc/prometheus-pgbouncer-exporter.conf"
  install -d -o prometheus -g prometheus -m 0755 "$var" "$var/metrics2" "$var/alertmanager" \
    "$var/node-exporter"
  # setup-monitoring.sh's own step: Prometheus (user prometheus) reads the HAProxy
  # stats password.
  chown root:prometheus "$etc/haproxy-stats.password"
  chmod 0640 "$etc/haproxy-stats.password"
  host_etc "$MONITORING_HOST" prometheus "$etc"
  if [ -f "$pgb" ]; then host_etc synapse prometheus-pgbouncer-exporter.conf "$pgb"; fi
  in_lab mount --bind "$var" /var/lib/prometheus
}

# The checks setup-monitoring.sh runs before it starts the services, with the
# packages' own tools (the rules' unit tests run in tests/validate_monitoring.rs).
monitoring_checks() {
  on "$MONITORING_HOST" promtool check config /etc/prometheus/prometheus.yml > /dev/null ||
    die "promtool check config failed"
  on "$MONITORING_HOST" amtool check-config /etc/prometheus/alertmanager.yml > /dev/null ||
    die "amtool check-config failed"
  on "$MONITORING_HOST" prometheus-blackbox-exporter --config.check \
    --config.file=/etc/prometheus/blackbox.yml > /dev/null 2>&1 ||
    die "the blackbox exporter rejects blackbox.yml"
}

# Starts a daemon on HOST (`daemon HOST NAME COMMAND…`): in the host's own view of the
# file system where a layer gave it one (backup.sh's host_ns_up: the bundle's /etc on
# the host's, its own node_exporter textfile directory), else as `daemon` does.
exporter_daemon() {
  if [ -s "$LAB_DIR/$1/ns.pid" ]; then host_daemon "$@"; else daemon "$@"; fi
}

# The path HOST's unit reads for the bundle's /etc/FILE: /etc/FILE in the host's own
# view, else the bundle's copy.
etc_file() {
  if [ -s "$LAB_DIR/$1/ns.pid" ]; then echo "/etc/$2"; else echo "$LAB_DIR/bundle/hosts/$1/etc/$2"; fi
}

# The exporters: node_exporter on every planned host, postgres_exporter on every
# Patroni host, the bundle's pgbouncer exporter on the Synapse host (restarted every
# 5 s while it fails, as its drop-in says: it exits while PgBouncer is not there).
start_exporters() {
  local h b="$LAB_DIR/bundle/hosts"
  for h in $(planned_hosts | awk '{ print $2 }'); do
    exporter_daemon "$h" node-exporter bash -c "$UNIT_SH" _ /etc/default/prometheus-node-exporter \
      prometheus /usr/bin/prometheus-node-exporter
  done
  for h in $(patroni_hosts); do
    exporter_daemon "$h" postgres-exporter bash -c "$UNIT_SH" _ \
      "$(etc_file "$h" default/prometheus-postgres-exporter)" prometheus /usr/bin/prometheus-postgres-exporter
  done
  local py="$b/synapse/usr/local/lib/synapse-planner/pgbouncer_exporter.py"
  if [ -f "$py" ]; then
    chmod 0755 "$b/synapse" "$b/synapse/usr" "$b/synapse/usr/local" "$b/synapse/usr/local/lib" \
      "$b/synapse/usr/local/lib/synapse-planner"
    # shellcheck disable=SC2016
    exporter_daemon synapse pgbouncer-exporter bash -c 'set -a; . "$1"; set +a
      export LICENCE_LOCATION=/usr/share/doc/prometheus-pgbouncer-exporter/copyright
      export CONFIG=/etc/prometheus-pgbouncer-exporter.conf
      while true; do runuser -u postgres -- /usr/bin/python3 "$2" && break; sleep 5; done' \
      _ "$(etc_file synapse default/prometheus-pgbouncer-exporter-synapse-planner)" "$py"
  fi
}

# Exporters, then Prometheus, Alertmanager and the blackbox exporter on the monitoring
# host; waits until Prometheus and Alertmanager answer. After start_database.
start_monitoring() {
  monitoring_mounts
  monitoring_checks
  start_exporters
  daemon "$MONITORING_HOST" blackbox bash -c "$UNIT_SH" _ \
    "$LAB_DIR/bundle/hosts/$MONITORING_HOST/etc/default/prometheus-blackbox-exporter" \
    prometheus /usr/bin/prometheus-blackbox-exporter
  daemon "$MONITORING_HOST" alertmanager bash -c "$UNIT_SH" _ \
    "$LAB_DIR/bundle/hosts/$MONITORING_HOST/etc/default/prometheus-alertmanager" \
    prometheus /usr/bin/prometheus-alertmanager
  daemon "$MONITORING_HOST" prometheus bash -c "$UNIT_SH" _ \
    "$LAB_DIR/bundle/hosts/$MONITORING_HOST/etc/default/prometheus" \
    prometheus /usr/bin/prometheus
  wait_for "Prometheus ready" 60 prom_api /-/ready > /dev/null
  wait_for "Alertmanager ready" 60 am_api /-/ready > /dev/null
}

# Every scrape target Prometheus has, one line each: JOB INSTANCE ADDRESS up|down|unknown
# (ADDRESS is the target as prometheus.yml lists it). For the blackbox exporter's probe
# jobs, up means the probe succeeded (probe_success 1), not only that the exporter
# answered.
targets_up() {
  local t p
  t="$(prom_api /api/v1/targets)" || return 1
  p="$(prom_api /api/v1/query?query=probe_success)" || return 1
  jq -rn --argjson t "$t" --argjson p "$p" '
    ([$p.data.result[] | {("\(.metric.job) \(.metric.target)"): .value[1]}] | add // {}) as $probe
    | $t.data.activeTargets[]
    | "\(.labels.job) \(.discoveredLabels.__address__)" as $k
    | "\($k | split(" ")[0]) \(.labels.instance) \(.discoveredLabels.__address__) \(
        if $probe[$k] == null then .health elif $probe[$k] == "1" then "up" else "down" end)"' | sort
}

# Whether every target of each JOB is up (and each JOB has a target).
jobs_up() {
  local t j
  t="$(targets_up)" || return 1
  for j in "$@"; do
    awk -v j="$j" '$1 == j { n++; if ($4 != "up") bad = 1 } END { exit !(n > 0 && !bad) }' <<< "$t" ||
      return 1
  done
}

# The `instance` label prometheus.yml gives HOST (its node_exporter target).
instance_of() {
  local a
  a="$(address_of "$1"):9100"
  targets_up | awk -v a="$a" '$1 == "node" && $3 == a { print $2; exit }'
}

# Every alert Prometheus holds (pending or firing) or Alertmanager holds, one line per
# alert name and instance: NAME INSTANCE PROMETHEUS ALERTMANAGER, where PROMETHEUS is
# pending|firing|inactive and ALERTMANAGER is active|suppressed|none.
alert_rows() {
  local p a
  p="$(prom_api /api/v1/alerts)" || return 1
  a="$(am_api /api/v2/alerts)" || return 1
  jq -rn --argjson p "$p" --argjson a "$a" '
    def key: "\(.labels.alertname) \(.labels.instance // "-")";
    def best(order): group_by(.k) | map({(.[0].k): ([.[].v] | sort_by(order | index(.)) | .[0])}) | add // {};
    ([$p.data.alerts[] | {k: key, v: .state}] | best(["firing", "pending"])) as $ps
    | ([$a[] | {k: key, v: .status.state}] | best(["active", "suppressed", "unprocessed"])) as $am
    | (($ps | keys) + ($am | keys) | unique)[] as $k
    | "\($k) \($ps[$k] // "inactive") \($am[$k] // "none")"'
}

# The state of alert NAME (on INSTANCE, or its most advanced one): "PROMETHEUS
# ALERTMANAGER", as in alert_rows: "inactive none", "pending none", "firing active"…
alert_state() {
  local name="$1" instance="${2:-}" rows
  rows="$(alert_rows)" || return 1
  awk -v n="$name" -v i="$instance" '
    BEGIN { rank["inactive"] = 0; rank["pending"] = 1; rank["firing"] = 2; p = "inactive"; a = "none" }
    $1 == n && (i == "" || $2 == i) {
      if (rank[$3] > rank[p]) p = $3
      if (a == "none" || $4 == "active") a = $4
    }
    END { print p, a }' <<< "$rows"
}

# Whether alert NAME (on INSTANCE) is in STATE: pending (pending or firing in
# Prometheus), firing (firing in Prometheus and received by Alertmanager, active or
# suppressed), inactive (held by neither).
alert_is() {
  local s
  s="$(alert_state "$1" "${3:-}")" || return 1
  case "$2" in
    pending) [[ "$s" == pending* || "$s" == firing* ]] ;;
    firing) [[ "$s" == firing* && "$s" != *none ]] ;;
    inactive) [ "$s" = "inactive none" ] ;;
    *) die "alert state $2: pending, firing or inactive" ;;
  esac
}

# Waits up to SECONDS for alert NAME (on INSTANCE) to be in STATE (alert_is).
wait_alert() {
  local name="$1" state="$2" seconds="$3" instance="${4:-}"
  wait_for "$name $state${instance:+ on $instance}" "$seconds" alert_is "$name" "$state" "$instance"
}

# Every half second until killed: a time stamp and alert_rows, for a drill's timeline.
alert_log() {
  local t rows
  while true; do
    t="$(now)"
    rows="$(alert_rows 2> /dev/null)" && awk -v t="$t" 'NF { print t, $0 }' <<< "$rows"
    sleep 0.5
  done
}

# RFC 3339 time from an API as seconds since the epoch.
epoch() { date -d "$1" +%s.%3N; }

# A duration of prometheus.yml or a rule (15s, 1m, 2m) in seconds.
seconds_of() {
  awk -v d="$1" 'BEGIN { n = d + 0; u = substr(d, length(n "") + 1)
    print n * (u == "m" ? 60 : u == "h" ? 3600 : 1) }'
}

# A value of the bundle's monitoring files: global KEY of prometheus.yml, or the `for:`
# of alert NAME (rule file FILE).
prometheus_global() {
  python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["global"][sys.argv[2]])' \
    "$LAB_DIR/bundle/hosts/$MONITORING_HOST/etc/prometheus/prometheus.yml" "$1"
}
rule_for() {
  python3 -c 'import sys, yaml
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]:
        if r.get("alert") == sys.argv[2]: print(r.get("for", "0s"))' \
    "$LAB_DIR/bundle/hosts/$MONITORING_HOST/etc/prometheus/rules/$1.yml" "$2"
}

# From alert_log's LOG, after time T: "FIRST LAST FIRING" for alert NAME: the first and
# last time it was seen pending or firing in Prometheus, and whether it was ever firing
# (yes|no); or nothing if it never was.
seen_in_log() {
  awk -v n="$3" -v t="$2" '$1 > t && $2 == n && $4 != "inactive" { if (!f) f = $1; l = $1; if ($4 == "firing") x = 1 }
    END { if (f) print f, l, (x ? "yes" : "no") }' "$1"
}

# Drill: the database, the edge (HAProxy, keepalived, PgBouncer), coturn and monitoring
# up, every target of their jobs up; the Patroni leader's host dies (kill_host: its link
# down, every process on it SIGKILLed). The alert for a lost host (HostDown, hosts.yml:
# node_exporter down for 2m, critical) goes pending, then firing, and reaches
# Alertmanager; the drill measures the time from the kill to it in Alertmanager's API
# against the bound the bundle's files give: at least the rule's `for:`, at most `for:`
# + scrape_interval (the next scrape) + scrape_timeout (it fails: the host answers
# nothing) + evaluation_interval (the first evaluation that sees it). The database rules
# are watched too (docs/lab.md says which may fire and why none must).
cmd_drill_alerts() {
  lab_begin "${1:-}"
  local t0 leader inst
  t0="$(now)"
  start_database
  start_edge
  start_pgbouncer
  start_coturn
  echo "cluster up: etcd and Patroni on $(patroni_hosts | grep -c .) hosts, HAProxy, keepalived, PgBouncer and coturn in $(since "$t0") s"
  t0="$(now)"
  start_monitoring
  wait_for "every target of the database, edge, coturn, node and monitoring jobs up" 90 \
    jobs_up postgres patroni etcd pgbouncer haproxy haproxy-vip vip-tls coturn-turn coturn-turns \
    node prometheus alertmanager blackbox
  local up all
  up="$(targets_up | awk '$4 == "up"' | grep -c .)"
  all="$(targets_up | grep -c .)"
  echo "monitoring up: $up of $all targets up $(since "$t0") s after the exporters started; down: $(targets_up | awk '$4 != "up" { print $1 }' | sort | uniq -c | awk '{ printf "%s%s×%s", s, $2, $1; s = ", " }')"
  monitoring_figures
  leader="$(current_leader)"
  [ -n "$leader" ] || die "no Patroni leader"
  inst="$(instance_of "$leader")"
  [ -n "$inst" ] || die "no node target for $leader"
  job alert_log > "$LAB_DIR/alerts.log" 2>&1
  # Nothing the kill should cause is pending before it.
  local a
  for a in HostDown PatroniNoLeader PostgreSQLDown EtcdNoLeader EtcdQuorumLost; do
    wait_alert "$a" inactive 60
  done
  local t_kill t_pending t_firing
  t_kill="$(now)"
  kill_host "$leader"
  wait_alert HostDown pending 60 "$inst"
  t_pending="$(since "$t_kill")"
  # The database's own alert for a lost member (rules/database.yml), sooner than HostDown.
  wait_alert PatroniMemberDown firing 200
  local t_member f s o e
  t_member="$(since "$t_kill")"
  wait_alert HostDown firing 300 "$inst"
  t_firing="$(since "$t_kill")"
  kill "$LAB_JOB" 2> /dev/null || true
  alerts_report "$t_kill" "$t_pending" "$t_firing" "$leader" "$inst"
  f="$(seconds_of "$(rule_for database PatroniMemberDown)")"
  s="$(seconds_of "$(prometheus_global scrape_interval)")"
  o="$(seconds_of "$(prometheus_global scrape_timeout)")"
  e="$(seconds_of "$(prometheus_global evaluation_interval)")"
  echo "database alert: PatroniMemberDown firing in Alertmanager after $t_member s (between for = $f s and for + scrape_interval + scrape_timeout + evaluation_interval = $((f + s + o + e)) s)"
}

# The drill's figures: when Prometheus made HostDown pending (activeAt) and firing
# (Alertmanager's startsAt), when the drill saw it in Alertmanager, the bound, and what
# the database rules did meanwhile.
alerts_report() {
  local t_kill="$1" t_pending="$2" t_firing="$3" leader="$4" inst="$5" active starts
  active="$(prom_api /api/v1/alerts | jq -r --arg i "$inst" \
    '.data.alerts[] | select(.labels.alertname == "HostDown" and .labels.instance == $i) | .activeAt')"
  starts="$(am_api /api/v2/alerts | jq -r --arg i "$inst" \
    '.[] | select(.labels.alertname == "HostDown" and .labels.instance == $i) | .startsAt')"
  local f s o e lo hi
  f="$(seconds_of "$(rule_for hosts HostDown)")"
  s="$(seconds_of "$(prometheus_global scrape_interval)")"
  o="$(seconds_of "$(prometheus_global scrape_timeout)")"
  e="$(seconds_of "$(prometheus_global evaluation_interval)")"
  lo="$f"
  hi=$((f + s + o + e))
  local am_state new_leader noleader pgdown
  am_state="$(alert_state HostDown "$inst" | cut -d' ' -f2)"
  new_leader="$(current_leader)"
  noleader="$(seen_in_log "$LAB_DIR/alerts.log" "$t_kill" PatroniNoLeader)"
  pgdown="$(alert_state PostgreSQLDown)"
  echo "timeline: HostDown on $inst pending at $(awk -v a="$(epoch "$active")" -v k="$t_kill" 'BEGIN { printf "%.1f", a - k }') s (Prometheus' activeAt), firing at $(awk -v a="$(epoch "$starts")" -v k="$t_kill" 'BEGIN { printf "%.1f", a - k }') s (Alertmanager's startsAt); seen pending by the drill at $t_pending s; Alertmanager state $am_state"
  if [ -n "$noleader" ]; then
    local first last fired
    read -r first last fired <<< "$noleader"
    echo "database rules: PatroniNoLeader pending from $(awk -v a="$first" -v k="$t_kill" 'BEGIN { printf "%.1f", a - k }') s to $(awk -v a="$last" -v k="$t_kill" 'BEGIN { printf "%.1f", a - k }') s after the kill, firing: $fired (for: $(rule_for database PatroniNoLeader)); PostgreSQLDown: $pgdown; new leader: ${new_leader:-none}"
  else
    echo "database rules: PatroniNoLeader never pending; PostgreSQLDown: $pgdown; new leader: ${new_leader:-none}"
  fi
  echo "alerts: killed $leader; HostDown firing in Alertmanager after $t_firing s (between for = $lo s and for + scrape_interval + scrape_timeout + evaluation_interval = $hi s)"
}
