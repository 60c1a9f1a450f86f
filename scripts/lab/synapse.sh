# shellcheck shell=bash
# Synapse (layer 4): Redis, Synapse's main process and the plan's workers, and the
# router that stands in for Traefik and the playbook's reverse-proxy companion, all on
# the Synapse host, from the configuration the playbook renders from the bundle's
# vars.yml and vault.yml. Sourced by scripts/lab.sh.
#
# Functions other layers use, in this order, after lab_begin (and the database and
# PgBouncer, which Synapse needs):
#   render_synapse_configs   $LAB_DIR/synapse/: homeserver.yaml, log.config, worker-*.yaml
#                            and `processes` (one line per process: name, type, ports);
#                            the Synapse host's /etc/hosts (host_etc) names the containers
#   start_redis              redis-server on the Synapse host, its socket at the path
#                            the rendered config names (/run-valkey/valkey.sock)
#   start_synapse            main, then every worker; waits for each one's /health;
#                            $LAB_DIR/synapse/started holds "NAME SECONDS" per process
#   start_router             HAProxy on the Synapse host's published ports (81, 8449)
#                            routing each path to the process the playbook routes it to
#   synapse_rss NAME         a process's resident set (MiB)
#   synapse_requests NAME    its synapse_http_server_requests_received_total, by servlet
# Env: SYNAPSE_PLANNER_VENV (the venv with Synapse; default
# ~/.cache/synapse-planner/venv), SYNAPSE_PLANNER_RENDER (the lab_render_synapse
# example; built with cargo when absent).
#
# What is substituted, and why (nothing else is): every path the configuration names
# (signing key, media store, log config, pid file) is in $LAB_DIR/synapse, because the
# lab's hosts share one file system; redis-server 7.0 (Debian 12) runs where the
# playbook runs Valkey 9.1 (not in Debian 12), with the Valkey role's own settings; the
# processes run as root from the venv (PyPI's matrix-synapse at the version the bundle
# pins) instead of the playbook's containers, and the container names the configuration
# uses resolve to the Synapse host's address through that host's /etc/hosts (the lab's
# per-host /etc, where Docker's network would resolve them); HAProxy stands in for
# Traefik and the companion's nginx (nginx is not installed here), with their routing
# rules copied below.

SYNAPSE_VENV="${SYNAPSE_PLANNER_VENV:-$HOME/.cache/synapse-planner/venv}"
# The image's entrypoint (Synapse's docker/start.py, `run` mode) preloads jemalloc when
# it exists, and the cache autotuning vars.yml sets needs it: here Debian 12's
# libjemalloc2 5.3.0 (the image installs its own Debian base's libjemalloc2).
SYNAPSE_JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2

# The plan's Synapse host (named synapse in the bundle's hosts file).
synapse_host() { planned_hosts | awk '$2 == "synapse" { print $2; exit }'; }

# The processes file's lines: "NAME type=… config=… http=… federation=… metrics=…
# replication=…" (examples/lab_render_synapse.rs).
synapse_processes() { awk '{ print $1 }' "$LAB_DIR/synapse/processes"; }
process_field() {
  awk -v n="$1" -v k="$2" '$1 == n { for (i = 2; i <= NF; i++) { split($i, a, "=");
    if (a[1] == k) print a[2] } }' "$LAB_DIR/synapse/processes"
}

# The playbook's configuration, rendered from the bundle into $LAB_DIR/synapse by the
# same code the config-loader test checks (tests/support/synapse_render.rs).
render_synapse_configs() {
  local render="${SYNAPSE_PLANNER_RENDER:-$here/target/debug/examples/lab_render_synapse}"
  if [ ! -x "$render" ]; then
    [ -z "${SYNAPSE_PLANNER_RENDER:-}" ] || die "SYNAPSE_PLANNER_RENDER=$render is not executable"
    (cd "$here" && cargo build --quiet --example lab_render_synapse)
  fi
  mkdir -p "$LAB_DIR/synapse"
  "$render" "$LAB_DIR/bundle" "$LAB_DIR/synapse" > "$LAB_DIR/synapse/processes" ||
    die "lab_render_synapse failed"
  [ -s "$LAB_DIR/synapse/processes" ] || die "lab_render_synapse listed no process"
  # The names the configuration uses for containers (instance_map: matrix-synapse and
  # the stream writers; redis: matrix-valkey) are the Synapse host's address, as they
  # are one Docker network there; the planned hosts as prepare-host.sh adds them.
  local addr
  addr="$(address_of "$(synapse_host)")"
  {
    printf '127.0.0.1 localhost\n::1 localhost\n'
    grep -v '^#' "$LAB_DIR/bundle/hosts/all/hosts.append"
    echo "$addr $(synapse_processes | tr '\n' ' ')matrix-valkey matrix-synapse-reverse-proxy-companion"
  } > "$LAB_DIR/synapse/hosts"
  host_etc "$(synapse_host)" hosts "$LAB_DIR/synapse/hosts"
}

# Redis where the playbook runs Valkey, with the Valkey role's settings (the role at
# the version the playbook pins, requirements.yml:95-97, v9.1.1-0: templates/
# valkey.conf.j2, its socket /run/valkey/valkey.sock, unixsocketperm 777, and the RDB
# save rules of defaults/main.yml:119-123; no password, group_vars; port 6379). The Synapse units bind the socket's
# directory into every Synapse container at /run-valkey (matrix-synapse.service.j2:55,
# matrix-synapse-worker.service.j2:71, matrix_synapse_redis_path), where the rendered
# redis.path names it: the same bind here, in the lab's mount namespace. Its mount point,
# the empty directory /run-valkey, has to exist on this machine: it is created once and
# left (labs running side by side each mount their own directory on it; removing it
# would unmount theirs).
start_redis() {
  local host dir="$LAB_DIR/valkey"
  host="$(synapse_host)"
  [ -d /run-valkey ] || mkdir -m 0755 /run-valkey
  mkdir -p "$dir" "$LAB_DIR/hosts/$host/run/valkey"
  in_lab mount --bind "$LAB_DIR/hosts/$host/run/valkey" /run-valkey
  cat > "$dir/valkey.conf" << EOF
unixsocket /run/valkey/valkey.sock
unixsocketperm 777
save 3600 1
save 300 100
save 60 10000
port 6379
dir $dir
EOF
  daemon "$host" valkey redis-server "$dir/valkey.conf"
  wait_for "Redis on $host" 20 redis_up "$host"
}

redis_up() { [ "$(on "$1" redis-cli -s /run-valkey/valkey.sock ping 2> /dev/null)" = PONG ]; }

# The signing key the playbook generates at setup (the same Synapse command).
synapse_signing_key() {
  on "$(synapse_host)" "$SYNAPSE_VENV/bin/python" -m synapse.app.homeserver \
    -c "$LAB_DIR/synapse/homeserver.yaml" --generate-keys > /dev/null 2>&1 ||
    die "Synapse could not generate its signing key"
}

# Whether process NAME answers 200 on /health (its HTTP, federation or replication
# listener) or, having no HTTP listener, on its metrics listener.
synapse_healthy() {
  local name="$1" port host k
  host="$(synapse_host)"
  for k in http federation replication; do
    port="$(process_field "$name" "$k")"
    if [ "$port" != "-" ]; then
      [ "$(status "$host" "http://127.0.0.1:$port/health")" = 200 ]
      return
    fi
  done
  port="$(process_field "$name" metrics)"
  [ "$(status "$host" "http://127.0.0.1:$port/metrics")" = 200 ]
}

# Starts process NAME as the playbook's unit does (matrix-synapse.service.j2:71,
# matrix-synapse-worker.service.j2:84): main `-m synapse.app.homeserver -c
# homeserver.yaml`, a worker `-m synapse.app.<app> -c homeserver.yaml -c worker.yaml`.
# A layer may add to every process's environment (SYNAPSE_LAB_ENV, NAME=VALUE words) and
# configuration (SYNAPSE_LAB_CONFIGS, files read after the rendered ones): only the
# federation measurement does, and says what and why (federation.sh).
SYNAPSE_LAB_ENV=()
SYNAPSE_LAB_CONFIGS=()
synapse_start_process() {
  local name="$1" host config app c
  host="$(synapse_host)"
  config="$(process_field "$name" config)"
  local -a extra=()
  for c in "${SYNAPSE_LAB_CONFIGS[@]}"; do extra+=(-c "$c"); done
  if [ "$(process_field "$name" type)" = main ]; then
    daemon "$host" "$name" env LD_PRELOAD="$SYNAPSE_JEMALLOC" "${SYNAPSE_LAB_ENV[@]}" \
      "$SYNAPSE_VENV/bin/python" -m synapse.app.homeserver -c "$config" "${extra[@]}"
  else
    app="$(sed -n 's/^worker_app: //p' "$config")"
    daemon "$host" "$name" env LD_PRELOAD="$SYNAPSE_JEMALLOC" "${SYNAPSE_LAB_ENV[@]}" \
      "$SYNAPSE_VENV/bin/python" -m "$app" -c "$LAB_DIR/synapse/homeserver.yaml" -c "$config" "${extra[@]}"
  fi
}

# Synapse's Redis client needs txredisapi's reconnecting factory: txredisapi 1.6.0
# (what PyPI resolves matrix-synapse[redis] to now) made RedisFactory a plain Factory,
# and every Redis connection of Synapse 1.159.0 then fails with "AttributeError:
# 'super' object has no attribute 'startedConnecting'" (synapse/replication/tcp/
# redis.py). Synapse's own lock file pins 1.4.11, which its image ships.
synapse_venv_check() {
  [ -x "$SYNAPSE_VENV/bin/python" ] || die "no Synapse venv at $SYNAPSE_VENV (SYNAPSE_PLANNER_VENV)"
  "$SYNAPSE_VENV/bin/python" -c 'import sys, txredisapi
from twisted.internet.protocol import ReconnectingClientFactory as R
sys.exit(not issubclass(txredisapi.RedisFactory, R))' ||
    die "txredisapi in $SYNAPSE_VENV cannot run Synapse's Redis connections: install txredisapi==1.4.11 (Synapse's lock file)"
}

# Main first (it creates or upgrades the schema; workers refuse a database it has not
# prepared), then every worker at once. Each waits for its /health, bounded; the
# seconds from its start are in $LAB_DIR/synapse/started.
start_synapse() {
  [ -s "$LAB_DIR/synapse/processes" ] || render_synapse_configs
  synapse_venv_check
  [ -f "$SYNAPSE_JEMALLOC" ] || die "no $SYNAPSE_JEMALLOC (apt-get install libjemalloc2)"
  synapse_signing_key
  : > "$LAB_DIR/synapse/started"
  local t0 name
  t0="$(now)"
  synapse_start_process matrix-synapse
  wait_for "/health of matrix-synapse" 180 synapse_healthy matrix-synapse
  echo "matrix-synapse $(since "$t0")" >> "$LAB_DIR/synapse/started"
  t0="$(now)"
  local -a waiting=()
  for name in $(synapse_processes); do
    [ "$name" = matrix-synapse ] && continue
    synapse_start_process "$name"
    waiting+=("$name")
  done
  local end=$((SECONDS + 240)) left
  while [ ${#waiting[@]} -gt 0 ]; do
    left=()
    for name in "${waiting[@]}"; do
      if synapse_healthy "$name"; then
        echo "$name $(since "$t0")" >> "$LAB_DIR/synapse/started"
      else
        left+=("$name")
      fi
    done
    waiting=("${left[@]}")
    [ ${#waiting[@]} -eq 0 ] && break
    [ "$SECONDS" -lt "$end" ] || die "no /health after 240 s from: ${waiting[*]}"
    sleep 0.5
  done
}

# The PID of process NAME in the lab (its command line names its own config file).
synapse_pid() {
  local config
  config="$(process_field "$1" config)"
  if [ "$(process_field "$1" type)" = main ]; then
    in_lab pgrep -f -- "synapse.app.homeserver -c $config( |\$)" | head -n 1
  else
    in_lab pgrep -f -- "-c $config( |\$)" | head -n 1
  fi
}

# Resident set of process NAME, MiB.
synapse_rss() {
  local pid
  pid="$(synapse_pid "$1")"
  [ -n "$pid" ] || die "no process $1"
  # shellcheck disable=SC2016 # awk's fields
  in_lab awk '/^VmRSS:/ { printf "%.0f\n", $2 / 1024 }' "/proc/$pid/status"
}

# Process NAME's own request counters: "SERVLET METHOD COUNT" lines from its metrics
# listener (synapse_http_server_requests_received_total).
synapse_requests() {
  local port
  port="$(process_field "$1" metrics)"
  on "$(synapse_host)" curl -s -m 5 "http://127.0.0.1:$port/metrics" |
    awk '/^synapse_http_server_requests_received_total\{/ {
      m = $0; sub(/.*method="/, "", m); sub(/".*/, "", m)
      s = $0; sub(/.*servlet="/, "", s); sub(/".*/, "", s)
      print s, m, $NF }'
}

# The playbook's routing, in the order the companion's nginx tries it
# (roles/custom/matrix-synapse/templates/reverse_proxy_companion/nginx/conf.d/
# matrix-synapse-reverse-proxy-companion.conf.j2 @ c0681e4: regex locations are tried
# in the order they appear and the first match wins; nothing matched goes to `location
# /`, the main process, :316-322 and :398-403). One line per location: "BLOCK TYPE
# REGEX", BLOCK client (the companion's :8008 server) or federation (:8048), TYPE the
# worker type it goes to. The regexes are the playbook's variables, cited by line:
# roles/custom/matrix-synapse/defaults/main.yml (companion overrides, :2202-2207) and
# roles/custom/matrix-synapse/vars/main.yml (worker endpoints).
companion_routes() {
  cat << 'EOF'
client main ^/_matrix/client/(api/v1|r0|v3|unstable)/(account/3pid/|directory/list/room/|rooms/[^/]+/(forget|upgrade|report)|register)
client main ^/_matrix/client/(api/v1|r0|v3|unstable)/login/sso/redirect(/|$)
client main ^(/_matrix/client/(unstable|v1)/org.matrix.msc4108/rendezvous|/_synapse/client/rendezvous)$
client stream_writer:typing ^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/typing
client stream_writer:to_device ^/_matrix/client/(r0|v3|unstable)/sendToDevice/
client stream_writer:account_data ^/_matrix/client/(r0|v3|unstable)/.*/tags
client stream_writer:account_data ^/_matrix/client/(r0|v3|unstable)/.*/account_data
client stream_writer:receipts ^/_matrix/client/(r0|v3|unstable)/rooms/.*/receipt
client stream_writer:receipts ^/_matrix/client/(r0|v3|unstable)/rooms/.*/read_markers
client stream_writer:presence ^/_matrix/client/(api/v1|r0|v3|unstable)/presence/
client stream_writer:push_rules ^/_matrix/client/(api/v1|r0|v3|unstable)/pushrules/
client stream_writer:device_lists ^/_matrix/client/(r0|v3)/delete_devices$
client stream_writer:device_lists ^/_matrix/client/(api/v1|r0|v3|unstable)/devices(/|$)
client stream_writer:device_lists ^/_matrix/client/(r0|v3|unstable)/keys/upload(/|$)
client stream_writer:device_lists ^/_matrix/client/(api/v1|r0|v3|unstable)/keys/device_signing/upload$
client stream_writer:device_lists ^/_matrix/client/(api/v1|r0|v3|unstable)/keys/signatures/upload$
client stream_writer:thread_subscriptions ^/_matrix/client/unstable/io.element.msc4306/rooms/.*/thread/.*/subscription$
client stream_writer:thread_subscriptions ^/_matrix/client/unstable/io.element.msc4308/thread_subscriptions$
client stream_writer:quarantined_media_changes ^/_synapse/admin/v1/quarantine_media/.*$
EOF
  # vars/main.yml:83 and :90: the generic worker's endpoints (:202-292) that name
  # /_matrix/client, then those naming /_matrix/federation or /_matrix/key.
  generic_endpoints | grep '/_matrix/client' | sed 's/^/client generic_worker /'
  cat << 'EOF'
client room_worker ^/_matrix/client/.*?!(?<room>[A-Za-z0-9._=\-\/]+):[A-Za-z0-9.\-]+
client sync_worker ^/_matrix/client/(api/v1|r0|v3|unstable)/(sync|events|initialSync|rooms/[^/]+/initialSync)$
client sync_worker ^/_matrix/client/unstable/org.matrix.simplified_msc3575/sync$
client client_reader ^/_matrix/client/(api/v1|r0|v3|unstable)/room_keys/
client client_reader ^/_matrix/client/(api/v1|r0|v3|unstable)/keys/(query|changes|claim|room_keys/)
client client_reader ^/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device$
client client_reader ^/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device/[^/]*/events$
client client_reader ^/_matrix/client/(api/v1|r0|v3|unstable)/login
client client_reader ^/_matrix/client/(api/v1|r0|v3|unstable)/register(/available|/m.login.registration_token/validity|)?
client client_reader ^/_matrix/client/(api/v1|r0|v3|unstable)/password_policy
client client_reader ^/_matrix/client/(api/v1|r0|v3|unstable)/profile
client client_reader ^/_matrix/client/(api/v1|r0|v3|unstable)/account/(3pid|whoami|deactivate)
client client_reader ^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/(joined_members|context/.*|members|state|hierarchy|relations/|event/|aliases|timestamp_to_event|redact|send|state/|(join|invite|leave|ban|unban|kick))
client client_reader ^/_matrix/client/(api/v1|r0|v3|unstable)/(createRoom|publicRooms|versions|voip/turnServer|joined_rooms|search|directory/room/.*|capabilities)
client client_reader ^/_matrix/client/(api/v1|r0|v3|unstable)/user/.*/filter(/|$)
client client_reader ^/_matrix/client/unstable/org.matrix.msc4143/rtc/transports$
EOF
  media_endpoints | sed 's/^/client media_repository /'
  cat << 'EOF'
client user_dir ^/_matrix/client/(r0|v3|unstable)/user_directory/search$
federation main ^/_matrix/federation/v1/openid/userinfo$
federation room_worker ^/_matrix/federation/v[12]/(?:state_ids|get_missing_events)/(?:%21|!)(?<room>[A-Za-z0-9._=\-\/]+)(:|%3A)[A-Za-z0-9.\-]+
EOF
  generic_endpoints | grep -E '/_matrix/federation|/_matrix/key' | sed 's/^/federation generic_worker /'
  media_endpoints | sed 's/^/federation media_repository /'
  echo 'federation federation_reader ^/_matrix/(federation/(v1|v2)|key/v2)/'
}

# vars/main.yml:335-348, matrix_synapse_workers_media_repository_endpoints.
media_endpoints() {
  cat << 'EOF'
^/_matrix/media/
^/_matrix/client/v1/media/
^/_matrix/federation/v1/media/
^/_synapse/admin/v1/purge_media_cache$
^/_synapse/admin/v1/room/.*/media.*$
^/_synapse/admin/v1/user/.*/media.*$
^/_synapse/admin/v1/media/.*$
^/_synapse/admin/v1/users/.*/media$
EOF
}

# vars/main.yml:202-292, matrix_synapse_workers_generic_worker_endpoints.
generic_endpoints() {
  cat << 'EOF'
^/_matrix/client/(r0|v3)/sync$
^/_matrix/client/(api/v1|r0|v3)/events$
^/_matrix/client/(api/v1|r0|v3)/initialSync$
^/_matrix/client/(api/v1|r0|v3)/rooms/[^/]+/initialSync$
^/_matrix/client/unstable/org.matrix.simplified_msc3575/sync$
^/_matrix/federation/v1/event/
^/_matrix/federation/v1/state/
^/_matrix/federation/v1/state_ids/
^/_matrix/federation/v1/backfill/
^/_matrix/federation/v1/get_missing_events/
^/_matrix/federation/v1/publicRooms
^/_matrix/federation/v1/query/
^/_matrix/federation/v1/make_join/
^/_matrix/federation/v1/make_leave/
^/_matrix/federation/(v1|v2)/send_join/
^/_matrix/federation/(v1|v2)/send_leave/
^/_matrix/federation/(v1|v2)/invite/
^/_matrix/federation/v1/event_auth/
^/_matrix/federation/v1/timestamp_to_event/
^/_matrix/federation/v1/exchange_third_party_invite/
^/_matrix/federation/v1/user/devices/
^/_matrix/key/v2/query
^/_matrix/federation/v1/hierarchy/
^/_matrix/federation/v1/send/
^/_matrix/client/(api/v1|r0|v3|unstable)/createRoom$
^/_matrix/client/(api/v1|r0|v3|unstable)/publicRooms$
^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/joined_members$
^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/context/.*$
^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/members$
^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/state$
^/_matrix/client/v1/rooms/.*/hierarchy$
^/_matrix/client/(v1|unstable)/rooms/.*/relations/
^/_matrix/client/v1/rooms/.*/threads$
^/_matrix/client/unstable/im.nheko.summary/rooms/.*/summary$
^/_matrix/client/unstable/im.nheko.summary/summary/.*$
^/_matrix/client/unstable/org.matrix.msc4143/rtc/transports$
^/_matrix/client/(r0|v3|unstable)/account/3pid$
^/_matrix/client/(r0|v3|unstable)/account/whoami$
^/_matrix/client/(r0|v3|unstable)/account/deactivate$
^/_matrix/client/versions$
^/_matrix/client/(api/v1|r0|v3|unstable)/voip/turnServer$
^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/event/
^/_matrix/client/(api/v1|r0|v3|unstable)/joined_rooms$
^/_matrix/client/v1/rooms/.*/timestamp_to_event$
^/_matrix/client/(api/v1|r0|v3|unstable/.*)/rooms/.*/aliases
^/_matrix/client/(api/v1|r0|v3|unstable)/search$
^/_matrix/client/(r0|v3|unstable)/user/.*/filter(/|$)
^/_matrix/client/(api/v1|r0|v3|unstable)/directory/room/.*$
^/_matrix/client/(r0|v3|unstable)/capabilities$
^/_matrix/client/(r0|v3|unstable)/notifications$
^/_matrix/client/(r0|v3|unstable)/keys/query$
^/_matrix/client/(r0|v3|unstable)/keys/changes$
^/_matrix/client/(r0|v3|unstable)/keys/claim$
^/_matrix/client/(r0|v3|unstable)/room_keys/
^/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device$
^/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device/[^/]*/events$
^/_matrix/client/(api/v1|r0|v3|unstable)/login$
^/_matrix/client/(r0|v3|unstable)/register$
^/_matrix/client/(r0|v3|unstable)/register/available$
^/_matrix/client/v1/register/m.login.registration_token/validity$
^/_matrix/client/(r0|v3|unstable)/password_policy$
^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/redact
^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/send
^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/state/
^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/(join|invite|leave|ban|unban|kick)$
^/_matrix/client/(api/v1|r0|v3|unstable)/join/
^/_matrix/client/(api/v1|r0|v3|unstable)/knock/
^/_matrix/client/(api/v1|r0|v3|unstable)/profile/
^/_matrix/client/unstable/org.matrix.msc4140/delayed_events(/.*/restart)?$
^/_synapse/admin/v2/users/[^/]+$
EOF
}

# The processes of worker TYPE (stream_writer:STREAM for a stream's writers).
processes_of() {
  local type="${1%%:*}" stream=""
  [ "$type" = "$1" ] || stream="${1#*:}"
  awk -v t="$type" -v s="$stream" '{ ty = ""; st = ""
    for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == "type") ty = a[2]; if (a[1] == "stream") st = a[2] }
    if (ty == t && (s == "" || st == s)) print $1 }' "$LAB_DIR/synapse/processes"
}

# The backend a route of TYPE in BLOCK goes to: the workers' upstream, or the main
# process where the template says so for a stream without writers
# (render_locations_to_upstream_or_main, :105-121); nothing when a type without workers
# has no location at all (the template's `if … | length > 0` blocks).
route_backend() {
  local block="$1" type="$2"
  if [ "$type" = main ]; then
    echo "main_$block"
  elif [ -n "$(processes_of "$type")" ]; then
    echo "${type//:/_}"
  elif [[ "$type" == stream_writer:* ]]; then
    echo "main_$block"
  fi
}

# The router's HAProxy configuration: Traefik's two entrypoints on the Synapse host's
# published ports (vars.yml traefik_container_web_host_bind_port and
# matrix_playbook_public_matrix_federation_api_traefik_entrypoint_host_bind_port), each
# passing what Traefik's routers send to the companion (templates/reverse_proxy_companion/
# labels.j2 with defaults/main.yml:1991-2043: Host(the server's name) and PathPrefix
# /_matrix, /_synapse/client, /_synapse/admin — the last public because Ketesa is on,
# group_vars/matrix_servers:5064 — on the web entrypoint; /_matrix on the federation
# one); anything else gets Traefik's 404 (Element, Ketesa and the well-known files are
# other containers, not in the lab). Then the companion's locations, in order. nginx
# matches a location against the decoded path: url_dec here. The upstreams balance as
# the template's (:162-196) where HAProxy has the same method (least_conn → leastconn,
# hash $http_x_forwarded_for → hdr(X-Forwarded-For), none → roundrobin); the room
# workers' hash of the room ID becomes the path's and the sync workers' hash of the
# user (a whoami call per token, njs) the access token's — with one worker of each in
# the lab plan, neither changes where a request goes.
router_config() {
  local web="$1" federation="$2" name="$3" web_trusted="$4" federation_trusted="$5" federation_port="$6"
  local block type regex be port
  cat << EOF
global
  log stdout format raw local0
  maxconn 4096
defaults
  mode http
  log global
  option httplog
  timeout connect 5s
  timeout client 60s
  timeout server 60s
EOF
  for block in client federation; do
    if [ "$block" = client ]; then
      printf 'frontend web\n  bind %s\n' "$web"
      echo "  acl companion path_beg /_matrix /_synapse/client /_synapse/admin"
      echo "  acl trusted src $web_trusted"
    else
      printf 'frontend matrix-federation\n  bind %s\n' "$federation"
      echo "  acl companion path_beg /_matrix"
      echo "  acl trusted src $federation_trusted"
    fi
    echo "  acl named req.hdr(host),field(1,:) -i $name"
    # The static-files container's /.well-known/matrix/server on the web entrypoint
    # (group_vars/matrix_servers:6267 and :6318, roles/custom/matrix-static-files/
    # defaults/main.yml:60-63: Host(matrix_server_fqn_matrix) && PathPrefix(/.well-known/
    # matrix), m.server "<matrix_server_fqn_matrix_federation>:<matrix_federation_public_port>",
    # roles/custom/matrix-base/defaults/main.yml:116 and :164), which a remote server
    # reads to find this one's federation port.
    [ "$block" = client ] &&
      echo "  http-request return status 200 content-type application/json string '{\"m.server\":\"$name:$federation_port\"}' if named { path /.well-known/matrix/server }"
    echo "  http-request return status 404 if !named || !companion"
    # Traefik's forwarded headers: kept from a trusted source, dropped from any other;
    # the client's address appended to X-Forwarded-For (one header line, which
    # Synapse reads), X-Forwarded-Proto set to the entrypoint's scheme when absent.
    # The companion's nginx passes them on untouched.
    echo "  http-request del-header X-Forwarded-For if !trusted"
    echo "  http-request del-header X-Forwarded-Proto if !trusted"
    echo "  http-request set-header X-Forwarded-For \"%[req.fhdr(X-Forwarded-For)], %[src]\" if { req.fhdr(X-Forwarded-For) -m found }"
    echo "  http-request set-header X-Forwarded-For %[src] if !{ req.fhdr(X-Forwarded-For) -m found }"
    echo "  http-request set-header X-Forwarded-Proto http if !{ req.hdr(X-Forwarded-Proto) -m found }"
    while read -r b type regex; do
      [ "$b" = "$block" ] || continue
      be="$(route_backend "$block" "$type")"
      [ -n "$be" ] && echo "  use_backend $be if { path,url_dec -m reg '$regex' }"
    done < <(companion_routes)
    echo "  default_backend main_$block"
  done
  printf 'backend main_client\n  server matrix-synapse matrix-synapse:%s\n' "$(process_field matrix-synapse http)"
  printf 'backend main_federation\n  server matrix-synapse matrix-synapse:%s\n' "$(process_field matrix-synapse federation)"
  for type in $(companion_routes | awk '$2 != "main" { print $2 }' | sort -u); do
    [ -n "$(processes_of "$type")" ] || continue
    printf 'backend %s\n' "${type//:/_}"
    case "$type" in
      client_reader | media_repository) echo "  balance leastconn" ;;
      federation_reader | generic_worker) echo "  balance hdr(X-Forwarded-For)" ;;
      room_worker) echo "  balance uri" ;;
      sync_worker) echo "  balance hdr(Authorization)" ;;
      *) echo "  balance roundrobin" ;;
    esac
    for name in $(processes_of "$type"); do
      port="$(process_field "$name" http)"
      [ "$port" != "-" ] || port="$(process_field "$name" federation)"
      echo "  server $name $name:$port"
    done
  done
}

# The router on the Synapse host: HAProxy (Debian 12's 2.6) with router_config, the
# container names resolving as the companion's resolver does.
start_router() {
  local host web federation name
  host="$(synapse_host)"
  [ -s "$LAB_DIR/synapse/processes" ] || render_synapse_configs
  web="$(vars_value traefik_container_web_host_bind_port)"
  federation="$(vars_value matrix_playbook_public_matrix_federation_api_traefik_entrypoint_host_bind_port)"
  name="$(vars_value matrix_server_fqn_matrix)"
  router_config "$web" "$federation" "$name" \
    "$(vars_value traefik_config_entrypoint_web_forwardedHeaders_trustedIPs)" \
    "$(vars_value matrix_playbook_public_matrix_federation_api_traefik_entrypoint_config_custom forwardedHeaders trustedIPs)" \
    "$(vars_value matrix_federation_public_port 2> /dev/null || echo 8448)" \
    > "$LAB_DIR/synapse/router.cfg"
  on "$host" haproxy -c -q -f "$LAB_DIR/synapse/router.cfg" >&2 ||
    die "HAProxy refuses the router's configuration ($LAB_DIR/synapse/router.cfg)"
  daemon "$host" router haproxy -db -f "$LAB_DIR/synapse/router.cfg"
  wait_for "the router on $web" 20 on "$host" curl -s -o /dev/null -m 2 "http://$web/"
}

# A value of the bundle's vars.yml (an `!unsafe` string as its text), KEY then any keys
# below it; a list's items separated by spaces.
vars_value() {
  python3 -c 'import sys, yaml
yaml.SafeLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
v = yaml.safe_load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[k]
print(" ".join(map(str, v)) if isinstance(v, list) else v)' \
    "$(ls "$LAB_DIR"/bundle/ansible/inventory/host_vars/*/vars.yml)" "$@"
}

# Every process's request counters at once, from its metrics listener: "NAME SERVLET
# METHOD COUNT" lines, without Synapse's replication servlets (the workers' calls to
# each other, which run whatever the probes do).
synapse_counts() {
  local name args=()
  for name in $(synapse_processes); do
    args+=("$name" "$(process_field "$name" metrics)")
  done
  # shellcheck disable=SC2016 # expanded by that sh
  on "$(synapse_host)" sh -c 'while [ $# -gt 1 ]; do
      curl -s -m 5 "http://127.0.0.1:$2/metrics" | sed -n "s/^synapse_http_server_requests_received_total{/$1 /p"
      shift 2
    done' _ "${args[@]}" |
    awk '{ m = $0; sub(/.*method="/, "", m); sub(/".*/, "", m)
      s = $0; sub(/.*servlet="/, "", s); sub(/".*/, "", s)
      if (s !~ /^Replication/) print $1, s, m, $NF }'
}

# What counted between two synapse_counts: "NAME SERVLET +N" lines.
counted() {
  LC_ALL=C join -j1 -a2 -e0 -o '2.1,2.2,1.2' \
    <(echo "$1" | awk 'NF { print $1 "|" $2 "|" $3, $4 }' | LC_ALL=C sort) \
    <(echo "$2" | awk 'NF { print $1 "|" $2 "|" $3, $4 }' | LC_ALL=C sort) |
    awk '$2 > $3 { split($1, k, "|"); print k[1], k[2], "+" $2 - $3 }'
}

# The probes: a request of each type the routing distinguishes, as "ENTRY METHOD PATH
# TYPE" (TYPE: the worker type the playbook's routing sends it to, main for the main
# process). ENTRY web or federation: from the Synapse host to the router's published
# ports, as the edge's HAProxy sends; vip-web or vip-federation: from the monitoring
# host through the whole path, HTTPS on the VIP (:443, :8448) with the bundle's
# certificate, HAProxy, the router. Unauthenticated: the servlet that answers (401 or
# 200) counts it. Room and user IDs are percent-encoded, as clients send them.
synapse_probes() {
  cat << 'EOF'
web GET /_matrix/client/versions main
web GET /_matrix/client/v3/register/available?username=probe main
web GET /_synapse/admin/v1/server_version main
web POST /_matrix/client/v3/rooms/%21probe%3Alab.example.org/receipt/m.read/%24event main
web GET /_matrix/client/v3/pushrules/ main
web GET /_matrix/client/v3/login client_reader
web GET /_matrix/client/v3/sync sync_worker
web GET /_matrix/client/v3/rooms/%21probe%3Alab.example.org/messages room_worker
web PUT /_matrix/client/v3/rooms/%21probe%3Alab.example.org/typing/%40probe%3Alab.example.org stream_writer:typing
web POST /_matrix/client/v3/user_directory/search user_dir
web GET /_matrix/client/v1/media/config media_repository
federation GET /_matrix/federation/v1/openid/userinfo main
federation GET /_matrix/federation/v1/version federation_reader
federation GET /_matrix/key/v2/server federation_reader
federation GET /_matrix/federation/v1/state_ids/%21probe%3Alab.example.org room_worker
federation GET /_matrix/federation/v1/media/download/probe media_repository
vip-web GET /_matrix/client/v3/sync sync_worker
vip-web GET /_matrix/client/v3/rooms/%21probe%3Alab.example.org/messages room_worker
vip-federation GET /_matrix/federation/v1/version federation_reader
EOF
}

# The processes whose own log (Synapse's access log, synapse.access.http.PORT, which
# names each request's user agent) holds the text UA.
logged_by() {
  local name
  for name in $(synapse_processes); do
    if grep -q -F -- "$1" "$LAB_DIR/logs/$(synapse_host)-$name.log" 2> /dev/null; then echo "$name"; fi
  done
}
logged_by_any() { [ -n "$(logged_by "$1")" ]; }

# Sends each probe through the router (Host: the server's name, a user agent of its
# own) and checks that exactly the process the routing promises logged it, and that
# its own request counter grew (the servlet that answered). A type the plan has no
# worker for goes to main, as the template's fallbacks do. Other requests run
# meanwhile (the edge's HAProxy checks /_matrix/client/versions and
# /_matrix/federation/v1/version through the router every few seconds, workers call
# each other): the user agent tells the probe apart. Prints one line per probe and a
# summary; fails unless every probe went where it should.
probe_routes() {
  local host web federation name entry method path type want code before after got by n=0 ok=0 ua
  local client url vip seen via
  local -a body
  host="$(synapse_host)"
  web="$(vars_value traefik_container_web_host_bind_port)"
  federation="$(vars_value matrix_playbook_public_matrix_federation_api_traefik_entrypoint_host_bind_port)"
  name="$(vars_value matrix_server_fqn_matrix)"
  vip="$(vip_address)"
  while read -r entry method path type; do
    n=$((n + 1))
    ua="synapse-planner-lab-probe-$n-$$"
    want="$(processes_of "$type" | head -n 1)"
    [ -n "$want" ] || want=matrix-synapse
    body=()
    [ "$method" = GET ] || body=(--data '{}')
    client="$host"
    case "$entry" in
      web) url="http://$web$path" ;;
      federation) url="http://$federation$path" ;;
      vip-web) url="https://$name$path" ;;
      vip-federation) url="https://$name:8448$path" ;;
    esac
    if [[ "$entry" == vip-* ]]; then
      client="$(planned_hosts | awk '$2 == "monitoring" { print $2 }')"
      client="${client:-$host}"
      body+=(--cacert "$LAB_DIR/bundle/scripts/certs/ca/ca.crt" --resolve "$name:443:$vip" --resolve "$name:8448:$vip")
    fi
    before="$(synapse_counts)"
    code="$(on "$client" curl -s -o /dev/null -m 10 -w '%{http_code}' -X "$method" -A "$ua" \
      -H "Host: $name" -H 'Content-Type: application/json' "${body[@]}" "$url" || true)"
    # Synapse logs a request once it has answered it: wait for that, bounded.
    for _ in $(seq 1 50); do
      logged_by_any "$ua" && break
      sleep 0.2
    done
    after="$(synapse_counts)"
    by="$(logged_by "$ua" | paste -sd, -)"
    got="$(counted "$before" "$after" | awk -v w="$want" '$1 == w { print $2, $3 }' | paste -sd, -)"
    # The client's address as Synapse took it from X-Forwarded-For (the access log's
    # field after the request's name).
    seen="$(grep -h -F -- "$ua" "$LAB_DIR/logs/$host-$want.log" 2> /dev/null | awk -F' - ' '{ print $6; exit }')"
    via="${url%%/_*}"
    if [ "$by" = "$want" ] && [ -n "$got" ] && [ "$seen" = "$(address_of "$client")" ]; then
      ok=$((ok + 1))
      echo "route $method $path via $via from $client -> $want ($type): in its log only, client $seen; its counters: $got; HTTP $code"
    else
      echo "route $method $path via $via from $client -> expected $want ($type), HTTP $code; logged by: ${by:-nobody}, client ${seen:-none}; $want's counters: ${got:-unchanged}"
    fi
  done < <(synapse_probes)
  # What Traefik has no router for is not Synapse's: the router answers 404 itself.
  n=$((n + 1))
  ua="synapse-planner-lab-probe-$n-$$"
  code="$(on "$host" curl -s -o /dev/null -m 5 -w '%{http_code}' -A "$ua" -H "Host: $name" "http://$web/element/")"
  sleep 1
  by="$(logged_by "$ua" | paste -sd, -)"
  echo "route GET /element/ via http://$web from $host -> the router's 404 (no Synapse route): HTTP $code, logged by: ${by:-nobody}"
  [ "$code" = 404 ] && [ -z "$by" ] && ok=$((ok + 1))
  echo "routes: $ok of $n reached the process the playbook routes them to"
  [ "$ok" = "$n" ]
}

# PgBouncer's pool for Synapse's database: its client connections (Synapse's processes'
# pools) and its server connections to PostgreSQL, from its admin console.
pgbouncer_pools() {
  on "$(synapse_host)" env PGPASSWORD="$(vault vault_pgbouncer_stats_password)" psql -X -q --csv \
    "host=$(address_of "$(synapse_host)") port=6432 dbname=pgbouncer user=pgbouncer_stats connect_timeout=2" \
    -c 'SHOW POOLS' | python3 -c 'import csv, sys
rows = [r for r in csv.DictReader(sys.stdin) if r["database"] == "synapse"]
def n(*keys):
    return sum(int(r[k]) for r in rows for k in keys)
clients, waiting = n("cl_active", "cl_waiting"), n("cl_waiting")
servers = n("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login")
print("pgbouncer: %d client connections from Synapse (%d waiting), %d server connections to PostgreSQL" % (clients, waiting, servers))'
}

# Drill: the database (layer 2), the edge and PgBouncer on the Synapse host (layer 3), Redis,
# Synapse's main process and every worker of the plan, and the router; proves every
# process healthy, every probe routed where the playbook routes it (each process's own
# counters), and prints each process's start time and resident memory.
cmd_drill_synapse() {
  synapse_venv_check
  lab_begin "${1:-}"
  local t0 t_db t_redis t_main t_workers name
  t0="$(now)"
  start_database
  start_edge
  start_pgbouncer
  t_db="$(since "$t0")"
  render_synapse_configs
  t0="$(now)"
  start_redis
  t_redis="$(since "$t0")"
  t0="$(now)"
  start_synapse
  t_main="$(awk '$1 == "matrix-synapse" { print $2 }' "$LAB_DIR/synapse/started")"
  t_workers="$(awk '$1 != "matrix-synapse" { if ($2 > m) m = $2 } END { print m + 0 }' "$LAB_DIR/synapse/started")"
  start_router
  echo "synapse: database, edge and PgBouncer up in $t_db s, Redis in $t_redis s; main healthy in $t_main s (first start: the schema), $(($(synapse_processes | grep -c .) - 1)) workers healthy in $t_workers s (the slowest, all started together); all up in $(since "$t0") s"
  for name in $(synapse_processes); do
    echo "process $name type=$(process_field "$name" type) start=$(awk -v n="$name" '$1 == n { print $2 }' "$LAB_DIR/synapse/started") s rss=$(synapse_rss "$name") MiB"
  done
  probe_routes || die "a request did not reach the process the playbook routes it to"
  pgbouncer_pools
  echo "redis: $(on "$(synapse_host)" redis-cli -s /run-valkey/valkey.sock info clients | awk -F: '/^connected_clients/ { print $2 }' | tr -d '\r') clients on /run-valkey/valkey.sock"
}
